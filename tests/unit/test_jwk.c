/*
 * test_jwk.c — one JWK: JSON import and its every refusal, export, public
 * halves, thumbprints, and the usage rule jg_jwk_check().
 *
 * Vectors: the RFC 7520 cookbook keys (jwk/ and the keys inside the jws/,
 * jwe/, curve25519/, rfc7797/ and nesting examples), RFC 7638 section 3.1,
 * RFC 8037 appendix A and RFC 7515 appendix A.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "jwk/jwk_build.h"
#include "jwk/jwk_internal.h"
#include "testutil.h"
#include "tu_jwk.h"

/* ---- Helpers ------------------------------------------------------------------ */

static jg_err parse_text(const char *text, unsigned flags, jg_jwk **out)
{
    return jg_jwk_parse(text, strlen(text), flags, out);
}

/* Parse `text`, expecting `expected`. */
#define expect_text(expected, text, flags)                                                         \
    do {                                                                                           \
        jg_jwk *k__ = NULL;                                                                        \
        assert_jg(expected, parse_text(text, flags, &k__));                                        \
        if ((expected) == JG_OK)                                                                   \
            jg_jwk_free(k__);                                                                      \
        else                                                                                       \
            assert_null(k__);                                                                      \
    } while (0)

/* Import the JSON value, expecting `expected`. */
static void expect_parse(jg_err expected, json_t *jwk, unsigned flags)
{
    jg_jwk *key = NULL;
    jg_err got = tu_jwk_parse_value(jwk, flags, &key);
    if (got != expected) {
        char *text = tu_json_text(jwk);
        fail_msg("expected %s, got %s for %s", jg_err_name(expected), jg_err_name(got), text);
    }
    if (got == JG_OK)
        jg_jwk_free(key);
    else
        assert_null(key);
}

/* A copy of `base` with member `name` set to `value` (NULL: removed). */
static json_t *with(json_t *base, const char *name, json_t *value)
{
    json_t *copy = json_deep_copy(base);
    if (value == NULL)
        json_object_del(copy, name);
    else
        json_object_set_new(copy, name, value);
    return copy;
}

/* Expect `expected` for `base` with one member changed; consumes `value`. */
static void expect_member(jg_err expected, json_t *base, const char *name, json_t *value)
{
    json_t *copy = with(base, name, value);
    expect_parse(expected, copy, 0);
    json_decref(copy);
}

/* Base64url of bytes as a JSON string. */
static json_t *b64_value(const unsigned char *data, size_t len)
{
    char *enc = NULL;
    assert_jg_ok(jg_b64url_encode_alloc(data, len, &enc, NULL));
    json_t *s = json_string(enc);
    jg_free(enc);
    return s;
}

/* The decoded bytes of a base64url member (at most 1024). */
static size_t member_bytes(json_t *jwk, const char *name, unsigned char *out)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    assert_non_null(s);
    size_t n = 0;
    assert_true(JG_B64URL_DECODED_MAX(strlen(s)) <= 1024);
    assert_jg_ok(jg_b64url_decode(s, strlen(s), out, &n));
    return n;
}

/* Export, parse the export back as JSON, and return it. */
static json_t *export_value(const jg_jwk *key, unsigned flags)
{
    char *text = NULL;
    size_t len = 0;
    assert_jg_ok(jg_jwk_to_json(key, flags, &text, &len));
    assert_int_equal(len, strlen(text));
    json_t *value = tu_json_parse(text);
    jg_free_secret(text, 0);
    return value;
}

static void assert_json_equal(json_t *a, json_t *b)
{
    if (!json_equal(a, b)) {
        char *ta = tu_json_text(a), *tb = tu_json_text(b);
        fail_msg("JSON differs:\n  %s\n  %s", ta, tb);
    }
}

/* `jwk` without its private members. */
static json_t *public_members(json_t *jwk)
{
    static const char *const secret[] = {"d", "p", "q", "dp", "dq", "qi", "k"};
    json_t *copy = json_deep_copy(jwk);
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        json_object_del(copy, secret[i]);
    return copy;
}

/* Everything we can check about one valid JWK value. */
static void check_valid_jwk(json_t *jwk)
{
    jg_jwk *key = tu_jwk_parse_ok(jwk, 0);
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    int is_private = json_object_get(jwk, "d") != NULL || json_object_get(jwk, "k") != NULL;

    assert_string_equal(jg_kty_name(jg_jwk_kty(key)), kty);
    assert_int_equal(jg_jwk_is_private(key), is_private);
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (crv != NULL)
        assert_string_equal(jg_crv_name(jg_jwk_crv(key)), crv);
    else
        assert_int_equal(jg_jwk_crv(key), JG_CRV_NONE);
    const char *kid = json_string_value(json_object_get(jwk, "kid"));
    if (kid != NULL)
        assert_string_equal(jg_jwk_kid(key), kid);
    else
        assert_null(jg_jwk_kid(key));

    /* Re-export holds exactly the input's members. */
    json_t *full = export_value(key, JG_EXPORT_PRIVATE);
    assert_json_equal(full, jwk);
    json_decref(full);

    /* Thumbprint equals the independent computation. */
    char want[44], got[44];
    tu_jwk_oracle_thumbprint(jwk, want);
    assert_jg_ok(jg_jwk_thumbprint_b64(key, got));
    assert_string_equal(got, want);

    if (strcmp(kty, "oct") == 0) {
        char *text = NULL;
        jg_jwk *pub = NULL;
        assert_jg(JG_ERR_KEY_TYPE, jg_jwk_to_json(key, 0, &text, NULL));
        assert_jg(JG_ERR_KEY_TYPE, jg_jwk_public(key, &pub));
        assert_jg(JG_ERR_KEY_TYPE, tu_jwk_parse_value(jwk, JG_JWK_PUBLIC_ONLY, &pub));
        assert_null(pub);
        assert_int_equal(jg_jwk_bits(key), member_bytes(jwk, "k", (unsigned char[1024]){0}) * 8);
    } else {
        /* The public export and the public half hold the public members. */
        json_t *want_pub = public_members(jwk);
        json_t *pub_json = export_value(key, 0);
        assert_json_equal(pub_json, want_pub);
        json_decref(pub_json);
        jg_jwk *pub = NULL;
        assert_jg_ok(jg_jwk_public(key, &pub));
        assert_false(jg_jwk_is_private(pub));
        pub_json = export_value(pub, JG_EXPORT_PRIVATE);
        assert_json_equal(pub_json, want_pub);
        json_decref(pub_json);
        assert_jg_ok(jg_jwk_thumbprint_b64(pub, got));
        assert_string_equal(got, want);
        assert_int_equal(jg_jwk_bits(pub), jg_jwk_bits(key));
        jg_jwk_free(pub);
        json_decref(want_pub);

        /* JG_JWK_PUBLIC_ONLY drops the private part while importing. */
        jg_jwk *only = tu_jwk_parse_ok(jwk, JG_JWK_PUBLIC_ONLY);
        assert_false(jg_jwk_is_private(only));
        assert_jg_ok(jg_jwk_thumbprint_b64(only, got));
        assert_string_equal(got, want);
        jg_jwk_free(only);
    }
    jg_jwk_free(key);
}

/* ---- Cookbook ------------------------------------------------------------------- */

