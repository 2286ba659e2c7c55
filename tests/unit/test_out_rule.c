/*
 * test_out_rule.c — the rule of jwtgate/common.h: after any failure, every
 * pointer out-parameter is NULL and its length 0, whatever the caller had
 * stored there. Each call below fails (a refused input or argument) with
 * *out preset to a non-NULL sentinel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A pointer no function would ever return. */
static char sentinel_byte;
#define SENTINEL ((void *)&sentinel_byte)

#define EXPECT_RESET(call, out)                                                                    \
    do {                                                                                           \
        (out) = SENTINEL;                                                                          \
        jg_err err_ = (call);                                                                      \
        if (err_ == JG_OK)                                                                         \
            fail_msg("%s succeeded", #call);                                                       \
        if ((void *)(out) != NULL)                                                                 \
            fail_msg("%s: *out not NULL after %s", #call, jg_err_name(err_));                      \
    } while (0)

#define EXPECT_RESET_LEN(call, out, len)                                                           \
    do {                                                                                           \
        (len) = 77;                                                                                \
        EXPECT_RESET(call, out);                                                                   \
        if ((len) != 0)                                                                            \
            fail_msg("%s: *out_len not 0", #call);                                                 \
    } while (0)

static jg_jwk *hs; /* HS256 oct key with kid */
static jg_jwk *ec; /* ES256 private key */
static jg_jwks *set;

static int setup(void **state)
{
    (void)state;
    if (jg_jwk_generate_for_alg(JG_ALG_HS256, JG_CRV_NONE, 0, "hs", &hs) != JG_OK ||
        jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_NONE, 0, "ec", &ec) != JG_OK ||
        jg_jwks_new(&set) != JG_OK || jg_jwks_add(set, hs) != JG_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jg_jwks_free(set);
    jg_jwk_free(hs);
    jg_jwk_free(ec);
    return 0;
}

/* Keys and sets: import, derive, generate, export. */
static void test_keys(void **state)
{
    (void)state;
    jg_jwk *key;
    jg_jwks *ks;
    char *text;
    size_t len;
    EXPECT_RESET(jg_jwk_parse("{\"kty\":\"oct\"}", 13, 0, &key), key);
    EXPECT_RESET(jg_jwk_parse("[]", 2, 0, &key), key);
    EXPECT_RESET(jg_jwk_from_pem("-----BEGIN PUBLIC KEY-----\n", 27, NULL, 0, &key), key);
    EXPECT_RESET(jg_jwk_from_pem(NULL, 0, NULL, 0, &key), key);
    EXPECT_RESET(jg_jwk_from_der((const unsigned char *)"\x30\x00", 2, NULL, 0, &key), key);
    static const unsigned char zeros[32] = {0};
    EXPECT_RESET(jg_jwk_from_secret(zeros, sizeof zeros, NULL, &key), key); /* all-zero: weak */
    jg_jwk_meta bad = {"k", JG_ALG_HS256, (jg_use)9, 0};
    EXPECT_RESET(jg_jwk_with_meta(hs, &bad, &key), key);
    EXPECT_RESET(jg_jwk_public(hs, &key), key); /* an oct key has no public half */
    EXPECT_RESET(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 512, NULL, &key), key);
    EXPECT_RESET(jg_jwk_generate_for_alg(JG_ALG_UNKNOWN, JG_CRV_NONE, 0, NULL, &key), key);
    EXPECT_RESET(jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_P384, 0, NULL, &key), key);
    EXPECT_RESET_LEN(jg_jwk_to_json(hs, 0, &text, &len), text, len); /* oct without PRIVATE */
    EXPECT_RESET_LEN(jg_jwk_to_pem(hs, 0, &text, &len), text, len);
    EXPECT_RESET(jg_jwks_parse("{\"keys\":7}", 10, 0, NULL, &ks), ks);
    EXPECT_RESET(jg_jwks_parse_any("nonsense", 8, 0, NULL, &ks), ks);
    EXPECT_RESET(jg_jwks_parse_any("-----BEGIN CERTIFICATE-----\n", 28, 0, NULL, &ks), ks);
    EXPECT_RESET(jg_jwks_load_file("/nonexistent/key.pem", 0, NULL, &ks), ks);
    EXPECT_RESET(jg_jwks_load_file("/", 0, NULL, &ks), ks);
    EXPECT_RESET_LEN(jg_jwks_to_json(set, 0xFFFFu, &text, &len), text, len);
}

/* Signing and verification. */
static void test_jws_and_jwt(void **state)
{
    (void)state;
    char *text;
    size_t len;
    jg_jws *jws;
    jg_jws_signer bad_alg = {hs, JG_ALG_ES256, NULL, NULL};
    EXPECT_RESET_LEN(jg_jws_sign("x", 1, &bad_alg, NULL, &text, &len), text, len);
    jg_jws_signer two[2] = {{hs, JG_ALG_HS256, NULL, NULL}, {hs, JG_ALG_HS256, NULL, NULL}};
    EXPECT_RESET_LEN(jg_jws_sign_multi("x", 1, two, 2, NULL, &text, &len), text, len);

    jg_jws_verify_opts vo = {0};
    vo.algs = JG_ALGS_HMAC;
    EXPECT_RESET(jg_jws_verify("a.b.c", 5, set, &vo, &jws), jws);
    vo.algs = 0; /* invalid argument */
    EXPECT_RESET(jg_jws_verify("a.b.c", 5, set, &vo, &jws), jws);

    /* Accessors of a real result. */
    jg_jws_signer ok = {hs, JG_ALG_HS256, NULL, NULL};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("x", 1, &ok, NULL, &tok, NULL));
    vo.algs = JG_ALGS_HMAC;
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), set, &vo, &jws));
    const char *s;
    EXPECT_RESET(jg_jws_header_string(jws, "absent", &s), s);
    EXPECT_RESET(jg_jws_protected_json(NULL, &text), text);
    jg_jws_free(jws);
    jg_free(tok);

    jg_claims *claims;
    EXPECT_RESET(jg_claims_parse("[1]", 3, NULL, &claims), claims);
    EXPECT_RESET(jg_claims_parse("{\"exp\":\"soon\"}", 14, NULL, &claims), claims);
    assert_jg_ok(jg_claims_parse("{\"n\":7}", 7, NULL, &claims));
    EXPECT_RESET(jg_claims_get_string(claims, "n", &s), s); /* not a string */
    EXPECT_RESET(jg_claims_get_json(claims, "absent", &text), text);
    EXPECT_RESET(jg_claims_to_json(claims, 0xFFFFu, &text), text);
    jg_jwt_sign_opts wrong = {.alg = JG_ALG_HS256}; /* an EC key */
    EXPECT_RESET_LEN(jg_jwt_sign(claims, ec, &wrong, &text, &len), text, len);
    jg_jwt_policy policy = {0};
    policy.algs = JG_ALGS_HMAC;
    jg_claims *verified;
    EXPECT_RESET(jg_jwt_verify("a.b.c", 5, set, &policy, &verified), verified);
    EXPECT_RESET(jg_jwt_verify(NULL, 0, set, &policy, &verified), verified);
    jg_claims_free(claims);
}

