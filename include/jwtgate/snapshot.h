/*
 * jwtgate/snapshot.h — the compiled gateway snapshot (format 2): what
 * jwtgated publishes and every gateway worker maps read-only and uses in
 * place.
 *
 * Why compiled: a JSON snapshot must be parsed whole by every worker after
 * every change (22 MB and hundreds of milliseconds at 100,000 subscriptions,
 * inside the event loop, once per worker). A compiled snapshot is one file of
 * fixed-size records, a string pool and hash indexes, laid out so that a
 * reader uses it where it lies: opening it is mapping it and checking a
 * header; lookups are hash probes into the mapping; memory is the page cache,
 * shared by every process that maps the file.
 *
 * The file (little-endian, every section 8-byte aligned):
 *
 *   header      magic "JGSNAP\r\n", format version (2), flags, header and
 *               file sizes, the change counter (`version`), generated_at,
 *               token_ttl, the database identity (16 bytes), the issuer (a
 *               string), the section table, and a SHA-256 over the header
 *               (checksum field zeroed) and every byte after it
 *   sections    STRINGS  every string once, each followed by a NUL
 *               KEYS     the decryption JWKS (private), the verification
 *                        JWKS (public) and the keys' information, as JSON text
 *               APIS     one record per API; base_path hash index
 *               SCOPES   scope lists (string references)
 *               SUBS     approved subscriptions; (client_id, API) hash index
 *               REVOKED  live revoked jti with their exp; hash index
 *               SUSPENDED client_ids; hash index
 *               LLM      the LLM APIs' providers, models and sealed keys, as
 *                        JSON text (issue 18; docs/ai-gateway.md)
 *               LIMITS   subscriptions' token and request limits, with the
 *                        per-model ones (MODEL_LIMITS)
 *               OVERQUOTA clients over a limit until a time; (client_id, API)
 *                        hash index
 *
 * The last five came after the first release of format 2, without a new
 * version: a reader of that release skips them, and this reader takes a file
 * without them as one with no LLM configuration, no limits and nobody over
 * quota.
 *
 * Trust: the checksum catches a torn, truncated or corrupted file. A reader
 * is safe on any bytes at all (a hostile file with a correct checksum is
 * still only data): every reference is bounds-checked when it is followed,
 * every probe sequence is bounded, and a bad reference is an error (or "not
 * found"), never a read outside the mapping. So checking a file costs O(1)
 * plus the checksum, which can be computed in steps (jg_snapshot_verify_step)
 * so that an event loop is never held for long.
 *
 * The JSON document (format 1, docs/snapshot.md) stays the human form:
 * jg_snapshot_to_json() prints any compiled snapshot as format 1 JSON, and
 * jg_snapshot_compile_json() builds a compiled snapshot from one (hand-written
 * by an operator, kept in git, or made by a test). The two round-trip.
 *
 * Threads: a jg_snapshot is immutable once verified; any number of threads
 * may read it. A builder belongs to one thread.
 */
#ifndef JWTGATE_SNAPSHOT_H
#define JWTGATE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/common.h"
#include "jwtgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JG_SNAPSHOT_FORMAT_VERSION 2
#define JG_SNAPSHOT_DB_ID_LEN      16

typedef struct jg_snapshot jg_snapshot;
typedef struct jg_snapshot_builder jg_snapshot_builder;

/* A string inside a snapshot: `ptr` points into the mapping and is
 * NUL-terminated at ptr[len]; valid while the snapshot is open. */
typedef struct jg_snap_str {
    const char *ptr;
    size_t len;
} jg_snap_str;

typedef enum jg_api_state {
    JG_API_DRAFT = 0,
    JG_API_PUBLISHED,
    JG_API_DEPRECATED,
    JG_API_RETIRED
} jg_api_state;

/* What an API demands of the tokens presented to it at a gateway. A bearer
 * token is enough (NONE), or the token must be sender-constrained: bound to
 * a DPoP key (RFC 9449, cnf.jkt), to a client certificate (RFC 8705,
 * cnf["x5t#S256"]), or to either (ANY). A gateway applies the stricter of
 * this and its own configuration. */
