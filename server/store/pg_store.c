/*
 * pg_store.c — the PostgreSQL backend of store.h (location: any libpq
 * connection URI, postgresql://USER:PASSWORD@HOST:PORT/DB?...).
 *
 * A pool of connections, opened on demand up to store_set_pool_size() (the
 * server's threads): a transaction takes one for its life and gives it back,
 * so read transactions run side by side. A connection that failed (the
 * server restarted, the network dropped) is closed when it is given back;
 * the next transaction opens a new one, and a BEGIN that finds its idle
 * connection dead retries on a fresh one, so jwtgated recovers from a
 * PostgreSQL restart by itself.
 *
 * Reads: REPEATABLE READ, READ ONLY: one consistent snapshot of every table
 * and of the change counter (the view is built from one). Writes: READ
 * COMMITTED, serialised across every process on the database by a row lock
 * on the change counter taken first (see pg_begin).
 *
 * A failed statement aborts a PostgreSQL transaction, while callers of
 * store.h may go on after a conflict (as on SQLite): every write runs inside
 * a savepoint, rolled back alone when the statement fails.
 *
 * Health: a write that fails for want of space (53100) or for a lost
 * connection marks the store unhealthy until a write succeeds again (probe).
 * ST_GONE is SQLite's (a removed file); it never happens here.
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "server/core/log.h"
#include "server/store/pg_schema.h"
#include "server/store/store_backend.h"

#define POOL_DEFAULT 8
#define POOL_MAX     256
/* pg_advisory_xact_lock key of migrations: "jwtgated" in ASCII. */
#define MIGRATION_LOCK "6948843087870256228"

static atomic_uint pool_size = POOL_DEFAULT;

void store_set_pool_size(unsigned n)
{
    atomic_store(&pool_size, n == 0 ? POOL_DEFAULT : n > POOL_MAX ? POOL_MAX : n);
}

typedef struct pg_store {
    struct store base;
    char *uri;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    PGconn **idle;
    size_t nidle;
    size_t open; /* connections in use or idle */
    size_t max;
    atomic_int write_fail; /* store_err of the last failed write, ST_OK after a success */
    PGconn *listener;      /* LISTEN jwtgated_changes (wait_change's, one caller) */
    double listen_retry;   /* CLOCK_MONOTONIC seconds: when to connect it again */
} pg_store;

typedef struct pg_tx {
    struct store_tx base;
    PGconn *c;
    int write;
} pg_tx;

static pg_store *PGS(store_tx *tx)
{
    return (pg_store *)tx->st;
}

static PGconn *CONN(store_tx *tx)
{
    return ((pg_tx *)tx)->c;
}

/* ---- Errors -------------------------------------------------------------------- */

/* A result's store_err (the result is not freed). Messages of failures are
 * logged, never their DETAIL (it can hold a row's values). */
static store_err map_res(PGconn *c, const PGresult *r)
{
    ExecStatusType s = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_SINGLE_TUPLE)
        return ST_OK;
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg == NULL)
        msg = PQerrorMessage(c);
    store_err err = ST_IO;
    if (state != NULL) {
        if (strcmp(state, "23505") == 0)
            return ST_CONFLICT;
        if (strncmp(state, "23", 2) == 0)
            return ST_CONSTRAINT; /* foreign key, check, not null, the audit rule */
        if (strcmp(state, "53100") == 0)
            err = ST_FULL;
        else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                 strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
            err = ST_BUSY; /* serialization, deadlock, lock or statement timeout */
    }
    log_msg(L_ERR, "postgresql: %s%s%s%s", msg != NULL ? msg : "?", state != NULL ? " (" : "",
            state != NULL ? state : "", state != NULL ? ")" : "");
    return err;
}

/* Remember how a write ended: failures that mean "cannot write now". */
static store_err noted(pg_store *s, store_err err)
{
    if (err == ST_FULL || err == ST_IO)
        atomic_store(&s->write_fail, (int)err);
    return err;
}

static store_err exec_sql(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    store_err err = map_res(c, r);
    PQclear(r);
    return err;
}

/* ---- Connections ----------------------------------------------------------------- */

