
/*
 * The verified-token cache: a shared memory zone that every worker uses.
 *
 * The key is a SHA-256 digest over the location's verification rules, the
 * snapshot's keys and the token (never the token itself); the value is the
 * verified claim set as JSON, plus its jti and client_id so that a new
 * snapshot can purge the entries it revokes. An entry expires at the
 * token's "exp", or earlier with max_ttl. When the zone is full the least
 * recently used entries make room.
 *
 * A hit saves the decryption and the signature check only: the API policy
 * (route, lifecycle, audience, subscription, scope, revocation) is checked
 * on every request against the current snapshot.
 *
 * In front of the zone, each worker keeps the tokens it verified or found
 * there lately ("recent", a direct-mapped table of
 * NGX_HTTP_JWTGATE_RECENT entries): the token itself, compared in constant
 * time, the zone and the rules it was checked under, its expiry and its
 * parsed claims.
 * A token that a client sends again to the same worker costs neither the
 * SHA-256 of the key nor the zone's lock nor parsing its claims again. The
 * table is emptied when a snapshot is installed, so that it holds no claims
 * of a revoked token for longer than the zone does.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_jwtgate_module.h"


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   lru;
    /* for jwtgate_metrics: kept under the zone's lock, as the tree is */
    ngx_http_jwtgate_cache_stats_t
                                  stats;
} ngx_http_jwtgate_cache_sh_t;


typedef struct {
    ngx_http_jwtgate_cache_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
} ngx_http_jwtgate_cache_t;


typedef struct {
    ngx_rbtree_node_t             node;       /* key: the digest's start */
    ngx_queue_t                   queue;
    time_t                        expires;
    u_char                        digest[NGX_HTTP_JWTGATE_DIGEST_LEN];
    u_char                        jti_len;
    u_char                        client_len;
    uint16_t                      claims_len;
    u_char                        data[1];    /* jti, client_id, claims */
} ngx_http_jwtgate_cache_node_t;


static void ngx_http_jwtgate_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_rbtree_key_t ngx_http_jwtgate_cache_key(u_char *digest);
static ngx_http_jwtgate_cache_node_t *ngx_http_jwtgate_cache_lookup(
    ngx_http_jwtgate_cache_t *cache, u_char *digest);
static void ngx_http_jwtgate_cache_delete(ngx_http_jwtgate_cache_t *cache,
    ngx_http_jwtgate_cache_node_t *cn);
static ngx_uint_t ngx_http_jwtgate_cache_expire(
    ngx_http_jwtgate_cache_t *cache, ngx_uint_t n, ngx_uint_t force);
static ngx_uint_t ngx_http_jwtgate_recent_slot(ngx_str_t *token);
static ngx_int_t ngx_http_jwtgate_recent_rules(ngx_http_jwtgate_recent_t *e,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_snap_t *snap);


/* a worker's recent tokens: a power of two; tokens and claims JSON larger
 * than NGX_HTTP_JWTGATE_RECENT_MAX are not kept (a few MB a worker at most,
 * under 1 MB with the tokens jwtgated issues) */
#define NGX_HTTP_JWTGATE_RECENT      256
#define NGX_HTTP_JWTGATE_RECENT_MAX  4096


struct ngx_http_jwtgate_recent_s {
    ngx_uint_t                    refs;       /* the table's, requests' */
    size_t                        size;       /* allocated */
    ngx_shm_zone_t               *zone;       /* whose entry it stands for */
    time_t                        expires;
    u_char                        rules[NGX_HTTP_JWTGATE_DIGEST_LEN];
    u_char                        keys[NGX_HTTP_JWTGATE_DIGEST_LEN];
    ngx_uint_t                    snap;       /* keys are a snapshot's */
    ngx_str_t                     token;
    ngx_str_t                     payload;    /* NUL-terminated */
    jg_claims                    *claims;
};


/* per worker: the cache key's digest, fetched once */
static EVP_MD      *ngx_http_jwtgate_sha256;
static EVP_MD_CTX  *ngx_http_jwtgate_md_ctx;

static ngx_http_jwtgate_recent_t  *ngx_http_jwtgate_recent[
                                       NGX_HTTP_JWTGATE_RECENT];


/* ---- the key ------------------------------------------------------------ */


