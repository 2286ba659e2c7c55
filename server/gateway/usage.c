/*
 * usage.c — what gateways report of LLM usage (docs/ai-gateway.md):
 *
 *   POST /gateway/v1/usage   Authorization: Bearer <gateway credential>
 *   {"batch_id": "...", "records": [{"minute", "client_id", "api", "model",
 *     "provider", "key_id", "requests", "input_tokens", "output_tokens",
 *     "status"}]}
 *   -> 200 {"batch_id", "accepted", "skipped", "duplicate"}
 *
 * A batch is one write transaction: its (gateway, batch_id) row and every
 * record added into the per-minute aggregate (usage_minutes), committed
 * durably before the 200. A retried batch finds its row and adds nothing
 * (duplicate: true), so a gateway retries until it gets a 200 and nothing
 * is counted twice or lost. Records of a client or API the view does not
 * know are skipped (counted in the answer): usage is kept per tenant.
 *
 * Usage is data, not configuration: a batch is not a change (no version,
 * no audit record, no snapshot); what changes gateways' behaviour from it
 * (the over-quota list, overquota.h: checked after the commit, before the
 * 200) is. Retention: minute rows for USAGE_KEEP_DAYS days,
 * batch ids for USAGE_BATCH_KEEP_DAYS (a retry comes within minutes),
 * pruned by maintenance (usage_prune).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/json.h"
#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/gateway/gateway.h"
#include "server/gateway/overquota.h"
#include "server/gateway/usage.h"
#include "server/http/http.h"

#define MAX_RECORDS 500
#define MAX_COUNT   INT64_C(1000000000000)
/* A record's minute: not before the retention, not more than 5 min ahead. */
#define FUTURE_SLACK 300

/* ---- Prometheus series, bounded --------------------------------------------------- */

/* At most MAX_SERIES (api, model) pairs get series of their own; the rest
 * are counted under api="other", model="other", so a tenant choosing model
 * names cannot grow /metrics without bound. Per node: a cluster's total is
 * the sum over its nodes. */
#define MAX_SERIES 256
#define N_STATUS   5 /* 2xx, 4xx (but 429), 429, 5xx, other */
typedef struct series {
    char api[64], model[129];
    unsigned long long in, out, req[N_STATUS];
} series;
static series table[MAX_SERIES + 1]; /* the last: "other" */
static size_t nseries;
static pthread_mutex_t series_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *const status_names[N_STATUS] = {"2xx", "4xx", "429", "5xx", "other"};

static int status_class(int64_t s)
{
    return s >= 200 && s < 300 ? 0 : s == 429 ? 2 : s >= 400 && s < 500 ? 1 : s >= 500 ? 3 : 4;
}

static void count(const char *api, const char *model, int64_t status, int64_t req, int64_t in,
                  int64_t out)
{
    pthread_mutex_lock(&series_mu);
    series *s = NULL;
    for (size_t i = 0; i < nseries && s == NULL; i++)
        if (strcmp(table[i].api, api) == 0 && strcmp(table[i].model, model) == 0)
            s = &table[i];
    if (s == NULL && nseries < MAX_SERIES) {
        s = &table[nseries++];
        snprintf(s->api, sizeof s->api, "%s", api);
        snprintf(s->model, sizeof s->model, "%s", model);
    }
    if (s == NULL) {
        s = &table[MAX_SERIES];
        snprintf(s->api, sizeof s->api, "other");
        snprintf(s->model, sizeof s->model, "other");
    }
    s->in += (unsigned long long)in;
    s->out += (unsigned long long)out;
    s->req[status_class(status)] += (unsigned long long)req;
    pthread_mutex_unlock(&series_mu);
}

void usage_metrics_render(sv_buf *b)
{
    sv_buf_puts(b,
                "# HELP jwtgated_llm_tokens_total LLM tokens reported by gateways to this node.\n"
                "# TYPE jwtgated_llm_tokens_total counter\n");
    pthread_mutex_lock(&series_mu);
    size_t n = nseries;
    for (size_t i = 0; i <= MAX_SERIES; i++) {
        const series *s = &table[i];
        if (i >= n && (i != MAX_SERIES || s->api[0] == '\0'))
            continue;
        sv_buf_printf(
            b, "jwtgated_llm_tokens_total{api=\"%s\",model=\"%s\",direction=\"input\"} %llu\n",
            s->api, s->model, s->in);
        sv_buf_printf(
            b, "jwtgated_llm_tokens_total{api=\"%s\",model=\"%s\",direction=\"output\"} %llu\n",
            s->api, s->model, s->out);
    }
    sv_buf_puts(
        b, "# HELP jwtgated_llm_requests_total LLM requests reported by gateways to this node.\n"
           "# TYPE jwtgated_llm_requests_total counter\n");
    for (size_t i = 0; i <= MAX_SERIES; i++) {
        const series *s = &table[i];
        if (i >= n && (i != MAX_SERIES || s->api[0] == '\0'))
            continue;
        for (int k = 0; k < N_STATUS; k++)
            if (s->req[k] != 0)
                sv_buf_printf(b,
                              "jwtgated_llm_requests_total{api=\"%s\",model=\"%s\",status=\"%s\"} "
                              "%llu\n",
                              s->api, s->model, status_names[k], s->req[k]);
    }
    pthread_mutex_unlock(&series_mu);
}

