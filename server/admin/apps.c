/*
 * apps.c — applications (OAuth clients) of a tenant and their credentials.
 *
 * client_secret apps get 256-bit random secrets, shown once and stored as
 * SHA-256 hashes; up to MAX_SECRETS at a time so they can be rotated without
 * downtime, each with an optional expiry. private_key_jwt apps register
 * public keys (a JWK or a JWKS), checked by libjwtgate and stored as a public
 * JWKS.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "lib/core/json.h" /* the one library-internal header the daemon uses: see HACKING.md */
#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"

#define METHOD(m)   (strcmp(a->r->method, (m)) == 0)
#define MAX_SECRETS 5

/* Whether a key set skipped a key for being of a kind the library does not
 * support (as opposed to refusing it by policy). */
static int skipped_as_unsupported(jg_err why)
{
    switch (why) {
    case JG_ERR_KEY_KTY:
    case JG_ERR_KEY_CURVE:
    case JG_ERR_ALG_UNKNOWN:
    case JG_ERR_UNSUPPORTED:
    case JG_ERR_KEY_TYPE:
        return 1;
    default:
        return 0;
    }
}

/* Check and normalise registered client keys: public asymmetric keys only. */
static json_t *client_jwks(actx *a, const json_t *given)
{
    if (!json_is_object(given)) {
        reply_invalid(a, "\"jwks\" must be a JWK or a JWK Set object");
        return NULL;
    }
    const json_t *keys = json_object_get(given, "keys");
    const json_t *one = keys == NULL ? given : NULL;
    size_t i;
    json_t *k;
    if (one != NULL && json_object_get(one, "d") != NULL) {
        reply_invalid(a, "\"jwks\" must hold public keys only");
        return NULL;
    }
    json_array_foreach (keys, i, k) {
        if (json_object_get(k, "d") != NULL || json_object_get(k, "k") != NULL) {
            reply_invalid(a, "\"jwks\" must hold public keys only");
            return NULL;
        }
    }
    char *text = json_dumps(given, JSON_COMPACT);
    jg_jwks *set = NULL;
    jg_err err = text != NULL
                     ? jg_jwks_parse_any(text, strlen(text), JG_JWK_PUBLIC_ONLY, NULL, &set)
                     : JG_ERR_NOMEM;
    free(text);
    char *out = NULL;
    /* A key refused by policy (too weak ...) is the admin's mistake: say
     * which; one of a type the library does not know is dropped, as RFC 7517
     * section 5 asks, and logged. */
    for (size_t n = 0; err == JG_OK && n < jg_jwks_skipped_count(set); n++) {
        size_t pos = 0;
        const char *kid = NULL;
        jg_err why = JG_OK;
        if (jg_jwks_skipped_at(set, n, &pos, &kid, &why) != JG_OK)
            continue;
        char shown[65];
        sv_printable(shown, sizeof shown, kid != NULL ? kid : "");
        if (!skipped_as_unsupported(why)) {
            char detail[240];
            snprintf(detail, sizeof detail, "\"jwks\": key %zu (kid \"%s\"): %s", pos, shown,
                     jg_strerror(why));
            jg_jwks_free(set);
            reply_invalid(a, detail);
            return NULL;
        }
        log_msg(L_WARN, "client jwks: key %zu (kid \"%s\") skipped: %s", pos, shown,
                jg_strerror(why));
    }
    if (err == JG_OK && jg_jwks_count(set) == 0)
        err = JG_ERR_KEY_NOT_FOUND;
    if (err == JG_OK && jg_jwks_count(set) > 8)
        err = JG_ERR_LIMIT_KEYS;
    for (size_t n = 0; err == JG_OK && n < jg_jwks_count(set); n++)
        if (jg_jwk_kty(jg_jwks_get(set, n)) == JG_KTY_OCT)
            err = JG_ERR_KEY_TYPE;
    if (err == JG_OK)
        err = jg_jwks_to_json(set, 0, &out, NULL);
    jg_jwks_free(set);
    if (err != JG_OK) {
        char detail[200];
        snprintf(detail, sizeof detail, "\"jwks\": %s (1 to 8 public signature keys)",
                 jg_strerror(err));
        reply_invalid(a, detail);
        return NULL;
    }
    json_t *doc = json_loads(out, 0, NULL);
    jg_free(out);
    return doc;
}

