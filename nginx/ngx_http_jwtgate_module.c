
/*
 * ngx_http_jwtgate_module: the request. The access phase handler and its
 * steps, the RFC 6750 responses, the forwarded claim headers, and the
 * Deprecation and Sunset response headers of deprecated APIs. The module's
 * definition and directives are in ngx_http_jwtgate_conf.c.
 *
 * Per request (access phase): route the URI to an API of the snapshot and
 * check its lifecycle state; take the bearer token; look the token up in
 * the verified-token cache, or open it with libjwtgate (decrypt, verify,
 * validate the claims) and cache the claims; check what the token is bound
 * to (a DPoP proof, a client certificate: ngx_http_jwtgate_dpop.c); check
 * revocation, the client's subscription, the audience and the scopes
 * against the current snapshot; evaluate jwtgate_require; set the
 * forwarded headers. Nothing waits: every step is computation on data
 * already in memory.
 *
 * Each decision is also written to the debug log (NGX_LOG_DEBUG_HTTP), with
 * its reason and never the token.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_jwtgate_module.h"


#define NGX_HTTP_JWTGATE_GONE  410


typedef struct {
    ngx_uint_t                    status;
    const char                   *error;        /* RFC 6750 code, or NULL */
    const char                   *description;
    ngx_str_t                     scope;
} ngx_http_jwtgate_refusal_t;


static ngx_int_t ngx_http_jwtgate_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_jwtgate_decide(ngx_http_jwtgate_ctx_t *ctx,
    ngx_int_t status);
static ngx_http_jwtgate_ctx_t *ngx_http_jwtgate_ctx_create(
    ngx_http_request_t *r);
static void ngx_http_jwtgate_ctx_cleanup(void *data);
static ngx_int_t ngx_http_jwtgate_route(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref, const char **reason);
static ngx_int_t ngx_http_jwtgate_token(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx);
static ngx_int_t ngx_http_jwtgate_b64token_check(ngx_str_t *token);
static ngx_int_t ngx_http_jwtgate_open(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    jg_err *err);
static ngx_int_t ngx_http_jwtgate_api_policy(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref, const char **reason);
static ngx_int_t ngx_http_jwtgate_requires(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_uint_t *status);
static ngx_int_t ngx_http_jwtgate_forward(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx);
static ngx_int_t ngx_http_jwtgate_refuse(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref, const char *reason, jg_err err);
static ngx_int_t ngx_http_jwtgate_challenge(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref);
static ngx_table_elt_t *ngx_http_jwtgate_challenge_add(ngx_http_request_t *r,
    const char *scheme, ngx_str_t *name, ngx_str_t *value,
    ngx_http_jwtgate_refusal_t *ref);
static ngx_int_t ngx_http_jwtgate_retry_after(ngx_http_request_t *r,
    time_t seconds);
static const char *ngx_http_jwtgate_describe(jg_err err);
static ngx_int_t ngx_http_jwtgate_has_scope(ngx_str_t *list, ngx_str_t *s);
static ngx_int_t ngx_http_jwtgate_list_has(ngx_str_t *list, ngx_uint_t n,
    ngx_str_t *s);
static ngx_int_t ngx_http_jwtgate_sub_has(ngx_http_jwtgate_api_t *api,
    ngx_http_jwtgate_sub_t *sub, ngx_str_t *s);
static ngx_int_t ngx_http_jwtgate_claim_str(jg_claims *claims,
    const char *name, ngx_str_t *out);
static ngx_int_t ngx_http_jwtgate_join(ngx_pool_t *pool, ngx_str_t *list,
    ngx_uint_t n, ngx_str_t *out);
static void ngx_http_jwtgate_log_jti(ngx_http_jwtgate_ctx_t *ctx,
    ngx_str_t *jti);
static u_char *ngx_http_jwtgate_quote(u_char *p, u_char *s, size_t len);
#if (NGX_DEBUG)
static void ngx_http_jwtgate_debug_key_miss(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, jg_jwks *decrypt, jg_jwks *verify,
    jg_err err);
#endif

static ngx_int_t ngx_http_jwtgate_header_filter(ngx_http_request_t *r);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/* Installs the access handler and the header filter (postconfiguration). */

ngx_int_t
ngx_http_jwtgate_init_handlers(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_jwtgate_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_jwtgate_header_filter;

    return NGX_OK;
}


