/* key_cmd.c — "jwtgate key ...": generate, public, thumbprint, from-pem,
 * to-pem, set. Private key material only ever goes to standard output. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int print_key_json(char *json, size_t len, int secret)
{
    int status = cli_write(json, len, 1);
    if (secret)
        jg_free_secret(json, len);
    else
        jg_free(json);
    return status;
}

static int bad_option(const char *command, char **argv)
{
    return cli_usage(command, "unknown option or missing value: %s", argv[optind - 1]);
}

/* ---- generate -------------------------------------------------------------- */

static const char generate_usage[] =
    "Usage: jwtgate key generate --alg ALG [--kid KID] [--crv CRV] [--bits N] [--use sig|enc] "
    "[--pretty]\n"
    "Generate a private JWK for ALG on standard output, with \"alg\" set and \"kid\"\n"
    "defaulting to its RFC 7638 thumbprint.\n"
    "  --alg ALG     any JWS or JWE key-management algorithm: HS256, RS256, PS256, ES256,\n"
    "                EdDSA, Ed25519, Ed448, dir, A256KW, A256GCMKW, RSA-OAEP-256,\n"
    "                ECDH-ES+A256KW, PBES2-HS256+A128KW, ...\n"
    "  --crv CRV     curve where ALG allows several: EdDSA (Ed25519, Ed448),\n"
    "                ECDH-ES* (P-256, P-384, P-521, X25519, X448)\n"
    "  --bits N      RSA modulus size (default 2048) or oct key size\n"
    "  --use USE     \"sig\" or \"enc\" (default: from ALG)\n"
    "Example:\n"
    "  jwtgate key generate --alg ECDH-ES+A256KW --crv X25519 --kid gw-2026 > gateway.jwk\n";

static int key_generate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"alg", required_argument, NULL, 'a'}, {"kid", required_argument, NULL, 'k'},
        {"crv", required_argument, NULL, 'c'}, {"bits", required_argument, NULL, 'b'},
        {"use", required_argument, NULL, 'u'}, {"pretty", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
    const char *alg_name = NULL, *kid = NULL, *crv_name = NULL, *use_name = NULL;
    uint64_t bits = 0;
    int pretty = 0, c, status;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            alg_name = optarg;
            break;
        case 'k':
            kid = optarg;
            break;
        case 'c':
            crv_name = optarg;
            break;
        case 'b':
            if ((status = cli_parse_uint("key generate", "--bits", optarg, 16384, &bits)) != 0)
                return status;
            break;
        case 'u':
            use_name = optarg;
            break;
        case 'p':
            pretty = 1;
            break;
        case 'h':
            fputs(generate_usage, stdout);
            return EXIT_OK;
        default:
            return bad_option("key generate", argv);
        }
    }
    if (optind < argc)
        return cli_usage("key generate", "unexpected argument \"%s\"", argv[optind]);
    if (alg_name == NULL)
        return cli_usage("key generate", "--alg is required");
    jg_alg alg = JG_ALG_UNKNOWN;
    if ((status = cli_parse_alg("key generate", alg_name, &alg)) != EXIT_OK)
        return status;
    jg_crv crv = JG_CRV_NONE;
    if (crv_name != NULL && (crv = jg_crv_from_name(crv_name)) == JG_CRV_NONE)
        return cli_usage("key generate", "unknown curve \"%s\"", crv_name);
    jg_use use = JG_USE_ANY;
    if (use_name != NULL) {
        if (strcmp(use_name, "sig") == 0)
            use = JG_USE_SIG;
        else if (strcmp(use_name, "enc") == 0)
            use = JG_USE_ENC;
        else
            return cli_usage("key generate", "--use must be \"sig\" or \"enc\"");
    }

    jg_jwk *key = NULL;
    jg_err err = jg_jwk_generate_for_alg(alg, crv, (unsigned)bits, kid, &key);
    if (err == JG_OK && use != JG_USE_ANY && use != jg_jwk_use(key)) {
        jg_jwk_meta meta = {.kid = jg_jwk_kid(key), .alg = alg, .use = use};
        jg_jwk *relabelled = NULL;
        err = jg_jwk_with_meta(key, &meta, &relabelled);
        jg_jwk_free(key);
        key = relabelled;
    }
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "key generate: %s", jg_strerror(err));
    char *json = NULL;
    size_t len = 0;
    err = jg_jwk_to_json(key, JG_EXPORT_PRIVATE | (pretty ? JG_EXPORT_PRETTY : 0u), &json, &len);
    jg_jwk_free(key);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "key generate: %s", jg_strerror(err));
    return print_key_json(json, len, 1);
}

