/*
 * snap_build.c — building a compiled snapshot (jwtgate/snapshot.h) and
 * writing it to disk atomically.
 *
 * The builder collects records in arrays and every string once in a pool
 * (100,000 subscriptions name the same few scopes: the pool stores each
 * once). Uniqueness rules (one API per id and per base_path, one
 * subscription per client and API, one entry per revoked jti and suspended
 * client) are checked as records arrive, through hash maps that live only
 * while building. finish() lays the sections out in the order of
 * snap_format.h, builds each hash index and seals the file with its
 * SHA-256.
 *
 * The pool holds the gateway's private keys, so it never goes through
 * realloc() (which would leave copies in freed memory): it grows by copying
 * into a new buffer and wiping the old one, and it is wiped when freed.
 */
#include "jwtgate/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/jdoc.h"
#include "snapshot/snap_format.h"

/* ---- Build-time hash maps: 64-bit hash -> record index --------------------------- */

typedef struct bent {
    uint64_t h;
    uint32_t v1; /* value + 1; 0: empty */
} bent;

typedef struct bmap {
    bent *e;
    size_t cap, n; /* cap: a power of two, or 0 */
} bmap;

typedef int (*bmap_eq)(const void *ctx, uint32_t v);

static jg_err bmap_grow(bmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    bent *e = calloc(cap, sizeof *e);
    if (!e)
        return JG_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->e[i].v1)
            continue;
        size_t j = (size_t)m->e[i].h & (cap - 1);
        while (e[j].v1)
            j = (j + 1) & (cap - 1);
        e[j] = m->e[i];
    }
    free(m->e);
    m->e = e;
    m->cap = cap;
    return JG_OK;
}

/* The slot holding a value equal under `eq`, or the empty slot where it
 * would go. The map must have room (bmap_reserve first). */
static bent *bmap_find(const bmap *m, uint64_t h, bmap_eq eq, const void *ctx)
{
    size_t j = (size_t)h & (m->cap - 1);
    for (;;) {
        bent *b = &m->e[j];
        if (!b->v1 || (b->h == h && eq(ctx, b->v1 - 1)))
            return b;
        j = (j + 1) & (m->cap - 1);
    }
}

static jg_err bmap_reserve(bmap *m)
{
    return (m->n + 1) * 2 > m->cap ? bmap_grow(m) : JG_OK;
}

/* ---- The builder ----------------------------------------------------------------- */

typedef struct pool {
    char *buf;
    size_t len, cap;
    bmap map; /* string -> index into refs */
    snap_ref *refs;
    size_t nrefs, refs_cap;
} pool;

struct jg_snapshot_builder {
    int have_info, have_keys, finished;
    int64_t version, generated_at, token_ttl;
    uint8_t db_id[JG_SNAPSHOT_DB_ID_LEN];
    uint8_t hash_key[16];
    snap_ref issuer;
    snap_keys keys;
    pool strings;

    snap_api *apis;
    size_t napis, apis_cap;
    bmap api_ids, api_paths;

    snap_ref *scopes;
    size_t nscopes, scopes_cap;

    snap_sub *subs;
    size_t nsubs, subs_cap;
    bmap sub_keys;

    snap_revoked *revoked;
    size_t nrevoked, revoked_cap;
    bmap revoked_keys;

    snap_ref *suspended;
    size_t nsuspended, suspended_cap;
    bmap suspended_keys;

    int have_llm;
    snap_ref llm;

    snap_limits *limits;
    size_t nlimits, limits_cap;
    snap_model_limits *model_limits;
    size_t nmodel_limits, model_limits_cap;

    snap_overquota *overquota;
    size_t noverquota, overquota_cap;
    bmap overquota_keys; /* (client, api, model) -> entry */
};

/* Grow an array of `size`-byte elements to hold one more. */
static jg_err grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return JG_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / size || ncap > UINT32_MAX)
        return JG_ERR_NOMEM;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return JG_ERR_NOMEM;
    *arr = p;
    *cap = ncap;
    return JG_OK;
}

typedef struct str_key {
    const pool *p;
    const char *s;
    size_t len;
} str_key;

static int pool_eq(const void *ctx, uint32_t v)
{
    const str_key *k = ctx;
    const snap_ref *r = &k->p->refs[v];
    return r->len == k->len && memcmp(k->p->buf + r->off, k->s, k->len) == 0;
}

