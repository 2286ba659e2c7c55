/*
 * test_jwks.c — key sets: building by hand, reference counting, lookups,
 * import of {"keys":[...]} (skipping what RFC 7517 section 5 says to skip,
 * failing on malformed keys, limits), export, and one set shared by threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwk/jwk_internal.h"
#include "testutil.h"
#include "tu_jwk.h"

/* ---- Helpers ------------------------------------------------------------------ */

static const char *const cookbook[] = {"jose-cookbook/jwk/3_1.ec_public_key.json",
                                       "jose-cookbook/jwk/3_2.ec_private_key.json",
                                       "jose-cookbook/jwk/3_3.rsa_public_key.json",
                                       "jose-cookbook/jwk/3_4.rsa_private_key.json",
                                       "jose-cookbook/jwk/3_5.symmetric_key_mac_computation.json",
                                       "jose-cookbook/jwk/3_6.symmetric_key_encryption.json"};
#define NCOOKBOOK (sizeof cookbook / sizeof cookbook[0])

/* {"keys":[the cookbook keys]} */
static json_t *cookbook_set(void)
{
    json_t *keys = json_array();
    for (size_t i = 0; i < NCOOKBOOK; i++)
        json_array_append_new(keys, tu_load_vector(cookbook[i]));
    json_t *root = json_object();
    json_object_set_new(root, "keys", keys);
    return root;
}

static jg_err parse_set(json_t *root, unsigned flags, const jg_limits *limits, jg_jwks **out)
{
    char *text = tu_json_text(root);
    jg_err err = jg_jwks_parse(text, strlen(text), flags, limits, out);
    free(text);
    return err;
}

static jg_jwks *parse_set_ok(json_t *root)
{
    jg_jwks *set = NULL;
    assert_jg_ok(parse_set(root, 0, NULL, &set));
    return set;
}

static void expect_set(jg_err want, json_t *root, const jg_limits *limits)
{
    jg_jwks *set = NULL;
    jg_err got = parse_set(root, 0, limits, &set);
    if (got != want) {
        char *text = tu_json_text(root);
        fail_msg("expected %s, got %s for %.300s", jg_err_name(want), jg_err_name(got), text);
    }
    if (got == JG_OK)
        jg_jwks_free(set);
    else
        assert_null(set);
}

static jg_jwk *key_from(const char *text)
{
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_parse(text, strlen(text), 0, &key));
    return key;
}

#define OCT32 "\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\""

/* ---- Building, sharing --------------------------------------------------------------- */

static void test_build_and_share(void **state)
{
    (void)state;
    jg_jwks *a = NULL, *b = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_new(NULL));
    assert_jg_ok(jg_jwks_new(&a));
    assert_jg_ok(jg_jwks_new(&b));
    assert_int_equal(jg_jwks_count(a), 0);
    assert_null(jg_jwks_get(a, 0));
    assert_int_equal(jg_jwks_count(NULL), 0);
    assert_null(jg_jwks_get(NULL, 0));

    jg_jwk *k1 = key_from("{\"kty\":\"oct\",\"kid\":\"one\"," OCT32 "}");
    jg_jwk *k2 = key_from("{\"kty\":\"oct\",\"kid\":\"two\"," OCT32 "}");
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_add(NULL, k1));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_add(a, NULL));
    /* Enough keys to grow the array a few times. */
    for (int i = 0; i < 20; i++)
        assert_jg_ok(jg_jwks_add(a, i % 2 ? k2 : k1));
    assert_jg_ok(jg_jwks_add(b, k1));
    assert_int_equal(jg_jwks_count(a), 20);
    assert_ptr_equal(jg_jwks_get(a, 0), k1);
    assert_ptr_equal(jg_jwks_get(a, 19), k2);
    assert_null(jg_jwks_get(a, 20));
    assert_int_equal(atomic_load(&k1->refs), 12); /* ours, 10 in a, 1 in b */
    assert_int_equal(atomic_load(&k2->refs), 11);

    /* The sets hold their own references: the caller's can go first. */
    jg_jwk_free(k1);
    jg_jwk_free(k2);
    jg_jwks_free(a);
    /* k1 lives on in b; ASan would catch a use after free here. */
    char t[44];
    assert_jg_ok(jg_jwk_thumbprint_b64(jg_jwks_get(b, 0), t));
    assert_string_equal(jg_jwk_kid(jg_jwks_get(b, 0)), "one");
    jg_jwks_free(b);
    jg_jwks_free(NULL);

    /* One parsed key in two sets. */
    json_t *root = cookbook_set();
    jg_jwks *parsed = parse_set_ok(root);
    jg_jwks *other = NULL;
    assert_jg_ok(jg_jwks_new(&other));
    assert_jg_ok(jg_jwks_add(other, (jg_jwk *)jg_jwks_get(parsed, 1)));
    jg_jwks_free(parsed);
    assert_true(jg_jwk_is_private(jg_jwks_get(other, 0)));
    assert_jg_ok(jg_jwk_thumbprint_b64(jg_jwks_get(other, 0), t));
    jg_jwks_free(other);
    json_decref(root);
}

