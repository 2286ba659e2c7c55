/*
 * snap_read.c — reading a compiled snapshot in place (jwtgate/snapshot.h).
 *
 * Rules, in the order they are applied:
 *  1. Opening checks the header and the section table only (O(1)): magic,
 *     format version, flags, sizes equal to the file's, every section inside
 *     the file, aligned, in order and not overlapping, each record section a
 *     whole number of records, each index a power of two at least as large
 *     as its records with a probe bound no larger than itself, the issuer a
 *     valid string.
 *  2. Nothing but the header's facts is available until the SHA-256 over the
 *     whole file has matched (verify_step), so a torn or corrupted file is
 *     never used.
 *  3. Every reference is checked when it is followed (a string inside the
 *     pool and NUL-terminated, a scope list inside SCOPES, an API index
 *     below the count), every probe sequence stops at the index's recorded
 *     bound: a file with a correct checksum but hostile content gives errors
 *     or "not found", never a read outside the mapping.
 * Records are copied out with memcpy, so a caller's buffer needs no
 * alignment.
 */
#include "jwtgate/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "snapshot/snap_format.h"
#include "snapshot/snap_internal.h"

#define DEFAULT_MAX_FILE ((size_t)1 << 30)

struct jg_snapshot {
    const uint8_t *base;
    size_t len;
    void *map;  /* the mapping to munmap on close, or NULL (a caller's buffer) */
    int mapped; /* munmap on close */
    int verified, failed;
    size_t hashed; /* bytes hashed so far */
    EVP_MD_CTX *md;
    snap_header hdr;
    snap_section sec[SNAP_NSECTIONS];
};

/* ---- Opening --------------------------------------------------------------------- */

static const size_t record_size[SNAP_NSECTIONS] = {
    [SNAP_STRINGS] = 1,
    [SNAP_KEYS] = sizeof(snap_keys),
    [SNAP_APIS] = sizeof(snap_api),
    [SNAP_API_INDEX] = sizeof(snap_slot),
    [SNAP_SCOPES] = sizeof(snap_ref),
    [SNAP_SUBS] = sizeof(snap_sub),
    [SNAP_SUB_INDEX] = sizeof(snap_slot),
    [SNAP_REVOKED] = sizeof(snap_revoked),
    [SNAP_REVOKED_INDEX] = sizeof(snap_slot),
    [SNAP_SUSPENDED] = sizeof(snap_ref),
    [SNAP_SUSPENDED_INDEX] = sizeof(snap_slot),
    [SNAP_LLM] = sizeof(snap_ref),
    [SNAP_LIMITS] = sizeof(snap_limits),
    [SNAP_MODEL_LIMITS] = sizeof(snap_model_limits),
    [SNAP_OVERQUOTA] = sizeof(snap_overquota),
    [SNAP_OVERQUOTA_INDEX] = sizeof(snap_slot),
};

/* The record section each index points into. */
static int index_of(int id)
{
    switch (id) {
    case SNAP_API_INDEX:
        return SNAP_APIS;
    case SNAP_SUB_INDEX:
        return SNAP_SUBS;
    case SNAP_REVOKED_INDEX:
        return SNAP_REVOKED;
    case SNAP_SUSPENDED_INDEX:
        return SNAP_SUSPENDED;
    case SNAP_OVERQUOTA_INDEX:
        return SNAP_OVERQUOTA;
    default:
        return -1;
    }
}

static jg_err check_string(const jg_snapshot *s, snap_ref r)
{
    const snap_section *st = &s->sec[SNAP_STRINGS];
    if ((uint64_t)r.off + r.len >= st->size || s->base[st->offset + r.off + r.len] != 0)
        return JG_ERR_SNAPSHOT_FORMAT;
    return JG_OK;
}

/*
 * The layout. A file may have more sections than this build knows (a newer
 * jwtgated's, of the same format version): they come after the known ones in
 * the table, are checked for their place in the file like every section
 * (aligned, inside it, in order, not overlapping) and are otherwise ignored,
 * so that a section can be added without a new format version and a fleet
 * of gateways of two releases keeps loading snapshots. Their bytes are in
 * the checksum all the same. The other way round, a file of an older writer
 * may end its table before the sections this build added after the first
 * eleven (SNAP_NSECTIONS_MIN): those read as empty (no LLM configuration, no
 * limits, nobody over quota).
 */
