/*
 * sig_eddsa.c — EdDSA with Ed25519 and Ed448 ("EdDSA", and the fully
 * specified "Ed25519" / "Ed448"), RFC 8037 section 3.1. Pure EdDSA is
 * one-shot: the whole signing input must be in one buffer, so a split input
 * (JSON serialization, detached payload) is joined first — on the stack when
 * it is small.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "jws/sig.h"

/* Bytes joined on the stack before falling back to the heap. */
#define JOIN_STACK 2048u

/* Points *msg at the whole input: the single part itself, or a join into
 * stack_buf (JOIN_STACK bytes) or a heap buffer returned in *heap. */
static jg_err join(const jg__sig_input *in, unsigned char *stack_buf, const unsigned char **msg,
                   size_t *msg_len, unsigned char **heap)
{
    *heap = NULL;
    if (in->n == 1) {
        *msg = in->part[0];
        *msg_len = in->len[0];
        return JG_OK;
    }
    size_t total = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (in->len[i] > SIZE_MAX - total)
            return JG_ERR_NOMEM;
        total += in->len[i];
    }
    unsigned char *buf = stack_buf;
    if (total > JOIN_STACK) {
        buf = malloc(total);
        if (buf == NULL)
            return JG_ERR_NOMEM;
        *heap = buf;
    }
    size_t off = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (in->len[i] > 0)
            memcpy(buf + off, in->part[i], in->len[i]);
        off += in->len[i];
    }
    *msg = buf;
    *msg_len = total;
    return JG_OK;
}

/* The exact signature length for an OKP signing key, or 0. */
static size_t eddsa_len(const jg_jwk *key, jg_alg alg)
{
    if (key->pkey == NULL || jg__alg(alg)->family != JG__FAM_EDDSA ||
        jg__alg_key_suits(alg, key->kty, key->crv) != JG_OK)
        return 0;
    return jg__sig_len(key, alg);
}

jg_err jg__eddsa_sign(const jg_jwk *key, jg_alg alg, const jg__sig_input *in, unsigned char *sig,
                      size_t *sig_len)
{
    size_t want = eddsa_len(key, alg);
    if (want == 0)
        return JG_ERR_KEY_TYPE;
    unsigned char stack_buf[JOIN_STACK];
    const unsigned char *msg;
    size_t msg_len;
    unsigned char *heap;
    jg_err err = join(in, stack_buf, &msg, &msg_len, &heap);
    if (err != JG_OK)
        return err;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = JG__SIG_MAX;
    if (ctx == NULL)
        err = JG_ERR_NOMEM;
    else if (EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey, NULL) != 1 ||
             EVP_DigestSign(ctx, sig, &len, msg, msg_len) != 1 || len != want)
        err = JG_ERR_CRYPTO;
    EVP_MD_CTX_free(ctx);
    free(heap);
    if (err == JG_OK)
        *sig_len = len;
    return err;
}

jg_err jg__eddsa_verify(const jg_jwk *key, jg_alg alg, const jg__sig_input *in,
                        const unsigned char *sig, size_t sig_len)
{
    size_t want = eddsa_len(key, alg);
    if (want == 0)
        return JG_ERR_KEY_TYPE;
    if (sig_len != want)
        return JG_ERR_SIGNATURE_LENGTH;
    unsigned char stack_buf[JOIN_STACK];
    const unsigned char *msg;
    size_t msg_len;
    unsigned char *heap;
    jg_err err = join(in, stack_buf, &msg, &msg_len, &heap);
    if (err != JG_OK)
        return err;
    ERR_set_mark();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        err = JG_ERR_NOMEM;
    else if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey, NULL) != 1)
        err = JG_ERR_CRYPTO;
    else if (EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) != 1)
        err = JG_ERR_SIGNATURE;
    EVP_MD_CTX_free(ctx);
    ERR_pop_to_mark();
    free(heap);
    return err;
}
