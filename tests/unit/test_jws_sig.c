/*
 * test_jws_sig.c — the signature primitives below the JWS layer: the ECDSA
 * raw <-> DER conversion (strictness, edge values, P-521 long lengths), the
 * signing input in pieces, and signature lengths per algorithm.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "jws/sig.h"
#include "jws_testlib.h"

static void roundtrip(const unsigned char *raw, size_t coord)
{
    unsigned char der[JG__ECDSA_DER_MAX], back[132];
    size_t n = jg__ecdsa_raw_to_der(raw, coord, der);
    assert_true(n > 0 && n <= JG__ECDSA_DER_MAX);
    assert_int_equal(jg__ecdsa_der_to_raw(der, n, coord, back), 2 * coord);
    assert_memory_equal(back, raw, 2 * coord);
    /* Every strict prefix and any extension is refused. */
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(jg__ecdsa_der_to_raw(der, cut, coord, back), 0);
}

static void test_ecdsa_der_roundtrip(void **state)
{
    (void)state;
    static const size_t coords[] = {32, 48, 66};
    unsigned char raw[132];
    for (size_t c = 0; c < 3; c++) {
        size_t coord = coords[c];
        for (int i = 0; i < 200; i++) {
            assert_int_equal(RAND_bytes(raw, (int)(2 * coord)), 1);
            if (coord == 66) { /* P-521 values fit in 521 bits */
                raw[0] &= 0x01;
                raw[66] &= 0x01;
            }
            switch (i % 5) {
            case 1: /* high bit set: needs a 0x00 pad */
                raw[0] |= 0x80;
                raw[coord] |= 0x80;
                if (coord == 66)
                    raw[0] = raw[66] = 0x01;
                break;
            case 2: /* leading zero bytes: shorter INTEGERs */
                memset(raw, 0, coord - 1);
                memset(raw + coord, 0, 5);
                break;
            case 3: /* the smallest values */
                memset(raw, 0, 2 * coord);
                raw[coord - 1] = 1;
                raw[2 * coord - 1] = 0x80;
                break;
            default:
                break;
            }
            roundtrip(raw, coord);
        }
        tu_count("der-curve");
    }
}

