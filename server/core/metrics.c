/* metrics.c — counters and the token latency histogram in Prometheus text. */
#include "server/core/metrics.h"

#include "server/core/util.h"

static const double bounds[METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

const char *refusal_name(refusal r)
{
    static const char *const names[R__COUNT] = {
        "invalid_request",        "invalid_client",     "invalid_grant",  "unauthorized_client",
        "unsupported_grant_type", "invalid_scope",      "invalid_target", "throttled",
        "server_error",           "invalid_dpop_proof", "use_dpop_nonce"};
    return (unsigned)r < R__COUNT ? names[r] : "unknown";
}

void metrics_token_latency(metrics *m, double seconds)
{
    for (size_t i = 0; i < METRICS_BUCKETS; i++) {
        if (seconds <= bounds[i]) {
            atomic_fetch_add_explicit(&m->latency_buckets[i], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&m->latency_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

void metrics_status(metrics *m, unsigned status)
{
    unsigned cls = status / 100;
    atomic_fetch_add_explicit(&m->http_status[cls >= 1 && cls <= 5 ? cls : 0], 1,
                              memory_order_relaxed);
}

char *metrics_render(metrics *m, const metrics_state *st, size_t *len)
{
    sv_buf b = {0};
    sv_buf_puts(&b, "# HELP jwtgated_tokens_issued_total Access tokens issued.\n"
                    "# TYPE jwtgated_tokens_issued_total counter\n");
    sv_buf_printf(&b, "jwtgated_tokens_issued_total %lu\n", atomic_load(&m->tokens_issued));
    sv_buf_puts(&b, "# HELP jwtgated_token_refusals_total Token requests refused, by error.\n"
                    "# TYPE jwtgated_token_refusals_total counter\n");
    for (int r = 0; r < R__COUNT; r++)
        sv_buf_printf(&b, "jwtgated_token_refusals_total{reason=\"%s\"} %lu\n",
                      refusal_name((refusal)r), atomic_load(&m->refusals[r]));
    sv_buf_puts(&b, "# HELP jwtgated_token_request_duration_seconds Time to answer a token "
                    "request.\n# TYPE jwtgated_token_request_duration_seconds histogram\n");
    unsigned long cum = 0;
    for (size_t i = 0; i < METRICS_BUCKETS; i++) {
        cum += atomic_load(&m->latency_buckets[i]);
        sv_buf_printf(&b, "jwtgated_token_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
                      bounds[i], cum);
    }
    unsigned long count = atomic_load(&m->latency_count);
    sv_buf_printf(&b, "jwtgated_token_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", count);
    sv_buf_printf(&b, "jwtgated_token_request_duration_seconds_sum %.6f\n",
                  (double)atomic_load(&m->latency_sum_us) / 1e6);
    sv_buf_printf(&b, "jwtgated_token_request_duration_seconds_count %lu\n", count);
    sv_buf_puts(&b, "# HELP jwtgated_introspections_total Introspection requests answered.\n"
                    "# TYPE jwtgated_introspections_total counter\n");
    sv_buf_printf(&b, "jwtgated_introspections_total %lu\n", atomic_load(&m->introspections));
    sv_buf_puts(&b, "# HELP jwtgated_client_cert_ignored_total Client certificate headers ignored: "
                    "the peer is not a trusted proxy.\n"
                    "# TYPE jwtgated_client_cert_ignored_total counter\n");
    sv_buf_printf(&b, "jwtgated_client_cert_ignored_total %lu\n",
                  atomic_load(&m->client_cert_ignored));
    sv_buf_puts(&b, "# HELP jwtgated_revocations_total Tokens revoked.\n"
                    "# TYPE jwtgated_revocations_total counter\n");
    sv_buf_printf(&b, "jwtgated_revocations_total %lu\n", atomic_load(&m->revocations));
    sv_buf_puts(&b, "# HELP jwtgated_http_responses_total HTTP responses by status class.\n"
                    "# TYPE jwtgated_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        sv_buf_printf(&b, "jwtgated_http_responses_total{class=\"%dxx\"} %lu\n", c,
                      atomic_load(&m->http_status[c]));
    sv_buf_puts(&b, "# HELP jwtgated_snapshot_version Version of the current view.\n"
                    "# TYPE jwtgated_snapshot_version gauge\n");
    sv_buf_printf(&b, "jwtgated_snapshot_version %ld\n", st->snapshot_version);
    sv_buf_puts(&b, "# HELP jwtgated_snapshot_published_version Version of the snapshot on disk.\n"
                    "# TYPE jwtgated_snapshot_published_version gauge\n");
    sv_buf_printf(&b, "jwtgated_snapshot_published_version %ld\n", st->published_version);
    sv_buf_puts(&b, "# HELP jwtgated_snapshot_ok 1 when the last snapshot write succeeded.\n"
                    "# TYPE jwtgated_snapshot_ok gauge\n");
    sv_buf_printf(&b, "jwtgated_snapshot_ok %d\n", st->snapshot_ok);
    sv_buf_puts(&b, "# HELP jwtgated_snapshot_writes_total Snapshot files written (or tried).\n"
                    "# TYPE jwtgated_snapshot_writes_total counter\n");
    sv_buf_printf(&b, "jwtgated_snapshot_writes_total %lu\n", atomic_load(&m->snapshot_writes));
    sv_buf_puts(&b, "# HELP jwtgated_snapshot_write_failures_total Snapshot writes that failed.\n"
                    "# TYPE jwtgated_snapshot_write_failures_total counter\n");
    sv_buf_printf(&b, "jwtgated_snapshot_write_failures_total %lu\n",
                  atomic_load(&m->snapshot_write_failures));
    sv_buf_puts(&b, "# HELP jwtgated_snapshot_write_seconds How long the last snapshot write "
                    "took.\n# TYPE jwtgated_snapshot_write_seconds gauge\n");
    sv_buf_printf(&b, "jwtgated_snapshot_write_seconds %.6f\n",
                  (double)atomic_load(&m->snapshot_write_us) / 1e6);
    sv_buf_puts(&b, "# HELP jwtgated_views_total Read models made after changes: rebuilt from "
                    "the store, or derived from the previous one (a revocation).\n"
                    "# TYPE jwtgated_views_total counter\n");
    sv_buf_printf(&b, "jwtgated_views_total{how=\"built\"} %lu\n", atomic_load(&m->views_built));
    sv_buf_printf(&b, "jwtgated_views_total{how=\"derived\"} %lu\n",
                  atomic_load(&m->views_derived));
    sv_buf_puts(&b, "# HELP jwtgated_gateway_snapshot_requests_total GET /gateway/v1/snapshot by "
                    "answer.\n# TYPE jwtgated_gateway_snapshot_requests_total counter\n");
    sv_buf_printf(&b, "jwtgated_gateway_snapshot_requests_total{answer=\"200\"} %lu\n",
                  atomic_load(&m->gateway_snapshots));
    sv_buf_printf(&b, "jwtgated_gateway_snapshot_requests_total{answer=\"304\"} %lu\n",
                  atomic_load(&m->gateway_not_modified));
    sv_buf_printf(&b, "jwtgated_gateway_snapshot_requests_total{answer=\"401\"} %lu\n",
                  atomic_load(&m->gateway_refused));
    sv_buf_puts(&b, "# HELP jwtgated_gateway_encryptions_total Snapshot bodies encrypted "
                    "(once per gateway and version).\n"
                    "# TYPE jwtgated_gateway_encryptions_total counter\n");
    sv_buf_printf(&b, "jwtgated_gateway_encryptions_total %lu\n",
                  atomic_load(&m->gateway_encryptions));
    sv_buf_puts(&b, "# HELP jwtgated_gateway_encrypt_seconds How long the last snapshot "
                    "encryption took (the first of a version: with its signature).\n# TYPE "
                    "jwtgated_gateway_encrypt_seconds gauge\n");
    sv_buf_printf(&b, "jwtgated_gateway_encrypt_seconds %.6f\n",
                  (double)atomic_load(&m->gateway_encrypt_us) / 1e6);
    sv_buf_puts(&b, "# HELP jwtgated_gateway_waiting Gateway long polls waiting for a change.\n"
                    "# TYPE jwtgated_gateway_waiting gauge\n");
    sv_buf_printf(&b, "jwtgated_gateway_waiting %lu\n", st->gateway_waiting);
    sv_buf_puts(&b, "# HELP jwtgated_ready 1 when /readyz answers 200.\n"
                    "# TYPE jwtgated_ready gauge\n");
    sv_buf_printf(&b, "jwtgated_ready %d\n", st->ready);
    sv_buf_puts(&b,
                "# HELP jwtgated_http_connections_refused_total Connections refused over the"
                " per-address limit.\n# TYPE jwtgated_http_connections_refused_total counter\n");
    sv_buf_printf(&b, "jwtgated_http_connections_refused_total %lu\n", st->connections_refused);
    sv_buf_puts(&b,
                "# HELP jwtgated_http_connections_cut_total Connections closed because a request"
                " did not arrive whole in time.\n"
                "# TYPE jwtgated_http_connections_cut_total counter\n");
    sv_buf_printf(&b, "jwtgated_http_connections_cut_total %lu\n", st->connections_cut);
    return sv_buf_take(&b, len);
}
