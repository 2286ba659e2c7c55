/*
 * bench_cjose.c — cjose (Debian's 0.6) cells of the benchmark (see bench.h).
 *
 *   bench_cjose DIR      (DIR written by `bench_jwtgate --keys DIR`)
 *
 * cjose does JWS (HS*, RS*, PS*, ES*) and JWE (dir, AxxxKW, RSA-OAEP with
 * SHA-1, RSA1_5, ECDH-ES direct) over compact tokens, with keys imported
 * from JWKs once. It has no JWT layer: verify here is cjose_jws_import +
 * cjose_jws_verify, then "typ" and the claims (exp, iat, iss, aud) checked by
 * hand with jansson (bench_jansson.h), the same work jg_jwt_verify does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "bench.h"
#include "bench_jansson.h"

static const char *keydir;
static char claims[512];
static size_t claims_len;

static cjose_jwk_t *load_jwk(const char *file)
{
    size_t len = 0;
    char *text = bench_read_file(keydir, file, &len);
    cjose_jwk_t *jwk = text ? cjose_jwk_import(text, len, NULL) : NULL;
    free(text);
    return jwk;
}

/* ---- JWS ------------------------------------------------------------------------ */

typedef struct sig_cell {
    cjose_jwk_t *priv, *pub;
    cjose_header_t *hdr;
    char *token;
} sig_cell;

/* The claims as a jansson object, serialized by every sign: a cjose user
 * holds claims that way (jwtgate and libjwt serialize theirs per token). */
static json_t *claims_obj;

static int do_sign(void *ctx)
{
    sig_cell *c = ctx;
    char *text = json_dumps(claims_obj, JSON_COMPACT);
    cjose_jws_t *jws =
        text ? cjose_jws_sign(c->priv, c->hdr, (const uint8_t *)text, strlen(text), NULL) : NULL;
    const char *ser = NULL;
    int bad = jws == NULL || !cjose_jws_export(jws, &ser, NULL) || ser == NULL;
    cjose_jws_release(jws);
    free(text);
    return bad;
}

static int do_verify(void *ctx)
{
    sig_cell *c = ctx;
    cjose_jws_t *jws = cjose_jws_import(c->token, strlen(c->token), NULL);
    uint8_t *pt = NULL;
    size_t len = 0;
    int bad = jws == NULL || !cjose_jws_verify(jws, c->pub, NULL) ||
              bench_check_typ(cjose_jws_get_protected(jws), "at+jwt") ||
              !cjose_jws_get_plaintext(jws, &pt, &len, NULL) || bench_check_claims(pt, len);
    cjose_jws_release(jws);
    return bad;
}

static void sig_cells(const char *op, const char *alg, const char *keyname)
{
    char name[64], file[256];
    sig_cell c = {0};
    snprintf(file, sizeof file, "%s.jwk", keyname);
    c.priv = load_jwk(file);
    if (strcmp(alg, "HS256") == 0) {
        c.pub = c.priv;
    } else {
        snprintf(file, sizeof file, "%s.pub.jwk", keyname);
        c.pub = load_jwk(file);
    }
    c.hdr = cjose_header_new(NULL);
    snprintf(name, sizeof name, "%s_sign", op);
    if (c.priv == NULL || c.pub == NULL || c.hdr == NULL ||
        !cjose_header_set(c.hdr, CJOSE_HDR_ALG, alg, NULL) ||
        !cjose_header_set(c.hdr, "typ", "at+jwt", NULL)) {
        bench_fail(name, "could not set up the key");
        exit(2);
    }
    bench_cell(name, do_sign, &c, "json_dumps(claims) + cjose_jws_sign + export");
    snprintf(name, sizeof name, "%s_verify", op);
    cjose_jws_t *jws = cjose_jws_sign(c.priv, c.hdr, (const uint8_t *)claims, claims_len, NULL);
    const char *ser = NULL;
    if (jws == NULL || !cjose_jws_export(jws, &ser, NULL)) {
        bench_fail(name, "could not make a token");
    } else {
        c.token = strdup(ser);
        bench_cell(name, do_verify, &c,
                   "import + verify; typ, exp/iat/iss/aud checked by hand: no JWT layer");
        free(c.token);
    }
    cjose_jws_release(jws);
    cjose_header_release(c.hdr);
    if (c.pub != c.priv)
        cjose_jwk_release(c.pub);
    cjose_jwk_release(c.priv);
}

/* ---- JWE ------------------------------------------------------------------------ */

typedef struct enc_cell {
    cjose_jwk_t *priv, *pub;
    cjose_header_t *hdr;
    char *token;
} enc_cell;

static int do_encrypt(void *ctx)
{
    enc_cell *c = ctx;
    cjose_jwe_t *jwe = cjose_jwe_encrypt(c->pub, c->hdr, (const uint8_t *)claims, claims_len, NULL);
    char *out = jwe ? cjose_jwe_export(jwe, NULL) : NULL;
    cjose_jwe_release(jwe);
    free(out);
    return out == NULL;
}

