/*
 * test_jwk_gen.c — key generation: every key type and curve, every algorithm
 * of jg_jwk_generate_for_alg(), round trips of generated keys through JSON
 * and PEM, and every refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tu_jwk.h"

/* JSON and (for asymmetric keys) PEM round trips keep the key. */
static void check_round_trips(const jg_jwk *key)
{
    char want[44], got[44];
    assert_jg_ok(jg_jwk_thumbprint_b64(key, want));

    char *json = NULL;
    assert_jg_ok(jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &json, NULL));
    json_t *value = tu_json_parse(json);
    tu_jwk_oracle_thumbprint(value, got);
    assert_string_equal(got, want);
    jg_jwk *back = NULL;
    assert_jg_ok(jg_jwk_parse(json, strlen(json), 0, &back));
    char *json2 = NULL;
    assert_jg_ok(jg_jwk_to_json(back, JG_EXPORT_PRIVATE, &json2, NULL));
    assert_string_equal(json2, json);
    assert_int_equal(jg_jwk_bits(back), jg_jwk_bits(key));
    assert_true(jg_jwk_is_private(back));
    jg_free_secret(json2, 0);
    jg_jwk_free(back);
    json_decref(value);
    jg_free_secret(json, 0);

    if (jg_jwk_kty(key) == JG_KTY_OCT)
        return;
    char *pem = NULL;
    size_t len = 0;
    assert_jg_ok(jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &pem, &len));
    assert_jg_ok(jg_jwk_from_pem(pem, len, NULL, 0, &back));
    assert_true(jg_jwk_is_private(back));
    assert_jg_ok(jg_jwk_thumbprint_b64(back, got));
    assert_string_equal(got, want);
    jg_jwk_free(back);
    jg_free_secret(pem, len);
    assert_jg_ok(jg_jwk_to_pem(key, 0, &pem, &len));
    assert_jg_ok(jg_jwk_from_pem(pem, len, NULL, 0, &back));
    assert_false(jg_jwk_is_private(back));
    assert_jg_ok(jg_jwk_thumbprint_b64(back, got));
    assert_string_equal(got, want);
    jg_jwk_free(back);
    jg_free(pem);
}

static void test_generate_every_type(void **state)
{
    (void)state;
    static const struct {
        jg_kty kty;
        jg_crv crv;
        unsigned bits, want_bits;
    } cases[] = {
        {JG_KTY_OCT, JG_CRV_NONE, 0, 256},    {JG_KTY_OCT, JG_CRV_NONE, 128, 128},
        {JG_KTY_OCT, JG_CRV_NONE, 512, 512},  {JG_KTY_OCT, JG_CRV_NONE, 8192, 8192},
        {JG_KTY_RSA, JG_CRV_NONE, 0, 2048},   {JG_KTY_EC, JG_CRV_P256, 0, 256},
        {JG_KTY_EC, JG_CRV_P384, 0, 384},     {JG_KTY_EC, JG_CRV_P521, 0, 521},
        {JG_KTY_OKP, JG_CRV_ED25519, 0, 256}, {JG_KTY_OKP, JG_CRV_ED448, 0, 456},
        {JG_KTY_OKP, JG_CRV_X25519, 0, 256},  {JG_KTY_OKP, JG_CRV_X448, 0, 448},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jg_jwk *key = NULL, *twin = NULL;
        assert_jg_ok(jg_jwk_generate(cases[i].kty, cases[i].crv, cases[i].bits, NULL, &key));
        assert_int_equal(jg_jwk_kty(key), cases[i].kty);
        assert_int_equal(jg_jwk_crv(key), cases[i].crv);
        assert_int_equal(jg_jwk_bits(key), cases[i].want_bits);
        assert_true(jg_jwk_is_private(key));
        assert_int_equal(jg_jwk_alg(key), JG_ALG_UNKNOWN);
        assert_int_equal(jg_jwk_use(key), JG_USE_ANY);
        /* kid defaults to the thumbprint. */
        char t[44];
        assert_jg_ok(jg_jwk_thumbprint_b64(key, t));
        assert_string_equal(jg_jwk_kid(key), t);
        check_round_trips(key);
        if (cases[i].kty == JG_KTY_RSA) { /* e = 65537 */
            char *json = NULL;
            assert_jg_ok(jg_jwk_to_json(key, 0, &json, NULL));
            assert_non_null(strstr(json, "\"e\":\"AQAB\""));
            jg_free(json);
        }
        /* Random: a second key differs (RSA is slow; one is enough). */
        if (cases[i].kty != JG_KTY_RSA) {
            assert_jg_ok(jg_jwk_generate(cases[i].kty, cases[i].crv, cases[i].bits, NULL, &twin));
            assert_string_not_equal(jg_jwk_kid(twin), jg_jwk_kid(key));
            jg_jwk_free(twin);
        }
        jg_jwk_free(key);
        tu_count("generated");
    }

    /* Metadata given by the caller. */
    jg_jwk_meta meta = {.kid = "k-2024",
                        .alg = JG_ALG_ES384,
                        .use = JG_USE_SIG,
                        .key_ops = JG_OP_SIGN | JG_OP_VERIFY};
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P384, 0, &meta, &key));
    assert_string_equal(jg_jwk_kid(key), "k-2024");
    assert_int_equal(jg_jwk_alg(key), JG_ALG_ES384);
    assert_int_equal(jg_jwk_key_ops(key), JG_OP_SIGN | JG_OP_VERIFY);
    assert_jg_ok(jg_jwk_check(key, JG_ALG_ES384, JG_OP_SIGN));
    jg_jwk_free(key);
}

