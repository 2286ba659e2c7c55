/* test_llm_stream.c — nginx/llm's SSE translator on recorded streams, in the
 * four directions: the output is the same however the input is split (at
 * every byte boundary, byte by byte), usage is exact, LF/CRLF/CR and comments,
 * the usage chunk dropped for a client that did not ask, early ends closed
 * cleanly, hostile streams (oversized events, not JSON, injected event names). */
#include "llm_testlib.h"
#include "testutil.h"

typedef struct {
    char *buf;
    size_t len, cap;
    int calls;
    int fail_at; /* the call that returns non-zero (0: never) */
} sink;

static int collect(void *ctx, const char *data, size_t len)
{
    sink *s = ctx;
    if (s->fail_at != 0 && ++s->calls == s->fail_at)
        return 1;
    if (s->len + len + 1 > s->cap) {
        s->cap = (s->len + len + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
        assert_non_null(s->buf);
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return 0;
}

/* Feeds in[0..len) in pieces: at `cut` (0: whole) or byte by byte (cut == SIZE_MAX); then
 * finishes. Returns the output (the caller frees it); *usage the stream's. */
static char *run(jg_llm_format provider, jg_llm_format client, bool wants, const char *in,
                 size_t len, size_t cut, jg_llm_usage *usage)
{
    sink s = {0};
    jg_llm_stream *st = jg_llm_stream_new(provider, client, "public-model", wants, collect, &s);
    assert_non_null(st);
    if (cut == SIZE_MAX) {
        for (size_t i = 0; i < len; i++)
            assert_int_equal(jg_llm_stream_feed(st, in + i, 1), JG_LLM_OK);
    } else if (cut == 0) {
        assert_int_equal(jg_llm_stream_feed(st, in, len), JG_LLM_OK);
    } else {
        assert_int_equal(jg_llm_stream_feed(st, in, cut), JG_LLM_OK);
        assert_int_equal(jg_llm_stream_feed(st, in + cut, len - cut), JG_LLM_OK);
    }
    assert_int_equal(jg_llm_stream_finish(st), JG_LLM_OK);
    assert_int_equal(jg_llm_stream_finish(st), JG_LLM_OK); /* idempotent */
    if (usage != NULL)
        jg_llm_stream_usage(st, usage);
    jg_llm_stream_free(st);
    if (s.buf == NULL)
        s.buf = calloc(1, 1);
    return s.buf;
}

/* `"created":<digits>` (the clock: translated OpenAI chunks carry it) as `"created":0`, in
 * place, so that outputs made a second apart compare equal. */
static char *no_clock(char *s)
{
    char *p = s;
    while ((p = strstr(p, "\"created\":")) != NULL) {
        p += 10;
        char *q = p;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q > p) {
            *p++ = '0';
            memmove(p, q, strlen(q) + 1);
        }
    }
    return s;
}

/* The same output however the input is split. */
static char *run_all_splits(jg_llm_format provider, jg_llm_format client, bool wants,
                            const char *in, size_t len, jg_llm_usage *usage)
{
    char *whole = run(provider, client, wants, in, len, 0, usage);
    for (size_t cut = 1; cut < len; cut++) {
        jg_llm_usage u;
        char *o = run(provider, client, wants, in, len, cut, &u);
        if (strcmp(no_clock(o), no_clock(whole)) != 0)
            fail_msg("split at %zu: output differs", cut);
        assert_memory_equal(&u, usage, sizeof u);
        free(o);
    }
    char *o = run(provider, client, wants, in, len, SIZE_MAX, NULL);
    assert_string_equal(no_clock(o), whole);
    free(o);
    return whole;
}

/* The output's events: names (NULL for none) and data parsed (NULL for [DONE]). */
typedef struct {
    char name[64];
    json_t *data;
    bool done;
} event;

static size_t parse_events(const char *out, event *ev, size_t max)
{
    size_t n = 0;
    const char *p = out;
    while (*p != '\0') {
        const char *end = strstr(p, "\n\n");
        assert_non_null(end); /* every event ends with an empty line */
        assert_true(n < max);
        event *e = &ev[n++];
        memset(e, 0, sizeof *e);
        const char *data = p;
        if (strncmp(p, "event: ", 7) == 0) {
            const char *nl = strchr(p, '\n');
            snprintf(e->name, sizeof e->name, "%.*s", (int)(nl - p - 7), p + 7);
            data = nl + 1;
        }
        assert_true(strncmp(data, "data: ", 6) == 0);
        char *d = strndup(data + 6, (size_t)(end - data - 6));
        assert_null(strchr(d, '\n')); /* one data line per event */
        if (strcmp(d, "[DONE]") == 0)
            e->done = true;
        else
            e->data = lt_json(d);
        free(d);
        p = end + 2;
    }
    return n;
}

static void free_events(event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(ev[i].data);
}

static char *vector(const char *name, size_t *len)
{
    char path[128];
    snprintf(path, sizeof path, "llm/%s", name);
    return tu_read_file(tu_vector_path(path), len);
}

/* The text of an OpenAI client's chunks. */
static void openai_text(event *ev, size_t n, char *text, size_t cap)
{
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *c = ev[i].data != NULL ? lt_str(ev[i].data, "choices/0/delta/content") : NULL;
        if (c != NULL)
            strncat(text, c, cap - strlen(text) - 1);
    }
}

