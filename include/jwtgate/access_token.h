/*
 * jwtgate/access_token.h — nested, encrypted access tokens in one call
 * (RFC 7519 section 11.2, RFC 9068).
 *
 * Seal: sign the claims as a JWS with "typ":"at+jwt", then encrypt that JWS
 * as a compact JWE with "cty":"JWT". Open: decrypt with one key set, verify
 * the inner JWS with another, validate the claims, return them. This is the
 * gateway's per-request path: keys are prepared once when loaded, and the
 * policy is plain data the caller builds once.
 */
#ifndef JWTGATE_ACCESS_TOKEN_H
#define JWTGATE_ACCESS_TOKEN_H

#include <stddef.h>

#include "jwtgate/alg.h"
#include "jwtgate/common.h"
#include "jwtgate/error.h"
#include "jwtgate/jwk.h"
#include "jwtgate/jwt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jg_seal_opts {
    jg_alg sign_alg; /* JG_ALG_UNKNOWN: the signing key's "alg" */
    const char *typ; /* inner "typ"; NULL: "at+jwt" */
    jg_alg key_alg;  /* JG_ALG_UNKNOWN: the encryption key's "alg" */
    jg_enc enc;      /* JG_ENC_UNKNOWN: A256GCM */
} jg_seal_opts;

/*
 * jg_access_token_seal — JWE(JWS(claims)) in compact form. `opts` may be NULL.
 * The claims must hold "exp" (an integer), "aud" (a string or a non-empty
 * array of strings) and "jti" (a string), which RFC 9068 section 2.2
 * requires of every access token (it also requires "iss", "sub",
 * "client_id" and "iat": they are the caller's; jg_claims_set_times() and
 * jg_claims_set_jti_random() set the time claims and "jti").
 * *out is NUL-terminated; caller frees with jg_free(). Thread-safe.
 * Errors: JG_ERR_ACCESS_TOKEN_CLAIMS ("exp", "aud" or "jti" absent or of
 * the wrong type), those of jg_jwt_sign() and jg_jwe_encrypt().
 */
jg_err jg_access_token_seal(const jg_claims *claims, const jg_jwk *sign_key, const jg_jwk *enc_key,
                            const jg_seal_opts *opts, char **out, size_t *out_len);

/* Which shapes of token jg_access_token_open() accepts. */
typedef enum jg_token_form {
    JG_FORM_NESTED = 0, /* default: a JWE whose payload is a JWS */
    JG_FORM_ENCRYPTED,  /* a JWE holding a JWS (verified) or the claims
                           directly (npm jose's EncryptJWT): then the JWE
                           header's "typ" is checked — jwt.typ when set;
                           when NULL, an absent "typ", "JWT" or "at+jwt".
                           Claims directly in a JWE are not signed: only a
                           symmetric key (dir, A*KW, A*GCMKW) says who made
                           them, anyone may encrypt to a public key. */
    JG_FORM_SIGNED,     /* a bare JWS only (a JWE: JG_ERR_TOKEN_FORMAT) */
    JG_FORM_ANY         /* a bare JWS or a nested JWE(JWS) */
} jg_token_form;

typedef struct jg_open_policy {
    /* Inner JWS and claims: algs, issuer, audience, scopes ... When jwt.typ
     * is NULL, the inner JWS must have "at+jwt" (RFC 9068); for claims
     * directly in a JWE see JG_FORM_ENCRYPTED. */
    jg_jwt_policy jwt;
    jg_alg_set key_algs; /* accepted JWE "alg" (ignored for JG_FORM_SIGNED) */
    jg_enc_set encs;     /* accepted JWE "enc" */
    jg_token_form form;
} jg_open_policy;

/*
 * jg_access_token_open — decrypt with `decrypt_keys`, verify the inner JWS
 * with `verify_keys`, validate the claims; on success *out holds them (free
 * with jg_claims_free(); `out` may be NULL). The inner JWS may not be
 * signed by a key of `decrypt_keys` that can decrypt (an "oct" key, or one
 * with a private part): whoever can encrypt to a symmetric decryption key
 * knows it, so its signature would prove nothing (JG_ERR_NESTED_KEY; any
 * such key counts, not only the one that decrypted this token). Thread-safe.
 * The token's shape decides: a compact token of 3 parts (or JSON with
 * "payload"/"signatures") is a JWS, of 5 parts (or JSON with "ciphertext") a
 * JWE; a JWT is never a JSON-serialized JWS (JG_ERR_TOKEN_FORMAT). The inner
 * token of a nested JWE is a compact JWS ("cty" "JWT", compared as a media
 * type). `decrypt_keys` may be NULL for JG_FORM_SIGNED, `verify_keys` for
 * JG_FORM_ENCRYPTED when the tokens hold their claims directly (a JWE that
 * holds a JWS is then JG_ERR_INVALID_ARGUMENT).
 * The verification set may not mix "oct" secrets with public keys unless
 * policy->jwt.allow_mixed_keys (JG_ERR_KEYSET_MIXED).
 * Errors: those of jg_jwe_decrypt() and jg_jwt_verify(), plus
 * JG_ERR_NOT_ENCRYPTED (a JWS where a JWE is required), JG_ERR_NOT_NESTED (the
 * JWE holds no JWS, or "cty" is not "JWT", where a nested token is required),
 * JG_ERR_NESTED_KEY (the key that verified holds the same material — same
 * public key or same secret bytes — as a key of `decrypt_keys` that can
 * decrypt).
 */
JG_NODISCARD jg_err jg_access_token_open(const char *token, size_t token_len,
                                         const jg_jwks *decrypt_keys, const jg_jwks *verify_keys,
                                         const jg_open_policy *policy, jg_claims **out);

/*
 * jg_access_token_open_ex — jg_access_token_open() with a rejection detail
 * (see jg_detail in jwtgate/error.h; `detail` may be NULL): what
 * jg_jwe_decrypt_ex(), jg_jws_verify_ex() and jg_claims_validate_ex() say,
 * and for JG_ERR_TYP the expected and the header's "typ". Zeroed on success.
 * Never a key, the token, the plaintext or the inner JWS. Errors as
 * jg_access_token_open(). The per-request path of a gateway may pass a
 * detail on its stack: filling one costs nothing until a token fails.
 */
JG_NODISCARD jg_err jg_access_token_open_ex(const char *token, size_t token_len,
                                            const jg_jwks *decrypt_keys, const jg_jwks *verify_keys,
                                            const jg_open_policy *policy, jg_claims **out,
                                            jg_detail *detail);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_ACCESS_TOKEN_H */
