/*
 * jwe_testlib.h — small helpers shared by the JWE and access-token tests
 * (header-only: each test program includes it once).
 */
#ifndef JG_JWE_TESTLIB_H
#define JG_JWE_TESTLIB_H

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Every JWE key management algorithm and every content encryption. */
static inline jg_alg_set all_jwe_algs(void)
{
    jg_alg_set set = 0;
    for (int a = JG_ALG_DIR; a < JG_ALG__COUNT; a++)
        set |= JG_ALG_BIT(a);
    return set;
}

static inline jg_enc_set all_encs(void)
{
    jg_enc_set set = 0;
    for (int e = JG_ENC_A128CBC_HS256; e < JG_ENC__COUNT; e++)
        set |= JG_ENC_BIT(e);
    return set;
}

/* A key from a JWK JSON value. */
static inline jg_jwk *key_from_json(json_t *jwk)
{
    char *text = tu_json_text(jwk);
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_parse(text, strlen(text), 0, &key));
    free(text);
    return key;
}

static inline jg_jwk *key_from_text(const char *text)
{
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_parse(text, strlen(text), 0, &key));
    return key;
}

/* A set holding `n` keys (the set takes its own references). */
static inline jg_jwks *set_of(jg_jwk *const *keys, size_t n)
{
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    for (size_t i = 0; i < n; i++)
        assert_jg_ok(jg_jwks_add(set, keys[i]));
    return set;
}

static inline jg_jwks *set_of1(jg_jwk *key)
{
    return set_of(&key, 1);
}

/* base64url text -> malloc'd bytes. */
static inline unsigned char *b64d(const char *text, size_t *len)
{
    unsigned char *out = NULL;
    assert_jg_ok(jg_b64url_decode_alloc(text, strlen(text), &out, len));
    return out;
}

/* Decrypt with everything allowed (or `algs` when non-zero); returns the
 * error and, on success, the result in *out. */
static inline jg_err decrypt_with(const char *token, const jg_jwks *keys, jg_alg_set algs,
                                  const jg_limits *limits, jg_jwe **out)
{
    jg_jwe_decrypt_opts opts = {algs ? algs : all_jwe_algs(), all_encs(), NULL, limits};
    return jg_jwe_decrypt(token, strlen(token), keys, &opts, out);
}

/* Decrypt and check the plaintext. */
static inline void expect_plaintext(const char *token, const jg_jwks *keys, jg_alg_set algs,
                                    const void *want, size_t want_len)
{
    jg_jwe *jwe = NULL;
    assert_jg_ok(decrypt_with(token, keys, algs, NULL, &jwe));
    size_t len = 0;
    const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(pt, want, want_len);
    assert_int_equal(pt[len], 0);
    jg_jwe_free(jwe);
}

/* Whether two JSON texts are the same JSON value (member order ignored). */
static inline void assert_json_same(const char *got, json_t *want)
{
    json_error_t error;
    json_t *g = json_loads(got, 0, &error);
    if (g == NULL)
        fail_msg("not JSON: %s", got);
    if (!json_equal(g, want)) {
        char *w = tu_json_text(want);
        fail_msg("JSON differs:\n got  %s\n want %s", got, w);
    }
    json_decref(g);
}

/* A token with one character of part `part` (0-based, '.'-separated)
 * changed; malloc'd. `offset` counts from the start of that part. */
static inline char *tamper_part(const char *token, int part, size_t offset)
{
    char *t = strdup(token);
    char *p = t;
    for (int i = 0; i < part; i++) {
        p = strchr(p, '.');
        assert_non_null(p);
        p++;
    }
    /* Flip between two alphabet letters so the result stays base64url. */
    p[offset] = p[offset] == 'A' ? 'B' : 'A';
    return t;
}

/* A token with part `part` replaced by `text`; malloc'd. */
static inline char *replace_part(const char *token, int part, const char *text)
{
    const char *start = token;
    for (int i = 0; i < part; i++)
        start = strchr(start, '.') + 1;
    const char *end = strchr(start, '.');
    if (end == NULL)
        end = start + strlen(start);
    size_t n = (size_t)(start - token), m = strlen(end);
    char *t = malloc(n + strlen(text) + m + 1);
    memcpy(t, token, n);
    memcpy(t + n, text, strlen(text));
    memcpy(t + n + strlen(text), end, m + 1);
    return t;
}

#endif /* JG_JWE_TESTLIB_H */
