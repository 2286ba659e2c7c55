/*
 * jwk_parse.c — one JWK from JSON (RFC 7517, RFC 7518 section 6, RFC 8037).
 *
 * Members are checked strictly where the RFCs say MUST; the key material is
 * then built with EVP_PKEY_fromdata and checked once by jg__jwk_adopt_pkey(),
 * like keys from every other source. Private members are wiped from the
 * parsed JSON, and decoded secrets from our buffers, before they are freed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/json.h"
#include "jwk/jwk_build.h"
#include "jwtgate/base64url.h"

/* ---- Members ----------------------------------------------------------------- */

/* A string member (NULL when absent). Another JSON type is malformed, and so
 * is an embedded NUL (jansson refuses "\u0000" today; this keeps a kid from
 * meaning two things should that change). */
static jg_err get_string(const json_t *obj, const char *name, const char **out, size_t *out_len)
{
    const json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (v == NULL)
        return JG_OK;
    if (!json_is_string(v))
        return JG_ERR_KEY_INVALID;
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', len) != NULL)
        return JG_ERR_KEY_INVALID;
    *out = s;
    if (out_len != NULL)
        *out_len = len;
    return JG_OK;
}

/* A decoded byte string, wiped and freed by buf_free(). */
typedef struct buf {
    unsigned char *data;
    size_t len;
} buf;

static void buf_free(buf *b)
{
    if (b->data != NULL)
        jg_free_secret(b->data, b->len + 1); /* +1: the decoder's terminating NUL */
    b->data = NULL;
    b->len = 0;
}

/*
 * The base64url member `name`: absent leaves `out` empty (the caller decides
 * whether it was required); present, it must be a non-empty string of at most
 * `max_len` decoded bytes in strict base64url.
 */
static jg_err get_b64(const json_t *obj, const char *name, size_t max_len, buf *out)
{
    const json_t *v = json_object_get(obj, name);
    out->data = NULL;
    out->len = 0;
    if (v == NULL)
        return JG_OK;
    if (!json_is_string(v))
        return JG_ERR_KEY_INVALID;
    size_t slen = json_string_length(v);
    if (slen == 0 || slen > JG_B64URL_ENCODED_LEN(max_len))
        return JG_ERR_KEY_INVALID;
    return jg_b64url_decode_alloc(json_string_value(v), slen, &out->data, &out->len);
}

/* A required base64url member of exactly `len` bytes (RFC 7518 6.2.1.2, 6.2.1.3
 * and 6.2.2.1: EC coordinates and scalars are full length; RFC 8037 2 for OKP). */
static jg_err get_b64_exact(const json_t *obj, const char *name, size_t len, buf *out)
{
    jg_err err = get_b64(obj, name, len, out);
    if (err == JG_OK && (out->data == NULL || out->len != len))
        err = JG_ERR_KEY_INVALID; /* absent, or of the wrong length */
    if (err != JG_OK)
        buf_free(out);
    return err;
}

/* A Base64urlUInt (RFC 7518 section 2): "MUST utilize the minimum number of
 * octets", so a leading zero octet is refused (zero is never a valid RSA
 * parameter). Absent leaves `out` empty. */
static jg_err get_uint(const json_t *obj, const char *name, size_t max_len, buf *out)
{
    jg_err err = get_b64(obj, name, max_len, out);
    if (err == JG_OK && out->data != NULL && (out->len > max_len || out->data[0] == 0))
        err = JG_ERR_KEY_INVALID;
    if (err != JG_OK)
        buf_free(out);
    return err;
}

/* ---- Metadata ------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} key_op_names[] = {
    {"sign", JG_OP_SIGN},
    {"verify", JG_OP_VERIFY},
    {"encrypt", JG_OP_ENCRYPT},
    {"decrypt", JG_OP_DECRYPT},
    {"wrapKey", JG_OP_WRAP_KEY},
    {"unwrapKey", JG_OP_UNWRAP_KEY},
    {"deriveKey", JG_OP_DERIVE_KEY},
    {"deriveBits", JG_OP_DERIVE_BITS},
};

/*
 * "key_ops" (RFC 7517 4.3): an array of distinct strings. We accept only the
 * registered values, and refuse an empty array: it could only mean "no
 * operation", which a key we keep would contradict.
 */
