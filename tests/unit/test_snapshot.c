/*
 * test_snapshot.c — the compiled gateway snapshot (jwtgate/snapshot.h):
 * building and reading, routing, the uniqueness rules of the builder, the
 * checksum (whole and in steps), hostile files (torn, truncated, wrong
 * version, and bad references under a correct checksum), the atomic file
 * write and mapping, the JSON form and its round trip, and a large set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "snapshot/snap_format.h"
#include "snapshot/snap_internal.h"
#include "testutil.h"

/* ---- Helpers ------------------------------------------------------------------ */

static const char DEC[] =
    "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"d1\",\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"}]}";
static const char VER[] = "{\"keys\":[]}";
static const uint8_t DB_ID[JG_SNAPSHOT_DB_ID_LEN] = {1, 2,  3,  4,  5,  6,  7,  8,
                                                     9, 10, 11, 12, 13, 14, 15, 16};

/* A small snapshot: two APIs (one with a base path ending in "/"), a
 * subscription, a revoked jti, a suspended client. */
static void build_small(uint8_t **buf, size_t *len)
{
    jg_snapshot_builder *b;
    assert_jg_ok(jg_snapshot_builder_new(&b));
    assert_jg_ok(jg_snapshot_builder_set_info(b, 42, 1000, 900, "https://issuer", DB_ID));
    assert_jg_ok(jg_snapshot_builder_set_keys(b, DEC, strlen(DEC), VER, strlen(VER), NULL, 0));
    const char *scopes[] = {"orders:read", "orders:write"};
    jg_snapshot_api_in orders = {.id = "api_1",
                                 .tenant_id = "ten_1",
                                 .name = "orders",
                                 .version = "v1",
                                 .base_path = "/orders",
                                 .upstream = "http://up",
                                 .audience = "https://aud/orders",
                                 .state = JG_API_PUBLISHED,
                                 .scopes = scopes,
                                 .nscopes = 2};
    jg_snapshot_api_in files = {.id = "api_2",
                                .base_path = "/files/",
                                .audience = "aud2",
                                .state = JG_API_DEPRECATED,
                                .require_binding = JG_API_BIND_DPOP,
                                .sunset = 5000,
                                .deprecated_at = 10};
    uint32_t i1, i2;
    assert_jg_ok(jg_snapshot_builder_add_api(b, &orders, &i1));
    assert_jg_ok(jg_snapshot_builder_add_api(b, &files, &i2));
    assert_int_equal(i1, 0);
    assert_int_equal(i2, 1);
    assert_jg_ok(jg_snapshot_builder_add_subscription(b, "sub_1", "client_a", i1, scopes, 1));
    assert_jg_ok(jg_snapshot_builder_add_revoked(b, "jti_1", 2000));
    assert_jg_ok(jg_snapshot_builder_add_suspended(b, "client_bad"));
    assert_jg_ok(jg_snapshot_builder_finish(b, buf, len));
    jg_snapshot_builder_free(b);
}

static jg_snapshot *open_buf(const uint8_t *buf, size_t len)
{
    jg_snapshot *s;
    assert_jg_ok(jg_snapshot_map_buffer(buf, len, NULL, &s));
    assert_jg_ok(jg_snapshot_verify_step(s, 0));
    return s;
}

/* Recompute the checksum after a test changed bytes on purpose. */
static void reseal(uint8_t *buf, size_t len)
{
    uint8_t md[32];
    unsigned int n;
    memset(buf + SNAP_CHECKSUM_OFFSET, 0, 32);
    assert_int_equal(EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL), 1);
    memcpy(buf + SNAP_CHECKSUM_OFFSET, md, 32);
}

static snap_section *section(uint8_t *buf, int id)
{
    return (snap_section *)(void *)(buf + sizeof(snap_header)) + id;
}

static int str_eq(jg_snap_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0 && s.ptr[s.len] == 0;
}

/* ---- Building and reading ------------------------------------------------------- */

static void test_build_and_read(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_small(&buf, &len);
    jg_snapshot *s = open_buf(buf, len);

    jg_snapshot_info info;
    assert_jg_ok(jg_snapshot_get_info(s, &info));
    assert_int_equal(info.version, 42);
    assert_int_equal(info.generated_at, 1000);
    assert_int_equal(info.token_ttl, 900);
    assert_memory_equal(info.db_id, DB_ID, sizeof DB_ID);
    assert_true(str_eq(info.issuer, "https://issuer"));
    assert_int_equal(info.apis, 2);
    assert_int_equal(info.subscriptions, 1);
    assert_int_equal(info.revoked, 1);
    assert_int_equal(info.suspended, 1);
    assert_int_equal(info.file_size, len);

    jg_snap_str dec, ver, kinfo;
    assert_jg_ok(jg_snapshot_keys(s, &dec, &ver, &kinfo));
    assert_true(str_eq(dec, DEC));
    assert_true(str_eq(ver, VER));
    assert_true(str_eq(kinfo, "[]"));

    jg_snap_api a;
    assert_jg_ok(jg_snapshot_api(s, 0, &a));
    assert_true(str_eq(a.id, "api_1") && str_eq(a.tenant_id, "ten_1") && str_eq(a.name, "orders"));
    assert_true(str_eq(a.version, "v1") && str_eq(a.upstream, "http://up"));
    assert_true(str_eq(a.audience, "https://aud/orders"));
    assert_int_equal(a.state, JG_API_PUBLISHED);
    assert_int_equal(a.require_binding, JG_API_BIND_NONE);
    assert_int_equal(a.nscopes, 2);
    jg_snap_str sc;
    assert_jg_ok(jg_snapshot_api_scope(s, &a, 1, &sc));
    assert_true(str_eq(sc, "orders:write"));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_api_scope(s, &a, 2, &sc));
    assert_true(jg_snapshot_api_has_scope(s, &a, "orders:read", 11));
    assert_false(jg_snapshot_api_has_scope(s, &a, "orders:rea", 10));
    assert_jg_ok(jg_snapshot_api(s, 1, &a));
    assert_true(str_eq(a.tenant_id, "") && str_eq(a.name, ""));
    assert_int_equal(a.state, JG_API_DEPRECATED);
    assert_int_equal(a.require_binding, JG_API_BIND_DPOP);
    assert_int_equal(a.sunset, 5000);
    assert_int_equal(a.deprecated_at, 10);
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_api(s, 2, &a));

    jg_snap_sub sub;
    assert_jg_ok(jg_snapshot_subscription(s, "client_a", 8, 0, &sub));
    assert_true(str_eq(sub.id, "sub_1") && str_eq(sub.client_id, "client_a"));
    assert_int_equal(sub.api_index, 0);
    assert_true(jg_snapshot_sub_has_scope(s, &sub, "orders:read", 11));
    assert_false(jg_snapshot_sub_has_scope(s, &sub, "orders:write", 12));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_subscription(s, "client_a", 8, 1, &sub));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_subscription(s, "client_b", 8, 0, &sub));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_subscription(s, "client_", 7, 0, &sub));
    assert_jg_ok(jg_snapshot_subscription_at(s, 0, &sub));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_subscription_at(s, 1, &sub));

    assert_true(jg_snapshot_is_revoked(s, "jti_1", 5));
    assert_false(jg_snapshot_is_revoked(s, "jti_2", 5));
    assert_false(jg_snapshot_is_revoked(s, "jti_", 4));
    assert_true(jg_snapshot_is_suspended(s, "client_bad", 10));
    assert_false(jg_snapshot_is_suspended(s, "client_a", 8));
    jg_snap_str v;
    int64_t exp;
    assert_jg_ok(jg_snapshot_revoked_at(s, 0, &v, &exp));
    assert_true(str_eq(v, "jti_1"));
    assert_int_equal(exp, 2000);
    assert_jg_ok(jg_snapshot_suspended_at(s, 0, &v));
    assert_true(str_eq(v, "client_bad"));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_suspended_at(s, 1, &v));

    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

