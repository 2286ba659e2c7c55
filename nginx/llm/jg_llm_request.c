/*
 * jg_llm_request.c — a client's request body: checked in the client's format,
 * then built for the provider's format (same format: the body with the
 * provider's model; across formats: translated, or refused with a reason).
 */
#include <stdlib.h>
#include <string.h>

#include "jg_llm_int.h"
#include "jg_llm_scan.h"

#define MAX_BODY_DEFAULT ((size_t)1024 * 1024)
#define MAX_MODEL        128
#define MAX_STOP_OPENAI  4

struct jg_llm_request {
    jg_llm_format fmt;
    jg_llm_op op;
    json_t *doc;       /* NULL when the checks ran on the scanner (built when needed) */
    const char *model; /* in doc or model_buf */
    char model_buf[MAX_MODEL + 1];
    bool stream;
    bool wants_usage;
    /* where fast_checks found them in raw (spans set): the same-format build
     * needs no second scan */
    bool spans;
    bool has_stream_options;
    size_t model_from, model_to, close;
    size_t raw_len; /* the client's bytes, for the same-format build */
    char raw[];
};

/* The admin API's rule for model names: printable ASCII, no space, quote or backslash. */
static bool model_ok(const char *s, size_t n)
{
    if (n < 1 || n > MAX_MODEL)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '\\')
            return false;
    }
    return true;
}

static bool opt_bool(const json_t *doc, const char *name, bool *out, char *err)
{
    json_t *v = json_object_get(doc, name);
    *out = false;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_boolean(v)) {
        jg__llm_err(err, "%s: must be a boolean", name);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

static bool opt_positive(const json_t *doc, const char *name, bool required, char *err)
{
    json_t *v = json_object_get(doc, name);
    if (v == NULL || json_is_null(v)) {
        if (required)
            jg__llm_err(err, "%s: required", name);
        return !required;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        jg__llm_err(err, "%s: must be a positive integer", name);
        return false;
    }
    return true;
}

static bool opt_number(const json_t *doc, const char *name, char *err)
{
    json_t *v = json_object_get(doc, name);
    if (v == NULL || json_is_null(v) || json_is_number(v))
        return true;
    jg__llm_err(err, "%s: must be a number", name);
    return false;
}

/* An array of content parts / blocks: objects with a string `type`. */
static bool parts_ok(const json_t *parts, size_t m, char *err)
{
    size_t i;
    json_t *p;
    json_array_foreach (parts, i, p) {
        json_t *type = json_object_get(p, "type");
        if (!json_is_string(type)) {
            jg__llm_err(err, "messages[%zu].content[%zu].type: must be a string", m, i);
            return false;
        }
        if (strcmp(json_string_value(type), "text") == 0 &&
            !json_is_string(json_object_get(p, "text"))) {
            jg__llm_err(err, "messages[%zu].content[%zu].text: must be a string", m, i);
            return false;
        }
    }
    return true;
}

static bool openai_chat_ok(const json_t *doc, char *err)
{
    static const char *const roles[] = {"system",    "developer", "user",
                                        "assistant", "tool",      "function"};
    json_t *msgs = json_object_get(doc, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        jg__llm_err(err, "messages: must be a non-empty array");
        return false;
    }
    size_t i;
    json_t *m;
    json_array_foreach (msgs, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        bool known = false;
        for (size_t r = 0; role != NULL && r < sizeof roles / sizeof *roles; r++)
            known = known || strcmp(role, roles[r]) == 0;
        if (!json_is_object(m) || !known) {
            jg__llm_err(err,
                        "messages[%zu].role: must be one of system, developer, user, "
                        "assistant, tool",
                        i);
            return false;
        }
        json_t *c = json_object_get(m, "content");
        if (json_is_array(c)) {
            if (!parts_ok(c, i, err))
                return false;
        } else if (!json_is_string(c) && !(json_is_null(c) || c == NULL)) {
            jg__llm_err(err, "messages[%zu].content: must be a string or an array of parts", i);
            return false;
        }
        if (c == NULL && strcmp(role, "assistant") != 0) {
            jg__llm_err(err, "messages[%zu].content: required", i);
            return false;
        }
    }
    json_t *so = json_object_get(doc, "stream_options");
    if (so != NULL && !json_is_null(so)) {
        json_t *iu = json_object_get(so, "include_usage");
        if (!json_is_object(so) || (iu != NULL && !json_is_boolean(iu))) {
            jg__llm_err(err, "stream_options: must be an object, include_usage a boolean");
            return false;
        }
    }
    json_t *stop = json_object_get(doc, "stop");
    if (stop != NULL && !json_is_null(stop) && !json_is_string(stop)) {
        size_t k;
        json_t *s;
        bool ok = json_is_array(stop);
        json_array_foreach (stop, k, s)
            ok = ok && json_is_string(s);
        if (!ok) {
            jg__llm_err(err, "stop: must be a string or an array of strings");
            return false;
        }
    }
    return opt_positive(doc, "max_tokens", false, err) &&
           opt_positive(doc, "max_completion_tokens", false, err) &&
           opt_number(doc, "temperature", err) && opt_number(doc, "top_p", err);
}

static bool system_ok(const json_t *sys)
{
    if (sys == NULL || json_is_string(sys))
        return true;
    if (!json_is_array(sys))
        return false;
    size_t i;
    json_t *b;
    json_array_foreach (sys, i, b) {
        const char *t = json_string_value(json_object_get(b, "type"));
        if (t == NULL || strcmp(t, "text") != 0 || !json_is_string(json_object_get(b, "text")))
            return false;
    }
    return true;
}

static bool anthropic_chat_ok(const json_t *doc, char *err)
{
    json_t *msgs = json_object_get(doc, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        jg__llm_err(err, "messages: must be a non-empty array");
        return false;
    }
    size_t i;
    json_t *m;
    json_array_foreach (msgs, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!json_is_object(m) || role == NULL ||
            (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0)) {
            jg__llm_err(err, "messages[%zu].role: must be user or assistant", i);
            return false;
        }
        json_t *c = json_object_get(m, "content");
        if (json_is_array(c)) {
            if (!parts_ok(c, i, err))
                return false;
        } else if (!json_is_string(c)) {
            jg__llm_err(err, "messages[%zu].content: must be a string or an array of blocks", i);
            return false;
        }
    }
    if (!system_ok(json_object_get(doc, "system"))) {
        jg__llm_err(err, "system: must be a string or an array of text blocks");
        return false;
    }
    json_t *stop = json_object_get(doc, "stop_sequences");
    if (stop != NULL) {
        size_t k;
        json_t *s;
        bool ok = json_is_array(stop);
        json_array_foreach (stop, k, s)
            ok = ok && json_is_string(s);
        if (!ok) {
            jg__llm_err(err, "stop_sequences: must be an array of strings");
            return false;
        }
    }
    return opt_positive(doc, "max_tokens", true, err) && opt_number(doc, "temperature", err) &&
           opt_number(doc, "top_p", err);
}

