/*
 * fuzz_jws.c — jg_jws_verify() on any serialization (compact, flattened,
 * general JSON) with every JWS algorithm allowed and keys for all of them;
 * what verifies is then read through every accessor and checked again as a
 * JWT (typ, claims). Seeds: tokens made by make_seeds with the same keys,
 * so unprotected-header and structure mutations of JSON serializations get
 * past the signature check.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static const char *const understood[] = {"exp", "x-fuzz", NULL};

FZ_INIT_KEYS

FZ_TOKEN_MUTATOR

static void read_result(const jg_jws *jws)
{
    size_t len = 0;
    const unsigned char *payload = jg_jws_payload(jws, &len);
    if (payload == NULL || payload[len] != '\0')
        abort(); /* the payload is always NUL-terminated */
    if (jg_jws_verified_count(jws) == 0 ||
        jg_jws_verified_count(jws) > jg_jws_signature_count(jws) || jg_jws_key(jws) == NULL ||
        jg_alg_kind_of(jg_jws_alg(jws)) != JG_ALG_KIND_JWS)
        abort();
    const char *s = NULL;
    (void)jg_jws_header_string(jws, "typ", &s);
    (void)jg_jws_header_string(jws, "kid", &s);
    char *json = NULL;
    if (jg_jws_protected_json(jws, &json) == JG_OK)
        jg_free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_keys *k = fz_keys_get();
    const char *token = (const char *)data;
    /* k->sig holds every kind of key on purpose (every algorithm reachable);
     * the refusal of mixed sets has its own test (test_attacks.c) */
    jg_jws_verify_opts opts = {.algs = fz_jws_algs(),
                               .policy = JG_SIG_ANY,
                               .crit = understood,
                               .limits = &k->limits,
                               .allow_mixed_keys = 1};

    jg_jws *jws = NULL;
    jg_err err = jg_jws_verify(token, size, k->sig, &opts, &jws);
    if ((err == JG_OK) != (jws != NULL))
        abort();
    if (err != JG_OK)
        return 0;
    read_result(jws);
    jg_jws_free(jws);

    /* Every signature must verify under JG_SIG_ALL, or the token is refused. */
    opts.policy = JG_SIG_ALL;
    err = jg_jws_verify(token, size, k->sig, &opts, &jws);
    if (err == JG_OK) {
        if (jg_jws_verified_count(jws) != jg_jws_signature_count(jws))
            abort();
        jg_jws_free(jws);
    }

    /* The same token as a JWT: typ and claims behind a valid signature. */
    jg_jwt_policy policy = {.algs = fz_jws_algs(),
                            .allow_missing_exp = 1,
                            .allow_mixed_keys = 1,
                            .clock = fz_clock,
                            .crit = understood,
                            .limits = &k->limits};
    jg_claims *claims = NULL;
    if (jg_jwt_verify(token, size, k->sig, &policy, &claims) == JG_OK) {
        char *json = NULL;
        if (jg_claims_to_json(claims, 0, &json) == JG_OK)
            jg_free(json);
        jg_claims_free(claims);
    }
    return 0;
}
