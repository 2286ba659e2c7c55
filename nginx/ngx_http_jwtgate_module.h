
/*
 * ngx_http_jwtgate_module: checks access tokens (signed, encrypted or nested
 * JWTs) with libjwtgate before nginx serves or proxies a request, and
 * enforces the API policy that jwtgated publishes in its snapshot.
 *
 * This header is shared by the module's source files, one concern each:
 *
 *   ngx_http_jwtgate_module.c     the request: the access handler and its
 *                                 steps, RFC 6750 refusals, the forwarded
 *                                 claim headers, Deprecation and Sunset
 *   ngx_http_jwtgate_conf.c       the module definition, the directives,
 *                                 create/merge, each location's prepared
 *                                 rules, the worker process hooks
 *   ngx_http_jwtgate_keys.c       key sets: jwtgate_key_file, the
 *                                 algorithms a set allows, its digest
 *   ngx_http_jwtgate_snapshot.c   the snapshot: loading, checking the file,
 *                                 swapping, lookups
 *   ngx_http_jwtgate_cache.c      the verified-token cache in shared memory
 *                                 and its key; a worker's recent tokens
 *   ngx_http_jwtgate_variables.c  the variables and claim values
 *   ngx_http_jwtgate_dpop.c       sender-constrained tokens: the DPoP
 *                                 proof (RFC 9449) and the client
 *                                 certificate (RFC 8705) a token is bound to
 *   ngx_http_jwtgate_replay.c     the DPoP replay cache in shared memory and
 *                                 the server's DPoP nonces
 *   ngx_http_jwtgate_metrics.c    jwtgate_metrics: the counters in shared
 *                                 memory, the Prometheus text
 *   ngx_http_jwtgate_issuers.c    trust sources: issuers whose JWKS the
 *                                 agent fetches, the manifest, the
 *                                 per-worker key sets, "iss" selection
 */


#ifndef _NGX_HTTP_JWTGATE_MODULE_H_INCLUDED_
#define _NGX_HTTP_JWTGATE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include <jwtgate/jwtgate.h>


#define NGX_HTTP_JWTGATE_DIGEST_LEN      32

/* A cached claim set larger than this is not cached (the token still
 * passes); jti and client_id longer than 255 bytes are not cached either. */
#define NGX_HTTP_JWTGATE_CACHE_MAX_CLAIMS  8192

/* The compiled snapshot is mapped, not read: up to 1 GB. A JSON one
 * (format 1, written by hand) is read and compiled: up to 64 MB. */
#define NGX_HTTP_JWTGATE_SNAPSHOT_MAX     ((off_t) 1024 * 1024 * 1024)
#define NGX_HTTP_JWTGATE_SNAPSHOT_JSON_MAX  ((off_t) 64 * 1024 * 1024)

/* APIs a worker reads into its routing table per event-loop turn once a
 * new snapshot's checksum matched: about 0.2 ms (1024 took up to 0.8 ms
 * on a busy machine, close to the 1 ms a turn may take). */
#define NGX_HTTP_JWTGATE_SNAPSHOT_APIS    512

/* Bytes of the checksum a worker verifies per event-loop turn while a new
 * compiled snapshot is checked: about a quarter of a millisecond, so a
 * request that arrives during a slice waits at most that (1 MiB slices
 * doubled the p99 of a gateway whose snapshot changed every second). The
 * slice is hashed in pieces and ends early once it has taken
 * NGX_HTTP_JWTGATE_SNAPSHOT_TURN_US of CPU time: a slice whose pages fault
 * slowly (a busy machine, reclaim) took up to 1.3 ms in one piece. */
#define NGX_HTTP_JWTGATE_SNAPSHOT_STEP    ((size_t) 256 * 1024)
#define NGX_HTTP_JWTGATE_SNAPSHOT_PIECE   ((size_t) 32 * 1024)
#define NGX_HTTP_JWTGATE_SNAPSHOT_TURN_US 250

