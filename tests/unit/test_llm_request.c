/* test_llm_request.c — nginx/llm requests: the format table, checking client
 * bodies (hostile ones included), building the provider's body in the same
 * format and across OpenAI <-> Anthropic, what is refused. */
#include "llm_testlib.h"

static void test_format_table(void **state)
{
    (void)state;
    jg_llm_format f;
    assert_int_equal(jg_llm_format_by_name("anthropic", 9, &f), 0);
    assert_int_equal(f, JG_LLM_ANTHROPIC);
    assert_int_equal(jg_llm_format_by_name("openai", 6, &f), 0);
    assert_int_equal(f, JG_LLM_OPENAI);
    assert_int_equal(jg_llm_format_by_name("openai2", 7, &f), -1);
    assert_int_equal(jg_llm_format_by_name("open", 4, &f), -1);
    const jg_llm_format_info *o = jg_llm_format_get(JG_LLM_OPENAI);
    const jg_llm_format_info *a = jg_llm_format_get(JG_LLM_ANTHROPIC);
    assert_string_equal(o->chat_path, "/chat/completions");
    assert_string_equal(o->auth_header, "Authorization");
    assert_string_equal(o->auth_prefix, "Bearer ");
    assert_null(o->extra_header);
    assert_string_equal(a->chat_path, "/messages");
    assert_string_equal(a->auth_header, "x-api-key");
    assert_string_equal(a->extra_header, "anthropic-version");
    assert_string_equal(a->extra_value, "2023-06-01");
    assert_null(a->embeddings_path);
    assert_null(jg_llm_format_get(JG_LLM_FORMAT_COUNT));
    assert_int_equal(jg_llm_status_http(JG_LLM_EINVAL), 400);
    assert_int_equal(jg_llm_status_http(JG_LLM_EUNSUPPORTED), 400);
    assert_int_equal(jg_llm_status_http(JG_LLM_ETOOBIG), 413);
    assert_int_equal(jg_llm_status_http(JG_LLM_EUPSTREAM), 502);
}

static void test_openai_same_format(void **state)
{
    (void)state;
    const char *body =
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"stream\":true,\"seed\":7,\"x_unknown\":{\"a\":[1]}}";
    jg_llm_request *req = lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, body, JG_LLM_OK, NULL);
    assert_string_equal(jg_llm_request_model(req), "gpt-4o");
    assert_true(jg_llm_request_stream(req));
    assert_false(jg_llm_request_wants_usage(req));
    assert_int_equal(jg_llm_request_format(req), JG_LLM_OPENAI);
    assert_int_equal(jg_llm_request_op(req), JG_LLM_CHAT);
    jg_llm_request_free(req);

    json_t *j = lt_build(JG_LLM_OPENAI, body, JG_LLM_OPENAI, "gpt-4o-2024-08-06");
    assert_string_equal(lt_str(j, "model"), "gpt-4o-2024-08-06");
    assert_true(json_is_true(lt_at(j, "stream_options/include_usage")));
    assert_int_equal(lt_int(j, "seed"), 7);
    assert_int_equal(lt_int(j, "x_unknown/a/0"), 1);
    assert_string_equal(lt_str(j, "messages/0/content"), "hi");
    json_decref(j);

    /* the client asked for usage itself; not streaming: no stream_options added */
    req = lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT,
                   "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                   "\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
                   JG_LLM_OK, NULL);
    assert_true(jg_llm_request_wants_usage(req));
    jg_llm_request_free(req);
    j = lt_build(JG_LLM_OPENAI,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                 JG_LLM_OPENAI, "p");
    assert_null(lt_at(j, "stream_options"));
    json_decref(j);
}

