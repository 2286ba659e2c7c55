/* jwt_cmd.c — "jwtgate jwt sign|verify|seal|open": claims from options,
 * validation from options, and the nested access-token calls. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"

#define MAX_AUD    16
#define MAX_CLAIMS 64
#define MAX_SCOPES 32

/* Everything the four commands can take; each command accepts a subset. */
typedef struct jwt_args {
    const char *command;
    /* keys */
    const char *key, *kid, *sign_key, *enc_key, *verify_key, *decrypt_key;
    /* algorithms */
    const char *alg, *key_alg, *enc, *typ, *header, *form;
    /* claims */
    const char *iss, *sub, *jti, *exp, *nbf, *claims_json;
    const char *aud[MAX_AUD];
    size_t n_aud;
    const char *claims[MAX_CLAIMS];
    size_t n_claims;
    int no_iat, no_exp;
    /* validation */
    const char *leeway, *max_age, *require, *crit;
    /* NULL-terminated for jg_jwt_policy (one slot more than MAX_SCOPES) */
    const char *scopes_all[MAX_SCOPES + 1], *scopes_any[MAX_SCOPES + 1];
    size_t n_scopes_all, n_scopes_any;
    int allow_missing_exp, pretty;
    /* the token as an argument (verify, open: takes_token set) */
    int takes_token;
    const char *token;
} jwt_args;

enum {
    OPT_KEY = 256,
    OPT_KID,
    OPT_SIGN_KEY,
    OPT_ENC_KEY,
    OPT_VERIFY_KEY,
    OPT_DECRYPT_KEY,
    OPT_ALG,
    OPT_KEY_ALG,
    OPT_ENC,
    OPT_TYP,
    OPT_HEADER,
    OPT_FORM,
    OPT_ISS,
    OPT_SUB,
    OPT_AUD,
    OPT_JTI,
    OPT_EXP,
    OPT_NBF,
    OPT_NO_IAT,
    OPT_NO_EXP,
    OPT_CLAIM,
    OPT_CLAIMS,
    OPT_LEEWAY,
    OPT_MAX_AGE,
    OPT_REQUIRE,
    OPT_CRIT,
    OPT_ALLOW_MISSING_EXP,
    OPT_PRETTY,
    OPT_SCOPE,
    OPT_ANY_SCOPE,
    OPT_HELP
};