/* ---- public, thumbprint --------------------------------------------------------- */

static const char public_usage[] =
    "Usage: jwtgate key public [--pretty] < KEY\n"
    "Read a JWK, a JWKS or PEM and write only its public part as a JWK (a JWKS for\n"
    "a JWKS or several PEM keys).\n"
    "Symmetric (\"oct\") keys have no public part and are refused.\n"
    "Example:\n"
    "  jwtgate key public < issuer.jwk > issuer.pub.jwk\n";

/* Parse a simple option set: only --pretty (and --help). */
static int pretty_only(const char *command, const char *usage, int argc, char **argv, int *pretty)
{
    static const struct option opts[] = {
        {"pretty", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'p')
            *pretty = 1;
        else if (c == 'h')
            return fputs(usage, stdout), -1;
        else
            return bad_option(command, argv);
    }
    if (optind < argc)
        return cli_usage(command, "unexpected argument \"%s\"", argv[optind]);
    return EXIT_OK;
}

/* Whether `text` starts (after whitespace) like PEM. */
static int looks_like_pem(const char *text)
{
    text += strspn(text, " \t\r\n");
    return strncmp(text, "-----BEGIN ", 11) == 0;
}

/* Read stdin as one JWK, a JWKS when it has "keys", or PEM (one key or
 * several; *is_set when several). */
static int read_keys(const char *command, jg_jwks **set, int *is_set)
{
    size_t len = 0;
    char *text = cli_read_stdin(&len, 1);
    if (text == NULL)
        return EXIT_USAGE;
    jg_err err;
    if (looks_like_pem(text)) {
        err = jg_jwks_parse_any(text, len, 0, NULL, set);
        *is_set = err == JG_OK && jg_jwks_count(*set) > 1;
    } else {
        err = jg_jwks_parse(text, len, 0, NULL, set);
        *is_set = err == JG_OK;
        if (err == JG_ERR_KEYSET_INVALID || err == JG_ERR_KEY_KTY || err == JG_ERR_KEY_INVALID) {
            jg_jwk *key = NULL;
            jg_err single = jg_jwk_parse(text, len, 0, &key);
            if (single == JG_OK) {
                err = jg_jwks_new(set);
                if (err == JG_OK)
                    err = jg_jwks_add(*set, key);
                jg_jwk_free(key);
            } else if (err == JG_ERR_KEYSET_INVALID) {
                err = single;
            }
        }
    }
    jg_free_secret(text, len);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "%s: %s", command, jg_strerror(err));
    return EXIT_OK;
}

static int key_public(int argc, char **argv)
{
    int pretty = 0, is_set = 0;
    int status = pretty_only("key public", public_usage, argc, argv, &pretty);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    jg_jwks *set = NULL, *pub = NULL;
    if ((status = read_keys("key public", &set, &is_set)) != EXIT_OK)
        return status;
    jg_err err = jg_jwks_new(&pub);
    for (size_t i = 0; err == JG_OK && i < jg_jwks_count(set); i++) {
        jg_jwk *p = NULL;
        err = jg_jwk_public(jg_jwks_get(set, i), &p);
        if (err == JG_OK) {
            err = jg_jwks_add(pub, p);
            jg_jwk_free(p);
        }
    }
    char *json = NULL;
    size_t len = 0;
    unsigned flags = pretty ? JG_EXPORT_PRETTY : 0u;
    if (err == JG_OK)
        err = is_set ? jg_jwks_to_json(pub, flags, &json, &len)
                     : jg_jwk_to_json(jg_jwks_get(pub, 0), flags, &json, &len);
    jg_jwks_free(set);
    jg_jwks_free(pub);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "key public: %s", jg_strerror(err));
    return print_key_json(json, len, 0);
}

