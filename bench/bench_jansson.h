/*
 * bench_jansson.h — the claim checks of jg_jwt_verify's policy, written by
 * hand with jansson for the peers that have no JWT validation of their own
 * (cjose, latchset jose): parse the verified payload, then exp, iat (not in
 * the future, at most a day old), iss and aud. Header only.
 */
#ifndef BENCH_JANSSON_H
#define BENCH_JANSSON_H

#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench.h"

/* 0 when the claims are acceptable. */
static inline int bench_check_claims(const void *payload, size_t len)
{
    json_t *obj = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
    if (obj == NULL)
        return 1;
    json_int_t now = (json_int_t)time(NULL);
    json_t *exp = json_object_get(obj, "exp"), *iat = json_object_get(obj, "iat");
    json_t *iss = json_object_get(obj, "iss"), *aud = json_object_get(obj, "aud");
    int bad = !json_is_integer(exp) || json_integer_value(exp) <= now;
    bad |= !json_is_integer(iat) || json_integer_value(iat) > now ||
           now - json_integer_value(iat) > 86400;
    bad |= !json_is_string(iss) || strcmp(json_string_value(iss), BENCH_ISS) != 0;
    bad |= !json_is_string(aud) || strcmp(json_string_value(aud), BENCH_AUD) != 0;
    json_decref(obj);
    return bad;
}

/* 0 when a header's "typ" is the expected one. */
static inline int bench_check_typ(const json_t *header, const char *typ)
{
    const json_t *t = json_object_get(header, "typ");
    return !(json_is_string(t) && strcmp(json_string_value(t), typ) == 0);
}

#endif /* BENCH_JANSSON_H */
