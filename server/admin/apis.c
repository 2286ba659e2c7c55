/*
 * apis.c — APIs of a tenant and their lifecycle:
 * draft -> published -> deprecated (with a sunset date) -> retired.
 * Base path and audience are unique across all tenants (the gateway routes
 * by base path; tokens name APIs by audience) and fixed once published.
 * An API's kind (http, or llm: its providers in llm.c) is fixed at creation.
 */
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin_internal.h"
#include "server/core/util.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

static int valid_base_path(const char *p)
{
    if (p == NULL || p[0] != '/' || strlen(p) > 256)
        return 0;
    if (strcmp(p, "/") == 0)
        return 0; /* would swallow every other API */
    size_t n = strlen(p);
    if (p[n - 1] == '/' || strstr(p, "//") != NULL || strstr(p, "/./") != NULL ||
        strstr(p, "/../") != NULL)
        return 0;
    for (const char *c = p; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u >= 0x7f || u == '?' || u == '#' || u == '%' || u == '\\')
            return 0;
    }
    n = strlen(p);
    return !(n >= 3 && strcmp(p + n - 3, "/..") == 0) && !(n >= 2 && strcmp(p + n - 2, "/.") == 0);
}

static int valid_upstream(const char *u)
{
    return u != NULL && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           sv_is_absolute_uri(u);
}

/* What an API demands of the tokens presented to it at a gateway: a bearer
 * token is enough (none), or it must be sender-constrained (RFC 9449 DPoP,
 * RFC 8705 certificate-bound, or either). */
#define BINDING_VALUES "\"require_binding\" must be none, dpop, mtls or any"

static void create_api(actx *a, const char *tenant_id)
{
    static const char *const allowed[] = {"name",     "version", "base_path", "upstream",
                                          "audience", "scopes",  "policy",    "require_binding",
                                          "kind",     NULL};
    const char *name, *version, *base_path, *upstream, *audience, *policy, *binding, *kind;
    json_t *scopes = NULL;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !body_string(a, "name", 1, 64, &name) ||
        !body_string(a, "version", 1, 32, &version) ||
        !body_string(a, "base_path", 1, 256, &base_path) ||
        !body_string(a, "upstream", 0, 2048, &upstream) ||
        !body_string(a, "audience", 1, 2048, &audience) ||
        !body_string(a, "policy", 0, 16, &policy) ||
        !body_string(a, "require_binding", 0, 16, &binding) ||
        !body_string(a, "kind", 0, 8, &kind) || !body_scopes(a, "scopes", 0, &scopes))
        return;
    /* An llm API's upstreams are its providers: its own is optional (kept
     * as "" then: the column is NOT NULL, and the snapshot leaves it out). */
    int llm = kind != NULL && strcmp(kind, "llm") == 0;
    const char *problem =
        kind != NULL && strcmp(kind, "http") != 0 && !llm ? "\"kind\" must be http or llm"
        : upstream == NULL && !llm                        ? "\"upstream\" is required"
        : !sv_is_simple_name(name, 64)    ? "\"name\": letters, digits, '.', '_', '-'"
        : !sv_is_simple_name(version, 32) ? "\"version\": letters, digits, '.', '_', '-'"
        : !valid_base_path(base_path) ? "\"base_path\" must be an absolute path without '.', '..', "
                                        "'//', '%', '?', '#' or a trailing '/'"
        : upstream != NULL && !valid_upstream(upstream)
            ? "\"upstream\" must be an http or https URL"
        : !sv_is_absolute_uri(audience) ? "\"audience\" must be an absolute URI without a fragment"
        : policy != NULL && strcmp(policy, "manual") != 0 && strcmp(policy, "automatic") != 0
            ? "\"policy\" must be manual or automatic"
        : binding != NULL && jg_api_binding_parse(binding) < 0 ? BINDING_VALUES
                                                               : NULL;
    if (problem != NULL) {
        json_decref(scopes);
        reply_invalid(a, problem);
        return;
    }
    change c;
    if (!change_start(a, &c)) {
        json_decref(scopes);
        return;
    }
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN)) {
        change_abort(&c);
        json_decref(scopes);
        return;
    }
    char *id = sv_new_id("api_", 12);
    json_t *row =
        json_pack("{ss ss ss ss ss ss ss so ss ss sI sI ss ss}", "id", id != NULL ? id : "",
                  "tenant_id", tenant_id, "name", name, "version", version, "base_path", base_path,
                  "upstream", upstream != NULL ? upstream : "", "audience", audience, "scopes",
                  scopes != NULL ? scopes : json_array(), "policy",
                  policy != NULL ? policy : "manual", "state", "draft", "created_at",
                  (json_int_t)c.now, "updated_at", (json_int_t)c.now, "require_binding",
                  binding != NULL ? binding : "none", "kind", kind != NULL ? kind : "http");
    free(id);
    store_err err = row != NULL ? st_insert(c.tx, T_APIS, row) : ST_NOMEM;
    if (err == ST_OK)
        err = change_audit(&c, "api.create", tenant_id,
                           json_string_value(json_object_get(row, "id")), NULL, row);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "API (same base path, audience, or name and version)");
    } else {
        change_finish(a, &c, 201, row);
    }
    json_decref(row);
}

