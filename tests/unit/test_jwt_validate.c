/* test_jwt_validate.c — jg_claims_validate (every branch and boundary) and
 * jg_typ_matches. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jwt/claims_internal.h"
#include "testutil.h"

static int64_t g_now;

static jg_jwt_policy policy_at(int64_t now)
{
    g_now = now;
    jg_jwt_policy p = {0};
    p.clock = tu_clock;
    p.clock_ctx = &g_now;
    return p;
}

static jg_claims *claims_of(const char *json)
{
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(json, strlen(json), NULL, &c));
    return c;
}

static jg_claims *time_claims(const char *name, int64_t value)
{
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    assert_jg_ok(jg_claims_set_int(c, name, value));
    return c;
}

/* Validate a claim set holding only `name` = value at `now` with `leeway`. */
static jg_err check_time(const char *name, int64_t value, int64_t now, int64_t leeway)
{
    jg_claims *c = time_claims(name, value);
    jg_jwt_policy p = policy_at(now);
    p.leeway = leeway;
    p.allow_missing_exp = 1;
    jg_err err = jg_claims_validate(c, &p);
    jg_claims_free(c);
    return err;
}

static void test_exp_boundaries(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    /* RFC 7519 4.1.4: the current time must be *before* exp. */
    assert_jg(JG_ERR_EXPIRED, check_time("exp", now, now, 0));
    assert_jg(JG_ERR_EXPIRED, check_time("exp", now - 1, now, 0));
    assert_jg_ok(check_time("exp", now + 1, now, 0));
    /* With leeway L: expired iff exp <= now - L. */
    assert_jg(JG_ERR_EXPIRED, check_time("exp", now - 60, now, 60));
    assert_jg_ok(check_time("exp", now - 59, now, 60));
    assert_jg_ok(check_time("exp", now, now, 60));
    assert_jg(JG_ERR_EXPIRED, check_time("exp", INT64_MIN, now, 60));
    /* Huge values never wrap. */
    assert_jg_ok(check_time("exp", INT64_MAX, now, 0));
    assert_jg_ok(check_time("exp", INT64_MAX, now, INT64_MAX));
    assert_jg_ok(check_time("exp", INT64_MAX, INT64_MAX - 1, 0));
    assert_jg(JG_ERR_EXPIRED, check_time("exp", INT64_MAX, INT64_MAX, 0));
    assert_jg_ok(check_time("exp", INT64_MAX - 1, INT64_MAX, 2)); /* exp + L = 2^63 > now */
    assert_jg(JG_ERR_EXPIRED, check_time("exp", INT64_MAX - 1, INT64_MAX, 1)); /* = now */
    assert_jg(JG_ERR_EXPIRED, check_time("exp", INT64_MAX - 1, INT64_MAX, 0));
    assert_jg_ok(check_time("exp", 1, INT64_MAX, INT64_MAX)); /* 1 + L = 2^63 */
    assert_jg(JG_ERR_EXPIRED, check_time("exp", 0, INT64_MAX, INT64_MAX));
    assert_jg_ok(check_time("exp", INT64_MIN, INT64_MIN, 1));
    assert_jg(JG_ERR_EXPIRED, check_time("exp", INT64_MIN, INT64_MIN, 0));
    assert_jg_ok(check_time("exp", INT64_MIN, -2, INT64_MAX)); /* exp + L = -1 */
    assert_jg(JG_ERR_EXPIRED, check_time("exp", INT64_MIN, -1, INT64_MAX));
}

static void test_exp_required(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    jg_jwt_policy p = policy_at(1000);
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p)); /* strict default */
    p.allow_missing_exp = 1;
    assert_jg_ok(jg_claims_validate(c, &p));
    /* allow_missing_exp does not excuse an expired exp. */
    assert_jg_ok(jg_claims_set_int(c, "exp", 999));
    assert_jg(JG_ERR_EXPIRED, jg_claims_validate(c, &p));
    jg_claims_free(c);
}

