/*
 * token.c — POST /oauth2/token: the client credentials grant (RFC 6749
 * section 4.4) with scope and resource indicators (RFC 8707), issuing an
 * encrypted RFC 9068 access token: JWE(ECDH-ES+A256KW, cty JWT) around a JWS
 * (typ at+jwt) signed by the active issuer key.
 *
 * Which APIs a token is for: the resources asked for (each must be the
 * audience of an API the client holds an approved subscription to, and that
 * API published, or deprecated before its sunset); without "resource", the
 * subscribed APIs that define a requested scope; without either, every
 * subscribed API. The scope granted is the requested scope intersected with
 * what those subscriptions approved (all of it when none was requested).
 *
 * DPoP (RFC 9449): a request with a DPoP header gets a token bound to the
 * proof's key ("cnf": {"jkt": thumbprint}, token_type DPoP). The proof is
 * checked for this endpoint (htm POST, htu the token endpoint), fresh (iat
 * within DPOP_WINDOW), asymmetric, and used once: its jti is recorded in
 * the store, so a replay is refused by every node of a cluster. With
 * --dpop-nonce a proof must also carry the server's current (or previous)
 * nonce (dpop_nonce.h); without one it is answered use_dpop_nonce and every
 * answer carries a fresh DPoP-Nonce.
 *
 * Certificate-bound tokens (RFC 8705 section 3): a client that
 * authenticated by certificate (tls_client_auth, self-signed), or whose
 * token_binding is mtls_required, gets "cnf": {"x5t#S256": ...} of the
 * certificate a trusted proxy forwarded (client_cert.h); mtls_required
 * issues nothing without one. A certificate that merely comes along with
 * another authentication binds nothing (the client did not ask for it). A
 * DPoP proof on such a request binds the token to both (RFC 9449 section
 * 6.1 allows several confirmation methods in one cnf; token_type DPoP).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwtgate/dpop.h>

#include "server/core/log.h"
#include "server/core/util.h"
#include "server/oauth/client_cert.h"
#include "server/oauth/dpop_nonce.h"
#include "server/oauth/oauth.h"

#define MAX_SCOPES    64
#define MAX_RESOURCES 16
/* A proof is fresh for a minute (iat within 60 s before now, 5 s of clock
 * skew either way): long enough for a slow client, short enough that the
 * store keeps few jtis. */
#define DPOP_WINDOW 60
#define DPOP_LEEWAY 5

/* Split a scope string into tokens (in place in `buf`). RFC 6749 section
 * 3.3: scope = scope-token *( SP scope-token ), so exactly one space
 * between tokens and none around them. */
static int split_scope(char *buf, char **out, size_t *n)
{
    *n = 0;
    char *p = buf;
    for (;;) {
        char *sp = strchr(p, ' ');
        if (sp != NULL)
            *sp = '\0';
        if (!sv_is_scope_token(p) || *n == MAX_SCOPES)
            return -1; /* also an empty token: a leading, trailing or double space */
        out[(*n)++] = p;
        if (sp == NULL)
            return 0;
        p = sp + 1;
    }
}

static int json_has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

/* Add `s` to the string array if it is not there yet. */
static void add_unique(json_t *arr, const char *s)
{
    if (!json_has_string(arr, s))
        json_array_append_new(arr, json_string(s));
}

/* Record a proof's jti until it expires; -1 if it was seen before (by any
 * node) or cannot be stored (then the proof is refused: fail closed). */
static int dpop_once(jgd *d, const jg_dpop_result *p)
{
    char id[300];
    if (snprintf(id, sizeof id, "dpop:%s:%.*s", p->jkt, (int)p->jti_len, p->jti) >= (int)sizeof id)
        return -1;
    json_t *row = json_pack("{ss sI}", "id", id, "exp", (json_int_t)p->expires);
    store_tx *tx = NULL;
    int rc = -1;
    if (row != NULL && store_begin(d->st, 1, &tx) == ST_OK) {
        if (st_insert(tx, T_ASSERTIONS, row) == ST_OK && store_commit(tx) == ST_OK)
            rc = 0;
        else
            store_rollback(tx);
    }
    json_decref(row);
    return rc;
}

