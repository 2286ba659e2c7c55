/*
 * test_jwk_pem.c — keys from and to PEM/DER: every accepted encoding of every
 * key type (fixtures in tests/vectors/pem, see its README), exact PEM export,
 * round trips through JSON, and every refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "testutil.h"
#include "tu_jwk.h"

/* ---- Helpers ------------------------------------------------------------------ */

static char *read_fixture(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "pem/%s", name);
    return tu_read_file(tu_vector_path(rel), len);
}

/* Import a fixture (PEM or DER by its extension). */
static jg_err import(const char *name, const jg_jwk_meta *meta, unsigned flags, jg_jwk **out)
{
    size_t len = 0;
    char *data = read_fixture(name, &len);
    jg_err err = strstr(name, ".der") != NULL
                     ? jg_jwk_from_der((const unsigned char *)data, len, meta, flags, out)
                     : jg_jwk_from_pem(data, len, meta, flags, out);
    free(data);
    return err;
}

static jg_jwk *import_ok(const char *name)
{
    jg_jwk *key = NULL;
    jg_err err = import(name, NULL, 0, &key);
    if (err != JG_OK)
        fail_msg("%s: %s", name, jg_err_name(err));
    return key;
}

static void thumb(const jg_jwk *key, char out[44])
{
    assert_jg_ok(jg_jwk_thumbprint_b64(key, out));
}

/* jg_jwk_to_pem() must reproduce the fixture byte for byte. */
static void expect_pem_export(const jg_jwk *key, unsigned flags, const char *fixture)
{
    size_t want_len = 0, len = 0;
    char *want = read_fixture(fixture, &want_len);
    char *pem = NULL;
    assert_jg_ok(jg_jwk_to_pem(key, flags, &pem, &len));
    assert_int_equal(len, strlen(pem));
    if (len != want_len || memcmp(pem, want, len) != 0)
        fail_msg("PEM export differs from %s:\n%s", fixture, pem);
    jg_free_secret(pem, len);
    free(want);
}

/* ---- Every encoding of every key ------------------------------------------------------ */

static const struct {
    const char *base;
    jg_kty kty;
    jg_crv crv;
    unsigned bits;
    const char *forms[4]; /* private forms first, then public ones; NULL-terminated */
    int private_forms;
} keys[] = {
    {"rsa2048", JG_KTY_RSA, JG_CRV_NONE, 2048, {"p8", "pkcs1", "pkcs1pub", "spki"}, 2},
    {"ec-P-256", JG_KTY_EC, JG_CRV_P256, 256, {"p8", "sec1", "spki", NULL}, 2},
    {"ec-P-384", JG_KTY_EC, JG_CRV_P384, 384, {"p8", "sec1", "spki", NULL}, 2},
    {"ec-P-521", JG_KTY_EC, JG_CRV_P521, 521, {"p8", "sec1", "spki", NULL}, 2},
    {"ed25519", JG_KTY_OKP, JG_CRV_ED25519, 256, {"p8", "spki", NULL, NULL}, 1},
    {"ed448", JG_KTY_OKP, JG_CRV_ED448, 456, {"p8", "spki", NULL, NULL}, 1},
    {"x25519", JG_KTY_OKP, JG_CRV_X25519, 256, {"p8", "spki", NULL, NULL}, 1},
    {"x448", JG_KTY_OKP, JG_CRV_X448, 448, {"p8", "spki", NULL, NULL}, 1},
};