/* The group-readable mode of a packaged gateway (docs/SECURITY.md): 0640
 * whatever the umask, replacing a 0600 file; every other mode refused. */
static void test_write_file_mode(void **state)
{
    (void)state;
    char dir[] = "/tmp/jg_snapmodeXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/snapshot.jgs", dir);
    const uint8_t data[4] = {1, 2, 3, 4};
    mode_t old = umask(077);
    assert_jg_ok(jg_snapshot_write_file(path, data, sizeof data));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_jg_ok(jg_snapshot_write_file_mode(path, data, sizeof data, 0640));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_jg_ok(jg_snapshot_write_file_mode(path, data, sizeof data, 0600));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    umask(old);
    static const unsigned bad[] = {0644, 0660, 0604, 0400, 0700, 0200, 04640, 0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_write_file_mode(path, data, 4, bad[i]));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static void expect_route(const jg_snapshot *s, const char *path, const char *api_id)
{
    jg_snap_api a;
    jg_err err = jg_snapshot_route(s, path, strlen(path), &a);
    if (!api_id) {
        if (err != JG_ERR_NOT_FOUND)
            fail_msg("%s: expected no API, got %s", path, jg_err_name(err));
        return;
    }
    if (err != JG_OK || !str_eq(a.id, api_id))
        fail_msg("%s: expected %s, got %s", path, api_id, jg_err_name(err));
}

