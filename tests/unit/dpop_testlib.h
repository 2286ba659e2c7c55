/*
 * dpop_testlib.h — helpers shared by the DPoP test programs (test_dpop.c,
 * test_dpop_attacks.c; each includes it once, everything is static): keys,
 * a policy for a request, and a forger that signs any header and claims
 * text, so that a hostile proof is otherwise well made.
 */
#ifndef JG_DPOP_TESTLIB_H
#define JG_DPOP_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws/sig.h"
#include "testutil.h"

#define TD_NOW 1700000000
#define TD_HTU "https://api.example.com/orders"

/* A policy for GET TD_HTU at TD_NOW (window 60 s, leeway 5 s), all
 * asymmetric algs. */
static inline jg_dpop_policy td_policy(void)
{
    jg_dpop_policy p = {0};
    p.algs = JG_ALGS_ASYMMETRIC_SIG;
    p.htm = "GET";
    p.htm_len = 3;
    p.htu = TD_HTU;
    p.htu_len = strlen(TD_HTU);
    p.now = TD_NOW;
    p.window = 60;
    p.leeway = 5;
    return p;
}

static inline jg_jwk *td_generate(jg_alg alg)
{
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_generate_for_alg(alg, JG_CRV_NONE, 0, NULL, &key));
    return key;
}

/* A proof by `key` for GET TD_HTU at `iat`, optional token and nonce. */
static inline char *td_proof(const jg_jwk *key, int64_t iat, const char *token, const char *nonce)
{
    jg_dpop_proof_opts o = {.key = key, .htm = "GET", .htu = TD_HTU, .iat = iat};
    o.access_token = token;
    o.nonce = nonce;
    char *proof = NULL;
    assert_jg_ok(jg_dpop_proof_create(&o, &proof, NULL));
    return proof;
}

/* The public JWK members of `key` as JSON text (malloc'd by the library). */
static inline char *td_public_jwk(const jg_jwk *key)
{
    jg_jwk *pub = NULL;
    char *json = NULL;
    jg_jwk_meta none = {0};
    jg_jwk *bare = NULL;
    assert_jg_ok(jg_jwk_with_meta(key, &none, &bare));
    assert_jg_ok(jg_jwk_public(bare, &pub));
    assert_jg_ok(jg_jwk_to_json(pub, 0, &json, NULL));
    jg_jwk_free(pub);
    jg_jwk_free(bare);
    return json;
}

/* b64url(header) "." b64url(claims) "." signature by `key` under `alg`
 * (key NULL: an empty signature, as "none" has). malloc'd. */
static inline char *td_forge(const char *header, const char *claims, const jg_jwk *key, jg_alg alg)
{
    size_t hl = strlen(header), cl = strlen(claims);
    size_t cap = JG_B64URL_ENCODED_LEN(hl) + JG_B64URL_ENCODED_LEN(cl) +
                 JG_B64URL_ENCODED_LEN(JG__SIG_MAX) + 4;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t n = jg_b64url_encode(header, hl, out);
    out[n++] = '.';
    n += jg_b64url_encode(claims, cl, out + n);
    size_t signed_len = n;
    out[n++] = '.';
    out[n] = '\0';
    if (key != NULL) {
        unsigned char sig[JG__SIG_MAX];
        size_t sig_len = 0;
        jg__sig_input in;
        jg__sig_input_one(&in, out, signed_len);
        assert_jg_ok(jg__sig_sign(key, alg, &in, sig, &sig_len));
        jg_b64url_encode(sig, sig_len, out + n);
    }
    return out;
}

/* Claims for GET TD_HTU at `iat` with jti "j1" and `extra` members. */
static inline char *td_claims(int64_t iat, const char *extra)
{
    size_t cap = 512 + (extra ? strlen(extra) : 0);
    char *c = malloc(cap);
    assert_non_null(c);
    snprintf(c, cap, "{\"jti\":\"j1\",\"htm\":\"GET\",\"htu\":\"" TD_HTU "\",\"iat\":%lld%s}",
             (long long)iat, extra ? extra : "");
    return c;
}

/* A header {"typ":..,"alg":..,"jwk":..} (typ NULL: left out). */
static inline char *td_header(const char *typ, const char *alg, const char *jwk)
{
    char *h = malloc(8192 + strlen(jwk));
    assert_non_null(h);
    if (typ != NULL)
        sprintf(h, "{\"typ\":\"%s\",\"alg\":\"%s\",\"jwk\":%s}", typ, alg, jwk);
    else
        sprintf(h, "{\"alg\":\"%s\",\"jwk\":%s}", alg, jwk);
    return h;
}

/* Verify under `p` expecting `want`. */
static inline void td_expect(jg_err want, const char *proof, const jg_dpop_policy *p)
{
    jg_dpop_result r;
    jg_detail d;
    assert_jg(want, jg_dpop_verify(proof, strlen(proof), p, &r, &d));
    assert_int_equal(d.err, want);
    if (want != JG_OK) {
        assert_int_equal(r.jkt[0], 0); /* the out rule: zeroed on failure */
        assert_int_equal(r.jti_len, 0);
    }
}

#endif /* JG_DPOP_TESTLIB_H */
