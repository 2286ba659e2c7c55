/*
 * store.h — the one door to jwtgated's storage.
 *
 * Everything the service keeps goes through these few operations, so a
 * second backend (PostgreSQL for several nodes) is another implementation of
 * `store_ops` and nothing above this header changes. Rows travel as jansson
 * objects whose members are the columns of a table (see store_tables.c);
 * JSON-typed columns (scope lists, key sets) are JSON values, booleans are
 * JSON booleans, absent or null members are SQL NULL.
 *
 * Transactions: every read and write happens inside one. A change and its
 * audit record are written in the same transaction (the service layer,
 * server/core/change.c, makes that impossible to forget), and a commit
 * returns only when the change is durable.
 *
 * Threads: one store may be used from many threads; a transaction belongs to
 * the thread that began it. Backends serialise writers.
 */
#ifndef JGD_STORE_H
#define JGD_STORE_H

#include <stdint.h>

#include <jansson.h>

typedef enum store_err {
    ST_OK = 0,
    ST_NOT_FOUND,  /* get: no row matched */
    ST_CONFLICT,   /* a unique constraint (name, base path, audience, jti...) */
    ST_CONSTRAINT, /* a foreign key or check constraint */
    ST_BUSY,       /* the database stayed locked */
    ST_IO,         /* any other backend failure (disk, corruption, schema) */
    ST_NOMEM,
    ST_FULL, /* the disk (or quota) holding the database is full: nothing was written */
    ST_GONE  /* the database file was removed or replaced under the running process */
} store_err;

/* Tables. Their columns are described in store_tables.c. */
typedef enum store_table {
    T_USERS = 0,
    T_TENANTS,
    T_MEMBERS,
    T_PATS,
    T_APIS,
    T_APPS,
    T_SECRETS,
    T_SUBSCRIPTIONS,
    T_KEYS,
    T_REVOKED,
    T_ASSERTIONS,
    T_GATEWAYS,       /* registered remote gateways (schema 6) */
    T_PASSWORDS,      /* console passwords, Argon2id (schema 9) */
    T_SESSIONS,       /* console sessions (schema 9) */
    T_API_DOCS,       /* an API's OpenAPI document: what it is (schema 10) */
    T_API_DOC_BODIES, /* ... and the document itself, read one at a time */
    T_LLM_PROVIDERS,  /* an llm API's providers (schema 12) */
    T_LLM_KEYS,       /* their provider key pools, sealed (schema 12) */
    T_LLM_PLANS,      /* named limit sets of subscriptions to llm APIs (schema 12) */
    T_LLM_OVER_QUOTA, /* clients over a limit of an llm API, until when (schema 13) */
    T__COUNT
} store_table;

typedef enum col_type { COL_TEXT = 0, COL_INT, COL_BOOL, COL_JSON } col_type;

typedef struct store_column {
    const char *name;
    col_type type;
} store_column;

typedef struct store_table_desc {
    const char *name;
    const char *key;   /* primary key column */
    const char *order; /* default ORDER BY column */
    const store_column *columns;
} store_table_desc;

const store_table_desc *store_table_info(store_table t);
const char *store_err_name(store_err err);

/* One audit record; before/after may be NULL (creation, deletion). */
typedef struct store_audit {
    int64_t at;
    const char *actor;     /* "user:<id>", "client:<id>", "system" */
    const char *action;    /* "api.create", "subscription.approve", ... */
    const char *tenant_id; /* NULL for system-wide changes */
    const char *target;    /* id of the changed object */
    const json_t *before;
    const json_t *after;
} store_audit;

typedef struct store store;
typedef struct store_tx store_tx;