static void test_route_on_segment_boundaries(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_small(&buf, &len);
    jg_snapshot *s = open_buf(buf, len);
    expect_route(s, "/orders", "api_1");
    expect_route(s, "/orders/", "api_1");
    expect_route(s, "/orders/42/items", "api_1");
    expect_route(s, "/ordersx", NULL);
    expect_route(s, "/order", NULL);
    expect_route(s, "/files/a", "api_2");
    expect_route(s, "/files/", "api_2");
    expect_route(s, "/files", NULL); /* "/files/" matches what starts with it */
    expect_route(s, "/", NULL);
    expect_route(s, "", NULL);
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

static void test_longest_prefix_wins(void **state)
{
    (void)state;
    jg_snapshot_builder *b;
    assert_jg_ok(jg_snapshot_builder_new(&b));
    assert_jg_ok(jg_snapshot_builder_set_info(b, 1, 0, 0, "i", NULL));
    assert_jg_ok(jg_snapshot_builder_set_keys(b, DEC, strlen(DEC), VER, strlen(VER), NULL, 0));
    jg_snapshot_api_in a = {.id = "short", .base_path = "/a", .audience = "x"};
    jg_snapshot_api_in c = {.id = "long", .base_path = "/a/b", .audience = "x"};
    assert_jg_ok(jg_snapshot_builder_add_api(b, &a, NULL));
    assert_jg_ok(jg_snapshot_builder_add_api(b, &c, NULL));
    uint8_t *buf;
    size_t len;
    assert_jg_ok(jg_snapshot_builder_finish(b, &buf, &len));
    jg_snapshot_builder_free(b);
    jg_snapshot *s = open_buf(buf, len);
    expect_route(s, "/a/b/c", "long");
    expect_route(s, "/a/b", "long");
    expect_route(s, "/a/bc", "short");
    expect_route(s, "/a/x", "short");
    jg_snapshot_info info;
    assert_jg_ok(jg_snapshot_get_info(s, &info));
    static const uint8_t zero[JG_SNAPSHOT_DB_ID_LEN];
    assert_memory_equal(info.db_id, zero, sizeof zero);
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

static void test_builder_rules(void **state)
{
    (void)state;
    jg_snapshot_builder *b;
    uint8_t *buf;
    size_t len;
    assert_jg_ok(jg_snapshot_builder_new(&b));
    /* finish needs info and keys */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_finish(b, &buf, &len));
    jg_snapshot_builder_free(b);

    assert_jg_ok(jg_snapshot_builder_new(&b));
    assert_jg_ok(jg_snapshot_builder_set_info(b, 1, 0, 0, "i", NULL));
    assert_jg_ok(jg_snapshot_builder_set_keys(b, DEC, strlen(DEC), VER, strlen(VER), NULL, 0));
    jg_snapshot_api_in a = {.id = "a", .base_path = "/a", .audience = "x"};
    jg_snapshot_api_in same_id = {.id = "a", .base_path = "/b", .audience = "x"};
    jg_snapshot_api_in same_path = {.id = "b", .base_path = "/a", .audience = "x"};
    jg_snapshot_api_in no_aud = {.id = "c", .base_path = "/c"};
    jg_snapshot_api_in bad_state = {
        .id = "d", .base_path = "/d", .audience = "x", .state = (jg_api_state)7};
    assert_jg_ok(jg_snapshot_builder_add_api(b, &a, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_add_api(b, &same_id, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_add_api(b, &same_path, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_add_api(b, &no_aud, NULL));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_add_api(b, &bad_state, NULL));
    assert_jg_ok(jg_snapshot_builder_add_subscription(b, "s1", "c1", 0, NULL, 0));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_snapshot_builder_add_subscription(b, "s2", "c1", 0, NULL, 0));
    assert_jg(JG_ERR_INVALID_ARGUMENT,
              jg_snapshot_builder_add_subscription(b, "s3", "c1", 1, NULL, 0));
    /* a repeated jti keeps the later exp; a repeated client is listed once */
    assert_jg_ok(jg_snapshot_builder_add_revoked(b, "j", 10));
    assert_jg_ok(jg_snapshot_builder_add_revoked(b, "j", 30));
    assert_jg_ok(jg_snapshot_builder_add_revoked(b, "j", 20));
    assert_jg_ok(jg_snapshot_builder_add_suspended(b, "c9"));
    assert_jg_ok(jg_snapshot_builder_add_suspended(b, "c9"));
    assert_jg_ok(jg_snapshot_builder_finish(b, &buf, &len));
    /* only free after finish */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_add_revoked(b, "k", 1));
    jg_snapshot_builder_free(b);

    jg_snapshot *s = open_buf(buf, len);
    jg_snapshot_info info;
    assert_jg_ok(jg_snapshot_get_info(s, &info));
    assert_int_equal(info.revoked, 1);
    assert_int_equal(info.suspended, 1);
    jg_snap_str jti;
    int64_t exp;
    assert_jg_ok(jg_snapshot_revoked_at(s, 0, &jti, &exp));
    assert_int_equal(exp, 30);
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

/* ---- The checksum ------------------------------------------------------------ */

static void test_lookups_wait_for_the_checksum(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_small(&buf, &len);
    jg_snapshot *s;
    assert_jg_ok(jg_snapshot_map_buffer(buf, len, NULL, &s));
    jg_snapshot_info info;
    assert_jg_ok(jg_snapshot_get_info(s, &info)); /* the header's facts: at once */
    assert_int_equal(info.version, 42);
    jg_snap_api a;
    jg_snap_str d, v, k;
    assert_jg(JG_ERR_SNAPSHOT_UNVERIFIED, jg_snapshot_route(s, "/orders", 7, &a));
    assert_jg(JG_ERR_SNAPSHOT_UNVERIFIED, jg_snapshot_keys(s, &d, &v, &k));
    assert_false(jg_snapshot_is_suspended(s, "client_bad", 10));
    /* in steps of 100 bytes: AGAIN until the last one */
    size_t steps = 0;
    jg_err err;
    while ((err = jg_snapshot_verify_step(s, 100)) == JG_ERR_AGAIN)
        steps++;
    assert_jg_ok(err);
    assert_true(steps >= (len - sizeof(snap_header)) / 100 - 1);
    assert_jg_ok(jg_snapshot_verify_step(s, 100)); /* stays verified */
    assert_jg_ok(jg_snapshot_route(s, "/orders", 7, &a));
    assert_true(jg_snapshot_is_suspended(s, "client_bad", 10));
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

static void test_corrupted_byte_is_refused(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_small(&buf, &len);
    /* every byte of the file, flipped in turn, is caught by the header
     * check or the checksum */
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x20;
        jg_snapshot *s;
        jg_err err = jg_snapshot_map_buffer(buf, len, NULL, &s);
        if (err == JG_OK) {
            err = jg_snapshot_verify_step(s, 0);
            assert_jg(JG_ERR_SNAPSHOT_CHECKSUM, err);
            assert_jg(JG_ERR_SNAPSHOT_CHECKSUM, jg_snapshot_verify_step(s, 0)); /* sticky */
            jg_snap_api a;
            assert_jg(JG_ERR_SNAPSHOT_UNVERIFIED, jg_snapshot_route(s, "/orders", 7, &a));
            jg_snapshot_close(s);
        } else if (err != JG_ERR_SNAPSHOT_FORMAT && err != JG_ERR_SNAPSHOT_VERSION) {
            fail_msg("byte %zu: %s", i, jg_err_name(err));
        }
        buf[i] ^= 0x20;
    }
    jg_free_secret(buf, len);
}

static void test_torn_and_foreign_files_are_refused(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_small(&buf, &len);
    jg_snapshot *s;
    /* truncated anywhere: the sizes no longer agree */
    for (size_t cut = 0; cut < len; cut += 7)
        assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(buf, cut, NULL, &s));
    /* a JSON snapshot (format 1) is not a compiled one */
    const char *json = "{\"format\":\"jwtgate-snapshot\",\"format_version\":1}";
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(json, strlen(json), NULL, &s));
    /* a later format version */
    snap_header h;
    memcpy(&h, buf, sizeof h);
    h.format_version = 3;
    memcpy(buf, &h, sizeof h);
    reseal(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_VERSION, jg_snapshot_map_buffer(buf, len, NULL, &s));
    h.format_version = 2;
    h.flags = 1;
    memcpy(buf, &h, sizeof h);
    reseal(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(buf, len, NULL, &s));
    /* over the size limit */
    h.flags = 0;
    memcpy(buf, &h, sizeof h);
    reseal(buf, len);
    jg_snapshot_limits lim = {.max_file_size = len - 1};
    assert_jg(JG_ERR_LIMIT_JSON_SIZE, jg_snapshot_map_buffer(buf, len, &lim, &s));
    jg_free_secret(buf, len);
}

/* The small snapshot with one more section, as a newer jwtgated would write
 * it: the table grows by one entry (every offset moves by its size) and the
 * new section (`extra` bytes, 8-aligned) comes last. */
