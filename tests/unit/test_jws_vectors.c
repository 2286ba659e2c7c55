/*
 * test_jws_vectors.c — JWS against published examples: the RFC 7520
 * cookbook (jws/, rfc7797/, curve25519/jws.json) and RFC 7515 appendix A.
 *
 * Reproducible examples are signed again and compared byte for byte in every
 * serialization the example gives; examples with randomized signatures
 * (PS*, ES*) are compared in everything but the signature value. Every given
 * output is verified, and so is every output we produce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws/sig.h"
#include "jws_testlib.h"

#define MAX_SIGNERS 4

/* One example's signers and keys. */
typedef struct example {
    size_t n;
    jg_jwk *keys[MAX_SIGNERS];
    jg_alg algs[MAX_SIGNERS];
    char *prot[MAX_SIGNERS];      /* protected_json for the signer, or NULL */
    char *unprot[MAX_SIGNERS];    /* unprotected_json, or NULL */
    int auto_header[MAX_SIGNERS]; /* our default header equals the example's */
    int b64_false;
    jg_alg_set allowed;
    jg_jwks *verify_set;
} example;

static void example_free(example *ex)
{
    for (size_t i = 0; i < ex->n; i++) {
        jg_jwk_free(ex->keys[i]);
        free(ex->prot[i]);
        free(ex->unprot[i]);
    }
    jg_jwks_free(ex->verify_set);
}

/* Whether the protected header is exactly what we write with no caller
 * header: {"alg"} then the key's "kid" (if it has one). */
static int is_auto_header(json_t *prot, const jg_jwk *key)
{
    const char *kid = jg_jwk_kid(key);
    size_t want = kid ? 2 : 1;
    if (prot == NULL || json_object_size(prot) != want)
        return 0;
    void *it = json_object_iter(prot);
    if (strcmp(json_object_iter_key(it), "alg") != 0)
        return 0;
    if (kid == NULL)
        return 1;
    it = json_object_iter_next(prot, it);
    return strcmp(json_object_iter_key(it), "kid") == 0 &&
           strcmp(json_string_value(json_object_iter_value(it)), kid) == 0;
}

static void example_load(json_t *root, example *ex)
{
    memset(ex, 0, sizeof *ex);
    json_t *jkeys = tu_json_at(root, "input/key");
    json_t *jalgs = tu_json_at(root, "input/alg");
    json_t *jsigning = json_object_get(root, "signing");
    ex->n = json_is_array(jkeys) ? json_array_size(jkeys) : 1;
    assert_true(ex->n >= 1 && ex->n <= MAX_SIGNERS);
    for (size_t i = 0; i < ex->n; i++) {
        json_t *jk = json_is_array(jkeys) ? json_array_get(jkeys, i) : jkeys;
        json_t *ja = json_is_array(jalgs) ? json_array_get(jalgs, i) : jalgs;
        json_t *js = json_is_array(jsigning) ? json_array_get(jsigning, i) : jsigning;
        ex->keys[i] = tk_key_json(jk);
        const char *name = json_string_value(ja);
        ex->algs[i] = jg_alg_from_name(name, strlen(name));
        assert_int_not_equal(ex->algs[i], JG_ALG_UNKNOWN);
        ex->allowed |= JG_ALG_BIT(ex->algs[i]);

        json_t *prot = json_object_get(js, "protected");
        json_t *unprot = json_object_get(js, "unprotected");
        if (prot != NULL) {
            json_t *copy = json_deep_copy(prot);
            /* "b64" and its "crit" entry are written by opts.b64_false. */
            if (json_is_false(json_object_get(copy, "b64"))) {
                ex->b64_false = 1;
                json_object_del(copy, "b64");
                json_object_del(copy, "crit");
            }
            ex->prot[i] = tu_json_text(copy);
            ex->auto_header[i] = unprot == NULL && is_auto_header(copy, ex->keys[i]);
            json_decref(copy);
        }
        if (unprot != NULL)
            ex->unprot[i] = tu_json_text(unprot);
    }
    ex->verify_set = tk_verify_set(ex->keys, ex->n);
}