static void update_api(actx *a, const char *tenant_id, const char *id)
{
    static const char *const allowed[] = {"upstream", "scopes",          "policy", "base_path",
                                          "audience", "require_binding", NULL};
    const char *upstream, *policy, *base_path, *audience, *binding;
    json_t *scopes = NULL;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !body_string(a, "upstream", 0, 2048, &upstream) ||
        !body_string(a, "policy", 0, 16, &policy) ||
        !body_string(a, "base_path", 0, 256, &base_path) ||
        !body_string(a, "audience", 0, 2048, &audience) ||
        !body_string(a, "require_binding", 0, 16, &binding) ||
        !body_scopes(a, "scopes", 0, &scopes))
        return;
    const char *problem =
        upstream != NULL && !valid_upstream(upstream) ? "\"upstream\" must be an http or https URL"
        : base_path != NULL && !valid_base_path(base_path)  ? "\"base_path\" is not a valid path"
        : audience != NULL && !sv_is_absolute_uri(audience) ? "\"audience\" must be an absolute URI"
        : policy != NULL && strcmp(policy, "manual") != 0 && strcmp(policy, "automatic") != 0
            ? "\"policy\" must be manual or automatic"
        : binding != NULL && jg_api_binding_parse(binding) < 0 ? BINDING_VALUES
        : json_object_size(a->body) == 0                       ? "nothing to change"
                                                               : NULL;
    if (problem != NULL) {
        json_decref(scopes);
        reply_invalid(a, problem);
        return;
    }
    change c;
    if (!change_start(a, &c)) {
        json_decref(scopes);
        return;
    }
    json_t *before = NULL, *upd = json_object(), *after = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (before = load_owned_row(a, c.tx, T_APIS, tenant_id, id, "API")) == NULL) {
        change_abort(&c);
        goto out;
    }
    const char *state = json_string_value(json_object_get(before, "state"));
    if ((base_path != NULL || audience != NULL) && strcmp(state, "draft") != 0) {
        change_abort(&c);
        http_problem(a->r, 409, NULL, "base_path and audience are fixed once an API is published");
        goto out;
    }
    if (strcmp(state, "retired") == 0) {
        change_abort(&c);
        http_problem(a->r, 409, NULL, "a retired API cannot change");
        goto out;
    }
    if (upstream != NULL)
        json_object_set_new(upd, "upstream", json_string(upstream));
    if (policy != NULL)
        json_object_set_new(upd, "policy", json_string(policy));
    if (binding != NULL)
        json_object_set_new(upd, "require_binding", json_string(binding));
    if (base_path != NULL)
        json_object_set_new(upd, "base_path", json_string(base_path));
    if (audience != NULL)
        json_object_set_new(upd, "audience", json_string(audience));
    if (scopes != NULL)
        json_object_set(upd, "scopes", scopes);
    json_object_set_new(upd, "updated_at", json_integer(c.now));
    after = json_deep_copy(before);
    json_object_update(after, upd);
    store_err err = st_update(c.tx, T_APIS, id, upd);
    if (err == ST_OK)
        err = change_audit(&c, "api.update", tenant_id, id, before, after);
    /* A scope the API no longer defines is taken from its subscriptions in
     * the same change: nothing can grant it any more. */
    size_t trimmed = 0;
    if (err == ST_OK && scopes != NULL)
        err = subscriptions_trim(&c, id, scopes, &trimmed);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "API (same base path or audience)");
    } else {
        change_finish(a, &c, 200, after);
    }
out:
    json_decref(scopes);
    json_decref(before);
    json_decref(after);
    json_decref(upd);
}

/* The only transitions there are. */
static int transition_ok(const char *from, const char *to)
{
    return (strcmp(from, "draft") == 0 && strcmp(to, "published") == 0) ||
           (strcmp(from, "published") == 0 && strcmp(to, "deprecated") == 0) ||
           (strcmp(from, "deprecated") == 0 && strcmp(to, "retired") == 0);
}

