/*
 * llm.c — an llm API's providers and their key pools (docs/ai-gateway.md):
 *
 *   GET    /admin/v1/tenants/{t}/apis/{api}/providers            the chain, by priority
 *   POST   /admin/v1/tenants/{t}/apis/{api}/providers            {name, format, base_url,
 *                                                                 models, priority?, timeout_ms?}
 *   GET    /admin/v1/tenants/{t}/apis/{api}/providers/{name}
 *   PATCH  /admin/v1/tenants/{t}/apis/{api}/providers/{name}     {base_url?, models?, priority?,
 *                                                                 timeout_ms?}
 *   DELETE /admin/v1/tenants/{t}/apis/{api}/providers/{name}     (and its keys)
 *   GET    .../providers/{name}/keys                             id, hint, state, times
 *   POST   .../providers/{name}/keys        {key}             -> 201 {id, hint, state}
 *   PATCH  .../providers/{name}/keys/{id}   {state: active | disabled}
 *   DELETE .../providers/{name}/keys/{id}
 *
 * Reads for the API tenant's viewers, changes for its admins. A provider key
 * is sealed under the master key at once (its API and id authenticated in the
 * JWE's protected header, so a sealed value moved to another row does not
 * open) and never leaves jwtgated again through this API: rows show its last
 * 4 characters. The plaintext in the parsed body is wiped after sealing.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/core/json.h" /* jg__json_wipe_string: the provider key of the body */
#include "server/admin/admin_internal.h"
#include "server/core/masterkey.h"
#include "server/core/util.h"
#include "server/http/http.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

/* Limits: a chain and its models stay small enough for one snapshot record. */
#define MAX_PROVIDERS      16
#define MAX_MODELS         64
#define MAX_MODEL_NAME     128
#define MAX_KEYS           64
#define KEY_MIN            16
#define KEY_MAX            512
#define TIMEOUT_MIN_MS     100
#define TIMEOUT_MAX_MS     600000
#define TIMEOUT_DEFAULT_MS 60000

/*
 * The wire formats a provider may speak: one row each, so a new format is a
 * row here (and its translation in the data plane). `path` is the chat
 * endpoint under base_url; `auth` how the provider key is presented.
 */
typedef struct llm_format {
    const char *name, *path, *auth;
} llm_format;

static const llm_format formats[] = {
    /* OpenAI Chat Completions and the servers compatible with it (Mistral,
     * DeepSeek, Groq, vLLM, Ollama, LM Studio). */
    {"openai", "/chat/completions", "authorization-bearer"},
    /* Anthropic Messages. */
    {"anthropic", "/messages", "x-api-key"},
};

static const llm_format *format_named(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

/* http or https, an absolute URI with a host, no user information (it would
 * be a credential in a shown row), no query or fragment, no trailing '/'. */
static int valid_base_url(const char *u)
{
    size_t skip = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
    if (skip == 0 || !sv_is_absolute_uri(u) || u[skip] == '\0' || u[skip] == '/')
        return 0;
    size_t authority = strcspn(u + skip, "/");
    if (memchr(u + skip, '@', authority) != NULL)
        return 0;
    size_t n = strlen(u);
    return strpbrk(u, "?# ") == NULL && u[n - 1] != '/';
}

/* A model name, public or the provider's: printable ASCII without spaces,
 * quotes or backslashes (they travel in JSON and headers). */
static int valid_model_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_MODEL_NAME)
        return 0;
    for (const char *c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u >= 0x7f || u == '"' || u == '\\')
            return 0;
    }
    return 1;
}

/* "models": {public name -> provider name}, 1 to MAX_MODELS of them. */
static int body_models(actx *a, int required, json_t **out)
{
    *out = NULL;
    json_t *m = json_object_get(a->body, "models");
    if (m == NULL) {
        if (required)
            reply_invalid(a, "\"models\" is required: {public model name: provider model name}");
        return !required;
    }
    if (!json_is_object(m) || json_object_size(m) == 0 || json_object_size(m) > MAX_MODELS) {
        reply_invalid(a, "\"models\" must map 1 to 64 public model names to provider model names");
        return 0;
    }
    const char *k;
    json_t *v;
    json_object_foreach (m, k, v) {
        if (!valid_model_name(k) || !json_is_string(v) || !valid_model_name(json_string_value(v))) {
            reply_invalid(a, "\"models\": names are 1 to 128 printable ASCII characters without "
                             "spaces, quotes or backslashes");
            return 0;
        }
    }
    *out = json_incref(m);
    return 1;
}