static jg_err check_layout(jg_snapshot *s)
{
    if (s->len < sizeof(snap_header) || memcmp(s->base, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
        return JG_ERR_SNAPSHOT_FORMAT;
    memcpy(&s->hdr, s->base, sizeof s->hdr);
    if (s->hdr.format_version != JG_SNAPSHOT_FORMAT_VERSION)
        return JG_ERR_SNAPSHOT_VERSION;
    uint32_t nsec = s->hdr.nsections;
    if (nsec < SNAP_NSECTIONS_MIN || nsec > SNAP_MAX_SECTIONS)
        return JG_ERR_SNAPSHOT_FORMAT;
    const size_t hsize = sizeof(snap_header) + (size_t)nsec * sizeof(snap_section);
    if (s->hdr.flags != 0 || s->hdr.header_size != hsize || s->len < hsize ||
        s->hdr.file_size != s->len)
        return JG_ERR_SNAPSHOT_FORMAT;
    uint32_t known = nsec < SNAP_NSECTIONS ? nsec : SNAP_NSECTIONS;
    memset(s->sec, 0, sizeof s->sec); /* a section the file lacks: empty */
    memcpy(s->sec, s->base + sizeof(snap_header), (size_t)known * sizeof(snap_section));

    uint64_t end = hsize;
    for (uint32_t i = 0; i < nsec; i++) {
        snap_section c_any;
        memcpy(&c_any, s->base + sizeof(snap_header) + (size_t)i * sizeof(snap_section),
               sizeof c_any);
        const snap_section *c = &c_any;
        if (c->offset % 8 || c->offset < end || c->offset > s->len || c->size > s->len - c->offset)
            return JG_ERR_SNAPSHOT_FORMAT;
        end = c->offset + c->size;
        if (i == SNAP_STRINGS || i >= SNAP_NSECTIONS)
            continue; /* the string pool's size is its own; a newer section is not ours */
        if (c->size != (uint64_t)c->count * record_size[i])
            return JG_ERR_SNAPSHOT_FORMAT;
        int rec = index_of((int)i);
        if (rec >= 0) {
            uint32_t n = c->count;
            if ((n & (n - 1)) != 0 || n < s->sec[rec].count || (s->sec[rec].count && !n) ||
                c->aux > n)
                return JG_ERR_SNAPSHOT_FORMAT;
        } else if (c->aux != 0) {
            return JG_ERR_SNAPSHOT_FORMAT;
        }
    }
    if (s->sec[SNAP_KEYS].count != 1 || s->sec[SNAP_LLM].count > 1)
        return JG_ERR_SNAPSHOT_FORMAT;
    return check_string(s, s->hdr.issuer);
}

static jg_err open_over(const uint8_t *data, size_t len, void *map, jg_snapshot **out)
{
    jg_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return JG_ERR_NOMEM;
    s->base = data;
    s->map = map;
    s->len = len;
    s->mapped = map != NULL;
    jg_err err = check_layout(s);
    if (err) {
        s->mapped = 0; /* the caller unmaps */
        jg_snapshot_close(s);
        return err;
    }
    *out = s;
    return JG_OK;
}

jg_err jg_snapshot_map_buffer(const void *data, size_t len, const jg_snapshot_limits *limits,
                              jg_snapshot **out)
{
    if (out)
        *out = NULL;
    if (!data || !out)
        return JG_ERR_INVALID_ARGUMENT;
    size_t max = limits && limits->max_file_size ? limits->max_file_size : DEFAULT_MAX_FILE;
    if (len > max)
        return JG_ERR_LIMIT_JSON_SIZE;
    return open_over(data, len, NULL, out);
}

jg_err jg_snapshot_map(const char *path, const jg_snapshot_limits *limits, jg_snapshot **out)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return JG_ERR_INVALID_ARGUMENT;
    size_t max = limits && limits->max_file_size ? limits->max_file_size : DEFAULT_MAX_FILE;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return JG_ERR_FILE;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return JG_ERR_FILE;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return JG_ERR_FILE;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return JG_ERR_LIMIT_JSON_SIZE;
    }
    if ((size_t)st.st_size < sizeof(snap_header)) {
        close(fd);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    size_t len = (size_t)st.st_size;
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the inode */
    if (p == MAP_FAILED || p == NULL) {
        errno = e;
        return JG_ERR_FILE;
    }
    jg_err err = open_over(p, len, p, out);
    if (err)
        munmap(p, len);
    return err;
}

void jg_snapshot_close(jg_snapshot *s)
{
    if (!s)
        return;
    if (s->mapped)
        munmap(s->map, s->len);
    EVP_MD_CTX_free(s->md);
    free(s);
}

/* ---- Verifying ------------------------------------------------------------------- */

jg_err jg_snapshot_verify_step(jg_snapshot *s, size_t budget)
{
    if (!s)
        return JG_ERR_INVALID_ARGUMENT;
    if (s->verified)
        return JG_OK;
    if (s->failed)
        return JG_ERR_SNAPSHOT_CHECKSUM;
    if (!s->md) {
        /* the header first, as it was hashed: with its checksum zeroed */
        snap_header h = s->hdr;
        memset(h.checksum, 0, sizeof h.checksum);
        if (!(s->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(s->md, &h, sizeof h) != 1)
            return JG_ERR_CRYPTO;
        s->hashed = sizeof h;
    }
    size_t left = s->len - s->hashed;
    size_t n = budget && budget < left ? budget : left;
    if (n && EVP_DigestUpdate(s->md, s->base + s->hashed, n) != 1)
        return JG_ERR_CRYPTO;
    s->hashed += n;
    if (s->hashed < s->len)
        return JG_ERR_AGAIN;
    uint8_t md[32];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 || mdlen != sizeof md)
        return JG_ERR_CRYPTO;
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
    if (!jg_memeq_consttime(md, s->hdr.checksum, sizeof md)) {
        s->failed = 1;
        return JG_ERR_SNAPSHOT_CHECKSUM;
    }
    s->verified = 1;
    return JG_OK;
}

jg_err jg_snapshot_open(const char *path, const jg_snapshot_limits *limits, jg_snapshot **out)
{
    jg_err err = jg_snapshot_map(path, limits, out);
    if (err)
        return err;
    if ((err = jg_snapshot_verify_step(*out, 0)) != JG_OK) {
        jg_snapshot_close(*out);
        *out = NULL;
    }
    return err;
}

void jg__snapshot_trust(jg_snapshot *s)
{
    if (s)
        s->verified = 1;
}

/* ---- Reading records ------------------------------------------------------------- */

static jg_err usable(const jg_snapshot *s)
{
    if (!s)
        return JG_ERR_INVALID_ARGUMENT;
    return s->verified ? JG_OK : JG_ERR_SNAPSHOT_UNVERIFIED;
}

static jg_err get_str(const jg_snapshot *s, snap_ref r, jg_snap_str *out)
{
    jg_err err = check_string(s, r);
    if (err)
        return err;
    out->ptr = (const char *)s->base + s->sec[SNAP_STRINGS].offset + r.off;
    out->len = r.len;
    return JG_OK;
}

static void read_record(const jg_snapshot *s, int id, uint32_t i, void *out)
{
    memcpy(out, s->base + s->sec[id].offset + (size_t)i * record_size[id], record_size[id]);
}

static jg_err check_scopes(const jg_snapshot *s, uint32_t first, uint32_t n)
{
    return (uint64_t)first + n <= s->sec[SNAP_SCOPES].count ? JG_OK : JG_ERR_SNAPSHOT_FORMAT;
}

jg_err jg_snapshot_get_info(const jg_snapshot *s, jg_snapshot_info *out)
{
    if (!s || !out)
        return JG_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->version = s->hdr.version;
    out->generated_at = s->hdr.generated_at;
    out->token_ttl = s->hdr.token_ttl;
    memcpy(out->db_id, s->hdr.db_id, sizeof out->db_id);
    out->file_size = s->len;
    out->apis = s->sec[SNAP_APIS].count;
    out->subscriptions = s->sec[SNAP_SUBS].count;
    out->revoked = s->sec[SNAP_REVOKED].count;
    out->suspended = s->sec[SNAP_SUSPENDED].count;
    out->over_quota = s->sec[SNAP_OVERQUOTA].count;
    return get_str(s, s->hdr.issuer, &out->issuer); /* checked at opening */
}

jg_err jg_snapshot_keys(const jg_snapshot *s, jg_snap_str *decryption, jg_snap_str *verification,
                        jg_snap_str *keys_info)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!decryption || !verification || !keys_info)
        return JG_ERR_INVALID_ARGUMENT;
    snap_keys k;
    read_record(s, SNAP_KEYS, 0, &k);
    if ((err = get_str(s, k.decryption, decryption)) ||
        (err = get_str(s, k.verification, verification)) || (err = get_str(s, k.info, keys_info)))
        return err;
    return JG_OK;
}

