/*
 * jwtgate/base64url.h — strict base64url (RFC 4648 section 5, RFC 7515 section 2).
 *
 * Decoding is strict: no '=' padding, no whitespace or line breaks, no
 * characters of standard base64 ('+', '/'), and the unused low bits of the
 * last character must be zero, so that every byte string has exactly one
 * accepted encoding (tokens cannot be altered without changing their bytes).
 */
#ifndef JWTGATE_BASE64URL_H
#define JWTGATE_BASE64URL_H

#include <stddef.h>

#include "jwtgate/common.h"
#include "jwtgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exact encoded length of `len` bytes (no padding). */
#define JG_B64URL_ENCODED_LEN(len) (((len) / 3u) * 4u + (((len) % 3u) ? ((len) % 3u) + 1u : 0u))
/* Upper bound of the decoded length of `len` characters. */
#define JG_B64URL_DECODED_MAX(len) (((len) / 4u) * 3u + 2u)

/*
 * jg_b64url_encode — encode `len` bytes into `out`, which must have room for
 * JG_B64URL_ENCODED_LEN(len) + 1 bytes (a NUL is written). Returns the
 * encoded length (without the NUL). Never fails; thread-safe.
 */
size_t jg_b64url_encode(const void *in, size_t len, char *out);

/*
 * jg_b64url_decode — decode `len` characters into `out`, which must have room
 * for JG_B64URL_DECODED_MAX(len) bytes; *out_len receives the decoded length.
 * Thread-safe. Errors: JG_ERR_INVALID_ARGUMENT (NULL), JG_ERR_B64_PADDING,
 * JG_ERR_B64_CHAR, JG_ERR_B64_LENGTH, JG_ERR_B64_NONCANONICAL. On error the
 * contents of `out` are unspecified.
 */
JG_NODISCARD jg_err jg_b64url_decode(const char *in, size_t len, void *out, size_t *out_len);

/*
 * jg_b64url_encode_alloc / jg_b64url_decode_alloc — the same into a fresh
 * buffer the caller frees with jg_free() (decode: jg_free_secret() if the
 * bytes are secret). The encoded string is NUL-terminated; the decoded buffer
 * also gets a NUL after its last byte for convenience.
 * Errors: as above plus JG_ERR_NOMEM.
 */
jg_err jg_b64url_encode_alloc(const void *in, size_t len, char **out, size_t *out_len);
JG_NODISCARD jg_err jg_b64url_decode_alloc(const char *in, size_t len, unsigned char **out,
                                           size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* JWTGATE_BASE64URL_H */
