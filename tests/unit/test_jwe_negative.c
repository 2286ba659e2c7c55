/*
 * test_jwe_negative.c — every way jg_jwe_decrypt() and jg_jwe_encrypt()
 * refuse input, each with its specific error: wrong keys, tampering, bad
 * lengths, hostile ephemeral keys, PBES2 counts and salts, DEFLATE bombs,
 * misplaced or unknown headers, allow-lists, RSA1_5 (Bleichenbacher),
 * "crit", duplicate header names and resource limits.
 */
#include <stdio.h>
#include <time.h>

#include "jwe_forge.h"

static jg_jwk *oct16, *oct32, *p256, *p384, *x25519, *rsa, *pwd;

static int setup(void **state)
{
    (void)state;
    oct16 = key_from_text("{\"kty\":\"oct\",\"kid\":\"k16\",\"k\":\"GawgguFyGrWKav7AX4VKUg\"}");
    oct32 = key_from_text(
        "{\"kty\":\"oct\",\"kid\":\"k32\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}");
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P256, 0, NULL, &p256));
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P384, 0, NULL, &p384));
    assert_jg_ok(jg_jwk_generate(JG_KTY_OKP, JG_CRV_X25519, 0, NULL, &x25519));
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &rsa));
    assert_jg_ok(jg_jwk_from_secret((const unsigned char *)"hunter2-but-longer", 18, NULL, &pwd));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jg_jwk *all[] = {oct16, oct32, p256, p384, x25519, rsa, pwd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        jg_jwk_free(all[i]);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static char *encrypt1(const jg_jwk *key, jg_alg alg, jg_enc enc, int zip)
{
    jg_jwe_recipient r = {key, alg, NULL};
    jg_jwe_encrypt_opts opts = {.enc = enc, .zip = zip, .pbes2_count = 1000};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("secret payload", 14, &r, 1, &opts, &token, NULL));
    return token;
}

static jg_err try1(const char *token, const jg_jwk *key)
{
    jg_jwks *keys = set_of1((jg_jwk *)key);
    jg_jwe *jwe = NULL;
    jg_err err = decrypt_with(token, keys, 0, NULL, &jwe);
    if (err == JG_OK)
        assert_non_null(jwe);
    else
        assert_null(jwe);
    jg_jwe_free(jwe);
    jg_jwks_free(keys);
    return err;
}

static jg_err try_lim(const char *token, const jg_jwk *key, const jg_limits *lim)
{
    jg_jwks *keys = set_of1((jg_jwk *)key);
    jg_jwe *jwe = NULL;
    jg_err err = decrypt_with(token, keys, 0, lim, &jwe);
    jg_jwe_free(jwe);
    jg_jwks_free(keys);
    return err;
}

/* A copy of a key under another kid (NULL: none). */
static jg_jwk *relabel(const jg_jwk *key, const char *kid)
{
    jg_jwk *copy = NULL;
    jg_jwk_meta meta = {.kid = kid};
    assert_jg_ok(jg_jwk_with_meta(key, &meta, &copy));
    return copy;
}

static const unsigned char cek32[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                        22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* ---- arguments ---------------------------------------------------------------- */

static void test_decrypt_arguments(void **state)
{
    (void)state;
    char *token = encrypt1(oct16, JG_ALG_A128KW, JG_ENC_A128GCM, 0);
    jg_jwks *keys = set_of1(oct16);
    jg_jwe *jwe = NULL;
    jg_jwe_decrypt_opts opts = {all_jwe_algs(), all_encs(), NULL, NULL};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_decrypt(NULL, 1, keys, &opts, &jwe));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_decrypt(token, strlen(token), NULL, &opts, &jwe));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_decrypt(token, strlen(token), keys, NULL, &jwe));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_decrypt(token, strlen(token), keys, &opts, NULL));
    jg_jwe_decrypt_opts no_algs = {0, all_encs(), NULL, NULL};
    assert_jg(JG_ERR_KEY_ALGS_EMPTY, jg_jwe_decrypt(token, strlen(token), keys, &no_algs, &jwe));
    jg_jwe_decrypt_opts no_encs = {all_jwe_algs(), 0, NULL, NULL};
    assert_jg(JG_ERR_ENCS_EMPTY, jg_jwe_decrypt(token, strlen(token), keys, &no_encs, &jwe));
    assert_null(jwe);
    /* Accessors tolerate NULL. */
    size_t n = 1;
    assert_null(jg_jwe_plaintext(NULL, &n));
    assert_int_equal(n, 0);
    assert_int_equal(jg_jwe_alg(NULL), JG_ALG_UNKNOWN);
    assert_int_equal(jg_jwe_enc(NULL), JG_ENC_UNKNOWN);
    assert_null(jg_jwe_key(NULL));
    assert_null(jg_jwe_aad(NULL, NULL));
    const char *s;
    char *text;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_header_string(NULL, "alg", &s));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_protected_json(NULL, &text));
    jg_jwe_free(NULL);
    jg_jwks_free(keys);
    free(token);
}

