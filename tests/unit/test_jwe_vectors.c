/*
 * test_jwe_vectors.c — published JWE examples: every RFC 7520 (JOSE
 * cookbook) JWE, the cookbook's X25519 example and nested token, RFC 7516
 * appendix A and RFC 7518 appendix C. Given outputs are decrypted; where the
 * random inputs can be fixed (test hook) the outputs are reproduced byte for
 * byte (compact) or as the same JSON (JSON serializations, whose member
 * order is free).
 */
#include <stdio.h>

#include "jwe/jwe_internal.h"
#include "jwe_testlib.h"

/* Header members the library generates; the rest is what a caller passes. */
static const char *const generated[] = {"epk", "p2s", "p2c", "iv", "tag", "zip", NULL};

/* The caller's part of a header: `hdr` minus generated members (and minus
 * alg/kid/enc too when `bare`). NULL when nothing is left. */
static char *caller_part(json_t *hdr, int bare)
{
    if (hdr == NULL)
        return NULL;
    json_t *copy = json_deep_copy(hdr);
    for (const char *const *n = generated; *n != NULL; n++)
        json_object_del(copy, *n);
    if (bare) {
        json_object_del(copy, "alg");
        json_object_del(copy, "kid");
        json_object_del(copy, "enc");
    }
    char *text = json_object_size(copy) > 0 ? tu_json_text(copy) : NULL;
    json_decref(copy);
    return text;
}

typedef struct fixture {
    json_t *v;
    jg_jwk *key;   /* recipient key (or PBES2 password) */
    jg_jwk *epk;   /* ECDH ephemeral, when given */
    jg_jwks *keys; /* set with the recipient key(s) */
    const char *plaintext;
} fixture;

static void load(fixture *f, const char *file)
{
    memset(f, 0, sizeof *f);
    f->v = tu_load_vector(file);
    f->plaintext = tu_json_str(f->v, "input/plaintext");
    assert_non_null(f->plaintext);
    json_t *key = tu_json_at(f->v, "input/key");
    const char *pwd = tu_json_str(f->v, "input/pwd");
    if (json_is_array(key)) {
        jg_jwk *ks[8];
        size_t n = json_array_size(key);
        for (size_t i = 0; i < n; i++)
            ks[i] = key_from_json(json_array_get(key, i));
        f->keys = set_of(ks, n);
        for (size_t i = 0; i < n; i++)
            jg_jwk_free(ks[i]);
    } else {
        if (pwd != NULL)
            assert_jg_ok(
                jg_jwk_from_secret((const unsigned char *)pwd, strlen(pwd), NULL, &f->key));
        else
            f->key = key_from_json(key);
        f->keys = set_of1(f->key);
    }
}

static void unload(fixture *f)
{
    jg_jwk_free(f->key);
    jg_jwk_free(f->epk);
    jg_jwks_free(f->keys);
    json_decref(f->v);
}

/* Decrypt every given serialization. */
static void decrypt_outputs(fixture *f, json_t *output, const char *plaintext)
{
    static const char *const forms[] = {"compact", "json", "json_flat"};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_object_get(output, forms[i]);
        if (o == NULL)
            continue;
        char *token = json_is_string(o) ? strdup(json_string_value(o)) : tu_json_text(o);
        expect_plaintext(token, f->keys, 0, plaintext, strlen(plaintext));
        /* RSA1_5 is decrypted only when the allow-list names it. */
        const char *alg = tu_json_str(f->v, "input/alg");
        if (alg != NULL && strcmp(alg, "RSA1_5") == 0) {
            jg_jwe *jwe = NULL;
            assert_jg(JG_ERR_ALG_NOT_ALLOWED,
                      decrypt_with(token, f->keys, all_jwe_algs() & ~JG_ALG_BIT(JG_ALG_RSA1_5),
                                   NULL, &jwe));
        }
        free(token);
        tu_count("jwe-decrypted");
    }
}

