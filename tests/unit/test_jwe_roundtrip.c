/*
 * test_jwe_roundtrip.c — encrypt and decrypt every key management algorithm
 * with every content encryption, with and without compression, in the three
 * serializations; several recipients of different algorithms with AAD,
 * shared and per-recipient headers; the result accessors.
 */
#include <stdio.h>

#include "jwe/jwe_internal.h"
#include "jwe_testlib.h"

static const jg_enc encs[] = {JG_ENC_A128CBC_HS256, JG_ENC_A192CBC_HS384, JG_ENC_A256CBC_HS512,
                              JG_ENC_A128GCM,       JG_ENC_A192GCM,       JG_ENC_A256GCM};
#define N_ENCS (sizeof encs / sizeof encs[0])

static const char plaintext[] =
    "{\"iss\":\"https://issuer.example\",\"sub\":\"alice\",\"scope\":\"read write\","
    "\"note\":\"repeated repeated repeated repeated repeated repeated repeated\"}";

typedef struct keyring {
    jg_jwk *rsa, *oct16, *oct24, *oct32, *pwd;
    jg_jwk *ec[5]; /* P-256, P-384, P-521, X25519, X448 */
    jg_jwk *dir[N_ENCS];
} keyring;

static keyring ring;
static const jg_crv curves[5] = {JG_CRV_P256, JG_CRV_P384, JG_CRV_P521, JG_CRV_X25519, JG_CRV_X448};

static int setup(void **state)
{
    (void)state;
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &ring.rsa));
    for (int i = 0; i < 5; i++)
        assert_jg_ok(jg_jwk_generate(curves[i] >= JG_CRV_X25519 ? JG_KTY_OKP : JG_KTY_EC, curves[i],
                                     0, NULL, &ring.ec[i]));
    assert_jg_ok(jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 128, NULL, &ring.oct16));
    assert_jg_ok(jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 192, NULL, &ring.oct24));
    assert_jg_ok(jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 256, NULL, &ring.oct32));
    const char *pw = "correct horse battery staple";
    assert_jg_ok(jg_jwk_from_secret((const unsigned char *)pw, strlen(pw), NULL, &ring.pwd));
    for (size_t e = 0; e < N_ENCS; e++) {
        unsigned bits = (unsigned)jg__enc_info_of(encs[e])->cek_len * 8;
        assert_jg_ok(jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, bits, NULL, &ring.dir[e]));
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jg_jwk_free(ring.rsa);
    jg_jwk_free(ring.oct16);
    jg_jwk_free(ring.oct24);
    jg_jwk_free(ring.oct32);
    jg_jwk_free(ring.pwd);
    for (int i = 0; i < 5; i++)
        jg_jwk_free(ring.ec[i]);
    for (size_t e = 0; e < N_ENCS; e++)
        jg_jwk_free(ring.dir[e]);
    return 0;
}

/* The key for `alg` (curve index for ECDH, enc index for dir). */
static jg_jwk *key_for(jg_alg alg, int curve, size_t enc)
{
    switch (alg) {
    case JG_ALG_DIR:
        return ring.dir[enc];
    case JG_ALG_A128KW:
    case JG_ALG_A128GCMKW:
        return ring.oct16;
    case JG_ALG_A192KW:
    case JG_ALG_A192GCMKW:
        return ring.oct24;
    case JG_ALG_A256KW:
    case JG_ALG_A256GCMKW:
        return ring.oct32;
    case JG_ALG_RSA_OAEP:
    case JG_ALG_RSA_OAEP_256:
    case JG_ALG_RSA_OAEP_384:
    case JG_ALG_RSA_OAEP_512:
        return ring.rsa;
    case JG_ALG_ECDH_ES:
    case JG_ALG_ECDH_ES_A128KW:
    case JG_ALG_ECDH_ES_A192KW:
    case JG_ALG_ECDH_ES_A256KW:
        return ring.ec[curve];
    default:
        return ring.pwd;
    }
}