/* ---- Lookup --------------------------------------------------------------------------- */

static void test_find(void **state)
{
    (void)state;
    json_t *root = cookbook_set();
    json_t *ed = tu_load_vector("rfc/rfc8037_appendix_a.json");
    json_t *eddsa = json_deep_copy(json_object_get(ed, "public"));
    json_object_set_new(eddsa, "alg", json_string("EdDSA"));
    json_object_set_new(eddsa, "kid", json_string("ed"));
    json_array_append_new(json_object_get(root, "keys"), eddsa);
    json_array_append_new(json_object_get(root, "keys"),
                          tu_json_parse("{\"kty\":\"oct\",\"kid\":\"hs384\",\"alg\":\"HS384\","
                                        "\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIj"
                                        "JCUmJygpKiss\"}"));
    jg_jwks *set = parse_set_ok(root);
    assert_int_equal(jg_jwks_count(set), NCOOKBOOK + 2);
    const char *bilbo = "bilbo.baggins@hobbiton.example";
    size_t cur = 0;

    /* By kid: four keys, in order, then none. */
    const jg_jwk *k;
    int n = 0;
    while ((k = jg_jwks_find(set, bilbo, JG_ALG_UNKNOWN, JG_USE_ANY, &cur)) != NULL) {
        assert_string_equal(jg_jwk_kid(k), bilbo);
        assert_ptr_equal(k, jg_jwks_get(set, (size_t)n));
        n++;
    }
    assert_int_equal(n, 4);
    assert_int_equal(cur, jg_jwks_count(set));
    assert_null(jg_jwks_find(set, bilbo, JG_ALG_UNKNOWN, JG_USE_ANY, &cur));
    cur = 0;
    assert_null(jg_jwks_find(set, "nobody", JG_ALG_UNKNOWN, JG_USE_ANY, &cur));
    cur = 0;
    assert_null(
        jg_jwks_find(set, "bilbo.baggins@hobbiton.exampl", JG_ALG_UNKNOWN, JG_USE_ANY, &cur));

    /* By algorithm: type, curve, declared alg. */
    cur = 0;
    k = jg_jwks_find(set, NULL, JG_ALG_ES512, JG_USE_ANY, &cur);
    assert_non_null(k);
    assert_int_equal(jg_jwk_crv(k), JG_CRV_P521);
    assert_int_equal(cur, 1);
    k = jg_jwks_find(set, NULL, JG_ALG_ES512, JG_USE_ANY, &cur);
    assert_int_equal(cur, 2);
    assert_null(jg_jwks_find(set, NULL, JG_ALG_ES512, JG_USE_ANY, &cur));
    cur = 0;
    assert_null(jg_jwks_find(set, NULL, JG_ALG_ES256, JG_USE_ANY, &cur));
    cur = 0;
    k = jg_jwks_find(set, NULL, JG_ALG_PS384, JG_USE_ANY, &cur);
    assert_int_equal(jg_jwk_kty(k), JG_KTY_RSA);
    cur = 0;
    k = jg_jwks_find(set, NULL, JG_ALG_HS256, JG_USE_ANY, &cur);
    assert_string_equal(jg_jwk_kid(k), "018c0ae5-4d9b-471b-bfd6-eef314bc7037");
    assert_null(jg_jwks_find(set, NULL, JG_ALG_HS256, JG_USE_ANY, &cur)); /* hs384 is HS384 */
    cur = 0;
    k = jg_jwks_find(set, NULL, JG_ALG_HS384, JG_USE_ANY, &cur);
    assert_string_equal(jg_jwk_kid(k), "hs384");
    /* The "dir" key of 3.6 (alg A256GCM), not the sig-only HS256 key. */
    cur = 0;
    k = jg_jwks_find(set, NULL, JG_ALG_DIR, JG_USE_ANY, &cur);
    assert_string_equal(jg_jwk_kid(k), "1e571774-2e08-40da-8308-e8d68773842d");
    cur = 0;
    assert_null(jg_jwks_find(set, NULL, JG_ALG_A256KW, JG_USE_ANY, &cur));
    /* "use" of the key must fit the algorithm's kind: the RSA keys are "sig". */
    cur = 0;
    assert_null(jg_jwks_find(set, NULL, JG_ALG_RSA_OAEP, JG_USE_ANY, &cur));
    /* EdDSA ~ Ed25519. */
    cur = 0;
    k = jg_jwks_find(set, NULL, JG_ALG_ED25519, JG_USE_ANY, &cur);
    assert_string_equal(jg_jwk_kid(k), "ed");
    cur = 0;
    assert_null(jg_jwks_find(set, NULL, JG_ALG_ED448, JG_USE_ANY, &cur));
    cur = 0;
    assert_null(jg_jwks_find(set, NULL, JG_ALG__COUNT, JG_USE_ANY, &cur));

    /* By use. */
    cur = 0;
    k = jg_jwks_find(set, NULL, JG_ALG_UNKNOWN, JG_USE_ENC, &cur);
    assert_string_equal(jg_jwk_kid(k), "1e571774-2e08-40da-8308-e8d68773842d");
    k = jg_jwks_find(set, NULL, JG_ALG_UNKNOWN, JG_USE_ENC, &cur);
    assert_string_equal(jg_jwk_kid(k), "ed"); /* no "use": any */
    cur = 0;
    assert_null(jg_jwks_find(set, bilbo, JG_ALG_UNKNOWN, JG_USE_ENC, &cur));
    cur = 0;
    assert_non_null(jg_jwks_find(set, bilbo, JG_ALG_RS256, JG_USE_SIG, &cur));
    cur = 0;
    assert_null(jg_jwks_find(set, bilbo, JG_ALG_RS256, JG_USE_ENC, &cur));

    /* NULL cursor: the first match; NULL set; cursor past the end. */
    k = jg_jwks_find(set, NULL, JG_ALG_ES512, JG_USE_ANY, NULL);
    assert_ptr_equal(k, jg_jwks_get(set, 0));
    assert_null(jg_jwks_find(NULL, NULL, JG_ALG_UNKNOWN, JG_USE_ANY, NULL));
    cur = 1000;
    assert_null(jg_jwks_find(set, NULL, JG_ALG_UNKNOWN, JG_USE_ANY, &cur));
    assert_int_equal(cur, 1000);

    jg_jwks_free(set);
    json_decref(root);
    json_decref(ed);
}

