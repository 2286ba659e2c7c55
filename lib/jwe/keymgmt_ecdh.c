/*
 * keymgmt_ecdh.c — ECDH-ES and ECDH-ES+A128KW/A192KW/A256KW (RFC 7518
 * section 4.6, RFC 8037 section 3.2) on P-256, P-384, P-521, X25519 and X448.
 *
 * The shared secret goes through the Concat KDF (SHA-256, written out:
 * jg__concat_kdf) with AlgorithmID = "enc" for direct agreement or "alg" with key
 * wrapping. The sender's ephemeral key ("epk") is hostile input on the
 * recipient side: it must be a public key (no "d") of the recipient key's
 * type and curve, with coordinates of the exact length, on the curve; for
 * X25519/X448 a low-order point (all-zero shared secret) is refused.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/base64url.h"

#define COORD_MAX 66 /* P-521 */

static const jg__curve_info *agreement_curve(const jg_jwk *key)
{
    if (key->pkey == NULL)
        return NULL;
    switch (key->crv) {
    case JG_CRV_P256:
    case JG_CRV_P384:
    case JG_CRV_P521:
    case JG_CRV_X25519:
    case JG_CRV_X448:
        return jg__curve(key->crv);
    default:
        return NULL;
    }
}

jg_err jg__concat_kdf(const unsigned char *z, size_t z_len, const char *alg_id,
                      const unsigned char *apu, size_t apu_len, const unsigned char *apv,
                      size_t apv_len, unsigned char *out, size_t out_len)
{
    size_t id_len = strlen(alg_id);
    if (id_len > 0xffffffffu || apu_len > 0xffffffffu || apv_len > 0xffffffffu ||
        out_len > 0x1fffffffu)
        return JG_ERR_INVALID_ARGUMENT;
    /* OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo,
     * the first three as 32-bit big-endian length || bytes. */
    size_t info_len = 4 + id_len + 4 + apu_len + 4 + apv_len + 4;
    unsigned char stack[256];
    unsigned char *info = info_len <= sizeof stack ? stack : malloc(info_len);
    if (info == NULL)
        return JG_ERR_NOMEM;
    unsigned char *p = info;
    const struct {
        const void *bytes;
        size_t len;
    } parts[3] = {{alg_id, id_len}, {apu, apu_len}, {apv, apv_len}};
    for (int i = 0; i < 3; i++) {
        size_t n = parts[i].len;
        *p++ = (unsigned char)(n >> 24);
        *p++ = (unsigned char)(n >> 16);
        *p++ = (unsigned char)(n >> 8);
        *p++ = (unsigned char)n;
        if (n > 0)
            memcpy(p, parts[i].bytes, n);
        p += n;
    }
    size_t bits = out_len * 8;
    *p++ = (unsigned char)(bits >> 24);
    *p++ = (unsigned char)(bits >> 16);
    *p++ = (unsigned char)(bits >> 8);
    *p++ = (unsigned char)bits;

    /* K(i) = SHA-256(counter i || Z || OtherInfo), concatenated (NIST SP
     * 800-56A section 5.8.1). Written out rather than through OpenSSL's
     * "SSKDF", whose fetch and parameter handling cost more than the one or
     * two hash blocks the JOSE key sizes need. */
    jg_err err = JG_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char block[32];
    if (ctx == NULL)
        err = JG_ERR_NOMEM;
    for (uint32_t round = 1, done = 0; err == JG_OK && done < out_len; round++) {
        const unsigned char counter[4] = {(unsigned char)(round >> 24),
                                          (unsigned char)(round >> 16), (unsigned char)(round >> 8),
                                          (unsigned char)round};
        if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(ctx, counter, sizeof counter) != 1 ||
            EVP_DigestUpdate(ctx, z, z_len) != 1 || EVP_DigestUpdate(ctx, info, info_len) != 1 ||
            EVP_DigestFinal_ex(ctx, block, NULL) != 1) {
            err = JG_ERR_CRYPTO;
            break;
        }
        uint32_t n = out_len - done < sizeof block ? (uint32_t)(out_len - done) : sizeof block;
        memcpy(out + done, block, n);
        done += n;
    }
    jg_memzero(block, sizeof block);
    EVP_MD_CTX_free(ctx);
    if (err != JG_OK)
        jg_memzero(out, out_len);
    if (info != stack)
        free(info);
    return err;
}

