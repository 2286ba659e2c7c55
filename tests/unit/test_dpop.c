/*
 * test_dpop.c — DPoP proofs (jwtgate/dpop.h): RFC 9449's own proofs
 * verified at the RFC's times, proofs made and verified for every
 * asymmetric alg, the "htu" normal form, each policy rule at its boundary,
 * the result (thumbprint, jti, iat, expiry) and the policy checks. The
 * attacks are in test_dpop_attacks.c.
 */
#include "dpop_testlib.h"
#include "tu_jwk.h"

/* ---- RFC 9449 vectors -------------------------------------------------------- */

static void test_rfc9449_token_request_proof(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc9449.json");
    const char *proof = tu_json_str(v, "token_request/proof");
    jg_dpop_policy p = {0};
    p.algs = JG_ALG_BIT(JG_ALG_ES256);
    p.htm = "POST";
    p.htm_len = 4;
    /* The request URI as a server may see it: other case, default port, a
     * query; all equal to the proof's htu once normalised. */
    p.htu = "HTTPS://Server.Example.COM:443/token?x=1";
    p.htu_len = strlen(p.htu);
    p.now = 1562262616;
    jg_dpop_result r;
    jg_detail d;
    assert_jg_ok(jg_dpop_verify(proof, strlen(proof), &p, &r, &d));
    assert_string_equal(r.jkt, tu_json_str(v, "jkt"));
    assert_string_equal(r.jti, tu_json_str(v, "token_request/jti"));
    assert_int_equal(r.jti_len, strlen(r.jti));
    assert_int_equal(r.iat, 1562262616);
    assert_int_equal(r.expires, 1562262616 + JG_DPOP_DEFAULT_WINDOW);
    assert_int_equal(r.alg, JG_ALG_ES256);
    assert_int_equal(d.err, JG_OK);
    /* Five minutes later (the default window) it still verifies; a second
     * more and it is stale. */
    p.now = 1562262616 + 300;
    assert_jg_ok(jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
    p.now++;
    assert_jg(JG_ERR_DPOP_IAT_STALE, jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
    tu_count("rfc9449");
    json_decref(v);
}

static void test_rfc9449_resource_request_proof_with_ath(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc9449.json");
    const char *proof = tu_json_str(v, "resource_request/proof");
    const char *token = tu_json_str(v, "resource_request/access_token");
    char ath[44];
    assert_jg_ok(jg_dpop_ath(token, strlen(token), ath));
    assert_string_equal(ath, tu_json_str(v, "resource_request/ath"));

    jg_dpop_policy p = {0};
    p.algs = JG_ALGS_ASYMMETRIC_SIG;
    p.htm = "GET";
    p.htm_len = 3;
    p.htu = tu_json_str(v, "resource_request/htu");
    p.htu_len = strlen(p.htu);
    p.access_token = token;
    p.access_token_len = strlen(token);
    p.now = 1562262618;
    jg_dpop_result r;
    assert_jg_ok(jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
    assert_string_equal(r.jkt, tu_json_str(v, "jkt"));
    assert_string_equal(r.jti, tu_json_str(v, "resource_request/jti"));
    /* Another token: ath does not match. */
    p.access_token = "another";
    p.access_token_len = 7;
    assert_jg(JG_ERR_DPOP_ATH, jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
    /* The same proof at another URI, with another method. */
    p.access_token = token;
    p.access_token_len = strlen(token);
    p.htm = "POST";
    p.htm_len = 4;
    assert_jg(JG_ERR_DPOP_HTM, jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
    p.htm = "GET";
    p.htm_len = 3;
    p.htu = "https://resource.example.org/other";
    p.htu_len = strlen(p.htu);
    assert_jg(JG_ERR_DPOP_HTU, jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
    tu_count("rfc9449");
    json_decref(v);
}

/* The RFC's thumbprint is jg_jwk_thumbprint_b64 of the RFC's key. */
static void test_rfc9449_key_thumbprint(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc9449.json");
    jg_jwk *key = tu_jwk_parse_ok(tu_json_at(v, "jwk"), 0);
    char jkt[44];
    assert_jg_ok(jg_jwk_thumbprint_b64(key, jkt));
    assert_string_equal(jkt, tu_json_str(v, "jkt"));
    jg_jwk_free(key);
    tu_count("rfc9449");
    json_decref(v);
}

/* ---- round trips ----------------------------------------------------------------- */

static void test_roundtrip_every_asymmetric_alg(void **state)
{
    (void)state;
    const jg_alg algs[] = {JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512, JG_ALG_RS256,
                           JG_ALG_PS256, JG_ALG_PS512, JG_ALG_EDDSA, JG_ALG_ED25519};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        jg_jwk *key = td_generate(algs[i]);
        char *proof = td_proof(key, TD_NOW, "the-token", "n-1");
        jg_dpop_policy p = td_policy();
        p.access_token = "the-token";
        p.access_token_len = 9;
        p.nonce = "n-1";
        p.nonce_len = 3;
        jg_dpop_result r;
        assert_jg_ok(jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
        assert_int_equal(r.alg, algs[i]);
        char jkt[44];
        assert_jg_ok(jg_jwk_thumbprint_b64(key, jkt));
        assert_string_equal(r.jkt, jkt);
        assert_int_equal(r.jti_len, 22); /* 16 random bytes */
        assert_int_equal(r.iat, TD_NOW);
        assert_int_equal(r.expires, TD_NOW + 65);
        /* Only the policy's algs. */
        p.algs = JG_ALG_BIT(algs[i] == JG_ALG_ES256 ? JG_ALG_ES384 : JG_ALG_ES256);
        assert_jg(JG_ERR_ALG_NOT_ALLOWED, jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
        jg_free(proof);
        jg_jwk_free(key);
    }
}

/* The header holds typ, alg and the bare public key; no kid. */
static void test_proof_header_and_claims(void **state)
{
    (void)state;
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_NONE, 0, "client-kid", &key));
    jg_dpop_proof_opts o = {.key = key,
                            .htm = "POST",
                            .htu = "https://as.example/token?a=b#f",
                            .iat = 1234,
                            .jti = "my-jti",
                            .access_token = "tok"};
    char *proof = NULL;
    size_t len = 0;
    assert_jg_ok(jg_dpop_proof_create(&o, &proof, &len));
    assert_int_equal(len, strlen(proof));
    const char *dot = strchr(proof, '.');
    unsigned char *hdr = NULL, *claims = NULL;
    size_t hl = 0, cl = 0;
    assert_jg_ok(jg_b64url_decode_alloc(proof, (size_t)(dot - proof), &hdr, &hl));
    const char *dot2 = strchr(dot + 1, '.');
    assert_jg_ok(jg_b64url_decode_alloc(dot + 1, (size_t)(dot2 - dot - 1), &claims, &cl));
    char *pub = td_public_jwk(key);
    char want[1024];
    snprintf(want, sizeof want, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", pub);
    assert_string_equal((char *)hdr, want);
    assert_null(strstr((char *)hdr, "kid"));
    char ath[44];
    assert_jg_ok(jg_dpop_ath("tok", 3, ath));
    snprintf(want, sizeof want,
             "{\"jti\":\"my-jti\",\"htm\":\"POST\",\"htu\":\"https://as.example/token\","
             "\"iat\":1234,\"ath\":\"%s\"}",
             ath);
    assert_string_equal((char *)claims, want);
    jg_free(pub);
    jg_free(hdr);
    jg_free(claims);
    jg_free(proof);
    jg_jwk_free(key);
}

static void test_create_refuses_bad_input(void **state)
{
    (void)state;
    jg_jwk *key = td_generate(JG_ALG_ES256), *pub = NULL, *hs = td_generate(JG_ALG_HS256);
    assert_jg_ok(jg_jwk_public(key, &pub));
    char *out = (char *)1;
    size_t len = 7;
    jg_dpop_proof_opts o = {.key = key, .htm = "GET", .htu = TD_HTU};
    o.key = pub;
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_dpop_proof_create(&o, &out, &len));
    assert_null(out);
    assert_int_equal(len, 0);
    o.key = hs;
    assert_jg(JG_ERR_DPOP_ALG_SYMMETRIC, jg_dpop_proof_create(&o, &out, &len));
    o.key = key;
    o.alg = JG_ALG_HS256;
    assert_jg(JG_ERR_DPOP_ALG_SYMMETRIC, jg_dpop_proof_create(&o, &out, &len));
    o.alg = JG_ALG_ES384;
    assert_jg(JG_ERR_KEY_CURVE, jg_dpop_proof_create(&o, &out, &len));
    o.alg = JG_ALG_UNKNOWN;
    o.htm = "";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_proof_create(&o, &out, &len));
    o.htm = "GET";
    o.htu = "?only-a-query";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_proof_create(&o, &out, &len));
    o.htu = "https://a.example/\"quote";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_proof_create(&o, &out, &len));
    o.htu = TD_HTU;
    o.jti = "line\nbreak";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_proof_create(&o, &out, &len));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_proof_create(NULL, &out, &len));
    assert_null(out);
    jg_jwk_free(key);
    jg_jwk_free(pub);
    jg_jwk_free(hs);
}