static jg_err parse_key_ops(const json_t *v, unsigned *out)
{
    unsigned ops = 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return JG_ERR_KEY_INVALID;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *item = json_array_get(v, i);
        if (!json_is_string(item))
            return JG_ERR_KEY_INVALID;
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof key_op_names / sizeof key_op_names[0]; k++)
            if (strcmp(json_string_value(item), key_op_names[k].name) == 0 &&
                json_string_length(item) == strlen(key_op_names[k].name))
                bit = key_op_names[k].bit;
        if (bit == 0 || (ops & bit) != 0)
            return JG_ERR_KEY_INVALID; /* unknown or repeated */
        ops |= bit;
    }
    *out = ops;
    return JG_OK;
}

/* kty, kid, use, key_ops and alg. "x5c", "x5u", "jku" are ignored on purpose:
 * a JWK never makes a certificate or a URL trusted. */
static jg_err parse_meta(const json_t *obj, jg_kty *kty, jg_jwk_meta *meta, jg_enc *enc,
                         int *unsupported)
{
    const char *s;
    size_t len;
    jg_err err;

    memset(meta, 0, sizeof *meta);
    *enc = JG_ENC_UNKNOWN;

    if ((err = get_string(obj, "kty", &s, &len)) != JG_OK)
        return err;
    if (s == NULL)
        return JG_ERR_KEY_INVALID; /* RFC 7517 4.1: "kty" MUST be present */
    if (strcmp(s, "oct") == 0)
        *kty = JG_KTY_OCT;
    else if (strcmp(s, "RSA") == 0)
        *kty = JG_KTY_RSA;
    else if (strcmp(s, "EC") == 0)
        *kty = JG_KTY_EC;
    else if (strcmp(s, "OKP") == 0)
        *kty = JG_KTY_OKP;
    else {
        *unsupported = 1;
        return JG_ERR_KEY_KTY;
    }

    if ((err = get_string(obj, "kid", &meta->kid, NULL)) != JG_OK)
        return err;

    if ((err = get_string(obj, "use", &s, NULL)) != JG_OK)
        return err;
    if (s != NULL) {
        if (strcmp(s, "sig") == 0)
            meta->use = JG_USE_SIG;
        else if (strcmp(s, "enc") == 0)
            meta->use = JG_USE_ENC;
        else
            return JG_ERR_KEY_INVALID; /* other values exist, but we cannot honour them */
    }

    const json_t *ops = json_object_get(obj, "key_ops");
    if (ops != NULL && (err = parse_key_ops(ops, &meta->key_ops)) != JG_OK)
        return err;

    if ((err = get_string(obj, "alg", &s, &len)) != JG_OK)
        return err;
    if (s != NULL) {
        meta->alg = jg_alg_from_name(s, len);
        if (meta->alg == JG_ALG_UNKNOWN) {
            /* A content encryption algorithm names a key for "dir". */
            *enc = jg_enc_from_name(s, len);
            if (*enc == JG_ENC_UNKNOWN) {
                *unsupported = 1;
                return JG_ERR_ALG_UNKNOWN;
            }
            meta->alg = JG_ALG_DIR;
        }
    }
    return JG_OK;
}

/* ---- Key material ------------------------------------------------------------ */

static jg_err from_params(const char *type, int selection, OSSL_PARAM *params, EVP_PKEY **out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL)
        return JG_ERR_NOMEM;
    jg_err err = JG_OK;
    if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, out, selection, params) != 1)
        err = JG_ERR_CRYPTO;
    EVP_PKEY_CTX_free(ctx);
    return err;
}

/* Push a big-endian integer; secret ones in a BIGNUM flagged secure so that the
 * builder puts them in memory OSSL_PARAM_free() clears. */
static int push_uint(OSSL_PARAM_BLD *bld, const char *name, const buf *b, int secret, BIGNUM **keep)
{
    BIGNUM *bn = secret ? BN_secure_new() : BN_new();
    if (bn == NULL || BN_bin2bn(b->data, (int)b->len, bn) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, name, bn)) {
        BN_clear_free(bn);
        return 0;
    }
    *keep = bn; /* the builder refers to it until OSSL_PARAM_BLD_to_param() */
    return 1;
}

/*
 * RSA (RFC 7518 6.3): "n" and "e" required; a private key has "d" and either
 * all of "p", "q", "dp", "dq", "qi" or none of them (6.3.2: the others MUST
 * be present when "p" is). Multi-prime keys ("oth") are not supported.
 */