/* jwtgate_dpop */
#define NGX_HTTP_JWTGATE_DPOP_OFF         0
#define NGX_HTTP_JWTGATE_DPOP_OPTIONAL    1
#define NGX_HTTP_JWTGATE_DPOP_REQUIRED    2

/* The smallest leeway a proof's "iat" gets, seconds: a proof made just now
 * may carry a second that nginx's cached clock has not reached yet, and
 * clients' clocks drift (jwtgate_leeway, when larger, applies instead). */
#define NGX_HTTP_JWTGATE_DPOP_LEEWAY      5

/* The replay zone every location with DPoP on uses unless it names one
 * (jwtgate_dpop_replay). */
#define NGX_HTTP_JWTGATE_DPOP_ZONE        "jwtgate_dpop"
#define NGX_HTTP_JWTGATE_DPOP_ZONE_SIZE   ((size_t) 4 * 1024 * 1024)

/* jwtgate_metrics: the named tables (labels from a bounded set of names)
 * and their slots; names beyond them count under "other" */
#define NGX_HTTP_JWTGATE_TABLE_APIS       0
#define NGX_HTTP_JWTGATE_TABLE_SOURCES    1
#define NGX_HTTP_JWTGATE_TABLE_ISSUERS    2
#define NGX_HTTP_JWTGATE_METRICS_APIS     128
#define NGX_HTTP_JWTGATE_METRICS_SOURCES  16
#define NGX_HTTP_JWTGATE_METRICS_ISSUERS  32

/* the values of an issuer's slot (ngx_http_jwtgate_issuers.c counts) */
#define NGX_HTTP_JWTGATE_ISSUER_LOADS     0
#define NGX_HTTP_JWTGATE_ISSUER_FAILURES  1
#define NGX_HTTP_JWTGATE_ISSUER_REFETCHES 2
#define NGX_HTTP_JWTGATE_ISSUER_STALE     3

/* base64url of a SHA-256 digest, and the nonces' length */
#define NGX_HTTP_JWTGATE_B64_SHA256_LEN   43
#define NGX_HTTP_JWTGATE_NONCE_LEN        22


typedef enum {
    NGX_HTTP_JWTGATE_API_DRAFT = 0,
    NGX_HTTP_JWTGATE_API_PUBLISHED,
    NGX_HTTP_JWTGATE_API_DEPRECATED,
    NGX_HTTP_JWTGATE_API_RETIRED
} ngx_http_jwtgate_api_state_e;


/* An open-addressing table of strings; values are pointers. */

typedef struct {
    ngx_str_t                     key;
    void                         *value;
} ngx_http_jwtgate_slot_t;


typedef struct {
    ngx_uint_t                    mask;
    ngx_http_jwtgate_slot_t      *slots;
} ngx_http_jwtgate_table_t;


typedef struct {
    uint32_t                      index;           /* in the snapshot */
    ngx_str_t                     id;
    ngx_str_t                     name;
    ngx_str_t                     version;
    ngx_str_t                     base_path;
    ngx_str_t                     upstream;
    ngx_str_t                     audience;
    ngx_str_t                    *scopes;
    ngx_uint_t                    nscopes;
    ngx_uint_t                    state;
    time_t                        sunset;          /* 0: none */
    time_t                        deprecated_at;   /* 0: not known */
    ngx_uint_t                    binding;         /* jg_api_binding: the
                                                      sender constraint the
                                                      API requires */
} ngx_http_jwtgate_api_t;


/* An approved subscription, as found in the snapshot (filled by
 * ngx_http_jwtgate_snap_subscription; its strings point into the mapping). */

typedef struct {
    ngx_http_jwtgate_api_t       *api;
    jg_snapshot                  *js;
    jg_snap_sub                   sub;
} ngx_http_jwtgate_sub_t;


/*
 * One snapshot: the compiled file mapped read-only (or compiled here from
 * a JSON one) with the keys parsed and the APIs' routing table built.
 * Subscriptions, revocations and suspensions are looked up in the mapping
 * itself. Immutable once loaded; a worker swaps the pointer
 * of its source when the file changes, and the old snapshot lives on until
 * the last request holding a reference ends (refs counts the source's own
 * reference and every request's; workers are single-threaded).
 */

