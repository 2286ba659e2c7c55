
/*
 * ngx_http_jwtgate_module: metrics. The counters every worker adds to, in
 * one shared memory zone ("jwtgate_metrics", made when a location says
 * jwtgate_metrics), and the content handler that serves them in the
 * Prometheus text format 0.0.4.
 *
 * The request path only adds: ngx_atomic_fetch_add() on counters at fixed
 * places, never a lock. Gauges are aligned words that one worker writes
 * (its own snapshot) and the scrape reads. What the other zones know (the
 * token cache's and the DPoP replay zone's entries and bytes) is read from
 * them when scraped, under their own locks, as their counters are kept
 * under the locks they take anyway.
 *
 * Labels come from bounded sets only: fixed lists (outcome, status, error
 * code, library error code), the configuration (zones, snapshot files,
 * workers), and named tables of a fixed number of slots for names that
 * the configuration or the snapshot brings (APIs, snapshot files, trusted
 * issuers): a slot is claimed with a compare-and-swap by the first worker
 * that counts for a name and keeps that name for the zone's life; names
 * beyond the slots, or longer than NGX_HTTP_JWTGATE_METRICS_NAME_LEN,
 * count under "other". A new labelled family for a bounded set of names
 * is a table (ngx_http_jwtgate_metrics_tables), its rows in
 * ngx_http_jwtgate_metrics_named_families, and ngx_http_jwtgate_metrics_add()
 * where it counts.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jwtgate/version.h>

#include "ngx_http_jwtgate_module.h"


#define NGX_HTTP_JWTGATE_METRICS_ZONE      "jwtgate_metrics"

/* per named slot: the longest name, the values */
#define NGX_HTTP_JWTGATE_METRICS_NAME_LEN  128
#define NGX_HTTP_JWTGATE_METRICS_VALUES    4

/* workers whose snapshot gauges are kept (worker_processes beyond: none) */
#define NGX_HTTP_JWTGATE_METRICS_WORKERS   64

/* a slot whose name is being written: how long a reader waits for it */
#define NGX_HTTP_JWTGATE_METRICS_SPIN      4096

#define NGX_HTTP_JWTGATE_SLOT_FREE         0
#define NGX_HTTP_JWTGATE_SLOT_WRITING      1
#define NGX_HTTP_JWTGATE_SLOT_NAMED        2

/* outcomes, also the values of an API's slot */
#define NGX_HTTP_JWTGATE_ALLOWED           0
#define NGX_HTTP_JWTGATE_REFUSED           1
#define NGX_HTTP_JWTGATE_FAILED            2
#define NGX_HTTP_JWTGATE_OUTCOMES          3

/* the values of a snapshot file's slot */
#define NGX_HTTP_JWTGATE_SNAP_LOADS        0
#define NGX_HTTP_JWTGATE_SNAP_FAILURES     1
#define NGX_HTTP_JWTGATE_SNAP_LAST_LOAD    2

#define NGX_HTTP_JWTGATE_STATUSES          7
#define NGX_HTTP_JWTGATE_ERRORS            7


typedef struct {
    ngx_atomic_t                  state;
    size_t                        len;
    u_char                        name[NGX_HTTP_JWTGATE_METRICS_NAME_LEN];
    ngx_atomic_t                  v[NGX_HTTP_JWTGATE_METRICS_VALUES];
} ngx_http_jwtgate_metrics_slot_t;


/* what a worker serves from one snapshot file */

typedef struct {
    ngx_atomic_t                  version;
    ngx_atomic_t                  generated_at;
    ngx_atomic_t                  set;
} ngx_http_jwtgate_metrics_snap_t;


/* the zone; slots of every table follow it, table after table */

typedef struct {
    ngx_atomic_t                  requests[NGX_HTTP_JWTGATE_OUTCOMES];
    ngx_atomic_t                  refusals[NGX_HTTP_JWTGATE_STATUSES]
                                          [NGX_HTTP_JWTGATE_ERRORS];
    ngx_atomic_t                  token_errors[JG_ERR__COUNT];
    ngx_atomic_t                  front_hits;
    ngx_atomic_t                  front_misses;
    ngx_atomic_t                  front_insertions;
    ngx_http_jwtgate_metrics_snap_t
                                  snaps[NGX_HTTP_JWTGATE_METRICS_WORKERS]
                                       [NGX_HTTP_JWTGATE_METRICS_SOURCES];
    ngx_http_jwtgate_metrics_slot_t
                                  slots[1];
} ngx_http_jwtgate_metrics_sh_t;


typedef struct {
    ngx_uint_t                    nslots;  /* and one more: "other" */
    ngx_uint_t                    first;   /* in sh->slots */
} ngx_http_jwtgate_metrics_table_t;


/* a family of a named table: one value of its slots */

typedef struct {
    ngx_uint_t                    table;
    const char                   *name;
    const char                   *type;
    const char                   *help;
    const char                   *label;
    ngx_uint_t                    value;
    const char                   *value_label;  /* NULL: one value */
    const char                   *value_name;
} ngx_http_jwtgate_metrics_family_t;


/* the text being written: a chain of buffers */

typedef struct {
    ngx_pool_t                   *pool;
    ngx_chain_t                  *first;
    ngx_chain_t                  *last;
    ngx_uint_t                    failed;
} ngx_http_jwtgate_metrics_out_t;


typedef struct {
    ngx_int_t                     status;
    const char                   *text;
} ngx_http_jwtgate_metrics_status_t;