/* Reproduce the outputs with the generated values fixed. */
static void reproduce(fixture *f)
{
    json_t *v = f->v;
    jg__jwe_fixed fx = {0};
    size_t len;
    unsigned char *cek = NULL, *iv = NULL, *p2s = NULL, *kw_iv = NULL;
    const char *s;
    jg_alg alg = jg_alg_from_name(tu_json_str(v, "input/alg"), strlen(tu_json_str(v, "input/alg")));
    if (!jg__alg_is_direct(alg) && (s = tu_json_str(v, "generated/cek")) != NULL) {
        cek = b64d(s, &len);
        fx.cek = cek;
        fx.cek_len = len;
    }
    if ((s = tu_json_str(v, "generated/iv")) != NULL) {
        iv = b64d(s, &len);
        fx.iv = iv;
        fx.iv_len = len;
    }
    if ((s = tu_json_str(v, "encrypting_key/salt")) != NULL) {
        p2s = b64d(s, &len);
        fx.p2s = p2s;
        fx.p2s_len = len;
    }
    if ((s = tu_json_str(v, "encrypting_key/iv")) != NULL) {
        kw_iv = b64d(s, &len);
        fx.kw_iv = kw_iv;
        fx.kw_iv_len = len;
    }
    /* (Only here: the X25519 example's published ephemeral key is not
     * consistent, one reason it is marked not reproducible.) */
    json_t *epk = tu_json_at(v, "encrypting_key/epk");
    if (epk != NULL && json_object_get(epk, "d") != NULL)
        f->epk = key_from_json(epk);
    fx.epk = f->epk;

    const char *enc_name = tu_json_str(v, "input/enc");
    jg_jwe_encrypt_opts opts = {0};
    opts.enc = jg_enc_from_name(enc_name, strlen(enc_name));
    opts.zip = tu_json_str(v, "input/zip") != NULL;
    json_t *p2c = tu_json_at(v, "encrypting_key/iteration_count");
    opts.pbes2_count = p2c ? (uint32_t)json_integer_value(p2c) : 0;
    const char *aad = tu_json_str(v, "input/aad");
    json_t *prot = tu_json_at(v, "encrypting_content/protected");
    json_t *unprot = tu_json_at(v, "encrypting_content/unprotected");
    char *prot_json = caller_part(prot, 0);
    char *unprot_json = unprot ? tu_json_text(unprot) : NULL;
    jg_jwe_recipient r = {f->key, alg, NULL};

    const char *want = tu_json_str(v, "output/compact");
    char *out = NULL;
    if (want != NULL) {
        /* As placed by the caller... */
        opts.format = JG_FORMAT_COMPACT;
        opts.protected_json = prot_json;
        assert_jg_ok(jg__jwe_encrypt_fixed(f->plaintext, strlen(f->plaintext), &r, 1, &opts, &fx,
                                           &out, NULL));
        assert_string_equal(out, want);
        free(out);
        /* ...and with only the extra members: the library's own placement
         * yields the same bytes. */
        char *bare = caller_part(prot, 1);
        opts.protected_json = bare;
        assert_jg_ok(jg__jwe_encrypt_fixed(f->plaintext, strlen(f->plaintext), &r, 1, &opts, &fx,
                                           &out, NULL));
        assert_string_equal(out, want);
        free(out);
        free(bare);
        tu_count("jwe-reproduced");
    }
    opts.protected_json = prot_json;
    opts.unprotected_json = unprot_json;
    opts.aad = aad;
    opts.aad_len = aad ? strlen(aad) : 0;
    json_t *flat = tu_json_at(v, "output/json_flat");
    if (flat != NULL) {
        opts.format = JG_FORMAT_FLATTENED;
        assert_jg_ok(jg__jwe_encrypt_fixed(f->plaintext, strlen(f->plaintext), &r, 1, &opts, &fx,
                                           &out, NULL));
        assert_json_same(out, flat);
        free(out);
        tu_count("jwe-reproduced");
    }
    json_t *general = tu_json_at(v, "output/json");
    if (general != NULL && json_object_get(general, "recipients") != NULL) {
        opts.format = JG_FORMAT_GENERAL;
        assert_jg_ok(jg__jwe_encrypt_fixed(f->plaintext, strlen(f->plaintext), &r, 1, &opts, &fx,
                                           &out, NULL));
        assert_json_same(out, general);
        free(out);
        tu_count("jwe-reproduced");
    }
    free(prot_json);
    free(unprot_json);
    free(cek);
    free(iv);
    free(p2s);
    free(kw_iv);
}

