/*
 * zip.c — "zip":"DEF" (RFC 7516 section 4.1.3): raw DEFLATE (RFC 1951, zlib
 * windowBits -15). Inflation is bounded: it stops as soon as the output
 * would exceed the caller's limit, so a small token cannot make us allocate
 * or produce more than that (a DEFLATE bomb expands about 1000:1).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* next_in becomes a const pointer: zlib never writes the input. */
#define ZLIB_CONST
#include <zlib.h>

#include "jwe/jwe_internal.h"

jg_err jg__deflate(const unsigned char *in, size_t len, unsigned char **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (len > UINT_MAX)
        return JG_ERR_INVALID_ARGUMENT;
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return JG_ERR_NOMEM;
    size_t cap = deflateBound(&zs, (uLong)len);
    unsigned char *buf = malloc(cap > 0 ? cap : 1);
    if (buf == NULL) {
        deflateEnd(&zs);
        return JG_ERR_NOMEM;
    }
    zs.next_in = in;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t produced = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        jg_free_secret(buf, cap);
        return JG_ERR_CRYPTO;
    }
    *out = buf;
    *out_len = produced;
    return JG_OK;
}

jg_err jg__inflate(const unsigned char *in, size_t len, size_t max_len, unsigned char **out,
                   size_t *out_len, size_t *cap_out)
{
    if (len > UINT_MAX)
        return JG_ERR_ZIP_DATA;
    /* Room for max_len bytes, a NUL, and one more byte whose appearance
     * proves the limit was exceeded. */
    size_t hard_cap = max_len > SIZE_MAX - 2 ? SIZE_MAX : max_len + 2;
    size_t cap = len * 4 > 1024 ? len * 4 : 1024;
    if (cap > hard_cap)
        cap = hard_cap;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -15) != Z_OK)
        return JG_ERR_NOMEM;
    unsigned char *buf = malloc(cap);
    if (buf == NULL) {
        inflateEnd(&zs);
        return JG_ERR_NOMEM;
    }
    zs.next_in = in;
    zs.avail_in = (uInt)len;
    size_t produced = 0;
    jg_err err = JG_OK;
    for (;;) {
        /* Never let zlib write the final byte: it is kept for the NUL. */
        size_t room = cap - 1 - produced;
        zs.next_out = buf + produced;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        produced += before - zs.avail_out;
        if (produced > max_len) {
            err = JG_ERR_LIMIT_INFLATED;
            break;
        }
        if (rc == Z_STREAM_END) {
            if (zs.avail_in != 0)
                err = JG_ERR_ZIP_DATA; /* bytes after the end of the stream */
            break;
        }
        if (rc == Z_MEM_ERROR) {
            err = JG_ERR_NOMEM;
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            err = JG_ERR_ZIP_DATA;
            break;
        }
        if (zs.avail_out != 0) {
            /* zlib stopped with output room left: the input ran out before
             * the stream ended. */
            err = JG_ERR_ZIP_DATA;
            break;
        }
        if (cap == hard_cap) {
            err = JG_ERR_LIMIT_INFLATED; /* cannot happen: produced > max_len above */
            break;
        }
        /* Grow; the old buffer held plaintext, so it is wiped, not realloc'd. */
        size_t next = cap > hard_cap / 2 ? hard_cap : cap * 2;
        unsigned char *bigger = malloc(next);
        if (bigger == NULL) {
            err = JG_ERR_NOMEM;
            break;
        }
        memcpy(bigger, buf, produced);
        jg_free_secret(buf, cap);
        buf = bigger;
        cap = next;
    }
    inflateEnd(&zs);
    if (err != JG_OK) {
        jg_free_secret(buf, cap);
        return err;
    }
    buf[produced] = 0;
    *out = buf;
    *out_len = produced;
    *cap_out = cap;
    return JG_OK;
}