static uint8_t *with_extra_section(const uint8_t *buf, size_t len, size_t extra, size_t *out_len)
{
    const size_t entry = sizeof(snap_section), head = sizeof(snap_header);
    snap_header h;
    memcpy(&h, buf, sizeof h);
    size_t table = (size_t)h.nsections * entry;
    *out_len = len + entry + extra;
    uint8_t *out = calloc(1, *out_len);
    assert_non_null(out);
    memcpy(out, buf, head + table);
    memcpy(out + head + table + entry, buf + head + table, len - head - table);
    for (uint32_t i = 0; i < h.nsections; i++)
        ((snap_section *)(void *)(out + head))[i].offset += entry;
    snap_section add = {.offset = len + entry, .size = extra, .count = 3, .aux = 7};
    memcpy(out + head + table, &add, sizeof add);
    memset(out + len + entry, 0xAB, extra);
    h.nsections++;
    h.header_size += (uint32_t)entry;
    h.file_size = *out_len;
    memcpy(out, &h, sizeof h);
    reseal(out, *out_len);
    return out;
}

/* A section this build does not know (a newer writer's) is skipped, not
 * refused, as long as it sits properly in the file. */
static void test_unknown_sections_are_skipped(void **state)
{
    (void)state;
    uint8_t *buf, *big;
    size_t len, big_len;
    build_small(&buf, &len);
    big = with_extra_section(buf, len, 64, &big_len);
    jg_snapshot *s = open_buf(big, big_len);
    jg_snap_api a;
    assert_jg_ok(jg_snapshot_route(s, "/orders/7", 9, &a));
    assert_true(str_eq(a.id, "api_1"));
    jg_snap_sub sub;
    assert_jg_ok(jg_snapshot_subscription(s, "client_a", 8, 0, &sub));
    jg_snapshot_close(s);

    /* ... but its place is checked like any other's: past the end, misaligned */
    snap_section *extra = section(big, SNAP_NSECTIONS);
    snap_section saved = *extra;
    extra->size = 1u << 20;
    reseal(big, big_len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(big, big_len, NULL, &s));
    *extra = saved;
    extra->offset -= 4;
    reseal(big, big_len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(big, big_len, NULL, &s));
    *extra = saved;
    /* overlapping a section before it (LLM's 8 bytes; the ones after it are empty) */
    extra->offset = section(big, SNAP_LLM)->offset;
    reseal(big, big_len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(big, big_len, NULL, &s));
    *extra = saved;
    /* a section count past the bound, or below the known ones */
    snap_header h;
    memcpy(&h, big, sizeof h);
    snap_header bad = h;
    bad.nsections = SNAP_MAX_SECTIONS + 1;
    memcpy(big, &bad, sizeof bad);
    reseal(big, big_len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(big, big_len, NULL, &s));
    bad = h;
    bad.nsections = SNAP_NSECTIONS_MIN - 1;
    bad.header_size = (uint32_t)(sizeof(snap_header) + bad.nsections * sizeof(snap_section));
    memcpy(big, &bad, sizeof bad);
    reseal(big, big_len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(big, big_len, NULL, &s));
    free(big);
    jg_free_secret(buf, len);
}

/* A file with a correct checksum is still only data: bad references give
 * errors, never reads outside the file (ASan watches this test). */
static void test_hostile_content_under_a_valid_checksum(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_small(&buf, &len);
    jg_snapshot *s;

    /* an API whose base_path points past the string pool */
    snap_section *apis = section(buf, SNAP_APIS);
    snap_api a;
    memcpy(&a, buf + apis->offset, sizeof a);
    snap_api saved = a;
    a.base_path.off = 0xfffffff0u;
    memcpy(buf + apis->offset, &a, sizeof a);
    reseal(buf, len);
    s = open_buf(buf, len);
    jg_snap_api out;
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_api(s, 0, &out));
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_route(s, "/orders", 7, &out));
    jg_snapshot_close(s);

    /* a scope list running past SCOPES, a state out of range */
    a = saved;
    a.nscopes = 1000;
    memcpy(buf + apis->offset, &a, sizeof a);
    reseal(buf, len);
    s = open_buf(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_api(s, 0, &out));
    jg_snapshot_close(s);
    a = saved;
    a.state = 9;
    memcpy(buf + apis->offset, &a, sizeof a);
    reseal(buf, len);
    s = open_buf(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_api(s, 0, &out));
    jg_snapshot_close(s);
    /* a binding this build does not know: refused, never read as "none" */
    a = saved;
    a.binding = 4;
    memcpy(buf + apis->offset, &a, sizeof a);
    reseal(buf, len);
    s = open_buf(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_api(s, 0, &out));
    jg_snapshot_close(s);
    memcpy(buf + apis->offset, &saved, sizeof saved);

    /* a subscription naming an API that does not exist */
    snap_section *subs = section(buf, SNAP_SUBS);
    snap_sub sub, sub_saved;
    memcpy(&sub, buf + subs->offset, sizeof sub);
    sub_saved = sub;
    sub.api_index = 77;
    memcpy(buf + subs->offset, &sub, sizeof sub);
    reseal(buf, len);
    s = open_buf(buf, len);
    jg_snap_sub so;
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_subscription_at(s, 0, &so));
    jg_snapshot_close(s);
    memcpy(buf + subs->offset, &sub_saved, sizeof sub_saved);

    /* an index every slot of which is taken and that claims an endless
     * probe bound: the reader stops at the index size */
    snap_section *rix = section(buf, SNAP_REVOKED_INDEX);
    for (uint32_t i = 0; i < rix->count; i++) {
        snap_slot slot = {1, 0};
        memcpy(buf + rix->offset + i * sizeof slot, &slot, sizeof slot);
    }
    rix->aux = rix->count;
    reseal(buf, len);
    s = open_buf(buf, len);
    assert_false(jg_snapshot_is_revoked(s, "nope", 4));
    jg_snapshot_close(s);
    rix->aux = rix->count + 1; /* larger than the index: refused at opening */
    reseal(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(buf, len, NULL, &s));

    /* overlapping and misaligned sections, a record section of a partial
     * record: refused at opening */
    rix->aux = rix->count;
    snap_section saved_sec = *apis;
    apis->offset = section(buf, SNAP_KEYS)->offset;
    reseal(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(buf, len, NULL, &s));
    *apis = saved_sec;
    apis->offset += 4;
    reseal(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(buf, len, NULL, &s));
    *apis = saved_sec;
    apis->size -= 8;
    reseal(buf, len);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_map_buffer(buf, len, NULL, &s));
    *apis = saved_sec;
    reseal(buf, len);
    s = open_buf(buf, len);
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