/* The pool's growth never uses realloc (see the file comment). */
static jg_err pool_room(pool *p, size_t need)
{
    if (p->cap - p->len >= need)
        return JG_OK;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap - p->len < need) {
        if (cap > (size_t)UINT32_MAX)
            return JG_ERR_LIMIT_JSON_SIZE; /* references are 32-bit */
        cap *= 2;
    }
    char *buf = malloc(cap);
    if (!buf)
        return JG_ERR_NOMEM;
    if (p->len)
        memcpy(buf, p->buf, p->len);
    jg_free_secret(p->buf, p->cap);
    p->buf = buf;
    p->cap = cap;
    return JG_OK;
}

/* Intern `len` bytes: the reference of the one copy in the pool. */
static jg_err pool_add(jg_snapshot_builder *b, const char *s, size_t len, snap_ref *out)
{
    pool *p = &b->strings;
    str_key k = {p, s, len};
    uint64_t h = jg__siphash24(b->hash_key, s, len);
    jg_err err = bmap_reserve(&p->map);
    if (err)
        return err;
    bent *slot = bmap_find(&p->map, h, pool_eq, &k);
    if (slot->v1) {
        *out = p->refs[slot->v1 - 1];
        return JG_OK;
    }
    if (len >= UINT32_MAX || memchr(s, 0, len))
        return JG_ERR_INVALID_ARGUMENT; /* NUL-terminated in the file */
    if ((err = pool_room(p, len + 1)) ||
        (err = grow((void **)&p->refs, &p->refs_cap, p->nrefs, sizeof *p->refs)))
        return err;
    snap_ref r = {(uint32_t)p->len, (uint32_t)len};
    memcpy(p->buf + p->len, s, len);
    p->buf[p->len + len] = 0;
    p->len += len + 1;
    p->refs[p->nrefs] = r;
    slot->h = h;
    slot->v1 = (uint32_t)++p->nrefs;
    p->map.n++;
    *out = r;
    return JG_OK;
}

static jg_err pool_add_str(jg_snapshot_builder *b, const char *s, snap_ref *out)
{
    return pool_add(b, s ? s : "", s ? strlen(s) : 0, out);
}

static const char *ref_ptr(const jg_snapshot_builder *b, snap_ref r)
{
    return b->strings.buf + r.off;
}

jg_err jg_snapshot_builder_new(jg_snapshot_builder **out)
{
    if (!out)
        return JG_ERR_INVALID_ARGUMENT;
    *out = NULL;
    jg_snapshot_builder *b = calloc(1, sizeof *b);
    if (!b)
        return JG_ERR_NOMEM;
    if (RAND_bytes(b->hash_key, sizeof b->hash_key) != 1) {
        free(b);
        return JG_ERR_CRYPTO;
    }
    *out = b;
    return JG_OK;
}

void jg_snapshot_builder_free(jg_snapshot_builder *b)
{
    if (!b)
        return;
    jg_free_secret(b->strings.buf, b->strings.cap);
    free(b->strings.map.e);
    free(b->strings.refs);
    free(b->apis);
    free(b->api_ids.e);
    free(b->api_paths.e);
    free(b->scopes);
    free(b->subs);
    free(b->sub_keys.e);
    free(b->revoked);
    free(b->revoked_keys.e);
    free(b->suspended);
    free(b->suspended_keys.e);
    free(b->limits);
    free(b->model_limits);
    free(b->overquota);
    free(b->overquota_keys.e);
    jg_memzero(b, sizeof *b);
    free(b);
}

jg_err jg_snapshot_builder_set_info(jg_snapshot_builder *b, int64_t version, int64_t generated_at,
                                    int64_t token_ttl, const char *issuer, const uint8_t *db_id)
{
    if (!b || b->finished || !issuer)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err = pool_add_str(b, issuer, &b->issuer);
    if (err)
        return err;
    b->version = version;
    b->generated_at = generated_at;
    b->token_ttl = token_ttl;
    if (db_id)
        memcpy(b->db_id, db_id, sizeof b->db_id);
    else
        memset(b->db_id, 0, sizeof b->db_id);
    b->have_info = 1;
    return JG_OK;
}

