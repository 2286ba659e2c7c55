/*
 * snapshot_cmd.c — "jwtgate snapshot": the compiled gateway snapshot
 * (jwtgate/snapshot.h) from the shell. `compile` turns the JSON form
 * (docs/snapshot.md) into the file a gateway maps; `dump` prints a compiled
 * file as JSON (with its private keys: it is the file itself, in another
 * form); `info` prints what a file holds, never its keys, and whether its
 * checksum matches.
 *
 * Exit status: 0, 1 when the file is not a usable snapshot (torn,
 * corrupted, not a snapshot, a format this build does not read, a JSON
 * document that does not compile), 2 for usage and I/O errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char compile_usage[] =
    "Usage: jwtgate snapshot compile [-o FILE] [JSON-FILE]\n"
    "Compile a JSON snapshot (format 1, docs/snapshot.md; standard input when no\n"
    "file or \"-\") into the compiled form a gateway maps. With -o FILE the result\n"
    "is written atomically (mode 0600: it holds the gateway's private keys);\n"
    "without it, to standard output, which must not be a terminal.\n"
    "Example:\n"
    "  jwtgate snapshot compile -o /var/lib/jwtgate/snapshot.jgs snapshot.json\n";

static const char dump_usage[] =
    "Usage: jwtgate snapshot dump [--pretty] FILE\n"
    "Print a compiled snapshot as its JSON form (format 1), checksum verified first.\n"
    "The output holds the gateway's PRIVATE decryption keys: treat it as the file.\n"
    "compile(dump(FILE)) has the same content as FILE.\n"
    "Example:\n"
    "  jwtgate snapshot dump --pretty snapshot.jgs | less\n";

static const char info_usage[] =
    "Usage: jwtgate snapshot info [--json] FILE\n"
    "Print what a compiled snapshot holds: version, when it was generated, the\n"
    "issuer, the database identity, the numbers of APIs, subscriptions, revoked\n"
    "tokens and suspended clients, its size, and whether its checksum matches.\n"
    "Never prints keys.\n"
    "Example:\n"
    "  jwtgate snapshot info /var/lib/jwtgate/snapshot.jgs\n";

/* What a failed library call means for the exit status. */
static int snap_status(jg_err err)
{
    return err == JG_ERR_FILE || err == JG_ERR_NOMEM || err == JG_ERR_INVALID_ARGUMENT ||
                   err == JG_ERR_LIMIT_JSON_SIZE
               ? EXIT_USAGE
               : EXIT_REJECTED;
}

static int snap_fail(const char *command, const char *path, jg_err err)
{
    if (err == JG_ERR_FILE)
        return cli_fail(EXIT_USAGE, "snapshot %s: %s: %s", command, path, strerror(errno));
    return cli_fail(snap_status(err), "snapshot %s: %s: %s", command, path, jg_strerror(err));
}

