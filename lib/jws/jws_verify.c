/*
 * jws_verify.c — jg_jws_verify(): header rules, algorithm policy, key
 * selection and signature checks for every serialization.
 *
 * Order of work: limits, structure and every header rule are checked for the
 * whole token first (a malformed token is refused whatever the policy), then
 * each signature is judged on its own: its alg against the allow-list, then
 * the keys. Only the keys of the caller's set are ever used: "jwk", "jku",
 * "x5u" and "x5c" headers are ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "core/header.h"
#include "jws/jws_internal.h"
#include "jws/sig.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/base64url.h"

/* Header parameters this library itself understands in "crit". */
static const char *const understood[] = {"b64", NULL};

/* Per-signature facts read from its headers. */
typedef struct sig_meta {
    const char *alg_name;
    size_t alg_len;
    const char *kid; /* NULL when absent */
    size_t kid_len;
    int b64; /* 1: payload base64url-encoded (default); 0: RFC 7797 unencoded */
} sig_meta;

/* The rules that concern one signature's headers alone. */
static jg_err check_headers(const jg__jws_parsed *p, const jg__jws_sig *sig,
                            const jg_jws_verify_opts *opts, sig_meta *meta)
{
    jg__jhdr prot = jg__jws_prot(sig), unprot = jg__jws_unprot(p, sig);
    jg_err err = jg__header_disjoint_jdoc(prot, unprot);
    if (err != JG_OK)
        return err;
    err = jg__crit_check_jdoc(prot, &unprot, 1, understood, opts->crit);
    if (err != JG_OK)
        return err;

    /* RFC 7797 section 3: "b64" is integrity protected and understood by
     * the recipient, so it must be protected and listed in "crit" (which
     * the check above found to be an array of strings naming members). */
    meta->b64 = 1;
    if (jg__jhdr_get(unprot, "b64") != 0)
        return JG_ERR_B64_HEADER;
    uint32_t b64 = jg__jhdr_get(prot, "b64");
    if (b64 != 0) {
        const jg__jnode *nodes = prot.doc->nodes;
        if (nodes[b64].type != JG__J_TRUE && nodes[b64].type != JG__J_FALSE)
            return JG_ERR_B64_HEADER;
        int listed = 0;
        uint32_t crit = jg__jhdr_get(prot, "crit");
        for (uint32_t k = crit + 1; crit != 0 && k < nodes[crit].end; k = nodes[k].end)
            if (strcmp(jg__jdoc_str(prot.doc, k), "b64") == 0)
                listed = 1;
        if (!listed)
            return JG_ERR_B64_HEADER;
        meta->b64 = nodes[b64].type == JG__J_TRUE;
    }

    /* "alg" and "kid" from whichever header has them, the protected first. */
    const jg__jhdr headers[2] = {prot, unprot};
    const jg__jdoc *alg_doc = NULL, *kid_doc = NULL;
    uint32_t alg = 0, kid = 0;
    for (int i = 0; i < 2; i++) {
        if (alg == 0 && (alg = jg__jhdr_get(headers[i], "alg")) != 0)
            alg_doc = headers[i].doc;
        if (kid == 0 && (kid = jg__jhdr_get(headers[i], "kid")) != 0)
            kid_doc = headers[i].doc;
    }
    if (alg == 0)
        return JG_ERR_HEADER_ALG_MISSING;
    if (alg_doc->nodes[alg].type != JG__J_STRING ||
        (kid != 0 && kid_doc->nodes[kid].type != JG__J_STRING))
        return JG_ERR_HEADER_INVALID;
    meta->alg_name = jg__jdoc_str(alg_doc, alg);
    meta->alg_len = alg_doc->nodes[alg].len;
    meta->kid = kid != 0 ? jg__jdoc_str(kid_doc, kid) : NULL;
    meta->kid_len = kid != 0 ? kid_doc->nodes[kid].len : 0;
    return JG_OK;
}