jg_err jg_snapshot_builder_set_keys(jg_snapshot_builder *b, const char *decryption,
                                    size_t decryption_len, const char *verification,
                                    size_t verification_len, const char *keys_info,
                                    size_t keys_info_len)
{
    if (!b || b->finished || !decryption || !verification)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err;
    if ((err = pool_add(b, decryption, decryption_len, &b->keys.decryption)) ||
        (err = pool_add(b, verification, verification_len, &b->keys.verification)))
        return err;
    if (keys_info)
        err = pool_add(b, keys_info, keys_info_len, &b->keys.info);
    else
        err = pool_add(b, "[]", 2, &b->keys.info);
    if (err)
        return err;
    b->have_keys = 1;
    return JG_OK;
}

/* Equality callbacks of the uniqueness maps: ctx is the key being added. */
typedef struct api_key {
    const jg_snapshot_builder *b;
    const char *s;
    size_t len;
} api_key;

static int api_id_eq(const void *ctx, uint32_t v)
{
    const api_key *k = ctx;
    snap_ref r = k->b->apis[v].id;
    return r.len == k->len && memcmp(ref_ptr(k->b, r), k->s, k->len) == 0;
}

static int api_path_eq(const void *ctx, uint32_t v)
{
    const api_key *k = ctx;
    snap_ref r = k->b->apis[v].base_path;
    return r.len == k->len && memcmp(ref_ptr(k->b, r), k->s, k->len) == 0;
}

/* Append `n` scope references; *first gets the index of the first. */
static jg_err add_scopes(jg_snapshot_builder *b, const char *const *scopes, size_t n,
                         uint32_t *first)
{
    if (n && !scopes)
        return JG_ERR_INVALID_ARGUMENT;
    if (n > UINT32_MAX - b->nscopes)
        return JG_ERR_NOMEM;
    *first = (uint32_t)b->nscopes;
    for (size_t i = 0; i < n; i++) {
        jg_err err;
        if (!scopes[i])
            return JG_ERR_INVALID_ARGUMENT;
        if ((err = grow((void **)&b->scopes, &b->scopes_cap, b->nscopes, sizeof *b->scopes)) ||
            (err = pool_add_str(b, scopes[i], &b->scopes[b->nscopes])))
            return err;
        b->nscopes++;
    }
    return JG_OK;
}

jg_err jg_snapshot_builder_add_api(jg_snapshot_builder *b, const jg_snapshot_api_in *in,
                                   uint32_t *index)
{
    if (!b || b->finished || !in || !in->id || !*in->id || !in->base_path || !*in->base_path ||
        !in->audience || !*in->audience || in->state < JG_API_DRAFT || in->state > JG_API_RETIRED)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err;
    if ((err = bmap_reserve(&b->api_ids)) || (err = bmap_reserve(&b->api_paths)) ||
        (err = grow((void **)&b->apis, &b->apis_cap, b->napis, sizeof *b->apis)))
        return err;
    api_key kid = {b, in->id, strlen(in->id)}, kpath = {b, in->base_path, strlen(in->base_path)};
    uint64_t hid = jg__siphash24(b->hash_key, kid.s, kid.len);
    uint64_t hpath = jg__siphash24(b->hash_key, kpath.s, kpath.len);
    bent *sid = bmap_find(&b->api_ids, hid, api_id_eq, &kid);
    bent *spath = bmap_find(&b->api_paths, hpath, api_path_eq, &kpath);
    if (sid->v1 || spath->v1)
        return JG_ERR_INVALID_ARGUMENT; /* a repeated id or base_path */

    snap_api a;
    memset(&a, 0, sizeof a);
    if ((err = pool_add_str(b, in->id, &a.id)) ||
        (err = pool_add_str(b, in->tenant_id, &a.tenant_id)) ||
        (err = pool_add_str(b, in->name, &a.name)) ||
        (err = pool_add_str(b, in->version, &a.version)) ||
        (err = pool_add_str(b, in->base_path, &a.base_path)) ||
        (err = pool_add_str(b, in->upstream, &a.upstream)) ||
        (err = pool_add_str(b, in->audience, &a.audience)) ||
        (err = add_scopes(b, in->scopes, in->nscopes, &a.scopes_first)))
        return err;
    a.nscopes = (uint32_t)in->nscopes;
    a.state = (uint32_t)in->state;
    a.binding = (uint32_t)in->require_binding;
    a.sunset = in->sunset;
    a.deprecated_at = in->deprecated_at;
    b->apis[b->napis] = a;
    /* the pool may have grown: the slots found above stay valid (the maps
     * did not change since bmap_find) */
    sid->h = hid;
    sid->v1 = (uint32_t)b->napis + 1;
    b->api_ids.n++;
    spath->h = hpath;
    spath->v1 = (uint32_t)b->napis + 1;
    b->api_paths.n++;
    if (index)
        *index = (uint32_t)b->napis;
    b->napis++;
    return JG_OK;
}

