/*
 * test_attacks.c — the known attacks on JOSE implementations, one test per
 * attack, each named after it and each requiring the specific error code
 * the library answers with. Read top to bottom, this is the list an auditor
 * asks for; the broader negative tests live in test_jws_negative.c,
 * test_jwe_negative.c and test_access_token.c.
 *
 * Every forged token is otherwise well made (correct MAC or tag where the
 * attack allows one), so that the refusal comes from the defence under test
 * and not from some unrelated fault.
 *
 *   Signatures: alg "none" (alone and nested); HMAC keyed with an RSA or EC
 *   public key (PEM, JWK text); a JWK "alg" that disagrees with the token;
 *   ECDSA psychic signatures (r or s zero or >= n) on ES256/384/512;
 *   signatures of the wrong length.
 *   Key agreement: ephemeral keys off the curve, on another curve, at
 *   infinity; X25519/X448 small-order points.
 *   Work: huge PBES2 p2c; zip bombs; "zip" outside the protected header.
 *   Headers: unknown, empty and unprotected "crit"; duplicate JSON members;
 *   a name in both protected and unprotected headers.
 *   Confusion: a JWS where a nested JWE is required and the reverse; an
 *   inner JWS signed with a decryption key.
 *   Key selection: embedded "jwk"/"jku"/"x5u"/"x5c" never trusted; hostile
 *   "kid" values only compared.
 *   Encryption: RSA1_5 padding oracle; short GCM tags; truncated CBC-HS
 *   tags; all-zero or wrong-length "dir" keys; RSA under 2048 bits; HMAC
 *   keys shorter than the hash.
 *   Limits: a 1 MiB token, JSON nested 10,000 deep, 10,000 recipients,
 *   10,000 signatures.
 */
#include <stdint.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "jwe_forge.h"
#include "jws/sig.h"
#include "jws_testlib.h"
#include "tu_jwk.h"

/* ---- keys ---------------------------------------------------------------------- */

static jg_jwk *rsa, *rsa_pub, *p256, *p256_pub, *p384, *p521, *ed25519, *x25519, *x448;
static jg_jwk *hs, *dir32, *pwd;

static const unsigned char hs_secret[32] = "attack-suite-secret-0123456789ab";
static const unsigned char dir_secret[32] = "attack-suite-dir-key-0123456789a";

static jg_jwk *pem_key(const char *file, const char *kid, unsigned flags, jg_err want)
{
    size_t len = 0;
    char *text = tu_read_file(tu_vector_path(file), &len);
    jg_jwk_meta meta = {.kid = kid};
    jg_jwk *key = NULL;
    assert_jg(want, jg_jwk_from_pem(text, len, &meta, flags, &key));
    free(text);
    return key;
}

static jg_jwk *secret_key(const unsigned char *bytes, size_t len, const char *kid, jg_alg alg)
{
    jg_jwk_meta meta = {.kid = kid, .alg = alg};
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_from_secret(bytes, len, &meta, &key));
    return key;
}

