/*
 * jwtgate/jws.h — JSON Web Signature (RFC 7515, 7797, 8037).
 *
 * Signing: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512,
 * EdDSA (Ed25519, Ed448) and the fully specified Ed25519 / Ed448. Compact,
 * flattened JSON and general JSON serializations, several signatures,
 * detached payloads and unencoded payloads ("b64": false).
 *
 * Verifying takes the caller's allow-list of algorithms and a key set. The
 * header may only name an algorithm from the list; "none" is never accepted;
 * keys are used only with algorithms of their type and within their "alg",
 * "use" and "key_ops". "crit" must be protected, non-empty and name only
 * extensions we process ("b64") or that the caller declares understood.
 */
#ifndef JWTGATE_JWS_H
#define JWTGATE_JWS_H

#include <stddef.h>

#include "jwtgate/alg.h"
#include "jwtgate/common.h"
#include "jwtgate/error.h"
#include "jwtgate/jwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One signer of a JWS. */
typedef struct jg_jws_signer {
    const jg_jwk *key; /* private key (or oct secret); required */
    jg_alg alg;        /* JG_ALG_UNKNOWN: the key's own "alg" */
    /*
     * Extra protected header members as a JSON object text, or NULL. Kept in
     * the order given; "alg" is added first when neither header has it, and
     * "kid" (from the key, if it has one) right after "alg" when neither
     * header has it. An "alg" given (here or unprotected) must equal the alg
     * used. "b64" may not be given: it comes from opts->b64_false. When no
     * member is left for the protected header (all unprotected), the
     * signature has no protected header at all.
     */
    const char *protected_json;
    /* Unprotected header members (JSON serializations only), or NULL. */
    const char *unprotected_json;
} jg_jws_signer;

typedef struct jg_jws_sign_opts {
    jg_format format; /* JG_FORMAT_COMPACT (default), FLATTENED or GENERAL */
    int detached;     /* non-zero: leave the payload out of the output */
    int b64_false;    /* non-zero: RFC 7797 unencoded payload
                         ("b64":false added to every protected header and
                         to "crit") */
} jg_jws_sign_opts;

/*
 * jg_jws_sign — sign `payload` with one signer. `opts` may be NULL (compact,
 * attached, b64). *out is a NUL-terminated token the caller frees with
 * jg_free(); *out_len may be NULL. JSON output has the members "payload",
 * then "protected", "header", "signature" (or "signatures").
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM, JG_ERR_ALG_UNKNOWN (no alg
 * given and none on the key, or not an alg at all), JG_ERR_ALG_KIND (a JWE
 * alg), JG_ERR_KEY_* from jg_jwk_check() with JG_OP_SIGN, JG_ERR_JSON_* /
 * JG_ERR_LIMIT_JSON_DEPTH (bad header JSON), JG_ERR_HEADER_INVALID ("alg"
 * differs or is not a string, "kid" not a string, "b64" given),
 * JG_ERR_HEADER_DUPLICATE (name both protected and unprotected),
 * JG_ERR_CRIT_INVALID / JG_ERR_CRIT_UNPROTECTED ("crit" that no verifier
 * may accept: empty, malformed, naming a registered or absent parameter, or
 * unprotected), JG_ERR_TOKEN_FORMAT (compact with an unprotected header,
 * b64:false compact payload containing '.', or b64:false JSON payload that
 * is not UTF-8), JG_ERR_CRYPTO.
 * Thread-safe.
 */
jg_err jg_jws_sign(const void *payload, size_t payload_len, const jg_jws_signer *signer,
                   const jg_jws_sign_opts *opts, char **out, size_t *out_len);

/*
 * jg_jws_sign_multi — the same with `count` signers (GENERAL format, or
 * FLATTENED/COMPACT when count is 1). Errors as jg_jws_sign(), plus
 * JG_ERR_INVALID_ARGUMENT when count is 0 or the format cannot hold `count`.
 */
jg_err jg_jws_sign_multi(const void *payload, size_t payload_len, const jg_jws_signer *signers,
                         size_t count, const jg_jws_sign_opts *opts, char **out, size_t *out_len);

/* How several signatures of a JSON-serialized JWS are judged. */
typedef enum jg_sig_policy {
    JG_SIG_ANY = 0, /* at least one signature verifies (RFC 7515 section 7.2) */
    JG_SIG_ALL      /* every signature verifies with an allowed alg and a key */
} jg_sig_policy;

typedef struct jg_jws_verify_opts {
    jg_alg_set algs;              /* required: the accepted JWS algorithms */
    jg_sig_policy policy;         /* for several signatures; default ANY */
    const void *detached_payload; /* the payload, when the token has none */
    size_t detached_payload_len;
    const char *const *crit; /* NULL-terminated extension names the
                                caller processes itself, or NULL */
    const jg_limits *limits; /* NULL: jg_limits_default() */
    /*
     * Non-zero: accept a key set that mixes "oct" secrets with public keys.
     * Zero (the default): such a set is refused before the token is looked
     * at (JG_ERR_KEYSET_MIXED). A set that holds an HMAC secret next to the
     * public keys of an issuer is the setup of the classic algorithm
     * confusion: one allow-list that names HS256 and RS256 together away
     * from a token signed with whatever secret the set holds. Keep secrets
     * and public keys in separate sets, verified separately.
     */
    int allow_mixed_keys;
} jg_jws_verify_opts;