/* ---- htu --------------------------------------------------------------------------- */

static void expect_htu(const char *in, int strip, jg_err want, const char *norm)
{
    char out[JG_DPOP_MAX_HTU_LEN + 1];
    size_t len = 99;
    jg_err got = jg_dpop_htu_normalize(in, strlen(in), strip, out, sizeof out, &len);
    if (got != want)
        fail_msg("%s: expected %s, got %s", in, jg_err_name(want), jg_err_name(got));
    if (want == JG_OK) {
        assert_string_equal(out, norm);
        assert_int_equal(len, strlen(norm));
    } else {
        assert_int_equal(len, 0);
    }
}

static void test_htu_normal_form(void **state)
{
    (void)state;
    expect_htu("https://example.com/a", 0, JG_OK, "https://example.com/a");
    expect_htu("HTTPS://EXAMPLE.com/A", 0, JG_OK, "https://example.com/A"); /* path keeps case */
    expect_htu("https://example.com:443/a", 0, JG_OK, "https://example.com/a");
    expect_htu("http://example.com:80/a", 0, JG_OK, "http://example.com/a");
    expect_htu("http://example.com:443/a", 0, JG_OK, "http://example.com:443/a");
    expect_htu("https://example.com:08443/a", 0, JG_OK, "https://example.com:8443/a");
    expect_htu("https://example.com:/a", 0, JG_OK, "https://example.com/a");
    expect_htu("https://example.com", 0, JG_OK, "https://example.com/");
    expect_htu("https://example.com:8443", 0, JG_OK, "https://example.com:8443/");
    expect_htu("https://[2001:DB8::1]:443/x", 0, JG_OK, "https://[2001:db8::1]/x");
    expect_htu("https://example.com/a%2fb%7E", 0, JG_OK, "https://example.com/a%2Fb%7E");
    expect_htu("https://example.com/a?q=1#f", 1, JG_OK, "https://example.com/a");
    expect_htu("https://example.com#f", 1, JG_OK, "https://example.com/");
    /* Refused. */
    expect_htu("https://example.com/a?q=1", 0, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://example.com/a#f", 0, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://example.com/a?", 0, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("ftp://example.com/a", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https:/example.com/a", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("/a/relative", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://user@example.com/", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https:///path", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://example.com:99999/", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://example.com:44x/", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://example.com/a b", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://example.com/%zz", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://example.com/%4", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://ex\xc3\xa4mple.com/", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("https://[::1/", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    expect_htu("", 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    /* Bounded. */
    char big[JG_DPOP_MAX_HTU_LEN + 16];
    memset(big, 'a', sizeof big);
    memcpy(big, "https://x/", 10);
    big[sizeof big - 1] = '\0';
    expect_htu(big, 1, JG_ERR_DPOP_HTU_INVALID, NULL);
    char small[8];
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_dpop_htu_normalize(TD_HTU, strlen(TD_HTU), 0, small, sizeof small, NULL));
    assert_string_equal(small, "");
}