/* An "alg" refusal: what the header said against the allow-list. */
static jg_err alg_refused(jg_err err, const sig_meta *meta, jg_alg_set allowed, jg_detail *d)
{
    jg__detail_begin(d, err, JG_DETAIL_HEADER, "alg");
    if (err == JG_ERR_ALG_KIND)
        jg__detail_expected_text(d, "a JWS algorithm");
    else
        jg__detail_expected_algs(d, allowed);
    jg__detail_actual_str(d, meta->alg_name, meta->alg_len);
    return err;
}

/* The alg a signature names, judged against the caller's allow-list. */
static jg_err resolve_alg(const sig_meta *meta, jg_alg_set allowed, jg_alg *out, jg_detail *d)
{
    if (meta->alg_len == 4 && memcmp(meta->alg_name, "none", 4) == 0)
        return alg_refused(JG_ERR_ALG_NONE, meta, allowed, d);
    jg_alg alg = jg_alg_from_name(meta->alg_name, meta->alg_len);
    if (alg == JG_ALG_UNKNOWN)
        return alg_refused(JG_ERR_ALG_UNKNOWN, meta, allowed, d);
    if (jg_alg_kind_of(alg) != JG_ALG_KIND_JWS)
        return alg_refused(JG_ERR_ALG_KIND, meta, allowed, d);
    if ((allowed & JG_ALG_BIT(alg)) == 0)
        return alg_refused(JG_ERR_ALG_NOT_ALLOWED, meta, allowed, d);
    *out = alg;
    return JG_OK;
}

/* How far a refused key got through jg_jwk_check(): the further, the more
 * the refusal says about the token's intended key. */
static int refusal_rank(jg_err err)
{
    switch (err) {
    case JG_ERR_KEY_TYPE:
        return 1;
    case JG_ERR_KEY_CURVE:
        return 2;
    case JG_ERR_KEY_WEAK:
        return 3;
    case JG_ERR_KEY_SIZE:
        return 4;
    case JG_ERR_KEY_ALG:
        return 5;
    case JG_ERR_KEY_USE:
        return 6;
    case JG_ERR_KEY_OPS:
        return 7;
    default:
        return 0;
    }
}

/*
 * Try the keys of the set that may verify this signature: those with the
 * header's kid, or when no key has it the keys without a kid, or without a
 * kid in the header every key. When none verifies: the crypto failure if a
 * usable key was tried (JG_ERR_SIGNATURE when the tried keys failed
 * differently), else the most specific refusal, else JG_ERR_KEY_NOT_FOUND;
 * the detail names the kid and alg looked for and the kids of the set.
 */
static jg_err verify_with_keys(const jg_jwks *keys, jg_alg alg, const sig_meta *meta,
                               const jg__sig_input *in, const unsigned char *sig, size_t sig_len,
                               const jg_jwk **used, jg_detail *d)
{
    jg_err refusal = JG_ERR_KEY_NOT_FOUND, failure = JG_OK;
    int rank = -1;
    int kid_known = -1; /* whether the set has the header's kid: asked once, if needed */
    size_t count = jg_jwks_count(keys);
    for (size_t i = 0; i < count; i++) {
        const jg_jwk *key = jg_jwks_get(keys, i);
        if (key == NULL || !jg__jwk_kid_candidate(key, keys, meta->kid, meta->kid_len, &kid_known))
            continue;
        /* A key without kid standing in for a kid the set lacks is a
         * candidate only if it suits the alg: its refusal would say nothing
         * about the key the token names. */
        if (meta->kid != NULL && kid_known == 0 && jg__jwk_alg_suits(key, alg) != JG_OK)
            continue;
        jg_err err = jg_jwk_check(key, alg, JG_OP_VERIFY);
        if (err != JG_OK) {
            int r = refusal_rank(err);
            if (r > rank) {
                rank = r;
                refusal = err;
            }
            continue;
        }
        err = jg__sig_verify(key, alg, in, sig, sig_len);
        if (err == JG_OK) {
            *used = key;
            return JG_OK;
        }
        if (err == JG_ERR_NOMEM)
            return err;
        failure = failure == JG_OK || failure == err ? err : JG_ERR_SIGNATURE;
    }
    jg_err err = failure != JG_OK ? failure : refusal;
    jg__detail_key(d, err, meta->kid, meta->kid_len, jg_alg_name(alg), NULL, keys);
    return err;
}

