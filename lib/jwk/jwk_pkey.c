/*
 * jwk_pkey.c — turning an OpenSSL EVP_PKEY (from a JWK, PEM/DER or key
 * generation) into the material of a jg_jwk: classify it, check it once, and
 * complete the key. Every import path ends here, so every key obeys the same
 * rules whatever its source.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "jwk/jwk_build.h"

/* ---- Parameters ------------------------------------------------------------ */

jg_err jg__pkey_get_uint(const EVP_PKEY *pkey, const char *name, size_t pad, unsigned char **out,
                         size_t *out_len)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
        return JG_ERR_KEY_INVALID;
    /* Base64urlUInt (RFC 7518 section 2): zero is one zero octet. */
    size_t len = (size_t)BN_num_bytes(bn);
    if (len == 0)
        len = 1;
    jg_err err = JG_OK;
    if (pad != 0) {
        if (len > pad)
            err = JG_ERR_KEY_INVALID;
        len = pad;
    }
    unsigned char *buf = err == JG_OK ? malloc(len) : NULL;
    if (err == JG_OK && buf == NULL)
        err = JG_ERR_NOMEM;
    if (err == JG_OK && BN_bn2binpad(bn, buf, (int)len) != (int)len)
        err = JG_ERR_CRYPTO;
    BN_clear_free(bn);
    if (err != JG_OK) {
        jg_free_secret(buf, len);
        return err;
    }
    *out = buf;
    *out_len = len;
    return JG_OK;
}

/* A BIGNUM parameter, or NULL when the key does not have it. */
static BIGNUM *get_bn(const EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = NULL;
    return EVP_PKEY_get_bn_param(pkey, name, &bn) ? bn : NULL;
}

jg_err jg__pkey_public(const EVP_PKEY *pkey, EVP_PKEY **out)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pub = NULL;
    if (!EVP_PKEY_todata(pkey, EVP_PKEY_PUBLIC_KEY, &params))
        return JG_ERR_CRYPTO;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, EVP_PKEY_get0_type_name(pkey), NULL);
    jg_err err = ctx ? JG_OK : JG_ERR_NOMEM;
    if (err == JG_OK && (EVP_PKEY_fromdata_init(ctx) != 1 ||
                         EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params) != 1))
        err = JG_ERR_CRYPTO;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (err != JG_OK)
        return err;
    *out = pub;
    return JG_OK;
}

/* ---- Classification -------------------------------------------------------- */

static jg_err classify(const EVP_PKEY *pkey, jg_kty *kty, jg_crv *crv)
{
    static const struct {
        const char *ossl;
        jg_crv crv;
    } okp[] = {{"ED25519", JG_CRV_ED25519},
               {"ED448", JG_CRV_ED448},
               {"X25519", JG_CRV_X25519},
               {"X448", JG_CRV_X448}};
    /* OpenSSL reports the short names; JWK uses the NIST names. */
    static const struct {
        const char *ossl;
        jg_crv crv;
    } ec[] = {{"prime256v1", JG_CRV_P256}, {"secp384r1", JG_CRV_P384}, {"secp521r1", JG_CRV_P521},
              {"P-256", JG_CRV_P256},      {"P-384", JG_CRV_P384},     {"P-521", JG_CRV_P521}};

    *crv = JG_CRV_NONE;
    /* "RSA-PSS" is a different type: keys restricted to PSS are refused. */
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        *kty = JG_KTY_RSA;
        return JG_OK;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char name[64];
        size_t len = 0;
        *kty = JG_KTY_EC;
        /*
         * Named curves only (RFC 5480 2.1.1). OpenSSL recognises explicit
         * parameters equal to a named curve, but such keys are how curve
         * substitution attacks arrive (CVE-2020-0601), so they are refused.
         */
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, name, sizeof name,
                                            &len) ||
            strcmp(name, OSSL_PKEY_EC_ENCODING_GROUP) != 0)
            return JG_ERR_KEY_CURVE;
        if (!EVP_PKEY_get_group_name(pkey, name, sizeof name, &len))
            return JG_ERR_KEY_CURVE;
        for (size_t i = 0; i < sizeof ec / sizeof ec[0]; i++) {
            if (strcmp(name, ec[i].ossl) == 0) {
                *crv = ec[i].crv;
                return JG_OK;
            }
        }
        return JG_ERR_KEY_CURVE;
    }
    for (size_t i = 0; i < sizeof okp / sizeof okp[0]; i++) {
        if (EVP_PKEY_is_a(pkey, okp[i].ossl)) {
            *kty = JG_KTY_OKP;
            *crv = okp[i].crv;
            return JG_OK;
        }
    }
    *kty = JG_KTY_UNKNOWN;
    return JG_ERR_KEY_KTY;
}