/* ---- the access handler ------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_decide(ngx_http_jwtgate_ctx_t *ctx, ngx_int_t status)
{
    ngx_http_jwtgate_metrics_request(ctx, status);

    ctx->status = status;
    return status;
}


static ngx_int_t
ngx_http_jwtgate_handler(ngx_http_request_t *r)
{
    jg_err                        err;
    ngx_int_t                     rc;
    ngx_uint_t                    status;
    const char                   *reason;
    ngx_http_jwtgate_ctx_t       *ctx;
    ngx_http_jwtgate_refusal_t    ref;
    ngx_http_jwtgate_loc_conf_t  *jlcf;

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_jwtgate_module);

    if (jlcf->realm == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgate_module);

    if (ctx != NULL) {
        /* decided before in this location */
        return ctx->status;
    }

    if (jlcf->source == NULL && jlcf->keys == NULL && jlcf->trust == NULL) {
        /* fail closed */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "jwtgate: no keys here: \"jwtgate\" is on but no "
                      "\"jwtgate_snapshot\", \"jwtgate_key_file\" or "
                      "\"jwtgate_issuer_*\" is set");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_jwtgate_ctx_create(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&ref, sizeof(ngx_http_jwtgate_refusal_t));

    /* the API and its lifecycle */

    if (jlcf->source != NULL
        && ngx_http_jwtgate_route(r, jlcf, ctx, &ref, &reason) != NGX_OK)
    {
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref, reason, JG_OK);
    }

    /* the token */

    rc = ngx_http_jwtgate_token(r, jlcf, ctx);

    if (rc == NGX_ERROR) {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (rc == NGX_DECLINED) {
        /* RFC 6750 section 3.1: no error code without a token */
        ref.status = NGX_HTTP_UNAUTHORIZED;
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                       "no bearer token", JG_OK);
    }

    /* its issuer, when the location trusts issuers by their "iss" */

    if (rc == NGX_OK && jlcf->trust != NULL) {
        rc = ngx_http_jwtgate_issuer_pick(r, jlcf, ctx, &ref.status,
                                          &ref.error, &ref.description,
                                          &reason);

        if (rc == NGX_ERROR) {
            return ngx_http_jwtgate_decide(ctx,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        if (rc == NGX_DECLINED) {
            return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref, reason,
                                           JG_OK);
        }
    }

    err = JG_OK;

    if (rc == NGX_OK) {
        /* NGX_HTTP_BAD_REQUEST too: not a b64token */
        rc = ngx_http_jwtgate_open(r, jlcf, ctx, &err);
    }

    if (rc == NGX_HTTP_BAD_REQUEST) {
        ref.status = NGX_HTTP_BAD_REQUEST;
        ref.error = "invalid_request";
        ref.description = "the Authorization header is not a bearer token";
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                       "malformed bearer token", JG_OK);
    }

    if (rc == NGX_ERROR) {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (rc == NGX_DECLINED) {
        ref.status = NGX_HTTP_UNAUTHORIZED;
        ref.error = "invalid_token";
        ref.description = ngx_http_jwtgate_describe(err);
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref, jg_strerror(err),
                                       err);
    }

    if (ngx_http_jwtgate_issuer_audience(r, ctx) != NGX_OK) {
        ref.status = NGX_HTTP_UNAUTHORIZED;
        ref.error = "invalid_token";
        ref.description = "the access token is not for this resource";
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                       "the token's audience is none of "
                                       "its issuer's here", JG_OK);
    }

    /* its binding: a DPoP proof, a client certificate */

    rc = ngx_http_jwtgate_binding(r, jlcf, ctx, &ref.status, &ref.error,
                                  &ref.description, &reason);

    if (rc == NGX_ERROR) {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref, reason, JG_OK);
    }

    /* the API policy, the location's scopes, jwtgate_require */

    rc = ngx_http_jwtgate_api_policy(r, jlcf, ctx, &ref, &reason);

    if (rc == NGX_ERROR) {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref, reason, JG_OK);
    }

    rc = ngx_http_jwtgate_requires(r, jlcf, &status);

    if (rc == NGX_ERROR) {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (rc == NGX_DECLINED) {
        ref.status = status;

        if (status == NGX_HTTP_UNAUTHORIZED) {
            ref.error = "invalid_token";
            ref.description = "the access token does not meet a requirement "
                              "of this resource";
        }

        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                       "a jwtgate_require value is empty "
                                       "or 0", JG_OK);
    }

    if (ngx_http_jwtgate_forward(r, jlcf, ctx) != NGX_OK) {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: access granted");

    return ngx_http_jwtgate_decide(ctx, NGX_OK);
}


/* ---- the request's state ------------------------------------------------ */


/* The context holds a reference to the snapshot and the verified claims;
 * the request pool's cleanup releases them however the request ends. */

static ngx_http_jwtgate_ctx_t *
ngx_http_jwtgate_ctx_create(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_jwtgate_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_jwtgate_ctx_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_jwtgate_module);

    return ctx;
}


static void
ngx_http_jwtgate_ctx_cleanup(void *data)
{
    ngx_http_jwtgate_ctx_t  *ctx = data;

    /* the JSON trees that the variables made (ngx_http_jwtgate_variables.c) */

    if (ctx->claims_tree != NULL) {
        json_decref(ctx->claims_tree);
        ctx->claims_tree = NULL;
    }

    if (ctx->header_tree != NULL) {
        json_decref(ctx->header_tree);
        ctx->header_tree = NULL;
    }

    if (ctx->recent != NULL) {
        /* the claims are the recent token's */
        ngx_http_jwtgate_recent_release(ctx->recent);
        ctx->recent = NULL;

    } else if (ctx->claims != NULL) {
        jg_claims_free(ctx->claims);
    }

    ctx->claims = NULL;

    if (ctx->snap != NULL) {
        ngx_http_jwtgate_snap_release(ctx->snap);
        ctx->snap = NULL;
    }
}


/* ---- the steps ---------------------------------------------------------- */


#if (NGX_DEBUG)
static const char  *ngx_http_jwtgate_api_states[] = {
    "draft", "published", "deprecated", "retired"
};
#endif

/*
 * The API of the snapshot that the URI belongs to, and whether its
 * lifecycle state lets requests through. NGX_OK, or NGX_DECLINED (*ref and
 * *reason say why).
 */

