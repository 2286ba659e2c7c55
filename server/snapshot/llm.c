/* llm.c — the snapshot's LLM parts, read from the store (llm.h). */
#include "server/snapshot/llm.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/core/log.h"
#include "server/core/masterkey.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/store/store.h"

/* ---- The reseal cache ------------------------------------------------------
 * A provider key's sealed row never changes (a new key is a new id), so a
 * resealed value stays right for its (key id, secrets kid); the master
 * ciphertext is kept beside it and compared, so a restored database whose
 * row differs is resealed anyway. */

typedef struct seal_entry {
    struct seal_entry *next;
    char *key_id, *kid, *source, *sealed;
    unsigned long gen; /* the last build that used it */
} seal_entry;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static seal_entry *cache;
static unsigned long cache_gen, reseals;

static void entry_free(seal_entry *e)
{
    free(e->key_id);
    free(e->kid);
    free(e->source);
    free(e->sealed);
    free(e);
}

size_t snap_llm_cached_keys(void)
{
    pthread_mutex_lock(&cache_mu);
    size_t n = 0;
    for (seal_entry *e = cache; e != NULL; e = e->next)
        n++;
    pthread_mutex_unlock(&cache_mu);
    return n;
}

unsigned long snap_llm_reseals(void)
{
    pthread_mutex_lock(&cache_mu);
    unsigned long n = reseals;
    pthread_mutex_unlock(&cache_mu);
    return n;
}

/* The key `key_id` of `api_id` sealed to `secrets` (a copy the caller frees),
 * or NULL (logged) when it does not open or cannot be sealed. Called with
 * cache_mu held. */
static char *resealed(jgd *d, const jg_jwk *secrets, const char *api_id, const char *key_id,
                      const char *source)
{
    const char *kid = jg_jwk_kid(secrets);
    for (seal_entry *e = cache; e != NULL; e = e->next) {
        if (strcmp(e->key_id, key_id) == 0 && strcmp(e->kid, kid) == 0 &&
            strcmp(e->source, source) == 0) {
            e->gen = cache_gen;
            return strdup(e->sealed);
        }
    }
    char bound[160], *plain = NULL, *out = NULL;
    snprintf(bound, sizeof bound, "llm:%s:%s", api_id, key_id);
    if (masterkey_open(d->master, bound, source, &plain) != 0) {
        log_msg(L_ERR, "snapshot: provider key %s does not open with this master key; left out",
                key_id);
        return NULL;
    }
    int rc = masterkey_seal_as(secrets, bound, "text/plain", plain, &out);
    jg_free_secret(plain, 0);
    if (rc != 0) {
        log_msg(L_ERR, "snapshot: cannot seal provider key %s to the gateway secrets key", key_id);
        return NULL;
    }
    reseals++;
    seal_entry *e = calloc(1, sizeof *e);
    if (e != NULL && (e->key_id = strdup(key_id)) != NULL && (e->kid = strdup(kid)) != NULL &&
        (e->source = strdup(source)) != NULL && (e->sealed = strdup(out)) != NULL) {
        e->gen = cache_gen;
        e->next = cache;
        cache = e;
    } else if (e != NULL) {
        entry_free(e);
    }
    char *copy = strdup(out);
    jg_free(out);
    return copy;
}

/* Drop the entries this build did not use (disabled or deleted keys, an
 * older secrets key). Called with cache_mu held. */
static void sweep(void)
{
    for (seal_entry **p = &cache; *p != NULL;) {
        if ((*p)->gen != cache_gen) {
            seal_entry *gone = *p;
            *p = gone->next;
            entry_free(gone);
        } else {
            p = &(*p)->next;
        }
    }
}

/* ---- Reading ----------------------------------------------------------------- */

static const store_column limits_cols[] = {
    {"id", COL_TEXT}, {"limits", COL_JSON}, {"plan_limits", COL_JSON}, {NULL, COL_TEXT}};
static const char limits_sql[] =
    "SELECT s.id, s.limits, p.limits FROM subscriptions s"
    " LEFT JOIN llm_plans p ON p.id = s.plan_id"
    " WHERE s.state = 'approved' AND (s.limits IS NOT NULL OR s.plan_id IS NOT NULL)";

