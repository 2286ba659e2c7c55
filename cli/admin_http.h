/* admin_http.h — one HTTPS/HTTP request to jwtgated's admin API (libcurl). */
#ifndef JG_CLI_ADMIN_HTTP_H
#define JG_CLI_ADMIN_HTTP_H

#include <stddef.h>

#include <jansson.h>

/*
 * Send `method` `base_url` + "/admin/v1" + `path` with the bearer `token` and
 * `body` (JSON, or NULL). On EXIT_OK, *status is the HTTP status and *resp
 * the body (NUL-terminated; free with jg_free_secret). Connection failures
 * are reported and give EXIT_USAGE. Redirects are not followed (the token
 * must not travel elsewhere).
 */
int admin_http(const char *base_url, const char *token, const char *method, const char *path,
               const json_t *body, long *status, char **resp, size_t *resp_len);

#endif
