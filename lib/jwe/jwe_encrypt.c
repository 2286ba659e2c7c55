/*
 * jwe_encrypt.c — jg_jwe_encrypt(): key management per recipient, content
 * encryption once, and the compact, flattened or general JSON
 * serialization (RFC 7516 sections 5.1 and 7).
 *
 * Where header members go. The caller may place "alg", "kid" and "enc" in
 * any header by naming them (the values must match what is used); what it
 * does not name is placed for it: "enc" and "zip" in the protected header;
 * "alg", the key's "kid" and the generated key-management parameters
 * ("epk", "p2s", "p2c", "iv", "tag") in the protected header for compact
 * and in the recipient's own header for the JSON serializations — or next
 * to a caller-named "alg" when that header belongs to this recipient alone.
 * Generated members follow "alg"/"kid" and precede the caller's other
 * members, which keep their order (the order of RFC 7520's examples).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/header.h"
#include "core/json.h"
#include "jwe/jwe_internal.h"
#include "jwk/jwk_internal.h"
#include "jwtgate/base64url.h"

/* Names the caller may not set: they are generated, or "zip" is an option. */
static const char *const generated_names[] = {"epk", "p2s", "p2c", "iv", "tag", "zip", NULL};

enum { P = 0, S = 1, R = 2 }; /* protected, shared unprotected, recipient */

typedef struct recip_state {
    jg_alg alg;
    const jg_jwk *key;
    json_t *caller;       /* the caller's per-recipient header, or NULL */
    json_t *params;       /* generated key-management members */
    int home;             /* P, S or R: where alg/kid/params go */
    int gen_alg, gen_kid; /* whether "alg"/"kid" are generated */
    unsigned char *ek;
    size_t ek_len;
    json_t *header; /* the final per-recipient header */
} recip_state;

typedef struct enc_state {
    const jg__enc_info *enc;
    jg_format format;
    size_t count;
    json_t *caller[2]; /* caller's protected and shared headers */
    recip_state *r;
    json_t *prot, *shared;
    char *prot_text;
    size_t prot_text_len;
} enc_state;

static jg_err parse_caller(const char *text, json_t **out)
{
    *out = NULL;
    if (text == NULL)
        return JG_OK;
    return jg__json_parse_object(text, strlen(text), 0, 0, out);
}

/* Check one caller header against the recipients it serves. */
static jg_err check_caller(const json_t *h, int kind, const enc_state *st, size_t only)
{
    if (h == NULL)
        return JG_OK;
    for (const char *const *n = generated_names; *n != NULL; n++)
        if (json_object_get(h, *n) != NULL)
            return JG_ERR_HEADER_INVALID;
    if (kind != P && json_object_get(h, "crit") != NULL)
        return JG_ERR_HEADER_INVALID; /* would be refused by every recipient */
    const json_t *v = json_object_get(h, "kid");
    if (v != NULL && !json_is_string(v))
        return JG_ERR_HEADER_INVALID;
    v = json_object_get(h, "enc");
    if (v != NULL &&
        (!json_is_string(v) || strcmp(json_string_value(v), jg_enc_name(st->enc->enc)) != 0))
        return JG_ERR_HEADER_INVALID;
    v = json_object_get(h, "alg");
    if (v != NULL) {
        if (!json_is_string(v))
            return JG_ERR_HEADER_INVALID;
        for (size_t i = 0; i < st->count; i++) {
            if (kind == R && i != only)
                continue;
            if (strcmp(json_string_value(v), jg_alg_name(st->r[i].alg)) != 0)
                return JG_ERR_HEADER_INVALID;
        }
    }
    return JG_OK;
}

static int named(const json_t *h, const char *name)
{
    return h != NULL && json_object_get(h, name) != NULL;
}

static jg_err set(json_t *obj, const char *name, json_t *value)
{
    return value != NULL && json_object_set_new(obj, name, value) == 0 ? JG_OK : JG_ERR_NOMEM;
}

/* Append the generated kid and parameters of `r` to `h`. */
static jg_err emit_generated(json_t *h, const recip_state *r)
{
    jg_err err = JG_OK;
    if (r->gen_kid)
        err = set(h, "kid", json_string(r->key->kid));
    const char *name;
    json_t *value;
    json_object_foreach (r->params, name, value) {
        if (err == JG_OK)
            err = set(h, name, json_incref(value));
    }
    return err;
}

/*
 * Build one header: the caller's members in their order with the generated
 * members of `r` (if this header is its home) placed after "alg"/"kid",
 * then "enc" and "zip" when given.
 */