/* The API of the path if the caller has `min` in its tenant and it is an llm
 * API; else answered (403/404/409) and NULL. */
static json_t *load_llm_api(actx *a, store_tx *tx, const char *tenant_id, const char *api_id,
                            role min)
{
    if (!require_role(a, tx, tenant_id, min))
        return NULL;
    json_t *api = load_owned_row(a, tx, T_APIS, tenant_id, api_id, "API");
    if (api == NULL)
        return NULL;
    const char *kind = json_string_value(json_object_get(api, "kind"));
    if (kind == NULL || strcmp(kind, "llm") != 0) {
        json_decref(api);
        http_problem(a->r, 409, NULL, "providers belong to APIs of kind llm");
        return NULL;
    }
    return api;
}

/* The provider `name` of the API; answered 404 (or 503) and NULL if none. */
static json_t *load_provider(actx *a, store_tx *tx, const char *api_id, const char *name)
{
    json_t *where = json_pack("{ss ss}", "api_id", api_id, "name", name), *rows = NULL;
    store_err err = where != NULL ? st_list(tx, T_LLM_PROVIDERS, where, 1, &rows) : ST_NOMEM;
    json_decref(where);
    json_t *row = err == ST_OK ? json_incref(json_array_get(rows, 0)) : NULL;
    json_decref(rows);
    if (err == ST_OK && row == NULL)
        err = ST_NOT_FOUND;
    if (err != ST_OK)
        reply_store_error(a, err, "provider");
    return row;
}

static store_err count_rows(store_tx *tx, store_table t, const char *member, const char *value,
                            size_t *n, int64_t *max_priority)
{
    json_t *where = json_pack("{ss}", member, value), *rows = NULL;
    store_err err = where != NULL ? st_list(tx, t, where, 0, &rows) : ST_NOMEM;
    json_decref(where);
    if (err == ST_OK) {
        *n = json_array_size(rows);
        if (max_priority != NULL) {
            *max_priority = -1;
            size_t i;
            json_t *r;
            json_array_foreach (rows, i, r) {
                json_int_t p = json_integer_value(json_object_get(r, "priority"));
                if (p > *max_priority)
                    *max_priority = p;
            }
        }
    }
    json_decref(rows);
    return err;
}

static void finish_or_abort(actx *a, change *c, store_err err, unsigned status, const json_t *row,
                            const char *what)
{
    if (err != ST_OK) {
        change_abort(c);
        reply_store_error(a, err, what);
    } else {
        change_finish(a, c, status, row);
    }
}

static void create_provider(actx *a, const char *tenant_id, const char *api_id)
{
    static const char *const allowed[] = {"name",     "format",     "base_url", "models",
                                          "priority", "timeout_ms", NULL};
    const char *name, *format, *base_url;
    int64_t priority = 0, timeout = TIMEOUT_DEFAULT_MS;
    int has_priority = 0, has_timeout = 0;
    json_t *models = NULL;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !body_string(a, "name", 1, 32, &name) ||
        !body_string(a, "format", 1, 16, &format) ||
        !body_string(a, "base_url", 1, 2048, &base_url) ||
        !body_int(a, "priority", 0, 0, 1000, &priority, &has_priority) ||
        !body_int(a, "timeout_ms", 0, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, &timeout, &has_timeout) ||
        !body_models(a, 1, &models))
        return;
    const char *problem =
        !sv_is_simple_name(name, 32)   ? "\"name\": 1 to 32 letters, digits, '.', '_', '-'"
        : format_named(format) == NULL ? "\"format\" must be openai or anthropic"
        : !valid_base_url(base_url)    ? "\"base_url\" must be an http or https URL without user "
                                         "information, query, fragment or trailing '/'"
                                       : NULL;
    if (problem != NULL) {
        json_decref(models);
        reply_invalid(a, problem);
        return;
    }
    change c;
    if (!change_start(a, &c)) {
        json_decref(models);
        return;
    }
    json_t *api = load_llm_api(a, c.tx, tenant_id, api_id, ROLE_ADMIN), *row = NULL;
    size_t n = 0;
    int64_t max_priority = -1;
    store_err err = ST_OK;
    if (api == NULL ||
        (err = count_rows(c.tx, T_LLM_PROVIDERS, "api_id", api_id, &n, &max_priority)) != ST_OK) {
        change_abort(&c);
        if (api != NULL)
            reply_store_error(a, err, "provider");
        goto out;
    }
    if (n >= MAX_PROVIDERS) {
        change_abort(&c);
        http_problem(a->r, 409, NULL, "an API has at most 16 providers");
        goto out;
    }
    char *id = sv_new_id("prv_", 12);
    /* Appended to the chain unless placed: the fallback order. */
    row = json_pack("{ss ss ss ss sI ss ss sO sI sI sI}", "id", id != NULL ? id : "", "api_id",
                    api_id, "tenant_id", tenant_id, "name", name, "priority",
                    (json_int_t)(has_priority ? priority : max_priority + 1), "format", format,
                    "base_url", base_url, "models", models, "timeout_ms", (json_int_t)timeout,
                    "created_at", (json_int_t)c.now, "updated_at", (json_int_t)c.now);
    free(id);
    err = row != NULL ? st_insert(c.tx, T_LLM_PROVIDERS, row) : ST_NOMEM;
    if (err == ST_OK)
        err = change_audit(&c, "llm_provider.create", tenant_id,
                           json_string_value(json_object_get(row, "id")), NULL, row);
    finish_or_abort(a, &c, err, 201, row, "provider (same name on this API)");