static void test_nbf_boundaries(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    /* RFC 7519 4.1.5: valid at or after nbf. */
    assert_jg_ok(check_time("nbf", now, now, 0));
    assert_jg_ok(check_time("nbf", now - 1, now, 0));
    assert_jg(JG_ERR_NOT_YET_VALID, check_time("nbf", now + 1, now, 0));
    assert_jg_ok(check_time("nbf", now + 30, now, 30));
    assert_jg(JG_ERR_NOT_YET_VALID, check_time("nbf", now + 31, now, 30));
    assert_jg_ok(check_time("nbf", INT64_MIN, now, 0));
    assert_jg(JG_ERR_NOT_YET_VALID, check_time("nbf", INT64_MAX, now, 0));
    assert_jg(JG_ERR_NOT_YET_VALID, check_time("nbf", INT64_MAX, now, INT64_MAX - now - 1));
    assert_jg_ok(check_time("nbf", INT64_MAX, now, INT64_MAX - now));
    /* now + leeway beyond INT64_MAX: every nbf is reached. */
    assert_jg_ok(check_time("nbf", INT64_MAX, INT64_MAX, INT64_MAX));
    assert_jg_ok(check_time("nbf", INT64_MAX, 1, INT64_MAX));
    assert_jg(JG_ERR_NOT_YET_VALID, check_time("nbf", INT64_MAX, 0, INT64_MAX - 1));
    assert_jg_ok(check_time("nbf", INT64_MIN, INT64_MIN, 0));
    assert_jg(JG_ERR_NOT_YET_VALID, check_time("nbf", INT64_MIN + 1, INT64_MIN, 0));
}

static void test_iat_boundaries(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    assert_jg_ok(check_time("iat", now, now, 0));
    assert_jg_ok(check_time("iat", 0, now, 0));
    assert_jg(JG_ERR_IAT_FUTURE, check_time("iat", now + 1, now, 0));
    assert_jg_ok(check_time("iat", now + 5, now, 5));
    assert_jg(JG_ERR_IAT_FUTURE, check_time("iat", now + 6, now, 5));
    assert_jg(JG_ERR_IAT_FUTURE, check_time("iat", INT64_MAX, now, 0));
    assert_jg_ok(check_time("iat", INT64_MAX, INT64_MAX, 0));
    assert_jg_ok(check_time("iat", INT64_MAX, 1, INT64_MAX));
    assert_jg(JG_ERR_IAT_FUTURE, check_time("iat", INT64_MAX, -1, INT64_MAX));
}

static jg_err check_age(int64_t iat, int64_t now, int64_t max_age, int64_t leeway)
{
    jg_claims *c = time_claims("iat", iat);
    jg_jwt_policy p = policy_at(now);
    p.allow_missing_exp = 1;
    p.max_age = max_age;
    p.leeway = leeway;
    jg_err err = jg_claims_validate(c, &p);
    jg_claims_free(c);
    return err;
}

static void test_max_age(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    assert_jg_ok(check_age(now, now, 300, 0));
    assert_jg_ok(check_age(now - 300, now, 300, 0));
    assert_jg(JG_ERR_TOO_OLD, check_age(now - 301, now, 300, 0));
    assert_jg_ok(check_age(now - 310, now, 300, 10));
    assert_jg(JG_ERR_TOO_OLD, check_age(now - 311, now, 300, 10));
    assert_jg(JG_ERR_TOO_OLD, check_age(INT64_MIN, now, 300, 0));
    /* Extremes: age 2^64-1 against max_age + leeway = 2^64-2, and one less. */
    assert_jg(JG_ERR_TOO_OLD, check_age(INT64_MIN, INT64_MAX, INT64_MAX, INT64_MAX));
    assert_jg_ok(check_age(INT64_MIN + 1, INT64_MAX, INT64_MAX, INT64_MAX));
    assert_jg(JG_ERR_TOO_OLD, check_age(INT64_MIN + 1, INT64_MAX, INT64_MAX, INT64_MAX - 1));
    assert_jg(JG_ERR_TOO_OLD, check_age(INT64_MIN, 0, INT64_MAX - 1, 0)); /* age 2^63 */
    assert_jg_ok(check_age(INT64_MIN, 0, INT64_MAX, 1));
    /* A future iat is IAT_FUTURE before any age check. */
    assert_jg(JG_ERR_IAT_FUTURE, check_age(now + 1, now, 300, 0));
    /* max_age 0 means no limit; max_age needs iat. */
    assert_jg_ok(check_age(INT64_MIN, now, 0, 0));
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    jg_jwt_policy p = policy_at(now);
    p.allow_missing_exp = 1;
    p.max_age = 300;
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p));
    p.max_age = -1;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_validate(c, &p));
    jg_claims_free(c);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    jg_claims *c = time_claims("exp", 2000);
    jg_jwt_policy p = policy_at(1000);
    assert_jg_ok(jg_claims_validate(c, &p));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_validate(NULL, &p));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_validate(c, NULL));
    p.leeway = -1;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_validate(c, &p));
    p.leeway = INT64_MIN;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_validate(c, &p));
    jg_claims_free(c);
}

