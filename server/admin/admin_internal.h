/* admin_internal.h — what the admin handlers share (internal). */
#ifndef JGD_ADMIN_INTERNAL_H
#define JGD_ADMIN_INTERNAL_H

#include "server/admin/admin.h"
#include "server/core/change.h"

typedef enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_DEVELOPER, ROLE_ADMIN, ROLE_OWNER } role;

#define MAX_SEGMENTS 8

typedef struct actx {
    request *r;
    jgd *d;
    json_t *user; /* the authenticated user's row */
    const char *user_id;
    int sysadmin;
    char actor[96];
    json_t *body;        /* parsed JSON object for POST/PUT/PATCH ({} when empty) */
    json_t *session;     /* signed in by a console session (session.c): its row; else NULL */
    char session_id[44]; /* its key (the SHA-256 of its token) */
    int restricted;      /* a first-login password's session: it may only change it */
    char *seg[MAX_SEGMENTS];
    size_t nseg;
} actx;

role role_from_name(const char *name);
const char *role_name(role r);
/* The caller's role in `tenant_id` (ROLE_OWNER for system administrators). */
role caller_role(actx *a, store_tx *tx, const char *tenant_id);
/* Check the caller has at least `min` in the tenant; else answer 403 (or
 * 404 when the tenant does not exist) and return 0. */
int require_role(actx *a, store_tx *tx, const char *tenant_id, role min);
int require_sysadmin(actx *a);
/* require_role() in a read transaction of its own, before the body is
 * validated: a caller without the rights learns nothing about what a valid
 * request would be (403 before 422). The change checks again inside its
 * own transaction; this one only decides what to answer first. */
int require_role_first(actx *a, const char *tenant_id, role min);

/* Answers. */
void reply_store_error(actx *a, store_err err, const char *what);
void reply_method(actx *a, const char *allow);
void reply_invalid(actx *a, const char *detail);
/* A row without secret columns. */
json_t *public_row(const json_t *row);
void reply_row(actx *a, unsigned status, const json_t *row);
void reply_rows(actx *a, const json_t *rows);

/* The row `id` of `table` if its "tenant_id" is `tenant_id`; a row of
 * another tenant is answered as not found, so ids do not leak across
 * tenants. Otherwise answers itself (404, 503) and returns NULL. */
json_t *load_owned_row(actx *a, store_tx *tx, store_table table, const char *tenant_id,
                       const char *id, const char *what);
/* GET of a tenant's collection (3 path segments) or of one of its rows (the
 * 4th segment is the id), for viewers and above; answers itself. */
void get_owned_rows(actx *a, store_table table, const char *tenant_id, const char *what);

/* Body members. Each answers 422 itself and returns 0 on a bad value. */
int body_only(actx *a, const char *const *allowed);
/* A string member (NULL when absent and not required). */
int body_string(actx *a, const char *name, int required, size_t max, const char **out);
int body_int(actx *a, const char *name, int required, int64_t min, int64_t max, int64_t *out,
             int *present);
int body_bool(actx *a, const char *name, int *out, int *present);
/* An array of distinct scope tokens (json_t owned by the caller). */
int body_scopes(actx *a, const char *name, int required, json_t **out);

/* Read-only transaction; answers 503 on failure and returns 0. */
int read_begin(actx *a, store_tx **tx);
/* Start a change; answers 503 on failure and returns 0. */
int change_start(actx *a, change *c);
/* Commit; answers with `row` and `status` on success. */
void change_finish(actx *a, change *c, unsigned status, const json_t *row);

/* Handlers, by area. Each gets the path segments after /admin/v1/. */
void admin_me(actx *a);
void admin_users(actx *a);
void admin_tokens(actx *a);
void admin_tenants(actx *a);
void admin_members(actx *a, const char *tenant_id);
void admin_apis(actx *a, const char *tenant_id);
void admin_apps(actx *a, const char *tenant_id);
void admin_subscriptions(actx *a, const char *tenant_id);
void admin_tenant_audit(actx *a, const char *tenant_id);
void admin_catalog(actx *a);
void admin_keys(actx *a);
void admin_audit(actx *a);
void admin_stats(actx *a);
/* An API's OpenAPI document (apidocs.c): apis/{api}/openapi and catalog/{api}/openapi;
 * api_doc_facts: {api_id: {title, doc_version, size, updated_at}} of every API that has one. */
void admin_api_doc(actx *a, const char *tenant_id, const char *id);
void admin_catalog_doc(actx *a, const char *id);
json_t *api_doc_facts(store_tx *tx);
void admin_gateways(actx *a);
/* Plans and subscription limits (limits.c). limits_check: NULL if `l` is a
 * valid limits object, else the problem. limits_body_check: the body's
 * "plan_id" and "limits" (each optional, null clears), answered 422 if bad.
 * limits_apply: inside change c, checks them against subscription `sub`
 * (an llm API; a plan of the API owner's tenant) and adds them to `upd`;
 * answered and 0 if refused. */
void admin_plans(actx *a, const char *tenant_id);
/* GET /admin/v1/usage (usage.c). */
void admin_usage(actx *a);
const char *limits_check(const json_t *l);
int limits_body_check(actx *a);
int limits_apply(actx *a, change *c, const json_t *sub, json_t *upd);
/* An llm API's providers and their key pools (llm.c); seg[4] is "providers". */
void admin_llm(actx *a, const char *tenant_id, const char *api_id);
/* Console sessions and passwords (session.c). */
void admin_session(actx *a);
void admin_my_password(actx *a);
void admin_user_auth(actx *a);
/* Whether the request carries a session cookie; authenticate by it (1, or 0
 * with the reply made: 401, or 403 for a change without its CSRF token). */
int session_present(actx *a);
int session_authenticate(actx *a);
/* Hash `pw` and make it user_id's password (must_change: a first-login
 * one), ending the user's sessions; audited as user.password. In c. */
store_err password_set(change *c, const char *user_id, const char *pw, int must_change);

/*
 * An API now defines only `api_scopes`: every live (pending or approved)
 * subscription to it loses the scopes it no longer defines, inside change
 * `c`, each with its own audit record ("subscription.scopes_trimmed") in both
 * tenants. Re-adding a scope later does not give it back: that takes a new
 * subscription request and its approval. *trimmed counts the rows changed.
 */
store_err subscriptions_trim(change *c, const char *api_id, const json_t *api_scopes,
                             size_t *trimmed);

/* Create a personal access token for `user_id` inside change `c`; the
 * token text (free with jg_free_secret) and the row go to the caller. */
int pat_create(change *c, const char *user_id, const char *name, int64_t expires_at, char **token,
               json_t **row);

#endif
