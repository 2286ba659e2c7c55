/*
 * bench_jwtgate.c — jwtgate's cells of the benchmark (see bench.h).
 *
 *   bench_jwtgate --keys DIR      write the benchmark's keys (JWK, PEM, raw)
 *   bench_jwtgate DIR             time every operation with those keys
 *   bench_jwtgate --hostile       time the rejection of hostile inputs
 *
 * "verify" is jg_jwt_verify with the full policy (algs, typ "at+jwt", iss,
 * aud, exp/iat) returning the claims: the path a gateway runs per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_WITH_THREADS
#include "bench.h"
#include "jwtgate/jwtgate.h"

/* ---- Keys ------------------------------------------------------------------ */

/* The benchmark's keys; peers read the same files. */
static const struct key_spec {
    const char *name;
    jg_alg alg; /* to generate a suitable key */
    jg_crv crv; /* for ECDH-ES on X25519 */
    int write_pem;
} key_specs[] = {
    {"hs256", JG_ALG_HS256, JG_CRV_NONE, 0},
    {"rsa", JG_ALG_RS256, JG_CRV_NONE, 1},
    {"es256", JG_ALG_ES256, JG_CRV_NONE, 1},
    {"ed25519", JG_ALG_EDDSA, JG_CRV_NONE, 1},
    {"dir", JG_ALG_DIR, JG_CRV_NONE, 0},
    {"a256kw", JG_ALG_A256KW, JG_CRV_NONE, 0},
    {"ecdh_p256", JG_ALG_ECDH_ES_A256KW, JG_CRV_P256, 1},
    {"ecdh_x25519", JG_ALG_ECDH_ES_A256KW, JG_CRV_X25519, 1},
    {"rsa_oaep", JG_ALG_RSA_OAEP_256, JG_CRV_NONE, 1},
};

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Write DIR/<name>.jwk (private, without "alg"/"use" so every library takes
 * it as is), .pub.jwk, and .pem/.pub.pem (asymmetric) or .bin (secrets). */
static int write_keys(const char *dir)
{
    for (size_t i = 0; i < sizeof key_specs / sizeof key_specs[0]; i++) {
        const struct key_spec *s = &key_specs[i];
        jg_jwk *gen = NULL, *key = NULL;
        char file[256], *text = NULL;
        size_t len = 0;
        jg_jwk_meta meta = {.kid = s->name};
        if (jg_jwk_generate_for_alg(s->alg, s->crv, 0, s->name, &gen) != JG_OK ||
            jg_jwk_with_meta(gen, &meta, &key) != JG_OK)
            return -1;
        jg_jwk_free(gen);
        if (jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &text, &len) != JG_OK)
            return -1;
        snprintf(file, sizeof file, "%s.jwk", s->name);
        if (write_file(dir, file, text, len) != 0)
            return -1;
        if (jg_jwk_kty(key) == JG_KTY_OCT) {
            /* The raw secret, for libraries without JWK support. */
            const char *k = strstr(text, "\"k\":\"");
            const char *end = k != NULL ? strchr(k + 5, '"') : NULL;
            unsigned char raw[64];
            size_t raw_len = 0;
            if (end == NULL || (size_t)(end - k - 5) > 86 ||
                jg_b64url_decode(k + 5, (size_t)(end - k - 5), raw, &raw_len) != JG_OK)
                return -1;
            snprintf(file, sizeof file, "%s.bin", s->name);
            if (write_file(dir, file, raw, raw_len) != 0)
                return -1;
        }
        jg_free_secret(text, 0);
        if (s->write_pem) {
            if (jg_jwk_to_json(key, 0, &text, &len) != JG_OK)
                return -1;
            snprintf(file, sizeof file, "%s.pub.jwk", s->name);
            if (write_file(dir, file, text, len) != 0)
                return -1;
            jg_free(text);
            if (jg_jwk_to_pem(key, JG_EXPORT_PRIVATE, &text, &len) != JG_OK)
                return -1;
            snprintf(file, sizeof file, "%s.pem", s->name);
            if (write_file(dir, file, text, len) != 0)
                return -1;
            jg_free_secret(text, 0);
            if (jg_jwk_to_pem(key, 0, &text, &len) != JG_OK)
                return -1;
            snprintf(file, sizeof file, "%s.pub.pem", s->name);
            if (write_file(dir, file, text, len) != 0)
                return -1;
            jg_free(text);
        }
        jg_jwk_free(key);
    }
    return 0;
}

