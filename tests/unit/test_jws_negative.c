/*
 * test_jws_negative.c — every error jg_jws_sign() and jg_jws_verify() can
 * return, each provoked on purpose. Tokens with a bad header are built by
 * hand and signed correctly, so that each refusal comes from the rule under
 * test and not from a broken signature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws/sig.h"
#include "jws_testlib.h"

static const unsigned char secret32[32] = "0123456789abcdef0123456789ABCDEF";

/* Keys shared by the tests (loaded once). */
static jg_jwk *hk;    /* oct, 32 bytes, kid "hk" */
static jg_jwk *rsa;   /* RFC 7520 RSA private key, kid bilbo */
static jg_jwk *p256;  /* RFC 7515 A.3 P-256 private key */
static jg_jwk *p521;  /* RFC 7520 P-521 private key */
static jg_jwk *ed;    /* RFC 8037 Ed25519 private key */
static jg_jwk *ed448; /* generated */
static jg_jwks *all;  /* verifier keys of all of the above */

static int setup(void **state)
{
    (void)state;
    jg_jwk_meta meta = {.kid = "hk"};
    assert_jg_ok(jg_jwk_from_secret(secret32, sizeof secret32, &meta, &hk));
    json_t *v = tu_load_vector("jose-cookbook/jws/4_1.rsa_v15_signature.json");
    rsa = tk_key_json(tu_json_at(v, "input/key"));
    json_decref(v);
    v = tu_load_vector("rfc/rfc7515.json");
    p256 = tk_key_json(tu_json_at(v, "keys/A.3"));
    json_decref(v);
    v = tu_load_vector("jose-cookbook/jws/4_3.ecdsa_signature.json");
    p521 = tk_key_json(tu_json_at(v, "input/key"));
    json_decref(v);
    v = tu_load_vector("jose-cookbook/curve25519/jws.json");
    ed = tk_key_json(tu_json_at(v, "input/key"));
    json_decref(v);
    assert_jg_ok(jg_jwk_generate(JG_KTY_OKP, JG_CRV_ED448, 0, NULL, &ed448));
    jg_jwk *keys[] = {hk, rsa, p256, p521, ed, ed448};
    all = tk_verify_set(keys, sizeof keys / sizeof keys[0]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jg_jwks_free(all);
    jg_jwk_free(hk);
    jg_jwk_free(rsa);
    jg_jwk_free(p256);
    jg_jwk_free(p521);
    jg_jwk_free(ed);
    jg_jwk_free(ed448);
    return 0;
}

static char *b64(const void *data, size_t len)
{
    char *out = NULL;
    assert_jg_ok(jg_b64url_encode_alloc(data, len, &out, NULL));
    return out;
}

/* header_b64 '.' payload_part '.' sig_b64, where the signature is made by
 * `key` with `alg` over the first two parts, or is `sig_part` when given. */
static char *mk_token_parts(const char *hdr_b64, const char *payload_part, const jg_jwk *key,
                            jg_alg alg, const char *sig_part)
{
    size_t cap = strlen(hdr_b64) + strlen(payload_part) + 2 * JG__SIG_MAX + 8;
    char *tok = malloc(cap);
    assert_non_null(tok);
    int n = snprintf(tok, cap, "%s.%s.", hdr_b64, payload_part);
    if (sig_part != NULL) {
        snprintf(tok + n, cap - (size_t)n, "%s", sig_part);
        return tok;
    }
    jg__sig_input in;
    jg__sig_input_one(&in, tok, (size_t)n - 1);
    unsigned char sig[JG__SIG_MAX];
    size_t sig_len = 0;
    assert_jg_ok(jg__sig_sign(key, alg, &in, sig, &sig_len));
    jg_b64url_encode(sig, sig_len, tok + n);
    return tok;
}

/* A compact token with the header JSON given verbatim, properly signed. */
static char *mk_token(const char *hdr_json, const char *payload, const jg_jwk *key, jg_alg alg)
{
    char *h = b64(hdr_json, strlen(hdr_json));
    char *p = b64(payload, strlen(payload));
    char *tok = mk_token_parts(h, p, key, alg, NULL);
    free(h);
    free(p);
    return tok;
}

static jg_err verify(const char *token, const jg_jwks *set, const jg_jws_verify_opts *opts)
{
    jg_jws *jws = NULL;
    jg_err err = jg_jws_verify(token, strlen(token), set, opts, &jws);
    if (err == JG_OK)
        assert_non_null(jws);
    else
        assert_null(jws);
    jg_jws_free(jws);
    return err;
}

static jg_err verify_algs(const char *token, const jg_jwks *set, jg_alg_set algs)
{
    jg_jws_verify_opts opts = tk_opts_mixed(algs);
    return verify(token, set, &opts);
}

#define ALL_ALGS (JG_ALGS_HMAC | JG_ALGS_ASYMMETRIC_SIG)

/* ---- jg_jws_sign ---------------------------------------------------------- */

static void test_sign_arguments(void **state)
{
    (void)state;
    jg_jws_signer s = {.key = hk, .alg = JG_ALG_HS256};
    jg_jws_signer two[2] = {s, s};
    char *out = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign("x", 1, &s, NULL, NULL, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign("x", 1, NULL, NULL, &out, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign(NULL, 1, &s, NULL, &out, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign_multi("x", 1, two, 0, NULL, &out, NULL));
    jg_jws_sign_opts bad = {.format = (jg_format)7};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign("x", 1, &s, &bad, &out, NULL));
    jg_jws_sign_opts compact = {.format = JG_FORMAT_COMPACT};
    jg_jws_sign_opts flat = {.format = JG_FORMAT_FLATTENED};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign_multi("x", 1, two, 2, &compact, &out, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign_multi("x", 1, two, 2, &flat, &out, NULL));
    jg_jws_signer nokey = {.alg = JG_ALG_HS256};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_sign("x", 1, &nokey, NULL, &out, NULL));
    assert_null(out);
    /* An empty payload is fine, NULL with length 0 too. */
    assert_jg_ok(jg_jws_sign(NULL, 0, &s, NULL, &out, NULL));
    assert_jg_ok(verify_algs(out, all, JG_ALGS_HMAC));
    jg_free(out);
}

static void test_sign_alg_and_key_refusals(void **state)
{
    (void)state;
    char *out = NULL;
    /* No alg given and none on the key. */
    jg_jws_signer s = {.key = hk};
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    s.alg = (jg_alg)200;
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    s.alg = JG_ALG_A256KW; /* a JWE alg */
    assert_jg(JG_ERR_ALG_KIND, jg_jws_sign("x", 1, &s, NULL, &out, NULL));

    s = (jg_jws_signer){.key = p256, .alg = JG_ALG_RS256};
    assert_jg(JG_ERR_KEY_TYPE, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    s = (jg_jws_signer){.key = p256, .alg = JG_ALG_ES384};
    assert_jg(JG_ERR_KEY_CURVE, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(rsa, &pub));
    s = (jg_jws_signer){.key = pub, .alg = JG_ALG_RS256};
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_jwk_free(pub);

    jg_jwk *k = NULL;
    assert_jg_ok(jg_jwk_from_secret(secret32, 16, NULL, &k)); /* 128 bits < SHA-256 */
    s = (jg_jws_signer){.key = k, .alg = JG_ALG_HS256};
    assert_jg(JG_ERR_KEY_WEAK, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_jwk_free(k);
    jg_jwk_meta meta = {.alg = JG_ALG_HS384};
    assert_jg_ok(jg_jwk_from_secret(secret32, 32, &meta, &k));
    s = (jg_jws_signer){.key = k, .alg = JG_ALG_HS256};
    assert_jg(JG_ERR_KEY_ALG, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_jwk_free(k);
    meta = (jg_jwk_meta){.use = JG_USE_ENC};
    assert_jg_ok(jg_jwk_from_secret(secret32, 32, &meta, &k));
    s.key = k;
    assert_jg(JG_ERR_KEY_USE, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_jwk_free(k);
    meta = (jg_jwk_meta){.key_ops = JG_OP_VERIFY};
    assert_jg_ok(jg_jwk_from_secret(secret32, 32, &meta, &k));
    s.key = k;
    assert_jg(JG_ERR_KEY_OPS, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_jwk_free(k);
    assert_null(out);
}

static void test_sign_header_refusals(void **state)
{
    (void)state;
    char *out = NULL;
    jg_jws_sign_opts flat = {.format = JG_FORMAT_FLATTENED};
    static const struct {
        const char *prot, *unprot;
        jg_err err;
    } cases[] = {
        {"{", NULL, JG_ERR_JSON_SYNTAX},
        {"[1]", NULL, JG_ERR_JSON_NOT_OBJECT},
        {"{\"typ\":\"a\",\"typ\":\"b\"}", NULL, JG_ERR_JSON_DUPLICATE},
        {"{\"alg\":\"HS384\"}", NULL, JG_ERR_HEADER_INVALID},
        {"{\"alg\":256}", NULL, JG_ERR_HEADER_INVALID},
        {NULL, "{\"alg\":\"none\"}", JG_ERR_HEADER_INVALID},
        {"{\"kid\":7}", NULL, JG_ERR_HEADER_INVALID},
        {"{\"b64\":false,\"crit\":[\"b64\"]}", NULL, JG_ERR_HEADER_INVALID},
        {NULL, "{\"b64\":true}", JG_ERR_HEADER_INVALID},
        {"{\"typ\":\"JWT\"}", "{\"typ\":\"JWT\"}", JG_ERR_HEADER_DUPLICATE},
        {"{\"crit\":[]}", NULL, JG_ERR_CRIT_INVALID},
        {"{\"crit\":[\"exp\"]}", NULL, JG_ERR_CRIT_INVALID},
        {"{\"crit\":[\"kid\"],\"kid\":\"a\"}", NULL, JG_ERR_CRIT_INVALID},
        {"{\"crit\":\"exp\",\"exp\":1}", NULL, JG_ERR_CRIT_INVALID},
        {"{\"exp\":1}", "{\"crit\":[\"exp\"]}", JG_ERR_CRIT_UNPROTECTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jg_jws_signer s = {.key = hk,
                           .alg = JG_ALG_HS256,
                           .protected_json = cases[i].prot,
                           .unprotected_json = cases[i].unprot};
        jg_err err = jg_jws_sign("x", 1, &s, &flat, &out, NULL);
        if (err != cases[i].err)
            fail_msg("case %zu: expected %s, got %s", i, jg_err_name(cases[i].err),
                     jg_err_name(err));
        assert_null(out);
    }
    /* Nesting beyond the default depth. */
    char deep[128];
    int n = snprintf(deep, sizeof deep, "{\"x\":");
    for (int i = 0; i < 33; i++)
        deep[n++] = '[';
    for (int i = 0; i < 33; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    jg_jws_signer d = {.key = hk, .alg = JG_ALG_HS256, .protected_json = deep};
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg_jws_sign("x", 1, &d, NULL, &out, NULL));
    d.protected_json = NULL;
    d.unprotected_json = deep;
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, jg_jws_sign("x", 1, &d, &flat, &out, NULL));

    /* An extension the caller processes itself may be critical. */
    jg_jws_signer s = {
        .key = hk, .alg = JG_ALG_HS256, .protected_json = "{\"exp\":5,\"crit\":[\"exp\"]}"};
    assert_jg_ok(jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_free(out);
}

static void test_sign_format_refusals(void **state)
{
    (void)state;
    char *out = NULL;
    jg_jws_signer s = {.key = hk, .alg = JG_ALG_HS256, .unprotected_json = "{\"x\":1}"};
    /* Compact has no unprotected header. */
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    s.unprotected_json = NULL;
    jg_jws_sign_opts o = {.b64_false = 1};
    /* RFC 7797 section 5.2: '.' would split the compact token. */
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jws_sign("a.b", 3, &s, &o, &out, NULL));
    o.detached = 1; /* detached: fine */
    assert_jg_ok(jg_jws_sign("a.b", 3, &s, &o, &out, NULL));
    jg_free(out);
    /* A JSON payload must be a JSON string, i.e. UTF-8. */
    o = (jg_jws_sign_opts){.b64_false = 1, .format = JG_FORMAT_GENERAL};
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jws_sign("\xff\xfe", 2, &s, &o, &out, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jws_sign("\xed\xa0\x80", 3, &s, &o, &out, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jws_sign("\xc0\xaf", 2, &s, &o, &out, NULL));
    assert_null(out);
    assert_jg_ok(jg_jws_sign("caf\xc3\xa9 \xf0\x9f\x94\x91", 10, &s, &o, &out, NULL));
    jg_free(out);
}

/* ---- jg_jws_verify: arguments and limits ---------------------------------- */

static void test_verify_arguments(void **state)
{
    (void)state;
    char *tok = mk_token("{\"alg\":\"HS256\"}", "p", hk, JG_ALG_HS256);
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_HMAC);
    jg_jws *jws = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_verify(NULL, 3, all, &opts, &jws));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_verify(tok, strlen(tok), NULL, &opts, &jws));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_verify(tok, strlen(tok), all, NULL, &jws));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_verify(tok, strlen(tok), all, &opts, NULL));
    opts.algs = 0;
    assert_jg(JG_ERR_ALGS_EMPTY, jg_jws_verify(tok, strlen(tok), all, &opts, &jws));
    opts = tk_opts_mixed(JG_ALGS_HMAC);
    opts.detached_payload_len = 3;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_verify(tok, strlen(tok), all, &opts, &jws));
    opts = tk_opts_mixed(JG_ALGS_HMAC);
    opts.policy = (jg_sig_policy)9;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_verify(tok, strlen(tok), all, &opts, &jws));
    assert_null(jws);
    assert_jg_ok(verify_algs(tok, all, JG_ALGS_HMAC));
    free(tok);
}