/* ---- Import --------------------------------------------------------------------------- */

/* ---- A key without kid (issue 13 item 1) ------------------------------------------ */

static jg_jwk *pem_file_key(const char *file)
{
    size_t len = 0;
    char *text = tu_read_file(tu_vector_path(file), &len);
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_from_pem(text, len, NULL, 0, &key));
    free(text);
    assert_null(jg_jwk_kid(key));
    return key;
}

static jg_jwk *relabel(const jg_jwk *key, const char *kid, jg_alg alg)
{
    jg_jwk_meta meta = {.kid = kid, .alg = alg};
    jg_jwk *out = NULL;
    assert_jg_ok(jg_jwk_with_meta(key, &meta, &out));
    return out;
}

static jg_jwks *set_of_keys(jg_jwk *const *keys, size_t n)
{
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    for (size_t i = 0; i < n; i++)
        assert_jg_ok(jg_jwks_add(set, keys[i]));
    return set;
}

/* A PEM key (no kid) verifies a JWS and decrypts a JWE whose header names a
 * kid the set does not have; a key with another kid never stands in, and
 * when some key has the kid, only it is tried. */
static void test_key_without_kid_stands_in(void **state)
{
    (void)state;
    jg_jwk *pem = pem_file_key("pem/ec-P-256.p8.pem");
    jg_jwk *signer = relabel(pem, "issuer-1", JG_ALG_ES256);
    jg_jwk *other = NULL;
    assert_jg_ok(jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_NONE, 0, "issuer-1", &other));
    jg_jwk *renamed = relabel(pem, "issuer-2", JG_ALG_UNKNOWN);

    jg_jws_signer s = {.key = signer};
    char *jws = NULL;
    assert_jg_ok(jg_jws_sign("x", 1, &s, NULL, &jws, NULL));
    jg_jws_verify_opts vo = {.algs = JG_ALG_BIT(JG_ALG_ES256)};
    jg_jws *res = NULL;
    jg_jwks *set = set_of_keys(&pem, 1);
    assert_jg_ok(jg_jws_verify(jws, strlen(jws), set, &vo, &res));
    assert_ptr_equal(jg_jws_key(res), pem);
    jg_jws_free(res);
    jg_jwks_free(set);
    /* Some key has kid issuer-1 (another key): the PEM key is not tried. */
    jg_jwk *both[2] = {pem, other};
    set = set_of_keys(both, 2);
    assert_jg(JG_ERR_SIGNATURE, jg_jws_verify(jws, strlen(jws), set, &vo, &res));
    assert_ptr_equal(jg_jwks_find(set, "issuer-1", JG_ALG_ES256, JG_USE_ANY, NULL), other);
    assert_ptr_equal(jg_jwks_find(set, "nobody", JG_ALG_ES256, JG_USE_ANY, NULL), pem);
    assert_ptr_equal(jg_jwks_find(set, NULL, JG_ALG_ES256, JG_USE_ANY, NULL), pem);
    jg_jwks_free(set);
    /* A key with another kid never stands in. */
    set = set_of_keys(&renamed, 1);
    assert_jg(JG_ERR_KEY_NOT_FOUND, jg_jws_verify(jws, strlen(jws), set, &vo, &res));
    assert_null(jg_jwks_find(set, "issuer-1", JG_ALG_UNKNOWN, JG_USE_ANY, NULL));
    jg_jwks_free(set);
    jg_free(jws);

    /* JWE: encrypted to the public part, labelled gw-1. */
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(pem, &pub));
    jg_jwk *to = relabel(pub, "gw-1", JG_ALG_ECDH_ES);
    jg_jwe_recipient r = {.key = to, .alg = JG_ALG_ECDH_ES};
    char *jwe = NULL;
    assert_jg_ok(jg_jwe_encrypt("secret", 6, &r, 1, NULL, &jwe, NULL));
    jg_jwe_decrypt_opts dopts = {.algs = JG_ALG_BIT(JG_ALG_ECDH_ES),
                                 .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
    jg_jwe *out = NULL;
    set = set_of_keys(&pem, 1);
    assert_jg_ok(jg_jwe_decrypt(jwe, strlen(jwe), set, &dopts, &out));
    assert_ptr_equal(jg_jwe_key(out), pem);
    jg_jwe_free(out);
    jg_jwks_free(set);
    jg_jwk *gw_other = NULL;
    assert_jg_ok(jg_jwk_generate_for_alg(JG_ALG_ECDH_ES, JG_CRV_NONE, 0, "gw-1", &gw_other));
    jg_jwk *both2[2] = {pem, gw_other};
    set = set_of_keys(both2, 2);
    assert_jg(JG_ERR_DECRYPT, jg_jwe_decrypt(jwe, strlen(jwe), set, &dopts, &out));
    jg_jwks_free(set);
    set = set_of_keys(&renamed, 1);
    assert_jg(JG_ERR_KEY_NOT_FOUND, jg_jwe_decrypt(jwe, strlen(jwe), set, &dopts, &out));
    jg_jwks_free(set);
    jg_free(jwe);

    jg_jwk_free(gw_other);
    jg_jwk_free(to);
    jg_jwk_free(pub);
    jg_jwk_free(renamed);
    jg_jwk_free(other);
    jg_jwk_free(signer);
    jg_jwk_free(pem);
}

