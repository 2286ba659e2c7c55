/*
 * claims.c — the jg_claims object (include/jwtgate/jwt.h): a thin wrapper
 * over a JSON object that keeps the registered claims well typed, so
 * validation and callers can rely on them (see claims_internal.h).
 *
 * Two forms of the same object. Claims parsed from a token (the per-request
 * path: verify, validate, read a few claims, free) stay in the flat,
 * read-only form of our JSON reader (core/jdoc.h): one parse, three
 * allocations. The jansson form is built from it only when something needs
 * it — serializing, get_json, or a change — and once built it is published
 * atomically, so concurrent readers of a const object stay safe. The first
 * change drops the flat form; from then on jansson holds the claims.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/jdoc.h"
#include "core/json.h"
#include "jwt/claims_internal.h"

struct jg_claims {
    /* The jansson form; NULL while only `doc` holds the claims. Built on
     * first need and published with a compare-and-swap (readers may race). */
    _Atomic(json_t *) obj;
    /* The parsed, read-only form, or NULL (built by setters, or changed). */
    jg__jdoc *doc;
    /*
     * Member names in iteration order, built on the first jg_claims_name_at()
     * so iterating is linear rather than quadratic. Readers may race to
     * build it, so it is published with a compare-and-swap; every change to
     * the claims (never concurrent with readers) drops it.
     */
    _Atomic(const char **) names;
};

/* ---- Helpers ------------------------------------------------------------- */

static int str_valid(const char *s)
{
    return s != NULL && jg__utf8_valid(s, strlen(s));
}

static void names_reset(jg_claims *claims)
{
    const char **names = atomic_exchange_explicit(&claims->names, NULL, memory_order_acq_rel);
    free((void *)names);
}

static jg_claims *claims_wrap(json_t *obj, jg__jdoc *doc)
{
    jg_claims *claims = malloc(sizeof *claims);
    if (claims == NULL)
        return NULL;
    atomic_init(&claims->obj, obj);
    claims->doc = doc;
    atomic_init(&claims->names, NULL);
    return claims;
}

/* The jansson form, built from the flat one on first use; NULL only when
 * there is no memory for it. */
static json_t *object_of(const jg_claims *claims)
{
    /* Only the published pointer is written, never the claims themselves. */
    jg_claims *self = (jg_claims *)claims;
    json_t *obj = atomic_load_explicit(&self->obj, memory_order_acquire);
    if (obj != NULL || claims->doc == NULL)
        return obj;
    json_t *built = NULL;
    if (jg__jdoc_to_json(claims->doc, 0, &built) != JG_OK)
        return NULL;
    json_t *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&self->obj, &expected, built, memory_order_acq_rel,
                                                memory_order_acquire))
        return built;
    json_decref(built); /* another reader published first */
    return expected;
}

/* Before a change: only the jansson form is kept. */
static jg_err make_mutable(jg_claims *claims)
{
    if (claims->doc == NULL)
        return JG_OK;
    if (object_of(claims) == NULL)
        return JG_ERR_NOMEM;
    names_reset(claims); /* the cached names may point into the flat form */
    jg__jdoc_free(claims->doc);
    claims->doc = NULL;
    return JG_OK;
}

const json_t *jg__claims_object(const jg_claims *claims)
{
    return claims != NULL ? object_of(claims) : NULL;
}

