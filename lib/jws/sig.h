/*
 * sig.h — JWS signature primitives (internal): one sign and one verify per
 * algorithm family over a JWS Signing Input given in up to three pieces, so
 * that callers can sign and verify in place (a compact token's own bytes, or
 * the protected header and payload strings of a JSON serialization) without
 * joining them first.
 *
 * Callers check the key with jg_jwk_check() first; these functions assume the
 * key suits `alg` and only defend against impossible states.
 */
#ifndef JG_LIB_JWS_SIG_H
#define JG_LIB_JWS_SIG_H

#include <stddef.h>

#include "core/alg_info.h"
#include "jwtgate/alg.h"
#include "jwtgate/error.h"
#include "jwk/jwk_internal.h"

/* Largest signature of any supported alg: RSA with OpenSSL's maximum
 * modulus of 16384 bits. ES512 needs 132, Ed448 114, HS512 64. */
#define JG__SIG_MAX 2048u

/* The JWS Signing Input as the concatenation of n (1..3) byte strings. */
typedef struct jg__sig_input {
    const unsigned char *part[3];
    size_t len[3];
    size_t n;
} jg__sig_input;

/* A one-piece input. */
void jg__sig_input_one(jg__sig_input *in, const void *data, size_t len);

/* ASCII(protected_b64) || '.' || payload. */
void jg__sig_input_three(jg__sig_input *in, const char *protected_b64, size_t protected_len,
                         const void *payload, size_t payload_len);

/*
 * The exact signature length `alg` produces with `key` (RSA: the modulus
 * length), or 0 when the pair is unusable.
 */
size_t jg__sig_len(const jg_jwk *key, jg_alg alg);

/*
 * Sign `in` with `key` under `alg` into `sig` (room for JG__SIG_MAX bytes);
 * *sig_len receives the length. Errors: JG_ERR_KEY_TYPE (impossible pair),
 * JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__sig_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                    size_t *sig_len);

/*
 * Verify `sig` over `in`. Errors: JG_ERR_SIGNATURE_LENGTH (not the exact
 * length for alg and key), JG_ERR_SIGNATURE_RANGE (ECDSA r or s outside
 * [1, n-1]), JG_ERR_SIGNATURE (does not verify), JG_ERR_KEY_TYPE,
 * JG_ERR_NOMEM, JG_ERR_CRYPTO. OpenSSL's error queue is left as it was.
 */
jg_err jg__sig_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                      const unsigned char *sig, size_t sig_len);

/* Per family; same contracts as above. */
jg_err jg__hmac_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                     size_t *sig_len);
jg_err jg__hmac_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                       const unsigned char *sig, size_t sig_len);
jg_err jg__rsa_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                    size_t *sig_len);
jg_err jg__rsa_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                      const unsigned char *sig, size_t sig_len);
jg_err jg__ecdsa_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                      size_t *sig_len);
jg_err jg__ecdsa_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                        const unsigned char *sig, size_t sig_len);
jg_err jg__eddsa_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                      size_t *sig_len);
jg_err jg__eddsa_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                        const unsigned char *sig, size_t sig_len);

/*
 * ECDSA signature format conversion (exposed for tests): JWS r||s of
 * 2*coord_len bytes to DER and back. jg__ecdsa_raw_to_der writes at most
 * JG__ECDSA_DER_MAX bytes. jg__ecdsa_der_to_raw accepts only a strict DER
 * SEQUENCE of two positive minimal INTEGERs each fitting coord_len bytes.
 * Both return the length written, or 0 on malformed input.
 */
#define JG__ECDSA_DER_MAX 144u
size_t jg__ecdsa_raw_to_der(const unsigned char *raw, size_t coord_len, unsigned char *der);
size_t jg__ecdsa_der_to_raw(const unsigned char *der, size_t der_len, size_t coord_len,
                            unsigned char *raw);

/*
 * Prepared per-key state (sig_prep.c; made by jg__jwk_finish() through
 * jg__sig_prep_new(), templates filled in on first use). Slots are the RS,
 * PS and ES algs in enum order.
 */
#define JG__PREP_SLOTS 9
int jg__prep_slot(jg_alg alg);
/* The digest for alg (fetched on first use, thread-safe), or NULL when the
 * key does not serve alg or the fetch failed. */
const EVP_MD *jg__prep_md(const jg_jwk *key, jg_alg alg);
/* A fresh copy of the key's sign (sign != 0) or verify template for alg
 * (built on first use, thread-safe), to free with EVP_PKEY_CTX_free().
 * JG_ERR_KEY_TYPE when the key has no such template (the caller then
 * initialises from scratch), JG_ERR_NOMEM, JG_ERR_CRYPTO (the template
 * could not be built). */
jg_err jg__prep_ctx(const jg_jwk *key, jg_alg alg, int sign, EVP_PKEY_CTX **out);
/* The hash of `in` with the key's prepared digest for alg. */
jg_err jg__prep_digest(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *out,
                       size_t *out_len);

/* Digest name ("SHA256", ...) for an RS/PS/ES alg, or NULL. */
const char *jg__sig_digest(jg_alg alg);

#endif /* JG_LIB_JWS_SIG_H */
