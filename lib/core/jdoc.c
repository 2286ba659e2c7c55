/*
 * jdoc.c — the strict, flat JSON reader (see jdoc.h).
 *
 * One pass over the text, no recursion: a small stack of open containers
 * replaces it. Strings are decoded straight into the pool, which is sized
 * from the text (a decoded string plus its NUL is never longer than its
 * quoted source), so the pool never grows; only the node array may.
 */
#include "core/jdoc.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "jwtgate/common.h"

/* Up to this many members, duplicates are found by comparing every pair;
 * above, by sorting the names. */
#define DUP_PAIRWISE_MAX 16u
/* Open containers tracked on the C stack before moving to the heap. */
#define STACK_LOCAL 64u

typedef struct parser {
    const unsigned char *s;
    size_t len;
    size_t pos;
    jg__jdoc *doc;
    uint32_t cap; /* nodes allocated */
    size_t pool_len;
} parser;

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && is_ws(p->s[p->pos]))
        p->pos++;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Append a node; its index in *idx. Earlier node pointers may move. */
static jg_err new_node(parser *p, jg__jtype type, uint32_t *idx)
{
    jg__jdoc *doc = p->doc;
    if (doc->count == p->cap) {
        /* Never overflows: every node consumes at least one byte of a text
         * shorter than 2^31 bytes. */
        uint32_t cap = p->cap * 2;
        jg__jnode *nodes = realloc(doc->nodes, (size_t)cap * sizeof *nodes);
        if (nodes == NULL)
            return JG_ERR_NOMEM;
        doc->nodes = nodes;
        p->cap = cap;
    }
    *idx = doc->count++;
    jg__jnode *n = &doc->nodes[*idx];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->end = *idx + 1;
    return JG_OK;
}

