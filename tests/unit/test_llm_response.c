/* test_llm_response.c — nginx/llm non-streaming answers: same format (model
 * rewritten), OpenAI <-> Anthropic, usage exact, answers that are not the
 * format's shape. */
#include "llm_testlib.h"
#include "testutil.h"

static json_t *translate(jg_llm_format provider, jg_llm_format client, jg_llm_op op,
                         const char *body, jg_llm_usage *u)
{
    char *out = NULL;
    size_t len = 0;
    jg_llm_status st = jg_llm_response_translate(provider, client, op, "public", body, strlen(body),
                                                 &out, &len, u);
    if (st != JG_LLM_OK)
        fail_msg("translate: %d", st);
    assert_int_equal(strlen(out), len);
    json_t *j = lt_json(out);
    jg_llm_free(out);
    return j;
}

static char *vector(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "llm/%s", name);
    return tu_read_file(tu_vector_path(path), NULL);
}

static void test_same_format(void **state)
{
    (void)state;
    char *o = vector("openai_chat.json");
    jg_llm_usage u;
    json_t *j = translate(JG_LLM_OPENAI, JG_LLM_OPENAI, JG_LLM_CHAT, o, &u);
    assert_true(u.present);
    assert_int_equal(u.input, 2);
    assert_int_equal(u.output, 3);
    assert_string_equal(lt_str(j, "model"), "public");
    assert_string_equal(lt_str(j, "system_fingerprint"), "fp_mock");
    assert_string_equal(lt_str(j, "choices/0/message/content"), "You said: hello");
    json_decref(j);
    free(o);
    char *a = vector("anthropic_message.json");
    j = translate(JG_LLM_ANTHROPIC, JG_LLM_ANTHROPIC, JG_LLM_CHAT, a, &u);
    assert_int_equal(u.input, 2);
    assert_int_equal(u.output, 4);
    assert_string_equal(lt_str(j, "model"), "public");
    json_decref(j);
    free(a);
    j = translate(JG_LLM_OPENAI, JG_LLM_OPENAI, JG_LLM_EMBEDDINGS,
                  "{\"object\":\"list\",\"data\":[],\"model\":\"p\",\"usage\":{\"prompt_tokens\":"
                  "7,\"total_tokens\":7}}",
                  &u);
    assert_int_equal(u.input, 7);
    assert_int_equal(u.output, 0);
    assert_string_equal(lt_str(j, "model"), "public");
    json_decref(j);
}

static void test_openai_to_anthropic(void **state)
{
    (void)state;
    char *o = vector("openai_chat.json");
    jg_llm_usage u;
    json_t *j = translate(JG_LLM_OPENAI, JG_LLM_ANTHROPIC, JG_LLM_CHAT, o, &u);
    assert_string_equal(lt_str(j, "type"), "message");
    assert_string_equal(lt_str(j, "role"), "assistant");
    assert_string_equal(lt_str(j, "model"), "public");
    assert_string_equal(lt_str(j, "id"), "chatcmpl-mock-1");
    assert_string_equal(lt_str(j, "content/0/type"), "text");
    assert_string_equal(lt_str(j, "content/0/text"), "You said: hello");
    assert_string_equal(lt_str(j, "stop_reason"), "max_tokens"); /* finish_reason length */
    assert_true(json_is_null(lt_at(j, "stop_sequence")));
    assert_int_equal(lt_int(j, "usage/input_tokens"), 2);
    assert_int_equal(lt_int(j, "usage/output_tokens"), 3);
    json_decref(j);
    free(o);
    static const char *const map[][2] = {
        {"stop", "end_turn"}, {"content_filter", "refusal"}, {"other", "end_turn"}};
    for (size_t i = 0; i < 3; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                 "\"content\":null},\"finish_reason\":\"%s\"}]}",
                 map[i][0]);
        j = translate(JG_LLM_OPENAI, JG_LLM_ANTHROPIC, JG_LLM_CHAT, body, &u);
        assert_string_equal(lt_str(j, "stop_reason"), map[i][1]);
        assert_int_equal(json_array_size(lt_at(j, "content")), 0);
        assert_false(u.present);
        json_decref(j);
    }
}

static void test_anthropic_to_openai(void **state)
{
    (void)state;
    char *a = vector("anthropic_message.json");
    jg_llm_usage u;
    json_t *j = translate(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, JG_LLM_CHAT, a, &u);
    assert_string_equal(lt_str(j, "object"), "chat.completion");
    assert_string_equal(lt_str(j, "model"), "public");
    assert_string_equal(lt_str(j, "id"), "msg_mock_1");
    assert_string_equal(lt_str(j, "choices/0/message/role"), "assistant");
    assert_string_equal(lt_str(j, "choices/0/message/content"), "You said: hello there");
    assert_string_equal(lt_str(j, "choices/0/finish_reason"), "stop");
    assert_int_equal(lt_int(j, "usage/prompt_tokens"), 2);
    assert_int_equal(lt_int(j, "usage/completion_tokens"), 4);
    assert_int_equal(lt_int(j, "usage/total_tokens"), 6);
    json_decref(j);
    free(a);
    /* several text blocks (thinking skipped), max_tokens, cached input counted as input */
    j = translate(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, JG_LLM_CHAT,
                  "{\"id\":\"m\",\"type\":\"message\",\"content\":[{\"type\":\"thinking\","
                  "\"thinking\":\"hmm\"},{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
                  "\"text\":\"b\"}],\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":3,"
                  "\"cache_read_input_tokens\":10,\"cache_creation_input_tokens\":5,"
                  "\"output_tokens\":9}}",
                  &u);
    assert_string_equal(lt_str(j, "choices/0/message/content"), "ab");
    assert_string_equal(lt_str(j, "choices/0/finish_reason"), "length");
    assert_int_equal(u.input, 18);
    assert_int_equal(u.output, 9);
    assert_int_equal(lt_int(j, "usage/total_tokens"), 27);
    json_decref(j);
}

