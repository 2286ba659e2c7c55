/*
 * fuzz_llm.c — the AI gateway's LLM wire formats (nginx/llm): client bodies
 * parsed in either format and built for both, providers' answers translated
 * in the four directions, SSE streams fed in pieces of every size. The first
 * byte chooses what, the second the formats; the rest is the input. Every
 * output must be NUL terminated at its length, every emitted stream piece a
 * whole event. Every input is also given to the fast paths' JSON scanner,
 * which must agree with jansson (jg__llm_loads) on whether it is a valid
 * object, and report spans inside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_llm.h"
#include "jg_llm_int.h"
#include "jg_llm_scan.h"

static void check_out(const char *s, size_t len)
{
    if (s == NULL || strlen(s) != len)
        abort();
}

static bool has_pad(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 9 <= n; i++)
        if (memcmp(d + i, "__jg_pad_", 9) == 0)
            return true;
    return false;
}

/* The body with more top-level members than the scanner tracks: parse takes
 * the jansson path for it, whose verdict the scanner's checks must share. */
static void same_verdict(jg_llm_format fmt, const uint8_t *d, size_t n, const jg_llm_request *req)
{
    size_t i = 0;
    while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
        i++;
    if (i >= n || d[i] != '{' || n > 65536 || has_pad(d, n))
        return; /* (a member of ours already there: a duplicate when padded) */
    size_t j = i + 1;
    while (j < n && (d[j] == ' ' || d[j] == '\t' || d[j] == '\n' || d[j] == '\r'))
        j++;
    if (j >= n || d[j] == '}')
        return;
    char *pad = malloc(n + 40 * 20);
    if (pad == NULL)
        return;
    memcpy(pad, d, i + 1);
    size_t k = i + 1;
    for (int m = 0; m < 40; m++)
        k += (size_t)sprintf(pad + k, "\"__jg_pad_%d\":0,", m);
    memcpy(pad + k, d + i + 1, n - i - 1);
    k += n - i - 1;
    jg_llm_request *slow = NULL;
    char err[JG_LLM_ERR_MAX];
    jg_llm_status st = jg_llm_request_parse(fmt, JG_LLM_CHAT, pad, k, 4 * 1024 * 1024, &slow, err);
    if ((st == JG_LLM_OK) != (req != NULL))
        abort();
    if (req != NULL && (strcmp(jg_llm_request_model(req), jg_llm_request_model(slow)) != 0 ||
                        jg_llm_request_stream(req) != jg_llm_request_stream(slow) ||
                        jg_llm_request_wants_usage(req) != jg_llm_request_wants_usage(slow)))
        abort();
    jg_llm_request_free(slow);
    free(pad);
}

static void request(jg_llm_format fmt, jg_llm_op op, const uint8_t *d, size_t n)
{
    jg_llm_request *req = NULL;
    char err[JG_LLM_ERR_MAX];
    jg_llm_status st = jg_llm_request_parse(fmt, op, (const char *)d, n, 0, &req, err);
    if (op == JG_LLM_CHAT && (st == JG_LLM_OK || st == JG_LLM_EINVAL))
        same_verdict(fmt, d, n, req);
    if (st != JG_LLM_OK) {
        if (req != NULL || strlen(err) >= JG_LLM_ERR_MAX)
            abort();
        return;
    }
    const char *model = jg_llm_request_model(req);
    if (model == NULL || model[0] == '\0')
        abort();
    (void)jg_llm_request_stream(req);
    (void)jg_llm_request_wants_usage(req);
    for (int p = 0; p < JG_LLM_FORMAT_COUNT; p++) {
        char *body = NULL;
        size_t len = 0;
        st = jg_llm_request_build(req, (jg_llm_format)p, "provider-model", &body, &len, err);
        if (st == JG_LLM_OK) {
            check_out(body, len);
            /* what we send a provider is valid in its format: parse it back */
            jg_llm_request *back = NULL;
            if (jg_llm_request_parse((jg_llm_format)p, op, body, len, 4 * 1024 * 1024, &back,
                                     err) != JG_LLM_OK)
                abort();
            if (strcmp(jg_llm_request_model(back), "provider-model") != 0)
                abort();
            jg_llm_request_free(back);
        } else if (body != NULL) {
            abort();
        }
        jg_llm_free(body);
    }
    jg_llm_request_free(req);
}

static int sink(void *ctx, const char *data, size_t len)
{
    size_t *total = ctx;
    if (len < 2 || data[len - 1] != '\n' || data[len - 2] != '\n')
        abort();
    *total += len;
    return 0;
}

static void stream(jg_llm_format p, jg_llm_format c, bool wants, size_t piece, const uint8_t *d,
                   size_t n)
{
    size_t total = 0;
    jg_llm_stream *st = jg_llm_stream_new(p, c, "public", wants, sink, &total);
    if (st == NULL)
        abort();
    for (size_t i = 0; i < n; i += piece) {
        size_t k = n - i < piece ? n - i : piece;
        if (jg_llm_stream_feed(st, (const char *)d + i, k) != JG_LLM_OK)
            break;
    }
    if (jg_llm_stream_finish(st) != JG_LLM_OK)
        abort();
    jg_llm_usage u;
    jg_llm_stream_usage(st, &u);
    jg_llm_stream_free(st);
}

/* The scanner's verdict against jansson's (UNSURE: jansson decides, fine). */
static void scan_agrees(const uint8_t *d, size_t n)
{
    jg__llm_obj o;
    jg__scan_rc rc = jg__llm_scan_object((const char *)d, n, &o);
    json_t *j = jg__llm_loads((const char *)d, n);
    bool ok = json_is_object(j);
    if ((rc == JG__SCAN_OK && !ok) || (rc == JG__SCAN_INVALID && ok))
        abort();
    if (rc == JG__SCAN_OK) {
        if (o.n != json_object_size(j) || o.open < (const char *)d ||
            o.close >= (const char *)d + n)
            abort();
        for (size_t k = 0; k < o.n; k++)
            if (o.m[k].value < o.open || o.m[k].value + o.m[k].value_len > o.close)
                abort();
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned mode = data[0] % 5, sel = data[1];
    jg_llm_format a = (jg_llm_format)(sel & 1), b = (jg_llm_format)((sel >> 1) & 1);
    data += 2;
    size -= 2;
    scan_agrees(data, size);
    switch (mode) {
    case 0:
        request(a, JG_LLM_CHAT, data, size);
        break;
    case 1:
        request(JG_LLM_OPENAI, JG_LLM_EMBEDDINGS, data, size);
        break;
    case 2: {
        char *out = NULL;
        size_t len = 0;
        jg_llm_usage u;
        jg_llm_op op = (sel & 4) ? JG_LLM_EMBEDDINGS : JG_LLM_CHAT;
        if (jg_llm_response_translate(a, b, op, "public", (const char *)data, size, &out, &len,
                                      &u) == JG_LLM_OK)
            check_out(out, len);
        else if (out != NULL)
            abort();
        jg_llm_free(out);
        out = jg_llm_error_translate(a, b, 400 + sel, (const char *)data, size, &len);
        check_out(out, len);
        jg_llm_free(out);
        break;
    }
    default: /* 3, 4: streams, in pieces of 1..64 bytes */
        stream(a, b, (sel & 4) != 0, (size_t)(sel >> 3) % 64 + 1, data, size);
        if (mode == 4)
            stream(a, b, (sel & 4) != 0, size + 1, data, size);
        break;
    }
    return 0;
}
