/* view.c — the read model: records from rows, whole builds, and views derived
 * from the previous one by what a change touched (see view.h). */
#include "server/core/view.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "server/core/log.h"
#include "server/core/masterkey.h"
#include "server/core/util.h"

typedef struct v_text {
    atomic_int refs;
    size_t len;
    char s[];
} v_text;

static void text_release(v_text *t)
{
    if (t != NULL && atomic_fetch_sub(&t->refs, 1) == 1)
        free(t);
}

/* An index entry: a second key for a record (an API by audience, a client
 * by app id), holding a reference to it. */
typedef struct v_ref {
    pitem h;
    pitem *target;
} v_ref;

static void ref_destroy(pitem *i)
{
    pitem_release(((v_ref *)i)->target);
    free(i);
}

static int index_set(pmap *m, const char *key, pitem *target)
{
    v_ref *r = malloc(sizeof *r);
    if (r == NULL)
        return -1;
    pitem_init(&r->h, key, ref_destroy);
    r->target = pitem_retain(target);
    int rc = pmap_set(m, &r->h);
    pitem_release(&r->h);
    return rc;
}

static pitem *index_get(const pmap *m, const char *key)
{
    const v_ref *r = (const v_ref *)pmap_get(m, key);
    return r != NULL ? r->target : NULL;
}

/* ---- Records from rows ---------------------------------------------------- */

/* Strings of a record copied into one block after it: sizes first, then
 * copies through a cursor. */
typedef struct packer {
    size_t need;
    char *at;
} packer;

static char *pack(packer *p, const char *s)
{
    if (s == NULL)
        s = "";
    size_t n = strlen(s) + 1;
    if (p->at == NULL) {
        p->need += n;
        return NULL;
    }
    char *out = memcpy(p->at, s, n);
    p->at += n;
    return out;
}

static const char *member(const json_t *row, const char *name)
{
    return json_string_value(json_object_get(row, name));
}

static void api_destroy(pitem *i)
{
    free(i);
}

static jg_api_state api_state(const char *s)
{
    static const char *const names[] = {"draft", "published", "deprecated", "retired"};
    for (int k = 0; k < 4; k++)
        if (s != NULL && strcmp(s, names[k]) == 0)
            return (jg_api_state)k;
    return JG_API_DRAFT;
}