static const char *keydir;

/* A private key from DIR/<name>.jwk; exits on failure (a broken setup). */
static jg_jwk *load_key(const char *name, int public_only)
{
    char file[256];
    snprintf(file, sizeof file, "%s.jwk", name);
    size_t len = 0;
    char *text = bench_read_file(keydir, file, &len);
    jg_jwk *key = NULL;
    if (text == NULL || jg_jwk_parse(text, len, public_only ? JG_JWK_PUBLIC_ONLY : 0, &key)) {
        fprintf(stderr, "bench_jwtgate: cannot load key %s\n", name);
        exit(2);
    }
    free(text);
    return key;
}

/* A set holding one key (its public part when public_only). */
static jg_jwks *set_of(const char *name, int public_only)
{
    jg_jwks *set = NULL;
    jg_jwk *key = load_key(name, public_only);
    if (jg_jwks_new(&set) != JG_OK || jg_jwks_add(set, key) != JG_OK)
        exit(2);
    jg_jwk_free(key); /* the set holds its own reference */
    return set;
}

/* ---- Cells ------------------------------------------------------------------- */

static char claims_json[512];
static size_t claims_len;
static jg_claims *claims;

typedef struct sig_cell {
    jg_alg alg;
    jg_jwk *key;
    jg_jwks *verify_set;
    jg_jwt_policy policy;
    char *token;
    size_t token_len;
} sig_cell;

static int do_sign(void *ctx)
{
    sig_cell *c = ctx;
    jg_jwt_sign_opts opts = {.alg = c->alg, .typ = "at+jwt"};
    char *out = NULL;
    size_t len = 0;
    if (jg_jwt_sign(claims, c->key, &opts, &out, &len) != JG_OK)
        return 1;
    jg_free(out);
    return 0;
}

static int do_verify(void *ctx)
{
    sig_cell *c = ctx;
    jg_claims *got = NULL;
    if (jg_jwt_verify(c->token, c->token_len, c->verify_set, &c->policy, &got) != JG_OK)
        return 1;
    jg_claims_free(got);
    return 0;
}

static jg_jwt_policy jwt_policy(jg_alg alg)
{
    jg_jwt_policy p = {
        .algs = JG_ALG_BIT(alg),
        .issuer = BENCH_ISS,
        .audience = BENCH_AUD,
        .typ = "at+jwt",
        .max_age = 86400,
    };
    return p;
}

static void sig_cells(const char *op, jg_alg alg, const char *keyname)
{
    char name[64];
    sig_cell c = {.alg = alg, .key = load_key(keyname, 0), .policy = jwt_policy(alg)};
    c.verify_set = set_of(keyname, jg_jwk_kty(c.key) != JG_KTY_OCT);
    jg_jwt_sign_opts opts = {.alg = alg, .typ = "at+jwt"};
    snprintf(name, sizeof name, "%s_sign", op);
    bench_cell(name, do_sign, &c, NULL);
    snprintf(name, sizeof name, "%s_verify", op);
    if (jg_jwt_sign(claims, c.key, &opts, &c.token, &c.token_len) != JG_OK)
        bench_fail(name, "could not make a token");
    else
        bench_cell(name, do_verify, &c, "jg_jwt_verify: alg, typ at+jwt, iss, aud, exp, iat");
    jg_free(c.token);
    jg_jwks_free(c.verify_set);
    jg_jwk_free(c.key);
}

typedef struct enc_cell {
    jg_alg alg;
    jg_jwk *key;
    jg_jwks *set;
    char *token;
    size_t token_len;
} enc_cell;

static int do_encrypt(void *ctx)
{
    enc_cell *c = ctx;
    jg_jwe_recipient r = {.key = c->key, .alg = c->alg};
    jg_jwe_encrypt_opts opts = {.enc = JG_ENC_A256GCM};
    char *out = NULL;
    if (jg_jwe_encrypt(claims_json, claims_len, &r, 1, &opts, &out, NULL) != JG_OK)
        return 1;
    jg_free(out);
    return 0;
}