typedef struct sub_key {
    const jg_snapshot_builder *b;
    const char *client_id;
    size_t len;
    uint32_t api_index;
} sub_key;

static int sub_eq(const void *ctx, uint32_t v)
{
    const sub_key *k = ctx;
    const snap_sub *s = &k->b->subs[v];
    return s->api_index == k->api_index && s->client_id.len == k->len &&
           memcmp(ref_ptr(k->b, s->client_id), k->client_id, k->len) == 0;
}

jg_err jg_snapshot_builder_add_subscription(jg_snapshot_builder *b, const char *id,
                                            const char *client_id, uint32_t api_index,
                                            const char *const *scopes, size_t nscopes)
{
    if (!b || b->finished || !id || !client_id || !*client_id || api_index >= b->napis)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err;
    if ((err = bmap_reserve(&b->sub_keys)) ||
        (err = grow((void **)&b->subs, &b->subs_cap, b->nsubs, sizeof *b->subs)))
        return err;
    sub_key k = {b, client_id, strlen(client_id), api_index};
    uint64_t h = jg__snap_sub_hash(b->hash_key, k.client_id, k.len, api_index);
    bent *slot = bmap_find(&b->sub_keys, h, sub_eq, &k);
    if (slot->v1)
        return JG_ERR_INVALID_ARGUMENT; /* a second subscription to the same API */
    snap_sub s;
    memset(&s, 0, sizeof s);
    if ((err = pool_add_str(b, id, &s.id)) || (err = pool_add_str(b, client_id, &s.client_id)) ||
        (err = add_scopes(b, scopes, nscopes, &s.scopes_first)))
        return err;
    s.api_index = api_index;
    s.nscopes = (uint32_t)nscopes;
    b->subs[b->nsubs] = s;
    slot->h = h;
    slot->v1 = (uint32_t)++b->nsubs;
    b->sub_keys.n++;
    return JG_OK;
}

typedef struct ref_key {
    const jg_snapshot_builder *b;
    const snap_ref *refs; /* the records' first member is the key */
    size_t stride;
    const char *s;
    size_t len;
} ref_key;

static int ref_eq(const void *ctx, uint32_t v)
{
    const ref_key *k = ctx;
    const snap_ref *r = (const snap_ref *)((const char *)k->refs + (size_t)v * k->stride);
    return r->len == k->len && memcmp(ref_ptr(k->b, *r), k->s, k->len) == 0;
}

jg_err jg_snapshot_builder_add_revoked(jg_snapshot_builder *b, const char *jti, int64_t exp)
{
    if (!b || b->finished || !jti || !*jti)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err;
    if ((err = bmap_reserve(&b->revoked_keys)) ||
        (err = grow((void **)&b->revoked, &b->revoked_cap, b->nrevoked, sizeof *b->revoked)))
        return err;
    ref_key k = {b, b->nrevoked ? &b->revoked[0].jti : NULL, sizeof(snap_revoked), jti,
                 strlen(jti)};
    uint64_t h = jg__siphash24(b->hash_key, k.s, k.len);
    bent *slot = bmap_find(&b->revoked_keys, h, ref_eq, &k);
    if (slot->v1) {
        snap_revoked *r = &b->revoked[slot->v1 - 1];
        if (exp > r->exp)
            r->exp = exp;
        return JG_OK;
    }
    snap_revoked r = {{0, 0}, exp};
    if ((err = pool_add(b, k.s, k.len, &r.jti)))
        return err;
    b->revoked[b->nrevoked] = r;
    slot->h = h;
    slot->v1 = (uint32_t)++b->nrevoked;
    b->revoked_keys.n++;
    return JG_OK;
}

