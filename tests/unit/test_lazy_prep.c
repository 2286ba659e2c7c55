/*
 * test_lazy_prep.c — the per-key state built on first use (JWS digests and
 * templates in lib/jws/sig_prep.c, RSA key-management templates in
 * lib/jwe/keymgmt_rsa.c): threads race to be first on a fresh key and every
 * one of them must succeed, with the same results as later, warm calls.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define THREADS 4

typedef struct job {
    const jg_jwk *priv; /* signs / decrypts */
    jg_jwks *pub_set;   /* verifies */
    jg_jwks *priv_set;  /* decrypts */
    jg_alg sig_alg;
    jg_alg kw_alg;
    const char *jwe; /* made before the threads start, with the public key */
    jg_err err;
} job;

static void *first_use(void *p)
{
    job *j = p;
    char *token = NULL;
    size_t len = 0;
    jg_jws_signer signer = {.key = j->priv, .alg = j->sig_alg};
    j->err = jg_jws_sign("payload", 7, &signer, NULL, &token, &len);
    if (j->err == JG_OK) {
        jg_jws_verify_opts vopts = {.algs = JG_ALG_BIT(j->sig_alg)};
        jg_jws *jws = NULL;
        j->err = jg_jws_verify(token, len, j->pub_set, &vopts, &jws);
        jg_jws_free(jws);
    }
    jg_free(token);
    if (j->err == JG_OK && j->jwe != NULL) {
        jg_jwe_decrypt_opts dopts = {.algs = JG_ALG_BIT(j->kw_alg),
                                     .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
        jg_jwe *jwe = NULL;
        j->err = jg_jwe_decrypt(j->jwe, strlen(j->jwe), j->priv_set, &dopts, &jwe);
        if (j->err == JG_OK) {
            size_t n = 0;
            const unsigned char *pt = jg_jwe_plaintext(jwe, &n);
            if (n != 6 || memcmp(pt, "secret", 6) != 0)
                j->err = JG_ERR_DECRYPT;
        }
        jg_jwe_free(jwe);
    }
    return NULL;
}

static jg_jwks *set_of(const jg_jwk *key, int public_only)
{
    jg_jwks *set = NULL;
    jg_jwk *k = NULL;
    if (public_only)
        assert_jg_ok(jg_jwk_public(key, &k));
    else
        k = jg_jwk_ref((jg_jwk *)key);
    assert_jg_ok(jg_jwks_new(&set));
    assert_jg_ok(jg_jwks_add(set, k));
    jg_jwk_free(k);
    return set;
}

/* One fresh key per round, so every round races on cold state. */
static void race(jg_kty kty, jg_crv crv, jg_alg sig_alg, jg_alg kw_alg, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        jg_jwk *priv = NULL;
        assert_jg_ok(jg_jwk_generate(kty, crv, 0, NULL, &priv));
        jg_jwks *pub_set = set_of(priv, 1), *priv_set = set_of(priv, 0);
        char *jwe = NULL;
        if (kw_alg != JG_ALG_UNKNOWN) {
            /* Encrypt with a separate public key object: the private key's
             * own decryption template stays cold for the race. */
            jg_jwk *pub = NULL;
            assert_jg_ok(jg_jwk_public(priv, &pub));
            jg_jwe_recipient rcpt = {.key = pub, .alg = kw_alg};
            assert_jg_ok(jg_jwe_encrypt("secret", 6, &rcpt, 1, NULL, &jwe, NULL));
            jg_jwk_free(pub);
        }
        job jobs[THREADS];
        pthread_t tids[THREADS];
        for (int i = 0; i < THREADS; i++) {
            jobs[i] = (job){priv, pub_set, priv_set, sig_alg, kw_alg, jwe, JG_OK};
            assert_int_equal(pthread_create(&tids[i], NULL, first_use, &jobs[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
            pthread_join(tids[i], NULL);
            assert_jg_ok(jobs[i].err);
        }
        /* Warm: the same again from this thread. */
        first_use(&jobs[0]);
        assert_jg_ok(jobs[0].err);
        jg_free(jwe);
        jg_jwks_free(pub_set);
        jg_jwks_free(priv_set);
        jg_jwk_free(priv);
    }
}

static void test_rsa_first_use(void **state)
{
    (void)state;
    race(JG_KTY_RSA, JG_CRV_NONE, JG_ALG_PS256, JG_ALG_RSA_OAEP_256, 2);
    race(JG_KTY_RSA, JG_CRV_NONE, JG_ALG_RS256, JG_ALG_RSA_OAEP, 1);
}

static void test_ec_first_use(void **state)
{
    (void)state;
    race(JG_KTY_EC, JG_CRV_P256, JG_ALG_ES256, JG_ALG_UNKNOWN, 8);
    race(JG_KTY_EC, JG_CRV_P384, JG_ALG_ES384, JG_ALG_UNKNOWN, 4);
}

/* A key that may not serve an alg gets no state for it, cold or warm. */
static void test_no_state_for_other_algs(void **state)
{
    (void)state;
    jg_jwk *rsa = NULL;
    jg_jwk_meta meta = {.alg = JG_ALG_RS256};
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 0, &meta, &rsa));
    jg_jws_signer signer = {.key = rsa, .alg = JG_ALG_PS256};
    char *token = NULL;
    assert_jg(JG_ERR_KEY_ALG, jg_jws_sign("x", 1, &signer, NULL, &token, NULL));
    signer.alg = JG_ALG_RS256;
    assert_jg_ok(jg_jws_sign("x", 1, &signer, NULL, &token, NULL));
    jg_free(token);
    signer.alg = JG_ALG_PS256; /* still refused once the RS256 state exists */
    assert_jg(JG_ERR_KEY_ALG, jg_jws_sign("x", 1, &signer, NULL, &token, NULL));
    jg_jwk_free(rsa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_first_use),
        cmocka_unit_test(test_ec_first_use),
        cmocka_unit_test(test_no_state_for_other_algs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