/* Everything one verification needs besides the parsed token. */
typedef struct verify_ctx {
    const jg_jwks *keys;
    const jg_jws_verify_opts *opts;
    jg__jws_parsed *parsed;
    const unsigned char *payload_enc; /* the payload as signed */
    size_t payload_enc_len;
} verify_ctx;

/* Judge one signature; on success *alg and *key say how. */
static jg_err verify_one(const verify_ctx *vc, const jg__jws_sig *sig, const sig_meta *meta,
                         jg_alg *alg, const jg_jwk **key, jg_detail *d)
{
    jg_err err = resolve_alg(meta, vc->opts->algs, alg, d);
    if (err != JG_OK)
        return err;

    if (sig->sig_b64_len > JG_B64URL_ENCODED_LEN(JG__SIG_MAX))
        return JG_ERR_SIGNATURE_LENGTH;
    unsigned char raw[JG__SIG_MAX + 2];
    size_t raw_len = 0;
    err = jg_b64url_decode(sig->sig_b64, sig->sig_b64_len, raw, &raw_len);
    if (err != JG_OK)
        return err;

    jg__sig_input in;
    const jg__jws_parsed *p = vc->parsed;
    if (p->compact && vc->payload_enc == (const unsigned char *)p->payload_enc)
        jg__sig_input_one(&in, sig->prot_b64, p->signing_input_len); /* in place */
    else
        jg__sig_input_three(&in, sig->prot_b64, sig->prot_b64_len, vc->payload_enc,
                            vc->payload_enc_len);
    return verify_with_keys(vc->keys, *alg, meta, &in, raw, raw_len, key, d);
}

/* Decode or copy the payload into a new result. */
static jg_err make_result(const jg__jws_parsed *p, const jg_jws_verify_opts *opts, int b64,
                          const jg_limits *limits, jg_jws **out)
{
    const unsigned char *src;
    size_t src_len;
    if (opts->detached_payload != NULL) {
        src = opts->detached_payload;
        src_len = opts->detached_payload_len;
        b64 = 0; /* the caller gives the payload itself */
    } else {
        src = (const unsigned char *)p->payload_enc;
        src_len = p->payload_enc_len;
    }
    size_t cap = b64 ? JG_B64URL_DECODED_MAX(src_len) : src_len;
    /* The limit bounds what a hostile token can make us hold; a detached
     * payload is the caller's own. */
    if (!b64 && opts->detached_payload == NULL && src_len > limits->max_payload_len)
        return JG_ERR_LIMIT_TOKEN_SIZE;
    jg_jws *jws = jg__jws_new(cap);
    if (jws == NULL)
        return JG_ERR_NOMEM;
    if (b64) {
        jg_err err = jg_b64url_decode((const char *)src, src_len, jws->payload, &jws->payload_len);
        if (err == JG_OK && jws->payload_len > limits->max_payload_len)
            err = JG_ERR_LIMIT_TOKEN_SIZE;
        if (err != JG_OK) {
            jg_jws_free(jws);
            return err;
        }
    } else {
        if (src_len > 0)
            memcpy(jws->payload, src, src_len);
        jws->payload_len = src_len;
    }
    jws->payload[jws->payload_len] = '\0';
    *out = jws;
    return JG_OK;
}

/* Errors that concern one signature only; under JG_SIG_ANY another
 * signature may still verify. Everything else refuses the whole token. */