static const char thumbprint_usage[] =
    "Usage: jwtgate key thumbprint < KEY\n"
    "Write the RFC 7638 SHA-256 thumbprint (base64url) of a JWK or a PEM key; for a\n"
    "JWKS or several PEM keys, one line per key.\n"
    "Example:\n"
    "  jwtgate key thumbprint < issuer.jwk\n";

static int key_thumbprint(int argc, char **argv)
{
    int pretty = 0, is_set = 0;
    int status = pretty_only("key thumbprint", thumbprint_usage, argc, argv, &pretty);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    jg_jwks *set = NULL;
    if ((status = read_keys("key thumbprint", &set, &is_set)) != EXIT_OK)
        return status;
    for (size_t i = 0; status == EXIT_OK && i < jg_jwks_count(set); i++) {
        char tp[44];
        jg_err err = jg_jwk_thumbprint_b64(jg_jwks_get(set, i), tp);
        status = err == JG_OK ? cli_write(tp, strlen(tp), 1)
                              : cli_fail(EXIT_USAGE, "key thumbprint: %s", jg_strerror(err));
    }
    jg_jwks_free(set);
    return status;
}

/* ---- from-pem, to-pem ------------------------------------------------------------ */

static const char from_pem_usage[] =
    "Usage: jwtgate key from-pem [--kid KID] [--alg ALG] [--use sig|enc] [--allow-weak-rsa] "
    "[--pretty] < PEM\n"
    "Convert a PEM key (SPKI, PKCS#8, PKCS#1 or SEC1; not encrypted) to a JWK. The\n"
    "private part is kept when the PEM has one. \"kid\" defaults to the thumbprint.\n"
    "Example:\n"
    "  openssl genpkey -algorithm ed25519 | jwtgate key from-pem --alg EdDSA > signer.jwk\n";

static int key_from_pem(int argc, char **argv)
{
    static const struct option opts[] = {{"kid", required_argument, NULL, 'k'},
                                         {"alg", required_argument, NULL, 'a'},
                                         {"use", required_argument, NULL, 'u'},
                                         {"allow-weak-rsa", no_argument, NULL, 'w'},
                                         {"pretty", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    jg_jwk_meta meta = {0};
    unsigned flags = 0;
    int pretty = 0, c, status;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            meta.kid = optarg;
            break;
        case 'a':
            if ((status = cli_parse_alg("key from-pem", optarg, &meta.alg)) != EXIT_OK)
                return status;
            break;
        case 'u':
            if (strcmp(optarg, "sig") == 0)
                meta.use = JG_USE_SIG;
            else if (strcmp(optarg, "enc") == 0)
                meta.use = JG_USE_ENC;
            else
                return cli_usage("key from-pem", "--use must be \"sig\" or \"enc\"");
            break;
        case 'w':
            flags |= JG_JWK_ALLOW_WEAK_RSA;
            break;
        case 'p':
            pretty = 1;
            break;
        case 'h':
            fputs(from_pem_usage, stdout);
            return EXIT_OK;
        default:
            return bad_option("key from-pem", argv);
        }
    }
    if (optind < argc)
        return cli_usage("key from-pem", "unexpected argument \"%s\"", argv[optind]);
    size_t len = 0;
    char *pem = cli_read_stdin(&len, 0);
    if (pem == NULL)
        return EXIT_USAGE;
    jg_jwk *key = NULL;
    jg_err err = jg_jwk_from_pem(pem, len, &meta, flags, &key);
    jg_free_secret(pem, len);
    char tp[44];
    if (err == JG_OK && meta.kid == NULL && (err = jg_jwk_thumbprint_b64(key, tp)) == JG_OK) {
        jg_jwk *labelled = NULL;
        meta.kid = tp;
        err = jg_jwk_with_meta(key, &meta, &labelled);
        jg_jwk_free(key);
        key = labelled;
    }
    char *json = NULL;
    if (err == JG_OK)
        err =
            jg_jwk_to_json(key, JG_EXPORT_PRIVATE | (pretty ? JG_EXPORT_PRETTY : 0u), &json, &len);
    jg_jwk_free(key);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "key from-pem: %s", jg_strerror(err));
    return print_key_json(json, len, 1);
}

