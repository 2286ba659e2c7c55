/*
 * jg_llm_int.h — what the files of nginx/llm share: JSON parsing with the
 * depth limit, compact dumping, error messages, the stop-reason mapping.
 */
#ifndef JG_LLM_INT_H
#define JG_LLM_INT_H

#include <jansson.h>

#include "jg_llm.h"

/* printf into err[JG_LLM_ERR_MAX] (err may be NULL). */
void jg__llm_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether s[0..len) nests arrays/objects at most max deep (strings skipped). */
bool jg__llm_depth_ok(const char *s, size_t len, int max);

/* s[0..len) parsed (depth checked first, duplicate members refused), or NULL. */
json_t *jg__llm_loads(const char *s, size_t len);

/* j as compact JSON (malloc'd, *len bytes, NUL terminated), or NULL on ENOMEM. */
char *jg__llm_dump(const json_t *j, size_t *len);

/* OpenAI finish_reason -> Anthropic stop_reason and back (never NULL). */
const char *jg__llm_stop_reason(const char *finish_reason);
const char *jg__llm_finish_reason(const char *stop_reason);

/* An unsigned count from member `name` of obj (0 when absent or not a non-negative integer). */
uint64_t jg__llm_count(const json_t *obj, const char *name);

/* input + output as a JSON integer (both at most INT64_MAX: saturated, never overflows). */
static inline json_int_t jg__llm_total(uint64_t input, uint64_t output)
{
    uint64_t t = input + output;
    return t > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)t;
}

#endif /* JG_LLM_INT_H */
