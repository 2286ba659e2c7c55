/* admin.c — authentication, authorisation and the shared helpers of the admin API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/admin/admin_internal.h"
#include "lib/core/json.h" /* the one library-internal header the daemon uses: see HACKING.md */
#include "server/core/log.h"
#include "server/core/util.h"

static const char *const role_names[] = {"none", "viewer", "developer", "admin", "owner"};

role role_from_name(const char *name)
{
    for (int i = 1; i <= ROLE_OWNER; i++)
        if (name != NULL && strcmp(name, role_names[i]) == 0)
            return (role)i;
    return ROLE_NONE;
}

const char *role_name(role r)
{
    return (unsigned)r <= ROLE_OWNER ? role_names[r] : "none";
}

role caller_role(actx *a, store_tx *tx, const char *tenant_id)
{
    if (a->sysadmin)
        return ROLE_OWNER;
    json_t *where = json_pack("{ss ss}", "tenant_id", tenant_id, "user_id", a->user_id);
    json_t *row = NULL;
    role r = ROLE_NONE;
    if (where != NULL && st_get(tx, T_MEMBERS, where, &row) == ST_OK)
        r = role_from_name(json_string_value(json_object_get(row, "role")));
    json_decref(where);
    json_decref(row);
    return r;
}

int require_role(actx *a, store_tx *tx, const char *tenant_id, role min)
{
    json_t *tenant = NULL;
    store_err err = st_get_id(tx, T_TENANTS, tenant_id, &tenant);
    json_decref(tenant);
    role have = caller_role(a, tx, tenant_id);
    if (err == ST_NOT_FOUND && a->sysadmin) {
        http_problem(a->r, 404, NULL, "no such tenant");
        return 0;
    }
    if (err != ST_OK && err != ST_NOT_FOUND) {
        reply_store_error(a, err, "tenant");
        return 0;
    }
    if (have < min || err == ST_NOT_FOUND) {
        char detail[128];
        snprintf(detail, sizeof detail, "this needs the %s role in the tenant", role_name(min));
        http_problem(a->r, 403, NULL, detail);
        return 0;
    }
    return 1;
}

int require_role_first(actx *a, const char *tenant_id, role min)
{
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return 0;
    int ok = require_role(a, tx, tenant_id, min);
    store_rollback(tx);
    return ok;
}

int require_sysadmin(actx *a)
{
    if (a->sysadmin)
        return 1;
    http_problem(a->r, 403, NULL, "this needs a system administrator");
    return 0;
}

void reply_store_error(actx *a, store_err err, const char *what)
{
    char detail[160];
    switch (err) {
    case ST_NOT_FOUND:
        snprintf(detail, sizeof detail, "no such %s", what);
        http_problem(a->r, 404, NULL, detail);
        return;
    case ST_CONFLICT:
        snprintf(detail, sizeof detail, "a %s with these unique values already exists", what);
        http_problem(a->r, 409, NULL, detail);
        return;
    case ST_CONSTRAINT:
        snprintf(detail, sizeof detail, "the %s is still referenced or violates a constraint",
                 what);
        http_problem(a->r, 409, NULL, detail);
        return;
    case ST_FULL:
        http_problem(a->r, 503, NULL,
                     "the disk holding the database is full: nothing was changed; retry once"
                     " the operator has freed space");
        http_set_header(a->r, "Retry-After", "30");
        return;
    case ST_GONE:
        http_problem(a->r, 503, NULL,
                     "the database file was removed or replaced under the running server:"
                     " nothing was changed; the operator must restart it");
        return;
    case ST_BUSY:
        http_problem(a->r, 503, NULL, "the database is busy: nothing was changed; retry");
        http_set_header(a->r, "Retry-After", "1");
        return;
    default:
        log_msg(L_ERR, "admin: %s: %s", what, store_err_name(err));
        http_problem(a->r, 503, NULL, "the store failed: nothing was changed");
    }
}

void reply_method(actx *a, const char *allow)
{
    http_problem(a->r, 405, NULL, "method not allowed here");
    http_set_header(a->r, "Allow", allow);
}

void reply_invalid(actx *a, const char *detail)
{
    http_problem(a->r, 422, "Invalid request content", detail);
}

json_t *public_row(const json_t *row)
{
    json_t *copy = json_deep_copy(row);
    if (json_is_object(copy)) {
        json_object_del(copy, "hash");
        json_object_del(copy, "private_jwe");
        json_object_del(copy, "sealed");
    }
    return copy;
}