/* The allow-list of proof algorithms, parsed once (not per request). */
static pthread_once_t dpop_once_flag = PTHREAD_ONCE_INIT;
static jg_alg_set dpop_algs;

static void dpop_algs_parse(void)
{
    if (jg_alg_set_parse(OAUTH_DPOP_ALGS, &dpop_algs) != JG_OK)
        dpop_algs = 0; /* refused below: fail closed */
}

/* One proof-key cache per HTTP thread (jg_dpop_cache is single-threaded):
 * made on a thread's first proof, freed when the thread exits (the pool's
 * threads exit at shutdown). */
static pthread_key_t dpop_cache_key;
static pthread_once_t dpop_cache_once = PTHREAD_ONCE_INIT;

static void dpop_cache_release(void *c)
{
    jg_dpop_cache_free(c);
}

static void dpop_cache_key_make(void)
{
    (void)pthread_key_create(&dpop_cache_key, dpop_cache_release);
}

static jg_dpop_cache *dpop_cache(void)
{
    pthread_once(&dpop_cache_once, dpop_cache_key_make);
    jg_dpop_cache *c = pthread_getspecific(dpop_cache_key);
    if (c == NULL && jg_dpop_cache_new(0, &c) == JG_OK && pthread_setspecific(dpop_cache_key, c)) {
        jg_dpop_cache_free(c); /* no slot: verify without a cache */
        c = NULL;
    }
    return c;
}

/* Answer use_dpop_nonce (RFC 9449 section 8); the DPoP-Nonce header is
 * added by token_request for every answer. */
static void refuse_nonce(request *r, const char *why)
{
    oauth_refuse(r, R_USE_DPOP_NONCE, 400, "use_dpop_nonce", why);
}

/* The DPoP header, if any: 0 none, 1 a valid proof (jkt set), -1 refused
 * (answered: 400 invalid_dpop_proof, RFC 9449 section 5, or
 * use_dpop_nonce). */
static int dpop_check(request *r, char jkt[44])
{
    const char *proof = http_req_header(r, "DPoP");
    if (proof == NULL)
        return 0;
    jg_dpop_policy pol = {0};
    jg_dpop_result res;
    jg_detail why;
    const char *te = r->d->token_endpoint;
    char nonce[2][44];
    pol.htm = "POST";
    pol.htm_len = 4;
    pol.htu = te;
    pol.htu_len = strlen(te);
    pol.window = DPOP_WINDOW;
    pol.leeway = DPOP_LEEWAY;
    pthread_once(&dpop_once_flag, dpop_algs_parse);
    pol.algs = dpop_algs;
    jg_err err = dpop_algs != 0 ? JG_OK : JG_ERR_ALGS_EMPTY;
    if (err == JG_OK && r->d->cfg.dpop_nonce) {
        int64_t now = sv_now();
        if (dpop_nonce_make(r->d, now, 0, nonce[0]) != 0 ||
            dpop_nonce_make(r->d, now, 1, nonce[1]) != 0) {
            oauth_refuse(r, R_SERVER_ERROR, 500, "server_error", "no DPoP nonce");
            return -1;
        }
        pol.nonce = nonce[0];
        pol.nonce_len = 43;
    }
    jg_dpop_cache *cache = dpop_cache();
    if (err == JG_OK)
        err = jg_dpop_verify_cached(proof, strlen(proof), &pol, cache, &res, &why);
    /* the previous slot's: one more signature check, only for a proof
     * whose nonce is not the current one */
    if (err == JG_ERR_DPOP_NONCE && pol.nonce != NULL) {
        pol.nonce = nonce[1];
        err = jg_dpop_verify_cached(proof, strlen(proof), &pol, cache, &res, &why);
    }
    if (err == JG_ERR_DPOP_NONCE_MISSING || err == JG_ERR_DPOP_NONCE) {
        refuse_nonce(r, err == JG_ERR_DPOP_NONCE_MISSING
                            ? "this server requires a DPoP nonce: use the DPoP-Nonce header's"
                            : "the DPoP nonce is stale or unknown: use the DPoP-Nonce header's");
        return -1;
    }
    if (err != JG_OK) {
        char msg[400], det[300];
        det[0] = '\0';
        (void)jg_detail_format(&why, det, sizeof det);
        snprintf(msg, sizeof msg, "the DPoP proof was refused: %s%s%s", jg_strerror(err),
                 det[0] ? ": " : "", det);
        oauth_refuse(r, R_INVALID_DPOP_PROOF, 400, "invalid_dpop_proof", msg);
        return -1;
    }
    if (dpop_once(r->d, &res) != 0) {
        oauth_refuse(r, R_INVALID_DPOP_PROOF, 400, "invalid_dpop_proof",
                     "the DPoP proof was used before");
        return -1;
    }
    memcpy(jkt, res.jkt, 44);
    return 1;
}

