/* test_llm_scan.c — nginx/llm's JSON scanner (jg_llm_scan.c): it agrees with
 * jansson (jg__llm_loads) on every case of jansson's decoder rules, reports
 * members as spans, and the same-format fast paths it serves give the JSON
 * values the jansson paths gave. */
#include "jg_llm_int.h"
#include "jg_llm_scan.h"
#include "llm_testlib.h"

/* The scanner's verdict on s, checked against jansson's. */
static jg__scan_rc agree(const char *s, size_t n)
{
    jg__llm_obj o;
    jg__scan_rc rc = jg__llm_scan_object(s, n, &o);
    json_t *j = jg__llm_loads(s, n);
    bool jok = json_is_object(j);
    json_decref(j);
    if (rc == JG__SCAN_OK && !jok)
        fail_msg("scanner accepts what jansson refuses: %.*s", (int)n, s);
    if (rc == JG__SCAN_INVALID && jok)
        fail_msg("scanner refuses what jansson accepts: %.*s", (int)n, s);
    return rc;
}

static void expect(const char *s, jg__scan_rc want)
{
    jg__scan_rc rc = agree(s, strlen(s));
    if (rc != want)
        fail_msg("scan %s: expected %d, got %d", s, want, rc);
}

static void test_validity(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{}",
        " \t\r\n{ } \n",
        "{\"a\":1}",
        "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false}",
        "{\"a\":-0}",
        "{\"a\":0.5e-3}",
        "{\"a\":1E+2}",
        "{\"a\":-9223372036854775808}",
        "{\"a\":9223372036854775807}",
        "{\"a\":1e-999}",
        "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
        "{\"a\":\"\\u00e9\\uD83D\\uDE00\"}",
        "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
        "{\"a\":\"x\x7f\"}",
        "{\"a\":{},\"b\":[]}",
        "{\"a\":1,\"A\":2}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        expect(ok[i], JG__SCAN_OK);
    static const char *const bad[] = {
        "",
        "   ",
        "[]",
        "[1]",
        "\"s\"",
        "1",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{,\"a\":1}",
        "{\"a\":1 \"b\":2}",
        "{a:1}",
        "{'a':1}",
        "{\"a\":01}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":+1}",
        "{\"a\":0x1}",
        "{\"a\":9223372036854775808}",
        "{\"a\":-9223372036854775809}",
        "{\"a\":12345678901234567890123}",
        "{\"a\":1e999}",
        "{\"a\":-1e999}",
        "{\"a\":tru}",
        "{\"a\":truex}",
        "{\"a\":nul}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"\\uD800\"}",
        "{\"a\":\"\\uDC00\"}",
        "{\"a\":\"\\uD800\\u0041\"}",
        "{\"a\":\"\\uD800x\"}",
        "{\"a\":\"\x01\"}",
        "{\"a\":\"\t\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xe0\x80\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":\"\x80\"}",
        "{\"a\":\"\xc3\"}",
        "{\"a\":1}x",
        "{\"a\":1}{}",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}",
        "{\"x\":{\"k\":1,\"b\":2,\"k\":3}}",
        "{\"a\":[{\"b\":1,\"b\":1}]}",
        "{\"\xc3\xa9\":1,\"\\u00e9\":2}",
        "{\"a\":1}\xef\xbb\xbf",
        "\xef\xbb\xbf{}",
        "{\"a\":\"unterminated}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(bad[i], JG__SCAN_INVALID);
    /* a NUL byte anywhere */
    agree("{\"a\":1}\0", 8);
    assert_int_equal(agree("{\"a\":\"\0\"}", 9), JG__SCAN_INVALID);
    /* jansson takes one NUL right after a number or literal: it decides those */
    assert_int_equal(agree("{\"a\":0\0}", 8), JG__SCAN_UNSURE);
    assert_int_equal(agree("{\"a\":[true\0]}", 12), JG__SCAN_UNSURE);
    assert_int_equal(agree("{\"a\":1 \0}", 9), JG__SCAN_INVALID);
}

