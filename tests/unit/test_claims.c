/* test_claims.c — the jg_claims object: parse, setters, accessors, output. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "testutil.h"

static jg_claims *parse_ok(const char *json)
{
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(json, strlen(json), NULL, &c));
    assert_non_null(c);
    return c;
}

static void assert_parse(jg_err expected, const char *json)
{
    jg_claims *c = NULL;
    jg_err got = jg_claims_parse(json, strlen(json), NULL, &c);
    if (got != expected)
        fail_msg("parse %s: expected %s, got %s", json, jg_err_name(expected), jg_err_name(got));
    if (expected != JG_OK)
        assert_null(c); /* *out untouched on failure */
    jg_claims_free(c);
}

/* {"a":[[...]]} nested `depth` levels in all. */
static const char *nested_object(char *buf, size_t size, int depth)
{
    size_t n = 0;
    assert_true(size > (size_t)depth * 2 + 8);
    memcpy(buf, "{\"a\":", 5);
    n = 5;
    for (int i = 1; i < depth; i++)
        buf[n++] = '[';
    for (int i = 1; i < depth; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    buf[n] = '\0';
    return buf;
}

static void assert_json(const jg_claims *c, unsigned flags, const char *expected)
{
    char *text = NULL;
    assert_jg_ok(jg_claims_to_json(c, flags, &text));
    assert_string_equal(text, expected);
    jg_free(text);
}

/* RFC 7519 section 3.1: the example claims, with their CRLFs. */
static void test_parse_rfc7519_example(void **state)
{
    (void)state;
    static const char json[] = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n"
                               " \"http://example.com/is_root\":true}";
    jg_claims *c = parse_ok(json);
    const char *s = NULL;
    int64_t exp = 0;
    int b = 0;
    assert_jg_ok(jg_claims_get_string(c, "iss", &s));
    assert_string_equal(s, "joe");
    assert_jg_ok(jg_claims_get_int(c, "exp", &exp));
    assert_int_equal(exp, 1300819380);
    assert_jg_ok(jg_claims_get_bool(c, "http://example.com/is_root", &b));
    assert_int_equal(b, 1);
    assert_int_equal(jg_claims_count(c), 3);
    /* Names come back in document order. */
    assert_string_equal(jg_claims_name_at(c, 0), "iss");
    assert_string_equal(jg_claims_name_at(c, 1), "exp");
    assert_string_equal(jg_claims_name_at(c, 2), "http://example.com/is_root");
    assert_null(jg_claims_name_at(c, 3));
    assert_json(c, 0, "{\"exp\":1300819380,\"http://example.com/is_root\":true,\"iss\":\"joe\"}");
    jg_claims_free(c);
    tu_count("rfc7519");
}

/* RFC 9068 section 2.2 style access-token claims. */
static void test_parse_rfc9068_claims(void **state)
{
    (void)state;
    jg_claims *c = parse_ok("{\"iss\":\"https://authorization-server.example.com/\","
                            "\"sub\":\"5ba552d67\",\"aud\":\"https://rs.example.com/\","
                            "\"exp\":1639528912,\"iat\":1618354090,"
                            "\"jti\":\"dbe39bf3a3ba4238a513f51d6e1691c4\","
                            "\"client_id\":\"s6BhdRkqt3\",\"scope\":\"openid profile reademail\"}");
    const char *s;
    int64_t v;
    assert_jg_ok(jg_claims_get_string(c, "client_id", &s));
    assert_string_equal(s, "s6BhdRkqt3");
    assert_jg_ok(jg_claims_get_string(c, "scope", &s));
    assert_string_equal(s, "openid profile reademail");
    assert_jg_ok(jg_claims_get_int(c, "iat", &v));
    assert_int_equal(v, 1618354090);
    assert_int_equal(jg_claims_aud_count(c), 1);
    assert_string_equal(jg_claims_aud_at(c, 0), "https://rs.example.com/");
    assert_null(jg_claims_aud_at(c, 1));
    assert_int_equal(jg_claims_count(c), 8);
    jg_claims_free(c);
    tu_count("rfc9068");
}

static void test_parse_errors(void **state)
{
    (void)state;
    assert_parse(JG_OK, "{}");
    assert_parse(JG_ERR_JSON_SYNTAX, "");
    assert_parse(JG_ERR_JSON_SYNTAX, "{");
    assert_parse(JG_ERR_JSON_SYNTAX, "{\"a\":1,}");
    assert_parse(JG_ERR_JSON_SYNTAX, "{\"a\":1} x");
    assert_parse(JG_ERR_JSON_SYNTAX, "{\"a\":\"\xff\"}");               /* not UTF-8 */
    assert_parse(JG_ERR_JSON_SYNTAX, "{\"a\":\"x\\u0000y\"}");          /* NUL in a string */
    assert_parse(JG_ERR_JSON_SYNTAX, "{\"a\\u0000b\":1}");              /* NUL in a name */
    assert_parse(JG_ERR_JSON_SYNTAX, "{\"exp\":99999999999999999999}"); /* beyond jansson */
    assert_parse(JG_ERR_JSON_DUPLICATE, "{\"a\":1,\"a\":2}");
    assert_parse(JG_ERR_JSON_DUPLICATE, "{\"exp\":1,\"exp\":1}");
    assert_parse(JG_ERR_JSON_DUPLICATE, "{\"o\":{\"x\":1,\"x\":1}}");
    /* Valid JSON that is not an object. */
    assert_parse(JG_ERR_CLAIMS_INVALID, "[]");
    assert_parse(JG_ERR_CLAIMS_INVALID, "[{\"iss\":\"x\"}]");
    assert_parse(JG_ERR_CLAIMS_INVALID, "\"claims\"");
    assert_parse(JG_ERR_CLAIMS_INVALID, "42");
    assert_parse(JG_ERR_CLAIMS_INVALID, "null");
    assert_parse(JG_ERR_CLAIMS_INVALID, "true");

    /* Depth: 32 levels pass by default, 33 do not. */
    char deep[128];
    assert_parse(JG_OK, nested_object(deep, sizeof deep, 32));
    assert_parse(JG_ERR_LIMIT_JSON_DEPTH, nested_object(deep, sizeof deep, 33));

    /* Caller limits: depth and size (max_payload_len). */
    jg_limits lim = jg_limits_default();
    jg_claims *c = NULL;
    lim.max_json_depth = 2;
    assert_jg_ok(jg_claims_parse("{\"a\":{}}", 8, &lim, &c));
    jg_claims_free(c);
    c = NULL;
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg_claims_parse("{\"a\":{\"b\":[]}}", 14, &lim, &c));
    lim = jg_limits_default();
    lim.max_payload_len = 10;
    assert_jg_ok(jg_claims_parse("{\"a\":1234}", 10, &lim, &c));
    jg_claims_free(c);
    c = NULL;
    assert_jg(JG_ERR_LIMIT_JSON_SIZE, jg_claims_parse("{\"a\":12345}", 11, &lim, &c));
    assert_null(c);
    /* Only `len` bytes are read: the text need not be NUL-terminated. */
    assert_jg_ok(jg_claims_parse("{\"a\":1}garbage", 7, NULL, &c));
    jg_claims_free(c);

    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_parse(NULL, 0, NULL, &c));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_parse("{}", 2, NULL, NULL));
}

