/* tenants.c — the caller, users, personal access tokens, tenants and their members. */
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "lib/core/json.h" /* the one library-internal header the daemon uses: see HACKING.md */
#include "server/core/util.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

int pat_create(change *c, const char *user_id, const char *name, int64_t expires_at, char **token,
               json_t **row)
{
    *token = sv_new_secret("jgp_");
    char *id = sv_new_id("pat_", 12);
    char hash[44];
    int rc = -1;
    *row = NULL;
    if (*token != NULL && id != NULL && sv_hash_b64(*token, strlen(*token), hash) == 0) {
        *row = json_pack("{ss ss ss ss sI}", "id", id, "user_id", user_id, "name", name, "hash",
                         hash, "created_at", (json_int_t)c->now);
        if (*row != NULL && expires_at > 0)
            json_object_set_new(*row, "expires_at", json_integer(expires_at));
        if (*row != NULL && st_insert(c->tx, T_PATS, *row) == ST_OK &&
            change_audit(c, "pat.create", NULL, id, NULL, *row) == ST_OK)
            rc = 0;
    }
    free(id);
    if (rc != 0) {
        if (*token != NULL)
            jg_free_secret(*token, 0);
        *token = NULL;
        json_decref(*row);
        *row = NULL;
    }
    return rc;
}

void admin_me(actx *a)
{
    if (!METHOD("GET")) {
        reply_method(a, "GET");
        return;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    json_t *where = json_pack("{ss}", "user_id", a->user_id), *members = NULL;
    store_err err = st_list(tx, T_MEMBERS, where, 0, &members);
    store_rollback(tx);
    json_decref(where);
    if (err != ST_OK) {
        reply_store_error(a, err, "membership");
        return;
    }
    json_t *doc = public_row(a->user);
    json_object_set_new(doc, "memberships", members);
    http_json_new(a->r, 200, doc);
}

/* users: GET (list), POST {name, system_admin} — system administrators only. */
void admin_users(actx *a)
{
    if (!require_sysadmin(a))
        return;
    if (a->nseg != 1) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    if (METHOD("GET")) {
        store_tx *tx = NULL;
        json_t *rows = NULL;
        if (!read_begin(a, &tx))
            return;
        store_err err = st_list(tx, T_USERS, NULL, 0, &rows);
        store_rollback(tx);
        if (err != ST_OK)
            reply_store_error(a, err, "user");
        else
            reply_rows(a, rows);
        json_decref(rows);
        return;
    }
    if (!METHOD("POST")) {
        reply_method(a, "GET, POST");
        return;
    }
    static const char *const allowed[] = {"name", "system_admin", NULL};
    const char *name = NULL;
    int admin = 0, present = 0;
    if (!body_only(a, allowed) || !body_string(a, "name", 1, 64, &name) ||
        !body_bool(a, "system_admin", &admin, &present))
        return;
    if (!sv_is_simple_name(name, 64)) {
        reply_invalid(a, "\"name\" may hold letters, digits, '.', '_' and '-' only");
        return;
    }
    char *id = sv_new_id("usr_", 12);
    json_t *row = id != NULL ? json_pack("{ss ss sb sI}", "id", id, "name", name, "system_admin",
                                         admin, "created_at", (json_int_t)sv_now())
                             : NULL;
    free(id);
    change c;
    if (row == NULL || !change_start(a, &c)) {
        json_decref(row);
        return;
    }
    store_err err = st_insert(c.tx, T_USERS, row);
    if (err == ST_OK)
        err = change_audit(&c, "user.create", NULL, json_string_value(json_object_get(row, "id")),
                           NULL, row);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "user");
    } else {
        change_finish(a, &c, 201, row);
    }
    json_decref(row);
}