static void anthropic_text(event *ev, size_t n, char *text, size_t cap)
{
    text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (strcmp(ev[i].name, "content_block_delta") == 0)
            strncat(text, lt_str(ev[i].data, "delta/text"), cap - strlen(text) - 1);
}

static void test_openai_to_openai(void **state)
{
    (void)state;
    size_t len;
    char *in = vector("openai_stream.sse", &len);
    event ev[32];
    char text[256];
    for (int wants = 0; wants < 2; wants++) {
        jg_llm_usage u;
        char *out = run_all_splits(JG_LLM_OPENAI, JG_LLM_OPENAI, wants, in, len, &u);
        assert_true(u.present);
        assert_int_equal(u.input, 2);
        assert_int_equal(u.output, 4);
        size_t n = parse_events(out, ev, 32);
        /* role, 4 deltas, finish, (usage), [DONE] */
        assert_int_equal(n, wants ? 8 : 7);
        assert_true(ev[n - 1].done);
        for (size_t i = 0; i + 1 < n; i++) {
            assert_string_equal(lt_str(ev[i].data, "model"), "public-model");
            assert_string_equal(lt_str(ev[i].data, "id"), "chatcmpl-mock-1");
            if (!wants)
                assert_null(lt_at(ev[i].data, "usage"));
        }
        if (wants) {
            assert_int_equal(json_array_size(lt_at(ev[6].data, "choices")), 0);
            assert_int_equal(lt_int(ev[6].data, "usage/completion_tokens"), 4);
        }
        assert_string_equal(lt_str(ev[5].data, "choices/0/finish_reason"), "stop");
        openai_text(ev, n, text, sizeof text);
        assert_string_equal(text, "You said: hello there");
        assert_null(strstr(out, "gpt-4o-2024-08-06")); /* the provider's model never shows */
        free_events(ev, n);
        free(out);
    }
    free(in);
}

static void test_openai_to_anthropic(void **state)
{
    (void)state;
    size_t len;
    char *in = vector("openai_stream.sse", &len);
    jg_llm_usage u;
    char *out = run_all_splits(JG_LLM_OPENAI, JG_LLM_ANTHROPIC, true, in, len, &u);
    assert_int_equal(u.input, 2);
    assert_int_equal(u.output, 4);
    event ev[32];
    size_t n = parse_events(out, ev, 32);
    static const char *const names[] = {
        "message_start",       "content_block_start", "content_block_delta",
        "content_block_delta", "content_block_delta", "content_block_delta",
        "content_block_stop",  "message_delta",       "message_stop"};
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ev[i].name, names[i]);
        assert_string_equal(lt_str(ev[i].data, "type"), names[i]);
    }
    assert_string_equal(lt_str(ev[0].data, "message/model"), "public-model");
    assert_string_equal(lt_str(ev[0].data, "message/role"), "assistant");
    assert_string_equal(lt_str(ev[7].data, "delta/stop_reason"), "end_turn");
    assert_int_equal(lt_int(ev[7].data, "usage/output_tokens"), 4);
    assert_int_equal(lt_int(ev[7].data, "usage/input_tokens"), 2);
    char text[256];
    anthropic_text(ev, n, text, sizeof text);
    assert_string_equal(text, "You said: hello there");
    free_events(ev, n);
    free(out);
    free(in);
}

