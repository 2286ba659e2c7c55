/* test_form.c — form bodies and Basic credentials of jwtgated, hostile input included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/http/form.h"
#include "jwtgate/jwtgate.h"

static void form_ok(void **state)
{
    (void)state;
    form f;
    const char *body = "grant_type=client_credentials&scope=a+b%3Ac&resource=x&resource=y&empty=";
    assert_int_equal(form_parse(body, strlen(body), &f), 0);
    assert_int_equal(f.count, 5);
    assert_string_equal(form_get(&f, "scope", NULL), "a b:c");
    size_t n = 0;
    assert_string_equal(form_get(&f, "resource", &n), "x");
    assert_int_equal(n, 2);
    assert_string_equal(form_get(&f, "empty", NULL), "");
    assert_null(form_get(&f, "missing", &n));
    assert_int_equal(n, 0);
    static const char *const multi[] = {"resource", NULL};
    assert_int_equal(form_has_repeats(&f, multi), 0);
    assert_int_equal(form_has_repeats(&f, NULL), 1);
    form_free(&f);
    /* Empty pairs are skipped; an empty body is an empty form. */
    assert_int_equal(form_parse("&&a=1&", 6, &f), 0);
    assert_int_equal(f.count, 1);
    form_free(&f);
    assert_int_equal(form_parse("", 0, &f), 0);
    assert_int_equal(f.count, 0);
    form_free(&f);
}

static void form_hostile(void **state)
{
    (void)state;
    form f;
    static const char *const bad[] = {"a=%", "a=%4", "a=%zz", "%=1", "a=%00", "=value", "%41=%g0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(form_parse(bad[i], strlen(bad[i]), &f), -1);
    /* A NUL byte inside the body. */
    assert_int_equal(form_parse("a=b\0c", 5, &f), -1);
    /* More parameters than the bound. */
    char many[FORM_MAX_PARAMS * 4 + 8];
    size_t n = 0;
    for (int i = 0; i <= FORM_MAX_PARAMS; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "a=%d&", i % 10);
    assert_int_equal(form_parse(many, n, &f), -1);
    /* Parsing stops at the given length, never at a terminator. */
    assert_int_equal(form_parse("a=1&b=2", 3, &f), 0);
    assert_int_equal(f.count, 1);
    assert_string_equal(f.value[0], "1");
    form_free(&f);
}

/* RFC 6749 section 3.2: a parameter without a value is as if omitted. */
static void empty_values_dropped(void **state)
{
    (void)state;
    form f;
    const char body[] = "scope=&grant_type=client_credentials&resource&client_id=x&a=";
    assert_int_equal(form_parse(body, sizeof body - 1, &f), 0);
    assert_int_equal(f.count, 5);
    form_drop_empty(&f);
    assert_int_equal(f.count, 2);
    assert_string_equal(form_get(&f, "grant_type", NULL), "client_credentials");
    assert_string_equal(form_get(&f, "client_id", NULL), "x");
    assert_null(form_get(&f, "scope", NULL));
    assert_null(form_get(&f, "resource", NULL));
    form_free(&f);
    assert_int_equal(form_parse("a=&b=", 5, &f), 0);
    form_drop_empty(&f);
    assert_int_equal(f.count, 0);
    form_free(&f);
}

static void basic(void **state)
{
    (void)state;
    char *id = NULL, *secret = NULL;
    /* "client%3A1:s%26cret+x" — both parts are form-urlencoded (RFC 6749 2.3.1). */
    assert_int_equal(basic_parse("Basic Y2xpZW50JTNBMTpzJTI2Y3JldCt4", &id, &secret), 0);
    assert_string_equal(id, "client:1");
    assert_string_equal(secret, "s&cret x");
    jg_free_secret(id, 0);
    jg_free_secret(secret, 0);
    assert_int_equal(basic_parse("basic   YTpi  ", &id, &secret), 0); /* "a:b" */
    assert_string_equal(id, "a");
    assert_string_equal(secret, "b");
    jg_free_secret(id, 0);
    jg_free_secret(secret, 0);
    static const char *const bad[] = {NULL,
                                      "Bearer YTpi",
                                      "Basic",
                                      "Basic ",
                                      "Basic !!!!",
                                      "Basic YWJj",   /* "abc": no colon */
                                      "Basic OmI=",   /* ":b": empty id */
                                      "Basic YT1i",   /* "a=b" */
                                      "Basic YTpi=",  /* bad padding position */
                                      "Basic YTpi-_", /* base64url alphabet is not Basic's */
                                      "Basic YQBiOmM=" /* NUL inside */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(basic_parse(bad[i], &id, &secret), -1);
        assert_null(id);
        assert_null(secret);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_ok),
        cmocka_unit_test(form_hostile),
        cmocka_unit_test(empty_values_dropped),
        cmocka_unit_test(basic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
