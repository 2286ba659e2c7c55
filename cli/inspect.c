/*
 * inspect.c — "jwtgate inspect": decode any JWS or JWE, compact or JSON,
 * WITHOUT checking it, for people debugging tokens. It says so plainly, and
 * shows headers, claims and the time claims as dates relative to now.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char inspect_usage[] =
    "Usage: jwtgate inspect [--json] [TOKEN | < TOKEN]\n"
    "Decode a JWS or JWE (compact or JSON serialization) WITHOUT verifying or\n"
    "decrypting anything, and show its headers, its claims (for a JWS) and the\n"
    "times \"exp\", \"nbf\" and \"iat\" as dates with how long ago or how far\n"
    "ahead they are. --json writes the same as one JSON object.\n"
    "TOKEN is the argument, or standard input: surrounding whitespace and one\n"
    "\"Bearer \" prefix are removed (a token on the command line is visible to\n"
    "other users of the machine: prefer standard input for real tokens).\n"
    "Example:\n"
    "  jwtgate inspect < token\n";

/* Decode one base64url part as JSON (object or anything), or NULL. */
static json_t *decode_json_part(const char *b64, size_t len)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (jg_b64url_decode_alloc(b64, len, &raw, &raw_len) != JG_OK)
        return NULL;
    json_error_t error;
    json_t *value = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &error);
    jg_free(raw);
    return value;
}

/* "3d 4h", "5m 2s", "12s". */
static void format_span(int64_t seconds, char *out, size_t size)
{
    int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
            s = seconds % 60;
    if (d > 0)
        snprintf(out, size, "%lldd %lldh", (long long)d, (long long)h);
    else if (h > 0)
        snprintf(out, size, "%lldh %lldm", (long long)h, (long long)m);
    else if (m > 0)
        snprintf(out, size, "%lldm %llds", (long long)m, (long long)s);
    else
        snprintf(out, size, "%llds", (long long)s);
}

/* Describe one time claim: date and relation to now. */
static json_t *describe_time(const char *name, json_t *value, int64_t now)
{
    if (!json_is_integer(value) && !json_is_real(value))
        return json_string("not a number");
    double v = json_number_value(value);
    if (v < -62135596800.0 || v > 253402300799.0)
        return json_string("out of range");
    time_t t = (time_t)v;
    struct tm tm;
    char date[64], span[64], text[160];
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
    int64_t delta = (int64_t)t - now;
    format_span(delta < 0 ? -delta : delta, span, sizeof span);
    if (strcmp(name, "exp") == 0)
        snprintf(text, sizeof text, "%s (%s %s%s)", date, delta > 0 ? "expires in" : "expired",
                 span, delta > 0 ? "" : " ago");
    else if (strcmp(name, "nbf") == 0)
        snprintf(text, sizeof text, "%s (%s %s%s)", date,
                 delta > 0 ? "not valid for another" : "valid since", span,
                 delta > 0 ? "" : " ago");
    else
        snprintf(text, sizeof text, "%s (issued %s %s)", date, span,
                 delta > 0 ? "in the future" : "ago");
    return json_string(text);
}

