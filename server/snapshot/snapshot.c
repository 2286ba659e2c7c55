/* snapshot.c — serialise the view for the gateway and replace the file atomically. */
#include "server/snapshot/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/json.h" /* the one library-internal header the daemon uses: see HACKING.md */
#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/gateway/gateway.h"
#include "server/snapshot/llm.h"
#include "server/snapshot/secrets.h"

/* ---- Walking the view ------------------------------------------------------
 * Both forms are written from one walk of the view's maps: APIs (each given
 * its position), then each client's approved subscriptions whose API is in
 * the view (with the scopes the API still defines, and the effective limits
 * read from the store, llm.h), the revocations still live, the suspended
 * clients, and the live over-quota entries of clients and APIs in the view. */

typedef struct walk_ops {
    int (*api)(void *ctx, const v_api *a, uint32_t *at);
    int (*sub)(void *ctx, const v_sub *s, const char *client_id, uint32_t api_at, const v_api *a,
               const char **scopes, size_t nscopes, const json_t *limits);
    int (*revoked)(void *ctx, const char *jti, int64_t exp);
    int (*suspended)(void *ctx, const char *client_id);
    int (*overquota)(void *ctx, const char *client_id, uint32_t api_at, const char *api_id,
                     const char *model, int64_t until);
} walk_ops;

typedef struct api_pos {
    pitem h; /* key: the API's id (borrowed from the view) */
    uint32_t at;
    const v_api *api;
} api_pos;

typedef struct walk {
    const walk_ops *ops;
    void *ctx;
    const view *v;
    const snap_llm *llm;
    pmap pos; /* API id -> api_pos */
    int64_t now;
    const char **scopes;
    size_t scopes_cap;
} walk;

static void pos_destroy(pitem *i)
{
    free(i);
}

static int walk_api(pitem *i, void *ctx)
{
    walk *w = ctx;
    const v_api *a = (const v_api *)i;
    api_pos *p = calloc(1, sizeof *p);
    if (p == NULL || w->ops->api(w->ctx, a, &p->at) != 0) {
        free(p);
        return 1;
    }
    p->api = a;
    pitem_init(&p->h, a->id, pos_destroy);
    int rc = pmap_set(&w->pos, &p->h);
    pitem_release(&p->h);
    return rc != 0;
}

static int walk_client(pitem *i, void *ctx)
{
    walk *w = ctx;
    const v_client *c = (const v_client *)i;
    for (size_t k = 0; k < c->nsubs; k++) {
        const v_sub *s = &c->subs[k];
        const api_pos *p = (const api_pos *)pmap_get(&w->pos, s->api_id);
        if (p == NULL)
            continue; /* its API is not in the view: nothing to subscribe to */
        if (s->nscopes > w->scopes_cap) {
            const char **grown = realloc(w->scopes, s->nscopes * sizeof *grown);
            if (grown == NULL)
                return 1;
            w->scopes = grown;
            w->scopes_cap = s->nscopes;
        }
        size_t n = 0;
        for (size_t m = 0; m < s->nscopes; m++)
            if (view_sub_has_scope(s, p->api, s->scopes[m]))
                w->scopes[n++] = s->scopes[m];
        if (w->ops->sub(w->ctx, s, c->client_id, p->at, p->api, w->scopes, n,
                        json_object_get(w->llm->limits, s->id)) != 0)
            return 1;
    }
    return 0;
}

static int walk_revoked(pitem *i, void *ctx)
{
    walk *w = ctx;
    const v_revoked *r = (const v_revoked *)i;
    return r->exp >= w->now ? w->ops->revoked(w->ctx, r->jti, r->exp) != 0 : 0;
}

static int walk_suspended(pitem *i, void *ctx)
{
    walk *w = ctx;
    const v_client *c = (const v_client *)i;
    return c->suspended ? w->ops->suspended(w->ctx, c->client_id) != 0 : 0;
}

static int walk_overquota(walk *w)
{
    size_t i;
    json_t *row;
    json_array_foreach (w->llm->over_quota, i, row) {
        const char *client_id = json_string_value(json_object_get(row, "client_id"));
        const char *api_id = json_string_value(json_object_get(row, "api_id"));
        const api_pos *p = (const api_pos *)pmap_get(&w->pos, api_id);
        if (p == NULL || client_id == NULL || view_client(w->v, client_id) == NULL)
            continue;
        if (w->ops->overquota(w->ctx, client_id, p->at, api_id,
                              json_string_value(json_object_get(row, "model")),
                              json_integer_value(json_object_get(row, "until"))) != 0)
            return 1;
    }
    return 0;
}

