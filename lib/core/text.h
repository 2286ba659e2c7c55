/*
 * text.h — the library's one strict UTF-8 validator and its one test for a
 * string that JSON-encodes as itself (internal, not installed).
 */
#ifndef JG_LIB_CORE_TEXT_H
#define JG_LIB_CORE_TEXT_H

#include <stddef.h>

/*
 * Length of the strict UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) that starts at s, of which `avail`
 * (>= 1) bytes are readable; 0 when there is none. ASCII is 1. Inline: the
 * JSON reader calls it for every non-ASCII character of a string.
 */
static inline size_t jg__utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 (overlong), F5..FF */
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Whether `len` bytes are strict UTF-8 (NUL is a valid character). */
int jg__utf8_valid(const void *text, size_t len);

/* Whether the NUL-terminated `s` is printable ASCII without '"' or '\\':
 * a JSON string body as itself, written without a JSON library. */
int jg__json_plain(const char *s);

#endif /* JG_LIB_CORE_TEXT_H */
