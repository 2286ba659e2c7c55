/*
 * sig_prep.c — per-key state for RS*, PS* and ES*, built once when a key is
 * loaded (jg__jwk_finish): the digests fetched, and for every alg the key may
 * serve an EVP_PKEY_CTX already initialised for sign or verify with its
 * digest and padding. An operation duplicates a template (EVP_PKEY_CTX_dup
 * only reads it) instead of fetching algorithms and initialising again,
 * which is a large part of an RSA verification's cost.
 */
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "jws/sig.h"

struct jg__sig_prep {
    EVP_MD *md[3]; /* SHA-256, SHA-384, SHA-512; NULL where unused */
    EVP_PKEY_CTX *verify[JG__PREP_SLOTS];
    EVP_PKEY_CTX *sign[JG__PREP_SLOTS]; /* private keys only */
};

int jg__prep_slot(jg_alg alg)
{
    return alg >= JG_ALG_RS256 && alg <= JG_ALG_ES512 ? (int)(alg - JG_ALG_RS256) : -1;
}

/* Index into md[] of the hash an RS/PS/ES alg uses. */
static int md_index(jg_alg alg)
{
    return (int)(alg - JG_ALG_RS256) % 3; /* RS, PS and ES each run 256, 384, 512 */
}

void jg__sig_prep_free(jg__sig_prep *prep)
{
    if (prep == NULL)
        return;
    for (int i = 0; i < JG__PREP_SLOTS; i++) {
        EVP_PKEY_CTX_free(prep->verify[i]);
        EVP_PKEY_CTX_free(prep->sign[i]);
    }
    for (int i = 0; i < 3; i++)
        EVP_MD_free(prep->md[i]);
    free(prep);
}

static EVP_PKEY_CTX *make_template(EVP_PKEY *pkey, jg_alg alg, int sign)
{
    static const char *const names[3] = {"SHA256", "SHA384", "SHA512"};
    const char *md = names[md_index(alg)];
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, (char *)md, 0);
    if (alg >= JG_ALG_PS256 && alg <= JG_ALG_PS512) {
        params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                                       (char *)OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
        params[n++] =
            OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)md, 0);
        /* RFC 7518 section 3.5: salt as long as the hash, also when verifying. */
        params[n++] = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PSS_SALTLEN, (char *)OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
    } else if (alg <= JG_ALG_RS512) {
        params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                                       (char *)OSSL_PKEY_RSA_PAD_MODE_PKCSV15, 0);
    }
    params[n] = OSSL_PARAM_construct_end();

    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL)
        return NULL;
    int ok = sign ? EVP_PKEY_sign_init_ex(ctx, params) : EVP_PKEY_verify_init_ex(ctx, params);
    if (ok != 1) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Whether the key may ever serve alg for JWS (its type, curve and "alg"). */
static int may_serve(const jg_jwk *key, jg_alg alg)
{
    if (jg__jwk_alg_suits(key, alg) != JG_OK)
        return 0;
    return key->alg == JG_ALG_UNKNOWN || key->alg == alg;
}

jg_err jg__sig_prep_new(const jg_jwk *key, jg__sig_prep **out)
{
    static const char *const names[3] = {"SHA256", "SHA384", "SHA512"};
    *out = NULL;
    if ((key->kty != JG_KTY_RSA && key->kty != JG_KTY_EC) || key->pkey == NULL ||
        key->use == JG_USE_ENC)
        return JG_OK; /* nothing a JWS operation could use */

    jg__sig_prep *prep = NULL;
    jg_err err = JG_OK;
    for (jg_alg alg = JG_ALG_RS256; alg <= JG_ALG_ES512 && err == JG_OK; alg++) {
        if (!may_serve(key, alg))
            continue;
        if (prep == NULL && (prep = calloc(1, sizeof *prep)) == NULL) {
            err = JG_ERR_NOMEM;
            break;
        }
        int m = md_index(alg), slot = jg__prep_slot(alg);
        if (prep->md[m] == NULL && (prep->md[m] = EVP_MD_fetch(NULL, names[m], NULL)) == NULL)
            err = JG_ERR_CRYPTO;
        else if ((prep->verify[slot] = make_template(key->pkey, alg, 0)) == NULL)
            err = JG_ERR_CRYPTO;
        else if (key->is_private && (prep->sign[slot] = make_template(key->pkey, alg, 1)) == NULL)
            err = JG_ERR_CRYPTO;
    }
    if (err != JG_OK) {
        jg__sig_prep_free(prep);
        return err;
    }
    *out = prep;
    return JG_OK;
}

const EVP_MD *jg__prep_md(const jg_jwk *key, jg_alg alg)
{
    int slot = jg__prep_slot(alg);
    return key->sig_prep != NULL && slot >= 0 ? key->sig_prep->md[md_index(alg)] : NULL;
}

jg_err jg__prep_ctx(const jg_jwk *key, jg_alg alg, int sign, EVP_PKEY_CTX **out)
{
    int slot = jg__prep_slot(alg);
    if (key->sig_prep == NULL || slot < 0)
        return JG_ERR_KEY_TYPE;
    EVP_PKEY_CTX *tmpl = sign ? key->sig_prep->sign[slot] : key->sig_prep->verify[slot];
    if (tmpl == NULL)
        return JG_ERR_KEY_TYPE;
    *out = EVP_PKEY_CTX_dup(tmpl);
    return *out != NULL ? JG_OK : JG_ERR_NOMEM;
}

jg_err jg__prep_digest(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *out,
                       size_t *out_len)
{
    const EVP_MD *md = jg__prep_md(key, alg);
    if (md == NULL)
        return JG_ERR_KEY_TYPE;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return JG_ERR_NOMEM;
    jg_err err = EVP_DigestInit_ex2(ctx, md, NULL) == 1 ? JG_OK : JG_ERR_CRYPTO;
    for (size_t i = 0; i < in->n && err == JG_OK; i++)
        if (EVP_DigestUpdate(ctx, in->part[i], in->len[i]) != 1)
            err = JG_ERR_CRYPTO;
    unsigned len = 0;
    if (err == JG_OK && EVP_DigestFinal_ex(ctx, out, &len) != 1)
        err = JG_ERR_CRYPTO;
    EVP_MD_CTX_free(ctx);
    *out_len = len;
    return err;
}
