/*
 * test_jdoc.c — the strict flat JSON reader (lib/core/jdoc.c), the compact
 * writer (lib/core/json_write.c) and the lazily built jansson form of parsed
 * claims. The reader replaced jansson's parser on every path, so it is held
 * to jansson's verdicts: every text of the corpora below is given to both,
 * and both must accept it (with the same tree) or both refuse it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdoc.h"
#include "core/json.h"
#include "testutil.h"

/* jansson's verdict and tree, as our json.c used to ask for them. */
static json_t *jansson_parse(const char *text, size_t len, json_error_t *error)
{
    return json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, error);
}

static void assert_same_as_jansson(const char *text)
{
    size_t len = strlen(text);
    json_error_t error;
    json_t *expected = jansson_parse(text, len, &error);
    if (expected == NULL)
        fail_msg("jansson refuses the valid text %s: %s", text, error.text);
    jg__jdoc *doc = NULL;
    jg_err err = jg__jdoc_parse(text, len, 64, &doc);
    if (err != JG_OK)
        fail_msg("jdoc refuses %s: %s", text, jg_err_name(err));
    json_t *got = NULL;
    assert_jg_ok(jg__jdoc_to_json(doc, 0, &got));
    if (!json_equal(expected, got))
        fail_msg("different trees for %s", text);
    /* Member order is kept too. */
    char *a = json_dumps(expected, JSON_ENCODE_ANY | JSON_COMPACT);
    char *b = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(expected);
    json_decref(got);
    jg__jdoc_free(doc);
    tu_count("valid");
}

static void assert_refused(const char *text, size_t len, jg_err expected)
{
    json_error_t error;
    json_t *j = jansson_parse(text, len, &error);
    if (j != NULL)
        fail_msg("jansson accepts %.*s, the corpus is wrong", (int)len, text);
    jg__jdoc *doc = (jg__jdoc *)(uintptr_t)1; /* must not be written on error */
    jg_err err = jg__jdoc_parse(text, len, 64, &doc);
    if (err != expected)
        fail_msg("%.*s: expected %s, got %s", (int)len, text, jg_err_name(expected),
                 jg_err_name(err));
    assert_ptr_equal(doc, (jg__jdoc *)(uintptr_t)1);
    tu_count("invalid");
}

static void test_valid_like_jansson(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{}",
        "[]",
        " \t\r\n{ } ",
        "0",
        "-0",
        "1",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "1.5",
        "-0.25",
        "1e3",
        "1E+3",
        "2.5e-3",
        "1e-400",
        "true",
        "false",
        "null",
        "\"\"",
        "\"abc\"",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"\\u0041\\u00e9\\u20AC\"",
        "\"\\ud83d\\ude00\"",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"",
        "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"},\"f\":-2.5}",
        "[[[[[]]]],{},[{}],\"x\"]",
        "{\"z\":1,\"a\":2,\"m\":3}",
        "{\"a\":{\"a\":{\"a\":1}}}",
        "{\"a\":1,\"A\":2,\"a \":3,\"\":4}",
        "{\"\\u0061\":1,\"b\":2}",
        "{\"iss\":\"https://auth.example.com/\",\"sub\":\"5ba552d67\",\"aud\":"
        "\"https://api.example.com/orders\",\"client_id\":\"s6BhdRkqt3\",\"scope\":\"orders:read "
        "orders:write\",\"tenant\":\"acme\",\"iat\":1700000000,\"exp\":1700003600,\"jti\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        assert_same_as_jansson(texts[i]);
}

