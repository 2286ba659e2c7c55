
/*
 * ngx_http_jwtgate_module: the DPoP replay cache and the server's DPoP
 * nonces, both in one shared memory zone, so that every worker refuses a
 * proof any worker accepted and accepts a nonce any worker handed out.
 *
 * An entry is the SHA-256 of a proof's key thumbprint and jti (16 bytes of
 * it), kept until the proof could no longer pass the iat window (iat +
 * window + leeway, jg_dpop_result.expires). Two trees index the entries: by
 * digest (the check) and by expiry (what may go). A full zone drops only
 * entries that have expired; when none has, the new proof is refused
 * (the caller answers 503): a proof that cannot be recorded could be
 * replayed, so no proof passes unrecorded.
 *
 * Nonces (jwtgate_dpop_nonce): HMAC-SHA256 of the time slot under a random
 * key made when the zone is, so they need no state per nonce; the current
 * and the previous slot are accepted.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_http_jwtgate_module.h"


#define NGX_HTTP_JWTGATE_REPLAY_DIGEST  16

/* expired entries dropped per check, so that no check walks far */
#define NGX_HTTP_JWTGATE_REPLAY_EXPIRE  8


typedef struct {
    ngx_rbtree_t                  rbtree;     /* by digest */
    ngx_rbtree_node_t             sentinel;
    ngx_rbtree_t                  expiry;     /* by expiry */
    ngx_rbtree_node_t             expiry_sentinel;
    ngx_atomic_uint_t             refused;    /* proofs refused when full */
    ngx_atomic_uint_t             entries;    /* for jwtgate_metrics */
    ngx_atomic_uint_t             replays;
    time_t                        warned;     /* the last warning */
    u_char                        nonce_key[32];
} ngx_http_jwtgate_replay_sh_t;


typedef struct {
    ngx_http_jwtgate_replay_sh_t *sh;
    ngx_slab_pool_t              *shpool;
} ngx_http_jwtgate_replay_t;


typedef struct {
    ngx_rbtree_node_t             node;       /* key: the digest's start */
    ngx_rbtree_node_t             exp;        /* key: the expiry */
    u_char                        digest[NGX_HTTP_JWTGATE_REPLAY_DIGEST];
} ngx_http_jwtgate_replay_node_t;


static ngx_int_t ngx_http_jwtgate_replay_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_jwtgate_replay_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_jwtgate_replay_node_t *ngx_http_jwtgate_replay_lookup(
    ngx_http_jwtgate_replay_t *rp, u_char *digest);
static void ngx_http_jwtgate_replay_expire(ngx_http_jwtgate_replay_t *rp,
    time_t now, ngx_uint_t n);


ngx_shm_zone_t *
ngx_http_jwtgate_replay_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t             *shm_zone;
    ngx_http_jwtgate_replay_t  *rp;

    shm_zone = ngx_shared_memory_add(cf, name, size, &ngx_http_jwtgate_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data == NULL) {
        rp = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_replay_t));
        if (rp == NULL) {
            return NULL;
        }

        shm_zone->init = ngx_http_jwtgate_replay_init_zone;
        shm_zone->data = rp;

    } else if (shm_zone->init != ngx_http_jwtgate_replay_init_zone) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is not a DPoP replay zone", name);
        return NULL;
    }

    return shm_zone;
}