/* Parse options; `allowed` lists the OPT_* codes this command takes (0-terminated). */
static int parse_args(jwt_args *a, const char *usage, const int *allowed, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, OPT_KEY},
        {"kid", required_argument, NULL, OPT_KID},
        {"sign-key", required_argument, NULL, OPT_SIGN_KEY},
        {"enc-key", required_argument, NULL, OPT_ENC_KEY},
        {"verify-key", required_argument, NULL, OPT_VERIFY_KEY},
        {"decrypt-key", required_argument, NULL, OPT_DECRYPT_KEY},
        {"alg", required_argument, NULL, OPT_ALG},
        {"key-alg", required_argument, NULL, OPT_KEY_ALG},
        {"enc", required_argument, NULL, OPT_ENC},
        {"typ", required_argument, NULL, OPT_TYP},
        {"header", required_argument, NULL, OPT_HEADER},
        {"form", required_argument, NULL, OPT_FORM},
        {"iss", required_argument, NULL, OPT_ISS},
        {"sub", required_argument, NULL, OPT_SUB},
        {"aud", required_argument, NULL, OPT_AUD},
        {"jti", required_argument, NULL, OPT_JTI},
        {"exp", required_argument, NULL, OPT_EXP},
        {"nbf", required_argument, NULL, OPT_NBF},
        {"no-iat", no_argument, NULL, OPT_NO_IAT},
        {"no-exp", no_argument, NULL, OPT_NO_EXP},
        {"claim", required_argument, NULL, OPT_CLAIM},
        {"claims", required_argument, NULL, OPT_CLAIMS},
        {"leeway", required_argument, NULL, OPT_LEEWAY},
        {"max-age", required_argument, NULL, OPT_MAX_AGE},
        {"require", required_argument, NULL, OPT_REQUIRE},
        {"crit", required_argument, NULL, OPT_CRIT},
        {"allow-missing-exp", no_argument, NULL, OPT_ALLOW_MISSING_EXP},
        {"pretty", no_argument, NULL, OPT_PRETTY},
        {"scope", required_argument, NULL, OPT_SCOPE},
        {"any-scope", required_argument, NULL, OPT_ANY_SCOPE},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int ok = c == OPT_HELP;
        for (const int *p = allowed; *p != 0 && !ok; p++)
            ok = *p == c;
        if (c == '?' || !ok)
            return cli_usage(a->command, "unknown option or missing value: %s", argv[optind - 1]);
        switch (c) {
        case OPT_KEY:
            a->key = optarg;
            break;
        case OPT_KID:
            a->kid = optarg;
            break;
        case OPT_SIGN_KEY:
            a->sign_key = optarg;
            break;
        case OPT_ENC_KEY:
            a->enc_key = optarg;
            break;
        case OPT_VERIFY_KEY:
            a->verify_key = optarg;
            break;
        case OPT_DECRYPT_KEY:
            a->decrypt_key = optarg;
            break;
        case OPT_ALG:
            a->alg = optarg;
            break;
        case OPT_KEY_ALG:
            a->key_alg = optarg;
            break;
        case OPT_ENC:
            a->enc = optarg;
            break;
        case OPT_TYP:
            a->typ = optarg;
            break;
        case OPT_HEADER:
            a->header = optarg;
            break;
        case OPT_FORM:
            a->form = optarg;
            break;
        case OPT_ISS:
            a->iss = optarg;
            break;
        case OPT_SUB:
            a->sub = optarg;
            break;
        case OPT_JTI:
            a->jti = optarg;
            break;
        case OPT_EXP:
            a->exp = optarg;
            break;
        case OPT_NBF:
            a->nbf = optarg;
            break;
        case OPT_NO_IAT:
            a->no_iat = 1;
            break;
        case OPT_NO_EXP:
            a->no_exp = 1;
            break;
        case OPT_CLAIMS:
            a->claims_json = optarg;
            break;
        case OPT_LEEWAY:
            a->leeway = optarg;
            break;
        case OPT_MAX_AGE:
            a->max_age = optarg;
            break;
        case OPT_REQUIRE:
            a->require = optarg;
            break;
        case OPT_CRIT:
            a->crit = optarg;
            break;
        case OPT_ALLOW_MISSING_EXP:
            a->allow_missing_exp = 1;
            break;
        case OPT_PRETTY:
            a->pretty = 1;
            break;
        case OPT_AUD:
            if (a->n_aud == MAX_AUD)
                return cli_usage(a->command, "at most %d --aud", MAX_AUD);
            a->aud[a->n_aud++] = optarg;
            break;
        case OPT_SCOPE:
        case OPT_ANY_SCOPE: {
            const char **list = c == OPT_SCOPE ? a->scopes_all : a->scopes_any;
            size_t *n = c == OPT_SCOPE ? &a->n_scopes_all : &a->n_scopes_any;
            if (optarg[0] == '\0' || strchr(optarg, ' ') != NULL)
                return cli_usage(a->command, "%s wants one scope token, got \"%s\"",
                                 argv[optind - 1], optarg);
            if (*n == MAX_SCOPES)
                return cli_usage(a->command, "at most %d %s", MAX_SCOPES, argv[optind - 1]);
            list[(*n)++] = optarg;
            break;
        }
        case OPT_CLAIM:
            if (a->n_claims == MAX_CLAIMS)
                return cli_usage(a->command, "at most %d --claim", MAX_CLAIMS);
            a->claims[a->n_claims++] = optarg;
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            return -1;
        }
    }
    if (a->takes_token && optind == argc - 1)
        a->token = argv[optind++];
    if (optind < argc)
        return cli_usage(a->command, "unexpected argument \"%s\"", argv[optind]);
    return EXIT_OK;
}