static void run_cookbook(const char *file, int reproducible)
{
    fixture f;
    load(&f, file);
    decrypt_outputs(&f, tu_json_at(f.v, "output"), f.plaintext);
    if (reproducible)
        reproduce(&f);
    unload(&f);
}

#define COOKBOOK(name, file, repro)                                                                \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        run_cookbook("jose-cookbook/jwe/" file, repro);                                            \
    }

/* RSA encryption is randomized: 5.1 (RSA1_5, decryption only here) and 5.2
 * are checked by decryption; 5.13 has an RSA1_5 recipient. */
COOKBOOK(test_cookbook_5_1, "5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json", 0)
COOKBOOK(test_cookbook_5_2, "5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json", 0)
COOKBOOK(test_cookbook_5_3, "5_3.key_wrap_using_pbes2-aes-keywrap_with-aes-cbc-hmac-sha2.json", 1)
COOKBOOK(test_cookbook_5_4,
         "5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json", 1)
COOKBOOK(test_cookbook_5_5, "5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json", 1)
COOKBOOK(test_cookbook_5_6, "5_6.direct_encryption_using_aes-gcm.json", 1)
COOKBOOK(test_cookbook_5_7, "5_7.key_wrap_using_aes-gcm_keywrap_with_aes-cbc-hmac-sha2.json", 1)
COOKBOOK(test_cookbook_5_8, "5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json", 1)
COOKBOOK(test_cookbook_5_9, "5_9.compressed_content.json", 1)
COOKBOOK(test_cookbook_5_10, "5_10.including_additional_authentication_data.json", 1)
COOKBOOK(test_cookbook_5_11, "5_11.protecting_specific_header_fields.json", 1)
COOKBOOK(test_cookbook_5_12, "5_12.protecting_content_only.json", 1)

static void test_cookbook_5_13_multiple_recipients(void **state)
{
    (void)state;
    fixture f;
    load(&f, "jose-cookbook/jwe/5_13.encrypting_to_multiple_recipients.json");
    char *token = tu_json_text(tu_json_at(f.v, "output/json"));
    /* All three keys together, then each recipient's key alone. */
    expect_plaintext(token, f.keys, 0, f.plaintext, strlen(f.plaintext));
    tu_count("jwe-decrypted");
    static const jg_alg algs[3] = {JG_ALG_RSA1_5, JG_ALG_ECDH_ES_A256KW, JG_ALG_A256GCMKW};
    for (size_t i = 0; i < 3; i++) {
        jg_jwk *k = (jg_jwk *)jg_jwks_get(f.keys, i);
        jg_jwks *one = set_of1(k);
        jg_jwe *jwe = NULL;
        assert_jg_ok(decrypt_with(token, one, 0, NULL, &jwe));
        assert_int_equal(jg_jwe_alg(jwe), algs[i]);
        assert_ptr_equal(jg_jwe_key(jwe), k);
        const char *cty = NULL;
        assert_jg_ok(jg_jwe_header_string(jwe, "cty", &cty));
        assert_string_equal(cty, "text/plain");
        jg_jwe_free(jwe);
        /* Only that recipient's alg allowed: still found. */
        expect_plaintext(token, one, JG_ALG_BIT(algs[i]), f.plaintext, strlen(f.plaintext));
        jg_jwks_free(one);
        tu_count("jwe-decrypted");
    }
    free(token);
    unload(&f);
}

static void test_cookbook_curve25519(void **state)
{
    (void)state;
    fixture f;
    load(&f, "jose-cookbook/curve25519/ecdh-es.json");
    decrypt_outputs(&f, tu_json_at(f.v, "output"), f.plaintext);
    unload(&f);
}