/* Build the report object for a token, or NULL if it is not a JOSE token. */
static json_t *inspect_token(const char *token, size_t len)
{
    json_t *report = json_object();
    json_t *headers = json_array();
    json_t *payload_json = NULL;
    const char *kind = NULL, *format = NULL;
    size_t payload_len = 0;
    int encrypted = 0;

    if (len > 0 && token[0] == '{') {
        json_error_t error;
        json_t *doc = json_loadb(token, len, JSON_REJECT_DUPLICATES, &error);
        if (doc == NULL)
            goto fail;
        encrypted = json_object_get(doc, "ciphertext") != NULL;
        kind = encrypted ? "JWE" : "JWS";
        json_t *list = json_object_get(doc, encrypted ? "recipients" : "signatures");
        format = json_is_array(list) ? "general JSON" : "flattened JSON";
        const char *prot = json_string_value(json_object_get(doc, "protected"));
        if (prot != NULL) {
            json_t *h = decode_json_part(prot, strlen(prot));
            json_array_append_new(headers, h ? h : json_string("(undecodable protected header)"));
        }
        if (json_object_get(doc, "unprotected"))
            json_array_append(headers, json_object_get(doc, "unprotected"));
        if (json_is_array(list)) {
            for (size_t i = 0; i < json_array_size(list); i++) {
                json_t *entry = json_array_get(list, i);
                const char *p = json_string_value(json_object_get(entry, "protected"));
                if (p != NULL) {
                    json_t *h = decode_json_part(p, strlen(p));
                    json_array_append_new(headers, h ? h : json_string("(undecodable header)"));
                }
                if (json_object_get(entry, "header"))
                    json_array_append(headers, json_object_get(entry, "header"));
            }
        } else if (json_object_get(doc, "header")) {
            json_array_append(headers, json_object_get(doc, "header"));
        }
        const char *payload = json_string_value(json_object_get(doc, "payload"));
        if (!encrypted && payload != NULL) {
            payload_len = strlen(payload);
            payload_json = decode_json_part(payload, payload_len);
        }
        json_decref(doc);
    } else {
        size_t dots = 0, first = len, second = len;
        for (size_t i = 0; i < len; i++) {
            if (token[i] != '.')
                continue;
            if (dots == 0)
                first = i;
            else if (dots == 1)
                second = i;
            dots++;
        }
        if (dots != 2 && dots != 4)
            goto fail;
        encrypted = dots == 4;
        kind = encrypted ? "JWE" : "JWS";
        format = "compact";
        json_t *h = decode_json_part(token, first);
        if (h == NULL)
            goto fail;
        json_array_append_new(headers, h);
        if (!encrypted) {
            payload_len = second - first - 1;
            payload_json = decode_json_part(token + first + 1, payload_len);
        } else {
            payload_len = len - second;
        }
    }

    json_object_set_new(report, "verified", json_false());
    json_object_set_new(report, "kind", json_string(kind));
    json_object_set_new(report, "serialization", json_string(format));
    json_object_set_new(report, "headers", headers);
    headers = NULL;
    if (encrypted) {
        json_object_set_new(report, "payload",
                            json_string("encrypted: not shown (jwtgate jwe decrypt or jwt open)"));
    } else if (json_is_object(payload_json)) {
        json_object_set(report, "claims", payload_json);
        json_t *times = json_object();
        int64_t now = (int64_t)time(NULL);
        static const char *const names[] = {"iat", "nbf", "exp"};
        for (size_t i = 0; i < 3; i++) {
            json_t *v = json_object_get(payload_json, names[i]);
            if (v != NULL)
                json_object_set_new(times, names[i], describe_time(names[i], v, now));
        }
        if (json_object_size(times) > 0)
            json_object_set_new(report, "times", times);
        else
            json_decref(times);
    } else {
        json_object_set_new(
            report, "payload",
            json_sprintf("not a JSON object (%zu base64url characters)", payload_len));
    }
    json_decref(payload_json);
    return report;
fail:
    json_decref(headers);
    json_decref(payload_json);
    json_decref(report);
    return NULL;
}

static void print_indented(const char *label, const json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    printf("%s %s\n", label, text ? text : "?");
    free(text);
}

int cli_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int as_json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            as_json = 1;
        else if (c == 'h')
            return fputs(inspect_usage, stdout), EXIT_OK;
        else
            return cli_usage("inspect", "unknown option: %s", argv[optind - 1]);
    }
    const char *token_arg = optind == argc - 1 ? argv[optind++] : NULL;
    if (optind < argc)
        return cli_usage("inspect", "unexpected argument \"%s\"", argv[optind]);
    size_t len = 0;
    char *token = cli_read_token(token_arg, &len);
    if (token == NULL)
        return EXIT_USAGE;
    json_t *report = inspect_token(token, len);
    jg_free(token);
    if (report == NULL)
        return cli_fail(EXIT_USAGE, "inspect: not a JWS or JWE (compact or JSON serialization)");
    int status = EXIT_OK;
    if (as_json) {
        status = cli_print_json(report, 0);
    } else {
        printf("UNVERIFIED: decoded only; no signature was verified and nothing was decrypted.\n");
        printf("Token: %s, %s serialization\n", json_string_value(json_object_get(report, "kind")),
               json_string_value(json_object_get(report, "serialization")));
        json_t *headers = json_object_get(report, "headers");
        for (size_t i = 0; i < json_array_size(headers); i++)
            print_indented("Header:", json_array_get(headers, i));
        if (json_object_get(report, "claims"))
            print_indented("Claims:", json_object_get(report, "claims"));
        else
            printf("Payload: %s\n", json_string_value(json_object_get(report, "payload")));
        json_t *times = json_object_get(report, "times");
        const char *name;
        json_t *value;
        if (times != NULL) {
            printf("Times:\n");
            json_object_foreach (times, name, value) {
                printf("  %-4s %s\n", name, json_string_value(value));
            }
        }
        if (fflush(stdout) != 0)
            status = cli_fail(EXIT_USAGE, "cannot write to standard output");
    }
    json_decref(report);
    return status;
}
