/*
 * jwtgate/jwt.h — JSON Web Token claims (RFC 7519, 8725, 9068).
 *
 * Claims are read through accessors or as JSON text; no JSON library type
 * appears in this API. Validation is driven by a jg_jwt_policy the caller
 * fills in once and reuses for every token: it names the accepted signature
 * algorithms and what the claims must say. Zero-initialised fields are the
 * strict choice: "exp" is required unless allow_missing_exp is set.
 *
 * Time claims ("exp", "nbf", "iat") must be JSON numbers that are integers
 * (or reals with no fractional part) within the range of int64_t.
 */
#ifndef JWTGATE_JWT_H
#define JWTGATE_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/alg.h"
#include "jwtgate/common.h"
#include "jwtgate/error.h"
#include "jwtgate/jwk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jg_claims jg_claims;

/* ---- Building and reading claims ------------------------------------------ */

/* jg_claims_new — an empty claim set (free with jg_claims_free()).
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM. */
jg_err jg_claims_new(jg_claims **out);

/*
 * jg_claims_parse — claims from JSON text. The text must be one JSON object
 * with no repeated member names, within `limits` (NULL: defaults).
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM, JG_ERR_JSON_SYNTAX,
 * JG_ERR_JSON_DUPLICATE, JG_ERR_CLAIMS_INVALID (not an object),
 * JG_ERR_LIMIT_JSON_DEPTH, JG_ERR_LIMIT_JSON_SIZE,
 * JG_ERR_CLAIM_TYPE (a registered claim of the wrong type: iss/sub/jti not
 * a string, aud not a string or array of strings, exp/nbf/iat not integral).
 */
JG_NODISCARD jg_err jg_claims_parse(const char *json, size_t len, const jg_limits *limits,
                                    jg_claims **out);

/*
 * Setters: add or replace one member. Not thread-safe on the same object.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL, or a name/value that is not valid
 * UTF-8), JG_ERR_NOMEM; set_json also JG_ERR_JSON_SYNTAX,
 * JG_ERR_JSON_DUPLICATE and JG_ERR_LIMIT_JSON_DEPTH; setting a registered
 * claim with the wrong type gives JG_ERR_CLAIM_TYPE.
 */
jg_err jg_claims_set_string(jg_claims *claims, const char *name, const char *value);
jg_err jg_claims_set_int(jg_claims *claims, const char *name, int64_t value);
jg_err jg_claims_set_bool(jg_claims *claims, const char *name, int value);
/* `json` is any JSON value as text: "[1,2]", "{\"a\":1}", "\"s\"", "3". */
jg_err jg_claims_set_json(jg_claims *claims, const char *name, const char *json);
/* "aud" as an array of `count` strings (count 1 still writes an array). */
jg_err jg_claims_set_aud(jg_claims *claims, const char *const *aud, size_t count);
/* Merge every member of a JSON object text into the claims (replacing).
 * A merge refused for its text or types changes nothing. Errors as
 * set_json, plus JG_ERR_CLAIMS_INVALID (the text is not an object). */
jg_err jg_claims_merge_json(jg_claims *claims, const char *json);
/* Remove a member; JG_ERR_CLAIM_MISSING if absent. */
jg_err jg_claims_remove(jg_claims *claims, const char *name);

/*
 * jg_claims_set_times — "iat" = now and "exp" = now + lifetime (seconds),
 * replacing them, as an issuer stamps every token (`jwtgate jwt sign`: now
 * and 1h). `now` is seconds since the epoch (e.g. (int64_t)time(NULL)).
 * Not thread-safe on the same object. Errors: JG_ERR_INVALID_ARGUMENT
 * (NULL, now < 0, lifetime <= 0, or now + lifetime beyond int64_t),
 * JG_ERR_NOMEM.
 */
jg_err jg_claims_set_times(jg_claims *claims, int64_t now, int64_t lifetime);

/*
 * jg_claims_set_jti_random — "jti" = 128 random bits, base64url (22
 * characters), replacing it: unique per token, as RFC 7519 section 4.1.7 and
 * RFC 9068 section 2.2 want (`jwtgate jwt seal`'s default). Not thread-safe
 * on the same object. Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM,
 * JG_ERR_CRYPTO (no randomness available).
 */
jg_err jg_claims_set_jti_random(jg_claims *claims);

/*
 * Accessors. Borrowed strings live as long as the claims are not changed or
 * freed. Thread-safe for concurrent readers.
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_CLAIM_MISSING, JG_ERR_CLAIM_TYPE.
 */
