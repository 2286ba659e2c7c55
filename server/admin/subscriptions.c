/*
 * subscriptions.c — an application subscribes to an API (possibly of another
 * tenant) for some of its scopes: pending -> approved / rejected, approved ->
 * revoked. The API owner's admins decide (automatic-policy APIs approve at
 * once); either side's admins may revoke. Who decided, when and why is kept
 * on the subscription and in the audit log of both tenants.
 */
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "server/core/util.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

static int contains(const json_t *arr, const json_t *s)
{
    size_t j;
    json_t *b;
    json_array_foreach (arr, j, b)
        if (json_equal(s, b))
            return 1;
    return 0;
}

static int is_subset(const json_t *small, const json_t *big)
{
    size_t i;
    json_t *s;
    json_array_foreach (small, i, s)
        if (!contains(big, s))
            return 0;
    return 1;
}

/* Audit a subscription change in the app's tenant and, if different, the API's. */
static store_err audit_both(change *c, const char *action, const json_t *before,
                            const json_t *after)
{
    const json_t *row = after != NULL ? after : before;
    const char *id = json_string_value(json_object_get(row, "id"));
    const char *t1 = json_string_value(json_object_get(row, "app_tenant_id"));
    const char *t2 = json_string_value(json_object_get(row, "api_tenant_id"));
    store_err err = change_audit(c, action, t1, id, before, after);
    if (err == ST_OK && strcmp(t1, t2) != 0)
        err = change_audit(c, action, t2, id, before, after);
    return err;
}

store_err subscriptions_trim(change *c, const char *api_id, const json_t *api_scopes,
                             size_t *trimmed)
{
    *trimmed = 0;
    json_t *where = json_pack("{ss}", "api_id", api_id), *rows = NULL;
    store_err err = where != NULL ? st_list(c->tx, T_SUBSCRIPTIONS, where, 0, &rows) : ST_NOMEM;
    json_decref(where);
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        if (err != ST_OK)
            break;
        const char *state = json_string_value(json_object_get(row, "state"));
        if (state == NULL || (strcmp(state, "pending") != 0 && strcmp(state, "approved") != 0))
            continue;
        const json_t *had = json_object_get(row, "scopes");
        json_t *kept = json_array();
        size_t j;
        json_t *s;
        json_array_foreach (had, j, s)
            if (contains(api_scopes, s))
                json_array_append(kept, s);
        if (kept == NULL || json_array_size(kept) == json_array_size(had)) {
            json_decref(kept);
            continue;
        }
        json_t *upd = json_pack("{so}", "scopes", kept);
        json_t *after = json_deep_copy(row);
        json_object_update(after, upd);
        json_object_set_new(after, "reason", json_string("the API no longer defines some scopes"));
        err = st_update(c->tx, T_SUBSCRIPTIONS, json_string_value(json_object_get(row, "id")), upd);
        if (err == ST_OK)
            err = audit_both(c, "subscription.scopes_trimmed", row, after);
        if (err == ST_OK)
            (*trimmed)++;
        json_decref(upd);
        json_decref(after);
    }
    json_decref(rows);
    return err;
}

static void request_sub(actx *a, const char *tenant_id)
{
    static const char *const allowed[] = {"app_id", "api_id", "scopes", NULL};
    const char *app_id, *api_id;
    json_t *scopes = NULL, *app = NULL, *api = NULL, *row = NULL;
    if (!require_role_first(a, tenant_id, ROLE_DEVELOPER))
        return;
    if (!body_only(a, allowed) || !body_string(a, "app_id", 1, 64, &app_id) ||
        !body_string(a, "api_id", 1, 64, &api_id) || !body_scopes(a, "scopes", 1, &scopes))
        return;
    change c;
    if (!change_start(a, &c)) {
        json_decref(scopes);
        return;
    }
    store_err err;
    if (!require_role(a, c.tx, tenant_id, ROLE_DEVELOPER))
        goto abort;
    err = st_get_id(c.tx, T_APPS, app_id, &app);
    if (err == ST_OK &&
        strcmp(json_string_value(json_object_get(app, "tenant_id")), tenant_id) != 0)
        err = ST_NOT_FOUND;
    if (err != ST_OK) {
        reply_store_error(a, err, "application in this tenant");
        goto abort;
    }
    err = st_get_id(c.tx, T_APIS, api_id, &api);
    const char *api_state = api != NULL ? json_string_value(json_object_get(api, "state")) : "";
    /* Drafts are invisible outside their tenant. */
    if (err == ST_OK && strcmp(api_state, "draft") == 0 &&
        strcmp(json_string_value(json_object_get(api, "tenant_id")), tenant_id) != 0)
        err = ST_NOT_FOUND;
    if (err != ST_OK) {
        reply_store_error(a, err, "API");
        goto abort;
    }
    if (strcmp(api_state, "published") != 0) {
        http_problem(a->r, 409, NULL, "only published APIs take new subscriptions");
        goto abort;
    }
    if (!is_subset(scopes, json_object_get(api, "scopes"))) {
        change_abort(&c);
        reply_invalid(a, "\"scopes\" must be scopes the API defines");
        goto out;
    }
    int automatic = strcmp(json_string_value(json_object_get(api, "policy")), "automatic") == 0;
    char *id = sv_new_id("sub_", 12);
    row = json_pack("{ss ss ss ss sO sO ss ss sI}", "id", id != NULL ? id : "", "app_id", app_id,
                    "api_id", api_id, "app_tenant_id", tenant_id, "api_tenant_id",
                    json_object_get(api, "tenant_id"), "scopes", scopes, "state",
                    automatic ? "approved" : "pending", "requested_by", a->actor, "requested_at",
                    (json_int_t)c.now);
    free(id);
    if (row != NULL && automatic) {
        json_object_set_new(row, "decided_by", json_string("policy:automatic"));
        json_object_set_new(row, "decided_at", json_integer(c.now));
    }
    err = row != NULL ? st_insert(c.tx, T_SUBSCRIPTIONS, row) : ST_NOMEM;
    if (err == ST_OK)
        err =
            audit_both(&c, automatic ? "subscription.approve" : "subscription.request", NULL, row);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "live subscription of this application to this API");
        goto out;
    }
    change_finish(a, &c, 201, row);
    goto out;