static void issue(request *r, view *v, const client_auth *ca, json_t *aud, const char *scope,
                  const char *jkt, const char *x5t)
{
    jgd *d = r->d;
    char *jti = sv_new_id("", 16);
    int64_t now = sv_now();
    const char *tenant = ca->client->tenant_id;
    jg_claims *claims = NULL;
    char *token = NULL;
    size_t token_len = 0;
    const char *auds[MAX_RESOURCES + 64];
    size_t naud = 0;
    size_t i;
    json_t *a;
    json_array_foreach (aud, i, a) {
        if (naud < sizeof auds / sizeof auds[0])
            auds[naud++] = json_string_value(a);
    }
    jg_err err = jti != NULL ? jg_claims_new(&claims) : JG_ERR_NOMEM;
    if (err == JG_OK)
        err = jg_claims_set_string(claims, "iss", d->cfg.issuer);
    if (err == JG_OK)
        err = jg_claims_set_string(claims, "sub", ca->client_id);
    if (err == JG_OK)
        err = jg_claims_set_string(claims, "client_id", ca->client_id);
    if (err == JG_OK)
        err = jg_claims_set_aud(claims, auds, naud);
    if (err == JG_OK && *scope != '\0')
        err = jg_claims_set_string(claims, "scope", scope);
    if (err == JG_OK && tenant != NULL)
        err = jg_claims_set_string(claims, "tenant", tenant);
    if (err == JG_OK)
        err = jg_claims_set_int(claims, "iat", now);
    if (err == JG_OK)
        err = jg_claims_set_int(claims, "exp", now + d->cfg.token_ttl);
    if (err == JG_OK)
        err = jg_claims_set_string(claims, "jti", jti);
    if (err == JG_OK && (jkt != NULL || x5t != NULL)) {
        /* both base64url: nothing to escape */
        char cnf[160];
        snprintf(cnf, sizeof cnf, "{%s%s%s%s%s%s%s}", jkt != NULL ? "\"jkt\":\"" : "",
                 jkt != NULL ? jkt : "", jkt != NULL ? "\"" : "",
                 jkt != NULL && x5t != NULL ? "," : "", x5t != NULL ? "\"x5t#S256\":\"" : "",
                 x5t != NULL ? x5t : "", x5t != NULL ? "\"" : "");
        err = jg_claims_set_json(claims, "cnf", cnf);
    }
    jg_seal_opts opts = {.enc = JG_ENC_A256GCM};
    if (err == JG_OK)
        err = jg_access_token_seal(claims, v->sign_key, v->enc_key, &opts, &token, &token_len);
    jg_claims_free(claims);
    free(jti);
    if (err != JG_OK) {
        log_msg(L_ERR, "token: sealing failed: %s", jg_err_name(err));
        oauth_refuse(r, R_SERVER_ERROR, 500, "server_error", "the token could not be issued");
        return;
    }
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"access_token\":\"");
    sv_buf_add(&b, token, token_len);
    sv_buf_printf(&b, "\",\"expires_in\":%lld", (long long)d->cfg.token_ttl);
    if (*scope != '\0') {
        json_t *tmp = json_string(scope);
        char *scope_json = tmp != NULL ? json_dumps(tmp, JSON_ENCODE_ANY) : NULL;
        json_decref(tmp);
        sv_buf_puts(&b, ",\"scope\":");
        sv_buf_puts(&b, scope_json != NULL ? scope_json : "\"\"");
        free(scope_json);
    }
    sv_buf_puts(&b, jkt != NULL ? ",\"token_type\":\"DPoP\"}" : ",\"token_type\":\"Bearer\"}");
    jg_free_secret(token, token_len);
    size_t len = 0;
    char *body = sv_buf_take(&b, &len);
    http_body(r, 200, "application/json", body, len);
    http_set_header(r, "Cache-Control", "no-store");
    http_set_header(r, "Pragma", "no-cache");
    atomic_fetch_add_explicit(&d->m.tokens_issued, 1, memory_order_relaxed);
}

