/* util.c — random identifiers and secrets, hashing, time, string buffers. */
#include "server/core/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "jwtgate/base64url.h"
#include "jwtgate/common.h"

/* clock_gettime, not time(): glibc's time() reads the coarse clock, which
 * lags CLOCK_REALTIME (what clients such as Python's time.time() read) by up
 * to a tick, so a client's fresh "iat" could be a second in our future. */
static _Atomic int64_t clock_offset; /* 0 unless a test moves the clock */

int64_t sv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec + atomic_load_explicit(&clock_offset, memory_order_relaxed);
}

void sv_set_clock_offset(int64_t seconds)
{
    atomic_store_explicit(&clock_offset, seconds, memory_order_relaxed);
}

int64_t sv_clock_offset(void)
{
    return atomic_load_explicit(&clock_offset, memory_order_relaxed);
}

double sv_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sv_random(void *buf, size_t len)
{
    if (len > INT32_MAX)
        return -1;
    return RAND_bytes((unsigned char *)buf, (int)len) == 1 ? 0 : -1;
}

char *sv_new_id(const char *prefix, size_t nbytes)
{
    unsigned char raw[32];
    if (nbytes == 0 || nbytes > sizeof raw || sv_random(raw, nbytes) != 0)
        return NULL;
    size_t plen = strlen(prefix);
    char *out = malloc(plen + JG_B64URL_ENCODED_LEN(nbytes) + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, prefix, plen);
    size_t n = jg_b64url_encode(raw, nbytes, out + plen);
    out[plen + n] = '\0';
    return out;
}

char *sv_new_secret(const char *prefix)
{
    unsigned char raw[32];
    if (sv_random(raw, sizeof raw) != 0)
        return NULL;
    size_t plen = strlen(prefix);
    char *out = malloc(plen + JG_B64URL_ENCODED_LEN(sizeof raw) + 1);
    if (out != NULL) {
        memcpy(out, prefix, plen);
        size_t n = jg_b64url_encode(raw, sizeof raw, out + plen);
        out[plen + n] = '\0';
    }
    jg_memzero(raw, sizeof raw);
    return out;
}

int sv_hash_b64(const void *data, size_t len, char out[44])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -1;
    size_t n = jg_b64url_encode(md, 32, out);
    out[n] = '\0';
    return 0;
}

void sv_buf_add(sv_buf *b, const char *s, size_t len)
{
    if (b->failed)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void sv_buf_puts(sv_buf *b, const char *s)
{
    sv_buf_add(b, s, strlen(s));
}

void sv_buf_printf(sv_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here (false positive). */
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = 1;
        return;
    }
    sv_buf_add(b, tmp, (size_t)n);
}

char *sv_buf_take(sv_buf *b, size_t *len)
{
    if (b->failed || b->data == NULL) {
        free(b->data);
        memset(b, 0, sizeof *b);
        return NULL;
    }
    char *out = b->data;
    if (len != NULL)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return out;
}

int sv_is_absolute_uri(const char *s)
{
    if (s == NULL || !isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    if (s[i] != ':' || s[i + 1] == '\0')
        return 0;
    for (const char *p = s; *p; p++)
        if (*p == '#' || (unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return 0;
    return strlen(s) <= 2048;
}

int sv_is_scope_token(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 256)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!(*p == 0x21 || (*p >= 0x23 && *p <= 0x5b) || (*p >= 0x5d && *p <= 0x7e)))
            return 0;
    return 1;
}

int sv_is_simple_name(const char *s, size_t max)
{
    size_t n = 0;
    if (s == NULL)
        return 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '_' || s[n] == '-'))
            return 0;
    return n >= 1 && n <= max;
}

void sv_printable(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; n + 1 < size && s[n] != '\0'; n++)
        out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
    out[n] = '\0';
}

char *sv_read_file(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(max + 1);
    size_t used = 0;
    while (buf != NULL) {
        if (used == max + 1) { /* over the bound */
            jg_free_secret(buf, used);
            buf = NULL;
            break;
        }
        ssize_t n = read(fd, buf + used, max + 1 - used);
        if (n < 0) {
            jg_free_secret(buf, used);
            buf = NULL;
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > max) {
            jg_free_secret(buf, used);
            buf = NULL;
        }
    }
    close(fd);
    if (buf != NULL) {
        buf[used] = '\0';
        if (len != NULL)
            *len = used;
    }
    return buf;
}