static int okp_has_private(const EVP_PKEY *pkey)
{
    size_t len = 0;
    return EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1 && len > 0;
}

/* ---- RSA ------------------------------------------------------------------- */

/* Free exported parameters after zeroing their values (OpenSSL 3.0 has no
 * OSSL_PARAM_clear_free). */
static void params_wipe_free(OSSL_PARAM *params)
{
    for (OSSL_PARAM *p = params; p != NULL && p->key != NULL; p++)
        if (p->data != NULL)
            jg_memzero(p->data, p->data_size);
    OSSL_PARAM_free(params);
}

/* A number from exported parameters, or NULL when absent. */
static BIGNUM *param_bn(const OSSL_PARAM *params, const char *name)
{
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, name);
    BIGNUM *bn = NULL;
    return p != NULL && OSSL_PARAM_get_BN(p, &bn) ? bn : NULL;
}

jg_err jg__rsa_check_public(const BIGNUM *n, const BIGNUM *e, unsigned flags)
{
    if (n == NULL || e == NULL)
        return JG_ERR_KEY_INVALID;
    if ((unsigned)BN_num_bits(n) > JG__RSA_MAX_BITS || !BN_is_odd(n))
        return JG_ERR_KEY_INVALID;
    if (!BN_is_odd(e) || BN_is_one(e) || (unsigned)BN_num_bits(e) > JG__RSA_MAX_E_BITS ||
        BN_cmp(e, n) >= 0)
        return JG_ERR_KEY_INVALID;
    /* A modulus from Infineon's vulnerable generator can be factored (ROCA,
     * lib/jwk/roca.c): refused unless the caller takes it on purpose. */
    if (!(flags & JG_JWK_ALLOW_ROCA)) {
        int found = jg__roca_fingerprint(n);
        if (found != 0)
            return found > 0 ? JG_ERR_KEY_ROCA : JG_ERR_CRYPTO;
    }
    return JG_OK;
}

/* r == a mod m, with `tmp` as scratch. */
static int mod_equals(BIGNUM *tmp, const BIGNUM *a, const BIGNUM *m, const BIGNUM *r, BN_CTX *bc)
{
    return BN_mod(tmp, a, m, bc) && BN_cmp(tmp, r) == 0;
}

/*
 * The private part must belong to the public part. With CRT parameters:
 * n = p*q, dp = d mod (p-1), dq = d mod (q-1), e*dp = 1 mod (p-1),
 * e*dq = 1 mod (q-1) and qi*q = 1 mod p — cheap arithmetic that catches any
 * mismatch, without the cost of primality tests. Without them: a random m
 * must survive m^(e*d) = m mod n.
 */
