/*
 * jg_llm_scan.c — the validating JSON scanner of the fast paths. It follows
 * jansson's decoder rule for rule (see jg_llm_scan.h): RFC 8259 syntax, UTF-8
 * checked as jansson does (no overlongs, surrogates or values past U+10FFFF),
 * \u0000 and unpaired surrogate escapes refused, integers within int64, reals
 * that do not overflow a double, duplicate member names refused, nesting at most
 * JG_LLM_MAX_DEPTH. fuzz_llm checks that it agrees with jansson.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jg_llm.h"
#include "jg_llm_scan.h"

typedef struct {
    const char *s;
    size_t len;
    size_t i;
    jg__scan_rc rc; /* the first failure */
} scanner;

static bool fail(scanner *sc, jg__scan_rc rc)
{
    if (sc->rc == JG__SCAN_OK)
        sc->rc = rc;
    return false;
}

/* (inline, on a local index: it runs between every two tokens, and most
 * often finds nothing or one space) */
static inline void ws(scanner *sc)
{
    size_t i = sc->i;
    while (i < sc->len) {
        char c = sc->s[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        i++;
    }
    sc->i = i;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 4 hex digits at s (len checked by the caller), or -1. */
static long hex4(const char *s)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(s[k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One UTF-8 sequence at s[0..n) as jansson's utf8_check_full accepts it: its
 * length, or 0. *cp gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t k;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t j = 1; j < k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[j] & 0x3F);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (k == 3 && v < 0x800) ||
        (k == 4 && v < 0x10000))
        return 0;
    *cp = v;
    return k;
}

/* The bytes among the 8 at p that need a look of their own: a quote, a
 * backslash, a control byte or a byte of a UTF-8 sequence, each marked by its
 * high bit. Each term is the classic "some byte is zero / less than n" test: a
 * borrow only ever marks bytes above a byte that is marked rightly, so the
 * lowest mark is exact, and 0 means none. Most of a body is such plain text,
 * taken 8 bytes a step; the first special byte is then found at once. */
static uint64_t special8(const char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t v, q, b;
    memcpy(&v, p, sizeof v);
    q = v ^ (ones * '"');
    b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v) & highs;
}

/* How many plain bytes come before the first one special8() marked (m != 0):
 * the lowest mark is the first byte in memory on a little-endian machine. */
static size_t plain_before(uint64_t m)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(m) >> 3;
#else
    (void)m;
    return 0; /* the byte loop below finds it */
#endif
}

/* A string at s[i] == '"': on success i is past the closing quote, *esc tells
 * whether it held escapes. */