/* The system clock when policy->clock is NULL. */
static void test_system_clock(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    jg_jwt_policy p = {0};
    jg_claims *c = time_claims("exp", now + 3600);
    assert_jg_ok(jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_int(c, "exp", now - 3600));
    assert_jg(JG_ERR_EXPIRED, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_int(c, "exp", now + 3600));
    assert_jg_ok(jg_claims_set_int(c, "nbf", now + 3600));
    assert_jg(JG_ERR_NOT_YET_VALID, jg_claims_validate(c, &p));
    jg_claims_free(c);
}

static void test_issuer_subject(void **state)
{
    (void)state;
    jg_claims *c = claims_of("{\"exp\":2000,\"iss\":\"https://issuer.example\",\"sub\":\"u1\"}");
    jg_jwt_policy p = policy_at(1000);
    p.issuer = "https://issuer.example";
    p.subject = "u1";
    assert_jg_ok(jg_claims_validate(c, &p));
    static const char *const wrong_iss[] = {"https://issuer.example/", "https://issuer.exampl",
                                            "HTTPS://ISSUER.EXAMPLE", "",
                                            "https://issuer.example "};
    for (size_t i = 0; i < sizeof wrong_iss / sizeof wrong_iss[0]; i++) {
        p.issuer = wrong_iss[i];
        assert_jg(JG_ERR_ISSUER, jg_claims_validate(c, &p));
    }
    p.issuer = "https://issuer.example";
    static const char *const wrong_sub[] = {"u", "u10", "U1", ""};
    for (size_t i = 0; i < sizeof wrong_sub / sizeof wrong_sub[0]; i++) {
        p.subject = wrong_sub[i];
        assert_jg(JG_ERR_SUBJECT, jg_claims_validate(c, &p));
    }
    p.subject = "u1";
    assert_jg_ok(jg_claims_remove(c, "sub"));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p));
    p.subject = NULL;
    assert_jg_ok(jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_remove(c, "iss"));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p));
    p.issuer = NULL;
    assert_jg_ok(jg_claims_validate(c, &p));
    /* An empty expected issuer matches only an empty "iss". */
    p.issuer = "";
    assert_jg_ok(jg_claims_set_string(c, "iss", ""));
    assert_jg_ok(jg_claims_validate(c, &p));
    jg_claims_free(c);
}

static void test_audience(void **state)
{
    (void)state;
    jg_jwt_policy p = policy_at(1000);
    p.audience = "api";
    jg_claims *c = claims_of("{\"exp\":2000,\"aud\":\"api\"}");
    assert_jg_ok(jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_string(c, "aud", "api2"));
    assert_jg(JG_ERR_AUDIENCE, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_string(c, "aud", "ap"));
    assert_jg(JG_ERR_AUDIENCE, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_string(c, "aud", "API"));
    assert_jg(JG_ERR_AUDIENCE, jg_claims_validate(c, &p));
    const char *arr[] = {"other", "api", "more"};
    assert_jg_ok(jg_claims_set_aud(c, arr, 3));
    assert_jg_ok(jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_aud(c, arr + 2, 1));
    assert_jg(JG_ERR_AUDIENCE, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_aud(c, arr + 1, 1));
    assert_jg_ok(jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_json(c, "aud", "[\"x\",\"y\",\"apix\",\"\"]"));
    assert_jg(JG_ERR_AUDIENCE, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_remove(c, "aud"));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p));
    p.audience = NULL;
    assert_jg_ok(jg_claims_validate(c, &p));
    jg_claims_free(c);
}

static void test_required(void **state)
{
    (void)state;
    jg_claims *c = claims_of("{\"exp\":2000,\"scope\":\"read\",\"client_id\":\"c\",\"n\":null}");
    jg_jwt_policy p = policy_at(1000);
    const char *const none[] = {NULL};
    const char *const present[] = {"scope", "client_id", "n", "exp", NULL};
    const char *const absent[] = {"scope", "jti", NULL};
    p.required = none;
    assert_jg_ok(jg_claims_validate(c, &p));
    p.required = present;
    assert_jg_ok(jg_claims_validate(c, &p)); /* null is present */
    p.required = absent;
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p));
    jg_claims_free(c);
}