static jg_err build_header(const json_t *caller, const recip_state *r, const char *enc, int zip,
                           json_t **out)
{
    json_t *h = json_object();
    if (h == NULL)
        return JG_ERR_NOMEM;
    jg_err err = JG_OK;
    int pending = r != NULL;
    if (r != NULL && r->gen_alg) {
        err = set(h, "alg", json_string(jg_alg_name(r->alg)));
        if (err == JG_OK)
            err = emit_generated(h, r);
        pending = 0;
    }
    if (caller != NULL) {
        int want_kid = named(caller, "kid"), seen_alg = 0, seen_kid = 0;
        const char *name;
        json_t *value;
        json_object_foreach ((json_t *)caller, name, value) {
            if (err != JG_OK)
                break;
            err = set(h, name, json_incref(value));
            seen_alg |= strcmp(name, "alg") == 0;
            seen_kid |= strcmp(name, "kid") == 0;
            if (err == JG_OK && pending && seen_alg && (seen_kid || !want_kid)) {
                err = emit_generated(h, r);
                pending = 0;
            }
        }
    }
    if (err == JG_OK && pending)
        err = emit_generated(h, r); /* alg named elsewhere: still belongs here */
    if (err == JG_OK && enc != NULL)
        err = set(h, "enc", json_string(enc));
    if (err == JG_OK && zip)
        err = set(h, "zip", json_string("DEF"));
    if (err != JG_OK) {
        json_decref(h);
        return err;
    }
    *out = h;
    return JG_OK;
}

static jg_err check_recipients(const jg_jwe_recipient *recipients, enc_state *st)
{
    for (size_t i = 0; i < st->count; i++) {
        recip_state *r = &st->r[i];
        const jg_jwe_recipient *in = &recipients[i];
        if (in->key == NULL)
            return JG_ERR_INVALID_ARGUMENT;
        r->key = in->key;
        r->alg = in->alg != JG_ALG_UNKNOWN ? in->alg : in->key->alg;
        if (r->alg == JG_ALG_UNKNOWN || jg_alg_kind_of(r->alg) == JG_ALG_KIND_NONE)
            return JG_ERR_ALG_UNKNOWN;
        if (jg_alg_kind_of(r->alg) != JG_ALG_KIND_JWE)
            return JG_ERR_ALG_KIND;
        if (jg__alg(r->alg)->flags & JG__ALG_DECRYPT_ONLY)
            return JG_ERR_UNSUPPORTED;
        if (jg__alg_is_direct(r->alg) && st->count > 1)
            return JG_ERR_INVALID_ARGUMENT;
        jg_err err = jg_jwk_check(in->key, r->alg, JG_OP_ENCRYPT);
        if (err != JG_OK)
            return err;
        if (r->alg == JG_ALG_DIR) {
            unsigned char scratch[JG__CEK_MAX];
            err = jg__dir_encrypt(in->key, st->enc, scratch); /* size and enc binding */
            jg_memzero(scratch, sizeof scratch);
            if (err != JG_OK)
                return err;
        }
        if (st->format == JG_FORMAT_COMPACT && in->header_json != NULL)
            return JG_ERR_INVALID_ARGUMENT;
        err = parse_caller(in->header_json, &r->caller);
        if (err != JG_OK)
            return err;
        r->params = json_object();
        if (r->params == NULL)
            return JG_ERR_NOMEM;
    }
    return JG_OK;
}

/* Decide where each recipient's alg, kid and parameters go. */
static jg_err place(enc_state *st)
{
    jg_err err = JG_OK;
    for (size_t i = 0; i < st->count && err == JG_OK; i++) {
        recip_state *r = &st->r[i];
        const json_t *hs[3] = {st->caller[P], st->caller[S], r->caller};
        err = check_caller(hs[R], R, st, i);
        if (err == JG_OK)
            err = jg__header_disjoint(hs[P], hs[R]);
        if (err == JG_OK)
            err = jg__header_disjoint(hs[S], hs[R]);
        int alg_at = named(hs[P], "alg")   ? P
                     : named(hs[S], "alg") ? S
                     : named(hs[R], "alg") ? R
                                           : -1;
        r->gen_alg = alg_at < 0;
        if (alg_at < 0)
            alg_at = st->format == JG_FORMAT_COMPACT ? P : R;
        /* A shared header can hold one recipient's parameters only when
         * there is one recipient. */
        r->home = alg_at == R || st->count == 1 ? alg_at : R;
        r->gen_kid = r->key->kid != NULL && !named(hs[P], "kid") && !named(hs[S], "kid") &&
                     !named(hs[R], "kid");
        if (r->gen_alg && r->home != alg_at)
            r->home = alg_at;
    }
    return err;
}