/* Parsed key sets, shared by consecutive snapshots whose key texts and
 * issuer are the same (keys change at a rotation, not with every change):
 * parsing a private key is most of a millisecond. */

typedef struct {
    ngx_uint_t                    refs;
    jg_jwks                      *decrypt_keys;
    jg_jwks                      *verify_keys;
} ngx_http_jwtgate_keyset_t;


typedef struct {
    ngx_pool_t                   *pool;
    ngx_uint_t                    refs;
    int64_t                       version;
    time_t                        generated_at;
    u_char                        db_id[JG_SNAPSHOT_DB_ID_LEN]; /* 0: none */
    ngx_str_t                     issuer;          /* NUL-terminated */
    jg_jwks                      *decrypt_keys;
    jg_jwks                      *verify_keys;
    jg_alg_set                    sig_algs;
    jg_alg_set                    key_algs;
    u_char                        digest[NGX_HTTP_JWTGATE_DIGEST_LEN];
    ngx_uint_t                    napis;           /* routed */
    size_t                        max_base_path;
    ngx_http_jwtgate_table_t      by_path;         /* base_path -> api */
    jg_snapshot                  *js;
    void                         *map;             /* munmap()ed at the end */
    size_t                        map_len;
    uint8_t                      *compiled;        /* from JSON: wiped, freed */
    size_t                        compiled_len;
    ngx_http_jwtgate_keyset_t    *keyset;          /* owns the two sets */
    ngx_uint_t                    steps;           /* checksum slices */
    ngx_msec_t                    longest_step_us;
    ngx_msec_t                    finish_us;       /* the longest turn after */
    ngx_uint_t                    keys_reused;
    ngx_uint_t                    stage;           /* see snap_finish */
    size_t                        zero_next;       /* routing slots zeroed */
    uint32_t                      api_next;        /* the next API to read */
    uint32_t                      api_count;
    ngx_uint_t                    json;            /* read as format 1 */
} ngx_http_jwtgate_snap_t;


/* A snapshot file and the snapshot currently read from it (per process). */

typedef struct {
    ngx_str_t                     path;            /* NUL-terminated */
    ngx_http_jwtgate_snap_t      *snap;
    ngx_msec_t                    interval;
    ngx_event_t                   timer;

    /* Identity of the file `snap` was read from, and of the last file that
     * failed to load (so that a broken file is reported once). */
    dev_t                         dev;
    ino_t                         ino;
    off_t                         size;
    struct timespec               mtim;
    struct timespec               ctim;
    ino_t                         failed_ino;
    struct timespec               failed_mtim;

    /* a new snapshot whose checksum is being verified, a slice per timer
     * turn, and the identity of its file */
    ngx_http_jwtgate_snap_t      *pending;
    struct stat                   pending_fi;

    ngx_array_t                   zones;           /* the caches to purge */
    ngx_log_t                    *log;
} ngx_http_jwtgate_source_t;


typedef struct {
    ngx_array_t                  *values;          /* complex values */
    ngx_uint_t                    error;           /* 401 or 403 */
} ngx_http_jwtgate_require_t;


typedef struct {
    ngx_str_t                     header;
    ngx_str_t                     lowcase;
    ngx_uint_t                    hash;
    ngx_array_t                  *path;            /* ngx_str_t claim names */
} ngx_http_jwtgate_forward_t;


/*
 * Trust sources (ngx_http_jwtgate_issuers.c): an issuer whose JWKS the
 * agent ("jwtgate gateway jwks") fetches into the jwtgate_jwks_dir. The
 * counters are this worker's, kept for the metrics (a worker's view: each
 * worker reads the same file).
 */

typedef struct {
    ngx_uint_t                    loads;           /* key sets read */
    ngx_uint_t                    load_failures;   /* files not usable */
    time_t                        last_load;       /* when, 0: never */
    time_t                        fetched_at;      /* the agent's last
                                                      success: the file's
                                                      mtime */
    ngx_uint_t                    keys;            /* in use now */
    ngx_uint_t                    refetch_asks;    /* unknown kid */
    ngx_uint_t                    stale_refusals;
} ngx_http_jwtgate_issuer_stats_t;