typedef enum jg_api_binding {
    JG_API_BIND_NONE = 0,
    JG_API_BIND_DPOP,
    JG_API_BIND_MTLS,
    JG_API_BIND_ANY
} jg_api_binding;

/* The binding named `name` ("none", "dpop", "mtls", "any"; NULL is "none"),
 * or -1 for any other string. Thread-safe. */
int jg_api_binding_parse(const char *name);
/* The name of `b`, or NULL for a value outside the enum. Thread-safe. */
const char *jg_api_binding_name(jg_api_binding b);

/* One API as read from a snapshot (filled by jg_snapshot_api / _route). */
typedef struct jg_snap_api {
    uint32_t index; /* 0 .. jg_snapshot_info.apis - 1 */
    jg_snap_str id, tenant_id, name, version, base_path, upstream, audience;
    jg_api_state state;
    jg_api_binding require_binding;
    int64_t sunset;        /* seconds since the epoch; 0: none */
    int64_t deprecated_at; /* 0: not known */
    uint32_t nscopes;      /* read with jg_snapshot_api_scope() */
    uint32_t scopes_ref_;  /* internal */
} jg_snap_api;

/* One approved subscription (jg_snapshot_subscription / _subscription_at). */
typedef struct jg_snap_sub {
    jg_snap_str id, client_id;
    uint32_t api_index;
    uint32_t nscopes;     /* read with jg_snapshot_sub_scope() */
    uint32_t scopes_ref_; /* internal */
    uint32_t limits_ref_; /* internal: read with jg_snapshot_sub_limits() */
} jg_snap_sub;

/* A subscription's limits (an LLM API's; resolved by jwtgated from the
 * subscription's own or its plan's). Every counter: 0 is "no limit". Tokens
 * count as (input_weight_milli * input + output_weight_milli * output) / 1000. */
typedef struct jg_snap_limits {
    int64_t requests_per_minute, tokens_per_minute, tokens_per_day;
    uint32_t input_weight_milli, output_weight_milli; /* weight x 1000; 1000 = 1 */
    uint32_t nmodels;       /* per-model limits: jg_snapshot_limits_model*() */
    uint32_t models_first_; /* internal */
} jg_snap_limits;

/* One model's own limits, on top of the subscription's. */
typedef struct jg_snap_model_limits {
    jg_snap_str model;                                              /* the public model name */
    int64_t requests_per_minute, tokens_per_minute, tokens_per_day; /* 0: no limit */
} jg_snap_model_limits;

/* What a snapshot holds, as a whole. */
typedef struct jg_snapshot_info {
    int64_t version;      /* the change counter; never goes backwards for one database */
    int64_t generated_at; /* seconds since the epoch */
    int64_t token_ttl;    /* seconds */
    uint8_t db_id[JG_SNAPSHOT_DB_ID_LEN]; /* the database's identity (all zero: none) */
    jg_snap_str issuer;
    size_t file_size;
    uint32_t apis, subscriptions, revoked, suspended;
    uint32_t over_quota; /* entries of the over-quota list */
} jg_snapshot_info;

/* Limits for opening; NULL means the defaults noted here. */
typedef struct jg_snapshot_limits {
    size_t max_file_size; /* default 1 GiB */
} jg_snapshot_limits;

/* ---- Reading -------------------------------------------------------------------- */

/*
 * jg_snapshot_map — map the file at `path` read-only (MAP_SHARED: the pages
 * are the page cache's, shared by every process that maps the same file)
 * and check its header: magic, format version, sizes, section table inside
 * the file and sections that do not overlap. The checksum is not checked
 * yet: call jg_snapshot_verify_step() until it returns JG_OK, or use
 * jg_snapshot_open(). Every lookup refuses (JG_ERR_SNAPSHOT_UNVERIFIED)
 * until the checksum has been verified. The file may be replaced or removed
 * after mapping: the mapping keeps the inode it mapped.
 * Ownership: *out is the caller's, freed with jg_snapshot_close().
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_FILE (cannot open, stat or map;
 * not a regular file), JG_ERR_SNAPSHOT_FORMAT (bad magic, sizes, table),
 * JG_ERR_SNAPSHOT_VERSION (a format version this build does not read),
 * JG_ERR_LIMIT_JSON_SIZE (file larger than max_file_size), JG_ERR_NOMEM.
 */