static int setup(void **state)
{
    (void)state;
    rsa = pem_key("pem/rsa2048.p8.pem", "rsa", 0, JG_OK);
    rsa_pub = tk_verifier(rsa);
    p256 = pem_key("pem/ec-P-256.p8.pem", "p256", 0, JG_OK);
    p256_pub = tk_verifier(p256);
    p384 = pem_key("pem/ec-P-384.p8.pem", "p384", 0, JG_OK);
    p521 = pem_key("pem/ec-P-521.p8.pem", "p521", 0, JG_OK);
    ed25519 = pem_key("pem/ed25519.p8.pem", "ed25519", 0, JG_OK);
    x25519 = pem_key("pem/x25519.p8.pem", "x25519", 0, JG_OK);
    x448 = pem_key("pem/x448.p8.pem", "x448", 0, JG_OK);
    hs = secret_key(hs_secret, sizeof hs_secret, "hs", JG_ALG_UNKNOWN);
    dir32 = secret_key(dir_secret, sizeof dir_secret, "dir32", JG_ALG_DIR);
    pwd = secret_key((const unsigned char *)"correct horse battery", 21, "pwd", JG_ALG_UNKNOWN);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jg_jwk *all[] = {rsa,     rsa_pub, p256, p256_pub, p384,  p521,
                     ed25519, x25519,  x448, hs,       dir32, pwd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        jg_jwk_free(all[i]);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static const char *claims = "{\"sub\":\"eve\",\"scope\":\"admin\"}";

/*
 * Bound on the time of one refusal: 2 s, times JG_TEST_TIME_FACTOR when the
 * environment sets it (scripts/valgrind does: memcheck runs code ~50 times
 * slower). The refusals take well under 20 ms natively.
 */
static double time_bound_ms(void)
{
    const char *factor = getenv("JG_TEST_TIME_FACTOR");
    double f = factor != NULL ? strtod(factor, NULL) : 1.0;
    return 2000.0 * (f >= 1.0 ? f : 1.0);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* header.payload.signature from a header and payload text and raw signature bytes. */
static char *compact3(const char *header, const char *payload, const void *sig, size_t sig_len)
{
    char *h = b64e(header, strlen(header)), *p = b64e(payload, strlen(payload));
    char *s = b64e(sig != NULL ? sig : "", sig_len);
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *out = malloc(n);
    snprintf(out, n, "%s.%s.%s", h, p, s);
    free(h);
    free(p);
    free(s);
    return out;
}

/* A compact JWS with any header text, its HS256 MAC made with `secret`: the
 * attacker's tool when the header is one jg_jws_sign() refuses to write. */
static char *hs256_forge(const void *secret, size_t secret_len, const char *header,
                         const char *payload)
{
    char *unsigned_token = compact3(header, payload, NULL, 0);
    size_t input_len = strlen(unsigned_token) - 1; /* without the final '.' */
    unsigned char mac[32];
    size_t mac_len = 0;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_len,
                              (const unsigned char *)unsigned_token, input_len, mac, sizeof mac,
                              &mac_len));
    unsigned_token[input_len] = '\0';
    char *sig = b64e(mac, mac_len);
    size_t n = input_len + strlen(sig) + 2;
    char *out = malloc(n);
    snprintf(out, n, "%s.%s", unsigned_token, sig);
    free(sig);
    free(unsigned_token);
    return out;
}

static char *sign_compact(const jg_jwk *key, jg_alg alg, const char *protected_json)
{
    jg_jws_signer s = {.key = key, .alg = alg, .protected_json = protected_json};
    char *token = NULL;
    assert_jg_ok(jg_jws_sign(claims, strlen(claims), &s, NULL, &token, NULL));
    return token;
}

static char *sign_flattened(const jg_jwk *key, jg_alg alg)
{
    jg_jws_signer s = {.key = key, .alg = alg};
    jg_jws_sign_opts o = {.format = JG_FORMAT_FLATTENED};
    char *token = NULL;
    assert_jg_ok(jg_jws_sign(claims, strlen(claims), &s, &o, &token, NULL));
    return token;
}

static jg_err verify_set(const char *token, const jg_jwks *keys, jg_alg_set algs)
{
    jg_jws_verify_opts opts = tk_opts(algs);
    jg_jws *jws = NULL;
    jg_err err = jg_jws_verify(token, strlen(token), keys, &opts, &jws);
    assert_true((err == JG_OK) == (jws != NULL));
    jg_jws_free(jws);
    return err;
}

static jg_err verify_with(const char *token, const jg_jwk *key, jg_alg_set algs)
{
    jg_jwks *keys = tk_set((jg_jwk *const *)&key, 1);
    jg_err err = verify_set(token, keys, algs);
    jg_jwks_free(keys);
    return err;
}

/* Every JWS algorithm: the verifier accepts them all, so only the defence
 * under test can refuse. */
static jg_alg_set all_jws_algs(void)
{
    return JG_ALGS_HMAC | JG_ALGS_ASYMMETRIC_SIG;
}

static char *encrypt_to(const jg_jwk *key, jg_alg alg, jg_enc enc, const char *prot, const void *pt,
                        size_t pt_len, jg_format format, int zip)
{
    jg_jwe_recipient r = {key, alg, NULL};
    jg_jwe_encrypt_opts o = {
        .enc = enc, .format = format, .zip = zip, .protected_json = prot, .pbes2_count = 1000};
    char *token = NULL;
    assert_jg_ok(jg_jwe_encrypt(pt, pt_len, &r, 1, &o, &token, NULL));
    return token;
}

static jg_err decrypt_one(const char *token, const jg_jwk *key, jg_alg_set algs,
                          const jg_limits *limits)
{
    jg_jwks *keys = set_of1((jg_jwk *)key);
    jg_jwe *jwe = NULL;
    jg_err err = decrypt_with(token, keys, algs, limits, &jwe);
    assert_true((err == JG_OK) == (jwe != NULL));
    jg_jwe_free(jwe);
    jg_jwks_free(keys);
    return err;
}

/* A JSON token with one member of the object at `path` ("" for the root)
 * set from JSON text. */
static char *json_token_with(const char *token, const char *path, const char *name,
                             const char *value_json)
{
    json_t *root = tu_json_parse(token);
    json_t *obj = path[0] != '\0' ? tu_json_at(root, path) : root;
    if (obj == NULL) {
        assert_int_equal(json_object_set_new(root, path, json_object()), 0);
        obj = json_object_get(root, path);
    }
    json_t *value = json_loads(value_json, JSON_DECODE_ANY, NULL);
    assert_non_null(value);
    assert_int_equal(json_object_set_new(obj, name, value), 0);
    char *out = tu_json_text(root);
    json_decref(root);
    return out;
}

/* The inner JWS text of a nested token sealed by hand: JWE(cty JWT) around
 * `jws` for `enc_key`. */
static char *nest(const char *jws, const jg_jwk *enc_key, jg_alg key_alg)
{
    return encrypt_to(enc_key, key_alg, JG_ENC_A256GCM, "{\"cty\":\"JWT\"}", jws, strlen(jws),
                      JG_FORMAT_COMPACT, 0);
}

static jg_open_policy open_policy(jg_token_form form)
{
    jg_open_policy p;
    memset(&p, 0, sizeof p);
    p.jwt.algs = all_jws_algs();
    p.jwt.allow_missing_exp = 1;
    p.jwt.typ = "JWT";
    p.key_algs = all_jwe_algs();
    p.encs = all_encs();
    p.form = form;
    return p;
}

static jg_err open_token(const char *token, jg_jwk *const *decrypt, size_t nd,
                         jg_jwk *const *verify, size_t nv, jg_token_form form)
{
    jg_jwks *dk = set_of(decrypt, nd), *vk = set_of(verify, nv);
    jg_open_policy pol = open_policy(form);
    jg_claims *out = NULL;
    jg_err err = jg_access_token_open(token, strlen(token), dk, vk, &pol, &out);
    assert_true((err == JG_OK) == (out != NULL));
    jg_claims_free(out);
    jg_jwks_free(dk);
    jg_jwks_free(vk);
    return err;
}

/* ==== Signatures ================================================================= */

/* alg "none" is refused whatever else the token says; it cannot even be put
 * in an allow-list, and its case variants are simply unknown names. */
static void test_alg_none(void **state)
{
    (void)state;
    jg_jwks *keys = tk_verify_set(&hs, 1);
    char *token = compact3("{\"alg\":\"none\"}", claims, NULL, 0);
    assert_jg(JG_ERR_ALG_NONE, verify_set(token, keys, all_jws_algs()));
    jg_jwt_policy pol = {.algs = all_jws_algs(), .allow_missing_exp = 1};
    assert_jg(JG_ERR_ALG_NONE, jg_jwt_verify(token, strlen(token), keys, &pol, NULL));
    free(token);
    /* With a signature, a kid of a real key, or in the JSON serializations. */
    token = compact3("{\"alg\":\"none\",\"kid\":\"hs\"}", claims, "sig", 3);
    assert_jg(JG_ERR_ALG_NONE, verify_set(token, keys, all_jws_algs()));
    free(token);
    const char *json[] = {
        "{\"payload\":\"e30\",\"protected\":\"eyJhbGciOiJub25lIn0\",\"signature\":\"\"}",
        "{\"payload\":\"e30\",\"header\":{\"alg\":\"none\"},\"signature\":\"\"}"};
    for (size_t i = 0; i < 2; i++)
        assert_jg(JG_ERR_ALG_NONE, verify_set(json[i], keys, all_jws_algs()));
    const char *variants[] = {"{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}", "{\"alg\":\"none \"}"};
    for (size_t i = 0; i < 3; i++) {
        token = compact3(variants[i], claims, NULL, 0);
        assert_jg(JG_ERR_ALG_UNKNOWN, verify_set(token, keys, all_jws_algs()));
        free(token);
    }
    jg_alg_set set = 0;
    assert_jg(JG_ERR_ALG_NONE, jg_alg_set_parse("HS256,none", &set));
    assert_int_equal(jg_alg_from_name("none", 4), JG_ALG_UNKNOWN);
    jg_jwks_free(keys);
}

/* The same inside a nested token: the outer JWE is authentic, the inner
 * JWS says "none". */
static void test_alg_none_nested(void **state)
{
    (void)state;
    char *inner = compact3("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, NULL, 0);
    char *token = nest(inner, p256_pub, JG_ALG_ECDH_ES_A256KW);
    assert_jg(JG_ERR_ALG_NONE, open_token(token, &p256, 1, &rsa_pub, 1, JG_FORM_NESTED));
    assert_jg(JG_ERR_ALG_NONE, open_token(inner, &p256, 1, &rsa_pub, 1, JG_FORM_ANY));
    free(token);
    free(inner);
}

/* HS256 keyed with the bytes an attacker can read: the verifier's public
 * key as PEM. An RSA or EC key is never an HMAC key, whatever the allow-list. */
static void test_alg_confusion_hmac_keyed_with_pem_public_key(void **state)
{
    (void)state;
    const struct {
        const char *file;
        jg_alg real;
    } cases[] = {{"pem/rsa2048.spki.pem", JG_ALG_RS256},
                 {"pem/rsa2048.pkcs1pub.pem", JG_ALG_RS256},
                 {"pem/ec-P-256.spki.pem", JG_ALG_ES256}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 0;
        char *pem = tu_read_file(tu_vector_path(cases[i].file), &len);
        jg_jwk *victim = pem_key(cases[i].file, "victim", 0, JG_OK);
        jg_jwk_meta none = {0};
        jg_jwk *as_secret = NULL;
        assert_jg_ok(jg_jwk_from_secret((const unsigned char *)pem, len, &none, &as_secret));
        const char *headers[] = {NULL, "{\"kid\":\"victim\"}"};
        for (size_t h = 0; h < 2; h++) {
            char *token = sign_compact(as_secret, JG_ALG_HS256, headers[h]);
            assert_jg(JG_ERR_KEY_TYPE,
                      verify_with(token, victim, JG_ALG_BIT(cases[i].real) | JG_ALGS_HMAC));
            free(token);
        }
        jg_jwk_free(as_secret);
        jg_jwk_free(victim);
        free(pem);
    }
}

/* The same with the public JWK's JSON text (as served from a JWKS URL). */
static void test_alg_confusion_hmac_keyed_with_jwk_public_key(void **state)
{
    (void)state;
    const jg_jwk *victims[] = {rsa_pub, p256_pub};
    for (size_t i = 0; i < 2; i++) {
        char *text = NULL;
        size_t len = 0;
        assert_jg_ok(jg_jwk_to_json(victims[i], 0, &text, &len));
        jg_jwk *as_secret = secret_key((const unsigned char *)text, len, NULL, JG_ALG_UNKNOWN);
        for (int alg = JG_ALG_HS256; alg <= JG_ALG_HS512; alg++) {
            char *token = sign_compact(as_secret, (jg_alg)alg, NULL);
            assert_jg(JG_ERR_KEY_TYPE, verify_with(token, victims[i], all_jws_algs()));
            free(token);
        }
        jg_jwk_free(as_secret);
        jg_free(text);
    }
}

/* A key whose JWK names its algorithm is used with that one only, even when
 * the allow-list and the key type would permit the token's. */
static void test_jwk_alg_disagrees_with_token(void **state)
{
    (void)state;
    jg_jwk_meta ps256 = {.kid = "rsa", .alg = JG_ALG_PS256};
    jg_jwk *rsa_ps = NULL;
    assert_jg_ok(jg_jwk_with_meta(rsa_pub, &ps256, &rsa_ps));
    char *token = sign_compact(rsa, JG_ALG_RS256, NULL);
    assert_jg_ok(verify_with(token, rsa_pub, all_jws_algs()));
    assert_jg(JG_ERR_KEY_ALG, verify_with(token, rsa_ps, all_jws_algs()));
    free(token);

    jg_jwk *hs512 = secret_key(hs_secret, sizeof hs_secret, "hs", JG_ALG_HS512);
    token = sign_compact(hs, JG_ALG_HS256, NULL);
    assert_jg(JG_ERR_KEY_ALG, verify_with(token, hs512, all_jws_algs()));
    free(token);

    /* JWE: an RSA key for RSA-OAEP-256 does not decrypt RSA-OAEP. */
    jg_jwk_meta oaep256 = {.kid = "rsa", .alg = JG_ALG_RSA_OAEP_256};
    jg_jwk *rsa_oaep256 = NULL;
    assert_jg_ok(jg_jwk_with_meta(rsa, &oaep256, &rsa_oaep256));
    token =
        encrypt_to(rsa_pub, JG_ALG_RSA_OAEP, JG_ENC_A128GCM, NULL, "x", 1, JG_FORMAT_COMPACT, 0);
    assert_jg(JG_ERR_KEY_ALG, decrypt_one(token, rsa_oaep256, 0, NULL));
    free(token);
    jg_jwk_free(rsa_oaep256);
    jg_jwk_free(hs512);
    jg_jwk_free(rsa_ps);
}

/* Replace the signature of a compact token by `len` raw bytes. */
static char *with_signature(const char *token, const unsigned char *raw, size_t len)
{
    char *sig = b64e(raw, len);
    char *out = replace_part(token, 2, sig);
    free(sig);
    return out;
}

/* CVE-2022-21449: r = s = 0 verified everything in Java 15-18. r and s must
 * be in [1, n-1]; checked before any crypto, on every curve. */
static void test_ecdsa_psychic_signatures(void **state)
{
    (void)state;
    const struct {
        jg_jwk *key;
        jg_alg alg;
        jg_crv crv;
    } curves[] = {{p256, JG_ALG_ES256, JG_CRV_P256},
                  {p384, JG_ALG_ES384, JG_CRV_P384},
                  {p521, JG_ALG_ES512, JG_CRV_P521}};
    for (size_t c = 0; c < 3; c++) {
        const jg__curve_info *info = jg__curve(curves[c].crv);
        size_t n = info->coord_len;
        char *good = sign_compact(curves[c].key, curves[c].alg, NULL);
        size_t sig_len = 0;
        unsigned char *valid = tk_b64_decode(strrchr(good, '.') + 1, &sig_len);
        assert_int_equal(sig_len, 2 * n);
        unsigned char sig[2 * 66], ones[66];
        memset(ones, 0xff, sizeof ones);
        /* (r, s) as (source of r, source of s); NULL = zero. */
        const unsigned char *cases[][2] = {
            {NULL, NULL},              /* the psychic signature */
            {NULL, valid + n},         /* r = 0 */
            {valid, NULL},             /* s = 0 */
            {info->order, valid + n},  /* r = n */
            {valid, info->order},      /* s = n */
            {ones, valid + n},         /* r > n */
            {info->order, info->order} /* r = s = n */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            for (int half = 0; half < 2; half++) {
                if (cases[i][half] == NULL)
                    memset(sig + half * n, 0, n);
                else
                    memcpy(sig + half * n, cases[i][half], n);
            }
            char *token = with_signature(good, sig, 2 * n);
            assert_jg(JG_ERR_SIGNATURE_RANGE, verify_with(token, curves[c].key, all_jws_algs()));
            free(token);
        }
        /* n - 1 is in range: refused only because it does not verify. */
        memcpy(sig, info->order, n);
        sig[n - 1]--;
        memcpy(sig + n, valid + n, n);
        char *token = with_signature(good, sig, 2 * n);
        assert_jg(JG_ERR_SIGNATURE, verify_with(token, curves[c].key, all_jws_algs()));
        free(token);
        assert_jg_ok(verify_with(good, curves[c].key, all_jws_algs()));
        free(valid);
        free(good);
    }
}

/* A signature must have exactly its algorithm's length: no truncated MACs,
 * no DER-encoded ECDSA, no RSA signatures padded or cut. */
static void test_signature_wrong_length(void **state)
{
    (void)state;
    const struct {
        jg_jwk *key;
        jg_alg alg;
        size_t len;
    } cases[] = {{hs, JG_ALG_HS256, 32},   {rsa, JG_ALG_RS256, 256},  {rsa, JG_ALG_PS256, 256},
                 {p256, JG_ALG_ES256, 64}, {p521, JG_ALG_ES512, 132}, {ed25519, JG_ALG_EDDSA, 64}};
    unsigned char junk[600];
    memset(junk, 0x42, sizeof junk);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *good = sign_compact(cases[i].key, cases[i].alg, NULL);
        size_t lens[] = {
            0, 1, cases[i].len / 2, cases[i].len - 1, cases[i].len + 1, 2 * cases[i].len};
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            char *token = with_signature(good, junk, lens[l]);
            assert_jg(JG_ERR_SIGNATURE_LENGTH, verify_with(token, cases[i].key, all_jws_algs()));
            free(token);
        }
        free(good);
    }
    /* The DER form OpenSSL produces for ES256 is not the JWS form. */
    char *good = sign_compact(p256, JG_ALG_ES256, NULL);
    size_t raw_len = 0;
    unsigned char *raw = tk_b64_decode(strrchr(good, '.') + 1, &raw_len);
    unsigned char der[JG__ECDSA_DER_MAX];
    size_t der_len = jg__ecdsa_raw_to_der(raw, 32, der);
    char *token = with_signature(good, der, der_len);
    assert_jg(JG_ERR_SIGNATURE_LENGTH, verify_with(token, p256, all_jws_algs()));
    free(token);
    free(raw);
    free(good);
}

