/*
 * claims_validate.c — time and claim rules of a jg_jwt_policy
 * (jg_claims_validate), media-type matching of "typ" (jg_typ_matches) and
 * scope tokens (jg_scope_contains).
 *
 * All time arithmetic is exact over the whole int64_t range: sums that could
 * overflow are decided before they are computed, so a huge "exp" or leeway
 * can never wrap into a past or future time.
 */
#include <string.h>
#include <time.h>

#include "jwt/claims_internal.h"

/* A time claim: JG_OK with *present 0 when absent, else its value. */
static jg_err time_claim(const jg_claims *claims, const char *name, int *present, int64_t *out)
{
    jg_err err = jg_claims_get_int(claims, name, out);
    *present = err != JG_ERR_CLAIM_MISSING;
    return err == JG_ERR_CLAIM_MISSING ? JG_OK : err;
}

/* Exactly whether a >= b + c, for c >= 0. */
static int ge_sum(int64_t a, int64_t b, int64_t c)
{
    if (b > INT64_MAX - c)
        return 0; /* b + c exceeds every int64_t */
    return a >= b + c;
}

/* Exactly whether a > b + c, for c >= 0. */
static int gt_sum(int64_t a, int64_t b, int64_t c)
{
    if (b > INT64_MAX - c)
        return 0;
    return a > b + c;
}

/* A string claim compared byte for byte; JG_OK when it equals `expected`.
 * (Claim strings never hold a NUL: the parser and the setters refuse it.) */
static jg_err string_equals(const jg_claims *claims, const char *name, const char *expected,
                            jg_err mismatch)
{
    const char *value = NULL;
    jg_err err = jg_claims_get_string(claims, name, &value);
    if (err != JG_OK)
        return err;
    return strcmp(value, expected) == 0 ? JG_OK : mismatch;
}

static jg_err check_audience(const jg_claims *claims, const char *expected)
{
    if (!jg_claims_has(claims, "aud"))
        return JG_ERR_CLAIM_MISSING;
    size_t n = jg_claims_aud_count(claims);
    if (n == 0)
        return JG_ERR_CLAIM_TYPE;
    jg_err err = JG_ERR_AUDIENCE;
    for (size_t i = 0; i < n; i++) {
        const char *item = jg_claims_aud_at(claims, i);
        if (item == NULL)
            return JG_ERR_CLAIM_TYPE;
        if (err != JG_OK && strcmp(item, expected) == 0)
            err = JG_OK;
    }
    return err;
}

/* Whether a NULL-terminated list has no entries (NULL included). */
static int list_empty(const char *const *list)
{
    return list == NULL || list[0] == NULL;
}

/*
 * RFC 6749 section 3.3: scope = scope-token *( SP scope-token ), scope-token
 * = 1*( %x21 / %x23-5B / %x5D-7E ). Anything else (empty, a leading,
 * trailing or doubled space, a tab, non-ASCII) is refused rather than
 * repaired: two readers of a malformed list may disagree on its tokens.
 */
static int scope_well_formed(const char *scope, size_t len)
{
    if (len == 0 || scope[0] == ' ' || scope[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)scope[i];
        if (c == ' ' ? scope[i + 1] == ' ' : (c < 0x21 || c > 0x7E || c == '"' || c == '\\'))
            return 0;
    }
    return 1;
}

/* Every scope of `all`, and one of `any` (when given), in "scope". */
static jg_err check_scopes(const jg_claims *claims, const char *const *all, const char *const *any)
{
    const char *scope = NULL;
    jg_err err = jg_claims_get_string(claims, "scope", &scope);
    if (err != JG_OK)
        return err;
    size_t len = strlen(scope);
    if (!scope_well_formed(scope, len))
        return JG_ERR_SCOPE_INVALID;
    for (const char *const *want = all; want != NULL && *want != NULL; want++)
        if (!jg_scope_contains(scope, len, *want, strlen(*want)))
            return JG_ERR_SCOPE;
    if (list_empty(any))
        return JG_OK;
    for (const char *const *want = any; *want != NULL; want++)
        if (jg_scope_contains(scope, len, *want, strlen(*want)))
            return JG_OK;
    return JG_ERR_SCOPE;
}