jg_err jg_snapshot_builder_add_suspended(jg_snapshot_builder *b, const char *client_id)
{
    if (!b || b->finished || !client_id || !*client_id)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err;
    if ((err = bmap_reserve(&b->suspended_keys)) ||
        (err =
             grow((void **)&b->suspended, &b->suspended_cap, b->nsuspended, sizeof *b->suspended)))
        return err;
    ref_key k = {b, b->suspended, sizeof(snap_ref), client_id, strlen(client_id)};
    uint64_t h = jg__siphash24(b->hash_key, k.s, k.len);
    bent *slot = bmap_find(&b->suspended_keys, h, ref_eq, &k);
    if (slot->v1)
        return JG_OK;
    snap_ref r;
    if ((err = pool_add(b, k.s, k.len, &r)))
        return err;
    b->suspended[b->nsuspended] = r;
    slot->h = h;
    slot->v1 = (uint32_t)++b->nsuspended;
    b->suspended_keys.n++;
    return JG_OK;
}

/* ---- LLM APIs: configuration, limits, over quota --------------------------------- */

jg_err jg_snapshot_builder_set_llm(jg_snapshot_builder *b, const char *json, size_t len)
{
    if (!b || b->finished || !json || b->have_llm)
        return JG_ERR_INVALID_ARGUMENT;
    /* Checked here, once, so that every gateway can count on an object. */
    jg__jdoc *doc = NULL;
    jg_err err = jg__jdoc_parse(json, len, 0, &doc);
    if (err == JG_OK && doc->nodes[0].type != JG__J_OBJECT)
        err = JG_ERR_INVALID_ARGUMENT;
    jg__jdoc_free(doc);
    if (err)
        return err == JG_ERR_NOMEM ? err : JG_ERR_INVALID_ARGUMENT;
    if ((err = pool_add(b, json, len, &b->llm)))
        return err;
    b->have_llm = 1;
    return JG_OK;
}

#define MAX_MODEL_LIMITS 64
#define MAX_WEIGHT_MILLI 1000000u

static int counters_ok(int64_t rpm, int64_t tpm, int64_t tpd)
{
    return rpm >= 0 && tpm >= 0 && tpd >= 0;
}

jg_err jg_snapshot_builder_set_sub_limits(jg_snapshot_builder *b, const char *client_id,
                                          uint32_t api_index, const jg_snapshot_limits_in *l)
{
    if (!b || b->finished || !client_id || !l || !b->sub_keys.cap ||
        !counters_ok(l->requests_per_minute, l->tokens_per_minute, l->tokens_per_day) ||
        l->input_weight_milli > MAX_WEIGHT_MILLI || l->output_weight_milli > MAX_WEIGHT_MILLI ||
        l->nmodels > MAX_MODEL_LIMITS || (l->nmodels && !l->models))
        return JG_ERR_INVALID_ARGUMENT;
    sub_key k = {b, client_id, strlen(client_id), api_index};
    uint64_t h = jg__snap_sub_hash(b->hash_key, k.client_id, k.len, api_index);
    bent *slot = bmap_find(&b->sub_keys, h, sub_eq, &k);
    if (!slot->v1 || b->subs[slot->v1 - 1].limits1)
        return JG_ERR_INVALID_ARGUMENT; /* no such subscription, or set twice */
    for (size_t i = 0; i < l->nmodels; i++) {
        const jg_snapshot_model_limits_in *m = &l->models[i];
        if (!m->model || !*m->model ||
            !counters_ok(m->requests_per_minute, m->tokens_per_minute, m->tokens_per_day))
            return JG_ERR_INVALID_ARGUMENT;
        for (size_t j = 0; j < i; j++)
            if (strcmp(l->models[j].model, m->model) == 0)
                return JG_ERR_INVALID_ARGUMENT;
    }
    jg_err err = grow((void **)&b->limits, &b->limits_cap, b->nlimits, sizeof *b->limits);
    if (err)
        return err;
    snap_limits r;
    memset(&r, 0, sizeof r);
    r.requests_per_minute = l->requests_per_minute;
    r.tokens_per_minute = l->tokens_per_minute;
    r.tokens_per_day = l->tokens_per_day;
    r.input_weight_milli = l->input_weight_milli;
    r.output_weight_milli = l->output_weight_milli;
    r.models_first = (uint32_t)b->nmodel_limits;
    for (size_t i = 0; i < l->nmodels; i++) {
        const jg_snapshot_model_limits_in *m = &l->models[i];
        snap_model_limits ml;
        memset(&ml, 0, sizeof ml);
        if ((err = grow((void **)&b->model_limits, &b->model_limits_cap, b->nmodel_limits,
                        sizeof *b->model_limits)) ||
            (err = pool_add_str(b, m->model, &ml.model)))
            return err; /* entries added so far are unreferenced, harmless */
        ml.requests_per_minute = m->requests_per_minute;
        ml.tokens_per_minute = m->tokens_per_minute;
        ml.tokens_per_day = m->tokens_per_day;
        b->model_limits[b->nmodel_limits++] = ml;
    }
    r.nmodels = (uint32_t)l->nmodels;
    b->limits[b->nlimits++] = r;
    b->subs[slot->v1 - 1].limits1 = (uint32_t)b->nlimits;
    return JG_OK;
}