/* ==== Key agreement =============================================================== */

/* An ECDH-ES token to `key` whose "epk" is replaced by `epk_json`. The tag no
 * longer matches, but the ephemeral key is refused before any of that. */
static char *with_epk(const jg_jwk *key, const char *epk_json)
{
    jg_jwk *pub = tk_verifier((jg_jwk *)key);
    char *token =
        encrypt_to(pub, JG_ALG_ECDH_ES_A128KW, JG_ENC_A128GCM, NULL, "x", 1, JG_FORMAT_COMPACT, 0);
    char *out = with_member_json(token, "epk", epk_json);
    jg_free(token);
    jg_jwk_free(pub);
    return out;
}

static char *epk_text(const char *kty, const char *crv, const unsigned char *x,
                      const unsigned char *y, size_t len)
{
    char *xs = b64e(x, len), *ys = y ? b64e(y, len) : NULL;
    char *out = malloc(512);
    if (ys != NULL)
        snprintf(out, 512, "{\"kty\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", kty, crv,
                 xs, ys);
    else
        snprintf(out, 512, "{\"kty\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\"}", kty, crv, xs);
    free(xs);
    free(ys);
    return out;
}

/* The public point of an EC key as x, y (coord_len bytes each). */
static void ec_point(const jg_jwk *key, unsigned char *x, unsigned char *y, size_t len)
{
    BIGNUM *bx = NULL, *by = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by), 1);
    assert_int_equal(BN_bn2binpad(bx, x, (int)len), (int)len);
    assert_int_equal(BN_bn2binpad(by, y, (int)len), (int)len);
    BN_free(bx);
    BN_free(by);
}

/* The three EC recipient keys, their curve names and coordinate sizes. */
typedef struct ec_case {
    jg_jwk *key;
    const char *crv;
    size_t len;
} ec_case;

static const ec_case *ec_cases(void)
{
    static ec_case cases[3];
    cases[0] = (ec_case){p256, "P-256", 32};
    cases[1] = (ec_case){p384, "P-384", 48};
    cases[2] = (ec_case){p521, "P-521", 66};
    return cases;
}

/* Invalid-curve attack: a point that is not on the recipient's curve makes
 * the scalar multiplication leak the private key modulo small orders. */
static void test_ecdh_es_epk_not_on_curve(void **state)
{
    (void)state;
    const ec_case *cases = ec_cases();
    for (size_t i = 0; i < 3; i++) {
        unsigned char x[66], y[66];
        jg_jwk *eph = NULL;
        assert_jg_ok(jg_jwk_generate(JG_KTY_EC, jg_jwk_crv(cases[i].key), 0, NULL, &eph));
        ec_point(eph, x, y, cases[i].len);
        y[cases[i].len - 1] ^= 1; /* (x, y+-1) is not on the curve */
        char *epk = epk_text("EC", cases[i].crv, x, y, cases[i].len);
        char *token = with_epk(cases[i].key, epk);
        assert_jg(JG_ERR_EPK_INVALID, decrypt_one(token, cases[i].key, 0, NULL));
        free(token);
        free(epk);
        jg_jwk_free(eph);
    }
}

/* A point of another curve: P-384 for a P-256 key (labelled as itself or as
 * P-256), a secp256k1 point of the same size labelled P-256, an X25519 key. */
static void test_ecdh_es_epk_on_another_curve(void **state)
{
    (void)state;
    unsigned char x[66], y[66];
    ec_point(p384, x, y, 48);
    char *epk[4];
    epk[0] = epk_text("EC", "P-384", x, y, 48);
    epk[1] = epk_text("EC", "P-256", x, y, 48);
    EVP_PKEY *k1 = EVP_EC_gen("secp256k1");
    assert_non_null(k1);
    jg_jwk fake = {.pkey = k1};
    ec_point(&fake, x, y, 32);
    epk[2] = epk_text("EC", "P-256", x, y, 32);
    EVP_PKEY_free(k1);
    unsigned char u[32] = {9}; /* the X25519 base point */
    epk[3] = epk_text("OKP", "X25519", u, NULL, 32);
    for (size_t i = 0; i < 4; i++) {
        char *token = with_epk(p256, epk[i]);
        assert_jg(JG_ERR_EPK_INVALID, decrypt_one(token, p256, 0, NULL));
        free(token);
        free(epk[i]);
    }
}

/* The point at infinity has no affine coordinates; (0, 0) is what a naive
 * encoder would send for it. */
static void test_ecdh_es_epk_point_at_infinity(void **state)
{
    (void)state;
    unsigned char zero[66] = {0};
    const ec_case *cases = ec_cases();
    for (size_t i = 0; i < 3; i++) {
        char *epk = epk_text("EC", cases[i].crv, zero, zero, cases[i].len);
        char *token = with_epk(cases[i].key, epk);
        assert_jg(JG_ERR_EPK_INVALID, decrypt_one(token, cases[i].key, 0, NULL));
        free(token);
        free(epk);
    }
}

