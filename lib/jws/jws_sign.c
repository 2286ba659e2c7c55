/*
 * jws_sign.c — jg_jws_sign() and jg_jws_sign_multi(): protected header
 * building, payload encoding (base64url or RFC 7797 unencoded), signing and
 * the three serializations.
 *
 * The protected header keeps the caller's members in their order; "alg"
 * comes first when the caller did not give it, and the key's "kid" right
 * after "alg" when neither header has one. A compact token is signed over its
 * own bytes: header and payload are written into the output buffer first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/header.h"
#include "core/json.h"
#include "core/text.h"
#include "jwk/jwk_internal.h"
#include "jws/jws_internal.h"
#include "jws/sig.h"
#include "jwtgate/base64url.h"
#include "jwtgate/jws.h"

static const char *const understood[] = {"b64", NULL};

/* One signer made ready: headers encoded, signature once computed. */
typedef struct prepared {
    jg_alg alg;
    char *prot_b64; /* NULL when the protected header is empty */
    size_t prot_b64_len;
    json_t *unprot; /* NULL when none */
    char sig_b64[JG_B64URL_ENCODED_LEN(JG__SIG_MAX) + 1];
    size_t sig_b64_len;
} prepared;

/* Base64url of `len` bytes of `text` into a new string. */
static jg_err encode_header(const char *text, size_t len, prepared *pr)
{
    return jg_b64url_encode_alloc(text, len, &pr->prot_b64, &pr->prot_b64_len);
}

/*
 * The common case, no caller headers:
 * {"alg":..[,"kid":..][,"typ":..][,"b64":false,"crit":["b64"]]}. kid and typ
 * must be plain (jg__json_plain()) so they need no escaping.
 */
static jg_err build_simple(const jg_jwk *key, jg_alg alg, const char *typ, int b64_false,
                           prepared *pr)
{
    static const char b64_members[] = ",\"b64\":false,\"crit\":[\"b64\"]";
    const char *name = jg_alg_name(alg);
    size_t kid_len = key->kid ? strlen(key->kid) : 0;
    size_t typ_len = typ ? strlen(typ) : 0;
    size_t len = 9 + strlen(name) + 1 + (key->kid ? 9 + kid_len : 0) + (typ ? 9 + typ_len : 0) +
                 (b64_false ? sizeof b64_members - 1 : 0) + 1;
    char stack_buf[512];
    char *buf = len <= sizeof stack_buf ? stack_buf : malloc(len);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    size_t o = 0;
    memcpy(buf + o, "{\"alg\":\"", 8);
    o += 8;
    memcpy(buf + o, name, strlen(name));
    o += strlen(name);
    buf[o++] = '"';
    if (key->kid != NULL) {
        memcpy(buf + o, ",\"kid\":\"", 8);
        o += 8;
        memcpy(buf + o, key->kid, kid_len);
        o += kid_len;
        buf[o++] = '"';
    }
    if (typ != NULL) {
        memcpy(buf + o, ",\"typ\":\"", 8);
        o += 8;
        memcpy(buf + o, typ, typ_len);
        o += typ_len;
        buf[o++] = '"';
    }
    if (b64_false) {
        memcpy(buf + o, b64_members, sizeof b64_members - 1);
        o += sizeof b64_members - 1;
    }
    buf[o++] = '}';
    jg_err err = encode_header(buf, o, pr);
    if (buf != stack_buf)
        free(buf);
    return err;
}

static int string_is(const json_t *v, const char *s)
{
    return json_is_string(v) && json_string_length(v) == strlen(s) &&
           memcmp(json_string_value(v), s, strlen(s)) == 0;
}

/* Add "b64":false and list "b64" in "crit" (RFC 7797 section 6). */
static jg_err add_b64_false(json_t *prot)
{
    if (json_object_set_new(prot, "b64", json_false()) != 0)
        return JG_ERR_NOMEM;
    json_t *crit = json_object_get(prot, "crit");
    if (crit == NULL) {
        crit = json_array();
        if (crit == NULL || json_object_set_new(prot, "crit", crit) != 0)
            return JG_ERR_NOMEM;
    }
    if (!json_is_array(crit))
        return JG_ERR_CRIT_INVALID;
    for (size_t i = 0; i < json_array_size(crit); i++)
        if (string_is(json_array_get(crit, i), "b64"))
            return JG_OK;
    return json_array_append_new(crit, json_string("b64")) == 0 ? JG_OK : JG_ERR_NOMEM;
}

/* The "crit" rules a verifier applies, with every listed name understood:
 * the signer is the one who processes its own extensions. */
