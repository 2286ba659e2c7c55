/*
 * jg_llm_scan.h — a validating, non-allocating JSON scanner for the
 * same-format fast paths: it checks a body the way jg__llm_loads() would
 * (jansson with JSON_REJECT_DUPLICATES and the depth limit) without building a
 * tree, and reports an object's members as spans of the input. Internal to
 * nginx/llm; thread safe (no state beyond the caller's jg__llm_obj).
 */
#ifndef JG_LLM_SCAN_H
#define JG_LLM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Members of one object the scanner tracks (for its duplicate check); an object
 * with more is JG__SCAN_UNSURE, and the caller takes the jansson path. */
#define JG__SCAN_MAX_MEMBERS 32

typedef enum {
    JG__SCAN_OK = 0,
    JG__SCAN_INVALID, /* jansson would refuse it too */
    JG__SCAN_UNSURE   /* beyond what the scanner decides: ask jansson */
} jg__scan_rc;

/* One member: name[0..name_len) is the raw text between the quotes (escaped
 * when name_esc), value[0..value_len) the value's exact text. */
typedef struct {
    const char *name;
    size_t name_len;
    bool name_esc;
    const char *value;
    size_t value_len;
} jg__llm_member;

/* A scanned object: open/close point at its braces. */
typedef struct {
    const char *open, *close;
    size_t n;
    jg__llm_member m[JG__SCAN_MAX_MEMBERS];
} jg__llm_obj;

/* Validates s[0..len) as one JSON object (white space around it allowed) and
 * fills *obj with its top-level members. JG__SCAN_OK only when jg__llm_loads()
 * would return an object; JG__SCAN_INVALID only when it would return NULL or a
 * non-object. */
jg__scan_rc jg__llm_scan_object(const char *s, size_t len, jg__llm_obj *obj);

/* The member of obj named name[0..n) (plain ASCII, compared with the decoded
 * name), or NULL. */
const jg__llm_member *jg__llm_scan_getn(const jg__llm_obj *obj, const char *name, size_t n);

/* The same for a NUL-terminated name (inline: a literal's length is then
 * known when compiling, and the fast paths look up a dozen names a body). */
static inline const jg__llm_member *jg__llm_scan_get(const jg__llm_obj *obj, const char *name)
{
    return jg__llm_scan_getn(obj, name, strlen(name));
}

/* The elements of an array value v[0..n) of a successful scan, in order. */
typedef struct {
    const char *p, *end;
} jg__llm_iter;

void jg__llm_scan_iter(jg__llm_iter *it, const char *v, size_t n);
/* The next element's text in *v, *n; false after the last. */
bool jg__llm_scan_next(jg__llm_iter *it, const char **v, size_t *n);
/* The same, and when the element is an object its members in *obj (as
 * jg__llm_scan_object would give them, without a second scan); obj->n is 0
 * for any other element. */
bool jg__llm_scan_next_obj(jg__llm_iter *it, const char **v, size_t *n, jg__llm_obj *obj);

/* Whether m's value is the string `s` written without escapes. */
bool jg__llm_scan_str_is(const jg__llm_member *m, const char *s);

/* Value kinds by their first byte. */
static inline bool jg__llm_scan_is_object(const jg__llm_member *m)
{
    return m != NULL && m->value[0] == '{';
}

/* What jg__llm_count() gives for this value: a non-negative JSON integer (no
 * fraction or exponent), else 0. The value must come from a scan. */
uint64_t jg__llm_scan_count(const jg__llm_member *m);

/* The length of s (NUL terminated) as a JSON string literal, quotes included,
 * and that literal written at out (not NUL terminated). Escapes as jansson
 * does (no ensure-ascii, no escaped slash); s must be ASCII or valid UTF-8. */
size_t jg__llm_escaped_len(const char *s);
void jg__llm_escape(const char *s, char *out);

#endif /* JG_LLM_SCAN_H */
