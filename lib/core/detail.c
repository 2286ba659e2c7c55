/*
 * detail.c — rejection details (include/jwtgate/error.h): filling them at
 * the rejection points (core/detail.h) and jg_detail_format().
 *
 * A detail is plain data in fixed arrays: filling one never allocates and
 * never fails, so it can be asked for on the gateway's request path. Every
 * text that came from a token is escaped on the way in, so the formatter
 * only joins safe pieces.
 */
#include "core/detail.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void jg__detail_clear(jg_detail *d)
{
    if (d != NULL)
        memset(d, 0, sizeof *d);
}

void jg__detail_finish(jg_detail *d, jg_err err)
{
    if (d == NULL)
        return;
    if (err == JG_OK || d->err != err) {
        memset(d, 0, sizeof *d);
        d->err = err;
    }
}

/* The escaped form of one byte into `out` (at most 4 bytes); its length. */
static size_t escape_byte(unsigned char c, char out[4])
{
    static const char hex[] = "0123456789abcdef";
    if (c == '"' || c == '\\') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c < 0x20 || c > 0x7E) {
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex[c >> 4];
        out[3] = hex[c & 0xF];
        return 4;
    }
    out[0] = (char)c;
    return 1;
}

size_t jg__detail_escape(char *dst, size_t cap, const char *src, size_t len, int quote)
{
    if (dst == NULL || cap < 8)
        return 0;
    if (src == NULL)
        len = 0;
    const size_t q = quote ? 1 : 0;
    /* Whether everything fits: the quotes and the NUL included. */
    size_t need = 2 * q + 1;
    char tmp[4];
    for (size_t i = 0; i < len && need <= cap; i++)
        need += escape_byte((unsigned char)src[i], tmp);
    const size_t limit = need <= cap ? cap - q - 1 : cap - q - 1 - 3;
    size_t o = 0;
    if (quote)
        dst[o++] = '"';
    size_t i = 0;
    for (; i < len; i++) {
        size_t n = escape_byte((unsigned char)src[i], tmp);
        if (o + n > limit)
            break;
        memcpy(dst + o, tmp, n);
        o += n;
    }
    if (i < len) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    if (quote)
        dst[o++] = '"';
    dst[o] = '\0';
    return o;
}

void jg__detail_begin(jg_detail *d, jg_err err, jg_detail_kind kind, const char *name)
{
    if (d == NULL)
        return;
    memset(d, 0, sizeof *d);
    d->err = err;
    d->kind = kind;
    if (name != NULL)
        jg__detail_escape(d->name, sizeof d->name, name, strlen(name), 0);
}

void jg__detail_expected_str(jg_detail *d, const char *s, size_t len)
{
    if (d != NULL)
        jg__detail_escape(d->expected, sizeof d->expected, s, len, 1);
}

void jg__detail_actual_str(jg_detail *d, const char *s, size_t len)
{
    if (d != NULL)
        jg__detail_escape(d->actual, sizeof d->actual, s, len, 1);
}

void jg__detail_expected_text(jg_detail *d, const char *text)
{
    if (d != NULL)
        jg__detail_escape(d->expected, sizeof d->expected, text, strlen(text), 0);
}

void jg__detail_actual_text(jg_detail *d, const char *text)
{
    if (d != NULL)
        jg__detail_escape(d->actual, sizeof d->actual, text, strlen(text), 0);
}

/* Append `s` to the list in `buf` (", " between items); when it does not
 * fit, end the list with ", ..." once and drop the rest. */
static void list_add(char *buf, size_t cap, const char *s)
{
    size_t used = strlen(buf);
    if (used >= 3 && strcmp(buf + used - 3, "...") == 0)
        return;
    size_t sep = used > 0 ? 2 : 0, n = strlen(s);
    if (used + sep + n + 1 + 5 <= cap) {
        snprintf(buf + used, cap - used, "%s%s", sep ? ", " : "", s);
        return;
    }
    if (used + 5 + 1 <= cap)
        snprintf(buf + used, cap - used, "%s...", sep ? ", " : "");
}

