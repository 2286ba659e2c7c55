
/*
 * The snapshot that jwtgated writes (docs/snapshot.md): keys, APIs,
 * approved subscriptions, revoked tokens and suspended clients.
 *
 * The file is the compiled snapshot (format 2, jwtgate/snapshot.h), mapped
 * read-only and used in place: opening it is checking a header, lookups
 * are hash probes into the mapping, and the pages are the page cache's,
 * shared by every worker. A JSON snapshot (format 1, hand-written) is
 * compiled when read.
 *
 * The master process reads it while reading the configuration, so that a
 * broken file fails "nginx -t" and a reload; every worker then checks the
 * file on a timer (stat() only) and, when it changed, maps it and verifies
 * its checksum a slice (NGX_HTTP_JWTGATE_SNAPSHOT_STEP) per event-loop
 * turn, so that no turn is held for long, before swapping one pointer. A
 * request takes a reference to the snapshot it started with, so the old
 * one lives until its last request ends. A file that fails to load leaves
 * the current snapshot in place and is reported once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/mman.h>

#include "ngx_http_jwtgate_module.h"


static void ngx_http_jwtgate_source_timer(ngx_event_t *ev);
static void ngx_http_jwtgate_source_check(ngx_http_jwtgate_source_t *src);
static void ngx_http_jwtgate_source_verify(ngx_http_jwtgate_source_t *src);
static void ngx_http_jwtgate_source_install(ngx_http_jwtgate_source_t *src,
    ngx_http_jwtgate_snap_t *snap, struct stat *fi);
static ngx_uint_t ngx_http_jwtgate_snap_other_db(ngx_http_jwtgate_snap_t *a,
    ngx_http_jwtgate_snap_t *b);
static void ngx_http_jwtgate_source_failed(ngx_http_jwtgate_source_t *src,
    struct stat *fi);
static void ngx_http_jwtgate_source_cleanup(void *data);
static ngx_http_jwtgate_snap_t *ngx_http_jwtgate_snap_open(
    ngx_http_jwtgate_source_t *src, ngx_log_t *log, struct stat *fi);
static jg_err ngx_http_jwtgate_snap_compile(ngx_http_jwtgate_snap_t *snap,
    ngx_fd_t fd, struct stat *fi, ngx_str_t *path, ngx_log_t *log);
static jg_err ngx_http_jwtgate_snap_verify(ngx_http_jwtgate_snap_t *snap,
    size_t budget);
static ngx_msec_t ngx_http_jwtgate_cpu_us(struct timespec *t0,
    struct timespec *t1);
static ngx_int_t ngx_http_jwtgate_snap_finish(ngx_http_jwtgate_snap_t *snap,
    ngx_http_jwtgate_snap_t *prev, size_t budget, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_snap_prepare(ngx_http_jwtgate_snap_t *snap,
    ngx_http_jwtgate_snap_t *prev, ngx_log_t *log);
static ngx_http_jwtgate_snap_t *ngx_http_jwtgate_snap_load(
    ngx_http_jwtgate_source_t *src, ngx_log_t *log, struct stat *fi);
static void ngx_http_jwtgate_snap_pool_cleanup(void *data);
static ngx_int_t ngx_http_jwtgate_snap_keys(ngx_http_jwtgate_snap_t *snap,
    ngx_http_jwtgate_snap_t *prev, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_snap_digest(ngx_http_jwtgate_snap_t *snap);
static void ngx_http_jwtgate_snap_str(jg_snap_str *in, ngx_str_t *out);
static ngx_int_t ngx_http_jwtgate_snap_apis(ngx_http_jwtgate_snap_t *snap,
    size_t budget, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_table_init(ngx_pool_t *pool,
    ngx_http_jwtgate_table_t *t, ngx_uint_t n);
static void *ngx_http_jwtgate_table_add(ngx_http_jwtgate_table_t *t,
    ngx_str_t *key, void *value);


/* ---- string tables ------------------------------------------------------ */


static ngx_int_t
ngx_http_jwtgate_table_init(ngx_pool_t *pool, ngx_http_jwtgate_table_t *t,
    ngx_uint_t n)
{
    ngx_uint_t  size;

    /* at most half full, so that probes stay short */
    for (size = 8; size < 2 * n; size <<= 1) { /* void */ }

    /* not zeroed here: the caller zeroes the slots, a slice a turn
     * (fresh pages are faulted in as they are written: 0.8 MB of slots for
     * 10,000 APIs is most of a millisecond) */
    t->slots = ngx_palloc(pool, size * sizeof(ngx_http_jwtgate_slot_t));
    if (t->slots == NULL) {
        return NGX_ERROR;
    }

    t->mask = size - 1;

    return NGX_OK;
}


/* Adds key -> value; returns the value already stored under key, if any.
 * The key is not copied. The table never fills: it was sized for n keys. */

static void *
ngx_http_jwtgate_table_add(ngx_http_jwtgate_table_t *t, ngx_str_t *key,
    void *value)
{
    ngx_uint_t                i;
    ngx_http_jwtgate_slot_t  *s;

    i = ngx_murmur_hash2(key->data, key->len) & t->mask;

    for ( ;; ) {
        s = &t->slots[i];

        if (s->key.data == NULL) {
            s->key = *key;
            s->value = value;
            return NULL;
        }

        if (s->key.len == key->len
            && ngx_memcmp(s->key.data, key->data, key->len) == 0)
        {
            return s->value;
        }

        i = (i + 1) & t->mask;
    }
}


