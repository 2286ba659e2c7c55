/*
 * sig_ecdsa.c — ES256/384/512 (RFC 7518 section 3.4). JWS carries r||s as
 * two fixed-length big-endian integers; OpenSSL speaks DER. Both conversions
 * are done here on the stack. Before any crypto, r and s must lie in
 * [1, n-1]: a verifier that skips this check accepts (0, 0) for every
 * message ("psychic signatures", CVE-2022-21449), so we never rely on the
 * crypto library alone for it.
 */
#include <string.h>

#include <openssl/err.h>

#include "jws/sig.h"

/* The curve facts for an EC key used with alg, or NULL if they disagree. */
static const jg__curve_info *curve_for(const jg_jwk *key, jg_alg alg)
{
    const jg__alg_info *a = jg__alg(alg);
    jg_crv crv = (jg_crv)a->crv;
    if (a->family != JG__FAM_ECDSA || crv == JG_CRV_NONE || key->kty != JG_KTY_EC ||
        key->crv != crv || key->pkey == NULL)
        return NULL;
    const jg__curve_info *info = jg__curve(crv);
    return info != NULL && info->order != NULL ? info : NULL;
}

/* Writes one DER INTEGER for the unsigned big-endian v; returns its size. */
static size_t der_integer(const unsigned char *v, size_t len, unsigned char *out)
{
    while (len > 1 && v[0] == 0) {
        v++;
        len--;
    }
    size_t pad = (v[0] & 0x80u) ? 1u : 0u; /* keep the value positive */
    out[0] = 0x02;
    out[1] = (unsigned char)(len + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, len);
    return 2 + pad + len;
}

size_t jg__ecdsa_raw_to_der(const unsigned char *raw, size_t coord_len, unsigned char *der)
{
    /* Each INTEGER is at most 2 + 1 + coord_len bytes; for P-521 the
     * SEQUENCE body can exceed 127 bytes and needs the long length form. */
    if (coord_len == 0 || coord_len > 66)
        return 0;
    unsigned char body[2 * (3 + 66)];
    size_t body_len = der_integer(raw, coord_len, body);
    body_len += der_integer(raw + coord_len, coord_len, body + body_len);
    size_t hdr = body_len < 0x80 ? 2 : 3;
    der[0] = 0x30;
    if (hdr == 2) {
        der[1] = (unsigned char)body_len;
    } else {
        der[1] = 0x81;
        der[2] = (unsigned char)body_len;
    }
    memcpy(der + hdr, body, body_len);
    return hdr + body_len;
}

/* Reads one strict DER INTEGER at *p (before end) into out (coord_len bytes,
 * left-padded). Returns 1 on success and advances *p. */
static int read_integer(const unsigned char **p, const unsigned char *end, size_t coord_len,
                        unsigned char *out)
{
    const unsigned char *q = *p;
    if (end - q < 2 || q[0] != 0x02 || (q[1] & 0x80u))
        return 0;
    size_t len = q[1];
    q += 2;
    if (len == 0 || (size_t)(end - q) < len)
        return 0;
    if (q[0] & 0x80u)
        return 0; /* negative */
    if (len > 1 && q[0] == 0 && !(q[1] & 0x80u))
        return 0; /* not minimal */
    const unsigned char *v = q;
    size_t vlen = len;
    if (vlen > 1 && v[0] == 0) {
        v++;
        vlen--;
    }
    if (vlen > coord_len)
        return 0;
    memset(out, 0, coord_len - vlen);
    memcpy(out + coord_len - vlen, v, vlen);
    *p = q + len;
    return 1;
}

size_t jg__ecdsa_der_to_raw(const unsigned char *der, size_t der_len, size_t coord_len,
                            unsigned char *raw)
{
    if (der_len < 2 || der[0] != 0x30 || coord_len == 0)
        return 0;
    size_t body_len, hdr;
    if (der[1] < 0x80) {
        body_len = der[1];
        hdr = 2;
    } else if (der[1] == 0x81 && der_len >= 3 && der[2] >= 0x80) {
        body_len = der[2];
        hdr = 3;
    } else {
        return 0;
    }
    if (hdr + body_len != der_len)
        return 0;
    const unsigned char *p = der + hdr, *end = der + der_len;
    if (!read_integer(&p, end, coord_len, raw) ||
        !read_integer(&p, end, coord_len, raw + coord_len) || p != end)
        return 0;
    return 2 * coord_len;
}

/* 1 when the big-endian v (len bytes) is in [1, order-1]. Public values:
 * no need for constant time. */
static int in_range(const unsigned char *v, const unsigned char *order, size_t len)
{
    int nonzero = 0;
    for (size_t i = 0; i < len; i++)
        nonzero |= v[i];
    return nonzero && memcmp(v, order, len) < 0;
}

