/*
 * stats.h — the token endpoint's counters over time, for the console's
 * pictures: a point per minute (tokens issued, refusals by reason) for the
 * last STATS_MINUTES minutes of this node, in a fixed ring (no allocation
 * after start, no growth). /metrics keeps the totals for Prometheus; this is
 * for a person without one.
 *
 * Threads: stats_tick() from the serve loop (once a second is plenty),
 * stats_json() from any request thread; a mutex between them.
 */
#ifndef JGD_STATS_H
#define JGD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "server/core/metrics.h"

#define STATS_MINUTES 1440 /* a day */

typedef struct stats stats;

stats *stats_new(void);
void stats_free(stats *s);
/* Close the minutes that ended by `now` (seconds since the epoch). */
void stats_tick(stats *s, const metrics *m, int64_t now);
/* {"since": T, "minutes": [{"at": T, "issued": N, "refused": {"reason": N, ...}}, ...]}:
 * the closed minutes oldest first, then the current one so far; malloc'd. */
char *stats_json(stats *s, const metrics *m, int64_t now, size_t *len);

#endif