/* A new secret for `app_id` within `c`; the secret text goes to *secret. */
static store_err add_secret(change *c, const char *tenant_id, const char *app_id,
                            int64_t expires_at, char **secret, json_t **row)
{
    *secret = sv_new_secret("jgs_");
    char *id = sv_new_id("sec_", 12);
    char hash[44], hint[12];
    *row = NULL;
    store_err err = ST_NOMEM;
    if (*secret != NULL && id != NULL && sv_hash_b64(*secret, strlen(*secret), hash) == 0) {
        snprintf(hint, sizeof hint, "%.8s", *secret);
        *row = json_pack("{ss ss ss ss sI}", "id", id, "app_id", app_id, "hash", hash, "hint", hint,
                         "created_at", (json_int_t)c->now);
        if (*row != NULL && expires_at > 0)
            json_object_set_new(*row, "expires_at", json_integer(expires_at));
        err = *row != NULL ? st_insert(c->tx, T_SECRETS, *row) : ST_NOMEM;
        if (err == ST_OK)
            err = change_audit(c, "secret.create", tenant_id, id, NULL, *row);
    }
    free(id);
    if (err != ST_OK) {
        if (*secret != NULL)
            jg_free_secret(*secret, 0);
        *secret = NULL;
        json_decref(*row);
        *row = NULL;
    }
    return err;
}

/* Answer with `row` plus the one-time secret, then wipe it. */
static void reply_with_secret(actx *a, change *c, const json_t *row, char *secret)
{
    json_t *shown = public_row(row);
    json_object_set_new(shown, "client_secret", json_string(secret));
    jg_free_secret(secret, 0);
    store_err err = change_commit(c);
    if (err != ST_OK)
        reply_store_error(a, err, "application");
    else
        http_json(a->r, 201, shown);
    http_set_header(a->r, "Cache-Control", "no-store");
    jg__json_wipe_string(json_object_get(shown, "client_secret"));
    json_decref(shown);
}

#define BINDING_VALUES                                                                             \
    "\"token_binding\" must be none, dpop_optional, dpop_required or mtls_required"

/* The RFC 8705 section 2.1.2 member a tls_client_auth application
 * registers (exactly one of the five; `count` says how many the body has):
 * {"tls_client_auth_<field>": value}, or NULL (answered 422 if invalid). */
static json_t *tls_member(actx *a, int *count)
{
    json_t *out = NULL;
    *count = 0;
    for (int i = 0; i < V_TLS__COUNT; i++) {
        const char *name = view_tls_field_names[i], *value = NULL;
        if (json_object_get(a->body, name) == NULL)
            continue;
        if (!body_string(a, name, 1, 1024, &value)) {
            json_decref(out);
            *count = -1;
            return NULL;
        }
        unsigned char ip[16];
        if (i == V_TLS_SAN_IP && inet_pton(AF_INET, value, ip) != 1 &&
            inet_pton(AF_INET6, value, ip) != 1) {
            json_decref(out);
            reply_invalid(a, "\"tls_client_auth_san_ip\" must be an IPv4 or IPv6 address");
            *count = -1;
            return NULL;
        }
        if (++*count == 1)
            out = json_pack("{ss}", name, value);
    }
    return out;
}

#define TLS_ONE                                                                                    \
    "tls_client_auth needs exactly one of \"tls_client_auth_subject_dn\", "                        \
    "\"tls_client_auth_san_dns\", \"tls_client_auth_san_uri\", \"tls_client_auth_san_ip\", "       \
    "\"tls_client_auth_san_email\""