/* ---- policy rules ------------------------------------------------------------------ */

static void test_iat_window_boundaries(void **state)
{
    (void)state;
    jg_jwk *key = td_generate(JG_ALG_ES256);
    jg_dpop_policy p = td_policy(); /* window 60, leeway 5 */
    char *at_future_edge = td_proof(key, TD_NOW + 5, NULL, NULL);
    char *beyond_future = td_proof(key, TD_NOW + 6, NULL, NULL);
    char *at_past_edge = td_proof(key, TD_NOW - 65, NULL, NULL);
    char *beyond_past = td_proof(key, TD_NOW - 66, NULL, NULL);
    td_expect(JG_OK, at_future_edge, &p);
    td_expect(JG_ERR_DPOP_IAT_FUTURE, beyond_future, &p);
    td_expect(JG_OK, at_past_edge, &p);
    td_expect(JG_ERR_DPOP_IAT_STALE, beyond_past, &p);
    /* Leeway 0: the future edge is now. */
    p.leeway = 0;
    td_expect(JG_ERR_DPOP_IAT_FUTURE, at_future_edge, &p);
    /* The detail says which times. */
    jg_dpop_result r;
    jg_detail d;
    assert_jg(JG_ERR_DPOP_IAT_STALE, jg_dpop_verify(beyond_past, strlen(beyond_past), &p, &r, &d));
    assert_int_equal(d.kind, JG_DETAIL_TIME);
    assert_string_equal(d.name, "iat");
    assert_int_equal(d.time, TD_NOW - 66);
    assert_int_equal(d.now, TD_NOW);
    jg_free(at_future_edge);
    jg_free(beyond_future);
    jg_free(at_past_edge);
    jg_free(beyond_past);
    jg_jwk_free(key);
}