static void hex(const char *text, unsigned char *out)
{
    for (size_t i = 0; text[2 * i] != '\0'; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(text + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

/* Small-order points give the all-zero shared secret (RFC 7748 section 6):
 * every key agreement with them yields the same, public, CEK. */
static void test_x25519_x448_low_order_points(void **state)
{
    (void)state;
    /* Little-endian u-coordinates of the points of order 1, 2, 4 and 8,
     * canonical and not (p, p + 1); each also with the top bit set, which
     * X25519 masks off. */
    static const char *const x25519_points[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    for (size_t i = 0; i < sizeof x25519_points / sizeof x25519_points[0]; i++) {
        for (int top = 0; top < 2; top++) {
            unsigned char u[32];
            hex(x25519_points[i], u);
            if (top)
                u[31] |= 0x80;
            char *epk = epk_text("OKP", "X25519", u, NULL, 32);
            char *token = with_epk(x25519, epk);
            assert_jg(JG_ERR_EPK_INVALID, decrypt_one(token, x25519, 0, NULL));
            free(token);
            free(epk);
        }
    }
    /* X448: 0, 1, p - 1 (order 2), p and p + 1 (0 and 1 not reduced). */
    unsigned char u[56];
    for (int k = 0; k < 5; k++) {
        memset(u, 0xff, sizeof u);
        switch (k) {
        case 0:
            memset(u, 0, sizeof u);
            break;
        case 1:
            memset(u, 0, sizeof u);
            u[0] = 1;
            break;
        case 2: /* p - 1 = 2^448 - 2^224 - 2 */
            u[0] = 0xfe;
            u[28] = 0xfe;
            break;
        case 3: /* p = 2^448 - 2^224 - 1 */
            u[28] = 0xfe;
            break;
        default: /* p + 1 = 2^448 - 2^224 */
            memset(u, 0, 28);
            break;
        }
        char *epk = epk_text("OKP", "X448", u, NULL, 56);
        char *token = with_epk(x448, epk);
        assert_jg(JG_ERR_EPK_INVALID, decrypt_one(token, x448, 0, NULL));
        free(token);
        free(epk);
    }
}

/* ==== Work ======================================================================== */

/* p2c is the attacker's knob on our CPU: refused above the limit before a
 * single iteration (2^31 iterations would take hours). */
static void test_pbes2_huge_p2c(void **state)
{
    (void)state;
    char *token = encrypt_to(pwd, JG_ALG_PBES2_HS512_A256KW, JG_ENC_A256GCM, NULL, "x", 1,
                             JG_FORMAT_COMPACT, 0);
    const char *counts[] = {"10001", "2147483647", "4294967296", "9223372036854775807", "1e300"};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        char *t = with_member_json(token, "p2c", counts[i]);
        assert_jg(JG_ERR_LIMIT_PBES2_COUNT, decrypt_one(t, pwd, 0, NULL));
        free(t);
    }
    double ms = ms_since(&t0);
    print_message("      5 huge p2c refused in %.2f ms\n", ms);
    assert_true(ms < time_bound_ms());
    /* The caller's limit is the bound, not a constant. */
    jg_limits lim = jg_limits_default();
    lim.max_pbes2_count = 999;
    assert_jg(JG_ERR_LIMIT_PBES2_COUNT, decrypt_one(token, pwd, 0, &lim));
    assert_jg_ok(decrypt_one(token, pwd, 0, NULL));
    jg_free(token);
}

/* A DEFLATE bomb: 4 MiB of zeros compress 1000:1 into a small token;
 * inflation stops at the limit instead of filling memory. */
static void test_zip_bomb(void **state)
{
    (void)state;
    size_t big = 4u << 20;
    unsigned char *zeros = calloc(1, big);
    assert_non_null(zeros);
    char *token =
        encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM, NULL, zeros, big, JG_FORMAT_COMPACT, 1);
    free(zeros);
    assert_true(strlen(token) < JG_DEFAULT_MAX_TOKEN_LEN);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_jg(JG_ERR_LIMIT_INFLATED, decrypt_one(token, dir32, 0, NULL));
    double ms = ms_since(&t0);
    print_message("      %zu-byte token inflating to 4 MiB refused in %.2f ms\n", strlen(token),
                  ms);
    assert_true(ms < time_bound_ms());
    /* With zip refused altogether (max_inflated_len 0). */
    jg_limits lim = jg_limits_default();
    lim.max_inflated_len = 0;
    assert_jg(JG_ERR_ZIP_UNSUPPORTED, decrypt_one(token, dir32, 0, &lim));
    jg_free(token);
}

/* "zip" applies to the one shared plaintext, so it must be integrity
 * protected: in an unprotected header an attacker could add or remove it. */
static void test_zip_outside_protected_header(void **state)
{
    (void)state;
    char *token =
        encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM, NULL, "x", 1, JG_FORMAT_FLATTENED, 0);
    assert_jg_ok(decrypt_one(token, dir32, 0, NULL));
    char *shared = json_token_with(token, "unprotected", "zip", "\"DEF\"");
    assert_jg(JG_ERR_ZIP_UNPROTECTED, decrypt_one(shared, dir32, 0, NULL));
    char *recipient = json_token_with(token, "header", "zip", "\"DEF\"");
    assert_jg(JG_ERR_ZIP_UNPROTECTED, decrypt_one(recipient, dir32, 0, NULL));
    free(recipient);
    free(shared);
    jg_free(token);
}

/* A 2048-bit prime (openssl prime -generate -bits 2048), for hostile RSA keys. */
static const char prime2048[] = "E76DFFE8DD244B35784AE41007980A608D6591155B694F4F7EA6C2BD539033920C"
                                "693AADA31788DADFDB4CB2E6A574F7"
                                "BA8192655A7E63254668D46BFE09335350F1C60074C55E7FF197496C2AB2F22ECD"
                                "F860AB3618633C347A082A673716A0"
                                "09E0DB2D82B7214E2122D4FFE2C577E2C9FE09A4B24D34ABA23B965FCA129DB80E"
                                "2F429F94BE3C12B061A23891F2E7AE"
                                "305BE7DDF4C705B79D24212C2579155B7ED3554C52E50538DDF5F51C0284783186"
                                "5E7164C15DC2860E00290EE84EF3DC"
                                "299EFD6D68FE5CBC18B7CCAC23A68156E00B644293232F4F833A88F9A43C16C3A2"
                                "58AC46F43569996E9BF511D7F40142"
                                "009AF041369D3D8B53C07F1390674305";

static char *b64_bn(const BIGNUM *bn)
{
    unsigned char buf[1024];
    int len = BN_bn2bin(bn, buf);
    return b64e(buf, (size_t)len);
}

/*
 * A private JWK given by n, e, d only makes us recover p and q, a loop of
 * modular exponentiations that ends quickly for any real key. A modulus with
 * a single prime factor (p or p^2), with d the inverse of e for its group,
 * makes every round uninformative: the loop ran all its 100 rounds — minutes
 * for a 16384-bit modulus, from one JWK of 6 KB. Such a key is now seen at
 * once and refused.
 */
static void test_rsa_private_jwk_with_prime_power_modulus(void **state)
{
    (void)state;
    BN_CTX *bc = BN_CTX_new();
    BIGNUM *p = NULL, *e = BN_new(), *n = BN_new(), *order = BN_new(), *d = BN_new();
    assert_true(BN_hex2bn(&p, prime2048) > 0);
    assert_true(BN_set_word(e, 65537));
    for (int power = 1; power <= 2; power++) {
        /* n = p^power; the group of units has order p^(power-1) * (p-1). */
        assert_true(BN_copy(order, p) != NULL && BN_sub_word(order, 1));
        assert_true(BN_copy(n, p) != NULL);
        if (power == 2) {
            assert_true(BN_mul(n, p, p, bc));
            assert_true(BN_mul(order, order, p, bc));
        }
        assert_non_null(BN_mod_inverse(d, e, order, bc));
        char *n64 = b64_bn(n), *d64 = b64_bn(d);
        size_t len = strlen(n64) + strlen(d64) + 64;
        char *jwk = malloc(len);
        snprintf(jwk, len, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"d\":\"%s\"}", n64, d64);
        jg_jwk *key = NULL;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_jg(JG_ERR_KEY_MISMATCH, jg_jwk_parse(jwk, strlen(jwk), JG_JWK_ALLOW_WEAK_RSA, &key));
        double ms = ms_since(&t0);
        print_message("      RSA JWK with n = p^%d (%d bits) refused in %.2f ms\n", power,
                      BN_num_bits(n), ms);
        /* One exponentiation is a few ms; a hundred are not. */
        assert_true(ms < time_bound_ms() / 8);
        free(jwk);
        free(n64);
        free(d64);
    }
    BN_free(p);
    BN_free(e);
    BN_free(n);
    BN_free(order);
    BN_free(d);
    BN_CTX_free(bc);
}

/* ==== Headers ======================================================================== */

/* "crit" names an extension whose meaning changes the token's: one we do not
 * process must fail the token (RFC 7515 section 4.1.11), unless the caller
 * says it processes that extension itself. */
static void test_crit_unknown_extension(void **state)
{
    (void)state;
    char *token = sign_compact(hs, JG_ALG_HS256, "{\"x-unknown\":1,\"crit\":[\"x-unknown\"]}");
    assert_jg(JG_ERR_CRIT_UNKNOWN, verify_with(token, hs, all_jws_algs()));
    jg_jwks *keys = set_of1(hs);
    const char *understood[] = {"x-unknown", NULL};
    jg_jws_verify_opts opts = tk_opts(all_jws_algs());
    opts.crit = understood;
    jg_jws *jws = NULL;
    assert_jg_ok(jg_jws_verify(token, strlen(token), keys, &opts, &jws));
    jg_jws_free(jws);
    jg_jwks_free(keys);
    free(token);

    token = encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM,
                       "{\"x-unknown\":1,\"crit\":[\"x-unknown\"]}", "x", 1, JG_FORMAT_COMPACT, 0);
    assert_jg(JG_ERR_CRIT_UNKNOWN, decrypt_one(token, dir32, 0, NULL));
    free(token);
}

/* An empty "crit" (and other malformed ones) is invalid, not "nothing
 * critical": RFC 7515 forbids it, and accepting it is how parsers differ. */
static void test_crit_empty(void **state)
{
    (void)state;
    const char *headers[] = {
        "{\"alg\":\"HS256\",\"crit\":[]}",
        "{\"alg\":\"HS256\",\"crit\":\"x\",\"x\":1}",
        "{\"alg\":\"HS256\",\"crit\":[\"alg\"]}",             /* a registered name */
        "{\"alg\":\"HS256\",\"crit\":[\"x\"]}",               /* naming an absent member */
        "{\"alg\":\"HS256\",\"crit\":[\"x\",\"x\"],\"x\":1}", /* repeated */
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *token = hs256_forge(hs_secret, sizeof hs_secret, headers[i], claims);
        assert_jg(JG_ERR_CRIT_INVALID, verify_with(token, hs, all_jws_algs()));
        free(token);
    }
    char *jwe = forge("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"crit\":[]}", dir_secret,
                      JG_ENC_A256GCM, "x", 1);
    assert_jg(JG_ERR_CRIT_INVALID, decrypt_one(jwe, dir32, 0, NULL));
    free(jwe);
}

/* "crit" outside the protected header could be added by anyone. */
static void test_crit_in_unprotected_header(void **state)
{
    (void)state;
    char *token = sign_flattened(hs, JG_ALG_HS256);
    char *t = json_token_with(token, "header", "crit", "[\"exp\"]");
    char *t2 = json_token_with(t, "header", "exp", "1");
    assert_jg(JG_ERR_CRIT_UNPROTECTED, verify_with(t2, hs, all_jws_algs()));
    free(t2);
    free(t);
    jg_free(token);

    token = encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM, NULL, "x", 1, JG_FORMAT_FLATTENED, 0);
    t = json_token_with(token, "unprotected", "crit", "[\"exp\"]");
    assert_jg(JG_ERR_CRIT_UNPROTECTED, decrypt_one(t, dir32, 0, NULL));
    free(t);
    jg_free(token);
}

/* Duplicate member names: parsers disagree on which one wins (first, last,
 * error), so a token could mean one thing to a gateway and another to the
 * service behind it. Refused everywhere JSON comes in. */