/* Verify a given or produced serialization with every signature required. */
static void verify_output(const char *token, const char *payload, const example *ex, int detached)
{
    jg_jws_verify_opts opts = tk_opts_mixed(ex->allowed);
    opts.policy = JG_SIG_ALL;
    if (detached) {
        opts.detached_payload = payload;
        opts.detached_payload_len = strlen(payload);
    }
    jg_jws *jws = NULL;
    assert_jg_ok(jg_jws_verify(token, strlen(token), ex->verify_set, &opts, &jws));
    size_t len = 0;
    const unsigned char *got = jg_jws_payload(jws, &len);
    assert_int_equal(len, strlen(payload));
    assert_memory_equal(got, payload, len);
    assert_int_equal(jg_jws_signature_count(jws), ex->n);
    assert_int_equal(jg_jws_verified_count(jws), ex->n);
    assert_int_equal(jg_jws_alg(jws), ex->algs[0]);
    assert_non_null(jg_jws_key(jws));
    jg_jws_free(jws);

    /* The same token with a different payload must not verify. */
    if (detached) {
        opts.detached_payload = "tampered";
        opts.detached_payload_len = 8;
        assert_jg(JG_ERR_SIGNATURE,
                  jg_jws_verify(token, strlen(token), ex->verify_set, &opts, &jws));
    }
}

/* The JWS Signing Input of one signature of a JSON serialization. */
static char *signing_input(json_t *sig, const char *payload_enc)
{
    const char *prot = json_string_value(json_object_get(sig, "protected"));
    if (prot == NULL)
        prot = "";
    size_t len = strlen(prot) + 1 + strlen(payload_enc) + 1;
    char *in = malloc(len);
    assert_non_null(in);
    snprintf(in, len, "%s.%s", prot, payload_enc);
    return in;
}

/* json_equal() that also holds for two absent members. */
static int same_member(json_t *a, json_t *b, const char *name)
{
    json_t *x = json_object_get(a, name), *y = json_object_get(b, name);
    return (x == NULL && y == NULL) || json_equal(x, y);
}

/* Compare our serialization with the example's, signature values only
 * where the alg is deterministic. */
static void compare_structure(const char *ours, json_t *expected, const char *expected_compact)
{
    if (expected_compact != NULL) {
        const char *e_dot = strrchr(expected_compact, '.');
        const char *o_dot = strrchr(ours, '.');
        assert_non_null(o_dot);
        assert_int_equal(o_dot - ours, e_dot - expected_compact);
        assert_memory_equal(ours, expected_compact, (size_t)(e_dot - expected_compact));
        char *first = strndup(expected_compact, strcspn(expected_compact, "."));
        json_t *hdr = tk_decode_header(first);
        if (tk_deterministic(tk_header_alg(hdr)))
            assert_string_equal(o_dot, e_dot);
        json_decref(hdr);
        free(first);
        return;
    }
    json_error_t error;
    json_t *got = json_loads(ours, 0, &error);
    assert_non_null(got);
    assert_true(same_member(got, expected, "payload"));
    json_t *gs = json_object_get(got, "signatures");
    json_t *es = json_object_get(expected, "signatures");
    size_t n = es ? json_array_size(es) : 1;
    assert_int_equal(gs ? json_array_size(gs) : 1, n);
    for (size_t i = 0; i < n; i++) {
        json_t *g = gs ? json_array_get(gs, i) : got;
        json_t *e = es ? json_array_get(es, i) : expected;
        assert_true(same_member(g, e, "protected"));
        assert_true(same_member(g, e, "header"));
        json_t *hdr = json_object_get(e, "header");
        jg_alg alg = tk_header_alg(hdr);
        if (alg == JG_ALG_UNKNOWN) {
            json_t *p = tk_decode_header(json_string_value(json_object_get(e, "protected")));
            alg = tk_header_alg(p);
            json_decref(p);
        }
        if (tk_deterministic(alg))
            assert_true(same_member(g, e, "signature"));
    }
    json_decref(got);
}

/* Sign the example's payload in `format` and compare with `expected`. */
static void sign_and_compare(const example *ex, const char *payload, jg_format format,
                             json_t *expected, int reproducible, int use_auto)
{
    const char *expected_compact = json_is_string(expected) ? json_string_value(expected) : NULL;
    int detached;
    if (expected_compact != NULL) {
        const char *dot = strchr(expected_compact, '.');
        detached = dot[1] == '.' && payload[0] != '\0';
    } else {
        detached = json_object_get(expected, "payload") == NULL;
    }

    jg_jws_signer signers[MAX_SIGNERS];
    memset(signers, 0, sizeof signers);
    for (size_t i = 0; i < ex->n; i++) {
        signers[i].key = ex->keys[i];
        signers[i].alg = ex->algs[i];
        signers[i].protected_json = use_auto ? NULL : ex->prot[i];
        signers[i].unprotected_json = use_auto ? NULL : ex->unprot[i];
    }
    jg_jws_sign_opts opts = {.format = format, .detached = detached, .b64_false = ex->b64_false};
    char *ours = NULL;
    size_t ours_len = 0;
    assert_jg_ok(
        jg_jws_sign_multi(payload, strlen(payload), signers, ex->n, &opts, &ours, &ours_len));
    assert_int_equal(ours_len, strlen(ours));

    int all_deterministic = 1;
    for (size_t i = 0; i < ex->n; i++)
        all_deterministic &= tk_deterministic(ex->algs[i]);
    if (reproducible && all_deterministic) {
        char *want = expected_compact ? strdup(expected_compact) : tu_json_text(expected);
        assert_string_equal(ours, want);
        free(want);
        tu_count("reproduced");
    } else {
        compare_structure(ours, expected, expected_compact);
        tu_count("reproduced-except-random-signature");
    }
    verify_output(ours, payload, ex, detached);
    tu_count("own-output-verified");
    jg_free(ours);
}

