/*
 * pmap.h — a persistent map from strings to reference-counted items: the
 * index structure of the view (server/core/view.h).
 *
 * Why persistent: every committed change makes a new view while requests
 * still read the old one. Copying a table of 100,000 subscriptions per change
 * is what made a change cost the size of the deployment; here a new map
 * shares every node with the old one except the path to what changed (a hash
 * array mapped trie, 32-way: at most 13 levels, in practice 3 to 5 for a
 * million entries), so setting or removing an entry costs O(log32 n) node
 * copies whatever the size, and both maps stay valid and immutable to their
 * readers.
 *
 * Items start with a `pitem` header (their reference count, their key and how
 * to free them); a map holds one reference to each item and to each node, so
 * an item or node shared by several maps lives until the last one is freed.
 * Counts are atomic: maps are read by many threads at once and freed by
 * whichever drops the last view.
 *
 * Threads: any number of threads may read a map no thread is modifying.
 * pmap_set()/pmap_del() modify the map they are given (never a node another
 * map also holds: those are copied first), so they need exclusive access to
 * that one map only — the view's writer, under the writer lock.
 * Keys are hashed with a per-process random seed.
 */
#ifndef JGD_PMAP_H
#define JGD_PMAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pitem {
    atomic_uint refs;
    const char *key;                  /* borrowed from the item itself */
    void (*destroy)(struct pitem *i); /* frees the item (refs reached 0) */
} pitem;

/* Initialise an item's header: one reference, owned by the caller. */
void pitem_init(pitem *i, const char *key, void (*destroy)(pitem *));
pitem *pitem_retain(pitem *i); /* NULL-safe; returns i */
void pitem_release(pitem *i);  /* NULL-safe */

typedef struct pnode pnode;
typedef struct pmap {
    pnode *root; /* NULL: empty */
    size_t count;
} pmap;

/* An empty map needs no initialisation beyond `pmap m = {0}`. */

/* A second map equal to `m`, sharing all of it (O(1)). */
pmap pmap_share(const pmap *m);
/* Drop the map's references (its nodes and items); `m` becomes empty. */
void pmap_clear(pmap *m);

/* The item with this key, or NULL; borrowed from the map. */
pitem *pmap_get(const pmap *m, const char *key);
/* Insert or replace by i->key; the map takes a new reference to `i` (the
 * caller keeps its own). 0, or -1 out of memory (m unchanged). */
int pmap_set(pmap *m, pitem *i);
/* Remove the item with this key, if any. 0, or -1 out of memory. */
int pmap_del(pmap *m, const char *key);

/* Call fn for every item (in hash order) until it returns non-zero, which is
 * returned; 0 after the last. */
int pmap_each(const pmap *m, int (*fn)(pitem *i, void *ctx), void *ctx);

/* Tests only: a hash to use instead (to make keys collide); NULL: ours. */
extern uint64_t (*pmap__hash_for_tests)(const char *key);

#endif