static void test_embeddings(void **state)
{
    (void)state;
    const char *body = "{\"model\":\"emb\",\"input\":[\"a\",\"b\"],\"dimensions\":8}";
    jg_llm_request *req = lt_parse(JG_LLM_OPENAI, JG_LLM_EMBEDDINGS, body, JG_LLM_OK, NULL);
    char *out = NULL;
    size_t len = 0;
    char err[JG_LLM_ERR_MAX];
    assert_int_equal(
        jg_llm_request_build(req, JG_LLM_OPENAI, "text-embedding-3-small", &out, &len, err),
        JG_LLM_OK);
    json_t *j = lt_json(out);
    assert_string_equal(lt_str(j, "model"), "text-embedding-3-small");
    assert_int_equal(lt_int(j, "dimensions"), 8);
    json_decref(j);
    jg_llm_free(out);
    assert_int_equal(jg_llm_request_build(req, JG_LLM_ANTHROPIC, "c", &out, &len, err),
                     JG_LLM_EUNSUPPORTED);
    assert_null(out);
    jg_llm_request_free(req);
    lt_parse(JG_LLM_OPENAI, JG_LLM_EMBEDDINGS, "{\"model\":\"e\"}", JG_LLM_EINVAL, NULL);
    lt_parse(JG_LLM_OPENAI, JG_LLM_EMBEDDINGS, "{\"model\":\"e\",\"input\":[]}", JG_LLM_EINVAL,
             NULL);
    lt_parse(JG_LLM_ANTHROPIC, JG_LLM_EMBEDDINGS, body, JG_LLM_EINVAL, NULL);
    lt_parse(JG_LLM_OPENAI, JG_LLM_MODELS, body, JG_LLM_EINVAL, NULL);
}

static void test_openai_to_anthropic(void **state)
{
    (void)state;
    json_t *j = lt_build(
        JG_LLM_OPENAI,
        "{\"model\":\"gpt-4o\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"be brief\"},"
        "{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"and kind\"}]},"
        "{\"role\":\"user\",\"content\":\"hello\"},"
        "{\"role\":\"assistant\",\"content\":\"hi\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBO\"}},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x.test/a.png\"}}]}],"
        "\"temperature\":1.5,\"top_p\":0.9,\"stop\":\"END\",\"user\":\"u1\",\"stream\":true,"
        "\"stream_options\":{\"include_usage\":true},\"seed\":3,\"frequency_penalty\":0.5}",
        JG_LLM_ANTHROPIC, "claude-sonnet-4-5");
    assert_string_equal(lt_str(j, "model"), "claude-sonnet-4-5");
    assert_string_equal(lt_str(j, "system"), "be brief\n\nand kind");
    assert_int_equal(json_array_size(lt_at(j, "messages")), 3);
    assert_string_equal(lt_str(j, "messages/0/role"), "user");
    assert_string_equal(lt_str(j, "messages/0/content"), "hello");
    assert_string_equal(lt_str(j, "messages/1/role"), "assistant");
    assert_string_equal(lt_str(j, "messages/2/content/0/text"), "look");
    assert_string_equal(lt_str(j, "messages/2/content/1/type"), "image");
    assert_string_equal(lt_str(j, "messages/2/content/1/source/type"), "base64");
    assert_string_equal(lt_str(j, "messages/2/content/1/source/media_type"), "image/png");
    assert_string_equal(lt_str(j, "messages/2/content/1/source/data"), "iVBO");
    assert_string_equal(lt_str(j, "messages/2/content/2/source/url"), "https://x.test/a.png");
    assert_int_equal(lt_int(j, "max_tokens"), JG_LLM_DEFAULT_MAX_TOKENS);
    assert_true(json_real_value(lt_at(j, "temperature")) == 1.0); /* clamped to Anthropic's range */
    assert_true(json_real_value(lt_at(j, "top_p")) == 0.9);
    assert_string_equal(lt_str(j, "stop_sequences/0"), "END");
    assert_string_equal(lt_str(j, "metadata/user_id"), "u1");
    assert_true(json_is_true(lt_at(j, "stream")));
    assert_null(lt_at(j, "stream_options"));
    assert_null(lt_at(j, "seed"));
    assert_null(lt_at(j, "frequency_penalty"));
    json_decref(j);

    j = lt_build(JG_LLM_OPENAI,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                 "\"max_tokens\":50,\"max_completion_tokens\":20,\"stop\":[\"a\",\"b\"]}",
                 JG_LLM_ANTHROPIC, "c");
    assert_int_equal(lt_int(j, "max_tokens"), 20);
    assert_int_equal(json_array_size(lt_at(j, "stop_sequences")), 2);
    assert_null(lt_at(j, "system"));
    assert_null(lt_at(j, "stream"));
    json_decref(j);
}