static jg_err rsa_material(const json_t *obj, unsigned flags, int *unsupported, EVP_PKEY **out,
                           unsigned *adopt_flags)
{
    static const char *const crt_json[5] = {"p", "q", "dp", "dq", "qi"};
    static const char *const crt_ossl[5] = {
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    const size_t max_n = JG__RSA_MAX_BITS / 8, max_e = JG__RSA_MAX_E_BITS / 8;
    buf n = {0}, e = {0}, d = {0}, crt[5] = {{0}};
    BIGNUM *bns[8] = {0};
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    int private = !(flags & JG_JWK_PUBLIC_ONLY) && json_object_get(obj, "d") != NULL;
    jg_err err;

    if ((err = get_uint(obj, "n", max_n, &n)) != JG_OK ||
        (err = get_uint(obj, "e", max_e, &e)) != JG_OK)
        goto done;
    if (n.data == NULL || e.data == NULL) {
        err = JG_ERR_KEY_INVALID;
        goto done;
    }
    size_t ncrt = 0;
    if (!private && !(flags & JG_JWK_PUBLIC_ONLY)) {
        /* CRT parameters without "d" are not a key of any kind. */
        for (int i = 0; i < 5; i++) {
            if (json_object_get(obj, crt_json[i]) != NULL) {
                err = JG_ERR_KEY_INVALID;
                goto done;
            }
        }
    }
    if (private) {
        if (json_object_get(obj, "oth") != NULL) {
            *unsupported = 1;
            err = JG_ERR_UNSUPPORTED;
            goto done;
        }
        if ((err = get_uint(obj, "d", n.len, &d)) != JG_OK)
            goto done;
        for (int i = 0; i < 5; i++) {
            if ((err = get_uint(obj, crt_json[i], n.len, &crt[i])) != JG_OK)
                goto done;
            ncrt += crt[i].data != NULL;
        }
        if (ncrt != 0 && ncrt != 5) {
            err = JG_ERR_KEY_INVALID;
            goto done;
        }
    }

    err = JG_ERR_NOMEM;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !push_uint(bld, OSSL_PKEY_PARAM_RSA_N, &n, 0, &bns[0]) ||
        !push_uint(bld, OSSL_PKEY_PARAM_RSA_E, &e, 0, &bns[1]))
        goto done;
    if (!private) {
        /* A public key is checked here, on the numbers at hand; a private
         * one is checked whole on adoption. */
        if ((err = jg__rsa_check_public(bns[0], bns[1], flags)) != JG_OK)
            goto done;
        *adopt_flags |= JG__ADOPT_PUBLIC_CHECKED;
        err = JG_ERR_NOMEM;
    }
    if (private) {
        if (!push_uint(bld, OSSL_PKEY_PARAM_RSA_D, &d, 1, &bns[2]))
            goto done;
        if (ncrt == 0) {
            /* Only n, e, d: recover the factors, so that private operations
             * use the CRT (about 3x faster) and the key has a PKCS#8 form. */
            if ((err = jg__rsa_recover_crt(bns[0], bns[1], bns[2], &bns[3])) != JG_OK)
                goto done;
            err = JG_ERR_NOMEM;
            for (size_t i = 0; i < 5; i++)
                if (!OSSL_PARAM_BLD_push_BN(bld, crt_ossl[i], bns[3 + i]))
                    goto done;
        } else {
            for (size_t i = 0; i < ncrt; i++)
                if (!push_uint(bld, crt_ossl[i], &crt[i], 1, &bns[3 + i]))
                    goto done;
        }
    }
    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto done;
    err = from_params("RSA", private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params, out);
    if (err == JG_ERR_CRYPTO)
        err = JG_ERR_KEY_INVALID; /* OpenSSL refused the numbers */
done:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (int i = 0; i < 8; i++)
        BN_clear_free(bns[i]);
    buf_free(&n);
    buf_free(&e);
    buf_free(&d);
    for (int i = 0; i < 5; i++)
        buf_free(&crt[i]);
    return err;
}

/* "crv" of an EC or OKP key: a curve name we do not know is unsupported; a
 * known curve of the other key type is a malformed key. */
