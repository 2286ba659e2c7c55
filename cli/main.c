/* main.c — the jwtgate command-line tool: command groups and dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char top_usage[] =
    "Usage: jwtgate <command> [options]\n"
    "\n"
    "Keys, signed and encrypted tokens (JOSE) from the shell. Every command reads\n"
    "standard input and writes standard output, so commands compose in pipes.\n"
    "\n"
    "Commands:\n"
    "  key generate|public|thumbprint|from-pem|to-pem|set   JSON Web Keys\n"
    "  jws sign|verify                                       JSON Web Signature\n"
    "  jwe encrypt|decrypt                                   JSON Web Encryption\n"
    "  jwt sign|verify|seal|open                             JWTs and encrypted access tokens\n"
    "  dpop proof|verify                                     DPoP proofs (RFC 9449)\n"
    "  inspect                                               decode a token WITHOUT checking it\n"
    "  snapshot compile|dump|info                            the gateway's compiled snapshot\n"
    "  admin <resource> <action>                             manage a running jwtgated (admin "
    "API)\n"
    "  gateway sync|usage|jwks                               a remote gateway's agents\n"
    "\n"
    "Options: --help (also after any command), --version\n"
    "Exit status: 0 success; 1 the token was rejected (signature, decryption, claims,\n"
    "scopes); 2 the command or its setup is wrong (option, key file, a key set that\n"
    "cannot serve the accepted algorithms, one key to decrypt and verify, an empty\n"
    "allow-list, input).\n"
    "\n"
    "Example: issue an encrypted access token and open it\n"
    "  jwtgate key generate --alg ES256 > issuer.jwk\n"
    "  jwtgate key generate --alg ECDH-ES+A256KW > gateway.jwk\n"
    "  jwtgate key public < issuer.jwk > issuer.pub.jwk\n"
    "  jwtgate key public < gateway.jwk > gateway.pub.jwk\n"
    "  jwtgate jwt seal --sign-key issuer.jwk --enc-key gateway.pub.jwk --iss https://issuer \\\n"
    "      --sub client-1 --aud https://api --exp 15m > token\n"
    "  jwtgate jwt open --decrypt-key gateway.jwk --verify-key issuer.pub.jwk \\\n"
    "      --iss https://issuer --aud https://api < token\n";

int cli_dispatch(const char *group, const cli_command *commands, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        FILE *to = argc < 1 ? stderr : stdout;
        fprintf(to, "Usage: jwtgate %s <command> [options]\n\nCommands:\n", group);
        for (const cli_command *c = commands; c->name != NULL; c++)
            fprintf(to, "  %-12s %s\n", c->name, c->summary);
        fprintf(to, "\nRun 'jwtgate %s <command> --help' for the options and an example.\n", group);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    for (const cli_command *c = commands; c->name != NULL; c++)
        if (strcmp(argv[0], c->name) == 0)
            return c->run(argc, argv);
    fprintf(stderr, "jwtgate: %s: unknown command \"%s\"\nTry 'jwtgate %s --help'.\n", group,
            argv[0], group);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static const cli_command groups[] = {
        {"key", cli_key, "JSON Web Keys: generate, public, thumbprint, from-pem, to-pem, set"},
        {"jws", cli_jws, "JSON Web Signature: sign, verify"},
        {"jwe", cli_jwe, "JSON Web Encryption: encrypt, decrypt"},
        {"jwt", cli_jwt, "JWTs: sign, verify, seal, open"},
        {"dpop", cli_dpop, "DPoP proofs (RFC 9449): proof, verify"},
        {"inspect", cli_inspect, "decode a token without checking it"},
        {"snapshot", cli_snapshot, "the gateway's compiled snapshot: compile, dump, info"},
        {"admin", cli_admin,
         "manage a running jwtgated: tenant, user, token, api, app, subscription, key, audit, "
         "gateway"},
        {"gateway", cli_gateway,
         "a gateway on another host: sync (its snapshot), usage (report its LLM usage)"},
        {NULL, NULL, NULL},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(top_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("jwtgate %s\n", jg_version());
        return EXIT_OK;
    }
    for (const cli_command *g = groups; g->name != NULL; g++)
        if (strcmp(argv[1], g->name) == 0)
            return g->run(argc - 1, argv + 1);
    fprintf(stderr, "jwtgate: unknown command \"%s\"\nTry 'jwtgate --help'.\n", argv[1]);
    return EXIT_USAGE;
}
