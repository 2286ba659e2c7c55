/*
 * testutil.h — helpers shared by the unit tests: reading files and test
 * vectors, and counting vectors so each program can print how many of each
 * kind passed.
 */
#ifndef JG_TESTUTIL_H
#define JG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "jwtgate/jwtgate.h"

/* Assert that an expression returns a given jg_err, printing names on failure. */
#define assert_jg(expected, expr)                                                                  \
    do {                                                                                           \
        jg_err jg_got__ = (expr);                                                                  \
        if (jg_got__ != (expected))                                                                \
            fail_msg("%s: expected %s, got %s (%s)", #expr, jg_err_name(expected),                 \
                     jg_err_name(jg_got__), jg_strerror(jg_got__));                                \
    } while (0)
#define assert_jg_ok(expr) assert_jg(JG_OK, expr)

/* Whole file as a NUL-terminated buffer (malloc'd); fails the test if unreadable. */
char *tu_read_file(const char *path, size_t *len);

/* Path under tests/vectors (static buffer, valid until the next call). */
const char *tu_vector_path(const char *relative);

/* Load a JSON file under tests/vectors; fails the test on error. */
json_t *tu_load_vector(const char *relative);

/* The string at a '/'-separated path of object members ("input/key/kty"),
 * or NULL when absent. */
const char *tu_json_str(json_t *root, const char *path);
json_t *tu_json_at(json_t *root, const char *path);

/* A JSON value as compact text in insertion order (malloc'd). */
char *tu_json_text(json_t *value);

/* Count a passed vector of a kind ("jwk", "jws", ...); printed by tu_report(). */
void tu_count(const char *kind);
/* Print "vectors passed: <kind>=<n> ..." for the program; call after the run. */
void tu_report(const char *program);

/* Fixed clock for validation tests. */
int64_t tu_clock(void *ctx);

#endif /* JG_TESTUTIL_H */
