/*
 * pmap.c — a hash array mapped trie with path copying (see pmap.h).
 *
 * A node has up to 32 slots, one per 5-bit digit of the key's hash at its
 * depth; `map` says which digits are present, `nodes` which of those slots
 * hold a child node rather than an item, and a slot's position is the number
 * of present digits below it (popcount). Past the hash's 64 bits, keys whose
 * hashes are equal share a collision node, a plain list.
 *
 * A change walks from the root to the slot that changes. A node on that walk
 * that this map alone holds (its count is 1 and so was every node above it)
 * is written in place; from the first node another map also holds, the rest
 * of the path is copied (the copy taking references to every slot it keeps)
 * and the map's reference to the old node is dropped. So a map being filled
 * (a whole build) writes in place, a map just shared with the previous view
 * copies one path per change, and no node another map can reach is ever
 * written.
 */
#include "server/core/pmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/core/util.h"

struct pnode {
    atomic_uint refs;
    uint32_t map;      /* digits present (unused in a collision node) */
    uint32_t nodes;    /* digits whose slot is a child node */
    uint32_t n;        /* slots */
    uint8_t collision; /* past the hash's bits: items with equal hashes */
    void *slot[];
};

#define MAX_SHIFT 64 /* a node at this shift is a collision node */

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
    if (sv_random(&seed, sizeof seed) != 0)
        seed = 0x9e3779b97f4a7c15ull;
}

/* FNV-1a, keyed, with a final avalanche (MurmurHash3's fmix64): keys are
 * ids this service generated or names its admins chose, so collisions only
 * cost a longer path, never a wrong answer. */
uint64_t (*pmap__hash_for_tests)(const char *key);

