/*
 * sqlite_store.c — the SQLite backend of store.h.
 *
 * One connection, serialised by a mutex: writers are serialised by SQLite
 * anyway, and the token endpoint reads from the in-memory view, not from
 * here. WAL journal with synchronous=FULL, so a commit that returned is on
 * disk (a kill -9 or a power cut after it loses nothing); foreign keys on;
 * the schema migrated on open (sqlite_schema.c).
 *
 * Health: a write that fails for want of space (SQLITE_FULL) or for an I/O
 * error marks the store unhealthy until a write succeeds again; the file's
 * identity (device and inode) is recorded at open and checked before every
 * write transaction, so a database deleted or renamed over under a running
 * server refuses writes (ST_GONE) instead of writing into an unlinked file
 * that vanishes at the next restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "server/core/log.h"
#include "server/store/sqlite_schema.h"
#include "server/store/store_backend.h"

typedef struct sq_store {
    struct store base;
    sqlite3 *db;
    pthread_mutex_t mu;
    char *path;
    dev_t dev;
    ino_t ino;
    atomic_int write_fail; /* store_err of the last failed write, ST_OK after a success */
} sq_store;

typedef struct sq_tx {
    struct store_tx base;
    int write;
} sq_tx;

static sq_store *SQ(store_tx *tx)
{
    return (sq_store *)tx->st;
}

static store_err map_rc(sqlite3 *db, int rc)
{
    switch (rc) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return ST_OK;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return ST_CONFLICT;
    case SQLITE_NOMEM:
        return ST_NOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ST_BUSY;
    case SQLITE_FULL:
        return ST_FULL;
    default:
        break;
    }
    if ((rc & 0xff) == SQLITE_FULL)
        return ST_FULL;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return ST_CONSTRAINT;
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return ST_BUSY;
    log_msg(L_ERR, "sqlite: %s (%d)", db != NULL ? sqlite3_errmsg(db) : "?", rc);
    return ST_IO;
}

static store_err exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK && msg != NULL)
        log_msg(L_ERR, "sqlite: %s", msg);
    sqlite3_free(msg);
    return map_rc(db, rc);
}

/* Whether PRAGMA foreign_key_check finds a row that violates one. */
static int foreign_keys_broken(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return 1;
    int broken = sqlite3_step(st) != SQLITE_DONE;
    sqlite3_finalize(st);
    return broken;
}

static store_err migrate(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int have = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return ST_IO;
    if (sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    size_t want = sqlite_migration_count();
    if (have < 0 || (size_t)have > want) {
        log_msg(L_ERR, "store: database schema %d is newer than this jwtgated (%zu)", have, want);
        return ST_IO;
    }
    for (size_t i = (size_t)have; i < want; i++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %zu;", i + 1);
        const char *sql = sqlite_migration(i);
        int rebuild = strncmp(sql, SQLITE_REBUILD, strlen(SQLITE_REBUILD)) == 0;
        /* outside the transaction: inside one the pragma is a no-op */
        store_err err = rebuild ? exec_sql(db, "PRAGMA foreign_keys = OFF") : ST_OK;
        if (err == ST_OK)
            err = exec_sql(db, "BEGIN IMMEDIATE");
        if (err == ST_OK)
            err = exec_sql(db, sql);
        if (err == ST_OK && rebuild && foreign_keys_broken(db)) {
            log_msg(L_ERR, "store: migration %zu breaks a foreign key", i + 1);
            err = ST_IO;
        }
        if (err == ST_OK)
            err = exec_sql(db, pragma);
        if (err == ST_OK)
            err = exec_sql(db, "COMMIT");
        if (err != ST_OK)
            exec_sql(db, "ROLLBACK");
        if (rebuild)
            exec_sql(db, "PRAGMA foreign_keys = ON");
        if (err != ST_OK) {
            log_msg(L_ERR, "store: migration %zu failed", i + 1);
            return err;
        }
        log_msg(L_INFO, "store: schema migrated to version %zu", i + 1);
    }
    return ST_OK;
}

static store_err sq_open(const char *path, store **out)
{
    sq_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ST_NOMEM;
    s->base.ops = &store_sqlite_ops;
    pthread_mutex_init(&s->mu, NULL);
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    store_err err = map_rc(s->db, rc);
    if (err == ST_OK) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, 5000);
        err = exec_sql(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                              " PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;");
    }
    if (err == ST_OK)
        err = migrate(s->db);
    struct stat sb;
    if (err == ST_OK && ((s->path = strdup(path)) == NULL || stat(path, &sb) != 0))
        err = s->path == NULL ? ST_NOMEM : ST_IO;
    if (err != ST_OK) {
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->mu);
        free(s->path);
        free(s);
        return err;
    }
    s->dev = sb.st_dev;
    s->ino = sb.st_ino;
    atomic_init(&s->write_fail, ST_OK);
    *out = &s->base;
    return ST_OK;
}

