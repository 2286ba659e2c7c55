/*
 * usage.c — GET /admin/v1/usage?tenant=&app=&api=&model=&from=&to=&step=
 *
 * LLM usage summed per step (minute, hour or day; UTC buckets), API and
 * model: the rows of `tenant`'s applications (as consumer) and of its APIs
 * (as provider), for its viewers; without `tenant`, everything, for system
 * administrators. `from` (default: to - 1 day) <= minute < `to` (default:
 * now), at most 10,000 buckets. Rows come from usage_minutes
 * (server/gateway/usage.c).
 */
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "server/core/util.h"
#include "server/http/http.h"

#define MAX_BUCKETS 10000

static int query_int(actx *a, const char *name, int64_t *out)
{
    const char *s = http_query(a->r, name);
    if (s == NULL)
        return 1;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > INT64_C(253402300799)) {
        http_problem(a->r, 400, NULL, "from and to are seconds since the epoch");
        return 0;
    }
    *out = v;
    return 1;
}

void admin_usage(actx *a)
{
    if (strcmp(a->r->method, "GET") != 0) {
        reply_method(a, "GET");
        return;
    }
    const char *tenant = http_query(a->r, "tenant"), *app = http_query(a->r, "app"),
               *api = http_query(a->r, "api"), *model = http_query(a->r, "model"),
               *step_s = http_query(a->r, "step");
    int64_t to = sv_now() / 60 * 60 + 60, from = -1, step = 3600;
    if (!query_int(a, "to", &to) || !query_int(a, "from", &from))
        return;
    if (from < 0)
        from = to - 86400;
    if (step_s != NULL)
        step = strcmp(step_s, "minute") == 0 ? 60
               : strcmp(step_s, "hour") == 0 ? 3600
               : strcmp(step_s, "day") == 0  ? 86400
                                             : 0;
    if (step == 0 || from >= to || (to - from) / step > MAX_BUCKETS) {
        http_problem(a->r, 400, NULL,
                     "step is minute, hour or day; from < to, at most 10000 steps apart");
        return;
    }
    if (tenant == NULL && !a->sysadmin) {
        http_problem(a->r, 400, NULL, "give ?tenant= (one you are a member of)");
        return;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    if (tenant != NULL && !require_role(a, tx, tenant, ROLE_VIEWER)) {
        store_rollback(tx);
        return;
    }
    /* One statement; an absent filter is a NULL parameter that matches all. */
    static const store_column cols[] = {
        {"t", COL_INT},        {"api_id", COL_TEXT},      {"model", COL_TEXT},
        {"requests", COL_INT}, {"input_tokens", COL_INT}, {"output_tokens", COL_INT},
        {NULL, COL_TEXT}};
    json_t *p = json_pack("[I I I s? s? s? s?]", (json_int_t)step, (json_int_t)from, (json_int_t)to,
                          tenant, app, api, model);
    json_t *rows = NULL;
    store_err err =
        p != NULL
            ? st_query(
                  tx,
                  "SELECT (minute / CAST(?1 AS BIGINT)) * CAST(?1 AS BIGINT) AS t, api_id, model,"
                  " SUM(requests), SUM(input_tokens), SUM(output_tokens) FROM usage_minutes"
                  " WHERE minute >= CAST(?2 AS BIGINT) AND minute < CAST(?3 AS BIGINT)"
                  " AND (CAST(?4 AS TEXT) IS NULL OR app_tenant_id = CAST(?4 AS TEXT)"
                  " OR api_tenant_id = CAST(?4 AS TEXT))"
                  " AND (CAST(?5 AS TEXT) IS NULL OR app_id = CAST(?5 AS TEXT))"
                  " AND (CAST(?6 AS TEXT) IS NULL OR api_id = CAST(?6 AS TEXT))"
                  " AND (CAST(?7 AS TEXT) IS NULL OR model = CAST(?7 AS TEXT))"
                  " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                  p, cols, &rows)
            : ST_NOMEM;
    json_decref(p);
    store_rollback(tx);
    if (err != ST_OK) {
        reply_store_error(a, err, "usage");
        return;
    }
    http_json_new(a->r, 200,
                  json_pack("{so sI sI sI}", "items", rows, "from", (json_int_t)from, "to",
                            (json_int_t)to, "step", (json_int_t)step));
}