static void test_encrypt_arguments(void **state)
{
    (void)state;
    char *out = NULL;
    jg_jwe_recipient r = {oct16, JG_ALG_A128KW, NULL};
    jg_jwe_recipient two[2] = {{oct16, JG_ALG_A128KW, NULL}, {oct32, JG_ALG_A256KW, NULL}};
    jg_jwe_encrypt_opts o = {0};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, NULL, 1, NULL, &out, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, &r, 0, NULL, &out, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, &r, 1, NULL, NULL, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt(NULL, 1, &r, 1, NULL, &out, NULL));
    /* More than one recipient needs the general serialization. */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, two, 2, NULL, &out, NULL));
    o.format = JG_FORMAT_FLATTENED;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, two, 2, &o, &out, NULL));
    o.format = (jg_format)7;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, &r, 1, &o, &out, NULL));
    /* Compact cannot carry AAD or unprotected headers. */
    o.format = JG_FORMAT_COMPACT;
    o.aad = "a";
    o.aad_len = 1;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, &r, 1, &o, &out, NULL));
    o.aad = NULL;
    o.unprotected_json = "{\"a\":1}";
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, &r, 1, &o, &out, NULL));
    o.unprotected_json = NULL;
    jg_jwe_recipient rh = {oct16, JG_ALG_A128KW, "{\"a\":1}"};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, &rh, 1, &o, &out, NULL));
    /* dir and ECDH-ES derive one CEK: one recipient only. */
    jg_jwe_recipient direct[2] = {{oct32, JG_ALG_DIR, NULL}, {oct16, JG_ALG_A128KW, NULL}};
    o.format = JG_FORMAT_GENERAL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, direct, 2, &o, &out, NULL));
    direct[0].key = p256;
    direct[0].alg = JG_ALG_ECDH_ES;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwe_encrypt("x", 1, direct, 2, &o, &out, NULL));
    /* Algorithms. */
    jg_jwe_recipient bad = {oct16, JG_ALG_UNKNOWN, NULL};
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    bad.alg = JG_ALG_HS256;
    assert_jg(JG_ERR_ALG_KIND, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    bad.alg = (jg_alg)200;
    assert_jg(JG_ERR_ALG_UNKNOWN, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    bad.key = rsa;
    bad.alg = JG_ALG_RSA1_5;
    assert_jg(JG_ERR_UNSUPPORTED, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    o = (jg_jwe_encrypt_opts){.enc = (jg_enc)99};
    assert_jg(JG_ERR_ENC_UNKNOWN, jg_jwe_encrypt("x", 1, &r, 1, &o, &out, NULL));
    /* Keys: jg_jwk_check() refusals. */
    bad = (jg_jwe_recipient){oct32, JG_ALG_A128KW, NULL};
    assert_jg(JG_ERR_KEY_SIZE, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    bad = (jg_jwe_recipient){p256, JG_ALG_RSA_OAEP, NULL};
    assert_jg(JG_ERR_KEY_TYPE, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    bad = (jg_jwe_recipient){x25519, JG_ALG_A128KW, NULL};
    assert_jg(JG_ERR_KEY_TYPE, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    jg_jwk *sig = NULL;
    jg_jwk_meta m = {.use = JG_USE_SIG};
    assert_jg_ok(jg_jwk_with_meta(p256, &m, &sig));
    bad = (jg_jwe_recipient){sig, JG_ALG_ECDH_ES, NULL};
    assert_jg(JG_ERR_KEY_USE, jg_jwe_encrypt("x", 1, &bad, 1, NULL, &out, NULL));
    jg_jwk_free(sig);
    assert_null(out);
}

/* dir: the key is the CEK, so its size must be the enc's CEK size. */
static void test_dir_wrong_size(void **state)
{
    (void)state;
    char *out = NULL;
    jg_jwe_recipient r = {oct16, JG_ALG_DIR, NULL};
    jg_jwe_encrypt_opts o = {.enc = JG_ENC_A256GCM};
    assert_jg(JG_ERR_CEK_LENGTH, jg_jwe_encrypt("x", 1, &r, 1, &o, &out, NULL));
    o.enc = JG_ENC_A256CBC_HS512; /* 64 bytes */
    r.key = oct32;
    assert_jg(JG_ERR_CEK_LENGTH, jg_jwe_encrypt("x", 1, &r, 1, &o, &out, NULL));
    char *token = encrypt1(oct32, JG_ALG_DIR, JG_ENC_A256GCM, 0);
    jg_jwk *short_key = relabel(oct16, "k32");
    assert_jg(JG_ERR_CEK_LENGTH, try1(token, short_key));
    jg_jwk_free(short_key);
    free(token);
}

/* ---- wrong keys and tampering ------------------------------------------------------ */

static void test_wrong_key(void **state)
{
    (void)state;
    static const struct {
        jg_alg alg;
        jg_enc enc;
    } cases[] = {{JG_ALG_A128KW, JG_ENC_A128GCM},
                 {JG_ALG_DIR, JG_ENC_A256GCM},
                 {JG_ALG_A256GCMKW, JG_ENC_A128GCM},
                 {JG_ALG_ECDH_ES, JG_ENC_A128CBC_HS256},
                 {JG_ALG_ECDH_ES_A128KW, JG_ENC_A256GCM},
                 {JG_ALG_RSA_OAEP_256, JG_ENC_A256GCM},
                 {JG_ALG_PBES2_HS256_A128KW, JG_ENC_A128GCM}};
    jg_jwk *other_ec = NULL, *other_rsa = NULL, *other_oct = NULL;
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P256, 0, NULL, &other_ec));
    assert_jg_ok(jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 2048, NULL, &other_rsa));
    const unsigned char secret[32] = {42};
    assert_jg_ok(jg_jwk_from_secret(secret, 32, NULL, &other_oct));
    const unsigned char s16[16] = {1};
    jg_jwk *other_oct16 = NULL, *other_pwd = NULL;
    assert_jg_ok(jg_jwk_from_secret(s16, 16, NULL, &other_oct16));
    assert_jg_ok(
        jg_jwk_from_secret((const unsigned char *)"wrong password!!", 16, NULL, &other_pwd));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jg_alg a = cases[i].alg;
        const jg_jwk *key = a == JG_ALG_A128KW                         ? oct16
                            : a == JG_ALG_DIR || a == JG_ALG_A256GCMKW ? oct32
                            : a == JG_ALG_RSA_OAEP_256                 ? rsa
                            : a == JG_ALG_PBES2_HS256_A128KW           ? pwd
                                                                       : p256;
        /* Other material of the same type and size under the same kid. */
        const jg_jwk *material = a == JG_ALG_RSA_OAEP_256         ? other_rsa
                                 : a == JG_ALG_PBES2_HS256_A128KW ? other_pwd
                                 : a == JG_ALG_A128KW             ? other_oct16
                                 : key == oct32                   ? other_oct
                                                                  : other_ec;
        jg_jwk *wrong = relabel(material, jg_jwk_kid(key));
        char *token = encrypt1(key, a, cases[i].enc, 0);
        assert_jg_ok(try1(token, key));
        assert_jg(JG_ERR_DECRYPT, try1(token, wrong));
        jg_jwk_free(wrong);
        free(token);
        tu_count("negative");
    }
    jg_jwk_free(other_ec);
    jg_jwk_free(other_oct16);
    jg_jwk_free(other_rsa);
    jg_jwk_free(other_oct);
    jg_jwk_free(other_pwd);
}

static void test_tampering(void **state)
{
    (void)state;
    static const jg_enc encs[] = {JG_ENC_A128GCM, JG_ENC_A128CBC_HS256, JG_ENC_A256CBC_HS512};
    for (size_t e = 0; e < 3; e++) {
        char *token = encrypt1(oct16, JG_ALG_A128KW, encs[e], 0);
        assert_jg_ok(try1(token, oct16));
        /* A different but well-formed protected header: the AAD changes. */
        char *t = with_member_json(token, "x", "1");
        assert_jg(JG_ERR_DECRYPT, try1(t, oct16));
        free(t);
        for (int part = 1; part <= 4; part++) {
            t = tamper_part(token, part, 2);
            assert_jg(JG_ERR_DECRYPT, try1(t, oct16));
            free(t);
            tu_count("negative");
        }
        /* Tag and IV of the wrong length. */
        t = replace_part(token, 4, "AAAAAAAAAAAAAAAAAAAA"); /* 15 bytes */
        assert_jg(JG_ERR_TAG_LENGTH, try1(t, oct16));
        free(t);
        t = replace_part(token, 4, "");
        assert_jg(JG_ERR_TAG_LENGTH, try1(t, oct16));
        free(t);
        t = replace_part(token, 2, "AAAAAAAAAAA"); /* 8 bytes */
        assert_jg(JG_ERR_IV_LENGTH, try1(t, oct16));
        free(t);
        t = replace_part(token, 2, "");
        assert_jg(JG_ERR_IV_LENGTH, try1(t, oct16));
        free(t);
        /* An empty ciphertext where there was one. */
        t = replace_part(token, 3, "");
        assert_jg(JG_ERR_DECRYPT, try1(t, oct16));
        free(t);
        free(token);
    }
    /* JSON: the AAD member is authenticated too. */
    jg_jwe_recipient r = {oct16, JG_ALG_A128KW, NULL};
    jg_jwe_encrypt_opts o = {.format = JG_FORMAT_FLATTENED, .aad = "context", .aad_len = 7};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("payload", 7, &r, 1, &o, &token, NULL));
    json_t *doc = json_loads(token, 0, NULL);
    json_object_set_new(doc, "aad", json_string("Y29udGV4dQ"));
    char *t = tu_json_text(doc);
    assert_jg(JG_ERR_DECRYPT, try1(t, oct16));
    free(t);
    json_object_del(doc, "aad");
    t = tu_json_text(doc);
    assert_jg(JG_ERR_DECRYPT, try1(t, oct16));
    free(t);
    json_decref(doc);
    free(token);
}