static PGconn *connect_db(const pg_store *s)
{
    /* Defaults first: what the URI says overrides them (expand_dbname). */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "jwtgated", s->uri, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL)
        return NULL;
    if (PQstatus(c) != CONNECTION_OK) {
        /* libpq's message names the host and the reason, not the password. */
        const char *m = PQerrorMessage(c);
        size_t n = strlen(m);
        while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
            n--;
        log_msg(L_ERR, "postgresql: cannot connect: %.*s", (int)n, m);
        PQfinish(c);
        return NULL;
    }
    /* A writer stuck behind another's lock is ST_BUSY after 5 s, as on
     * SQLite (busy_timeout); rows come back in UTF-8. */
    if (exec_sql(c, "SET lock_timeout = '5s'; SET client_encoding = 'UTF8';"
                    " SET standard_conforming_strings = on") != ST_OK) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* A connection for one transaction: an idle one, a new one while the pool
 * has room, else wait for one to come back. `fresh`: never an idle one. */
static PGconn *conn_take(pg_store *s, int fresh)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->nidle > 0 && !fresh) {
            PGconn *c = s->idle[--s->nidle];
            pthread_mutex_unlock(&s->mu);
            return c;
        }
        if (fresh && s->nidle > 0) {
            /* Idle ones are likely as dead as the one that failed. */
            PGconn *c = s->idle[--s->nidle];
            s->open--;
            pthread_mutex_unlock(&s->mu);
            PQfinish(c);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (s->open < s->max)
            break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    s->open++;
    pthread_mutex_unlock(&s->mu);
    PGconn *c = connect_db(s);
    if (c == NULL) {
        pthread_mutex_lock(&s->mu);
        s->open--;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    return c;
}

/* Give a connection back: kept if it is healthy and idle, else closed. */
static void conn_give(pg_store *s, PGconn *c)
{
    int keep = PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
    if (!keep)
        PQfinish(c);
    pthread_mutex_lock(&s->mu);
    if (keep)
        s->idle[s->nidle++] = c;
    else
        s->open--;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- Schema -------------------------------------------------------------------- */

/* One integer from a query, or -1. */
static long long query_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (map_res(c, r) == ST_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* Each pending migration in its own transaction, under an advisory lock:
 * nodes starting together on one database wait for each other. */
static store_err migrate(PGconn *c)
{
    size_t want = pg_migration_count();
    for (;;) {
        store_err err = exec_sql(c, "BEGIN");
        if (err == ST_OK)
            err = exec_sql(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
                              "CREATE TABLE IF NOT EXISTS jwtgated_schema ("
                              " one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),"
                              " version INTEGER NOT NULL);"
                              "INSERT INTO jwtgated_schema (version) VALUES (0)"
                              " ON CONFLICT (one) DO NOTHING");
        long long have = err == ST_OK ? query_int(c, "SELECT version FROM jwtgated_schema") : -1;
        if (err != ST_OK || have < 0) {
            exec_sql(c, "ROLLBACK");
            return err != ST_OK ? err : ST_IO;
        }
        if ((size_t)have > want) {
            exec_sql(c, "ROLLBACK");
            log_msg(L_ERR, "store: database schema %lld is newer than this jwtgated (%zu)", have,
                    want);
            return ST_IO;
        }
        if ((size_t)have == want)
            return exec_sql(c, "COMMIT");
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE jwtgated_schema SET version = %lld", have + 1);
        err = exec_sql(c, pg_migration((size_t)have));
        if (err == ST_OK)
            err = exec_sql(c, sql);
        if (err == ST_OK)
            err = exec_sql(c, "COMMIT");
        if (err != ST_OK) {
            exec_sql(c, "ROLLBACK");
            log_msg(L_ERR, "store: migration %lld failed", have + 1);
            return err;
        }
        log_msg(L_INFO, "store: schema migrated to version %lld", have + 1);
    }
}

/* ---- Open, close, health --------------------------------------------------------- */

static void pg_close(store *st)
{
    pg_store *s = (pg_store *)st;
    if (s->listener != NULL)
        PQfinish(s->listener);
    for (size_t i = 0; s->idle != NULL && i < s->nidle; i++)
        PQfinish(s->idle[i]);
    free(s->idle);
    free(s->uri);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static store_err pg_open(const char *uri, store **out)
{
    /* A malformed URI is refused before anything is allocated. */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (opts == NULL) {
        log_msg(L_ERR, "postgresql: %s", perr != NULL ? perr : "out of memory");
        PQfreemem(perr);
        return perr != NULL ? ST_IO : ST_NOMEM;
    }
    PQconninfoFree(opts);
    pg_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ST_NOMEM;
    s->base.ops = &store_pg_ops;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->write_fail, ST_OK);
    s->max = atomic_load(&pool_size);
    s->uri = strdup(uri);
    s->idle = calloc(s->max, sizeof(PGconn *));
    if (s->uri == NULL || s->idle == NULL) {
        pg_close(&s->base);
        return ST_NOMEM;
    }
    PGconn *c = conn_take(s, 0);
    store_err err = c != NULL ? migrate(c) : ST_IO;
    if (c != NULL)
        conn_give(s, c);
    if (err != ST_OK) {
        pg_close(&s->base);
        return err;
    }
    *out = &s->base;
    return ST_OK;
}

static store_err pg_health(store *st)
{
    return (store_err)atomic_load(&((pg_store *)st)->write_fail);
}

static store_err pg_ping(store *st)
{
    pg_store *s = (pg_store *)st;
    PGconn *c = conn_take(s, 0);
    if (c == NULL)
        return ST_IO;
    store_err err = exec_sql(c, "SELECT 1 FROM meta LIMIT 1");
    if (err != ST_OK && PQstatus(c) != CONNECTION_OK) {
        /* Maybe a connection from before a restart: one more try on a new one. */
        conn_give(s, c);
        if ((c = conn_take(s, 1)) == NULL)
            return ST_IO;
        err = exec_sql(c, "SELECT 1 FROM meta LIMIT 1");
    }
    conn_give(s, c);
    return err;
}

/* ---- Transactions ---------------------------------------------------------------- */

/*
 * Write transactions start by locking the change counter's row (FOR
 * UPDATE), which every write transaction updates anyway: writers are
 * serialised across every jwtgated on the database, each sees all that the
 * previous one committed (READ COMMITTED, after the lock), and the counter
 * can neither go backwards nor repeat. A row lock rather than an advisory
 * lock: it is the very row bump_version writes, it ends with the
 * transaction however that ends (commit, rollback, a dropped connection),
 * and lock_timeout turns a long wait into ST_BUSY.
 */
static store_err pg_begin(store *st, int write, store_tx **out)
{
    pg_store *s = (pg_store *)st;
    *out = NULL;
    pg_tx *tx = calloc(1, sizeof *tx);
    if (tx == NULL)
        return ST_NOMEM;
    const char *sql = write ? "BEGIN ISOLATION LEVEL READ COMMITTED;"
                              " SELECT v FROM meta WHERE k = 'version' FOR UPDATE"
                            : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    store_err err = ST_IO;
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *c = conn_take(s, attempt > 0);
        if (c == NULL) {
            err = ST_IO;
            break;
        }
        err = exec_sql(c, sql);
        if (err == ST_OK) {
            tx->c = c;
            break;
        }
        if (PQstatus(c) == CONNECTION_OK)
            exec_sql(c, "ROLLBACK");
        int dead = PQstatus(c) != CONNECTION_OK;
        conn_give(s, c);
        if (!dead)
            break; /* a real failure (busy, ...), not a stale connection */
    }
    if (write)
        noted(s, err);
    if (err != ST_OK) {
        free(tx);
        return err;
    }
    tx->base.st = st;
    tx->write = write;
    *out = &tx->base;
    return ST_OK;
}

static store_err pg_commit(store_tx *t)
{
    pg_tx *tx = (pg_tx *)t;
    pg_store *s = PGS(t);
    PGresult *r = PQexec(tx->c, "COMMIT");
    store_err err = map_res(tx->c, r);
    /* COMMIT of a transaction that failed is a ROLLBACK, reported as a success. */
    if (err == ST_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        log_msg(L_ERR, "postgresql: the transaction had failed and was rolled back");
        err = ST_IO;
    }
    PQclear(r);
    if (PQtransactionStatus(tx->c) != PQTRANS_IDLE && PQstatus(tx->c) == CONNECTION_OK)
        exec_sql(tx->c, "ROLLBACK");
    if (tx->write && err == ST_OK)
        atomic_store(&s->write_fail, ST_OK);
    else if (tx->write)
        noted(s, err);
    conn_give(s, tx->c);
    free(tx);
    return err;
}

static void pg_rollback(store_tx *t)
{
    pg_tx *tx = (pg_tx *)t;
    if (PQstatus(tx->c) == CONNECTION_OK)
        exec_sql(tx->c, "ROLLBACK");
    conn_give(PGS(t), tx->c);
    free(tx);
}

/* ---- Statements ------------------------------------------------------------------ */

#define MAX_PARAMS 32

/* Parameters of one statement, as text (NULL: SQL NULL). */
typedef struct params {
    int n;
    const char *v[MAX_PARAMS];
    char *owned[MAX_PARAMS];
    char num[MAX_PARAMS][24];
} params;

static void params_free(params *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->owned[i]);
    p->n = 0;
}

static void add_text(params *p, const char *v)
{
    p->owned[p->n] = NULL;
    p->v[p->n++] = v;
}

static void add_int(params *p, long long v)
{
    snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", v);
    p->owned[p->n] = NULL;
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* A column's value as a parameter: ST_OK, ST_CONSTRAINT for a value of the
 * wrong JSON type (refused, not coerced: as on SQLite), ST_NOMEM. */
static store_err add_value(params *p, const store_column *c, const json_t *v)
{
    if (p->n >= MAX_PARAMS)
        return ST_IO;
    if (v == NULL || json_is_null(v)) {
        add_text(p, NULL);
        return ST_OK;
    }
    switch (c->type) {
    case COL_TEXT:
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return ST_CONSTRAINT; /* PostgreSQL text holds no NUL */
        add_text(p, json_string_value(v));
        return ST_OK;
    case COL_INT:
        if (!json_is_integer(v))
            return ST_CONSTRAINT;
        add_int(p, (long long)json_integer_value(v));
        return ST_OK;
    case COL_BOOL:
        if (!json_is_boolean(v))
            return ST_CONSTRAINT;
        add_text(p, json_is_true(v) ? "t" : "f");
        return ST_OK;
    case COL_JSON: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (text == NULL)
            return ST_NOMEM;
        p->owned[p->n] = text;
        p->v[p->n++] = text;
        return ST_OK;
    }
    }
    return ST_CONSTRAINT;
}

static PGresult *run(PGconn *c, const char *sql, const params *p)
{
    return PQexecParams(c, sql, p != NULL ? p->n : 0, NULL, p != NULL ? p->v : NULL, NULL, NULL, 0);
}

/* A write statement inside a savepoint: when it fails, only it is undone
 * and the transaction goes on. *affected gets the rows it changed. */
static store_err run_write(store_tx *tx, const char *sql, const params *p, long long *affected)
{
    pg_store *s = PGS(tx);
    PGconn *c = CONN(tx);
    if (!((pg_tx *)tx)->write) {
        log_msg(L_ERR, "store: a write in a read transaction");
        return ST_IO;
    }
    store_err err = exec_sql(c, "SAVEPOINT w");
    if (err != ST_OK)
        return noted(s, err);
    PGresult *r = run(c, sql, p);
    err = map_res(c, r);
    if (err == ST_OK && affected != NULL)
        *affected = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (err == ST_OK)
        return noted(s, exec_sql(c, "RELEASE SAVEPOINT w"));
    if (exec_sql(c, "ROLLBACK TO SAVEPOINT w") == ST_OK)
        exec_sql(c, "RELEASE SAVEPOINT w");
    return noted(s, err);
}

static const store_column *find_col(const store_table_desc *d, const char *name)
{
    for (const store_column *c = d->columns; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* A column's text as JSON. */
static json_t *value_json(const PGresult *r, int row, int i, col_type type)
{
    if (PQgetisnull(r, row, i))
        return json_null();
    const char *v = PQgetvalue(r, row, i);
    size_t len = (size_t)PQgetlength(r, row, i);
    switch (type) {
    case COL_TEXT:
        return json_stringn(v, len);
    case COL_INT:
        return json_integer((json_int_t)strtoll(v, NULL, 10));
    case COL_BOOL:
        return json_boolean(v[0] == 't');
    case COL_JSON:
        return json_loadb(v, len, JSON_DECODE_ANY, NULL);
    }
    return NULL;
}

/* Row `row` of a result as an object; columns by `cols` (NULL: by name
 * from `d`, unknown ones left out). */
static json_t *row_json(const PGresult *r, int row, const store_table_desc *d,
                        const store_column *cols)
{
    json_t *o = json_object();
    int ncol = PQnfields(r);
    for (int i = 0; o != NULL && i < ncol; i++) {
        const store_column *c = cols != NULL ? &cols[i] : find_col(d, PQfname(r, i));
        if (c == NULL)
            continue;
        json_t *v = value_json(r, row, i, c->type);
        if (v == NULL || json_object_set_new(o, c->name, v) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* A whole result into an array. */
static store_err collect(PGconn *c, PGresult *r, const store_table_desc *d,
                         const store_column *cols, json_t **rows)
{
    store_err err = map_res(c, r);
    json_t *out = err == ST_OK ? json_array() : NULL;
    if (err == ST_OK && out == NULL)
        err = ST_NOMEM;
    for (int i = 0; err == ST_OK && i < PQntuples(r); i++) {
        json_t *row = row_json(r, i, d, cols);
        if (row == NULL || json_array_append_new(out, row) != 0)
            err = ST_NOMEM;
    }
    PQclear(r);
    if (err != ST_OK) {
        json_decref(out);
        return err;
    }
    *rows = out;
    return ST_OK;
}

/* Rows one at a time (libpq's single-row mode: no result of every row is
 * held either). A stop or a failure still reads the rest, which the
 * connection must be rid of before its next statement. */
static store_err stream(PGconn *c, const char *sql, const params *p, const store_table_desc *d,
                        int (*fn)(const json_t *row, void *ctx), void *ctx)
{
    if (!PQsendQueryParams(c, sql, p->n, NULL, p->v, NULL, NULL, 0))
        return map_res(c, NULL);
    PQsetSingleRowMode(c);
    store_err err = ST_OK;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && err == ST_OK) {
            json_t *row = row_json(r, 0, d, NULL);
            if (row == NULL)
                err = ST_NOMEM;
            else if (fn(row, ctx) != 0)
                err = ST_IO;
            json_decref(row);
        } else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && err == ST_OK) {
            err = map_res(c, r);
        }
        PQclear(r);
    }
    return err;
}

static store_err pg_insert(store_tx *tx, store_table t, const json_t *row)
{
    const store_table_desc *d = store_table_info(t);
    if (d == NULL || !json_is_object(row))
        return ST_IO;
    char sql[1024], vals[256];
    size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (", d->name), v = 0;
    params p = {0};
    const char *name;
    const json_t *value;
    store_err err = ST_OK;
    json_object_foreach ((json_t *)row, name, value) {
        const store_column *c = find_col(d, name);
        if (c == NULL) {
            log_msg(L_ERR, "store: %s has no column %s", d->name, name);
            err = ST_IO;
            break;
        }
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s", p.n ? ", " : "", name);
        v += (size_t)snprintf(vals + v, sizeof vals - v, "%s$%d", p.n ? ", " : "", p.n + 1);
        if (n >= sizeof sql || v >= sizeof vals) {
            err = ST_IO;
            break;
        }
        if ((err = add_value(&p, c, value)) != ST_OK)
            break;
    }
    if (err == ST_OK) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ") VALUES (%s)", vals);
        err = n >= sizeof sql || p.n == 0 ? ST_IO : run_write(tx, sql, &p, NULL);
    }
    params_free(&p);
    return err;
}

static store_err pg_update(store_tx *tx, store_table t, const char *id, const json_t *row)
{
    const store_table_desc *d = store_table_info(t);
    if (d == NULL || !json_is_object(row) || id == NULL)
        return ST_IO;
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql, "UPDATE %s SET ", d->name);
    params p = {0};
    const char *name;
    const json_t *value;
    store_err err = ST_OK;
    json_object_foreach ((json_t *)row, name, value) {
        const store_column *c = find_col(d, name);
        if (c == NULL || strcmp(name, d->key) == 0) {
            err = ST_IO;
            break;
        }
        n +=
            (size_t)snprintf(sql + n, sizeof sql - n, "%s%s = $%d", p.n ? ", " : "", name, p.n + 1);
        if (n >= sizeof sql || p.n + 1 >= MAX_PARAMS) {
            err = ST_IO;
            break;
        }
        if ((err = add_value(&p, c, value)) != ST_OK)
            break;
    }
    long long changed = 0;
    if (err == ST_OK) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, " WHERE %s = $%d", d->key, p.n + 1);
        add_text(&p, id);
        err = n >= sizeof sql || p.n < 2 ? ST_IO : run_write(tx, sql, &p, &changed);
    }
    params_free(&p);
    if (err == ST_OK && changed == 0)
        err = ST_NOT_FOUND;
    return err;
}