static void test_generate_refusals(void **state)
{
    (void)state;
    jg_jwk *key = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 0, NULL, NULL));
    assert_jg(JG_ERR_KEY_KTY, jg_jwk_generate(JG_KTY_UNKNOWN, JG_CRV_NONE, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_KTY, jg_jwk_generate((jg_kty)9, JG_CRV_NONE, 0, NULL, &key));
    /* oct: at least 128 bits, whole bytes, at most 8192. */
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 120, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 129, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 8200, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate(JG_KTY_OCT, JG_CRV_P256, 0, NULL, &key));
    /* RSA: 2048 to 16384 bits, no curve. */
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 1024, NULL, &key));
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2047, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 16392, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate(JG_KTY_RSA, JG_CRV_P256, 0, NULL, &key));
    /* EC / OKP: a curve of that type, and no bits. */
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate(JG_KTY_EC, JG_CRV_NONE, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate(JG_KTY_EC, JG_CRV_ED25519, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate(JG_KTY_OKP, JG_CRV_P384, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate(JG_KTY_OKP, (jg_crv)42, 0, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_generate(JG_KTY_EC, JG_CRV_P256, 256, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_generate(JG_KTY_OKP, JG_CRV_X25519, 256, NULL, &key));
    /* Metadata that does not fit. */
    jg_jwk_meta wrong = {.alg = JG_ALG_RS256};
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_generate(JG_KTY_OKP, JG_CRV_ED25519, 0, &wrong, &key));
    jg_jwk_meta curve = {.alg = JG_ALG_ES256};
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate(JG_KTY_EC, JG_CRV_P521, 0, &curve, &key));
    jg_jwk_meta mixed = {.use = JG_USE_ENC, .key_ops = JG_OP_SIGN};
    assert_jg(JG_ERR_KEY_INVALID, jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 0, &mixed, &key));
    jg_jwk_meta bad_alg = {.alg = (jg_alg)77};
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 0, &bad_alg, &key));
    assert_null(key);
}