static v_api *api_from_row(const json_t *row)
{
    const json_t *scopes = json_object_get(row, "scopes");
    size_t n = json_array_size(scopes);
    packer p = {0, NULL};
    static const char *const cols[] = {"id",        "tenant_id", "name",    "version",
                                       "base_path", "upstream",  "audience"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        pack(&p, member(row, cols[k]));
    for (size_t k = 0; k < n; k++)
        pack(&p, json_string_value(json_array_get(scopes, k)));
    size_t head = sizeof(v_api) + n * sizeof(char *);
    v_api *a = calloc(1, head + p.need);
    if (a == NULL)
        return NULL;
    a->scopes = (char **)(void *)(a + 1);
    packer r = {0, (char *)a + head};
    char **fields[] = {&a->id,        &a->tenant_id, &a->name,    &a->version,
                       &a->base_path, &a->upstream,  &a->audience};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        *fields[k] = pack(&r, member(row, cols[k]));
    for (size_t k = 0; k < n; k++)
        a->scopes[k] = pack(&r, json_string_value(json_array_get(scopes, k)));
    a->nscopes = n;
    a->state = api_state(member(row, "state"));
    int binding = jg_api_binding_parse(member(row, "require_binding"));
    /* an unknown value (a newer daemon's) is the strictest one: fail closed */
    a->require_binding = binding < 0 ? JG_API_BIND_ANY : (jg_api_binding)binding;
    a->sunset = json_integer_value(json_object_get(row, "sunset"));
    a->deprecated_at = json_integer_value(json_object_get(row, "deprecated_at"));
    pitem_init(&a->h, a->id, api_destroy);
    return a;
}

/* A sub's strings in one block: its scopes array first. */
static int sub_from_row(const json_t *row, v_sub *s)
{
    const json_t *scopes = json_object_get(row, "scopes");
    size_t n = json_array_size(scopes);
    packer p = {0, NULL};
    pack(&p, member(row, "id"));
    pack(&p, member(row, "api_id"));
    for (size_t k = 0; k < n; k++)
        pack(&p, json_string_value(json_array_get(scopes, k)));
    size_t head = n * sizeof(char *);
    char *blk = malloc(head + p.need);
    if (blk == NULL)
        return -1;
    packer r = {0, blk + head};
    s->scopes = (char **)(void *)blk;
    s->id = pack(&r, member(row, "id"));
    s->api_id = pack(&r, member(row, "api_id"));
    for (size_t k = 0; k < n; k++)
        s->scopes[k] = pack(&r, json_string_value(json_array_get(scopes, k)));
    s->nscopes = n;
    return 0;
}

static void client_destroy(pitem *i)
{
    v_client *c = (v_client *)i;
    for (size_t k = 0; k < c->nsubs; k++)
        free(c->subs[k].scopes);
    free(c->subs);
    if (c->secrets != NULL)
        jg_free_secret(c->secrets, c->nsecrets * sizeof *c->secrets);
    jg_jwks_free(c->keys);
    free(c);
}

/* A warn line per key of a client's stored JWKS that the library skipped
 * (which key, why; never the key): such a key cannot authenticate. */
static void log_skipped(const char *client_id, const jg_jwks *set)
{
    for (size_t i = 0; i < jg_jwks_skipped_count(set); i++) {
        size_t pos = 0;
        const char *kid = NULL;
        jg_err why = JG_OK;
        if (jg_jwks_skipped_at(set, i, &pos, &kid, &why) != JG_OK)
            continue;
        char shown_client[65], shown_kid[65];
        sv_printable(shown_client, sizeof shown_client, client_id);
        sv_printable(shown_kid, sizeof shown_kid, kid != NULL ? kid : "");
        log_msg(L_WARN, "client %s: jwks key %zu (kid \"%s\") skipped: %s", shown_client, pos,
                shown_kid, jg_strerror(why));
    }
}

/* A client record with room for nsecrets secrets and nsubs subscriptions
 * (filled by the caller, counting up from 0). */
static v_client *client_from_row(const json_t *row, size_t nsecrets, size_t nsubs)
{
    static const char *const cols[] = {"client_id", "id", "tenant_id", "name"};
    packer p = {0, NULL};
    for (size_t k = 0; k < 4; k++)
        pack(&p, member(row, cols[k]));
    /* tls_client_auth: {"tls_client_auth_<field>": value}, one member */
    const char *tls_name = NULL;
    const json_t *tls_v = NULL;
    json_object_foreach ((json_t *)json_object_get(row, "tls_client_auth"), tls_name, tls_v)
        break;
    const char *tls_value = json_string_value(tls_v);
    pack(&p, tls_value);
    v_client *c = calloc(1, sizeof *c + p.need);
    if (c == NULL)
        return NULL;
    packer r = {0, (char *)(c + 1)};
    c->client_id = pack(&r, member(row, "client_id"));
    c->app_id = pack(&r, member(row, "id"));
    c->tenant_id = pack(&r, member(row, "tenant_id"));
    c->name = pack(&r, member(row, "name"));
    pitem_init(&c->h, c->client_id, client_destroy);
    const char *method = member(row, "auth_method");
    c->auth = method == NULL                                       ? V_AUTH_SECRET
              : strcmp(method, "private_key_jwt") == 0             ? V_AUTH_PRIVATE_KEY_JWT
              : strcmp(method, "tls_client_auth") == 0             ? V_AUTH_TLS
              : strcmp(method, "self_signed_tls_client_auth") == 0 ? V_AUTH_SELF_SIGNED_TLS
                                                                   : V_AUTH_SECRET;
    int field = view_tls_field_parse(tls_name);
    if (c->auth == V_AUTH_TLS && field >= 0 && tls_value != NULL) {
        c->tls_field = (v_tls_field)field;
        c->tls_value = pack(&r, tls_value);
    }
    c->suspended = json_is_true(json_object_get(row, "suspended"));
    int binding = view_binding_parse(member(row, "token_binding"));
    c->binding = binding < 0 ? V_BIND_DPOP_OPTIONAL : (v_binding)binding;
    c->secrets = nsecrets ? calloc(nsecrets, sizeof *c->secrets) : NULL;
    c->subs = nsubs ? calloc(nsubs, sizeof *c->subs) : NULL;
    if ((nsecrets && c->secrets == NULL) || (nsubs && c->subs == NULL)) {
        pitem_release(&c->h);
        return NULL;
    }
    const json_t *jwks = json_object_get(row, "jwks");
    if ((c->auth == V_AUTH_PRIVATE_KEY_JWT || c->auth == V_AUTH_SELF_SIGNED_TLS) &&
        json_is_object(jwks)) {
        char *text = json_dumps(jwks, JSON_COMPACT);
        if (text != NULL &&
            jg_jwks_parse(text, strlen(text), JG_JWK_PUBLIC_ONLY, NULL, &c->keys) == JG_OK)
            log_skipped(c->client_id, c->keys);
        free(text);
    }
    return c;
}

static void client_add_secret(v_client *c, const json_t *row)
{
    const char *hash = member(row, "hash");
    v_secret *s = &c->secrets[c->nsecrets++];
    if (hash != NULL && strlen(hash) < sizeof s->hash)
        memcpy(s->hash, hash, strlen(hash) + 1);
    s->expires_at = json_integer_value(json_object_get(row, "expires_at"));
    if (json_is_integer(json_object_get(row, "expires_at")) && s->expires_at == 0)
        s->expires_at = -1; /* expired at the epoch: never live */
}

static int client_add_sub(v_client *c, const json_t *row)
{
    if (sub_from_row(row, &c->subs[c->nsubs]) != 0)
        return -1;
    c->nsubs++;
    return 0;
}

static void revoked_destroy(pitem *i)
{
    free(i);
}

static v_revoked *revoked_new(const char *jti, int64_t exp)
{
    size_t n = strlen(jti) + 1;
    v_revoked *r = malloc(sizeof *r + n);
    if (r == NULL)
        return NULL;
    memcpy(r->jti, jti, n);
    r->exp = exp;
    pitem_init(&r->h, r->jti, revoked_destroy);
    return r;
}

/* ---- Keys ----------------------------------------------------------------- */

static void keys_release(v_keys *k)
{
    if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    jg_jwk_free(k->sign_key);
    jg_jwk_free(k->enc_key);
    jg_jwk_free(k->secrets_key);
    jg_jwks_free(k->decrypt_keys);
    jg_jwks_free(k->verify_keys);
    if (k->decrypt_jwks != NULL)
        jg_free_secret(k->decrypt_jwks, 0);
    jg_free(k->jwks_json);
    free(k->key_info);
    free(k);
}

/* The keys that are in use: private ones unsealed with the master key. */
static v_keys *load_keys(jgd *d, store_tx *tx)
{
    json_t *rows = NULL, *info = json_array();
    v_keys *k = calloc(1, sizeof *k);
    if (k == NULL || info == NULL || st_list(tx, T_KEYS, NULL, 0, &rows) != ST_OK)
        goto fail;
    atomic_init(&k->refs, 1);
    if (jg_jwks_new(&k->decrypt_keys) != JG_OK || jg_jwks_new(&k->verify_keys) != JG_OK)
        goto fail;
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        const char *state = member(row, "state"), *id = member(row, "id");
        const char *purpose = member(row, "purpose"), *sealed = member(row, "private_jwe");
        if (state == NULL || id == NULL || purpose == NULL || sealed == NULL)
            goto fail;
        if (strcmp(state, "retired") == 0)
            continue;
        char *priv = NULL;
        if (masterkey_open(d->master, id, sealed, &priv) != 0) {
            log_msg(L_ERR, "keys: key %s does not open with this master key", id);
            goto fail;
        }
        jg_jwk *key = NULL, *pub = NULL;
        jg_err err = jg_jwk_parse(priv, strlen(priv), 0, &key);
        jg_free_secret(priv, 0);
        if (strcmp(purpose, "secrets") == 0) {
            /* neither published nor a decryption key of the gateways */
            if (err == JG_OK && strcmp(state, "active") == 0 && k->secrets_key == NULL)
                k->secrets_key = jg_jwk_ref(key);
            jg_jwk_free(key);
            if (err != JG_OK) {
                log_msg(L_ERR, "keys: key %s: %s", id, jg_strerror(err));
                goto fail;
            }
            continue;
        }
        if (err == JG_OK)
            err = jg_jwk_public(key, &pub);
        int active = strcmp(state, "active") == 0;
        if (err == JG_OK && strcmp(purpose, "signing") == 0) {
            err = jg_jwks_add(k->verify_keys, pub);
            if (err == JG_OK && active && k->sign_key == NULL)
                k->sign_key = jg_jwk_ref(key);
        } else if (err == JG_OK) {
            err = jg_jwks_add(k->decrypt_keys, key);
            if (err == JG_OK && active && k->enc_key == NULL)
                k->enc_key = jg_jwk_ref(pub);
        }
        jg_jwk_free(key);
        jg_jwk_free(pub);
        if (err != JG_OK) {
            log_msg(L_ERR, "keys: key %s: %s", id, jg_strerror(err));
            goto fail;
        }
        json_array_append_new(info, json_pack("{sO sO sO sO}", "kid", json_object_get(row, "id"),
                                              "purpose", json_object_get(row, "purpose"), "alg",
                                              json_object_get(row, "alg"), "state",
                                              json_object_get(row, "state")));
    }
    k->key_info = json_dumps(info, JSON_COMPACT);
    if (k->key_info == NULL ||
        jg_jwks_to_json(k->verify_keys, 0, &k->jwks_json, &k->jwks_len) != JG_OK ||
        jg_jwks_to_json(k->decrypt_keys, JG_EXPORT_PRIVATE, &k->decrypt_jwks, NULL) != JG_OK)
        goto fail;
    json_decref(rows);
    json_decref(info);
    return k;
fail:
    json_decref(rows);
    json_decref(info);
    if (k != NULL) {
        atomic_init(&k->refs, 1);
        keys_release(k);
    }
    return NULL;
}

