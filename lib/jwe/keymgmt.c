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
    return alg == JG_ALG_DIR || alg == JG_ALG_ECDH_ES;
}

size_t jg__kw_key_len(jg_alg alg)
{
    switch (alg) {
    case JG_ALG_A128KW:
    case JG_ALG_A128GCMKW:
    case JG_ALG_ECDH_ES_A128KW:
    case JG_ALG_PBES2_HS256_A128KW:
        return 16;
    case JG_ALG_A192KW:
    case JG_ALG_A192GCMKW:
    case JG_ALG_ECDH_ES_A192KW:
    case JG_ALG_PBES2_HS384_A192KW:
        return 24;
    case JG_ALG_A256KW:
    case JG_ALG_A256GCMKW:
    case JG_ALG_ECDH_ES_A256KW:
    case JG_ALG_PBES2_HS512_A256KW:
        return 32;
    default:
        return 0;
    }
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
    switch (alg) {
    case JG_ALG_DIR:
        return jg__dir_encrypt(key, enc, cek);
    case JG_ALG_A128KW:
    case JG_ALG_A192KW:
    case JG_ALG_A256KW:
        return aeskw_encrypt(key, cek, enc->cek_len, ek, ek_len);
    case JG_ALG_A128GCMKW:
    case JG_ALG_A192GCMKW:
    case JG_ALG_A256GCMKW:
        return jg__gcmkw_encrypt(key, cek, enc->cek_len, fixed, ek, ek_len, params);
    case JG_ALG_RSA1_5:
        return JG_ERR_UNSUPPORTED; /* decryption only (RFC 8725 section 3.2) */
    case JG_ALG_RSA_OAEP:
    case JG_ALG_RSA_OAEP_256:
    case JG_ALG_RSA_OAEP_384:
    case JG_ALG_RSA_OAEP_512:
        return jg__rsa_encrypt(alg, key, cek, enc->cek_len, ek, ek_len);
    case JG_ALG_ECDH_ES:
    case JG_ALG_ECDH_ES_A128KW:
    case JG_ALG_ECDH_ES_A192KW:
    case JG_ALG_ECDH_ES_A256KW:
        return jg__ecdh_encrypt(alg, key, enc, hdrs, fixed, cek, ek, ek_len, params);
    case JG_ALG_PBES2_HS256_A128KW:
    case JG_ALG_PBES2_HS384_A192KW:
    case JG_ALG_PBES2_HS512_A256KW:
        return jg__pbes2_encrypt(alg, key, p2c, fixed, cek, enc->cek_len, ek, ek_len, params);
    default:
        return jg_alg_kind_of(alg) == JG_ALG_KIND_JWS ? JG_ERR_ALG_KIND : JG_ERR_ALG_UNKNOWN;
    }
}

jg_err jg__km_decrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc, const jg__hdrs *hdrs,
                      const unsigned char *ek, size_t ek_len, const jg_limits *limits,
                      unsigned char *cek)
{
    switch (alg) {
    case JG_ALG_DIR:
        return jg__dir_decrypt(key, enc, ek_len, cek);
    case JG_ALG_A128KW:
    case JG_ALG_A192KW:
    case JG_ALG_A256KW:
        return jg__aeskw_unwrap(key->secret, key->secret_len, ek, ek_len, cek, enc->cek_len);
    case JG_ALG_A128GCMKW:
    case JG_ALG_A192GCMKW:
    case JG_ALG_A256GCMKW:
        return jg__gcmkw_decrypt(key, hdrs, ek, ek_len, cek, enc->cek_len);
    case JG_ALG_RSA1_5:
    case JG_ALG_RSA_OAEP:
    case JG_ALG_RSA_OAEP_256:
    case JG_ALG_RSA_OAEP_384:
    case JG_ALG_RSA_OAEP_512:
        return jg__rsa_decrypt(alg, key, ek, ek_len, cek, enc->cek_len);
    case JG_ALG_ECDH_ES:
    case JG_ALG_ECDH_ES_A128KW:
    case JG_ALG_ECDH_ES_A192KW:
    case JG_ALG_ECDH_ES_A256KW:
        return jg__ecdh_decrypt(alg, key, enc, hdrs, ek, ek_len, cek);
    case JG_ALG_PBES2_HS256_A128KW:
    case JG_ALG_PBES2_HS384_A192KW:
    case JG_ALG_PBES2_HS512_A256KW:
        return jg__pbes2_decrypt(alg, key, hdrs, limits, ek, ek_len, cek, enc->cek_len);
    default:
        return jg_alg_kind_of(alg) == JG_ALG_KIND_JWS ? JG_ERR_ALG_KIND : JG_ERR_ALG_UNKNOWN;
    }
}