static void test_cookbook_jwk_files(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        jg_kty kty;
        jg_crv crv;
        int is_private;
        unsigned bits;
        jg_alg alg;
        jg_use use;
    } files[] = {
        {"3_1.ec_public_key.json", JG_KTY_EC, JG_CRV_P521, 0, 521, JG_ALG_UNKNOWN, JG_USE_SIG},
        {"3_2.ec_private_key.json", JG_KTY_EC, JG_CRV_P521, 1, 521, JG_ALG_UNKNOWN, JG_USE_SIG},
        {"3_3.rsa_public_key.json", JG_KTY_RSA, JG_CRV_NONE, 0, 2048, JG_ALG_UNKNOWN, JG_USE_SIG},
        {"3_4.rsa_private_key.json", JG_KTY_RSA, JG_CRV_NONE, 1, 2048, JG_ALG_UNKNOWN, JG_USE_SIG},
        {"3_5.symmetric_key_mac_computation.json", JG_KTY_OCT, JG_CRV_NONE, 1, 256, JG_ALG_HS256,
         JG_USE_SIG},
        {"3_6.symmetric_key_encryption.json", JG_KTY_OCT, JG_CRV_NONE, 1, 256, JG_ALG_DIR,
         JG_USE_ENC},
    };
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "jose-cookbook/jwk/%s", files[i].file);
        json_t *jwk = tu_load_vector(path);
        check_valid_jwk(jwk);
        jg_jwk *key = tu_jwk_parse_ok(jwk, 0);
        assert_int_equal(jg_jwk_kty(key), files[i].kty);
        assert_int_equal(jg_jwk_crv(key), files[i].crv);
        assert_int_equal(jg_jwk_is_private(key), files[i].is_private);
        assert_int_equal(jg_jwk_bits(key), files[i].bits);
        assert_int_equal(jg_jwk_alg(key), files[i].alg);
        assert_int_equal(jg_jwk_use(key), files[i].use);
        assert_int_equal(jg_jwk_key_ops(key), 0);
        jg_jwk_free(key);
        json_decref(jwk);
        tu_count("cookbook-jwk");
    }

    /* 3.6 names a content encryption algorithm: a key for "dir" + A256GCM. */
    json_t *jwk = tu_load_vector("jose-cookbook/jwk/3_6.symmetric_key_encryption.json");
    jg_jwk *key = tu_jwk_parse_ok(jwk, 0);
    assert_int_equal(jg_jwk_enc(key), JG_ENC_A256GCM);
    assert_jg_ok(jg_jwk_check(key, JG_ALG_DIR, JG_OP_DECRYPT));
    assert_jg(JG_ERR_KEY_ALG, jg_jwk_check(key, JG_ALG_A256KW, JG_OP_DECRYPT));
    jg_jwk_free(key);
    json_decref(jwk);

    /* The private and public cookbook files are the same keys. */
    static const char *const pairs[][2] = {{"3_1.ec_public_key.json", "3_2.ec_private_key.json"},
                                           {"3_3.rsa_public_key.json", "3_4.rsa_private_key.json"}};
    for (size_t i = 0; i < 2; i++) {
        char a[44], b[44];
        snprintf(path, sizeof path, "jose-cookbook/jwk/%s", pairs[i][0]);
        json_t *pub_json = tu_load_vector(path);
        snprintf(path, sizeof path, "jose-cookbook/jwk/%s", pairs[i][1]);
        json_t *priv_json = tu_load_vector(path);
        jg_jwk *pub = tu_jwk_parse_ok(pub_json, 0), *priv = tu_jwk_parse_ok(priv_json, 0);
        assert_jg_ok(jg_jwk_thumbprint_b64(pub, a));
        assert_jg_ok(jg_jwk_thumbprint_b64(priv, b));
        assert_string_equal(a, b);
        json_t *exported = export_value(priv, 0);
        assert_json_equal(exported, pub_json);
        json_decref(exported);
        jg_jwk_free(pub);
        jg_jwk_free(priv);
        json_decref(pub_json);
        json_decref(priv_json);
    }
}

/*
 * Every object with a "kty" member under `value` (`path`: where, for messages
 * and the one known-bad example). In curve25519/ecdh-es.json the sender's
 * ephemeral key under "encrypting_key" has a "d" that does not derive its "x"
 * (that "d" derives the "x" of the protected header's "epk"): a strict import
 * refuses it with JG_ERR_KEY_MISMATCH, and accepts it once "x" is corrected.
 */
static void check_embedded_keys(json_t *value, const char *file, const char *path)
{
    char sub[512];
    if (json_is_object(value)) {
        if (json_is_string(json_object_get(value, "kty"))) {
            if (strcmp(file, "jose-cookbook/curve25519/ecdh-es.json") == 0 &&
                strcmp(path, "/encrypting_key/epk") == 0) {
                expect_parse(JG_ERR_KEY_MISMATCH, value, 0);
                json_t *root = tu_load_vector(file);
                json_t *fixed =
                    with(value, "x",
                         json_incref(tu_json_at(root, "encrypting_content/protected/epk/x")));
                check_valid_jwk(fixed);
                json_decref(fixed);
                json_decref(root);
                tu_count("embedded-jwk-inconsistent-refused");
                return;
            }
            check_valid_jwk(value);
            tu_count("embedded-jwk");
            return;
        }
        const char *name;
        json_t *member;
        json_object_foreach (value, name, member) {
            snprintf(sub, sizeof sub, "%s/%s", path, name);
            check_embedded_keys(member, file, sub);
        }
    } else if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++) {
            snprintf(sub, sizeof sub, "%s/%zu", path, i);
            check_embedded_keys(json_array_get(value, i), file, sub);
        }
    }
}

static void test_cookbook_embedded_keys(void **state)
{
    (void)state;
    static const char *const dirs[] = {"jose-cookbook/jws", "jose-cookbook/jwe",
                                       "jose-cookbook/curve25519", "jose-cookbook/rfc7797"};
    unsigned files = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char dir_path[1024];
        snprintf(dir_path, sizeof dir_path, "%s", tu_vector_path(dirs[d]));
        DIR *dir = opendir(dir_path);
        assert_non_null(dir);
        struct dirent *ent;
        while ((ent = readdir(dir)) != NULL) {
            size_t n = strlen(ent->d_name);
            if (n < 5 || strcmp(ent->d_name + n - 5, ".json") != 0)
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "%s/%s", dirs[d], ent->d_name);
            json_t *root = tu_load_vector(rel);
            check_embedded_keys(root, rel, "");
            json_decref(root);
            files++;
        }
        closedir(dir);
    }
    json_t *nested = tu_load_vector("jose-cookbook/6.nesting_signatures_and_encryption.json");
    check_embedded_keys(nested, "nesting", "");
    json_decref(nested);
    assert_true(files >= 25);
}

/* ---- RFC vectors ----------------------------------------------------------------- */

static void test_rfc7638_thumbprint(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc7638_3_1.json");
    json_t *jwk = json_object_get(v, "key");
    const char *want = json_string_value(json_object_get(v, "thumbprint"));
    jg_jwk *key = tu_jwk_parse_ok(jwk, 0);
    char got[44];
    assert_jg_ok(jg_jwk_thumbprint_b64(key, got));
    assert_string_equal(got, want);
    unsigned char raw[32], want_raw[32];
    size_t n = 0;
    assert_jg_ok(jg_jwk_thumbprint(key, raw));
    assert_jg_ok(jg_b64url_decode(want, strlen(want), want_raw, &n));
    assert_int_equal(n, 32);
    assert_memory_equal(raw, want_raw, 32);
    assert_int_equal(jg_jwk_alg(key), JG_ALG_RS256);
    assert_string_equal(jg_jwk_kid(key), "2011-04-29");
    check_valid_jwk(jwk);
    jg_jwk_free(key);

    /* Optional members never change the thumbprint. */
    json_t *bare = json_deep_copy(jwk);
    json_object_del(bare, "kid");
    json_object_del(bare, "alg");
    json_object_set_new(bare, "use", json_string("sig"));
    key = tu_jwk_parse_ok(bare, 0);
    assert_jg_ok(jg_jwk_thumbprint_b64(key, got));
    assert_string_equal(got, want);
    jg_jwk_free(key);
    json_decref(bare);
    json_decref(v);
    tu_count("rfc7638");
}