static void test_verify_limits(void **state)
{
    (void)state;
    jg_limits limits = jg_limits_default();
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_HMAC);
    opts.limits = &limits;

    char *tok = mk_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "payload!", hk, JG_ALG_HS256);
    size_t len = strlen(tok);
    limits.max_token_len = len - 1;
    assert_jg(JG_ERR_LIMIT_TOKEN_SIZE, verify(tok, all, &opts));
    limits.max_token_len = len;
    assert_jg_ok(verify(tok, all, &opts));

    limits.max_header_len = strlen("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") - 1;
    assert_jg(JG_ERR_LIMIT_HEADER_SIZE, verify(tok, all, &opts));
    limits.max_header_len = strlen("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    assert_jg_ok(verify(tok, all, &opts));

    limits.max_payload_len = 7;
    assert_jg(JG_ERR_LIMIT_TOKEN_SIZE, verify(tok, all, &opts));
    limits.max_payload_len = 8;
    assert_jg_ok(verify(tok, all, &opts));
    free(tok);

    /* Deep JSON in the header, and in a JSON serialization. */
    limits = jg_limits_default();
    limits.max_json_depth = 4;
    tok = mk_token("{\"alg\":\"HS256\",\"x\":[[[[1]]]]}", "p", hk, JG_ALG_HS256);
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, verify(tok, all, &opts));
    limits.max_json_depth = 5;
    assert_jg_ok(verify(tok, all, &opts));
    free(tok);
    limits.max_json_depth = 3;
    const char *deep = "{\"payload\":\"cA\",\"signature\":\"AA\",\"header\":{\"a\":[[1]]}}";
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, verify(deep, all, &opts));
    /* Default depth (32) against a hostile nesting. */
    opts.limits = NULL;
    char hdr[200];
    int n = snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"x\":");
    for (int i = 0; i < 40; i++)
        hdr[n++] = '[';
    for (int i = 0; i < 40; i++)
        hdr[n++] = ']';
    hdr[n++] = '}';
    hdr[n] = '\0';
    tok = mk_token(hdr, "p", hk, JG_ALG_HS256);
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, verify(tok, all, &opts));
    free(tok);
}

