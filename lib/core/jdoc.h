/*
 * jdoc.h — a small, strict, allocation-light JSON reader (internal).
 *
 * Tokens and claims are small JSON documents read once per request; building
 * a jansson tree for them costs a malloc per value and per key. jg__jdoc_parse
 * reads a document into one flat array of nodes plus one pool holding every
 * decoded string, NUL-terminated: three allocations whatever the document.
 *
 * Strict (RFC 8259, and what jansson refused before, so behaviour does not
 * change): one value with only JSON whitespace around it; no duplicate
 * member names in any object; strings of valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without raw control characters, with
 * paired \u surrogate escapes and no \u0000 (strings are handed out as C
 * strings); numbers in JSON syntax, integers (no fraction or exponent) within
 * int64_t and reals finite; nesting at most `max_depth` deep (and never more
 * than JG__JDOC_MAX_DEPTH). The reader is iterative: hostile nesting costs
 * heap, never stack.
 *
 * Layout: nodes are stored in document order. A container's members follow
 * it; `end` is the index just past a node's whole subtree, so a reader skips
 * a value in one step. An object's members are pairs: a STRING node for the
 * name, then the value. The root is node 0.
 *
 * A document is immutable once parsed; many threads may read it at once.
 */
#ifndef JG_LIB_CORE_JDOC_H
#define JG_LIB_CORE_JDOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jwtgate/error.h"

/* jansson's own hard limit, kept so that no document that used to be
 * refused is now accepted (and conversions stay shallow). */
#define JG__JDOC_MAX_DEPTH 2048u

typedef enum jg__jtype {
    JG__J_NULL = 0,
    JG__J_FALSE,
    JG__J_TRUE,
    JG__J_INT,  /* integer literal: num.i */
    JG__J_REAL, /* literal with a fraction or exponent: num.d */
    JG__J_STRING,
    JG__J_ARRAY,
    JG__J_OBJECT
} jg__jtype;

typedef struct jg__jnode {
    uint8_t type; /* jg__jtype */
    uint32_t end; /* index just past this node's subtree */
    uint32_t len; /* STRING: bytes without the NUL; ARRAY/OBJECT: elements/members */
    uint32_t str; /* STRING: offset of its bytes in the pool */
    union {
        int64_t i;
        double d;
    } num;
} jg__jnode;

typedef struct jg__jdoc {
    jg__jnode *nodes;
    uint32_t count;     /* nodes in use */
    char *pool;         /* decoded strings, each followed by a NUL */
    uint32_t pool_size; /* bytes of the pool, all wiped by jg__jdoc_free() */
} jg__jdoc;

/*
 * Parse `len` bytes (no NUL needed). `max_depth` 0 means the default
 * (JG_DEFAULT_MAX_JSON_DEPTH). On success *out is a new document to release
 * with jg__jdoc_free(). Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM,
 * JG_ERR_JSON_SYNTAX, JG_ERR_JSON_DUPLICATE, JG_ERR_LIMIT_JSON_DEPTH,
 * JG_ERR_LIMIT_JSON_SIZE (more than 2^31 bytes).
 */
jg_err jg__jdoc_parse(const char *text, size_t len, unsigned max_depth, jg__jdoc **out);

/* Release a document, zeroing its strings first: documents hold private JWK
 * members and decrypted claims. NULL is a no-op. */
void jg__jdoc_free(jg__jdoc *doc);

/* The value of member `name` of the object at `obj`, or 0 when absent (or
 * when `obj` is not an object: 0 is the root, never a member). */
uint32_t jg__jdoc_get(const jg__jdoc *doc, uint32_t obj, const char *name);

/* The bytes of the STRING node `idx` (NUL-terminated), or NULL if it is not
 * a string. */
const char *jg__jdoc_str(const jg__jdoc *doc, uint32_t idx);

/*
 * Whether the objects at `a_obj` of `a` and `b_obj` of `b` have a member name
 * in common: 1 yes, 0 no, -1 no memory. Cost O((m + n) log(m + n)) for large
 * objects (hostile headers may have thousands of members), pairwise below.
 */
int jg__jdoc_share_name(const jg__jdoc *a, uint32_t a_obj, const jg__jdoc *b, uint32_t b_obj);

/* The `i`-th element of the array at `arr`, or 0 when out of range. */
uint32_t jg__jdoc_at(const jg__jdoc *doc, uint32_t arr, uint32_t i);

/*
 * An integer from a number node, as jg__json_int_exact(): integers, and reals
 * with no fractional part within int64_t. Errors: JG_ERR_JSON_TYPE (not a
 * number), JG_ERR_JSON_NUMBER.
 */
jg_err jg__jdoc_int_exact(const jg__jdoc *doc, uint32_t idx, int64_t *out);

/* The subtree at `idx` as a new jansson value (members in document order).
 * Errors: JG_ERR_NOMEM. */
jg_err jg__jdoc_to_json(const jg__jdoc *doc, uint32_t idx, json_t **out);

#endif /* JG_LIB_CORE_JDOC_H */