out:
    json_decref(api);
    json_decref(row);
    json_decref(models);
}

static void update_provider(actx *a, const char *tenant_id, const char *api_id, const char *name)
{
    static const char *const allowed[] = {"base_url", "models", "priority", "timeout_ms", NULL};
    const char *base_url;
    int64_t priority = 0, timeout = 0;
    int has_priority = 0, has_timeout = 0;
    json_t *models = NULL;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !body_string(a, "base_url", 0, 2048, &base_url) ||
        !body_int(a, "priority", 0, 0, 1000, &priority, &has_priority) ||
        !body_int(a, "timeout_ms", 0, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, &timeout, &has_timeout) ||
        !body_models(a, 0, &models))
        return;
    const char *problem = base_url != NULL && !valid_base_url(base_url)
                              ? "\"base_url\" must be an http or https URL without user "
                                "information, query, fragment or trailing '/'"
                          : json_object_size(a->body) == 0 ? "nothing to change"
                                                           : NULL;
    if (problem != NULL) {
        json_decref(models);
        reply_invalid(a, problem);
        return;
    }
    change c;
    if (!change_start(a, &c)) {
        json_decref(models);
        return;
    }
    json_t *api = load_llm_api(a, c.tx, tenant_id, api_id, ROLE_ADMIN), *before = NULL,
           *after = NULL, *upd = json_object();
    if (api == NULL || (before = load_provider(a, c.tx, api_id, name)) == NULL) {
        change_abort(&c);
        goto out;
    }
    if (base_url != NULL)
        json_object_set_new(upd, "base_url", json_string(base_url));
    if (models != NULL)
        json_object_set(upd, "models", models);
    if (has_priority)
        json_object_set_new(upd, "priority", json_integer(priority));
    if (has_timeout)
        json_object_set_new(upd, "timeout_ms", json_integer(timeout));
    json_object_set_new(upd, "updated_at", json_integer(c.now));
    after = json_deep_copy(before);
    json_object_update(after, upd);
    const char *id = json_string_value(json_object_get(before, "id"));
    store_err err = st_update(c.tx, T_LLM_PROVIDERS, id, upd);
    if (err == ST_OK)
        err = change_audit(&c, "llm_provider.update", tenant_id, id, before, after);
    finish_or_abort(a, &c, err, 200, after, "provider");
out:
    json_decref(api);
    json_decref(before);
    json_decref(after);
    json_decref(upd);
    json_decref(models);
}

static void delete_provider(actx *a, const char *tenant_id, const char *api_id, const char *name)
{
    change c;
    if (!change_start(a, &c))
        return;
    json_t *api = load_llm_api(a, c.tx, tenant_id, api_id, ROLE_ADMIN), *before = NULL,
           *keys = NULL;
    if (api == NULL || (before = load_provider(a, c.tx, api_id, name)) == NULL) {
        change_abort(&c);
        goto out;
    }
    const char *id = json_string_value(json_object_get(before, "id"));
    /* Its keys go first, each audited, so the log shows every key's end. */
    json_t *where = json_pack("{ss}", "provider_id", id);
    store_err err = where != NULL ? st_list(c.tx, T_LLM_KEYS, where, 0, &keys) : ST_NOMEM;
    json_decref(where);
    size_t i;
    json_t *k;
    json_array_foreach (keys, i, k) {
        const char *kid = json_string_value(json_object_get(k, "id"));
        if (err == ST_OK)
            err = st_remove(c.tx, T_LLM_KEYS, kid);
        if (err == ST_OK)
            err = change_audit(&c, "llm_key.delete", tenant_id, kid, k, NULL);
    }
    if (err == ST_OK)
        err = st_remove(c.tx, T_LLM_PROVIDERS, id);
    if (err == ST_OK)
        err = change_audit(&c, "llm_provider.delete", tenant_id, id, before, NULL);
    finish_or_abort(a, &c, err, 204, NULL, "provider");
out:
    json_decref(api);
    json_decref(before);
    json_decref(keys);
}

