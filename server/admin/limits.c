/*
 * limits.c — the limits of subscriptions to llm APIs, and plans (named,
 * reusable limit sets of the API owner's tenant):
 *
 *   GET    /admin/v1/tenants/{t}/plans[/{id}]                    viewers
 *   POST   /admin/v1/tenants/{t}/plans         {name, limits}   admins
 *   PATCH  /admin/v1/tenants/{t}/plans/{id}    {limits}         admins
 *   DELETE /admin/v1/tenants/{t}/plans/{id}    (unused plans only)
 *   PUT    /admin/v1/tenants/{t}/subscriptions/{id}/limits {plan_id?, limits?}
 *          admins of the API's tenant; also accepted by .../approve
 *
 * A subscription's effective limits are its inline `limits` if set, else
 * its plan's, else none. A limits object (every member optional):
 *
 *   {"requests_per_minute": N, "tokens_per_minute": N, "tokens_per_day": N,
 *    "input_weight": W, "output_weight": W,
 *    "models": {"<public model>": {"requests_per_minute": N, ...}}}
 *
 * Tokens count as input_weight * input + output_weight * output (weights
 * default to 1, from 0 to 1000); a model's limits apply to that model's usage
 * on top of the subscription's. Changing a plan changes every subscription
 * on it: the limits are read when usage is counted, not copied.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "server/core/util.h"
#include "server/http/http.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

#define MAX_LIMIT_MODELS 64

static const char *const counters[] = {"requests_per_minute", "tokens_per_minute", "tokens_per_day",
                                       NULL};

/* The counters of `o` (a limits object or a model's): positive integers. */
static const char *check_counters(const json_t *o, int allow_more)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)o, k, v) {
        int known = 0;
        for (const char *const *c = counters; *c != NULL; c++)
            known |= strcmp(*c, k) == 0;
        if (!known) {
            if (allow_more)
                continue;
            return "a model's limits are requests_per_minute, tokens_per_minute, tokens_per_day";
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > INT64_C(1000000000000000))
            return "limits are integers from 1 to 10^15";
    }
    return NULL;
}

const char *limits_check(const json_t *l)
{
    if (!json_is_object(l))
        return "\"limits\" must be an object";
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)l, k, v) {
        int counter = 0;
        for (const char *const *c = counters; *c != NULL; c++)
            counter |= strcmp(*c, k) == 0;
        if (counter)
            continue;
        if (strcmp(k, "input_weight") == 0 || strcmp(k, "output_weight") == 0) {
            double w = json_number_value(v);
            if (!json_is_number(v) || !isfinite(w) || w < 0 || w > 1000)
                return "weights are numbers from 0 to 1000";
        } else if (strcmp(k, "models") == 0) {
            if (!json_is_object(v) || json_object_size(v) > MAX_LIMIT_MODELS)
                return "\"models\" maps at most 64 public model names to their limits";
            const char *m;
            json_t *ml;
            json_object_foreach (v, m, ml) {
                if (strlen(m) == 0 || strlen(m) > 128 || !json_is_object(ml))
                    return "\"models\": a model name (1 to 128 characters) -> its limits";
                const char *p = check_counters(ml, 0);
                if (p != NULL)
                    return p;
            }
        } else {
            return "limits: unknown member (requests_per_minute, tokens_per_minute, "
                   "tokens_per_day, input_weight, output_weight, models)";
        }
    }
    return check_counters(l, 1);
}

/* ---- plans ----------------------------------------------------------------------- */

static store_err plan_in_use(store_tx *tx, const char *plan_id, int *used)
{
    json_t *where = json_pack("{ss}", "plan_id", plan_id), *rows = NULL;
    store_err err = where != NULL ? st_list(tx, T_SUBSCRIPTIONS, where, 0, &rows) : ST_NOMEM;
    json_decref(where);
    *used = 0;
    size_t i;
    json_t *r;
    json_array_foreach (rows, i, r) {
        const char *state = json_string_value(json_object_get(r, "state"));
        *used |= strcmp(state, "pending") == 0 || strcmp(state, "approved") == 0;
    }
    json_decref(rows);
    return err;
}

static void create_plan(actx *a, const char *tenant_id)
{
    static const char *const allowed[] = {"name", "limits", NULL};
    const char *name;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !body_string(a, "name", 1, 64, &name))
        return;
    const json_t *limits = json_object_get(a->body, "limits");
    const char *problem = !sv_is_simple_name(name, 64)
                              ? "\"name\": 1 to 64 letters, digits, '.', '_', '-'"
                          : limits == NULL ? "\"limits\" is required"
                                           : limits_check(limits);
    if (problem != NULL) {
        reply_invalid(a, problem);
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN)) {
        change_abort(&c);
        return;
    }
    char *id = sv_new_id("pln_", 12);
    json_t *row = json_pack("{ss ss ss sO sI sI}", "id", id != NULL ? id : "", "tenant_id",
                            tenant_id, "name", name, "limits", limits, "created_at",
                            (json_int_t)c.now, "updated_at", (json_int_t)c.now);
    free(id);
    store_err err = row != NULL ? st_insert(c.tx, T_LLM_PLANS, row) : ST_NOMEM;
    if (err == ST_OK)
        err = change_audit(&c, "plan.create", tenant_id,
                           json_string_value(json_object_get(row, "id")), NULL, row);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "plan (same name)");
    } else {
        change_finish(a, &c, 201, row);
    }
    json_decref(row);
}