static void test_duplicate_json_members(void **state)
{
    (void)state;
    /* A header with two "alg" (correctly MACed), and with two "kid". */
    const char *headers[] = {"{\"alg\":\"HS256\",\"alg\":\"none\"}",
                             "{\"alg\":\"HS256\",\"kid\":\"hs\",\"kid\":\"other\"}"};
    for (size_t i = 0; i < 2; i++) {
        char *token = hs256_forge(hs_secret, sizeof hs_secret, headers[i], claims);
        assert_jg(JG_ERR_JSON_DUPLICATE, verify_with(token, hs, all_jws_algs()));
        free(token);
    }
    /* Claims that say "sub" twice, behind a valid signature, and nested. */
    const char *payloads[] = {"{\"sub\":\"eve\",\"sub\":\"admin\"}",
                              "{\"cnf\":{\"jkt\":\"a\",\"jkt\":\"b\"}}"};
    jg_jwks *keys = set_of1(hs);
    jg_jwt_policy pol = {.algs = JG_ALGS_HMAC, .allow_missing_exp = 1};
    for (size_t i = 0; i < 2; i++) {
        char *token = hs256_forge(hs_secret, sizeof hs_secret, "{\"alg\":\"HS256\"}", payloads[i]);
        assert_jg_ok(verify_with(token, hs, all_jws_algs()));
        assert_jg(JG_ERR_JSON_DUPLICATE, jg_jwt_verify(token, strlen(token), keys, &pol, NULL));
        jg_claims *c = NULL;
        assert_jg(JG_ERR_JSON_DUPLICATE,
                  jg_claims_parse(payloads[i], strlen(payloads[i]), NULL, &c));
        free(token);
    }
    jg_jwks_free(keys);
    /* The JSON serialization itself, a JWE header, a JWK, a JWKS. */
    const char *jws_json = "{\"payload\":\"e30\",\"payload\":\"e30\",\"protected\":"
                           "\"eyJhbGciOiJIUzI1NiJ9\",\"signature\":\"\"}";
    assert_jg(JG_ERR_JSON_DUPLICATE, verify_with(jws_json, hs, all_jws_algs()));
    char *jwe = forge("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"enc\":\"A128GCM\"}", dir_secret,
                      JG_ENC_A256GCM, "x", 1);
    assert_jg(JG_ERR_JSON_DUPLICATE, decrypt_one(jwe, dir32, 0, NULL));
    free(jwe);
    const char *jwk = "{\"kty\":\"oct\",\"k\":\"AQID\",\"k\":\"BAUG\"}";
    jg_jwk *key = NULL;
    assert_jg(JG_ERR_JSON_DUPLICATE, jg_jwk_parse(jwk, strlen(jwk), 0, &key));
    const char *jwks = "{\"keys\":[],\"keys\":[{\"kty\":\"oct\",\"k\":\"AQID\"}]}";
    jg_jwks *set = NULL;
    assert_jg(JG_ERR_JSON_DUPLICATE, jg_jwks_parse(jwks, strlen(jwks), 0, NULL, &set));
}

/* A parameter in both the protected and an unprotected header: which one
 * counts? Neither: the token is refused (RFC 7515 7.2.1, RFC 7516 7.2.1). */
static void test_header_name_in_protected_and_unprotected(void **state)
{
    (void)state;
    char *token = sign_flattened(hs, JG_ALG_HS256); /* protected alg and kid */
    const char *names[][2] = {{"kid", "\"other\""}, {"alg", "\"HS256\""}};
    for (size_t i = 0; i < 2; i++) {
        char *t = json_token_with(token, "header", names[i][0], names[i][1]);
        assert_jg(JG_ERR_HEADER_DUPLICATE, verify_with(t, hs, all_jws_algs()));
        free(t);
    }
    jg_free(token);
    /* JWE: "enc" is protected, "alg" per recipient; repeat each elsewhere. */
    token = encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM, NULL, "x", 1, JG_FORMAT_FLATTENED, 0);
    const char *jwe_cases[][3] = {{"header", "enc", "\"A256GCM\""},
                                  {"unprotected", "enc", "\"A256GCM\""},
                                  {"unprotected", "alg", "\"dir\""}};
    for (size_t i = 0; i < 3; i++) {
        char *t = json_token_with(token, jwe_cases[i][0], jwe_cases[i][1], jwe_cases[i][2]);
        assert_jg(JG_ERR_HEADER_DUPLICATE, decrypt_one(t, dir32, 0, NULL));
        free(t);
    }
    jg_free(token);
}

/* ==== Confusion ====================================================================== */

/* A gateway that requires encrypted tokens is handed a signed one (which
 * anyone holding an old or leaked token could replay in clear). */
static void test_jws_where_nested_token_required(void **state)
{
    (void)state;
    char *jws = sign_compact(p384, JG_ALG_ES384, "{\"typ\":\"JWT\"}");
    jg_jwk *p384_pub = tk_verifier(p384);
    assert_jg_ok(open_token(jws, &p256, 1, &p384_pub, 1, JG_FORM_ANY));
    assert_jg(JG_ERR_NOT_ENCRYPTED, open_token(jws, &p256, 1, &p384_pub, 1, JG_FORM_NESTED));
    assert_jg(JG_ERR_NOT_ENCRYPTED, open_token(jws, &p256, 1, &p384_pub, 1, JG_FORM_ENCRYPTED));
    /* A JWE that holds claims, not a JWS, where a nested token is required;
     * with and without "cty":"JWT". */
    const char *prots[] = {"{\"cty\":\"JWT\",\"typ\":\"JWT\"}", "{\"typ\":\"JWT\"}"};
    for (size_t i = 0; i < 2; i++) {
        char *jwe = encrypt_to(p256_pub, JG_ALG_ECDH_ES, JG_ENC_A256GCM, prots[i], claims,
                               strlen(claims), JG_FORMAT_COMPACT, 0);
        assert_jg(JG_ERR_NOT_NESTED, open_token(jwe, &p256, 1, &p384_pub, 1, JG_FORM_NESTED));
        free(jwe);
    }
    /* A nested token whose JWE lacks "cty": not nested either. */
    char *jwe = encrypt_to(p256_pub, JG_ALG_ECDH_ES, JG_ENC_A256GCM, NULL, jws, strlen(jws),
                           JG_FORMAT_COMPACT, 0);
    assert_jg(JG_ERR_NOT_NESTED, open_token(jwe, &p256, 1, &p384_pub, 1, JG_FORM_NESTED));
    free(jwe);
    jg_jwk_free(p384_pub);
    free(jws);
}

/* The reverse: a JWE handed to a JWS verifier, and the algorithms of one
 * kind named in the header of the other. */
static void test_jwe_where_jws_required(void **state)
{
    (void)state;
    char *jwe = encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM, NULL, claims, strlen(claims),
                           JG_FORMAT_COMPACT, 0);
    jg_jwks *keys = set_of1(hs);
    assert_jg(JG_ERR_TOKEN_FORMAT, verify_set(jwe, keys, all_jws_algs()));
    jg_jwt_policy pol = {.algs = all_jws_algs(), .allow_missing_exp = 1};
    assert_jg(JG_ERR_TOKEN_FORMAT, jg_jwt_verify(jwe, strlen(jwe), keys, &pol, NULL));
    assert_jg(JG_ERR_TOKEN_FORMAT, open_token(jwe, &dir32, 1, &hs, 1, JG_FORM_SIGNED));
    jg_jwks_free(keys);
    free(jwe);
    /* A JWS header naming a JWE algorithm, and the reverse. */
    char *jws = hs256_forge(hs_secret, sizeof hs_secret, "{\"alg\":\"RSA-OAEP\"}", claims);
    assert_jg(JG_ERR_ALG_KIND, verify_with(jws, hs, all_jws_algs()));
    free(jws);
    jwe = forge("{\"alg\":\"HS256\",\"enc\":\"A256GCM\"}", dir_secret, JG_ENC_A256GCM, "x", 1);
    assert_jg(JG_ERR_ALG_KIND, decrypt_one(jwe, dir32, 0, NULL));
    free(jwe);
}

/* Whoever can encrypt to a symmetric decryption key knows it; if that key
 * also verified the inner JWS, anyone able to encrypt could sign. Refused
 * for the key that decrypted and for every other decryption key. */
static void test_nested_inner_jws_signed_by_decryption_key(void **state)
{
    (void)state;
    static const unsigned char other_secret[32] = "attack-suite-other-key-012345678";
    jg_jwk *other = secret_key(other_secret, sizeof other_secret, "other", JG_ALG_UNKNOWN);
    jg_jwk *decrypt[] = {dir32, other};
    /* Encrypted to dir32, signed with `other`, also a decryption key. */
    char *inner = sign_compact(other, JG_ALG_HS256, "{\"typ\":\"JWT\"}");
    char *token = nest(inner, dir32, JG_ALG_DIR);
    assert_jg(JG_ERR_NESTED_KEY, open_token(token, decrypt, 2, &other, 1, JG_FORM_NESTED));
    /* With `other` out of the decryption set the same token opens. */
    assert_jg_ok(open_token(token, decrypt, 1, &other, 1, JG_FORM_NESTED));
    free(token);
    free(inner);
    /* Signed with the very key that decrypted (same secret, other kid). */
    jg_jwk *dir_as_hs = secret_key(dir_secret, sizeof dir_secret, "mac", JG_ALG_UNKNOWN);
    inner = sign_compact(dir_as_hs, JG_ALG_HS256, "{\"typ\":\"JWT\"}");
    token = nest(inner, dir32, JG_ALG_DIR);
    assert_jg(JG_ERR_NESTED_KEY, open_token(token, decrypt, 1, &dir_as_hs, 1, JG_FORM_NESTED));
    free(token);
    free(inner);
    /* An RSA key pair on both layers. */
    inner = sign_compact(rsa, JG_ALG_PS256, "{\"typ\":\"JWT\"}");
    token = nest(inner, rsa_pub, JG_ALG_RSA_OAEP_256);
    assert_jg(JG_ERR_NESTED_KEY, open_token(token, &rsa, 1, &rsa_pub, 1, JG_FORM_NESTED));
    free(token);
    free(inner);
    jg_jwk_free(dir_as_hs);
    jg_jwk_free(other);
}