jg_err jg_snapshot_api(const jg_snapshot *s, uint32_t index, jg_snap_api *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!out)
        return JG_ERR_INVALID_ARGUMENT;
    if (index >= s->sec[SNAP_APIS].count)
        return JG_ERR_NOT_FOUND;
    snap_api a;
    read_record(s, SNAP_APIS, index, &a);
    memset(out, 0, sizeof *out);
    if (a.state > JG_API_RETIRED || a.binding > JG_API_BIND_ANY ||
        check_scopes(s, a.scopes_first, a.nscopes))
        return JG_ERR_SNAPSHOT_FORMAT;
    if ((err = get_str(s, a.id, &out->id)) || (err = get_str(s, a.tenant_id, &out->tenant_id)) ||
        (err = get_str(s, a.name, &out->name)) || (err = get_str(s, a.version, &out->version)) ||
        (err = get_str(s, a.base_path, &out->base_path)) ||
        (err = get_str(s, a.upstream, &out->upstream)) ||
        (err = get_str(s, a.audience, &out->audience)))
        return err;
    out->index = index;
    out->state = (jg_api_state)a.state;
    out->require_binding = (jg_api_binding)a.binding;
    out->sunset = a.sunset;
    out->deprecated_at = a.deprecated_at;
    out->nscopes = a.nscopes;
    out->scopes_ref_ = a.scopes_first;
    return JG_OK;
}