static void test_ecdsa_der_strict(void **state)
{
    (void)state;
    unsigned char raw[132];
    static const struct {
        unsigned char der[12];
        size_t len;
    } bad[] = {
        {{0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 8},              /* SET, not SEQUENCE */
        {{0x30, 0x06, 0x03, 0x01, 0x01, 0x02, 0x01, 0x01}, 8},              /* not INTEGER */
        {{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 8},              /* length too long */
        {{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00}, 9},        /* trailing byte */
        {{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01}, 9},        /* non-minimal */
        {{0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01}, 8},              /* negative */
        {{0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01}, 7},                    /* empty INTEGER */
        {{0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 9},        /* long form < 128 */
        {{0x30, 0x82, 0x00, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 10}, /* 2-byte length */
        {{0x30, 0x03, 0x02, 0x01, 0x01}, 5},                                /* one INTEGER */
        {{0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 11}, /* three */
        {{0x30, 0x06, 0x02, 0x81, 0x01, 0x02, 0x01, 0x01}, 8}, /* long INTEGER length */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (jg__ecdsa_der_to_raw(bad[i].der, bad[i].len, 32, raw) != 0)
            fail_msg("malformed DER %zu accepted", i);
    /* An INTEGER wider than the coordinate. */
    unsigned char wide[2 + 2 + 33 + 3];
    wide[0] = 0x30;
    wide[1] = 2 + 33 + 3;
    wide[2] = 0x02;
    wide[3] = 33;
    memset(wide + 4, 0x11, 33);
    memcpy(wide + 37, "\x02\x01\x01", 3);
    assert_int_equal(jg__ecdsa_der_to_raw(wide, sizeof wide, 32, raw), 0);
    assert_int_equal(jg__ecdsa_der_to_raw(wide, sizeof wide, 48, raw), 0 + 96);
    /* The well-formed minimum. */
    static const unsigned char ok[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x7f};
    assert_int_equal(jg__ecdsa_der_to_raw(ok, sizeof ok, 32, raw), 64);
    assert_int_equal(raw[31], 1);
    assert_int_equal(raw[63], 0x7f);
}

static void test_signing_input_pieces(void **state)
{
    (void)state;
    /* Signing "h.p" in one piece or three gives the same MAC, and the
     * deterministic signatures agree across pieces. */
    unsigned char secret[64];
    memset(secret, 7, sizeof secret);
    jg_jwk *k = NULL;
    assert_jg_ok(jg_jwk_from_secret(secret, sizeof secret, NULL, &k));
    jg_jwk *ed = NULL, *ed448 = NULL, *rsa = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_OKP, JG_CRV_ED25519, 0, NULL, &ed));
    assert_jg_ok(jg_jwk_generate(JG_KTY_OKP, JG_CRV_ED448, 0, NULL, &ed448));
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &rsa));
    struct {
        jg_jwk *key;
        jg_alg alg;
    } cases[] = {{k, JG_ALG_HS256},  {k, JG_ALG_HS384},     {k, JG_ALG_HS512},
                 {ed, JG_ALG_EDDSA}, {ed448, JG_ALG_ED448}, {rsa, JG_ALG_RS384}};
    /* A large payload makes EdDSA join on the heap. */
    size_t big_len = 5000;
    char *big = malloc(big_len + 3);
    memset(big, 'x', big_len + 3);
    memcpy(big, "hdr.", 4);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int large = 0; large < 2; large++) {
            size_t plen = large ? big_len - 4 : 7;
            jg__sig_input one, three;
            jg__sig_input_one(&one, big, 4 + plen);
            jg__sig_input_three(&three, "hdr", 3, big + 4, plen);
            unsigned char s1[JG__SIG_MAX], s3[JG__SIG_MAX];
            size_t l1 = 0, l3 = 0;
            assert_jg_ok(jg__sig_sign(cases[i].key, cases[i].alg, &one, s1, &l1));
            assert_jg_ok(jg__sig_sign(cases[i].key, cases[i].alg, &three, s3, &l3));
            assert_int_equal(l1, l3);
            assert_int_equal(l1, jg__sig_len(cases[i].key, cases[i].alg));
            assert_memory_equal(s1, s3, l1);
            assert_jg_ok(jg__sig_verify(cases[i].key, cases[i].alg, &three, s1, l1));
            s1[0] ^= 1;
            assert_jg(JG_ERR_SIGNATURE, jg__sig_verify(cases[i].key, cases[i].alg, &one, s1, l1));
        }
    }
    /* A family primitive given a key of another type refuses. */
    jg__sig_input in;
    jg__sig_input_one(&in, "a.b", 3);
    unsigned char sig[JG__SIG_MAX];
    size_t len = 0;
    assert_jg(JG_ERR_KEY_TYPE, jg__hmac_sign(ed, JG_ALG_HS256, &in, sig, &len));
    assert_jg(JG_ERR_KEY_TYPE, jg__rsa_sign(k, JG_ALG_RS256, &in, sig, &len));
    assert_jg(JG_ERR_KEY_TYPE, jg__rsa_sign(rsa, JG_ALG_ES256, &in, sig, &len));
    assert_jg(JG_ERR_KEY_TYPE, jg__ecdsa_sign(rsa, JG_ALG_ES256, &in, sig, &len));
    assert_jg(JG_ERR_KEY_TYPE, jg__eddsa_sign(ed, JG_ALG_ED448, &in, sig, &len));
    assert_jg(JG_ERR_KEY_TYPE, jg__eddsa_verify(ed448, JG_ALG_ED25519, &in, sig, 64));
    free(big);
    jg_jwk_free(rsa);
    jg_jwk_free(ed448);
    jg_jwk_free(ed);
    jg_jwk_free(k);
}

/* PS* verification fixes the salt length to the hash length: a PSS
 * signature with another salt length (valid for RSASSA-PSS in general) is
 * refused. */
static void test_pss_salt_length_is_fixed(void **state)
{
    (void)state;
    jg_jwk *rsa = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &rsa));
    EVP_PKEY *pkey = rsa->pkey;
    static const char msg[] = "hdr.payload";
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, pkey, NULL), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20) > 0); /* not 32 */
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)msg, strlen(msg)),
                     1);
    EVP_MD_CTX_free(ctx);
    jg__sig_input in;
    jg__sig_input_one(&in, msg, strlen(msg));
    assert_jg(JG_ERR_SIGNATURE, jg__sig_verify(rsa, JG_ALG_PS256, &in, sig, sig_len));
    /* Ours, with salt = 32, verifies. */
    assert_jg_ok(jg__sig_sign(rsa, JG_ALG_PS256, &in, sig, &sig_len));
    assert_jg_ok(jg__sig_verify(rsa, JG_ALG_PS256, &in, sig, sig_len));
    /* PKCS#1 v1.5 and PSS signatures are not interchangeable. */
    assert_jg(JG_ERR_SIGNATURE, jg__sig_verify(rsa, JG_ALG_RS256, &in, sig, sig_len));
    jg_jwk_free(rsa);
}

