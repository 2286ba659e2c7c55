/* test_pmap.c — the view's persistent map: the same answers as a plain
 * table under random sets and removals, old versions untouched by new ones,
 * colliding hashes, and every item freed exactly once (ASan's leak check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/core/pmap.h"

typedef struct item {
    pitem h;
    int value;
    char key[24];
} item;

static int live_items;

static void item_destroy(pitem *i)
{
    live_items--;
    free(i);
}

static item *item_new(const char *key, int value)
{
    item *it = calloc(1, sizeof *it);
    assert_non_null(it);
    snprintf(it->key, sizeof it->key, "%s", key);
    it->value = value;
    pitem_init(&it->h, it->key, item_destroy);
    live_items++;
    return it;
}

static int value_of(const pmap *m, const char *key)
{
    const item *it = (const item *)pmap_get(m, key);
    return it != NULL ? it->value : -1;
}

static int count_cb(pitem *i, void *ctx)
{
    (void)i;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t walked(const pmap *m)
{
    size_t n = 0;
    pmap_each(m, count_cb, &n);
    return n;
}

/* Random sets and removals on 5,000 keys against an array of values,
 * keeping every 500th version and checking that it never changes. */
static void same_as_a_table(void **state)
{
    (void)state;
    enum { KEYS = 5000, STEPS = 40000, KEEP = 500 };
    static int ref[KEYS], kept_ref[STEPS / KEEP][KEYS];
    pmap kept[STEPS / KEEP];
    memset(ref, -1, sizeof ref);
    pmap m = {0};
    size_t count = 0;
    srand(7);
    char key[24];
    for (int step = 0; step < STEPS; step++) {
        int k = rand() % KEYS;
        snprintf(key, sizeof key, "key-%d", k);
        if (rand() % 3 == 0) {
            assert_int_equal(pmap_del(&m, key), 0);
            count -= ref[k] >= 0;
            ref[k] = -1;
        } else {
            item *it = item_new(key, step);
            assert_int_equal(pmap_set(&m, &it->h), 0);
            pitem_release(&it->h); /* the map holds it now */
            count += ref[k] < 0;
            ref[k] = step;
        }
        assert_int_equal(m.count, count);
        if (step % KEEP == KEEP - 1) {
            kept[step / KEEP] = pmap_share(&m);
            memcpy(kept_ref[step / KEEP], ref, sizeof ref);
        }
    }
    for (int k = 0; k < KEYS; k++) {
        snprintf(key, sizeof key, "key-%d", k);
        assert_int_equal(value_of(&m, key), ref[k]);
    }
    assert_int_equal(walked(&m), count);
    for (int v = 0; v < STEPS / KEEP; v++) {
        for (int k = 0; k < KEYS; k += 7) {
            snprintf(key, sizeof key, "key-%d", k);
            assert_int_equal(value_of(&kept[v], key), kept_ref[v][k]);
        }
        pmap_clear(&kept[v]);
    }
    assert_null(pmap_get(&m, "absent"));
    assert_int_equal(pmap_del(&m, "absent"), 0);
    pmap_clear(&m);
    assert_int_equal(live_items, 0);
}

/* A change to a shared map leaves the other as it was. */
static void versions_are_independent(void **state)
{
    (void)state;
    pmap a = {0};
    for (int k = 0; k < 100; k++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", k);
        item *it = item_new(key, k);
        assert_int_equal(pmap_set(&a, &it->h), 0);
        pitem_release(&it->h);
    }
    pmap b = pmap_share(&a);
    item *it = item_new("k5", 500);
    assert_int_equal(pmap_set(&b, &it->h), 0);
    pitem_release(&it->h);
    assert_int_equal(pmap_del(&b, "k6"), 0);
    assert_int_equal(value_of(&a, "k5"), 5);
    assert_int_equal(value_of(&a, "k6"), 6);
    assert_int_equal(value_of(&b, "k5"), 500);
    assert_int_equal(value_of(&b, "k6"), -1);
    assert_int_equal(a.count, 100);
    assert_int_equal(b.count, 99);
    pmap_clear(&a);
    assert_int_equal(value_of(&b, "k7"), 7); /* b keeps what it shares */
    pmap_clear(&b);
    assert_int_equal(live_items, 0);
}

static uint64_t three_hashes(const char *key)
{
    return (uint64_t)(strlen(key) % 3); /* most keys collide on all 64 bits */
}

static void colliding_hashes(void **state)
{
    (void)state;
    pmap__hash_for_tests = three_hashes;
    pmap m = {0};
    char key[24];
    for (int k = 0; k < 300; k++) {
        snprintf(key, sizeof key, "c%d", k);
        item *it = item_new(key, k);
        assert_int_equal(pmap_set(&m, &it->h), 0);
        pitem_release(&it->h);
    }
    pmap old = pmap_share(&m);
    for (int k = 0; k < 300; k += 2) {
        snprintf(key, sizeof key, "c%d", k);
        assert_int_equal(pmap_del(&m, key), 0);
    }
    assert_int_equal(m.count, 150);
    assert_int_equal(walked(&m), 150);
    for (int k = 0; k < 300; k++) {
        snprintf(key, sizeof key, "c%d", k);
        assert_int_equal(value_of(&m, key), k % 2 ? k : -1);
        assert_int_equal(value_of(&old, key), k);
    }
    pmap_clear(&old);
    pmap_clear(&m);
    pmap__hash_for_tests = NULL;
    assert_int_equal(live_items, 0);
}

static int stop_at_third(pitem *i, void *ctx)
{
    (void)i;
    return ++*(int *)ctx == 3 ? 42 : 0;
}

static void each_stops_early(void **state)
{
    (void)state;
    pmap m = {0};
    int n = 0;
    assert_int_equal(pmap_each(&m, stop_at_third, &n), 0); /* empty */
    for (int k = 0; k < 10; k++) {
        char key[24];
        snprintf(key, sizeof key, "e%d", k);
        item *it = item_new(key, k);
        assert_int_equal(pmap_set(&m, &it->h), 0);
        pitem_release(&it->h);
    }
    assert_int_equal(pmap_each(&m, stop_at_third, &n), 42);
    assert_int_equal(n, 3);
    pmap_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_a_table),
        cmocka_unit_test(versions_are_independent),
        cmocka_unit_test(colliding_hashes),
        cmocka_unit_test(each_stops_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