/*
 * Probe index `id` for hash `h`: calls match(ctx, record) for each slot
 * whose stored hash agrees, until it says 1 (then *found) or the probe
 * bound is reached. JG_ERR_NOT_FOUND, or match's error.
 */
typedef jg_err (*match_fn)(const jg_snapshot *s, const void *ctx, uint32_t record, int *yes);

static jg_err probe(const jg_snapshot *s, int id, uint64_t h, match_fn match, const void *ctx,
                    uint32_t *found)
{
    const snap_section *ix = &s->sec[id];
    uint32_t nrec = s->sec[index_of(id)].count;
    if (!ix->count)
        return JG_ERR_NOT_FOUND;
    uint32_t mask = ix->count - 1;
    for (uint32_t i = 0; i < ix->aux; i++) {
        snap_slot slot;
        memcpy(&slot, s->base + ix->offset + (size_t)(((uint32_t)h + i) & mask) * sizeof slot,
               sizeof slot);
        if (!slot.index1)
            return JG_ERR_NOT_FOUND;
        if (slot.hash != (uint32_t)h || slot.index1 - 1 >= nrec)
            continue;
        int yes = 0;
        jg_err err = match(s, ctx, slot.index1 - 1, &yes);
        if (err)
            return err;
        if (yes) {
            *found = slot.index1 - 1;
            return JG_OK;
        }
    }
    return JG_ERR_NOT_FOUND;
}

typedef struct bytes {
    const char *p;
    size_t len;
} bytes;

static int str_is(jg_snap_str v, const char *p, size_t len)
{
    return v.len == len && (len == 0 || memcmp(v.ptr, p, len) == 0);
}

static jg_err match_api_path(const jg_snapshot *s, const void *ctx, uint32_t i, int *yes)
{
    const bytes *k = ctx;
    snap_api a;
    jg_snap_str path;
    read_record(s, SNAP_APIS, i, &a);
    jg_err err = get_str(s, a.base_path, &path);
    if (err)
        return err;
    *yes = str_is(path, k->p, k->len);
    return JG_OK;
}

static jg_err find_api_path(const jg_snapshot *s, const char *p, size_t len, uint32_t *found)
{
    bytes k = {p, len};
    return probe(s, SNAP_API_INDEX, jg__siphash24(s->hdr.hash_key, p, len), match_api_path, &k,
                 found);
}