int jg_claims_has(const jg_claims *claims, const char *name);
jg_err jg_claims_get_string(const jg_claims *claims, const char *name, const char **out);
/* Integers, and reals with no fractional part that fit in int64_t. */
jg_err jg_claims_get_int(const jg_claims *claims, const char *name, int64_t *out);
jg_err jg_claims_get_bool(const jg_claims *claims, const char *name, int *out);
/* Any member as compact JSON text; caller frees with jg_free(). Also JG_ERR_NOMEM. */
jg_err jg_claims_get_json(const jg_claims *claims, const char *name, char **out);
/* "aud" values: count 0 when absent; a string "aud" counts as one. */
size_t jg_claims_aud_count(const jg_claims *claims);
const char *jg_claims_aud_at(const jg_claims *claims, size_t index);
/* The member names, for iteration: count and the name at index (borrowed). */
size_t jg_claims_count(const jg_claims *claims);
const char *jg_claims_name_at(const jg_claims *claims, size_t index);

/* Whole claim set as JSON (sorted members; JG_EXPORT_PRETTY for indented).
 * Caller frees with jg_free(). Errors: JG_ERR_INVALID_ARGUMENT (also for
 * any flag other than JG_EXPORT_PRETTY), JG_ERR_NOMEM. */
jg_err jg_claims_to_json(const jg_claims *claims, unsigned flags, char **out);

/* jg_claims_free — NULL is a no-op. */
void jg_claims_free(jg_claims *claims);

/* ---- Validation --------------------------------------------------------- */

/* A clock for validation: seconds since the epoch. NULL means the system's
 * CLOCK_REALTIME (not the coarse clock glibc's time() reads). */
typedef int64_t (*jg_clock_fn)(void *ctx);

typedef struct jg_jwt_policy {
    jg_alg_set algs;      /* accepted signature algorithms (verify only) */
    const char *issuer;   /* "iss" must equal this, when non-NULL */
    const char *audience; /* "aud" must hold this, when non-NULL */
    const char *subject;  /* "sub" must equal this, when non-NULL */
    /*
     * Header "typ" must be this, when non-NULL. Compared as a media type:
     * case-insensitively, with an optional "application/" prefix on either
     * side, so "at+jwt" matches "application/at+jwt" (RFC 9068 section 4).
     */
    const char *typ;
    int64_t leeway;              /* seconds of clock skew allowed; >= 0 */
    int64_t max_age;             /* > 0: "iat" required and at most this old */
    int allow_missing_exp;       /* non-zero: a token without "exp" is accepted */
    const char *const *required; /* NULL-terminated claim names that must be present */
    jg_clock_fn clock;           /* NULL: the system clock */
    void *clock_ctx;
    const char *const *crit; /* extension names the caller processes */
    const jg_limits *limits; /* NULL: defaults */
    /*
     * Required scopes (RFC 8693 section 4.2, RFC 9068 section 2.2.3: "scope"
     * is one string of space-delimited scope tokens). NULL-terminated lists;
     * NULL or empty: no requirement. Every scope of scopes_all and at least
     * one of scopes_any must be a token of "scope" (exact match, case
     * sensitive, never a prefix). Appended last so that zero-initialised
     * policies stay valid.
     */
    const char *const *scopes_all;
    const char *const *scopes_any;
    /*
     * Non-zero: the verification key set may mix "oct" secrets with public
     * keys. Zero (the default) refuses such a set (JG_ERR_KEYSET_MIXED):
     * with both kinds in one set, a verifier is one allow-list slip away
     * from the HS256-with-a-public-key confusion. See jg_jws_verify_opts.
     */
    int allow_mixed_keys;
} jg_jwt_policy;

/*
 * jg_claims_validate — check claims against the time and claim rules of
 * `policy` (algs, typ and crit are not used here). In order: exp, nbf, iat
 * (not in the future), max_age, iss, sub, aud, required, scopes. The token has
 * expired when exp <= now - leeway (RFC 7519: now must be before "exp"); it
 * is not yet valid when nbf > now + leeway. Sums never overflow. A claim the
 * policy names (iss, sub, aud, or iat for max_age) that is absent is
 * JG_ERR_CLAIM_MISSING.
 * Errors: JG_ERR_INVALID_ARGUMENT (NULL, negative leeway or max_age), JG_ERR_CLAIM_MISSING,
 * JG_ERR_CLAIM_TYPE, JG_ERR_EXPIRED, JG_ERR_NOT_YET_VALID, JG_ERR_IAT_FUTURE,
 * JG_ERR_TOO_OLD, JG_ERR_ISSUER, JG_ERR_SUBJECT, JG_ERR_AUDIENCE.
 * Thread-safe.
 */
