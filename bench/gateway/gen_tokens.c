/*
 * gen_tokens — write COUNT distinct access tokens, one per line, for the
 * gateway benchmark (scripts/bench-gateway): nested JWE(JWS) tokens when an
 * encryption key is given, otherwise signed JWTs. Each has its own "jti", so
 * each is new to the gateway's cache. Generating them with the CLI would cost
 * a process per token; this does tens of thousands in seconds.
 *
 *   gen_tokens SIGN_JWK ENC_JWK|- COUNT ISS AUD CLIENT_ID SCOPE
 *
 * With GEN_OPEN="DECRYPT_JWK VERIFY_JWK" it also opens the first (up to
 * 2000) nested tokens with jg_access_token_open, as the gateway does, and
 * writes "nested open <us> us" (CPU time per token) to gen.time: the
 * library's cost on this machine at this moment, for the cold-cache bound.
 *
 *   gen_tokens --time HS_JWK HS_TOKEN_FILE NESTED_TOKENS_FILE ISS AUD KEY_JWK...
 *
 * times the library calls the module makes, with the module's policies and
 * the KEY_JWK files merged into one set as jwtgate_key_file does, and prints
 * CPU microseconds per call: "hs256" (jg_access_token_open of the HS256
 * token, signed form), "hit" (jg_claims_parse and jg_claims_free of the
 * claims JSON a cache hit reads), "nested" (jg_access_token_open of up to
 * 2000 distinct nested tokens). scripts/bench-gateway runs it in every
 * round, so that each round's gateway figures have the library's beside
 * them, measured under the same load.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwtgate/jwtgate.h>

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
    buf[n] = '\0';
    *len = n;
    return buf;
}

static jg_jwks *load_set(const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    jg_jwks *set = NULL;
    if (text == NULL || jg_jwks_parse_any(text, len, 0, NULL, &set) != JG_OK)
        set = NULL;
    if (text != NULL)
        jg_free_secret(text, len);
    return set;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens the kept tokens once each (all distinct: nothing is cached by the
 * library), as the module does on a cache miss. */
static int time_open(const char *spec, char **toks, size_t *lens, long n, const char *iss,
                     const char *aud)
{
    char dpath[1024], vpath[1024];
    if (sscanf(spec, "%1023s %1023s", dpath, vpath) != 2)
        return 1;
    jg_jwks *dec = load_set(dpath), *ver = load_set(vpath);
    if (dec == NULL || ver == NULL) {
        fprintf(stderr, "gen_tokens: GEN_OPEN keys\n");
        return 1;
    }
    jg_open_policy pol = {0};
    pol.jwt.algs = JG_ALG_BIT(JG_ALG_ES256);
    pol.jwt.issuer = iss;
    pol.jwt.audience = aud;
    pol.key_algs = JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW);
    pol.encs = JG_ENC_BIT(JG_ENC_A256GCM);
    pol.form = JG_FORM_NESTED;
    int rc = 0;
    double t0 = cpu_seconds();
    for (long i = 0; i < n; i++) {
        jg_claims *c = NULL;
        jg_err err = jg_access_token_open(toks[i], lens[i], dec, ver, &pol, &c);
        if (err != JG_OK) {
            fprintf(stderr, "gen_tokens: open: %s\n", jg_strerror(err));
            rc = 1;
            break;
        }
        jg_claims_free(c);
    }
    double us = (cpu_seconds() - t0) * 1e6 / (double)n;
    FILE *f = rc == 0 ? fopen("gen.time", "w") : NULL;
    if (f != NULL) {
        fprintf(f, "nested open %.1f us\n", us);
        fclose(f);
    }
    jg_jwks_free(dec);
    jg_jwks_free(ver);
    return rc;
}