static const store_column providers_cols[] = {
    {"api_id", COL_TEXT},   {"id", COL_TEXT},     {"name", COL_TEXT},      {"format", COL_TEXT},
    {"base_url", COL_TEXT}, {"models", COL_JSON}, {"timeout_ms", COL_INT}, {NULL, COL_TEXT}};
static const char providers_sql[] =
    "SELECT api_id, id, name, format, base_url, models, timeout_ms FROM llm_providers"
    " ORDER BY api_id, priority, created_at, id";

static const store_column keys_cols[] = {
    {"provider_id", COL_TEXT}, {"id", COL_TEXT}, {"sealed", COL_TEXT}, {NULL, COL_TEXT}};
static const char keys_sql[] = "SELECT provider_id, id, sealed FROM llm_keys"
                               " WHERE state = 'active' ORDER BY provider_id, created_at, id";

static const store_column oq_cols[] = {{"client_id", COL_TEXT},
                                       {"api_id", COL_TEXT},
                                       {"model", COL_TEXT},
                                       {"until", COL_INT},
                                       {NULL, COL_TEXT}};
static const char oq_sql[] = "SELECT client_id, api_id, model, until FROM llm_over_quota"
                             " WHERE until > ?1 ORDER BY client_id, api_id, model";

static store_err load_limits(store_tx *tx, snap_llm *out)
{
    json_t *rows = NULL;
    store_err err = st_query(tx, limits_sql, NULL, limits_cols, &rows);
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        json_t *l = json_object_get(row, "limits");
        if (!json_is_object(l))
            l = json_object_get(row, "plan_limits"); /* inline limits win */
        if (json_is_object(l))
            json_object_set(out->limits, json_string_value(json_object_get(row, "id")), l);
    }
    json_decref(rows);
    return err;
}

/* The llm object: {secrets_kid, apis: [{api_id, providers: [...]}]}. */
static store_err load_llm(jgd *d, const view *v, store_tx *tx, snap_llm *out)
{
    json_t *provs = NULL, *keys = NULL;
    store_err err = st_query(tx, providers_sql, NULL, providers_cols, &provs);
    if (err == ST_OK && json_array_size(provs) == 0) {
        json_decref(provs);
        return ST_OK; /* no llm API has a provider: no section */
    }
    if (err == ST_OK)
        err = st_query(tx, keys_sql, NULL, keys_cols, &keys);
    const jg_jwk *secrets = v->keys->secrets_key;
    if (err == ST_OK && (secrets == NULL || d->master == NULL))
        log_msg(L_WARN, "snapshot: no gateway secrets key yet: the providers are published"
                        " without their keys");
    json_t *apis = json_array(), *by_provider = json_object(), *prov_api = json_object();
    json_t *api = NULL; /* the entry being filled */
    if (apis == NULL || by_provider == NULL || prov_api == NULL)
        err = ST_NOMEM;
    size_t i;
    json_t *row;
    /* provider id -> its "keys" array, filled from the key rows below */
    json_array_foreach (provs, i, row) {
        if (err != ST_OK)
            break;
        const char *api_id = json_string_value(json_object_get(row, "api_id"));
        if (view_api(v, api_id) == NULL)
            continue; /* the API is not in the view (deleted since) */
        if (api == NULL || strcmp(json_string_value(json_object_get(api, "api_id")), api_id) != 0) {
            api = json_pack("{ss s[]}", "api_id", api_id, "providers");
            if (api == NULL || json_array_append_new(apis, api) != 0) {
                err = ST_NOMEM;
                break;
            }
        }
        json_t *karr = json_array();
        json_t *p =
            json_pack("{sO sO sO sO sO so}", "name", json_object_get(row, "name"), "format",
                      json_object_get(row, "format"), "base_url", json_object_get(row, "base_url"),
                      "timeout_ms", json_object_get(row, "timeout_ms"), "models",
                      json_object_get(row, "models"), "keys", karr);
        if (p == NULL || json_array_append_new(json_object_get(api, "providers"), p) != 0 ||
            json_object_set(by_provider, json_string_value(json_object_get(row, "id")), karr) !=
                0 ||
            json_object_set(prov_api, json_string_value(json_object_get(row, "id")),
                            json_object_get(row, "api_id")) != 0)
            err = ST_NOMEM;
    }
    if (err == ST_OK && secrets != NULL && d->master != NULL) {
        pthread_mutex_lock(&cache_mu);
        cache_gen++;
        json_array_foreach (keys, i, row) {
            const char *pid = json_string_value(json_object_get(row, "provider_id"));
            const char *kid = json_string_value(json_object_get(row, "id"));
            json_t *karr = json_object_get(by_provider, pid);
            if (karr == NULL)
                continue;
            /* the API id the key is bound to: its provider's */
            const char *api_id = json_string_value(json_object_get(prov_api, pid));
            char *sealed = api_id != NULL
                               ? resealed(d, secrets, api_id, kid,
                                          json_string_value(json_object_get(row, "sealed")))
                               : NULL;
            if (sealed != NULL)
                json_array_append_new(karr, json_pack("{ss ss}", "id", kid, "sealed", sealed));
            free(sealed);
        }
        sweep();
        pthread_mutex_unlock(&cache_mu);
    }
    if (err == ST_OK)
        out->llm = json_pack("{ss sO}", "secrets_kid", secrets != NULL ? jg_jwk_kid(secrets) : "",
                             "apis", apis);
    json_decref(apis);
    json_decref(by_provider);
    json_decref(prov_api);
    json_decref(provs);
    json_decref(keys);
    return err != ST_OK ? err : out->llm != NULL ? ST_OK : ST_NOMEM;
}

