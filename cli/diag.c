/* diag.c — error messages and exit statuses of the command-line tool.
 * Every message starts "jwtgate: <command>: ". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    fputs("jwtgate: ", stderr);
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here (false positive). */
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

int cli_usage(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "jwtgate: %s: ", command);
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here (false positive). */
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    fprintf(stderr, "\nTry 'jwtgate %s --help'.\n", command);
    return EXIT_USAGE;
}

int cli_reject_status(jg_err err)
{
    switch (err) {
    case JG_OK:
        return EXIT_OK;
    /* The caller's setup or the machine, whatever the token. */
    case JG_ERR_NOMEM:
    case JG_ERR_INVALID_ARGUMENT:
    case JG_ERR_CRYPTO:
    case JG_ERR_ALGS_EMPTY:
    case JG_ERR_KEY_ALGS_EMPTY:
    case JG_ERR_ENCS_EMPTY:
    case JG_ERR_NESTED_KEY:   /* a key given both to decrypt and to verify */
    case JG_ERR_KEYSET_MIXED: /* the key file, not the token */
        return EXIT_USAGE;
    default:
        return EXIT_REJECTED;
    }
}

/* Why a token may hold characters base64url refuses: a hint, never the token. */
static const char *b64_hint(const char *token, size_t len)
{
    if (len >= 7 && strncasecmp(token, "Bearer ", 7) == 0)
        return " (the token still starts with \"Bearer \": only one prefix is removed)";
    for (size_t i = 0; i < len; i++)
        if (token[i] == ' ' || token[i] == '\t' || token[i] == '\r' || token[i] == '\n')
            return " (the token holds whitespace: was it broken across lines? "
                   "Surrounding whitespace and one \"Bearer \" prefix are removed, "
                   "inner whitespace is not)";
    return "";
}

int cli_token_error(const char *command, jg_err err, const char *token, size_t len,
                    const jg_detail *detail)
{
    int status = cli_reject_status(err);
    const char *hint = err == JG_ERR_B64_CHAR && token != NULL ? b64_hint(token, len) : "";
    char line[512];
    size_t n = jg_detail_format(detail, line, sizeof line);
    return cli_fail(status, "%s: %s%s%s%s%s", command,
                    status == EXIT_REJECTED ? "token rejected: " : "", jg_strerror(err),
                    n > 0 ? ": " : "", n > 0 ? line : "", hint);
}