static int do_decrypt(void *ctx)
{
    enc_cell *c = ctx;
    jg_jwe_decrypt_opts opts = {.algs = JG_ALG_BIT(c->alg), .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
    jg_jwe *jwe = NULL;
    if (jg_jwe_decrypt(c->token, c->token_len, c->set, &opts, &jwe) != JG_OK)
        return 1;
    size_t len = 0;
    const unsigned char *pt = jg_jwe_plaintext(jwe, &len);
    int bad = len != claims_len || memcmp(pt, claims_json, len) != 0;
    jg_jwe_free(jwe);
    return bad;
}

static void enc_cells(const char *op, jg_alg alg, const char *keyname)
{
    char name[64];
    enc_cell c = {.alg = alg, .key = load_key(keyname, 0)};
    int oct = jg_jwk_kty(c.key) == JG_KTY_OCT;
    jg_jwk *pub = NULL;
    if (!oct && jg_jwk_public(c.key, &pub) != JG_OK)
        exit(2);
    enc_cell e = c;
    e.key = oct ? c.key : pub; /* encrypt with the public key, as a sender would */
    c.set = set_of(keyname, 0);
    snprintf(name, sizeof name, "%s_encrypt", op);
    bench_cell(name, do_encrypt, &e, NULL);
    snprintf(name, sizeof name, "%s_decrypt", op);
    jg_jwe_recipient r = {.key = e.key, .alg = alg};
    jg_jwe_encrypt_opts opts = {.enc = JG_ENC_A256GCM};
    if (jg_jwe_encrypt(claims_json, claims_len, &r, 1, &opts, &c.token, &c.token_len) != JG_OK)
        bench_fail(name, "could not make a token");
    else
        bench_cell(name, do_decrypt, &c, "plaintext compared");
    jg_free(c.token);
    jg_jwks_free(c.set);
    jg_jwk_free(pub);
    jg_jwk_free(c.key);
}

/* Nested tokens: ES256 inside ECDH-ES+A256KW/A256GCM. */
typedef struct nested_cell {
    jg_jwk *sign_key, *enc_pub;
    jg_jwks *decrypt_set, *verify_set;
    jg_open_policy policy;
    char *token;
    size_t token_len;
} nested_cell;

static int do_seal(void *ctx)
{
    nested_cell *c = ctx;
    jg_seal_opts opts = {
        .sign_alg = JG_ALG_ES256, .key_alg = JG_ALG_ECDH_ES_A256KW, .enc = JG_ENC_A256GCM};
    char *out = NULL;
    if (jg_access_token_seal(claims, c->sign_key, c->enc_pub, &opts, &out, NULL) != JG_OK)
        return 1;
    jg_free(out);
    return 0;
}

static int do_open(void *ctx)
{
    nested_cell *c = ctx;
    jg_claims *got = NULL;
    if (jg_access_token_open(c->token, c->token_len, c->decrypt_set, c->verify_set, &c->policy,
                             &got) != JG_OK)
        return 1;
    jg_claims_free(got);
    return 0;
}

static void nested_cells(void)
{
    nested_cell c = {.sign_key = load_key("es256", 0)};
    jg_jwk *enc = load_key("ecdh_p256", 0);
    if (jg_jwk_public(enc, &c.enc_pub) != JG_OK)
        exit(2);
    jg_jwk_free(enc);
    c.decrypt_set = set_of("ecdh_p256", 0);
    c.verify_set = set_of("es256", 1);
    c.policy.jwt = jwt_policy(JG_ALG_ES256);
    c.policy.key_algs = JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW);
    c.policy.encs = JG_ENC_BIT(JG_ENC_A256GCM);
    bench_cell("nested_seal", do_seal, &c, NULL);
    jg_seal_opts opts = {
        .sign_alg = JG_ALG_ES256, .key_alg = JG_ALG_ECDH_ES_A256KW, .enc = JG_ENC_A256GCM};
    if (jg_access_token_seal(claims, c.sign_key, c.enc_pub, &opts, &c.token, &c.token_len) !=
        JG_OK) {
        bench_fail("nested_open", "could not make a token");
    } else {
        bench_cell("nested_open", do_open, &c, "jg_access_token_open: decrypt, verify, claims");
        bench_threads("nested_open_1t", "nested_open_2t", do_open, &c, "one shared key set");
    }
    jg_free(c.token);
    jg_jwks_free(c.decrypt_set);
    jg_jwks_free(c.verify_set);
    jg_jwk_free(c.enc_pub);
    jg_jwk_free(c.sign_key);
}