static void test_encrypted_key_lengths(void **state)
{
    (void)state;
    struct {
        const jg_jwk *key;
        jg_alg alg;
    } cases[] = {{oct32, JG_ALG_DIR},
                 {p256, JG_ALG_ECDH_ES},
                 {oct16, JG_ALG_A128KW},
                 {oct32, JG_ALG_A256GCMKW},
                 {rsa, JG_ALG_RSA_OAEP},
                 {p256, JG_ALG_ECDH_ES_A128KW},
                 {pwd, JG_ALG_PBES2_HS256_A128KW}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *token = encrypt1(cases[i].key, cases[i].alg, JG_ENC_A256GCM, 0);
        /* Direct algorithms: any encrypted key is wrong; the others: a
         * shorter one. */
        char *t = replace_part(token, 1, "AAAAAAAAAAAAAAAAAAAAAA");
        assert_jg(JG_ERR_ENCRYPTED_KEY, try1(t, cases[i].key));
        free(t);
        if (!jg__alg_is_direct(cases[i].alg)) {
            t = replace_part(token, 1, "");
            assert_jg(JG_ERR_ENCRYPTED_KEY, try1(t, cases[i].key));
            free(t);
        }
        free(token);
        tu_count("negative");
    }
}

static void test_gcmkw_header_parameters(void **state)
{
    (void)state;
    char *token = encrypt1(oct32, JG_ALG_A256GCMKW, JG_ENC_A128GCM, 0);
    char *t = with_member_json(token, "iv", "\"AAAAAAAAAAA\"");
    assert_jg(JG_ERR_IV_LENGTH, try1(t, oct32));
    free(t);
    t = with_member(token, "iv", NULL);
    assert_jg(JG_ERR_IV_LENGTH, try1(t, oct32));
    free(t);
    t = with_member_json(token, "iv", "12");
    assert_jg(JG_ERR_HEADER_INVALID, try1(t, oct32));
    free(t);
    t = with_member_json(token, "iv",
                         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                         "AAAAAAAAAAAAAAAAAAAAAAAAA\"");
    assert_jg(JG_ERR_IV_LENGTH, try1(t, oct32));
    free(t);
    t = with_member_json(token, "tag", "\"AAAAAAAAAAAAAAAAAAAA\"");
    assert_jg(JG_ERR_TAG_LENGTH, try1(t, oct32));
    free(t);
    t = with_member(token, "tag", NULL);
    assert_jg(JG_ERR_TAG_LENGTH, try1(t, oct32));
    free(t);
    t = with_member_json(token, "tag", "\"AAAAAAAAAAAAAAAAAAAAAA\""); /* right size, wrong */
    assert_jg(JG_ERR_DECRYPT, try1(t, oct32));
    free(t);
    t = with_member_json(token, "iv", "\"AA=AAAAAAAAAAAAA\"");
    assert_jg(JG_ERR_B64_PADDING, try1(t, oct32));
    free(t);
    free(token);
}

/* ---- ECDH-ES ephemeral keys ------------------------------------------------------------ */

static void test_epk_validation(void **state)
{
    (void)state;
    jg_alg algs[2] = {JG_ALG_ECDH_ES, JG_ALG_ECDH_ES_A128KW};
    for (int a = 0; a < 2; a++) {
        char *token = encrypt1(p256, algs[a], JG_ENC_A128GCM, 0);
        assert_jg_ok(try1(token, p256));
        const char *bad[] = {
            /* another curve (a valid P-384 point) */
            "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"uBo4kHPw6kbjx5l0xowrd_oYzBmaz-"
            "GKFZu4xAFFkbYiWgutEK6iuEDsQ6wNdNg3\",\"y\":\"sp3p5SGhZVC2faXumI-"
            "e9JU2Mo8KpoYrFDr5yPNVtW4PgEwZOyQTA-JdaY8tb7E0\"}",
            /* P-256 point with y changed: not on the curve */
            "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
            "\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\","
            "\"y\":\"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFppt\"}",
            /* the point at infinity has no affine coordinates; (0,0) is not
             * on the curve either */
            "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
            "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
            /* with a private part */
            "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
            "\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\","
            "\"y\":\"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps\","
            "\"d\":\"0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo\"}",
            /* another key type */
            "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"hSDwCYkwp1R0i33ctD73Wg2_"
            "Og0mOBr066SpjqqbTmo\"}",
            /* short coordinate */
            "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5\","
            "\"y\":\"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps\"}",
            /* missing y */
            "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
            "\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\"}",
            "\"not an object\"",
            "{\"kty\":\"EC\"}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char *t = with_member_json(token, "epk", bad[i]);
            assert_jg(JG_ERR_EPK_INVALID, try1(t, p256));
            free(t);
            tu_count("negative");
        }
        /* A valid point that is not the sender's: agreement succeeds but
         * the key is wrong. */
        char *t = with_member_json(token, "epk",
                                   "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
                                   "\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\","
                                   "\"y\":\"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps\"}");
        assert_jg(JG_ERR_DECRYPT, try1(t, p256));
        free(t);
        t = with_member(token, "epk", NULL);
        assert_jg(JG_ERR_EPK_INVALID, try1(t, p256));
        free(t);
        free(token);
    }

    /* X25519: points of small order give an all-zero shared secret. */
    char *token = encrypt1(x25519, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM, 0);
    assert_jg_ok(try1(token, x25519));
    static const char *const low_order[] = {
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 0 */
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 1 */
        "4Ot6fDtBuK4WVuP68Z_EatoJjeucMrH9hmIFFl9JuAA", /* order 8 */
        "X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc", /* order 8 */
        "7P_______________________________________38", /* p - 1 */
        "7f_______________________________________38", /* p (= 0) */
        "7v_______________________________________38", /* p + 1 (= 1) */
    };
    for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
        char epk[200];
        snprintf(epk, sizeof epk, "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"%s\"}",
                 low_order[i]);
        char *t = with_member_json(token, "epk", epk);
        assert_jg(JG_ERR_EPK_INVALID, try1(t, x25519));
        free(t);
        tu_count("negative");
    }
    char *t = with_member_json(token, "epk", "{\"kty\":\"OKP\",\"crv\":\"X448\",\"x\":\"AQ\"}");
    assert_jg(JG_ERR_EPK_INVALID, try1(t, x25519));
    free(t);
    t = with_member_json(token, "epk",
                         "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":"
                         "\"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\",\"y\":\"AA\"}");
    assert_jg(JG_ERR_EPK_INVALID, try1(t, x25519));
    free(t);
    /* apu/apv must be base64url strings. */
    t = with_member_json(token, "apu", "5");
    assert_jg(JG_ERR_HEADER_INVALID, try1(t, x25519));
    free(t);
    t = with_member_json(token, "apv", "\"a+b\"");
    assert_jg(JG_ERR_B64_CHAR, try1(t, x25519));
    free(t);
    free(token);
}

