/* overquota.c — the over-quota list from reported usage (overquota.h). */
#include "server/gateway/overquota.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/core/change.h"
#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/store/store.h"

/* One entry the usage calls for: model "" = the whole subscription. */
typedef struct want {
    char model[129];
    const char *limit; /* the counter hit (static text) */
    int64_t until;
} want;

#define MAX_WANTS 65 /* the subscription and at most 64 models */

static const store_column sum_cols[] = {{"model", COL_TEXT},
                                        {"requests", COL_INT},
                                        {"input_tokens", COL_INT},
                                        {"output_tokens", COL_INT},
                                        {NULL, COL_TEXT}};
/* ?3 <= minute < ?4: the current minute, or the current UTC day. */
static const char sum_sql[] =
    "SELECT model, CAST(SUM(requests) AS BIGINT), CAST(SUM(input_tokens) AS BIGINT),"
    " CAST(SUM(output_tokens) AS BIGINT) FROM usage_minutes"
    " WHERE client_id = ?1 AND api_id = ?2 AND minute >= ?3 AND minute < ?4 GROUP BY model";

static double weight(const json_t *limits, const char *name)
{
    const json_t *w = json_object_get(limits, name);
    return json_is_number(w) ? json_number_value(w) : 1.0;
}

static void add_want(want *w, size_t *n, const char *model, const char *limit, int64_t until)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(w[i].model, model) == 0) {
            if (until > w[i].until) {
                w[i].until = until;
                w[i].limit = limit;
            }
            return;
        }
    }
    if (*n == MAX_WANTS)
        return;
    snprintf(w[*n].model, sizeof w[*n].model, "%s", model);
    w[*n].limit = limit;
    w[*n].until = until;
    (*n)++;
}

/* Compare the window's sums (rows of sum_sql) with `limits` (the
 * subscription's, and each model's): a counter at or past its limit wants
 * an entry until `until`. `minute`: the per-minute counters, else per day. */
static void compare(const json_t *limits, const json_t *rows, int minute, int64_t until, want *w,
                    size_t *n)
{
    double in_w = weight(limits, "input_weight"), out_w = weight(limits, "output_weight");
    const char *tokens_name = minute ? "tokens_per_minute" : "tokens_per_day";
    const json_t *models = json_object_get(limits, "models");
    double total_tokens = 0;
    json_int_t total_requests = 0;
    size_t i;
    json_t *row;
    json_array_foreach ((json_t *)rows, i, row) {
        const char *model = json_string_value(json_object_get(row, "model"));
        json_int_t req = json_integer_value(json_object_get(row, "requests"));
        double tokens =
            floor(in_w * (double)json_integer_value(json_object_get(row, "input_tokens")) +
                  out_w * (double)json_integer_value(json_object_get(row, "output_tokens")));
        total_requests += req;
        total_tokens += tokens;
        const json_t *ml = model != NULL ? json_object_get(models, model) : NULL;
        if (ml == NULL)
            continue;
        const json_t *rl = minute ? json_object_get(ml, "requests_per_minute") : NULL;
        const json_t *tl = json_object_get(ml, tokens_name);
        if (json_is_integer(rl) && req >= json_integer_value(rl))
            add_want(w, n, model, "requests_per_minute", until);
        if (json_is_integer(tl) && tokens >= (double)json_integer_value(tl))
            add_want(w, n, model, tokens_name, until);
    }
    const json_t *rl = minute ? json_object_get(limits, "requests_per_minute") : NULL;
    const json_t *tl = json_object_get(limits, tokens_name);
    if (json_is_integer(rl) && total_requests >= json_integer_value(rl))
        add_want(w, n, "", "requests_per_minute", until);
    if (json_is_integer(tl) && total_tokens >= (double)json_integer_value(tl))
        add_want(w, n, "", tokens_name, until);
}

static store_err sums(store_tx *tx, const char *client_id, const char *api_id, int64_t from,
                      int64_t to, json_t **rows)
{
    json_t *p = json_pack("[s s I I]", client_id, api_id, (json_int_t)from, (json_int_t)to);
    store_err err = p != NULL ? st_query(tx, sum_sql, p, sum_cols, rows) : ST_NOMEM;
    json_decref(p);
    return err;
}

/* The effective limits of subscription `sub_id` (inline, else its plan's),
 * or NULL (none, or not an approved subscription). */
static json_t *effective_limits(store_tx *tx, const char *sub_id)
{
    json_t *row = NULL, *plan = NULL, *out = NULL;
    if (st_get_id(tx, T_SUBSCRIPTIONS, sub_id, &row) != ST_OK)
        return NULL;
    const json_t *l = json_object_get(row, "limits");
    const char *plan_id = json_string_value(json_object_get(row, "plan_id"));
    if (json_is_object(l))
        out = json_incref((json_t *)l);
    else if (plan_id != NULL && st_get_id(tx, T_LLM_PLANS, plan_id, &plan) == ST_OK &&
             json_is_object(json_object_get(plan, "limits")))
        out = json_incref(json_object_get(plan, "limits"));
    json_decref(plan);
    json_decref(row);
    return out;
}

