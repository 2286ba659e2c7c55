/*
 * jg_llm_response.c — a provider's non-streaming answer in the client's
 * format, with the public model name, and its usage.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jg_llm_int.h"
#include "jg_llm_scan.h"

static void openai_usage(const json_t *doc, jg_llm_usage *u)
{
    json_t *usage = json_object_get(doc, "usage");
    if (!json_is_object(usage))
        return;
    u->present = true;
    u->input = jg__llm_count(usage, "prompt_tokens");
    u->output = jg__llm_count(usage, "completion_tokens");
}

/* Anthropic counts cached input apart: all of it is input here. */
static void anthropic_usage(const json_t *usage, jg_llm_usage *u, bool output_only)
{
    if (!json_is_object(usage))
        return;
    u->present = true;
    if (!output_only || json_object_get(usage, "input_tokens") != NULL)
        u->input = (uint64_t)jg__llm_total(
            (uint64_t)jg__llm_total(jg__llm_count(usage, "input_tokens"),
                                    jg__llm_count(usage, "cache_creation_input_tokens")),
            jg__llm_count(usage, "cache_read_input_tokens"));
    u->output = jg__llm_count(usage, "output_tokens");
}

static json_t *openai_to_anthropic(const json_t *doc, const char *model, const jg_llm_usage *u)
{
    json_t *choice = json_array_get(json_object_get(doc, "choices"), 0);
    json_t *msg = json_object_get(choice, "message");
    if (!json_is_object(msg))
        return NULL;
    json_t *tc = json_object_get(msg, "tool_calls");
    if (tc != NULL && !json_is_null(tc) && json_array_size(tc) > 0)
        return NULL; /* tools are refused in requests: not an answer to ours */
    json_t *content = json_array();
    if (content == NULL)
        return NULL;
    const char *text = json_string_value(json_object_get(msg, "content"));
    if (text != NULL && text[0] != '\0' &&
        json_array_append_new(content, json_pack("{s:s, s:s}", "type", "text", "text", text)) !=
            0) {
        json_decref(content);
        return NULL;
    }
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *fr = json_string_value(json_object_get(choice, "finish_reason"));
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:n, s:{s:I, s:I}}", "id",
                     id != NULL ? id : "msg_jwtgate", "type", "message", "role", "assistant",
                     "model", model, "content", content, "stop_reason", jg__llm_stop_reason(fr),
                     "stop_sequence", "usage", "input_tokens", (json_int_t)u->input,
                     "output_tokens", (json_int_t)u->output);
}

static json_t *anthropic_to_openai(const json_t *doc, const char *model, const jg_llm_usage *u)
{
    json_t *blocks = json_object_get(doc, "content");
    if (!json_is_array(blocks))
        return NULL;
    json_t *text = json_string("");
    if (text == NULL)
        return NULL;
    size_t i;
    json_t *b;
    json_array_foreach (blocks, i, b) {
        const char *type = json_string_value(json_object_get(b, "type"));
        const char *t = json_string_value(json_object_get(b, "text"));
        if (type == NULL || strcmp(type, "text") != 0 || t == NULL)
            continue; /* thinking blocks and the like: not part of an OpenAI answer */
        size_t a = json_string_length(text), n = strlen(t);
        char *buf = malloc(a + n + 1);
        if (buf == NULL) {
            json_decref(text);
            return NULL;
        }
        memcpy(buf, json_string_value(text), a);
        memcpy(buf + a, t, n + 1);
        int rc = json_string_setn(text, buf, a + n);
        free(buf);
        if (rc != 0) {
            json_decref(text);
            return NULL;
        }
    }
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *sr = json_string_value(json_object_get(doc, "stop_reason"));
    return json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:o, s:n}, s:n, s:s}], "
                     "s:{s:I, s:I, s:I}}",
                     "id", id != NULL ? id : "chatcmpl-jwtgate", "object", "chat.completion",
                     "created", (json_int_t)time(NULL), "model", model, "choices", "index", 0,
                     "message", "role", "assistant", "content", text, "refusal", "logprobs",
                     "finish_reason", jg__llm_finish_reason(sr), "usage", "prompt_tokens",
                     (json_int_t)u->input, "completion_tokens", (json_int_t)u->output,
                     "total_tokens", jg__llm_total(u->input, u->output));
}

/* Whether s is ASCII (a public name the fast paths can escape without jansson's
 * UTF-8 check). */
static bool ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Same format, the common case, without a tree: the scanner validates, usage
 * is read from the `usage` member, the top-level "model" value is replaced in
 * the provider's bytes (appended when absent, as jansson's set would). Returns
 * JG__SCAN_UNSURE when the jansson path must decide (nothing set then). */