/* ---- PBES2 ------------------------------------------------------------------------ */

static void test_pbes2_count_and_salt(void **state)
{
    (void)state;
    char *token = encrypt1(pwd, JG_ALG_PBES2_HS256_A128KW, JG_ENC_A128GCM, 0);
    assert_jg_ok(try1(token, pwd));
    char num[32];
    snprintf(num, sizeof num, "%u", JG_DEFAULT_MAX_PBES2_COUNT + 1);
    char *t = with_member_json(token, "p2c", num);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_jg(JG_ERR_LIMIT_PBES2_COUNT, try1(t, pwd));
    free(t);
    /* Huge counts are refused before any PBKDF2 work: this returns at once. */
    static const char *const huge[] = {"1000000000000", "9223372036854775807", "1e300"};
    for (size_t i = 0; i < 3; i++) {
        t = with_member_json(token, "p2c", huge[i]);
        assert_jg(JG_ERR_LIMIT_PBES2_COUNT, try1(t, pwd));
        free(t);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 2000.0);
    /* The caller's limit. */
    jg_limits lim = jg_limits_default();
    lim.max_pbes2_count = 999;
    assert_jg(JG_ERR_LIMIT_PBES2_COUNT, try_lim(token, pwd, &lim));
    lim.max_pbes2_count = 1000;
    assert_jg_ok(try_lim(token, pwd, &lim));
    static const char *const invalid[] = {"0", "-1", "\"1000\"", "1.5", "null"};
    for (size_t i = 0; i < 5; i++) {
        t = with_member_json(token, "p2c", invalid[i]);
        assert_jg(JG_ERR_HEADER_INVALID, try1(t, pwd));
        free(t);
    }
    t = with_member(token, "p2c", NULL);
    assert_jg(JG_ERR_HEADER_INVALID, try1(t, pwd));
    free(t);
    /* Salt input under 8 bytes, or none. */
    t = with_member_json(token, "p2s", "\"AAECAwQFBg\""); /* 7 bytes */
    assert_jg(JG_ERR_PBES2_SALT, try1(t, pwd));
    free(t);
    t = with_member(token, "p2s", NULL);
    assert_jg(JG_ERR_PBES2_SALT, try1(t, pwd));
    free(t);
    t = with_member_json(token, "p2s", "\"AAECAwQFBgc\""); /* 8 bytes: accepted, wrong key */
    assert_jg(JG_ERR_DECRYPT, try1(t, pwd));
    free(t);
    t = with_member_json(token, "p2s", "\"!!!!!!!!!!!!\"");
    assert_jg(JG_ERR_B64_CHAR, try1(t, pwd));
    free(t);
    t = with_member_json(token, "p2s", "7");
    assert_jg(JG_ERR_HEADER_INVALID, try1(t, pwd));
    free(t);
    free(token);
    tu_count("negative");
}

/* ---- zip ------------------------------------------------------------------------- */

static void test_zip_bomb(void **state)
{
    (void)state;
    size_t big = 10u * 1024u * 1024u;
    unsigned char *zeros = calloc(1, big);
    jg_jwe_recipient r = {oct16, JG_ALG_A128KW, NULL};
    jg_jwe_encrypt_opts o = {.zip = 1};
    char *token = NULL;
    size_t token_len = 0;
    assert_jg_ok(jg_jwe_encrypt(zeros, big, &r, 1, &o, &token, &token_len));
    assert_true(token_len < 20000); /* 10 MB in a small token */
    assert_jg(JG_ERR_LIMIT_INFLATED, try1(token, oct16));
    /* The raw inflater never allocates past the limit. */
    unsigned char *deflated = NULL, *out = NULL;
    size_t deflated_len = 0, out_len = 0, cap = 0;
    assert_jg_ok(jg__deflate(zeros, big, &deflated, &deflated_len));
    assert_jg(JG_ERR_LIMIT_INFLATED,
              jg__inflate(deflated, deflated_len, 250000, &out, &out_len, &cap));
    assert_null(out);
    /* Limits at the exact size. */
    assert_jg_ok(jg__deflate(zeros, 100000, &out, &out_len));
    unsigned char *in = out;
    size_t in_len = out_len;
    out = NULL;
    assert_jg_ok(jg__inflate(in, in_len, 100000, &out, &out_len, &cap));
    assert_int_equal(out_len, 100000);
    assert_int_equal(out[out_len], 0);
    assert_true(cap <= 100002);
    jg_free_secret(out, cap);
    out = NULL;
    assert_jg(JG_ERR_LIMIT_INFLATED, jg__inflate(in, in_len, 99999, &out, &out_len, &cap));
    /* Corrupt, truncated, trailing. */
    assert_jg(JG_ERR_ZIP_DATA, jg__inflate(in, in_len - 1, 200000, &out, &out_len, &cap));
    unsigned char garbage[] = {0xff, 0xff, 0xff, 0xff};
    assert_jg(JG_ERR_ZIP_DATA, jg__inflate(garbage, sizeof garbage, 100, &out, &out_len, &cap));
    unsigned char *trail = malloc(in_len + 1);
    memcpy(trail, in, in_len);
    trail[in_len] = 0;
    assert_jg(JG_ERR_ZIP_DATA, jg__inflate(trail, in_len + 1, 200000, &out, &out_len, &cap));
    free(trail);
    free(in);
    jg_free_secret(deflated, deflated_len);
    free(token);

    /* zip refused entirely with a zero limit. */
    token = encrypt1(oct16, JG_ALG_A128KW, JG_ENC_A128GCM, 1);
    assert_jg_ok(try1(token, oct16));
    jg_limits lim = jg_limits_default();
    lim.max_inflated_len = 0;
    assert_jg(JG_ERR_ZIP_UNSUPPORTED, try_lim(token, oct16, &lim));
    char *t = with_member_json(token, "zip", "\"GZIP\"");
    assert_jg(JG_ERR_ZIP_UNSUPPORTED, try1(t, oct16));
    free(t);
    t = with_member_json(token, "zip", "1");
    assert_jg(JG_ERR_ZIP_UNSUPPORTED, try1(t, oct16));
    free(t);
    free(token);
    free(zeros);
    tu_count("negative");
}