static jg_err get_curve(const json_t *obj, jg_kty kty, int *unsupported, const jg__curve_info **out)
{
    const char *s;
    jg_err err = get_string(obj, "crv", &s, NULL);
    if (err != JG_OK)
        return err;
    if (s == NULL)
        return JG_ERR_KEY_INVALID;
    const jg__curve_info *info = jg__curve(jg_crv_from_name(s));
    if (info == NULL) {
        *unsupported = 1;
        return JG_ERR_KEY_CURVE;
    }
    if (info->kty != kty)
        return JG_ERR_KEY_CURVE;
    *out = info;
    return JG_OK;
}

/* Whether the big-endian scalar `d` is in [1, n-1] for the curve's order n. */
static int ec_scalar_in_range(const jg__curve_info *info, const unsigned char *d)
{
    unsigned char any = 0;
    for (size_t i = 0; i < info->coord_len; i++)
        any |= d[i];
    return any != 0 && memcmp(d, info->order, info->coord_len) < 0;
}

/* EC (RFC 7518 6.2): "crv", "x", "y" required, full-length coordinates; "d"
 * full length and in [1, n-1]. Point and pairing are checked on adoption. */
static jg_err ec_material(const json_t *obj, unsigned flags, int *unsupported, EVP_PKEY **out,
                          unsigned *adopt_flags)
{
    const jg__curve_info *info = NULL;
    buf x = {0}, y = {0}, d = {0};
    unsigned char point[1 + 2 * 66];
    BIGNUM *bn = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    int private = !(flags & JG_JWK_PUBLIC_ONLY) && json_object_get(obj, "d") != NULL;

    jg_err err = get_curve(obj, JG_KTY_EC, unsupported, &info);
    if (err != JG_OK)
        return err;
    if ((err = get_b64_exact(obj, "x", info->coord_len, &x)) != JG_OK ||
        (err = get_b64_exact(obj, "y", info->coord_len, &y)) != JG_OK)
        goto done;
    if (private) {
        if ((err = get_b64_exact(obj, "d", info->coord_len, &d)) != JG_OK)
            goto done;
        if (!ec_scalar_in_range(info, d.data)) {
            err = JG_ERR_KEY_INVALID;
            goto done;
        }
    }
    /* SEC 1 uncompressed point: 0x04 || x || y. */
    point[0] = 0x04;
    memcpy(point + 1, x.data, info->coord_len);
    memcpy(point + 1 + info->coord_len, y.data, info->coord_len);

    err = JG_ERR_NOMEM;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, info->ossl_name, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                          1 + 2 * info->coord_len))
        goto done;
    if (private && !push_uint(bld, OSSL_PKEY_PARAM_PRIV_KEY, &d, 1, &bn))
        goto done;
    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto done;
    err = from_params("EC", private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params, out);
    if (err == JG_ERR_CRYPTO)
        err = JG_ERR_KEY_POINT; /* OpenSSL refuses points off the curve */
    if (err == JG_OK)
        *adopt_flags |= JG__ADOPT_PUBLIC_CHECKED; /* the import checked the point */
done:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(bn);
    buf_free(&x);
    buf_free(&y);
    buf_free(&d);
    return err;
}

/*
 * OKP (RFC 8037 section 2): "crv", "x" required; "d" private. Both exactly
 * the curve's length. The public key derived from "d" must equal "x". The
 * params point at our buffers (no copy that we could not wipe).
 */
static jg_err okp_material(const json_t *obj, unsigned flags, int *unsupported, EVP_PKEY **out)
{
    const jg__curve_info *info = NULL;
    buf x = {0}, d = {0};
    EVP_PKEY *pkey = NULL;
    int private = !(flags & JG_JWK_PUBLIC_ONLY) && json_object_get(obj, "d") != NULL;

    jg_err err = get_curve(obj, JG_KTY_OKP, unsupported, &info);
    if (err != JG_OK)
        return err;
    if ((err = get_b64_exact(obj, "x", info->coord_len, &x)) != JG_OK)
        goto done;
    if (private && (err = get_b64_exact(obj, "d", info->coord_len, &d)) != JG_OK)
        goto done;

    OSSL_PARAM params[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
    if (private)
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, d.data, d.len);
    else
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, x.data, x.len);
    err = from_params(info->ossl_name, private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params,
                      &pkey);
    if (err == JG_OK && private) {
        unsigned char pub[57];
        size_t pub_len = sizeof pub;
        if (EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) != 1)
            err = JG_ERR_CRYPTO;
        else if (pub_len != x.len || memcmp(pub, x.data, x.len) != 0)
            err = JG_ERR_KEY_MISMATCH;
    }
    if (err == JG_OK) {
        *out = pkey;
        pkey = NULL;
    }