static jg_err rsa_check_private(const OSSL_PARAM *params, const BIGNUM *n, const BIGNUM *e,
                                const BIGNUM *d)
{
    BIGNUM *p = param_bn(params, OSSL_PKEY_PARAM_RSA_FACTOR1);
    BIGNUM *q = param_bn(params, OSSL_PKEY_PARAM_RSA_FACTOR2);
    BIGNUM *dp = param_bn(params, OSSL_PKEY_PARAM_RSA_EXPONENT1);
    BIGNUM *dq = param_bn(params, OSSL_PKEY_PARAM_RSA_EXPONENT2);
    BIGNUM *qi = param_bn(params, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
    BIGNUM *third = param_bn(params, OSSL_PKEY_PARAM_RSA_FACTOR3);
    BN_CTX *bc = BN_CTX_secure_new();
    BIGNUM *t1 = BN_secure_new(), *t2 = BN_secure_new(), *t3 = BN_secure_new();
    jg_err err = JG_OK;

    if (bc == NULL || t1 == NULL || t2 == NULL || t3 == NULL) {
        err = JG_ERR_NOMEM;
        goto done;
    }
    if (third != NULL) {
        err = JG_ERR_UNSUPPORTED; /* multi-prime RSA */
        goto done;
    }
    if (BN_is_zero(d) || BN_cmp(d, n) >= 0) {
        err = JG_ERR_KEY_INVALID;
        goto done;
    }
    int crt = p != NULL || q != NULL || dp != NULL || dq != NULL || qi != NULL;
    if (crt) {
        if (p == NULL || q == NULL || dp == NULL || dq == NULL || qi == NULL) {
            err = JG_ERR_KEY_INVALID;
            goto done;
        }
        /* p, q > 2 so that p-1, q-1 are at least 2. */
        if (BN_num_bits(p) < 2 || BN_num_bits(q) < 2 || BN_is_word(p, 2) || BN_is_word(q, 2)) {
            err = JG_ERR_KEY_MISMATCH;
            goto done;
        }
        if (!BN_mul(t1, p, q, bc)) {
            err = JG_ERR_CRYPTO;
            goto done;
        }
        if (BN_cmp(t1, n) != 0) {
            err = JG_ERR_KEY_MISMATCH;
            goto done;
        }
        const BIGNUM *prime[2] = {p, q}, *exp[2] = {dp, dq};
        for (int i = 0; i < 2 && err == JG_OK; i++) {
            /* t2 = prime - 1 */
            if (!BN_copy(t2, prime[i]) || !BN_sub_word(t2, 1)) {
                err = JG_ERR_CRYPTO;
                break;
            }
            if (!mod_equals(t1, d, t2, exp[i], bc) || !BN_mod_mul(t3, e, exp[i], t2, bc) ||
                !BN_is_one(t3))
                err = JG_ERR_KEY_MISMATCH;
        }
        if (err == JG_OK && (BN_cmp(qi, p) >= 0 || !BN_mod_mul(t1, qi, q, p, bc) || !BN_is_one(t1)))
            err = JG_ERR_KEY_MISMATCH;
    } else {
        /* t1 = random m in [0, n); t2 = m^e; t3 = t2^d (constant time in d). */
        if (!BN_priv_rand_range(t1, n) || !BN_mod_exp(t2, t1, e, n, bc) ||
            !BN_mod_exp_mont_consttime(t3, t2, d, n, bc, NULL)) {
            err = JG_ERR_CRYPTO;
            goto done;
        }
        if (BN_cmp(t1, t3) != 0)
            err = JG_ERR_KEY_MISMATCH;
    }
done:
    BN_clear_free(p);
    BN_clear_free(q);
    BN_clear_free(dp);
    BN_clear_free(dq);
    BN_clear_free(qi);
    BN_clear_free(third);
    BN_clear_free(t1);
    BN_clear_free(t2);
    BN_clear_free(t3);
    BN_CTX_free(bc);
    return err;
}

jg_err jg__rsa_recover_crt(const BIGNUM *n, const BIGNUM *e, const BIGNUM *d, BIGNUM *crt[5])
{
    BN_CTX *bc = BN_CTX_secure_new();
    BIGNUM *k = BN_secure_new(), *r = BN_secure_new(), *g = BN_secure_new();
    BIGNUM *y = BN_secure_new(), *x = BN_secure_new(), *n1 = BN_new();
    BIGNUM *p = BN_secure_new(), *q = BN_secure_new(), *rem = BN_secure_new();
    jg_err err = JG_OK;
    int found = 0;

    for (int i = 0; i < 5; i++)
        crt[i] = NULL;
    if (bc == NULL || k == NULL || r == NULL || g == NULL || y == NULL || x == NULL || n1 == NULL ||
        p == NULL || q == NULL || rem == NULL) {
        err = JG_ERR_NOMEM;
        goto done;
    }
    if (BN_is_zero(d) || BN_cmp(d, n) >= 0) {
        err = JG_ERR_KEY_INVALID;
        goto done;
    }
    /* k = d*e - 1 = 2^t * r with r odd; k must be even and positive. */
    if (!BN_mul(k, d, e, bc) || !BN_sub_word(k, 1) || !BN_copy(n1, n) || !BN_sub_word(n1, 1)) {
        err = JG_ERR_CRYPTO;
        goto done;
    }
    if (BN_is_zero(k) || BN_is_odd(k)) {
        err = JG_ERR_KEY_MISMATCH;
        goto done;
    }
    /*
     * Every round below is uninformative when n has a single prime factor:
     * its group of units is cyclic, so 1 has no square roots but +-1. A
     * hostile key (n = p^m, d = e^-1 for that group) would then cost all
     * 100 exponentiations — minutes at 16384 bits. Such a d makes k a
     * multiple of p^(m-1) * (p-1): for m = 1 n-1 divides k, for m > 1
     * gcd(k, n) > 1. A real RSA key shows neither but by a negligible
     * accident, so both are refused at the cost of a division and a gcd.
     */
    if (!BN_mod(rem, k, n1, bc) || !BN_gcd(g, k, n, bc)) {
        err = JG_ERR_CRYPTO;
        goto done;
    }
    if (BN_is_zero(rem) || !BN_is_one(g)) {
        err = JG_ERR_KEY_MISMATCH;
        goto done;
    }
    int t = 0;
    while (!BN_is_bit_set(k, t))
        t++;
    if (!BN_rshift(r, k, t)) {
        err = JG_ERR_CRYPTO;
        goto done;
    }
    /*
     * For a random g, the sequence g^r, g^2r, ... reaches 1 by g^k; the step
     * before 1, when it is not -1, is a non-trivial square root of 1, and
     * gcd(y - 1, n) is a factor. Each g succeeds with probability >= 1/2.
     * If g^k is not 1, d is not the private exponent: stop at once, so that
     * a hostile d costs at most one pass of t squarings.
     */
    int wrong = 0;
    for (int attempt = 0; attempt < 100 && !found && !wrong && err == JG_OK; attempt++) {
        if (!BN_priv_rand_range(g, n1) || !BN_add_word(g, 1) || /* g in [1, n-1] */
            !BN_mod_exp_mont_consttime(y, g, r, n, bc, NULL)) {
            err = JG_ERR_CRYPTO;
            break;
        }
        if (BN_is_one(g) || BN_is_one(y) || BN_cmp(y, n1) == 0)
            continue;
        int minus_one = 0;
        for (int i = 1; i <= t && !found && !minus_one && err == JG_OK; i++) {
            if (!BN_mod_sqr(x, y, n, bc)) {
                err = JG_ERR_CRYPTO;
            } else if (BN_is_one(x)) {
                if (!BN_sub_word(y, 1) || !BN_gcd(p, y, n, bc) || !BN_div(q, rem, n, p, bc))
                    err = JG_ERR_CRYPTO;
                else if (BN_is_zero(rem) && !BN_is_one(p) && BN_cmp(p, n) != 0)
                    found = 1;
                else
                    wrong = 1;
                break;
            } else if (BN_cmp(x, n1) == 0) {
                minus_one = 1; /* this g tells nothing */
            } else if (!BN_copy(y, x)) {
                err = JG_ERR_CRYPTO;
            }
        }
        if (!found && !minus_one)
            wrong = 1; /* g^k != 1 */
    }
    if (err == JG_OK && !found)
        err = JG_ERR_KEY_MISMATCH;
    if (err != JG_OK)
        goto done;
    if (BN_cmp(p, q) < 0)
        BN_swap(p, q);
    /* dp = d mod (p-1), dq = d mod (q-1), qi = q^-1 mod p. */
    for (int i = 0; i < 3; i++)
        if ((crt[2 + i] = BN_secure_new()) == NULL)
            err = JG_ERR_NOMEM;
    if (err == JG_OK && (!BN_sub_word(p, 1) || !BN_mod(crt[2], d, p, bc) || !BN_add_word(p, 1) ||
                         !BN_sub_word(q, 1) || !BN_mod(crt[3], d, q, bc) || !BN_add_word(q, 1) ||
                         BN_mod_inverse(crt[4], q, p, bc) == NULL))
        err = JG_ERR_KEY_MISMATCH;
    if (err == JG_OK) {
        crt[0] = p;
        crt[1] = q;
        p = q = NULL;
    }
done:
    if (err != JG_OK)
        for (int i = 0; i < 5; i++) {
            BN_clear_free(crt[i]);
            crt[i] = NULL;
        }
    BN_clear_free(k);
    BN_clear_free(r);
    BN_clear_free(g);
    BN_clear_free(y);
    BN_clear_free(x);
    BN_free(n1);
    BN_clear_free(p);
    BN_clear_free(q);
    BN_clear_free(rem);
    BN_CTX_free(bc);
    return err;
}

static jg_err rsa_check(const EVP_PKEY *pkey, unsigned flags, int *is_private)
{
    /* One export, each number at its own size: EVP_PKEY_get_bn_param()
     * goes through a 2 KiB buffer per number, which cost more than all the
     * rest of a JWK import. */
    OSSL_PARAM *params = NULL;
    if (EVP_PKEY_todata(pkey, EVP_PKEY_KEYPAIR, &params) != 1)
        return JG_ERR_CRYPTO;
    BIGNUM *n = param_bn(params, OSSL_PKEY_PARAM_RSA_N);
    BIGNUM *e = param_bn(params, OSSL_PKEY_PARAM_RSA_E);
    BIGNUM *d = param_bn(params, OSSL_PKEY_PARAM_RSA_D);
    jg_err err = jg__rsa_check_public(n, e, flags);
    *is_private = d != NULL;
    if (err == JG_OK && d != NULL)
        err = rsa_check_private(params, n, e, d);
    params_wipe_free(params); /* it held the private numbers too */
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    return err;
}

/* ---- EC -------------------------------------------------------------------- */

/*
 * The point must be on the curve and not at infinity (the quick check; the
 * curves we support have cofactor 1, so that is enough). A private scalar
 * must be in [1, n-1] and be the point's discrete log (pairwise check).
 */
static jg_err ec_check(EVP_PKEY *pkey, jg_crv crv, int point_checked, int *is_private)
{
    const jg__curve_info *info = jg__curve(crv);
    BIGNUM *d = get_bn(pkey, OSSL_PKEY_PARAM_PRIV_KEY);
    BIGNUM *order = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    jg_err err = JG_OK;

    *is_private = d != NULL;
    /* Whatever the input used, points are written uncompressed (SEC 1), as
     * JOSE and most PKIX software expect. The key is not shared yet. */
    if (!EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED))
        err = JG_ERR_CRYPTO;
    /* A context and the order only when a check needs them: a public key
     * from a JWK needs neither. */
    else if ((!point_checked || d != NULL) &&
             (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
        err = JG_ERR_NOMEM;
    else if (d != NULL && (order = BN_bin2bn(info->order, (int)info->coord_len, NULL)) == NULL)
        err = JG_ERR_NOMEM;
    else if (!point_checked && EVP_PKEY_public_check_quick(ctx) != 1)
        err = JG_ERR_KEY_POINT;
    else if (d != NULL && (BN_is_zero(d) || BN_cmp(d, order) >= 0))
        err = JG_ERR_KEY_INVALID;
    else if (d != NULL && EVP_PKEY_pairwise_check(ctx) != 1)
        err = JG_ERR_KEY_MISMATCH;
    EVP_PKEY_CTX_free(ctx);
    BN_free(order);
    BN_clear_free(d);
    return err;
}

/* ---- Adoption -------------------------------------------------------------- */

jg_err jg__jwk_adopt_pkey(jg_jwk *key, EVP_PKEY *pkey, unsigned flags)
{
    jg_kty kty;
    jg_crv crv;
    int is_private = 0;

    ERR_set_mark(); /* checks that fail leave nothing in the caller's queue */
    jg_err err = classify(pkey, &kty, &crv);
    if (err == JG_OK && (flags & JG_JWK_PUBLIC_ONLY)) {
        EVP_PKEY *pub = NULL;
        err = jg__pkey_public(pkey, &pub);
        if (err == JG_OK) {
            EVP_PKEY_free(pkey);
            pkey = pub;
        }
    }
    if (err == JG_OK) {
        switch (kty) {
        case JG_KTY_RSA:
            /* Checked by the JWK reader: a public key (see the flag). */
            if (!(flags & JG__ADOPT_PUBLIC_CHECKED))
                err = rsa_check(pkey, flags, &is_private);
            break;
        case JG_KTY_EC:
            err = ec_check(pkey, crv, (flags & JG__ADOPT_PUBLIC_CHECKED) != 0, &is_private);
            break;
        default: /* OKP: every encoding of the right length is a key; OpenSSL
                    derives the public part of a private key itself. */
            is_private = okp_has_private(pkey);
            break;
        }
    }
    ERR_pop_to_mark();
    if (err != JG_OK) {
        EVP_PKEY_free(pkey);
        return err;
    }
    key->kty = kty;
    key->crv = crv;
    key->pkey = pkey;
    key->is_private = is_private;
    return JG_OK;
}

jg_err jg__jwk_complete(jg_jwk *key, const jg_jwk_meta *meta, unsigned flags, int kid_default,
                        jg_jwk **out)
{
    jg_err err = jg__jwk_set_meta(key, meta);
    if (err == JG_OK)
        err = jg__jwk_finish(key, flags);
    if (err == JG_OK && kid_default && key->kid == NULL) {
        char thumb[44];
        err = jg_jwk_thumbprint_b64(key, thumb);
        if (err == JG_OK && (key->kid = strdup(thumb)) == NULL)
            err = JG_ERR_NOMEM;
    }
    if (err != JG_OK) {
        jg_jwk_free(key);
        return err;
    }
    *out = key;
    return JG_OK;
}
