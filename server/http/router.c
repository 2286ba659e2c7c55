/* router.c — which handler answers which path; health, readiness, metrics, OpenAPI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/admin/admin.h"
#include "server/console/console.h"
#include "server/core/readiness.h"
#include "server/core/view.h"
#include "server/gateway/gateway.h"
#include "server/gateway/usage.h"
#include "server/http/guard.h"
#include "server/http/http.h"
#include "server/oauth/oauth.h"
#include "server/snapshot/llm.h"

extern const char jgd_openapi_json[];
extern const size_t jgd_openapi_json_len;

static int is_get(request *r)
{
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
        return 1;
    http_problem(r, 405, NULL, "use GET");
    http_set_header(r, "Allow", "GET, HEAD");
    return 0;
}

static void text(request *r, unsigned status, const char *s)
{
    http_body(r, status, "text/plain; charset=utf-8", strdup(s), strlen(s));
}

static void readyz(request *r)
{
    char buf[512];
    const char *why = readiness_problem(r->d, buf, sizeof buf - 1);
    if (why != NULL) {
        char line[520];
        snprintf(line, sizeof line, "%s\n", why);
        text(r, 503, line);
    } else {
        text(r, 200, "ready\n");
    }
}

static void metrics_page(request *r)
{
    jgd *d = r->d;
    view *v = view_acquire(d);
    char buf[512];
    metrics_state st = {.snapshot_version = v != NULL ? (long)v->version : -1,
                        .published_version = (long)atomic_load(&d->published_version),
                        .snapshot_ok = atomic_load(&d->snapshot_ok),
                        .ready = readiness_problem(d, buf, sizeof buf) == NULL,
                        .connections_refused = guard_refused(d->guard),
                        .connections_cut = guard_cut(d->guard),
                        .gateway_waiting = gateway_waiting(d)};
    view_release(v);
    size_t len = 0;
    char *page = metrics_render(&d->m, &st, &len);
    sv_buf b = {0};
    sv_buf_add(&b, page, len);
    free(page);
    usage_metrics_render(&b);
    sv_buf_printf(&b,
                  "# HELP jwtgated_llm_key_reseals_total Provider keys opened and sealed to the "
                  "gateway secrets key (once per key and secrets key).\n"
                  "# TYPE jwtgated_llm_key_reseals_total counter\n"
                  "jwtgated_llm_key_reseals_total %lu\n",
                  snap_llm_reseals());
    page = sv_buf_take(&b, &len);
    http_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", page, len);
}

static void openapi(request *r)
{
    char *copy = malloc(jgd_openapi_json_len + 1);
    if (copy != NULL) {
        memcpy(copy, jgd_openapi_json, jgd_openapi_json_len);
        copy[jgd_openapi_json_len] = '\0';
    }
    http_body(r, 200, "application/json", copy, jgd_openapi_json_len);
}

size_t http_body_limit(const char *path)
{
    size_t n = strlen(path);
    return strncmp(path, "/admin/v1/tenants/", 18) == 0 && n > 8 &&
                   strcmp(path + n - 8, "/openapi") == 0
               ? MAX_DOC_BODY
               : MAX_BODY;
}

void http_route(request *r)
{
    const char *p = r->path;
    if (strcmp(p, "/oauth2/token") == 0)
        oauth_token(r);
    else if (strcmp(p, "/oauth2/introspect") == 0)
        oauth_introspect(r);
    else if (strcmp(p, "/oauth2/revoke") == 0)
        oauth_revoke(r);
    else if (strcmp(p, "/.well-known/oauth-authorization-server") == 0 ||
             strcmp(p, "/.well-known/openid-configuration") == 0)
        oauth_metadata(r); /* the same RFC 8414 document: OpenID-aware clients look there first */
    else if (strcmp(p, "/.well-known/jwks.json") == 0)
        oauth_jwks(r);
    else if (strcmp(p, "/gateway/v1/snapshot") == 0)
        gateway_snapshot(r);
    else if (strcmp(p, "/gateway/v1/secrets") == 0)
        gateway_secrets(r);
    else if (strcmp(p, "/gateway/v1/usage") == 0)
        gateway_usage(r);
    else if (strncmp(p, "/admin/v1/", 10) == 0)
        admin_route(r, p + 10);
    else if (strcmp(p, "/console") == 0 || strncmp(p, "/console/", 9) == 0)
        console_route(r, p + 8);
    else if (strcmp(p, "/healthz") == 0) {
        if (is_get(r))
            text(r, 200, "ok\n");
    } else if (strcmp(p, "/readyz") == 0) {
        if (is_get(r))
            readyz(r);
    } else if (strcmp(p, "/metrics") == 0) {
        if (is_get(r))
            metrics_page(r);
    } else if (strcmp(p, "/openapi.json") == 0) {
        if (is_get(r))
            openapi(r);
    } else
        http_problem(r, 404, NULL, "no such endpoint");
}
