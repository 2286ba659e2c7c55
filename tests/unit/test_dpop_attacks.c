/*
 * test_dpop_attacks.c — the attacks on DPoP proof verification, one test per
 * attack, each named after it and each requiring the specific error code
 * jg_dpop_verify() answers with (test_attacks.c's style). Every forged proof
 * is otherwise well made: signed by the key it carries, with claims that fit
 * the request, so that the refusal comes from the defence under test.
 *
 *   Keys: a private key in "jwk" (EC "d", RSA "d"/primes, an "oct" secret);
 *   no "jwk"; a "jwk" that does not fit the "alg" (another curve, another
 *   key type); a proof signed by another key than the one it carries; an
 *   RSA key under 2048 bits.
 *   Algorithms: "none"; HMAC (keyed with the public key it carries, or with
 *   an "oct" jwk); an alg outside the policy; ECDSA psychic signatures.
 *   Type: "typ" JWT, absent, another case; a JWS JSON serialization.
 *   Request binding: stale and future "iat"; "htu" with a query or a
 *   fragment; another "htu" or "htm"; "ath" of another token.
 *   Replay: a proof reused yields the same (jkt, jti) for the caller's cache.
 *   Headers: unknown "crit"; duplicate members.
 *   Limits: an oversize proof; an oversize "jti"; JSON nested deep.
 */
#include "dpop_testlib.h"

static jg_jwk *p256, *p384, *rsa, *ed;
static char *p256_jwk;

static int setup(void **state)
{
    (void)state;
    p256 = td_generate(JG_ALG_ES256);
    p384 = td_generate(JG_ALG_ES384);
    rsa = td_generate(JG_ALG_PS256);
    ed = td_generate(JG_ALG_EDDSA);
    p256_jwk = td_public_jwk(p256);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jg_jwk_free(p256);
    jg_jwk_free(p384);
    jg_jwk_free(rsa);
    jg_jwk_free(ed);
    jg_free(p256_jwk);
    return 0;
}

/* A proof with this header signed by `key` under `alg`, good claims. */
static void expect_forged(jg_err want, const char *header, const jg_jwk *key, jg_alg alg)
{
    char *claims = td_claims(TD_NOW, NULL);
    char *proof = td_forge(header, claims, key, alg);
    jg_dpop_policy p = td_policy();
    td_expect(want, proof, &p);
    free(proof);
    free(claims);
}

/* The private JWK of `key` as JSON text. */
static char *private_jwk(const jg_jwk *key)
{
    char *json = NULL;
    assert_jg_ok(jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &json, NULL));
    return json;
}

/* ---- keys ---------------------------------------------------------------------- */

static void test_private_ec_key_in_jwk(void **state)
{
    (void)state;
    char *jwk = private_jwk(p256);
    char *h = td_header("dpop+jwt", "ES256", jwk);
    expect_forged(JG_ERR_DPOP_JWK_PRIVATE, h, p256, JG_ALG_ES256);
    free(h);
    jg_free_secret(jwk, 0);
}

static void test_private_rsa_key_in_jwk(void **state)
{
    (void)state;
    char *jwk = private_jwk(rsa);
    char *h = td_header("dpop+jwt", "PS256", jwk);
    expect_forged(JG_ERR_DPOP_JWK_PRIVATE, h, rsa, JG_ALG_PS256);
    free(h);
    jg_free_secret(jwk, 0);
    /* One private member alone is enough to refuse. */
    char *pub = td_public_jwk(rsa);
    char with_p[4096];
    snprintf(with_p, sizeof with_p, "%.*s,\"p\":\"AQAB\"}", (int)(strlen(pub) - 1), pub);
    h = td_header("dpop+jwt", "PS256", with_p);
    expect_forged(JG_ERR_DPOP_JWK_PRIVATE, h, rsa, JG_ALG_PS256);
    free(h);
    jg_free(pub);
}

static void test_no_jwk_in_header(void **state)
{
    (void)state;
    expect_forged(JG_ERR_DPOP_JWK_MISSING, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}", p256,
                  JG_ALG_ES256);
    expect_forged(JG_ERR_DPOP_JWK_MISSING,
                  "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":\"a-string\"}", p256,
                  JG_ALG_ES256);
    /* "kid", "jku", "x5u", "x5c" are no replacement for "jwk". */
    expect_forged(JG_ERR_DPOP_JWK_MISSING,
                  "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"kid\":\"k\",\"jku\":\"https://e/j\"}",
                  p256, JG_ALG_ES256);
}