/* A verification set holding the issuer's public key next to an HMAC secret
 * (shared with a webhook, a second service, a test client ...) is the
 * classic confusion setup: with HS256 and RS256 both allowed, whoever holds
 * the secret mints tokens the verifier takes for the issuer's. Refused by
 * default in every verify call, before the token is even read; accepted only
 * when the caller says so. The decryption set of a nested token may mix. */
static void test_verification_set_mixing_secret_and_public_key(void **state)
{
    (void)state;
    jg_jwk *mixed[] = {rsa_pub, hs};
    jg_jwks *set = tk_set(mixed, 2);
    char *forged = sign_compact(hs, JG_ALG_HS256, "{\"typ\":\"JWT\"}");
    char *genuine = sign_compact(rsa, JG_ALG_RS256, "{\"typ\":\"JWT\"}");
    const char *tokens[] = {forged, genuine, "not even a token"};
    for (size_t i = 0; i < 3; i++) {
        assert_jg(JG_ERR_KEYSET_MIXED, verify_set(tokens[i], set, all_jws_algs()));
        jg_jwt_policy pol = {.algs = all_jws_algs(), .allow_missing_exp = 1};
        assert_jg(JG_ERR_KEYSET_MIXED,
                  jg_jwt_verify(tokens[i], strlen(tokens[i]), set, &pol, NULL));
    }
    /* The detail says what the set holds. */
    jg_jws_verify_opts opts = tk_opts(all_jws_algs());
    jg_jws *jws = NULL;
    jg_detail d;
    assert_jg(JG_ERR_KEYSET_MIXED, jg_jws_verify_ex(forged, strlen(forged), set, &opts, &jws, &d));
    assert_int_equal(d.kind, JG_DETAIL_KEYSET);
    assert_int_equal(d.secret_keys, 1);
    assert_int_equal(d.public_keys, 1);
    /* The nested path: the inner JWS is verified with a mixed set. */
    assert_jg(JG_ERR_KEYSET_MIXED, open_token(forged, &p256, 1, mixed, 2, JG_FORM_ANY));
    /* Opting in restores the old behaviour, for a caller that must. */
    opts.allow_mixed_keys = 1;
    assert_jg_ok(jg_jws_verify(forged, strlen(forged), set, &opts, &jws));
    jg_jws_free(jws);
    jg_open_policy pol = open_policy(JG_FORM_ANY);
    pol.jwt.allow_mixed_keys = 1;
    jg_claims *out = NULL;
    assert_jg_ok(jg_access_token_open(genuine, strlen(genuine), NULL, set, &pol, &out));
    jg_claims_free(out);
    /* One kind alone is fine, and so is a decryption set that mixes. */
    jg_jwks *pub_only = tk_set(&rsa_pub, 1);
    assert_jg_ok(verify_set(genuine, pub_only, all_jws_algs()));
    jg_jwks_free(pub_only);
    char *nested_token = NULL;
    jg_claims *c = NULL;
    const char *at_claims = "{\"sub\":\"eve\",\"aud\":\"api\",\"jti\":\"1\",\"exp\":4000000000}";
    assert_jg_ok(jg_claims_parse(at_claims, strlen(at_claims), NULL, &c));
    jg_seal_opts so = {.sign_alg = JG_ALG_RS256, .typ = "JWT", .key_alg = JG_ALG_DIR};
    assert_jg_ok(jg_access_token_seal(c, rsa, dir32, &so, &nested_token, NULL));
    jg_claims_free(c);
    jg_jwk *dec[] = {dir32, p256};
    assert_jg_ok(open_token(nested_token, dec, 2, &rsa_pub, 1, JG_FORM_NESTED));
    jg_free(nested_token);
    jg_free(forged);
    jg_free(genuine);
    jg_jwks_free(set);
}

/* ==== Key selection ================================================================== */

/* A token that brings its own key ("jwk"), or says where to fetch one
 * ("jku", "x5u", "x5c"), is verified with the caller's keys only. */
static void test_embedded_keys_never_trusted(void **state)
{
    (void)state;
    jg_jwk *attacker = NULL;
    jg_jwk_meta meta = {.kid = "attacker"};
    assert_jg_ok(jg_jwk_generate(JG_KTY_EC, JG_CRV_P256, 0, &meta, &attacker));
    char *pub = NULL;
    assert_jg_ok(jg_jwk_to_json(attacker, 0, &pub, NULL));
    size_t cert_len = 0;
    char *cert = tu_read_file(tu_vector_path("pem/cert.pem"), &cert_len);
    /* The certificate's base64 body, as x5c carries it. */
    char *body = strstr(cert, "-----\n") + 6;
    *strstr(body, "\n-----END") = '\0';
    for (char *r = body, *w = body;; r++)
        if (*r != '\n' && (*w++ = *r) == '\0')
            break;
    char hdr[4096];
    snprintf(hdr, sizeof hdr,
             "{\"jwk\":%s,\"jku\":\"https://evil.example/jwks\",\"x5u\":\"https://evil.example/"
             "cert\",\"x5c\":[\"%s\"]}",
             pub, body);
    jg_jwk *no_kid = tk_with_kid(attacker, NULL);
    char *with_kid = sign_compact(attacker, JG_ALG_ES256, hdr);
    char *without_kid = sign_compact(no_kid, JG_ALG_ES256, hdr);
    /* Our P-256 key is the only one tried (and fails); with the attacker's
     * kid nothing is tried at all. */
    assert_jg(JG_ERR_SIGNATURE, verify_with(without_kid, p256_pub, all_jws_algs()));
    assert_jg(JG_ERR_KEY_NOT_FOUND, verify_with(with_kid, p256_pub, all_jws_algs()));
    jg_jwks *empty = NULL;
    assert_jg_ok(jg_jwks_new(&empty));
    assert_jg(JG_ERR_KEY_NOT_FOUND, verify_set(without_kid, empty, all_jws_algs()));
    jg_jwks_free(empty);
    free(with_kid);
    free(without_kid);
    free(cert);
    jg_free(pub);
    jg_jwk_free(no_kid);
    jg_jwk_free(attacker);
}

/* "kid" is attacker text: path traversal, SQL, wildcards and near misses are
 * compared byte for byte with our kids and match nothing; a kid is never a
 * file name, a query or a pattern. */
static void test_kid_injection_only_compared(void **state)
{
    (void)state;
    const char *kids[] = {"../../../../../../dev/null",
                          "/etc/passwd",
                          "' OR '1'='1",
                          "hs' --",
                          "hs\"; DROP TABLE keys; --",
                          "*",
                          "%",
                          "",
                          "HS",
                          " hs",
                          "hs ",
                          "hs\\n",
                          "hs/../hs",
                          "file:///dev/null",
                          "https://evil.example/key"};
    jg_jwk *attacker = secret_key((const unsigned char *)"attacker-chosen-secret-0123456789", 33,
                                  NULL, JG_ALG_UNKNOWN);
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        json_t *h = json_pack("{s:s,s:s}", "alg", "HS256", "kid", kids[i]);
        char *text = tu_json_text(h);
        char *token = sign_compact(attacker, JG_ALG_HS256, text);
        assert_jg(JG_ERR_KEY_NOT_FOUND, verify_with(token, hs, all_jws_algs()));
        /* A key that really has that kid is used — and only as a key. */
        jg_jwk *same = secret_key((const unsigned char *)"attacker-chosen-secret-0123456789", 33,
                                  kids[i], JG_ALG_UNKNOWN);
        assert_jg_ok(verify_with(token, same, all_jws_algs()));
        jg_jwk_free(same);
        free(token);
        free(text);
        json_decref(h);
    }
    /* A NUL inside a kid is not even JSON we accept; a kid must be a string. */
    char *token = hs256_forge(hs_secret, sizeof hs_secret,
                              "{\"alg\":\"HS256\",\"kid\":\"hs\\u0000x\"}", claims);
    assert_jg(JG_ERR_JSON_SYNTAX, verify_with(token, hs, all_jws_algs()));
    free(token);
    token =
        hs256_forge(hs_secret, sizeof hs_secret, "{\"alg\":\"HS256\",\"kid\":[\"hs\"]}", claims);
    assert_jg(JG_ERR_HEADER_INVALID, verify_with(token, hs, all_jws_algs()));
    free(token);
    jg_jwk_free(attacker);
}

/* ==== Encryption ===================================================================== */

