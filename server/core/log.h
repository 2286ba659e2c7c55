/*
 * log.h — jwtgated's log: one line per event on stderr. Callers never pass
 * secrets, tokens, request bodies or Authorization headers here.
 */
#ifndef JGD_LOG_H
#define JGD_LOG_H

typedef enum log_level { L_ERR = 0, L_WARN, L_INFO, L_DEBUG } log_level;

void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