/* tokens: GET (own), POST {name, expires_in, user_id (sysadmin)}; tokens/{id}: DELETE. */
void admin_tokens(actx *a)
{
    if (a->nseg == 1 && METHOD("GET")) {
        store_tx *tx = NULL;
        json_t *rows = NULL;
        if (!read_begin(a, &tx))
            return;
        json_t *where = json_pack("{ss}", "user_id", a->user_id);
        store_err err = st_list(tx, T_PATS, where, 0, &rows);
        store_rollback(tx);
        json_decref(where);
        if (err != ST_OK)
            reply_store_error(a, err, "token");
        else
            reply_rows(a, rows);
        json_decref(rows);
        return;
    }
    if (a->nseg == 1 && METHOD("POST")) {
        static const char *const allowed[] = {"name", "expires_in", "user_id", NULL};
        const char *name = NULL, *user_id = NULL;
        int64_t expires_in = 0;
        int present = 0;
        if (!body_only(a, allowed) || !body_string(a, "name", 1, 64, &name) ||
            !body_string(a, "user_id", 0, 64, &user_id) ||
            !body_int(a, "expires_in", 0, 60, 10LL * 365 * 86400, &expires_in, &present))
            return;
        if (user_id != NULL && strcmp(user_id, a->user_id) != 0 && !require_sysadmin(a))
            return;
        change c;
        if (!change_start(a, &c))
            return;
        json_t *user = NULL;
        store_err err = st_get_id(c.tx, T_USERS, user_id != NULL ? user_id : a->user_id, &user);
        json_decref(user);
        if (err != ST_OK) {
            change_abort(&c);
            reply_store_error(a, err, "user");
            return;
        }
        char *token = NULL;
        json_t *row = NULL;
        if (pat_create(&c, user_id != NULL ? user_id : a->user_id, name,
                       present ? c.now + expires_in : 0, &token, &row) != 0) {
            change_abort(&c);
            http_problem(a->r, 503, NULL, "the token could not be stored");
            return;
        }
        json_t *shown = public_row(row);
        json_object_set_new(shown, "token", json_string(token));
        jg_free_secret(token, 0);
        store_err cerr = change_commit(&c);
        if (cerr != ST_OK)
            reply_store_error(a, cerr, "token");
        else
            http_json(a->r, 201, shown);
        http_set_header(a->r, "Cache-Control", "no-store");
        /* The token is in `shown` once: wipe it from the tree. */
        jg__json_wipe_string(json_object_get(shown, "token"));
        json_decref(shown);
        json_decref(row);
        return;
    }
    if (a->nseg == 2 && METHOD("DELETE")) {
        change c;
        if (!change_start(a, &c))
            return;
        json_t *row = NULL;
        store_err err = st_get_id(c.tx, T_PATS, a->seg[1], &row);
        if (err == ST_OK && !a->sysadmin &&
            strcmp(json_string_value(json_object_get(row, "user_id")), a->user_id) != 0)
            err = ST_NOT_FOUND;
        if (err == ST_OK)
            err = st_remove(c.tx, T_PATS, a->seg[1]);
        if (err == ST_OK)
            err = change_audit(&c, "pat.delete", NULL, a->seg[1], row, NULL);
        json_decref(row);
        if (err != ST_OK) {
            change_abort(&c);
            reply_store_error(a, err, "token");
            return;
        }
        change_finish(a, &c, 204, NULL);
        return;
    }
    reply_method(a, a->nseg == 1 ? "GET, POST" : "DELETE");
}

