/*
 * header.h — rules shared by JWS and JWE headers (internal): "crit"
 * (RFC 7515 section 4.1.11) and the requirement that a parameter name appears
 * in only one of the protected and unprotected headers (RFC 7515 section 7.2,
 * RFC 7516 section 7.2.1).
 */
#ifndef JG_LIB_CORE_HEADER_H
#define JG_LIB_CORE_HEADER_H

#include <stddef.h>

#include <jansson.h>

#include "core/jdoc.h"
#include "jwtgate/error.h"

/*
 * Check "crit". `protected_hdr` may be NULL (no protected header); any of
 * the `n_unprotected` unprotected headers may be NULL. A "crit" there is
 * JG_ERR_CRIT_UNPROTECTED. In the protected header it must be a non-empty
 * array of distinct strings (JG_ERR_CRIT_INVALID), none of them a name
 * registered by RFC 7515/7516/7518 (JG_ERR_CRIT_INVALID), each present in
 * the protected header (JG_ERR_CRIT_INVALID), and each either in
 * `library_understood` (what the library itself processes, e.g. "b64" for
 * JWS) or in `caller_understood` (JG_ERR_CRIT_UNKNOWN otherwise). Both lists
 * are NULL-terminated and may be NULL.
 */
jg_err jg__crit_check(const json_t *protected_hdr, const json_t *const *unprotected,
                      size_t n_unprotected, const char *const *library_understood,
                      const char *const *caller_understood);

/* The first name of a well-formed "crit" of `protected_hdr` that neither
 * list understands (for a rejection detail), or NULL. Borrowed. */
const char *jg__crit_unknown_name(const json_t *protected_hdr,
                                  const char *const *library_understood,
                                  const char *const *caller_understood);

/* JG_ERR_HEADER_DUPLICATE when any member name of `a` is also in `b`.
 * Either may be NULL. */
jg_err jg__header_disjoint(const json_t *a, const json_t *b);

/*
 * The string member `name` of the first header (in order; NULL entries are
 * skipped) that has it, for the public *_header_string() accessors. Errors:
 * JG_ERR_CLAIM_MISSING (no header has it), JG_ERR_JSON_TYPE (not a string).
 */
jg_err jg__header_string(const json_t *const *headers, size_t n, const char *name,
                         const char **out);

/* A header as compact JSON with sorted members; "{}" for NULL (no protected
 * header). Errors: JG_ERR_NOMEM. */
jg_err jg__header_dump(const json_t *header, char **out);

/*
 * The same rules for headers read with the library's own reader (JWS
 * verification): a header is the object at node `obj` of `doc`, absent when
 * `doc` is NULL. Same results and errors as the jansson versions above.
 */
typedef struct jg__jhdr {
    const jg__jdoc *doc;
    uint32_t obj;
} jg__jhdr;

/* The value node of member `name`, or 0 when the header or member is absent. */
static inline uint32_t jg__jhdr_get(jg__jhdr h, const char *name)
{
    return h.doc != NULL ? jg__jdoc_get(h.doc, h.obj, name) : 0;
}

jg_err jg__crit_check_jdoc(jg__jhdr protected_hdr, const jg__jhdr *unprotected,
                           size_t n_unprotected, const char *const *library_understood,
                           const char *const *caller_understood);
/* Errors: JG_ERR_HEADER_DUPLICATE, JG_ERR_NOMEM. */
jg_err jg__header_disjoint_jdoc(jg__jhdr a, jg__jhdr b);
/* jg__crit_unknown_name() for a header of the library's own reader. */
const char *jg__crit_unknown_name_jdoc(jg__jhdr protected_hdr,
                                       const char *const *library_understood,
                                       const char *const *caller_understood);
jg_err jg__header_string_jdoc(const jg__jhdr *headers, size_t n, const char *name,
                              const char **out);

#endif /* JG_LIB_CORE_HEADER_H */
