/*
 * test_jws_roundtrip.c — sign and verify with fresh keys: every algorithm in
 * every serialization, attached and detached, base64url and unencoded
 * payloads; several signatures under ANY and ALL; how protected headers are
 * built; the result's accessors; and two threads verifying at once with one
 * shared key set.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws_testlib.h"

typedef struct alg_case {
    jg_alg alg;
    jg_kty kty;
    jg_crv crv;
    const char *name; /* also the key's kid */
} alg_case;

static const alg_case cases[] = {
    {JG_ALG_HS256, JG_KTY_OCT, JG_CRV_NONE, "HS256"},
    {JG_ALG_HS384, JG_KTY_OCT, JG_CRV_NONE, "HS384"},
    {JG_ALG_HS512, JG_KTY_OCT, JG_CRV_NONE, "HS512"},
    {JG_ALG_RS256, JG_KTY_RSA, JG_CRV_NONE, "RS256"},
    {JG_ALG_RS384, JG_KTY_RSA, JG_CRV_NONE, "RS384"},
    {JG_ALG_RS512, JG_KTY_RSA, JG_CRV_NONE, "RS512"},
    {JG_ALG_PS256, JG_KTY_RSA, JG_CRV_NONE, "PS256"},
    {JG_ALG_PS384, JG_KTY_RSA, JG_CRV_NONE, "PS384"},
    {JG_ALG_PS512, JG_KTY_RSA, JG_CRV_NONE, "PS512"},
    {JG_ALG_ES256, JG_KTY_EC, JG_CRV_P256, "ES256"},
    {JG_ALG_ES384, JG_KTY_EC, JG_CRV_P384, "ES384"},
    {JG_ALG_ES512, JG_KTY_EC, JG_CRV_P521, "ES512"},
    {JG_ALG_EDDSA, JG_KTY_OKP, JG_CRV_ED25519, "EdDSA-Ed25519"},
    {JG_ALG_EDDSA, JG_KTY_OKP, JG_CRV_ED448, "EdDSA-Ed448"},
    {JG_ALG_ED25519, JG_KTY_OKP, JG_CRV_ED25519, "Ed25519"},
    {JG_ALG_ED448, JG_KTY_OKP, JG_CRV_ED448, "Ed448"},
};
#define NCASES (sizeof cases / sizeof cases[0])

static jg_jwk *keys[NCASES]; /* private keys, kid = case name */
static jg_jwks *verifiers;   /* their verifier keys */
static jg_jwk *shared_rsa;   /* one RSA key for the RS and PS cases */

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        jg_jwk_meta meta = {.kid = cases[i].name};
        if (cases[i].kty == JG_KTY_RSA) {
            if (shared_rsa == NULL)
                assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &shared_rsa));
            keys[i] = tk_with_kid(shared_rsa, cases[i].name);
        } else if (cases[i].kty == JG_KTY_OCT) {
            unsigned bits = cases[i].alg == JG_ALG_HS256   ? 256
                            : cases[i].alg == JG_ALG_HS384 ? 384
                                                           : 512;
            assert_jg_ok(jg_jwk_generate(JG_KTY_OCT, JG_CRV_NONE, bits, &meta, &keys[i]));
        } else {
            assert_jg_ok(jg_jwk_generate(cases[i].kty, cases[i].crv, 0, &meta, &keys[i]));
        }
        assert_string_equal(jg_jwk_kid(keys[i]), cases[i].name);
    }
    verifiers = tk_verify_set(keys, NCASES);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++)
        jg_jwk_free(keys[i]);
    jg_jwk_free(shared_rsa);
    jg_jwks_free(verifiers);
    return 0;
}

/* Verify and check everything the result says. */
static void check_verifies(const char *tok, size_t i, const void *payload, size_t payload_len,
                           int detached)
{
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALG_BIT(cases[i].alg));
    if (detached) {
        opts.detached_payload = payload;
        opts.detached_payload_len = payload_len;
    }
    jg_jws *jws = NULL;
    jg_err err = jg_jws_verify(tok, strlen(tok), verifiers, &opts, &jws);
    if (err != JG_OK)
        fail_msg("%s: %s on %s", cases[i].name, jg_err_name(err), tok);
    size_t len = 0;
    const unsigned char *got = jg_jws_payload(jws, &len);
    assert_int_equal(len, payload_len);
    assert_memory_equal(got, payload, len);
    assert_int_equal(got[len], '\0');
    assert_int_equal(jg_jws_alg(jws), cases[i].alg);
    assert_string_equal(jg_jwk_kid(jg_jws_key(jws)), cases[i].name);
    assert_false(jg_jwk_is_private(jg_jws_key(jws)) && cases[i].kty != JG_KTY_OCT);
    const char *alg_name = NULL;
    assert_jg_ok(jg_jws_header_string(jws, "alg", &alg_name));
    assert_string_equal(alg_name, jg_alg_name(cases[i].alg));
    jg_jws_free(jws);

    /* Another alg of the same family only: not allowed. */
    opts.algs = JG_ALGS_HMAC | JG_ALGS_ASYMMETRIC_SIG;
    opts.algs &= ~JG_ALG_BIT(cases[i].alg);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, jg_jws_verify(tok, strlen(tok), verifiers, &opts, &jws));
}