/* RSA1_5 with PKCS#1 v1.5 padding applied by OpenSSL to `cek`. */
static char *rsa15_ek(const jg_jwk *key, const unsigned char *cek, size_t len)
{
    return rsa_encrypt_b64(key, cek, len, OSSL_PKEY_RSA_PAD_MODE_PKCSV15);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median time of `runs` decryptions of `token`, each refused with `want`. */
static double median_ms(const char *token, jg_jwks *keys, jg_err want)
{
    enum { RUNS = 21 };
    double t[RUNS];
    for (int i = 0; i < RUNS; i++) {
        jg_jwe *jwe = NULL;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_jg(want, decrypt_with(token, keys, JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));
        t[i] = ms_since(&t0);
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

/* Bleichenbacher: if bad padding looked different from a bad tag (error,
 * or time), RSA1_5 would be a decryption oracle. A bad padding gets a random
 * CEK and fails at the tag like everything else, along the same path. */
static void test_rsa1_5_padding_oracle(void **state)
{
    (void)state;
    const char *hdr = "{\"alg\":\"RSA1_5\",\"enc\":\"A128CBC-HS256\"}";
    unsigned char cek[32];
    assert_int_equal(RAND_bytes(cek, sizeof cek), 1);
    /* A valid token made by hand (we never encrypt with RSA1_5). */
    char *body = forge(hdr, cek, JG_ENC_A128CBC_HS256, "attack at dawn", 14);
    char *ek = rsa15_ek(rsa_pub, cek, sizeof cek);
    char *valid = replace_part(body, 1, ek);
    free(ek);
    jg_jwks *keys = set_of1(rsa);
    jg_jwe *jwe = NULL;
    assert_jg_ok(decrypt_with(valid, keys, JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));
    jg_jwe_free(jwe);
    assert_jg(JG_ERR_ALG_NOT_ALLOWED,
              decrypt_with(valid, keys, all_jwe_algs() & ~JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));

    /* Bad padding (no 00 02), good padding with a CEK of the wrong length,
     * a good CEK with a bad tag: one error for all. */
    unsigned char block[256];
    memset(block, 0x5a, sizeof block);
    block[0] = 0x00;
    block[1] = 0x01;
    char *bad_pad_ek = rsa_raw(rsa_pub, block, sizeof block);
    char *bad_pad = replace_part(valid, 1, bad_pad_ek);
    ek = rsa15_ek(rsa_pub, cek, 16);
    char *short_cek = replace_part(valid, 1, ek);
    free(ek);
    char *bad_tag = tamper_part(valid, 4, 2);
    const char *bad[] = {bad_pad, short_cek, bad_tag};
    for (size_t i = 0; i < 3; i++) {
        /* Twice: a fresh random CEK each time, never a success. */
        assert_jg(JG_ERR_DECRYPT,
                  decrypt_with(bad[i], keys, JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));
        assert_jg(JG_ERR_DECRYPT,
                  decrypt_with(bad[i], keys, JG_ALG_BIT(JG_ALG_RSA1_5), NULL, &jwe));
    }
    /* Comparable time: the RSA decryption dominates both paths. A generous
     * bound: this is a regression guard, not a timing proof. */
    double pad_ms = median_ms(bad_pad, keys, JG_ERR_DECRYPT);
    double tag_ms = median_ms(bad_tag, keys, JG_ERR_DECRYPT);
    print_message("      RSA1_5 median: bad padding %.3f ms, bad tag %.3f ms\n", pad_ms, tag_ms);
    assert_true(pad_ms < 3 * tag_ms && tag_ms < 3 * pad_ms);
    /* And we never make RSA1_5 tokens. */
    jg_jwe_recipient r = {rsa_pub, JG_ALG_RSA1_5, NULL};
    char *out = NULL;
    assert_jg(JG_ERR_UNSUPPORTED, jg_jwe_encrypt("x", 1, &r, 1, NULL, &out, NULL));
    free(bad_pad_ek);
    free(bad_pad);
    free(short_cek);
    free(bad_tag);
    free(valid);
    free(body);
    jg_jwks_free(keys);
}

/* The token's tag part with `len` bytes instead of its own. */
static char *with_tag_len(const char *token, size_t len)
{
    size_t have = 0;
    unsigned char *tag = b64d(strrchr(token, '.') + 1, &have);
    unsigned char buf[64] = {0};
    memcpy(buf, tag, have < len ? have : len);
    char *enc = b64e(buf, len);
    char *out = replace_part(token, 4, enc);
    free(enc);
    free(tag);
    return out;
}

/* A truncated GCM tag makes forgery 2^(128-len) times easier; only 128 bits
 * are accepted, for content and for A*GCMKW key wrapping. */
static void test_gcm_tag_shorter_than_128_bits(void **state)
{
    (void)state;
    char *token = encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM, NULL, "x", 1, JG_FORMAT_COMPACT, 0);
    size_t lens[] = {0, 4, 8, 12, 15, 17, 32};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        char *t = with_tag_len(token, lens[i]);
        assert_jg(JG_ERR_TAG_LENGTH, decrypt_one(t, dir32, 0, NULL));
        free(t);
    }
    free(token);
    jg_jwk *kek = secret_key(dir_secret, 16, "gcmkw", JG_ALG_A128GCMKW);
    token = encrypt_to(kek, JG_ALG_A128GCMKW, JG_ENC_A128GCM, NULL, "x", 1, JG_FORMAT_COMPACT, 0);
    const char *short_tags[] = {"\"AAAAAAAAAAAAAAAA\"", "\"AAAAAAAAAAAAAAAAAAAA\""}; /* 12, 15 */
    for (size_t i = 0; i < 2; i++) {
        char *t = with_member_json(token, "tag", short_tags[i]);
        assert_jg(JG_ERR_TAG_LENGTH, decrypt_one(t, kek, 0, NULL));
        free(t);
    }
    free(token);
    jg_jwk_free(kek);
}

/* AES-CBC-HMAC tags are half the HMAC, exactly: a shorter tag (or the full
 * HMAC, or another enc's length) is refused before the MAC is computed. */
static void test_cbc_hs_tag_truncation(void **state)
{
    (void)state;
    unsigned char key64[64];
    for (size_t i = 0; i < sizeof key64; i++)
        key64[i] = (unsigned char)(i * 7 + 3);
    jg_jwk *k64 = secret_key(key64, sizeof key64, "k64", JG_ALG_DIR);
    const struct {
        const jg_jwk *key;
        jg_enc enc;
        size_t bad[5];
    } cases[] = {{dir32, JG_ENC_A128CBC_HS256, {1, 8, 15, 17, 32}},
                 {k64, JG_ENC_A256CBC_HS512, {8, 16, 24, 31, 64}}};
    for (size_t c = 0; c < 2; c++) {
        char *token =
            encrypt_to(cases[c].key, JG_ALG_DIR, cases[c].enc, NULL, "x", 1, JG_FORMAT_COMPACT, 0);
        assert_jg_ok(decrypt_one(token, cases[c].key, 0, NULL));
        for (size_t i = 0; i < 5; i++) {
            char *t = with_tag_len(token, cases[c].bad[i]);
            assert_jg(JG_ERR_TAG_LENGTH, decrypt_one(t, cases[c].key, 0, NULL));
            free(t);
        }
        free(token);
    }
    jg_jwk_free(k64);
}

/* "dir": the key is the CEK. An all-zero key (an unfilled buffer) is never
 * accepted as a key; one of the wrong length for "enc" is refused, and a
 * "dir" token may not carry an encrypted key. */
static void test_dir_cek_all_zero_or_wrong_length(void **state)
{
    (void)state;
    static const unsigned char zeros[64] = {0};
    jg_jwk *key = NULL;
    size_t sizes[] = {16, 32, 64};
    for (size_t i = 0; i < 3; i++)
        assert_jg(JG_ERR_KEY_WEAK, jg_jwk_from_secret(zeros, sizes[i], NULL, &key));
    const char *jwk = "{\"kty\":\"oct\",\"alg\":\"A256GCM\","
                      "\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}";
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_parse(jwk, strlen(jwk), 0, &key));
    /* A token an attacker made with the all-zero CEK opens for nobody. */
    char *forged = forge("{\"alg\":\"dir\",\"enc\":\"A256GCM\"}", zeros, JG_ENC_A256GCM, "x", 1);
    assert_jg(JG_ERR_DECRYPT, decrypt_one(forged, dir32, 0, NULL));
    free(forged);
    /* Wrong length: a 32-byte key for A128GCM / A256CBC-HS512. */
    const char *hdrs[] = {"{\"alg\":\"dir\",\"enc\":\"A128GCM\"}",
                          "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\"}"};
    const jg_enc encs[] = {JG_ENC_A128GCM, JG_ENC_A256CBC_HS512};
    for (size_t i = 0; i < 2; i++) {
        forged = forge(hdrs[i], dir_secret, encs[i], "x", 1); /* the key's bytes, cut or not */
        assert_jg(JG_ERR_CEK_LENGTH, decrypt_one(forged, dir32, 0, NULL));
        free(forged);
    }
    /* An encrypted key where "dir" has none. */
    char *token = encrypt_to(dir32, JG_ALG_DIR, JG_ENC_A256GCM, NULL, "x", 1, JG_FORMAT_COMPACT, 0);
    char *t = replace_part(token, 1, "AAAAAAAAAAAAAAAAAAAAAA");
    assert_jg(JG_ERR_ENCRYPTED_KEY, decrypt_one(t, dir32, 0, NULL));
    free(t);
    free(token);
}

/* RSA moduli under 2048 bits are factorable by well-funded attackers (and
 * 512-bit ones by anyone); refused from every source unless the caller
 * explicitly allows them. */
static void test_rsa_key_below_2048_bits(void **state)
{
    (void)state;
    const char *files[] = {"pem/rsa1024.p8.pem", "pem/rsa1024.spki.pem", "pem/rsa1024.pkcs1.pem"};
    for (size_t i = 0; i < 3; i++)
        assert_null(pem_key(files[i], NULL, 0, JG_ERR_KEY_WEAK));
    jg_jwk *weak = pem_key("pem/rsa1024.spki.pem", "weak", JG_JWK_ALLOW_WEAK_RSA, JG_OK);
    assert_int_equal(jg_jwk_bits(weak), 1024);
    char *text = NULL;
    assert_jg_ok(jg_jwk_to_json(weak, 0, &text, NULL));
    jg_jwk *key = NULL;
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_parse(text, strlen(text), 0, &key));
    jg_jwks *set = NULL;
    assert_jg(JG_ERR_KEY_WEAK, jg_jwks_parse_any(text, strlen(text), 0, NULL, &set));
    assert_jg(JG_ERR_KEY_WEAK, jg_jwk_generate(JG_KTY_RSA, JG_CRV_NONE, 1024, NULL, &key));
    jg_free(text);
    jg_jwk_free(weak);
}

/* ROCA (CVE-2017-15361): a modulus from Infineon's vulnerable generator can
 * be factored from the public key; such a key is refused at import (the
 * public sample of tests/vectors/roca, tests/unit/test_roca.c for more). */
