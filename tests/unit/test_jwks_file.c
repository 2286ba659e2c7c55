/* test_jwks_file.c — jg_jwks_load_file (JWK, JWKS, PEM, DER, detected from
 * the content; directories, FIFOs, missing and oversized files) and PEM in
 * jg_jwks_parse_any. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/jg_jwks_file_XXXXXX");
    return mkdtemp(g_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    return path;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *path = path_of(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static jg_jwk *generate(jg_alg alg, const char *kid)
{
    jg_jwk *key = NULL;
    assert_jg_ok(jg_jwk_generate_for_alg(alg, JG_CRV_NONE, 0, kid, &key));
    return key;
}

/* Not inlined: GCC 12 at -O3 then takes the returned buffer for the address
 * of the local `pem` (a -Wdangling-pointer false positive). */
__attribute__((noinline)) static char *pem_of(const jg_jwk *key, unsigned flags)
{
    char *pem = NULL;
    assert_jg_ok(jg_jwk_to_pem(key, flags, &pem, NULL));
    return pem;
}

static void test_jwk_file(void **state)
{
    (void)state;
    jg_jwk *key = generate(JG_ALG_ES256, "es-1");
    char *json = NULL;
    size_t len = 0;
    assert_jg_ok(jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &json, &len));
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_load_file(write_file("key.jwk", json, len), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 1);
    assert_string_equal(jg_jwk_kid(jg_jwks_get(set, 0)), "es-1");
    assert_true(jg_jwk_is_private(jg_jwks_get(set, 0)));
    jg_jwks_free(set);
    /* JG_JWK_PUBLIC_ONLY applies to files too */
    assert_jg_ok(jg_jwks_load_file(path_of("key.jwk"), JG_JWK_PUBLIC_ONLY, NULL, &set));
    assert_false(jg_jwk_is_private(jg_jwks_get(set, 0)));
    jg_jwks_free(set);
    jg_free_secret(json, len);
    jg_jwk_free(key);
}

static void test_jwks_file(void **state)
{
    (void)state;
    jg_jwk *a = generate(JG_ALG_ES256, "a"), *b = generate(JG_ALG_EDDSA, "b");
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_new(&set));
    assert_jg_ok(jg_jwks_add(set, a));
    assert_jg_ok(jg_jwks_add(set, b));
    char *json = NULL;
    size_t len = 0;
    assert_jg_ok(jg_jwks_to_json(set, 0, &json, &len));
    jg_jwks_free(set);
    /* leading whitespace before the JSON is fine */
    char *text = malloc(len + 3);
    assert_non_null(text);
    memcpy(text, "\n  ", 3);
    memcpy(text + 3, json, len);
    assert_jg_ok(jg_jwks_load_file(write_file("set.json", text, len + 3), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 2);
    assert_string_equal(jg_jwk_kid(jg_jwks_get(set, 1)), "b");
    jg_jwks_free(set);
    free(text);
    jg_free(json);
    jg_jwk_free(a);
    jg_jwk_free(b);
}

static void test_pem_file_one_key(void **state)
{
    (void)state;
    jg_jwk *key = generate(JG_ALG_RS256, NULL);
    char *pem = pem_of(key, JG_EXPORT_PRIVATE);
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_load_file(write_file("rsa.pem", pem, strlen(pem)), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 1);
    const jg_jwk *got = jg_jwks_get(set, 0);
    assert_int_equal(jg_jwk_kty(got), JG_KTY_RSA);
    assert_true(jg_jwk_is_private(got));
    assert_null(jg_jwk_kid(got)); /* PEM has no kid */
    char tp1[44], tp2[44];
    assert_jg_ok(jg_jwk_thumbprint_b64(key, tp1));
    assert_jg_ok(jg_jwk_thumbprint_b64(got, tp2));
    assert_string_equal(tp1, tp2);
    jg_jwks_free(set);
    jg_free_secret(pem, strlen(pem));
    jg_jwk_free(key);
}