static ngx_int_t
ngx_http_jwtgate_replay_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                      len;
    ngx_http_jwtgate_replay_t  *orp = data;
    ngx_http_jwtgate_replay_t  *rp;

    rp = shm_zone->data;

    if (orp) {
        /* a reload keeps the entries (and the nonce key) */
        rp->sh = orp->sh;
        rp->shpool = orp->shpool;
        return NGX_OK;
    }

    rp->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        rp->sh = rp->shpool->data;
        return NGX_OK;
    }

    rp->sh = ngx_slab_calloc(rp->shpool, sizeof(ngx_http_jwtgate_replay_sh_t));
    if (rp->sh == NULL) {
        return NGX_ERROR;
    }

    rp->shpool->data = rp->sh;

    ngx_rbtree_init(&rp->sh->rbtree, &rp->sh->sentinel,
                    ngx_http_jwtgate_replay_insert);
    ngx_rbtree_init(&rp->sh->expiry, &rp->sh->expiry_sentinel,
                    ngx_rbtree_insert_value);

    if (RAND_bytes(rp->sh->nonce_key, sizeof(rp->sh->nonce_key)) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "jwtgate: no randomness for the DPoP nonce key");
        return NGX_ERROR;
    }

    len = sizeof(" in jwtgate DPoP replay zone \"\"") + shm_zone->shm.name.len;

    rp->shpool->log_ctx = ngx_slab_alloc(rp->shpool, len);
    if (rp->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(rp->shpool->log_ctx, " in jwtgate DPoP replay zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* full is handled (and logged) by ngx_http_jwtgate_replay_check */
    rp->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_jwtgate_replay_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t               **p;
    ngx_http_jwtgate_replay_node_t   *rn, *rnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            rn = (ngx_http_jwtgate_replay_node_t *) node;
            rnt = (ngx_http_jwtgate_replay_node_t *) temp;

            p = ngx_memcmp(rn->digest, rnt->digest,
                           NGX_HTTP_JWTGATE_REPLAY_DIGEST) < 0
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


static ngx_http_jwtgate_replay_node_t *
ngx_http_jwtgate_replay_lookup(ngx_http_jwtgate_replay_t *rp, u_char *digest)
{
    ngx_int_t                        rc;
    ngx_rbtree_key_t                 key;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_jwtgate_replay_node_t  *rn;

    ngx_memcpy(&key, digest, sizeof(ngx_rbtree_key_t));

    node = rp->sh->rbtree.root;
    sentinel = rp->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = key < node->key ? node->left : node->right;
            continue;
        }

        rn = (ngx_http_jwtgate_replay_node_t *) node;

        rc = ngx_memcmp(digest, rn->digest, NGX_HTTP_JWTGATE_REPLAY_DIGEST);

        if (rc == 0) {
            return rn;
        }

        node = rc < 0 ? node->left : node->right;
    }

    return NULL;
}


/* Drops up to n entries that expired before now, oldest first. */

static void
ngx_http_jwtgate_replay_expire(ngx_http_jwtgate_replay_t *rp, time_t now,
    ngx_uint_t n)
{
    ngx_rbtree_node_t               *exp;
    ngx_http_jwtgate_replay_node_t  *rn;

    while (n-- && rp->sh->expiry.root != rp->sh->expiry.sentinel) {
        exp = ngx_rbtree_min(rp->sh->expiry.root, rp->sh->expiry.sentinel);

        if ((time_t) exp->key >= now) {
            return;
        }

        rn = (ngx_http_jwtgate_replay_node_t *)
             ((u_char *) exp - offsetof(ngx_http_jwtgate_replay_node_t, exp));

        ngx_rbtree_delete(&rp->sh->expiry, &rn->exp);
        ngx_rbtree_delete(&rp->sh->rbtree, &rn->node);
        ngx_slab_free_locked(rp->shpool, rn);
        rp->sh->entries--;
    }
}


/*
 * Records a verified proof. NGX_OK (first seen), NGX_DECLINED (a replay),
 * NGX_BUSY (the zone is full of entries still in their window: refused,
 * counted, warned about at most every 10 seconds; *retry_after is when the
 * oldest goes) or NGX_ERROR.
 */

ngx_int_t
ngx_http_jwtgate_replay_check(ngx_shm_zone_t *zone, jg_dpop_result *proof,
    time_t *retry_after, ngx_log_t *log)
{
    time_t                           now, oldest;
    EVP_MD_CTX                      *md;
    ngx_uint_t                       refused, warn;
    unsigned int                     n;
    ngx_rbtree_node_t               *exp;
    ngx_http_jwtgate_replay_t       *rp;
    ngx_http_jwtgate_replay_node_t  *rn;
    u_char                           digest[EVP_MAX_MD_SIZE];

    rp = zone->data;
    now = ngx_time();

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    /* the NUL ends the thumbprint: jkt and jti cannot run into each other */
    if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)
        || !EVP_DigestUpdate(md, proof->jkt, ngx_strlen(proof->jkt) + 1)
        || !EVP_DigestUpdate(md, proof->jti, proof->jti_len)
        || !EVP_DigestFinal_ex(md, digest, &n))
    {
        EVP_MD_CTX_free(md);
        return NGX_ERROR;
    }

    EVP_MD_CTX_free(md);

    ngx_shmtx_lock(&rp->shpool->mutex);

    ngx_http_jwtgate_replay_expire(rp, now, NGX_HTTP_JWTGATE_REPLAY_EXPIRE);

    if (ngx_http_jwtgate_replay_lookup(rp, digest) != NULL) {
        rp->sh->replays++;
        ngx_shmtx_unlock(&rp->shpool->mutex);
        return NGX_DECLINED;
    }

    rn = ngx_slab_alloc_locked(rp->shpool,
                               sizeof(ngx_http_jwtgate_replay_node_t));

    if (rn == NULL) {
        /* full: room only from entries past their window */
        ngx_http_jwtgate_replay_expire(rp, now, (ngx_uint_t) -1);

        rn = ngx_slab_alloc_locked(rp->shpool,
                                   sizeof(ngx_http_jwtgate_replay_node_t));
    }

    if (rn == NULL) {
        refused = ++rp->sh->refused;
        warn = rp->sh->warned + 10 <= now;

        if (warn) {
            rp->sh->warned = now;
        }

        oldest = now + 1;

        if (rp->sh->expiry.root != rp->sh->expiry.sentinel) {
            exp = ngx_rbtree_min(rp->sh->expiry.root,
                                 rp->sh->expiry.sentinel);
            oldest = (time_t) exp->key + 1;
        }

        ngx_shmtx_unlock(&rp->shpool->mutex);

        *retry_after = oldest > now ? oldest - now : 1;

        if (warn) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "jwtgate: DPoP replay zone \"%V\" is full of "
                          "proofs still in their window: proofs are refused "
                          "(%ui so far); make it larger",
                          &zone->shm.name, refused);
        }

        return NGX_BUSY;
    }

    ngx_memcpy(rn->digest, digest, NGX_HTTP_JWTGATE_REPLAY_DIGEST);
    ngx_memcpy(&rn->node.key, digest, sizeof(ngx_rbtree_key_t));
    rn->exp.key = (ngx_rbtree_key_t) ngx_max(proof->expires, now);

    ngx_rbtree_insert(&rp->sh->rbtree, &rn->node);
    ngx_rbtree_insert(&rp->sh->expiry, &rn->exp);
    rp->sh->entries++;

    ngx_shmtx_unlock(&rp->shpool->mutex);

    return NGX_OK;
}