static void test_anthropic_to_openai(void **state)
{
    (void)state;
    size_t len;
    char *in = vector("anthropic_stream.sse", &len);
    event ev[32];
    char text[256];
    for (int wants = 0; wants < 2; wants++) {
        jg_llm_usage u;
        char *out = run_all_splits(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, wants, in, len, &u);
        assert_int_equal(u.input, 2);
        assert_int_equal(u.output, 4);
        size_t n = parse_events(out, ev, 32);
        assert_int_equal(n, wants ? 8 : 7);
        assert_true(ev[n - 1].done);
        assert_string_equal(lt_str(ev[0].data, "choices/0/delta/role"), "assistant");
        for (size_t i = 0; i + 1 < n; i++) {
            assert_string_equal(lt_str(ev[i].data, "object"), "chat.completion.chunk");
            assert_string_equal(lt_str(ev[i].data, "model"), "public-model");
            assert_string_equal(lt_str(ev[i].data, "id"), "msg_mock_1");
        }
        assert_string_equal(lt_str(ev[5].data, "choices/0/finish_reason"), "stop");
        if (wants) {
            assert_int_equal(json_array_size(lt_at(ev[6].data, "choices")), 0);
            assert_int_equal(lt_int(ev[6].data, "usage/prompt_tokens"), 2);
            assert_int_equal(lt_int(ev[6].data, "usage/completion_tokens"), 4);
            assert_int_equal(lt_int(ev[6].data, "usage/total_tokens"), 6);
        }
        openai_text(ev, n, text, sizeof text);
        assert_string_equal(text, "You said: hello there");
        free_events(ev, n);
        free(out);
    }
    free(in);
}

static void test_anthropic_to_anthropic(void **state)
{
    (void)state;
    size_t len;
    char *in = vector("anthropic_stream.sse", &len);
    jg_llm_usage u;
    char *out = run_all_splits(JG_LLM_ANTHROPIC, JG_LLM_ANTHROPIC, true, in, len, &u);
    assert_int_equal(u.input, 2);
    assert_int_equal(u.output, 4);
    event ev[32];
    size_t n = parse_events(out, ev, 32);
    assert_int_equal(n, 10); /* every event, ping included */
    assert_string_equal(ev[0].name, "message_start");
    assert_string_equal(lt_str(ev[0].data, "message/model"), "public-model");
    assert_string_equal(ev[2].name, "ping");
    assert_string_equal(ev[9].name, "message_stop");
    assert_null(strstr(out, "claude-sonnet-4-5"));
    free_events(ev, n);
    free(out);
    free(in);
}

/* Replaces every "\n" of in by `eol`. */
static char *with_eol(const char *in, size_t len, const char *eol, size_t *out_len)
{
    size_t el = strlen(eol);
    char *o = malloc(len * el + 1);
    assert_non_null(o);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n') {
            memcpy(o + k, eol, el);
            k += el;
        } else {
            o[k++] = in[i];
        }
    }
    o[k] = '\0';
    *out_len = k;
    return o;
}

static void test_line_ends_and_comments(void **state)
{
    (void)state;
    size_t len;
    char *in = vector("anthropic_stream.sse", &len);
    char *lf = run(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, true, in, len, 0, NULL);
    static const char *const eols[] = {"\r\n", "\r"};
    for (size_t e = 0; e < 2; e++) {
        size_t n;
        char *v = with_eol(in, len, eols[e], &n);
        jg_llm_usage u, u0;
        char *out = run_all_splits(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, true, v, n, &u);
        free(run(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, true, in, len, 0, &u0));
        assert_memory_equal(&u, &u0, sizeof u);
        /* ids and created may differ only in `created`: compare without it */
        event a[32], b[32];
        size_t na = parse_events(out, a, 32), nb = parse_events(lf, b, 32);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            if (a[i].data != NULL) {
                json_object_del(a[i].data, "created");
                json_object_del(b[i].data, "created");
                assert_true(json_equal(a[i].data, b[i].data));
            }
        }
        free_events(a, na);
        free_events(b, nb);
        free(out);
        free(v);
    }
    free(lf);
    free(in);
    /* comments, unknown fields, a data field split over lines, "data:" without a space */
    const char *s = ": keep-alive\n"
                    "id: 7\nretry: 1000\nfoo: bar\n"
                    "data:{\"id\":\"c1\",\"model\":\"p\",\n"
                    "data: \"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n"
                    "\n"
                    ":\n\n"
                    "data: [DONE]\n\n";
    char *out =
        run_all_splits(JG_LLM_OPENAI, JG_LLM_OPENAI, false, s, strlen(s), &(jg_llm_usage){0});
    event ev[8];
    size_t n = parse_events(out, ev, 8);
    assert_int_equal(n, 2);
    assert_string_equal(lt_str(ev[0].data, "choices/0/delta/content"), "hi");
    assert_string_equal(lt_str(ev[0].data, "model"), "public-model");
    assert_true(ev[1].done);
    free_events(ev, n);
    free(out);
}

