/*
 * bench_libjwt.c — libjwt (Debian's 1.10) cells of the benchmark (see bench.h).
 *
 *   bench_libjwt DIR      (DIR written by `bench_jwtgate --keys DIR`)
 *
 * libjwt 1.10 signs and verifies JWS with HS*, RS* and ES* only, takes keys
 * as PEM (parsed again on every call: that is its API), insists on
 * "typ":"JWT" (so its tokens carry that instead of RFC 9068's "at+jwt"),
 * and has no claim validation: after jwt_decode() this program checks exp,
 * iat, iss and aud itself through jwt_get_grant*(), so the work compared is
 * the same as jg_jwt_verify()'s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#include "bench.h"

static const char *keydir;
static char claims[512];
static size_t claims_len;

typedef struct sig_cell {
    jwt_t *tmpl; /* claims and key set once, as jg_jwt_sign's prebuilt claims */
    unsigned char *pub;
    size_t pub_len;
    char *token;
} sig_cell;

static int do_sign(void *ctx)
{
    sig_cell *c = ctx;
    char *out = jwt_encode_str(c->tmpl);
    if (out == NULL)
        return 1;
    free(out);
    return 0;
}

static int do_verify(void *ctx)
{
    sig_cell *c = ctx;
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, c->token, c->pub, (int)c->pub_len) != 0 || jwt == NULL)
        return 1;
    /* What jg_jwt_verify's policy checks, done by hand. */
    long now = (long)time(NULL);
    const char *iss = jwt_get_grant(jwt, "iss");
    const char *aud = jwt_get_grant(jwt, "aud");
    long exp = jwt_get_grant_int(jwt, "exp");
    int bad = exp == 0 || exp <= now;
    long iat = jwt_get_grant_int(jwt, "iat");
    bad |= iat == 0 || iat > now || now - iat > 86400;
    bad |= iss == NULL || strcmp(iss, BENCH_ISS) != 0;
    bad |= aud == NULL || strcmp(aud, BENCH_AUD) != 0;
    jwt_free(jwt);
    return bad;
}

static void sig_cells(const char *op, jwt_alg_t alg, const char *keyname)
{
    char name[64], file[256];
    sig_cell c = {0};
    size_t priv_len = 0;
    unsigned char *priv;
    if (alg == JWT_ALG_HS256) {
        snprintf(file, sizeof file, "%s.bin", keyname);
        priv = (unsigned char *)bench_read_file(keydir, file, &priv_len);
        c.pub = (unsigned char *)bench_read_file(keydir, file, &c.pub_len);
    } else {
        snprintf(file, sizeof file, "%s.pem", keyname);
        priv = (unsigned char *)bench_read_file(keydir, file, &priv_len);
        snprintf(file, sizeof file, "%s.pub.pem", keyname);
        c.pub = (unsigned char *)bench_read_file(keydir, file, &c.pub_len);
    }
    snprintf(name, sizeof name, "%s_sign", op);
    if (priv == NULL || c.pub == NULL || jwt_new(&c.tmpl) != 0 ||
        jwt_add_grants_json(c.tmpl, claims) != 0 ||
        jwt_set_alg(c.tmpl, alg, priv, (int)priv_len) != 0) {
        bench_fail(name, "could not set up the key");
        exit(2);
    }
    bench_cell(name, do_sign, &c, "jwt_encode_str (key PEM parsed per call)");
    snprintf(name, sizeof name, "%s_verify", op);
    c.token = jwt_encode_str(c.tmpl);
    if (c.token == NULL)
        bench_fail(name, "could not make a token");
    else
        bench_cell(name, do_verify, &c,
                   "jwt_decode (typ JWT) + exp/iat/iss/aud checked by hand: no validation API");
    free(c.token);
    jwt_free(c.tmpl);
    free(priv);
    free(c.pub);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_libjwt DIR\n");
        return 2;
    }
    keydir = argv[1];
    claims_len = bench_claims(claims, NULL);
    (void)claims_len;

    sig_cells("hs256", JWT_ALG_HS256, "hs256");
    sig_cells("rs256", JWT_ALG_RS256, "rsa");
    bench_na("ps256_sign", "libjwt 1.10 has no PS256");
    bench_na("ps256_verify", "libjwt 1.10 has no PS256");
    sig_cells("es256", JWT_ALG_ES256, "es256");
    bench_na("eddsa_sign", "libjwt 1.10 has no EdDSA");
    bench_na("eddsa_verify", "libjwt 1.10 has no EdDSA");
    static const char *const jwe_ops[] = {
        "dir_a256gcm_encrypt", "dir_a256gcm_decrypt", "a256kw_encrypt",      "a256kw_decrypt",
        "ecdh_p256_encrypt",   "ecdh_p256_decrypt",   "ecdh_x25519_encrypt", "ecdh_x25519_decrypt",
        "rsa_oaep_encrypt",    "rsa_oaep_decrypt",    "nested_seal",         "nested_open",
        "nested_open_1t",      "nested_open_2t"};
    for (size_t i = 0; i < sizeof jwe_ops / sizeof jwe_ops[0]; i++)
        bench_na(jwe_ops[i], "libjwt 1.10 has no JWE");
    bench_na("jwk_parse_ec", "libjwt 1.10 has no JWK support (PEM keys only)");
    bench_na("jwk_parse_rsa", "libjwt 1.10 has no JWK support (PEM keys only)");
    return 0;
}
