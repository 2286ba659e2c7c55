/*
 * test_detail.c — rejection details (jg_detail, the *_ex entry points,
 * jg_detail_format()): one test per kind of detail, the exact line each
 * prints, escaping and truncation, and that no secret or token ever lands
 * in one.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tu_jwk.h"

#define NOW 1700000000 /* tu_clock(): 2023-11-14T22:13:20Z */

static jg_jwk *gen(jg_alg alg, const char *kid)
{
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_generate_for_alg(alg, JG_CRV_NONE, 0, kid, &key));
    return key;
}

static jg_jwks *set_of(jg_jwk *const *keys, size_t n, int public_only)
{
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    for (size_t i = 0; i < n; i++) {
        jg_jwk *k = keys[i];
        if (public_only && jg_jwk_kty(k) != JG_KTY_OCT)
            assert_jg_ok(jg_jwk_public(keys[i], &k));
        else
            jg_jwk_ref(k);
        assert_jg_ok(jg_jwks_add(set, k));
        jg_jwk_free(k);
    }
    return set;
}

/* The detail's line, in a static buffer. */
static const char *line_of(const jg_detail *d)
{
    static char buf[1024];
    size_t n = jg_detail_format(d, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    return buf;
}

/* A signed JWT with these claims (JSON) and extra header members. */
static char *jwt(jg_jwk *key, const char *claims_json, const char *typ)
{
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(claims_json, strlen(claims_json), NULL, &c));
    jg_jwt_sign_opts opts = {.typ = typ};
    char *token = NULL;
    assert_jg_ok(jg_jwt_sign(c, key, &opts, &token, NULL));
    jg_claims_free(c);
    return token;
}

static jg_jwt_policy policy(jg_alg_set algs)
{
    jg_jwt_policy p = {.algs = algs, .clock = tu_clock};
    return p;
}

static jg_err validate(const char *claims_json, const jg_jwt_policy *p, jg_detail *d)
{
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(claims_json, strlen(claims_json), NULL, &c));
    jg_err err = jg_claims_validate_ex(c, p, d);
    jg_claims_free(c);
    return err;
}

/* ---- claims ------------------------------------------------------------------ */

static void test_claim_issuer_expected_and_actual(void **state)
{
    (void)state;
    jg_jwt_policy p = policy(0);
    p.allow_missing_exp = 1;
    p.issuer = "https://a";
    jg_detail d;
    assert_jg(JG_ERR_ISSUER, validate("{\"iss\":\"https://b\"}", &p, &d));
    assert_int_equal(d.err, JG_ERR_ISSUER);
    assert_int_equal(d.kind, JG_DETAIL_CLAIM);
    assert_string_equal(d.name, "iss");
    assert_string_equal(d.expected, "\"https://a\"");
    assert_string_equal(d.actual, "\"https://b\"");
    assert_string_equal(line_of(&d), "iss: expected \"https://a\", got \"https://b\"");

    p.issuer = NULL;
    p.subject = "alice";
    assert_jg(JG_ERR_SUBJECT, validate("{\"sub\":\"bob\"}", &p, &d));
    assert_string_equal(line_of(&d), "sub: expected \"alice\", got \"bob\"");
    /* The wrong type, and absent. */
    assert_jg(JG_ERR_CLAIM_MISSING, validate("{}", &p, &d));
    assert_string_equal(line_of(&d), "claim \"sub\" is missing (expected \"alice\")");
}

static void test_claim_audience_list(void **state)
{
    (void)state;
    jg_jwt_policy p = policy(0);
    p.allow_missing_exp = 1;
    p.audience = "https://api";
    jg_detail d;
    assert_jg(JG_ERR_AUDIENCE, validate("{\"aud\":[\"x\",\"y\"]}", &p, &d));
    assert_string_equal(d.name, "aud");
    assert_string_equal(line_of(&d), "aud: expected \"https://api\", got [\"x\", \"y\"]");
    assert_jg(JG_ERR_AUDIENCE, validate("{\"aud\":\"x\"}", &p, &d));
    assert_string_equal(line_of(&d), "aud: expected \"https://api\", got \"x\"");
    /* A long list is cut, and says so. */
    char big[4096] = "{\"aud\":[";
    for (int i = 0; i < 100; i++)
        strcat(big, i ? ",\"audience-value\"" : "\"audience-value\"");
    strcat(big, "]}");
    assert_jg(JG_ERR_AUDIENCE, validate(big, &p, &d));
    assert_true(strlen(d.actual) < sizeof d.actual);
    assert_non_null(strstr(d.actual, ", ...]"));
}