/* Key management for every recipient; direct algorithms produce the CEK. */
static jg_err manage_keys(enc_state *st, uint32_t p2c, const jg__jwe_fixed *fixed,
                          unsigned char *cek)
{
    if (!jg__alg_is_direct(st->r[0].alg)) {
        if (fixed != NULL && fixed->cek != NULL) {
            if (fixed->cek_len != st->enc->cek_len)
                return JG_ERR_INVALID_ARGUMENT;
            memcpy(cek, fixed->cek, st->enc->cek_len);
        } else if (RAND_priv_bytes(cek, (int)st->enc->cek_len) != 1) {
            return JG_ERR_CRYPTO;
        }
    }
    for (size_t i = 0; i < st->count; i++) {
        recip_state *r = &st->r[i];
        jg__hdrs hdrs = {{st->caller[P], st->caller[S], r->caller}};
        jg_err err = jg__km_encrypt(r->alg, r->key, st->enc, &hdrs, p2c, fixed, cek, &r->ek,
                                    &r->ek_len, r->params);
        if (err != JG_OK)
            return err;
    }
    return JG_OK;
}

static jg_err build_headers(enc_state *st, int zip)
{
    const char *enc = named(st->caller[P], "enc") || named(st->caller[S], "enc")
                          ? NULL
                          : jg_enc_name(st->enc->enc);
    for (size_t i = 0; i < st->count && enc != NULL; i++)
        if (named(st->r[i].caller, "enc"))
            enc = NULL;
    /* With one recipient its members may live in a shared header. */
    recip_state *only = st->count == 1 ? &st->r[0] : NULL;
    jg_err err =
        build_header(st->caller[P], only && only->home == P ? only : NULL, enc, zip, &st->prot);
    if (err == JG_OK)
        err = build_header(st->caller[S], only && only->home == S ? only : NULL, NULL, 0,
                           &st->shared);
    for (size_t i = 0; i < st->count && err == JG_OK; i++) {
        recip_state *r = &st->r[i];
        err = build_header(r->caller, r->home == R ? r : NULL, NULL, 0, &r->header);
    }
    /* Generated members must not collide with the caller's. */
    for (size_t i = 0; i < st->count && err == JG_OK; i++) {
        err = jg__header_disjoint(st->prot, st->r[i].header);
        if (err == JG_OK)
            err = jg__header_disjoint(st->shared, st->r[i].header);
    }
    if (err == JG_OK)
        err = jg__header_disjoint(st->prot, st->shared);
    if (err == JG_OK && json_object_size(st->prot) > 0)
        err = jg__json_dump_ordered(st->prot, &st->prot_text, &st->prot_text_len);
    return err;
}

/* ---- Serialization ---------------------------------------------------------- */

static size_t put_b64(char *out, const void *bytes, size_t len)
{
    return jg_b64url_encode(bytes, len, out);
}

static jg_err compact(const char *prot_b64, size_t prot_b64_len, const recip_state *r,
                      const unsigned char *iv, size_t iv_len, const unsigned char *ct,
                      size_t ct_len, const unsigned char *tag, size_t tag_len, char **out,
                      size_t *out_len)
{
    size_t total = prot_b64_len + 4 + JG_B64URL_ENCODED_LEN(r->ek_len) +
                   JG_B64URL_ENCODED_LEN(iv_len) + JG_B64URL_ENCODED_LEN(ct_len) +
                   JG_B64URL_ENCODED_LEN(tag_len);
    char *buf = malloc(total + 1);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    char *p = buf;
    if (prot_b64_len > 0)
        memcpy(p, prot_b64, prot_b64_len);
    p += prot_b64_len;
    *p++ = '.';
    p += put_b64(p, r->ek, r->ek_len);
    *p++ = '.';
    p += put_b64(p, iv, iv_len);
    *p++ = '.';
    p += put_b64(p, ct, ct_len);
    *p++ = '.';
    p += put_b64(p, tag, tag_len);
    *p = 0;
    *out = buf;
    if (out_len != NULL)
        *out_len = (size_t)(p - buf);
    return JG_OK;
}

