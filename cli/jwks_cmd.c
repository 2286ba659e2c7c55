/*
 * jwks_cmd.c — the trust-source agent of the nginx module:
 *
 *   jwtgate gateway jwks --dir DIR [--cacert FILE] [--min-refresh S] [--max-refresh S] [--once]
 *
 * nginx names the issuers (jwtgate_issuer_jwks, jwtgate_issuer_discovery) and its master writes
 * DIR/manifest.json when it reads its configuration; this agent reads the manifest (and rereads
 * it when it changes), fetches each issuer's JWKS (from its URL, or from the "jwks_uri" of its
 * RFC 8414 / OpenID Connect discovery document, whose "issuer" must be the issuer exactly; an
 * https issuer's must be https too) over libcurl with TLS verified (redirects: at most 3, never
 * from https to http), checks it with the library (at most 1 MiB, 100 keys, depth 8, each
 * key parsed, public parts only) and writes DIR/<id>.jwks atomically (temporary file, fsync,
 * rename, fsync of the directory): the file the nginx workers watch, kept on disk so a restart
 * works with the issuer down. Its mtime is the last successful fetch. A document that is not a
 * usable JWKS keeps the previous file.
 *
 * Refresh: the response's Cache-Control max-age clamped to [--min-refresh, --max-refresh]
 * (defaults 60 s and 24 h), or the issuer's refresh= in nginx.conf; after a failure, exponential
 * backoff with jitter (1 s doubling, at most the refresh and 5 minutes). A worker that met an
 * unknown kid touches DIR/<id>.want; the agent notices within a quarter second and refetches at
 * once, at most once per 5 s per issuer. DIR/<id>.status says when the last fetch succeeded,
 * the last error and the failures since. Never prints a key or a token.
 *
 * Exit status: 0 (--once: every issuer fetched; else a clean stop on SIGTERM/SIGINT), 2 usage or
 * setup (no manifest), 3 (--once) an issuer failed (its previous keys are kept).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli.h"

#define JWKS_MAX_BODY  ((size_t)1 << 20) /* a JWKS or discovery document */
#define JWKS_MAX_KEYS  100
#define JWKS_MAX_DEPTH 8
#define MAX_ISSUERS    256
#define TICK_MS        250
#define WANT_EVERY     5   /* seconds: refetches asked by a worker, per issuer */
#define BACKOFF_CAP    300 /* seconds */
#define JWKS_UNREACHED 3

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct issuer {
    char *name;
    char id[65];
    char *jwks_uri;  /* configured, or NULL: discovery */
    char *found_uri; /* from discovery */
    long refresh;    /* 0: Cache-Control */
    long stale;
    double next_due; /* monotonic seconds */
    double last_try;
    double backoff;
    long failures;
    time_t last_success;
    time_t on_disk; /* mtime of the key file, 0: none */
    char last_error[260];
    struct timespec want_seen;
    int stale_said;
    int seen;           /* still in the manifest */
    uint64_t body_hash; /* of the last JWKS accepted: its skipped keys are logged once */
    long refresh_used;  /* seconds until the next fetch after the last success */
} issuer;