/* Whether the file at the path is still the database that was opened. */
static int same_file(const sq_store *s)
{
    struct stat sb;
    return stat(s->path, &sb) == 0 && sb.st_dev == s->dev && sb.st_ino == s->ino;
}

/* Remember how a write ended: failures that mean "cannot write now". */
static store_err noted(sq_store *s, store_err err)
{
    if (err == ST_FULL || err == ST_IO)
        atomic_store(&s->write_fail, (int)err);
    return err;
}

static store_err sq_health(store *st)
{
    sq_store *s = (sq_store *)st;
    if (!same_file(s))
        return ST_GONE;
    return (store_err)atomic_load(&s->write_fail);
}

static void sq_close(store *st)
{
    sq_store *s = (sq_store *)st;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

static store_err sq_ping(store *st)
{
    sq_store *s = (sq_store *)st;
    pthread_mutex_lock(&s->mu);
    store_err err = exec_sql(s->db, "SELECT 1 FROM meta LIMIT 1");
    pthread_mutex_unlock(&s->mu);
    return err;
}

static store_err sq_begin(store *st, int write, store_tx **out)
{
    sq_store *s = (sq_store *)st;
    if (write && !same_file(s)) {
        log_msg(L_ERR,
                "store: %s was removed or replaced under the running server; refusing"
                " writes (restart, and see jwtgated restore)",
                s->path);
        return ST_GONE;
    }
    sq_tx *tx = calloc(1, sizeof *tx);
    if (tx == NULL)
        return ST_NOMEM;
    pthread_mutex_lock(&s->mu);
    store_err err = exec_sql(s->db, write ? "BEGIN IMMEDIATE" : "BEGIN");
    if (write)
        noted(s, err);
    if (err != ST_OK) {
        pthread_mutex_unlock(&s->mu);
        free(tx);
        return err;
    }
    tx->base.st = st;
    tx->write = write;
    *out = &tx->base;
    return ST_OK;
}

static store_err sq_commit(store_tx *tx)
{
    sq_store *s = SQ(tx);
    int write = ((sq_tx *)tx)->write;
    store_err err = exec_sql(s->db, "COMMIT");
    if (err != ST_OK)
        exec_sql(s->db, "ROLLBACK");
    if (write && err == ST_OK)
        atomic_store(&s->write_fail, ST_OK);
    else if (write)
        noted(s, err);
    pthread_mutex_unlock(&s->mu);
    free(tx);
    return err;
}

static void sq_rollback(store_tx *tx)
{
    sq_store *s = SQ(tx);
    exec_sql(s->db, "ROLLBACK");
    pthread_mutex_unlock(&s->mu);
    free(tx);
}

/* ---- Rows <-> statements ------------------------------------------------------ */

static const store_column *find_col(const store_table_desc *d, const char *name)
{
    for (const store_column *c = d->columns; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int bind_value(sqlite3_stmt *st, int idx, const store_column *c, const json_t *v)
{
    if (v == NULL || json_is_null(v))
        return sqlite3_bind_null(st, idx);
    switch (c->type) {
    case COL_TEXT:
        if (!json_is_string(v))
            return SQLITE_MISMATCH;
        return sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                                 SQLITE_TRANSIENT);
    case COL_INT:
        if (!json_is_integer(v))
            return SQLITE_MISMATCH;
        return sqlite3_bind_int64(st, idx, (sqlite3_int64)json_integer_value(v));
    case COL_BOOL:
        if (!json_is_boolean(v))
            return SQLITE_MISMATCH;
        return sqlite3_bind_int(st, idx, json_is_true(v) ? 1 : 0);
    case COL_JSON: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        if (text == NULL)
            return SQLITE_NOMEM;
        return sqlite3_bind_text(st, idx, text, -1, free);
    }
    }
    return SQLITE_MISMATCH;
}

/* A row's column value as JSON. */
static json_t *column_json(sqlite3_stmt *st, int i, col_type type)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    switch (type) {
    case COL_TEXT:
        return json_stringn((const char *)sqlite3_column_text(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
    case COL_INT:
        return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case COL_BOOL:
        return json_boolean(sqlite3_column_int(st, i) != 0);
    case COL_JSON:
        return json_loadb((const char *)sqlite3_column_text(st, i),
                          (size_t)sqlite3_column_bytes(st, i), JSON_DECODE_ANY, NULL);
    }
    return NULL;
}

static store_err step_done(sq_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    store_err err = rc == SQLITE_DONE ? ST_OK : map_rc(s->db, sqlite3_extended_errcode(s->db));
    sqlite3_finalize(st);
    return noted(s, err); /* every statement run through here writes */
}

static store_err sq_insert(store_tx *tx, store_table t, const json_t *row)
{
    sq_store *s = SQ(tx);
    const store_table_desc *d = store_table_info(t);
    if (d == NULL || !json_is_object(row))
        return ST_IO;
    char sql[1024], vals[256];
    size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (", d->name), v = 0, cols = 0;
    const char *name;
    const json_t *value;
    json_object_foreach ((json_t *)row, name, value) {
        if (find_col(d, name) == NULL) {
            log_msg(L_ERR, "store: %s has no column %s", d->name, name);
            return ST_IO;
        }
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s", cols ? ", " : "", name);
        v += (size_t)snprintf(vals + v, sizeof vals - v, "%s?", cols ? ", " : "");
        cols++;
        if (n >= sizeof sql || v >= sizeof vals)
            return ST_IO;
    }
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") VALUES (%s)", vals);
    if (n >= sizeof sql || cols == 0)
        return ST_IO;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    int idx = 1;
    json_object_foreach ((json_t *)row, name, value) {
        rc = bind_value(st, idx++, find_col(d, name), value);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return rc == SQLITE_NOMEM ? ST_NOMEM : ST_CONSTRAINT;
        }
    }
    return step_done(s, st);
}

static store_err sq_update(store_tx *tx, store_table t, const char *id, const json_t *row)
{
    sq_store *s = SQ(tx);
    const store_table_desc *d = store_table_info(t);
    if (d == NULL || !json_is_object(row) || id == NULL)
        return ST_IO;
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql, "UPDATE %s SET ", d->name), cols = 0;
    const char *name;
    const json_t *value;
    json_object_foreach ((json_t *)row, name, value) {
        if (find_col(d, name) == NULL || strcmp(name, d->key) == 0)
            return ST_IO;
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s = ?", cols ? ", " : "", name);
        cols++;
        if (n >= sizeof sql)
            return ST_IO;
    }
    n += (size_t)snprintf(sql + n, sizeof sql - n, " WHERE %s = ?", d->key);
    if (n >= sizeof sql || cols == 0)
        return ST_IO;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    int idx = 1;
    json_object_foreach ((json_t *)row, name, value) {
        rc = bind_value(st, idx++, find_col(d, name), value);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return rc == SQLITE_NOMEM ? ST_NOMEM : ST_CONSTRAINT;
        }
    }
    sqlite3_bind_text(st, idx, id, -1, SQLITE_TRANSIENT);
    store_err err = step_done(s, st);
    if (err == ST_OK && sqlite3_changes(s->db) == 0)
        err = ST_NOT_FOUND;
    return err;
}