static void test_nonce_rules(void **state)
{
    (void)state;
    jg_jwk *key = td_generate(JG_ALG_ES256);
    jg_dpop_policy p = td_policy();
    char *without = td_proof(key, TD_NOW, NULL, NULL);
    char *with = td_proof(key, TD_NOW, NULL, "server-nonce-1");
    td_expect(JG_OK, without, &p); /* no nonce asked for: none looked at */
    td_expect(JG_OK, with, &p);
    p.nonce = "server-nonce-1";
    p.nonce_len = strlen(p.nonce);
    td_expect(JG_ERR_DPOP_NONCE_MISSING, without, &p);
    td_expect(JG_OK, with, &p);
    p.nonce = "server-nonce-2";
    td_expect(JG_ERR_DPOP_NONCE, with, &p);
    p.nonce_len = 3; /* a prefix of the proof's nonce is not it */
    p.nonce = "ser";
    td_expect(JG_ERR_DPOP_NONCE, with, &p);
    jg_free(without);
    jg_free(with);
    jg_jwk_free(key);
}

static void test_ath_rules(void **state)
{
    (void)state;
    jg_jwk *key = td_generate(JG_ALG_ES256);
    jg_dpop_policy p = td_policy();
    char *without = td_proof(key, TD_NOW, NULL, NULL);
    char *with = td_proof(key, TD_NOW, "token-A", NULL);
    td_expect(JG_OK, with, &p); /* no token presented: "ath" not looked at */
    p.access_token = "token-A";
    p.access_token_len = 7;
    td_expect(JG_OK, with, &p);
    td_expect(JG_ERR_DPOP_ATH_MISSING, without, &p);
    p.access_token = "token-B";
    td_expect(JG_ERR_DPOP_ATH, with, &p);
    jg_free(without);
    jg_free(with);
    jg_jwk_free(key);
}

static void test_htm_is_case_sensitive(void **state)
{
    (void)state;
    jg_jwk *key = td_generate(JG_ALG_ES256);
    char *proof = td_proof(key, TD_NOW, NULL, NULL);
    jg_dpop_policy p = td_policy();
    p.htm = "get";
    td_expect(JG_ERR_DPOP_HTM, proof, &p);
    p.htm = "GETX";
    p.htm_len = 4;
    td_expect(JG_ERR_DPOP_HTM, proof, &p);
    jg_free(proof);
    jg_jwk_free(key);
}

