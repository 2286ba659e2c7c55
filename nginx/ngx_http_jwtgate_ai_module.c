
/*
 * ngx_http_jwtgate_ai_module: the LLM endpoints (docs/ai-gateway.md, "Data
 * plane"; why a second module and why subrequests: docs/HACKING.md).
 *
 * A request: ngx_http_jwtgate_module's access phase has let it in (the
 * token, the subscription, the API's state). The content handler reads the
 * body, parses it in the client's format (jg_llm), checks the limits, and
 * starts the first attempt: a subrequest to the internal location named by
 * "jwtgate_ai", whose proxy_pass $jwtgate_ai_url goes to the provider with
 * a body and headers this module made (the client's headers are not
 * passed: a fresh list with the provider key). The subrequest's header
 * filter sees the provider's status: a failure (401/403/429/5xx, a
 * timeout) swallows its output, takes the key out when it is the key's
 * fault, and the parent, woken when the subrequest ends, starts the next
 * attempt (the next key, then the next provider offering the model). A
 * success is translated: whole answers are held and translated when the
 * subrequest ends; streams are translated event by event as they pass and
 * the main request's header is sent from the subrequest's header filter.
 */


#include "ngx_http_jwtgate_ai_module.h"


typedef struct {
    ngx_http_request_t           *main;
    ngx_http_request_t           *sr;              /* the current attempt */

    ngx_http_jwtgate_ai_llm_t    *llm;
    ngx_http_jwtgate_ai_api_t    *api;
    ngx_http_jwtgate_snap_t      *snap;
    ngx_http_jwtgate_api_t       *japi;
    ngx_str_t                     client_id;

    jg_llm_request               *req;
    jg_llm_format                 client_fmt;
    jg_llm_op                     op;
    ngx_str_t                     model;           /* public */
    unsigned                      stream:1;
    unsigned                      wants_usage:1;

    /* the attempts */
    ngx_uint_t                    attempts;
    ngx_uint_t                    prov_next;       /* next provider index */
    ngx_uint_t                    key_start;
    ngx_uint_t                    key_tries;
    ngx_http_jwtgate_ai_provider_t  *prov;
    ngx_http_jwtgate_ai_model_t  *pmodel;
    ngx_http_jwtgate_ai_key_t    *key;
    ngx_http_jwtgate_ai_provider_t  *used;         /* of the last attempt */
    ngx_str_t                     url;
    time_t                        soonest;         /* a key out comes back */
    ngx_event_t                   timer;           /* the provider's
                                                      timeout_ms */

    /* the current attempt's outcome */
    ngx_uint_t                    status;
    time_t                        retry_after;
    ngx_uint_t                    last_status;     /* of a failed one */
    time_t                        last_retry;
    unsigned                      ok:1;            /* the answer's to send */
    unsigned                      failed:1;
    unsigned                      passthrough:1;   /* a provider's 4xx */
    unsigned                      json:1;          /* its body is JSON */
    unsigned                      broken:1;        /* ended in an error */
    unsigned                      header_sent:1;   /* to the client */
    unsigned                      eof:1;
    unsigned                      logged:1;
    unsigned                      limited:1;       /* count tokens after */
    unsigned                      unsupported:1;

    u_char                       *ans;             /* ngx_alloc()ed */
    size_t                        ans_len;
    size_t                        ans_cap;

    jg_llm_stream                *st;
    ngx_chain_t                  *out;
    ngx_chain_t                 **last_out;
    ngx_chain_t                  *free;
    ngx_chain_t                  *busy;
    ngx_int_t                     emit_error;

    jg_llm_usage                  usage;
    ngx_uint_t                    client_status;
    jg_snap_limits                limits;
    jg_snap_model_limits          mlimits;
    unsigned                      has_limits:1;
    unsigned                      has_mlimits:1;
    char                          err[JG_LLM_ERR_MAX];
} ngx_http_jwtgate_ai_ctx_t;


static ngx_int_t ngx_http_jwtgate_ai_handler(ngx_http_request_t *r);
static void ngx_http_jwtgate_ai_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_jwtgate_ai_route(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, ngx_str_t *rest);
static ngx_int_t ngx_http_jwtgate_ai_models(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx);
static uint64_t ngx_http_jwtgate_ai_counter_hash(
    ngx_http_jwtgate_ai_ctx_t *ctx, ngx_uint_t kind, ngx_str_t *model);
static ngx_int_t ngx_http_jwtgate_ai_limits(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx);
static void ngx_http_jwtgate_ai_count_tokens(ngx_http_jwtgate_ai_ctx_t *ctx);
static ngx_int_t ngx_http_jwtgate_ai_next(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx);
static ngx_int_t ngx_http_jwtgate_ai_attempt(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx);
static ngx_int_t ngx_http_jwtgate_ai_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_jwtgate_ai_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_jwtgate_ai_finish(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx);
static ngx_int_t ngx_http_jwtgate_ai_error(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, jg_llm_format fmt, ngx_uint_t status,
    const char *type, const char *message, time_t retry_after);
static ngx_int_t ngx_http_jwtgate_ai_send(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, ngx_uint_t status, u_char *body,
    size_t len, time_t retry_after);
static ngx_int_t ngx_http_jwtgate_ai_set_headers(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, ngx_uint_t status, time_t retry_after);
static ngx_int_t ngx_http_jwtgate_ai_add_header(ngx_http_request_t *r,
    ngx_list_t *list, const char *name, ngx_str_t *value);
static int ngx_http_jwtgate_ai_emit(void *data, const char *p, size_t len);
static void ngx_http_jwtgate_ai_log_usage(ngx_http_jwtgate_ai_ctx_t *ctx);
static void ngx_http_jwtgate_ai_cleanup(void *data);
static time_t ngx_http_jwtgate_ai_retry_after(ngx_http_request_t *sr);
static void ngx_http_jwtgate_ai_timeout(ngx_event_t *ev);

static ngx_int_t ngx_http_jwtgate_ai_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_jwtgate_ai_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);

