/*
 * form.h — application/x-www-form-urlencoded bodies (RFC 6749 appendix B)
 * and HTTP Basic credentials (RFC 6749 section 2.3.1, RFC 7617).
 */
#ifndef JGD_FORM_H
#define JGD_FORM_H

#include <stddef.h>

#define FORM_MAX_PARAMS 32

typedef struct form {
    size_t count;
    char *name[FORM_MAX_PARAMS];
    char *value[FORM_MAX_PARAMS];
} form;

/* Parse; names and values are percent-decoded ('+' is a space). 0, or -1
 * for malformed input (bad escape, NUL, too many parameters). */
int form_parse(const char *body, size_t len, form *out);
/* Remove every parameter whose value is empty (RFC 6749 section 3.2). */
void form_drop_empty(form *f);
/* Wipe and free (values may hold secrets). */
void form_free(form *f);
/* The value of `name`; NULL when absent. *count (optional) gets how many
 * times it appears. */
const char *form_get(const form *f, const char *name, size_t *count);
/* Whether some parameter other than those in `multi` (NULL-terminated)
 * appears more than once (RFC 6749 section 3.2: parameters MUST NOT repeat). */
int form_has_repeats(const form *f, const char *const *multi);

/* Split "Basic base64(urlenc(id):urlenc(secret))". 0, or -1 when the
 * header is not a well-formed Basic credential. Free both with
 * jg_free_secret(). */
int basic_parse(const char *header, char **id, char **secret);

/* Percent-decode `len` bytes (with '+' as space when `plus`); malloc'd. */
char *pct_decode(const char *s, size_t len, int plus);

#endif