static void test_every_encoding(void **state)
{
    (void)state;
    static const char *const exts[] = {"pem", "der"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char first[44] = "", name[64], got[44], spki[64], p8[64];
        snprintf(spki, sizeof spki, "%s.spki.pem", keys[k].base);
        snprintf(p8, sizeof p8, "%s.p8.pem", keys[k].base);
        for (int f = 0; f < 4 && keys[k].forms[f] != NULL; f++) {
            for (int e = 0; e < 2; e++) {
                snprintf(name, sizeof name, "%s.%s.%s", keys[k].base, keys[k].forms[f], exts[e]);
                jg_jwk *key = import_ok(name);
                assert_int_equal(jg_jwk_kty(key), keys[k].kty);
                assert_int_equal(jg_jwk_crv(key), keys[k].crv);
                assert_int_equal(jg_jwk_bits(key), keys[k].bits);
                assert_int_equal(jg_jwk_is_private(key), f < keys[k].private_forms);
                assert_null(jg_jwk_kid(key));
                assert_int_equal(jg_jwk_alg(key), JG_ALG_UNKNOWN);
                /* Every encoding holds the same key. */
                thumb(key, got);
                if (first[0] == '\0')
                    memcpy(first, got, sizeof got);
                assert_string_equal(got, first);
                /* PEM out: SPKI for the public part, PKCS#8 for the private key. */
                expect_pem_export(key, 0, spki);
                if (jg_jwk_is_private(key)) {
                    expect_pem_export(key, JG_EXPORT_PRIVATE, p8);
                } else {
                    char *pem = NULL;
                    assert_jg(JG_ERR_KEY_NOT_PRIVATE,
                              jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &pem, NULL));
                    assert_null(pem);
                }
                /* Through JSON and back: the same key, the same PEM. */
                char *json = NULL;
                assert_jg_ok(jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &json, NULL));
                jg_jwk *again = NULL;
                assert_jg_ok(jg_jwk_parse(json, strlen(json), 0, &again));
                json_t *value = tu_json_parse(json);
                char oracle[44];
                tu_jwk_oracle_thumbprint(value, oracle);
                assert_string_equal(oracle, first);
                json_decref(value);
                jg_free_secret(json, 0);
                assert_int_equal(jg_jwk_is_private(again), jg_jwk_is_private(key));
                expect_pem_export(again, 0, spki);
                if (jg_jwk_is_private(again))
                    expect_pem_export(again, JG_EXPORT_PRIVATE, p8);
                jg_jwk_free(again);
                jg_jwk_free(key);
                tu_count("pem-der-fixture");
            }
        }
    }
}

static void test_pem_round_trip_of_cookbook_keys(void **state)
{
    (void)state;
    static const char *const files[] = {
        "jose-cookbook/jwk/3_1.ec_public_key.json", "jose-cookbook/jwk/3_2.ec_private_key.json",
        "jose-cookbook/jwk/3_3.rsa_public_key.json", "jose-cookbook/jwk/3_4.rsa_private_key.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        json_t *jwk = tu_load_vector(files[i]);
        jg_jwk *key = tu_jwk_parse_ok(jwk, 0);
        unsigned flags = jg_jwk_is_private(key) ? JG_EXPORT_PRIVATE : 0;
        char *pem = NULL;
        size_t len = 0;
        assert_jg_ok(jg_jwk_to_pem(key, flags, &pem, &len));
        assert_non_null(
            strstr(pem, flags ? "-----BEGIN PRIVATE KEY-----\n" : "-----BEGIN PUBLIC KEY-----\n"));
        /* PEM carries no metadata: give it back, and the JWK comes out whole. */
        jg_jwk_meta meta = {.kid = jg_jwk_kid(key), .use = jg_jwk_use(key)};
        jg_jwk *back = NULL;
        assert_jg_ok(jg_jwk_from_pem(pem, len, &meta, 0, &back));
        char *json = NULL;
        assert_jg_ok(jg_jwk_to_json(back, JG_EXPORT_PRIVATE, &json, NULL));
        json_t *value = tu_json_parse(json);
        assert_true(json_equal(value, jwk));
        json_decref(value);
        jg_free_secret(json, 0);
        jg_free_secret(pem, len);
        jg_jwk_free(back);
        jg_jwk_free(key);
        json_decref(jwk);
        tu_count("pem-round-trip");
    }

    /* RFC 8037 A.1 (Ed25519) as well. */
    json_t *v = tu_load_vector("rfc/rfc8037_appendix_a.json");
    jg_jwk *key = tu_jwk_parse_ok(json_object_get(v, "private"), 0);
    char *pem = NULL;
    size_t len = 0;
    assert_jg_ok(jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &pem, &len));
    jg_jwk *back = NULL;
    assert_jg_ok(jg_jwk_from_pem(pem, len, NULL, 0, &back));
    char a[44], b[44];
    thumb(key, a);
    thumb(back, b);
    assert_string_equal(a, b);
    assert_true(jg_jwk_is_private(back));
    jg_free_secret(pem, len);
    jg_jwk_free(back);
    jg_jwk_free(key);
    json_decref(v);
}

