
/*
 * ngx_http_jwtgate_module: sender-constrained access tokens. A token whose
 * "cnf" names a DPoP key ("jkt", RFC 9449) is accepted only with the DPoP
 * scheme and a proof signed by that key for this very request (method,
 * URI, this token, recent, never seen before); a token whose "cnf" names a
 * certificate ("x5t#S256", RFC 8705 section 3) only over TLS with that
 * client certificate, verified by nginx. jwtgate_dpop and the API's
 * require_binding (snapshot) say whether unbound tokens pass.
 *
 * The replay cache and the nonces are in ngx_http_jwtgate_replay.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ngx_http_jwtgate_module.h"


#define NGX_HTTP_JWTGATE_INVALID_TOKEN  "invalid_token"
#define NGX_HTTP_JWTGATE_INVALID_PROOF  "invalid_dpop_proof"
#define NGX_HTTP_JWTGATE_USE_NONCE      "use_dpop_nonce"


typedef struct {
    ngx_uint_t                    status;
    const char                   *error;
    const char                   *description;
    const char                   *reason;
} ngx_http_jwtgate_binding_refusal_t;


static ngx_int_t ngx_http_jwtgate_cnf(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, ngx_str_t *jkt, ngx_str_t *x5t);
static ngx_int_t ngx_http_jwtgate_cnf_member(ngx_pool_t *pool, json_t *cnf,
    const char *name, ngx_str_t *out);
static ngx_int_t ngx_http_jwtgate_cert_check(ngx_http_request_t *r,
    ngx_str_t *x5t, const char **reason);
static ngx_int_t ngx_http_jwtgate_proof_check(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_str_t *jkt, ngx_http_jwtgate_binding_refusal_t *ref);
static ngx_int_t ngx_http_jwtgate_proof_header(ngx_http_request_t *r,
    ngx_str_t *proof);
static ngx_int_t ngx_http_jwtgate_htu(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_str_t *htu);
static const char *ngx_http_jwtgate_proof_describe(jg_err err);


/* One per worker: a client's proofs share their header, whose key is then
 * imported once (jg_dpop_verify_cached). */
static jg_dpop_cache  *ngx_http_jwtgate_dpop_cache;


ngx_int_t
ngx_http_jwtgate_dpop_init_process(ngx_cycle_t *cycle)
{
    if (jg_dpop_cache_new(0, &ngx_http_jwtgate_dpop_cache) != JG_OK) {
        /* verification works without it, only slower */
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "jwtgate: no memory for the DPoP key cache");
        ngx_http_jwtgate_dpop_cache = NULL;
    }

    return NGX_OK;
}


void
ngx_http_jwtgate_dpop_exit_process(ngx_cycle_t *cycle)
{
    jg_dpop_cache_free(ngx_http_jwtgate_dpop_cache);
    ngx_http_jwtgate_dpop_cache = NULL;
}


/*
 * A location's DPoP rules: the algorithms (default: every asymmetric one
 * the library verifies) and their names for the challenge's algs="...".
 */

ngx_int_t
ngx_http_jwtgate_dpop_prepare(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *conf)
{
    u_char      *p;
    size_t       len;
    jg_alg       alg;
    ngx_str_t   *names;
    ngx_uint_t   i, a;
    jg_alg_set   algs;
    const char  *name;

    algs = 0;

    if (conf->dpop_algorithms != NULL) {
        names = conf->dpop_algorithms->elts;

        for (i = 0; i < conf->dpop_algorithms->nelts; i++) {
            alg = jg_alg_from_name((char *) names[i].data, names[i].len);

            if (alg == JG_ALG_UNKNOWN
                || !(JG_ALG_BIT(alg) & JG_ALGS_ASYMMETRIC_SIG))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" is not an asymmetric signature "
                                   "algorithm (RFC 9449 allows no other)",
                                   &names[i]);
                return NGX_ERROR;
            }

            algs |= JG_ALG_BIT(alg);
        }

    } else {
        algs = JG_ALGS_ASYMMETRIC_SIG;
    }

    conf->dpop_algs = algs;

    len = 0;

    for (a = 1; a < 64; a++) {
        if ((algs & JG_ALG_BIT(a)) && (name = jg_alg_name((jg_alg) a))) {
            len += ngx_strlen(name) + 1;
        }
    }

    p = ngx_pnalloc(cf->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    conf->dpop_algs_text.data = p;

    for (a = 1; a < 64; a++) {
        if ((algs & JG_ALG_BIT(a)) && (name = jg_alg_name((jg_alg) a))) {
            if (p != conf->dpop_algs_text.data) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, name, ngx_strlen(name));
        }
    }

    conf->dpop_algs_text.len = p - conf->dpop_algs_text.data;

    return NGX_OK;
}