typedef struct parse_cell {
    char *text;
    size_t len;
} parse_cell;

static int do_jwk_parse(void *ctx)
{
    parse_cell *c = ctx;
    jg_jwk *key = NULL;
    if (jg_jwk_parse(c->text, c->len, 0, &key) != JG_OK)
        return 1;
    jg_jwk_free(key);
    return 0;
}

static void parse_cells(void)
{
    static const char *const names[][2] = {{"jwk_parse_ec", "es256.pub.jwk"},
                                           {"jwk_parse_rsa", "rsa.pub.jwk"}};
    for (size_t i = 0; i < 2; i++) {
        parse_cell c = {.text = bench_read_file(keydir, names[i][1], &c.len)};
        if (c.text == NULL)
            exit(2);
        bench_cell(names[i][0], do_jwk_parse, &c, "public JWK to a ready key (point checked)");
        free(c.text);
    }
}

/* ---- Hostile inputs (for issue 6): time to refuse each under defaults ---- */

typedef struct hostile_cell {
    char *token;
    size_t len;
    jg_jwks *set;
    int jwe;
    jg_err expect_any; /* JG_OK: any error is fine */
} hostile_cell;

static int do_hostile(void *ctx)
{
    hostile_cell *c = ctx;
    jg_err err;
    if (c->jwe) {
        jg_jwe_decrypt_opts opts = {.algs = ~(jg_alg_set)0 & ~JG_ALG_BIT(JG_ALG_RSA1_5),
                                    .encs = ~(jg_enc_set)0};
        jg_jwe *jwe = NULL;
        err = jg_jwe_decrypt(c->token, c->len, c->set, &opts, &jwe);
        jg_jwe_free(jwe);
    } else {
        jg_jws_verify_opts opts = {.algs = JG_ALGS_HMAC};
        jg_jws *jws = NULL;
        err = jg_jws_verify(c->token, c->len, c->set, &opts, &jws);
        jg_jws_free(jws);
    }
    return err == JG_OK; /* success here is the failure */
}

static char *repeat_join(const char *head, const char *item, size_t n, const char *sep,
                         const char *tail, size_t *len)
{
    size_t hl = strlen(head), il = strlen(item), sl = strlen(sep), tl = strlen(tail);
    size_t cap = hl + n * (il + sl) + tl + 1;
    char *s = malloc(cap), *p = s;
    if (s == NULL)
        exit(2);
    memcpy(p, head, hl);
    p += hl;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            memcpy(p, sep, sl);
            p += sl;
        }
        memcpy(p, item, il);
        p += il;
    }
    memcpy(p, tail, tl);
    p += tl;
    *p = '\0';
    *len = (size_t)(p - s);
    return s;
}

static void hostile_one(const char *op, char *token, size_t len, jg_jwks *set, int jwe)
{
    hostile_cell c = {.token = token, .len = len, .set = set, .jwe = jwe};
    char note[128];
    jg_err err = JG_OK;
    /* Say which error refused it. */
    if (jwe) {
        jg_jwe_decrypt_opts opts = {.algs = ~(jg_alg_set)0 & ~JG_ALG_BIT(JG_ALG_RSA1_5),
                                    .encs = ~(jg_enc_set)0};
        jg_jwe *out = NULL;
        err = jg_jwe_decrypt(token, len, set, &opts, &out);
        jg_jwe_free(out);
    } else {
        jg_jws_verify_opts opts = {.algs = JG_ALGS_HMAC};
        jg_jws *out = NULL;
        err = jg_jws_verify(token, len, set, &opts, &out);
        jg_jws_free(out);
    }
    snprintf(note, sizeof note, "%zu bytes -> %s", len, jg_strerror(err));
    bench_cell(op, do_hostile, &c, note);
    free(token);
}

