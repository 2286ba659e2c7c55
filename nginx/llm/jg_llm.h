/*
 * jg_llm.h — the LLM wire formats of the AI gateway: OpenAI Chat Completions
 * (and its compatible servers) and Anthropic Messages. Parsing and checking a
 * client's request body, building the provider's body, translating answers
 * (whole or streamed as SSE) and extracting token usage, the gateway's own
 * error bodies and /v1/models.
 *
 * Plain C11 and jansson, no nginx headers: compiled into the AI nginx module
 * and into tests/unit (static library jg_llm). Memory is malloc()'s: every
 * buffer this returns is the caller's, released with jg_llm_free(). Nothing
 * here keeps global mutable state: every function is thread safe on distinct
 * objects; one object (request, stream) must not be used by two threads at
 * once. Nothing here logs.
 */
#ifndef JG_LLM_H
#define JG_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The wire formats. A new format is a row of the table (jg_llm_format_get)
 * and its cases in the translators. */
typedef enum { JG_LLM_OPENAI = 0, JG_LLM_ANTHROPIC = 1, JG_LLM_FORMAT_COUNT } jg_llm_format;

/* What a request asks for. */
typedef enum {
    JG_LLM_CHAT = 0,   /* OpenAI /chat/completions, Anthropic /messages */
    JG_LLM_EMBEDDINGS, /* OpenAI /embeddings only */
    JG_LLM_MODELS      /* GET /models: no body */
} jg_llm_op;

/* Results. jg_llm_status_http() gives the HTTP status a gateway answers. */
typedef enum {
    JG_LLM_OK = 0,
    JG_LLM_EINVAL,       /* the client's body is not a valid request: 400 */
    JG_LLM_ETOOBIG,      /* body over the size limit: 413 */
    JG_LLM_EUNSUPPORTED, /* valid, but cannot be translated to the provider's format: 400 */
    JG_LLM_EUPSTREAM,    /* the provider's answer or stream is not what its format says: 502 */
    JG_LLM_ENOMEM,       /* out of memory: 500 */
    JG_LLM_ECALLBACK     /* the emit callback returned non-zero: the stream is stopped */
} jg_llm_status;

/* Longest error message written into an `err` buffer, NUL included. */
#define JG_LLM_ERR_MAX 256
/* Deepest nesting of arrays/objects accepted in a client body (checked before
 * jansson sees it, so a deep body cannot exhaust the stack). */
#define JG_LLM_MAX_DEPTH 64
/* Longest SSE event (one `data:` record with its lines) a stream translator
 * holds while waiting for the rest of it; beyond: JG_LLM_EUPSTREAM. */
#define JG_LLM_MAX_EVENT ((size_t)1024 * 1024)
/* Anthropic requires max_tokens; used when an OpenAI client gives none. */
#define JG_LLM_DEFAULT_MAX_TOKENS 4096
/* The anthropic-version header sent to Anthropic providers. */
#define JG_LLM_ANTHROPIC_VERSION "2023-06-01"

/* One row of the format table: static, never freed. */
typedef struct {
    const char *name;            /* "openai", "anthropic" */
    const char *chat_path;       /* under the provider's base URL: "/chat/completions" */
    const char *embeddings_path; /* NULL when the format has none */
    const char *models_path;     /* "/models" */
    const char *auth_header;     /* "Authorization" or "x-api-key" */
    const char *auth_prefix;     /* put before the key: "Bearer " or "" */
    const char *extra_header;    /* a header the format requires, or NULL */
    const char *extra_value;     /* its value */
} jg_llm_format_info;

/* The table row of `fmt`; NULL for a value out of range. Thread safe. */
const jg_llm_format_info *jg_llm_format_get(jg_llm_format fmt);

/* The format named name[0..len) ("openai", "anthropic"): 0 and *out set, or -1 when unknown. */
int jg_llm_format_by_name(const char *name, size_t len, jg_llm_format *out);