void *
ngx_http_jwtgate_table_find(ngx_http_jwtgate_table_t *t, u_char *key,
    size_t len)
{
    ngx_uint_t                i;
    ngx_http_jwtgate_slot_t  *s;

    if (t->slots == NULL) {
        return NULL;
    }

    i = ngx_murmur_hash2(key, len) & t->mask;

    for ( ;; ) {
        s = &t->slots[i];

        if (s->key.data == NULL) {
            return NULL;
        }

        if (s->key.len == len && ngx_memcmp(s->key.data, key, len) == 0) {
            return s->value;
        }

        i = (i + 1) & t->mask;
    }
}


/* ---- sources ------------------------------------------------------------ */


ngx_http_jwtgate_source_t *
ngx_http_jwtgate_source_add(ngx_conf_t *cf, ngx_str_t *path,
    ngx_msec_t interval)
{
    ngx_str_t                      full;
    ngx_uint_t                     i;
    ngx_pool_cleanup_t            *cln;
    ngx_http_jwtgate_source_t     *src, **srcp;
    ngx_http_jwtgate_main_conf_t  *jmcf;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgate_module);

    full = *path;
    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NULL;
    }

    srcp = jmcf->sources.elts;
    for (i = 0; i < jmcf->sources.nelts; i++) {
        if (srcp[i]->path.len == full.len
            && ngx_strncmp(srcp[i]->path.data, full.data, full.len) == 0)
        {
            if (srcp[i]->interval != interval) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "snapshot \"%V\" is already checked with "
                                   "another interval", &full);
                return NULL;
            }

            return srcp[i];
        }
    }

    src = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_source_t));
    if (src == NULL) {
        return NULL;
    }

    /* ngx_conf_full_name() NUL-terminates */
    src->path = full;
    src->interval = interval;
    /* while the configuration is read, cf->log and cycle->log are the
     * previous cycle's, which a reload frees; the workers set their own */
    src->log = &cf->cycle->new_log;

    if (ngx_array_init(&src->zones, cf->pool, 2, sizeof(ngx_shm_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    srcp = ngx_array_push(&jmcf->sources);
    if (srcp == NULL) {
        return NULL;
    }

    *srcp = src;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_jwtgate_source_cleanup;
    cln->data = src;

    return src;
}


/* Reads the snapshot while the configuration is read: an unreadable or
 * invalid snapshot is a configuration error. */

ngx_int_t
ngx_http_jwtgate_source_init(ngx_conf_t *cf, ngx_http_jwtgate_source_t *src)
{
    struct stat               fi;
    ngx_http_jwtgate_snap_t  *snap;

    if (src->snap != NULL) {
        return NGX_OK;
    }

    snap = ngx_http_jwtgate_snap_load(src, cf->log, &fi);
    if (snap == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot load the jwtgate snapshot \"%V\"",
                           &src->path);
        return NGX_ERROR;
    }

    /* the snapshot lives as long as this cycle, not as the previous
     * cycle's log it was read with (as nginx does with the cycle's pool) */
    snap->pool->log = &cf->cycle->new_log;

    src->snap = snap;
    src->dev = fi.st_dev;
    src->ino = fi.st_ino;
    src->size = fi.st_size;
    src->mtim = fi.st_mtim;
    src->ctim = fi.st_ctim;

    return NGX_OK;
}


/* In each worker: check the file on a timer. */

ngx_int_t
ngx_http_jwtgate_source_start(ngx_cycle_t *cycle,
    ngx_http_jwtgate_source_t *src)
{
    src->log = cycle->log;

    src->timer.handler = ngx_http_jwtgate_source_timer;
    src->timer.data = src;
    src->timer.log = cycle->log;
    /* the timer must not keep a worker alive during graceful shutdown */
    src->timer.cancelable = 1;

    ngx_add_timer(&src->timer, src->interval);

    return NGX_OK;
}


static void
ngx_http_jwtgate_source_timer(ngx_event_t *ev)
{
    ngx_http_jwtgate_source_t  *src = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (src->pending != NULL) {
        ngx_http_jwtgate_source_verify(src);

    } else {
        ngx_http_jwtgate_source_check(src);
    }

    /* the next slice at once (other events first), else the next check */
    ngx_add_timer(ev, src->pending != NULL ? 1 : src->interval);
}


#define ngx_http_jwtgate_ts_eq(a, b)                                          \
    ((a).tv_sec == (b).tv_sec && (a).tv_nsec == (b).tv_nsec)


static void
ngx_http_jwtgate_source_check(ngx_http_jwtgate_source_t *src)
{
    struct stat  fi;

    if (stat((char *) src->path.data, &fi) == -1) {
        if (src->failed_ino != (ino_t) -1) {
            ngx_log_error(NGX_LOG_ALERT, src->log, ngx_errno,
                          "jwtgate: stat() of snapshot \"%V\" failed, "
                          "serving from the last one read", &src->path);
            src->failed_ino = (ino_t) -1;
            ngx_http_jwtgate_metrics_snapshot(src, 0, 0);
        }

        return;
    }

    if (fi.st_ino == src->ino && fi.st_dev == src->dev
        && fi.st_size == src->size
        && ngx_http_jwtgate_ts_eq(fi.st_mtim, src->mtim)
        && ngx_http_jwtgate_ts_eq(fi.st_ctim, src->ctim))
    {
        return;
    }

    if (fi.st_ino == src->failed_ino
        && ngx_http_jwtgate_ts_eq(fi.st_mtim, src->failed_mtim))
    {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, src->log, 0,
                   "jwtgate: snapshot \"%V\" changed, reading it",
                   &src->path);

    src->pending = ngx_http_jwtgate_snap_open(src, src->log, &src->pending_fi);

    if (src->pending == NULL) {
        ngx_http_jwtgate_source_failed(src, &fi);
        return;
    }

    ngx_http_jwtgate_source_verify(src);
}


/*
 * One turn of the pending snapshot: a slice of its checksum; once it
 * matched, the keys (reused when unchanged) and the start of the routing
 * table; then NGX_HTTP_JWTGATE_SNAPSHOT_APIS APIs a turn; the swap after
 * the last. No turn does more than one of these.
 */

static void
ngx_http_jwtgate_source_verify(ngx_http_jwtgate_source_t *src)
{
    jg_err                    err;
    ngx_int_t                 rc;
    ngx_msec_t                us;
    struct timespec           t0, t1;
    ngx_http_jwtgate_snap_t  *snap;

    snap = src->pending;

    if (snap->stage == 0) {
        err = ngx_http_jwtgate_snap_verify(snap,
                                           NGX_HTTP_JWTGATE_SNAPSHOT_STEP);
        if (err == JG_ERR_AGAIN) {
            return;
        }

        if (err != JG_OK) {
            src->pending = NULL;
            ngx_log_error(NGX_LOG_ALERT, src->log, 0,
                          "jwtgate: snapshot \"%V\": %s", &src->path,
                          jg_strerror(err));
            ngx_destroy_pool(snap->pool);
            ngx_http_jwtgate_source_failed(src, &src->pending_fi);
            return;
        }

        snap->stage = 1;
        return;
    }

    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    rc = ngx_http_jwtgate_snap_finish(snap, src->snap,
                                      NGX_HTTP_JWTGATE_SNAPSHOT_APIS,
                                      src->log);
    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);

    us = ngx_http_jwtgate_cpu_us(&t0, &t1);

    if (us > snap->finish_us) {
        snap->finish_us = us;
    }

    if (rc == NGX_AGAIN) {
        return;
    }

    src->pending = NULL;

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, src->log, 0,
                      "jwtgate: snapshot \"%V\" is invalid", &src->path);
        ngx_destroy_pool(snap->pool);
        ngx_http_jwtgate_source_failed(src, &src->pending_fi);
        return;
    }

    ngx_http_jwtgate_source_install(src, snap, &src->pending_fi);
}