/* ---- Keys refused by policy are skipped, and said (issue 13 item 8) ------------------ */

/* A JWK (JSON text) of a PEM file's public key with a kid; weak RSA allowed. */
static char *pem_as_jwk(const char *file, const char *kid)
{
    size_t len = 0;
    char *text = tu_read_file(tu_vector_path(file), &len);
    jg_jwk_meta meta = {.kid = kid};
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_from_pem(text, len, &meta, JG_JWK_ALLOW_WEAK_RSA, &key));
    free(text);
    char *json = NULL;
    assert_jg_ok(jg_jwk_to_json(key, 0, &json, NULL));
    jg_jwk_free(key);
    return json;
}

/* A 1024-bit RSA key next to a good one: the set keeps the good key, skips
 * the weak one and says which and why; a token of the good key verifies. */
static void test_parse_skips_weak_key(void **state)
{
    (void)state;
    char *weak = pem_as_jwk("pem/rsa1024.spki.pem", "old-1024");
    char *good = pem_as_jwk("pem/rsa2048.spki.pem", "rsa-2048");
    char doc[8192];
    snprintf(doc, sizeof doc, "{\"keys\":[%s,{\"kty\":\"ML-DSA\",\"kid\":\"pq\"},%s]}", weak, good);
    jg_jwks *set = NULL;
    jg_detail d;
    assert_jg_ok(jg_jwks_parse_ex(doc, strlen(doc), 0, NULL, &set, &d));
    assert_int_equal(d.err, JG_OK);
    assert_int_equal(jg_jwks_count(set), 1);
    assert_string_equal(jg_jwk_kid(jg_jwks_get(set, 0)), "rsa-2048");
    assert_int_equal(jg_jwks_skipped_count(set), 2);
    size_t pos = 99;
    const char *kid = NULL;
    jg_err why = JG_OK;
    assert_jg_ok(jg_jwks_skipped_at(set, 0, &pos, &kid, &why));
    assert_int_equal(pos, 0);
    assert_string_equal(kid, "old-1024");
    assert_int_equal(why, JG_ERR_KEY_WEAK);
    assert_jg_ok(jg_jwks_skipped_at(set, 1, &pos, &kid, &why));
    assert_int_equal(pos, 1);
    assert_string_equal(kid, "pq");
    assert_int_equal(why, JG_ERR_KEY_KTY);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_skipped_at(set, 2, &pos, &kid, &why));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_skipped_at(NULL, 0, NULL, NULL, NULL));
    assert_int_equal(jg_jwks_skipped_count(NULL), 0);

    /* The good key still verifies: sign with its private half. */
    size_t len = 0;
    char *pem = tu_read_file(tu_vector_path("pem/rsa2048.p8.pem"), &len);
    jg_jwk_meta meta = {.kid = "rsa-2048", .alg = JG_ALG_RS256};
    jg_jwk *priv = NULL;
    assert_jg_ok(jg_jwk_from_pem(pem, len, &meta, 0, &priv));
    free(pem);
    jg_jws_signer s = {.key = priv};
    char *token = NULL;
    assert_jg_ok(jg_jws_sign("x", 1, &s, NULL, &token, NULL));
    jg_jws_verify_opts vo = {.algs = JG_ALG_BIT(JG_ALG_RS256)};
    jg_jws *res = NULL;
    assert_jg_ok(jg_jws_verify(token, strlen(token), set, &vo, &res));
    jg_jws_free(res);
    jg_free(token);
    jg_jwk_free(priv);
    jg_jwks_free(set);

    /* Allowed weak RSA: nothing skipped for it. */
    assert_jg_ok(jg_jwks_parse(doc, strlen(doc), JG_JWK_ALLOW_WEAK_RSA, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 2);
    assert_int_equal(jg_jwks_skipped_count(set), 1);
    jg_jwks_free(set);

    /* Every key skipped: an error naming why, with the list in the detail. */
    snprintf(doc, sizeof doc, "{\"keys\":[%s,{\"kty\":\"ML-DSA\"}]}", weak);
    set = (jg_jwks *)1;
    assert_jg(JG_ERR_KEY_WEAK, jg_jwks_parse_ex(doc, strlen(doc), 0, NULL, &set, &d));
    assert_int_equal(d.kind, JG_DETAIL_KEYSET);
    assert_int_equal(d.skipped_count, 2);
    char line[512];
    jg_detail_format(&d, line, sizeof line);
    assert_string_equal(line, "2 keys skipped: kid \"old-1024\": key is too weak (too small, or an "
                              "all-zero secret); key 1 (no kid): unsupported key type");
    assert_jg(JG_ERR_KEY_WEAK, jg_jwks_parse_any(doc, strlen(doc), 0, NULL, &set));
    /* An empty set is still an empty set; a malformed key still fails it. */
    assert_jg_ok(jg_jwks_parse("{\"keys\":[]}", 11, 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 0);
    jg_jwks_free(set);
    snprintf(doc, sizeof doc, "{\"keys\":[%s,{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}", good);
    assert_jg(JG_ERR_KEY_INVALID, jg_jwks_parse(doc, strlen(doc), 0, NULL, &set));
    jg_free(weak);
    jg_free(good);
}

static void test_parse_cookbook_set(void **state)
{
    (void)state;
    json_t *root = cookbook_set();
    jg_jwks *set = parse_set_ok(root);
    assert_int_equal(jg_jwks_count(set), NCOOKBOOK);
    for (size_t i = 0; i < NCOOKBOOK; i++) {
        json_t *want = json_array_get(json_object_get(root, "keys"), i);
        char *text = NULL;
        assert_jg_ok(jg_jwk_to_json(jg_jwks_get(set, i), JG_EXPORT_PRIVATE, &text, NULL));
        json_t *got = tu_json_parse(text);
        assert_true(json_equal(got, want));
        json_decref(got);
        jg_free_secret(text, 0);
        tu_count("jwks-key");
    }
    jg_jwks_free(set);

    /* JG_JWK_PUBLIC_ONLY on the set: public halves; "oct" keys, all
     * private, are left out. */
    assert_jg_ok(parse_set(root, JG_JWK_PUBLIC_ONLY, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_false(jg_jwk_is_private(jg_jwks_get(set, i)));
        assert_int_not_equal(jg_jwk_kty(jg_jwks_get(set, i)), JG_KTY_OCT);
    }
    jg_jwks_free(set);

    /* An empty set is a set. */
    json_t *empty = tu_json_parse("{\"keys\":[]}");
    set = parse_set_ok(empty);
    assert_int_equal(jg_jwks_count(set), 0);
    jg_jwks_free(set);
    json_decref(empty);
    json_decref(root);
}

static void test_parse_skips_unsupported(void **state)
{
    (void)state;
    /* RFC 7517 section 5: keys we do not understand are ignored. */
    json_t *root =
        tu_json_parse("{\"keys\":["
                      "{\"kty\":\"ML-DSA\",\"pub\":\"AAAA\"},"
                      "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"AA\",\"y\":\"AA\"},"
                      "{\"kty\":\"OKP\",\"crv\":\"Ed999\",\"x\":\"AA\"},"
                      "{\"kty\":\"oct\",\"alg\":\"HS1024\",\"k\":\"AAAA\"},"
                      "{\"kty\":\"oct\",\"alg\":\"none\",\"k\":\"AAAA\"},"
                      "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQ\",\"oth\":[]},"
                      "{\"kty\":\"oct\",\"kid\":\"kept\"," OCT32 "}"
                      "],\"extra\":{\"ignored\":true}}");
    jg_jwks *set = parse_set_ok(root);
    assert_int_equal(jg_jwks_count(set), 1);
    assert_string_equal(jg_jwk_kid(jg_jwks_get(set, 0)), "kept");
    assert_int_equal(jg_jwks_skipped_count(set), 6); /* each one recorded */
    jg_jwks_free(set);
    tu_count("jwks-skip");
    json_decref(root);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    jg_jwks *set = NULL;
    const char *ok = "{\"keys\":[]}";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_parse(NULL, 1, 0, NULL, &set));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_parse(ok, strlen(ok), 0, NULL, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_parse(ok, strlen(ok), 1u << 4, NULL, &set));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_parse_any(ok, strlen(ok), 1u << 4, NULL, &set));
    assert_jg(JG_ERR_JSON_SYNTAX, jg_jwks_parse("{\"keys\":[", 9, 0, NULL, &set));
    assert_jg(JG_ERR_JSON_NOT_OBJECT, jg_jwks_parse("[]", 2, 0, NULL, &set));
    const char *dup = "{\"keys\":[],\"keys\":[]}";
    assert_jg(JG_ERR_JSON_DUPLICATE, jg_jwks_parse(dup, strlen(dup), 0, NULL, &set));
    assert_null(set);

    /* "keys" missing, not an array, holding a non-object. */
    static const char *const bad_sets[] = {"{}",
                                           "{\"keys\":{}}",
                                           "{\"keys\":\"x\"}",
                                           "{\"keys\":null}",
                                           "{\"keys\":[1]}",
                                           "{\"keys\":[{\"kty\":\"oct\"," OCT32 "},[]]}",
                                           "{\"kty\":\"oct\"," OCT32 "}"};
    for (size_t i = 0; i < sizeof bad_sets / sizeof bad_sets[0]; i++) {
        json_t *root = tu_json_parse(bad_sets[i]);
        expect_set(JG_ERR_KEYSET_INVALID, root, NULL);
        json_decref(root);
    }

    /* A malformed key of a supported type fails the whole set. */
    static const struct {
        const char *key;
        jg_err want;
    } bad_keys[] = {
        {"{\"kty\":\"oct\"}", JG_ERR_KEY_INVALID},
        {"{\"k\":\"AAAA\"}", JG_ERR_KEY_INVALID},
        {"{\"kty\":\"oct\",\"k\":\"AA==\"}", JG_ERR_B64_PADDING},
        {"{\"kty\":\"oct\",\"use\":\"sig\",\"alg\":\"A128KW\"," OCT32 "}", JG_ERR_KEY_INVALID},
        {"{\"kty\":\"oct\",\"alg\":\"RS256\"," OCT32 "}", JG_ERR_KEY_TYPE},
        {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}", JG_ERR_KEY_INVALID},
        {"{\"kty\":\"EC\",\"crv\":\"X25519\",\"x\":\"AA\"}", JG_ERR_KEY_CURVE},
        {"{\"kty\":\"RSA\",\"e\":\"AQAB\"}", JG_ERR_KEY_INVALID},
    };
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        json_t *root = cookbook_set();
        json_array_append_new(json_object_get(root, "keys"), tu_json_parse(bad_keys[i].key));
        expect_set(bad_keys[i].want, root, NULL);
        json_decref(root);
    }
    /* An off-curve point among good keys. */
    json_t *root = cookbook_set();
    json_t *ec = json_array_get(json_object_get(root, "keys"), 0);
    json_object_set_new(ec, "x",
                        json_string("AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A"
                                    "5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Ku"));
    expect_set(JG_ERR_KEY_POINT, root, NULL);
    json_decref(root);

    /* Limits: number of keys, text size, depth. */
    jg_limits limits = jg_limits_default();
    root = cookbook_set();
    limits.max_keys = NCOOKBOOK;
    expect_set(JG_OK, root, &limits);
    limits.max_keys = NCOOKBOOK - 1;
    expect_set(JG_ERR_LIMIT_KEYS, root, &limits);
    limits.max_keys = 0;
    expect_set(JG_ERR_LIMIT_KEYS, root, &limits);
    /* Skipped keys count too: the bound is on work, not on the result. */
    json_array_append_new(json_object_get(root, "keys"), tu_json_parse("{\"kty\":\"new\"}"));
    limits.max_keys = NCOOKBOOK;
    expect_set(JG_ERR_LIMIT_KEYS, root, &limits);
    limits = jg_limits_default();
    limits.max_json_depth = 2; /* {"keys":[{...}]} is three deep */
    expect_set(JG_ERR_LIMIT_JSON_DEPTH, root, &limits);
    json_decref(root);
    /* 64 KiB + 16 KiB per allowed key. */
    limits = jg_limits_default();
    limits.max_keys = 1;
    size_t bound = 64 * 1024 + 16 * 1024;
    char *big = malloc(bound + 2);
    memset(big, ' ', bound + 1);
    memcpy(big, ok, strlen(ok));
    big[bound + 1] = '\0';
    assert_jg(JG_ERR_LIMIT_JSON_SIZE, jg_jwks_parse(big, bound + 1, 0, &limits, &set));
    assert_jg_ok(jg_jwks_parse(big, bound, 0, &limits, &set));
    jg_jwks_free(set);
    free(big);
    /* Very large max_keys: the bound saturates at 64 MiB instead of overflowing. */
    limits.max_keys = 0xffffffffu;
    assert_jg_ok(jg_jwks_parse(ok, strlen(ok), 0, &limits, &set));
    jg_jwks_free(set);
}

