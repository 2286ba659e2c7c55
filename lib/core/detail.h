/*
 * detail.h — filling a jg_detail (include/jwtgate/error.h) at the rejection
 * points (internal).
 *
 * Every helper takes a `jg_detail *` that may be NULL (the caller asked for
 * no detail) and then does nothing, so a rejection point calls it
 * unconditionally and the success path never pays for it. Texts are
 * escaped and truncated by jg__detail_escape(); nothing here ever looks at
 * key material.
 */
#ifndef JG_LIB_CORE_DETAIL_H
#define JG_LIB_CORE_DETAIL_H

#include <stddef.h>
#include <stdint.h>

#include "jwtgate/alg.h"
#include "jwtgate/error.h"
#include "jwtgate/jwk.h"

/* Zero a detail (NULL: nothing). */
void jg__detail_clear(jg_detail *d);

/*
 * The detail's last word before an _ex() entry point returns `err`: zeroed
 * on success; reset to {err, JG_DETAIL_NONE} when what was filled explains
 * another error (a later rule overrode it), so `d->err` always equals the
 * returned error.
 */
void jg__detail_finish(jg_detail *d, jg_err err);

/*
 * Escape `len` bytes of `src` into `dst` (`cap` >= 8 bytes with the NUL):
 * '"' and '\' with a backslash, bytes outside printable ASCII as \xNN; in
 * double quotes when `quote`. What does not fit is cut and replaced by
 * "..." (inside the quotes). Returns the length written.
 */
size_t jg__detail_escape(char *dst, size_t cap, const char *src, size_t len, int quote);

/* Start a detail of `kind` for `err`, clearing what an earlier rule left;
 * `name` (NUL-terminated, may be NULL) is escaped into d->name. */
void jg__detail_begin(jg_detail *d, jg_err err, jg_detail_kind kind, const char *name);

/* d->expected / d->actual: a quoted, escaped string (`len` bytes). */
void jg__detail_expected_str(jg_detail *d, const char *s, size_t len);
void jg__detail_actual_str(jg_detail *d, const char *s, size_t len);
/* d->expected / d->actual: a plain description ("absent", "a number"). */
void jg__detail_expected_text(jg_detail *d, const char *text);
void jg__detail_actual_text(jg_detail *d, const char *text);
/* d->expected: "one of HS256, RS256" for an allow-list. */
void jg__detail_expected_algs(jg_detail *d, jg_alg_set algs);
void jg__detail_expected_encs(jg_detail *d, jg_enc_set encs);

/* A JG_DETAIL_TIME detail. */
void jg__detail_time(jg_detail *d, jg_err err, const char *name, int64_t time, int64_t now,
                     int64_t leeway, int64_t max_age);

/*
 * A JG_DETAIL_KEY detail: the token's kid (`kid` NULL: none; `kid_len`
 * bytes), alg and enc names (may be NULL), and what `set` holds (count,
 * kids, keys without a kid; `set` may be NULL).
 */
void jg__detail_key(jg_detail *d, jg_err err, const char *kid, size_t kid_len, const char *alg,
                    const char *enc, const jg_jwks *set);

#endif /* JG_LIB_CORE_DETAIL_H */
