/*
 * usage_agent.c — jwtgate gateway usage: the agent that reports a gateway's
 * LLM usage to jwtgated (docs/ai-gateway.md "Usage", docs/cluster.md).
 *
 *   jwtgate gateway usage --url URL [--url URL ...] --credential FILE --log FILE
 *                         --state FILE [--interval S] [--once]
 *
 * Tails the AI module's usage log (one JSON object a line: {"t", "client_id",
 * "api", "model", "provider", "key_id", "status", "input_tokens",
 * "output_tokens"}), sums its lines per minute and (client, API, model,
 * provider, key, status), and posts them to POST /gateway/v1/usage with the
 * gateway's credential, failing over between the URLs.
 *
 * Exactly once: a batch is the lines between two byte offsets of one file
 * and its id says so ("u<epoch>-<inode>-<start>-<end>", hex; the epoch is
 * random, new whenever reading starts a file again at 0). Before it is sent its
 * end is written to the state file (atomically); after a 200 the state moves
 * past it. A restart therefore sends the same lines under the same id, which
 * jwtgated answers as a duplicate: never counted twice, never lost.
 *
 * Rotation: a new inode at --log means the file was rotated; the rest of the
 * old one is read first when it is found at FILE.1 (logrotate's default),
 * then the new file from its start. A file shorter than the offset was
 * truncated (copytruncate): read again from its start. A last line without
 * its newline is left until it is complete.
 *
 * Malformed lines (not JSON, members missing or out of range, longer than
 * 16 KiB, a minute outside what jwtgated keeps) are skipped and counted, and
 * logged by offset only, never by content. The agent never prints the
 * credential. Exit status: 0 (--once: everything sent; else a clean stop),
 * 2 usage or setup, 3 every node unreachable (--once), 4 the credential was
 * refused (401).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"

enum { AGENT_UNREACHABLE = 3, AGENT_REFUSED = 4 };

#define MAX_URLS     16
#define MAX_LINE     16384                  /* longer lines are skipped */
#define MAX_RECORDS  100                    /* a batch stays well under the 64 KiB body limit */
#define MAX_SPAN     ((uint64_t)8 << 20)    /* bytes of log per batch */
#define MAX_COUNT    INT64_C(1000000000000) /* jwtgated's bound of a counter */
#define KEEP_SECONDS (INT64_C(35) * 86400)  /* jwtgated's retention (USAGE_KEEP_DAYS) */
#define BACKOFF_MAX  30
#define HEAD_MAX     256

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct agent {
    const char *urls[MAX_URLS];
    size_t nurls, current;
    const char *cred_path, *log_path, *state_path;
    long interval;
    int once;
    json_t *cred;
    const char *credential;
    /* the state: unsent lines start at `offset` of the file `ino`; a batch
     * [offset, pending) was built and may have been sent (0: none) */
    uint64_t ino, offset, pending;
    /* the FNV-1a hash of the file's first head_len bytes (at most HEAD_MAX):
     * a file rewritten in place to the same length is told from the one
     * read (copytruncate followed by as many bytes) */
    uint64_t head, head_len;
    /* random, new whenever reading restarts at 0 (a new file, a truncation):
     * in the batch ids, so a reused inode or a rewritten file never makes an
     * id jwtgated has seen */
    uint32_t epoch;
    unsigned long skipped, sent_lines;
} agent;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jwtgate: gateway usage: ", stderr);
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- the state file ------------------------------------------------------------ */

static int save_state(const agent *a)
{
    char text[200];
    int n = snprintf(text, sizeof text,
                     "{\"inode\": %" PRIu64 ", \"offset\": %" PRIu64 ", \"pending_end\": %" PRIu64
                     ", \"head\": \"%016" PRIx64 "\", \"head_len\": %" PRIu64
                     ", \"epoch\": %" PRIu32 "}\n",
                     a->ino, a->offset, a->pending, a->head, a->head_len, a->epoch);
    if (jg_snapshot_write_file(a->state_path, (const uint8_t *)text, (size_t)n) != JG_OK) {
        say("cannot write %s: %s", a->state_path, strerror(errno));
        return -1;
    }
    return 0;
}