/* ---- Files ------------------------------------------------------------------------ */

static void test_write_file_and_map(void **state)
{
    (void)state;
    char dir[] = "/tmp/jg_snapXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/snapshot.jgs", dir);
    uint8_t *buf;
    size_t len;
    build_small(&buf, &len);
    assert_jg_ok(jg_snapshot_write_file(path, buf, len));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, len);

    jg_snapshot *s;
    assert_jg_ok(jg_snapshot_open(path, NULL, &s));
    /* replacing the file does not disturb a mapping of the old one */
    uint8_t *small = malloc(16);
    memset(small, 'x', 16);
    assert_jg_ok(jg_snapshot_write_file(path, small, 16));
    jg_snap_api a;
    assert_jg_ok(jg_snapshot_route(s, "/orders/1", 9, &a));
    assert_true(str_eq(a.id, "api_1"));
    jg_snapshot_close(s);
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_open(path, NULL, &s));
    assert_null(s);

    assert_jg(JG_ERR_FILE, jg_snapshot_map(dir, NULL, &s)); /* a directory */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", dir);
    errno = 0;
    assert_jg(JG_ERR_FILE, jg_snapshot_map(missing, NULL, &s));
    assert_int_equal(errno, ENOENT);
    snprintf(missing, sizeof missing, "%s/no/such/dir/file", dir);
    assert_jg(JG_ERR_FILE, jg_snapshot_write_file(missing, buf, len));

    /* no temporary file is left behind */
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    free(small);
    jg_free_secret(buf, len);
}

/* ---- LLM APIs: configuration, limits, over quota ---------------------------------- */

static const char LLM[] = "{\"secrets_kid\":\"gs1\",\"apis\":[{\"api_id\":\"api_1\","
                          "\"providers\":[{\"name\":\"openai\",\"format\":\"openai\"}]}]}";

/* The small snapshot plus an LLM configuration, limits on client_a's
 * subscription (two models) and three over-quota entries. */
static void build_llm(uint8_t **buf, size_t *len)
{
    jg_snapshot_builder *b;
    assert_jg_ok(jg_snapshot_builder_new(&b));
    assert_jg_ok(jg_snapshot_builder_set_info(b, 43, 1000, 900, "https://issuer", DB_ID));
    assert_jg_ok(jg_snapshot_builder_set_keys(b, DEC, strlen(DEC), VER, strlen(VER), NULL, 0));
    jg_snapshot_api_in llm = {.id = "api_1", .base_path = "/llm", .audience = "aud"};
    jg_snapshot_api_in other = {.id = "api_2", .base_path = "/other", .audience = "aud2"};
    assert_jg_ok(jg_snapshot_builder_add_api(b, &llm, NULL));
    assert_jg_ok(jg_snapshot_builder_add_api(b, &other, NULL));
    assert_jg_ok(jg_snapshot_builder_add_subscription(b, "sub_1", "client_a", 0, NULL, 0));
    assert_jg_ok(jg_snapshot_builder_add_subscription(b, "sub_2", "client_b", 0, NULL, 0));
    assert_jg_ok(jg_snapshot_builder_set_llm(b, LLM, strlen(LLM)));
    jg_snapshot_model_limits_in models[] = {{"gpt-4o", 0, 0, 200000}, {"fast", 600, 0, 0}};
    jg_snapshot_limits_in lim = {60, 20000, 2000000, 1000, 4000, models, 2};
    assert_jg_ok(jg_snapshot_builder_set_sub_limits(b, "client_a", 0, &lim));
    assert_jg_ok(jg_snapshot_builder_add_overquota(b, "client_b", 0, NULL, 2000));
    assert_jg_ok(jg_snapshot_builder_add_overquota(b, "client_a", 0, "gpt-4o", 3000));
    assert_jg_ok(
        jg_snapshot_builder_add_overquota(b, "client_a", 0, "gpt-4o", 2500)); /* kept: 3000 */
    assert_jg_ok(jg_snapshot_builder_add_overquota(b, "client_a", 1, "", 1500));
    assert_jg_ok(jg_snapshot_builder_finish(b, buf, len));
    jg_snapshot_builder_free(b);
}

static void test_llm_sections(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_llm(&buf, &len);
    jg_snapshot *s = open_buf(buf, len);
    jg_snap_str j;
    assert_jg_ok(jg_snapshot_llm(s, &j));
    assert_true(str_eq(j, LLM));

    jg_snap_sub sub;
    jg_snap_limits l;
    assert_jg_ok(jg_snapshot_subscription(s, "client_a", 8, 0, &sub));
    assert_jg_ok(jg_snapshot_sub_limits(s, &sub, &l));
    assert_int_equal(l.requests_per_minute, 60);
    assert_int_equal(l.tokens_per_minute, 20000);
    assert_int_equal(l.tokens_per_day, 2000000);
    assert_int_equal(l.input_weight_milli, 1000);
    assert_int_equal(l.output_weight_milli, 4000);
    assert_int_equal(l.nmodels, 2);
    jg_snap_model_limits m;
    assert_jg_ok(jg_snapshot_limits_model(s, &l, "fast", 4, &m));
    assert_int_equal(m.requests_per_minute, 600);
    assert_jg_ok(jg_snapshot_limits_model(s, &l, "gpt-4o", 6, &m));
    assert_int_equal(m.tokens_per_day, 200000);
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_limits_model(s, &l, "gpt-4", 5, &m));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_limits_model_at(s, &l, 2, &m));
    assert_jg_ok(jg_snapshot_subscription(s, "client_b", 8, 0, &sub));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_sub_limits(s, &sub, &l)); /* unlimited */

    /* over quota: the whole subscription, one model, another API; until > now */
    int64_t until;
    assert_true(jg_snapshot_overquota(s, "client_b", 8, 0, NULL, 0, 1999, &until));
    assert_int_equal(until, 2000);
    assert_true(jg_snapshot_overquota(s, "client_b", 8, 0, "fast", 4, 1999, &until));
    assert_false(jg_snapshot_overquota(s, "client_b", 8, 0, NULL, 0, 2000, &until));
    assert_int_equal(until, 0);
    assert_true(jg_snapshot_overquota(s, "client_a", 8, 0, "gpt-4o", 6, 2999, &until));
    assert_int_equal(until, 3000);
    assert_false(jg_snapshot_overquota(s, "client_a", 8, 0, "fast", 4, 100, NULL));
    assert_false(jg_snapshot_overquota(s, "client_a", 8, 0, NULL, 0, 100, NULL));
    assert_true(jg_snapshot_overquota(s, "client_a", 8, 1, "anything", 8, 100, NULL));
    assert_false(jg_snapshot_overquota(s, "client_c", 8, 0, NULL, 0, 100, NULL));

    jg_snapshot_info info;
    assert_jg_ok(jg_snapshot_get_info(s, &info));
    assert_int_equal(info.over_quota, 3);
    jg_snap_str cid, model;
    uint32_t api;
    assert_jg_ok(jg_snapshot_overquota_at(s, 1, &cid, &api, &model, &until));
    assert_true(str_eq(cid, "client_a") && str_eq(model, "gpt-4o") && api == 0 && until == 3000);
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_overquota_at(s, 3, &cid, &api, &model, &until));

    /* a limits reference past the section is a format error, not a read */
    jg_snap_sub forged = sub;
    forged.limits_ref_ = 99;
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, jg_snapshot_sub_limits(s, &forged, &l));
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

