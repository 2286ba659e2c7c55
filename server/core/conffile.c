/*
 * conffile.c — jwtgated --config FILE (conffile.h).
 */
#include "server/core/conffile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every long option of jwtgated (server/main.c), and whether it takes a value;
 * not --config, nor --test-clock-file: a test's knob is never in a file an
 * operator copies from one host to the next. */
static const struct {
    const char *name;
    int takes_value;
    int repeatable;
} known[] = {
    {"data-dir", 1, 0},
    {"db", 1, 0},
    {"snapshot", 1, 0},
    {"snapshot-mode", 1, 0},
    {"secrets-key", 1, 0},
    {"snapshot-format", 1, 0},
    {"master-key-file", 1, 0},
    {"issuer", 1, 0},
    {"signing-alg", 1, 0},
    {"encryption-alg", 1, 0},
    {"listen", 1, 0},
    {"port", 1, 0},
    {"port-file", 1, 0},
    {"token-ttl", 1, 0},
    {"threads", 1, 0},
    {"timeout", 1, 0},
    {"request-timeout", 1, 0},
    {"publish-delay", 1, 0},
    {"max-connections", 1, 0},
    {"max-connections-per-ip", 1, 0},
    {"trusted-proxy", 1, 1},
    {"real-ip-header", 1, 0},
    {"access-log", 0, 0},
    {"client-cert-header", 1, 0},
    {"dpop-nonce", 0, 0},
    {"admin", 1, 0},
    {"purpose", 1, 0},
    {"to", 1, 0},
    {"from", 1, 0},
};
#define NKNOWN (sizeof known / sizeof known[0])

typedef struct words {
    char **v;
    int n, cap;
} words;

static int push(words *w, const char *s, size_t len)
{
    if (w->v == NULL || w->n + 1 >= w->cap) {
        int cap = w->v != NULL ? w->cap * 2 : 16;
        char **v = realloc(w->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return -1;
        w->v = v;
        w->cap = cap;
    }
    char *c = malloc(len + 1);
    if (c == NULL)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    w->v[w->n++] = c;
    w->v[w->n] = NULL;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int flag_value(const char *v)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* Does the command line (argv from 2) give `--name`? */
static int on_command_line(int argc, char **argv, const char *name)
{
    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0)
            return 1;
    return 0;
}

static int read_file(const char *path, int argc, char **argv, words *w, char *why, size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(why, why_len, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(why, why_len, "%s:%d: expected key = value", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vlen = strlen(val);
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
            val[vlen - 1] = '\0';
            val++;
        }
        size_t k = 0;
        while (k < NKNOWN && strcmp(known[k].name, key) != 0)
            k++;
        if (k == NKNOWN) {
            snprintf(why, why_len, "%s:%d: unknown key \"%.64s\"%s", path, lineno, key,
                     strcmp(key, "config") == 0            ? " (no config in a config file)"
                     : strcmp(key, "test-clock-file") == 0 ? " (for tests, command line only)"
                                                           : "");
            rc = -1;
            break;
        }
        if (known[k].repeatable && on_command_line(argc, argv, key))
            continue; /* the command line's replace the file's */
        char opt[64];
        int olen = snprintf(opt, sizeof opt, "--%s", key);
        if (!known[k].takes_value) {
            int on = flag_value(val);
            if (on < 0) {
                snprintf(why, why_len, "%s:%d: %s: true or false, not \"%.64s\"", path, lineno, key,
                         val);
                rc = -1;
            } else if (on && push(w, opt, (size_t)olen) != 0) {
                rc = -2;
            }
            continue;
        }
        if (*val == '\0') {
            snprintf(why, why_len, "%s:%d: %s: missing value", path, lineno, key);
            rc = -1;
        } else if (push(w, opt, (size_t)olen) != 0 || push(w, val, strlen(val)) != 0) {
            rc = -2;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    if (rc == -2)
        snprintf(why, why_len, "out of memory");
    return rc == 0 ? 0 : -1;
}

int conffile_expand(int argc, char **argv, int *out_argc, char ***out_argv, char *why,
                    size_t why_len)
{
    words w = {0};
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc || path != NULL) {
                snprintf(why, why_len, "--config: %s", path ? "given twice" : "missing FILE");
                return -1;
            }
            path = argv[++i];
        }
    }
    int rc = 0;
    for (int i = 0; i < argc && i < 2 && rc == 0; i++)
        if (argv[i] != NULL)
            rc = push(&w, argv[i], strlen(argv[i]));
    if (rc == 0 && path != NULL && read_file(path, argc, argv, &w, why, why_len) != 0) {
        conffile_free(w.n, w.v);
        return -1;
    }
    for (int i = 2; i < argc && rc == 0; i++) {
        if (argv[i] == NULL)
            continue;
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        rc = push(&w, argv[i], strlen(argv[i]));
    }
    if (rc != 0) {
        snprintf(why, why_len, "out of memory");
        conffile_free(w.n, w.v);
        return -1;
    }
    if (w.v == NULL && push(&w, "", 0) == 0) { /* argc 0: an empty vector */
        free(w.v[0]);
        w.n = 0;
        w.v[0] = NULL;
    }
    *out_argc = w.n;
    *out_argv = w.v;
    return 0;
}

void conffile_free(int argc, char **argv)
{
    if (argv == NULL)
        return;
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}