/* Each registered claim, each wrong type, on parse. */
static void test_parse_registered_types(void **state)
{
    (void)state;
    static const char *const strings[] = {"iss", "sub", "jti"};
    static const char *const times[] = {"exp", "nbf", "iat"};
    char buf[128];
    for (size_t i = 0; i < 3; i++) {
        static const char *const bad[] = {"1", "true", "null", "[\"a\"]", "{}", "1.5"};
        snprintf(buf, sizeof buf, "{\"%s\":\"ok\"}", strings[i]);
        assert_parse(JG_OK, buf);
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            snprintf(buf, sizeof buf, "{\"%s\":%s}", strings[i], bad[j]);
            assert_parse(JG_ERR_CLAIM_TYPE, buf);
        }
    }
    for (size_t i = 0; i < 3; i++) {
        static const char *const good[] = {"0",
                                           "-1",
                                           "1300819380",
                                           "1300819380.0",
                                           "1e3",
                                           "9223372036854775807",
                                           "-9223372036854775808",
                                           "-9.223372036854775808e18"};
        static const char *const bad[] = {"\"1300819380\"",
                                          "true",
                                          "null",
                                          "[1]",
                                          "{}",
                                          "1300819380.5",
                                          "0.1",
                                          "-0.5",
                                          "1e300",
                                          "9.3e18",
                                          "-9.3e18",
                                          "9.223372036854775808e18"};
        for (size_t j = 0; j < sizeof good / sizeof good[0]; j++) {
            snprintf(buf, sizeof buf, "{\"%s\":%s}", times[i], good[j]);
            assert_parse(JG_OK, buf);
        }
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            snprintf(buf, sizeof buf, "{\"%s\":%s}", times[i], bad[j]);
            assert_parse(JG_ERR_CLAIM_TYPE, buf);
        }
    }
    assert_parse(JG_OK, "{\"aud\":\"a\"}");
    assert_parse(JG_OK, "{\"aud\":[\"a\"]}");
    assert_parse(JG_OK, "{\"aud\":[\"a\",\"b\",\"a\"]}");
    assert_parse(JG_ERR_CLAIM_TYPE, "{\"aud\":[]}");
    assert_parse(JG_ERR_CLAIM_TYPE, "{\"aud\":[\"a\",1]}");
    assert_parse(JG_ERR_CLAIM_TYPE, "{\"aud\":[[\"a\"]]}");
    assert_parse(JG_ERR_CLAIM_TYPE, "{\"aud\":[null]}");
    assert_parse(JG_ERR_CLAIM_TYPE, "{\"aud\":1}");
    assert_parse(JG_ERR_CLAIM_TYPE, "{\"aud\":{}}");
    assert_parse(JG_ERR_CLAIM_TYPE, "{\"aud\":null}");
    /* Unregistered names take any type; registered names are case-sensitive. */
    assert_parse(JG_OK, "{\"EXP\":\"x\",\"Iss\":1,\"expx\":1.5,\"ex\":[],\"\":null}");

    /* Exact values of integral reals and the int64 edges. */
    jg_claims *c = parse_ok("{\"exp\":1e3,\"nbf\":-9223372036854775808,"
                            "\"iat\":9223372036854775807}");
    int64_t v;
    assert_jg_ok(jg_claims_get_int(c, "exp", &v));
    assert_int_equal(v, 1000);
    assert_jg_ok(jg_claims_get_int(c, "nbf", &v));
    assert_true(v == INT64_MIN);
    assert_jg_ok(jg_claims_get_int(c, "iat", &v));
    assert_true(v == INT64_MAX);
    jg_claims_free(c);
}