static void test_rfc8037_ed25519(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc8037_appendix_a.json");
    json_t *priv_json = json_object_get(v, "private");
    json_t *pub_json = json_object_get(v, "public");
    const char *want = json_string_value(json_object_get(v, "thumbprint"));

    jg_jwk *priv = tu_jwk_parse_ok(priv_json, 0);
    jg_jwk *pub = tu_jwk_parse_ok(pub_json, 0);
    assert_int_equal(jg_jwk_kty(priv), JG_KTY_OKP);
    assert_int_equal(jg_jwk_crv(priv), JG_CRV_ED25519);
    assert_true(jg_jwk_is_private(priv));
    assert_false(jg_jwk_is_private(pub));
    assert_int_equal(jg_jwk_bits(pub), 256);

    char got[44];
    assert_jg_ok(jg_jwk_thumbprint_b64(priv, got));
    assert_string_equal(got, want);
    assert_jg_ok(jg_jwk_thumbprint_b64(pub, got));
    assert_string_equal(got, want);

    /* A.2 is the public half of A.1. */
    jg_jwk *half = NULL;
    assert_jg_ok(jg_jwk_public(priv, &half));
    json_t *exported = export_value(half, JG_EXPORT_PRIVATE);
    assert_json_equal(exported, pub_json);
    json_decref(exported);
    exported = export_value(priv, JG_EXPORT_PRIVATE);
    assert_json_equal(exported, priv_json);
    json_decref(exported);
    check_valid_jwk(priv_json);
    check_valid_jwk(pub_json);

    assert_jg_ok(jg_jwk_check(priv, JG_ALG_EDDSA, JG_OP_SIGN));
    assert_jg_ok(jg_jwk_check(priv, JG_ALG_ED25519, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_jwk_check(half, JG_ALG_EDDSA, JG_OP_SIGN));
    jg_jwk_free(half);
    jg_jwk_free(priv);
    jg_jwk_free(pub);
    json_decref(v);
    tu_count("rfc8037");
}

static void test_rfc7515_keys(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc7515_appendix_a.json");
    static const char *const names[] = {"A.1", "A.2", "A.3", "A.4"};
    static const jg_alg algs[] = {JG_ALG_HS256, JG_ALG_RS256, JG_ALG_ES256, JG_ALG_ES512};
    for (size_t i = 0; i < 4; i++) {
        json_t *ex = json_object_get(v, names[i]);
        json_t *jwk = json_object_get(ex, "key");
        check_valid_jwk(jwk);
        jg_jwk *key = tu_jwk_parse_ok(jwk, 0);
        assert_jg_ok(jg_jwk_check(key, algs[i], JG_OP_SIGN));
        assert_jg_ok(jg_jwk_check(key, algs[i], JG_OP_VERIFY));

        const char *input = json_string_value(json_object_get(ex, "signing_input"));
        const char *sig_b64 = json_string_value(json_object_get(ex, "signature"));
        if (input != NULL) {
            /* The parsed key reproduces the RFC's own signature. */
            unsigned char sig[512];
            size_t sig_len = 0;
            assert_jg_ok(jg_b64url_decode(sig_b64, strlen(sig_b64), sig, &sig_len));
            if (algs[i] == JG_ALG_HS256) {
                unsigned char mac[32];
                size_t mac_len = 0;
                assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->secret,
                                          key->secret_len, (const unsigned char *)input,
                                          strlen(input), mac, sizeof mac, &mac_len));
                assert_int_equal(mac_len, sig_len);
                assert_memory_equal(mac, sig, sig_len);
            } else {
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                assert_int_equal(
                    EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key->pkey, NULL), 1);
                assert_int_equal(
                    EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input, strlen(input)),
                    1);
                EVP_MD_CTX_free(md);
            }
        }
        jg_jwk_free(key);
        tu_count("rfc7515");
    }
    json_decref(v);
}

/* ---- Refusals ------------------------------------------------------------------- */

