/*
 * make_seeds.c — seed corpora for the harnesses, made at build time (so the
 * repository holds no binary corpora): tokens of every algorithm and
 * serialization made by the library with the harnesses' own keys (so they
 * verify and decrypt there), the tokens, keys and PEM/DER files of
 * tests/vectors, and a few claim sets and base64url strings.
 *
 * Usage: make_seeds <vectors dir> <output dir>; writes <output>/<harness>/.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "fuzz_common.h"

static const char *out_dir;
static unsigned written;

static void fail(const char *what, jg_err err)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, jg_strerror(err));
    exit(1);
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

/* Write one seed file <out>/<harness>/<n>-<label>. */
static void seed(const char *harness, const char *label, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, harness);
    make_dir(path);
    snprintf(path, sizeof path, "%s/%s/%04u-%s", out_dir, harness, written++, label);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void seed_str(const char *harness, const char *label, const char *text)
{
    seed(harness, label, text, strlen(text));
}

static const char *claims_json(void)
{
    static char text[512];
    snprintf(text, sizeof text,
             "{\"iss\":\"https://issuer.example\",\"sub\":\"client-42\","
             "\"aud\":[\"https://api.example\",\"https://other.example\"],\"exp\":%lld,"
             "\"nbf\":%lld,\"iat\":%lld,\"jti\":\"id-1\",\"scope\":\"orders:read\","
             "\"client_id\":\"client-42\",\"cnf\":{\"x5t#S256\":\"abc\"}}",
             (long long)FZ_NOW + 3600, (long long)FZ_NOW - 60, (long long)FZ_NOW - 60);
    return text;
}

/* ---- JWS ------------------------------------------------------------------- */

static void jws_seed(const jg_jwk *key, jg_alg alg, const char *prot, const char *unprot,
                     jg_format format, int detached, int b64_false)
{
    jg_jws_signer s = {key, alg, prot, unprot};
    jg_jws_sign_opts o = {format, detached, b64_false};
    /* A compact b64:false payload may not hold '.'. */
    const char *payload =
        b64_false && format == JG_FORMAT_COMPACT ? "$unencoded payload!" : claims_json();
    char *token = NULL;
    jg_err err = jg_jws_sign(payload, strlen(payload), &s, &o, &token, NULL);
    if (err != JG_OK)
        fail(jg_alg_name(alg), err);
    seed_str("jws", jg_alg_name(alg), token);
    if (format == JG_FORMAT_COMPACT && !detached && !b64_false)
        seed_str("access_token", jg_alg_name(alg), token);
    jg_free(token);
}

static void jws_seeds(const fz_keys *k)
{
    const struct {
        const jg_jwk *key;
        jg_alg alg;
    } list[] = {
        {k->hs[0], JG_ALG_HS256},   {k->hs[1], JG_ALG_HS384},     {k->hs[2], JG_ALG_HS512},
        {k->rsa, JG_ALG_RS256},     {k->rsa, JG_ALG_RS384},       {k->rsa, JG_ALG_RS512},
        {k->rsa, JG_ALG_PS256},     {k->rsa, JG_ALG_PS384},       {k->rsa, JG_ALG_PS512},
        {k->p256, JG_ALG_ES256},    {k->p384, JG_ALG_ES384},      {k->p521, JG_ALG_ES512},
        {k->ed25519, JG_ALG_EDDSA}, {k->ed25519, JG_ALG_ED25519}, {k->ed448, JG_ALG_EDDSA},
        {k->ed448, JG_ALG_ED448},
    };
    const char *typ = "{\"typ\":\"at+jwt\"}";
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        jws_seed(list[i].key, list[i].alg, typ, NULL, JG_FORMAT_COMPACT, 0, 0);
        jws_seed(list[i].key, list[i].alg, NULL, "{\"x-note\":\"unprotected\"}",
                 JG_FORMAT_FLATTENED, 0, 0);
    }
    /* Header rules: crit, b64:false, detached, all-unprotected. */
    jws_seed(k->hs[0], JG_ALG_HS256, "{\"exp\":1,\"crit\":[\"exp\"]}", NULL, JG_FORMAT_COMPACT, 0,
             0);
    jws_seed(k->hs[0], JG_ALG_HS256, NULL, NULL, JG_FORMAT_COMPACT, 0, 1);
    jws_seed(k->p256, JG_ALG_ES256, NULL, NULL, JG_FORMAT_FLATTENED, 0, 1);
    jws_seed(k->hs[0], JG_ALG_HS256, NULL, NULL, JG_FORMAT_COMPACT, 1, 0);
    jws_seed(k->ed25519, JG_ALG_EDDSA, "{}", "{\"alg\":\"EdDSA\",\"kid\":\"ed25519\"}",
             JG_FORMAT_FLATTENED, 0, 0);

    /* Several signatures (general JSON). */
    jg_jws_signer signers[3] = {{k->p384, JG_ALG_ES384, NULL, "{\"x\":1}"},
                                {k->rsa, JG_ALG_PS256, "{\"typ\":\"JWT\"}", NULL},
                                {k->hs[1], JG_ALG_HS384, NULL, NULL}};
    jg_jws_sign_opts general = {JG_FORMAT_GENERAL, 0, 0};
    const char *payload = claims_json();
    char *token = NULL;
    jg_err err = jg_jws_sign_multi(payload, strlen(payload), signers, 3, &general, &token, NULL);
    if (err != JG_OK)
        fail("general JWS", err);
    seed_str("jws", "general", token);
    jg_free(token);
}

