/*
 * dpop_cache.c — the caller-owned cache of prepared proof keys
 * (jg_dpop_cache) behind jg_dpop_verify_cached().
 *
 * A client signs every proof with the same key and writes the same protected
 * header each time (typ, alg, jwk), so the work a header costs (its checks,
 * the import of the key it carries, the key's thumbprint) is done once per
 * client instead of once per request. A slot is found by a hash of the
 * header as sent and used only when the whole header is byte for byte the
 * one that verified before: a hit means exactly the same checks would pass
 * again. The signature and every claim are checked on every call. Hostile
 * headers can only evict entries (direct-mapped slots), never be mistaken
 * for another: the cost of a miss is the uncached path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpop/dpop_internal.h"

typedef struct slot {
    uint64_t hash;
    size_t len; /* 0: empty */
    jg_jwk *key;
    jg_alg alg;
    char jkt[44];
    char hdr[JG__DPOP_CACHE_HDR_MAX];
} slot;

struct jg_dpop_cache {
    size_t n;
    slot *slots;
};

/* FNV-1a: the header is public, the comparison is exact; only spread. */
static uint64_t hash_of(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

jg_err jg_dpop_cache_new(size_t slots, jg_dpop_cache **out)
{
    if (out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (slots == 0)
        slots = JG_DPOP_CACHE_DEFAULT_SLOTS;
    if (slots > JG_DPOP_CACHE_MAX_SLOTS)
        return JG_ERR_INVALID_ARGUMENT;
    jg_dpop_cache *c = calloc(1, sizeof *c);
    if (c == NULL || (c->slots = calloc(slots, sizeof *c->slots)) == NULL) {
        free(c);
        return JG_ERR_NOMEM;
    }
    c->n = slots;
    *out = c;
    return JG_OK;
}

void jg_dpop_cache_free(jg_dpop_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->n; i++)
        jg_jwk_free(cache->slots[i].key);
    free(cache->slots);
    free(cache);
}

const jg_jwk *jg__dpop_cache_get(jg_dpop_cache *cache, const char *hdr, size_t len, jg_alg *alg,
                                 char jkt[44])
{
    if (len == 0 || len > JG__DPOP_CACHE_HDR_MAX)
        return NULL;
    uint64_t h = hash_of(hdr, len);
    const slot *s = &cache->slots[h % cache->n];
    if (s->len != len || s->hash != h || memcmp(s->hdr, hdr, len) != 0)
        return NULL;
    *alg = s->alg;
    memcpy(jkt, s->jkt, 44);
    return s->key;
}

void jg__dpop_cache_put(jg_dpop_cache *cache, const char *hdr, size_t len, jg_jwk *key, jg_alg alg,
                        const char jkt[44])
{
    if (len == 0 || len > JG__DPOP_CACHE_HDR_MAX)
        return;
    uint64_t h = hash_of(hdr, len);
    slot *s = &cache->slots[h % cache->n];
    jg_jwk_free(s->key);
    s->key = jg_jwk_ref(key);
    s->hash = h;
    s->len = len;
    s->alg = alg;
    memcpy(s->jkt, jkt, 44);
    memcpy(s->hdr, hdr, len);
}