static void test_parse_arguments_and_json(void **state)
{
    (void)state;
    jg_jwk *key = NULL;
    const char *ok = "{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODw\"}";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_parse(NULL, 3, 0, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_parse(ok, strlen(ok), 0, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_parse(ok, strlen(ok), 1u << 7, &key));
    assert_null(key);
    expect_text(JG_OK, ok, 0);
    expect_text(JG_ERR_JSON_SYNTAX, "{\"kty\":\"oct\",", 0);
    expect_text(JG_ERR_JSON_SYNTAX, "", 0);
    expect_text(JG_ERR_JSON_DUPLICATE, "{\"kty\":\"oct\",\"k\":\"AAEC\",\"k\":\"AAEC\"}", 0);
    expect_text(JG_ERR_JSON_NOT_OBJECT, "[{\"kty\":\"oct\",\"k\":\"AAEC\"}]", 0);
    expect_text(JG_ERR_JSON_NOT_OBJECT, "\"oct\"", 0);

    /* Depth: an unknown member nested 40 deep. */
    char deep[256];
    size_t n = (size_t)snprintf(deep, sizeof deep, "{\"kty\":\"oct\",\"k\":\"AAEC\",\"x\":");
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_text(JG_ERR_LIMIT_JSON_DEPTH, deep, 0);

    /* Size: 64 KiB is the bound of one JWK. */
    size_t big_len = 64 * 1024 + 1;
    char *big = malloc(big_len + 1);
    memset(big, ' ', big_len);
    memcpy(big, ok, strlen(ok));
    big[big_len] = '\0';
    assert_jg(JG_ERR_LIMIT_JSON_SIZE, jg_jwk_parse(big, big_len, 0, &key));
    assert_jg_ok(jg_jwk_parse(big, big_len - 1, 0, &key)); /* trailing spaces are JSON */
    jg_jwk_free(key);
    free(big);
}

static void test_parse_members(void **state)
{
    (void)state;
    json_t *base = tu_json_parse("{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka"
                                 "GxwdHh8\",\"kid\":\"k1\"}");
    expect_parse(JG_OK, base, 0);

    /* kty (RFC 7517 4.1). */
    expect_member(JG_ERR_KEY_INVALID, base, "kty", NULL);
    expect_member(JG_ERR_KEY_INVALID, base, "kty", json_integer(1));
    expect_member(JG_ERR_KEY_KTY, base, "kty", json_string("foo"));
    expect_member(JG_ERR_KEY_KTY, base, "kty", json_string("OCT"));
    expect_member(JG_ERR_KEY_KTY, base, "kty", json_string(""));

    /* kid must be a string without NUL. */
    expect_member(JG_ERR_KEY_INVALID, base, "kid", json_integer(7));
    expect_member(JG_ERR_KEY_INVALID, base, "kid", json_null());
    /* jansson refuses "\u0000" in strings, so NUL never reaches a member. */
    expect_member(JG_ERR_JSON_SYNTAX, base, "kid", json_stringn("a\0b", 3));
    expect_member(JG_OK, base, "kid", json_string(""));

    /* use: "sig" or "enc". */
    expect_member(JG_OK, base, "use", json_string("sig"));
    expect_member(JG_OK, base, "use", json_string("enc"));
    expect_member(JG_ERR_KEY_INVALID, base, "use", json_string("SIG"));
    expect_member(JG_ERR_KEY_INVALID, base, "use", json_string("wrap"));
    expect_member(JG_ERR_KEY_INVALID, base, "use", json_true());

    /* key_ops: an array of distinct known strings. */
    expect_member(JG_OK, base, "key_ops", tu_json_parse("[\"sign\",\"verify\"]"));
    expect_member(JG_ERR_KEY_INVALID, base, "key_ops", json_string("sign"));
    expect_member(JG_ERR_KEY_INVALID, base, "key_ops", json_array());
    expect_member(JG_ERR_KEY_INVALID, base, "key_ops", tu_json_parse("[\"sign\",\"sign\"]"));
    expect_member(JG_ERR_KEY_INVALID, base, "key_ops", tu_json_parse("[\"sign\",\"fly\"]"));
    expect_member(JG_ERR_KEY_INVALID, base, "key_ops", tu_json_parse("[\"sign\",1]"));
    expect_member(JG_ERR_KEY_INVALID, base, "key_ops", tu_json_parse("[\"Sign\"]"));

    /* alg: known, suiting the key. */
    expect_member(JG_OK, base, "alg", json_string("HS256"));
    expect_member(JG_OK, base, "alg", json_string("A256KW"));
    expect_member(JG_OK, base, "alg", json_string("A128CBC-HS256"));
    expect_member(JG_ERR_KEY_INVALID, base, "alg", json_integer(256));
    expect_member(JG_ERR_ALG_UNKNOWN, base, "alg", json_string("none"));
    expect_member(JG_ERR_ALG_UNKNOWN, base, "alg", json_string("HS1024"));
    expect_member(JG_ERR_ALG_UNKNOWN, base, "alg", json_string("hs256"));
    expect_member(JG_ERR_KEY_TYPE, base, "alg", json_string("RS256"));
    expect_member(JG_ERR_KEY_TYPE, base, "alg", json_string("ECDH-ES"));

    /* use, key_ops and alg must agree (RFC 7517 4.3). */
    json_t *sig = with(base, "use", json_string("sig"));
    expect_member(JG_ERR_KEY_INVALID, sig, "key_ops", tu_json_parse("[\"encrypt\"]"));
    expect_member(JG_ERR_KEY_INVALID, sig, "key_ops", tu_json_parse("[\"sign\",\"wrapKey\"]"));
    expect_member(JG_ERR_KEY_INVALID, sig, "alg", json_string("A128KW"));
    expect_member(JG_ERR_KEY_INVALID, sig, "alg", json_string("A256GCM"));
    expect_member(JG_OK, sig, "alg", json_string("HS512"));
    json_t *enc = with(base, "use", json_string("enc"));
    expect_member(JG_ERR_KEY_INVALID, enc, "key_ops", tu_json_parse("[\"verify\"]"));
    expect_member(JG_ERR_KEY_INVALID, enc, "alg", json_string("HS256"));
    expect_member(JG_OK, enc, "key_ops", tu_json_parse("[\"wrapKey\",\"unwrapKey\"]"));

    /* x5c, x5u, jku are ignored and never written back. */
    json_t *x5 = with(base, "x5c", tu_json_parse("[\"not a certificate\"]"));
    json_object_set_new(x5, "x5u", json_string("https://attacker.example/cert"));
    json_object_set_new(x5, "jku", json_integer(3));
    jg_jwk *key = tu_jwk_parse_ok(x5, 0);
    json_t *out = export_value(key, JG_EXPORT_PRIVATE);
    assert_json_equal(out, base);
    json_decref(out);
    jg_jwk_free(key);

    json_decref(x5);
    json_decref(sig);
    json_decref(enc);
    json_decref(base);
}

static void test_parse_oct(void **state)
{
    (void)state;
    json_t *base = tu_json_parse("{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODw\"}");
    expect_member(JG_ERR_KEY_INVALID, base, "k", NULL);
    expect_member(JG_ERR_KEY_INVALID, base, "k", json_string(""));
    expect_member(JG_ERR_KEY_INVALID, base, "k", json_integer(5));
    expect_member(JG_ERR_B64_PADDING, base, "k", json_string("AAECAw=="));
    expect_member(JG_ERR_B64_CHAR, base, "k", json_string("AAE+Aw"));
    expect_member(JG_ERR_B64_CHAR, base, "k", json_string("AAE Aw"));
    expect_member(JG_ERR_JSON_SYNTAX, base, "k", json_stringn("AA\0A", 4));
    expect_member(JG_ERR_B64_LENGTH, base, "k", json_string("AAECA"));
    expect_member(JG_ERR_B64_NONCANONICAL, base, "k", json_string("AB"));
    expect_member(JG_OK, base, "k", json_string("AQ")); /* one byte: allowed, not usable */
    expect_member(JG_ERR_KEY_WEAK, base, "k", json_string("AA")); /* all zero: no key */
    expect_member(JG_ERR_KEY_WEAK, base, "k", json_string("AAAAAAAAAAAAAAAAAAAAAA"));

    jg_jwk *key = tu_jwk_parse_ok(base, 0);
    assert_int_equal(jg_jwk_bits(key), 128);
    assert_true(jg_jwk_is_private(key));
    jg_jwk_free(key);
    json_decref(base);
}

/* A copy of `jwk` whose member `name` has its bytes changed by `edit`. */
static json_t *with_bytes(json_t *jwk, const char *name, void (*edit)(unsigned char *, size_t *))
{
    unsigned char bytes[1100];
    size_t n = member_bytes(jwk, name, bytes);
    edit(bytes, &n);
    return with(jwk, name, b64_value(bytes, n));
}

static void flip_last_bit(unsigned char *b, size_t *n)
{
    b[*n - 1] ^= 1;
}

static void drop_first(unsigned char *b, size_t *n)
{
    memmove(b, b + 1, --*n);
}

static void add_leading_zero(unsigned char *b, size_t *n)
{
    memmove(b + 1, b, *n);
    b[0] = 0;
    ++*n;
}

static void flip_bit_1(unsigned char *b, size_t *n)
{
    b[*n - 1] ^= 2;
}

static void all_ff(unsigned char *b, size_t *n)
{
    memset(b, 0xff, *n);
}

static void all_zero(unsigned char *b, size_t *n)
{
    memset(b, 0, *n);
}

static void make_even(unsigned char *b, size_t *n)
{
    b[*n - 1] &= 0xfe;
}

static void expect_edit(jg_err expected, json_t *jwk, const char *name,
                        void (*edit)(unsigned char *, size_t *))
{
    json_t *copy = with_bytes(jwk, name, edit);
    expect_parse(expected, copy, 0);
    json_decref(copy);
}

static void test_parse_ec(void **state)
{
    (void)state;
    json_t *priv = tu_load_vector("jose-cookbook/jwk/3_2.ec_private_key.json");
    json_t *rfc = tu_load_vector("rfc/rfc7515_appendix_a.json");
    json_t *p256 = json_object_get(json_object_get(rfc, "A.3"), "key");

    expect_member(JG_ERR_KEY_INVALID, priv, "crv", NULL);
    expect_member(JG_ERR_KEY_INVALID, priv, "crv", json_integer(521));
    expect_member(JG_ERR_KEY_CURVE, priv, "crv", json_string("P-192"));
    expect_member(JG_ERR_KEY_CURVE, priv, "crv", json_string("secp256k1"));
    expect_member(JG_ERR_KEY_CURVE, priv, "crv", json_string("Ed25519"));
    expect_member(JG_ERR_KEY_CURVE, priv, "crv", json_string("X25519"));
    expect_member(JG_ERR_KEY_INVALID, priv, "crv", json_string("P-384")); /* 66-byte coords */
    expect_member(JG_ERR_KEY_INVALID, priv, "x", NULL);
    expect_member(JG_ERR_KEY_INVALID, priv, "y", NULL);
    expect_member(JG_ERR_KEY_INVALID, priv, "x", json_integer(0));
    expect_member(JG_ERR_B64_CHAR, priv, "y", json_string("AdymlHvOiLx*"));
    /* Coordinates and scalar must be full length (RFC 7518 6.2.1.2). */
    expect_edit(JG_ERR_KEY_INVALID, priv, "x", drop_first);
    expect_edit(JG_ERR_KEY_INVALID, priv, "y", add_leading_zero);
    expect_edit(JG_ERR_KEY_INVALID, priv, "d", drop_first);
    expect_edit(JG_ERR_KEY_INVALID, p256, "x", drop_first);
    /* The point must be on the curve. */
    ERR_clear_error();
    expect_edit(JG_ERR_KEY_POINT, priv, "y", flip_last_bit);
    assert_int_equal(ERR_peek_error(), 0); /* nothing left in OpenSSL's queue */
    expect_edit(JG_ERR_KEY_POINT, p256, "x", flip_last_bit);
    expect_edit(JG_ERR_KEY_POINT, p256, "x", all_ff); /* x >= p */
    json_t *zero = with_bytes(p256, "x", all_zero);
    expect_edit(JG_ERR_KEY_POINT, zero, "y", all_zero); /* (0,0): not a point */
    json_decref(zero);
    /* The scalar must be in [1, n-1] and match the point. */
    expect_edit(JG_ERR_KEY_INVALID, p256, "d", all_zero);
    expect_edit(JG_ERR_KEY_INVALID, p256, "d", all_ff);
    {
        const jg__curve_info *info = jg__curve(JG_CRV_P256);
        json_t *at_n = with(p256, "d", b64_value(info->order, info->coord_len));
        expect_parse(JG_ERR_KEY_INVALID, at_n, 0);
        json_decref(at_n);
    }
    expect_edit(JG_ERR_KEY_MISMATCH, p256, "d", flip_last_bit);
    expect_edit(JG_ERR_KEY_MISMATCH, priv, "d", flip_last_bit);
    assert_int_equal(ERR_peek_error(), 0);
    expect_member(JG_ERR_KEY_INVALID, p256, "d", json_integer(1));
    expect_member(JG_ERR_KEY_INVALID, p256, "d", json_string(""));

    /* JG_JWK_PUBLIC_ONLY ignores the private member, even a bad one. */
    json_t *bad_d = with_bytes(p256, "d", flip_last_bit);
    jg_jwk *key = tu_jwk_parse_ok(bad_d, JG_JWK_PUBLIC_ONLY);
    assert_false(jg_jwk_is_private(key));
    jg_jwk_free(key);
    json_decref(bad_d);

    json_decref(rfc);
    json_decref(priv);
}

static void test_parse_okp(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc8037_appendix_a.json");
    json_t *priv = json_object_get(v, "private");
    json_t *x25519 = tu_load_vector("jose-cookbook/curve25519/ecdh-es.json");
    json_t *xkey = tu_json_at(x25519, "input/key");

    expect_member(JG_ERR_KEY_INVALID, priv, "crv", NULL);
    expect_member(JG_ERR_KEY_CURVE, priv, "crv", json_string("Ed25518"));
    expect_member(JG_ERR_KEY_CURVE, priv, "crv", json_string("P-256"));
    expect_member(JG_ERR_KEY_INVALID, priv, "crv", json_string("Ed448")); /* 32-byte x */
    expect_member(JG_ERR_KEY_INVALID, priv, "x", NULL);
    expect_edit(JG_ERR_KEY_INVALID, priv, "x", drop_first);
    expect_edit(JG_ERR_KEY_INVALID, priv, "x", add_leading_zero);
    expect_edit(JG_ERR_KEY_INVALID, priv, "d", drop_first);
    /* "d" must derive "x". */
    expect_edit(JG_ERR_KEY_MISMATCH, priv, "x", flip_last_bit);
    expect_edit(JG_ERR_KEY_MISMATCH, priv, "d", flip_last_bit);
    expect_edit(JG_ERR_KEY_MISMATCH, xkey, "d", flip_last_bit);
    expect_edit(JG_ERR_KEY_INVALID, xkey, "x", drop_first);
    /* Same key material under the other curve of its size: does not derive. */
    json_t *as_x = with(priv, "crv", json_string("X25519"));
    expect_parse(JG_ERR_KEY_MISMATCH, as_x, 0);
    json_decref(as_x);

    jg_jwk *key = tu_jwk_parse_ok(xkey, 0);
    assert_int_equal(jg_jwk_crv(key), JG_CRV_X25519);
    assert_jg_ok(jg_jwk_check(key, JG_ALG_ECDH_ES, JG_OP_DECRYPT));
    jg_jwk_free(key);
    json_decref(v);
    json_decref(x25519);
}

static void test_parse_rsa(void **state)
{
    (void)state;
    json_t *priv = tu_load_vector("jose-cookbook/jwk/3_4.rsa_private_key.json");
    json_t *rfc = tu_load_vector("rfc/rfc7515_appendix_a.json");
    json_t *other = tu_json_at(rfc, "A.2/key");

    expect_member(JG_ERR_KEY_INVALID, priv, "n", NULL);
    expect_member(JG_ERR_KEY_INVALID, priv, "e", NULL);
    expect_member(JG_ERR_KEY_INVALID, priv, "n", json_integer(3));
    expect_member(JG_ERR_B64_PADDING, priv, "e", json_string("AQAB=="));
    /* Base64urlUInt is minimal (RFC 7518 section 2). */
    expect_edit(JG_ERR_KEY_INVALID, priv, "n", add_leading_zero);
    expect_edit(JG_ERR_KEY_INVALID, priv, "e", add_leading_zero);
    expect_edit(JG_ERR_KEY_INVALID, priv, "d", add_leading_zero);
    expect_edit(JG_ERR_KEY_INVALID, priv, "qi", add_leading_zero);
    /* Exponent odd, > 1, at most 256 bits. */
    expect_member(JG_ERR_KEY_INVALID, priv, "e", json_string("AQAA")); /* 65536 */
    expect_member(JG_ERR_KEY_INVALID, priv, "e", json_string("AQ"));   /* 1 */
    {
        unsigned char big_e[33];
        memset(big_e, 0x01, sizeof big_e);
        expect_member(JG_ERR_KEY_INVALID, priv, "e", b64_value(big_e, sizeof big_e));
        expect_member(JG_ERR_KEY_MISMATCH, priv, "e", b64_value(big_e, 32));
    }
    expect_edit(JG_ERR_KEY_INVALID, priv, "n", make_even);
    /* n larger than 16384 bits. */
    {
        unsigned char n[2049];
        memset(n, 0xab, sizeof n);
        expect_member(JG_ERR_KEY_INVALID, priv, "n", b64_value(n, sizeof n));
    }
    /* CRT parameters: all or none, and never without "d". */
    expect_member(JG_ERR_KEY_INVALID, priv, "qi", NULL);
    expect_member(JG_ERR_KEY_INVALID, priv, "p", NULL);
    expect_member(JG_ERR_KEY_INVALID, priv, "d", NULL);
    /* Multi-prime keys are not supported. */
    expect_member(JG_ERR_UNSUPPORTED, priv, "oth", tu_json_parse("[{\"r\":\"AQ\",\"d\":\"AQ\"}]"));
    /* The private part must belong to the public part. */
    expect_edit(JG_ERR_KEY_MISMATCH, priv, "d", flip_last_bit);
    expect_edit(JG_ERR_KEY_MISMATCH, priv, "p", flip_last_bit);
    expect_edit(JG_ERR_KEY_MISMATCH, priv, "dq", flip_last_bit);
    expect_edit(JG_ERR_KEY_MISMATCH, priv, "qi", flip_last_bit);
    expect_member(JG_ERR_KEY_MISMATCH, priv, "d", json_incref(json_object_get(other, "d")));
    expect_member(JG_ERR_KEY_MISMATCH, priv, "q", json_incref(json_object_get(priv, "p")));
    expect_edit(JG_ERR_KEY_INVALID, priv, "d", all_ff); /* d >= n */

    /* n, e, d only (RFC 7518 6.3.2: the CRT members may all be absent): the
     * factors are recovered, so the key exports whole. */
    static const char *const crt[] = {"p", "q", "dp", "dq", "qi"};
    json_t *fulls[2] = {priv, other};
    for (int k = 0; k < 2; k++) {
        json_t *short_form = json_deep_copy(fulls[k]);
        for (int i = 0; i < 5; i++)
            json_object_del(short_form, crt[i]);
        jg_jwk *key = tu_jwk_parse_ok(short_form, 0);
        assert_true(jg_jwk_is_private(key));
        assert_jg_ok(jg_jwk_check(key, JG_ALG_RS256, JG_OP_SIGN));
        json_t *out = export_value(key, JG_EXPORT_PRIVATE);
        assert_json_equal(out, fulls[k]);
        json_decref(out);
        jg_jwk_free(key);
        /* A wrong d: even (d*e - 1 odd), or odd but not the inverse of e. */
        expect_edit(JG_ERR_KEY_MISMATCH, short_form, "d", flip_last_bit);
        expect_edit(JG_ERR_KEY_MISMATCH, short_form, "d", flip_bit_1);
        expect_edit(JG_ERR_KEY_INVALID, short_form, "d", all_ff); /* d >= n */
        expect_edit(JG_ERR_KEY_INVALID, short_form, "d", all_zero);
        json_t *one = with(short_form, "d", json_string("AQ"));
        expect_parse(JG_ERR_KEY_MISMATCH, one, 0);
        json_decref(one);
        json_decref(short_form);
        tu_count("rsa-crt-recovered");
    }

    /* A public key with "p" but no "d" is malformed; PUBLIC_ONLY ignores both. */
    json_t *no_d = with(priv, "d", NULL);
    jg_jwk *pub_only = tu_jwk_parse_ok(no_d, JG_JWK_PUBLIC_ONLY);
    assert_false(jg_jwk_is_private(pub_only));
    jg_jwk_free(pub_only);
    json_decref(no_d);

    json_decref(rfc);
    json_decref(priv);
}

/* An RSA EVP_PKEY with n, e, d only, as no importer of ours makes one: the
 * adoption check without CRT parameters, and PEM export's refusal. */
static EVP_PKEY *rsa_ned(json_t *jwk, int corrupt_d)
{
    static const char *const names[3] = {"n", "e", "d"};
    static const char *const params[3] = {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
                                          OSSL_PKEY_PARAM_RSA_D};
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn[3];
    for (int i = 0; i < 3; i++) {
        unsigned char bytes[1024];
        size_t n = member_bytes(jwk, names[i], bytes);
        if (i == 2 && corrupt_d)
            bytes[n - 1] ^= 2;
        bn[i] = BN_bin2bn(bytes, (int)n, NULL);
        assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i]), 1);
    }
    OSSL_PARAM *p = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, p), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(bld);
    for (int i = 0; i < 3; i++)
        BN_clear_free(bn[i]);
    return pkey;
}

