/*
 * jwtgate/common.h — conventions shared by every part of libjwtgate:
 * memory ownership, resource limits, serialization formats, version.
 *
 * Memory: every string or buffer the library hands out through an `out`
 * parameter is allocated with malloc() and belongs to the caller, who releases
 * it with jg_free() — or with jg_free_secret() when it may hold key material
 * (private JWKs, PEM private keys, decrypted payloads). Objects (jg_jwk,
 * jg_jwks, jg_claims, ...) have their own *_free functions. Borrowed pointers
 * (`const char *` results of accessors) live as long as the object they were
 * read from.
 *
 * Failure: a function that fails returns a jg_err other than JG_OK and sets
 * every pointer out-parameter it was given (`T **out`, `const char **out`,
 * `char **out`) to NULL, and the length that goes with it (`*out_len`), where
 * there is one, to 0, so that a caller who frees or tests *out after any
 * return does the right thing. Out-parameters that are values (a set, a
 * number, a struct) are written only on success. Functions whose result must
 * not be ignored (every verify, decrypt, open, parse and import) are marked
 * JG_NODISCARD: a compiler that knows the attribute warns about a call whose
 * jg_err is dropped (a cast to void does not silence it: test the value).
 *
 * Threads: the library has no global state of its own. Immutable objects
 * (keys, key sets, verified results) may be read from many threads at once;
 * builders must not be shared while being changed.
 */
#ifndef JWTGATE_COMMON_H
#define JWTGATE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/error.h"
#include "jwtgate/version.h" /* JG_VERSION_*, configured by CMake */

#ifdef __cplusplus
extern "C" {
#endif

/* JG_NODISCARD — the result must be used (see "Failure" above). Expands to
 * nothing on compilers without the attribute; define it before including a
 * jwtgate header to override. */
#ifndef JG_NODISCARD
#if defined(__GNUC__) || defined(__clang__)
#define JG_NODISCARD __attribute__((warn_unused_result))
#else
#define JG_NODISCARD
#endif
#endif

/* jg_version — the library's version string at run time (JG_VERSION_STRING
 * of the build that made it). Static; thread-safe. */
const char *jg_version(void);

/* jg_free — release memory returned by the library. NULL is a no-op. */
void jg_free(void *ptr);

/*
 * jg_free_secret — zero `len` bytes then release them. For NUL-terminated
 * strings pass len 0 and the string length is used. NULL is a no-op.
 */
void jg_free_secret(void *ptr, size_t len);

/*
 * jg_memzero — zero memory in a way the compiler cannot remove.
 */
void jg_memzero(void *ptr, size_t len);

/*
 * jg_memeq_consttime — 1 if the two buffers of `len` bytes are equal, else 0,
 * in time that depends only on `len`. For MACs, tags and secrets.
 */
int jg_memeq_consttime(const void *a, const void *b, size_t len);

/*
 * Limits on the work hostile input can cause. Start from jg_limits_default()
 * and change the fields you need; every API that takes a `const jg_limits *`
 * uses the defaults when given NULL.
 */
typedef struct jg_limits {
    size_t max_token_len;     /* whole token, bytes. Default 262144 (256 KiB) */
    size_t max_header_len;    /* one decoded header, bytes. Default 8192 */
    size_t max_payload_len;   /* decoded payload/claims, bytes. Default 262144 */
    unsigned max_json_depth;  /* nesting of arrays/objects. Default 32 */
    unsigned max_signatures;  /* JWS JSON "signatures". Default 16 */
    unsigned max_recipients;  /* JWE JSON "recipients". Default 16 */
    unsigned max_keys;        /* keys in a JWKS. Default 1024 */
    uint32_t max_pbes2_count; /* PBES2 "p2c" accepted. Default 10000 */
    size_t max_inflated_len;  /* "zip":"DEF" output; 0 refuses zip. Default 250000 */
} jg_limits;

#define JG_DEFAULT_MAX_TOKEN_LEN    262144u
#define JG_DEFAULT_MAX_HEADER_LEN   8192u
#define JG_DEFAULT_MAX_PAYLOAD_LEN  262144u
#define JG_DEFAULT_MAX_JSON_DEPTH   32u
#define JG_DEFAULT_MAX_SIGNATURES   16u
#define JG_DEFAULT_MAX_RECIPIENTS   16u
#define JG_DEFAULT_MAX_KEYS         1024u
#define JG_DEFAULT_MAX_PBES2_COUNT  10000u
#define JG_DEFAULT_MAX_INFLATED_LEN 250000u

/* jg_limits_default — the defaults above. Thread-safe; never fails. */
jg_limits jg_limits_default(void);

/* Serialization of a JWS or JWE. */
typedef enum jg_format {
    JG_FORMAT_COMPACT = 0, /* header.payload.signature / five parts */
    JG_FORMAT_FLATTENED,   /* JSON with one signature or recipient */
    JG_FORMAT_GENERAL      /* JSON with "signatures" / "recipients" arrays */
} jg_format;

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_COMMON_H */