static void test_verify_signature_count_limit(void **state)
{
    (void)state;
    jg_jws_signer s[3] = {{.key = hk, .alg = JG_ALG_HS256},
                          {.key = p256, .alg = JG_ALG_ES256},
                          {.key = ed, .alg = JG_ALG_EDDSA}};
    jg_jws_sign_opts so = {.format = JG_FORMAT_GENERAL};
    char *out = NULL;
    assert_jg_ok(jg_jws_sign_multi("p", 1, s, 3, &so, &out, NULL));
    jg_limits limits = jg_limits_default();
    limits.max_signatures = 2;
    jg_jws_verify_opts opts = tk_opts_mixed(ALL_ALGS);
    opts.limits = &limits;
    assert_jg(JG_ERR_LIMIT_SIGNATURES, verify(out, all, &opts));
    limits.max_signatures = 3;
    assert_jg_ok(verify(out, all, &opts));
    jg_free(out);
}

/* ---- structure and base64url ---------------------------------------------- */

static void test_verify_structure(void **state)
{
    (void)state;
    char *tok = mk_token("{\"alg\":\"HS256\"}", "payload", hk, JG_ALG_HS256);
    char buf[512];
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    /* Wrong numbers of dots. */
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_algs("", all, JG_ALGS_HMAC));
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_algs("abc", all, JG_ALGS_HMAC));
    snprintf(buf, sizeof buf, "%.*s", (int)(d2 - tok), tok); /* two parts */
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_algs(buf, all, JG_ALGS_HMAC));
    snprintf(buf, sizeof buf, "%s.", tok); /* four parts */
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_algs(buf, all, JG_ALGS_HMAC));
    snprintf(buf, sizeof buf, "%s.x.y", tok); /* five parts: a JWE shape */
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_algs(buf, all, JG_ALGS_HMAC));
    snprintf(buf, sizeof buf, "%s", d1); /* empty header */
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_algs(buf, all, JG_ALGS_HMAC));
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_algs("..", all, JG_ALGS_HMAC));

    /* JSON serializations without what they need. */
    static const struct {
        const char *json;
        jg_err err;
    } cases[] = {
        {"{\"payload\":\"cA\"}", JG_ERR_TOKEN_FORMAT},
        {"{\"payload\":\"cA\",\"signatures\":[]}", JG_ERR_TOKEN_FORMAT},
        {"{\"payload\":\"cA\",\"signatures\":{}}", JG_ERR_JSON_TYPE},
        {"{\"payload\":\"cA\",\"signatures\":[7]}", JG_ERR_JSON_TYPE},
        {"{\"payload\":\"cA\",\"signatures\":[{\"protected\":\"eyJhbGciOiJIUzI1NiJ9\"}]}",
         JG_ERR_TOKEN_FORMAT},
        {"{\"payload\":\"cA\",\"signatures\":[{\"signature\":\"AA\"}]}", JG_ERR_TOKEN_FORMAT},
        {"{\"payload\":\"cA\",\"signature\":\"AA\",\"signatures\":[]}", JG_ERR_TOKEN_FORMAT},
        {"{\"payload\":\"cA\",\"protected\":\"eyJhbGciOiJIUzI1NiJ9\",\"signatures\":["
         "{\"protected\":\"eyJhbGciOiJIUzI1NiJ9\",\"signature\":\"AA\"}]}",
         JG_ERR_TOKEN_FORMAT},
        {"{\"payload\":7,\"signature\":\"AA\",\"header\":{\"alg\":\"HS256\"}}", JG_ERR_JSON_TYPE},
        {"{\"payload\":\"cA\",\"signature\":7,\"header\":{\"alg\":\"HS256\"}}", JG_ERR_JSON_TYPE},
        {"{\"payload\":\"cA\",\"signature\":\"AA\",\"protected\":7}", JG_ERR_JSON_TYPE},
        {"{\"payload\":\"cA\",\"signature\":\"AA\",\"header\":\"x\"}", JG_ERR_JSON_TYPE},
        {"{\"payload\":\"cA\",\"signature\":\"AA\",\"protected\":\"\"}", JG_ERR_JSON_SYNTAX},
        {"{\"payload\":\"cA\",\"signature\":\"AA\",\"protected\":\"W10\"}", JG_ERR_JSON_NOT_OBJECT},
        {"{\"payload\":\"cA\",\"payload\":\"cA\",\"signature\":\"AA\"}", JG_ERR_JSON_DUPLICATE},
        {"{\"payload\":\"cA\",", JG_ERR_JSON_SYNTAX},
        {"  {\"payload\":\"cA\",\"signature\":\"AA\",\"header\":{\"alg\":\"HS256\"}} x",
         JG_ERR_JSON_SYNTAX},
        {"[1]", JG_ERR_TOKEN_FORMAT}, /* not '{': read as compact, which has no dots */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jg_err err = verify_algs(cases[i].json, all, JG_ALGS_HMAC);
        if (err != cases[i].err)
            fail_msg("case %zu (%s): expected %s, got %s", i, cases[i].json,
                     jg_err_name(cases[i].err), jg_err_name(err));
    }
    free(tok);
}