/* The shared secret Z of `priv` and `peer` (validated when `validate`). */
static jg_err derive_z(EVP_PKEY *priv, EVP_PKEY *peer, int validate, unsigned char *z,
                       size_t *z_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    if (ctx == NULL)
        return JG_ERR_NOMEM;
    jg_err err = JG_ERR_EPK_INVALID;
    size_t len = 0;
    ERR_set_mark();
    if (EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer_ex(ctx, peer, validate) > 0 &&
        EVP_PKEY_derive(ctx, NULL, &len) > 0 && len > 0 && len <= COORD_MAX &&
        EVP_PKEY_derive(ctx, z, &len) > 0)
        err = JG_OK;
    ERR_pop_to_mark();
    EVP_PKEY_CTX_free(ctx);
    if (err != JG_OK)
        return err;
    /* A low-order X25519/X448 point gives Z = 0 (RFC 7748 section 6); refuse
     * it even if the provider did not. No branch on the bytes themselves. */
    unsigned char acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= z[i];
    if (acc == 0) {
        jg_memzero(z, len);
        return JG_ERR_EPK_INVALID;
    }
    *z_len = len;
    return JG_OK;
}

/* ---- epk in and out ------------------------------------------------------- */

static jg_err coord(const json_t *epk, const char *name, size_t want, unsigned char *out)
{
    const json_t *v = json_object_get(epk, name);
    if (!json_is_string(v))
        return JG_ERR_EPK_INVALID;
    size_t n = json_string_length(v), len = 0;
    /* RFC 7518 6.2.1.2: coordinates have the full field length. */
    if (n != JG_B64URL_ENCODED_LEN(want))
        return JG_ERR_EPK_INVALID;
    unsigned char buf[COORD_MAX + 2];
    if (jg_b64url_decode(json_string_value(v), n, buf, &len) != JG_OK || len != want)
        return JG_ERR_EPK_INVALID;
    memcpy(out, buf, want);
    return JG_OK;
}

static jg_err epk_import(const json_t *epk, const jg_jwk *key, const jg__curve_info *info,
                         EVP_PKEY **out)
{
    if (!json_is_object(epk))
        return JG_ERR_EPK_INVALID;
    const char *kty = json_string_value(json_object_get(epk, "kty"));
    const char *crv = json_string_value(json_object_get(epk, "crv"));
    if (kty == NULL || crv == NULL || strcmp(kty, jg_kty_name(key->kty)) != 0 ||
        strcmp(crv, info->jwk_name) != 0)
        return JG_ERR_EPK_INVALID;
    /* An ephemeral key sent with its private part is a sender's mistake we
     * do not paper over. */
    if (json_object_get(epk, "d") != NULL)
        return JG_ERR_EPK_INVALID;

    unsigned char point[1 + 2 * COORD_MAX];
    size_t n = info->coord_len;
    EVP_PKEY *pkey = NULL;
    if (key->kty == JG_KTY_OKP) {
        if (json_object_get(epk, "y") != NULL || coord(epk, "x", n, point) != JG_OK)
            return JG_ERR_EPK_INVALID;
        ERR_set_mark();
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, info->ossl_name, NULL, point, n);
        ERR_pop_to_mark();
    } else {
        point[0] = 0x04; /* uncompressed */
        if (coord(epk, "x", n, point + 1) != JG_OK || coord(epk, "y", n, point + 1 + n) != JG_OK)
            return JG_ERR_EPK_INVALID;
        /* The group comes from the recipient's prepared key (cheaper than
         * building it from its name); decoding the point refuses one that is
         * not on the curve, and the check below says so explicitly. */
        pkey = EVP_PKEY_new();
        if (pkey == NULL)
            return JG_ERR_NOMEM;
        ERR_set_mark();
        int ok = EVP_PKEY_copy_parameters(pkey, key->pkey) == 1 &&
                 EVP_PKEY_set1_encoded_public_key(pkey, point, 1 + 2 * n) == 1;
        if (ok) {
            EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
            ok = check != NULL && EVP_PKEY_public_check_quick(check) == 1;
            EVP_PKEY_CTX_free(check);
        }
        ERR_pop_to_mark();
        if (!ok) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    if (pkey == NULL)
        return JG_ERR_EPK_INVALID;
    *out = pkey;
    return JG_OK;
}