static bool string(scanner *sc, bool *esc)
{
    const char *s = sc->s;
    size_t i = sc->i + 1;
    *esc = false;
    for (;;) {
        if (sc->len - i >= 8) {
            uint64_t m = special8(s + i);
            if (m == 0) {
                i += 8;
                continue;
            }
            i += plain_before(m);
        }
        if (i >= sc->len)
            return fail(sc, JG__SCAN_INVALID);
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(sc, JG__SCAN_INVALID);
        if (c == '\\') {
            *esc = true;
            if (i + 1 >= sc->len)
                return fail(sc, JG__SCAN_INVALID);
            char e = s[i + 1];
            if (e == 'u') {
                if (sc->len - i < 6)
                    return fail(sc, JG__SCAN_INVALID);
                long v = hex4(s + i + 2);
                if (v <= 0 || (v >= 0xDC00 && v <= 0xDFFF))
                    return fail(sc, JG__SCAN_INVALID); /* \u0000, a lone low surrogate */
                i += 6;
                if (v >= 0xD800 && v <= 0xDBFF) {
                    if (sc->len - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
                        return fail(sc, JG__SCAN_INVALID);
                    long lo = hex4(s + i + 2);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(sc, JG__SCAN_INVALID);
                    i += 6;
                }
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return fail(sc, JG__SCAN_INVALID);
            i += 2;
            continue;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_seq((const unsigned char *)s + i, sc->len - i, &cp);
        if (k == 0)
            return fail(sc, JG__SCAN_INVALID);
        i += k;
    }
    sc->i = i + 1;
    return true;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* jansson's lexer swallows one NUL byte right after a number or a literal (it
 * ungets the byte that ended the token, and a NUL in its buffer reads as "get
 * more"): such a body is valid for it, and jansson alone should say what it
 * means. */
static bool token_end(scanner *sc)
{
    if (sc->i < sc->len && sc->s[sc->i] == '\0')
        return fail(sc, JG__SCAN_UNSURE);
    return true;
}

static bool number(scanner *sc)
{
    const char *s = sc->s;
    size_t start = sc->i, i = sc->i;
    bool neg = false, real = false;
    if (i < sc->len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= sc->len || !digit(s[i]))
        return fail(sc, JG__SCAN_INVALID);
    size_t int_start = i;
    if (s[i] == '0') {
        i++;
        if (i < sc->len && digit(s[i]))
            return fail(sc, JG__SCAN_INVALID);
    } else {
        while (i < sc->len && digit(s[i]))
            i++;
    }
    size_t int_len = i - int_start;
    if (i < sc->len && s[i] == '.') {
        real = true;
        i++;
        if (i >= sc->len || !digit(s[i]))
            return fail(sc, JG__SCAN_INVALID);
        while (i < sc->len && digit(s[i]))
            i++;
    }
    if (i < sc->len && (s[i] == 'e' || s[i] == 'E')) {
        real = true;
        i++;
        if (i < sc->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= sc->len || !digit(s[i]))
            return fail(sc, JG__SCAN_INVALID);
        while (i < sc->len && digit(s[i]))
            i++;
    }
    sc->i = i;
    if (!real) {
        /* jansson refuses integers beyond int64 ("too big integer") */
        static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
        if (int_len > 19 || (int_len == 19 && memcmp(s + int_start, neg ? min : max, 19) > 0))
            return fail(sc, JG__SCAN_INVALID);
        return token_end(sc);
    }
    /* ... and reals that overflow a double */
    char buf[64];
    size_t n = i - start;
    if (n >= sizeof buf)
        return fail(sc, JG__SCAN_UNSURE);
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    errno = 0;
    double d = strtod(buf, NULL);
    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
        return fail(sc, JG__SCAN_INVALID);
    return token_end(sc);
}

static bool literal(scanner *sc, const char *word, size_t n)
{
    if (sc->len - sc->i < n || memcmp(sc->s + sc->i, word, n) != 0)
        return fail(sc, JG__SCAN_INVALID);
    sc->i += n;
    return token_end(sc);
}

/* The next code point of the raw string text s[*i..n) (validated by string()). */
static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
    if (s[*i] != '\\') {
        uint32_t cp = 0;
        size_t k = utf8_seq((const unsigned char *)s + *i, n - *i, &cp);
        *i += k != 0 ? k : 1;
        return cp;
    }
    char e = s[*i + 1];
    if (e != 'u') {
        *i += 2;
        switch (e) {
        case 'b':
            return '\b';
        case 'f':
            return '\f';
        case 'n':
            return '\n';
        case 'r':
            return '\r';
        case 't':
            return '\t';
        default:
            return (unsigned char)e;
        }
    }
    uint32_t v = (uint32_t)hex4(s + *i + 2);
    *i += 6;
    if (v >= 0xD800 && v <= 0xDBFF) {
        uint32_t lo = (uint32_t)hex4(s + *i + 2);
        *i += 6;
        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
    }
    return v;
}

/* Whether two raw names decode to the same string. */
static bool names_equal(const jg__llm_member *a, const char *b, size_t bn, bool besc)
{
    if (!a->name_esc && !besc)
        return a->name_len == bn &&
               (bn == 0 || (a->name[0] == b[0] && memcmp(a->name, b, bn) == 0));
    size_t i = 0, j = 0;
    while (i < a->name_len && j < bn) {
        if (next_cp(a->name, a->name_len, &i) != next_cp(b, bn, &j))
            return false;
    }
    return i == a->name_len && j == bn;
}

static bool value(scanner *sc, int depth, jg__llm_obj *top);

static bool object(scanner *sc, int depth, jg__llm_obj *top)
{
    if (depth > JG_LLM_MAX_DEPTH)
        return fail(sc, JG__SCAN_INVALID);
    /* names of this object, for the duplicate check */
    jg__llm_obj local;
    /* cppcheck-suppress uninitvar ; (local is written below before any read) */
    jg__llm_obj *o = top != NULL ? top : &local;
    o->open = sc->s + sc->i;
    o->n = 0;
    sc->i++;
    ws(sc);
    if (sc->i < sc->len && sc->s[sc->i] == '}') {
        o->close = sc->s + sc->i;
        sc->i++;
        return true;
    }
    for (;;) {
        if (sc->i >= sc->len || sc->s[sc->i] != '"')
            return fail(sc, JG__SCAN_INVALID);
        size_t name_start = sc->i + 1;
        bool esc;
        if (!string(sc, &esc))
            return false;
        const char *name = sc->s + name_start;
        size_t name_len = sc->i - 1 - name_start;
        for (size_t k = 0; k < o->n; k++)
            if (names_equal(&o->m[k], name, name_len, esc))
                return fail(sc, JG__SCAN_INVALID);
        if (o->n == JG__SCAN_MAX_MEMBERS)
            return fail(sc, JG__SCAN_UNSURE);
        ws(sc);
        if (sc->i >= sc->len || sc->s[sc->i] != ':')
            return fail(sc, JG__SCAN_INVALID);
        sc->i++;
        ws(sc);
        size_t vstart = sc->i;
        if (!value(sc, depth, NULL))
            return false;
        jg__llm_member *m = &o->m[o->n++];
        m->name = name;
        m->name_len = name_len;
        m->name_esc = esc;
        m->value = sc->s + vstart;
        m->value_len = sc->i - vstart;
        ws(sc);
        if (sc->i >= sc->len)
            return fail(sc, JG__SCAN_INVALID);
        char c = sc->s[sc->i++];
        if (c == '}') {
            o->close = sc->s + sc->i - 1;
            return true;
        }
        if (c != ',')
            return fail(sc, JG__SCAN_INVALID);
        ws(sc);
    }
}

static bool array(scanner *sc, int depth)
{
    if (depth > JG_LLM_MAX_DEPTH)
        return fail(sc, JG__SCAN_INVALID);
    sc->i++;
    ws(sc);
    if (sc->i < sc->len && sc->s[sc->i] == ']') {
        sc->i++;
        return true;
    }
    for (;;) {
        if (!value(sc, depth, NULL))
            return false;
        ws(sc);
        if (sc->i >= sc->len)
            return fail(sc, JG__SCAN_INVALID);
        char c = sc->s[sc->i++];
        if (c == ']')
            return true;
        if (c != ',')
            return fail(sc, JG__SCAN_INVALID);
        ws(sc);
    }
}

/* A value at sc->i (white space skipped by the caller); depth: the nesting
 * around it. */
static bool value(scanner *sc, int depth, jg__llm_obj *top)
{
    if (sc->i >= sc->len)
        return fail(sc, JG__SCAN_INVALID);
    bool esc;
    switch (sc->s[sc->i]) {
    case '{':
        return object(sc, depth + 1, top);
    case '[':
        return array(sc, depth + 1);
    case '"':
        return string(sc, &esc);
    case 't':
        return literal(sc, "true", 4);
    case 'f':
        return literal(sc, "false", 5);
    case 'n':
        return literal(sc, "null", 4);
    default:
        return number(sc);
    }
}

jg__scan_rc jg__llm_scan_object(const char *s, size_t len, jg__llm_obj *obj)
{
    scanner sc = {s, len, 0, JG__SCAN_OK};
    obj->n = 0;
    if (s == NULL)
        return JG__SCAN_INVALID;
    ws(&sc);
    if (sc.i >= len || s[sc.i] != '{') {
        /* jansson may accept it (an array), but it is not an object either way;
         * its validity does not matter to the callers */
        return JG__SCAN_INVALID;
    }
    if (!value(&sc, 0, obj))
        return sc.rc;
    ws(&sc);
    if (sc.i != len)
        return JG__SCAN_INVALID;
    return JG__SCAN_OK;
}

const jg__llm_member *jg__llm_scan_getn(const jg__llm_obj *obj, const char *name, size_t n)
{
    for (size_t k = 0; k < obj->n; k++)
        if (names_equal(&obj->m[k], name, n, false))
            return &obj->m[k];
    return NULL;
}

void jg__llm_scan_iter(jg__llm_iter *it, const char *v, size_t n)
{
    it->p = v + 1;       /* past [ */
    it->end = v + n - 1; /* at ] */
}

bool jg__llm_scan_next_obj(jg__llm_iter *it, const char **v, size_t *n, jg__llm_obj *obj)
{
    scanner sc = {it->p, (size_t)(it->end - it->p), 0, JG__SCAN_OK};
    ws(&sc);
    if (sc.i < sc.len && sc.s[sc.i] == ',')
        sc.i++;
    ws(&sc);
    if (sc.i >= sc.len)
        return false;
    size_t start = sc.i;
    if (obj != NULL)
        obj->n = 0;
    /* (an element of a scanned array: its objects have at most
     * JG__SCAN_MAX_MEMBERS members, or the scan would have been unsure) */
    if (!value(&sc, 0, sc.s[start] == '{' ? obj : NULL))
        return false; /* cannot be: the array was scanned */
    *v = sc.s + start;
    *n = sc.i - start;
    it->p = sc.s + sc.i;
    return true;
}

bool jg__llm_scan_next(jg__llm_iter *it, const char **v, size_t *n)
{
    return jg__llm_scan_next_obj(it, v, n, NULL);
}

bool jg__llm_scan_str_is(const jg__llm_member *m, const char *s)
{
    size_t n = strlen(s);
    return m != NULL && m->value_len == n + 2 && m->value[0] == '"' &&
           memcmp(m->value + 1, s, n) == 0;
}

uint64_t jg__llm_scan_count(const jg__llm_member *m)
{
    if (m == NULL || m->value_len == 0 || !digit(m->value[0]))
        return 0; /* absent, negative or not a number */
    uint64_t v = 0;
    for (size_t k = 0; k < m->value_len; k++) {
        char c = m->value[k];
        if (!digit(c))
            return 0;                     /* a real: not an integer for jansson */
        v = v * 10 + (uint64_t)(c - '0'); /* within int64: checked by the scan */
    }
    return v;
}

size_t jg__llm_escaped_len(const char *s)
{
    size_t n = 2;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            n += 2;
        else if (c < 0x20)
            n += 6;
        else
            n++;
    }
    return n;
}

void jg__llm_escape(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    *out++ = '"';
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = NULL;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            break;
        }
        if (e != NULL) {
            *out++ = e[0];
            *out++ = e[1];
        } else if (c < 0x20) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[c >> 4];
            out[5] = hex[c & 15];
            out += 6;
        } else {
            *out++ = (char)c;
        }
    }
    *out = '"';
}
