/*
 * jwe_decrypt.c — jg_jwe_decrypt(): choose a recipient and key under the
 * caller's allow-lists, recover the CEK, authenticate and decrypt, inflate.
 *
 * The token is decoded once into one allocation that becomes the result:
 * the ciphertext is decrypted in place, so the plaintext costs no copy. CEKs
 * live on the stack and are wiped after every attempt; every failure path
 * wipes whatever plaintext was produced.
 */
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "core/header.h"
#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/base64url.h"

/* One recipient's choice of algorithms, judged against the allow-lists. */
typedef struct candidate {
    jg__hdrs hdrs;
    jg_alg alg;
    const jg__enc_info *enc;
    jg_err err; /* JG_OK when the recipient may be tried */
} candidate;

static int name_is(const json_t *v, const char *name)
{
    size_t n = strlen(name);
    return json_string_length(v) == n && memcmp(json_string_value(v), name, n) == 0;
}

/* A refused "alg" or "enc": what the header said against the allow-list. */
static jg_err refused(jg_err err, const char *name, const json_t *value, jg_detail *d)
{
    jg__detail_begin(d, err, JG_DETAIL_HEADER, name);
    jg__detail_actual_str(d, json_string_value(value), json_string_length(value));
    return err;
}

static jg_err judge(candidate *c, const jg_jwe_decrypt_opts *opts, jg_detail *d)
{
    const json_t *alg = jg__hdrs_get(&c->hdrs, "alg");
    if (alg == NULL)
        return JG_ERR_HEADER_ALG_MISSING;
    if (!json_is_string(alg))
        return JG_ERR_HEADER_INVALID;
    jg_err err = JG_OK;
    c->alg = jg_alg_from_name(json_string_value(alg), json_string_length(alg));
    if (name_is(alg, "none"))
        err = JG_ERR_ALG_NONE;
    else if (c->alg == JG_ALG_UNKNOWN)
        err = JG_ERR_ALG_UNKNOWN;
    else if (jg_alg_kind_of(c->alg) != JG_ALG_KIND_JWE)
        err = JG_ERR_ALG_KIND;
    else if ((opts->algs & JG_ALG_BIT(c->alg)) == 0)
        err = JG_ERR_ALG_NOT_ALLOWED;
    if (err != JG_OK) {
        refused(err, "alg", alg, d);
        if (err == JG_ERR_ALG_KIND)
            jg__detail_expected_text(d, "a JWE algorithm");
        else
            jg__detail_expected_algs(d, opts->algs);
        return err;
    }

    const json_t *enc = jg__hdrs_get(&c->hdrs, "enc");
    if (enc == NULL || !json_is_string(enc))
        return JG_ERR_HEADER_INVALID;
    jg_enc e = jg_enc_from_name(json_string_value(enc), json_string_length(enc));
    c->enc = jg__enc_info_of(e);
    if (c->enc == NULL || (opts->encs & JG_ENC_BIT(e)) == 0) {
        err = refused(c->enc == NULL ? JG_ERR_ENC_UNKNOWN : JG_ERR_ENC_NOT_ALLOWED, "enc", enc, d);
        jg__detail_expected_encs(d, opts->encs);
        return err;
    }
    return JG_OK;
}

/* Decode a span into `out`; the length lands in *len. */
static jg_err decode(const jg__span *s, unsigned char *out, size_t *len)
{
    *len = 0;
    if (s->n == 0)
        return JG_OK;
    return jg_b64url_decode(s->p, s->n, out, len);
}

/* Error precedence: what happened when a key was tried beats a key that was
 * refused, which beats finding no key at all. */
typedef struct outcome {
    jg_err attempt;
    jg_err refusal;
} outcome;

static void note(jg_err *slot, jg_err err)
{
    if (*slot == JG_OK)
        *slot = err;
}

