/* change.c — transactions with their audit records, then the view; the publisher writes the
 * snapshot. */
#include "server/core/change.h"

#include <stdlib.h>
#include <string.h>

#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/snapshot/publisher.h"

store_err change_begin(jgd *d, const char *actor, change *c)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    c->actor = actor;
    c->now = sv_now();
    pthread_mutex_lock(&d->write_mu);
    store_err err = store_begin(d->st, 1, &c->tx);
    if (err != ST_OK) {
        pthread_mutex_unlock(&d->write_mu);
        c->tx = NULL;
    } else {
        store_journal_attach(c->tx, &c->journal);
    }
    return err;
}

/* A copy of a row without members that must never reach the audit log. */
static json_t *redact(const json_t *row)
{
    if (row == NULL)
        return NULL;
    json_t *copy = json_deep_copy(row);
    if (json_is_object(copy)) {
        json_object_del(copy, "hash");
        json_object_del(copy, "private_jwe");
        json_object_del(copy, "sealed");
    }
    return copy;
}

store_err change_audit(change *c, const char *action, const char *tenant_id, const char *target,
                       const json_t *before, const json_t *after)
{
    json_t *b = redact(before), *a = redact(after);
    store_audit rec = {.at = c->now,
                       .actor = c->actor,
                       .action = action,
                       .tenant_id = tenant_id,
                       .target = target,
                       .before = b,
                       .after = a};
    store_err err = st_audit_append(c->tx, &rec);
    json_decref(b);
    json_decref(a);
    if (err == ST_OK)
        c->audited = 1;
    return err;
}

/* The view after the change `c` committed as `version`, made inside its
 * transaction (which sees the change) from the current view and the
 * change's journal; NULL when that cannot be done (no current view, or one
 * not at version - 1: another process wrote; a journal that overflowed),
 * and then the commit builds the view from the store. */
static view *derived_view(jgd *d, change *c, int64_t version)
{
    view *cur = view_acquire(d), *v = NULL;
    if (cur != NULL && cur->version == version - 1 && !c->journal.overflow &&
        view_derive(cur, version, &v) == 0 && view_apply(d, v, c->tx, &c->journal) != 0) {
        log_msg(L_WARN, "view: applying the change failed; reading the whole store");
        view_release(v);
        v = NULL;
    }
    view_release(cur);
    return v;
}

static int install_next(jgd *d, view *v)
{
    double t0 = sv_mono();
    if (v != NULL) {
        atomic_fetch_add_explicit(&d->m.views_derived, 1, memory_order_relaxed);
    } else if (view_build(d, &v) == 0) {
        atomic_fetch_add_explicit(&d->m.views_built, 1, memory_order_relaxed);
        log_msg(L_INFO,
                "view: version %lld read from the store in %.0f ms: %zu APIs, %zu clients, "
                "%zu approved subscriptions, %zu revocations",
                (long long)v->version, (sv_mono() - t0) * 1000, v->apis.count, v->clients.count,
                v->nsubs, v->revoked.count);
    } else {
        atomic_store(&d->snapshot_ok, 0);
        log_msg(L_ERR, "view: rebuilding the view failed; keeping the previous one");
        return -1;
    }
    view_install(d, v);
    publisher_kick(d);
    return 0;
}

store_err change_commit(change *c)
{
    if (!c->audited) {
        log_msg(L_ERR, "change without an audit record refused");
        change_abort(c);
        return ST_IO;
    }
    int64_t version = 0;
    store_err err = st_bump_version(c->tx, &version);
    if (err == ST_OK) {
        /* For the other processes on the database (refresh_view_if_stale). */
        char *touches = store_journal_to_text(&c->journal);
        err = st_log_change(c->tx, version, c->now, touches);
        free(touches);
    }
    if (err != ST_OK) {
        change_abort(c);
        return err;
    }
    view *next = c->d->publish ? derived_view(c->d, c, version) : NULL;
    err = store_commit(c->tx);
    c->tx = NULL;
    store_journal_free(&c->journal);
    if (err == ST_OK && c->d->publish)
        install_next(c->d, next);
    else
        view_release(next);
    pthread_mutex_unlock(&c->d->write_mu);
    return err;
}