jg_err jg_snapshot_map(const char *path, const jg_snapshot_limits *limits,
                       jg_snapshot **out) JG_NODISCARD;

/* As jg_snapshot_map, over `len` bytes the caller keeps alive and unchanged
 * until jg_snapshot_close (tests, fuzzing, a file received over a network). */
jg_err jg_snapshot_map_buffer(const void *data, size_t len, const jg_snapshot_limits *limits,
                              jg_snapshot **out) JG_NODISCARD;

/*
 * jg_snapshot_verify_step — hash at most `budget` more bytes (0: all that
 * is left). JG_OK once the whole file is hashed and the checksum matches;
 * JG_ERR_AGAIN while bytes remain; JG_ERR_SNAPSHOT_CHECKSUM when it does not
 * match (the snapshot stays unusable). Lets an event loop verify a large
 * file a slice per turn. Errors also: JG_ERR_INVALID_ARGUMENT, JG_ERR_CRYPTO.
 */
JG_NODISCARD jg_err jg_snapshot_verify_step(jg_snapshot *s, size_t budget);

/* map + verify in one call. Errors: those of both. */
jg_err jg_snapshot_open(const char *path, const jg_snapshot_limits *limits,
                        jg_snapshot **out) JG_NODISCARD;

/* Unmap and free. NULL is a no-op. Not while another thread reads it. */
void jg_snapshot_close(jg_snapshot *s);

/* The header's facts (available right after mapping, before verifying).
 * Errors: JG_ERR_INVALID_ARGUMENT. */
jg_err jg_snapshot_get_info(const jg_snapshot *s, jg_snapshot_info *out);

/*
 * The key sets as JWKS JSON text, pointing into the mapping (NUL-terminated
 * at [len]): `decryption` holds the gateway's PRIVATE keys — handle as such
 * — and `verification` the issuer's public keys; `keys_info` the keys'
 * {kid, purpose, alg, state} array (information only). Parse them with
 * jg_jwks_parse(). Errors: JG_ERR_INVALID_ARGUMENT,
 * JG_ERR_SNAPSHOT_UNVERIFIED, JG_ERR_SNAPSHOT_FORMAT.
 */
jg_err jg_snapshot_keys(const jg_snapshot *s, jg_snap_str *decryption, jg_snap_str *verification,
                        jg_snap_str *keys_info);

/*
 * jg_snapshot_route — the API whose base_path is the longest prefix of the
 * request path `path` (`len` bytes, no query) on a path-segment boundary:
 * "/orders" matches "/orders", "/orders/x" and "/orders?..." (the caller
 * strips the query) but not "/ordersx"; a base_path that ends in "/"
 * matches what starts with it. Cost: at most two hash probes per "/" in the
 * path (with and without the slash), longest first.
 * Errors: JG_ERR_NOT_FOUND (no API there), JG_ERR_INVALID_ARGUMENT,
 * JG_ERR_SNAPSHOT_UNVERIFIED, JG_ERR_SNAPSHOT_FORMAT (a bad reference).
 */
jg_err jg_snapshot_route(const jg_snapshot *s, const char *path, size_t len, jg_snap_api *out);

/* The API at `index`. Errors: JG_ERR_NOT_FOUND (out of range), as above. */
jg_err jg_snapshot_api(const jg_snapshot *s, uint32_t index, jg_snap_api *out);

/* Scope `i` of an API / of a subscription. Errors: JG_ERR_NOT_FOUND (out of
 * range), JG_ERR_SNAPSHOT_FORMAT, JG_ERR_INVALID_ARGUMENT. */
jg_err jg_snapshot_api_scope(const jg_snapshot *s, const jg_snap_api *api, uint32_t i,
                             jg_snap_str *out);
jg_err jg_snapshot_sub_scope(const jg_snapshot *s, const jg_snap_sub *sub, uint32_t i,
                             jg_snap_str *out);