static void test_setters_and_accessors(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    assert_int_equal(jg_claims_count(c), 0);
    assert_null(jg_claims_name_at(c, 0));
    assert_int_equal(jg_claims_aud_count(c), 0);
    assert_null(jg_claims_aud_at(c, 0));
    assert_json(c, 0, "{}");

    assert_jg_ok(jg_claims_set_string(c, "iss", "https://issuer.example"));
    assert_jg_ok(jg_claims_set_string(c, "sub", "user-1"));
    assert_jg_ok(jg_claims_set_string(c, "jti", "id-\xe2\x82\xac")); /* euro sign */
    assert_jg_ok(jg_claims_set_string(c, "aud", "api"));
    assert_jg_ok(jg_claims_set_int(c, "exp", 2000000000));
    assert_jg_ok(jg_claims_set_int(c, "nbf", INT64_MIN));
    assert_jg_ok(jg_claims_set_int(c, "iat", INT64_MAX));
    assert_jg_ok(jg_claims_set_bool(c, "admin", 1));
    assert_jg_ok(jg_claims_set_bool(c, "guest", 0));
    assert_jg_ok(jg_claims_set_bool(c, "odd", 42)); /* any non-zero is true */
    assert_jg_ok(jg_claims_set_json(c, "obj", "{\"b\":[1,2],\"a\":null}"));
    assert_jg_ok(jg_claims_set_json(c, "n", "3"));
    assert_jg_ok(jg_claims_set_json(c, "r", "2.5"));
    assert_jg_ok(jg_claims_set_json(c, "\xf0\x9d\x84\x9e", "\"clef\"")); /* U+1D11E name */
    assert_int_equal(jg_claims_count(c), 14);

    const char *s = NULL;
    int64_t v = 0;
    int b = -1;
    char *j = NULL;
    assert_jg_ok(jg_claims_get_string(c, "iss", &s));
    assert_string_equal(s, "https://issuer.example");
    assert_jg_ok(jg_claims_get_string(c, "jti", &s));
    assert_string_equal(s, "id-\xe2\x82\xac");
    assert_jg_ok(jg_claims_get_string(c, "\xf0\x9d\x84\x9e", &s));
    assert_string_equal(s, "clef");
    assert_jg_ok(jg_claims_get_int(c, "exp", &v));
    assert_int_equal(v, 2000000000);
    assert_jg_ok(jg_claims_get_int(c, "nbf", &v));
    assert_true(v == INT64_MIN);
    assert_jg_ok(jg_claims_get_int(c, "iat", &v));
    assert_true(v == INT64_MAX);
    assert_jg_ok(jg_claims_get_int(c, "n", &v));
    assert_int_equal(v, 3);
    assert_jg_ok(jg_claims_get_bool(c, "admin", &b));
    assert_int_equal(b, 1);
    assert_jg_ok(jg_claims_get_bool(c, "guest", &b));
    assert_int_equal(b, 0);
    assert_jg_ok(jg_claims_get_bool(c, "odd", &b));
    assert_int_equal(b, 1);
    assert_jg_ok(jg_claims_get_json(c, "obj", &j));
    assert_string_equal(j, "{\"a\":null,\"b\":[1,2]}"); /* compact, sorted */
    jg_free(j);
    assert_jg_ok(jg_claims_get_json(c, "iss", &j));
    assert_string_equal(j, "\"https://issuer.example\"");
    jg_free(j);
    assert_jg_ok(jg_claims_get_json(c, "exp", &j));
    assert_string_equal(j, "2000000000");
    jg_free(j);
    assert_int_equal(jg_claims_aud_count(c), 1);
    assert_string_equal(jg_claims_aud_at(c, 0), "api");
    assert_true(jg_claims_has(c, "obj"));
    assert_false(jg_claims_has(c, "missing"));
    assert_false(jg_claims_has(c, NULL));
    assert_false(jg_claims_has(NULL, "iss"));

    /* Replace keeps one member and takes the new value. */
    assert_jg_ok(jg_claims_set_string(c, "iss", "other"));
    assert_jg_ok(jg_claims_get_string(c, "iss", &s));
    assert_string_equal(s, "other");
    assert_jg_ok(jg_claims_set_int(c, "admin", 7)); /* any type for custom names */
    assert_jg_ok(jg_claims_get_int(c, "admin", &v));
    assert_int_equal(v, 7);
    assert_int_equal(jg_claims_count(c), 14);

    /* Missing and wrong types on every accessor. */
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_get_string(c, "nope", &s));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_get_int(c, "nope", &v));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_get_bool(c, "nope", &b));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_get_json(c, "nope", &j));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_string(c, "exp", &s));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_string(c, "obj", &s));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "iss", &v));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "r", &v)); /* 2.5 */
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "guest", &v));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_bool(c, "n", &b));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_bool(c, "iss", &b));
    /* A failed get leaves the output alone. */
    v = 99;
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "r", &v));
    assert_int_equal(v, 99);

    /* Remove. */
    assert_jg_ok(jg_claims_remove(c, "obj"));
    assert_false(jg_claims_has(c, "obj"));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_remove(c, "obj"));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_remove(c, "never"));
    assert_int_equal(jg_claims_count(c), 13);
    jg_claims_free(c);
    jg_claims_free(NULL);
}