static void create_app(actx *a, const char *tenant_id)
{
    static const char *const allowed[] = {"name",
                                          "auth_method",
                                          "jwks",
                                          "token_binding",
                                          "secret_expires_in",
                                          "tls_client_auth_subject_dn",
                                          "tls_client_auth_san_dns",
                                          "tls_client_auth_san_uri",
                                          "tls_client_auth_san_ip",
                                          "tls_client_auth_san_email",
                                          NULL};
    const char *name, *method, *binding;
    int64_t expires_in = 0;
    int has_exp = 0;
    if (!require_role_first(a, tenant_id, ROLE_DEVELOPER))
        return;
    if (!body_only(a, allowed) || !body_string(a, "name", 1, 64, &name) ||
        !body_string(a, "auth_method", 0, 32, &method) ||
        !body_string(a, "token_binding", 0, 32, &binding) ||
        !body_int(a, "secret_expires_in", 0, 60, 10LL * 365 * 86400, &expires_in, &has_exp))
        return;
    if (binding == NULL)
        binding = "dpop_optional";
    if (view_binding_parse(binding) < 0) {
        reply_invalid(a, BINDING_VALUES);
        return;
    }
    if (!sv_is_simple_name(name, 64)) {
        reply_invalid(a, "\"name\": letters, digits, '.', '_', '-'");
        return;
    }
    if (method == NULL)
        method = "client_secret";
    int secret_app = strcmp(method, "client_secret") == 0;
    int tls = strcmp(method, "tls_client_auth") == 0;
    /* both authenticate with a key the client registered */
    int pkjwt = strcmp(method, "private_key_jwt") == 0 ||
                strcmp(method, "self_signed_tls_client_auth") == 0;
    if (!pkjwt && !secret_app && !tls) {
        reply_invalid(a, "\"auth_method\" must be client_secret, private_key_jwt, "
                         "tls_client_auth or self_signed_tls_client_auth");
        return;
    }
    const json_t *given = json_object_get(a->body, "jwks");
    if (pkjwt != (given != NULL)) {
        reply_invalid(a, pkjwt ? "this auth_method needs \"jwks\""
                               : "\"jwks\" is for private_key_jwt and "
                                 "self_signed_tls_client_auth");
        return;
    }
    int ntls = 0;
    json_t *tls_auth = tls_member(a, &ntls);
    if (ntls < 0)
        return;
    if (tls != (ntls == 1) || ntls > 1) {
        json_decref(tls_auth);
        reply_invalid(a, tls ? TLS_ONE : "\"tls_client_auth_*\" is for tls_client_auth");
        return;
    }
    json_t *jwks = NULL;
    if (pkjwt && (jwks = client_jwks(a, given)) == NULL) {
        json_decref(tls_auth);
        return;
    }
    change c;
    if (!change_start(a, &c)) {
        json_decref(jwks);
        json_decref(tls_auth);
        return;
    }
    if (!require_role(a, c.tx, tenant_id, ROLE_DEVELOPER)) {
        change_abort(&c);
        json_decref(jwks);
        json_decref(tls_auth);
        return;
    }
    char *id = sv_new_id("app_", 12), *client_id = sv_new_id("jgc_", 16);
    json_t *row =
        json_pack("{ss ss ss ss ss sb sI sI ss}", "id", id != NULL ? id : "", "tenant_id",
                  tenant_id, "name", name, "client_id", client_id != NULL ? client_id : "",
                  "auth_method", method, "suspended", 0, "created_at", (json_int_t)c.now,
                  "updated_at", (json_int_t)c.now, "token_binding", binding);
    free(id);
    free(client_id);
    if (row != NULL && jwks != NULL)
        json_object_set_new(row, "jwks", jwks);
    else
        json_decref(jwks);
    if (row != NULL && tls_auth != NULL)
        json_object_set_new(row, "tls_client_auth", tls_auth);
    else
        json_decref(tls_auth);
    const char *app_id = json_string_value(json_object_get(row, "id"));
    store_err err = row != NULL ? st_insert(c.tx, T_APPS, row) : ST_NOMEM;
    if (err == ST_OK)
        err = change_audit(&c, "app.create", tenant_id, app_id, NULL, row);
    char *secret = NULL;
    json_t *srow = NULL;
    if (err == ST_OK && secret_app)
        err = add_secret(&c, tenant_id, app_id, has_exp ? c.now + expires_in : 0, &secret, &srow);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "application (same name)");
    } else if (secret != NULL) {
        json_object_set_new(row, "secret_id", json_copy(json_object_get(srow, "id")));
        reply_with_secret(a, &c, row, secret);
    } else {
        change_finish(a, &c, 201, row);
    }
    json_decref(srow);
    json_decref(row);
}