/* Whether the Bearer scheme may be used here at all (the challenge offers
 * it, or only DPoP). */

ngx_uint_t
ngx_http_jwtgate_bearer_ok(ngx_http_jwtgate_loc_conf_t *jlcf,
    ngx_http_jwtgate_ctx_t *ctx)
{
    if (jlcf->dpop == NGX_HTTP_JWTGATE_DPOP_REQUIRED) {
        return 0;
    }

    return ctx->api == NULL || ctx->api->binding != JG_API_BIND_DPOP;
}


/*
 * The binding of an opened token, checked against the request. NGX_OK,
 * NGX_DECLINED (*status, *error, *description and *reason say why; a
 * use_dpop_nonce refusal sets ctx->nonce, a full replay zone
 * ctx->retry_after) or NGX_ERROR.
 *
 * In every mode a token bound to a DPoP key needs the DPoP scheme and its
 * proof: the binding is the token's, not the location's, so no
 * configuration lets it pass as a bearer token.
 */

ngx_int_t
ngx_http_jwtgate_binding(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_uint_t *status, const char **error, const char **description,
    const char **reason)
{
    ngx_int_t                           rc;
    ngx_str_t                           jkt, x5t;
    ngx_uint_t                          binding;
    ngx_http_jwtgate_binding_refusal_t  ref;

    ref.status = NGX_HTTP_UNAUTHORIZED;
    ref.error = NGX_HTTP_JWTGATE_INVALID_TOKEN;
    ref.description = NULL;
    ref.reason = NULL;

    rc = ngx_http_jwtgate_cnf(r, ctx, &jkt, &x5t);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ref.description = "the access token's confirmation is malformed";
        ref.reason = "\"cnf\" is not an object of strings";
        goto refused;
    }

    /* the snapshot's require_binding for the API (jg_api_binding) */
    binding = ctx->api ? ctx->api->binding : JG_API_BIND_NONE;

    if (x5t.len) {
        if (ngx_http_jwtgate_cert_check(r, &x5t, &ref.reason) != NGX_OK) {
            ref.description = "certificate binding";
            goto refused;
        }

        ctx->cnf_x5t = x5t;
    }

    if (jkt.len && !ctx->dpop_scheme) {
        ref.description = "the access token is bound to a DPoP key: "
                          "present it with the DPoP scheme and a proof";
        ref.reason = "a DPoP-bound token without the DPoP scheme";
        goto refused;
    }

    if (ctx->dpop_scheme && jkt.len == 0) {
        /* RFC 9449 section 7.1: the DPoP scheme is for bound tokens */
        ref.description = "the access token is not bound to a DPoP key";
        ref.reason = "the DPoP scheme with a token without \"cnf\".\"jkt\"";
        goto refused;
    }

    if (!ctx->dpop_scheme && !ngx_http_jwtgate_bearer_ok(jlcf, ctx)) {
        ref.description = "this resource requires a DPoP-bound access token";
        ref.reason = jlcf->dpop == NGX_HTTP_JWTGATE_DPOP_REQUIRED
                     ? "a bearer token where jwtgate_dpop is required"
                     : "a bearer token for an API that requires DPoP";
        goto refused;
    }

    if (binding == JG_API_BIND_MTLS && x5t.len == 0) {
        ref.description = "this resource requires a certificate-bound "
                          "access token";
        ref.reason = "the API requires a certificate-bound token";
        goto refused;
    }

    if (binding == JG_API_BIND_ANY && x5t.len == 0 && jkt.len == 0) {
        ref.description = "this resource requires a sender-constrained "
                          "access token";
        ref.reason = "the API requires a DPoP- or certificate-bound token";
        goto refused;
    }

    if (!ctx->dpop_scheme) {
        return NGX_OK;
    }

    rc = ngx_http_jwtgate_proof_check(r, jlcf, ctx, &jkt, &ref);

    if (rc != NGX_DECLINED) {
        return rc;
    }

refused:

    *status = ref.status;
    *error = ref.error;
    *description = ref.description;
    *reason = ref.reason;

    return NGX_DECLINED;
}