static void test_llm_builder_rules(void **state)
{
    (void)state;
    jg_snapshot_builder *b;
    assert_jg_ok(jg_snapshot_builder_new(&b));
    jg_snapshot_api_in api = {.id = "api_1", .base_path = "/llm", .audience = "aud"};
    jg_snapshot_limits_in lim = {1, 2, 3, 1000, 1000, NULL, 0};
    /* limits need the subscription first */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_sub_limits(b, "c", 0, &lim));
    assert_jg_ok(jg_snapshot_builder_add_api(b, &api, NULL));
    assert_jg_ok(jg_snapshot_builder_add_subscription(b, "s", "c", 0, NULL, 0));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_sub_limits(b, "d", 0, &lim));
    jg_snapshot_limits_in neg = {-1, 0, 0, 1000, 1000, NULL, 0};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_sub_limits(b, "c", 0, &neg));
    jg_snapshot_model_limits_in twice[] = {{"m", 1, 0, 0}, {"m", 2, 0, 0}};
    jg_snapshot_limits_in dup = {0, 0, 0, 1000, 1000, twice, 2};
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_sub_limits(b, "c", 0, &dup));
    assert_jg_ok(jg_snapshot_builder_set_sub_limits(b, "c", 0, &lim));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_sub_limits(b, "c", 0, &lim));
    /* the LLM text must be one JSON object, set once */
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_llm(b, "[1]", 3));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_llm(b, "{\"a\":", 5));
    assert_jg_ok(jg_snapshot_builder_set_llm(b, "{}", 2));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_set_llm(b, "{}", 2));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_add_overquota(b, "c", 1, NULL, 5));
    assert_jg(JG_ERR_INVALID_ARGUMENT, jg_snapshot_builder_add_overquota(b, "", 0, NULL, 5));
    jg_snapshot_builder_free(b);
}

/* A file of a writer from before the LLM sections: its table ends after
 * the first eleven; it reads as having no LLM configuration, no limits and
 * nobody over quota. Made from a new file by shortening the table (the
 * sections stay where they are: a gap after the table is allowed). */
