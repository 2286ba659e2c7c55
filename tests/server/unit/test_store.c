/*
 * test_store.c — the SQLite backend through store.h: rows in and out,
 * unique and foreign-key constraints, transactions, the version counter,
 * the append-only audit log, expiry, migrations and refusal of a newer schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "server/store/sqlite_schema.h"
#include "server/store/store.h"

static char dbpath[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dbpath, sizeof dbpath, "/tmp/jg-store-test-%d.db", (int)getpid());
    unlink(dbpath);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[300];
    unlink(dbpath);
    snprintf(p, sizeof p, "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", dbpath);
    unlink(p);
    return 0;
}

static store *open_store(void)
{
    store *st = NULL;
    assert_int_equal(store_open(dbpath, &st), ST_OK);
    return st;
}

static void rows(void **state)
{
    (void)state;
    store *st = open_store();
    store_tx *tx = NULL;
    assert_int_equal(store_begin(st, 1, &tx), ST_OK);
    json_t *t = json_pack("{ss ss si}", "id", "ten_1", "name", "acme", "created_at", 5);
    assert_int_equal(st_insert(tx, T_TENANTS, t), ST_OK);
    assert_int_equal(st_insert(tx, T_TENANTS, t), ST_CONFLICT);
    json_t *api = json_pack("{ss ss ss ss ss ss ss s[ss] ss ss si si}", "id", "api_1", "tenant_id",
                            "ten_1", "name", "orders", "version", "v1", "base_path", "/o",
                            "upstream", "http://u", "audience", "https://a", "scopes", "r", "w",
                            "policy", "manual", "state", "draft", "created_at", 1, "updated_at", 1);
    assert_int_equal(st_insert(tx, T_APIS, api), ST_OK);
    json_t *row = NULL;
    assert_int_equal(st_get_id(tx, T_APIS, "api_1", &row), ST_OK);
    assert_true(json_equal(json_object_get(row, "scopes"), json_object_get(api, "scopes")));
    assert_true(json_is_null(json_object_get(row, "sunset")));
    json_decref(row);
    /* Same base path in another API: unique across tenants. */
    json_object_set_new(api, "id", json_string("api_2"));
    json_object_set_new(api, "audience", json_string("https://b"));
    assert_int_equal(st_insert(tx, T_APIS, api), ST_CONFLICT);
    /* Foreign key: a tenant that does not exist; a check constraint. */
    json_object_set_new(api, "base_path", json_string("/p"));
    json_object_set_new(api, "tenant_id", json_string("ten_missing"));
    assert_int_equal(st_insert(tx, T_APIS, api), ST_CONSTRAINT);
    json_object_set_new(api, "tenant_id", json_string("ten_1"));
    json_object_set_new(api, "state", json_string("launched"));
    assert_int_equal(st_insert(tx, T_APIS, api), ST_CONSTRAINT);
    /* Wrong JSON types and unknown columns are refused, not coerced. */
    json_t *bad = json_pack("{ss si si}", "id", "ten_2", "name", 7, "created_at", 1);
    assert_int_equal(st_insert(tx, T_TENANTS, bad), ST_CONSTRAINT);
    json_decref(bad);
    bad = json_pack("{ss ss si si}", "id", "ten_3", "name", "n", "created_at", 1, "x", 1);
    assert_int_equal(st_insert(tx, T_TENANTS, bad), ST_IO);
    json_decref(bad);
    /* Update, list with a filter, remove. */
    json_t *upd = json_pack("{ss si}", "state", "published", "sunset", 99);
    assert_int_equal(st_update(tx, T_APIS, "api_1", upd), ST_OK);
    assert_int_equal(st_update(tx, T_APIS, "api_missing", upd), ST_NOT_FOUND);
    json_decref(upd);
    json_t *where = json_pack("{ss}", "state", "published"), *list = NULL;
    assert_int_equal(st_list(tx, T_APIS, where, 0, &list), ST_OK);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "sunset")), 99);
    json_decref(list);
    json_decref(where);
    assert_int_equal(st_remove(tx, T_TENANTS, "ten_1"), ST_CONSTRAINT); /* still referenced */
    assert_int_equal(st_remove(tx, T_APIS, "api_1"), ST_OK);
    assert_int_equal(st_remove(tx, T_APIS, "api_1"), ST_NOT_FOUND);
    assert_int_equal(st_get_id(tx, T_APIS, "api_1", &row), ST_NOT_FOUND);
    assert_null(row);
    int64_t v0 = -1, v1 = -1;
    assert_int_equal(st_get_version(tx, &v0), ST_OK);
    assert_int_equal(st_bump_version(tx, &v1), ST_OK);
    assert_int_equal(v1, v0 + 1);
    assert_int_equal(store_commit(tx), ST_OK);
    /* A rolled-back transaction leaves nothing. */
    assert_int_equal(store_begin(st, 1, &tx), ST_OK);
    json_t *t2 = json_pack("{ss ss si}", "id", "ten_9", "name", "gone", "created_at", 5);
    assert_int_equal(st_insert(tx, T_TENANTS, t2), ST_OK);
    store_rollback(tx);
    assert_int_equal(store_begin(st, 0, &tx), ST_OK);
    assert_int_equal(st_get_id(tx, T_TENANTS, "ten_9", &row), ST_NOT_FOUND);
    assert_int_equal(st_get_version(tx, &v0), ST_OK);
    assert_int_equal(v0, v1);
    store_rollback(tx);
    json_decref(t2);
    json_decref(t);
    json_decref(api);
    store_close(st);
}