typedef struct oq_key {
    const jg_snapshot_builder *b;
    const char *client_id, *model;
    size_t len, model_len;
    uint32_t api_index;
} oq_key;

static int oq_eq(const void *ctx, uint32_t v)
{
    const oq_key *k = ctx;
    const snap_overquota *o = &k->b->overquota[v];
    return o->api_index == k->api_index && o->client_id.len == k->len &&
           o->model.len == k->model_len &&
           memcmp(ref_ptr(k->b, o->client_id), k->client_id, k->len) == 0 &&
           memcmp(ref_ptr(k->b, o->model), k->model, k->model_len) == 0;
}

jg_err jg_snapshot_builder_add_overquota(jg_snapshot_builder *b, const char *client_id,
                                         uint32_t api_index, const char *model, int64_t until)
{
    if (!b || b->finished || !client_id || !*client_id || api_index >= b->napis)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err;
    if ((err = bmap_reserve(&b->overquota_keys)) ||
        (err =
             grow((void **)&b->overquota, &b->overquota_cap, b->noverquota, sizeof *b->overquota)))
        return err;
    oq_key k = {
        b, client_id, model ? model : "", strlen(client_id), model ? strlen(model) : 0, api_index};
    /* the build-time key covers the model too; the file's index does not */
    uint64_t h = jg__snap_sub_hash(b->hash_key, k.client_id, k.len, api_index) ^
                 jg__siphash24(b->hash_key, k.model, k.model_len);
    bent *slot = bmap_find(&b->overquota_keys, h, oq_eq, &k);
    if (slot->v1) {
        snap_overquota *o = &b->overquota[slot->v1 - 1];
        if (until > o->until)
            o->until = until;
        return JG_OK;
    }
    snap_overquota o;
    memset(&o, 0, sizeof o);
    if ((err = pool_add(b, k.client_id, k.len, &o.client_id)) ||
        (err = pool_add(b, k.model, k.model_len, &o.model)))
        return err;
    o.api_index = api_index;
    o.until = until;
    b->overquota[b->noverquota] = o;
    slot->h = h;
    slot->v1 = (uint32_t)++b->noverquota;
    b->overquota_keys.n++;
    return JG_OK;
}

/* ---- Laying out the file --------------------------------------------------------- */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Slots for `n` records: a power of two with a load factor of at most 1/2. */
static size_t index_slots(size_t n)
{
    if (!n)
        return 0;
    size_t s = 2;
    while (s < 2 * n)
        s *= 2;
    return s;
}

/* Fill an index: hash_of(i) for each record; returns the longest probe. */
typedef uint64_t (*hash_of_fn)(const jg_snapshot_builder *b, size_t i);

static uint32_t fill_index(const jg_snapshot_builder *b, snap_slot *slots, size_t nslots, size_t n,
                           hash_of_fn hash_of)
{
    uint32_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = hash_of(b, i);
        size_t j = (size_t)h & (nslots - 1);
        uint32_t probe = 1;
        while (slots[j].index1) {
            j = (j + 1) & (nslots - 1);
            probe++;
        }
        slots[j].index1 = (uint32_t)i + 1;
        slots[j].hash = (uint32_t)h;
        if (probe > longest)
            longest = probe;
    }
    return longest;
}

static uint64_t api_hash(const jg_snapshot_builder *b, size_t i)
{
    snap_ref r = b->apis[i].base_path;
    return jg__siphash24(b->hash_key, ref_ptr(b, r), r.len);
}

static uint64_t sub_hash(const jg_snapshot_builder *b, size_t i)
{
    const snap_sub *s = &b->subs[i];
    return jg__snap_sub_hash(b->hash_key, ref_ptr(b, s->client_id), s->client_id.len, s->api_index);
}

static uint64_t revoked_hash(const jg_snapshot_builder *b, size_t i)
{
    snap_ref r = b->revoked[i].jti;
    return jg__siphash24(b->hash_key, ref_ptr(b, r), r.len);
}