/* A stream cut after `events` events, finished. */
static char *cut_stream(const char *name, size_t events, jg_llm_format provider,
                        jg_llm_format client, size_t *n_out, event *ev)
{
    size_t len;
    char *in = vector(name, &len);
    const char *p = in;
    for (size_t i = 0; i < events; i++)
        p = strstr(p, "\n\n") + 2;
    /* and half an event more, which is dropped */
    size_t keep = (size_t)(p - in) + 10;
    char *out = run(provider, client, true, in, keep, 0, NULL);
    *n_out = parse_events(out, ev, 32);
    free(in);
    return out;
}

static void test_early_end(void **state)
{
    (void)state;
    event ev[32];
    memset(ev, 0, sizeof ev);
    size_t n;
    /* OpenAI -> Anthropic after the role chunk and one delta: a clean Anthropic end */
    char *out = cut_stream("openai_stream.sse", 2, JG_LLM_OPENAI, JG_LLM_ANTHROPIC, &n, ev);
    assert_int_equal(n, 6);
    assert_string_equal(ev[0].name, "message_start");
    assert_string_equal(ev[1].name, "content_block_start");
    assert_string_equal(lt_str(ev[2].data, "delta/text"), "You");
    assert_string_equal(ev[3].name, "content_block_stop");
    assert_string_equal(ev[4].name, "message_delta");
    assert_true(json_is_null(lt_at(ev[4].data, "delta/stop_reason")));
    assert_string_equal(ev[5].name, "message_stop");
    free_events(ev, n);
    free(out);
    /* Anthropic -> OpenAI after two deltas: finish chunk and [DONE] */
    out = cut_stream("anthropic_stream.sse", 5, JG_LLM_ANTHROPIC, JG_LLM_OPENAI, &n, ev);
    assert_int_equal(n, 6); /* role, 2 deltas, finish, usage (as far as counted), [DONE] */
    assert_string_equal(lt_str(ev[2].data, "choices/0/delta/content"), " said:");
    assert_true(json_is_null(lt_at(ev[3].data, "choices/0/finish_reason")));
    assert_int_equal(lt_int(ev[4].data, "usage/prompt_tokens"), 2);
    assert_true(ev[5].done);
    free_events(ev, n);
    free(out);
    /* Anthropic -> Anthropic inside a block: the block and the message are closed */
    out = cut_stream("anthropic_stream.sse", 4, JG_LLM_ANTHROPIC, JG_LLM_ANTHROPIC, &n, ev);
    assert_string_equal(ev[n - 3].name, "content_block_stop");
    assert_string_equal(ev[n - 2].name, "message_delta");
    assert_string_equal(ev[n - 1].name, "message_stop");
    free_events(ev, n);
    free(out);
    /* Anthropic -> Anthropic after message_delta: only message_stop is added */
    out = cut_stream("anthropic_stream.sse", 9, JG_LLM_ANTHROPIC, JG_LLM_ANTHROPIC, &n, ev);
    assert_int_equal(n, 10);
    assert_string_equal(ev[8].name, "message_delta");
    assert_string_equal(lt_str(ev[8].data, "delta/stop_reason"), "end_turn");
    assert_string_equal(ev[9].name, "message_stop");
    free_events(ev, n);
    free(out);
    /* OpenAI -> OpenAI: [DONE] */
    out = cut_stream("openai_stream.sse", 3, JG_LLM_OPENAI, JG_LLM_OPENAI, &n, ev);
    assert_int_equal(n, 4);
    assert_true(ev[3].done);
    free_events(ev, n);
    free(out);
    /* nothing at all: still a well-formed stream for either client */
    for (int c = 0; c < 2; c++) {
        char *o = run(JG_LLM_OPENAI, (jg_llm_format)c, false, "", 0, 0, NULL);
        n = parse_events(o, ev, 32);
        assert_true(n >= 1);
        if (c == JG_LLM_ANTHROPIC)
            assert_string_equal(ev[n - 1].name, "message_stop");
        else
            assert_true(ev[n - 1].done);
        free_events(ev, n);
        free(o);
    }
}

