/*
 * jwks.c — key sets (RFC 7517 section 5): building, looking keys up, and
 * importing {"keys":[...]} documents.
 *
 * A set is an array of references to immutable keys. Once built it is only
 * read, so many threads may look keys up at once without locks.
 */
#include <stdlib.h>
#include <string.h>

#include "core/detail.h"
#include "core/json.h"
#include "jwk/jwk_build.h"
#include "jwk/jwk_internal.h"

/* A key the import skipped: where it was, its kid, why. */
typedef struct skipped_key {
    size_t index;
    char *kid; /* NULL when none */
    jg_err err;
} skipped_key;

struct jg_jwks {
    jg_jwk **keys;
    size_t count;
    size_t cap;
    size_t secrets; /* how many keys are "oct" */
    skipped_key *skipped;
    size_t skipped_count;
};

jg_err jg_jwks_new(jg_jwks **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_jwks *set = calloc(1, sizeof *set);
    if (set == NULL)
        return JG_ERR_NOMEM;
    *out = set;
    return JG_OK;
}

/* Room for at least `want` keys. */
static jg_err reserve(jg_jwks *set, size_t want)
{
    if (want <= set->cap)
        return JG_OK;
    size_t cap = set->cap ? set->cap : 4;
    while (cap < want) {
        if (cap > SIZE_MAX / 2 / sizeof(jg_jwk *))
            return JG_ERR_NOMEM;
        cap *= 2;
    }
    jg_jwk **keys = realloc(set->keys, cap * sizeof(jg_jwk *));
    if (keys == NULL)
        return JG_ERR_NOMEM;
    set->keys = keys;
    set->cap = cap;
    return JG_OK;
}

jg_err jg_jwks_add(jg_jwks *set, jg_jwk *key)
{
    if (set == NULL || key == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_err err = reserve(set, set->count + 1);
    if (err != JG_OK)
        return err;
    set->keys[set->count++] = jg_jwk_ref(key);
    if (key->kty == JG_KTY_OCT)
        set->secrets++;
    return JG_OK;
}

void jg__jwks_kinds(const jg_jwks *set, size_t *secret, size_t *other)
{
    *secret = set != NULL ? set->secrets : 0;
    *other = set != NULL ? set->count - set->secrets : 0;
}

size_t jg_jwks_skipped_count(const jg_jwks *set)
{
    return set != NULL ? set->skipped_count : 0;
}

jg_err jg_jwks_skipped_at(const jg_jwks *set, size_t index, size_t *position, const char **kid,
                          jg_err *reason)
{
    if (set == NULL || index >= set->skipped_count)
        return JG_ERR_INVALID_ARGUMENT;
    const skipped_key *s = &set->skipped[index];
    if (position != NULL)
        *position = s->index;
    if (kid != NULL)
        *kid = s->kid;
    if (reason != NULL)
        *reason = s->err;
    return JG_OK;
}

size_t jg_jwks_count(const jg_jwks *set)
{
    return set ? set->count : 0;
}

const jg_jwk *jg_jwks_get(const jg_jwks *set, size_t index)
{
    if (set == NULL || index >= set->count)
        return NULL;
    return set->keys[index];
}

/* The "use" an algorithm implies: sig for JWS, enc for JWE. */
static jg_use use_of_alg(jg_alg alg)
{
    switch (jg_alg_kind_of(alg)) {
    case JG_ALG_KIND_JWS:
        return JG_USE_SIG;
    case JG_ALG_KIND_JWE:
        return JG_USE_ENC;
    default:
        return JG_USE_ANY;
    }
}

/*
 * Whether `key` matches the lookup. A key is usable with `alg` when its type
 * and curve suit it, its declared "alg" (if any) permits it and its "use" (if
 * any) is that of the algorithm's kind; sizes, key_ops and the presence of a
 * private part are left to jg_jwk_check(), which depends on the operation.
 */
static int matches(const jg_jwks *set, const jg_jwk *key, const char *kid, int *kid_known,
                   jg_alg alg, jg_use use)
{
    if (!jg__jwk_kid_candidate(key, set, kid, kid != NULL ? strlen(kid) : 0, kid_known))
        return 0;
    if (use != JG_USE_ANY && key->use != JG_USE_ANY && key->use != use)
        return 0;
    if (alg == JG_ALG_UNKNOWN)
        return 1;
    if (jg__jwk_alg_suits(key, alg) != JG_OK || !jg__jwk_alg_permits(key, alg))
        return 0;
    return key->use == JG_USE_ANY || key->use == use_of_alg(alg);
}

int jg__jwk_kid_candidate(const jg_jwk *key, const jg_jwks *set, const char *kid, size_t kid_len,
                          int *kid_known)
{
    if (kid == NULL)
        return 1;
    if (key->kid != NULL) {
        int same = strlen(key->kid) == kid_len && memcmp(key->kid, kid, kid_len) == 0;
        if (same)
            *kid_known = 1;
        return same;
    }
    if (*kid_known < 0)
        *kid_known = jg__jwks_has_kid(set, kid, kid_len);
    return !*kid_known;
}

int jg__jwks_has_kid(const jg_jwks *set, const char *kid, size_t kid_len)
{
    for (size_t i = 0; set != NULL && i < set->count; i++) {
        const char *k = set->keys[i]->kid;
        if (k != NULL && strlen(k) == kid_len && memcmp(k, kid, kid_len) == 0)
            return 1;
    }
    return 0;
}

const jg_jwk *jg_jwks_find(const jg_jwks *set, const char *kid, jg_alg alg, jg_use use,
                           size_t *cursor)
{
    if (set == NULL)
        return NULL;
    /* Keys without a kid stand in for a kid no key of the set has. */
    int kid_known = -1;
    for (size_t i = cursor ? *cursor : 0; i < set->count; i++) {
        if (matches(set, set->keys[i], kid, &kid_known, alg, use)) {
            if (cursor != NULL)
                *cursor = i + 1;
            return set->keys[i];
        }
    }
    if (cursor != NULL && *cursor < set->count)
        *cursor = set->count;
    return NULL;
}

void jg_jwks_free(jg_jwks *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->count; i++)
        jg_jwk_free(set->keys[i]);
    for (size_t i = 0; i < set->skipped_count; i++)
        free(set->skipped[i].kid);
    free(set->skipped);
    free(set->keys);
    free(set);
}