static void test_older_file_has_no_llm_sections(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    build_llm(&buf, &len);
    snap_header h;
    memcpy(&h, buf, sizeof h);
    h.nsections = SNAP_NSECTIONS_MIN;
    h.header_size = (uint32_t)(sizeof(snap_header) + SNAP_NSECTIONS_MIN * sizeof(snap_section));
    memcpy(buf, &h, sizeof h);
    /* and the subscription's limits reference is 0, as the padding was */
    snap_sub sub0;
    snap_section *subs = section(buf, SNAP_SUBS);
    memcpy(&sub0, buf + subs->offset, sizeof sub0);
    sub0.limits1 = 0;
    memcpy(buf + subs->offset, &sub0, sizeof sub0);
    reseal(buf, len);
    jg_snapshot *s = open_buf(buf, len);
    jg_snap_str j;
    assert_jg_ok(jg_snapshot_llm(s, &j));
    assert_int_equal(j.len, 0);
    jg_snap_sub sub;
    jg_snap_limits l;
    assert_jg_ok(jg_snapshot_subscription(s, "client_a", 8, 0, &sub));
    assert_jg(JG_ERR_NOT_FOUND, jg_snapshot_sub_limits(s, &sub, &l));
    assert_false(jg_snapshot_overquota(s, "client_b", 8, 0, NULL, 0, 0, NULL));
    jg_snapshot_info info;
    assert_jg_ok(jg_snapshot_get_info(s, &info));
    assert_int_equal(info.over_quota, 0);
    char *doc;
    size_t dlen;
    assert_jg_ok(jg_snapshot_to_json(s, 0, &doc, &dlen));
    assert_null(strstr(doc, "over_quota"));
    assert_null(strstr(doc, "\"llm\""));
    jg_free_secret(doc, dlen);
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

/* ---- The JSON form ---------------------------------------------------------------- */

static const char DOC[] =
    "{\"format\":\"jwtgate-snapshot\",\"format_version\":1,\"version\":7,\"generated_at\":100,"
    "\"issuer\":\"https://auth\",\"token_ttl\":900,\"db_id\":\"000102030405060708090a0b0c0d0e0f\","
    "\"decryption_keys\":{\"keys\":[{\"kty\":\"oct\",\"kid\":\"d1\",\"k\":\"AAAA\"}]},"
    "\"verification_keys\":{\"keys\":[]},"
    "\"keys\":[{\"kid\":\"d1\",\"purpose\":\"encryption\",\"alg\":\"dir\",\"state\":\"active\"}],"
    "\"apis\":[{\"id\":\"api_1\",\"tenant_id\":\"t\",\"name\":\"orders\",\"version\":\"v1\","
    "\"base_path\":\"/orders\",\"upstream\":\"http://u\",\"audience\":\"aud\","
    "\"scopes\":[\"r\",\"w\"],\"state\":\"published\",\"sunset\":null,\"deprecated_at\":null},"
    "{\"id\":\"api_2\",\"tenant_id\":\"t\",\"name\":\"b\",\"version\":\"v2\",\"base_path\":\"/b\","
    "\"upstream\":\"\",\"audience\":\"aud2\",\"scopes\":[],\"state\":\"retired\",\"sunset\":50,"
    "\"require_binding\":\"mtls\","
    "\"deprecated_at\":40}],"
    "\"subscriptions\":[{\"id\":\"s1\",\"client_id\":\"c1\",\"api_id\":\"api_1\","
    "\"audience\":\"aud\",\"scopes\":[\"r\"]}],"
    "\"revoked_jti\":[{\"jti\":\"j1\",\"exp\":99}],\"suspended_clients\":[\"c2\"],"
    "\"unknown_member\":{\"ignored\":true}}";

static void test_json_round_trip(void **state)
{
    (void)state;
    uint8_t *bin;
    size_t len;
    char detail[256];
    assert_jg_ok(jg_snapshot_compile_json(DOC, strlen(DOC), &bin, &len, detail, sizeof detail));
    jg_snapshot *s = open_buf(bin, len);
    jg_snap_api a;
    assert_jg_ok(jg_snapshot_route(s, "/b/x", 4, &a));
    assert_int_equal(a.state, JG_API_RETIRED);
    assert_int_equal(a.require_binding, JG_API_BIND_MTLS);
    assert_int_equal(a.sunset, 50);
    jg_snapshot_info info;
    assert_jg_ok(jg_snapshot_get_info(s, &info));
    assert_int_equal(info.db_id[15], 15);
    char *j1, *j2;
    size_t l1, l2;
    assert_jg_ok(jg_snapshot_to_json(s, 0, &j1, &l1));
    assert_int_equal(strlen(j1), l1);
    assert_non_null(strstr(j1, "\"db_id\":\"000102030405060708090a0b0c0d0e0f\""));
    assert_non_null(strstr(j1, "\"sunset\":null"));
    assert_non_null(strstr(j1, "\"require_binding\":\"mtls\""));
    assert_null(strstr(j1, "unknown_member"));

    uint8_t *bin2;
    size_t len2;
    assert_jg_ok(jg_snapshot_compile_json(j1, l1, &bin2, &len2, NULL, 0));
    jg_snapshot *s2 = open_buf(bin2, len2);
    assert_jg_ok(jg_snapshot_to_json(s2, 1, &j2, &l2)); /* pretty */
    json_error_t e;
    json_t *a1 = json_loads(j1, 0, &e), *a2 = json_loads(j2, 0, &e);
    assert_true(json_equal(a1, a2));
    json_decref(a1);
    json_decref(a2);
    jg_free_secret(j1, l1);
    jg_free_secret(j2, l2);
    jg_snapshot_close(s);
    jg_snapshot_close(s2);
    jg_free_secret(bin, len);
    jg_free_secret(bin2, len2);
}

/* Replace the first occurrence of `from` in DOC by `to` and compile. */
static jg_err compile_edited(const char *from, const char *to, char *detail, size_t dlen)
{
    const char *at = strstr(DOC, from);
    assert_non_null(at);
    size_t n = strlen(DOC) - strlen(from) + strlen(to) + 1;
    char *doc = malloc(n);
    snprintf(doc, n, "%.*s%s%s", (int)(at - DOC), DOC, to, at + strlen(from));
    uint8_t *bin;
    size_t len;
    jg_err err = jg_snapshot_compile_json(doc, strlen(doc), &bin, &len, detail, dlen);
    if (err == JG_OK)
        jg_free_secret(bin, len);
    else
        assert_null(bin);
    free(doc);
    return err;
}

/* The LLM members: printed from a compiled snapshot and compiled back. */
static void test_json_llm_members(void **state)
{
    (void)state;
    uint8_t *buf, *bin2;
    size_t len, len2;
    build_llm(&buf, &len);
    jg_snapshot *s = open_buf(buf, len);
    char *j1, *j2;
    size_t l1, l2;
    assert_jg_ok(jg_snapshot_to_json(s, 0, &j1, &l1));
    assert_non_null(strstr(j1, "\"llm\":{\"apis\":[{\"api_id\":\"api_1\""));
    assert_non_null(strstr(j1, "\"limits\":{\"input_weight\":1,\"models\":{\"fast\":"
                               "{\"requests_per_minute\":600},\"gpt-4o\":{\"tokens_per_day\":"
                               "200000}},\"output_weight\":4,\"requests_per_minute\":60,"));
    assert_non_null(strstr(j1, "{\"api_id\":\"api_1\",\"client_id\":\"client_a\",\"model\":"
                               "\"gpt-4o\",\"until\":3000}"));
    assert_jg_ok(jg_snapshot_compile_json(j1, l1, &bin2, &len2, NULL, 0));
    jg_snapshot *s2 = open_buf(bin2, len2);
    assert_jg_ok(jg_snapshot_to_json(s2, 0, &j2, &l2));
    assert_string_equal(j1, j2);
    assert_true(jg_snapshot_overquota(s2, "client_a", 8, 1, NULL, 0, 1000, NULL));
    jg_free_secret(j1, l1);
    jg_free_secret(j2, l2);
    jg_snapshot_close(s);
    jg_snapshot_close(s2);
    jg_free_secret(buf, len);
    jg_free_secret(bin2, len2);
}

static void test_json_refusals_say_where(void **state)
{
    (void)state;
    char d[256];
    assert_jg(JG_ERR_SNAPSHOT_FORMAT,
              compile_edited("\"api_id\":\"api_1\"", "\"api_id\":\"api_9\"", d, sizeof d));
    assert_non_null(strstr(d, "subscriptions[0]: api_id \"api_9\" names no API"));
    assert_jg(JG_ERR_SNAPSHOT_FORMAT,
              compile_edited("\"base_path\":\"/b\"", "\"base_path\":\"/orders\"", d, sizeof d));
    assert_non_null(strstr(d, "apis[1]"));
    assert_jg(JG_ERR_JSON_TYPE, compile_edited("\"version\":7", "\"version\":\"7\"", d, sizeof d));
    assert_non_null(strstr(d, "\"version\" must be an integer"));
    assert_jg(JG_ERR_SNAPSHOT_VERSION,
              compile_edited("\"format_version\":1", "\"format_version\":2", d, sizeof d));
    assert_jg(JG_ERR_SNAPSHOT_FORMAT,
              compile_edited("\"state\":\"published\"", "\"state\":\"live\"", d, sizeof d));
    assert_non_null(strstr(d, "unknown state \"live\""));
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, compile_edited("\"require_binding\":\"mtls\"",
                                                     "\"require_binding\":\"cert\"", d, sizeof d));
    assert_non_null(strstr(d, "apis[1]: unknown require_binding \"cert\""));
    assert_jg(JG_ERR_JSON_TYPE,
              compile_edited("\"scopes\":[\"r\"]", "\"scopes\":[1]", d, sizeof d));
    assert_jg(JG_ERR_KEYSET_INVALID, compile_edited("\"verification_keys\":{\"keys\":[]}",
                                                    "\"verification_keys\":[]", d, sizeof d));
    assert_jg(JG_ERR_SNAPSHOT_FORMAT,
              compile_edited("\"db_id\":\"000102030405060708090a0b0c0d0e0f\"", "\"db_id\":\"xyz\"",
                             d, sizeof d));
    assert_jg(
        JG_ERR_JSON_DUPLICATE,
        compile_edited("\"token_ttl\":900", "\"token_ttl\":900,\"token_ttl\":1", d, sizeof d));
    assert_jg(JG_ERR_SNAPSHOT_FORMAT, compile_edited("\"format\":\"jwtgate-snapshot\"",
                                                     "\"format\":\"other\"", d, sizeof d));
    /* a NUL inside a string would silently shorten it: the reader refuses \u0000 */
    assert_jg(JG_ERR_JSON_SYNTAX,
              compile_edited("\"client_id\":\"c1\"", "\"client_id\":\"c1\\u0000x\"", d, sizeof d));
    assert_jg(JG_ERR_JSON_SYNTAX, compile_edited("{\"format\"", "[{\"format\"", d, sizeof d));
}

