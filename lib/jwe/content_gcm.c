/*
 * content_gcm.c — AES-GCM (RFC 7518 section 5.3): 96-bit IV, 128-bit tag.
 * Also serves A*GCMKW key wrapping (empty AAD).
 */
#include <limits.h>
#include <stdatomic.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"

static const EVP_CIPHER *implicit_cipher(size_t key_len)
{
    switch (key_len) {
    case 16:
        return EVP_aes_128_gcm();
    case 24:
        return EVP_aes_192_gcm();
    case 32:
        return EVP_aes_256_gcm();
    default:
        return NULL;
    }
}

const EVP_CIPHER *jg__gcm_cipher(const jg_jwk *holder, size_t key_len)
{
    static const char *const names[3] = {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"};
    int i = key_len == 16 ? 0 : key_len == 24 ? 1 : key_len == 32 ? 2 : -1;
    if (i < 0)
        return NULL;
    if (holder == NULL)
        return implicit_cipher(key_len);
    /* Only the published cipher is ever written, never the key itself. */
    jg_jwk *self = (jg_jwk *)holder;
    EVP_CIPHER *cipher = atomic_load_explicit(&self->gcm[i], memory_order_acquire);
    if (cipher != NULL)
        return cipher;
    EVP_CIPHER *fetched = EVP_CIPHER_fetch(NULL, names[i], NULL);
    if (fetched == NULL)
        return implicit_cipher(key_len);
    EVP_CIPHER *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&self->gcm[i], &expected, fetched,
                                                memory_order_acq_rel, memory_order_acquire))
        return fetched;
    EVP_CIPHER_free(fetched); /* another thread published first */
    return expected;
}

/* EVP lengths are int: feed long inputs in pieces. */
static int update(EVP_CIPHER_CTX *ctx, int enc, unsigned char *out, const unsigned char *in,
                  size_t len)
{
    while (len > 0) {
        int chunk = len > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)len;
        int outl = 0;
        int ok = enc ? EVP_EncryptUpdate(ctx, out, &outl, in, chunk)
                     : EVP_DecryptUpdate(ctx, out, &outl, in, chunk);
        if (!ok || (out != NULL && outl != chunk))
            return 0;
        in += chunk;
        if (out != NULL)
            out += chunk;
        len -= (size_t)chunk;
    }
    return 1;
}

static int feed_aad(EVP_CIPHER_CTX *ctx, int enc, const jg__aad *aad)
{
    static const unsigned char dot = '.';
    if (aad == NULL)
        return 1;
    if (!update(ctx, enc, NULL, aad->a, aad->a_len))
        return 0;
    if (aad->has_b &&
        (!update(ctx, enc, NULL, &dot, 1) || !update(ctx, enc, NULL, aad->b, aad->b_len)))
        return 0;
    return 1;
}

static EVP_CIPHER_CTX *start(const EVP_CIPHER *cipher, int enc, const unsigned char *key,
                             size_t key_len, const unsigned char *iv, size_t iv_len)
{
    if (cipher == NULL || iv_len != 12 || EVP_CIPHER_get_key_length(cipher) != (int)key_len)
        return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return NULL;
    if (!EVP_CipherInit_ex2(ctx, cipher, key, iv, enc, NULL)) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

jg_err jg__gcm_encrypt(const EVP_CIPHER *cipher, const unsigned char *key, size_t key_len,
                       const unsigned char *iv, size_t iv_len, const jg__aad *aad,
                       const unsigned char *pt, size_t pt_len, unsigned char *ct,
                       unsigned char tag[16])
{
    EVP_CIPHER_CTX *ctx = start(cipher, 1, key, key_len, iv, iv_len);
    if (ctx == NULL)
        return JG_ERR_CRYPTO;
    jg_err err = JG_ERR_CRYPTO;
    int outl = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, 16),
        OSSL_PARAM_construct_end(),
    };
    if (feed_aad(ctx, 1, aad) && update(ctx, 1, ct, pt, pt_len) &&
        EVP_EncryptFinal_ex(ctx, ct + pt_len, &outl) && outl == 0 &&
        EVP_CIPHER_CTX_get_params(ctx, params))
        err = JG_OK;
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

jg_err jg__gcm_decrypt(const EVP_CIPHER *cipher, const unsigned char *key, size_t key_len,
                       const unsigned char *iv, size_t iv_len, const jg__aad *aad,
                       const unsigned char *ct, size_t ct_len, const unsigned char tag[16],
                       unsigned char *pt)
{
    EVP_CIPHER_CTX *ctx = start(cipher, 0, key, key_len, iv, iv_len);
    if (ctx == NULL)
        return JG_ERR_CRYPTO;
    jg_err err = JG_ERR_CRYPTO;
    int outl = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag, 16),
        OSSL_PARAM_construct_end(),
    };
    if (feed_aad(ctx, 0, aad) && update(ctx, 0, pt, ct, ct_len) &&
        EVP_CIPHER_CTX_set_params(ctx, params)) {
        /* Final verifies the tag; only then is the plaintext released. */
        err =
            EVP_DecryptFinal_ex(ctx, pt + ct_len, &outl) > 0 && outl == 0 ? JG_OK : JG_ERR_DECRYPT;
    }
    EVP_CIPHER_CTX_free(ctx);
    if (err != JG_OK)
        jg_memzero(pt, ct_len);
    return err;
}