jg_err jg__claim_type_check(const char *name, const json_t *value)
{
    /* Every registered claim name has three characters. */
    if (name[0] == '\0' || name[1] == '\0' || name[2] == '\0' || name[3] != '\0')
        return JG_OK;
    if (strcmp(name, "iss") == 0 || strcmp(name, "sub") == 0 || strcmp(name, "jti") == 0)
        return json_is_string(value) ? JG_OK : JG_ERR_CLAIM_TYPE;
    if (strcmp(name, "aud") == 0) {
        if (json_is_string(value))
            return JG_OK;
        if (!json_is_array(value) || json_array_size(value) == 0)
            return JG_ERR_CLAIM_TYPE;
        for (size_t i = 0; i < json_array_size(value); i++)
            if (!json_is_string(json_array_get(value, i)))
                return JG_ERR_CLAIM_TYPE;
        return JG_OK;
    }
    if (strcmp(name, "exp") == 0 || strcmp(name, "nbf") == 0 || strcmp(name, "iat") == 0) {
        int64_t ignored;
        return jg__json_int_exact(value, &ignored) == JG_OK ? JG_OK : JG_ERR_CLAIM_TYPE;
    }
    return JG_OK;
}

/* Type-check the registered claims of a whole object. */
static jg_err check_object(const json_t *obj)
{
    static const char *const registered[] = {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"};
    for (size_t i = 0; i < sizeof registered / sizeof registered[0]; i++) {
        const json_t *value = json_object_get(obj, registered[i]);
        if (value != NULL && jg__claim_type_check(registered[i], value) != JG_OK)
            return JG_ERR_CLAIM_TYPE;
    }
    return JG_OK;
}

/* The same rules over the flat form. */
static jg_err check_doc(const jg__jdoc *doc)
{
    static const char *const strings[] = {"iss", "sub", "jti"};
    static const char *const times[] = {"exp", "nbf", "iat"};
    for (size_t i = 0; i < 3; i++) {
        uint32_t v = jg__jdoc_get(doc, 0, strings[i]);
        if (v != 0 && doc->nodes[v].type != JG__J_STRING)
            return JG_ERR_CLAIM_TYPE;
        int64_t ignored;
        v = jg__jdoc_get(doc, 0, times[i]);
        if (v != 0 && jg__jdoc_int_exact(doc, v, &ignored) != JG_OK)
            return JG_ERR_CLAIM_TYPE;
    }
    uint32_t aud = jg__jdoc_get(doc, 0, "aud");
    if (aud != 0 && doc->nodes[aud].type != JG__J_STRING) {
        if (doc->nodes[aud].type != JG__J_ARRAY || doc->nodes[aud].len == 0)
            return JG_ERR_CLAIM_TYPE;
        for (uint32_t k = aud + 1; k < doc->nodes[aud].end; k = doc->nodes[k].end)
            if (doc->nodes[k].type != JG__J_STRING)
                return JG_ERR_CLAIM_TYPE;
    }
    return JG_OK;
}

/* Add or replace `name`; takes ownership of `value` whatever happens. */
static jg_err set_member(jg_claims *claims, const char *name, json_t *value)
{
    if (value == NULL)
        return JG_ERR_NOMEM;
    jg_err err = jg__claim_type_check(name, value);
    if (err == JG_OK)
        err = make_mutable(claims);
    if (err != JG_OK) {
        json_decref(value);
        return err;
    }
    names_reset(claims);
    /* The name is already known to be valid UTF-8, so -1 means no memory. */
    if (json_object_set_new_nocheck(object_of(claims), name, value) != 0)
        return JG_ERR_NOMEM;
    return JG_OK;
}

/* A member in the jansson form (NULL when absent, or without memory). */
static const json_t *member(const jg_claims *claims, const char *name)
{
    return json_object_get(object_of(claims), name);
}

/* ---- Lifetime -------------------------------------------------------------- */

jg_err jg_claims_new(jg_claims **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    json_t *obj = json_object();
    if (obj == NULL)
        return JG_ERR_NOMEM;
    jg_claims *claims = claims_wrap(obj, NULL);
    if (claims == NULL) {
        json_decref(obj);
        return JG_ERR_NOMEM;
    }
    *out = claims;
    return JG_OK;
}

jg_err jg_claims_parse(const char *json, size_t len, const jg_limits *limits, jg_claims **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (json == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_limits defaults;
    if (limits == NULL) {
        defaults = jg_limits_default();
        limits = &defaults;
    }
    if (len > limits->max_payload_len)
        return JG_ERR_LIMIT_JSON_SIZE;
    jg__jdoc *doc = NULL;
    jg_err err = jg__jdoc_parse(json, len, limits->max_json_depth, &doc);
    if (err != JG_OK)
        return err;
    if (doc->nodes[0].type != JG__J_OBJECT)
        err = JG_ERR_CLAIMS_INVALID;
    if (err == JG_OK)
        err = check_doc(doc);
    jg_claims *claims = err == JG_OK ? claims_wrap(NULL, doc) : NULL;
    if (err == JG_OK && claims == NULL)
        err = JG_ERR_NOMEM;
    if (err != JG_OK) {
        jg__jdoc_free(doc);
        return err;
    }
    *out = claims;
    return JG_OK;
}

void jg_claims_free(jg_claims *claims)
{
    if (claims == NULL)
        return;
    names_reset(claims);
    json_decref(atomic_load_explicit(&claims->obj, memory_order_relaxed));
    jg__jdoc_free(claims->doc);
    free(claims);
}

/* ---- Setters ---------------------------------------------------------------- */

jg_err jg_claims_set_string(jg_claims *claims, const char *name, const char *value)
{
    if (claims == NULL || !str_valid(name) || !str_valid(value))
        return JG_ERR_INVALID_ARGUMENT;
    return set_member(claims, name, json_stringn_nocheck(value, strlen(value)));
}

jg_err jg_claims_set_int(jg_claims *claims, const char *name, int64_t value)
{
    if (claims == NULL || !str_valid(name))
        return JG_ERR_INVALID_ARGUMENT;
    return set_member(claims, name, json_integer((json_int_t)value));
}

jg_err jg_claims_set_bool(jg_claims *claims, const char *name, int value)
{
    if (claims == NULL || !str_valid(name))
        return JG_ERR_INVALID_ARGUMENT;
    return set_member(claims, name, json_boolean(value != 0));
}

jg_err jg_claims_set_json(jg_claims *claims, const char *name, const char *json)
{
    if (claims == NULL || !str_valid(name) || json == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    json_t *value = NULL;
    jg_err err = jg__json_parse(json, strlen(json), 0, 0, &value);
    if (err != JG_OK)
        return err;
    return set_member(claims, name, value);
}

jg_err jg_claims_set_aud(jg_claims *claims, const char *const *aud, size_t count)
{
    if (claims == NULL || aud == NULL || count == 0)
        return JG_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++)
        if (!str_valid(aud[i]))
            return JG_ERR_INVALID_ARGUMENT;
    json_t *array = json_array();
    if (array == NULL)
        return JG_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        if (json_array_append_new(array, json_stringn_nocheck(aud[i], strlen(aud[i]))) != 0) {
            json_decref(array);
            return JG_ERR_NOMEM;
        }
    }
    return set_member(claims, "aud", array);
}

jg_err jg_claims_merge_json(jg_claims *claims, const char *json)
{
    if (claims == NULL || json == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    json_t *obj = NULL;
    jg_err err = jg__json_parse_object(json, strlen(json), 0, 0, &obj);
    if (err == JG_ERR_JSON_NOT_OBJECT)
        return JG_ERR_CLAIMS_INVALID;
    if (err != JG_OK)
        return err;
    /* Check everything first so a refused merge leaves the claims unchanged. */
    err = check_object(obj);
    if (err == JG_OK)
        err = make_mutable(claims);
    if (err == JG_OK) {
        names_reset(claims);
        if (json_object_update(object_of(claims), obj) != 0)
            err = JG_ERR_NOMEM;
    }
    json_decref(obj);
    return err;
}

jg_err jg_claims_remove(jg_claims *claims, const char *name)
{
    if (claims == NULL || name == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (!jg_claims_has(claims, name))
        return JG_ERR_CLAIM_MISSING;
    jg_err err = make_mutable(claims);
    if (err != JG_OK)
        return err;
    names_reset(claims);
    json_object_del(object_of(claims), name);
    return JG_OK;
}

/* ---- Accessors ---------------------------------------------------------------- */

/*
 * Readers use the flat form while there is one (no jansson tree is built on
 * the per-request path), else the jansson form. `doc` never changes while
 * readers run: only the setters drop it, and they are never concurrent with
 * readers.
 */

int jg_claims_has(const jg_claims *claims, const char *name)
{
    if (claims == NULL || name == NULL)
        return 0;
    if (claims->doc != NULL)
        return jg__jdoc_get(claims->doc, 0, name) != 0;
    return member(claims, name) != NULL;
}

jg_err jg_claims_get_string(const jg_claims *claims, const char *name, const char **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (claims == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (claims->doc != NULL) {
        uint32_t v = jg__jdoc_get(claims->doc, 0, name);
        if (v == 0)
            return JG_ERR_CLAIM_MISSING;
        const char *s = jg__jdoc_str(claims->doc, v);
        if (s == NULL)
            return JG_ERR_CLAIM_TYPE;
        *out = s;
        return JG_OK;
    }
    const json_t *value = member(claims, name);
    if (value == NULL)
        return JG_ERR_CLAIM_MISSING;
    if (!json_is_string(value))
        return JG_ERR_CLAIM_TYPE;
    *out = json_string_value(value);
    return JG_OK;
}

jg_err jg_claims_get_int(const jg_claims *claims, const char *name, int64_t *out)
{
    if (claims == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    int64_t v;
    if (claims->doc != NULL) {
        uint32_t idx = jg__jdoc_get(claims->doc, 0, name);
        if (idx == 0)
            return JG_ERR_CLAIM_MISSING;
        if (jg__jdoc_int_exact(claims->doc, idx, &v) != JG_OK)
            return JG_ERR_CLAIM_TYPE;
        *out = v;
        return JG_OK;
    }
    const json_t *value = member(claims, name);
    if (value == NULL)
        return JG_ERR_CLAIM_MISSING;
    if (jg__json_int_exact(value, &v) != JG_OK)
        return JG_ERR_CLAIM_TYPE;
    *out = v;
    return JG_OK;
}

jg_err jg_claims_get_bool(const jg_claims *claims, const char *name, int *out)
{
    if (claims == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (claims->doc != NULL) {
        uint32_t idx = jg__jdoc_get(claims->doc, 0, name);
        if (idx == 0)
            return JG_ERR_CLAIM_MISSING;
        uint8_t type = claims->doc->nodes[idx].type;
        if (type != JG__J_TRUE && type != JG__J_FALSE)
            return JG_ERR_CLAIM_TYPE;
        *out = type == JG__J_TRUE;
        return JG_OK;
    }
    const json_t *value = member(claims, name);
    if (value == NULL)
        return JG_ERR_CLAIM_MISSING;
    if (!json_is_boolean(value))
        return JG_ERR_CLAIM_TYPE;
    *out = json_is_true(value);
    return JG_OK;
}

jg_err jg_claims_get_json(const jg_claims *claims, const char *name, char **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (claims == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (!jg_claims_has(claims, name))
        return JG_ERR_CLAIM_MISSING;
    const json_t *value = member(claims, name);
    if (value == NULL)
        return JG_ERR_NOMEM; /* present, so the jansson form could not be built */
    return jg__json_dump(value, 0, out, NULL);
}

size_t jg_claims_aud_count(const jg_claims *claims)
{
    if (claims == NULL)
        return 0;
    if (claims->doc != NULL) {
        uint32_t aud = jg__jdoc_get(claims->doc, 0, "aud");
        if (aud == 0)
            return 0;
        const jg__jnode *n = &claims->doc->nodes[aud];
        return n->type == JG__J_STRING ? 1 : n->type == JG__J_ARRAY ? n->len : 0;
    }
    const json_t *aud = member(claims, "aud");
    if (json_is_string(aud))
        return 1;
    return json_is_array(aud) ? json_array_size(aud) : 0;
}

const char *jg_claims_aud_at(const jg_claims *claims, size_t index)
{
    if (claims == NULL)
        return NULL;
    if (claims->doc != NULL) {
        const jg__jdoc *doc = claims->doc;
        uint32_t aud = jg__jdoc_get(doc, 0, "aud");
        if (aud == 0)
            return NULL;
        if (doc->nodes[aud].type == JG__J_STRING)
            return index == 0 ? jg__jdoc_str(doc, aud) : NULL;
        /* jg__jdoc_at() gives 0 (the root, not a string) when out of range. */
        return index < UINT32_MAX ? jg__jdoc_str(doc, jg__jdoc_at(doc, aud, (uint32_t)index))
                                  : NULL;
    }
    const json_t *aud = member(claims, "aud");
    if (json_is_string(aud))
        return index == 0 ? json_string_value(aud) : NULL;
    /* json_string_value() is NULL for anything but a string. */
    return json_is_array(aud) ? json_string_value(json_array_get(aud, index)) : NULL;
}

size_t jg_claims_count(const jg_claims *claims)
{
    if (claims == NULL)
        return 0;
    if (claims->doc != NULL)
        return claims->doc->nodes[0].len;
    return json_object_size(object_of(claims));
}

/* The member names in order, into `names` (room for `n`). */
static void collect_names(const jg_claims *claims, const char **names, size_t n)
{
    size_t i = 0;
    if (claims->doc != NULL) {
        const jg__jdoc *doc = claims->doc;
        for (uint32_t k = 1; k < doc->nodes[0].end && i < n; k = doc->nodes[k + 1].end)
            names[i++] = jg__jdoc_str(doc, k);
        return;
    }
    json_t *obj = object_of(claims);
    for (void *it = json_object_iter(obj); it != NULL && i < n; it = json_object_iter_next(obj, it))
        names[i++] = json_object_iter_key(it);
}

const char *jg_claims_name_at(const jg_claims *claims, size_t index)
{
    if (claims == NULL)
        return NULL;
    size_t n = jg_claims_count(claims);
    if (index >= n)
        return NULL;
    /* The object is ours (never const at allocation); only the index is written. */
    jg_claims *self = (jg_claims *)claims;
    const char **names = atomic_load_explicit(&self->names, memory_order_acquire);
    if (names == NULL) {
        const char **built = malloc(n * sizeof *built);
        if (built == NULL) {
            /* No memory for the index: walk to the member instead. */
            const char *found = NULL;
            if (claims->doc != NULL) {
                const jg__jdoc *doc = claims->doc;
                uint32_t k = 1;
                for (size_t i = 0; i < index; i++)
                    k = doc->nodes[k + 1].end;
                found = jg__jdoc_str(doc, k);
            } else {
                json_t *obj = object_of(claims);
                void *it = json_object_iter(obj);
                for (size_t i = 0; i < index && it != NULL; i++)
                    it = json_object_iter_next(obj, it);
                found = it != NULL ? json_object_iter_key(it) : NULL;
            }
            return found;
        }
        collect_names(claims, built, n);
        const char **expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&self->names, &expected, built,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            names = built;
        } else {
            free((void *)built); /* another reader published first */
            names = expected;
        }
    }
    return names[index];
}

jg_err jg_claims_to_json(const jg_claims *claims, unsigned flags, char **out)
{
    if (out != NULL)
        *out = NULL; /* on every failure (jwtgate/common.h) */
    if (claims == NULL || out == NULL || (flags & ~(unsigned)JG_EXPORT_PRETTY) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    const json_t *obj = object_of(claims);
    if (obj == NULL)
        return JG_ERR_NOMEM;
    return jg__json_dump(obj, (flags & JG_EXPORT_PRETTY) != 0, out, NULL);
}