static void test_every_alg_every_form(void **state)
{
    (void)state;
    unsigned char binary[300];
    for (size_t b = 0; b < sizeof binary; b++)
        binary[b] = (unsigned char)(b * 7 + 3);
    const char *text = "{\"sub\":\"alice\",\"scope\":\"read write\",\"n\":1}"; /* no '.' */
    static const jg_format formats[] = {JG_FORMAT_COMPACT, JG_FORMAT_FLATTENED, JG_FORMAT_GENERAL};

    for (size_t i = 0; i < NCASES; i++) {
        for (size_t f = 0; f < 3; f++) {
            for (int detached = 0; detached < 2; detached++) {
                for (int b64_false = 0; b64_false < 2; b64_false++) {
                    const void *payload = b64_false ? (const void *)text : binary;
                    size_t payload_len = b64_false ? strlen(text) : sizeof binary;
                    jg_jws_signer s = {.key = keys[i], .alg = cases[i].alg};
                    jg_jws_sign_opts o = {
                        .format = formats[f], .detached = detached, .b64_false = b64_false};
                    char *tok = NULL;
                    size_t tok_len = 0;
                    assert_jg_ok(jg_jws_sign(payload, payload_len, &s, &o, &tok, &tok_len));
                    assert_int_equal(tok_len, strlen(tok));
                    assert_int_equal(tok[0] == '{', formats[f] != JG_FORMAT_COMPACT);
                    check_verifies(tok, i, payload, payload_len, detached);
                    jg_free(tok);
                    tu_count("roundtrip");
                }
            }
        }
        /* The key's own alg is used when the signer names none. */
        jg_jwk_meta meta = {.kid = cases[i].name, .alg = cases[i].alg};
        jg_jwk *with_alg = NULL;
        assert_jg_ok(jg_jwk_with_meta(keys[i], &meta, &with_alg));
        jg_jws_signer s = {.key = with_alg};
        char *tok = NULL;
        assert_jg_ok(jg_jws_sign("x", 1, &s, NULL, &tok, NULL));
        check_verifies(tok, i, "x", 1, 0);
        jg_free(tok);
        jg_jwk_free(with_alg);
    }
}

static void test_all_algs_in_one_token(void **state)
{
    (void)state;
    jg_jws_signer signers[NCASES];
    memset(signers, 0, sizeof signers);
    jg_alg_set every = 0;
    for (size_t i = 0; i < NCASES; i++) {
        signers[i].key = keys[i];
        signers[i].alg = cases[i].alg;
        every |= JG_ALG_BIT(cases[i].alg);
    }
    jg_limits limits = jg_limits_default();
    limits.max_signatures = NCASES;
    for (int detached = 0; detached < 2; detached++) {
        for (int b64_false = 0; b64_false < 2; b64_false++) {
            jg_jws_sign_opts o = {
                .format = JG_FORMAT_GENERAL, .detached = detached, .b64_false = b64_false};
            char *tok = NULL;
            assert_jg_ok(jg_jws_sign_multi("many.signers", 12, signers, NCASES, &o, &tok, NULL));
            jg_jws_verify_opts opts = tk_opts_mixed(every);
            opts.limits = &limits;
            opts.policy = JG_SIG_ALL;
            if (detached) {
                opts.detached_payload = "many.signers";
                opts.detached_payload_len = 12;
            }
            jg_jws *jws = NULL;
            assert_jg_ok(jg_jws_verify(tok, strlen(tok), verifiers, &opts, &jws));
            assert_int_equal(jg_jws_signature_count(jws), NCASES);
            assert_int_equal(jg_jws_verified_count(jws), NCASES);
            assert_int_equal(jg_jws_alg(jws), JG_ALG_HS256);
            jg_jws_free(jws);

            /* ANY with one family allowed: the first ES256 signature. */
            opts.policy = JG_SIG_ANY;
            opts.algs = JG_ALGS_EC_SIG;
            assert_jg_ok(jg_jws_verify(tok, strlen(tok), verifiers, &opts, &jws));
            assert_int_equal(jg_jws_verified_count(jws), 3);
            assert_int_equal(jg_jws_alg(jws), JG_ALG_ES256);
            jg_jws_free(jws);
            /* ALL with the same list fails on the first HMAC signature. */
            opts.policy = JG_SIG_ALL;
            assert_jg(JG_ERR_ALG_NOT_ALLOWED,
                      jg_jws_verify(tok, strlen(tok), verifiers, &opts, &jws));
            /* ALL with a key missing from the set. */
            jg_jwks *partial = tk_verify_set(keys, NCASES - 1);
            opts.algs = every;
            assert_jg(JG_ERR_KEY_NOT_FOUND, jg_jws_verify(tok, strlen(tok), partial, &opts, &jws));
            opts.policy = JG_SIG_ANY;
            assert_jg_ok(jg_jws_verify(tok, strlen(tok), partial, &opts, &jws));
            assert_int_equal(jg_jws_verified_count(jws), NCASES - 1);
            jg_jws_free(jws);
            jg_jwks_free(partial);
            jg_free(tok);
            tu_count("multi-signature");
        }
    }
}