static void test_missing_and_mistyped_claims(void **state)
{
    (void)state;
    jg_jwk *key = td_generate(JG_ALG_ES256);
    char *jwk = td_public_jwk(key);
    char *hdr = td_header("dpop+jwt", "ES256", jwk);
    jg_dpop_policy p = td_policy();
    struct {
        const char *claims;
        jg_err want;
        const char *name;
    } cases[] = {
        {"{\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":1700000000}", JG_ERR_CLAIM_MISSING,
         "jti"},
        {"{\"jti\":\"j\",\"htu\":\"" TD_HTU "\",\"iat\":1700000000}", JG_ERR_CLAIM_MISSING, "htm"},
        {"{\"jti\":\"j\",\"htm\":\"GET\",\"iat\":1700000000}", JG_ERR_CLAIM_MISSING, "htu"},
        {"{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\"}", JG_ERR_CLAIM_MISSING, "iat"},
        {"{\"jti\":7,\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":1700000000}", JG_ERR_CLAIM_TYPE,
         "jti"},
        {"{\"jti\":\"\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":1700000000}",
         JG_ERR_DPOP_JTI_LENGTH, "jti"},
        {"{\"jti\":\"j\",\"htm\":[\"GET\"],\"htu\":\"" TD_HTU "\",\"iat\":1700000000}",
         JG_ERR_CLAIM_TYPE, "htm"},
        {"{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":\"1700000000\"}",
         JG_ERR_CLAIM_TYPE, "iat"},
        {"{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":1700000000.5}",
         JG_ERR_CLAIM_TYPE, "iat"},
        {"[1,2]", JG_ERR_CLAIMS_INVALID, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *proof = td_forge(hdr, cases[i].claims, key, JG_ALG_ES256);
        jg_dpop_result r;
        jg_detail d;
        jg_err got = jg_dpop_verify(proof, strlen(proof), &p, &r, &d);
        if (got != cases[i].want)
            fail_msg("case %zu: expected %s, got %s", i, jg_err_name(cases[i].want),
                     jg_err_name(got));
        assert_string_equal(d.name, cases[i].name);
        jg_free(proof);
    }
    free(hdr);
    jg_free(jwk);
    jg_jwk_free(key);
}

static void test_policy_checks(void **state)
{
    (void)state;
    jg_jwk *key = td_generate(JG_ALG_ES256);
    char *proof = td_proof(key, TD_NOW, NULL, NULL);
    size_t len = strlen(proof);
    jg_dpop_result r;
    jg_dpop_policy p = td_policy();
    p.algs = 0;
    assert_jg(JG_ERR_ALGS_EMPTY, jg_dpop_verify(proof, len, &p, &r, NULL));
    p.algs = JG_ALG_BIT(JG_ALG_ES256) | JG_ALG_BIT(JG_ALG_HS256);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, &p, &r, NULL));
    p.algs = JG_ALG_BIT(JG_ALG_ES256) | JG_ALG_BIT(JG_ALG_RSA_OAEP);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, &p, &r, NULL));
    p = td_policy();
    p.window = -1;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, &p, &r, NULL));
    p = td_policy();
    p.leeway = -1;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, &p, &r, NULL));
    p = td_policy();
    p.htu = "not a uri";
    p.htu_len = strlen(p.htu);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, &p, &r, NULL));
    p = td_policy();
    p.htm = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, &p, &r, NULL));
    p = td_policy();
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(NULL, 0, &p, &r, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, NULL, &r, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, len, &p, NULL, NULL));
    /* The system clock when now is 0: a proof made now verifies. */
    char *fresh = td_proof(key, 0, NULL, NULL);
    p.now = 0;
    assert_jg_ok(jg_dpop_verify(fresh, strlen(fresh), &p, &r, NULL));
    jg_free(fresh);
    jg_free(proof);
    jg_jwk_free(key);
}

/* ---- the key cache ------------------------------------------------------------ */

/* The same verdicts and results with a cache as without, over hits, misses
 * and evictions (one slot, two clients). */
