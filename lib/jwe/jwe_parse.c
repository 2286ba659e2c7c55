/*
 * jwe_parse.c — split a JWE in compact, flattened or general JSON
 * serialization (RFC 7516 section 7) and check what does not depend on a
 * key: sizes, structure, the protected header, "zip" and "crit", and that no
 * header parameter name repeats across the protected, shared unprotected and
 * per-recipient headers (section 7.2.1).
 */
#include <stdlib.h>
#include <string.h>

#include "core/header.h"
#include "core/json.h"
#include "jwe/jwe_internal.h"
#include "jwtgate/base64url.h"

static jg_err parse_protected(const char *b64, size_t n, const jg_limits *limits, json_t **out)
{
    /* Bound the header before decoding it. */
    size_t exact = n / 4 * 3 + (n % 4 > 1 ? n % 4 - 1 : 0);
    if (exact > limits->max_header_len)
        return JG_ERR_LIMIT_HEADER_SIZE;
    unsigned char stack[2048];
    size_t need = JG_B64URL_DECODED_MAX(n);
    unsigned char *buf = need <= sizeof stack ? stack : malloc(need);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    size_t len = 0;
    jg_err err = jg_b64url_decode(b64, n, buf, &len);
    if (err == JG_OK)
        err = jg__json_parse_object((const char *)buf, len, limits->max_json_depth, 0, out);
    if (buf != stack)
        free(buf);
    return err;
}

static jg_err parse_compact(const char *token, size_t len, const jg_limits *limits,
                            jg__jwe_msg *msg)
{
    jg__span part[5];
    size_t n = 0;
    const char *start = token, *end = token + len;
    for (const char *p = token; p <= end; p++) {
        if (p == end || *p == '.') {
            if (n == 5)
                return JG_ERR_TOKEN_FORMAT;
            part[n].p = start;
            part[n].n = (size_t)(p - start);
            n++;
            start = p + 1;
        }
    }
    if (n != 5)
        return JG_ERR_TOKEN_FORMAT;
    msg->protected_b64 = part[0];
    msg->one.ek = part[1];
    msg->iv = part[2];
    msg->ciphertext = part[3];
    msg->tag = part[4];
    msg->n_recipients = 1;
    msg->recips = &msg->one;
    if (part[0].n == 0)
        return JG_ERR_TOKEN_FORMAT; /* compact tokens carry everything protected */
    return parse_protected(part[0].p, part[0].n, limits, &msg->protected_hdr);
}

/* A string member as a span; absent leaves it empty. */
static jg_err span_member(const json_t *obj, const char *name, jg__span *out, int *present)
{
    const json_t *v = json_object_get(obj, name);
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return JG_OK;
    if (!json_is_string(v))
        return JG_ERR_TOKEN_FORMAT;
    out->p = json_string_value(v);
    out->n = json_string_length(v);
    return JG_OK;
}

static jg_err header_member(const json_t *obj, const char *name, const json_t **out)
{
    const json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (v == NULL)
        return JG_OK;
    if (!json_is_object(v))
        return JG_ERR_TOKEN_FORMAT;
    *out = v;
    return JG_OK;
}