static void hostile_cells(void)
{
    unsigned char secret[32] = {1};
    jg_jwk *key = NULL;
    jg_jwks *set = NULL;
    if (jg_jwk_from_secret(secret, sizeof secret, NULL, &key) != JG_OK ||
        jg_jwks_new(&set) != JG_OK || jg_jwks_add(set, key) != JG_OK)
        exit(2);
    jg_jwk_free(key);
    size_t len = 0;
    char *t;

    /* 1 MiB compact token (header {"alg":"HS256"} then a huge payload). */
    t = repeat_join("eyJhbGciOiJIUzI1NiJ9.", "A", 1u << 20, "", ".c2ln", &len);
    hostile_one("hostile_1mib_token", t, len, set, 0);

    /* JSON nested 10,000 deep (a JWS JSON serialization). */
    char *open = repeat_join("", "[", 10000, "", "", &len);
    char *close = repeat_join("", "]", 10000, "", "", &len);
    size_t n = strlen(open) * 2 + 64;
    t = malloc(n);
    if (t == NULL)
        exit(2);
    len = (size_t)snprintf(t, n, "{\"payload\":\"\",\"x\":%s1%s,\"signature\":\"\"}", open, close);
    free(open);
    free(close);
    hostile_one("hostile_depth_10000", t, len, set, 0);

    /* 10,000 signatures (small ones, so that the token stays under the size
     * limit and the signature count is what refuses it). */
    t = repeat_join("{\"payload\":\"e30\",\"signatures\":[", "{\"signature\":\"\"}", 10000, ",",
                    "]}", &len);
    hostile_one("hostile_10000_signatures", t, len, set, 0);

    /* 10,000 recipients (empty ones: the count, not the size, refuses it). */
    t = repeat_join("{\"protected\":\"eyJlbmMiOiJBMjU2R0NNIn0\",\"iv\":\"AAAAAAAAAAAAAAAA\","
                    "\"ciphertext\":\"AAAA\",\"tag\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"recipients\":[",
                    "{}", 10000, ",", "]}", &len);
    hostile_one("hostile_10000_recipients", t, len, set, 1);

    /* PBES2 with p2c = 10^9: {"alg":"PBES2-HS256+A128KW","enc":"A256GCM",
     * "p2s":"AAAAAAAAAAAAAAAAAAAAAA","p2c":1000000000} */
    const char *pbes2_hdr = "{\"alg\":\"PBES2-HS256+A128KW\",\"enc\":\"A256GCM\","
                            "\"p2s\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"p2c\":1000000000}";
    char *hdr = NULL;
    size_t hdr_len = 0;
    if (jg_b64url_encode_alloc(pbes2_hdr, strlen(pbes2_hdr), &hdr, &hdr_len) != JG_OK)
        exit(2);
    n = hdr_len + 128;
    t = malloc(n);
    if (t == NULL)
        exit(2);
    len = (size_t)snprintf(t, n,
                           "%s.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA."
                           "AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
                           hdr);
    jg_free(hdr);
    hostile_one("hostile_pbes2_p2c_1e9", t, len, set, 1);

    /* A zip bomb: a dir/A256GCM token whose DEFLATE payload inflates to
     * 100 MB, sealed with the set's key so decryption gets as far as inflating. */
    jg_jwks_free(set);
    jg_jwk_meta dir_meta = {.alg = JG_ALG_DIR};
    if (jg_jwk_from_secret(secret, sizeof secret, &dir_meta, &key) != JG_OK ||
        jg_jwks_new(&set) != JG_OK || jg_jwks_add(set, key) != JG_OK)
        exit(2);
    size_t big = 100u * 1000u * 1000u;
    char *zeros = calloc(1, big);
    if (zeros == NULL)
        exit(2);
    jg_jwe_recipient r = {.key = key, .alg = JG_ALG_DIR};
    jg_jwe_encrypt_opts zopts = {.enc = JG_ENC_A256GCM, .zip = 1};
    if (jg_jwe_encrypt(zeros, big, &r, 1, &zopts, &t, &len) != JG_OK)
        exit(2);
    free(zeros);
    jg_jwk_free(key);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        exit(2);
    memcpy(copy, t, len + 1);
    jg_free(t);
    hostile_one("hostile_zip_bomb_100mb", copy, len, set, 1);
    jg_jwks_free(set);
}

/* DPoP (RFC 9449): one proof verify per request, as a gateway does it (ES256
 * proof with "ath" of the presented token, the policy of a resource
 * request), against a bare ES256 JWS verify with a prepared key in the same
 * run: the target is dpop_es256_verify <= 1.1 x es256_jws_verify. */
typedef struct dpop_cell {
    jg_dpop_policy policy;
    char *proof;
    jg_jwks *set;
    char *jws;
    size_t jws_len;
    jg_dpop_cache *cache;
} dpop_cell;

