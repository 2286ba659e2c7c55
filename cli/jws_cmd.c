/* jws_cmd.c — "jwtgate jws sign|verify". */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char sign_usage[] =
    "Usage: jwtgate jws sign --key FILE [--kid KID] [--alg ALG] [--header JSON]\n"
    "                        [--unprotected JSON] [--detached] [--b64-false]\n"
    "                        [--format compact|flattened|general] < PAYLOAD\n"
    "Sign standard input; write the JWS. FILE is a private JWK (or JWKS with --kid,\n"
    "or PEM). ALG defaults to the key's \"alg\". --header adds protected header\n"
    "members; --unprotected adds unprotected ones (JSON formats only). --detached\n"
    "leaves the payload out; --b64-false signs it unencoded (RFC 7797).\n"
    "Example:\n"
    "  echo 'hello' | jwtgate jws sign --key issuer.jwk --header '{\"typ\":\"JOSE\"}'\n";

static int jws_sign(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"kid", required_argument, NULL, 'i'},
                                         {"alg", required_argument, NULL, 'a'},
                                         {"header", required_argument, NULL, 'H'},
                                         {"unprotected", required_argument, NULL, 'U'},
                                         {"detached", no_argument, NULL, 'd'},
                                         {"b64-false", no_argument, NULL, 'b'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *kid = NULL, *header = NULL, *unprotected = NULL;
    jg_jws_signer signer = {0};
    jg_jws_sign_opts sopts = {0};
    int c, status;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_path = optarg;
            break;
        case 'i':
            kid = optarg;
            break;
        case 'a':
            if ((status = cli_parse_alg("jws sign", optarg, &signer.alg)) != EXIT_OK)
                return status;
            break;
        case 'H':
            header = optarg;
            break;
        case 'U':
            unprotected = optarg;
            break;
        case 'd':
            sopts.detached = 1;
            break;
        case 'b':
            sopts.b64_false = 1;
            break;
        case 'f':
            if ((status = cli_parse_format("jws sign", optarg, &sopts.format)) != EXIT_OK)
                return status;
            break;
        case 'h':
            fputs(sign_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("jws sign", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("jws sign", "unexpected argument \"%s\"", argv[optind]);
    if (key_path == NULL)
        return cli_usage("jws sign", "--key is required");
    if (unprotected != NULL && sopts.format == JG_FORMAT_COMPACT)
        return cli_usage("jws sign", "--unprotected needs --format flattened or general");
    /* Validate the JSON options here for a clear message. */
    if (cli_check_json_object("jws sign", "--header", header) != EXIT_OK ||
        cli_check_json_object("jws sign", "--unprotected", unprotected) != EXIT_OK)
        return EXIT_USAGE;
    signer.protected_json = header;
    signer.unprotected_json = unprotected;

    jg_jwk *key = NULL;
    if ((status = cli_load_key(key_path, kid, &key)) != EXIT_OK)
        return status;
    if (signer.alg == JG_ALG_UNKNOWN && jg_jwk_alg(key) == JG_ALG_UNKNOWN) {
        jg_jwk_free(key);
        return cli_usage("jws sign", "the key has no \"alg\": choose one with --alg");
    }
    signer.key = key;
    size_t len = 0;
    char *payload = cli_read_stdin(&len, 1);
    if (payload == NULL) {
        jg_jwk_free(key);
        return EXIT_USAGE;
    }
    char *token = NULL;
    size_t token_len = 0;
    jg_err err = jg_jws_sign(payload, len, &signer, &sopts, &token, &token_len);
    jg_free_secret(payload, len);
    jg_jwk_free(key);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "jws sign: %s", jg_strerror(err));
    status = cli_write(token, token_len, 1);
    jg_free(token);
    return status;
}

static const char verify_usage[] =
    "Usage: jwtgate jws verify --key FILE [--alg ALG[,ALG...]] [--payload FILE] [--all]\n"
    "                          [--crit NAME,...] [TOKEN | < TOKEN]\n"
    "Verify a JWS (compact, flattened or general JSON) and write its payload.\n"
    "FILE is a JWK, a JWKS or a PEM public key; a private key verifies with its\n"
    "public part. Without --alg the only algorithms accepted are the keys' own\n"
    "\"alg\" values. --payload gives a detached payload. With several signatures,\n"
    "one valid signature is enough unless --all. --crit names header extensions\n"
    "the caller processes itself. Exit 1 when the token is rejected.\n"
    "TOKEN is the argument, or standard input: surrounding whitespace and one\n"
    "\"Bearer \" prefix are removed (a token on the command line is visible to\n"
    "other users of the machine: prefer standard input for real tokens).\n"
    "Example:\n"
    "  jwtgate jws verify --key issuer.pub.jwk --alg ES256 < token\n";

static int jws_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"alg", required_argument, NULL, 'a'},
                                         {"payload", required_argument, NULL, 'P'},
                                         {"all", no_argument, NULL, 'A'},
                                         {"crit", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *algs = NULL, *payload_path = NULL, *crit = NULL;
    jg_jws_verify_opts vopts = {0};
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
        case 'P':
            payload_path = optarg;
            break;
        case 'A':
            vopts.policy = JG_SIG_ALL;
            break;
        case 'c':
            crit = optarg;
            break;
        case 'h':
            fputs(verify_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("jws verify", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    const char *token_arg = optind == argc - 1 ? argv[optind++] : NULL;
    if (optind < argc)
        return cli_usage("jws verify", "unexpected argument \"%s\"", argv[optind]);
    if (key_path == NULL)
        return cli_usage("jws verify", "--key is required");

    jg_jwks *keys = NULL;
    if ((status = cli_load_keys(key_path, 0, &keys)) != EXIT_OK)
        return status;
    status = cli_alg_allow_list("jws verify", "--alg", algs, keys, JG_ALG_KIND_JWS, &vopts.algs);
    char **crit_list = NULL, *detached = NULL, *token = NULL;
    size_t detached_len = 0, token_len = 0;
    if (status == EXIT_OK && crit != NULL && (crit_list = cli_split_list(crit)) == NULL)
        status = cli_fail(EXIT_USAGE, "out of memory");
    vopts.crit = (const char *const *)crit_list;
    if (status == EXIT_OK && payload_path != NULL &&
        (detached = cli_read_file(payload_path, &detached_len, 1)) == NULL)
        status = EXIT_USAGE;
    vopts.detached_payload = detached;
    vopts.detached_payload_len = detached_len;
    if (status == EXIT_OK && (token = cli_read_token(token_arg, &token_len)) == NULL)
        status = EXIT_USAGE;
    if (status == EXIT_OK) {
        jg_jws *jws = NULL;
        jg_detail detail;
        jg_err err = jg_jws_verify_ex(token, token_len, keys, &vopts, &jws, &detail);
        if (err != JG_OK) {
            status = cli_token_error("jws verify", err, token, token_len, &detail);
        } else {
            size_t len = 0;
            const unsigned char *payload = jg_jws_payload(jws, &len);
            status = cli_write(payload, len, 0);
            jg_jws_free(jws);
        }
    }
    free(crit_list);
    jg_free(token);
    jg_free_secret(detached, detached_len);
    jg_jwks_free(keys);
    return status;
}

int cli_jws(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"sign", jws_sign, "sign standard input"},
        {"verify", jws_verify, "verify a JWS and write its payload"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("jws", commands, argc - 1, argv + 1);
}