static void test_jwk_on_another_curve_than_alg(void **state)
{
    (void)state;
    char *jwk = td_public_jwk(p384);
    char *h = td_header("dpop+jwt", "ES256", jwk);
    expect_forged(JG_ERR_DPOP_JWK_ALG, h, p256, JG_ALG_ES256);
    free(h);
    jg_free(jwk);
}

static void test_jwk_of_another_key_type_than_alg(void **state)
{
    (void)state;
    char *h = td_header("dpop+jwt", "PS256", p256_jwk); /* an EC key for PS256 */
    expect_forged(JG_ERR_DPOP_JWK_ALG, h, rsa, JG_ALG_PS256);
    free(h);
    char *edjwk = td_public_jwk(ed);
    h = td_header("dpop+jwt", "ES256", edjwk); /* an Ed25519 key for ES256 */
    expect_forged(JG_ERR_DPOP_JWK_ALG, h, p256, JG_ALG_ES256);
    free(h);
    jg_free(edjwk);
}

/* A "jwk" whose own "use" or "alg" forbids the proof's alg: its "use"
 * "enc" (the key is not for signatures), its "alg" another curve's (the
 * key itself is then inconsistent). */
static void test_jwk_use_or_alg_member_disagrees(void **state)
{
    (void)state;
    char jwk[1024];
    snprintf(jwk, sizeof jwk, "%.*s,\"use\":\"enc\"}", (int)(strlen(p256_jwk) - 1), p256_jwk);
    char *h = td_header("dpop+jwt", "ES256", jwk);
    expect_forged(JG_ERR_DPOP_JWK_ALG, h, p256, JG_ALG_ES256);
    free(h);
    snprintf(jwk, sizeof jwk, "%.*s,\"alg\":\"ES384\"}", (int)(strlen(p256_jwk) - 1), p256_jwk);
    h = td_header("dpop+jwt", "ES256", jwk);
    expect_forged(JG_ERR_KEY_CURVE, h, p256, JG_ALG_ES256);
    free(h);
}

/* The header carries key A, the proof is signed by key B. */
static void test_signed_by_another_key_than_jwk(void **state)
{
    (void)state;
    jg_jwk *other = td_generate(JG_ALG_ES256);
    char *h = td_header("dpop+jwt", "ES256", p256_jwk);
    expect_forged(JG_ERR_SIGNATURE, h, other, JG_ALG_ES256);
    free(h);
    jg_jwk_free(other);
}

static void test_rsa_jwk_below_2048_bits(void **state)
{
    (void)state;
    size_t len = 0;
    char *pem = tu_read_file(tu_vector_path("pem/rsa1024.p8.pem"), &len);
    jg_jwk *weak = NULL;
    assert_jg_ok(jg_jwk_from_pem(pem, len, NULL, JG_JWK_ALLOW_WEAK_RSA, &weak));
    char *jwk = td_public_jwk(weak);
    char *h = td_header("dpop+jwt", "PS256", jwk);
    expect_forged(JG_ERR_KEY_WEAK, h, weak, JG_ALG_PS256);
    free(h);
    jg_free(jwk);
    jg_jwk_free(weak);
    free(pem);
}

/* ---- algorithms ---------------------------------------------------------------- */

static void test_alg_none(void **state)
{
    (void)state;
    char *h = td_header("dpop+jwt", "none", p256_jwk);
    expect_forged(JG_ERR_ALG_NONE, h, NULL, JG_ALG_UNKNOWN);
    free(h);
    /* Even when the policy names every alg there is. */
    char *claims = td_claims(TD_NOW, NULL);
    char *proof = td_forge(h = td_header("dpop+jwt", "none", p256_jwk), claims, NULL, 0);
    jg_dpop_policy p = td_policy();
    p.algs = JG_ALGS_ASYMMETRIC_SIG;
    td_expect(JG_ERR_ALG_NONE, proof, &p);
    free(proof);
    free(claims);
    free(h);
}

/* HS256 keyed with the bytes of the public key the proof carries (the
 * classic confusion), and HS256 with an "oct" jwk. */
static void test_alg_hmac(void **state)
{
    (void)state;
    jg_jwk *mac = NULL;
    assert_jg_ok(jg_jwk_from_secret((const unsigned char *)p256_jwk, strlen(p256_jwk), NULL, &mac));
    char *h = td_header("dpop+jwt", "HS256", p256_jwk);
    expect_forged(JG_ERR_DPOP_ALG_SYMMETRIC, h, mac, JG_ALG_HS256);
    free(h);
    h = td_header("dpop+jwt", "HS256",
                  "{\"kty\":\"oct\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA\"}");
    expect_forged(JG_ERR_DPOP_ALG_SYMMETRIC, h, mac, JG_ALG_HS256);
    free(h);
    /* A policy cannot even ask for HMAC. */
    jg_dpop_policy p = td_policy();
    p.algs |= JG_ALG_BIT(JG_ALG_HS256);
    char *claims = td_claims(TD_NOW, NULL);
    char *proof = td_forge(h = td_header("dpop+jwt", "HS256", p256_jwk), claims, mac, JG_ALG_HS256);
    jg_dpop_result r;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_dpop_verify(proof, strlen(proof), &p, &r, NULL));
    free(proof);
    free(claims);
    free(h);
    jg_jwk_free(mac);
}