static void use_keys(view *v, v_keys *k)
{
    keys_release(v->keys);
    v->keys = k;
    v->sign_key = k->sign_key;
    v->enc_key = k->enc_key;
    v->decrypt_keys = k->decrypt_keys;
    v->verify_keys = k->verify_keys;
    v->jwks_json = k->jwks_json;
    v->jwks_len = k->jwks_len;
}

/* ---- Views ---------------------------------------------------------------- */

static void view_free(view *v)
{
    if (v == NULL)
        return;
    pmap_clear(&v->apis);
    pmap_clear(&v->audiences);
    pmap_clear(&v->clients);
    pmap_clear(&v->apps);
    pmap_clear(&v->revoked);
    keys_release(v->keys);
    text_release(atomic_load(&v->metadata));
    free(v);
}

void view_release(view *v)
{
    if (v != NULL && atomic_fetch_sub(&v->refs, 1) == 1)
        view_free(v);
}

view *view_acquire(jgd *d)
{
    pthread_mutex_lock(&d->view_mu);
    view *v = d->view;
    if (v != NULL)
        atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&d->view_mu);
    return v;
}

void view_install(jgd *d, view *v)
{
    pthread_mutex_lock(&d->view_mu);
    view *old = d->view;
    d->view = v;
    pthread_mutex_unlock(&d->view_mu);
    view_release(old);
}