static void test_rsa_without_crt(void **state)
{
    (void)state;
    json_t *jwk = tu_load_vector("jose-cookbook/jwk/3_4.rsa_private_key.json");
    jg_jwk *key = jg__jwk_alloc();
    assert_jg(JG_ERR_KEY_MISMATCH, jg__jwk_adopt_pkey(key, rsa_ned(jwk, 1), 0));
    assert_jg_ok(jg__jwk_adopt_pkey(key, rsa_ned(jwk, 0), 0));
    assert_true(key->is_private);
    assert_jg_ok(jg__jwk_finish(key, 0));
    assert_jg_ok(jg_jwk_check(key, JG_ALG_RS256, JG_OP_SIGN));
    /* Without p and q there is no RSAPrivateKey to write. */
    char *pem = NULL;
    assert_jg(JG_ERR_CRYPTO, jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &pem, NULL));
    assert_null(pem);
    assert_jg_ok(jg_jwk_to_pem(key, 0, &pem, NULL));
    jg_free(pem);
    json_t *out = export_value(key, JG_EXPORT_PRIVATE);
    assert_non_null(json_object_get(out, "d"));
    assert_null(json_object_get(out, "p"));
    json_decref(out);
    jg_jwk_free(key);
    json_decref(jwk);
}

/* A 1024-bit RSA key (refused by default, accepted with the flag). */
static void test_parse_weak_rsa(void **state)
{
    (void)state;
    EVP_PKEY *pkey = EVP_RSA_gen(1024);
    assert_non_null(pkey);
    jg_jwk *key = jg__jwk_alloc();
    key->kty = JG_KTY_RSA;
    key->pkey = pkey;
    assert_jg_ok(jg__jwk_finish(key, JG_JWK_ALLOW_WEAK_RSA));
    key->is_private = 1;
    char *text = NULL;
    assert_jg_ok(jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &text, NULL));
    jg_jwk_free(key);

    assert_jg(JG_ERR_KEY_WEAK, parse_text(text, 0, &key));
    assert_jg(JG_ERR_KEY_WEAK, parse_text(text, JG_JWK_PUBLIC_ONLY, &key));
    assert_jg_ok(parse_text(text, JG_JWK_ALLOW_WEAK_RSA, &key));
    assert_int_equal(jg_jwk_bits(key), 1024);
    assert_true(jg_jwk_is_private(key));
    /* Its public half and re-labelled copies stay usable. */
    jg_jwk *pub = NULL, *relabelled = NULL;
    assert_jg_ok(jg_jwk_public(key, &pub));
    jg_jwk_meta meta = {.kid = "weak", .alg = JG_ALG_RS256};
    assert_jg_ok(jg_jwk_with_meta(key, &meta, &relabelled));
    jg_jwk_free(relabelled);
    jg_jwk_free(pub);
    jg_jwk_free(key);
    jg_free_secret(text, 0);
}

