/* form.c — form bodies and Basic credentials, strictly and without leaks of secrets. */
#include "server/http/form.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jwtgate/base64url.h"
#include "jwtgate/common.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *pct_decode(const char *s, size_t len, int plus)
{
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) {
                jg_free_secret(out, len + 1); /* the whole buffer: o may be 0 */
                return NULL;
            }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                jg_free_secret(out, len + 1); /* the whole buffer: o may be 0 */
                return NULL;
            }
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus) {
            out[o++] = ' ';
        } else if (c == '\0') {
            jg_free_secret(out, len + 1); /* the whole buffer: o may be 0 */
            return NULL;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

int form_parse(const char *body, size_t len, form *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && body[eq] != '=')
                eq++;
            if (out->count == FORM_MAX_PARAMS)
                goto bad;
            char *name = pct_decode(body + i, eq - i, 1);
            char *value = pct_decode(eq < end ? body + eq + 1 : "", eq < end ? end - eq - 1 : 0, 1);
            if (name == NULL || value == NULL || *name == '\0') {
                if (name != NULL)
                    jg_free_secret(name, 0);
                if (value != NULL)
                    jg_free_secret(value, 0);
                goto bad;
            }
            out->name[out->count] = name;
            out->value[out->count++] = value;
        }
        i = end + 1;
    }
    return 0;
bad:
    form_free(out);
    return -1;
}

void form_drop_empty(form *f)
{
    size_t kept = 0;
    for (size_t i = 0; i < f->count; i++) {
        if (f->value[i][0] == '\0') {
            jg_free_secret(f->name[i], 0);
            jg_free_secret(f->value[i], 0);
            continue;
        }
        f->name[kept] = f->name[i];
        f->value[kept++] = f->value[i];
    }
    for (size_t i = kept; i < f->count; i++)
        f->name[i] = f->value[i] = NULL;
    f->count = kept;
}

void form_free(form *f)
{
    for (size_t i = 0; i < f->count; i++) {
        jg_free_secret(f->name[i], 0);
        jg_free_secret(f->value[i], 0);
    }
    memset(f, 0, sizeof *f);
}

const char *form_get(const form *f, const char *name, size_t *count)
{
    const char *hit = NULL;
    size_t n = 0;
    for (size_t i = 0; i < f->count; i++) {
        if (strcmp(f->name[i], name) == 0) {
            if (hit == NULL)
                hit = f->value[i];
            n++;
        }
    }
    if (count != NULL)
        *count = n;
    return hit;
}

int form_has_repeats(const form *f, const char *const *multi)
{
    for (size_t i = 0; i < f->count; i++) {
        int allowed = 0;
        for (const char *const *m = multi; m != NULL && *m != NULL; m++)
            allowed |= strcmp(*m, f->name[i]) == 0;
        if (allowed)
            continue;
        for (size_t j = i + 1; j < f->count; j++)
            if (strcmp(f->name[i], f->name[j]) == 0)
                return 1;
    }
    return 0;
}

int basic_parse(const char *header, char **id, char **secret)
{
    *id = *secret = NULL;
    if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
        return -1;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    size_t len = strlen(p);
    while (len > 0 && p[len - 1] == ' ')
        len--;
    if (len == 0 || len > 4096)
        return -1;
    /* Standard base64 with padding: map to base64url and strip '='. */
    char *tmp = malloc(len + 1);
    if (tmp == NULL)
        return -1;
    size_t n = 0, pads = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '=') { /* padding: only at the end, at most two */
            pads++;
            continue;
        }
        if (pads > 0 || c == '-' || c == '_')
            goto bad_tmp;
        tmp[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    if (pads > 2 || (n + pads) % 4 != 0)
        goto bad_tmp;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (jg_b64url_decode_alloc(tmp, n, &raw, &raw_len) != JG_OK)
        goto bad_tmp;
    jg_free_secret(tmp, len + 1);
    tmp = NULL;
    char *colon = memchr(raw, ':', raw_len);
    if (colon == NULL || memchr(raw, '\0', raw_len) != NULL) {
        jg_free_secret(raw, raw_len);
        return -1;
    }
    size_t id_len = (size_t)(colon - (char *)raw);
    /* RFC 6749 section 2.3.1: both parts are form-urlencoded first. */
    *id = pct_decode((char *)raw, id_len, 1);
    *secret = pct_decode(colon + 1, raw_len - id_len - 1, 1);
    jg_free_secret(raw, raw_len);
    if (*id == NULL || *secret == NULL || **id == '\0') {
        if (*id != NULL)
            jg_free_secret(*id, 0);
        if (*secret != NULL)
            jg_free_secret(*secret, 0);
        *id = *secret = NULL;
        return -1;
    }
    return 0;
bad_tmp:
    jg_free_secret(tmp, len + 1);
    return -1;
}