typedef struct agent {
    const char *dir;
    const char *cacert;
    long min_refresh, max_refresh;
    int once;
    issuer *issuers[MAX_ISSUERS];
    size_t count;
    struct timespec manifest_mtim;
    ino_t manifest_ino;
} agent;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jwtgate: gateway jwks: ", stderr);
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    fputc('\n', stderr);
    va_end(ap);
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Text from the network or from nginx.conf, for a log line: printable ASCII, at most 80. */
static void printable(char *dst, size_t size, const char *src)
{
    size_t i;
    for (i = 0; i + 1 < size && i < 80 && src[i] != '\0'; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

/* ---- HTTP ------------------------------------------------------------------------ */

typedef struct fetched {
    long status;
    char *body;
    size_t len;
    long max_age; /* -1: none */
    int too_big;
} fetched;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    fetched *f = userdata;
    size_t n = size * nmemb;
    if (f->len + n > JWKS_MAX_BODY) {
        f->too_big = 1;
        return 0;
    }
    char *grown = realloc(f->body, f->len + n + 1);
    if (grown == NULL)
        return 0;
    f->body = grown;
    memcpy(f->body + f->len, ptr, n);
    f->len += n;
    f->body[f->len] = '\0';
    return n;
}

/* Cache-Control: max-age=N; no-cache / no-store count as 0 (the minimum refresh). */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    fetched *f = userdata;
    size_t n = size * nitems;
    if (n > 14 && strncasecmp(buf, "Cache-Control:", 14) == 0) {
        char line[256];
        size_t len = n - 14 < sizeof line - 1 ? n - 14 : sizeof line - 1;
        memcpy(line, buf + 14, len);
        line[len] = '\0';
        for (char *p = line; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        const char *m = strstr(line, "max-age=");
        if (m != NULL) {
            char *end;
            long v = strtol(m + 8, &end, 10);
            if (end != m + 8 && v >= 0)
                f->max_age = v;
        } else if (strstr(line, "no-cache") != NULL || strstr(line, "no-store") != NULL) {
            f->max_age = 0;
        }
    }
    return n;
}

static int on_progress(void *p, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)p;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return stop_flag != 0;
}

/* GET url: 0 with f->status set, or -1 with `why`. */
static int http_get(const agent *ag, const char *url, fetched *f, char *why, size_t why_len)
{
    memset(f, 0, sizeof *f);
    f->max_age = -1;
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, f);
    /* no credential goes along: a redirect may be followed, never from https to http (keys
     * fetched in the clear could be anyone's) */
    int tls = strncmp(url, "https://", 8) == 0;
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, tls ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ag->cacert != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ag->cacert);
    CURLcode res = curl_easy_perform(curl);
    int rc = 0;
    if (res != CURLE_OK) {
        snprintf(why, why_len, "%s",
                 f->too_big ? "response larger than 1 MiB" : curl_easy_strerror(res));
        free(f->body);
        f->body = NULL;
        f->len = 0;
        rc = -1;
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &f->status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc;
}

/* ---- files ----------------------------------------------------------------------- */

/* `path` atomically with mode 0644 (public keys, read by the nginx workers): a temporary file
 * in the same directory, fsync, rename, fsync of the directory. 0 or -1 (errno set). */
static int write_atomic(const char *dir, const char *path, const char *text, size_t len)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd == -1)
        return -1;
    int ok = fchmod(fd, 0644) == 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok)
            off += (size_t)n;
    }
    ok = ok && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd != -1) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void issuer_path(const agent *ag, const issuer *is, const char *ext, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.%s", ag->dir, is->id, ext);
}

static void write_status(const agent *ag, const issuer *is)
{
    json_t *doc =
        json_pack("{ss ss sI sI ss? sI sI}", "issuer", is->name, "jwks_uri",
                  is->jwks_uri ? is->jwks_uri : (is->found_uri ? is->found_uri : ""),
                  "last_success", (json_int_t)is->last_success, "failures",
                  (json_int_t)is->failures, "last_error", is->last_error[0] ? is->last_error : NULL,
                  "keys_written", (json_int_t)is->on_disk, "refresh", (json_int_t)is->refresh_used);
    if (doc == NULL)
        return;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL)
        return;
    char path[4096];
    issuer_path(ag, is, "status", path, sizeof path);
    if (write_atomic(ag->dir, path, text, strlen(text)) != 0)
        say("writing %s: %s", path, strerror(errno));
    free(text);
}

/* ---- the manifest ---------------------------------------------------------------- */

static void issuer_free(issuer *is)
{
    if (is == NULL)
        return;
    free(is->name);
    free(is->jwks_uri);
    free(is->found_uri);
    free(is);
}

static issuer *find_issuer(agent *ag, const char *id)
{
    for (size_t i = 0; i < ag->count; i++)
        if (strcmp(ag->issuers[i]->id, id) == 0)
            return ag->issuers[i];
    return NULL;
}