static void test_bad_answers(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "not json", "[]", "\"x\"", "{\"a\":1"};
    char *out = (char *)1;
    size_t len = 1;
    jg_llm_usage u;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        for (int p = 0; p < 2; p++)
            for (int c = 0; c < 2; c++) {
                assert_int_equal(jg_llm_response_translate((jg_llm_format)p, (jg_llm_format)c,
                                                           JG_LLM_CHAT, "m", bad[i], strlen(bad[i]),
                                                           &out, &len, &u),
                                 JG_LLM_EUPSTREAM);
                assert_null(out);
            }
    /* not the shape of the provider's format */
    const char *no_choices = "{\"id\":\"x\",\"object\":\"chat.completion\"}";
    assert_int_equal(jg_llm_response_translate(JG_LLM_OPENAI, JG_LLM_ANTHROPIC, JG_LLM_CHAT, "m",
                                               no_choices, strlen(no_choices), &out, &len, &u),
                     JG_LLM_EUPSTREAM);
    const char *no_content = "{\"id\":\"x\",\"type\":\"message\"}";
    assert_int_equal(jg_llm_response_translate(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, JG_LLM_CHAT, "m",
                                               no_content, strlen(no_content), &out, &len, &u),
                     JG_LLM_EUPSTREAM);
    const char *tools = "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{}]}}]}";
    assert_int_equal(jg_llm_response_translate(JG_LLM_OPENAI, JG_LLM_ANTHROPIC, JG_LLM_CHAT, "m",
                                               tools, strlen(tools), &out, &len, &u),
                     JG_LLM_EUPSTREAM);
    /* hostile usage numbers are not counted */
    const char *neg = "{\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":-5,"
                      "\"completion_tokens\":\"9\"}}";
    assert_int_equal(jg_llm_response_translate(JG_LLM_OPENAI, JG_LLM_OPENAI, JG_LLM_CHAT, "m", neg,
                                               strlen(neg), &out, &len, &u),
                     JG_LLM_OK);
    assert_int_equal(u.input, 0);
    assert_int_equal(u.output, 0);
    jg_llm_free(out);
}

static void test_provider_errors(void **state)
{
    (void)state;
    size_t len;
    const char *oe = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
                     "\"param\":null,\"code\":\"rate_limit_exceeded\"}}";
    const char *ae = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                     "\"message\":\"Overloaded\"}}";
    char *s = jg_llm_error_translate(JG_LLM_OPENAI, JG_LLM_ANTHROPIC, 429, oe, strlen(oe), &len);
    json_t *j = lt_json(s);
    assert_string_equal(lt_str(j, "type"), "error");
    assert_string_equal(lt_str(j, "error/type"), "rate_limit_error");
    assert_string_equal(lt_str(j, "error/message"), "Rate limit reached");
    json_decref(j);
    jg_llm_free(s);
    s = jg_llm_error_translate(JG_LLM_ANTHROPIC, JG_LLM_OPENAI, 529, ae, strlen(ae), &len);
    j = lt_json(s);
    assert_string_equal(lt_str(j, "error/type"), "server_error");
    assert_string_equal(lt_str(j, "error/message"), "Overloaded");
    json_decref(j);
    jg_llm_free(s);
    s = jg_llm_error_translate(JG_LLM_OPENAI, JG_LLM_OPENAI, 429, oe, strlen(oe), &len);
    j = lt_json(s);
    assert_string_equal(lt_str(j, "error/type"), "requests");
    assert_string_equal(lt_str(j, "error/code"), "rate_limit_exceeded");
    json_decref(j);
    jg_llm_free(s);
    /* not the error shape: a generic message, the body not copied */
    const char *html = "<html>bad gateway sk-leak</html>";
    s = jg_llm_error_translate(JG_LLM_ANTHROPIC, JG_LLM_ANTHROPIC, 502, html, strlen(html), &len);
    assert_null(strstr(s, "sk-leak"));
    j = lt_json(s);
    assert_string_equal(lt_str(j, "error/message"), "the provider answered 502");
    assert_string_equal(lt_str(j, "error/type"), "api_error");
    json_decref(j);
    jg_llm_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_format),         cmocka_unit_test(test_openai_to_anthropic),
        cmocka_unit_test(test_anthropic_to_openai), cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_provider_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