/* ---- Import ------------------------------------------------------------------ */

/* The text bound for a JWKS under `limits` (see jwk_build.h). */
static size_t jwks_max_json(const jg_limits *limits)
{
    size_t keys = limits->max_keys;
    if (keys > (JG__JWKS_MAX_JSON - JG__JWK_MAX_JSON) / JG__JWKS_MAX_JSON_PER_KEY)
        return JG__JWKS_MAX_JSON;
    return JG__JWK_MAX_JSON + keys * JG__JWKS_MAX_JSON_PER_KEY;
}

/*
 * Whether a key refused with `err` is refused by this library's policy
 * (too weak, known to be broken) rather than malformed: a set skips those,
 * as RFC 7517 section 5 asks for keys it cannot use, and says so. Every
 * new policy refusal of an import (a JG_ERR_KEY_* code for a key that is
 * well-formed but not acceptable) belongs here.
 */
static int refused_by_policy(jg_err err)
{
    return err == JG_ERR_KEY_WEAK || err == JG_ERR_KEY_ROCA;
}

/* Record that entry `index` (JWK object `obj`) was skipped for `err`. */
static jg_err note_skipped(jg_jwks *set, size_t index, const json_t *obj, jg_err err,
                           size_t max_entries)
{
    if (set->skipped == NULL) {
        set->skipped = calloc(max_entries, sizeof *set->skipped);
        if (set->skipped == NULL)
            return JG_ERR_NOMEM;
    }
    skipped_key *s = &set->skipped[set->skipped_count];
    const json_t *kid = json_object_get(obj, "kid");
    if (json_is_string(kid)) {
        size_t n = json_string_length(kid);
        s->kid = malloc(n + 1);
        if (s->kid == NULL)
            return JG_ERR_NOMEM;
        memcpy(s->kid, json_string_value(kid), n);
        s->kid[n] = '\0';
    }
    s->index = index;
    s->err = err;
    set->skipped_count++;
    return JG_OK;
}

/* The skipped keys of `set` into a JG_DETAIL_KEYSET detail for `err`. */
static void detail_skipped(const jg_jwks *set, jg_err err, jg_detail *d)
{
    if (d == NULL)
        return;
    jg__detail_begin(d, err, JG_DETAIL_KEYSET, NULL);
    d->skipped_count = set->skipped_count;
    for (size_t i = 0; i < set->skipped_count && i < JG_DETAIL_SKIPPED_MAX; i++) {
        const skipped_key *s = &set->skipped[i];
        d->skipped[i].index = s->index;
        d->skipped[i].err = s->err;
        if (s->kid != NULL)
            jg__detail_escape(d->skipped[i].kid, sizeof d->skipped[i].kid, s->kid, strlen(s->kid),
                              0);
    }
}

/*
 * Fill `set` from the "keys" array of `root`. Keys of a kty, crv or alg we do
 * not support, and keys refused by policy (refused_by_policy()), are skipped
 * and recorded; any other failure fails the set, and so does a set whose
 * every key was skipped (with the first key's reason: a set that can verify
 * nothing is a setup error, not an empty set).
 */