static int valid_id(const char *id)
{
    if (strlen(id) != 64)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* (Re)read DIR/manifest.json when it changed. 0, or -1 when there is none to read yet. */
static int read_manifest(agent *ag)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", ag->dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (st.st_ino == ag->manifest_ino && st.st_mtim.tv_sec == ag->manifest_mtim.tv_sec &&
        st.st_mtim.tv_nsec == ag->manifest_mtim.tv_nsec)
        return 0;
    json_error_t e;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    json_t *list = json_object_get(doc, "issuers");
    if (!json_is_array(list)) {
        say("%s: not a manifest (%s)", path, doc == NULL ? e.text : "no \"issuers\"");
        json_decref(doc);
        /* retried when it changes */
        ag->manifest_ino = st.st_ino;
        ag->manifest_mtim = st.st_mtim;
        return ag->count ? 0 : -1;
    }
    for (size_t i = 0; i < ag->count; i++)
        ag->issuers[i]->seen = 0;
    size_t idx;
    json_t *one;
    json_array_foreach (list, idx, one) {
        const char *name = json_string_value(json_object_get(one, "issuer"));
        const char *id = json_string_value(json_object_get(one, "id"));
        const char *uri = json_string_value(json_object_get(one, "jwks_uri"));
        json_int_t refresh = json_integer_value(json_object_get(one, "refresh"));
        json_int_t stale = json_integer_value(json_object_get(one, "stale"));
        if (name == NULL || id == NULL || !valid_id(id) || refresh < 0 || stale <= 0) {
            say("%s: issuer %zu skipped: malformed", path, idx);
            continue;
        }
        issuer *is = find_issuer(ag, id);
        if (is != NULL && ((uri == NULL) != (is->jwks_uri == NULL) ||
                           (uri != NULL && strcmp(uri, is->jwks_uri) != 0))) {
            /* its URL changed: start afresh */
            is->next_due = 0;
            free(is->jwks_uri);
            is->jwks_uri = uri ? strdup(uri) : NULL;
            free(is->found_uri);
            is->found_uri = NULL;
        }
        if (is == NULL) {
            if (ag->count == MAX_ISSUERS) {
                say("%s: more than %d issuers, the rest skipped", path, MAX_ISSUERS);
                break;
            }
            is = calloc(1, sizeof *is);
            if (is == NULL)
                break;
            is->name = strdup(name);
            is->jwks_uri = uri ? strdup(uri) : NULL;
            memcpy(is->id, id, 65);
            is->backoff = 1;
            char kpath[4096];
            issuer_path(ag, is, "jwks", kpath, sizeof kpath);
            struct stat ks;
            if (stat(kpath, &ks) == 0)
                is->on_disk = is->last_success = ks.st_mtim.tv_sec;
            char wpath[4096];
            issuer_path(ag, is, "want", wpath, sizeof wpath);
            if (stat(wpath, &ks) == 0)
                is->want_seen = ks.st_mtim;
            ag->issuers[ag->count++] = is;
        }
        is->refresh = (long)refresh;
        is->stale = (long)stale;
        is->seen = 1;
    }
    /* issuers no longer named are forgotten (their files stay until the operator removes them) */
    size_t kept = 0;
    for (size_t i = 0; i < ag->count; i++) {
        if (ag->issuers[i]->seen)
            ag->issuers[kept++] = ag->issuers[i];
        else
            issuer_free(ag->issuers[i]);
    }
    ag->count = kept;
    ag->manifest_ino = st.st_ino;
    ag->manifest_mtim = st.st_mtim;
    json_decref(doc);
    say("%zu issuer(s) from %s", ag->count, path);
    return 0;
}

/* ---- fetching -------------------------------------------------------------------- */

/* The issuer's discovery document: OpenID Connect's (ISSUER/.well-known/openid-configuration),
 * then RFC 8414's (/.well-known/oauth-authorization-server inserted before the issuer's path).
 * Its "issuer" must be ours exactly; its "jwks_uri" is an http(s) URL. 0 or -1 (why). */
