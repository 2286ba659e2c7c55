/*
 * fuzz_mutator.c — a libFuzzer custom mutator for JOSE tokens (see
 * fuzz_common.h). Random byte edits of base64url text almost never produce
 * header JSON that says something new; editing the decoded bytes does, so
 * the header rules (crit, b64, zip, kid, epk, p2c...) get mutated as JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static int is_b64url(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Runs of at least this many base64url characters are candidates. */
#define MIN_RUN 4

size_t fz_mutate_b64_parts(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    if (seed % 2 == 0 || size == 0)
        return LLVMFuzzerMutate(data, size, max_size);

    /* Count the runs, then pick one by the seed. */
    size_t runs = 0;
    for (size_t i = 0; i < size;) {
        size_t j = i;
        while (j < size && is_b64url(data[j]))
            j++;
        if (j - i >= MIN_RUN)
            runs++;
        i = j > i ? j : i + 1;
    }
    if (runs == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t pick = (seed / 2) % runs, start = 0, len = 0;
    for (size_t i = 0, k = 0; i < size;) {
        size_t j = i;
        while (j < size && is_b64url(data[j]))
            j++;
        if (j - i >= MIN_RUN && k++ == pick) {
            start = i;
            len = j - i;
            break;
        }
        i = j > i ? j : i + 1;
    }

    /* Decode (a run that is not canonical base64url is mutated as text). */
    size_t cap = JG_B64URL_DECODED_MAX(len) * 2 + 64;
    uint8_t *raw = malloc(cap);
    if (raw == NULL)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t raw_len = 0;
    if (jg_b64url_decode((const char *)data + start, len, raw, &raw_len) != JG_OK) {
        free(raw);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    raw_len = LLVMFuzzerMutate(raw, raw_len, cap - 1);

    size_t enc_len = JG_B64URL_ENCODED_LEN(raw_len);
    size_t new_size = size - len + enc_len;
    if (new_size > max_size) {
        free(raw);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    char *enc = malloc(enc_len + 1);
    if (enc == NULL) {
        free(raw);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    jg_b64url_encode(raw, raw_len, enc);
    memmove(data + start + enc_len, data + start + len, size - start - len);
    memcpy(data + start, enc, enc_len);
    free(enc);
    free(raw);
    return new_size;
}