static store_err sq_remove(store_tx *tx, store_table t, const char *id)
{
    sq_store *s = SQ(tx);
    const store_table_desc *d = store_table_info(t);
    if (d == NULL || id == NULL)
        return ST_IO;
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?", d->name, d->key);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    store_err err = step_done(s, st);
    if (err == ST_OK && sqlite3_changes(s->db) == 0)
        err = ST_NOT_FOUND;
    return err;
}

/* Run a SELECT whose columns are described by `cols` (NULL: by name from `d`). */
/* The rows of a prepared statement: into an array (*rows), or one at a time
 * to `fn` (then each row is freed after the call; non-zero stops: ST_IO). */
static store_err collect_rows(sqlite3 *db, sqlite3_stmt *st, const store_table_desc *d,
                              const store_column *cols, json_t **rows,
                              int (*fn)(const json_t *row, void *ctx), void *ctx)
{
    json_t *out = fn == NULL ? json_array() : NULL;
    if (fn == NULL && out == NULL) {
        sqlite3_finalize(st);
        return ST_NOMEM;
    }
    int rc;
    store_err err = ST_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        int ncol = sqlite3_column_count(st);
        for (int i = 0; row != NULL && i < ncol; i++) {
            const char *cname = sqlite3_column_name(st, i);
            const store_column *c = cols != NULL ? &cols[i] : find_col(d, cname);
            if (c == NULL)
                continue;
            json_t *v = column_json(st, i, c->type);
            if (v == NULL || json_object_set_new(row, c->name, v) != 0) {
                json_decref(row);
                row = NULL;
            }
        }
        if (row == NULL) {
            err = ST_NOMEM;
            break;
        }
        if (fn != NULL) {
            int stop = fn(row, ctx);
            json_decref(row);
            if (stop) {
                err = ST_IO;
                break;
            }
        } else if (json_array_append_new(out, row) != 0) {
            err = ST_NOMEM;
            break;
        }
    }
    if (err == ST_OK && rc != SQLITE_DONE)
        err = map_rc(db, sqlite3_extended_errcode(db));
    sqlite3_finalize(st);
    if (err != ST_OK) {
        json_decref(out);
        return err;
    }
    if (rows != NULL)
        *rows = out;
    return ST_OK;
}