/* Four hex digits at s[at]; 0 when they are not there. */
static int hex4(const parser *p, size_t at, uint32_t *out)
{
    if (p->len < 4 || at > p->len - 4)
        return 0;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        unsigned char c = p->s[at + k];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* UTF-8 of a code point (already known to be a scalar value, not 0). */
static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The \u escape whose 'u' is at s[*i]; *i is left on its last hex digit. */
static jg_err unicode_escape(const parser *p, size_t *i, char *out, size_t *o)
{
    uint32_t cp, lo;
    if (!hex4(p, *i + 1, &cp))
        return JG_ERR_JSON_SYNTAX;
    *i += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        /* A high surrogate must be followed by an escaped low one. */
        if (*i + 2 >= p->len || p->s[*i + 1] != '\\' || p->s[*i + 2] != 'u' ||
            !hex4(p, *i + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return JG_ERR_JSON_SYNTAX;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        *i += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return JG_ERR_JSON_SYNTAX; /* a lone low surrogate */
    } else if (cp == 0) {
        return JG_ERR_JSON_SYNTAX; /* strings are C strings */
    }
    *o += utf8_put(cp, out + *o);
    return JG_OK;
}

/* The string whose opening quote is at s[pos]. */
static jg_err parse_string(parser *p, uint32_t *idx)
{
    jg_err err = new_node(p, JG__J_STRING, idx);
    if (err != JG_OK)
        return err;
    char *out = p->doc->pool + p->pool_len;
    size_t o = 0, i = p->pos + 1;
    for (;;) {
        if (i >= p->len)
            return JG_ERR_JSON_SYNTAX; /* unterminated */
        unsigned char c = p->s[i];
        if (c == '"')
            break;
        if (c < 0x20)
            return JG_ERR_JSON_SYNTAX; /* raw control character */
        if (c < 0x80 && c != '\\') {
            out[o++] = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = jg__utf8_seq(p->s + i, p->len - i);
            if (n == 0)
                return JG_ERR_JSON_SYNTAX;
            memcpy(out + o, p->s + i, n);
            o += n;
            i += n;
            continue;
        }
        if (++i >= p->len)
            return JG_ERR_JSON_SYNTAX;
        switch (p->s[i]) {
        case '"':
            out[o++] = '"';
            break;
        case '\\':
            out[o++] = '\\';
            break;
        case '/':
            out[o++] = '/';
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u':
            err = unicode_escape(p, &i, out, &o);
            if (err != JG_OK)
                return err;
            break;
        default:
            return JG_ERR_JSON_SYNTAX;
        }
        i++;
    }
    out[o] = '\0';
    jg__jnode *n = &p->doc->nodes[*idx];
    n->str = (uint32_t)p->pool_len;
    n->len = (uint32_t)o;
    p->pool_len += o + 1;
    p->pos = i + 1;
    return JG_OK;
}

/* A real from its literal, whatever the locale's decimal point. */
static jg_err parse_real(const unsigned char *lit, size_t n, double *out)
{
    char local[64], *tmp = local;
    if (n >= sizeof local) {
        tmp = malloc(n + 1);
        if (tmp == NULL)
            return JG_ERR_NOMEM;
    }
    memcpy(tmp, lit, n);
    tmp[n] = '\0';
    /* strtod follows LC_NUMERIC; the literal always uses '.'. */
    const char *point = localeconv()->decimal_point;
    if (point != NULL && point[0] != '.' && point[0] != '\0' && point[1] == '\0') {
        char *dot = strchr(tmp, '.');
        if (dot != NULL)
            *dot = point[0];
    }
    char *end = NULL;
    double d = strtod(tmp, &end);
    int ok = end == tmp + n && isfinite(d); /* an overflow to infinity is refused */
    if (tmp != local)
        free(tmp);
    if (!ok)
        return JG_ERR_JSON_SYNTAX;
    *out = d;
    return JG_OK;
}

/* The number starting at s[pos] (RFC 8259 section 6 grammar). */
static jg_err parse_number(parser *p, uint32_t *idx)
{
    const unsigned char *s = p->s;
    size_t i = p->pos, start = p->pos;
    int integral = 1, neg = 0;
    if (s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i < p->len && s[i] == '0') {
        i++;
    } else if (i < p->len && s[i] >= '1' && s[i] <= '9') {
        while (i < p->len && is_digit(s[i]))
            i++;
    } else {
        return JG_ERR_JSON_SYNTAX;
    }
    if (i < p->len && s[i] == '.') {
        integral = 0;
        if (++i >= p->len || !is_digit(s[i]))
            return JG_ERR_JSON_SYNTAX;
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        integral = 0;
        if (++i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(s[i]))
            return JG_ERR_JSON_SYNTAX;
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    jg_err err = new_node(p, integral ? JG__J_INT : JG__J_REAL, idx);
    if (err != JG_OK)
        return err;
    jg__jnode *n = &p->doc->nodes[*idx];
    if (integral) {
        /* Magnitude in uint64_t so that INT64_MIN fits; beyond int64_t is
         * an error, as jansson has it. */
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX, v = 0;
        for (size_t k = start + (size_t)neg; k < i; k++) {
            uint64_t d = (uint64_t)(s[k] - '0');
            if (v > (limit - d) / 10u)
                return JG_ERR_JSON_SYNTAX;
            v = v * 10u + d;
        }
        n->num.i = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
    } else {
        err = parse_real(s + start, i - start, &n->num.d);
        if (err != JG_OK)
            return err;
    }
    p->pos = i;
    return JG_OK;
}

/* true, false or null at s[pos]. */
static jg_err parse_literal(parser *p, uint32_t *idx)
{
    static const struct {
        const char *text;
        size_t len;
        jg__jtype type;
    } lits[] = {{"true", 4, JG__J_TRUE}, {"false", 5, JG__J_FALSE}, {"null", 4, JG__J_NULL}};
    for (size_t k = 0; k < 3; k++) {
        if (p->len - p->pos >= lits[k].len &&
            memcmp(p->s + p->pos, lits[k].text, lits[k].len) == 0) {
            p->pos += lits[k].len;
            return new_node(p, lits[k].type, idx);
        }
    }
    return JG_ERR_JSON_SYNTAX;
}

/* A member name and its ':' (whitespace before both is skipped). */
static jg_err parse_key(parser *p)
{
    uint32_t idx;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"')
        return JG_ERR_JSON_SYNTAX;
    jg_err err = parse_string(p, &idx);
    if (err != JG_OK)
        return err;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':')
        return JG_ERR_JSON_SYNTAX;
    p->pos++;
    return JG_OK;
}

/* Whether the STRING node `k` holds the `n` bytes at `name`. Lengths and
 * first bytes are compared inline: claim names are short and often of the
 * same length ("iss", "sub", "aud", "exp", ...). */
static int same_name(const jg__jdoc *doc, uint32_t k, const char *name, size_t n)
{
    const jg__jnode *node = &doc->nodes[k];
    const char *s = doc->pool + node->str;
    return node->len == n && (n == 0 || (s[0] == name[0] && memcmp(s, name, n) == 0));
}

typedef struct name_ref {
    const char *s;
    uint32_t len;
} name_ref;

static int name_cmp(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->s, y->s, x->len);
}

/* Refuse an object (complete, at `obj`) that repeats a member name. */
static jg_err check_duplicates(const jg__jdoc *doc, uint32_t obj)
{
    const jg__jnode *nodes = doc->nodes;
    uint32_t n = nodes[obj].len;
    if (n < 2)
        return JG_OK;
    if (n <= DUP_PAIRWISE_MAX) {
        for (uint32_t a = obj + 1; a < nodes[obj].end; a = nodes[a + 1].end)
            for (uint32_t b = nodes[a + 1].end; b < nodes[obj].end; b = nodes[b + 1].end)
                if (same_name(doc, a, doc->pool + nodes[b].str, nodes[b].len))
                    return JG_ERR_JSON_DUPLICATE;
        return JG_OK;
    }
    /* Many members (hostile input may send tens of thousands): sort, then
     * compare neighbours, so the work stays O(n log n). */
    name_ref *names = malloc((size_t)n * sizeof *names);
    if (names == NULL)
        return JG_ERR_NOMEM;
    uint32_t m = 0;
    for (uint32_t a = obj + 1; a < nodes[obj].end; a = nodes[a + 1].end)
        names[m++] = (name_ref){doc->pool + nodes[a].str, nodes[a].len};
    qsort(names, m, sizeof *names, name_cmp);
    jg_err err = JG_OK;
    for (uint32_t k = 1; k < m && err == JG_OK; k++)
        if (name_cmp(&names[k - 1], &names[k]) == 0)
            err = JG_ERR_JSON_DUPLICATE;
    free(names);
    return err;
}

int jg__jdoc_share_name(const jg__jdoc *a, uint32_t a_obj, const jg__jdoc *b, uint32_t b_obj)
{
    const jg__jnode *an = a->nodes, *bn = b->nodes;
    if (a_obj >= a->count || an[a_obj].type != JG__J_OBJECT || b_obj >= b->count ||
        bn[b_obj].type != JG__J_OBJECT)
        return 0;
    uint32_t na = an[a_obj].len, nb = bn[b_obj].len;
    if (na == 0 || nb == 0)
        return 0;
    if ((uint64_t)na * nb <= (uint64_t)DUP_PAIRWISE_MAX * DUP_PAIRWISE_MAX) {
        for (uint32_t k = a_obj + 1; k < an[a_obj].end; k = an[k + 1].end)
            for (uint32_t j = b_obj + 1; j < bn[b_obj].end; j = bn[j + 1].end)
                if (same_name(a, k, b->pool + bn[j].str, bn[j].len))
                    return 1;
        return 0;
    }
    /* Sort both name lists, then merge. */
    name_ref *names = malloc(((size_t)na + nb) * sizeof *names);
    if (names == NULL)
        return -1;
    name_ref *x = names, *y = names + na;
    uint32_t m = 0;
    for (uint32_t k = a_obj + 1; k < an[a_obj].end; k = an[k + 1].end)
        x[m++] = (name_ref){a->pool + an[k].str, an[k].len};
    m = 0;
    for (uint32_t j = b_obj + 1; j < bn[b_obj].end; j = bn[j + 1].end)
        y[m++] = (name_ref){b->pool + bn[j].str, bn[j].len};
    qsort(x, na, sizeof *x, name_cmp);
    qsort(y, nb, sizeof *y, name_cmp);
    int shared = 0;
    for (uint32_t i = 0, j = 0; i < na && j < nb && !shared;) {
        int c = name_cmp(&x[i], &y[j]);
        if (c == 0)
            shared = 1;
        else if (c < 0)
            i++;
        else
            j++;
    }
    free(names);
    return shared;
}

/*
 * The loop of the reader: read a value; when it is complete (a scalar, or a
 * container at its closing bracket), it is one more element of the innermost
 * open container, after which comes ',' (another value) or that container's
 * own closing bracket (completing it in turn). `stack` holds the open
 * containers (at most max_depth).
 */
static jg_err parse_all(parser *p, unsigned max_depth, uint32_t *stack)
{
    jg__jdoc *doc = p->doc;
    unsigned depth = 0;
    for (;;) {
        /* A value must come next. */
        skip_ws(p);
        if (p->pos >= p->len)
            return JG_ERR_JSON_SYNTAX;
        unsigned char c = p->s[p->pos];
        uint32_t idx;
        jg_err err;
        if (c == '{' || c == '[') {
            if (depth >= max_depth)
                return JG_ERR_LIMIT_JSON_DEPTH;
            err = new_node(p, c == '{' ? JG__J_OBJECT : JG__J_ARRAY, &idx);
            if (err != JG_OK)
                return err;
            p->pos++;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == (c == '{' ? '}' : ']')) {
                p->pos++; /* empty: complete at once */
            } else {
                stack[depth++] = idx;
                if (c == '{' && (err = parse_key(p)) != JG_OK)
                    return err;
                continue; /* its first element comes next */
            }
        } else {
            if (c == '"')
                err = parse_string(p, &idx);
            else if (c == '-' || is_digit(c))
                err = parse_number(p, &idx);
            else
                err = parse_literal(p, &idx);
            if (err != JG_OK)
                return err;
        }

        /* A value is complete: close every container that ends with it. */
        for (;;) {
            if (depth == 0) {
                skip_ws(p);
                return p->pos == p->len ? JG_OK : JG_ERR_JSON_SYNTAX;
            }
            uint32_t top = stack[depth - 1];
            int object = doc->nodes[top].type == JG__J_OBJECT;
            doc->nodes[top].len++;
            skip_ws(p);
            if (p->pos >= p->len)
                return JG_ERR_JSON_SYNTAX;
            c = p->s[p->pos++];
            if (c == ',') {
                if (object && (err = parse_key(p)) != JG_OK)
                    return err;
                break; /* the next element */
            }
            if (c != (object ? '}' : ']'))
                return JG_ERR_JSON_SYNTAX;
            doc->nodes[top].end = doc->count;
            depth--;
            if (object && (err = check_duplicates(doc, top)) != JG_OK)
                return err;
        }
    }
}