/* GET of the chain, of one provider, or of a provider's keys. */
static void get_llm(actx *a, const char *tenant_id, const char *api_id)
{
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    json_t *api = load_llm_api(a, tx, tenant_id, api_id, ROLE_VIEWER), *prov = NULL, *rows = NULL;
    store_err err = ST_OK;
    if (api == NULL)
        goto out;
    if (a->nseg == 5) {
        json_t *where = json_pack("{ss}", "api_id", api_id);
        err = where != NULL ? st_list(tx, T_LLM_PROVIDERS, where, 0, &rows) : ST_NOMEM;
        json_decref(where);
    } else if ((prov = load_provider(a, tx, api_id, a->seg[5])) == NULL) {
        goto out;
    } else if (a->nseg == 6) {
        reply_row(a, 200, prov);
        goto out;
    } else if (a->nseg == 7) {
        json_t *where = json_pack("{sO}", "provider_id", json_object_get(prov, "id"));
        err = where != NULL ? st_list(tx, T_LLM_KEYS, where, 0, &rows) : ST_NOMEM;
        json_decref(where);
    } else {
        json_t *key = NULL;
        err = st_get_id(tx, T_LLM_KEYS, a->seg[7], &key);
        if (err == ST_OK && strcmp(json_string_value(json_object_get(key, "provider_id")),
                                   json_string_value(json_object_get(prov, "id"))) != 0)
            err = ST_NOT_FOUND;
        if (err == ST_OK)
            reply_row(a, 200, key);
        json_decref(key);
        if (err != ST_OK)
            reply_store_error(a, err, "provider key");
        goto out;
    }
    if (err != ST_OK)
        reply_store_error(a, err, "provider");
    else
        reply_rows(a, rows);
out:
    store_rollback(tx);
    json_decref(api);
    json_decref(prov);
    json_decref(rows);
}

/* What the seal binds: a sealed key opens only as the key `id` of `api_id`. */
static void key_binding(char *out, size_t size, const char *api_id, const char *id)
{
    snprintf(out, size, "llm:%s:%s", api_id, id);
}