static void test_claim_missing_names_the_claim(void **state)
{
    (void)state;
    jg_jwt_policy p = policy(0);
    jg_detail d;
    /* exp, required unless allowed. */
    assert_jg(JG_ERR_CLAIM_MISSING, validate("{}", &p, &d));
    assert_int_equal(d.kind, JG_DETAIL_CLAIM);
    assert_string_equal(d.name, "exp");
    assert_non_null(strstr(line_of(&d), "claim \"exp\" is missing"));
    /* A required claim. */
    const char *required[] = {"tenant", NULL};
    p.allow_missing_exp = 1;
    p.required = required;
    assert_jg(JG_ERR_CLAIM_MISSING, validate("{\"sub\":\"a\"}", &p, &d));
    assert_string_equal(d.name, "tenant");
    assert_string_equal(line_of(&d), "claim \"tenant\" is missing");
    /* iat, for max_age. */
    p.required = NULL;
    p.max_age = 60;
    assert_jg(JG_ERR_CLAIM_MISSING, validate("{}", &p, &d));
    assert_string_equal(d.name, "iat");
}

static void test_claim_scope(void **state)
{
    (void)state;
    jg_jwt_policy p = policy(0);
    p.allow_missing_exp = 1;
    const char *all[] = {"orders:read", "orders:write", NULL};
    p.scopes_all = all;
    jg_detail d;
    assert_jg(JG_ERR_SCOPE, validate("{\"scope\":\"orders:read\"}", &p, &d));
    assert_string_equal(d.name, "scope");
    assert_string_equal(line_of(&d),
                        "scope: expected all of orders:read orders:write, got \"orders:read\"");
    assert_jg(JG_ERR_CLAIM_MISSING, validate("{}", &p, &d));
    assert_string_equal(d.name, "scope");
}

/* ---- time -------------------------------------------------------------------- */

static void test_time_expired_not_yet_valid_iat_too_old(void **state)
{
    (void)state;
    jg_jwt_policy p = policy(0);
    p.leeway = 5;
    jg_detail d;
    assert_jg(JG_ERR_EXPIRED, validate("{\"exp\":1699999000}", &p, &d));
    assert_int_equal(d.kind, JG_DETAIL_TIME);
    assert_string_equal(d.name, "exp");
    assert_int_equal(d.time, 1699999000);
    assert_int_equal(d.now, NOW);
    assert_int_equal(d.leeway, 5);
    assert_string_equal(line_of(&d), "exp: expired at 2023-11-14T21:56:40Z "
                                     "(now 2023-11-14T22:13:20Z, leeway 5 s)");

    p.allow_missing_exp = 1;
    assert_jg(JG_ERR_NOT_YET_VALID, validate("{\"nbf\":1700003600}", &p, &d));
    assert_string_equal(line_of(&d), "nbf: not valid before 2023-11-14T23:13:20Z "
                                     "(now 2023-11-14T22:13:20Z, leeway 5 s)");
    assert_jg(JG_ERR_IAT_FUTURE, validate("{\"iat\":1700000060}", &p, &d));
    assert_string_equal(line_of(&d), "iat: issued at 2023-11-14T22:14:20Z, in the future "
                                     "(now 2023-11-14T22:13:20Z, leeway 5 s)");
    p.max_age = 600;
    assert_jg(JG_ERR_TOO_OLD, validate("{\"iat\":1699990000}", &p, &d));
    assert_int_equal(d.max_age, 600);
    assert_string_equal(line_of(&d), "iat: issued at 2023-11-14T19:26:40Z, older than max_age "
                                     "600 s (now 2023-11-14T22:13:20Z, leeway 5 s)");
    /* A time no calendar can print is given in seconds. */
    p.max_age = 0;
    assert_jg(JG_ERR_NOT_YET_VALID, validate("{\"nbf\":9223372036854775807}", &p, &d));
    assert_non_null(strstr(line_of(&d), "9223372036854775807 s after the epoch"));
}