static void test_anthropic_to_openai(void **state)
{
    (void)state;
    json_t *j = lt_build(
        JG_LLM_ANTHROPIC,
        "{\"model\":\"claude\",\"max_tokens\":300,\"system\":[{\"type\":\"text\",\"text\":\"sys\"}]"
        ","
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
        "{\"type\":\"text\",\"text\":\"b\"}]},{\"role\":\"assistant\",\"content\":\"ok\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"see\"},{\"type\":\"image\","
        "\"source\":{\"type\":\"base64\",\"media_type\":\"image/jpeg\",\"data\":\"/9j/\"}}]}],"
        "\"stop_sequences\":[\"X\"],\"temperature\":0.2,\"top_k\":5,\"stream\":true,"
        "\"metadata\":{\"user_id\":\"u2\"}}",
        JG_LLM_OPENAI, "gpt-4o-2024-08-06");
    assert_string_equal(lt_str(j, "model"), "gpt-4o-2024-08-06");
    assert_string_equal(lt_str(j, "messages/0/role"), "system");
    assert_string_equal(lt_str(j, "messages/0/content"), "sys");
    assert_string_equal(lt_str(j, "messages/1/content"), "a\nb");
    assert_string_equal(lt_str(j, "messages/2/role"), "assistant");
    assert_string_equal(lt_str(j, "messages/3/content/0/text"), "see");
    assert_string_equal(lt_str(j, "messages/3/content/1/image_url/url"),
                        "data:image/jpeg;base64,/9j/");
    assert_int_equal(lt_int(j, "max_tokens"), 300);
    assert_string_equal(lt_str(j, "stop/0"), "X");
    assert_string_equal(lt_str(j, "user"), "u2");
    assert_true(json_is_true(lt_at(j, "stream_options/include_usage")));
    assert_null(lt_at(j, "top_k"));
    json_decref(j);

    /* same format: model replaced, the rest as sent */
    j = lt_build(JG_LLM_ANTHROPIC,
                 "{\"model\":\"claude\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\","
                 "\"content\":\"x\"}],\"top_k\":5,\"stream\":true}",
                 JG_LLM_ANTHROPIC, "claude-sonnet-4-5");
    assert_string_equal(lt_str(j, "model"), "claude-sonnet-4-5");
    assert_int_equal(lt_int(j, "top_k"), 5);
    assert_null(lt_at(j, "stream_options"));
    json_decref(j);
    jg_llm_request *req =
        lt_parse(JG_LLM_ANTHROPIC, JG_LLM_CHAT,
                 "{\"model\":\"c\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"x\"}]}",
                 JG_LLM_OK, NULL);
    assert_true(jg_llm_request_wants_usage(req));
    assert_false(jg_llm_request_stream(req));
    jg_llm_request_free(req);
}

/* Valid in the client's format, refused across: 400 with a reason. */
static void expect_unsupported(jg_llm_format client, const char *body, const char *reason)
{
    jg_llm_request *req = lt_parse(client, JG_LLM_CHAT, body, JG_LLM_OK, NULL);
    char *out = (char *)1;
    size_t len = 1;
    char err[JG_LLM_ERR_MAX] = "";
    jg_llm_format other = client == JG_LLM_OPENAI ? JG_LLM_ANTHROPIC : JG_LLM_OPENAI;
    assert_int_equal(jg_llm_request_build(req, other, "p", &out, &len, err), JG_LLM_EUNSUPPORTED);
    assert_null(out);
    if (strstr(err, reason) == NULL)
        fail_msg("error '%s' does not name '%s'", err, reason);
    /* the same format takes it */
    assert_int_equal(jg_llm_request_build(req, client, "p", &out, &len, err), JG_LLM_OK);
    jg_llm_free(out);
    jg_llm_request_free(req);
}