static void test_verify_base64url_in_each_part(void **state)
{
    (void)state;
    char *h = b64("{\"alg\":\"HS256\"}", 15);
    char *good = mk_token("{\"alg\":\"HS256\"}", "payload", hk, JG_ALG_HS256);
    const char *sig = strrchr(good, '.') + 1;
    char *sig2 = strdup(sig);
    static const struct {
        const char *bad;
        jg_err err;
    } bads[] = {
        {"eyJhbGc+", JG_ERR_B64_CHAR},    {"eyJhbGc/", JG_ERR_B64_CHAR},
        {"eyJ hbGc", JG_ERR_B64_CHAR},    {"cGF5bG9hZA==", JG_ERR_B64_PADDING},
        {"cGF5bG9hZ", JG_ERR_B64_LENGTH}, {"cGF5bG9hZB", JG_ERR_B64_NONCANONICAL},
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        /* Header. */
        char *t = mk_token_parts(bads[i].bad, "cGF5bG9hZA", hk, JG_ALG_HS256, sig2);
        assert_jg(bads[i].err, verify_algs(t, all, JG_ALGS_HMAC));
        free(t);
        /* Payload (the token is correctly signed over the bad part). */
        t = mk_token_parts(h, bads[i].bad, hk, JG_ALG_HS256, NULL);
        assert_jg(bads[i].err, verify_algs(t, all, JG_ALGS_HMAC));
        free(t);
        /* Signature. */
        t = mk_token_parts(h, "cGF5bG9hZA", hk, JG_ALG_HS256, bads[i].bad);
        assert_jg(bads[i].err, verify_algs(t, all, JG_ALGS_HMAC));
        free(t);
    }
    /* Base64url inside JSON serializations too. */
    assert_jg(
        JG_ERR_B64_PADDING,
        verify_algs("{\"payload\":\"cA==\",\"signature\":\"AA\",\"header\":{\"alg\":\"HS256\"}}",
                    all, JG_ALGS_HMAC));
    assert_jg(
        JG_ERR_B64_CHAR,
        verify_algs("{\"payload\":\"cA\",\"signature\":\"A+\",\"header\":{\"alg\":\"HS256\"}}", all,
                    JG_ALGS_HMAC));
    /* NUL in a JSON string is refused outright. */
    assert_jg(JG_ERR_JSON_SYNTAX, verify_algs("{\"payload\":\"cA\",\"signature\":\"AA\","
                                              "\"protected\":\"eyJhbGciOiJIUzI1NiJ9\\u0000\"}",
                                              all, JG_ALGS_HMAC));
    free(sig2);
    free(good);
    free(h);
}

/* ---- headers -------------------------------------------------------------- */

static void test_verify_header_rules(void **state)
{
    (void)state;
    static const struct {
        const char *hdr;
        jg_err err;
    } cases[] = {
        {"not json", JG_ERR_JSON_SYNTAX},
        {"[\"alg\"]", JG_ERR_JSON_NOT_OBJECT},
        {"{\"alg\":\"HS256\",\"alg\":\"none\"}", JG_ERR_JSON_DUPLICATE},
        {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}", JG_ERR_JSON_DUPLICATE},
        {"{\"typ\":\"JWT\"}", JG_ERR_HEADER_ALG_MISSING},
        {"{\"alg\":[\"HS256\"]}", JG_ERR_HEADER_INVALID},
        {"{\"alg\":\"HS256\",\"kid\":7}", JG_ERR_HEADER_INVALID},
        {"{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", JG_ERR_CRIT_UNKNOWN},
        {"{\"alg\":\"HS256\",\"crit\":[]}", JG_ERR_CRIT_INVALID},
        {"{\"alg\":\"HS256\",\"crit\":\"exp\",\"exp\":1}", JG_ERR_CRIT_INVALID},
        {"{\"alg\":\"HS256\",\"crit\":[1]}", JG_ERR_CRIT_INVALID},
        {"{\"alg\":\"HS256\",\"crit\":[\"alg\"]}", JG_ERR_CRIT_INVALID},
        {"{\"alg\":\"HS256\",\"crit\":[\"kid\"],\"kid\":\"hk\"}", JG_ERR_CRIT_INVALID},
        {"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", JG_ERR_CRIT_INVALID}, /* absent */
        {"{\"alg\":\"HS256\",\"crit\":[\"exp\",\"exp\"],\"exp\":1}", JG_ERR_CRIT_INVALID},
        {"{\"alg\":\"HS256\",\"b64\":false}", JG_ERR_B64_HEADER}, /* not in crit */
        {"{\"alg\":\"HS256\",\"b64\":\"no\",\"crit\":[\"b64\"]}", JG_ERR_B64_HEADER},
        {"{\"alg\":\"none\"}", JG_ERR_ALG_NONE},
        {"{\"alg\":\"XS256\"}", JG_ERR_ALG_UNKNOWN},
        {"{\"alg\":\"hs256\"}", JG_ERR_ALG_UNKNOWN},
        {"{\"alg\":\"RSA-OAEP\"}", JG_ERR_ALG_KIND},
        {"{\"alg\":\"dir\"}", JG_ERR_ALG_KIND},
        {"{\"alg\":\"HS384\"}", JG_ERR_ALG_NOT_ALLOWED},
        {"{\"alg\":\"HS256\",\"kid\":\"nobody\"}", JG_ERR_KEY_NOT_FOUND},
        {"{\"alg\":\"HS256\",\"kid\":\"hk\\u0000x\"}", JG_ERR_JSON_SYNTAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *tok = mk_token(cases[i].hdr, "payload", hk, JG_ALG_HS256);
        jg_err err = verify_algs(tok, all, JG_ALG_BIT(JG_ALG_HS256));
        if (err != cases[i].err)
            fail_msg("case %zu (%s): expected %s, got %s", i, cases[i].hdr,
                     jg_err_name(cases[i].err), jg_err_name(err));
        free(tok);
    }

    /* "none" is refused even when "none"-like tricks are tried: case and
     * an empty signature. */
    char *h = b64("{\"alg\":\"none\"}", 14);
    char *tok = mk_token_parts(h, "cA", hk, JG_ALG_HS256, "");
    assert_jg(JG_ERR_ALG_NONE, verify_algs(tok, all, ALL_ALGS));
    free(tok);
    free(h);

    /* A critical extension the caller declares it processes. */
    tok = mk_token("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", "p", hk, JG_ALG_HS256);
    static const char *const understood[] = {"exp", NULL};
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_HMAC);
    opts.crit = understood;
    assert_jg_ok(verify(tok, all, &opts));
    free(tok);

    /* "b64":true listed in crit is the default, and fine. */
    tok = mk_token("{\"alg\":\"HS256\",\"b64\":true,\"crit\":[\"b64\"]}", "p", hk, JG_ALG_HS256);
    assert_jg_ok(verify_algs(tok, all, JG_ALGS_HMAC));
    free(tok);
}

/* A flattened JSON token with the given headers, signed with hk/HS256. */
static char *mk_flat(const char *prot_json, const char *unprot_json, const char *payload_enc)
{
    char *prot = prot_json ? b64(prot_json, strlen(prot_json)) : strdup("");
    size_t in_len = strlen(prot) + 1 + strlen(payload_enc);
    char *in = malloc(in_len + 1);
    snprintf(in, in_len + 1, "%s.%s", prot, payload_enc);
    jg__sig_input si;
    jg__sig_input_one(&si, in, in_len);
    unsigned char sig[64];
    size_t sig_len = 0;
    assert_jg_ok(jg__sig_sign(hk, JG_ALG_HS256, &si, sig, &sig_len));
    char sig_b64[100];
    jg_b64url_encode(sig, sig_len, sig_b64);
    size_t cap = in_len + strlen(unprot_json ? unprot_json : "") + 200;
    char *out = malloc(cap);
    int n = snprintf(out, cap, "{\"payload\":\"%s\"", payload_enc);
    if (prot_json)
        n += snprintf(out + n, cap - (size_t)n, ",\"protected\":\"%s\"", prot);
    if (unprot_json)
        n += snprintf(out + n, cap - (size_t)n, ",\"header\":%s", unprot_json);
    snprintf(out + n, cap - (size_t)n, ",\"signature\":\"%s\"}", sig_b64);
    free(in);
    free(prot);
    return out;
}

