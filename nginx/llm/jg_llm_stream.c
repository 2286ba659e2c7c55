/*
 * jg_llm_stream.c — the incremental SSE translator: a provider's event
 * stream in, the client's out, one event held at most, usage counted on the
 * way. The parser follows the WHATWG event-stream rules (LF, CR or CRLF line
 * ends; `:` comments; fields other than event and data ignored; an event
 * ends with an empty line; an unfinished last event is dropped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jg_llm_int.h"
#include "jg_llm_scan.h"

struct jg_llm_stream {
    jg_llm_format provider;
    jg_llm_format client;
    char *model;
    bool wants_usage;
    jg_llm_emit_fn emit;
    void *ctx;

    /* the event being read */
    char *line;
    size_t line_len, line_cap;
    char *data;
    size_t data_len, data_cap;
    bool has_data;
    bool skip_lf; /* the last byte was CR: a LF next is part of that line end */
    char event[64];

    bool failed; /* no more input taken */
    bool done;   /* the client's stream has its end */
    jg_llm_usage usage;

    /* the client's side */
    bool started;     /* the client got its opening event / chunk */
    bool block_open;  /* Anthropic client: a content block is open */
    long block_index; /* ... and its index */
    bool delta_sent;  /* Anthropic client: message_delta sent */
    const char *stop; /* the stop / finish reason in the client's terms, or NULL */
    char *id;
    json_int_t created;

    /* the same-format fast path */
    char *out; /* the event being written */
    size_t out_cap;
    char *model_json; /* the public name as a JSON string, or NULL: no fast path */
    size_t model_json_len;
};

static bool grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (p == NULL)
        return false;
    *buf = p;
    *cap = n;
    return true;
}

jg_llm_stream *jg_llm_stream_new(jg_llm_format provider, jg_llm_format client,
                                 const char *public_model, bool client_wants_usage,
                                 jg_llm_emit_fn emit, void *ctx)
{
    if ((unsigned)provider >= JG_LLM_FORMAT_COUNT || (unsigned)client >= JG_LLM_FORMAT_COUNT ||
        public_model == NULL || emit == NULL)
        return NULL;
    jg_llm_stream *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->model = strdup(public_model);
    if (st->model == NULL) {
        free(st);
        return NULL;
    }
    st->provider = provider;
    st->client = client;
    st->wants_usage = client == JG_LLM_ANTHROPIC || client_wants_usage;
    st->emit = emit;
    st->ctx = ctx;
    st->created = (json_int_t)time(NULL);
    if (provider == client) {
        bool ascii = true;
        for (const char *p = public_model; *p != '\0'; p++)
            ascii = ascii && (unsigned char)*p < 0x80;
        if (ascii) { /* else jansson's UTF-8 check decides, on the tree path */
            st->model_json_len = jg__llm_escaped_len(public_model);
            st->model_json = malloc(st->model_json_len);
            if (st->model_json == NULL) {
                jg_llm_stream_free(st);
                return NULL;
            }
            jg__llm_escape(public_model, st->model_json);
        }
    }
    return st;
}

void jg_llm_stream_free(jg_llm_stream *st)
{
    if (st == NULL)
        return;
    free(st->line);
    free(st->data);
    free(st->model);
    free(st->id);
    free(st->out);
    free(st->model_json);
    free(st);
}

void jg_llm_stream_usage(const jg_llm_stream *st, jg_llm_usage *usage)
{
    *usage = st->usage;
}

/* ---- Output ---------------------------------------------------------------- */

static jg_llm_status emit_raw(jg_llm_stream *st, const char *s, size_t n)
{
    if (st->emit(st->ctx, s, n) != 0) {
        st->failed = true;
        st->done = true;
        return JG_LLM_ECALLBACK;
    }
    return JG_LLM_OK;
}