/* Whether two snapshots name different databases (an identity of zeros:
 * none, hand-written; then only the version counts). */

static ngx_uint_t
ngx_http_jwtgate_snap_other_db(ngx_http_jwtgate_snap_t *a,
    ngx_http_jwtgate_snap_t *b)
{
    static const u_char  none[JG_SNAPSHOT_DB_ID_LEN];

    return ngx_memcmp(a->db_id, none, JG_SNAPSHOT_DB_ID_LEN) != 0
           && ngx_memcmp(b->db_id, none, JG_SNAPSHOT_DB_ID_LEN) != 0
           && ngx_memcmp(a->db_id, b->db_id, JG_SNAPSHOT_DB_ID_LEN) != 0;
}


/* A file that did not load: reported once, the current snapshot kept. */

static void
ngx_http_jwtgate_source_failed(ngx_http_jwtgate_source_t *src,
    struct stat *fi)
{
    ngx_log_error(NGX_LOG_ALERT, src->log, 0,
                  "jwtgate: snapshot \"%V\" not loaded, serving from "
                  "version %L", &src->path, src->snap->version);
    src->failed_ino = fi->st_ino;
    src->failed_mtim = fi->st_mtim;

    ngx_http_jwtgate_metrics_snapshot(src, 0, 0);
}