/* A backend: every function returns a store_err. */
typedef struct store_ops {
    const char *name;
    store_err (*open)(const char *location, store **out);
    void (*close)(store *st);
    store_err (*ping)(store *st);
    /* Whether the store can still take writes: ST_OK, or the failure of
     * the last write that did not succeed since (ST_FULL, ST_IO), or
     * ST_GONE when the database is no longer the one that was opened.
     * Cheap (a stat at most); never blocks on a transaction. */
    store_err (*health)(store *st);
    /* After a write failure: try one small write; ST_OK clears health. */
    store_err (*probe)(store *st);
    store_err (*begin)(store *st, int write, store_tx **out);
    store_err (*commit)(store_tx *tx);
    void (*rollback)(store_tx *tx);
    store_err (*insert)(store_tx *tx, store_table t, const json_t *row);
    /* Update the columns present in `row` of the row whose key is `id`. */
    store_err (*update)(store_tx *tx, store_table t, const char *id, const json_t *row);
    store_err (*remove)(store_tx *tx, store_table t, const char *id);
    /* Rows whose columns equal every member of `where` (NULL: all),
     * in the table's order, at most `limit` (0: no limit). */
    store_err (*list)(store_tx *tx, store_table t, const json_t *where, unsigned limit,
                      json_t **rows);
    /* The same rows, in no particular order, one at a time: fn gets each
     * (borrowed for the call) and returns non-zero to stop (then ST_IO).
     * For whole reads: no array of every row is ever held. */
    store_err (*each)(store_tx *tx, store_table t, const json_t *where,
                      int (*fn)(const json_t *row, void *ctx), void *ctx);
    store_err (*audit_append)(store_tx *tx, const store_audit *rec);
    /* Audit records of `tenant_id` (NULL: all) with since <= at < until and
     * seq > after_seq, oldest first, at most `limit`. */
    store_err (*audit_query)(store_tx *tx, const char *tenant_id, int64_t since, int64_t until,
                             int64_t after_seq, unsigned limit, json_t **rows);
    /* Delete revocations and assertion jtis whose exp < now. */
    store_err (*purge_expired)(store_tx *tx, int64_t now);
    /* A statement the row operations cannot express (sums over ranges,
     * upserts that add; usage, server/gateway/usage.c): `sql` is the same on
     * every backend, its parameters ?1..?N (PostgreSQL gets $1..$N), values
     * from `params`, a JSON array of integers, strings and nulls (at most
     * 32). With `cols` (the result's columns, in order) its rows go to
     * *rows; without, it is a write. */
    store_err (*query)(store_tx *tx, const char *sql, const json_t *params,
                       const store_column *cols, json_t **rows);
    /* The change counter: bump (in a write transaction) and read. The
     * new value is max(current, floor) + 1: floor 0 for a change, higher to
     * move past versions published before (a restore). */
    store_err (*bump_version)(store_tx *tx, int64_t floor, int64_t *version);
    store_err (*get_version)(store_tx *tx, int64_t *version);
    /* The database's identity: 16 random bytes made once, at its creation
     * (or its upgrade to schema 4), kept by backups. */
    store_err (*get_identity)(store_tx *tx, uint8_t id[16]);
    /* The change log (schema 5): what each change wrote — its journal as
     * JSON text (store_journal_to_text), NULL when the journal overflowed —
     * so that the other processes on the database bring their views up to
     * date from it (server/core/change.c). In the change's transaction. */
    store_err (*log_change)(store_tx *tx, int64_t version, int64_t at, const char *touches);
    /* Entries with version > after, oldest first, at most `limit`: an array
     * of {"version": N, "touches": "..." or null}. */
    store_err (*changes_since)(store_tx *tx, int64_t after, unsigned limit, json_t **rows);
    /* Delete the entries with version < before (a write transaction). */
    store_err (*prune_changes)(store_tx *tx, int64_t before);
    /* Wait up to timeout_ms for a change committed by any process on the
     * database: 1 when one was signalled (PostgreSQL NOTIFY), 0 on timeout,
     * on an interruption or where there are no signals (SQLite sleeps).
     * One caller at a time (the serve loop). */
    int (*wait_change)(store *st, int timeout_ms);
} store_ops;

/* The SQLite backend (location: a file path). */
extern const store_ops store_sqlite_ops;
/* The PostgreSQL backend (location: a libpq URI, postgresql://...). */
extern const store_ops store_pg_ops;

/* Whether `location` names a PostgreSQL database (postgresql:// or
 * postgres://): no file, no instance lock, no backup/restore of ours. */
int store_is_postgresql(const char *location);
/* Connections a PostgreSQL store opens at most (the server's threads: a
 * transaction holds one), for the stores opened after the call; 0: the
 * default (8). SQLite has one connection and ignores it. */
void store_set_pool_size(unsigned n);
/* `location` as it may be logged: a URI's password (user:PASSWORD@, or a
 * password= parameter) replaced by "***". malloc'd, NULL without memory. */
char *store_location_shown(const char *location);