void change_abort(change *c)
{
    store_journal_free(&c->journal);
    if (c->tx != NULL) {
        store_rollback(c->tx);
        c->tx = NULL;
        pthread_mutex_unlock(&c->d->write_mu);
    }
}

/* The view at `version` from `cur` and what the change log says the
 * changes after it wrote, read in `tx` (which sees `version`): NULL when
 * the log does not hold every one of them (pruned, or a change that wrote
 * too much to be listed), and then the caller reads everything. */
static view *view_from_log(jgd *d, view *cur, store_tx *tx, int64_t version)
{
    int64_t behind = version - cur->version;
    if (behind <= 0 || behind > CHANGE_LOG_KEEP)
        return NULL;
    json_t *rows = NULL;
    if (st_changes_since(tx, cur->version, (unsigned)behind, &rows) != ST_OK)
        return NULL;
    store_journal j = {0};
    int ok = json_array_size(rows) == (size_t)behind;
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        /* one entry per version, none missing, none overflowed */
        if (!ok ||
            json_integer_value(json_object_get(row, "version")) != cur->version + 1 + (int64_t)i) {
            ok = 0;
            break;
        }
        const char *text = json_string_value(json_object_get(row, "touches"));
        if (text == NULL || store_journal_add_text(&j, text) != 0)
            ok = 0;
    }
    json_decref(rows);
    view *v = NULL;
    if (ok && (view_derive(cur, version, &v) != 0 || view_apply(d, v, tx, &j) != 0)) {
        log_msg(L_WARN, "view: applying the change log failed; reading the whole store");
        view_release(v);
        v = NULL;
    }
    store_journal_free(&j);
    return v;
}

int refresh_view_if_stale(jgd *d)
{
    if (!d->publish)
        return 0;
    pthread_mutex_lock(&d->write_mu);
    /* Under the writer lock: a change that committed since the caller looked
     * has installed its own view by now, so only another process's writes
     * make the store ahead here. Those are applied from the change log, in
     * one read transaction that sees the version and every row it names. */
    store_tx *tx = NULL;
    int64_t version = 0;
    int rc = 0;
    view *v = view_acquire(d), *next = NULL;
    int stale = 0;
    if (store_begin(d->st, 0, &tx) == ST_OK) {
        if (st_get_version(tx, &version) != ST_OK)
            version = 0;
        stale = v == NULL || v->version < version;
        if (stale && v != NULL)
            next = view_from_log(d, v, tx, version);
        store_rollback(tx);
    } else {
        stale = v == NULL;
    }
    view_release(v);
    if (stale)
        rc = install_next(d, next);
    pthread_mutex_unlock(&d->write_mu);
    return rc;
}

int refresh_view(jgd *d)
{
    if (!d->publish)
        return 0; /* an offline command: the next "serve" publishes */
    pthread_mutex_lock(&d->write_mu);
    int rc = install_next(d, NULL);
    pthread_mutex_unlock(&d->write_mu);
    return rc;
}

int expire_revocations(jgd *d, int64_t now)
{
    pthread_mutex_lock(&d->write_mu);
    view *cur = view_acquire(d), *v = NULL;
    int rc = -1;
    if (cur != NULL && view_derive(cur, cur->version, &v) == 0 && view_expire(v, now) == 0) {
        rc = 0;
        if (v->revoked.count != cur->revoked.count) {
            view_install(d, v); /* the same version: the next change publishes it */
            v = NULL;
        }
    }
    view_release(v);
    view_release(cur);
    pthread_mutex_unlock(&d->write_mu);
    return rc;
}