static bool embeddings_ok(const json_t *doc, char *err)
{
    json_t *in = json_object_get(doc, "input");
    if (json_is_string(in) || (json_is_array(in) && json_array_size(in) > 0))
        return true;
    jg__llm_err(err, "input: must be a string or a non-empty array");
    return false;
}

/* ---- The checks without a tree ---------------------------------------------
 * The same rules as above on the scanner's spans, for the common case. They
 * say only "every check passes": anything else (a failed check, escapes where
 * a name is compared, more members than the scanner tracks) goes to the jansson
 * path, which gives the verdict and the message. */

static bool fs_absent_or_null(const jg__llm_member *m)
{
    return m == NULL || (m->value_len == 4 && memcmp(m->value, "null", 4) == 0);
}

static bool fs_is_string(const jg__llm_member *m)
{
    return m != NULL && m->value[0] == '"';
}

static bool fs_is_number(const jg__llm_member *m)
{
    return m != NULL && (m->value[0] == '-' || (m->value[0] >= '0' && m->value[0] <= '9'));
}

static bool fs_is_positive(const jg__llm_member *m)
{
    if (m == NULL || m->value[0] < '1' || m->value[0] > '9')
        return false;
    for (size_t k = 0; k < m->value_len; k++)
        if (m->value[k] < '0' || m->value[k] > '9')
            return false; /* a real */
    return true;
}

static bool fs_bool(const jg__llm_member *m, bool *out)
{
    *out = m != NULL && m->value[0] == 't';
    return fs_absent_or_null(m) || m->value[0] == 't' || m->value[0] == 'f';
}

static bool fs_strings(const jg__llm_member *m)
{
    if (m == NULL || m->value[0] != '[')
        return false;
    jg__llm_iter it;
    const char *v;
    size_t n;
    jg__llm_scan_iter(&it, m->value, m->value_len);
    while (jg__llm_scan_next(&it, &v, &n))
        if (v[0] != '"')
            return false;
    return true;
}

/* parts_ok(), or an Anthropic system of text blocks (system: only text). */
static bool fs_parts(const jg__llm_member *m, bool system)
{
    jg__llm_iter it;
    const char *v;
    size_t n;
    jg__llm_obj p;
    jg__llm_scan_iter(&it, m->value, m->value_len);
    while (jg__llm_scan_next_obj(&it, &v, &n, &p)) {
        if (v[0] != '{')
            return false;
        const jg__llm_member *type = jg__llm_scan_get(&p, "type");
        if (!fs_is_string(type) || memchr(type->value, '\\', type->value_len) != NULL)
            return false;
        bool text = jg__llm_scan_str_is(type, "text");
        if ((text || system) && !fs_is_string(jg__llm_scan_get(&p, "text")))
            return false;
        if (system && !text)
            return false;
    }
    return true;
}

