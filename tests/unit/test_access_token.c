/*
 * test_access_token.c — nested access tokens: seal/open round trips over
 * several signature and encryption algorithms, the accepted token forms,
 * the cookbook's nested example, refusals (not encrypted, not nested, the
 * same key on both layers, claims, typ) and two threads opening tokens with
 * shared key sets.
 */
#include <pthread.h>
#include <stdio.h>

#include "jwe_testlib.h"

static int64_t now = 1700000000;

typedef struct pair {
    jg_jwk *sign;    /* issuer's private signing key */
    jg_jwk *verify;  /* its public half (or the same oct key) */
    jg_jwk *enc;     /* gateway's public encryption key (or oct) */
    jg_jwk *decrypt; /* gateway's private key */
} pair;

static jg_jwk *gen(jg_kty kty, jg_crv crv, unsigned bits, const char *kid)
{
    jg_jwk *k = NULL;
    jg_jwk_meta meta = {.kid = kid};
    assert_jg_ok(jg_jwk_generate(kty, crv, bits, &meta, &k));
    return k;
}

static jg_jwk *public_of(jg_jwk *k)
{
    if (jg_jwk_kty(k) == JG_KTY_OCT)
        return jg_jwk_ref(k);
    jg_jwk *pub = NULL;
    assert_jg_ok(jg_jwk_public(k, &pub));
    return pub;
}

static pair make_pair(jg_jwk *sign, jg_jwk *decrypt)
{
    pair p = {sign, public_of(sign), public_of(decrypt), decrypt};
    return p;
}

static void free_pair(pair *p)
{
    jg_jwk_free(p->sign);
    jg_jwk_free(p->verify);
    jg_jwk_free(p->enc);
    jg_jwk_free(p->decrypt);
}

static jg_claims *claims_for(const char *sub, int64_t exp)
{
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    assert_jg_ok(jg_claims_set_string(c, "iss", "https://issuer.example"));
    assert_jg_ok(jg_claims_set_string(c, "sub", sub));
    const char *aud[] = {"https://api.example"};
    assert_jg_ok(jg_claims_set_aud(c, aud, 1));
    assert_jg_ok(jg_claims_set_int(c, "iat", now - 10));
    assert_jg_ok(jg_claims_set_int(c, "exp", exp));
    assert_jg_ok(jg_claims_set_string(c, "scope", "read write"));
    assert_jg_ok(jg_claims_set_jti_random(c)); /* RFC 9068: every access token has one */
    return c;
}

static jg_open_policy policy_for(jg_alg sig, jg_alg key_alg, jg_enc enc)
{
    jg_open_policy p;
    memset(&p, 0, sizeof p);
    p.jwt.algs = JG_ALG_BIT(sig);
    p.jwt.issuer = "https://issuer.example";
    p.jwt.audience = "https://api.example";
    p.jwt.clock = tu_clock;
    p.jwt.clock_ctx = &now;
    p.key_algs = JG_ALG_BIT(key_alg);
    p.encs = JG_ENC_BIT(enc);
    p.form = JG_FORM_NESTED;
    return p;
}

static char *seal(const pair *p, jg_alg sig, jg_alg key_alg, jg_enc enc, const char *typ,
                  const char *sub, int64_t exp)
{
    jg_claims *c = claims_for(sub, exp);
    jg_seal_opts o = {sig, typ, key_alg, enc};
    char *token = NULL;
    size_t len = 0;
    assert_jg_ok(jg_access_token_seal(c, p->sign, p->enc, &o, &token, &len));
    assert_int_equal(strlen(token), len);
    jg_claims_free(c);
    return token;
}

static jg_err open_with(const char *token, const pair *p, const jg_open_policy *pol,
                        jg_claims **out)
{
    jg_jwks *dk = set_of1(p->decrypt), *vk = set_of1(p->verify);
    jg_err err = jg_access_token_open(token, strlen(token), dk, vk, pol, out);
    jg_jwks_free(dk);
    jg_jwks_free(vk);
    return err;
}

/* ---- round trips ----------------------------------------------------------------- */

