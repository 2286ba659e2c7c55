
/*
 * The snapshot that jwtgated writes (docs/snapshot.md): keys, APIs,
 * approved subscriptions, revoked tokens and suspended clients.
 *
 * The master process reads it while reading the configuration, so that a
 * broken file fails "nginx -t" and a reload; every worker then checks the
 * file on a timer (stat() only) and, when it changed, reads and parses the
 * new one completely before swapping one pointer. A request takes a
 * reference to the snapshot it started with, so the old one lives until
 * its last request ends. A file that fails to load leaves the current
 * snapshot in place and is reported once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_jwtgate_module.h"


static void ngx_http_jwtgate_source_timer(ngx_event_t *ev);
static void ngx_http_jwtgate_source_check(ngx_http_jwtgate_source_t *src);
static void ngx_http_jwtgate_source_cleanup(void *data);
static ngx_http_jwtgate_snap_t *ngx_http_jwtgate_snap_load(
    ngx_http_jwtgate_source_t *src, ngx_log_t *log, struct stat *fi);
static ngx_http_jwtgate_snap_t *ngx_http_jwtgate_snap_parse(u_char *text,
    size_t len, ngx_log_t *log);
static void ngx_http_jwtgate_snap_pool_cleanup(void *data);
static ngx_int_t ngx_http_jwtgate_snap_keys(ngx_http_jwtgate_snap_t *snap,
    json_t *doc, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_snap_apis(ngx_http_jwtgate_snap_t *snap,
    json_t *doc, ngx_http_jwtgate_table_t *by_id, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_snap_subs(ngx_http_jwtgate_snap_t *snap,
    json_t *doc, ngx_http_jwtgate_table_t *by_id, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_snap_revocations(
    ngx_http_jwtgate_snap_t *snap, json_t *doc, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_snap_digest(ngx_http_jwtgate_snap_t *snap);
static ngx_uint_t ngx_http_jwtgate_api_state(const char *s);
static ngx_int_t ngx_http_jwtgate_table_init(ngx_pool_t *pool,
    ngx_http_jwtgate_table_t *t, ngx_uint_t n);
static void *ngx_http_jwtgate_table_add(ngx_http_jwtgate_table_t *t,
    ngx_str_t *key, void *value);
static ngx_int_t ngx_http_jwtgate_json_str(ngx_pool_t *pool, json_t *obj,
    const char *name, ngx_uint_t required, ngx_str_t *out);
static ngx_int_t ngx_http_jwtgate_json_time(json_t *obj, const char *name,
    time_t *out);
static ngx_int_t ngx_http_jwtgate_json_scopes(ngx_pool_t *pool, json_t *obj,
    ngx_str_t **scopes, ngx_uint_t *n);
static void ngx_http_jwtgate_json_wipe(json_t *v);


/* ---- string tables ------------------------------------------------------ */


static ngx_int_t
ngx_http_jwtgate_table_init(ngx_pool_t *pool, ngx_http_jwtgate_table_t *t,
    ngx_uint_t n)
{
    ngx_uint_t  size;

    /* at most half full, so that probes stay short */
    for (size = 8; size < 2 * n; size <<= 1) { /* void */ }

    t->slots = ngx_pcalloc(pool, size * sizeof(ngx_http_jwtgate_slot_t));
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

    ngx_http_jwtgate_source_check(src);

    ngx_add_timer(ev, src->interval);
}


#define ngx_http_jwtgate_ts_eq(a, b)                                          \
    ((a).tv_sec == (b).tv_sec && (a).tv_nsec == (b).tv_nsec)


