/*
 * apidocs.c — an API's OpenAPI document, for the catalogue: its owner puts
 * one (PUT .../apis/{api}/openapi, admin+; JSON, up to 1 MiB, an OpenAPI 3
 * or Swagger 2 document: "openapi" or "swagger", "info" with a title,
 * "paths"), anyone signed in reads it through the catalogue while the API is
 * published or deprecated (GET catalog/{api}/openapi), the tenant's members
 * at any time (GET .../apis/{api}/openapi). It is documentation: the gateway
 * does not read it, and no snapshot carries it.
 */
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "server/core/util.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

/* NULL when `doc` looks like an OpenAPI document; else why not. */
static const char *doc_problem(const json_t *doc, const char **title, const char **version)
{
    const json_t *oas = json_object_get(doc, "openapi"), *sw = json_object_get(doc, "swagger");
    const json_t *info = json_object_get(doc, "info");
    *title = json_string_value(json_object_get(info, "title"));
    *version = json_string_value(json_object_get(info, "version"));
    if (!(json_is_string(oas) && strncmp(json_string_value(oas), "3.", 2) == 0) &&
        !(json_is_string(sw) && strcmp(json_string_value(sw), "2.0") == 0))
        return "not an OpenAPI document: \"openapi\": \"3.x\" (or \"swagger\": \"2.0\") is missing";
    if (!json_is_object(info) || *title == NULL || strlen(*title) > 200)
        return "\"info\" needs a \"title\" (at most 200 characters)";
    if (*version != NULL && strlen(*version) > 64)
        return "\"info.version\" has at most 64 characters";
    if (!json_is_object(json_object_get(doc, "paths")))
        return "\"paths\" must be an object";
    return NULL;
}

static void put_doc(actx *a, const char *tenant_id, const char *id)
{
    const char *title = NULL, *version = NULL;
    const char *why = doc_problem(a->body, &title, &version);
    if (why != NULL) {
        reply_invalid(a, why);
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    json_t *api = NULL, *old = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (api = load_owned_row(a, c.tx, T_APIS, tenant_id, id, "API")) == NULL) {
        change_abort(&c);
        return;
    }
    json_decref(api);
    json_t *facts = json_pack("{ss ss ss sI sI}", "api_id", id, "title", title, "doc_version",
                              version != NULL ? version : "", "size", (json_int_t)a->r->body_len,
                              "updated_at", (json_int_t)c.now);
    json_t *body = json_pack("{ss sO}", "api_id", id, "doc", a->body);
    store_err err =
        facts != NULL && body != NULL ? st_get_id(c.tx, T_API_DOCS, id, &old) : ST_NOMEM;
    if (err == ST_OK || err == ST_NOT_FOUND) {
        int had = err == ST_OK;
        /* replace: remove and insert (an update may not name the key column) */
        if (had && (err = st_remove(c.tx, T_API_DOCS, id)) == ST_OK)
            err = st_remove(c.tx, T_API_DOC_BODIES, id);
        else if (!had)
            err = ST_OK;
        if (err == ST_OK)
            err = st_insert(c.tx, T_API_DOCS, facts);
        if (err == ST_OK)
            err = st_insert(c.tx, T_API_DOC_BODIES, body);
        if (err == ST_OK) /* the facts, not the document, in the audit log */
            err = change_audit(&c, "api.openapi", tenant_id, id, old, facts);
    }
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "OpenAPI document");
    } else {
        change_finish(a, &c, 200, facts);
    }
    json_decref(old);
    json_decref(facts);
    json_decref(body);
}

static void delete_doc(actx *a, const char *tenant_id, const char *id)
{
    change c;
    if (!change_start(a, &c))
        return;
    json_t *api = NULL, *old = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (api = load_owned_row(a, c.tx, T_APIS, tenant_id, id, "API")) == NULL) {
        change_abort(&c);
        return;
    }
    json_decref(api);
    store_err err = st_get_id(c.tx, T_API_DOCS, id, &old);
    if (err == ST_OK && (err = st_remove(c.tx, T_API_DOCS, id)) == ST_OK &&
        (err = st_remove(c.tx, T_API_DOC_BODIES, id)) == ST_OK)
        err = change_audit(&c, "api.openapi.delete", tenant_id, id, old, NULL);
    json_decref(old);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "OpenAPI document");
    } else {
        change_finish(a, &c, 204, NULL);
    }
}

/* The document of API `id` (its owner's check done by the caller). */
static void send_doc(actx *a, store_tx *tx, const char *id)
{
    json_t *row = NULL;
    store_err err = st_get_id(tx, T_API_DOC_BODIES, id, &row);
    if (err != ST_OK) {
        reply_store_error(a, err, "OpenAPI document");
        return;
    }
    http_json(a->r, 200, json_object_get(row, "doc"));
    json_decref(row);
}

void admin_api_doc(actx *a, const char *tenant_id, const char *id)
{
    if (METHOD("PUT")) {
        put_doc(a, tenant_id, id);
        return;
    }
    if (METHOD("DELETE")) {
        delete_doc(a, tenant_id, id);
        return;
    }
    if (!METHOD("GET")) {
        reply_method(a, "GET, PUT, DELETE");
        return;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    json_t *api = NULL;
    if (require_role(a, tx, tenant_id, ROLE_VIEWER) &&
        (api = load_owned_row(a, tx, T_APIS, tenant_id, id, "API")) != NULL)
        send_doc(a, tx, id);
    json_decref(api);
    store_rollback(tx);
}

void admin_catalog_doc(actx *a, const char *id)
{
    if (!METHOD("GET")) {
        reply_method(a, "GET");
        return;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    json_t *api = NULL;
    store_err err = st_get_id(tx, T_APIS, id, &api);
    const char *state = json_string_value(json_object_get(api, "state"));
    if (err == ST_OK && state != NULL && strcmp(state, "published") != 0 &&
        strcmp(state, "deprecated") != 0)
        err = ST_NOT_FOUND; /* not in the catalogue */
    if (err != ST_OK)
        reply_store_error(a, err, "API");
    else
        send_doc(a, tx, id);
    json_decref(api);
    store_rollback(tx);
}

json_t *api_doc_facts(store_tx *tx)
{
    json_t *rows = NULL, *by_api = json_object();
    if (st_list(tx, T_API_DOCS, NULL, 0, &rows) == ST_OK) {
        size_t i;
        json_t *row;
        json_array_foreach (rows, i, row)
            json_object_set(by_api, json_string_value(json_object_get(row, "api_id")), row);
    }
    json_decref(rows);
    return by_api;
}
