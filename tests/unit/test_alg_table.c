/*
 * test_alg_table.c — the one table of algorithm facts (lib/core/alg.c) agrees
 * with what the primitives really do, and the one strict UTF-8 validator and
 * plain-JSON-string check (lib/core/text.c) that every caller shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alg_info.h"
#include "core/jdoc.h"
#include "core/text.h"
#include "jwe/jwe_internal.h"
#include "jws/sig.h"
#include "testutil.h"

/* Every algorithm has a complete row; the unknown one and anything out of
 * range read as the all-zero row. */
static void test_every_alg_has_a_row(void **state)
{
    (void)state;
    for (int i = 1; i < JG_ALG__COUNT; i++) {
        const jg__alg_info *a = jg__alg((jg_alg)i);
        assert_non_null(a->name);
        assert_int_equal(jg_alg_from_name(a->name, strlen(a->name)), i);
        assert_string_equal(jg_alg_name((jg_alg)i), a->name);
        assert_int_not_equal(a->kind, JG_ALG_KIND_NONE);
        assert_int_not_equal(a->family, JG__FAM_NONE);
        /* A family is either all JWS or all JWE. */
        int jws_family = a->family <= JG__FAM_EDDSA;
        assert_int_equal(a->kind == JG_ALG_KIND_JWS, jws_family);
        /* A fixed key type, or a curve that decides it. */
        assert_true(a->kty != JG_KTY_UNKNOWN || a->crvs != 0);
        if (a->crvs != 0)
            assert_true((a->crvs & JG__CRV_BIT(a->crv)) != 0); /* the default is allowed */
        if (a->kind == JG_ALG_KIND_JWE)
            assert_int_equal(a->sig_len, 0);
    }
    const jg__alg_info *zero = jg__alg(JG_ALG_UNKNOWN);
    assert_null(zero->name);
    assert_int_equal(zero->kind, JG_ALG_KIND_NONE);
    assert_ptr_equal(jg__alg(JG_ALG__COUNT), zero);
    assert_ptr_equal(jg__alg((jg_alg)1000), zero);
    assert_int_equal(jg_alg_kind_of((jg_alg)1000), JG_ALG_KIND_NONE);
}

/* The prepared-state slots of a family never collide. */
static void test_slots_are_distinct(void **state)
{
    (void)state;
    int prep[JG__PREP_SLOTS] = {0};
    int hmac[JG__HMAC_COUNT] = {0};
    int rsa_kw[JG__RSA_KW_SLOTS / 2] = {0};
    for (int i = 1; i < JG_ALG__COUNT; i++) {
        const jg__alg_info *a = jg__alg((jg_alg)i);
        int *seen = NULL;
        size_t cap = 0;
        if (a->family == JG__FAM_RSA_PKCS1 || a->family == JG__FAM_RSA_PSS ||
            a->family == JG__FAM_ECDSA) {
            assert_int_equal(jg__prep_slot((jg_alg)i), a->slot);
            seen = prep, cap = JG__PREP_SLOTS;
        } else if (a->family == JG__FAM_HMAC) {
            assert_int_equal(jg__hmac_slot((jg_alg)i), a->slot);
            seen = hmac, cap = JG__HMAC_COUNT;
        } else if (a->family == JG__FAM_RSA_ENC) {
            seen = rsa_kw, cap = JG__RSA_KW_SLOTS / 2;
        } else {
            assert_int_equal(jg__prep_slot((jg_alg)i), -1);
            assert_int_equal(jg__hmac_slot((jg_alg)i), -1);
            continue;
        }
        assert_true(a->slot < cap);
        assert_int_equal(seen[a->slot], 0);
        seen[a->slot] = i;
    }
}

/* For every JWS alg: a key generated for it suits it, a different key type
 * does not, and a real signature has the length the table states. */