static void test_hostile_streams(void **state)
{
    (void)state;
    sink s = {0};
    jg_llm_stream *st = jg_llm_stream_new(JG_LLM_OPENAI, JG_LLM_OPENAI, "m", false, collect, &s);
    /* an event over the limit, fed in pieces: refused, and nothing more is taken */
    char *chunk = malloc(65536);
    memset(chunk, 'x', 65536);
    assert_int_equal(jg_llm_stream_feed(st, "data: ", 6), JG_LLM_OK);
    jg_llm_status rc = JG_LLM_OK;
    for (int i = 0; i < 20 && rc == JG_LLM_OK; i++)
        rc = jg_llm_stream_feed(st, chunk, 65536);
    assert_int_equal(rc, JG_LLM_EUPSTREAM);
    assert_int_equal(jg_llm_stream_feed(st, "\n\n", 2), JG_LLM_EUPSTREAM);
    assert_int_equal(jg_llm_stream_finish(st), JG_LLM_OK); /* the client still gets an end */
    assert_string_equal(s.buf, "data: [DONE]\n\n");
    jg_llm_stream_free(st);
    free(s.buf);
    /* many data lines add up to the limit too */
    memset(&s, 0, sizeof s);
    st = jg_llm_stream_new(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, "m", false, collect, &s);
    memcpy(chunk, "data: ", 6);
    chunk[65535] = '\n';
    rc = JG_LLM_OK;
    for (int i = 0; i < 20 && rc == JG_LLM_OK; i++)
        rc = jg_llm_stream_feed(st, chunk, 65536);
    assert_int_equal(rc, JG_LLM_EUPSTREAM);
    jg_llm_stream_free(st);
    free(s.buf);
    free(chunk);
    /* not JSON, not an object */
    static const char *const bad[] = {"data: {nope\n\n", "data: [1]\n\n", "data: \"x\"\n\n"};
    for (size_t i = 0; i < 3; i++) {
        for (int p = 0; p < 2; p++) {
            memset(&s, 0, sizeof s);
            st = jg_llm_stream_new((jg_llm_format)p, JG_LLM_OPENAI, "m", false, collect, &s);
            assert_int_equal(jg_llm_stream_feed(st, bad[i], strlen(bad[i])), JG_LLM_EUPSTREAM);
            jg_llm_stream_free(st);
            free(s.buf);
        }
    }
    /* an event type that would inject a line is dropped, not echoed */
    const char *inj = "data: {\"type\":\"x\\ndata: evil\"}\n\n"
                      "data: {\"type\":\"message_stop\"}\n\n";
    char *out = run(JG_LLM_ANTHROPIC, JG_LLM_ANTHROPIC, true, inj, strlen(inj), 0, NULL);
    assert_null(strstr(out, "evil"));
    free(out);
    /* tool calls in an answer we did not ask for: refused */
    const char *tools = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":"
                        "[{\"index\":0}]}}]}\n\n";
    memset(&s, 0, sizeof s);
    st = jg_llm_stream_new(JG_LLM_OPENAI, JG_LLM_ANTHROPIC, "m", true, collect, &s);
    assert_int_equal(jg_llm_stream_feed(st, tools, strlen(tools)), JG_LLM_EUPSTREAM);
    jg_llm_stream_free(st);
    free(s.buf);
    /* the callback stops the stream */
    size_t len;
    char *in = vector("openai_stream.sse", &len);
    memset(&s, 0, sizeof s);
    s.fail_at = 2;
    st = jg_llm_stream_new(JG_LLM_OPENAI, JG_LLM_OPENAI, "m", false, collect, &s);
    assert_int_equal(jg_llm_stream_feed(st, in, len), JG_LLM_ECALLBACK);
    assert_int_equal(jg_llm_stream_feed(st, in, len), JG_LLM_EUPSTREAM);
    jg_llm_stream_free(st);
    free(s.buf);
    free(in);
    /* errors inside a stream reach the client in its own shape */
    const char *aerr = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                       "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    out = run(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, false, aerr, strlen(aerr), 0, NULL);
    event ev[4];
    size_t n = parse_events(out, ev, 4);
    assert_int_equal(n, 1);
    assert_string_equal(lt_str(ev[0].data, "error/type"), "overloaded_error");
    assert_string_equal(lt_str(ev[0].data, "error/message"), "Overloaded");
    free_events(ev, n);
    free(out);
    assert_null(jg_llm_stream_new(JG_LLM_FORMAT_COUNT, JG_LLM_OPENAI, "m", false, collect, &s));
    assert_null(jg_llm_stream_new(JG_LLM_OPENAI, JG_LLM_OPENAI, NULL, false, collect, &s));
}