static void test_verify_unprotected_header_rules(void **state)
{
    (void)state;
    static const struct {
        const char *prot, *unprot, *payload;
        jg_err err;
    } cases[] = {
        {"{\"alg\":\"HS256\"}", "{\"kid\":\"hk\"}", "cA", JG_OK},
        {NULL, "{\"alg\":\"HS256\",\"kid\":\"hk\"}", "cA", JG_OK},
        {"{\"alg\":\"HS256\"}", "{\"alg\":\"HS256\"}", "cA", JG_ERR_HEADER_DUPLICATE},
        {"{\"alg\":\"HS256\",\"kid\":\"hk\"}", "{\"kid\":\"hk\"}", "cA", JG_ERR_HEADER_DUPLICATE},
        {"{\"alg\":\"HS256\",\"exp\":1}", "{\"crit\":[\"exp\"]}", "cA", JG_ERR_CRIT_UNPROTECTED},
        {"{\"alg\":\"HS256\"}", "{\"b64\":true}", "cA", JG_ERR_B64_HEADER},
        {"{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", "{\"b64\":false}", "p", JG_ERR_CRIT_INVALID},
        {"{\"typ\":\"JWT\"}", "{\"kid\":\"hk\"}", "cA", JG_ERR_HEADER_ALG_MISSING},
        {"{\"alg\":\"HS256\"}", "{\"kid\":[\"hk\"]}", "cA", JG_ERR_HEADER_INVALID},
        {NULL, "{\"alg\":\"none\"}", "cA", JG_ERR_ALG_NONE},
        {NULL, "{\"alg\":\"HS256\",\"kid\":\"other\"}", "cA", JG_ERR_KEY_NOT_FOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *tok = mk_flat(cases[i].prot, cases[i].unprot, cases[i].payload);
        jg_err err = verify_algs(tok, all, JG_ALGS_HMAC);
        if (err != cases[i].err)
            fail_msg("case %zu (%s): expected %s, got %s", i, tok, jg_err_name(cases[i].err),
                     jg_err_name(err));
        free(tok);
    }
}

/* Headers with many members (the sorted path of the disjointness check):
 * one shared name among 40 is found, none shared passes; and what a verified
 * JSON token's result reports comes from the headers read by the library's
 * own reader (protected first, then unprotected). */
static void test_verify_large_headers_and_result(void **state)
{
    (void)state;
    char prot[1024], unprot[1024], unprot_dup[1024];
    int p = snprintf(prot, sizeof prot, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"");
    int u = snprintf(unprot, sizeof unprot, "{\"kid\":\"hk\"");
    for (int i = 0; i < 20; i++) {
        p += snprintf(prot + p, sizeof prot - (size_t)p, ",\"p%02d\":%d", i, i);
        u += snprintf(unprot + u, sizeof unprot - (size_t)u, ",\"u%02d\":%d", i, i);
    }
    snprintf(prot + p, sizeof prot - (size_t)p, "}");
    memcpy(unprot_dup, unprot, (size_t)u);
    snprintf(unprot_dup + u, sizeof unprot_dup - (size_t)u, ",\"p17\":0}");
    snprintf(unprot + u, sizeof unprot - (size_t)u, ",\"x-trace\":\"abc\"}");

    char *tok = mk_flat(prot, unprot_dup, "cA");
    assert_jg(JG_ERR_HEADER_DUPLICATE, verify_algs(tok, all, JG_ALGS_HMAC));
    free(tok);

    tok = mk_flat(prot, unprot, "cA");
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_HMAC);
    jg_jws *jws = NULL;
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), all, &opts, &jws));
    free(tok);
    const char *v = NULL;
    assert_jg_ok(jg_jws_header_string(jws, "typ", &v)); /* protected */
    assert_string_equal(v, "at+jwt");
    assert_jg_ok(jg_jws_header_string(jws, "x-trace", &v)); /* unprotected */
    assert_string_equal(v, "abc");
    assert_jg(JG_ERR_JSON_TYPE, jg_jws_header_string(jws, "p03", &v));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_jws_header_string(jws, "absent", &v));
    char *json = NULL;
    assert_jg_ok(jg_jws_protected_json(jws, &json));
    assert_non_null(strstr(json, "{\"alg\":\"HS256\",\"p00\":0,")); /* sorted */
    assert_null(strstr(json, "x-trace")); /* the unprotected header is not in it */
    jg_free(json);
    jg_jws_free(jws);

    /* Only an unprotected header: the protected JSON is "{}". */
    tok = mk_flat(NULL, "{\"alg\":\"HS256\",\"kid\":\"hk\"}", "cA");
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), all, &opts, &jws));
    free(tok);
    assert_jg_ok(jg_jws_header_string(jws, "kid", &v));
    assert_string_equal(v, "hk");
    assert_jg_ok(jg_jws_protected_json(jws, &json));
    assert_string_equal(json, "{}");
    jg_free(json);
    jg_jws_free(jws);
}

static void test_verify_b64_rules(void **state)
{
    (void)state;
    /* Differing "b64" between signatures of one token. */
    jg_jws_signer s[2] = {{.key = hk, .alg = JG_ALG_HS256}, {.key = p256, .alg = JG_ALG_ES256}};
    jg_jws_sign_opts so = {.format = JG_FORMAT_GENERAL, .b64_false = 1};
    char *a = NULL, *b = NULL;
    assert_jg_ok(jg_jws_sign_multi("xyz", 3, s, 2, &so, &a, NULL));
    so.b64_false = 0;
    assert_jg_ok(jg_jws_sign_multi("xyz", 3, s, 2, &so, &b, NULL));
    assert_jg_ok(verify_algs(a, all, ALL_ALGS));
    assert_jg_ok(verify_algs(b, all, ALL_ALGS));
    /* Splice the second signature of the b64 token into the unencoded one. */
    json_error_t error;
    json_t *ja = json_loads(a, 0, &error), *jb = json_loads(b, 0, &error);
    json_t *sa = json_object_get(ja, "signatures");
    json_array_set(sa, 1, json_array_get(json_object_get(jb, "signatures"), 1));
    char *mixed = tu_json_text(ja);
    assert_jg(JG_ERR_B64_HEADER, verify_algs(mixed, all, ALL_ALGS));
    free(mixed);
    json_decref(ja);
    json_decref(jb);
    jg_free(a);
    jg_free(b);

    /* The unencoded payload read as base64url, or the reverse, fails. */
    jg_jws_signer one = {.key = hk, .alg = JG_ALG_HS256};
    jg_jws_sign_opts o = {.b64_false = 1};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("abc", 3, &one, &o, &tok, NULL));
    jg_jws_verify_opts vo = tk_opts_mixed(JG_ALGS_HMAC);
    jg_jws *jws = NULL;
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), all, &vo, &jws));
    assert_string_equal((const char *)jg_jws_payload(jws, NULL), "abc");
    jg_jws_free(jws);
    jg_free(tok);
}