/* Whether the API / the subscription lists `scope` (exact bytes). */
int jg_snapshot_api_has_scope(const jg_snapshot *s, const jg_snap_api *api, const char *scope,
                              size_t len);
int jg_snapshot_sub_has_scope(const jg_snapshot *s, const jg_snap_sub *sub, const char *scope,
                              size_t len);

/* The approved subscription of `client_id` to the API at `api_index`.
 * Errors: JG_ERR_NOT_FOUND (none), JG_ERR_INVALID_ARGUMENT,
 * JG_ERR_SNAPSHOT_UNVERIFIED, JG_ERR_SNAPSHOT_FORMAT. */
jg_err jg_snapshot_subscription(const jg_snapshot *s, const char *client_id, size_t len,
                                uint32_t api_index, jg_snap_sub *out);

/* Membership: 1 when listed, 0 when not (or the snapshot is unusable). */
int jg_snapshot_is_revoked(const jg_snapshot *s, const char *jti, size_t len);
int jg_snapshot_is_suspended(const jg_snapshot *s, const char *client_id, size_t len);

/* Iteration, in the snapshot's order (for dumps and tests): the i-th
 * subscription, revoked jti (with its exp) and suspended client.
 * Errors: JG_ERR_NOT_FOUND past the end, as above. */
jg_err jg_snapshot_subscription_at(const jg_snapshot *s, uint32_t i, jg_snap_sub *out);
jg_err jg_snapshot_revoked_at(const jg_snapshot *s, uint32_t i, jg_snap_str *jti, int64_t *exp);
jg_err jg_snapshot_suspended_at(const jg_snapshot *s, uint32_t i, jg_snap_str *client_id);

/* ---- LLM APIs (docs/ai-gateway.md) ---------------------------------------------- */

/*
 * jg_snapshot_llm — the LLM configuration the control plane published, as
 * JSON text pointing into the mapping (NUL-terminated at [len]); len 0 when
 * the snapshot has none. The library checked only that it is a JSON object
 * (when it was built); its shape is docs/snapshot.md's ("secrets_kid", "apis":
 * [{api_id, providers: [{name, format, base_url, timeout_ms, models, keys:
 * [{id, sealed}]}]}]). The keys in it are sealed (JWE) to the gateway
 * secrets key, never in the clear.
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_SNAPSHOT_UNVERIFIED,
 * JG_ERR_SNAPSHOT_FORMAT.
 */
jg_err jg_snapshot_llm(const jg_snapshot *s, jg_snap_str *json);

/* The limits of `sub` (from jg_snapshot_subscription or _at).
 * Errors: JG_ERR_NOT_FOUND (none: unlimited), JG_ERR_INVALID_ARGUMENT,
 * JG_ERR_SNAPSHOT_UNVERIFIED, JG_ERR_SNAPSHOT_FORMAT (a bad reference). */
jg_err jg_snapshot_sub_limits(const jg_snapshot *s, const jg_snap_sub *sub, jg_snap_limits *out);

/* The i-th model's limits of `l`. Errors: JG_ERR_NOT_FOUND past the end, as
 * above. */
jg_err jg_snapshot_limits_model_at(const jg_snapshot *s, const jg_snap_limits *l, uint32_t i,
                                   jg_snap_model_limits *out);

/* The limits of `model` (`len` bytes, exact) in `l`; a linear scan of at most
 * 64 entries. Errors: JG_ERR_NOT_FOUND (none for it), as above. */
jg_err jg_snapshot_limits_model(const jg_snapshot *s, const jg_snap_limits *l, const char *model,
                                size_t len, jg_snap_model_limits *out);

/*
 * jg_snapshot_overquota — 1 when `client_id` is over a limit of its
 * subscription to the API at `api_index` at time `now`: an entry for the
 * whole subscription, or (model != NULL) for that model, whose until is
 * later than now. *until (may be NULL) gets the latest such until, for
 * Retry-After. 0 otherwise, also when the snapshot is unusable. Cost: one
 * hash probe sequence. Thread-safe on a verified snapshot.
 */
