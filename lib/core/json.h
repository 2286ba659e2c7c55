/*
 * json.h — the library's only door to jansson (internal).
 *
 * Every JSON text from outside goes through jg__json_parse(), which bounds
 * size, reads the text with our own strict, non-recursive reader (jdoc.h:
 * nesting depth bounded, duplicate member names rejected, strict UTF-8) and
 * builds the jansson tree from it; claims parsed from tokens skip the tree
 * and are read from the reader's flat form (lib/jwt/claims.c). Output goes
 * through jg__json_dump() with sorted members, written by our own compact
 * writer (json_write.c) byte for byte as jansson would.
 */
#ifndef JG_LIB_CORE_JSON_H
#define JG_LIB_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jwtgate/error.h"

/*
 * Parse `len` bytes as one JSON value. `max_depth` bounds the nesting of
 * arrays/objects (0: JG_DEFAULT_MAX_JSON_DEPTH); `max_len` bounds the text
 * (0: no bound beyond the caller's). Errors: JG_ERR_LIMIT_JSON_SIZE,
 * JG_ERR_LIMIT_JSON_DEPTH, JG_ERR_JSON_SYNTAX, JG_ERR_JSON_DUPLICATE,
 * JG_ERR_NOMEM.
 */
jg_err jg__json_parse(const char *text, size_t len, unsigned max_depth, size_t max_len,
                      json_t **out);

/* The same, and the value must be an object (else JG_ERR_JSON_NOT_OBJECT). */
jg_err jg__json_parse_object(const char *text, size_t len, unsigned max_depth, size_t max_len,
                             json_t **out);

/* Compact (or indented with `pretty`) text with sorted members; malloc'd,
 * NUL-terminated. Errors: JG_ERR_NOMEM. */
jg_err jg__json_dump(const json_t *value, int pretty, char **out, size_t *out_len);

/*
 * As jg__json_dump(), for values holding secrets: jansson is asked for the
 * exact length first and then writes once into our buffer, so no growing
 * intermediate buffer leaves copies in freed memory. Free the result with
 * jg_free_secret(). Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM.
 */
jg_err jg__json_dump_secret(const json_t *value, int pretty, char **out, size_t *out_len);

/*
 * Compact text, members sorted (`sorted`) or in insertion order, exactly as
 * json_dumps(JSON_COMPACT [| JSON_SORT_KEYS]) writes it (json_write.c: our
 * own writer, for speed). Errors: JG_ERR_INVALID_ARGUMENT, JG_ERR_NOMEM.
 */
jg_err jg__json_write_compact(const json_t *value, int sorted, char **out, size_t *out_len);

/* Compact text in insertion order (for headers we sign). */
jg_err jg__json_dump_ordered(const json_t *value, char **out, size_t *out_len);

/*
 * An integer from a JSON number: integers, and reals with no fractional part
 * within int64_t. Errors: JG_ERR_JSON_TYPE (not a number), JG_ERR_JSON_NUMBER.
 */
jg_err jg__json_int_exact(const json_t *value, int64_t *out);

/* Overwrite the bytes of a JSON string in place (before freeing secrets). */
void jg__json_wipe_string(json_t *value);

#endif /* JG_LIB_CORE_JSON_H */