static void test_invalid_like_jansson(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        jg_err err;
    } bad[] = {
        {"", JG_ERR_JSON_SYNTAX},
        {"   ", JG_ERR_JSON_SYNTAX},
        {"{", JG_ERR_JSON_SYNTAX},
        {"}", JG_ERR_JSON_SYNTAX},
        {"[1,]", JG_ERR_JSON_SYNTAX},
        {"[,1]", JG_ERR_JSON_SYNTAX},
        {"{\"a\":1,}", JG_ERR_JSON_SYNTAX},
        {"{\"a\" 1}", JG_ERR_JSON_SYNTAX},
        {"{\"a\":}", JG_ERR_JSON_SYNTAX},
        {"{a:1}", JG_ERR_JSON_SYNTAX},
        {"{'a':1}", JG_ERR_JSON_SYNTAX},
        {"{1:1}", JG_ERR_JSON_SYNTAX},
        {"[1 2]", JG_ERR_JSON_SYNTAX},
        {"{} x", JG_ERR_JSON_SYNTAX},
        {"1 2", JG_ERR_JSON_SYNTAX},
        {"{}{}", JG_ERR_JSON_SYNTAX},
        {"\xef\xbb\xbf{}", JG_ERR_JSON_SYNTAX}, /* a BOM */
        {"tru", JG_ERR_JSON_SYNTAX},
        {"True", JG_ERR_JSON_SYNTAX},
        {"nul", JG_ERR_JSON_SYNTAX},
        {"nulll", JG_ERR_JSON_SYNTAX},
        {"01", JG_ERR_JSON_SYNTAX},
        {"-", JG_ERR_JSON_SYNTAX},
        {"-a", JG_ERR_JSON_SYNTAX},
        {"+1", JG_ERR_JSON_SYNTAX},
        {"1.", JG_ERR_JSON_SYNTAX},
        {".5", JG_ERR_JSON_SYNTAX},
        {"1e", JG_ERR_JSON_SYNTAX},
        {"1e+", JG_ERR_JSON_SYNTAX},
        {"1.e3", JG_ERR_JSON_SYNTAX},
        {"0x10", JG_ERR_JSON_SYNTAX},
        {"NaN", JG_ERR_JSON_SYNTAX},
        {"Infinity", JG_ERR_JSON_SYNTAX},
        {"9223372036854775808", JG_ERR_JSON_SYNTAX},
        {"-9223372036854775809", JG_ERR_JSON_SYNTAX},
        {"99999999999999999999999", JG_ERR_JSON_SYNTAX},
        {"1e400", JG_ERR_JSON_SYNTAX},
        {"-1e400", JG_ERR_JSON_SYNTAX},
        {"\"abc", JG_ERR_JSON_SYNTAX},
        {"\"a\nb\"", JG_ERR_JSON_SYNTAX},
        {"\"a\x01\"", JG_ERR_JSON_SYNTAX},
        {"\"\\x\"", JG_ERR_JSON_SYNTAX},
        {"\"\\u12\"", JG_ERR_JSON_SYNTAX},
        {"\"\\u12G4\"", JG_ERR_JSON_SYNTAX},
        {"\"\\u0000\"", JG_ERR_JSON_SYNTAX},
        {"\"\\ud800\"", JG_ERR_JSON_SYNTAX},
        {"\"\\udc00\"", JG_ERR_JSON_SYNTAX},
        {"\"\\ud800\\u0041\"", JG_ERR_JSON_SYNTAX},
        {"\"\\ud800\\ud800\"", JG_ERR_JSON_SYNTAX},
        {"\"\\ud800x\"", JG_ERR_JSON_SYNTAX},
        {"\"\\", JG_ERR_JSON_SYNTAX},
        {"\"\xc0\x80\"", JG_ERR_JSON_SYNTAX},         /* overlong NUL */
        {"\"\xc1\xbf\"", JG_ERR_JSON_SYNTAX},         /* overlong */
        {"\"\xe0\x80\x80\"", JG_ERR_JSON_SYNTAX},     /* overlong */
        {"\"\xed\xa0\x80\"", JG_ERR_JSON_SYNTAX},     /* surrogate */
        {"\"\xf0\x80\x80\x80\"", JG_ERR_JSON_SYNTAX}, /* overlong */
        {"\"\xf4\x90\x80\x80\"", JG_ERR_JSON_SYNTAX}, /* above U+10FFFF */
        {"\"\xf5\x80\x80\x80\"", JG_ERR_JSON_SYNTAX},
        {"\"\xff\"", JG_ERR_JSON_SYNTAX},
        {"\"\x80\"", JG_ERR_JSON_SYNTAX},     /* lone continuation */
        {"\"\xe2\x82\"", JG_ERR_JSON_SYNTAX}, /* truncated */
        {"\"\xe2\x82", JG_ERR_JSON_SYNTAX},
        {"{\"a\":1,\"a\":2}", JG_ERR_JSON_DUPLICATE},
        {"{\"a\":1,\"b\":{\"c\":1,\"c\":1}}", JG_ERR_JSON_DUPLICATE},
        {"[{\"x\":[],\"x\":{}}]", JG_ERR_JSON_DUPLICATE},
        {"{\"a\":1,\"\\u0061\":2}", JG_ERR_JSON_DUPLICATE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(bad[i].text, strlen(bad[i].text), bad[i].err);
    /* A NUL byte inside the text, and text that is not NUL-terminated. */
    assert_refused("{\"a\":1}\0", 8, JG_ERR_JSON_SYNTAX);
    assert_refused("[1,\0 2]", 7, JG_ERR_JSON_SYNTAX);
    jg__jdoc *doc = NULL;
    assert_jg_ok(jg__jdoc_parse("[1,2]garbage", 5, 0, &doc));
    assert_int_equal(doc->nodes[0].len, 2);
    jg__jdoc_free(doc);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg__jdoc_parse(NULL, 0, 0, &doc));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg__jdoc_parse("1", 1, 0, NULL));
}