static void audit_and_expiry(void **state)
{
    (void)state;
    store *st = open_store();
    store_tx *tx = NULL;
    assert_int_equal(store_begin(st, 1, &tx), ST_OK);
    json_t *after = json_pack("{ss}", "name", "x");
    for (int i = 0; i < 5; i++) {
        store_audit rec = {.at = 100 + i,
                           .actor = "user:u",
                           .action = "thing.create",
                           .tenant_id = i % 2 ? "ten_a" : NULL,
                           .target = "t",
                           .after = after};
        assert_int_equal(st_audit_append(tx, &rec), ST_OK);
    }
    json_t *rows = NULL;
    assert_int_equal(st_audit_query(tx, "ten_a", 0, INT64_MAX, 0, 100, &rows), ST_OK);
    assert_int_equal(json_array_size(rows), 2);
    assert_true(json_equal(json_object_get(json_array_get(rows, 0), "after"), after));
    assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "before")));
    json_decref(rows);
    assert_int_equal(st_audit_query(tx, NULL, 101, 103, 0, 100, &rows), ST_OK);
    assert_int_equal(json_array_size(rows), 2);
    json_int_t first = json_integer_value(json_object_get(json_array_get(rows, 0), "seq"));
    json_decref(rows);
    assert_int_equal(st_audit_query(tx, NULL, 0, INT64_MAX, first, 1, &rows), ST_OK);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    json_t *r1 =
        json_pack("{ss ss si si}", "jti", "j1", "client_id", "c", "exp", 50, "revoked_at", 1);
    json_t *r2 =
        json_pack("{ss ss si si}", "jti", "j2", "client_id", "c", "exp", 500, "revoked_at", 1);
    json_t *a1 = json_pack("{ss si}", "id", "c:1", "exp", 50);
    assert_int_equal(st_insert(tx, T_REVOKED, r1), ST_OK);
    assert_int_equal(st_insert(tx, T_REVOKED, r2), ST_OK);
    assert_int_equal(st_insert(tx, T_ASSERTIONS, a1), ST_OK);
    assert_int_equal(st_insert(tx, T_ASSERTIONS, a1), ST_CONFLICT); /* replay */
    assert_int_equal(st_purge_expired(tx, 100), ST_OK);
    assert_int_equal(st_list(tx, T_REVOKED, NULL, 0, &rows), ST_OK);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(st_insert(tx, T_ASSERTIONS, a1), ST_OK); /* expired ones were purged */
    assert_int_equal(store_commit(tx), ST_OK);
    json_decref(after);
    json_decref(r1);
    json_decref(r2);
    json_decref(a1);
    store_close(st);
    /* The database itself refuses to change or delete audit records. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET actor = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void read_identity(uint8_t id[16])
{
    store *st = open_store();
    store_tx *tx = NULL;
    assert_int_equal(store_begin(st, 0, &tx), ST_OK);
    assert_int_equal(st_get_identity(tx, id), ST_OK);
    store_rollback(tx);
    store_close(st);
}

/* Made once with the database, the same on every open; another database
 * (the same path, recreated) has another. */