/* Keys carry sign/verify templates for exactly the algs they may serve; a
 * key without them (as the preparation leaves JWE-only keys) still signs and
 * verifies, through a full initialisation, with identical results. */
static void test_prepared_templates(void **state)
{
    (void)state;
    jg_jwk *rsa = NULL, *ec = NULL, *rs384 = NULL, *enc = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &rsa));
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P384, 0, NULL, &ec));
    jg_jwk_meta meta = {.alg = JG_ALG_RS384};
    assert_jg_ok(jg_jwk_with_meta(rsa, &meta, &rs384));
    meta = (jg_jwk_meta){.use = JG_USE_ENC};
    assert_jg_ok(jg_jwk_with_meta(rsa, &meta, &enc));
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(rsa, &pub));

    EVP_PKEY_CTX *ctx = NULL;
    for (jg_alg alg = JG_ALG_RS256; alg <= JG_ALG_PS512; alg = (jg_alg)(alg + 1)) {
        assert_jg_ok(jg__prep_ctx(rsa, alg, 1, &ctx));
        EVP_PKEY_CTX_free(ctx);
        assert_jg_ok(jg__prep_ctx(pub, alg, 0, &ctx));
        EVP_PKEY_CTX_free(ctx);
        assert_jg(JG_ERR_KEY_TYPE, jg__prep_ctx(pub, alg, 1, &ctx)); /* public: no signing */
        assert_jg(alg == JG_ALG_RS384 ? JG_OK : JG_ERR_KEY_TYPE, jg__prep_ctx(rs384, alg, 0, &ctx));
        if (alg == JG_ALG_RS384)
            EVP_PKEY_CTX_free(ctx);
        assert_jg(JG_ERR_KEY_TYPE, jg__prep_ctx(ec, alg, 0, &ctx));
    }
    assert_null(enc->sig_prep);
    assert_jg_ok(jg__prep_ctx(ec, JG_ALG_ES384, 0, &ctx));
    EVP_PKEY_CTX_free(ctx);
    assert_jg(JG_ERR_KEY_TYPE, jg__prep_ctx(ec, JG_ALG_ES256, 0, &ctx));

    /* Template path and full path agree in both directions. */
    struct {
        jg_jwk *key;
        jg_alg alg;
    } cases[] = {{rsa, JG_ALG_RS256},
                 {rsa, JG_ALG_RS512},
                 {rsa, JG_ALG_PS256},
                 {rsa, JG_ALG_PS384},
                 {ec, JG_ALG_ES384}};
    jg__sig_input in;
    jg__sig_input_three(&in, "eyJhbGciOiJFUzM4NCJ9", 20, "cGF5bG9hZA", 10);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jg_jwk *k = cases[i].key;
        unsigned char a[JG__SIG_MAX], b[JG__SIG_MAX];
        size_t alen = 0, blen = 0;
        assert_jg_ok(jg__sig_sign(k, cases[i].alg, &in, a, &alen));
        jg__sig_prep *saved = k->sig_prep;
        k->sig_prep = NULL;
        assert_jg_ok(jg__sig_verify(k, cases[i].alg, &in, a, alen));
        assert_jg_ok(jg__sig_sign(k, cases[i].alg, &in, b, &blen));
        assert_int_equal(alen, blen);
        if (cases[i].alg <= JG_ALG_RS512)
            assert_memory_equal(a, b, alen); /* deterministic */
        b[blen - 1] ^= 1;
        jg_err err = jg__sig_verify(k, cases[i].alg, &in, b, blen);
        assert_true(err == JG_ERR_SIGNATURE || err == JG_ERR_SIGNATURE_RANGE);
        b[blen - 1] ^= 1;
        k->sig_prep = saved;
        assert_jg_ok(jg__sig_verify(k, cases[i].alg, &in, b, blen));
        b[0] ^= 0x40;
        err = jg__sig_verify(k, cases[i].alg, &in, b, blen);
        assert_true(err == JG_ERR_SIGNATURE || err == JG_ERR_SIGNATURE_RANGE);
    }
    jg_jwk_free(pub);
    jg_jwk_free(enc);
    jg_jwk_free(rs384);
    jg_jwk_free(ec);
    jg_jwk_free(rsa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_der_roundtrip),
        cmocka_unit_test(test_ecdsa_der_strict),
        cmocka_unit_test(test_signing_input_pieces),
        cmocka_unit_test(test_pss_salt_length_is_fixed),
        cmocka_unit_test(test_prepared_templates),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_jws_sig");
    return failed;
}
