/*
 * keymgmt_rsa.c — RSAES-OAEP (RFC 7518 4.3: SHA-1, and SHA-256/384/512 with
 * MGF1 of the same hash) and RSAES-PKCS1-v1_5 (4.2) for decryption only.
 *
 * RSA1_5 follows RFC 7516 section 11.5 against Bleichenbacher's attack: a
 * random CEK is drawn first, and the decrypted one replaces it only when
 * the padding was good and the length right, selected without branches, so
 * a bad padding surfaces only later as the same tag failure (JG_ERR_DECRYPT)
 * as any other wrong key.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"

/* A context for `alg` on `key`, initialised for encryption or decryption. */
static EVP_PKEY_CTX *make_ctx(jg_alg alg, const jg_jwk *key, int enc)
{
    const jg__alg_info *a = jg__alg(alg);
    const char *md = jg__hash_name((jg__hash)a->hash); /* NULL: RSA1_5's PKCS #1 v1.5 padding */
    if (key->kty != JG_KTY_RSA || key->pkey == NULL || a->family != JG__FAM_RSA_ENC)
        return NULL;
    OSSL_PARAM params[4];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(
        OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
        (char *)(md != NULL ? OSSL_PKEY_RSA_PAD_MODE_OAEP : OSSL_PKEY_RSA_PAD_MODE_PKCSV15), 0);
    if (md != NULL) {
        params[n++] =
            OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, (char *)md, 0);
        params[n++] =
            OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, (char *)md, 0);
    }
    params[n] = OSSL_PARAM_construct_end();

    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (ctx == NULL)
        return NULL;
    int ok = enc ? EVP_PKEY_encrypt_init_ex(ctx, params) : EVP_PKEY_decrypt_init_ex(ctx, params);
    if (ok <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The template slot of alg (see jg_jwk.rsa_kw), or -1. */
static int kw_slot(jg_alg alg, int enc)
{
    const jg__alg_info *a = jg__alg(alg);
    if (a->family != JG__FAM_RSA_ENC)
        return -1;
    int i = a->slot;
    return i * 2 + (enc != 0);
}

/*
 * A fresh context for `alg` on `key`: a duplicate of the key's template,
 * which the first use builds and publishes with a compare-and-swap (a thread
 * that loses the race frees its own). Initialising from scratch fetches the
 * cipher and two digests by name each time, a third of an RSA-OAEP
 * encryption's cost.
 */
static EVP_PKEY_CTX *rsa_ctx(jg_alg alg, const jg_jwk *key, int enc)
{
    int slot = kw_slot(alg, enc);
    if (slot < 0 || key->kty != JG_KTY_RSA || key->pkey == NULL)
        return NULL;
    /* Only the published template is ever written, never the key itself. */
    jg_jwk *self = (jg_jwk *)key;
    _Atomic(EVP_PKEY_CTX *) *cell = &self->rsa_kw[slot];
    EVP_PKEY_CTX *tmpl = atomic_load_explicit(cell, memory_order_acquire);
    if (tmpl == NULL) {
        EVP_PKEY_CTX *built = make_ctx(alg, key, enc);
        if (built == NULL)
            return NULL;
        EVP_PKEY_CTX *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(cell, &expected, built, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            tmpl = built;
        } else {
            EVP_PKEY_CTX_free(built);
            tmpl = expected;
        }
    }
    return EVP_PKEY_CTX_dup(tmpl);
}

jg_err jg__rsa_encrypt(jg_alg alg, const jg_jwk *key, const unsigned char *cek, size_t cek_len,
                       unsigned char **ek, size_t *ek_len)
{
    if (alg == JG_ALG_RSA1_5)
        return JG_ERR_UNSUPPORTED;
    EVP_PKEY_CTX *ctx = rsa_ctx(alg, key, 1);
    if (ctx == NULL)
        return JG_ERR_CRYPTO;
    size_t len = 0;
    unsigned char *buf = NULL;
    jg_err err = JG_ERR_CRYPTO;
    if (EVP_PKEY_encrypt(ctx, NULL, &len, cek, cek_len) > 0 && len > 0) {
        buf = malloc(len);
        if (buf == NULL)
            err = JG_ERR_NOMEM;
        else if (EVP_PKEY_encrypt(ctx, buf, &len, cek, cek_len) > 0)
            err = JG_OK;
    }
    EVP_PKEY_CTX_free(ctx);
    if (err != JG_OK) {
        free(buf);
        return err;
    }
    *ek = buf;
    *ek_len = len;
    return JG_OK;
}

/* All ones when a == b, else zero, without branching on the values. */
static size_t ct_eq_mask(size_t a, size_t b)
{
    size_t x = a ^ b;
    /* (x | -x) has its top bit set exactly when x != 0. */
    size_t nonzero = (x | (0 - x)) >> (sizeof(size_t) * 8 - 1);
    return nonzero - 1;
}

jg_err jg__rsa_decrypt(jg_alg alg, const jg_jwk *key, const unsigned char *ek, size_t ek_len,
                       unsigned char *cek, size_t cek_len)
{
    if (key->kty != JG_KTY_RSA || key->pkey == NULL)
        return JG_ERR_KEY_TYPE;
    int size = EVP_PKEY_get_size(key->pkey);
    if (size <= 0)
        return JG_ERR_CRYPTO;
    if (ek_len != (size_t)size)
        return JG_ERR_ENCRYPTED_KEY;

    /* At least a CEK's worth, so the constant-time copy never reads past it. */
    size_t buf_len = (size_t)size > JG__CEK_MAX ? (size_t)size : JG__CEK_MAX;
    unsigned char *buf = calloc(1, buf_len);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    EVP_PKEY_CTX *ctx = rsa_ctx(alg, key, 0);
    if (ctx == NULL) {
        free(buf);
        return JG_ERR_CRYPTO;
    }

    jg_err err;
    size_t out_len = (size_t)size;
    ERR_set_mark();
    if (alg == JG_ALG_RSA1_5) {
        /* The fallback CEK exists before the padding is looked at. */
        if (RAND_priv_bytes(cek, (int)cek_len) != 1) {
            err = JG_ERR_CRYPTO;
        } else {
            int rc = EVP_PKEY_decrypt(ctx, buf, &out_len, ek, ek_len);
            size_t good = ct_eq_mask((size_t)(unsigned)rc, 1) & ct_eq_mask(out_len, cek_len);
            unsigned char m = (unsigned char)good;
            for (size_t i = 0; i < cek_len; i++)
                cek[i] = (unsigned char)((buf[i] & m) | (cek[i] & (unsigned char)~m));
            err = JG_OK; /* a wrong CEK fails the tag check like any other */
        }
    } else if (EVP_PKEY_decrypt(ctx, buf, &out_len, ek, ek_len) <= 0) {
        err = JG_ERR_DECRYPT;
    } else if (out_len != cek_len) {
        err = JG_ERR_CEK_LENGTH;
    } else {
        memcpy(cek, buf, cek_len);
        err = JG_OK;
    }
    ERR_pop_to_mark();
    EVP_PKEY_CTX_free(ctx);
    jg_free_secret(buf, buf_len);
    return err;
}
