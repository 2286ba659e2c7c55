/*
 * overquota.h — who is over quota (docs/ai-gateway.md "Over-quota clients").
 *
 * After a usage batch commits, the node that stored it sums, for each
 * (client, API) the batch touched, the shared store's usage of the current
 * minute and UTC day, per model and in total (tokens weighted as the
 * subscription's effective limits say), and compares them with those limits
 * (inline, else the plan's). A counter at or past its limit lists the
 * client (for the whole subscription, or for one model) in llm_over_quota
 * until the end of that minute or day. A new entry, or a later `until`, is a
 * change (audited `subscription.over_quota` in the API's and the
 * application's tenants), so every node's view and snapshot follow; a batch
 * that changes nothing makes no change. Maintenance removes the entries
 * whose `until` has passed, also as a change, so the snapshots drop them.
 */
#ifndef JGD_OVERQUOTA_H
#define JGD_OVERQUOTA_H

#include <jansson.h>
#include <stdint.h>

#include "server/core/daemon.h"

struct view;

/* The usage `records` (a validated batch, just committed) of view `v`: check
 * each (client_id, api) pair they name at `now`. Failures are logged (the
 * next batch checks again). Takes the writer lock only when an entry is to
 * be written. Any thread. */
void overquota_after_batch(jgd *d, const struct view *v, const json_t *records, int64_t now);

/* Remove the entries whose until <= now, as one change. 1 when something was
 * removed, 0 when nothing was due, -1 on a storage failure (logged). */
int overquota_expire(jgd *d, int64_t now);

#endif