static ngx_int_t ngx_http_jwtgate_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_jwtgate_metrics_slot_t *ngx_http_jwtgate_metrics_slot(
    ngx_uint_t table, u_char *name, size_t len);
static ngx_int_t ngx_http_jwtgate_metrics_source(
    ngx_http_jwtgate_source_t *src);
static ngx_uint_t ngx_http_jwtgate_metrics_status_index(ngx_int_t status);
static ngx_uint_t ngx_http_jwtgate_metrics_error_index(ngx_str_t *error);
static ngx_int_t ngx_http_jwtgate_metrics_handler(ngx_http_request_t *r);
static void ngx_http_jwtgate_metrics_write(
    ngx_http_jwtgate_metrics_out_t *out, ngx_http_jwtgate_metrics_sh_t *sh);
static void ngx_http_jwtgate_metrics_requests(
    ngx_http_jwtgate_metrics_out_t *out, ngx_http_jwtgate_metrics_sh_t *sh);
static void ngx_http_jwtgate_metrics_named_out(
    ngx_http_jwtgate_metrics_out_t *out, ngx_http_jwtgate_metrics_sh_t *sh);
static void ngx_http_jwtgate_metrics_snapshots(
    ngx_http_jwtgate_metrics_out_t *out, ngx_http_jwtgate_metrics_sh_t *sh);
static void ngx_http_jwtgate_metrics_zones(
    ngx_http_jwtgate_metrics_out_t *out, ngx_http_jwtgate_metrics_sh_t *sh);
static void ngx_http_jwtgate_metrics_family(
    ngx_http_jwtgate_metrics_out_t *out, const char *name, const char *type,
    const char *help);
static void ngx_http_jwtgate_metrics_line(
    ngx_http_jwtgate_metrics_out_t *out, const char *fmt, ...);
static u_char *ngx_http_jwtgate_metrics_escape(
    ngx_http_jwtgate_metrics_out_t *out, const u_char *s, size_t len);


/*
 * The named tables. APIS: the snapshot's APIs (by id) that requests were
 * routed to. SOURCES: snapshot files (by path), from the configuration.
 * ISSUERS: the trusted issuers (by "iss"), from the configuration.
 */

static ngx_http_jwtgate_metrics_table_t  ngx_http_jwtgate_metrics_tables[] = {
    { NGX_HTTP_JWTGATE_METRICS_APIS, 0 },
    { NGX_HTTP_JWTGATE_METRICS_SOURCES, NGX_HTTP_JWTGATE_METRICS_APIS + 1 },
    { NGX_HTTP_JWTGATE_METRICS_ISSUERS,
      NGX_HTTP_JWTGATE_METRICS_APIS + 1 + NGX_HTTP_JWTGATE_METRICS_SOURCES
      + 1 },
};

/* the slots of table t */
#define ngx_http_jwtgate_metrics_slots(sh, t)                                 \
    ((sh)->slots + ngx_http_jwtgate_metrics_tables[t].first)

#define NGX_HTTP_JWTGATE_METRICS_NSLOTS                                       \
    (NGX_HTTP_JWTGATE_METRICS_APIS + 1 + NGX_HTTP_JWTGATE_METRICS_SOURCES + 1 \
     + NGX_HTTP_JWTGATE_METRICS_ISSUERS + 1)


static ngx_http_jwtgate_metrics_family_t
    ngx_http_jwtgate_metrics_named_families[] = {

    { NGX_HTTP_JWTGATE_TABLE_APIS, "jwtgate_api_requests_total", "counter",
      "Requests routed to an API of the snapshot, by API id and outcome.",
      "api", NGX_HTTP_JWTGATE_ALLOWED, "outcome", "allowed" },
    { NGX_HTTP_JWTGATE_TABLE_APIS, NULL, NULL, NULL,
      "api", NGX_HTTP_JWTGATE_REFUSED, "outcome", "refused" },
    { NGX_HTTP_JWTGATE_TABLE_APIS, NULL, NULL, NULL,
      "api", NGX_HTTP_JWTGATE_FAILED, "outcome", "error" },

    { NGX_HTTP_JWTGATE_TABLE_SOURCES, "jwtgate_snapshot_loads_total",
      "counter",
      "Snapshots installed by workers after they started (each worker "
      "installs each new file).",
      "source", NGX_HTTP_JWTGATE_SNAP_LOADS, NULL, NULL },
    { NGX_HTTP_JWTGATE_TABLE_SOURCES, "jwtgate_snapshot_load_failures_total",
      "counter",
      "Snapshot files that a worker did not install (unreadable, invalid, "
      "older, another database's).",
      "source", NGX_HTTP_JWTGATE_SNAP_FAILURES, NULL, NULL },
    { NGX_HTTP_JWTGATE_TABLE_SOURCES,
      "jwtgate_snapshot_last_load_time_seconds", "gauge",
      "When a worker last took a snapshot into use (at its start or by an "
      "install), Unix time.",
      "source", NGX_HTTP_JWTGATE_SNAP_LAST_LOAD, NULL, NULL },

    { NGX_HTTP_JWTGATE_TABLE_ISSUERS, "jwtgate_issuer_key_loads_total",
      "counter",
      "Key sets of a trusted issuer that workers read from the agent's "
      "file (each worker reads each new set).",
      "issuer", NGX_HTTP_JWTGATE_ISSUER_LOADS, NULL, NULL },
    { NGX_HTTP_JWTGATE_TABLE_ISSUERS,
      "jwtgate_issuer_key_load_failures_total", "counter",
      "Key files of a trusted issuer that a worker could not use (the "
      "previous keys stay).",
      "issuer", NGX_HTTP_JWTGATE_ISSUER_FAILURES, NULL, NULL },
    { NGX_HTTP_JWTGATE_TABLE_ISSUERS, "jwtgate_issuer_refetches_total",
      "counter",
      "Early refetches asked of the agent: a token named a kid the "
      "issuer's set lacks.",
      "issuer", NGX_HTTP_JWTGATE_ISSUER_REFETCHES, NULL, NULL },
    { NGX_HTTP_JWTGATE_TABLE_ISSUERS, "jwtgate_issuer_stale_refusals_total",
      "counter",
      "Tokens refused because their issuer's keys were older than its "
      "stale bound.",
      "issuer", NGX_HTTP_JWTGATE_ISSUER_STALE, NULL, NULL },
};


