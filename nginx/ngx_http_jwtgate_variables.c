
/*
 * Variables: $jwt_claim_<name>, $jwt_header_<name>, $jwt_payload, those of
 * jwtgate_claim_set and jwtgate_header_set, and $jwtgate_cache_status,
 * $jwtgate_api_id, $jwtgate_api_name, $jwtgate_api_upstream.
 *
 * Values follow NGINX Plus: strings as they are, numbers and booleans as
 * JSON text, arrays as their elements joined by commas, objects as compact
 * JSON. Control characters in strings become spaces, so that a value can
 * never split a header line it is put into. Claims are only ever read from
 * a verified token; before (or without) verification every variable is
 * empty (not found).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_jwtgate_module.h"


static ngx_int_t ngx_http_jwtgate_claim_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_header_prefix_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_claim_path_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_header_path_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_api_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_jwtgate_path_set(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_get_variable_pt handler);
static ngx_http_jwtgate_ctx_t *ngx_http_jwtgate_verified_ctx(
    ngx_http_request_t *r);
static json_t *ngx_http_jwtgate_claims_tree(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx);
static json_t *ngx_http_jwtgate_header_tree(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx);
static ngx_int_t ngx_http_jwtgate_format(ngx_http_request_t *r, json_t *j,
    ngx_str_t *out);
static ngx_int_t ngx_http_jwtgate_path_value(ngx_http_request_t *r,
    json_t *root, ngx_str_t *names, ngx_uint_t n, ngx_str_t *value);
static ngx_int_t ngx_http_jwtgate_string_claim(ngx_http_request_t *r,
    jg_claims *claims, ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_jwtgate_set_value(ngx_http_variable_value_t *v,
    ngx_int_t rc, ngx_str_t *value);
static ngx_int_t ngx_http_jwtgate_dump(ngx_http_request_t *r, json_t *j,
    ngx_str_t *out);
static void ngx_http_jwtgate_sanitize(u_char *p, size_t len);
static ngx_int_t ngx_http_jwtgate_ctx_str_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_jwtgate_refusal_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_jwtgate_vars[] = {

    { ngx_string("jwt_claim_"), NULL,
      ngx_http_jwtgate_claim_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("jwt_header_"), NULL,
      ngx_http_jwtgate_header_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("jwt_payload"), NULL,
      ngx_http_jwtgate_payload_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_cache_status"), NULL,
      ngx_http_jwtgate_cache_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_api_id"), NULL,
      ngx_http_jwtgate_api_variable,
      offsetof(ngx_http_jwtgate_api_t, id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_api_name"), NULL,
      ngx_http_jwtgate_api_variable,
      offsetof(ngx_http_jwtgate_api_t, name),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_api_upstream"), NULL,
      ngx_http_jwtgate_api_variable,
      offsetof(ngx_http_jwtgate_api_t, upstream),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_dpop_jkt"), NULL,
      ngx_http_jwtgate_ctx_str_variable,
      offsetof(ngx_http_jwtgate_ctx_t, dpop_jkt),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_cnf_x5t"), NULL,
      ngx_http_jwtgate_ctx_str_variable,
      offsetof(ngx_http_jwtgate_ctx_t, cnf_x5t),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_refusal"), NULL,
      ngx_http_jwtgate_refusal_variable,
      offsetof(ngx_http_jwtgate_ctx_t, refusal),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwtgate_error"), NULL,
      ngx_http_jwtgate_refusal_variable,
      offsetof(ngx_http_jwtgate_ctx_t, error),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_jwtgate_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_jwtgate_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* jwtgate_claim_set $variable name ...;
 * jwtgate_header_set $variable name ... */

char *
ngx_http_jwtgate_claim_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_jwtgate_path_set(cf, cmd,
                                     ngx_http_jwtgate_claim_path_variable);
}


char *
ngx_http_jwtgate_header_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_jwtgate_path_set(cf, cmd,
                                     ngx_http_jwtgate_header_path_variable);
}