static int walk_view(const view *v, const snap_llm *llm, const walk_ops *ops, void *ctx)
{
    walk w = {.ops = ops, .ctx = ctx, .v = v, .llm = llm, .now = sv_now()};
    int rc = pmap_each(&v->apis, walk_api, &w) || pmap_each(&v->clients, walk_client, &w) ||
             pmap_each(&v->revoked, walk_revoked, &w) ||
             pmap_each(&v->clients, walk_suspended, &w) || walk_overquota(&w);
    pmap_clear(&w.pos);
    free(w.scopes);
    return rc ? -1 : 0;
}

/* ---- The JSON document (format 1) ----------------------------------------- */

typedef struct json_out {
    json_t *apis, *subs, *revoked, *suspended, *over_quota;
    uint32_t napis;
} json_out;

static json_t *str_array(char *const *s, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; k < n && a != NULL; k++)
        json_array_append_new(a, json_string(s[k]));
    return a;
}

static int json_api(void *ctx, const v_api *a, uint32_t *at)
{
    static const char *const states[] = {"draft", "published", "deprecated", "retired"};
    json_out *o = ctx;
    json_t *row = json_pack("{ss ss ss ss ss ss ss so ss}", "id", a->id, "tenant_id", a->tenant_id,
                            "name", a->name, "version", a->version, "base_path", a->base_path,
                            "upstream", a->upstream, "audience", a->audience, "scopes",
                            str_array(a->scopes, a->nscopes), "state", states[a->state]);
    if (row == NULL)
        return -1;
    json_object_set_new(row, "sunset", a->sunset ? json_integer(a->sunset) : json_null());
    if (a->deprecated_at)
        json_object_set_new(row, "deprecated_at", json_integer(a->deprecated_at));
    if (a->require_binding != JG_API_BIND_NONE)
        json_object_set_new(row, "require_binding",
                            json_string(jg_api_binding_name(a->require_binding)));
    *at = o->napis++;
    return json_array_append_new(o->apis, row);
}

static int json_sub(void *ctx, const v_sub *s, const char *client_id, uint32_t api_at,
                    const v_api *a, const char **scopes, size_t nscopes, const json_t *limits)
{
    json_out *o = ctx;
    (void)api_at;
    json_t *sc = json_array();
    for (size_t k = 0; k < nscopes && sc != NULL; k++)
        json_array_append_new(sc, json_string(scopes[k]));
    json_t *row = json_pack("{ss ss ss ss so}", "id", s->id, "client_id", client_id, "api_id",
                            a->id, "audience", a->audience, "scopes", sc);
    if (row != NULL && limits != NULL)
        json_object_set(row, "limits", (json_t *)limits);
    return json_array_append_new(o->subs, row);
}

static int json_overquota(void *ctx, const char *client_id, uint32_t api_at, const char *api_id,
                          const char *model, int64_t until)
{
    json_out *o = ctx;
    (void)api_at;
    json_t *row = json_pack("{ss ss sI}", "client_id", client_id, "api_id", api_id, "until",
                            (json_int_t)until);
    if (row != NULL && model != NULL && model[0] != '\0')
        json_object_set_new(row, "model", json_string(model));
    return json_array_append_new(o->over_quota, row);
}

static int json_revoked(void *ctx, const char *jti, int64_t exp)
{
    json_out *o = ctx;
    return json_array_append_new(o->revoked,
                                 json_pack("{ss sI}", "jti", jti, "exp", (json_int_t)exp));
}

static int json_suspended(void *ctx, const char *client_id)
{
    json_out *o = ctx;
    return json_array_append_new(o->suspended, json_string(client_id));
}

static json_t *public_part(const struct view *v, const snap_llm *llm)
{
    static const walk_ops ops = {json_api, json_sub, json_revoked, json_suspended, json_overquota};
    json_out o = {json_array(), json_array(), json_array(), json_array(), json_array(), 0};
    json_t *keys = json_loads(v->keys->key_info, 0, NULL);
    json_t *verify = json_loadb(v->jwks_json, v->jwks_len, 0, NULL);
    if (o.apis == NULL || o.subs == NULL || o.revoked == NULL || o.suspended == NULL ||
        o.over_quota == NULL || walk_view(v, llm, &ops, &o) != 0) {
        json_decref(o.apis);
        json_decref(o.subs);
        json_decref(o.revoked);
        json_decref(o.suspended);
        json_decref(o.over_quota);
        json_decref(keys);
        json_decref(verify);
        return NULL;
    }
    json_t *doc = json_pack("{ss si sI sI so so so so so so}", "format", "jwtgate-snapshot",
                            "format_version", SNAPSHOT_FORMAT_VERSION, "version",
                            (json_int_t)v->version, "generated_at", (json_int_t)v->built_at, "keys",
                            keys, "verification_keys", verify, "apis", o.apis, "subscriptions",
                            o.subs, "revoked_jti", o.revoked, "suspended_clients", o.suspended);
    /* The LLM members only when there is something: older readers and
     * hand-written snapshots go without them (docs/snapshot.md). */
    if (doc != NULL && json_array_size(o.over_quota) > 0)
        json_object_set(doc, "over_quota", o.over_quota);
    if (doc != NULL && llm->llm != NULL)
        json_object_set(doc, "llm", llm->llm);
    json_decref(o.over_quota);
    return doc;
}