/* One round trip; checks the result's accessors too. */
static void round_trip(jg_alg alg, jg_jwk *key, jg_enc enc, int zip, jg_format format)
{
    jg_jwe_recipient r = {key, alg, NULL};
    jg_jwe_encrypt_opts opts = {.enc = enc, .format = format, .zip = zip, .pbes2_count = 1000};
    char *token = NULL;
    size_t token_len = 0;
    assert_jg_ok(jg_jwe_encrypt(plaintext, strlen(plaintext), &r, 1, &opts, &token, &token_len));
    assert_int_equal(strlen(token), token_len);
    if (format == JG_FORMAT_COMPACT) {
        int dots = 0;
        for (const char *p = token; *p; p++)
            dots += *p == '.';
        assert_int_equal(dots, 4);
    } else {
        assert_true(token[0] == '{');
        assert_true((strstr(token, "\"recipients\"") != NULL) == (format == JG_FORMAT_GENERAL));
    }

    jg_jwks *keys = set_of1(key);
    jg_jwe *jwe = NULL;
    jg_jwe_decrypt_opts dopts = {JG_ALG_BIT(alg), JG_ENC_BIT(enc), NULL, NULL};
    assert_jg_ok(jg_jwe_decrypt(token, token_len, keys, &dopts, &jwe));
    size_t len = 0;
    const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
    assert_int_equal(len, strlen(plaintext));
    assert_memory_equal(pt, plaintext, len);
    assert_int_equal(jg_jwe_alg(jwe), alg);
    assert_int_equal(jg_jwe_enc(jwe), enc);
    assert_ptr_equal(jg_jwe_key(jwe), key);
    const char *s = NULL;
    assert_jg_ok(jg_jwe_header_string(jwe, "alg", &s));
    assert_string_equal(s, jg_alg_name(alg));
    assert_jg_ok(jg_jwe_header_string(jwe, "enc", &s));
    assert_string_equal(s, jg_enc_name(enc));
    if (jg_jwk_kid(key) != NULL) {
        assert_jg_ok(jg_jwe_header_string(jwe, "kid", &s));
        assert_string_equal(s, jg_jwk_kid(key));
    } else {
        assert_jg(JG_ERR_CLAIM_MISSING, jg_jwe_header_string(jwe, "kid", &s));
    }
    assert_jg(zip ? JG_OK : JG_ERR_CLAIM_MISSING, jg_jwe_header_string(jwe, "zip", &s));
    assert_null(jg_jwe_aad(jwe, NULL));
    jg_jwe_free(jwe);
    jg_jwks_free(keys);
    free(token);
}

static void test_every_alg_and_enc(void **state)
{
    (void)state;
    static const jg_alg algs[] = {JG_ALG_DIR,
                                  JG_ALG_A128KW,
                                  JG_ALG_A192KW,
                                  JG_ALG_A256KW,
                                  JG_ALG_A128GCMKW,
                                  JG_ALG_A192GCMKW,
                                  JG_ALG_A256GCMKW,
                                  JG_ALG_RSA_OAEP,
                                  JG_ALG_RSA_OAEP_256,
                                  JG_ALG_RSA_OAEP_384,
                                  JG_ALG_RSA_OAEP_512,
                                  JG_ALG_ECDH_ES,
                                  JG_ALG_ECDH_ES_A128KW,
                                  JG_ALG_ECDH_ES_A192KW,
                                  JG_ALG_ECDH_ES_A256KW,
                                  JG_ALG_PBES2_HS256_A128KW,
                                  JG_ALG_PBES2_HS384_A192KW,
                                  JG_ALG_PBES2_HS512_A256KW};
    for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        int is_ecdh = algs[a] >= JG_ALG_ECDH_ES && algs[a] <= JG_ALG_ECDH_ES_A256KW;
        for (int c = 0; c < (is_ecdh ? 5 : 1); c++) {
            for (size_t e = 0; e < N_ENCS; e++) {
                /* Every format with and without zip for one curve; the other
                 * curves in compact only (the serialization does not
                 * depend on the curve). */
                for (int f = JG_FORMAT_COMPACT; f <= JG_FORMAT_GENERAL; f++) {
                    for (int zip = 0; zip <= 1; zip++) {
                        if (c > 0 && (f != JG_FORMAT_COMPACT || zip))
                            continue;
                        round_trip(algs[a], key_for(algs[a], c, e), encs[e], zip, (jg_format)f);
                        tu_count("round-trip");
                    }
                }
            }
        }
    }
}

static void test_empty_and_large_plaintext(void **state)
{
    (void)state;
    size_t big_len = 200000;
    unsigned char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)(i * 7 + (i >> 9));
    jg_jwks *keys = set_of1(ring.oct32);
    for (size_t e = 0; e < N_ENCS; e++) {
        for (int zip = 0; zip <= 1; zip++) {
            jg_jwe_recipient r = {ring.oct32, JG_ALG_A256KW, NULL};
            jg_jwe_encrypt_opts opts = {.enc = encs[e], .zip = zip};
            char *token = NULL;
            assert_jg_ok(jg_jwe_encrypt(NULL, 0, &r, 1, &opts, &token, NULL));
            expect_plaintext(token, keys, 0, "", 0);
            free(token);
            assert_jg_ok(jg_jwe_encrypt(big, big_len, &r, 1, &opts, &token, NULL));
            jg_limits lim = jg_limits_default();
            lim.max_inflated_len = big_len;
            lim.max_token_len = 2 * big_len;
            jg_jwe *jwe = NULL;
            assert_jg_ok(decrypt_with(token, keys, 0, &lim, &jwe));
            size_t len = 0;
            const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
            assert_int_equal(len, big_len);
            assert_memory_equal(pt, big, big_len);
            jg_jwe_free(jwe);
            free(token);
            tu_count("round-trip");
        }
    }
    jg_jwks_free(keys);
    free(big);
}

