/*
 * view.h — the in-memory read model that the token endpoint works from.
 *
 * Typed records (C structs) in persistent maps (server/core/pmap.h). A view
 * is immutable once installed: any number of threads read it without locks,
 * holding a reference. A committed change makes the next view from the
 * current one (view_derive + view_apply): the maps are shared and only the
 * records the change touched are read back from the store and replaced, so a
 * change costs what it changed — an API, one app's client record (with its
 * secrets and approved subscriptions), a revoked jti, the key set — not the
 * size of the deployment. view_build reads everything (start-up, a change
 * made by another process, a journal too long to apply).
 *
 * What the records hold is what the token endpoint, introspection and the
 * snapshot need; the store stays the truth for everything else (audit,
 * pending subscriptions, members). A subscription keeps its API's id, not a
 * copy of the API: an API change replaces one record, and the API's current
 * state, audience and scopes are read through `apis` when a token is asked
 * for or a snapshot built.
 */
#ifndef JGD_VIEW_H
#define JGD_VIEW_H

#include <stdatomic.h>
#include <stdint.h>

#include "jwtgate/snapshot.h" /* jg_api_state */
#include "server/core/daemon.h"
#include "server/core/pmap.h"

typedef struct v_api {
    pitem h; /* key: id */
    char *id, *tenant_id, *name, *version, *base_path, *upstream, *audience;
    jg_api_state state;
    jg_api_binding require_binding; /* what gateways demand of its tokens */
    int64_t sunset;                 /* 0: none */
    int64_t deprecated_at;          /* 0: none */
    char **scopes;
    size_t nscopes;
} v_api;

typedef struct v_secret {
    char hash[44];      /* base64url SHA-256 of the secret, NUL-terminated */
    int64_t expires_at; /* 0: never */
} v_secret;

typedef struct v_sub {
    char *id, *api_id;
    char **scopes; /* as stored; intersect with the API's (view_sub_scope) */
    size_t nscopes;
} v_sub;

/* How an application's tokens are bound to a key it holds (RFC 9449, RFC
 * 8705 section 3). */
typedef enum v_binding {
    V_BIND_DPOP_OPTIONAL = 0, /* bound when the token request carries a proof (the default) */
    V_BIND_NONE,              /* a DPoP header is ignored (certificate auth still binds) */
    V_BIND_DPOP_REQUIRED,     /* no token without a proof */
    V_BIND_MTLS_REQUIRED      /* no token without a client certificate; a proof binds too */
} v_binding;
/* The binding named `s` (as stored), or -1. */
int view_binding_parse(const char *s);

/* How a client authenticates (RFC 6749, RFC 7523, RFC 8705 section 2). */
typedef enum v_auth {
    V_AUTH_SECRET = 0,      /* client_secret_basic / client_secret_post */
    V_AUTH_PRIVATE_KEY_JWT, /* keys: the registered JWKS */
    V_AUTH_TLS,             /* tls_client_auth: a CA-issued certificate naming the client */
    V_AUTH_SELF_SIGNED_TLS  /* self_signed_tls_client_auth: the certificate's key is in keys */
} v_auth;

/* Which certificate field a tls_client_auth client registered (RFC 8705
 * section 2.1.2); the names are those of the client metadata. */
typedef enum v_tls_field {
    V_TLS_SUBJECT_DN = 0,
    V_TLS_SAN_DNS,
    V_TLS_SAN_URI,
    V_TLS_SAN_IP,
    V_TLS_SAN_EMAIL,
    V_TLS__COUNT
} v_tls_field;
/* "tls_client_auth_subject_dn" ... by field; the field named `s`, or -1. */
extern const char *const view_tls_field_names[V_TLS__COUNT];
int view_tls_field_parse(const char *s);

typedef struct v_client {
    pitem h; /* key: client_id */
    char *client_id, *app_id, *tenant_id, *name;
    v_auth auth;
    v_tls_field tls_field; /* V_AUTH_TLS: which field tls_value is */
    char *tls_value;       /* V_AUTH_TLS: the registered value; else NULL */
    int suspended;
    v_binding binding;
    jg_jwks *keys; /* private_key_jwt, self-signed TLS: the registered keys (NULL if none usable) */
    v_secret *secrets;
    size_t nsecrets;
    v_sub *subs; /* approved subscriptions */
    size_t nsubs;
} v_client;

typedef struct v_revoked {
    pitem h; /* key: jti */
    int64_t exp;
    char jti[];
} v_revoked;

