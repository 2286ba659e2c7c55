/*
 * jwk.c — the key object: lifetime, accessors, metadata and the rule that
 * decides whether a key may be used with an algorithm (jg_jwk_check).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "jwk/jwk_internal.h"

/* ---- Lifetime ------------------------------------------------------------ */

jg_jwk *jg__jwk_alloc(void)
{
    jg_jwk *key = calloc(1, sizeof *key);
    if (key != NULL)
        atomic_init(&key->refs, 1u);
    return key;
}

jg_jwk *jg_jwk_ref(jg_jwk *key)
{
    if (key != NULL)
        atomic_fetch_add_explicit(&key->refs, 1u, memory_order_relaxed);
    return key;
}

void jg_jwk_free(jg_jwk *key)
{
    if (key == NULL)
        return;
    if (atomic_fetch_sub_explicit(&key->refs, 1u, memory_order_acq_rel) != 1u)
        return;
    for (int i = 0; i < JG__HMAC_COUNT; i++)
        EVP_MAC_CTX_free(key->hmac[i]);
    jg__sig_prep_free(key->sig_prep);
    for (int i = 0; i < JG__RSA_KW_SLOTS; i++)
        EVP_PKEY_CTX_free(atomic_load_explicit(&key->rsa_kw[i], memory_order_relaxed));
    for (int i = 0; i < 3; i++)
        EVP_CIPHER_free(atomic_load_explicit(&key->gcm[i], memory_order_relaxed));
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private key material itself */
    if (key->secret != NULL)
        jg_free_secret(key->secret, key->secret_len);
    free(key->kid);
    jg_memzero(key, sizeof *key);
    free(key);
}

/* ---- Accessors ------------------------------------------------------------ */

jg_kty jg_jwk_kty(const jg_jwk *key)
{
    return key ? key->kty : JG_KTY_UNKNOWN;
}

jg_crv jg_jwk_crv(const jg_jwk *key)
{
    return key ? key->crv : JG_CRV_NONE;
}

const char *jg_jwk_kid(const jg_jwk *key)
{
    return key ? key->kid : NULL;
}

jg_alg jg_jwk_alg(const jg_jwk *key)
{
    return key ? key->alg : JG_ALG_UNKNOWN;
}

jg_enc jg_jwk_enc(const jg_jwk *key)
{
    return key ? key->enc : JG_ENC_UNKNOWN;
}

jg_use jg_jwk_use(const jg_jwk *key)
{
    return key ? key->use : JG_USE_ANY;
}

unsigned jg_jwk_key_ops(const jg_jwk *key)
{
    return key ? key->key_ops : 0u;
}

int jg_jwk_is_private(const jg_jwk *key)
{
    return key ? key->is_private : 0;
}

unsigned jg_jwk_bits(const jg_jwk *key)
{
    return key ? key->bits : 0u;
}

const char *jg_kty_name(jg_kty kty)
{
    switch (kty) {
    case JG_KTY_OCT:
        return "oct";
    case JG_KTY_RSA:
        return "RSA";
    case JG_KTY_EC:
        return "EC";
    case JG_KTY_OKP:
        return "OKP";
    default:
        return NULL;
    }
}

const char *jg_crv_name(jg_crv crv)
{
    const jg__curve_info *info = jg__curve(crv);
    return info ? info->jwk_name : NULL;
}

jg_crv jg_crv_from_name(const char *name)
{
    if (name == NULL)
        return JG_CRV_NONE;
    for (int c = JG_CRV_P256; c <= JG_CRV_X448; c++) {
        const jg__curve_info *info = jg__curve((jg_crv)c);
        if (info != NULL && strcmp(info->jwk_name, name) == 0)
            return (jg_crv)c;
    }
    return JG_CRV_NONE;
}

/* ---- Algorithms and key types -------------------------------------------- */

int jg__hmac_slot(jg_alg alg)
{
    const jg__alg_info *a = jg__alg(alg);
    return a->family == JG__FAM_HMAC ? a->slot : -1;
}

jg_err jg__jwk_alg_suits(const jg_jwk *key, jg_alg alg)
{
    return jg__alg_key_suits(alg, key->kty, key->crv);
}

int jg__jwk_alg_permits(const jg_jwk *key, jg_alg alg)
{
    if (key->alg == JG_ALG_UNKNOWN || key->alg == alg)
        return 1;
    /* "EdDSA" and the fully specified names mean the same on the right curve. */
    if (key->kty == JG_KTY_OKP)
        return jg__alg(key->alg)->family == JG__FAM_EDDSA &&
               jg__alg(alg)->family == JG__FAM_EDDSA; /* the curve was already checked */
    return 0;
}

