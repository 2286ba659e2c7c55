/* change.c — transactions with their audit records, then the view; the publisher writes the
 * snapshot. */
#include "server/core/change.h"

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

void change_only_revokes(change *c, const char *jti, int64_t exp)
{
    c->revokes_jti = jti;
    c->revokes_exp = exp;
}

/* The view after the change `c` (NULL: reread everything) committed as
 * `version`: derived when only a revocation happened since the current
 * view, else built from the store. */
static view *next_view(jgd *d, const change *c, int64_t version)
{
    view *v = NULL;
    if (c != NULL && c->revokes_jti != NULL) {
        view *cur = view_acquire(d);
        if (cur != NULL && cur->version == version - 1 &&
            view_derive_revoked(cur, c->revokes_jti, c->revokes_exp, version, &v) == 0)
            atomic_fetch_add_explicit(&d->m.views_derived, 1, memory_order_relaxed);
        view_release(cur);
        if (v != NULL)
            return v;
    }
    if (view_build(d, &v) != 0)
        return NULL;
    atomic_fetch_add_explicit(&d->m.views_built, 1, memory_order_relaxed);
    return v;
}

static int rebuild_locked(jgd *d, const change *c, int64_t version)
{
    if (!d->publish)
        return 0; /* an offline command: the next "serve" publishes */
    view *v = next_view(d, c, version);
    if (v == NULL) {
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
    if (err != ST_OK) {
        change_abort(c);
        return err;
    }
    err = store_commit(c->tx);
    c->tx = NULL;
    if (err == ST_OK)
        rebuild_locked(c->d, c, version);
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

int refresh_view(jgd *d)
{
    pthread_mutex_lock(&d->write_mu);
    int rc = rebuild_locked(d, NULL, 0);
    pthread_mutex_unlock(&d->write_mu);
    return rc;
}
