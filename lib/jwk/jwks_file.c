/*
 * jwks_file.c — key sets from PEM text and from files (jg_jwks_load_file):
 * the one reader every program that loads keys shares, instead of its own
 * slurp() and format guessing.
 *
 * The format is read from the content, never from the file name: JSON (a
 * JWK or a JWKS) starts with '{'; PEM holds "-----BEGIN "; DER is one ASN.1
 * SEQUENCE. A file is read only when it is a regular file (a FIFO or a
 * device could block or never end) and only up to the size a key set may
 * have under the limits; its bytes may be private keys, so the buffer is
 * wiped before it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jwk/jwk_build.h"

/* The labels of key blocks; any other block (CERTIFICATE, EC PARAMETERS as
 * "openssl ecparam -genkey" writes before the key) is skipped. */
static int key_label(const char *label, size_t len)
{
    static const char *const labels[] = {"PUBLIC KEY",     "PRIVATE KEY",
                                         "RSA PUBLIC KEY", "RSA PRIVATE KEY",
                                         "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strlen(labels[i]) == len && memcmp(labels[i], label, len) == 0)
            return 1;
    return 0;
}

/* The first occurrence of `needle` in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; p != NULL && (size_t)(end - p) >= n; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (p == NULL)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
    }
    return NULL;
}

static size_t max_text(const jg_limits *limits)
{
    size_t keys = limits->max_keys;
    if (keys > (JG__JWKS_MAX_JSON - JG__JWK_MAX_JSON) / JG__JWKS_MAX_JSON_PER_KEY)
        return JG__JWKS_MAX_JSON;
    return JG__JWK_MAX_JSON + keys * JG__JWKS_MAX_JSON_PER_KEY;
}

int jg__pem_text(const char *text, size_t len)
{
    return find(text, text + len, "-----BEGIN ") != NULL;
}

jg_err jg__jwks_parse_pem(const char *text, size_t len, unsigned flags, const jg_limits *limits,
                          jg_jwks **out)
{
    if (out != NULL)
        *out = NULL;
    jg_limits defaults = jg_limits_default();
    if (text == NULL || out == NULL || (flags & ~JG__JWK_IMPORT_FLAGS) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    if (limits == NULL)
        limits = &defaults;
    if (len > max_text(limits))
        return JG_ERR_LIMIT_FILE_SIZE;
    jg_jwks *set = NULL;
    jg_err err = jg_jwks_new(&set);
    const char *p = text, *end = text + len;
    size_t blocks = 0;
    while (err == JG_OK && (p = find(p, end, "-----BEGIN ")) != NULL) {
        const char *label = p + strlen("-----BEGIN ");
        const char *label_end = find(label, end, "-----");
        if (label_end == NULL) {
            err = JG_ERR_KEY_PEM;
            break;
        }
        size_t label_len = (size_t)(label_end - label);
        /* "-----END <label>-----" closes the block. */
        const char *close = find(label_end, end, "-----END ");
        if (close == NULL || (size_t)(end - close) < strlen("-----END ") + label_len + 5 ||
            memcmp(close + strlen("-----END "), label, label_len) != 0 ||
            memcmp(close + strlen("-----END ") + label_len, "-----", 5) != 0) {
            err = JG_ERR_KEY_PEM;
            break;
        }
        const char *block_end = close + strlen("-----END ") + label_len + 5;
        if (key_label(label, label_len)) {
            if (++blocks > limits->max_keys) {
                err = JG_ERR_LIMIT_KEYS;
                break;
            }
            jg_jwk *key = NULL;
            err = jg_jwk_from_pem(p, (size_t)(block_end - p), NULL, flags, &key);
            if (err == JG_OK) {
                err = jg_jwks_add(set, key);
                jg_jwk_free(key);
            }
        }
        p = block_end;
    }
    if (err == JG_OK && blocks == 0)
        err = JG_ERR_KEY_PEM; /* PEM, but no key in it */
    if (err != JG_OK) {
        jg_jwks_free(set);
        return err;
    }
    *out = set;
    return JG_OK;
}

/* Read the regular file `path`, at most `max` bytes. *out is the caller's
 * (wipe and free with jg_free_secret). */
static jg_err read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
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
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return JG_ERR_FILE_TYPE;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        close(fd);
        errno = EFBIG;
        return JG_ERR_LIMIT_FILE_SIZE;
    }
    /* One byte more than the size: a file that grew since fstat is noticed. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        close(fd);
        return JG_ERR_NOMEM;
    }
    jg_err err = JG_OK;
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = JG_ERR_FILE;
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            err = JG_ERR_LIMIT_FILE_SIZE; /* it grew while being read */
            errno = EFBIG;
            break;
        }
    }
    int e = errno;
    close(fd);
    errno = e;
    if (err != JG_OK) {
        jg_free_secret(buf, cap + 1);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return JG_OK;
}

jg_err jg_jwks_load_file(const char *path, unsigned flags, const jg_limits *limits, jg_jwks **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    jg_limits defaults = jg_limits_default();
    if (path == NULL || out == NULL || (flags & ~JG__JWK_IMPORT_FLAGS) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    if (limits == NULL)
        limits = &defaults;
    char *text = NULL;
    size_t len = 0;
    jg_err err = read_file(path, max_text(limits), &text, &len);
    if (err != JG_OK)
        return err;
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i < len && text[i] == '{') {
        err = jg_jwks_parse_any(text, len, flags, limits, out);
    } else if (jg__pem_text(text, len)) {
        err = jg__jwks_parse_pem(text, len, flags, limits, out);
    } else if (len > 0 && (unsigned char)text[0] == 0x30) {
        /* DER: one key, the whole file. */
        jg_jwk *key = NULL;
        jg_jwks *set = NULL;
        err = limits->max_keys < 1
                  ? JG_ERR_LIMIT_KEYS
                  : jg_jwk_from_der((const unsigned char *)text, len, NULL, flags, &key);
        if (err == JG_OK && (err = jg_jwks_new(&set)) == JG_OK)
            err = jg_jwks_add(set, key);
        jg_jwk_free(key);
        if (err == JG_OK)
            *out = set;
        else
            jg_jwks_free(set);
    } else {
        err = JG_ERR_KEY_FORMAT;
    }
    jg_free_secret(text, len + 1);
    return err;
}