static void test_parse_any(void **state)
{
    (void)state;
    jg_jwks *set = NULL;
    const char *one = "{\"kty\":\"oct\",\"kid\":\"solo\"," OCT32 "}";
    assert_jg_ok(jg_jwks_parse_any(one, strlen(one), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 1);
    assert_string_equal(jg_jwk_kid(jg_jwks_get(set, 0)), "solo");
    jg_jwks_free(set);

    json_t *root = cookbook_set();
    char *text = tu_json_text(root);
    assert_jg_ok(jg_jwks_parse_any(text, strlen(text), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), NCOOKBOOK);
    jg_jwks_free(set);
    set = NULL;
    free(text);
    json_decref(root);

    /* A single key keeps its own errors, even "unsupported". */
    const char *unknown = "{\"kty\":\"ML-KEM\"}";
    assert_jg(JG_ERR_KEY_KTY, jg_jwks_parse_any(unknown, strlen(unknown), 0, NULL, &set));
    const char *no_kty = "{\"k\":\"AAAA\"}";
    assert_jg(JG_ERR_KEY_INVALID, jg_jwks_parse_any(no_kty, strlen(no_kty), 0, NULL, &set));
    jg_limits limits = jg_limits_default();
    limits.max_keys = 0;
    assert_jg(JG_ERR_LIMIT_KEYS, jg_jwks_parse_any(one, strlen(one), 0, &limits, &set));
    assert_jg(JG_ERR_JSON_NOT_OBJECT, jg_jwks_parse_any("7", 1, 0, NULL, &set));
    assert_null(set);
}

/* ---- Export --------------------------------------------------------------------------- */

static void test_to_json(void **state)
{
    (void)state;
    json_t *root = cookbook_set();
    jg_jwks *set = parse_set_ok(root);
    char *text = NULL;
    size_t len = 0;

    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_to_json(NULL, 0, &text, &len));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_to_json(set, 0, NULL, &len));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_to_json(set, 1u << 3, &text, &len));
    /* A public export of a set holding "oct" keys is refused, not thinned. */
    assert_jg(JG_ERR_KEY_TYPE, jg_jwks_to_json(set, 0, &text, &len));
    assert_null(text);

    assert_jg_ok(jg_jwks_to_json(set, JG_EXPORT_PRIVATE, &text, &len));
    assert_int_equal(len, strlen(text));
    json_t *back = tu_json_parse(text);
    assert_true(json_equal(back, root));
    json_decref(back);
    /* And it parses again into the same keys. */
    jg_jwks *again = NULL;
    assert_jg_ok(jg_jwks_parse(text, len, 0, NULL, &again));
    assert_int_equal(jg_jwks_count(again), NCOOKBOOK);
    for (size_t i = 0; i < NCOOKBOOK; i++) {
        char a[44], b[44];
        assert_jg_ok(jg_jwk_thumbprint_b64(jg_jwks_get(set, i), a));
        assert_jg_ok(jg_jwk_thumbprint_b64(jg_jwks_get(again, i), b));
        assert_string_equal(a, b);
    }
    jg_jwks_free(again);
    jg_free_secret(text, len);

    /* The public set of the asymmetric keys. */
    jg_jwks *pub = NULL;
    assert_jg_ok(jg_jwks_new(&pub));
    for (size_t i = 0; i < 4; i++) {
        jg_jwk *half = NULL;
        assert_jg_ok(jg_jwk_public(jg_jwks_get(set, i), &half));
        assert_jg_ok(jg_jwks_add(pub, half));
        jg_jwk_free(half);
    }
    assert_jg_ok(jg_jwks_to_json(pub, JG_EXPORT_PRETTY, &text, &len));
    assert_non_null(strstr(text, "\n"));
    assert_null(strstr(text, "\"d\""));
    back = tu_json_parse(text);
    assert_int_equal(json_array_size(json_object_get(back, "keys")), 4);
    assert_true(json_equal(json_array_get(json_object_get(back, "keys"), 1),
                           json_array_get(json_object_get(root, "keys"), 0)));
    json_decref(back);
    jg_free(text);
    jg_jwks_free(pub);

    /* An empty set. */
    jg_jwks *empty = NULL;
    assert_jg_ok(jg_jwks_new(&empty));
    assert_jg_ok(jg_jwks_to_json(empty, 0, &text, NULL));
    assert_string_equal(text, "{\"keys\":[]}");
    jg_free(text);
    jg_jwks_free(empty);

    jg_jwks_free(set);
    json_decref(root);
}