static store_err collect(sqlite3 *db, sqlite3_stmt *st, const store_table_desc *d,
                         const store_column *cols, json_t **rows)
{
    return collect_rows(db, st, d, cols, rows, NULL, NULL);
}

/* SELECT with `where` as equalities; ordered unless fn is given (a whole
 * read does not need the order, and sorting 100,000 rows is not free). */
static store_err select_rows(store_tx *tx, store_table t, const json_t *where, unsigned limit,
                             json_t **rows, int (*fn)(const json_t *, void *), void *ctx)
{
    sq_store *s = SQ(tx);
    const store_table_desc *d = store_table_info(t);
    if (rows != NULL)
        *rows = NULL;
    if (d == NULL || (where != NULL && !json_is_object(where)))
        return ST_IO;
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT * FROM %s", d->name), conds = 0;
    const char *name;
    const json_t *value;
    if (where != NULL) {
        json_object_foreach ((json_t *)where, name, value) {
            if (find_col(d, name) == NULL)
                return ST_IO;
            n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s %s ?", conds ? " AND " : " WHERE ",
                                  name, json_is_null(value) ? "IS" : "=");
            conds++;
            if (n >= sizeof sql)
                return ST_IO;
        }
    }
    if (fn == NULL)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " ORDER BY %s, rowid", d->order);
    if (limit > 0)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " LIMIT %u", limit);
    if (n >= sizeof sql)
        return ST_IO;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    int idx = 1;
    if (where != NULL) {
        json_object_foreach ((json_t *)where, name, value) {
            rc = bind_value(st, idx++, find_col(d, name), value);
            if (rc != SQLITE_OK) {
                sqlite3_finalize(st);
                return ST_IO;
            }
        }
    }
    return collect_rows(s->db, st, d, NULL, rows, fn, ctx);
}

static store_err sq_list(store_tx *tx, store_table t, const json_t *where, unsigned limit,
                         json_t **rows)
{
    return select_rows(tx, t, where, limit, rows, NULL, NULL);
}

static store_err sq_each(store_tx *tx, store_table t, const json_t *where,
                         int (*fn)(const json_t *row, void *ctx), void *ctx)
{
    return select_rows(tx, t, where, 0, NULL, fn, ctx);
}

