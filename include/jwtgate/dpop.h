/*
 * jwtgate/dpop.h — DPoP proofs (RFC 9449, OAuth 2.0 Demonstrating Proof of
 * Possession).
 *
 * A DPoP proof is a compact JWS with "typ":"dpop+jwt" and the public key that
 * signed it in its "jwk" header, over the claims "jti", "htm" (the HTTP
 * method), "htu" (the HTTP URI without query and fragment), "iat", and
 * optionally "ath" (base64url of the SHA-256 of the access token) and
 * "nonce" (a value the server handed out, RFC 9449 section 8).
 *
 * jg_dpop_proof_create() makes one (the client's side, and tests).
 * jg_dpop_verify() checks one under a jg_dpop_policy, the RFC 9449 section
 * 4.3 checks in a fixed order, and hands back what the caller needs next:
 * the JWK SHA-256 thumbprint of the proof's key (RFC 7638, base64url), to
 * compare with the token's "cnf"."jkt", and the "jti" and "iat", for the
 * caller's replay check. The replay check itself is the caller's: the
 * library keeps no state (a gateway keeps it in shared memory, a token
 * service per node or in its database).
 *
 * Made for a request path: the result is a caller-owned fixed-size struct,
 * nothing to free; the proof is bounded (JG_DPOP_MAX_PROOF_LEN by default)
 * before any work; the policy is read-only and may be shared by threads.
 */
#ifndef JWTGATE_DPOP_H
#define JWTGATE_DPOP_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/alg.h"
#include "jwtgate/common.h"
#include "jwtgate/error.h"
#include "jwtgate/jwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The proof's header "typ" (RFC 9449 section 4.2). */
#define JG_DPOP_TYP "dpop+jwt"

/* Default largest proof, bytes: a proof with an RSA-8192 "jwk" fits. */
#define JG_DPOP_MAX_PROOF_LEN 8192u
/* Largest "jti" accepted, bytes (and the size of jg_dpop_result.jti less
 * its NUL). A random jti of 16 bytes is 22 characters, a UUID 36. */
#define JG_DPOP_MAX_JTI_LEN 128u
/* Largest "htu" (and policy htu) accepted, bytes. */
#define JG_DPOP_MAX_HTU_LEN 2048u
/* Largest "htm", bytes (an HTTP method token). */
#define JG_DPOP_MAX_HTM_LEN 32u
/* Default window: how old a proof's "iat" may be, seconds. */
#define JG_DPOP_DEFAULT_WINDOW 300

/* ---- Creating a proof ------------------------------------------------------ */

typedef struct jg_dpop_proof_opts {
    /* The client's private key (EC, RSA or OKP; never "oct"); required. Its
     * public part goes into the "jwk" header (no "kid", "use", "alg" or
     * private member). */
    const jg_jwk *key;
    /* JG_ALG_UNKNOWN: the key's "alg", or else ES256/ES384/ES512 by curve,
     * PS256 for RSA, EdDSA for OKP (the choices of RFC 9449's examples). */
    jg_alg alg;
    const char *htm; /* required: the HTTP method, "GET", "POST" ... */
    /* Required: the target URI. Its query and fragment are left out of
     * "htu" (RFC 9449 section 4.2); otherwise written as given. */
    const char *htu;
    /* The access token the proof goes with, or NULL: "ath" is then left
     * out. `access_token_len` 0 with a token: strlen(). */
    const char *access_token;
    size_t access_token_len;
    const char *nonce; /* the server's DPoP-Nonce, or NULL */
    int64_t iat;       /* 0: the system clock */
    /* The "jti", or NULL: 16 random bytes, base64url (22 characters). At
     * most JG_DPOP_MAX_JTI_LEN bytes. */
    const char *jti;
} jg_dpop_proof_opts;

/*
 * jg_dpop_proof_create — make a DPoP proof. *out is a NUL-terminated compact
 * JWS the caller frees with jg_free(); *out_len may be NULL. The header is
 * {"typ":"dpop+jwt","alg":...,"jwk":{public members}}, the claims
 * {"jti","htm","htu","iat"[,"ath"][,"nonce"]}.
 * Thread-safe. On failure *out is NULL (and *out_len 0).
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL opts, key, htm or htu; an empty htm,
 * htu or jti, or one that is not a JSON string as itself: control
 * characters, a jti above JG_DPOP_MAX_JTI_LEN; an htu above
 * JG_DPOP_MAX_HTU_LEN), JG_ERR_DPOP_ALG_SYMMETRIC (an "oct" key or an HS*
 * alg), JG_ERR_KEY_* and JG_ERR_ALG_* from jg_jwk_check() with JG_OP_SIGN
 * (JG_ERR_KEY_NOT_PRIVATE: a public key), JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg_dpop_proof_create(const jg_dpop_proof_opts *opts, char **out, size_t *out_len);

/* ---- Verifying a proof ----------------------------------------------------- */