/* An "oct" key with an asymmetric alg: the secret is private material. */
static void test_oct_jwk_with_asymmetric_alg(void **state)
{
    (void)state;
    char *h = td_header("dpop+jwt", "ES256", "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}");
    expect_forged(JG_ERR_DPOP_JWK_PRIVATE, h, p256, JG_ALG_ES256);
    free(h);
}

static void test_alg_outside_policy(void **state)
{
    (void)state;
    char *proof = td_proof(p256, TD_NOW, NULL, NULL);
    jg_dpop_policy p = td_policy();
    p.algs = JG_ALG_BIT(JG_ALG_EDDSA);
    td_expect(JG_ERR_ALG_NOT_ALLOWED, proof, &p);
    jg_free(proof);
    char *h = td_header("dpop+jwt", "RSA-OAEP", p256_jwk);
    expect_forged(JG_ERR_ALG_KIND, h, NULL, 0);
    free(h);
    h = td_header("dpop+jwt", "ES257", p256_jwk);
    expect_forged(JG_ERR_ALG_UNKNOWN, h, NULL, 0);
    free(h);
}

/* r = s = 0 (CVE-2022-21449) with the key the proof carries. */
static void test_ecdsa_psychic_signature(void **state)
{
    (void)state;
    char *h = td_header("dpop+jwt", "ES256", p256_jwk);
    char *claims = td_claims(TD_NOW, NULL);
    char *proof = td_forge(h, claims, NULL, 0);
    unsigned char zero[64] = {0};
    char sig[JG_B64URL_ENCODED_LEN(64) + 1];
    jg_b64url_encode(zero, sizeof zero, sig);
    char *full = malloc(strlen(proof) + sizeof sig);
    sprintf(full, "%s%s", proof, sig);
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_SIGNATURE_RANGE, full, &p);
    free(full);
    free(proof);
    free(claims);
    free(h);
}

/* ---- type ------------------------------------------------------------------------ */

static void test_wrong_typ(void **state)
{
    (void)state;
    const char *typs[] = {"JWT", "at+jwt", "DPoP+JWT", "application/dpop+jwt", "dpop"};
    for (size_t i = 0; i < sizeof typs / sizeof typs[0]; i++) {
        char *h = td_header(typs[i], "ES256", p256_jwk);
        expect_forged(JG_ERR_DPOP_TYP, h, p256, JG_ALG_ES256);
        free(h);
    }
    char *h = td_header(NULL, "ES256", p256_jwk);
    expect_forged(JG_ERR_DPOP_TYP, h, p256, JG_ALG_ES256);
    free(h);
}

static void test_json_serialization_refused(void **state)
{
    (void)state;
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_TOKEN_FORMAT, "{\"payload\":\"e30\",\"protected\":\"e30\",\"signature\":\"\"}",
              &p);
    td_expect(JG_ERR_TOKEN_FORMAT, " eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.", &p);
    td_expect(JG_ERR_TOKEN_FORMAT, "a.b", &p);
    td_expect(JG_ERR_TOKEN_FORMAT, "", &p);
}

/* ---- request binding ----------------------------------------------------------- */

static void test_stale_iat(void **state)
{
    (void)state;
    char *proof = td_proof(p256, TD_NOW - 3600, NULL, NULL);
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_DPOP_IAT_STALE, proof, &p);
    jg_free(proof);
    proof = td_proof(p256, 1, NULL, NULL); /* and the very old, far below the window */
    td_expect(JG_ERR_DPOP_IAT_STALE, proof, &p);
    jg_free(proof);
}

static void test_future_iat(void **state)
{
    (void)state;
    char *proof = td_proof(p256, TD_NOW + 3600, NULL, NULL);
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_DPOP_IAT_FUTURE, proof, &p);
    jg_free(proof);
    /* The far future, where a sum could wrap. */
    char *h = td_header("dpop+jwt", "ES256", p256_jwk);
    char claims[256];
    snprintf(claims, sizeof claims,
             "{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":9223372036854775807}");
    proof = td_forge(h, claims, p256, JG_ALG_ES256);
    td_expect(JG_ERR_DPOP_IAT_FUTURE, proof, &p);
    free(proof);
    snprintf(claims, sizeof claims,
             "{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":-9223372036854775807}");
    proof = td_forge(h, claims, p256, JG_ALG_ES256);
    td_expect(JG_ERR_DPOP_IAT_STALE, proof, &p);
    free(proof);
    free(h);
}

