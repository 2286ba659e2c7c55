/*
 * change.h — every change to the service's state goes through here:
 *
 *   change c;
 *   change_begin(d, actor, &c);           takes the writer lock, opens a write transaction
 *   st_insert(c.tx, ...); change_audit(&c, "api.create", tenant, id, NULL, row);
 *   change_commit(&c);                    bumps the version, commits (durable),
 *                                         updates the view, kicks the publisher
 *
 * change_commit() refuses a change that recorded no audit entry, so a change
 * without its audit record cannot be committed.
 */
#ifndef JGD_CHANGE_H
#define JGD_CHANGE_H

#include "server/core/daemon.h"

typedef struct change {
    jgd *d;
    store_tx *tx;
    const char *actor;
    int audited;
    int64_t now;
    store_journal journal; /* what the change wrote: the view applies it */
} change;

store_err change_begin(jgd *d, const char *actor, change *c);
/* Record one audit entry; secrets ("hash", "private_jwe") are left out of
 * before/after. */
store_err change_audit(change *c, const char *action, const char *tenant_id, const char *target,
                       const json_t *before, const json_t *after);
/* Commit; ST_OK once the change is durable. The view is derived from the
 * current one and what the change wrote (view.h), before the commit and
 * inside its transaction; installed once durable. The snapshot is written after,
 * by the publisher (snapshot/publisher.h); a failed write is logged, retried
 * and reported by /readyz. */
store_err change_commit(change *c);
void change_abort(change *c);

/* Rebuild the view from the store's current state and kick the publisher
 * (start-up, and changes made by another process). Takes the writer lock.
 * 0 or -1 (logged). */
int refresh_view(jgd *d);
/* The same, only if the store is ahead of the view once the writer lock is
 * held (another process wrote: a node on the same PostgreSQL database, an
 * offline command): applied from the change log when it holds every change
 * since the view, else read whole. 0 or -1. */
int refresh_view_if_stale(jgd *d);
/* Change log entries kept (maintenance prunes older ones): a process
 * further behind reads the whole store. */
#define CHANGE_LOG_KEEP 10000
/* Drop revocations past their exp from the view (after the store purged
 * them); the same version, so nothing is published for it alone. 0 or -1. */
int expire_revocations(jgd *d, int64_t now);

#endif
