/*
 * bench.h — the timing harness every benchmark program shares (header only,
 * so each program links with nothing but its own library).
 *
 * A program measures "cells" (one operation of one library) and prints one
 * line per cell on stdout, which bench/run.py reads:
 *
 *   OK   <op> <ns per op> <note>     the operation ran and every call succeeded
 *   NA   <op> <why>                  the library cannot do it
 *   FAIL <op> <why>                  a call failed: never reported as speed
 *
 * Timing: one checked call, a warm-up, then BENCH_RUNS runs of about
 * BENCH_TIME seconds of CPU time each (environment; defaults 5 and 0.12); the
 * median run is reported. Cells with several threads use the wall clock. Every timed call's result
 * is checked: the callback returns 0 only when the operation succeeded (signature verified,
 * plaintext equal).
 *
 * The workload is a realistic RFC 9068 access token, the same for everyone.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The operation under test: 0 on success, anything else is a failure. */
typedef int (*bench_fn)(void *ctx);

/* Wall-clock seconds (for throughput across threads). */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * CPU seconds of the calling thread. Single-threaded cells are timed with
 * this, so that time the machine spends on other processes (it is shared)
 * does not count against whichever library happened to be running.
 */
static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double bench_env(const char *name, double fallback)
{
    const char *v = getenv(name);
    double d = v != NULL ? strtod(v, NULL) : 0.0;
    return d > 0.0 ? d : fallback;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Run `fn` for about `seconds`, in batches so the clock is read rarely.
 * Returns ns per call, or a negative value when a call failed.
 */
static inline double bench_timed(bench_fn fn, void *ctx, double seconds)
{
    uint64_t done = 0, batch = 1;
    double start = bench_cpu(), now = start;
    while (now - start < seconds) {
        for (uint64_t i = 0; i < batch; i++)
            if (fn(ctx) != 0)
                return -1.0;
        done += batch;
        now = bench_cpu();
        /* Grow the batch until one takes about a millisecond. */
        if ((now - start) < 0.001 * (double)done / (double)batch && batch < (1u << 20))
            batch *= 2;
    }
    return (now - start) * 1e9 / (double)done;
}

/* Whether a cell is wanted: BENCH_ONLY (environment), when set, names the
 * only cell to run (for profiling one operation: perf, callgrind). */
static inline int bench_wanted(const char *op)
{
    const char *only = getenv("BENCH_ONLY");
    return only == NULL || *only == '\0' || strcmp(only, op) == 0;
}

/* Measure one cell and print its line. `note` may be NULL. */
static inline void bench_cell(const char *op, bench_fn fn, void *ctx, const char *note)
{
    if (!bench_wanted(op))
        return;
    if (fn(ctx) != 0) {
        printf("FAIL %s the first call failed\n", op);
        fflush(stdout);
        return;
    }
    double seconds = bench_env("BENCH_TIME", 0.12);
    int runs = (int)bench_env("BENCH_RUNS", 5);
    if (runs > 31)
        runs = 31;
    double results[31];
    if (bench_timed(fn, ctx, seconds / 2) < 0) { /* warm-up */
        printf("FAIL %s a call failed during warm-up\n", op);
        fflush(stdout);
        return;
    }
    for (int r = 0; r < runs; r++) {
        results[r] = bench_timed(fn, ctx, seconds);
        if (results[r] < 0) {
            printf("FAIL %s a call failed while timed\n", op);
            fflush(stdout);
            return;
        }
    }
    qsort(results, (size_t)runs, sizeof results[0], bench_cmp_double);
    printf("OK %s %.1f %s\n", op, results[runs / 2], note != NULL ? note : "");
    fflush(stdout);
}

/* A cell the library cannot do, and why. */
static inline void bench_na(const char *op, const char *fmt, ...)
{
    va_list ap;
    if (!bench_wanted(op))
        return;
    printf("NA %s ", op);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* A cell whose setup failed (a key would not load, a token would not build). */
static inline void bench_fail(const char *op, const char *fmt, ...)
{
    va_list ap;
    printf("FAIL %s ", op);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#ifdef BENCH_WITH_THREADS
#include <pthread.h>

/* One thread of bench_threads(): calls fn(ctx) until `seconds` pass. */
typedef struct bench_thread {
    bench_fn fn;
    void *ctx;
    double seconds;
    unsigned long done;
    int failed;
} bench_thread;

static void *bench_thread_loop(void *p)
{
    bench_thread *t = p;
    double start = bench_now();
    while (bench_now() - start < t->seconds) {
        for (int i = 0; i < 16; i++) {
            if (t->fn(t->ctx) != 0) {
                t->failed = 1;
                return NULL;
            }
        }
        t->done += 16;
    }
    return NULL;
}

/* CPU seconds of the whole process (all threads). */
static inline double bench_process_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall-clock ns per operation with `n` threads sharing ctx, and in *cpu the
 * CPU ns per operation summed over the threads; < 0 on failure. */
static inline double bench_threads_once(bench_fn fn, void *ctx, int n, double seconds, double *cpu)
{
    bench_thread t[2] = {{fn, ctx, seconds, 0, 0}, {fn, ctx, seconds, 0, 0}};
    pthread_t tid[2];
    double cpu_start = bench_process_cpu();
    double start = bench_now();
    int started = 0;
    for (; started < n; started++)
        if (pthread_create(&tid[started], NULL, bench_thread_loop, &t[started]) != 0)
            break;
    unsigned long total = 0;
    int failed = started < n;
    for (int i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        failed |= t[i].failed;
        total += t[i].done;
    }
    if (failed || total == 0)
        return -1.0;
    double wall = (bench_now() - start) * 1e9 / (double)total;
    *cpu = (bench_process_cpu() - cpu_start) * 1e9 / (double)total;
    return wall;
}

/*
 * Throughput of one and of two threads sharing `ctx` (fn must be safe to
 * call from both at once), as ns per operation of the whole process: the
 * wall clock, since two threads are the point. The two are measured in
 * alternation, run after run, so that a change in the machine's load
 * affects both alike; each line is the median of the runs. Each line also
 * gives the CPU time per operation summed over the threads ("cpu/op"): on a
 * machine whose other core is busy, two threads cannot run faster, but if
 * the library made them contend (spinning, cache lines bouncing) the CPU
 * spent per operation would grow.
 */
static inline void bench_threads(const char *op1, const char *op2, bench_fn fn, void *ctx,
                                 const char *note)
{
    if (!bench_wanted(op1) && !bench_wanted(op2))
        return;
    double seconds = bench_env("BENCH_TIME", 0.12) * 2;
    int runs = (int)bench_env("BENCH_RUNS", 5);
    if (runs > 31)
        runs = 31;
    double one[31], two[31], cpu_one[31], cpu_two[31];
    for (int r = 0; r < runs; r++) {
        one[r] = bench_threads_once(fn, ctx, 1, seconds, &cpu_one[r]);
        two[r] = bench_threads_once(fn, ctx, 2, seconds, &cpu_two[r]);
        if (one[r] < 0 || two[r] < 0) {
            bench_fail(op1, "a call failed while timed");
            bench_fail(op2, "a call failed while timed");
            return;
        }
    }
    qsort(one, (size_t)runs, sizeof one[0], bench_cmp_double);
    qsort(two, (size_t)runs, sizeof two[0], bench_cmp_double);
    qsort(cpu_one, (size_t)runs, sizeof cpu_one[0], bench_cmp_double);
    qsort(cpu_two, (size_t)runs, sizeof cpu_two[0], bench_cmp_double);
    printf("OK %s %.1f 1 thread, %s; cpu/op %.1f us\n", op1, one[runs / 2], note,
           cpu_one[runs / 2] / 1000.0);
    printf("OK %s %.1f 2 threads, %s; cpu/op %.1f us\n", op2, two[runs / 2], note,
           cpu_two[runs / 2] / 1000.0);
    fflush(stdout);
}
#endif /* BENCH_WITH_THREADS */

/* ---- The workload -------------------------------------------------------- */

#define BENCH_ISS "https://auth.example.com/"
#define BENCH_AUD "https://api.example.com/orders"
#define BENCH_SUB "5ba552d67"

/*
 * The claims of an RFC 9068 access token issued now, valid one hour, as JSON
 * text (written into `buf`, which must hold 512 bytes). Returns its length.
 */
static inline size_t bench_claims(char *buf, int64_t *iat)
{
    int64_t now = (int64_t)time(NULL);
    if (iat != NULL)
        *iat = now;
    int n = snprintf(buf, 512,
                     "{\"iss\":\"" BENCH_ISS "\",\"sub\":\"" BENCH_SUB "\",\"aud\":\"" BENCH_AUD
                     "\",\"client_id\":\"s6BhdRkqt3\",\"scope\":\"orders:read orders:write\","
                     "\"tenant\":\"acme\",\"iat\":%lld,\"exp\":%lld,"
                     "\"jti\":\"dbe39bf3-a3ba-4238-a513-f51d6e1691c4\"}",
                     (long long)now, (long long)now + 3600);
    return (size_t)n;
}

/* Read a whole file (the keys written by `bench_jwtgate --keys DIR`); NUL
 * terminated; NULL on error. */
static inline char *bench_read_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        if (len != NULL)
            *len = n;
    }
    return buf;
}

#endif /* BENCH_H */