/* tenants: GET, POST {name, owner}; tenants/{id}: GET. */
void admin_tenants(actx *a)
{
    if (a->nseg == 2) {
        if (!METHOD("GET")) {
            reply_method(a, "GET");
            return;
        }
        store_tx *tx = NULL;
        if (!read_begin(a, &tx))
            return;
        json_t *row = NULL;
        store_err err = ST_OK;
        if (require_role(a, tx, a->seg[1], ROLE_VIEWER)) {
            err = st_get_id(tx, T_TENANTS, a->seg[1], &row);
            if (err != ST_OK)
                reply_store_error(a, err, "tenant");
            else
                reply_row(a, 200, row);
        }
        store_rollback(tx);
        json_decref(row);
        return;
    }
    if (METHOD("GET")) {
        store_tx *tx = NULL;
        json_t *rows = NULL, *mine = NULL;
        if (!read_begin(a, &tx))
            return;
        store_err err = st_list(tx, T_TENANTS, NULL, 0, &rows);
        if (err == ST_OK && !a->sysadmin) {
            json_t *where = json_pack("{ss}", "user_id", a->user_id);
            err = st_list(tx, T_MEMBERS, where, 0, &mine);
            json_decref(where);
            json_t *kept = json_array();
            size_t i, j;
            json_t *t, *m;
            json_array_foreach (rows, i, t) {
                json_array_foreach (mine, j, m) {
                    if (json_equal(json_object_get(m, "tenant_id"), json_object_get(t, "id")))
                        json_array_append(kept, t);
                }
            }
            json_decref(rows);
            rows = kept;
        }
        store_rollback(tx);
        if (err != ST_OK)
            reply_store_error(a, err, "tenant");
        else
            reply_rows(a, rows);
        json_decref(rows);
        json_decref(mine);
        return;
    }
    if (!METHOD("POST")) {
        reply_method(a, "GET, POST");
        return;
    }
    if (!require_sysadmin(a))
        return;
    static const char *const allowed[] = {"name", "owner", NULL};
    const char *name = NULL, *owner = NULL;
    if (!body_only(a, allowed) || !body_string(a, "name", 1, 64, &name) ||
        !body_string(a, "owner", 0, 64, &owner))
        return;
    if (!sv_is_simple_name(name, 64)) {
        reply_invalid(a, "\"name\" may hold letters, digits, '.', '_' and '-' only");
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    char *id = sv_new_id("ten_", 12);
    json_t *row = json_pack("{ss ss sI}", "id", id != NULL ? id : "", "name", name, "created_at",
                            (json_int_t)c.now);
    free(id);
    const char *tid = json_string_value(json_object_get(row, "id"));
    store_err err = st_insert(c.tx, T_TENANTS, row);
    if (err == ST_OK)
        err = change_audit(&c, "tenant.create", tid, tid, NULL, row);
    if (err == ST_OK && owner != NULL) {
        json_t *where = json_pack("{ss}", "name", owner), *user = NULL;
        err = st_get(c.tx, T_USERS, where, &user);
        json_decref(where);
        if (err == ST_NOT_FOUND) {
            change_abort(&c);
            reply_invalid(a, "\"owner\" names no user");
            json_decref(row);
            return;
        }
        char *mid = sv_new_id("mem_", 12);
        json_t *m = json_pack("{ss ss sO ss sI}", "id", mid != NULL ? mid : "", "tenant_id", tid,
                              "user_id", json_object_get(user, "id"), "role", "owner", "created_at",
                              (json_int_t)c.now);
        free(mid);
        if (err == ST_OK)
            err = st_insert(c.tx, T_MEMBERS, m);
        if (err == ST_OK)
            err = change_audit(&c, "member.add", tid, json_string_value(json_object_get(m, "id")),
                               NULL, m);
        json_decref(m);
        json_decref(user);
    }
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "tenant");
    } else {
        change_finish(a, &c, 201, row);
    }
    json_decref(row);
}

static int count_owners(store_tx *tx, const char *tenant_id, size_t *n)
{
    json_t *where = json_pack("{ss ss}", "tenant_id", tenant_id, "role", "owner"), *rows = NULL;
    store_err err = st_list(tx, T_MEMBERS, where, 0, &rows);
    json_decref(where);
    *n = json_array_size(rows);
    json_decref(rows);
    return err == ST_OK;
}

