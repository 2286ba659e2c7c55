/*
 * daemon.h — the state of one jwtgated process, shared by every part.
 */
#ifndef JGD_DAEMON_H
#define JGD_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "jwtgate/jwtgate.h"
#include "server/core/instance.h"
#include "server/core/metrics.h"
#include "server/http/net.h"
#include "server/store/store.h"

typedef struct jgd_config {
    const char *data_dir;           /* default "." */
    char *db_path;                  /* default <data_dir>/jwtgated.db */
    char *snapshot_path;            /* default <data_dir>/snapshot.jgs */
    char *secrets_key_path;         /* default <data_dir>/gateway-secrets.jwk (snapshot.h) */
    const char *master_key_file;    /* NULL: JWTGATED_MASTER_KEY */
    const char *listen;             /* address; default 127.0.0.1 */
    unsigned port;                  /* 0: any free port */
    const char *port_file;          /* write the bound port here */
    char *issuer;                   /* default http://<listen>:<port> */
    int64_t token_ttl;              /* seconds; default 900 */
    unsigned threads;               /* HTTP worker threads; default: CPUs */
    unsigned timeout;               /* idle connection timeout, seconds; default 10 */
    unsigned max_connections;       /* default 1024 */
    unsigned max_per_ip;            /* connections per peer address; 0: no limit; default 32 */
    unsigned request_timeout;       /* seconds for a whole request to arrive; default 10 */
    net_cidrs trusted_proxies;      /* peers whose forwarding header names the client */
    net_header real_ip_header;      /* which header: X-Forwarded-For (default) or Forwarded */
    jg_alg signing_alg;             /* default ES256 */
    jg_alg encryption_alg;          /* default ECDH-ES+A256KW (P-256) */
    int access_log;                 /* one line per request */
    unsigned snapshot_mode;         /* the snapshot file's mode: 0600 (default) or 0640 */
    unsigned publish_delay_ms;      /* gather changes this long before a snapshot write; 100 */
    int snapshot_format;            /* SNAPSHOT_COMPILED (default) or SNAPSHOT_JSON: snapshot.h */
    const char *client_cert_header; /* a trusted proxy's client certificate; "Client-Cert" */
    int dpop_nonce;                 /* the token endpoint demands a DPoP-Nonce (RFC 9449 s. 8) */
    const char *test_clock_file;    /* tests only: sv_now()'s offset, re-read every second */
} jgd_config;

struct view;
struct throttle;
struct guard;
struct gateway_hub;

typedef struct jgd {
    jgd_config cfg;
    char *db_shown; /* cfg.db_path as logged: a URI's password hidden */
    store *st;
    jg_jwk *master;
    /* Serialises changes, so that snapshots are written in version order. */
    pthread_mutex_t write_mu;
    /* The current read model; swapped after each change. */
    pthread_mutex_t view_mu;
    struct view *view;
    atomic_int snapshot_ok;    /* the published snapshot matches the view */
    atomic_int snapshot_older; /* refused: the database is older than the snapshot on disk */
    /* The version of the snapshot on disk (read at start, then what this
     * process wrote): a snapshot is never replaced by an older one. */
    atomic_llong published_version;
    int publish;        /* serve: rebuild the view and write the snapshot after changes */
    instance_lock lock; /* one process per database and snapshot (instance.h) */
    metrics m;
    struct throttle *throttle;       /* client authentication failures */
    struct throttle *login_throttle; /* console sign-in failures (per user name and address) */
    struct stats *stats;             /* the token endpoint per minute (the console's pictures) */
    struct guard *guard;             /* connection limits and deadlines (http/guard.h) */
    struct gateway_hub *gw;          /* the snapshot for remote gateways (gateway/gateway.h) */
    char *token_endpoint;            /* <issuer>/oauth2/token */
    uint8_t nonce_key[32];           /* DPoP-Nonce HMAC key, from the master key (dpop_nonce.h) */
    atomic_int stopping;
    /* The snapshot publisher's thread (snapshot/publisher.h). */
    pthread_t pub_thread;
    pthread_mutex_t pub_mu;
    pthread_cond_t pub_cv;      /* kicks and stop */
    pthread_cond_t pub_done_cv; /* a write has finished (publisher_flush) */
    int pub_pending, pub_busy, pub_stop, pub_flush, pub_started;
} jgd;

#endif