typedef struct {
    ngx_str_t                     name;            /* "iss", NUL-terminated */
    ngx_str_t                     url;             /* jwks_uri; empty:
                                                      discovery */
    time_t                        refresh;         /* 0: Cache-Control */
    time_t                        stale;           /* keys kept this long
                                                      without a fetch */
    jg_alg_set                    algs;            /* signature algorithms */
    u_char                        id[65];          /* hex SHA-256 of name */
    ngx_str_t                     path;            /* DIR/<id>.jwks */
    ngx_str_t                     want;            /* DIR/<id>.want */

    /* per process: the key set, the identity and digest of its file (the
     * agent rewrites it on every successful fetch: the same text is not
     * parsed again) */
    jg_jwks                      *keys;
    u_char                        digest[NGX_HTTP_JWTGATE_DIGEST_LEN];
    dev_t                         dev;
    ino_t                         ino;
    off_t                         size;
    struct timespec               mtim;
    struct timespec               failed_mtim;
    time_t                        want_at;         /* last refetch asked */
    ngx_http_jwtgate_issuer_stats_t  stats;
} ngx_http_jwtgate_issuer_t;


typedef struct {
    ngx_str_t                     dir;             /* jwtgate_jwks_dir */
    ngx_msec_t                    interval;
    ngx_array_t                   issuers;         /* of issuer_t * */
    ngx_event_t                   timer;
    ngx_log_t                    *log;
    ngx_uint_t                    untrusted;       /* tokens refused: "iss"
                                                      not trusted there */
} ngx_http_jwtgate_issuers_t;


/* An issuer as a location trusts it: its own audiences and claims. */

typedef struct {
    ngx_http_jwtgate_issuer_t    *issuer;
    ngx_array_t                  *audiences;       /* ngx_str_t, or NULL */
    const char                  **required;        /* NULL-terminated */
} ngx_http_jwtgate_trust_t;


typedef struct {
    ngx_array_t                   sources;         /* of source_t * */
    ngx_http_jwtgate_issuers_t   *issuers;         /* NULL: none */
} ngx_http_jwtgate_main_conf_t;


typedef struct {
    ngx_http_complex_value_t     *realm;           /* NULL: off */
    ngx_http_complex_value_t     *token;           /* NULL: Authorization */

    ngx_http_jwtgate_source_t    *source;
    ngx_array_t                  *key_files;       /* ngx_str_t */
    ngx_array_t                  *trust;           /* of trust_t */
    jg_jwks                      *keys;
    jg_jwks                      *verify_keys;     /* those of keys that
                                                      may verify a JWS */

    ngx_uint_t                    type;            /* jg_token_form */
    ngx_array_t                  *algorithms;      /* ngx_str_t */
    jg_alg_set                    sig_algs;
    jg_alg_set                    key_algs;
    jg_enc_set                    encs;

    ngx_str_t                     issuer;
    ngx_str_t                     audience;
    ngx_str_t                     typ;
    time_t                        leeway;

    ngx_array_t                  *scopes;          /* ngx_str_t */
    ngx_array_t                  *requires;        /* of require_t */
    ngx_array_t                  *forward;         /* of forward_t */
    ngx_flag_t                    strip_authorization;

    ngx_shm_zone_t               *cache;           /* NULL: off */
    time_t                        cache_max_ttl;   /* 0: until "exp" */

    ngx_uint_t                    log_level;

    ngx_uint_t                    dpop;            /* NGX_HTTP_JWTGATE_DPOP_* */
    ngx_array_t                  *dpop_algorithms; /* ngx_str_t */
    jg_alg_set                    dpop_algs;
    ngx_str_t                     dpop_algs_text;  /* "ES256 PS256 ...",
                                                      for the challenge */
    time_t                        dpop_window;
    ngx_shm_zone_t               *dpop_replay;
    ngx_http_complex_value_t     *dpop_htu_origin; /* NULL: the request's */
    ngx_flag_t                    dpop_nonce;

    jg_open_policy                policy;
    u_char                        digest[NGX_HTTP_JWTGATE_DIGEST_LEN];
} ngx_http_jwtgate_loc_conf_t;