static ngx_int_t ngx_http_jwtgate_ai_url_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_ai_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_jwtgate_ai_init(ngx_conf_t *cf);
static void *ngx_http_jwtgate_ai_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_jwtgate_ai_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_jwtgate_ai_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_jwtgate_ai(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_ai_usage_log(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_jwtgate_ai_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_jwtgate_ai_commands[] = {

    { ngx_string("jwtgate_ai"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_jwtgate_ai,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_ai_body_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_ai_loc_conf_t, body_max),
      NULL },

    { ngx_string("jwtgate_ai_secrets_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_ai_main_conf_t, secrets_key),
      NULL },

    { ngx_string("jwtgate_ai_usage_log"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_jwtgate_ai_usage_log,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_jwtgate_ai_module_ctx = {
    ngx_http_jwtgate_ai_add_variables,     /* preconfiguration */
    ngx_http_jwtgate_ai_init,              /* postconfiguration */

    ngx_http_jwtgate_ai_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_jwtgate_ai_create_loc_conf,   /* create location configuration */
    ngx_http_jwtgate_ai_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_jwtgate_ai_module = {
    NGX_MODULE_V1,
    &ngx_http_jwtgate_ai_module_ctx,       /* module context */
    ngx_http_jwtgate_ai_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_jwtgate_ai_exit_process,      /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

static ngx_str_t  ngx_http_jwtgate_ai_post = ngx_string("POST");
static ngx_str_t  ngx_http_jwtgate_ai_json = ngx_string("application/json");
static ngx_str_t  ngx_http_jwtgate_ai_sse = ngx_string("text/event-stream");


/* ---- the request -------------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_ai_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         rest;
    ngx_pool_cleanup_t               *cln;
    ngx_http_jwtgate_ai_ctx_t        *ctx;
    ngx_http_jwtgate_ai_loc_conf_t   *alcf;
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_jwtgate_ai_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_jwtgate_ai_cleanup;
    cln->data = ctx;

    ctx->main = r;
    ctx->last_out = &ctx->out;
    ngx_http_set_ctx(r, ctx, ngx_http_jwtgate_ai_module);

    /* the client's format, from the path, before anything can go wrong */

    ctx->client_fmt = JG_LLM_OPENAI;

    if (r->uri.len >= sizeof("/messages") - 1
        && ngx_strncmp(r->uri.data + r->uri.len - (sizeof("/messages") - 1),
                       "/messages", sizeof("/messages") - 1) == 0)
    {
        ctx->client_fmt = JG_LLM_ANTHROPIC;
    }

    if (ngx_http_jwtgate_request_identity(r, &ctx->snap, &ctx->japi,
                                          &ctx->client_id)
        != NGX_OK)
    {
        /* a location without "jwtgate on" and "jwtgate_snapshot": the
         * configuration is wrong, never an open door */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "jwtgate_ai: the request was not let in by jwtgate "
                      "with a snapshot (\"jwtgate on\" and "
                      "\"jwtgate_snapshot\" in this location?)");
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_FORBIDDEN, NULL,
                                         "access denied", 0);
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_jwtgate_ai_module);

    ctx->llm = ngx_http_jwtgate_ai_llm_acquire(amcf, ctx->snap,
                                               r->connection->log);
    if (ctx->llm == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->api = ngx_http_jwtgate_ai_llm_api(ctx->llm, &ctx->japi->id);

    /* the path under the API's base path, then under /v1 */

    rest = r->uri;

    if (rest.len >= ctx->japi->base_path.len) {
        rest.data += ctx->japi->base_path.len;
        rest.len -= ctx->japi->base_path.len;
    }

    if (ctx->japi->base_path.len
        && ctx->japi->base_path.data[ctx->japi->base_path.len - 1] == '/')
    {
        rest.data--;
        rest.len++;
    }

    if (rest.len >= 3 && ngx_strncmp(rest.data, "/v1", 3) == 0
        && (rest.len == 3 || rest.data[3] == '/'))
    {
        rest.data += 3;
        rest.len -= 3;
    }

    rc = ngx_http_jwtgate_ai_route(r, ctx, &rest);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ctx->api == NULL || ctx->api->nproviders == 0) {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_NOT_FOUND, NULL,
                                         "this API offers no model", 0);
    }

    if (ctx->op == JG_LLM_MODELS) {
        ngx_int_t  drc = ngx_http_discard_request_body(r);

        if (drc != NGX_OK) {
            return drc;
        }

        return ngx_http_jwtgate_ai_models(r, ctx);
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_jwtgate_ai_module);

    if (r->headers_in.content_length_n > (off_t) alcf->body_max) {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                         NULL,
                                         "the request body is too large", 0);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_jwtgate_ai_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_jwtgate_ai_route(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, ngx_str_t *rest)
{
    ngx_uint_t  method;

    method = NGX_HTTP_POST;

#define ngx_http_jwtgate_ai_is(s)                                           \
    (rest->len == sizeof(s) - 1 && ngx_strncmp(rest->data, s, rest->len) == 0)

    if (ngx_http_jwtgate_ai_is("/chat/completions")) {
        ctx->client_fmt = JG_LLM_OPENAI;
        ctx->op = JG_LLM_CHAT;

    } else if (ngx_http_jwtgate_ai_is("/messages")) {
        ctx->client_fmt = JG_LLM_ANTHROPIC;
        ctx->op = JG_LLM_CHAT;

    } else if (ngx_http_jwtgate_ai_is("/embeddings")) {
        ctx->client_fmt = JG_LLM_OPENAI;
        ctx->op = JG_LLM_EMBEDDINGS;

    } else if (ngx_http_jwtgate_ai_is("/models")) {
        ctx->client_fmt = JG_LLM_OPENAI;
        ctx->op = JG_LLM_MODELS;
        method = NGX_HTTP_GET;

    } else {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_NOT_FOUND, NULL,
                                         "unknown endpoint", 0);
    }

#undef ngx_http_jwtgate_ai_is

    if (r->method != method) {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_NOT_ALLOWED, NULL,
                                         "method not allowed", 0);
    }

    return NGX_DECLINED;
}


/* GET /v1/models: the public names the API's providers offer, each once */

static ngx_int_t
ngx_http_jwtgate_ai_models(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx)
{
    char                             *body;
    size_t                            len;
    ngx_int_t                         rc;
    ngx_uint_t                        i, j, k, n, total;
    const char                      **names;
    ngx_http_jwtgate_ai_provider_t   *p;

    total = 0;

    for (i = 0; i < ctx->api->nproviders; i++) {
        total += ctx->api->providers[i].nmodels;
    }

    names = ngx_palloc(r->pool, (total + 1) * sizeof(char *));
    if (names == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < ctx->api->nproviders; i++) {
        p = &ctx->api->providers[i];

        for (j = 0; j < p->nmodels; j++) {
            for (k = 0; k < n; k++) {
                if (ngx_strcmp(names[k], p->models[j].name.data) == 0) {
                    break;
                }
            }

            if (k == n) {
                names[n++] = (char *) p->models[j].name.data;
            }
        }
    }

    body = jg_llm_models_body(names, n, ctx->snap->generated_at, "jwtgate",
                              &len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_jwtgate_ai_send(r, ctx, NGX_HTTP_OK, (u_char *) body, len,
                                  0);
    jg_llm_free(body);

    return rc;
}


/* The whole body is in memory or in a file: parse it, check the limits,
 * start the first attempt. */

static void
ngx_http_jwtgate_ai_body(ngx_http_request_t *r)
{
    u_char                          *body, *p;
    size_t                           len;
    ssize_t                          n;
    ngx_int_t                        rc;
    ngx_uint_t                       i, offered;
    const char                      *model;
    ngx_chain_t                     *cl;
    jg_llm_status                    st;
    ngx_http_jwtgate_ai_ctx_t       *ctx;
    ngx_http_jwtgate_ai_loc_conf_t  *alcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgate_ai_module);
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_jwtgate_ai_module);

    if (r->request_body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > alcf->body_max) {
        rc = ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       NULL, "the request body is too large",
                                       0);
        ngx_http_finalize_request(r, rc);
        return;
    }

    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (ngx_buf_in_memory(cl->buf)) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
            continue;
        }

        if (cl->buf->in_file) {
            n = ngx_read_file(cl->buf->file, p,
                              cl->buf->file_last - cl->buf->file_pos,
                              cl->buf->file_pos);
            if (n != cl->buf->file_last - cl->buf->file_pos) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            p += n;
        }
    }

    *p = '\0';
    len = p - body;

    st = jg_llm_request_parse(ctx->client_fmt, ctx->op, (char *) body, len,
                              alcf->body_max, &ctx->req, ctx->err);

    if (st != JG_LLM_OK) {
        rc = ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                       jg_llm_status_http(st), NULL,
                                       ctx->err[0] ? ctx->err
                                       : "invalid request", 0);
        ngx_http_finalize_request(r, rc);
        return;
    }

    model = jg_llm_request_model(ctx->req);
    ctx->model.data = (u_char *) model;
    ctx->model.len = ngx_strlen(model);
    ctx->stream = jg_llm_request_stream(ctx->req) ? 1 : 0;
    ctx->wants_usage = jg_llm_request_wants_usage(ctx->req) ? 1 : 0;

    /* a model no provider offers: no upstream call */

    offered = 0;

    for (i = 0; i < ctx->api->nproviders && !offered; i++) {
        offered = ngx_http_jwtgate_ai_provider_model(&ctx->api->providers[i],
                                                     model)
                  != NULL;
    }

    if (!offered) {
        rc = ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                       NGX_HTTP_NOT_FOUND, NULL,
                                       "the model does not exist", 0);
        ngx_http_finalize_request(r, rc);
        return;
    }

    rc = ngx_http_jwtgate_ai_limits(r, ctx);
    if (rc != NGX_DECLINED) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    r->write_event_handler = ngx_http_jwtgate_ai_resume;

    rc = ngx_http_jwtgate_ai_next(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/* ---- limits ------------------------------------------------------------- */


static uint64_t
ngx_http_jwtgate_ai_counter_hash(ngx_http_jwtgate_ai_ctx_t *ctx,
    ngx_uint_t kind, ngx_str_t *model)
{
    u_char  *p;
    u_char   buf[512];

    p = ngx_snprintf(buf, sizeof(buf), "%V|%ui|%V", &ctx->japi->id, kind,
                     model);

    return ngx_http_jwtgate_ai_hash(ctx->client_id.data, ctx->client_id.len,
                                    buf, p - buf, 2);
}


/* Before any provider call: the over-quota list (every gateway), then the
 * subscription's limits counted here (this gateway). NGX_DECLINED: the
 * request may go on; else the refusal was answered, with that code. */

static ngx_int_t
ngx_http_jwtgate_ai_limits(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx)
{
    time_t  now;
    int64_t                           until, minute, day, rpm[2], tpm[2],
                                      tpd[2];
    jg_snap_sub                       sub;
    ngx_str_t                         none, *models[2];
    ngx_uint_t                        i;
    const char                       *why;
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_jwtgate_ai_module);
    now = ngx_time();

    if (jg_snapshot_overquota(ctx->snap->js, (char *) ctx->client_id.data,
                              ctx->client_id.len, ctx->japi->index, NULL, 0,
                              now, &until)
        || jg_snapshot_overquota(ctx->snap->js, (char *) ctx->client_id.data,
                                 ctx->client_id.len, ctx->japi->index,
                                 (char *) ctx->model.data, ctx->model.len,
                                 now, &until))
    {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_TOO_MANY_REQUESTS, NULL,
                                         "quota exceeded", until - now);
    }

    if (jg_snapshot_subscription(ctx->snap->js, (char *) ctx->client_id.data,
                                 ctx->client_id.len, ctx->japi->index, &sub)
        != JG_OK
        || jg_snapshot_sub_limits(ctx->snap->js, &sub, &ctx->limits) != JG_OK)
    {
        return NGX_DECLINED;
    }

    ctx->has_limits = 1;
    ctx->has_mlimits = jg_snapshot_limits_model(ctx->snap->js, &ctx->limits,
                                                (char *) ctx->model.data,
                                                ctx->model.len,
                                                &ctx->mlimits)
                       == JG_OK;
    ctx->limited = 1;

    ngx_str_set(&none, "");
    models[0] = &none;
    models[1] = &ctx->model;
    rpm[0] = ctx->limits.requests_per_minute;
    tpm[0] = ctx->limits.tokens_per_minute;
    tpd[0] = ctx->limits.tokens_per_day;
    rpm[1] = ctx->has_mlimits ? ctx->mlimits.requests_per_minute : 0;
    tpm[1] = ctx->has_mlimits ? ctx->mlimits.tokens_per_minute : 0;
    tpd[1] = ctx->has_mlimits ? ctx->mlimits.tokens_per_day : 0;

    minute = now / 60;
    day = now / 86400;

    for (i = 0; i < 2; i++) {
        why = NULL;

        if (tpm[i] && ngx_http_jwtgate_ai_count(amcf->zone,
                          ngx_http_jwtgate_ai_counter_hash(ctx,
                              NGX_HTTP_JWTGATE_AI_TPM, models[i]),
                          minute, 0) >= tpm[i])
        {
            why = "tokens per minute";
            until = (minute + 1) * 60;

        } else if (tpd[i] && ngx_http_jwtgate_ai_count(amcf->zone,
                                 ngx_http_jwtgate_ai_counter_hash(ctx,
                                     NGX_HTTP_JWTGATE_AI_TPD, models[i]),
                                 day, 0) >= tpd[i])
        {
            why = "tokens per day";
            until = (day + 1) * 86400;
        }

        if (why == NULL && rpm[i]) {
            uint64_t  h = ngx_http_jwtgate_ai_counter_hash(ctx,
                              NGX_HTTP_JWTGATE_AI_RPM, models[i]);

            if (ngx_http_jwtgate_ai_count(amcf->zone, h, minute, 1)
                >= rpm[i])
            {
                (void) ngx_http_jwtgate_ai_count(amcf->zone, h, minute, -1);
                why = "requests per minute";
                until = (minute + 1) * 60;
            }
        }

        if (why != NULL) {
            u_char  msg[128];

            ngx_snprintf(msg, sizeof(msg), "rate limit exceeded: %s%s%Z",
                         why, i ? " of the model" : "");
            ctx->limited = 0;

            return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                             NGX_HTTP_TOO_MANY_REQUESTS, NULL,
                                             (char *) msg, until - now);
        }
    }

    return NGX_DECLINED;
}