static uint64_t suspended_hash(const jg_snapshot_builder *b, size_t i)
{
    snap_ref r = b->suspended[i];
    return jg__siphash24(b->hash_key, ref_ptr(b, r), r.len);
}

/* By (client_id, API), like subscriptions: a lookup finds every model's. */
static uint64_t overquota_hash(const jg_snapshot_builder *b, size_t i)
{
    const snap_overquota *o = &b->overquota[i];
    return jg__snap_sub_hash(b->hash_key, ref_ptr(b, o->client_id), o->client_id.len, o->api_index);
}

typedef struct layout {
    snap_section sec[SNAP_NSECTIONS];
    size_t total;
} layout;

static void place(layout *l, int id, size_t size, size_t count)
{
    l->sec[id].offset = l->total;
    l->sec[id].size = size;
    l->sec[id].count = (uint32_t)count;
    l->total = align8(l->total + size);
}

jg_err jg_snapshot_builder_finish(jg_snapshot_builder *b, uint8_t **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!b || !out || !len || b->finished || !b->have_info || !b->have_keys)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err;

    size_t n_api_slots = index_slots(b->napis), n_sub_slots = index_slots(b->nsubs);
    size_t n_rev_slots = index_slots(b->nrevoked), n_sus_slots = index_slots(b->nsuspended);
    size_t n_oq_slots = index_slots(b->noverquota);
    if (!b->have_llm && (err = pool_add(b, "", 0, &b->llm)))
        return err;
    b->finished = 1; /* the pool is complete: the strings can be laid out */
    layout l;
    memset(&l, 0, sizeof l);
    l.total = sizeof(snap_header) + SNAP_NSECTIONS * sizeof(snap_section);
    place(&l, SNAP_STRINGS, b->strings.len, 0);
    place(&l, SNAP_KEYS, sizeof(snap_keys), 1);
    place(&l, SNAP_APIS, b->napis * sizeof(snap_api), b->napis);
    place(&l, SNAP_API_INDEX, n_api_slots * sizeof(snap_slot), n_api_slots);
    place(&l, SNAP_SCOPES, b->nscopes * sizeof(snap_ref), b->nscopes);
    place(&l, SNAP_SUBS, b->nsubs * sizeof(snap_sub), b->nsubs);
    place(&l, SNAP_SUB_INDEX, n_sub_slots * sizeof(snap_slot), n_sub_slots);
    place(&l, SNAP_REVOKED, b->nrevoked * sizeof(snap_revoked), b->nrevoked);
    place(&l, SNAP_REVOKED_INDEX, n_rev_slots * sizeof(snap_slot), n_rev_slots);
    place(&l, SNAP_SUSPENDED, b->nsuspended * sizeof(snap_ref), b->nsuspended);
    place(&l, SNAP_SUSPENDED_INDEX, n_sus_slots * sizeof(snap_slot), n_sus_slots);
    place(&l, SNAP_LLM, sizeof(snap_ref), 1);
    place(&l, SNAP_LIMITS, b->nlimits * sizeof(snap_limits), b->nlimits);
    place(&l, SNAP_MODEL_LIMITS, b->nmodel_limits * sizeof(snap_model_limits), b->nmodel_limits);
    place(&l, SNAP_OVERQUOTA, b->noverquota * sizeof(snap_overquota), b->noverquota);
    place(&l, SNAP_OVERQUOTA_INDEX, n_oq_slots * sizeof(snap_slot), n_oq_slots);
    if (l.total > (size_t)UINT32_MAX * 4)
        return JG_ERR_LIMIT_JSON_SIZE;

    uint8_t *buf = calloc(1, l.total);
    if (!buf)
        return JG_ERR_NOMEM;
    snap_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SNAP_MAGIC, SNAP_MAGIC_LEN);
    h.format_version = JG_SNAPSHOT_FORMAT_VERSION;
    h.header_size = (uint32_t)(sizeof(snap_header) + SNAP_NSECTIONS * sizeof(snap_section));
    h.nsections = SNAP_NSECTIONS;
    h.file_size = l.total;
    h.version = b->version;
    h.generated_at = b->generated_at;
    h.token_ttl = b->token_ttl;
    memcpy(h.db_id, b->db_id, sizeof h.db_id);
    memcpy(h.hash_key, b->hash_key, sizeof h.hash_key);
    h.issuer = b->issuer;

    if (b->strings.len)
        memcpy(buf + l.sec[SNAP_STRINGS].offset, b->strings.buf, b->strings.len);
    memcpy(buf + l.sec[SNAP_KEYS].offset, &b->keys, sizeof b->keys);
    if (b->napis)
        memcpy(buf + l.sec[SNAP_APIS].offset, b->apis, b->napis * sizeof(snap_api));
    if (b->nscopes)
        memcpy(buf + l.sec[SNAP_SCOPES].offset, b->scopes, b->nscopes * sizeof(snap_ref));
    if (b->nsubs)
        memcpy(buf + l.sec[SNAP_SUBS].offset, b->subs, b->nsubs * sizeof(snap_sub));
    if (b->nrevoked)
        memcpy(buf + l.sec[SNAP_REVOKED].offset, b->revoked, b->nrevoked * sizeof(snap_revoked));
    if (b->nsuspended)
        memcpy(buf + l.sec[SNAP_SUSPENDED].offset, b->suspended, b->nsuspended * sizeof(snap_ref));
    memcpy(buf + l.sec[SNAP_LLM].offset, &b->llm, sizeof b->llm);
    if (b->nlimits)
        memcpy(buf + l.sec[SNAP_LIMITS].offset, b->limits, b->nlimits * sizeof(snap_limits));
    if (b->nmodel_limits)
        memcpy(buf + l.sec[SNAP_MODEL_LIMITS].offset, b->model_limits,
               b->nmodel_limits * sizeof(snap_model_limits));
    if (b->noverquota)
        memcpy(buf + l.sec[SNAP_OVERQUOTA].offset, b->overquota,
               b->noverquota * sizeof(snap_overquota));

    /* The slots are written through a correctly aligned pointer: the
     * buffer is malloc'd and every section offset is a multiple of 8. */
    struct {
        int id;
        size_t nslots, n;
        hash_of_fn fn;
    } idx[] = {{SNAP_API_INDEX, n_api_slots, b->napis, api_hash},
               {SNAP_SUB_INDEX, n_sub_slots, b->nsubs, sub_hash},
               {SNAP_REVOKED_INDEX, n_rev_slots, b->nrevoked, revoked_hash},
               {SNAP_SUSPENDED_INDEX, n_sus_slots, b->nsuspended, suspended_hash},
               {SNAP_OVERQUOTA_INDEX, n_oq_slots, b->noverquota, overquota_hash}};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        if (!idx[i].nslots)
            continue;
        snap_slot *slots = (snap_slot *)(void *)(buf + l.sec[idx[i].id].offset);
        l.sec[idx[i].id].aux = fill_index(b, slots, idx[i].nslots, idx[i].n, idx[i].fn);
    }

    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, l.sec, sizeof l.sec);
    unsigned int mdlen = 0;
    if (EVP_Digest(buf, l.total, h.checksum, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        jg_free_secret(buf, l.total);
        return JG_ERR_CRYPTO;
    }
    memcpy(buf + SNAP_CHECKSUM_OFFSET, h.checksum, sizeof h.checksum);
    *out = buf;
    *len = l.total;
    return JG_OK;
}