static void test_seal_open_round_trips(void **state)
{
    (void)state;
    struct {
        jg_jwk *sign, *decrypt;
        jg_alg sig, key_alg;
        jg_enc enc;
    } cases[] = {
        {gen(JG_KTY_EC, JG_CRV_P256, 0, "iss-es256"), gen(JG_KTY_EC, JG_CRV_P256, 0, "gw-p256"),
         JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM},
        {gen(JG_KTY_EC, JG_CRV_P384, 0, "iss-es384"), gen(JG_KTY_EC, JG_CRV_P521, 0, "gw-p521"),
         JG_ALG_ES384, JG_ALG_ECDH_ES, JG_ENC_A128CBC_HS256},
        {gen(JG_KTY_OKP, JG_CRV_ED25519, 0, "iss-ed"), gen(JG_KTY_OKP, JG_CRV_X25519, 0, "gw-x"),
         JG_ALG_EDDSA, JG_ALG_ECDH_ES_A128KW, JG_ENC_A256GCM},
        {gen(JG_KTY_RSA, JG_CRV_NONE, 2048, "iss-rsa"),
         gen(JG_KTY_RSA, JG_CRV_NONE, 2048, "gw-rsa"), JG_ALG_PS256, JG_ALG_RSA_OAEP_256,
         JG_ENC_A256CBC_HS512},
        {gen(JG_KTY_OCT, JG_CRV_NONE, 256, "iss-hs"), gen(JG_KTY_OCT, JG_CRV_NONE, 256, "gw-kw"),
         JG_ALG_HS256, JG_ALG_A256KW, JG_ENC_A192GCM},
        {gen(JG_KTY_OCT, JG_CRV_NONE, 512, "iss-hs512"),
         gen(JG_KTY_OCT, JG_CRV_NONE, 256, "gw-dir"), JG_ALG_HS512, JG_ALG_DIR,
         JG_ENC_A128CBC_HS256},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pair p = make_pair(cases[i].sign, cases[i].decrypt);
        char *token =
            seal(&p, cases[i].sig, cases[i].key_alg, cases[i].enc, NULL, "alice", now + 600);
        /* Compact JWE with cty JWT and the gateway key's kid. */
        jg_jwks *dk = set_of1(p.decrypt);
        jg_jwe *jwe = NULL;
        assert_jg_ok(decrypt_with(token, dk, 0, NULL, &jwe));
        const char *s = NULL;
        assert_jg_ok(jg_jwe_header_string(jwe, "cty", &s));
        assert_string_equal(s, "JWT");
        assert_jg_ok(jg_jwe_header_string(jwe, "kid", &s));
        assert_string_equal(s, jg_jwk_kid(p.decrypt));
        assert_int_equal(jg_jwe_alg(jwe), cases[i].key_alg);
        assert_int_equal(jg_jwe_enc(jwe), cases[i].enc);
        /* The inner JWS says at+jwt. */
        jg_jwks *vk = set_of1(p.verify);
        jg_jws_verify_opts vo = {.algs = JG_ALG_BIT(cases[i].sig)};
        jg_jws *jws = NULL;
        size_t plen = 0;
        const unsigned char *pt = jg_jwe_plaintext(jwe, &plen);
        assert_jg_ok(jg_jws_verify((const char *)pt, plen, vk, &vo, &jws));
        assert_jg_ok(jg_jws_header_string(jws, "typ", &s));
        assert_string_equal(s, "at+jwt");
        jg_jws_free(jws);
        jg_jwe_free(jwe);

        jg_open_policy pol = policy_for(cases[i].sig, cases[i].key_alg, cases[i].enc);
        jg_claims *claims = NULL;
        assert_jg_ok(jg_access_token_open(token, strlen(token), dk, vk, &pol, &claims));
        assert_jg_ok(jg_claims_get_string(claims, "sub", &s));
        assert_string_equal(s, "alice");
        assert_jg_ok(jg_claims_get_string(claims, "scope", &s));
        assert_string_equal(s, "read write");
        jg_claims_free(claims);
        /* `out` may be NULL: only check. ANY accepts it too. */
        assert_jg_ok(jg_access_token_open(token, strlen(token), dk, vk, &pol, NULL));
        pol.form = JG_FORM_ANY;
        assert_jg_ok(jg_access_token_open(token, strlen(token), dk, vk, &pol, NULL));
        pol.form = JG_FORM_ENCRYPTED;
        assert_jg_ok(jg_access_token_open(token, strlen(token), dk, vk, &pol, NULL));
        pol.form = JG_FORM_SIGNED;
        assert_jg(JG_ERR_TOKEN_FORMAT,
                  jg_access_token_open(token, strlen(token), dk, vk, &pol, NULL));
        jg_jwks_free(dk);
        jg_jwks_free(vk);
        free(token);
        free_pair(&p);
        tu_count("access-token");
    }
}