static ngx_int_t
ngx_http_jwtgate_route(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref, const char **reason)
{
    ngx_http_jwtgate_api_t  *api;

    ctx->source = jlcf->source;
    ctx->snap = ngx_http_jwtgate_snap_acquire(jlcf->source);

    api = ngx_http_jwtgate_snap_route(ctx->snap, &r->uri);

    if (api == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "jwtgate: snapshot version %L routes no API here",
                       ctx->snap->version);

        ref->status = NGX_HTTP_NOT_FOUND;
        *reason = "no API at this path";
        return NGX_DECLINED;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: snapshot version %L routes to API \"%V\" at "
                   "\"%V\", %s", ctx->snap->version, &api->id,
                   &api->base_path,
                   api->state <= NGX_HTTP_JWTGATE_API_RETIRED
                   ? ngx_http_jwtgate_api_states[api->state] : "unknown");

    ctx->api = api;

    switch (api->state) {

    case NGX_HTTP_JWTGATE_API_PUBLISHED:
        return NGX_OK;

    case NGX_HTTP_JWTGATE_API_DEPRECATED:
        ctx->deprecated = 1;
        ctx->sunset = api->sunset;
        ctx->deprecated_at = api->deprecated_at;

        if (api->sunset != 0 && api->sunset <= ngx_time()) {
            ref->status = NGX_HTTP_JWTGATE_GONE;
            *reason = "the API is past its sunset";
            return NGX_DECLINED;
        }

        return NGX_OK;

    case NGX_HTTP_JWTGATE_API_RETIRED:
        ref->status = NGX_HTTP_JWTGATE_GONE;
        *reason = "the API is retired";
        return NGX_DECLINED;

    default:
        ref->status = NGX_HTTP_NOT_FOUND;
        *reason = "the API is not published";
        return NGX_DECLINED;
    }
}


/*
 * The characters of an RFC 6750 b64token, one byte each (0x80 - 0xff are
 * not): a token is often over a kilobyte and is checked on every request
 * that the cache does not answer, eight bytes a step (see
 * ngx_http_jwtgate_b64token_check()).
 */

static u_char  ngx_http_jwtgate_b64token[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, /* 20 + - . / */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 30 0 - 9 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 A - O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 50 P - Z _ */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 a - o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0  /* 70 p - z ~ */
};


/*
 * The access token into ctx->token: from token=$variable, or the
 * Authorization header (RFC 6750 section 2.1; RFC 9449 section 7.1 sets
 * ctx->dpop_scheme). NGX_OK, NGX_DECLINED (none: another scheme or
 * nothing), NGX_HTTP_BAD_REQUEST (the scheme and nothing) or NGX_ERROR.
 * Whether it is a b64token is checked later, by ngx_http_jwtgate_open().
 */