/* "event: <name>\n" (name non-NULL) "data: <json>\n\n"; takes j. */
static jg_llm_status emit_json(jg_llm_stream *st, const char *name, json_t *j)
{
    if (j == NULL)
        return JG_LLM_ENOMEM;
    size_t n = 0;
    char *s = jg__llm_dump(j, &n);
    json_decref(j);
    if (s == NULL)
        return JG_LLM_ENOMEM;
    size_t cap = n + (name != NULL ? strlen(name) : 0) + 20;
    char *buf = malloc(cap);
    if (buf == NULL) {
        free(s);
        return JG_LLM_ENOMEM;
    }
    int k = name != NULL ? snprintf(buf, cap, "event: %s\ndata: %s\n\n", name, s)
                         : snprintf(buf, cap, "data: %s\n\n", s);
    free(s);
    jg_llm_status rc = emit_raw(st, buf, (size_t)k);
    free(buf);
    return rc;
}

static const char *id_or(const jg_llm_stream *st, const char *dflt)
{
    return st->id != NULL ? st->id : dflt;
}

static void set_id(jg_llm_stream *st, const char *id)
{
    if (st->id == NULL && id != NULL)
        st->id = strdup(id); /* out of memory: the default id is used */
}

/* OpenAI client: a chunk with one choice. delta is taken. */
static jg_llm_status openai_chunk(jg_llm_stream *st, json_t *delta, const char *finish)
{
    if (delta == NULL)
        return JG_LLM_ENOMEM;
    return emit_json(st, NULL,
                     json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n, s:s?}]}", "id",
                               id_or(st, "chatcmpl-jwtgate"), "object", "chat.completion.chunk",
                               "created", st->created, "model", st->model, "choices", "index", 0,
                               "delta", delta, "logprobs", "finish_reason", finish));
}

static jg_llm_status openai_start(jg_llm_stream *st)
{
    if (st->started)
        return JG_LLM_OK;
    st->started = true;
    return openai_chunk(st, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL);
}

static jg_llm_status openai_end(jg_llm_stream *st)
{
    jg_llm_status rc = openai_start(st);
    if (rc == JG_LLM_OK)
        rc = openai_chunk(st, json_object(), st->stop);
    if (rc == JG_LLM_OK && st->wants_usage && st->usage.present)
        rc = emit_json(st, NULL,
                       json_pack("{s:s, s:s, s:I, s:s, s:[], s:{s:I, s:I, s:I}}", "id",
                                 id_or(st, "chatcmpl-jwtgate"), "object", "chat.completion.chunk",
                                 "created", st->created, "model", st->model, "choices", "usage",
                                 "prompt_tokens", (json_int_t)st->usage.input, "completion_tokens",
                                 (json_int_t)st->usage.output, "total_tokens",
                                 jg__llm_total(st->usage.input, st->usage.output)));
    if (rc == JG_LLM_OK)
        rc = emit_raw(st, "data: [DONE]\n\n", 14);
    st->done = true;
    return rc;
}

static jg_llm_status anthropic_start(jg_llm_stream *st)
{
    if (st->started)
        return JG_LLM_OK;
    st->started = true;
    return emit_json(st, "message_start",
                     json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:[], s:n, s:n, s:{s:I, s:I}}}",
                               "type", "message_start", "message", "id", id_or(st, "msg_jwtgate"),
                               "type", "message", "role", "assistant", "model", st->model,
                               "content", "stop_reason", "stop_sequence", "usage", "input_tokens",
                               (json_int_t)st->usage.input, "output_tokens", (json_int_t)0));
}