static json_t *b64_string(const void *bytes, size_t len)
{
    char *text = NULL;
    if (jg_b64url_encode_alloc(bytes, len, &text, NULL) != JG_OK)
        return NULL;
    json_t *s = json_stringn_nocheck(text, JG_B64URL_ENCODED_LEN(len));
    free(text);
    return s;
}

static jg_err add_recipient_members(json_t *obj, const recip_state *r)
{
    jg_err err = JG_OK;
    if (json_object_size(r->header) > 0)
        err = set(obj, "header", json_incref(r->header));
    if (err == JG_OK && r->ek_len > 0)
        err = set(obj, "encrypted_key", b64_string(r->ek, r->ek_len));
    return err;
}

static jg_err json_serialize(const enc_state *st, const char *prot_b64, size_t prot_b64_len,
                             const char *aad_b64, const unsigned char *iv, const unsigned char *ct,
                             size_t ct_len, const unsigned char *tag, char **out, size_t *out_len)
{
    json_t *root = json_object();
    if (root == NULL)
        return JG_ERR_NOMEM;
    jg_err err = JG_OK;
    if (prot_b64_len > 0)
        err = set(root, "protected", json_stringn_nocheck(prot_b64, prot_b64_len));
    if (err == JG_OK && json_object_size(st->shared) > 0)
        err = set(root, "unprotected", json_incref(st->shared));
    if (err == JG_OK && st->format == JG_FORMAT_FLATTENED) {
        err = add_recipient_members(root, &st->r[0]);
    } else if (err == JG_OK) {
        json_t *arr = json_array();
        err = set(root, "recipients", arr);
        for (size_t i = 0; i < st->count && err == JG_OK; i++) {
            json_t *r = json_object();
            if (r == NULL || json_array_append_new(arr, r) != 0)
                err = JG_ERR_NOMEM;
            else
                err = add_recipient_members(r, &st->r[i]);
        }
    }
    if (err == JG_OK && aad_b64 != NULL)
        err = set(root, "aad", json_string_nocheck(aad_b64));
    if (err == JG_OK)
        err = set(root, "iv", b64_string(iv, st->enc->iv_len));
    if (err == JG_OK)
        err = set(root, "ciphertext", b64_string(ct, ct_len));
    if (err == JG_OK)
        err = set(root, "tag", b64_string(tag, st->enc->tag_len));
    if (err == JG_OK)
        err = jg__json_dump(root, 0, out, out_len);
    json_decref(root);
    return err;
}

/* ---- The whole operation ---------------------------------------------------- */

static void state_clear(enc_state *st)
{
    for (size_t i = 0; st->r != NULL && i < st->count; i++) {
        json_decref(st->r[i].caller);
        json_decref(st->r[i].params);
        json_decref(st->r[i].header);
        free(st->r[i].ek);
    }
    free(st->r);
    json_decref(st->caller[P]);
    json_decref(st->caller[S]);
    json_decref(st->prot);
    json_decref(st->shared);
    free(st->prot_text);
}

static jg_err encrypt_content(const enc_state *st, const jg_jwe_encrypt_opts *o,
                              const jg__jwe_fixed *fixed, const unsigned char *cek,
                              const void *plaintext, size_t plaintext_len, char **out,
                              size_t *out_len)
{
    const jg__enc_info *enc = st->enc;
    unsigned char iv[JG__IV_MAX], tag[JG__TAG_MAX];
    if (fixed != NULL && fixed->iv != NULL) {
        if (fixed->iv_len != enc->iv_len)
            return JG_ERR_INVALID_ARGUMENT;
        memcpy(iv, fixed->iv, enc->iv_len);
    } else if (RAND_bytes(iv, (int)enc->iv_len) != 1) {
        return JG_ERR_CRYPTO;
    }

    /* Protected header and AAD, as the recipient will see them. */
    char *prot_b64 = NULL, *aad_b64 = NULL;
    size_t prot_b64_len = 0, aad_b64_len = 0;
    jg_err err = JG_OK;
    if (st->prot_text != NULL)
        err = jg_b64url_encode_alloc(st->prot_text, st->prot_text_len, &prot_b64, &prot_b64_len);
    if (err == JG_OK && o->aad != NULL)
        err = jg_b64url_encode_alloc(o->aad, o->aad_len, &aad_b64, &aad_b64_len);
    jg__aad aad = {prot_b64 != NULL ? prot_b64 : "", prot_b64_len, aad_b64, aad_b64_len,
                   aad_b64 != NULL};

    unsigned char *zipped = NULL, *ct = NULL;
    size_t zipped_len = 0;
    const unsigned char *pt = plaintext;
    size_t pt_len = plaintext_len;
    if (err == JG_OK && o->zip) {
        err = jg__deflate(plaintext, plaintext_len, &zipped, &zipped_len);
        pt = zipped;
        pt_len = zipped_len;
    }
    size_t ct_len = jg__content_ct_len(enc, pt_len);
    if (err == JG_OK) {
        ct = malloc(ct_len > 0 ? ct_len : 1);
        if (ct == NULL)
            err = JG_ERR_NOMEM;
    }
    if (err == JG_OK)
        /* The first recipient's key keeps the fetched cipher. */
        err = jg__content_encrypt(enc, st->r[0].key, cek, iv, &aad,
                                  pt != NULL ? pt : (const unsigned char *)"", pt_len, ct, tag);
    if (err == JG_OK && st->format == JG_FORMAT_COMPACT)
        err = compact(prot_b64, prot_b64_len, &st->r[0], iv, enc->iv_len, ct, ct_len, tag,
                      enc->tag_len, out, out_len);
    else if (err == JG_OK)
        err =
            json_serialize(st, prot_b64, prot_b64_len, aad_b64, iv, ct, ct_len, tag, out, out_len);
    if (zipped != NULL)
        jg_free_secret(zipped, zipped_len);
    free(ct);
    free(prot_b64);
    free(aad_b64);
    return err;
}