/* After the answer: its tokens, weighted, on the subscription's and the
 * model's minute and day. */

static void
ngx_http_jwtgate_ai_count_tokens(ngx_http_jwtgate_ai_ctx_t *ctx)
{
    time_t                            now;
    int64_t                           tokens;
    ngx_str_t                         none;
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    if (!ctx->limited || !ctx->usage.present) {
        return;
    }

    ctx->limited = 0;

    amcf = ngx_http_get_module_main_conf(ctx->main,
                                         ngx_http_jwtgate_ai_module);
    now = ngx_time();

    tokens = (int64_t) ((ctx->usage.input * ctx->limits.input_weight_milli
                         + ctx->usage.output * ctx->limits.output_weight_milli
                         + 999) / 1000);

    if (tokens <= 0) {
        return;
    }

    ngx_str_set(&none, "");

    if (ctx->limits.tokens_per_minute) {
        (void) ngx_http_jwtgate_ai_count(amcf->zone,
                   ngx_http_jwtgate_ai_counter_hash(ctx,
                       NGX_HTTP_JWTGATE_AI_TPM, &none), now / 60, tokens);
    }

    if (ctx->limits.tokens_per_day) {
        (void) ngx_http_jwtgate_ai_count(amcf->zone,
                   ngx_http_jwtgate_ai_counter_hash(ctx,
                       NGX_HTTP_JWTGATE_AI_TPD, &none), now / 86400, tokens);
    }

    if (ctx->has_mlimits && ctx->mlimits.tokens_per_minute) {
        (void) ngx_http_jwtgate_ai_count(amcf->zone,
                   ngx_http_jwtgate_ai_counter_hash(ctx,
                       NGX_HTTP_JWTGATE_AI_TPM, &ctx->model), now / 60,
                   tokens);
    }

    if (ctx->has_mlimits && ctx->mlimits.tokens_per_day) {
        (void) ngx_http_jwtgate_ai_count(amcf->zone,
                   ngx_http_jwtgate_ai_counter_hash(ctx,
                       NGX_HTTP_JWTGATE_AI_TPD, &ctx->model), now / 86400,
                   tokens);
    }
}


