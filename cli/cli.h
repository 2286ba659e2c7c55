/*
 * cli.h — shared pieces of the jwtgate command-line tool: exit statuses,
 * input/output, key files, option helpers.
 *
 * Contract (docs/jwtgate.1): every command reads standard input and writes
 * standard output; a trailing newline on input is ignored. Exit status 0 on
 * success, 1 when a token is rejected (signature, decryption or claims), 2 for
 * usage, input, key or setup errors (a key set that cannot serve the accepted
 * algorithms, one key to decrypt and verify): whatever the token. Nothing
 * secret is ever written to stderr.
 */
#ifndef JG_CLI_H
#define JG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jwtgate/jwtgate.h"

enum { EXIT_OK = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2 };

/* Largest input the tool reads from stdin or a file (16 MiB). */
#define CLI_MAX_INPUT (16u * 1024u * 1024u)

/* A command: name, handler, one-line summary. */
typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/* Run the sub-command named by argv[0] from `commands` (or print help). */
int cli_dispatch(const char *group, const cli_command *commands, int argc, char **argv);

/* ---- Diagnostics --------------------------------------------------------- */

/* "jwtgate: <message>\n" on stderr (messages start with the command:
 * "jwtgate: <command>: ..."); returns `status` for `return cli_fail(...)`. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: message plus a pointer to --help; returns EXIT_USAGE. */
int cli_usage(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit status for an error of a token-checking call: 1, except for errors
 * that are the caller's setup or the machine's (memory, bad arguments, an
 * empty allow-list, one key given to decrypt and to verify): 2. */
int cli_reject_status(jg_err err);
/*
 * The one report of a failed verify/decrypt/open call: "jwtgate: <command>:
 * token rejected: <reason>[: <detail>]" (without "token rejected" for a
 * setup error), the detail line (never secret) when `detail` (may be NULL)
 * says more, and a hint when base64url refused whitespace or a "Bearer "
 * prefix in `token` (the text given to the library; never printed). Returns
 * the exit status (cli_reject_status()).
 */
int cli_token_error(const char *command, jg_err err, const char *token, size_t len,
                    const jg_detail *detail);

/* ---- Input and output ----------------------------------------------------- */

/* Read all of stdin (at most CLI_MAX_INPUT bytes), NUL-terminated; with
 * `trim` one trailing "\n" or "\r\n" is removed. NULL on error (reported). */
char *cli_read_stdin(size_t *len, int trim);
/* Read a file the same way ("-" means stdin). */
char *cli_read_file(const char *path, size_t *len, int trim);
/*
 * The token of a verify/decrypt/inspect command: `arg` (the command-line
 * argument) when not NULL, else all of stdin; surrounding whitespace
 * (newlines included) and one "Bearer " prefix are removed, nothing inside.
 * NULL on error (reported); free with jg_free().
 */
char *cli_read_token(const char *arg, size_t *len);
/* Write bytes to stdout, adding a newline when `newline`. 0 or EXIT_USAGE. */
int cli_write(const void *data, size_t len, int newline);
/* Print a JSON value: compact with sorted members, or indented with `pretty`. */
int cli_print_json(const json_t *value, int pretty);

/* ---- Keys ------------------------------------------------------------------ */

/* Load a key file as a set (jg_jwks_load_file(): a JWK, a JWKS, PEM or DER;
 * "-": standard input). Reports errors; returns EXIT_OK or EXIT_USAGE.
 * `flags`: JG_JWK_* import flags. */
int cli_load_keys(const char *path, unsigned flags, jg_jwks **out);
/* Load a file holding exactly one JWK (or a JWKS with one key, or `kid`
 * chosen from a JWKS). Reports errors; EXIT_OK or EXIT_USAGE. */
int cli_load_key(const char *path, const char *kid, jg_jwk **out);

/*
 * The allow-list for a verify/decrypt command: parsed from `list` (the value
 * of `option`) when given, else the "alg" values the keys declare (of the
 * given kind). With neither, an empty list, or no key that can serve any of
 * the algorithms (the wrong key file): a setup error. Returns EXIT_OK or
 * EXIT_USAGE.
 */
int cli_alg_allow_list(const char *command, const char *option, const char *list,
                       const jg_jwks *keys, jg_alg_kind kind, jg_alg_set *out);
/* The --enc allow-list: parsed from `list`, or every algorithm
 * (JG_ENC_SET_ALL) when NULL; an empty list is a usage error. */
int cli_enc_allow_list(const char *command, const char *list, jg_enc_set *out);

/* ---- Options ----------------------------------------------------------------- */

/* Parse a JSON object given on the command line; reports errors. */
json_t *cli_parse_json_object(const char *command, const char *option, const char *text);
/* Only check that an option is a JSON object (NULL is fine): EXIT_OK or
 * EXIT_USAGE, reported. */
int cli_check_json_object(const char *command, const char *option, const char *text);
/* Parse "compact", "flattened" or "general"; EXIT_OK or EXIT_USAGE (reported). */
int cli_parse_format(const char *command, const char *text, jg_format *out);
/* Parse an alg / enc name; reports errors; EXIT_OK or EXIT_USAGE. */
int cli_parse_alg(const char *command, const char *text, jg_alg *out);
int cli_parse_enc(const char *command, const char *text, jg_enc *out);
/* Parse a non-negative integer option. */
int cli_parse_uint(const char *command, const char *option, const char *text, uint64_t max,
                   uint64_t *out);
/* Parse a time: "1h", "30m", "45s", "2d", "600" (seconds from now) or "@1700000000"
 * (absolute). Returns EXIT_OK or EXIT_USAGE; *out is seconds since the epoch. */
int cli_parse_time(const char *command, const char *option, const char *text, int64_t now,
                   int64_t *out);
/* Parse a duration ("30s", "5m", "1h", "2d" or plain seconds). */
int cli_parse_duration(const char *command, const char *option, const char *text, int64_t *out);
/* Whether a comma-separated list names nothing ("", " , "). */
int cli_list_empty(const char *text);
/* Split "a,b,c" into a NULL-terminated array (one allocation; free with free()). */
char **cli_split_list(const char *text);

/* ---- Command groups ---------------------------------------------------------- */

int cli_key(int argc, char **argv);
int cli_jws(int argc, char **argv);
int cli_jwe(int argc, char **argv);
int cli_jwt(int argc, char **argv);
int cli_dpop(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_admin(int argc, char **argv);
int cli_snapshot(int argc, char **argv);

/* ---- Gateways (gateway_cmd.c) ------------------------------------------------ */

/* "jwtgate gateway ..." (sync, usage, jwks). */
int cli_gateway(int argc, char **argv);
/* jwtgate gateway usage (usage_agent.c): the usage-log agent. */
int cli_gateway_usage(int argc, char **argv);
/* "jwtgate gateway jwks": the nginx module's trust-source agent (jwks_cmd.c). */
int cli_gateway_jwks(int argc, char **argv);
/* "jwtgate admin gateway create NAME [--out FILE]": argv holds what follows
 * "create"; `url` and `token` are the admin client's. Exit status as admin. */
int cli_admin_gateway_create(const char *url, const char *token, int as_json, int argc,
                             char **argv);

#endif /* JG_CLI_H */