JG_NODISCARD jg_err jg_claims_validate(const jg_claims *claims, const jg_jwt_policy *policy);

/*
 * jg_claims_validate_ex — the same, and on failure `detail` (may be NULL)
 * says which rule and claim: the claim's name, the expected value (issuer,
 * subject, audience) and the claim's value (iss, sub, the "aud" list), or
 * for time rules the claim's time, the clock's now, the leeway and max_age.
 * On success the detail is zeroed. See jg_detail in jwtgate/error.h.
 * Errors and thread safety as jg_claims_validate().
 */
JG_NODISCARD jg_err jg_claims_validate_ex(const jg_claims *claims, const jg_jwt_policy *policy,
                                          jg_detail *detail);

/*
 * jg_typ_matches — whether a header "typ" value matches the expected one
 * under the media-type rule above. Thread-safe.
 */
int jg_typ_matches(const char *typ, const char *expected);

/*
 * jg_scope_contains — whether `want` (`want_len` bytes) is one of the
 * space-separated tokens of `scope` (`len` bytes; need not be
 * NUL-terminated): an exact, case-sensitive match of a whole token, never a
 * prefix ("orders" is not in "orders:read"). Runs of spaces count as one
 * separator (this only matches; jg_claims_validate() also checks the form).
 * An empty `want`, or one holding a space, is never contained; NULL `scope`
 * or `want` gives 0. Thread-safe; never fails.
 */
int jg_scope_contains(const char *scope, size_t len, const char *want, size_t want_len);

/* ---- Signed JWTs ------------------------------------------------------ */

typedef struct jg_jwt_sign_opts {
    jg_alg alg;              /* JG_ALG_UNKNOWN: the key's own "alg" */
    const char *typ;         /* header "typ"; NULL: "JWT" */
    const char *header_json; /* extra protected members, or NULL */
} jg_jwt_sign_opts;

/*
 * jg_jwt_sign — a compact JWS whose payload is the claims. `opts` may be
 * NULL. The protected header is "alg", "kid" (from the key), "typ", then the
 * members of header_json in their order; a "typ" in header_json is used when
 * opts->typ is NULL and must equal it otherwise. *out is NUL-terminated;
 * caller frees with jg_free().
 * Errors: those of jg_jws_sign(), JG_ERR_INVALID_ARGUMENT (typ not UTF-8),
 * JG_ERR_HEADER_INVALID (header_json "typ" not a string or differing).
 */
jg_err jg_jwt_sign(const jg_claims *claims, const jg_jwk *key, const jg_jwt_sign_opts *opts,
                   char **out, size_t *out_len);

/*
 * jg_jwt_verify — verify a compact JWS with `keys` (policy->algs), check the
 * header "typ" and validate the claims. On success *out holds the claims
 * (free with jg_claims_free()); `out` may be NULL to only check.
 * Errors: those of jg_jws_verify() (JG_ERR_KEYSET_MIXED unless
 * policy->allow_mixed_keys), jg_claims_parse() and
 * jg_claims_validate(), plus JG_ERR_TOKEN_FORMAT (a JWS JSON serialization:
 * JWTs are compact only) and JG_ERR_TYP (policy->typ set and the header's
 * "typ" absent, not a string, or not matching).
 */
JG_NODISCARD jg_err jg_jwt_verify(const char *token, size_t token_len, const jg_jwks *keys,
                                  const jg_jwt_policy *policy, jg_claims **out);

/*
 * jg_jwt_verify_ex — jg_jwt_verify() with a rejection detail: on failure
 * `detail` (may be NULL) says which claim, header parameter or key lookup
 * failed (see jg_jws_verify_ex() and jg_claims_validate_ex(); for JG_ERR_TYP
 * the expected and the header's "typ"). Zeroed on success. Errors as
 * jg_jwt_verify().
 */
JG_NODISCARD jg_err jg_jwt_verify_ex(const char *token, size_t token_len, const jg_jwks *keys,
                                     const jg_jwt_policy *policy, jg_claims **out,
                                     jg_detail *detail);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_JWT_H */