static void test_cookbook_nested(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("jose-cookbook/6.nesting_signatures_and_encryption.json");
    jg_jwk *key = key_from_json(tu_json_at(v, "encrypt/input/key"));
    jg_jwks *keys = set_of1(key);
    const char *inner = tu_json_str(v, "sign/output/compact");
    assert_string_equal(inner, tu_json_str(v, "encrypt/input/plaintext"));
    static const char *const forms[] = {"encrypt/output/compact", "encrypt/output/json",
                                        "encrypt/output/json_flat"};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = tu_json_at(v, forms[i]);
        char *token = json_is_string(o) ? strdup(json_string_value(o)) : tu_json_text(o);
        jg_jwe *jwe = NULL;
        assert_jg_ok(decrypt_with(token, keys, JG_ALG_BIT(JG_ALG_RSA_OAEP), NULL, &jwe));
        size_t len = 0;
        const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
        assert_int_equal(len, strlen(inner));
        assert_memory_equal(pt, inner, len);
        const char *cty = NULL;
        assert_jg_ok(jg_jwe_header_string(jwe, "cty", &cty));
        assert_string_equal(cty, "JWT");
        jg_jwe_free(jwe);
        free(token);
        tu_count("jwe-decrypted");
    }
    jg_jwks_free(keys);
    jg_jwk_free(key);
    json_decref(v);
}

/* ---- RFC 7516 appendix A ------------------------------------------------------ */

static void rfc_compact(const char *file, jg_alg_set algs, int reproducible)
{
    json_t *v = tu_load_vector(file);
    jg_jwk *key = key_from_json(tu_json_at(v, "input/key"));
    jg_jwks *keys = set_of1(key);
    const char *pt = tu_json_str(v, "input/plaintext");
    const char *token = tu_json_str(v, "output/compact");
    expect_plaintext(token, keys, algs, pt, strlen(pt));
    tu_count("rfc7516-decrypted");
    if (reproducible) {
        size_t cek_len, iv_len;
        unsigned char *cek = b64d(tu_json_str(v, "generated/cek"), &cek_len);
        unsigned char *iv = b64d(tu_json_str(v, "generated/iv"), &iv_len);
        jg__jwe_fixed fx = {.cek = cek, .cek_len = cek_len, .iv = iv, .iv_len = iv_len};
        const char *alg = tu_json_str(v, "input/alg"), *enc = tu_json_str(v, "input/enc");
        jg_jwe_recipient r = {key, jg_alg_from_name(alg, strlen(alg)), NULL};
        jg_jwe_encrypt_opts opts = {.enc = jg_enc_from_name(enc, strlen(enc))};
        char *out = NULL;
        assert_jg_ok(jg__jwe_encrypt_fixed(pt, strlen(pt), &r, 1, &opts, &fx, &out, NULL));
        assert_string_equal(out, token);
        free(out);
        free(cek);
        free(iv);
        tu_count("rfc7516-reproduced");
    }
    jg_jwks_free(keys);
    jg_jwk_free(key);
    json_decref(v);
}

static void test_rfc7516_a1(void **state)
{
    (void)state;
    rfc_compact("rfc/rfc7516_A1_rsa-oaep_a256gcm.json", JG_ALG_BIT(JG_ALG_RSA_OAEP), 0);
}

static void test_rfc7516_a2(void **state)
{
    (void)state;
    rfc_compact("rfc/rfc7516_A2_rsa1_5_a128cbc-hs256.json", JG_ALG_BIT(JG_ALG_RSA1_5), 0);
}

static void test_rfc7516_a3(void **state)
{
    (void)state;
    rfc_compact("rfc/rfc7516_A3_a128kw_a128cbc-hs256.json", JG_ALG_BIT(JG_ALG_A128KW), 1);
}

