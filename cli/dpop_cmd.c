/* dpop_cmd.c — "jwtgate dpop proof|verify": DPoP proofs (RFC 9449). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char proof_usage[] =
    "Usage: jwtgate dpop proof --key FILE --htm METHOD --htu URL [--token FILE]\n"
    "                          [--nonce NONCE] [--alg ALG] [--iat TIME] [--jti JTI]\n"
    "Make a DPoP proof (RFC 9449) for one HTTP request and write it. FILE is the\n"
    "client's private key (EC, RSA or OKP; its public part goes into the proof's\n"
    "\"jwk\" header). The query and fragment of URL are left out of \"htu\".\n"
    "--token binds the proof to the access token in FILE (\"ath\"); --nonce adds\n"
    "the server's DPoP-Nonce. ALG: the key's \"alg\", else ES256/384/512 by curve,\n"
    "PS256 for RSA, EdDSA for OKP. TIME as for jwt sign (\"@1700000000\"); default\n"
    "now. The jti is random unless given. `jwtgate key thumbprint` gives the\n"
    "key's cnf.jkt.\n"
    "Example:\n"
    "  jwtgate key generate --alg ES256 > client.jwk\n"
    "  jwtgate dpop proof --key client.jwk --htm GET --htu https://api.example/orders \\\n"
    "      --token token > proof\n"
    "  curl -H \"Authorization: DPoP $(cat token)\" -H \"DPoP: $(cat proof)\" \\\n"
    "      https://api.example/orders\n";

static int dpop_proof(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},   {"htm", required_argument, NULL, 'm'},
        {"htu", required_argument, NULL, 'u'},   {"token", required_argument, NULL, 't'},
        {"nonce", required_argument, NULL, 'n'}, {"alg", required_argument, NULL, 'a'},
        {"iat", required_argument, NULL, 'i'},   {"jti", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *token_path = NULL;
    jg_dpop_proof_opts o = {0};
    int c, status;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_path = optarg;
            break;
        case 'm':
            o.htm = optarg;
            break;
        case 'u':
            o.htu = optarg;
            break;
        case 't':
            token_path = optarg;
            break;
        case 'n':
            o.nonce = optarg;
            break;
        case 'a':
            if ((status = cli_parse_alg("dpop proof", optarg, &o.alg)) != EXIT_OK)
                return status;
            break;
        case 'i':
            if ((status = cli_parse_time("dpop proof", "--iat", optarg, (int64_t)time(NULL),
                                         &o.iat)) != EXIT_OK)
                return status;
            break;
        case 'j':
            o.jti = optarg;
            break;
        case 'h':
            fputs(proof_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("dpop proof", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("dpop proof", "unexpected argument \"%s\"", argv[optind]);
    if (key_path == NULL || o.htm == NULL || o.htu == NULL)
        return cli_usage("dpop proof", "--key, --htm and --htu are required");

    jg_jwk *key = NULL;
    if ((status = cli_load_key(key_path, NULL, &key)) != EXIT_OK)
        return status;
    char *token = NULL;
    size_t token_len = 0;
    if (token_path != NULL && (token = cli_read_file(token_path, &token_len, 1)) == NULL) {
        jg_jwk_free(key);
        return EXIT_USAGE;
    }
    if (token != NULL && token_len == 0) {
        jg_jwk_free(key);
        jg_free(token);
        return cli_usage("dpop proof", "--token: the file is empty");
    }
    o.key = key;
    o.access_token = token;
    o.access_token_len = token_len;
    char *proof = NULL;
    size_t proof_len = 0;
    jg_err err = jg_dpop_proof_create(&o, &proof, &proof_len);
    jg_free_secret(token, token_len);
    jg_jwk_free(key);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "dpop proof: %s", jg_strerror(err));
    status = cli_write(proof, proof_len, 1);
    jg_free(proof);
    return status;
}

static const char verify_usage[] =
    "Usage: jwtgate dpop verify --htm METHOD --htu URL [--token FILE] [--nonce NONCE]\n"
    "                           [--window SECONDS] [--leeway SECONDS] [--alg ALG,...]\n"
    "                           [--jkt THUMBPRINT] [--now TIME] [PROOF | < PROOF]\n"
    "Verify a DPoP proof (RFC 9449 section 4.3) for the request METHOD URL and write\n"
    "{\"alg\",\"expires\",\"iat\",\"jkt\",\"jti\"}: the thumbprint of the proof's key (compare\n"
    "with the token's cnf.jkt, or give it as --jkt) and the jti for a replay check,\n"
    "which is the caller's. The proof's key is its own \"jwk\" header: asymmetric\n"
    "algorithms only (default all of them), a public key only. URL is the request's\n"
    "(its query is ignored); \"htu\" is compared after normalisation (scheme and host\n"
    "case, default port). --token: the access token presented with the proof, whose\n"
    "hash \"ath\" must be. --nonce: the nonce the server expects. A proof is accepted\n"
    "when now - window - leeway <= iat <= now + leeway (window default 300 s,\n"
    "leeway 0). Exit 1 when the proof is rejected, 2 for a setup error.\n"
    "Example:\n"
    "  jwtgate dpop verify --htm GET --htu https://api.example/orders --token token \\\n"
    "      --jkt \"$(jwtgate key thumbprint < client.jwk)\" < proof\n";

/* Every asymmetric JWS alg of `set` (none, HMAC and JWE algs left out). */
static jg_alg_set asymmetric(jg_alg_set set)
{
    jg_alg_set out = 0;
    for (unsigned a = 1; a < (unsigned)JG_ALG__COUNT; a++) {
        jg_alg alg = (jg_alg)a;
        if ((set & JG_ALG_BIT(alg)) != 0 && jg_alg_kind_of(alg) == JG_ALG_KIND_JWS &&
            strncmp(jg_alg_name(alg), "HS", 2) != 0)
            out |= JG_ALG_BIT(alg);
    }
    return out;
}