jg_err jg__jdoc_parse(const char *text, size_t len, unsigned max_depth, jg__jdoc **out)
{
    if (text == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (len > (size_t)INT32_MAX)
        return JG_ERR_LIMIT_JSON_SIZE;
    if (max_depth == 0)
        max_depth = JG_DEFAULT_MAX_JSON_DEPTH;
    if (max_depth > JG__JDOC_MAX_DEPTH)
        max_depth = JG__JDOC_MAX_DEPTH;

    /* The pool shares the document's block: decoded strings never need more
     * than the text's length plus one. */
    jg__jdoc *doc = malloc(sizeof *doc + len + 1);
    if (doc == NULL)
        return JG_ERR_NOMEM;
    doc->pool = (char *)(doc + 1);
    doc->pool_size = (uint32_t)(len + 1);
    doc->count = 0;
    /* A first guess of one node per 8 bytes; grows when the text is denser. */
    uint32_t cap = (uint32_t)(len / 8 + 8);
    doc->nodes = malloc((size_t)cap * sizeof *doc->nodes);
    uint32_t local[STACK_LOCAL], *stack = local;
    if (doc->nodes != NULL && max_depth > STACK_LOCAL)
        stack = malloc((size_t)max_depth * sizeof *stack);
    if (doc->nodes == NULL || stack == NULL) {
        if (stack != local)
            free(stack);
        jg__jdoc_free(doc);
        return JG_ERR_NOMEM;
    }
    parser p = {.s = (const unsigned char *)text, .len = len, .doc = doc, .cap = cap};
    jg_err err = parse_all(&p, max_depth, stack);
    if (stack != local)
        free(stack);
    if (err != JG_OK) {
        jg__jdoc_free(doc);
        return err;
    }
    *out = doc;
    return JG_OK;
}

void jg__jdoc_free(jg__jdoc *doc)
{
    if (doc == NULL)
        return;
    jg_memzero(doc->pool, doc->pool_size);
    free(doc->nodes);
    free(doc);
}

uint32_t jg__jdoc_get(const jg__jdoc *doc, uint32_t obj, const char *name)
{
    const jg__jnode *nodes = doc->nodes;
    if (obj >= doc->count || nodes[obj].type != JG__J_OBJECT)
        return 0;
    size_t n = strlen(name);
    for (uint32_t k = obj + 1; k < nodes[obj].end; k = nodes[k + 1].end)
        if (same_name(doc, k, name, n))
            return k + 1;
    return 0;
}

const char *jg__jdoc_str(const jg__jdoc *doc, uint32_t idx)
{
    if (idx >= doc->count || doc->nodes[idx].type != JG__J_STRING)
        return NULL;
    return doc->pool + doc->nodes[idx].str;
}

uint32_t jg__jdoc_at(const jg__jdoc *doc, uint32_t arr, uint32_t i)
{
    const jg__jnode *nodes = doc->nodes;
    if (arr >= doc->count || nodes[arr].type != JG__J_ARRAY || i >= nodes[arr].len)
        return 0;
    uint32_t k = arr + 1;
    while (i-- > 0)
        k = nodes[k].end;
    return k;
}

jg_err jg__jdoc_int_exact(const jg__jdoc *doc, uint32_t idx, int64_t *out)
{
    if (idx >= doc->count)
        return JG_ERR_JSON_TYPE;
    const jg__jnode *n = &doc->nodes[idx];
    if (n->type == JG__J_INT) {
        *out = n->num.i;
        return JG_OK;
    }
    if (n->type == JG__J_REAL) {
        double d = n->num.d;
        /* 2^63 is exactly representable; anything at or above it does not fit. */
        if (!isfinite(d) || d != floor(d) || d >= 9223372036854775808.0 ||
            d < -9223372036854775808.0)
            return JG_ERR_JSON_NUMBER;
        *out = (int64_t)d;
        return JG_OK;
    }
    return JG_ERR_JSON_TYPE;
}

/* One node as a new jansson value (containers empty). */
static json_t *scalar_or_empty(const jg__jdoc *doc, const jg__jnode *n)
{
    switch ((jg__jtype)n->type) {
    case JG__J_NULL:
        return json_null();
    case JG__J_FALSE:
        return json_false();
    case JG__J_TRUE:
        return json_true();
    case JG__J_INT:
        return json_integer((json_int_t)n->num.i);
    case JG__J_REAL:
        return json_real(n->num.d);
    case JG__J_STRING:
        return json_stringn_nocheck(doc->pool + n->str, n->len);
    case JG__J_ARRAY:
        return json_array();
    case JG__J_OBJECT:
        return json_object();
    }
    return NULL;
}

jg_err jg__jdoc_to_json(const jg__jdoc *doc, uint32_t idx, json_t **out)
{
    /* Open containers: the jansson value (borrowed: its parent owns it) and
     * the node index where it ends. Depth is bounded by the parse. */
    typedef struct frame {
        json_t *value;
        uint32_t end;
    } frame;
    frame local[STACK_LOCAL], *frames = local;
    if (idx >= doc->count)
        return JG_ERR_INVALID_ARGUMENT;
    uint32_t last = doc->nodes[idx].end;
    if (last - idx > STACK_LOCAL) {
        /* More nodes than local frames: depth could exceed them. */
        frames = malloc((size_t)(JG__JDOC_MAX_DEPTH + 1) * sizeof *frames);
        if (frames == NULL)
            return JG_ERR_NOMEM;
    }
    json_t *root = NULL;
    const char *key = NULL;
    unsigned depth = 0;
    jg_err err = JG_OK;
    for (uint32_t k = idx; k < last && err == JG_OK;) {
        while (depth > 0 && k >= frames[depth - 1].end)
            depth--;
        json_t *parent = depth > 0 ? frames[depth - 1].value : NULL;
        const jg__jnode *n = &doc->nodes[k];
        if (parent != NULL && json_is_object(parent) && key == NULL) {
            key = doc->pool + n->str; /* a member name: its value follows */
            k++;
            continue;
        }
        json_t *value = scalar_or_empty(doc, n);
        if (value == NULL) {
            err = JG_ERR_NOMEM;
        } else if (parent == NULL) {
            root = value;
        } else if (json_is_object(parent)) {
            /* The _new functions take the reference even when they fail. */
            if (json_object_set_new_nocheck(parent, key, value) != 0)
                err = JG_ERR_NOMEM;
            key = NULL;
        } else if (json_array_append_new(parent, value) != 0) {
            err = JG_ERR_NOMEM;
        }
        if (err == JG_OK && (n->type == JG__J_ARRAY || n->type == JG__J_OBJECT))
            frames[depth++] = (frame){value, n->end};
        k++;
    }
    if (frames != local)
        free(frames);
    if (err != JG_OK) {
        json_decref(root);
        return err;
    }
    *out = root;
    return JG_OK;
}