static void
ngx_http_jwtgate_source_install(ngx_http_jwtgate_source_t *src,
    ngx_http_jwtgate_snap_t *snap, struct stat *fi)
{
    ngx_uint_t                i;
    ngx_shm_zone_t          **zones;
    ngx_http_jwtgate_snap_t  *old;

    if (ngx_http_jwtgate_snap_other_db(snap, src->snap)) {
        /*
         * Another database's snapshot (a second jwtgated writing the same
         * file, a database made anew): its versions say nothing about
         * ours, and it may bring back what was revoked. Switching is a
         * decision: "nginx -s reload" takes it.
         */
        u_char  id[2 * JG_SNAPSHOT_DB_ID_LEN], used[2 * JG_SNAPSHOT_DB_ID_LEN];

        (void) ngx_hex_dump(id, snap->db_id, JG_SNAPSHOT_DB_ID_LEN);
        (void) ngx_hex_dump(used, src->snap->db_id, JG_SNAPSHOT_DB_ID_LEN);

        ngx_log_error(NGX_LOG_ERR, src->log, 0,
                      "jwtgate: snapshot \"%V\" version %L is from another "
                      "database (%*s, the one in use is %*s): not installed "
                      "(\"nginx -s reload\" takes it as it is)",
                      &src->path, snap->version,
                      (size_t) (2 * JG_SNAPSHOT_DB_ID_LEN), id,
                      (size_t) (2 * JG_SNAPSHOT_DB_ID_LEN), used);
        ngx_http_jwtgate_snap_release(snap);
        src->failed_ino = fi->st_ino;
        src->failed_mtim = fi->st_mtim;
        ngx_http_jwtgate_metrics_snapshot(src, 0, 0);
        return;
    }

    if (snap->version < src->snap->version) {
        /*
         * Never backwards: an older snapshot is a second writer, or a
         * database restored by hand, and would bring back revoked tokens
         * and suspended clients. "jwtgated restore" gives a restored state a
         * higher version; a reload of nginx takes whatever is there.
         */
        ngx_log_error(NGX_LOG_ERR, src->log, 0,
                      "jwtgate: snapshot \"%V\" version %L is older than "
                      "version %L in use: not installed (a restore goes "
                      "through \"jwtgated restore\"; \"nginx -s reload\" "
                      "takes it as it is)",
                      &src->path, snap->version, src->snap->version);
        ngx_http_jwtgate_snap_release(snap);
        src->failed_ino = fi->st_ino;
        src->failed_mtim = fi->st_mtim;
        ngx_http_jwtgate_metrics_snapshot(src, 0, 0);
        return;
    }

    src->dev = fi->st_dev;
    src->ino = fi->st_ino;
    src->size = fi->st_size;
    src->mtim = fi->st_mtim;
    src->ctim = fi->st_ctim;
    src->failed_ino = 0;

    old = src->snap;
    src->snap = snap;

    ngx_http_jwtgate_metrics_snapshot(src, 1, 1);

    ngx_log_error(NGX_LOG_NOTICE, src->log, 0,
                  "jwtgate: snapshot \"%V\" version %L loaded "
                  "(was %L): %ui APIs; checksum verified in %ui steps, "
                  "the longest %M us; keys %s and routes prepared in "
                  "turns of at most %M us",
                  &src->path, snap->version, old->version, snap->napis,
                  snap->steps, snap->longest_step_us,
                  snap->keys_reused ? "kept" : "read", snap->finish_us);

    /* requests that started before keep the old snapshot until they end */
    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, src->log, 0,
                   "jwtgate: snapshot \"%V\" swapped: version %L -> %L, "
                   "%ui requests still hold the old one",
                   &src->path, old->version, snap->version, old->refs - 1);

    ngx_http_jwtgate_snap_release(old);

    zones = src->zones.elts;
    for (i = 0; i < src->zones.nelts; i++) {
        ngx_http_jwtgate_cache_purge(zones[i], snap, src->log);
    }

    /* no claims of a token the new snapshot revokes stay in this worker */
    ngx_http_jwtgate_recent_flush();
}


static void
ngx_http_jwtgate_source_cleanup(void *data)
{
    ngx_http_jwtgate_source_t  *src = data;

    if (src->timer.timer_set) {
        ngx_del_timer(&src->timer);
    }

    if (src->pending != NULL) {
        ngx_destroy_pool(src->pending->pool);
        src->pending = NULL;
    }

    if (src->snap != NULL) {
        ngx_http_jwtgate_snap_release(src->snap);
        src->snap = NULL;
    }
}


ngx_http_jwtgate_snap_t *
ngx_http_jwtgate_snap_acquire(ngx_http_jwtgate_source_t *src)
{
    src->snap->refs++;
    return src->snap;
}


void
ngx_http_jwtgate_snap_release(ngx_http_jwtgate_snap_t *snap)
{
    if (--snap->refs == 0) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, snap->pool->log, 0,
                       "jwtgate: snapshot version %L freed", snap->version);

        ngx_destroy_pool(snap->pool);
    }
}


/* ---- reading ------------------------------------------------------------ */


/*
 * A file is the compiled snapshot (format 2, jwtgate/snapshot.h: what
 * jwtgated writes), mapped read-only and used in place, or a JSON one
 * (format 1: written by hand, by tests), read and compiled here. Opening
 * checks the header only; the checksum is verified in slices
 * (ngx_http_jwtgate_snap_verify) before anything in it is used.
 */

static ngx_http_jwtgate_snap_t *
ngx_http_jwtgate_snap_open(ngx_http_jwtgate_source_t *src, ngx_log_t *log,
    struct stat *fi)
{
    u_char                    head[8];
    void                     *map;
    jg_err                    err;
    ssize_t                   n;
    ngx_fd_t                  fd;
    ngx_pool_t               *pool;
    ngx_pool_cleanup_t       *cln;
    ngx_http_jwtgate_snap_t  *snap;