/*
 * "cnf"."jkt" and "cnf"."x5t#S256" of the verified claims, copied into the
 * request pool (len 0: absent). NGX_OK, NGX_DECLINED (a "cnf" that is not
 * an object, or members that are not strings) or NGX_ERROR. Tokens without
 * "cnf", nearly all of them, cost one lookup.
 */

static ngx_int_t
ngx_http_jwtgate_cnf(ngx_http_request_t *r, ngx_http_jwtgate_ctx_t *ctx,
    ngx_str_t *jkt, ngx_str_t *x5t)
{
    char        *text;
    json_t      *cnf;
    jg_err       err;
    ngx_int_t    rc;

    ngx_str_null(jkt);
    ngx_str_null(x5t);

    if (!jg_claims_has(ctx->claims, "cnf")) {
        return NGX_OK;
    }

    err = jg_claims_get_json(ctx->claims, "cnf", &text);

    if (err != JG_OK) {
        return err == JG_ERR_NOMEM ? NGX_ERROR : NGX_DECLINED;
    }

    cnf = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    jg_free(text);

    if (cnf == NULL || !json_is_object(cnf)) {
        json_decref(cnf);
        return NGX_DECLINED;
    }

    rc = ngx_http_jwtgate_cnf_member(r->pool, cnf, "jkt", jkt);

    if (rc == NGX_OK) {
        rc = ngx_http_jwtgate_cnf_member(r->pool, cnf, "x5t#S256", x5t);
    }

    json_decref(cnf);

    return rc;
}


static ngx_int_t
ngx_http_jwtgate_cnf_member(ngx_pool_t *pool, json_t *cnf, const char *name,
    ngx_str_t *out)
{
    json_t  *v;

    v = json_object_get(cnf, name);

    if (v == NULL) {
        return NGX_OK;
    }

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return NGX_DECLINED;
    }

    out->len = json_string_length(v);
    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, json_string_value(v), out->len);

    return NGX_OK;
}


/*
 * RFC 8705 section 3: the client certificate of this connection, verified
 * by nginx (ssl_verify_client on or optional, and it passed), and
 * base64url(SHA-256(its DER)) equal to the token's "x5t#S256".
 */

static ngx_int_t
ngx_http_jwtgate_cert_check(ngx_http_request_t *r, ngx_str_t *x5t,
    const char **reason)
{
#if (NGX_HTTP_SSL)
    X509          *cert;
    ngx_str_t      src, dst;
    unsigned int   n;
    u_char         md[EVP_MAX_MD_SIZE];
    u_char         b64[NGX_HTTP_JWTGATE_B64_SHA256_LEN + 4];

    if (r->connection->ssl == NULL) {
        *reason = "a certificate-bound token over plain HTTP";
        return NGX_DECLINED;
    }

    cert = SSL_get1_peer_certificate(r->connection->ssl->connection);

    if (cert == NULL) {
        *reason = "a certificate-bound token without a client certificate";
        return NGX_DECLINED;
    }

    if (SSL_get_verify_result(r->connection->ssl->connection) != X509_V_OK) {
        X509_free(cert);
        *reason = "a certificate-bound token with a client certificate "
                  "that did not verify";
        return NGX_DECLINED;
    }

    if (!X509_digest(cert, EVP_sha256(), md, &n) || n != 32) {
        X509_free(cert);
        *reason = "the client certificate's digest failed";
        return NGX_DECLINED;
    }

    X509_free(cert);

    src.data = md;
    src.len = n;
    dst.data = b64;

    ngx_encode_base64url(&dst, &src);

    if (dst.len != x5t->len
        || CRYPTO_memcmp(dst.data, x5t->data, dst.len) != 0)
    {
        *reason = "the client certificate is not the token's";
        return NGX_DECLINED;
    }

    return NGX_OK;

#else
    *reason = "a certificate-bound token, and nginx is built without TLS";
    return NGX_DECLINED;
#endif
}


/*
 * The DPoP proof of this request (RFC 9449 section 4.3 and 7.1): the
 * library's checks under the location's policy, the proof's key equal to
 * the token's "cnf"."jkt", then the replay cache. NGX_OK, NGX_DECLINED
 * (*ref) or NGX_ERROR.
 */