/* The live entries of (client, api), as rows of llm_over_quota. */
static store_err existing(store_tx *tx, const char *client_id, const char *api_id, json_t **rows)
{
    json_t *where = json_pack("{ss ss}", "client_id", client_id, "api_id", api_id);
    store_err err = where != NULL ? st_list(tx, T_LLM_OVER_QUOTA, where, 0, rows) : ST_NOMEM;
    json_decref(where);
    return err;
}

/* Whether want `w` is new or longer than what `rows` hold; *row_out the
 * row it would replace (borrowed from rows) or NULL. */
static int needs_write(const want *w, const json_t *rows, json_t **row_out)
{
    size_t i;
    json_t *row;
    *row_out = NULL;
    json_array_foreach ((json_t *)rows, i, row) {
        if (strcmp(json_string_value(json_object_get(row, "model")), w->model) == 0) {
            *row_out = row;
            return json_integer_value(json_object_get(row, "until")) < w->until;
        }
    }
    return 1;
}

/* Write the wants that are new or longer, as one change (re-read under
 * the writer lock: another node may have written them meanwhile). */
static void record(jgd *d, const v_client *c, const v_api *api, const char *sub_id, const want *w,
                   size_t n)
{
    change ch = {0};
    if (change_begin(d, "system:usage", &ch) != ST_OK)
        return;
    json_t *rows = NULL;
    store_err err = existing(ch.tx, c->client_id, api->id, &rows);
    for (size_t i = 0; i < n && err == ST_OK; i++) {
        json_t *old = NULL;
        if (!needs_write(&w[i], rows, &old))
            continue;
        json_t *after = json_pack("{ss ss ss ss ss sI sI}", "subscription_id", sub_id, "client_id",
                                  c->client_id, "api_id", api->id, "model", w[i].model,
                                  "limit_name", w[i].limit, "until", (json_int_t)w[i].until,
                                  "created_at", (json_int_t)ch.now);
        if (after == NULL) {
            err = ST_NOMEM;
            break;
        }
        if (old != NULL) {
            const char *id = json_string_value(json_object_get(old, "id"));
            json_t *upd =
                json_pack("{ss sI}", "limit_name", w[i].limit, "until", (json_int_t)w[i].until);
            json_object_set_new(after, "id", json_string(id));
            err = upd != NULL ? st_update(ch.tx, T_LLM_OVER_QUOTA, id, upd) : ST_NOMEM;
            json_decref(upd);
        } else {
            char *id = sv_new_id("oq_", 12);
            json_object_set_new(after, "id", json_string(id != NULL ? id : ""));
            err = id != NULL ? st_insert(ch.tx, T_LLM_OVER_QUOTA, after) : ST_NOMEM;
            free(id);
        }
        /* in both tenants, like subscription.limits */
        if (err == ST_OK)
            err = change_audit(&ch, "subscription.over_quota", api->tenant_id, sub_id, old, after);
        if (err == ST_OK && strcmp(api->tenant_id, c->tenant_id) != 0)
            err = change_audit(&ch, "subscription.over_quota", c->tenant_id, sub_id, old, after);
        json_decref(after);
    }
    json_decref(rows);
    if (err != ST_OK) {
        change_abort(&ch);
        if (err != ST_CONFLICT) /* another node listed it first: its change stands */
            log_msg(L_ERR, "over quota: %s on %s: %s", c->client_id, api->id, store_err_name(err));
        return;
    }
    if (!ch.audited) {
        change_abort(&ch); /* nothing new after all */
        return;
    }
    err = change_commit(&ch);
    if (err != ST_OK)
        log_msg(L_ERR, "over quota: %s on %s: %s", c->client_id, api->id, store_err_name(err));
    else
        log_msg(L_INFO, "over quota: client %s on API %s (%zu entries checked)", c->client_id,
                api->id, n);
}