jg_err jg_snapshot_route(const jg_snapshot *s, const char *path, size_t len, jg_snap_api *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!path || !out)
        return JG_ERR_INVALID_ARGUMENT;
    /* Longest first: the whole path, then at each '/' from the right the
     * prefix with the slash (a base_path ending in "/") and without it. */
    uint32_t found = 0;
    if (len && (err = find_api_path(s, path, len, &found)) != JG_ERR_NOT_FOUND)
        return err ? err : jg_snapshot_api(s, found, out);
    for (size_t i = len; i-- > 0;) {
        if (path[i] != '/')
            continue;
        if (i + 1 < len && (err = find_api_path(s, path, i + 1, &found)) != JG_ERR_NOT_FOUND)
            return err ? err : jg_snapshot_api(s, found, out);
        if (i > 0 && (err = find_api_path(s, path, i, &found)) != JG_ERR_NOT_FOUND)
            return err ? err : jg_snapshot_api(s, found, out);
    }
    return JG_ERR_NOT_FOUND;
}

static jg_err scope_at(const jg_snapshot *s, uint32_t first, uint32_t n, uint32_t i,
                       jg_snap_str *out)
{
    if (i >= n)
        return JG_ERR_NOT_FOUND;
    if (check_scopes(s, first, n))
        return JG_ERR_SNAPSHOT_FORMAT;
    snap_ref r;
    read_record(s, SNAP_SCOPES, first + i, &r);
    return get_str(s, r, out);
}

jg_err jg_snapshot_api_scope(const jg_snapshot *s, const jg_snap_api *api, uint32_t i,
                             jg_snap_str *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!api || !out)
        return JG_ERR_INVALID_ARGUMENT;
    return scope_at(s, api->scopes_ref_, api->nscopes, i, out);
}

jg_err jg_snapshot_sub_scope(const jg_snapshot *s, const jg_snap_sub *sub, uint32_t i,
                             jg_snap_str *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!sub || !out)
        return JG_ERR_INVALID_ARGUMENT;
    return scope_at(s, sub->scopes_ref_, sub->nscopes, i, out);
}

static int has_scope(const jg_snapshot *s, uint32_t first, uint32_t n, const char *scope,
                     size_t len)
{
    if (usable(s) || !scope)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        jg_snap_str v;
        if (scope_at(s, first, n, i, &v))
            return 0;
        if (str_is(v, scope, len))
            return 1;
    }
    return 0;
}

int jg_snapshot_api_has_scope(const jg_snapshot *s, const jg_snap_api *api, const char *scope,
                              size_t len)
{
    return api && has_scope(s, api->scopes_ref_, api->nscopes, scope, len);
}

int jg_snapshot_sub_has_scope(const jg_snapshot *s, const jg_snap_sub *sub, const char *scope,
                              size_t len)
{
    return sub && has_scope(s, sub->scopes_ref_, sub->nscopes, scope, len);
}

static jg_err sub_fill(const jg_snapshot *s, uint32_t i, jg_snap_sub *out)
{
    snap_sub r;
    read_record(s, SNAP_SUBS, i, &r);
    memset(out, 0, sizeof *out);
    if (r.api_index >= s->sec[SNAP_APIS].count || check_scopes(s, r.scopes_first, r.nscopes))
        return JG_ERR_SNAPSHOT_FORMAT;
    jg_err err;
    if ((err = get_str(s, r.id, &out->id)) || (err = get_str(s, r.client_id, &out->client_id)))
        return err;
    out->api_index = r.api_index;
    out->nscopes = r.nscopes;
    out->scopes_ref_ = r.scopes_first;
    out->limits_ref_ = r.limits1;
    return JG_OK;
}

typedef struct sub_key {
    const char *client_id;
    size_t len;
    uint32_t api_index;
} sub_key;

static jg_err match_sub(const jg_snapshot *s, const void *ctx, uint32_t i, int *yes)
{
    const sub_key *k = ctx;
    snap_sub r;
    jg_snap_str cid;
    read_record(s, SNAP_SUBS, i, &r);
    jg_err err = get_str(s, r.client_id, &cid);
    if (err)
        return err;
    *yes = r.api_index == k->api_index && str_is(cid, k->client_id, k->len);
    return JG_OK;
}

jg_err jg_snapshot_subscription(const jg_snapshot *s, const char *client_id, size_t len,
                                uint32_t api_index, jg_snap_sub *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!client_id || !out)
        return JG_ERR_INVALID_ARGUMENT;
    sub_key k = {client_id, len, api_index};
    uint32_t found = 0;
    err = probe(s, SNAP_SUB_INDEX, jg__snap_sub_hash(s->hdr.hash_key, client_id, len, api_index),
                match_sub, &k, &found);
    return err ? err : sub_fill(s, found, out);
}

