/* jwe_cmd.c — "jwtgate jwe encrypt|decrypt". */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RECIPIENTS 16

static const char encrypt_usage[] =
    "Usage: jwtgate jwe encrypt --key FILE [--key FILE...] [--alg ALG] [--enc ENC] [--zip]\n"
    "                           [--header JSON] [--unprotected JSON] [--aad FILE]\n"
    "                           [--p2c N] [--format compact|flattened|general] < PLAINTEXT\n"
    "Encrypt standard input to one recipient per --key (several need --format\n"
    "general). FILE is a public key, a secret (\"oct\") key or a PBES2 password key;\n"
    "ALG defaults to each key's \"alg\", ENC to A256GCM. --zip compresses (DEF)\n"
    "first. --header adds protected header members (e.g. {\"cty\":\"JWT\"}).\n"
    "Example:\n"
    "  echo secret | jwtgate jwe encrypt --key gateway.pub.jwk --enc A256GCM\n";

static int jwe_encrypt(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"alg", required_argument, NULL, 'a'},
                                         {"enc", required_argument, NULL, 'e'},
                                         {"zip", no_argument, NULL, 'z'},
                                         {"header", required_argument, NULL, 'H'},
                                         {"unprotected", required_argument, NULL, 'U'},
                                         {"aad", required_argument, NULL, 'A'},
                                         {"p2c", required_argument, NULL, 'c'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key_paths[MAX_RECIPIENTS], *aad_path = NULL;
    size_t n_keys = 0;
    jg_alg alg = JG_ALG_UNKNOWN;
    jg_jwe_encrypt_opts eopts = {0};
    int c, status;
    uint64_t p2c = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (n_keys == MAX_RECIPIENTS)
                return cli_usage("jwe encrypt", "at most %d recipients", MAX_RECIPIENTS);
            key_paths[n_keys++] = optarg;
            break;
        case 'a':
            if ((status = cli_parse_alg("jwe encrypt", optarg, &alg)) != EXIT_OK)
                return status;
            break;
        case 'e':
            if ((status = cli_parse_enc("jwe encrypt", optarg, &eopts.enc)) != EXIT_OK)
                return status;
            break;
        case 'z':
            eopts.zip = 1;
            break;
        case 'H':
            eopts.protected_json = optarg;
            break;
        case 'U':
            eopts.unprotected_json = optarg;
            break;
        case 'A':
            aad_path = optarg;
            break;
        case 'c':
            if ((status = cli_parse_uint("jwe encrypt", "--p2c", optarg, UINT32_MAX, &p2c)) !=
                EXIT_OK)
                return status;
            eopts.pbes2_count = (uint32_t)p2c;
            break;
        case 'f':
            if ((status = cli_parse_format("jwe encrypt", optarg, &eopts.format)) != EXIT_OK)
                return status;
            break;
        case 'h':
            fputs(encrypt_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("jwe encrypt", "unknown option or missing value: %s",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("jwe encrypt", "unexpected argument \"%s\"", argv[optind]);
    if (n_keys == 0)
        return cli_usage("jwe encrypt", "--key is required");
    if (n_keys > 1 && eopts.format != JG_FORMAT_GENERAL)
        return cli_usage("jwe encrypt", "several recipients need --format general");
    if ((eopts.unprotected_json != NULL || aad_path != NULL) && eopts.format == JG_FORMAT_COMPACT)
        return cli_usage("jwe encrypt", "--unprotected and --aad need a JSON --format");
    if (cli_check_json_object("jwe encrypt", "--header", eopts.protected_json) != EXIT_OK ||
        cli_check_json_object("jwe encrypt", "--unprotected", eopts.unprotected_json) != EXIT_OK)
        return EXIT_USAGE;

    jg_jwk *keys[MAX_RECIPIENTS] = {0};
    jg_jwe_recipient recipients[MAX_RECIPIENTS] = {0};
    status = EXIT_OK;
    for (size_t i = 0; i < n_keys && status == EXIT_OK; i++) {
        status = cli_load_key(key_paths[i], NULL, &keys[i]);
        if (status == EXIT_OK && alg == JG_ALG_UNKNOWN && jg_jwk_alg(keys[i]) == JG_ALG_UNKNOWN)
            status = cli_usage("jwe encrypt", "key %s has no \"alg\": choose one with --alg",
                               key_paths[i]);
        recipients[i].key = keys[i];
        recipients[i].alg = alg;
    }
    char *aad = NULL, *plaintext = NULL, *token = NULL;
    size_t aad_len = 0, len = 0, token_len = 0;
    if (status == EXIT_OK && aad_path != NULL &&
        (aad = cli_read_file(aad_path, &aad_len, 1)) == NULL)
        status = EXIT_USAGE;
    eopts.aad = aad;
    eopts.aad_len = aad_len;
    if (status == EXIT_OK && (plaintext = cli_read_stdin(&len, 1)) == NULL)
        status = EXIT_USAGE;
    if (status == EXIT_OK) {
        jg_err err = jg_jwe_encrypt(plaintext, len, recipients, n_keys, &eopts, &token, &token_len);
        status = err == JG_OK ? cli_write(token, token_len, 1)
                              : cli_fail(EXIT_USAGE, "jwe encrypt: %s", jg_strerror(err));
    }
    jg_free_secret(plaintext, len);
    jg_free(aad);
    jg_free(token);
    for (size_t i = 0; i < n_keys; i++)
        jg_jwk_free(keys[i]);
    return status;
}

static const char decrypt_usage[] =
    "Usage: jwtgate jwe decrypt --key FILE [--alg ALG[,ALG...]] [--enc ENC[,ENC...]]\n"
    "                           [--crit NAME,...] [--max-p2c N] [--max-inflated BYTES]\n"
    "                           [TOKEN | < TOKEN]\n"
    "Decrypt a JWE (compact, flattened or general JSON) and write the plaintext.\n"
    "FILE is a private JWK, a JWKS or a PEM private key. Without --alg the only\n"
    "algorithms accepted are the keys' own \"alg\" values; without --enc every\n"
    "content encryption is accepted. RSA1_5 is accepted only when named.\n"
    "Exit 1 when the token is rejected.\n"
    "TOKEN is the argument, or standard input: surrounding whitespace and one\n"
    "\"Bearer \" prefix are removed (a token on the command line is visible to\n"
    "other users of the machine: prefer standard input for real tokens).\n"
    "Example:\n"
    "  jwtgate jwe decrypt --key gateway.jwk --enc A256GCM < token\n";

static int jwe_decrypt(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},     {"alg", required_argument, NULL, 'a'},
        {"enc", required_argument, NULL, 'e'},     {"crit", required_argument, NULL, 'c'},
        {"max-p2c", required_argument, NULL, 'p'}, {"max-inflated", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *algs = NULL, *crit = NULL, *enc = NULL;
    jg_jwe_decrypt_opts dopts = {0};
    jg_limits limits = jg_limits_default();
    uint64_t n = 0;
    int c, status;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_path = optarg;
            break;
        case 'a':
            algs = optarg;
            break;
        case 'e':
            enc = optarg;
            break;
        case 'c':
            crit = optarg;
            break;
        case 'p':
            if ((status = cli_parse_uint("jwe decrypt", "--max-p2c", optarg, UINT32_MAX, &n)) !=
                EXIT_OK)
                return status;
            limits.max_pbes2_count = (uint32_t)n;
            break;
        case 'i':
            if ((status = cli_parse_uint("jwe decrypt", "--max-inflated", optarg, SIZE_MAX, &n)) !=
                EXIT_OK)
                return status;
            limits.max_inflated_len = (size_t)n;
            break;
        case 'h':
            fputs(decrypt_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("jwe decrypt", "unknown option or missing value: %s",
                             argv[optind - 1]);
        }
    }
    const char *token_arg = optind == argc - 1 ? argv[optind++] : NULL;
    if (optind < argc)
        return cli_usage("jwe decrypt", "unexpected argument \"%s\"", argv[optind]);
    if (key_path == NULL)
        return cli_usage("jwe decrypt", "--key is required");
    if ((status = cli_enc_allow_list("jwe decrypt", enc, &dopts.encs)) != EXIT_OK)
        return status;
    dopts.limits = &limits;

    jg_jwks *keys = NULL;
    if ((status = cli_load_keys(key_path, 0, &keys)) != EXIT_OK)
        return status;
    status = cli_alg_allow_list("jwe decrypt", "--alg", algs, keys, JG_ALG_KIND_JWE, &dopts.algs);
    char **crit_list = NULL, *token = NULL;
    size_t token_len = 0;
    if (status == EXIT_OK && crit != NULL && (crit_list = cli_split_list(crit)) == NULL)
        status = cli_fail(EXIT_USAGE, "out of memory");
    dopts.crit = (const char *const *)crit_list;
    if (status == EXIT_OK && (token = cli_read_token(token_arg, &token_len)) == NULL)
        status = EXIT_USAGE;
    if (status == EXIT_OK) {
        jg_jwe *jwe = NULL;
        jg_detail detail;
        jg_err err = jg_jwe_decrypt_ex(token, token_len, keys, &dopts, &jwe, &detail);
        if (err != JG_OK) {
            status = cli_token_error("jwe decrypt", err, token, token_len, &detail);
        } else {
            size_t len = 0;
            const unsigned char *plaintext = jg_jwe_plaintext(jwe, &len);
            status = cli_write(plaintext, len, 0);
            jg_jwe_free(jwe);
        }
    }
    free(crit_list);
    jg_free(token);
    jg_jwks_free(keys);
    return status;
}

int cli_jwe(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"encrypt", jwe_encrypt, "encrypt standard input"},
        {"decrypt", jwe_decrypt, "decrypt a JWE and write its plaintext"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("jwe", commands, argc - 1, argv + 1);
}