/* n copies of `unit`, then `tail`. */
static char *repeat(const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(ul * n + tl + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    memcpy(s + ul * n, tail, tl + 1);
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    jg__jdoc *doc = NULL;
    /* The default is 32: 32 levels pass, 33 do not. */
    char *open = repeat("[", 32, ""), *close = repeat("]", 32, "");
    char *text = malloc(strlen(open) + strlen(close) + 1);
    assert_non_null(text);
    strcpy(text, open);
    strcat(text, close);
    assert_jg_ok(jg__jdoc_parse(text, strlen(text), 0, &doc));
    assert_int_equal(doc->count, 32);
    jg__jdoc_free(doc);
    free(text);
    free(open);
    free(close);
    text = repeat("[", 33, "");
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__jdoc_parse(text, strlen(text), 0, &doc));
    free(text);
    text = repeat("{\"a\":", 33, "1");
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__jdoc_parse(text, strlen(text), 0, &doc));
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__jdoc_parse(text, strlen(text), 32, &doc));
    free(text);
    /* Hostile nesting far beyond any limit: refused without recursion,
     * also when the caller asks for more than the hard cap. */
    text = repeat("[", 1000000, "");
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__jdoc_parse(text, strlen(text), 0, &doc));
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__jdoc_parse(text, strlen(text), 4000000, &doc));
    free(text);
    /* The hard cap itself can be reached and converted. */
    open = repeat("[", JG__JDOC_MAX_DEPTH, "");
    close = repeat("]", JG__JDOC_MAX_DEPTH, "");
    text = malloc(2 * JG__JDOC_MAX_DEPTH + 1);
    assert_non_null(text);
    strcpy(text, open);
    strcat(text, close);
    assert_jg_ok(jg__jdoc_parse(text, strlen(text), 100000, &doc));
    json_t *tree = NULL;
    assert_jg_ok(jg__jdoc_to_json(doc, 0, &tree));
    json_decref(tree);
    jg__jdoc_free(doc);
    free(text);
    free(open);
    free(close);
    /* Through jg__json_parse, as every caller uses it. */
    text = repeat("[", 100, "");
    json_t *out = NULL;
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__json_parse(text, strlen(text), 0, 0, &out));
    free(text);
}