const v_client *view_client(const view *v, const char *client_id)
{
    return client_id != NULL ? (const v_client *)pmap_get(&v->clients, client_id) : NULL;
}

const v_api *view_api(const view *v, const char *id)
{
    return id != NULL ? (const v_api *)pmap_get(&v->apis, id) : NULL;
}

const v_api *view_api_by_audience(const view *v, const char *audience)
{
    return audience != NULL ? (const v_api *)index_get(&v->audiences, audience) : NULL;
}

int view_is_revoked(const view *v, const char *jti)
{
    return jti != NULL && pmap_get(&v->revoked, jti) != NULL;
}

const jg_jwks *view_client_keys(const view *v, const char *client_id)
{
    const v_client *c = view_client(v, client_id);
    return c != NULL && (c->auth == V_AUTH_PRIVATE_KEY_JWT || c->auth == V_AUTH_SELF_SIGNED_TLS)
               ? c->keys
               : NULL;
}

int view_api_usable(const v_api *api, int64_t now)
{
    if (api->state == JG_API_PUBLISHED)
        return 1;
    return api->state == JG_API_DEPRECATED && (api->sunset == 0 || api->sunset > now);
}

int view_sub_has_scope(const v_sub *s, const v_api *api, const char *scope)
{
    int in_sub = 0, in_api = 0;
    for (size_t k = 0; k < s->nscopes && !in_sub; k++)
        in_sub = strcmp(s->scopes[k], scope) == 0;
    for (size_t k = 0; k < api->nscopes && in_sub && !in_api; k++)
        in_api = strcmp(api->scopes[k], scope) == 0;
    return in_sub && in_api;
}

/* Put an API in (replacing the one with its id) and keep the audience
 * index pointing at it. */
static int put_api(view *v, v_api *a)
{
    const v_api *old = view_api(v, a->id);
    if (old != NULL && strcmp(old->audience, a->audience) != 0 &&
        view_api_by_audience(v, old->audience) == old &&
        pmap_del(&v->audiences, old->audience) != 0)
        return -1;
    if (pmap_set(&v->apis, &a->h) != 0 || index_set(&v->audiences, a->audience, &a->h) != 0)
        return -1;
    return 0;
}