static void update_app(actx *a, const char *tenant_id, const char *id)
{
    static const char *const allowed[] = {"jwks",
                                          "suspended",
                                          "token_binding",
                                          "tls_client_auth_subject_dn",
                                          "tls_client_auth_san_dns",
                                          "tls_client_auth_san_uri",
                                          "tls_client_auth_san_ip",
                                          "tls_client_auth_san_email",
                                          NULL};
    int suspended = 0, has_susp = 0;
    const char *binding = NULL;
    if (!require_role_first(a, tenant_id, ROLE_DEVELOPER))
        return;
    if (!body_only(a, allowed) || !body_bool(a, "suspended", &suspended, &has_susp) ||
        !body_string(a, "token_binding", 0, 32, &binding))
        return;
    if (binding != NULL && view_binding_parse(binding) < 0) {
        reply_invalid(a, BINDING_VALUES);
        return;
    }
    if (json_object_size(a->body) == 0) {
        reply_invalid(a, "nothing to change");
        return;
    }
    int ntls = 0;
    json_t *tls_auth = tls_member(a, &ntls);
    if (ntls < 0)
        return;
    if (ntls > 1) {
        json_decref(tls_auth);
        reply_invalid(a, TLS_ONE);
        return;
    }
    const json_t *given = json_object_get(a->body, "jwks");
    json_t *jwks = NULL;
    if (given != NULL && (jwks = client_jwks(a, given)) == NULL) {
        json_decref(tls_auth);
        return;
    }
    change c;
    if (!change_start(a, &c)) {
        json_decref(jwks);
        json_decref(tls_auth);
        return;
    }
    json_t *before = NULL, *after = NULL, *upd = json_object();
    /* Suspending a client is an administrator's decision. */
    if (!require_role(a, c.tx, tenant_id, has_susp ? ROLE_ADMIN : ROLE_DEVELOPER) ||
        (before = load_owned_row(a, c.tx, T_APPS, tenant_id, id, "application")) == NULL) {
        change_abort(&c);
        goto out;
    }
    const char *method = json_string_value(json_object_get(before, "auth_method"));
    if (jwks != NULL && strcmp(method, "private_key_jwt") != 0 &&
        strcmp(method, "self_signed_tls_client_auth") != 0) {
        change_abort(&c);
        reply_invalid(
            a, "\"jwks\" is for private_key_jwt and self_signed_tls_client_auth applications");
        goto out;
    }
    if (tls_auth != NULL && strcmp(method, "tls_client_auth") != 0) {
        change_abort(&c);
        reply_invalid(a, "\"tls_client_auth_*\" is for tls_client_auth applications");
        goto out;
    }
    if (jwks != NULL)
        json_object_set(upd, "jwks", jwks);
    if (tls_auth != NULL)
        json_object_set(upd, "tls_client_auth", tls_auth);
    if (has_susp)
        json_object_set_new(upd, "suspended", json_boolean(suspended));
    if (binding != NULL)
        json_object_set_new(upd, "token_binding", json_string(binding));
    json_object_set_new(upd, "updated_at", json_integer(c.now));
    after = json_deep_copy(before);
    json_object_update(after, upd);
    store_err err = st_update(c.tx, T_APPS, id, upd);
    if (err == ST_OK)
        err = change_audit(&c, has_susp ? (suspended ? "app.suspend" : "app.resume") : "app.update",
                           tenant_id, id, before, after);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "application");
    } else {
        change_finish(a, &c, 200, after);
    }
out:
    json_decref(jwks);
    json_decref(tls_auth);
    json_decref(before);
    json_decref(after);
    json_decref(upd);
}

static void delete_app(actx *a, const char *tenant_id, const char *id)
{
    change c;
    if (!change_start(a, &c))
        return;
    json_t *before = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (before = load_owned_row(a, c.tx, T_APPS, tenant_id, id, "application")) == NULL) {
        change_abort(&c);
        return;
    }
    store_err err = st_remove(c.tx, T_APPS, id);
    if (err == ST_OK)
        err = change_audit(&c, "app.delete", tenant_id, id, before, NULL);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "application");
    } else {
        change_finish(a, &c, 204, NULL);
    }
    json_decref(before);
}

