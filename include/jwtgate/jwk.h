/*
 * jwtgate/jwk.h — JSON Web Keys and key sets (RFC 7517, 7518 section 6,
 * 7638, 8037).
 *
 * A jg_jwk is immutable once created: parsing does all the per-key work that
 * later operations need (OpenSSL EVP_PKEY, curve and point checks, prepared
 * HMAC state), so signing, verifying and decrypting never parse a key again.
 * Keys are reference counted (atomically), so a key may sit in several sets
 * and be used by many threads at once without locks.
 *
 * Supported: "oct"; "RSA" public and private (with or without CRT
 * parameters; under 2048 bits refused unless JG_JWK_ALLOW_WEAK_RSA);
 * "EC" P-256, P-384, P-521 (point validated); "OKP" Ed25519, Ed448, X25519,
 * X448.
 *
 * Metadata is enforced: a key whose JWK has "alg" is used only with that
 * algorithm; "use" ("sig"/"enc") and "key_ops" restrict the operations.
 * "x5c", "x5u", "jku" and embedded "jwk" are never used to trust a key.
 */
#ifndef JWTGATE_JWK_H
#define JWTGATE_JWK_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/alg.h"
#include "jwtgate/common.h"
#include "jwtgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jg_jwk jg_jwk;
typedef struct jg_jwks jg_jwks;

typedef enum jg_kty { JG_KTY_UNKNOWN = 0, JG_KTY_OCT, JG_KTY_RSA, JG_KTY_EC, JG_KTY_OKP } jg_kty;

typedef enum jg_crv {
    JG_CRV_NONE = 0,
    JG_CRV_P256,
    JG_CRV_P384,
    JG_CRV_P521,
    JG_CRV_ED25519,
    JG_CRV_ED448,
    JG_CRV_X25519,
    JG_CRV_X448
} jg_crv;

typedef enum jg_use {
    JG_USE_ANY = 0, /* no "use" member */
    JG_USE_SIG,
    JG_USE_ENC
} jg_use;

/* "key_ops" bits (RFC 7517 section 4.3). 0 = no "key_ops" member. */
enum {
    JG_OP_SIGN = 1u << 0,
    JG_OP_VERIFY = 1u << 1,
    JG_OP_ENCRYPT = 1u << 2,
    JG_OP_DECRYPT = 1u << 3,
    JG_OP_WRAP_KEY = 1u << 4,
    JG_OP_UNWRAP_KEY = 1u << 5,
    JG_OP_DERIVE_KEY = 1u << 6,
    JG_OP_DERIVE_BITS = 1u << 7
};

/* Flags for the import functions. */
enum {
    JG_JWK_ALLOW_WEAK_RSA = 1u << 0, /* accept RSA moduli under 2048 bits */
    JG_JWK_PUBLIC_ONLY = 1u << 1,    /* drop any private part while importing */
    /* accept an RSA modulus with the ROCA fingerprint (CVE-2017-15361: made
     * by Infineon's vulnerable generator, so it can be factored); refused
     * with JG_ERR_KEY_ROCA otherwise */
    JG_JWK_ALLOW_ROCA = 1u << 2
};

/* Flags for the export functions. */
enum {
    JG_EXPORT_PRIVATE = 1u << 0, /* include the private part (if the key has one) */
    JG_EXPORT_PRETTY = 1u << 1   /* indented JSON instead of compact */
};

/*
 * Metadata that is not part of the key material. Used when importing PEM/DER,
 * generating keys, or re-labelling a key. Zero-initialise and set what you
 * need: kid NULL = none, alg UNKNOWN = none, use ANY = none, key_ops 0 = none.
 */
typedef struct jg_jwk_meta {
    const char *kid;
    jg_alg alg;
    jg_use use;
    unsigned key_ops;
} jg_jwk_meta;

/* ---- Import ----------------------------------------------------------- */