static void test_rsa_modulus_with_roca_fingerprint(void **state)
{
    (void)state;
    char *hex = tu_read_file(tu_vector_path("roca/infineon-2048.hex"), NULL);
    hex[strcspn(hex, "\r\n")] = '\0';
    BIGNUM *n = NULL;
    assert_true(BN_hex2bn(&n, hex) > 0);
    unsigned char bytes[256];
    assert_int_equal(BN_bn2binpad(n, bytes, sizeof bytes), 256);
    char b64[400], json[512];
    b64[jg_b64url_encode(bytes, sizeof bytes, b64)] = '\0';
    snprintf(json, sizeof json, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", b64);
    jg_jwk *key = NULL;
    assert_jg(JG_ERR_KEY_ROCA, jg_jwk_parse(json, strlen(json), 0, &key));
    assert_null(key);
    assert_jg_ok(jg_jwk_parse(json, strlen(json), JG_JWK_ALLOW_ROCA, &key));
    jg_jwk_free(key);
    BN_free(n);
    free(hex);
}

/* An HMAC key shorter than the hash output weakens the MAC (RFC 7518
 * section 3.2): refused for signing and verifying. */
static void test_hmac_key_shorter_than_hash(void **state)
{
    (void)state;
    jg_jwk *k16 = secret_key(hs_secret, 16, "k16", JG_ALG_UNKNOWN);
    jg_jws_signer s = {.key = k16, .alg = JG_ALG_HS256};
    char *out = NULL;
    assert_jg(JG_ERR_KEY_WEAK, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    char *token = hs256_forge(hs_secret, 16, "{\"alg\":\"HS256\"}", claims);
    assert_jg(JG_ERR_KEY_WEAK, verify_with(token, k16, all_jws_algs()));
    free(token);
    /* 32 bytes are enough for HS256, not for HS384/HS512. */
    s.key = hs;
    s.alg = JG_ALG_HS512;
    assert_jg(JG_ERR_KEY_WEAK, jg_jws_sign("x", 1, &s, NULL, &out, NULL));
    jg_jwk_free(k16);
}

/* ==== Limits ========================================================================= */

/* A string of `n` bytes: `prefix`, then `fill` repeated, then `suffix`. */
static char *build(const char *prefix, const char *fill, size_t count, const char *suffix)
{
    size_t p = strlen(prefix), f = strlen(fill), s = strlen(suffix);
    char *out = malloc(p + f * count + s + 1);
    memcpy(out, prefix, p);
    for (size_t i = 0; i < count; i++)
        memcpy(out + p + i * f, fill, f);
    memcpy(out + p + f * count, suffix, s + 1);
    return out;
}

/* Run `check` and require it to be quick: every limit refuses before the
 * expensive part. */
#define ASSERT_QUICK(what, expected, expr)                                                         \
    do {                                                                                           \
        struct timespec t0_;                                                                       \
        clock_gettime(CLOCK_MONOTONIC, &t0_);                                                      \
        assert_jg(expected, expr);                                                                 \
        double ms_ = ms_since(&t0_);                                                               \
        print_message("      %-44s %s in %.3f ms\n", what, jg_err_name(expected), ms_);            \
        assert_true(ms_ < time_bound_ms());                                                        \
    } while (0)

static void test_limit_token_of_1_mib(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    char *big = build("eyJhbGciOiJIUzI1NiJ9.", "A", n - 43, ".AAAAAAAAAAAAAAAAAAAAA");
    jg_jwks *keys = set_of1(hs);
    ASSERT_QUICK("1 MiB JWS", JG_ERR_LIMIT_TOKEN_SIZE, verify_set(big, keys, all_jws_algs()));
    jg_jwt_policy pol = {.algs = all_jws_algs(), .allow_missing_exp = 1};
    ASSERT_QUICK("1 MiB JWT", JG_ERR_LIMIT_TOKEN_SIZE,
                 jg_jwt_verify(big, strlen(big), keys, &pol, NULL));
    ASSERT_QUICK("1 MiB access token", JG_ERR_LIMIT_TOKEN_SIZE,
                 open_token(big, &dir32, 1, &hs, 1, JG_FORM_ANY));
    free(big);
    big = build("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.", "A", n - 80,
                ".AAAAAAAAAAAAAAAAAAAAAA");
    ASSERT_QUICK("1 MiB JWE", JG_ERR_LIMIT_TOKEN_SIZE, decrypt_one(big, dir32, 0, NULL));
    free(big);
    jg_jwks_free(keys);
}

static void test_limit_json_nested_10000_deep(void **state)
{
    (void)state;
    enum { DEPTH = 10000 };
    char *open = build("", "[", DEPTH, ""), *close = build("", "]", DEPTH, "");
    size_t n = 2 * DEPTH + 256;
    char *text = malloc(n);
    snprintf(text, n,
             "{\"payload\":\"e30\",\"header\":{\"alg\":\"HS256\",\"x\":%s%s},"
             "\"signature\":\"\"}",
             open, close);
    ASSERT_QUICK("JWS JSON 10,000 deep", JG_ERR_LIMIT_JSON_DEPTH,
                 verify_with(text, hs, all_jws_algs()));
    snprintf(text, n,
             "{\"ciphertext\":\"AA\",\"iv\":\"AA\",\"tag\":\"AA\",\"header\":{\"x\":%s%s}}", open,
             close);
    ASSERT_QUICK("JWE JSON 10,000 deep", JG_ERR_LIMIT_JSON_DEPTH,
                 decrypt_one(text, dir32, 0, NULL));
    snprintf(text, n, "{\"sub\":\"x\",\"x\":%s%s}", open, close);
    jg_claims *c = NULL;
    ASSERT_QUICK("claims 10,000 deep", JG_ERR_LIMIT_JSON_DEPTH,
                 jg_claims_parse(text, strlen(text), NULL, &c));
    snprintf(text, n, "{\"kty\":\"oct\",\"k\":\"AQID\",\"x\":%s%s}", open, close);
    jg_jwk *key = NULL;
    ASSERT_QUICK("JWK 10,000 deep", JG_ERR_LIMIT_JSON_DEPTH,
                 jg_jwk_parse(text, strlen(text), 0, &key));
    /* A protected header cannot even hold it (8 KiB); 40 deep fits and is
     * refused for its depth. */
    char *deep40 = build("{\"alg\":\"HS256\",\"x\":", "[", 40, "");
    char *hdr = build(deep40, "]", 40, "}");
    char *token = hs256_forge(hs_secret, sizeof hs_secret, hdr, claims);
    ASSERT_QUICK("protected header 40 deep", JG_ERR_LIMIT_JSON_DEPTH,
                 verify_with(token, hs, all_jws_algs()));
    free(token);
    free(hdr);
    free(deep40);
    free(text);
    free(open);
    free(close);
}

static void test_limit_10000_recipients(void **state)
{
    (void)state;
    char *token =
        build("{\"protected\":\"eyJlbmMiOiJBMjU2R0NNIn0\",\"iv\":\"AAAAAAAAAAAAAAAA\","
              "\"ciphertext\":\"AA\",\"tag\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"recipients\":[",
              "{\"header\":{\"alg\":\"dir\"}},", 9999, "{\"header\":{\"alg\":\"dir\"}}]}");
    assert_true(strlen(token) < JG_DEFAULT_MAX_TOKEN_LEN);
    ASSERT_QUICK("10,000 recipients", JG_ERR_LIMIT_RECIPIENTS, decrypt_one(token, dir32, 0, NULL));
    free(token);
}

static void test_limit_10000_signatures(void **state)
{
    (void)state;
    char *token = build("{\"payload\":\"e30\",\"signatures\":[", "{\"signature\":\"\"},", 9999,
                        "{\"signature\":\"\"}]}");
    assert_true(strlen(token) < JG_DEFAULT_MAX_TOKEN_LEN);
    ASSERT_QUICK("10,000 signatures", JG_ERR_LIMIT_SIGNATURES,
                 verify_with(token, hs, all_jws_algs()));
    free(token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* Signatures. */
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_none_nested),
        cmocka_unit_test(test_alg_confusion_hmac_keyed_with_pem_public_key),
        cmocka_unit_test(test_alg_confusion_hmac_keyed_with_jwk_public_key),
        cmocka_unit_test(test_jwk_alg_disagrees_with_token),
        cmocka_unit_test(test_ecdsa_psychic_signatures),
        cmocka_unit_test(test_signature_wrong_length),
        /* Key agreement. */
        cmocka_unit_test(test_ecdh_es_epk_not_on_curve),
        cmocka_unit_test(test_ecdh_es_epk_on_another_curve),
        cmocka_unit_test(test_ecdh_es_epk_point_at_infinity),
        cmocka_unit_test(test_x25519_x448_low_order_points),
        /* Work. */
        cmocka_unit_test(test_pbes2_huge_p2c),
        cmocka_unit_test(test_zip_bomb),
        cmocka_unit_test(test_zip_outside_protected_header),
        cmocka_unit_test(test_rsa_private_jwk_with_prime_power_modulus),
        /* Headers. */
        cmocka_unit_test(test_crit_unknown_extension),
        cmocka_unit_test(test_crit_empty),
        cmocka_unit_test(test_crit_in_unprotected_header),
        cmocka_unit_test(test_duplicate_json_members),
        cmocka_unit_test(test_header_name_in_protected_and_unprotected),
        /* Confusion. */
        cmocka_unit_test(test_jws_where_nested_token_required),
        cmocka_unit_test(test_jwe_where_jws_required),
        cmocka_unit_test(test_nested_inner_jws_signed_by_decryption_key),
        cmocka_unit_test(test_verification_set_mixing_secret_and_public_key),
        /* Key selection. */
        cmocka_unit_test(test_embedded_keys_never_trusted),
        cmocka_unit_test(test_kid_injection_only_compared),
        /* Encryption. */
        cmocka_unit_test(test_rsa1_5_padding_oracle),
        cmocka_unit_test(test_gcm_tag_shorter_than_128_bits),
        cmocka_unit_test(test_cbc_hs_tag_truncation),
        cmocka_unit_test(test_dir_cek_all_zero_or_wrong_length),
        cmocka_unit_test(test_rsa_key_below_2048_bits),
        cmocka_unit_test(test_rsa_modulus_with_roca_fingerprint),
        cmocka_unit_test(test_hmac_key_shorter_than_hash),
        /* Limits. */
        cmocka_unit_test(test_limit_token_of_1_mib),
        cmocka_unit_test(test_limit_json_nested_10000_deep),
        cmocka_unit_test(test_limit_10000_recipients),
        cmocka_unit_test(test_limit_10000_signatures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
