/* test_stats.c — the per-minute counters behind the console's dashboard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <jansson.h>

#include "server/core/stats.h"

static json_t *doc(stats *s, metrics *m, int64_t now)
{
    size_t len = 0;
    char *text = stats_json(s, m, now, &len);
    assert_non_null(text);
    json_t *d = json_loadb(text, len, 0, NULL);
    free(text);
    assert_non_null(d);
    return d;
}

static void minutes_close_with_their_counts(void **state)
{
    (void)state;
    static metrics m;
    stats *s = stats_new();
    int64_t t0 = 1800000000;             /* a minute boundary */
    atomic_store(&m.tokens_issued, 100); /* counted before: not this node's history */
    stats_tick(s, &m, t0 + 5);
    atomic_fetch_add(&m.tokens_issued, 3);
    atomic_fetch_add(&m.refusals[R_INVALID_CLIENT], 2);
    stats_tick(s, &m, t0 + 30); /* the same minute: nothing closes */
    json_t *d = doc(s, &m, t0 + 30);
    assert_int_equal(json_array_size(json_object_get(d, "minutes")), 1); /* the current one */
    json_t *cur = json_array_get(json_object_get(d, "minutes"), 0);
    assert_int_equal(json_integer_value(json_object_get(cur, "issued")), 3);
    json_decref(d);
    stats_tick(s, &m, t0 + 61);
    atomic_fetch_add(&m.tokens_issued, 1);
    d = doc(s, &m, t0 + 62);
    json_t *ms = json_object_get(d, "minutes");
    assert_int_equal(json_array_size(ms), 2);
    json_t *first = json_array_get(ms, 0), *second = json_array_get(ms, 1);
    assert_int_equal(json_integer_value(json_object_get(first, "at")), t0);
    assert_int_equal(json_integer_value(json_object_get(first, "issued")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(first, "refused"), "invalid_client")),
        2);
    assert_int_equal(json_integer_value(json_object_get(second, "at")), t0 + 60);
    assert_int_equal(json_integer_value(json_object_get(second, "issued")), 1);
    assert_int_equal(json_object_size(json_object_get(second, "refused")), 0);
    assert_int_equal(json_integer_value(json_object_get(d, "since")), t0 + 5);
    json_decref(d);
    stats_free(s);
}

static void the_ring_keeps_a_day(void **state)
{
    (void)state;
    static metrics m;
    stats *s = stats_new();
    int64_t t0 = 1800000000;
    for (int i = 0; i <= STATS_MINUTES + 10; i++) {
        atomic_fetch_add(&m.tokens_issued, (unsigned long)i);
        stats_tick(s, &m, t0 + (int64_t)i * 60);
    }
    json_t *d = doc(s, &m, t0 + (int64_t)(STATS_MINUTES + 10) * 60);
    json_t *ms = json_object_get(d, "minutes");
    assert_int_equal(json_array_size(ms), STATS_MINUTES + 1); /* a day closed, and the current */
    /* oldest first: the minute 10 (its ticks counted i = 11 at its close) */
    json_t *oldest = json_array_get(ms, 0);
    assert_int_equal(json_integer_value(json_object_get(oldest, "at")), t0 + 10 * 60);
    assert_int_equal(json_integer_value(json_object_get(oldest, "issued")), 11);
    json_t *last_closed = json_array_get(ms, STATS_MINUTES - 1);
    assert_int_equal(json_integer_value(json_object_get(last_closed, "at")),
                     t0 + (int64_t)(STATS_MINUTES + 9) * 60);
    json_decref(d);
    stats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minutes_close_with_their_counts),
        cmocka_unit_test(the_ring_keeps_a_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