/* ---- the batch --------------------------------------------------------------------- */

/* A label-safe name: printable ASCII without spaces, quotes or backslashes. */
static int plain(const json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    if (s == NULL || *s == '\0' || strlen(s) > max || strlen(s) != json_string_length(v))
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

static int counter(const json_t *rec, const char *name, int64_t *out)
{
    const json_t *v = json_object_get(rec, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_COUNT)
        return 0;
    *out = json_integer_value(v);
    return 1;
}

/* NULL if `rec` is a valid record at `now`, else what is wrong with it. */
static const char *check_record(const json_t *rec, int64_t now)
{
    static const char *const members[] = {"minute",        "client_id", "api",      "model",
                                          "provider",      "key_id",    "requests", "input_tokens",
                                          "output_tokens", "status",    NULL};
    if (!json_is_object(rec))
        return "a record must be an object";
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)rec, k, v) {
        int known = 0;
        for (const char *const *m = members; *m != NULL; m++)
            known |= strcmp(*m, k) == 0;
        if (!known)
            return "a record has an unknown member";
    }
    int64_t minute = 0, n = 0, status = 0;
    if (!counter(rec, "minute", &minute) || minute % 60 != 0 ||
        minute < now - USAGE_KEEP_DAYS * 86400 || minute > now + FUTURE_SLACK)
        return "\"minute\": the start of a minute (seconds since the epoch, a multiple of 60) "
               "within the retention and not in the future";
    if (!plain(json_object_get(rec, "client_id"), 128) || !plain(json_object_get(rec, "api"), 64) ||
        !plain(json_object_get(rec, "model"), 128) ||
        !plain(json_object_get(rec, "provider"), 32) || !plain(json_object_get(rec, "key_id"), 64))
        return "client_id, api, model, provider and key_id are printable names";
    if (!counter(rec, "requests", &n) || !counter(rec, "input_tokens", &n) ||
        !counter(rec, "output_tokens", &n))
        return "requests, input_tokens and output_tokens are integers from 0 to 10^12";
    if (!counter(rec, "status", &status) || status < 100 || status > 599)
        return "\"status\" is the HTTP status the client got (100 to 599)";
    return NULL;
}

static const char upsert_sql[] =
    "INSERT INTO usage_minutes (minute, client_id, api_id, model, provider, key_id, status,"
    " app_id, app_tenant_id, api_tenant_id, requests, input_tokens, output_tokens)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    " ON CONFLICT (minute, client_id, api_id, model, provider, key_id, status) DO UPDATE SET"
    " requests = usage_minutes.requests + excluded.requests,"
    " input_tokens = usage_minutes.input_tokens + excluded.input_tokens,"
    " output_tokens = usage_minutes.output_tokens + excluded.output_tokens";

static void answer(request *r, const char *batch, size_t accepted, size_t skipped, int dup)
{
    http_json_new(r, 200,
                  json_pack("{ss sI sI sb}", "batch_id", batch, "accepted", (json_int_t)accepted,
                            "skipped", (json_int_t)skipped, "duplicate", dup));
}