    fd = ngx_open_file(src->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "jwtgate: " ngx_open_file_n " snapshot \"%V\" failed "
                      "(the worker processes' user must be able to read "
                      "it)", &src->path);
        return NULL;
    }

    /* the identity of what is read, not of what stat() saw before */
    if (fstat(fd, fi) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "jwtgate: " ngx_fd_info_n " \"%V\" failed", &src->path);
        (void) ngx_close_file(fd);
        return NULL;
    }

    if (!S_ISREG(fi->st_mode) || fi->st_size <= 0
        || fi->st_size > NGX_HTTP_JWTGATE_SNAPSHOT_MAX)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot \"%V\" is not a file of 1 byte "
                      "to 1 GB", &src->path);
        (void) ngx_close_file(fd);
        return NULL;
    }

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        (void) ngx_close_file(fd);
        return NULL;
    }

    snap = ngx_pcalloc(pool, sizeof(ngx_http_jwtgate_snap_t));
    cln = ngx_pool_cleanup_add(pool, 0);

    if (snap == NULL || cln == NULL) {
        (void) ngx_close_file(fd);
        ngx_destroy_pool(pool);
        return NULL;
    }

    cln->handler = ngx_http_jwtgate_snap_pool_cleanup;
    cln->data = snap;
    snap->pool = pool;
    snap->refs = 1;

    n = pread(fd, head, sizeof(head), 0);

    if (n == (ssize_t) sizeof(head) && ngx_memcmp(head, "JGSNAP\r\n", 8) == 0) {
        map = mmap(NULL, (size_t) fi->st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "jwtgate: mmap() of snapshot \"%V\" failed",
                          &src->path);
            goto failed;
        }

        snap->map = map;
        snap->map_len = (size_t) fi->st_size;

        err = jg_snapshot_map_buffer(map, snap->map_len, NULL, &snap->js);

    } else {
        err = ngx_http_jwtgate_snap_compile(snap, fd, fi, &src->path, log);
        if (err == JG_OK) {
            err = jg_snapshot_map_buffer(snap->compiled, snap->compiled_len,
                                         NULL, &snap->js);
        }
    }

    (void) ngx_close_file(fd);

    if (err != JG_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot \"%V\": %s", &src->path,
                      jg_strerror(err));
        ngx_destroy_pool(pool);
        return NULL;
    }

    return snap;

failed:

    (void) ngx_close_file(fd);
    ngx_destroy_pool(pool);

    return NULL;
}


/* A JSON snapshot (format 1): read whole and compiled into snap->compiled. */

static jg_err
ngx_http_jwtgate_snap_compile(ngx_http_jwtgate_snap_t *snap, ngx_fd_t fd,
    struct stat *fi, ngx_str_t *path, ngx_log_t *log)
{
    char     detail[256];
    u_char  *buf;
    jg_err   err;
    size_t   size, got;
    ssize_t  n;

    if (fi->st_size > NGX_HTTP_JWTGATE_SNAPSHOT_JSON_MAX) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot \"%V\": a JSON snapshot is read "
                      "whole: 64 MB at most (jwtgated writes the compiled "
                      "form)", path);
        return JG_ERR_LIMIT_JSON_SIZE;
    }

    size = (size_t) fi->st_size;

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        return JG_ERR_NOMEM;
    }

    for (got = 0; got < size; got += n) {
        n = pread(fd, buf + got, size - got, (off_t) got);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "jwtgate: reading snapshot \"%V\" failed", path);
            break;
        }
    }

    detail[0] = '\0';
    err = got == size
          ? jg_snapshot_compile_json((char *) buf, size, &snap->compiled,
                                     &snap->compiled_len, detail,
                                     sizeof(detail))
          : JG_ERR_FILE;

    /* the file holds private keys */
    jg_memzero(buf, size);
    ngx_free(buf);

    if (err != JG_OK && err != JG_ERR_FILE) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot \"%V\" (JSON): %s%s%s", path,
                      jg_strerror(err), detail[0] ? ": " : "", detail);
    }

    snap->json = 1;

    return err;
}


/* Hash at most `budget` more bytes of the checksum (0: all), in pieces,
 * stopping early once the slice took NGX_HTTP_JWTGATE_SNAPSHOT_TURN_US;
 * JG_OK once it matched, JG_ERR_AGAIN while bytes remain. Counts the
 * slices and the longest, for the log line of the swap: in CPU time, what
 * the slice holds the event loop for (a busy machine's preemption is not
 * the module's). */