static void names_of(char *buf, size_t cap, unsigned count, int is_enc, uint64_t set)
{
    char list[JG_DETAIL_TEXT_MAX] = "";
    for (unsigned i = 1; i < count && i < 64; i++) {
        if ((set & ((uint64_t)1 << i)) == 0)
            continue;
        const char *name = is_enc ? jg_enc_name((jg_enc)i) : jg_alg_name((jg_alg)i);
        if (name != NULL)
            list_add(list, sizeof list, name);
    }
    snprintf(buf, cap, "%s%s", list[0] ? "one of " : "none", list);
}

void jg__detail_expected_algs(jg_detail *d, jg_alg_set algs)
{
    if (d != NULL)
        names_of(d->expected, sizeof d->expected, JG_ALG__COUNT, 0, algs);
}

void jg__detail_expected_encs(jg_detail *d, jg_enc_set encs)
{
    if (d != NULL)
        names_of(d->expected, sizeof d->expected, JG_ENC__COUNT, 1, encs);
}

void jg__detail_time(jg_detail *d, jg_err err, const char *name, int64_t time, int64_t now,
                     int64_t leeway, int64_t max_age)
{
    if (d == NULL)
        return;
    jg__detail_begin(d, err, JG_DETAIL_TIME, name);
    d->time = time;
    d->now = now;
    d->leeway = leeway;
    d->max_age = max_age;
}

void jg__detail_key(jg_detail *d, jg_err err, const char *kid, size_t kid_len, const char *alg,
                    const char *enc, const jg_jwks *set)
{
    if (d == NULL)
        return;
    jg__detail_begin(d, err, JG_DETAIL_KEY, NULL);
    d->has_kid = kid != NULL;
    if (kid != NULL)
        jg__detail_escape(d->kid, sizeof d->kid, kid, kid_len, 0);
    if (alg != NULL)
        jg__detail_escape(d->alg, sizeof d->alg, alg, strlen(alg), 0);
    if (enc != NULL)
        jg__detail_escape(d->enc, sizeof d->enc, enc, strlen(enc), 0);
    d->set_count = jg_jwks_count(set);
    for (size_t i = 0; i < d->set_count; i++) {
        const char *k = jg_jwk_kid(jg_jwks_get(set, i));
        if (k == NULL) {
            d->set_without_kid++;
            continue;
        }
        char one[JG_DETAIL_NAME_MAX];
        jg__detail_escape(one, sizeof one, k, strlen(k), 0);
        list_add(d->set_kids, sizeof d->set_kids, one);
    }
}

/* ---- Formatting -------------------------------------------------------------- */

/* A bounded writer that counts what it could not write, like snprintf. */
typedef struct out {
    char *buf;
    size_t cap, len;
} out;

