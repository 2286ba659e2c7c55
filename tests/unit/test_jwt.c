/* test_jwt.c — signed JWTs: jg_jwt_sign / jg_jwt_verify, RFC 7519 section 3.1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* RFC 7515 appendix A.1: the HMAC key of the RFC 7519 section 3.1 example. */
static const char rfc7515_a1_key[] = "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-"
                                     "EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcg"
                                     "UuTwjAzZr1Z9CAow\"}";
/* RFC 7519 section 3.1 (its JWS is the RFC 7515 A.1 example). */
static const char rfc7519_token[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                                    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leG"
                                    "FtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
                                    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static int64_t g_now = 1700000000;

static jg_jwt_policy policy_for(jg_alg_set algs)
{
    jg_jwt_policy p = {0};
    p.algs = algs;
    p.clock = tu_clock;
    p.clock_ctx = &g_now;
    return p;
}

static jg_jwk *key_from_json(const char *json)
{
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_parse(json, strlen(json), 0, &key));
    return key;
}

/* A key at `path` inside a JSON vector file (e.g. "A.3/key"). */
static jg_jwk *key_in_vector(const char *relative, const char *path)
{
    json_t *root = tu_load_vector(relative);
    json_t *member = tu_json_at(root, path);
    assert_non_null(member);
    char *text = tu_json_text(member);
    jg_jwk *key = key_from_json(text);
    free(text);
    json_decref(root);
    return key;
}

static jg_jwk *key_from_vector(const char *relative)
{
    size_t len = 0;
    char *text = tu_read_file(tu_vector_path(relative), &len);
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_parse(text, len, 0, &key));
    free(text);
    return key;
}

/* A set holding `key` (a reference is taken). */
static jg_jwks *set_of(jg_jwk *key)
{
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    assert_jg_ok(jg_jwks_add(set, key));
    return set;
}

/* A set holding only the public part of `key` (or the key itself for oct). */
static jg_jwks *verify_set(const jg_jwk *key)
{
    if (jg_jwk_kty(key) == JG_KTY_OCT)
        return set_of((jg_jwk *)(uintptr_t)key);
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(key, &pub));
    assert_false(jg_jwk_is_private(pub));
    jg_jwks *set = set_of(pub);
    jg_jwk_free(pub);
    return set;
}

/* The decoded protected header of a compact token (malloc'd, NUL-terminated). */
static char *header_of(const char *token)
{
    const char *dot = strchr(token, '.');
    assert_non_null(dot);
    unsigned char *raw = NULL;
    size_t len = 0;
    assert_jg_ok(jg_b64url_decode_alloc(token, (size_t)(dot - token), &raw, &len));
    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, raw, len);
    text[len] = '\0';
    jg_free(raw);
    return text;
}

static jg_claims *sample_claims(void)
{
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    assert_jg_ok(jg_claims_set_string(c, "iss", "https://as.example"));
    assert_jg_ok(jg_claims_set_string(c, "sub", "user-42"));
    assert_jg_ok(jg_claims_set_string(c, "aud", "https://rs.example"));
    assert_jg_ok(jg_claims_set_int(c, "iat", g_now));
    assert_jg_ok(jg_claims_set_int(c, "exp", g_now + 300));
    assert_jg_ok(jg_claims_set_string(c, "scope", "read write"));
    assert_jg_ok(jg_claims_set_json(c, "cnf", "{\"jkt\":\"abc\"}"));
    return c;
}

/* A compact JWS over an arbitrary payload and protected header. */
static char *raw_jws(const jg_jwk *key, jg_alg alg, const char *payload, const char *header)
{
    jg_jws_signer signer = {.key = key, .alg = alg, .protected_json = header};
    char *token = NULL;
    assert_jg_ok(jg_jws_sign(payload, strlen(payload), &signer, NULL, &token, NULL));
    return token;
}

static jg_err verify(const char *token, const jg_jwks *keys, const jg_jwt_policy *p)
{
    return jg_jwt_verify(token, strlen(token), keys, p, NULL);
}