/* ---- headers ----------------------------------------------------------------- */

static void test_header_typ_alg_crit(void **state)
{
    (void)state;
    jg_jwk *k1 = gen(JG_ALG_ES256, "k1");
    jg_jwks *set = set_of(&k1, 1, 1);
    jg_jwt_policy p = policy(JG_ALG_BIT(JG_ALG_ES256));
    p.allow_missing_exp = 1;
    p.typ = "at+jwt";
    char *token = jwt(k1, "{}", "JWT");
    jg_detail d;
    assert_jg(JG_ERR_TYP, jg_jwt_verify_ex(token, strlen(token), set, &p, NULL, &d));
    assert_int_equal(d.kind, JG_DETAIL_HEADER);
    assert_string_equal(line_of(&d), "typ: expected \"at+jwt\", got \"JWT\"");

    /* alg outside the allow-list. */
    p.typ = NULL;
    p.algs = JG_ALG_BIT(JG_ALG_RS256) | JG_ALG_BIT(JG_ALG_ES384);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, jg_jwt_verify_ex(token, strlen(token), set, &p, NULL, &d));
    assert_string_equal(d.name, "alg");
    assert_string_equal(line_of(&d), "alg: expected one of RS256, ES384, got \"ES256\"");
    jg_free(token);

    /* crit naming an extension nobody processes. */
    jg_jws_signer s = {
        .key = k1, .alg = JG_ALG_ES256, .protected_json = "{\"crit\":[\"exp-ext\"],\"exp-ext\":1}"};
    assert_jg_ok(jg_jws_sign("x", 1, &s, NULL, &token, NULL));
    jg_jws_verify_opts vo = {.algs = JG_ALG_BIT(JG_ALG_ES256)};
    jg_jws *jws = NULL;
    assert_jg(JG_ERR_CRIT_UNKNOWN, jg_jws_verify_ex(token, strlen(token), set, &vo, &jws, &d));
    assert_string_equal(line_of(&d),
                        "crit: \"exp-ext\" is not an extension this verifier processes");
    jg_free(token);
    jg_jwks_free(set);
    jg_jwk_free(k1);
}

static void test_header_jwe_enc_alg_crit(void **state)
{
    (void)state;
    jg_jwk *k = gen(JG_ALG_ECDH_ES, "e1");
    jg_jwks *set = set_of(&k, 1, 0);
    jg_jwe_recipient r = {.key = k, .alg = JG_ALG_ECDH_ES};
    jg_jwe_encrypt_opts eo = {.enc = JG_ENC_A128GCM};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("x", 1, &r, 1, &eo, &token, NULL));
    jg_jwe_decrypt_opts dopts = {.algs = JG_ALG_BIT(JG_ALG_ECDH_ES),
                                 .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
    jg_jwe *jwe = NULL;
    jg_detail d;
    assert_jg(JG_ERR_ENC_NOT_ALLOWED,
              jg_jwe_decrypt_ex(token, strlen(token), set, &dopts, &jwe, &d));
    assert_string_equal(line_of(&d), "enc: expected one of A256GCM, got \"A128GCM\"");
    dopts.encs = JG_ENC_BIT(JG_ENC_A128GCM);
    dopts.algs = JG_ALG_BIT(JG_ALG_RSA_OAEP);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED,
              jg_jwe_decrypt_ex(token, strlen(token), set, &dopts, &jwe, &d));
    assert_string_equal(line_of(&d), "alg: expected one of RSA-OAEP, got \"ECDH-ES\"");
    jg_free(token);

    eo.protected_json = "{\"crit\":[\"x-ext\"],\"x-ext\":true}";
    assert_jg_ok(jg_jwe_encrypt("x", 1, &r, 1, &eo, &token, NULL));
    dopts.algs = JG_ALG_BIT(JG_ALG_ECDH_ES);
    assert_jg(JG_ERR_CRIT_UNKNOWN, jg_jwe_decrypt_ex(token, strlen(token), set, &dopts, &jwe, &d));
    assert_string_equal(d.name, "crit");
    assert_string_equal(d.actual, "\"x-ext\"");
    jg_free(token);
    jg_jwks_free(set);
    jg_jwk_free(k);
}