static void test_rfc7516_a4_a5(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc7516_A4_general_json.json");
    const char *pt = tu_json_str(v, "input/plaintext");
    jg_jwk *rsa = key_from_json(tu_json_at(v, "input/keys/0"));
    jg_jwk *kw = key_from_json(tu_json_at(v, "input/keys/1"));
    jg_jwk *both[2] = {rsa, kw};
    jg_jwks *keys = set_of(both, 2), *only_rsa = set_of1(rsa), *only_kw = set_of1(kw);

    char *general = tu_json_text(tu_json_at(v, "output/json"));
    char *flat = tu_json_text(tu_json_at(v, "output/json_flat"));
    expect_plaintext(general, keys, 0, pt, strlen(pt));
    expect_plaintext(general, only_rsa, 0, pt, strlen(pt));
    expect_plaintext(general, only_kw, 0, pt, strlen(pt));
    /* Without RSA1_5 allowed, the A128KW recipient is still found. */
    expect_plaintext(general, keys, JG_ALG_BIT(JG_ALG_A128KW), pt, strlen(pt));
    expect_plaintext(flat, only_kw, 0, pt, strlen(pt));
    jg_jwe *jwe = NULL;
    assert_jg_ok(decrypt_with(general, only_kw, 0, NULL, &jwe));
    const char *s = NULL;
    assert_jg_ok(jg_jwe_header_string(jwe, "jku", &s));
    assert_string_equal(s, "https://server.example.com/keys.jwks");
    assert_jg_ok(jg_jwe_header_string(jwe, "kid", &s));
    assert_string_equal(s, "7");
    jg_jwe_free(jwe);
    tu_count("rfc7516-decrypted");
    tu_count("rfc7516-decrypted");

    /* A.5 reproduced (the A128KW recipient; RSA1_5 cannot be encrypted). */
    size_t cek_len, iv_len;
    unsigned char *cek = b64d(tu_json_str(v, "generated/cek"), &cek_len);
    unsigned char *iv = b64d(tu_json_str(v, "generated/iv"), &iv_len);
    jg__jwe_fixed fx = {.cek = cek, .cek_len = cek_len, .iv = iv, .iv_len = iv_len};
    jg_jwe_recipient r = {kw, JG_ALG_A128KW, "{\"alg\":\"A128KW\",\"kid\":\"7\"}"};
    jg_jwe_encrypt_opts opts = {.enc = JG_ENC_A128CBC_HS256,
                                .format = JG_FORMAT_FLATTENED,
                                .protected_json = "{\"enc\":\"A128CBC-HS256\"}",
                                .unprotected_json =
                                    "{\"jku\":\"https://server.example.com/keys.jwks\"}"};
    char *out = NULL;
    assert_jg_ok(jg__jwe_encrypt_fixed(pt, strlen(pt), &r, 1, &opts, &fx, &out, NULL));
    assert_json_same(out, tu_json_at(v, "output/json_flat"));
    free(out);
    /* The same without naming alg/kid/enc: the library puts alg and kid in
     * the recipient header and enc in the protected header by itself. */
    jg_jwk *kw7 = NULL;
    jg_jwk_meta meta = {.kid = "7"};
    assert_jg_ok(jg_jwk_with_meta(kw, &meta, &kw7));
    jg_jwe_recipient r2 = {kw7, JG_ALG_A128KW, NULL};
    opts.protected_json = NULL;
    assert_jg_ok(jg__jwe_encrypt_fixed(pt, strlen(pt), &r2, 1, &opts, &fx, &out, NULL));
    assert_json_same(out, tu_json_at(v, "output/json_flat"));
    free(out);
    /* General with that one recipient: A.4 minus the RSA1_5 recipient. */
    opts.format = JG_FORMAT_GENERAL;
    assert_jg_ok(jg__jwe_encrypt_fixed(pt, strlen(pt), &r2, 1, &opts, &fx, &out, NULL));
    json_t *want = json_deep_copy(tu_json_at(v, "output/json"));
    json_array_remove(json_object_get(want, "recipients"), 0);
    assert_json_same(out, want);
    json_decref(want);
    free(out);
    tu_count("rfc7516-reproduced");
    tu_count("rfc7516-reproduced");

    jg_jwk_free(kw7);
    free(cek);
    free(iv);
    free(general);
    free(flat);
    jg_jwks_free(keys);
    jg_jwks_free(only_rsa);
    jg_jwks_free(only_kw);
    jg_jwk_free(rsa);
    jg_jwk_free(kw);
    json_decref(v);
}

/* ---- RFC 7518 appendix C ------------------------------------------------------ */

