/*
 * guard.h — what keeps one client from holding the HTTP server's
 * connections (slowloris and its variants).
 *
 * Two rules, both enforced below libmicrohttpd's handlers:
 *
 *  1. At most `max_per_ip` connections from one peer address at a time
 *     (--max-connections-per-ip). Trusted proxies (--trusted-proxy) are
 *     exempt: they carry many clients, and limit them themselves.
 *  2. A request must arrive whole — request line, headers and body — within
 *     `request_timeout` seconds of the connection opening or of the previous
 *     response on it (--request-timeout). libmicrohttpd's own timeout is an
 *     idle timeout, which a client sending one header line every few seconds
 *     never reaches; this deadline counts from the start, so trickling bytes
 *     does not extend it. A connection past its deadline is shut down (the
 *     socket, not the file descriptor: libmicrohttpd closes that itself).
 *
 * The connection table is shared by libmicrohttpd's worker threads and the
 * guard's own reaper thread under one mutex. libmicrohttpd notifies a closed
 * connection before it closes the descriptor, and the notification takes the
 * same mutex, so the reaper never shuts down a descriptor that was reused.
 */
#ifndef JGD_GUARD_H
#define JGD_GUARD_H

#include <stddef.h>
#include <sys/socket.h>

#include "server/http/net.h"

typedef struct guard guard;
struct MHD_Connection;

/* NULL when out of memory. `trusted` is copied. */
guard *guard_new(const net_cidrs *trusted, unsigned max_per_ip, unsigned request_timeout);
/* Start the reaper thread. 0 or -1. */
int guard_start(guard *g);
/* Stop the reaper (before stopping libmicrohttpd), then free after it. */
void guard_stop(guard *g);
void guard_free(guard *g);

/* libmicrohttpd's accept policy: MHD_YES (1) or MHD_NO (0). A quick look
 * that refuses most connections over the limit before libmicrohttpd
 * allocates anything; the firm check is guard_opened()'s. */
int guard_accept(guard *g, const struct sockaddr *addr, socklen_t len);
/* A connection opened / closed (MHD_OPTION_NOTIFY_CONNECTION). Opened counts
 * the connection against its address, or, when the address is at its limit
 * (connections accepted in parallel by several pool threads), shuts it down
 * at once. */
void guard_opened(guard *g, struct MHD_Connection *conn, void **socket_context);
void guard_closed(guard *g, void **socket_context);
/* The request on the connection has arrived whole: no deadline while it is
 * being answered. */
void guard_received(guard *g, void *socket_context);
/* The response has been sent: the next request's deadline starts now. */
void guard_answered(guard *g, void *socket_context);

/* Counters for /metrics. */
unsigned long guard_refused(guard *g); /* connections over the per-address limit */
unsigned long guard_cut(guard *g);     /* connections past their deadline */

#endif