static jg__scan_rc same_format(jg_llm_format fmt, const char *public_model, const char *body,
                               size_t len, char **out, size_t *out_len, jg_llm_usage *usage,
                               jg_llm_status *st)
{
    jg__llm_obj doc, u;
    jg__scan_rc rc = jg__llm_scan_object(body, len, &doc);
    if (rc != JG__SCAN_OK)
        return rc;
    const jg__llm_member *um = jg__llm_scan_get(&doc, "usage");
    if (jg__llm_scan_is_object(um) &&
        jg__llm_scan_object(um->value, um->value_len, &u) != JG__SCAN_OK)
        return JG__SCAN_UNSURE; /* a usage of more members than the scanner tracks */
    if (jg__llm_scan_is_object(um)) {
        usage->present = true;
        if (fmt == JG_LLM_OPENAI) {
            usage->input = jg__llm_scan_count(jg__llm_scan_get(&u, "prompt_tokens"));
            usage->output = jg__llm_scan_count(jg__llm_scan_get(&u, "completion_tokens"));
        } else {
            usage->input = (uint64_t)jg__llm_total(
                (uint64_t)jg__llm_total(
                    jg__llm_scan_count(jg__llm_scan_get(&u, "input_tokens")),
                    jg__llm_scan_count(jg__llm_scan_get(&u, "cache_creation_input_tokens"))),
                jg__llm_scan_count(jg__llm_scan_get(&u, "cache_read_input_tokens")));
            usage->output = jg__llm_scan_count(jg__llm_scan_get(&u, "output_tokens"));
        }
    }
    size_t el = jg__llm_escaped_len(public_model);
    const jg__llm_member *mm = jg__llm_scan_get(&doc, "model");
    size_t cut_from, cut_to, pre = 0;
    if (mm != NULL) {
        cut_from = (size_t)(mm->value - body);
        cut_to = cut_from + mm->value_len;
    } else {
        cut_from = cut_to = (size_t)(doc.close - body);
        pre = doc.n > 0 ? 9 : 8; /* ,"model": */
    }
    size_t n = len - (cut_to - cut_from) + pre + el;
    char *o = malloc(n + 1);
    if (o == NULL) {
        *st = JG_LLM_ENOMEM;
        return JG__SCAN_OK;
    }
    memcpy(o, body, cut_from);
    size_t at = cut_from;
    if (pre != 0) {
        memcpy(o + at, doc.n > 0 ? ",\"model\":" : "\"model\":", pre);
        at += pre;
    }
    jg__llm_escape(public_model, o + at);
    at += el;
    memcpy(o + at, body + cut_to, len - cut_to);
    o[n] = '\0';
    *out = o;
    *out_len = n;
    *st = JG_LLM_OK;
    return JG__SCAN_OK;
}

jg_llm_status jg_llm_response_translate(jg_llm_format provider, jg_llm_format client, jg_llm_op op,
                                        const char *public_model, const char *body, size_t len,
                                        char **out, size_t *out_len, jg_llm_usage *usage)
{
    *out = NULL;
    *out_len = 0;
    memset(usage, 0, sizeof *usage);
    if ((unsigned)provider >= JG_LLM_FORMAT_COUNT || (unsigned)client >= JG_LLM_FORMAT_COUNT ||
        op == JG_LLM_MODELS || (op == JG_LLM_EMBEDDINGS && provider != client))
        return JG_LLM_EUPSTREAM;
    if (provider == client && body != NULL && public_model != NULL && ascii(public_model)) {
        jg_llm_status st = JG_LLM_EUPSTREAM;
        jg__scan_rc rc = same_format(provider, public_model, body, len, out, out_len, usage, &st);
        if (rc != JG__SCAN_UNSURE)
            return st;
        memset(usage, 0, sizeof *usage);
    }
    json_t *doc = body != NULL ? jg__llm_loads(body, len) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return JG_LLM_EUPSTREAM;
    }
    if (provider == JG_LLM_OPENAI)
        openai_usage(doc, usage);
    else
        anthropic_usage(json_object_get(doc, "usage"), usage, false);
    json_t *o;
    if (provider == client) {
        o = json_incref(doc);
        if (json_object_set_new(o, "model", json_string(public_model)) != 0) {
            json_decref(o);
            o = NULL;
        }
    } else if (provider == JG_LLM_OPENAI) {
        o = openai_to_anthropic(doc, public_model, usage);
    } else {
        o = anthropic_to_openai(doc, public_model, usage);
    }
    json_decref(doc);
    if (o == NULL)
        return JG_LLM_EUPSTREAM;
    *out = jg__llm_dump(o, out_len);
    json_decref(o);
    return *out != NULL ? JG_LLM_OK : JG_LLM_ENOMEM;
}