/*
 * jg_jwk_parse — import one JWK from JSON text (`len` bytes, at most 64 KiB).
 * On success *out is a new key the caller releases with jg_jwk_free(); on
 * error *out is not written. Strict where the RFCs say MUST: EC coordinates
 * and scalars and OKP keys at their exact length, RSA integers in minimal
 * form, the EC point on its curve, the private part matching the public part
 * (RSA: CRT consistency, not primality; a private key given by n, e, d only
 * gets its CRT parameters recovered), "use" only "sig"/"enc", "key_ops"
 * distinct registered values. An "alg" naming a content encryption algorithm
 * makes a "dir" key (see jg_jwk_enc()). Unknown members, and "x5c", "x5u",
 * "jku", are ignored. JG_JWK_PUBLIC_ONLY ignores the private members, and
 * refuses an "oct" key, which is all private (JG_ERR_KEY_TYPE).
 * Thread-safe. Errors: JG_ERR_INVALID_ARGUMENT (NULL, unknown flag),
 * JG_ERR_NOMEM, JG_ERR_JSON_SYNTAX, JG_ERR_JSON_DUPLICATE,
 * JG_ERR_JSON_NOT_OBJECT, JG_ERR_LIMIT_JSON_DEPTH, JG_ERR_LIMIT_JSON_SIZE,
 * JG_ERR_KEY_KTY, JG_ERR_KEY_INVALID (missing or malformed member, wrong JSON
 * type, inconsistent use/key_ops/alg), JG_ERR_KEY_TYPE ("alg" of another key
 * type; "oct" with JG_JWK_PUBLIC_ONLY), JG_ERR_KEY_CURVE (unsupported "crv", or "alg" of another
 * curve), JG_ERR_KEY_POINT, JG_ERR_KEY_WEAK (RSA under 2048 bits, all-zero "k"),
 * JG_ERR_KEY_ROCA (RSA modulus with the ROCA fingerprint, unless
 * JG_JWK_ALLOW_ROCA), JG_ERR_KEY_MISMATCH, JG_ERR_ALG_UNKNOWN (unknown
 * "alg"), JG_ERR_UNSUPPORTED (multi-prime RSA, "oth"), JG_ERR_B64_* (bad base64url member),
 * JG_ERR_CRYPTO.
 */
JG_NODISCARD jg_err jg_jwk_parse(const char *json, size_t len, unsigned flags, jg_jwk **out);

/*
 * jg_jwk_from_pem — import a PEM key: SPKI ("PUBLIC KEY"), PKCS#8
 * ("PRIVATE KEY"), PKCS#1 ("RSA PUBLIC KEY", "RSA PRIVATE KEY") or SEC1
 * ("EC PRIVATE KEY"); the first key block is used, at most 64 KiB of input.
 * Encrypted PEM is refused (JG_ERR_KEY_PEM), as are RSA-PSS-only keys
 * (JG_ERR_KEY_KTY) and EC keys with explicit curve parameters or an
 * unsupported curve (JG_ERR_KEY_CURVE). The key passes the same checks as a
 * JWK. `meta` may be NULL. Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM,
 * JG_ERR_KEY_PEM, JG_ERR_KEY_KTY, JG_ERR_KEY_CURVE, JG_ERR_KEY_WEAK,
 * JG_ERR_KEY_ROCA, JG_ERR_KEY_INVALID, JG_ERR_KEY_MISMATCH, JG_ERR_KEY_TYPE (meta.alg of
 * another key type), JG_ERR_ALG_UNKNOWN, JG_ERR_UNSUPPORTED (multi-prime
 * RSA), JG_ERR_CRYPTO. Thread-safe.
 */
JG_NODISCARD jg_err jg_jwk_from_pem(const char *pem, size_t len, const jg_jwk_meta *meta,
                                    unsigned flags, jg_jwk **out);

/*
 * jg_jwk_from_der — import a DER key in any of the encodings above (the whole
 * input must be one structure). Errors and ownership as jg_jwk_from_pem().
 */
JG_NODISCARD jg_err jg_jwk_from_der(const unsigned char *der, size_t len, const jg_jwk_meta *meta,
                                    unsigned flags, jg_jwk **out);

/*
 * jg_jwk_from_secret — an "oct" key from raw bytes (copied). A secret of
 * zero bytes only is refused: it is an unfilled buffer, not a key.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL or empty), JG_ERR_NOMEM,
 * JG_ERR_KEY_INVALID (inconsistent meta), JG_ERR_KEY_WEAK (all-zero
 * secret), JG_ERR_CRYPTO. Thread-safe.
 */