void reply_row(actx *a, unsigned status, const json_t *row)
{
    http_json_new(a->r, status, public_row(row));
}

void reply_rows(actx *a, const json_t *rows)
{
    json_t *items = json_array();
    size_t i;
    json_t *row;
    json_array_foreach ((json_t *)rows, i, row)
        json_array_append_new(items, public_row(row));
    http_json_new(a->r, 200, json_pack("{so}", "items", items));
}

json_t *load_owned_row(actx *a, store_tx *tx, store_table table, const char *tenant_id,
                       const char *id, const char *what)
{
    json_t *row = NULL;
    store_err err = st_get_id(tx, table, id, &row);
    if (err == ST_OK) {
        const char *owner = json_string_value(json_object_get(row, "tenant_id"));
        if (owner == NULL || strcmp(owner, tenant_id) != 0)
            err = ST_NOT_FOUND;
    }
    if (err != ST_OK) {
        json_decref(row);
        reply_store_error(a, err, what);
        return NULL;
    }
    return row;
}

void get_owned_rows(actx *a, store_table table, const char *tenant_id, const char *what)
{
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    if (require_role(a, tx, tenant_id, ROLE_VIEWER)) {
        if (a->nseg == 3) {
            json_t *where = json_pack("{ss}", "tenant_id", tenant_id), *rows = NULL;
            store_err err = st_list(tx, table, where, 0, &rows);
            json_decref(where);
            if (err != ST_OK)
                reply_store_error(a, err, what);
            else
                reply_rows(a, rows);
            json_decref(rows);
        } else {
            json_t *row = load_owned_row(a, tx, table, tenant_id, a->seg[3], what);
            if (row != NULL)
                reply_row(a, 200, row);
            json_decref(row);
        }
    }
    store_rollback(tx);
}

int body_only(actx *a, const char *const *allowed)
{
    const char *name;
    json_t *v;
    json_object_foreach (a->body, name, v) {
        int ok = 0;
        for (const char *const *p = allowed; *p != NULL; p++)
            ok |= strcmp(*p, name) == 0;
        if (!ok) {
            char detail[160];
            snprintf(detail, sizeof detail, "unknown member \"%.64s\"", name);
            reply_invalid(a, detail);
            return 0;
        }
    }
    return 1;
}

int body_string(actx *a, const char *name, int required, size_t max, const char **out)
{
    const json_t *v = json_object_get(a->body, name);
    char detail[160];
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 1;
        snprintf(detail, sizeof detail, "\"%s\" is required", name);
        reply_invalid(a, detail);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(detail, sizeof detail, "\"%s\" must be a non-empty string of at most %zu bytes",
                 name, max);
        reply_invalid(a, detail);
        return 0;
    }
    *out = json_string_value(v);
    return 1;
}

int body_int(actx *a, const char *name, int required, int64_t min, int64_t max, int64_t *out,
             int *present)
{
    const json_t *v = json_object_get(a->body, name);
    char detail[160];
    *present = 0;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 1;
        snprintf(detail, sizeof detail, "\"%s\" is required", name);
        reply_invalid(a, detail);
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(detail, sizeof detail, "\"%s\" must be an integer from %lld to %lld", name,
                 (long long)min, (long long)max);
        reply_invalid(a, detail);
        return 0;
    }
    *out = (int64_t)json_integer_value(v);
    *present = 1;
    return 1;
}

int body_bool(actx *a, const char *name, int *out, int *present)
{
    const json_t *v = json_object_get(a->body, name);
    *present = 0;
    if (v == NULL)
        return 1;
    if (!json_is_boolean(v)) {
        char detail[160];
        snprintf(detail, sizeof detail, "\"%s\" must be true or false", name);
        reply_invalid(a, detail);
        return 0;
    }
    *out = json_is_true(v);
    *present = 1;
    return 1;
}

int body_scopes(actx *a, const char *name, int required, json_t **out)
{
    const json_t *v = json_object_get(a->body, name);
    char detail[200];
    *out = NULL;
    if (v == NULL) {
        if (!required)
            return 1;
        snprintf(detail, sizeof detail, "\"%s\" is required", name);
        reply_invalid(a, detail);
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > 64) {
        snprintf(detail, sizeof detail, "\"%s\" must be an array of at most 64 scopes", name);
        reply_invalid(a, detail);
        return 0;
    }
    json_t *list = json_array();
    size_t i, j;
    json_t *s, *t;
    json_array_foreach (v, i, s) {
        if (!json_is_string(s) || !sv_is_scope_token(json_string_value(s))) {
            snprintf(detail, sizeof detail, "\"%s\" holds an invalid scope (RFC 6749 3.3)", name);
            reply_invalid(a, detail);
            json_decref(list);
            return 0;
        }
        json_array_foreach (list, j, t) {
            if (json_equal(s, t)) {
                snprintf(detail, sizeof detail, "\"%s\" repeats a scope", name);
                reply_invalid(a, detail);
                json_decref(list);
                return 0;
            }
        }
        json_array_append(list, s);
    }
    *out = list;
    return 1;
}