/* The key_ops bits that permit `alg` in direction `op`. */
static unsigned ops_permitting(jg_alg alg, unsigned op)
{
    if (op == JG_OP_SIGN || op == JG_OP_VERIFY)
        return op;
    int sending = op == JG_OP_ENCRYPT;
    switch (jg__alg(alg)->family) {
    case JG__FAM_DIR:
        return sending ? JG_OP_ENCRYPT : JG_OP_DECRYPT;
    case JG__FAM_ECDH:
        return JG_OP_DERIVE_KEY | JG_OP_DERIVE_BITS;
    default: /* key wrapping and RSA key encryption */
        return sending ? (JG_OP_WRAP_KEY | JG_OP_ENCRYPT) : (JG_OP_UNWRAP_KEY | JG_OP_DECRYPT);
    }
}

jg_err jg_jwk_check(const jg_jwk *key, jg_alg alg, unsigned op)
{
    if (key == NULL ||
        (op != JG_OP_SIGN && op != JG_OP_VERIFY && op != JG_OP_ENCRYPT && op != JG_OP_DECRYPT))
        return JG_ERR_INVALID_ARGUMENT;

    jg_alg_kind kind = jg_alg_kind_of(alg);
    if (kind == JG_ALG_KIND_NONE)
        return JG_ERR_ALG_UNKNOWN;
    int jws_op = op == JG_OP_SIGN || op == JG_OP_VERIFY;
    if ((kind == JG_ALG_KIND_JWS) != jws_op)
        return JG_ERR_ALG_KIND;

    jg_err err = jg__jwk_alg_suits(key, alg);
    if (err != JG_OK)
        return err;

    /* Sizes: an HMAC key at least as long as the hash (RFC 7518 3.2), an
     * AES key-wrapping key exactly the size the alg names. */
    const jg__alg_info *a = jg__alg(alg);
    if (a->family == JG__FAM_HMAC && key->secret_len < jg__hash_len((jg__hash)a->hash))
        return JG_ERR_KEY_WEAK;
    if ((a->family == JG__FAM_AESKW || a->family == JG__FAM_GCMKW) && key->secret_len != a->kek_len)
        return JG_ERR_KEY_SIZE;

    /* Metadata. */
    if (!jg__jwk_alg_permits(key, alg))
        return JG_ERR_KEY_ALG;
    if (key->use != JG_USE_ANY && key->use != (kind == JG_ALG_KIND_JWS ? JG_USE_SIG : JG_USE_ENC))
        return JG_ERR_KEY_USE;
    if (key->key_ops != 0 && (key->key_ops & ops_permitting(alg, op)) == 0)
        return JG_ERR_KEY_OPS;

    if ((op == JG_OP_SIGN || op == JG_OP_DECRYPT) && !key->is_private)
        return JG_ERR_KEY_NOT_PRIVATE;
    return JG_OK;
}

/* ---- Metadata and completion --------------------------------------------- */

jg_err jg__jwk_set_meta(jg_jwk *key, const jg_jwk_meta *meta)
{
    static const unsigned sig_ops = JG_OP_SIGN | JG_OP_VERIFY;

    free(key->kid);
    key->kid = NULL;
    key->alg = JG_ALG_UNKNOWN;
    key->enc = JG_ENC_UNKNOWN;
    key->use = JG_USE_ANY;
    key->key_ops = 0;
    if (meta == NULL)
        return JG_OK;

    if ((unsigned)meta->use > (unsigned)JG_USE_ENC || (meta->key_ops & ~0xFFu) != 0)
        return JG_ERR_KEY_INVALID;
    /* RFC 7517 section 4.3: "use" and "key_ops" must agree when both appear. */
    if (meta->use == JG_USE_SIG && meta->key_ops != 0 && (meta->key_ops & ~sig_ops) != 0)
        return JG_ERR_KEY_INVALID;
    if (meta->use == JG_USE_ENC && (meta->key_ops & sig_ops) != 0)
        return JG_ERR_KEY_INVALID;

    if (meta->alg != JG_ALG_UNKNOWN) {
        jg_alg_kind kind = jg_alg_kind_of(meta->alg);
        if (kind == JG_ALG_KIND_NONE)
            return JG_ERR_ALG_UNKNOWN;
        if ((kind == JG_ALG_KIND_JWS && meta->use == JG_USE_ENC) ||
            (kind == JG_ALG_KIND_JWE && meta->use == JG_USE_SIG))
            return JG_ERR_KEY_INVALID;
        jg_err err = jg__jwk_alg_suits(key, meta->alg);
        if (err != JG_OK)
            return err;
    }

    if (meta->kid != NULL) {
        key->kid = strdup(meta->kid);
        if (key->kid == NULL)
            return JG_ERR_NOMEM;
    }
    key->alg = meta->alg;
    key->use = meta->use;
    key->key_ops = meta->key_ops;
    return JG_OK;
}