static uint64_t hash_key(const char *key)
{
    if (pmap__hash_for_tests != NULL)
        return pmap__hash_for_tests(key);
    pthread_once(&seed_once, seed_init);
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

void pitem_init(pitem *i, const char *key, void (*destroy)(pitem *))
{
    atomic_init(&i->refs, 1);
    i->key = key;
    i->destroy = destroy;
}

pitem *pitem_retain(pitem *i)
{
    if (i != NULL)
        atomic_fetch_add_explicit(&i->refs, 1, memory_order_relaxed);
    return i;
}

void pitem_release(pitem *i)
{
    if (i != NULL && atomic_fetch_sub_explicit(&i->refs, 1, memory_order_acq_rel) == 1)
        i->destroy(i);
}

static void node_release(pnode *nd);

#define NO_SLOT UINT32_MAX

/* Take (retain) or drop (release) a reference to every slot but `skip`;
 * the digits of the slots come in ascending order, so walk the bitmap. */
static void slots_ref(pnode *nd, uint32_t skip, int take)
{
    uint32_t m = nd->map;
    for (uint32_t k = 0; k < nd->n; k++) {
        uint32_t bit = m & (0u - m);
        m &= m - 1;
        if (k == skip)
            continue;
        if (!nd->collision && (nd->nodes & bit) != 0) {
            pnode *child = nd->slot[k];
            if (take)
                atomic_fetch_add_explicit(&child->refs, 1, memory_order_relaxed);
            else
                node_release(child);
        } else if (take) {
            pitem_retain(nd->slot[k]);
        } else {
            pitem_release(nd->slot[k]);
        }
    }
}

static void node_release(pnode *nd)
{
    if (nd == NULL || atomic_fetch_sub_explicit(&nd->refs, 1, memory_order_acq_rel) != 1)
        return;
    slots_ref(nd, NO_SLOT, 0);
    free(nd);
}

static pnode *node_new(uint32_t n)
{
    pnode *nd = calloc(1, sizeof *nd + (n ? n : 1) * sizeof(void *));
    if (nd != NULL) {
        atomic_init(&nd->refs, 1);
        nd->n = n;
    }
    return nd;
}

/* A copy of nd with slot `pos` replaced by `with` (whose reference the copy
 * takes over); `with_is_node` says what it is. */
static pnode *copy_replace(const pnode *nd, uint32_t pos, void *with, uint32_t bit,
                           int with_is_node)
{
    pnode *c = node_new(nd->n);
    if (c == NULL)
        return NULL;
    c->map = nd->map;
    c->collision = nd->collision;
    memcpy(c->slot, nd->slot, nd->n * sizeof(void *));
    c->nodes = nd->nodes; /* the kept slots' kinds, for the references */
    slots_ref(c, pos, 1);
    c->nodes = with_is_node ? (nd->nodes | bit) : (nd->nodes & ~bit);
    c->slot[pos] = with;
    return c;
}

/* A copy of nd with `with` (an item, reference taken over) inserted at pos. */
static pnode *copy_insert(const pnode *nd, uint32_t pos, void *with, uint32_t bit)
{
    pnode *c = node_new(nd->n + 1);
    if (c == NULL)
        return NULL;
    c->map = nd->map | bit;
    c->nodes = nd->nodes;
    c->collision = nd->collision;
    memcpy(c->slot, nd->slot, pos * sizeof(void *));
    c->slot[pos] = with;
    memcpy(c->slot + pos + 1, nd->slot + pos, (nd->n - pos) * sizeof(void *));
    slots_ref(c, pos, 1); /* `with` is an item: its bit is not in nodes */
    return c;
}

static pnode *copy_remove(const pnode *nd, uint32_t pos, uint32_t bit)
{
    pnode *c = node_new(nd->n - 1);
    if (c == NULL)
        return NULL;
    c->map = nd->map & ~bit;
    c->nodes = nd->nodes & ~bit;
    c->collision = nd->collision;
    memcpy(c->slot, nd->slot, pos * sizeof(void *));
    memcpy(c->slot + pos, nd->slot + pos + 1, (nd->n - pos - 1) * sizeof(void *));
    slots_ref(c, NO_SLOT, 1);
    return c;
}

static uint32_t digit(uint64_t h, int shift)
{
    return (uint32_t)(h >> shift) & 31u;
}

static uint32_t position(uint32_t map, uint32_t bit)
{
    return (uint32_t)__builtin_popcount(map & (bit - 1));
}

/* A node holding two items (references taken over) whose paths agree up to
 * `shift`. */
static pnode *pair(int shift, pitem *a, uint64_t ha, pitem *b, uint64_t hb)
{
    if (shift >= MAX_SHIFT) {
        pnode *nd = node_new(2);
        if (nd == NULL) {
            pitem_release(a);
            pitem_release(b);
            return NULL;
        }
        nd->collision = 1;
        nd->slot[0] = a;
        nd->slot[1] = b;
        return nd;
    }
    uint32_t da = digit(ha, shift), db = digit(hb, shift);
    if (da == db) {
        pnode *child = pair(shift + 5, a, ha, b, hb);
        pnode *nd = child != NULL ? node_new(1) : NULL;
        if (nd == NULL) {
            node_release(child); /* releases a and b with it */
            return NULL;
        }
        nd->map = nd->nodes = 1u << da;
        nd->slot[0] = child;
        return nd;
    }
    pnode *nd = node_new(2);
    if (nd == NULL) {
        pitem_release(a);
        pitem_release(b);
        return NULL;
    }
    nd->map = (1u << da) | (1u << db);
    nd->slot[da < db ? 0 : 1] = a;
    nd->slot[da < db ? 1 : 0] = b;
    return nd;
}

static uint64_t item_hash(const pitem *i)
{
    return hash_key(i->key);
}

/* Room for one more slot in an exclusive node (realloc: it may move). */
static pnode *widen(pnode *nd)
{
    return realloc(nd, sizeof *nd + (nd->n + 1) * sizeof(void *));
}

/* Whether `nd` may be written in place: the map's walk came through nodes it
 * alone holds (excl) and no other parent or map holds this one. */
static int exclusive(int excl, const pnode *nd)
{
    return excl && atomic_load_explicit(&nd->refs, memory_order_acquire) == 1;
}

/*
 * The node that replaces nd once `it` is in it (*added: a new key).
 * excl: nd is the map's alone (exclusive()); then it is written in place
 * and the caller's reference to it passes to the result. Otherwise nd is
 * left as it is and the result is a copy with a reference of its own. NULL
 * out of memory, with nothing changed: only the node that gets the new slot
 * allocates when exclusive, and it is the deepest one written.
 */
static pnode *insert(pnode *nd, int shift, pitem *it, uint64_t h, int *added, int excl)
{
    if (nd == NULL) {
        pnode *c = node_new(1);
        if (c == NULL)
            return NULL;
        c->collision = shift >= MAX_SHIFT;
        c->map = c->collision ? 0 : 1u << digit(h, shift);
        c->slot[0] = pitem_retain(it);
        *added = 1;
        return c;
    }
    if (nd->collision) {
        for (uint32_t k = 0; k < nd->n; k++) {
            if (strcmp(((pitem *)nd->slot[k])->key, it->key) != 0)
                continue;
            if (excl) {
                pitem_release(nd->slot[k]);
                nd->slot[k] = pitem_retain(it);
                return nd;
            }
            pnode *c = copy_replace(nd, k, it, 0, 0);
            if (c != NULL)
                pitem_retain(it);
            return c;
        }
        pnode *c = excl ? widen(nd) : copy_insert(nd, nd->n, it, 0);
        if (c == NULL)
            return NULL;
        if (excl)
            c->slot[c->n++] = it;
        pitem_retain(it);
        *added = 1;
        return c;
    }
    uint32_t bit = 1u << digit(h, shift), pos = position(nd->map, bit);
    if ((nd->map & bit) == 0) {
        pnode *c = excl ? widen(nd) : copy_insert(nd, pos, it, bit);
        if (c == NULL)
            return NULL;
        if (excl) {
            memmove(c->slot + pos + 1, c->slot + pos, (c->n - pos) * sizeof(void *));
            c->slot[pos] = it;
            c->map |= bit;
            c->n++;
        }
        pitem_retain(it);
        *added = 1;
        return c;
    }
    if (nd->nodes & bit) {
        pnode *old = nd->slot[pos];
        int child_excl = exclusive(excl, old);
        pnode *child = insert(old, shift + 5, it, h, added, child_excl);
        if (child == NULL)
            return NULL;
        if (excl) {
            if (!child_excl)
                node_release(old); /* the copy replaces it here */
            nd->slot[pos] = child;
            return nd;
        }
        pnode *c = copy_replace(nd, pos, child, bit, 1);
        if (c == NULL)
            node_release(child);
        return c;
    }
    pitem *e = nd->slot[pos];
    if (strcmp(e->key, it->key) == 0) {
        if (excl) {
            pitem_release(e);
            nd->slot[pos] = pitem_retain(it);
            return nd;
        }
        pnode *c = copy_replace(nd, pos, it, bit, 0);
        if (c != NULL)
            pitem_retain(it);
        return c;
    }
    pitem_retain(e);
    pitem_retain(it);
    pnode *sub = pair(shift + 5, e, item_hash(e), it, h);
    if (sub == NULL)
        return NULL; /* pair released both */
    if (excl) {
        pitem_release(e); /* the slot's reference: sub holds e now */
        nd->slot[pos] = sub;
        nd->nodes |= bit;
        *added = 1;
        return nd;
    }
    pnode *c = copy_replace(nd, pos, sub, bit, 1);
    if (c == NULL) {
        node_release(sub);
        return NULL;
    }
    *added = 1;
    return c;
}

/* Remove slot pos of an exclusive node, releasing what it held. */
static void drop_slot(pnode *nd, uint32_t pos, uint32_t bit, int release)
{
    if (release)
        pitem_release(nd->slot[pos]);
    memmove(nd->slot + pos, nd->slot + pos + 1, (nd->n - pos - 1) * sizeof(void *));
    nd->map &= ~bit;
    nd->nodes &= ~bit;
    nd->n--;
}

/* 0: not found (nothing changed); 1: removed, *out the replacement of nd
 * (NULL when it became empty); -1: out of memory (nothing changed). excl as
 * for insert: an exclusive nd is written in place or freed. */
static int del(pnode *nd, int shift, const char *key, uint64_t h, pnode **out, int excl)
{
    *out = NULL;
    if (nd == NULL)
        return 0;
    uint32_t bit = 0, pos = 0;
    if (nd->collision) {
        for (pos = 0; pos < nd->n; pos++)
            if (strcmp(((pitem *)nd->slot[pos])->key, key) == 0)
                break;
        if (pos == nd->n)
            return 0;
    } else {
        bit = 1u << digit(h, shift);
        pos = position(nd->map, bit);
        if ((nd->map & bit) == 0)
            return 0;
    }
    if (!nd->collision && (nd->nodes & bit)) {
        pnode *old = nd->slot[pos], *child = NULL;
        int child_excl = exclusive(excl, old);
        int r = del(old, shift + 5, key, h, &child, child_excl);
        if (r <= 0)
            return r;
        pitem *only = NULL;
        if (child != NULL && child->n == 1 && child->nodes == 0) {
            /* one item left below: pull it up, so paths stay short */
            only = pitem_retain(child->slot[0]);
            node_release(child);
            child = NULL;
        }
        if (excl) {
            if (!child_excl)
                node_release(old);
            if (only != NULL) {
                nd->slot[pos] = only;
                nd->nodes &= ~bit;
            } else if (child != NULL) {
                nd->slot[pos] = child;
            } else {
                drop_slot(nd, pos, bit, 0);
            }
        } else if (only != NULL || child != NULL) {
            *out = copy_replace(nd, pos, only != NULL ? (void *)only : child, bit, only == NULL);
            if (*out == NULL) {
                pitem_release(only);
                node_release(child);
                return -1;
            }
            return 1;
        } else if (nd->n > 1) {
            *out = copy_remove(nd, pos, bit);
            return *out != NULL ? 1 : -1;
        } else {
            return 1; /* empty */
        }
    } else if (!nd->collision && strcmp(((pitem *)nd->slot[pos])->key, key) != 0) {
        return 0;
    } else if (excl) {
        drop_slot(nd, pos, bit, 1);
    } else if (nd->n > 1) {
        *out = copy_remove(nd, pos, bit);
        return *out != NULL ? 1 : -1;
    } else {
        return 1; /* empty */
    }
    /* exclusive and written in place */
    if (nd->n == 0) {
        free(nd);
        return 1;
    }
    *out = nd;
    return 1;
}

pmap pmap_share(const pmap *m)
{
    if (m->root != NULL)
        atomic_fetch_add_explicit(&m->root->refs, 1, memory_order_relaxed);
    return *m;
}

void pmap_clear(pmap *m)
{
    node_release(m->root);
    m->root = NULL;
    m->count = 0;
}

pitem *pmap_get(const pmap *m, const char *key)
{
    const pnode *nd = m->root;
    uint64_t h = hash_key(key);
    for (int shift = 0; nd != NULL; shift += 5) {
        if (nd->collision) {
            for (uint32_t k = 0; k < nd->n; k++)
                if (strcmp(((pitem *)nd->slot[k])->key, key) == 0)
                    return nd->slot[k];
            return NULL;
        }
        uint32_t bit = 1u << digit(h, shift);
        if ((nd->map & bit) == 0)
            return NULL;
        void *s = nd->slot[position(nd->map, bit)];
        if ((nd->nodes & bit) == 0)
            return strcmp(((pitem *)s)->key, key) == 0 ? s : NULL;
        nd = s;
    }
    return NULL;
}

int pmap_set(pmap *m, pitem *i)
{
    int added = 0, excl = m->root != NULL && exclusive(1, m->root);
    pnode *root = insert(m->root, 0, i, item_hash(i), &added, excl);
    if (root == NULL)
        return -1;
    if (!excl)
        node_release(m->root);
    m->root = root;
    m->count += (size_t)added;
    return 0;
}

int pmap_del(pmap *m, const char *key)
{
    pnode *root = NULL;
    int excl = m->root != NULL && exclusive(1, m->root);
    int r = del(m->root, 0, key, hash_key(key), &root, excl);
    if (r < 0)
        return -1;
    if (r > 0) {
        if (!excl)
            node_release(m->root);
        m->root = root;
        m->count--;
    }
    return 0;
}

static int each(const pnode *nd, int (*fn)(pitem *, void *), void *ctx)
{
    uint32_t m = nd->map;
    for (uint32_t k = 0; k < nd->n; k++) {
        uint32_t bit = m & (0u - m);
        m &= m - 1;
        int child = !nd->collision && (nd->nodes & bit) != 0;
        int r = child ? each(nd->slot[k], fn, ctx) : fn(nd->slot[k], ctx);
        if (r != 0)
            return r;
    }
    return 0;
}

int pmap_each(const pmap *m, int (*fn)(pitem *i, void *ctx), void *ctx)
{
    return m->root != NULL ? each(m->root, fn, ctx) : 0;
}