static jg_err
ngx_http_jwtgate_snap_verify(ngx_http_jwtgate_snap_t *snap, size_t budget)
{
    size_t           done;
    jg_err           err;
    ngx_msec_t       us;
    struct timespec  t0, t1;

    (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    if (budget == 0) {
        err = jg_snapshot_verify_step(snap->js, 0);
        (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        us = ngx_http_jwtgate_cpu_us(&t0, &t1);

    } else {
        done = 0;

        do {
            err = jg_snapshot_verify_step(snap->js,
                                          NGX_HTTP_JWTGATE_SNAPSHOT_PIECE);
            done += NGX_HTTP_JWTGATE_SNAPSHOT_PIECE;
            (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
            us = ngx_http_jwtgate_cpu_us(&t0, &t1);

        } while (err == JG_ERR_AGAIN && done < budget
                 && us < NGX_HTTP_JWTGATE_SNAPSHOT_TURN_US);
    }

    snap->steps++;

    if (us > snap->longest_step_us) {
        snap->longest_step_us = us;
    }

    return err;
}


static ngx_msec_t
ngx_http_jwtgate_cpu_us(struct timespec *t0, struct timespec *t1)
{
    return (ngx_msec_t) ((t1->tv_sec - t0->tv_sec) * 1000000
                         + (t1->tv_nsec - t0->tv_nsec) / 1000);
}


/*
 * Once verified (stage 1): the header's facts and the keys (`prev`, the
 * snapshot in use or NULL, lends its parsed keys when they did not change);
 * stage 2: the routing table's slots zeroed, NGX_HTTP_JWTGATE_SNAPSHOT_STEP
 * bytes a call; stage 3: the APIs, `budget` a call. With budget 0 all of it
 * at once; else one part a call and NGX_AGAIN while some remain.
 */

static ngx_int_t
ngx_http_jwtgate_snap_finish(ngx_http_jwtgate_snap_t *snap,
    ngx_http_jwtgate_snap_t *prev, size_t budget, ngx_log_t *log)
{
    size_t  total, n;

    if (snap->stage == 1) {
        if (ngx_http_jwtgate_snap_prepare(snap, prev, log) != NGX_OK) {
            return NGX_ERROR;
        }

        snap->stage = 2;
        snap->zero_next = 0;

        if (budget != 0) {
            return NGX_AGAIN;
        }
    }

    if (snap->stage == 2) {
        total = (snap->by_path.mask + 1) * sizeof(ngx_http_jwtgate_slot_t);

        do {
            n = ngx_min(total - snap->zero_next,
                        (size_t) NGX_HTTP_JWTGATE_SNAPSHOT_STEP);
            ngx_memzero((u_char *) snap->by_path.slots + snap->zero_next, n);
            snap->zero_next += n;
        } while (budget == 0 && snap->zero_next < total);

        if (snap->zero_next < total) {
            return NGX_AGAIN;
        }

        snap->stage = 3;

        if (budget != 0) {
            return NGX_AGAIN;
        }
    }

    return ngx_http_jwtgate_snap_apis(snap, budget, log);
}


static ngx_int_t
ngx_http_jwtgate_snap_prepare(ngx_http_jwtgate_snap_t *snap,
    ngx_http_jwtgate_snap_t *prev, ngx_log_t *log)
{
    jg_snapshot_info  info;

    if (jg_snapshot_get_info(snap->js, &info) != JG_OK) {
        return NGX_ERROR;
    }

    if (info.version < 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"version\" is negative");
        return NGX_ERROR;
    }

    snap->version = info.version;
    snap->generated_at = (time_t) info.generated_at;
    ngx_memcpy(snap->db_id, info.db_id, JG_SNAPSHOT_DB_ID_LEN);

    if (info.issuer.len == 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"issuer\" is missing");
        return NGX_ERROR;
    }

    /* NUL-terminated in the mapping */
    snap->issuer.data = (u_char *) info.issuer.ptr;
    snap->issuer.len = info.issuer.len;

    if (ngx_http_jwtgate_snap_keys(snap, prev, log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (snap->keys_reused && prev->issuer.len == snap->issuer.len
        && ngx_memcmp(prev->issuer.data, snap->issuer.data,
                      snap->issuer.len) == 0)
    {
        ngx_memcpy(snap->digest, prev->digest, NGX_HTTP_JWTGATE_DIGEST_LEN);

    } else if (ngx_http_jwtgate_snap_digest(snap) != NGX_OK) {
        return NGX_ERROR;
    }

    snap->api_count = info.apis;
    snap->api_next = 0;

    /* the APIs themselves are allocated a part at a time */
    return ngx_http_jwtgate_table_init(snap->pool, &snap->by_path, info.apis);
}


/* Open, verify whole and finish: while the configuration is read. */

static ngx_http_jwtgate_snap_t *
ngx_http_jwtgate_snap_load(ngx_http_jwtgate_source_t *src, ngx_log_t *log,
    struct stat *fi)
{
    jg_err                    err;
    ngx_http_jwtgate_snap_t  *snap;

    snap = ngx_http_jwtgate_snap_open(src, log, fi);
    if (snap == NULL) {
        return NULL;
    }

    err = ngx_http_jwtgate_snap_verify(snap, 0);

    if (err != JG_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot \"%V\": %s", &src->path,
                      jg_strerror(err));
        ngx_destroy_pool(snap->pool);
        return NULL;
    }

    snap->stage = 1;

    if (ngx_http_jwtgate_snap_finish(snap, NULL, 0, log) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot \"%V\" is invalid", &src->path);
        ngx_destroy_pool(snap->pool);
        return NULL;
    }

    return snap;
}


static void
ngx_http_jwtgate_snap_pool_cleanup(void *data)
{
    ngx_http_jwtgate_snap_t  *snap = data;

    if (snap->keyset != NULL && --snap->keyset->refs == 0) {
        jg_jwks_free(snap->keyset->decrypt_keys);
        jg_jwks_free(snap->keyset->verify_keys);
        ngx_free(snap->keyset);
    }

    jg_snapshot_close(snap->js);

    if (snap->map != NULL) {
        (void) munmap(snap->map, snap->map_len);
    }

    if (snap->compiled != NULL) {
        jg_free_secret(snap->compiled, snap->compiled_len);
    }
}


/* The snapshot's two key sets; the algorithms they allow (those of
 * ngx_http_jwtgate_keys.c) become the snapshot's allow-lists. The sets of
 * `prev` are shared when the key texts are the same bytes. */

static ngx_int_t
ngx_http_jwtgate_snap_keys(ngx_http_jwtgate_snap_t *snap,
    ngx_http_jwtgate_snap_t *prev, ngx_log_t *log)
{
    jg_err                      err;
    jg_snap_str                 dec, ver, info, pdec, pver, pinfo;
    ngx_http_jwtgate_keyset_t  *ks;

    if (jg_snapshot_keys(snap->js, &dec, &ver, &info) != JG_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: the key sets are unreadable");
        return NGX_ERROR;
    }

    if (prev != NULL && prev->keyset != NULL
        && jg_snapshot_keys(prev->js, &pdec, &pver, &pinfo) == JG_OK
        && dec.len == pdec.len && ver.len == pver.len
        && ngx_memcmp(dec.ptr, pdec.ptr, dec.len) == 0
        && ngx_memcmp(ver.ptr, pver.ptr, ver.len) == 0)
    {
        snap->keyset = prev->keyset;
        snap->keyset->refs++;
        snap->decrypt_keys = prev->decrypt_keys;
        snap->verify_keys = prev->verify_keys;
        snap->key_algs = prev->key_algs;
        snap->sig_algs = prev->sig_algs;
        snap->keys_reused = 1;
        return NGX_OK;
    }

    ks = ngx_alloc(sizeof(ngx_http_jwtgate_keyset_t), log);
    if (ks == NULL) {
        return NGX_ERROR;
    }

    ks->refs = 1;
    ks->decrypt_keys = NULL;
    ks->verify_keys = NULL;
    snap->keyset = ks;             /* the pool's cleanup frees it from now */

    err = jg_jwks_parse(dec.ptr, dec.len, 0, NULL, &ks->decrypt_keys);

    if (err != JG_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"decryption_keys\": %s",
                      jg_strerror(err));
        return NGX_ERROR;
    }

    err = jg_jwks_parse(ver.ptr, ver.len, JG_JWK_PUBLIC_ONLY, NULL,
                        &ks->verify_keys);

    if (err != JG_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"verification_keys\": %s",
                      jg_strerror(err));
        return NGX_ERROR;
    }

    snap->decrypt_keys = ks->decrypt_keys;
    snap->verify_keys = ks->verify_keys;

    ngx_http_jwtgate_log_skipped(log, "snapshot \"decryption_keys\"", NULL,
                                 snap->decrypt_keys);
    ngx_http_jwtgate_log_skipped(log, "snapshot \"verification_keys\"",
                                 NULL, snap->verify_keys);

    snap->key_algs = ngx_http_jwtgate_key_algs(snap->decrypt_keys,
                                               JG_ALG_KIND_JWE,
                                               JG_ALG_ECDH_ES_A256KW);
    snap->sig_algs = ngx_http_jwtgate_key_algs(snap->verify_keys,
                                               JG_ALG_KIND_JWS,
                                               JG_ALG_ES256);

    return NGX_OK;
}