/* ---- JWE ------------------------------------------------------------------- */

static void jwe_seed(const char *harness, const jg_jwk *key, jg_alg alg, jg_enc enc,
                     jg_format format, int zip, const char *prot, const char *plaintext)
{
    jg_jwe_recipient r = {key, alg, NULL};
    jg_jwe_encrypt_opts o = {.enc = enc,
                             .format = format,
                             .zip = zip,
                             .protected_json = prot,
                             .pbes2_count = FZ_PBES2_COUNT};
    if (format != JG_FORMAT_COMPACT) {
        o.unprotected_json = "{\"x-shared\":true}";
        o.aad = "extra";
        o.aad_len = 5;
    }
    char *token = NULL;
    jg_err err = jg_jwe_encrypt(plaintext, strlen(plaintext), &r, 1, &o, &token, NULL);
    if (err != JG_OK)
        fail(jg_alg_name(alg), err);
    seed_str(harness, jg_alg_name(alg), token);
    jg_free(token);
}

static void jwe_seeds(const fz_keys *k)
{
    const struct {
        const jg_jwk *key;
        jg_alg alg;
        jg_enc enc;
    } list[] = {
        {k->dir[0], JG_ALG_DIR, JG_ENC_A128GCM},
        {k->dir[1], JG_ALG_DIR, JG_ENC_A192GCM},
        {k->dir[2], JG_ALG_DIR, JG_ENC_A256GCM},
        {k->dir[2], JG_ALG_DIR, JG_ENC_A128CBC_HS256},
        {k->dir[3], JG_ALG_DIR, JG_ENC_A192CBC_HS384},
        {k->dir[4], JG_ALG_DIR, JG_ENC_A256CBC_HS512},
        {k->kw[0], JG_ALG_A128KW, JG_ENC_A128GCM},
        {k->kw[1], JG_ALG_A192KW, JG_ENC_A192CBC_HS384},
        {k->kw[2], JG_ALG_A256KW, JG_ENC_A256GCM},
        {k->gcmkw[0], JG_ALG_A128GCMKW, JG_ENC_A128CBC_HS256},
        {k->gcmkw[1], JG_ALG_A192GCMKW, JG_ENC_A192GCM},
        {k->gcmkw[2], JG_ALG_A256GCMKW, JG_ENC_A256CBC_HS512},
        {k->rsa, JG_ALG_RSA_OAEP, JG_ENC_A128GCM},
        {k->rsa, JG_ALG_RSA_OAEP_256, JG_ENC_A256GCM},
        {k->rsa, JG_ALG_RSA_OAEP_384, JG_ENC_A128CBC_HS256},
        {k->rsa, JG_ALG_RSA_OAEP_512, JG_ENC_A256CBC_HS512},
        {k->p256, JG_ALG_ECDH_ES, JG_ENC_A256GCM},
        {k->p384, JG_ALG_ECDH_ES_A128KW, JG_ENC_A128GCM},
        {k->p521, JG_ALG_ECDH_ES_A192KW, JG_ENC_A192CBC_HS384},
        {k->x25519, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM},
        {k->x25519, JG_ALG_ECDH_ES, JG_ENC_A128CBC_HS256},
        {k->x448, JG_ALG_ECDH_ES, JG_ENC_A256GCM},
        {k->pbes2[0], JG_ALG_PBES2_HS256_A128KW, JG_ENC_A128CBC_HS256},
        {k->pbes2[1], JG_ALG_PBES2_HS384_A192KW, JG_ENC_A192GCM},
        {k->pbes2[2], JG_ALG_PBES2_HS512_A256KW, JG_ENC_A256CBC_HS512},
    };
    const char *pt = "The true sign of intelligence is not knowledge but imagination.";
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        jg_format format = i % 3 == 0 ? JG_FORMAT_FLATTENED : JG_FORMAT_COMPACT;
        jwe_seed("jwe", list[i].key, list[i].alg, list[i].enc, format, i % 4 == 1, NULL, pt);
    }
    /* Decompression and an unknown crit the harness understands. */
    jwe_seed("jwe", k->dir[2], JG_ALG_DIR, JG_ENC_A256GCM, JG_FORMAT_COMPACT, 1,
             "{\"x-fuzz\":1,\"crit\":[\"x-fuzz\"]}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

    /* Several recipients (general JSON), with per-recipient headers. */
    jg_jwe_recipient r[3] = {{k->kw[0], JG_ALG_A128KW, "{\"x-r\":1}"},
                             {k->p256, JG_ALG_ECDH_ES_A128KW, NULL},
                             {k->rsa, JG_ALG_RSA_OAEP_256, NULL}};
    jg_jwe_encrypt_opts o = {.enc = JG_ENC_A128CBC_HS256,
                             .format = JG_FORMAT_GENERAL,
                             .protected_json = "{\"cty\":\"text/plain\"}",
                             .unprotected_json = "{\"jku\":\"https://ignored.example\"}"};
    char *token = NULL;
    jg_err err = jg_jwe_encrypt(pt, strlen(pt), r, 3, &o, &token, NULL);
    if (err != JG_OK)
        fail("general JWE", err);
    seed_str("jwe", "general", token);
    jg_free(token);
}