static void test_verify_detached(void **state)
{
    (void)state;
    jg_jws_signer s = {.key = hk, .alg = JG_ALG_HS256};
    jg_jws_sign_opts so = {.detached = 1};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("content", 7, &s, &so, &tok, NULL));
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_HMAC);
    /* Missing: the compact form reads as an empty payload, which fails. */
    assert_jg(JG_ERR_DETACHED_PAYLOAD, verify(tok, all, &opts));
    opts.detached_payload = "content";
    opts.detached_payload_len = 7;
    assert_jg_ok(verify(tok, all, &opts));
    opts.detached_payload_len = 6;
    assert_jg(JG_ERR_SIGNATURE, verify(tok, all, &opts));
    jg_free(tok);

    /* Given, but the token carries a payload. */
    assert_jg_ok(jg_jws_sign("content", 7, &s, NULL, &tok, NULL));
    opts.detached_payload_len = 7;
    assert_jg(JG_ERR_DETACHED_PAYLOAD, verify(tok, all, &opts));
    jg_free(tok);

    /* JSON without "payload": detached for sure. */
    so.format = JG_FORMAT_FLATTENED;
    assert_jg_ok(jg_jws_sign("content", 7, &s, &so, &tok, NULL));
    assert_null(strstr(tok, "payload"));
    jg_jws_verify_opts none = tk_opts_mixed(JG_ALGS_HMAC);
    assert_jg(JG_ERR_DETACHED_PAYLOAD, verify(tok, all, &none));
    assert_jg_ok(verify(tok, all, &opts));
    jg_free(tok);
    so.format = JG_FORMAT_FLATTENED;
    so.detached = 0;
    assert_jg_ok(jg_jws_sign("content", 7, &s, &so, &tok, NULL));
    assert_jg(JG_ERR_DETACHED_PAYLOAD, verify(tok, all, &opts));
    jg_free(tok);

    /* A signed empty payload is not "detached". */
    assert_jg_ok(jg_jws_sign("", 0, &s, NULL, &tok, NULL));
    assert_jg_ok(verify(tok, all, &none));
    jg_free(tok);
}

/* ---- keys ------------------------------------------------------------------ */

static void test_verify_key_refusals(void **state)
{
    (void)state;
    jg_jws_signer s = {.key = p256, .alg = JG_ALG_ES256};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("p", 1, &s, NULL, &tok, NULL));
    jg_jwk *pub = tk_verifier(p256);

    /* Only an RSA key: wrong type. */
    jg_jwk *rpub = tk_verifier(rsa);
    jg_jwks *set = tk_set(&rpub, 1);
    assert_jg(JG_ERR_KEY_TYPE, verify_algs(tok, set, JG_ALGS_EC_SIG));
    jg_jwks_free(set);
    /* An EC key on another curve. */
    jg_jwk *p521pub = tk_verifier(p521);
    jg_jwk *keys2[] = {rpub, p521pub};
    set = tk_set(keys2, 2);
    assert_jg(JG_ERR_KEY_CURVE, verify_algs(tok, set, JG_ALGS_EC_SIG));
    jg_jwks_free(set);

    /* The right key restricted by metadata: each refusal, and the most
     * specific one wins over mere type and curve mismatches. */
    jg_jws_signer rs = {.key = rsa, .alg = JG_ALG_RS256};
    char *rtok = NULL;
    assert_jg_ok(jg_jws_sign("p", 1, &rs, NULL, &rtok, NULL));
    static const struct {
        jg_jwk_meta meta;
        jg_err err;
    } metas[] = {
        {{.kid = "bilbo.baggins@hobbiton.example", .alg = JG_ALG_PS256}, JG_ERR_KEY_ALG},
        {{.kid = "bilbo.baggins@hobbiton.example", .use = JG_USE_ENC}, JG_ERR_KEY_USE},
        {{.kid = "bilbo.baggins@hobbiton.example", .key_ops = JG_OP_SIGN}, JG_ERR_KEY_OPS},
    };
    for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
        jg_jwk *restricted = NULL;
        assert_jg_ok(jg_jwk_with_meta(rpub, &metas[i].meta, &restricted));
        jg_jwk *keys3[] = {pub, p521pub, restricted};
        set = tk_set(keys3, 3);
        /* The kid selects the RSA key; without a kid all are considered. */
        assert_jg(metas[i].err, verify_algs(rtok, set, JG_ALGS_RSA_SIG));
        char *nokid = mk_token("{\"alg\":\"RS256\"}", "p", rsa, JG_ALG_RS256);
        assert_jg(metas[i].err, verify_algs(nokid, set, JG_ALGS_RSA_SIG));
        free(nokid);
        jg_jwks_free(set);
        jg_jwk_free(restricted);
    }
    jg_free(rtok);

    /* A usable key that fails beats every refusal. */
    jg_jwk *other = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P256, 0, NULL, &other));
    jg_jwk *opub = tk_verifier(other);
    jg_jwk *keys4[] = {rpub, opub, p521pub};
    set = tk_set(keys4, 3);
    assert_jg(JG_ERR_SIGNATURE, verify_algs(tok, set, JG_ALGS_EC_SIG));
    /* ...and the right key after it still verifies. */
    assert_jg_ok(jg_jwks_add(set, pub));
    jg_jws *jws = NULL;
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_EC_SIG);
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), set, &opts, &jws));
    assert_ptr_equal(jg_jws_key(jws), jg_jwks_get(set, 3));
    jg_jws_free(jws);
    jg_jwks_free(set);

    /* An empty set. */
    assert_jg_ok(jg_jwks_new(&set));
    assert_jg(JG_ERR_KEY_NOT_FOUND, verify_algs(tok, set, JG_ALGS_EC_SIG));
    jg_jwks_free(set);

    /* A weak HMAC key in the set. */
    jg_jwk *weak = NULL;
    assert_jg_ok(jg_jwk_from_secret(secret32, 20, NULL, &weak));
    set = tk_set(&weak, 1);
    char *htok = mk_token("{\"alg\":\"HS256\"}", "p", hk, JG_ALG_HS256);
    assert_jg(JG_ERR_KEY_WEAK, verify_algs(htok, set, JG_ALGS_HMAC));
    free(htok);
    jg_jwks_free(set);
    jg_jwk_free(weak);

    jg_jwk_free(opub);
    jg_jwk_free(other);
    jg_jwk_free(p521pub);
    jg_jwk_free(rpub);
    jg_jwk_free(pub);
    jg_free(tok);
}

/* HMAC keyed with the bytes of a public key: the classic algorithm
 * confusion. The verifier's RSA key must never serve as an HMAC secret. */
static void test_algorithm_confusion(void **state)
{
    (void)state;
    jg_jwk *rpub = tk_verifier(rsa);
    char *pem = NULL, *jwk = NULL;
    size_t pem_len = 0, jwk_len = 0;
    assert_jg_ok(jg_jwk_to_pem(rpub, 0, &pem, &pem_len));
    assert_jg_ok(jg_jwk_to_json(rpub, 0, &jwk, &jwk_len));
    const char *materials[] = {pem, jwk};
    size_t lens[] = {pem_len, jwk_len};
    jg_jwks *set = tk_set(&rpub, 1);
    for (int i = 0; i < 2; i++) {
        jg_jwk *forged_key = NULL;
        assert_jg_ok(
            jg_jwk_from_secret((const unsigned char *)materials[i], lens[i], NULL, &forged_key));
        jg_jws_signer s = {.key = forged_key, .alg = JG_ALG_HS256};
        char *forged = NULL;
        assert_jg_ok(jg_jws_sign("{\"admin\":true}", 14, &s, NULL, &forged, NULL));
        /* The caller expects RSA: HS256 is simply not allowed. */
        assert_jg(JG_ERR_ALG_NOT_ALLOWED, verify_algs(forged, set, JG_ALGS_RSA_SIG));
        /* Even a careless allow-list: the RSA key is no HMAC key. */
        assert_jg(JG_ERR_KEY_TYPE, verify_algs(forged, set, JG_ALGS_RSA_SIG | JG_ALGS_HMAC));
        jg_free(forged);
        jg_jwk_free(forged_key);
    }
    jg_jwks_free(set);
    jg_free(pem);
    jg_free(jwk);
    jg_jwk_free(rpub);
}

