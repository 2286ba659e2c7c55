/*
 * console.h — the web console's files (console/, embedded at build time),
 * served at /console/ with a strict Content-Security-Policy and the other
 * security headers on every response. The console is a client of the admin
 * API like the CLI: it signs in with a session (server/admin/session.c) and
 * adds no second model; these handlers only hand out static files.
 */
#ifndef JGD_CONSOLE_H
#define JGD_CONSOLE_H

#include "server/http/http.h"

/* GET/HEAD /console and /console/...; `rest` is the path after "/console". */
void console_route(request *r, const char *rest);

#endif