/* ---- keys -------------------------------------------------------------------- */

static void test_key_not_found_names_kid_alg_and_set(void **state)
{
    (void)state;
    jg_jwk *k1 = gen(JG_ALG_ES256, "k1"), *k2 = gen(JG_ALG_ES256, "k2");
    jg_jwks *set = set_of(&k1, 1, 1);
    jg_jwt_policy p = policy(JG_ALG_BIT(JG_ALG_ES256));
    p.allow_missing_exp = 1;
    char *token = jwt(k2, "{}", NULL);
    jg_detail d;
    assert_jg(JG_ERR_KEY_NOT_FOUND, jg_jwt_verify_ex(token, strlen(token), set, &p, NULL, &d));
    assert_int_equal(d.kind, JG_DETAIL_KEY);
    assert_true(d.has_kid);
    assert_string_equal(d.kid, "k2");
    assert_string_equal(d.alg, "ES256");
    assert_int_equal(d.set_count, 1);
    assert_string_equal(line_of(&d), "no key with kid \"k2\" for alg ES256 (the set has kids: k1)");

    /* A signature that does not verify: which kid and alg. */
    jg_jwk *k1b = NULL;
    jg_jwk_meta meta = {.kid = "k1", .alg = JG_ALG_ES256};
    assert_jg_ok(jg_jwk_with_meta(k2, &meta, &k1b)); /* k2's material named k1 */
    jg_free(token);
    token = jwt(k1b, "{}", NULL);
    assert_jg(JG_ERR_SIGNATURE, jg_jwt_verify_ex(token, strlen(token), set, &p, NULL, &d));
    assert_string_equal(line_of(&d), "kid \"k1\", alg ES256");
    jg_free(token);
    jg_jwk_free(k1b);
    jg_jwks_free(set);

    /* JWE: kid, alg and enc; an empty set. */
    jg_jwk *e = gen(JG_ALG_A256KW, "wrap-2");
    jg_jwe_recipient r = {.key = e, .alg = JG_ALG_A256KW};
    assert_jg_ok(jg_jwe_encrypt("x", 1, &r, 1, NULL, &token, NULL));
    assert_jg_ok(jg_jwks_new(&set));
    jg_jwe_decrypt_opts dopts = {.algs = JG_ALG_BIT(JG_ALG_A256KW),
                                 .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
    jg_jwe *jwe = NULL;
    assert_jg(JG_ERR_KEY_NOT_FOUND, jg_jwe_decrypt_ex(token, strlen(token), set, &dopts, &jwe, &d));
    assert_string_equal(
        line_of(&d), "no key with kid \"wrap-2\" for alg A256KW, enc A256GCM (the set is empty)");
    jg_jwks_free(set);
    jg_jwk *other = gen(JG_ALG_A256KW, "wrap-1");
    set = set_of(&other, 1, 0);
    assert_jg(JG_ERR_KEY_NOT_FOUND, jg_jwe_decrypt_ex(token, strlen(token), set, &dopts, &jwe, &d));
    assert_string_equal(
        line_of(&d),
        "no key with kid \"wrap-2\" for alg A256KW, enc A256GCM (the set has kids: wrap-1)");
    jg_free(token);
    jg_jwks_free(set);
    jg_jwk_free(other);
    jg_jwk_free(e);
    jg_jwk_free(k1);
    jg_jwk_free(k2);
}

/* The nested path passes the inner layers' details through. */
static void test_access_token_open_detail(void **state)
{
    (void)state;
    jg_jwk *sig = gen(JG_ALG_ES256, "sig"), *enc = gen(JG_ALG_ECDH_ES_A256KW, "enc");
    jg_claims *c = NULL;
    const char *json = "{\"iss\":\"https://b\",\"exp\":1800000000,\"aud\":\"api\",\"jti\":\"1\"}";
    assert_jg_ok(jg_claims_parse(json, strlen(json), NULL, &c));
    char *token = NULL;
    assert_jg_ok(jg_access_token_seal(c, sig, enc, NULL, &token, NULL));
    jg_claims_free(c);
    jg_jwks *dk = set_of(&enc, 1, 0), *vk = set_of(&sig, 1, 1);
    jg_open_policy p = {.jwt = policy(JG_ALG_BIT(JG_ALG_ES256)),
                        .key_algs = JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW),
                        .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
    p.jwt.issuer = "https://a";
    jg_detail d;
    jg_claims *out = NULL;
    assert_jg(JG_ERR_ISSUER, jg_access_token_open_ex(token, strlen(token), dk, vk, &p, &out, &d));
    assert_null(out);
    assert_string_equal(line_of(&d), "iss: expected \"https://a\", got \"https://b\"");
    p.jwt.issuer = "https://b";
    p.jwt.typ = "JWT";
    assert_jg(JG_ERR_TYP, jg_access_token_open_ex(token, strlen(token), dk, vk, &p, &out, &d));
    assert_string_equal(line_of(&d), "typ: expected \"JWT\", got \"at+jwt\"");
    /* Success zeroes it. */
    p.jwt.typ = NULL;
    assert_jg_ok(jg_access_token_open_ex(token, strlen(token), dk, vk, &p, &out, &d));
    assert_int_equal(d.err, JG_OK);
    assert_int_equal(d.kind, JG_DETAIL_NONE);
    assert_int_equal(jg_detail_format(&d, NULL, 0), 0);
    jg_claims_free(out);
    jg_free(token);
    jg_jwks_free(dk);
    jg_jwks_free(vk);
    jg_jwk_free(sig);
    jg_jwk_free(enc);
}

/* ---- the detail itself ------------------------------------------------------- */

/* Errors with nothing more to say still set err; a NULL detail is fine;
 * success zeroes what a previous failure left. */
static void test_none_kind_null_and_success(void **state)
{
    (void)state;
    jg_jwk *k1 = gen(JG_ALG_ES256, "k1");
    jg_jwks *set = set_of(&k1, 1, 1);
    jg_jws_verify_opts vo = {.algs = JG_ALG_BIT(JG_ALG_ES256)};
    jg_jws *jws = NULL;
    jg_detail d;
    memset(&d, 0x5a, sizeof d);
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jws_verify_ex("a.b", 3, set, &vo, &jws, &d));
    assert_int_equal(d.err, JG_ERR_TOKEN_FORMAT);
    assert_int_equal(d.kind, JG_DETAIL_NONE);
    char buf[8] = "zzz";
    assert_int_equal(jg_detail_format(&d, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jws_verify_ex("a.b", 3, set, &vo, &jws, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_verify_ex(NULL, 0, set, &vo, &jws, &d));
    assert_int_equal(d.err, JG_ERR_INVALID_ARGUMENT);
    assert_int_equal(jg_detail_format(NULL, buf, sizeof buf), 0);

    char *token = NULL;
    jg_jws_signer s = {.key = k1};
    assert_jg_ok(jg_jws_sign("x", 1, &s, NULL, &token, NULL));
    memset(&d, 0x5a, sizeof d);
    assert_jg_ok(jg_jws_verify_ex(token, strlen(token), set, &vo, &jws, &d));
    jg_detail zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&d, &zero, sizeof d);
    jg_jws_free(jws);
    jg_free(token);
    jg_jwks_free(set);
    jg_jwk_free(k1);
}

/* Control characters, quotes and non-ASCII bytes are escaped; a long value
 * is cut with "..." and the line is bounded by the buffer. */
static void test_escaping_and_truncation(void **state)
{
    (void)state;
    jg_jwt_policy p = policy(0);
    p.allow_missing_exp = 1;
    p.issuer = "https://a";
    jg_detail d;
    assert_jg(JG_ERR_ISSUER, validate("{\"iss\":\"a\\n\\\"b\\\\\\u00e9\\u001b[31m\"}", &p, &d));
    assert_string_equal(d.actual, "\"a\\x0a\\\"b\\\\\\xc3\\xa9\\x1b[31m\"");
    char big[600] = "{\"iss\":\"";
    for (int i = 0; i < 500; i++)
        strcat(big, "x");
    strcat(big, "\"}");
    assert_jg(JG_ERR_ISSUER, validate(big, &p, &d));
    size_t n = strlen(d.actual);
    assert_true(n < sizeof d.actual);
    assert_string_equal(d.actual + n - 4, "...\"");
    /* A small buffer: cut, NUL-terminated, the full length returned. */
    char small[10];
    size_t full = jg_detail_format(&d, small, sizeof small);
    assert_true(full > sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    for (size_t i = 0; i < n; i++)
        assert_true(d.actual[i] >= 0x20 && d.actual[i] < 0x7f);
}

/* Every failure of an HS256 token, in every kind of detail: neither the
 * secret (raw or base64url) nor the token nor its signature appear. */
static void test_never_a_secret_or_token(void **state)
{
    (void)state;
    const unsigned char secret[32] = "0123456789abcdef0123456789abcde";
    jg_jwk_meta meta = {.kid = "hs", .alg = JG_ALG_HS256};
    jg_jwk *hs = NULL;
    assert_jg_ok(jg_jwk_from_secret(secret, sizeof secret, &meta, &hs));
    char *json = NULL;
    assert_jg_ok(jg_jwk_to_json(hs, JG_EXPORT_PRIVATE, &json, NULL));
    json_t *jwk = tu_json_parse(json);
    const char *k = json_string_value(json_object_get(jwk, "k"));
    jg_jwks *set = set_of(&hs, 1, 0);
    char *token = jwt(hs, "{\"iss\":\"https://b\",\"exp\":1}", NULL);
    const char *sig = strrchr(token, '.') + 1;

    jg_jwt_policy cases[4];
    for (int i = 0; i < 4; i++) {
        cases[i] = policy(JG_ALG_BIT(JG_ALG_HS256));
        cases[i].allow_missing_exp = 1;
    }
    cases[0].clock = NULL;         /* expired */
    cases[1].issuer = "https://a"; /* issuer, after exp */
    cases[1].leeway = INT64_MAX / 2;
    cases[2].algs = JG_ALG_BIT(JG_ALG_HS512);
    cases[3].typ = "at+jwt";
    for (int i = 0; i < 4; i++) {
        jg_detail d;
        assert_int_not_equal(jg_jwt_verify_ex(token, strlen(token), set, &cases[i], NULL, &d),
                             JG_OK);
        const char *line = line_of(&d);
        assert_true(line[0] != '\0');
        assert_null(strstr(line, (const char *)secret));
        assert_null(strstr(line, k));
        assert_null(strstr(line, sig));
        assert_null(memmem(&d, sizeof d, secret, 16));
        assert_null(memmem(&d, sizeof d, k, strlen(k)));
        assert_null(memmem(&d, sizeof d, sig, 16));
    }
    /* A tampered signature: the key lookup is named, nothing of the MAC. */
    char *bad = strdup(token);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    jg_detail d;
    assert_jg(JG_ERR_SIGNATURE, jg_jwt_verify_ex(bad, strlen(bad), set, &cases[1], NULL, &d));
    assert_string_equal(line_of(&d), "kid \"hs\", alg HS256");
    free(bad);
    json_decref(jwk);
    jg_free_secret(json, 0);
    jg_free(token);
    jg_jwks_free(set);
    jg_jwk_free(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_issuer_expected_and_actual),
        cmocka_unit_test(test_claim_audience_list),
        cmocka_unit_test(test_claim_missing_names_the_claim),
        cmocka_unit_test(test_claim_scope),
        cmocka_unit_test(test_time_expired_not_yet_valid_iat_too_old),
        cmocka_unit_test(test_header_typ_alg_crit),
        cmocka_unit_test(test_header_jwe_enc_alg_crit),
        cmocka_unit_test(test_key_not_found_names_kid_alg_and_set),
        cmocka_unit_test(test_access_token_open_detail),
        cmocka_unit_test(test_none_kind_null_and_success),
        cmocka_unit_test(test_escaping_and_truncation),
        cmocka_unit_test(test_never_a_secret_or_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