jg_err jg_claims_validate(const jg_claims *claims, const jg_jwt_policy *policy)
{
    if (claims == NULL || policy == NULL || policy->leeway < 0 || policy->max_age < 0)
        return JG_ERR_INVALID_ARGUMENT;

    const int64_t now =
        policy->clock != NULL ? policy->clock(policy->clock_ctx) : (int64_t)time(NULL);
    const int64_t leeway = policy->leeway;
    int present;
    int64_t t;

    /* RFC 7519 4.1.4: the current time MUST be before "exp". */
    jg_err err = time_claim(claims, "exp", &present, &t);
    if (err != JG_OK)
        return err;
    if (!present && !policy->allow_missing_exp)
        return JG_ERR_CLAIM_MISSING;
    if (present && ge_sum(now, t, leeway))
        return JG_ERR_EXPIRED;

    /* RFC 7519 4.1.5: the current time MUST be at or after "nbf". */
    err = time_claim(claims, "nbf", &present, &t);
    if (err != JG_OK)
        return err;
    if (present && gt_sum(t, now, leeway))
        return JG_ERR_NOT_YET_VALID;

    int64_t iat = 0;
    int has_iat = 0;
    err = time_claim(claims, "iat", &has_iat, &iat);
    if (err != JG_OK)
        return err;
    if (has_iat && gt_sum(iat, now, leeway))
        return JG_ERR_IAT_FUTURE;

    if (policy->max_age > 0) {
        if (!has_iat)
            return JG_ERR_CLAIM_MISSING;
        /* now - iat > max_age + leeway, in unsigned arithmetic where neither
         * side can overflow: both are below 2^64 here. */
        if (now > iat) {
            uint64_t age = (uint64_t)now - (uint64_t)iat;
            if (age > (uint64_t)policy->max_age + (uint64_t)leeway)
                return JG_ERR_TOO_OLD;
        }
    }

    if (policy->issuer != NULL &&
        (err = string_equals(claims, "iss", policy->issuer, JG_ERR_ISSUER)) != JG_OK)
        return err;
    if (policy->subject != NULL &&
        (err = string_equals(claims, "sub", policy->subject, JG_ERR_SUBJECT)) != JG_OK)
        return err;
    if (policy->audience != NULL && (err = check_audience(claims, policy->audience)) != JG_OK)
        return err;
    if (policy->required != NULL)
        for (const char *const *name = policy->required; *name != NULL; name++)
            if (!jg_claims_has(claims, *name))
                return JG_ERR_CLAIM_MISSING;
    /* RFC 9068 section 4: the resource server checks the token's scopes
     * against what the resource requires (RFC 6750 "insufficient_scope"). */
    if ((!list_empty(policy->scopes_all) || !list_empty(policy->scopes_any)) &&
        (err = check_scopes(claims, policy->scopes_all, policy->scopes_any)) != JG_OK)
        return err;
    return JG_OK;
}

/* ---- scope ----------------------------------------------------------------- */

int jg_scope_contains(const char *scope, size_t len, const char *want, size_t want_len)
{
    if (scope == NULL || want == NULL || want_len == 0 || memchr(want, ' ', want_len) != NULL)
        return 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && scope[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && scope[i] != ' ')
            i++;
        if (i - start == want_len && memcmp(scope + start, want, want_len) == 0)
            return 1;
    }
    return 0;
}

/* ---- typ ------------------------------------------------------------------- */

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ascii_caseeq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/*
 * RFC 7515 section 4.1.9: a "typ" without '/' is read as if "application/"
 * were prepended. So compare the full media types: when exactly one side
 * lacks a '/', the other must be "application/" followed by it.
 */
int jg_typ_matches(const char *typ, const char *expected)
{
    static const char prefix[] = "application/";
    const size_t plen = sizeof prefix - 1;

    if (typ == NULL || expected == NULL || typ[0] == '\0' || expected[0] == '\0')
        return 0;
    size_t tlen = strlen(typ), elen = strlen(expected);
    int t_short = memchr(typ, '/', tlen) == NULL;
    int e_short = memchr(expected, '/', elen) == NULL;
    if (t_short == e_short)
        return tlen == elen && ascii_caseeq(typ, expected, tlen);
    const char *full = t_short ? expected : typ;
    const char *bare = t_short ? typ : expected;
    size_t flen = t_short ? elen : tlen, blen = t_short ? tlen : elen;
    return flen == plen + blen && ascii_caseeq(full, prefix, plen) &&
           ascii_caseeq(full + plen, bare, blen);
}