jg_err jg_snapshot_subscription_at(const jg_snapshot *s, uint32_t i, jg_snap_sub *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!out)
        return JG_ERR_INVALID_ARGUMENT;
    if (i >= s->sec[SNAP_SUBS].count)
        return JG_ERR_NOT_FOUND;
    return sub_fill(s, i, out);
}

/* REVOKED and SUSPENDED records start with the key's string reference. */
static jg_err match_first_ref(const jg_snapshot *s, int rec_id, const bytes *k, uint32_t i,
                              int *yes)
{
    snap_ref r;
    jg_snap_str v;
    memcpy(&r, s->base + s->sec[rec_id].offset + (size_t)i * record_size[rec_id], sizeof r);
    jg_err err = get_str(s, r, &v);
    if (err)
        return err;
    *yes = str_is(v, k->p, k->len);
    return JG_OK;
}

static jg_err match_revoked(const jg_snapshot *s, const void *ctx, uint32_t i, int *yes)
{
    return match_first_ref(s, SNAP_REVOKED, ctx, i, yes);
}

static jg_err match_suspended(const jg_snapshot *s, const void *ctx, uint32_t i, int *yes)
{
    return match_first_ref(s, SNAP_SUSPENDED, ctx, i, yes);
}

int jg_snapshot_is_revoked(const jg_snapshot *s, const char *jti, size_t len)
{
    uint32_t found = 0;
    bytes k = {jti, len};
    return !usable(s) && jti &&
           probe(s, SNAP_REVOKED_INDEX, jg__siphash24(s->hdr.hash_key, jti, len), match_revoked, &k,
                 &found) == JG_OK;
}

int jg_snapshot_is_suspended(const jg_snapshot *s, const char *client_id, size_t len)
{
    uint32_t found = 0;
    bytes k = {client_id, len};
    return !usable(s) && client_id &&
           probe(s, SNAP_SUSPENDED_INDEX, jg__siphash24(s->hdr.hash_key, client_id, len),
                 match_suspended, &k, &found) == JG_OK;
}

jg_err jg_snapshot_revoked_at(const jg_snapshot *s, uint32_t i, jg_snap_str *jti, int64_t *exp)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!jti || !exp)
        return JG_ERR_INVALID_ARGUMENT;
    if (i >= s->sec[SNAP_REVOKED].count)
        return JG_ERR_NOT_FOUND;
    snap_revoked r;
    read_record(s, SNAP_REVOKED, i, &r);
    *exp = r.exp;
    return get_str(s, r.jti, jti);
}

jg_err jg_snapshot_suspended_at(const jg_snapshot *s, uint32_t i, jg_snap_str *client_id)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!client_id)
        return JG_ERR_INVALID_ARGUMENT;
    if (i >= s->sec[SNAP_SUSPENDED].count)
        return JG_ERR_NOT_FOUND;
    snap_ref r;
    read_record(s, SNAP_SUSPENDED, i, &r);
    return get_str(s, r, client_id);
}

/* ---- LLM APIs -------------------------------------------------------------------- */

jg_err jg_snapshot_llm(const jg_snapshot *s, jg_snap_str *json)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!json)
        return JG_ERR_INVALID_ARGUMENT;
    if (!s->sec[SNAP_LLM].count) {
        json->ptr = "";
        json->len = 0;
        return JG_OK;
    }
    snap_ref r;
    read_record(s, SNAP_LLM, 0, &r);
    return get_str(s, r, json);
}

jg_err jg_snapshot_sub_limits(const jg_snapshot *s, const jg_snap_sub *sub, jg_snap_limits *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!sub || !out)
        return JG_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!sub->limits_ref_)
        return JG_ERR_NOT_FOUND;
    if (sub->limits_ref_ - 1 >= s->sec[SNAP_LIMITS].count)
        return JG_ERR_SNAPSHOT_FORMAT;
    snap_limits r;
    read_record(s, SNAP_LIMITS, sub->limits_ref_ - 1, &r);
    if ((uint64_t)r.models_first + r.nmodels > s->sec[SNAP_MODEL_LIMITS].count)
        return JG_ERR_SNAPSHOT_FORMAT;
    out->requests_per_minute = r.requests_per_minute;
    out->tokens_per_minute = r.tokens_per_minute;
    out->tokens_per_day = r.tokens_per_day;
    out->input_weight_milli = r.input_weight_milli;
    out->output_weight_milli = r.output_weight_milli;
    out->nmodels = r.nmodels;
    out->models_first_ = r.models_first;
    return JG_OK;
}