static int drop_api(view *v, const char *id)
{
    const v_api *old = view_api(v, id);
    if (old == NULL)
        return 0;
    if (view_api_by_audience(v, old->audience) == old &&
        pmap_del(&v->audiences, old->audience) != 0)
        return -1;
    return pmap_del(&v->apis, id);
}

static int drop_client_of_app(view *v, const char *app_id)
{
    const v_client *old = (const v_client *)index_get(&v->apps, app_id);
    if (old == NULL)
        return 0;
    v->nsubs -= old->nsubs;
    if (pmap_del(&v->clients, old->client_id) != 0)
        return -1;
    return pmap_del(&v->apps, app_id);
}

static int put_client(view *v, v_client *c)
{
    if (drop_client_of_app(v, c->app_id) != 0)
        return -1;
    if (pmap_set(&v->clients, &c->h) != 0 || index_set(&v->apps, c->app_id, &c->h) != 0)
        return -1;
    v->nsubs += c->nsubs;
    return 0;
}

/* Read one app's client record back from the store (its secrets and
 * approved subscriptions with it); gone from the store: gone here. */
static int refresh_app(view *v, store_tx *tx, const char *app_id)
{
    json_t *app = NULL, *secrets = NULL, *subs = NULL, *where = NULL;
    store_err err = st_get_id(tx, T_APPS, app_id, &app);
    if (err == ST_NOT_FOUND)
        return drop_client_of_app(v, app_id);
    int rc = -1;
    if (err != ST_OK)
        goto out;
    where = json_pack("{ss}", "app_id", app_id);
    if (where == NULL || st_list(tx, T_SECRETS, where, 0, &secrets) != ST_OK)
        goto out;
    json_object_set_new(where, "state", json_string("approved"));
    if (st_list(tx, T_SUBSCRIPTIONS, where, 0, &subs) != ST_OK)
        goto out;
    v_client *c = client_from_row(app, json_array_size(secrets), json_array_size(subs));
    if (c == NULL)
        goto out;
    size_t i;
    json_t *row;
    json_array_foreach (secrets, i, row)
        client_add_secret(c, row);
    rc = 0;
    json_array_foreach (subs, i, row)
        if (client_add_sub(c, row) != 0)
            rc = -1;
    if (rc == 0)
        rc = put_client(v, c);
    pitem_release(&c->h);
out:
    json_decref(app);
    json_decref(secrets);
    json_decref(subs);
    json_decref(where);
    return rc;
}

static int refresh_api(view *v, store_tx *tx, const char *id)
{
    json_t *row = NULL;
    store_err err = st_get_id(tx, T_APIS, id, &row);
    if (err == ST_NOT_FOUND)
        return drop_api(v, id);
    if (err != ST_OK)
        return -1;
    v_api *a = api_from_row(row);
    json_decref(row);
    if (a == NULL)
        return -1;
    int rc = put_api(v, a);
    pitem_release(&a->h);
    return rc;
}

static int refresh_revoked(view *v, store_tx *tx, const char *jti)
{
    json_t *row = NULL;
    store_err err = st_get_id(tx, T_REVOKED, jti, &row);
    if (err == ST_NOT_FOUND)
        return pmap_del(&v->revoked, jti);
    if (err != ST_OK)
        return -1;
    int rc = view_add_revoked(v, jti, json_integer_value(json_object_get(row, "exp")));
    json_decref(row);
    return rc;
}

int view_add_revoked(view *v, const char *jti, int64_t exp)
{
    v_revoked *r = revoked_new(jti, exp);
    if (r == NULL)
        return -1;
    int rc = pmap_set(&v->revoked, &r->h);
    pitem_release(&r->h);
    return rc;
}

int view_derive(const view *old, int64_t version, view **out)
{
    view *v = calloc(1, sizeof *v);
    *out = NULL;
    if (v == NULL)
        return -1;
    atomic_init(&v->refs, 1);
    v->version = version;
    v->built_at = sv_now();
    memcpy(v->identity, old->identity, sizeof v->identity);
    v->apis = pmap_share(&old->apis);
    v->audiences = pmap_share(&old->audiences);
    v->clients = pmap_share(&old->clients);
    v->apps = pmap_share(&old->apps);
    v->revoked = pmap_share(&old->revoked);
    v->nsubs = old->nsubs;
    atomic_fetch_add(&old->keys->refs, 1);
    use_keys(v, old->keys);
    v_text *meta = atomic_load(&((view *)old)->metadata);
    if (meta != NULL)
        atomic_fetch_add(&meta->refs, 1);
    atomic_init(&v->metadata, meta);
    *out = v;
    return 0;
}