static void update_or_delete_plan(actx *a, const char *tenant_id, const char *id, int remove)
{
    static const char *const allowed[] = {"limits", NULL};
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    const json_t *limits = json_object_get(a->body, "limits");
    if (!remove) {
        if (!body_only(a, allowed))
            return;
        const char *problem = limits == NULL ? "\"limits\" is required" : limits_check(limits);
        if (problem != NULL) {
            reply_invalid(a, problem);
            return;
        }
    }
    change c;
    if (!change_start(a, &c))
        return;
    json_t *before = NULL, *after = NULL, *upd = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (before = load_owned_row(a, c.tx, T_LLM_PLANS, tenant_id, id, "plan")) == NULL) {
        change_abort(&c);
        return;
    }
    store_err err = ST_OK;
    if (remove) {
        int used = 0;
        err = plan_in_use(c.tx, id, &used);
        if (err == ST_OK && used) {
            change_abort(&c);
            json_decref(before);
            http_problem(a->r, 409, NULL,
                         "live subscriptions use this plan: give them other limits first");
            return;
        }
        if (err == ST_OK)
            err = st_remove(c.tx, T_LLM_PLANS, id);
        if (err == ST_OK)
            err = change_audit(&c, "plan.delete", tenant_id, id, before, NULL);
    } else {
        upd = json_pack("{sO sI}", "limits", limits, "updated_at", (json_int_t)c.now);
        after = json_deep_copy(before);
        json_object_update(after, upd);
        err = st_update(c.tx, T_LLM_PLANS, id, upd);
        if (err == ST_OK)
            err = change_audit(&c, "plan.update", tenant_id, id, before, after);
    }
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "plan");
    } else {
        change_finish(a, &c, remove ? 204 : 200, after);
    }
    json_decref(before);
    json_decref(after);
    json_decref(upd);
}

void admin_plans(actx *a, const char *tenant_id)
{
    if (a->nseg <= 4 && METHOD("GET"))
        get_owned_rows(a, T_LLM_PLANS, tenant_id, "plan");
    else if (a->nseg == 3 && METHOD("POST"))
        create_plan(a, tenant_id);
    else if (a->nseg == 4 && (METHOD("PATCH") || METHOD("DELETE")))
        update_or_delete_plan(a, tenant_id, a->seg[3], METHOD("DELETE"));
    else if (a->nseg > 4)
        http_problem(a->r, 404, NULL, "no such endpoint");
    else
        reply_method(a, a->nseg == 3 ? "GET, POST" : "GET, PATCH, DELETE");
}

/* ---- a subscription's limits ------------------------------------------------------ */

int limits_body_check(actx *a)
{
    const json_t *plan = json_object_get(a->body, "plan_id");
    const json_t *limits = json_object_get(a->body, "limits");
    const char *problem = plan != NULL && !json_is_null(plan) && !json_is_string(plan)
                              ? "\"plan_id\" must be a plan's id or null"
                          : limits != NULL && !json_is_null(limits) ? limits_check(limits)
                                                                    : NULL;
    if (problem != NULL)
        reply_invalid(a, problem);
    return problem == NULL;
}

int limits_apply(actx *a, change *c, const json_t *sub, json_t *upd)
{
    json_t *plan = json_object_get(a->body, "plan_id");
    json_t *limits = json_object_get(a->body, "limits");
    if (plan == NULL && limits == NULL)
        return 1;
    const char *api_tenant = json_string_value(json_object_get(sub, "api_tenant_id"));
    json_t *api = NULL;
    store_err err =
        st_get_id(c->tx, T_APIS, json_string_value(json_object_get(sub, "api_id")), &api);
    const char *kind = api != NULL ? json_string_value(json_object_get(api, "kind")) : NULL;
    int llm = kind != NULL && strcmp(kind, "llm") == 0;
    json_decref(api);
    if (err != ST_OK) {
        reply_store_error(a, err, "API");
        return 0;
    }
    if (!llm) {
        http_problem(a->r, 409, NULL, "limits belong to subscriptions to APIs of kind llm");
        return 0;
    }
    if (plan != NULL && json_is_string(plan)) {
        json_t *p = NULL;
        err = st_get_id(c->tx, T_LLM_PLANS, json_string_value(plan), &p);
        const char *owner = p != NULL ? json_string_value(json_object_get(p, "tenant_id")) : NULL;
        int mine = owner != NULL && strcmp(owner, api_tenant) == 0;
        json_decref(p);
        if (err == ST_NOT_FOUND || (err == ST_OK && !mine)) {
            reply_invalid(a, "\"plan_id\": no such plan in the API owner's tenant");
            return 0;
        }
        if (err != ST_OK) {
            reply_store_error(a, err, "plan");
            return 0;
        }
    }
    if (plan != NULL)
        json_object_set(upd, "plan_id", plan);
    if (limits != NULL)
        json_object_set(upd, "limits", limits);
    return 1;
}