static void test_depth_and_limits(void **state)
{
    (void)state;
    char buf[512];
    for (int depth = JG_LLM_MAX_DEPTH - 1; depth <= JG_LLM_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        buf[n++] = '{';
        memcpy(buf + n, "\"a\":", 4), n += 4;
        for (int k = 1; k < depth; k++)
            buf[n++] = '[';
        for (int k = 1; k < depth; k++)
            buf[n++] = ']';
        if (depth == 1)
            buf[n++] = '1';
        buf[n++] = '}';
        expect((buf[n] = '\0', buf), depth <= JG_LLM_MAX_DEPTH ? JG__SCAN_OK : JG__SCAN_INVALID);
    }
    /* more members than the scanner tracks: jansson decides */
    size_t n = 0;
    buf[n++] = '{';
    for (int k = 0; k <= JG__SCAN_MAX_MEMBERS; k++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"m%d\":%d", k ? "," : "", k, k);
    buf[n++] = '}';
    buf[n] = '\0';
    expect(buf, JG__SCAN_UNSURE);
    /* a real too long to check on the stack: jansson decides */
    char real[128] = "{\"a\":1.";
    memset(real + 7, '5', 90);
    strcpy(real + 97, "}");
    expect(real, JG__SCAN_UNSURE);
}

static void test_members(void **state)
{
    (void)state;
    const char *s = " {\"model\" : \"gpt\" , \"us\\u0061ge\":{\"prompt_tokens\":7,"
                    "\"completion_tokens\":2.0, \"x\":-3}, \"n\":[1,{\"model\":2}]} ";
    jg__llm_obj o, u;
    assert_int_equal(jg__llm_scan_object(s, strlen(s), &o), JG__SCAN_OK);
    assert_int_equal(o.n, 3);
    assert_ptr_equal(o.open, strchr(s, '{'));
    assert_ptr_equal(o.close, strrchr(s, '}'));
    const jg__llm_member *m = jg__llm_scan_get(&o, "model");
    assert_non_null(m);
    assert_int_equal(m->value_len, 5);
    assert_memory_equal(m->value, "\"gpt\"", 5);
    const jg__llm_member *um = jg__llm_scan_get(&o, "usage"); /* the name is escaped */
    assert_non_null(um);
    assert_true(um->name_esc);
    assert_true(jg__llm_scan_is_object(um));
    assert_int_equal(jg__llm_scan_object(um->value, um->value_len, &u), JG__SCAN_OK);
    assert_int_equal(jg__llm_scan_count(jg__llm_scan_get(&u, "prompt_tokens")), 7);
    assert_int_equal(jg__llm_scan_count(jg__llm_scan_get(&u, "completion_tokens")), 0); /* real */
    assert_int_equal(jg__llm_scan_count(jg__llm_scan_get(&u, "x")), 0); /* negative */
    assert_int_equal(jg__llm_scan_count(jg__llm_scan_get(&u, "absent")), 0);
    assert_null(jg__llm_scan_get(&o, "mode"));
    assert_null(jg__llm_scan_get(&o, "models"));
}

static void test_escape(void **state)
{
    (void)state;
    const char *in = "a\"b\\c/\n\x01\xc3\xa9";
    size_t n = jg__llm_escaped_len(in);
    char buf[64];
    jg__llm_escape(in, buf);
    buf[n] = '\0';
    json_t *j = lt_json(buf);
    assert_string_equal(json_string_value(j), in);
    json_decref(j);
    assert_int_equal(n, strlen(buf));
}

/* The fast path's answer has the JSON value the tree path gave: the input with
 * `model` set to the public name. */
static void check_answer(jg_llm_format fmt, const char *body, const char *model, uint64_t in,
                         uint64_t out)
{
    char *o = NULL;
    size_t len = 0;
    jg_llm_usage u;
    assert_int_equal(
        jg_llm_response_translate(fmt, fmt, JG_LLM_CHAT, model, body, strlen(body), &o, &len, &u),
        JG_LLM_OK);
    assert_int_equal(strlen(o), len);
    json_t *want = lt_json(body), *got = lt_json(o);
    json_object_set_new(want, "model", json_string(model));
    if (!json_equal(want, got))
        fail_msg("answer differs: %s", o);
    assert_int_equal(u.input, in);
    assert_int_equal(u.output, out);
    json_decref(want);
    json_decref(got);
    jg_llm_free(o);
}

static void test_fast_answers(void **state)
{
    (void)state;
    check_answer(JG_LLM_OPENAI,
                 "{\"model\":\"p\",\"usage\":{\"prompt_tokens\":3,"
                 "\"completion_tokens\":4}}",
                 "pub\"lic\\", 3, 4);
    check_answer(JG_LLM_OPENAI, "{\"model\":\"public\"}", "public", 0, 0);
    check_answer(JG_LLM_OPENAI, " {\"id\" : 1 } ", "public", 0, 0); /* model appended */
    check_answer(JG_LLM_OPENAI, "{}", "public", 0, 0);
    check_answer(JG_LLM_ANTHROPIC,
                 "{\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":2,"
                 "\"output_tokens\":9},\"model\":7}",
                 "m", 7, 9);
    char *o = NULL;
    size_t len = 0;
    jg_llm_usage u;
    /* not an object, not JSON, a duplicate: refused as before */
    static const char *const bad[] = {"[]", "{\"model\":1,\"model\":2}", "{\"a\":", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jg_llm_response_translate(JG_LLM_OPENAI, JG_LLM_OPENAI, JG_LLM_CHAT, "m",
                                                   bad[i], strlen(bad[i]), &o, &len, &u),
                         JG_LLM_EUPSTREAM);
}