static void test_get_int_integral_rule(void **state)
{
    (void)state;
    jg_claims *c = parse_ok("{\"a\":4.0,\"b\":-0.0,\"c\":4.5,\"d\":9223372036854775807,"
                            "\"e\":9.223372036854775807e18,\"f\":-9.223372036854775808e18,"
                            "\"g\":1e19,\"h\":\"4\",\"i\":null,\"j\":[4]}");
    int64_t v;
    assert_jg_ok(jg_claims_get_int(c, "a", &v));
    assert_int_equal(v, 4);
    assert_jg_ok(jg_claims_get_int(c, "b", &v));
    assert_int_equal(v, 0);
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "c", &v));
    assert_jg_ok(jg_claims_get_int(c, "d", &v));
    assert_true(v == INT64_MAX);
    /* 9.223372036854775807e18 rounds to 2^63 as a double: out of range. */
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "e", &v));
    assert_jg_ok(jg_claims_get_int(c, "f", &v));
    assert_true(v == INT64_MIN);
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "g", &v));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "h", &v));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "i", &v));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "j", &v));
    jg_claims_free(c);
}

static void test_setters_registered_types(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    static const char *const strings[] = {"iss", "sub", "jti"};
    static const char *const times[] = {"exp", "nbf", "iat"};
    for (size_t i = 0; i < 3; i++) {
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_int(c, strings[i], 1));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_bool(c, strings[i], 1));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, strings[i], "1"));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, strings[i], "[\"x\"]"));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, strings[i], "null"));
        assert_jg_ok(jg_claims_set_json(c, strings[i], "\"x\""));

        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_string(c, times[i], "1300819380"));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_bool(c, times[i], 0));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, times[i], "1.5"));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, times[i], "1e300"));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, times[i], "\"1\""));
        assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, times[i], "{}"));
        assert_jg_ok(jg_claims_set_json(c, times[i], "2e9"));
        int64_t v;
        assert_jg_ok(jg_claims_get_int(c, times[i], &v));
        assert_int_equal(v, 2000000000);
    }
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_int(c, "aud", 1));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_bool(c, "aud", 1));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, "aud", "[]"));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, "aud", "[\"a\",2]"));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_set_json(c, "aud", "{\"a\":1}"));
    assert_jg_ok(jg_claims_set_json(c, "aud", "[\"a\",\"b\"]"));
    assert_int_equal(jg_claims_aud_count(c), 2);
    assert_string_equal(jg_claims_aud_at(c, 1), "b");
    assert_null(jg_claims_aud_at(c, 2));

    /* A refused set leaves the previous value. */
    const char *s;
    assert_jg_ok(jg_claims_get_string(c, "iss", &s));
    assert_string_equal(s, "x");
    assert_int_equal(jg_claims_count(c), 7);
    jg_claims_free(c);
}