/* ---- Export --------------------------------------------------------------------- */

static void test_export(void **state)
{
    (void)state;
    json_t *jwk = tu_load_vector("jose-cookbook/jwk/3_2.ec_private_key.json");
    jg_jwk *key = tu_jwk_parse_ok(jwk, 0);
    char *text = NULL;
    size_t len = 0;

    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_to_json(NULL, 0, &text, &len));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_to_json(key, 0, NULL, &len));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_to_json(key, 1u << 5, &text, &len));

    /* Sorted members, compact; pretty is indented and holds the same. */
    assert_jg_ok(jg_jwk_to_json(key, 0, &text, NULL));
    assert_true(strncmp(text, "{\"crv\":\"P-521\",\"kid\":", 21) == 0);
    assert_null(strchr(text, ' '));
    assert_null(strstr(text, "\"d\""));
    jg_free(text);
    assert_jg_ok(jg_jwk_to_json(key, JG_EXPORT_PRIVATE | JG_EXPORT_PRETTY, &text, &len));
    assert_non_null(strchr(text, '\n'));
    json_t *back = tu_json_parse(text);
    assert_json_equal(back, jwk);
    json_decref(back);
    jg_free_secret(text, len);

    /* key_ops in registry order; alg and use written. */
    json_t *meta = with(jwk, "key_ops", tu_json_parse("[\"verify\",\"sign\"]"));
    json_object_set_new(meta, "alg", json_string("ES512"));
    jg_jwk *k2 = tu_jwk_parse_ok(meta, 0);
    assert_int_equal(jg_jwk_key_ops(k2), JG_OP_SIGN | JG_OP_VERIFY);
    assert_jg_ok(jg_jwk_to_json(k2, 0, &text, NULL));
    assert_non_null(strstr(text, "\"key_ops\":[\"sign\",\"verify\"]"));
    assert_non_null(strstr(text, "\"alg\":\"ES512\""));
    jg_free(text);

    /* The public half: key_ops become the public operations. */
    jg_jwk *pub = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_public(NULL, &pub));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_public(k2, NULL));
    assert_jg_ok(jg_jwk_public(k2, &pub));
    assert_int_equal(jg_jwk_key_ops(pub), JG_OP_VERIFY);
    assert_int_equal(jg_jwk_alg(pub), JG_ALG_ES512);
    assert_int_equal(jg_jwk_use(pub), JG_USE_SIG);
    assert_string_equal(jg_jwk_kid(pub), "bilbo.baggins@hobbiton.example");
    assert_jg(JG_ERR_KEY_OPS, jg_jwk_check(pub, JG_ALG_ES512, JG_OP_SIGN));
    assert_jg_ok(jg_jwk_check(pub, JG_ALG_ES512, JG_OP_VERIFY));
    /* ... and the public half of a public key is itself. */
    jg_jwk *pub2 = NULL;
    assert_jg_ok(jg_jwk_public(pub, &pub2));
    assert_int_equal(jg_jwk_key_ops(pub2), JG_OP_VERIFY);
    jg_jwk_free(pub2);
    jg_jwk_free(pub);
    jg_jwk_free(k2);
    json_decref(meta);

    /* decrypt -> encrypt, unwrapKey -> wrapKey, derive* kept. */
    static const struct {
        const char *ops;
        unsigned want;
    } map[] = {
        {"[\"decrypt\"]", JG_OP_ENCRYPT},
        {"[\"unwrapKey\",\"wrapKey\"]", JG_OP_WRAP_KEY},
        {"[\"deriveKey\",\"deriveBits\"]", JG_OP_DERIVE_KEY | JG_OP_DERIVE_BITS},
        {"[\"sign\",\"decrypt\"]", JG_OP_VERIFY | JG_OP_ENCRYPT},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        json_t *m = with(jwk, "key_ops", tu_json_parse(map[i].ops));
        json_object_del(m, "use");
        jg_jwk *k = tu_jwk_parse_ok(m, 0);
        assert_jg_ok(jg_jwk_public(k, &pub));
        assert_int_equal(jg_jwk_key_ops(pub), map[i].want);
        jg_jwk_free(pub);
        jg_jwk_free(k);
        json_decref(m);
    }

    /* Thumbprint arguments. */
    unsigned char raw[32];
    char b64[44];
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_thumbprint(NULL, raw));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_thumbprint(key, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_thumbprint_b64(NULL, b64));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_thumbprint_b64(key, NULL));
    assert_jg_ok(jg_jwk_thumbprint_b64(key, b64));
    assert_int_equal(strlen(b64), 43);

    jg_jwk_free(key);
    json_decref(jwk);
}

