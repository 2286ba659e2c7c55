/*
 * sig_prep.c — per-key state for RS*, PS* and ES*: which algs the key may
 * serve (decided when it is loaded, jg__jwk_finish), the digests fetched,
 * and for every such alg an EVP_PKEY_CTX already initialised for sign or
 * verify with its digest and padding. An operation duplicates a template (EVP_PKEY_CTX_dup only
 * reads it) instead of fetching algorithms and initialising again, which is a large part of an RSA
 * verification's cost.
 *
 * Digests and templates are made the first time their alg is used, not at
 * load: an RSA key without "alg" may serve six algs, three digests and
 * twelve templates, of which a deployment uses one or two, and making them
 * all made loading a key four times slower than OpenSSL's own import. The first user builds it and
 * publishes it with a compare-and-swap; a thread that loses the race frees
 * its copy and uses the winner's. Published templates are never changed, so
 * readers need no lock.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "jws/sig.h"

struct jg__sig_prep {
    _Atomic(EVP_MD *) md[3];              /* SHA-256, SHA-384, SHA-512; NULL until first used */
    unsigned char usable[JG__PREP_SLOTS]; /* the key may serve this alg */
    _Atomic(EVP_PKEY_CTX *) verify[JG__PREP_SLOTS]; /* NULL until first used */
    _Atomic(EVP_PKEY_CTX *) sign[JG__PREP_SLOTS];   /* private keys only */
};

int jg__prep_slot(jg_alg alg)
{
    const jg__alg_info *a = jg__alg(alg);
    return a->family == JG__FAM_RSA_PKCS1 || a->family == JG__FAM_RSA_PSS ||
                   a->family == JG__FAM_ECDSA
               ? a->slot
               : -1;
}

/* Index into md[] of the hash an RS/PS/ES alg uses. */
static int md_index(jg_alg alg)
{
    return (int)jg__alg(alg)->hash - (int)JG__HASH_SHA256; /* SHA-256, -384 or -512 */
}

void jg__sig_prep_free(jg__sig_prep *prep)
{
    if (prep == NULL)
        return;
    for (int i = 0; i < JG__PREP_SLOTS; i++) {
        EVP_PKEY_CTX_free(atomic_load_explicit(&prep->verify[i], memory_order_relaxed));
        EVP_PKEY_CTX_free(atomic_load_explicit(&prep->sign[i], memory_order_relaxed));
    }
    for (int i = 0; i < 3; i++)
        EVP_MD_free(atomic_load_explicit(&prep->md[i], memory_order_relaxed));
    free(prep);
}

static EVP_PKEY_CTX *make_template(EVP_PKEY *pkey, jg_alg alg, int sign)
{
    const jg__alg_info *a = jg__alg(alg);
    const char *md = jg__hash_name((jg__hash)a->hash);
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, (char *)md, 0);
    if (a->family == JG__FAM_RSA_PSS) {
        params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                                       (char *)OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
        params[n++] =
            OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)md, 0);
        /* RFC 7518 section 3.5: salt as long as the hash, also when verifying. */
        params[n++] = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_PSS_SALTLEN, (char *)OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
    } else if (a->family == JG__FAM_RSA_PKCS1) {
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
    *out = NULL;
    if ((key->kty != JG_KTY_RSA && key->kty != JG_KTY_EC) || key->pkey == NULL ||
        key->use == JG_USE_ENC)
        return JG_OK; /* nothing a JWS operation could use */

    jg__sig_prep *prep = NULL;
    for (jg_alg alg = (jg_alg)1; alg < JG_ALG__COUNT; alg++) {
        if (jg__prep_slot(alg) < 0 || !may_serve(key, alg))
            continue;
        if (prep == NULL && (prep = calloc(1, sizeof *prep)) == NULL)
            return JG_ERR_NOMEM;
        prep->usable[jg__prep_slot(alg)] = 1;
    }
    *out = prep;
    return JG_OK;
}

const EVP_MD *jg__prep_md(const jg_jwk *key, jg_alg alg)
{
    int slot = jg__prep_slot(alg);
    if (key->sig_prep == NULL || slot < 0 || !key->sig_prep->usable[slot])
        return NULL;
    /* Fetched on first use and published like the templates. */
    _Atomic(EVP_MD *) *cell = &key->sig_prep->md[md_index(alg)];
    EVP_MD *md = atomic_load_explicit(cell, memory_order_acquire);
    if (md != NULL)
        return md;
    EVP_MD *fetched = EVP_MD_fetch(NULL, jg__hash_name((jg__hash)jg__alg(alg)->hash), NULL);
    if (fetched == NULL)
        return NULL;
    EVP_MD *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(cell, &expected, fetched, memory_order_acq_rel,
                                                memory_order_acquire))
        return fetched;
    EVP_MD_free(fetched); /* another thread published first */
    return expected;
}

jg_err jg__prep_ctx(const jg_jwk *key, jg_alg alg, int sign, EVP_PKEY_CTX **out)
{
    int slot = jg__prep_slot(alg);
    if (key->sig_prep == NULL || slot < 0 || !key->sig_prep->usable[slot] ||
        (sign && !key->is_private))
        return JG_ERR_KEY_TYPE;
    _Atomic(EVP_PKEY_CTX *) *cell =
        sign ? &key->sig_prep->sign[slot] : &key->sig_prep->verify[slot];
    EVP_PKEY_CTX *tmpl = atomic_load_explicit(cell, memory_order_acquire);
    if (tmpl == NULL) {
        EVP_PKEY_CTX *built = make_template(key->pkey, alg, sign);
        if (built == NULL)
            return JG_ERR_CRYPTO;
        EVP_PKEY_CTX *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(cell, &expected, built, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            tmpl = built;
        } else {
            EVP_PKEY_CTX_free(built); /* another thread published first */
            tmpl = expected;
        }
    }
    *out = EVP_PKEY_CTX_dup(tmpl);
    return *out != NULL ? JG_OK : JG_ERR_NOMEM;
}

jg_err jg__prep_digest(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *out,
                       size_t *out_len)
{
    int slot = jg__prep_slot(alg);
    if (key->sig_prep == NULL || slot < 0 || !key->sig_prep->usable[slot])
        return JG_ERR_KEY_TYPE;
    const EVP_MD *md = jg__prep_md(key, alg);
    if (md == NULL)
        return JG_ERR_CRYPTO; /* the digest could not be fetched */
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
