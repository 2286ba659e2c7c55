/*
 * util.h — small helpers of jwtgated: random identifiers and secrets,
 * hashing of secrets, time, bounded string building.
 */
#ifndef JGD_UTIL_H
#define JGD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Seconds since the epoch (plus the test clock's offset, below). */
int64_t sv_now(void);
/* The test clock (jwtgated serve --test-clock-file, for tests only): sv_now()
 * runs `seconds` ahead of the real clock. 0 (the default) is the real clock.
 * Thread-safe. */
void sv_set_clock_offset(int64_t seconds);
int64_t sv_clock_offset(void);
/* Monotonic clock in seconds (for latency and throttling). */
double sv_mono(void);

/* Fill `buf` with `len` bytes from the CSPRNG. 0 or -1. */
int sv_random(void *buf, size_t len);

/*
 * A new identifier: `prefix` + base64url of `nbytes` random bytes
 * (e.g. "api_" + 16 bytes). malloc'd; NULL on failure.
 */
char *sv_new_id(const char *prefix, size_t nbytes);

/*
 * A new secret with `prefix` and 256 bits of entropy (base64url). malloc'd;
 * the caller frees with jg_free_secret(). NULL on failure.
 */
char *sv_new_secret(const char *prefix);

/*
 * SHA-256 of `len` bytes, base64url (43 characters + NUL) into `out`.
 * Secrets are 256-bit random values, so a fast hash is enough: no password
 * stretching is needed when the input cannot be guessed.
 */
int sv_hash_b64(const void *data, size_t len, char out[44]);

/* A growing string buffer for response bodies. */
typedef struct sv_buf {
    char *data;
    size_t len, cap;
    int failed;
} sv_buf;
void sv_buf_add(sv_buf *b, const char *s, size_t len);
void sv_buf_puts(sv_buf *b, const char *s);
void sv_buf_printf(sv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take the string (NUL-terminated) out of the buffer; NULL if it failed. */
char *sv_buf_take(sv_buf *b, size_t *len);

/* Whether `s` is a plausible absolute URI (scheme ":" ...; no fragment). */
int sv_is_absolute_uri(const char *s);
/* Whether `s` is an RFC 6749 scope token (NQCHAR: %x21 / %x23-5B / %x5D-7E). */
int sv_is_scope_token(const char *s);
/* Whether `s` is a name made of [A-Za-z0-9._-], 1..max characters. */
int sv_is_simple_name(const char *s, size_t max);
/* At most `size` - 1 bytes of `s` into `out`, bytes outside printable ASCII
 * as '?' (a name from outside, e.g. a kid, made safe for a log line). */
void sv_printable(char *out, size_t size, const char *s);

/* Read a whole file (at most `max` bytes); malloc'd, NUL-terminated. */
char *sv_read_file(const char *path, size_t max, size_t *len);

#endif
