/* publisher.c — the snapshot writer's thread (see publisher.h). */
#define _GNU_SOURCE /* gettid() */
#include "server/snapshot/publisher.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/snapshot/snapshot.h"

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Write the newest view's snapshot if it is newer than the one on disk (or
 * the last write failed). Returns 0 when nothing is left to do. */
static int publish_once(jgd *d)
{
    view *v = view_acquire(d);
    if (v == NULL)
        return 0;
    int rc = 0;
    if (v->version != atomic_load(&d->published_version) || !atomic_load(&d->snapshot_ok)) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int was_ok = atomic_load(&d->snapshot_ok);
        rc = snapshot_write(d, v);
        double took = seconds_since(&t0);
        atomic_store(&d->snapshot_ok, rc == 0);
        if (rc == 0 && !was_ok && atomic_load(&d->m.snapshot_write_failures) > 0)
            log_msg(L_INFO, "snapshot: written again; the gateways can catch up");
        atomic_fetch_add_explicit(&d->m.snapshot_writes, 1, memory_order_relaxed);
        atomic_store_explicit(&d->m.snapshot_write_us, (unsigned long)(took * 1e6),
                              memory_order_relaxed);
        if (rc == -1)
            atomic_fetch_add_explicit(&d->m.snapshot_write_failures, 1, memory_order_relaxed);
        else if (rc == 0 && took > 1.0)
            log_msg(L_INFO, "snapshot: version %lld written in %.1f s", (long long)v->version,
                    took);
    }
    view_release(v);
    /* -2 (older than the published one) is not retried: a restore by hand
     * needs an operator (logged by snapshot_write, reported by /readyz). */
    return rc == -1 ? -1 : 0;
}

/* The writer is background work: building a large snapshot takes a core for
 * a few hundred milliseconds, and requests (this process's, and a gateway's
 * on the same host) should not wait behind it. Nice 10 gives it about a
 * tenth of a contended core and all of an idle one. */
#define PUBLISHER_NICE 10

static void *run(void *arg)
{
    jgd *d = arg;
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), PUBLISHER_NICE) != 0)
        log_msg(L_WARN, "snapshot: cannot lower the publisher's priority: %s", strerror(errno));
    pthread_mutex_lock(&d->pub_mu);
    for (;;) {
        while (!d->pub_pending && !d->pub_stop)
            pthread_cond_wait(&d->pub_cv, &d->pub_mu);
        if (!d->pub_pending && d->pub_stop)
            break;
        /* Let a burst of changes gather (a stop cuts the wait short). */
        if (!d->pub_stop && !d->pub_flush && d->cfg.publish_delay_ms > 0) {
            struct timespec until;
            deadline_in(&until, (long)d->cfg.publish_delay_ms);
            while (!d->pub_stop && !d->pub_flush &&
                   pthread_cond_timedwait(&d->pub_cv, &d->pub_mu, &until) != ETIMEDOUT)
                ;
        }
        d->pub_pending = 0;
        d->pub_busy = 1;
        pthread_mutex_unlock(&d->pub_mu);
        int failed = publish_once(d) != 0;
        pthread_mutex_lock(&d->pub_mu);
        d->pub_busy = 0;
        pthread_cond_broadcast(&d->pub_done_cv);
        if (failed && !d->pub_stop) {
            /* try again in a second, or sooner when kicked */
            struct timespec until;
            deadline_in(&until, 1000);
            while (!d->pub_pending && !d->pub_stop &&
                   pthread_cond_timedwait(&d->pub_cv, &d->pub_mu, &until) != ETIMEDOUT)
                ;
            d->pub_pending = 1;
        }
        if (d->pub_stop && !d->pub_pending)
            break;
        if (d->pub_stop && failed)
            break; /* do not loop on a failing disk at exit */
    }
    d->pub_pending = 0;
    pthread_cond_broadcast(&d->pub_done_cv);
    pthread_mutex_unlock(&d->pub_mu);
    return NULL;
}

int publisher_start(jgd *d)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&d->pub_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0 || pthread_cond_init(&d->pub_done_cv, NULL) != 0 ||
        pthread_mutex_init(&d->pub_mu, NULL) != 0) {
        log_msg(L_ERR, "snapshot: cannot start the publisher");
        return -1;
    }
    d->pub_pending = 0;
    d->pub_busy = 0;
    d->pub_stop = 0;
    if (pthread_create(&d->pub_thread, NULL, run, d) != 0) {
        log_msg(L_ERR, "snapshot: cannot start the publisher thread");
        return -1;
    }
    d->pub_started = 1;
    return 0;
}

void publisher_kick(jgd *d)
{
    if (!d->pub_started)
        return;
    pthread_mutex_lock(&d->pub_mu);
    d->pub_pending = 1;
    pthread_cond_signal(&d->pub_cv);
    pthread_mutex_unlock(&d->pub_mu);
}

void publisher_flush(jgd *d)
{
    if (!d->pub_started)
        return;
    pthread_mutex_lock(&d->pub_mu);
    d->pub_flush = 1; /* no gathering: write now */
    pthread_cond_signal(&d->pub_cv);
    while (d->pub_pending || d->pub_busy)
        pthread_cond_wait(&d->pub_done_cv, &d->pub_mu);
    d->pub_flush = 0;
    pthread_mutex_unlock(&d->pub_mu);
}

void publisher_stop(jgd *d)
{
    if (!d->pub_started)
        return;
    pthread_mutex_lock(&d->pub_mu);
    d->pub_stop = 1;
    pthread_cond_signal(&d->pub_cv);
    pthread_mutex_unlock(&d->pub_mu);
    pthread_join(d->pub_thread, NULL);
    d->pub_started = 0;
    pthread_cond_destroy(&d->pub_cv);
    pthread_cond_destroy(&d->pub_done_cv);
    pthread_mutex_destroy(&d->pub_mu);
}