static void test_rfc7518_c_concat_kdf(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc7518_C_ecdh-es.json");
    size_t z_len, want_len;
    unsigned char *z = b64d(tu_json_str(v, "generated/z"), &z_len);
    unsigned char *want = b64d(tu_json_str(v, "output/derived_key"), &want_len);
    unsigned char out[16];
    assert_jg_ok(jg__concat_kdf(z, z_len, "A128GCM", (const unsigned char *)"Alice", 5,
                                (const unsigned char *)"Bob", 3, out, sizeof out));
    assert_memory_equal(out, want, want_len);
    tu_count("rfc7518-kdf");

    /* The whole ECDH-ES path: Alice's ephemeral key to Bob, the derived
     * CEK must be the published one. */
    jg_jwk *alice = key_from_json(tu_json_at(v, "input/alice_ephemeral"));
    jg_jwk *bob = key_from_json(tu_json_at(v, "input/bob"));
    jg__jwe_fixed fx = {.epk = alice};
    jg_jwe_recipient r = {bob, JG_ALG_ECDH_ES, NULL};
    jg_jwe_encrypt_opts opts = {.enc = JG_ENC_A128GCM,
                                .protected_json = "{\"apu\":\"QWxpY2U\",\"apv\":\"Qm9i\"}"};
    char *token = NULL;
    assert_jg_ok(jg__jwe_encrypt_fixed("hello", 5, &r, 1, &opts, &fx, &token, NULL));
    /* Decrypt the content by hand with the published key. */
    jg_limits lim = jg_limits_default();
    jg__jwe_msg msg;
    assert_jg_ok(jg__jwe_parse(token, strlen(token), &lim, NULL, &msg));
    unsigned char iv[16], tag[16], ct[16], pt[16];
    size_t n;
    assert_jg_ok(jg_b64url_decode(msg.iv.p, msg.iv.n, iv, &n));
    assert_jg_ok(jg_b64url_decode(msg.tag.p, msg.tag.n, tag, &n));
    assert_jg_ok(jg_b64url_decode(msg.ciphertext.p, msg.ciphertext.n, ct, &n));
    assert_int_equal(n, 5);
    jg__aad aad = {msg.protected_b64.p, msg.protected_b64.n, NULL, 0, 0};
    assert_jg_ok(jg__gcm_decrypt(jg__gcm_cipher(NULL, 16), want, 16, iv, 12, &aad, ct, 5, tag, pt));
    assert_memory_equal(pt, "hello", 5);
    jg__jwe_msg_clear(&msg);
    /* And Bob decrypts it the normal way. */
    jg_jwks *keys = set_of1(bob);
    expect_plaintext(token, keys, JG_ALG_BIT(JG_ALG_ECDH_ES), "hello", 5);
    tu_count("rfc7518-ecdh");

    jg_jwks_free(keys);
    free(token);
    jg_jwk_free(alice);
    jg_jwk_free(bob);
    free(z);
    free(want);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookbook_5_1),
        cmocka_unit_test(test_cookbook_5_2),
        cmocka_unit_test(test_cookbook_5_3),
        cmocka_unit_test(test_cookbook_5_4),
        cmocka_unit_test(test_cookbook_5_5),
        cmocka_unit_test(test_cookbook_5_6),
        cmocka_unit_test(test_cookbook_5_7),
        cmocka_unit_test(test_cookbook_5_8),
        cmocka_unit_test(test_cookbook_5_9),
        cmocka_unit_test(test_cookbook_5_10),
        cmocka_unit_test(test_cookbook_5_11),
        cmocka_unit_test(test_cookbook_5_12),
        cmocka_unit_test(test_cookbook_5_13_multiple_recipients),
        cmocka_unit_test(test_cookbook_curve25519),
        cmocka_unit_test(test_cookbook_nested),
        cmocka_unit_test(test_rfc7516_a1),
        cmocka_unit_test(test_rfc7516_a2),
        cmocka_unit_test(test_rfc7516_a3),
        cmocka_unit_test(test_rfc7516_a4_a5),
        cmocka_unit_test(test_rfc7518_c_concat_kdf),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_jwe_vectors");
    return failed;
}
