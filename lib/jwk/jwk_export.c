/*
 * jwk_export.c — keys out: JWK and JWKS JSON, public halves, and RFC 7638
 * thumbprints.
 *
 * Every member is written from the EVP_PKEY itself, so keys from PEM or
 * generation export exactly like keys parsed from JSON. Every string that
 * held a private value is wiped before it is freed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "core/json.h"
#include "jwk/jwk_build.h"
#include "jwtgate/base64url.h"

#define EXPORT_FLAGS (JG_EXPORT_PRIVATE | JG_EXPORT_PRETTY)

/* ---- Building the JSON object ------------------------------------------------ */

static jg_err set_new(json_t *obj, const char *name, json_t *value)
{
    /* json_object_set_new() releases `value` on failure, and accepts NULL. */
    return json_object_set_new(obj, name, value) == 0 ? JG_OK : JG_ERR_NOMEM;
}

static jg_err set_str(json_t *obj, const char *name, const char *value)
{
    return set_new(obj, name, json_string(value));
}

/* A base64url member; the encoded text is wiped since it may be secret. */
static jg_err set_b64(json_t *obj, const char *name, const unsigned char *data, size_t len)
{
    char *enc = NULL;
    size_t enc_len = 0;
    jg_err err = jg_b64url_encode_alloc(data, len, &enc, &enc_len);
    if (err != JG_OK)
        return err;
    err = set_new(obj, name, json_stringn_nocheck(enc, enc_len));
    jg_free_secret(enc, enc_len + 1);
    return err;
}

/* A big-endian integer parameter of the key (pad 0: minimal length, as
 * RFC 7518 section 2 asks; else the fixed coordinate length). `optional`
 * parameters the key does not have are skipped. */
static jg_err set_param(json_t *obj, const char *name, const EVP_PKEY *pkey, const char *param,
                        size_t pad, int optional)
{
    unsigned char *bytes = NULL;
    size_t len = 0;
    jg_err err = jg__pkey_get_uint(pkey, param, pad, &bytes, &len);
    if (err == JG_ERR_KEY_INVALID && optional)
        return JG_OK;
    if (err != JG_OK)
        return err == JG_ERR_KEY_INVALID ? JG_ERR_CRYPTO : err;
    err = set_b64(obj, name, bytes, len);
    jg_free_secret(bytes, len);
    return err;
}

static jg_err rsa_members(json_t *obj, const jg_jwk *key, int private)
{
    static const char *const crt_json[5] = {"p", "q", "dp", "dq", "qi"};
    static const char *const crt_ossl[5] = {
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    jg_err err = set_param(obj, "n", key->pkey, OSSL_PKEY_PARAM_RSA_N, 0, 0);
    if (err == JG_OK)
        err = set_param(obj, "e", key->pkey, OSSL_PKEY_PARAM_RSA_E, 0, 0);
    if (err != JG_OK || !private)
        return err;
    err = set_param(obj, "d", key->pkey, OSSL_PKEY_PARAM_RSA_D, 0, 0);
    for (int i = 0; i < 5 && err == JG_OK; i++)
        err = set_param(obj, crt_json[i], key->pkey, crt_ossl[i], 0, 1);
    return err;
}

static jg_err ec_members(json_t *obj, const jg_jwk *key, const jg__curve_info *info, int private)
{
    /* Coordinates and scalar at the full length (RFC 7518 6.2.1.2, 6.2.2.1). */
    jg_err err = set_param(obj, "x", key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, info->coord_len, 0);
    if (err == JG_OK)
        err = set_param(obj, "y", key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, info->coord_len, 0);
    if (err == JG_OK && private)
        err = set_param(obj, "d", key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, info->coord_len, 0);
    return err;
}

static jg_err okp_members(json_t *obj, const jg_jwk *key, int private)
{
    unsigned char raw[64];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &len) != 1)
        return JG_ERR_CRYPTO;
    jg_err err = set_b64(obj, "x", raw, len);
    if (err == JG_OK && private) {
        len = sizeof raw;
        if (EVP_PKEY_get_raw_private_key(key->pkey, raw, &len) != 1)
            err = JG_ERR_CRYPTO;
        else
            err = set_b64(obj, "d", raw, len);
        jg_memzero(raw, sizeof raw);
    }
    return err;
}

/* "kty", "crv" and the key material; the private part only when `private`
 * and the key has one. */
