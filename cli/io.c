/* io.c — bounded reading of stdin and files, writing stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static char *read_stream(FILE *f, const char *what, size_t *len, int trim)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        cli_fail(EXIT_USAGE, "out of memory");
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= CLI_MAX_INPUT + 1) {
                jg_free_secret(buf, n);
                cli_fail(EXIT_USAGE, "%s: input larger than %u bytes", what, CLI_MAX_INPUT);
                return NULL;
            }
            size_t next = cap * 2 > CLI_MAX_INPUT + 1 ? CLI_MAX_INPUT + 1 : cap * 2;
            char *grown = malloc(next);
            if (grown == NULL) {
                jg_free_secret(buf, n);
                cli_fail(EXIT_USAGE, "out of memory");
                return NULL;
            }
            /* Copy rather than realloc so input (maybe a key) is never left in freed memory. */
            memcpy(grown, buf, n);
            jg_free_secret(buf, cap);
            buf = grown;
            cap = next;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                jg_free_secret(buf, cap);
                cli_fail(EXIT_USAGE, "%s: read error", what);
                return NULL;
            }
            break;
        }
    }
    if (trim && n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

char *cli_read_stdin(size_t *len, int trim)
{
    return read_stream(stdin, "standard input", len, trim);
}

char *cli_read_file(const char *path, size_t *len, int trim)
{
    if (strcmp(path, "-") == 0)
        return cli_read_stdin(len, trim);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *data = read_stream(f, path, len, trim);
    fclose(f);
    return data;
}

/* Whitespace around a pasted token: space, tab, CR, LF. */
static int token_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *cli_read_token(const char *arg, size_t *len)
{
    size_t n = 0;
    char *text = NULL;
    if (arg != NULL) {
        n = strlen(arg);
        if (n > (size_t)CLI_MAX_INPUT) {
            cli_fail(EXIT_USAGE, "the token argument is larger than %u bytes", CLI_MAX_INPUT);
            return NULL;
        }
        if ((text = malloc(n + 1)) == NULL) {
            cli_fail(EXIT_USAGE, "out of memory");
            return NULL;
        }
        memcpy(text, arg, n + 1);
    } else if ((text = cli_read_stdin(&n, 0)) == NULL) {
        return NULL;
    }
    /* What a paste adds: surrounding whitespace and one "Bearer " (the
     * Authorization header's scheme, case-insensitive, RFC 6750 section
     * 2.1). Inside the token nothing is changed: the library stays strict. */
    size_t start = 0, end = n;
    while (start < end && token_space(text[start]))
        start++;
    while (end > start && token_space(text[end - 1]))
        end--;
    if (end - start > 7 && strncasecmp(text + start, "Bearer", 6) == 0 &&
        (text[start + 6] == ' ' || text[start + 6] == '\t')) {
        start += 6;
        while (start < end && token_space(text[start]))
            start++;
    }
    memmove(text, text + start, end - start);
    memset(text + (end - start), 0, n - (end - start));
    text[end - start] = '\0';
    *len = end - start;
    return text;
}

int cli_write(const void *data, size_t len, int newline)
{
    if ((len > 0 && fwrite(data, 1, len, stdout) != len) || (newline && putchar('\n') == EOF) ||
        fflush(stdout) != 0)
        return cli_fail(EXIT_USAGE, "cannot write to standard output");
    return EXIT_OK;
}

int cli_print_json(const json_t *value, int pretty)
{
    size_t flags = JSON_SORT_KEYS | JSON_ENCODE_ANY | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    char *text = json_dumps(value, flags);
    if (text == NULL)
        return cli_fail(EXIT_USAGE, "out of memory");
    int status = cli_write(text, strlen(text), 1);
    free(text);
    return status;
}