/* A key carried by the token itself ("jwk", "jku", "x5c") is never used:
 * the attacker signs with a key of their own and embeds it. */
static void test_embedded_keys_are_ignored(void **state)
{
    (void)state;
    jg_jwk *gen = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P256, 0, NULL, &gen));
    jg_jwk *evil = tk_with_kid(gen, NULL); /* no kid: every usable key is tried */
    jg_jwk_free(gen);
    char *evil_pub = NULL;
    assert_jg_ok(jg_jwk_to_json(evil, 0, &evil_pub, NULL));
    char hdr[1024];
    snprintf(
        hdr, sizeof hdr,
        "{\"jwk\":%s,\"jku\":\"https://evil.example/jwks\",\"x5u\":\"https://evil.example/c\"}",
        evil_pub);
    jg_jws_signer s = {.key = evil, .alg = JG_ALG_ES256, .protected_json = hdr};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("{\"admin\":true}", 14, &s, NULL, &tok, NULL));
    /* The token is fine for a verifier that holds the attacker's key... */
    jg_jwks *evil_set = tk_verify_set(&evil, 1);
    assert_jg_ok(verify_algs(tok, evil_set, JG_ALGS_EC_SIG));
    /* ...and refused by ours: only our P-256 key is tried, and fails. */
    assert_jg(JG_ERR_SIGNATURE, verify_algs(tok, all, JG_ALGS_EC_SIG));
    jg_jwks_free(evil_set);
    jg_free(tok);
    jg_free(evil_pub);
    jg_jwk_free(evil);
}

/* ---- signatures ------------------------------------------------------------ */

/* Replace the signature of a compact token by `raw` (len bytes). */
static char *with_signature(const char *tok, const unsigned char *raw, size_t len)
{
    const char *dot = strrchr(tok, '.');
    size_t head = (size_t)(dot - tok) + 1;
    char *out = malloc(head + JG_B64URL_ENCODED_LEN(len) + 1);
    memcpy(out, tok, head);
    jg_b64url_encode(raw, len, out + head);
    return out;
}

static void test_signature_lengths(void **state)
{
    (void)state;
    static const struct {
        jg_jwk **key;
        jg_alg alg;
        size_t len;
    } cases[] = {
        {&hk, JG_ALG_HS256, 32},     {&hk, JG_ALG_HS384, 48},     {&hk, JG_ALG_HS512, 64},
        {&rsa, JG_ALG_RS256, 256},   {&rsa, JG_ALG_PS256, 256},   {&p256, JG_ALG_ES256, 64},
        {&p521, JG_ALG_ES512, 132},  {&ed, JG_ALG_EDDSA, 64},     {&ed, JG_ALG_ED25519, 64},
        {&ed448, JG_ALG_EDDSA, 114}, {&ed448, JG_ALG_ED448, 114},
    };
    jg_jwk *big = NULL;
    assert_jg_ok(jg_jwk_from_secret((const unsigned char *)"0123456789abcdef0123456789abcdef"
                                                           "0123456789abcdef0123456789abcdef",
                                    64, NULL, &big));
    jg_jwks *bigset = tk_set(&big, 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const jg_jwk *key = *cases[i].key;
        int hmac = cases[i].alg >= JG_ALG_HS256 && cases[i].alg <= JG_ALG_HS512;
        if (hmac)
            key = big;
        const jg_jwks *set = hmac ? bigset : all;
        jg_jws_signer s = {.key = key, .alg = cases[i].alg};
        char *tok = NULL;
        assert_jg_ok(jg_jws_sign("payload", 7, &s, NULL, &tok, NULL));
        const char *sig_b64 = strrchr(tok, '.') + 1;
        unsigned char raw[JG__SIG_MAX + 8];
        size_t raw_len = 0;
        assert_jg_ok(jg_b64url_decode(sig_b64, strlen(sig_b64), raw, &raw_len));
        assert_int_equal(raw_len, cases[i].len);
        assert_jg_ok(verify_algs(tok, set, JG_ALG_BIT(cases[i].alg)));
        /* One byte short, one byte long, empty. */
        char *t = with_signature(tok, raw, raw_len - 1);
        assert_jg(JG_ERR_SIGNATURE_LENGTH, verify_algs(t, set, JG_ALG_BIT(cases[i].alg)));
        free(t);
        raw[raw_len] = 0;
        t = with_signature(tok, raw, raw_len + 1);
        assert_jg(JG_ERR_SIGNATURE_LENGTH, verify_algs(t, set, JG_ALG_BIT(cases[i].alg)));
        free(t);
        t = with_signature(tok, raw, 0);
        assert_jg(JG_ERR_SIGNATURE_LENGTH, verify_algs(t, set, JG_ALG_BIT(cases[i].alg)));
        free(t);
        /* Flipped bit. */
        raw[raw_len / 2] ^= 0x01;
        t = with_signature(tok, raw, raw_len);
        jg_err want = cases[i].alg == JG_ALG_ES512 && raw_len / 2 == 66 ? JG_ERR_SIGNATURE_RANGE
                                                                        : JG_ERR_SIGNATURE;
        jg_err got = verify_algs(t, set, JG_ALG_BIT(cases[i].alg));
        if (got != JG_ERR_SIGNATURE && got != want)
            fail_msg("%s flipped: %s", jg_alg_name(cases[i].alg), jg_err_name(got));
        free(t);
        jg_free(tok);
        tu_count("signature-length-family");
    }
    /* Longer than any signature can be. */
    jg_jws_signer s = {.key = rsa, .alg = JG_ALG_RS256};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("payload", 7, &s, NULL, &tok, NULL));
    unsigned char huge[JG__SIG_MAX + 1];
    memset(huge, 0x5a, sizeof huge);
    char *t = with_signature(tok, huge, sizeof huge);
    assert_jg(JG_ERR_SIGNATURE_LENGTH, verify_algs(t, all, JG_ALGS_RSA_SIG));
    free(t);
    jg_free(tok);
    jg_jwks_free(bigset);
    jg_jwk_free(big);
}

