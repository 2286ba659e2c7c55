/*
 * sig_rsa.c — RS256/384/512 (RSASSA-PKCS1-v1_5) and PS256/384/512
 * (RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash),
 * RFC 7518 sections 3.3 and 3.5. PSS signatures are verified with that fixed
 * salt length, never "auto", so a signature made with another salt length is
 * refused as RFC 7518 requires.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "jws/sig.h"

static int is_pss(jg_alg alg)
{
    return jg__alg(alg)->family == JG__FAM_RSA_PSS;
}

static int is_pkcs1(jg_alg alg)
{
    return jg__alg(alg)->family == JG__FAM_RSA_PKCS1;
}

/* A digest-sign/verify context for alg, with the padding set at init. */
static jg_err init_ctx(const jg_jwk *key, jg_alg alg, int sign, EVP_MD_CTX **out)
{
    const char *md = jg__sig_digest(alg);
    if (key->kty != JG_KTY_RSA || key->pkey == NULL || md == NULL ||
        (!is_pss(alg) && !is_pkcs1(alg)))
        return JG_ERR_KEY_TYPE;

    OSSL_PARAM params[4];
    size_t n = 0;
    if (is_pss(alg)) {
        params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                                       (char *)OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
        params[n++] =
            OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)md, 0);
        params[n++] = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PSS_SALTLEN, (char *)OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
    } else {
        params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                                       (char *)OSSL_PKEY_RSA_PAD_MODE_PKCSV15, 0);
    }
    params[n] = OSSL_PARAM_construct_end();

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return JG_ERR_NOMEM;
    int ok = sign ? EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key->pkey, params)
                  : EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, key->pkey, params);
    if (ok != 1) {
        EVP_MD_CTX_free(ctx);
        return JG_ERR_CRYPTO;
    }
    *out = ctx;
    return JG_OK;
}

/* With the key's prepared template: JG_ERR_KEY_TYPE when it has none. */
static jg_err template_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                            unsigned char *sig, size_t *sig_len)
{
    EVP_PKEY_CTX *pctx = NULL;
    jg_err err = jg__prep_ctx(key, alg, 1, &pctx);
    if (err != JG_OK)
        return err;
    unsigned char hash[EVP_MAX_MD_SIZE];
    size_t hash_len = 0;
    err = jg__prep_digest(key, alg, in, hash, &hash_len);
    if (err == JG_OK && EVP_PKEY_sign(pctx, sig, sig_len, hash, hash_len) != 1)
        err = JG_ERR_CRYPTO;
    EVP_PKEY_CTX_free(pctx);
    return err;
}

static jg_err template_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                              const unsigned char *sig, size_t sig_len)
{
    EVP_PKEY_CTX *pctx = NULL;
    jg_err err = jg__prep_ctx(key, alg, 0, &pctx);
    if (err != JG_OK)
        return err;
    unsigned char hash[EVP_MAX_MD_SIZE];
    size_t hash_len = 0;
    err = jg__prep_digest(key, alg, in, hash, &hash_len);
    if (err == JG_OK && EVP_PKEY_verify(pctx, sig, sig_len, hash, hash_len) != 1)
        err = JG_ERR_SIGNATURE;
    EVP_PKEY_CTX_free(pctx);
    return err;
}

jg_err jg__rsa_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                    size_t *sig_len)
{
    size_t want = jg__sig_len(key, alg);
    if (want == 0)
        return JG_ERR_KEY_TYPE;
    size_t len = JG__SIG_MAX;
    jg_err err = template_sign(key, alg, in, sig, &len);
    if (err == JG_ERR_KEY_TYPE) {
        /* No template (a key the preparation skipped): initialise here. */
        EVP_MD_CTX *ctx = NULL;
        err = init_ctx(key, alg, 1, &ctx);
        for (size_t i = 0; err == JG_OK && i < in->n; i++)
            if (EVP_DigestSignUpdate(ctx, in->part[i], in->len[i]) != 1)
                err = JG_ERR_CRYPTO;
        len = JG__SIG_MAX;
        if (err == JG_OK && EVP_DigestSignFinal(ctx, sig, &len) != 1)
            err = JG_ERR_CRYPTO;
        EVP_MD_CTX_free(ctx);
    }
    if (err == JG_OK && len != want)
        err = JG_ERR_CRYPTO;
    if (err == JG_OK)
        *sig_len = len;
    return err;
}

jg_err jg__rsa_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                      const unsigned char *sig, size_t sig_len)
{
    size_t want = jg__sig_len(key, alg);
    if (want == 0)
        return JG_ERR_KEY_TYPE;
    /* RFC 7518 section 3.3 / RFC 8017 section 8.2.2: exactly the modulus length. */
    if (sig_len != want)
        return JG_ERR_SIGNATURE_LENGTH;

    ERR_set_mark();
    jg_err err = template_verify(key, alg, in, sig, sig_len);
    if (err == JG_ERR_KEY_TYPE) {
        EVP_MD_CTX *ctx = NULL;
        err = init_ctx(key, alg, 0, &ctx);
        for (size_t i = 0; err == JG_OK && i < in->n; i++)
            if (EVP_DigestVerifyUpdate(ctx, in->part[i], in->len[i]) != 1)
                err = JG_ERR_CRYPTO;
        if (err == JG_OK && EVP_DigestVerifyFinal(ctx, sig, sig_len) != 1)
            err = JG_ERR_SIGNATURE;
        EVP_MD_CTX_free(ctx);
    }
    ERR_pop_to_mark();
    return err;
}