static void test_set_aud(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    const char *one[] = {"https://rs.example.com/"};
    assert_jg_ok(jg_claims_set_aud(c, one, 1));
    assert_json(c, 0, "{\"aud\":[\"https://rs.example.com/\"]}"); /* still an array */
    assert_int_equal(jg_claims_aud_count(c), 1);
    const char *three[] = {"a", "b", "c"};
    assert_jg_ok(jg_claims_set_aud(c, three, 3));
    assert_int_equal(jg_claims_aud_count(c), 3);
    assert_string_equal(jg_claims_aud_at(c, 0), "a");
    assert_string_equal(jg_claims_aud_at(c, 2), "c");
    assert_null(jg_claims_aud_at(c, 3));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_aud(c, three, 0));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_aud(c, NULL, 1));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_aud(NULL, three, 3));
    const char *with_null[] = {"a", NULL};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_aud(c, with_null, 2));
    const char *bad_utf8[] = {"a", "\xc3"};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_aud(c, bad_utf8, 2));
    assert_int_equal(jg_claims_aud_count(c), 3); /* unchanged */
    /* A string aud counts as one. */
    assert_jg_ok(jg_claims_set_string(c, "aud", "solo"));
    assert_int_equal(jg_claims_aud_count(c), 1);
    assert_string_equal(jg_claims_aud_at(c, 0), "solo");
    assert_null(jg_claims_aud_at(c, 1));
    jg_claims_free(c);
}

static void test_utf8_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\x80",             /* lone continuation */
        "\xc3",             /* truncated 2-byte */
        "\xe2\x82",         /* truncated 3-byte */
        "\xf0\x9d\x84",     /* truncated 4-byte */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xf0\x80\x80\xaf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* UTF-16 surrogate D800 */
        "\xed\xbf\xbf",     /* surrogate DFFF */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80", /* above U+10FFFF */
        "a\xe2\x28\xa1",    /* bad continuation */
    };
    static const char *const good[] = {
        "plain",        "\xc2\x80",     "\xdf\xbf",         "\xe0\xa0\x80",     "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", ""};
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_string(c, "name", bad[i]));
        assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_string(c, bad[i], "value"));
        assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_int(c, bad[i], 1));
        assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_bool(c, bad[i], 1));
        assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_json(c, bad[i], "1"));
    }
    assert_int_equal(jg_claims_count(c), 0);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *s;
        assert_jg_ok(jg_claims_set_string(c, "name", good[i]));
        assert_jg_ok(jg_claims_get_string(c, "name", &s));
        assert_string_equal(s, good[i]);
        assert_jg_ok(jg_claims_set_int(c, good[i], 1));
    }
    /* Invalid UTF-8 inside JSON text is a JSON syntax error. */
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_set_json(c, "x", "\"\xed\xa0\x80\""));
    jg_claims_free(c);
}