static store_err pg_remove(store_tx *tx, store_table t, const char *id)
{
    const store_table_desc *d = store_table_info(t);
    if (d == NULL || id == NULL)
        return ST_IO;
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = $1", d->name, d->key);
    params p = {0};
    add_text(&p, id);
    long long changed = 0;
    store_err err = run_write(tx, sql, &p, &changed);
    if (err == ST_OK && changed == 0)
        err = ST_NOT_FOUND;
    return err;
}

/* SELECT with `where` as equalities: into *rows in the table's order (then
 * the order of insertion, the rowid column of pg_schema.c, as on SQLite),
 * or one at a time to fn, unordered. */
static store_err select_rows(store_tx *tx, store_table t, const json_t *where, unsigned limit,
                             json_t **rows, int (*fn)(const json_t *, void *), void *ctx)
{
    const store_table_desc *d = store_table_info(t);
    if (rows != NULL)
        *rows = NULL;
    if (d == NULL || (where != NULL && !json_is_object(where)))
        return ST_IO;
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT * FROM %s", d->name);
    int conds = 0;
    params p = {0};
    const char *name;
    const json_t *value;
    store_err err = ST_OK;
    if (where != NULL) {
        json_object_foreach ((json_t *)where, name, value) {
            const store_column *c = find_col(d, name);
            if (c == NULL) {
                err = ST_IO;
                break;
            }
            if (json_is_null(value)) {
                n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s IS NULL",
                                      conds++ ? " AND " : " WHERE ", name);
            } else {
                n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s = $%d",
                                      conds++ ? " AND " : " WHERE ", name, p.n + 1);
                if ((err = add_value(&p, c, value)) != ST_OK) {
                    err = ST_IO; /* as on SQLite: a bad filter is a failure */
                    break;
                }
            }
            if (n >= sizeof sql) {
                err = ST_IO;
                break;
            }
        }
    }
    if (err == ST_OK && fn == NULL)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " ORDER BY %s, rowid", d->order);
    if (err == ST_OK && limit > 0)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " LIMIT %u", limit);
    if (err == ST_OK && n >= sizeof sql)
        err = ST_IO;
    if (err == ST_OK)
        err = fn != NULL ? stream(CONN(tx), sql, &p, d, fn, ctx)
                         : collect(CONN(tx), run(CONN(tx), sql, &p), d, NULL, rows);
    params_free(&p);
    return err;
}

