/*
 * base64url.c — strict base64url (include/jwtgate/base64url.h).
 *
 * Decoding is table driven: each input byte maps to its 6-bit value, or to a
 * marker for "not in the alphabet". Four characters become three bytes; the
 * tail of 2 or 3 characters must have its unused low bits zero, so the
 * encoding of any byte string is unique.
 */
#include "jwtgate/base64url.h"

#include <stdint.h>
#include <stdlib.h>

#include "jwtgate/common.h"

static const char b64url_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define BAD 0xFFu

/* Value of each byte in the alphabet, BAD otherwise (rows of 16). */
/* clang-format off */
static const uint8_t b64url_value[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD,  63,
    BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};
/* clang-format on */

size_t jg_b64url_encode(const void *in, size_t len, char *out)
{
    const unsigned char *src = in;
    size_t i = 0, o = 0;

    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

/* The most specific error for a byte that is not in the alphabet. */
static jg_err bad_char_error(const unsigned char *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (src[i] == '=')
            return JG_ERR_B64_PADDING;
    return JG_ERR_B64_CHAR;
}

jg_err jg_b64url_decode(const char *in, size_t len, void *out, size_t *out_len)
{
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *dst = out;
    size_t i = 0, o = 0;

    if ((in == NULL && len > 0) || out == NULL || out_len == NULL)
        return JG_ERR_INVALID_ARGUMENT;

    for (; i + 4 <= len; i += 4) {
        uint32_t a = b64url_value[src[i]], b = b64url_value[src[i + 1]];
        uint32_t c = b64url_value[src[i + 2]], d = b64url_value[src[i + 3]];
        if ((a | b | c | d) & 0xC0u)
            return bad_char_error(src + i, len - i);
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        dst[o++] = (unsigned char)(v >> 16);
        dst[o++] = (unsigned char)(v >> 8);
        dst[o++] = (unsigned char)v;
    }

    switch (len - i) {
    case 0:
        break;
    case 1:
        /* A single character carries 6 bits: never a whole byte. */
        if (b64url_value[src[i]] == BAD)
            return bad_char_error(src + i, 1);
        return JG_ERR_B64_LENGTH;
    case 2: {
        uint32_t a = b64url_value[src[i]], b = b64url_value[src[i + 1]];
        if ((a | b) & 0xC0u)
            return bad_char_error(src + i, 2);
        if (b & 0x0Fu)
            return JG_ERR_B64_NONCANONICAL;
        dst[o++] = (unsigned char)(a << 2 | b >> 4);
        break;
    }
    default: { /* 3 */
        uint32_t a = b64url_value[src[i]], b = b64url_value[src[i + 1]];
        uint32_t c = b64url_value[src[i + 2]];
        if ((a | b | c) & 0xC0u)
            return bad_char_error(src + i, 3);
        if (c & 0x03u)
            return JG_ERR_B64_NONCANONICAL;
        uint32_t v = a << 18 | b << 12 | c << 6;
        dst[o++] = (unsigned char)(v >> 16);
        dst[o++] = (unsigned char)(v >> 8);
        break;
    }
    }
    *out_len = o;
    return JG_OK;
}

jg_err jg_b64url_encode_alloc(const void *in, size_t len, char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    if ((in == NULL && len > 0) || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (len > (SIZE_MAX - 4) / 4 * 3)
        return JG_ERR_NOMEM;
    char *buf = malloc(JG_B64URL_ENCODED_LEN(len) + 1);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    size_t n = jg_b64url_encode(in, len, buf);
    *out = buf;
    if (out_len != NULL)
        *out_len = n;
    return JG_OK;
}

jg_err jg_b64url_decode_alloc(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out_len != NULL)
        *out_len = 0;
    if ((in == NULL && len > 0) || out == NULL || out_len == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    size_t cap = JG_B64URL_DECODED_MAX(len) + 1;
    unsigned char *buf = malloc(cap);
    if (buf == NULL)
        return JG_ERR_NOMEM;
    size_t n = 0;
    jg_err err = jg_b64url_decode(in, len, buf, &n);
    if (err != JG_OK) {
        jg_free_secret(buf, cap);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return JG_OK;
}