/* ---- attempts ----------------------------------------------------------- */


/* The next (provider, key) to try, and its subrequest (NGX_DONE); the
 * final answer, with its code, when there is none left. */

static ngx_int_t
ngx_http_jwtgate_ai_next(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx)
{
    time_t                            now, until;
    ngx_int_t                         rc;
    ngx_http_jwtgate_ai_key_t        *key;
    ngx_http_jwtgate_ai_provider_t   *p;
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_jwtgate_ai_module);
    now = ngx_time();

    while (ctx->attempts < NGX_HTTP_JWTGATE_AI_MAX_ATTEMPTS) {

        if (ctx->prov == NULL) {
            /* the next provider offering the model (embeddings: in the
             * OpenAI format only) */

            for ( /* void */ ; ctx->prov_next < ctx->api->nproviders;
                 ctx->prov_next++)
            {
                p = &ctx->api->providers[ctx->prov_next];

                if (ctx->op == JG_LLM_EMBEDDINGS
                    && jg_llm_format_get(p->format)->embeddings_path == NULL)
                {
                    continue;
                }

                ctx->pmodel = ngx_http_jwtgate_ai_provider_model(p,
                                  (char *) ctx->model.data);
                if (ctx->pmodel != NULL && p->nkeys) {
                    break;
                }
            }

            if (ctx->prov_next == ctx->api->nproviders) {
                break;
            }

            ctx->prov = &ctx->api->providers[ctx->prov_next++];
            ctx->key_start = ctx->prov->next++;
            ctx->key_tries = 0;
        }

        p = ctx->prov;
        key = NULL;

        while (ctx->key_tries < p->nkeys) {
            key = &p->keys[(ctx->key_start + ctx->key_tries++) % p->nkeys];

            until = ngx_http_jwtgate_ai_key_out(amcf->zone, key->hash, now);
            if (until == 0) {
                break;
            }

            if (ctx->soonest == 0 || until < ctx->soonest) {
                ctx->soonest = until;
            }

            key = NULL;
        }

        if (key == NULL) {
            ctx->prov = NULL;
            continue;
        }

        ctx->key = key;
        ctx->attempts++;

        rc = ngx_http_jwtgate_ai_attempt(r, ctx);

        if (rc == NGX_OK) {
            return NGX_DONE;
        }

        if (rc != NGX_DECLINED) {
            return rc;
        }

        /* the request cannot be put in this provider's format */
        ctx->prov = NULL;
    }

    /* nothing left: what the last failure was */

    if (ctx->unsupported && ctx->last_status == 0) {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_BAD_REQUEST, NULL,
                                         ctx->err, 0);
    }

    if (ctx->last_status == NGX_HTTP_TOO_MANY_REQUESTS) {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_TOO_MANY_REQUESTS, NULL,
                                         "the providers are rate limited",
                                         ctx->last_retry ? ctx->last_retry
                                         : NGX_HTTP_JWTGATE_AI_RETRY_DEFAULT);
    }

    if (ctx->last_status == 0) {
        return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                         NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                         "no provider key is available",
                                         ctx->soonest > now
                                         ? ctx->soonest - now
                                         : NGX_HTTP_JWTGATE_AI_RETRY_DEFAULT);
    }

    return ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                     ctx->last_status
                                     == NGX_HTTP_GATEWAY_TIME_OUT
                                     ? NGX_HTTP_GATEWAY_TIME_OUT
                                     : NGX_HTTP_BAD_GATEWAY,
                                     NULL, "the providers failed", 0);
}