/* One (client, API) pair at `now`. */
static void check_pair(jgd *d, const view *v, const char *client_id, const char *api_id,
                       int64_t now)
{
    const v_client *c = view_client(v, client_id);
    const v_api *api = view_api(v, api_id);
    const char *sub_id = NULL;
    for (size_t k = 0; c != NULL && k < c->nsubs && sub_id == NULL; k++)
        if (strcmp(c->subs[k].api_id, api_id) == 0)
            sub_id = c->subs[k].id;
    if (c == NULL || api == NULL || sub_id == NULL)
        return; /* no approved subscription: nothing to limit */
    store_tx *tx = NULL;
    if (store_begin(d->st, 0, &tx) != ST_OK)
        return;
    json_t *limits = effective_limits(tx, sub_id), *min_rows = NULL, *day_rows = NULL, *rows = NULL;
    int64_t minute = now / 60 * 60, day = now / 86400 * 86400;
    want w[MAX_WANTS];
    size_t n = 0;
    store_err err =
        limits != NULL ? sums(tx, client_id, api_id, minute, minute + 60, &min_rows) : ST_NOT_FOUND;
    if (err == ST_OK)
        err = sums(tx, client_id, api_id, day, day + 86400, &day_rows);
    if (err == ST_OK) {
        compare(limits, min_rows, 1, minute + 60, w, &n);
        compare(limits, day_rows, 0, day + 86400, w, &n);
    }
    int todo = 0;
    if (err == ST_OK && n > 0 && existing(tx, client_id, api_id, &rows) == ST_OK) {
        json_t *old;
        for (size_t i = 0; i < n && !todo; i++)
            todo = needs_write(&w[i], rows, &old);
    }
    store_rollback(tx);
    json_decref(rows);
    json_decref(min_rows);
    json_decref(day_rows);
    json_decref(limits);
    if (err != ST_OK && err != ST_NOT_FOUND)
        log_msg(L_ERR, "over quota: cannot sum the usage of %s on %s: %s", client_id, api_id,
                store_err_name(err));
    if (todo)
        record(d, c, api, sub_id, w, n);
}

void overquota_after_batch(jgd *d, const view *v, const json_t *records, int64_t now)
{
    if (v == NULL)
        return;
    json_t *seen = json_object(); /* "client_id api": each pair once */
    size_t i;
    json_t *rec;
    json_array_foreach ((json_t *)records, i, rec) {
        const char *client_id = json_string_value(json_object_get(rec, "client_id"));
        const char *api_id = json_string_value(json_object_get(rec, "api"));
        char key[200];
        snprintf(key, sizeof key, "%s %s", client_id, api_id);
        if (seen == NULL || json_object_get(seen, key) != NULL)
            continue;
        json_object_set_new(seen, key, json_true());
        check_pair(d, v, client_id, api_id, now);
    }
    json_decref(seen);
}

static const store_column due_cols[] = {{"id", COL_TEXT}, {NULL, COL_TEXT}};

int overquota_expire(jgd *d, int64_t now)
{
    /* cheap when nothing is due (indexed by until): every second */
    store_tx *tx = NULL;
    json_t *p = json_pack("[I]", (json_int_t)now), *due = NULL;
    store_err err = p != NULL ? store_begin(d->st, 0, &tx) : ST_NOMEM;
    if (err == ST_OK)
        err = st_query(tx, "SELECT id FROM llm_over_quota WHERE until <= ?1 LIMIT 1", p, due_cols,
                       &due);
    if (tx != NULL)
        store_rollback(tx);
    size_t ndue = json_array_size(due);
    json_decref(due);
    due = NULL;
    if (err != ST_OK || ndue == 0) {
        json_decref(p);
        return err == ST_OK ? 0 : -1;
    }
    change ch = {0};
    err = change_begin(d, "system:maintenance", &ch);
    json_t *rows = NULL;
    if (err == ST_OK)
        err = st_query(ch.tx,
                       "SELECT id, subscription_id, client_id, api_id, model, limit_name, until,"
                       " created_at FROM llm_over_quota WHERE until <= ?1",
                       p, store_table_info(T_LLM_OVER_QUOTA)->columns, &rows);
    json_decref(p);
    if (err != ST_OK) {
        if (ch.tx != NULL)
            change_abort(&ch);
        log_msg(L_ERR, "over quota: cannot expire entries: %s", store_err_name(err));
        return -1;
    }
    size_t i;
    json_t *row;
    view *v = view_acquire(d);
    json_array_foreach (rows, i, row) {
        const char *id = json_string_value(json_object_get(row, "id"));
        const v_api *api =
            v != NULL ? view_api(v, json_string_value(json_object_get(row, "api_id"))) : NULL;
        if (err == ST_OK)
            err = st_remove(ch.tx, T_LLM_OVER_QUOTA, id);
        if (err == ST_OK)
            err = change_audit(
                &ch, "subscription.over_quota_end", api != NULL ? api->tenant_id : NULL,
                json_string_value(json_object_get(row, "subscription_id")), row, NULL);
    }
    view_release(v);
    json_decref(rows);
    if (err != ST_OK || !ch.audited) {
        change_abort(&ch);
        if (err != ST_OK && err != ST_NOT_FOUND)
            log_msg(L_ERR, "over quota: cannot expire entries: %s", store_err_name(err));
        return err == ST_OK || err == ST_NOT_FOUND ? 0 : -1;
    }
    err = change_commit(&ch);
    return err == ST_OK ? 1 : -1;
}