/* ---- forms ---------------------------------------------------------------------------- */

static pair es_pair(void)
{
    return make_pair(gen(JG_KTY_EC, JG_CRV_P256, 0, "iss"), gen(JG_KTY_EC, JG_CRV_P256, 0, "gw"));
}

static void test_forms(void **state)
{
    (void)state;
    pair p = es_pair();
    jg_open_policy pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);

    /* A bare JWS: refused where encryption is required, accepted otherwise. */
    jg_claims *c = claims_for("bob", now + 60);
    jg_jwt_sign_opts so = {.alg = JG_ALG_ES256, .typ = "at+jwt"};
    char *jws = NULL;
    assert_jg_ok(jg_jwt_sign(c, p.sign, &so, &jws, NULL));
    assert_jg(JG_ERR_NOT_ENCRYPTED, open_with(jws, &p, &pol, NULL));
    pol.form = JG_FORM_ENCRYPTED;
    assert_jg(JG_ERR_NOT_ENCRYPTED, open_with(jws, &p, &pol, NULL));
    pol.form = JG_FORM_SIGNED;
    jg_claims *got = NULL;
    assert_jg_ok(open_with(jws, &p, &pol, &got));
    const char *s = NULL;
    assert_jg_ok(jg_claims_get_string(got, "sub", &s));
    assert_string_equal(s, "bob");
    jg_claims_free(got);
    pol.form = JG_FORM_ANY;
    assert_jg_ok(open_with(jws, &p, &pol, NULL));
    /* SIGNED needs no decryption keys at all. */
    jg_jwks *vk = set_of1(p.verify);
    pol.form = JG_FORM_SIGNED;
    assert_jg_ok(jg_access_token_open(jws, strlen(jws), NULL, vk, &pol, NULL));
    jg_jwks_free(vk);

    /* A JWE holding bare claims (no JWS inside). */
    char *claims_json = NULL;
    assert_jg_ok(jg_claims_to_json(c, 0, &claims_json));
    jg_jwe_recipient r = {p.enc, JG_ALG_ECDH_ES_A256KW, NULL};
    jg_jwe_encrypt_opts eo = {.protected_json = "{\"cty\":\"JWT\"}"};
    char *jwe = NULL;
    assert_jg_ok(jg_jwe_encrypt(claims_json, strlen(claims_json), &r, 1, &eo, &jwe, NULL));
    pol.form = JG_FORM_NESTED;
    assert_jg(JG_ERR_NOT_NESTED, open_with(jwe, &p, &pol, NULL)); /* cty JWT, not a JWS */
    pol.form = JG_FORM_ENCRYPTED;
    assert_jg(JG_ERR_NOT_NESTED, open_with(jwe, &p, &pol, NULL));
    free(jwe);
    eo.protected_json = "{\"typ\":\"at+jwt\"}";
    assert_jg_ok(jg_jwe_encrypt(claims_json, strlen(claims_json), &r, 1, &eo, &jwe, NULL));
    pol.form = JG_FORM_NESTED;
    assert_jg(JG_ERR_NOT_NESTED, open_with(jwe, &p, &pol, NULL)); /* no cty */
    pol.form = JG_FORM_ANY;
    assert_jg(JG_ERR_NOT_NESTED, open_with(jwe, &p, &pol, NULL));
    pol.form = JG_FORM_ENCRYPTED; /* encrypted-only claims are allowed here */
    assert_jg_ok(open_with(jwe, &p, &pol, &got));
    assert_jg_ok(jg_claims_get_string(got, "sub", &s));
    assert_string_equal(s, "bob");
    jg_claims_free(got);
    free(jwe);
    /* No typ (npm jose's EncryptJWT): accepted while jwt.typ is NULL, refused
     * when the caller names a type. */
    eo.protected_json = NULL;
    assert_jg_ok(jg_jwe_encrypt(claims_json, strlen(claims_json), &r, 1, &eo, &jwe, NULL));
    assert_jg_ok(open_with(jwe, &p, &pol, NULL));
    pol.jwt.typ = "at+jwt";
    assert_jg(JG_ERR_TYP, open_with(jwe, &p, &pol, NULL));
    pol.jwt.typ = NULL;
    free(jwe);
    /* typ JWT says no more than its absence; another kind of JWT is refused. */
    static const struct {
        const char *prot, *expected;
        jg_err want;
    } typs[] = {
        {"{\"typ\":\"JWT\"}", NULL, JG_OK},
        {"{\"typ\":\"application/at+jwt\"}", NULL, JG_OK},
        {"{\"typ\":\"logout+jwt\"}", NULL, JG_ERR_TYP},
        {"{\"typ\":\"secevent+jwt\"}", NULL, JG_ERR_TYP},
        {"{\"typ\":\"JWT\"}", "at+jwt", JG_ERR_TYP},
        {"{\"typ\":\"logout+jwt\"}", "logout+jwt", JG_OK},
    };
    for (size_t i = 0; i < sizeof typs / sizeof typs[0]; i++) {
        eo.protected_json = typs[i].prot;
        pol.jwt.typ = typs[i].expected;
        assert_jg_ok(jg_jwe_encrypt(claims_json, strlen(claims_json), &r, 1, &eo, &jwe, NULL));
        jg_err err = open_with(jwe, &p, &pol, NULL);
        if (err != typs[i].want)
            fail_msg("%s with typ %s expected: %s, got %s", typs[i].prot,
                     typs[i].expected ? typs[i].expected : "NULL", jg_err_name(typs[i].want),
                     jg_err_name(err));
        free(jwe);
    }
    pol.jwt.typ = NULL;
    /* Claims directly in the JWE need no verification keys. */
    eo.protected_json = NULL;
    assert_jg_ok(jg_jwe_encrypt(claims_json, strlen(claims_json), &r, 1, &eo, &jwe, NULL));
    jg_jwks *dk_only = set_of1(p.decrypt);
    assert_jg_ok(jg_access_token_open(jwe, strlen(jwe), dk_only, NULL, &pol, NULL));
    free(jwe);
    /* ...but a nested token does. */
    char *nested = NULL;
    jg_seal_opts seal = {.sign_alg = JG_ALG_ES256, .key_alg = JG_ALG_ECDH_ES_A256KW};
    assert_jg_ok(jg_access_token_seal(c, p.sign, p.enc, &seal, &nested, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_access_token_open(nested, strlen(nested), dk_only, NULL, &pol, NULL));
    jg_free(nested);
    jg_jwks_free(dk_only);

    /* cty spelled as a media type; other ctys are not nested. */
    static const struct {
        const char *prot;
        jg_err want;
    } ctys[] = {
        {"{\"cty\":\"application/jwt\"}", JG_OK},
        {"{\"cty\":\"jwt\"}", JG_OK},
        {"{\"cty\":\"JOSE\"}", JG_ERR_NOT_NESTED},
        {"{\"cty\":\"application/JWTx\"}", JG_ERR_NOT_NESTED},
    };
    pol.form = JG_FORM_NESTED;
    for (size_t i = 0; i < sizeof ctys / sizeof ctys[0]; i++) {
        eo.protected_json = ctys[i].prot;
        assert_jg_ok(jg_jwe_encrypt(jws, strlen(jws), &r, 1, &eo, &jwe, NULL));
        assert_jg(ctys[i].want, open_with(jwe, &p, &pol, NULL));
        free(jwe);
        tu_count("access-token");
    }
    jg_free(claims_json);
    free(jws);
    jg_claims_free(c);
    free_pair(&p);
}