/* The result of a successful verification. */
typedef struct jg_jws jg_jws;

/*
 * jg_jws_verify — parse a JWS in any serialization (compact, flattened or
 * general JSON, detected from the first non-blank byte), verify it with
 * `keys` under `opts`, and on success return the verified result in *out
 * (free with jg_jws_free()). Key selection: when the header has "kid" and
 * the set has a key with that kid, only the keys with that kid are tried;
 * when no key of the set has that kid, the keys without a kid are tried (a
 * PEM key, or a JWK without "kid": what libjwt, jose and jwcrypto do), never
 * a key with another kid. Without "kid" in the header every key usable with
 * the alg is tried.
 * Structure, limits and header rules (crit, b64, duplicates) apply to the
 * whole token whatever the policy; alg, key and signature failures are per
 * signature, and under JG_SIG_ANY the error of the first signature is
 * returned when none verifies. "b64" (RFC 7797) must be protected, listed in
 * "crit" and the same in every signature. An empty compact payload that does
 * not verify while no detached payload was given is JG_ERR_DETACHED_PAYLOAD.
 * Thread-safe; `keys` may be shared.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL, bad policy, detached_payload
 * NULL with a length), JG_ERR_ALGS_EMPTY (opts->algs is 0),
 * JG_ERR_KEYSET_MIXED (the set mixes "oct" and other keys and
 * opts->allow_mixed_keys is zero), JG_ERR_NOMEM,
 * JG_ERR_LIMIT_TOKEN_SIZE (also: decoded payload above max_payload_len),
 * JG_ERR_LIMIT_HEADER_SIZE, JG_ERR_LIMIT_JSON_DEPTH,
 * JG_ERR_LIMIT_SIGNATURES, JG_ERR_TOKEN_FORMAT, JG_ERR_B64_*,
 * JG_ERR_JSON_*, JG_ERR_HEADER_ALG_MISSING, JG_ERR_HEADER_INVALID,
 * JG_ERR_HEADER_DUPLICATE, JG_ERR_CRIT_UNKNOWN, JG_ERR_CRIT_INVALID,
 * JG_ERR_CRIT_UNPROTECTED, JG_ERR_B64_HEADER, JG_ERR_DETACHED_PAYLOAD,
 * JG_ERR_ALG_NONE, JG_ERR_ALG_UNKNOWN, JG_ERR_ALG_KIND,
 * JG_ERR_ALG_NOT_ALLOWED, JG_ERR_KEY_NOT_FOUND (no usable key; when keys
 * were found but refused, the most specific refusal from jg_jwk_check()
 * instead), JG_ERR_SIGNATURE_LENGTH, JG_ERR_SIGNATURE_RANGE,
 * JG_ERR_SIGNATURE (also when usable keys failed in different ways),
 * JG_ERR_CRYPTO.
 */
JG_NODISCARD jg_err jg_jws_verify(const char *token, size_t token_len, const jg_jwks *keys,
                                  const jg_jws_verify_opts *opts, jg_jws **out);

/*
 * jg_jws_verify_ex — jg_jws_verify() with a rejection detail (see jg_detail
 * in jwtgate/error.h; `detail` may be NULL). On failure it says, where the
 * error is about one: the "alg" the header named and the allow-list
 * (JG_ERR_ALG_*), the "crit" name not understood, the kid and alg a key was
 * looked up for and the kids of the set (JG_ERR_KEY_NOT_FOUND, key
 * refusals, JG_ERR_SIGNATURE), the numbers of secret and public keys
 * (JG_ERR_KEYSET_MIXED). Under JG_SIG_ANY it explains the first
 * signature's error, which is the one returned. Zeroed on success. Never a
 * key, a secret, the token or the payload. Errors as jg_jws_verify().
 */
JG_NODISCARD jg_err jg_jws_verify_ex(const char *token, size_t token_len, const jg_jwks *keys,
                                     const jg_jws_verify_opts *opts, jg_jws **out,
                                     jg_detail *detail);

/* The verified payload (borrowed; a NUL follows it). *len may be NULL. */
const unsigned char *jg_jws_payload(const jg_jws *jws, size_t *len);

/* Number of signatures in the token, and how many verified. */
size_t jg_jws_signature_count(const jg_jws *jws);
size_t jg_jws_verified_count(const jg_jws *jws);

/* The alg and key of the first verified signature, in token order (key
 * borrowed from the set passed to jg_jws_verify(): valid while that set
 * lives). */
jg_alg jg_jws_alg(const jg_jws *jws);
const jg_jwk *jg_jws_key(const jg_jws *jws);

/*
 * jg_jws_header_string — a string member of the first verified signature's
 * headers (protected first, then unprotected). Borrowed pointer.
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_CLAIM_MISSING (absent),
 * JG_ERR_JSON_TYPE (not a string).
 */
jg_err jg_jws_header_string(const jg_jws *jws, const char *name, const char **out);

/*
 * jg_jws_protected_json — the first verified signature's protected header as
 * compact JSON with sorted members (caller frees with jg_free()).
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM.
 */
jg_err jg_jws_protected_json(const jg_jws *jws, char **out);

/* jg_jws_free — zero the payload (it may be the confidential inside of a
 * nested token) and release a result. NULL is a no-op. */
void jg_jws_free(jg_jws *jws);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_JWS_H */