static char *
ngx_http_jwtgate_path_set(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_get_variable_pt handler)
{
    ngx_str_t            *value, *name;
    ngx_uint_t            i;
    ngx_array_t          *path;
    ngx_http_variable_t  *var;

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    value[1].len--;
    value[1].data++;

    path = ngx_array_create(cf->pool, cf->args->nelts - 2, sizeof(ngx_str_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty name in \"%V\"", &cmd->name);
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push(path);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    var = ngx_http_add_variable(cf, &value[1], NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_CONF_ERROR;
    }

    if (var->get_handler != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "variable \"%V\" is already defined", &value[1]);
        return NGX_CONF_ERROR;
    }

    var->get_handler = handler;
    var->data = (uintptr_t) path;

    return NGX_CONF_OK;
}


/* ---- the token and its claims ------------------------------------------- */


static ngx_http_jwtgate_ctx_t *
ngx_http_jwtgate_verified_ctx(ngx_http_request_t *r)
{
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgate_module);

    if (ctx == NULL || ctx->claims == NULL) {
        return NULL;
    }

    return ctx;
}


/* The verified claims as JSON text ($jwt_payload, the cache), made once. */

ngx_int_t
ngx_http_jwtgate_payload(ngx_http_request_t *r, ngx_http_jwtgate_ctx_t *ctx)
{
    char    *json;
    size_t   len;

    if (ctx->payload.data != NULL) {
        return NGX_OK;
    }

    if (jg_claims_to_json(ctx->claims, 0, &json) != JG_OK) {
        return NGX_ERROR;
    }

    len = ngx_strlen(json);

    ctx->payload.data = ngx_pnalloc(r->pool, len + 1);
    if (ctx->payload.data == NULL) {
        jg_free(json);
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->payload.data, json, len + 1);
    ctx->payload.len = len;
    jg_free(json);

    return NGX_OK;
}


static json_t *
ngx_http_jwtgate_claims_tree(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx)
{
    if (ctx->claims_tree == NULL) {
        if (ngx_http_jwtgate_payload(r, ctx) != NGX_OK) {
            return NULL;
        }

        /* verified claims, already within the library's size and depth
         * limits */
        ctx->claims_tree = json_loadb((char *) ctx->payload.data,
                                      ctx->payload.len,
                                      JSON_REJECT_DUPLICATES, NULL);
    }

    return ctx->claims_tree;
}


/* The token's protected header: the first part of a compact token, which
 * the signature or the JWE's authentication tag covers. For a nested token
 * this is the JWE's header. */

static json_t *
ngx_http_jwtgate_header_tree(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx)
{
    u_char  *dot, *buf;
    size_t   len, n;

    if (ctx->header_tree != NULL) {
        return ctx->header_tree;
    }

    dot = ngx_strlchr(ctx->token.data, ctx->token.data + ctx->token.len, '.');
    if (dot == NULL) {
        return NULL;
    }

    len = dot - ctx->token.data;

    buf = ngx_pnalloc(r->pool, JG_B64URL_DECODED_MAX(len) + 1);
    if (buf == NULL) {
        return NULL;
    }

    if (jg_b64url_decode((char *) ctx->token.data, len, buf, &n) != JG_OK) {
        return NULL;
    }

    ctx->header_tree = json_loadb((char *) buf, n, JSON_REJECT_DUPLICATES,
                                  NULL);

    return ctx->header_tree;
}


/*
 * A member of the token's protected header whether or not the token was
 * verified, for the debug log only: an unverified header is nothing a
 * decision may rest on, and no variable shows it. NGX_OK, NGX_DECLINED
 * (absent, or no readable header) or NGX_ERROR.
 */

ngx_int_t
ngx_http_jwtgate_header_member(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, ngx_str_t *name, ngx_str_t *value)
{
    json_t  *root;

    root = ngx_http_jwtgate_header_tree(r, ctx);
    if (root == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_jwtgate_path_value(r, root, name, 1, value);
}


/* ---- values ------------------------------------------------------------- */


static void
ngx_http_jwtgate_sanitize(u_char *p, size_t len)
{
    for ( /* void */ ; len; len--, p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *p = ' ';
        }
    }
}


static ngx_int_t
ngx_http_jwtgate_dump(ngx_http_request_t *r, json_t *j, ngx_str_t *out)
{
    char    *text;
    size_t   len;

    text = json_dumps(j, JSON_COMPACT|JSON_ENCODE_ANY);
    if (text == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(text);

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        free(text);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, text, len);
    out->len = len;
    free(text);

    return NGX_OK;
}