static ngx_http_jwtgate_metrics_status_t
    ngx_http_jwtgate_metrics_statuses[NGX_HTTP_JWTGATE_STATUSES] = {
    { NGX_HTTP_BAD_REQUEST, "400" },
    { NGX_HTTP_UNAUTHORIZED, "401" },
    { NGX_HTTP_FORBIDDEN, "403" },
    { NGX_HTTP_NOT_FOUND, "404" },
    { 410, "410" },
    { NGX_HTTP_SERVICE_UNAVAILABLE, "503" },
    { 0, "other" }
};


/* the RFC 6750 and RFC 9449 error codes a refusal carries; "none": a
 * refusal without one (no token, no API, 410, 503) */

static ngx_str_t  ngx_http_jwtgate_metrics_errors[NGX_HTTP_JWTGATE_ERRORS] = {
    ngx_string("none"),
    ngx_string("invalid_request"),
    ngx_string("invalid_token"),
    ngx_string("insufficient_scope"),
    ngx_string("invalid_dpop_proof"),
    ngx_string("use_dpop_nonce"),
    ngx_string("other")
};


static const char  *ngx_http_jwtgate_metrics_outcomes[] = {
    "allowed", "refused", "error"
};


/* this worker's: the zone (NULL: no metrics), its sources' slots */
static ngx_http_jwtgate_metrics_sh_t    *ngx_http_jwtgate_metrics_sh;
static ngx_http_jwtgate_source_t        *ngx_http_jwtgate_metrics_srcs[
                                             NGX_HTTP_JWTGATE_METRICS_SOURCES];
static ngx_http_jwtgate_metrics_slot_t  *ngx_http_jwtgate_metrics_src_slots[
                                             NGX_HTTP_JWTGATE_METRICS_SOURCES];


/* ---- configuration ------------------------------------------------------ */


/* jwtgate_metrics: the location serves the metrics; the zone is made */

char *
ngx_http_jwtgate_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    size_t                     size;
    ngx_str_t                  name;
    ngx_shm_zone_t            *shm_zone;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_str_set(&name, NGX_HTTP_JWTGATE_METRICS_ZONE);

    size = sizeof(ngx_http_jwtgate_metrics_sh_t)
           + NGX_HTTP_JWTGATE_METRICS_NSLOTS
             * sizeof(ngx_http_jwtgate_metrics_slot_t);

    /* the slab pool's own header and page table come on top */
    size = ngx_align(size, ngx_pagesize) + 8 * ngx_pagesize;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_jwtgate_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->init != NULL
        && shm_zone->init != ngx_http_jwtgate_metrics_init_zone)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is reserved for jwtgate_metrics",
                           &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_jwtgate_metrics_init_zone;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_jwtgate_metrics_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_jwtgate_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                          size;
    ngx_slab_pool_t                *shpool;
    ngx_http_jwtgate_metrics_sh_t  *sh;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data != NULL) {
        /* a reload keeps the counts: the previous cycle's zone, whose data
         * is the counters */
        shm_zone->data = data;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    size = sizeof(ngx_http_jwtgate_metrics_sh_t)
           + NGX_HTTP_JWTGATE_METRICS_NSLOTS
             * sizeof(ngx_http_jwtgate_metrics_slot_t);

    sh = ngx_slab_calloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


/* ---- counting ----------------------------------------------------------- */


/* In each worker: the zone, and the slots of this cycle's snapshot files,
 * with what each serves now. */

ngx_int_t
ngx_http_jwtgate_metrics_init_process(ngx_cycle_t *cycle, ngx_array_t *srcs)
{
    ngx_uint_t                   i;
    ngx_shm_zone_t              *zone;
    ngx_list_part_t             *part;
    ngx_http_jwtgate_source_t  **src;

    ngx_http_jwtgate_metrics_sh = NULL;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == &ngx_http_jwtgate_module
            && zone[i].init == ngx_http_jwtgate_metrics_init_zone)
        {
            ngx_http_jwtgate_metrics_sh = zone[i].data;
            break;
        }
    }

    if (ngx_http_jwtgate_metrics_sh == NULL) {
        return NGX_OK;
    }

    src = srcs->elts;

    for (i = 0; i < srcs->nelts; i++) {
        if (ngx_http_jwtgate_metrics_source(src[i]) == NGX_OK) {
            ngx_http_jwtgate_metrics_snapshot(src[i], 1, 0);
        }
    }

    return NGX_OK;
}


/* The slot of a snapshot file, claimed by its path. */

