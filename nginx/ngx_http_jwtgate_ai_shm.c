
/*
 * The state every worker of a gateway shares, in one shared memory zone:
 * provider keys taken out for a while (401/403, 429 with Retry-After), so
 * that no worker keeps using a key another one saw refused, and the
 * counters of the subscriptions' limits, so that a limit holds for the
 * gateway as a whole. Two fixed open-addressing tables of 64-bit hashes
 * under the zone's mutex; a full table forgets its oldest entries (a key
 * comes back early, a counter restarts: the limits fail open rather than
 * refuse everybody).
 */


#include "ngx_http_jwtgate_ai_module.h"


#define NGX_HTTP_JWTGATE_AI_PROBE  8


typedef struct {
    uint64_t                      hash;
    time_t                        until;
} ngx_http_jwtgate_ai_ban_t;


typedef struct {
    uint64_t                      hash;
    int64_t                       window;
    int64_t                       value;
} ngx_http_jwtgate_ai_counter_t;


typedef struct {
    ngx_uint_t                    nbans;           /* powers of 2 */
    ngx_uint_t                    ncounters;
    ngx_http_jwtgate_ai_ban_t    *bans;
    ngx_http_jwtgate_ai_counter_t  *counters;
} ngx_http_jwtgate_ai_shctx_t;


ngx_int_t
ngx_http_jwtgate_ai_shm_init(ngx_shm_zone_t *zone, void *data)
{
    size_t                        avail;
    ngx_uint_t                    n;
    ngx_slab_pool_t              *shpool;
    ngx_http_jwtgate_ai_shctx_t  *sh;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (data) {
        zone->data = data;
        return NGX_OK;
    }

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_jwtgate_ai_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    /* a quarter for the keys, the rest for the counters */

    avail = zone->shm.size / 2;

    for (n = 64; n * 2 * sizeof(ngx_http_jwtgate_ai_ban_t) <= avail / 4; n *= 2)
    {
        /* void */
    }

    sh->nbans = n;

    for (n = 64;
         n * 2 * sizeof(ngx_http_jwtgate_ai_counter_t) <= avail * 3 / 4;
         n *= 2)
    {
        /* void */
    }

    sh->ncounters = n;

    sh->bans = ngx_slab_calloc(shpool,
                               sh->nbans * sizeof(ngx_http_jwtgate_ai_ban_t));
    sh->counters = ngx_slab_calloc(shpool, sh->ncounters
                                   * sizeof(ngx_http_jwtgate_ai_counter_t));

    if (sh->bans == NULL || sh->counters == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    zone->data = sh;

    return NGX_OK;
}


/* When the key comes back (a time after now), or 0 when it is in. */

time_t
ngx_http_jwtgate_ai_key_out(ngx_shm_zone_t *zone, uint64_t hash, time_t now)
{
    time_t                        until;
    ngx_uint_t                    i, k;
    ngx_slab_pool_t              *shpool;
    ngx_http_jwtgate_ai_shctx_t  *sh;

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    until = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (k = 0; k < NGX_HTTP_JWTGATE_AI_PROBE; k++) {
        i = (hash + k) & (sh->nbans - 1);

        if (sh->bans[i].hash == hash) {
            if (sh->bans[i].until > now) {
                until = sh->bans[i].until;
            }

            break;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return until;
}


void
ngx_http_jwtgate_ai_key_ban(ngx_shm_zone_t *zone, uint64_t hash, time_t until)
{
    time_t                        oldest;
    ngx_uint_t                    i, k, slot;
    ngx_slab_pool_t              *shpool;
    ngx_http_jwtgate_ai_shctx_t  *sh;

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    slot = hash & (sh->nbans - 1);
    oldest = NGX_MAX_TIME_T_VALUE;

    for (k = 0; k < NGX_HTTP_JWTGATE_AI_PROBE; k++) {
        i = (hash + k) & (sh->nbans - 1);

        if (sh->bans[i].hash == hash) {
            slot = i;
            break;
        }

        if (sh->bans[i].until < oldest) {
            oldest = sh->bans[i].until;
            slot = i;
        }
    }

    if (sh->bans[slot].hash != hash) {
        sh->bans[slot].hash = hash;
        sh->bans[slot].until = until;

    } else if (sh->bans[slot].until < until) {
        sh->bans[slot].until = until;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* Adds `add` to the counter `hash` of `window` (a minute's or a day's
 * number) and returns its value before the addition; a counter of an
 * older window restarts at 0. */

int64_t
ngx_http_jwtgate_ai_count(ngx_shm_zone_t *zone, uint64_t hash,
    int64_t window, int64_t add)
{
    int64_t                         before, oldest;
    ngx_uint_t                      i, k, slot;
    ngx_slab_pool_t                *shpool;
    ngx_http_jwtgate_ai_shctx_t    *sh;
    ngx_http_jwtgate_ai_counter_t  *c;

    sh = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    slot = hash & (sh->ncounters - 1);
    oldest = INT64_MAX;

    for (k = 0; k < NGX_HTTP_JWTGATE_AI_PROBE; k++) {
        i = (hash + k) & (sh->ncounters - 1);

        if (sh->counters[i].hash == hash) {
            slot = i;
            break;
        }

        /* a free slot, or the one of the oldest window */

        if (sh->counters[i].window < oldest) {
            oldest = sh->counters[i].window;
            slot = i;
        }
    }

    c = &sh->counters[slot];

    if (c->hash != hash || c->window != window) {
        c->hash = hash;
        c->window = window;
        c->value = 0;
    }

    before = c->value;
    c->value += add;

    ngx_shmtx_unlock(&shpool->mutex);

    return before;
}
