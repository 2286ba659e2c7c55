/*
 * jwtgate/jwe.h — JSON Web Encryption (RFC 7516, RFC 7518 sections 4-5,
 * RFC 8037 for X25519/X448).
 *
 * Key management ("alg"): dir; A128KW/A192KW/A256KW; A128GCMKW/A192GCMKW/
 * A256GCMKW; RSA-OAEP, RSA-OAEP-256/-384/-512; RSA1_5 (decryption only, and
 * only when the caller's allow-list names it; Bleichenbacher-safe);
 * ECDH-ES and ECDH-ES+A128KW/+A192KW/+A256KW on P-256, P-384, P-521, X25519
 * and X448; PBES2-HS256+A128KW, PBES2-HS384+A192KW, PBES2-HS512+A256KW (the
 * password is an "oct" key's bytes).
 * Content encryption ("enc"): A128GCM/A192GCM/A256GCM, A128CBC-HS256/
 * A192CBC-HS384/A256CBC-HS512. "zip":"DEF" only in the protected header.
 * Serializations: compact, flattened JSON, general JSON with several
 * recipients, AAD, shared and per-recipient unprotected headers.
 */
#ifndef JWTGATE_JWE_H
#define JWTGATE_JWE_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/alg.h"
#include "jwtgate/common.h"
#include "jwtgate/error.h"
#include "jwtgate/jwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One recipient of a JWE. */
typedef struct jg_jwe_recipient {
    const jg_jwk *key; /* public key, or oct secret / PBES2 password */
    jg_alg alg;        /* JG_ALG_UNKNOWN: the key's own "alg" */
    /* Per-recipient unprotected header members (JSON serializations), or
     * NULL. "apu"/"apv" for ECDH-ES may be given here or in protected_json. */
    const char *header_json;
} jg_jwe_recipient;

typedef struct jg_jwe_encrypt_opts {
    jg_enc enc;       /* JG_ENC_UNKNOWN: the enc a "dir" key's JWK names (its
                         "alg":"A128GCM" etc.), else A256GCM */
    jg_format format; /* COMPACT (default), FLATTENED, GENERAL */
    int zip;          /* non-zero: "zip":"DEF" (protected) */
    /* Extra protected header members ("cty", "typ", "kid", "apu"...), as a
     * JSON object text, or NULL. With one recipient the key's "kid" is put in
     * the protected header (compact) or the recipient header (JSON).
     * Placement: "enc" and "zip" go in the protected header; "alg", the
     * key's "kid" and generated parameters ("epk", "p2s", "p2c", "iv",
     * "tag") in the protected header (compact) or the recipient's header
     * (JSON). A caller who names "alg", "kid" or "enc" in any of the three
     * headers places it there instead (values must match what is used; the
     * generated parameters then follow "alg"/"kid" when that header belongs
     * to this recipient). Generated names and "zip" may not be given
     * (JG_ERR_HEADER_INVALID), nor "crit" outside the protected header. */
    const char *protected_json;
    const char *unprotected_json; /* shared unprotected header (JSON only) */
    const void *aad;              /* JWE AAD (JSON serializations only) */
    size_t aad_len;
    uint32_t pbes2_count; /* "p2c" for PBES2; 0: 10000 */
} jg_jwe_encrypt_opts;

/*
 * jg_jwe_encrypt — encrypt `plaintext` to `count` recipients. The CEK and IV
 * are random; for ECDH-ES a fresh ephemeral key is made per recipient.
 * `opts` may be NULL (A256GCM, compact). *out is NUL-terminated; caller
 * frees with jg_free(); *out_len may be NULL. Thread-safe.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL, count 0, count > 1 with compact or
 * flattened, "dir"/"ECDH-ES" with several recipients, AAD or unprotected
 * headers with compact), JG_ERR_NOMEM, JG_ERR_ALG_UNKNOWN, JG_ERR_ALG_KIND,
 * JG_ERR_ENC_UNKNOWN (opts->enc out of range),
 * JG_ERR_UNSUPPORTED (RSA1_5 encryption), JG_ERR_KEY_* from jg_jwk_check()
 * with JG_OP_ENCRYPT / JG_OP_WRAP_KEY / JG_OP_DERIVE_KEY (JG_ERR_KEY_ALG also
 * for a "dir" key bound to another enc), JG_ERR_CEK_LENGTH ("dir" key of the
 * wrong size for enc), JG_ERR_JSON_*, JG_ERR_HEADER_INVALID,
 * JG_ERR_HEADER_DUPLICATE, JG_ERR_CRYPTO.
 */
jg_err jg_jwe_encrypt(const void *plaintext, size_t plaintext_len,
                      const jg_jwe_recipient *recipients, size_t count,
                      const jg_jwe_encrypt_opts *opts, char **out, size_t *out_len);

typedef struct jg_jwe_decrypt_opts {
    jg_alg_set algs;         /* required: accepted key management algs */
    jg_enc_set encs;         /* required: accepted content encryptions */
    const char *const *crit; /* NULL-terminated extension names the caller
                                processes, or NULL */
    const jg_limits *limits; /* NULL: defaults (p2c <= 10000, inflated
                                <= 250000 bytes, ...) */
} jg_jwe_decrypt_opts;