static void check_build(const char *body, const char *extra_key)
{
    jg_llm_request *req = lt_parse(JG_LLM_OPENAI, JG_LLM_CHAT, body, JG_LLM_OK, NULL);
    char *o = NULL;
    size_t len = 0;
    assert_int_equal(jg_llm_request_build(req, JG_LLM_OPENAI, "prov", &o, &len, NULL), JG_LLM_OK);
    assert_int_equal(strlen(o), len);
    json_t *want = lt_json(body), *got = lt_json(o);
    json_object_set_new(want, "model", json_string("prov"));
    if (extra_key != NULL)
        json_object_set_new(want, extra_key, json_pack("{s:b}", "include_usage", 1));
    if (!json_equal(want, got))
        fail_msg("build differs: %s", o);
    json_decref(want);
    json_decref(got);
    jg_llm_free(o);
    jg_llm_request_free(req);
}

static void test_fast_build(void **state)
{
    (void)state;
    check_build("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", NULL);
    check_build(" { \"messages\":[{\"role\":\"user\",\"content\":\"hi\"}], \"model\" : \"m\" , "
                "\"stream\":true } ",
                "stream_options");
    check_build("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"stream\":true,\"stream_options\":{\"include_usage\":false}}",
                "stream_options");
}

/* parse's checks on the scanner give the jansson path's verdict: the same body
 * with more members than the scanner tracks goes through jansson. */
static void same_verdict(jg_llm_format fmt, const char *body)
{
    char pad[4096];
    size_t k = 1;
    pad[0] = '{';
    for (int m = 0; m < 40; m++)
        k += (size_t)snprintf(pad + k, sizeof pad - k, "\"__pad_%d\":0,", m);
    snprintf(pad + k, sizeof pad - k, "%s", body + 1);
    jg_llm_request *a = NULL, *b = NULL;
    char ea[JG_LLM_ERR_MAX] = "", eb[JG_LLM_ERR_MAX] = "";
    jg_llm_status sa = jg_llm_request_parse(fmt, JG_LLM_CHAT, body, strlen(body), 0, &a, ea);
    jg_llm_status sb = jg_llm_request_parse(fmt, JG_LLM_CHAT, pad, strlen(pad), 0, &b, eb);
    if (sa != sb || strcmp(ea, eb) != 0)
        fail_msg("%s: %d (%s) vs the tree's %d (%s)", body, sa, ea, sb, eb);
    if (sa == JG_LLM_OK) {
        assert_string_equal(jg_llm_request_model(a), jg_llm_request_model(b));
        assert_int_equal(jg_llm_request_stream(a), jg_llm_request_stream(b));
        assert_int_equal(jg_llm_request_wants_usage(a), jg_llm_request_wants_usage(b));
    }
    jg_llm_request_free(a);
    jg_llm_request_free(b);
}

