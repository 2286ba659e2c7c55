/*
 * fuzz_pem.c — key import from PEM (jg_jwk_from_pem) and DER
 * (jg_jwk_from_der) through OpenSSL's decoders and our checks. A key that
 * imports must export and import again to the same key (fz_check_key).
 */
#include <stdlib.h>

#include "fuzz_common.h"

FZ_INIT_KEYS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jg_jwk_meta meta = {.kid = "fuzz"};
    jg_jwk *key = NULL;
    if (jg_jwk_from_pem((const char *)data, size, &meta, 0, &key) == JG_OK) {
        fz_check_key(key);
        jg_jwk_free(key);
    }
    if (jg_jwk_from_der(data, size, NULL, JG_JWK_PUBLIC_ONLY, &key) == JG_OK) {
        if (jg_jwk_is_private(key))
            abort();
        fz_check_key(key);
        jg_jwk_free(key);
    }
    return 0;
}