static int load_state(agent *a)
{
    size_t len = 0;
    char *text = cli_read_file(a->state_path, &len, 0);
    if (text == NULL)
        return errno == ENOENT ? 0 : -1; /* no state yet: from the start */
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    const json_t *ino = json_object_get(doc, "inode"), *off = json_object_get(doc, "offset"),
                 *pend = json_object_get(doc, "pending_end");
    int ok = json_is_integer(ino) && json_is_integer(off) && json_integer_value(ino) >= 0 &&
             json_integer_value(off) >= 0 &&
             (pend == NULL || (json_is_integer(pend) && json_integer_value(pend) >= 0));
    if (ok) {
        a->ino = (uint64_t)json_integer_value(ino);
        a->offset = (uint64_t)json_integer_value(off);
        a->pending = pend != NULL ? (uint64_t)json_integer_value(pend) : 0;
        if (a->pending != 0 && a->pending <= a->offset)
            a->pending = 0;
        const char *head = json_string_value(json_object_get(doc, "head"));
        const json_t *hl = json_object_get(doc, "head_len");
        if (head != NULL && json_is_integer(hl) && json_integer_value(hl) >= 0 &&
            json_integer_value(hl) <= HEAD_MAX) {
            a->head = strtoull(head, NULL, 16);
            a->head_len = (uint64_t)json_integer_value(hl);
        }
        const json_t *ep = json_object_get(doc, "epoch");
        if (json_is_integer(ep) && json_integer_value(ep) >= 0 &&
            json_integer_value(ep) <= (json_int_t)UINT32_MAX)
            a->epoch = (uint32_t)json_integer_value(ep);
    }
    json_decref(doc);
    if (!ok)
        say("%s: not a usage agent state file", a->state_path);
    return ok ? 0 : -1;
}

/* Reading starts again at offset 0 of `ino`: a new epoch. */
static void restart_at_zero(agent *a, uint64_t ino)
{
    a->ino = ino;
    a->offset = 0;
    a->pending = 0;
    a->head_len = 0;
    if (getrandom(&a->epoch, sizeof a->epoch, 0) != sizeof a->epoch)
        a->epoch = (uint32_t)time(NULL) ^ (uint32_t)getpid();
}

/* The hash of the first n bytes of f; -1 when it has fewer. */
static int head_hash(FILE *f, uint64_t n, uint64_t *out)
{
    unsigned char buf[HEAD_MAX];
    if (n > HEAD_MAX || fseeko(f, 0, SEEK_SET) != 0 || fread(buf, 1, n, f) != n)
        return -1;
    uint64_t h = UINT64_C(14695981039346656037);
    for (uint64_t i = 0; i < n; i++) {
        h ^= buf[i];
        h *= UINT64_C(1099511628211);
    }
    *out = h;
    return 0;
}

/* ---- a line ----------------------------------------------------------------------- */

/* printable ASCII without spaces, quotes or backslashes, 1..max bytes (jwtgated's rule) */
static const char *plain(const json_t *o, const char *name, size_t max)
{
    const json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);
    if (s == NULL || *s == '\0' || strlen(s) > max || strlen(s) != json_string_length(v))
        return NULL;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '"' || *c == '\\')
            return NULL;
    return s;
}

static int counter(const json_t *o, const char *name, int64_t min, int64_t max, int64_t *out)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return 0;
    *out = json_integer_value(v);
    return 1;
}

typedef struct line_rec {
    int64_t minute, status, in, out;
    const char *client_id, *api, *model, *provider, *key_id;
} line_rec;

/* 0: a usable record in *r (borrowing from doc); -1: malformed. */
static int parse_line(const json_t *doc, int64_t now, line_rec *r)
{
    const json_t *t = json_object_get(doc, "t");
    if (!json_is_object(doc) || !json_is_number(t) || !isfinite(json_number_value(t)) ||
        json_number_value(t) < 0 || json_number_value(t) > 1e12)
        return -1;
    r->minute = (int64_t)floor(json_number_value(t)) / 60 * 60;
    r->client_id = plain(doc, "client_id", 128);
    r->api = plain(doc, "api", 64);
    r->model = plain(doc, "model", 128);
    r->provider = plain(doc, "provider", 32);
    r->key_id = plain(doc, "key_id", 64);
    if (r->client_id == NULL || r->api == NULL || r->model == NULL || r->provider == NULL ||
        r->key_id == NULL || !counter(doc, "status", 100, 599, &r->status) ||
        !counter(doc, "input_tokens", 0, MAX_COUNT, &r->in) ||
        !counter(doc, "output_tokens", 0, MAX_COUNT, &r->out))
        return -1;
    /* what jwtgated would refuse for the whole batch (an hour of margin) */
    if (r->minute < now - KEEP_SECONDS + 3600 || r->minute > now + 300)
        return -1;
    return 0;
}

/* ---- a batch ---------------------------------------------------------------------- */

typedef struct batch {
    json_t *by_key; /* "minute client api model provider key status" -> record */
    json_t *records;
    uint64_t end; /* the offset after the last line taken */
    unsigned long lines, bad;
} batch;

