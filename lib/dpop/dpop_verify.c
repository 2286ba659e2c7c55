/*
 * dpop_verify.c — checking a DPoP proof under a jg_dpop_policy
 * (jg_dpop_verify), RFC 9449 section 4.3.
 *
 * The rules are stated in jwtgate/dpop.h and checked here in that order,
 * one function a rule group; the first that fails decides and fills the
 * detail. The proof's own header supplies the key — that is what a DPoP
 * proof is — so everything the key is allowed to be is decided by the
 * policy and by these rules before the key is used: an asymmetric alg of
 * the policy's list, a public key (a "jwk" with private members is
 * refused, not stripped), of the type and curve the alg needs.
 *
 * Cost per proof: one header parse (core/jdoc.h), one public key import,
 * one signature verification, one claims parse, one SHA-256 for the
 * thumbprint and one for "ath". Nothing is kept; the result is the caller's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alg_info.h"
#include "core/detail.h"
#include "core/jdoc.h"
#include "jwk/jwk_build.h"
#include "jws/jws_internal.h"
#include "dpop/dpop_internal.h"
#include "jws/sig.h"
#include "jwtgate/base64url.h"
#include "jwtgate/dpop.h"

/* Longest window or leeway a policy may give (about 34 years): keeps every
 * time sum below in range. */
#define MAX_SPAN ((int64_t)1 << 30)

/* The policy with its defaults applied. */
typedef struct rules {
    const jg_dpop_policy *p;
    int64_t now, window, leeway;
    size_t max_proof_len, max_jti_len;
    char htu[JG_DPOP_MAX_HTU_LEN + 1]; /* the request URI, normalised */
    size_t htu_len;
} rules;

static int64_t system_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}

/* Whether every alg of `set` is an asymmetric JWS alg (read from the alg
 * table, not restated). */
static int asymmetric_only(jg_alg_set set)
{
    for (unsigned a = 0; a < (unsigned)JG_ALG__COUNT; a++) {
        if ((set & JG_ALG_BIT(a)) == 0)
            continue;
        const jg__alg_info *info = jg__alg((jg_alg)a);
        if (info->kind != JG_ALG_KIND_JWS || info->family == JG__FAM_HMAC ||
            info->family == JG__FAM_NONE)
            return 0;
    }
    return (set >> (unsigned)JG_ALG__COUNT) == 0;
}