/* Parse the one-flag option sets of dump and info; *flag set by --<name>. */
static int parse_flag_and_file(const char *command, const char *usage, const char *flag_name,
                               int argc, char **argv, int *flag, const char **file)
{
    const struct option opts[] = {
        {flag_name, no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            *flag = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            return cli_usage(command, "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(command, "expected one snapshot file");
    *file = argv[optind];
    return EXIT_OK;
}

static int snapshot_compile(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out_path = NULL, *in_path = "-";
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            fputs(compile_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage("snapshot compile", "unknown option or missing value: %s",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        in_path = argv[optind++];
    if (optind < argc)
        return cli_usage("snapshot compile", "unexpected argument \"%s\"", argv[optind]);
    if (!out_path && isatty(STDOUT_FILENO))
        return cli_usage("snapshot compile", "the output is binary: give -o FILE or redirect it");

    size_t len;
    char *json = cli_read_file(in_path, &len, 0);
    if (!json)
        return EXIT_USAGE;
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    char detail[256];
    jg_err err = jg_snapshot_compile_json(json, len, &bin, &bin_len, detail, sizeof detail);
    jg_free_secret(json, len);
    if (err)
        return cli_fail(snap_status(err), "snapshot compile: %s: %s%s%s", in_path, jg_strerror(err),
                        *detail ? ": " : "", detail);
    int status = EXIT_OK;
    if (out_path) {
        if ((err = jg_snapshot_write_file(out_path, bin, bin_len)))
            status = snap_fail("compile", out_path, err);
    } else if (fwrite(bin, 1, bin_len, stdout) != bin_len || fflush(stdout) != 0) {
        status =
            cli_fail(EXIT_USAGE, "snapshot compile: writing standard output: %s", strerror(errno));
    }
    jg_free_secret(bin, bin_len);
    return status;
}

static int snapshot_dump(int argc, char **argv)
{
    int pretty = 0;
    const char *path = NULL;
    int st = parse_flag_and_file("snapshot dump", dump_usage, "pretty", argc, argv, &pretty, &path);
    if (st)
        return st < 0 ? EXIT_OK : st;
    jg_snapshot *s;
    jg_err err = jg_snapshot_open(path, NULL, &s);
    if (err)
        return snap_fail("dump", path, err);
    char *json = NULL;
    size_t len = 0;
    err = jg_snapshot_to_json(s, pretty, &json, &len);
    jg_snapshot_close(s);
    if (err)
        return snap_fail("dump", path, err);
    int status = cli_write(json, len, 1);
    jg_free_secret(json, len);
    return status;
}

static void format_time(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, size, "%lld", (long long)t);
}

static int snapshot_info(int argc, char **argv)
{
    int as_json = 0;
    const char *path = NULL;
    int st = parse_flag_and_file("snapshot info", info_usage, "json", argc, argv, &as_json, &path);
    if (st)
        return st < 0 ? EXIT_OK : st;
    jg_snapshot *s;
    jg_err err = jg_snapshot_map(path, NULL, &s);
    if (err)
        return snap_fail("info", path, err);
    jg_snapshot_info info;
    jg_err check = jg_snapshot_verify_step(s, 0);
    err = jg_snapshot_get_info(s, &info);
    if (err) {
        jg_snapshot_close(s);
        return snap_fail("info", path, err);
    }
    char db_id[2 * JG_SNAPSHOT_DB_ID_LEN + 1], when[64];
    for (size_t i = 0; i < sizeof info.db_id; i++)
        snprintf(db_id + 2 * i, 3, "%02x", info.db_id[i]);
    format_time(info.generated_at, when, sizeof when);
    const char *checksum = check == JG_OK ? "ok" : jg_strerror(check);
    int status;
    if (as_json) {
        json_t *o = json_pack(
            "{s:i,s:I,s:I,s:s%,s:s,s:I,s:i,s:i,s:i,s:i,s:I,s:b,s:s}", "format_version",
            JG_SNAPSHOT_FORMAT_VERSION, "version", (json_int_t)info.version, "generated_at",
            (json_int_t)info.generated_at, "issuer", info.issuer.ptr, info.issuer.len, "db_id",
            db_id, "token_ttl", (json_int_t)info.token_ttl, "apis", (int)info.apis, "subscriptions",
            (int)info.subscriptions, "revoked_jti", (int)info.revoked, "suspended_clients",
            (int)info.suspended, "file_size", (json_int_t)info.file_size, "checksum_ok",
            check == JG_OK, "checksum", checksum);
        status = o ? cli_print_json(o, 0) : cli_fail(EXIT_USAGE, "snapshot info: out of memory");
        json_decref(o);
    } else {
        printf("format_version     %d\n"
               "version            %lld\n"
               "generated_at       %s\n"
               "issuer             %.*s\n"
               "db_id              %s\n"
               "token_ttl          %lld s\n"
               "apis               %u\n"
               "subscriptions      %u\n"
               "revoked_jti        %u\n"
               "suspended_clients  %u\n"
               "file_size          %zu bytes\n"
               "checksum           %s\n",
               JG_SNAPSHOT_FORMAT_VERSION, (long long)info.version, when, (int)info.issuer.len,
               info.issuer.ptr, db_id, (long long)info.token_ttl, info.apis, info.subscriptions,
               info.revoked, info.suspended, info.file_size, checksum);
        status = fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
    }
    jg_snapshot_close(s);
    return status == EXIT_OK && check != JG_OK ? EXIT_REJECTED : status;
}

int cli_snapshot(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"compile", snapshot_compile, "compile a JSON snapshot into the gateway's form"},
        {"dump", snapshot_dump, "print a compiled snapshot as JSON (holds private keys)"},
        {"info", snapshot_info, "what a compiled snapshot holds, and its checksum"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("snapshot", commands, argc - 1, argv + 1);
}