/* Several recipients with different algorithms, AAD, shared and
 * per-recipient headers; each recipient decrypts alone. */
static void test_general_multi_recipient(void **state)
{
    (void)state;
    jg_jwe_recipient r[5] = {
        {ring.rsa, JG_ALG_RSA_OAEP_256, "{\"x-who\":\"rsa\"}"},
        {ring.ec[0], JG_ALG_ECDH_ES_A128KW, "{\"x-who\":\"p256\",\"apu\":\"QWxpY2U\"}"},
        {ring.ec[3], JG_ALG_ECDH_ES_A256KW, NULL},
        {ring.oct32, JG_ALG_A256GCMKW, "{\"x-who\":\"gcmkw\"}"},
        {ring.pwd, JG_ALG_PBES2_HS256_A128KW, NULL},
    };
    static const unsigned char aad[] = {0, 1, 2, 'a', 'a', 'd', 0xff};
    for (size_t e = 0; e < N_ENCS; e++) {
        jg_jwe_encrypt_opts opts = {.enc = encs[e],
                                    .format = JG_FORMAT_GENERAL,
                                    .zip = (int)(e & 1),
                                    .protected_json = "{\"cty\":\"JWT\"}",
                                    .unprotected_json = "{\"x-shared\":\"yes\"}",
                                    .aad = aad,
                                    .aad_len = sizeof aad,
                                    .pbes2_count = 1000};
        char *token = NULL;
        assert_jg_ok(jg_jwe_encrypt(plaintext, strlen(plaintext), r, 5, &opts, &token, NULL));
        json_t *doc = json_loads(token, 0, NULL);
        assert_non_null(doc);
        assert_int_equal(json_array_size(json_object_get(doc, "recipients")), 5);
        /* alg and kid are per recipient; enc, cty and zip protected. */
        assert_null(json_object_get(json_object_get(doc, "unprotected"), "alg"));
        assert_non_null(tu_json_str(doc, "recipients/1/header/epk/x"));
        assert_non_null(tu_json_str(doc, "recipients/3/header/iv"));
        assert_int_equal(json_integer_value(tu_json_at(doc, "recipients/4/header/p2c")), 1000);
        json_decref(doc);

        for (size_t i = 0; i < 5; i++) {
            jg_jwks *keys = set_of1((jg_jwk *)r[i].key);
            jg_jwe *jwe = NULL;
            assert_jg_ok(decrypt_with(token, keys, 0, NULL, &jwe));
            size_t len = 0, aad_len = 0;
            const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
            assert_int_equal(len, strlen(plaintext));
            assert_memory_equal(pt, plaintext, len);
            assert_int_equal(jg_jwe_alg(jwe), r[i].alg);
            const unsigned char *got_aad = jg_jwe_aad(jwe, &aad_len);
            assert_non_null(got_aad);
            assert_int_equal(aad_len, sizeof aad);
            assert_memory_equal(got_aad, aad, sizeof aad);
            const char *s = NULL;
            assert_jg_ok(jg_jwe_header_string(jwe, "x-shared", &s));
            assert_string_equal(s, "yes");
            assert_jg_ok(jg_jwe_header_string(jwe, "cty", &s));
            assert_string_equal(s, "JWT");
            if (r[i].header_json != NULL) {
                assert_jg_ok(jg_jwe_header_string(jwe, "x-who", &s));
            } else {
                assert_jg(JG_ERR_CLAIM_MISSING, jg_jwe_header_string(jwe, "x-who", &s));
            }
            if (i == 1 || i == 2) /* an object, not a string */
                assert_jg(JG_ERR_JSON_TYPE, jg_jwe_header_string(jwe, "epk", &s));
            char *prot = NULL, want[128];
            assert_jg_ok(jg_jwe_protected_json(jwe, &prot));
            snprintf(want, sizeof want, "{\"cty\":\"JWT\",\"enc\":\"%s\"%s}", jg_enc_name(encs[e]),
                     e & 1 ? ",\"zip\":\"DEF\"" : "");
            assert_string_equal(prot, want);
            free(prot);
            jg_jwe_free(jwe);
            jg_jwks_free(keys);
            tu_count("multi-recipient");
        }
        /* All keys in one set, and only the PBES2 alg allowed. */
        jg_jwk *all[5] = {(jg_jwk *)r[0].key, (jg_jwk *)r[1].key, (jg_jwk *)r[2].key,
                          (jg_jwk *)r[3].key, (jg_jwk *)r[4].key};
        jg_jwks *keys = set_of(all, 5);
        jg_jwe *jwe = NULL;
        assert_jg_ok(decrypt_with(token, keys, JG_ALG_BIT(JG_ALG_PBES2_HS256_A128KW), NULL, &jwe));
        assert_ptr_equal(jg_jwe_key(jwe), ring.pwd);
        jg_jwe_free(jwe);
        jg_jwks_free(keys);
        free(token);
    }
}