/* ---- Construction without JSON ---------------------------------------------------- */

static void test_secret_and_meta(void **state)
{
    (void)state;
    unsigned char secret[32];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (unsigned char)i;
    jg_jwk *key = NULL, *copy = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_secret(NULL, 32, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_secret(secret, 0, NULL, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_secret(secret, 32, NULL, NULL));
    jg_jwk_meta bad = {.use = JG_USE_SIG, .key_ops = JG_OP_ENCRYPT};
    assert_jg(JG_ERR_KEY_INVALID, jg_jwk_from_secret(secret, 32, &bad, &key));
    jg_jwk_meta meta = {.kid = "s1", .alg = JG_ALG_HS256, .use = JG_USE_SIG};
    assert_jg_ok(jg_jwk_from_secret(secret, 32, &meta, &key));
    assert_string_equal(jg_jwk_kid(key), "s1");
    assert_int_equal(jg_jwk_bits(key), 256);

    jg_jwk_meta wrong = {.alg = JG_ALG_RS256};
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_with_meta(key, &wrong, &copy));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_with_meta(NULL, &meta, &copy));
    jg_jwk_meta unknown = {.alg = (jg_alg)200};
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_with_meta(key, &unknown, &copy));
    jg_jwk_meta enc = {.kid = "s2", .alg = JG_ALG_A256KW, .use = JG_USE_ENC};
    assert_jg_ok(jg_jwk_with_meta(key, &enc, &copy));
    assert_string_equal(jg_jwk_kid(copy), "s2");
    assert_string_equal(jg_jwk_kid(key), "s1");
    assert_jg_ok(jg_jwk_check(copy, JG_ALG_A256KW, JG_OP_ENCRYPT));
    jg_jwk_free(copy);

    /* The secret exports and thumbprints like the equivalent JWK. */
    json_t *out = export_value(key, JG_EXPORT_PRIVATE);
    char want[44], got[44];
    tu_jwk_oracle_thumbprint(out, want);
    assert_jg_ok(jg_jwk_thumbprint_b64(key, got));
    assert_string_equal(got, want);
    json_decref(out);
    jg_jwk_free(key);

    /* Accessors on NULL and names. */
    assert_int_equal(jg_jwk_kty(NULL), JG_KTY_UNKNOWN);
    assert_int_equal(jg_jwk_crv(NULL), JG_CRV_NONE);
    assert_null(jg_jwk_kid(NULL));
    assert_int_equal(jg_jwk_alg(NULL), JG_ALG_UNKNOWN);
    assert_int_equal(jg_jwk_enc(NULL), JG_ENC_UNKNOWN);
    assert_int_equal(jg_jwk_use(NULL), JG_USE_ANY);
    assert_int_equal(jg_jwk_key_ops(NULL), 0);
    assert_int_equal(jg_jwk_is_private(NULL), 0);
    assert_int_equal(jg_jwk_bits(NULL), 0);
    assert_null(jg_jwk_ref(NULL));
    jg_jwk_free(NULL);
    assert_null(jg_kty_name(JG_KTY_UNKNOWN));
    assert_string_equal(jg_kty_name(JG_KTY_OKP), "OKP");
    assert_null(jg_crv_name(JG_CRV_NONE));
    for (int c = JG_CRV_P256; c <= JG_CRV_X448; c++)
        assert_int_equal(jg_crv_from_name(jg_crv_name((jg_crv)c)), c);
    assert_int_equal(jg_crv_from_name("p-256"), JG_CRV_NONE);
    assert_int_equal(jg_crv_from_name(NULL), JG_CRV_NONE);
}

/* ---- jg_jwk_check: every branch ------------------------------------------------------ */

static jg_jwk *key_from(const char *text)
{
    jg_jwk *key = NULL;
    assert_jg_ok(parse_text(text, 0, &key));
    return key;
}

#define OCT16 "\"k\":\"AAECAwQFBgcICQoLDA0ODw\""
#define OCT32 "\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\""

