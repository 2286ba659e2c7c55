/* test_scope.c — required scopes of jg_jwt_policy (scopes_all, scopes_any)
 * in jg_claims_validate, and the token matcher jg_scope_contains. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static int64_t g_now = 1700000000;

static jg_jwt_policy scope_policy(const char *const *all, const char *const *any)
{
    jg_jwt_policy p = {0};
    p.clock = tu_clock;
    p.clock_ctx = &g_now;
    p.allow_missing_exp = 1;
    p.scopes_all = all;
    p.scopes_any = any;
    return p;
}

/* Validate {"scope": <scope_json>} (or no scope when NULL) against the lists. */
static jg_err check(const char *scope_json, const char *const *all, const char *const *any)
{
    char json[512];
    if (scope_json != NULL)
        snprintf(json, sizeof json, "{\"scope\":%s}", scope_json);
    else
        snprintf(json, sizeof json, "{\"sub\":\"x\"}");
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(json, strlen(json), NULL, &c));
    jg_jwt_policy p = scope_policy(all, any);
    jg_err err = jg_claims_validate(c, &p);
    jg_claims_free(c);
    return err;
}

static int contains(const char *scope, const char *want)
{
    return jg_scope_contains(scope, strlen(scope), want, strlen(want));
}

static void test_contains_exact_tokens(void **state)
{
    (void)state;
    assert_true(contains("orders:read orders:write", "orders:read"));
    assert_true(contains("orders:read orders:write", "orders:write"));
    assert_true(contains("a", "a"));
    /* never a prefix, a suffix or a substring */
    assert_false(contains("orders:read", "orders"));
    assert_false(contains("orders:read", "read"));
    assert_false(contains("xa ax", "a"));
    /* case-sensitive */
    assert_false(contains("Orders", "orders"));
    /* runs of spaces separate like one */
    assert_true(contains("  a   b  ", "b"));
    /* an empty want, or one that spans two tokens, is never contained */
    assert_false(contains("a b", ""));
    assert_false(contains("a b", "a b"));
    assert_false(contains("", "a"));
    assert_false(jg_scope_contains(NULL, 0, "a", 1));
    assert_false(jg_scope_contains("a", 1, NULL, 0));
    /* lengths, not NULs, bound both strings */
    assert_true(jg_scope_contains("ab cd", 2, "ab", 2));
    assert_false(jg_scope_contains("ab cd", 2, "cd", 2));
    assert_true(jg_scope_contains("ab cd", 5, "cdx", 2));
}

static void test_scopes_all(void **state)
{
    (void)state;
    const char *const one[] = {"read", NULL};
    const char *const two[] = {"read", "write", NULL};
    assert_jg_ok(check("\"read write\"", two, NULL));
    assert_jg_ok(check("\"write admin read\"", two, NULL));
    assert_jg_ok(check("\"read\"", one, NULL));
    assert_jg(JG_ERR_SCOPE, check("\"read\"", two, NULL));
    assert_jg(JG_ERR_SCOPE, check("\"reader write\"", two, NULL));
}

static void test_scopes_any(void **state)
{
    (void)state;
    const char *const any[] = {"admin", "write", NULL};
    assert_jg_ok(check("\"read write\"", NULL, any));
    assert_jg_ok(check("\"admin\"", NULL, any));
    assert_jg(JG_ERR_SCOPE, check("\"read\"", NULL, any));
    assert_jg(JG_ERR_SCOPE, check("\"administrator\"", NULL, any));
}

static void test_scopes_all_and_any(void **state)
{
    (void)state;
    const char *const all[] = {"read", NULL};
    const char *const any[] = {"eu", "us", NULL};
    assert_jg_ok(check("\"read us\"", all, any));
    assert_jg(JG_ERR_SCOPE, check("\"read\"", all, any));  /* none of any */
    assert_jg(JG_ERR_SCOPE, check("\"eu us\"", all, any)); /* not all */
}

static void test_no_requirement(void **state)
{
    (void)state;
    const char *const empty[] = {NULL};
    /* NULL and empty lists require nothing, so the claim is not even read. */
    assert_jg_ok(check(NULL, NULL, NULL));
    assert_jg_ok(check(NULL, empty, empty));
    assert_jg_ok(check("42", empty, NULL));
    assert_jg_ok(check("\"  malformed\"", NULL, empty));
}