static void test_zip_placement_and_data(void **state)
{
    (void)state;
    /* "zip" outside the protected header: shared or per-recipient. */
    jg_jwe_recipient r = {oct16, JG_ALG_A128KW, NULL};
    jg_jwe_encrypt_opts o = {.format = JG_FORMAT_FLATTENED};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("abc", 3, &r, 1, &o, &token, NULL));
    json_t *doc = json_loads(token, 0, NULL);
    json_object_set_new(doc, "unprotected", json_pack("{s:s}", "zip", "DEF"));
    char *t = tu_json_text(doc);
    assert_jg(JG_ERR_ZIP_UNPROTECTED, try1(t, oct16));
    free(t);
    json_object_del(doc, "unprotected");
    json_object_set_new(json_object_get(doc, "header"), "zip", json_string("DEF"));
    t = tu_json_text(doc);
    assert_jg(JG_ERR_ZIP_UNPROTECTED, try1(t, oct16));
    free(t);
    json_decref(doc);
    free(token);
    /* The caller cannot place "zip" (nor any generated member). */
    o.unprotected_json = "{\"zip\":\"DEF\"}";
    assert_jg(JG_ERR_HEADER_INVALID, jg_jwe_encrypt("abc", 3, &r, 1, &o, &token, NULL));

    /* Authentic token whose compressed data is corrupt. */
    jg_jwk *dir = NULL;
    assert_jg_ok(jg_jwk_from_secret(cek32, 32, NULL, &dir));
    const char *hdr = "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"zip\":\"DEF\"}";
    t = forge(hdr, cek32, JG_ENC_A256GCM, "not deflate data at all \xff\xff", 26);
    assert_jg(JG_ERR_ZIP_DATA, try1(t, dir));
    free(t);
    unsigned char *z = NULL;
    size_t z_len = 0;
    assert_jg_ok(jg__deflate((const unsigned char *)"hello hello hello", 17, &z, &z_len));
    t = forge(hdr, cek32, JG_ENC_A256GCM, z, z_len);
    jg_jwks *keys = set_of1(dir); /* control: the same forgery with good data */
    expect_plaintext(t, keys, 0, "hello hello hello", 17);
    jg_jwks_free(keys);
    free(t);
    free(z);
    jg_jwk_free(dir);
}

/* ---- algorithms and allow-lists ------------------------------------------------------- */

static void test_alg_and_enc_checks(void **state)
{
    (void)state;
    char *token = encrypt1(oct16, JG_ALG_A128KW, JG_ENC_A128GCM, 0);
    struct {
        const char *name, *json;
        jg_err want;
    } cases[] = {
        {"alg", "\"none\"", JG_ERR_ALG_NONE},      {"alg", "\"HS256\"", JG_ERR_ALG_KIND},
        {"alg", "\"ES256\"", JG_ERR_ALG_KIND},     {"alg", "\"A128KWX\"", JG_ERR_ALG_UNKNOWN},
        {"alg", "\"a128kw\"", JG_ERR_ALG_UNKNOWN}, {"alg", "7", JG_ERR_HEADER_INVALID},
        {"alg", NULL, JG_ERR_HEADER_ALG_MISSING},  {"enc", NULL, JG_ERR_HEADER_INVALID},
        {"enc", "true", JG_ERR_HEADER_INVALID},    {"enc", "\"A512GCM\"", JG_ERR_ENC_UNKNOWN},
        {"kid", "5", JG_ERR_HEADER_INVALID},       {"kid", "\"nobody\"", JG_ERR_KEY_NOT_FOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = cases[i].json ? with_member_json(token, cases[i].name, cases[i].json)
                                : with_member(token, cases[i].name, NULL);
        assert_jg(cases[i].want, try1(t, oct16));
        free(t);
        tu_count("negative");
    }
    /* Allow-lists. */
    jg_jwks *keys = set_of1(oct16);
    jg_jwe *jwe = NULL;
    jg_jwe_decrypt_opts o = {JG_ALG_BIT(JG_ALG_A256KW), all_encs(), NULL, NULL};
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, jg_jwe_decrypt(token, strlen(token), keys, &o, &jwe));
    o = (jg_jwe_decrypt_opts){all_jwe_algs(), JG_ENC_BIT(JG_ENC_A256GCM), NULL, NULL};
    assert_jg(JG_ERR_ENC_NOT_ALLOWED, jg_jwe_decrypt(token, strlen(token), keys, &o, &jwe));
    /* JWS algorithms in the JWE allow-list do not make them usable. */
    o = (jg_jwe_decrypt_opts){JG_ALGS_HMAC, all_encs(), NULL, NULL};
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, jg_jwe_decrypt(token, strlen(token), keys, &o, &jwe));
    jg_jwks_free(keys);
    free(token);
}