static jg_llm_status anthropic_end(jg_llm_stream *st)
{
    jg_llm_status rc = anthropic_start(st);
    if (rc == JG_LLM_OK && st->block_open) {
        st->block_open = false;
        rc = emit_json(st, "content_block_stop",
                       json_pack("{s:s, s:I}", "type", "content_block_stop", "index",
                                 (json_int_t)st->block_index));
    }
    if (rc == JG_LLM_OK && !st->delta_sent) {
        st->delta_sent = true;
        rc = emit_json(st, "message_delta",
                       json_pack("{s:s, s:{s:s?, s:n}, s:{s:I, s:I}}", "type", "message_delta",
                                 "delta", "stop_reason", st->stop, "stop_sequence", "usage",
                                 "input_tokens", (json_int_t)st->usage.input, "output_tokens",
                                 (json_int_t)st->usage.output));
    }
    if (rc == JG_LLM_OK)
        rc = emit_json(st, "message_stop", json_pack("{s:s}", "type", "message_stop"));
    st->done = true;
    return rc;
}

static jg_llm_status client_end(jg_llm_stream *st)
{
    if (st->done)
        return JG_LLM_OK;
    if (st->client == JG_LLM_ANTHROPIC)
        return anthropic_end(st);
    if (st->provider == JG_LLM_OPENAI) {
        st->done = true;
        return emit_raw(st, "data: [DONE]\n\n", 14);
    }
    return openai_end(st);
}

/* ---- Input: one event -------------------------------------------------------- */

static jg_llm_status upstream_bad(jg_llm_stream *st)
{
    st->failed = true;
    return JG_LLM_EUPSTREAM;
}

static jg_llm_status from_openai(jg_llm_stream *st, json_t *chunk)
{
    json_t *usage = json_object_get(chunk, "usage");
    if (json_is_object(usage)) {
        st->usage.present = true;
        st->usage.input = jg__llm_count(usage, "prompt_tokens");
        st->usage.output = jg__llm_count(usage, "completion_tokens");
    }
    json_t *choices = json_object_get(chunk, "choices");
    json_t *err = json_object_get(chunk, "error");
    if (st->client == JG_LLM_OPENAI) {
        if (json_is_array(choices) && json_array_size(choices) == 0 && json_is_object(usage) &&
            !st->wants_usage)
            return JG_LLM_OK; /* the usage chunk we asked for, not the client */
        if (!st->wants_usage)
            json_object_del(chunk, "usage");
        if (json_object_get(chunk, "model") != NULL &&
            json_object_set_new(chunk, "model", json_string(st->model)) != 0)
            return JG_LLM_ENOMEM;
        st->started = true;
        return emit_json(st, NULL, json_incref(chunk));
    }
    if (err != NULL) {
        const char *msg = json_string_value(json_object_get(err, "message"));
        jg_llm_status rc = emit_json(st, "error",
                                     json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
                                               "type", "api_error", "message",
                                               msg != NULL ? msg : "the provider's stream failed"));
        st->done = true;
        return rc;
    }
    set_id(st, json_string_value(json_object_get(chunk, "id")));
    jg_llm_status rc = anthropic_start(st);
    json_t *choice = json_array_get(choices, 0);
    json_t *delta = json_object_get(choice, "delta");
    json_t *tc = json_object_get(delta, "tool_calls");
    if (tc != NULL && !json_is_null(tc))
        return upstream_bad(st); /* tools are refused in requests */
    const char *text = json_string_value(json_object_get(delta, "content"));
    if (rc == JG_LLM_OK && text != NULL && text[0] != '\0') {
        if (!st->block_open) {
            st->block_open = true;
            st->block_index = 0;
            rc = emit_json(st, "content_block_start",
                           json_pack("{s:s, s:i, s:{s:s, s:s}}", "type", "content_block_start",
                                     "index", 0, "content_block", "type", "text", "text", ""));
        }
        if (rc == JG_LLM_OK)
            rc = emit_json(st, "content_block_delta",
                           json_pack("{s:s, s:i, s:{s:s, s:s}}", "type", "content_block_delta",
                                     "index", 0, "delta", "type", "text_delta", "text", text));
    }
    const char *fr = json_string_value(json_object_get(choice, "finish_reason"));
    if (fr != NULL)
        st->stop = jg__llm_stop_reason(fr);
    return rc;
}