static int dpop_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"htm", required_argument, NULL, 'm'},
                                         {"htu", required_argument, NULL, 'u'},
                                         {"token", required_argument, NULL, 't'},
                                         {"nonce", required_argument, NULL, 'n'},
                                         {"window", required_argument, NULL, 'w'},
                                         {"leeway", required_argument, NULL, 'l'},
                                         {"alg", required_argument, NULL, 'a'},
                                         {"jkt", required_argument, NULL, 'J'},
                                         {"now", required_argument, NULL, 'N'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *token_path = NULL, *jkt = NULL;
    jg_dpop_policy p = {.algs = asymmetric(~(jg_alg_set)0)};
    int64_t span = 0;
    int c, status;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            p.htm = optarg;
            p.htm_len = strlen(optarg);
            break;
        case 'u':
            p.htu = optarg;
            p.htu_len = strlen(optarg);
            break;
        case 't':
            token_path = optarg;
            break;
        case 'n':
            p.nonce = optarg;
            p.nonce_len = strlen(optarg);
            break;
        case 'w':
        case 'l':
            if ((status = cli_parse_duration("dpop verify", c == 'w' ? "--window" : "--leeway",
                                             optarg, &span)) != EXIT_OK)
                return status;
            if (span < 0 || span > (1 << 30))
                return cli_usage("dpop verify", "%s: out of range",
                                 c == 'w' ? "--window" : "--leeway");
            if (c == 'w' && span == 0)
                return cli_usage("dpop verify", "--window: must be positive");
            *(c == 'w' ? &p.window : &p.leeway) = span;
            break;
        case 'a':
            if (cli_list_empty(optarg) || jg_alg_set_parse(optarg, &p.algs) != JG_OK)
                return cli_usage("dpop verify", "--alg: not a list of algorithms: \"%s\"", optarg);
            if (asymmetric(p.algs) != p.algs)
                return cli_usage("dpop verify",
                                 "--alg: DPoP proofs use asymmetric signature algorithms only");
            break;
        case 'J':
            jkt = optarg;
            break;
        case 'N':
            if ((status = cli_parse_time("dpop verify", "--now", optarg, (int64_t)time(NULL),
                                         &p.now)) != EXIT_OK)
                return status;
            break;
        case 'h':
            fputs(verify_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("dpop verify", "unknown option or missing value: %s",
                             argv[optind - 1]);
        }
    }
    const char *proof_arg = optind == argc - 1 ? argv[optind++] : NULL;
    if (optind < argc)
        return cli_usage("dpop verify", "unexpected argument \"%s\"", argv[optind]);
    if (p.htm == NULL || p.htu == NULL)
        return cli_usage("dpop verify", "--htm and --htu are required");
    char norm[JG_DPOP_MAX_HTU_LEN + 1];
    if (jg_dpop_htu_normalize(p.htu, p.htu_len, 1, norm, sizeof norm, NULL) != JG_OK)
        return cli_usage("dpop verify", "--htu: not an absolute http(s) URL: \"%s\"", p.htu);

    char *token = NULL, *proof = NULL;
    size_t token_len = 0, proof_len = 0;
    if (token_path != NULL && (token = cli_read_file(token_path, &token_len, 1)) == NULL)
        return EXIT_USAGE;
    p.access_token = token;
    p.access_token_len = token_len;
    if ((proof = cli_read_token(proof_arg, &proof_len)) == NULL) {
        jg_free_secret(token, token_len);
        return EXIT_USAGE;
    }
    jg_dpop_result r;
    jg_detail detail;
    jg_err err = jg_dpop_verify(proof, proof_len, &p, &r, &detail);
    if (err != JG_OK) {
        status = cli_token_error("dpop verify", err, proof, proof_len, &detail);
    } else if (jkt != NULL && strcmp(jkt, r.jkt) != 0) {
        status = cli_fail(EXIT_REJECTED,
                          "dpop verify: proof rejected: the proof's key is not the one "
                          "bound to the token (jkt %s, expected %s)",
                          r.jkt, jkt);
    } else {
        json_t *out = json_pack("{s:s, s:s, s:I, s:I, s:s}", "jkt", r.jkt, "jti", r.jti, "iat",
                                (json_int_t)r.iat, "expires", (json_int_t)r.expires, "alg",
                                jg_alg_name(r.alg));
        status = out != NULL ? cli_print_json(out, 0) : cli_fail(EXIT_USAGE, "out of memory");
        json_decref(out);
    }
    jg_free(proof);
    jg_free_secret(token, token_len);
    return status;
}

int cli_dpop(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"proof", dpop_proof, "make a DPoP proof for one HTTP request"},
        {"verify", dpop_verify, "verify a DPoP proof; print its key's thumbprint and jti"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("dpop", commands, argc - 1, argv + 1);
}