static jg_err parse_json(const char *token, size_t len, const jg_limits *limits, jg__jwe_msg *msg)
{
    jg_err err = jg__json_parse_object(token, len, limits->max_json_depth, 0, &msg->root);
    if (err == JG_ERR_JSON_NOT_OBJECT)
        err = JG_ERR_TOKEN_FORMAT;
    if (err != JG_OK)
        return err;
    const json_t *root = msg->root;
    msg->json = 1;

    int has_ct = 0, has_prot = 0;
    if ((err = span_member(root, "ciphertext", &msg->ciphertext, &has_ct)) != JG_OK ||
        (err = span_member(root, "iv", &msg->iv, NULL)) != JG_OK ||
        (err = span_member(root, "tag", &msg->tag, NULL)) != JG_OK ||
        (err = span_member(root, "aad", &msg->aad, &msg->has_aad)) != JG_OK ||
        (err = span_member(root, "protected", &msg->protected_b64, &has_prot)) != JG_OK ||
        (err = header_member(root, "unprotected", &msg->shared)) != JG_OK)
        return err;
    if (!has_ct)
        return JG_ERR_TOKEN_FORMAT; /* not a JWE (a JWS has "payload") */

    const json_t *recips = json_object_get(root, "recipients");
    if (recips != NULL) {
        if (!json_is_array(recips) || json_object_get(root, "header") != NULL ||
            json_object_get(root, "encrypted_key") != NULL)
            return JG_ERR_TOKEN_FORMAT;
        size_t count = json_array_size(recips);
        if (count == 0)
            return JG_ERR_TOKEN_FORMAT;
        if (count > limits->max_recipients)
            return JG_ERR_LIMIT_RECIPIENTS;
        msg->recips = calloc(count, sizeof *msg->recips);
        if (msg->recips == NULL)
            return JG_ERR_NOMEM;
        msg->n_recipients = count;
        for (size_t i = 0; i < count; i++) {
            const json_t *r = json_array_get(recips, i);
            if (!json_is_object(r))
                return JG_ERR_TOKEN_FORMAT;
            if ((err = header_member(r, "header", &msg->recips[i].header)) != JG_OK ||
                (err = span_member(r, "encrypted_key", &msg->recips[i].ek, NULL)) != JG_OK)
                return err;
        }
    } else {
        msg->recips = &msg->one;
        msg->n_recipients = 1;
        if ((err = header_member(root, "header", &msg->one.header)) != JG_OK ||
            (err = span_member(root, "encrypted_key", &msg->one.ek, NULL)) != JG_OK)
            return err;
    }

    if (has_prot)
        return parse_protected(msg->protected_b64.p, msg->protected_b64.n, limits,
                               &msg->protected_hdr);
    return JG_OK;
}

/* Rules over the headers that hold for every recipient. */
static jg_err check_headers(const jg__jwe_msg *msg, const jg_limits *limits,
                            const char *const *crit)
{
    /* "zip" applies before decryption of one shared plaintext, so it may
     * only be protected (RFC 7516 section 4.1.3). */
    if (msg->shared != NULL && json_object_get(msg->shared, "zip") != NULL)
        return JG_ERR_ZIP_UNPROTECTED;
    for (size_t i = 0; i < msg->n_recipients; i++)
        if (msg->recips[i].header != NULL && json_object_get(msg->recips[i].header, "zip") != NULL)
            return JG_ERR_ZIP_UNPROTECTED;
    const json_t *zip = msg->protected_hdr ? json_object_get(msg->protected_hdr, "zip") : NULL;
    if (zip != NULL) {
        if (!json_is_string(zip) || strcmp(json_string_value(zip), "DEF") != 0 ||
            limits->max_inflated_len == 0)
            return JG_ERR_ZIP_UNSUPPORTED;
    }

    jg_err err = jg__header_disjoint(msg->protected_hdr, msg->shared);
    for (size_t i = 0; i < msg->n_recipients && err == JG_OK; i++) {
        const json_t *r = msg->recips[i].header;
        err = jg__header_disjoint(msg->protected_hdr, r);
        if (err == JG_OK)
            err = jg__header_disjoint(msg->shared, r);
        if (err == JG_OK) {
            const json_t *unprotected[2] = {msg->shared, r};
            err = jg__crit_check(msg->protected_hdr, unprotected, 2, NULL, crit);
        }
    }
    return err;
}

jg_err jg__jwe_parse(const char *token, size_t len, const jg_limits *limits,
                     const char *const *crit, jg__jwe_msg *msg)
{
    memset(msg, 0, sizeof *msg);
    msg->recips = &msg->one;
    if (len > limits->max_token_len)
        return JG_ERR_LIMIT_TOKEN_SIZE;
    size_t i = 0;
    while (i < len && (token[i] == ' ' || token[i] == '\t' || token[i] == '\r' || token[i] == '\n'))
        i++;
    jg_err err = i < len && token[i] == '{' ? parse_json(token, len, limits, msg)
                                            : parse_compact(token, len, limits, msg);
    if (err == JG_OK)
        err = check_headers(msg, limits, crit);
    return err;
}

void jg__jwe_msg_clear(jg__jwe_msg *msg)
{
    if (msg->recips != &msg->one)
        free(msg->recips);
    json_decref(msg->protected_hdr);
    json_decref(msg->root);
    memset(msg, 0, sizeof *msg);
}
