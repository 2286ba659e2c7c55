/*
 * fuzz_access_token.c — jg_access_token_open(), the gateway's per-request
 * call: decrypt with the gateway's keys, verify the inner JWS with the
 * issuer's, validate the claims. Runs with JG_FORM_ANY (a bare JWS or a
 * nested JWE); a JWE that turns out not to be nested is tried again as
 * JG_FORM_ENCRYPTED (claims straight in the JWE), and a token that opens is
 * opened again with the form that must agree (NESTED for a JWE, SIGNED for a
 * JWS).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

FZ_INIT_KEYS

FZ_TOKEN_MUTATOR

static jg_err open_as(const uint8_t *data, size_t size, jg_token_form form)
{
    const fz_keys *k = fz_keys_get();
    jg_open_policy policy;
    memset(&policy, 0, sizeof policy);
    policy.jwt.algs = fz_jws_algs();
    policy.jwt.allow_missing_exp = 1;
    /* the harness's issuer set holds every kind of key on purpose (every
     * algorithm reachable); the refusal of mixed sets has its own test */
    policy.jwt.allow_mixed_keys = 1;
    policy.jwt.leeway = 60;
    policy.jwt.clock = fz_clock;
    policy.jwt.limits = &k->limits;
    policy.key_algs = fz_jwe_algs();
    policy.encs = fz_encs();
    policy.form = form;

    jg_claims *claims = NULL;
    jg_err err =
        jg_access_token_open((const char *)data, size, k->gateway, k->issuer, &policy, &claims);
    if ((err == JG_OK) != (claims != NULL))
        abort();
    if (claims != NULL) {
        for (size_t i = 0; i < jg_claims_count(claims); i++)
            if (jg_claims_name_at(claims, i) == NULL)
                abort();
        for (size_t i = 0; i < jg_claims_aud_count(claims); i++)
            if (jg_claims_aud_at(claims, i) == NULL)
                abort();
        jg_claims_free(claims);
    }
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jg_err err = open_as(data, size, JG_FORM_ANY);
    if (err == JG_ERR_NOT_NESTED)
        (void)open_as(data, size, JG_FORM_ENCRYPTED);
    if (err == JG_OK) {
        /* It opened as a JWS or as a nested JWE: exactly one of the strict
         * forms must agree. */
        int as_signed = open_as(data, size, JG_FORM_SIGNED) == JG_OK;
        int as_nested = open_as(data, size, JG_FORM_NESTED) == JG_OK;
        if (as_signed == as_nested)
            abort();
    }
    return 0;
}