/* ---- refusals ------------------------------------------------------------------------- */

static void test_nested_key(void **state)
{
    (void)state;
    /* One RSA key pair both decrypts the JWE and signs the JWS. */
    jg_jwk *rsa = gen(JG_KTY_RSA, JG_CRV_NONE, 2048, "both");
    pair p = {jg_jwk_ref(rsa), public_of(rsa), public_of(rsa), jg_jwk_ref(rsa)};
    char *token = seal(&p, JG_ALG_RS256, JG_ALG_RSA_OAEP, JG_ENC_A256GCM, NULL, "eve", now + 60);
    jg_open_policy pol = policy_for(JG_ALG_RS256, JG_ALG_RSA_OAEP, JG_ENC_A256GCM);
    assert_jg(JG_ERR_NESTED_KEY, open_with(token, &p, &pol, NULL));
    free(token);
    free_pair(&p);
    jg_jwk_free(rsa);

    /* The same 32 bytes as a dir key and as an HS256 key, under two kids. */
    jg_jwk *a = gen(JG_KTY_OCT, JG_CRV_NONE, 256, "enc-copy"), *b = NULL;
    jg_jwk_meta meta = {.kid = "sig-copy"};
    assert_jg_ok(jg_jwk_with_meta(a, &meta, &b));
    pair q = {jg_jwk_ref(b), jg_jwk_ref(b), jg_jwk_ref(a), jg_jwk_ref(a)};
    token = seal(&q, JG_ALG_HS256, JG_ALG_DIR, JG_ENC_A256GCM, NULL, "eve", now + 60);
    pol = policy_for(JG_ALG_HS256, JG_ALG_DIR, JG_ENC_A256GCM);
    assert_jg(JG_ERR_NESTED_KEY, open_with(token, &q, &pol, NULL));
    free(token);
    free_pair(&q);
    jg_jwk_free(a);
    jg_jwk_free(b);
    tu_count("access-token");
}