static ngx_int_t
ngx_http_jwtgate_token(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx)
{
    u_char     *p, *last;
    size_t      len;
    ngx_str_t   value;

    if (jlcf->token != NULL) {
        if (ngx_http_complex_value(r, jlcf->token, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len == 0) {
            return NGX_DECLINED;
        }

        p = value.data;
        last = value.data + value.len;

    } else {
        if (r->headers_in.authorization == NULL) {
            return NGX_DECLINED;
        }

        value = r->headers_in.authorization->value;

        /* "Bearer", or "DPoP" (RFC 9449 section 7.1) where it is on */

        if (value.len >= sizeof("Bearer") - 1
            && ngx_strncasecmp(value.data, (u_char *) "Bearer",
                               sizeof("Bearer") - 1) == 0)
        {
            len = sizeof("Bearer") - 1;

        } else if (jlcf->dpop != NGX_HTTP_JWTGATE_DPOP_OFF
                   && value.len >= sizeof("DPoP") - 1
                   && ngx_strncasecmp(value.data, (u_char *) "DPoP",
                                      sizeof("DPoP") - 1) == 0)
        {
            len = sizeof("DPoP") - 1;
            ctx->dpop_scheme = 1;

        } else {
            /* another authentication scheme */
            return NGX_DECLINED;
        }

        if (value.len > len && value.data[len] != ' ') {
            ctx->dpop_scheme = 0;
            return NGX_DECLINED;
        }

        p = value.data + len;
        last = value.data + value.len;

        while (p < last && *p == ' ') {
            p++;
        }

        if (p == last) {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    ctx->token.data = p;
    ctx->token.len = last - p;

    return NGX_OK;
}


/*
 * b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *
 * NGX_OK or NGX_HTTP_BAD_REQUEST.
 */

static ngx_int_t
ngx_http_jwtgate_b64token_check(ngx_str_t *token)
{
    u_char  *p, *last;

    p = token->data;
    last = token->data + token->len;

    /* eight bytes a step without a branch between them, then one by one
     * from the step that holds the first other byte, if any */

    while (last - p >= 8
           && (ngx_http_jwtgate_b64token[p[0]]
               & ngx_http_jwtgate_b64token[p[1]]
               & ngx_http_jwtgate_b64token[p[2]]
               & ngx_http_jwtgate_b64token[p[3]]
               & ngx_http_jwtgate_b64token[p[4]]
               & ngx_http_jwtgate_b64token[p[5]]
               & ngx_http_jwtgate_b64token[p[6]]
               & ngx_http_jwtgate_b64token[p[7]]))
    {
        p += 8;
    }

    while (p < last && ngx_http_jwtgate_b64token[*p]) {
        p++;
    }

    while (p < last && *p == '=') {
        p++;
    }

    return p == last && token->len ? NGX_OK : NGX_HTTP_BAD_REQUEST;
}


/*
 * The verified claims into ctx->claims: from the cache, or by opening the
 * token. NGX_OK, NGX_DECLINED (the token is refused: *err says why),
 * NGX_HTTP_BAD_REQUEST (not a b64token) or NGX_ERROR.
 *
 * A cache hit is not checked for b64token characters: its key is the
 * SHA-256 of these very bytes, stored only after they passed that check and
 * the library (the same bytes, whichever way they came). Any other token is
 * checked before the library reads it.
 */

static ngx_int_t
ngx_http_jwtgate_open(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    jg_err *err)
{
    time_t                    expires;
    int64_t                   exp;
    jg_jwks                  *decrypt, *verify;
    ngx_str_t                 cached, jti, client_id;
    const char               *s;
    jg_open_policy            policy;
    ngx_http_jwtgate_snap_t  *snap;
    u_char                    digest[NGX_HTTP_JWTGATE_DIGEST_LEN];

    snap = ctx->snap;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: bearer token of %uz bytes", ctx->token.len);

    if (jlcf->cache == NULL || ctx->trust != NULL) {
        /* an issuer's keys change under the cache's key: not cached */
        ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_BYPASS;

    } else {
        ctx->recent = ngx_http_jwtgate_recent_get(jlcf, snap, &ctx->token,
                                                  &ctx->claims,
                                                  &ctx->payload);

        if (ctx->recent != NULL) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "jwtgate: cache \"%V\": hit (a recent token of "
                           "this worker)", &jlcf->cache->shm.name);

            ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_HIT;
            return NGX_OK;
        }

        if (ngx_http_jwtgate_cache_digest(jlcf, snap, &ctx->token, digest,
                                          r->connection->log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_jwtgate_cache_get(jlcf->cache, digest, r->pool, &cached,
                                       &expires, r->connection->log)
            == NGX_OK)
        {
            if (jg_claims_parse((char *) cached.data, cached.len, NULL,
                                &ctx->claims) == JG_OK)
            {
                ctx->payload = cached;
                ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_HIT;

                /* NULL (no memory): the claims stay the request's */
                ctx->recent = ngx_http_jwtgate_recent_put(jlcf, snap,
                                                          &ctx->token,
                                                          expires,
                                                          ctx->claims,
                                                          &ctx->payload);
                return NGX_OK;
            }

            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "jwtgate: cached claims unreadable, "
                           "opening the token");

            ctx->claims = NULL;
        }

        ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_MISS;
    }

    if (ngx_http_jwtgate_b64token_check(&ctx->token) != NGX_OK) {
        /* refused before the cache was of any concern, as ever */
        ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_NONE;
        return NGX_HTTP_BAD_REQUEST;
    }

    policy = jlcf->policy;

    if (snap != NULL) {
        policy.jwt.issuer = (char *) snap->issuer.data;

        if (policy.jwt.algs == 0) {
            policy.jwt.algs = snap->sig_algs;
        }

        if (policy.key_algs == 0) {
            policy.key_algs = snap->key_algs;
        }

        decrypt = snap->decrypt_keys;
        verify = snap->verify_keys;

    } else if (ctx->trust != NULL) {
        /* the key files' keys decrypt, the issuer's verify */
        decrypt = jlcf->keys;
        ngx_http_jwtgate_issuer_policy(ctx, &policy, &verify);

    } else {
        decrypt = jlcf->keys;
        verify = jlcf->verify_keys;
    }

    *err = jg_access_token_open((char *) ctx->token.data, ctx->token.len,
                                decrypt, verify, &policy, &ctx->claims);

    if (*err != JG_OK) {
        ctx->claims = NULL;

        /* an unknown kid: the issuer may have rotated */
        ngx_http_jwtgate_issuer_failed(r, ctx, *err);

#if (NGX_DEBUG)
        if (ngx_http_jwtgate_key_error(*err)) {
            ngx_http_jwtgate_debug_key_miss(r, ctx, decrypt, verify, *err);
        }
#endif

        return *err == JG_ERR_NOMEM ? NGX_ERROR : NGX_DECLINED;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: token opened and its claims valid");

    if (jlcf->cache == NULL || ctx->trust != NULL) {
        return NGX_OK;
    }

    /* cache the claims until "exp" (always present: the policy requires it),
     * or max_ttl */

    if (jg_claims_get_int(ctx->claims, "exp", &exp) != JG_OK) {
        return NGX_OK;
    }

    expires = exp > NGX_MAX_TIME_T_VALUE ? NGX_MAX_TIME_T_VALUE
                                          : (time_t) exp;

    if (jlcf->cache_max_ttl && expires > ngx_time() + jlcf->cache_max_ttl) {
        expires = ngx_time() + jlcf->cache_max_ttl;
    }

    if (ngx_http_jwtgate_payload(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&jti, "");
    ngx_str_set(&client_id, "");

    if (jg_claims_get_string(ctx->claims, "jti", &s) == JG_OK) {
        jti.data = (u_char *) s;
        jti.len = ngx_strlen(s);
    }

    if (jg_claims_get_string(ctx->claims, "client_id", &s) == JG_OK) {
        client_id.data = (u_char *) s;
        client_id.len = ngx_strlen(s);
    }

    ngx_http_jwtgate_cache_put(jlcf->cache, digest, expires, &jti,
                               &client_id, &ctx->payload,
                               r->connection->log);

    ctx->recent = ngx_http_jwtgate_recent_put(jlcf, snap, &ctx->token,
                                              expires, ctx->claims,
                                              &ctx->payload);

    return NGX_OK;
}


#if (NGX_DEBUG)

/*
 * Why no key fitted: the "alg" and "kid" that the token's (outer) header
 * names, unverified, and what the key sets offered. Header values are
 * shortened; a key's material is never written.
 */

static void
ngx_http_jwtgate_debug_key_miss(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, jg_jwks *decrypt, jg_jwks *verify,
    jg_err err)
{
    ngx_str_t                     name, alg, kid;
    ngx_log_t                    *log;
    ngx_http_jwtgate_loc_conf_t  *jlcf;

    log = r->connection->log;

    if (!(log->log_level & NGX_LOG_DEBUG_HTTP)) {
        return;
    }

    jlcf = ngx_http_get_module_loc_conf(r, ngx_http_jwtgate_module);

    ngx_str_set(&name, "alg");

    if (ngx_http_jwtgate_header_member(r, ctx, &name, &alg) != NGX_OK) {
        ngx_str_set(&alg, "-");
    }

    ngx_str_set(&name, "kid");

    if (ngx_http_jwtgate_header_member(r, ctx, &name, &kid) != NGX_OK) {
        ngx_str_set(&kid, "-");
    }

    alg.len = ngx_min(alg.len, 64);
    kid.len = ngx_min(kid.len, 64);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "jwtgate: no key fits the token (%s): its header names "
                   "alg \"%V\", kid \"%V\"", jg_err_name(err), &alg, &kid);

    /* the key files' set, of which verify is a part, or a snapshot's two,
     * or the key files' and an issuer's */
    if (decrypt != jlcf->keys || ctx->trust != NULL) {
        ngx_http_jwtgate_keys_debug(log, "decryption", decrypt);
        ngx_http_jwtgate_keys_debug(log, "verification", verify);

    } else {
        ngx_http_jwtgate_keys_debug(log, "jwtgate_key_file", decrypt);
    }
}

#endif


static ngx_int_t
ngx_http_jwtgate_claim_str(jg_claims *claims, const char *name,
    ngx_str_t *out)
{
    const char  *s;

    if (jg_claims_get_string(claims, name, &s) != JG_OK) {
        return NGX_DECLINED;
    }

    out->data = (u_char *) s;
    out->len = ngx_strlen(s);

    return NGX_OK;
}


/* Whether the space-separated `list` holds the scope `s` as a whole token:
 * the library's matcher, the same rule as jg_jwt_policy's scopes. */

static ngx_int_t
ngx_http_jwtgate_has_scope(ngx_str_t *list, ngx_str_t *s)
{
    return jg_scope_contains((const char *) list->data, list->len,
                             (const char *) s->data, s->len);
}


static ngx_int_t
ngx_http_jwtgate_list_has(ngx_str_t *list, ngx_uint_t n, ngx_str_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (list[i].len == s->len
            && ngx_memcmp(list[i].data, s->data, s->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether the subscription grants `s` now: it approved it and the API still
 * defines it. jwtgated trims subscriptions when an API drops a scope; this
 * is the second line, for a snapshot from a jwtgated that did not.
 */

static ngx_int_t
ngx_http_jwtgate_sub_has(ngx_http_jwtgate_api_t *api,
    ngx_http_jwtgate_sub_t *sub, ngx_str_t *s)
{
    return ngx_http_jwtgate_sub_grants(sub, s)
           && ngx_http_jwtgate_list_has(api->scopes, api->nscopes, s);
}


/* "a b c" from a list of scopes, for scope="..." */

static ngx_int_t
ngx_http_jwtgate_join(ngx_pool_t *pool, ngx_str_t *list, ngx_uint_t n,
    ngx_str_t *out)
{
    u_char      *p;
    ngx_uint_t   i;

    out->len = n ? n - 1 : 0;

    for (i = 0; i < n; i++) {
        out->len += list[i].len;
    }

    p = ngx_pnalloc(pool, out->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, list[i].data, list[i].len);
    }

    return NGX_OK;
}


/*
 * What the snapshot says about this token and API, then the location's
 * required scopes. NGX_OK, NGX_DECLINED (*ref and *reason say why) or
 * NGX_ERROR.
 */

static ngx_int_t
ngx_http_jwtgate_api_policy(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref, const char **reason)
{
    size_t                    i, n;
    ngx_str_t                 jti, client_id, scope, *req;
    ngx_uint_t                k, found;
    const char               *aud;
    ngx_http_jwtgate_api_t   *api;
    ngx_http_jwtgate_sub_t   *sub, found_sub;
    ngx_http_jwtgate_snap_t  *snap;

    snap = ctx->snap;
    api = ctx->api;
    sub = NULL;

    ref->status = NGX_HTTP_UNAUTHORIZED;
    ref->error = "invalid_token";

    if (ngx_http_jwtgate_claim_str(ctx->claims, "scope", &scope) != NGX_OK) {
        ngx_str_set(&scope, "");
    }

    if (snap != NULL) {

        if (ngx_http_jwtgate_claim_str(ctx->claims, "jti", &jti) != NGX_OK) {
            ref->description = "the access token has no jti";
            *reason = "the token has no \"jti\" claim";
            return NGX_DECLINED;
        }

        if (ngx_http_jwtgate_snap_revoked(snap, jti.data, jti.len)) {
            ref->description = "the access token was revoked";
            *reason = "the token is revoked";
            return NGX_DECLINED;
        }

        if (ngx_http_jwtgate_claim_str(ctx->claims, "client_id", &client_id)
            != NGX_OK)
        {
            ref->description = "the access token has no client_id";
            *reason = "the token has no \"client_id\" claim";
            return NGX_DECLINED;
        }

        if (ngx_http_jwtgate_snap_suspended(snap, client_id.data,
                                            client_id.len))
        {
            ref->description = "the client is suspended";
            *reason = "the client is suspended";
            return NGX_DECLINED;
        }

        n = jg_claims_aud_count(ctx->claims);

        for (i = 0; i < n; i++) {
            aud = jg_claims_aud_at(ctx->claims, i);

            if (aud != NULL && ngx_strlen(aud) == api->audience.len
                && ngx_memcmp(aud, api->audience.data, api->audience.len)
                   == 0)
            {
                break;
            }
        }

        if (i == n) {
            ref->description = "the access token is not meant for this API";
            *reason = "\"aud\" does not hold the API's audience";
            return NGX_DECLINED;
        }

        if (ngx_http_jwtgate_snap_subscription(snap, &client_id, api,
                                               &found_sub)
            != NGX_OK)
        {
            ref->description = "the client has no approved subscription "
                               "to this API";
            *reason = "the client has no approved subscription to the API";
            return NGX_DECLINED;
        }

        sub = &found_sub;

        /* some scope of the API that the token holds and the subscription
         * still approves */

        if (api->nscopes) {
            found = 0;

            for (k = 0; k < api->nscopes && !found; k++) {
                found = ngx_http_jwtgate_has_scope(&scope, &api->scopes[k])
                        && ngx_http_jwtgate_sub_has(api, sub, &api->scopes[k]);
            }

            if (!found) {
                ref->status = NGX_HTTP_FORBIDDEN;
                ref->error = "insufficient_scope";
                ref->description = "the access token holds no approved "
                                   "scope of this API";
                *reason = "no approved scope of the API in the token";

                return ngx_http_jwtgate_join(r->pool, api->scopes,
                                             api->nscopes, &ref->scope)
                       == NGX_OK ? NGX_DECLINED : NGX_ERROR;
            }
        }
    }

    if (jlcf->scopes != NULL) {
        req = jlcf->scopes->elts;

        for (k = 0; k < jlcf->scopes->nelts; k++) {
            if (!ngx_http_jwtgate_has_scope(&scope, &req[k])
                || (sub != NULL
                    && !ngx_http_jwtgate_sub_has(api, sub, &req[k])))
            {
                ref->status = NGX_HTTP_FORBIDDEN;
                ref->error = "insufficient_scope";
                ref->description = "the access token lacks a scope this "
                                   "resource requires";
                *reason = "a scope of jwtgate_scope is missing";

                return ngx_http_jwtgate_join(r->pool, req,
                                             jlcf->scopes->nelts,
                                             &ref->scope)
                       == NGX_OK ? NGX_DECLINED : NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* jwtgate_require: every value non-empty and not "0". */

static ngx_int_t
ngx_http_jwtgate_requires(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_uint_t *status)
{
    ngx_str_t                    val;
    ngx_uint_t                   i, k;
    ngx_http_complex_value_t    *cv;
    ngx_http_jwtgate_require_t  *req;

    if (jlcf->requires == NULL) {
        return NGX_OK;
    }

    req = jlcf->requires->elts;

    for (i = 0; i < jlcf->requires->nelts; i++) {
        cv = req[i].values->elts;

        for (k = 0; k < req[i].values->nelts; k++) {
            if (ngx_http_complex_value(r, &cv[k], &val) != NGX_OK) {
                return NGX_ERROR;
            }

            if (val.len == 0 || (val.len == 1 && val.data[0] == '0')) {
                *status = req[i].error;
                return NGX_DECLINED;
            }
        }
    }

    return NGX_OK;
}


/*
 * Forwarded claims replace whatever the client sent under those names, and
 * Authorization goes when jwtgate_strip_authorization is on. Removing a
 * header means rebuilding the list (nginx lists cannot delete); only done
 * when the client actually sent one of those headers.
 */

static ngx_int_t
ngx_http_jwtgate_forward(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_str_t                    value;
    ngx_uint_t                   i, k, nfwd, count, drop, rebuild;
    ngx_list_t                   old;
    ngx_list_part_t             *part;
    ngx_table_elt_t             *h, *nh, *auth;
    ngx_http_jwtgate_forward_t  *fwd;

    nfwd = jlcf->forward ? jlcf->forward->nelts : 0;
    fwd = nfwd ? jlcf->forward->elts : NULL;
    auth = jlcf->strip_authorization ? r->headers_in.authorization : NULL;

    if (nfwd == 0 && auth == NULL) {
        return NGX_OK;
    }

    rebuild = auth != NULL;
    count = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            count++;

            for (k = 0; k < nfwd; k++) {
                if (h[i].key.len == fwd[k].lowcase.len
                    && ngx_strncmp(h[i].lowcase_key, fwd[k].lowcase.data,
                                   fwd[k].lowcase.len) == 0)
                {
                    rebuild = 1;
                }
            }
        }
    }

    if (rebuild) {
        old = r->headers_in.headers;

        if (ngx_list_init(&r->headers_in.headers, r->pool, count + nfwd + 1,
                          sizeof(ngx_table_elt_t))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (part = &old.part; part; part = part->next) {
            h = part->elts;

            for (i = 0; i < part->nelts; i++) {
                drop = &h[i] == auth;

                for (k = 0; k < nfwd && !drop; k++) {
                    drop = h[i].key.len == fwd[k].lowcase.len
                           && ngx_strncmp(h[i].lowcase_key,
                                          fwd[k].lowcase.data,
                                          fwd[k].lowcase.len) == 0;
                }

                if (drop) {
                    continue;
                }

                nh = ngx_list_push(&r->headers_in.headers);
                if (nh == NULL) {
                    return NGX_ERROR;
                }

                *nh = h[i];
            }
        }

        if (auth != NULL) {
            r->headers_in.authorization = NULL;
        }
    }

    for (k = 0; k < nfwd; k++) {
        rc = ngx_http_jwtgate_claim_value(r, ctx, fwd[k].path, &value);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            continue;
        }

        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        nh->hash = fwd[k].hash;
        nh->key = fwd[k].header;
        nh->lowcase_key = fwd[k].lowcase.data;
        nh->value = value;
    }

    return NGX_OK;
}


/* ---- refusals ----------------------------------------------------------- */


/* The jti of a verified token, for the log, when it is printable. */

static void
ngx_http_jwtgate_log_jti(ngx_http_jwtgate_ctx_t *ctx, ngx_str_t *jti)
{
    size_t       i;
    const char  *s;

    ngx_str_set(jti, "-");

    if (ctx->claims == NULL
        || jg_claims_get_string(ctx->claims, "jti", &s) != JG_OK)
    {
        return;
    }

    for (i = 0; i < 128 && s[i] != '\0'; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\') {
            return;
        }
    }

    if (s[i] == '\0') {
        jti->data = (u_char *) s;
        jti->len = i;
    }
}


static ngx_int_t
ngx_http_jwtgate_refuse(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref, const char *reason, jg_err err)
{
    ngx_str_t  jti;

    ngx_http_jwtgate_log_jti(ctx, &jti);

    /* for access logs ($jwtgate_refusal, $jwtgate_error): the same words as
     * the error log's line, never the token */
    ctx->refusal.len = ngx_strlen(reason);
    ctx->refusal.data = ngx_pnalloc(r->pool, ctx->refusal.len);
    if (ctx->refusal.data == NULL) {
        ctx->refusal.len = 0;

    } else {
        ngx_memcpy(ctx->refusal.data, reason, ctx->refusal.len);
    }

    if (ref->error) {
        ctx->error.data = (u_char *) ref->error;
        ctx->error.len = ngx_strlen(ref->error);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: refused with %ui (%s): %s", ref->status,
                   ref->error ? ref->error : "no error code", reason);

    if (err != JG_OK) {
        ngx_http_jwtgate_metrics_token_error(err);

        ngx_log_error(jlcf->log_level, r->connection->log, 0,
                      "jwtgate: %ui: %s (%s), jti \"%V\"",
                      ref->status, reason, jg_err_name(err), &jti);

    } else {
        ngx_log_error(jlcf->log_level, r->connection->log, 0,
                      "jwtgate: %ui: %s, jti \"%V\"",
                      ref->status, reason, &jti);
    }

    if (ref->status == NGX_HTTP_UNAUTHORIZED
        || ref->status == NGX_HTTP_BAD_REQUEST
        || (ref->status == NGX_HTTP_FORBIDDEN && ref->error != NULL))
    {
        if (ngx_http_jwtgate_challenge(r, jlcf, ctx, ref) != NGX_OK) {
            return ngx_http_jwtgate_decide(ctx,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
        }
    }

    if (ref->status == NGX_HTTP_SERVICE_UNAVAILABLE && ctx->retry_after
        && ngx_http_jwtgate_retry_after(r, ctx->retry_after) != NGX_OK)
    {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    return ngx_http_jwtgate_decide(ctx, ref->status);
}


/* A full DPoP replay zone: when its oldest entry goes. */

static ngx_int_t
ngx_http_jwtgate_retry_after(ngx_http_request_t *r, time_t seconds)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%T", seconds) - p;

    return NGX_OK;
}


/* Copies a value into an RFC 7230 quoted-string's content. */

static u_char *
ngx_http_jwtgate_quote(u_char *p, u_char *s, size_t len)
{
    for ( /* void */ ; len; len--, s++) {
        if (*s < 0x20 || *s == 0x7f) {
            continue;
        }

        if (*s == '"' || *s == '\\') {
            *p++ = '\\';
        }

        *p++ = *s;
    }

    return p;
}


/*
 * The challenges of a refusal: "Bearer" (RFC 6750 section 3) where bearer
 * tokens are taken, "DPoP" (RFC 9449 section 7.1) where DPoP is on; the
 * error goes into the challenge of the scheme the client used, or the
 * only one offered. A use_dpop_nonce refusal adds the nonce to use.
 */

static ngx_int_t
ngx_http_jwtgate_challenge(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_http_jwtgate_refusal_t *ref)
{
    ngx_str_t         realm, name;
    ngx_uint_t        bearer, dpop, in_dpop;
    ngx_table_elt_t  *h, *first;

    dpop = jlcf->dpop != NGX_HTTP_JWTGATE_DPOP_OFF;
    bearer = !dpop || ngx_http_jwtgate_bearer_ok(jlcf, ctx);
    in_dpop = dpop && (ctx->dpop_scheme || !bearer);
    first = NULL;

    if (bearer) {
        if (ngx_http_complex_value(r, jlcf->realm, &realm) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_str_set(&name, "realm");

        h = ngx_http_jwtgate_challenge_add(r, "Bearer", &name, &realm,
                                           in_dpop ? NULL : ref);
        if (h == NULL) {
            return NGX_ERROR;
        }

        r->headers_out.www_authenticate = h;
        first = h;
    }

    if (dpop) {
        ngx_str_set(&name, "algs");

        h = ngx_http_jwtgate_challenge_add(r, "DPoP", &name,
                                           &jlcf->dpop_algs_text,
                                           in_dpop ? ref : NULL);
        if (h == NULL) {
            return NGX_ERROR;
        }

        if (first != NULL) {
#if (nginx_version >= 1023000)
            first->next = h;
#endif

        } else {
            r->headers_out.www_authenticate = h;
        }
    }

    if (ctx->nonce.len) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "DPoP-Nonce");
        h->value = ctx->nonce;
    }

    return NGX_OK;
}


/* WWW-Authenticate: SCHEME [realm="..."][, ]error="...",
 * error_description="...", scope="..."[, algs="..."]: the realm first,
 * algs last, as the RFCs' examples put them. */

static ngx_table_elt_t *
ngx_http_jwtgate_challenge_add(ngx_http_request_t *r, const char *scheme,
    ngx_str_t *name, ngx_str_t *value, ngx_http_jwtgate_refusal_t *ref)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        first, realm;
    ngx_table_elt_t  *h;

    realm = name->len == sizeof("realm") - 1;

    len = ngx_strlen(scheme) + sizeof(" =\"\", ") - 1 + name->len
          + 2 * value->len;

    if (ref != NULL && ref->error != NULL) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(ref->error);
    }

    if (ref != NULL && ref->description != NULL) {
        len += sizeof(", error_description=\"\"") - 1
               + ngx_strlen(ref->description);
    }

    if (ref != NULL && ref->scope.len) {
        len += sizeof(", scope=\"\"") - 1 + 2 * ref->scope.len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NULL;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;
#if (nginx_version >= 1023000)
    /* nginx 1.23 links headers of one name */
    h->next = NULL;
#endif

    p = ngx_sprintf(p, "%s ", scheme);
    first = 1;

    if (realm) {
        p = ngx_sprintf(p, "%V=\"", name);
        p = ngx_http_jwtgate_quote(p, value->data, value->len);
        *p++ = '"';
        first = 0;
    }

    if (ref != NULL && ref->error != NULL) {
        p = ngx_sprintf(p, "%serror=\"%s\"", first ? "" : ", ", ref->error);
        first = 0;
    }

    if (ref != NULL && ref->description != NULL) {
        p = ngx_sprintf(p, ", error_description=\"%s\"", ref->description);
    }

    if (ref != NULL && ref->scope.len) {
        p = ngx_cpymem(p, ", scope=\"", sizeof(", scope=\"") - 1);
        p = ngx_http_jwtgate_quote(p, ref->scope.data, ref->scope.len);
        *p++ = '"';
    }

    if (!realm) {
        p = ngx_sprintf(p, "%s%V=\"", first ? "" : ", ", name);
        p = ngx_http_jwtgate_quote(p, value->data, value->len);
        *p++ = '"';
    }

    h->value.len = p - h->value.data;

    return h;
}


/* error_description for the client: what it can act on, never details of
 * the keys (those go to the error log). */

static const char *
ngx_http_jwtgate_describe(jg_err err)
{
    switch (err) {

    case JG_ERR_EXPIRED:
        return "the access token expired";

    case JG_ERR_NOT_YET_VALID:
    case JG_ERR_IAT_FUTURE:
        return "the access token is not valid yet";

    case JG_ERR_ISSUER:
        return "the access token is from another issuer";

    case JG_ERR_AUDIENCE:
        return "the access token is not meant for this resource";

    case JG_ERR_TYP:
        return "the token is not an access token of the expected type";

    case JG_ERR_NOT_ENCRYPTED:
    case JG_ERR_NOT_NESTED:
        return "the access token is not of the expected type";

    case JG_ERR_LIMIT_TOKEN_SIZE:
    case JG_ERR_LIMIT_HEADER_SIZE:
    case JG_ERR_LIMIT_JSON_SIZE:
    case JG_ERR_LIMIT_JSON_DEPTH:
        return "the access token is too large";

    case JG_ERR_CLAIM_MISSING:
        return "the access token lacks a required claim";

    default:
        return "the access token is invalid";
    }
}


/* ---- Deprecation and Sunset --------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_header_filter(ngx_http_request_t *r)
{
    u_char                  *p;
    ngx_table_elt_t         *h;
    ngx_http_jwtgate_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_jwtgate_module);

    if (ctx == NULL || !ctx->deprecated) {
        return ngx_http_next_header_filter(r);
    }

    /* RFC 9745: when the API was deprecated, as a structured date; a
     * snapshot that does not say when (jwtgated's format 1 does not) gets
     * "true", the form of the drafts before RFC 9745 that clients still
     * look for */

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Deprecation");

    if (ctx->deprecated_at) {
        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        h->value.data = p;
        h->value.len = ngx_sprintf(p, "@%T", ctx->deprecated_at) - p;

    } else {
        ngx_str_set(&h->value, "true");
    }

    /* RFC 8594: when it goes away, as an HTTP-date */

    if (ctx->sunset) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        p = ngx_pnalloc(r->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Sunset");
        h->value.data = p;
        h->value.len = ngx_http_time(p, ctx->sunset) - p;
    }

    return ngx_http_next_header_filter(r);
}


/* ---- for other modules -------------------------------------------------- */


/*
 * What this module verified about the main request, for
 * ngx_http_jwtgate_ai_module (which routes LLM requests after the access
 * phase): the snapshot (the request holds a reference to it until the
 * request ends), the API it routed to and the token's client_id (pointing
 * into the verified claims, valid as long as the request). NGX_DECLINED: the
 * request was not allowed by a location with jwtgate_snapshot (no decision,
 * a refusal, or a location without a snapshot). Never blocks; workers are
 * single-threaded.
 */

ngx_int_t
ngx_http_jwtgate_request_identity(ngx_http_request_t *r,
    ngx_http_jwtgate_snap_t **snap, ngx_http_jwtgate_api_t **api,
    ngx_str_t *client_id)
{
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgate_module);

    if (ctx == NULL || ctx->status != NGX_OK || ctx->snap == NULL
        || ctx->api == NULL || ctx->claims == NULL)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_jwtgate_claim_str(ctx->claims, "client_id", client_id)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    *snap = ctx->snap;
    *api = ctx->api;

    return NGX_OK;
}
