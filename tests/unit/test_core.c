/* test_core.c — errors, base64url, algorithm names and sets, bounded JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "testutil.h"

static void test_every_error_has_a_name_and_message(void **state)
{
    (void)state;
    for (int e = 0; e < JG_ERR__COUNT; e++) {
        const char *msg = jg_strerror((jg_err)e);
        const char *name = jg_err_name((jg_err)e);
        assert_non_null(msg);
        assert_string_not_equal(msg, "unknown error code");
        assert_non_null(name);
        assert_true(strncmp(name, "JG_", 3) == 0);
        /* Each message is distinct, so each code says something specific. */
        for (int f = 0; f < e; f++)
            assert_string_not_equal(msg, jg_strerror((jg_err)f));
    }
    assert_string_equal(jg_strerror(JG_ERR__COUNT), "unknown error code");
    assert_string_equal(jg_strerror((jg_err)-1), "unknown error code");
    assert_string_equal(jg_err_name(JG_ERR__COUNT), "JG_ERR_UNKNOWN");
}

/* RFC 4648 section 10 test vectors, in base64url without padding. */
static void test_b64url_rfc4648(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *enc;
    } v[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char enc[32];
        unsigned char dec[32];
        size_t n = jg_b64url_encode(v[i].raw, strlen(v[i].raw), enc);
        assert_int_equal(n, strlen(v[i].enc));
        assert_string_equal(enc, v[i].enc);
        assert_int_equal(JG_B64URL_ENCODED_LEN(strlen(v[i].raw)), n);
        assert_jg_ok(jg_b64url_decode(v[i].enc, strlen(v[i].enc), dec, &n));
        assert_int_equal(n, strlen(v[i].raw));
        assert_memory_equal(dec, v[i].raw, n);
    }
}

static void test_b64url_alphabet_is_url_safe(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char *enc = NULL;
    size_t enc_len = 0;
    assert_jg_ok(jg_b64url_encode_alloc(all, sizeof all, &enc, &enc_len));
    assert_null(strpbrk(enc, "+/="));
    assert_non_null(strchr(enc, '-'));
    assert_non_null(strchr(enc, '_'));
    unsigned char *dec = NULL;
    size_t dec_len = 0;
    assert_jg_ok(jg_b64url_decode_alloc(enc, enc_len, &dec, &dec_len));
    assert_int_equal(dec_len, sizeof all);
    assert_memory_equal(dec, all, sizeof all);
    jg_free(enc);
    jg_free(dec);
}

static void test_b64url_strictness(void **state)
{
    (void)state;
    unsigned char out[64];
    size_t n;
    assert_jg(JG_ERR_B64_PADDING, jg_b64url_decode("Zg==", 4, out, &n));
    assert_jg(JG_ERR_B64_PADDING, jg_b64url_decode("Zm8=", 4, out, &n));
    assert_jg(JG_ERR_B64_CHAR, jg_b64url_decode("Zm9v+A", 6, out, &n));
    assert_jg(JG_ERR_B64_CHAR, jg_b64url_decode("Zm9v/A", 6, out, &n));
    assert_jg(JG_ERR_B64_CHAR, jg_b64url_decode("Zm 9v", 5, out, &n));
    assert_jg(JG_ERR_B64_CHAR, jg_b64url_decode("Zm9v\n", 5, out, &n));
    assert_jg(JG_ERR_B64_CHAR, jg_b64url_decode("Zm\0v", 4, out, &n));
    assert_jg(JG_ERR_B64_CHAR, jg_b64url_decode("Zm9\xff", 4, out, &n));
    assert_jg(JG_ERR_B64_LENGTH, jg_b64url_decode("Zm9vY", 5, out, &n));
    assert_jg(JG_ERR_B64_LENGTH, jg_b64url_decode("Z", 1, out, &n));
    /* "Zh" decodes to 'f' but leaves non-zero bits: not the canonical "Zg". */
    assert_jg(JG_ERR_B64_NONCANONICAL, jg_b64url_decode("Zh", 2, out, &n));
    assert_jg(JG_ERR_B64_NONCANONICAL, jg_b64url_decode("Zm9", 3, out, &n));
    assert_jg_ok(jg_b64url_decode("Zm8", 3, out, &n));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_b64url_decode(NULL, 3, out, &n));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_b64url_decode("Zg", 2, NULL, &n));
    unsigned char *p = NULL;
    assert_jg(JG_ERR_B64_NONCANONICAL, jg_b64url_decode_alloc("Zh", 2, &p, &n));
    assert_null(p);
}

