/*
 * jwk_generate.c — new random keys, for a key type or for an algorithm.
 *
 * Asymmetric keys come from EVP_PKEY keygen and then pass the same checks as
 * imported keys; "oct" secrets come from the private DRBG (RAND_priv_bytes).
 * Unless the caller names a kid, the kid is the RFC 7638 thumbprint.
 */
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "jwk/jwk_build.h"

#define OCT_MAX_BITS 8192u

static jg_err keygen(const char *type, const OSSL_PARAM *params, EVP_PKEY **out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL)
        return JG_ERR_NOMEM;
    jg_err err = JG_OK;
    if (EVP_PKEY_keygen_init(ctx) != 1 ||
        (params != NULL && !EVP_PKEY_CTX_set_params(ctx, params)) ||
        EVP_PKEY_generate(ctx, out) != 1)
        err = JG_ERR_CRYPTO;
    EVP_PKEY_CTX_free(ctx);
    return err;
}

static jg_err generate_pkey(jg_kty kty, jg_crv crv, unsigned bits, EVP_PKEY **out)
{
    const jg__curve_info *info = jg__curve(crv);
    switch (kty) {
    case JG_KTY_RSA: {
        if (crv != JG_CRV_NONE)
            return JG_ERR_KEY_CURVE;
        if (bits == 0)
            bits = 2048;
        if (bits < 2048)
            return JG_ERR_KEY_WEAK;
        if (bits > JG__RSA_MAX_BITS)
            return JG_ERR_INVALID_ARGUMENT;
        size_t nbits = bits;
        unsigned int e = 65537;
        OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &nbits),
                               OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &e),
                               OSSL_PARAM_construct_end()};
        return keygen("RSA", params, out);
    }
    case JG_KTY_EC: {
        if (info == NULL || info->kty != JG_KTY_EC)
            return JG_ERR_KEY_CURVE;
        if (bits != 0)
            return JG_ERR_INVALID_ARGUMENT;
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                                (char *)info->ossl_name, 0),
                               OSSL_PARAM_construct_end()};
        return keygen("EC", params, out);
    }
    case JG_KTY_OKP:
        if (info == NULL || info->kty != JG_KTY_OKP)
            return JG_ERR_KEY_CURVE;
        if (bits != 0)
            return JG_ERR_INVALID_ARGUMENT;
        return keygen(info->ossl_name, NULL, out);
    default:
        return JG_ERR_KEY_KTY;
    }
}

static jg_err generate_secret(jg_crv crv, unsigned bits, jg_jwk *key)
{
    if (crv != JG_CRV_NONE)
        return JG_ERR_KEY_CURVE;
    if (bits == 0)
        bits = 256;
    if (bits % 8 != 0 || bits > OCT_MAX_BITS)
        return JG_ERR_INVALID_ARGUMENT;
    if (bits < 128)
        return JG_ERR_KEY_WEAK;
    key->secret = malloc(bits / 8);
    if (key->secret == NULL)
        return JG_ERR_NOMEM;
    key->secret_len = bits / 8;
    return RAND_priv_bytes(key->secret, (int)key->secret_len) == 1 ? JG_OK : JG_ERR_CRYPTO;
}

jg_err jg_jwk_generate(jg_kty kty, jg_crv crv, unsigned bits, const jg_jwk_meta *meta, jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_jwk *key = jg__jwk_alloc();
    if (key == NULL)
        return JG_ERR_NOMEM;
    jg_err err;
    if (kty == JG_KTY_OCT) {
        key->kty = JG_KTY_OCT;
        err = generate_secret(crv, bits, key);
    } else {
        EVP_PKEY *pkey = NULL;
        err = generate_pkey(kty, crv, bits, &pkey);
        if (err == JG_OK)
            err = jg__jwk_adopt_pkey(key, pkey, 0);
    }
    if (err != JG_OK) {
        jg_jwk_free(key);
        return err;
    }
    return jg__jwk_complete(key, meta, 0, 1, out);
}

/* The curve for a key of row `a`: the row's default when `crv` is
 * JG_CRV_NONE, else `crv` when the row allows it; JG_CRV_NONE with *err set
 * otherwise. */
static jg_crv curve_for(const jg__alg_info *a, jg_crv crv, jg_err *err)
{
    if (crv == JG_CRV_NONE)
        return (jg_crv)a->crv;
    if ((unsigned)crv < 16u && (a->crvs & JG__CRV_BIT(crv)) != 0)
        return crv;
    *err = JG_ERR_KEY_CURVE;
    return JG_CRV_NONE;
}

jg_err jg_jwk_generate_for_alg(jg_alg alg, jg_crv crv, unsigned bits, const char *kid, jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    jg_alg_kind kind = jg_alg_kind_of(alg);
    if (kind == JG_ALG_KIND_NONE)
        return JG_ERR_ALG_UNKNOWN;
    jg_jwk_meta meta = {kid, alg, kind == JG_ALG_KIND_JWS ? JG_USE_SIG : JG_USE_ENC, 0};
    jg_err err = JG_OK;
    jg_kty kty;
    unsigned min_bits = 0, exact_bits = 0;

    const jg__alg_info *a = jg__alg(alg);
    if (a->crvs != 0) { /* ES*, EdDSA, Ed25519, Ed448, ECDH-ES*: the curve decides */
        crv = curve_for(a, crv, &err);
        if (err != JG_OK)
            return err;
        kty = jg__curve(crv)->kty;
    } else {
        kty = (jg_kty)a->kty;
        switch (a->family) {
        case JG__FAM_HMAC: /* RFC 7518 3.2: at least the hash size. */
            min_bits = (unsigned)jg__hash_len((jg__hash)a->hash) * 8u;
            break;
        case JG__FAM_AESKW:
        case JG__FAM_GCMKW:
            exact_bits = a->kek_len * 8u;
            break;
        case JG__FAM_DIR: /* The CEK sizes of the "enc" values (RFC 7518 5.1). */
            if (bits != 0 && bits != 128 && bits != 192 && bits != 256 && bits != 384 &&
                bits != 512)
                return JG_ERR_KEY_SIZE;
            break;
        default: /* PBES2: any secret; RSA: jg_jwk_generate() decides the size */
            break;
        }
    }
    if (kty == JG_KTY_OCT && crv != JG_CRV_NONE)
        return JG_ERR_KEY_CURVE;
    if (exact_bits != 0) {
        if (bits != 0 && bits != exact_bits)
            return JG_ERR_KEY_SIZE;
        bits = exact_bits;
    }
    if (min_bits != 0) {
        if (bits != 0 && bits < min_bits)
            return JG_ERR_KEY_WEAK;
        if (bits == 0)
            bits = min_bits;
    }
    return jg_jwk_generate(kty, crv, bits, &meta, out);
}