/* The order is exp, nbf, iat, max_age, iss, sub, aud, required. */
static void test_order(void **state)
{
    (void)state;
    jg_claims *c = claims_of("{\"exp\":100,\"nbf\":5000,\"iat\":6000,\"iss\":\"bad\","
                             "\"sub\":\"bad\",\"aud\":\"bad\"}");
    const char *const req[] = {"missing", NULL};
    jg_jwt_policy p = policy_at(1000);
    p.issuer = "good";
    p.subject = "good";
    p.audience = "good";
    p.required = req;
    p.max_age = 10;
    assert_jg(JG_ERR_EXPIRED, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_int(c, "exp", 9000));
    assert_jg(JG_ERR_NOT_YET_VALID, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_int(c, "nbf", 1000));
    assert_jg(JG_ERR_IAT_FUTURE, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_int(c, "iat", 0));
    assert_jg(JG_ERR_TOO_OLD, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_int(c, "iat", 995));
    assert_jg(JG_ERR_ISSUER, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_string(c, "iss", "good"));
    assert_jg(JG_ERR_SUBJECT, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_string(c, "sub", "good"));
    assert_jg(JG_ERR_AUDIENCE, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_string(c, "aud", "good"));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p));
    assert_jg_ok(jg_claims_set_bool(c, "missing", 0));
    assert_jg_ok(jg_claims_validate(c, &p));
    jg_claims_free(c);
}

/*
 * The claims object keeps registered claims well typed, so validation's own
 * type checks are a second line; reach them by corrupting the object.
 */
