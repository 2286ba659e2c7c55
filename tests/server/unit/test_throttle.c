/* test_throttle.c — failed client authentications slow down that client from that address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "server/oauth/throttle.h"

static void windows(void **state)
{
    (void)state;
    throttle *t = throttle_new();
    assert_non_null(t);
    double now = 1000;
    assert_true(throttle_blocked(t, "c", "1.2.3.4", now) == 0);
    throttle_failure(t, "c", "1.2.3.4", now);
    throttle_failure(t, "c", "1.2.3.4", now);
    assert_true(throttle_blocked(t, "c", "1.2.3.4", now) == 0); /* two are free */
    throttle_failure(t, "c", "1.2.3.4", now);
    double w = throttle_blocked(t, "c", "1.2.3.4", now);
    assert_true(w > 0.24 && w <= 0.25);
    /* Another address, another client: unaffected. */
    assert_true(throttle_blocked(t, "c", "5.6.7.8", now) == 0);
    assert_true(throttle_blocked(t, "d", "1.2.3.4", now) == 0);
    /* The window doubles, up to a minute. */
    for (int i = 0; i < 20; i++)
        throttle_failure(t, "c", "1.2.3.4", now);
    w = throttle_blocked(t, "c", "1.2.3.4", now);
    assert_true(w > 59 && w <= 60);
    assert_true(throttle_blocked(t, "c", "1.2.3.4", now + 61) == 0);
    /* Success clears; a quiet pair starts again from zero. */
    throttle_success(t, "c", "1.2.3.4");
    assert_true(throttle_blocked(t, "c", "1.2.3.4", now) == 0);
    for (int i = 0; i < 3; i++)
        throttle_failure(t, "q", "1.1.1.1", now);
    throttle_failure(t, "q", "1.1.1.1", now + 700);
    assert_true(throttle_blocked(t, "q", "1.1.1.1", now + 700) == 0);
    throttle_free(t);
}

static void bounded(void **state)
{
    (void)state;
    throttle *t = throttle_new();
    char id[32];
    /* Far more pairs than slots: memory stays fixed, recent entries win. */
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "client-%d", i);
        throttle_failure(t, id, "9.9.9.9", (double)i);
    }
    for (int k = 0; k < 3; k++)
        throttle_failure(t, "last", "9.9.9.9", 200000);
    assert_true(throttle_blocked(t, "last", "9.9.9.9", 200000) > 0);
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(windows), cmocka_unit_test(bounded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