/* RFC 7797 section 4.2's JSON-only example has "b64":false without "crit".
 * We require "crit" to list "b64" (so that a recipient without RFC 7797
 * cannot misread the payload); the MAC itself is checked to be right. */
static int b64_without_crit(json_t *expected, const example *ex, const char *payload)
{
    json_t *sig = json_object_get(expected, "signatures")
                      ? json_array_get(json_object_get(expected, "signatures"), 0)
                      : expected;
    const char *prot = json_string_value(json_object_get(sig, "protected"));
    if (prot == NULL)
        return 0;
    json_t *hdr = tk_decode_header(prot);
    int refused = json_object_get(hdr, "b64") != NULL && json_object_get(hdr, "crit") == NULL;
    json_decref(hdr);
    if (!refused)
        return 0;

    char *text = tu_json_text(expected);
    jg_jws_verify_opts opts = tk_opts_mixed(ex->allowed);
    jg_jws *jws = NULL;
    assert_jg(JG_ERR_B64_HEADER, jg_jws_verify(text, strlen(text), ex->verify_set, &opts, &jws));
    free(text);

    char *in = signing_input(sig, payload);
    size_t sig_len = 0;
    unsigned char *raw =
        tk_b64_decode(json_string_value(json_object_get(sig, "signature")), &sig_len);
    jg__sig_input si;
    jg__sig_input_one(&si, in, strlen(in));
    assert_jg_ok(jg__sig_verify(ex->keys[0], ex->algs[0], &si, raw, sig_len));
    free(raw);
    free(in);
    tu_count("refused-b64-without-crit");
    return 1;
}

static void run_cookbook(const char *file)
{
    json_t *root = tu_load_vector(file);
    example ex;
    example_load(root, &ex);
    const char *payload = tu_json_str(root, "input/payload");
    assert_non_null(payload);
    int reproducible = json_is_true(json_object_get(root, "reproducible"));
    json_t *output = json_object_get(root, "output");

    static const struct {
        const char *member;
        jg_format format;
    } forms[] = {{"compact", JG_FORMAT_COMPACT},
                 {"json", JG_FORMAT_GENERAL},
                 {"json_flat", JG_FORMAT_FLATTENED}};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        json_t *expected = json_object_get(output, forms[f].member);
        if (expected == NULL)
            continue;
        if (!json_is_string(expected) && b64_without_crit(expected, &ex, payload))
            continue;

        /* The given output verifies. */
        char *text =
            json_is_string(expected) ? strdup(json_string_value(expected)) : tu_json_text(expected);
        int detached = json_is_string(expected) ? strstr(text, "..") != NULL && payload[0] != '\0'
                                                : json_object_get(expected, "payload") == NULL;
        verify_output(text, payload, &ex, detached);
        tu_count("given-output-verified");
        free(text);

        sign_and_compare(&ex, payload, forms[f].format, expected, reproducible, 0);
        int all_auto = 1;
        for (size_t i = 0; i < ex.n; i++)
            all_auto &= ex.auto_header[i];
        if (all_auto)
            sign_and_compare(&ex, payload, forms[f].format, expected, reproducible, 1);
    }
    example_free(&ex);
    json_decref(root);
}

static void test_cookbook_jws(void **state)
{
    (void)state;
    static const char *const files[] = {
        "jose-cookbook/jws/4_1.rsa_v15_signature.json",
        "jose-cookbook/jws/4_2.rsa-pss_signature.json",
        "jose-cookbook/jws/4_3.ecdsa_signature.json",
        "jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json",
        "jose-cookbook/jws/4_5.signature_with_detached_content.json",
        "jose-cookbook/jws/4_6.protecting_specific_header_fields.json",
        "jose-cookbook/jws/4_7.protecting_content_only.json",
        "jose-cookbook/jws/4_8.multiple_signatures.json",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        run_cookbook(files[i]);
        tu_count("cookbook-jws-file");
    }
}

