
/*
 * ngx_http_jwtgate_ai_module: the AI gateway's data plane (issue 18). In a
 * location where ngx_http_jwtgate_module has let the request in (token,
 * subscription, API state: its access phase), "jwtgate_ai" answers the LLM
 * endpoints: it picks the provider by the requested model, enforces the
 * subscription's limits, sends one subrequest per attempt to the internal
 * location that proxies to the provider (nginx does TLS, resolving, chunked
 * and keep-alive), translates the answer into the client's format and
 * writes the usage.
 *
 *   ngx_http_jwtgate_ai_module.c   the module, its directives, the content
 *                                  handler and the attempts (subrequests,
 *                                  their header and body filters)
 *   ngx_http_jwtgate_ai_llm.c      the LLM configuration of a snapshot: the
 *                                  providers, their models, the provider
 *                                  keys opened with the secrets key
 *   ngx_http_jwtgate_ai_shm.c      the state every worker shares: keys out
 *                                  for a while, the limits' counters
 *   ngx_http_jwtgate_ai_usage.c    the usage log (one JSON line a request,
 *                                  the lines of an event loop pass in one
 *                                  write())
 */


#ifndef _NGX_HTTP_JWTGATE_AI_MODULE_H_INCLUDED_
#define _NGX_HTTP_JWTGATE_AI_MODULE_H_INCLUDED_


#include "ngx_http_jwtgate_module.h"
#include "jg_llm.h"


/* A key that answered 401/403 stays out this long (seconds); after a 429
 * for its Retry-After, within these bounds. */
#define NGX_HTTP_JWTGATE_AI_KEY_BAN         600
#define NGX_HTTP_JWTGATE_AI_RETRY_MIN       1
#define NGX_HTTP_JWTGATE_AI_RETRY_MAX       300
#define NGX_HTTP_JWTGATE_AI_RETRY_DEFAULT   30

/* Attempts per request at most (keys and providers together). */
#define NGX_HTTP_JWTGATE_AI_MAX_ATTEMPTS    8

/* A provider's whole (non-streamed) answer is held to be translated. */
#define NGX_HTTP_JWTGATE_AI_MAX_ANSWER      ((size_t) 16 * 1024 * 1024)

#define NGX_HTTP_JWTGATE_AI_ZONE_SIZE       ((size_t) 1024 * 1024)


typedef struct {
    ngx_str_t                     id;
    ngx_str_t                     secret;          /* wiped on release */
    uint64_t                      hash;            /* api id + key id */
} ngx_http_jwtgate_ai_key_t;


typedef struct {
    ngx_str_t                     name;            /* public, NUL-ended */
    ngx_str_t                     target;          /* the provider's */
} ngx_http_jwtgate_ai_model_t;


typedef struct {
    ngx_str_t                     name;
    jg_llm_format                 format;
    ngx_str_t                     base_url;
    ngx_msec_t                    timeout;
    ngx_http_jwtgate_ai_model_t  *models;
    ngx_uint_t                    nmodels;
    ngx_http_jwtgate_ai_key_t    *keys;
    ngx_uint_t                    nkeys;
    ngx_uint_t                    next;            /* round robin */
} ngx_http_jwtgate_ai_provider_t;


typedef struct {
    ngx_str_t                     id;
    ngx_http_jwtgate_ai_provider_t  *providers;
    ngx_uint_t                    nproviders;
} ngx_http_jwtgate_ai_api_t;


/* The LLM configuration of one snapshot, per worker; requests hold
 * references, the last release wipes the keys. */

typedef struct {
    ngx_pool_t                   *pool;
    ngx_uint_t                    refs;
    ngx_http_jwtgate_snap_t      *snap;            /* identity only */
    int64_t                       version;
    u_char                        digest[NGX_HTTP_JWTGATE_DIGEST_LEN];
    ngx_http_jwtgate_ai_api_t    *apis;
    ngx_uint_t                    napis;
} ngx_http_jwtgate_ai_llm_t;


typedef struct {
    ngx_str_t                     secrets_key;     /* file, NUL-ended */
    ngx_open_file_t              *usage_log;       /* NULL: none; reopened
                                                      with the logs (USR1) */
    ngx_shm_zone_t               *zone;
} ngx_http_jwtgate_ai_main_conf_t;


typedef struct {
    ngx_str_t                     pass;            /* internal location */
    size_t                        body_max;
} ngx_http_jwtgate_ai_loc_conf_t;


/* counters of the limits */
typedef enum {
    NGX_HTTP_JWTGATE_AI_RPM = 0,
    NGX_HTTP_JWTGATE_AI_TPM,
    NGX_HTTP_JWTGATE_AI_TPD
} ngx_http_jwtgate_ai_counter_e;


extern ngx_module_t  ngx_http_jwtgate_ai_module;


/* the LLM configuration (ngx_http_jwtgate_ai_llm.c) */
ngx_http_jwtgate_ai_llm_t *ngx_http_jwtgate_ai_llm_acquire(
    ngx_http_jwtgate_ai_main_conf_t *amcf, ngx_http_jwtgate_snap_t *snap,
    ngx_log_t *log);
void ngx_http_jwtgate_ai_llm_release(ngx_http_jwtgate_ai_llm_t *llm);
void ngx_http_jwtgate_ai_llm_exit(void);
ngx_http_jwtgate_ai_api_t *ngx_http_jwtgate_ai_llm_api(
    ngx_http_jwtgate_ai_llm_t *llm, ngx_str_t *id);
ngx_http_jwtgate_ai_model_t *ngx_http_jwtgate_ai_provider_model(
    ngx_http_jwtgate_ai_provider_t *p, const char *model);
uint64_t ngx_http_jwtgate_ai_hash(const u_char *a, size_t alen,
    const u_char *b, size_t blen, uint64_t salt);

/* shared state (ngx_http_jwtgate_ai_shm.c) */
ngx_int_t ngx_http_jwtgate_ai_shm_init(ngx_shm_zone_t *zone, void *data);
time_t ngx_http_jwtgate_ai_key_out(ngx_shm_zone_t *zone, uint64_t hash,
    time_t now);
void ngx_http_jwtgate_ai_key_ban(ngx_shm_zone_t *zone, uint64_t hash,
    time_t until);
int64_t ngx_http_jwtgate_ai_count(ngx_shm_zone_t *zone, uint64_t hash,
    int64_t window, int64_t add);

/* the usage log (ngx_http_jwtgate_ai_usage.c) */
void ngx_http_jwtgate_ai_usage_write(ngx_http_jwtgate_ai_main_conf_t *amcf,
    ngx_log_t *log, ngx_str_t *client_id, ngx_str_t *api, ngx_str_t *model,
    ngx_str_t *provider, ngx_str_t *key_id, ngx_uint_t status,
    uint64_t input, uint64_t output);
void ngx_http_jwtgate_ai_usage_flush(ngx_log_t *log);


#endif /* _NGX_HTTP_JWTGATE_AI_MODULE_H_INCLUDED_ */