static bool fs_messages(const jg__llm_obj *doc, jg_llm_format fmt)
{
    static const char *const roles[] = {"system",    "developer", "user",
                                        "assistant", "tool",      "function"};
    const jg__llm_member *msgs = jg__llm_scan_get(doc, "messages");
    if (msgs == NULL || msgs->value[0] != '[')
        return false;
    jg__llm_iter it;
    const char *v;
    size_t n, count = 0;
    jg__llm_obj m;
    jg__llm_scan_iter(&it, msgs->value, msgs->value_len);
    while (jg__llm_scan_next_obj(&it, &v, &n, &m)) {
        count++;
        if (v[0] != '{')
            return false;
        const jg__llm_member *role = jg__llm_scan_get(&m, "role");
        bool known = false, assistant = jg__llm_scan_str_is(role, "assistant");
        if (fmt == JG_LLM_OPENAI) {
            for (size_t r = 0; r < sizeof roles / sizeof *roles; r++)
                known = known || jg__llm_scan_str_is(role, roles[r]);
        } else {
            known = assistant || jg__llm_scan_str_is(role, "user");
        }
        if (!known)
            return false;
        const jg__llm_member *c = jg__llm_scan_get(&m, "content");
        if (c != NULL && c->value[0] == '[') {
            if (!fs_parts(c, false))
                return false;
        } else if (fmt == JG_LLM_OPENAI) {
            if (!fs_is_string(c) && !fs_absent_or_null(c))
                return false;
            if (c == NULL && !assistant)
                return false;
        } else if (!fs_is_string(c)) {
            return false;
        }
    }
    return count > 0;
}

/* The checks of a chat body on the scanner: true when all pass (the model,
 * stream and include_usage then set). */
static bool fast_checks(jg_llm_format fmt, const char *body, size_t len, jg_llm_request *req)
{
    jg__llm_obj doc;
    if (jg__llm_scan_object(body, len, &doc) != JG__SCAN_OK)
        return false;
    const jg__llm_member *model = jg__llm_scan_get(&doc, "model");
    if (!fs_is_string(model) || !model_ok(model->value + 1, model->value_len - 2))
        return false; /* (model_ok refuses backslashes: no escapes in it) */
    bool stream;
    if (!fs_bool(jg__llm_scan_get(&doc, "stream"), &stream) || !fs_messages(&doc, fmt))
        return false;
    const jg__llm_member *temp = jg__llm_scan_get(&doc, "temperature");
    const jg__llm_member *top_p = jg__llm_scan_get(&doc, "top_p");
    if ((!fs_absent_or_null(temp) && !fs_is_number(temp)) ||
        (!fs_absent_or_null(top_p) && !fs_is_number(top_p)))
        return false;
    const jg__llm_member *mt = jg__llm_scan_get(&doc, "max_tokens");
    bool wants_usage = true;
    if (fmt == JG_LLM_OPENAI) {
        const jg__llm_member *mct = jg__llm_scan_get(&doc, "max_completion_tokens");
        if ((!fs_absent_or_null(mt) && !fs_is_positive(mt)) ||
            (!fs_absent_or_null(mct) && !fs_is_positive(mct)))
            return false;
        const jg__llm_member *stop = jg__llm_scan_get(&doc, "stop");
        if (!fs_absent_or_null(stop) && !fs_is_string(stop) && !fs_strings(stop))
            return false;
        const jg__llm_member *so = jg__llm_scan_get(&doc, "stream_options");
        wants_usage = false;
        if (!fs_absent_or_null(so)) {
            jg__llm_obj o;
            if (so->value[0] != '{' ||
                jg__llm_scan_object(so->value, so->value_len, &o) != JG__SCAN_OK)
                return false;
            const jg__llm_member *iu = jg__llm_scan_get(&o, "include_usage");
            if (iu != NULL && iu->value[0] != 't' && iu->value[0] != 'f')
                return false; /* null too: refused there */
            wants_usage = iu != NULL && iu->value[0] == 't';
        }
    } else {
        if (!fs_is_positive(mt))
            return false;
        const jg__llm_member *sys = jg__llm_scan_get(&doc, "system");
        if (sys != NULL && !fs_is_string(sys) && (sys->value[0] != '[' || !fs_parts(sys, true)))
            return false;
        const jg__llm_member *stop = jg__llm_scan_get(&doc, "stop_sequences");
        if (stop != NULL && !fs_strings(stop))
            return false;
    }
    memcpy(req->model_buf, model->value + 1, model->value_len - 2);
    req->model_buf[model->value_len - 2] = '\0';
    req->model = req->model_buf;
    req->stream = stream;
    req->wants_usage = wants_usage;
    req->spans = true;
    req->has_stream_options = jg__llm_scan_get(&doc, "stream_options") != NULL;
    req->model_from = (size_t)(model->value - body);
    req->model_to = req->model_from + model->value_len;
    req->close = (size_t)(doc.close - body);
    return true;
}

