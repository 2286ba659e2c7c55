/*
 * instance.h — one jwtgated per database and per snapshot.
 *
 * Two servers on one SQLite data directory corrupt each other's work: the
 * second rewrites the snapshot's issuer with its own default, and two
 * writers can move the published snapshot backwards. So `serve` (and the
 * offline commands that replace state: `init`, `restore`) hold an exclusive
 * flock(2) on "<db>.lock" and on "<snapshot>.lock" for the life of the
 * process; a second one refuses to start and names the holder's pid. The
 * kernel drops the lock when the process dies, however it dies, so there is
 * no stale lock to clean up. (flock is per host: on a shared network
 * filesystem it may not hold across hosts, which the several-node design
 * does with PostgreSQL instead.)
 *
 * The lock file also records the database file's identity (device, inode)
 * while a server runs. At the next start, if the database was replaced by
 * another file while a write-ahead log ("-wal") of the old one is still
 * beside it, SQLite would replay that log onto the new file: the start is
 * refused with an explanation instead (use `jwtgated restore`).
 */
#ifndef JGD_INSTANCE_H
#define JGD_INSTANCE_H

#include <stddef.h>

typedef struct instance_lock {
    int db_fd, snap_fd;
} instance_lock;

/* Take both locks (only the snapshot's when `db_path` is NULL: a
 * PostgreSQL database, which several nodes share). 0, or -1 with a
 * sentence in `why` (another process holds one: its pid is named). */
int instance_lock_take(instance_lock *l, const char *db_path, const char *snapshot_path, char *why,
                       size_t why_len);
/* Refuse (-1, `why`) when `db_path` is not the file a previous server
 * recorded while a write-ahead log from that server is still beside it. */
int instance_check_wal(const instance_lock *l, const char *db_path, char *why, size_t why_len);
/* Record this process and the database file's identity (after opening;
 * `db_path` NULL: no file). */
void instance_lock_record(instance_lock *l, const char *db_path);
void instance_lock_release(instance_lock *l);

#endif