/* Rule 1: the policy. */
static jg_err check_policy(const jg_dpop_policy *p, rules *r)
{
    if (p->algs == 0)
        return JG_ERR_ALGS_EMPTY;
    if (!asymmetric_only(p->algs))
        return JG_ERR_INVALID_ARGUMENT; /* an HMAC, JWE or unknown alg */
    if (p->htm == NULL || p->htm_len == 0 || p->htm_len > JG_DPOP_MAX_HTM_LEN || p->htu == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (p->window < 0 || p->window > MAX_SPAN || p->leeway < 0 || p->leeway > MAX_SPAN ||
        p->now < 0 || p->now > INT64_MAX / 2)
        return JG_ERR_INVALID_ARGUMENT;
    if ((p->nonce == NULL && p->nonce_len != 0) ||
        (p->access_token == NULL && p->access_token_len != 0))
        return JG_ERR_INVALID_ARGUMENT;
    if (jg_dpop_htu_normalize(p->htu, p->htu_len, 1, r->htu, sizeof r->htu, &r->htu_len) != JG_OK)
        return JG_ERR_INVALID_ARGUMENT;
    r->p = p;
    r->now = p->now != 0 ? p->now : system_now();
    r->window = p->window != 0 ? p->window : JG_DPOP_DEFAULT_WINDOW;
    r->leeway = p->leeway;
    r->max_proof_len = p->max_proof_len != 0 ? p->max_proof_len : JG_DPOP_MAX_PROOF_LEN;
    r->max_jti_len = p->max_jti_len != 0 && p->max_jti_len <= JG_DPOP_MAX_JTI_LEN
                         ? p->max_jti_len
                         : JG_DPOP_MAX_JTI_LEN;
    return JG_OK;
}

/* A header refusal with the parameter's name and what was expected. */
static jg_err header_fault(jg_detail *d, jg_err err, const char *name, const char *expected,
                           const char *actual)
{
    jg__detail_begin(d, err, JG_DETAIL_HEADER, name);
    if (expected != NULL)
        jg__detail_expected_text(d, expected);
    if (actual != NULL)
        jg__detail_actual_str(d, actual, strlen(actual));
    return err;
}

/* Rule 4: "typ". */
static jg_err check_typ(jg__jhdr h, jg_detail *d)
{
    uint32_t v = jg__jhdr_get(h, "typ");
    const char *typ = v != 0 ? jg__jdoc_str(h.doc, v) : NULL;
    if (typ != NULL && strcmp(typ, JG_DPOP_TYP) == 0)
        return JG_OK;
    return header_fault(d, JG_ERR_DPOP_TYP, "typ", "\"" JG_DPOP_TYP "\"", typ != NULL ? typ : NULL);
}

/* Rule 5: "alg". */
static jg_err check_alg(jg__jhdr h, jg_alg_set allowed, jg_alg *out, jg_detail *d)
{
    uint32_t v = jg__jhdr_get(h, "alg");
    if (v == 0)
        return header_fault(d, JG_ERR_HEADER_ALG_MISSING, "alg", NULL, NULL);
    const char *name = jg__jdoc_str(h.doc, v);
    if (name == NULL)
        return header_fault(d, JG_ERR_HEADER_INVALID, "alg", "a string", NULL);
    jg_err err = JG_OK;
    jg_alg alg = jg_alg_from_name(name, strlen(name));
    if (strcmp(name, "none") == 0)
        err = JG_ERR_ALG_NONE;
    else if (alg == JG_ALG_UNKNOWN)
        err = JG_ERR_ALG_UNKNOWN;
    else if (jg_alg_kind_of(alg) != JG_ALG_KIND_JWS)
        err = JG_ERR_ALG_KIND;
    else if (jg__alg(alg)->family == JG__FAM_HMAC)
        err = JG_ERR_DPOP_ALG_SYMMETRIC;
    else if ((allowed & JG_ALG_BIT(alg)) == 0)
        err = JG_ERR_ALG_NOT_ALLOWED;
    if (err != JG_OK) {
        jg__detail_begin(d, err, JG_DETAIL_HEADER, "alg");
        jg__detail_expected_algs(d, allowed);
        jg__detail_actual_str(d, name, strlen(name));
        return err;
    }
    *out = alg;
    return JG_OK;
}

/* Rule 7: "jwk", a public key that fits `alg`. */
static jg_err header_key(jg__jhdr h, jg_alg alg, jg_jwk **out, jg_detail *d)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    uint32_t v = jg__jhdr_get(h, "jwk");
    if (v == 0 || h.doc->nodes[v].type != JG__J_OBJECT)
        return header_fault(d, JG_ERR_DPOP_JWK_MISSING, "jwk", "a public JWK object", NULL);
    for (size_t i = 0; i < sizeof private_members / sizeof private_members[0]; i++)
        if (jg__jdoc_get(h.doc, v, private_members[i]) != 0)
            return header_fault(d, JG_ERR_DPOP_JWK_PRIVATE, "jwk", "no private members", NULL);
    json_t *obj = NULL;
    jg_err err = jg__jdoc_to_json(h.doc, v, &obj);
    if (err != JG_OK)
        return err;
    int unsupported = 0;
    jg_jwk *key = NULL;
    err = jg__jwk_from_json(obj, 0, &unsupported, &key);
    json_decref(obj);
    if (err != JG_OK)
        return header_fault(d, err, "jwk", "a valid public key", NULL);
    if (jg_jwk_is_private(key)) { /* cannot happen without private members */
        jg_jwk_free(key);
        return header_fault(d, JG_ERR_DPOP_JWK_PRIVATE, "jwk", "no private members", NULL);
    }
    err = jg_jwk_check(key, alg, JG_OP_VERIFY);
    if (err != JG_OK) {
        jg__detail_begin(d, JG_ERR_DPOP_JWK_ALG, JG_DETAIL_KEY, "jwk");
        if (d != NULL) {
            snprintf(d->alg, sizeof d->alg, "%s", jg_alg_name(alg));
            snprintf(d->actual, sizeof d->actual, "a %s key%s%s (%s)", jg_kty_name(jg_jwk_kty(key)),
                     jg_jwk_crv(key) != JG_CRV_NONE ? " on " : "",
                     jg_jwk_crv(key) != JG_CRV_NONE ? jg_crv_name(jg_jwk_crv(key)) : "",
                     jg_err_name(err));
        }
        jg_jwk_free(key);
        return JG_ERR_DPOP_JWK_ALG;
    }
    *out = key;
    return JG_OK;
}