static const char to_pem_usage[] =
    "Usage: jwtgate key to-pem [--private] < KEY\n"
    "Write a JWK (or one PEM key, e.g. PKCS#1 or SEC1) as PEM: the public key (SPKI)\n"
    "by default, the private key (PKCS#8) with --private.\n"
    "Example:\n"
    "  jwtgate key to-pem < issuer.jwk > issuer.pub.pem\n";

static int key_to_pem(int argc, char **argv)
{
    static const struct option opts[] = {
        {"private", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int private_part = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'P')
            private_part = 1;
        else if (c == 'h')
            return fputs(to_pem_usage, stdout), EXIT_OK;
        else
            return bad_option("key to-pem", argv);
    }
    if (optind < argc)
        return cli_usage("key to-pem", "unexpected argument \"%s\"", argv[optind]);
    jg_jwks *set = NULL;
    int is_set = 0, status = read_keys("key to-pem", &set, &is_set);
    if (status != EXIT_OK)
        return status;
    if (jg_jwks_count(set) != 1) {
        size_t n = jg_jwks_count(set);
        jg_jwks_free(set);
        return cli_fail(EXIT_USAGE, "key to-pem: one key wanted, the input holds %zu", n);
    }
    jg_jwk *key = jg_jwk_ref((jg_jwk *)jg_jwks_get(set, 0));
    jg_jwks_free(set);
    char *pem = NULL;
    size_t len = 0;
    jg_err err = jg_jwk_to_pem(key, private_part ? JG_EXPORT_PRIVATE : 0u, &pem, &len);
    jg_jwk_free(key);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "key to-pem: %s", jg_strerror(err));
    status = cli_write(pem, len, 0);
    jg_free_secret(pem, len);
    return status;
}

/* ---- set ---------------------------------------------------------------------------- */

static const char set_usage[] =
    "Usage: jwtgate key set [--private] [--pretty] [FILE...]\n"
    "Collect JWKs (and the keys of JWKS documents) from the files, or from standard\n"
    "input holding one or more JSON documents, into one JWKS. Only the public parts\n"
    "are written (a set to publish), unless --private keeps the private ones (a set\n"
    "for signing or decrypting; symmetric \"oct\" keys need it). --public is the\n"
    "default, accepted for older scripts.\n"
    "Example:\n"
    "  jwtgate key set issuer-old.jwk issuer-new.jwk > jwks.json\n";

/* Add every key of one JSON document (a JWK or a JWKS) to `set`. */
static jg_err add_document(jg_jwks *set, const char *text, size_t len, int public_only)
{
    jg_jwks *doc = NULL;
    jg_err err = jg_jwks_parse(text, len, 0, NULL, &doc);
    if (err == JG_ERR_KEYSET_INVALID) {
        jg_jwk *key = NULL;
        if ((err = jg_jwk_parse(text, len, 0, &key)) != JG_OK)
            return err;
        err = jg_jwks_new(&doc);
        if (err == JG_OK)
            err = jg_jwks_add(doc, key);
        jg_jwk_free(key);
    }
    for (size_t i = 0; err == JG_OK && i < jg_jwks_count(doc); i++) {
        jg_jwk *key = jg_jwk_ref((jg_jwk *)jg_jwks_get(doc, i));
        if (public_only) {
            jg_jwk *pub = NULL;
            err = jg_jwk_public(key, &pub);
            jg_jwk_free(key);
            key = pub;
        }
        if (err == JG_OK)
            err = jg_jwks_add(set, key);
        jg_jwk_free(key);
    }
    jg_jwks_free(doc);
    return err;
}