/* Encryption, decryption, nested tokens, base64url. */
static void test_jwe_and_tokens(void **state)
{
    (void)state;
    char *text;
    size_t len;
    jg_jwe *jwe;
    jg_jwe_recipient r = {hs, JG_ALG_HS256, NULL}; /* a JWS alg for a JWE */
    EXPECT_RESET_LEN(jg_jwe_encrypt("x", 1, &r, 1, NULL, &text, &len), text, len);
    jg_jwe_decrypt_opts dopts = {0};
    dopts.algs = JG_ALG_BIT(JG_ALG_DIR);
    dopts.encs = JG_ENC_BIT(JG_ENC_A256GCM);
    EXPECT_RESET(jg_jwe_decrypt("a.b.c.d.e", 9, set, &dopts, &jwe), jwe);

    jg_claims *claims;
    jg_open_policy op = {0};
    EXPECT_RESET(jg_access_token_open("a.b.c", 5, set, set, &op, &claims), claims);
    EXPECT_RESET_LEN(jg_access_token_seal(NULL, hs, hs, NULL, &text, &len), text, len);

    unsigned char *bytes;
    EXPECT_RESET_LEN(jg_b64url_decode_alloc("a*", 2, &bytes, &len), bytes, len);
    EXPECT_RESET_LEN(jg_b64url_encode_alloc(NULL, 5, &text, &len), text, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_jws_and_jwt),
        cmocka_unit_test(test_jwe_and_tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
