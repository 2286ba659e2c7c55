/*
 * llm.h — the snapshot's LLM parts (docs/ai-gateway.md, docs/snapshot.md),
 * read from the store when a snapshot is built: each approved
 * subscription's effective limits, the llm configuration (every llm API's
 * providers in fallback order, each with its active keys resealed to the
 * gateway secrets key) and who is over quota.
 *
 * Read in one read transaction of its own, next to the view: the view has
 * none of it, and a change to any of it is a change (a new version), so the
 * next snapshot follows; a build may see rows a little newer than the view
 * it is made of, never older. A failure to read them fails the snapshot write
 * (retried every second by the publisher): a snapshot without them would take
 * the keys, limits and over-quota list away from every gateway.
 *
 * Provider keys: opened with the master key and sealed again to the secrets
 * key once per (key id, secrets kid), kept in a process-wide cache, so a
 * build reseals only keys it has not sealed before; entries a build no
 * longer needs are dropped (and wiped) by it. Thread-safe (one mutex).
 */
#ifndef JGD_SNAPSHOT_LLM_H
#define JGD_SNAPSHOT_LLM_H

#include <jansson.h>

#include "jwtgate/snapshot.h"
#include "server/core/daemon.h"

struct view;

typedef struct snap_llm {
    json_t *limits;     /* subscription id -> its effective limits (the admin API's object) */
    json_t *llm;        /* the "llm" object of the contract; NULL: no llm API has a provider */
    json_t *over_quota; /* [{client_id, api_id, model ("" = all), until}], until > now */
} snap_llm;

/* Fill `out` for view `v` at `now`. 0, or -1 (logged; `out` is then empty). */
int snap_llm_load(jgd *d, const struct view *v, int64_t now, snap_llm *out);
void snap_llm_free(snap_llm *l);

/* The builder form of a limits object: `models` (room for 64) backs
 * in->models. Weights become milli-units (1 -> 1000). */
void snap_llm_limits_in(const json_t *limits, jg_snapshot_limits_in *in,
                        jg_snapshot_model_limits_in *models);

/* Resealed provider keys in the cache (tests, /metrics). */
size_t snap_llm_cached_keys(void);
/* Keys opened and resealed since the start (a build that reseals nothing
 * new leaves it unchanged). */
unsigned long snap_llm_reseals(void);

#endif