static jg_err check_crit(const json_t *prot, const json_t *unprot)
{
    json_t *crit = prot ? json_object_get(prot, "crit") : NULL;
    size_t n = json_is_array(crit) ? json_array_size(crit) : 0;
    const char **names = calloc(n + 1, sizeof *names);
    if (names == NULL)
        return JG_ERR_NOMEM;
    for (size_t i = 0, k = 0; i < n; i++)
        if (json_is_string(json_array_get(crit, i)))
            names[k++] = json_string_value(json_array_get(crit, i));
    const json_t *unprots[1] = {unprot};
    jg_err err = jg__crit_check(prot, unprots, 1, understood, names);
    free(names);
    return err;
}

/* Headers from the caller's JSON; on success *prot_out may be NULL (empty). */
static jg_err build_headers(const jg_jws_signer *s, jg_alg alg, const jg_jws_sign_opts *opts,
                            json_t **prot_out, json_t **unprot_out)
{
    json_t *given = NULL, *unprot = NULL, *prot = NULL;
    jg_err err = JG_OK;
    if (s->protected_json != NULL)
        err = jg__json_parse_object(s->protected_json, strlen(s->protected_json), 0, 0, &given);
    if (err == JG_OK && s->unprotected_json != NULL)
        err =
            jg__json_parse_object(s->unprotected_json, strlen(s->unprotected_json), 0, 0, &unprot);
    if (err == JG_OK && unprot != NULL && opts->format == JG_FORMAT_COMPACT)
        err = JG_ERR_TOKEN_FORMAT; /* compact has no unprotected header */
    if (err == JG_OK)
        err = jg__header_disjoint(given, unprot);
    if (err != JG_OK)
        goto done;

    /* "b64" is ours to write, from opts->b64_false. */
    if ((given && json_object_get(given, "b64")) || (unprot && json_object_get(unprot, "b64"))) {
        err = JG_ERR_HEADER_INVALID;
        goto done;
    }
    const char *name = jg_alg_name(alg);
    json_t *alg_given = given ? json_object_get(given, "alg") : NULL;
    json_t *alg_any = alg_given ? alg_given : unprot ? json_object_get(unprot, "alg") : NULL;
    json_t *kid_any = given ? json_object_get(given, "kid") : NULL;
    if (kid_any == NULL && unprot != NULL)
        kid_any = json_object_get(unprot, "kid");
    if ((alg_any != NULL && !string_is(alg_any, name)) ||
        (kid_any != NULL && !json_is_string(kid_any))) {
        err = JG_ERR_HEADER_INVALID;
        goto done;
    }

    int add_kid = kid_any == NULL && s->key->kid != NULL;
    prot = json_object();
    if (prot == NULL) {
        err = JG_ERR_NOMEM;
        goto done;
    }
    if (alg_any == NULL && json_object_set_new(prot, "alg", json_string(name)) != 0)
        err = JG_ERR_NOMEM;
    /* "kid" right after "alg"; first when "alg" is unprotected. */
    if (err == JG_OK && add_kid && alg_given == NULL) {
        if (json_object_set_new(prot, "kid", json_string(s->key->kid)) != 0)
            err = JG_ERR_HEADER_INVALID; /* a kid that is not UTF-8 */
        add_kid = 0;
    }
    const char *member;
    json_t *value;
    if (given != NULL) {
        json_object_foreach (given, member, value) {
            if (err != JG_OK)
                break;
            if (json_object_set(prot, member, value) != 0)
                err = JG_ERR_NOMEM;
            else if (add_kid && strcmp(member, "alg") == 0) {
                if (json_object_set_new(prot, "kid", json_string(s->key->kid)) != 0)
                    err = JG_ERR_HEADER_INVALID;
                add_kid = 0;
            }
        }
    }
    if (err == JG_OK && opts->b64_false)
        err = add_b64_false(prot);
    if (err == JG_OK)
        err = check_crit(prot, unprot);
    if (err == JG_OK && json_object_size(prot) == 0) {
        json_decref(prot);
        prot = NULL;
    }
done:
    json_decref(given);
    if (err != JG_OK) {
        json_decref(prot);
        json_decref(unprot);
        return err;
    }
    *prot_out = prot;
    *unprot_out = unprot;
    return JG_OK;
}