/* The protected header a signer produces, decoded. */
static char *protected_of(const jg_jws_signer *s, const jg_jws_sign_opts *o)
{
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("p", 1, s, o, &tok, NULL));
    char *prot_b64;
    if (tok[0] == '{') {
        json_error_t error;
        json_t *j = json_loads(tok, 0, &error);
        const char *p = json_string_value(json_object_get(j, "protected"));
        prot_b64 = strdup(p ? p : "");
        json_decref(j);
    } else {
        prot_b64 = strndup(tok, strcspn(tok, "."));
    }
    jg_free(tok);
    size_t len = 0;
    unsigned char *text = NULL;
    assert_jg_ok(jg_b64url_decode_alloc(prot_b64, strlen(prot_b64), &text, &len));
    free(prot_b64);
    return (char *)text;
}

static void test_header_building(void **state)
{
    (void)state;
    jg_jwk *k = keys[0]; /* HS256, kid "HS256" */
    jg_jws_sign_opts flat = {.format = JG_FORMAT_FLATTENED};
    jg_jws_sign_opts b64f = {.b64_false = 1};
    static const struct {
        const char *prot, *unprot;
        int b64_false;
        const char *want;
    } hdrs[] = {
        {NULL, NULL, 0, "{\"alg\":\"HS256\",\"kid\":\"HS256\"}"},
        {"{}", NULL, 0, "{\"alg\":\"HS256\",\"kid\":\"HS256\"}"},
        {"{\"typ\":\"JWT\"}", NULL, 0, "{\"alg\":\"HS256\",\"kid\":\"HS256\",\"typ\":\"JWT\"}"},
        {"{\"typ\":\"JWT\",\"alg\":\"HS256\",\"cty\":\"x\"}", NULL, 0,
         "{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"HS256\",\"cty\":\"x\"}"},
        {"{\"kid\":\"other\",\"typ\":\"JWT\"}", NULL, 0,
         "{\"alg\":\"HS256\",\"kid\":\"other\",\"typ\":\"JWT\"}"},
        {NULL, "{\"kid\":\"HS256\"}", 0, "{\"alg\":\"HS256\"}"},
        {NULL, "{\"alg\":\"HS256\"}", 0, "{\"kid\":\"HS256\"}"},
        {"{\"typ\":\"JWT\"}", "{\"alg\":\"HS256\"}", 0, "{\"kid\":\"HS256\",\"typ\":\"JWT\"}"},
        {NULL, "{\"alg\":\"HS256\",\"kid\":\"HS256\"}", 0, ""},
        {NULL, NULL, 1, "{\"alg\":\"HS256\",\"kid\":\"HS256\",\"b64\":false,\"crit\":[\"b64\"]}"},
        {"{\"exp\":9,\"crit\":[\"exp\"]}", NULL, 1,
         "{\"alg\":\"HS256\",\"kid\":\"HS256\",\"exp\":9,\"crit\":[\"exp\",\"b64\"],\"b64\":"
         "false}"},
        {"{\"crit\":[\"b64\"]}", NULL, 1,
         "{\"alg\":\"HS256\",\"kid\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}"},
    };
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        jg_jws_signer s = {.key = k,
                           .alg = JG_ALG_HS256,
                           .protected_json = hdrs[i].prot,
                           .unprotected_json = hdrs[i].unprot};
        jg_jws_sign_opts o = hdrs[i].unprot ? flat : hdrs[i].b64_false ? b64f : flat;
        o.b64_false = hdrs[i].b64_false;
        char *got = protected_of(&s, &o);
        if (strcmp(got, hdrs[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, got, hdrs[i].want);
        free(got);
    }
    /* A signature with no protected header: no "protected" member, and the
     * JWS Signing Input starts with '.'. */
    jg_jws_signer s = {
        .key = k, .alg = JG_ALG_HS256, .unprotected_json = "{\"alg\":\"HS256\",\"kid\":\"HS256\"}"};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("p", 1, &s, &flat, &tok, NULL));
    assert_null(strstr(tok, "protected"));
    jg_jws_verify_opts vo = tk_opts_mixed(JG_ALGS_HMAC);
    jg_jws *jws = NULL;
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), verifiers, &vo, &jws));
    char *pj = NULL;
    assert_jg_ok(jg_jws_protected_json(jws, &pj));
    assert_string_equal(pj, "{}");
    jg_free(pj);
    const char *kid = NULL;
    assert_jg_ok(jg_jws_header_string(jws, "kid", &kid));
    assert_string_equal(kid, "HS256");
    jg_jws_free(jws);
    jg_free(tok);
}

