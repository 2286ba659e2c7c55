/* system.c — the API catalogue, keys and their rotation, audit queries. */
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "server/core/stats.h"
#include "server/core/util.h"
#include "server/http/http.h"
#include "server/keys/keys.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

/* Published and deprecated APIs of every tenant: what one may subscribe to. */
void admin_catalog(actx *a)
{
    if (!METHOD("GET")) {
        reply_method(a, "GET");
        return;
    }
    store_tx *tx = NULL;
    json_t *rows = NULL;
    if (!read_begin(a, &tx))
        return;
    store_err err = st_list(tx, T_APIS, NULL, 0, &rows);
    json_t *docs = err == ST_OK ? api_doc_facts(tx) : NULL;
    store_rollback(tx);
    if (err != ST_OK) {
        reply_store_error(a, err, "API");
        return;
    }
    json_t *items = json_array();
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        const char *state = json_string_value(json_object_get(row, "state"));
        if (strcmp(state, "published") != 0 && strcmp(state, "deprecated") != 0)
            continue;
        json_array_append_new(
            items,
            json_pack("{sO sO sO sO sO sO sO sO sO sO}", "id", json_object_get(row, "id"),
                      "tenant_id", json_object_get(row, "tenant_id"), "name",
                      json_object_get(row, "name"), "version", json_object_get(row, "version"),
                      "base_path", json_object_get(row, "base_path"), "audience",
                      json_object_get(row, "audience"), "scopes", json_object_get(row, "scopes"),
                      "policy", json_object_get(row, "policy"), "state",
                      json_object_get(row, "state"), "sunset", json_object_get(row, "sunset")));
        const json_t *doc = json_object_get(docs, json_string_value(json_object_get(row, "id")));
        if (doc != NULL)
            json_object_set_new(json_array_get(items, json_array_size(items) - 1), "openapi",
                                json_pack("{sO sO}", "title", json_object_get(doc, "title"),
                                          "version", json_object_get(doc, "doc_version")));
    }
    json_decref(rows);
    json_decref(docs);
    http_json_new(a->r, 200, json_pack("{so}", "items", items));
}

/* keys: GET; keys/rotate: POST {purpose: signing|encryption|both}. */
void admin_keys(actx *a)
{
    if (!require_sysadmin(a))
        return;
    if (a->nseg == 1) {
        if (!METHOD("GET")) {
            reply_method(a, "GET");
            return;
        }
        store_tx *tx = NULL;
        json_t *rows = NULL;
        if (!read_begin(a, &tx))
            return;
        store_err err = st_list(tx, T_KEYS, NULL, 0, &rows);
        store_rollback(tx);
        if (err != ST_OK)
            reply_store_error(a, err, "key");
        else
            reply_rows(a, rows);
        json_decref(rows);
        return;
    }
    if (a->nseg != 2 || strcmp(a->seg[1], "rotate") != 0) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    if (!METHOD("POST")) {
        reply_method(a, "POST");
        return;
    }
    static const char *const allowed[] = {"purpose", NULL};
    const char *purpose = NULL;
    if (!body_only(a, allowed) || !body_string(a, "purpose", 0, 16, &purpose))
        return;
    if (purpose == NULL)
        purpose = "both";
    int all = strcmp(purpose, "all") == 0;
    int sig = all || strcmp(purpose, "signing") == 0 || strcmp(purpose, "both") == 0;
    int enc = all || strcmp(purpose, "encryption") == 0 || strcmp(purpose, "both") == 0;
    int sec = all || strcmp(purpose, "secrets") == 0;
    if (!sig && !enc && !sec) {
        reply_invalid(a, "\"purpose\" must be signing, encryption, both, secrets or all");
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    char why[200] = "";
    if ((sig && keys_rotate(&c, KEY_SIGNING, a->d->cfg.signing_alg, why, sizeof why) != 0) ||
        (enc && keys_rotate(&c, KEY_ENCRYPTION, a->d->cfg.encryption_alg, why, sizeof why) != 0) ||
        (sec && keys_rotate(&c, KEY_SECRETS, JG_ALG_DIR, why, sizeof why) != 0)) {
        change_abort(&c);
        http_problem(a->r, 503, "Rotation failed", why);
        return;
    }
    store_err err = change_commit(&c);
    if (err != ST_OK) {
        reply_store_error(a, err, "key");
        return;
    }
    store_tx *tx = NULL;
    json_t *rows = NULL;
    if (!read_begin(a, &tx))
        return;
    err = st_list(tx, T_KEYS, NULL, 0, &rows);
    store_rollback(tx);
    if (err != ST_OK)
        reply_store_error(a, err, "key");
    else
        reply_rows(a, rows);
    json_decref(rows);
}

/* Query parameters since, until (seconds), after (seq), limit. */
static void audit_query(actx *a, const char *tenant_id)
{
    const char *names[] = {"since", "until", "after", "limit"};
    int64_t vals[] = {0, INT64_MAX, 0, 100};
    for (size_t i = 0; i < 4; i++) {
        const char *s = http_query(a->r, names[i]);
        if (s == NULL)
            continue;
        char *end = NULL;
        long long v = strtoll(s, &end, 10);
        if (*s == '\0' || *end != '\0' || v < 0 || (i == 3 && (v < 1 || v > 1000))) {
            char detail[96];
            snprintf(detail, sizeof detail, "\"%s\" must be a non-negative integer%s", names[i],
                     i == 3 ? " from 1 to 1000" : "");
            http_problem(a->r, 400, NULL, detail);
            return;
        }
        vals[i] = v;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    if (tenant_id == NULL || require_role(a, tx, tenant_id, ROLE_ADMIN)) {
        json_t *rows = NULL;
        store_err err =
            st_audit_query(tx, tenant_id, vals[0], vals[1], vals[2], (unsigned)vals[3], &rows);
        if (err != ST_OK)
            reply_store_error(a, err, "audit record");
        else
            http_json_new(a->r, 200, json_pack("{so}", "items", rows));
    }
    store_rollback(tx);
}

void admin_tenant_audit(actx *a, const char *tenant_id)
{
    if (!METHOD("GET")) {
        reply_method(a, "GET");
        return;
    }
    audit_query(a, tenant_id);
}

/* stats: GET, system administrators (the counters are the node's, not a
 * tenant's). */
void admin_stats(actx *a)
{
    if (!require_sysadmin(a))
        return;
    if (!METHOD("GET")) {
        reply_method(a, "GET");
        return;
    }
    size_t len = 0;
    char *doc = stats_json(a->d->stats, &a->d->m, sv_now(), &len);
    if (doc == NULL)
        http_problem(a->r, 500, NULL, "out of memory");
    else
        http_body(a->r, 200, "application/json", doc, len);
}

void admin_audit(actx *a)
{
    if (!require_sysadmin(a))
        return;
    if (!METHOD("GET")) {
        reply_method(a, "GET");
        return;
    }
    audit_query(a, NULL);
}