jg_err jg_jwk_from_secret(const unsigned char *secret, size_t len, const jg_jwk_meta *meta,
                          jg_jwk **out);

/*
 * jg_jwk_with_meta — a new key with the same key material and other
 * metadata (the material is shared, not copied). Errors:
 * JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM, JG_ERR_KEY_INVALID (meta
 * inconsistent: e.g. use "sig" with key_ops "encrypt"), JG_ERR_KEY_TYPE
 * (meta.alg does not suit the key). Thread-safe.
 */
jg_err jg_jwk_with_meta(const jg_jwk *key, const jg_jwk_meta *meta, jg_jwk **out);

/*
 * jg_jwk_public — a new key holding only the public part of `key` (same
 * metadata; key_ops reduced to the public operations: "sign" becomes
 * "verify", "decrypt" "encrypt", "unwrapKey" "wrapKey", and the ECDH
 * "deriveKey"/"deriveBits" stay — so that key_ops never vanish, which would
 * allow everything). For "oct" keys, which have no public part, returns
 * JG_ERR_KEY_TYPE. Errors also JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM,
 * JG_ERR_CRYPTO. Thread-safe.
 */
jg_err jg_jwk_public(const jg_jwk *key, jg_jwk **out);

/* ---- Generation ------------------------------------------------------- */

/*
 * jg_jwk_generate — a new random private key.
 * kty OCT: `bits` is the secret length (default 256, at least 128, at most
 * 8192, multiple of 8); `crv` must be JG_CRV_NONE.
 * kty RSA: `bits` is the modulus size (default 2048; 2048 to 16384); e = 65537.
 * kty EC / OKP: `crv` selects the curve; `bits` must be 0.
 * `meta` may be NULL; when meta->kid is NULL the kid is set to the RFC 7638
 * thumbprint. Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM, JG_ERR_KEY_KTY,
 * JG_ERR_KEY_CURVE, JG_ERR_KEY_WEAK, JG_ERR_KEY_TYPE (meta.alg does not suit
 * the key), JG_ERR_CRYPTO. Thread-safe.
 */
jg_err jg_jwk_generate(jg_kty kty, jg_crv crv, unsigned bits, const jg_jwk_meta *meta,
                       jg_jwk **out);

/*
 * jg_jwk_generate_for_alg — a new key suited to `alg` (HSxxx: an oct key of
 * the hash size, or `bits` if larger; RS*, PS*, RSA-OAEP*, RSA1_5: 2048-bit
 * RSA or `bits`; ES256/384/512: P-256/384/521; EdDSA: Ed25519, or Ed448 when
 * `crv` says so; Ed25519: Ed25519; Ed448: Ed448; ECDH-ES*: P-256 unless `crv`
 * names another P- or X curve; AxxxKW, AxxxGCMKW: the wrap key size; dir:
 * `bits` of an "enc" key size (128, 192, 256, 384, 512), default 256; PBES2:
 * 256-bit oct or `bits`). The key's "alg" is set to `alg` and "use" to
 * sig/enc. `kid` NULL = thumbprint. Errors as jg_jwk_generate(), plus
 * JG_ERR_ALG_UNKNOWN, JG_ERR_KEY_SIZE (`bits` not the wrap or "enc" size).
 */
jg_err jg_jwk_generate_for_alg(jg_alg alg, jg_crv crv, unsigned bits, const char *kid,
                               jg_jwk **out);

/* ---- Export ----------------------------------------------------------- */

/*
 * jg_jwk_to_json — the key as a JWK JSON object (NUL-terminated; *out_len
 * may be NULL). Members are sorted for stable output; "kid", "use", "alg"
 * and "key_ops" are included. Without JG_EXPORT_PRIVATE only public members
 * are written, and an "oct" key (all secret) is refused with
 * JG_ERR_KEY_TYPE. Caller frees with jg_free_secret(*out, 0) when exporting
 * private material, else jg_free(). Errors: JG_ERR_INVALID_ARGUMENT (also an
 * unknown flag), JG_ERR_KEY_TYPE, JG_ERR_NOMEM, JG_ERR_CRYPTO. Thread-safe.
 */
jg_err jg_jwk_to_json(const jg_jwk *key, unsigned flags, char **out, size_t *out_len);

