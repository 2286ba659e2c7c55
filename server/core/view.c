/* view.c — build, swap and share the read model (see view.h). */
#include "server/core/view.h"

#include <stdlib.h>
#include <string.h>

#include "server/core/log.h"
#include "server/core/masterkey.h"
#include "server/core/util.h"

/* A warn line per key of a client's stored JWKS that the library skipped
 * (which key, why; never the key): such a key cannot authenticate. */
static void log_skipped(const char *client_id, const jg_jwks *set)
{
    for (size_t i = 0; i < jg_jwks_skipped_count(set); i++) {
        size_t pos = 0;
        const char *kid = NULL;
        jg_err why = JG_OK;
        if (jg_jwks_skipped_at(set, i, &pos, &kid, &why) != JG_OK)
            continue;
        char shown_client[65], shown_kid[65];
        sv_printable(shown_client, sizeof shown_client, client_id);
        sv_printable(shown_kid, sizeof shown_kid, kid != NULL ? kid : "");
        log_msg(L_WARN, "client %s: jwks key %zu (kid \"%s\") skipped: %s", shown_client, pos,
                shown_kid, jg_strerror(why));
    }
}
static void view_free(view *v)
{
    if (v == NULL)
        return;
    if (v->base != NULL) {
        json_decref(v->revoked);
        view_release(v->base);
        free(v);
        return;
    }
    for (size_t i = 0; i < v->npk; i++)
        jg_jwks_free(v->pk[i].keys);
    free(v->pk);
    json_decref(v->clients);
    json_decref(v->apis);
    json_decref(v->subscriptions);
    json_decref(v->revoked);
    json_decref(v->key_rows);
    jg_jwk_free(v->sign_key);
    jg_jwk_free(v->enc_key);
    jg_jwks_free(v->decrypt_keys);
    jg_jwks_free(v->verify_keys);
    if (v->decrypt_jwks != NULL)
        jg_free_secret(v->decrypt_jwks, 0);
    jg_free(v->jwks_json);
    free(v->metadata_json);
    free(v);
}

void view_release(view *v)
{
    if (v != NULL && atomic_fetch_sub(&v->refs, 1) == 1)
        view_free(v);
}

view *view_acquire(jgd *d)
{
    pthread_mutex_lock(&d->view_mu);
    view *v = d->view;
    if (v != NULL)
        atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&d->view_mu);
    return v;
}

void view_install(jgd *d, view *v)
{
    pthread_mutex_lock(&d->view_mu);
    view *old = d->view;
    d->view = v;
    pthread_mutex_unlock(&d->view_mu);
    view_release(old);
}

int view_derive_revoked(const view *old, const char *jti, int64_t exp, int64_t version, view **out)
{
    *out = NULL;
    view *base = old->base != NULL ? old->base : (view *)old;
    view *v = malloc(sizeof *v);
    if (v == NULL)
        return -1;
    memcpy(v, base, sizeof *v);
    atomic_init(&v->refs, 1);
    v->base = base;
    v->version = version;
    v->built_at = sv_now();
    v->revoked = json_object();
    if (v->revoked == NULL) {
        free(v);
        return -1;
    }
    const char *k;
    json_t *e;
    int rc = 0;
    json_object_foreach (old->revoked, k, e) {
        if (json_integer_value(e) >= v->built_at && json_object_set(v->revoked, k, e) != 0)
            rc = -1;
    }
    if (rc != 0 || json_object_set_new(v->revoked, jti, json_integer(exp)) != 0) {
        json_decref(v->revoked);
        free(v);
        return -1;
    }
    atomic_fetch_add(&base->refs, 1);
    *out = v;
    return 0;
}

static int pk_cmp(const void *a, const void *b)
{
    return strcmp(((const pk_client *)a)->client_id, ((const pk_client *)b)->client_id);
}

const jg_jwks *view_client_keys(const view *v, const char *client_id)
{
    pk_client probe = {client_id, NULL};
    const pk_client *hit = bsearch(&probe, v->pk, v->npk, sizeof *v->pk, pk_cmp);
    return hit != NULL ? hit->keys : NULL;
}

