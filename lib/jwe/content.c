/* content.c — the "enc" table and dispatch to AES-GCM or AES-CBC-HMAC. */
#include "jwe/jwe_internal.h"

static const jg__enc_info enc_table[] = {
    {JG_ENC_A128CBC_HS256, 32, 16, 16, 0}, {JG_ENC_A192CBC_HS384, 48, 16, 24, 0},
    {JG_ENC_A256CBC_HS512, 64, 16, 32, 0}, {JG_ENC_A128GCM, 16, 12, 16, 1},
    {JG_ENC_A192GCM, 24, 12, 16, 1},       {JG_ENC_A256GCM, 32, 12, 16, 1},
};

const jg__enc_info *jg__enc_info_of(jg_enc enc)
{
    for (size_t i = 0; i < sizeof enc_table / sizeof enc_table[0]; i++)
        if (enc_table[i].enc == enc)
            return &enc_table[i];
    return NULL;
}

size_t jg__aad_len(const jg__aad *aad)
{
    return aad->a_len + (aad->has_b ? 1 + aad->b_len : 0);
}

size_t jg__content_ct_len(const jg__enc_info *info, size_t pt_len)
{
    /* CBC always adds PKCS#7 padding: 1 to 16 bytes. */
    return info->gcm ? pt_len : (pt_len / 16 + 1) * 16;
}

jg_err jg__content_encrypt(const jg__enc_info *info, const jg_jwk *holder, const unsigned char *cek,
                           const unsigned char *iv, const jg__aad *aad, const unsigned char *pt,
                           size_t pt_len, unsigned char *ct, unsigned char *tag)
{
    if (info->gcm)
        return jg__gcm_encrypt(jg__gcm_cipher(holder, info->cek_len), cek, info->cek_len, iv,
                               info->iv_len, aad, pt, pt_len, ct, tag);
    return jg__cbc_hs_encrypt(info, cek, iv, aad, pt, pt_len, ct, tag);
}

jg_err jg__content_decrypt(const jg__enc_info *info, const jg_jwk *holder, const unsigned char *cek,
                           const unsigned char *iv, const jg__aad *aad, const unsigned char *ct,
                           size_t ct_len, const unsigned char *tag, unsigned char *pt,
                           size_t *pt_len)
{
    if (info->gcm) {
        jg_err err = jg__gcm_decrypt(jg__gcm_cipher(holder, info->cek_len), cek, info->cek_len, iv,
                                     info->iv_len, aad, ct, ct_len, tag, pt);
        if (err == JG_OK)
            *pt_len = ct_len;
        return err;
    }
    return jg__cbc_hs_decrypt(info, cek, iv, aad, ct, ct_len, tag, pt, pt_len);
}
