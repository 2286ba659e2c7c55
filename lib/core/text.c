/* text.c — strict UTF-8 and plain JSON strings (see core/text.h). */
#include "core/text.h"

int jg__utf8_valid(const void *text, size_t len)
{
    const unsigned char *s = text;
    size_t i = 0;
    while (i < len) {
        size_t n = jg__utf8_seq(s + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int jg__json_plain(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7E || *p == '"' || *p == '\\')
            return 0;
    return 1;
}