static void test_cookbook_rfc7797(void **state)
{
    (void)state;
    run_cookbook("jose-cookbook/rfc7797/hmac-sha2_b64_false.json");
    run_cookbook("jose-cookbook/rfc7797/4.2.hmac-sha2_b64_false.json");
    tu_count("cookbook-rfc7797-file");
    tu_count("cookbook-rfc7797-file");
}

static void test_cookbook_curve25519(void **state)
{
    (void)state;
    run_cookbook("jose-cookbook/curve25519/jws.json");
    tu_count("cookbook-curve25519-file");
}

/* ---- RFC 7515 appendix A -------------------------------------------------- */

static jg_jwk *rfc_key(json_t *root, const char *name)
{
    json_t *keys = json_object_get(root, "keys");
    return tk_key_json(json_object_get(keys, name));
}

static jg_alg alg_named(const char *name)
{
    return jg_alg_from_name(name, strlen(name));
}

static void test_rfc7515_compact(void **state)
{
    (void)state;
    json_t *root = tu_load_vector("rfc/rfc7515.json");
    json_t *examples = json_object_get(root, "examples");
    for (size_t i = 0; i < json_array_size(examples); i++) {
        json_t *e = json_array_get(examples, i);
        const char *compact = tu_json_str(e, "compact");
        if (compact == NULL)
            continue; /* JSON examples: below */
        const char *name = tu_json_str(e, "name");
        const char *alg_name = tu_json_str(e, "alg");
        size_t payload_len = 0;
        unsigned char *payload = tk_b64_decode(tu_json_str(e, "payload_b64"), &payload_len);

        if (strcmp(alg_name, "none") == 0) {
            /* A.5: an Unsecured JWS is never accepted, whatever is allowed
             * and whatever keys are offered. */
            jg_jwk *k = rfc_key(root, "A.1");
            jg_jwks *set = tk_set(&k, 1);
            jg_jws_verify_opts opts = tk_opts_mixed(JG_ALGS_HMAC | JG_ALGS_ASYMMETRIC_SIG);
            jg_jws *jws = NULL;
            assert_jg(JG_ERR_ALG_NONE, jg_jws_verify(compact, strlen(compact), set, &opts, &jws));
            assert_null(jws);
            jg_jwks_free(set);
            jg_jwk_free(k);
            free(payload);
            tu_count("rfc7515-none-refused");
            continue;
        }

        jg_alg alg = alg_named(alg_name);
        jg_jwk *key = rfc_key(root, tu_json_str(e, "key"));
        jg_jwks *set = tk_verify_set(&key, 1);
        jg_jws_verify_opts opts = tk_opts_mixed(JG_ALG_BIT(alg));
        jg_jws *jws = NULL;
        assert_jg_ok(jg_jws_verify(compact, strlen(compact), set, &opts, &jws));
        size_t got_len = 0;
        const unsigned char *got = jg_jws_payload(jws, &got_len);
        assert_int_equal(got_len, payload_len);
        assert_memory_equal(got, payload, payload_len);
        assert_int_equal(jg_jws_alg(jws), alg);
        jg_jws_free(jws);
        tu_count("rfc7515-verified");

        if (json_is_true(json_object_get(e, "reproducible"))) {
            const char *prot = tu_json_str(e, "protected_b64");
            size_t hdr_len = strlen(prot);
            if (strcmp(name, "A.1") == 0) {
                /* The header has a CRLF and a space, which no JSON writer
                 * reproduces: reproduce the MAC over the example's bytes. */
                const char *last = strrchr(compact, '.');
                jg__sig_input in;
                jg__sig_input_one(&in, compact, (size_t)(last - compact));
                unsigned char sig[JG__SIG_MAX];
                char sig_b64[JG_B64URL_ENCODED_LEN(JG__SIG_MAX) + 1];
                size_t sig_len = 0;
                assert_jg_ok(jg__sig_sign(key, alg, &in, sig, &sig_len));
                jg_b64url_encode(sig, sig_len, sig_b64);
                assert_string_equal(sig_b64, last + 1);
            } else {
                jg_jws_signer signer = {.key = key, .alg = alg};
                char *out = NULL;
                assert_jg_ok(jg_jws_sign(payload, payload_len, &signer, NULL, &out, NULL));
                assert_string_equal(out, compact);
                assert_int_equal(strncmp(out, prot, hdr_len), 0);
                jg_free(out);
            }
            tu_count("rfc7515-reproduced");
        } else {
            /* Randomized: our own signature over the same input verifies. */
            jg_jws_signer signer = {.key = key, .alg = alg};
            char *out = NULL;
            assert_jg_ok(jg_jws_sign(payload, payload_len, &signer, NULL, &out, NULL));
            const char *dot = strrchr(compact, '.');
            assert_memory_equal(out, compact, (size_t)(dot - compact) + 1);
            assert_jg_ok(jg_jws_verify(out, strlen(out), set, &opts, &jws));
            jg_jws_free(jws);
            jg_free(out);
            tu_count("rfc7515-own-output-verified");
        }
        jg_jwks_free(set);
        jg_jwk_free(key);
        free(payload);
    }
    json_decref(root);
}