/* The HTTP status a gateway answers for `st` (200 for JG_LLM_OK). */
int jg_llm_status_http(jg_llm_status st);

/* Releases anything this library returned (NULL is fine). */
void jg_llm_free(void *p);

/* ---- Requests ------------------------------------------------------------ */

typedef struct jg_llm_request jg_llm_request;

/*
 * Parses and checks the client's body body[0..len) of operation `op` in the
 * client's format `fmt`. Limits: len <= max_len (0: 1 MiB), nesting <=
 * JG_LLM_MAX_DEPTH, both checked before parsing; a JSON object; `model` a
 * string of 1..128 printable ASCII characters; `stream` a boolean if present;
 * for chat `messages` a non-empty array of well-typed messages (OpenAI:
 * role system|developer|user|assistant|tool, content a string, null or an
 * array of parts; Anthropic: role user|assistant, `max_tokens` a positive
 * integer, `system` a string or text blocks); for embeddings `input` a
 * string or array. Unknown members are kept (passed through to a provider of
 * the same format).
 *
 * On success *out is the caller's (jg_llm_request_free). Errors: JG_LLM_EINVAL
 * (a message for the 400 body in err, never containing body bytes beyond a
 * member's name; also for JG_LLM_MODELS, which has no body, and embeddings in
 * the Anthropic format, which has none), JG_LLM_ETOOBIG, JG_LLM_ENOMEM. err may
 * be NULL. Thread safe.
 */
jg_llm_status jg_llm_request_parse(jg_llm_format fmt, jg_llm_op op, const char *body, size_t len,
                                   size_t max_len, jg_llm_request **out, char err[JG_LLM_ERR_MAX]);

/* The request's `model` (NUL terminated, owned by the request). */
const char *jg_llm_request_model(const jg_llm_request *req);
/* Whether the client asked for a stream. */
bool jg_llm_request_stream(const jg_llm_request *req);
/* Whether the client will receive usage in a stream: an OpenAI client that set
 * stream_options.include_usage; always true for Anthropic clients. */
bool jg_llm_request_wants_usage(const jg_llm_request *req);
/* The client's format and operation. */
jg_llm_format jg_llm_request_format(const jg_llm_request *req);
jg_llm_op jg_llm_request_op(const jg_llm_request *req);

/*
 * The body to send to a provider of format `provider` as model
 * `provider_model`: same format, the client's body with `model` replaced (and
 * for an OpenAI stream stream_options.include_usage = true, so that usage can
 * be counted); across formats, translated (see docs/ai-gateway.md, "Wire
 * formats"). *body (NUL terminated, *len bytes) is the caller's.
 * Errors: JG_LLM_EUNSUPPORTED (what cannot be translated, message in err),
 * JG_LLM_EINVAL (provider_model empty), JG_LLM_ENOMEM. The request is not changed
 * (several builds of one request, one per fallback attempt, are fine). err may be NULL.
 */
jg_llm_status jg_llm_request_build(const jg_llm_request *req, jg_llm_format provider,
                                   const char *provider_model, char **body, size_t *len,
                                   char err[JG_LLM_ERR_MAX]);

void jg_llm_request_free(jg_llm_request *req);

/* ---- Responses ----------------------------------------------------------- */

/* Tokens used, as the provider counted them. `present` is false while the
 * provider has said nothing about usage. */
typedef struct {
    uint64_t input;
    uint64_t output;
    bool present;
} jg_llm_usage;

/*
 * Translates a provider's non-streaming success body (format `provider`, op
 * `op`) into the client's format `client`, with `model` set to public_model;
 * *usage gets the provider's usage. Same format: the body with `model`
 * rewritten. *out (NUL terminated, *out_len bytes) is the caller's.
 * Errors: JG_LLM_EUPSTREAM (not JSON, not the format's shape), JG_LLM_ENOMEM.
 */