/* Add each whitespace-separated JSON document of `text`. */
static jg_err add_documents(jg_jwks *set, const char *text, size_t len, int public_only)
{
    size_t pos = 0;
    for (;;) {
        while (pos < len && strchr(" \t\r\n", text[pos]) != NULL)
            pos++;
        if (pos >= len)
            return JG_OK;
        json_error_t error;
        json_t *v = json_loadb(text + pos, len - pos, JSON_DISABLE_EOF_CHECK, &error);
        if (v == NULL)
            return JG_ERR_JSON_SYNTAX;
        json_decref(v);
        size_t used = (size_t)error.position;
        jg_err err = add_document(set, text + pos, used, public_only);
        if (err != JG_OK)
            return err;
        pos += used;
    }
}

static int key_set(int argc, char **argv)
{
    static const struct option opts[] = {{"public", no_argument, NULL, 'P'},
                                         {"private", no_argument, NULL, 'S'},
                                         {"pretty", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    /* Public by default: a set is made to be published far more often than
     * to sign with, and a private key must never leave by accident. */
    int public_only = 1, pretty = 0, c, said_public = 0, said_private = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'P')
            said_public = 1;
        else if (c == 'S')
            said_private = 1, public_only = 0;
        else if (c == 'p')
            pretty = 1;
        else if (c == 'h')
            return fputs(set_usage, stdout), EXIT_OK;
        else
            return bad_option("key set", argv);
    }
    if (said_public && said_private)
        return cli_usage("key set", "--public and --private contradict each other");
    jg_jwks *set = NULL;
    jg_err err = jg_jwks_new(&set);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "key set: %s", jg_strerror(err));
    int files = argc - optind;
    for (int i = 0; i < (files > 0 ? files : 1); i++) {
        const char *path = files > 0 ? argv[optind + i] : "-";
        size_t len = 0;
        char *text = cli_read_file(path, &len, 0);
        if (text == NULL) {
            jg_jwks_free(set);
            return EXIT_USAGE;
        }
        err = add_documents(set, text, len, public_only);
        jg_free_secret(text, len);
        if (err != JG_OK) {
            jg_jwks_free(set);
            return cli_fail(EXIT_USAGE, "key set: %s: %s%s", path, jg_strerror(err),
                            err == JG_ERR_KEY_TYPE && public_only
                                ? " (a symmetric key has no public part: --private keeps it)"
                                : "");
        }
    }
    char *json = NULL;
    size_t len = 0;
    err = jg_jwks_to_json(set,
                          (public_only ? 0u : JG_EXPORT_PRIVATE) | (pretty ? JG_EXPORT_PRETTY : 0u),
                          &json, &len);
    jg_jwks_free(set);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "key set: %s", jg_strerror(err));
    return print_key_json(json, len, !public_only);
}

int cli_key(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"generate", key_generate, "generate a private JWK for an algorithm"},
        {"public", key_public, "the public part of a JWK or JWKS"},
        {"thumbprint", key_thumbprint, "RFC 7638 thumbprint of a JWK"},
        {"from-pem", key_from_pem, "convert a PEM key to a JWK"},
        {"to-pem", key_to_pem, "convert a JWK (or a PEM key) to PEM"},
        {"set", key_set, "collect JWKs into a JWKS (public parts unless --private)"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("key", commands, argc - 1, argv + 1);
}