int read_begin(actx *a, store_tx **tx)
{
    store_err err = store_begin(a->d->st, 0, tx);
    if (err != ST_OK) {
        reply_store_error(a, err, "store");
        return 0;
    }
    return 1;
}

int change_start(actx *a, change *c)
{
    store_err err = change_begin(a->d, a->actor, c);
    if (err != ST_OK) {
        reply_store_error(a, err, "store");
        return 0;
    }
    return 1;
}

void change_finish(actx *a, change *c, unsigned status, const json_t *row)
{
    store_err err = change_commit(c);
    if (err != ST_OK) {
        reply_store_error(a, err, "change");
        return;
    }
    if (row != NULL)
        reply_row(a, status, row);
    else
        http_body(a->r, 204, "text/plain", strdup(""), 0);
}

/* ---- Authentication ----------------------------------------------------------- */

static int authenticate(actx *a)
{
    const char *h = http_req_header(a->r, "Authorization");
    if (h == NULL && session_present(a)) {
        if (!session_authenticate(a))
            return 0;
        goto known;
    }
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        http_problem(a->r, 401, NULL,
                     "a personal access token (Bearer) or a console session is required");
        http_set_header(a->r, "WWW-Authenticate", "Bearer realm=\"jwtgated-admin\"");
        return 0;
    }
    const char *token = h + 7;
    while (*token == ' ')
        token++;
    char hash[44];
    /* Tokens carry 256 bits of entropy: looking up their hash by equality
     * reveals nothing a guesser could use. */
    if (strncmp(token, "jgp_", 4) != 0 || strlen(token) > 128 ||
        sv_hash_b64(token, strlen(token), hash) != 0) {
        http_problem(a->r, 401, NULL, "invalid personal access token");
        http_set_header(a->r, "WWW-Authenticate",
                        "Bearer realm=\"jwtgated-admin\", error=\"invalid_token\"");
        return 0;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return 0;
    json_t *where = json_pack("{ss}", "hash", hash), *pat = NULL;
    store_err err = st_get(tx, T_PATS, where, &pat);
    json_decref(where);
    const json_t *exp = pat != NULL ? json_object_get(pat, "expires_at") : NULL;
    if (err == ST_OK && json_is_integer(exp) && json_integer_value(exp) <= sv_now())
        err = ST_NOT_FOUND;
    if (err == ST_OK)
        err = st_get_id(tx, T_USERS, json_string_value(json_object_get(pat, "user_id")), &a->user);
    store_rollback(tx);
    json_decref(pat);
    if (err != ST_OK) {
        if (err == ST_NOT_FOUND) {
            http_problem(a->r, 401, NULL, "invalid or expired personal access token");
            http_set_header(a->r, "WWW-Authenticate",
                            "Bearer realm=\"jwtgated-admin\", error=\"invalid_token\"");
        } else {
            reply_store_error(a, err, "token");
        }
        return 0;
    }
known:
    a->user_id = json_string_value(json_object_get(a->user, "id"));
    a->sysadmin = json_is_true(json_object_get(a->user, "system_admin"));
    snprintf(a->actor, sizeof a->actor, "user:%s", a->user_id);
    return 1;
}

static int parse_body(actx *a)
{
    request *r = a->r;
    int has_body = r->body_len > 0;
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "DELETE") == 0 ||
        strcmp(r->method, "HEAD") == 0) {
        a->body = json_object();
        return 1;
    }
    if (has_body) {
        const char *ct = http_req_header(r, "Content-Type");
        size_t n = ct != NULL ? strcspn(ct, ";") : 0;
        if (ct == NULL || n != 16 || strncasecmp(ct, "application/json", 16) != 0) {
            http_problem(r, 415, NULL, "the body must be application/json");
            return 0;
        }
        /* an OpenAPI document nests deeper than any admin object */
        size_t limit = http_body_limit(r->path);
        jg_err err = jg__json_parse_object(r->body, r->body_len, limit > MAX_BODY ? 64 : 16, limit,
                                           &a->body);
        if (err != JG_OK) {
            http_problem(r, 400, "Malformed JSON", jg_strerror(err));
            return 0;
        }
    } else {
        a->body = json_object();
    }
    return a->body != NULL;
}

