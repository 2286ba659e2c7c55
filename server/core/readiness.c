/* readiness.c — the checks behind /readyz, cheapest first (see readiness.h). */
#include "server/core/readiness.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "server/core/view.h"

/* Room for one more snapshot beside the current one (the atomic replace
 * writes a whole copy before the rename), plus a margin for the database. */
#define MIN_FREE_MARGIN ((unsigned long long)1 << 20)

/* Free bytes on the filesystem of `path`'s directory, or ~0 if unknown. */
static unsigned long long free_bytes(const char *path)
{
    char *copy = strdup(path);
    struct statvfs vfs;
    unsigned long long n = ~0ull;
    if (copy != NULL && statvfs(dirname(copy), &vfs) == 0)
        n = (unsigned long long)vfs.f_bavail * (unsigned long long)vfs.f_frsize;
    free(copy);
    return n;
}

const char *readiness_problem(jgd *d, char *buf, size_t len)
{
    view *v = view_acquire(d);
    int no_view = v == NULL, no_keys = v != NULL && (v->sign_key == NULL || v->enc_key == NULL);
    long long version = v != NULL ? (long long)v->version : 0;
    view_release(v);
    if (no_view)
        return "no view yet";
    if (no_keys)
        return "no active keys";
    store_err h = store_health(d->st);
    if (h != ST_OK) {
        snprintf(buf, len, "the database cannot take writes: %s", store_err_name(h));
        return buf;
    }
    if (atomic_load(&d->snapshot_older)) {
        snprintf(buf, len,
                 "the database (version %lld) is older than the published snapshot (version"
                 " %lld): not published; see \"jwtgated restore\"",
                 version, (long long)atomic_load(&d->published_version));
        return buf;
    }
    if (!atomic_load(&d->snapshot_ok))
        return "the last snapshot could not be written (retried every second)";
    if (store_ping(d->st) != ST_OK)
        return "the store does not answer";
    struct stat sb;
    unsigned long long need = MIN_FREE_MARGIN;
    if (stat(d->cfg.snapshot_path, &sb) == 0)
        need += (unsigned long long)sb.st_size;
    /* A PostgreSQL database is not a file here: its server reports a full
     * disk itself (ST_FULL above). */
    const char *paths[2] = {d->cfg.db_path, d->cfg.snapshot_path};
    for (int i = store_is_postgresql(d->cfg.db_path) ? 1 : 0; i < 2; i++) {
        unsigned long long have = free_bytes(paths[i]);
        if (have < need) {
            snprintf(buf, len,
                     "only %llu KiB free beside %s (%llu KiB needed for the next"
                     " snapshot)",
                     have >> 10, paths[i], need >> 10);
            return buf;
        }
    }
    return NULL;
}
