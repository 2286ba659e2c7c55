/*
 * snap_format.h — the byte layout of a compiled snapshot (format 2) and the
 * hash both the builder and the reader use (internal).
 *
 * Every integer is little-endian and every section starts on an 8-byte
 * boundary. The file is:
 *
 *   snap_header | section table (SNAP_NSECTIONS x snap_section) | sections
 *
 * Records refer to strings by (offset, length) into STRINGS, where every
 * string is followed by a NUL; to scope lists by (first, count) into the
 * SCOPES array of string references; to APIs by index. Each hash index is a
 * power-of-two array of slots {record index + 1 (0: empty), 32 bits of the
 * key's hash}, filled by linear probing from hash & (nslots - 1); the builder
 * records the longest probe sequence it made (`aux` of the index section), so
 * a reader never probes further than that, and never more than nslots, even
 * in a hostile file. The hash is SipHash-2-4 under a per-file random key kept
 * in the header: the keys of the indexes (base paths, client ids) are chosen
 * by tenants, who must not be able to aim collisions at a gateway.
 *
 * Only this layout is shared: the builder (snap_build.c) writes it, the
 * reader (snap_read.c) checks every size, offset and reference it follows.
 */
#ifndef JG_LIB_SNAPSHOT_SNAP_FORMAT_H
#define JG_LIB_SNAPSHOT_SNAP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the compiled snapshot is read in place: this build supports little-endian hosts only"
#endif

#define SNAP_MAGIC     "JGSNAP\r\n"
#define SNAP_MAGIC_LEN 8

enum snap_section_id {
    SNAP_STRINGS = 0, /* the string pool */
    SNAP_KEYS,        /* one snap_keys record */
    SNAP_APIS,        /* snap_api records */
    SNAP_API_INDEX,   /* base_path -> API */
    SNAP_SCOPES,      /* snap_ref entries */
    SNAP_SUBS,        /* snap_sub records */
    SNAP_SUB_INDEX,   /* (client_id, api index) -> subscription */
    SNAP_REVOKED,     /* snap_revoked records */
    SNAP_REVOKED_INDEX,
    SNAP_SUSPENDED, /* snap_ref entries (client ids) */
    SNAP_SUSPENDED_INDEX,
    /* Added without a new format version (a reader of the first eleven
     * skips them; this reader takes a file without them as having none). */
    SNAP_LLM,             /* one snap_ref: the LLM configuration, JSON text */
    SNAP_LIMITS,          /* snap_limits records (a subscription's limits1 - 1) */
    SNAP_MODEL_LIMITS,    /* snap_model_limits records */
    SNAP_OVERQUOTA,       /* snap_overquota records */
    SNAP_OVERQUOTA_INDEX, /* (client_id, api index) -> entries; a key may repeat */
    SNAP_NSECTIONS
};
/* The sections every format-2 file has (those up to SUSPENDED_INDEX). */
#define SNAP_NSECTIONS_MIN (SNAP_SUSPENDED_INDEX + 1)
/* Sections a reader accepts in a file: the ones above, and up to this many in
 * all (newer ones, ignored: snap_read.c). */
#define SNAP_MAX_SECTIONS 64

typedef struct snap_ref {
    uint32_t off, len; /* into STRINGS; STRINGS[off + len] is a NUL */
} snap_ref;

typedef struct snap_section {
    uint64_t offset; /* from the start of the file; 8-byte aligned */
    uint64_t size;   /* bytes */
    uint32_t count;  /* records (index sections: slots) */
    uint32_t aux;    /* index sections: the longest probe sequence */
} snap_section;

typedef struct snap_header {
    char magic[SNAP_MAGIC_LEN];
    uint32_t format_version;
    uint32_t flags;       /* none defined: must be 0 */
    uint32_t header_size; /* sizeof(snap_header) + the section table */
    uint32_t nsections;
    uint64_t file_size;
    int64_t version;
    int64_t generated_at;
    int64_t token_ttl;
    uint8_t db_id[16];
    uint8_t hash_key[16];
    snap_ref issuer;
    uint8_t checksum[32]; /* SHA-256 of the file with this field zeroed */
} snap_header;

typedef struct snap_keys {
    snap_ref decryption, verification, info;
} snap_keys;

typedef struct snap_api {
    snap_ref id, tenant_id, name, version, base_path, upstream, audience;
    uint32_t state;
    uint32_t scopes_first, nscopes;
    uint32_t binding; /* jg_api_binding; was padding (0 = none) before it existed */
    int64_t sunset, deprecated_at;
} snap_api;

typedef struct snap_sub {
    snap_ref id, client_id;
    uint32_t api_index;
    uint32_t scopes_first, nscopes;
    uint32_t limits1; /* index into LIMITS + 1; 0: none (was padding, so 0 before limits) */
} snap_sub;

typedef struct snap_limits {
    int64_t requests_per_minute, tokens_per_minute, tokens_per_day; /* 0: none */
    uint32_t input_weight_milli, output_weight_milli;
    uint32_t models_first, nmodels; /* into MODEL_LIMITS */
} snap_limits;

typedef struct snap_model_limits {
    snap_ref model;
    int64_t requests_per_minute, tokens_per_minute, tokens_per_day;
} snap_model_limits;

typedef struct snap_overquota {
    snap_ref client_id;
    snap_ref model; /* len 0: the whole subscription */
    uint32_t api_index;
    uint32_t pad_;
    int64_t until;
} snap_overquota;

typedef struct snap_revoked {
    snap_ref jti;
    int64_t exp;
} snap_revoked;

typedef struct snap_slot {
    uint32_t index1; /* record index + 1; 0: empty */
    uint32_t hash;   /* low 32 bits of the key's hash */
} snap_slot;

_Static_assert(sizeof(snap_header) % 8 == 0, "header keeps sections aligned");
_Static_assert(sizeof(snap_section) == 24, "section table entry");
_Static_assert(sizeof(snap_api) % 8 == 0 && sizeof(snap_sub) % 8 == 0, "records aligned");
_Static_assert(sizeof(snap_revoked) == 16 && sizeof(snap_slot) == 8, "records aligned");
_Static_assert(sizeof(snap_limits) == 40 && sizeof(snap_model_limits) == 32 &&
                   sizeof(snap_overquota) == 32,
               "records aligned");

/* The checksum field's place, for hashing the header with it zeroed. */
#define SNAP_CHECKSUM_OFFSET offsetof(snap_header, checksum)

/* SipHash-2-4 of `len` bytes under a 16-byte key (siphash.c). */
uint64_t jg__siphash24(const uint8_t key[16], const void *data, size_t len);

/* The hash of a subscription's key: client_id, then the API index. */
uint64_t jg__snap_sub_hash(const uint8_t key[16], const char *client_id, size_t len,
                           uint32_t api_index);

#endif /* JG_LIB_SNAPSHOT_SNAP_FORMAT_H */
