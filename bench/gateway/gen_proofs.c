/*
 * gen_proofs — DPoP proofs for the gateway benchmark (scripts/bench-gateway):
 * COUNT distinct proofs (each its own "jti", "iat" now, "ath" of the token),
 * one per line, for GET HTU; a fresh proof per request is what a DPoP client
 * sends, and the gateway's replay cache refuses any other. The CLI would
 * cost a process per proof.
 *
 *   gen_proofs CLIENT_JWK COUNT HTU TOKEN_FILE
 *
 *   gen_proofs --time CLIENT_JWK HTU TOKEN_FILE
 *
 * times, in CPU microseconds per call, on up to 2000 distinct proofs of one
 * client as the module checks them (its policy: every asymmetric algorithm,
 * htm, htu, ath, a 60 s window with 5 s of leeway): "dpop_cached"
 * (jg_dpop_verify_cached, one cache, as a worker keeps it), "dpop"
 * (jg_dpop_verify, no cache), and "es256" (jg_jws_verify of an ES256 JWS of
 * the same size with a prepared key: the bare verify the target is
 * stated against). scripts/bench-gateway runs it in every round, beside the
 * gateway figures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwtgate/jwtgate.h>

enum { TIMED = 2000 };

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf == NULL)
        return NULL;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make(jg_jwk *key, const char *htu, const char *token, char **out)
{
    jg_dpop_proof_opts o = {
        .key = key, .alg = JG_ALG_ES256, .htm = "GET", .htu = htu, .access_token = token};
    return jg_dpop_proof_create(&o, out, NULL) != JG_OK;
}

static int time_calls(jg_jwk *key, const char *htu, const char *token)
{
    char **proofs = calloc(TIMED, sizeof *proofs);
    char *jws = NULL;
    size_t jws_len = 0;
    jg_jwks *set = NULL;
    jg_dpop_cache *cache = NULL;
    int rc = proofs == NULL;
    for (int i = 0; i < TIMED && rc == 0; i++)
        rc = make(key, htu, token, &proofs[i]);
    /* a JWS of about the proof's size, signed by the same key */
    jg_jws_signer signer = {.key = key, .alg = JG_ALG_ES256};
    if (rc == 0) {
        const char *dot = strchr(proofs[0], '.');
        const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
        size_t plen = dot && dot2 ? (size_t)(dot2 - dot) : 64;
        char *payload = malloc(plen + 1);
        rc = payload == NULL;
        if (rc == 0) {
            memset(payload, 'x', plen);
            payload[plen] = '\0';
            rc = jg_jws_sign(payload, plen, &signer, NULL, &jws, &jws_len) != JG_OK;
        }
        free(payload);
    }
    rc = rc || jg_jwks_new(&set) != JG_OK || jg_jwks_add(set, key) != JG_OK ||
         jg_dpop_cache_new(0, &cache) != JG_OK;
    jg_dpop_policy pol = {.algs = JG_ALGS_ASYMMETRIC_SIG,
                          .htm = "GET",
                          .htm_len = 3,
                          .htu = htu,
                          .htu_len = strlen(htu),
                          .access_token = token,
                          .access_token_len = strlen(token),
                          .window = 60,
                          .leeway = 5};
    double cached_us = 0, bare_us = 0, es_us = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) { /* the first warms up */
        jg_dpop_result res;
        double t0 = cpu_seconds();
        for (int i = 0; i < TIMED && rc == 0; i++)
            rc = jg_dpop_verify_cached(proofs[i], strlen(proofs[i]), &pol, cache, &res, NULL) !=
                 JG_OK;
        double t1 = cpu_seconds();
        for (int i = 0; i < TIMED && rc == 0; i++)
            rc = jg_dpop_verify(proofs[i], strlen(proofs[i]), &pol, &res, NULL) != JG_OK;
        double t2 = cpu_seconds();
        jg_jws_verify_opts vo = {.algs = JG_ALG_BIT(JG_ALG_ES256)};
        for (int i = 0; i < TIMED && rc == 0; i++) {
            jg_jws *j = NULL;
            rc = jg_jws_verify(jws, jws_len, set, &vo, &j) != JG_OK;
            jg_jws_free(j);
        }
        double t3 = cpu_seconds();
        cached_us = (t1 - t0) * 1e6 / TIMED;
        bare_us = (t2 - t1) * 1e6 / TIMED;
        es_us = (t3 - t2) * 1e6 / TIMED;
    }
    if (rc == 0)
        printf("dpop_cached %.1f\ndpop %.1f\nes256 %.1f\n", cached_us, bare_us, es_us);
    else
        fprintf(stderr, "gen_proofs: --time failed\n");
    for (int i = 0; proofs != NULL && i < TIMED; i++)
        jg_free(proofs[i]);
    free(proofs);
    jg_free(jws);
    jg_dpop_cache_free(cache);
    jg_jwks_free(set);
    return rc;
}

int main(int argc, char **argv)
{
    int timing = argc == 5 && strcmp(argv[1], "--time") == 0;
    if (!timing && argc != 5) {
        fprintf(stderr, "usage: gen_proofs CLIENT_JWK COUNT HTU TOKEN_FILE\n"
                        "       gen_proofs --time CLIENT_JWK HTU TOKEN_FILE\n");
        return 2;
    }
    size_t klen = 0, tlen = 0;
    char *ktext = slurp(argv[timing ? 2 : 1], &klen);
    char *token = slurp(argv[4], &tlen);
    jg_jwk *key = NULL;
    if (ktext == NULL || token == NULL || jg_jwk_parse(ktext, klen, 0, &key) != JG_OK) {
        fprintf(stderr, "gen_proofs: the key or the token\n");
        return 1;
    }
    jg_free_secret(ktext, klen);
    int rc = 0;
    if (timing) {
        rc = time_calls(key, argv[3], token);
    } else {
        long n = strtol(argv[2], NULL, 10);
        for (long i = 0; i < n && rc == 0; i++) {
            char *p = NULL;
            rc = make(key, argv[3], token, &p);
            if (rc == 0)
                printf("%s\n", p);
            jg_free(p);
        }
    }
    jg_jwk_free(key);
    free(token);
    return rc;
}