#define OA_USER "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]"

static void test_refused_across_formats(void **state)
{
    (void)state;
    expect_unsupported(JG_LLM_OPENAI,
                       "{\"model\":\"m\"," OA_USER ",\"tools\":[{\"type\":\"function\"}]}",
                       "tools");
    expect_unsupported(JG_LLM_OPENAI, "{\"model\":\"m\"," OA_USER ",\"n\":2}", "n:");
    expect_unsupported(JG_LLM_OPENAI,
                       "{\"model\":\"m\"," OA_USER
                       ",\"response_format\":{\"type\":\"json_object\"}}",
                       "response_format");
    expect_unsupported(JG_LLM_OPENAI,
                       "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                       "{\"role\":\"tool\",\"content\":\"r\",\"tool_call_id\":\"t\"}]}",
                       "tool");
    expect_unsupported(JG_LLM_OPENAI,
                       "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":null,"
                       "\"tool_calls\":[{\"id\":\"t\"}]}]}",
                       "tool calls");
    expect_unsupported(JG_LLM_OPENAI,
                       "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                       "[{\"type\":\"input_audio\",\"input_audio\":{}}]}]}",
                       "input_audio");
    expect_unsupported(JG_LLM_OPENAI,
                       "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                       "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"ftp://x\"}}]}]}",
                       "image_url");
    expect_unsupported(JG_LLM_OPENAI,
                       "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"}]}",
                       "user or assistant");
    expect_unsupported(JG_LLM_ANTHROPIC,
                       "{\"model\":\"c\",\"max_tokens\":5," OA_USER ",\"tools\":[{}]}", "tools");
    expect_unsupported(JG_LLM_ANTHROPIC,
                       "{\"model\":\"c\",\"max_tokens\":5," OA_USER
                       ",\"thinking\":{\"type\":\"enabled\"}}",
                       "thinking");
    expect_unsupported(JG_LLM_ANTHROPIC,
                       "{\"model\":\"c\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                       "\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t\"}]}]}",
                       "tool_result");
    expect_unsupported(JG_LLM_ANTHROPIC,
                       "{\"model\":\"c\",\"max_tokens\":5," OA_USER
                       ",\"stop_sequences\":[\"1\",\"2\",\"3\",\"4\",\"5\"]}",
                       "stop_sequences");
}