done:
    EVP_PKEY_free(pkey);
    buf_free(&x);
    buf_free(&d);
    return err;
}

/* oct (RFC 7518 6.4): "k" required and not empty. */
static jg_err oct_material(const json_t *obj, jg_jwk *key)
{
    buf k = {0};
    jg_err err = get_b64(obj, "k", JG__JWK_MAX_JSON, &k);
    if (err != JG_OK)
        return err;
    if (k.data == NULL || k.len == 0) {
        buf_free(&k);
        return JG_ERR_KEY_INVALID;
    }
    key->secret = k.data; /* freed with jg_free_secret(secret, secret_len) */
    key->secret_len = k.len;
    return JG_OK;
}

/* ---- Entry points ------------------------------------------------------------ */

jg_err jg__jwk_from_json(const json_t *obj, unsigned flags, int *unsupported, jg_jwk **out)
{
    jg_kty kty = JG_KTY_UNKNOWN;
    jg_jwk_meta meta;
    jg_enc enc;
    EVP_PKEY *pkey = NULL;

    *unsupported = 0;
    if (!json_is_object(obj))
        return JG_ERR_JSON_NOT_OBJECT;
    jg_err err = parse_meta(obj, &kty, &meta, &enc, unsupported);
    if (err != JG_OK)
        return err;

    jg_jwk *key = jg__jwk_alloc();
    if (key == NULL)
        return JG_ERR_NOMEM;
    key->kty = kty;
    unsigned adopt_flags = 0; /* what the material readers checked already */
    /* A refused key is our answer; OpenSSL's complaints about it must not
     * linger in the caller's error queue. */
    ERR_set_mark();
    switch (kty) {
    case JG_KTY_OCT:
        /* All of an "oct" key is private: with JG_JWK_PUBLIC_ONLY nothing is
         * left to import (a key set skips it). */
        if (flags & JG_JWK_PUBLIC_ONLY) {
            *unsupported = 1;
            err = JG_ERR_KEY_TYPE;
        } else {
            err = oct_material(obj, key);
        }
        break;
    case JG_KTY_RSA:
        err = rsa_material(obj, flags, unsupported, &pkey, &adopt_flags);
        break;
    case JG_KTY_EC:
        err = ec_material(obj, flags, unsupported, &pkey, &adopt_flags);
        break;
    default:
        err = okp_material(obj, flags, unsupported, &pkey);
        break;
    }
    if (err == JG_OK && pkey != NULL)
        err = jg__jwk_adopt_pkey(key, pkey, flags | adopt_flags); /* owns pkey from here */
    ERR_pop_to_mark();
    if (err != JG_OK) {
        jg_jwk_free(key);
        return err;
    }
    err = jg__jwk_set_meta(key, &meta);
    key->enc = enc;
    if (err == JG_OK)
        err = jg__jwk_finish(key, flags);
    if (err != JG_OK) {
        jg_jwk_free(key);
        return err;
    }
    *out = key;
    return JG_OK;
}

void jg__jwk_json_wipe(json_t *obj)
{
    static const char *const secret[] = {"d", "p", "q", "dp", "dq", "qi", "k"};
    if (!json_is_object(obj))
        return;
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        jg__json_wipe_string(json_object_get(obj, secret[i]));
    /* "oth" (RFC 7518 6.3.2.7): an array of objects with "r", "d", "t". */
    const json_t *oth = json_object_get(obj, "oth");
    for (size_t i = 0; json_is_array(oth) && i < json_array_size(oth); i++) {
        json_t *prime = json_array_get(oth, i);
        jg__json_wipe_string(json_object_get(prime, "r"));
        jg__json_wipe_string(json_object_get(prime, "d"));
        jg__json_wipe_string(json_object_get(prime, "t"));
    }
}

jg_err jg_jwk_parse(const char *json, size_t len, unsigned flags, jg_jwk **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    json_t *obj = NULL;
    int unsupported = 0;

    if (json == NULL || out == NULL || (flags & ~JG__JWK_IMPORT_FLAGS) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err = jg__json_parse_object(json, len, 0, JG__JWK_MAX_JSON, &obj);
    if (err != JG_OK)
        return err;
    err = jg__jwk_from_json(obj, flags, &unsupported, out);
    jg__jwk_json_wipe(obj);
    json_decref(obj);
    return err;
}