static void test_key_refusals(void **state)
{
    (void)state;
    char *token = encrypt1(p256, JG_ALG_ECDH_ES_A128KW, JG_ENC_A128GCM, 0);
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(p256, &pub));
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, try1(token, pub));
    jg_jwk *sig = NULL, *ops = NULL;
    jg_jwk_meta m = {.kid = jg_jwk_kid(p256), .use = JG_USE_SIG};
    assert_jg_ok(jg_jwk_with_meta(p256, &m, &sig));
    assert_jg(JG_ERR_KEY_USE, try1(token, sig));
    m = (jg_jwk_meta){.kid = jg_jwk_kid(p256), .key_ops = JG_OP_VERIFY | JG_OP_SIGN};
    assert_jg_ok(jg_jwk_with_meta(p256, &m, &ops));
    assert_jg(JG_ERR_KEY_OPS, try1(token, ops));
    /* A key of another type with no kid in common is simply not a
     * candidate. */
    assert_jg(JG_ERR_KEY_NOT_FOUND, try1(token, oct16));
    jg_jwks *empty = NULL;
    assert_jg_ok(jg_jwks_new(&empty));
    jg_jwe *jwe = NULL;
    assert_jg(JG_ERR_KEY_NOT_FOUND, decrypt_with(token, empty, 0, NULL, &jwe));
    jg_jwks_free(empty);
    /* The right key after refused ones is still found. */
    jg_jwk *mix[3] = {sig, pub, (jg_jwk *)p256};
    jg_jwks *keys = set_of(mix, 3);
    assert_jg_ok(decrypt_with(token, keys, 0, NULL, &jwe));
    assert_ptr_equal(jg_jwe_key(jwe), p256);
    jg_jwe_free(jwe);
    jg_jwks_free(keys);
    jg_jwk_free(pub);
    jg_jwk_free(sig);
    jg_jwk_free(ops);
    free(token);
}

/* ---- RSA1_5 --------------------------------------------------------------------------- */

static void test_rsa1_5_bleichenbacher(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("rfc/rfc7516_A2_rsa1_5_a128cbc-hs256.json");
    jg_jwk *key = key_from_json(tu_json_at(v, "input/key"));
    const char *token = tu_json_str(v, "output/compact");
    assert_jg_ok(try1(token, key));
    /* Named in the allow-list or refused. */
    jg_jwks *keys = set_of1(key);
    jg_jwe *jwe = NULL;
    assert_jg(JG_ERR_ALG_NOT_ALLOWED,
              decrypt_with(token, keys, all_jwe_algs() & ~JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));

    /* Every failure looks the same: bad padding, good padding with a CEK of
     * the wrong length, or a good CEK with a bad tag. */
    unsigned char block[256];
    memset(block, 0x55, sizeof block);
    block[0] = 0x00;
    block[1] = 0x01; /* block type 1: wrong for encryption */
    char *ek1 = rsa_raw(key, block, sizeof block);
    block[1] = 0x02; /* type 2 but no zero separator */
    char *ek2 = rsa_raw(key, block, sizeof block);
    block[256 - 17] = 0x00; /* type 2, 16-byte message: wrong length for A128CBC-HS256 */
    char *ek3 = rsa_raw(key, block, sizeof block);
    block[256 - 17] = 0x55;
    block[256 - 33] = 0x00; /* type 2, 32-byte message: right length, wrong CEK */
    char *ek4 = rsa_raw(key, block, sizeof block);
    const char *eks[] = {ek1, ek2, ek3, ek4};
    for (size_t i = 0; i < 4; i++) {
        char *t = replace_part(token, 1, eks[i]);
        assert_jg(JG_ERR_DECRYPT, decrypt_with(t, keys, JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));
        free(t);
        free((char *)eks[i]);
        tu_count("negative");
    }
    char *t = tamper_part(token, 4, 3);
    assert_jg(JG_ERR_DECRYPT, decrypt_with(t, keys, JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));
    free(t);
    /* An encrypted key of the wrong size is visible without the private key. */
    t = replace_part(token, 1, "AAAA");
    assert_jg(JG_ERR_ENCRYPTED_KEY, decrypt_with(t, keys, JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));
    free(t);
    jg_jwks_free(keys);
    jg_jwk_free(key);
    json_decref(v);
}

/* ---- CBC padding after a good tag ------------------------------------------------------- */

static void test_cbc_padding_after_good_tag(void **state)
{
    (void)state;
    /* CEK = MAC key (16) || AES key (16), A128CBC-HS256. */
    const unsigned char *mac_key = cek32, *aes_key = cek32 + 16;
    const char *hdr64 = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0"; /* dir, A128CBC-HS256 */
    jg_jwk *dir = NULL;
    assert_jg_ok(jg_jwk_from_secret(cek32, 32, NULL, &dir));
    for (int good_padding = 0; good_padding <= 1; good_padding++) {
        unsigned char iv[16] = {9}, block[16], ct[16];
        memset(block, good_padding ? 0x10 : 0x00, sizeof block); /* 0x00: not a PKCS#7 pad */
        int l = 0;
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        assert_true(EVP_EncryptInit_ex2(c, EVP_aes_128_cbc(), aes_key, iv, NULL));
        EVP_CIPHER_CTX_set_padding(c, 0);
        assert_true(EVP_EncryptUpdate(c, ct, &l, block, 16));
        EVP_CIPHER_CTX_free(c);
        /* tag = HMAC-SHA-256(MAC key, AAD || IV || ct || AL)[0..16) */
        size_t aad_len = strlen(hdr64);
        unsigned char mac_in[128], mac[32];
        memcpy(mac_in, hdr64, aad_len);
        memcpy(mac_in + aad_len, iv, 16);
        memcpy(mac_in + aad_len + 16, ct, 16);
        uint64_t bits = aad_len * 8;
        for (int i = 0; i < 8; i++)
            mac_in[aad_len + 32 + i] = (unsigned char)(bits >> (56 - 8 * i));
        size_t mac_len = 0;
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, mac_key, 16, mac_in,
                                  aad_len + 40, mac, sizeof mac, &mac_len));
        char *iv64 = b64e(iv, 16), *ct64 = b64e(ct, 16), *tag64 = b64e(mac, 16);
        char token[512];
        snprintf(token, sizeof token, "%s..%s.%s.%s", hdr64, iv64, ct64, tag64);
        if (good_padding) {
            jg_jwks *keys = set_of1(dir);
            expect_plaintext(token, keys, 0, "", 0); /* one block of padding only */
            jg_jwks_free(keys);
        } else {
            assert_jg(JG_ERR_DECRYPT, try1(token, dir));
        }
        free(iv64);
        free(ct64);
        free(tag64);
    }
    jg_jwk_free(dir);
}

/* ---- crit and header placement ------------------------------------------------------------ */

static char *encrypt_with(const char *prot, const char *shared, const char *rhdr, jg_format f)
{
    jg_jwe_recipient r = {oct16, JG_ALG_A128KW, rhdr};
    jg_jwe_encrypt_opts o = {.format = f, .protected_json = prot, .unprotected_json = shared};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("crit", 4, &r, 1, &o, &token, NULL));
    return token;
}