jg_err jg_snapshot_limits_model_at(const jg_snapshot *s, const jg_snap_limits *l, uint32_t i,
                                   jg_snap_model_limits *out)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!l || !out)
        return JG_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (i >= l->nmodels)
        return JG_ERR_NOT_FOUND;
    if ((uint64_t)l->models_first_ + l->nmodels > s->sec[SNAP_MODEL_LIMITS].count)
        return JG_ERR_SNAPSHOT_FORMAT;
    snap_model_limits r;
    read_record(s, SNAP_MODEL_LIMITS, l->models_first_ + i, &r);
    out->requests_per_minute = r.requests_per_minute;
    out->tokens_per_minute = r.tokens_per_minute;
    out->tokens_per_day = r.tokens_per_day;
    return get_str(s, r.model, &out->model);
}

jg_err jg_snapshot_limits_model(const jg_snapshot *s, const jg_snap_limits *l, const char *model,
                                size_t len, jg_snap_model_limits *out)
{
    if (!model)
        return JG_ERR_INVALID_ARGUMENT;
    for (uint32_t i = 0;; i++) {
        jg_err err = jg_snapshot_limits_model_at(s, l, i, out);
        if (err)
            return err;
        if (str_is(out->model, model, len))
            return JG_OK;
    }
}

/* Collects every matching entry: the index may hold one per model. */
typedef struct oq_hit {
    int64_t until;
    int hit;
} oq_hit;

typedef struct oq_probe {
    const char *client_id, *model;
    size_t len, model_len;
    uint32_t api_index;
    int64_t now;
    oq_hit *out;
} oq_probe;

static jg_err match_overquota(const jg_snapshot *s, const void *ctx, uint32_t i, int *yes)
{
    const oq_probe *k = ctx;
    snap_overquota r;
    jg_snap_str cid, model;
    read_record(s, SNAP_OVERQUOTA, i, &r);
    jg_err err;
    if ((err = get_str(s, r.client_id, &cid)) || (err = get_str(s, r.model, &model)))
        return err;
    *yes = 0; /* keep probing: the whole cluster of this key */
    if (r.api_index != k->api_index || !str_is(cid, k->client_id, k->len) || r.until <= k->now)
        return JG_OK;
    if (model.len && (!k->model || !str_is(model, k->model, k->model_len)))
        return JG_OK;
    if (!k->out->hit || r.until > k->out->until)
        k->out->until = r.until;
    k->out->hit = 1;
    return JG_OK;
}

int jg_snapshot_overquota(const jg_snapshot *s, const char *client_id, size_t len,
                          uint32_t api_index, const char *model, size_t model_len, int64_t now,
                          int64_t *until)
{
    if (until)
        *until = 0;
    if (usable(s) || !client_id)
        return 0;
    oq_hit hit = {0, 0};
    oq_probe k = {client_id, model, len, model_len, api_index, now, &hit};
    uint32_t found = 0;
    if (probe(s, SNAP_OVERQUOTA_INDEX,
              jg__snap_sub_hash(s->hdr.hash_key, client_id, len, api_index), match_overquota, &k,
              &found) != JG_ERR_NOT_FOUND ||
        !hit.hit)
        return 0;
    if (until)
        *until = hit.until;
    return 1;
}

jg_err jg_snapshot_overquota_at(const jg_snapshot *s, uint32_t i, jg_snap_str *client_id,
                                uint32_t *api_index, jg_snap_str *model, int64_t *until)
{
    jg_err err = usable(s);
    if (err)
        return err;
    if (!client_id || !api_index || !model || !until)
        return JG_ERR_INVALID_ARGUMENT;
    if (i >= s->sec[SNAP_OVERQUOTA].count)
        return JG_ERR_NOT_FOUND;
    snap_overquota r;
    read_record(s, SNAP_OVERQUOTA, i, &r);
    if (r.api_index >= s->sec[SNAP_APIS].count)
        return JG_ERR_SNAPSHOT_FORMAT;
    *api_index = r.api_index;
    *until = r.until;
    if ((err = get_str(s, r.client_id, client_id)) || (err = get_str(s, r.model, model)))
        return err;
    return JG_OK;
}