jg_llm_status jg_llm_request_parse(jg_llm_format fmt, jg_llm_op op, const char *body, size_t len,
                                   size_t max_len, jg_llm_request **out, char err[JG_LLM_ERR_MAX])
{
    *out = NULL;
    if (max_len == 0)
        max_len = MAX_BODY_DEFAULT;
    if ((unsigned)fmt >= JG_LLM_FORMAT_COUNT || op == JG_LLM_MODELS ||
        (op == JG_LLM_EMBEDDINGS && fmt != JG_LLM_OPENAI)) {
        jg__llm_err(err, "this operation takes no request body in this format");
        return JG_LLM_EINVAL;
    }
    if (len > max_len) {
        jg__llm_err(err, "the body is larger than %zu bytes", max_len);
        return JG_LLM_ETOOBIG;
    }
    if (body == NULL || len == 0) {
        jg__llm_err(err, "the body is empty: a JSON object is expected");
        return JG_LLM_EINVAL;
    }
    if (op == JG_LLM_CHAT) {
        jg_llm_request *fr = calloc(1, sizeof *fr + len + 1);
        if (fr == NULL)
            return JG_LLM_ENOMEM;
        if (fast_checks(fmt, body, len, fr)) {
            fr->fmt = fmt;
            fr->op = op;
            memcpy(fr->raw, body, len);
            fr->raw_len = len;
            *out = fr;
            return JG_LLM_OK;
        }
        free(fr);
    }
    if (!jg__llm_depth_ok(body, len, JG_LLM_MAX_DEPTH)) {
        jg__llm_err(err, "the body nests deeper than %d levels", JG_LLM_MAX_DEPTH);
        return JG_LLM_EINVAL;
    }
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        jg__llm_err(err, "the body is not valid JSON (line %d, column %d)", je.line, je.column);
        return JG_LLM_EINVAL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        jg__llm_err(err, "the body must be a JSON object");
        return JG_LLM_EINVAL;
    }
    json_t *model = json_object_get(doc, "model");
    if (!json_is_string(model) || !model_ok(json_string_value(model), json_string_length(model))) {
        json_decref(doc);
        jg__llm_err(err,
                    "model: must be a string of 1 to %d printable characters without "
                    "spaces, quotes or backslashes",
                    MAX_MODEL);
        return JG_LLM_EINVAL;
    }
    bool stream = false;
    bool ok = opt_bool(doc, "stream", &stream, err);
    if (ok && op == JG_LLM_EMBEDDINGS)
        ok = embeddings_ok(doc, err);
    else if (ok)
        ok = fmt == JG_LLM_OPENAI ? openai_chat_ok(doc, err) : anthropic_chat_ok(doc, err);
    if (ok && stream && op == JG_LLM_EMBEDDINGS) {
        jg__llm_err(err, "stream: embeddings do not stream");
        ok = false;
    }
    if (!ok) {
        json_decref(doc);
        return JG_LLM_EINVAL;
    }
    jg_llm_request *req = calloc(1, sizeof *req + len + 1);
    if (req == NULL) {
        json_decref(doc);
        return JG_LLM_ENOMEM;
    }
    req->fmt = fmt;
    req->op = op;
    req->doc = doc;
    req->model = json_string_value(model);
    req->stream = stream;
    memcpy(req->raw, body, len);
    req->raw_len = len;
    if (fmt == JG_LLM_ANTHROPIC)
        req->wants_usage = true;
    else
        req->wants_usage =
            json_is_true(json_object_get(json_object_get(doc, "stream_options"), "include_usage"));
    *out = req;
    return JG_LLM_OK;
}

const char *jg_llm_request_model(const jg_llm_request *req)
{
    return req->model;
}

bool jg_llm_request_stream(const jg_llm_request *req)
{
    return req->stream;
}

bool jg_llm_request_wants_usage(const jg_llm_request *req)
{
    return req->wants_usage;
}

jg_llm_format jg_llm_request_format(const jg_llm_request *req)
{
    return req->fmt;
}

jg_llm_op jg_llm_request_op(const jg_llm_request *req)
{
    return req->op;
}

void jg_llm_request_free(jg_llm_request *req)
{
    if (req == NULL)
        return;
    json_decref(req->doc);
    free(req);
}

/* ---- Translation ---------------------------------------------------------- */

/* Members refused across formats: they do not map (tools, several choices, ...). */
static const char *const OPENAI_REFUSED[] = {
    "tools",      "tool_choice", "functions",    "function_call",      "audio", "modalities",
    "prediction", "logprobs",    "top_logprobs", "web_search_options", NULL};