/*
 * jg_jwk_to_pem — PEM text: SPKI for the public part, PKCS#8 with
 * JG_EXPORT_PRIVATE (EC points uncompressed, named curves).
 * "oct" keys cannot be written as PEM (JG_ERR_KEY_TYPE); JG_EXPORT_PRIVATE on
 * a public key gives JG_ERR_KEY_NOT_PRIVATE. Ownership as jg_jwk_to_json().
 * Errors also JG_ERR_INVALID_ARGUMENT, JG_ERR_UNSUPPORTED (no PEM encoder in
 * this OpenSSL), JG_ERR_NOMEM, JG_ERR_CRYPTO. Thread-safe.
 */
jg_err jg_jwk_to_pem(const jg_jwk *key, unsigned flags, char **out, size_t *out_len);

/*
 * jg_jwk_thumbprint — RFC 7638 thumbprint with SHA-256: 32 raw bytes into
 * `out` (OKP keys per RFC 8037: "crv", "kty", "x"; "oct" keys hash their
 * secret "k"). Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM, JG_ERR_CRYPTO.
 * Thread-safe.
 */
jg_err jg_jwk_thumbprint(const jg_jwk *key, unsigned char out[32]);

/*
 * jg_jwk_thumbprint_b64 — the same, base64url-encoded (43 characters + NUL)
 * into `out`.
 */
jg_err jg_jwk_thumbprint_b64(const jg_jwk *key, char out[44]);

/* ---- Accessors (thread-safe, never fail) --------------------------------- */

jg_kty jg_jwk_kty(const jg_jwk *key);
jg_crv jg_jwk_crv(const jg_jwk *key);
/* kid, or NULL when the key has none; borrowed from the key. */
const char *jg_jwk_kid(const jg_jwk *key);
/*
 * The JWK's "alg", or JG_ALG_UNKNOWN when absent. A JWK whose "alg" names a
 * content encryption algorithm ("A256GCM", as in RFC 7520 section 3.6) is a
 * key for direct encryption: jg_jwk_alg() reports JG_ALG_DIR and
 * jg_jwk_enc() that "enc" (JG_ENC_UNKNOWN for every other key).
 */
jg_alg jg_jwk_alg(const jg_jwk *key);
jg_enc jg_jwk_enc(const jg_jwk *key);
jg_use jg_jwk_use(const jg_jwk *key);
unsigned jg_jwk_key_ops(const jg_jwk *key);
int jg_jwk_is_private(const jg_jwk *key);
/* Size in bits: RSA modulus, EC/OKP field size, oct secret length. */
unsigned jg_jwk_bits(const jg_jwk *key);

/* Names for enums: "oct", "P-256", "sig"... Static or NULL. */
const char *jg_kty_name(jg_kty kty);
const char *jg_crv_name(jg_crv crv);
jg_crv jg_crv_from_name(const char *name);

/*
 * jg_jwk_check — whether `key` may be used with `alg` in direction `op`:
 * JG_OP_SIGN, JG_OP_VERIFY, JG_OP_ENCRYPT (any sender-side JWE use: encrypt,
 * wrap, key agreement) or JG_OP_DECRYPT (any recipient-side use). Checks the
 * key type and curve for the algorithm, the size (HMAC key at least the hash
 * size, AES key-wrap keys exactly the wrap size), the key's "alg" ("EdDSA"
 * and the fully specified "Ed25519"/"Ed448" are interchangeable on the right
 * curve), its "use", its "key_ops" (sign/verify; encrypt/decrypt for dir;
 * wrapKey/unwrapKey or encrypt/decrypt for key wrapping and RSA;
 * deriveKey/deriveBits for ECDH-ES) and that a private part is present for
 * SIGN and DECRYPT. JG_OK if usable. Errors: JG_ERR_INVALID_ARGUMENT,
 * JG_ERR_ALG_UNKNOWN, JG_ERR_ALG_KIND (a JWE alg with SIGN/VERIFY or the
 * reverse), JG_ERR_KEY_TYPE, JG_ERR_KEY_CURVE, JG_ERR_KEY_SIZE,
 * JG_ERR_KEY_WEAK, JG_ERR_KEY_ALG, JG_ERR_KEY_USE, JG_ERR_KEY_OPS,
 * JG_ERR_KEY_NOT_PRIVATE. Thread-safe.
 */