static int per_signature_error(jg_err err)
{
    switch (err) {
    case JG_ERR_ALG_NONE:
    case JG_ERR_ALG_UNKNOWN:
    case JG_ERR_ALG_KIND:
    case JG_ERR_ALG_NOT_ALLOWED:
    case JG_ERR_KEY_NOT_FOUND:
    case JG_ERR_KEY_TYPE:
    case JG_ERR_KEY_CURVE:
    case JG_ERR_KEY_WEAK:
    case JG_ERR_KEY_SIZE:
    case JG_ERR_KEY_ALG:
    case JG_ERR_KEY_USE:
    case JG_ERR_KEY_OPS:
    case JG_ERR_SIGNATURE:
    case JG_ERR_SIGNATURE_LENGTH:
    case JG_ERR_SIGNATURE_RANGE:
        return 1;
    default:
        return 0;
    }
}

/* The meta of up to this many signatures lives on the stack. */
#define META_STACK 4u

static jg_err verify_parsed(jg__jws_parsed *p, const jg_jwks *keys, const jg_jws_verify_opts *opts,
                            const jg_limits *limits, sig_meta *metas, jg_jws **out,
                            jg_detail *detail)
{
    if (p->n == 0) /* the parser refuses this; checked again for clarity */
        return JG_ERR_TOKEN_FORMAT;
    /* Whole-token rules first. */
    for (size_t i = 0; i < p->n; i++) {
        jg_err err = check_headers(p, &p->sigs[i], opts, &metas[i]);
        if (err == JG_ERR_CRIT_UNKNOWN && detail != NULL) {
            const char *name =
                jg__crit_unknown_name_jdoc(jg__jws_prot(&p->sigs[i]), understood, opts->crit);
            jg__detail_begin(detail, err, JG_DETAIL_HEADER, "crit");
            if (name != NULL)
                jg__detail_actual_str(detail, name, strlen(name));
        }
        if (err != JG_OK)
            return err;
        /* RFC 7797 section 3: the same "b64" for every signature. */
        if (i > 0 && metas[i].b64 != metas[0].b64)
            return JG_ERR_B64_HEADER;
    }
    int b64 = metas[0].b64;

    verify_ctx vc = {.keys = keys, .opts = opts, .parsed = p};
    char *encoded = NULL; /* base64url of a detached payload */
    if (opts->detached_payload != NULL) {
        if (p->has_payload)
            return JG_ERR_DETACHED_PAYLOAD;
        if (b64) {
            size_t enc_len = 0;
            jg_err err = jg_b64url_encode_alloc(opts->detached_payload, opts->detached_payload_len,
                                                &encoded, &enc_len);
            if (err != JG_OK)
                return err;
            vc.payload_enc = (const unsigned char *)encoded;
            vc.payload_enc_len = enc_len;
        } else {
            vc.payload_enc = opts->detached_payload;
            vc.payload_enc_len = opts->detached_payload_len;
        }
    } else {
        /* A JSON serialization without "payload" is detached for sure; an
         * empty compact payload may be a signed empty payload. */
        if (!p->has_payload && !p->compact)
            return JG_ERR_DETACHED_PAYLOAD;
        vc.payload_enc = (const unsigned char *)p->payload_enc;
        vc.payload_enc_len = p->payload_enc_len;
    }

    jg_jws *jws = NULL;
    jg_err err = make_result(p, opts, b64, limits, &jws);
    if (err != JG_OK) {
        jg_free(encoded);
        return err;
    }

    jg_err first_err = JG_OK;
    size_t first_ok = p->n;
    for (size_t i = 0; i < p->n; i++) {
        jg_alg alg = JG_ALG_UNKNOWN;
        const jg_jwk *key = NULL;
        /* The detail explains the first error, the one returned. */
        err =
            verify_one(&vc, &p->sigs[i], &metas[i], &alg, &key, first_err == JG_OK ? detail : NULL);
        if (err == JG_OK) {
            if (jws->verified++ == 0) {
                first_ok = i;
                jws->alg = alg;
                jws->key = key;
            }
            continue;
        }
        if (!per_signature_error(err) || opts->policy == JG_SIG_ALL) {
            first_err = err;
            break;
        }
        if (first_err == JG_OK)
            first_err = err;
    }
    jg_free(encoded);

    if (jws->verified == 0 || (opts->policy == JG_SIG_ALL && jws->verified != p->n) ||
        (first_err != JG_OK && !per_signature_error(first_err))) {
        jg_jws_free(jws);
        err = first_err != JG_OK ? first_err : JG_ERR_SIGNATURE;
        /* An empty compact payload that does not verify was most likely
         * detached, and the caller forgot to pass it. */
        if (err == JG_ERR_SIGNATURE && p->compact && !p->has_payload &&
            opts->detached_payload == NULL)
            err = JG_ERR_DETACHED_PAYLOAD;
        return err;
    }

    jws->sig_count = p->n;
    /* The headers move into the result: the protected one's own document,
     * and the token's document only when an unprotected header lives in it. */
    jws->prot = p->sigs[first_ok].prot;
    p->sigs[first_ok].prot = NULL;
    if (p->sigs[first_ok].unprot != 0) {
        jws->doc = p->doc;
        jws->unprot = p->sigs[first_ok].unprot;
        p->doc = NULL;
    }
    *out = jws;
    return JG_OK;
}