/*
 * What a verification depended on besides the token and the location's
 * rules: the keys and the issuer. Part of the cache key, so that a token
 * verified under a key that has since left the snapshot is verified again,
 * not served from the cache.
 */

static ngx_int_t
ngx_http_jwtgate_snap_digest(ngx_http_jwtgate_snap_t *snap)
{
    int            ok;
    EVP_MD_CTX    *md;
    unsigned int   n;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL)
         && EVP_DigestUpdate(md, "snapshot", sizeof("snapshot"))
         && EVP_DigestUpdate(md, snap->issuer.data, snap->issuer.len + 1)
         && ngx_http_jwtgate_digest_keys(md, snap->decrypt_keys) == NGX_OK
         && ngx_http_jwtgate_digest_keys(md, snap->verify_keys) == NGX_OK
         && EVP_DigestFinal_ex(md, snap->digest, &n);

    EVP_MD_CTX_free(md);

    return ok ? NGX_OK : NGX_ERROR;
}


/* A snapshot string as an ngx_str_t pointing into the mapping (where it is
 * NUL-terminated; never written to). */

static void
ngx_http_jwtgate_snap_str(jg_snap_str *in, ngx_str_t *out)
{
    out->data = (u_char *) in->ptr;
    out->len = in->len;
}


/* The APIs and their routing table (tens of thousands at most: built once
 * per snapshot, `budget` APIs at a time (0: all); subscriptions, the
 * hundreds of thousands, are not). NGX_AGAIN while some remain. */