ngx_int_t
ngx_http_jwtgate_cache_init_process(ngx_cycle_t *cycle)
{
    ngx_http_jwtgate_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    ngx_http_jwtgate_md_ctx = EVP_MD_CTX_new();

    if (ngx_http_jwtgate_sha256 == NULL || ngx_http_jwtgate_md_ctx == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "jwtgate: SHA-256 is not available");
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_jwtgate_cache_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_jwtgate_recent_flush();

    EVP_MD_CTX_free(ngx_http_jwtgate_md_ctx);
    ngx_http_jwtgate_md_ctx = NULL;

    EVP_MD_free(ngx_http_jwtgate_sha256);
    ngx_http_jwtgate_sha256 = NULL;
}


/* The cache key: the location's rules, the snapshot's keys (when there is
 * a snapshot), the token. */

ngx_int_t
ngx_http_jwtgate_cache_digest(ngx_http_jwtgate_loc_conf_t *jlcf,
    ngx_http_jwtgate_snap_t *snap, ngx_str_t *token, u_char *digest,
    ngx_log_t *log)
{
    unsigned int  n;

    if (EVP_DigestInit_ex(ngx_http_jwtgate_md_ctx,
                          ngx_http_jwtgate_sha256, NULL) != 1
        || EVP_DigestUpdate(ngx_http_jwtgate_md_ctx, jlcf->digest,
                            NGX_HTTP_JWTGATE_DIGEST_LEN) != 1
        || (snap != NULL
            && EVP_DigestUpdate(ngx_http_jwtgate_md_ctx, snap->digest,
                                NGX_HTTP_JWTGATE_DIGEST_LEN) != 1)
        || EVP_DigestUpdate(ngx_http_jwtgate_md_ctx, token->data,
                            token->len) != 1
        || EVP_DigestFinal_ex(ngx_http_jwtgate_md_ctx, digest, &n) != 1)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "jwtgate: SHA-256 failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* ---- the zone ----------------------------------------------------------- */


ngx_shm_zone_t *
ngx_http_jwtgate_cache_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t            *shm_zone;
    ngx_http_jwtgate_cache_t  *cache;

    shm_zone = ngx_shared_memory_add(cf, name, size, &ngx_http_jwtgate_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data == NULL) {
        cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_cache_t));
        if (cache == NULL) {
            return NULL;
        }

        shm_zone->init = ngx_http_jwtgate_cache_init_zone;
        shm_zone->data = cache;

    } else if (shm_zone->init != ngx_http_jwtgate_cache_init_zone) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is not a jwtgate cache zone", name);
        return NULL;
    }

    return shm_zone;
}


ngx_int_t
ngx_http_jwtgate_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                     len;
    ngx_http_jwtgate_cache_t  *ocache = data;
    ngx_http_jwtgate_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        /* a reload keeps the zone and its entries */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_calloc(cache->shpool,
                                sizeof(ngx_http_jwtgate_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_jwtgate_cache_rbtree_insert);
    ngx_queue_init(&cache->sh->lru);

    len = sizeof(" in jwtgate cache \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in jwtgate cache \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is normal: the oldest entries make room */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static ngx_rbtree_key_t
ngx_http_jwtgate_cache_key(u_char *digest)
{
    ngx_rbtree_key_t  key;

    ngx_memcpy(&key, digest, sizeof(ngx_rbtree_key_t));

    return key;
}


static void
ngx_http_jwtgate_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t              **p;
    ngx_http_jwtgate_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_jwtgate_cache_node_t *) node;
            cnt = (ngx_http_jwtgate_cache_node_t *) temp;

            p = ngx_memcmp(cn->digest, cnt->digest,
                           NGX_HTTP_JWTGATE_DIGEST_LEN) < 0
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_jwtgate_cache_node_t *
ngx_http_jwtgate_cache_lookup(ngx_http_jwtgate_cache_t *cache,
    u_char *digest)
{
    ngx_int_t                       rc;
    ngx_rbtree_key_t                key;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_jwtgate_cache_node_t  *cn;

    key = ngx_http_jwtgate_cache_key(digest);

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_jwtgate_cache_node_t *) node;

        rc = ngx_memcmp(digest, cn->digest, NGX_HTTP_JWTGATE_DIGEST_LEN);

        if (rc == 0) {
            return cn;
        }

        node = rc < 0 ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_jwtgate_cache_delete(ngx_http_jwtgate_cache_t *cache,
    ngx_http_jwtgate_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cache->shpool, cn);
    cache->sh->stats.entries--;
}


/* Removes up to n entries from the old end: expired ones, or any when
 * `force` (to make room). Returns how many were removed. */

