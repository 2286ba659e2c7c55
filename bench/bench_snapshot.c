/*
 * bench_snapshot.c — the gateway's snapshot, JSON (format 1, what the
 * module parses with jansson today) against compiled (format 2), on the
 * same content: opening (parse vs map + checksum), the longest single step
 * when the checksum is checked in slices, the heap each worker pays, the
 * size, and the cost of one lookup of each kind. Both are measured in this
 * process, one after the other, and the ratios printed.
 *
 * Usage: bench_snapshot [--apis N] [--subs N] [--revoked N] [--runs N] [--json]
 * Default: the large platform: 10,000 APIs, 100,000 subscriptions
 * (10,000 apps), 100,000 revoked jti.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "jwtgate/jwtgate.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_used(void)
{
    return mallinfo2().uordblks;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* The format-1 document, as jwtgated writes it (members as in docs/snapshot.md). */
static char *make_doc(int napis, int nsubs, int nrev, size_t *len)
{
    size_t cap = (size_t)napis * 400 + (size_t)nsubs * 200 + (size_t)nrev * 80 + 4096, n = 0;
    char *d = malloc(cap);
#define OUT(...) n += (size_t)snprintf(d + n, cap - n, __VA_ARGS__)
    OUT("{\"format\":\"jwtgate-snapshot\",\"format_version\":1,\"version\":123456,"
        "\"generated_at\":1795871125,\"issuer\":\"https://auth.example.com\",\"token_ttl\":900,"
        "\"decryption_keys\":{\"keys\":[]},\"verification_keys\":{\"keys\":[]},\"keys\":[],"
        "\"apis\":[");
    for (int i = 0; i < napis; i++)
        OUT("%s{\"id\":\"api_%08d\",\"tenant_id\":\"ten_%05d\",\"name\":\"service-%d\","
            "\"version\":\"v1\",\"base_path\":\"/svc/%d\",\"upstream\":\"http://10.0.%d.%d:9000\","
            "\"audience\":\"https://api.example.com/svc/%d\",\"scopes\":[\"svc%d:read\","
            "\"svc%d:write\"],\"state\":\"published\",\"sunset\":null,\"deprecated_at\":null}",
            i ? "," : "", i, i % 100, i, i, i / 256 % 256, i % 256, i, i, i);
    OUT("],\"subscriptions\":[");
    for (int i = 0; i < nsubs; i++) {
        int api = (int)((unsigned)i * 7919u % (unsigned)napis);
        OUT("%s{\"id\":\"sub_%08d\",\"client_id\":\"jgc_%08d\",\"api_id\":\"api_%08d\","
            "\"audience\":\"https://api.example.com/svc/%d\",\"scopes\":[\"svc%d:read\"]}",
            i ? "," : "", i, i / 10, api, api, api);
    }
    OUT("],\"revoked_jti\":[");
    for (int i = 0; i < nrev; i++)
        OUT("%s{\"jti\":\"jti-%020d\",\"exp\":%d}", i ? "," : "", i, 1795872025 + i % 900);
    OUT("],\"suspended_clients\":[\"jgc_00000003\"]}");
#undef OUT
    *len = n;
    return d;
}