static ngx_int_t
ngx_http_jwtgate_metrics_source(ngx_http_jwtgate_source_t *src)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_JWTGATE_METRICS_SOURCES; i++) {

        if (ngx_http_jwtgate_metrics_srcs[i] == src) {
            return NGX_OK;
        }

        if (ngx_http_jwtgate_metrics_srcs[i] == NULL) {
            ngx_http_jwtgate_metrics_srcs[i] = src;
            ngx_http_jwtgate_metrics_src_slots[i] =
                ngx_http_jwtgate_metrics_slot(NGX_HTTP_JWTGATE_TABLE_SOURCES,
                                              src->path.data, src->path.len);
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The slot of `name` in a table, claimed if it has none yet; the table's
 * "other" slot when it is full or the name too long. Linear probing
 * without deletion: a name is at or before the first free slot of its
 * probe sequence. A slot is claimed with a compare-and-swap, its name
 * written, then published; a reader that finds a name being written waits
 * for it (a few stores), and counts under "other" if it does not come.
 */

static ngx_http_jwtgate_metrics_slot_t *
ngx_http_jwtgate_metrics_slot(ngx_uint_t table, u_char *name, size_t len)
{
    ngx_uint_t                        i, n, h, spin;
    ngx_atomic_uint_t                 state;
    ngx_http_jwtgate_metrics_slot_t  *slots, *s;

    n = ngx_http_jwtgate_metrics_tables[table].nslots;
    slots = ngx_http_jwtgate_metrics_slots(ngx_http_jwtgate_metrics_sh, table);

    if (len == 0 || len > NGX_HTTP_JWTGATE_METRICS_NAME_LEN) {
        return &slots[n];
    }

    h = ngx_murmur_hash2(name, len);

    for (i = 0; i < n; i++) {
        s = &slots[(h + i) % n];

        for (spin = 0; /* void */ ; spin++) {
            state = s->state;

            if (state == NGX_HTTP_JWTGATE_SLOT_FREE) {
                if (!ngx_atomic_cmp_set(&s->state, NGX_HTTP_JWTGATE_SLOT_FREE,
                                        NGX_HTTP_JWTGATE_SLOT_WRITING))
                {
                    /* another worker took it: look again */
                    continue;
                }

                ngx_memcpy(s->name, name, len);
                s->len = len;
                ngx_memory_barrier();
                s->state = NGX_HTTP_JWTGATE_SLOT_NAMED;

                return s;
            }

            if (state == NGX_HTTP_JWTGATE_SLOT_NAMED) {
                break;
            }

            if (spin == NGX_HTTP_JWTGATE_METRICS_SPIN) {
                return &slots[n];
            }

            ngx_cpu_pause();
        }

        ngx_memory_barrier();

        if (s->len == len && ngx_memcmp(s->name, name, len) == 0) {
            return s;
        }
    }

    return &slots[n];
}


/* Adds to value `v` of `name`'s slot in a table (nothing without the
 * zone). */

void
ngx_http_jwtgate_metrics_add(ngx_uint_t table, ngx_str_t *name, ngx_uint_t v,
    ngx_atomic_int_t add)
{
    ngx_http_jwtgate_metrics_slot_t  *s;

    if (ngx_http_jwtgate_metrics_sh == NULL) {
        return;
    }

    s = ngx_http_jwtgate_metrics_slot(table, name->data, name->len);

    (void) ngx_atomic_fetch_add(&s->v[v], add);
}


/* A decision of the access handler: its outcome, status and error code,
 * and its API's. */

void
ngx_http_jwtgate_metrics_request(ngx_http_jwtgate_ctx_t *ctx,
    ngx_int_t status)
{
    ngx_uint_t                      outcome;
    ngx_http_jwtgate_metrics_sh_t  *sh;

    sh = ngx_http_jwtgate_metrics_sh;

    if (sh == NULL) {
        return;
    }

    if (status == NGX_OK) {
        outcome = NGX_HTTP_JWTGATE_ALLOWED;

    } else if (status == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        outcome = NGX_HTTP_JWTGATE_FAILED;

    } else {
        outcome = NGX_HTTP_JWTGATE_REFUSED;

        (void) ngx_atomic_fetch_add(
            &sh->refusals[ngx_http_jwtgate_metrics_status_index(status)]
                         [ngx_http_jwtgate_metrics_error_index(&ctx->error)],
            1);
    }

    (void) ngx_atomic_fetch_add(&sh->requests[outcome], 1);

    if (ctx->api != NULL) {
        ngx_http_jwtgate_metrics_add(NGX_HTTP_JWTGATE_TABLE_APIS,
                                     &ctx->api->id, outcome, 1);
    }
}


/* The library's reason for a refusal: a token that did not open. */

void
ngx_http_jwtgate_metrics_token_error(jg_err err)
{
    if (ngx_http_jwtgate_metrics_sh == NULL || err <= JG_OK
        || err >= JG_ERR__COUNT)
    {
        return;
    }

    (void) ngx_atomic_fetch_add(&ngx_http_jwtgate_metrics_sh->token_errors[err],
                                1);
}


/* The worker's recent tokens in front of the cache zone: 1 a hit, 0 a
 * miss, 2 an insertion. */

void
ngx_http_jwtgate_metrics_front(ngx_uint_t what)
{
    ngx_http_jwtgate_metrics_sh_t  *sh;

    sh = ngx_http_jwtgate_metrics_sh;

    if (sh == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(what == 1 ? &sh->front_hits
                                : what == 0 ? &sh->front_misses
                                : &sh->front_insertions, 1);
}


/* A snapshot file: installed (`loaded`: 1, or at the worker's start with
 * `install` 0) or not (0): the counters, and this worker's gauges. */

void
ngx_http_jwtgate_metrics_snapshot(ngx_http_jwtgate_source_t *src,
    ngx_uint_t loaded, ngx_uint_t install)
{
    ngx_uint_t                        i, k;
    ngx_http_jwtgate_metrics_snap_t  *ms;
    ngx_http_jwtgate_metrics_slot_t  *s;

    if (ngx_http_jwtgate_metrics_sh == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_JWTGATE_METRICS_SOURCES; i++) {
        if (ngx_http_jwtgate_metrics_srcs[i] == src) {
            break;
        }
    }

    if (i == NGX_HTTP_JWTGATE_METRICS_SOURCES) {
        return;
    }

    s = ngx_http_jwtgate_metrics_src_slots[i];

    if (!loaded) {
        (void) ngx_atomic_fetch_add(&s->v[NGX_HTTP_JWTGATE_SNAP_FAILURES], 1);
        return;
    }

    if (install) {
        (void) ngx_atomic_fetch_add(&s->v[NGX_HTTP_JWTGATE_SNAP_LOADS], 1);
    }

    /* gauges: aligned words, one writer each */
    s->v[NGX_HTTP_JWTGATE_SNAP_LAST_LOAD] = (ngx_atomic_uint_t) ngx_time();

    k = s - ngx_http_jwtgate_metrics_slots(ngx_http_jwtgate_metrics_sh,
                                           NGX_HTTP_JWTGATE_TABLE_SOURCES);

    if (ngx_worker >= NGX_HTTP_JWTGATE_METRICS_WORKERS
        || k >= NGX_HTTP_JWTGATE_METRICS_SOURCES || src->snap == NULL)
    {
        /* no gauges for workers beyond the slots, nor under "other" */
        return;
    }

    ms = &ngx_http_jwtgate_metrics_sh->snaps[ngx_worker][k];

    ms->version = (ngx_atomic_uint_t) src->snap->version;
    ms->generated_at = (ngx_atomic_uint_t) src->snap->generated_at;
    ms->set = 1;
}


static ngx_uint_t
ngx_http_jwtgate_metrics_status_index(ngx_int_t status)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_JWTGATE_STATUSES - 1; i++) {
        if (ngx_http_jwtgate_metrics_statuses[i].status == status) {
            return i;
        }
    }

    return NGX_HTTP_JWTGATE_STATUSES - 1;
}


static ngx_uint_t
ngx_http_jwtgate_metrics_error_index(ngx_str_t *error)
{
    ngx_uint_t  i;

    if (error->len == 0) {
        return 0;
    }

    for (i = 1; i < NGX_HTTP_JWTGATE_ERRORS - 1; i++) {
        if (ngx_http_jwtgate_metrics_errors[i].len == error->len
            && ngx_memcmp(ngx_http_jwtgate_metrics_errors[i].data,
                          error->data, error->len) == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_JWTGATE_ERRORS - 1;
}


/* ---- the scrape --------------------------------------------------------- */


static ngx_int_t
ngx_http_jwtgate_metrics_handler(ngx_http_request_t *r)
{
    off_t                           len;
    ngx_int_t                       rc;
    ngx_chain_t                    *cl;
    ngx_http_jwtgate_metrics_sh_t  *sh;
    ngx_http_jwtgate_metrics_out_t  out;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    sh = ngx_http_jwtgate_metrics_sh;

    if (sh == NULL) {
        /* a worker whose init_process did not find the zone: cannot be */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&r->headers_out.content_type, "text/plain; version=0.0.4");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    ngx_memzero(&out, sizeof(ngx_http_jwtgate_metrics_out_t));
    out.pool = r->pool;

    ngx_http_jwtgate_metrics_write(&out, sh);

    if (out.failed || out.first == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    for (cl = out.first; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    out.last->buf->last_buf = (r == r->main) ? 1 : 0;
    out.last->buf->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out.first);
}


static void
ngx_http_jwtgate_metrics_write(ngx_http_jwtgate_metrics_out_t *out,
    ngx_http_jwtgate_metrics_sh_t *sh)
{
    ngx_http_jwtgate_metrics_family(out, "jwtgate_build_info", "gauge",
                                    "The module's version and the nginx it "
                                    "was built for (the value is 1).");
    ngx_http_jwtgate_metrics_line(out,
                                  "jwtgate_build_info{version=\"%s\","
                                  "nginx=\"%s\"} 1\n",
                                  JG_VERSION_STRING, NGINX_VERSION);

    ngx_http_jwtgate_metrics_requests(out, sh);
    ngx_http_jwtgate_metrics_named_out(out, sh);
    ngx_http_jwtgate_metrics_snapshots(out, sh);
    ngx_http_jwtgate_metrics_zones(out, sh);
}


static void
ngx_http_jwtgate_metrics_requests(ngx_http_jwtgate_metrics_out_t *out,
    ngx_http_jwtgate_metrics_sh_t *sh)
{
    ngx_uint_t          i, j;
    ngx_atomic_uint_t   v;

    ngx_http_jwtgate_metrics_family(out, "jwtgate_requests_total", "counter",
                                    "Access decisions of the module, by "
                                    "outcome (error: an internal error, "
                                    "500).");

    for (i = 0; i < NGX_HTTP_JWTGATE_OUTCOMES; i++) {
        ngx_http_jwtgate_metrics_line(out,
                                      "jwtgate_requests_total{outcome=\"%s\"}"
                                      " %uA\n",
                                      ngx_http_jwtgate_metrics_outcomes[i],
                                      sh->requests[i]);
    }

    ngx_http_jwtgate_metrics_family(out, "jwtgate_refusals_total", "counter",
                                    "Refused requests by HTTP status and "
                                    "RFC 6750 / RFC 9449 error code (a pair "
                                    "appears once it counted).");

    for (i = 0; i < NGX_HTTP_JWTGATE_STATUSES; i++) {
        for (j = 0; j < NGX_HTTP_JWTGATE_ERRORS; j++) {
            v = sh->refusals[i][j];

            if (v == 0) {
                continue;
            }

            ngx_http_jwtgate_metrics_line(out,
                "jwtgate_refusals_total{status=\"%s\",error=\"%V\"} %uA\n",
                ngx_http_jwtgate_metrics_statuses[i].text,
                &ngx_http_jwtgate_metrics_errors[j], v);
        }
    }

    ngx_http_jwtgate_metrics_family(out, "jwtgate_token_errors_total",
                                    "counter",
                                    "Refusals of tokens that did not open "
                                    "(invalid_token), by the library's "
                                    "jg_err name (a code appears once it "
                                    "counted).");

    for (i = JG_OK + 1; i < JG_ERR__COUNT; i++) {
        v = sh->token_errors[i];

        if (v == 0) {
            continue;
        }

        ngx_http_jwtgate_metrics_line(out,
                                      "jwtgate_token_errors_total"
                                      "{code=\"%s\"} %uA\n",
                                      jg_err_name((jg_err) i), v);
    }
}


static void
ngx_http_jwtgate_metrics_named_out(ngx_http_jwtgate_metrics_out_t *out,
    ngx_http_jwtgate_metrics_sh_t *sh)
{
    u_char                             *name;
    ngx_uint_t                          f, g, i, n, used, any;
    ngx_http_jwtgate_metrics_slot_t    *slots, *s;
    ngx_http_jwtgate_metrics_family_t  *fam, *rows;

    rows = ngx_http_jwtgate_metrics_named_families;
    n = sizeof(ngx_http_jwtgate_metrics_named_families)
        / sizeof(ngx_http_jwtgate_metrics_family_t);

    for (f = 0; f < n; f = g) {

        /* a family and the rows of its other values */
        for (g = f + 1; g < n && rows[g].name == NULL; g++) {
            /* void */
        }

        fam = &rows[f];

        ngx_http_jwtgate_metrics_family(out, fam->name, fam->type, fam->help);

        slots = ngx_http_jwtgate_metrics_slots(sh, fam->table);

        for (i = 0; i <= ngx_http_jwtgate_metrics_tables[fam->table].nslots;
             i++)
        {
            s = &slots[i];

            if (i < ngx_http_jwtgate_metrics_tables[fam->table].nslots) {
                if (s->state != NGX_HTTP_JWTGATE_SLOT_NAMED) {
                    continue;
                }

                ngx_memory_barrier();
                name = ngx_http_jwtgate_metrics_escape(out, s->name, s->len);

            } else {
                /* "other": once it counted */
                any = 0;

                for (used = f; used < g; used++) {
                    any |= (s->v[rows[used].value] != 0);
                }

                if (!any) {
                    continue;
                }

                name = (u_char *) "other";
            }

            if (name == NULL) {
                return;
            }

            for (used = f; used < g; used++) {
                if (rows[used].value_label == NULL) {
                    ngx_http_jwtgate_metrics_line(out, "%s{%s=\"%s\"} %uA\n",
                                                  fam->name, fam->label, name,
                                                  s->v[rows[used].value]);
                } else {
                    ngx_http_jwtgate_metrics_line(out,
                                                  "%s{%s=\"%s\",%s=\"%s\"} "
                                                  "%uA\n",
                                                  fam->name, fam->label, name,
                                                  rows[used].value_label,
                                                  rows[used].value_name,
                                                  s->v[rows[used].value]);
                }
            }
        }
    }

    ngx_http_jwtgate_metrics_family(out, "jwtgate_metrics_api_slots_free",
                                    "gauge",
                                    "API slots not taken yet; APIs beyond "
                                    "them count under api=\"other\".");

    slots = ngx_http_jwtgate_metrics_slots(sh, NGX_HTTP_JWTGATE_TABLE_APIS);
    used = 0;

    for (i = 0; i < NGX_HTTP_JWTGATE_METRICS_APIS; i++) {
        used += (slots[i].state != NGX_HTTP_JWTGATE_SLOT_FREE);
    }

    ngx_http_jwtgate_metrics_line(out, "jwtgate_metrics_api_slots_free %ui\n",
                                  NGX_HTTP_JWTGATE_METRICS_APIS - used);
}


/* What each worker serves, from each snapshot file. */

static void
ngx_http_jwtgate_metrics_snapshots(ngx_http_jwtgate_metrics_out_t *out,
    ngx_http_jwtgate_metrics_sh_t *sh)
{
    u_char                           *name;
    time_t                            oldest, now;
    ngx_uint_t                        i, w, nw, what;
    ngx_core_conf_t                  *ccf;
    ngx_http_jwtgate_metrics_snap_t  *ms;
    ngx_http_jwtgate_metrics_slot_t  *slots;

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    nw = ngx_min((ngx_uint_t) ccf->worker_processes,
                 NGX_HTTP_JWTGATE_METRICS_WORKERS);
    slots = ngx_http_jwtgate_metrics_slots(sh, NGX_HTTP_JWTGATE_TABLE_SOURCES);
    now = ngx_time();

    for (what = 0; what < 3; what++) {

        switch (what) {

        case 0:
            ngx_http_jwtgate_metrics_family(out, "jwtgate_snapshot_version",
                                            "gauge",
                                            "The snapshot version a worker "
                                            "serves.");
            break;

        case 1:
            ngx_http_jwtgate_metrics_family(out,
                                            "jwtgate_snapshot_generated_at"
                                            "_seconds", "gauge",
                                            "When the snapshot a worker "
                                            "serves was made, Unix time.");
            break;

        default:
            ngx_http_jwtgate_metrics_family(out, "jwtgate_snapshot_age_seconds",
                                            "gauge",
                                            "The age of the oldest snapshot "
                                            "a worker serves.");
        }

        for (i = 0; i < NGX_HTTP_JWTGATE_METRICS_SOURCES; i++) {

            if (slots[i].state != NGX_HTTP_JWTGATE_SLOT_NAMED) {
                continue;
            }

            ngx_memory_barrier();

            name = ngx_http_jwtgate_metrics_escape(out, slots[i].name,
                                                   slots[i].len);
            if (name == NULL) {
                return;
            }

            oldest = 0;

            for (w = 0; w < nw; w++) {
                ms = &sh->snaps[w][i];

                if (!ms->set) {
                    continue;
                }

                if (what == 0) {
                    ngx_http_jwtgate_metrics_line(out,
                        "jwtgate_snapshot_version{source=\"%s\","
                        "worker=\"%ui\"} %L\n", name, w,
                        (int64_t) ms->version);

                } else if (what == 1) {
                    ngx_http_jwtgate_metrics_line(out,
                        "jwtgate_snapshot_generated_at_seconds{source=\"%s\","
                        "worker=\"%ui\"} %T\n", name, w,
                        (time_t) ms->generated_at);

                } else if (oldest == 0
                           || (time_t) ms->generated_at < oldest)
                {
                    oldest = (time_t) ms->generated_at;
                }
            }

            if (what == 2 && oldest != 0) {
                ngx_http_jwtgate_metrics_line(out,
                    "jwtgate_snapshot_age_seconds{source=\"%s\"} %T\n",
                    name, now > oldest ? now - oldest : 0);
            }
        }
    }
}


/* The token caches, the worker's recent tokens in front of them, the DPoP
 * replay zones: each family, then each zone of its kind. */

static void
ngx_http_jwtgate_metrics_zones(ngx_http_jwtgate_metrics_out_t *out,
    ngx_http_jwtgate_metrics_sh_t *sh)
{
    ngx_uint_t                        i, k, n, nc, nr;
    ngx_cycle_t                      *cycle;
    ngx_shm_zone_t                   *zone, **caches, **replays;
    ngx_list_part_t                  *part;
    ngx_atomic_uint_t                 v;
    ngx_http_jwtgate_cache_stats_t   *cs;
    ngx_http_jwtgate_replay_stats_t  *rs;

    static const char  *cache_families[][3] = {
        { "jwtgate_cache_hits_total", "counter",
          "Tokens found in the cache zone (the worker's recent tokens "
          "answer before it: jwtgate_cache_front_hits_total)." },
        { "jwtgate_cache_misses_total", "counter",
          "Tokens looked up in the cache zone and not found (or expired)." },
        { "jwtgate_cache_insertions_total", "counter",
          "Verified tokens stored in the cache zone." },
        { "jwtgate_cache_evictions_total", "counter",
          "Entries removed to make room (the least recently used)." },
        { "jwtgate_cache_expirations_total", "counter",
          "Entries removed at their expiry." },
        { "jwtgate_cache_purges_total", "counter",
          "Entries removed after a snapshot revoked their token or suspended "
          "their client." },
        { "jwtgate_cache_entries", "gauge", "Entries in the cache zone." },
        { "jwtgate_cache_bytes_used", "gauge",
          "Bytes of the cache zone in use (whole pages)." },
        { "jwtgate_cache_bytes", "gauge", "The cache zone's size." },
    };

    static const char  *replay_families[][3] = {
        { "jwtgate_dpop_replay_entries", "gauge",
          "DPoP proofs recorded in the replay zone, still in their window." },
        { "jwtgate_dpop_replay_bytes_used", "gauge",
          "Bytes of the replay zone in use (whole pages)." },
        { "jwtgate_dpop_replay_bytes", "gauge", "The replay zone's size." },
        { "jwtgate_dpop_replays_total", "counter",
          "DPoP proofs refused as replays." },
        { "jwtgate_dpop_replay_full_total", "counter",
          "DPoP proofs refused because the zone was full (503)." },
    };

    static const char  *front[][3] = {
        { "jwtgate_cache_front_hits_total", "counter",
          "Tokens a worker found among its recent tokens, all workers." },
        { "jwtgate_cache_front_misses_total", "counter",
          "Tokens a worker did not find among its recent tokens." },
        { "jwtgate_cache_front_insertions_total", "counter",
          "Tokens a worker added to its recent tokens." },
    };

    ngx_http_jwtgate_metrics_family(out, front[0][0], front[0][1],
                                    front[0][2]);
    ngx_http_jwtgate_metrics_line(out, "%s %uA\n", front[0][0],
                                  sh->front_hits);
    ngx_http_jwtgate_metrics_family(out, front[1][0], front[1][1],
                                    front[1][2]);
    ngx_http_jwtgate_metrics_line(out, "%s %uA\n", front[1][0],
                                  sh->front_misses);
    ngx_http_jwtgate_metrics_family(out, front[2][0], front[2][1],
                                    front[2][2]);
    ngx_http_jwtgate_metrics_line(out, "%s %uA\n", front[2][0],
                                  sh->front_insertions);

    /* the zones of this module, and a copy of each one's numbers (their
     * locks are taken once per zone) */

    cycle = (ngx_cycle_t *) ngx_cycle;
    n = 0;

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        n += part->nelts;
    }

    caches = ngx_pcalloc(out->pool, n * (sizeof(ngx_shm_zone_t *) * 2
                                         + sizeof(*cs) + sizeof(*rs)) + 1);
    if (caches == NULL) {
        out->failed = 1;
        return;
    }

    replays = caches + n;
    cs = (ngx_http_jwtgate_cache_stats_t *) (replays + n);
    rs = (ngx_http_jwtgate_replay_stats_t *) (cs + n);
    nc = 0;
    nr = 0;

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (zone[i].tag != &ngx_http_jwtgate_module) {
                continue;
            }

            if (ngx_http_jwtgate_cache_stats(&zone[i], &cs[nc]) == NGX_OK) {
                caches[nc++] = &zone[i];

            } else if (ngx_http_jwtgate_replay_stats(&zone[i], &rs[nr])
                       == NGX_OK)
            {
                replays[nr++] = &zone[i];
            }
        }
    }

    for (k = 0; nc && k < sizeof(cache_families) / sizeof(cache_families[0]);
         k++)
    {
        ngx_http_jwtgate_metrics_family(out, cache_families[k][0],
                                        cache_families[k][1],
                                        cache_families[k][2]);

        for (i = 0; i < nc; i++) {
            switch (k) {
            case 0: v = cs[i].hits; break;
            case 1: v = cs[i].misses; break;
            case 2: v = cs[i].insertions; break;
            case 3: v = cs[i].evictions; break;
            case 4: v = cs[i].expired; break;
            case 5: v = cs[i].purged; break;
            case 6: v = cs[i].entries; break;
            case 7: v = cs[i].bytes_used; break;
            default: v = cs[i].bytes;
            }

            ngx_http_jwtgate_metrics_line(out, "%s{zone=\"%s\"} %uA\n",
                cache_families[k][0],
                ngx_http_jwtgate_metrics_escape(out, caches[i]->shm.name.data,
                                                caches[i]->shm.name.len),
                v);
        }
    }

    for (k = 0;
         nr && k < sizeof(replay_families) / sizeof(replay_families[0]);
         k++)
    {
        ngx_http_jwtgate_metrics_family(out, replay_families[k][0],
                                        replay_families[k][1],
                                        replay_families[k][2]);

        for (i = 0; i < nr; i++) {
            switch (k) {
            case 0: v = rs[i].entries; break;
            case 1: v = rs[i].bytes_used; break;
            case 2: v = rs[i].bytes; break;
            case 3: v = rs[i].replays; break;
            default: v = rs[i].full;
            }

            ngx_http_jwtgate_metrics_line(out, "%s{zone=\"%s\"} %uA\n",
                replay_families[k][0],
                ngx_http_jwtgate_metrics_escape(out, replays[i]->shm.name.data,
                                                replays[i]->shm.name.len),
                v);
        }
    }
}


static void
ngx_http_jwtgate_metrics_family(ngx_http_jwtgate_metrics_out_t *out,
    const char *name, const char *type, const char *help)
{
    ngx_http_jwtgate_metrics_line(out, "# HELP %s %s\n# TYPE %s %s\n",
                                  name, help, name, type);
}


/* A line (at most NGX_HTTP_JWTGATE_METRICS_LINE bytes) at the end of the
 * text; out->failed when memory ran out. */

#define NGX_HTTP_JWTGATE_METRICS_LINE  2048
#define NGX_HTTP_JWTGATE_METRICS_BUF   16384

static void
ngx_http_jwtgate_metrics_line(ngx_http_jwtgate_metrics_out_t *out,
    const char *fmt, ...)
{
    va_list       args;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (out->failed) {
        return;
    }

    b = out->last ? out->last->buf : NULL;

    if (b == NULL || b->end - b->last < NGX_HTTP_JWTGATE_METRICS_LINE) {
        b = ngx_create_temp_buf(out->pool, NGX_HTTP_JWTGATE_METRICS_BUF);
        cl = ngx_alloc_chain_link(out->pool);

        if (b == NULL || cl == NULL) {
            out->failed = 1;
            return;
        }

        cl->buf = b;
        cl->next = NULL;

        if (out->last) {
            out->last->next = cl;

        } else {
            out->first = cl;
        }

        out->last = cl;
    }

    va_start(args, fmt);
    b->last = ngx_vslprintf(b->last, b->last + NGX_HTTP_JWTGATE_METRICS_LINE,
                            fmt, args);
    va_end(args);
}


/*
 * A label value: NUL-terminated, with '\' and '"' escaped as the format
 * wants; bytes outside printable ASCII become '?', so that the text is
 * valid UTF-8 whatever a name holds. NULL (and out->failed): no memory.
 */

static u_char *
ngx_http_jwtgate_metrics_escape(ngx_http_jwtgate_metrics_out_t *out,
    const u_char *s, size_t len)
{
    u_char  *p, *d;
    size_t   i;

    p = ngx_pnalloc(out->pool, 2 * len + 1);
    if (p == NULL) {
        out->failed = 1;
        return NULL;
    }

    d = p;

    for (i = 0; i < len; i++) {
        if (s[i] == '\\' || s[i] == '"') {
            *d++ = '\\';
            *d++ = s[i];

        } else if (s[i] < 0x20 || s[i] > 0x7e) {
            *d++ = '?';

        } else {
            *d++ = s[i];
        }
    }

    *d = '\0';

    return p;
}