/* Whether a path segment can name anything at all: valid UTF-8 (every
 * name and id is stored as JSON text) and no control characters. Anything
 * else is simply not found, never a storage error. */
static int printable_utf8(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return 0;
    json_t *probe = json_stringn(p, n); /* jansson refuses invalid UTF-8 */
    json_decref(probe);
    return probe != NULL;
}

/* Split the path after /admin/v1/ into segments; no empty ones, no dots. */
static int split_path(actx *a, const char *rest)
{
    const char *p = rest;
    while (*p != '\0') {
        const char *end = strchr(p, '/');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == 0 || n > 128 || a->nseg == MAX_SEGMENTS || !printable_utf8(p, n))
            return 0;
        char *s = strndup(p, n);
        if (s == NULL)
            return 0;
        a->seg[a->nseg++] = s;
        p += n;
        if (*p == '/') {
            p++;
            if (*p == '\0')
                return 0; /* trailing slash */
        }
    }
    return a->nseg > 0;
}

void admin_route(request *r, const char *rest)
{
    actx a = {.r = r, .d = r->d};
    if (!split_path(&a, rest)) {
        http_problem(r, 404, NULL, "no such endpoint");
        goto out;
    }
    const char *s0 = a.seg[0];
    int sign_in = strcmp(s0, "session") == 0 && a.nseg == 1 && strcmp(r->method, "POST") == 0;
    if ((!sign_in && !authenticate(&a)) || !parse_body(&a))
        goto out;
    int own_password = strcmp(s0, "me") == 0 && a.nseg == 2 && strcmp(a.seg[1], "password") == 0;
    if (a.restricted && !own_password && strcmp(s0, "session") != 0) {
        http_problem(r, 403, NULL, "change the first-login password first (POST me/password)");
        goto out;
    }
    if (strcmp(s0, "session") == 0 && a.nseg == 1)
        admin_session(&a);
    else if (own_password)
        admin_my_password(&a);
    else if (strcmp(s0, "me") == 0 && a.nseg == 1)
        admin_me(&a);
    else if (strcmp(s0, "users") == 0 && a.nseg == 3)
        admin_user_auth(&a);
    else if (strcmp(s0, "users") == 0)
        admin_users(&a);
    else if (strcmp(s0, "tokens") == 0)
        admin_tokens(&a);
    else if (strcmp(s0, "catalog") == 0 && a.nseg == 1)
        admin_catalog(&a);
    else if (strcmp(s0, "catalog") == 0 && a.nseg == 3 && strcmp(a.seg[2], "openapi") == 0)
        admin_catalog_doc(&a, a.seg[1]);
    else if (strcmp(s0, "keys") == 0)
        admin_keys(&a);
    else if (strcmp(s0, "audit") == 0 && a.nseg == 1)
        admin_audit(&a);
    else if (strcmp(s0, "stats") == 0 && a.nseg == 1)
        admin_stats(&a);
    else if (strcmp(s0, "usage") == 0 && a.nseg == 1)
        admin_usage(&a);
    else if (strcmp(s0, "gateways") == 0 && a.nseg <= 3)
        admin_gateways(&a);
    else if (strcmp(s0, "tenants") == 0 && a.nseg <= 2)
        admin_tenants(&a);
    else if (strcmp(s0, "tenants") == 0) {
        const char *t = a.seg[1], *area = a.seg[2];
        if (strcmp(area, "members") == 0)
            admin_members(&a, t);
        else if (strcmp(area, "apis") == 0)
            admin_apis(&a, t);
        else if (strcmp(area, "apps") == 0)
            admin_apps(&a, t);
        else if (strcmp(area, "subscriptions") == 0)
            admin_subscriptions(&a, t);
        else if (strcmp(area, "plans") == 0)
            admin_plans(&a, t);
        else if (strcmp(area, "audit") == 0 && a.nseg == 3)
            admin_tenant_audit(&a, t);
        else
            http_problem(r, 404, NULL, "no such endpoint");
    } else
        http_problem(r, 404, NULL, "no such endpoint");
out:
    for (size_t i = 0; i < a.nseg; i++)
        free(a.seg[i]);
    json_decref(a.user);
    json_decref(a.session);
    json_decref(a.body);
}
