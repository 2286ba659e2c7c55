/* gateway.c — the snapshot for remote gateways, its cache and the long poll (see gateway.h). */
#include "server/gateway/gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/oauth/throttle.h"

/* Encrypted bodies kept: one per gateway, of the newest version only (a new
 * snapshot drops the others), at most this many bytes in all (a 16 MB
 * snapshot makes a 29 MB body); past it the least recently used is dropped
 * and made again on that gateway's next poll. */
#define GATEWAY_CACHE_BYTES ((size_t)256 << 20)
/* The credential: "jgw_<id>.<secret>"; the id picks the row, the secret's
 * hash is compared in constant time (as client secrets are). */
#define CREDENTIAL_MAX 160

/* One published snapshot: shared by the requests that serve it. */
typedef struct gw_snap {
    atomic_int refs;
    int64_t version;
    uint8_t identity[16];
    char etag[64]; /* "\"<db_id hex>-<version>\"" */
    uint8_t *data; /* the compiled snapshot (holds private keys) */
    size_t len;
    jg_jwk *sign_key; /* the view's active signing key (a reference) */
    char *jws;        /* made once, on first use, under the build mutex */
    size_t jws_len;
} gw_snap;

/* One gateway's encrypted body of one version. */
typedef struct gw_body {
    atomic_int refs;
    struct gw_body *next; /* the cache list, most recently used first */
    int64_t version;
    char gateway_id[64];
    char *data;
    size_t len;
} gw_body;

/* A suspended long poll. */
typedef struct gw_waiter {
    struct gw_waiter *next;
    request *r;
    double deadline; /* sv_mono() */
} gw_waiter;

typedef struct gateway_hub {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the timer thread: a new waiter, or stop */
    gw_snap *snap;     /* the newest published snapshot */
    gw_waiter *waiters;
    unsigned long nwaiting;
    int stopping, stop_thread;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t build_mu; /* making a JWS or a body: once per version */
    gw_body *cache;
    size_t cache_bytes;
} gateway_hub;

/* The per-request state a long poll keeps across its suspension. */
typedef struct gw_req {
    double deadline; /* sv_mono() at which a long poll answers 304 */
} gw_req;

static void snap_release(gw_snap *s)
{
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    jg_free_secret(s->data, s->len);
    if (s->jws != NULL)
        jg_free_secret(s->jws, s->jws_len); /* the snapshot, base64url: private keys */
    jg_jwk_free(s->sign_key);
    free(s);
}

static void body_release(void *p)
{
    gw_body *b = p;
    if (b == NULL || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    free(b->data); /* ciphertext: nothing to wipe */
    free(b);
}

static void deadline_at(struct timespec *ts, double mono_deadline)
{
    double wait = mono_deadline - sv_mono();
    if (wait < 0)
        wait = 0;
    if (wait > 1)
        wait = 1; /* look again every second at most */
    clock_gettime(CLOCK_MONOTONIC, ts);
    long ns = (long)((wait - (double)(long)wait) * 1e9);
    ts->tv_sec += (time_t)wait;
    ts->tv_nsec += ns;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Resume the waiters that `all` says (or whose deadline passed); hub locked. */
static void resume_locked(gateway_hub *h, int all)
{
    double now = sv_mono();
    gw_waiter **p = &h->waiters;
    while (*p != NULL) {
        gw_waiter *w = *p;
        if (all || now >= w->deadline) {
            *p = w->next;
            h->nwaiting--;
            http_resume(w->r);
            free(w);
        } else {
            p = &w->next;
        }
    }
}

/* The timer thread: answers the long polls that reached their deadline. */
static void *run(void *arg)
{
    gateway_hub *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop_thread) {
        resume_locked(h, 0);
        double next = sv_mono() + 1;
        for (const gw_waiter *w = h->waiters; w != NULL; w = w->next)
            if (w->deadline < next)
                next = w->deadline;
        struct timespec ts;
        deadline_at(&ts, next);
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int gateway_start(jgd *d)
{
    gateway_hub *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0 || pthread_mutex_init(&h->mu, NULL) != 0 ||
        pthread_mutex_init(&h->build_mu, NULL) != 0) {
        free(h);
        log_msg(L_ERR, "gateway: cannot start the snapshot hub");
        return -1;
    }
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        log_msg(L_ERR, "gateway: cannot start the long-poll timer thread");
        free(h);
        return -1;
    }
    h->thread_started = 1;
    d->gw = h;
    return 0;
}

void gateway_stop(jgd *d)
{
    gateway_hub *h = d->gw;
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    resume_locked(h, 1);
    pthread_mutex_unlock(&h->mu);
}

void gateway_free(jgd *d)
{
    gateway_hub *h = d->gw;
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop_thread = 1;
    h->stopping = 1;
    resume_locked(h, 1);
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->thread_started)
        pthread_join(h->thread, NULL);
    snap_release(h->snap);
    for (gw_body *b = h->cache, *next; b != NULL; b = next) {
        next = b->next;
        body_release(b);
    }
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->build_mu);
    free(h);
    d->gw = NULL;
}

