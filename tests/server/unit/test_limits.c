/* test_limits.c — the pure parts of LLM APIs: what a limits object may hold
 * (server/admin/limits.c), and that a provider key sealed for one API and
 * key id does not open as another (server/core/masterkey.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/admin/admin_internal.h"
#include "server/core/masterkey.h"

static const char *check(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    const char *problem = limits_check(v);
    json_decref(v);
    return problem;
}

static void limits(void **state)
{
    (void)state;
    assert_null(check("{}"));
    assert_null(check("{\"requests_per_minute\": 1, \"tokens_per_minute\": 1000000000000000,"
                      " \"tokens_per_day\": 5, \"input_weight\": 0, \"output_weight\": 2.5,"
                      " \"models\": {\"gpt-4o\": {\"tokens_per_day\": 7}}}"));
    const char *bad[] = {"[]",
                         "3",
                         "{\"requests_per_minute\": 0}",
                         "{\"tokens_per_minute\": 1000000000000001}",
                         "{\"tokens_per_day\": 1.0}",
                         "{\"tokens_per_day\": \"5\"}",
                         "{\"input_weight\": -0.1}",
                         "{\"output_weight\": 1000.5}",
                         "{\"output_weight\": \"1\"}",
                         "{\"burst\": 1}",
                         "{\"models\": []}",
                         "{\"models\": {\"m\": 1}}",
                         "{\"models\": {\"\": {}}}",
                         "{\"models\": {\"m\": {\"input_weight\": 1}}}",
                         "{\"models\": {\"m\": {\"x\": 1}}}",
                         "{\"models\": {\"m\": {\"requests_per_minute\": 0}}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (check(bad[i]) == NULL)
            fail_msg("accepted: %s", bad[i]);
    }
    /* at most 64 models */
    json_t *m = json_object();
    for (int i = 0; i < 65; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        json_object_set_new(m, name, json_object());
    }
    json_t *l = json_pack("{so}", "models", m);
    assert_non_null(limits_check(l));
    json_object_del(json_object_get(l, "models"), "m0");
    assert_null(limits_check(l));
    json_decref(l);
}

static void sealed_keys_are_bound(void **state)
{
    (void)state;
    setenv(MASTER_KEY_ENV, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 1);
    char why[128];
    jg_jwk *master = NULL;
    assert_int_equal(masterkey_load(NULL, &master, why, sizeof why), 0);
    const char *key = "sk-test-0123456789abcdef";
    char *sealed = NULL, *opened = NULL;
    assert_int_equal(masterkey_seal_as(master, "llm:api_A:pk_1", "text/plain", key, &sealed), 0);
    assert_null(strstr(sealed, key));
    assert_int_equal(masterkey_open(master, "llm:api_A:pk_1", sealed, &opened), 0);
    assert_string_equal(opened, key);
    jg_free_secret(opened, 0);
    /* moved to another key's row, or another API's: does not open */
    assert_int_not_equal(masterkey_open(master, "llm:api_A:pk_2", sealed, &opened), 0);
    assert_null(opened);
    assert_int_not_equal(masterkey_open(master, "llm:api_B:pk_1", sealed, &opened), 0);
    /* tampered: does not open */
    sealed[strlen(sealed) - 3] ^= 1;
    assert_int_not_equal(masterkey_open(master, "llm:api_A:pk_1", sealed, &opened), 0);
    free(sealed);
    jg_jwk_free(master);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(limits),
                                       cmocka_unit_test(sealed_keys_are_bound)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
