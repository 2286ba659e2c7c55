/* dpop_nonce.c — stateless DPoP nonces shared by a cluster (dpop_nonce.h). */
#include "server/oauth/dpop_nonce.h"

#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "server/core/log.h"

#define NONCE_INFO "jwtgate dpop nonce"

/* The master key's 32 raw bytes (it is an "oct" JWK). */
static int master_raw(const jg_jwk *master, unsigned char raw[32])
{
    char *json = NULL;
    size_t json_len = 0;
    if (jg_jwk_to_json(master, JG_EXPORT_PRIVATE, &json, &json_len) != JG_OK)
        return -1;
    json_t *doc = json_loadb(json, json_len, 0, NULL);
    jg_free_secret(json, json_len);
    const char *k = json_string_value(json_object_get(doc, "k"));
    size_t n = 0;
    int rc = k != NULL && jg_b64url_decode(k, strlen(k), raw, &n) == JG_OK && n == 32 ? 0 : -1;
    if (k != NULL)
        jg_memzero((void *)k, strlen(k));
    json_decref(doc);
    return rc;
}

int dpop_nonce_init(jgd *d)
{
    unsigned char ikm[32];
    if (d->master == NULL || master_raw(d->master, ikm) != 0) {
        log_msg(L_ERR, "dpop nonce: the master key is not usable");
        return -1;
    }
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, sizeof ikm),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (char *)NONCE_INFO,
                                          sizeof NONCE_INFO - 1),
        OSSL_PARAM_construct_end()};
    int ok = ctx != NULL && EVP_KDF_derive(ctx, d->nonce_key, sizeof d->nonce_key, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    jg_memzero(ikm, sizeof ikm);
    if (!ok)
        log_msg(L_ERR, "dpop nonce: key derivation failed");
    return ok ? 0 : -1;
}

int dpop_nonce_make(const jgd *d, int64_t now, int back, char out[44])
{
    uint64_t slot = (uint64_t)(now / DPOP_NONCE_SLOT - back);
    unsigned char msg[8], mac[32];
    for (int i = 0; i < 8; i++)
        msg[i] = (unsigned char)(slot >> (56 - 8 * i));
    size_t mac_len = sizeof mac;
    /* EVP_Q_mac: one call, no state kept between requests */
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, d->nonce_key, sizeof d->nonce_key, msg,
                  sizeof msg, mac, sizeof mac, &mac_len) == NULL ||
        mac_len != 32)
        return -1;
    jg_b64url_encode(mac, 32, out);
    out[43] = '\0';
    return 0;
}