static ngx_int_t
ngx_http_jwtgate_format(ngx_http_request_t *r, json_t *j, ngx_str_t *out)
{
    size_t      i, len;
    u_char     *p;
    json_t     *item;
    ngx_str_t  *parts;

    switch (json_typeof(j)) {

    case JSON_STRING:
        out->len = json_string_length(j);
        out->data = ngx_pnalloc(r->pool, out->len);
        if (out->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out->data, json_string_value(j), out->len);
        ngx_http_jwtgate_sanitize(out->data, out->len);
        return NGX_OK;

    case JSON_NULL:
        return NGX_DECLINED;

    case JSON_ARRAY:
        len = json_array_size(j);
        if (len == 0) {
            ngx_str_set(out, "");
            return NGX_OK;
        }

        parts = ngx_palloc(r->pool, len * sizeof(ngx_str_t));
        if (parts == NULL) {
            return NGX_ERROR;
        }

        out->len = len - 1;

        json_array_foreach(j, i, item) {
            if (json_is_string(item)) {
                parts[i].len = json_string_length(item);
                parts[i].data = (u_char *) json_string_value(item);

            } else if (ngx_http_jwtgate_dump(r, item, &parts[i]) != NGX_OK) {
                return NGX_ERROR;
            }

            out->len += parts[i].len;
        }

        p = ngx_pnalloc(r->pool, out->len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        out->data = p;

        for (i = 0; i < len; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, parts[i].data, parts[i].len);
        }

        ngx_http_jwtgate_sanitize(out->data, out->len);
        return NGX_OK;

    default:
        /* numbers, booleans, objects: JSON text (which escapes controls) */
        return ngx_http_jwtgate_dump(r, j, out);
    }
}