typedef struct jg_dpop_policy {
    /* Required: the accepted algorithms, asymmetric only. 0, or a set with
     * an HMAC alg or a JWE alg in it, is refused (JG_ERR_ALGS_EMPTY,
     * JG_ERR_INVALID_ARGUMENT). JG_ALGS_ASYMMETRIC_SIG: all of them. */
    jg_alg_set algs;
    /* Required: the request's method, compared byte for byte with "htm"
     * (methods are case-sensitive, RFC 9110 section 9.1). */
    const char *htm;
    size_t htm_len;
    /* Required: the request's URI as the client used it (absolute: scheme,
     * host, optional port, path; any query and fragment are ignored).
     * Both it and the proof's "htu" are normalised (jg_dpop_htu_normalize())
     * before they are compared. */
    const char *htu;
    size_t htu_len;
    /* The access token presented with the proof, or NULL (token requests):
     * when given, "ath" must be present and equal base64url(SHA-256(token))
     * (compared in constant time); when NULL, "ath" is not looked at. */
    const char *access_token;
    size_t access_token_len;
    /* The nonce the server expects (its current DPoP-Nonce), or NULL: when
     * given, "nonce" must be present and equal (constant time). */
    const char *nonce;
    size_t nonce_len;
    /* Times, seconds. now 0: the system clock. window 0:
     * JG_DPOP_DEFAULT_WINDOW. A proof is accepted when
     *   now - window - leeway <= iat <= now + leeway.
     * Negative window or leeway: JG_ERR_INVALID_ARGUMENT. */
    int64_t now;
    int64_t window;
    int64_t leeway;
    /* Largest proof accepted, bytes; 0: JG_DPOP_MAX_PROOF_LEN. */
    size_t max_proof_len;
    /* Largest "jti", bytes; 0 (or above JG_DPOP_MAX_JTI_LEN):
     * JG_DPOP_MAX_JTI_LEN. */
    size_t max_jti_len;
} jg_dpop_policy;

/* What a verified proof says: caller-owned, nothing to free. */
typedef struct jg_dpop_result {
    /* RFC 7638 SHA-256 thumbprint of the proof's "jwk", base64url, NUL
     * terminated: compare with the access token's "cnf"."jkt". */
    char jkt[44];
    /* The proof's "jti" (NUL-terminated, jti_len bytes; it holds no NUL).
     * A replay cache keys on it (together with jkt, or a hash of both). */
    char jti[JG_DPOP_MAX_JTI_LEN + 1];
    size_t jti_len;
    int64_t iat;
    /* The last second at which this proof is still accepted under the
     * policy (iat + window + leeway): a replay cache entry may be dropped
     * after it. */
    int64_t expires;
    jg_alg alg; /* the proof's "alg" */
} jg_dpop_result;

/*
 * jg_dpop_verify — check a DPoP proof under `policy`. The rules, in the
 * order they are checked (the first that fails decides):
 *   1. the policy is usable (see jg_dpop_policy);
 *   2. size: at most max_proof_len bytes (JG_ERR_LIMIT_TOKEN_SIZE);
 *   3. a compact JWS of three parts, the header a JSON object within the
 *      library's limits (JG_ERR_TOKEN_FORMAT, JG_ERR_B64_*, JG_ERR_JSON_*,
 *      JG_ERR_LIMIT_HEADER_SIZE, JG_ERR_LIMIT_JSON_DEPTH);
 *   4. "typ" exactly "dpop+jwt" (JG_ERR_DPOP_TYP);
 *   5. "alg": present (JG_ERR_HEADER_ALG_MISSING), not "none"
 *      (JG_ERR_ALG_NONE), known (JG_ERR_ALG_UNKNOWN), a JWS alg
 *      (JG_ERR_ALG_KIND), asymmetric (JG_ERR_DPOP_ALG_SYMMETRIC), in the
 *      policy's list (JG_ERR_ALG_NOT_ALLOWED);
 *   6. no "crit" (JG_ERR_CRIT_UNKNOWN: no extension is understood);
 *   7. "jwk": present and an object (JG_ERR_DPOP_JWK_MISSING), without any
 *      private member "d", "p", "q", "dp", "dq", "qi", "oth", "k"
 *      (JG_ERR_DPOP_JWK_PRIVATE), a valid public key (JG_ERR_KEY_*), one
 *      that fits the alg (JG_ERR_DPOP_JWK_ALG);
 *   8. the signature verifies with that key (JG_ERR_SIGNATURE,
 *      JG_ERR_SIGNATURE_LENGTH, JG_ERR_SIGNATURE_RANGE);
 *   9. the claims are a JSON object (JG_ERR_CLAIMS_INVALID, JG_ERR_JSON_*);
 *  10. "jti": a non-empty string (JG_ERR_CLAIM_MISSING, JG_ERR_CLAIM_TYPE)
 *      of at most max_jti_len bytes (JG_ERR_DPOP_JTI_LENGTH);
 *  11. "htm": a string (missing/type as above) equal to the policy's
 *      (JG_ERR_DPOP_HTM);
 *  12. "htu": a string, an absolute http(s) URI without query or fragment
 *      (JG_ERR_DPOP_HTU_INVALID), equal to the policy's after both are
 *      normalised (JG_ERR_DPOP_HTU);
 *  13. "iat": an integer (missing/type), not after now + leeway
 *      (JG_ERR_DPOP_IAT_FUTURE), not before now - window - leeway
 *      (JG_ERR_DPOP_IAT_STALE);
 *  14. with an access token: "ath" present (JG_ERR_DPOP_ATH_MISSING), a
 *      string (JG_ERR_CLAIM_TYPE), equal (JG_ERR_DPOP_ATH);
 *  15. with a policy nonce: "nonce" present (JG_ERR_DPOP_NONCE_MISSING), a
 *      string (JG_ERR_CLAIM_TYPE), equal (JG_ERR_DPOP_NONCE). RFC 9449
 *      section 8: both are answered with error="use_dpop_nonce" and a
 *      fresh DPoP-Nonce.
 * On success *out holds the thumbprint, jti, iat, expiry and alg; on
 * failure it is zeroed. `detail` may be NULL; when given it explains the
 * refusal (the header or claim, expected and actual values, the times; never
 * the proof, the token or a key), and is zeroed on success.
 * Thread-safe; `policy` may be shared. Bounded work: one header parse, one
 * public key import, one signature verification, one claims parse.
 * Other errors: JG_ERR_INVALID_ARGUMENT (NULL proof, policy, out, htm or
 * htu; a bad policy), JG_ERR_ALGS_EMPTY, JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
JG_NODISCARD jg_err jg_dpop_verify(const char *proof, size_t proof_len,
                                   const jg_dpop_policy *policy, jg_dpop_result *out,
                                   jg_detail *detail);

/* ---- A cache of prepared proof keys ------------------------------------------ */