static void test_htu_with_query_or_fragment(void **state)
{
    (void)state;
    char *h = td_header("dpop+jwt", "ES256", p256_jwk);
    const char *bad[] = {
        "{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "?a=1\",\"iat\":1700000000}",
        "{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "#frag\",\"iat\":1700000000}",
        "{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"/orders\",\"iat\":1700000000}"};
    jg_dpop_policy p = td_policy();
    p.htu = TD_HTU "?a=1"; /* even when the request has that very query */
    p.htu_len = strlen(p.htu);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *proof = td_forge(h, bad[i], p256, JG_ALG_ES256);
        td_expect(JG_ERR_DPOP_HTU_INVALID, proof, &p);
        free(proof);
    }
    free(h);
}

static void test_proof_for_another_uri_or_method(void **state)
{
    (void)state;
    char *proof = td_proof(p256, TD_NOW, NULL, NULL);
    jg_dpop_policy p = td_policy();
    p.htu = "https://api.example.com/orders/1";
    p.htu_len = strlen(p.htu);
    td_expect(JG_ERR_DPOP_HTU, proof, &p);
    p.htu = "https://other.example.com/orders";
    p.htu_len = strlen(p.htu);
    td_expect(JG_ERR_DPOP_HTU, proof, &p);
    p.htu = "http://api.example.com/orders"; /* another scheme */
    p.htu_len = strlen(p.htu);
    td_expect(JG_ERR_DPOP_HTU, proof, &p);
    p = td_policy();
    p.htm = "DELETE";
    p.htm_len = 6;
    td_expect(JG_ERR_DPOP_HTM, proof, &p);
    jg_free(proof);
}

static void test_ath_of_another_token(void **state)
{
    (void)state;
    char *proof = td_proof(p256, TD_NOW, "stolen-token-of-someone-else", NULL);
    jg_dpop_policy p = td_policy();
    p.access_token = "the-presented-token";
    p.access_token_len = strlen(p.access_token);
    td_expect(JG_ERR_DPOP_ATH, proof, &p);
    jg_free(proof);
    proof = td_proof(p256, TD_NOW, NULL, NULL);
    td_expect(JG_ERR_DPOP_ATH_MISSING, proof, &p);
    jg_free(proof);
}

/* ---- replay ------------------------------------------------------------------------ */

/* The library keeps no state: a reused proof verifies again, with the same
 * thumbprint and jti, which is what the caller's replay cache keys on; two
 * proofs have different jti. */
static void test_proof_reused_same_replay_key(void **state)
{
    (void)state;
    char *proof = td_proof(p256, TD_NOW, NULL, NULL);
    char *second = td_proof(p256, TD_NOW, NULL, NULL);
    jg_dpop_policy p = td_policy();
    jg_dpop_result a, b, c;
    assert_jg_ok(jg_dpop_verify(proof, strlen(proof), &p, &a, NULL));
    assert_jg_ok(jg_dpop_verify(proof, strlen(proof), &p, &b, NULL));
    assert_jg_ok(jg_dpop_verify(second, strlen(second), &p, &c, NULL));
    assert_string_equal(a.jkt, b.jkt);
    assert_string_equal(a.jti, b.jti);
    assert_int_equal(a.expires, b.expires);
    assert_string_equal(a.jkt, c.jkt);
    assert_string_not_equal(a.jti, c.jti);
    jg_free(proof);
    jg_free(second);
}

/* ---- headers ----------------------------------------------------------------------- */

static void test_crit_unknown(void **state)
{
    (void)state;
    char h[1024];
    snprintf(h, sizeof h,
             "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1,\"jwk\":%s}",
             p256_jwk);
    expect_forged(JG_ERR_CRIT_UNKNOWN, h, p256, JG_ALG_ES256);
}

static void test_duplicate_members(void **state)
{
    (void)state;
    char h[1024];
    snprintf(h, sizeof h, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"alg\":\"none\",\"jwk\":%s}",
             p256_jwk);
    expect_forged(JG_ERR_JSON_DUPLICATE, h, p256, JG_ALG_ES256);
    char *hdr = td_header("dpop+jwt", "ES256", p256_jwk);
    char *proof = td_forge(hdr,
                           "{\"jti\":\"a\",\"jti\":\"b\",\"htm\":\"GET\",\"htu\":\"" TD_HTU
                           "\",\"iat\":1700000000}",
                           p256, JG_ALG_ES256);
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_JSON_DUPLICATE, proof, &p);
    free(proof);
    free(hdr);
}