/* ---- Writing the file ------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

jg_err jg_snapshot_write_file(const char *path, const uint8_t *data, size_t len)
{
    return jg_snapshot_write_file_mode(path, data, len, 0600);
}

jg_err jg_snapshot_write_file_mode(const char *path, const uint8_t *data, size_t len, unsigned mode)
{
    /* The owner reads and writes; the group may read; others never. */
    if (!path || !*path || (!data && len) || (mode & 0600u) != 0600u || (mode & ~0640u) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp.XXXXXX");
    char *dir = malloc(plen + 2);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return JG_ERR_NOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    const char *slash = strrchr(path, '/');
    if (!slash)
        memcpy(dir, ".", 2);
    else if (slash == path)
        memcpy(dir, "/", 2);
    else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = 0;
    }

    int saved = 0;
    int fd = mkstemp(tmp);
    if (fd < 0)
        goto fail;
    if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        goto fail;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        errno = saved;
        goto fail;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        goto fail;
    if (fsync(dfd) != 0) {
        saved = errno;
        close(dfd);
        errno = saved;
        goto fail;
    }
    close(dfd);
    free(tmp);
    free(dir);
    return JG_OK;
fail:
    saved = errno;
    free(tmp);
    free(dir);
    errno = saved;
    return JG_ERR_FILE;
}