/* Add record r; 0, or 1 when it does not fit (the batch is full). */
static int batch_add(batch *b, const line_rec *r)
{
    char key[700];
    snprintf(key, sizeof key, "%" PRId64 " %s %s %s %s %s %" PRId64, r->minute, r->client_id,
             r->api, r->model, r->provider, r->key_id, r->status);
    json_t *rec = json_object_get(b->by_key, key);
    if (rec == NULL) {
        if (json_array_size(b->records) == MAX_RECORDS)
            return 1;
        rec = json_pack("{sI ss ss ss ss ss sI sI sI sI}", "minute", (json_int_t)r->minute,
                        "client_id", r->client_id, "api", r->api, "model", r->model, "provider",
                        r->provider, "key_id", r->key_id, "status", (json_int_t)r->status,
                        "requests", (json_int_t)1, "input_tokens", (json_int_t)r->in,
                        "output_tokens", (json_int_t)r->out);
        if (rec == NULL || json_array_append_new(b->records, rec) != 0 ||
            json_object_set(b->by_key, key, rec) != 0)
            return 1;
        return 0;
    }
    int64_t req = json_integer_value(json_object_get(rec, "requests")) + 1;
    int64_t in = json_integer_value(json_object_get(rec, "input_tokens")) + r->in;
    int64_t out = json_integer_value(json_object_get(rec, "output_tokens")) + r->out;
    if (req > MAX_COUNT || in > MAX_COUNT || out > MAX_COUNT)
        return 1; /* the next batch takes it */
    json_object_set_new(rec, "requests", json_integer(req));
    json_object_set_new(rec, "input_tokens", json_integer(in));
    json_object_set_new(rec, "output_tokens", json_integer(out));
    return 0;
}

/*
 * Read complete lines of `f` from a->offset into `b`, up to `limit` (the
 * pending end, or 0: as far as fits). b->end is where the next batch starts.
 */
static void batch_read(agent *a, FILE *f, uint64_t limit, batch *b)
{
    static char line[MAX_LINE + 2];
    uint64_t pos = a->offset;
    b->end = pos;
    int64_t now = (int64_t)time(NULL);
    if (fseeko(f, (off_t)pos, SEEK_SET) != 0)
        return;
    while ((limit == 0 || pos < limit) && (limit != 0 || pos - a->offset < MAX_SPAN)) {
        if (fgets(line, sizeof line, f) == NULL)
            break; /* EOF */
        size_t n = strlen(line);
        int complete = n > 0 && line[n - 1] == '\n';
        uint64_t len = n;
        if (!complete && n == sizeof line - 1) {
            /* too long: skip to its newline (if it has one yet) */
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                len++;
            if (c == EOF)
                break; /* not complete yet */
            len++;
            say("%s: line at offset %" PRIu64 " skipped (longer than %d bytes)", a->log_path, pos,
                MAX_LINE);
            b->bad++;
            pos += len;
            b->end = pos;
            continue;
        }
        if (!complete)
            break; /* the writer is in the middle of it */
        json_t *doc = json_loadb(line, n - 1, JSON_REJECT_DUPLICATES, NULL);
        line_rec r;
        if (doc == NULL || parse_line(doc, now, &r) != 0) {
            say("%s: line at offset %" PRIu64 " skipped (not a usage record)", a->log_path, pos);
            b->bad++;
        } else if (batch_add(b, &r) != 0) {
            json_decref(doc);
            break; /* full: this line starts the next batch */
        } else {
            b->lines++;
        }
        json_decref(doc);
        pos += len;
        b->end = pos;
    }
}

/* ---- HTTP ------------------------------------------------------------------------ */

typedef struct resp {
    char buf[4096];
    size_t len;
} resp;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    resp *r = userdata;
    size_t n = size * nmemb, room = sizeof r->buf - 1 - r->len;
    memcpy(r->buf + r->len, ptr, n < room ? n : room);
    r->len += n < room ? n : room;
    r->buf[r->len] = '\0';
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

