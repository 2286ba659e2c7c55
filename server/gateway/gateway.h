/*
 * gateway.h — the snapshot for gateways on other hosts: GET /gateway/v1/snapshot.
 *
 * A registered gateway (admin API, table `gateways`) authenticates with its
 * credential and receives the compiled snapshot (jwtgate/snapshot.h) signed
 * by the control plane's active signing key (a compact JWS) and encrypted to
 * the gateway's registered public key (a compact JWE: ECDH-ES+A256KW,
 * A256GCM, kid = the key's RFC 7638 thumbprint), so that whatever carries it
 * (a proxy, a CDN, an object store) sees no key. docs/cluster.md.
 *
 * The hub keeps the newest published snapshot's bytes (handed over by the
 * publisher, snapshot.h), its JWS (made once per version, on first use) and
 * per gateway the encrypted body of the newest version it fetched, so N polls
 * of one version cost one encryption.
 *
 * Long poll (?wait=SECONDS, 0..60): a request whose If-None-Match names the
 * current version is suspended (libmicrohttpd's suspend/resume, so it holds
 * no worker thread) and resumed when a newer snapshot is published (from the
 * publisher's thread) or at its deadline (the hub's own timer thread), then
 * answered 200 or 304. gateway_stop() resumes every waiter (answered 503)
 * before the HTTP server stops, as libmicrohttpd requires.
 *
 * Threads: every function may be called from any thread; the hub has one
 * mutex (never held while signing or encrypting) and one build mutex (held
 * while a body is made, so a version is encrypted once per gateway).
 */
#ifndef JGD_GATEWAY_H
#define JGD_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "server/core/daemon.h"
#include "server/http/http.h"

struct view;

/* Longest long poll a gateway may ask for, seconds. */
#define GATEWAY_MAX_WAIT 60

/* Create the hub and start its timer thread (d->gw). 0, or -1 (logged). */
int gateway_start(jgd *d);
/* Answer every waiting request (503) and refuse to suspend new ones; call
 * before http_stop(). No-op without a hub. */
void gateway_stop(jgd *d);
/* Stop the timer thread and free the hub (after http_stop()). */
void gateway_free(jgd *d);

/*
 * The publisher made the compiled snapshot `data` (len bytes) of view `v`:
 * the hub takes ownership of `data` (freed with jg_free_secret: it holds the
 * private decryption keys) and wakes the waiters. A version not newer than
 * the hub's is dropped. Without a hub the data is freed.
 */
void gateway_published(jgd *d, const struct view *v, uint8_t *data, size_t len);

/* The row of the registered, active gateway whose credential the request
 * carries (throttled like client authentication); else NULL, answered 401
 * (429, 503). The caller releases the row. */
json_t *gateway_authenticate(request *r);
/* GET /gateway/v1/snapshot (router.c). */
void gateway_snapshot(request *r);
/* GET /gateway/v1/secrets (router.c; secrets.c): the gateway secrets key as
 * a JWE to the gateway's registered key, ETag its kid. */
void gateway_secrets(request *r);

/* Pure helpers (unit-tested). Whether an If-None-Match value (a list of
 * entity tags, weak or strong, or "*"; NULL: none) names `etag`. */
int gateway_etag_matches(const char *if_none_match, const char *etag);
/* Split a credential "jgw_<id>.<secret>": the id into `id` (id_len bytes at
 * most, NUL included) and *secret pointing after the dot. 0, or -1 when it
 * cannot be one (no dot, wrong prefix, too long, empty secret). */
int gateway_credential_split(const char *credential, char *id, size_t id_len, const char **secret);

/* Requests waiting in a long poll now (for /metrics). */
unsigned long gateway_waiting(jgd *d);

#endif
