/* common.c — memory helpers, limits and version (include/jwtgate/common.h). */
#include "jwtgate/common.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

const char *jg_version(void)
{
    return JG_VERSION_STRING;
}

void jg_free(void *ptr)
{
    free(ptr);
}

void jg_memzero(void *ptr, size_t len)
{
    if (ptr != NULL && len > 0)
        OPENSSL_cleanse(ptr, len);
}

void jg_free_secret(void *ptr, size_t len)
{
    if (ptr == NULL)
        return;
    if (len == 0)
        len = strlen((const char *)ptr);
    jg_memzero(ptr, len);
    free(ptr);
}

int jg_memeq_consttime(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return 1;
    return CRYPTO_memcmp(a, b, len) == 0;
}

jg_limits jg_limits_default(void)
{
    jg_limits limits = {
        .max_token_len = JG_DEFAULT_MAX_TOKEN_LEN,
        .max_header_len = JG_DEFAULT_MAX_HEADER_LEN,
        .max_payload_len = JG_DEFAULT_MAX_PAYLOAD_LEN,
        .max_json_depth = JG_DEFAULT_MAX_JSON_DEPTH,
        .max_signatures = JG_DEFAULT_MAX_SIGNATURES,
        .max_recipients = JG_DEFAULT_MAX_RECIPIENTS,
        .max_keys = JG_DEFAULT_MAX_KEYS,
        .max_pbes2_count = JG_DEFAULT_MAX_PBES2_COUNT,
        .max_inflated_len = JG_DEFAULT_MAX_INFLATED_LEN,
    };
    return limits;
}