/* Rule 8: the signature over the proof's own first bytes. */
static jg_err check_signature(const char *proof, const jg__jws_parsed *p, const jg_jwk *key,
                              jg_alg alg)
{
    const jg__jws_sig *sig = &p->one;
    if (sig->sig_b64_len > JG_B64URL_ENCODED_LEN(JG__SIG_MAX))
        return JG_ERR_SIGNATURE_LENGTH;
    unsigned char raw[JG__SIG_MAX + 2];
    size_t raw_len = 0;
    jg_err err = jg_b64url_decode(sig->sig_b64, sig->sig_b64_len, raw, &raw_len);
    if (err != JG_OK)
        return err;
    jg__sig_input in;
    jg__sig_input_one(&in, proof, p->signing_input_len);
    return jg__sig_verify(key, alg, &in, raw, raw_len);
}

/* A claim that must be a string: JG_OK with *s and *len, or the fault. */
static jg_err claim_string(const jg__jdoc *c, const char *name, const char **s, size_t *len,
                           jg_detail *d)
{
    uint32_t v = jg__jdoc_get(c, 0, name);
    if (v == 0) {
        jg__detail_begin(d, JG_ERR_CLAIM_MISSING, JG_DETAIL_CLAIM, name);
        return JG_ERR_CLAIM_MISSING;
    }
    if (c->nodes[v].type != JG__J_STRING) {
        jg__detail_begin(d, JG_ERR_CLAIM_TYPE, JG_DETAIL_CLAIM, name);
        jg__detail_expected_text(d, "a string");
        return JG_ERR_CLAIM_TYPE;
    }
    *s = jg__jdoc_str(c, v);
    *len = c->nodes[v].len;
    return JG_OK;
}

/* Rule 10: "jti". */
static jg_err check_jti(const jg__jdoc *c, const rules *r, jg_dpop_result *out, jg_detail *d)
{
    const char *jti = NULL;
    size_t len = 0;
    jg_err err = claim_string(c, "jti", &jti, &len, d);
    if (err != JG_OK)
        return err;
    if (len == 0 || len > r->max_jti_len) {
        jg__detail_begin(d, JG_ERR_DPOP_JTI_LENGTH, JG_DETAIL_CLAIM, "jti");
        if (d != NULL) {
            snprintf(d->expected, sizeof d->expected, "1 to %zu bytes", r->max_jti_len);
            snprintf(d->actual, sizeof d->actual, "%zu bytes", len);
        }
        return JG_ERR_DPOP_JTI_LENGTH;
    }
    memcpy(out->jti, jti, len);
    out->jti[len] = '\0';
    out->jti_len = len;
    return JG_OK;
}

/* Rule 11: "htm". */
static jg_err check_htm(const jg__jdoc *c, const rules *r, jg_detail *d)
{
    const char *htm = NULL;
    size_t len = 0;
    jg_err err = claim_string(c, "htm", &htm, &len, d);
    if (err != JG_OK)
        return err;
    if (len == r->p->htm_len && memcmp(htm, r->p->htm, len) == 0)
        return JG_OK;
    jg__detail_begin(d, JG_ERR_DPOP_HTM, JG_DETAIL_CLAIM, "htm");
    jg__detail_expected_str(d, r->p->htm, r->p->htm_len);
    jg__detail_actual_str(d, htm, len);
    return JG_ERR_DPOP_HTM;
}

/* Rule 12: "htu". */
static jg_err check_htu(const jg__jdoc *c, const rules *r, jg_detail *d)
{
    const char *htu = NULL;
    size_t len = 0;
    jg_err err = claim_string(c, "htu", &htu, &len, d);
    if (err != JG_OK)
        return err;
    char norm[JG_DPOP_MAX_HTU_LEN + 1];
    size_t norm_len = 0;
    err = jg_dpop_htu_normalize(htu, len, 0, norm, sizeof norm, &norm_len);
    if (err != JG_OK) {
        jg__detail_begin(d, JG_ERR_DPOP_HTU_INVALID, JG_DETAIL_CLAIM, "htu");
        jg__detail_expected_text(d, "an http(s) URI without query and fragment");
        jg__detail_actual_str(d, htu, len);
        return JG_ERR_DPOP_HTU_INVALID;
    }
    if (norm_len == r->htu_len && memcmp(norm, r->htu, norm_len) == 0)
        return JG_OK;
    jg__detail_begin(d, JG_ERR_DPOP_HTU, JG_DETAIL_CLAIM, "htu");
    jg__detail_expected_str(d, r->htu, r->htu_len);
    jg__detail_actual_str(d, norm, norm_len);
    return JG_ERR_DPOP_HTU;
}

