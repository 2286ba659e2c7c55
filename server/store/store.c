/*
 * store.c — choose a backend by location and dispatch to it. "sqlite:PATH"
 * or a plain path is SQLite; "postgresql://" and "postgres://" (libpq
 * connection URIs) are PostgreSQL; any other "scheme://" is refused.
 */
#include "server/store/store_backend.h"

#include <stdlib.h>
#include <string.h>

int store_is_postgresql(const char *location)
{
    return location != NULL && (strncmp(location, "postgresql://", 13) == 0 ||
                                strncmp(location, "postgres://", 11) == 0);
}

char *store_location_shown(const char *location)
{
    if (location == NULL)
        return NULL;
    size_t len = strlen(location);
    char *out = malloc(2 * len + 8), *o = out; /* each "***" grows it by 3 at most */
    if (out == NULL)
        return NULL;
    const char *p = location, *scheme = strstr(location, "://");
    if (scheme != NULL) {
        const char *auth = scheme + 3, *end = auth + strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', (size_t)(end - auth));
        const char *colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon != NULL) {
            memcpy(o, location, (size_t)(colon + 1 - location));
            o += colon + 1 - location;
            memcpy(o, "***", 3);
            o += 3;
            p = at;
        }
    }
    /* Query parameters: password=... up to the next '&'. */
    while (*p != '\0') {
        if (scheme != NULL && p > location && (p[-1] == '?' || p[-1] == '&') &&
            strncmp(p, "password=", 9) == 0) {
            memcpy(o, "password=***", 12);
            o += 12;
            p += 9 + strcspn(p + 9, "&#");
            continue;
        }
        *o++ = *p++;
    }
    *o = '\0';
    return out;
}

store_err store_open(const char *location, store **out)
{
    *out = NULL;
    if (location == NULL)
        return ST_IO;
    if (store_is_postgresql(location))
        return store_pg_ops.open(location, out);
    if (strncmp(location, "sqlite:", 7) == 0)
        location += 7;
    else if (strstr(location, "://") != NULL)
        return ST_IO; /* no backend for that scheme in this build */
    return store_sqlite_ops.open(location, out);
}

void store_close(store *st)
{
    if (st != NULL)
        st->ops->close(st);
}

store_err store_ping(store *st)
{
    return st->ops->ping(st);
}

store_err store_health(store *st)
{
    return st->ops->health(st);
}

store_err store_probe(store *st)
{
    return st->ops->probe(st);
}

store_err store_begin(store *st, int write, store_tx **out)
{
    return st->ops->begin(st, write, out);
}

store_err store_commit(store_tx *tx)
{
    return tx->st->ops->commit(tx);
}

void store_rollback(store_tx *tx)
{
    if (tx != NULL)
        tx->st->ops->rollback(tx);
}

void store_journal_attach(store_tx *tx, store_journal *j)
{
    tx->journal = j;
}

void store_journal_free(store_journal *j)
{
    for (size_t i = 0; i < j->n; i++) {
        free(j->v[i].id);
        free(j->v[i].app_id);
    }
    free(j->v);
    memset(j, 0, sizeof *j);
}

static void journal_add(store_journal *j, store_table t, const char *id, const char *app_id)
{
    if (j->overflow)
        return;
    if (id == NULL || j->n == JOURNAL_MAX) {
        j->overflow = 1;
        return;
    }
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 8;
        store_touch *v = realloc(j->v, cap * sizeof *v);
        if (v == NULL) {
            j->overflow = 1;
            return;
        }
        j->v = v;
        j->cap = cap;
    }
    store_touch *e = &j->v[j->n];
    e->t = t;
    e->id = strdup(id);
    e->app_id = app_id != NULL ? strdup(app_id) : NULL;
    if (e->id == NULL || (app_id != NULL && e->app_id == NULL)) {
        free(e->id);
        free(e->app_id);
        j->overflow = 1;
        return;
    }
    j->n++;
}

static int owned_by_app(store_table t)
{
    return t == T_SECRETS || t == T_SUBSCRIPTIONS;
}

/* The app a stored secret or subscription belongs to (malloc'd), or NULL. */
static char *stored_app_id(store_tx *tx, store_table t, const char *id)
{
    json_t *row = NULL;
    char *app = NULL;
    if (st_get_id(tx, t, id, &row) == ST_OK) {
        const char *s = json_string_value(json_object_get(row, "app_id"));
        app = s != NULL ? strdup(s) : NULL;
    }
    json_decref(row);
    return app;
}

store_err st_insert(store_tx *tx, store_table t, const json_t *row)
{
    store_err err = tx->st->ops->insert(tx, t, row);
    if (err == ST_OK && tx->journal != NULL) {
        const store_table_desc *d = store_table_info(t);
        journal_add(tx->journal, t, json_string_value(json_object_get(row, d->key)),
                    owned_by_app(t) ? json_string_value(json_object_get(row, "app_id")) : NULL);
        if (owned_by_app(t) && json_object_get(row, "app_id") == NULL)
            tx->journal->overflow = 1;
    }
    return err;
}