static ngx_int_t
ngx_http_jwtgate_ai_attempt(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx)
{
    char                            *body;
    size_t                           len;
    u_char                          *p;
    ngx_buf_t                       *b;
    ngx_str_t                        value;
    const char                      *path;
    ngx_chain_t                     *cl;
    jg_llm_status                    st;
    ngx_http_request_t              *sr;
    ngx_http_request_body_t         *rb;
    const jg_llm_format_info        *fi;
    ngx_http_post_subrequest_t      *ps;
    ngx_http_jwtgate_ai_loc_conf_t  *alcf;

    if (ctx->pmodel == NULL) {
        return NGX_DECLINED;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_jwtgate_ai_module);
    fi = jg_llm_format_get(ctx->prov->format);
    ctx->used = ctx->prov;

    st = jg_llm_request_build(ctx->req, ctx->prov->format,
                              (char *) ctx->pmodel->target.data, &body, &len,
                              ctx->err);
    if (st == JG_LLM_EUNSUPPORTED || st == JG_LLM_EINVAL) {
        ctx->unsupported = 1;
        return NGX_DECLINED;
    }

    if (st != JG_LLM_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        jg_llm_free(body);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, body, len);
    b->last_buf = 1;
    jg_llm_free(body);

    /* the provider's URL: base URL and the format's path */

    path = ctx->op == JG_LLM_EMBEDDINGS ? fi->embeddings_path : fi->chat_path;

    ctx->url.len = ctx->prov->base_url.len + ngx_strlen(path);
    ctx->url.data = ngx_pnalloc(r->pool, ctx->url.len);
    if (ctx->url.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(ctx->url.data, ctx->prov->base_url.data,
                   ctx->prov->base_url.len);
    ngx_memcpy(p, path, ngx_strlen(path));

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ps->handler = ngx_http_jwtgate_ai_done;
    ps->data = ctx;

    /* this attempt's outcome */

    ctx->status = 0;
    ctx->retry_after = 0;
    ctx->ok = 0;
    ctx->failed = 0;
    ctx->passthrough = 0;
    ctx->broken = 0;
    ctx->eof = 0;
    ctx->ans_len = 0;
    ctx->usage.present = 0;
    ctx->usage.input = 0;
    ctx->usage.output = 0;

    if (ngx_http_subrequest(r, &alcf->pass, NULL, &sr, ps, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->sr = sr;
    ngx_http_set_ctx(sr, ctx, ngx_http_jwtgate_ai_module);

    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_jwtgate_ai_post;

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    cl = ngx_alloc_chain_link(r->pool);
    if (rb == NULL || cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;
    rb->rest = 0;
    sr->request_body = rb;

    /* not one of the client's headers (its token, its cookies) goes to the
     * provider: a list of our own */

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.server = r->headers_in.server;
    sr->headers_in.content_length_n = len;
    sr->headers_in.keep_alive_n = -1;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_jwtgate_ai_add_header(sr, &sr->headers_in.headers,
                                       "Content-Type",
                                       &ngx_http_jwtgate_ai_json)
        != NGX_OK
        || ngx_http_jwtgate_ai_add_header(sr, &sr->headers_in.headers,
                                          "Accept", ctx->stream
                                          ? &ngx_http_jwtgate_ai_sse
                                          : &ngx_http_jwtgate_ai_json)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.len = ngx_strlen(fi->auth_prefix) + ctx->key->secret.len;
    value.data = ngx_pnalloc(r->pool, value.len);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(value.data, fi->auth_prefix, ngx_strlen(fi->auth_prefix));
    ngx_memcpy(p, ctx->key->secret.data, ctx->key->secret.len);

    if (ngx_http_jwtgate_ai_add_header(sr, &sr->headers_in.headers,
                                       fi->auth_header, &value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (fi->extra_header != NULL) {
        value.data = (u_char *) fi->extra_value;
        value.len = ngx_strlen(fi->extra_value);

        if (ngx_http_jwtgate_ai_add_header(sr, &sr->headers_in.headers,
                                           fi->extra_header, &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate_ai: attempt %ui: provider \"%V\" key \"%V\"",
                   ctx->attempts, &ctx->prov->name, &ctx->key->id);

    /* the provider's own timeout, until its answer's header (the internal
     * location's proxy timeouts bound every attempt as well) */

    ctx->timer.handler = ngx_http_jwtgate_ai_timeout;
    ctx->timer.data = ctx;
    ctx->timer.log = r->connection->log;
    ngx_add_timer(&ctx->timer, ctx->prov->timeout);

    return NGX_OK;
}


/* The provider took longer than its timeout_ms to answer: the attempt ends
 * as a proxy read timeout would end it (the upstream's own handler, with
 * its event marked timed out), and the next attempt follows. */

static void
ngx_http_jwtgate_ai_timeout(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_request_t         *sr;
    ngx_http_upstream_t        *u;
    ngx_http_jwtgate_ai_ctx_t  *ctx;

    ctx = ev->data;
    sr = ctx->sr;

    if (sr == NULL || sr->done || ctx->status != 0 || sr->upstream == NULL) {
        return;
    }

    u = sr->upstream;
    c = u->peer.connection;

    if (c == NULL) {
        /* not connected yet (resolving): nginx's timeouts apply */
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "jwtgate_ai: provider \"%V\" did not answer within %M ms",
                  &ctx->prov->name, ctx->prov->timeout);

    /* (the handler runs the posted requests: the parent's next attempt;
     * the request may be gone after it) */

    c->read->timedout = 1;
    c->read->handler(c->read);
}


static ngx_int_t
ngx_http_jwtgate_ai_add_header(ngx_http_request_t *r, ngx_list_t *list,
    const char *name, ngx_str_t *value)
{
    size_t            len;
    ngx_table_elt_t  *h;

    h = ngx_list_push(list);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));

    len = ngx_strlen(name);
    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = len;
    h->value = *value;
    h->lowcase_key = ngx_pnalloc(r->pool, len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(h->lowcase_key, (u_char *) name, len);

    return NGX_OK;
}


/* The subrequest ends (this is called once for its final code and again
 * for an error page nginx made): an error in the middle of an answer that
 * nothing of was sent yet is a failed attempt, not the end of the client's
 * request. */

static ngx_int_t
ngx_http_jwtgate_ai_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_jwtgate_ai_ctx_t  *ctx = data;

    if (sr != ctx->sr) {
        return rc;
    }

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (rc == NGX_ERROR && !sr->connection->error) {
        ctx->broken = 1;
        rc = NGX_OK;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE && ctx->status == 0) {
        /* nginx's own error: no header yet (e.g. a connection refused) */
        ctx->status = rc;
    }

    return rc;
}


/* The main request's write event handler while attempts run: woken when
 * a subrequest ended. */

static void
ngx_http_jwtgate_ai_resume(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_jwtgate_ai_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgate_ai_module);

    if (ctx == NULL || ctx->sr == NULL || !ctx->sr->done) {
        return;
    }

    rc = ngx_http_jwtgate_ai_finish(r, ctx);

    if (rc == NGX_DONE) {
        /* another attempt runs */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_jwtgate_ai_finish(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx)
{
    char                             *out;
    size_t                            out_len;
    ngx_int_t                         rc;
    jg_llm_status                     st;
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_jwtgate_ai_module);
    ctx->sr = NULL;

    if (ctx->header_sent) {
        /* a stream: end it as the client's format ends one, whatever the
         * provider's did */

        (void) jg_llm_stream_finish(ctx->st);
        jg_llm_stream_usage(ctx->st, &ctx->usage);

        if (ctx->out != NULL) {
            ctx->last_out = &ctx->out;
            rc = ngx_http_output_filter(r, ctx->out);
            ctx->out = NULL;

            if (rc == NGX_ERROR) {
                return rc;
            }
        }

        ngx_http_jwtgate_ai_count_tokens(ctx);
        ngx_http_jwtgate_ai_log_usage(ctx);

        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    if (ctx->ok && !ctx->broken && !ctx->failed) {

        if (ctx->passthrough) {
            /* the provider refused the request itself (a 4xx that is not
             * the key's fault): the same answer in the client's format */

            /* (not JSON: not the provider's, e.g. nginx's own page of an
             * internal location that is not there) */

            if (ctx->prov->format == ctx->client_fmt && ctx->json) {
                ctx->client_status = ctx->status;
                rc = ngx_http_jwtgate_ai_send(r, ctx, ctx->status, ctx->ans,
                                              ctx->ans_len, 0);
            } else {
                rc = ngx_http_jwtgate_ai_error(r, ctx, ctx->client_fmt,
                                               ctx->status, NULL,
                                               "the provider refused the "
                                               "request", 0);
            }

            ngx_http_jwtgate_ai_log_usage(ctx);
            return rc;
        }

        st = jg_llm_response_translate(ctx->prov->format, ctx->client_fmt,
                                       ctx->op, (char *) ctx->model.data,
                                       (char *) ctx->ans, ctx->ans_len,
                                       &out, &out_len, &ctx->usage);

        if (st == JG_LLM_OK) {
            ngx_http_jwtgate_ai_count_tokens(ctx);
            ctx->client_status = NGX_HTTP_OK;
            ngx_http_jwtgate_ai_log_usage(ctx);

            rc = ngx_http_jwtgate_ai_send(r, ctx, NGX_HTTP_OK, (u_char *) out,
                                          out_len, 0);
            jg_llm_free(out);

            return rc;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "jwtgate_ai: provider \"%V\" answered a body that is "
                      "not its format's", &ctx->prov->name);
        ctx->status = NGX_HTTP_BAD_GATEWAY;
    }

    /* a failed attempt: was it the key's fault? */

    if (ctx->status == NGX_HTTP_UNAUTHORIZED
        || ctx->status == NGX_HTTP_FORBIDDEN)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "jwtgate_ai: provider \"%V\" refused key \"%V\" (%ui): "
                      "out for %d s", &ctx->prov->name, &ctx->key->id,
                      ctx->status, NGX_HTTP_JWTGATE_AI_KEY_BAN);
        ngx_http_jwtgate_ai_key_ban(amcf->zone, ctx->key->hash,
                                    ngx_time() + NGX_HTTP_JWTGATE_AI_KEY_BAN);

    } else if (ctx->status == NGX_HTTP_TOO_MANY_REQUESTS) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "jwtgate_ai: provider \"%V\" rate limits key \"%V\": "
                      "out for %T s", &ctx->prov->name, &ctx->key->id,
                      ctx->retry_after);
        ngx_http_jwtgate_ai_key_ban(amcf->zone, ctx->key->hash,
                                    ngx_time() + ctx->retry_after);
        ctx->last_retry = ctx->retry_after;

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "jwtgate_ai: provider \"%V\" failed (%ui)",
                      &ctx->prov->name, ctx->status);
    }

    ctx->last_status = ctx->status ? ctx->status : NGX_HTTP_BAD_GATEWAY;

    return ngx_http_jwtgate_ai_next(r, ctx);
}


/* ---- the subrequests' filters ------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_ai_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                  status;
    ngx_http_request_t         *mr;
    ngx_http_jwtgate_ai_ctx_t  *ctx;

    if (r == r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgate_ai_module);

    if (ctx == NULL || ctx->sr != r) {
        return ngx_http_next_header_filter(r);
    }

    /* nothing of the provider's header goes further: the main request's
     * is made from scratch */

    r->header_sent = 1;
    mr = ctx->main;
    status = r->headers_out.status;
    ctx->status = status;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (status >= 200 && status < 300) {

        if (!ctx->stream) {
            ctx->ok = 1;
            return NGX_OK;
        }

        if (r->headers_out.content_type.len < ngx_http_jwtgate_ai_sse.len
            || ngx_strncasecmp(r->headers_out.content_type.data,
                               ngx_http_jwtgate_ai_sse.data,
                               ngx_http_jwtgate_ai_sse.len)
               != 0)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "jwtgate_ai: provider \"%V\" answered a stream "
                          "request without an event stream",
                          &ctx->prov->name);
            ctx->status = NGX_HTTP_BAD_GATEWAY;
            ctx->failed = 1;
            return NGX_OK;
        }

        ctx->st = jg_llm_stream_new(ctx->prov->format, ctx->client_fmt,
                                    (char *) ctx->model.data,
                                    ctx->wants_usage,
                                    ngx_http_jwtgate_ai_emit, ctx);
        if (ctx->st == NULL) {
            return NGX_ERROR;
        }

        ctx->ok = 1;
        ctx->header_sent = 1;
        ctx->client_status = NGX_HTTP_OK;

        if (ngx_http_jwtgate_ai_set_headers(mr, ctx, NGX_HTTP_OK, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        mr->headers_out.content_type = ngx_http_jwtgate_ai_sse;
        mr->headers_out.content_type_len = ngx_http_jwtgate_ai_sse.len;
        mr->headers_out.content_length_n = -1;

        return ngx_http_send_header(mr);
    }

    if (status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN
        || status == NGX_HTTP_TOO_MANY_REQUESTS || status == 408
        || status >= 500)
    {
        if (status == NGX_HTTP_TOO_MANY_REQUESTS) {
            ctx->retry_after = ngx_http_jwtgate_ai_retry_after(r);
        }

        ctx->failed = 1;
        return NGX_OK;
    }

    /* another status: the provider's answer to the request itself */

    ctx->ok = 1;
    ctx->passthrough = 1;
    ctx->json = r->headers_out.content_type.len >= ngx_http_jwtgate_ai_json.len
                && ngx_strncasecmp(r->headers_out.content_type.data,
                                   ngx_http_jwtgate_ai_json.data,
                                   ngx_http_jwtgate_ai_json.len)
                   == 0;

    return NGX_OK;
}


static time_t
ngx_http_jwtgate_ai_retry_after(ngx_http_request_t *sr)
{
    ngx_int_t         n;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0 || h[i].key.len != sizeof("Retry-After") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Retry-After",
                               h[i].key.len) != 0)
        {
            continue;
        }

        n = ngx_atoi(h[i].value.data, h[i].value.len);

        if (n == NGX_ERROR) {
            break;
        }

        return ngx_min(ngx_max(n, NGX_HTTP_JWTGATE_AI_RETRY_MIN),
                       NGX_HTTP_JWTGATE_AI_RETRY_MAX);
    }

    return NGX_HTTP_JWTGATE_AI_RETRY_DEFAULT;
}


