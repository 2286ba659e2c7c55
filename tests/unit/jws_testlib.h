/*
 * jws_testlib.h — helpers shared by the JWS test programs (each test program
 * includes it once; everything is static inline).
 */
#ifndef JG_JWS_TESTLIB_H
#define JG_JWS_TESTLIB_H

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A key from a JWK given as a JSON value or text. */
static inline jg_jwk *tk_key_json(json_t *jwk)
{
    char *text = tu_json_text(jwk);
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_parse(text, strlen(text), 0, &key));
    free(text);
    return key;
}

static inline jg_jwk *tk_key_text(const char *text)
{
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_parse(text, strlen(text), 0, &key));
    return key;
}

/* The key a verifier holds: the public part, or the secret for "oct". */
static inline jg_jwk *tk_verifier(jg_jwk *key)
{
    if (jg_jwk_kty(key) == JG_KTY_OCT)
        return jg_jwk_ref(key);
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(key, &pub));
    assert_false(jg_jwk_is_private(pub));
    return pub;
}

/* A set holding the verifier keys of `keys` (n of them). */
static inline jg_jwks *tk_verify_set(jg_jwk *const *keys, size_t n)
{
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    for (size_t i = 0; i < n; i++) {
        jg_jwk *v = tk_verifier(keys[i]);
        assert_jg_ok(jg_jwks_add(set, v));
        jg_jwk_free(v);
    }
    return set;
}

/* A set holding exactly these keys (references taken). */
static inline jg_jwks *tk_set(jg_jwk *const *keys, size_t n)
{
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    for (size_t i = 0; i < n; i++)
        assert_jg_ok(jg_jwks_add(set, keys[i]));
    return set;
}

/* The same key with another kid (NULL: none); other metadata kept. */
static inline jg_jwk *tk_with_kid(const jg_jwk *key, const char *kid)
{
    jg_jwk_meta meta = {
        .kid = kid, .alg = jg_jwk_alg(key), .use = jg_jwk_use(key), .key_ops = jg_jwk_key_ops(key)};
    jg_jwk *out = NULL;
    assert_jg_ok(jg_jwk_with_meta(key, &meta, &out));
    return out;
}

/* Verify options for a set of algs, everything else default. */
static inline jg_jws_verify_opts tk_opts(jg_alg_set algs)
{
    jg_jws_verify_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.algs = algs;
    return opts;
}

/*
 * The same, accepting a set that mixes "oct" secrets and public keys: the
 * test programs that judge tokens against one set of every kind of key (so
 * that a refusal is about the token, never about a missing key) opt in, as
 * a caller must (jg_jws_verify_opts.allow_mixed_keys). test_attacks.c checks
 * that the default refuses such a set.
 */
static inline jg_jws_verify_opts tk_opts_mixed(jg_alg_set algs)
{
    jg_jws_verify_opts opts = tk_opts(algs);
    opts.allow_mixed_keys = 1;
    return opts;
}

/* Base64url decode into a new NUL-terminated buffer (test helper). */
static inline unsigned char *tk_b64_decode(const char *b64, size_t *len)
{
    unsigned char *out = NULL;
    assert_jg_ok(jg_b64url_decode_alloc(b64, strlen(b64), &out, len));
    return out;
}

/* Whether an alg signs deterministically (so outputs can be compared). */
static inline int tk_deterministic(jg_alg alg)
{
    return (alg >= JG_ALG_HS256 && alg <= JG_ALG_RS512) || alg == JG_ALG_EDDSA ||
           alg == JG_ALG_ED25519 || alg == JG_ALG_ED448;
}

/* The alg named by a JWS protected header in base64url. */
static inline jg_alg tk_header_alg(json_t *hdr)
{
    const char *name = json_string_value(json_object_get(hdr, "alg"));
    return name ? jg_alg_from_name(name, strlen(name)) : JG_ALG_UNKNOWN;
}

/* A decoded protected header (base64url text) as JSON. */
static inline json_t *tk_decode_header(const char *b64)
{
    size_t len = 0;
    unsigned char *text = tk_b64_decode(b64, &len);
    json_error_t error;
    json_t *hdr = json_loadb((const char *)text, len, 0, &error);
    assert_non_null(hdr);
    free(text);
    return hdr;
}

#endif /* JG_JWS_TESTLIB_H */