static jg_err set_b64(json_t *obj, const char *name, const unsigned char *bytes, size_t len)
{
    char text[JG_B64URL_ENCODED_LEN(COORD_MAX) + 1];
    jg_b64url_encode(bytes, len, text);
    return json_object_set_new(obj, name, json_string(text)) == 0 ? JG_OK : JG_ERR_NOMEM;
}

/* The affine coordinates of an EC public key, `n` bytes each. */
static int ec_coordinates(EVP_PKEY *pkey, size_t n, unsigned char *x, unsigned char *y)
{
    /* The encoded point 0x04 || X || Y comes in one call, without BIGNUMs. */
    unsigned char point[1 + 2 * COORD_MAX];
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len) ==
            1 &&
        len == 1 + 2 * n && point[0] == 0x04) {
        memcpy(x, point + 1, n);
        memcpy(y, point + 1 + n, n);
        return 1;
    }
    /* Another point format: ask for the coordinates themselves. */
    BIGNUM *bx = NULL, *by = NULL;
    int ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
             EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
             BN_bn2binpad(bx, x, (int)n) == (int)n && BN_bn2binpad(by, y, (int)n) == (int)n;
    BN_free(bx);
    BN_free(by);
    return ok;
}

static jg_err epk_export(EVP_PKEY *pkey, const jg_jwk *key, const jg__curve_info *info,
                         json_t **out)
{
    unsigned char x[COORD_MAX], y[COORD_MAX];
    size_t n = info->coord_len;
    if (key->kty == JG_KTY_OKP) {
        size_t len = sizeof x;
        if (EVP_PKEY_get_raw_public_key(pkey, x, &len) != 1 || len != n)
            return JG_ERR_CRYPTO;
    } else if (!ec_coordinates(pkey, n, x, y)) {
        return JG_ERR_CRYPTO;
    }
    json_t *epk = json_object();
    if (epk == NULL)
        return JG_ERR_NOMEM;
    jg_err err = JG_OK;
    if (json_object_set_new(epk, "kty", json_string(jg_kty_name(key->kty))) != 0 ||
        json_object_set_new(epk, "crv", json_string(info->jwk_name)) != 0)
        err = JG_ERR_NOMEM;
    if (err == JG_OK)
        err = set_b64(epk, "x", x, n);
    if (err == JG_OK && key->kty == JG_KTY_EC)
        err = set_b64(epk, "y", y, n);
    if (err != JG_OK) {
        json_decref(epk);
        return err;
    }
    *out = epk;
    return JG_OK;
}

/* ---- apu / apv ------------------------------------------------------------ */

/* A base64url "apu"/"apv" decoded into a malloc'd buffer (NULL, 0 when absent). */
static jg_err party_info(const jg__hdrs *hdrs, const char *name, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    const json_t *v = jg__hdrs_get(hdrs, name);
    if (v == NULL)
        return JG_OK;
    if (!json_is_string(v))
        return JG_ERR_HEADER_INVALID;
    size_t n = json_string_length(v);
    unsigned char *buf = malloc(JG_B64URL_DECODED_MAX(n) + 2);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    int present = 0;
    jg_err err = jg__hdr_b64(hdrs, name, buf, JG_B64URL_DECODED_MAX(n), len, &present);
    if (err != JG_OK) {
        free(buf);
        return err;
    }
    *out = buf;
    return JG_OK;
}

/* Z -> KDF -> CEK (direct) or key-wrap key, then wrap or unwrap. */
static jg_err finish(jg_alg alg, const jg__enc_info *enc, const jg__hdrs *hdrs,
                     const unsigned char *z, size_t z_len, int sending, unsigned char *cek,
                     const unsigned char *ek_in, size_t ek_in_len, unsigned char *ek_out)
{
    int direct = alg == JG_ALG_ECDH_ES;
    size_t key_len = direct ? enc->cek_len : jg__kw_key_len(alg);
    const char *alg_id = direct ? jg_enc_name(enc->enc) : jg_alg_name(alg);
    unsigned char *apu = NULL, *apv = NULL;
    size_t apu_len = 0, apv_len = 0;
    unsigned char derived[JG__CEK_MAX];

    jg_err err = party_info(hdrs, "apu", &apu, &apu_len);
    if (err == JG_OK)
        err = party_info(hdrs, "apv", &apv, &apv_len);
    if (err == JG_OK)
        err = jg__concat_kdf(z, z_len, alg_id, apu, apu_len, apv, apv_len, direct ? cek : derived,
                             key_len);
    if (err == JG_OK && !direct) {
        if (sending)
            err = jg__aeskw_wrap(derived, key_len, cek, enc->cek_len, ek_out);
        else
            err = jg__aeskw_unwrap(derived, key_len, ek_in, ek_in_len, cek, enc->cek_len);
    }
    jg_memzero(derived, sizeof derived);
    free(apu);
    free(apv);
    return err;
}