static void test_fast_parse(void **state)
{
    (void)state;
#define M "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
    static const char *const openai[] = {
        "{\"model\":\"m\"," M "}",
        "{\"model\":\"m\"," M ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        "{\"model\":\"m\"," M ",\"stream\":null,\"stream_options\":null,\"stop\":[\"a\",\"b\"]}",
        "{\"model\":\"m\"," M ",\"stream_options\":{\"include_usage\":null}}",
        "{\"model\":\"m\"," M ",\"stream_options\":{}}",
        "{\"model\":\"m\"," M ",\"stream_options\":[]}",
        "{\"model\":\"m\"," M ",\"stream\":1}",
        "{\"model\":\"m\"," M ",\"max_tokens\":0}",
        "{\"model\":\"m\"," M ",\"max_tokens\":1.0}",
        "{\"model\":\"m\"," M ",\"max_completion_tokens\":-1}",
        "{\"model\":\"m\"," M ",\"temperature\":\"1\"}",
        "{\"model\":\"m\"," M ",\"top_p\":0.5,\"temperature\":null,\"stop\":\"x\"}",
        "{\"model\":\"m\"," M ",\"stop\":[1]}",
        "{\"model\":\"m\",\"messages\":[]}",
        "{\"model\":\"m\",\"messages\":{}}",
        "{\"model\":\"m\",\"messages\":[1]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"us\\u0065r\",\"content\":\"hi\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"robot\",\"content\":\"hi\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":null}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":1}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"a\"},{\"type\":\"image_url\"}]}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[1]}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"},{\"role\":"
        "\"function\",\"content\":\"y\"},{\"role\":\"developer\",\"content\":\"z\"}]}",
        "{\"model\":\"a b\"," M "}",
        "{\"model\":\"\"," M "}",
        "{\"model\":\"\\u0067pt\"," M "}",
        "{\"model\":7," M "}",
        "{" M "}",
    };
    for (size_t i = 0; i < sizeof openai / sizeof openai[0]; i++)
        same_verdict(JG_LLM_OPENAI, openai[i]);
    static const char *const anthropic[] = {
        "{\"model\":\"m\",\"max_tokens\":5," M "}",
        "{\"model\":\"m\"," M "}",
        "{\"model\":\"m\",\"max_tokens\":null," M "}",
        "{\"model\":\"m\",\"max_tokens\":5," M ",\"system\":\"s\",\"stop_sequences\":[\"x\"]}",
        "{\"model\":\"m\",\"max_tokens\":5," M ",\"system\":null}",
        "{\"model\":\"m\",\"max_tokens\":5," M ",\"system\":[{\"type\":\"text\",\"text\":\"s\"}]}",
        "{\"model\":\"m\",\"max_tokens\":5," M ",\"system\":[{\"type\":\"image\"}]}",
        "{\"model\":\"m\",\"max_tokens\":5," M ",\"stop_sequences\":null}",
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}",
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":null}]}",
        "{\"model\":\"m\",\"max_tokens\":5,\"stream\":true," M "}",
    };
    for (size_t i = 0; i < sizeof anthropic / sizeof anthropic[0]; i++)
        same_verdict(JG_LLM_ANTHROPIC, anthropic[i]);
#undef M
}

/* {"a":"<at letters><first><gap x's><second><tail> into buf: its length. */
static size_t string_body(char *buf, size_t size, size_t at, const char *first, size_t gap,
                          const char *second, const char *tail)
{
    size_t n = (size_t)snprintf(buf, size, "{\"a\":\"");
    for (size_t i = 0; i < at; i++)
        buf[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(buf + n, size - n, "%s", first);
    for (size_t i = 0; i < gap; i++)
        buf[n++] = 'x';
    n += (size_t)snprintf(buf + n, size - n, "%s%s", second, tail);
    return n;
}

/* The scanner takes a string's plain text 8 bytes a step: every byte that
 * needs a look of its own (the closing quote, an escape, a control byte, a
 * UTF-8 sequence good or bad, one byte before the end of the input) at every
 * place of such a step, against jansson. */
static void test_string_steps(void **state)
{
    (void)state;
    static const char *const special[] = {
        "\"",   "\\n",      "\\u00e9",      "\x01",
        "\x1f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xc3", "\xff",     "\x80",         "\xed\xa0\x80",
        "\\",   "\\x",
    };
    const size_t nspecial = sizeof special / sizeof special[0];
    char buf[128];
    for (size_t k = 0; k < nspecial; k++) {
        for (size_t at = 0; at < 24; at++) {
            /* {"a":"<at letters><special><letters>"} and the same cut short */
            size_t n = string_body(buf, sizeof buf, at, special[k], 0, "", "0123456789abcdef\"}");
            for (size_t cut = n; cut + 20 >= n && cut > 0; cut--)
                (void)agree(buf, cut);
        }
    }
    /* two special bytes in one 8-byte step, the second within 7 bytes of the
     * first: the scanner jumps to the first one, which must be the one marked
     * (a jump past it would take a bad byte after a good one for plain text) */
    for (size_t k = 0; k < nspecial; k++)
        for (size_t j = 0; j < nspecial; j++)
            for (size_t at = 0; at < 9; at++)
                for (size_t gap = 0; gap < 8; gap++)
                    (void)agree(buf, string_body(buf, sizeof buf, at, special[k], gap, special[j],
                                                 "0123456789\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validity),     cmocka_unit_test(test_depth_and_limits),
        cmocka_unit_test(test_members),      cmocka_unit_test(test_escape),
        cmocka_unit_test(test_fast_answers), cmocka_unit_test(test_fast_build),
        cmocka_unit_test(test_fast_parse),   cmocka_unit_test(test_string_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