static void
ngx_http_jwtgate_source_check(ngx_http_jwtgate_source_t *src)
{
    ngx_uint_t                i;
    struct stat               fi;
    ngx_shm_zone_t          **zones;
    ngx_http_jwtgate_snap_t  *snap, *old;

    if (stat((char *) src->path.data, &fi) == -1) {
        if (src->failed_ino != (ino_t) -1) {
            ngx_log_error(NGX_LOG_ALERT, src->log, ngx_errno,
                          "jwtgate: stat() of snapshot \"%V\" failed, "
                          "serving from the last one read", &src->path);
            src->failed_ino = (ino_t) -1;
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

    snap = ngx_http_jwtgate_snap_load(src, src->log, &fi);

    if (snap == NULL) {
        ngx_log_error(NGX_LOG_ALERT, src->log, 0,
                      "jwtgate: snapshot \"%V\" not loaded, serving from "
                      "version %L", &src->path, src->snap->version);
        src->failed_ino = fi.st_ino;
        src->failed_mtim = fi.st_mtim;
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
        src->failed_ino = fi.st_ino;
        src->failed_mtim = fi.st_mtim;
        return;
    }

    src->dev = fi.st_dev;
    src->ino = fi.st_ino;
    src->size = fi.st_size;
    src->mtim = fi.st_mtim;
    src->ctim = fi.st_ctim;
    src->failed_ino = 0;

    old = src->snap;
    src->snap = snap;

    ngx_log_error(NGX_LOG_NOTICE, src->log, 0,
                  "jwtgate: snapshot \"%V\" version %L loaded "
                  "(was %L): %ui APIs",
                  &src->path, snap->version, old->version, snap->napis);

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
}


static void
ngx_http_jwtgate_source_cleanup(void *data)
{
    ngx_http_jwtgate_source_t  *src = data;

    if (src->timer.timer_set) {
        ngx_del_timer(&src->timer);
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


static ngx_http_jwtgate_snap_t *
ngx_http_jwtgate_snap_load(ngx_http_jwtgate_source_t *src, ngx_log_t *log,
    struct stat *fi)
{
    u_char                   *buf;
    size_t                    size, got;
    ssize_t                   n;
    ngx_fd_t                  fd;
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
                      "to 64 MB", &src->path);
        (void) ngx_close_file(fd);
        return NULL;
    }

    size = (size_t) fi->st_size;

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        (void) ngx_close_file(fd);
        return NULL;
    }

    for (got = 0; got < size; got += n) {
        n = read(fd, buf + got, size - got);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "jwtgate: reading snapshot \"%V\" failed",
                          &src->path);
            break;
        }
    }

    (void) ngx_close_file(fd);

    snap = got == size ? ngx_http_jwtgate_snap_parse(buf, size, log) : NULL;

    /* the file holds private keys */
    jg_memzero(buf, size);
    ngx_free(buf);

    if (snap == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot \"%V\" is invalid", &src->path);
    }

    return snap;
}


static ngx_http_jwtgate_snap_t *
ngx_http_jwtgate_snap_parse(u_char *text, size_t len, ngx_log_t *log)
{
    json_t                    *doc, *v;
    ngx_pool_t                *pool;
    json_error_t               jerr;
    ngx_pool_cleanup_t        *cln;
    ngx_http_jwtgate_snap_t   *snap;
    ngx_http_jwtgate_table_t   by_id;

    doc = json_loadb((char *) text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: JSON error at line %d: %s",
                      jerr.line, jerr.text);
        return NULL;
    }

    pool = NULL;
    snap = NULL;

    if (!json_is_object(doc)
        || !json_is_string(v = json_object_get(doc, "format"))
        || ngx_strcmp(json_string_value(v), "jwtgate-snapshot") != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: not a jwtgate snapshot");
        goto failed;
    }

    v = json_object_get(doc, "format_version");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: format_version 1 is the only "
                      "one this module reads");
        goto failed;
    }

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        goto failed;
    }

    snap = ngx_pcalloc(pool, sizeof(ngx_http_jwtgate_snap_t));
    if (snap == NULL) {
        goto failed;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        goto failed;
    }

    cln->handler = ngx_http_jwtgate_snap_pool_cleanup;
    cln->data = snap;

    snap->pool = pool;
    snap->refs = 1;

    v = json_object_get(doc, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"version\" is not an integer");
        goto failed;
    }

    snap->version = json_integer_value(v);

    v = json_object_get(doc, "generated_at");
    snap->generated_at = json_is_integer(v) ? (time_t) json_integer_value(v)
                                            : 0;

    if (ngx_http_jwtgate_json_str(pool, doc, "issuer", 1, &snap->issuer)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"issuer\" is missing");
        goto failed;
    }

    if (ngx_http_jwtgate_snap_keys(snap, doc, log) != NGX_OK
        || ngx_http_jwtgate_snap_digest(snap) != NGX_OK)
    {
        goto failed;
    }

    ngx_memzero(&by_id, sizeof(ngx_http_jwtgate_table_t));

    if (ngx_http_jwtgate_snap_apis(snap, doc, &by_id, log) != NGX_OK
        || ngx_http_jwtgate_snap_subs(snap, doc, &by_id, log) != NGX_OK
        || ngx_http_jwtgate_snap_revocations(snap, doc, log) != NGX_OK)
    {
        goto failed;
    }

    json_decref(doc);

    return snap;