static void test_defensive_types(void **state)
{
    (void)state;
    static const struct {
        const char *name, *json;
    } bad[] = {
        {"exp", "\"2000\""}, {"exp", "1.5"}, {"nbf", "true"},         {"iat", "[1]"}, {"iss", "1"},
        {"sub", "{}"},       {"aud", "[]"},  {"aud", "[\"good\",1]"}, {"aud", "7"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Built, not parsed: parsed claims are read from their own flat
         * form, so breaking the invariant needs the jansson-held kind. */
        jg_claims *c = NULL;
        assert_jg_ok(jg_claims_new(&c));
        assert_jg_ok(jg_claims_merge_json(c, "{\"exp\":2000,\"iss\":\"good\",\"sub\":\"good\","
                                             "\"aud\":\"good\",\"iat\":900}"));
        json_t *obj = (json_t *)(uintptr_t)jg__claims_object(c);
        json_t *v = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_int_equal(json_object_set_new(obj, bad[i].name, v), 0);
        assert_jg(JG_ERR_CLAIM_TYPE, jg__claim_type_check(bad[i].name, v));
        jg_jwt_policy p = policy_at(1000);
        p.issuer = "good";
        p.subject = "good";
        p.audience = "good";
        jg_err got = jg_claims_validate(c, &p);
        if (got != JG_ERR_CLAIM_TYPE)
            fail_msg("%s=%s: got %s", bad[i].name, bad[i].json, jg_err_name(got));
        jg_claims_free(c);
    }
}

/* RFC 7519 section 3.1: exp 1300819380 — valid just before, expired at it. */
static void test_rfc7519_example(void **state)
{
    (void)state;
    jg_claims *c = claims_of("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n"
                             " \"http://example.com/is_root\":true}");
    jg_jwt_policy p = policy_at(1300819379);
    p.issuer = "joe";
    assert_jg_ok(jg_claims_validate(c, &p));
    g_now = 1300819380;
    assert_jg(JG_ERR_EXPIRED, jg_claims_validate(c, &p));
    p.leeway = 1;
    assert_jg_ok(jg_claims_validate(c, &p));
    jg_claims_free(c);
    tu_count("rfc7519");
}

/* RFC 9068 section 2.2 access-token claims against a resource server policy. */
static void test_rfc9068_access_token(void **state)
{
    (void)state;
    jg_claims *c =
        claims_of("{\"iss\":\"https://authorization-server.example.com/\","
                  "\"sub\":\"5ba552d67\",\"aud\":\"https://rs.example.com/\","
                  "\"exp\":1639528912,\"iat\":1618354090,"
                  "\"jti\":\"dbe39bf3a3ba4238a513f51d6e1691c4\","
                  "\"client_id\":\"s6BhdRkqt3\",\"scope\":\"openid profile reademail\"}");
    const char *const req[] = {"iss", "exp", "aud", "sub", "client_id", "iat", "jti", NULL};
    jg_jwt_policy p = policy_at(1618354090 + 60);
    p.issuer = "https://authorization-server.example.com/";
    p.audience = "https://rs.example.com/";
    p.required = req;
    assert_jg_ok(jg_claims_validate(c, &p));
    p.max_age = 3600;
    assert_jg_ok(jg_claims_validate(c, &p));
    g_now = 1618354090 + 3601;
    assert_jg(JG_ERR_TOO_OLD, jg_claims_validate(c, &p));
    p.max_age = 0;
    g_now = 1639528912;
    assert_jg(JG_ERR_EXPIRED, jg_claims_validate(c, &p));
    g_now = 1618354090 - 1;
    assert_jg(JG_ERR_IAT_FUTURE, jg_claims_validate(c, &p));
    g_now = 1618354090 + 60;
    p.audience = "https://other-rs.example.com/";
    assert_jg(JG_ERR_AUDIENCE, jg_claims_validate(c, &p));
    jg_claims_free(c);
    tu_count("rfc9068");
}

static void test_typ_matches(void **state)
{
    (void)state;
    static const struct {
        const char *typ, *expected;
        int match;
    } table[] = {
        {"JWT", "JWT", 1},
        {"jwt", "JWT", 1},
        {"JWT", "jwt", 1},
        {"at+jwt", "at+jwt", 1},
        {"AT+JWT", "at+jwt", 1},
        {"application/at+jwt", "at+jwt", 1},
        {"at+jwt", "application/at+jwt", 1},
        {"Application/AT+JWT", "at+jwt", 1},
        {"application/at+jwt", "APPLICATION/at+JWT", 1},
        {"jwt", "application/jwt", 1},
        {"secevent+jwt", "application/secevent+jwt", 1},
        {"text/plain", "TEXT/Plain", 1},
        {"jwt", "at+jwt", 0},
        {"at+jwt", "jwt", 0},
        {"application/jwt", "at+jwt", 0},
        {"at+jwt", "application/jwt", 0},
        {"text/at+jwt", "at+jwt", 0},
        {"at+jwt", "text/at+jwt", 0},
        {"applicationat+jwt", "at+jwt", 0},
        {"application/", "", 0},
        {"application/", "application/", 1},
        {"", "", 0},
        {"", "JWT", 0},
        {"JWT", "", 0},
        {"application//jwt", "/jwt", 0},
        {"application/application/jwt", "application/jwt", 0},
        {"application/x/y", "x/y", 0},
        {"at+jwt ", "at+jwt", 0},
        {"at+jw", "at+jwt", 0},
        {"at+jwtx", "at+jwt", 0},
        {"application/at+jw", "at+jwt", 0},
        {"xpplication/at+jwt", "at+jwt", 0},
        {"\xc3\xa9", "\xc3\x89", 0}, /* only ASCII folds */
        {"JWT", NULL, 0},
        {NULL, "JWT", 0},
        {NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int got = jg_typ_matches(table[i].typ, table[i].expected);
        if (got != table[i].match)
            fail_msg("typ \"%s\" vs \"%s\": expected %d", table[i].typ ? table[i].typ : "(null)",
                     table[i].expected ? table[i].expected : "(null)", table[i].match);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_boundaries),  cmocka_unit_test(test_exp_required),
        cmocka_unit_test(test_nbf_boundaries),  cmocka_unit_test(test_iat_boundaries),
        cmocka_unit_test(test_max_age),         cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_system_clock),    cmocka_unit_test(test_issuer_subject),
        cmocka_unit_test(test_audience),        cmocka_unit_test(test_required),
        cmocka_unit_test(test_order),           cmocka_unit_test(test_defensive_types),
        cmocka_unit_test(test_rfc7519_example), cmocka_unit_test(test_rfc9068_access_token),
        cmocka_unit_test(test_typ_matches),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_jwt_validate");
    return rc;
}