static ngx_int_t
ngx_http_jwtgate_ai_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    u_char                     *p;
    size_t                      size, cap;
    ngx_int_t                   rc;
    ngx_chain_t                *cl, *out;
    jg_llm_status               st;
    ngx_http_jwtgate_ai_ctx_t  *ctx;

    if (r == r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgate_ai_module);

    if (ctx == NULL || ctx->sr != r) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {

        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            ctx->eof = 1;
        }

        if (!ngx_buf_in_memory(cl->buf)) {
            if (ngx_buf_size(cl->buf) && !ctx->failed && ctx->ok) {
                /* a provider's answer in a temporary file: the internal
                 * location must have "proxy_buffering off" */
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "jwtgate_ai: an answer was buffered to a "
                              "file; set \"proxy_buffering off\" in the "
                              "internal location");
                ctx->status = NGX_HTTP_BAD_GATEWAY;
                ctx->failed = 1;
            }

            cl->buf->file_pos = cl->buf->file_last;
            continue;
        }

        size = cl->buf->last - cl->buf->pos;
        p = cl->buf->pos;
        cl->buf->pos = cl->buf->last;

        if (size == 0 || ctx->failed || !ctx->ok) {
            continue;
        }

        if (ctx->st != NULL) {
            st = jg_llm_stream_feed(ctx->st, (char *) p, size);

            if (st != JG_LLM_OK) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "jwtgate_ai: provider \"%V\" sent a stream "
                              "that is not its format's", &ctx->prov->name);
                ctx->broken = 1;
                ctx->failed = 1;
            }

            continue;
        }

        /* a whole answer, held until it ends */

        if (ctx->ans_len + size > NGX_HTTP_JWTGATE_AI_MAX_ANSWER) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "jwtgate_ai: provider \"%V\" answered more than "
                          "%uz bytes", &ctx->prov->name,
                          NGX_HTTP_JWTGATE_AI_MAX_ANSWER);
            ctx->status = NGX_HTTP_BAD_GATEWAY;
            ctx->failed = 1;
            continue;
        }

        if (ctx->ans_len + size + 1 > ctx->ans_cap) {
            cap = ngx_max(ctx->ans_cap * 2, ctx->ans_len + size + 1);
            cap = ngx_max(cap, 16384);

            p = ngx_alloc(cap, r->connection->log);
            if (p == NULL) {
                return NGX_ERROR;
            }

            if (ctx->ans != NULL) {
                ngx_memcpy(p, ctx->ans, ctx->ans_len);
                ngx_free(ctx->ans);
            }

            ctx->ans = p;
            ctx->ans_cap = cap;
            p = cl->buf->last - size;
        }

        ngx_memcpy(ctx->ans + ctx->ans_len, p, size);
        ctx->ans_len += size;
        ctx->ans[ctx->ans_len] = '\0';
    }

    if (ctx->st == NULL || ctx->out == NULL) {
        return NGX_OK;
    }

    /* the translated events go out now */

    out = ctx->out;
    ctx->out = NULL;
    ctx->last_out = &ctx->out;

    for (cl = out; cl->next; cl = cl->next) { /* void */ }
    cl->buf->flush = 1;

    rc = ngx_http_next_body_filter(r, out);

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_jwtgate_ai_module);

    return rc;
}