abort:
    change_abort(&c);
out:
    json_decref(scopes);
    json_decref(app);
    json_decref(api);
    json_decref(row);
}

/* Load a subscription visible to `tenant_id` (as consumer or provider). */
static json_t *load_sub(actx *a, store_tx *tx, const char *tenant_id, const char *id)
{
    json_t *row = NULL;
    store_err err = st_get_id(tx, T_SUBSCRIPTIONS, id, &row);
    if (err == ST_OK &&
        strcmp(json_string_value(json_object_get(row, "app_tenant_id")), tenant_id) != 0 &&
        strcmp(json_string_value(json_object_get(row, "api_tenant_id")), tenant_id) != 0)
        err = ST_NOT_FOUND;
    if (err != ST_OK) {
        json_decref(row);
        reply_store_error(a, err, "subscription");
        return NULL;
    }
    return row;
}

static void decide(actx *a, const char *tenant_id, const char *id, const char *verb)
{
    /* Approval may set the limits of an llm API's subscription (limits.c). */
    static const char *const allowed[] = {"reason", NULL};
    static const char *const allowed_approve[] = {"reason", "plan_id", "limits", NULL};
    const char *reason = NULL;
    int approve = strcmp(verb, "approve") == 0;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, approve ? allowed_approve : allowed) ||
        !body_string(a, "reason", 0, 1024, &reason) || (approve && !limits_body_check(a)))
        return;
    const char *to = approve ? "approved" : strcmp(verb, "reject") == 0 ? "rejected" : "revoked";
    change c;
    if (!change_start(a, &c))
        return;
    json_t *before = NULL, *after = NULL, *upd = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (before = load_sub(a, c.tx, tenant_id, id)) == NULL) {
        change_abort(&c);
        return;
    }
    int provider =
        strcmp(json_string_value(json_object_get(before, "api_tenant_id")), tenant_id) == 0;
    const char *from = json_string_value(json_object_get(before, "state"));
    const char *problem = NULL;
    if (strcmp(to, "revoked") != 0 && !provider)
        problem = "only the API owner's admins approve or reject";
    else if (strcmp(to, "revoked") == 0 ? strcmp(from, "approved") != 0
                                        : strcmp(from, "pending") != 0)
        problem = strcmp(to, "revoked") == 0 ? "only an approved subscription can be revoked"
                                             : "only a pending subscription can be decided";
    json_t *api = NULL;
    if (problem == NULL && strcmp(to, "approved") == 0) {
        /* Approving makes a new grant: only for an API that takes new
         * subscriptions (published), as a request would need. */
        store_err aerr =
            st_get_id(c.tx, T_APIS, json_string_value(json_object_get(before, "api_id")), &api);
        const char *state = api != NULL ? json_string_value(json_object_get(api, "state")) : NULL;
        if (aerr != ST_OK || state == NULL || strcmp(state, "published") != 0)
            problem = "the API is no longer published, so it takes no new subscriptions: reject"
                      " the request instead";
        json_decref(api);
    }
    if (problem != NULL) {
        change_abort(&c);
        json_decref(before);
        http_problem(a->r, strstr(problem, "owner") != NULL ? 403 : 409, NULL, problem);
        return;
    }
    upd = json_pack("{ss ss sI}", "state", to, "decided_by", a->actor, "decided_at",
                    (json_int_t)c.now);
    json_object_set_new(upd, "reason", reason != NULL ? json_string(reason) : json_null());
    if (approve && !limits_apply(a, &c, before, upd)) {
        change_abort(&c);
        json_decref(before);
        json_decref(upd);
        return;
    }
    after = json_deep_copy(before);
    json_object_update(after, upd);
    store_err err = st_update(c.tx, T_SUBSCRIPTIONS, id, upd);
    char action[40];
    snprintf(action, sizeof action, "subscription.%s", verb);
    if (err == ST_OK)
        err = audit_both(&c, action, before, after);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "subscription");
    } else {
        change_finish(a, &c, 200, after);
    }
    json_decref(before);
    json_decref(after);
    json_decref(upd);
}