static jg_err prepare_hmac(jg_jwk *key)
{
    static const char *const digests[JG__HMAC_COUNT] = {"SHA256", "SHA384", "SHA512"};
    static const size_t hash_len[JG__HMAC_COUNT] = {32, 48, 64};

    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        return JG_ERR_CRYPTO;
    jg_err err = JG_OK;
    for (int i = 0; i < JG__HMAC_COUNT && err == JG_OK; i++) {
        if (key->secret_len < hash_len[i])
            continue; /* too short for this hash: the key may not be used with it */
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digests[i], 0),
            OSSL_PARAM_construct_end(),
        };
        key->hmac[i] = EVP_MAC_CTX_new(mac);
        if (key->hmac[i] == NULL)
            err = JG_ERR_NOMEM;
        else if (!EVP_MAC_init(key->hmac[i], key->secret, key->secret_len, params))
            err = JG_ERR_CRYPTO;
    }
    EVP_MAC_free(mac);
    return err;
}

jg_err jg__jwk_finish(jg_jwk *key, unsigned flags)
{
    switch (key->kty) {
    case JG_KTY_OCT: {
        if (key->secret == NULL || key->secret_len == 0)
            return JG_ERR_KEY_INVALID;
        /* An all-zero secret is a buffer nobody filled (a placeholder in a
         * configuration, a failed read), never a key: as a "dir" key it
         * would make every CEK zero, as an HMAC key a public MAC. */
        unsigned char any = 0;
        for (size_t i = 0; i < key->secret_len; i++)
            any |= key->secret[i];
        if (any == 0)
            return JG_ERR_KEY_WEAK;
        key->is_private = 1;
        key->bits = (unsigned)(key->secret_len * 8u);
        /* Only keys that may serve HS* need keyed HMAC state. */
        if (key->use == JG_USE_ENC || (key->alg != JG_ALG_UNKNOWN && jg__hmac_slot(key->alg) < 0))
            return JG_OK;
        return prepare_hmac(key);
    }
    case JG_KTY_RSA: {
        if (key->pkey == NULL)
            return JG_ERR_KEY_INVALID;
        int bits = EVP_PKEY_get_bits(key->pkey);
        if (bits <= 0)
            return JG_ERR_CRYPTO;
        key->bits = (unsigned)bits;
        if (key->bits < 2048u && !(flags & JG_JWK_ALLOW_WEAK_RSA))
            return JG_ERR_KEY_WEAK;
        return jg__sig_prep_new(key, &key->sig_prep); /* JWS templates, once */
    }
    case JG_KTY_EC:
    case JG_KTY_OKP: {
        const jg__curve_info *info = jg__curve(key->crv);
        if (key->pkey == NULL || info == NULL || info->kty != key->kty)
            return JG_ERR_KEY_CURVE;
        key->bits = info->bits;
        return key->kty == JG_KTY_EC ? jg__sig_prep_new(key, &key->sig_prep) : JG_OK;
    }
    default:
        return JG_ERR_KEY_KTY;
    }
}

/* ---- Constructors that need no parsing ------------------------------------ */

jg_err jg_jwk_from_secret(const unsigned char *secret, size_t len, const jg_jwk_meta *meta,
                          jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (secret == NULL || len == 0 || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_jwk *key = jg__jwk_alloc();
    if (key == NULL)
        return JG_ERR_NOMEM;
    key->kty = JG_KTY_OCT;
    key->secret = malloc(len);
    jg_err err = key->secret ? JG_OK : JG_ERR_NOMEM;
    if (err == JG_OK) {
        memcpy(key->secret, secret, len);
        key->secret_len = len;
        err = jg__jwk_set_meta(key, meta);
    }
    if (err == JG_OK)
        err = jg__jwk_finish(key, 0);
    if (err != JG_OK) {
        jg_jwk_free(key);
        return err;
    }
    *out = key;
    return JG_OK;
}

jg_err jg_jwk_with_meta(const jg_jwk *key, const jg_jwk_meta *meta, jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (key == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (key->kty == JG_KTY_OCT)
        return jg_jwk_from_secret(key->secret, key->secret_len, meta, out);

    jg_jwk *copy = jg__jwk_alloc();
    if (copy == NULL)
        return JG_ERR_NOMEM;
    copy->kty = key->kty;
    copy->crv = key->crv;
    copy->is_private = key->is_private;
    if (!EVP_PKEY_up_ref(key->pkey)) {
        jg_jwk_free(copy);
        return JG_ERR_CRYPTO;
    }
    copy->pkey = key->pkey;
    /* The source key passed the size check already (perhaps with ALLOW_WEAK). */
    jg_err err = jg__jwk_set_meta(copy, meta);
    if (err == JG_OK)
        err = jg__jwk_finish(copy, JG_JWK_ALLOW_WEAK_RSA);
    if (err != JG_OK) {
        jg_jwk_free(copy);
        return err;
    }
    *out = copy;
    return JG_OK;
}