static int seen_before(const store_journal *j, size_t upto, store_table t, const char *id)
{
    for (size_t k = 0; k < upto; k++)
        if (j->v[k].t == t && strcmp(j->v[k].id, id) == 0)
            return 1;
    return 0;
}

int view_apply(jgd *d, view *v, store_tx *tx, const store_journal *j)
{
    if (j->overflow)
        return -1;
    int apis_changed = 0, keys_done = 0;
    /* An app is refreshed once however many of its rows changed: the
     * journal is short for an admin change, and an API's scope trim touches
     * each subscription once, so the scan stays small next to the reads. */
    pmap done = {0};
    int rc = 0;
    for (size_t k = 0; k < j->n && rc == 0; k++) {
        const store_touch *e = &j->v[k];
        switch (e->t) {
        case T_APIS:
            if (!seen_before(j, k, T_APIS, e->id))
                rc = refresh_api(v, tx, e->id);
            apis_changed = 1;
            break;
        case T_APPS:
        case T_SECRETS:
        case T_SUBSCRIPTIONS: {
            const char *app = e->t == T_APPS ? e->id : e->app_id;
            if (app == NULL || pmap_get(&done, app) != NULL)
                break;
            v_revoked *mark = revoked_new(app, 0); /* a set entry: the key is all */
            if (mark == NULL || pmap_set(&done, &mark->h) != 0)
                rc = -1;
            if (mark != NULL)
                pitem_release(&mark->h);
            if (rc == 0)
                rc = refresh_app(v, tx, app);
            break;
        }
        case T_REVOKED:
            rc = refresh_revoked(v, tx, e->id);
            break;
        case T_KEYS:
            if (!keys_done) { /* every key row is read: once a change */
                v_keys *keys = load_keys(d, tx);
                if (keys == NULL)
                    rc = -1;
                else
                    use_keys(v, keys);
                keys_done = 1;
            }
            break;
        default: /* users, tenants, members, tokens, assertions: not in the view */
            break;
        }
    }
    pmap_clear(&done);
    if (apis_changed)
        text_release(atomic_exchange(&v->metadata, NULL));
    return rc;
}

typedef struct expired {
    int64_t now;
    char **jti;
    size_t n, cap;
    int oom;
} expired;

static int collect_expired(pitem *i, void *ctx)
{
    expired *x = ctx;
    v_revoked *r = (v_revoked *)i;
    if (r->exp >= x->now)
        return 0;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        char **p = realloc(x->jti, cap * sizeof *p);
        if (p == NULL) {
            x->oom = 1;
            return 1;
        }
        x->jti = p;
        x->cap = cap;
    }
    x->jti[x->n++] = r->jti; /* borrowed: v still holds the entry */
    return 0;
}

int view_expire(view *v, int64_t now)
{
    expired x = {.now = now};
    pmap_each(&v->revoked, collect_expired, &x);
    int rc = x.oom ? -1 : 0;
    /* x.jti borrows from the entries: each is freed (if v held it alone) only
     * by its own removal, after its key was last read. */
    for (size_t k = 0; k < x.n && rc == 0; k++)
        rc = pmap_del(&v->revoked, x.jti[k]); /* the key is not used once freed */
    free(x.jti);
    return rc;
}

/* ---- Whole builds --------------------------------------------------------- */

/* A whole read streams the rows (st_each): each becomes its record and is
 * freed at once, so no array of 200,000 jansson rows is ever held. A
 * client's secrets and subscriptions arrive in any order and are appended
 * (arrays doubled at powers of two). */

static int grow(void **arr, size_t n, size_t size)
{
    if (n != 0 && (n & (n - 1)) != 0)
        return 0; /* room left: capacity is the next power of two */
    void *p = realloc(*arr, (n ? n * 2 : 1) * size);
    if (p == NULL)
        return -1;
    *arr = p;
    return 0;
}

static int each_app(const json_t *row, void *ctx)
{
    view *v = ctx;
    v_client *c = client_from_row(row, 0, 0);
    int rc = c == NULL || index_set(&v->apps, c->app_id, &c->h) != 0;
    if (c != NULL)
        pitem_release(&c->h);
    return rc;
}

static int each_secret(const json_t *row, void *ctx)
{
    v_client *c = (v_client *)index_get(&((view *)ctx)->apps, member(row, "app_id"));
    if (c == NULL)
        return 0;
    if (grow((void **)&c->secrets, c->nsecrets, sizeof *c->secrets) != 0)
        return 1;
    client_add_secret(c, row);
    return 0;
}