int jg_snapshot_overquota(const jg_snapshot *s, const char *client_id, size_t len,
                          uint32_t api_index, const char *model, size_t model_len, int64_t now,
                          int64_t *until);

/* The i-th over-quota entry (dumps, tests); model len 0 = the whole
 * subscription. Errors: JG_ERR_NOT_FOUND past the end, as above. */
jg_err jg_snapshot_overquota_at(const jg_snapshot *s, uint32_t i, jg_snap_str *client_id,
                                uint32_t *api_index, jg_snap_str *model, int64_t *until);

/* ---- Writing -------------------------------------------------------------------- */

/* What a builder needs of an API. Strings are copied; NULL members are
 * empty strings (id, base_path and audience must not be). */
typedef struct jg_snapshot_api_in {
    const char *id, *tenant_id, *name, *version, *base_path, *upstream, *audience;
    jg_api_state state;
    jg_api_binding require_binding; /* JG_API_BIND_NONE (0) unless set */
    int64_t sunset, deprecated_at;  /* 0: none */
    const char *const *scopes;      /* `nscopes` scope strings */
    size_t nscopes;
} jg_snapshot_api_in;

/* A new, empty builder. Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_new(jg_snapshot_builder **out) JG_NODISCARD;

/* The header's facts. `issuer` is copied; `db_id` may be NULL (all zero).
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_set_info(jg_snapshot_builder *b, int64_t version, int64_t generated_at,
                                    int64_t token_ttl, const char *issuer, const uint8_t *db_id);

/* The key sets as JWKS JSON text (copied; the builder wipes its copy of
 * `decryption` when freed). `keys_info` may be NULL ("[]").
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_set_keys(jg_snapshot_builder *b, const char *decryption,
                                    size_t decryption_len, const char *verification,
                                    size_t verification_len, const char *keys_info,
                                    size_t keys_info_len);

/* Add an API; *index (may be NULL) gets its index for subscriptions.
 * Errors: JG_ERR_INVALID_ARGUMENT (missing id/base_path/audience, a
 * repeated id or base_path), JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_add_api(jg_snapshot_builder *b, const jg_snapshot_api_in *api,
                                   uint32_t *index);

/* Add an approved subscription of `client_id` to the API at `api_index`.
 * Errors: JG_ERR_INVALID_ARGUMENT (unknown index, a second subscription of
 * the same client to the same API), JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_add_subscription(jg_snapshot_builder *b, const char *id,
                                            const char *client_id, uint32_t api_index,
                                            const char *const *scopes, size_t nscopes);

/* Add a revoked jti (a repeat keeps the later exp) / a suspended client.
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_add_revoked(jg_snapshot_builder *b, const char *jti, int64_t exp);
jg_err jg_snapshot_builder_add_suspended(jg_snapshot_builder *b, const char *client_id);

/* What a builder needs of a subscription's limits (jg_snap_limits). */
typedef struct jg_snapshot_model_limits_in {
    const char *model;
    int64_t requests_per_minute, tokens_per_minute, tokens_per_day; /* 0: none */
} jg_snapshot_model_limits_in;

typedef struct jg_snapshot_limits_in {
    int64_t requests_per_minute, tokens_per_minute, tokens_per_day; /* 0: none */
    uint32_t input_weight_milli, output_weight_milli;               /* 1000 = weight 1 */
    const jg_snapshot_model_limits_in *models; /* `nmodels` entries, distinct names */
    size_t nmodels;                            /* at most 64 */
} jg_snapshot_limits_in;

/* The LLM configuration as JSON text (copied; a JSON object; set once).
 * Errors: JG_ERR_INVALID_ARGUMENT (not an object, set twice), JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_set_llm(jg_snapshot_builder *b, const char *json, size_t len);

/* The limits of the subscription already added for (client_id, api_index)
 * (copied; set once per subscription).
 * Errors: JG_ERR_INVALID_ARGUMENT (no such subscription, limits already set,
 * a negative counter, a weight over 1,000,000, a missing or repeated model,
 * more than 64 models), JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_set_sub_limits(jg_snapshot_builder *b, const char *client_id,
                                          uint32_t api_index, const jg_snapshot_limits_in *l);

/* An over-quota entry: `client_id` is refused on the API at `api_index` (for
 * `model` only, unless model is NULL or "") until `until`. An entry repeated
 * for the same client, API and model keeps the later until.
 * Errors: JG_ERR_INVALID_ARGUMENT (unknown index, empty client), JG_ERR_NOMEM. */