/* Every comma of the data lines of in starts a new data line: the same events,
 * which the translator takes through its tree path (a data field of several
 * lines) instead of the same-format fast path. */
static char *multiline(const char *in)
{
    char *o = malloc(strlen(in) * 8 + 1);
    assert_non_null(o);
    size_t k = 0;
    for (const char *p = in; *p != '\0'; p++) {
        if (*p == ',') {
            memcpy(o + k, ",\ndata: ", 8);
            k += 8;
        } else {
            o[k++] = *p;
        }
    }
    o[k] = '\0';
    return o;
}

/* The fast path gives the events (names and JSON values) the tree path gives. */
static void same_events(jg_llm_format fmt, bool wants, const char *in, size_t expect_n)
{
    char *slow_in = multiline(in);
    jg_llm_usage uf, us;
    char *fast = run_all_splits(fmt, fmt, wants, in, strlen(in), &uf);
    char *slow = run(fmt, fmt, wants, slow_in, strlen(slow_in), 0, &us);
    assert_memory_equal(&uf, &us, sizeof uf);
    event a[32], b[32];
    size_t na = parse_events(fast, a, 32), nb = parse_events(slow, b, 32);
    assert_int_equal(na, expect_n);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].name, b[i].name);
        assert_int_equal(a[i].done, b[i].done);
        if (a[i].data != NULL && !json_equal(a[i].data, b[i].data))
            fail_msg("event %zu differs: %s\nvs %s", i, fast, slow);
    }
    assert_null(strstr(fast, "prov-model"));
    free_events(a, na);
    free_events(b, nb);
    free(fast);
    free(slow);
    free(slow_in);
}

static void test_fast_path_same_values(void **state)
{
    (void)state;
    const char *o =
        "data: {\"id\": \"c1\", \"model\": \"prov-model\", \"choices\": [{\"index\": 0, \"delta\": "
        "{\"role\": \"assistant\", \"content\": \"\"}, \"finish_reason\": null}], \"usage\": "
        "null}\n\n"
        "data: {\"usage\":null,\"id\":\"c1\",\"model\":\"prov-model\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\"h\\u00e9\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[ ],\"usage\":{\"prompt_tokens\":3,"
        "\"completion_tokens\":1,\"total_tokens\":4},\"model\":\"prov-model\"}\n\n"
        "data: {\"id\":\"c1\"}\n\n"
        "data: [DONE]\n\n";
    same_events(JG_LLM_OPENAI, false, o, 4);
    same_events(JG_LLM_OPENAI, true, o, 5);
    const char *a =
        "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {\"id\": \"m1\", "
        "\"usage\": {\"input_tokens\": 5, \"cache_read_input_tokens\": 1, \"output_tokens\": "
        "1}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,"
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: ping\ndata: {}\n\n"
        "event: bad name\ndata: {\"x\":1}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    same_events(JG_LLM_ANTHROPIC, true, a, 5);
    /* the model replaced where the provider put it */
    const char *a2 = "data: {\"type\":\"message_start\",\"message\":{\"model\":\"prov-model\","
                     "\"id\":\"m\"}}\n\n";
    same_events(JG_LLM_ANTHROPIC, true, a2, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_to_openai),
        cmocka_unit_test(test_openai_to_anthropic),
        cmocka_unit_test(test_anthropic_to_openai),
        cmocka_unit_test(test_anthropic_to_anthropic),
        cmocka_unit_test(test_line_ends_and_comments),
        cmocka_unit_test(test_early_end),
        cmocka_unit_test(test_hostile_streams),
        cmocka_unit_test(test_fast_path_same_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
