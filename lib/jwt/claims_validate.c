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

#include "core/detail.h"
#include "core/json.h"
#include "jwt/claims_internal.h"

/* What a claim of the wrong type is, for the detail: "a number" ... */
static const char *json_kind(const jg_claims *claims, const char *name)
{
    const json_t *v = json_object_get(jg__claims_object(claims), name);
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    case JSON_ARRAY:
        return json_array_size(v) == 0 ? "an empty array" : "an array";
    case JSON_OBJECT:
        return "an object";
    default:
        return "";
    }
}

/* The detail of a claim of the wrong type or a missing one. */
static jg_err claim_fault(jg_err err, const jg_claims *claims, const char *name,
                          const char *expected, jg_detail *d)
{
    jg__detail_begin(d, err, JG_DETAIL_CLAIM, name);
    if (expected != NULL)
        jg__detail_expected_text(d, expected);
    if (d != NULL && err == JG_ERR_CLAIM_TYPE) /* the JSON form costs: only when asked */
        jg__detail_actual_text(d, json_kind(claims, name));
    return err;
}

/* A time claim: JG_OK with *present 0 when absent, else its value. */
static jg_err time_claim(const jg_claims *claims, const char *name, int *present, int64_t *out,
                         jg_detail *d)
{
    jg_err err = jg_claims_get_int(claims, name, out);
    *present = err != JG_ERR_CLAIM_MISSING;
    if (err == JG_ERR_CLAIM_MISSING)
        return JG_OK;
    if (err == JG_ERR_CLAIM_TYPE)
        return claim_fault(err, claims, name, "an integer number of seconds", d);
    return err;
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
                            jg_err mismatch, jg_detail *d)
{
    const char *value = NULL;
    jg_err err = jg_claims_get_string(claims, name, &value);
    if (err == JG_ERR_CLAIM_MISSING || err == JG_ERR_CLAIM_TYPE) {
        claim_fault(err, claims, name, NULL, d);
        if (err == JG_ERR_CLAIM_MISSING)
            jg__detail_expected_str(d, expected, strlen(expected));
        else
            jg__detail_expected_text(d, "a string");
        return err;
    }
    if (err != JG_OK)
        return err;
    if (strcmp(value, expected) == 0)
        return JG_OK;
    jg__detail_begin(d, mismatch, JG_DETAIL_CLAIM, name);
    jg__detail_expected_str(d, expected, strlen(expected));
    jg__detail_actual_str(d, value, strlen(value));
    return mismatch;
}

/* The "aud" values as a display list: ["a", "b"], cut to fit. */
static void audience_list(const jg_claims *claims, jg_detail *d)
{
    if (d == NULL)
        return;
    char *buf = d->actual;
    const size_t cap = sizeof d->actual;
    size_t n = jg_claims_aud_count(claims), used = 0;
    int is_array = json_is_array(json_object_get(jg__claims_object(claims), "aud"));
    if (is_array)
        buf[used++] = '[';
    for (size_t i = 0; i < n; i++) {
        const char *item = jg_claims_aud_at(claims, i);
        char one[JG_DETAIL_TEXT_MAX];
        size_t len = jg__detail_escape(one, sizeof one, item, item ? strlen(item) : 0, 1);
        size_t sep = i > 0 ? 2 : 0;
        if (used + sep + len + 6 > cap) { /* room left for ", ...]" */
            memcpy(buf + used, i > 0 ? ", ..." : "...", i > 0 ? 5 : 3);
            used += i > 0 ? 5 : 3;
            break;
        }
        memcpy(buf + used, ", ", sep);
        memcpy(buf + used + sep, one, len);
        used += sep + len;
    }
    if (is_array)
        buf[used++] = ']';
    buf[used] = '\0';
}