static ngx_int_t
ngx_http_jwtgate_proof_check(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_str_t *jkt, ngx_http_jwtgate_binding_refusal_t *ref)
{
    size_t           len;
    jg_err           err;
    time_t           leeway;
    ngx_int_t        rc;
    ngx_str_t        proof, htu;
    jg_dpop_policy   policy;
    jg_dpop_result   res;
    u_char           nonce[NGX_HTTP_JWTGATE_NONCE_LEN];

    ref->error = NGX_HTTP_JWTGATE_INVALID_PROOF;

    rc = ngx_http_jwtgate_proof_header(r, &proof);

    if (rc != NGX_OK) {
        ref->description = rc == NGX_DECLINED ? "no DPoP proof"
                                              : "more than one DPoP proof";
        ref->reason = rc == NGX_DECLINED ? "the DPoP scheme without a proof"
                                         : "more than one DPoP header";
        return NGX_DECLINED;
    }

    if (ngx_http_jwtgate_htu(r, jlcf, &htu) != NGX_OK) {
        return NGX_ERROR;
    }

    leeway = ngx_max(jlcf->leeway, NGX_HTTP_JWTGATE_DPOP_LEEWAY);

    ngx_memzero(&policy, sizeof(jg_dpop_policy));

    policy.algs = jlcf->dpop_algs;
    policy.htm = (char *) r->method_name.data;
    policy.htm_len = r->method_name.len;
    policy.htu = (char *) htu.data;
    policy.htu_len = htu.len;
    policy.access_token = (char *) ctx->token.data;
    policy.access_token_len = ctx->token.len;
    policy.now = ngx_time();
    policy.window = jlcf->dpop_window;
    policy.leeway = leeway;

    if (jlcf->dpop_nonce) {
        ngx_http_jwtgate_nonce(jlcf->dpop_replay, jlcf->dpop_window, 0,
                               nonce);
        policy.nonce = (char *) nonce;
        policy.nonce_len = NGX_HTTP_JWTGATE_NONCE_LEN;
    }

    err = jg_dpop_verify_cached((char *) proof.data, proof.len, &policy,
                                ngx_http_jwtgate_dpop_cache, &res, NULL);

    if (err == JG_ERR_DPOP_NONCE) {
        /* the nonce of the previous slot is still good */
        ngx_http_jwtgate_nonce(jlcf->dpop_replay, jlcf->dpop_window, 1,
                               nonce);

        err = jg_dpop_verify_cached((char *) proof.data, proof.len, &policy,
                                    ngx_http_jwtgate_dpop_cache, &res, NULL);

        if (err == JG_ERR_DPOP_NONCE) {
            /* hand out the current one */
            ngx_http_jwtgate_nonce(jlcf->dpop_replay, jlcf->dpop_window, 0,
                                   nonce);
        }
    }

    if (err != JG_OK) {
        if (err == JG_ERR_NOMEM) {
            return NGX_ERROR;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "jwtgate: DPoP proof refused: %s", jg_err_name(err));

        if (err == JG_ERR_DPOP_NONCE || err == JG_ERR_DPOP_NONCE_MISSING) {
            /* RFC 9449 section 9 */
            ctx->nonce.data = ngx_pnalloc(r->pool,
                                          NGX_HTTP_JWTGATE_NONCE_LEN);
            if (ctx->nonce.data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(ctx->nonce.data, nonce, NGX_HTTP_JWTGATE_NONCE_LEN);
            ctx->nonce.len = NGX_HTTP_JWTGATE_NONCE_LEN;

            ref->error = NGX_HTTP_JWTGATE_USE_NONCE;
            ref->description = "a fresh DPoP nonce is required";
            ref->reason = jg_strerror(err);
            return NGX_DECLINED;
        }

        ref->description = ngx_http_jwtgate_proof_describe(err);
        ref->reason = jg_strerror(err);
        return NGX_DECLINED;
    }

    len = ngx_strlen(res.jkt);

    if (len != jkt->len || CRYPTO_memcmp(res.jkt, jkt->data, len) != 0) {
        ref->description = "the DPoP proof is not signed by the token's key";
        ref->reason = "the proof's key is not the token's \"cnf\".\"jkt\"";
        return NGX_DECLINED;
    }

    /* last: a proof is recorded only once it is good */

    rc = ngx_http_jwtgate_replay_check(jlcf->dpop_replay, &res,
                                       &ctx->retry_after, r->connection->log);

    if (rc == NGX_DECLINED) {
        ref->description = "the DPoP proof was used before";
        ref->reason = "a replayed DPoP proof (its jti was seen)";
        return NGX_DECLINED;
    }

    if (rc == NGX_BUSY) {
        /* fails safe: a proof that cannot be recorded could be replayed */
        ref->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        ref->error = NULL;
        ref->description = NULL;
        ref->reason = "the DPoP replay zone is full";
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->dpop_jkt = *jkt;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: DPoP proof verified, its key is the token's");

    return NGX_OK;
}


/*
 * The one DPoP header (RFC 9449 section 4.3: exactly one). NGX_OK,
 * NGX_DECLINED (none) or NGX_BUSY (more than one). Its size is the
 * library's to bound (JG_DPOP_MAX_PROOF_LEN).
 */

static ngx_int_t
ngx_http_jwtgate_proof_header(ngx_http_request_t *r, ngx_str_t *proof)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].key.len == sizeof("DPoP") - 1
                && ngx_strncasecmp(h[i].key.data, (u_char *) "DPoP",
                                   sizeof("DPoP") - 1) == 0)
            {
                *proof = h[i].value;
                n++;
            }
        }
    }

    return n == 0 ? NGX_DECLINED : n == 1 ? NGX_OK : NGX_BUSY;
}