failed:

    ngx_http_jwtgate_json_wipe(json_object_get(doc, "decryption_keys"));
    json_decref(doc);

    if (pool != NULL) {
        ngx_destroy_pool(pool);
    }

    return NULL;
}


static void
ngx_http_jwtgate_snap_pool_cleanup(void *data)
{
    ngx_http_jwtgate_snap_t  *snap = data;

    jg_jwks_free(snap->decrypt_keys);
    jg_jwks_free(snap->verify_keys);
}


/* The snapshot's two key sets; the algorithms they allow (those of
 * ngx_http_jwtgate_keys.c) become the snapshot's allow-lists. */

static ngx_int_t
ngx_http_jwtgate_snap_keys(ngx_http_jwtgate_snap_t *snap, json_t *doc,
    ngx_log_t *log)
{
    char    *text;
    jg_err   err;
    json_t  *set;
    size_t   len;

    set = json_object_get(doc, "decryption_keys");
    text = json_is_object(set) ? json_dumps(set, JSON_COMPACT) : NULL;

    /* private keys: wipe the tree's copies and the text */
    ngx_http_jwtgate_json_wipe(set);

    if (text == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"decryption_keys\" is missing");
        return NGX_ERROR;
    }

    len = ngx_strlen(text);
    err = jg_jwks_parse(text, len, 0, NULL, &snap->decrypt_keys);
    jg_memzero(text, len);
    free(text);

    if (err != JG_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"decryption_keys\": %s",
                      jg_strerror(err));
        return NGX_ERROR;
    }

    set = json_object_get(doc, "verification_keys");
    text = json_is_object(set) ? json_dumps(set, JSON_COMPACT) : NULL;

    if (text == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"verification_keys\" is missing");
        return NGX_ERROR;
    }

    err = jg_jwks_parse(text, ngx_strlen(text), JG_JWK_PUBLIC_ONLY, NULL,
                        &snap->verify_keys);
    free(text);

    if (err != JG_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"verification_keys\": %s",
                      jg_strerror(err));
        return NGX_ERROR;
    }

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


static ngx_uint_t
ngx_http_jwtgate_api_state(const char *s)
{
    if (ngx_strcmp(s, "published") == 0) {
        return NGX_HTTP_JWTGATE_API_PUBLISHED;
    }

    if (ngx_strcmp(s, "deprecated") == 0) {
        return NGX_HTTP_JWTGATE_API_DEPRECATED;
    }

    if (ngx_strcmp(s, "retired") == 0) {
        return NGX_HTTP_JWTGATE_API_RETIRED;
    }

    /* "draft", and any state this module does not know: not served */
    return NGX_HTTP_JWTGATE_API_DRAFT;
}