static store_err pg_list(store_tx *tx, store_table t, const json_t *where, unsigned limit,
                         json_t **rows)
{
    return select_rows(tx, t, where, limit, rows, NULL, NULL);
}

static store_err pg_each(store_tx *tx, store_table t, const json_t *where,
                         int (*fn)(const json_t *row, void *ctx), void *ctx)
{
    return select_rows(tx, t, where, 0, NULL, fn, ctx);
}

static store_err pg_audit_append(store_tx *tx, const store_audit *rec)
{
    static const store_column json_col = {"x", COL_JSON};
    params p = {0};
    add_int(&p, (long long)rec->at);
    add_text(&p, rec->actor);
    add_text(&p, rec->action);
    add_text(&p, rec->tenant_id);
    add_text(&p, rec->target);
    store_err err = add_value(&p, &json_col, rec->before);
    if (err == ST_OK)
        err = add_value(&p, &json_col, rec->after);
    if (err == ST_OK)
        err = run_write(tx,
                        "INSERT INTO audit (at, actor, action, tenant_id, target, before, after)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        &p, NULL);
    params_free(&p);
    return err;
}

static store_err pg_audit_query(store_tx *tx, const char *tenant_id, int64_t since, int64_t until,
                                int64_t after_seq, unsigned limit, json_t **rows)
{
    static const store_column cols[] = {
        {"seq", COL_INT},     {"at", COL_INT},         {"actor", COL_TEXT},
        {"action", COL_TEXT}, {"tenant_id", COL_TEXT}, {"target", COL_TEXT},
        {"before", COL_JSON}, {"after", COL_JSON},     {NULL, COL_TEXT}};
    *rows = NULL;
    params p = {0};
    add_int(&p, (long long)since);
    add_int(&p, (long long)until);
    add_int(&p, (long long)after_seq);
    add_int(&p, (long long)limit);
    if (tenant_id != NULL)
        add_text(&p, tenant_id);
    PGresult *r =
        run(CONN(tx),
            tenant_id != NULL ? "SELECT seq, at, actor, action, tenant_id, target, before, after"
                                " FROM audit WHERE at >= $1 AND at < $2 AND seq > $3"
                                " AND tenant_id = $5 ORDER BY seq LIMIT $4"
                              : "SELECT seq, at, actor, action, tenant_id, target, before, after"
                                " FROM audit WHERE at >= $1 AND at < $2 AND seq > $3"
                                " ORDER BY seq LIMIT $4",
            &p);
    return collect(CONN(tx), r, NULL, cols, rows);
}

static store_err pg_purge_expired(store_tx *tx, int64_t now)
{
    params p = {0};
    add_int(&p, (long long)now);
    store_err err = run_write(tx, "DELETE FROM revoked_tokens WHERE exp < $1", &p, NULL);
    if (err == ST_OK)
        err = run_write(tx, "DELETE FROM assertion_jti WHERE exp < $1", &p, NULL);
    if (err == ST_OK)
        err = run_write(tx, "DELETE FROM sessions WHERE expires_at < $1", &p, NULL);
    return err;
}

static store_err pg_query(store_tx *tx, const char *sql, const json_t *args,
                          const store_column *cols, json_t **rows)
{
    if (json_array_size(args) > MAX_PARAMS)
        return ST_IO;
    char *text = strdup(sql);
    if (text == NULL)
        return ST_NOMEM;
    for (char *c = text; *c; c++)
        if (*c == '?')
            *c = '$'; /* ?N -> $N: the statements hold no other '?' */
    params p = {0};
    size_t i;
    json_t *v;
    store_err err = ST_OK;
    json_array_foreach ((json_t *)args, i, v) {
        if (json_is_integer(v))
            add_int(&p, (long long)json_integer_value(v));
        else if (json_is_string(v) || json_is_null(v))
            add_text(&p, json_string_value(v));
        else
            err = ST_IO;
    }
    if (err == ST_OK && cols == NULL)
        err = run_write(tx, text, &p, NULL);
    else if (err == ST_OK)
        err = collect(CONN(tx), run(CONN(tx), text, &p), NULL, cols, rows);
    params_free(&p);
    free(text);
    return err;
}

/* The one integer a query returns, or ST_IO. */
static store_err one_int(PGconn *c, PGresult *r, int64_t *out)
{
    store_err err = map_res(c, r);
    if (err == ST_OK && (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)))
        err = ST_IO;
    if (err == ST_OK)
        *out = (int64_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return err;
}

static store_err pg_get_version(store_tx *tx, int64_t *version)
{
    return one_int(CONN(tx), run(CONN(tx), "SELECT v FROM meta WHERE k = 'version'", NULL),
                   version);
}

static store_err pg_get_identity(store_tx *tx, uint8_t id[16])
{
    PGresult *r =
        run(CONN(tx), "SELECT k, v FROM meta WHERE k IN ('identity_hi', 'identity_lo')", NULL);
    store_err err = map_res(CONN(tx), r);
    if (err != ST_OK) {
        PQclear(r);
        return err;
    }
    int found = 0;
    for (int row = 0; row < PQntuples(r); row++) {
        const char *k = PQgetvalue(r, row, 0);
        /* a bigint's text: signed, as the two's complement of the bits */
        uint64_t v = (uint64_t)strtoll(PQgetvalue(r, row, 1), NULL, 10);
        int at = strcmp(k, "identity_lo") == 0 ? 8 : 0;
        for (int i = 0; i < 8; i++)
            id[at + i] = (uint8_t)(v >> (56 - 8 * i));
        found++;
    }
    PQclear(r);
    return found == 2 ? ST_OK : ST_IO;
}

/* In the write transaction, whose first statement locked this row: the
 * counter moves once per transaction, forward, and commits with it. */
static store_err pg_bump_version(store_tx *tx, int64_t floor, int64_t *version)
{
    if (!((pg_tx *)tx)->write)
        return ST_IO;
    params p = {0};
    add_int(&p, (long long)floor);
    PGresult *r = run(CONN(tx),
                      "UPDATE meta SET v = GREATEST(v, $1::bigint) + 1 WHERE k = 'version'"
                      " RETURNING v",
                      &p);
    store_err err = noted(PGS(tx), one_int(CONN(tx), r, version));
    if (err != ST_OK)
        return err;
    /* Delivered to every listener when (and only if) the transaction
     * commits: the other nodes apply the change within milliseconds. */
    params n = {0};
    add_int(&n, (long long)*version);
    return run_write(tx, "SELECT pg_notify('jwtgated_changes', $1)", &n, NULL);
}

static store_err pg_log_change(store_tx *tx, int64_t version, int64_t at, const char *touches)
{
    params p = {0};
    add_int(&p, (long long)version);
    add_int(&p, (long long)at);
    add_text(&p, touches);
    return run_write(tx, "INSERT INTO change_log (version, at, touches) VALUES ($1, $2, $3)", &p,
                     NULL);
}

static store_err pg_changes_since(store_tx *tx, int64_t after, unsigned limit, json_t **rows)
{
    params p = {0};
    add_int(&p, (long long)after);
    add_int(&p, limit > 0 ? (long long)limit : (long long)INT64_MAX);
    PGresult *r = run(CONN(tx),
                      "SELECT version, touches FROM change_log WHERE version > $1"
                      " ORDER BY version LIMIT $2",
                      &p);
    static const store_column cols[] = {{"version", COL_INT}, {"touches", COL_TEXT}};
    return collect(CONN(tx), r, NULL, cols, rows);
}

static store_err pg_prune_changes(store_tx *tx, int64_t before)
{
    params p = {0};
    add_int(&p, (long long)before);
    return run_write(tx, "DELETE FROM change_log WHERE version < $1", &p, NULL);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connection of its own that LISTENs; when it cannot be had the caller
 * sleeps (the serve loop's poll of the change counter still finds every
 * change), and it is tried again every 5 s. */
static int pg_wait_change(store *st, int timeout_ms)
{
    pg_store *s = (pg_store *)st;
    if (s->listener == NULL && mono_now() >= s->listen_retry) {
        s->listener = connect_db(s);
        if (s->listener != NULL && exec_sql(s->listener, "LISTEN jwtgated_changes") != ST_OK) {
            PQfinish(s->listener);
            s->listener = NULL;
        }
        if (s->listener == NULL)
            s->listen_retry = mono_now() + 5.0;
    }
    if (s->listener == NULL) {
        struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return 0;
    }
    struct pollfd pfd = {.fd = PQsocket(s->listener), .events = POLLIN};
    int got = 0;
    if (pfd.fd >= 0 && poll(&pfd, 1, timeout_ms) > 0) {
        if (PQconsumeInput(s->listener) == 0) {
            log_msg(L_WARN, "postgresql: the change listener's connection failed; polling");
            PQfinish(s->listener);
            s->listener = NULL;
            return 0;
        }
    }
    PGnotify *n;
    while ((n = PQnotifies(s->listener)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    if (pfd.fd < 0 || PQstatus(s->listener) != CONNECTION_OK) {
        PQfinish(s->listener);
        s->listener = NULL;
    }
    return got;
}

static store_err pg_probe(store *st)
{
    store_tx *tx = NULL;
    store_err err = pg_begin(st, 1, &tx);
    if (err != ST_OK)
        return err;
    err = run_write(tx,
                    "INSERT INTO meta (k, v) VALUES ('probe', extract(epoch from now())::bigint)"
                    " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                    NULL, NULL);
    if (err != ST_OK) {
        pg_rollback(tx);
        return err;
    }
    return pg_commit(tx);
}

const store_ops store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .ping = pg_ping,
    .health = pg_health,
    .probe = pg_probe,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .insert = pg_insert,
    .update = pg_update,
    .remove = pg_remove,
    .list = pg_list,
    .each = pg_each,
    .audit_append = pg_audit_append,
    .audit_query = pg_audit_query,
    .purge_expired = pg_purge_expired,
    .query = pg_query,
    .bump_version = pg_bump_version,
    .get_version = pg_get_version,
    .get_identity = pg_get_identity,
    .log_change = pg_log_change,
    .changes_since = pg_changes_since,
    .prune_changes = pg_prune_changes,
    .wait_change = pg_wait_change,
};