typedef struct work {
    jg_jwe *jwe;
    const jg__jwe_msg *msg;
    unsigned char *ct;
    size_t ct_len;
    unsigned char *iv, *tag, *ek;
    size_t iv_len, tag_len;
    jg__aad aad;
    const jg_limits *limits;
} work;

/* Try one key for one recipient: JG_OK leaves the plaintext in w->ct. */
static jg_err attempt(work *w, const candidate *c, const jg_jwk *key, size_t ek_len)
{
    unsigned char cek[JG__CEK_MAX];
    jg_err err = jg__km_decrypt(c->alg, key, c->enc, &c->hdrs, w->ek, ek_len, w->limits, cek);
    if (err == JG_OK) {
        size_t pt_len = 0;
        err = jg__content_decrypt(c->enc, key, cek, w->iv, &w->aad, w->ct, w->ct_len, w->tag, w->ct,
                                  &pt_len);
        if (err == JG_OK) {
            w->jwe->plaintext = w->ct;
            w->jwe->plaintext_len = pt_len;
        } else {
            /* The in-place attempt may have consumed the ciphertext. */
            size_t n = 0;
            if (decode(&w->msg->ciphertext, w->ct, &n) != JG_OK || n != w->ct_len)
                err = JG_ERR_CRYPTO;
        }
    }
    jg_memzero(cek, sizeof cek);
    return err;
}

/*
 * Try the keys that may decrypt for this recipient: those with its kid, or
 * when no key has it the keys without a kid, or without a kid every key.
 * On failure the detail names the kid, alg and enc looked for and the kids
 * of the set.
 */
static jg_err try_recipient(work *w, const candidate *c, const jg__span *ek_span,
                            const jg_jwks *keys, outcome *o, jg_detail *d)
{
    if (c->enc == NULL) /* candidates without an error always have one */
        return JG_ERR_ENC_UNKNOWN;
    if (w->iv_len != c->enc->iv_len)
        return JG_ERR_IV_LENGTH;
    if (w->tag_len != c->enc->tag_len)
        return JG_ERR_TAG_LENGTH;
    size_t ek_len = 0;
    jg_err err = decode(ek_span, w->ek, &ek_len);
    if (err != JG_OK)
        return err;

    const json_t *kid_json = jg__hdrs_get(&c->hdrs, "kid");
    if (kid_json != NULL && !json_is_string(kid_json))
        return JG_ERR_HEADER_INVALID;
    const char *kid = json_string_value(kid_json);
    size_t kid_len = json_string_length(kid_json);
    int kid_known = -1; /* whether the set has the kid: asked once, if needed */

    size_t count = jg_jwks_count(keys);
    for (size_t i = 0; i < count; i++) {
        const jg_jwk *key = jg_jwks_get(keys, i);
        if (key == NULL || !jg__jwk_kid_candidate(key, keys, kid, kid_len, &kid_known))
            continue;
        jg_err refusal = jg_jwk_check(key, c->alg, JG_OP_DECRYPT);
        if (refusal != JG_OK) {
            /* Unless the token named this key by its kid, keys of another
             * type were never candidates. */
            if (kid_known == 1 || jg__jwk_alg_suits(key, c->alg) == JG_OK)
                note(&o->refusal, refusal);
            continue;
        }
        err = attempt(w, c, key, ek_len);
        if (err == JG_OK) {
            w->jwe->key = key;
            return JG_OK;
        }
        note(&o->attempt, err);
        if (err == JG_ERR_CRYPTO || err == JG_ERR_NOMEM)
            return err;
    }
    err = o->attempt != JG_OK   ? o->attempt
          : o->refusal != JG_OK ? o->refusal
                                : JG_ERR_KEY_NOT_FOUND;
    jg__detail_key(d, err, kid, kid_len, jg_alg_name(c->alg), jg_enc_name(c->enc->enc), keys);
    return err;
}

static size_t decoded_cap(const jg__span *s)
{
    return s->n == 0 ? 0 : JG_B64URL_DECODED_MAX(s->n);
}