static void test_jws_facts_match_signatures(void **state)
{
    (void)state;
    static const char payload[] = "{\"sub\":\"table\"}";
    jg_jwk *rsa = NULL;
    assert_jg_ok(
        jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &rsa)); /* no "alg": RS* and PS* */
    for (int i = 1; i < JG_ALG__COUNT; i++) {
        const jg__alg_info *a = jg__alg((jg_alg)i);
        if (a->kind != JG_ALG_KIND_JWS)
            continue;
        jg_jwk *key = NULL;
        int is_rsa = a->family == JG__FAM_RSA_PKCS1 || a->family == JG__FAM_RSA_PSS;
        if (is_rsa) {
            key = jg_jwk_ref(rsa);
        } else {
            assert_jg_ok(jg_jwk_generate_for_alg((jg_alg)i, JG_CRV_NONE, 0, "k", &key));
        }
        assert_int_equal(jg_jwk_kty(key), a->kty);
        if (a->crvs != 0)
            assert_int_equal(jg_jwk_crv(key), a->crv);
        if (a->family == JG__FAM_HMAC)
            assert_int_equal(jg_jwk_bits(key), jg__hash_len((jg__hash)a->hash) * 8u);
        assert_jg_ok(jg__alg_key_suits((jg_alg)i, jg_jwk_kty(key), jg_jwk_crv(key)));
        assert_jg(JG_ERR_KEY_TYPE,
                  jg__alg_key_suits((jg_alg)i, is_rsa ? JG_KTY_OCT : JG_KTY_RSA, JG_CRV_NONE));

        jg_jws_signer signer = {key, (jg_alg)i, NULL, NULL};
        char *tok = NULL;
        size_t tok_len = 0;
        assert_jg_ok(jg_jws_sign(payload, strlen(payload), &signer, NULL, &tok, &tok_len));
        const char *dot = strrchr(tok, '.');
        assert_non_null(dot);
        unsigned char sig[JG__SIG_MAX];
        size_t sig_len = 0;
        assert_jg_ok(jg_b64url_decode(dot + 1, strlen(dot + 1), sig, &sig_len));
        assert_int_equal(sig_len, jg__sig_len(key, (jg_alg)i));
        if (a->sig_len != 0)
            assert_int_equal(sig_len, a->sig_len);
        else if (is_rsa)
            assert_int_equal(sig_len, 256); /* the modulus length */
        jg_free(tok);
        jg_jwk_free(key);
    }
    jg_jwk_free(rsa);
}

/* Curves: ES* take exactly one, EdDSA either signing curve, ECDH-ES every
 * agreement curve and no signing one. */
static void test_curves(void **state)
{
    (void)state;
    assert_jg_ok(jg__alg_key_suits(JG_ALG_ES512, JG_KTY_EC, JG_CRV_P521));
    assert_jg(JG_ERR_KEY_CURVE, jg__alg_key_suits(JG_ALG_ES512, JG_KTY_EC, JG_CRV_P256));
    assert_jg(JG_ERR_KEY_TYPE, jg__alg_key_suits(JG_ALG_ES512, JG_KTY_OKP, JG_CRV_ED25519));
    assert_jg_ok(jg__alg_key_suits(JG_ALG_EDDSA, JG_KTY_OKP, JG_CRV_ED448));
    assert_jg(JG_ERR_KEY_CURVE, jg__alg_key_suits(JG_ALG_EDDSA, JG_KTY_OKP, JG_CRV_X25519));
    assert_jg(JG_ERR_KEY_CURVE, jg__alg_key_suits(JG_ALG_ED25519, JG_KTY_OKP, JG_CRV_ED448));
    for (jg_crv c = JG_CRV_P256; c <= JG_CRV_X448; c++) {
        int ecdh = c != JG_CRV_ED25519 && c != JG_CRV_ED448;
        jg_kty kty = c <= JG_CRV_P521 ? JG_KTY_EC : JG_KTY_OKP;
        assert_jg(ecdh ? JG_OK : JG_ERR_KEY_CURVE,
                  jg__alg_key_suits(JG_ALG_ECDH_ES_A256KW, kty, c));
    }
    assert_jg(JG_ERR_KEY_TYPE, jg__alg_key_suits(JG_ALG_ECDH_ES, JG_KTY_OCT, JG_CRV_NONE));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg__alg_key_suits(JG_ALG_UNKNOWN, JG_KTY_OCT, JG_CRV_NONE));
    /* Generation takes the row's default and refuses a curve the row does not allow. */
    jg_jwk *key = NULL;
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_generate_for_alg(JG_ALG_ES384, JG_CRV_P256, 0, "k", &key));
    assert_jg(JG_ERR_KEY_CURVE,
              jg_jwk_generate_for_alg(JG_ALG_ECDH_ES, JG_CRV_ED25519, 0, "k", &key));
    assert_jg_ok(jg_jwk_generate_for_alg(JG_ALG_ECDH_ES, JG_CRV_X448, 0, "k", &key));
    assert_int_equal(jg_jwk_kty(key), JG_KTY_OKP);
    jg_jwk_free(key);
}