static void test_pem_file_several_blocks(void **state)
{
    (void)state;
    jg_jwk *a = generate(JG_ALG_ES384, NULL), *b = generate(JG_ALG_EDDSA, NULL);
    char *pa = pem_of(a, 0), *pb = pem_of(b, JG_EXPORT_PRIVATE);
    /* a certificate and EC parameters are skipped; text between blocks ignored */
    const char *cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const char *params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
                         "-----END EC PARAMETERS-----\n";
    size_t cap = strlen(pa) + strlen(pb) + strlen(cert) + strlen(params) + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    snprintf(text, cap, "Bag Attributes: x\n%s%s%s\n%s", cert, pa, params, pb);
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_load_file(write_file("two.pem", text, strlen(text)), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 2);
    assert_int_equal(jg_jwk_kty(jg_jwks_get(set, 0)), JG_KTY_EC);
    assert_false(jg_jwk_is_private(jg_jwks_get(set, 0)));
    assert_int_equal(jg_jwk_kty(jg_jwks_get(set, 1)), JG_KTY_OKP);
    assert_true(jg_jwk_is_private(jg_jwks_get(set, 1)));
    jg_jwks_free(set);

    /* the same text through jg_jwks_parse_any */
    assert_jg_ok(jg_jwks_parse_any(text, strlen(text), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 2);
    jg_jwks_free(set);

    /* max_keys counts key blocks */
    jg_limits limits = jg_limits_default();
    limits.max_keys = 1;
    assert_jg(JG_ERR_LIMIT_KEYS, jg_jwks_parse_any(text, strlen(text), 0, &limits, &set));
    free(text);
    jg_free(pa);
    jg_free_secret(pb, strlen(pb));
    jg_jwk_free(a);
    jg_jwk_free(b);
}

static void test_pem_without_key_or_broken(void **state)
{
    (void)state;
    jg_jwks *set = NULL;
    const char *cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_jg(JG_ERR_KEY_PEM, jg_jwks_parse_any(cert, strlen(cert), 0, NULL, &set));
    const char *open = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n";
    assert_jg(JG_ERR_KEY_PEM, jg_jwks_parse_any(open, strlen(open), 0, NULL, &set));
    const char *mismatch = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_jg(JG_ERR_KEY_PEM, jg_jwks_parse_any(mismatch, strlen(mismatch), 0, NULL, &set));
    /* an encrypted key is a key block, refused rather than skipped */
    const char *enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                      "-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_jg(JG_ERR_KEY_PEM, jg_jwks_parse_any(enc, strlen(enc), 0, NULL, &set));
    /* JSON stays JSON: a '{' document is never read as PEM */
    const char *json = "{\"keys\":[],\"x\":\"-----BEGIN PUBLIC KEY-----\"}";
    assert_jg_ok(jg_jwks_parse_any(json, strlen(json), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 0);
    jg_jwks_free(set);
}

static void test_der_file(void **state)
{
    (void)state;
    jg_jwk *key = generate(JG_ALG_ES256, NULL);
    char *pem = pem_of(key, 0);
    /* DER from the PEM's base64 body */
    char *body = strchr(pem, '\n') + 1;
    char *end = strstr(body, "-----END");
    char b64[512];
    size_t n = 0;
    for (char *p = body; p < end; p++)
        if (*p != '\n')
            b64[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    while (n > 0 && b64[n - 1] == '=')
        n--;
    unsigned char der[512];
    size_t der_len = 0;
    assert_jg_ok(jg_b64url_decode(b64, n, der, &der_len));
    jg_jwks *set = NULL;
    assert_jg_ok(jg_jwks_load_file(write_file("key.der", der, der_len), 0, NULL, &set));
    assert_int_equal(jg_jwks_count(set), 1);
    assert_int_equal(jg_jwk_kty(jg_jwks_get(set, 0)), JG_KTY_EC);
    jg_jwks_free(set);
    jg_free(pem);
    jg_jwk_free(key);
}

static void test_directory(void **state)
{
    (void)state;
    jg_jwks *set = NULL;
    errno = 0;
    assert_jg(JG_ERR_FILE_TYPE, jg_jwks_load_file(g_dir, 0, NULL, &set));
    assert_int_equal(errno, EISDIR);
    assert_null(set);
}

static void test_fifo(void **state)
{
    (void)state;
    const char *path = path_of("fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    jg_jwks *set = NULL;
    /* refused at once, without waiting for a writer */
    assert_jg(JG_ERR_FILE_TYPE, jg_jwks_load_file(path, 0, NULL, &set));
    assert_null(set);
}

static void test_missing_file(void **state)
{
    (void)state;
    jg_jwks *set = NULL;
    errno = 0;
    assert_jg(JG_ERR_FILE, jg_jwks_load_file(path_of("no-such-file"), 0, NULL, &set));
    assert_int_equal(errno, ENOENT);
    assert_null(set);
}

static void test_oversized_file(void **state)
{
    (void)state;
    /* max_keys 1: the bound is 64 KiB + 16 KiB = 80 KiB */
    jg_limits limits = jg_limits_default();
    limits.max_keys = 1;
    size_t len = 80 * 1024 + 1;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    big[len - 2] = big[len - 1] = '{';
    jg_jwks *set = NULL;
    errno = 0;
    assert_jg(JG_ERR_LIMIT_FILE_SIZE,
              jg_jwks_load_file(write_file("big.json", big, len), 0, &limits, &set));
    assert_int_equal(errno, EFBIG);
    /* one byte less is read (and then is not valid JSON) */
    assert_jg(JG_ERR_JSON_SYNTAX,
              jg_jwks_load_file(write_file("big.json", big, len - 1), 0, &limits, &set));
    free(big);
    assert_null(set);
}

static void test_not_a_key(void **state)
{
    (void)state;
    jg_jwks *set = NULL;
    assert_jg(JG_ERR_KEY_FORMAT, jg_jwks_load_file(write_file("empty", "", 0), 0, NULL, &set));
    assert_jg(JG_ERR_KEY_FORMAT,
              jg_jwks_load_file(write_file("text", "hello\n", 6), 0, NULL, &set));
    assert_jg(JG_ERR_JSON_SYNTAX,
              jg_jwks_load_file(write_file("broken.json", "{\"kty\":", 7), 0, NULL, &set));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_load_file(NULL, 0, NULL, &set));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_load_file(path_of("text"), 0, NULL, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_jwks_load_file(path_of("text"), 1u << 30, NULL, &set));
    assert_null(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwk_file),
        cmocka_unit_test(test_jwks_file),
        cmocka_unit_test(test_pem_file_one_key),
        cmocka_unit_test(test_pem_file_several_blocks),
        cmocka_unit_test(test_pem_without_key_or_broken),
        cmocka_unit_test(test_der_file),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_oversized_file),
        cmocka_unit_test(test_not_a_key),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tu_report("test_jwks_file");
    return rc;
}