static void test_many_members(void **state)
{
    (void)state;
    /* 20,000 distinct members go through the sorting duplicate check. */
    size_t n = 20000;
    char *text = malloc(n * 16 + 32);
    assert_non_null(text);
    size_t o = 0;
    text[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(text + o, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    text[o++] = '}';
    text[o] = '\0';
    jg__jdoc *doc = NULL;
    assert_jg_ok(jg__jdoc_parse(text, o, 0, &doc));
    assert_int_equal(doc->nodes[0].len, n);
    uint32_t v = jg__jdoc_get(doc, 0, "k19999");
    assert_int_not_equal(v, 0);
    int64_t got = 0;
    assert_jg_ok(jg__jdoc_int_exact(doc, v, &got));
    assert_int_equal(got, 19999);
    jg__jdoc_free(doc);
    /* The same with one name repeated at the very end. */
    o--; /* drop '}' */
    o += (size_t)sprintf(text + o, ",\"k7\":1}");
    assert_jg(JG_ERR_JSON_DUPLICATE, jg__jdoc_parse(text, o, 0, &doc));
    free(text);
}

static void test_accessors(void **state)
{
    (void)state;
    const char *text = "{\"s\":\"x\\ny\",\"i\":-42,\"r\":3.0,\"f\":1.5,\"big\":1e19,"
                       "\"a\":[\"p\",\"q\",7],\"t\":true,\"n\":null}";
    jg__jdoc *doc = NULL;
    assert_jg_ok(jg__jdoc_parse(text, strlen(text), 0, &doc));
    assert_string_equal(jg__jdoc_str(doc, jg__jdoc_get(doc, 0, "s")), "x\ny");
    assert_null(jg__jdoc_str(doc, jg__jdoc_get(doc, 0, "i")));
    assert_int_equal(jg__jdoc_get(doc, 0, "missing"), 0);
    assert_int_equal(jg__jdoc_get(doc, jg__jdoc_get(doc, 0, "i"), "x"), 0); /* not an object */
    int64_t v = 0;
    assert_jg_ok(jg__jdoc_int_exact(doc, jg__jdoc_get(doc, 0, "i"), &v));
    assert_int_equal(v, -42);
    assert_jg_ok(jg__jdoc_int_exact(doc, jg__jdoc_get(doc, 0, "r"), &v));
    assert_int_equal(v, 3);
    assert_jg(JG_ERR_JSON_NUMBER, jg__jdoc_int_exact(doc, jg__jdoc_get(doc, 0, "f"), &v));
    assert_jg(JG_ERR_JSON_NUMBER, jg__jdoc_int_exact(doc, jg__jdoc_get(doc, 0, "big"), &v));
    assert_jg(JG_ERR_JSON_TYPE, jg__jdoc_int_exact(doc, jg__jdoc_get(doc, 0, "s"), &v));
    assert_jg(JG_ERR_JSON_TYPE, jg__jdoc_int_exact(doc, 100000, &v));
    uint32_t a = jg__jdoc_get(doc, 0, "a");
    assert_string_equal(jg__jdoc_str(doc, jg__jdoc_at(doc, a, 0)), "p");
    assert_string_equal(jg__jdoc_str(doc, jg__jdoc_at(doc, a, 1)), "q");
    assert_null(jg__jdoc_str(doc, jg__jdoc_at(doc, a, 2)));
    assert_int_equal(jg__jdoc_at(doc, a, 3), 0);
    assert_int_equal(jg__jdoc_at(doc, 0, 0), 0); /* not an array */
    assert_int_equal(doc->nodes[jg__jdoc_get(doc, 0, "t")].type, JG__J_TRUE);
    assert_int_equal(doc->nodes[jg__jdoc_get(doc, 0, "n")].type, JG__J_NULL);
    json_t *sub = NULL;
    assert_jg_ok(jg__jdoc_to_json(doc, a, &sub));
    assert_int_equal(json_array_size(sub), 3);
    json_decref(sub);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg__jdoc_to_json(doc, 100000, &sub));
    jg__jdoc_free(doc);
    jg__jdoc_free(NULL);
}

/* Our writer against json_dumps, sorted and in order. */
static void test_writer_like_jansson(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{}",
        "[]",
        "\"\"",
        "-9223372036854775808",
        "9223372036854775807",
        "0",
        "1.5",
        "1e+300",
        "-0.0",
        "123456789.125",
        "[true,false,null]",
        "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\\u007f caf\\u00e9 \\ud83d\\ude00\"",
        "{\"z\":1,\"a\":{\"y\":[1,{\"b\":2,\"a\":1}],\"x\":null},\"m\":\"v\",\"\":0}",
        "{\"k\\n\\u0002\":\"\\u001b\",\"Z\":1,\"z\":2,\"aa\":3,\"a\":4}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_t *v = json_loads(texts[i], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        for (int sorted = 0; sorted < 2; sorted++) {
            char *want =
                json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | (sorted ? JSON_SORT_KEYS : 0));
            char *got = NULL;
            size_t len = 0;
            assert_jg_ok(jg__json_write_compact(v, sorted, &got, &len));
            assert_string_equal(got, want);
            assert_int_equal(len, strlen(want));
            free(want);
            free(got);
        }
        json_decref(v);
    }
    /* A large object: more names than the writer keeps on its stack. */
    json_t *big = json_object();
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%03d", 99 - i);
        json_object_set_new(big, name, json_integer(i));
    }
    char *want = json_dumps(big, JSON_COMPACT | JSON_SORT_KEYS), *got = NULL;
    assert_jg_ok(jg__json_write_compact(big, 1, &got, NULL));
    assert_string_equal(got, want);
    free(want);
    free(got);
    json_decref(big);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg__json_write_compact(NULL, 1, &got, NULL));
}

