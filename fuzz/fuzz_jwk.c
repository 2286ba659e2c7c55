/*
 * fuzz_jwk.c — JWK and JWKS import from JSON (jg_jwk_parse with and without
 * JG_JWK_PUBLIC_ONLY, jg_jwks_parse_any). A key that imports is exported
 * again every way (fz_check_key), and each export must import to a key with
 * the same thumbprint: what we accept we can also write, and what we write
 * means the same key.
 */
#include <stdlib.h>

#include "fuzz_common.h"

FZ_INIT_KEYS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_keys *k = fz_keys_get();
    const char *json = (const char *)data;

    jg_jwk *key = NULL;
    if (jg_jwk_parse(json, size, 0, &key) == JG_OK) {
        fz_check_key(key);
        jg_jwk_free(key);
    }
    if (jg_jwk_parse(json, size, JG_JWK_PUBLIC_ONLY, &key) == JG_OK) {
        if (jg_jwk_is_private(key))
            abort();
        jg_jwk_free(key);
    }
    jg_jwks *set = NULL;
    if (jg_jwks_parse_any(json, size, 0, &k->limits, &set) == JG_OK) {
        if (jg_jwks_count(set) > k->limits.max_keys)
            abort();
        for (size_t i = 0; i < jg_jwks_count(set); i++)
            fz_check_key(jg_jwks_get(set, i));
        size_t cursor = 0;
        while (jg_jwks_find(set, "p256", JG_ALG_UNKNOWN, JG_USE_ANY, &cursor) != NULL)
            ;
        char *text = NULL;
        if (jg_jwks_to_json(set, JG_EXPORT_PRIVATE, &text, NULL) == JG_OK)
            jg_free_secret(text, 0);
        jg_jwks_free(set);
    }
    return 0;
}