/* JWE sizes: the key-wrapping key lengths and the direct algorithms. */
static void test_jwe_facts(void **state)
{
    (void)state;
    for (int i = 1; i < JG_ALG__COUNT; i++) {
        const jg__alg_info *a = jg__alg((jg_alg)i);
        if (a->family != JG__FAM_AESKW && a->family != JG__FAM_GCMKW)
            continue;
        jg_jwk *key = NULL;
        assert_jg_ok(jg_jwk_generate_for_alg((jg_alg)i, JG_CRV_NONE, 0, "k", &key));
        assert_int_equal(jg_jwk_bits(key), a->kek_len * 8u);
        assert_jg_ok(jg_jwk_check(key, (jg_alg)i, JG_OP_ENCRYPT));
        jg_jwk_free(key);
        assert_jg(JG_ERR_KEY_SIZE, jg_jwk_generate_for_alg((jg_alg)i, JG_CRV_NONE,
                                                           a->kek_len * 8u + 64u, "k", &key));
    }
    assert_int_equal(jg__kw_key_len(JG_ALG_PBES2_HS384_A192KW), 24);
    assert_int_equal(jg__kw_key_len(JG_ALG_ECDH_ES_A128KW), 16);
    assert_int_equal(jg__kw_key_len(JG_ALG_ECDH_ES), 0);
    assert_true(jg__alg_is_direct(JG_ALG_DIR));
    assert_true(jg__alg_is_direct(JG_ALG_ECDH_ES));
    assert_false(jg__alg_is_direct(JG_ALG_ECDH_ES_A128KW));
    assert_false(jg__alg_is_direct(JG_ALG_HS256));
    assert_string_equal(jg__hash_name(JG__HASH_SHA1), "SHA1");
    assert_int_equal(jg__hash_len(JG__HASH_SHA384), 48);
    assert_null(jg__hash_name(JG__HASH_NONE));
}

/* A reference decoder written from RFC 3629's table, independent of the
 * library's: 1 when s[0..len) is exactly one scalar value. */
static int ref_one_scalar(const unsigned char *s, size_t len)
{
    unsigned cp;
    size_t n;
    if (s[0] < 0x80)
        n = 1, cp = s[0];
    else if ((s[0] & 0xE0) == 0xC0)
        n = 2, cp = s[0] & 0x1Fu;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, cp = s[0] & 0x0Fu;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (n != len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    return cp >= min[n] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
}

/* Every 1-, 2- and 3-byte string, and every 4-byte one with lead F0..F7 and
 * a second byte over its whole range: the validator agrees with the
 * reference. */
static void test_utf8_exhaustive(void **state)
{
    (void)state;
    unsigned char s[4];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        assert_int_equal(jg__utf8_valid(s, 1), ref_one_scalar(s, 1));
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            if (a >= 0x80)
                assert_int_equal(jg__utf8_valid(s, 2), ref_one_scalar(s, 2));
            if (a < 0xE0 || a > 0xEF)
                continue;
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (unsigned char)c;
                assert_int_equal(jg__utf8_valid(s, 3), ref_one_scalar(s, 3));
            }
        }
    }
    for (unsigned a = 0xF0; a < 0xF8; a++)
        for (unsigned b = 0; b < 256; b++) {
            s[0] = (unsigned char)a, s[1] = (unsigned char)b, s[2] = 0x80, s[3] = 0xBF;
            assert_int_equal(jg__utf8_valid(s, 4), ref_one_scalar(s, 4));
            assert_int_equal(jg__utf8_valid(s, 3), 0); /* truncated */
        }
}

