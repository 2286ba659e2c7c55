/* change.c — transactions with their audit records, then view and snapshot. */
#include "server/core/change.h"

#include <string.h>

#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/snapshot/snapshot.h"

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

static int rebuild_locked(jgd *d)
{
    if (!d->publish)
        return 0; /* an offline command: the next "serve" publishes */
    struct view *v = NULL;
    if (view_build(d, &v) != 0) {
        atomic_store(&d->snapshot_ok, 0);
        log_msg(L_ERR, "view: rebuilding the view failed; keeping the previous one");
        return -1;
    }
    int rc = snapshot_write(d, v);
    atomic_store(&d->snapshot_ok, rc == 0);
    view_install(d, v);
    return rc;
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
    if (err != ST_OK) {
        change_abort(c);
        return err;
    }
    err = store_commit(c->tx);
    c->tx = NULL;
    if (err == ST_OK)
        rebuild_locked(c->d);
    pthread_mutex_unlock(&c->d->write_mu);
    return err;
}

void change_abort(change *c)
{
    if (c->tx != NULL) {
        store_rollback(c->tx);
        c->tx = NULL;
        pthread_mutex_unlock(&c->d->write_mu);
    }
}

int snapshot_retry(jgd *d)
{
    pthread_mutex_lock(&d->write_mu);
    struct view *v = view_acquire(d);
    int rc = v != NULL ? snapshot_write(d, v) : -1;
    view_release(v);
    if (rc == 0) {
        atomic_store(&d->snapshot_ok, 1);
        log_msg(L_INFO, "snapshot: written again; the gateways can catch up");
    }
    pthread_mutex_unlock(&d->write_mu);
    return rc;
}

int refresh_view(jgd *d)
{
    pthread_mutex_lock(&d->write_mu);
    int rc = rebuild_locked(d);
    pthread_mutex_unlock(&d->write_mu);
    return rc;
}
