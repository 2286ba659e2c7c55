/*
 * fuzz_b64url.c — strict base64url: whatever decodes must encode back to the
 * very same text (one encoding per byte string), the length macros must
 * bound what is written, and the bytes as data must survive a round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "jwtgate/jwtgate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    /* As text: decode, then the encoding must be the input itself. */
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    jg_err err = jg_b64url_decode_alloc(text, size, &raw, &raw_len);
    if (err == JG_OK) {
        if (raw_len > JG_B64URL_DECODED_MAX(size) || raw[raw_len] != '\0')
            abort();
        char *enc = NULL;
        size_t enc_len = 0;
        if (jg_b64url_encode_alloc(raw, raw_len, &enc, &enc_len) != JG_OK || enc_len != size ||
            memcmp(enc, text, size) != 0)
            abort();
        jg_free(enc);
        jg_free(raw);
    } else if (err != JG_ERR_B64_CHAR && err != JG_ERR_B64_PADDING && err != JG_ERR_B64_LENGTH &&
               err != JG_ERR_B64_NONCANONICAL) {
        abort();
    }

    /* As bytes: encode, decode, compare. */
    char *enc = malloc(JG_B64URL_ENCODED_LEN(size) + 1);
    unsigned char *back = malloc(JG_B64URL_DECODED_MAX(JG_B64URL_ENCODED_LEN(size)));
    if (enc == NULL || back == NULL)
        abort();
    size_t n = jg_b64url_encode(data, size, enc);
    size_t back_len = 0;
    if (n != JG_B64URL_ENCODED_LEN(size) || enc[n] != '\0' ||
        jg_b64url_decode(enc, n, back, &back_len) != JG_OK || back_len != size ||
        (size > 0 && memcmp(back, data, size) != 0))
        abort();
    free(enc);
    free(back);
    return 0;
}