static const char *const ANTHROPIC_REFUSED[] = {"tools",       "tool_choice", "thinking",
                                                "mcp_servers", "container",   NULL};

static const char *refused_member(const json_t *doc, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        json_t *v = json_object_get(doc, list[i]);
        if (v != NULL && !json_is_null(v) && !json_is_false(v))
            return list[i];
    }
    return NULL;
}

static bool set_new(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0;
}

static bool copy_member(json_t *to, const char *to_key, const json_t *from, const char *from_key)
{
    json_t *v = json_object_get(from, from_key);
    if (v == NULL || json_is_null(v))
        return true;
    return json_object_set(to, to_key, v) == 0;
}

/* Appends text to *acc (a json string or NULL) with a separator. */
static bool append_text(json_t **acc, const char *text, const char *sep)
{
    if (*acc == NULL) {
        *acc = json_string(text);
        return *acc != NULL;
    }
    size_t a = json_string_length(*acc), b = strlen(text), s = strlen(sep);
    char *buf = malloc(a + s + b + 1);
    if (buf == NULL)
        return false;
    memcpy(buf, json_string_value(*acc), a);
    memcpy(buf + a, sep, s);
    memcpy(buf + a + s, text, b + 1);
    bool ok = json_string_setn(*acc, buf, a + s + b) == 0;
    free(buf);
    return ok;
}

/* OpenAI content parts -> Anthropic blocks. */
static jg_llm_status parts_to_anthropic(const json_t *parts, size_t m, json_t *blocks, char *err)
{
    size_t i;
    json_t *p;
    json_array_foreach (parts, i, p) {
        const char *type = json_string_value(json_object_get(p, "type"));
        json_t *b = NULL;
        if (strcmp(type, "text") == 0) {
            b = json_pack("{s:s, s:O}", "type", "text", "text", json_object_get(p, "text"));
        } else if (strcmp(type, "image_url") == 0) {
            json_t *iu = json_object_get(p, "image_url");
            const char *url =
                json_string_value(json_is_object(iu) ? json_object_get(iu, "url") : iu);
            if (url == NULL) {
                jg__llm_err(err, "messages[%zu].content[%zu].image_url: a url is required", m, i);
                return JG_LLM_EINVAL;
            }
            const char *comma = strchr(url, ',');
            if (strncmp(url, "data:", 5) == 0 && comma != NULL && comma - url > 12 &&
                strncmp(comma - 7, ";base64", 7) == 0) {
                b = json_pack("{s:s, s:{s:s, s:s%, s:s}}", "type", "image", "source", "type",
                              "base64", "media_type", url + 5, (size_t)(comma - 7 - (url + 5)),
                              "data", comma + 1);
            } else if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) {
                b = json_pack("{s:s, s:{s:s, s:s}}", "type", "image", "source", "type", "url",
                              "url", url);
            } else {
                jg__llm_err(err,
                            "messages[%zu].content[%zu].image_url: only base64 data URLs "
                            "and http(s) URLs are translated",
                            m, i);
                return JG_LLM_EUNSUPPORTED;
            }
        } else {
            jg__llm_err(err,
                        "messages[%zu].content[%zu]: content parts of type %.32s are not "
                        "translated to Anthropic",
                        m, i, type);
            return JG_LLM_EUNSUPPORTED;
        }
        if (b == NULL || json_array_append_new(blocks, b) != 0)
            return JG_LLM_ENOMEM;
    }
    return JG_LLM_OK;
}