static store_err sq_audit_append(store_tx *tx, const store_audit *rec)
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO audit (at, actor, action, tenant_id, target, before,"
                                " after) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    static const store_column json_col = {"x", COL_JSON};
    sqlite3_bind_int64(st, 1, rec->at);
    sqlite3_bind_text(st, 2, rec->actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, rec->action, -1, SQLITE_TRANSIENT);
    if (rec->tenant_id != NULL)
        sqlite3_bind_text(st, 4, rec->tenant_id, -1, SQLITE_TRANSIENT);
    if (rec->target != NULL)
        sqlite3_bind_text(st, 5, rec->target, -1, SQLITE_TRANSIENT);
    if (bind_value(st, 6, &json_col, rec->before) != SQLITE_OK ||
        bind_value(st, 7, &json_col, rec->after) != SQLITE_OK) {
        sqlite3_finalize(st);
        return ST_NOMEM;
    }
    return step_done(s, st);
}

static store_err sq_audit_query(store_tx *tx, const char *tenant_id, int64_t since, int64_t until,
                                int64_t after_seq, unsigned limit, json_t **rows)
{
    static const store_column cols[] = {
        {"seq", COL_INT},     {"at", COL_INT},         {"actor", COL_TEXT},
        {"action", COL_TEXT}, {"tenant_id", COL_TEXT}, {"target", COL_TEXT},
        {"before", COL_JSON}, {"after", COL_JSON},     {NULL, COL_TEXT}};
    sq_store *s = SQ(tx);
    *rows = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        tenant_id != NULL
            ? "SELECT seq, at, actor, action, tenant_id, target, before, after FROM audit"
              " WHERE at >= ?1 AND at < ?2 AND seq > ?3 AND tenant_id = ?5 ORDER BY seq LIMIT ?4"
            : "SELECT seq, at, actor, action, tenant_id, target, before, after FROM audit"
              " WHERE at >= ?1 AND at < ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, until);
    sqlite3_bind_int64(st, 3, after_seq);
    sqlite3_bind_int64(st, 4, limit);
    if (tenant_id != NULL)
        sqlite3_bind_text(st, 5, tenant_id, -1, SQLITE_TRANSIENT);
    return collect(s->db, st, NULL, cols, rows);
}

static store_err sq_purge_expired(store_tx *tx, int64_t now)
{
    sq_store *s = SQ(tx);
    static const char *const sql[] = {"DELETE FROM revoked_tokens WHERE exp < ?",
                                      "DELETE FROM assertion_jti WHERE exp < ?",
                                      "DELETE FROM sessions WHERE expires_at < ?"};
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);
        if (rc != SQLITE_OK)
            return map_rc(s->db, rc);
        sqlite3_bind_int64(st, 1, now);
        store_err err = step_done(s, st);
        if (err != ST_OK)
            return err;
    }
    return ST_OK;
}

static store_err sq_query(store_tx *tx, const char *sql, const json_t *params,
                          const store_column *cols, json_t **rows)
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    size_t i;
    json_t *v;
    json_array_foreach ((json_t *)params, i, v) {
        int idx = (int)i + 1;
        rc = json_is_integer(v)  ? sqlite3_bind_int64(st, idx, json_integer_value(v))
             : json_is_string(v) ? sqlite3_bind_text(st, idx, json_string_value(v),
                                                     (int)json_string_length(v), SQLITE_TRANSIENT)
             : json_is_null(v)   ? sqlite3_bind_null(st, idx)
                                 : SQLITE_MISMATCH;
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return ST_IO;
        }
    }
    if (cols == NULL)
        return step_done(s, st);
    *rows = NULL;
    return collect(s->db, st, NULL, cols, rows);
}

static store_err sq_get_version(store_tx *tx, int64_t *version)
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k = 'version'", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    rc = sqlite3_step(st);
    store_err err = ST_IO;
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(st, 0);
        err = ST_OK;
    }
    sqlite3_finalize(st);
    return err;
}

