/* discovery.c — RFC 8414 server metadata and the issuer's JWKS, both prebuilt in the view. */
#include <stdlib.h>
#include <string.h>

#include "server/oauth/oauth.h"

static int get_only(request *r)
{
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
        return 1;
    http_problem(r, 405, NULL, "use GET");
    http_set_header(r, "Allow", "GET, HEAD");
    return 0;
}

static void serve_copy(request *r, const char *ctype, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    http_body(r, 200, ctype, copy, len);
}

void oauth_metadata(request *r)
{
    if (!get_only(r))
        return;
    view *v = view_acquire(r->d);
    if (v == NULL) {
        http_problem(r, 503, NULL, "starting");
        return;
    }
    size_t len = 0;
    const char *doc = view_metadata(r->d, v, &len);
    if (doc == NULL) {
        view_release(v);
        http_problem(r, 503, NULL, "out of memory");
        return;
    }
    serve_copy(r, "application/json", doc, len);
    http_set_header(r, "Cache-Control", "public, max-age=300");
    view_release(v);
}

void oauth_jwks(request *r)
{
    if (!get_only(r))
        return;
    view *v = view_acquire(r->d);
    if (v == NULL) {
        http_problem(r, 503, NULL, "starting");
        return;
    }
    serve_copy(r, "application/jwk-set+json", v->jwks_json, v->jwks_len);
    /* Next keys are published ahead of use, so a short cache is safe. */
    http_set_header(r, "Cache-Control", "public, max-age=300");
    view_release(v);
}