/* ECDSA r and s outside [1, n-1] (CVE-2022-21449 "psychic signatures"). */
static void test_ecdsa_range(void **state)
{
    (void)state;
    static const unsigned char n256[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
                                           0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
    jg_jws_signer s = {.key = p256, .alg = JG_ALG_ES256};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("payload", 7, &s, NULL, &tok, NULL));
    unsigned char good[64];
    size_t len = 0;
    const char *sig = strrchr(tok, '.') + 1;
    assert_jg_ok(jg_b64url_decode(sig, strlen(sig), good, &len));
    assert_int_equal(len, 64);

    unsigned char bad[64];
    struct {
        const char *what;
        int r_kind, s_kind; /* 0 keep, 1 zero, 2 order, 3 order+1, 4 all ones, 5 order-1 */
        jg_err err;
    } cases[] = {
        {"r=0,s=0", 1, 1, JG_ERR_SIGNATURE_RANGE},   {"r=0", 1, 0, JG_ERR_SIGNATURE_RANGE},
        {"s=0", 0, 1, JG_ERR_SIGNATURE_RANGE},       {"r=n", 2, 0, JG_ERR_SIGNATURE_RANGE},
        {"s=n", 0, 2, JG_ERR_SIGNATURE_RANGE},       {"s=n+1", 0, 3, JG_ERR_SIGNATURE_RANGE},
        {"s=2^256-1", 0, 4, JG_ERR_SIGNATURE_RANGE}, {"r=n-1", 5, 0, JG_ERR_SIGNATURE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, 64);
        int kinds[2] = {cases[i].r_kind, cases[i].s_kind};
        for (int half = 0; half < 2; half++) {
            unsigned char *v = bad + 32 * half;
            switch (kinds[half]) {
            case 1:
                memset(v, 0, 32);
                break;
            case 2:
                memcpy(v, n256, 32);
                break;
            case 3:
                memcpy(v, n256, 32);
                v[31]++;
                break;
            case 4:
                memset(v, 0xff, 32);
                break;
            case 5:
                memcpy(v, n256, 32);
                v[31]--;
                break;
            default:
                break;
            }
        }
        char *t = with_signature(tok, bad, 64);
        jg_err err = verify_algs(t, all, JG_ALGS_EC_SIG);
        if (err != cases[i].err)
            fail_msg("%s: expected %s, got %s", cases[i].what, jg_err_name(cases[i].err),
                     jg_err_name(err));
        free(t);
    }
    jg_free(tok);
}

static void test_modified_token(void **state)
{
    (void)state;
    jg_jwk *signers[] = {hk, rsa, p256, ed};
    jg_alg algs[] = {JG_ALG_HS256, JG_ALG_PS256, JG_ALG_ES256, JG_ALG_EDDSA};
    for (size_t i = 0; i < 4; i++) {
        jg_jws_signer s = {
            .key = signers[i], .alg = algs[i], .protected_json = "{\"typ\":\"JWT\"}"};
        char *tok = NULL;
        assert_jg_ok(jg_jws_sign("{\"sub\":\"alice\"}", 15, &s, NULL, &tok, NULL));
        assert_jg_ok(verify_algs(tok, all, ALL_ALGS));
        const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

        /* Another header, same payload and signature. */
        jg_jws_signer s2 = s;
        s2.protected_json = "{\"typ\":\"JOSE\"}";
        char *tok2 = NULL;
        assert_jg_ok(jg_jws_sign("{\"sub\":\"alice\"}", 15, &s2, NULL, &tok2, NULL));
        const char *e1 = strchr(tok2, '.');
        char *mix = malloc(strlen(tok) + strlen(tok2));
        sprintf(mix, "%.*s%s", (int)(e1 - tok2), tok2, d1);
        assert_jg(JG_ERR_SIGNATURE, verify_algs(mix, all, ALL_ALGS));

        /* Another payload. */
        char *p = b64("{\"sub\":\"admin\"}", 15);
        sprintf(mix, "%.*s.%s%s", (int)(d1 - tok), tok, p, d2);
        assert_jg(JG_ERR_SIGNATURE, verify_algs(mix, all, ALL_ALGS));
        free(p);

        /* A changed signature character (kept canonical: first char). */
        strcpy(mix, tok);
        char *c = mix + (d2 - tok) + 1;
        *c = *c == 'A' ? 'B' : 'A';
        jg_err err = verify_algs(mix, all, ALL_ALGS);
        assert_true(err == JG_ERR_SIGNATURE || err == JG_ERR_SIGNATURE_RANGE);
        free(mix);
        jg_free(tok2);
        jg_free(tok);
    }
}

static void test_multi_signature_policy(void **state)
{
    (void)state;
    jg_jws_signer s[3] = {{.key = hk, .alg = JG_ALG_HS256},
                          {.key = p256, .alg = JG_ALG_ES256},
                          {.key = ed, .alg = JG_ALG_EDDSA}};
    jg_jws_sign_opts so = {.format = JG_FORMAT_GENERAL};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign_multi("p", 1, s, 3, &so, &tok, NULL));
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_EC_SIG);
    jg_jws *jws = NULL;
    /* ANY: the ES256 signature is enough. */
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), all, &opts, &jws));
    assert_int_equal(jg_jws_signature_count(jws), 3);
    assert_int_equal(jg_jws_verified_count(jws), 1);
    assert_int_equal(jg_jws_alg(jws), JG_ALG_ES256);
    jg_jws_free(jws);
    /* ALL: the HS256 one is not allowed. */
    opts.policy = JG_SIG_ALL;
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, verify(tok, all, &opts));
    opts.algs = ALL_ALGS;
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), all, &opts, &jws));
    assert_int_equal(jg_jws_verified_count(jws), 3);
    assert_int_equal(jg_jws_alg(jws), JG_ALG_HS256);
    jg_jws_free(jws);
    /* ANY with no signature verifying: the first signature's reason. */
    opts.policy = JG_SIG_ANY;
    opts.algs = JG_ALG_BIT(JG_ALG_PS256);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, verify(tok, all, &opts));
    /* ALL with one signature broken. */
    json_error_t error;
    json_t *j = json_loads(tok, 0, &error);
    json_t *sig2 = json_array_get(json_object_get(j, "signatures"), 2);
    json_object_set_new(sig2, "signature", json_string("AAAA"));
    char *broken = tu_json_text(j);
    opts.algs = ALL_ALGS;
    opts.policy = JG_SIG_ALL;
    assert_jg(JG_ERR_SIGNATURE_LENGTH, verify(broken, all, &opts));
    opts.policy = JG_SIG_ANY;
    assert_jg_ok(jg_jws_verify(broken, strlen(broken), all, &opts, &jws));
    assert_int_equal(jg_jws_verified_count(jws), 2);
    jg_jws_free(jws);
    free(broken);
    json_decref(j);
    jg_free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_arguments),
        cmocka_unit_test(test_sign_alg_and_key_refusals),
        cmocka_unit_test(test_sign_header_refusals),
        cmocka_unit_test(test_sign_format_refusals),
        cmocka_unit_test(test_verify_arguments),
        cmocka_unit_test(test_verify_limits),
        cmocka_unit_test(test_verify_signature_count_limit),
        cmocka_unit_test(test_verify_structure),
        cmocka_unit_test(test_verify_base64url_in_each_part),
        cmocka_unit_test(test_verify_header_rules),
        cmocka_unit_test(test_verify_unprotected_header_rules),
        cmocka_unit_test(test_verify_large_headers_and_result),
        cmocka_unit_test(test_verify_b64_rules),
        cmocka_unit_test(test_verify_detached),
        cmocka_unit_test(test_verify_key_refusals),
        cmocka_unit_test(test_algorithm_confusion),
        cmocka_unit_test(test_embedded_keys_are_ignored),
        cmocka_unit_test(test_signature_lengths),
        cmocka_unit_test(test_ecdsa_range),
        cmocka_unit_test(test_modified_token),
        cmocka_unit_test(test_multi_signature_policy),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    tu_report("test_jws_negative");
    return failed;
}
