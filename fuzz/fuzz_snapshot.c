/*
 * fuzz_snapshot.c — the compiled gateway snapshot (jwtgate/snapshot.h).
 *
 * Input starting with '{' is a JSON snapshot: compiled, and what compiles
 * must open, print back, compile again and print the same. Any other input
 * is a compiled file: mapped, its checksum checked, and then — whatever the
 * checksum said — trusted (jg__snapshot_trust) and read every way, because
 * the reader must be safe on any bytes, not only on bytes with a correct
 * checksum (snap_read.c, rule 3). ASan turns any read outside the input
 * into a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "jwtgate/snapshot.h"
#include "snapshot/snap_internal.h"

static void read_everything(jg_snapshot *s, const uint8_t *data, size_t size)
{
    jg_snapshot_info info;
    if (jg_snapshot_get_info(s, &info) != JG_OK)
        abort(); /* checked at opening */
    jg_snap_str a, b, c;
    (void)jg_snapshot_keys(s, &a, &b, &c);
    for (uint32_t i = 0; i < info.apis && i < 4096; i++) {
        jg_snap_api api;
        if (jg_snapshot_api(s, i, &api) != JG_OK)
            continue;
        for (uint32_t k = 0; k < api.nscopes && k < 64; k++)
            (void)jg_snapshot_api_scope(s, &api, k, &a);
        (void)jg_snapshot_api_has_scope(s, &api, "read", 4);
        jg_snap_api routed;
        if (jg_snapshot_route(s, api.base_path.ptr, api.base_path.len, &routed) == JG_OK &&
            routed.index >= info.apis)
            abort();
    }
    for (uint32_t i = 0; i < info.subscriptions && i < 4096; i++) {
        jg_snap_sub sub;
        if (jg_snapshot_subscription_at(s, i, &sub) != JG_OK)
            continue;
        for (uint32_t k = 0; k < sub.nscopes && k < 64; k++)
            (void)jg_snapshot_sub_scope(s, &sub, k, &a);
        jg_snap_sub found;
        (void)jg_snapshot_subscription(s, sub.client_id.ptr, sub.client_id.len, sub.api_index,
                                       &found);
        (void)jg_snapshot_sub_has_scope(s, &sub, "read", 4);
        jg_snap_limits lim;
        jg_snap_model_limits ml;
        if (jg_snapshot_sub_limits(s, &sub, &lim) == JG_OK) {
            for (uint32_t k = 0; k < lim.nmodels && k < 64; k++)
                (void)jg_snapshot_limits_model_at(s, &lim, k, &ml);
            (void)jg_snapshot_limits_model(s, &lim, "gpt-4o", 6, &ml);
        }
    }
    for (uint32_t i = 0; i < info.over_quota && i < 4096; i++) {
        jg_snap_str model;
        uint32_t api_index;
        int64_t until;
        if (jg_snapshot_overquota_at(s, i, &a, &api_index, &model, &until) == JG_OK)
            (void)jg_snapshot_overquota(s, a.ptr, a.len, api_index, model.ptr, model.len, 0, NULL);
    }
    (void)jg_snapshot_llm(s, &a);
    for (uint32_t i = 0; i < info.revoked && i < 4096; i++) {
        int64_t exp;
        if (jg_snapshot_revoked_at(s, i, &a, &exp) == JG_OK)
            (void)jg_snapshot_is_revoked(s, a.ptr, a.len);
    }
    for (uint32_t i = 0; i < info.suspended && i < 4096; i++)
        if (jg_snapshot_suspended_at(s, i, &a) == JG_OK)
            (void)jg_snapshot_is_suspended(s, a.ptr, a.len);
    /* lookups keyed by the input itself */
    size_t n = size < 64 ? size : 64;
    jg_snap_api api;
    (void)jg_snapshot_route(s, (const char *)data, n, &api);
    (void)jg_snapshot_is_revoked(s, (const char *)data, n);
    char *json = NULL;
    size_t len = 0;
    if (jg_snapshot_to_json(s, 0, &json, &len) == JG_OK)
        jg_free_secret(json, len);
}

static void compiled(const uint8_t *data, size_t size)
{
    jg_snapshot *s = NULL;
    if (jg_snapshot_map_buffer(data, size, NULL, &s) != JG_OK)
        return;
    (void)jg_snapshot_verify_step(s, 64);
    (void)jg_snapshot_verify_step(s, 0);
    jg__snapshot_trust(s);
    read_everything(s, data, size);
    jg_snapshot_close(s);
}

static void json_form(const uint8_t *data, size_t size)
{
    uint8_t *bin = NULL, *bin2 = NULL;
    size_t len = 0, len2 = 0, jlen = 0, jlen2 = 0;
    char detail[128], *j1 = NULL, *j2 = NULL;
    if (jg_snapshot_compile_json((const char *)data, size, &bin, &len, detail, sizeof detail) !=
        JG_OK) {
        if (bin)
            abort();
        return;
    }
    jg_snapshot *s = NULL, *s2 = NULL;
    if (jg_snapshot_map_buffer(bin, len, NULL, &s) != JG_OK ||
        jg_snapshot_verify_step(s, 0) != JG_OK)
        abort(); /* what we build, we read */
    read_everything(s, data, size);
    if (jg_snapshot_to_json(s, 0, &j1, &jlen) != JG_OK ||
        jg_snapshot_compile_json(j1, jlen, &bin2, &len2, NULL, 0) != JG_OK ||
        jg_snapshot_map_buffer(bin2, len2, NULL, &s2) != JG_OK ||
        jg_snapshot_verify_step(s2, 0) != JG_OK || jg_snapshot_to_json(s2, 0, &j2, &jlen2) != JG_OK)
        abort();
    if (jlen != jlen2 || memcmp(j1, j2, jlen) != 0)
        abort(); /* the round trip keeps the content */
    jg_snapshot_close(s);
    jg_snapshot_close(s2);
    jg_free_secret(j1, jlen);
    jg_free_secret(j2, jlen2);
    jg_free_secret(bin, len);
    jg_free_secret(bin2, len2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] == '{')
        json_form(data, size);
    else
        compiled(data, size);
    return 0;
}