static jg_llm_status openai_to_anthropic(const json_t *doc, const char *model, json_t **out,
                                         char *err)
{
    const char *bad = refused_member(doc, OPENAI_REFUSED);
    json_t *n = json_object_get(doc, "n");
    json_t *rf = json_object_get(json_object_get(doc, "response_format"), "type");
    if (bad == NULL && json_is_integer(n) && json_integer_value(n) != 1)
        bad = "n";
    if (bad == NULL && rf != NULL &&
        !(json_is_string(rf) && strcmp(json_string_value(rf), "text") == 0))
        bad = "response_format";
    if (bad != NULL) {
        jg__llm_err(err, "%s: not translated to an Anthropic provider", bad);
        return JG_LLM_EUNSUPPORTED;
    }
    json_t *o = json_object();
    json_t *msgs = json_array();
    json_t *system = NULL;
    jg_llm_status st = JG_LLM_ENOMEM;
    if (o == NULL || msgs == NULL || !set_new(o, "model", json_string(model)))
        goto fail;
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get(doc, "messages"), i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        json_t *c = json_object_get(m, "content");
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            if (json_is_string(c)) {
                if (!append_text(&system, json_string_value(c), "\n\n"))
                    goto fail;
                continue;
            }
            size_t k;
            json_t *p;
            json_array_foreach (c, k, p) {
                const char *t = json_string_value(json_object_get(p, "type"));
                if (strcmp(t, "text") != 0) {
                    jg__llm_err(err, "messages[%zu]: a system message may only hold text", i);
                    st = JG_LLM_EUNSUPPORTED;
                    goto fail;
                }
                if (!append_text(&system, json_string_value(json_object_get(p, "text")), "\n\n"))
                    goto fail;
            }
            continue;
        }
        if (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0) {
            jg__llm_err(err,
                        "messages[%zu]: %s messages (tool results) are not translated to "
                        "Anthropic",
                        i, role);
            st = JG_LLM_EUNSUPPORTED;
            goto fail;
        }
        json_t *tc = json_object_get(m, "tool_calls");
        if ((tc != NULL && !json_is_null(tc)) || json_object_get(m, "function_call") != NULL) {
            jg__llm_err(err, "messages[%zu]: tool calls are not translated to Anthropic", i);
            st = JG_LLM_EUNSUPPORTED;
            goto fail;
        }
        json_t *am = json_pack("{s:s}", "role", role);
        if (am == NULL || json_array_append_new(msgs, am) != 0)
            goto fail;
        if (json_is_string(c)) {
            if (json_object_set(am, "content", c) != 0)
                goto fail;
        } else if (json_is_array(c)) {
            json_t *blocks = json_array();
            if (!set_new(am, "content", blocks))
                goto fail;
            if ((st = parts_to_anthropic(c, i, blocks, err)) != JG_LLM_OK)
                goto fail;
            st = JG_LLM_ENOMEM;
        } else if (!set_new(am, "content", json_string(""))) {
            goto fail;
        }
    }
    if (json_array_size(msgs) == 0) {
        jg__llm_err(err, "messages: an Anthropic provider needs a user or assistant message");
        st = JG_LLM_EUNSUPPORTED;
        goto fail;
    }
    if (json_object_set_new(o, "messages", msgs) != 0) {
        msgs = NULL;
        goto fail;
    }
    msgs = NULL;
    if (system != NULL && json_object_set_new(o, "system", system) != 0) {
        system = NULL;
        goto fail;
    }
    system = NULL;
    json_t *mt = json_object_get(doc, "max_completion_tokens");
    if (!json_is_integer(mt))
        mt = json_object_get(doc, "max_tokens");
    if (!set_new(o, "max_tokens",
                 json_is_integer(mt) ? json_incref(mt) : json_integer(JG_LLM_DEFAULT_MAX_TOKENS)))
        goto fail;
    json_t *temp = json_object_get(doc, "temperature");
    if (json_is_number(temp)) {
        double t = json_number_value(temp);
        /* OpenAI's range is 0..2, Anthropic's 0..1: clamped. */
        if (!set_new(o, "temperature", json_real(t > 1.0 ? 1.0 : t < 0.0 ? 0.0 : t)))
            goto fail;
    }
    if (!copy_member(o, "top_p", doc, "top_p"))
        goto fail;
    json_t *stop = json_object_get(doc, "stop");
    if (json_is_string(stop)) {
        if (!set_new(o, "stop_sequences", json_pack("[O]", stop)))
            goto fail;
    } else if (json_is_array(stop) && json_array_size(stop) > 0) {
        if (json_object_set(o, "stop_sequences", stop) != 0)
            goto fail;
    }
    json_t *user = json_object_get(doc, "user");
    if (json_is_string(user) && !set_new(o, "metadata", json_pack("{s:O}", "user_id", user)))
        goto fail;
    if (json_is_true(json_object_get(doc, "stream")) && !set_new(o, "stream", json_true()))
        goto fail;
    *out = o;
    return JG_LLM_OK;
fail:
    json_decref(o);
    json_decref(msgs);
    json_decref(system);
    return st;
}

/* Anthropic blocks -> an OpenAI content: a string when all text (what every compatible server
 * takes), else parts. */