typedef enum {
    NGX_HTTP_JWTGATE_CACHE_NONE = 0,
    NGX_HTTP_JWTGATE_CACHE_BYPASS,
    NGX_HTTP_JWTGATE_CACHE_MISS,
    NGX_HTTP_JWTGATE_CACHE_HIT
} ngx_http_jwtgate_cache_status_e;


/* A worker's recently verified token (ngx_http_jwtgate_cache.c). */

typedef struct ngx_http_jwtgate_recent_s  ngx_http_jwtgate_recent_t;


/* A token cache zone's numbers and a DPoP replay zone's, for the metrics
 * (counters since the zone was made; entries and bytes now). */

typedef struct {
    ngx_atomic_uint_t             hits;
    ngx_atomic_uint_t             misses;
    ngx_atomic_uint_t             insertions;
    ngx_atomic_uint_t             evictions;
    ngx_atomic_uint_t             expired;
    ngx_atomic_uint_t             purged;
    ngx_atomic_uint_t             entries;
    ngx_atomic_uint_t             bytes_used;
    ngx_atomic_uint_t             bytes;
} ngx_http_jwtgate_cache_stats_t;


typedef struct {
    ngx_atomic_uint_t             entries;
    ngx_atomic_uint_t             replays;
    ngx_atomic_uint_t             full;
    ngx_atomic_uint_t             bytes_used;
    ngx_atomic_uint_t             bytes;
} ngx_http_jwtgate_replay_stats_t;


/* Per request; a request holds a reference to the snapshot it used, and to
 * the recent token whose claims it borrows, if any. */

typedef struct {
    ngx_http_jwtgate_snap_t      *snap;
    ngx_http_jwtgate_source_t    *source;
    ngx_http_jwtgate_api_t       *api;             /* routed API (in snap) */
    jg_claims                    *claims;          /* verified claims */
    ngx_http_jwtgate_recent_t    *recent;          /* owns claims, or NULL */
    ngx_http_jwtgate_trust_t     *trust;           /* the token's issuer */
    ngx_str_t                     token;
    void                         *claims_tree;     /* json_t *, lazily */
    void                         *header_tree;     /* json_t *, lazily */
    ngx_str_t                     payload;         /* claims JSON, lazily */
    ngx_int_t                     status;          /* decision, once taken */
    ngx_uint_t                    cache_status;
    ngx_str_t                     dpop_jkt;        /* a verified proof's */
    ngx_str_t                     cnf_x5t;         /* a verified binding */
    ngx_str_t                     nonce;           /* to send: DPoP-Nonce */
    ngx_str_t                     refusal;         /* $jwtgate_refusal: why */
    ngx_str_t                     error;           /* $jwtgate_error */
    time_t                        retry_after;     /* replay zone full */
    time_t                        sunset;          /* response headers */
    time_t                        deprecated_at;
    unsigned                      deprecated:1;
    unsigned                      dpop_scheme:1;   /* Authorization: DPoP */
} ngx_http_jwtgate_ctx_t;


extern ngx_module_t  ngx_http_jwtgate_module;


/* the request (ngx_http_jwtgate_module.c) */
ngx_int_t ngx_http_jwtgate_init_handlers(ngx_conf_t *cf);
ngx_int_t ngx_http_jwtgate_request_identity(ngx_http_request_t *r,
    ngx_http_jwtgate_snap_t **snap, ngx_http_jwtgate_api_t **api,
    ngx_str_t *client_id);

/* key sets (ngx_http_jwtgate_keys.c) */
ngx_int_t ngx_http_jwtgate_load_keys(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *conf);
jg_alg_set ngx_http_jwtgate_key_algs(jg_jwks *set, jg_alg_kind kind,
    jg_alg dflt);