static void test_cache_same_verdicts(void **state)
{
    (void)state;
    jg_dpop_cache *cache = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_cache_new(JG_DPOP_CACHE_MAX_SLOTS + 1, &cache));
    assert_null(cache);
    assert_jg_ok(jg_dpop_cache_new(1, &cache));
    jg_jwk *a = td_generate(JG_ALG_ES256), *b = td_generate(JG_ALG_EDDSA);
    char *pa = td_proof(a, TD_NOW, NULL, NULL), *pb = td_proof(b, TD_NOW, NULL, NULL);
    char *stale = td_proof(a, TD_NOW - 1000, NULL, NULL);
    jg_dpop_policy p = td_policy();
    for (int round = 0; round < 3; round++) {
        const char *proofs[] = {pa, pa, pb, pa, stale, pb};
        for (size_t i = 0; i < sizeof proofs / sizeof proofs[0]; i++) {
            jg_dpop_result plain, cached;
            jg_err want = jg_dpop_verify(proofs[i], strlen(proofs[i]), &p, &plain, NULL);
            assert_jg(want, jg_dpop_verify_cached(proofs[i], strlen(proofs[i]), &p, cache, &cached,
                                                  NULL));
            assert_memory_equal(&plain, &cached, sizeof plain);
        }
    }
    /* A cached header is still judged by the policy's alg list. */
    p.algs = JG_ALG_BIT(JG_ALG_EDDSA);
    jg_dpop_result r;
    jg_detail d;
    assert_jg_ok(jg_dpop_verify_cached(pb, strlen(pb), &p, cache, &r, NULL)); /* b cached */
    p.algs = JG_ALG_BIT(JG_ALG_ES256);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, jg_dpop_verify_cached(pb, strlen(pb), &p, cache, &r, &d));
    assert_string_equal(d.name, "alg");
    jg_free(pa);
    jg_free(pb);
    jg_free(stale);
    jg_jwk_free(a);
    jg_jwk_free(b);
    jg_dpop_cache_free(cache);
    jg_dpop_cache_free(NULL);
}

/* A cached header does not vouch for the signature: a proof with the same
 * header and other claims is checked in full; a refused header is never
 * cached. */
static void test_cache_checks_every_signature(void **state)
{
    (void)state;
    jg_dpop_cache *cache = NULL;
    assert_jg_ok(jg_dpop_cache_new(0, &cache));
    jg_jwk *key = td_generate(JG_ALG_ES256), *other = td_generate(JG_ALG_ES256);
    char *good = td_proof(key, TD_NOW, NULL, NULL);
    jg_dpop_policy p = td_policy();
    jg_dpop_result r;
    assert_jg_ok(jg_dpop_verify_cached(good, strlen(good), &p, cache, &r, NULL));
    /* The same header (key's jwk), claims signed by another key. */
    char *jwk = td_public_jwk(key);
    char *hdr = td_header("dpop+jwt", "ES256", jwk);
    char *claims = td_claims(TD_NOW, NULL);
    char *forged = td_forge(hdr, claims, other, JG_ALG_ES256);
    size_t hl = strcspn(good, ".");
    assert_memory_equal(good, forged, hl); /* the very header the cache holds */
    assert_jg(JG_ERR_SIGNATURE, jg_dpop_verify_cached(forged, strlen(forged), &p, cache, &r, NULL));
    /* The good proof with one signature character changed. */
    char *sig = good + strlen(good) - 10;
    *sig = *sig == 'A' ? 'B' : 'A';
    assert_jg(JG_ERR_SIGNATURE, jg_dpop_verify_cached(good, strlen(good), &p, cache, &r, NULL));
    jg_free(good);
    jg_free(forged);
    free(claims);
    free(hdr);
    jg_free(jwk);
    jg_jwk_free(key);
    jg_jwk_free(other);
    jg_dpop_cache_free(cache);
}

/* Every DPoP code has its own name and message. */
static void test_every_error_has_a_message(void **state)
{
    (void)state;
    for (int e = JG_ERR_DPOP_TYP; e <= JG_ERR_DPOP_NONCE; e++) {
        assert_non_null(strstr(jg_strerror((jg_err)e), "DPoP"));
        assert_non_null(strstr(jg_err_name((jg_err)e), "JG_ERR_DPOP_"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9449_token_request_proof),
        cmocka_unit_test(test_rfc9449_resource_request_proof_with_ath),
        cmocka_unit_test(test_rfc9449_key_thumbprint),
        cmocka_unit_test(test_roundtrip_every_asymmetric_alg),
        cmocka_unit_test(test_proof_header_and_claims),
        cmocka_unit_test(test_create_refuses_bad_input),
        cmocka_unit_test(test_htu_normal_form),
        cmocka_unit_test(test_iat_window_boundaries),
        cmocka_unit_test(test_nonce_rules),
        cmocka_unit_test(test_ath_rules),
        cmocka_unit_test(test_htm_is_case_sensitive),
        cmocka_unit_test(test_missing_and_mistyped_claims),
        cmocka_unit_test(test_policy_checks),
        cmocka_unit_test(test_cache_same_verdicts),
        cmocka_unit_test(test_cache_checks_every_signature),
        cmocka_unit_test(test_every_error_has_a_message),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_dpop");
    return failed;
}
