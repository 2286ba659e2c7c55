
/*
 * ngx_http_jwtgate_module: the directives, the access phase handler and
 * its RFC 6750 responses, the forwarded claim headers, and the Deprecation
 * and Sunset response headers of deprecated APIs.
 *
 * Per request (access phase): route the URI to an API of the snapshot and
 * check its lifecycle state; take the bearer token; look the token up in
 * the verified-token cache, or open it with libjwtgate (decrypt, verify,
 * validate the claims) and cache the claims; check revocation, the
 * client's subscription, the audience and the scopes against the current
 * snapshot; evaluate jwtgate_require; set the forwarded headers. Nothing
 * waits: every step is computation on data already in memory.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_jwtgate_module.h"


#define NGX_HTTP_JWTGATE_DEFAULT_INTERVAL  500
#define NGX_HTTP_JWTGATE_GONE              410
#define NGX_HTTP_JWTGATE_ALL_ENCS                                             \
    (JG_ENC_BIT(JG_ENC_A128GCM) | JG_ENC_BIT(JG_ENC_A192GCM)                   \
     | JG_ENC_BIT(JG_ENC_A256GCM) | JG_ENC_BIT(JG_ENC_A128CBC_HS256)          \
     | JG_ENC_BIT(JG_ENC_A192CBC_HS384) | JG_ENC_BIT(JG_ENC_A256CBC_HS512))


typedef struct {
    ngx_uint_t                    status;
    const char                   *error;        /* RFC 6750 code, or NULL */
    const char                   *description;
    ngx_str_t                     scope;
} ngx_http_jwtgate_refusal_t;


static ngx_int_t ngx_http_jwtgate_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_jwtgate_token(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_str_t *token);
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
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_refusal_t *ref);
static const char *ngx_http_jwtgate_describe(jg_err err);
static ngx_int_t ngx_http_jwtgate_has_scope(ngx_str_t *list, ngx_str_t *s);
static int64_t ngx_http_jwtgate_clock(void *data);

static ngx_int_t ngx_http_jwtgate_header_filter(ngx_http_request_t *r);