static void test_set_json_and_merge_errors(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_set_json(c, "x", ""));
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_set_json(c, "x", "[1,"));
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_set_json(c, "x", "nul"));
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_set_json(c, "x", "1 2"));
    assert_jg(JG_ERR_JSON_DUPLICATE, jg_claims_set_json(c, "x", "{\"k\":1,\"k\":1}"));
    char deep[80], ok[80];
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = '\0';
    memset(ok, '[', 32);
    memset(ok + 32, ']', 32);
    ok[64] = '\0';
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg_claims_set_json(c, "x", deep));
    assert_jg_ok(jg_claims_set_json(c, "x", ok)); /* 32 levels */
    assert_int_equal(jg_claims_count(c), 1);

    /* Merge replaces and adds, keeps the rest. */
    assert_jg_ok(jg_claims_set_string(c, "iss", "a"));
    assert_jg_ok(jg_claims_merge_json(c, "{\"iss\":\"b\",\"exp\":5,\"scope\":\"read\"}"));
    assert_json(c, 0,
                "{\"exp\":5,\"iss\":\"b\",\"scope\":\"read\",\"x\":[[[[[[[[[[[[[[[[[[[[[["
                "[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}");
    assert_jg_ok(jg_claims_merge_json(c, "{}"));
    assert_int_equal(jg_claims_count(c), 4);
    /* Refused merges change nothing. */
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_merge_json(c, "{\"new\":1,\"exp\":\"soon\"}"));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_merge_json(c, "{\"aud\":[]}"));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_merge_json(c, "{\"iat\":0.5}"));
    assert_jg(JG_ERR_CLAIMS_INVALID, jg_claims_merge_json(c, "[{\"new\":1}]"));
    assert_jg(JG_ERR_CLAIMS_INVALID, jg_claims_merge_json(c, "\"s\""));
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_merge_json(c, "{\"new\":}"));
    assert_jg(JG_ERR_JSON_DUPLICATE, jg_claims_merge_json(c, "{\"new\":1,\"new\":2}"));
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg_claims_merge_json(c, deep));
    assert_false(jg_claims_has(c, "new"));
    int64_t v;
    assert_jg_ok(jg_claims_get_int(c, "exp", &v));
    assert_int_equal(v, 5);
    assert_int_equal(jg_claims_count(c), 4);
    jg_claims_free(c);
}

static void test_null_arguments(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    const char *s;
    int64_t v;
    int b;
    char *j;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_new(NULL));
    assert_jg_ok(jg_claims_new(&c));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_string(NULL, "a", "b"));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_string(c, NULL, "b"));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_string(c, "a", NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_int(NULL, "a", 1));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_int(c, NULL, 1));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_bool(NULL, "a", 1));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_bool(c, NULL, 1));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_json(NULL, "a", "1"));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_json(c, NULL, "1"));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_json(c, "a", NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_merge_json(NULL, "{}"));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_merge_json(c, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_remove(NULL, "a"));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_remove(c, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_string(NULL, "a", &s));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_string(c, NULL, &s));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_string(c, "a", NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_int(NULL, "a", &v));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_int(c, NULL, &v));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_int(c, "a", NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_bool(NULL, "a", &b));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_bool(c, NULL, &b));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_bool(c, "a", NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_json(NULL, "a", &j));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_json(c, NULL, &j));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_get_json(c, "a", NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_to_json(NULL, 0, &j));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_to_json(c, 0, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_to_json(c, JG_EXPORT_PRIVATE, &j));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_to_json(c, 0x100, &j));
    assert_int_equal(jg_claims_count(NULL), 0);
    assert_null(jg_claims_name_at(NULL, 0));
    assert_int_equal(jg_claims_aud_count(NULL), 0);
    assert_null(jg_claims_aud_at(NULL, 0));
    jg_claims_free(c);
}

static void test_to_json(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    assert_jg_ok(jg_claims_set_string(c, "sub", "s\"q\\"));
    assert_jg_ok(jg_claims_set_int(c, "exp", -5));
    assert_jg_ok(jg_claims_set_bool(c, "a", 1));
    assert_json(c, 0, "{\"a\":true,\"exp\":-5,\"sub\":\"s\\\"q\\\\\"}");
    assert_json(c, JG_EXPORT_PRETTY,
                "{\n  \"a\": true,\n  \"exp\": -5,\n  \"sub\": \"s\\\"q\\\\\"\n}");
    /* The output parses back to the same claims. */
    char *text = NULL;
    assert_jg_ok(jg_claims_to_json(c, 0, &text));
    jg_claims *back = parse_ok(text);
    const char *s;
    assert_jg_ok(jg_claims_get_string(back, "sub", &s));
    assert_string_equal(s, "s\"q\\");
    jg_free(text);
    jg_claims_free(back);
    jg_claims_free(c);
}