static ngx_int_t
ngx_http_jwtgate_path_value(ngx_http_request_t *r, json_t *root,
    ngx_str_t *names, ngx_uint_t n, ngx_str_t *value)
{
    u_char      buf[256];
    json_t     *j;
    ngx_uint_t  i;

    j = root;

    for (i = 0; i < n && j != NULL; i++) {
        if (!json_is_object(j) || names[i].len >= sizeof(buf)) {
            return NGX_DECLINED;
        }

        ngx_memcpy(buf, names[i].data, names[i].len);
        buf[names[i].len] = '\0';

        j = json_object_get(j, (char *) buf);
    }

    if (j == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_jwtgate_format(r, j, value);
}


/*
 * A top-level string claim straight from the verified claims, the common
 * case (sub, client_id, scope): no JSON text and no tree to build.
 * NGX_DECLINED when the claim is absent or not a string (the caller then
 * goes through the tree, which formats every type).
 */

static ngx_int_t
ngx_http_jwtgate_string_claim(ngx_http_request_t *r, jg_claims *claims,
    ngx_str_t *name, ngx_str_t *value)
{
    size_t       len;
    u_char       buf[256];
    const char  *s;

    if (name->len >= sizeof(buf)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(buf, name->data, name->len);
    buf[name->len] = '\0';

    if (jg_claims_get_string(claims, (char *) buf, &s) != JG_OK) {
        return NGX_DECLINED;
    }

    len = ngx_strlen(s);

    value->data = ngx_pnalloc(r->pool, len ? len : 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, s, len);
    value->len = len;
    ngx_http_jwtgate_sanitize(value->data, len);

    return NGX_OK;
}


/* A claim (by path) of the verified token: NGX_OK, NGX_DECLINED (absent or
 * not verified) or NGX_ERROR. Used for the forwarded headers as well. */

ngx_int_t
ngx_http_jwtgate_claim_value(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, ngx_array_t *path, ngx_str_t *value)
{
    json_t     *root;
    ngx_int_t   rc;

    if (ctx == NULL || ctx->claims == NULL) {
        return NGX_DECLINED;
    }

    if (path->nelts == 1) {
        rc = ngx_http_jwtgate_string_claim(r, ctx->claims, path->elts, value);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    root = ngx_http_jwtgate_claims_tree(r, ctx);
    if (root == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_jwtgate_path_value(r, root, path->elts, path->nelts,
                                       value);
}


static ngx_int_t
ngx_http_jwtgate_set_value(ngx_http_variable_value_t *v, ngx_int_t rc,
    ngx_str_t *value)
{
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = value->len;
    v->data = value->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_jwtgate_claim_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *name = (ngx_str_t *) data;

    json_t                  *root;
    ngx_int_t                rc;
    ngx_str_t                claim, value;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_jwtgate_verified_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    claim.len = name->len - (sizeof("jwt_claim_") - 1);
    claim.data = name->data + sizeof("jwt_claim_") - 1;

    rc = ngx_http_jwtgate_string_claim(r, ctx->claims, &claim, &value);

    if (rc != NGX_DECLINED) {
        return ngx_http_jwtgate_set_value(v, rc, &value);
    }

    root = ngx_http_jwtgate_claims_tree(r, ctx);
    if (root == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_jwtgate_path_value(r, root, &claim, 1, &value);

    return ngx_http_jwtgate_set_value(v, rc, &value);
}


static ngx_int_t
ngx_http_jwtgate_header_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *name = (ngx_str_t *) data;

    json_t                  *root;
    ngx_int_t                rc;
    ngx_str_t                member, value;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_jwtgate_verified_ctx(r);
    if (ctx == NULL || (root = ngx_http_jwtgate_header_tree(r, ctx)) == NULL)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    member.len = name->len - (sizeof("jwt_header_") - 1);
    member.data = name->data + sizeof("jwt_header_") - 1;

    rc = ngx_http_jwtgate_path_value(r, root, &member, 1, &value);

    return ngx_http_jwtgate_set_value(v, rc, &value);
}


static ngx_int_t
ngx_http_jwtgate_claim_path_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_array_t             *path = (ngx_array_t *) data;

    ngx_int_t                rc;
    ngx_str_t                value;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_jwtgate_verified_ctx(r);

    rc = ngx_http_jwtgate_claim_value(r, ctx, path, &value);

    return ngx_http_jwtgate_set_value(v, rc, &value);
}


static ngx_int_t
ngx_http_jwtgate_header_path_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_array_t             *path = (ngx_array_t *) data;

    json_t                  *root;
    ngx_int_t                rc;
    ngx_str_t                value;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_jwtgate_verified_ctx(r);
    if (ctx == NULL || (root = ngx_http_jwtgate_header_tree(r, ctx)) == NULL)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    rc = ngx_http_jwtgate_path_value(r, root, path->elts, path->nelts,
                                     &value);

    return ngx_http_jwtgate_set_value(v, rc, &value);
}


static ngx_int_t
ngx_http_jwtgate_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_jwtgate_verified_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ngx_http_jwtgate_payload(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_jwtgate_set_value(v, NGX_OK, &ctx->payload);
}


static ngx_int_t
ngx_http_jwtgate_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                value;
    ngx_http_jwtgate_ctx_t  *ctx;

    static ngx_str_t  names[] = {
        ngx_null_string,
        ngx_string("BYPASS"),
        ngx_string("MISS"),
        ngx_string("HIT")
    };

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgate_module);
    if (ctx == NULL || ctx->cache_status == NGX_HTTP_JWTGATE_CACHE_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    value = names[ctx->cache_status];

    return ngx_http_jwtgate_set_value(v, NGX_OK, &value);
}


static ngx_int_t
ngx_http_jwtgate_api_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *value;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgate_module);
    if (ctx == NULL || ctx->api == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the request holds a reference to the snapshot the API lives in */
    value = (ngx_str_t *) ((char *) ctx->api + data);

    return ngx_http_jwtgate_set_value(v, NGX_OK, value);
}


/* $jwtgate_dpop_jkt, $jwtgate_cnf_x5t: the key or certificate a request's
 * token was verified to be bound to (empty: not bound, or not checked). */

static ngx_int_t
ngx_http_jwtgate_ctx_str_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *value;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgate_module);
    if (ctx == NULL || ctx->status != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    value = (ngx_str_t *) ((char *) ctx + data);

    if (value->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_jwtgate_set_value(v, NGX_OK, value);
}


/* $jwtgate_refusal, $jwtgate_error: set for a refused request only. */

static ngx_int_t
ngx_http_jwtgate_refusal_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *value;
    ngx_http_jwtgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_jwtgate_module);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    value = (ngx_str_t *) ((char *) ctx + data);

    if (value->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_jwtgate_set_value(v, NGX_OK, value);
}