static ngx_int_t
ngx_http_jwtgate_snap_apis(ngx_http_jwtgate_snap_t *snap, json_t *doc,
    ngx_http_jwtgate_table_t *by_id, ngx_log_t *log)
{
    size_t                   i, n;
    json_t                  *apis, *row, *v;
    ngx_http_jwtgate_api_t  *api;

    apis = json_object_get(doc, "apis");
    if (!json_is_array(apis)) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"apis\" is not an array");
        return NGX_ERROR;
    }

    n = json_array_size(apis);

    snap->apis = ngx_pcalloc(snap->pool, (n ? n : 1)
                                         * sizeof(ngx_http_jwtgate_api_t));
    if (snap->apis == NULL
        || ngx_http_jwtgate_table_init(snap->pool, &snap->by_path, n)
           != NGX_OK
        || ngx_http_jwtgate_table_init(snap->pool, by_id, n) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        row = json_array_get(apis, i);
        api = &snap->apis[snap->napis];

        if (!json_is_object(row)
            || ngx_http_jwtgate_json_str(snap->pool, row, "id", 1, &api->id)
               != NGX_OK
            || ngx_http_jwtgate_json_str(snap->pool, row, "base_path", 1,
                                         &api->base_path) != NGX_OK
            || ngx_http_jwtgate_json_str(snap->pool, row, "audience", 1,
                                         &api->audience) != NGX_OK
            || ngx_http_jwtgate_json_str(snap->pool, row, "name", 0,
                                         &api->name) != NGX_OK
            || ngx_http_jwtgate_json_str(snap->pool, row, "version", 0,
                                         &api->version) != NGX_OK
            || ngx_http_jwtgate_json_str(snap->pool, row, "upstream", 0,
                                         &api->upstream) != NGX_OK
            || ngx_http_jwtgate_json_time(row, "sunset", &api->sunset)
               != NGX_OK
            || ngx_http_jwtgate_json_time(row, "deprecated_at",
                                          &api->deprecated_at) != NGX_OK
            || ngx_http_jwtgate_json_scopes(snap->pool, row, &api->scopes,
                                            &api->nscopes) != NGX_OK
            || !json_is_string(v = json_object_get(row, "state")))
        {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "jwtgate: snapshot: API #%uz is malformed", i);
            return NGX_ERROR;
        }

        api->state = ngx_http_jwtgate_api_state(json_string_value(v));

        if (api->base_path.data[0] != '/') {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "jwtgate: snapshot: API \"%V\" has a base path "
                          "that does not start with \"/\"", &api->id);
            return NGX_ERROR;
        }

        /* "/orders/" routes like "/orders" */
        while (api->base_path.len > 1
               && api->base_path.data[api->base_path.len - 1] == '/')
        {
            api->base_path.data[--api->base_path.len] = '\0';
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

        (void) ngx_http_jwtgate_table_add(by_id, &api->id, api);

        if (api->base_path.len > snap->max_base_path) {
            snap->max_base_path = api->base_path.len;
        }

        snap->napis++;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_jwtgate_snap_subs(ngx_http_jwtgate_snap_t *snap, json_t *doc,
    ngx_http_jwtgate_table_t *by_id, ngx_log_t *log)
{
    size_t                   i, n;
    json_t                  *subs, *row;
    ngx_str_t                client_id, api_id;
    ngx_http_jwtgate_sub_t  *sub, *first;

    subs = json_object_get(doc, "subscriptions");
    if (!json_is_array(subs)) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"subscriptions\" is not an array");
        return NGX_ERROR;
    }

    n = json_array_size(subs);

    if (ngx_http_jwtgate_table_init(snap->pool, &snap->subs, n) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        row = json_array_get(subs, i);

        sub = ngx_pcalloc(snap->pool, sizeof(ngx_http_jwtgate_sub_t));
        if (sub == NULL) {
            return NGX_ERROR;
        }

        if (!json_is_object(row)
            || ngx_http_jwtgate_json_str(snap->pool, row, "client_id", 1,
                                         &client_id) != NGX_OK
            || ngx_http_jwtgate_json_str(snap->pool, row, "api_id", 1,
                                         &api_id) != NGX_OK
            || ngx_http_jwtgate_json_scopes(snap->pool, row, &sub->scopes,
                                            &sub->nscopes) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "jwtgate: snapshot: subscription #%uz is "
                          "malformed", i);
            return NGX_ERROR;
        }

        sub->api = ngx_http_jwtgate_table_find(by_id, api_id.data,
                                               api_id.len);
        if (sub->api == NULL) {
            /* an API that is not routed: nothing to subscribe to */
            continue;
        }

        first = ngx_http_jwtgate_table_add(&snap->subs, &client_id, sub);

        if (first != NULL) {
            /* the client's list: insert after its head */
            sub->next = first->next;
            first->next = sub;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_jwtgate_snap_revocations(ngx_http_jwtgate_snap_t *snap, json_t *doc,
    ngx_log_t *log)
{
    size_t     i, n;
    time_t     exp, now;
    json_t    *list, *row;
    ngx_str_t  s;

    now = ngx_time();

    list = json_object_get(doc, "revoked_jti");
    if (!json_is_array(list)) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"revoked_jti\" is not an array");
        return NGX_ERROR;
    }

    n = json_array_size(list);

    if (ngx_http_jwtgate_table_init(snap->pool, &snap->revoked, n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        row = json_array_get(list, i);

        if (!json_is_object(row)
            || ngx_http_jwtgate_json_str(snap->pool, row, "jti", 1, &s)
               != NGX_OK
            || ngx_http_jwtgate_json_time(row, "exp", &exp) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "jwtgate: snapshot: revocation #%uz is malformed",
                          i);
            return NGX_ERROR;
        }

        /* an expired token is refused anyway (exp 0: unknown, kept) */
        if (exp != 0 && exp < now) {
            continue;
        }

        (void) ngx_http_jwtgate_table_add(&snap->revoked, &s, snap);
    }

    list = json_object_get(doc, "suspended_clients");
    if (!json_is_array(list)) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "jwtgate: snapshot: \"suspended_clients\" is not "
                      "an array");
        return NGX_ERROR;
    }

    n = json_array_size(list);

    if (ngx_http_jwtgate_table_init(snap->pool, &snap->suspended, n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        row = json_array_get(list, i);

        if (!json_is_string(row)) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "jwtgate: snapshot: suspended client #%uz is "
                          "not a string", i);
            return NGX_ERROR;
        }

        s.len = json_string_length(row);
        s.data = ngx_pnalloc(snap->pool, s.len + 1);
        if (s.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(s.data, json_string_value(row), s.len + 1);

        (void) ngx_http_jwtgate_table_add(&snap->suspended, &s, snap);
    }

    return NGX_OK;
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