/* The keys in use, shared by every view until a key changes. */
typedef struct v_keys {
    atomic_int refs;
    jg_jwk *sign_key;      /* active issuer key (private) */
    jg_jwk *enc_key;       /* active gateway key (public part used to encrypt) */
    jg_jwks *decrypt_keys; /* gateway keys next/active/retiring (private) */
    jg_jwks *verify_keys;  /* issuer keys next/active/retiring (public) */
    char *decrypt_jwks;    /* the same, as JSON (private; for the snapshot) */
    char *jwks_json;       /* published issuer keys */
    size_t jwks_len;
    char *key_info; /* [{kid, purpose, alg, state}] as JSON, for the snapshot */
    /* The active gateway secrets key (oct, "dir"/A256GCM; NULL: none yet),
     * kept out of decrypt_keys and key_info: the snapshot carries only its
     * kid, the provider keys are sealed to it (docs/ai-gateway.md). */
    jg_jwk *secrets_key;
} v_keys;

typedef struct view {
    atomic_int refs;
    int64_t version;
    int64_t built_at;
    uint8_t identity[16]; /* the database's (store.h), for the snapshot */
    pmap apis;            /* id -> v_api */
    pmap audiences;       /* audience -> an index item (view_api_by_audience) */
    pmap clients;         /* client_id -> v_client */
    pmap apps;            /* app id -> an index item (the client) */
    pmap revoked;         /* jti -> v_revoked (entries past exp are dropped by view_expire) */
    size_t nsubs;         /* approved subscriptions, all clients */
    v_keys *keys;
    /* Borrowed from keys, for the request paths. */
    jg_jwk *sign_key, *enc_key;
    jg_jwks *decrypt_keys, *verify_keys;
    const char *jwks_json;
    size_t jwks_len;
    /* The RFC 8414 document, made on first use (it lists the scopes of every
     * usable API) and shared by the next views until an API changes. */
    _Atomic(struct v_text *) metadata;
} view;

/* What a change touched (server/store/store.h records it, change.c applies it). */
typedef struct store_journal store_journal;

/* Build a view from the store's current state. 0 or -1 (logged). */
int view_build(jgd *d, view **out);
/* A new view sharing everything with `old`, at `version`; 0 or -1. */
int view_derive(const view *old, int64_t version, view **out);
/* Bring a derived view up to date with what `j` says changed, reading the
 * touched records back through `tx` (the change's own transaction, so it
 * sees the change). 0, or -1 (then throw `v` away and build). */
int view_apply(jgd *d, view *v, store_tx *tx, const store_journal *j);
/* Add (or replace) one revoked jti. 0 or -1 (out of memory). */
int view_add_revoked(view *v, const char *jti, int64_t exp);
/* Drop revocations whose exp is before `now` from a derived view. The
 * whole revoked map is walked (once a minute, under the writer lock). */
int view_expire(view *v, int64_t now);
/* Make `v` current (takes over the reference) and drop the old one. */
void view_install(jgd *d, view *v);
/* The current view with a reference taken (NULL before the first). */
view *view_acquire(jgd *d);
void view_release(view *v);

/* Lookups: borrowed from the view, NULL when absent. */
const v_client *view_client(const view *v, const char *client_id);
const v_api *view_api(const view *v, const char *id);
const v_api *view_api_by_audience(const view *v, const char *audience);
int view_is_revoked(const view *v, const char *jti);
/* The prepared keys of a private_key_jwt or self-signed TLS client, or NULL. */
const jg_jwks *view_client_keys(const view *v, const char *client_id);

/* Whether an API's subscriptions get tokens at `now`: published, or
 * deprecated before its sunset. */
int view_api_usable(const v_api *api, int64_t now);
/* Whether `scope` is one of the subscription's that its API still defines
 * (the admin API trims subscriptions when an API drops a scope; this is the
 * second line, so no token or snapshot carries a scope the API lost). */
int view_sub_has_scope(const v_sub *s, const v_api *api, const char *scope);

/* The RFC 8414 document (borrowed from the view); NULL out of memory. */
const char *view_metadata(jgd *d, view *v, size_t *len);

/* The DPoP proof algorithms the token endpoint accepts (asymmetric only),
 * as its metadata lists them (dpop_signing_alg_values_supported). */
#define OAUTH_DPOP_ALGS "ES256,ES384,ES512,EdDSA,PS256,PS384,PS512,RS256,RS384,RS512"

#endif