ngx_int_t ngx_http_jwtgate_digest_keys(EVP_MD_CTX *md, jg_jwks *set);
ngx_uint_t ngx_http_jwtgate_key_error(jg_err err);
void ngx_http_jwtgate_log_skipped(ngx_log_t *log, const char *what,
    ngx_str_t *name, jg_jwks *set);
#if (NGX_DEBUG)
void ngx_http_jwtgate_keys_debug(ngx_log_t *log, const char *what,
    jg_jwks *set);
#endif

/* the snapshot (ngx_http_jwtgate_snapshot.c) */
ngx_http_jwtgate_source_t *ngx_http_jwtgate_source_add(ngx_conf_t *cf,
    ngx_str_t *path, ngx_msec_t interval);
ngx_int_t ngx_http_jwtgate_source_init(ngx_conf_t *cf,
    ngx_http_jwtgate_source_t *src);
ngx_int_t ngx_http_jwtgate_source_start(ngx_cycle_t *cycle,
    ngx_http_jwtgate_source_t *src);
ngx_http_jwtgate_snap_t *ngx_http_jwtgate_snap_acquire(
    ngx_http_jwtgate_source_t *src);
void ngx_http_jwtgate_snap_release(ngx_http_jwtgate_snap_t *snap);
ngx_http_jwtgate_api_t *ngx_http_jwtgate_snap_route(
    ngx_http_jwtgate_snap_t *snap, ngx_str_t *uri);
ngx_int_t ngx_http_jwtgate_snap_subscription(ngx_http_jwtgate_snap_t *snap,
    ngx_str_t *client_id, ngx_http_jwtgate_api_t *api,
    ngx_http_jwtgate_sub_t *sub);
ngx_uint_t ngx_http_jwtgate_sub_grants(ngx_http_jwtgate_sub_t *sub,
    ngx_str_t *scope);
ngx_uint_t ngx_http_jwtgate_snap_revoked(ngx_http_jwtgate_snap_t *snap,
    u_char *jti, size_t len);
ngx_uint_t ngx_http_jwtgate_snap_suspended(ngx_http_jwtgate_snap_t *snap,
    u_char *client_id, size_t len);
void *ngx_http_jwtgate_table_find(ngx_http_jwtgate_table_t *t, u_char *key,
    size_t len);

/* the cache (ngx_http_jwtgate_cache.c) */
ngx_int_t ngx_http_jwtgate_cache_init_process(ngx_cycle_t *cycle);
void ngx_http_jwtgate_cache_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_jwtgate_cache_digest(ngx_http_jwtgate_loc_conf_t *jlcf,
    ngx_http_jwtgate_snap_t *snap, ngx_str_t *token, u_char *digest,
    ngx_log_t *log);
ngx_shm_zone_t *ngx_http_jwtgate_cache_zone(ngx_conf_t *cf, ngx_str_t *name,
    size_t size);
ngx_int_t ngx_http_jwtgate_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_jwtgate_cache_get(ngx_shm_zone_t *zone, u_char *digest,
    ngx_pool_t *pool, ngx_str_t *claims, time_t *expires, ngx_log_t *log);
void ngx_http_jwtgate_cache_put(ngx_shm_zone_t *zone, u_char *digest,
    time_t expires, ngx_str_t *jti, ngx_str_t *client_id, ngx_str_t *claims,
    ngx_log_t *log);
void ngx_http_jwtgate_cache_purge(ngx_shm_zone_t *zone,
    ngx_http_jwtgate_snap_t *snap, ngx_log_t *log);
ngx_http_jwtgate_recent_t *ngx_http_jwtgate_recent_get(
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_snap_t *snap,
    ngx_str_t *token, jg_claims **claims, ngx_str_t *payload);
ngx_http_jwtgate_recent_t *ngx_http_jwtgate_recent_put(
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_snap_t *snap,
    ngx_str_t *token, time_t expires, jg_claims *claims, ngx_str_t *payload);