static void test_scope_claim_missing_or_not_a_string(void **state)
{
    (void)state;
    const char *const all[] = {"read", NULL};
    assert_jg(JG_ERR_CLAIM_MISSING, check(NULL, all, NULL));
    assert_jg(JG_ERR_CLAIM_MISSING, check(NULL, NULL, all));
    /* an array ("scp" style) is not the RFC 8693 form */
    assert_jg(JG_ERR_CLAIM_TYPE, check("[\"read\"]", all, NULL));
    assert_jg(JG_ERR_CLAIM_TYPE, check("1", all, NULL));
    assert_jg(JG_ERR_CLAIM_TYPE, check("null", all, NULL));
}

static void test_scope_claim_malformed(void **state)
{
    (void)state;
    const char *const all[] = {"read", NULL};
    /* RFC 6749 section 3.3: tokens of %x21 / %x23-5B / %x5D-7E, single spaces. */
    const char *bad[] = {
        "\"\"",
        "\" read\"",
        "\"read \"",
        "\"read  write\"",
        "\"read\\twrite\"",
        "\"read\\nwrite\"",
        "\"read \\\"x\"",
        "\"read a\\\\b\"",
        "\"read \\u00e9\"",
        "\"read \\u007f\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jg_err err = check(bad[i], all, NULL);
        if (err != JG_ERR_SCOPE_INVALID)
            fail_msg("scope %s: expected JG_ERR_SCOPE_INVALID, got %s", bad[i], jg_err_name(err));
    }
    /* the edges of the allowed set */
    assert_jg_ok(check("\"read ! # [ ] ~ orders:read https://api/x\"", all, NULL));
}

/* Scopes come last: an expired token is expired whatever its scopes. */
static void test_scope_checked_after_other_rules(void **state)
{
    (void)state;
    const char *const all[] = {"write", NULL};
    const char *json = "{\"exp\":1000,\"scope\":\"read\"}";
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(json, strlen(json), NULL, &c));
    jg_jwt_policy p = scope_policy(all, NULL);
    assert_jg(JG_ERR_EXPIRED, jg_claims_validate(c, &p));
    p.issuer = "https://iss";
    g_now = 900;
    assert_jg(JG_ERR_CLAIM_MISSING, jg_claims_validate(c, &p)); /* iss before scope */
    p.issuer = NULL;
    assert_jg(JG_ERR_SCOPE, jg_claims_validate(c, &p));
    g_now = 1700000000;
    jg_claims_free(c);
}

/* Through jg_jwt_verify: the policy's scopes decide after the signature. */
static void test_jwt_verify_scopes(void **state)
{
    (void)state;
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_generate_for_alg(JG_ALG_HS256, JG_CRV_NONE, 0, "k", &key));
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    assert_jg_ok(jg_jwks_add(set, key));
    jg_claims *c = NULL;
    const char *json = "{\"scope\":\"orders:read profile\"}";
    assert_jg_ok(jg_claims_parse(json, strlen(json), NULL, &c));
    char *token = NULL;
    size_t len = 0;
    assert_jg_ok(jg_jwt_sign(c, key, NULL, &token, &len));
    const char *const ok[] = {"orders:read", NULL};
    const char *const missing[] = {"orders:write", NULL};
    jg_jwt_policy p = scope_policy(ok, NULL);
    p.algs = JG_ALG_BIT(JG_ALG_HS256);
    assert_jg_ok(jg_jwt_verify(token, len, set, &p, NULL));
    p.scopes_all = missing;
    assert_jg(JG_ERR_SCOPE, jg_jwt_verify(token, len, set, &p, NULL));
    p.scopes_all = NULL;
    p.scopes_any = missing;
    assert_jg(JG_ERR_SCOPE, jg_jwt_verify(token, len, set, &p, NULL));
    jg_free(token);
    jg_claims_free(c);
    jg_jwks_free(set);
    jg_jwk_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contains_exact_tokens),
        cmocka_unit_test(test_scopes_all),
        cmocka_unit_test(test_scopes_any),
        cmocka_unit_test(test_scopes_all_and_any),
        cmocka_unit_test(test_no_requirement),
        cmocka_unit_test(test_scope_claim_missing_or_not_a_string),
        cmocka_unit_test(test_scope_claim_malformed),
        cmocka_unit_test(test_scope_checked_after_other_rules),
        cmocka_unit_test(test_jwt_verify_scopes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_scope");
    return rc;
}