static char *read_line(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int ch;
    while (buf != NULL && (ch = fgetc(f)) != EOF && ch != '\n') {
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
        if (buf != NULL)
            buf[n++] = (char)ch;
    }
    if (buf == NULL || n == 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The module's policy for a location with jwtgate_key_file, jwtgate_issuer,
 * jwtgate_audience (and the default jwtgate_typ at+jwt). */
static jg_open_policy module_policy(jg_token_form form, const char *iss, const char *aud)
{
    jg_open_policy pol = {0};
    pol.form = form;
    pol.jwt.algs = form == JG_FORM_SIGNED ? JG_ALG_BIT(JG_ALG_HS256) : JG_ALG_BIT(JG_ALG_ES256);
    pol.jwt.issuer = iss;
    pol.jwt.audience = aud;
    pol.jwt.typ = "at+jwt";
    pol.key_algs = JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW);
    pol.encs = JG_ENC_BIT(JG_ENC_A256GCM);
    return pol;
}

static int time_calls(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: gen_tokens --time HS_JWK HS_TOKEN_FILE NESTED_TOKENS_FILE ISS AUD "
                        "KEY_JWK...\n");
        return 2;
    }
    const char *iss = argv[5], *aud = argv[6];
    jg_jwks *hs = load_set(argv[2]), *all = NULL;
    int rc = hs == NULL || jg_jwks_new(&all) != JG_OK;
    for (int i = 7; i < argc && rc == 0; i++) {
        jg_jwks *one = load_set(argv[i]);
        for (size_t k = 0; one != NULL && k < jg_jwks_count(one) && rc == 0; k++)
            rc = jg_jwks_add(all, (jg_jwk *)jg_jwks_get(one, k)) != JG_OK;
        rc |= one == NULL;
        jg_jwks_free(one);
    }
    FILE *fh = rc == 0 ? fopen(argv[3], "r") : NULL;
    FILE *fn = rc == 0 ? fopen(argv[4], "r") : NULL;
    size_t hs_len = 0;
    char *hs_tok = fh != NULL ? read_line(fh, &hs_len) : NULL;
    enum { NESTED = 2000, ROUNDS = 20000 };
    char **nested = calloc(NESTED, sizeof *nested);
    size_t *nested_len = calloc(NESTED, sizeof *nested_len);
    long n = 0;
    while (fn != NULL && nested != NULL && nested_len != NULL && n < NESTED &&
           (nested[n] = read_line(fn, &nested_len[n])) != NULL)
        n++;
    if (fh != NULL)
        fclose(fh);
    if (fn != NULL)
        fclose(fn);
    if (rc != 0 || hs_tok == NULL || n == 0) {
        fprintf(stderr, "gen_tokens: --time: keys or tokens missing\n");
        rc = 1;
    }
    jg_open_policy signed_pol = module_policy(JG_FORM_SIGNED, iss, aud);
    jg_open_policy nested_pol = module_policy(JG_FORM_NESTED, iss, aud);
    char *json = NULL;
    /* the claims JSON as the module caches it (jg_claims_to_json) */
    if (rc == 0) {
        jg_claims *c = NULL;
        jg_err err = jg_access_token_open(hs_tok, hs_len, hs, hs, &signed_pol, &c);
        if (err == JG_OK)
            err = jg_claims_to_json(c, 0, &json);
        jg_claims_free(c);
        if (err != JG_OK) {
            fprintf(stderr, "gen_tokens: --time: hs256: %s\n", jg_strerror(err));
            rc = 1;
        }
    }
    double hs_us = 0, hit_us = 0, nested_us = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) { /* the first warms up */
        double t0 = cpu_seconds();
        for (long i = 0; i < ROUNDS && rc == 0; i++) {
            jg_claims *c = NULL;
            rc = jg_access_token_open(hs_tok, hs_len, hs, hs, &signed_pol, &c) != JG_OK;
            jg_claims_free(c);
        }
        double t1 = cpu_seconds();
        for (long i = 0; i < ROUNDS && rc == 0; i++) {
            jg_claims *c = NULL;
            rc = jg_claims_parse(json, strlen(json), NULL, &c) != JG_OK;
            jg_claims_free(c);
        }
        double t2 = cpu_seconds();
        hs_us = (t1 - t0) * 1e6 / ROUNDS;
        hit_us = (t2 - t1) * 1e6 / ROUNDS;
    }
    if (rc == 0) {
        double t0 = cpu_seconds();
        for (long i = 0; i < n && rc == 0; i++) {
            jg_claims *c = NULL;
            jg_err err = jg_access_token_open(nested[i], nested_len[i], all, all, &nested_pol, &c);
            if (err != JG_OK) {
                fprintf(stderr, "gen_tokens: --time: nested: %s\n", jg_strerror(err));
                rc = 1;
            }
            jg_claims_free(c);
        }
        nested_us = (cpu_seconds() - t0) * 1e6 / (double)n;
    }
    if (rc == 0)
        printf("hs256 %.2f\nhit %.2f\nnested %.1f\n", hs_us, hit_us, nested_us);
    for (long i = 0; i < n; i++)
        free(nested[i]);
    free(nested);
    free(nested_len);
    free(hs_tok);
    jg_free(json);
    jg_jwks_free(hs);
    jg_jwks_free(all);
    return rc;
}