/*
 * Offline copies of a SQLite database, through SQLite's online backup API
 * (so a copy is consistent with its write-ahead log, and a restore replaces
 * the live database through its own connection: no stale -wal can be
 * replayed onto it later). backup: while a server runs, into `to` (written
 * to a temporary file, fsynced, renamed; a single file, mode 0600). restore:
 * `from` is checked (integrity, schema not newer than this build, a jwtgated
 * database) and copied over `db_path`; the caller must hold the instance lock
 * and then bump the version. `why` gets a sentence on failure.
 */
store_err store_sqlite_backup(const char *db_path, const char *to, char *why, size_t why_len);
store_err store_sqlite_restore(const char *db_path, const char *from, char *why, size_t why_len);

/*
 * What a transaction's writes touched, so that the view can be brought up to
 * date from that alone (server/core/view.c). Once a journal is attached,
 * st_insert/st_update/st_remove record each write that succeeded: the table,
 * the row's key and, for secrets and subscriptions, the app they belong to
 * (read before an update or removal: the row may be gone after it). Writes a
 * backend makes by itself (ON DELETE CASCADE) are not recorded; their owner
 * is (an app's secrets and subscriptions go with it). Past JOURNAL_MAX
 * entries `overflow` is set and recording stops: the caller reads everything.
 */
typedef struct store_touch {
    store_table t;
    char *id;
    char *app_id; /* T_SECRETS, T_SUBSCRIPTIONS: the owning app; else NULL */
} store_touch;
struct store_journal {
    store_touch *v;
    size_t n, cap;
    int overflow;
};
#define JOURNAL_MAX 50000
typedef struct store_journal store_journal;
/* Record tx's writes into j (owned by the caller; NULL stops recording). */
void store_journal_attach(store_tx *tx, store_journal *j);
void store_journal_free(store_journal *j);
/* The journal as the change log keeps it: [["apis","api_1",null],...] with
 * the tables' names (stable across versions of the enum); NULL when it
 * overflowed or without memory (the reader then reads everything). */
char *store_journal_to_text(const store_journal *j);
/* Append the journal of `text` (as store_journal_to_text wrote it) to j;
 * -1 if it is malformed or names an unknown table (j then overflows). */
int store_journal_add_text(store_journal *j, const char *text);

/* ---- Convenience wrappers (dispatch through the store's ops) -------------- */

store_err store_open(const char *location, store **out);
void store_close(store *st);
store_err store_ping(store *st);
store_err store_health(store *st);
store_err store_probe(store *st);
store_err store_begin(store *st, int write, store_tx **out);
store_err store_commit(store_tx *tx);
void store_rollback(store_tx *tx);
store_err st_insert(store_tx *tx, store_table t, const json_t *row);
store_err st_update(store_tx *tx, store_table t, const char *id, const json_t *row);
store_err st_remove(store_tx *tx, store_table t, const char *id);
store_err st_list(store_tx *tx, store_table t, const json_t *where, unsigned limit, json_t **rows);
store_err st_each(store_tx *tx, store_table t, const json_t *where,
                  int (*fn)(const json_t *row, void *ctx), void *ctx);
/* The single row matching `where` (ST_NOT_FOUND if none). */
store_err st_get(store_tx *tx, store_table t, const json_t *where, json_t **row);
/* The row whose key is `id`. */
store_err st_get_id(store_tx *tx, store_table t, const char *id, json_t **row);
store_err st_audit_append(store_tx *tx, const store_audit *rec);
store_err st_query(store_tx *tx, const char *sql, const json_t *params, const store_column *cols,
                   json_t **rows);
store_err st_audit_query(store_tx *tx, const char *tenant_id, int64_t since, int64_t until,
                         int64_t after_seq, unsigned limit, json_t **rows);
store_err st_purge_expired(store_tx *tx, int64_t now);
store_err st_bump_version(store_tx *tx, int64_t *version);
store_err st_bump_version_past(store_tx *tx, int64_t floor, int64_t *version);
store_err st_get_version(store_tx *tx, int64_t *version);
store_err st_get_identity(store_tx *tx, uint8_t id[16]);
store_err st_log_change(store_tx *tx, int64_t version, int64_t at, const char *touches);
store_err st_changes_since(store_tx *tx, int64_t after, unsigned limit, json_t **rows);
store_err st_prune_changes(store_tx *tx, int64_t before);
int store_wait_change(store *st, int timeout_ms);

#endif