void gateway_published(jgd *d, const view *v, uint8_t *data, size_t len)
{
    gateway_hub *h = d->gw;
    gw_snap *s = h != NULL && v->sign_key != NULL ? calloc(1, sizeof *s) : NULL;
    if (s == NULL) {
        jg_free_secret(data, len);
        return;
    }
    atomic_init(&s->refs, 1);
    s->version = v->version;
    memcpy(s->identity, v->identity, sizeof s->identity);
    char hex[33];
    for (size_t i = 0; i < sizeof s->identity; i++)
        snprintf(hex + 2 * i, 3, "%02x", s->identity[i]);
    snprintf(s->etag, sizeof s->etag, "\"%s-%lld\"", hex, (long long)s->version);
    s->data = data;
    s->len = len;
    s->sign_key = jg_jwk_ref(v->sign_key);
    int64_t version = s->version; /* s is the hub's once installed */
    pthread_mutex_lock(&h->mu);
    gw_snap *old = h->snap;
    if (old != NULL && old->version >= s->version) {
        pthread_mutex_unlock(&h->mu);
        snap_release(s);
        return;
    }
    h->snap = s;
    resume_locked(h, 1); /* each re-checks: 200 with the new version */
    pthread_mutex_unlock(&h->mu);
    snap_release(old);
    /* Bodies of older versions will never be served again (a gateway gets
     * the newest); responses still sending one hold their own reference. */
    pthread_mutex_lock(&h->build_mu);
    for (gw_body **p = &h->cache; *p != NULL;) {
        gw_body *b = *p;
        if (b->version < version) {
            *p = b->next;
            h->cache_bytes -= b->len;
            body_release(b);
        } else {
            p = &b->next;
        }
    }
    pthread_mutex_unlock(&h->build_mu);
}

