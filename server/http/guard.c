/* guard.c — per-address connection limit and request deadlines (see guard.h). */
#include "server/http/guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "server/core/log.h"
#include "server/core/util.h"

#define BUCKETS 1024

typedef struct conn_entry {
    struct conn_entry *prev, *next;
    int fd;
    net_addr peer;
    int counted; /* holds one of its address's connection slots */
    int waiting; /* a request is being received: the deadline applies */
    int cut;     /* shut down once already */
    double deadline;
} conn_entry;

typedef struct ip_count {
    struct ip_count *next;
    net_addr addr;
    unsigned n;
} ip_count;

struct guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t reaper;
    int running, stopping;
    net_cidrs trusted;
    unsigned max_per_ip;
    double timeout;
    conn_entry *head;
    ip_count *buckets[BUCKETS];
    atomic_ulong refused, cut;
    double last_cut_log;
    unsigned long cut_since_log;
};

static size_t bucket_of(const net_addr *a)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof a->b; i++)
        h = (h ^ a->b[i]) * 1099511628211ull;
    return (size_t)(h % BUCKETS);
}

static ip_count **find_count(guard *g, const net_addr *a)
{
    ip_count **p = &g->buckets[bucket_of(a)];
    while (*p != NULL && memcmp((*p)->addr.b, a->b, sizeof a->b) != 0)
        p = &(*p)->next;
    return p;
}

guard *guard_new(const net_cidrs *trusted, unsigned max_per_ip, unsigned request_timeout)
{
    guard *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (trusted != NULL)
        g->trusted = *trusted;
    g->max_per_ip = max_per_ip;
    g->timeout = request_timeout;
    return g;
}

int guard_accept(guard *g, const struct sockaddr *addr, socklen_t len)
{
    (void)len;
    net_addr a;
    if (g->max_per_ip == 0 || net_from_sockaddr(addr, &a) != 0 || net_match(&g->trusted, &a))
        return MHD_YES;
    pthread_mutex_lock(&g->mu);
    ip_count *c = *find_count(g, &a);
    int ok = c == NULL || c->n < g->max_per_ip;
    pthread_mutex_unlock(&g->mu);
    if (!ok)
        atomic_fetch_add_explicit(&g->refused, 1, memory_order_relaxed);
    return ok ? MHD_YES : MHD_NO;
}

void guard_opened(guard *g, struct MHD_Connection *conn, void **socket_context)
{
    conn_entry *e = calloc(1, sizeof *e);
    *socket_context = e;
    if (e == NULL)
        return; /* unguarded, but served: the idle timeout still applies */
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ca =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    e->fd = fd != NULL ? fd->connect_fd : -1;
    int have_addr = ca != NULL && net_from_sockaddr(ca->client_addr, &e->peer) == 0;
    e->waiting = 1;
    e->deadline = sv_mono() + g->timeout;
    int over = 0;
    pthread_mutex_lock(&g->mu);
    if (have_addr && g->max_per_ip > 0 && !net_match(&g->trusted, &e->peer)) {
        ip_count **p = find_count(g, &e->peer);
        if (*p == NULL && (*p = calloc(1, sizeof **p)) != NULL)
            (*p)->addr = e->peer;
        /* The firm check: guard_accept() only looked, and libmicrohttpd's
         * pool threads accept in parallel, so two connections from one
         * address can both pass it with one slot left. The count and the
         * check are one step here, under the mutex. */
        if (*p != NULL && (*p)->n >= g->max_per_ip)
            over = 1;
        else if (*p != NULL) {
            (*p)->n++;
            e->counted = 1;
        }
    }
    e->next = g->head;
    if (g->head != NULL)
        g->head->prev = e;
    g->head = e;
    if (over && e->fd >= 0) {
        /* Refused after all: libmicrohttpd reads the end and closes it
         * (guard_closed() then finds it uncounted). Under the mutex, as the
         * reaper's shutdown, so the descriptor is still this connection's. */
        shutdown(e->fd, SHUT_RDWR);
        e->cut = 1;
    }
    pthread_mutex_unlock(&g->mu);
    if (over)
        atomic_fetch_add_explicit(&g->refused, 1, memory_order_relaxed);
}

void guard_closed(guard *g, void **socket_context)
{
    conn_entry *e = *socket_context;
    *socket_context = NULL;
    if (e == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        g->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    if (e->counted) {
        ip_count **p = find_count(g, &e->peer);
        if (*p != NULL && --(*p)->n == 0) {
            ip_count *dead = *p;
            *p = dead->next;
            free(dead);
        }
    }
    pthread_mutex_unlock(&g->mu);
    free(e);
}

void guard_received(guard *g, void *socket_context)
{
    conn_entry *e = socket_context;
    if (e == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    e->waiting = 0;
    pthread_mutex_unlock(&g->mu);
}

void guard_answered(guard *g, void *socket_context)
{
    conn_entry *e = socket_context;
    if (e == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    e->waiting = 1;
    e->deadline = sv_mono() + g->timeout;
    pthread_mutex_unlock(&g->mu);
}

/* Shut down every connection past its deadline; log a summary at most
 * every ten seconds, so an attack cannot flood the log. */
static void reap(guard *g)
{
    double now = sv_mono();
    unsigned long n = 0;
    for (conn_entry *e = g->head; e != NULL; e = e->next) {
        if (e->waiting && !e->cut && e->deadline < now && e->fd >= 0) {
            shutdown(e->fd, SHUT_RDWR);
            e->cut = 1;
            n++;
        }
    }
    if (n > 0) {
        atomic_fetch_add_explicit(&g->cut, n, memory_order_relaxed);
        g->cut_since_log += n;
    }
    if (g->cut_since_log > 0 && now - g->last_cut_log >= 10) {
        log_msg(L_WARN,
                "http: closed %lu connection(s) that did not send a whole request within %.0f s",
                g->cut_since_log, g->timeout);
        g->cut_since_log = 0;
        g->last_cut_log = now;
    }
}

static void *reaper_main(void *arg)
{
    guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (!g->stopping)
            reap(g);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int guard_start(guard *g)
{
    if (g->timeout <= 0)
        return 0;
    if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0)
        return -1;
    g->running = 1;
    return 0;
}

void guard_stop(guard *g)
{
    if (g == NULL || !g->running)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->reaper, NULL);
    g->running = 0;
}

void guard_free(guard *g)
{
    if (g == NULL)
        return;
    guard_stop(g);
    for (size_t i = 0; i < BUCKETS; i++) {
        ip_count *c = g->buckets[i];
        while (c != NULL) {
            ip_count *next = c->next;
            free(c);
            c = next;
        }
    }
    /* Entries left are those of connections libmicrohttpd never reported
     * closed (it reports all on stop): nothing should remain. */
    while (g->head != NULL) {
        conn_entry *next = g->head->next;
        free(g->head);
        g->head = next;
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

unsigned long guard_refused(guard *g)
{
    return g != NULL ? atomic_load(&g->refused) : 0;
}

unsigned long guard_cut(guard *g)
{
    return g != NULL ? atomic_load(&g->cut) : 0;
}
