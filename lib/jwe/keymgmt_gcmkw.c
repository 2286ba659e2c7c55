/*
 * keymgmt_gcmkw.c — A128GCMKW/A192GCMKW/A256GCMKW (RFC 7518 section 4.7):
 * the CEK is encrypted with AES-GCM under the shared key, with a fresh
 * 96-bit IV and the 128-bit tag carried in the "iv" and "tag" header
 * parameters. Both must have exactly those lengths.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/base64url.h"

static jg_err add_b64(json_t *params, const char *name, const unsigned char *bytes, size_t len)
{
    char text[JG_B64URL_ENCODED_LEN(64) + 1];
    if (len > 64)
        return JG_ERR_INVALID_ARGUMENT;
    jg_b64url_encode(bytes, len, text);
    return json_object_set_new(params, name, json_string(text)) == 0 ? JG_OK : JG_ERR_NOMEM;
}

jg_err jg__gcmkw_encrypt(const jg_jwk *key, const unsigned char *cek, size_t cek_len,
                         const jg__jwe_fixed *fixed, unsigned char **ek, size_t *ek_len,
                         json_t *params)
{
    unsigned char iv[12], tag[16];
    if (fixed != NULL && fixed->kw_iv != NULL) {
        if (fixed->kw_iv_len != sizeof iv)
            return JG_ERR_INVALID_ARGUMENT;
        memcpy(iv, fixed->kw_iv, sizeof iv);
    } else if (RAND_bytes(iv, sizeof iv) != 1) {
        return JG_ERR_CRYPTO;
    }
    unsigned char *buf = malloc(cek_len);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    jg__aad none = {"", 0, NULL, 0, 0};
    jg_err err = jg__gcm_encrypt(jg__gcm_cipher(key, key->secret_len), key->secret, key->secret_len,
                                 iv, sizeof iv, &none, cek, cek_len, buf, tag);
    /* "tag" before "iv": the order of RFC 7520 section 5.7. */
    if (err == JG_OK)
        err = add_b64(params, "tag", tag, sizeof tag);
    if (err == JG_OK)
        err = add_b64(params, "iv", iv, sizeof iv);
    if (err != JG_OK) {
        free(buf);
        return err;
    }
    *ek = buf;
    *ek_len = cek_len;
    return JG_OK;
}

/* A short base64url header member: JG_ERR_INVALID_ARGUMENT when it is
 * absent or too long (a length error for the caller to name), else as
 * jg__hdr_b64(). */
static jg_err fixed_b64(const jg__hdrs *hdrs, const char *name, unsigned char out[66], size_t *len)
{
    const json_t *v = jg__hdrs_get(hdrs, name);
    if (v == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (!json_is_string(v))
        return JG_ERR_HEADER_INVALID;
    int present = 0;
    jg_err err = jg__hdr_b64(hdrs, name, out, 64, len, &present);
    return err == JG_ERR_HEADER_INVALID ? JG_ERR_INVALID_ARGUMENT : err;
}

jg_err jg__gcmkw_decrypt(const jg_jwk *key, const jg__hdrs *hdrs, const unsigned char *ek,
                         size_t ek_len, unsigned char *cek, size_t cek_len)
{
    unsigned char iv[64 + 2], tag[64 + 2];
    size_t iv_len = 0, tag_len = 0;

    jg_err err = fixed_b64(hdrs, "iv", iv, &iv_len);
    if (err == JG_ERR_INVALID_ARGUMENT || (err == JG_OK && iv_len != 12))
        return JG_ERR_IV_LENGTH;
    if (err != JG_OK)
        return err;
    err = fixed_b64(hdrs, "tag", tag, &tag_len);
    if (err == JG_ERR_INVALID_ARGUMENT || (err == JG_OK && tag_len != 16))
        return JG_ERR_TAG_LENGTH;
    if (err != JG_OK)
        return err;
    if (ek_len != cek_len)
        return JG_ERR_ENCRYPTED_KEY;

    jg__aad none = {"", 0, NULL, 0, 0};
    return jg__gcm_decrypt(jg__gcm_cipher(key, key->secret_len), key->secret, key->secret_len, iv,
                           12, &none, ek, ek_len, tag, cek);
}