/* Keys whose kid needs JSON escaping take the general path; plain ones the
 * direct writer. Both must write what a JSON library writes. */
static void test_header_fast_path_matches_json(void **state)
{
    (void)state;
    static const char *const kids[] = {
        "plain-kid_1", "with space", "q\"uote",   "back\\slash", "new\nline",
        "caf\xc3\xa9", "slash/es",   "tab\there", "\x01",        "~!@#$%^&*()",
    };
    unsigned char secret[32];
    memset(secret, 0x42, sizeof secret);
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        for (int b64_false = 0; b64_false < 2; b64_false++) {
            jg_jwk_meta meta = {.kid = kids[i]};
            jg_jwk *k = NULL;
            assert_jg_ok(jg_jwk_from_secret(secret, sizeof secret, &meta, &k));
            jg_jws_signer direct = {.key = k, .alg = JG_ALG_HS256};
            jg_jws_signer general = {.key = k, .alg = JG_ALG_HS256, .protected_json = "{}"};
            jg_jws_sign_opts o = {.b64_false = b64_false};
            char *a = protected_of(&direct, &o), *b = protected_of(&general, &o);
            assert_string_equal(a, b);
            /* ...and it is the JSON of {"alg","kid"} in that order. */
            json_t *want = json_object();
            json_object_set_new(want, "alg", json_string("HS256"));
            json_object_set_new(want, "kid", json_string(kids[i]));
            if (b64_false) {
                json_object_set_new(want, "b64", json_false());
                json_object_set_new(want, "crit", json_pack("[s]", "b64"));
            }
            char *want_text = tu_json_text(want);
            assert_string_equal(a, want_text);
            free(want_text);
            json_decref(want);
            free(a);
            free(b);
            /* The kid survives the round trip. */
            char *tok = NULL;
            assert_jg_ok(jg_jws_sign("p", 1, &direct, &o, &tok, NULL));
            jg_jwks *set = tk_set(&k, 1);
            jg_jws_verify_opts vo = tk_opts_mixed(JG_ALGS_HMAC);
            jg_jws *jws = NULL;
            assert_jg_ok(jg_jws_verify(tok, strlen(tok), set, &vo, &jws));
            const char *kid = NULL;
            assert_jg_ok(jg_jws_header_string(jws, "kid", &kid));
            assert_string_equal(kid, kids[i]);
            jg_jws_free(jws);
            jg_jwks_free(set);
            jg_free(tok);
            jg_jwk_free(k);
        }
    }
}