static void test_claims_and_typ(void **state)
{
    (void)state;
    pair p = es_pair();
    jg_open_policy pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    char *token = seal(&p, JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM, NULL, "x", now - 1);
    assert_jg(JG_ERR_EXPIRED, open_with(token, &p, &pol, NULL));
    pol.jwt.leeway = 5;
    assert_jg_ok(open_with(token, &p, &pol, NULL));
    free(token);

    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    token = seal(&p, JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM, "JWT", "x", now + 60);
    assert_jg(JG_ERR_TYP, open_with(token, &p, &pol, NULL)); /* at+jwt required by default */
    pol.jwt.typ = "application/jwt";
    assert_jg_ok(open_with(token, &p, &pol, NULL));
    free(token);

    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    token = seal(&p, JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM, "application/at+jwt", "x",
                 now + 60);
    assert_jg_ok(open_with(token, &p, &pol, NULL));
    pol.jwt.issuer = "https://other.example";
    assert_jg(JG_ERR_ISSUER, open_with(token, &p, &pol, NULL));
    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    pol.jwt.audience = "https://elsewhere.example";
    assert_jg(JG_ERR_AUDIENCE, open_with(token, &p, &pol, NULL));
    /* Allow-lists of both layers. */
    pol = policy_for(JG_ALG_ES384, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, open_with(token, &p, &pol, NULL));
    pol = policy_for(JG_ALG_ES256, JG_ALG_RSA_OAEP, JG_ENC_A256GCM);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED, open_with(token, &p, &pol, NULL));
    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A128GCM);
    assert_jg(JG_ERR_ENC_NOT_ALLOWED, open_with(token, &p, &pol, NULL));
    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    pol.key_algs = 0;
    assert_jg(JG_ERR_KEY_ALGS_EMPTY, open_with(token, &p, &pol, NULL));
    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    pol.encs = 0;
    assert_jg(JG_ERR_ENCS_EMPTY, open_with(token, &p, &pol, NULL));
    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    pol.jwt.algs = 0;
    assert_jg(JG_ERR_ALGS_EMPTY, open_with(token, &p, &pol, NULL));
    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    pol.encs = JG_ENC_SET_ALL; /* every "enc", A256GCM included */
    assert_jg_ok(open_with(token, &p, &pol, NULL));
    assert_false(JG_ENC_SET_ALL & JG_ENC_BIT(JG_ENC_UNKNOWN));
    /* Wrong keys on either layer. */
    pair other = make_pair(gen(JG_KTY_EC, JG_CRV_P256, 0, "iss-other"),
                           gen(JG_KTY_EC, JG_CRV_P256, 0, "gw-other"));
    pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    jg_jwks *dk = set_of1(p.decrypt), *vk = set_of1(other.verify), *dk2 = set_of1(other.decrypt);
    assert_jg(JG_ERR_KEY_NOT_FOUND,
              jg_access_token_open(token, strlen(token), dk2, vk, &pol, NULL));
    assert_jg(JG_ERR_KEY_NOT_FOUND, jg_access_token_open(token, strlen(token), dk, vk, &pol, NULL));
    /* Other keys under the expected kids. */
    jg_jwk *impostor = NULL, *gw_impostor = NULL;
    jg_jwk_meta meta = {.kid = "iss"}, gw_meta = {.kid = "gw"};
    assert_jg_ok(jg_jwk_with_meta(other.verify, &meta, &impostor));
    assert_jg_ok(jg_jwk_with_meta(other.decrypt, &gw_meta, &gw_impostor));
    jg_jwks *vk2 = set_of1(impostor), *dk3 = set_of1(gw_impostor);
    assert_jg(JG_ERR_SIGNATURE, jg_access_token_open(token, strlen(token), dk, vk2, &pol, NULL));
    assert_jg(JG_ERR_DECRYPT, jg_access_token_open(token, strlen(token), dk3, vk2, &pol, NULL));
    jg_jwks_free(vk2);
    jg_jwks_free(dk3);
    jg_jwk_free(impostor);
    jg_jwk_free(gw_impostor);
    /* Arguments and shapes. */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_access_token_open(NULL, 0, dk, vk, &pol, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_access_token_open(token, strlen(token), dk, vk, NULL, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_access_token_open(token, strlen(token), NULL, vk, &pol, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_access_token_open(token, strlen(token), dk, NULL, &pol, NULL));
    pol.form = (jg_token_form)9;
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_access_token_open(token, strlen(token), dk, vk, &pol, NULL));
    pol.form = JG_FORM_ANY;
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_access_token_open("a.b", 3, dk, vk, &pol, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_access_token_open("{\"x\":1}", 7, dk, vk, &pol, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_access_token_open("{", 1, dk, vk, &pol, NULL));
    jg_limits lim = jg_limits_default();
    lim.max_token_len = 100;
    pol.jwt.limits = &lim;
    assert_jg(JG_ERR_LIMIT_TOKEN_SIZE,
              jg_access_token_open(token, strlen(token), dk, vk, &pol, NULL));
    jg_jwks_free(dk);
    jg_jwks_free(dk2);
    jg_jwks_free(vk);
    free(token);
    free_pair(&other);

    /* Seal refusals come from the layers. */
    jg_claims *c = claims_for("x", now);
    char *out = NULL;
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_access_token_seal(NULL, p.sign, p.enc, NULL, &out, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_access_token_seal(c, p.sign, NULL, NULL, &out, NULL));
    jg_seal_opts so = {.sign_alg = JG_ALG_ES256, .key_alg = JG_ALG_ES256};
    assert_jg(JG_ERR_ALG_KIND, jg_access_token_seal(c, p.sign, p.enc, &so, &out, NULL));
    so = (jg_seal_opts){.sign_alg = JG_ALG_ES256, .key_alg = JG_ALG_RSA_OAEP};
    assert_jg(JG_ERR_KEY_TYPE, jg_access_token_seal(c, p.sign, p.enc, &so, &out, NULL));
    so = (jg_seal_opts){.sign_alg = JG_ALG_ECDH_ES, .key_alg = JG_ALG_ECDH_ES};
    assert_jg(JG_ERR_ALG_KIND, jg_access_token_seal(c, p.sign, p.enc, &so, &out, NULL));
    so = (jg_seal_opts){.sign_alg = JG_ALG_ES256, .key_alg = JG_ALG_ECDH_ES};
    assert_jg(JG_ERR_KEY_NOT_PRIVATE, jg_access_token_seal(c, p.verify, p.enc, &so, &out, NULL));
    assert_null(out);
    jg_claims_free(c);
    free_pair(&p);
}

/* ---- the cookbook's nested example --------------------------------------------------------- */

static int64_t cookbook_now = 1300819000; /* before its exp 1300819380 */

static void test_cookbook_nested(void **state)
{
    (void)state;
    json_t *v = tu_load_vector("jose-cookbook/6.nesting_signatures_and_encryption.json");
    jg_jwk *dec = key_from_json(tu_json_at(v, "encrypt/input/key"));
    jg_jwk *sig = key_from_json(tu_json_at(v, "sign/input/key"));
    jg_jwk *ver = public_of(sig);
    jg_jwks *dk = set_of1(dec), *vk = set_of1(ver);
    jg_open_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.jwt.algs = JG_ALG_BIT(JG_ALG_PS256);
    pol.jwt.typ = "JWT";
    pol.jwt.issuer = "hobbiton.example";
    pol.jwt.clock = tu_clock;
    pol.jwt.clock_ctx = &cookbook_now;
    pol.key_algs = JG_ALG_BIT(JG_ALG_RSA_OAEP);
    pol.encs = JG_ENC_BIT(JG_ENC_A128GCM);
    static const char *const forms[] = {"encrypt/output/compact", "encrypt/output/json",
                                        "encrypt/output/json_flat"};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = tu_json_at(v, forms[i]);
        char *token = json_is_string(o) ? strdup(json_string_value(o)) : tu_json_text(o);
        jg_claims *claims = NULL;
        assert_jg_ok(jg_access_token_open(token, strlen(token), dk, vk, &pol, &claims));
        int b = 0;
        assert_jg_ok(jg_claims_get_bool(claims, "http://example.com/is_root", &b));
        assert_true(b);
        jg_claims_free(claims);
        /* The same done by hand: decrypt, then verify the inner JWS. */
        jg_jwe *jwe = NULL;
        assert_jg_ok(decrypt_with(token, dk, JG_ALG_BIT(JG_ALG_RSA_OAEP), NULL, &jwe));
        size_t plen = 0;
        const unsigned char *pt = jg_jwe_plaintext(jwe, &plen);
        jg_jws_verify_opts vo = {.algs = JG_ALG_BIT(JG_ALG_PS256)};
        jg_jws *jws = NULL;
        assert_jg_ok(jg_jws_verify((const char *)pt, plen, vk, &vo, &jws));
        size_t len = 0;
        const unsigned char *payload = jg_jws_payload(jws, &len);
        const char *want = tu_json_str(v, "sign/input/payload");
        assert_int_equal(len, strlen(want));
        assert_memory_equal(payload, want, len);
        jg_jws_free(jws);
        jg_jwe_free(jwe);
        /* Its exp is long past on the real clock. */
        jg_open_policy late = pol;
        late.jwt.clock = NULL;
        assert_jg(JG_ERR_EXPIRED, jg_access_token_open(token, strlen(token), dk, vk, &late, NULL));
        free(token);
        tu_count("cookbook-nested");
    }
    jg_jwks_free(dk);
    jg_jwks_free(vk);
    jg_jwk_free(dec);
    jg_jwk_free(sig);
    jg_jwk_free(ver);
    json_decref(v);
}