/*
 * The URI the client used (the library drops the query and normalises):
 * jwtgate_dpop_htu_origin, or the scheme of the connection and the Host
 * header (else the server name and the local port), then the path as sent.
 */

static ngx_int_t
ngx_http_jwtgate_htu(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_str_t *htu)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   origin, host, path, port;
    u_char      portbuf[sizeof(":65535")];

    /* the path as the client wrote it, not nginx's decoded r->uri */
    if (r->unparsed_uri.len && r->unparsed_uri.data[0] == '/') {
        path = r->unparsed_uri;

    } else {
        path = r->uri;
    }

    ngx_str_null(&port);

    if (jlcf->dpop_htu_origin != NULL) {
        if (ngx_http_complex_value(r, jlcf->dpop_htu_origin, &origin)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_str_null(&host);

    } else {
#if (NGX_HTTP_SSL)
        if (r->connection->ssl) {
            ngx_str_set(&origin, "https://");
        } else
#endif
        {
            ngx_str_set(&origin, "http://");
        }

        if (r->headers_in.host != NULL) {
            host = r->headers_in.host->value;

        } else {
            host = r->headers_in.server;

            if (host.len == 0) {
                host = ((ngx_http_core_srv_conf_t *)
                        ngx_http_get_module_srv_conf(r, ngx_http_core_module))
                       ->server_name;
            }

            if (ngx_connection_local_sockaddr(r->connection, NULL, 0)
                == NGX_OK)
            {
                port.data = portbuf;
                port.len = ngx_sprintf(portbuf, ":%ui",
                                       ngx_inet_get_port(
                                           r->connection->local_sockaddr))
                           - portbuf;
            }
        }
    }

    len = origin.len + host.len + port.len + path.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    htu->data = p;

    /* host and port may be empty, and memcpy() must not see NULL */
    p = ngx_cpymem(p, origin.data, origin.len);

    if (host.len) {
        p = ngx_cpymem(p, host.data, host.len);
    }

    if (port.len) {
        p = ngx_cpymem(p, port.data, port.len);
    }

    p = ngx_cpymem(p, path.data, path.len);

    htu->len = p - htu->data;

    return NGX_OK;
}


/* error_description for a refused proof: what the client can mend. */

static const char *
ngx_http_jwtgate_proof_describe(jg_err err)
{
    switch (err) {

    case JG_ERR_DPOP_HTM:
        return "the DPoP proof is for another method";

    case JG_ERR_DPOP_HTU:
    case JG_ERR_DPOP_HTU_INVALID:
        return "the DPoP proof is for another URI";

    case JG_ERR_DPOP_IAT_FUTURE:
    case JG_ERR_DPOP_IAT_STALE:
        return "the DPoP proof is not recent";

    case JG_ERR_DPOP_ATH:
    case JG_ERR_DPOP_ATH_MISSING:
        return "the DPoP proof is not for this access token";

    case JG_ERR_ALG_NOT_ALLOWED:
    case JG_ERR_DPOP_ALG_SYMMETRIC:
    case JG_ERR_ALG_NONE:
    case JG_ERR_ALG_UNKNOWN:
        return "the DPoP proof's algorithm is not accepted";

    case JG_ERR_LIMIT_TOKEN_SIZE:
        return "the DPoP proof is too large";

    case JG_ERR_SIGNATURE:
    case JG_ERR_SIGNATURE_LENGTH:
    case JG_ERR_SIGNATURE_RANGE:
        return "the DPoP proof's signature is invalid";

    default:
        return "the DPoP proof is invalid";
    }
}
