/*
 * htu.c — the normal form in which DPoP "htu" values and request URIs are
 * compared (jg_dpop_htu_normalize), RFC 9449 section 4.3 with the syntax-
 * and scheme-based normalisations of RFC 3986 sections 6.2.2 and 6.2.3.
 *
 * The URI is read once, left to right, into the caller's buffer: no
 * allocation, work linear in its length, which is bounded first. What is
 * not plainly an absolute http(s) URI with a host is refused rather than
 * repaired: two readers of a strange URI may disagree on what it names.
 */
#include <string.h>

#include "jwtgate/dpop.h"

/* RFC 3986 unreserved and sub-delims (the characters of a reg-name, and of
 * a path segment with ':' and '@' added). */
static int unreserved_or_sub(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL;
}

static int hexdig(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned char upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* A writer into the caller's buffer: `len` counts every byte put, the
 * buffer holds those that fit (with room for the NUL). */
typedef struct out_buf {
    char *p;
    size_t cap, len;
} out_buf;

static void put(out_buf *o, unsigned char c)
{
    if (o->len + 1 < o->cap)
        o->p[o->len] = (char)c;
    o->len++;
}

/* A percent-encoding at s[i] (the '%'), hex digits upper-cased; 0 if bad. */
static int put_pct(out_buf *o, const unsigned char *s, size_t len, size_t i)
{
    if (len < 3 || i > len - 3)
        return 0;
    if (!hexdig(s[i + 1]) || !hexdig(s[i + 2]))
        return 0;
    put(o, '%');
    put(o, upper(s[i + 1]));
    put(o, upper(s[i + 2]));
    return 1;
}

/* The normal form into out (cap >= 1); on failure out holds garbage. */
static jg_err normalize(const char *uri, size_t len, int strip_query, char *out, size_t cap,
                        size_t *out_len)
{
    if (len > JG_DPOP_MAX_HTU_LEN)
        return JG_ERR_DPOP_HTU_INVALID;
    const unsigned char *s = (const unsigned char *)uri;
    out_buf o = {out, cap, 0};
    size_t i = 0;

    /* Scheme: "http" or "https", any case, then "://" (a host is required). */
    size_t scheme_end = 0;
    while (scheme_end < len && s[scheme_end] != ':')
        scheme_end++;
    int https;
    if (scheme_end == 4 && lower(s[0]) == 'h' && lower(s[1]) == 't' && lower(s[2]) == 't' &&
        lower(s[3]) == 'p')
        https = 0;
    else if (scheme_end == 5 && lower(s[0]) == 'h' && lower(s[1]) == 't' && lower(s[2]) == 't' &&
             lower(s[3]) == 'p' && lower(s[4]) == 's')
        https = 1;
    else
        return JG_ERR_DPOP_HTU_INVALID;
    if (scheme_end + 3 > len || s[scheme_end + 1] != '/' || s[scheme_end + 2] != '/')
        return JG_ERR_DPOP_HTU_INVALID;
    const char *scheme = https ? "https://" : "http://";
    for (const char *c = scheme; *c != '\0'; c++)
        put(&o, (unsigned char)*c);
    i = scheme_end + 3;

    /* Host: an IP literal in brackets or a reg-name (IPv4 included), lower case. */
    size_t host_start = o.len;
    if (i < len && s[i] == '[') {
        put(&o, '[');
        i++;
        while (i < len && s[i] != ']') {
            unsigned char c = s[i];
            if (!(hexdig(c) || c == ':' || c == '.'))
                return JG_ERR_DPOP_HTU_INVALID;
            put(&o, lower(c));
            i++;
        }
        if (i >= len || o.len == host_start + 1)
            return JG_ERR_DPOP_HTU_INVALID;
        put(&o, ']');
        i++;
    } else {
        while (i < len && s[i] != ':' && s[i] != '/' && s[i] != '?' && s[i] != '#') {
            unsigned char c = s[i];
            if (c == '%') {
                if (!put_pct(&o, s, len, i))
                    return JG_ERR_DPOP_HTU_INVALID;
                i += 3;
                continue;
            }
            if (!unreserved_or_sub(c)) /* '@' (userinfo) included */
                return JG_ERR_DPOP_HTU_INVALID;
            put(&o, lower(c));
            i++;
        }
        if (o.len == host_start)
            return JG_ERR_DPOP_HTU_INVALID;
    }

    /* Port: digits, at most 65535; the scheme's default (and an empty port)
     * dropped, leading zeros too. */
    if (i < len && s[i] == ':') {
        i++;
        unsigned long port = 0;
        size_t digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            port = port * 10 + (unsigned long)(s[i] - '0');
            if (port > 65535)
                return JG_ERR_DPOP_HTU_INVALID;
            digits++;
            i++;
        }
        if (i < len && s[i] != '/' && s[i] != '?' && s[i] != '#')
            return JG_ERR_DPOP_HTU_INVALID;
        if (digits > 0 && port != (https ? 443ul : 80ul)) {
            char num[8];
            size_t n = 0;
            do {
                num[n++] = (char)('0' + port % 10);
                port /= 10;
            } while (port > 0);
            put(&o, ':');
            while (n > 0)
                put(&o, (unsigned char)num[--n]);
        }
    }

    /* Path: "/" when empty; pchar and "/" only. */
    if (i >= len || s[i] != '/')
        put(&o, '/');
    while (i < len && s[i] != '?' && s[i] != '#') {
        unsigned char c = s[i];
        if (c == '%') {
            if (!put_pct(&o, s, len, i))
                return JG_ERR_DPOP_HTU_INVALID;
            i += 3;
            continue;
        }
        if (!(unreserved_or_sub(c) || c == ':' || c == '@' || c == '/'))
            return JG_ERR_DPOP_HTU_INVALID;
        put(&o, c);
        i++;
    }

    /* Query and fragment: ignored for the request, refused in a proof. */
    if (i < len && !strip_query)
        return JG_ERR_DPOP_HTU_INVALID;

    if (o.len + 1 > cap)
        return JG_ERR_INVALID_ARGUMENT;
    out[o.len] = '\0';
    *out_len = o.len;
    return JG_OK;
}

jg_err jg_dpop_htu_normalize(const char *uri, size_t len, int strip_query, char *out, size_t cap,
                             size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (uri == NULL || out == NULL || cap == 0)
        return JG_ERR_INVALID_ARGUMENT;
    size_t n = 0;
    jg_err err = normalize(uri, len, strip_query, out, cap, &n);
    if (err != JG_OK) {
        out[0] = '\0';
        return err;
    }
    if (out_len != NULL)
        *out_len = n;
    return JG_OK;
}