static ngx_uint_t
ngx_http_jwtgate_cache_expire(ngx_http_jwtgate_cache_t *cache, ngx_uint_t n,
    ngx_uint_t force)
{
    time_t                          now;
    ngx_uint_t                      removed;
    ngx_queue_t                    *q;
    ngx_http_jwtgate_cache_node_t  *cn;

    now = ngx_time();

    for (removed = 0; removed < n; removed++) {

        if (ngx_queue_empty(&cache->sh->lru)) {
            break;
        }

        q = ngx_queue_last(&cache->sh->lru);
        cn = ngx_queue_data(q, ngx_http_jwtgate_cache_node_t, queue);

        if (!force && cn->expires > now) {
            break;
        }

        if (cn->expires <= now) {
            cache->sh->stats.expired++;

        } else {
            cache->sh->stats.evictions++;
        }

        ngx_http_jwtgate_cache_delete(cache, cn);
    }

    return removed;
}


/* NGX_OK with the claims copied into the pool and the entry's expiry, or
 * NGX_DECLINED. */

ngx_int_t
ngx_http_jwtgate_cache_get(ngx_shm_zone_t *zone, u_char *digest,
    ngx_pool_t *pool, ngx_str_t *claims, time_t *expires, ngx_log_t *log)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_http_jwtgate_cache_t       *cache;
    ngx_http_jwtgate_cache_node_t  *cn;

    cache = zone->data;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_jwtgate_cache_lookup(cache, digest);

    if (cn != NULL) {

        if (cn->expires <= ngx_time()) {
            cache->sh->stats.expired++;
            ngx_http_jwtgate_cache_delete(cache, cn);
            rc = NGX_DONE;

        } else {
            p = ngx_pnalloc(pool, cn->claims_len + 1);

            if (p != NULL) {
                ngx_memcpy(p, cn->data + cn->jti_len + cn->client_len,
                           cn->claims_len);
                p[cn->claims_len] = '\0';

                claims->data = p;
                claims->len = cn->claims_len;
                *expires = cn->expires;

                ngx_queue_remove(&cn->queue);
                ngx_queue_insert_head(&cache->sh->lru, &cn->queue);

                rc = NGX_OK;
            }
        }
    }

    if (rc == NGX_OK) {
        cache->sh->stats.hits++;

    } else {
        cache->sh->stats.misses++;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "jwtgate: cache \"%V\": %s", &zone->shm.name,
                   rc == NGX_OK ? "hit"
                   : rc == NGX_DONE ? "miss (the entry expired)" : "miss");

    return rc == NGX_OK ? NGX_OK : NGX_DECLINED;
}


void
ngx_http_jwtgate_cache_put(ngx_shm_zone_t *zone, u_char *digest,
    time_t expires, ngx_str_t *jti, ngx_str_t *client_id, ngx_str_t *claims,
    ngx_log_t *log)
{
    size_t                          size;
    ngx_uint_t                      tries;
    ngx_http_jwtgate_cache_t       *cache;
    ngx_http_jwtgate_cache_node_t  *cn;

    if (jti->len > 255 || client_id->len > 255
        || claims->len > NGX_HTTP_JWTGATE_CACHE_MAX_CLAIMS)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0,
                       "jwtgate: cache: not stored, the token is too large");
        return;
    }

    cache = zone->data;

    size = offsetof(ngx_http_jwtgate_cache_node_t, data)
           + jti->len + client_id->len + claims->len;

    ngx_shmtx_lock(&cache->shpool->mutex);

    /* another worker may have cached it meanwhile */
    cn = ngx_http_jwtgate_cache_lookup(cache, digest);
    if (cn != NULL) {
        ngx_http_jwtgate_cache_delete(cache, cn);
    }

    /* a little housekeeping on every insert, as limit_req does */
    (void) ngx_http_jwtgate_cache_expire(cache, 2, 0);

    for (tries = 0; /* void */ ; tries++) {
        cn = ngx_slab_alloc_locked(cache->shpool, size);

        if (cn != NULL || tries == 4) {
            break;
        }

        if (ngx_http_jwtgate_cache_expire(cache, 8, 1) == 0) {
            break;
        }
    }

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0,
                       "jwtgate: cache: not stored, no room");
        return;
    }

    ngx_memcpy(cn->digest, digest, NGX_HTTP_JWTGATE_DIGEST_LEN);
    cn->node.key = ngx_http_jwtgate_cache_key(digest);
    cn->expires = expires;
    cn->jti_len = (u_char) jti->len;
    cn->client_len = (u_char) client_id->len;
    cn->claims_len = (uint16_t) claims->len;

    ngx_memcpy(cn->data, jti->data, jti->len);
    ngx_memcpy(cn->data + jti->len, client_id->data, client_id->len);
    ngx_memcpy(cn->data + jti->len + client_id->len, claims->data,
               claims->len);

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->lru, &cn->queue);
    cache->sh->stats.insertions++;
    cache->sh->stats.entries++;

    ngx_shmtx_unlock(&cache->shpool->mutex);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "jwtgate: cache \"%V\": stored %uz bytes of claims for "
                   "%T s", &zone->shm.name, claims->len, expires - ngx_time());
}