static jg_llm_status blocks_to_openai(const json_t *c, size_t m, json_t **out, char *err)
{
    if (json_is_string(c)) {
        *out = json_incref((json_t *)c);
        return JG_LLM_OK;
    }
    bool all_text = true;
    size_t i;
    json_t *b;
    json_array_foreach (c, i, b)
        all_text = all_text && strcmp(json_string_value(json_object_get(b, "type")), "text") == 0;
    if (all_text) {
        json_t *acc = NULL;
        json_array_foreach (c, i, b) {
            if (!append_text(&acc, json_string_value(json_object_get(b, "text")), "\n")) {
                json_decref(acc);
                return JG_LLM_ENOMEM;
            }
        }
        *out = acc != NULL ? acc : json_string("");
        return *out != NULL ? JG_LLM_OK : JG_LLM_ENOMEM;
    }
    json_t *parts = json_array();
    if (parts == NULL)
        return JG_LLM_ENOMEM;
    json_array_foreach (c, i, b) {
        const char *type = json_string_value(json_object_get(b, "type"));
        json_t *p = NULL;
        if (strcmp(type, "text") == 0) {
            p = json_pack("{s:s, s:O}", "type", "text", "text", json_object_get(b, "text"));
        } else if (strcmp(type, "image") == 0) {
            json_t *src = json_object_get(b, "source");
            const char *st = json_string_value(json_object_get(src, "type"));
            const char *mt = json_string_value(json_object_get(src, "media_type"));
            const char *data = json_string_value(json_object_get(src, "data"));
            const char *url = json_string_value(json_object_get(src, "url"));
            if (st != NULL && strcmp(st, "base64") == 0 && mt != NULL && data != NULL) {
                size_t n = strlen(mt) + strlen(data) + 14;
                char *u = malloc(n);
                if (u == NULL) {
                    json_decref(parts);
                    return JG_LLM_ENOMEM;
                }
                snprintf(u, n, "data:%s;base64,%s", mt, data);
                p = json_pack("{s:s, s:{s:s}}", "type", "image_url", "image_url", "url", u);
                free(u);
            } else if (st != NULL && strcmp(st, "url") == 0 && url != NULL) {
                p = json_pack("{s:s, s:{s:s}}", "type", "image_url", "image_url", "url", url);
            } else {
                jg__llm_err(err,
                            "messages[%zu].content[%zu]: this image source is not "
                            "translated to OpenAI",
                            m, i);
                json_decref(parts);
                return JG_LLM_EUNSUPPORTED;
            }
        } else {
            jg__llm_err(err,
                        "messages[%zu].content[%zu]: blocks of type %.32s are not "
                        "translated to OpenAI",
                        m, i, type);
            json_decref(parts);
            return JG_LLM_EUNSUPPORTED;
        }
        if (p == NULL || json_array_append_new(parts, p) != 0) {
            json_decref(parts);
            return JG_LLM_ENOMEM;
        }
    }
    *out = parts;
    return JG_LLM_OK;
}

static jg_llm_status anthropic_to_openai(const json_t *doc, const char *model, json_t **out,
                                         char *err)
{
    const char *bad = refused_member(doc, ANTHROPIC_REFUSED);
    json_t *stop = json_object_get(doc, "stop_sequences");
    if (bad == NULL && json_array_size(stop) > MAX_STOP_OPENAI)
        bad = "stop_sequences (more than 4)";
    if (bad != NULL) {
        jg__llm_err(err, "%s: not translated to an OpenAI provider", bad);
        return JG_LLM_EUNSUPPORTED;
    }
    jg_llm_status st = JG_LLM_ENOMEM;
    json_t *o = json_object();
    json_t *msgs = json_array();
    if (o == NULL || !set_new(o, "model", json_string(model)) || !set_new(o, "messages", msgs))
        goto fail;
    json_t *sys = json_object_get(doc, "system");
    if (sys != NULL) {
        json_t *text = NULL;
        if ((st = blocks_to_openai(sys, 0, &text, err)) != JG_LLM_OK)
            goto fail;
        st = JG_LLM_ENOMEM;
        json_t *sm = json_pack("{s:s, s:o}", "role", "system", "content", text);
        if (sm == NULL || json_array_append_new(msgs, sm) != 0)
            goto fail;
    }
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get(doc, "messages"), i, m) {
        json_t *content = NULL;
        if ((st = blocks_to_openai(json_object_get(m, "content"), i, &content, err)) != JG_LLM_OK)
            goto fail;
        st = JG_LLM_ENOMEM;
        json_t *om =
            json_pack("{s:O, s:o}", "role", json_object_get(m, "role"), "content", content);
        if (om == NULL || json_array_append_new(msgs, om) != 0)
            goto fail;
    }
    if (!copy_member(o, "max_tokens", doc, "max_tokens") ||
        !copy_member(o, "temperature", doc, "temperature") ||
        !copy_member(o, "top_p", doc, "top_p"))
        goto fail;
    if (json_array_size(stop) > 0 && json_object_set(o, "stop", stop) != 0)
        goto fail;
    json_t *uid = json_object_get(json_object_get(doc, "metadata"), "user_id");
    if (json_is_string(uid) && json_object_set(o, "user", uid) != 0)
        goto fail;
    if (json_is_true(json_object_get(doc, "stream"))) {
        if (!set_new(o, "stream", json_true()) ||
            !set_new(o, "stream_options", json_pack("{s:b}", "include_usage", 1)))
            goto fail;
    }
    *out = o;
    return JG_LLM_OK;
fail:
    json_decref(o);
    return st;
}

/* Same format, the common case: the client's bytes with the model value
 * replaced and, for an OpenAI stream, stream_options appended, without copying
 * and dumping the tree. false: take the tree path (nothing set). */