/* Load the keys that are in use: private ones unsealed with the master key. */
static int load_keys(jgd *d, store_tx *tx, view *v)
{
    json_t *rows = NULL;
    if (st_list(tx, T_KEYS, NULL, 0, &rows) != ST_OK)
        return -1;
    int rc = -1;
    if (jg_jwks_new(&v->decrypt_keys) != JG_OK || jg_jwks_new(&v->verify_keys) != JG_OK ||
        (v->key_rows = json_array()) == NULL)
        goto out;
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        const char *state = json_string_value(json_object_get(row, "state"));
        const char *id = json_string_value(json_object_get(row, "id"));
        const char *purpose = json_string_value(json_object_get(row, "purpose"));
        const char *sealed = json_string_value(json_object_get(row, "private_jwe"));
        if (state == NULL || id == NULL || purpose == NULL || sealed == NULL)
            goto out;
        if (strcmp(state, "retired") == 0)
            continue;
        char *priv = NULL;
        if (masterkey_open(d->master, id, sealed, &priv) != 0) {
            log_msg(L_ERR, "keys: key %s does not open with this master key", id);
            goto out;
        }
        jg_jwk *key = NULL, *pub = NULL;
        jg_err err = jg_jwk_parse(priv, strlen(priv), 0, &key);
        jg_free_secret(priv, 0);
        if (err == JG_OK)
            err = jg_jwk_public(key, &pub);
        int active = strcmp(state, "active") == 0;
        if (err == JG_OK && strcmp(purpose, "signing") == 0) {
            err = jg_jwks_add(v->verify_keys, pub);
            if (err == JG_OK && active && v->sign_key == NULL)
                v->sign_key = jg_jwk_ref(key);
        } else if (err == JG_OK) {
            err = jg_jwks_add(v->decrypt_keys, key);
            if (err == JG_OK && active && v->enc_key == NULL)
                v->enc_key = jg_jwk_ref(pub);
        }
        jg_jwk_free(key);
        jg_jwk_free(pub);
        if (err != JG_OK) {
            log_msg(L_ERR, "keys: key %s: %s", id, jg_strerror(err));
            goto out;
        }
        json_t *pubrow = json_deep_copy(row);
        if (pubrow == NULL)
            goto out;
        json_object_del(pubrow, "private_jwe");
        json_array_append_new(v->key_rows, pubrow);
    }
    if (jg_jwks_to_json(v->verify_keys, 0, &v->jwks_json, &v->jwks_len) != JG_OK ||
        jg_jwks_to_json(v->decrypt_keys, JG_EXPORT_PRIVATE, &v->decrypt_jwks, NULL) != JG_OK)
        goto out;
    rc = 0;
out:
    json_decref(rows);
    return rc;
}

/* Whether an API's subscriptions may get tokens (the sunset of a
 * deprecated API is checked per request: time passes between views). */
static int api_usable(const json_t *api, int64_t now)
{
    const char *state = json_string_value(json_object_get(api, "state"));
    if (state == NULL)
        return 0;
    if (strcmp(state, "published") == 0)
        return 1;
    if (strcmp(state, "deprecated") != 0)
        return 0;
    const json_t *sunset = json_object_get(api, "sunset");
    return now == 0 || !json_is_integer(sunset) || json_integer_value(sunset) > now;
}

/* The scopes of a subscription that its API still defines. The admin API
 * trims subscriptions when an API drops a scope; this is the second line, so
 * that a token, the snapshot and the gateway never carry a scope the API
 * does not define now, whatever the stored row says. */
static json_t *current_scopes(const json_t *sub_scopes, const json_t *api_scopes)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *s, *t;
    json_array_foreach (sub_scopes, i, s) {
        int defined = 0;
        json_array_foreach (api_scopes, j, t)
            defined |= json_equal(s, t);
        if (defined && out != NULL)
            json_array_append(out, s);
    }
    return out;
}