static void add_key(actx *a, const char *tenant_id, const char *api_id, const char *name)
{
    static const char *const allowed[] = {"key", NULL};
    const char *key;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !body_string(a, "key", 1, KEY_MAX, &key))
        return;
    int printable = strlen(key) >= KEY_MIN;
    for (const char *c = key; *c && printable; c++)
        printable = (unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f;
    if (!printable) {
        reply_invalid(a, "\"key\" must be 16 to 512 printable ASCII characters without spaces");
        return;
    }
    if (a->d->master == NULL) {
        http_problem(a->r, 503, NULL, "no master key: provider keys cannot be sealed");
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    json_t *api = load_llm_api(a, c.tx, tenant_id, api_id, ROLE_ADMIN), *prov = NULL, *row = NULL;
    char *sealed = NULL, *id = NULL;
    store_err err = ST_OK;
    size_t n = 0;
    if (api == NULL || (prov = load_provider(a, c.tx, api_id, name)) == NULL) {
        change_abort(&c);
        goto out;
    }
    const char *prov_id = json_string_value(json_object_get(prov, "id"));
    if ((err = count_rows(c.tx, T_LLM_KEYS, "provider_id", prov_id, &n, NULL)) != ST_OK ||
        n >= MAX_KEYS) {
        change_abort(&c);
        if (err != ST_OK)
            reply_store_error(a, err, "provider key");
        else
            http_problem(a->r, 409, NULL, "a provider has at most 64 keys: delete old ones");
        goto out;
    }
    id = sv_new_id("pk_", 12);
    char bound[96];
    key_binding(bound, sizeof bound, api_id, id != NULL ? id : "");
    if (id == NULL || masterkey_seal_as(a->d->master, bound, "text/plain", key, &sealed) != 0) {
        change_abort(&c);
        http_problem(a->r, 503, NULL, "the provider key could not be sealed: nothing was changed");
        goto out;
    }
    char hint[8];
    snprintf(hint, sizeof hint, "%s", key + strlen(key) - 4);
    row = json_pack("{ss ss ss ss ss ss ss sI}", "id", id, "provider_id", prov_id, "api_id", api_id,
                    "tenant_id", tenant_id, "sealed", sealed, "hint", hint, "state", "active",
                    "created_at", (json_int_t)c.now);
    err = row != NULL ? st_insert(c.tx, T_LLM_KEYS, row) : ST_NOMEM;
    if (err == ST_OK)
        err = change_audit(&c, "llm_key.create", tenant_id, id, NULL, row);
    finish_or_abort(a, &c, err, 201, row, "provider key");
out:
    jg__json_wipe_string(json_object_get(a->body, "key"));
    json_decref(api);
    json_decref(prov);
    json_decref(row);
    free(sealed);
    free(id);
}

/* PATCH {state} or DELETE of one key of the provider. */
static void change_key(actx *a, const char *tenant_id, const char *api_id, const char *name,
                       const char *key_id, int remove)
{
    static const char *const allowed[] = {"state", NULL};
    const char *state = NULL;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!remove && (!body_only(a, allowed) || !body_string(a, "state", 1, 16, &state)))
        return;
    if (!remove && strcmp(state, "active") != 0 && strcmp(state, "disabled") != 0) {
        reply_invalid(a, "\"state\" must be active or disabled");
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    json_t *api = load_llm_api(a, c.tx, tenant_id, api_id, ROLE_ADMIN), *prov = NULL,
           *before = NULL, *after = NULL, *upd = NULL;
    if (api == NULL || (prov = load_provider(a, c.tx, api_id, name)) == NULL) {
        change_abort(&c);
        goto out;
    }
    store_err err = st_get_id(c.tx, T_LLM_KEYS, key_id, &before);
    if (err == ST_OK && strcmp(json_string_value(json_object_get(before, "provider_id")),
                               json_string_value(json_object_get(prov, "id"))) != 0)
        err = ST_NOT_FOUND;
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "provider key");
        goto out;
    }
    if (remove) {
        err = st_remove(c.tx, T_LLM_KEYS, key_id);
        if (err == ST_OK)
            err = change_audit(&c, "llm_key.delete", tenant_id, key_id, before, NULL);
        finish_or_abort(a, &c, err, 204, NULL, "provider key");
        goto out;
    }
    int disable = strcmp(state, "disabled") == 0;
    upd = disable ? json_pack("{ss sI}", "state", state, "disabled_at", (json_int_t)c.now)
                  : json_pack("{ss so}", "state", state, "disabled_at", json_null());
    after = json_deep_copy(before);
    json_object_update(after, upd);
    err = upd != NULL ? st_update(c.tx, T_LLM_KEYS, key_id, upd) : ST_NOMEM;
    if (err == ST_OK)
        err = change_audit(&c, disable ? "llm_key.disable" : "llm_key.enable", tenant_id, key_id,
                           before, after);
    finish_or_abort(a, &c, err, 200, after, "provider key");
out:
    json_decref(api);
    json_decref(prov);
    json_decref(before);
    json_decref(after);
    json_decref(upd);
}

void admin_llm(actx *a, const char *tenant_id, const char *api_id)
{
    /* seg: tenants {t} apis {api} providers [{name} [keys [{id}]]] */
    size_t n = a->nseg;
    if ((n >= 7 && strcmp(a->seg[6], "keys") != 0) || n > 8) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    if (METHOD("GET")) {
        get_llm(a, tenant_id, api_id);
    } else if (n == 5 && METHOD("POST")) {
        create_provider(a, tenant_id, api_id);
    } else if (n == 6 && METHOD("PATCH")) {
        update_provider(a, tenant_id, api_id, a->seg[5]);
    } else if (n == 6 && METHOD("DELETE")) {
        delete_provider(a, tenant_id, api_id, a->seg[5]);
    } else if (n == 7 && METHOD("POST")) {
        add_key(a, tenant_id, api_id, a->seg[5]);
    } else if (n == 8 && (METHOD("PATCH") || METHOD("DELETE"))) {
        change_key(a, tenant_id, api_id, a->seg[5], a->seg[7], METHOD("DELETE"));
    } else {
        reply_method(a, n == 5 || n == 7 ? "GET, POST" : "GET, PATCH, DELETE");
    }
}