jg_err jg_snapshot_builder_add_overquota(jg_snapshot_builder *b, const char *client_id,
                                         uint32_t api_index, const char *model, int64_t until);

/*
 * jg_snapshot_builder_finish — lay out the file (indexes sized for a load
 * factor of at most 1/2) into a malloc'd buffer. The builder can then only
 * be freed. Ownership: *out is the caller's; free it with
 * jg_free_secret(*out, *len) (it holds private keys).
 * Errors: JG_ERR_INVALID_ARGUMENT (no info or keys set), JG_ERR_NOMEM,
 * JG_ERR_CRYPTO, JG_ERR_LIMIT_JSON_SIZE (over 4 GiB).
 */
jg_err jg_snapshot_builder_finish(jg_snapshot_builder *b, uint8_t **out, size_t *len) JG_NODISCARD;

/* Free (wiping key material). NULL is a no-op. */
void jg_snapshot_builder_free(jg_snapshot_builder *b);

/*
 * jg_snapshot_write_file — write `len` bytes to `path` atomically: a
 * temporary file in the same directory (mode 0600), written, fsynced,
 * renamed over `path`, the directory fsynced. A reader opening `path` sees
 * the old file or the new one, never part of either.
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_FILE (errno is left set).
 */
jg_err jg_snapshot_write_file(const char *path, const uint8_t *data, size_t len);

/*
 * jg_snapshot_write_file_mode — jg_snapshot_write_file with the file's mode:
 * 0600 (as above) or 0640, for a gateway whose nginx workers read the file
 * through its group (the group is the writer's, or the directory's when it
 * is set-group-ID: docs/SECURITY.md). The mode is set before any byte is
 * written, so the file is never readable by more than `mode` says.
 * Errors: JG_ERR_INVALID_ARGUMENT (also any other mode), JG_ERR_FILE.
 */
jg_err jg_snapshot_write_file_mode(const char *path, const uint8_t *data, size_t len,
                                   unsigned mode);

/* ---- The JSON form (format 1) -------------------------------------------------- */

/*
 * jg_snapshot_compile_json — build a compiled snapshot from a format-1 JSON
 * document (docs/snapshot.md: format, format_version 1, version,
 * generated_at, issuer, token_ttl, decryption_keys, verification_keys, keys,
 * apis, subscriptions, revoked_jti, suspended_clients; optional db_id as 32
 * hex digits; unknown members ignored). Strict: duplicate members, wrong
 * types, a subscription naming an unknown API, a repeated base_path are
 * errors with `detail` (may be NULL) saying where. Output as from
 * jg_snapshot_builder_finish().
 * Errors: JG_ERR_JSON_* , JG_ERR_SNAPSHOT_FORMAT (the document's shape),
 * JG_ERR_KEYSET_INVALID (a key set that is not a JWKS), those of the builder.
 */
jg_err jg_snapshot_compile_json(const char *json, size_t len, uint8_t **out, size_t *out_len,
                                char *detail, size_t detail_len) JG_NODISCARD;

/*
 * jg_snapshot_to_json — the format-1 JSON document of a verified snapshot
 * (members sorted, compact unless `pretty`), including the PRIVATE
 * decryption keys: handle the text as the file itself. compile(to_json(s))
 * gives back a snapshot with the same content.
 * Ownership: *out is the caller's, freed with jg_free_secret(*out, *len).
 * Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_SNAPSHOT_UNVERIFIED,
 * JG_ERR_SNAPSHOT_FORMAT, JG_ERR_NOMEM.
 */
jg_err jg_snapshot_to_json(const jg_snapshot *s, int pretty, char **out, size_t *len) JG_NODISCARD;

#ifdef __cplusplus
}
#endif

#endif /* JWTGATE_SNAPSHOT_H */
