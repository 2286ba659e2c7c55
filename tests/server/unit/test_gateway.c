/* test_gateway.c — the pure parts of GET /gateway/v1/snapshot: If-None-Match, credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/gateway/gateway.h"

static void etags(void **state)
{
    (void)state;
    const char *e = "\"00ff-42\"";
    assert_true(gateway_etag_matches("\"00ff-42\"", e));
    assert_true(gateway_etag_matches("W/\"00ff-42\"", e)); /* weak comparison (RFC 9110 13.1.2) */
    assert_true(gateway_etag_matches("\"a-1\", \"00ff-42\"", e));
    assert_true(gateway_etag_matches("\"a-1\",\"00ff-42\"", e));
    assert_true(gateway_etag_matches("*", e));
    assert_false(gateway_etag_matches(NULL, e));
    assert_false(gateway_etag_matches("", e));
    assert_false(gateway_etag_matches("\"00ff-4\"", e));
    assert_false(gateway_etag_matches("\"00ff-421\"", e));
    assert_false(gateway_etag_matches("00ff-42", e)); /* unquoted: not the tag */
    assert_false(gateway_etag_matches("\"a-1\", \"00ff-43\"", e));
}

static void credentials(void **state)
{
    (void)state;
    char id[64];
    const char *secret = NULL;
    assert_int_equal(gateway_credential_split("jgw_AbC-_9.s3cr3t", id, sizeof id, &secret), 0);
    assert_string_equal(id, "jgw_AbC-_9");
    assert_string_equal(secret, "s3cr3t");
    /* the secret may hold anything after the first dot (it is only hashed) */
    assert_int_equal(gateway_credential_split("jgw_x.a.b", id, sizeof id, &secret), 0);
    assert_string_equal(secret, "a.b");
    assert_int_equal(gateway_credential_split("jgw_x.", id, sizeof id, &secret), -1);
    assert_int_equal(gateway_credential_split("jgw_x", id, sizeof id, &secret), -1);
    assert_int_equal(gateway_credential_split("jgs_x.secret", id, sizeof id, &secret), -1);
    assert_int_equal(gateway_credential_split("jgw_\xc3\xa9.secret", id, sizeof id, &secret), -1);
    assert_int_equal(gateway_credential_split("jgw_a b.secret", id, sizeof id, &secret), -1);
    char small[6];
    assert_int_equal(gateway_credential_split("jgw_abc.secret", small, sizeof small, &secret), -1);
    char longer[300];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer, "jgw_x.", 6);
    assert_int_equal(gateway_credential_split(longer, id, sizeof id, &secret), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(etags),
        cmocka_unit_test(credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