int main(int argc, char **argv)
{
    int napis = 10000, nsubs = 100000, nrev = 100000, runs = 5, as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--apis") && i + 1 < argc)
            napis = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--subs") && i + 1 < argc)
            nsubs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--revoked") && i + 1 < argc)
            nrev = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            as_json = 1;
        else {
            fprintf(
                stderr,
                "usage: bench_snapshot [--apis N] [--subs N] [--revoked N] [--runs N] [--json]\n");
            return 2;
        }
    }
    if (napis < 1 || nsubs < 0 || nrev < 0 || runs < 1 || runs > 99)
        return 2;
    size_t doc_len;
    char *doc = make_doc(napis, nsubs, nrev, &doc_len);

    /* JSON: what a worker does today on every change (jansson, as the module). */
    double t_json[99], t_compile[99], t_open[99], longest_step = 0;
    size_t heap_json = 0;
    for (int r = 0; r < runs; r++) {
        size_t before = heap_used();
        double t0 = now_s();
        json_error_t e;
        json_t *v = json_loadb(doc, doc_len, JSON_REJECT_DUPLICATES, &e);
        t_json[r] = now_s() - t0;
        if (!v) {
            fprintf(stderr, "bench_snapshot: JSON: %s\n", e.text);
            return 1;
        }
        heap_json = heap_used() - before;
        json_decref(v);
    }

    /* Compiled: the control plane compiles once; each worker maps and checks. */
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        jg_err err = jg_snapshot_compile_json(doc, doc_len, &bin, &bin_len, NULL, 0);
        t_compile[r] = now_s() - t0;
        if (err) {
            fprintf(stderr, "bench_snapshot: compile: %s\n", jg_strerror(err));
            return 1;
        }
        if (r + 1 < runs)
            jg_free_secret(bin, bin_len);
    }
    char path[] = "/tmp/jg-bench-snapshot-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    if (jg_snapshot_write_file(path, bin, bin_len))
        return 1;
    size_t heap_compiled = 0, steps = 0;
    const size_t slice = 256 * 1024;
    jg_snapshot *s = NULL;
    for (int r = 0; r < runs; r++) {
        if (s)
            jg_snapshot_close(s);
        size_t before = heap_used();
        double t0 = now_s();
        jg_err err = jg_snapshot_map(path, NULL, &s);
        steps = 0;
        while (!err) {
            double ts = now_s();
            err = jg_snapshot_verify_step(s, slice);
            double dt = now_s() - ts;
            if (dt > longest_step)
                longest_step = dt;
            steps++;
            if (err == JG_ERR_AGAIN)
                err = JG_OK;
            else
                break;
        }
        t_open[r] = now_s() - t0;
        if (err) {
            fprintf(stderr, "bench_snapshot: open: %s\n", jg_strerror(err));
            return 1;
        }
        heap_compiled = heap_used() - before;
    }

    /* Lookups: a request's route, subscription and revocation checks. */
    enum { LOOKUPS = 200000 };
    char key[64];
    double t0 = now_s();
    for (int i = 0; i < LOOKUPS; i++) {
        jg_snap_api a;
        int n = snprintf(key, sizeof key, "/svc/%d/orders/17", i % napis);
        if (jg_snapshot_route(s, key, (size_t)n, &a))
            return 1;
    }
    double t_route = (now_s() - t0) / LOOKUPS;
    t0 = now_s();
    for (int i = 0; i < LOOKUPS; i++) {
        jg_snap_sub sub;
        int k = i % (nsubs ? nsubs : 1);
        int n = snprintf(key, sizeof key, "jgc_%08d", k / 10);
        uint32_t api = (uint32_t)((unsigned)k * 7919u % (unsigned)napis);
        if (nsubs && jg_snapshot_subscription(s, key, (size_t)n, api, &sub))
            return 1;
    }
    double t_sub = (now_s() - t0) / LOOKUPS;
    t0 = now_s();
    int hits = 0;
    for (int i = 0; i < LOOKUPS; i++) {
        int n = snprintf(key, sizeof key, "jti-%020d", i % (2 * (nrev ? nrev : 1)));
        hits += jg_snapshot_is_revoked(s, key, (size_t)n);
    }
    double t_rev = (now_s() - t0) / LOOKUPS;
    (void)hits;
    jg_snapshot_close(s);
    unlink(path);

    double mj = median(t_json, runs), mc = median(t_compile, runs), mo = median(t_open, runs);
    if (as_json) {
        printf("{\"apis\":%d,\"subscriptions\":%d,\"revoked\":%d,\"json_bytes\":%zu,"
               "\"compiled_bytes\":%zu,\"json_parse_ms\":%.2f,\"json_heap_bytes\":%zu,"
               "\"compile_ms\":%.2f,\"open_ms\":%.3f,\"open_steps\":%zu,"
               "\"longest_step_us\":%.1f,\"compiled_heap_bytes\":%zu,\"route_ns\":%.0f,"
               "\"subscription_ns\":%.0f,\"revoked_ns\":%.0f}\n",
               napis, nsubs, nrev, doc_len, bin_len, mj * 1e3, heap_json, mc * 1e3, mo * 1e3, steps,
               longest_step * 1e6, heap_compiled, t_route * 1e9, t_sub * 1e9, t_rev * 1e9);
    } else {
        printf("snapshot of %d APIs, %d subscriptions, %d revoked jti (median of %d runs)\n\n",
               napis, nsubs, nrev, runs);
        printf("| | JSON (format 1, jansson) | compiled (format 2) | ratio |\n| --- | --- | --- | "
               "--- |\n");
        printf("| file size | %.1f MB | %.1f MB | %.2fx |\n", (double)doc_len / 1e6,
               (double)bin_len / 1e6, (double)bin_len / (double)doc_len);
        printf("| a worker opens it | %.1f ms (parse) | %.2f ms (map + SHA-256) | %.0fx faster |\n",
               mj * 1e3, mo * 1e3, mj / mo);
        printf("| longest event-loop step | %.1f ms (one parse) | %.0f us (%zu steps of %zu KiB) | "
               "%.0fx shorter |\n",
               mj * 1e3, longest_step * 1e6, steps, slice / 1024, mj / longest_step);
        printf("| heap per worker | %.1f MB | %zu bytes (pages shared) | |\n",
               (double)heap_json / 1e6, heap_compiled);
        printf("| compiling it (control plane, once) | | %.1f ms | |\n", mc * 1e3);
        printf("\nlookups in the compiled file: route %.0f ns, subscription %.0f ns, revoked %.0f "
               "ns\n",
               t_route * 1e9, t_sub * 1e9, t_rev * 1e9);
    }
    jg_free_secret(bin, bin_len);
    free(doc);
    return 0;
}