static int discover(const agent *ag, issuer *is, char *why, size_t why_len)
{
    char urls[2][4096];
    const char *name = is->name;
    size_t n = strlen(name);
    while (n > 0 && name[n - 1] == '/')
        n--;
    snprintf(urls[0], sizeof urls[0], "%.*s/.well-known/openid-configuration", (int)n, name);
    const char *host = strstr(name, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    if (path != NULL && (size_t)(path - name) < n)
        snprintf(urls[1], sizeof urls[1], "%.*s/.well-known/oauth-authorization-server%.*s",
                 (int)(path - name), name, (int)(n - (size_t)(path - name)), path);
    else
        snprintf(urls[1], sizeof urls[1], "%.*s/.well-known/oauth-authorization-server", (int)n,
                 name);
    for (int k = 0; k < 2; k++) {
        fetched f;
        if (http_get(ag, urls[k], &f, why, why_len) != 0)
            return -1;
        if (f.status == 404 && k == 0) {
            free(f.body);
            continue;
        }
        if (f.status != 200) {
            snprintf(why, why_len, "discovery: HTTP %ld", f.status);
            free(f.body);
            return -1;
        }
        json_error_t e;
        json_t *doc = json_loadb(f.body, f.len, JSON_REJECT_DUPLICATES, &e);
        free(f.body);
        const char *iss = json_string_value(json_object_get(doc, "issuer"));
        const char *uri = json_string_value(json_object_get(doc, "jwks_uri"));
        int rc = -1;
        if (!json_is_object(doc))
            snprintf(why, why_len, "discovery: not a JSON object");
        else if (iss == NULL || strcmp(iss, is->name) != 0)
            snprintf(why, why_len, "discovery: its \"issuer\" is not this issuer");
        else if (uri == NULL ||
                 (strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0))
            snprintf(why, why_len, "discovery: no http(s) \"jwks_uri\"");
        else if (strncmp(is->name, "https://", 8) == 0 && strncmp(uri, "https://", 8) != 0)
            snprintf(why, why_len, "discovery: an https issuer's \"jwks_uri\" is not https");
        else {
            free(is->found_uri);
            is->found_uri = strdup(uri);
            rc = is->found_uri ? 0 : -1;
        }
        json_decref(doc);
        return rc;
    }
    snprintf(why, why_len, "discovery: HTTP 404");
    return -1;
}

static void log_skipped(const issuer *is, const jg_jwks *set)
{
    char name[96], kid_text[96];
    printable(name, sizeof name, is->name);
    for (size_t i = 0; i < jg_jwks_skipped_count(set); i++) {
        size_t pos;
        const char *kid;
        jg_err why;
        if (jg_jwks_skipped_at(set, i, &pos, &kid, &why) != JG_OK)
            continue;
        if (kid != NULL)
            printable(kid_text, sizeof kid_text, kid);
        say("%s: key %zu (%s%s%s) skipped: %s", name, pos, kid ? "kid \"" : "no kid",
            kid ? kid_text : "", kid ? "\"" : "", jg_strerror(why));
    }
}

/* One fetch: discovery when needed, the JWKS, its checks, the file. 0 or -1 (why). */
static int fetch_issuer(const agent *ag, issuer *is, long *max_age, char *why, size_t why_len)
{
    *max_age = -1;
    const char *uri = is->jwks_uri;
    if (uri == NULL) {
        /* rediscovered on every fetch: the document may move the JWKS */
        if (discover(ag, is, why, why_len) != 0)
            return -1;
        uri = is->found_uri;
    }
    fetched f;
    if (http_get(ag, uri, &f, why, why_len) != 0)
        return -1;
    if (f.status != 200) {
        snprintf(why, why_len, "HTTP %ld", f.status);
        free(f.body);
        return -1;
    }
    jg_limits limits = jg_limits_default();
    limits.max_keys = JWKS_MAX_KEYS;
    limits.max_json_depth = JWKS_MAX_DEPTH;
    jg_jwks *set = NULL;
    jg_detail detail;
    jg_err err = jg_jwks_parse_ex(f.body, f.len, JG_JWK_PUBLIC_ONLY, &limits, &set, &detail);
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < f.len; i++)
        h = (h ^ (unsigned char)f.body[i]) * 1099511628211u;
    free(f.body);
    if (err != JG_OK) {
        char line[160];
        if (jg_detail_format(&detail, line, sizeof line) == 0)
            line[0] = '\0';
        snprintf(why, why_len, "not a usable JWKS: %s%s%s", jg_strerror(err), line[0] ? ": " : "",
                 line);
        return -1;
    }
    /* h (FNV-1a) only tells whether the document changed: its skipped keys are logged once */
    if (h != is->body_hash)
        log_skipped(is, set);
    is->body_hash = h;
    if (jg_jwks_count(set) == 0) {
        jg_jwks_free(set);
        snprintf(why, why_len, "the JWKS holds no key");
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    err = jg_jwks_to_json(set, 0, &text, &len);
    jg_jwks_free(set);
    if (err != JG_OK) {
        snprintf(why, why_len, "%s", jg_strerror(err));
        return -1;
    }
    char path[4096];
    issuer_path(ag, is, "jwks", path, sizeof path);
    int rc = write_atomic(ag->dir, path, text, len);
    jg_free(text);
    if (rc != 0) {
        snprintf(why, why_len, "writing %.200s: %s", path, strerror(errno));
        return -1;
    }
    *max_age = f.max_age;
    return 0;
}

static double jitter(double seconds)
{
    unsigned char r = 128;
    if (getrandom(&r, 1, 0) != 1)
        r = 128;
    return (double)r / 255.0 * seconds * 0.25;
}

static int run_issuer(const agent *ag, issuer *is, double now)
{
    char why[512];
    long max_age;
    char name[96];
    printable(name, sizeof name, is->name);
    is->last_try = now;
    if (fetch_issuer(ag, is, &max_age, why, sizeof why) == 0) {
        long refresh = is->refresh;
        if (refresh == 0) {
            refresh = max_age < 0 ? ag->min_refresh : max_age;
            if (refresh < ag->min_refresh)
                refresh = ag->min_refresh;
            if (refresh > ag->max_refresh)
                refresh = ag->max_refresh;
        }
        if (is->failures > 0)
            say("%s: keys fetched again after %ld failure(s)", name, is->failures);
        is->failures = 0;
        is->backoff = 1;
        is->last_error[0] = '\0';
        is->last_success = is->on_disk = time(NULL);
        is->stale_said = 0;
        is->next_due = now + (double)refresh;
        is->refresh_used = refresh;
        write_status(ag, is);
        return 0;
    }
    is->failures++;
    snprintf(is->last_error, sizeof is->last_error, "%.255s", why);
    double wait = is->backoff;
    long cap = is->refresh ? is->refresh : ag->min_refresh;
    if (cap > BACKOFF_CAP)
        cap = BACKOFF_CAP;
    is->backoff = is->backoff * 2 > (double)cap ? (double)cap : is->backoff * 2;
    is->next_due = now + wait + jitter(wait);
    time_t t = time(NULL);
    if (is->on_disk == 0) {
        say("%s: fetch failed (%s); no keys on disk yet", name, why);
    } else if (t - is->on_disk > is->stale) {
        if (!is->stale_said)
            say("%s: fetch failed (%s); the keys on disk are %lds old, over the stale bound "
                "of %lds: nginx refuses this issuer's tokens",
                name, why, (long)(t - is->on_disk), is->stale);
        is->stale_said = 1;
    } else {
        say("%s: fetch failed (%s); keeping the keys fetched %lds ago (stale in %lds)", name, why,
            (long)(t - is->on_disk), (long)(is->stale - (t - is->on_disk)));
    }
    write_status(ag, is);
    return -1;
}

/* A worker asked for a refetch (a token named an unknown kid): due at once, at most once per
 * WANT_EVERY seconds. */
static void check_want(const agent *ag, issuer *is, double now)
{
    char path[4096];
    issuer_path(ag, is, "want", path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (st.st_mtim.tv_sec == is->want_seen.tv_sec && st.st_mtim.tv_nsec == is->want_seen.tv_nsec)
        return;
    is->want_seen = st.st_mtim;
    double at = is->last_try + WANT_EVERY;
    if (at < now)
        at = now;
    if (at < is->next_due)
        is->next_due = at;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char jwks_usage[] =
    "Usage: jwtgate gateway jwks --dir DIR [--cacert FILE] [--min-refresh SECONDS]\n"
    "                            [--max-refresh SECONDS] [--once]\n"
    "Keep the key sets of the issuers that nginx.conf trusts (jwtgate_issuer_jwks,\n"
    "jwtgate_issuer_discovery) up to date in DIR (jwtgate_jwks_dir): reads DIR/manifest.json,\n"
    "which nginx writes, fetches each issuer's JWKS (TLS verified: the system CAs, or\n"
    "--cacert), checks it and writes DIR/<id>.jwks atomically for the nginx workers.\n"
    "Refreshes on Cache-Control max-age within [--min-refresh, --max-refresh] (default 60 and\n"
    "86400) unless the issuer's refresh= says; refetches early when a worker meets an unknown\n"
    "kid; keeps the last keys when an issuer is unreachable. Runs until SIGTERM/SIGINT;\n"
    "--once fetches every issuer once and exits.\n"
    "Exit status: 0 done (or a clean stop), 2 usage or setup, 3 (--once) an issuer failed.\n";

int cli_gateway_jwks(int argc, char **argv)
{
    /* first: a stop asked for while starting is a clean stop too */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    agent ag = {.min_refresh = 60, .max_refresh = 86400};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(jwks_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--once") == 0) {
            ag.once = 1;
        } else if (i + 1 >= argc) {
            return cli_usage("gateway jwks", "unknown option or missing value: %s", a);
        } else if (strcmp(a, "--dir") == 0) {
            ag.dir = argv[++i];
        } else if (strcmp(a, "--cacert") == 0) {
            ag.cacert = argv[++i];
        } else if (strcmp(a, "--min-refresh") == 0 || strcmp(a, "--max-refresh") == 0) {
            uint64_t v = 0;
            if (cli_parse_uint("gateway jwks", a, argv[++i], 30L * 86400, &v) != EXIT_OK)
                return EXIT_USAGE;
            if (v == 0)
                return cli_usage("gateway jwks", "%s: at least 1", a);
            if (a[2] == 'm' && a[3] == 'i')
                ag.min_refresh = (long)v;
            else
                ag.max_refresh = (long)v;
        } else {
            return cli_usage("gateway jwks", "unknown option: %s", a);
        }
    }
    if (ag.dir == NULL)
        return cli_usage("gateway jwks", "--dir is required");
    if (ag.min_refresh > ag.max_refresh)
        return cli_usage("gateway jwks", "--min-refresh is above --max-refresh");
    if (ag.cacert != NULL && access(ag.cacert, R_OK) != 0)
        return cli_fail(EXIT_USAGE, "gateway jwks: --cacert %s: %s", ag.cacert, strerror(errno));
    curl_global_init(CURL_GLOBAL_DEFAULT);

    int status = EXIT_OK;
    if (read_manifest(&ag) != 0) {
        if (ag.once) {
            status = cli_fail(EXIT_USAGE,
                              "gateway jwks: no manifest in %s: does nginx.conf "
                              "set jwtgate_jwks_dir %s and has nginx started?",
                              ag.dir, ag.dir);
            goto out;
        }
        say("waiting for %s/manifest.json (nginx writes it when it reads its configuration)",
            ag.dir);
    }
    if (ag.once) {
        double now = now_mono();
        for (size_t i = 0; i < ag.count && !stop_flag; i++)
            if (run_issuer(&ag, ag.issuers[i], now) != 0)
                status = JWKS_UNREACHED;
        goto out;
    }
    while (!stop_flag) {
        (void)read_manifest(&ag);
        double now = now_mono();
        for (size_t i = 0; i < ag.count && !stop_flag; i++) {
            issuer *is = ag.issuers[i];
            check_want(&ag, is, now);
            if (now >= is->next_due)
                (void)run_issuer(&ag, is, now);
        }
        sleep_ms(TICK_MS);
    }
    say("stopping");
out:
    for (size_t i = 0; i < ag.count; i++)
        issuer_free(ag.issuers[i]);
    curl_global_cleanup();
    return status;
}