/* Rule 13: "iat" within [now - window - leeway, now + leeway]. */
static jg_err check_iat(const jg__jdoc *c, const rules *r, jg_dpop_result *out, jg_detail *d)
{
    uint32_t v = jg__jdoc_get(c, 0, "iat");
    if (v == 0) {
        jg__detail_begin(d, JG_ERR_CLAIM_MISSING, JG_DETAIL_CLAIM, "iat");
        return JG_ERR_CLAIM_MISSING;
    }
    int64_t iat = 0;
    if (jg__jdoc_int_exact(c, v, &iat) != JG_OK) {
        jg__detail_begin(d, JG_ERR_CLAIM_TYPE, JG_DETAIL_CLAIM, "iat");
        jg__detail_expected_text(d, "an integer number of seconds");
        return JG_ERR_CLAIM_TYPE;
    }
    /* now is in [0, INT64_MAX / 2], window and leeway below 2^30: no sum
     * below can overflow. */
    if (iat > r->now && iat - r->now > r->leeway) {
        jg__detail_time(d, JG_ERR_DPOP_IAT_FUTURE, "iat", iat, r->now, r->leeway, 0);
        return JG_ERR_DPOP_IAT_FUTURE;
    }
    if (iat < r->now - r->window - r->leeway) {
        jg__detail_time(d, JG_ERR_DPOP_IAT_STALE, "iat", iat, r->now, r->leeway, r->window);
        return JG_ERR_DPOP_IAT_STALE;
    }
    out->iat = iat;
    out->expires = iat + r->window + r->leeway;
    return JG_OK;
}

/* Rule 14: "ath" for the presented token. */
static jg_err check_ath(const jg__jdoc *c, const rules *r, jg_detail *d)
{
    if (r->p->access_token == NULL)
        return JG_OK;
    const char *ath = NULL;
    size_t len = 0;
    jg_err err = claim_string(c, "ath", &ath, &len, d);
    if (err == JG_ERR_CLAIM_MISSING) {
        jg__detail_begin(d, JG_ERR_DPOP_ATH_MISSING, JG_DETAIL_CLAIM, "ath");
        return JG_ERR_DPOP_ATH_MISSING;
    }
    if (err != JG_OK)
        return err;
    char want[44];
    err = jg_dpop_ath(r->p->access_token, r->p->access_token_len, want);
    if (err != JG_OK)
        return err;
    if (len == 43 && jg_memeq_consttime(ath, want, 43))
        return JG_OK;
    jg__detail_begin(d, JG_ERR_DPOP_ATH, JG_DETAIL_CLAIM, "ath");
    jg__detail_expected_text(d, "base64url(SHA-256(access token))");
    return JG_ERR_DPOP_ATH;
}

/* Rule 15: the server's nonce. */
static jg_err check_nonce(const jg__jdoc *c, const rules *r, jg_detail *d)
{
    if (r->p->nonce == NULL)
        return JG_OK;
    const char *nonce = NULL;
    size_t len = 0;
    jg_err err = claim_string(c, "nonce", &nonce, &len, d);
    if (err == JG_ERR_CLAIM_MISSING) {
        jg__detail_begin(d, JG_ERR_DPOP_NONCE_MISSING, JG_DETAIL_CLAIM, "nonce");
        return JG_ERR_DPOP_NONCE_MISSING;
    }
    if (err != JG_OK)
        return err;
    if (len == r->p->nonce_len && jg_memeq_consttime(nonce, r->p->nonce, len))
        return JG_OK;
    jg__detail_begin(d, JG_ERR_DPOP_NONCE, JG_DETAIL_CLAIM, "nonce");
    return JG_ERR_DPOP_NONCE;
}

/* Rules 9 to 15: the claims. */
static jg_err check_claims(const jg__jws_parsed *p, const rules *r, jg_dpop_result *out,
                           jg_detail *d)
{
    if (!p->has_payload)
        return JG_ERR_CLAIMS_INVALID;
    unsigned char buf[JG_DPOP_MAX_PROOF_LEN];
    unsigned char *payload = buf;
    size_t cap = JG_B64URL_DECODED_MAX(p->payload_enc_len), len = 0;
    if (cap > sizeof buf && (payload = malloc(cap)) == NULL)
        return JG_ERR_NOMEM;
    jg_err err = jg_b64url_decode(p->payload_enc, p->payload_enc_len, payload, &len);
    jg__jdoc *c = NULL;
    if (err == JG_OK)
        err = jg__jdoc_parse((const char *)payload, len, 0, &c);
    if (err == JG_OK && c->nodes[0].type != JG__J_OBJECT)
        err = JG_ERR_CLAIMS_INVALID;
    if (err == JG_OK)
        err = check_jti(c, r, out, d);
    if (err == JG_OK)
        err = check_htm(c, r, d);
    if (err == JG_OK)
        err = check_htu(c, r, d);
    if (err == JG_OK)
        err = check_iat(c, r, out, d);
    if (err == JG_OK)
        err = check_ath(c, r, d);
    if (err == JG_OK)
        err = check_nonce(c, r, d);
    jg__jdoc_free(c);
    if (payload != buf)
        free(payload);
    return err;
}