static int do_decrypt(void *ctx)
{
    enc_cell *c = ctx;
    cjose_jwe_t *jwe = cjose_jwe_import(c->token, strlen(c->token), NULL);
    size_t len = 0;
    uint8_t *pt = jwe ? cjose_jwe_decrypt(jwe, c->priv, &len, NULL) : NULL;
    int bad = pt == NULL || len != claims_len || memcmp(pt, claims, len) != 0;
    free(pt);
    cjose_jwe_release(jwe);
    return bad;
}

static void enc_cells(const char *op, const char *alg, const char *keyname)
{
    char name[64], file[256];
    enc_cell c = {0};
    snprintf(file, sizeof file, "%s.jwk", keyname);
    c.priv = load_jwk(file);
    c.pub = c.priv;
    if (strcmp(alg, "dir") != 0 && strcmp(alg, "A256KW") != 0) {
        snprintf(file, sizeof file, "%s.pub.jwk", keyname);
        c.pub = load_jwk(file);
    }
    c.hdr = cjose_header_new(NULL);
    snprintf(name, sizeof name, "%s_encrypt", op);
    if (c.priv == NULL || c.pub == NULL || c.hdr == NULL ||
        !cjose_header_set(c.hdr, CJOSE_HDR_ALG, alg, NULL) ||
        !cjose_header_set(c.hdr, CJOSE_HDR_ENC, CJOSE_HDR_ENC_A256GCM, NULL)) {
        bench_fail(name, "could not set up the key");
        exit(2);
    }
    bench_cell(name, do_encrypt, &c, "cjose_jwe_encrypt + export");
    snprintf(name, sizeof name, "%s_decrypt", op);
    cjose_jwe_t *jwe = cjose_jwe_encrypt(c.pub, c.hdr, (const uint8_t *)claims, claims_len, NULL);
    c.token = jwe ? cjose_jwe_export(jwe, NULL) : NULL;
    if (c.token == NULL)
        bench_fail(name, "could not make a token");
    else
        bench_cell(name, do_decrypt, &c, "import + decrypt, plaintext compared");
    free(c.token);
    cjose_jwe_release(jwe);
    cjose_header_release(c.hdr);
    if (c.pub != c.priv)
        cjose_jwk_release(c.pub);
    cjose_jwk_release(c.priv);
}

/* ---- JWK ------------------------------------------------------------------------ */

typedef struct parse_cell {
    char *text;
    size_t len;
} parse_cell;

static int do_parse(void *ctx)
{
    parse_cell *c = ctx;
    cjose_jwk_t *jwk = cjose_jwk_import(c->text, c->len, NULL);
    if (jwk == NULL)
        return 1;
    cjose_jwk_release(jwk);
    return 0;
}

static void parse_cell_run(const char *op, const char *file)
{
    parse_cell c = {.text = bench_read_file(keydir, file, &c.len)};
    if (c.text == NULL)
        exit(2);
    bench_cell(op, do_parse, &c, "cjose_jwk_import");
    free(c.text);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_cjose DIR\n");
        return 2;
    }
    keydir = argv[1];
    claims_len = bench_claims(claims, NULL);
    claims_obj = json_loadb(claims, claims_len, 0, NULL);
    if (claims_obj == NULL)
        return 2;

    sig_cells("hs256", CJOSE_HDR_ALG_HS256, "hs256");
    sig_cells("rs256", CJOSE_HDR_ALG_RS256, "rsa");
    sig_cells("ps256", CJOSE_HDR_ALG_PS256, "rsa");
    sig_cells("es256", CJOSE_HDR_ALG_ES256, "es256");
    bench_na("eddsa_sign", "cjose 0.6 has no EdDSA (no OKP keys)");
    bench_na("eddsa_verify", "cjose 0.6 has no EdDSA (no OKP keys)");
    enc_cells("dir_a256gcm", CJOSE_HDR_ALG_DIR, "dir");
    enc_cells("a256kw", CJOSE_HDR_ALG_A256KW, "a256kw");
    bench_na("ecdh_p256_encrypt", "cjose 0.6 has ECDH-ES (direct) only, not ECDH-ES+A256KW");
    bench_na("ecdh_p256_decrypt", "cjose 0.6 has ECDH-ES (direct) only, not ECDH-ES+A256KW");
    bench_na("ecdh_x25519_encrypt", "cjose 0.6 has no X25519 (no OKP keys)");
    bench_na("ecdh_x25519_decrypt", "cjose 0.6 has no X25519 (no OKP keys)");
    bench_na("rsa_oaep_encrypt", "cjose 0.6 has RSA-OAEP (SHA-1) only, not RSA-OAEP-256");
    bench_na("rsa_oaep_decrypt", "cjose 0.6 has RSA-OAEP (SHA-1) only, not RSA-OAEP-256");
    bench_na("nested_seal", "cjose 0.6 has no ECDH-ES+A256KW");
    bench_na("nested_open", "cjose 0.6 has no ECDH-ES+A256KW");
    bench_na("nested_open_1t", "cjose 0.6 has no ECDH-ES+A256KW");
    bench_na("nested_open_2t", "cjose 0.6 has no ECDH-ES+A256KW");
    parse_cell_run("jwk_parse_ec", "es256.pub.jwk");
    parse_cell_run("jwk_parse_rsa", "rsa.pub.jwk");
    json_decref(claims_obj);
    return 0;
}
