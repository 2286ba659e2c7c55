/* log.c — timestamped lines on stderr, one write() each so threads do not interleave. */
#include "server/core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Lines up to L_INFO are written (nothing sets another level). */
static const int current_level = L_INFO;

void log_msg(log_level level, const char *fmt, ...)
{
    if ((int)level > current_level)
        return;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ jwtgated %s: ", ts.tv_nsec / 1000000,
                          names[level]);
    va_list ap;
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here (false positive). */
    size_t room = sizeof line - n;
    int m = vsnprintf(line + n, room, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    if (m < 0)
        return;
    size_t start = n;
    n = n + (size_t)m < sizeof line - 1 ? n + (size_t)m : sizeof line - 2;
    /* One event, one line: names from requests (a client_id, a path) may
     * carry control characters, which must not forge or split log lines. */
    for (size_t i = start; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