static void test_other_accepted_encodings(void **state)
{
    (void)state;
    jg_jwk *named = import_ok("ec-P-256.p8.pem");
    char want[44], got[44];
    thumb(named, want);

    /* A compressed point is the same public key, written uncompressed. */
    jg_jwk *compressed = import_ok("ec-P-256.spki-compressed.pem");
    assert_false(jg_jwk_is_private(compressed));
    thumb(compressed, got);
    assert_string_equal(got, want);
    expect_pem_export(compressed, 0, "ec-P-256.spki.pem");
    jg_jwk_free(compressed);

    /* Metadata given with the PEM. */
    jg_jwk_meta meta = {.kid = "gateway-1", .alg = JG_ALG_ES256, .use = JG_USE_SIG};
    jg_jwk *key = NULL;
    assert_jg_ok(import("ec-P-256.sec1.pem", &meta, 0, &key));
    assert_string_equal(jg_jwk_kid(key), "gateway-1");
    assert_int_equal(jg_jwk_alg(key), JG_ALG_ES256);
    assert_int_equal(jg_jwk_use(key), JG_USE_SIG);
    assert_jg_ok(jg_jwk_check(key, JG_ALG_ES256, JG_OP_SIGN));
    assert_jg(JG_ERR_KEY_ALG, jg_jwk_check(key, JG_ALG_ECDH_ES, JG_OP_DECRYPT));
    jg_jwk_free(key);

    /* JG_JWK_PUBLIC_ONLY keeps the public part of a private PEM. */
    assert_jg_ok(import("rsa2048.pkcs1.der", NULL, JG_JWK_PUBLIC_ONLY, &key));
    assert_false(jg_jwk_is_private(key));
    char *pem = NULL;
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &pem, NULL));
    expect_pem_export(key, 0, "rsa2048.spki.pem");
    jg_jwk_free(key);
    assert_jg_ok(import("x448.p8.pem", NULL, JG_JWK_PUBLIC_ONLY, &key));
    assert_false(jg_jwk_is_private(key));
    expect_pem_export(key, 0, "x448.spki.pem");
    jg_jwk_free(key);

    /* The weak key with its flag. */
    static const char *const weak[] = {"rsa1024.p8.pem", "rsa1024.pkcs1.der",
                                       "rsa1024.pkcs1pub.pem", "rsa1024.spki.der"};
    for (size_t i = 0; i < 4; i++) {
        assert_jg(JG_ERR_KEY_WEAK, import(weak[i], NULL, 0, &key));
        assert_jg_ok(import(weak[i], NULL, JG_JWK_ALLOW_WEAK_RSA, &key));
        assert_int_equal(jg_jwk_bits(key), 1024);
        expect_pem_export(key, 0, "rsa1024.spki.pem");
        jg_jwk_free(key);
        tu_count("pem-weak");
    }
    jg_jwk_free(named);
}

/* ---- Refusals ------------------------------------------------------------------------- */