static jg_err add_material(json_t *obj, const jg_jwk *key, int private)
{
    private = private && key->is_private;
    jg_err err = set_str(obj, "kty", jg_kty_name(key->kty));
    if (err != JG_OK)
        return err;
    switch (key->kty) {
    case JG_KTY_OCT:
        return private ? set_b64(obj, "k", key->secret, key->secret_len) : JG_OK;
    case JG_KTY_RSA:
        return rsa_members(obj, key, private);
    case JG_KTY_EC:
    case JG_KTY_OKP: {
        const jg__curve_info *info = jg__curve(key->crv);
        if (info == NULL)
            return JG_ERR_INVALID_ARGUMENT;
        err = set_str(obj, "crv", info->jwk_name);
        if (err != JG_OK)
            return err;
        return key->kty == JG_KTY_EC ? ec_members(obj, key, info, private)
                                     : okp_members(obj, key, private);
    }
    default:
        return JG_ERR_INVALID_ARGUMENT;
    }
}

static const char *const key_op_names[] = {"sign",    "verify",    "encrypt",   "decrypt",
                                           "wrapKey", "unwrapKey", "deriveKey", "deriveBits"};

/* "kid", "use", "alg" and "key_ops" (in the order of RFC 7517 4.3). */
static jg_err add_meta(json_t *obj, const jg_jwk *key)
{
    jg_err err = JG_OK;
    if (key->kid != NULL)
        err = set_str(obj, "kid", key->kid);
    if (err == JG_OK && key->use != JG_USE_ANY)
        err = set_str(obj, "use", key->use == JG_USE_SIG ? "sig" : "enc");
    if (err == JG_OK && key->enc != JG_ENC_UNKNOWN)
        err = set_str(obj, "alg", jg_enc_name(key->enc));
    else if (err == JG_OK && key->alg != JG_ALG_UNKNOWN)
        err = set_str(obj, "alg", jg_alg_name(key->alg));
    if (err == JG_OK && key->key_ops != 0) {
        json_t *ops = json_array();
        err = ops ? JG_OK : JG_ERR_NOMEM;
        for (unsigned i = 0; i < 8 && err == JG_OK; i++)
            if (key->key_ops & (1u << i))
                err = json_array_append_new(ops, json_string(key_op_names[i])) == 0 ? JG_OK
                                                                                    : JG_ERR_NOMEM;
        if (err == JG_OK)
            err = set_new(obj, "key_ops", ops);
        else
            json_decref(ops);
    }
    return err;
}

/* Wipe every string under `value` (public ones too: cheap, and simple). */
static void wipe_tree(json_t *value)
{
    if (json_is_string(value)) {
        jg__json_wipe_string(value);
    } else if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++)
            wipe_tree(json_array_get(value, i));
    } else if (json_is_object(value)) {
        const char *name;
        json_t *member;
        json_object_foreach (value, name, member) {
            wipe_tree(member);
        }
    }
}

void jg__jwk_json_release(json_t *value)
{
    if (value == NULL)
        return;
    wipe_tree(value);
    json_decref(value);
}