static jg_jwk *load(const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    jg_jwk *key = NULL;
    if (text == NULL || jg_jwk_parse(text, len, 0, &key) != JG_OK)
        key = NULL;
    if (text != NULL)
        jg_free_secret(text, len);
    return key;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--time") == 0)
        return time_calls(argc, argv);
    if (argc != 8) {
        fprintf(stderr, "usage: gen_tokens SIGN_JWK ENC_JWK|- COUNT ISS AUD CLIENT_ID SCOPE\n");
        return 2;
    }
    jg_jwk *sign = load(argv[1]);
    jg_jwk *enc = strcmp(argv[2], "-") == 0 ? NULL : load(argv[2]);
    long count = strtol(argv[3], NULL, 10);
    if (sign == NULL || (enc == NULL && strcmp(argv[2], "-") != 0) || count <= 0) {
        fprintf(stderr, "gen_tokens: bad key or count\n");
        return 2;
    }
    int64_t now = (int64_t)time(NULL);
    const char *aud[1] = {argv[5]};
    int rc = 0;
    const char *open_spec = getenv("GEN_OPEN");
    long nkeep = open_spec != NULL && enc != NULL ? (count < 2000 ? count : 2000) : 0;
    char **kept = nkeep ? calloc((size_t)nkeep, sizeof *kept) : NULL;
    size_t *kept_len = nkeep ? calloc((size_t)nkeep, sizeof *kept_len) : NULL;
    if (nkeep && (kept == NULL || kept_len == NULL))
        return 1;
    for (long i = 0; i < count && rc == 0; i++) {
        jg_claims *c = NULL;
        char jti[32];
        snprintf(jti, sizeof jti, "bench-%ld-%ld", (long)now, i);
        char *tok = NULL;
        size_t tok_len = 0;
        jg_err err = jg_claims_new(&c);
        if (err == JG_OK)
            err = jg_claims_set_string(c, "iss", argv[4]);
        if (err == JG_OK)
            err = jg_claims_set_string(c, "sub", argv[6]);
        if (err == JG_OK)
            err = jg_claims_set_aud(c, aud, 1);
        if (err == JG_OK)
            err = jg_claims_set_string(c, "client_id", argv[6]);
        if (err == JG_OK)
            err = jg_claims_set_string(c, "scope", argv[7]);
        if (err == JG_OK)
            err = jg_claims_set_string(c, "jti", jti);
        if (err == JG_OK)
            err = jg_claims_set_int(c, "iat", now);
        if (err == JG_OK)
            err = jg_claims_set_int(c, "exp", now + 3600);
        if (err == JG_OK) {
            if (enc != NULL) {
                err = jg_access_token_seal(c, sign, enc, NULL, &tok, &tok_len);
            } else {
                jg_jwt_sign_opts opts = {0};
                opts.typ = "at+jwt";
                err = jg_jwt_sign(c, sign, &opts, &tok, &tok_len);
            }
        }
        if (err != JG_OK) {
            fprintf(stderr, "gen_tokens: %s\n", jg_strerror(err));
            rc = 1;
        } else {
            fwrite(tok, 1, tok_len, stdout);
            fputc('\n', stdout);
        }
        if (i < nkeep && err == JG_OK) {
            kept[i] = tok;
            kept_len[i] = tok_len;
            tok = NULL;
        }
        jg_free(tok);
        jg_claims_free(c);
    }
    if (rc == 0 && nkeep)
        rc = time_open(open_spec, kept, kept_len, nkeep, argv[4], argv[5]);
    for (long i = 0; i < nkeep; i++)
        jg_free(kept[i]);
    free(kept);
    free(kept_len);
    jg_jwk_free(sign);
    jg_jwk_free(enc);
    return rc;
}