jg_llm_status jg_llm_response_translate(jg_llm_format provider, jg_llm_format client, jg_llm_op op,
                                        const char *public_model, const char *body, size_t len,
                                        char **out, size_t *out_len, jg_llm_usage *usage);

/* ---- Streams (SSE) ------------------------------------------------------- */

/* Receives translated bytes for the client, in order; non-zero stops the
 * stream (the feed returns JG_LLM_ECALLBACK). `data` is valid during the call only. */
typedef int (*jg_llm_emit_fn)(void *ctx, const char *data, size_t len);

typedef struct jg_llm_stream jg_llm_stream;

/*
 * An incremental translator of a provider's SSE stream (format `provider`)
 * into the client's (`client`), `model` rewritten to public_model (copied).
 * client_wants_usage: jg_llm_request_wants_usage() of the request (an OpenAI
 * client that did not ask for it does not get the usage-only chunk we asked
 * for). Bytes are fed as they come, split anywhere; LF, CRLF or CR; comments and
 * unknown fields ignored; at most one event (JG_LLM_MAX_EVENT) held. A
 * provider's error event is passed on in the client's error shape and ends it.
 * NULL on out of memory. The stream is the caller's (jg_llm_stream_free).
 */
jg_llm_stream *jg_llm_stream_new(jg_llm_format provider, jg_llm_format client,
                                 const char *public_model, bool client_wants_usage,
                                 jg_llm_emit_fn emit, void *ctx);

/* Feeds data[0..len); after the client's end was emitted the rest is ignored.
 * Errors: JG_LLM_EUPSTREAM (an event over the limit, or an event whose data is
 * not a JSON object; no more input is taken, jg_llm_stream_finish() still ends
 * the client's stream), JG_LLM_ECALLBACK (nothing more is emitted),
 * JG_LLM_ENOMEM. */
jg_llm_status jg_llm_stream_feed(jg_llm_stream *st, const char *data, size_t len);

/* The provider's stream ended (cleanly or not): emits what the client's format
 * needs to end cleanly (OpenAI `data: [DONE]`, Anthropic message_stop ...) if
 * not yet sent. Idempotent. Errors: JG_LLM_ECALLBACK, JG_LLM_ENOMEM. */
jg_llm_status jg_llm_stream_finish(jg_llm_stream *st);

/* Usage seen so far (OpenAI: the final chunk; Anthropic: message_start +
 * message_delta). */
void jg_llm_stream_usage(const jg_llm_stream *st, jg_llm_usage *usage);

void jg_llm_stream_free(jg_llm_stream *st);

/* ---- The gateway's own answers ------------------------------------------- */

/*
 * An error body in format `fmt`: OpenAI {"error": {"message", "type", "param",
 * "code"}} (param, code null when NULL), Anthropic {"type": "error", "error":
 * {"type", "message"}}. type NULL: derived from http_status
 * (invalid_request_error, authentication_error, permission_error,
 * not_found_error, rate_limit_error, api_error, overloaded_error). NULL on out
 * of memory; else the caller's, *len bytes.
 */
char *jg_llm_error_body(jg_llm_format fmt, int http_status, const char *type, const char *message,
                        const char *param, const char *code, size_t *len);

/*
 * A provider's error answer (format `provider`, HTTP status http_status, body[0..len)) in the
 * client's format: its message kept when the body has the provider's error shape (same format:
 * type, and OpenAI's param and code, too; across formats the type is the status's), else a
 * generic message for the status (a body of another shape is never copied: it could hold
 * anything). NULL on out of memory; else the caller's, *out_len bytes. Thread safe.
 */
char *jg_llm_error_translate(jg_llm_format provider, jg_llm_format client, int http_status,
                             const char *body, size_t len, size_t *out_len);

/* The OpenAI /v1/models list of names[0..n), `created` and `owned_by` on each
 * entry. NULL on out of memory; else the caller's, *len bytes. */
char *jg_llm_models_body(const char *const *names, size_t n, int64_t created, const char *owned_by,
                         size_t *len);

#endif /* JG_LLM_H */