/* The stream translator's output: into buffers of our own, reused once
 * sent. */

static int
ngx_http_jwtgate_ai_emit(void *data, const char *p, size_t len)
{
    size_t                      n;
    ngx_buf_t                  *b;
    ngx_chain_t                *cl;
    ngx_http_jwtgate_ai_ctx_t  *ctx = data;

    while (len) {
        cl = NULL;

        if (ctx->last_out != &ctx->out) {
            /* room in the last buffer? */
            for (cl = ctx->out; cl->next; cl = cl->next) { /* void */ }

            if (cl->buf->end == cl->buf->last) {
                cl = NULL;
            }
        }

        if (cl == NULL) {
            cl = ngx_chain_get_free_buf(ctx->main->pool, &ctx->free);
            if (cl == NULL) {
                return -1;
            }

            b = cl->buf;

            if (b->start == NULL) {
                b->start = ngx_palloc(ctx->main->pool, 4096);
                if (b->start == NULL) {
                    return -1;
                }

                b->end = b->start + 4096;
            }

            b->pos = b->start;
            b->last = b->start;
            b->temporary = 1;
            b->flush = 0;
            b->tag = (ngx_buf_tag_t) &ngx_http_jwtgate_ai_module;

            cl->next = NULL;
            *ctx->last_out = cl;
            ctx->last_out = &cl->next;
        }

        b = cl->buf;
        n = ngx_min(len, (size_t) (b->end - b->last));
        b->last = ngx_cpymem(b->last, p, n);
        p += n;
        len -= n;
    }

    return 0;
}


/* ---- answers ------------------------------------------------------------ */