/*
 * After a new snapshot: drop the entries of revoked tokens and suspended
 * clients (the policy check refuses them anyway; this frees their room and
 * keeps no claims of a revoked token around), and the expired ones.
 */

void
ngx_http_jwtgate_cache_purge(ngx_shm_zone_t *zone,
    ngx_http_jwtgate_snap_t *snap, ngx_log_t *log)
{
    time_t                          now;
    ngx_uint_t                      purged;
    ngx_queue_t                    *q, *next;
    ngx_http_jwtgate_cache_t       *cache;
    ngx_http_jwtgate_cache_node_t  *cn;

    cache = zone->data;
    now = ngx_time();
    purged = 0;

    ngx_shmtx_lock(&cache->shpool->mutex);

    for (q = ngx_queue_head(&cache->sh->lru);
         q != ngx_queue_sentinel(&cache->sh->lru);
         q = next)
    {
        next = ngx_queue_next(q);
        cn = ngx_queue_data(q, ngx_http_jwtgate_cache_node_t, queue);

        if (cn->expires <= now
            || (cn->jti_len
                && ngx_http_jwtgate_snap_revoked(snap, cn->data,
                                                 cn->jti_len))
            || (cn->client_len
                && ngx_http_jwtgate_snap_suspended(snap,
                                                   cn->data + cn->jti_len,
                                                   cn->client_len)))
        {
            if (cn->expires <= now) {
                cache->sh->stats.expired++;

            } else {
                cache->sh->stats.purged++;
            }

            ngx_http_jwtgate_cache_delete(cache, cn);
            purged++;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (purged) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "jwtgate: %ui entries purged from cache \"%V\"",
                      purged, &zone->shm.name);
    }
}


/* The zone's numbers (jwtgate_metrics); NGX_DECLINED: not a cache zone. */

ngx_int_t
ngx_http_jwtgate_cache_stats(ngx_shm_zone_t *zone,
    ngx_http_jwtgate_cache_stats_t *st)
{
    ngx_http_jwtgate_cache_t  *cache;

    if (zone->init != ngx_http_jwtgate_cache_init_zone) {
        return NGX_DECLINED;
    }

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    *st = cache->sh->stats;
    st->bytes_used = (cache->shpool->last - cache->shpool->pages
                      - cache->shpool->pfree) * ngx_pagesize;

    ngx_shmtx_unlock(&cache->shpool->mutex);

    st->bytes = zone->shm.size;

    return NGX_OK;
}


/* ---- a worker's recent tokens ------------------------------------------- */


/* The slot: from the token's last bytes, its signature or authentication
 * tag, which differ from token to token. */

static ngx_uint_t
ngx_http_jwtgate_recent_slot(ngx_str_t *token)
{
    size_t  n;

    n = ngx_min(token->len, 16);

    return ngx_murmur_hash2(token->data + token->len - n, n)
           & (NGX_HTTP_JWTGATE_RECENT - 1);
}


/* Whether the entry stands for one of this location's zone, checked under
 * these rules: the location's and the snapshot's keys, what the zone's key
 * covers besides the token. */

static ngx_int_t
ngx_http_jwtgate_recent_rules(ngx_http_jwtgate_recent_t *e,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_snap_t *snap)
{
    if (e->zone != jlcf->cache
        || ngx_memcmp(e->rules, jlcf->digest, NGX_HTTP_JWTGATE_DIGEST_LEN)
           != 0)
    {
        return 0;
    }

    if (snap == NULL) {
        return !e->snap;
    }

    return e->snap
           && ngx_memcmp(e->keys, snap->digest, NGX_HTTP_JWTGATE_DIGEST_LEN)
              == 0;
}


/*
 * The entry of this very token under these rules, not expired: a reference
 * for the caller (ngx_http_jwtgate_recent_release()), with its claims and
 * claims JSON, which live as long as that reference. NULL: none.
 */