/* RFC 9068 section 2.2: no access token without "exp", "aud" and "jti". */
static void test_seal_requires_rfc9068_claims(void **state)
{
    (void)state;
    pair p = es_pair();
    jg_seal_opts o = {.sign_alg = JG_ALG_ES256, .key_alg = JG_ALG_ECDH_ES_A256KW};
    static const char *const claims_json[] = {
        "{\"aud\":\"a\",\"jti\":\"j\"}",      /* no exp */
        "{\"exp\":2000000000,\"jti\":\"j\"}", /* no aud */
        "{\"exp\":2000000000,\"aud\":\"a\"}", /* no jti */
    };
    for (size_t i = 0; i < sizeof claims_json / sizeof claims_json[0]; i++) {
        jg_claims *c = NULL;
        assert_jg_ok(jg_claims_parse(claims_json[i], strlen(claims_json[i]), NULL, &c));
        char *token = (char *)"untouched";
        jg_err err = jg_access_token_seal(c, p.sign, p.enc, &o, &token, NULL);
        if (err != JG_ERR_ACCESS_TOKEN_CLAIMS)
            fail_msg("%s: expected JG_ERR_ACCESS_TOKEN_CLAIMS, got %s", claims_json[i],
                     jg_err_name(err));
        assert_null(token);
        jg_claims_free(c);
    }
    /* The three, and nothing else, are enough; an array aud too. */
    const char *ok = "{\"exp\":2000000000,\"aud\":[\"a\",\"b\"],\"jti\":\"j\"}";
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_parse(ok, strlen(ok), NULL, &c));
    char *token = NULL;
    assert_jg_ok(jg_access_token_seal(c, p.sign, p.enc, &o, &token, NULL));
    jg_free(token);
    jg_claims_free(c);
    free_pair(&p);
}