static int do_dpop_verify(void *ctx)
{
    dpop_cell *c = ctx;
    jg_dpop_result r;
    return jg_dpop_verify(c->proof, strlen(c->proof), &c->policy, &r, NULL) != JG_OK;
}

static int do_dpop_verify_cached(void *ctx)
{
    dpop_cell *c = ctx;
    jg_dpop_result r;
    return jg_dpop_verify_cached(c->proof, strlen(c->proof), &c->policy, c->cache, &r, NULL) !=
           JG_OK;
}

static int do_jws_verify(void *ctx)
{
    dpop_cell *c = ctx;
    jg_jws_verify_opts opts = {.algs = JG_ALG_BIT(JG_ALG_ES256)};
    jg_jws *jws = NULL;
    if (jg_jws_verify(c->jws, c->jws_len, c->set, &opts, &jws) != JG_OK)
        return 1;
    jg_jws_free(jws);
    return 0;
}

static void dpop_cells(void)
{
    static const char token[] =
        "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.an-access-token-of-the-usual-size";
    dpop_cell c = {0};
    jg_jwk *key = load_key("es256", 0);
    c.set = set_of("es256", 1);
    jg_dpop_proof_opts o = {
        .key = key, .alg = JG_ALG_ES256, .htm = "GET", .htu = BENCH_AUD, .access_token = token};
    jg_jws_signer signer = {.key = key, .alg = JG_ALG_ES256};
    if (jg_dpop_proof_create(&o, &c.proof, NULL) != JG_OK ||
        jg_jws_sign(claims_json, claims_len, &signer, NULL, &c.jws, &c.jws_len) != JG_OK) {
        bench_fail("dpop_es256_verify", "could not make a proof");
    } else {
        c.policy = (jg_dpop_policy){.algs = JG_ALG_BIT(JG_ALG_ES256),
                                    .htm = "GET",
                                    .htm_len = 3,
                                    .htu = BENCH_AUD "?page=1",
                                    .htu_len = strlen(BENCH_AUD "?page=1"),
                                    .access_token = token,
                                    .access_token_len = strlen(token),
                                    .window = 86400};
        bench_cell("es256_jws_verify", do_jws_verify, &c, "jg_jws_verify: ES256, a prepared key");
        bench_cell("dpop_es256_verify", do_dpop_verify, &c,
                   "jg_dpop_verify: ES256 proof, jwk import, htm, htu, iat, ath, jkt out");
        if (jg_dpop_cache_new(0, &c.cache) == JG_OK)
            bench_cell("dpop_es256_verify_cached", do_dpop_verify_cached, &c,
                       "jg_dpop_verify_cached: the same, the client's key prepared (cache hit)");
        jg_dpop_cache_free(c.cache);
    }
    jg_free(c.proof);
    jg_free(c.jws);
    jg_jwks_free(c.set);
    jg_jwk_free(key);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--keys") == 0) {
        if (write_keys(argv[2]) != 0) {
            fprintf(stderr, "bench_jwtgate: could not write keys to %s\n", argv[2]);
            return 2;
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--hostile") == 0) {
        hostile_cells();
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: bench_jwtgate --keys DIR | DIR | --hostile\n");
        return 2;
    }
    keydir = argv[1];
    claims_len = bench_claims(claims_json, NULL);
    if (jg_claims_parse(claims_json, claims_len, NULL, &claims) != JG_OK)
        return 2;

    sig_cells("hs256", JG_ALG_HS256, "hs256");
    sig_cells("rs256", JG_ALG_RS256, "rsa");
    sig_cells("ps256", JG_ALG_PS256, "rsa");
    sig_cells("es256", JG_ALG_ES256, "es256");
    sig_cells("eddsa", JG_ALG_EDDSA, "ed25519");
    enc_cells("dir_a256gcm", JG_ALG_DIR, "dir");
    enc_cells("a256kw", JG_ALG_A256KW, "a256kw");
    enc_cells("ecdh_p256", JG_ALG_ECDH_ES_A256KW, "ecdh_p256");
    enc_cells("ecdh_x25519", JG_ALG_ECDH_ES_A256KW, "ecdh_x25519");
    enc_cells("rsa_oaep", JG_ALG_RSA_OAEP_256, "rsa_oaep");
    nested_cells();
    dpop_cells();
    parse_cells();
    jg_claims_free(claims);
    return 0;
}