static jg_err add_keys(jg_jwks *set, json_t *keys, unsigned flags, const jg_limits *limits)
{
    if (!json_is_array(keys))
        return JG_ERR_KEYSET_INVALID;
    size_t n = json_array_size(keys);
    if (n > limits->max_keys)
        return JG_ERR_LIMIT_KEYS;
    jg_err err = reserve(set, n);
    for (size_t i = 0; i < n && err == JG_OK; i++) {
        json_t *obj = json_array_get(keys, i);
        if (!json_is_object(obj)) {
            err = JG_ERR_KEYSET_INVALID;
            break;
        }
        jg_jwk *key = NULL;
        int unsupported = 0;
        err = jg__jwk_from_json(obj, flags, &unsupported, &key);
        if (err == JG_OK) {
            err = jg_jwks_add(set, key);
            jg_jwk_free(key);
        } else if (unsupported || refused_by_policy(err)) {
            err = note_skipped(set, i, obj, err, n);
        }
    }
    if (err == JG_OK && set->count == 0 && set->skipped_count > 0)
        err = set->skipped[0].err;
    return err;
}

/* Wipe the private members of every key of a parsed document. */
static void wipe_document(json_t *root)
{
    json_t *keys = json_object_get(root, "keys");
    if (json_is_array(keys)) {
        for (size_t i = 0; i < json_array_size(keys); i++)
            jg__jwk_json_wipe(json_array_get(keys, i));
    }
    jg__jwk_json_wipe(root);
}

static jg_err parse_set(const char *json, size_t len, unsigned flags, const jg_limits *limits,
                        int any, jg_jwks **out, jg_detail *detail)
{
    jg_limits defaults = jg_limits_default();
    json_t *root = NULL;
    jg_jwks *set = NULL;

    if (json == NULL || out == NULL || (flags & ~JG__JWK_IMPORT_FLAGS) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    if (limits == NULL)
        limits = &defaults;
    jg_err err =
        jg__json_parse_object(json, len, limits->max_json_depth, jwks_max_json(limits), &root);
    if (err != JG_OK)
        return err;
    err = jg_jwks_new(&set);
    if (err == JG_OK) {
        json_t *keys = json_object_get(root, "keys");
        if (keys != NULL || !any) {
            err = add_keys(set, keys, flags, limits);
        } else {
            /* A single JWK: its errors are the caller's, even "unsupported". */
            jg_jwk *key = NULL;
            int unsupported = 0;
            err = limits->max_keys < 1 ? JG_ERR_LIMIT_KEYS
                                       : jg__jwk_from_json(root, flags, &unsupported, &key);
            if (err == JG_OK) {
                err = jg_jwks_add(set, key);
                jg_jwk_free(key);
            }
        }
    }
    wipe_document(root);
    json_decref(root);
    if (err != JG_OK) {
        if (set != NULL && set->count == 0 && set->skipped_count > 0 && err == set->skipped[0].err)
            detail_skipped(set, err, detail);
        jg_jwks_free(set);
        return err;
    }
    *out = set;
    return JG_OK;
}

jg_err jg_jwks_parse_ex(const char *json, size_t len, unsigned flags, const jg_limits *limits,
                        jg_jwks **out, jg_detail *detail)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    jg__detail_clear(detail);
    jg_err err = parse_set(json, len, flags, limits, 0, out, detail);
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_jwks_parse_any_ex(const char *json, size_t len, unsigned flags, const jg_limits *limits,
                            jg_jwks **out, jg_detail *detail)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    jg__detail_clear(detail);
    size_t i = 0;
    while (json != NULL && i < len &&
           (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n'))
        i++;
    jg_err err = json != NULL && (i == len || json[i] != '{') && jg__pem_text(json, len)
                     ? jg__jwks_parse_pem(json, len, flags, limits, out)
                     : parse_set(json, len, flags, limits, 1, out, detail);
    jg__detail_finish(detail, err);
    return err;
}

jg_err jg_jwks_parse(const char *json, size_t len, unsigned flags, const jg_limits *limits,
                     jg_jwks **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    return parse_set(json, len, flags, limits, 0, out, NULL);
}

jg_err jg_jwks_parse_any(const char *json, size_t len, unsigned flags, const jg_limits *limits,
                         jg_jwks **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    /* JSON starts with '{' (after whitespace); anything else holding a PEM
     * block is read as PEM. */
    size_t i = 0;
    while (json != NULL && i < len &&
           (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n'))
        i++;
    if (json != NULL && (i == len || json[i] != '{') && jg__pem_text(json, len))
        return jg__jwks_parse_pem(json, len, flags, limits, out);
    return parse_set(json, len, flags, limits, 1, out, NULL);
}
