/* common.c — memory helpers, limits and version (include/jwtgate/common.h). */
#include "jwtgate/common.h"

#include <stdint.h>
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

/*
 * Eight bytes a step (the nginx module compares a cached bearer token of a
 * kilobyte on every request; OpenSSL's CRYPTO_memcmp goes byte by byte),
 * then the last bytes one by one. The differences are OR-ed together with
 * no branch on them; with GNU C the accumulator passes through an empty asm
 * statement after each step, otherwise it is volatile, so that the compiler
 * cannot stop at the first difference. Only the result leaves the function.
 */
#if defined(__GNUC__)
typedef uint64_t jg__acc;
#define JG__OPAQUE(v) __asm__("" : "+r"(v))
#else
typedef volatile uint64_t jg__acc;
#define JG__OPAQUE(v) ((void)0)
#endif

int jg_memeq_consttime(const void *a, const void *b, size_t len)
{
    const unsigned char *p = a, *q = b;
    jg__acc d = 0;
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t x, y;
        memcpy(&x, p + i, 8);
        memcpy(&y, q + i, 8);
        d |= x ^ y;
        JG__OPAQUE(d);
    }
    for (; i < len; i++) {
        d |= (uint64_t)(unsigned)(p[i] ^ q[i]);
        JG__OPAQUE(d);
    }
    return d == 0;
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
