/*
 * secrets.h — the gateway secrets key on its way to the gateways
 * (docs/ai-gateway.md "How the keys reach the gateways").
 *
 * The snapshot's provider keys are sealed to it (llm.h); the snapshot names
 * its kid ("secrets_kid"), never the key. A local gateway reads it from
 * the file jwtgated writes beside the snapshot (--secrets-key, default
 * <data-dir>/gateway-secrets.jwk: the private JWK, with its kid, the
 * snapshot's mode, written atomically by the library's writer); remote
 * gateways fetch it from GET /gateway/v1/secrets (server/gateway/secrets.c).
 */
#ifndef JGD_SNAPSHOT_SECRETS_H
#define JGD_SNAPSHOT_SECRETS_H

#include "server/core/daemon.h"

struct view;

/*
 * Write the active secrets key of view `v` to d->cfg.secrets_key_path when
 * it is not the one this process last wrote (its first call always writes).
 * Called by snapshot_write() before the snapshot, from the publisher's
 * thread; a failure is logged and tried again with the next snapshot (the
 * snapshot itself is still written: revocations must not wait for it).
 */
void secrets_write_file(jgd *d, const struct view *v);

/* The active secrets key of `v` as its private JWK JSON (NUL-terminated, freed
 * with jg_free_secret(p, 0)), or NULL when there is none or out of memory.
 * `kid` (may be NULL) borrows its kid from the view. Thread-safe. */
char *secrets_jwk_json(const struct view *v, const char **kid);

#endif