unsigned long gateway_waiting(jgd *d)
{
    gateway_hub *h = d->gw;
    if (h == NULL)
        return 0;
    pthread_mutex_lock(&h->mu);
    unsigned long n = h->nwaiting;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* ---- The request ------------------------------------------------------------------ */

static void refuse(request *r, const char *error, const char *description)
{
    atomic_fetch_add_explicit(&r->d->m.gateway_refused, 1, memory_order_relaxed);
    json_t *doc = json_pack("{ss ss}", "error", error, "error_description", description);
    http_json_new(r, 401, doc);
    char challenge[160];
    snprintf(challenge, sizeof challenge, "Bearer realm=\"jwtgated-gateway\", error=\"%s\"", error);
    http_set_header(r, "WWW-Authenticate", challenge);
    http_set_header(r, "Cache-Control", "no-store");
}

/* The gateway row of the request's credential, or NULL (answered). */
json_t *gateway_authenticate(request *r)
{
    jgd *d = r->d;
    const char *auth = http_req_header(r, "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
        json_t *doc = json_pack("{ss}", "error", "invalid_request");
        http_json_new(r, 401, doc);
        http_set_header(r, "WWW-Authenticate", "Bearer realm=\"jwtgated-gateway\"");
        atomic_fetch_add_explicit(&d->m.gateway_refused, 1, memory_order_relaxed);
        return NULL;
    }
    const char *cred = auth + 7;
    while (*cred == ' ')
        cred++;
    char id[64];
    const char *secret = NULL;
    if (gateway_credential_split(cred, id, sizeof id, &secret) != 0) {
        refuse(r, "invalid_token", "the gateway credential was refused");
        return NULL;
    }
    double now = sv_mono();
    double wait = throttle_blocked(d->throttle, id, r->client_ip, now);
    if (wait > 0) {
        char secs[32];
        snprintf(secs, sizeof secs, "%.0f", wait < 1 ? 1 : wait + 0.5);
        http_problem(r, 429, NULL, "too many failed gateway authentications; try again later");
        http_set_header(r, "Retry-After", secs);
        return NULL;
    }
    char hash[44];
    if (sv_hash_b64(secret, strlen(secret), hash) != 0) {
        http_problem(r, 500, NULL, "cannot hash the credential");
        return NULL;
    }
    store_tx *tx = NULL;
    json_t *row = NULL;
    store_err err = store_begin(d->st, 0, &tx);
    if (err == ST_OK) {
        err = st_get_id(tx, T_GATEWAYS, id, &row);
        store_rollback(tx);
    }
    if (err != ST_OK && err != ST_NOT_FOUND) {
        http_problem(r, 503, NULL, "the store is unavailable");
        http_set_header(r, "Retry-After", "1");
        return NULL;
    }
    const char *stored = json_string_value(json_object_get(row, "hash"));
    const char *state = json_string_value(json_object_get(row, "state"));
    /* The hash is compared even for an unknown id, so timing tells nothing. */
    static const char zero[44] = "0000000000000000000000000000000000000000000";
    int ok = jg_memeq_consttime(stored != NULL && strlen(stored) == 43 ? stored : zero, hash, 43);
    ok &= row != NULL && state != NULL && strcmp(state, "active") == 0;
    if (!ok) {
        throttle_failure(d->throttle, id, r->client_ip, now);
        json_decref(row);
        refuse(r, "invalid_token", "the gateway credential was refused");
        return NULL;
    }
    throttle_success(d->throttle, id, r->client_ip);
    return row;
}

int gateway_credential_split(const char *credential, char *id, size_t id_len, const char **secret)
{
    size_t n = strlen(credential);
    const char *dot = memchr(credential, '.', n);
    if (n > CREDENTIAL_MAX || dot == NULL || strncmp(credential, "jgw_", 4) != 0 ||
        (size_t)(dot - credential) >= id_len || dot[1] == '\0')
        return -1;
    /* the id is base64url (sv_new_id): anything else cannot name a row */
    for (const char *p = credential + 4; p < dot; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return -1;
    memcpy(id, credential, (size_t)(dot - credential));
    id[dot - credential] = '\0';
    *secret = dot + 1;
    return 0;
}

int gateway_etag_matches(const char *inm, const char *etag)
{
    if (inm == NULL)
        return 0;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ", \t");
        if (n == elen && memcmp(p, etag, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

static gw_snap *current(gateway_hub *h)
{
    pthread_mutex_lock(&h->mu);
    gw_snap *s = h->snap;
    if (s != NULL)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&h->mu);
    return s;
}

/* The signed snapshot (once per version). Build mutex held. 0 or -1. */
static int sign_locked(gw_snap *s)
{
    if (s->jws != NULL)
        return 0;
    jg_jws_signer signer = {.key = s->sign_key,
                            .protected_json = "{\"typ\":\"jwtgate-snapshot+jws\"}"};
    jg_err err = jg_jws_sign(s->data, s->len, &signer, NULL, &s->jws, &s->jws_len);
    if (err != JG_OK)
        log_msg(L_ERR, "gateway: cannot sign the snapshot: %s", jg_strerror(err));
    return err == JG_OK ? 0 : -1;
}

/* The body for gateway `row` and snapshot `s`, from the cache or made now;
 * a reference the caller releases. NULL on failure (logged). */
static gw_body *body_for(jgd *d, gateway_hub *h, gw_snap *s, const json_t *row)
{
    const char *id = json_string_value(json_object_get(row, "id"));
    pthread_mutex_lock(&h->build_mu);
    gw_body **p = &h->cache, *found = NULL;
    for (; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->gateway_id, id) == 0) {
            found = *p;
            *p = found->next; /* taken out: back in front, or replaced */
            h->cache_bytes -= found->len;
            break;
        }
    }
    if (found != NULL && found->version != s->version) {
        body_release(found);
        found = NULL;
    }
    double t0 = sv_mono(); /* the first body of a version includes the signature */
    if (found == NULL && sign_locked(s) == 0) {
        char *jwk_text = json_dumps(json_object_get(row, "jwk"), JSON_COMPACT);
        jg_jwk *key = NULL;
        char kid[44] = "";
        jg_err err =
            jwk_text != NULL ? jg_jwk_parse(jwk_text, strlen(jwk_text), 0, &key) : JG_ERR_NOMEM;
        free(jwk_text);
        if (err == JG_OK)
            err = jg_jwk_thumbprint_b64(key, kid);
        char protected_json[96];
        snprintf(protected_json, sizeof protected_json,
                 "{\"kid\":\"%s\",\"cty\":\"jwtgate-snapshot+jws\"}", kid);
        jg_jwe_recipient rcpt = {.key = key, .alg = JG_ALG_ECDH_ES_A256KW};
        jg_jwe_encrypt_opts opts = {.enc = JG_ENC_A256GCM, .protected_json = protected_json};
        char *out = NULL;
        size_t out_len = 0;
        if (err == JG_OK)
            err = jg_jwe_encrypt(s->jws, s->jws_len, &rcpt, 1, &opts, &out, &out_len);
        jg_jwk_free(key);
        found = err == JG_OK ? calloc(1, sizeof *found) : NULL;
        if (found != NULL) {
            atomic_init(&found->refs, 1);
            found->version = s->version;
            snprintf(found->gateway_id, sizeof found->gateway_id, "%s", id);
            /* jg_free and free are the same allocator only by accident:
             * copy into our own buffer once, the response frees it. */
            found->data = malloc(out_len + 1);
            if (found->data == NULL) {
                free(found);
                found = NULL;
            } else {
                memcpy(found->data, out, out_len + 1);
                found->len = out_len;
            }
        } else {
            log_msg(L_ERR, "gateway: cannot encrypt the snapshot for %s: %s", id, jg_strerror(err));
        }
        jg_free(out);
        if (found != NULL) {
            atomic_fetch_add_explicit(&d->m.gateway_encryptions, 1, memory_order_relaxed);
            atomic_store_explicit(&d->m.gateway_encrypt_us, (unsigned long)((sv_mono() - t0) * 1e6),
                                  memory_order_relaxed);
        }
    }
    if (found != NULL) {
        /* the least recently used go first while the cache is over its bound */
        while (h->cache != NULL && h->cache_bytes + found->len > GATEWAY_CACHE_BYTES) {
            gw_body **q = &h->cache;
            while ((*q)->next != NULL)
                q = &(*q)->next;
            h->cache_bytes -= (*q)->len;
            body_release(*q);
            *q = NULL;
        }
        found->next = h->cache; /* in front: the most recently used */
        h->cache = found;
        h->cache_bytes += found->len;
        atomic_fetch_add(&found->refs, 1); /* the caller's */
    }
    pthread_mutex_unlock(&h->build_mu);
    return found;
}

/* Suspend `r` until a newer snapshot or its deadline: 1 if suspended, 0
 * out of memory (answered at once), -1 the service is stopping. */
static int wait_for_change(gateway_hub *h, request *r, gw_req *g)
{
    gw_waiter *w = calloc(1, sizeof *w);
    if (w == NULL)
        return 0;
    w->r = r;
    w->deadline = g->deadline;
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        free(w);
        return -1;
    }
    /* Suspended before the waiter is visible: a publish cannot resume a
     * connection that is not suspended yet (libmicrohttpd forbids it). */
    http_suspend(r);
    w->next = h->waiters;
    h->waiters = w;
    h->nwaiting++;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return 1;
}