ngx_http_jwtgate_sub_t *
ngx_http_jwtgate_snap_subscription(ngx_http_jwtgate_snap_t *snap,
    ngx_str_t *client_id, ngx_http_jwtgate_api_t *api)
{
    ngx_http_jwtgate_sub_t  *sub;

    sub = ngx_http_jwtgate_table_find(&snap->subs, client_id->data,
                                      client_id->len);

    for ( /* void */ ; sub != NULL; sub = sub->next) {
        if (sub->api == api) {
            return sub;
        }
    }

    return NULL;
}


/* ---- JSON helpers ------------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_json_str(ngx_pool_t *pool, json_t *obj, const char *name,
    ngx_uint_t required, ngx_str_t *out)
{
    json_t  *v;

    v = json_object_get(obj, name);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            return NGX_ERROR;
        }

        ngx_str_set(out, "");
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    out->len = json_string_length(v);

    if (required && out->len == 0) {
        return NGX_ERROR;
    }

    /* names and ids are C strings: no NUL inside */
    if (ngx_strlen(json_string_value(v)) != out->len) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, json_string_value(v), out->len + 1);

    return NGX_OK;
}


/* A time in seconds since the epoch, or null/absent (0). */

static ngx_int_t
ngx_http_jwtgate_json_time(json_t *obj, const char *name, time_t *out)
{
    json_t  *v;

    v = json_object_get(obj, name);

    if (v == NULL || json_is_null(v)) {
        *out = 0;
        return NGX_OK;
    }

    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > NGX_MAX_TIME_T_VALUE)
    {
        return NGX_ERROR;
    }

    *out = (time_t) json_integer_value(v);

    return NGX_OK;
}


static ngx_int_t
ngx_http_jwtgate_json_scopes(ngx_pool_t *pool, json_t *obj,
    ngx_str_t **scopes, ngx_uint_t *n)
{
    size_t   i, count;
    json_t  *list, *v;

    list = json_object_get(obj, "scopes");

    if (list == NULL || json_is_null(list)) {
        *scopes = NULL;
        *n = 0;
        return NGX_OK;
    }

    if (!json_is_array(list)) {
        return NGX_ERROR;
    }

    count = json_array_size(list);

    *scopes = ngx_pcalloc(pool, (count ? count : 1) * sizeof(ngx_str_t));
    if (*scopes == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < count; i++) {
        v = json_array_get(list, i);

        if (!json_is_string(v) || json_string_length(v) == 0) {
            return NGX_ERROR;
        }

        (*scopes)[i].len = json_string_length(v);
        (*scopes)[i].data = ngx_pnalloc(pool, (*scopes)[i].len + 1);
        if ((*scopes)[i].data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy((*scopes)[i].data, json_string_value(v),
                   (*scopes)[i].len + 1);
    }

    *n = count;

    return NGX_OK;
}


/* Overwrites every string under `v` in place: the decryption keys must not
 * stay behind in freed memory. */

static void
ngx_http_jwtgate_json_wipe(json_t *v)
{
    size_t       i;
    json_t      *item;
    const char  *name;

    if (json_is_string(v)) {
        jg_memzero((void *) json_string_value(v), json_string_length(v));

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            ngx_http_jwtgate_json_wipe(item);
        }

    } else if (json_is_object(v)) {
        json_object_foreach(v, name, item) {
            ngx_http_jwtgate_json_wipe(item);
        }
    }
}