static int each_sub(const json_t *row, void *ctx)
{
    v_client *c = (v_client *)index_get(&((view *)ctx)->apps, member(row, "app_id"));
    if (c == NULL)
        return 0;
    return grow((void **)&c->subs, c->nsubs, sizeof *c->subs) != 0 || client_add_sub(c, row) != 0;
}

static int each_api(const json_t *row, void *ctx)
{
    v_api *a = api_from_row(row);
    int rc = a == NULL || put_api(ctx, a) != 0;
    if (a != NULL)
        pitem_release(&a->h);
    return rc;
}

static int each_revoked(const json_t *row, void *ctx)
{
    view *v = ctx;
    int64_t exp = json_integer_value(json_object_get(row, "exp"));
    const char *jti = member(row, "jti");
    return jti != NULL && exp >= v->built_at && view_add_revoked(v, jti, exp) != 0;
}

static int add_client(pitem *i, void *ctx)
{
    view *v = ctx;
    v_client *c = (v_client *)((v_ref *)i)->target;
    v->nsubs += c->nsubs;
    return pmap_set(&v->clients, &c->h) != 0;
}

int view_build(jgd *d, view **out)
{
    *out = NULL;
    view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return -1;
    atomic_init(&v->refs, 1);
    v->built_at = sv_now();
    store_tx *tx = NULL;
    json_t *approved = json_pack("{ss}", "state", "approved");
    int rc = -1;
    v_keys *keys = NULL;
    if (approved == NULL || store_begin(d->st, 0, &tx) != ST_OK ||
        st_get_version(tx, &v->version) != ST_OK || st_get_identity(tx, v->identity) != ST_OK ||
        (keys = load_keys(d, tx)) == NULL)
        goto out;
    use_keys(v, keys);
    if (st_each(tx, T_APIS, NULL, each_api, v) != ST_OK ||
        st_each(tx, T_APPS, NULL, each_app, v) != ST_OK ||
        st_each(tx, T_SECRETS, NULL, each_secret, v) != ST_OK ||
        st_each(tx, T_SUBSCRIPTIONS, approved, each_sub, v) != ST_OK ||
        pmap_each(&v->apps, add_client, v) != 0 ||
        st_each(tx, T_REVOKED, NULL, each_revoked, v) != ST_OK)
        goto out;
    rc = 0;
out:
    if (tx != NULL)
        store_rollback(tx);
    json_decref(approved);
    /* Give back the pages the transient rows used, so the resident size is
     * the view's, not the build's high-water mark. */
    malloc_trim(0);
    if (rc != 0) {
        view_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- Discovery ------------------------------------------------------------ */

typedef struct scope_list {
    const char **s;
    size_t n, cap;
    int64_t now;
    int oom;
} scope_list;

static int collect_scopes(pitem *i, void *ctx)
{
    scope_list *l = ctx;
    const v_api *a = (const v_api *)i;
    if (!view_api_usable(a, l->now))
        return 0;
    for (size_t k = 0; k < a->nscopes; k++) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            const char **p = realloc(l->s, cap * sizeof *p);
            if (p == NULL) {
                l->oom = 1;
                return 1;
            }
            l->s = p;
            l->cap = cap;
        }
        l->s[l->n++] = a->scopes[k];
    }
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static v_text *build_metadata(jgd *d, view *v)
{
    const char *iss = d->cfg.issuer;
    /* Every scope of a usable API once, sorted: O(s log s) in the scopes. */
    scope_list l = {.now = sv_now()};
    pmap_each(&v->apis, collect_scopes, &l);
    if (l.oom) {
        free(l.s);
        return NULL;
    }
    if (l.n > 0)
        qsort(l.s, l.n, sizeof *l.s, str_cmp);
    json_t *scopes = json_array();
    for (size_t k = 0; k < l.n; k++)
        if (k == 0 || strcmp(l.s[k], l.s[k - 1]) != 0)
            json_array_append_new(scopes, json_string(l.s[k]));
    free(l.s);
    char url[4][1024];
    snprintf(url[0], sizeof url[0], "%s/oauth2/token", iss);
    snprintf(url[1], sizeof url[1], "%s/.well-known/jwks.json", iss);
    snprintf(url[2], sizeof url[2], "%s/oauth2/introspect", iss);
    snprintf(url[3], sizeof url[3], "%s/oauth2/revoke", iss);
    /* RFC 8705 only with a proxy to forward certificates: without a
     * --trusted-proxy none is ever read, and the metadata must not promise */
    int mtls = d->cfg.trusted_proxies.n > 0;
    json_t *auth =
        json_pack("[sss]", "client_secret_basic", "client_secret_post", "private_key_jwt");
    if (mtls && auth != NULL) {
        json_array_append_new(auth, json_string("tls_client_auth"));
        json_array_append_new(auth, json_string("self_signed_tls_client_auth"));
    }
    json_t *algs = json_pack("[sssssssss]", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
                             "RS256", "EdDSA", "Ed25519");
    /* RFC 8414 section 2 makes response_types_supported REQUIRED even for
     * a server without an authorization endpoint, and section 3.2 forbids
     * empty arrays: "none" (OAuth 2.0 Multiple Response Type Encoding
     * Practices section 4) is the value that promises nothing. An empty
     * scopes_supported is left out. */
    json_t *doc = json_pack(
        "{ss ss ss s[s] s[s] sO sO ss sO sO ss sO sO so s[s] s[s]}", "issuer", iss,
        "token_endpoint", url[0], "jwks_uri", url[1], "grant_types_supported", "client_credentials",
        "response_types_supported", "none", "token_endpoint_auth_methods_supported", auth,
        "token_endpoint_auth_signing_alg_values_supported", algs, "introspection_endpoint", url[2],
        "introspection_endpoint_auth_methods_supported", auth,
        "introspection_endpoint_auth_signing_alg_values_supported", algs, "revocation_endpoint",
        url[3], "revocation_endpoint_auth_methods_supported", auth,
        "revocation_endpoint_auth_signing_alg_values_supported", algs,
        "resource_indicators_supported", json_true(), "access_token_signing_alg_values_supported",
        jg_alg_name(d->cfg.signing_alg), "access_token_encryption_alg_values_supported",
        jg_alg_name(d->cfg.encryption_alg));
    json_decref(auth);
    json_decref(algs);
    if (doc != NULL && json_array_size(scopes) > 0)
        json_object_set(doc, "scopes_supported", scopes);
    /* RFC 9449 section 5.1: the proof algorithms the token endpoint takes */
    json_t *dpop = json_array();
    char list[] = OAUTH_DPOP_ALGS;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); dpop != NULL && t != NULL;
         t = strtok_r(NULL, ",", &save))
        json_array_append_new(dpop, json_string(t));
    if (doc != NULL && dpop != NULL)
        json_object_set(doc, "dpop_signing_alg_values_supported", dpop);
    json_decref(dpop);
    /* RFC 8705 section 3.3: certificate-bound tokens, at the one token
     * endpoint (behind the TLS-terminating proxy: no mtls_endpoint_aliases) */
    if (doc != NULL && mtls)
        json_object_set_new(doc, "tls_client_certificate_bound_access_tokens", json_true());
    json_decref(scopes);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (text == NULL)
        return NULL;
    size_t len = strlen(text);
    v_text *t = malloc(sizeof *t + len + 1);
    if (t != NULL) {
        atomic_init(&t->refs, 1);
        t->len = len;
        memcpy(t->s, text, len + 1);
    }
    free(text);
    return t;
}

