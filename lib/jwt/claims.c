/*
 * claims.c — the jg_claims object (include/jwtgate/jwt.h): a thin wrapper
 * over a jansson object that keeps the registered claims well typed, so
 * validation and callers can rely on them (see claims_internal.h).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "jwt/claims_internal.h"

struct jg_claims {
    json_t *obj;
    /*
     * Member names in iteration order, built on the first jg_claims_name_at()
     * so iterating is linear rather than quadratic. Readers may race to
     * build it, so it is published with a compare-and-swap; every change to
     * the claims (never concurrent with readers) drops it.
     */
    _Atomic(const char **) names;
};

/* ---- Helpers ------------------------------------------------------------- */

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF. */
int jg__utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += n + 1;
    }
    return 1;
}

static int str_valid(const char *s)
{
    return s != NULL && jg__utf8_valid(s, strlen(s));
}

static void names_reset(jg_claims *claims)
{
    const char **names = atomic_exchange_explicit(&claims->names, NULL, memory_order_acq_rel);
    free((void *)names);
}

static jg_claims *claims_wrap(json_t *obj)
{
    jg_claims *claims = malloc(sizeof *claims);
    if (claims == NULL)
        return NULL;
    claims->obj = obj;
    atomic_init(&claims->names, NULL);
    return claims;
}

const json_t *jg__claims_object(const jg_claims *claims)
{
    return claims != NULL ? claims->obj : NULL;
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

/* Add or replace `name`; takes ownership of `value` whatever happens. */
static jg_err set_member(jg_claims *claims, const char *name, json_t *value)
{
    if (value == NULL)
        return JG_ERR_NOMEM;
    jg_err err = jg__claim_type_check(name, value);
    if (err != JG_OK) {
        json_decref(value);
        return err;
    }
    names_reset(claims);
    /* The name is already known to be valid UTF-8, so -1 means no memory. */
    if (json_object_set_new_nocheck(claims->obj, name, value) != 0)
        return JG_ERR_NOMEM;
    return JG_OK;
}

static const json_t *member(const jg_claims *claims, const char *name)
{
    return json_object_get(claims->obj, name);
}

/* ---- Lifetime -------------------------------------------------------------- */

jg_err jg_claims_new(jg_claims **out)
{
    if (out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    json_t *obj = json_object();
    if (obj == NULL)
        return JG_ERR_NOMEM;
    jg_claims *claims = claims_wrap(obj);
    if (claims == NULL) {
        json_decref(obj);
        return JG_ERR_NOMEM;
    }
    *out = claims;
    return JG_OK;
}

jg_err jg_claims_parse(const char *json, size_t len, const jg_limits *limits, jg_claims **out)
{
    if (json == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    jg_limits defaults;
    if (limits == NULL) {
        defaults = jg_limits_default();
        limits = &defaults;
    }
    json_t *obj = NULL;
    jg_err err =
        jg__json_parse_object(json, len, limits->max_json_depth, limits->max_payload_len, &obj);
    if (err == JG_ERR_JSON_NOT_OBJECT)
        return JG_ERR_CLAIMS_INVALID;
    if (err != JG_OK)
        return err;
    err = check_object(obj);
    if (err != JG_OK) {
        json_decref(obj);
        return err;
    }
    jg_claims *claims = claims_wrap(obj);
    if (claims == NULL) {
        json_decref(obj);
        return JG_ERR_NOMEM;
    }
    *out = claims;
    return JG_OK;
}

void jg_claims_free(jg_claims *claims)
{
    if (claims == NULL)
        return;
    names_reset(claims);
    json_decref(claims->obj);
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
    if (err == JG_OK) {
        names_reset(claims);
        if (json_object_update(claims->obj, obj) != 0)
            err = JG_ERR_NOMEM;
    }
    json_decref(obj);
    return err;
}

jg_err jg_claims_remove(jg_claims *claims, const char *name)
{
    if (claims == NULL || name == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    if (json_object_get(claims->obj, name) == NULL)
        return JG_ERR_CLAIM_MISSING;
    names_reset(claims);
    json_object_del(claims->obj, name);
    return JG_OK;
}

/* ---- Accessors ---------------------------------------------------------------- */

int jg_claims_has(const jg_claims *claims, const char *name)
{
    return claims != NULL && name != NULL && member(claims, name) != NULL;
}

jg_err jg_claims_get_string(const jg_claims *claims, const char *name, const char **out)
{
    if (claims == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
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
    const json_t *value = member(claims, name);
    if (value == NULL)
        return JG_ERR_CLAIM_MISSING;
    int64_t v;
    if (jg__json_int_exact(value, &v) != JG_OK)
        return JG_ERR_CLAIM_TYPE;
    *out = v;
    return JG_OK;
}

jg_err jg_claims_get_bool(const jg_claims *claims, const char *name, int *out)
{
    if (claims == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
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
    if (claims == NULL || name == NULL || out == NULL)
        return JG_ERR_INVALID_ARGUMENT;
    const json_t *value = member(claims, name);
    if (value == NULL)
        return JG_ERR_CLAIM_MISSING;
    return jg__json_dump(value, 0, out, NULL);
}

size_t jg_claims_aud_count(const jg_claims *claims)
{
    if (claims == NULL)
        return 0;
    const json_t *aud = member(claims, "aud");
    if (json_is_string(aud))
        return 1;
    return json_is_array(aud) ? json_array_size(aud) : 0;
}

const char *jg_claims_aud_at(const jg_claims *claims, size_t index)
{
    if (claims == NULL)
        return NULL;
    const json_t *aud = member(claims, "aud");
    if (json_is_string(aud))
        return index == 0 ? json_string_value(aud) : NULL;
    /* json_string_value() is NULL for anything but a string. */
    return json_is_array(aud) ? json_string_value(json_array_get(aud, index)) : NULL;
}

size_t jg_claims_count(const jg_claims *claims)
{
    return claims != NULL ? json_object_size(claims->obj) : 0;
}

const char *jg_claims_name_at(const jg_claims *claims, size_t index)
{
    if (claims == NULL)
        return NULL;
    size_t n = json_object_size(claims->obj);
    if (index >= n)
        return NULL;
    /* The object is ours (never const at allocation); only the index is written. */
    jg_claims *self = (jg_claims *)claims;
    const char **names = atomic_load_explicit(&self->names, memory_order_acquire);
    if (names == NULL) {
        const char **built = malloc(n * sizeof *built);
        if (built == NULL) {
            /* No memory for the index: walk to the member instead. */
            void *it = json_object_iter(self->obj);
            for (size_t i = 0; i < index && it != NULL; i++)
                it = json_object_iter_next(self->obj, it);
            return it != NULL ? json_object_iter_key(it) : NULL;
        }
        size_t i = 0;
        for (void *it = json_object_iter(self->obj); it != NULL && i < n;
             it = json_object_iter_next(self->obj, it))
            built[i++] = json_object_iter_key(it);
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
    if (claims == NULL || out == NULL || (flags & ~(unsigned)JG_EXPORT_PRETTY) != 0)
        return JG_ERR_INVALID_ARGUMENT;
    return jg__json_dump(claims->obj, (flags & JG_EXPORT_PRETTY) != 0, out, NULL);
}