/* The issuer's helpers: iat/exp from a clock and a lifetime, a random jti. */
static void test_issue_helpers(void **state)
{
    (void)state;
    jg_claims *c = NULL;
    assert_jg_ok(jg_claims_new(&c));
    assert_jg_ok(jg_claims_set_times(c, 1700000000, 900));
    int64_t iat = 0, exp = 0;
    assert_jg_ok(jg_claims_get_int(c, "iat", &iat));
    assert_jg_ok(jg_claims_get_int(c, "exp", &exp));
    assert_int_equal(iat, 1700000000);
    assert_int_equal(exp, 1700000900);
    assert_jg_ok(jg_claims_set_times(c, 1800000000, 60)); /* replaces */
    assert_jg_ok(jg_claims_get_int(c, "exp", &exp));
    assert_int_equal(exp, 1800000060);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_times(c, 1700000000, 0));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_times(c, -1, 60));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_times(c, INT64_MAX - 10, 11));
    assert_jg_ok(jg_claims_set_times(c, INT64_MAX - 10, 10));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_times(NULL, 1, 1));

    const char *jti = NULL;
    assert_jg_ok(jg_claims_set_jti_random(c));
    assert_jg_ok(jg_claims_get_string(c, "jti", &jti));
    assert_int_equal(strlen(jti), 22);
    char first[23];
    memcpy(first, jti, sizeof first);
    unsigned char raw[16];
    size_t n = 0;
    assert_jg_ok(jg_b64url_decode(first, 22, raw, &n));
    assert_int_equal(n, 16);
    assert_jg_ok(jg_claims_set_jti_random(c));
    assert_jg_ok(jg_claims_get_string(c, "jti", &jti));
    assert_string_not_equal(first, jti);
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_claims_set_jti_random(NULL));
    jg_claims_free(c);
}