jg_err jg__jwk_to_json_t(const jg_jwk *key, unsigned flags, json_t **out)
{
    if (key == NULL || out == NULL || (flags & ~EXPORT_FLAGS) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    /* An "oct" key has no public part: writing it without "k" would be a
     * key that is not one. */
    if (key->kty == JG_KTY_OCT && !(flags & JG_EXPORT_PRIVATE))
        return JG_ERR_KEY_TYPE;
    json_t *obj = json_object();
    if (obj == NULL)
        return JG_ERR_NOMEM;
    jg_err err = add_material(obj, key, (flags & JG_EXPORT_PRIVATE) != 0);
    if (err == JG_OK)
        err = add_meta(obj, key);
    if (err != JG_OK) {
        jg__jwk_json_release(obj);
        return err;
    }
    *out = obj;
    return JG_OK;
}

/* ---- Public functions -------------------------------------------------------- */

jg_err jg_jwk_to_json(const jg_jwk *key, unsigned flags, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    json_t *obj = NULL;
    if (out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err = jg__jwk_to_json_t(key, flags, &obj);
    if (err != JG_OK)
        return err;
    err = jg__json_dump_secret(obj, (flags & JG_EXPORT_PRETTY) != 0, out, out_len);
    jg__jwk_json_release(obj);
    return err;
}

jg_err jg_jwks_to_json(const jg_jwks *set, unsigned flags, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    if (set == NULL || out == NULL || (flags & ~EXPORT_FLAGS) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    json_t *root = json_object(), *keys = json_array();
    jg_err err = root && keys ? JG_OK : JG_ERR_NOMEM;
    for (size_t i = 0; i < jg_jwks_count(set) && err == JG_OK; i++) {
        json_t *obj = NULL;
        err = jg__jwk_to_json_t(jg_jwks_get(set, i), flags, &obj);
        if (err == JG_OK && json_array_append_new(keys, obj) != 0)
            err = JG_ERR_NOMEM;
    }
    if (err == JG_OK) {
        err = set_new(root, "keys", keys);
        keys = NULL;
    }
    if (err == JG_OK)
        err = jg__json_dump_secret(root, (flags & JG_EXPORT_PRETTY) != 0, out, out_len);
    jg__jwk_json_release(keys);
    jg__jwk_json_release(root);
    return err;
}

/*
 * The operations of the public half: verify, encrypt, wrapKey and the ECDH
 * derivations stay; sign, decrypt and unwrapKey become their public
 * counterparts, so that "key_ops":["sign"] does not turn into no "key_ops"
 * at all (which would allow everything).
 */
static unsigned public_ops(unsigned ops)
{
    unsigned pub = ops & (JG_OP_VERIFY | JG_OP_ENCRYPT | JG_OP_WRAP_KEY | JG_OP_DERIVE_KEY |
                          JG_OP_DERIVE_BITS);
    if (ops & JG_OP_SIGN)
        pub |= JG_OP_VERIFY;
    if (ops & JG_OP_DECRYPT)
        pub |= JG_OP_ENCRYPT;
    if (ops & JG_OP_UNWRAP_KEY)
        pub |= JG_OP_WRAP_KEY;
    return pub;
}

jg_err jg_jwk_public(const jg_jwk *key, jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (key == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (key->kty == JG_KTY_OCT || key->pkey == NULL)
        return JG_ERR_KEY_TYPE;

    jg_jwk *pub = jg__jwk_alloc();
    if (pub == NULL)
        return JG_ERR_NOMEM;
    pub->kty = key->kty;
    pub->crv = key->crv;
    jg_err err = JG_OK;
    if (key->is_private)
        err = jg__pkey_public(key->pkey, &pub->pkey);
    else if (EVP_PKEY_up_ref(key->pkey))
        pub->pkey = key->pkey; /* already public: share it */
    else
        err = JG_ERR_CRYPTO;
    if (err != JG_OK) {
        jg_jwk_free(pub);
        return err;
    }
    jg_jwk_meta meta = {key->kid, key->alg, key->use, public_ops(key->key_ops)};
    /* The source key passed the size rule already (perhaps with ALLOW_WEAK). */
    return jg__jwk_complete(pub, &meta, JG_JWK_ALLOW_WEAK_RSA, 0, out);
}

/* ---- Thumbprints (RFC 7638) ---------------------------------------------------- */

jg_err jg_jwk_thumbprint(const jg_jwk *key, unsigned char out[32])
{
    if (key == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    /*
     * RFC 7638 section 3: the required members only, sorted, no whitespace —
     * exactly what the sorted compact dump of those members is (all values are
     * base64url or names, which need no escaping). RFC 8037 section 2 gives
     * OKP's as "crv", "kty", "x". For "oct" that is the secret "k".
     */
    json_t *obj = json_object();
    if (obj == NULL)
        return JG_ERR_NOMEM;
    char *text = NULL;
    size_t len = 0;
    jg_err err = add_material(obj, key, key->kty == JG_KTY_OCT);
    if (err == JG_OK)
        err = jg__json_dump_secret(obj, 0, &text, &len);
    jg__jwk_json_release(obj);
    if (err != JG_OK)
        return err;
    unsigned int md_len = 0;
    if (EVP_Digest(text, len, out, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        err = JG_ERR_CRYPTO;
    jg_free_secret(text, len + 1);
    return err;
}

jg_err jg_jwk_thumbprint_b64(const jg_jwk *key, char out[44])
{
    unsigned char digest[32];
    if (out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err = jg_jwk_thumbprint(key, digest);
    if (err == JG_OK)
        jg_b64url_encode(digest, sizeof digest, out);
    return err;
}