jg_err jg__jwe_encrypt_fixed(const void *plaintext, size_t plaintext_len,
                             const jg_jwe_recipient *recipients, size_t count,
                             const jg_jwe_encrypt_opts *opts, const jg__jwe_fixed *fixed,
                             char **out, size_t *out_len)
{
    static const jg_jwe_encrypt_opts defaults = {0};
    const jg_jwe_encrypt_opts *o = opts != NULL ? opts : &defaults;
    if (out != NULL)
        *out = NULL;
    if ((plaintext == NULL && plaintext_len > 0) || recipients == NULL || count == 0 ||
        out == NULL || (unsigned)o->format > (unsigned)JG_FORMAT_GENERAL)
        return JG_ERR_INVALID_ARGUMENT;
    if (o->format != JG_FORMAT_GENERAL && count > 1)
        return JG_ERR_INVALID_ARGUMENT;
    if (o->format == JG_FORMAT_COMPACT && (o->unprotected_json != NULL || o->aad != NULL))
        return JG_ERR_INVALID_ARGUMENT;

    enc_state st;
    memset(&st, 0, sizeof st);
    /* Default enc: the one a dir key is bound to, else A256GCM. */
    jg_enc enc = o->enc;
    if (enc == JG_ENC_UNKNOWN && count == 1 && recipients[0].key != NULL)
        enc = recipients[0].key->enc;
    st.enc = jg__enc_info_of(enc != JG_ENC_UNKNOWN ? enc : JG_ENC_A256GCM);
    if (st.enc == NULL)
        return JG_ERR_ENC_UNKNOWN;
    st.format = o->format;
    st.count = count;
    st.r = calloc(count, sizeof *st.r);
    if (st.r == NULL)
        return JG_ERR_NOMEM;

    unsigned char cek[JG__CEK_MAX];
    jg_err err = check_recipients(recipients, &st);
    if (err == JG_OK)
        err = parse_caller(o->protected_json, &st.caller[P]);
    if (err == JG_OK)
        err = parse_caller(o->unprotected_json, &st.caller[S]);
    if (err == JG_OK)
        err = check_caller(st.caller[P], P, &st, 0);
    if (err == JG_OK)
        err = check_caller(st.caller[S], S, &st, 0);
    if (err == JG_OK)
        err = jg__header_disjoint(st.caller[P], st.caller[S]);
    if (err == JG_OK)
        err = place(&st);
    if (err == JG_OK)
        err = manage_keys(&st, o->pbes2_count, fixed, cek);
    if (err == JG_OK)
        err = build_headers(&st, o->zip);
    if (err == JG_OK)
        err = encrypt_content(&st, o, fixed, cek, plaintext, plaintext_len, out, out_len);
    jg_memzero(cek, sizeof cek);
    state_clear(&st);
    return err;
}

jg_err jg_jwe_encrypt(const void *plaintext, size_t plaintext_len,
                      const jg_jwe_recipient *recipients, size_t count,
                      const jg_jwe_encrypt_opts *opts, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    return jg__jwe_encrypt_fixed(plaintext, plaintext_len, recipients, count, opts, NULL, out,
                                 out_len);
}
