/*
 * server.c — the libmicrohttpd daemon: a pool of worker threads, each
 * request collected into a `request` (body bounded by MAX_BODY), routed
 * once complete, answered, logged without query strings or bodies.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "server/core/log.h"
#include "server/core/util.h"
#include "server/http/guard.h"
#include "server/http/http.h"
#include "server/http/net.h"
#include "server/oauth/client_cert.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

const char *http_req_header(request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

typedef struct header_count {
    const char *name;
    size_t n;
} header_count;

static MHD_Result_t count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    header_count *c = cls;
    (void)kind;
    (void)value;
    if (key != NULL && strcasecmp(key, c->name) == 0)
        c->n++;
    return MHD_YES;
}

size_t http_req_header_count(request *r, const char *name)
{
    header_count c = {name, 0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &c);
    return c.n;
}

const char *http_query(request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int http_has_query(request *r)
{
    return MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0;
}

void http_set_header(request *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->hname[i], name) == 0) {
            free(r->hvalue[i]);
            r->hvalue[i] = strdup(value);
            return;
        }
    }
    if (r->nheaders < MAX_RESP_HEADERS) {
        r->hname[r->nheaders] = name;
        r->hvalue[r->nheaders++] = strdup(value);
    }
}

static void release_shared(request *r)
{
    if (r->resp_release != NULL)
        r->resp_release(r->resp_ctx);
    r->resp_release = NULL;
    r->resp_ctx = NULL;
}

void http_body(request *r, unsigned status, const char *ctype, char *owned, size_t len)
{
    if (r->resp != NULL && r->resp_release == NULL)
        jg_free_secret(r->resp, r->resp_len);
    release_shared(r);
    r->status = status;
    r->ctype = ctype;
    r->resp = owned;
    r->resp_len = len;
    if (owned == NULL && status < 500) { /* out of memory while building */
        r->status = 500;
        r->ctype = "text/plain";
    }
}

void http_body_shared(request *r, unsigned status, const char *ctype, const char *data, size_t len,
                      void (*release)(void *ctx), void *ctx)
{
    if (r->resp != NULL)
        jg_free_secret(r->resp, r->resp_len);
    release_shared(r);
    r->status = status;
    r->ctype = ctype;
    r->resp = (char *)data;
    r->resp_len = len;
    r->resp_release = release;
    r->resp_ctx = ctx;
}

void http_suspend(request *r)
{
    r->suspended = 1;
    MHD_suspend_connection(r->conn);
}

void http_resume(request *r)
{
    MHD_resume_connection(r->conn);
}

void http_json(request *r, unsigned status, const json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    http_body(r, status, "application/json", text, text != NULL ? strlen(text) : 0);
}

void http_json_new(request *r, unsigned status, json_t *doc)
{
    http_json(r, status, doc);
    json_decref(doc);
}

static const char *reason_phrase(unsigned status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

void http_problem(request *r, unsigned status, const char *title, const char *detail)
{
    json_t *doc = json_pack("{ss ss si}", "type", "about:blank", "title",
                            title != NULL ? title : reason_phrase(status), "status", (int)status);
    if (doc != NULL && detail != NULL)
        json_object_set_new(doc, "detail", json_string(detail));
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    http_body(r, status, "application/problem+json", text, text != NULL ? strlen(text) : 0);
}

void http_oauth_error(request *r, unsigned status, const char *error, const char *description)
{
    json_t *doc = json_pack("{ss}", "error", error);
    if (doc != NULL && description != NULL)
        json_object_set_new(doc, "error_description", json_string(description));
    http_json_new(r, status, doc);
    http_set_header(r, "Cache-Control", "no-store");
    http_set_header(r, "Pragma", "no-cache");
    if (status == 401)
        http_set_header(r, "WWW-Authenticate", "Basic realm=\"jwtgated\"");
}

static void request_free(request *r)
{
    if (r == NULL)
        return;
    if (r->body != NULL)
        jg_free_secret(r->body, r->body_len); /* may hold client secrets */
    if (r->resp != NULL && r->resp_release == NULL)
        jg_free_secret(r->resp, r->resp_len); /* may hold tokens */
    release_shared(r);
    client_cert_free(r->cert);
    if (r->ext_free != NULL)
        r->ext_free(r->ext);
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->hvalue[i]);
    free(r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    jgd *d = cls;
    (void)toe;
    request_free(*con_cls);
    *con_cls = NULL;
    const union MHD_ConnectionInfo *sc =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (sc != NULL)
        guard_answered(d->guard, sc->socket_context);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    jgd *d = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        guard_opened(d->guard, conn, socket_context);
    else
        guard_closed(d->guard, socket_context);
}

static MHD_Result_t on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    jgd *d = cls;
    return guard_accept(d->guard, addr, len) ? MHD_YES : MHD_NO;
}