/* The cases by name, and the same verdicts from each place that reads text
 * from outside: the JSON reader, the claims parser and the JWS signer. */
static void test_utf8_every_user_agrees(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        int valid;
    } cases[] = {
        {"plain", 1},
        {"caf\xC3\xA9", 1},
        {"\xE2\x82\xAC", 1},     /* U+20AC */
        {"\xF0\x9F\x98\x80", 1}, /* U+1F600 */
        {"\xF4\x8F\xBF\xBF", 1}, /* U+10FFFF */
        {"\xC0\xAF", 0},         /* overlong '/' */
        {"\xE0\x80\xAF", 0},     /* overlong */
        {"\xF0\x80\x80\xAF", 0}, /* overlong */
        {"\xED\xA0\x80", 0},     /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", 0}, /* above U+10FFFF */
        {"\xC3", 0},             /* truncated */
        {"\x80", 0},             /* lone continuation */
        {"\xFF", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].bytes;
        assert_int_equal(jg__utf8_valid(t, strlen(t)), cases[i].valid);

        char json[64];
        int n = snprintf(json, sizeof json, "{\"sub\":\"%s\"}", t);
        assert_true(n > 0 && (size_t)n < sizeof json);
        jg__jdoc *doc = NULL;
        jg_err err = jg__jdoc_parse(json, (size_t)n, 16, &doc);
        assert_int_equal(err == JG_OK, cases[i].valid);
        jg__jdoc_free(doc);

        jg_claims *claims = NULL;
        err = jg_claims_parse(json, (size_t)n, NULL, &claims);
        assert_int_equal(err == JG_OK, cases[i].valid);
        jg_claims_free(claims);

        /* An unencoded (b64:false) JSON-serialized payload must be UTF-8. */
        static const unsigned char secret[32] = {1};
        jg_jwk *key = NULL;
        assert_jg_ok(jg_jwk_from_secret(secret, sizeof secret, NULL, &key));
        jg_jws_signer signer = {key, JG_ALG_HS256, NULL, NULL};
        jg_jws_sign_opts opts = {0};
        opts.format = JG_FORMAT_FLATTENED;
        opts.b64_false = 1;
        char *tok = NULL;
        err = jg_jws_sign(t, strlen(t), &signer, &opts, &tok, NULL);
        assert_int_equal(err == JG_OK, cases[i].valid);
        if (!cases[i].valid)
            assert_int_equal(err, JG_ERR_TOKEN_FORMAT);
        jg_free(tok);
        jg_jwk_free(key);
    }
}

static void test_json_plain(void **state)
{
    (void)state;
    assert_true(jg__json_plain(""));
    assert_true(jg__json_plain("at+jwt"));
    assert_true(jg__json_plain("key-2024 ~!"));
    assert_false(jg__json_plain("a\"b"));
    assert_false(jg__json_plain("a\\b"));
    assert_false(jg__json_plain("tab\there"));
    assert_false(jg__json_plain("\x7F"));
    assert_false(jg__json_plain("caf\xC3\xA9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_alg_has_a_row),
        cmocka_unit_test(test_slots_are_distinct),
        cmocka_unit_test(test_jws_facts_match_signatures),
        cmocka_unit_test(test_curves),
        cmocka_unit_test(test_jwe_facts),
        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_utf8_every_user_agrees),
        cmocka_unit_test(test_json_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
