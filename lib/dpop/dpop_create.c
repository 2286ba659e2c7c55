/*
 * dpop_create.c — making a DPoP proof (jg_dpop_proof_create) and the "ath"
 * hash (jg_dpop_ath).
 *
 * The header is {"typ":"dpop+jwt","alg":...,"jwk":{...}}: the "jwk" is the
 * key's public part with only its key members (no "kid", "use", "alg",
 * "key_ops"), as RFC 9449's examples have it. The claims are written without
 * a JSON library: every string value must be a JSON string as itself
 * (jg__json_plain), which every method, http(s) URI, nonce (RFC 9449
 * section 8: NQCHAR) and sensible jti is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/alg_info.h"
#include "core/text.h"
#include "jwtgate/base64url.h"
#include "jwtgate/dpop.h"
#include "jwtgate/jws.h"

jg_err jg_dpop_ath(const char *access_token, size_t len, char out[44])
{
    if (access_token == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    unsigned char md[32];
    unsigned int md_len = 0;
    if (EVP_Digest(access_token, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        out[0] = '\0';
        return JG_ERR_CRYPTO;
    }
    jg_b64url_encode(md, sizeof md, out);
    return JG_OK;
}

/* The alg RFC 9449's examples would use for this key. */
static jg_alg default_alg(const jg_jwk *key)
{
    if (jg_jwk_alg(key) != JG_ALG_UNKNOWN)
        return jg_jwk_alg(key);
    switch (jg_jwk_kty(key)) {
    case JG_KTY_RSA:
        return JG_ALG_PS256;
    case JG_KTY_OKP:
        return JG_ALG_EDDSA;
    case JG_KTY_EC:
        switch (jg_jwk_crv(key)) {
        case JG_CRV_P384:
            return JG_ALG_ES384;
        case JG_CRV_P521:
            return JG_ALG_ES512;
        default:
            return JG_ALG_ES256;
        }
    default:
        return JG_ALG_UNKNOWN;
    }
}

/* A string the claims may hold as written: non-empty, plain, bounded. */
static int plain_value(const char *s, size_t max)
{
    return s != NULL && s[0] != '\0' && strlen(s) <= max && jg__json_plain(s);
}

static int64_t system_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}

jg_err jg_dpop_proof_create(const jg_dpop_proof_opts *opts, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (opts == NULL || out == NULL || opts->key == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    const jg_jwk *key = opts->key;
    if (jg_jwk_kty(key) == JG_KTY_OCT)
        return JG_ERR_DPOP_ALG_SYMMETRIC;
    jg_alg alg = opts->alg != JG_ALG_UNKNOWN ? opts->alg : default_alg(key);
    if (jg__alg(alg)->family == JG__FAM_HMAC)
        return JG_ERR_DPOP_ALG_SYMMETRIC;
    jg_err err = jg_jwk_check(key, alg, JG_OP_SIGN);
    if (err != JG_OK)
        return err;

    /* htu: the target URI without query and fragment. */
    if (opts->htu == NULL || opts->htm == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    size_t htu_len = strcspn(opts->htu, "?#");
    if (htu_len == 0 || htu_len > JG_DPOP_MAX_HTU_LEN)
        return JG_ERR_INVALID_ARGUMENT;
    char htu[JG_DPOP_MAX_HTU_LEN + 1];
    memcpy(htu, opts->htu, htu_len);
    htu[htu_len] = '\0';
    if (!plain_value(htu, JG_DPOP_MAX_HTU_LEN) || !plain_value(opts->htm, JG_DPOP_MAX_HTM_LEN))
        return JG_ERR_INVALID_ARGUMENT;
    if (opts->nonce != NULL && !plain_value(opts->nonce, JG_DPOP_MAX_HTU_LEN))
        return JG_ERR_INVALID_ARGUMENT;

    char jti[JG_DPOP_MAX_JTI_LEN + 1];
    if (opts->jti != NULL) {
        if (!plain_value(opts->jti, JG_DPOP_MAX_JTI_LEN))
            return JG_ERR_INVALID_ARGUMENT;
        memcpy(jti, opts->jti, strlen(opts->jti) + 1);
    } else {
        unsigned char raw[16];
        if (RAND_bytes(raw, sizeof raw) != 1)
            return JG_ERR_CRYPTO;
        jg_b64url_encode(raw, sizeof raw, jti);
        OPENSSL_cleanse(raw, sizeof raw);
    }

    char ath[44] = "";
    if (opts->access_token != NULL) {
        size_t tlen = opts->access_token_len ? opts->access_token_len : strlen(opts->access_token);
        err = jg_dpop_ath(opts->access_token, tlen, ath);
        if (err != JG_OK)
            return err;
    }
    int64_t iat = opts->iat != 0 ? opts->iat : system_now();

    /* The public key members alone: a copy without kid/use/alg/key_ops. */
    jg_jwk *bare = NULL, *pub = NULL;
    char *jwk_json = NULL, *header = NULL, *claims = NULL;
    jg_jwk_meta none = {0};
    err = jg_jwk_with_meta(key, &none, &bare);
    if (err == JG_OK)
        err = jg_jwk_public(bare, &pub);
    if (err == JG_OK)
        err = jg_jwk_to_json(pub, 0, &jwk_json, NULL);
    if (err != JG_OK)
        goto done;

    const char *alg_name = jg_alg_name(alg);
    size_t hcap = strlen(jwk_json) + strlen(alg_name) + 64;
    header = malloc(hcap);
    size_t ccap = htu_len + strlen(opts->htm) + strlen(jti) + sizeof ath +
                  (opts->nonce ? strlen(opts->nonce) : 0) + 128;
    claims = malloc(ccap);
    if (header == NULL || claims == NULL) {
        err = JG_ERR_NOMEM;
        goto done;
    }
    snprintf(header, hcap, "{\"typ\":\"" JG_DPOP_TYP "\",\"alg\":\"%s\",\"jwk\":%s}", alg_name,
             jwk_json);
    int n = snprintf(claims, ccap, "{\"jti\":\"%s\",\"htm\":\"%s\",\"htu\":\"%s\",\"iat\":%" PRId64,
                     jti, opts->htm, htu, iat);
    if (ath[0] != '\0')
        n += snprintf(claims + n, ccap - (size_t)n, ",\"ath\":\"%s\"", ath);
    if (opts->nonce != NULL)
        n += snprintf(claims + n, ccap - (size_t)n, ",\"nonce\":\"%s\"", opts->nonce);
    snprintf(claims + n, ccap - (size_t)n, "}");

    /* Signed with `bare`, which has no kid: the header gets none. */
    jg_jws_signer signer = {.key = bare, .alg = alg, .protected_json = header};
    err = jg_jws_sign(claims, strlen(claims), &signer, NULL, out, out_len);

done:
    free(header);
    free(claims);
    jg_free(jwk_json);
    jg_jwk_free(pub);
    jg_jwk_free(bare);
    return err;
}
