/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    if (fseek(f, 0, SEEK_END) != 0)
        fail_msg("cannot seek %s", path);
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        fail_msg("cannot size %s", path);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    if (fread(buf, 1, (size_t)size, f) != (size_t)size)
        fail_msg("cannot read %s", path);
    fclose(f);
    buf[size] = '\0';
    if (len != NULL)
        *len = (size_t)size;
    return buf;
}

const char *tu_vector_path(const char *relative)
{
    static char path[4096];
    const char *dir = getenv("JG_TEST_VECTORS_DIR");
    if (dir == NULL)
        dir = JG_TEST_VECTORS_DIR;
    snprintf(path, sizeof path, "%s/%s", dir, relative);
    return path;
}

json_t *tu_load_vector(const char *relative)
{
    json_error_t error;
    json_t *root = json_load_file(tu_vector_path(relative), 0, &error);
    if (root == NULL)
        fail_msg("cannot load %s: %s (line %d)", relative, error.text, error.line);
    return root;
}

json_t *tu_json_at(json_t *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    for (char *save = NULL, *part = strtok_r(buf, "/", &save); part != NULL && cur != NULL;
         part = strtok_r(NULL, "/", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, strtoul(part, NULL, 10));
        else
            cur = json_object_get(cur, part);
    }
    return cur;
}

const char *tu_json_str(json_t *root, const char *path)
{
    json_t *v = tu_json_at(root, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

char *tu_json_text(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(text);
    return text;
}

#define TU_MAX_KINDS 16
static struct {
    const char *kind;
    unsigned count;
} tu_counts[TU_MAX_KINDS];

void tu_count(const char *kind)
{
    for (int i = 0; i < TU_MAX_KINDS; i++) {
        if (tu_counts[i].kind == NULL)
            tu_counts[i].kind = kind;
        if (strcmp(tu_counts[i].kind, kind) == 0) {
            tu_counts[i].count++;
            return;
        }
    }
}

void tu_report(const char *program)
{
    printf("[ VECTORS  ] %s:", program);
    int any = 0;
    for (int i = 0; i < TU_MAX_KINDS && tu_counts[i].kind != NULL; i++) {
        printf(" %s=%u", tu_counts[i].kind, tu_counts[i].count);
        any = 1;
    }
    printf("%s\n", any ? "" : " none");
}

int64_t tu_clock(void *ctx)
{
    return ctx ? *(const int64_t *)ctx : 1700000000;
}