static void test_crit(void **state)
{
    (void)state;
    jg_jwks *keys = set_of1(oct16);
    jg_jwe *jwe = NULL;
    char *token =
        encrypt_with("{\"crit\":[\"exp1\"],\"exp1\":true}", NULL, NULL, JG_FORMAT_COMPACT);
    assert_jg(JG_ERR_CRIT_UNKNOWN, try1(token, oct16));
    const char *understood[] = {"other", "exp1", NULL};
    jg_jwe_decrypt_opts o = {all_jwe_algs(), all_encs(), understood, NULL};
    assert_jg_ok(jg_jwe_decrypt(token, strlen(token), keys, &o, &jwe));
    jg_jwe_free(jwe);
    free(token);
    static const struct {
        const char *prot;
        jg_err want;
    } cases[] = {
        {"{\"crit\":[]}", JG_ERR_CRIT_INVALID},
        {"{\"crit\":\"exp1\",\"exp1\":1}", JG_ERR_CRIT_INVALID},
        {"{\"crit\":[\"cty\"],\"cty\":\"x\"}", JG_ERR_CRIT_INVALID}, /* registered name */
        {"{\"crit\":[\"exp1\"]}", JG_ERR_CRIT_INVALID},              /* absent */
        {"{\"crit\":[\"exp1\",\"exp1\"],\"exp1\":1}", JG_ERR_CRIT_INVALID},
        {"{\"crit\":[1]}", JG_ERR_CRIT_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        token = encrypt_with(cases[i].prot, NULL, NULL, JG_FORMAT_COMPACT);
        assert_jg(cases[i].want, jg_jwe_decrypt(token, strlen(token), keys, &o, &jwe));
        free(token);
        tu_count("negative");
    }
    /* "crit" outside the protected header. */
    token = encrypt_with(NULL, NULL, NULL, JG_FORMAT_FLATTENED);
    json_t *doc = json_loads(token, 0, NULL);
    json_object_set_new(doc, "unprotected", json_pack("{s:[s],s:i}", "crit", "exp1", "exp1", 1));
    char *t = tu_json_text(doc);
    assert_jg(JG_ERR_CRIT_UNPROTECTED, jg_jwe_decrypt(t, strlen(t), keys, &o, &jwe));
    free(t);
    json_decref(doc);
    free(token);
    /* ...and encrypt refuses to write one there. */
    jg_jwe_recipient r = {oct16, JG_ALG_A128KW, "{\"crit\":[\"x\"],\"x\":1}"};
    jg_jwe_encrypt_opts eo = {.format = JG_FORMAT_FLATTENED};
    assert_jg(JG_ERR_HEADER_INVALID, jg_jwe_encrypt("x", 1, &r, 1, &eo, &token, NULL));
    jg_jwks_free(keys);
}

static void test_header_duplicates_and_caller_headers(void **state)
{
    (void)state;
    /* Decrypt: a name in two header kinds. */
    char *token = encrypt_with("{\"x\":1}", "{\"y\":2}", "{\"z\":3}", JG_FORMAT_FLATTENED);
    assert_jg_ok(try1(token, oct16));
    json_t *doc = json_loads(token, 0, NULL);
    json_object_set_new(json_object_get(doc, "unprotected"), "kid", json_string("k16"));
    char *t = tu_json_text(doc);
    assert_jg(JG_ERR_HEADER_DUPLICATE, try1(t, oct16)); /* kid: shared and recipient */
    free(t);
    json_object_del(json_object_get(doc, "unprotected"), "kid");
    json_object_set_new(json_object_get(doc, "header"), "x", json_integer(1));
    t = tu_json_text(doc);
    assert_jg(JG_ERR_HEADER_DUPLICATE, try1(t, oct16)); /* x: protected and recipient */
    free(t);
    json_object_del(json_object_get(doc, "header"), "x");
    json_object_set_new(json_object_get(doc, "unprotected"), "enc", json_string("A256GCM"));
    t = tu_json_text(doc);
    assert_jg(JG_ERR_HEADER_DUPLICATE, try1(t, oct16)); /* enc: protected and shared */
    free(t);
    json_decref(doc);
    free(token);

    /* Encrypt: the same checks on what the caller gives. */
    jg_jwe_recipient r = {oct16, JG_ALG_A128KW, "{\"a\":1}"};
    jg_jwe_encrypt_opts o = {.format = JG_FORMAT_FLATTENED};
    struct {
        const char *prot, *shared, *rhdr;
        jg_err want;
    } cases[] = {
        {"{\"a\":1}", NULL, "{\"a\":1}", JG_ERR_HEADER_DUPLICATE},
        {NULL, "{\"a\":1}", "{\"a\":2}", JG_ERR_HEADER_DUPLICATE},
        {"{\"b\":1}", "{\"b\":1}", NULL, JG_ERR_HEADER_DUPLICATE},
        {"{\"kid\":\"x\"}", NULL, "{\"kid\":\"y\"}", JG_ERR_HEADER_DUPLICATE},
        {"{\"epk\":{}}", NULL, NULL, JG_ERR_HEADER_INVALID},
        {NULL, NULL, "{\"p2c\":1}", JG_ERR_HEADER_INVALID},
        {NULL, "{\"iv\":\"AA\"}", NULL, JG_ERR_HEADER_INVALID},
        {"{\"alg\":\"A256KW\"}", NULL, NULL, JG_ERR_HEADER_INVALID},
        {NULL, NULL, "{\"alg\":5}", JG_ERR_HEADER_INVALID},
        {"{\"enc\":\"A128GCM\"}", NULL, NULL, JG_ERR_HEADER_INVALID}, /* default is A256GCM */
        {"{\"kid\":7}", NULL, NULL, JG_ERR_HEADER_INVALID},
        {"{\"a\":", NULL, NULL, JG_ERR_JSON_SYNTAX},
        {"[1]", NULL, NULL, JG_ERR_JSON_NOT_OBJECT},
        {"{\"a\":1,\"a\":2}", NULL, NULL, JG_ERR_JSON_DUPLICATE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o.protected_json = cases[i].prot;
        o.unprotected_json = cases[i].shared;
        r.header_json = cases[i].rhdr;
        char *out = NULL;
        assert_jg(cases[i].want, jg_jwe_encrypt("x", 1, &r, 1, &o, &out, NULL));
        assert_null(out);
        tu_count("negative");
    }
    /* Caller-placed alg/kid/enc that match are fine, wherever they are. */
    o = (jg_jwe_encrypt_opts){.format = JG_FORMAT_FLATTENED,
                              .enc = JG_ENC_A128GCM,
                              .protected_json = "{\"enc\":\"A128GCM\"}",
                              .unprotected_json = "{\"alg\":\"A128KW\",\"kid\":\"elsewhere\"}"};
    r.header_json = NULL;
    assert_jg_ok(jg_jwe_encrypt("x", 1, &r, 1, &o, &token, NULL));
    doc = json_loads(token, 0, NULL);
    assert_string_equal(tu_json_str(doc, "unprotected/kid"), "elsewhere");
    assert_null(json_object_get(doc, "header"));
    json_decref(doc);
    jg_jwks *keys = set_of1(oct16);
    jg_jwe *jwe = NULL;
    /* kid "elsewhere" matches no key: only the kid decides. */
    assert_jg(JG_ERR_KEY_NOT_FOUND, decrypt_with(token, keys, 0, NULL, &jwe));
    jg_jwks_free(keys);
    free(token);
}

/* ---- structure and limits ------------------------------------------------------------------ */

static void test_not_a_jwe(void **state)
{
    (void)state;
    const char *jws_json = "{\"payload\":\"eyJhIjoxfQ\",\"signatures\":[{\"protected\":"
                           "\"eyJhbGciOiJIUzI1NiJ9\",\"signature\":\"AAAA\"}]}";
    struct {
        const char *token;
        jg_err want;
    } cases[] = {
        {"eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.AAAA", JG_ERR_TOKEN_FORMAT},
        {jws_json, JG_ERR_TOKEN_FORMAT},
        {"", JG_ERR_TOKEN_FORMAT},
        {"....", JG_ERR_TOKEN_FORMAT},
        {"a.b.c.d.e.f", JG_ERR_TOKEN_FORMAT},
        {"[1,2]", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":5}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\",\"recipients\":[]}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\",\"recipients\":{}}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\",\"recipients\":[5]}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\",\"recipients\":[{}],\"header\":{}}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\",\"header\":[]}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\",\"unprotected\":\"x\"}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\",\"protected\":7}", JG_ERR_TOKEN_FORMAT},
        {"{\"ciphertext\":\"AA\"", JG_ERR_JSON_SYNTAX},
        {"{\"ciphertext\":\"AA\",\"ciphertext\":\"AA\"}", JG_ERR_JSON_DUPLICATE},
        {"{\"ciphertext\":\"AA\"}", JG_ERR_HEADER_ALG_MISSING},
        {"ey!.AA.AA.AA.AA", JG_ERR_B64_CHAR},
        {"eyJhbGciOiJkaXIifQ==..AA.AA.AA", JG_ERR_B64_PADDING},
        {"bm90IGpzb24.AA.AA.AA.AA", JG_ERR_JSON_SYNTAX},
        {"WzFd.AA.AA.AA.AA", JG_ERR_JSON_NOT_OBJECT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_jg(cases[i].want, try1(cases[i].token, oct16));
        tu_count("negative");
    }
    /* Part decoding errors after a good header. */
    char *token = encrypt1(oct16, JG_ALG_A128KW, JG_ENC_A128GCM, 0);
    char *t = replace_part(token, 3, "A");
    assert_jg(JG_ERR_B64_LENGTH, try1(t, oct16));
    free(t);
    t = replace_part(token, 1, "A*");
    assert_jg(JG_ERR_B64_CHAR, try1(t, oct16));
    free(t);
    t = replace_part(token, 2, "AB"); /* non-zero trailing bits */
    assert_jg(JG_ERR_B64_NONCANONICAL, try1(t, oct16));
    free(t);
    free(token);
}

static void test_limits(void **state)
{
    (void)state;
    jg_jwe_recipient r[3] = {{oct16, JG_ALG_A128KW, NULL},
                             {oct32, JG_ALG_A256KW, NULL},
                             {pwd, JG_ALG_PBES2_HS256_A128KW, NULL}};
    jg_jwe_encrypt_opts o = {.format = JG_FORMAT_GENERAL, .pbes2_count = 1000};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt("x", 1, r, 3, &o, &token, NULL));
    jg_limits lim = jg_limits_default();
    assert_jg_ok(try_lim(token, pwd, &lim));
    lim.max_recipients = 2;
    assert_jg(JG_ERR_LIMIT_RECIPIENTS, try_lim(token, pwd, &lim));
    lim = jg_limits_default();
    lim.max_token_len = strlen(token) - 1;
    assert_jg(JG_ERR_LIMIT_TOKEN_SIZE, try_lim(token, pwd, &lim));
    free(token);

    /* Header size and depth. */
    char big[9000];
    memset(big, 'a', sizeof big);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = 0;
    token = encrypt1(oct16, JG_ALG_A128KW, JG_ENC_A128GCM, 0);
    char *t = with_member_json(token, "x-big", big);
    assert_jg(JG_ERR_LIMIT_HEADER_SIZE, try1(t, oct16));
    lim = jg_limits_default();
    lim.max_header_len = 20000;
    assert_jg(JG_ERR_DECRYPT, try_lim(t, oct16, &lim)); /* within the limit: AAD changed */
    free(t);
    char deep[200] = {0};
    for (int i = 0; i < 40; i++)
        deep[i] = '[';
    for (int i = 0; i < 40; i++)
        deep[40 + i] = ']';
    t = with_member_json(token, "x-deep", deep);
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, try1(t, oct16));
    free(t);
    /* The whole JSON document is depth-limited too. */
    jg_jwe_recipient one = {oct16, JG_ALG_A128KW, NULL};
    jg_jwe_encrypt_opts fo = {.format = JG_FORMAT_FLATTENED};
    char *flat = NULL;
    assert_jg_ok(jg_jwe_encrypt("x", 1, &one, 1, &fo, &flat, NULL));
    json_t *doc = json_loads(flat, 0, NULL);
    json_object_set_new(doc, "x-deep", json_loads(deep, 0, NULL));
    t = tu_json_text(doc);
    assert_jg(JG_ERR_LIMIT_JSON_DEPTH, try1(t, oct16));
    free(t);
    json_decref(doc);
    free(flat);
    free(token);
    tu_count("negative");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decrypt_arguments),
        cmocka_unit_test(test_encrypt_arguments),
        cmocka_unit_test(test_dir_wrong_size),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_encrypted_key_lengths),
        cmocka_unit_test(test_gcmkw_header_parameters),
        cmocka_unit_test(test_epk_validation),
        cmocka_unit_test(test_pbes2_count_and_salt),
        cmocka_unit_test(test_zip_bomb),
        cmocka_unit_test(test_zip_placement_and_data),
        cmocka_unit_test(test_alg_and_enc_checks),
        cmocka_unit_test(test_key_refusals),
        cmocka_unit_test(test_rsa1_5_bleichenbacher),
        cmocka_unit_test(test_cbc_padding_after_good_tag),
        cmocka_unit_test(test_crit),
        cmocka_unit_test(test_header_duplicates_and_caller_headers),
        cmocka_unit_test(test_not_a_jwe),
        cmocka_unit_test(test_limits),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    tu_report("test_jwe_negative");
    return failed;
}
