/* keyfile.c — loading key files (JWK, JWKS or PEM) and deriving allow-lists. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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
    jg_err err;
    if (strcmp(path, "-") == 0) {
        size_t len = 0;
        char *text = cli_read_file(path, &len, 0);
        if (text == NULL)
            return EXIT_USAGE;
        err = jg_jwks_parse_any(text, len, flags, NULL, out);
        jg_free_secret(text, len);
    } else {
        /* JWK, JWKS, PEM (one or several keys) or DER, told apart by content. */
        errno = 0;
        err = jg_jwks_load_file(path, flags, NULL, out);
        if (err == JG_ERR_FILE)
            return cli_fail(EXIT_USAGE, "key file %s: %s", path, strerror(errno));
    }
    if (err != JG_OK) {
        /* Which keys were skipped, when that is why no set came of it: the
         * file again through the parser that says so (a failure path only). */
        jg_detail detail = {0};
        size_t len = 0;
        char *text = strcmp(path, "-") != 0 ? cli_read_file(path, &len, 0) : NULL;
        if (text != NULL) {
            jg_jwks *again = NULL;
            if (jg_jwks_parse_any_ex(text, len, flags, NULL, &again, &detail) == JG_OK)
                jg_jwks_free(again);
            jg_free_secret(text, len);
        }
        char line[512];
        if (detail.err == err && jg_detail_format(&detail, line, sizeof line) > 0)
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
        if (key != NULL && jg_jwk_kid(key) == NULL)
            key = NULL; /* --kid names a key: no kid-less stand-in here */
        int any_kid = 0;
        for (size_t i = 0; i < jg_jwks_count(set); i++)
            any_kid |= jg_jwk_kid(jg_jwks_get(set, i)) != NULL;
        if (key == NULL && !any_kid)
            status = cli_fail(EXIT_USAGE,
                              "key file %s: its keys have no \"kid\" (PEM keys have none): give a "
                              "file with the one key, or a JWK with \"kid\" (jwtgate key from-pem "
                              "--kid)",
                              path);
        else if (key == NULL)
            status = cli_fail(EXIT_USAGE, "key file %s: no key with kid \"%s\"", path, kid);
    } else if (jg_jwks_count(set) == 1) {
        key = jg_jwks_get(set, 0);
    } else {
        status = cli_fail(EXIT_USAGE, "key file %s holds %zu keys: choose one with --kid%s", path,
                          jg_jwks_count(set),
                          jg_jwk_kid(jg_jwks_get(set, 0)) == NULL ? " (PEM keys have no kid: "
                                                                    "give a file with one key)"
                                                                  : "");
    }
    if (key != NULL)
        *out = jg_jwk_ref((jg_jwk *)key); /* the count is the only mutable part of a key */
    jg_jwks_free(set);
    return status;
}

/* The keys' declared algorithms of `kind`, and whether some key declares
 * one of the other kind. */
static jg_alg_set declared_algs(const jg_jwks *keys, jg_alg_kind kind, int *other_kind,
                                jg_alg *other)
{
    jg_alg_set set = 0;
    *other_kind = 0;
    for (size_t i = 0; i < jg_jwks_count(keys); i++) {
        jg_alg alg = jg_jwk_alg(jg_jwks_get(keys, i));
        if (alg != JG_ALG_UNKNOWN && jg_alg_kind_of(alg) == kind)
            set |= JG_ALG_BIT(alg);
        else if (alg != JG_ALG_UNKNOWN && !*other_kind) {
            *other_kind = 1;
            *other = alg;
        }
    }
    return set;
}

/* Whether some key of the set can serve some algorithm of `set` (type,
 * curve, declared "alg" and "use"): a set that cannot is the wrong file or
 * the wrong --alg, a setup error, whatever the token says. */
static int some_key_fits(const jg_jwks *keys, jg_alg_set set, jg_alg_kind kind)
{
    jg_use use = kind == JG_ALG_KIND_JWS ? JG_USE_SIG : JG_USE_ENC;
    for (unsigned a = 1; a < JG_ALG__COUNT; a++)
        if ((set & JG_ALG_BIT(a)) && jg_jwks_find(keys, NULL, (jg_alg)a, use, NULL) != NULL)
            return 1;
    return 0;
}

int cli_alg_allow_list(const char *command, const char *option, const char *list,
                       const jg_jwks *keys, jg_alg_kind kind, jg_alg_set *out)
{
    const char *what = kind == JG_ALG_KIND_JWS ? "verification" : "decryption";
    const char *purpose = kind == JG_ALG_KIND_JWS ? "signatures" : "key management";
    jg_alg_set set = 0;
    if (list != NULL) {
        if (cli_list_empty(list))
            return cli_usage(command,
                             "%s \"%s\" is an empty allow-list: name at least one algorithm "
                             "(e.g. %s %s), or omit it to accept the keys' own \"alg\"",
                             option, list, option, kind == JG_ALG_KIND_JWS ? "ES256" : "A256KW");
        jg_err err = jg_alg_set_parse(list, &set);
        if (err != JG_OK)
            return cli_usage(command, "%s %s: %s", option, list, jg_strerror(err));
        for (unsigned a = 1; a < JG_ALG__COUNT; a++)
            if ((set & JG_ALG_BIT(a)) && jg_alg_kind_of((jg_alg)a) != kind)
                return cli_usage(command, "%s: %s is not a %s algorithm", option,
                                 jg_alg_name((jg_alg)a),
                                 kind == JG_ALG_KIND_JWS ? "signature" : "key management");
    } else {
        int other_kind = 0;
        jg_alg other = JG_ALG_UNKNOWN;
        set = declared_algs(keys, kind, &other_kind, &other);
        if (set == 0 && other_kind)
            return cli_fail(EXIT_USAGE,
                            "%s: the %s keys are for %s (%s), not %s: is it the right key "
                            "file?",
                            command, what, jg_alg_name(other),
                            kind == JG_ALG_KIND_JWS ? "encryption" : "signatures", purpose);
        if (set == 0)
            return cli_usage(
                command, "the key has no \"alg\": say which algorithms to accept with %s", option);
    }
    if (!some_key_fits(keys, set, kind)) {
        char names[512] = "";
        for (unsigned a = 1, n = 0; a < JG_ALG__COUNT; a++)
            if ((set & JG_ALG_BIT(a)) && strlen(names) + 32 < sizeof names)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         n++ ? "," : "", jg_alg_name((jg_alg)a));
        return cli_fail(EXIT_USAGE,
                        "%s: no %s key can be used with the accepted algorithms (%s): wrong key "
                        "file or %s?",
                        command, what, names, option);
    }
    *out = set;
    return EXIT_OK;
}
