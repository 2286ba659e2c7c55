/* options.c — parsing option values: JSON objects, algorithm names, numbers,
 * times and lists. Every failure is reported as a usage error. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

json_t *cli_parse_json_object(const char *command, const char *option, const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    if (value == NULL) {
        cli_usage(command, "%s: invalid JSON: %s", option, error.text);
        return NULL;
    }
    if (!json_is_object(value)) {
        json_decref(value);
        cli_usage(command, "%s: a JSON object is required", option);
        return NULL;
    }
    return value;
}

int cli_check_json_object(const char *command, const char *option, const char *text)
{
    if (text == NULL)
        return EXIT_OK;
    json_t *value = cli_parse_json_object(command, option, text);
    if (value == NULL)
        return EXIT_USAGE;
    json_decref(value);
    return EXIT_OK;
}

int cli_parse_format(const char *command, const char *text, jg_format *out)
{
    static const struct {
        const char *name;
        jg_format format;
    } formats[] = {{"compact", JG_FORMAT_COMPACT},
                   {"flattened", JG_FORMAT_FLATTENED},
                   {"general", JG_FORMAT_GENERAL}};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(text, formats[i].name) == 0) {
            *out = formats[i].format;
            return EXIT_OK;
        }
    }
    return cli_usage(command, "--format must be compact, flattened or general");
}

int cli_parse_alg(const char *command, const char *text, jg_alg *out)
{
    if (strcmp(text, "none") == 0)
        return cli_usage(command, "--alg none is never accepted");
    jg_alg alg = jg_alg_from_name(text, strlen(text));
    if (alg == JG_ALG_UNKNOWN)
        return cli_usage(command, "unknown algorithm \"%s\"", text);
    *out = alg;
    return EXIT_OK;
}

int cli_parse_enc(const char *command, const char *text, jg_enc *out)
{
    jg_enc enc = jg_enc_from_name(text, strlen(text));
    if (enc == JG_ENC_UNKNOWN)
        return cli_usage(command, "unknown content encryption \"%s\"", text);
    *out = enc;
    return EXIT_OK;
}

int cli_parse_uint(const char *command, const char *option, const char *text, uint64_t max,
                   uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!isdigit((unsigned char)text[0]))
        return cli_usage(command, "%s: \"%s\" is not a number", option, text);
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return cli_usage(command, "%s: \"%s\" is not a number up to %llu", option, text,
                         (unsigned long long)max);
    *out = v;
    return EXIT_OK;
}

int cli_parse_duration(const char *command, const char *option, const char *text, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!isdigit((unsigned char)text[0]))
        return cli_usage(command, "%s: \"%s\" is not a duration (e.g. 30s, 15m, 1h, 2d)", option,
                         text);
    long long v = strtoll(text, &end, 10);
    long long unit = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        unit = 60, end++;
    else if (*end == 'h')
        unit = 3600, end++;
    else if (*end == 'd')
        unit = 86400, end++;
    /* Bound to 100 years so later arithmetic cannot overflow. */
    if (errno != 0 || *end != '\0' || v > 3155760000LL / unit)
        return cli_usage(command, "%s: \"%s\" is not a duration (e.g. 30s, 15m, 1h, 2d)", option,
                         text);
    *out = (int64_t)(v * unit);
    return EXIT_OK;
}

int cli_parse_time(const char *command, const char *option, const char *text, int64_t now,
                   int64_t *out)
{
    if (text[0] == '@') {
        uint64_t abs = 0;
        int status = cli_parse_uint(command, option, text + 1, 253402300799ULL, &abs);
        if (status == EXIT_OK)
            *out = (int64_t)abs;
        return status;
    }
    int64_t delta = 0;
    int status = cli_parse_duration(command, option, text[0] == '+' ? text + 1 : text, &delta);
    if (status == EXIT_OK)
        *out = now + delta;
    return status;
}

int cli_list_empty(const char *text)
{
    return text[strspn(text, " ,\t")] == '\0';
}

int cli_enc_allow_list(const char *command, const char *list, jg_enc_set *out)
{
    if (list == NULL) {
        *out = JG_ENC_SET_ALL; /* the CLI's default: every (authenticated) "enc" */
        return EXIT_OK;
    }
    if (cli_list_empty(list))
        return cli_usage(command,
                         "--enc \"%s\" is an empty allow-list: name at least one (e.g. --enc "
                         "A256GCM), or omit --enc to accept every content encryption",
                         list);
    jg_err err = jg_enc_set_parse(list, out);
    if (err != JG_OK)
        return cli_usage(command, "--enc %s: %s", list, jg_strerror(err));
    return EXIT_OK;
}

char **cli_split_list(const char *text)
{
    size_t items = 1, len = strlen(text);
    for (const char *p = text; *p; p++)
        items += *p == ',';
    /* Pointers first, then a copy of the text cut at the commas. */
    char **list = malloc((items + 1) * sizeof *list + len + 1);
    if (list == NULL)
        return NULL;
    char *copy = (char *)(list + items + 1);
    memcpy(copy, text, len + 1);
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (*tok != '\0')
            list[n++] = tok;
    }
    list[n] = NULL;
    return list;
}