/* ---- Nested access tokens ------------------------------------------------------ */

/* JWE(JWS(claims)) by hand, so PBES2 can use the harness's small p2c. */
static void nested_seed(const jg_jwk *sign_key, jg_alg sign_alg, const jg_jwk *enc_key,
                        jg_alg key_alg, jg_enc enc)
{
    jg_claims *claims = NULL;
    jg_err err = jg_claims_parse(claims_json(), strlen(claims_json()), NULL, &claims);
    jg_jwt_sign_opts so = {.alg = sign_alg, .typ = "at+jwt"};
    char *jws = NULL;
    if (err == JG_OK)
        err = jg_jwt_sign(claims, sign_key, &so, &jws, NULL);
    jg_claims_free(claims);
    if (err != JG_OK)
        fail("nested sign", err);
    jwe_seed("access_token", enc_key, key_alg, enc, JG_FORMAT_COMPACT, 0, "{\"cty\":\"JWT\"}", jws);
    jg_free(jws);
}

static void access_token_seeds(const fz_keys *k)
{
    nested_seed(k->p384, JG_ALG_ES384, k->p256, JG_ALG_ECDH_ES_A256KW, JG_ENC_A256GCM);
    nested_seed(k->rsa, JG_ALG_PS256, k->p521, JG_ALG_ECDH_ES, JG_ENC_A128CBC_HS256);
    nested_seed(k->ed25519, JG_ALG_EDDSA, k->x25519, JG_ALG_ECDH_ES, JG_ENC_A256GCM);
    nested_seed(k->hs[0], JG_ALG_HS256, k->dir[2], JG_ALG_DIR, JG_ENC_A256GCM);
    nested_seed(k->rsa, JG_ALG_RS256, k->kw[2], JG_ALG_A256KW, JG_ENC_A256GCM);
    nested_seed(k->p384, JG_ALG_ES384, k->gcmkw[0], JG_ALG_A128GCMKW, JG_ENC_A128GCM);
    nested_seed(k->hs[2], JG_ALG_HS512, k->pbes2[0], JG_ALG_PBES2_HS256_A128KW,
                JG_ENC_A128CBC_HS256);
    nested_seed(k->p384, JG_ALG_ES384, k->x448, JG_ALG_ECDH_ES_A192KW, JG_ENC_A192GCM);
    /* Claims encrypted without a signature (JG_FORM_ENCRYPTED). */
    jwe_seed("access_token", k->p256, JG_ALG_ECDH_ES_A128KW, JG_ENC_A128GCM, JG_FORMAT_COMPACT, 0,
             "{\"typ\":\"at+jwt\"}", claims_json());
}

/* ---- Keys, claims, base64url ------------------------------------------------- */