static int load_clients(store_tx *tx, view *v)
{
    json_t *apps = NULL, *secrets = NULL, *subs = NULL, *api_by_id = json_object();
    json_t *approved = json_pack("{ss}", "state", "approved");
    int rc = -1;
    size_t i;
    json_t *row;
    if (api_by_id == NULL || approved == NULL || st_list(tx, T_APPS, NULL, 0, &apps) != ST_OK ||
        st_list(tx, T_SECRETS, NULL, 0, &secrets) != ST_OK ||
        st_list(tx, T_SUBSCRIPTIONS, approved, 0, &subs) != ST_OK)
        goto out;
    json_array_foreach (v->apis, i, row)
        json_object_set(api_by_id, json_string_value(json_object_get(row, "id")), row);
    json_t *by_app = json_object(); /* app id -> client object (borrowed) */
    v->clients = json_object();
    v->subscriptions = json_array();
    if (by_app == NULL || v->clients == NULL || v->subscriptions == NULL) {
        json_decref(by_app);
        goto out;
    }
    v->pk = calloc(json_array_size(apps) + 1, sizeof *v->pk);
    if (v->pk == NULL) {
        json_decref(by_app);
        goto out;
    }
    json_array_foreach (apps, i, row) {
        const char *client_id = json_string_value(json_object_get(row, "client_id"));
        json_t *c = json_pack(
            "{ss sO sO sO sO sO sO s[] s[]}", "client_id", client_id != NULL ? client_id : "",
            "app_id", json_object_get(row, "id"), "tenant_id", json_object_get(row, "tenant_id"),
            "name", json_object_get(row, "name"), "auth_method",
            json_object_get(row, "auth_method"), "suspended", json_object_get(row, "suspended"),
            "jwks", json_object_get(row, "jwks"), "secrets", "subs");
        if (c == NULL || client_id == NULL || json_object_set_new(v->clients, client_id, c) != 0) {
            json_decref(by_app);
            goto out;
        }
        json_object_set(by_app, json_string_value(json_object_get(row, "id")), c);
        const json_t *jwks = json_object_get(row, "jwks");
        if (json_is_object(jwks)) {
            char *text = json_dumps(jwks, JSON_COMPACT);
            jg_jwks *set = NULL;
            if (text != NULL &&
                jg_jwks_parse(text, strlen(text), JG_JWK_PUBLIC_ONLY, NULL, &set) == JG_OK) {
                log_skipped(client_id, set);
                /* The key of the client_id string lives in v->clients. */
                void *iter = json_object_iter_at(v->clients, client_id);
                v->pk[v->npk].client_id = json_object_iter_key(iter);
                v->pk[v->npk++].keys = set;
            }
            free(text);
        }
    }
    json_array_foreach (secrets, i, row) {
        json_t *c = json_object_get(by_app, json_string_value(json_object_get(row, "app_id")));
        if (c != NULL)
            json_array_append_new(json_object_get(c, "secrets"),
                                  json_pack("{sO sO sO}", "id", json_object_get(row, "id"), "hash",
                                            json_object_get(row, "hash"), "expires_at",
                                            json_object_get(row, "expires_at")));
    }
    json_array_foreach (subs, i, row) {
        json_t *c = json_object_get(by_app, json_string_value(json_object_get(row, "app_id")));
        json_t *api = json_object_get(api_by_id, json_string_value(json_object_get(row, "api_id")));
        if (c == NULL || api == NULL)
            continue;
        json_t *scopes =
            current_scopes(json_object_get(row, "scopes"), json_object_get(api, "scopes"));
        json_t *s = json_pack(
            "{sO sO sO sO so sO sO}", "id", json_object_get(row, "id"), "api_id",
            json_object_get(api, "id"), "api_tenant_id", json_object_get(api, "tenant_id"),
            "audience", json_object_get(api, "audience"), "scopes", scopes, "api_state",
            json_object_get(api, "state"), "sunset", json_object_get(api, "sunset"));
        if (s == NULL)
            continue;
        json_object_set_new(s, "usable", json_boolean(api_usable(api, 0)));
        json_array_append(json_object_get(c, "subs"), s);
        json_t *snap = json_pack(
            "{sO sO sO sO sO}", "id", json_object_get(row, "id"), "client_id",
            json_object_get(c, "client_id"), "api_id", json_object_get(api, "id"), "audience",
            json_object_get(api, "audience"), "scopes", json_object_get(s, "scopes"));
        json_decref(s);
        if (snap != NULL)
            json_array_append_new(v->subscriptions, snap);
    }
    json_decref(by_app);
    qsort(v->pk, v->npk, sizeof *v->pk, pk_cmp);
    rc = 0;
out:
    json_decref(api_by_id);
    json_decref(approved);
    json_decref(apps);
    json_decref(secrets);
    json_decref(subs);
    return rc;
}