static jg_err check_audience(const jg_claims *claims, const char *expected, jg_detail *d)
{
    if (!jg_claims_has(claims, "aud")) {
        claim_fault(JG_ERR_CLAIM_MISSING, claims, "aud", NULL, d);
        jg__detail_expected_str(d, expected, strlen(expected));
        return JG_ERR_CLAIM_MISSING;
    }
    size_t n = jg_claims_aud_count(claims);
    if (n == 0)
        return claim_fault(JG_ERR_CLAIM_TYPE, claims, "aud", "a string or an array of strings", d);
    jg_err err = JG_ERR_AUDIENCE;
    for (size_t i = 0; i < n; i++) {
        const char *item = jg_claims_aud_at(claims, i);
        if (item == NULL)
            return claim_fault(JG_ERR_CLAIM_TYPE, claims, "aud", "a string or an array of strings",
                               d);
        if (err != JG_OK && strcmp(item, expected) == 0)
            err = JG_OK;
    }
    if (err != JG_OK) {
        jg__detail_begin(d, err, JG_DETAIL_CLAIM, "aud");
        jg__detail_expected_str(d, expected, strlen(expected));
        audience_list(claims, d);
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

/* The detail of a scope refusal: what the policy requires, what "scope"
 * holds (or that it is missing or mistyped). */
static void scope_fault(jg_err err, const jg_claims *claims, const jg_jwt_policy *policy,
                        jg_detail *d)
{
    if (d == NULL)
        return;
    if (err == JG_ERR_CLAIM_MISSING || err == JG_ERR_CLAIM_TYPE) {
        claim_fault(err, claims, "scope", "space-delimited scope tokens", d);
        return;
    }
    jg__detail_begin(d, err, JG_DETAIL_CLAIM, "scope");
    char want[JG_DETAIL_TEXT_MAX] = "";
    size_t used = 0;
    const char *const *lists[2] = {policy->scopes_all, policy->scopes_any};
    const char *labels[2] = {"all of", "one of"};
    for (int l = 0; l < 2; l++) {
        if (list_empty(lists[l]))
            continue;
        int n = snprintf(want + used, sizeof want - used, "%s%s", used ? "; " : "", labels[l]);
        used = n > 0 && (size_t)n < sizeof want - used ? used + (size_t)n : sizeof want - 1;
        for (const char *const *w = lists[l]; *w != NULL && used < sizeof want - 1; w++) {
            n = snprintf(want + used, sizeof want - used, " %s", *w);
            used = n > 0 && (size_t)n < sizeof want - used ? used + (size_t)n : sizeof want - 1;
        }
    }
    jg__detail_expected_text(d, want);
    const char *scope = NULL;
    if (jg_claims_get_string(claims, "scope", &scope) == JG_OK)
        jg__detail_actual_str(d, scope, strlen(scope));
}

/*
 * The rules, in the order they are checked (the first that fails decides,
 * and fills the detail):
 *   1. "exp" present (unless allow_missing_exp) and now < exp + leeway;
 *   2. "nbf", when present: nbf <= now + leeway;
 *   3. "iat", when present: iat <= now + leeway;
 *   4. max_age > 0: "iat" present and now - iat <= max_age + leeway;
 *   5. issuer: "iss" present, a string, equal;
 *   6. subject: "sub" present, a string, equal;
 *   7. audience: "aud" present, a string or array of strings, holding it;
 *   8. required: every named claim present;
 *   9. scopes: "scope" well-formed, holding every scope of scopes_all and
 *      one of scopes_any.
 */
/* CLOCK_REALTIME, not time(): glibc's time() reads the coarse clock, up to
 * a tick behind the one issuers read, so a token issued this second would
 * briefly look issued in the future ("iat" rule, leeway 0). */
static int64_t system_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}

jg_err jg_claims_validate_ex(const jg_claims *claims, const jg_jwt_policy *policy,
                             jg_detail *detail)
{
    jg__detail_clear(detail);
    if (claims == NULL || policy == NULL || policy->leeway < 0 || policy->max_age < 0) {
        jg__detail_finish(detail, JG_ERR_INVALID_ARGUMENT);
        return JG_ERR_INVALID_ARGUMENT;
    }

    const int64_t now = policy->clock != NULL ? policy->clock(policy->clock_ctx) : system_now();
    const int64_t leeway = policy->leeway;
    int present;
    int64_t t;
    jg_detail *d = detail;

    /* RFC 7519 4.1.4: the current time MUST be before "exp". */
    jg_err err = time_claim(claims, "exp", &present, &t, d);
    if (err == JG_OK && !present && !policy->allow_missing_exp)
        err = claim_fault(JG_ERR_CLAIM_MISSING, claims, "exp",
                          "a time (a policy without allow_missing_exp requires \"exp\")", d);
    if (err == JG_OK && present && ge_sum(now, t, leeway)) {
        err = JG_ERR_EXPIRED;
        jg__detail_time(d, err, "exp", t, now, leeway, 0);
    }
    if (err != JG_OK)
        goto done;

    /* RFC 7519 4.1.5: the current time MUST be at or after "nbf". */
    err = time_claim(claims, "nbf", &present, &t, d);
    if (err == JG_OK && present && gt_sum(t, now, leeway)) {
        err = JG_ERR_NOT_YET_VALID;
        jg__detail_time(d, err, "nbf", t, now, leeway, 0);
    }
    if (err != JG_OK)
        goto done;

    int64_t iat = 0;
    int has_iat = 0;
    err = time_claim(claims, "iat", &has_iat, &iat, d);
    if (err == JG_OK && has_iat && gt_sum(iat, now, leeway)) {
        err = JG_ERR_IAT_FUTURE;
        jg__detail_time(d, err, "iat", iat, now, leeway, 0);
    }
    if (err != JG_OK)
        goto done;

    if (policy->max_age > 0) {
        if (!has_iat) {
            err = claim_fault(JG_ERR_CLAIM_MISSING, claims, "iat",
                              "a time (the policy's max_age requires \"iat\")", d);
            goto done;
        }
        /* now - iat > max_age + leeway, in unsigned arithmetic where neither
         * side can overflow: both are below 2^64 here. */
        if (now > iat) {
            uint64_t age = (uint64_t)now - (uint64_t)iat;
            if (age > (uint64_t)policy->max_age + (uint64_t)leeway) {
                err = JG_ERR_TOO_OLD;
                jg__detail_time(d, err, "iat", iat, now, leeway, policy->max_age);
                goto done;
            }
        }
    }

    if (policy->issuer != NULL &&
        (err = string_equals(claims, "iss", policy->issuer, JG_ERR_ISSUER, d)) != JG_OK)
        goto done;
    if (policy->subject != NULL &&
        (err = string_equals(claims, "sub", policy->subject, JG_ERR_SUBJECT, d)) != JG_OK)
        goto done;
    if (policy->audience != NULL && (err = check_audience(claims, policy->audience, d)) != JG_OK)
        goto done;
    if (policy->required != NULL)
        for (const char *const *name = policy->required; *name != NULL; name++)
            if (!jg_claims_has(claims, *name)) {
                err = claim_fault(JG_ERR_CLAIM_MISSING, claims, *name, NULL, d);
                goto done;
            }
    /* RFC 9068 section 4: the resource server checks the token's scopes
     * against what the resource requires (RFC 6750 "insufficient_scope"). */
    if ((!list_empty(policy->scopes_all) || !list_empty(policy->scopes_any)) &&
        (err = check_scopes(claims, policy->scopes_all, policy->scopes_any)) != JG_OK)
        scope_fault(err, claims, policy, d);
done:
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_claims_validate(const jg_claims *claims, const jg_jwt_policy *policy)
{
    return jg_claims_validate_ex(claims, policy, NULL);
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
