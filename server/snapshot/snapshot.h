/*
 * snapshot.h — the data-plane snapshot (format: docs/snapshot.md).
 *
 * Written by the publisher (publisher.h) after committed changes, atomically: a temporary file in
 * the same directory (mode 0600), fsync, rename over the old one, fsync of the directory. A reader
 * sees the old or the new document, never a mix.
 *
 * Never backwards: a view older than d->published_version is not written
 * (-2, logged, d->snapshot_older set), so neither a second writer nor a
 * database restored by hand can take gateways back in time; `jwtgated
 * restore` moves the version past the published one instead.
 */
#ifndef JGD_SNAPSHOT_H
#define JGD_SNAPSHOT_H

#include "server/core/daemon.h"

struct view;

#define SNAPSHOT_FORMAT_VERSION 1 /* of the JSON form */

/* --snapshot-format: the compiled file (format 2, the default) or the JSON
 * document (format 1, for gateways that predate format 2). */
typedef enum snapshot_format { SNAPSHOT_COMPILED = 0, SNAPSHOT_JSON } snapshot_format;

/* Write the snapshot of view `v` to d->cfg.snapshot_path. 0, -1 (I/O,
 * logged) or -2 (older than the published one). */
int snapshot_write(jgd *d, const struct view *v);

/* The "version" of the snapshot file at `path` (compiled or JSON); 0 when
 * there is none, -1 when it cannot be read as a snapshot. */
long long snapshot_file_version(const char *path);

#endif