/* ---- Parsed claims: the flat form, and the lazily built jansson form ---- */

static const char claims_text[] =
    "{\"iss\":\"https://as.example\",\"aud\":[\"a\",\"b\"],\"exp\":2000,\"iat\":1000,"
    "\"scope\":\"read write\",\"n\":{\"deep\":[1,2.5,\"\\u00e9\"]},\"ok\":true}";

static void test_claims_flat_form(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(claims_text, strlen(claims_text), NULL, &c));
    const char *s = NULL;
    int64_t i = 0;
    int b = 0;
    assert_jg_ok(jg_claims_get_string(c, "scope", &s));
    assert_string_equal(s, "read write");
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_string(c, "exp", &s));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_get_string(c, "nope", &s));
    assert_jg_ok(jg_claims_get_int(c, "exp", &i));
    assert_int_equal(i, 2000);
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_int(c, "scope", &i));
    assert_jg_ok(jg_claims_get_bool(c, "ok", &b));
    assert_true(b);
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_get_bool(c, "iss", &b));
    assert_int_equal(jg_claims_aud_count(c), 2);
    assert_string_equal(jg_claims_aud_at(c, 1), "b");
    assert_null(jg_claims_aud_at(c, 2));
    assert_int_equal(jg_claims_count(c), 7);
    assert_string_equal(jg_claims_name_at(c, 0), "iss");
    assert_string_equal(jg_claims_name_at(c, 6), "ok");
    assert_null(jg_claims_name_at(c, 7));
    assert_true(jg_claims_has(c, "n"));
    char *json = NULL;
    assert_jg_ok(jg_claims_get_json(c, "n", &json));
    assert_string_equal(json, "{\"deep\":[1,2.5,\"\xc3\xa9\"]}");
    jg_free(json);
    /* A change moves the claims to the jansson form; reads still agree. */
    assert_jg_ok(jg_claims_set_string(c, "scope", "admin"));
    assert_jg_ok(jg_claims_get_string(c, "scope", &s));
    assert_string_equal(s, "admin");
    assert_jg_ok(jg_claims_get_int(c, "iat", &i));
    assert_int_equal(i, 1000);
    assert_string_equal(jg_claims_name_at(c, 4), "scope");
    assert_jg_ok(jg_claims_remove(c, "n"));
    assert_int_equal(jg_claims_count(c), 6);
    assert_jg_ok(jg_claims_to_json(c, 0, &json));
    assert_string_equal(json, "{\"aud\":[\"a\",\"b\"],\"exp\":2000,\"iat\":1000,\"iss\":"
                              "\"https://as.example\",\"ok\":true,\"scope\":\"admin\"}");
    jg_free(json);
    jg_claims_free(c);

    /* remove and merge on a parsed (flat) set. */
    assert_jg_ok(jg_claims_parse(claims_text, strlen(claims_text), NULL, &c));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_remove(c, "nope"));
    assert_jg_ok(jg_claims_remove(c, "ok"));
    assert_false(jg_claims_has(c, "ok"));
    jg_claims_free(c);
    assert_jg_ok(jg_claims_parse(claims_text, strlen(claims_text), NULL, &c));
    assert_jg(JG_ERR_CLAIM_TYPE, jg_claims_merge_json(c, "{\"exp\":\"soon\"}"));
    assert_jg_ok(jg_claims_get_int(c, "exp", &i)); /* a refused merge changes nothing */
    assert_jg_ok(jg_claims_merge_json(c, "{\"exp\":3000,\"new\":1}"));
    assert_jg_ok(jg_claims_get_int(c, "exp", &i));
    assert_int_equal(i, 3000);
    assert_int_equal(jg_claims_count(c), 8);
    jg_claims_free(c);
}