static void token_request(request *r, view *v)
{
    static const char *const multi[] = {"resource", NULL};
    form f;
    if (oauth_parse_post(r, &f, multi) != 0)
        return;
    client_auth ca;
    json_t *aud = NULL, *granted = NULL, *approved = NULL;
    char *scope_buf = NULL;
    char jkt[44];
    int bound = 0;
    if (client_authenticate(r, &f, v, &ca) != 0)
        goto out;
    const char *grant = form_get(&f, "grant_type", NULL);
    if (grant == NULL) {
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request", "grant_type is missing");
        goto out;
    }
    if (strcmp(grant, "client_credentials") != 0) {
        oauth_refuse(r, R_UNSUPPORTED_GRANT_TYPE, 400, "unsupported_grant_type",
                     "only client_credentials is supported");
        goto out;
    }
    if (ca.client->suspended) {
        oauth_refuse(r, R_UNAUTHORIZED_CLIENT, 400, "unauthorized_client",
                     "the client is suspended");
        goto out;
    }
    const char *scope_param = form_get(&f, "scope", NULL);
    char *req_scopes[MAX_SCOPES];
    size_t nscopes = 0;
    if (scope_param != NULL) {
        scope_buf = strdup(scope_param);
        if (scope_buf == NULL || split_scope(scope_buf, req_scopes, &nscopes) != 0 ||
            nscopes == 0) {
            oauth_refuse(r, R_INVALID_SCOPE, 400, "invalid_scope", "malformed scope");
            goto out;
        }
    }
    const char *resources[MAX_RESOURCES];
    size_t nres = 0;
    for (size_t i = 0; i < f.count; i++) {
        if (strcmp(f.name[i], "resource") != 0)
            continue;
        if (nres == MAX_RESOURCES || !sv_is_absolute_uri(f.value[i])) {
            oauth_refuse(r, R_INVALID_TARGET, 400, "invalid_target",
                         "resource must be an absolute URI without a fragment");
            goto out;
        }
        resources[nres++] = f.value[i];
    }
    aud = json_array();
    approved = json_array();
    granted = json_array();
    if (aud == NULL || approved == NULL || granted == NULL) {
        oauth_refuse(r, R_SERVER_ERROR, 500, "server_error", NULL);
        goto out;
    }
    /* Each approved subscription whose API is usable now, with its
     * scopes that the API still defines. */
    const v_client *c = ca.client;
    int64_t now = sv_now();
    for (size_t k = 0; k < nres; k++) {
        int found = 0;
        for (size_t i = 0; i < c->nsubs; i++) {
            const v_sub *s = &c->subs[i];
            const v_api *api = view_api(v, s->api_id);
            if (api == NULL || !view_api_usable(api, now) ||
                strcmp(api->audience, resources[k]) != 0)
                continue;
            found = 1;
            add_unique(aud, resources[k]);
            for (size_t m = 0; m < s->nscopes; m++)
                if (view_sub_has_scope(s, api, s->scopes[m]))
                    add_unique(approved, s->scopes[m]);
        }
        if (!found) {
            oauth_refuse(r, R_INVALID_TARGET, 400, "invalid_target",
                         "the client holds no approved subscription to that resource");
            goto out;
        }
    }
    if (nres == 0) {
        for (size_t i = 0; i < c->nsubs; i++) {
            const v_sub *s = &c->subs[i];
            const v_api *api = view_api(v, s->api_id);
            if (api == NULL || !view_api_usable(api, now))
                continue;
            int wanted = nscopes == 0;
            for (size_t k = 0; k < nscopes && !wanted; k++)
                wanted = view_sub_has_scope(s, api, req_scopes[k]);
            if (!wanted)
                continue;
            add_unique(aud, api->audience);
            for (size_t m = 0; m < s->nscopes; m++)
                if (view_sub_has_scope(s, api, s->scopes[m]))
                    add_unique(approved, s->scopes[m]);
        }
        if (json_array_size(aud) == 0) {
            oauth_refuse(r, R_INVALID_SCOPE, 400, "invalid_scope",
                         nscopes > 0 ? "no approved subscription grants the requested scope"
                                     : "the client holds no approved subscription");
            goto out;
        }
    }
    size_t i;
    json_t *s;
    if (nscopes == 0) {
        json_array_foreach (approved, i, s)
            add_unique(granted, json_string_value(s));
    } else {
        for (size_t k = 0; k < nscopes; k++)
            if (json_has_string(approved, req_scopes[k]))
                add_unique(granted, req_scopes[k]);
    }
    if (json_array_size(granted) == 0 && nscopes > 0) {
        oauth_refuse(r, R_INVALID_SCOPE, 400, "invalid_scope",
                     "none of the requested scopes is approved for those resources");
        goto out;
    }
    if (v->sign_key == NULL || v->enc_key == NULL) {
        oauth_refuse(r, R_SERVER_ERROR, 503, "temporarily_unavailable", "no active keys");
        goto out;
    }
    const client_cert *cert = ca.cert;
    int cert_state = ca.by_cert                           ? 1
                     : c->binding == V_BIND_MTLS_REQUIRED ? client_cert_get(r, &cert)
                                                          : 0;
    if (c->binding == V_BIND_MTLS_REQUIRED && cert == NULL) {
        /* before the proof, so that none is spent; invalid_request: the
         * client did authenticate, a part of the request is missing */
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request",
                     cert_state < 0 ? "the client certificate forwarded by the proxy is malformed"
                                    : "this client's tokens are certificate-bound (RFC 8705): "
                                      "connect with a TLS client certificate");
        goto out;
    }
    /* last, so that a proof is spent only on a request that is otherwise
     * granted; an application bound to none ignores the header (RFC 9449
     * section 10.2: as a server without DPoP would) */
    if (c->binding != V_BIND_NONE && (bound = dpop_check(r, jkt)) < 0)
        goto out;
    if (!bound && c->binding == V_BIND_DPOP_REQUIRED) {
        oauth_refuse(r, R_INVALID_DPOP_PROOF, 400, "invalid_dpop_proof",
                     "this client's tokens are DPoP-bound: send a DPoP proof");
        goto out;
    }
    sv_buf sb = {0};
    json_array_foreach (granted, i, s) {
        if (i > 0)
            sv_buf_puts(&sb, " ");
        sv_buf_puts(&sb, json_string_value(s));
    }
    char *scope = sv_buf_take(&sb, NULL);
    issue(r, v, &ca, aud, scope != NULL ? scope : "", bound ? jkt : NULL,
          cert != NULL ? cert->x5t : NULL);
    free(scope);
out:
    free(scope_buf);
    json_decref(aud);
    json_decref(approved);
    json_decref(granted);
    form_free(&f);
}

void oauth_token(request *r)
{
    double t0 = sv_mono();
    view *v = view_acquire(r->d);
    if (v == NULL) {
        oauth_refuse(r, R_SERVER_ERROR, 503, "temporarily_unavailable", "starting");
        return;
    }
    token_request(r, v);
    view_release(v);
    /* RFC 9449 section 8: every answer carries the nonce to use next */
    char nonce[44];
    if (r->d->cfg.dpop_nonce && dpop_nonce_make(r->d, sv_now(), 0, nonce) == 0)
        http_set_header(r, "DPoP-Nonce", nonce);
    metrics_token_latency(&r->d->m, sv_mono() - t0);
}