int snap_llm_load(jgd *d, const view *v, int64_t now, snap_llm *out)
{
    memset(out, 0, sizeof *out);
    out->limits = json_object();
    store_tx *tx = NULL;
    store_err err = out->limits != NULL ? store_begin(d->st, 0, &tx) : ST_NOMEM;
    if (err == ST_OK)
        err = load_limits(tx, out);
    if (err == ST_OK)
        err = load_llm(d, v, tx, out);
    json_t *p = json_pack("[I]", (json_int_t)now);
    if (err == ST_OK)
        err = p != NULL ? st_query(tx, oq_sql, p, oq_cols, &out->over_quota) : ST_NOMEM;
    json_decref(p);
    if (tx != NULL)
        store_rollback(tx);
    if (err != ST_OK) {
        log_msg(L_ERR, "snapshot: cannot read the LLM configuration: %s", store_err_name(err));
        snap_llm_free(out);
        return -1;
    }
    return 0;
}

void snap_llm_free(snap_llm *l)
{
    json_decref(l->limits);
    json_decref(l->llm);
    json_decref(l->over_quota);
    memset(l, 0, sizeof *l);
}

static int64_t counter(const json_t *o, const char *name)
{
    return json_integer_value(json_object_get(o, name)); /* 0 when absent: no limit */
}

static uint32_t milli(const json_t *o, const char *name)
{
    const json_t *w = json_object_get(o, name);
    if (!json_is_number(w))
        return 1000; /* the default weight, 1 */
    double m = round(json_number_value(w) * 1000.0);
    return m < 0 ? 0 : m > 1e6 ? 1000000u : (uint32_t)m;
}

void snap_llm_limits_in(const json_t *limits, jg_snapshot_limits_in *in,
                        jg_snapshot_model_limits_in *models)
{
    memset(in, 0, sizeof *in);
    in->requests_per_minute = counter(limits, "requests_per_minute");
    in->tokens_per_minute = counter(limits, "tokens_per_minute");
    in->tokens_per_day = counter(limits, "tokens_per_day");
    in->input_weight_milli = milli(limits, "input_weight");
    in->output_weight_milli = milli(limits, "output_weight");
    const char *name;
    json_t *m;
    size_t n = 0;
    json_object_foreach ((json_t *)json_object_get(limits, "models"), name, m) {
        if (n == 64)
            break; /* the admin API allows no more */
        models[n].model = name;
        models[n].requests_per_minute = counter(m, "requests_per_minute");
        models[n].tokens_per_minute = counter(m, "tokens_per_minute");
        models[n].tokens_per_day = counter(m, "tokens_per_day");
        n++;
    }
    in->models = models;
    in->nmodels = n;
}