/* The response body may hold a token or a one-time secret: libmicrohttpd
 * gets our buffer and hands it back here to be wiped, so no unwiped copy is
 * made. */
typedef struct owned_body {
    char *data;
    size_t len;
} owned_body;

static void wipe_body(void *cls)
{
    owned_body *b = cls;
    jg_free_secret(b->data, b->len + 1);
    free(b);
}

static MHD_Result_t respond(request *r)
{
    jgd *d = r->d;
    if (r->status == 0)
        http_problem(r, 500, NULL, "no response");
    if (r->resp == NULL) {
        r->resp = strdup("internal error\n");
        r->resp_len = r->resp != NULL ? strlen(r->resp) : 0;
    }
    struct MHD_Response *resp = NULL;
    if (r->resp_release != NULL) {
        resp = MHD_create_response_from_buffer_with_free_callback_cls(r->resp_len, r->resp,
                                                                      r->resp_release, r->resp_ctx);
        if (resp == NULL)
            return MHD_NO;
        r->resp_release = NULL; /* the response releases it now */
        r->resp_ctx = NULL;
    } else {
        owned_body *ob = malloc(sizeof *ob);
        if (ob == NULL)
            return MHD_NO;
        ob->data = r->resp;
        ob->len = r->resp_len;
        resp = MHD_create_response_from_buffer_with_free_callback_cls(r->resp_len, r->resp,
                                                                      wipe_body, ob);
        if (resp == NULL) {
            free(ob);
            return MHD_NO;
        }
    }
    r->resp = NULL; /* owned by the response now */
    MHD_add_response_header(resp, "Content-Type", r->ctype != NULL ? r->ctype : "text/plain");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->hvalue[i] != NULL)
            MHD_add_response_header(resp, r->hname[i], r->hvalue[i]);
    MHD_Result_t ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    metrics_status(&d->m, r->status);
    if (d->cfg.access_log)
        log_msg(L_INFO, "%s %s %s %u %.1fms", r->client_ip, r->method, r->path, r->status,
                (sv_mono() - r->started) * 1000.0);
    return ret;
}

/* Every line of header `name`, joined with "," (RFC 9110 section 5.3). */
typedef struct header_join {
    const char *name;
    sv_buf b;
    int n;
} header_join;

static MHD_Result_t join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    header_join *j = cls;
    (void)kind;
    if (key != NULL && value != NULL && strcasecmp(key, j->name) == 0) {
        if (j->n++ > 0)
            sv_buf_puts(&j->b, ",");
        sv_buf_puts(&j->b, value);
    }
    return MHD_YES;
}

/* The address the request is from: the peer, or behind a trusted proxy
 * the client it forwarded for (net.h). */
static void client_ip(jgd *d, struct MHD_Connection *conn, char *out, size_t len, int *from_proxy)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    net_addr peer;
    snprintf(out, len, "?");
    if (ci == NULL || net_from_sockaddr(ci->client_addr, &peer) != 0)
        return;
    net_addr client = peer;
    if (net_match(&d->cfg.trusted_proxies, &peer)) {
        *from_proxy = 1;
        header_join j = {.name = d->cfg.real_ip_header == NET_FORWARDED ? "Forwarded"
                                                                        : "X-Forwarded-For"};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, join_header, &j);
        char *value = sv_buf_take(&j.b, NULL);
        client = net_real_client(&d->cfg.trusted_proxies, &peer, d->cfg.real_ip_header, value);
        free(value);
    }
    net_format(&client, out, len);
}

/* RFC 9112 framing rules libmicrohttpd 0.9.75 is lenient about; each is a
 * request-smuggling or parsing-confusion pattern when a proxy in front
 * reads the message differently. */
typedef struct framing {
    int content_length, transfer_encoding, host, bad_name;
} framing;

static MHD_Result_t count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    framing *f = cls;
    (void)kind;
    (void)value;
    if (key == NULL)
        return MHD_YES;
    f->content_length += strcasecmp(key, "Content-Length") == 0;
    f->transfer_encoding += strcasecmp(key, "Transfer-Encoding") == 0;
    f->host += strcasecmp(key, "Host") == 0;
    /* A field name is a token (RFC 9110 section 5.1): no whitespace
     * before the colon, no control characters. */
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *p) != NULL)
            f->bad_name = 1;
    if (*key == '\0')
        f->bad_name = 1;
    return MHD_YES;
}