static void transition_api(actx *a, const char *tenant_id, const char *id)
{
    static const char *const allowed[] = {"state", "sunset", NULL};
    const char *to = NULL;
    int64_t sunset = 0;
    int has_sunset = 0;
    if (!require_role_first(a, tenant_id, ROLE_ADMIN))
        return;
    if (!body_only(a, allowed) || !body_string(a, "state", 1, 16, &to) ||
        !body_int(a, "sunset", 0, 0, INT64_C(253402300799), &sunset, &has_sunset))
        return;
    if (strcmp(to, "deprecated") == 0 && (!has_sunset || sunset <= sv_now())) {
        reply_invalid(
            a, "deprecating needs \"sunset\": a time in the future (seconds since the epoch)");
        return;
    }
    if (has_sunset && strcmp(to, "deprecated") != 0) {
        reply_invalid(a, "\"sunset\" belongs to the deprecated state only");
        return;
    }
    change c;
    if (!change_start(a, &c))
        return;
    json_t *before = NULL, *after = NULL, *upd = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (before = load_owned_row(a, c.tx, T_APIS, tenant_id, id, "API")) == NULL) {
        change_abort(&c);
        return;
    }
    const char *from = json_string_value(json_object_get(before, "state"));
    if (!transition_ok(from, to)) {
        char detail[128];
        snprintf(detail, sizeof detail, "an API cannot go from %s to %.16s", from, to);
        change_abort(&c);
        json_decref(before);
        http_problem(a->r, 409, "Invalid lifecycle transition", detail);
        return;
    }
    upd = json_pack("{ss sI}", "state", to, "updated_at", (json_int_t)c.now);
    if (has_sunset)
        json_object_set_new(upd, "sunset", json_integer(sunset));
    if (strcmp(to, "deprecated") == 0)
        json_object_set_new(upd, "deprecated_at", json_integer((json_int_t)c.now));
    after = json_deep_copy(before);
    json_object_update(after, upd);
    store_err err = st_update(c.tx, T_APIS, id, upd);
    if (err == ST_OK)
        err = change_audit(&c, "api.transition", tenant_id, id, before, after);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "API");
    } else {
        change_finish(a, &c, 200, after);
    }
    json_decref(before);
    json_decref(after);
    json_decref(upd);
}

static void delete_api(actx *a, const char *tenant_id, const char *id)
{
    change c;
    if (!change_start(a, &c))
        return;
    json_t *before = NULL;
    if (!require_role(a, c.tx, tenant_id, ROLE_ADMIN) ||
        (before = load_owned_row(a, c.tx, T_APIS, tenant_id, id, "API")) == NULL) {
        change_abort(&c);
        return;
    }
    if (strcmp(json_string_value(json_object_get(before, "state")), "draft") != 0) {
        change_abort(&c);
        json_decref(before);
        http_problem(a->r, 409, NULL, "only a draft API can be deleted; retire it instead");
        return;
    }
    store_err err = st_remove(c.tx, T_APIS, id);
    if (err == ST_OK)
        err = change_audit(&c, "api.delete", tenant_id, id, before, NULL);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "API");
    } else {
        change_finish(a, &c, 204, NULL);
    }
    json_decref(before);
}

void admin_apis(actx *a, const char *tenant_id)
{
    if (a->nseg == 3 && METHOD("POST")) {
        create_api(a, tenant_id);
        return;
    }
    if (a->nseg <= 4 && METHOD("GET")) {
        get_owned_rows(a, T_APIS, tenant_id, "API");
        return;
    }
    if (a->nseg == 4 && METHOD("PATCH")) {
        update_api(a, tenant_id, a->seg[3]);
        return;
    }
    if (a->nseg == 4 && METHOD("DELETE")) {
        delete_api(a, tenant_id, a->seg[3]);
        return;
    }
    if (a->nseg == 5 && strcmp(a->seg[4], "lifecycle") == 0) {
        if (METHOD("POST"))
            transition_api(a, tenant_id, a->seg[3]);
        else
            reply_method(a, "POST");
        return;
    }
    if (a->nseg == 5 && strcmp(a->seg[4], "openapi") == 0) {
        admin_api_doc(a, tenant_id, a->seg[3]);
        return;
    }
    if (a->nseg >= 5 && strcmp(a->seg[4], "providers") == 0) {
        admin_llm(a, tenant_id, a->seg[3]);
        return;
    }
    if (a->nseg > 5 || (a->nseg == 5 && strcmp(a->seg[4], "lifecycle") != 0)) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    reply_method(a, a->nseg == 3 ? "GET, POST" : "GET, PATCH, DELETE");
}