static void test_rfc7515_json(void **state)
{
    (void)state;
    json_t *root = tu_load_vector("rfc/rfc7515.json");
    json_t *examples = json_object_get(root, "examples");
    for (size_t i = 0; i < json_array_size(examples); i++) {
        json_t *e = json_array_get(examples, i);
        json_t *expected = json_object_get(e, "json");
        if (expected == NULL)
            continue;
        json_t *jsigners = json_object_get(e, "signers");
        size_t n = json_array_size(jsigners);
        jg_jwk *sign_keys[2], *kid_keys[2];
        jg_jws_signer signers[2];
        char unprot[2][128];
        jg_alg_set allowed = 0;
        memset(signers, 0, sizeof signers);
        for (size_t s = 0; s < n; s++) {
            json_t *js = json_array_get(jsigners, s);
            sign_keys[s] = rfc_key(root, tu_json_str(js, "key"));
            /* The verifier's keys carry the kids the example names. */
            kid_keys[s] = tk_with_kid(sign_keys[s], tu_json_str(js, "kid"));
            snprintf(unprot[s], sizeof unprot[s], "{\"kid\":\"%s\"}", tu_json_str(js, "kid"));
            signers[s].key = sign_keys[s];
            signers[s].alg = alg_named(tu_json_str(js, "alg"));
            signers[s].unprotected_json = unprot[s];
            allowed |= JG_ALG_BIT(signers[s].alg);
        }
        jg_jwks *set = tk_verify_set(kid_keys, n);
        size_t payload_len = 0;
        unsigned char *payload =
            tk_b64_decode(json_string_value(json_object_get(expected, "payload")), &payload_len);

        /* The given serialization verifies, every signature. */
        char *text = tu_json_text(expected);
        jg_jws_verify_opts opts = tk_opts_mixed(allowed);
        opts.policy = JG_SIG_ALL;
        jg_jws *jws = NULL;
        assert_jg_ok(jg_jws_verify(text, strlen(text), set, &opts, &jws));
        assert_int_equal(jg_jws_verified_count(jws), n);
        const char *kid = NULL;
        assert_jg_ok(jg_jws_header_string(jws, "kid", &kid));
        assert_string_equal(kid, tu_json_str(jsigners, "0/kid"));
        jg_jws_free(jws);
        free(text);
        tu_count("rfc7515-verified");

        /* Ours: same structure and headers; RS256 is deterministic so its
         * signature is the example's own. */
        jg_jws_sign_opts sopts = {.format = n > 1 ? JG_FORMAT_GENERAL : JG_FORMAT_FLATTENED};
        char *out = NULL;
        assert_jg_ok(jg_jws_sign_multi(payload, payload_len, signers, n, &sopts, &out, NULL));
        compare_structure(out, expected, NULL);
        assert_jg_ok(jg_jws_verify(out, strlen(out), set, &opts, &jws));
        assert_int_equal(jg_jws_verified_count(jws), n);
        jg_jws_free(jws);
        jg_free(out);
        tu_count("rfc7515-own-output-verified");

        for (size_t s = 0; s < n; s++) {
            jg_jwk_free(sign_keys[s]);
            jg_jwk_free(kid_keys[s]);
        }
        jg_jwks_free(set);
        free(payload);
    }
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookbook_jws),        cmocka_unit_test(test_cookbook_rfc7797),
        cmocka_unit_test(test_cookbook_curve25519), cmocka_unit_test(test_rfc7515_compact),
        cmocka_unit_test(test_rfc7515_json),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_jws_vectors");
    return failed;
}