/* ---- Building claims from options ---------------------------------------------------- */

static int set_claim_value(jwt_args *a, jg_claims *claims, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (eq == NULL || eq == assignment)
        return cli_usage(a->command, "--claim wants NAME=VALUE, got \"%s\"", assignment);
    size_t name_len = (size_t)(eq - assignment);
    char *name = strndup(assignment, name_len);
    if (name == NULL)
        return cli_fail(EXIT_USAGE, "out of memory");
    const char *value = eq + 1;
    /* A value that is JSON (number, true, [..], {..}, "..") keeps its type; else a string. */
    json_error_t error;
    json_t *parsed = json_loads(value, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
    jg_err err = parsed != NULL ? jg_claims_set_json(claims, name, value)
                                : jg_claims_set_string(claims, name, value);
    json_decref(parsed);
    int status =
        err == JG_OK ? EXIT_OK : cli_usage(a->command, "--claim %s: %s", name, jg_strerror(err));
    free(name);
    return status;
}

/* Claims from --claims, then the individual options (which win). */
static int build_claims(jwt_args *a, int default_jti, jg_claims **out)
{
    int64_t now = (int64_t)time(NULL), t = 0;
    jg_claims *claims = NULL;
    jg_err err = jg_claims_new(&claims);
    int status = err == JG_OK ? EXIT_OK : cli_fail(EXIT_USAGE, "%s", jg_strerror(err));
    char *json_text = NULL;
    if (status == EXIT_OK && a->claims_json != NULL) {
        size_t len = 0;
        const char *text = a->claims_json;
        if (text[0] == '@') {
            json_text = cli_read_file(text + 1, &len, 1);
            text = json_text;
            status = text ? EXIT_OK : EXIT_USAGE;
        }
        if (status == EXIT_OK && (err = jg_claims_merge_json(claims, text)) != JG_OK)
            status = cli_usage(a->command, "--claims: %s", jg_strerror(err));
    }
    free(json_text);
    if (status == EXIT_OK && a->iss && (err = jg_claims_set_string(claims, "iss", a->iss)))
        status = cli_usage(a->command, "--iss: %s", jg_strerror(err));
    if (status == EXIT_OK && a->sub && (err = jg_claims_set_string(claims, "sub", a->sub)))
        status = cli_usage(a->command, "--sub: %s", jg_strerror(err));
    if (status == EXIT_OK && a->n_aud == 1 &&
        (err = jg_claims_set_string(claims, "aud", a->aud[0])))
        status = cli_usage(a->command, "--aud: %s", jg_strerror(err));
    if (status == EXIT_OK && a->n_aud > 1 && (err = jg_claims_set_aud(claims, a->aud, a->n_aud)))
        status = cli_usage(a->command, "--aud: %s", jg_strerror(err));
    for (size_t i = 0; status == EXIT_OK && i < a->n_claims; i++)
        status = set_claim_value(a, claims, a->claims[i]);
    if (status == EXIT_OK && a->no_exp && a->exp != NULL)
        status = cli_usage(a->command, "--exp and --no-exp contradict each other");
    /* The usual case, the library's helper: iat now, exp in 1h. */
    int default_times = !a->no_iat && !a->no_exp && a->exp == NULL &&
                        !jg_claims_has(claims, "iat") && !jg_claims_has(claims, "exp");
    if (status == EXIT_OK && default_times && (err = jg_claims_set_times(claims, now, 3600)))
        status = cli_fail(EXIT_USAGE, "%s: %s", a->command, jg_strerror(err));
    if (status == EXIT_OK && !default_times && !a->no_iat && !jg_claims_has(claims, "iat"))
        if ((err = jg_claims_set_int(claims, "iat", now)) != JG_OK)
            status = cli_fail(EXIT_USAGE, "%s: %s", a->command, jg_strerror(err));
    if (status == EXIT_OK && !default_times && !a->no_exp &&
        (a->exp != NULL || !jg_claims_has(claims, "exp"))) {
        status = cli_parse_time(a->command, "--exp", a->exp ? a->exp : "1h", now, &t);
        if (status == EXIT_OK && (err = jg_claims_set_int(claims, "exp", t)) != JG_OK)
            status = cli_fail(EXIT_USAGE, "%s", jg_strerror(err));
    }
    if (status == EXIT_OK && a->nbf != NULL) {
        status = cli_parse_time(a->command, "--nbf", a->nbf, now, &t);
        if (status == EXIT_OK && (err = jg_claims_set_int(claims, "nbf", t)) != JG_OK)
            status = cli_fail(EXIT_USAGE, "%s", jg_strerror(err));
    }
    if (status == EXIT_OK && a->jti == NULL && default_jti && !jg_claims_has(claims, "jti") &&
        (err = jg_claims_set_jti_random(claims)) != JG_OK)
        status = cli_fail(EXIT_USAGE, "%s: %s", a->command, jg_strerror(err));
    if (status == EXIT_OK && a->jti && (err = jg_claims_set_string(claims, "jti", a->jti)))
        status = cli_usage(a->command, "--jti: %s", jg_strerror(err));
    if (status != EXIT_OK) {
        jg_claims_free(claims);
        return status;
    }
    *out = claims;
    return EXIT_OK;
}

/* ---- Validation policy from options ---------------------------------------------------- */

typedef struct policy_storage {
    char **require, **crit;
} policy_storage;

static int build_policy(jwt_args *a, const jg_jwks *verify_keys, jg_jwt_policy *p,
                        policy_storage *store)
{
    /* No verification keys (jwt open --form encrypted): no signature to check. */
    int status = verify_keys == NULL ? EXIT_OK
                                     : cli_alg_allow_list(a->command, "--alg", a->alg, verify_keys,
                                                          JG_ALG_KIND_JWS, &p->algs);
    if (status != EXIT_OK)
        return status;
    if (a->n_aud > 1)
        return cli_usage(a->command, "give one --aud to require");
    p->issuer = a->iss;
    p->subject = a->sub;
    p->audience = a->n_aud ? a->aud[0] : NULL;
    p->typ = a->typ;
    p->allow_missing_exp = a->allow_missing_exp;
    if (a->leeway && (status = cli_parse_duration(a->command, "--leeway", a->leeway, &p->leeway)))
        return status;
    if (a->max_age &&
        (status = cli_parse_duration(a->command, "--max-age", a->max_age, &p->max_age)))
        return status;
    if (a->require && (store->require = cli_split_list(a->require)) == NULL)
        return cli_fail(EXIT_USAGE, "out of memory");
    if (a->crit && (store->crit = cli_split_list(a->crit)) == NULL)
        return cli_fail(EXIT_USAGE, "out of memory");
    p->required = (const char *const *)store->require;
    p->crit = (const char *const *)store->crit;
    p->scopes_all = a->n_scopes_all ? a->scopes_all : NULL;
    p->scopes_any = a->n_scopes_any ? a->scopes_any : NULL;
    return EXIT_OK;
}

static int print_claims(const jg_claims *claims, int pretty)
{
    char *json = NULL;
    jg_err err = jg_claims_to_json(claims, pretty ? JG_EXPORT_PRETTY : 0u, &json);
    if (err != JG_OK)
        return cli_fail(EXIT_USAGE, "%s", jg_strerror(err));
    int status = cli_write(json, strlen(json), 1);
    jg_free(json);
    return status;
}

/* ---- Commands ---------------------------------------------------------------------------- */

#define CLAIM_OPTS                                                                                 \
    OPT_ISS, OPT_SUB, OPT_AUD, OPT_JTI, OPT_EXP, OPT_NBF, OPT_NO_IAT, OPT_NO_EXP, OPT_CLAIM,       \
        OPT_CLAIMS
#define CHECK_OPTS                                                                                 \
    OPT_ISS, OPT_SUB, OPT_AUD, OPT_TYP, OPT_LEEWAY, OPT_MAX_AGE, OPT_REQUIRE, OPT_CRIT,            \
        OPT_ALLOW_MISSING_EXP, OPT_PRETTY, OPT_ALG, OPT_SCOPE, OPT_ANY_SCOPE

static const char sign_usage[] =
    "Usage: jwtgate jwt sign --key FILE [--kid KID] [--alg ALG] [--typ TYP] [--header JSON]\n"
    "                        [--iss ISS] [--sub SUB] [--aud AUD]... [--exp TIME] [--nbf TIME]\n"
    "                        [--jti ID] [--no-iat] [--no-exp] [--claim NAME=VALUE]...\n"
    "                        [--claims JSON|@FILE]\n"
    "Sign a JWT made from the options and write it (compact JWS). TIME is relative\n"
    "(30s, 15m, 1h, 2d) or absolute (@1700000000); --exp defaults to 1h (--no-exp:\n"
    "none), \"iat\" to now (--no-iat: none). A --claim VALUE that is valid JSON keeps its type (5, "
    "true, [\"a\"]).\n"
    "\"typ\" defaults to JWT.\n"
    "Example:\n"
    "  jwtgate jwt sign --key issuer.jwk --iss https://issuer --sub alice --aud https://api \\\n"
    "      --exp 15m --claim scope=\"orders:read\"\n";

static int jwt_sign(int argc, char **argv)
{
    static const int allowed[] = {OPT_KEY, OPT_KID, OPT_ALG, OPT_TYP, OPT_HEADER, CLAIM_OPTS, 0};
    jwt_args a = {.command = "jwt sign"};
    int status = parse_args(&a, sign_usage, allowed, argc, argv);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    if (a.key == NULL)
        return cli_usage(a.command, "--key is required");
    jg_jwt_sign_opts sopts = {.typ = a.typ, .header_json = a.header};
    if (a.alg && (status = cli_parse_alg(a.command, a.alg, &sopts.alg)) != EXIT_OK)
        return status;
    if (cli_check_json_object(a.command, "--header", a.header) != EXIT_OK)
        return EXIT_USAGE;
    jg_jwk *key = NULL;
    jg_claims *claims = NULL;
    if ((status = cli_load_key(a.key, a.kid, &key)) != EXIT_OK)
        return status;
    if (sopts.alg == JG_ALG_UNKNOWN && jg_jwk_alg(key) == JG_ALG_UNKNOWN)
        status = cli_usage(a.command, "the key has no \"alg\": choose one with --alg");
    if (status == EXIT_OK)
        status = build_claims(&a, 0, &claims);
    if (status == EXIT_OK) {
        char *token = NULL;
        size_t len = 0;
        jg_err err = jg_jwt_sign(claims, key, &sopts, &token, &len);
        status = err == JG_OK ? cli_write(token, len, 1)
                              : cli_fail(EXIT_USAGE, "jwt sign: %s", jg_strerror(err));
        jg_free(token);
    }
    jg_claims_free(claims);
    jg_jwk_free(key);
    return status;
}

static const char verify_usage[] =
    "Usage: jwtgate jwt verify --key FILE [--alg ALG,...] [--iss ISS] [--aud AUD] [--sub SUB]\n"
    "                          [--typ TYP] [--leeway DUR] [--max-age DUR] [--require NAME,...]\n"
    "                          [--allow-missing-exp] [--crit NAME,...] [--scope S]...\n"
    "                          [--any-scope S]... [--pretty] [TOKEN | < TOKEN]\n"
    "Verify a signed JWT, validate its claims and write them as JSON. Without --alg\n"
    "only the keys' own \"alg\" values are accepted. \"exp\" is required unless\n"
    "--allow-missing-exp. --scope S (repeatable): the space-delimited \"scope\" claim\n"
    "must hold every S; --any-scope S (repeatable): at least one of them.\n"
    "Exit 1 when the token is rejected.\n"
    "TOKEN is the argument, or standard input: surrounding whitespace and one\n"
    "\"Bearer \" prefix are removed (a token on the command line is visible to\n"
    "other users of the machine: prefer standard input for real tokens).\n"
    "Example:\n"
    "  jwtgate jwt verify --key issuer.pub.jwk --iss https://issuer --aud https://api < token\n";

static int jwt_verify(int argc, char **argv)
{
    static const int allowed[] = {OPT_KEY, CHECK_OPTS, 0};
    jwt_args a = {.command = "jwt verify", .takes_token = 1};
    int status = parse_args(&a, verify_usage, allowed, argc, argv);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    if (a.key == NULL)
        return cli_usage(a.command, "--key is required");
    jg_jwks *keys = NULL;
    if ((status = cli_load_keys(a.key, 0, &keys)) != EXIT_OK)
        return status;
    jg_jwt_policy policy = {0};
    policy_storage store = {0};
    status = build_policy(&a, keys, &policy, &store);
    char *token = NULL;
    size_t len = 0;
    if (status == EXIT_OK && (token = cli_read_token(a.token, &len)) == NULL)
        status = EXIT_USAGE;
    if (status == EXIT_OK) {
        jg_claims *claims = NULL;
        jg_detail detail;
        jg_err err = jg_jwt_verify_ex(token, len, keys, &policy, &claims, &detail);
        status = err == JG_OK ? print_claims(claims, a.pretty)
                              : cli_token_error(a.command, err, token, len, &detail);
        jg_claims_free(claims);
    }
    jg_free(token);
    free(store.require);
    free(store.crit);
    jg_jwks_free(keys);
    return status;
}

static const char seal_usage[] =
    "Usage: jwtgate jwt seal --sign-key FILE --enc-key FILE [--alg ALG] [--key-alg ALG]\n"
    "                        [--enc ENC] [--typ TYP] [claim options of 'jwt sign']\n"
    "Issue an encrypted access token: sign the claims (\"typ\" at+jwt, RFC 9068) with\n"
    "the signing key, then encrypt that JWS (\"cty\" JWT) to the encryption key.\n"
    "--alg is the signature algorithm (default: the signing key's), --key-alg the\n"
    "key management algorithm (default: the encryption key's), --enc defaults to\n"
    "A256GCM. \"jti\" defaults to a random value, \"exp\" to 1h.\n"
    "Example:\n"
    "  jwtgate jwt seal --sign-key issuer.jwk --enc-key gateway.pub.jwk --iss https://issuer \\\n"
    "      --sub client-1 --aud https://api --claim client_id=client-1 --exp 15m\n";

static int jwt_seal(int argc, char **argv)
{
    static const int allowed[] = {OPT_SIGN_KEY, OPT_ENC_KEY, OPT_ALG,    OPT_KEY_ALG,
                                  OPT_ENC,      OPT_TYP,     CLAIM_OPTS, 0};
    jwt_args a = {.command = "jwt seal"};
    int status = parse_args(&a, seal_usage, allowed, argc, argv);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    if (a.sign_key == NULL || a.enc_key == NULL)
        return cli_usage(a.command, "--sign-key and --enc-key are required");
    jg_seal_opts sopts = {.typ = a.typ};
    if ((a.alg && (status = cli_parse_alg(a.command, a.alg, &sopts.sign_alg))) ||
        (a.key_alg && (status = cli_parse_alg(a.command, a.key_alg, &sopts.key_alg))) ||
        (a.enc && (status = cli_parse_enc(a.command, a.enc, &sopts.enc))))
        return status;
    jg_jwk *sign_key = NULL, *enc_key = NULL;
    jg_claims *claims = NULL;
    if ((status = cli_load_key(a.sign_key, NULL, &sign_key)) == EXIT_OK)
        status = cli_load_key(a.enc_key, NULL, &enc_key);
    if (status == EXIT_OK && sopts.sign_alg == JG_ALG_UNKNOWN &&
        jg_jwk_alg(sign_key) == JG_ALG_UNKNOWN)
        status = cli_usage(a.command, "the signing key has no \"alg\": choose one with --alg");
    if (status == EXIT_OK && sopts.key_alg == JG_ALG_UNKNOWN &&
        jg_jwk_alg(enc_key) == JG_ALG_UNKNOWN)
        status = cli_usage(a.command, "the encryption key has no \"alg\": use --key-alg");
    if (status == EXIT_OK)
        status = build_claims(&a, 1, &claims);
    if (status == EXIT_OK) {
        char *token = NULL;
        size_t len = 0;
        jg_err err = jg_access_token_seal(claims, sign_key, enc_key, &sopts, &token, &len);
        status = err == JG_OK ? cli_write(token, len, 1)
                              : cli_fail(EXIT_USAGE, "jwt seal: %s", jg_strerror(err));
        jg_free(token);
    }
    jg_claims_free(claims);
    jg_jwk_free(sign_key);
    jg_jwk_free(enc_key);
    return status;
}

static const char open_usage[] =
    "Usage: jwtgate jwt open --decrypt-key FILE [--verify-key FILE] [--alg ALG,...]\n"
    "                        [--key-alg ALG,...] [--enc ENC,...]\n"
    "                        [--form nested|encrypted|signed|any] [validation options\n"
    "                        of 'jwt verify'] [TOKEN | < TOKEN]\n"
    "Open an encrypted access token: decrypt it with the decryption key set, verify\n"
    "the inner JWS with the verification key set, validate the claims, and write\n"
    "them as JSON. --alg lists signature algorithms, --key-alg key management\n"
    "algorithms (both default to the keys' own \"alg\"); --enc defaults to all.\n"
    "\"typ\" must be at+jwt unless --typ says otherwise. --form nested (default)\n"
    "refuses tokens that are not JWE(JWS); --form encrypted also takes the claims\n"
    "directly in a JWE (npm jose's EncryptJWT; \"typ\" absent, JWT or at+jwt unless\n"
    "--typ) and needs --verify-key only for nested tokens: such claims are not\n"
    "signed, trust them only with a symmetric key. Exit 1 when the token is rejected.\n"
    "TOKEN is the argument or standard input (whitespace and one \"Bearer \" removed).\n"
    "Example:\n"
    "  jwtgate jwt open --decrypt-key gateway.jwk --verify-key issuer.pub.jwk \\\n"
    "      --iss https://issuer --aud https://api < token\n";

/* A key given both to decrypt and to verify: the library refuses every
 * token it verifies (JG_ERR_NESTED_KEY), so say so before any token. Keys
 * are compared by RFC 7638 thumbprint (of the secret for "oct", never
 * printed). */
static int keys_overlap(const char *command, const jg_jwks *decrypt_keys,
                        const jg_jwks *verify_keys)
{
    for (size_t i = 0; i < jg_jwks_count(decrypt_keys); i++) {
        const jg_jwk *d = jg_jwks_get(decrypt_keys, i);
        unsigned char td[32], tv[32];
        if (!jg_jwk_is_private(d) || jg_jwk_thumbprint(d, td) != JG_OK)
            continue;
        for (size_t j = 0; j < jg_jwks_count(verify_keys); j++) {
            const jg_jwk *v = jg_jwks_get(verify_keys, j);
            if (jg_jwk_thumbprint(v, tv) == JG_OK && jg_memeq_consttime(td, tv, sizeof td)) {
                const char *kid = jg_jwk_kid(v) ? jg_jwk_kid(v) : jg_jwk_kid(d);
                OPENSSL_cleanse(td, sizeof td);
                OPENSSL_cleanse(tv, sizeof tv);
                return cli_fail(EXIT_USAGE,
                                "%s: --decrypt-key and --verify-key hold the same key%s%s%s: the "
                                "issuer's signing key and the gateway's decryption key must differ",
                                command, kid ? " (kid \"" : "", kid ? kid : "", kid ? "\")" : "");
            }
        }
        OPENSSL_cleanse(td, sizeof td);
    }
    return EXIT_OK;
}

static int jwt_open(int argc, char **argv)
{
    static const int allowed[] = {
        OPT_DECRYPT_KEY, OPT_VERIFY_KEY, OPT_KEY_ALG, OPT_ENC, OPT_FORM, CHECK_OPTS, 0};
    jwt_args a = {.command = "jwt open", .takes_token = 1};
    int status = parse_args(&a, open_usage, allowed, argc, argv);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    if (a.decrypt_key == NULL)
        return cli_usage(a.command, "--decrypt-key is required");
    jg_open_policy policy = {0};
    if (a.form != NULL) {
        if (strcmp(a.form, "nested") == 0)
            policy.form = JG_FORM_NESTED;
        else if (strcmp(a.form, "encrypted") == 0)
            policy.form = JG_FORM_ENCRYPTED;
        else if (strcmp(a.form, "signed") == 0)
            policy.form = JG_FORM_SIGNED;
        else if (strcmp(a.form, "any") == 0)
            policy.form = JG_FORM_ANY;
        else
            return cli_usage(a.command, "--form must be nested, encrypted, signed or any");
    }
    if ((status = cli_enc_allow_list(a.command, a.enc, &policy.encs)) != EXIT_OK)
        return status;
    /* Claims directly in a JWE (--form encrypted) are not signed: then the
     * verification keys are needed only if the token turns out nested. */
    if (a.verify_key == NULL && policy.form != JG_FORM_ENCRYPTED)
        return cli_usage(a.command, "--verify-key is required (except with --form encrypted)");
    if (a.verify_key == NULL && a.alg != NULL)
        return cli_usage(a.command, "--alg names signature algorithms: give --verify-key too");
    jg_jwks *decrypt_keys = NULL, *verify_keys = NULL;
    policy_storage store = {0};
    if ((status = cli_load_keys(a.decrypt_key, 0, &decrypt_keys)) == EXIT_OK && a.verify_key)
        status = cli_load_keys(a.verify_key, 0, &verify_keys);
    if (status == EXIT_OK)
        status = cli_alg_allow_list(a.command, "--key-alg", a.key_alg, decrypt_keys,
                                    JG_ALG_KIND_JWE, &policy.key_algs);
    if (status == EXIT_OK)
        status = build_policy(&a, verify_keys, &policy.jwt, &store);
    if (status == EXIT_OK)
        status = keys_overlap(a.command, decrypt_keys, verify_keys);
    char *token = NULL;
    size_t len = 0;
    if (status == EXIT_OK && (token = cli_read_token(a.token, &len)) == NULL)
        status = EXIT_USAGE;
    if (status == EXIT_OK) {
        jg_claims *claims = NULL;
        jg_detail detail;
        jg_err err = jg_access_token_open_ex(token, len, decrypt_keys, verify_keys, &policy,
                                             &claims, &detail);
        if (err == JG_ERR_INVALID_ARGUMENT && verify_keys == NULL)
            status = cli_fail(EXIT_USAGE, "%s: the token holds a signed JWT: give --verify-key",
                              a.command);
        else
            status = err == JG_OK ? print_claims(claims, a.pretty)
                                  : cli_token_error(a.command, err, token, len, &detail);
        jg_claims_free(claims);
    }
    jg_free(token);
    free(store.require);
    free(store.crit);
    jg_jwks_free(decrypt_keys);
    jg_jwks_free(verify_keys);
    return status;
}

int cli_jwt(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"sign", jwt_sign, "sign a JWT built from options"},
        {"verify", jwt_verify, "verify a JWT and validate its claims"},
        {"seal", jwt_seal, "issue an encrypted access token (JWE around a signed JWT)"},
        {"open", jwt_open, "open and check an encrypted access token"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("jwt", commands, argc - 1, argv + 1);
}