typedef struct jg_jwe jg_jwe;

/*
 * jg_jwe_decrypt — parse a JWE in any serialization (detected), find a
 * recipient whose "alg" is allowed and for which `keys` has a usable key,
 * decrypt and return the result (free with jg_jwe_free(), which zeroes the
 * plaintext). Recipients are tried in order. Key selection: when a
 * recipient's header has "kid" and the set has a key with that kid, only the
 * keys with that kid are tried; when no key of the set has that kid, the
 * keys without a kid are (a PEM key, a JWK without "kid": what libjwt, jose
 * and jwcrypto do), never a key with another kid; without "kid" every key
 * usable with its "alg". The error reported is, in this order of preference, what went
 * wrong with a key that was tried, a refusal from jg_jwk_check() of a key
 * that matched, or JG_ERR_KEY_NOT_FOUND. Thread-safe; `keys` may be shared.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL), JG_ERR_KEY_ALGS_EMPTY (opts->algs
 * is 0), JG_ERR_ENCS_EMPTY (opts->encs is 0), JG_ERR_NOMEM,
 * JG_ERR_LIMIT_TOKEN_SIZE, JG_ERR_LIMIT_HEADER_SIZE, JG_ERR_LIMIT_JSON_DEPTH,
 * JG_ERR_LIMIT_RECIPIENTS, JG_ERR_LIMIT_PBES2_COUNT, JG_ERR_LIMIT_INFLATED,
 * JG_ERR_TOKEN_FORMAT, JG_ERR_B64_*, JG_ERR_JSON_*, JG_ERR_HEADER_ALG_MISSING,
 * JG_ERR_HEADER_INVALID, JG_ERR_HEADER_DUPLICATE, JG_ERR_CRIT_*,
 * JG_ERR_ALG_NONE, JG_ERR_ALG_UNKNOWN, JG_ERR_ALG_KIND, JG_ERR_ALG_NOT_ALLOWED,
 * JG_ERR_ENC_UNKNOWN, JG_ERR_ENC_NOT_ALLOWED, JG_ERR_KEY_NOT_FOUND and the
 * jg_jwk_check() refusals, JG_ERR_IV_LENGTH, JG_ERR_TAG_LENGTH,
 * JG_ERR_ENCRYPTED_KEY, JG_ERR_CEK_LENGTH, JG_ERR_EPK_INVALID,
 * JG_ERR_PBES2_SALT, JG_ERR_ZIP_UNSUPPORTED, JG_ERR_ZIP_UNPROTECTED,
 * JG_ERR_ZIP_DATA, JG_ERR_DECRYPT (any key unwrap or tag failure; RSA1_5
 * padding errors are never distinguished from tag failures).
 */
JG_NODISCARD jg_err jg_jwe_decrypt(const char *token, size_t token_len, const jg_jwks *keys,
                                   const jg_jwe_decrypt_opts *opts, jg_jwe **out);

/*
 * jg_jwe_decrypt_ex — jg_jwe_decrypt() with a rejection detail (see
 * jg_detail in jwtgate/error.h; `detail` may be NULL). On failure it says,
 * where the error is about one: the "alg" or "enc" the header named and the
 * allow-list, the "crit" name not understood, the kid, alg and enc a key was
 * looked up for and the kids of the set (JG_ERR_KEY_NOT_FOUND, key
 * refusals, JG_ERR_DECRYPT). It explains the error returned (of the
 * recipient whose failure is reported). Zeroed on success. Never a key, a
 * CEK, the token or the plaintext. Errors as jg_jwe_decrypt().
 */
JG_NODISCARD jg_err jg_jwe_decrypt_ex(const char *token, size_t token_len, const jg_jwks *keys,
                                      const jg_jwe_decrypt_opts *opts, jg_jwe **out,
                                      jg_detail *detail);

/* The plaintext (borrowed; a NUL follows it). *len may be NULL. */
const unsigned char *jg_jwe_plaintext(const jg_jwe *jwe, size_t *len);
jg_alg jg_jwe_alg(const jg_jwe *jwe);
jg_enc jg_jwe_enc(const jg_jwe *jwe);
/* The key that decrypted it (borrowed from the set passed to decrypt). */
const jg_jwk *jg_jwe_key(const jg_jwe *jwe);

/*
 * jg_jwe_header_string — a string member of the joint header of the
 * recipient that was decrypted (protected, shared unprotected, per-recipient).
 * Borrowed. Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_CLAIM_MISSING,
 * JG_ERR_JSON_TYPE.
 */
jg_err jg_jwe_header_string(const jg_jwe *jwe, const char *name, const char **out);

/* jg_jwe_protected_json — the protected header, compact JSON with sorted
 * members; caller frees with jg_free(). Errors: JG_ERR_INVALID_ARGUMENT,
 * JG_ERR_NOMEM. */
jg_err jg_jwe_protected_json(const jg_jwe *jwe, char **out);

/* The JWE AAD of a JSON-serialized token (borrowed), NULL if none. */
const unsigned char *jg_jwe_aad(const jg_jwe *jwe, size_t *len);

/* jg_jwe_free — zero the plaintext and release. NULL is a no-op. */
void jg_jwe_free(jg_jwe *jwe);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_JWE_H */