static ngx_int_t ngx_http_jwtgate_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_jwtgate_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_jwtgate_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_jwtgate_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_jwtgate_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_jwtgate_init_process(ngx_cycle_t *cycle);
static void ngx_http_jwtgate_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_jwtgate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_snapshot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_type(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_str_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_jwtgate_forward_claim(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_jwtgate_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_jwtgate_load_keys(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *conf);
static ngx_int_t ngx_http_jwtgate_prepare(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *conf);


static ngx_conf_enum_t  ngx_http_jwtgate_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_jwtgate_commands[] = {

    { ngx_string("jwtgate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE12,
      ngx_http_jwtgate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_snapshot"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_jwtgate_snapshot,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, key_files),
      NULL },

    { ngx_string("jwtgate_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_jwtgate_type,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_jwtgate_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, algorithms),
      NULL },

    { ngx_string("jwtgate_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, issuer),
      NULL },

    { ngx_string("jwtgate_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, audience),
      NULL },

    { ngx_string("jwtgate_typ"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, typ),
      NULL },

    { ngx_string("jwtgate_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, leeway),
      NULL },

    { ngx_string("jwtgate_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_jwtgate_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, scopes),
      NULL },

    { ngx_string("jwtgate_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_jwtgate_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_jwtgate_claim_set,
      0,
      0,
      NULL },

    { ngx_string("jwtgate_header_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_jwtgate_header_set,
      0,
      0,
      NULL },

    { ngx_string("jwtgate_forward_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_jwtgate_forward_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_strip_authorization"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, strip_authorization),
      NULL },

    { ngx_string("jwtgate_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_jwtgate_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("jwtgate_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_jwtgate_loc_conf_t, log_level),
      &ngx_http_jwtgate_log_levels },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_jwtgate_module_ctx = {
    ngx_http_jwtgate_preconfiguration,     /* preconfiguration */
    ngx_http_jwtgate_postconfiguration,    /* postconfiguration */

    ngx_http_jwtgate_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_jwtgate_create_loc_conf,      /* create location configuration */
    ngx_http_jwtgate_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_jwtgate_module = {
    NGX_MODULE_V1,
    &ngx_http_jwtgate_module_ctx,          /* module context */
    ngx_http_jwtgate_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_jwtgate_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_jwtgate_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;

/* per worker: the cache key's digest, fetched once */
static EVP_MD      *ngx_http_jwtgate_sha256;
static EVP_MD_CTX  *ngx_http_jwtgate_md_ctx;


/* ---- the access handler ------------------------------------------------------ */


static ngx_int_t
ngx_http_jwtgate_decide(ngx_http_jwtgate_ctx_t *ctx, ngx_int_t status)
{
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
    ngx_pool_cleanup_t           *cln;
    ngx_http_jwtgate_api_t       *api;
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

    if (jlcf->source == NULL && jlcf->keys == NULL) {
        /* fail closed */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "jwtgate: no keys here: \"jwtgate\" is on but neither "
                      "\"jwtgate_snapshot\" nor \"jwtgate_key_file\" is set");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_jwtgate_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_jwtgate_ctx_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_jwtgate_module);

    ngx_memzero(&ref, sizeof(ngx_http_jwtgate_refusal_t));

    /* the API and its lifecycle */

    if (jlcf->source != NULL) {
        ctx->source = jlcf->source;
        ctx->snap = ngx_http_jwtgate_snap_acquire(jlcf->source);

        api = ngx_http_jwtgate_snap_route(ctx->snap, &r->uri);

        if (api == NULL) {
            ref.status = NGX_HTTP_NOT_FOUND;
            return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                           "no API at this path", JG_OK);
        }

        ctx->api = api;

        switch (api->state) {

        case NGX_HTTP_JWTGATE_API_PUBLISHED:
            break;

        case NGX_HTTP_JWTGATE_API_DEPRECATED:
            ctx->deprecated = 1;
            ctx->sunset = api->sunset;
            ctx->deprecated_at = api->deprecated_at;

            if (api->sunset != 0 && api->sunset <= ngx_time()) {
                ref.status = NGX_HTTP_JWTGATE_GONE;
                return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                               "the API is past its sunset",
                                               JG_OK);
            }

            break;

        case NGX_HTTP_JWTGATE_API_RETIRED:
            ref.status = NGX_HTTP_JWTGATE_GONE;
            return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                           "the API is retired", JG_OK);

        default:
            ref.status = NGX_HTTP_NOT_FOUND;
            return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                           "the API is not published",
                                           JG_OK);
        }
    }

    /* the token */

    rc = ngx_http_jwtgate_token(r, jlcf, &ctx->token);

    if (rc == NGX_ERROR) {
        return ngx_http_jwtgate_decide(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    if (rc == NGX_DECLINED) {
        /* RFC 6750 section 3.1: no error code without a token */
        ref.status = NGX_HTTP_UNAUTHORIZED;
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                       "no bearer token", JG_OK);
    }

    if (rc == NGX_HTTP_BAD_REQUEST) {
        ref.status = NGX_HTTP_BAD_REQUEST;
        ref.error = "invalid_request";
        ref.description = "the Authorization header is not a bearer token";
        return ngx_http_jwtgate_refuse(r, jlcf, ctx, &ref,
                                       "malformed bearer token", JG_OK);
    }

    rc = ngx_http_jwtgate_open(r, jlcf, ctx, &err);

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

    return ngx_http_jwtgate_decide(ctx, NGX_OK);
}


/*
 * The characters of an RFC 6750 b64token as a bitmap (as ngx_escape_uri()
 * keeps its tables): one load and test per byte of a token that is often
 * over a kilobyte, on every request.
 */

static uint32_t  ngx_http_jwtgate_b64token[] = {
    0x00000000, /* control characters */
    0x03ffe800, /* "+", "-", ".", "/", "0" - "9" */
    0x87fffffe, /* "A" - "Z", "_" */
    0x47fffffe, /* "a" - "z", "~" */
    0x00000000, 0x00000000, 0x00000000, 0x00000000
};


/*
 * The bearer token: from token=$variable, or the Authorization header
 * (RFC 6750 section 2.1). NGX_OK, NGX_DECLINED (none: another scheme or
 * nothing), NGX_HTTP_BAD_REQUEST (not a b64token) or NGX_ERROR.
 */

static ngx_int_t
ngx_http_jwtgate_token(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_str_t *token)
{
    u_char     *p, *last;
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

        if (value.len < sizeof("Bearer") - 1
            || ngx_strncasecmp(value.data, (u_char *) "Bearer",
                               sizeof("Bearer") - 1) != 0
            || (value.len > sizeof("Bearer") - 1
                && value.data[sizeof("Bearer") - 1] != ' '))
        {
            /* another authentication scheme */
            return NGX_DECLINED;
        }

        p = value.data + sizeof("Bearer") - 1;
        last = value.data + value.len;

        while (p < last && *p == ' ') {
            p++;
        }

        if (p == last) {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    token->data = p;

    /*
     * b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
     */

    while (p < last
           && (ngx_http_jwtgate_b64token[*p >> 5] & (1U << (*p & 0x1f))))
    {
        p++;
    }

    while (p < last && *p == '=') {
        p++;
    }

    if (p != last) {
        return NGX_HTTP_BAD_REQUEST;
    }

    token->len = last - token->data;

    return NGX_OK;
}


static int64_t
ngx_http_jwtgate_clock(void *data)
{
    return (int64_t) ngx_time();
}


/*
 * The verified claims into ctx->claims: from the cache, or by opening the
 * token. NGX_OK, NGX_DECLINED (the token is refused: *err says why) or
 * NGX_ERROR.
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
    unsigned int              n;
    jg_open_policy            policy;
    ngx_http_jwtgate_snap_t  *snap;
    u_char                    digest[NGX_HTTP_JWTGATE_DIGEST_LEN];

    snap = ctx->snap;

    if (jlcf->cache == NULL) {
        ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_BYPASS;

    } else {
        /* the cache key: the rules, the keys, the token */

        if (EVP_DigestInit_ex(ngx_http_jwtgate_md_ctx,
                              ngx_http_jwtgate_sha256, NULL) != 1
            || EVP_DigestUpdate(ngx_http_jwtgate_md_ctx, jlcf->digest,
                                NGX_HTTP_JWTGATE_DIGEST_LEN) != 1
            || (snap != NULL
                && EVP_DigestUpdate(ngx_http_jwtgate_md_ctx, snap->digest,
                                    NGX_HTTP_JWTGATE_DIGEST_LEN) != 1)
            || EVP_DigestUpdate(ngx_http_jwtgate_md_ctx, ctx->token.data,
                                ctx->token.len) != 1
            || EVP_DigestFinal_ex(ngx_http_jwtgate_md_ctx, digest, &n) != 1)
        {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "jwtgate: SHA-256 failed");
            return NGX_ERROR;
        }

        if (ngx_http_jwtgate_cache_get(jlcf->cache, digest, r->pool, &cached)
            == NGX_OK)
        {
            if (jg_claims_parse((char *) cached.data, cached.len, NULL,
                                &ctx->claims) == JG_OK)
            {
                ctx->payload = cached;
                ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_HIT;
                return NGX_OK;
            }

            ctx->claims = NULL;
        }

        ctx->cache_status = NGX_HTTP_JWTGATE_CACHE_MISS;
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

    } else {
        decrypt = jlcf->keys;
        verify = jlcf->keys;
    }

    *err = jg_access_token_open((char *) ctx->token.data, ctx->token.len,
                                decrypt, verify, &policy, &ctx->claims);

    if (*err != JG_OK) {
        ctx->claims = NULL;
        return *err == JG_ERR_NOMEM ? NGX_ERROR : NGX_DECLINED;
    }

    if (jlcf->cache == NULL) {
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

    return NGX_OK;
}


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


/* Whether the space-separated `list` holds `s`. */

static ngx_int_t
ngx_http_jwtgate_has_scope(ngx_str_t *list, ngx_str_t *s)
{
    u_char  *p, *last, *start;

    p = list->data;
    last = list->data + list->len;

    while (p < last) {
        while (p < last && *p == ' ') {
            p++;
        }

        start = p;

        while (p < last && *p != ' ') {
            p++;
        }

        if ((size_t) (p - start) == s->len
            && ngx_memcmp(start, s->data, s->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_jwtgate_sub_has(ngx_http_jwtgate_sub_t *sub, ngx_str_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < sub->nscopes; i++) {
        if (sub->scopes[i].len == s->len
            && ngx_memcmp(sub->scopes[i].data, s->data, s->len) == 0)
        {
            return 1;
        }
    }

    return 0;
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
    ngx_http_jwtgate_sub_t   *sub;
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

        if (ngx_http_jwtgate_table_find(&snap->revoked, jti.data, jti.len)) {
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

        if (ngx_http_jwtgate_table_find(&snap->suspended, client_id.data,
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

        sub = ngx_http_jwtgate_snap_subscription(snap, &client_id, api);

        if (sub == NULL) {
            ref->description = "the client has no approved subscription "
                               "to this API";
            *reason = "the client has no approved subscription to the API";
            return NGX_DECLINED;
        }

        /* some scope of the API that the token holds and the subscription
         * still approves */

        if (api->nscopes) {
            found = 0;

            for (k = 0; k < api->nscopes && !found; k++) {
                found = ngx_http_jwtgate_has_scope(&scope, &api->scopes[k])
                        && ngx_http_jwtgate_sub_has(sub, &api->scopes[k]);
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
                || (sub != NULL && !ngx_http_jwtgate_sub_has(sub, &req[k])))
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


/* ---- refusals ------------------------------------------------------------------ */


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

    for (i = 0; s[i] != '\0' && i < 128; i++) {
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

    if (err != JG_OK) {
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
        if (ngx_http_jwtgate_challenge(r, jlcf, ref) != NGX_OK) {
            return ngx_http_jwtgate_decide(ctx,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
        }
    }

    return ngx_http_jwtgate_decide(ctx, ref->status);
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


/* WWW-Authenticate: Bearer realm="...", error="...",
 * error_description="...", scope="..." (RFC 6750 section 3) */

static ngx_int_t
ngx_http_jwtgate_challenge(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_refusal_t *ref)
{
    u_char           *p;
    size_t            len;
    ngx_str_t         realm;
    ngx_table_elt_t  *h;

    if (ngx_http_complex_value(r, jlcf->realm, &realm) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sizeof("Bearer realm=\"\"") - 1 + 2 * realm.len;

    if (ref->error != NULL) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(ref->error);
    }

    if (ref->description != NULL) {
        len += sizeof(", error_description=\"\"") - 1
               + ngx_strlen(ref->description);
    }

    if (ref->scope.len) {
        len += sizeof(", scope=\"\"") - 1 + 2 * ref->scope.len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = ngx_cpymem(p, "Bearer realm=\"", sizeof("Bearer realm=\"") - 1);
    p = ngx_http_jwtgate_quote(p, realm.data, realm.len);
    *p++ = '"';

    if (ref->error != NULL) {
        p = ngx_sprintf(p, ", error=\"%s\"", ref->error);
    }

    if (ref->description != NULL) {
        p = ngx_sprintf(p, ", error_description=\"%s\"", ref->description);
    }

    if (ref->scope.len) {
        p = ngx_cpymem(p, ", scope=\"", sizeof(", scope=\"") - 1);
        p = ngx_http_jwtgate_quote(p, ref->scope.data, ref->scope.len);
        *p++ = '"';
    }

    h->value.len = p - h->value.data;

    r->headers_out.www_authenticate = h;

    return NGX_OK;
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


/* ---- Deprecation and Sunset ------------------------------------------------------- */


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


/* ---- configuration ----------------------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_jwtgate_add_variables(cf);
}


static ngx_int_t
ngx_http_jwtgate_postconfiguration(ngx_conf_t *cf)
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


static void *
ngx_http_jwtgate_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgate_main_conf_t  *jmcf;

    jmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_main_conf_t));
    if (jmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&jmcf->sources, cf->pool, 2,
                       sizeof(ngx_http_jwtgate_source_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return jmcf;
}


static void *
ngx_http_jwtgate_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_jwtgate_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->keys = NULL;
     *     conf->sig_algs = 0; (and the other sets)
     *     conf->issuer = { 0, NULL }; (audience, typ)
     *     conf->policy = { ... };
     */

    conf->realm = NGX_CONF_UNSET_PTR;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->source = NGX_CONF_UNSET_PTR;
    conf->key_files = NGX_CONF_UNSET_PTR;
    conf->type = NGX_CONF_UNSET_UINT;
    conf->algorithms = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->scopes = NGX_CONF_UNSET_PTR;
    conf->requires = NGX_CONF_UNSET_PTR;
    conf->forward = NGX_CONF_UNSET_PTR;
    conf->strip_authorization = NGX_CONF_UNSET;
    conf->cache = NGX_CONF_UNSET_PTR;
    conf->cache_max_ttl = NGX_CONF_UNSET;
    conf->log_level = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_jwtgate_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_jwtgate_loc_conf_t *prev = parent;
    ngx_http_jwtgate_loc_conf_t *conf = child;

    ngx_uint_t        i;
    ngx_shm_zone_t  **zone;

    if (conf->realm == NGX_CONF_UNSET_PTR) {
        conf->realm = prev->realm;
        conf->token = prev->token;
    }

    if (conf->realm == NGX_CONF_UNSET_PTR) {
        conf->realm = NULL;
    }
    if (conf->token == NGX_CONF_UNSET_PTR) {
        conf->token = NULL;
    }

    /* the keys: a snapshot or key files, inherited together */

    if (conf->source != NGX_CONF_UNSET_PTR
        && conf->key_files != NGX_CONF_UNSET_PTR)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"jwtgate_snapshot\" and \"jwtgate_key_file\" "
                           "cannot be used together");
        return NGX_CONF_ERROR;
    }

    if (conf->source == NGX_CONF_UNSET_PTR
        && conf->key_files == NGX_CONF_UNSET_PTR)
    {
        if (ngx_http_jwtgate_load_keys(cf, prev) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        conf->source = prev->source;
        conf->key_files = prev->key_files;
        conf->keys = prev->keys;
    }

    if (conf->source == NGX_CONF_UNSET_PTR) {
        conf->source = NULL;
    }
    if (conf->key_files == NGX_CONF_UNSET_PTR) {
        conf->key_files = NULL;
    }

    if (ngx_http_jwtgate_load_keys(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* left unset when no level sets it: the default depends on the key
     * source of each level (ngx_http_jwtgate_prepare) */
    if (conf->type == NGX_CONF_UNSET_UINT) {
        conf->type = prev->type;
    }

    ngx_conf_merge_ptr_value(conf->algorithms, prev->algorithms, NULL);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");
    ngx_conf_merge_str_value(conf->typ, prev->typ, "at+jwt");
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_conf_merge_ptr_value(conf->requires, prev->requires, NULL);
    ngx_conf_merge_ptr_value(conf->forward, prev->forward, NULL);
    ngx_conf_merge_value(conf->strip_authorization,
                         prev->strip_authorization, 0);

    if (conf->cache == NGX_CONF_UNSET_PTR) {
        conf->cache = prev->cache;
        conf->cache_max_ttl = prev->cache_max_ttl;
    }

    if (conf->cache == NGX_CONF_UNSET_PTR) {
        conf->cache = NULL;
    }
    ngx_conf_merge_sec_value(conf->cache_max_ttl, 0, 0);

    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);

    if (conf->source != NULL && conf->cache != NULL) {
        zone = conf->source->zones.elts;

        for (i = 0; i < conf->source->zones.nelts; i++) {
            if (zone[i] == conf->cache) {
                break;
            }
        }

        if (i == conf->source->zones.nelts) {
            zone = ngx_array_push(&conf->source->zones);
            if (zone == NULL) {
                return NGX_CONF_ERROR;
            }

            *zone = conf->cache;
        }
    }

    if (ngx_http_jwtgate_prepare(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* jwtgate_key_file: every file's keys in one set, parsed once. */

static void
ngx_http_jwtgate_keys_cleanup(void *data)
{
    jg_jwks_free(data);
}


static ngx_int_t
ngx_http_jwtgate_load_keys(ngx_conf_t *cf, ngx_http_jwtgate_loc_conf_t *conf)
{
    jg_err               err;
    size_t               k;
    ssize_t              n;
    jg_jwks             *all, *one;
    ngx_fd_t             fd;
    ngx_str_t           *files, name;
    ngx_uint_t           i;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;
    u_char              *buf;

    if (conf->key_files == NGX_CONF_UNSET_PTR || conf->key_files == NULL
        || conf->keys != NULL)
    {
        return NGX_OK;
    }

    if (jg_jwks_new(&all) != JG_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        jg_jwks_free(all);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_jwtgate_keys_cleanup;
    cln->data = all;
    conf->keys = all;

    files = conf->key_files->elts;

    for (i = 0; i < conf->key_files->nelts; i++) {
        name = files[i];

        if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_open_file_n " \"%V\" failed", &name);
            return NGX_ERROR;
        }

        if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
            || ngx_file_size(&fi) <= 0 || ngx_file_size(&fi) > 16 * 1024 * 1024)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "key file \"%V\" is empty, unreadable "
                               "or larger than 16 MB", &name);
            (void) ngx_close_file(fd);
            return NGX_ERROR;
        }

        buf = ngx_alloc((size_t) ngx_file_size(&fi), cf->log);
        if (buf == NULL) {
            (void) ngx_close_file(fd);
            return NGX_ERROR;
        }

        n = read(fd, buf, (size_t) ngx_file_size(&fi));
        (void) ngx_close_file(fd);

        if (n != (ssize_t) ngx_file_size(&fi)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "reading \"%V\" failed", &name);
            jg_memzero(buf, (size_t) ngx_file_size(&fi));
            ngx_free(buf);
            return NGX_ERROR;
        }

        err = jg_jwks_parse_any((char *) buf, (size_t) n, 0, NULL, &one);

        /* a key file may hold private and secret keys */
        jg_memzero(buf, (size_t) n);
        ngx_free(buf);

        if (err != JG_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "key file \"%V\": %s", &name,
                               jg_strerror(err));
            return NGX_ERROR;
        }

        for (k = 0; k < jg_jwks_count(one); k++) {
            if (jg_jwks_add(all, (jg_jwk *) jg_jwks_get(one, k)) != JG_OK) {
                jg_jwks_free(one);
                return NGX_ERROR;
            }
        }

        jg_jwks_free(one);
    }

    if (jg_jwks_count(all) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the key files hold no key this module can use");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The location's rules as a jg_open_policy, and their digest (the cache
 * key's first part). With a snapshot, the issuer and the algorithms of the
 * snapshot's keys are filled in per request.
 */

static ngx_int_t
ngx_http_jwtgate_prepare(ngx_conf_t *cf, ngx_http_jwtgate_loc_conf_t *conf)
{
    int            ok;
    jg_alg         alg;
    jg_enc         enc;
    EVP_MD_CTX    *md;
    ngx_str_t     *names;
    ngx_uint_t     i;
    unsigned int   n;
    jg_alg_set     sig, key;
    jg_enc_set     encs;
    jg_token_form  form;
    u_char         mode;

    sig = 0;
    key = 0;
    encs = 0;

    if (conf->algorithms != NULL) {
        names = conf->algorithms->elts;

        for (i = 0; i < conf->algorithms->nelts; i++) {
            alg = jg_alg_from_name((char *) names[i].data, names[i].len);
            enc = jg_enc_from_name((char *) names[i].data, names[i].len);

            if (alg != JG_ALG_UNKNOWN
                && jg_alg_kind_of(alg) == JG_ALG_KIND_JWS)
            {
                sig |= JG_ALG_BIT(alg);

            } else if (alg != JG_ALG_UNKNOWN) {
                key |= JG_ALG_BIT(alg);

            } else if (enc != JG_ENC_UNKNOWN) {
                encs |= JG_ENC_BIT(enc);

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unknown algorithm \"%V\" (\"none\" is "
                                   "never accepted)", &names[i]);
                return NGX_ERROR;
            }
        }
    }

    if (conf->keys != NULL) {
        if (sig == 0) {
            sig = ngx_http_jwtgate_key_algs(conf->keys, JG_ALG_KIND_JWS,
                                            JG_ALG_UNKNOWN);
        }

        if (key == 0) {
            key = ngx_http_jwtgate_key_algs(conf->keys, JG_ALG_KIND_JWE,
                                            JG_ALG_UNKNOWN);
        }
    }

    if (encs == 0) {
        /* jwtgated encrypts with A256GCM */
        encs = conf->source ? JG_ENC_BIT(JG_ENC_A256GCM)
                            : NGX_HTTP_JWTGATE_ALL_ENCS;
    }

    conf->sig_algs = sig;
    conf->key_algs = key;
    conf->encs = encs;

    form = conf->type != NGX_CONF_UNSET_UINT
           ? (jg_token_form) conf->type
           : conf->source ? JG_FORM_NESTED : JG_FORM_SIGNED;

    /* a level without keys (e.g. "jwtgate" on a server whose locations
     * name the snapshot) refuses its requests with 500, see the handler */

    if (conf->realm != NULL && conf->source == NULL && conf->keys != NULL) {

        if (sig == 0 && form != JG_FORM_ENCRYPTED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no signature algorithm: the keys name none, "
                               "list them with \"jwtgate_algorithms\"");
            return NGX_ERROR;
        }

        if (key == 0 && form != JG_FORM_SIGNED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no key management algorithm: the keys name "
                               "none, list them with \"jwtgate_algorithms\"");
            return NGX_ERROR;
        }
    }

    ngx_memzero(&conf->policy, sizeof(jg_open_policy));

    conf->policy.form = form;
    conf->policy.key_algs = key;
    conf->policy.encs = encs;
    conf->policy.jwt.algs = sig;
    conf->policy.jwt.issuer = conf->issuer.len ? (char *) conf->issuer.data
                                               : NULL;
    conf->policy.jwt.audience = conf->audience.len
                                ? (char *) conf->audience.data : NULL;
    conf->policy.jwt.typ = (char *) conf->typ.data;
    conf->policy.jwt.leeway = conf->leeway;
    conf->policy.jwt.clock = ngx_http_jwtgate_clock;

    /* with a snapshot, its issuer and audiences apply */
    if (conf->source != NULL) {
        conf->policy.jwt.issuer = NULL;
        conf->policy.jwt.audience = NULL;
    }

    /* keys from a snapshot or from key files */
    mode = conf->source != NULL;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL)
         && EVP_DigestUpdate(md, "location", sizeof("location"))
         && EVP_DigestUpdate(md, &form, sizeof(form))
         && EVP_DigestUpdate(md, &sig, sizeof(sig))
         && EVP_DigestUpdate(md, &key, sizeof(key))
         && EVP_DigestUpdate(md, &encs, sizeof(encs))
         && EVP_DigestUpdate(md, conf->issuer.data, conf->issuer.len + 1)
         && EVP_DigestUpdate(md, conf->audience.data, conf->audience.len + 1)
         && EVP_DigestUpdate(md, conf->typ.data, conf->typ.len + 1)
         && EVP_DigestUpdate(md, &conf->leeway, sizeof(conf->leeway))
         && EVP_DigestUpdate(md, &mode, sizeof(mode))
         && (conf->keys == NULL
             || ngx_http_jwtgate_digest_keys(md, conf->keys) == NGX_OK)
         && EVP_DigestFinal_ex(md, conf->digest, &n);

    EVP_MD_CTX_free(md);

    return ok ? NGX_OK : NGX_ERROR;
}


/* jwtgate off | REALM [token=$variable] */

static char *
ngx_http_jwtgate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (jlcf->realm != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        jlcf->realm = NULL;
        jlcf->token = NULL;
        return NGX_CONF_OK;
    }

    jlcf->realm = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (jlcf->realm == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = jlcf->realm;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    jlcf->token = NULL;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "token=", 6) != 0 || value[2].len == 6
        || value[2].data[6] != '$')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    value[2].data += 6;
    value[2].len -= 6;

    jlcf->token = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (jlcf->token == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = jlcf->token;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* jwtgate_snapshot FILE [interval=TIME] */

static char *
ngx_http_jwtgate_snapshot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t   *value, s;
    ngx_msec_t   interval;

    if (jlcf->source != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    interval = NGX_HTTP_JWTGATE_DEFAULT_INTERVAL;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "interval=", 9) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 9;
        s.len = value[2].len - 9;

        interval = ngx_parse_time(&s, 0);

        if (interval == (ngx_msec_t) NGX_ERROR || interval < 10) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid interval \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    jlcf->source = ngx_http_jwtgate_source_add(cf, &value[1], interval);
    if (jlcf->source == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_jwtgate_source_init(cf, jlcf->source) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_jwtgate_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t  *value;

    if (jlcf->type != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "signed") == 0) {
        jlcf->type = JG_FORM_SIGNED;

    } else if (ngx_strcmp(value[1].data, "encrypted") == 0) {
        jlcf->type = JG_FORM_ENCRYPTED;

    } else if (ngx_strcmp(value[1].data, "nested") == 0) {
        jlcf->type = JG_FORM_NESTED;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": signed, encrypted or "
                           "nested", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A directive of one or more words (jwtgate_algorithms, jwtgate_scope):
 * every word of every occurrence in one list. */

static char *
ngx_http_jwtgate_str_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/* jwtgate_require $value ... [error=401|403] */

static char *
ngx_http_jwtgate_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i, n;
    ngx_http_complex_value_t          *cv;
    ngx_http_jwtgate_require_t        *req;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (jlcf->requires == NGX_CONF_UNSET_PTR) {
        jlcf->requires = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_jwtgate_require_t));
        if (jlcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    req = ngx_array_push(jlcf->requires);
    if (req == NULL) {
        return NGX_CONF_ERROR;
    }

    req->error = NGX_HTTP_UNAUTHORIZED;
    n = cf->args->nelts;

    if (ngx_strncmp(value[n - 1].data, "error=", 6) == 0) {
        if (ngx_strcmp(value[n - 1].data, "error=401") == 0) {
            req->error = NGX_HTTP_UNAUTHORIZED;

        } else if (ngx_strcmp(value[n - 1].data, "error=403") == 0) {
            req->error = NGX_HTTP_FORBIDDEN;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": error=401 or "
                               "error=403", &value[n - 1]);
            return NGX_CONF_ERROR;
        }

        n--;
    }

    if (n < 2) {
        return "needs a value";
    }

    req->values = ngx_array_create(cf->pool, n - 1,
                                    sizeof(ngx_http_complex_value_t));
    if (req->values == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < n; i++) {
        if (value[i].data[0] != '$') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" does not start with a variable",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        cv = ngx_array_push(req->values);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* jwtgate_forward_claim HEADER name ... */

static char *
ngx_http_jwtgate_forward_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    u_char                      ch;
    ngx_str_t                  *value, *name;
    ngx_uint_t                  i;
    ngx_http_header_t          *known;
    ngx_http_jwtgate_forward_t *fwd;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        ch = value[1].data[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    /* headers nginx itself interprets (Host, Authorization, ...) are kept
     * by reference in the request: they cannot be replaced */
    for (known = ngx_http_headers_in; known->name.len; known++) {
        if (known->name.len == value[1].len
            && ngx_strncasecmp(known->name.data, value[1].data,
                               value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "header \"%V\" cannot carry a claim",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (jlcf->forward == NGX_CONF_UNSET_PTR) {
        jlcf->forward = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_jwtgate_forward_t));
        if (jlcf->forward == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    fwd = ngx_array_push(jlcf->forward);
    if (fwd == NULL) {
        return NGX_CONF_ERROR;
    }

    fwd->header = value[1];
    fwd->lowcase.len = value[1].len;
    fwd->lowcase.data = ngx_pnalloc(cf->pool, value[1].len);
    if (fwd->lowcase.data == NULL) {
        return NGX_CONF_ERROR;
    }

    fwd->hash = ngx_hash_strlow(fwd->lowcase.data, value[1].data,
                                value[1].len);

    fwd->path = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                 sizeof(ngx_str_t));
    if (fwd->path == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        name = ngx_array_push(fwd->path);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}


/* jwtgate_cache off | zone=NAME[:SIZE] [max_ttl=TIME] */

static char *
ngx_http_jwtgate_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    u_char      *p;
    ssize_t      size;
    ngx_str_t   *value, name, s;
    ngx_uint_t   i;

    if (jlcf->cache != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        jlcf->cache = NULL;
        return NGX_CONF_OK;
    }

    jlcf->cache = NULL;
    jlcf->cache_max_ttl = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');
            size = 0;

            if (p != NULL) {
                name.len = p - name.data;
                s.data = p + 1;
                s.len = value[i].data + value[i].len - s.data;

                size = ngx_parse_size(&s);

                if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize))
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid zone size \"%V\" (at least "
                                       "8 pages)", &value[i]);
                    return NGX_CONF_ERROR;
                }

            } else {
                name.len = value[i].len - 5;
            }

            if (name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone name \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            jlcf->cache = ngx_http_jwtgate_cache_zone(cf, &name, size);
            if (jlcf->cache == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_ttl=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            jlcf->cache_max_ttl = ngx_parse_time(&s, 1);

            if (jlcf->cache_max_ttl == (time_t) NGX_ERROR
                || jlcf->cache_max_ttl == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_ttl \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (jlcf->cache == NULL) {
        return "needs zone=NAME:SIZE";
    }

    return NGX_CONF_OK;
}


/* ---- processes ---------------------------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_jwtgate_source_t     **src;
    ngx_http_jwtgate_main_conf_t   *jmcf;

    jmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_jwtgate_module);

    if (jmcf == NULL) {
        return NGX_OK;
    }

    ngx_http_jwtgate_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    ngx_http_jwtgate_md_ctx = EVP_MD_CTX_new();

    if (ngx_http_jwtgate_sha256 == NULL || ngx_http_jwtgate_md_ctx == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "jwtgate: SHA-256 is not available");
        return NGX_ERROR;
    }

    src = jmcf->sources.elts;

    for (i = 0; i < jmcf->sources.nelts; i++) {
        if (ngx_http_jwtgate_source_start(cycle, src[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_jwtgate_exit_process(ngx_cycle_t *cycle)
{
    EVP_MD_CTX_free(ngx_http_jwtgate_md_ctx);
    ngx_http_jwtgate_md_ctx = NULL;

    EVP_MD_free(ngx_http_jwtgate_sha256);
    ngx_http_jwtgate_sha256 = NULL;
}