static store_err sq_get_identity(store_tx *tx, uint8_t id[16])
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT k, v FROM meta WHERE k IN ('identity_hi', 'identity_lo')", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    int found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        uint64_t v = (uint64_t)sqlite3_column_int64(st, 1);
        int at = k != NULL && strcmp(k, "identity_lo") == 0 ? 8 : 0;
        for (int i = 0; i < 8; i++)
            id[at + i] = (uint8_t)(v >> (56 - 8 * i));
        found++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE && found == 2 ? ST_OK : ST_IO;
}

static store_err sq_bump_version(store_tx *tx, int64_t floor, int64_t *version)
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "UPDATE meta SET v = MAX(v, ?) + 1 WHERE k = 'version'", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    sqlite3_bind_int64(st, 1, floor);
    store_err err = step_done(s, st);
    return err != ST_OK ? err : sq_get_version(tx, version);
}

static store_err sq_log_change(store_tx *tx, int64_t version, int64_t at, const char *touches)
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "INSERT INTO change_log (version, at, touches) VALUES (?, ?, ?)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_int64(st, 2, at);
    if (touches != NULL)
        sqlite3_bind_text(st, 3, touches, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 3);
    return step_done(s, st);
}

static store_err sq_changes_since(store_tx *tx, int64_t after, unsigned limit, json_t **rows)
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT version, touches FROM change_log WHERE version > ? ORDER BY version LIMIT ?",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit > 0 ? (sqlite3_int64)limit : -1);
    json_t *a = json_array();
    store_err err = a != NULL ? ST_OK : ST_NOMEM;
    while (err == ST_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 1);
        json_t *e = json_pack("{sIso}", "version", (json_int_t)sqlite3_column_int64(st, 0),
                              "touches", t != NULL ? json_string(t) : json_null());
        if (e == NULL || json_array_append_new(a, e) != 0)
            err = ST_NOMEM;
    }
    if (err == ST_OK && rc != SQLITE_DONE)
        err = map_rc(s->db, rc);
    sqlite3_finalize(st);
    if (err != ST_OK) {
        json_decref(a);
        return err;
    }
    *rows = a;
    return ST_OK;
}

static store_err sq_prune_changes(store_tx *tx, int64_t before)
{
    sq_store *s = SQ(tx);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "DELETE FROM change_log WHERE version < ?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(s->db, rc);
    sqlite3_bind_int64(st, 1, before);
    return step_done(s, st);
}

/* One process writes a SQLite database (the instance lock); a change by an
 * offline command (rotate-keys) is found by the serve loop's poll. */
static int sq_wait_change(store *st, int timeout_ms)
{
    (void)st;
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

static store_err sq_probe(store *st)
{
    store_tx *tx = NULL;
    store_err err = sq_begin(st, 1, &tx);
    if (err != ST_OK)
        return err;
    sq_store *s = (sq_store *)st;
    err = noted(s, exec_sql(s->db, "INSERT OR REPLACE INTO meta (k, v)"
                                   " VALUES ('probe', CAST(strftime('%s', 'now') AS INTEGER))"));
    if (err != ST_OK) {
        sq_rollback(tx);
        return err;
    }
    return sq_commit(tx);
}

/* ---- Backup and restore ------------------------------------------------------ */

static void say(char *why, size_t len, const char *fmt, const char *a, const char *b)
{
    snprintf(why, len, fmt, a, b != NULL ? b : "");
}

/* Copy every page of `from` into `to` with SQLite's backup API, waiting out
 * a busy source (a server writing) instead of failing. */
static int copy_db(sqlite3 *to, sqlite3 *from)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (b == NULL)
        return sqlite3_errcode(to);
    int rc;
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    int fin = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? fin : rc;
}

static store_err fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return ST_IO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? ST_OK : ST_IO;
}