static jg_err run(const jg__jwe_msg *msg, const jg_jwks *keys, const jg_jwe_decrypt_opts *opts,
                  const jg_limits *limits, candidate *cands, jg_jwe **out, jg_detail *detail)
{
    /* Which recipients may be tried at all, before decoding anything big. */
    size_t usable = 0;
    jg_err first_err = JG_OK;
    for (size_t i = 0; i < msg->n_recipients; i++) {
        candidate *c = &cands[i];
        c->hdrs.h[0] = msg->protected_hdr;
        c->hdrs.h[1] = msg->shared;
        c->hdrs.h[2] = msg->recips[i].header;
        /* The detail explains the first refusal, the one returned. */
        c->err = judge(c, opts, first_err == JG_OK ? detail : NULL);
        if (c->err == JG_OK)
            usable++;
        else if (first_err == JG_OK)
            first_err = c->err;
    }
    if (usable == 0)
        return first_err;

    size_t ct_cap = decoded_cap(&msg->ciphertext) + 1, iv_cap = decoded_cap(&msg->iv);
    size_t tag_cap = decoded_cap(&msg->tag), aad_cap = decoded_cap(&msg->aad), ek_cap = 0;
    for (size_t i = 0; i < msg->n_recipients; i++)
        if (decoded_cap(&msg->recips[i].ek) > ek_cap)
            ek_cap = decoded_cap(&msg->recips[i].ek);
    size_t buf_len = ct_cap + iv_cap + tag_cap + aad_cap + ek_cap;
    jg_jwe *jwe = calloc(1, sizeof *jwe + buf_len);
    if (jwe == NULL)
        return JG_ERR_NOMEM;
    jwe->buf_len = buf_len;

    work w = {.jwe = jwe, .msg = msg, .limits = limits};
    w.ct = jwe->buf;
    w.iv = w.ct + ct_cap;
    w.tag = w.iv + iv_cap;
    unsigned char *aad = w.tag + tag_cap;
    w.ek = aad + aad_cap;
    size_t aad_len = 0;
    jg_err err = decode(&msg->iv, w.iv, &w.iv_len);
    if (err == JG_OK)
        err = decode(&msg->tag, w.tag, &w.tag_len);
    if (err == JG_OK)
        err = decode(&msg->aad, aad, &aad_len);
    if (err == JG_OK)
        err = decode(&msg->ciphertext, w.ct, &w.ct_len);
    if (err == JG_OK && msg->has_aad) {
        jwe->aad = aad;
        jwe->aad_len = aad_len;
    }
    /* AAD = ASCII(BASE64URL(protected)) [ '.' BASE64URL(aad) ], as sent. */
    w.aad.a = msg->protected_b64.p != NULL ? msg->protected_b64.p : "";
    w.aad.a_len = msg->protected_b64.n;
    w.aad.b = msg->aad.p;
    w.aad.b_len = msg->aad.n;
    w.aad.has_b = msg->has_aad;

    /* Recipients in order; the first that decrypts wins. */
    jg_err result = JG_ERR_KEY_NOT_FOUND;
    int tried = 0;
    jg_detail scratch; /* one recipient's detail, kept when its error is */
    jg_detail *rd = detail != NULL ? &scratch : NULL;
    for (size_t i = 0; i < msg->n_recipients && err == JG_OK; i++) {
        const candidate *c = &cands[i];
        if (c->err != JG_OK)
            continue;
        outcome o = {JG_OK, JG_OK};
        jg__detail_clear(rd);
        jg_err r = try_recipient(&w, c, &msg->recips[i].ek, keys, &o, rd);
        if (r == JG_OK) { /* try_recipient() succeeds only with c->enc set */
            jwe->alg = c->alg;
            jwe->enc = c->enc != NULL ? c->enc->enc : JG_ENC_UNKNOWN;
            jwe->recip = msg->recips[i].header;
            result = JG_OK;
            break;
        }
        /* Keep the most telling failure over all recipients. */
        int informative = r != JG_ERR_KEY_NOT_FOUND;
        if (!tried || informative) {
            result = r;
            if (detail != NULL)
                *detail = scratch;
        }
        tried |= informative;
        if (r == JG_ERR_CRYPTO || r == JG_ERR_NOMEM)
            break;
    }
    if (err == JG_OK)
        err = result;

    if (err == JG_OK && msg->protected_hdr != NULL &&
        json_object_get(msg->protected_hdr, "zip") != NULL) {
        err = jg__inflate(jwe->plaintext, jwe->plaintext_len, limits->max_inflated_len,
                          &jwe->inflated, &jwe->plaintext_len, &jwe->inflated_cap);
        /* The compressed plaintext is as secret as the inflated one. */
        jg_memzero(w.ct, ct_cap);
        jwe->plaintext = jwe->inflated;
    } else if (err == JG_OK) {
        jwe->plaintext[jwe->plaintext_len] = 0;
    }
    if (err != JG_OK) {
        jwe->root = NULL;
        jwe->protected_hdr = NULL;
        jg_jwe_free(jwe);
        return err;
    }
    *out = jwe;
    return JG_OK;
}

