/*
 * keymgmt_pbes2.c — PBES2-HS256+A128KW, PBES2-HS384+A192KW,
 * PBES2-HS512+A256KW (RFC 7518 section 4.8): PBKDF2 over the password (an
 * "oct" key's bytes) with salt = UTF8(alg) || 0x00 || p2s and p2c
 * iterations gives the AES key-wrap key.
 *
 * The iteration count comes from the token, so it is the attacker's knob:
 * it is checked against limits->max_pbes2_count before any work is done.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/json.h"
#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/base64url.h"

#define P2S_MAX 256 /* generous; real salts are 8 to 64 bytes */

static const EVP_MD *pbes2_md(jg_alg alg)
{
    const jg__alg_info *a = jg__alg(alg);
    const char *name = jg__hash_name((jg__hash)a->hash);
    return a->family == JG__FAM_PBES2 && name != NULL ? EVP_get_digestbyname(name) : NULL;
}

static jg_err derive_kek(jg_alg alg, const jg_jwk *key, const unsigned char *p2s, size_t p2s_len,
                         uint32_t p2c, unsigned char *kek, size_t kek_len)
{
    const EVP_MD *md = pbes2_md(alg);
    const char *name = jg_alg_name(alg);
    if (md == NULL || name == NULL || key->secret == NULL || key->secret_len > INT32_MAX ||
        p2c == 0 || p2c > INT32_MAX)
        return JG_ERR_CRYPTO;
    size_t name_len = strlen(name);
    unsigned char salt[32 + 1 + P2S_MAX];
    if (name_len + 1 + p2s_len > sizeof salt)
        return JG_ERR_HEADER_INVALID;
    memcpy(salt, name, name_len);
    salt[name_len] = 0;
    memcpy(salt + name_len + 1, p2s, p2s_len);
    int ok = PKCS5_PBKDF2_HMAC((const char *)key->secret, (int)key->secret_len, salt,
                               (int)(name_len + 1 + p2s_len), (int)p2c, md, (int)kek_len, kek);
    return ok == 1 ? JG_OK : JG_ERR_CRYPTO;
}

jg_err jg__pbes2_encrypt(jg_alg alg, const jg_jwk *key, uint32_t p2c, const jg__jwe_fixed *fixed,
                         const unsigned char *cek, size_t cek_len, unsigned char **ek,
                         size_t *ek_len, json_t *params)
{
    unsigned char p2s[P2S_MAX];
    size_t p2s_len = JG__PBES2_SALT_LEN;
    if (p2c == 0)
        p2c = JG__PBES2_DEFAULT_COUNT;
    if (p2c > INT32_MAX)
        return JG_ERR_INVALID_ARGUMENT;
    if (fixed != NULL && fixed->p2s != NULL) {
        if (fixed->p2s_len < 8 || fixed->p2s_len > P2S_MAX)
            return JG_ERR_INVALID_ARGUMENT;
        p2s_len = fixed->p2s_len;
        memcpy(p2s, fixed->p2s, p2s_len);
    } else if (RAND_bytes(p2s, (int)p2s_len) != 1) {
        return JG_ERR_CRYPTO;
    }

    size_t kek_len = jg__kw_key_len(alg);
    unsigned char kek[JG__KEK_MAX];
    unsigned char *buf = malloc(cek_len + 8);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    jg_err err = derive_kek(alg, key, p2s, p2s_len, p2c, kek, kek_len);
    if (err == JG_OK)
        err = jg__aeskw_wrap(kek, kek_len, cek, cek_len, buf);
    jg_memzero(kek, sizeof kek);

    char p2s_text[JG_B64URL_ENCODED_LEN(P2S_MAX) + 1];
    jg_b64url_encode(p2s, p2s_len, p2s_text);
    if (err == JG_OK && (json_object_set_new(params, "p2s", json_string(p2s_text)) != 0 ||
                         json_object_set_new(params, "p2c", json_integer((json_int_t)p2c)) != 0))
        err = JG_ERR_NOMEM;
    if (err != JG_OK) {
        free(buf);
        return err;
    }
    *ek = buf;
    *ek_len = cek_len + 8;
    return JG_OK;
}

jg_err jg__pbes2_decrypt(jg_alg alg, const jg_jwk *key, const jg__hdrs *hdrs,
                         const jg_limits *limits, const unsigned char *ek, size_t ek_len,
                         unsigned char *cek, size_t cek_len)
{
    /* p2c first: an over-limit count is refused before anything else. */
    const json_t *p2c_json = jg__hdrs_get(hdrs, "p2c");
    if (p2c_json == NULL)
        return JG_ERR_HEADER_INVALID;
    int64_t p2c = 0;
    jg_err err = jg__json_int_exact(p2c_json, &p2c);
    if (err == JG_ERR_JSON_NUMBER && json_is_real(p2c_json) &&
        json_real_value(p2c_json) >= 9223372036854775808.0)
        return JG_ERR_LIMIT_PBES2_COUNT; /* beyond int64: certainly over the limit */
    if (err != JG_OK)
        return JG_ERR_HEADER_INVALID;
    if (p2c > (int64_t)limits->max_pbes2_count)
        return JG_ERR_LIMIT_PBES2_COUNT;
    if (p2c < 1)
        return JG_ERR_HEADER_INVALID;

    unsigned char p2s[P2S_MAX + 2];
    size_t p2s_len = 0;
    int present = 0;
    err = jg__hdr_b64(hdrs, "p2s", p2s, P2S_MAX, &p2s_len, &present);
    if (err != JG_OK)
        return err;
    if (!present || p2s_len < 8)
        return JG_ERR_PBES2_SALT;
    if (ek_len != cek_len + 8)
        return JG_ERR_ENCRYPTED_KEY;

    size_t kek_len = jg__kw_key_len(alg);
    unsigned char kek[JG__KEK_MAX];
    err = derive_kek(alg, key, p2s, p2s_len, (uint32_t)p2c, kek, kek_len);
    if (err == JG_OK)
        err = jg__aeskw_unwrap(kek, kek_len, ek, ek_len, cek, cek_len);
    jg_memzero(kek, sizeof kek);
    return err;
}
