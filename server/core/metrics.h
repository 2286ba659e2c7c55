/*
 * metrics.h — counters for /metrics (Prometheus text format 0.0.4).
 * Lock-free: relaxed atomics, read without a lock when exported.
 */
#ifndef JGD_METRICS_H
#define JGD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

/* Why a token request was refused: the RFC 6749 / 8707 error codes. */
typedef enum refusal {
    R_INVALID_REQUEST = 0,
    R_INVALID_CLIENT,
    R_INVALID_GRANT,
    R_UNAUTHORIZED_CLIENT,
    R_UNSUPPORTED_GRANT_TYPE,
    R_INVALID_SCOPE,
    R_INVALID_TARGET,
    R_THROTTLED,
    R_SERVER_ERROR,
    R_INVALID_DPOP_PROOF, /* RFC 9449 */
    R_USE_DPOP_NONCE,     /* RFC 9449 section 8: a proof without the server's current nonce */
    R__COUNT
} refusal;

#define METRICS_BUCKETS 12

typedef struct metrics {
    atomic_ulong tokens_issued;
    atomic_ulong refusals[R__COUNT];
    atomic_ulong latency_buckets[METRICS_BUCKETS]; /* cumulative at export */
    atomic_ulong latency_count;
    atomic_ulong latency_sum_us;
    atomic_ulong http_status[6]; /* 1xx..5xx by class, [0] other */
    atomic_ulong introspections;
    atomic_ulong client_cert_ignored; /* a client certificate header from an untrusted peer */
    atomic_ulong revocations;
    atomic_ulong snapshot_writes;         /* snapshot files written (or tried) */
    atomic_ulong snapshot_write_failures; /* of which failed */
    atomic_ulong snapshot_write_us;       /* how long the last one took */
    atomic_ulong views_derived;           /* revocations that did not rebuild the view */
    atomic_ulong views_built;             /* whole rebuilds of the view */
    atomic_ulong gateway_snapshots;       /* GET /gateway/v1/snapshot answered 200 */
    atomic_ulong gateway_not_modified;    /* ... answered 304 (at once, or a long poll's end) */
    atomic_ulong gateway_refused;         /* ... refused 401 (credential missing, bad, revoked) */
    atomic_ulong gateway_encryptions;     /* bodies encrypted (once per gateway and version) */
    atomic_ulong gateway_encrypt_us;      /* how long the last one took (the first of a version: its
                                             signature too) */
} metrics;

const char *refusal_name(refusal r);
void metrics_token_latency(metrics *m, double seconds);
void metrics_status(metrics *m, unsigned status);
/* What is not a counter of `metrics` but exported with them. */
typedef struct metrics_state {
    long snapshot_version; /* the view's version */
    long published_version;
    int snapshot_ok;
    int ready;
    unsigned long connections_refused; /* over the per-address limit */
    unsigned long connections_cut;     /* past the request deadline */
    unsigned long gateway_waiting;     /* long polls suspended now */
} metrics_state;

/* The exposition text; malloc'd. */
char *metrics_render(metrics *m, const metrics_state *st, size_t *len);

#endif