/*
 * The nonce of the current time slot (previous: of the one before), 22
 * base64url characters: HMAC-SHA256(zone key, "jwtgate dpop nonce" slot),
 * 16 bytes of it.
 */

ngx_int_t
ngx_http_jwtgate_nonce(ngx_shm_zone_t *zone, time_t slot_len,
    ngx_uint_t previous, u_char *out)
{
    u_char                     *p;
    uint64_t                    slot;
    ngx_str_t                   src, dst;
    ngx_uint_t                  i;
    unsigned int                n;
    ngx_http_jwtgate_replay_t  *rp;
    u_char                      msg[sizeof("jwtgate dpop nonce") - 1 + 8];
    u_char                      mac[EVP_MAX_MD_SIZE];
    u_char                      b64[NGX_HTTP_JWTGATE_NONCE_LEN + 4];

    rp = zone->data;

    slot = (uint64_t) ngx_time() / (uint64_t) (slot_len > 0 ? slot_len : 1);
    slot -= previous ? 1 : 0;

    ngx_memcpy(msg, "jwtgate dpop nonce", sizeof("jwtgate dpop nonce") - 1);

    p = msg + sizeof("jwtgate dpop nonce") - 1;

    for (i = 0; i < 8; i++) {
        p[i] = (u_char) (slot >> (56 - 8 * i));
    }

    /* the key is written once, when the zone is made: no lock */
    if (HMAC(EVP_sha256(), rp->sh->nonce_key, sizeof(rp->sh->nonce_key),
             msg, sizeof(msg), mac, &n) == NULL)
    {
        ngx_memzero(out, NGX_HTTP_JWTGATE_NONCE_LEN);
        return NGX_ERROR;
    }

    src.data = mac;
    src.len = 16;
    dst.data = b64;

    ngx_encode_base64url(&dst, &src);

    ngx_memcpy(out, dst.data, NGX_HTTP_JWTGATE_NONCE_LEN);

    return NGX_OK;
}


/* The zone's numbers (jwtgate_metrics); NGX_DECLINED: not a replay zone. */

ngx_int_t
ngx_http_jwtgate_replay_stats(ngx_shm_zone_t *zone,
    ngx_http_jwtgate_replay_stats_t *st)
{
    ngx_http_jwtgate_replay_t  *rp;

    if (zone->init != ngx_http_jwtgate_replay_init_zone) {
        return NGX_DECLINED;
    }

    rp = zone->data;

    ngx_shmtx_lock(&rp->shpool->mutex);

    st->entries = rp->sh->entries;
    st->replays = rp->sh->replays;
    st->full = rp->sh->refused;
    st->bytes_used = (rp->shpool->last - rp->shpool->pages
                      - rp->shpool->pfree) * ngx_pagesize;

    ngx_shmtx_unlock(&rp->shpool->mutex);

    st->bytes = zone->shm.size;

    return NGX_OK;
}