/* Resolve alg, check the key, build and encode the headers. */
static jg_err prepare(const jg_jws_signer *s, const jg_jws_sign_opts *opts, prepared *pr)
{
    if (s->key == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_alg alg = s->alg != JG_ALG_UNKNOWN ? s->alg : s->key->alg;
    if (alg == JG_ALG_UNKNOWN)
        return JG_ERR_ALG_UNKNOWN;
    jg_err err = jg_jwk_check(s->key, alg, JG_OP_SIGN);
    if (err != JG_OK)
        return err;
    pr->alg = alg;

    if (s->protected_json == NULL && s->unprotected_json == NULL &&
        (s->key->kid == NULL || jg__json_plain(s->key->kid)))
        return build_simple(s->key, alg, NULL, opts->b64_false, pr);

    json_t *prot = NULL;
    err = build_headers(s, alg, opts, &prot, &pr->unprot);
    if (err != JG_OK || prot == NULL)
        return err;
    char *text = NULL;
    size_t text_len = 0;
    err = jg__json_dump_ordered(prot, &text, &text_len);
    json_decref(prot);
    if (err == JG_OK)
        err = encode_header(text, text_len, pr);
    free(text);
    return err;
}

static jg_err sign_into(const jg_jwk *key, prepared *pr, const jg__sig_input *in)
{
    unsigned char sig[JG__SIG_MAX];
    size_t sig_len = 0;
    jg_err err = jg__sig_sign(key, pr->alg, in, sig, &sig_len);
    if (err == JG_OK)
        pr->sig_b64_len = jg_b64url_encode(sig, sig_len, pr->sig_b64);
    jg_memzero(sig, sizeof sig); /* an HMAC tag is as good as the key for this input */
    return err;
}

static jg_err sign_compact(prepared *pr, const jg_jwk *key, const char *penc, size_t penc_len,
                           int detached, char **out, size_t *out_len)
{
    if (penc_len > SIZE_MAX - sizeof pr->sig_b64 - pr->prot_b64_len - 2)
        return JG_ERR_NOMEM;
    size_t body = pr->prot_b64_len + 1 + (detached ? 0 : penc_len) + 1;
    char *buf = malloc(body + sizeof pr->sig_b64);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    size_t o = 0;
    memcpy(buf, pr->prot_b64, pr->prot_b64_len);
    o += pr->prot_b64_len;
    buf[o++] = '.';
    jg__sig_input in;
    if (detached) {
        jg__sig_input_three(&in, pr->prot_b64, pr->prot_b64_len, penc, penc_len);
    } else {
        if (penc_len > 0)
            memcpy(buf + o, penc, penc_len);
        o += penc_len;
        jg__sig_input_one(&in, buf, o); /* sign the token's own bytes */
    }
    jg_err err = sign_into(key, pr, &in);
    if (err != JG_OK) {
        free(buf);
        return err;
    }
    buf[o++] = '.';
    memcpy(buf + o, pr->sig_b64, pr->sig_b64_len);
    o += pr->sig_b64_len;
    buf[o] = '\0';
    *out = buf;
    if (out_len != NULL)
        *out_len = o;
    return JG_OK;
}

/* {"protected":..,"header":..,"signature":..} members into obj. */
static jg_err add_signature_members(json_t *obj, const prepared *pr)
{
    if (pr->prot_b64 != NULL &&
        json_object_set_new(obj, "protected", json_stringn(pr->prot_b64, pr->prot_b64_len)) != 0)
        return JG_ERR_NOMEM;
    if (pr->unprot != NULL && json_object_set(obj, "header", pr->unprot) != 0)
        return JG_ERR_NOMEM;
    if (json_object_set_new(obj, "signature", json_stringn(pr->sig_b64, pr->sig_b64_len)) != 0)
        return JG_ERR_NOMEM;
    return JG_OK;
}

static jg_err serialize_json(const prepared *prs, size_t count, const jg_jws_sign_opts *opts,
                             const char *penc, size_t penc_len, char **out, size_t *out_len)
{
    json_t *root = json_object();
    jg_err err = root ? JG_OK : JG_ERR_NOMEM;
    if (err == JG_OK && !opts->detached &&
        json_object_set_new(root, "payload", json_stringn(penc, penc_len)) != 0)
        err = JG_ERR_NOMEM;
    if (err == JG_OK && opts->format == JG_FORMAT_FLATTENED) {
        err = add_signature_members(root, &prs[0]);
    } else if (err == JG_OK) {
        json_t *list = json_array();
        if (list == NULL || json_object_set_new(root, "signatures", list) != 0)
            err = JG_ERR_NOMEM;
        for (size_t i = 0; i < count && err == JG_OK; i++) {
            json_t *obj = json_object();
            if (obj == NULL || json_array_append_new(list, obj) != 0)
                err = JG_ERR_NOMEM;
            else
                err = add_signature_members(obj, &prs[i]);
        }
    }
    if (err == JG_OK)
        err = jg__json_dump_ordered(root, out, out_len);
    json_decref(root);
    return err;
}

jg_err jg_jws_sign_multi(const void *payload, size_t payload_len, const jg_jws_signer *signers,
                         size_t count, const jg_jws_sign_opts *opts, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    static const jg_jws_sign_opts defaults = {0};
    if (out == NULL || signers == NULL || count == 0 || (payload == NULL && payload_len > 0))
        return JG_ERR_INVALID_ARGUMENT;
    if (opts == NULL)
        opts = &defaults;
    if ((unsigned)opts->format > (unsigned)JG_FORMAT_GENERAL ||
        (count > 1 && opts->format != JG_FORMAT_GENERAL))
        return JG_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (payload == NULL)
        payload = "";

    /* The payload as it is signed and sent. */
    const char *penc = payload;
    size_t penc_len = payload_len;
    char *encoded = NULL;
    if (opts->b64_false) {
        /* RFC 7797 section 5: a compact payload cannot contain '.', and a
         * JSON one must be a JSON string (UTF-8). */
        if (!opts->detached && opts->format == JG_FORMAT_COMPACT &&
            memchr(payload, '.', payload_len) != NULL)
            return JG_ERR_TOKEN_FORMAT;
        if (!opts->detached && opts->format != JG_FORMAT_COMPACT &&
            !jg__utf8_valid(payload, payload_len))
            return JG_ERR_TOKEN_FORMAT;
    } else {
        jg_err err = jg_b64url_encode_alloc(payload, payload_len, &encoded, &penc_len);
        if (err != JG_OK)
            return err;
        penc = encoded;
    }

    prepared *prs = calloc(count, sizeof *prs);
    jg_err err = prs ? JG_OK : JG_ERR_NOMEM;
    for (size_t i = 0; i < count && err == JG_OK; i++)
        err = prepare(&signers[i], opts, &prs[i]);

    if (err == JG_OK && opts->format == JG_FORMAT_COMPACT) {
        err = sign_compact(&prs[0], signers[0].key, penc, penc_len, opts->detached, out, out_len);
    } else if (err == JG_OK) {
        for (size_t i = 0; i < count && err == JG_OK; i++) {
            jg__sig_input in;
            jg__sig_input_three(&in, prs[i].prot_b64 ? prs[i].prot_b64 : "", prs[i].prot_b64_len,
                                penc, penc_len);
            err = sign_into(signers[i].key, &prs[i], &in);
        }
        if (err == JG_OK)
            err = serialize_json(prs, count, opts, penc, penc_len, out, out_len);
    }

    for (size_t i = 0; prs != NULL && i < count; i++) {
        free(prs[i].prot_b64);
        json_decref(prs[i].unprot);
    }
    free(prs);
    /* The payload may be confidential (the inside of a nested token). */
    if (encoded != NULL)
        jg_free_secret(encoded, penc_len);
    return err;
}

jg_err jg_jws_sign(const void *payload, size_t payload_len, const jg_jws_signer *signer,
                   const jg_jws_sign_opts *opts, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    return jg_jws_sign_multi(payload, payload_len, signer, 1, opts, out, out_len);
}

jg_err jg__jws_sign_compact_typ(const void *payload, size_t payload_len, const jg_jwk *key,
                                jg_alg alg, const char *typ, char **out, size_t *out_len)
{
    if (payload == NULL || key == NULL || typ == NULL || out == NULL || !jg__json_plain(typ) ||
        (key->kid != NULL && !jg__json_plain(key->kid)))
        return JG_ERR_INVALID_ARGUMENT;
    if (alg == JG_ALG_UNKNOWN)
        alg = key->alg;
    if (alg == JG_ALG_UNKNOWN)
        return JG_ERR_ALG_UNKNOWN;
    jg_err err = jg_jwk_check(key, alg, JG_OP_SIGN);
    if (err != JG_OK)
        return err;
    prepared pr = {.alg = alg};
    char *penc = NULL;
    size_t penc_len = 0;
    err = jg_b64url_encode_alloc(payload, payload_len, &penc, &penc_len);
    if (err == JG_OK)
        err = build_simple(key, alg, typ, 0, &pr);
    if (err == JG_OK)
        err = sign_compact(&pr, key, penc, penc_len, 0, out, out_len);
    free(pr.prot_b64);
    /* Claims about to be encrypted (jg_access_token_seal) are confidential. */
    if (penc != NULL)
        jg_free_secret(penc, penc_len);
    return err;
}
