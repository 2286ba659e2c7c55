/* keymgmt.c — dispatch of "alg" to its key management family, and the
 * header lookups they share. */
#include <string.h>

#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/base64url.h"

const json_t *jg__hdrs_get(const jg__hdrs *hdrs, const char *name)
{
    for (int i = 0; i < 3; i++) {
        if (hdrs->h[i] == NULL)
            continue;
        const json_t *v = json_object_get(hdrs->h[i], name);
        if (v != NULL)
            return v;
    }
    return NULL;
}

jg_err jg__hdr_b64(const jg__hdrs *hdrs, const char *name, unsigned char *out, size_t cap,
                   size_t *out_len, int *present)
{
    const json_t *v = jg__hdrs_get(hdrs, name);
    *out_len = 0;
    *present = v != NULL;
    if (v == NULL)
        return JG_OK;
    if (!json_is_string(v))
        return JG_ERR_HEADER_INVALID;
    size_t n = json_string_length(v);
    /* The exact decoded length follows from the encoded one; refuse before
     * decoding anything that could not fit. */
    size_t exact = n / 4 * 3 + (n % 4 > 1 ? n % 4 - 1 : 0);
    if (exact > cap)
        return JG_ERR_HEADER_INVALID;
    return jg_b64url_decode(json_string_value(v), n, out, out_len);
}

int jg__alg_is_direct(jg_alg alg)
{
    return (jg__alg(alg)->flags & JG__ALG_DIRECT) != 0;
}

size_t jg__kw_key_len(jg_alg alg)
{
    return jg__alg(alg)->kek_len;
}

static jg_err aeskw_encrypt(const jg_jwk *key, const unsigned char *cek, size_t cek_len,
                            unsigned char **ek, size_t *ek_len)
{
    unsigned char *buf = malloc(cek_len + 8);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    jg_err err = jg__aeskw_wrap(key->secret, key->secret_len, cek, cek_len, buf);
    if (err != JG_OK) {
        free(buf);
        return err;
    }
    *ek = buf;
    *ek_len = cek_len + 8;
    return JG_OK;
}

jg_err jg__km_encrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc, const jg__hdrs *hdrs,
                      uint32_t p2c, const jg__jwe_fixed *fixed, unsigned char *cek,
                      unsigned char **ek, size_t *ek_len, json_t *params)
{
    *ek = NULL;
    *ek_len = 0;
    if (jg__alg(alg)->flags & JG__ALG_DECRYPT_ONLY)
        return JG_ERR_UNSUPPORTED; /* RSA1_5 (RFC 8725 section 3.2) */
    switch ((jg__alg_family)jg__alg(alg)->family) {
    case JG__FAM_DIR:
        return jg__dir_encrypt(key, enc, cek);
    case JG__FAM_AESKW:
        return aeskw_encrypt(key, cek, enc->cek_len, ek, ek_len);
    case JG__FAM_GCMKW:
        return jg__gcmkw_encrypt(key, cek, enc->cek_len, fixed, ek, ek_len, params);
    case JG__FAM_RSA_ENC:
        return jg__rsa_encrypt(alg, key, cek, enc->cek_len, ek, ek_len);
    case JG__FAM_ECDH:
        return jg__ecdh_encrypt(alg, key, enc, hdrs, fixed, cek, ek, ek_len, params);
    case JG__FAM_PBES2:
        return jg__pbes2_encrypt(alg, key, p2c, fixed, cek, enc->cek_len, ek, ek_len, params);
    default:
        return jg_alg_kind_of(alg) == JG_ALG_KIND_JWS ? JG_ERR_ALG_KIND : JG_ERR_ALG_UNKNOWN;
    }
}

jg_err jg__km_decrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc, const jg__hdrs *hdrs,
                      const unsigned char *ek, size_t ek_len, const jg_limits *limits,
                      unsigned char *cek)
{
    switch ((jg__alg_family)jg__alg(alg)->family) {
    case JG__FAM_DIR:
        return jg__dir_decrypt(key, enc, ek_len, cek);
    case JG__FAM_AESKW:
        return jg__aeskw_unwrap(key->secret, key->secret_len, ek, ek_len, cek, enc->cek_len);
    case JG__FAM_GCMKW:
        return jg__gcmkw_decrypt(key, hdrs, ek, ek_len, cek, enc->cek_len);
    case JG__FAM_RSA_ENC:
        return jg__rsa_decrypt(alg, key, ek, ek_len, cek, enc->cek_len);
    case JG__FAM_ECDH:
        return jg__ecdh_decrypt(alg, key, enc, hdrs, ek, ek_len, cek);
    case JG__FAM_PBES2:
        return jg__pbes2_decrypt(alg, key, hdrs, limits, ek, ek_len, cek, enc->cek_len);
    default:
        return jg_alg_kind_of(alg) == JG_ALG_KIND_JWS ? JG_ERR_ALG_KIND : JG_ERR_ALG_UNKNOWN;
    }
}