static bool same_format(const jg_llm_request *req, const char *provider_model, char **body,
                        size_t *len, jg_llm_status *st)
{
    for (const char *p = provider_model; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            return false; /* jansson's UTF-8 check decides */
    size_t from, to, close;
    bool has_so;
    if (req->spans) {
        from = req->model_from;
        to = req->model_to;
        close = req->close;
        has_so = req->has_stream_options;
    } else {
        jg__llm_obj doc;
        if (jg__llm_scan_object(req->raw, req->raw_len, &doc) != JG__SCAN_OK)
            return false;
        const jg__llm_member *mm = jg__llm_scan_get(&doc, "model");
        if (mm == NULL)
            return false; /* cannot be: parse required it */
        from = (size_t)(mm->value - req->raw);
        to = from + mm->value_len;
        close = (size_t)(doc.close - req->raw);
        has_so = jg__llm_scan_get(&doc, "stream_options") != NULL;
    }
    static const char so[] = ",\"stream_options\":{\"include_usage\":true}";
    size_t add = 0;
    if (req->fmt == JG_LLM_OPENAI && req->stream) {
        if (has_so)
            return false; /* the client's own: merged on the tree */
        add = sizeof so - 1;
    }
    size_t el = jg__llm_escaped_len(provider_model);
    size_t n = req->raw_len - (to - from) + el + add;
    char *o = malloc(n + 1);
    if (o == NULL) {
        *st = JG_LLM_ENOMEM;
        return true;
    }
    memcpy(o, req->raw, from);
    jg__llm_escape(provider_model, o + from);
    size_t at = from + el;
    memcpy(o + at, req->raw + to, close - to);
    at += close - to;
    memcpy(o + at, so, add); /* doc has members: model at least */
    at += add;
    memcpy(o + at, req->raw + close, req->raw_len - close);
    o[n] = '\0';
    *body = o;
    *len = n;
    *st = JG_LLM_OK;
    return true;
}

static jg_llm_status build_tree(const jg_llm_request *req, json_t *doc, jg_llm_format provider,
                                const char *provider_model, json_t **out, char *err);

jg_llm_status jg_llm_request_build(const jg_llm_request *req, jg_llm_format provider,
                                   const char *provider_model, char **body, size_t *len,
                                   char err[JG_LLM_ERR_MAX])
{
    *body = NULL;
    *len = 0;
    if (provider_model == NULL || provider_model[0] == '\0' ||
        (unsigned)provider >= JG_LLM_FORMAT_COUNT) {
        jg__llm_err(err, "no provider model");
        return JG_LLM_EINVAL;
    }
    json_t *o = NULL;
    jg_llm_status st;
    if (provider == req->fmt && same_format(req, provider_model, body, len, &st))
        return st;
    /* checked on the scanner: the tree now (the body is valid: NULL is ENOMEM) */
    json_t *doc = req->doc != NULL ? json_incref(req->doc) : jg__llm_loads(req->raw, req->raw_len);
    if (doc == NULL)
        return JG_LLM_ENOMEM;
    st = build_tree(req, doc, provider, provider_model, &o, err);
    json_decref(doc);
    if (st != JG_LLM_OK)
        return st;
    *body = jg__llm_dump(o, len);
    json_decref(o);
    return *body != NULL ? JG_LLM_OK : JG_LLM_ENOMEM;
}

static jg_llm_status build_tree(const jg_llm_request *req, json_t *doc, jg_llm_format provider,
                                const char *provider_model, json_t **out, char *err)
{
    json_t *o = NULL;
    jg_llm_status st;
    if (provider == req->fmt) {
        o = json_deep_copy(doc);
        if (o == NULL || json_object_set_new(o, "model", json_string(provider_model)) != 0) {
            json_decref(o);
            return JG_LLM_ENOMEM;
        }
        if (provider == JG_LLM_OPENAI && req->stream) {
            /* Usage is counted from the last chunk: ask for it (dropped again for a
             * client that did not). */
            json_t *so = json_object_get(o, "stream_options");
            if (!json_is_object(so)) {
                so = json_object();
                if (so == NULL || json_object_set_new(o, "stream_options", so) != 0) {
                    json_decref(o);
                    return JG_LLM_ENOMEM;
                }
            }
            if (json_object_set_new(so, "include_usage", json_true()) != 0) {
                json_decref(o);
                return JG_LLM_ENOMEM;
            }
        }
    } else if (req->op != JG_LLM_CHAT) {
        jg__llm_err(err, "embeddings are not translated between formats");
        return JG_LLM_EUNSUPPORTED;
    } else {
        st = req->fmt == JG_LLM_OPENAI ? openai_to_anthropic(doc, provider_model, &o, err)
                                       : anthropic_to_openai(doc, provider_model, &o, err);
        if (st != JG_LLM_OK)
            return st;
    }
    *out = o;
    return JG_LLM_OK;
}