/* PUT .../subscriptions/{id}/limits {plan_id?, limits?}: the API owner's
 * admins, a live (pending or approved) subscription to an llm API. */
static void set_limits(actx *a, const char *tenant_id, const char *id)
{
    static const char *const allowed[] = {"plan_id", "limits", NULL};
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !limits_body_check(a))
        return;
    if (json_object_size(a->body) == 0) {
        reply_invalid(a, "give \"plan_id\" or \"limits\" (null clears either)");
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    json_t *before = NULL, *after = NULL, *upd = json_object();
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (before = load_sub(a, c.tx, tenant_id, id)) == NULL) {
        change_abort(&c);
        goto out;
    }
    const char *state = json_string_value(json_object_get(before, "state"));
    const char *problem =
        strcmp(json_string_value(json_object_get(before, "api_tenant_id")), tenant_id) != 0
            ? "only the API owner's admins set a subscription's limits"
        : strcmp(state, "pending") != 0 && strcmp(state, "approved") != 0
            ? "only a live subscription has limits"
            : NULL;
    if (problem != NULL) {
        change_abort(&c);
        http_problem(a->r, strstr(problem, "owner") != NULL ? 403 : 409, NULL, problem);
        goto out;
    }
    if (!limits_apply(a, &c, before, upd)) {
        change_abort(&c);
        goto out;
    }
    after = json_deep_copy(before);
    json_object_update(after, upd);
    store_err err = st_update(c.tx, T_SUBSCRIPTIONS, id, upd);
    if (err == ST_OK)
        err = audit_both(&c, "subscription.limits", before, after);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "subscription");
    } else {
        change_finish(a, &c, 200, after);
    }
out:
    json_decref(before);
    json_decref(after);
    json_decref(upd);
}

void admin_subscriptions(actx *a, const char *tenant_id)
{
    if (a->nseg == 3 && METHOD("POST")) {
        request_sub(a, tenant_id);
        return;
    }
    if (a->nseg <= 4 && METHOD("GET")) {
        store_tx *tx = NULL;
        if (!read_begin(a, &tx))
            return;
        if (require_role(a, tx, tenant_id, ROLE_VIEWER)) {
            if (a->nseg == 3) {
                json_t *w1 = json_pack("{ss}", "app_tenant_id", tenant_id);
                json_t *w2 = json_pack("{ss}", "api_tenant_id", tenant_id);
                json_t *mine = NULL, *theirs = NULL;
                store_err err = st_list(tx, T_SUBSCRIPTIONS, w1, 0, &mine);
                if (err == ST_OK)
                    err = st_list(tx, T_SUBSCRIPTIONS, w2, 0, &theirs);
                if (err == ST_OK) {
                    size_t i;
                    json_t *s;
                    json_array_foreach (theirs, i, s) {
                        if (strcmp(json_string_value(json_object_get(s, "app_tenant_id")),
                                   tenant_id) != 0)
                            json_array_append(mine, s);
                    }
                    reply_rows(a, mine);
                } else {
                    reply_store_error(a, err, "subscription");
                }
                json_decref(w1);
                json_decref(w2);
                json_decref(mine);
                json_decref(theirs);
            } else {
                json_t *row = load_sub(a, tx, tenant_id, a->seg[3]);
                if (row != NULL)
                    reply_row(a, 200, row);
                json_decref(row);
            }
        }
        store_rollback(tx);
        return;
    }
    if (a->nseg == 5 && (strcmp(a->seg[4], "approve") == 0 || strcmp(a->seg[4], "reject") == 0 ||
                         strcmp(a->seg[4], "revoke") == 0)) {
        if (METHOD("POST"))
            decide(a, tenant_id, a->seg[3], a->seg[4]);
        else
            reply_method(a, "POST");
        return;
    }
    if (a->nseg == 5 && strcmp(a->seg[4], "limits") == 0) {
        if (METHOD("PUT"))
            set_limits(a, tenant_id, a->seg[3]);
        else
            reply_method(a, "PUT");
        return;
    }
    if (a->nseg > 4) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    reply_method(a, a->nseg == 3 ? "GET, POST" : "GET");
}
