/* keymgmt_dir.c — "dir" (RFC 7518 section 4.5): the shared symmetric key is
 * the CEK itself, so it must have exactly the CEK length of "enc", and the
 * JWE Encrypted Key is empty. */
#include <string.h>

#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"

jg_err jg__dir_encrypt(const jg_jwk *key, const jg__enc_info *enc, unsigned char *cek)
{
    if (key->kty != JG_KTY_OCT || key->secret == NULL)
        return JG_ERR_KEY_TYPE;
    /* A JWK with "alg":"A128GCM" and the like is a dir key for that enc only. */
    if (key->enc != JG_ENC_UNKNOWN && key->enc != enc->enc)
        return JG_ERR_KEY_ALG;
    if (key->secret_len != enc->cek_len)
        return JG_ERR_CEK_LENGTH;
    memcpy(cek, key->secret, enc->cek_len);
    return JG_OK;
}

jg_err jg__dir_decrypt(const jg_jwk *key, const jg__enc_info *enc, size_t ek_len,
                       unsigned char *cek)
{
    if (ek_len != 0)
        return JG_ERR_ENCRYPTED_KEY;
    return jg__dir_encrypt(key, enc, cek);
}
