/* instance.c — the per-database and per-snapshot process lock (see instance.h). */
#include "server/core/instance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Lock file contents: "pid <pid> dev <dev> ino <ino>\n" (dev/ino 0 when unknown). */
typedef struct lock_info {
    long pid;
    unsigned long long dev, ino;
} lock_info;

/* The number after `name` in `buf`, or 0. */
static unsigned long long field(const char *buf, const char *name)
{
    const char *p = strstr(buf, name);
    if (p == NULL)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(p + strlen(name), &end, 10);
    return errno == 0 && end != p + strlen(name) ? v : 0;
}

static int read_info(int fd, lock_info *info)
{
    char buf[128];
    memset(info, 0, sizeof *info);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    info->pid = (long)field(buf, "pid ");
    info->dev = field(buf, " dev ");
    info->ino = field(buf, " ino ");
    return info->pid > 0 ? 0 : -1;
}

static int take_one(const char *path, const char *what, int *out, char *why, size_t why_len)
{
    size_t n = strlen(path) + 6;
    char *lock_path = malloc(n);
    if (lock_path == NULL)
        return -1;
    snprintf(lock_path, n, "%s.lock", path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, why_len, "cannot open %s: %s", lock_path, strerror(errno));
        free(lock_path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        lock_info info;
        int known = errno == EWOULDBLOCK && read_info(fd, &info) == 0 && info.pid > 0;
        if (known)
            snprintf(why, why_len,
                     "another jwtgated (pid %ld) is using the %s %s; refusing to start a second"
                     " one on it",
                     info.pid, what, path);
        else
            snprintf(why, why_len, "another jwtgated is using the %s %s (%s is locked)", what, path,
                     lock_path);
        close(fd);
        free(lock_path);
        return -1;
    }
    free(lock_path);
    *out = fd;
    return 0;
}

int instance_lock_take(instance_lock *l, const char *db_path, const char *snapshot_path, char *why,
                       size_t why_len)
{
    l->db_fd = l->snap_fd = -1;
    if (db_path != NULL && take_one(db_path, "database", &l->db_fd, why, why_len) != 0)
        return -1;
    if (take_one(snapshot_path, "snapshot", &l->snap_fd, why, why_len) != 0) {
        instance_lock_release(l);
        return -1;
    }
    return 0;
}

int instance_check_wal(const instance_lock *l, const char *db_path, char *why, size_t why_len)
{
    lock_info info;
    if (l->db_fd < 0 || read_info(l->db_fd, &info) != 0 || info.ino == 0)
        return 0; /* no earlier server recorded anything */
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    struct stat db, w;
    if (stat(wal, &w) != 0 || w.st_size == 0)
        return 0; /* no log that could be replayed */
    if (stat(db_path, &db) != 0)
        return 0; /* a new database: SQLite ignores a log without it */
    if ((unsigned long long)db.st_dev == info.dev && (unsigned long long)db.st_ino == info.ino)
        return 0;
    snprintf(why, why_len,
             "the database was replaced by another file while the previous one's -wal is"
             " beside it (SQLite would replay it onto the new file): to restore a backup use"
             " \"jwtgated restore --from FILE\"; if this is deliberate, move %s away",
             wal);
    return -1;
}

void instance_lock_record(instance_lock *l, const char *db_path)
{
    struct stat db;
    char buf[128];
    int n;
    if (db_path != NULL && stat(db_path, &db) == 0)
        n = snprintf(buf, sizeof buf, "pid %ld dev %llu ino %llu\n", (long)getpid(),
                     (unsigned long long)db.st_dev, (unsigned long long)db.st_ino);
    else
        n = snprintf(buf, sizeof buf, "pid %ld dev 0 ino 0\n", (long)getpid());
    int fds[2] = {l->db_fd, l->snap_fd};
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        if (ftruncate(fds[i], 0) == 0 && pwrite(fds[i], buf, (size_t)n, 0) == n)
            fsync(fds[i]);
    }
}

void instance_lock_release(instance_lock *l)
{
    if (l->db_fd >= 0)
        close(l->db_fd);
    if (l->snap_fd >= 0)
        close(l->snap_fd);
    l->db_fd = l->snap_fd = -1;
}
