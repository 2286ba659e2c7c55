/*
 * jwk_build.h — helpers shared by the files of lib/jwk that build, check and
 * write keys (JSON, PEM/DER, generation, key sets). Not used outside lib/jwk.
 */
#ifndef JG_LIB_JWK_BUILD_H
#define JG_LIB_JWK_BUILD_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>

#include "jwk/jwk_internal.h"

/*
 * Bounds on the JSON text we accept. One JWK: 64 KiB, room for a private
 * RSA-16384 JWK (about 14 KiB) and unknown members. A JWKS: 64 KiB plus
 * 16 KiB per key allowed by limits->max_keys (a private RSA-8192 JWK is about
 * 7 KiB), at most 64 MiB.
 */
#define JG__JWK_MAX_JSON          ((size_t)64 * 1024)
#define JG__JWKS_MAX_JSON_PER_KEY ((size_t)16 * 1024)
#define JG__JWKS_MAX_JSON         ((size_t)64 * 1024 * 1024)

/* RSA moduli above this are refused (OpenSSL's own ceiling for RSA). */
#define JG__RSA_MAX_BITS 16384u
/* Public exponents above 2^256 are refused (FIPS 186-5 bound). */
#define JG__RSA_MAX_E_BITS 256u

/* All flags of jg_jwk_parse() & co. */
#define JG__JWK_IMPORT_FLAGS (JG_JWK_ALLOW_WEAK_RSA | JG_JWK_PUBLIC_ONLY | JG_JWK_ALLOW_ROCA)

/* ---- jwk_parse.c --------------------------------------------------------- */

/*
 * A key from a parsed JWK object. When the failure is only that the kty, crv
 * or alg is one this library does not support, *unsupported is set to 1 (a
 * JWKS skips such keys). Does not wipe `obj`; the caller does, with
 * jg__jwk_json_wipe(), before releasing it.
 */
jg_err jg__jwk_from_json(const json_t *obj, unsigned flags, int *unsupported, jg_jwk **out);

/* Zero the private members ("d", "p", "q", "dp", "dq", "qi", "k", "oth") of a
 * JWK object in place. */
void jg__jwk_json_wipe(json_t *obj);

/* ---- jwk_pkey.c ---------------------------------------------------------- */

/*
 * Take ownership of `pkey` (freed on error too) and fill key->kty, crv, pkey
 * and is_private after checking it: supported type and curve, EC point on the
 * curve and not at infinity, EC private scalar in [1, n-1] and matching the
 * point, RSA exponent and modulus sane and private part consistent with the
 * public part. JG_JWK_PUBLIC_ONLY in `flags` keeps only the public part.
 * Errors: JG_ERR_KEY_KTY, JG_ERR_KEY_CURVE, JG_ERR_KEY_POINT,
 * JG_ERR_KEY_INVALID, JG_ERR_KEY_MISMATCH, JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__jwk_adopt_pkey(jg_jwk *key, EVP_PKEY *pkey, unsigned flags);

/*
 * A flag for jg__jwk_adopt_pkey() only, never accepted from callers: the
 * JWK reader has already checked the public part, so adoption need not read
 * it back from OpenSSL to check it again. EC: the point was given to
 * EVP_PKEY_fromdata as 0x04 || x || y, which OpenSSL refuses for coordinates
 * outside the field and points off the curve, and which cannot encode the
 * point at infinity (the quick check would repeat that at the cost of a
 * field inversion, a fifth of a JWK import). RSA: the key is public and
 * jg__rsa_check_public() passed on its n and e before import (reading them
 * back costs an export of the key).
 */
#define JG__ADOPT_PUBLIC_CHECKED (1u << 16)

/* RSA public numbers: odd modulus of at most JG__RSA_MAX_BITS; exponent odd,
 * > 1, below the modulus and at most JG__RSA_MAX_E_BITS bits; and, unless
 * JG_JWK_ALLOW_ROCA is in `flags`, a modulus without the ROCA fingerprint
 * (checked here, on numbers already at hand: reading n back from a key costs
 * more than the test). JG_OK, JG_ERR_KEY_INVALID (also for NULL),
 * JG_ERR_KEY_ROCA, JG_ERR_CRYPTO. */
jg_err jg__rsa_check_public(const BIGNUM *n, const BIGNUM *e, unsigned flags);

/* A new EVP_PKEY holding only the public part of `pkey`. Errors: JG_ERR_NOMEM,
 * JG_ERR_CRYPTO. */
jg_err jg__pkey_public(const EVP_PKEY *pkey, EVP_PKEY **out);

/*
 * An unsigned big-endian integer parameter of `pkey`: minimal length when
 * pad is 0, else left-padded to exactly `pad` bytes. *out is malloc'd; free
 * with jg_free_secret(). Errors: JG_ERR_KEY_INVALID (absent; too long for
 * pad), JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__pkey_get_uint(const EVP_PKEY *pkey, const char *name, size_t pad, unsigned char **out,
                         size_t *out_len);

/*
 * The CRT parameters of an RSA key known by n, e, d only (NIST SP 800-56B
 * rev. 2, appendix C.2): crt[] receives p, q, d mod (p-1), d mod (q-1) and
 * q^-1 mod p as new BIGNUMs flagged secure (p > q). Errors:
 * JG_ERR_KEY_INVALID (d out of [1, n-1]), JG_ERR_KEY_MISMATCH (d does not
 * belong to n, e), JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__rsa_recover_crt(const BIGNUM *n, const BIGNUM *e, const BIGNUM *d, BIGNUM *crt[5]);

/* ---- jwk_export.c -------------------------------------------------------- */

/* The JWK object of `key` (flags as jg_jwk_to_json()). With private members,
 * release it with jg__jwk_json_release(). */
jg_err jg__jwk_to_json_t(const jg_jwk *key, unsigned flags, json_t **out);

/* Wipe every string in a JWK object (or a {"keys":[...]} object) and release it. */
void jg__jwk_json_release(json_t *value);

/* ---- jwk_generate.c / jwk_pem.c ------------------------------------------ */

/*
 * Complete a key whose material is set: metadata, jg__jwk_finish(), and the
 * RFC 7638 thumbprint as kid when meta->kid is NULL and `kid_default` is set.
 * Frees `key` on error.
 */
jg_err jg__jwk_complete(jg_jwk *key, const jg_jwk_meta *meta, unsigned flags, int kid_default,
                        jg_jwk **out);

/* ---- jwks_file.c --------------------------------------------------------- */

/* Whether `text` holds a PEM block ("-----BEGIN "). */
int jg__pem_text(const char *text, size_t len);

/*
 * A set of every key block of PEM text (other blocks, such as CERTIFICATE or
 * EC PARAMETERS, are skipped; text between blocks is ignored). Keys get no
 * kid. Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM, JG_ERR_LIMIT_FILE_SIZE
 * (text above the JWKS bound), JG_ERR_LIMIT_KEYS, JG_ERR_KEY_PEM (an
 * unterminated block, or no key block), and those of jg_jwk_from_pem().
 */
jg_err jg__jwks_parse_pem(const char *text, size_t len, unsigned flags, const jg_limits *limits,
                          jg_jwks **out);

#endif /* JG_LIB_JWK_BUILD_H */