/* POST the batch to the current node: the HTTP status, or -1 (transport). */
static long post(agent *a, const char *body, resp *out)
{
    const char *base = a->urls[a->current];
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    char url[2100];
    snprintf(url, sizeof url, "%.*s/gateway/v1/usage", (int)blen, base);
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return -1;
    size_t alen = strlen(a->credential) + 32;
    char *auth = malloc(alen);
    struct curl_slist *h = NULL;
    if (auth != NULL) {
        snprintf(auth, alen, "Authorization: Bearer %s", a->credential);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    memset(out, 0, sizeof *out);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* the credential goes nowhere else */
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    long status = -1;
    CURLcode res = curl_easy_perform(curl);
    if (res == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    else if (!stop_flag)
        say("%.*s: %s", (int)blen, base, curl_easy_strerror(res));
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    if (auth != NULL)
        jg_free_secret(auth, 0);
    return status;
}

/* Send one batch, failing over: 0 stored (or a duplicate), 1 refused as
 * invalid (422: skipped), -1 every node failed, AGENT_REFUSED. */
static int send_batch(agent *a, const char *id, const json_t *records)
{
    json_t *doc = json_pack("{ss sO}", "batch_id", id, "records", records);
    char *body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (body == NULL)
        return -1;
    int rc = -1;
    for (size_t tried = 0; tried < a->nurls && !stop_flag; tried++) {
        resp r;
        long status = post(a, body, &r);
        if (status == 200) {
            rc = 0;
            break;
        }
        if (status == 401 || status == 403) {
            say("the gateway credential was refused (HTTP %ld): revoked?", status);
            rc = AGENT_REFUSED;
            break;
        }
        if (status == 422 || status == 413) {
            say("batch %s refused as invalid (HTTP %ld): skipped", id, status);
            rc = 1;
            break;
        }
        if (status > 0)
            say("%s: HTTP %ld", a->urls[a->current], status);
        a->current = (a->current + 1) % a->nurls;
    }
    free(body);
    return rc;
}

/* ---- the loop --------------------------------------------------------------------- */

/* Send every complete line of `path` (inode ino) from a->offset. 0 all sent,
 * -1 unreachable (state kept), AGENT_REFUSED, EXIT_USAGE (state not written). */
static int drain(agent *a, const char *path, uint64_t ino)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0; /* gone meanwhile: the next round sees */
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || (uint64_t)sb.st_ino != ino) {
        fclose(f);
        return 0;
    }
    uint64_t h = 0;
    if ((uint64_t)sb.st_size < a->offset ||
        (a->offset > 0 && a->head_len > 0 &&
         (head_hash(f, a->head_len, &h) != 0 || h != a->head))) {
        say("%s was truncated (or rewritten in place): reading it from its start", path);
        restart_at_zero(a, ino);
    }
    int rc = 0;
    while (!stop_flag) {
        batch b = {json_object(), json_array(), 0, 0, 0};
        if (b.by_key == NULL || b.records == NULL) {
            json_decref(b.by_key);
            json_decref(b.records);
            rc = -1;
            break;
        }
        batch_read(a, f, a->pending, &b);
        a->skipped += b.bad;
        if (b.end == a->offset) {
            json_decref(b.by_key);
            json_decref(b.records);
            a->pending = 0;
            break; /* nothing complete to send */
        }
        int sent = 0;
        if (json_array_size(b.records) > 0) {
            if (a->pending == 0) {
                a->pending = b.end;
                if (save_state(a) != 0) { /* before the batch leaves: a restart resends it */
                    rc = EXIT_USAGE;
                    json_decref(b.by_key);
                    json_decref(b.records);
                    break;
                }
            }
            char id[64];
            snprintf(id, sizeof id, "u%08" PRIx32 "-%" PRIx64 "-%" PRIx64 "-%" PRIx64, a->epoch,
                     ino, a->offset, b.end);
            sent = send_batch(a, id, b.records);
        }
        json_decref(b.by_key);
        json_decref(b.records);
        if (sent == -1 || sent == AGENT_REFUSED) {
            rc = sent;
            break;
        }
        if (sent == 1)
            a->skipped += b.lines;
        else
            a->sent_lines += b.lines;
        a->offset = b.end;
        a->pending = 0;
        if (a->head_len < HEAD_MAX && a->offset > a->head_len) {
            uint64_t n = a->offset < HEAD_MAX ? a->offset : HEAD_MAX;
            if (head_hash(f, n, &a->head) == 0)
                a->head_len = n;
        }
        if (save_state(a) != 0) {
            rc = EXIT_USAGE;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* One round: the rest of a rotated file first, then the current one. */
static int round_once(agent *a)
{
    struct stat sb;
    if (stat(a->log_path, &sb) != 0)
        return 0; /* no log yet */
    uint64_t ino = (uint64_t)sb.st_ino;
    if (a->ino == 0) {
        restart_at_zero(a, ino);
    } else if (a->ino != ino) {
        char rotated[4200];
        snprintf(rotated, sizeof rotated, "%s.1", a->log_path);
        struct stat old;
        if (stat(rotated, &old) == 0 && (uint64_t)old.st_ino == a->ino) {
            int rc = drain(a, rotated, a->ino);
            if (rc != 0)
                return rc;
        } else {
            say("%s was rotated and its old file is not at %s: starting the new one", a->log_path,
                rotated);
        }
        restart_at_zero(a, ino);
        if (save_state(a) != 0)
            return EXIT_USAGE;
    }
    return drain(a, a->log_path, ino);
}

static const char usage_usage[] =
    "Usage: jwtgate gateway usage --url URL [--url URL ...] --credential FILE --log FILE\n"
    "                             --state FILE [--interval SECONDS] [--once]\n"
    "Report the AI module's usage log (FILE, one JSON line a request) to jwtgated's\n"
    "POST /gateway/v1/usage, summed per minute, with the gateway's credential (jwtgate\n"
    "admin gateway create) and failover between the URLs. --state keeps the position\n"
    "(written atomically; a batch's id is its place in the log, so a restart that sends a\n"
    "batch again is counted once). Rotation (a new file at FILE; the old one read to its\n"
    "end at FILE.1) and truncation are followed; malformed lines are skipped and counted.\n"
    "Reads every --interval seconds (default 10) until SIGTERM/SIGINT; --once sends what\n"
    "is there and exits.\n"
    "Exit status: 0 sent (or a clean stop), 2 usage or setup, 3 every node unreachable\n"
    "(--once; the state is kept), 4 the credential was refused (401).\n"
    "\n"
    "Example:\n"
    "  jwtgate gateway usage --url https://cp1:8443 --credential /etc/jwtgate/edge-1.json \\\n"
    "      --log /var/log/nginx/jwtgate-usage.log --state /var/lib/jwtgate/usage.state\n";

static void sleep_interruptible(double seconds)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
    for (long ticks = (long)(seconds * 10); ticks > 0 && !stop_flag; ticks--)
        nanosleep(&ts, NULL);
}

int cli_gateway_usage(int argc, char **argv)
{
    agent a = {.interval = 10};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(usage_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(o, "--once") == 0) {
            a.once = 1;
        } else if (i + 1 >= argc) {
            return cli_usage("gateway usage", "unknown option or missing value: %s", o);
        } else if (strcmp(o, "--url") == 0) {
            if (a.nurls == MAX_URLS)
                return cli_usage("gateway usage", "at most %d --url", MAX_URLS);
            a.urls[a.nurls++] = argv[++i];
        } else if (strcmp(o, "--credential") == 0) {
            a.cred_path = argv[++i];
        } else if (strcmp(o, "--log") == 0) {
            a.log_path = argv[++i];
        } else if (strcmp(o, "--state") == 0) {
            a.state_path = argv[++i];
        } else if (strcmp(o, "--interval") == 0) {
            uint64_t n = 0;
            if (cli_parse_uint("gateway usage", "--interval", argv[++i], 3600, &n) != EXIT_OK)
                return EXIT_USAGE;
            a.interval = n > 0 ? (long)n : 1;
        } else {
            return cli_usage("gateway usage", "unknown option: %s", o);
        }
    }
    if (a.nurls == 0 || a.cred_path == NULL || a.log_path == NULL || a.state_path == NULL)
        return cli_usage("gateway usage", "--url, --credential, --log and --state are required");
    size_t len = 0;
    char *text = cli_read_file(a.cred_path, &len, 0);
    a.cred = text != NULL ? json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (text != NULL)
        jg_free_secret(text, len);
    a.credential = json_string_value(json_object_get(a.cred, "credential"));
    int status = EXIT_USAGE;
    if (a.credential == NULL) {
        say("%s: not a gateway credential file (jwtgate admin gateway create)", a.cred_path);
        goto out;
    }
    if (load_state(&a) != 0)
        goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    double backoff = 1;
    while (!stop_flag) {
        int rc = round_once(&a);
        if (rc == EXIT_USAGE || rc == AGENT_REFUSED) {
            status = rc;
            goto out;
        }
        if (a.once) {
            status = rc == 0 ? EXIT_OK : AGENT_UNREACHABLE;
            if (rc != 0)
                say("every node is unreachable; the state is kept (offset %" PRIu64 ")", a.offset);
            goto out;
        }
        if (rc == 0) {
            backoff = 1;
            sleep_interruptible((double)a.interval);
        } else {
            sleep_interruptible(backoff);
            backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
        }
    }
    status = EXIT_OK;
out:
    if (a.sent_lines || a.skipped)
        say("%lu lines reported, %lu skipped", a.sent_lines, a.skipped);
    if (a.credential != NULL)
        jg_memzero((char *)a.credential, strlen(a.credential));
    json_decref(a.cred);
    return status;
}
