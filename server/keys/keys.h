/*
 * keys.h — issuer signing keys and gateway encryption keys: generation,
 * sealing under the master key, and rotation.
 *
 * States: next -> active -> retiring -> retired. A rotation (per purpose)
 * retires the retiring keys whose tokens can no longer be valid, moves the
 * active key to retiring, makes the next key active and generates a new next
 * key. "next" keys are published ahead (JWKS, snapshot) so that verifiers
 * and gateways know a key before the first token uses it.
 */
#ifndef JGD_KEYS_H
#define JGD_KEYS_H

#include "server/core/change.h"

/* KEY_SECRETS: the gateway secrets key, a 256-bit oct key ("dir" with
 * A256GCM) to which the snapshot's provider keys are sealed (docs/ai-gateway.md).
 * Its "public_jwk" column holds only its kid, kty, alg and use. */
typedef enum key_purpose { KEY_SIGNING = 0, KEY_ENCRYPTION, KEY_SECRETS } key_purpose;

const char *key_purpose_name(key_purpose p);

/* Rotate the keys of one purpose within the change `c`. `alg` is the
 * algorithm of newly generated keys. 0 or -1 (reason in `why`). */
int keys_rotate(change *c, key_purpose purpose, jg_alg alg, char *why, size_t why_len);

/* Make sure each purpose has an active and a next key (rotating once when
 * there is no active key). Sets *changed when it did something. */
int keys_ensure(change *c, int *changed, char *why, size_t why_len);

/* The same for the gateway secrets key alone (serve: a database made
 * before schema 13 gets one at its first start). */
int keys_ensure_secrets(change *c, int *changed, char *why, size_t why_len);

#endif
