/*
 * seal_bench.c — the cost of sealing alone: how many access tokens per second
 * jg_access_token_seal() makes on N threads (claims as jwtgated issues them,
 * ES256 inside, ECDH-ES+A256KW/A256GCM outside). scripts/bench-server
 * compares the token endpoint against this floor.
 *   jwtgated_seal_bench [threads] [seconds]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "jwtgate/jwtgate.h"

static jg_jwk *sign_key, *enc_key;
static atomic_ulong total;
static atomic_int stop;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    (void)arg;
    const char *aud[] = {"https://api.example.com/orders"};
    unsigned long n = 0;
    while (!atomic_load(&stop)) {
        jg_claims *c = NULL;
        char *tok = NULL;
        size_t len = 0;
        jg_claims_new(&c);
        jg_claims_set_string(c, "iss", "http://127.0.0.1:8080");
        jg_claims_set_string(c, "sub", "jgc_AAAAAAAAAAAAAAAAAAAAAA");
        jg_claims_set_string(c, "client_id", "jgc_AAAAAAAAAAAAAAAAAAAAAA");
        jg_claims_set_aud(c, aud, 1);
        jg_claims_set_string(c, "scope", "orders:read orders:write");
        jg_claims_set_string(c, "tenant", "ten_AAAAAAAAAAAAAAAA");
        jg_claims_set_int(c, "iat", 1700000000);
        jg_claims_set_int(c, "exp", 1700000900);
        jg_claims_set_string(c, "jti", "AAAAAAAAAAAAAAAAAAAAAA");
        jg_seal_opts o = {.enc = JG_ENC_A256GCM};
        if (jg_access_token_seal(c, sign_key, enc_key, &o, &tok, &len) != JG_OK) {
            fprintf(stderr, "seal failed\n");
            exit(1);
        }
        jg_free(tok);
        jg_claims_free(c);
        n++;
    }
    atomic_fetch_add(&total, n);
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = argc > 1 ? strtol(argv[1], NULL, 10) : 2;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 5;
    if (threads < 1 || threads > 64 || seconds <= 0) {
        fprintf(stderr, "usage: jwtgated_seal_bench [threads] [seconds]\n");
        return 2;
    }
    /* As jwtgated holds them: the signing key parsed from its JWK, and the
     * public part of the gateway key. */
    jg_jwk *gen = NULL, *gw = NULL;
    char *json = NULL;
    if (jg_jwk_generate_for_alg(JG_ALG_ES256, JG_CRV_NONE, 0, NULL, &gen) != JG_OK ||
        jg_jwk_to_json(gen, JG_EXPORT_PRIVATE, &json, NULL) != JG_OK ||
        jg_jwk_parse(json, strlen(json), 0, &sign_key) != JG_OK ||
        jg_jwk_generate_for_alg(JG_ALG_ECDH_ES_A256KW, JG_CRV_NONE, 0, NULL, &gw) != JG_OK ||
        jg_jwk_public(gw, &enc_key) != JG_OK)
        return 1;
    jg_free_secret(json, 0);
    jg_jwk_free(gen);
    jg_jwk_free(gw);
    pthread_t t[64];
    double t0 = now();
    for (long i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    for (long i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double el = now() - t0;
    /* CPU time too: on a shared machine wall-clock rates depend on the load. */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    unsigned long n = atomic_load(&total);
    printf("seal_per_second %.0f threads %ld seconds %.2f cpu_us_per_seal %.1f\n", (double)n / el,
           threads, el, n > 0 ? cpu * 1e6 / (double)n : 0.0);
    jg_jwk_free(sign_key);
    jg_jwk_free(enc_key);
    return 0;
}
