/*
 * introspect.c — POST /oauth2/introspect (RFC 7662) and POST /oauth2/revoke
 * (RFC 7009).
 *
 * Both need client authentication. Introspection answers "active": true only
 * to the client the token was issued to, or to a client of a tenant that owns
 * one of the token's audiences (the API's own resource server); to anyone
 * else every token is inactive (RFC 7662 section 2.2 allows this, and it
 * tells nothing). Revocation records the token's jti until its exp, in the
 * store and in the next snapshot, so that gateways refuse it too.
 */
#include <stdio.h>
#include <string.h>

#include "server/core/change.h"
#include "server/core/log.h"
#include "server/core/util.h"
#include "server/oauth/oauth.h"

jg_err oauth_open_token(jgd *d, const view *v, const char *token, jg_claims **out)
{
    jg_open_policy pol = {
        .jwt = {.algs = JG_ALGS_ASYMMETRIC_SIG, .issuer = d->cfg.issuer},
        .key_algs = JG_ALG_BIT(JG_ALG_ECDH_ES) | JG_ALG_BIT(JG_ALG_ECDH_ES_A128KW) |
                    JG_ALG_BIT(JG_ALG_ECDH_ES_A192KW) | JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW) |
                    JG_ALG_BIT(JG_ALG_RSA_OAEP) | JG_ALG_BIT(JG_ALG_RSA_OAEP_256),
        .encs = JG_ENC_BIT(JG_ENC_A256GCM),
        .form = JG_FORM_NESTED,
    };
    return jg_access_token_open(token, strlen(token), v->decrypt_keys, v->verify_keys, &pol, out);
}

/* Whether the caller's tenant owns one of the token's audiences. */
static int owns_audience(const view *v, const char *tenant, const jg_claims *claims)
{
    size_t n = jg_claims_aud_count(claims);
    for (size_t k = 0; k < n; k++) {
        const v_api *api = view_api_by_audience(v, jg_claims_aud_at(claims, k));
        if (api != NULL && strcmp(api->tenant_id, tenant) == 0)
            return 1;
    }
    return 0;
}

static void no_store(request *r)
{
    http_set_header(r, "Cache-Control", "no-store");
    http_set_header(r, "Pragma", "no-cache");
}

/* What introspection and revocation both start with: the current view, the
 * form, an authenticated client and its "token" parameter. On failure the
 * request is answered, everything acquired is released, and -1 returned. */
static int token_request_begin(request *r, view **v, form *f, client_auth *ca, const char **token)
{
    *v = view_acquire(r->d);
    if (*v == NULL) {
        oauth_refuse(r, R_SERVER_ERROR, 503, "temporarily_unavailable", "starting");
        return -1;
    }
    if (oauth_parse_post(r, f, NULL) != 0) {
        view_release(*v);
        return -1;
    }
    if (client_authenticate(r, f, *v, ca) != 0)
        goto fail;
    *token = form_get(f, "token", NULL);
    if (*token == NULL) {
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request", "token is missing");
        goto fail;
    }
    return 0;
fail:
    form_free(f);
    view_release(*v);
    return -1;
}

void oauth_introspect(request *r)
{
    view *v;
    form f;
    client_auth ca;
    const char *token;
    if (token_request_begin(r, &v, &f, &ca, &token) != 0)
        return;
    jg_claims *claims = NULL;
    atomic_fetch_add_explicit(&r->d->m.introspections, 1, memory_order_relaxed);
    json_t *doc = json_pack("{sb}", "active", 0);
    const char *client_id = NULL, *jti = NULL;
    if (strlen(token) <= 16384 && oauth_open_token(r->d, v, token, &claims) == JG_OK &&
        jg_claims_get_string(claims, "client_id", &client_id) == JG_OK &&
        jg_claims_get_string(claims, "jti", &jti) == JG_OK && !view_is_revoked(v, jti)) {
        const v_client *owner = view_client(v, client_id);
        int allowed =
            strcmp(client_id, ca.client_id) == 0 || owns_audience(v, ca.client->tenant_id, claims);
        if (owner != NULL && !owner->suspended && allowed) {
            char *text = NULL;
            json_t *c = NULL;
            if (jg_claims_to_json(claims, 0, &text) == JG_OK)
                c = json_loads(text, 0, NULL);
            jg_free(text);
            if (json_is_object(c)) {
                json_decref(doc);
                doc = c;
                json_object_set_new(doc, "active", json_true());
                /* a DPoP-bound token's "cnf" is returned as is (RFC 9449 section 6.2) */
                int dpop = json_is_string(json_object_get(json_object_get(doc, "cnf"), "jkt"));
                json_object_set_new(doc, "token_type", json_string(dpop ? "DPoP" : "Bearer"));
            } else {
                json_decref(c);
            }
        }
    }
    http_json_new(r, 200, doc);
    no_store(r);
    jg_claims_free(claims);
    form_free(&f);
    view_release(v);
}

void oauth_revoke(request *r)
{
    view *v;
    form f;
    client_auth ca;
    const char *token;
    if (token_request_begin(r, &v, &f, &ca, &token) != 0)
        return;
    jg_claims *claims = NULL;
    const char *client_id = NULL, *jti = NULL;
    int64_t exp = 0;
    /* RFC 7009 section 2.2: an invalid, expired or unknown token is no error. */
    if (strlen(token) > 16384 || oauth_open_token(r->d, v, token, &claims) != JG_OK ||
        jg_claims_get_string(claims, "client_id", &client_id) != JG_OK ||
        jg_claims_get_string(claims, "jti", &jti) != JG_OK ||
        jg_claims_get_int(claims, "exp", &exp) != JG_OK) {
        http_body(r, 200, "application/json", strdup("{}"), 2);
        no_store(r);
        goto out;
    }
    if (strcmp(client_id, ca.client_id) != 0) {
        oauth_refuse(r, R_UNAUTHORIZED_CLIENT, 400, "unauthorized_client",
                     "the token was issued to another client");
        goto out;
    }
    if (!view_is_revoked(v, jti)) {
        char actor[300];
        snprintf(actor, sizeof actor, "client:%s", client_id);
        change c;
        json_t *row = json_pack("{ss ss sI sI}", "jti", jti, "client_id", client_id, "exp",
                                (json_int_t)exp, "revoked_at", (json_int_t)sv_now());
        store_err err = row != NULL ? change_begin(r->d, actor, &c) : ST_NOMEM;
        if (err == ST_OK) {
            err = st_insert(c.tx, T_REVOKED, row);
            if (err == ST_OK)
                err = change_audit(&c, "token.revoke", ca.client->tenant_id, jti, NULL, row);
            if (err == ST_OK)
                err = change_commit(&c);
            else
                change_abort(&c);
        }
        json_decref(row);
        if (err != ST_OK && err != ST_CONFLICT) {
            log_msg(L_ERR, "revoke: %s", store_err_name(err));
            char why[160];
            snprintf(why, sizeof why, "the revocation could not be stored (%s): retry",
                     store_err_name(err));
            oauth_refuse(r, R_SERVER_ERROR, 503, "temporarily_unavailable", why);
            goto out;
        }
        atomic_fetch_add_explicit(&r->d->m.revocations, 1, memory_order_relaxed);
    }
    http_body(r, 200, "application/json", strdup("{}"), 2);
    no_store(r);
out:
    jg_claims_free(claims);
    form_free(&f);
    view_release(v);
}