static void test_generate_for_alg(void **state)
{
    (void)state;
    static const struct {
        jg_alg alg;
        jg_crv crv;
        unsigned bits;
        jg_kty kty;
        jg_crv want_crv;
        unsigned want_bits;
    } cases[] = {
        {JG_ALG_HS256, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 256},
        {JG_ALG_HS384, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 384},
        {JG_ALG_HS512, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 512},
        {JG_ALG_HS256, JG_CRV_NONE, 512, JG_KTY_OCT, JG_CRV_NONE, 512},
        {JG_ALG_RS256, JG_CRV_NONE, 0, JG_KTY_RSA, JG_CRV_NONE, 2048},
        {JG_ALG_PS384, JG_CRV_NONE, 2304, JG_KTY_RSA, JG_CRV_NONE, 2304},
        {JG_ALG_RSA_OAEP_256, JG_CRV_NONE, 0, JG_KTY_RSA, JG_CRV_NONE, 2048},
        {JG_ALG_ES256, JG_CRV_NONE, 0, JG_KTY_EC, JG_CRV_P256, 256},
        {JG_ALG_ES384, JG_CRV_P384, 0, JG_KTY_EC, JG_CRV_P384, 384},
        {JG_ALG_ES512, JG_CRV_NONE, 0, JG_KTY_EC, JG_CRV_P521, 521},
        {JG_ALG_EDDSA, JG_CRV_NONE, 0, JG_KTY_OKP, JG_CRV_ED25519, 256},
        {JG_ALG_EDDSA, JG_CRV_ED448, 0, JG_KTY_OKP, JG_CRV_ED448, 456},
        {JG_ALG_ED25519, JG_CRV_NONE, 0, JG_KTY_OKP, JG_CRV_ED25519, 256},
        {JG_ALG_ED448, JG_CRV_ED448, 0, JG_KTY_OKP, JG_CRV_ED448, 456},
        {JG_ALG_ECDH_ES, JG_CRV_NONE, 0, JG_KTY_EC, JG_CRV_P256, 256},
        {JG_ALG_ECDH_ES_A128KW, JG_CRV_P521, 0, JG_KTY_EC, JG_CRV_P521, 521},
        {JG_ALG_ECDH_ES_A192KW, JG_CRV_X25519, 0, JG_KTY_OKP, JG_CRV_X25519, 256},
        {JG_ALG_ECDH_ES_A256KW, JG_CRV_X448, 0, JG_KTY_OKP, JG_CRV_X448, 448},
        {JG_ALG_A128KW, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 128},
        {JG_ALG_A192KW, JG_CRV_NONE, 192, JG_KTY_OCT, JG_CRV_NONE, 192},
        {JG_ALG_A256KW, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 256},
        {JG_ALG_A128GCMKW, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 128},
        {JG_ALG_A192GCMKW, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 192},
        {JG_ALG_A256GCMKW, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 256},
        {JG_ALG_DIR, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 256},
        {JG_ALG_DIR, JG_CRV_NONE, 512, JG_KTY_OCT, JG_CRV_NONE, 512},
        {JG_ALG_PBES2_HS256_A128KW, JG_CRV_NONE, 0, JG_KTY_OCT, JG_CRV_NONE, 256},
        {JG_ALG_PBES2_HS512_A256KW, JG_CRV_NONE, 384, JG_KTY_OCT, JG_CRV_NONE, 384},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jg_jwk *key = NULL;
        jg_err err = jg_jwk_generate_for_alg(cases[i].alg, cases[i].crv, cases[i].bits,
                                             i % 2 ? "given" : NULL, &key);
        if (err != JG_OK)
            fail_msg("%s: %s", jg_alg_name(cases[i].alg), jg_err_name(err));
        assert_int_equal(jg_jwk_kty(key), cases[i].kty);
        assert_int_equal(jg_jwk_crv(key), cases[i].want_crv);
        assert_int_equal(jg_jwk_bits(key), cases[i].want_bits);
        assert_int_equal(jg_jwk_alg(key), cases[i].alg);
        jg_alg_kind kind = jg_alg_kind_of(cases[i].alg);
        assert_int_equal(jg_jwk_use(key), kind == JG_ALG_KIND_JWS ? JG_USE_SIG : JG_USE_ENC);
        if (i % 2) {
            assert_string_equal(jg_jwk_kid(key), "given");
        } else {
            char t[44];
            assert_jg_ok(jg_jwk_thumbprint_b64(key, t));
            assert_string_equal(jg_jwk_kid(key), t);
        }
        /* The key is usable for its algorithm, both ways. */
        unsigned ops[2] = {kind == JG_ALG_KIND_JWS ? JG_OP_SIGN : JG_OP_ENCRYPT,
                           kind == JG_ALG_KIND_JWS ? JG_OP_VERIFY : JG_OP_DECRYPT};
        assert_jg_ok(jg_jwk_check(key, cases[i].alg, ops[0]));
        assert_jg_ok(jg_jwk_check(key, cases[i].alg, ops[1]));
        check_round_trips(key);
        jg_jwk_free(key);
        tu_count("generated-for-alg");
    }
}

static void test_generate_for_alg_refusals(void **state)
{
    (void)state;
    jg_jwk *key = NULL;
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_generate_for_alg(JG_ALG_UNKNOWN, 0, 0, NULL, &key));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_generate_for_alg(JG_ALG__COUNT, 0, 0, NULL, &key));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_generate_for_alg((jg_alg)-1, 0, 0, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_jwk_generate_for_alg(JG_ALG_HS256, JG_CRV_NONE, 0, NULL, NULL));
    /* HMAC keys at least the hash size. */
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_generate_for_alg(JG_ALG_HS512, JG_CRV_NONE, 384, NULL, &key));
    /* Wrap keys of exactly their size, dir of an enc size. */
    assert_jg(JG_ERR_KEY_SIZE,
              jg_jwk_generate_for_alg(JG_ALG_A128KW, JG_CRV_NONE, 256, NULL, &key));
    assert_jg(JG_ERR_KEY_SIZE,
              jg_jwk_generate_for_alg(JG_ALG_A256GCMKW, JG_CRV_NONE, 128, NULL, &key));
    assert_jg(JG_ERR_KEY_SIZE, jg_jwk_generate_for_alg(JG_ALG_DIR, JG_CRV_NONE, 320, NULL, &key));
    /* Curves. */
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_P384, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE,
              jg_jwk_generate_for_alg(JG_ALG_EDDSA, JG_CRV_X25519, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE,
              jg_jwk_generate_for_alg(JG_ALG_ED25519, JG_CRV_ED448, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE,
              jg_jwk_generate_for_alg(JG_ALG_ECDH_ES, JG_CRV_ED25519, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate_for_alg(JG_ALG_HS256, JG_CRV_P256, 0, NULL, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate_for_alg(JG_ALG_RS256, JG_CRV_P256, 0, NULL, &key));
    /* RSA sizes and EC bits. */
    assert_jg(JG_ERR_KEY_WEAK,
              jg_jwk_generate_for_alg(JG_ALG_PS256, JG_CRV_NONE, 1024, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_NONE, 256, NULL, &key));
    assert_null(key);
}

static int report(void **state)
{
    (void)state;
    tu_report("test_jwk_gen");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_every_type),
        cmocka_unit_test(test_generate_refusals),
        cmocka_unit_test(test_generate_for_alg),
        cmocka_unit_test(test_generate_for_alg_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
