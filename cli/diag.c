/* diag.c — error messages and exit statuses of the command-line tool. */
#include <stdarg.h>
#include <stdio.h>

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
    fprintf(stderr, "jwtgate %s: ", command);
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here (false positive). */
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    fprintf(stderr, "\nTry 'jwtgate %s --help'.\n", command);
    return EXIT_USAGE;
}

int cli_reject(const char *command, jg_err err, const jg_detail *detail)
{
    char line[512];
    size_t n = jg_detail_format(detail, line, sizeof line);
    if (n > 0)
        return cli_fail(cli_reject_status(err), "%s: %s: %s", command, jg_strerror(err), line);
    return cli_fail(cli_reject_status(err), "%s: %s", command, jg_strerror(err));
}

int cli_reject_status(jg_err err)
{
    switch (err) {
    case JG_OK:
        return EXIT_OK;
    case JG_ERR_NOMEM:
    case JG_ERR_INVALID_ARGUMENT:
    case JG_ERR_CRYPTO:
    case JG_ERR_KEYSET_MIXED: /* the key file, not the token */
        return EXIT_USAGE;
    default:
        return EXIT_REJECTED;
    }
}