static void anthropic_usage(jg_llm_stream *st, const json_t *usage)
{
    if (!json_is_object(usage))
        return;
    st->usage.present = true;
    if (json_object_get(usage, "input_tokens") != NULL)
        st->usage.input = (uint64_t)jg__llm_total(
            (uint64_t)jg__llm_total(jg__llm_count(usage, "input_tokens"),
                                    jg__llm_count(usage, "cache_creation_input_tokens")),
            jg__llm_count(usage, "cache_read_input_tokens"));
    if (json_object_get(usage, "output_tokens") != NULL)
        st->usage.output = jg__llm_count(usage, "output_tokens");
}

static jg_llm_status from_anthropic(jg_llm_stream *st, json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (type == NULL)
        type = st->event;
    bool is = false;
#define IS(name) (strcmp(type, name) == 0)
    json_t *msg = json_object_get(ev, "message");
    if (IS("message_start")) {
        anthropic_usage(st, json_object_get(msg, "usage"));
        set_id(st, json_string_value(json_object_get(msg, "id")));
    } else if (IS("message_delta")) {
        anthropic_usage(st, json_object_get(ev, "usage"));
        const char *sr =
            json_string_value(json_object_get(json_object_get(ev, "delta"), "stop_reason"));
        /* Kept for an OpenAI client only (a static string: sr dies with the event); an
         * Anthropic client gets this message_delta itself. */
        if (sr != NULL && st->client == JG_LLM_OPENAI)
            st->stop = jg__llm_finish_reason(sr);
    }
    if (st->client == JG_LLM_ANTHROPIC) {
        /* Same format: passed through, model rewritten; the state is kept to end
         * cleanly if the provider does not. */
        if (IS("message_start")) {
            if (json_is_object(msg) &&
                json_object_set_new(msg, "model", json_string(st->model)) != 0)
                return JG_LLM_ENOMEM;
            st->started = true;
        } else if (IS("content_block_start")) {
            st->block_open = true;
            json_t *idx = json_object_get(ev, "index");
            st->block_index = json_is_integer(idx) ? (long)json_integer_value(idx) : 0;
        } else if (IS("content_block_stop")) {
            st->block_open = false;
        } else if (IS("message_delta")) {
            st->delta_sent = true;
        }
        is = IS("message_stop") || IS("error");
        /* The event line is ours, from the type: never the provider's bytes, which
         * could end the line and inject fields. */
        char name[64];
        size_t k = 0;
        for (; k < sizeof name - 1 && type[k] != '\0'; k++) {
            char c = type[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_'))
                return JG_LLM_OK; /* not an event of the format: dropped */
            name[k] = c;
        }
        name[k] = '\0';
        if (k == 0)
            return JG_LLM_OK;
        jg_llm_status rc = emit_json(st, name, json_incref(ev));
        if (is)
            st->done = true;
        return rc;
    }
    if (IS("message_start"))
        return openai_start(st);
    if (IS("content_block_delta")) {
        json_t *d = json_object_get(ev, "delta");
        const char *dt = json_string_value(json_object_get(d, "type"));
        const char *text = json_string_value(json_object_get(d, "text"));
        if (dt == NULL || strcmp(dt, "text_delta") != 0 || text == NULL)
            return JG_LLM_OK; /* thinking and the like: not part of an OpenAI answer */
        jg_llm_status rc = openai_start(st);
        if (rc != JG_LLM_OK)
            return rc;
        return openai_chunk(st, json_pack("{s:s}", "content", text), NULL);
    }
    if (IS("message_stop"))
        return openai_end(st);
    if (IS("error")) {
        json_t *e = json_object_get(ev, "error");
        const char *m = json_string_value(json_object_get(e, "message"));
        const char *t = json_string_value(json_object_get(e, "type"));
        jg_llm_status rc =
            emit_json(st, NULL,
                      json_pack("{s:{s:s, s:s, s:n, s:n}}", "error", "message",
                                m != NULL ? m : "the provider's stream failed", "type",
                                t != NULL ? t : "api_error", "param", "code"));
        st->done = true;
        return rc;
    }
#undef IS
    return JG_LLM_OK; /* ping, content_block_start/stop, message_delta (kept above) */
}

/* ---- Input: the same-format fast path ------------------------------------------ */

/* A span of the event's bytes to leave out or to replace with the model. */
typedef struct {
    size_t from, to;
    bool model;
} edit;

/* Emits prefix, then data with edits[0..n) (sorted, not overlapping) applied,
 * then "\n\n", as one piece. */
static jg_llm_status emit_edited(jg_llm_stream *st, const char *prefix, size_t plen,
                                 const char *data, size_t len, const edit *edits, size_t n)
{
    size_t need = plen + len + 2;
    for (size_t k = 0; k < n; k++)
        need += (edits[k].model ? st->model_json_len : 0) - (edits[k].to - edits[k].from);
    if (!grow(&st->out, &st->out_cap, need))
        return JG_LLM_ENOMEM;
    char *o = st->out;
    memcpy(o, prefix, plen);
    size_t at = plen, from = 0;
    for (size_t k = 0; k < n; k++) {
        memcpy(o + at, data + from, edits[k].from - from);
        at += edits[k].from - from;
        if (edits[k].model) {
            memcpy(o + at, st->model_json, st->model_json_len);
            at += st->model_json_len;
        }
        from = edits[k].to;
    }
    memcpy(o + at, data + from, len - from);
    at += len - from;
    o[at++] = '\n';
    o[at++] = '\n';
    return emit_raw(st, o, at);
}

static size_t off(const jg_llm_stream *st, const char *p)
{
    return (size_t)(p - st->data);
}

/* The span of member m of obj, with the comma that separates it from a neighbour. */
static edit member_cut(const jg_llm_stream *st, const jg__llm_obj *obj, const jg__llm_member *m)
{
    size_t k = (size_t)(m - obj->m);
    edit e = {0, off(st, m->value + m->value_len), false};
    if (k > 0)
        e.from = off(st, obj->m[k - 1].value + obj->m[k - 1].value_len);
    else if (obj->n > 1)
        e.from = off(st, m->name - 1), e.to = off(st, obj->m[1].name - 1);
    else
        e.from = off(st, m->name - 1);
    return e;
}

static edit model_edit(const jg_llm_stream *st, const jg__llm_obj *obj, const jg__llm_member *m)
{
    (void)obj;
    return (edit){off(st, m->value), off(st, m->value + m->value_len), true};
}

/* An OpenAI event for an OpenAI client (what from_openai() does on a tree). */
static jg__scan_rc fast_openai(jg_llm_stream *st, const jg__llm_obj *ev, jg_llm_status *rc)
{
    const jg__llm_member *um = jg__llm_scan_get(ev, "usage");
    jg__llm_obj u;
    bool has_usage = jg__llm_scan_is_object(um);
    if (has_usage && jg__llm_scan_object(um->value, um->value_len, &u) != JG__SCAN_OK)
        return JG__SCAN_UNSURE;
    if (has_usage) {
        st->usage.present = true;
        st->usage.input = jg__llm_scan_count(jg__llm_scan_get(&u, "prompt_tokens"));
        st->usage.output = jg__llm_scan_count(jg__llm_scan_get(&u, "completion_tokens"));
    }
    *rc = JG_LLM_OK;
    const jg__llm_member *ch = jg__llm_scan_get(ev, "choices");
    if (ch != NULL && ch->value[0] == '[' && has_usage && !st->wants_usage) {
        size_t k = 1;
        while (k < ch->value_len && strchr(" \t\n\r", ch->value[k]) != NULL)
            k++;
        if (ch->value[k] == ']')
            return JG__SCAN_OK; /* the usage chunk we asked for, not the client */
    }
    edit e[2];
    size_t n = 0;
    const jg__llm_member *mm = jg__llm_scan_get(ev, "model");
    if (um != NULL && !st->wants_usage)
        e[n++] = member_cut(st, ev, um);
    if (mm != NULL) {
        edit me = model_edit(st, ev, mm);
        if (n == 1 && me.from < e[0].from) {
            e[1] = e[0];
            e[0] = me;
        } else {
            e[n] = me;
        }
        n++;
    }
    st->started = true;
    *rc = emit_edited(st, "data: ", 6, st->data, st->data_len, e, n);
    return JG__SCAN_OK;
}

/* The raw text of a string member without escapes, or NULL. */
static const char *plain_string(const jg__llm_member *m, size_t *len)
{
    if (m == NULL || m->value[0] != '"' || memchr(m->value, '\\', m->value_len) != NULL)
        return NULL;
    *len = m->value_len - 2;
    return m->value + 1;
}

static uint64_t scan_total(const jg__llm_obj *u)
{
    return (uint64_t)jg__llm_total(
        (uint64_t)jg__llm_total(
            jg__llm_scan_count(jg__llm_scan_get(u, "input_tokens")),
            jg__llm_scan_count(jg__llm_scan_get(u, "cache_creation_input_tokens"))),
        jg__llm_scan_count(jg__llm_scan_get(u, "cache_read_input_tokens")));
}

/* An Anthropic event for an Anthropic client (what from_anthropic() does on a tree). */
static jg__scan_rc fast_anthropic(jg_llm_stream *st, const jg__llm_obj *ev, jg_llm_status *rc)
{
    char type[64];
    size_t tl = 0;
    const jg__llm_member *tm = jg__llm_scan_get(ev, "type");
    if (tm != NULL && tm->value[0] == '"') {
        const char *t = plain_string(tm, &tl);
        if (t == NULL || tl >= sizeof type)
            return JG__SCAN_UNSURE;
        memcpy(type, t, tl);
    } else {
        tl = strlen(st->event);
        memcpy(type, st->event, tl);
    }
    type[tl] = '\0';
#define IS(name) (strcmp(type, name) == 0)
    const jg__llm_member *mm = jg__llm_scan_get(ev, "message");
    jg__llm_obj msg, u;
    bool has_msg = jg__llm_scan_is_object(mm);
    if (has_msg && jg__llm_scan_object(mm->value, mm->value_len, &msg) != JG__SCAN_OK)
        return JG__SCAN_UNSURE;
    const jg__llm_member *um = NULL, *idm = NULL;
    const char *id = NULL;
    size_t idl = 0;
    if (IS("message_start")) {
        um = has_msg ? jg__llm_scan_get(&msg, "usage") : NULL;
        idm = has_msg ? jg__llm_scan_get(&msg, "id") : NULL;
        if (idm != NULL && idm->value[0] == '"' && (id = plain_string(idm, &idl)) == NULL)
            return JG__SCAN_UNSURE;
    } else if (IS("message_delta")) {
        um = jg__llm_scan_get(ev, "usage");
    }
    bool has_usage = um != NULL && jg__llm_scan_is_object(um);
    if (has_usage && jg__llm_scan_object(um->value, um->value_len, &u) != JG__SCAN_OK)
        return JG__SCAN_UNSURE;
    /* nothing can fall back past this point: the state changes */
    if (has_usage) {
        st->usage.present = true;
        if (jg__llm_scan_get(&u, "input_tokens") != NULL)
            st->usage.input = scan_total(&u);
        if (jg__llm_scan_get(&u, "output_tokens") != NULL)
            st->usage.output = jg__llm_scan_count(jg__llm_scan_get(&u, "output_tokens"));
    }
    if (id != NULL && st->id == NULL && (st->id = malloc(idl + 1)) != NULL) {
        /* (not strndup: id is not NUL terminated; out of memory: the default id) */
        memcpy(st->id, id, idl);
        st->id[idl] = '\0';
    }
    edit e[1] = {{0, 0, false}};
    size_t n = 0;
    if (IS("message_start")) {
        if (has_msg) {
            const jg__llm_member *model = jg__llm_scan_get(&msg, "model");
            if (model != NULL)
                e[n++] = model_edit(st, &msg, model);
            else /* appended, as jansson's set would */
                e[n++] = (edit){off(st, msg.close), off(st, msg.close), true};
        }
        st->started = true;
    } else if (IS("content_block_start")) {
        st->block_open = true;
        const jg__llm_member *idx = jg__llm_scan_get(ev, "index");
        st->block_index = 0;
        if (idx != NULL &&
            (idx->value[0] == '-' || (idx->value[0] >= '0' && idx->value[0] <= '9'))) {
            /* json_is_integer: digits only (the scan checked the range); not strtol,
             * the bytes are not NUL terminated */
            bool neg = idx->value[0] == '-', integer = true;
            uint64_t v = 0;
            for (size_t k = neg ? 1 : 0; k < idx->value_len; k++) {
                if (idx->value[k] < '0' || idx->value[k] > '9')
                    integer = false;
                else
                    v = v * 10 + (uint64_t)(idx->value[k] - '0');
            }
            if (integer)
                st->block_index = neg ? (long)(0 - v) : (long)v;
        }
    } else if (IS("content_block_stop")) {
        st->block_open = false;
    } else if (IS("message_delta")) {
        st->delta_sent = true;
    }
    bool is = IS("message_stop") || IS("error");
#undef IS
    *rc = JG_LLM_OK;
    /* The event line is ours, from the type: never the provider's bytes, which
     * could end the line and inject fields. */
    char prefix[64 + 16];
    memcpy(prefix, "event: ", 7);
    size_t k = 0;
    for (; type[k] != '\0'; k++) {
        char c = type[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return JG__SCAN_OK; /* not an event of the format: dropped */
        prefix[7 + k] = c;
    }
    if (k == 0)
        return JG__SCAN_OK;
    memcpy(prefix + 7 + k, "\ndata: ", 7);
    if (n == 1 && e[0].from == e[0].to) {
        /* the model appended: ,"model": before it (or without the comma) */
        size_t pre = msg.n > 0 ? 9 : 8;
        size_t need = 7 + k + 7 + st->data_len + pre + st->model_json_len + 2;
        if (!grow(&st->out, &st->out_cap, need)) {
            *rc = JG_LLM_ENOMEM;
            return JG__SCAN_OK;
        }
        char *o = st->out;
        size_t at = 0;
        memcpy(o, prefix, 14 + k);
        at = 14 + k;
        memcpy(o + at, st->data, e[0].from);
        at += e[0].from;
        memcpy(o + at, msg.n > 0 ? ",\"model\":" : "\"model\":", pre);
        at += pre;
        memcpy(o + at, st->model_json, st->model_json_len);
        at += st->model_json_len;
        memcpy(o + at, st->data + e[0].from, st->data_len - e[0].from);
        at += st->data_len - e[0].from;
        o[at++] = '\n';
        o[at++] = '\n';
        *rc = emit_raw(st, o, at);
    } else {
        *rc = emit_edited(st, prefix, 14 + k, st->data, st->data_len, e, n);
    }
    if (is)
        st->done = true;
    return JG__SCAN_OK;
}

/* The event in st->data through the fast path: JG__SCAN_UNSURE when the tree
 * path must take it (nothing changed then), JG__SCAN_INVALID when it is not a
 * JSON object. */
static jg__scan_rc fast_event(jg_llm_stream *st, jg_llm_status *rc)
{
    if (st->model_json == NULL || memchr(st->data, '\n', st->data_len) != NULL)
        return JG__SCAN_UNSURE; /* a data field of several lines: re-dumped on one */
    jg__llm_obj ev;
    jg__scan_rc r = jg__llm_scan_object(st->data, st->data_len, &ev);
    if (r != JG__SCAN_OK)
        return r;
    return st->provider == JG_LLM_OPENAI ? fast_openai(st, &ev, rc) : fast_anthropic(st, &ev, rc);
}

static jg_llm_status dispatch(jg_llm_stream *st)
{
    jg_llm_status rc = JG_LLM_OK;
    jg__scan_rc fr;
    if (st->has_data && !st->done) {
        if (st->provider == JG_LLM_OPENAI && st->data_len == 6 &&
            memcmp(st->data, "[DONE]", 6) == 0) {
            rc = client_end(st);
        } else if ((fr = fast_event(st, &rc)) != JG__SCAN_UNSURE) {
            if (fr == JG__SCAN_INVALID)
                rc = upstream_bad(st);
        } else {
            json_t *j = jg__llm_loads(st->data, st->data_len);
            if (!json_is_object(j))
                rc = upstream_bad(st);
            else
                rc = st->provider == JG_LLM_OPENAI ? from_openai(st, j) : from_anthropic(st, j);
            json_decref(j);
        }
    }
    st->has_data = false;
    st->data_len = 0;
    st->event[0] = '\0';
    return rc;
}

static jg_llm_status line_end(jg_llm_stream *st)
{
    const char *l = st->line;
    size_t n = st->line_len;
    st->line_len = 0;
    if (n == 0)
        return dispatch(st);
    if (l[0] == ':')
        return JG_LLM_OK; /* a comment (keep-alive) */
    const char *colon = memchr(l, ':', n);
    size_t fl = colon != NULL ? (size_t)(colon - l) : n;
    const char *v = colon != NULL ? colon + 1 : l + n;
    size_t vl = (size_t)(l + n - v);
    if (vl > 0 && v[0] == ' ') {
        v++;
        vl--;
    }
    if (fl == 4 && memcmp(l, "data", 4) == 0) {
        size_t need = st->data_len + vl + 2;
        if (need > JG_LLM_MAX_EVENT)
            return upstream_bad(st);
        if (!grow(&st->data, &st->data_cap, need))
            return JG_LLM_ENOMEM;
        if (st->has_data)
            st->data[st->data_len++] = '\n';
        memcpy(st->data + st->data_len, v, vl);
        st->data_len += vl;
        st->has_data = true;
    } else if (fl == 5 && memcmp(l, "event", 5) == 0) {
        size_t k = vl < sizeof st->event - 1 ? vl : sizeof st->event - 1;
        memcpy(st->event, v, k);
        st->event[k] = '\0';
    }
    return JG_LLM_OK; /* id, retry and unknown fields: not needed */
}

jg_llm_status jg_llm_stream_feed(jg_llm_stream *st, const char *data, size_t len)
{
    if (st->failed)
        return JG_LLM_EUPSTREAM;
    size_t i = 0;
    while (i < len && !st->done) {
        if (st->skip_lf) {
            st->skip_lf = false;
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < len && data[j] != '\n' && data[j] != '\r')
            j++;
        size_t span = j - i;
        if (span > 0) {
            if (st->line_len + span + st->data_len > JG_LLM_MAX_EVENT)
                return upstream_bad(st);
            if (!grow(&st->line, &st->line_cap, st->line_len + span))
                return JG_LLM_ENOMEM;
            memcpy(st->line + st->line_len, data + i, span);
            st->line_len += span;
        }
        if (j == len)
            break;
        st->skip_lf = data[j] == '\r';
        i = j + 1;
        jg_llm_status rc = line_end(st);
        if (rc != JG_LLM_OK)
            return rc;
    }
    return JG_LLM_OK; /* after the end: the rest is ignored */
}

jg_llm_status jg_llm_stream_finish(jg_llm_stream *st)
{
    if (st->done)
        return JG_LLM_OK;
    return client_end(st);
}
