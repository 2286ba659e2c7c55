/*
 * jws_parse.c — split a JWS in compact, flattened JSON or general JSON
 * serialization (RFC 7515 sections 7.1 and 7.2) into its parts, decoding the
 * protected headers. Pointers refer to the token (compact) or to the parsed
 * JSON document; nothing else is copied. Both the document and the headers
 * are read with core/jdoc.h, so counting 10,000 signatures builds nothing. Semantic checks (alg,
 * crit, b64, keys) belong to jws_verify.c.
 */
#include <stdlib.h>
#include <string.h>

#include "jwtgate/base64url.h"
#include "jws/jws_internal.h"

/* Decoded headers up to this size stay on the stack. */
#define HEADER_STACK 1024u

/* The exact decoded length of n base64url characters (when valid). */
static size_t b64_decoded_len(size_t n)
{
    return n / 4 * 3 + (n % 4 > 1 ? n % 4 - 1 : 0);
}

jg_err jg__jws_decode_header(const char *b64, size_t len, const jg_limits *limits, jg__jdoc **out)
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
    jg__jdoc *doc = NULL;
    jg_err err = jg_b64url_decode(b64, len, buf, &n);
    if (err == JG_OK) /* the reader copies what it keeps: buf can go */
        err = jg__jdoc_parse((const char *)buf, n, limits->max_json_depth, &doc);
    if (buf != stack_buf)
        free(buf);
    if (err == JG_OK && doc->nodes[0].type != JG__J_OBJECT) {
        jg__jdoc_free(doc);
        err = JG_ERR_JSON_NOT_OBJECT;
    }
    if (err == JG_OK)
        *out = doc;
    return err;
}

void jg__jws_parsed_free(jg__jws_parsed *parsed)
{
    if (parsed == NULL)
        return;
    if (parsed->sigs != NULL)
        for (size_t i = 0; i < parsed->n; i++)
            jg__jdoc_free(parsed->sigs[i].prot);
    if (parsed->sigs != &parsed->one)
        free(parsed->sigs);
    jg__jdoc_free(parsed->doc);
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

/* The type of node `k` (0: absent member, never a member's value). */
static int type_of(const jg__jdoc *d, uint32_t k)
{
    return k != 0 ? d->nodes[k].type : -1;
}

/* One signature object at node `obj`: {"protected", "header", "signature"}. */
static jg_err parse_signature(const jg__jdoc *d, uint32_t obj, const jg_limits *limits,
                              jg__jws_sig *sig)
{
    uint32_t signature = jg__jdoc_get(d, obj, "signature");
    uint32_t prot = jg__jdoc_get(d, obj, "protected");
    uint32_t header = jg__jdoc_get(d, obj, "header");
    if (signature == 0)
        return JG_ERR_TOKEN_FORMAT;
    if (type_of(d, signature) != JG__J_STRING || (prot != 0 && type_of(d, prot) != JG__J_STRING) ||
        (header != 0 && type_of(d, header) != JG__J_OBJECT))
        return JG_ERR_JSON_TYPE;
    /* RFC 7515 section 7.2.1: at least one of the two headers. */
    if (prot == 0 && header == 0)
        return JG_ERR_TOKEN_FORMAT;
    sig->sig_b64 = jg__jdoc_str(d, signature);
    sig->sig_b64_len = d->nodes[signature].len;
    sig->unprot = header;
    if (prot == 0) {
        sig->prot_b64 = "";
        sig->prot_b64_len = 0;
        return JG_OK;
    }
    sig->prot_b64 = jg__jdoc_str(d, prot);
    sig->prot_b64_len = d->nodes[prot].len;
    return jg__jws_decode_header(sig->prot_b64, sig->prot_b64_len, limits, &sig->prot);
}

static jg_err parse_json(const char *token, size_t len, const jg_limits *limits, jg__jws_parsed *p)
{
    jg_err err = jg__jdoc_parse(token, len, limits->max_json_depth, &p->doc);
    if (err != JG_OK)
        return err;
    const jg__jdoc *d = p->doc;
    if (d->nodes[0].type != JG__J_OBJECT)
        return JG_ERR_JSON_NOT_OBJECT;

    uint32_t payload = jg__jdoc_get(d, 0, "payload");
    if (payload != 0) {
        if (type_of(d, payload) != JG__J_STRING)
            return JG_ERR_JSON_TYPE;
        p->has_payload = 1;
        p->payload_enc = jg__jdoc_str(d, payload);
        p->payload_enc_len = d->nodes[payload].len;
    }

    uint32_t signatures = jg__jdoc_get(d, 0, "signatures");
    if (signatures == 0) {
        /* Flattened (RFC 7515 section 7.2.2). */
        if (jg__jdoc_get(d, 0, "signature") == 0)
            return JG_ERR_TOKEN_FORMAT;
        if (limits->max_signatures < 1)
            return JG_ERR_LIMIT_SIGNATURES;
        p->sigs = &p->one;
        p->n = 1;
        return parse_signature(d, 0, limits, &p->one);
    }

    /* General: a per-signature member at the top would be silently ignored
     * by some implementations and honoured by others; refuse it. */
    if (jg__jdoc_get(d, 0, "signature") != 0 || jg__jdoc_get(d, 0, "protected") != 0 ||
        jg__jdoc_get(d, 0, "header") != 0)
        return JG_ERR_TOKEN_FORMAT;
    if (type_of(d, signatures) != JG__J_ARRAY)
        return JG_ERR_JSON_TYPE;
    /* Counted in the flat form: nothing has been built for any signature. */
    size_t n = d->nodes[signatures].len;
    if (n == 0)
        return JG_ERR_TOKEN_FORMAT;
    if (n > limits->max_signatures)
        return JG_ERR_LIMIT_SIGNATURES;
    p->sigs = calloc(n, sizeof *p->sigs);
    if (p->sigs == NULL)
        return JG_ERR_NOMEM;
    p->n = n;
    size_t i = 0;
    for (uint32_t k = signatures + 1; k < d->nodes[signatures].end; k = d->nodes[k].end, i++) {
        if (d->nodes[k].type != JG__J_OBJECT)
            return JG_ERR_JSON_TYPE;
        err = parse_signature(d, k, limits, &p->sigs[i]);
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