static int build_metadata(jgd *d, view *v)
{
    const char *iss = d->cfg.issuer;
    /* Every scope once, in the order the APIs define them; `seen` is the
     * set (a jansson object: a hash table), so this is linear in the number
     * of scopes — it was quadratic, and 20,000 scopes took seconds. */
    json_t *scopes = json_array(), *seen = json_object();
    size_t i;
    json_t *api;
    json_array_foreach (v->apis, i, api) {
        if (!api_usable(api, v->built_at))
            continue;
        size_t k;
        json_t *s;
        json_array_foreach (json_object_get(api, "scopes"), k, s) {
            const char *name = json_string_value(s);
            if (name == NULL || json_object_get(seen, name) != NULL)
                continue;
            json_object_set_new(seen, name, json_true());
            json_array_append(scopes, s);
        }
    }
    json_decref(seen);
    char url[4][1024];
    snprintf(url[0], sizeof url[0], "%s/oauth2/token", iss);
    snprintf(url[1], sizeof url[1], "%s/.well-known/jwks.json", iss);
    snprintf(url[2], sizeof url[2], "%s/oauth2/introspect", iss);
    snprintf(url[3], sizeof url[3], "%s/oauth2/revoke", iss);
    json_t *auth =
        json_pack("[sss]", "client_secret_basic", "client_secret_post", "private_key_jwt");
    json_t *algs = json_pack("[sssssssss]", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
                             "RS256", "EdDSA", "Ed25519");
    /* RFC 8414 section 2 makes response_types_supported REQUIRED even for
     * a server without an authorization endpoint, and section 3.2 forbids
     * empty arrays: "none" (OAuth 2.0 Multiple Response Type Encoding
     * Practices section 4) is the value that promises nothing. An empty
     * scopes_supported is left out. */
    json_t *doc = json_pack(
        "{ss ss ss s[s] s[s] sO sO ss sO sO ss sO sO so s[s] s[s]}", "issuer", iss,
        "token_endpoint", url[0], "jwks_uri", url[1], "grant_types_supported", "client_credentials",
        "response_types_supported", "none", "token_endpoint_auth_methods_supported", auth,
        "token_endpoint_auth_signing_alg_values_supported", algs, "introspection_endpoint", url[2],
        "introspection_endpoint_auth_methods_supported", auth,
        "introspection_endpoint_auth_signing_alg_values_supported", algs, "revocation_endpoint",
        url[3], "revocation_endpoint_auth_methods_supported", auth,
        "revocation_endpoint_auth_signing_alg_values_supported", algs,
        "resource_indicators_supported", json_true(), "access_token_signing_alg_values_supported",
        jg_alg_name(d->cfg.signing_alg), "access_token_encryption_alg_values_supported",
        jg_alg_name(d->cfg.encryption_alg));
    json_decref(auth);
    json_decref(algs);
    if (doc != NULL && json_array_size(scopes) > 0)
        json_object_set(doc, "scopes_supported", scopes);
    json_decref(scopes);
    if (doc == NULL)
        return -1;
    v->metadata_json = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (v->metadata_json == NULL)
        return -1;
    v->metadata_len = strlen(v->metadata_json);
    return 0;
}

int view_build(jgd *d, view **out)
{
    *out = NULL;
    view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return -1;
    atomic_init(&v->refs, 1);
    v->built_at = sv_now();
    store_tx *tx = NULL;
    json_t *revoked = NULL;
    int rc = -1;
    if (store_begin(d->st, 0, &tx) != ST_OK)
        goto out;
    if (st_get_version(tx, &v->version) != ST_OK || load_keys(d, tx, v) != 0 ||
        st_list(tx, T_APIS, NULL, 0, &v->apis) != ST_OK || load_clients(tx, v) != 0 ||
        st_list(tx, T_REVOKED, NULL, 0, &revoked) != ST_OK)
        goto out;
    v->revoked = json_object();
    size_t i;
    json_t *row;
    json_array_foreach (revoked, i, row) {
        json_t *exp = json_object_get(row, "exp");
        if (json_integer_value(exp) >= v->built_at)
            json_object_set(v->revoked, json_string_value(json_object_get(row, "jti")), exp);
    }
    if (build_metadata(d, v) != 0)
        goto out;
    rc = 0;
out:
    if (tx != NULL)
        store_rollback(tx);
    json_decref(revoked);
    if (rc != 0) {
        view_free(v);
        return -1;
    }
    *out = v;
    return 0;
}
