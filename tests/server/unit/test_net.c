/* test_net.c — addresses, CIDR sets and the real client address behind trusted proxies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/http/net.h"

static net_addr addr(const char *s)
{
    net_addr a;
    assert_int_equal(net_parse_addr(s, strlen(s), &a), 0);
    return a;
}

static const char *text(const net_addr *a)
{
    static char buf[64];
    net_format(a, buf, sizeof buf);
    return buf;
}

static void parse_addresses(void **state)
{
    (void)state;
    net_addr a;
    assert_string_equal(text(&(net_addr){0}), "::");
    a = addr("192.0.2.1");
    assert_string_equal(text(&a), "192.0.2.1");
    a = addr(" 192.0.2.1:8080\t");
    assert_string_equal(text(&a), "192.0.2.1");
    a = addr("[2001:db8::1]:443");
    assert_string_equal(text(&a), "2001:db8::1");
    a = addr("2001:DB8::1");
    assert_string_equal(text(&a), "2001:db8::1");
    a = addr("::ffff:192.0.2.9"); /* IPv4-mapped is IPv4 */
    assert_string_equal(text(&a), "192.0.2.9");
    const char *bad[] = {"",          " ",    "unknown", "_hidden",   "1.2.3",     "1.2.3.4:",
                         "1.2.3.4:x", "[::1", "[::1]x",  "256.1.1.1", "1.2.3.4/8", "::g"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(net_parse_addr(bad[i], strlen(bad[i]), &a), -1);
}

static void cidrs(void **state)
{
    (void)state;
    net_cidrs set = {0};
    assert_int_equal(net_parse_cidr("10.0.0.0/8", &set.v[set.n++]), 0);
    assert_int_equal(net_parse_cidr("192.0.2.7", &set.v[set.n++]), 0);
    assert_int_equal(net_parse_cidr("2001:db8:1::/48", &set.v[set.n++]), 0);
    assert_int_equal(net_parse_cidr("172.16.5.9/12", &set.v[set.n++]), 0); /* host bits cleared */
    net_addr a = addr("10.200.3.4");
    assert_true(net_match(&set, &a));
    a = addr("11.0.0.1");
    assert_false(net_match(&set, &a));
    a = addr("192.0.2.7");
    assert_true(net_match(&set, &a));
    a = addr("192.0.2.8");
    assert_false(net_match(&set, &a));
    a = addr("2001:db8:1:ffff::1");
    assert_true(net_match(&set, &a));
    a = addr("2001:db8:2::1");
    assert_false(net_match(&set, &a));
    a = addr("172.31.255.255");
    assert_true(net_match(&set, &a));
    a = addr("::ffff:10.1.1.1"); /* the mapped form of a listed IPv4 address */
    assert_true(net_match(&set, &a));
    net_cidr c;
    const char *bad[] = {"10.0.0.0/33", "::/129", "10.0.0.0/",   "10.0.0.0/x",
                         "/8",          "x/8",    "10.0.0.0/-1", "10.0.0.0/8/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(net_parse_cidr(bad[i], &c), -1);
    net_cidr all;
    assert_int_equal(net_parse_cidr("0.0.0.0/0", &all), 0);
    net_cidrs any4 = {.v = {all}, .n = 1};
    a = addr("203.0.113.1");
    assert_true(net_match(&any4, &a));
    a = addr("2001:db8::1"); /* an IPv4 /0 is not every IPv6 address */
    assert_false(net_match(&any4, &a));
}

static void real_client(void **state)
{
    (void)state;
    net_cidrs trusted = {0};
    assert_int_equal(net_parse_cidr("127.0.0.1", &trusted.v[trusted.n++]), 0);
    assert_int_equal(net_parse_cidr("10.0.0.0/8", &trusted.v[trusted.n++]), 0);
    net_addr proxy = addr("127.0.0.1"), stranger = addr("198.51.100.1"), got;
    /* An untrusted peer's header is ignored. */
    got = net_real_client(&trusted, &stranger, NET_X_FORWARDED_FOR, "203.0.113.9");
    assert_string_equal(text(&got), "198.51.100.1");
    /* No header: the peer. */
    got = net_real_client(&trusted, &proxy, NET_X_FORWARDED_FOR, NULL);
    assert_string_equal(text(&got), "127.0.0.1");
    /* The right-most untrusted entry; what the client wrote before it is not believed. */
    got = net_real_client(&trusted, &proxy, NET_X_FORWARDED_FOR, "6.6.6.6, 203.0.113.9");
    assert_string_equal(text(&got), "203.0.113.9");
    /* Trusted hops are skipped (a chain of proxies). */
    got = net_real_client(&trusted, &proxy, NET_X_FORWARDED_FOR, "203.0.113.9, 10.1.1.1,10.2.2.2");
    assert_string_equal(text(&got), "203.0.113.9");
    /* Garbage stops the walk at the last good address. */
    got = net_real_client(&trusted, &proxy, NET_X_FORWARDED_FOR, "203.0.113.9, garbage, 10.1.1.1");
    assert_string_equal(text(&got), "10.1.1.1");
    got = net_real_client(&trusted, &proxy, NET_X_FORWARDED_FOR, "");
    assert_string_equal(text(&got), "127.0.0.1");
    /* All trusted: the left-most. */
    got = net_real_client(&trusted, &proxy, NET_X_FORWARDED_FOR, "10.9.9.9, 10.1.1.1");
    assert_string_equal(text(&got), "10.9.9.9");
    /* RFC 7239 Forwarded. */
    got = net_real_client(&trusted, &proxy, NET_FORWARDED,
                          "for=6.6.6.6, for=\"[2001:db8::5]:4711\";proto=https;by=10.0.0.1");
    assert_string_equal(text(&got), "2001:db8::5");
    got = net_real_client(&trusted, &proxy, NET_FORWARDED, "proto=https;For=192.0.2.60");
    assert_string_equal(text(&got), "192.0.2.60");
    got = net_real_client(&trusted, &proxy, NET_FORWARDED, "for=unknown");
    assert_string_equal(text(&got), "127.0.0.1");
    got = net_real_client(&trusted, &proxy, NET_FORWARDED, "for=_hidden, for=192.0.2.1");
    assert_string_equal(text(&got), "192.0.2.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_addresses),
        cmocka_unit_test(cidrs),
        cmocka_unit_test(real_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