static void test_refused_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        jg_err want;
    } refused[] = {
        {"enc-pkcs8.pem", JG_ERR_KEY_PEM},         {"enc-pkcs8.der", JG_ERR_KEY_PEM},
        {"enc-legacy.pem", JG_ERR_KEY_PEM},        {"cert.pem", JG_ERR_KEY_PEM},
        {"rsa-pss.p8.pem", JG_ERR_KEY_KTY},        {"dsa.p8.pem", JG_ERR_KEY_KTY},
        {"rsa-3prime.p8.pem", JG_ERR_UNSUPPORTED}, {"secp256k1.p8.pem", JG_ERR_KEY_CURVE},
        {"brainpool.p8.pem", JG_ERR_KEY_CURVE},    {"ec-P-256-explicit.sec1.pem", JG_ERR_KEY_CURVE},
        {"rsa1024.p8.der", JG_ERR_KEY_WEAK},
    };
    jg_jwk *key = NULL;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        jg_err err = import(refused[i].file, NULL, 0, &key);
        if (err != refused[i].want)
            fail_msg("%s: expected %s, got %s", refused[i].file, jg_err_name(refused[i].want),
                     jg_err_name(err));
        assert_null(key);
        assert_int_equal(ERR_peek_error(), 0); /* nothing left in OpenSSL's queue */
        tu_count("pem-refused");
    }
    /* A PEM file given as DER, and the reverse. */
    size_t len = 0;
    char *pem = read_fixture("ec-P-256.p8.pem", &len);
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_der((unsigned char *)pem, len, NULL, 0, &key));
    /* Garbage, truncation. */
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_pem(pem, len / 2, NULL, 0, &key));
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_pem("hello", 5, NULL, 0, &key));
    static const char fake[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_pem(fake, strlen(fake), NULL, 0, &key));
    /* Arguments. */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_pem(NULL, 10, NULL, 0, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_pem(pem, 0, NULL, 0, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_pem(pem, len, NULL, 0, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_pem(pem, len, NULL, 1u << 9, &key));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_from_der(NULL, 10, NULL, 0, &key));
    /* Too long. */
    char *big = calloc(1, 64 * 1024 + 1);
    memcpy(big, pem, len);
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_pem(big, 64 * 1024 + 1, NULL, 0, &key));
    assert_jg_ok(jg_jwk_from_pem(big, 64 * 1024, NULL, 0, &key)); /* text after the block */
    jg_jwk_free(key);
    key = NULL;
    free(big);

    /* Metadata that does not fit the key. */
    jg_jwk_meta wrong_type = {.alg = JG_ALG_RS256};
    jg_jwk_meta wrong_curve = {.alg = JG_ALG_ES384};
    jg_jwk_meta inconsistent = {.use = JG_USE_SIG, .key_ops = JG_OP_DECRYPT};
    jg_jwk_meta unknown = {.alg = (jg_alg)99};
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_from_pem(pem, len, &wrong_type, 0, &key));
    assert_jg(JG_ERR_KEY_CURVE, jg_jwk_from_pem(pem, len, &wrong_curve, 0, &key));
    assert_jg(JG_ERR_KEY_INVALID, jg_jwk_from_pem(pem, len, &inconsistent, 0, &key));
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwk_from_pem(pem, len, &unknown, 0, &key));
    assert_null(key);
    free(pem);

    /* DER: one structure, nothing after it, nothing cut off. */
    unsigned char *der = (unsigned char *)read_fixture("rsa2048.spki.der", &len);
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_der(longer, len + 1, NULL, 0, &key));
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_der(der, len - 1, NULL, 0, &key));
    free(longer);
    free(der);

    /* An EC point off the curve never decodes. */
    der = (unsigned char *)read_fixture("ec-P-256.spki.der", &len);
    der[len - 1] ^= 1;
    assert_jg(JG_ERR_KEY_PEM, jg_jwk_from_der(der, len, NULL, 0, &key));
    free(der);
}