static ngx_int_t
ngx_http_jwtgate_snap_apis(ngx_http_jwtgate_snap_t *snap, size_t budget,
    ngx_log_t *log)
{
    uint32_t                 i, k, end;
    jg_snap_api              a;
    jg_snap_str              sc;
    ngx_http_jwtgate_api_t  *api, *part;

    end = snap->api_count;

    if (budget != 0 && end - snap->api_next > budget) {
        end = snap->api_next + (uint32_t) budget;
    }

    part = ngx_pcalloc(snap->pool, (end > snap->api_next
                                    ? end - snap->api_next : 1)
                                   * sizeof(ngx_http_jwtgate_api_t));
    if (part == NULL) {
        return NGX_ERROR;
    }

    for (i = snap->api_next; i < end; i++) {
        api = &part[i - snap->api_next];

        if (jg_snapshot_api(snap->js, i, &a) != JG_OK) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "jwtgate: snapshot: API #%uD is malformed", i);
            return NGX_ERROR;
        }

        api->index = i;
        ngx_http_jwtgate_snap_str(&a.id, &api->id);
        ngx_http_jwtgate_snap_str(&a.name, &api->name);
        ngx_http_jwtgate_snap_str(&a.version, &api->version);
        ngx_http_jwtgate_snap_str(&a.upstream, &api->upstream);
        ngx_http_jwtgate_snap_str(&a.audience, &api->audience);
        api->state = (ngx_uint_t) a.state;
        api->binding = (ngx_uint_t) a.require_binding;
        api->sunset = a.sunset > 0 ? (time_t) a.sunset : 0;
        api->deprecated_at = a.deprecated_at > 0 ? (time_t) a.deprecated_at
                                                 : 0;

        api->nscopes = a.nscopes;
        api->scopes = ngx_pcalloc(snap->pool, (a.nscopes ? a.nscopes : 1)
                                              * sizeof(ngx_str_t));
        if (api->scopes == NULL) {
            return NGX_ERROR;
        }

        for (k = 0; k < a.nscopes; k++) {
            if (jg_snapshot_api_scope(snap->js, &a, k, &sc) != JG_OK
                || sc.len == 0)
            {
                ngx_log_error(NGX_LOG_ALERT, log, 0,
                              "jwtgate: snapshot: API \"%V\" has a "
                              "malformed scope", &api->id);
                return NGX_ERROR;
            }

            ngx_http_jwtgate_snap_str(&sc, &api->scopes[k]);
        }

        if (a.base_path.len == 0 || a.base_path.ptr[0] != '/') {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "jwtgate: snapshot: API \"%V\" has a base path "
                          "that does not start with \"/\"", &api->id);
            return NGX_ERROR;
        }

        /* "/orders/" routes like "/orders" (a shorter view of the same
         * bytes: the mapping is read-only) */
        ngx_http_jwtgate_snap_str(&a.base_path, &api->base_path);

        while (api->base_path.len > 1
               && api->base_path.data[api->base_path.len - 1] == '/')
        {
            api->base_path.len--;
        }

        if (ngx_http_jwtgate_table_add(&snap->by_path, &api->base_path, api)
            != NULL)
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "jwtgate: snapshot: base path \"%V\" is used "
                          "twice; API \"%V\" is not routed",
                          &api->base_path, &api->id);
            continue;
        }

        if (api->base_path.len > snap->max_base_path) {
            snap->max_base_path = api->base_path.len;
        }

        snap->napis++;
    }

    snap->api_next = end;

    return end < snap->api_count ? NGX_AGAIN : NGX_OK;
}


/* ---- lookups ------------------------------------------------------------ */


/*
 * The API whose base path is the longest prefix of `uri` ending on a path
 * segment boundary. Only prefixes up to the longest base path are hashed,
 * so the work is bounded by the snapshot, not by the request.
 */

ngx_http_jwtgate_api_t *
ngx_http_jwtgate_snap_route(ngx_http_jwtgate_snap_t *snap, ngx_str_t *uri)
{
    size_t                   i;
    ngx_http_jwtgate_api_t  *api;

    if (snap->napis == 0 || uri->len == 0 || uri->data[0] != '/') {
        return NULL;
    }

    if (uri->len <= snap->max_base_path) {
        api = ngx_http_jwtgate_table_find(&snap->by_path, uri->data,
                                          uri->len);
        if (api != NULL) {
            return api;
        }
    }

    i = ngx_min(uri->len - 1, snap->max_base_path);

    for ( /* void */ ; i > 1; i--) {
        if (uri->data[i] != '/') {
            continue;
        }

        api = ngx_http_jwtgate_table_find(&snap->by_path, uri->data, i);
        if (api != NULL) {
            return api;
        }
    }

    return ngx_http_jwtgate_table_find(&snap->by_path, (u_char *) "/", 1);
}


ngx_int_t
ngx_http_jwtgate_snap_subscription(ngx_http_jwtgate_snap_t *snap,
    ngx_str_t *client_id, ngx_http_jwtgate_api_t *api,
    ngx_http_jwtgate_sub_t *sub)
{
    if (jg_snapshot_subscription(snap->js, (char *) client_id->data,
                                 client_id->len, api->index, &sub->sub)
        != JG_OK)
    {
        return NGX_DECLINED;
    }

    sub->api = api;
    sub->js = snap->js;

    return NGX_OK;
}


/* Whether the subscription approved `scope` (exact bytes). */

ngx_uint_t
ngx_http_jwtgate_sub_grants(ngx_http_jwtgate_sub_t *sub, ngx_str_t *scope)
{
    return jg_snapshot_sub_has_scope(sub->js, &sub->sub, (char *) scope->data,
                                     scope->len);
}


ngx_uint_t
ngx_http_jwtgate_snap_revoked(ngx_http_jwtgate_snap_t *snap, u_char *jti,
    size_t len)
{
    return jg_snapshot_is_revoked(snap->js, (char *) jti, len);
}


ngx_uint_t
ngx_http_jwtgate_snap_suspended(ngx_http_jwtgate_snap_t *snap,
    u_char *client_id, size_t len)
{
    return jg_snapshot_is_suspended(snap->js, (char *) client_id, len);
}