static jg_err verify(const char *proof, size_t proof_len, const jg_dpop_policy *policy,
                     jg_dpop_cache *cache, jg_dpop_result *out, jg_detail *detail)
{
    if (proof == NULL || policy == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    rules r;
    jg_err err = check_policy(policy, &r); /* rule 1 */
    if (err != JG_OK)
        return err;
    if (proof_len > r.max_proof_len) /* rule 2 */
        return JG_ERR_LIMIT_TOKEN_SIZE;

    /* Rule 3: a compact JWS (its first byte is never '{' or blank). */
    if (proof_len == 0 || proof[0] == '{' || proof[0] == ' ' || proof[0] == '\t' ||
        proof[0] == '\r' || proof[0] == '\n')
        return JG_ERR_TOKEN_FORMAT;
    jg_limits limits = jg_limits_default();
    jg__jws_parsed p;
    err = jg__jws_parse(proof, proof_len, &limits, &p);
    if (err != JG_OK)
        return err;
    jg_jwk *key = NULL;
    const jg_jwk *use = NULL;
    jg__jhdr h = jg__jws_prot(&p.one);
    if (!p.compact || p.n != 1 || p.one.prot == NULL)
        err = JG_ERR_TOKEN_FORMAT;
    jg_alg alg = JG_ALG_UNKNOWN;
    /* A header that verified before: rules 4 to 7 passed for exactly these
     * bytes; only the policy's alg list may have changed. */
    if (err == JG_OK && cache != NULL &&
        (use = jg__dpop_cache_get(cache, p.one.prot_b64, p.one.prot_b64_len, &alg, out->jkt)) !=
            NULL &&
        (policy->algs & JG_ALG_BIT(alg)) == 0)
        err = check_alg(h, policy->algs, &alg, detail); /* the refusal, with its detail */
    if (use == NULL) {
        if (err == JG_OK)
            err = check_typ(h, detail); /* rule 4 */
        if (err == JG_OK)
            err = check_alg(h, policy->algs, &alg, detail); /* rule 5 */
        if (err == JG_OK && (err = jg__crit_check_jdoc(h, NULL, 0, NULL, NULL)) != JG_OK)
            header_fault(detail, err, "crit", "absent", NULL); /* rule 6 */
        if (err == JG_OK)
            err = header_key(h, alg, &key, detail); /* rule 7 */
        use = key;
    }
    if (err == JG_OK)
        err = check_signature(proof, &p, use, alg); /* rule 8 */
    if (err == JG_OK && key != NULL) {
        err = jg_jwk_thumbprint_b64(key, out->jkt);
        if (err == JG_OK && cache != NULL)
            jg__dpop_cache_put(cache, p.one.prot_b64, p.one.prot_b64_len, key, alg, out->jkt);
    }
    if (err == JG_OK)
        err = check_claims(&p, &r, out, detail); /* rules 9-15 */
    if (err == JG_OK)
        out->alg = alg;
    jg_jwk_free(key);
    jg__jws_parsed_free(&p);
    return err;
}

jg_err jg_dpop_verify_cached(const char *proof, size_t proof_len, const jg_dpop_policy *policy,
                             jg_dpop_cache *cache, jg_dpop_result *out, jg_detail *detail)
{
    jg__detail_clear(detail);
    if (out != NULL)
        memset(out, 0, sizeof *out);
    jg_err err = verify(proof, proof_len, policy, cache, out, detail);
    if (err != JG_OK && out != NULL)
        memset(out, 0, sizeof *out);
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_dpop_verify(const char *proof, size_t proof_len, const jg_dpop_policy *policy,
                      jg_dpop_result *out, jg_detail *detail)
{
    return jg_dpop_verify_cached(proof, proof_len, policy, NULL, out, detail);
}
