/* json.c — bounded, strict JSON through jansson (see json.h). */
#include "core/json.h"

#include "core/jdoc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jwtgate/common.h"

jg_err jg__json_parse(const char *text, size_t len, unsigned max_depth, size_t max_len,
                      json_t **out)
{
    if (text == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (max_len > 0 && len > max_len)
        return JG_ERR_LIMIT_JSON_SIZE;
    /* Our own strict reader (jdoc.c) is several times faster than jansson's
     * and refuses the same texts; it bounds the depth itself, without
     * recursion, so no separate scan is needed. The tree is then built in
     * one walk. */
    jg__jdoc *doc = NULL;
    jg_err err = jg__jdoc_parse(text, len, max_depth, &doc);
    if (err != JG_OK)
        return err;
    err = jg__jdoc_to_json(doc, 0, out);
    jg__jdoc_free(doc);
    return err;
}

jg_err jg__json_parse_object(const char *text, size_t len, unsigned max_depth, size_t max_len,
                             json_t **out)
{
    json_t *value = NULL;
    jg_err err = jg__json_parse(text, len, max_depth, max_len, &value);
    if (err != JG_OK)
        return err;
    if (!json_is_object(value)) {
        json_decref(value);
        return JG_ERR_JSON_NOT_OBJECT;
    }
    *out = value;
    return JG_OK;
}

static jg_err dump_with(const json_t *value, size_t flags, char **out, size_t *out_len)
{
    if (value == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    char *text = json_dumps(value, flags | JSON_ENCODE_ANY);
    if (text == NULL)
        return JG_ERR_NOMEM;
    *out = text;
    if (out_len != NULL)
        *out_len = strlen(text);
    return JG_OK;
}

jg_err jg__json_dump(const json_t *value, int pretty, char **out, size_t *out_len)
{
    if (!pretty)
        return jg__json_write_compact(value, 1, out, out_len);
    size_t flags = JSON_SORT_KEYS | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    return dump_with(value, flags, out, out_len);
}

jg_err jg__json_dump_secret(const json_t *value, int pretty, char **out, size_t *out_len)
{
    size_t flags = JSON_SORT_KEYS | JSON_ENCODE_ANY | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    if (value == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    size_t len = json_dumpb(value, NULL, 0, flags);
    if (len == 0 || len == SIZE_MAX)
        return JG_ERR_NOMEM;
    char *text = malloc(len + 1);
    if (text == NULL)
        return JG_ERR_NOMEM;
    if (json_dumpb(value, text, len, flags) != len) {
        jg_free_secret(text, len);
        return JG_ERR_NOMEM;
    }
    text[len] = '\0';
    *out = text;
    if (out_len != NULL)
        *out_len = len;
    return JG_OK;
}

jg_err jg__json_dump_ordered(const json_t *value, char **out, size_t *out_len)
{
    return jg__json_write_compact(value, 0, out, out_len);
}

jg_err jg__json_int_exact(const json_t *value, int64_t *out)
{
    if (json_is_integer(value)) {
        *out = (int64_t)json_integer_value(value);
        return JG_OK;
    }
    if (json_is_real(value)) {
        double d = json_real_value(value);
        /* 2^63 is exactly representable; anything at or above it does not fit. */
        if (!isfinite(d) || d != floor(d) || d >= 9223372036854775808.0 ||
            d < -9223372036854775808.0)
            return JG_ERR_JSON_NUMBER;
        *out = (int64_t)d;
        return JG_OK;
    }
    return JG_ERR_JSON_TYPE;
}

void jg__json_wipe_string(json_t *value)
{
    if (json_is_string(value)) {
        /* jansson owns the bytes; zero them before they go back to malloc. */
        char *bytes = (char *)json_string_value(value);
        jg_memzero(bytes, json_string_length(value));
    }
}