/* Whether both paths name the same existing file. */
static int same_path(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

store_err store_sqlite_backup(const char *db_path, const char *to, char *why, size_t why_len)
{
    if (same_path(db_path, to)) {
        say(why, why_len, "%s is the live database itself", to, NULL);
        return ST_IO;
    }
    size_t n = strlen(to) + 16;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return ST_NOMEM;
    snprintf(tmp, n, "%s.tmp.XXXXXX", to);
    int fd = mkstemp(tmp); /* mode 0600; a unique name to copy into */
    sqlite3 *src = NULL, *dst = NULL;
    store_err err = ST_IO;
    if (fd < 0) {
        say(why, why_len, "cannot create a file next to %s: %s", to, strerror(errno));
        free(tmp);
        return ST_IO;
    }
    close(fd);
    if (sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        say(why, why_len, "cannot open %s: %s", db_path, sqlite3_errmsg(src));
        goto out;
    }
    sqlite3_busy_timeout(src, 5000);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        say(why, why_len, "cannot open %s: %s", tmp, sqlite3_errmsg(dst));
        goto out;
    }
    int rc = copy_db(dst, src);
    if (rc != SQLITE_OK) {
        err = map_rc(dst, rc);
        say(why, why_len, "copying %s failed: %s", db_path, sqlite3_errstr(rc));
        goto out;
    }
    /* A copy is one self-contained file: no write-ahead log beside it. */
    if (exec_sql(dst, "PRAGMA journal_mode = DELETE") != ST_OK) {
        say(why, why_len, "cannot finish %s", tmp, NULL);
        goto out;
    }
    sqlite3_close(dst);
    dst = NULL;
    char *dir = strdup(to);
    if (dir == NULL || fsync_path(tmp, 0) != ST_OK || rename(tmp, to) != 0 ||
        fsync_path(dirname(dir), 1) != ST_OK) {
        say(why, why_len, "cannot write %s: %s", to, strerror(errno));
        free(dir);
        goto out;
    }
    free(dir);
    err = ST_OK;
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    if (err != ST_OK)
        unlink(tmp);
    free(tmp);
    return err;
}

/* One integer from a query on `db`, or -1. */
static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

store_err store_sqlite_restore(const char *db_path, const char *from, char *why, size_t why_len)
{
    if (same_path(db_path, from)) {
        say(why, why_len, "%s is the live database itself", from, NULL);
        return ST_IO;
    }
    sqlite3 *src = NULL, *dst = NULL;
    store_err err = ST_IO;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        say(why, why_len, "cannot open %s: %s", from, sqlite3_errmsg(src));
        goto out;
    }
    sqlite3_stmt *st = NULL;
    int intact = 0;
    if (sqlite3_prepare_v2(src, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        intact = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    if (!intact) {
        say(why, why_len, "%s is not an intact SQLite database", from, NULL);
        goto out;
    }
    long long schema = query_int(src, "PRAGMA user_version");
    long long version = query_int(src, "SELECT v FROM meta WHERE k = 'version'");
    if (schema < 1 || version < 0) {
        say(why, why_len, "%s is not a jwtgated database", from, NULL);
        goto out;
    }
    if ((size_t)schema > sqlite_migration_count()) {
        say(why, why_len, "%s has a newer schema than this jwtgated", from, NULL);
        goto out;
    }
    if (sqlite3_open_v2(db_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        say(why, why_len, "cannot open %s: %s", db_path, sqlite3_errmsg(dst));
        goto out;
    }
    sqlite3_busy_timeout(dst, 5000);
    /* Through the live database's own connection and journal: its pages
     * are all replaced, and its write-ahead log with them. */
    int rc = copy_db(dst, src);
    if (rc == SQLITE_OK)
        rc = sqlite3_wal_checkpoint_v2(dst, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK) {
        err = map_rc(dst, rc);
        say(why, why_len, "restoring into %s failed: %s", db_path, sqlite3_errstr(rc));
        goto out;
    }
    err = ST_OK;
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    return err;
}

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .health = sq_health,
    .probe = sq_probe,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .insert = sq_insert,
    .update = sq_update,
    .remove = sq_remove,
    .list = sq_list,
    .each = sq_each,
    .audit_append = sq_audit_append,
    .audit_query = sq_audit_query,
    .purge_expired = sq_purge_expired,
    .query = sq_query,
    .bump_version = sq_bump_version,
    .get_version = sq_get_version,
    .get_identity = sq_get_identity,
    .log_change = sq_log_change,
    .changes_since = sq_changes_since,
    .prune_changes = sq_prune_changes,
    .wait_change = sq_wait_change,
};