/* ---- limits ----------------------------------------------------------------------- */

static void test_oversize_proof(void **state)
{
    (void)state;
    char *h = td_header("dpop+jwt", "ES256", p256_jwk);
    char *pad = malloc(9000);
    memset(pad, 'x', 8999);
    pad[8999] = '\0';
    char *extra = malloc(9100);
    sprintf(extra, ",\"pad\":\"%s\"", pad);
    char *claims = td_claims(TD_NOW, extra);
    char *proof = td_forge(h, claims, p256, JG_ALG_ES256);
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_LIMIT_TOKEN_SIZE, proof, &p);
    p.max_proof_len = strlen(proof); /* the caller may allow more */
    td_expect(JG_OK, proof, &p);
    free(proof);
    free(claims);
    free(extra);
    free(pad);
    free(h);
}

static void test_oversize_jti(void **state)
{
    (void)state;
    char jti[JG_DPOP_MAX_JTI_LEN + 2];
    memset(jti, 'j', sizeof jti - 1);
    jti[sizeof jti - 1] = '\0';
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"jti\":\"%s\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":1700000000}", jti);
    char *h = td_header("dpop+jwt", "ES256", p256_jwk);
    char *proof = td_forge(h, claims, p256, JG_ALG_ES256);
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_DPOP_JTI_LENGTH, proof, &p);
    free(proof);
    /* Exactly the maximum is accepted; a policy may lower it. */
    jti[JG_DPOP_MAX_JTI_LEN] = '\0';
    snprintf(claims, sizeof claims,
             "{\"jti\":\"%s\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":1700000000}", jti);
    proof = td_forge(h, claims, p256, JG_ALG_ES256);
    td_expect(JG_OK, proof, &p);
    p.max_jti_len = 64;
    td_expect(JG_ERR_DPOP_JTI_LENGTH, proof, &p);
    free(proof);
    free(h);
}

static void test_json_nested_deep(void **state)
{
    (void)state;
    char *h = td_header("dpop+jwt", "ES256", p256_jwk);
    char extra[2100] = ",\"x\":";
    size_t n = strlen(extra);
    for (int i = 0; i < 1000; i++)
        extra[n++] = '[';
    for (int i = 0; i < 1000; i++)
        extra[n++] = ']';
    extra[n] = '\0';
    char *claims = td_claims(TD_NOW, extra);
    char *proof = td_forge(h, claims, p256, JG_ALG_ES256);
    jg_dpop_policy p = td_policy();
    td_expect(JG_ERR_LIMIT_JSON_DEPTH, proof, &p);
    free(proof);
    free(claims);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* Keys. */
        cmocka_unit_test(test_private_ec_key_in_jwk),
        cmocka_unit_test(test_private_rsa_key_in_jwk),
        cmocka_unit_test(test_no_jwk_in_header),
        cmocka_unit_test(test_jwk_on_another_curve_than_alg),
        cmocka_unit_test(test_jwk_of_another_key_type_than_alg),
        cmocka_unit_test(test_jwk_use_or_alg_member_disagrees),
        cmocka_unit_test(test_signed_by_another_key_than_jwk),
        cmocka_unit_test(test_rsa_jwk_below_2048_bits),
        /* Algorithms. */
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_hmac),
        cmocka_unit_test(test_oct_jwk_with_asymmetric_alg),
        cmocka_unit_test(test_alg_outside_policy),
        cmocka_unit_test(test_ecdsa_psychic_signature),
        /* Type. */
        cmocka_unit_test(test_wrong_typ),
        cmocka_unit_test(test_json_serialization_refused),
        /* Request binding. */
        cmocka_unit_test(test_stale_iat),
        cmocka_unit_test(test_future_iat),
        cmocka_unit_test(test_htu_with_query_or_fragment),
        cmocka_unit_test(test_proof_for_another_uri_or_method),
        cmocka_unit_test(test_ath_of_another_token),
        /* Replay. */
        cmocka_unit_test(test_proof_reused_same_replay_key),
        /* Headers. */
        cmocka_unit_test(test_crit_unknown),
        cmocka_unit_test(test_duplicate_members),
        /* Limits. */
        cmocka_unit_test(test_oversize_proof),
        cmocka_unit_test(test_oversize_jti),
        cmocka_unit_test(test_json_nested_deep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