static void free_greq(void *p)
{
    free(p);
}

void gateway_snapshot(request *r)
{
    jgd *d = r->d;
    gateway_hub *h = d->gw;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        http_problem(r, 405, NULL, "use GET");
        http_set_header(r, "Allow", "GET, HEAD");
        return;
    }
    gw_req *g = r->ext;
    if (g == NULL) { /* first time through (not a resumed long poll) */
        long wait = 0;
        const char *ws = http_query(r, "wait");
        if (ws != NULL) {
            char *end = NULL;
            errno = 0;
            wait = strtol(ws, &end, 10);
            if (*ws == '\0' || *end != '\0' || errno != 0 || wait < 0 || wait > GATEWAY_MAX_WAIT) {
                http_problem(r, 400, NULL, "\"wait\" must be a number of seconds from 0 to 60");
                return;
            }
        }
        g = calloc(1, sizeof *g);
        if (g == NULL) {
            http_problem(r, 500, NULL, "out of memory");
            return;
        }
        g->deadline = sv_mono() + (double)wait;
        r->ext = g;
        r->ext_free = free_greq;
    }
    /* Authenticated on every pass: a credential revoked during a long poll
     * (a change, so the poll is woken) is refused at once. */
    json_t *row = gateway_authenticate(r);
    if (row == NULL)
        return;
    gw_snap *s = h != NULL ? current(h) : NULL;
    if (s == NULL) {
        json_decref(row);
        http_problem(r, 503, NULL, "no snapshot has been published yet");
        http_set_header(r, "Retry-After", "1");
        return;
    }
    if (gateway_etag_matches(http_req_header(r, "If-None-Match"), s->etag)) {
        int waiting = sv_mono() < g->deadline ? wait_for_change(h, r, g) : 0;
        if (waiting == 1) {
            /* answered when resumed */
        } else if (waiting == -1) {
            http_problem(r, 503, NULL, "the service is stopping");
            http_set_header(r, "Retry-After", "1");
        } else {
            atomic_fetch_add_explicit(&d->m.gateway_not_modified, 1, memory_order_relaxed);
            http_body(r, 304, "application/jose", strdup(""), 0);
            http_set_header(r, "ETag", s->etag);
            http_set_header(r, "Cache-Control", "no-cache");
        }
        snap_release(s);
        json_decref(row);
        return;
    }
    gw_body *b = body_for(d, h, s, row);
    json_decref(row);
    if (b == NULL) {
        http_problem(r, 500, NULL, "cannot prepare the snapshot");
    } else {
        atomic_fetch_add_explicit(&d->m.gateway_snapshots, 1, memory_order_relaxed);
        http_body_shared(r, 200, "application/jose", b->data, b->len, body_release, b);
        http_set_header(r, "ETag", s->etag);
        http_set_header(r, "Cache-Control", "no-cache");
    }
    snap_release(s);
}