static void key_seeds(const fz_keys *k)
{
    const jg_jwk *list[] = {k->rsa,   k->p256,     k->p384,    k->p521,  k->ed25519,
                            k->ed448, k->x25519,   k->x448,    k->hs[0], k->dir[0],
                            k->kw[1], k->gcmkw[2], k->pbes2[0]};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        char *text = NULL;
        if (jg_jwk_to_json(list[i], JG_EXPORT_PRIVATE, &text, NULL) != JG_OK)
            fail("jwk export", JG_ERR_CRYPTO);
        seed_str("jwk", jg_jwk_kid(list[i]), text);
        jg_free_secret(text, 0);
        if (jg_jwk_to_json(list[i], 0, &text, NULL) == JG_OK) {
            seed_str("jwk", jg_jwk_kid(list[i]), text);
            jg_free(text);
        }
        if (jg_jwk_to_pem(list[i], JG_EXPORT_PRIVATE, &text, NULL) == JG_OK) {
            seed_str("pem", jg_jwk_kid(list[i]), text);
            jg_free_secret(text, 0);
        }
    }
    char *text = NULL;
    if (jg_jwks_to_json(k->issuer, JG_EXPORT_PRIVATE, &text, NULL) != JG_OK)
        fail("jwks export", JG_ERR_CRYPTO);
    seed_str("jwk", "jwks", text);
    jg_free_secret(text, 0);
}

static void claims_seeds(void)
{
    seed_str("claims", "full", claims_json());
    seed_str("claims", "min", "{}");
    seed_str("claims", "aud-string", "{\"aud\":\"https://api.example\",\"exp\":1735693200}");
    seed_str("claims", "reals", "{\"exp\":1.7356932e9,\"nbf\":-1.0,\"iat\":0}");
    seed_str("claims", "nested", "{\"a\":[1,{\"b\":[true,null,\"\\u00e9\"]}],\"sub\":\"x\"}");
    seed_str("b64url", "text", "eyJhbGciOiJIUzI1NiJ9");
    seed_str("b64url", "tail2", "YQ");
    seed_str("b64url", "tail3", "YWI");
    seed_str("b64url", "bad", "a+b/c=");
}

/* DPoP proofs for fuzz_dpop's policies, by the harness's keys. */
static void dpop_seeds(const fz_keys *k)
{
    const jg_jwk *keys[] = {k->p256, k->rsa, k->ed25519, k->p384};
    const char *labels[] = {"p256", "rsa", "ed25519", "p384"};
    for (size_t i = 0; i < 4; i++) {
        for (int kind = 0; kind < 2; kind++) {
            jg_dpop_proof_opts o = {.key = keys[i], .iat = FZ_NOW, .jti = "fuzz-jti"};
            o.htm = kind ? "GET" : "POST";
            o.htu = kind ? "https://api.example.com/orders" : "https://as.example.com/oauth2/token";
            o.access_token = kind ? "fuzz-token" : NULL;
            o.nonce = kind ? "fuzz-nonce" : NULL;
            char *proof = NULL;
            jg_err err = jg_dpop_proof_create(&o, &proof, NULL);
            if (err != JG_OK)
                fail("dpop proof", err);
            char label[64];
            snprintf(label, sizeof label, "%s-%s", labels[i], kind ? "resource" : "token");
            seed_str("dpop", label, proof);
            jg_free(proof);
        }
    }
    seed_str("dpop", "htu", "HTTPS://Api.Example.COM:443/a%2fb?q#f");
    seed_str("dpop", "htu-v6", "http://[2001:db8::1]:8080");
}

/* ---- Test vectors ------------------------------------------------------------ */

static int is_token_text(const char *s, size_t *dots)
{
    *dots = 0;
    for (; *s != '\0'; s++) {
        if (*s == '.')
            ++*dots;
        else if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                   (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    }
    return 1;
}

/* Every token, JSON serialization and JWK found anywhere in a vector file. */
static void walk(json_t *v, const char *label)
{
    if (json_is_string(v)) {
        size_t dots = 0;
        if (is_token_text(json_string_value(v), &dots) && (dots == 2 || dots == 4)) {
            seed_str(dots == 2 ? "jws" : "jwe", label, json_string_value(v));
            seed_str("access_token", label, json_string_value(v));
        }
        return;
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            walk(json_array_get(v, i), label);
        return;
    }
    if (!json_is_object(v))
        return;
    const char *harness = json_object_get(v, "ciphertext") ? "jwe"
                          : json_object_get(v, "signature") || json_object_get(v, "signatures")
                              ? "jws"
                          : json_object_get(v, "kty") || json_object_get(v, "keys") ? "jwk"
                                                                                    : NULL;
    if (harness != NULL) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text != NULL)
            seed_str(harness, label, text);
        free(text);
    }
    const char *name;
    json_t *member;
    json_object_foreach (v, name, member)
        walk(member, label);
}

static void copy_file(const char *path, const char *harness, const char *label)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    seed(harness, label, buf, n);
}