/* tenants/{t}/members: GET, POST {user, role}; members/{user_id}: PUT {role}, DELETE. */
void admin_members(actx *a, const char *tenant_id)
{
    if (a->nseg == 3 && METHOD("GET")) {
        store_tx *tx = NULL;
        json_t *rows = NULL;
        if (!read_begin(a, &tx))
            return;
        if (require_role(a, tx, tenant_id, ROLE_VIEWER)) {
            json_t *where = json_pack("{ss}", "tenant_id", tenant_id);
            store_err err = st_list(tx, T_MEMBERS, where, 0, &rows);
            json_decref(where);
            if (err != ST_OK)
                reply_store_error(a, err, "member");
            else
                reply_rows(a, rows);
        }
        store_rollback(tx);
        json_decref(rows);
        return;
    }
    int add = a->nseg == 3 && METHOD("POST");
    int set = a->nseg == 4 && METHOD("PUT");
    int del = a->nseg == 4 && METHOD("DELETE");
    if (!add && !set && !del) {
        if (a->nseg > 4)
            http_problem(a->r, 404, NULL, "no such endpoint");
        else
            reply_method(a, a->nseg == 3 ? "GET, POST" : "PUT, DELETE");
        return;
    }
    static const char *const add_allowed[] = {"user", "role", NULL};
    static const char *const set_allowed[] = {"role", NULL};
    const char *user = NULL, *rolename = NULL;
    if (!require_role_first(a, tenant_id, ROLE_OWNER))
        return;
    if (!del && (!body_only(a, add ? add_allowed : set_allowed) ||
                 (add && !body_string(a, "user", 1, 64, &user)) ||
                 !body_string(a, "role", 1, 16, &rolename)))
        return;
    if (!del && role_from_name(rolename) == ROLE_NONE) {
        reply_invalid(a, "\"role\" must be owner, admin, developer or viewer");
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    if (!require_role(a, c.tx, tenant_id, ROLE_OWNER)) {
        change_abort(&c);
        return;
    }
    json_t *before = NULL, *after = NULL, *u = NULL;
    store_err err = ST_OK;
    if (add) {
        json_t *where = json_pack("{ss}", "name", user);
        err = st_get(c.tx, T_USERS, where, &u);
        json_decref(where);
        if (err == ST_NOT_FOUND) {
            change_abort(&c);
            reply_invalid(a, "\"user\" names no user");
            return;
        }
        char *mid = sv_new_id("mem_", 12);
        after = json_pack("{ss ss sO ss sI}", "id", mid != NULL ? mid : "", "tenant_id", tenant_id,
                          "user_id", json_object_get(u, "id"), "role", rolename, "created_at",
                          (json_int_t)c.now);
        free(mid);
        if (err == ST_OK)
            err = st_insert(c.tx, T_MEMBERS, after);
        if (err == ST_OK)
            err = change_audit(&c, "member.add", tenant_id,
                               json_string_value(json_object_get(after, "id")), NULL, after);
    } else {
        json_t *where = json_pack("{ss ss}", "tenant_id", tenant_id, "user_id", a->seg[3]);
        err = st_get(c.tx, T_MEMBERS, where, &before);
        json_decref(where);
        size_t owners = 0;
        int demotes_owner =
            err == ST_OK &&
            strcmp(json_string_value(json_object_get(before, "role")), "owner") == 0 &&
            (del || strcmp(rolename, "owner") != 0);
        if (demotes_owner && count_owners(c.tx, tenant_id, &owners) && owners <= 1) {
            change_abort(&c);
            json_decref(before);
            http_problem(a->r, 409, NULL, "a tenant keeps at least one owner");
            return;
        }
        const char *mid = json_string_value(json_object_get(before, "id"));
        if (err == ST_OK && set) {
            json_t *upd = json_pack("{ss}", "role", rolename);
            after = json_deep_copy(before);
            json_object_update(after, upd);
            err = st_update(c.tx, T_MEMBERS, mid, upd);
            json_decref(upd);
            if (err == ST_OK)
                err = change_audit(&c, "member.update", tenant_id, mid, before, after);
        } else if (err == ST_OK) {
            err = st_remove(c.tx, T_MEMBERS, mid);
            if (err == ST_OK)
                err = change_audit(&c, "member.remove", tenant_id, mid, before, NULL);
        }
    }
    json_decref(u);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "member");
    } else {
        change_finish(a, &c, add ? 201 : 200, del ? NULL : after);
    }
    json_decref(before);
    json_decref(after);
}