static void test_result_accessors(void **state)
{
    (void)state;
    jg_jws_signer s = {.key = keys[9], /* ES256 */
                       .protected_json = "{\"typ\":\"at+jwt\",\"n\":5,\"cty\":\"JWT\"}",
                       .unprotected_json = "{\"x-note\":\"hello\"}",
                       .alg = JG_ALG_ES256};
    jg_jws_sign_opts o = {.format = JG_FORMAT_FLATTENED};
    char *tok = NULL;
    assert_jg_ok(jg_jws_sign("payload", 7, &s, &o, &tok, NULL));
    jg_jws_verify_opts vo = tk_opts_mixed(JG_ALGS_EC_SIG);
    jg_jws *jws = NULL;
    assert_jg_ok(jg_jws_verify(tok, strlen(tok), verifiers, &vo, &jws));
    const char *v = NULL;
    assert_jg_ok(jg_jws_header_string(jws, "typ", &v));
    assert_string_equal(v, "at+jwt");
    assert_jg_ok(jg_jws_header_string(jws, "x-note", &v));
    assert_string_equal(v, "hello");
    assert_jg(JG_ERR_JSON_TYPE, jg_jws_header_string(jws, "n", &v));
    assert_jg(JG_ERR_CLAIM_MISSING, jg_jws_header_string(jws, "nope", &v));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_header_string(NULL, "typ", &v));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_header_string(jws, NULL, &v));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_header_string(jws, "typ", NULL));
    char *pj = NULL;
    assert_jg_ok(jg_jws_protected_json(jws, &pj));
    assert_string_equal(pj, "{\"alg\":\"ES256\",\"cty\":\"JWT\",\"kid\":\"ES256\",\"n\":5,"
                            "\"typ\":\"at+jwt\"}");
    jg_free(pj);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_protected_json(NULL, &pj));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jws_protected_json(jws, NULL));
    assert_ptr_equal(jg_jws_key(jws), jg_jwks_get(verifiers, 9));
    jg_jws_free(jws);
    jg_free(tok);

    /* NULL results are harmless. */
    size_t len = 99;
    assert_null(jg_jws_payload(NULL, &len));
    assert_int_equal(len, 0);
    assert_int_equal(jg_jws_signature_count(NULL), 0);
    assert_int_equal(jg_jws_verified_count(NULL), 0);
    assert_int_equal(jg_jws_alg(NULL), JG_ALG_UNKNOWN);
    assert_null(jg_jws_key(NULL));
    jg_jws_free(NULL);
}

/* ---- two threads, one key set ------------------------------------------ */

#define THREAD_ROUNDS 150

typedef struct thread_arg {
    char **tokens;
    size_t n;
    char *tampered;
    atomic_uint failures;
} thread_arg;

static void *verify_loop(void *p)
{
    thread_arg *arg = p;
    jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_HMAC | JG_ALGS_ASYMMETRIC_SIG);
    for (int round = 0; round < THREAD_ROUNDS; round++) {
        for (size_t i = 0; i < arg->n; i++) {
            jg_jws *jws = NULL;
            if (jg_jws_verify(arg->tokens[i], strlen(arg->tokens[i]), verifiers, &opts, &jws) !=
                    JG_OK ||
                jg_jws_payload(jws, NULL)[0] != 'T')
                atomic_fetch_add(&arg->failures, 1u);
            jg_jws_free(jws);
        }
        jg_jws *jws = NULL;
        if (jg_jws_verify(arg->tampered, strlen(arg->tampered), verifiers, &opts, &jws) !=
            JG_ERR_SIGNATURE)
            atomic_fetch_add(&arg->failures, 1u);
    }
    return NULL;
}

static void test_two_threads_share_a_key_set(void **state)
{
    (void)state;
    static const size_t picks[] = {0, 3, 6, 9, 12, 14}; /* HS256 RS256 PS256 ES256 EdDSA Ed25519 */
    char *tokens[sizeof picks / sizeof picks[0]];
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++) {
        jg_jws_signer s = {.key = keys[picks[i]], .alg = cases[picks[i]].alg};
        assert_jg_ok(jg_jws_sign("Threads!", 8, &s, NULL, &tokens[i], NULL));
    }
    thread_arg arg = {.tokens = tokens, .n = sizeof picks / sizeof picks[0]};
    atomic_init(&arg.failures, 0u);
    arg.tampered = strdup(tokens[0]);
    arg.tampered[strchr(arg.tampered, '.') - arg.tampered + 2] ^= 0x01; /* payload char */

    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, verify_loop, &arg), 0);
    assert_int_equal(pthread_create(&t2, NULL, verify_loop, &arg), 0);
    assert_int_equal(pthread_join(t1, NULL), 0);
    assert_int_equal(pthread_join(t2, NULL), 0);
    assert_int_equal(atomic_load(&arg.failures), 0);
    for (size_t i = 0; i < arg.n; i++)
        jg_free(tokens[i]);
    free(arg.tampered);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_alg_every_form),
        cmocka_unit_test(test_all_algs_in_one_token),
        cmocka_unit_test(test_header_building),
        cmocka_unit_test(test_header_fast_path_matches_json),
        cmocka_unit_test(test_result_accessors),
        cmocka_unit_test(test_two_threads_share_a_key_set),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    tu_report("test_jws_roundtrip");
    return failed;
}