/* Defaults: NULL options are A256GCM compact; a dir key bound to an enc by
 * its JWK "alg" picks that enc. */
static void test_defaults(void **state)
{
    (void)state;
    jg_jwe_recipient r = {ring.oct32, JG_ALG_A256KW, NULL};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("x", 1, &r, 1, NULL, &token, NULL));
    jg_jwks *keys = set_of1(ring.oct32);
    jg_jwe *jwe = NULL;
    assert_jg_ok(decrypt_with(token, keys, 0, NULL, &jwe));
    assert_int_equal(jg_jwe_enc(jwe), JG_ENC_A256GCM);
    char *prot = NULL;
    assert_jg_ok(jg_jwe_protected_json(jwe, &prot));
    char want[256];
    snprintf(want, sizeof want, "{\"alg\":\"A256KW\",\"enc\":\"A256GCM\",\"kid\":\"%s\"}",
             jg_jwk_kid(ring.oct32));
    assert_string_equal(prot, want);
    free(prot);
    jg_jwe_free(jwe);
    jg_jwks_free(keys);
    free(token);

    jg_jwk *dir =
        key_from_text("{\"kty\":\"oct\",\"alg\":\"A128GCM\",\"k\":\"XctOhJAkA-pD9Lh7ZgW_2A\"}");
    jg_jwe_recipient rd = {dir, JG_ALG_UNKNOWN, NULL};
    assert_jg_ok(jg_jwe_encrypt("x", 1, &rd, 1, NULL, &token, NULL));
    keys = set_of1(dir);
    assert_jg_ok(decrypt_with(token, keys, 0, NULL, &jwe));
    assert_int_equal(jg_jwe_alg(jwe), JG_ALG_DIR);
    assert_int_equal(jg_jwe_enc(jwe), JG_ENC_A128GCM);
    jg_jwe_free(jwe);
    jg_jwks_free(keys);
    free(token);
    /* The same key for another enc is refused: its JWK says A128GCM. */
    jg_jwe_encrypt_opts opts = {.enc = JG_ENC_A256GCM};
    assert_jg(JG_ERR_KEY_ALG, jg_jwe_encrypt("x", 1, &rd, 1, &opts, &token, NULL));
    jg_jwk_free(dir);
}

/* Compact tokens decrypt with the kid of the header; without kid every
 * usable key is tried. */
static void test_key_selection(void **state)
{
    (void)state;
    jg_jwk *other = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, 256, NULL, &other));
    jg_jwk *anon = NULL;
    jg_jwk_meta none = {0};
    assert_jg_ok(jg_jwk_with_meta(ring.oct32, &none, &anon));
    jg_jwk *pair[3] = {other, ring.ec[0], anon};
    jg_jwks *keys = set_of(pair, 3);

    jg_jwe_recipient r = {anon, JG_ALG_A256KW, NULL};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("abc", 3, &r, 1, NULL, &token, NULL));
    jg_jwe *jwe = NULL;
    assert_jg_ok(decrypt_with(token, keys, 0, NULL, &jwe));
    assert_ptr_equal(jg_jwe_key(jwe), anon);
    const char *s = NULL;
    assert_jg(JG_ERR_CLAIM_MISSING, jg_jwe_header_string(jwe, "kid", &s));
    jg_jwe_free(jwe);
    free(token);
    jg_jwks_free(keys);
    jg_jwk_free(other);
    jg_jwk_free(anon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_alg_and_enc),
        cmocka_unit_test(test_empty_and_large_plaintext),
        cmocka_unit_test(test_general_multi_recipient),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_key_selection),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    tu_report("test_jwe_roundtrip");
    return failed;
}