/* name_at over many members, and the index follows every change. */
static void test_name_iteration(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "m%d", i);
        assert_jg_ok(jg_claims_set_int(c, name, i));
    }
    assert_int_equal(jg_claims_count(c), 2000);
    for (size_t i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "m%zu", i);
        assert_string_equal(jg_claims_name_at(c, i), name);
    }
    assert_null(jg_claims_name_at(c, 2000));
    assert_jg_ok(jg_claims_remove(c, "m0"));
    assert_string_equal(jg_claims_name_at(c, 0), "m1");
    assert_null(jg_claims_name_at(c, 1999));
    assert_jg_ok(jg_claims_set_bool(c, "last", 1));
    assert_string_equal(jg_claims_name_at(c, 1999), "last");
    assert_jg_ok(jg_claims_merge_json(c, "{\"merged\":1}"));
    assert_string_equal(jg_claims_name_at(c, 2000), "merged");
    const char *aud[] = {"x"};
    assert_jg_ok(jg_claims_set_aud(c, aud, 1));
    assert_string_equal(jg_claims_name_at(c, 2001), "aud");
    /* Every name seen by iteration is a member. */
    for (size_t i = 0; i < jg_claims_count(c); i++)
        assert_true(jg_claims_has(c, jg_claims_name_at(c, i)));
    jg_claims_free(c);
}

/* Deterministic mutations of a claims text: every result is OK or a
 * documented error, and nothing crashes or leaks (run under ASan). */
static void test_mutations(void **state)
{
    (void)state;
    static const char base[] = "{\"iss\":\"https://as.example\",\"aud\":[\"a\",\"b\"],"
                               "\"exp\":1700000300,\"nbf\":1.7e9,\"x\":{\"y\":[1,2,{\"z\":null}]}}";
    static const char alphabet[] = "{}[]\",:0123456789.eE-+ \\uatrfn\x00\xc3\xff";
    char buf[sizeof base + 8];
    uint64_t rng = 0x9E3779B97F4A7C15u;
    unsigned ok = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, base, sizeof base);
        size_t len = sizeof base - 1;
        for (int m = 0; m < 1 + round % 4; m++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            size_t pos = (size_t)(rng % len);
            char ch = alphabet[(rng >> 32) % (sizeof alphabet - 1)];
            if ((rng >> 40) % 3 == 0 && len > 1)
                len--; /* truncate */
            else
                buf[pos] = ch;
        }
        jg_claims *c = NULL;
        jg_err err = jg_claims_parse(buf, len, NULL, &c);
        switch (err) {
        case JG_OK:
            ok++;
            assert_non_null(c);
            (void)jg_claims_aud_count(c);
            for (size_t i = 0; i < jg_claims_count(c); i++)
                assert_true(jg_claims_has(c, jg_claims_name_at(c, i)));
            jg_claims_free(c);
            break;
        case JG_ERR_JSON_SYNTAX:
        case JG_ERR_JSON_DUPLICATE:
        case JG_ERR_CLAIMS_INVALID:
        case JG_ERR_CLAIM_TYPE:
        case JG_ERR_LIMIT_JSON_DEPTH:
            assert_null(c);
            break;
        default:
            fail_msg("unexpected %s", jg_err_name(err));
        }
    }
    assert_true(ok > 0);
    /* A NUL byte inside the text. */
    jg_claims *c = NULL;
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_parse("{\"a\":1}\0", 8, NULL, &c));
    assert_jg(JG_ERR_JSON_SYNTAX, jg_claims_parse("{\"a\":\"x\0y\"}", 11, NULL, &c));
}

/* Readers racing to build the name index of fresh claims (ASan/TSan food). */
struct reader_arg {
    const jg_claims *claims;
    int ok;
};

static void *reader(void *p)
{
    struct reader_arg *arg = p;
    char name[32];
    arg->ok = 1;
    for (size_t i = 0; i < jg_claims_count(arg->claims); i++) {
        snprintf(name, sizeof name, "m%zu", i);
        const char *got = jg_claims_name_at(arg->claims, i);
        if (got == NULL || strcmp(got, name) != 0)
            arg->ok = 0;
    }
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    (void)state;
    char name[32];
    for (int round = 0; round < 20; round++) {
        jg_claims *c = NULL;
        assert_jg_ok(jg_claims_new(&c));
        for (int i = 0; i < 200; i++) {
            snprintf(name, sizeof name, "m%d", i);
            assert_jg_ok(jg_claims_set_int(c, name, i));
        }
        pthread_t threads[4];
        struct reader_arg args[4];
        for (int t = 0; t < 4; t++) {
            args[t].claims = c;
            assert_int_equal(pthread_create(&threads[t], NULL, reader, &args[t]), 0);
        }
        for (int t = 0; t < 4; t++) {
            assert_int_equal(pthread_join(threads[t], NULL), 0);
            assert_true(args[t].ok);
        }
        jg_claims_free(c);
    }
}

/* Allocation failures inside jansson: every call reports JG_ERR_NOMEM (or
 * succeeds) and leaks nothing (checked by the ASan build). */
static long g_allocs_left = -1; /* -1: never fail */
static unsigned g_failures;