static const char *framing_error(struct MHD_Connection *conn, const char *version)
{
    framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.bad_name)
        return "malformed header field name (RFC 9112 section 5.1)";
    if (f.content_length > 1)
        return "more than one Content-Length (RFC 9112 section 6.3)";
    if (f.content_length > 0 && f.transfer_encoding > 0)
        return "both Content-Length and Transfer-Encoding (RFC 9112 section 6.1)";
    if (f.host > 1)
        return "more than one Host (RFC 9112 section 3.2)";
    if (f.host == 0 && version != NULL && strcmp(version, "HTTP/1.1") == 0)
        return "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)";
    return NULL;
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    jgd *d = cls;
    request *r = *con_cls;
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO;
        r->d = d;
        r->conn = conn;
        r->method = method;
        r->path = url;
        r->started = sv_mono();
        client_ip(d, conn, r->client_ip, sizeof r->client_ip, &r->from_proxy);
        *con_cls = r;
        const char *bad = framing_error(conn, version);
        if (bad != NULL) {
            /* Answer before reading any body, and close: after a framing
             * error nothing on this connection can be trusted. */
            http_problem(r, 400, NULL, bad);
            http_set_header(r, "Connection", "close");
            return respond(r);
        }
        return MHD_YES;
    }
    if (r->status != 0) { /* answered already (framing error): discard the rest */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large || r->body_len + n > http_body_limit(r->path)) {
            r->too_large = 1; /* keep reading, keep nothing */
            return MHD_YES;
        }
        char *grown = realloc(r->body, r->body_len + n + 1);
        if (grown == NULL)
            return MHD_NO;
        r->body = grown;
        memcpy(r->body + r->body_len, upload_data, n);
        r->body_len += n;
        r->body[r->body_len] = '\0';
        return MHD_YES;
    }
    const union MHD_ConnectionInfo *sc =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (sc != NULL)
        guard_received(d->guard, sc->socket_context);
    if (r->too_large)
        http_problem(r, 413, NULL, "the request body is too large");
    else {
        r->suspended = 0; /* a resumed long poll is routed again */
        http_route(r);
    }
    if (r->suspended)
        return MHD_YES; /* answered when resumed (http_resume) */
    return respond(r);
}

/* libmicrohttpd's own messages (a client closing mid-request, a refused
 * connection...) are one line per event: under an attack that would be a
 * line per connection, so at most 20 lines per minute reach the log and a
 * count of the rest follows. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static double window_start;
    static unsigned shown, dropped;
    double now = sv_mono();
    pthread_mutex_lock(&mu);
    if (now - window_start >= 60) {
        if (dropped > 0)
            log_msg(L_WARN, "http: %u more libmicrohttpd messages in the last minute not shown",
                    dropped);
        window_start = now;
        shown = dropped = 0;
    }
    int show = shown < 20;
    if (show)
        shown++;
    else
        dropped++;
    pthread_mutex_unlock(&mu);
    if (!show)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    log_msg(L_WARN, "http: %s", line);
}

int http_start(jgd *d, void **handle, unsigned *bound_port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    /* Suspend/resume: gateway long polls wait without a worker thread. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (inet_pton(AF_INET, d->cfg.listen, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)d->cfg.port);
    } else if (inet_pton(AF_INET6, d->cfg.listen, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)d->cfg.port);
        flags |= MHD_USE_IPv6;
    } else {
        log_msg(L_ERR, "http: cannot listen on \"%s\" (an IPv4 or IPv6 address)", d->cfg.listen);
        return -1;
    }
    d->guard = guard_new(&d->cfg.trusted_proxies, d->cfg.max_per_ip, d->cfg.request_timeout);
    if (d->guard == NULL || guard_start(d->guard) != 0) {
        log_msg(L_ERR, "http: cannot start the connection guard");
        return -1;
    }
    struct MHD_Daemon *httpd = MHD_start_daemon(
        flags, (uint16_t)d->cfg.port, on_accept, d, on_request, d, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        d->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT, d->cfg.timeout, MHD_OPTION_CONNECTION_LIMIT,
        d->cfg.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, d, MHD_OPTION_NOTIFY_CONNECTION, on_connection, d,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (httpd == NULL) {
        log_msg(L_ERR, "http: cannot start the server on %s:%u", d->cfg.listen, d->cfg.port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info != NULL ? info->port : d->cfg.port;
    *handle = httpd;
    return 0;
}

void http_stop(jgd *d, void *handle)
{
    /* The reaper first (it shuts down sockets libmicrohttpd owns), then
     * libmicrohttpd (which reports every connection closed), then the table. */
    guard_stop(d->guard);
    if (handle != NULL)
        MHD_stop_daemon(handle);
    guard_free(d->guard);
    d->guard = NULL;
}
