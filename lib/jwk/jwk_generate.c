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

/* The curve for `alg` (`crv` when the algorithm allows a choice), or
 * JG_CRV_NONE with *err set. */
static jg_crv curve_for(jg_alg alg, jg_crv crv, jg_err *err)
{
    jg_crv fixed = JG_CRV_NONE;
    switch (alg) {
    case JG_ALG_ES256:
        fixed = JG_CRV_P256;
        break;
    case JG_ALG_ES384:
        fixed = JG_CRV_P384;
        break;
    case JG_ALG_ES512:
        fixed = JG_CRV_P521;
        break;
    case JG_ALG_ED25519:
        fixed = JG_CRV_ED25519;
        break;
    case JG_ALG_ED448:
        fixed = JG_CRV_ED448;
        break;
    case JG_ALG_EDDSA:
        if (crv == JG_CRV_NONE || crv == JG_CRV_ED25519 || crv == JG_CRV_ED448)
            return crv == JG_CRV_NONE ? JG_CRV_ED25519 : crv;
        *err = JG_ERR_KEY_CURVE;
        return JG_CRV_NONE;
    default: /* ECDH-ES family */
        if (crv == JG_CRV_NONE)
            return JG_CRV_P256;
        if (crv == JG_CRV_P256 || crv == JG_CRV_P384 || crv == JG_CRV_P521 ||
            crv == JG_CRV_X25519 || crv == JG_CRV_X448)
            return crv;
        *err = JG_ERR_KEY_CURVE;
        return JG_CRV_NONE;
    }
    if (crv != JG_CRV_NONE && crv != fixed) {
        *err = JG_ERR_KEY_CURVE;
        return JG_CRV_NONE;
    }
    return fixed;
}

jg_err jg_jwk_generate_for_alg(jg_alg alg, jg_crv crv, unsigned bits, const char *kid, jg_jwk **out)
{
    jg_alg_kind kind = jg_alg_kind_of(alg);
    if (kind == JG_ALG_KIND_NONE)
        return JG_ERR_ALG_UNKNOWN;
    jg_jwk_meta meta = {kid, alg, kind == JG_ALG_KIND_JWS ? JG_USE_SIG : JG_USE_ENC, 0};
    jg_err err = JG_OK;
    jg_kty kty;
    unsigned min_bits = 0, exact_bits = 0;

    switch (alg) {
    case JG_ALG_HS256:
    case JG_ALG_HS384:
    case JG_ALG_HS512:
        /* RFC 7518 3.2: at least the hash size. */
        kty = JG_KTY_OCT;
        min_bits = alg == JG_ALG_HS256 ? 256 : alg == JG_ALG_HS384 ? 384 : 512;
        break;
    case JG_ALG_A128KW:
    case JG_ALG_A128GCMKW:
        kty = JG_KTY_OCT;
        exact_bits = 128;
        break;
    case JG_ALG_A192KW:
    case JG_ALG_A192GCMKW:
        kty = JG_KTY_OCT;
        exact_bits = 192;
        break;
    case JG_ALG_A256KW:
    case JG_ALG_A256GCMKW:
        kty = JG_KTY_OCT;
        exact_bits = 256;
        break;
    case JG_ALG_DIR:
        /* The CEK sizes of the "enc" values (RFC 7518 5.1). */
        kty = JG_KTY_OCT;
        if (bits != 0 && bits != 128 && bits != 192 && bits != 256 && bits != 384 && bits != 512)
            return JG_ERR_KEY_SIZE;
        break;
    case JG_ALG_PBES2_HS256_A128KW:
    case JG_ALG_PBES2_HS384_A192KW:
    case JG_ALG_PBES2_HS512_A256KW:
        kty = JG_KTY_OCT;
        break;
    case JG_ALG_RS256:
    case JG_ALG_RS384:
    case JG_ALG_RS512:
    case JG_ALG_PS256:
    case JG_ALG_PS384:
    case JG_ALG_PS512:
    case JG_ALG_RSA1_5:
    case JG_ALG_RSA_OAEP:
    case JG_ALG_RSA_OAEP_256:
    case JG_ALG_RSA_OAEP_384:
    case JG_ALG_RSA_OAEP_512:
        kty = JG_KTY_RSA;
        break;
    default: /* ES*, EdDSA, Ed25519, Ed448, ECDH-ES* */
        crv = curve_for(alg, crv, &err);
        if (err != JG_OK)
            return err;
        kty = jg__curve(crv)->kty;
        break;
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