jg_err jg__ecdh_encrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc,
                        const jg__hdrs *hdrs, const jg__jwe_fixed *fixed, unsigned char *cek,
                        unsigned char **ek, size_t *ek_len, json_t *params)
{
    const jg__curve_info *info = agreement_curve(key);
    if (info == NULL)
        return JG_ERR_KEY_CURVE;

    EVP_PKEY *eph = NULL;
    if (fixed != NULL && fixed->epk != NULL) {
        if (fixed->epk->crv != key->crv || fixed->epk->pkey == NULL || !fixed->epk->is_private)
            return JG_ERR_INVALID_ARGUMENT;
        if (!EVP_PKEY_up_ref(fixed->epk->pkey))
            return JG_ERR_CRYPTO;
        eph = fixed->epk->pkey;
    } else {
        /* A fresh key on the recipient's curve, using its prepared key as
         * the parameter template. */
        EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
        if (gen == NULL || EVP_PKEY_keygen_init(gen) <= 0 || EVP_PKEY_generate(gen, &eph) <= 0)
            eph = NULL;
        EVP_PKEY_CTX_free(gen);
    }
    if (eph == NULL)
        return JG_ERR_CRYPTO;

    unsigned char z[COORD_MAX];
    size_t z_len = 0;
    unsigned char *wrapped = NULL;
    json_t *epk = NULL;
    /* The recipient key's point was validated when the key was imported. */
    jg_err err = derive_z(eph, key->pkey, 0, z, &z_len);
    if (err == JG_ERR_EPK_INVALID)
        err = JG_ERR_CRYPTO;
    if (err == JG_OK)
        err = epk_export(eph, key, info, &epk);
    if (err == JG_OK && alg != JG_ALG_ECDH_ES) {
        wrapped = malloc(enc->cek_len + 8);
        if (wrapped == NULL)
            err = JG_ERR_NOMEM;
    }
    if (err == JG_OK)
        err = finish(alg, enc, hdrs, z, z_len, 1, cek, NULL, 0, wrapped);
    if (err == JG_OK && json_object_set_new(params, "epk", epk) != 0)
        err = JG_ERR_NOMEM;
    else if (err == JG_OK)
        epk = NULL;
    jg_memzero(z, sizeof z);
    EVP_PKEY_free(eph);
    json_decref(epk);
    if (err != JG_OK) {
        free(wrapped);
        return err;
    }
    *ek = wrapped;
    *ek_len = wrapped != NULL ? enc->cek_len + 8 : 0;
    return JG_OK;
}

jg_err jg__ecdh_decrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc,
                        const jg__hdrs *hdrs, const unsigned char *ek, size_t ek_len,
                        unsigned char *cek)
{
    const jg__curve_info *info = agreement_curve(key);
    if (info == NULL)
        return JG_ERR_KEY_CURVE;
    /* Length checks first: they cost nothing and need no agreement. */
    if (alg == JG_ALG_ECDH_ES ? ek_len != 0 : ek_len != enc->cek_len + 8)
        return JG_ERR_ENCRYPTED_KEY;

    const json_t *epk_json = jg__hdrs_get(hdrs, "epk");
    if (epk_json == NULL)
        return JG_ERR_EPK_INVALID;
    EVP_PKEY *epk = NULL;
    jg_err err = epk_import(epk_json, key, info, &epk);
    if (err != JG_OK)
        return err;

    unsigned char z[COORD_MAX];
    size_t z_len = 0;
    /* Validated above: on the curve (EC) or of the right length (OKP); the
     * full check OpenSSL would add costs a scalar multiplication and adds
     * nothing for these prime-order curves. Low-order X25519/X448 points are
     * caught by the zero check in derive_z(). */
    err = derive_z(key->pkey, epk, 0, z, &z_len);
    if (err == JG_OK)
        err = finish(alg, enc, hdrs, z, z_len, 0, cek, ek, ek_len, NULL);
    jg_memzero(z, sizeof z);
    EVP_PKEY_free(epk);
    return err;
}
