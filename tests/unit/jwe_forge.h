/*
 * jwe_forge.h — helpers for tests that forge or alter JWE tokens: edit the
 * protected header of a compact token, make an authentic "dir" token with
 * any header, RSA-encrypt a crafted block. Shared by test_jwe_negative.c and
 * test_attacks.c (header-only: each test program includes it once).
 */
#ifndef JG_JWE_FORGE_H
#define JG_JWE_FORGE_H

#include <stdio.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "jwe/jwe_internal.h"
#include "jwe_testlib.h"
#include "jwk/jwk_internal.h"

static inline char *b64e(const void *bytes, size_t len)
{
    char *out = NULL;
    assert_jg_ok(jg_b64url_encode_alloc(bytes, len, &out, NULL));
    return out;
}

/* The token with its protected header decoded, changed by `edit`, re-encoded. */
static inline char *edit_header(const char *token, void (*edit)(json_t *, void *), void *ctx)
{
    const char *dot = strchr(token, '.');
    size_t len = 0;
    char *part = strndup(token, (size_t)(dot - token));
    unsigned char *raw = b64d(part, &len);
    json_t *h = json_loadb((const char *)raw, len, 0, NULL);
    assert_non_null(h);
    edit(h, ctx);
    char *text = tu_json_text(h);
    char *enc = b64e(text, strlen(text));
    char *out = replace_part(token, 0, enc);
    free(enc);
    free(text);
    json_decref(h);
    free(raw);
    free(part);
    return out;
}

typedef struct kv {
    const char *name;
    json_t *value; /* stolen; NULL deletes */
} kv;

static inline void set_member(json_t *h, void *ctx)
{
    kv *p = ctx;
    if (p->value == NULL)
        json_object_del(h, p->name);
    else
        json_object_set_new(h, p->name, p->value);
}

static inline char *with_member(const char *token, const char *name, json_t *value)
{
    kv p = {name, value};
    return edit_header(token, set_member, &p);
}

static inline char *with_member_json(const char *token, const char *name, const char *json)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    return with_member(token, name, v);
}

/*
 * A compact "dir" token made by hand, authentic for `cek`, with any header
 * text, plaintext and encrypted key: lets tests reach checks that come
 * after the tag (zip data, CBC padding) or headers encrypt() refuses.
 */
static inline char *forge(const char *header, const unsigned char *cek, jg_enc enc, const void *pt,
                          size_t pt_len)
{
    const jg__enc_info *info = jg__enc_info_of(enc);
    char *h64 = b64e(header, strlen(header));
    unsigned char iv[16], tag[32];
    assert_int_equal(RAND_bytes(iv, sizeof iv), 1);
    size_t ct_len = jg__content_ct_len(info, pt_len);
    unsigned char *ct = malloc(ct_len + 1);
    jg__aad aad = {h64, strlen(h64), NULL, 0, 0};
    assert_jg_ok(jg__content_encrypt(info, NULL, cek, iv, &aad, pt, pt_len, ct, tag));
    char *iv64 = b64e(iv, info->iv_len), *ct64 = b64e(ct, ct_len),
         *tag64 = b64e(tag, info->tag_len);
    size_t n = strlen(h64) + strlen(iv64) + strlen(ct64) + strlen(tag64) + 8;
    char *out = malloc(n);
    snprintf(out, n, "%s..%s.%s.%s", h64, iv64, ct64, tag64);
    free(h64);
    free(iv64);
    free(ct64);
    free(tag64);
    free(ct);
    return out;
}

/* RSA encryption of `len` bytes with the padding `pad` (an
 * OSSL_PKEY_RSA_PAD_MODE_* name), base64url-encoded; malloc'd. */
static inline char *rsa_encrypt_b64(const jg_jwk *key, const unsigned char *data, size_t len,
                                    const char *pad)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, (char *)pad, 0),
        OSSL_PARAM_construct_end()};
    unsigned char out[512];
    size_t out_len = sizeof out;
    assert_true(EVP_PKEY_encrypt_init_ex(ctx, params) > 0);
    assert_true(EVP_PKEY_encrypt(ctx, out, &out_len, data, len) > 0);
    EVP_PKEY_CTX_free(ctx);
    return b64e(out, out_len);
}

/* Raw RSA on a crafted 256-byte block (no padding applied by OpenSSL). */
static inline char *rsa_raw(const jg_jwk *key, const unsigned char *block, size_t len)
{
    return rsa_encrypt_b64(key, block, len, OSSL_PKEY_RSA_PAD_MODE_NONE);
}

#endif /* JG_JWE_FORGE_H */