const char *view_metadata(jgd *d, view *v, size_t *len)
{
    v_text *t = atomic_load(&v->metadata);
    if (t == NULL) {
        v_text *made = build_metadata(d, v), *expected = NULL;
        if (made == NULL)
            return NULL;
        if (atomic_compare_exchange_strong(&v->metadata, &expected, made)) {
            t = made;
        } else { /* another request made it first */
            text_release(made);
            t = expected;
        }
    }
    *len = t->len;
    return t->s;
}

const char *const view_tls_field_names[V_TLS__COUNT] = {
    "tls_client_auth_subject_dn", "tls_client_auth_san_dns", "tls_client_auth_san_uri",
    "tls_client_auth_san_ip", "tls_client_auth_san_email"};

int view_tls_field_parse(const char *s)
{
    for (int i = 0; s != NULL && i < V_TLS__COUNT; i++)
        if (strcmp(s, view_tls_field_names[i]) == 0)
            return i;
    return -1;
}

int view_binding_parse(const char *s)
{
    if (s == NULL || strcmp(s, "dpop_optional") == 0)
        return V_BIND_DPOP_OPTIONAL;
    if (strcmp(s, "none") == 0)
        return V_BIND_NONE;
    if (strcmp(s, "dpop_required") == 0)
        return V_BIND_DPOP_REQUIRED;
    if (strcmp(s, "mtls_required") == 0)
        return V_BIND_MTLS_REQUIRED;
    return -1;
}