static void test_mismatched_private_keys(void **state)
{
    (void)state;
    jg_jwk *key = NULL;
    size_t len = 0, other_len = 0;

    /* SEC1 ends with the public point: put another key's point there. */
    unsigned char *der = (unsigned char *)read_fixture("ec-P-256.sec1.der", &len);
    unsigned char *other = (unsigned char *)read_fixture("ec-P-256-other.sec1.der", &other_len);
    assert_int_equal(len, other_len);
    assert_jg_ok(jg_jwk_from_der(der, len, NULL, 0, &key));
    jg_jwk_free(key);
    memcpy(der + len - 64, other + other_len - 64, 64);
    assert_jg(JG_ERR_KEY_MISMATCH, jg_jwk_from_der(der, len, NULL, 0, &key));
    /* ... which JG_JWK_PUBLIC_ONLY does not look at: it keeps the stated point. */
    assert_jg_ok(jg_jwk_from_der(der, len, NULL, JG_JWK_PUBLIC_ONLY, &key));
    jg_jwk *other_key = NULL;
    assert_jg_ok(jg_jwk_from_der(other, other_len, NULL, 0, &other_key));
    char a[44], b[44];
    thumb(key, a);
    thumb(other_key, b);
    assert_string_equal(a, b);
    jg_jwk_free(key);
    jg_jwk_free(other_key);
    free(der);
    free(other);

    /* PKCS#1 and PKCS#8 RSA keys end with qi: change it. */
    static const char *const rsa[] = {"rsa2048.pkcs1.der", "rsa2048.p8.der"};
    for (int i = 0; i < 2; i++) {
        der = (unsigned char *)read_fixture(rsa[i], &len);
        der[len - 1] ^= 0x10;
        assert_jg(JG_ERR_KEY_MISMATCH, jg_jwk_from_der(der, len, NULL, 0, &key));
        free(der);
    }
}

static void test_pem_export_refusals(void **state)
{
    (void)state;
    char *pem = NULL;
    size_t len = 0;
    jg_jwk *oct = NULL;
    assert_jg_ok(jg_jwk_from_secret((const unsigned char *)"0123456789abcdef", 16, NULL, &oct));
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_to_pem(oct, 0, &pem, &len));
    assert_jg(JG_ERR_KEY_TYPE, jg_jwk_to_pem(oct, JG_EXPORT_PRIVATE, &pem, &len));
    jg_jwk_free(oct);

    jg_jwk *key = import_ok("ed25519.p8.der");
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_to_pem(NULL, 0, &pem, &len));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_to_pem(key, 0, NULL, &len));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwk_to_pem(key, 1u << 6, &pem, &len));
    assert_null(pem);
    assert_jg_ok(jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &pem, NULL)); /* out_len optional */
    jg_free_secret(pem, 0);
    jg_jwk_free(key);

    /* An RSA JWK with only n, e, d gets its factors back: PKCS#8 works. */
    json_t *full = tu_load_vector("jose-cookbook/jwk/3_4.rsa_private_key.json");
    json_t *jwk = json_deep_copy(full);
    static const char *const crt[] = {"p", "q", "dp", "dq", "qi"};
    for (int i = 0; i < 5; i++)
        json_object_del(jwk, crt[i]);
    key = tu_jwk_parse_ok(jwk, 0);
    assert_jg_ok(jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &pem, &len));
    jg_jwk *back = NULL;
    jg_jwk_meta meta = {.kid = "bilbo.baggins@hobbiton.example", .use = JG_USE_SIG};
    assert_jg_ok(jg_jwk_from_pem(pem, len, &meta, 0, &back));
    char *json = NULL;
    assert_jg_ok(jg_jwk_to_json(back, JG_EXPORT_PRIVATE, &json, NULL));
    json_t *value = tu_json_parse(json);
    assert_true(json_equal(value, full));
    json_decref(value);
    jg_free_secret(json, 0);
    jg_free_secret(pem, len);
    jg_jwk_free(back);
    jg_jwk_free(key);
    json_decref(jwk);
    json_decref(full);
}

static int report(void **state)
{
    (void)state;
    tu_report("test_jwk_pem");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_encoding),
        cmocka_unit_test(test_pem_round_trip_of_cookbook_keys),
        cmocka_unit_test(test_other_accepted_encodings),
        cmocka_unit_test(test_refused_inputs),
        cmocka_unit_test(test_mismatched_private_keys),
        cmocka_unit_test(test_pem_export_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