/*
 * A caller-owned cache for jg_dpop_verify_cached(): the proofs of one client
 * carry the same header each time, so its checks, the import of its key
 * and the key's thumbprint are done on the first proof and reused while the
 * header stays byte for byte the same (the signature and the claims are
 * checked on every proof). Direct-mapped slots of about 1.6 KiB each; a
 * header longer than 1536 characters is never cached. Not thread-safe: one
 * cache per thread (an nginx worker, a server thread).
 */
typedef struct jg_dpop_cache jg_dpop_cache;

#define JG_DPOP_CACHE_DEFAULT_SLOTS 256u
#define JG_DPOP_CACHE_MAX_SLOTS     (1u << 20)

/*
 * jg_dpop_cache_new — a cache of `slots` entries (0: the default). Free with
 * jg_dpop_cache_free(). On failure *out is NULL. Errors:
 * JG_ERR_INVALID_ARGUMENT (NULL out, slots above JG_DPOP_CACHE_MAX_SLOTS),
 * JG_ERR_NOMEM. Thread-safe.
 */
jg_err jg_dpop_cache_new(size_t slots, jg_dpop_cache **out);

/* jg_dpop_cache_free — release a cache and the keys it holds. NULL: no-op. */
void jg_dpop_cache_free(jg_dpop_cache *cache);

/*
 * jg_dpop_verify_cached — jg_dpop_verify() with a key cache (`cache` NULL:
 * none, the same call). Same rules, order, errors, result and detail: a
 * cached header is one that passed rules 3 to 7 before; rule 5's policy
 * check (the alg in policy->algs) is made on every call. Thread-safe for
 * different caches; a cache is used by one thread at a time.
 */
JG_NODISCARD jg_err jg_dpop_verify_cached(const char *proof, size_t proof_len,
                                          const jg_dpop_policy *policy, jg_dpop_cache *cache,
                                          jg_dpop_result *out, jg_detail *detail);

/*
 * jg_dpop_ath — base64url(SHA-256(access_token)), the "ath" value, into
 * `out` (43 characters and a NUL). Errors: JG_ERR_INVALID_ARGUMENT,
 * JG_ERR_CRYPTO. Thread-safe.
 */
jg_err jg_dpop_ath(const char *access_token, size_t len, char out[44]);

/*
 * jg_dpop_htu_normalize — the form in which jg_dpop_verify() compares
 * "htu" with the request URI (RFC 9449 section 4.3 with RFC 3986 section
 * 6.2.2 and 6.2.3): scheme and host in lower case, the scheme's default port
 * (80 for http, 443 for https) dropped, an empty path made "/", the hex
 * digits of percent-encodings in upper case; nothing else changes (no dot
 * segments removed, no percent-decoding). Only "http" and "https" URIs with
 * a host and no userinfo are accepted. `strip_query` non-zero: a query and
 * fragment are dropped (the request URI); zero: they are refused (a proof's
 * htu). Writes a NUL-terminated string of at most `cap` - 1 bytes into `out`
 * and its length into *out_len (may be NULL). No allocation; thread-safe.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL; `cap` too small),
 * JG_ERR_DPOP_HTU_INVALID (not such a URI; longer than
 * JG_DPOP_MAX_HTU_LEN; a query or fragment when !strip_query).
 */
jg_err jg_dpop_htu_normalize(const char *uri, size_t len, int strip_query, char *out, size_t cap,
                             size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_DPOP_H */