static void test_rfc7519_example(void **state)
{
    (void)state;
    jg_jwk *key = key_from_json(rfc7515_a1_key);
    jg_jwks *keys = set_of(key);
    int64_t now = 1300819379;
    jg_jwt_policy p = {0};
    p.algs = JG_ALG_BIT(JG_ALG_HS256);
    p.clock = tu_clock;
    p.clock_ctx = &now;
    p.issuer = "joe";
    p.typ = "JWT";

    jg_claims *c = NULL;
    assert_jg_ok(jg_jwt_verify(rfc7519_token, strlen(rfc7519_token), keys, &p, &c));
    const char *s;
    int64_t exp;
    int root = 0;
    assert_jg_ok(jg_claims_get_string(c, "iss", &s));
    assert_string_equal(s, "joe");
    assert_jg_ok(jg_claims_get_int(c, "exp", &exp));
    assert_int_equal(exp, 1300819380);
    assert_jg_ok(jg_claims_get_bool(c, "http://example.com/is_root", &root));
    assert_true(root);
    jg_claims_free(c);

    /* At exp it has expired; a second of leeway saves it. */
    now = 1300819380;
    assert_jg(JG_ERR_EXPIRED, verify(rfc7519_token, keys, &p));
    p.leeway = 1;
    assert_jg_ok(verify(rfc7519_token, keys, &p));
    p.leeway = 0;
    now = 1300819379;
    /* Other policies. */
    p.typ = "at+jwt";
    assert_jg(JG_ERR_TYP, verify(rfc7519_token, keys, &p));
    p.typ = "application/jwt";
    assert_jg_ok(verify(rfc7519_token, keys, &p));
    p.issuer = "jane";
    assert_jg(JG_ERR_ISSUER, verify(rfc7519_token, keys, &p));
    p.issuer = "joe";
    p.algs = JG_ALG_BIT(JG_ALG_HS384) | JG_ALG_BIT(JG_ALG_ES256);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, verify(rfc7519_token, keys, &p));
    p.algs = JG_ALG_BIT(JG_ALG_HS256);
    /* One flipped bit in the signature. */
    char *bad = strdup(rfc7519_token);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'X' ? 'Y' : 'X';
    assert_jg(JG_ERR_SIGNATURE, verify(bad, keys, &p));
    free(bad);
    jg_jwks_free(keys);
    jg_jwk_free(key);
    tu_count("rfc7519");
}

static void round_trip(jg_jwk *key, jg_alg alg, jg_alg_set algs)
{
    jg_claims *c = sample_claims();
    jg_jwks *keys = verify_set(key);
    jg_jwt_sign_opts opts = {.alg = alg};
    char *token = NULL;
    size_t len = 0;
    assert_jg_ok(jg_jwt_sign(c, key, &opts, &token, &len));
    assert_int_equal(len, strlen(token));

    char *header = header_of(token);
    char expect[64];
    snprintf(expect, sizeof expect, "{\"alg\":\"%s\"", jg_alg_name(alg));
    assert_true(strncmp(header, expect, strlen(expect)) == 0);
    assert_non_null(strstr(header, "\"typ\":\"JWT\""));
    free(header);

    jg_jwt_policy p = policy_for(algs);
    p.typ = "JWT";
    p.issuer = "https://as.example";
    p.audience = "https://rs.example";
    p.subject = "user-42";
    p.max_age = 600;
    jg_claims *back = NULL;
    assert_jg_ok(jg_jwt_verify(token, len, keys, &p, &back));
    char *a = NULL, *b = NULL;
    assert_jg_ok(jg_claims_to_json(c, 0, &a));
    assert_jg_ok(jg_claims_to_json(back, 0, &b));
    assert_string_equal(a, b);
    jg_free(a);
    jg_free(b);
    jg_claims_free(back);

    /* The same token under policies it does not meet. */
    assert_jg_ok(verify(token, keys, &p));
    p.audience = "https://other.example";
    assert_jg(JG_ERR_AUDIENCE, verify(token, keys, &p));
    p.audience = NULL;
    p.typ = "at+jwt";
    assert_jg(JG_ERR_TYP, verify(token, keys, &p));
    p.typ = NULL;
    g_now += 300;
    assert_jg(JG_ERR_EXPIRED, verify(token, keys, &p));
    g_now -= 300;
    p.algs = JG_ALGS_ASYMMETRIC_SIG & ~algs;
    if (p.algs == 0)
        p.algs = JG_ALGS_HMAC;
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, verify(token, keys, &p));

    jg_free(token);
    jg_jwks_free(keys);
    jg_claims_free(c);
    tu_count("round_trip");
}

