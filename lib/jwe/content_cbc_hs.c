/*
 * content_cbc_hs.c — AES_CBC_HMAC_SHA2 (RFC 7518 section 5.2): the CEK is
 * MAC_KEY || ENC_KEY; the tag is the first half of
 * HMAC(MAC_KEY, AAD || IV || ciphertext || AL), AL being the AAD length in
 * bits as a 64-bit big-endian number. On decryption the tag is checked, in
 * constant time, before anything is decrypted, so padding is never examined
 * for unauthenticated data.
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "jwe/jwe_internal.h"

static const EVP_CIPHER *cbc_cipher(size_t key_len)
{
    switch (key_len) {
    case 16:
        return EVP_aes_128_cbc();
    case 24:
        return EVP_aes_192_cbc();
    case 32:
        return EVP_aes_256_cbc();
    default:
        return NULL;
    }
}

static const char *hmac_digest(size_t key_len)
{
    switch (key_len) {
    case 16:
        return "SHA256";
    case 24:
        return "SHA384";
    case 32:
        return "SHA512";
    default:
        return NULL;
    }
}

/* The full HMAC (2 * tag_len bytes) over AAD || IV || ciphertext || AL. */
static jg_err compute_mac(const jg__enc_info *info, const unsigned char *mac_key,
                          const unsigned char *iv, const jg__aad *aad, const unsigned char *ct,
                          size_t ct_len, unsigned char *mac)
{
    size_t half = info->cek_len / 2;
    const char *digest = hmac_digest(half);
    if (digest == NULL)
        return JG_ERR_CRYPTO;

    uint64_t aad_bits = (uint64_t)jg__aad_len(aad) * 8u;
    unsigned char al[8];
    for (int i = 0; i < 8; i++)
        al[i] = (unsigned char)(aad_bits >> (56 - 8 * i));

    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (hmac == NULL)
        return JG_ERR_CRYPTO;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);
    if (ctx == NULL)
        return JG_ERR_NOMEM;

    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end(),
    };
    static const unsigned char dot = '.';
    size_t mac_len = 0;
    int ok = EVP_MAC_init(ctx, mac_key, half, params) && EVP_MAC_update(ctx, aad->a, aad->a_len) &&
             (!aad->has_b ||
              (EVP_MAC_update(ctx, &dot, 1) && EVP_MAC_update(ctx, aad->b, aad->b_len))) &&
             EVP_MAC_update(ctx, iv, info->iv_len) && EVP_MAC_update(ctx, ct, ct_len) &&
             EVP_MAC_update(ctx, al, sizeof al) &&
             EVP_MAC_final(ctx, mac, &mac_len, (size_t)2 * JG__TAG_MAX) &&
             mac_len == 2 * info->tag_len;
    EVP_MAC_CTX_free(ctx);
    return ok ? JG_OK : JG_ERR_CRYPTO;
}

/* One CBC pass with PKCS#7 padding; `in` and `out` may be the same buffer. */
static int cbc_run(int enc, const unsigned char *key, size_t key_len, const unsigned char *iv,
                   const unsigned char *in, size_t in_len, unsigned char *out, size_t *out_len)
{
    const EVP_CIPHER *cipher = cbc_cipher(key_len);
    if (cipher == NULL || in_len > (size_t)INT_MAX - 32)
        return 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return 0;
    int l1 = 0, l2 = 0;
    int ok = EVP_CipherInit_ex2(ctx, cipher, key, iv, enc, NULL) &&
             EVP_CipherUpdate(ctx, out, &l1, in, (int)in_len) &&
             EVP_CipherFinal_ex(ctx, out + l1, &l2) > 0;
    EVP_CIPHER_CTX_free(ctx);
    if (ok)
        *out_len = (size_t)l1 + (size_t)l2;
    return ok;
}

jg_err jg__cbc_hs_encrypt(const jg__enc_info *info, const unsigned char *cek,
                          const unsigned char *iv, const jg__aad *aad, const unsigned char *pt,
                          size_t pt_len, unsigned char *ct, unsigned char *tag)
{
    size_t half = info->cek_len / 2;
    size_t ct_len = 0;
    if (!cbc_run(1, cek + half, half, iv, pt, pt_len, ct, &ct_len) ||
        ct_len != jg__content_ct_len(info, pt_len))
        return JG_ERR_CRYPTO;
    unsigned char mac[2 * JG__TAG_MAX];
    jg_err err = compute_mac(info, cek, iv, aad, ct, ct_len, mac);
    if (err == JG_OK)
        memcpy(tag, mac, info->tag_len);
    jg_memzero(mac, sizeof mac);
    return err;
}

jg_err jg__cbc_hs_decrypt(const jg__enc_info *info, const unsigned char *cek,
                          const unsigned char *iv, const jg__aad *aad, const unsigned char *ct,
                          size_t ct_len, const unsigned char *tag, unsigned char *pt,
                          size_t *pt_len)
{
    size_t half = info->cek_len / 2;
    unsigned char mac[2 * JG__TAG_MAX];
    jg_err err = compute_mac(info, cek, iv, aad, ct, ct_len, mac);
    if (err != JG_OK)
        return err;
    int good = jg_memeq_consttime(mac, tag, info->tag_len);
    jg_memzero(mac, sizeof mac);
    if (!good)
        return JG_ERR_DECRYPT;
    /* Authentic from here on: a malformed length or padding can only come
     * from the key holder, and reports the same code as a bad tag. */
    if (ct_len == 0 || ct_len % 16 != 0)
        return JG_ERR_DECRYPT;
    if (!cbc_run(0, cek + half, half, iv, ct, ct_len, pt, pt_len)) {
        jg_memzero(pt, ct_len);
        return JG_ERR_DECRYPT;
    }
    return JG_OK;
}