/* Every byte string round-trips, and every 2- and 3-character tail that
 * decodes is the canonical encoding of what it decodes to. */
static void test_b64url_canonical_exhaustive(void **state)
{
    (void)state;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned accepted = 0;
    for (int a = 0; a < 64; a++) {
        for (int b = 0; b < 64; b++) {
            char in[3] = {alphabet[a], alphabet[b], 0};
            unsigned char out[4];
            char again[8];
            size_t n;
            if (jg_b64url_decode(in, 2, out, &n) == JG_OK) {
                accepted++;
                jg_b64url_encode(out, n, again);
                assert_string_equal(again, in);
            }
        }
    }
    assert_int_equal(accepted, 256); /* exactly one encoding per byte */
}

static void test_alg_names_and_sets(void **state)
{
    (void)state;
    for (int a = 1; a < JG_ALG__COUNT; a++) {
        const char *name = jg_alg_name((jg_alg)a);
        assert_non_null(name);
        assert_int_equal(jg_alg_from_name(name, strlen(name)), a);
        assert_int_not_equal(jg_alg_kind_of((jg_alg)a), JG_ALG_KIND_NONE);
    }
    for (int e = 1; e < JG_ENC__COUNT; e++) {
        const char *name = jg_enc_name((jg_enc)e);
        assert_non_null(name);
        assert_int_equal(jg_enc_from_name(name, strlen(name)), e);
    }
    assert_null(jg_alg_name(JG_ALG_UNKNOWN));
    assert_null(jg_alg_name(JG_ALG__COUNT));
    assert_int_equal(jg_alg_from_name("none", 4), JG_ALG_UNKNOWN);
    assert_int_equal(jg_alg_from_name("es256", 5), JG_ALG_UNKNOWN); /* case-sensitive */
    assert_int_equal(jg_alg_from_name("ES2560", 6), JG_ALG_UNKNOWN);
    assert_int_equal(jg_alg_from_name("ES256", 4), JG_ALG_UNKNOWN); /* "ES25" */
    assert_int_equal(jg_alg_kind_of(JG_ALG_EDDSA), JG_ALG_KIND_JWS);
    assert_int_equal(jg_alg_kind_of(JG_ALG_DIR), JG_ALG_KIND_JWE);

    jg_alg_set set = 0;
    assert_jg_ok(jg_alg_set_parse("ES256, EdDSA,RS256", &set));
    assert_true(set ==
                (JG_ALG_BIT(JG_ALG_ES256) | JG_ALG_BIT(JG_ALG_EDDSA) | JG_ALG_BIT(JG_ALG_RS256)));
    assert_jg(JG_ERR_ALG_NONE, jg_alg_set_parse("ES256,none", &set));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_alg_set_parse("ES256,XX", &set));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_alg_set_parse("", &set));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_alg_set_parse("ES256,", &set));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_alg_set_parse(NULL, &set));
    jg_enc_set encs = 0;
    assert_jg_ok(jg_enc_set_parse("A256GCM,A128CBC-HS256", &encs));
    assert_true(encs == (JG_ENC_BIT(JG_ENC_A256GCM) | JG_ENC_BIT(JG_ENC_A128CBC_HS256)));
    assert_jg(JG_ERR_ENC_UNKNOWN, jg_enc_set_parse("A256GCM,A512GCM", &encs));
    assert_jg(JG_ERR_ENC_UNKNOWN, jg_enc_set_parse("", &encs));
}

static void test_json_bounds_and_duplicates(void **state)
{
    (void)state;
    json_t *v = NULL;
    const char *dup = "{\"a\":1,\"a\":2}";
    assert_jg(JG_ERR_JSON_DUPLICATE, jg__json_parse(dup, strlen(dup), 0, 0, &v));
    const char *nested_dup = "{\"x\":{\"b\":1,\"b\":1}}";
    assert_jg(JG_ERR_JSON_DUPLICATE, jg__json_parse(nested_dup, strlen(nested_dup), 0, 0, &v));
    assert_jg(JG_ERR_JSON_SYNTAX, jg__json_parse("{\"a\":}", 6, 0, 0, &v));
    assert_jg(JG_ERR_JSON_SYNTAX, jg__json_parse("{} {}", 5, 0, 0, &v));
    assert_jg(JG_ERR_JSON_SYNTAX, jg__json_parse("{\"a\":\"\xff\"}", 8, 0, 0, &v));
    assert_jg(JG_ERR_JSON_SYNTAX, jg__json_parse("{\"a\":\"\\u0000\"}", 14, 0, 0, &v));
    assert_jg(JG_ERR_JSON_NOT_OBJECT, jg__json_parse_object("[1]", 3, 0, 0, &v));
    assert_jg(JG_ERR_LIMIT_JSON_SIZE, jg__json_parse("{}", 2, 0, 1, &v));

    /* 10,000 levels deep is refused by the scan, before jansson recurses. */
    size_t depth = 10000;
    char *deep = malloc(2 * depth + 1);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__json_parse(deep, 2 * depth, 0, 0, &v));
    free(deep);
    /* Brackets inside strings do not count; depth exactly at the limit passes. */
    const char *s = "{\"a\":\"[[[[[[[[\\\"[[[[\",\"b\":[[1]]}";
    assert_jg_ok(jg__json_parse(s, strlen(s), 3, 0, &v));
    json_decref(v);
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg__json_parse(s, strlen(s), 2, 0, &v));
}

