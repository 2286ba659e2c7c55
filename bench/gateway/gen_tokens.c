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