void gateway_usage(request *r)
{
    jgd *d = r->d;
    if (strcmp(r->method, "POST") != 0) {
        http_problem(r, 405, NULL, "method not allowed here");
        http_set_header(r, "Allow", "POST");
        return;
    }
    json_t *gw = gateway_authenticate(r), *body = NULL;
    if (gw == NULL)
        return;
    int64_t now = sv_now();
    const char *problem = NULL;
    if (jg__json_parse_object(r->body, r->body_len, 8, MAX_BODY, &body) != JG_OK)
        problem = "the body must be a JSON object";
    const json_t *batch = json_object_get(body, "batch_id");
    const json_t *records = json_object_get(body, "records");
    if (problem == NULL && (!plain(batch, 64) || json_object_size(body) != 2))
        problem = "{\"batch_id\": a printable name of at most 64 characters, \"records\": [...]}";
    if (problem == NULL && (!json_is_array(records) || json_array_size(records) > MAX_RECORDS))
        problem = "\"records\": an array of at most 500 records";
    size_t i;
    json_t *rec;
    json_array_foreach (records, i, rec) {
        if (problem == NULL)
            problem = check_record(rec, now);
    }
    if (problem != NULL) {
        http_problem(r, 422, "Invalid usage batch", problem);
        json_decref(body);
        json_decref(gw);
        return;
    }
    const char *gw_id = json_string_value(json_object_get(gw, "id"));
    view *v = view_acquire(d);
    store_tx *tx = NULL;
    size_t accepted = 0, skipped = 0;
    int dup = 0;
    store_err err = store_begin(d->st, 1, &tx);
    if (err == ST_OK) {
        json_t *p = json_pack("[s s I I]", gw_id, json_string_value(batch), (json_int_t)now,
                              (json_int_t)json_array_size(records));
        err = p != NULL ? st_query(tx,
                                   "INSERT INTO usage_batches (gateway_id, batch_id, received_at,"
                                   " records) VALUES (?1, ?2, ?3, ?4)",
                                   p, NULL, NULL)
                        : ST_NOMEM;
        json_decref(p);
        dup = err == ST_CONFLICT;
    }
    json_array_foreach (records, i, rec) {
        if (err != ST_OK)
            break;
        const v_client *c =
            v != NULL ? view_client(v, json_string_value(json_object_get(rec, "client_id"))) : NULL;
        const v_api *api =
            v != NULL ? view_api(v, json_string_value(json_object_get(rec, "api"))) : NULL;
        if (c == NULL || api == NULL) {
            skipped++;
            continue;
        }
        json_t *p =
            json_pack("[O O O O O O O s s s O O O]", json_object_get(rec, "minute"),
                      json_object_get(rec, "client_id"), json_object_get(rec, "api"),
                      json_object_get(rec, "model"), json_object_get(rec, "provider"),
                      json_object_get(rec, "key_id"), json_object_get(rec, "status"), c->app_id,
                      c->tenant_id, api->tenant_id, json_object_get(rec, "requests"),
                      json_object_get(rec, "input_tokens"), json_object_get(rec, "output_tokens"));
        err = p != NULL ? st_query(tx, upsert_sql, p, NULL, NULL) : ST_NOMEM;
        json_decref(p);
        accepted++;
    }
    if (tx != NULL && err == ST_OK)
        err = store_commit(tx);
    else if (tx != NULL)
        store_rollback(tx);
    if (dup) {
        answer(r, json_string_value(batch), 0, 0, 1);
    } else if (err != ST_OK) {
        log_msg(L_ERR, "usage: batch of gateway %s: %s", gw_id, store_err_name(err));
        http_problem(r, 503, NULL, "the usage was not stored: send the batch again");
        http_set_header(r, "Retry-After", "1");
    } else {
        /* Counted once durable, so a retried batch counts once here too. */
        json_array_foreach (records, i, rec) {
            const char *api_id = json_string_value(json_object_get(rec, "api"));
            if (v == NULL || view_api(v, api_id) == NULL ||
                view_client(v, json_string_value(json_object_get(rec, "client_id"))) == NULL)
                continue;
            count(api_id, json_string_value(json_object_get(rec, "model")),
                  json_integer_value(json_object_get(rec, "status")),
                  json_integer_value(json_object_get(rec, "requests")),
                  json_integer_value(json_object_get(rec, "input_tokens")),
                  json_integer_value(json_object_get(rec, "output_tokens")));
        }
        /* Before the 200: a gateway that reported a client over its quota
         * finds it listed (and the next snapshot on its way) once answered. */
        overquota_after_batch(d, v, records, now);
        answer(r, json_string_value(batch), accepted, skipped, 0);
    }
    view_release(v);
    json_decref(body);
    json_decref(gw);
}

store_err usage_prune(store_tx *tx, int64_t now)
{
    json_t *p = json_pack("[I]", (json_int_t)(now - USAGE_KEEP_DAYS * 86400));
    store_err err = p != NULL
                        ? st_query(tx, "DELETE FROM usage_minutes WHERE minute < ?1", p, NULL, NULL)
                        : ST_NOMEM;
    json_decref(p);
    p = json_pack("[I]", (json_int_t)(now - USAGE_BATCH_KEEP_DAYS * 86400));
    if (err == ST_OK)
        err = p != NULL
                  ? st_query(tx, "DELETE FROM usage_batches WHERE received_at < ?1", p, NULL, NULL)
                  : ST_NOMEM;
    json_decref(p);
    return err;
}