static void test_round_trips(void **state)
{
    (void)state;
    static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
    jg_jwk *hs = NULL;
    assert_jg_ok(jg_jwk_from_secret(secret, sizeof secret, NULL, &hs));
    round_trip(hs, JG_ALG_HS256, JG_ALG_BIT(JG_ALG_HS256));
    jg_jwk_free(hs);

    jg_jwk *es = key_in_vector("rfc/rfc7515_appendix_a.json", "A.3/key");
    round_trip(es, JG_ALG_ES256, JG_ALG_BIT(JG_ALG_ES256));
    jg_jwk_free(es);

    jg_jwk *rs = key_from_vector("jose-cookbook/jwk/3_4.rsa_private_key.json");
    round_trip(rs, JG_ALG_RS256, JG_ALG_BIT(JG_ALG_RS256));
    round_trip(rs, JG_ALG_PS256, JG_ALG_BIT(JG_ALG_PS256) | JG_ALG_BIT(JG_ALG_RS256));
    jg_jwk_free(rs);

    jg_jwk *ed = key_in_vector("rfc/rfc8037_appendix_a.json", "private");
    round_trip(ed, JG_ALG_EDDSA, JG_ALG_BIT(JG_ALG_EDDSA));
    jg_jwk_free(ed);
}

/* Freshly generated keys, one per family. */
static void test_round_trips_generated(void **state)
{
    (void)state;
    static const jg_alg algs[] = {JG_ALG_HS256, JG_ALG_HS512, JG_ALG_ES256,
                                  JG_ALG_ES384, JG_ALG_RS256, JG_ALG_EDDSA};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        jg_jwk *key = NULL;
        assert_jg_ok(jg_jwk_generate_for_alg(algs[i], JG_CRV_NONE, 0, NULL, &key));
        /* The key's own "alg" is used when opts->alg is UNKNOWN. */
        round_trip(key, algs[i], JG_ALG_BIT(algs[i]));
        jg_claims *c = sample_claims();
        char *token = NULL;
        assert_jg_ok(jg_jwt_sign(c, key, NULL, &token, NULL));
        jg_jwks *keys = verify_set(key);
        jg_jwt_policy p = policy_for(JG_ALG_BIT(algs[i]));
        assert_jg_ok(verify(token, keys, &p));
        jg_free(token);
        jg_jwks_free(keys);
        jg_claims_free(c);
        jg_jwk_free(key);
    }
}

