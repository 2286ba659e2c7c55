/*
 * change.h — every change to the service's state goes through here:
 *
 *   change c;
 *   change_begin(d, actor, &c);           takes the writer lock, opens a write transaction
 *   st_insert(c.tx, ...); change_audit(&c, "api.create", tenant, id, NULL, row);
 *   change_commit(&c);                    bumps the version, commits (durable),
 *                                         rebuilds the view, writes the snapshot
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
} change;

store_err change_begin(jgd *d, const char *actor, change *c);
/* Record one audit entry; secrets ("hash", "private_jwe") are left out of
 * before/after. */
store_err change_audit(change *c, const char *action, const char *tenant_id, const char *target,
                       const json_t *before, const json_t *after);
/* Commit; ST_OK once the change is durable (even if writing the snapshot
 * then failed, which is logged and reported by /readyz). */
store_err change_commit(change *c);
void change_abort(change *c);

/* Rebuild the view and write the snapshot from the store's current state
 * (startup, and changes made by another process). Takes the writer lock. */
int refresh_view(jgd *d);
/* Write the current view's snapshot again after a failed write (called
 * every second until it succeeds). Takes the writer lock. 0, -1 or -2. */
int snapshot_retry(jgd *d);

#endif