/* ---- Threads ---------------------------------------------------------------------------- */

#define THREADS    4
#define ITERATIONS 200

typedef struct shared {
    const jg_jwks *set;
    char thumbs[NCOOKBOOK][44];
    char *json[NCOOKBOOK];
    int failures;
} shared;

static void *worker(void *arg)
{
    shared *sh = arg;
    int failures = 0;
    for (int it = 0; it < ITERATIONS; it++) {
        size_t i = (size_t)it % NCOOKBOOK;
        const jg_jwk *key = jg_jwks_get(sh->set, i);
        char t[44];
        if (jg_jwk_thumbprint_b64(key, t) != JG_OK || strcmp(t, sh->thumbs[i]) != 0)
            failures++;
        char *text = NULL;
        if (jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &text, NULL) != JG_OK ||
            strcmp(text, sh->json[i]) != 0)
            failures++;
        jg_free_secret(text, 0);
        size_t cur = 0;
        const jg_jwk *found =
            jg_jwks_find(sh->set, jg_jwk_kid(key), JG_ALG_UNKNOWN, JG_USE_ANY, &cur);
        if (found == NULL || jg_jwk_kid(found) == NULL ||
            strcmp(jg_jwk_kid(found), jg_jwk_kid(key)))
            failures++;
        cur = 0;
        if (jg_jwks_find(sh->set, NULL, JG_ALG_ES512, JG_USE_SIG, &cur) != jg_jwks_get(sh->set, 0))
            failures++;
        /* References taken and dropped concurrently. */
        jg_jwk *ref = jg_jwk_ref((jg_jwk *)key);
        if (jg_jwk_check(ref, JG_ALG_ES512, JG_OP_VERIFY) != JG_OK && i < 2)
            failures++;
        jg_jwk_free(ref);
        if (i == 3) {
            jg_jwk *pub = NULL;
            if (jg_jwk_public(key, &pub) != JG_OK)
                failures++;
            jg_jwk_free(pub);
        }
    }
    __atomic_add_fetch(&sh->failures, failures, __ATOMIC_RELAXED);
    return NULL;
}

