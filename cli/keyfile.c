/* keyfile.c — loading key files (JWK, JWKS or PEM) and deriving allow-lists. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int is_pem(const char *text)
{
    while (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t')
        text++;
    return strncmp(text, "-----BEGIN", 10) == 0;
}

/* One warning per key the set skipped (RFC 7517 section 5): which, and why. */
static void warn_skipped(const char *path, const jg_jwks *set)
{
    for (size_t i = 0; i < jg_jwks_skipped_count(set); i++) {
        size_t pos = 0;
        const char *kid = NULL;
        jg_err why = JG_OK;
        if (jg_jwks_skipped_at(set, i, &pos, &kid, &why) != JG_OK)
            continue;
        if (kid != NULL) {
            char shown[65]; /* the kid, printable ASCII only */
            size_t n = 0;
            for (; n < sizeof shown - 1 && kid[n] != '\0'; n++)
                shown[n] = kid[n] >= 0x20 && kid[n] < 0x7f ? kid[n] : '?';
            shown[n] = '\0';
            fprintf(stderr, "jwtgate: warning: key file %s: key %zu (kid \"%s\") skipped: %s\n",
                    path, pos, shown, jg_strerror(why));
        } else {
            fprintf(stderr, "jwtgate: warning: key file %s: key %zu (no kid) skipped: %s\n", path,
                    pos, jg_strerror(why));
        }
    }
}

int cli_load_keys(const char *path, unsigned flags, jg_jwks **out)
{
    jg_detail detail = {0};
    size_t len = 0;
    char *text = cli_read_file(path, &len, 0);
    if (text == NULL)
        return EXIT_USAGE;
    jg_err err;
    if (is_pem(text)) {
        jg_jwk *key = NULL;
        err = jg_jwk_from_pem(text, len, NULL, flags, &key);
        if (err == JG_OK) {
            err = jg_jwks_new(out);
            if (err == JG_OK && (err = jg_jwks_add(*out, key)) != JG_OK)
                jg_jwks_free(*out);
            jg_jwk_free(key);
        }
    } else {
        err = jg_jwks_parse_any_ex(text, len, flags, NULL, out, &detail);
    }
    jg_free_secret(text, len);
    if (err != JG_OK) {
        char line[512];
        if (jg_detail_format(&detail, line, sizeof line) > 0)
            return cli_fail(EXIT_USAGE, "key file %s: %s: %s", path, jg_strerror(err), line);
        return cli_fail(EXIT_USAGE, "key file %s: %s", path, jg_strerror(err));
    }
    warn_skipped(path, *out);
    if (jg_jwks_count(*out) == 0) {
        jg_jwks_free(*out);
        return cli_fail(EXIT_USAGE, "key file %s: no usable key", path);
    }
    return EXIT_OK;
}

int cli_load_key(const char *path, const char *kid, jg_jwk **out)
{
    jg_jwks *set = NULL;
    int status = cli_load_keys(path, 0, &set);
    if (status != EXIT_OK)
        return status;
    const jg_jwk *key = NULL;
    if (kid != NULL) {
        size_t cursor = 0;
        key = jg_jwks_find(set, kid, JG_ALG_UNKNOWN, JG_USE_ANY, &cursor);
        if (key == NULL)
            status = cli_fail(EXIT_USAGE, "key file %s: no key with kid \"%s\"", path, kid);
    } else if (jg_jwks_count(set) == 1) {
        key = jg_jwks_get(set, 0);
    } else {
        status = cli_fail(EXIT_USAGE, "key file %s holds %zu keys: choose one with --kid", path,
                          jg_jwks_count(set));
    }
    if (key != NULL)
        *out = jg_jwk_ref((jg_jwk *)key); /* the count is the only mutable part of a key */
    jg_jwks_free(set);
    return status;
}

int cli_alg_allow_list(const char *command, const char *list, const jg_jwks *keys, jg_alg_kind kind,
                       jg_alg_set *out)
{
    jg_alg_set set = 0;
    if (list != NULL) {
        jg_err err = jg_alg_set_parse(list, &set);
        if (err != JG_OK)
            return cli_usage(command, "--alg %s: %s", list, jg_strerror(err));
        for (unsigned a = 1; a < JG_ALG__COUNT; a++)
            if ((set & JG_ALG_BIT(a)) && jg_alg_kind_of((jg_alg)a) != kind)
                return cli_usage(command, "--alg: %s is not a %s algorithm", jg_alg_name((jg_alg)a),
                                 kind == JG_ALG_KIND_JWS ? "signature" : "key management");
        *out = set;
        return EXIT_OK;
    }
    for (size_t i = 0; i < jg_jwks_count(keys); i++) {
        jg_alg alg = jg_jwk_alg(jg_jwks_get(keys, i));
        if (alg != JG_ALG_UNKNOWN && jg_alg_kind_of(alg) == kind)
            set |= JG_ALG_BIT(alg);
    }
    if (set == 0)
        return cli_usage(command,
                         "the key has no \"alg\": say which algorithms to accept with --alg");
    *out = set;
    return EXIT_OK;
}
