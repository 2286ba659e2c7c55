/*
 * test_roca.c — RSA moduli with the ROCA fingerprint (CVE-2017-15361) are
 * refused at import unless JG_JWK_ALLOW_ROCA: a public sample from the ROCA
 * detector's tests, and moduli built here the way Infineon's generator made
 * its primes, p = k * M + (65537^a mod M) (Nemec et al., CCS 2017). Moduli
 * that lack the form pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "jwk/jwk_internal.h"
#include "testutil.h"

/* The public sample (tests/vectors/roca/README.md). */
static BIGNUM *sample_modulus(void)
{
    char *hex = tu_read_file(tu_vector_path("roca/infineon-2048.hex"), NULL);
    hex[strcspn(hex, "\r\n")] = '\0';
    BIGNUM *n = NULL;
    assert_true(BN_hex2bn(&n, hex) > 0);
    free(hex);
    return n;
}

/* A public RSA JWK {"kty","n","e":"AQAB"} for modulus n. */
static char *rsa_jwk(const BIGNUM *n)
{
    int len = BN_num_bytes(n);
    unsigned char *bytes = malloc((size_t)len);
    assert_non_null(bytes);
    BN_bn2bin(n, bytes);
    char *b64 = NULL;
    size_t b64_len = 0;
    assert_jg_ok(jg_b64url_encode_alloc(bytes, (size_t)len, &b64, &b64_len));
    free(bytes);
    size_t cap = b64_len + 64;
    char *json = malloc(cap);
    assert_non_null(json);
    snprintf(json, cap, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", b64);
    jg_free(b64);
    return json;
}

/* The same public key as PEM (SubjectPublicKeyInfo). */
static char *rsa_pem(const BIGNUM *n)
{
    BIGNUM *e = NULL;
    assert_true(BN_dec2bn(&e, "65537") > 0);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_non_null(bld);
    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    assert_true(ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
                EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_true(bio != NULL && PEM_write_bio_PUBKEY(bio, pkey) == 1);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *pem = malloc((size_t)len + 1);
    assert_non_null(pem);
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(e);
    return pem;
}

/* Both doors of import refuse n with `want`, and accept it with the flag. */
static void expect_import(const BIGNUM *n, jg_err want)
{
    char *json = rsa_jwk(n);
    char *pem = rsa_pem(n);
    jg_jwk *key = NULL;
    assert_jg(want, jg_jwk_parse(json, strlen(json), 0, &key));
    jg_jwk_free(key);
    assert_jg(want, jg_jwk_from_pem(pem, strlen(pem), NULL, 0, &key));
    jg_jwk_free(key);
    jg_jwks *set = NULL;
    assert_jg(want, jg_jwks_parse_any(json, strlen(json), 0, NULL, &set));
    jg_jwks_free(set);
    if (want == JG_ERR_KEY_ROCA) {
        /* In a JWKS next to a good key: skipped and named, the good key kept
         * (issue 13 item 8). */
        size_t cap = strlen(json) + 200;
        char *doc = malloc(cap);
        assert_non_null(doc);
        snprintf(doc, cap,
                 "{\"keys\":[%s,{\"kty\":\"oct\",\"kid\":\"good\","
                 "\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}]}",
                 json);
        assert_jg_ok(jg_jwks_parse(doc, strlen(doc), 0, NULL, &set));
        assert_int_equal(jg_jwks_count(set), 1);
        size_t pos = 9;
        jg_err why = JG_OK;
        assert_int_equal(jg_jwks_skipped_count(set), 1);
        assert_jg_ok(jg_jwks_skipped_at(set, 0, &pos, NULL, &why));
        assert_int_equal(pos, 0);
        assert_int_equal(why, JG_ERR_KEY_ROCA);
        jg_jwks_free(set);
        free(doc);
    }

    /* The flag lets the caller take such a key on purpose. */
    assert_jg_ok(jg_jwk_parse(json, strlen(json), JG_JWK_ALLOW_ROCA, &key));
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(key, &pub)); /* derived keys keep the caller's choice */
    jg_jwk_free(pub);
    jg_jwk_free(key);
    assert_jg_ok(jg_jwk_from_pem(pem, strlen(pem), NULL, JG_JWK_ALLOW_ROCA, &key));
    jg_jwk_free(key);
    free(json);
    free(pem);
}

/* M: the product of the primes up to 167, as in the paper's construction
 * (every prime the fingerprint tests divides it). */
static BIGNUM *primorial_167(void)
{
    BIGNUM *m = BN_new();
    assert_non_null(m);
    BN_one(m);
    for (unsigned p = 2; p <= 167; p++) {
        int prime = 1;
        for (unsigned d = 2; d * d <= p; d++)
            prime &= p % d != 0;
        if (prime)
            assert_true(BN_mul_word(m, p));
    }
    return m;
}

/* A 1024-bit prime p = k * M + (65537^a mod M), a and k random, with its
 * top two bits set (p >= 3 * 2^1022) so that two of them make 2048 bits. */
static BIGNUM *roca_prime(const BIGNUM *m, BN_CTX *ctx)
{
    BIGNUM *g = BN_new(), *a = BN_new(), *base = BN_new(), *k = BN_new(), *p = BN_new();
    BIGNUM *low = BN_new(), *jitter = BN_new();
    assert_true(g && a && base && k && p && low && jitter);
    assert_true(BN_set_word(g, 65537));
    assert_true(BN_rand(a, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
    assert_true(BN_mod_exp(base, g, a, m, ctx));
    /* k = 3 * 2^1022 / M + 1 + a random number below 2^1020 / M. */
    assert_true(BN_set_word(low, 3) && BN_lshift(low, low, 1022));
    assert_true(BN_div(k, NULL, low, m, ctx) && BN_add_word(k, 1));
    assert_true(BN_rand(jitter, 1020 - BN_num_bits(m), BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
    assert_true(BN_add(k, k, jitter));
    assert_true(BN_mul(p, k, m, ctx) && BN_add(p, p, base));
    /* Step through the progression (adding M keeps the form) to a prime. */
    while (BN_check_prime(p, ctx, NULL) != 1)
        assert_true(BN_add(p, p, m));
    BN_free(g);
    BN_free(a);
    BN_free(base);
    BN_free(k);
    BN_free(low);
    BN_free(jitter);
    assert_int_equal(BN_num_bits(p), 1024);
    return p;
}

static BIGNUM *product(const BIGNUM *p, const BIGNUM *q, BN_CTX *ctx)
{
    BIGNUM *n = BN_new();
    assert_true(n != NULL && BN_mul(n, p, q, ctx));
    return n;
}

/* The public sample from the ROCA detector's tests. */
static void test_public_sample_refused(void **state)
{
    (void)state;
    BIGNUM *n = sample_modulus();
    assert_int_equal(BN_num_bits(n), 2048);
    assert_int_equal(jg__roca_fingerprint(n), 1);
    expect_import(n, JG_ERR_KEY_ROCA);
    BN_free(n);
}

/* Moduli made here as the vulnerable generator made them; one prime of that
 * form is not enough (the other factor's residues are random). */
static void test_constructed_moduli(void **state)
{
    (void)state;
    BN_CTX *ctx = BN_CTX_new();
    assert_non_null(ctx);
    BIGNUM *m = primorial_167();
    BIGNUM *p = roca_prime(m, ctx), *q = roca_prime(m, ctx);
    BIGNUM *n = product(p, q, ctx);
    assert_int_equal(BN_num_bits(n), 2048);
    assert_int_equal(jg__roca_fingerprint(n), 1);
    expect_import(n, JG_ERR_KEY_ROCA);

    BIGNUM *r = BN_new();
    assert_true(r != NULL && BN_generate_prime_ex(r, 1024, 0, NULL, NULL, NULL));
    BIGNUM *mixed = product(p, r, ctx);
    assert_int_equal(BN_num_bits(mixed), 2048);
    assert_int_equal(jg__roca_fingerprint(mixed), 0);
    expect_import(mixed, JG_OK);

    BN_free(mixed);
    BN_free(r);
    BN_free(n);
    BN_free(q);
    BN_free(p);
    BN_free(m);
    BN_CTX_free(ctx);
}

/* Ordinary keys pass: generated ones, the fixtures, and moduli that break
 * the form at one prime only (the sample times a small factor). */
static void test_ordinary_moduli_pass(void **state)
{
    (void)state;
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &key));
    jg_jwk_free(key);
    char *pem = tu_read_file(tu_vector_path("pem/rsa2048.spki.pem"), NULL);
    assert_jg_ok(jg_jwk_from_pem(pem, strlen(pem), NULL, 0, &key));
    jg_jwk_free(key);
    free(pem);

    BIGNUM *n = sample_modulus();
    for (unsigned f = 2; f <= 13; f++) {
        BIGNUM *t = BN_dup(n);
        assert_true(t != NULL && BN_mul_word(t, f));
        /* The powers of 65537 modulo 11 are {1, 10}: every f here either
         * is another residue modulo 11 or is divisible by 3 or 5. */
        assert_int_equal(jg__roca_fingerprint(t), 0);
        BN_free(t);
    }
    BN_free(n);

    /* A modulus divisible by a tested prime is not of the form (0 is no power). */
    BIGNUM *three = NULL;
    assert_true(BN_dec2bn(&three, "3") > 0);
    assert_int_equal(jg__roca_fingerprint(three), 0);
    BN_free(three);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_sample_refused),
        cmocka_unit_test(test_constructed_moduli),
        cmocka_unit_test(test_ordinary_moduli_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