static void test_claims_parse_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        jg_err err;
    } bad[] = {
        {"[]", JG_ERR_CLAIMS_INVALID},
        {"\"x\"", JG_ERR_CLAIMS_INVALID},
        {"{\"a\":1,\"a\":1}", JG_ERR_JSON_DUPLICATE},
        {"{\"exp\":1.5}", JG_ERR_CLAIM_TYPE},
        {"{\"exp\":1e19}", JG_ERR_CLAIM_TYPE},
        {"{\"nbf\":\"1\"}", JG_ERR_CLAIM_TYPE},
        {"{\"iat\":null}", JG_ERR_CLAIM_TYPE},
        {"{\"iss\":1}", JG_ERR_CLAIM_TYPE},
        {"{\"sub\":[]}", JG_ERR_CLAIM_TYPE},
        {"{\"jti\":{}}", JG_ERR_CLAIM_TYPE},
        {"{\"aud\":[]}", JG_ERR_CLAIM_TYPE},
        {"{\"aud\":[\"a\",[]]}", JG_ERR_CLAIM_TYPE},
        {"{\"aud\":7}", JG_ERR_CLAIM_TYPE},
        {"{\"a\":\"\\ud800\"}", JG_ERR_JSON_SYNTAX},
        {"{\"a\":1} x", JG_ERR_JSON_SYNTAX},
    };
    jg_claims *c = NULL;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jg_err got = jg_claims_parse(bad[i].text, strlen(bad[i].text), NULL, &c);
        if (got != bad[i].err)
            fail_msg("%s: expected %s, got %s", bad[i].text, jg_err_name(bad[i].err),
                     jg_err_name(got));
    }
    /* Limits: size and depth. */
    jg_limits lim = jg_limits_default();
    lim.max_payload_len = 8;
    assert_jg(JG_ERR_LIMIT_JSON_SIZE, jg_claims_parse("{\"a\":123}", 9, &lim, &c));
    lim = jg_limits_default();
    lim.max_json_depth = 2;
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg_claims_parse("{\"a\":[[1]]}", 11, &lim, &c));
    assert_jg_ok(jg_claims_parse("{\"a\":[1]}", 9, &lim, &c));
    jg_claims_free(c);
    /* Real exp with no fraction is an integer. */
    assert_jg_ok(jg_claims_parse("{\"exp\":2.0e3}", 13, NULL, &c));
    int64_t v = 0;
    assert_jg_ok(jg_claims_get_int(c, "exp", &v));
    assert_int_equal(v, 2000);
    jg_claims_free(c);
}

/* Threads race to build the jansson form of one parsed set. */
typedef struct race {
    const jg_claims *claims;
    char *json;
    jg_err err;
} race;

static void *race_reader(void *p)
{
    race *r = p;
    r->err = jg_claims_to_json(r->claims, 0, &r->json);
    const char *s = NULL;
    if (r->err == JG_OK)
        r->err = jg_claims_get_string(r->claims, "scope", &s);
    return NULL;
}

static void test_claims_concurrent_build(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        jg_claims *c = NULL;
        assert_jg_ok(jg_claims_parse(claims_text, strlen(claims_text), NULL, &c));
        race r[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            r[i] = (race){c, NULL, JG_OK};
            assert_int_equal(pthread_create(&t[i], NULL, race_reader, &r[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            assert_jg_ok(r[i].err);
            assert_string_equal(r[i].json, r[0].json);
        }
        for (int i = 0; i < 4; i++)
            jg_free(r[i].json);
        jg_claims_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_like_jansson),
        cmocka_unit_test(test_invalid_like_jansson),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_many_members),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_writer_like_jansson),
        cmocka_unit_test(test_claims_flat_form),
        cmocka_unit_test(test_claims_parse_refusals),
        cmocka_unit_test(test_claims_concurrent_build),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_jdoc");
    return rc;
}
