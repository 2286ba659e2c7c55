/*
 * sig_hmac.c — HS256/384/512 (RFC 7518 section 3.2). The key holds HMAC
 * contexts already keyed at load time; each operation duplicates one, so the
 * secret is never re-keyed per token and the shared template is never
 * written.
 */
#include <string.h>

#include <openssl/err.h>

#include "jwtgate/common.h"
#include "jws/sig.h"

/* A fresh keyed context for alg, or NULL with *err set. */
static EVP_MAC_CTX *keyed_ctx(const jg_jwk *key, jg_alg alg, jg_err *err)
{
    int slot = jg__hmac_slot(alg);
    if (key->kty != JG_KTY_OCT || slot < 0 || key->hmac[slot] == NULL) {
        *err = JG_ERR_KEY_TYPE;
        return NULL;
    }
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(key->hmac[slot]);
    if (ctx == NULL)
        *err = JG_ERR_NOMEM;
    return ctx;
}

/* HMAC of `in` into mac (64 bytes of room); *mac_len gets the length. */
static jg_err compute(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *mac,
                      size_t *mac_len)
{
    jg_err err = JG_OK;
    EVP_MAC_CTX *ctx = keyed_ctx(key, alg, &err);
    if (ctx == NULL)
        return err;
    for (size_t i = 0; i < in->n && err == JG_OK; i++)
        if (!EVP_MAC_update(ctx, in->part[i], in->len[i]))
            err = JG_ERR_CRYPTO;
    if (err == JG_OK && !EVP_MAC_final(ctx, mac, mac_len, EVP_MAX_MD_SIZE))
        err = JG_ERR_CRYPTO;
    EVP_MAC_CTX_free(ctx);
    return err;
}

jg_err jg__hmac_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                     size_t *sig_len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    jg_err err = compute(key, alg, in, mac, &mac_len);
    if (err == JG_OK) {
        if (mac_len != jg__sig_len(key, alg) || mac_len > JG__SIG_MAX) {
            err = JG_ERR_CRYPTO;
        } else {
            memcpy(sig, mac, mac_len);
            *sig_len = mac_len;
        }
    }
    jg_memzero(mac, sizeof mac);
    return err;
}

jg_err jg__hmac_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                       const unsigned char *sig, size_t sig_len)
{
    size_t want = jg__sig_len(key, alg);
    if (want == 0)
        return JG_ERR_KEY_TYPE;
    /* The length is public (it follows from alg), so checking it first
     * leaks nothing; RFC 7518 section 3.2 forbids truncated MACs. */
    if (sig_len != want)
        return JG_ERR_SIGNATURE_LENGTH;

    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    ERR_set_mark();
    jg_err err = compute(key, alg, in, mac, &mac_len);
    ERR_pop_to_mark();
    if (err == JG_OK)
        err = mac_len == want && jg_memeq_consttime(mac, sig, want) ? JG_OK : JG_ERR_SIGNATURE;
    jg_memzero(mac, sizeof mac);
    return err;
}