void ngx_http_jwtgate_recent_release(ngx_http_jwtgate_recent_t *e);
void ngx_http_jwtgate_recent_flush(void);
ngx_int_t ngx_http_jwtgate_cache_stats(ngx_shm_zone_t *zone,
    ngx_http_jwtgate_cache_stats_t *st);

/* sender-constrained tokens (ngx_http_jwtgate_dpop.c) */
ngx_int_t ngx_http_jwtgate_dpop_init_process(ngx_cycle_t *cycle);
void ngx_http_jwtgate_dpop_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_jwtgate_dpop_prepare(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *conf);
ngx_int_t ngx_http_jwtgate_binding(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_uint_t *status, const char **error, const char **description,
    const char **reason);
ngx_uint_t ngx_http_jwtgate_bearer_ok(ngx_http_jwtgate_loc_conf_t *jlcf,
    ngx_http_jwtgate_ctx_t *ctx);

/* the DPoP replay cache and nonces (ngx_http_jwtgate_replay.c) */
ngx_shm_zone_t *ngx_http_jwtgate_replay_zone(ngx_conf_t *cf,
    ngx_str_t *name, size_t size);
ngx_int_t ngx_http_jwtgate_replay_check(ngx_shm_zone_t *zone,
    jg_dpop_result *proof, time_t *retry_after, ngx_log_t *log);
ngx_int_t ngx_http_jwtgate_nonce(ngx_shm_zone_t *zone, time_t slot_len,
    ngx_uint_t previous, u_char *out);
ngx_int_t ngx_http_jwtgate_replay_stats(ngx_shm_zone_t *zone,
    ngx_http_jwtgate_replay_stats_t *st);

/* metrics (ngx_http_jwtgate_metrics.c) */
char *ngx_http_jwtgate_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_jwtgate_metrics_init_process(ngx_cycle_t *cycle,
    ngx_array_t *srcs);
void ngx_http_jwtgate_metrics_add(ngx_uint_t table, ngx_str_t *name,
    ngx_uint_t v, ngx_atomic_int_t add);
void ngx_http_jwtgate_metrics_request(ngx_http_jwtgate_ctx_t *ctx,
    ngx_int_t status);
void ngx_http_jwtgate_metrics_token_error(jg_err err);
void ngx_http_jwtgate_metrics_front(ngx_uint_t what);
void ngx_http_jwtgate_metrics_snapshot(ngx_http_jwtgate_source_t *src,
    ngx_uint_t loaded, ngx_uint_t install);

/* trust sources (ngx_http_jwtgate_issuers.c) */
char *ngx_http_jwtgate_jwks_dir(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_jwtgate_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_jwtgate_issuers_merge(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *prev, ngx_http_jwtgate_loc_conf_t *conf);
ngx_int_t ngx_http_jwtgate_issuers_init(ngx_conf_t *cf);
ngx_int_t ngx_http_jwtgate_issuers_start(ngx_cycle_t *cycle);
void ngx_http_jwtgate_issuers_exit(ngx_cycle_t *cycle);
ngx_int_t ngx_http_jwtgate_issuer_pick(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_uint_t *status, const char **error, const char **description,
    const char **reason);
void ngx_http_jwtgate_issuer_policy(ngx_http_jwtgate_ctx_t *ctx,
    jg_open_policy *policy, jg_jwks **verify);
void ngx_http_jwtgate_issuer_failed(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, jg_err err);
ngx_int_t ngx_http_jwtgate_issuer_audience(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx);

/* variables and claim values (ngx_http_jwtgate_variables.c) */
ngx_int_t ngx_http_jwtgate_add_variables(ngx_conf_t *cf);
char *ngx_http_jwtgate_claim_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_jwtgate_header_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_jwtgate_payload(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx);
ngx_int_t ngx_http_jwtgate_claim_value(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, ngx_array_t *path, ngx_str_t *value);
ngx_int_t ngx_http_jwtgate_header_member(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, ngx_str_t *name, ngx_str_t *value);


#endif /* _NGX_HTTP_JWTGATE_MODULE_H_INCLUDED_ */