/* Update and removal: the owner is read first, while the row is there. */
static store_err journalled(store_tx *tx, store_table t, const char *id, const json_t *row)
{
    char *app = tx->journal != NULL && owned_by_app(t) ? stored_app_id(tx, t, id) : NULL;
    store_err err =
        row != NULL ? tx->st->ops->update(tx, t, id, row) : tx->st->ops->remove(tx, t, id);
    if (err == ST_OK && tx->journal != NULL) {
        if (owned_by_app(t) && app == NULL)
            tx->journal->overflow = 1; /* no owner known: read everything */
        else
            journal_add(tx->journal, t, id, app);
    }
    free(app);
    return err;
}

store_err st_update(store_tx *tx, store_table t, const char *id, const json_t *row)
{
    if (row == NULL)
        return ST_IO;
    return journalled(tx, t, id, row);
}

store_err st_remove(store_tx *tx, store_table t, const char *id)
{
    return journalled(tx, t, id, NULL);
}

store_err st_list(store_tx *tx, store_table t, const json_t *where, unsigned limit, json_t **rows)
{
    return tx->st->ops->list(tx, t, where, limit, rows);
}

store_err st_each(store_tx *tx, store_table t, const json_t *where,
                  int (*fn)(const json_t *row, void *ctx), void *ctx)
{
    return tx->st->ops->each(tx, t, where, fn, ctx);
}

store_err st_get(store_tx *tx, store_table t, const json_t *where, json_t **row)
{
    json_t *rows = NULL;
    *row = NULL;
    store_err err = st_list(tx, t, where, 2, &rows);
    if (err != ST_OK)
        return err;
    if (json_array_size(rows) != 1) {
        json_decref(rows);
        return ST_NOT_FOUND;
    }
    *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return ST_OK;
}

store_err st_get_id(store_tx *tx, store_table t, const char *id, json_t **row)
{
    const store_table_desc *d = store_table_info(t);
    *row = NULL;
    if (d == NULL || id == NULL)
        return ST_NOT_FOUND;
    json_t *where = json_pack("{ss}", d->key, id);
    if (where == NULL)
        return ST_NOMEM;
    store_err err = st_get(tx, t, where, row);
    json_decref(where);
    return err;
}

store_err st_audit_append(store_tx *tx, const store_audit *rec)
{
    return tx->st->ops->audit_append(tx, rec);
}

store_err st_query(store_tx *tx, const char *sql, const json_t *params, const store_column *cols,
                   json_t **rows)
{
    return tx->st->ops->query(tx, sql, params, cols, rows);
}

store_err st_audit_query(store_tx *tx, const char *tenant_id, int64_t since, int64_t until,
                         int64_t after_seq, unsigned limit, json_t **rows)
{
    return tx->st->ops->audit_query(tx, tenant_id, since, until, after_seq, limit, rows);
}

store_err st_purge_expired(store_tx *tx, int64_t now)
{
    return tx->st->ops->purge_expired(tx, now);
}

store_err st_bump_version(store_tx *tx, int64_t *version)
{
    return tx->st->ops->bump_version(tx, 0, version);
}

store_err st_bump_version_past(store_tx *tx, int64_t floor, int64_t *version)
{
    return tx->st->ops->bump_version(tx, floor, version);
}

store_err st_get_identity(store_tx *tx, uint8_t id[16])
{
    return tx->st->ops->get_identity(tx, id);
}

store_err st_get_version(store_tx *tx, int64_t *version)
{
    return tx->st->ops->get_version(tx, version);
}

store_err st_log_change(store_tx *tx, int64_t version, int64_t at, const char *touches)
{
    return tx->st->ops->log_change(tx, version, at, touches);
}

store_err st_changes_since(store_tx *tx, int64_t after, unsigned limit, json_t **rows)
{
    *rows = NULL;
    return tx->st->ops->changes_since(tx, after, limit, rows);
}

store_err st_prune_changes(store_tx *tx, int64_t before)
{
    return tx->st->ops->prune_changes(tx, before);
}

int store_wait_change(store *st, int timeout_ms)
{
    return st->ops->wait_change(st, timeout_ms);
}

/* ---- The journal as text (the change log) ----------------------------------------- */

char *store_journal_to_text(const store_journal *j)
{
    if (j->overflow)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < j->n; i++) {
        const store_touch *t = &j->v[i];
        json_t *e = json_pack("[sso]", store_table_info(t->t)->name, t->id,
                              t->app_id != NULL ? json_string(t->app_id) : json_null());
        if (e == NULL || json_array_append_new(a, e) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    char *text = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

static int table_named(const char *name, store_table *out)
{
    for (int t = 0; t < T__COUNT; t++) {
        if (strcmp(store_table_info((store_table)t)->name, name) == 0) {
            *out = (store_table)t;
            return 0;
        }
    }
    return -1;
}

int store_journal_add_text(store_journal *j, const char *text)
{
    json_t *a = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    int rc = json_is_array(a) ? 0 : -1;
    size_t i;
    json_t *e;
    json_array_foreach (a, i, e) {
        const char *name = json_string_value(json_array_get(e, 0));
        const char *id = json_string_value(json_array_get(e, 1));
        json_t *app = json_array_get(e, 2);
        store_table t;
        if (rc != 0 || name == NULL || id == NULL || table_named(name, &t) != 0 ||
            !(json_is_null(app) || json_is_string(app))) {
            rc = -1;
            break;
        }
        journal_add(j, t, id, json_string_value(app));
    }
    json_decref(a);
    if (rc != 0)
        j->overflow = 1;
    return j->overflow ? -1 : 0;
}
