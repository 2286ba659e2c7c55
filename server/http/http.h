/*
 * http.h — jwtgated's HTTP layer over GNU libmicrohttpd: one request object
 * per request, handlers that fill in a response, helpers for JSON, RFC 9457
 * problem details and RFC 6749 error responses.
 *
 * Limits: request bodies above MAX_BODY bytes are refused (413) without being
 * kept; idle connections time out (cfg.timeout); header memory per
 * connection is bounded by libmicrohttpd's connection memory limit.
 */
#ifndef JGD_HTTP_H
#define JGD_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "server/core/daemon.h"

#define MAX_BODY         ((size_t)64 * 1024)
#define MAX_DOC_BODY     ((size_t)1024 * 1024) /* an API's OpenAPI document (http_body_limit) */
#define MAX_RESP_HEADERS 8

struct MHD_Connection;

typedef struct request {
    jgd *d;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char *body;
    size_t body_len;
    int too_large;
    double started;
    char client_ip[64];
    int from_proxy; /* the peer is a --trusted-proxy */
    /* The forwarded client certificate (client_cert.h), read on first use. */
    struct client_cert *cert;
    int cert_state; /* 0 unread, else client_cert_get()'s answer + 2 */
    /* Response. */
    unsigned status;
    char *resp;
    size_t resp_len;
    const char *ctype;
    const char *hname[MAX_RESP_HEADERS];
    char *hvalue[MAX_RESP_HEADERS];
    size_t nheaders;
    /* A body shared with others (http_body_shared): released, not wiped. */
    void (*resp_release)(void *ctx);
    void *resp_ctx;
    /* A handler's state kept across a suspension (gateway long polls),
     * freed with ext_free when the request ends. */
    void *ext;
    void (*ext_free)(void *ext);
    int suspended; /* http_suspend() called and not resumed yet */
} request;

/* The largest body a request to `path` may carry: MAX_DOC_BODY for an API's
 * OpenAPI document (PUT /admin/v1/tenants/T/apis/A/openapi), MAX_BODY else. */
size_t http_body_limit(const char *path);

/* Start and stop the server. 0 or -1 (logged). */
int http_start(jgd *d, void **handle, unsigned *bound_port);
void http_stop(jgd *d, void *handle);

/* Request accessors. */
const char *http_req_header(request *r, const char *name);
/* How many times the request has the header `name` (case-insensitive). */
size_t http_req_header_count(request *r, const char *name);
const char *http_query(request *r, const char *name);
/* Whether the request has any query parameter at all. */
int http_has_query(request *r);

/* Responses (each replaces any previous body). */
void http_set_header(request *r, const char *name, const char *value);
void http_body(request *r, unsigned status, const char *ctype, char *owned, size_t len);
/* A body that is not the request's: `data` stays valid until
 * release(ctx), which libmicrohttpd calls once it has sent it (a cached
 * ciphertext shared by many requests; never wiped). */
void http_body_shared(request *r, unsigned status, const char *ctype, const char *data, size_t len,
                      void (*release)(void *ctx), void *ctx);
/* Long polls: suspend the request without answering, so that it holds no
 * worker thread (libmicrohttpd's suspend/resume); http_resume() (from any
 * thread) routes it again in a worker, where the handler answers. Call
 * suspend only from the handler, resume exactly once per suspend. */
void http_suspend(request *r);
void http_resume(request *r);
void http_json(request *r, unsigned status, const json_t *doc);
void http_json_new(request *r, unsigned status, json_t *doc); /* steals doc */
/* RFC 9457 problem details: type "about:blank" unless `type` given. */
void http_problem(request *r, unsigned status, const char *title, const char *detail);
/* RFC 6749 section 5.2 error; 401 adds WWW-Authenticate. */
void http_oauth_error(request *r, unsigned status, const char *error, const char *description);

/* Route one request (router.c). */
void http_route(request *r);

#endif