/* ---- threads ------------------------------------------------------------------------------- */

typedef struct shared {
    const jg_jwks *dk, *vk;
    const jg_open_policy *pol;
    char **tokens;
    size_t n;
    int failures;
} shared;

static void *opener(void *arg)
{
    shared *s = arg;
    int failures = 0;
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < s->n; i++) {
            jg_claims *c = NULL;
            jg_err err =
                jg_access_token_open(s->tokens[i], strlen(s->tokens[i]), s->dk, s->vk, s->pol, &c);
            const char *sub = NULL;
            char want[32];
            snprintf(want, sizeof want, "user-%zu", i);
            if (err != JG_OK || jg_claims_get_string(c, "sub", &sub) != JG_OK ||
                strcmp(sub, want) != 0)
                failures++;
            jg_claims_free(c);
        }
    }
    return (void *)(intptr_t)failures;
}

static void test_two_threads_shared_keys(void **state)
{
    (void)state;
    /* Two issuers, two gateway keys of different kinds, one set each. */
    jg_jwk *iss1 = gen(JG_KTY_EC, JG_CRV_P256, 0, "iss-1"),
           *iss2 = gen(JG_KTY_OKP, JG_CRV_ED25519, 0, "iss-2");
    jg_jwk *gw1 = gen(JG_KTY_EC, JG_CRV_P256, 0, "gw-1"),
           *gw2 = gen(JG_KTY_OKP, JG_CRV_X25519, 0, "gw-2");
    jg_jwk *v1 = public_of(iss1), *v2 = public_of(iss2), *e1 = public_of(gw1), *e2 = public_of(gw2);
    jg_jwk *dks[2] = {gw1, gw2}, *vks[2] = {v1, v2};
    jg_jwks *dk = set_of(dks, 2), *vk = set_of(vks, 2);
    enum { N = 8 };
    char *tokens[N];
    for (size_t i = 0; i < N; i++) {
        char sub[32];
        snprintf(sub, sizeof sub, "user-%zu", i);
        jg_claims *c = claims_for(sub, now + 600);
        jg_seal_opts o = {.key_alg = JG_ALG_ECDH_ES_A256KW, .enc = JG_ENC_A256GCM};
        o.sign_alg = i % 2 ? JG_ALG_EDDSA : JG_ALG_ES256;
        assert_jg_ok(
            jg_access_token_seal(c, i % 2 ? iss2 : iss1, i % 3 ? e1 : e2, &o, &tokens[i], NULL));
        jg_claims_free(c);
    }
    jg_open_policy pol = policy_for(JG_ALG_ES256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    pol.jwt.algs |= JG_ALG_BIT(JG_ALG_EDDSA);
    shared s = {dk, vk, &pol, tokens, N, 0};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, opener, &s), 0);
    for (int i = 0; i < 2; i++) {
        void *ret = NULL;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_int_equal((intptr_t)ret, 0);
    }
    tu_count("threaded-opens");
    for (size_t i = 0; i < N; i++)
        free(tokens[i]);
    jg_jwks_free(dk);
    jg_jwks_free(vk);
    jg_jwk *all[] = {iss1, iss2, gw1, gw2, v1, v2, e1, e2};
    for (size_t i = 0; i < 8; i++)
        jg_jwk_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_open_round_trips),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_seal_requires_rfc9068_claims),
        cmocka_unit_test(test_issue_helpers),
        cmocka_unit_test(test_nested_key),
        cmocka_unit_test(test_claims_and_typ),
        cmocka_unit_test(test_cookbook_nested),
        cmocka_unit_test(test_two_threads_shared_keys),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tu_report("test_access_token");
    return failed;
}
