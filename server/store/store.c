/*
 * store.c — choose a backend by location and dispatch to it. "sqlite:PATH"
 * or a plain path is SQLite; a PostgreSQL backend would claim
 * "postgresql://" here.
 */
#include "server/store/store_backend.h"

#include <string.h>

store_err store_open(const char *location, store **out)
{
    *out = NULL;
    if (location == NULL)
        return ST_IO;
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

store_err st_insert(store_tx *tx, store_table t, const json_t *row)
{
    return tx->st->ops->insert(tx, t, row);
}

store_err st_update(store_tx *tx, store_table t, const char *id, const json_t *row)
{
    return tx->st->ops->update(tx, t, id, row);
}

store_err st_remove(store_tx *tx, store_table t, const char *id)
{
    return tx->st->ops->remove(tx, t, id);
}

store_err st_list(store_tx *tx, store_table t, const json_t *where, unsigned limit, json_t **rows)
{
    return tx->st->ops->list(tx, t, where, limit, rows);
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

store_err st_get_version(store_tx *tx, int64_t *version)
{
    return tx->st->ops->get_version(tx, version);
}
