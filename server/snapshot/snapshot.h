/*
 * snapshot.h — the data-plane snapshot (format: docs/snapshot.md).
 *
 * Written after every committed change, atomically: a temporary file in the
 * same directory (mode 0600), fsync, rename over the old one, fsync of the
 * directory. A reader sees the old or the new document, never a mix.
 */
#ifndef JGD_SNAPSHOT_H
#define JGD_SNAPSHOT_H

#include "server/core/daemon.h"

struct view;

#define SNAPSHOT_FORMAT_VERSION 1

/* Write the snapshot of view `v` to d->cfg.snapshot_path. 0 or -1 (logged). */
int snapshot_write(jgd *d, const struct view *v);

#endif
