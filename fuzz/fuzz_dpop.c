/*
 * fuzz_dpop.c — jg_dpop_verify() on any input under three policies (a token
 * request; a resource request with an access token and a nonce; every
 * asymmetric alg with a wide window), with the invariants of a verified
 * result checked, and jg_dpop_htu_normalize() on the same bytes read as a
 * URI: the normal form must be a fixed point and never longer than the
 * input plus the path's "/". jg_dpop_verify_cached() with a small cache
 * shared by all inputs must agree with the uncached call. Seeds: proofs made by make_seeds with the
 * harness's keys (fuzz/make_seeds.c), so mutations of the claims and of the
 * header get past the signature check where the mutation keeps it.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "jwtgate/dpop.h"

FZ_INIT_KEYS

FZ_TOKEN_MUTATOR

#define FZ_DPOP_HTU "https://api.example.com/orders"

static void check_result(const jg_dpop_result *r, const jg_dpop_policy *p)
{
    if (strlen(r->jkt) != 43 || r->jti_len == 0 || r->jti_len > JG_DPOP_MAX_JTI_LEN ||
        strlen(r->jti) != r->jti_len || jg_alg_kind_of(r->alg) != JG_ALG_KIND_JWS ||
        (p->algs & JG_ALG_BIT(r->alg)) == 0)
        abort();
    int64_t window = p->window ? p->window : JG_DPOP_DEFAULT_WINDOW;
    if (r->iat > p->now + p->leeway || r->iat < p->now - window - p->leeway ||
        r->expires != r->iat + window + p->leeway)
        abort();
}

/* A small cache shared by every input: hits, misses and evictions must give
 * the verdicts and results of the uncached call. */
static jg_dpop_cache *cache;

static void verify_under(const char *in, size_t len, const jg_dpop_policy *p)
{
    jg_dpop_result r, rc;
    jg_detail d;
    jg_err err = jg_dpop_verify(in, len, p, &r, &d);
    if (d.err != err)
        abort();
    if (cache == NULL && jg_dpop_cache_new(4, &cache) != JG_OK)
        abort();
    jg_err errc = jg_dpop_verify_cached(in, len, p, cache, &rc, NULL);
    if (errc != err || memcmp(&r, &rc, sizeof r) != 0)
        abort();
    if (err == JG_OK) {
        check_result(&r, p);
    } else {
        if (r.jkt[0] != '\0' || r.jti_len != 0 || r.iat != 0)
            abort(); /* the out rule */
        if (err == JG_ERR_INVALID_ARGUMENT || err == JG_ERR_ALGS_EMPTY)
            abort(); /* the policies are valid */
    }
    char line[512];
    (void)jg_detail_format(&d, line, sizeof line);
}

static void normalize(const char *in, size_t len)
{
    char a[JG_DPOP_MAX_HTU_LEN + 2], b[JG_DPOP_MAX_HTU_LEN + 2];
    size_t al = 0, bl = 0;
    for (int strip = 0; strip < 2; strip++) {
        if (jg_dpop_htu_normalize(in, len, strip, a, sizeof a, &al) != JG_OK)
            continue;
        if (al != strlen(a) || al > len + 1)
            abort();
        /* A fixed point: the normal form of a normal form is itself. */
        if (jg_dpop_htu_normalize(a, al, 0, b, sizeof b, &bl) != JG_OK || bl != al ||
            memcmp(a, b, al) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    jg_dpop_policy token = {.algs = JG_ALG_BIT(JG_ALG_ES256) | JG_ALG_BIT(JG_ALG_PS256) |
                                    JG_ALG_BIT(JG_ALG_EDDSA),
                            .htm = "POST",
                            .htm_len = 4,
                            .htu = "https://as.example.com/oauth2/token",
                            .now = FZ_NOW};
    token.htu_len = strlen(token.htu);
    jg_dpop_policy resource = {.algs = JG_ALGS_ASYMMETRIC_SIG,
                               .htm = "GET",
                               .htm_len = 3,
                               .htu = FZ_DPOP_HTU "?page=2",
                               .access_token = "fuzz-token",
                               .access_token_len = 10,
                               .nonce = "fuzz-nonce",
                               .nonce_len = 10,
                               .now = FZ_NOW,
                               .window = 60,
                               .leeway = 5};
    resource.htu_len = strlen(resource.htu);
    jg_dpop_policy wide = resource;
    wide.access_token = NULL;
    wide.access_token_len = 0;
    wide.nonce = NULL;
    wide.nonce_len = 0;
    wide.window = 1 << 29;
    wide.leeway = 1 << 29;
    wide.max_proof_len = 65536;
    verify_under(in, size, &token);
    verify_under(in, size, &resource);
    verify_under(in, size, &wide);
    normalize(in, size);
    return 0;
}
