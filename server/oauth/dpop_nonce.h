/*
 * dpop_nonce.h — the token endpoint's DPoP-Nonce (RFC 9449 section 8).
 *
 * A nonce is base64url(HMAC-SHA-256(key, time slot)): stateless, and the
 * same on every node of a cluster, since the key is derived from the master
 * key they share (HKDF-SHA-256, info "jwtgate dpop nonce"). The current
 * slot's nonce is handed out; the current and the previous slot's are
 * accepted, so a nonce lives between one and two slots.
 */
#ifndef JGD_DPOP_NONCE_H
#define JGD_DPOP_NONCE_H

#include <stdint.h>

#include "server/core/daemon.h"

#define DPOP_NONCE_SLOT 120 /* seconds */

/* Derive d->nonce_key from d->master; 0 or -1 (logged). */
int dpop_nonce_init(jgd *d);

/* The nonce of the slot holding `now` minus `back` slots, into `out` (43
 * characters and a NUL); 0, or -1 (HMAC failed: answer server_error). */
int dpop_nonce_make(const jgd *d, int64_t now, int back, char out[44]);

#endif
