/*
 * publisher.h — writes the snapshot on its own thread, after changes, so that
 * no change waits for it.
 *
 * A committed change installs its view and kicks the publisher; the
 * publisher waits --publish-delay (default 100 ms) for more changes, then
 * writes the snapshot of the newest view (one write for all the changes of a
 * burst, and for all those that arrive while a write is under way). A write
 * that fails is tried again every second. Never backwards: snapshot_write()
 * refuses a view older than the published one. stop() writes what is still
 * pending before it returns, so a clean stop leaves the newest snapshot.
 */
#ifndef JGD_PUBLISHER_H
#define JGD_PUBLISHER_H

#include "server/core/daemon.h"

/* Start the thread. 0, or -1 (logged). */
int publisher_start(jgd *d);
/* A newer view is installed (or a failed write should be tried again). */
void publisher_kick(jgd *d);
/* Wait until what was kicked so far has been written (or tried): start-up,
 * so that the service announces itself with its snapshot on disk. */
void publisher_flush(jgd *d);
/* Write what is pending, then stop the thread. No-op if not started. */
void publisher_stop(jgd *d);

#endif