long long snapshot_file_version(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    jg_snapshot *s = NULL;
    jg_err err = jg_snapshot_open(path, NULL, &s);
    if (err == JG_OK) {
        jg_snapshot_info info;
        long long version = jg_snapshot_get_info(s, &info) == JG_OK ? (long long)info.version : -1;
        jg_snapshot_close(s);
        return version;
    }
    if (err != JG_ERR_SNAPSHOT_FORMAT)
        return -1; /* a compiled file that is torn, or unreadable */
    /* not compiled: a JSON snapshot (format 1: --snapshot-format json, or
     * written before an upgrade) */
    json_error_t e;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    const json_t *v = json_object_get(doc, "version");
    long long version = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
    /* The document holds private keys: wipe them from jansson's copy. */
    const json_t *keys = json_object_get(json_object_get(doc, "decryption_keys"), "keys");
    size_t i;
    json_t *k;
    json_array_foreach (keys, i, k) {
        const char *name;
        json_t *member;
        json_object_foreach (k, name, member)
            jg__json_wipe_string(member);
    }
    json_decref(doc);
    return version;
}

/* ---- The compiled form (format 2, jwtgate/snapshot.h) ---------------------
 * Fed to the builder straight from the view: no JSON document is made. */

static int compiled_api(void *ctx, const v_api *a, uint32_t *at)
{
    jg_snapshot_api_in in = {.id = a->id,
                             .tenant_id = a->tenant_id,
                             .name = a->name,
                             .version = a->version,
                             .base_path = a->base_path,
                             .upstream = a->upstream[0] != '\0' ? a->upstream : NULL,
                             .audience = a->audience,
                             .state = a->state,
                             .require_binding = a->require_binding,
                             .sunset = a->sunset,
                             .deprecated_at = a->deprecated_at,
                             .scopes = (const char **)a->scopes,
                             .nscopes = a->nscopes};
    jg_err err = jg_snapshot_builder_add_api(ctx, &in, at);
    if (err != JG_OK)
        log_msg(L_ERR, "snapshot: API %s: %s", a->id, jg_strerror(err));
    return err != JG_OK;
}

static int compiled_sub(void *ctx, const v_sub *s, const char *client_id, uint32_t api_at,
                        const v_api *a, const char **scopes, size_t nscopes, const json_t *limits)
{
    (void)a;
    if (jg_snapshot_builder_add_subscription(ctx, s->id, client_id, api_at, scopes, nscopes) !=
        JG_OK)
        return 1;
    if (limits == NULL)
        return 0;
    jg_snapshot_model_limits_in models[64];
    jg_snapshot_limits_in in;
    snap_llm_limits_in(limits, &in, models);
    jg_err err = jg_snapshot_builder_set_sub_limits(ctx, client_id, api_at, &in);
    if (err != JG_OK)
        log_msg(L_ERR, "snapshot: limits of subscription %s: %s", s->id, jg_strerror(err));
    return err != JG_OK;
}

static int compiled_overquota(void *ctx, const char *client_id, uint32_t api_at, const char *api_id,
                              const char *model, int64_t until)
{
    (void)api_id;
    return jg_snapshot_builder_add_overquota(ctx, client_id, api_at, model, until) != JG_OK;
}

static int compiled_revoked(void *ctx, const char *jti, int64_t exp)
{
    return jg_snapshot_builder_add_revoked(ctx, jti, exp) != JG_OK;
}

static int compiled_suspended(void *ctx, const char *client_id)
{
    return jg_snapshot_builder_add_suspended(ctx, client_id) != JG_OK;
}