static void test_threads_share_a_set(void **state)
{
    (void)state;
    json_t *root = cookbook_set();
    jg_jwks *set = parse_set_ok(root);
    shared sh = {.set = set};
    for (size_t i = 0; i < NCOOKBOOK; i++) {
        assert_jg_ok(jg_jwk_thumbprint_b64(jg_jwks_get(set, i), sh.thumbs[i]));
        assert_jg_ok(jg_jwk_to_json(jg_jwks_get(set, i), JG_EXPORT_PRIVATE, &sh.json[i], NULL));
    }
    pthread_t tids[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&tids[t], NULL, worker, &sh), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(tids[t], NULL), 0);
    assert_int_equal(sh.failures, 0);
    /* Every reference taken by the threads was dropped: the set's is left. */
    for (size_t i = 0; i < NCOOKBOOK; i++) {
        assert_int_equal(atomic_load(&jg_jwks_get(set, i)->refs), 1);
        jg_free_secret(sh.json[i], 0);
    }
    jg_jwks_free(set);
    json_decref(root);
    tu_count("thread-iterations");
}

static int report(void **state)
{
    (void)state;
    tu_report("test_jwks");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_share),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_key_without_kid_stands_in),
        cmocka_unit_test(test_parse_skips_weak_key),
        cmocka_unit_test(test_parse_cookbook_set),
        cmocka_unit_test(test_parse_skips_unsupported),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_any),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_threads_share_a_set),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