ngx_http_jwtgate_recent_t *
ngx_http_jwtgate_recent_get(ngx_http_jwtgate_loc_conf_t *jlcf,
    ngx_http_jwtgate_snap_t *snap, ngx_str_t *token, jg_claims **claims,
    ngx_str_t *payload)
{
    ngx_uint_t                  slot;
    ngx_http_jwtgate_recent_t  *e;

    slot = ngx_http_jwtgate_recent_slot(token);
    e = ngx_http_jwtgate_recent[slot];

    if (e == NULL) {
        ngx_http_jwtgate_metrics_front(0);
        return NULL;
    }

    if (e->expires <= ngx_time()) {
        ngx_http_jwtgate_recent[slot] = NULL;
        ngx_http_jwtgate_recent_release(e);
        ngx_http_jwtgate_metrics_front(0);
        return NULL;
    }

    /* the token is a credential: compared in constant time, as a secret */

    if (e->token.len != token->len
        || !ngx_http_jwtgate_recent_rules(e, jlcf, snap)
        || !jg_memeq_consttime(e->token.data, token->data, token->len))
    {
        ngx_http_jwtgate_metrics_front(0);
        return NULL;
    }

    ngx_http_jwtgate_metrics_front(1);

    e->refs++;

    *claims = e->claims;
    *payload = e->payload;

    return e;
}


/*
 * Remembers a token verified (or found in the zone) under these rules, with
 * its claims, until `expires`. On success the entry owns `claims` and the
 * caller holds a reference to it; NULL (too large, or no memory): nothing
 * changed, the claims are still the caller's.
 */

ngx_http_jwtgate_recent_t *
ngx_http_jwtgate_recent_put(ngx_http_jwtgate_loc_conf_t *jlcf,
    ngx_http_jwtgate_snap_t *snap, ngx_str_t *token, time_t expires,
    jg_claims *claims, ngx_str_t *payload)
{
    u_char                     *p;
    size_t                      size;
    ngx_uint_t                  slot;
    ngx_http_jwtgate_recent_t  *e, *old;

    if (token->len > NGX_HTTP_JWTGATE_RECENT_MAX
        || payload->len > NGX_HTTP_JWTGATE_RECENT_MAX)
    {
        return NULL;
    }

    slot = ngx_http_jwtgate_recent_slot(token);
    old = ngx_http_jwtgate_recent[slot];

    /* room for tokens of about the same size, so that an entry that no
     * request uses is taken over rather than freed and allocated again */
    size = ngx_align(sizeof(ngx_http_jwtgate_recent_t) + token->len
                     + payload->len + 1, 256);

    if (old != NULL && old->refs == 1 && old->size >= size) {
        jg_claims_free(old->claims);
        jg_memzero(old->token.data, old->token.len);

        e = old;
        size = old->size;

    } else {
        e = ngx_alloc(size, ngx_cycle->log);
        if (e == NULL) {
            return NULL;
        }

        if (old != NULL) {
            ngx_http_jwtgate_recent_release(old);
        }

        ngx_http_jwtgate_recent[slot] = e;
    }

    p = (u_char *) e + sizeof(ngx_http_jwtgate_recent_t);

    e->refs = 2;
    e->size = size;
    e->zone = jlcf->cache;
    e->expires = expires;
    ngx_memcpy(e->rules, jlcf->digest, NGX_HTTP_JWTGATE_DIGEST_LEN);

    if (snap != NULL) {
        ngx_memcpy(e->keys, snap->digest, NGX_HTTP_JWTGATE_DIGEST_LEN);
        e->snap = 1;

    } else {
        ngx_memzero(e->keys, NGX_HTTP_JWTGATE_DIGEST_LEN);
        e->snap = 0;
    }

    e->token.data = p;
    e->token.len = token->len;
    p = ngx_cpymem(p, token->data, token->len);

    e->payload.data = p;
    e->payload.len = payload->len;
    p = ngx_cpymem(p, payload->data, payload->len);
    *p = '\0';

    e->claims = claims;

    ngx_http_jwtgate_metrics_front(2);

    return e;
}


void
ngx_http_jwtgate_recent_release(ngx_http_jwtgate_recent_t *e)
{
    if (--e->refs) {
        return;
    }

    jg_claims_free(e->claims);

    /* the token is a credential */
    jg_memzero(e->token.data, e->token.len);

    ngx_free(e);
}


/* After a new snapshot, and when the worker exits: entries that requests
 * still use go when those requests end. */

void
ngx_http_jwtgate_recent_flush(void)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_JWTGATE_RECENT; i++) {
        if (ngx_http_jwtgate_recent[i] != NULL) {
            ngx_http_jwtgate_recent_release(ngx_http_jwtgate_recent[i]);
            ngx_http_jwtgate_recent[i] = NULL;
        }
    }
}