static int build_compiled(jgd *d, const struct view *v, const snap_llm *llm, uint8_t **out,
                          size_t *out_len)
{
    static const walk_ops ops = {compiled_api, compiled_sub, compiled_revoked, compiled_suspended,
                                 compiled_overquota};
    char *llm_text = llm->llm != NULL ? json_dumps(llm->llm, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    jg_snapshot_builder *b = NULL;
    const v_keys *k = v->keys;
    int rc = -1;
    if (jg_snapshot_builder_new(&b) == JG_OK &&
        jg_snapshot_builder_set_info(b, v->version, v->built_at, d->cfg.token_ttl, d->cfg.issuer,
                                     v->identity) == JG_OK &&
        jg_snapshot_builder_set_keys(b, k->decrypt_jwks, strlen(k->decrypt_jwks), k->jwks_json,
                                     k->jwks_len, k->key_info, strlen(k->key_info)) == JG_OK &&
        walk_view(v, llm, &ops, b) == 0 && (llm->llm == NULL || llm_text != NULL) &&
        (llm_text == NULL || jg_snapshot_builder_set_llm(b, llm_text, strlen(llm_text)) == JG_OK))
        rc = jg_snapshot_builder_finish(b, out, out_len) == JG_OK ? 0 : -1;
    if (rc != 0)
        log_msg(L_ERR, "snapshot: cannot build the compiled snapshot");
    jg_snapshot_builder_free(b);
    free(llm_text);
    return rc;
}

/* The view's snapshot as the JSON document (format 1, --snapshot-format json). */
static int build_json(jgd *d, const struct view *v, const snap_llm *llm, uint8_t **out,
                      size_t *out_len)
{
    json_t *doc = public_part(v, llm);
    char db_id[33];
    for (size_t i = 0; i < sizeof v->identity; i++)
        snprintf(db_id + 2 * i, 3, "%02x", v->identity[i]);
    if (doc == NULL || json_object_set_new(doc, "issuer", json_string(d->cfg.issuer)) != 0 ||
        json_object_set_new(doc, "db_id", json_string(db_id)) != 0 ||
        json_object_set_new(doc, "token_ttl", json_integer(d->cfg.token_ttl)) != 0) {
        json_decref(doc);
        log_msg(L_ERR, "snapshot: cannot build the document");
        return -1;
    }
    char *pub = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (pub == NULL)
        return -1;
    /* The private decryption keys are spliced in as text, so that no
     * intermediate JSON tree holds them. */
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"decryption_keys\":");
    sv_buf_puts(&b, v->keys->decrypt_jwks);
    sv_buf_puts(&b, ",");
    sv_buf_puts(&b, pub + 1);
    sv_buf_puts(&b, "\n");
    free(pub);
    *out = (uint8_t *)sv_buf_take(&b, out_len);
    return *out != NULL ? 0 : -1;
}

int snapshot_write(jgd *d, const struct view *v)
{
    long long published = atomic_load(&d->published_version);
    if (v->version < published) {
        if (!atomic_exchange(&d->snapshot_older, 1))
            log_msg(L_ERR,
                    "snapshot: the database (version %lld) is older than the published snapshot"
                    " (version %lld); not replacing it. Was the database restored by hand? Stop"
                    " jwtgated and use \"jwtgated restore --from FILE\" (docs/jwtgated.md)",
                    (long long)v->version, published);
        return -2;
    }
    atomic_store(&d->snapshot_older, 0);
    /* The secrets key first: a local gateway that loads the new snapshot
     * finds the key its provider keys are sealed to (secrets.h). */
    secrets_write_file(d, v);
    snap_llm llm;
    if (snap_llm_load(d, v, sv_now(), &llm) != 0)
        return -1;
    uint8_t *data = NULL;
    size_t len = 0;
    if ((d->cfg.snapshot_format == SNAPSHOT_COMPILED ? build_compiled(d, v, &llm, &data, &len)
                                                     : build_json(d, v, &llm, &data, &len)) != 0) {
        snap_llm_free(&llm);
        return -1;
    }
    /* One atomic writer for both forms: the library's (temporary file in the
     * same directory, mode 0600 or --snapshot-mode 0640, fsync, rename,
     * fsync of the directory). */
    jg_err err = jg_snapshot_write_file_mode(d->cfg.snapshot_path, data, len,
                                             d->cfg.snapshot_mode ? d->cfg.snapshot_mode : 0600);
    int saved = errno;
    if (err != JG_OK) {
        jg_free_secret(data, len);
        snap_llm_free(&llm);
        log_msg(L_ERR, "snapshot: cannot write %s: %s", d->cfg.snapshot_path, strerror(saved));
        return -1;
    }
    atomic_store(&d->published_version, (long long)v->version);
    /* The same bytes for the remote gateways (gateway.h), which always get
     * the compiled form: with --snapshot-format json it is built too. */
    if (d->gw != NULL) {
        if (d->cfg.snapshot_format != SNAPSHOT_COMPILED) {
            jg_free_secret(data, len);
            data = NULL;
            if (build_compiled(d, v, &llm, &data, &len) != 0) {
                snap_llm_free(&llm);
                return 0; /* logged; the local file is written */
            }
        }
        gateway_published(d, v, data, len);
    } else {
        jg_free_secret(data, len);
    }
    snap_llm_free(&llm);
    return 0;
}