static jg_err digest_init(const jg_jwk *key, jg_alg alg, int sign, EVP_MD_CTX **out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return JG_ERR_NOMEM;
    const char *md = jg__sig_digest(alg);
    int ok = sign ? EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key->pkey, NULL)
                  : EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, key->pkey, NULL);
    if (ok != 1) {
        EVP_MD_CTX_free(ctx);
        return JG_ERR_CRYPTO;
    }
    *out = ctx;
    return JG_OK;
}

/* DER signature of `in` into der (JG__ECDSA_DER_MAX bytes). */
static jg_err sign_der(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *der,
                       size_t *der_len)
{
    *der_len = JG__ECDSA_DER_MAX;
    EVP_PKEY_CTX *pctx = NULL;
    jg_err err = jg__prep_ctx(key, alg, 1, &pctx);
    if (err == JG_OK) {
        unsigned char hash[EVP_MAX_MD_SIZE];
        size_t hash_len = 0;
        err = jg__prep_digest(key, alg, in, hash, &hash_len);
        if (err == JG_OK && EVP_PKEY_sign(pctx, der, der_len, hash, hash_len) != 1)
            err = JG_ERR_CRYPTO;
        EVP_PKEY_CTX_free(pctx);
        return err;
    }
    if (err != JG_ERR_KEY_TYPE)
        return err;
    /* No template (a key the preparation skipped): initialise here. */
    EVP_MD_CTX *ctx = NULL;
    err = digest_init(key, alg, 1, &ctx);
    for (size_t i = 0; err == JG_OK && i < in->n; i++)
        if (EVP_DigestSignUpdate(ctx, in->part[i], in->len[i]) != 1)
            err = JG_ERR_CRYPTO;
    if (err == JG_OK && EVP_DigestSignFinal(ctx, der, der_len) != 1)
        err = JG_ERR_CRYPTO;
    EVP_MD_CTX_free(ctx);
    return err;
}

static jg_err verify_der(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                         const unsigned char *der, size_t der_len)
{
    EVP_PKEY_CTX *pctx = NULL;
    jg_err err = jg__prep_ctx(key, alg, 0, &pctx);
    if (err == JG_OK) {
        unsigned char hash[EVP_MAX_MD_SIZE];
        size_t hash_len = 0;
        err = jg__prep_digest(key, alg, in, hash, &hash_len);
        if (err == JG_OK && EVP_PKEY_verify(pctx, der, der_len, hash, hash_len) != 1)
            err = JG_ERR_SIGNATURE;
        EVP_PKEY_CTX_free(pctx);
        return err;
    }
    if (err != JG_ERR_KEY_TYPE)
        return err;
    EVP_MD_CTX *ctx = NULL;
    err = digest_init(key, alg, 0, &ctx);
    for (size_t i = 0; err == JG_OK && i < in->n; i++)
        if (EVP_DigestVerifyUpdate(ctx, in->part[i], in->len[i]) != 1)
            err = JG_ERR_CRYPTO;
    if (err == JG_OK && EVP_DigestVerifyFinal(ctx, der, der_len) != 1)
        err = JG_ERR_SIGNATURE;
    EVP_MD_CTX_free(ctx);
    return err;
}

jg_err jg__ecdsa_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                      size_t *sig_len)
{
    const jg__curve_info *info = curve_for(key, alg);
    if (info == NULL)
        return JG_ERR_KEY_TYPE;
    unsigned char der[JG__ECDSA_DER_MAX];
    size_t der_len = 0;
    jg_err err = sign_der(key, alg, in, der, &der_len);
    if (err != JG_OK)
        return err;
    size_t n = jg__ecdsa_der_to_raw(der, der_len, info->coord_len, sig);
    if (n == 0)
        return JG_ERR_CRYPTO;
    *sig_len = n;
    return JG_OK;
}

jg_err jg__ecdsa_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                        const unsigned char *sig, size_t sig_len)
{
    const jg__curve_info *info = curve_for(key, alg);
    if (info == NULL)
        return JG_ERR_KEY_TYPE;
    size_t n = info->coord_len;
    if (sig_len != 2 * n)
        return JG_ERR_SIGNATURE_LENGTH;
    if (!in_range(sig, info->order, n) || !in_range(sig + n, info->order, n))
        return JG_ERR_SIGNATURE_RANGE;

    unsigned char der[JG__ECDSA_DER_MAX];
    size_t der_len = jg__ecdsa_raw_to_der(sig, n, der);
    if (der_len == 0)
        return JG_ERR_CRYPTO;
    ERR_set_mark();
    jg_err err = verify_der(key, alg, in, der, der_len);
    ERR_pop_to_mark();
    return err;
}
