/*
 * view.h — the in-memory read model that the token endpoint works from.
 *
 * Built from the store after every committed change (and at start) — or,
 * for a revocation, derived from the previous view — then swapped in; requests take a reference to
 * the current view and never touch the database on the hot path. A view is immutable once built, so
 * any number of threads read it without locks; jansson objects in it are only read (no reference
 * counts change while it is shared).
 */
#ifndef JGD_VIEW_H
#define JGD_VIEW_H

#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "server/core/daemon.h"

typedef struct pk_client {
    const char *client_id; /* borrowed from the clients object */
    jg_jwks *keys;         /* the client's registered public keys */
} pk_client;

typedef struct view {
    atomic_int refs;
    /* A view derived from `base` by a revocation (view_derive_revoked) owns
     * only `revoked`; every other member is borrowed from base, which it
     * holds a reference to. NULL for a view built from the store. */
    struct view *base;
    int64_t version;
    int64_t built_at;
    /* client_id -> {app_id, tenant_id, name, auth_method, suspended,
     *               secrets: [{id, hash, expires_at}],
     *               subs: [{api_id, api_tenant_id, audience, scopes, state, sunset}]} */
    json_t *clients;
    pk_client *pk; /* sorted by client_id */
    size_t npk;
    json_t *apis;          /* every API row */
    json_t *subscriptions; /* approved subscriptions, for the snapshot */
    json_t *revoked;       /* jti -> exp */
    json_t *key_rows;      /* keys in next/active/retiring (no private part) */
    jg_jwk *sign_key;      /* active issuer key (private) */
    jg_jwk *enc_key;       /* active gateway key (public part used to encrypt) */
    jg_jwks *decrypt_keys; /* gateway keys next/active/retiring (private) */
    jg_jwks *verify_keys;  /* issuer keys next/active/retiring (public) */
    char *decrypt_jwks;    /* the same, as JSON (private; for the snapshot) */
    char *jwks_json;       /* published issuer keys */
    size_t jwks_len;
    char *metadata_json; /* RFC 8414 document */
    size_t metadata_len;
} view;

/* Build a view from the store's current state. 0 or -1 (logged). */
int view_build(jgd *d, view **out);
/*
 * A new view that is `old` plus one revoked jti (until `exp`), at `version`:
 * what a revocation changes, without reading the store again. The revoked
 * map is copied (dropping entries past their exp); everything else is
 * shared with old's base. 0 or -1 (out of memory).
 */
int view_derive_revoked(const view *old, const char *jti, int64_t exp, int64_t version, view **out);
/* Make `v` current (takes over the reference) and drop the old one. */
void view_install(jgd *d, view *v);
/* The current view with a reference taken (NULL before the first). */
view *view_acquire(jgd *d);
void view_release(view *v);

/* The prepared keys of a private_key_jwt client, or NULL. */
const jg_jwks *view_client_keys(const view *v, const char *client_id);

#endif