__attribute__((format(printf, 2, 3))) static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = o->len < o->cap ? o->buf + o->len : NULL;
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    /* clang 14's analyzer misreads va_start here (false positive). */
    int n = vsnprintf(at, room, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* A time as RFC 3339 UTC, or the bare number when gmtime cannot say. */
static void put_time(out *o, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if ((int64_t)tt == t && gmtime_r(&tt, &tm) != NULL)
        put(o, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        put(o, "%" PRId64 " s after the epoch", t);
}

static void format_claim(out *o, const jg_detail *d)
{
    if (d->err == JG_ERR_CLAIM_MISSING) {
        put(o, "claim \"%s\" is missing", d->name);
        if (d->expected[0])
            put(o, " (expected %s)", d->expected);
        return;
    }
    put(o, d->err == JG_ERR_CLAIM_TYPE ? "claim \"%s\"" : "%s", d->name);
    const char *sep = ": ";
    if (d->expected[0]) {
        put(o, "%sexpected %s", sep, d->expected);
        sep = ", ";
    }
    if (d->actual[0])
        put(o, "%sgot %s", sep, d->actual);
}

static void format_time(out *o, const jg_detail *d)
{
    put(o, "%s: ", d->name);
    switch (d->err) {
    case JG_ERR_EXPIRED:
        put(o, "expired at ");
        put_time(o, d->time);
        break;
    case JG_ERR_NOT_YET_VALID:
        put(o, "not valid before ");
        put_time(o, d->time);
        break;
    case JG_ERR_IAT_FUTURE:
        put(o, "issued at ");
        put_time(o, d->time);
        put(o, ", in the future");
        break;
    case JG_ERR_TOO_OLD:
        put(o, "issued at ");
        put_time(o, d->time);
        put(o, ", older than max_age %" PRId64 " s", d->max_age);
        break;
    default:
        put_time(o, d->time);
        break;
    }
    put(o, " (now ");
    put_time(o, d->now);
    put(o, ", leeway %" PRId64 " s)", d->leeway);
}

static void format_header(out *o, const jg_detail *d)
{
    if (d->err == JG_ERR_CRIT_UNKNOWN && d->actual[0]) {
        put(o, "%s: %s is not an extension this verifier processes", d->name, d->actual);
        return;
    }
    put(o, "%s", d->name);
    const char *sep = ": ";
    if (d->expected[0]) {
        put(o, "%sexpected %s", sep, d->expected);
        sep = ", ";
    }
    if (d->actual[0])
        put(o, "%sgot %s", sep, d->actual);
}

static void format_key(out *o, const jg_detail *d)
{
    if (d->err != JG_ERR_KEY_NOT_FOUND) {
        /* A key was found but refused, or failed: which lookup it was. */
        const char *sep = "";
        if (d->has_kid) {
            put(o, "kid \"%s\"", d->kid);
            sep = ", ";
        }
        if (d->alg[0]) {
            put(o, "%salg %s", sep, d->alg);
            sep = ", ";
        }
        if (d->enc[0])
            put(o, "%senc %s", sep, d->enc);
        return;
    }
    put(o, "no key");
    if (d->has_kid)
        put(o, " with kid \"%s\"", d->kid);
    if (d->alg[0])
        put(o, " for alg %s", d->alg);
    if (d->enc[0])
        put(o, ", enc %s", d->enc);
    if (d->set_count == 0) {
        put(o, " (the set is empty)");
    } else if (d->set_kids[0]) {
        put(o, " (the set has kids: %s", d->set_kids);
        if (d->set_without_kid > 0)
            put(o, "; %zu key%s without kid", d->set_without_kid,
                d->set_without_kid == 1 ? "" : "s");
        put(o, ")");
    } else {
        put(o, " (the set has %zu key%s, none with a kid)", d->set_count,
            d->set_count == 1 ? "" : "s");
    }
}

static void format_keyset(out *o, const jg_detail *d)
{
    if (d->err == JG_ERR_KEYSET_MIXED) {
        put(o,
            "the set holds %zu symmetric (\"oct\") key%s and %zu public key%s; a verification set "
            "holds one kind (allow_mixed_keys accepts both)",
            d->secret_keys, d->secret_keys == 1 ? "" : "s", d->public_keys,
            d->public_keys == 1 ? "" : "s");
        return;
    }
    put(o, "%zu key%s skipped", d->skipped_count, d->skipped_count == 1 ? "" : "s");
    size_t shown =
        d->skipped_count < JG_DETAIL_SKIPPED_MAX ? d->skipped_count : JG_DETAIL_SKIPPED_MAX;
    for (size_t i = 0; i < shown; i++) {
        const jg_detail_skip *s = &d->skipped[i];
        put(o, "%s", i == 0 ? ": " : "; ");
        if (s->kid[0])
            put(o, "kid \"%s\"", s->kid);
        else
            put(o, "key %zu (no kid)", s->index);
        put(o, ": %s", jg_strerror(s->err));
    }
    if (shown < d->skipped_count)
        put(o, "; ...");
}

size_t jg_detail_format(const jg_detail *detail, char *buf, size_t len)
{
    out o = {buf, buf != NULL ? len : 0, 0};
    if (o.cap > 0)
        buf[0] = '\0';
    if (detail == NULL || detail->err == JG_OK)
        return 0;
    switch (detail->kind) {
    case JG_DETAIL_CLAIM:
        format_claim(&o, detail);
        break;
    case JG_DETAIL_TIME:
        format_time(&o, detail);
        break;
    case JG_DETAIL_HEADER:
        format_header(&o, detail);
        break;
    case JG_DETAIL_KEY:
        format_key(&o, detail);
        break;
    case JG_DETAIL_KEYSET:
        format_keyset(&o, detail);
        break;
    case JG_DETAIL_NONE:
    default:
        break;
    }
    return o.len;
}
