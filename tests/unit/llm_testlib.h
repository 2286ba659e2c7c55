/*
 * llm_testlib.h — helpers of the test_llm_* programs (nginx/llm): parsing
 * and building requests with assertions, reading members of the result.
 */
#ifndef JG_LLM_TESTLIB_H
#define JG_LLM_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jg_llm.h"

/* json_loads or fail. */
static inline json_t *lt_json(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
    if (j == NULL)
        fail_msg("not JSON (%s): %s", e.text, s);
    return j;
}

/* Parse body (fmt, op) and expect st; returns the request when JG_LLM_OK. */
static inline jg_llm_request *lt_parse(jg_llm_format fmt, jg_llm_op op, const char *body,
                                       jg_llm_status expect, char err[JG_LLM_ERR_MAX])
{
    jg_llm_request *req = NULL;
    char local[JG_LLM_ERR_MAX] = "";
    jg_llm_status st =
        jg_llm_request_parse(fmt, op, body, strlen(body), 0, &req, err != NULL ? err : local);
    if (st != expect)
        fail_msg("parse: expected %d, got %d (%s) for %.200s", expect, st,
                 err != NULL ? err : local, body);
    if (st != JG_LLM_OK)
        assert_null(req);
    return req;
}

/* Build the provider body of an OpenAI/Anthropic chat request, parsed as JSON. */
static inline json_t *lt_build(jg_llm_format client, const char *body, jg_llm_format provider,
                               const char *model)
{
    jg_llm_request *req = lt_parse(client, JG_LLM_CHAT, body, JG_LLM_OK, NULL);
    char *out = NULL;
    size_t len = 0;
    char err[JG_LLM_ERR_MAX] = "";
    jg_llm_status st = jg_llm_request_build(req, provider, model, &out, &len, err);
    if (st != JG_LLM_OK)
        fail_msg("build: %d (%s)", st, err);
    assert_int_equal(strlen(out), len);
    json_t *j = lt_json(out);
    jg_llm_free(out);
    jg_llm_request_free(req);
    return j;
}

/* Member at a '/'-separated path ("messages/0/content"; numbers index arrays). */
static inline json_t *lt_at(json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *p = strtok_r(buf, "/", &save); p != NULL && j != NULL;
         p = strtok_r(NULL, "/", &save)) {
        if (json_is_array(j))
            j = json_array_get(j, strtoul(p, NULL, 10));
        else
            j = json_object_get(j, p);
    }
    return j;
}

static inline const char *lt_str(json_t *j, const char *path)
{
    return json_string_value(lt_at(j, path));
}

static inline json_int_t lt_int(json_t *j, const char *path)
{
    json_t *v = lt_at(j, path);
    if (!json_is_integer(v))
        fail_msg("%s: not an integer", path);
    return json_integer_value(v);
}

#endif /* JG_LLM_TESTLIB_H */
