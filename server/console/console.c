/* console.c — the web console's embedded files (console.h). */
#include "server/console/console.h"

#include <stdlib.h>
#include <string.h>

extern const char jgd_console_index_html[], jgd_console_app_js[], jgd_console_app_css[];
extern const size_t jgd_console_index_html_len, jgd_console_app_js_len, jgd_console_app_css_len;

/* No inline script or style, nothing from another origin, no framing, no
 * referrer: what the console needs and nothing more. */
static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                          "form-action 'self'; frame-ancestors 'none'";

static void security_headers(request *r)
{
    http_set_header(r, "Content-Security-Policy", CSP);
    http_set_header(r, "X-Frame-Options", "DENY");
    http_set_header(r, "Referrer-Policy", "no-referrer");
    http_set_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    http_set_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    /* the files change with the build: revalidate rather than go stale */
    http_set_header(r, "Cache-Control", "no-cache");
}

static void file(request *r, const char *data, size_t len, const char *ctype)
{
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, data, len);
        copy[len] = '\0';
    }
    http_body(r, 200, ctype, copy, len);
}

void console_route(request *r, const char *rest)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        http_problem(r, 405, NULL, "use GET");
        http_set_header(r, "Allow", "GET, HEAD");
        security_headers(r);
        return;
    }
    if (strcmp(rest, "") == 0) {
        http_body(r, 308, "text/plain; charset=utf-8", strdup("/console/\n"), 10);
        http_set_header(r, "Location", "/console/");
    } else if (strcmp(rest, "/") == 0 || strcmp(rest, "/index.html") == 0) {
        file(r, jgd_console_index_html, jgd_console_index_html_len, "text/html; charset=utf-8");
    } else if (strcmp(rest, "/app.js") == 0) {
        file(r, jgd_console_app_js, jgd_console_app_js_len, "text/javascript; charset=utf-8");
    } else if (strcmp(rest, "/app.css") == 0) {
        file(r, jgd_console_app_css, jgd_console_app_css_len, "text/css; charset=utf-8");
    } else {
        http_problem(r, 404, NULL, "no such page");
    }
    security_headers(r);
}