static void test_hostile_bodies(void **state)
{
    (void)state;
    char err[JG_LLM_ERR_MAX];
    jg_llm_request *req = NULL;
    /* size: over the limit, checked before anything else */
    size_t big = (size_t)2 * 1024 * 1024;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    assert_int_equal(jg_llm_request_parse(JG_LLM_OPENAI, JG_LLM_CHAT, huge, big, 0, &req, err),
                     JG_LLM_ETOOBIG);
    assert_int_equal(jg_llm_request_parse(JG_LLM_OPENAI, JG_LLM_CHAT, huge, 100, 99, &req, err),
                     JG_LLM_ETOOBIG);
    /* depth: 65 levels refused before jansson; 100000 too; 64 parse */
    size_t n = 100000;
    memset(huge, '[', n);
    memset(huge + n, ']', n);
    assert_int_equal(jg_llm_request_parse(JG_LLM_OPENAI, JG_LLM_CHAT, huge, 2 * n, 0, &req, err),
                     JG_LLM_EINVAL);
    assert_non_null(strstr(err, "deeper"));
    char deep[512];
    for (int levels = 64; levels <= 65; levels++) {
        int k = snprintf(deep, sizeof deep, "{\"model\":\"m\"," OA_USER ",\"x\":");
        for (int i = 1; i < levels; i++)
            deep[k++] = '[';
        for (int i = 1; i < levels; i++)
            deep[k++] = ']';
        deep[k++] = '}';
        deep[k] = '\0';
        err[0] = '\0';
        jg_llm_request_free(lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, deep,
                                     levels == 64 ? JG_LLM_OK : JG_LLM_EINVAL, err));
        if (levels == 65)
            assert_non_null(strstr(err, "deeper"));
    }
    /* brackets inside strings do not count */
    memset(huge, 0, 1024);
    int k = snprintf(huge, 1024, "{\"model\":\"m\"," OA_USER ",\"x\":\"");
    for (int i = 0; i < 200; i++)
        huge[k++] = '[';
    snprintf(huge + k, 1024 - (size_t)k, "\\\"\"}");
    req = lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, huge, JG_LLM_OK, NULL);
    jg_llm_request_free(req);
    free(huge);

    static const char *const bad[] = {
        "",
        "not json",
        "{\"model\":\"m\"",
        "[1,2]",
        "\"str\"",
        "null",
        "{}",
        "{\"model\":5," OA_USER "}",
        "{\"model\":\"\"," OA_USER "}",
        "{\"model\":\"has space\"," OA_USER "}",
        "{\"model\":\"quo\\\"te\"," OA_USER "}",
        "{\"model\":\"back\\\\slash\"," OA_USER "}",
        "{\"model\":\"ctl\\u0001\"," OA_USER "}",
        "{\"model\":\"nul\\u0000x\"," OA_USER "}",
        "{\"model\":\"\xc3\xa9t\xc3\xa9\"," OA_USER "}",
        "{\"model\":[\"m\"]," OA_USER "}",
        "{\"model\":\"m\",\"model\":\"n\"," OA_USER "}",
        "{\"model\":\"m\"}",
        "{\"model\":\"m\",\"messages\":[]}",
        "{\"model\":\"m\",\"messages\":{}}",
        "{\"model\":\"m\",\"messages\":[1]}",
        "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"root\",\"content\":\"x\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}",
        "{\"model\":\"m\"," OA_USER ",\"stream\":\"yes\"}",
        "{\"model\":\"m\"," OA_USER ",\"stream_options\":[]}",
        "{\"model\":\"m\"," OA_USER ",\"stream_options\":{\"include_usage\":1}}",
        "{\"model\":\"m\"," OA_USER ",\"max_tokens\":0}",
        "{\"model\":\"m\"," OA_USER ",\"max_tokens\":\"10\"}",
        "{\"model\":\"m\"," OA_USER ",\"temperature\":\"hot\"}",
        "{\"model\":\"m\"," OA_USER ",\"stop\":[1]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, bad[i], JG_LLM_EINVAL, err);
        assert_true(strlen(err) > 0);
    }
    char model[256];
    char name[130];
    memset(name, 'a', 129);
    name[129] = '\0';
    snprintf(model, sizeof model, "{\"model\":\"%s\"," OA_USER "}", name);
    lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, model, JG_LLM_EINVAL, NULL);
    name[128] = '\0';
    snprintf(model, sizeof model, "{\"model\":\"%s\"," OA_USER "}", name);
    jg_llm_request_free(lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, model, JG_LLM_OK, NULL));

    static const char *const bad_anthropic[] = {
        "{\"model\":\"c\"," OA_USER "}", /* max_tokens is required */
        "{\"model\":\"c\",\"max_tokens\":-1," OA_USER "}",
        "{\"model\":\"c\",\"max_tokens\":5,\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}",
        "{\"model\":\"c\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":null}]}",
        "{\"model\":\"c\",\"max_tokens\":5," OA_USER ",\"system\":5}",
        "{\"model\":\"c\",\"max_tokens\":5," OA_USER ",\"system\":[{\"type\":\"image\"}]}",
        "{\"model\":\"c\",\"max_tokens\":5," OA_USER ",\"stop_sequences\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bad_anthropic / sizeof *bad_anthropic; i++)
        lt_parse(JG_LLM_ANTHROPIC, JG_LLM_CHAT, bad_anthropic[i], JG_LLM_EINVAL, NULL);

    /* a NUL byte inside the body is not JSON */
    const char nul[] = "{\"model\":\"m\"\0," OA_USER "}";
    assert_int_equal(
        jg_llm_request_parse(JG_LLM_OPENAI, JG_LLM_CHAT, nul, sizeof nul - 1, 0, &req, err),
        JG_LLM_EINVAL);
    /* the error never quotes the body */
    lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, "{\"model\":\"sk-secret-like value\"," OA_USER "}",
             JG_LLM_EINVAL, err);
    assert_null(strstr(err, "secret"));
}

