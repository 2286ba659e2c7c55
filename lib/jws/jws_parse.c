/*
 * jws_parse.c — split a JWS in compact, flattened JSON or general JSON
 * serialization (RFC 7515 sections 7.1 and 7.2) into its parts, decoding the
 * protected headers. Pointers refer to the token (compact) or to the parsed
 * JSON document; nothing else is copied. Semantic checks (alg, crit, b64,
 * keys) belong to jws_verify.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "jwtgate/base64url.h"
#include "jws/jws_internal.h"

/* Decoded headers up to this size stay on the stack. */
#define HEADER_STACK 1024u

/* The exact decoded length of n base64url characters (when valid). */
static size_t b64_decoded_len(size_t n)
{
    return n / 4 * 3 + (n % 4 > 1 ? n % 4 - 1 : 0);
}

jg_err jg__jws_decode_header(const char *b64, size_t len, const jg_limits *limits, json_t **out)
{
    if (b64_decoded_len(len) > limits->max_header_len)
        return JG_ERR_LIMIT_HEADER_SIZE;
    unsigned char stack_buf[HEADER_STACK];
    unsigned char *buf = stack_buf;
    size_t cap = JG_B64URL_DECODED_MAX(len);
    if (cap > sizeof stack_buf) {
        buf = malloc(cap);
        if (buf == NULL)
            return JG_ERR_NOMEM;
    }
    size_t n = 0;
    jg_err err = jg_b64url_decode(b64, len, buf, &n);
    if (err == JG_OK)
        err = jg__json_parse_object((const char *)buf, n, limits->max_json_depth, 0, out);
    if (buf != stack_buf)
        free(buf);
    return err;
}

void jg__jws_parsed_free(jg__jws_parsed *parsed)
{
    if (parsed == NULL)
        return;
    if (parsed->sigs != NULL)
        for (size_t i = 0; i < parsed->n; i++)
            json_decref(parsed->sigs[i].prot);
    if (parsed->sigs != &parsed->one)
        free(parsed->sigs);
    json_decref(parsed->root);
    memset(parsed, 0, sizeof *parsed);
}

static jg_err parse_compact(const char *token, size_t len, const jg_limits *limits,
                            jg__jws_parsed *p)
{
    const char *end = token + len;
    const char *dot1 = memchr(token, '.', len);
    if (dot1 == NULL)
        return JG_ERR_TOKEN_FORMAT;
    const char *dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return JG_ERR_TOKEN_FORMAT; /* not three parts (a JWE has five) */
    if (dot1 == token)
        return JG_ERR_TOKEN_FORMAT; /* the compact form always has a protected header */

    jg__jws_sig *sig = &p->one;
    p->sigs = sig;
    p->n = 1;
    p->compact = 1;
    sig->prot_b64 = token;
    sig->prot_b64_len = (size_t)(dot1 - token);
    sig->sig_b64 = dot2 + 1;
    sig->sig_b64_len = (size_t)(end - dot2 - 1);
    p->payload_enc = dot1 + 1;
    p->payload_enc_len = (size_t)(dot2 - dot1 - 1);
    p->has_payload = p->payload_enc_len > 0;
    p->signing_input_len = (size_t)(dot2 - token);
    return jg__jws_decode_header(sig->prot_b64, sig->prot_b64_len, limits, &sig->prot);
}

/* One signature object: {"protected", "header", "signature"}. */
static jg_err parse_signature(json_t *obj, const jg_limits *limits, jg__jws_sig *sig)
{
    json_t *signature = json_object_get(obj, "signature");
    json_t *prot = json_object_get(obj, "protected");
    json_t *header = json_object_get(obj, "header");
    if (signature == NULL)
        return JG_ERR_TOKEN_FORMAT;
    if (!json_is_string(signature) || (prot != NULL && !json_is_string(prot)) ||
        (header != NULL && !json_is_object(header)))
        return JG_ERR_JSON_TYPE;
    /* RFC 7515 section 7.2.1: at least one of the two headers. */
    if (prot == NULL && header == NULL)
        return JG_ERR_TOKEN_FORMAT;
    sig->sig_b64 = json_string_value(signature);
    sig->sig_b64_len = json_string_length(signature);
    sig->unprot = header;
    if (prot == NULL) {
        sig->prot_b64 = "";
        sig->prot_b64_len = 0;
        return JG_OK;
    }
    sig->prot_b64 = json_string_value(prot);
    sig->prot_b64_len = json_string_length(prot);
    return jg__jws_decode_header(sig->prot_b64, sig->prot_b64_len, limits, &sig->prot);
}

static jg_err parse_json(const char *token, size_t len, const jg_limits *limits, jg__jws_parsed *p)
{
    jg_err err = jg__json_parse_object(token, len, limits->max_json_depth, 0, &p->root);
    if (err != JG_OK)
        return err;
    json_t *root = p->root;

    json_t *payload = json_object_get(root, "payload");
    if (payload != NULL) {
        if (!json_is_string(payload))
            return JG_ERR_JSON_TYPE;
        p->has_payload = 1;
        p->payload_enc = json_string_value(payload);
        p->payload_enc_len = json_string_length(payload);
    }

    json_t *signatures = json_object_get(root, "signatures");
    if (signatures == NULL) {
        /* Flattened (RFC 7515 section 7.2.2). */
        if (json_object_get(root, "signature") == NULL)
            return JG_ERR_TOKEN_FORMAT;
        if (limits->max_signatures < 1)
            return JG_ERR_LIMIT_SIGNATURES;
        p->sigs = &p->one;
        p->n = 1;
        return parse_signature(root, limits, &p->one);
    }

    /* General: a per-signature member at the top would be silently ignored
     * by some implementations and honoured by others; refuse it. */
    if (json_object_get(root, "signature") != NULL || json_object_get(root, "protected") != NULL ||
        json_object_get(root, "header") != NULL)
        return JG_ERR_TOKEN_FORMAT;
    if (!json_is_array(signatures))
        return JG_ERR_JSON_TYPE;
    size_t n = json_array_size(signatures);
    if (n == 0)
        return JG_ERR_TOKEN_FORMAT;
    if (n > limits->max_signatures)
        return JG_ERR_LIMIT_SIGNATURES;
    p->sigs = calloc(n, sizeof *p->sigs);
    if (p->sigs == NULL)
        return JG_ERR_NOMEM;
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        json_t *obj = json_array_get(signatures, i);
        if (!json_is_object(obj))
            return JG_ERR_JSON_TYPE;
        err = parse_signature(obj, limits, &p->sigs[i]);
        if (err != JG_OK)
            return err;
    }
    return JG_OK;
}

jg_err jg__jws_parse(const char *token, size_t len, const jg_limits *limits, jg__jws_parsed *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len && (token[i] == ' ' || token[i] == '\t' || token[i] == '\r' || token[i] == '\n'))
        i++;
    jg_err err = i < len && token[i] == '{' ? parse_json(token, len, limits, out)
                                            : parse_compact(token, len, limits, out);
    if (err != JG_OK)
        jg__jws_parsed_free(out);
    return err;
}
