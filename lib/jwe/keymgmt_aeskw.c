/* keymgmt_aeskw.c — AES Key Wrap (RFC 3394) for A128KW/A192KW/A256KW and
 * the wrapping step of ECDH-ES+A*KW and PBES2-*+A*KW (RFC 7518 4.4). */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "jwe/jwe_internal.h"

static const EVP_CIPHER *wrap_cipher(size_t kek_len)
{
    switch (kek_len) {
    case 16:
        return EVP_aes_128_wrap();
    case 24:
        return EVP_aes_192_wrap();
    case 32:
        return EVP_aes_256_wrap();
    default:
        return NULL;
    }
}

static int run(int enc, const unsigned char *kek, size_t kek_len, const unsigned char *in,
               size_t in_len, unsigned char *out, size_t want)
{
    const EVP_CIPHER *cipher = wrap_cipher(kek_len);
    if (cipher == NULL || in_len > 1024)
        return 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return 0;
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int l1 = 0, l2 = 0;
    /* NULL IV: the RFC 3394 default 0xA6A6A6A6A6A6A6A6. */
    int ok = EVP_CipherInit_ex2(ctx, cipher, kek, NULL, enc, NULL) &&
             EVP_CipherUpdate(ctx, out, &l1, in, (int)in_len) > 0 &&
             EVP_CipherFinal_ex(ctx, out + l1, &l2) > 0 && (size_t)l1 + (size_t)l2 == want;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

jg_err jg__aeskw_wrap(const unsigned char *kek, size_t kek_len, const unsigned char *in,
                      size_t in_len, unsigned char *out)
{
    if (in_len < 16 || in_len % 8 != 0)
        return JG_ERR_CRYPTO;
    return run(1, kek, kek_len, in, in_len, out, in_len + 8) ? JG_OK : JG_ERR_CRYPTO;
}

jg_err jg__aeskw_unwrap(const unsigned char *kek, size_t kek_len, const unsigned char *in,
                        size_t in_len, unsigned char *out, size_t out_len)
{
    if (in_len != out_len + 8)
        return JG_ERR_ENCRYPTED_KEY;
    if (wrap_cipher(kek_len) == NULL)
        return JG_ERR_KEY_SIZE;
    unsigned char tmp[JG__CEK_MAX + 8];
    /* OpenSSL writes the whole unwrapped block before checking it: use a
     * scratch buffer so `out` only ever receives an authentic key. */
    int ok = run(0, kek, kek_len, in, in_len, tmp, out_len);
    if (ok)
        memcpy(out, tmp, out_len);
    jg_memzero(tmp, sizeof tmp);
    return ok ? JG_OK : JG_ERR_DECRYPT;
}
