/*
 * json_write.c — compact JSON text from a jansson value, byte for byte what
 * json_dumps(JSON_COMPACT [| JSON_SORT_KEYS]) writes, in one growing buffer.
 *
 * jansson's writer goes through a callback per fragment and printf for
 * every integer; signing a token serializes its claims each time, so the
 * hot path has its own. Reals (rare in tokens) are written by jansson itself,
 * so their formatting can never differ.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* A string with jansson's escapes: '"', '\\', and control characters
 * (\b \f \n \r \t by name, others as \u00XX with upper-case hex). */
static void put_string(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    put(b, "\"", 1);
    size_t run = 0; /* start of the bytes not yet written */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t len = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        put(b, esc, len);
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

static void put_int(buf *b, json_int_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    /* Magnitude as unsigned so that the most negative value works. */
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--i] = (char)('0' + m % 10);
        m /= 10;
    } while (m != 0);
    if (v < 0)
        tmp[--i] = '-';
    put(b, tmp + i, sizeof tmp - i);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void put_value(buf *b, const json_t *v, int sorted);

static void put_object(buf *b, const json_t *obj, int sorted)
{
    size_t n = json_object_size(obj);
    const char *local[32];
    const char **keys = n <= 32 ? local : malloc(n * sizeof *keys);
    if (keys == NULL) {
        b->failed = 1;
        return;
    }
    size_t i = 0;
    for (void *it = json_object_iter((json_t *)obj); it != NULL && i < n;
         it = json_object_iter_next((json_t *)obj, it))
        keys[i++] = json_object_iter_key(it);
    if (sorted)
        qsort(keys, i, sizeof *keys, key_cmp);
    put(b, "{", 1);
    for (size_t k = 0; k < i; k++) {
        if (k > 0)
            put(b, ",", 1);
        put_string(b, keys[k], strlen(keys[k]));
        put(b, ":", 1);
        put_value(b, json_object_get(obj, keys[k]), sorted);
    }
    put(b, "}", 1);
    if (keys != local)
        free(keys);
}

static void put_value(buf *b, const json_t *v, int sorted)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v, sorted);
        break;
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                put(b, ",", 1);
            put_value(b, json_array_get(v, i), sorted);
        }
        put(b, "]", 1);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_int(b, json_integer_value(v));
        break;
    case JSON_REAL: {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (text == NULL) {
            b->failed = 1;
            return;
        }
        put(b, text, strlen(text));
        free(text);
        break;
    }
    case JSON_TRUE:
        put(b, "true", 4);
        break;
    case JSON_FALSE:
        put(b, "false", 5);
        break;
    case JSON_NULL:
        put(b, "null", 4);
        break;
    }
}

jg_err jg__json_write_compact(const json_t *value, int sorted, char **out, size_t *out_len)
{
    if (value == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    buf b = {0};
    put_value(&b, value, sorted);
    if (b.failed) {
        free(b.p);
        return JG_ERR_NOMEM;
    }
    b.p[b.len] = '\0'; /* put() always leaves room for it */
    *out = b.p;
    if (out_len != NULL)
        *out_len = b.len;
    return JG_OK;
}