static jg_err decrypt(const char *token, size_t token_len, const jg_jwks *keys,
                      const jg_jwe_decrypt_opts *opts, jg_jwe **out, jg_detail *detail)
{
    if (out != NULL)
        *out = NULL;
    if (token == NULL || keys == NULL || opts == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    /* Nothing would decrypt: the caller forgot a list. */
    if (opts->algs == 0)
        return JG_ERR_KEY_ALGS_EMPTY;
    if (opts->encs == 0)
        return JG_ERR_ENCS_EMPTY;
    jg_limits limits = opts->limits != NULL ? *opts->limits : jg_limits_default();

    jg__jwe_msg msg;
    jg_err err = jg__jwe_parse(token, token_len, &limits, opts->crit, &msg);
    if (err != JG_OK) {
        if (err == JG_ERR_CRIT_UNKNOWN && detail != NULL) {
            const char *name = jg__crit_unknown_name(msg.protected_hdr, NULL, opts->crit);
            jg__detail_begin(detail, err, JG_DETAIL_HEADER, "crit");
            if (name != NULL)
                jg__detail_actual_str(detail, name, strlen(name));
        }
        jg__jwe_msg_clear(&msg);
        return err;
    }
    candidate one = {0};
    candidate *cands = msg.n_recipients == 1 ? &one : calloc(msg.n_recipients, sizeof *cands);
    if (cands == NULL) {
        jg__jwe_msg_clear(&msg);
        return JG_ERR_NOMEM;
    }
    memset(cands, 0, msg.n_recipients * sizeof *cands);
    jg_jwe *jwe = NULL;
    err = run(&msg, keys, opts, &limits, cands, &jwe, detail);
    if (cands != &one)
        free(cands);
    if (err == JG_OK) {
        /* The parsed JSON now belongs to the result, which points into it. */
        jwe->root = msg.root;
        jwe->protected_hdr = msg.protected_hdr;
        jwe->shared = msg.shared;
        msg.root = NULL;
        msg.protected_hdr = NULL;
        *out = jwe;
    }
    jg__jwe_msg_clear(&msg);
    return err;
}

jg_err jg_jwe_decrypt_ex(const char *token, size_t token_len, const jg_jwks *keys,
                         const jg_jwe_decrypt_opts *opts, jg_jwe **out, jg_detail *detail)
{
    jg__detail_clear(detail);
    jg_err err = decrypt(token, token_len, keys, opts, out, detail);
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_jwe_decrypt(const char *token, size_t token_len, const jg_jwks *keys,
                      const jg_jwe_decrypt_opts *opts, jg_jwe **out)
{
    return decrypt(token, token_len, keys, opts, out, NULL);
}