/* ---- Scale ------------------------------------------------------------------------ */

/* 5,000 APIs, 20,000 subscriptions, 20,000 revoked: every entry is found
 * (the probe bound is right) and absent ones are not. */
static void test_large_sets_find_everything(void **state)
{
    (void)state;
    enum { NAPI = 5000, NSUB = 20000, NREV = 20000 };
    jg_snapshot_builder *b;
    assert_jg_ok(jg_snapshot_builder_new(&b));
    assert_jg_ok(jg_snapshot_builder_set_info(b, 1, 0, 0, "i", NULL));
    assert_jg_ok(jg_snapshot_builder_set_keys(b, DEC, strlen(DEC), VER, strlen(VER), NULL, 0));
    char id[64], path[64], cid[64];
    const char *sc[] = {"read"};
    for (int i = 0; i < NAPI; i++) {
        snprintf(id, sizeof id, "api_%d", i);
        snprintf(path, sizeof path, "/svc%d/v1", i);
        jg_snapshot_api_in a = {
            .id = id, .base_path = path, .audience = "aud", .scopes = sc, .nscopes = 1};
        assert_jg_ok(jg_snapshot_builder_add_api(b, &a, NULL));
    }
    for (int i = 0; i < NSUB; i++) {
        snprintf(id, sizeof id, "sub_%d", i);
        snprintf(cid, sizeof cid, "client_%d", i / 4);
        assert_jg_ok(
            jg_snapshot_builder_add_subscription(b, id, cid, (uint32_t)(i * 7919 % NAPI), sc, 1));
    }
    for (int i = 0; i < NREV; i++) {
        snprintf(id, sizeof id, "jti-%d", i);
        assert_jg_ok(jg_snapshot_builder_add_revoked(b, id, i));
    }
    uint8_t *buf;
    size_t len;
    assert_jg_ok(jg_snapshot_builder_finish(b, &buf, &len));
    jg_snapshot_builder_free(b);
    jg_snapshot *s = open_buf(buf, len);
    jg_snap_api a;
    jg_snap_sub sub;
    for (int i = 0; i < NAPI; i++) {
        snprintf(path, sizeof path, "/svc%d/v1/x", i);
        assert_jg_ok(jg_snapshot_route(s, path, strlen(path), &a));
        assert_int_equal(a.index, i);
    }
    for (int i = 0; i < NSUB; i++) {
        snprintf(cid, sizeof cid, "client_%d", i / 4);
        assert_jg_ok(
            jg_snapshot_subscription(s, cid, strlen(cid), (uint32_t)(i * 7919 % NAPI), &sub));
    }
    for (int i = 0; i < NREV; i++) {
        snprintf(id, sizeof id, "jti-%d", i);
        assert_true(jg_snapshot_is_revoked(s, id, strlen(id)));
        snprintf(id, sizeof id, "jti+%d", i);
        assert_false(jg_snapshot_is_revoked(s, id, strlen(id)));
    }
    /* strings are pooled: "read" and "aud" once for 25,000 records */
    assert_true(len < (size_t)NAPI * 150 + (size_t)NSUB * 90 + (size_t)NREV * 60);
    jg_snapshot_close(s);
    jg_free_secret(buf, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_read),
        cmocka_unit_test(test_route_on_segment_boundaries),
        cmocka_unit_test(test_longest_prefix_wins),
        cmocka_unit_test(test_builder_rules),
        cmocka_unit_test(test_lookups_wait_for_the_checksum),
        cmocka_unit_test(test_corrupted_byte_is_refused),
        cmocka_unit_test(test_torn_and_foreign_files_are_refused),
        cmocka_unit_test(test_unknown_sections_are_skipped),
        cmocka_unit_test(test_hostile_content_under_a_valid_checksum),
        cmocka_unit_test(test_write_file_and_map),
        cmocka_unit_test(test_write_file_mode),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_llm_sections),
        cmocka_unit_test(test_llm_builder_rules),
        cmocka_unit_test(test_older_file_has_no_llm_sections),
        cmocka_unit_test(test_json_llm_members),
        cmocka_unit_test(test_json_refusals_say_where),
        cmocka_unit_test(test_large_sets_find_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