JG_NODISCARD jg_err jg_jwk_check(const jg_jwk *key, jg_alg alg, unsigned op);

/* ---- Lifetime --------------------------------------------------------- */

/* jg_jwk_ref — take another reference; returns `key`. Thread-safe. */
jg_jwk *jg_jwk_ref(jg_jwk *key);

/*
 * jg_jwk_free — drop a reference; the last one zeroes the secret material and
 * frees the key. NULL is a no-op. Thread-safe against other references.
 */
void jg_jwk_free(jg_jwk *key);

/* ---- Key sets (RFC 7517 section 5) ------------------------------------ */

/*
 * jg_jwks_parse — import a JWKS ({"keys":[...]}) from JSON. Keys this
 * library cannot use are skipped, as RFC 7517 section 5 asks: a "kty" or
 * "crv" it does not support, an unknown "alg", multi-prime RSA, "oct" keys
 * under JG_JWK_PUBLIC_ONLY (having no public part), and keys it refuses by
 * policy although well-formed (JG_ERR_KEY_WEAK: RSA under 2048 bits without
 * JG_JWK_ALLOW_WEAK_RSA, an all-zero secret; JG_ERR_KEY_ROCA without
 * JG_JWK_ALLOW_ROCA). Each skipped key is recorded
 * with its kid and reason (jg_jwks_skipped_count(), jg_jwks_skipped_at()),
 * for the caller to log. Any malformed key of a supported type fails the
 * whole set; so does a set whose every key was skipped (with the first
 * skipped key's reason, e.g. JG_ERR_KEY_WEAK or JG_ERR_KEY_KTY: a set that
 * can verify nothing is a setup error); an empty "keys" array is an empty
 * set. `limits` may be NULL (defaults): the "keys" array may hold at most
 * max_keys entries (skipped ones included), nesting at most
 * max_json_depth, and the text at most 64 KiB + 16 KiB per max_keys (64 MiB
 * at most). Errors: those of jg_jwk_parse(), JG_ERR_KEYSET_INVALID (no
 * "keys" array, or an entry not an object), JG_ERR_LIMIT_KEYS.
 * Thread-safe.
 */
JG_NODISCARD jg_err jg_jwks_parse(const char *json, size_t len, unsigned flags,
                                  const jg_limits *limits, jg_jwks **out);

/*
 * jg_jwks_parse_any — a JWKS (an object with "keys"), or else a single JWK
 * made into a set of one (whose errors, even JG_ERR_KEY_KTY, are returned),
 * or PEM: text that does not start with '{' (after whitespace) and holds a
 * "-----BEGIN " block is read as PEM, every key block of it (PUBLIC KEY,
 * PRIVATE KEY, RSA/EC ... KEY) one key without "kid", other blocks
 * (CERTIFICATE, EC PARAMETERS) and text between blocks ignored.
 * Errors as jg_jwks_parse(), and for PEM those of jg_jwk_from_pem(),
 * JG_ERR_KEY_PEM (an unterminated block, or no key block),
 * JG_ERR_LIMIT_KEYS, JG_ERR_LIMIT_FILE_SIZE (PEM text above the bound of a
 * JWKS). Thread-safe.
 */
JG_NODISCARD jg_err jg_jwks_parse_any(const char *json, size_t len, unsigned flags,
                                      const jg_limits *limits, jg_jwks **out);

/*
 * jg_jwks_parse_ex / jg_jwks_parse_any_ex — the same with a detail (may be
 * NULL; see jg_detail in jwtgate/error.h): when every key was skipped, a
 * JG_DETAIL_KEYSET detail lists the skipped keys (position, kid, reason).
 * Zeroed on success (the set itself then says what it skipped).
 */
JG_NODISCARD jg_err jg_jwks_parse_ex(const char *json, size_t len, unsigned flags,
                                     const jg_limits *limits, jg_jwks **out, jg_detail *detail);
JG_NODISCARD jg_err jg_jwks_parse_any_ex(const char *json, size_t len, unsigned flags,
                                         const jg_limits *limits, jg_jwks **out, jg_detail *detail);