static void identity(void **state)
{
    (void)state;
    static const uint8_t zero[16];
    uint8_t a[16], b[16], c[16];
    read_identity(a);
    read_identity(b);
    assert_memory_equal(a, b, 16);
    assert_memory_not_equal(a, zero, 16);
    teardown(NULL);
    read_identity(c);
    assert_memory_not_equal(a, c, 16);
}

/* The change log: entries in version order, pruned from below; the
 * journal's text form read back, and refused when malformed. */
static void change_log(void **state)
{
    (void)state;
    store *st = open_store();
    store_tx *tx = NULL;
    assert_int_equal(store_begin(st, 1, &tx), ST_OK);
    assert_int_equal(st_log_change(tx, 7, 100, "[[\"apis\",\"api_1\",null]]"), ST_OK);
    assert_int_equal(st_log_change(tx, 8, 101, NULL), ST_OK); /* overflowed */
    assert_int_equal(st_log_change(tx, 9, 102, "[[\"app_secrets\",\"sec_1\",\"app_1\"]]"), ST_OK);
    assert_int_equal(st_log_change(tx, 9, 102, "[]"), ST_CONFLICT); /* one per version */
    assert_int_equal(store_commit(tx), ST_OK);
    json_t *rows = NULL;
    assert_int_equal(store_begin(st, 0, &tx), ST_OK);
    assert_int_equal(st_changes_since(tx, 7, 0, &rows), ST_OK);
    assert_int_equal(json_array_size(rows), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "version")), 8);
    assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "touches")));
    const char *text = json_string_value(json_object_get(json_array_get(rows, 1), "touches"));
    store_journal j = {0};
    assert_int_equal(store_journal_add_text(&j, text), 0);
    assert_int_equal(j.n, 1);
    assert_int_equal(j.v[0].t, T_SECRETS);
    assert_string_equal(j.v[0].id, "sec_1");
    assert_string_equal(j.v[0].app_id, "app_1");
    char *again = store_journal_to_text(&j);
    assert_string_equal(again, text);
    free(again);
    store_journal_free(&j);
    json_decref(rows);
    assert_int_equal(st_changes_since(tx, 0, 1, &rows), ST_OK); /* the limit */
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    store_rollback(tx);
    assert_int_equal(store_begin(st, 1, &tx), ST_OK);
    assert_int_equal(st_prune_changes(tx, 9), ST_OK);
    assert_int_equal(st_changes_since(tx, 0, 0, &rows), ST_OK);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(store_commit(tx), ST_OK);
    store_close(st);
    /* malformed text: the journal overflows, so the reader reads everything */
    static const char *const bad[] = {
        "not json", "{}", "[[\"nope\",\"x\",null]]", "[[\"apis\",7,null]]", "[[\"apis\",\"x\",1]]",
        NULL};
    for (const char *const *b = bad; *b != NULL; b++) {
        store_journal k = {0};
        assert_int_equal(store_journal_add_text(&k, *b), -1);
        assert_true(k.overflow);
        assert_null(store_journal_to_text(&k));
        store_journal_free(&k);
    }
    assert_int_equal(store_journal_add_text(&j, NULL), -1);
    store_journal_free(&j);
}

static void schema_versions(void **state)
{
    (void)state;
    store *st = open_store(); /* migrates */
    store_close(st);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), (int)sqlite_migration_count());
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    /* A database from a newer jwtgated is refused, not touched. */
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(dbpath, &st), ST_IO);
    assert_null(st);
    /* A PostgreSQL that does not answer is refused at open (port 1: nothing listens). */
    assert_int_equal(store_open("postgresql://127.0.0.1:1/jwtgated?connect_timeout=2", &st), ST_IO);
    assert_null(st);
    assert_int_equal(store_open("/nonexistent-dir/x.db", &st), ST_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rows, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(identity, setup, teardown),
        cmocka_unit_test_setup_teardown(change_log, setup, teardown),
        cmocka_unit_test_setup_teardown(schema_versions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