/*
 * A set that mixes "oct" secrets with public keys is refused unless the
 * caller says otherwise: it is how a verifier that also allows HS256 ends up
 * checking an HMAC made with whatever secret sits next to the public keys.
 */
static jg_err check_set_kinds(const jg_jwks *keys, const jg_jws_verify_opts *opts, jg_detail *d)
{
    size_t secret = 0, other = 0;
    jg__jwks_kinds(keys, &secret, &other);
    if (secret == 0 || other == 0 || opts->allow_mixed_keys)
        return JG_OK;
    jg__detail_begin(d, JG_ERR_KEYSET_MIXED, JG_DETAIL_KEYSET, NULL);
    if (d != NULL) {
        d->secret_keys = secret;
        d->public_keys = other;
    }
    return JG_ERR_KEYSET_MIXED;
}

static jg_err verify_token(const char *token, size_t token_len, const jg_jwks *keys,
                           const jg_jws_verify_opts *opts, jg_jws **out, jg_detail *detail)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (token == NULL || keys == NULL || opts == NULL || out == NULL ||
        (opts->detached_payload == NULL && opts->detached_payload_len > 0) ||
        (opts->policy != JG_SIG_ANY && opts->policy != JG_SIG_ALL))
        return JG_ERR_INVALID_ARGUMENT;
    if (opts->algs == 0) /* nothing would verify: the caller forgot the list */
        return JG_ERR_ALGS_EMPTY;
    *out = NULL;
    jg_err err = check_set_kinds(keys, opts, detail);
    if (err != JG_OK)
        return err;
    jg_limits limits = opts->limits ? *opts->limits : jg_limits_default();
    if (token_len > limits.max_token_len)
        return JG_ERR_LIMIT_TOKEN_SIZE;

    jg__jws_parsed parsed;
    err = jg__jws_parse(token, token_len, &limits, &parsed);
    if (err != JG_OK)
        return err;

    sig_meta stack_metas[META_STACK];
    sig_meta *metas = stack_metas;
    if (parsed.n > META_STACK) {
        metas = calloc(parsed.n, sizeof *metas);
        if (metas == NULL) {
            jg__jws_parsed_free(&parsed);
            return JG_ERR_NOMEM;
        }
    }
    err = verify_parsed(&parsed, keys, opts, &limits, metas, out, detail);
    if (metas != stack_metas)
        free(metas);
    jg__jws_parsed_free(&parsed);
    return err;
}

jg_err jg_jws_verify_ex(const char *token, size_t token_len, const jg_jwks *keys,
                        const jg_jws_verify_opts *opts, jg_jws **out, jg_detail *detail)
{
    jg__detail_clear(detail);
    jg_err err = verify_token(token, token_len, keys, opts, out, detail);
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_jws_verify(const char *token, size_t token_len, const jg_jwks *keys,
                     const jg_jws_verify_opts *opts, jg_jws **out)
{
    return verify_token(token, token_len, keys, opts, out, NULL);
}
