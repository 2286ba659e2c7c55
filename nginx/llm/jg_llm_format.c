/*
 * jg_llm_format.c — the format table, statuses, the gateway's own error
 * bodies and the /v1/models list, and the helpers the other files share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_llm_int.h"

static const jg_llm_format_info FORMATS[JG_LLM_FORMAT_COUNT] = {
    [JG_LLM_OPENAI] = {"openai", "/chat/completions", "/embeddings", "/models", "Authorization",
                       "Bearer ", NULL, NULL},
    [JG_LLM_ANTHROPIC] = {"anthropic", "/messages", NULL, "/models", "x-api-key", "",
                          "anthropic-version", JG_LLM_ANTHROPIC_VERSION},
};

const jg_llm_format_info *jg_llm_format_get(jg_llm_format fmt)
{
    if ((unsigned)fmt >= JG_LLM_FORMAT_COUNT)
        return NULL;
    return &FORMATS[fmt];
}

int jg_llm_format_by_name(const char *name, size_t len, jg_llm_format *out)
{
    for (unsigned i = 0; i < JG_LLM_FORMAT_COUNT; i++) {
        if (strlen(FORMATS[i].name) == len && memcmp(FORMATS[i].name, name, len) == 0) {
            *out = (jg_llm_format)i;
            return 0;
        }
    }
    return -1;
}

int jg_llm_status_http(jg_llm_status st)
{
    switch (st) {
    case JG_LLM_OK:
        return 200;
    case JG_LLM_EINVAL:
    case JG_LLM_EUNSUPPORTED:
        return 400;
    case JG_LLM_ETOOBIG:
        return 413;
    case JG_LLM_EUPSTREAM:
        return 502;
    case JG_LLM_ENOMEM:
    case JG_LLM_ECALLBACK:
    default:
        return 500;
    }
}

void jg_llm_free(void *p)
{
    free(p);
}

void jg__llm_err(char *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here (false positive). */
    vsnprintf(err, JG_LLM_ERR_MAX, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
}

bool jg__llm_depth_ok(const char *s, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return false;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

json_t *jg__llm_loads(const char *s, size_t len)
{
    if (!jg__llm_depth_ok(s, len, JG_LLM_MAX_DEPTH))
        return NULL;
    json_error_t e;
    return json_loadb(s, len, JSON_REJECT_DUPLICATES, &e);
}

char *jg__llm_dump(const json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s != NULL && len != NULL)
        *len = strlen(s);
    return s;
}

const char *jg__llm_stop_reason(const char *finish_reason)
{
    if (finish_reason == NULL)
        return "end_turn";
    if (strcmp(finish_reason, "length") == 0)
        return "max_tokens";
    if (strcmp(finish_reason, "tool_calls") == 0 || strcmp(finish_reason, "function_call") == 0)
        return "tool_use";
    if (strcmp(finish_reason, "content_filter") == 0)
        return "refusal";
    return "end_turn";
}

const char *jg__llm_finish_reason(const char *stop_reason)
{
    if (stop_reason == NULL)
        return "stop";
    if (strcmp(stop_reason, "max_tokens") == 0)
        return "length";
    if (strcmp(stop_reason, "tool_use") == 0)
        return "tool_calls";
    if (strcmp(stop_reason, "refusal") == 0)
        return "content_filter";
    return "stop"; /* end_turn, stop_sequence, pause_turn */
}

uint64_t jg__llm_count(const json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    return (uint64_t)json_integer_value(v);
}

static const char *default_type(jg_llm_format fmt, int status)
{
    switch (status) {
    case 401:
        return fmt == JG_LLM_OPENAI ? "invalid_request_error" : "authentication_error";
    case 403:
        return "permission_error";
    case 404:
        return fmt == JG_LLM_OPENAI ? "invalid_request_error" : "not_found_error";
    case 413:
        return fmt == JG_LLM_OPENAI ? "invalid_request_error" : "request_too_large";
    case 429:
        return fmt == JG_LLM_OPENAI ? "rate_limit_exceeded" : "rate_limit_error";
    case 503:
    case 529:
        return fmt == JG_LLM_OPENAI ? "server_error" : "overloaded_error";
    default:
        if (status >= 500)
            return fmt == JG_LLM_OPENAI ? "server_error" : "api_error";
        return "invalid_request_error";
    }
}

char *jg_llm_error_body(jg_llm_format fmt, int http_status, const char *type, const char *message,
                        const char *param, const char *code, size_t *len)
{
    if (type == NULL)
        type = default_type(fmt, http_status);
    if (message == NULL)
        message = "error";
    json_t *doc;
    if (fmt == JG_LLM_ANTHROPIC)
        doc = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "type", type, "message",
                        message);
    else
        doc = json_pack("{s:{s:s, s:s, s:s?, s:s?}}", "error", "message", message, "type", type,
                        "param", param, "code", code);
    if (doc == NULL)
        return NULL;
    char *out = jg__llm_dump(doc, len);
    json_decref(doc);
    return out;
}

char *jg_llm_error_translate(jg_llm_format provider, jg_llm_format client, int http_status,
                             const char *body, size_t len, size_t *out_len)
{
    json_t *doc = body != NULL ? jg__llm_loads(body, len) : NULL;
    json_t *e = json_object_get(doc, "error");
    const char *message = json_string_value(json_object_get(e, "message"));
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *code = NULL, *param = NULL;
    if (provider == JG_LLM_OPENAI) {
        code = json_string_value(json_object_get(e, "code"));
        param = json_string_value(json_object_get(e, "param"));
    }
    if (provider != client)
        type = NULL; /* the other format's types: derived from the status instead */
    char generic[64];
    if (message == NULL) {
        snprintf(generic, sizeof generic, "the provider answered %d", http_status);
        message = generic;
    }
    char *out = jg_llm_error_body(client, http_status, type, message,
                                  client == JG_LLM_OPENAI ? param : NULL,
                                  client == JG_LLM_OPENAI ? code : NULL, out_len);
    json_decref(doc);
    return out;
}

char *jg_llm_models_body(const char *const *names, size_t n, int64_t created, const char *owned_by,
                         size_t *len)
{
    json_t *data = json_array();
    json_t *doc = json_pack("{s:s, s:o}", "object", "list", "data", data);
    if (doc == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *m =
            json_pack("{s:s, s:s, s:I, s:s}", "id", names[i], "object", "model", "created",
                      (json_int_t)created, "owned_by", owned_by != NULL ? owned_by : "jwtgate");
        if (m == NULL || json_array_append_new(data, m) != 0) {
            json_decref(doc);
            return NULL;
        }
    }
    char *out = jg__llm_dump(doc, len);
    json_decref(doc);
    return out;
}