static void test_sign_header_options(void **state)
{
    (void)state;
    jg_jwk *key = key_from_json(rfc7515_a1_key);
    jg_jwks *keys = set_of(key);
    jg_claims *c = sample_claims();
    jg_jwt_policy p = policy_for(JG_ALG_BIT(JG_ALG_HS256));
    char *token = NULL, *header = NULL;

    /* typ, then the caller's members in order, after alg. */
    jg_jwt_sign_opts opts = {.alg = JG_ALG_HS256,
                             .typ = "at+jwt",
                             .header_json = "{\"kid\":\"k1\",\"zz\":1,\"aa\":[true]}"};
    assert_jg_ok(jg_jwt_sign(c, key, &opts, &token, NULL));
    header = header_of(token);
    assert_string_equal(
        header, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"k1\",\"zz\":1,\"aa\":[true]}");
    free(header);
    p.typ = "application/at+jwt";
    /* No key of the set has kid k1: the key without a kid stands in. */
    assert_jg_ok(verify(token, keys, &p));
    jg_free(token);

    /* A "typ" in header_json is used when opts->typ is NULL, in its place. */
    opts.typ = NULL;
    opts.header_json = "{\"cty\":\"x\",\"typ\":\"AT+JWT\"}";
    assert_jg_ok(jg_jwt_sign(c, key, &opts, &token, NULL));
    header = header_of(token);
    assert_string_equal(header, "{\"alg\":\"HS256\",\"cty\":\"x\",\"typ\":\"AT+JWT\"}");
    free(header);
    assert_jg_ok(verify(token, keys, &p));
    jg_free(token);
    /* ... and may repeat opts->typ exactly. */
    opts.typ = "AT+JWT";
    assert_jg_ok(jg_jwt_sign(c, key, &opts, &token, NULL));
    jg_free(token);

    /* Default typ "JWT" with extra members. */
    opts.typ = NULL;
    opts.header_json = "{}";
    assert_jg_ok(jg_jwt_sign(c, key, &opts, &token, NULL));
    header = header_of(token);
    assert_string_equal(header, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    free(header);
    jg_free(token);

    /* Refused headers. */
    opts.typ = "JWT";
    opts.header_json = "{\"typ\":\"at+jwt\"}";
    assert_jg(JG_ERR_HEADER_INVALID, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.typ = NULL;
    opts.header_json = "{\"typ\":7}";
    assert_jg(JG_ERR_HEADER_INVALID, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.header_json = "{\"alg\":\"HS384\"}";
    assert_jg(JG_ERR_HEADER_INVALID, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.header_json = "{\"kid\":";
    assert_jg(JG_ERR_JSON_SYNTAX, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.header_json = "{\"kid\":\"a\",\"kid\":\"b\"}";
    assert_jg(JG_ERR_JSON_DUPLICATE, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.header_json = "[\"typ\"]";
    assert_jg(JG_ERR_JSON_NOT_OBJECT, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.header_json = NULL;
    opts.typ = "\xc3\x28";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.typ = NULL;
    opts.alg = JG_ALG_A128KW;
    assert_jg(JG_ERR_ALG_KIND, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.alg = JG_ALG_ES256;
    assert_jg(JG_ERR_KEY_TYPE, jg_jwt_sign(c, key, &opts, &token, NULL));
    opts.alg = JG_ALG_UNKNOWN; /* the key has no "alg" */
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwt_sign(c, key, &opts, &token, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_sign(NULL, key, NULL, &token, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_sign(c, NULL, NULL, &token, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_sign(c, key, NULL, NULL, NULL));

    /* A public key cannot sign. */
    jg_jwk *ec = key_in_vector("rfc/rfc7515_appendix_a.json", "A.3/key"), *pub = NULL;
    assert_jg_ok(jg_jwk_public(ec, &pub));
    opts.alg = JG_ALG_ES256;
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_jwt_sign(c, pub, &opts, &token, NULL));
    jg_jwk_free(pub);
    jg_jwk_free(ec);

    jg_claims_free(c);
    jg_jwks_free(keys);
    jg_jwk_free(key);
}

/* Every way a verified JWS can still not be an acceptable JWT. */
static void test_verify_rejects(void **state)
{
    (void)state;
    jg_jwk *key = key_from_json(rfc7515_a1_key);
    jg_jwks *keys = set_of(key);
    jg_jwt_policy p = policy_for(JG_ALG_BIT(JG_ALG_HS256));
    p.allow_missing_exp = 1;
    static const struct {
        const char *payload;
        jg_err err;
    } payloads[] = {
        {"{}", JG_OK},
        {"[1,2]", JG_ERR_CLAIMS_INVALID},
        {"\"claims\"", JG_ERR_CLAIMS_INVALID},
        {"42", JG_ERR_CLAIMS_INVALID},
        {"null", JG_ERR_CLAIMS_INVALID},
        {"not json", JG_ERR_JSON_SYNTAX},
        {"", JG_ERR_JSON_SYNTAX},
        {"{\"a\":1", JG_ERR_JSON_SYNTAX},
        {"{\"a\":1,\"a\":1}", JG_ERR_JSON_DUPLICATE},
        {"{\"exp\":2000000000,\"exp\":2000000000}", JG_ERR_JSON_DUPLICATE},
        {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
         JG_ERR_LIMIT_JSON_DEPTH},
        {"{\"iss\":1}", JG_ERR_CLAIM_TYPE},
        {"{\"sub\":true}", JG_ERR_CLAIM_TYPE},
        {"{\"jti\":null}", JG_ERR_CLAIM_TYPE},
        {"{\"aud\":[]}", JG_ERR_CLAIM_TYPE},
        {"{\"aud\":[\"a\",1]}", JG_ERR_CLAIM_TYPE},
        {"{\"exp\":\"2000000000\"}", JG_ERR_CLAIM_TYPE},
        {"{\"exp\":2000000000.5}", JG_ERR_CLAIM_TYPE},
        {"{\"nbf\":1.5}", JG_ERR_CLAIM_TYPE},
        {"{\"iat\":1e300}", JG_ERR_CLAIM_TYPE},
        {"{\"exp\":2000000000.0}", JG_OK},
        {"{\"exp\":1}", JG_ERR_EXPIRED},
        {"{\"nbf\":2000000000}", JG_ERR_NOT_YET_VALID},
        {"{\"iat\":2000000000}", JG_ERR_IAT_FUTURE},
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char *token = raw_jws(key, JG_ALG_HS256, payloads[i].payload, "{\"typ\":\"JWT\"}");
        jg_claims *c = NULL;
        jg_err got = jg_jwt_verify(token, strlen(token), keys, &p, &c);
        if (got != payloads[i].err)
            fail_msg("payload %s: expected %s, got %s", payloads[i].payload,
                     jg_err_name(payloads[i].err), jg_err_name(got));
        if (got == JG_OK)
            assert_non_null(c);
        else
            assert_null(c);
        jg_claims_free(c);
        jg_free(token);
    }

    /* Size: the claims are bounded by max_payload_len. */
    jg_limits lim = jg_limits_default();
    lim.max_json_depth = 2;
    p.limits = &lim;
    char *token = raw_jws(key, JG_ALG_HS256, "{\"a\":{\"b\":[]}}", NULL);
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, verify(token, keys, &p));
    /* Payload size is bounded by max_payload_len, enforced while decoding. */
    lim = jg_limits_default();
    lim.max_payload_len = 13;
    assert_jg(JG_ERR_LIMIT_TOKEN_SIZE, verify(token, keys, &p));
    lim.max_payload_len = 14;
    assert_jg_ok(verify(token, keys, &p));
    jg_free(token);
    p.limits = NULL;

    /* typ: missing, not a string, mismatched. */
    p.typ = "JWT";
    token = raw_jws(key, JG_ALG_HS256, "{}", NULL);
    assert_jg(JG_ERR_TYP, verify(token, keys, &p));
    p.typ = NULL;
    assert_jg_ok(verify(token, keys, &p)); /* typ not required by this policy */
    jg_free(token);
    p.typ = "JWT";
    token = raw_jws(key, JG_ALG_HS256, "{}", "{\"typ\":1}");
    assert_jg(JG_ERR_TYP, verify(token, keys, &p));
    jg_free(token);
    token = raw_jws(key, JG_ALG_HS256, "{}", "{\"typ\":\"JOSE\"}");
    assert_jg(JG_ERR_TYP, verify(token, keys, &p));
    jg_free(token);
    p.typ = "at+jwt";
    token = raw_jws(key, JG_ALG_HS256, "{}", "{\"typ\":\"jwt\"}");
    assert_jg(JG_ERR_TYP, verify(token, keys, &p));
    jg_free(token);
    token = raw_jws(key, JG_ALG_HS256, "{}", "{\"typ\":\"application/AT+JWT\"}");
    assert_jg_ok(verify(token, keys, &p));
    jg_free(token);
    p.typ = NULL;

    /* Claims rules after a good signature. */
    token = raw_jws(key, JG_ALG_HS256, "{\"iss\":\"a\",\"sub\":\"b\",\"aud\":[\"c\",\"d\"]}", NULL);
    p.issuer = "a";
    p.subject = "b";
    p.audience = "d";
    assert_jg_ok(verify(token, keys, &p));
    p.audience = "e";
    assert_jg(JG_ERR_AUDIENCE, verify(token, keys, &p));
    p.subject = "x";
    assert_jg(JG_ERR_SUBJECT, verify(token, keys, &p));
    p.allow_missing_exp = 0;
    assert_jg(JG_ERR_CLAIM_MISSING, verify(token, keys, &p));
    p.allow_missing_exp = 1;
    p.audience = p.subject = p.issuer = NULL;
    p.max_age = 60;
    assert_jg(JG_ERR_CLAIM_MISSING, verify(token, keys, &p)); /* no iat */
    p.max_age = 0;
    jg_free(token);
    token = raw_jws(key, JG_ALG_HS256, "{\"iat\":1}", NULL);
    p.max_age = 60;
    assert_jg(JG_ERR_TOO_OLD, verify(token, keys, &p));
    p.max_age = 0;
    jg_free(token);

    jg_jwks_free(keys);
    jg_jwk_free(key);
}

static void test_verify_format_and_arguments(void **state)
{
    (void)state;
    jg_jwk *key = key_from_json(rfc7515_a1_key);
    jg_jwks *keys = set_of(key);
    jg_jwt_policy p = policy_for(JG_ALG_BIT(JG_ALG_HS256));
    p.allow_missing_exp = 1;

    /* A JSON serialization of a valid JWS is not a JWT. */
    jg_jws_signer signer = {.key = key, .alg = JG_ALG_HS256};
    jg_jws_sign_opts flat = {.format = JG_FORMAT_FLATTENED};
    char *json = NULL;
    assert_jg_ok(jg_jws_sign("{}", 2, &signer, &flat, &json, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, verify(json, keys, &p));
    size_t n = strlen(json);
    char *spaced = malloc(n + 4);
    memcpy(spaced, " \r\n", 3);
    memcpy(spaced + 3, json, n + 1);
    assert_jg(JG_ERR_TOKEN_FORMAT, verify(spaced, keys, &p));
    free(spaced);
    jg_free(json);
    jg_jws_sign_opts general = {.format = JG_FORMAT_GENERAL};
    assert_jg_ok(jg_jws_sign("{}", 2, &signer, &general, &json, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, verify(json, keys, &p));
    jg_free(json);

    /* Malformed compact tokens. */
    assert_jg(JG_ERR_TOKEN_FORMAT, verify("", keys, &p));
    assert_jg(JG_ERR_TOKEN_FORMAT, verify("abc", keys, &p));
    assert_jg(JG_ERR_TOKEN_FORMAT, verify("a.b", keys, &p));
    assert_jg(JG_ERR_TOKEN_FORMAT, verify("a.b.c.d", keys, &p));
    /* "alg":"none" is never accepted. */
    assert_jg(JG_ERR_ALG_NONE, verify("eyJhbGciOiJub25lIn0.e30.", keys, &p));

    /* Only the first token_len bytes are read. */
    char *token = raw_jws(key, JG_ALG_HS256, "{}", NULL);
    size_t len = strlen(token);
    char *padded = malloc(len + 8);
    memcpy(padded, token, len);
    memcpy(padded + len, ".extra", 7);
    assert_jg_ok(jg_jwt_verify(padded, len, keys, &p, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jwt_verify(padded, len + 6, keys, &p, NULL));
    free(padded);

    /* Token size limit. */
    jg_limits lim = jg_limits_default();
    lim.max_token_len = len - 1;
    p.limits = &lim;
    assert_jg(JG_ERR_LIMIT_TOKEN_SIZE, verify(token, keys, &p));
    p.limits = NULL;

    /* A key the set does not hold. */
    static const unsigned char other_secret[32] = "another 32-byte secret for tests";
    jg_jwk *other = NULL;
    assert_jg_ok(jg_jwk_from_secret(other_secret, sizeof other_secret, NULL, &other));
    jg_jwks *others = set_of(other);
    assert_jg(JG_ERR_SIGNATURE, verify(token, others, &p));
    jg_jwks_free(others);
    jg_jwk_free(other);

    jg_claims *c = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_verify(NULL, 0, keys, &p, &c));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_verify(token, len, NULL, &p, &c));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_verify(token, len, keys, NULL, &c));
    p.leeway = -1;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwt_verify(token, len, keys, &p, &c));
    p.leeway = 0;
    p.algs = 0;
    assert_jg(JG_ERR_ALGS_EMPTY, jg_jwt_verify(token, len, keys, &p, &c));
    assert_null(c);
    jg_free(token);

    jg_jwks_free(keys);
    jg_jwk_free(key);
}

/* "crit" extensions are accepted only when the policy says it processes them. */
static void test_verify_crit(void **state)
{
    (void)state;
    jg_jwk *key = key_from_json(rfc7515_a1_key);
    jg_jwks *keys = set_of(key);
    jg_jwt_policy p = policy_for(JG_ALG_BIT(JG_ALG_HS256));
    p.allow_missing_exp = 1;
    char *token = raw_jws(key, JG_ALG_HS256, "{}", "{\"crit\":[\"exp_ext\"],\"exp_ext\":1}");
    assert_jg(JG_ERR_CRIT_UNKNOWN, verify(token, keys, &p));
    const char *const crit[] = {"exp_ext", NULL};
    p.crit = crit;
    assert_jg_ok(verify(token, keys, &p));
    jg_free(token);
    jg_jwks_free(keys);
    jg_jwk_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7519_example),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_round_trips_generated),
        cmocka_unit_test(test_sign_header_options),
        cmocka_unit_test(test_verify_rejects),
        cmocka_unit_test(test_verify_format_and_arguments),
        cmocka_unit_test(test_verify_crit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_jwt");
    return rc;
}