static void test_json_integers(void **state)
{
    (void)state;
    int64_t n = 0;
    json_t *v = json_integer(1700000000);
    assert_jg_ok(jg__json_int_exact(v, &n));
    assert_int_equal(n, 1700000000);
    json_decref(v);
    v = json_real(1700000000.0);
    assert_jg_ok(jg__json_int_exact(v, &n));
    assert_int_equal(n, 1700000000);
    json_decref(v);
    v = json_real(1.5);
    assert_jg(JG_ERR_JSON_NUMBER, jg__json_int_exact(v, &n));
    json_decref(v);
    v = json_real(1e300);
    assert_jg(JG_ERR_JSON_NUMBER, jg__json_int_exact(v, &n));
    json_decref(v);
    v = json_string("1");
    assert_jg(JG_ERR_JSON_TYPE, jg__json_int_exact(v, &n));
    json_decref(v);
    /* Integers beyond int64 are a syntax error in jansson, never wrapped. */
    assert_jg(JG_ERR_JSON_SYNTAX, jg__json_parse("99999999999999999999", 20, 0, 0, &v));
}

/* Every length up to 40 (no, one and several eight-byte steps, and each
 * tail), a difference in every position and in every bit: never equal; and
 * equal buffers at any alignment. */
static void test_memeq_consttime_every_position(void **state)
{
    (void)state;
    unsigned char a[48], b[48];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (unsigned char)(i * 37 + 11);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= 40; len++)
            assert_true(jg_memeq_consttime(a + off, b + off, len));
    for (size_t len = 1; len <= 40; len++)
        for (size_t pos = 0; pos < len; pos++)
            for (int bit = 0; bit < 8; bit++) {
                b[pos] ^= (unsigned char)(1u << bit);
                assert_false(jg_memeq_consttime(a, b, len));
                /* a difference just past the length does not count */
                assert_true(jg_memeq_consttime(a, b, pos));
                b[pos] ^= (unsigned char)(1u << bit);
            }
}

static void test_memory_helpers(void **state)
{
    (void)state;
    unsigned char a[16] = {1, 2, 3}, b[16] = {1, 2, 3};
    assert_true(jg_memeq_consttime(a, b, sizeof a));
    b[15] ^= 1;
    assert_false(jg_memeq_consttime(a, b, sizeof a));
    assert_true(jg_memeq_consttime(a, b, 0));
    jg_memzero(a, sizeof a);
    for (size_t i = 0; i < sizeof a; i++)
        assert_int_equal(a[i], 0);
    char *secret = strdup("hunter2");
    jg_free_secret(secret, 0);
    jg_free_secret(NULL, 0);
    jg_free(NULL);
    jg_limits l = jg_limits_default();
    assert_int_equal(l.max_pbes2_count, 10000);
    assert_int_equal(l.max_inflated_len, 250000);
    assert_true(l.max_token_len < 1024 * 1024);
    assert_string_equal(jg_version(), JG_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_error_has_a_name_and_message),
        cmocka_unit_test(test_b64url_rfc4648),
        cmocka_unit_test(test_b64url_alphabet_is_url_safe),
        cmocka_unit_test(test_b64url_strictness),
        cmocka_unit_test(test_b64url_canonical_exhaustive),
        cmocka_unit_test(test_alg_names_and_sets),
        cmocka_unit_test(test_json_bounds_and_duplicates),
        cmocka_unit_test(test_json_integers),
        cmocka_unit_test(test_memeq_consttime_every_position),
        cmocka_unit_test(test_memory_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