/*
 * jg_jwks_skipped_count / jg_jwks_skipped_at — the keys an import skipped
 * (0 for a set built by hand): for the `index`-th (0-based), its position
 * in the document's "keys" array, its kid (borrowed from the set; NULL when
 * it had none) and why (JG_ERR_KEY_WEAK, JG_ERR_KEY_ROCA, JG_ERR_KEY_KTY, JG_ERR_KEY_CURVE,
 * JG_ERR_ALG_UNKNOWN, JG_ERR_UNSUPPORTED, JG_ERR_KEY_TYPE ...). Any out
 * pointer may be NULL. Nothing of the key itself is kept. Errors:
 * JG_ERR_INVALID_ARGUMENT (NULL set, index out of range). Thread-safe.
 */
size_t jg_jwks_skipped_count(const jg_jwks *set);
jg_err jg_jwks_skipped_at(const jg_jwks *set, size_t index, size_t *position, const char **kid,
                          jg_err *reason);

/*
 * jg_jwks_load_file — the keys of the file at `path`: a JWK, a JWKS, PEM
 * (one or several key blocks, as jg_jwks_parse_any()) or one DER key,
 * detected from the content (never the name). Only a regular file is read
 * (a directory, FIFO or device is JG_ERR_FILE_TYPE, without blocking), and
 * only up to the bound of a JWKS under `limits` (NULL: defaults; 64 KiB +
 * 16 KiB per max_keys, 16 MiB by default). The bytes read are wiped before
 * they are freed. `flags` as jg_jwks_parse(). On success *out is a new set
 * (free with jg_jwks_free()); on error *out is NULL. Thread-safe
 * (the file may change under it: a file that grows past the bound while it
 * is read is refused).
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL, unknown flag), JG_ERR_NOMEM,
 * JG_ERR_FILE (open or read failed; errno is left as the system call set
 * it, e.g. ENOENT, EACCES), JG_ERR_FILE_TYPE (errno EISDIR for a
 * directory, EINVAL otherwise), JG_ERR_LIMIT_FILE_SIZE (errno EFBIG),
 * JG_ERR_KEY_FORMAT (none of the formats: empty, or other content), and
 * those of jg_jwks_parse_any() and jg_jwk_from_der().
 */
JG_NODISCARD jg_err jg_jwks_load_file(const char *path, unsigned flags, const jg_limits *limits,
                                      jg_jwks **out);

/*
 * jg_jwks_new / jg_jwks_add — build a set by hand. jg_jwks_add takes its own
 * reference to `key`. A set must not be changed while other threads read it.
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM.
 */
jg_err jg_jwks_new(jg_jwks **out);
jg_err jg_jwks_add(jg_jwks *set, jg_jwk *key);

/* Number of keys, and the key at `index` (borrowed; NULL if out of range). */
size_t jg_jwks_count(const jg_jwks *set);
const jg_jwk *jg_jwks_get(const jg_jwks *set, size_t index);

/*
 * jg_jwks_find — the first key (from index *cursor, which is advanced past it;
 * start with 0; `cursor` NULL: from 0, not advanced) whose kid equals `kid`
 * (NULL: any; when no key of the set has that kid, the keys without a kid
 * stand in for it, as in jg_jws_verify() and jg_jwe_decrypt()), that is usable with `alg`
 * (JG_ALG_UNKNOWN: any; usable = type and curve suit it, a declared "alg" permits it, a declared
 * "use" is that of the algorithm's kind) and whose "use" allows `use` (JG_USE_ANY: any; keys
 * without "use" allow every use). Sizes, key_ops and the private part depend
 * on the operation: check them with jg_jwk_check(). Returns NULL when none is
 * left. Borrowed pointer. Thread-safe.
 */
const jg_jwk *jg_jwks_find(const jg_jwks *set, const char *kid, jg_alg alg, jg_use use,
                           size_t *cursor);

/*
 * jg_jwks_to_json — the set as {"keys":[...]}; flags, ownership and errors as
 * jg_jwk_to_json() (a public export of a set holding an "oct" key is
 * JG_ERR_KEY_TYPE).
 */
jg_err jg_jwks_to_json(const jg_jwks *set, unsigned flags, char **out, size_t *out_len);

/* jg_jwks_free — drop the set and its references to keys. NULL is a no-op. */
void jg_jwks_free(jg_jwks *set);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_JWK_H */