static void vector_seeds(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        exit(1);
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode)) {
            vector_seeds(path);
        } else if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
            json_error_t error;
            json_t *root = json_load_file(path, 0, &error);
            if (root != NULL)
                walk(root, "vector");
            json_decref(root);
        } else if (n > 4 && (strcmp(e->d_name + n - 4, ".pem") == 0 ||
                             strcmp(e->d_name + n - 4, ".der") == 0)) {
            copy_file(path, "pem", e->d_name);
        }
    }
    closedir(d);
}

/* A JSON snapshot and its compiled form. */
static void snapshot_seeds(void)
{
    static const char doc[] =
        "{\"format\":\"jwtgate-snapshot\",\"format_version\":1,\"version\":3,"
        "\"generated_at\":1,\"issuer\":\"https://i\",\"token_ttl\":60,"
        "\"db_id\":\"000102030405060708090a0b0c0d0e0f\","
        "\"decryption_keys\":{\"keys\":[]},\"verification_keys\":{\"keys\":[]},\"keys\":[],"
        "\"apis\":[{\"id\":\"a1\",\"base_path\":\"/orders\",\"audience\":\"aud\","
        "\"scopes\":[\"read\",\"write\"],\"state\":\"published\",\"sunset\":null},"
        "{\"id\":\"a2\",\"base_path\":\"/files/\",\"audience\":\"aud2\",\"scopes\":[],"
        "\"state\":\"deprecated\",\"sunset\":99,\"deprecated_at\":9}],"
        "\"subscriptions\":[{\"id\":\"s1\",\"client_id\":\"c1\",\"api_id\":\"a1\","
        "\"scopes\":[\"read\"]}],\"revoked_jti\":[{\"jti\":\"j1\",\"exp\":5}],"
        "\"suspended_clients\":[\"c2\"]}";
    seed_str("snapshot", "json", doc);
    uint8_t *bin;
    size_t len;
    jg_err err = jg_snapshot_compile_json(doc, strlen(doc), &bin, &len, NULL, 0);
    if (err != JG_OK)
        fail("compile the snapshot seed", err);
    seed("snapshot", "compiled", bin, len);
    jg_free_secret(bin, len);
}

/* fuzz_llm: its two selector bytes (mode, formats), then a body, an answer or a stream. */
static void llm_seed(unsigned mode, unsigned sel, const char *label, const char *body, size_t n)
{
    char *buf = malloc(n + 2);
    if (buf == NULL)
        exit(1);
    buf[0] = (char)mode;
    buf[1] = (char)sel;
    memcpy(buf + 2, body, n);
    seed("llm", label, buf, n + 2);
    free(buf);
}

static void llm_file_seed(unsigned mode, unsigned sel, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/llm/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    llm_seed(mode, sel, name, buf, n);
}

static void llm_seeds(const char *dir)
{
    static const char *const bodies[] = {
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"},{\"type\":"
        "\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}]}],"
        "\"stream\":true,\"stop\":[\"x\"],\"temperature\":1.5,\"max_tokens\":9}",
        "{\"model\":\"c\",\"max_tokens\":5,\"system\":[{\"type\":\"text\",\"text\":\"s\"}],"
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":"
        "{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"AA\"}}]}],"
        "\"stop_sequences\":[\"a\"],\"stream\":true}",
    };
    llm_seed(0, 0, "openai-request", bodies[0], strlen(bodies[0]));
    llm_seed(0, 1, "anthropic-request", bodies[1], strlen(bodies[1]));
    static const char emb[] = "{\"model\":\"e\",\"input\":[\"a\",\"b\"]}";
    llm_seed(1, 0, "embeddings", emb, strlen(emb));
    for (unsigned c = 0; c < 2; c++) {
        llm_file_seed(2, 0 | (c << 1), dir, "openai_chat.json");
        llm_file_seed(2, 1 | (c << 1), dir, "anthropic_message.json");
        llm_file_seed(3, 0 | (c << 1) | 4 | (5u << 3), dir, "openai_stream.sse");
        llm_file_seed(4, 1 | (c << 1) | (1u << 3), dir, "anthropic_stream.sse");
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_seeds <vectors dir> <output dir>\n");
        return 2;
    }
    out_dir = argv[2];
    make_dir(out_dir);
    setenv("JG_FUZZ_VECTORS_DIR", argv[1], 1);
    const fz_keys *k = fz_keys_get();
    jws_seeds(k);
    jwe_seeds(k);
    access_token_seeds(k);
    key_seeds(k);
    claims_seeds();
    dpop_seeds(k);
    snapshot_seeds();
    llm_seeds(argv[1]);
    vector_seeds(argv[1]);
    printf("make_seeds: %u seeds in %s\n", written, out_dir);
    return 0;
}