static void *failing_malloc(size_t size)
{
    if (g_allocs_left == 0) {
        g_failures++;
        return NULL;
    }
    if (g_allocs_left > 0)
        g_allocs_left--;
    return malloc(size);
}

/*
 * jansson reports an allocation failure inside its parser as a syntax error,
 * so for the calls that parse text JG_ERR_JSON_SYNTAX is also accepted once
 * an allocation has failed; everything else must say JG_ERR_NOMEM.
 */
static jg_err claims_workload(int *in_parser)
{
    static const char text[] = "{\"iss\":\"a\",\"aud\":[\"x\",\"y\"],\"exp\":5,\"o\":{\"k\":[1]}}";
    jg_claims *c = NULL;
    char *out = NULL;
    const char *aud[] = {"p", "q"};
    *in_parser = 1;
    jg_err err = jg_claims_parse(text, sizeof text - 1, NULL, &c);
    if (err != JG_OK)
        return err;
    *in_parser = 0;
    if ((err = jg_claims_set_string(c, "sub", "s")) != JG_OK ||
        (err = jg_claims_set_int(c, "nbf", 1)) != JG_OK ||
        (err = jg_claims_set_bool(c, "b", 1)) != JG_OK ||
        (err = jg_claims_set_aud(c, aud, 2)) != JG_OK)
        goto done;
    *in_parser = 1;
    if ((err = jg_claims_set_json(c, "j", "{\"a\":[1,\"2\"]}")) != JG_OK ||
        (err = jg_claims_merge_json(c, "{\"m\":1,\"iss\":\"z\"}")) != JG_OK)
        goto done;
    *in_parser = 0;
    if ((err = jg_claims_to_json(c, JG_EXPORT_PRETTY, &out)) != JG_OK)
        goto done;
    jg_free(out);
    if ((err = jg_claims_get_json(c, "j", &out)) != JG_OK)
        goto done;
    jg_free(out);
done:
    jg_claims_free(c);
    return err;
}

/*
 * Regression (found by valgrind): when jansson runs out of memory before it
 * starts parsing, it returns NULL without recording an error code, and the
 * code was read from uninitialised memory — any error could come out. The
 * first allocation of the library's JSON door failing must be JG_ERR_NOMEM,
 * however the stack happens to look.
 */
static void poison_stack(void)
{
    volatile unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)json_error_duplicate_key;
}

static void test_parser_out_of_memory_is_nomem(void **state)
{
    (void)state;
    json_set_alloc_funcs(failing_malloc, free);
    for (int i = 0; i < 3; i++) {
        poison_stack();
        g_allocs_left = 0; /* the very first allocation fails */
        g_failures = 0;
        json_t *value = NULL;
        const char *text = "{\"sub\":\"x\"}";
        jg_err err = jg__json_parse(text, strlen(text), 0, 0, &value);
        g_allocs_left = -1;
        assert_null(value);
        assert_true(g_failures > 0);
        assert_jg(JG_ERR_NOMEM, err);
    }
    json_set_alloc_funcs(malloc, free);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    json_set_alloc_funcs(failing_malloc, free);
    unsigned nomem = 0;
    int in_parser = 0;
    long k;
    for (k = 0; k < 10000; k++) {
        g_allocs_left = k;
        g_failures = 0;
        jg_err err = claims_workload(&in_parser);
        if (err == JG_OK && g_failures == 0)
            break; /* every allocation of the workload succeeded */
        if (err == JG_ERR_NOMEM && !in_parser)
            nomem++;
        else if (!(g_failures > 0 && in_parser &&
                   (err == JG_ERR_NOMEM || err == JG_ERR_JSON_SYNTAX)))
            fail_msg("failing allocation %ld: got %s", k, jg_err_name(err));
    }
    g_allocs_left = -1;
    json_set_alloc_funcs(malloc, free);
    assert_true(k < 10000);
    assert_true(nomem > 5); /* failures outside the parser were each reported */
    assert_jg_ok(claims_workload(&in_parser));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rfc7519_example),
        cmocka_unit_test(test_parse_rfc9068_claims),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_registered_types),
        cmocka_unit_test(test_setters_and_accessors),
        cmocka_unit_test(test_get_int_integral_rule),
        cmocka_unit_test(test_setters_registered_types),
        cmocka_unit_test(test_set_aud),
        cmocka_unit_test(test_utf8_rejected),
        cmocka_unit_test(test_set_json_and_merge_errors),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_name_iteration),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_parser_out_of_memory_is_nomem),
        cmocka_unit_test(test_allocation_failures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_claims");
    return rc;
}