static void test_check(void **state)
{
    (void)state;
    json_t *rfc = tu_load_vector("rfc/rfc7515_appendix_a.json");
    jg_jwk *ec = tu_jwk_parse_ok(json_object_get(json_object_get(rfc, "A.3"), "key"), 0);
    jg_jwk *rsa = tu_jwk_parse_ok(json_object_get(json_object_get(rfc, "A.2"), "key"), 0);
    jg_jwk *rsa_pub = NULL;
    assert_jg_ok(jg_jwk_public(rsa, &rsa_pub));
    json_t *ed = tu_load_vector("rfc/rfc8037_appendix_a.json");
    jg_jwk *ed25519 = tu_jwk_parse_ok(json_object_get(ed, "private"), 0);
    jg_jwk *oct16 = key_from("{\"kty\":\"oct\"," OCT16 "}");
    jg_jwk *oct32 = key_from("{\"kty\":\"oct\"," OCT32 "}");

    /* Arguments. */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_check(NULL, JG_ALG_ES256, JG_OP_SIGN));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_check(ec, JG_ALG_ES256, 0));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_check(ec, JG_ALG_ES256, JG_OP_SIGN | JG_OP_VERIFY));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_check(ec, JG_ALG_ES256, JG_OP_WRAP_KEY));
    /* Algorithm. */
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_check(ec, JG_ALG_UNKNOWN, JG_OP_SIGN));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_check(ec, JG_ALG__COUNT, JG_OP_SIGN));
    assert_jg(JG_ERR_ALG_KIND, jg_jwk_check(ec, JG_ALG_ES256, JG_OP_ENCRYPT));
    assert_jg(JG_ERR_ALG_KIND, jg_jwk_check(rsa, JG_ALG_RSA_OAEP, JG_OP_SIGN));
    /* Type and curve. */
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_check(ec, JG_ALG_RS256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_check(rsa, JG_ALG_HS256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_check(oct32, JG_ALG_ECDH_ES, JG_OP_ENCRYPT));
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_check(oct32, JG_ALG_EDDSA, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_check(rsa, JG_ALG_ED25519, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_check(rsa, JG_ALG_ED448, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_check(ec, JG_ALG_ES384, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_check(ec, JG_ALG_ES512, JG_OP_VERIFY));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_check(ed25519, JG_ALG_ED448, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_check(ed25519, JG_ALG_ECDH_ES, JG_OP_ENCRYPT));
    assert_jg_ok(jg_jwk_check(ec, JG_ALG_ECDH_ES_A128KW, JG_OP_DECRYPT));
    assert_jg_ok(jg_jwk_check(rsa, JG_ALG_PS512, JG_OP_SIGN));
    /* Sizes. */
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_check(oct16, JG_ALG_HS256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_check(oct32, JG_ALG_HS384, JG_OP_VERIFY));
    assert_jg_ok(jg_jwk_check(oct32, JG_ALG_HS256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_SIZE, jg_jwk_check(oct32, JG_ALG_A128KW, JG_OP_ENCRYPT));
    assert_jg(JG_ERR_KEY_SIZE, jg_jwk_check(oct16, JG_ALG_A256GCMKW, JG_OP_DECRYPT));
    assert_jg_ok(jg_jwk_check(oct16, JG_ALG_A128KW, JG_OP_DECRYPT));
    assert_jg_ok(jg_jwk_check(oct16, JG_ALG_PBES2_HS256_A128KW, JG_OP_DECRYPT));
    /* Private part. */
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_jwk_check(rsa_pub, JG_ALG_RS256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_jwk_check(rsa_pub, JG_ALG_RSA_OAEP, JG_OP_DECRYPT));
    assert_jg_ok(jg_jwk_check(rsa_pub, JG_ALG_RSA_OAEP_256, JG_OP_ENCRYPT));
    assert_jg_ok(jg_jwk_check(rsa_pub, JG_ALG_RS256, JG_OP_VERIFY));

    /* Declared "alg". */
    jg_jwk *hs = key_from("{\"kty\":\"oct\",\"alg\":\"HS256\"," OCT32 "}");
    assert_jg_ok(jg_jwk_check(hs, JG_ALG_HS256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_ALG, jg_jwk_check(hs, JG_ALG_A256KW, JG_OP_ENCRYPT));
    jg_jwk_free(hs);
    jg_jwk_meta m = {.alg = JG_ALG_RS256};
    jg_jwk *rs = NULL;
    assert_jg_ok(jg_jwk_with_meta(rsa, &m, &rs));
    assert_jg(JG_ERR_KEY_ALG, jg_jwk_check(rs, JG_ALG_PS256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_ALG, jg_jwk_check(rs, JG_ALG_RSA_OAEP, JG_OP_ENCRYPT));
    jg_jwk_free(rs);
    /* "EdDSA" and "Ed25519" are interchangeable on an Ed25519 key. */
    jg_jwk *eddsa = NULL, *fully = NULL;
    jg_jwk_meta me = {.alg = JG_ALG_EDDSA}, mf = {.alg = JG_ALG_ED25519};
    assert_jg_ok(jg_jwk_with_meta(ed25519, &me, &eddsa));
    assert_jg_ok(jg_jwk_with_meta(ed25519, &mf, &fully));
    assert_jg_ok(jg_jwk_check(eddsa, JG_ALG_ED25519, JG_OP_SIGN));
    assert_jg_ok(jg_jwk_check(fully, JG_ALG_EDDSA, JG_OP_VERIFY));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_check(fully, JG_ALG_ED448, JG_OP_VERIFY));
    jg_jwk_meta m448 = {.alg = JG_ALG_ED448};
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_with_meta(ed25519, &m448, &rs));
    jg_jwk_free(eddsa);
    jg_jwk_free(fully);

    /* "use". */
    jg_jwk *enc_rsa = NULL, *sig_rsa = NULL;
    jg_jwk_meta use_enc = {.use = JG_USE_ENC}, use_sig = {.use = JG_USE_SIG};
    assert_jg_ok(jg_jwk_with_meta(rsa, &use_enc, &enc_rsa));
    assert_jg_ok(jg_jwk_with_meta(rsa, &use_sig, &sig_rsa));
    assert_jg(JG_ERR_KEY_USE, jg_jwk_check(enc_rsa, JG_ALG_RS256, JG_OP_VERIFY));
    assert_jg_ok(jg_jwk_check(enc_rsa, JG_ALG_RSA_OAEP, JG_OP_DECRYPT));
    assert_jg(JG_ERR_KEY_USE, jg_jwk_check(sig_rsa, JG_ALG_RSA_OAEP, JG_OP_ENCRYPT));
    assert_jg_ok(jg_jwk_check(sig_rsa, JG_ALG_RS256, JG_OP_SIGN));
    jg_jwk_free(enc_rsa);
    jg_jwk_free(sig_rsa);

    /* "key_ops". */
    static const struct {
        const char *ops;
        jg_alg alg;
        unsigned op;
        jg_err want;
    } ops[] = {
        {"[\"verify\"]", JG_ALG_HS256, JG_OP_SIGN, JG_ERR_KEY_OPS},
        {"[\"verify\"]", JG_ALG_HS256, JG_OP_VERIFY, JG_OK},
        {"[\"sign\"]", JG_ALG_HS256, JG_OP_SIGN, JG_OK},
        {"[\"encrypt\"]", JG_ALG_DIR, JG_OP_ENCRYPT, JG_OK},
        {"[\"encrypt\"]", JG_ALG_DIR, JG_OP_DECRYPT, JG_ERR_KEY_OPS},
        {"[\"decrypt\"]", JG_ALG_DIR, JG_OP_DECRYPT, JG_OK},
        {"[\"wrapKey\"]", JG_ALG_A256KW, JG_OP_ENCRYPT, JG_OK},
        {"[\"wrapKey\"]", JG_ALG_A256KW, JG_OP_DECRYPT, JG_ERR_KEY_OPS},
        {"[\"unwrapKey\"]", JG_ALG_A256GCMKW, JG_OP_DECRYPT, JG_OK},
        {"[\"encrypt\"]", JG_ALG_A256KW, JG_OP_ENCRYPT, JG_OK},
        {"[\"decrypt\"]", JG_ALG_PBES2_HS256_A128KW, JG_OP_DECRYPT, JG_OK},
        {"[\"sign\"]", JG_ALG_A256KW, JG_OP_ENCRYPT, JG_ERR_KEY_OPS},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"kty\":\"oct\",\"key_ops\":%s," OCT32 "}", ops[i].ops);
        jg_jwk *k = key_from(text);
        assert_jg(ops[i].want, jg_jwk_check(k, ops[i].alg, ops[i].op));
        jg_jwk_free(k);
    }
    jg_jwk *derive = NULL, *wrap = NULL;
    jg_jwk_meta md = {.key_ops = JG_OP_DERIVE_BITS}, mw = {.key_ops = JG_OP_WRAP_KEY};
    assert_jg_ok(jg_jwk_with_meta(ec, &md, &derive));
    assert_jg_ok(jg_jwk_with_meta(ec, &mw, &wrap));
    assert_jg_ok(jg_jwk_check(derive, JG_ALG_ECDH_ES, JG_OP_DECRYPT));
    assert_jg_ok(jg_jwk_check(derive, JG_ALG_ECDH_ES_A256KW, JG_OP_ENCRYPT));
    assert_jg(JG_ERR_KEY_OPS, jg_jwk_check(wrap, JG_ALG_ECDH_ES, JG_OP_ENCRYPT));
    assert_jg(JG_ERR_KEY_OPS, jg_jwk_check(derive, JG_ALG_ES256, JG_OP_SIGN));
    jg_jwk_free(derive);
    jg_jwk_free(wrap);

    jg_jwk_free(ec);
    jg_jwk_free(rsa);
    jg_jwk_free(rsa_pub);
    jg_jwk_free(ed25519);
    jg_jwk_free(oct16);
    jg_jwk_free(oct32);
    json_decref(ed);
    json_decref(rfc);
}

static int report(void **state)
{
    (void)state;
    tu_report("test_jwk");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookbook_jwk_files), cmocka_unit_test(test_cookbook_embedded_keys),
        cmocka_unit_test(test_rfc7638_thumbprint), cmocka_unit_test(test_rfc8037_ed25519),
        cmocka_unit_test(test_rfc7515_keys),       cmocka_unit_test(test_parse_arguments_and_json),
        cmocka_unit_test(test_parse_members),      cmocka_unit_test(test_parse_oct),
        cmocka_unit_test(test_parse_ec),           cmocka_unit_test(test_parse_okp),
        cmocka_unit_test(test_parse_rsa),          cmocka_unit_test(test_rsa_without_crt),
        cmocka_unit_test(test_parse_weak_rsa),     cmocka_unit_test(test_export),
        cmocka_unit_test(test_secret_and_meta),    cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