static void secrets(actx *a, const char *tenant_id, const char *app_id)
{
    if (a->nseg == 5 && METHOD("GET")) {
        store_tx *tx = NULL;
        if (!read_begin(a, &tx))
            return;
        json_t *app = NULL;
        if (require_role(a, tx, tenant_id, ROLE_VIEWER) &&
            (app = load_owned_row(a, tx, T_APPS, tenant_id, app_id, "application")) != NULL) {
            json_t *where = json_pack("{ss}", "app_id", app_id), *rows = NULL;
            store_err err = st_list(tx, T_SECRETS, where, 0, &rows);
            json_decref(where);
            if (err != ST_OK)
                reply_store_error(a, err, "secret");
            else
                reply_rows(a, rows);
            json_decref(rows);
        }
        json_decref(app);
        store_rollback(tx);
        return;
    }
    int add = a->nseg == 5 && METHOD("POST"), del = a->nseg == 6 && METHOD("DELETE");
    if (!add && !del) {
        reply_method(a, a->nseg == 5 ? "GET, POST" : "DELETE");
        return;
    }
    static const char *const allowed[] = {"expires_in", NULL};
    int64_t expires_in = 0;
    int has_exp = 0;
    if (!require_role_first(a, tenant_id, ROLE_DEVELOPER))
        return;
    if (add && (!body_only(a, allowed) ||
                !body_int(a, "expires_in", 0, 60, 10LL * 365 * 86400, &expires_in, &has_exp)))
        return;
    change c;
    if (!change_start(a, &c))
        return;
    json_t *app = NULL, *rows = NULL, *row = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_DEVELOPER) ||
        (app = load_owned_row(a, c.tx, T_APPS, tenant_id, app_id, "application")) == NULL) {
        change_abort(&c);
        return;
    }
    if (strcmp(json_string_value(json_object_get(app, "auth_method")), "client_secret") != 0) {
        change_abort(&c);
        json_decref(app);
        http_problem(a->r, 409, NULL, "this application does not authenticate with secrets");
        return;
    }
    json_t *where = json_pack("{ss}", "app_id", app_id);
    store_err err = st_list(c.tx, T_SECRETS, where, 0, &rows);
    json_decref(where);
    if (err == ST_OK && add) {
        size_t live = 0, i;
        json_t *s;
        json_array_foreach (rows, i, s) {
            const json_t *e = json_object_get(s, "expires_at");
            live += !json_is_integer(e) || json_integer_value(e) > c.now;
        }
        if (live >= MAX_SECRETS) {
            change_abort(&c);
            http_problem(a->r, 409, NULL, "at most 5 live secrets; delete one first");
            goto out;
        }
        char *secret = NULL;
        err = add_secret(&c, tenant_id, app_id, has_exp ? c.now + expires_in : 0, &secret, &row);
        if (err == ST_OK) {
            reply_with_secret(a, &c, row, secret);
            goto out;
        }
    } else if (err == ST_OK) {
        json_t *s;
        size_t i;
        err = ST_NOT_FOUND;
        json_array_foreach (rows, i, s) {
            if (strcmp(json_string_value(json_object_get(s, "id")), a->seg[5]) == 0) {
                err = st_remove(c.tx, T_SECRETS, a->seg[5]);
                if (err == ST_OK)
                    err = change_audit(&c, "secret.delete", tenant_id, a->seg[5], s, NULL);
                break;
            }
        }
        if (err == ST_OK) {
            change_finish(a, &c, 204, NULL);
            goto out;
        }
    }
    change_abort(&c);
    reply_store_error(a, err, "secret");
out:
    json_decref(app);
    json_decref(rows);
    json_decref(row);
}

void admin_apps(actx *a, const char *tenant_id)
{
    if (a->nseg >= 5 && strcmp(a->seg[4], "secrets") == 0 && a->nseg <= 6) {
        secrets(a, tenant_id, a->seg[3]);
        return;
    }
    if (a->nseg > 4) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    if (a->nseg == 3 && METHOD("POST")) {
        create_app(a, tenant_id);
        return;
    }
    if (METHOD("GET")) {
        get_owned_rows(a, T_APPS, tenant_id, "application");
        return;
    }
    if (a->nseg == 4 && METHOD("PATCH")) {
        update_app(a, tenant_id, a->seg[3]);
        return;
    }
    if (a->nseg == 4 && METHOD("DELETE")) {
        delete_app(a, tenant_id, a->seg[3]);
        return;
    }
    reply_method(a, a->nseg == 3 ? "GET, POST" : "GET, PATCH, DELETE");
}