static ngx_int_t
ngx_http_jwtgate_ai_error(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, jg_llm_format fmt, ngx_uint_t status,
    const char *type, const char *message, time_t retry_after)
{
    char       *body;
    size_t      len;
    ngx_int_t   rc;

    body = jg_llm_error_body(fmt, (int) status, type, message, NULL, NULL,
                             &len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->client_status = status;

    if (ctx->req != NULL) {
        ngx_http_jwtgate_ai_log_usage(ctx);
    }

    rc = ngx_http_jwtgate_ai_send(r, ctx, status, (u_char *) body, len,
                                  retry_after);
    jg_llm_free(body);

    return rc;
}


/* A whole answer of the main request (copied: the caller frees body). */

static ngx_int_t
ngx_http_jwtgate_ai_send(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, ngx_uint_t status, u_char *body,
    size_t len, time_t retry_after)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (r->header_sent) {
        return NGX_ERROR;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    if (ngx_http_jwtgate_ai_set_headers(r, ctx, status, retry_after)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.content_type = ngx_http_jwtgate_ai_json;
    r->headers_out.content_type_len = ngx_http_jwtgate_ai_json.len;
    r->headers_out.content_length_n = len;

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (len) {
        b->last = ngx_cpymem(b->last, body, len);
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_jwtgate_ai_set_headers(ngx_http_request_t *r,
    ngx_http_jwtgate_ai_ctx_t *ctx, ngx_uint_t status, time_t retry_after)
{
    ngx_str_t  value;

    r->headers_out.status = status;

    if (status == NGX_HTTP_OK && ctx->prov != NULL) {
        if (ngx_http_jwtgate_ai_add_header(r, &r->headers_out.headers,
                                           "X-Jwtgate-Provider",
                                           &ctx->prov->name)
            != NGX_OK
            || ngx_http_jwtgate_ai_add_header(r, &r->headers_out.headers,
                                              "X-Jwtgate-Model", &ctx->model)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ctx->stream && status == NGX_HTTP_OK) {
        ngx_str_set(&value, "no-cache");

        if (ngx_http_jwtgate_ai_add_header(r, &r->headers_out.headers,
                                           "Cache-Control", &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* no proxy in front may hold the events back */
        ngx_str_set(&value, "no");

        if (ngx_http_jwtgate_ai_add_header(r, &r->headers_out.headers,
                                           "X-Accel-Buffering", &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (retry_after > 0) {
        value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (value.data == NULL) {
            return NGX_ERROR;
        }

        value.len = ngx_sprintf(value.data, "%T", retry_after) - value.data;

        if (ngx_http_jwtgate_ai_add_header(r, &r->headers_out.headers,
                                           "Retry-After", &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* A request that reached a provider (its last attempt's provider and key);
 * a refusal before any provider call is not usage (the access log has it):
 * jwtgated sums these lines against the limits. */

static void
ngx_http_jwtgate_ai_log_usage(ngx_http_jwtgate_ai_ctx_t *ctx)
{
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    if (ctx->logged || ctx->used == NULL || ctx->key == NULL) {
        return;
    }

    ctx->logged = 1;

    amcf = ngx_http_get_module_main_conf(ctx->main,
                                         ngx_http_jwtgate_ai_module);

    ngx_http_jwtgate_ai_usage_write(amcf, ctx->main->connection->log,
                                    &ctx->client_id, &ctx->japi->id,
                                    &ctx->model, &ctx->used->name,
                                    &ctx->key->id, ctx->client_status,
                                    ctx->usage.present ? ctx->usage.input : 0,
                                    ctx->usage.present ? ctx->usage.output
                                                       : 0);
}


static void
ngx_http_jwtgate_ai_cleanup(void *data)
{
    ngx_http_jwtgate_ai_ctx_t  *ctx = data;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->req != NULL) {
        if (ctx->header_sent && !ctx->logged) {
            /* a stream cut short: what was counted */
            jg_llm_stream_usage(ctx->st, &ctx->usage);
            ngx_http_jwtgate_ai_count_tokens(ctx);
            ngx_http_jwtgate_ai_log_usage(ctx);
        }

        jg_llm_request_free(ctx->req);
        ctx->req = NULL;
    }

    if (ctx->st != NULL) {
        jg_llm_stream_free(ctx->st);
        ctx->st = NULL;
    }

    if (ctx->ans != NULL) {
        ngx_explicit_memzero(ctx->ans, ctx->ans_len);
        ngx_free(ctx->ans);
        ctx->ans = NULL;
    }

    if (ctx->llm != NULL) {
        ngx_http_jwtgate_ai_llm_release(ctx->llm);
        ctx->llm = NULL;
    }
}


/* ---- variables ---------------------------------------------------------- */


static ngx_http_variable_t  ngx_http_jwtgate_ai_vars[] = {

    { ngx_string("jwtgate_ai_url"), NULL,
      ngx_http_jwtgate_ai_url_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_jwtgate_ai_url_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_jwtgate_ai_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgate_ai_module);

    if (ctx == NULL || ctx->url.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ctx->url.data;
    v->len = ctx->url.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_jwtgate_ai_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_jwtgate_ai_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* ---- configuration ------------------------------------------------------ */


static ngx_int_t
ngx_http_jwtgate_ai_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_jwtgate_ai_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_jwtgate_ai_body_filter;

    return NGX_OK;
}


static void *
ngx_http_jwtgate_ai_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_ai_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->secrets_key = { 0, NULL };
     *     amcf->usage_log = NULL;
     *     amcf->zone = NULL;
     */

    return amcf;
}


static void *
ngx_http_jwtgate_ai_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgate_ai_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_ai_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->body_max = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_jwtgate_ai_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_jwtgate_ai_loc_conf_t  *prev = parent;
    ngx_http_jwtgate_ai_loc_conf_t  *conf = child;

    ngx_conf_merge_size_value(conf->body_max, prev->body_max,
                              (size_t) 1024 * 1024);

    return NGX_CONF_OK;
}


/* jwtgate_ai /internal-location; */

static char *
ngx_http_jwtgate_ai(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_ai_loc_conf_t  *alcf = conf;

    ngx_str_t                        *value, name;
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_jwtgate_ai_main_conf_t  *amcf;

    if (alcf->pass.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"jwtgate_ai\" needs the URI of an internal "
                           "location, not \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    alcf->pass = value[1];

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_jwtgate_ai_handler;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgate_ai_module);

    if (amcf->zone == NULL) {
        ngx_str_set(&name, "jwtgate_ai");

        amcf->zone = ngx_shared_memory_add(cf, &name,
                                           NGX_HTTP_JWTGATE_AI_ZONE_SIZE,
                                           &ngx_http_jwtgate_ai_module);
        if (amcf->zone == NULL) {
            return NGX_CONF_ERROR;
        }

        amcf->zone->init = ngx_http_jwtgate_ai_shm_init;
        amcf->zone->data = NULL;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_jwtgate_ai_usage_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_ai_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->usage_log != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_conf_full_name(cf->cycle, &value[1], 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    amcf->usage_log = ngx_conf_open_file(cf->cycle, &value[1]);
    if (amcf->usage_log == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_jwtgate_ai_exit_process(ngx_cycle_t *cycle)
{
    /* the usage lines held */
    ngx_http_jwtgate_ai_usage_flush(cycle->log);

    /* the provider keys of this worker: wiped */
    ngx_http_jwtgate_ai_llm_exit();
}
