/*
 * readiness.h — whether this jwtgated can do its job right now (/readyz).
 *
 * Ready means: it can issue tokens (a view with active keys), take changes
 * (the database answers, is still the file it opened, and its last write did
 * not fail), and publish them (the last snapshot was written, and not
 * refused as older than the one on disk); and the disks holding the database
 * and the snapshot have room for the next snapshot. Anything else is the
 * first reason found, as a sentence. A failure clears itself: the snapshot
 * is retried and a failed store probed every second (server/main.c).
 */
#ifndef JGD_READINESS_H
#define JGD_READINESS_H

#include <stddef.h>

#include "server/core/daemon.h"

/* NULL when ready, else why not (in `buf`, or a constant). Thread-safe. */
const char *readiness_problem(jgd *d, char *buf, size_t len);

#endif
