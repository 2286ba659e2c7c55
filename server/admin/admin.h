/*
 * admin.h — the management API under /admin/v1/ (docs/openapi.json).
 *
 * Authenticated by personal access tokens ("Authorization: Bearer jgp_..."),
 * stored as SHA-256 hashes. Roles per tenant: owner > admin > developer >
 * viewer; a system administrator may do everything. Errors are RFC 9457
 * problem details. Every change goes through change.h (one transaction with
 * its audit record, then a new snapshot).
 */
#ifndef JGD_ADMIN_H
#define JGD_ADMIN_H

#include "server/http/http.h"

void admin_route(request *r, const char *rest);

#endif
