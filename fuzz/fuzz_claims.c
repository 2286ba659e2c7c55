/*
 * fuzz_claims.c — claims parsing (jg_claims_parse) and validation under
 * several policies, every accessor, and then the claims sealed into a
 * nested access token (HS256 inside dir/A128GCM: cheap) and opened again:
 * the one-call open must reach exactly the verdict jg_claims_validate()
 * gives for the same claims and policy.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

FZ_INIT_KEYS

static void read_all(const jg_claims *claims)
{
    const char *s = NULL;
    int64_t i = 0;
    int b = 0;
    char *json = NULL;
    for (size_t n = 0; n < jg_claims_count(claims); n++) {
        const char *name = jg_claims_name_at(claims, n);
        if (name == NULL || !jg_claims_has(claims, name))
            abort();
        (void)jg_claims_get_string(claims, name, &s);
        (void)jg_claims_get_int(claims, name, &i);
        (void)jg_claims_get_bool(claims, name, &b);
        if (jg_claims_get_json(claims, name, &json) != JG_OK)
            abort();
        jg_free(json);
    }
    for (size_t n = 0; n < jg_claims_aud_count(claims); n++)
        if (jg_claims_aud_at(claims, n) == NULL)
            abort();
    if (jg_claims_to_json(claims, JG_EXPORT_PRETTY, &json) != JG_OK)
        abort();
    jg_free(json);
}

/* Seal with HS256 in dir/A128GCM and open under `policy`; the verdict must
 * be the one jg_claims_validate() gives. */
static void seal_and_open(const jg_claims *claims, const jg_jwt_policy *policy, jg_err expected)
{
    const fz_keys *k = fz_keys_get();
    jg_seal_opts sopts = {.sign_alg = JG_ALG_HS256, .key_alg = JG_ALG_DIR, .enc = JG_ENC_A128GCM};
    char *token = NULL;
    size_t len = 0;
    jg_err err = jg_access_token_seal(claims, k->hs[0], k->dir[0], &sopts, &token, &len);
    /* Too big, or not an access token (no exp, aud or jti): nothing to open. */
    if (err == JG_ERR_LIMIT_TOKEN_SIZE || err == JG_ERR_ACCESS_TOKEN_CLAIMS)
        return;
    if (err != JG_OK)
        abort();
    jg_open_policy open = {.jwt = *policy,
                           .key_algs = JG_ALG_BIT(JG_ALG_DIR),
                           .encs = JG_ENC_BIT(JG_ENC_A128GCM),
                           .form = JG_FORM_NESTED};
    open.jwt.algs = JG_ALG_BIT(JG_ALG_HS256);
    open.jwt.allow_mixed_keys = 1; /* the harness's issuer set mixes key kinds on purpose */
    err = jg_access_token_open(token, len, k->gateway, k->issuer, &open, NULL);
    /* A large claim set can exceed the token or payload limits once sealed. */
    if (err != expected && err != JG_ERR_LIMIT_TOKEN_SIZE)
        abort();
    jg_free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_keys *k = fz_keys_get();
    jg_claims *claims = NULL;
    if (jg_claims_parse((const char *)data, size, &k->limits, &claims) != JG_OK)
        return 0;
    read_all(claims);

    static const char *const required[] = {"jti", "scope", NULL};
    jg_jwt_policy strict = {.issuer = "https://issuer.example",
                            .audience = "https://api.example",
                            .subject = "client-42",
                            .leeway = 30,
                            .max_age = 3600,
                            .required = required,
                            .clock = fz_clock,
                            .limits = &k->limits};
    jg_jwt_policy lax = {.allow_missing_exp = 1, .clock = fz_clock, .limits = &k->limits};
    jg_err strict_err = jg_claims_validate(claims, &strict);
    jg_err lax_err = jg_claims_validate(claims, &lax);
    /* Whatever passes the strict policy passes the lax one. */
    if (strict_err == JG_OK && lax_err != JG_OK)
        abort();
    seal_and_open(claims, &lax, lax_err);
    seal_and_open(claims, &strict, strict_err);

    /* Changing the claims keeps them well typed. */
    if (jg_claims_merge_json(claims, "{\"iss\":\"https://issuer.example\",\"exp\":1}") != JG_OK)
        abort();
    (void)jg_claims_remove(claims, "sub");
    read_all(claims);
    jg_claims_free(claims);
    return 0;
}