static void test_error_and_models_bodies(void **state)
{
    (void)state;
    size_t len = 0;
    char *s = jg_llm_error_body(JG_LLM_OPENAI, 429, NULL, "quota \"exceeded\"", NULL,
                                "quota_exceeded", &len);
    json_t *j = lt_json(s);
    assert_int_equal(strlen(s), len);
    assert_string_equal(lt_str(j, "error/message"), "quota \"exceeded\"");
    assert_string_equal(lt_str(j, "error/type"), "rate_limit_exceeded");
    assert_true(json_is_null(lt_at(j, "error/param")));
    assert_string_equal(lt_str(j, "error/code"), "quota_exceeded");
    json_decref(j);
    jg_llm_free(s);
    s = jg_llm_error_body(JG_LLM_ANTHROPIC, 401, NULL, "bad token", NULL, NULL, &len);
    j = lt_json(s);
    assert_string_equal(lt_str(j, "type"), "error");
    assert_string_equal(lt_str(j, "error/type"), "authentication_error");
    assert_string_equal(lt_str(j, "error/message"), "bad token");
    json_decref(j);
    jg_llm_free(s);
    static const struct {
        int status;
        const char *openai, *anthropic;
    } types[] = {{400, "invalid_request_error", "invalid_request_error"},
                 {403, "permission_error", "permission_error"},
                 {404, "invalid_request_error", "not_found_error"},
                 {413, "invalid_request_error", "request_too_large"},
                 {500, "server_error", "api_error"},
                 {502, "server_error", "api_error"},
                 {503, "server_error", "overloaded_error"}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        for (int f = 0; f < 2; f++) {
            s = jg_llm_error_body((jg_llm_format)f, types[i].status, NULL, "m", "model", NULL,
                                  &len);
            j = lt_json(s);
            assert_string_equal(lt_str(j, "error/type"), f ? types[i].anthropic : types[i].openai);
            json_decref(j);
            jg_llm_free(s);
        }
    }
    const char *names[] = {"gpt-4o", "fast"};
    s = jg_llm_models_body(names, 2, 1700000000, NULL, &len);
    j = lt_json(s);
    assert_string_equal(lt_str(j, "object"), "list");
    assert_string_equal(lt_str(j, "data/0/id"), "gpt-4o");
    assert_string_equal(lt_str(j, "data/1/id"), "fast");
    assert_string_equal(lt_str(j, "data/1/object"), "model");
    assert_string_equal(lt_str(j, "data/1/owned_by"), "jwtgate");
    assert_int_equal(lt_int(j, "data/0/created"), 1700000000);
    json_decref(j);
    jg_llm_free(s);
    s = jg_llm_models_body(NULL, 0, 0, "t", &len);
    assert_string_equal(s, "{\"object\":\"list\",\"data\":[]}");
    jg_llm_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_table),        cmocka_unit_test(test_openai_same_format),
        cmocka_unit_test(test_embeddings),          cmocka_unit_test(test_openai_to_anthropic),
        cmocka_unit_test(test_anthropic_to_openai), cmocka_unit_test(test_refused_across_formats),
        cmocka_unit_test(test_hostile_bodies),      cmocka_unit_test(test_error_and_models_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
