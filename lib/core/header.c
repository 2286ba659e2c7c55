/* header.c — "crit" and header-disjointness rules shared by JWS and JWE. */
#include "core/header.h"

#include "core/json.h"

#include <string.h>

/* Header parameter names registered by RFC 7515, 7516 and 7518: extensions
 * may not be named in "crit" with these (RFC 7515 section 4.1.11). */
static const char *const registered_names[] = {
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
    "enc", "zip", "epk", "apu", "apv", "iv",  "tag", "p2s",      "p2c", NULL};

static int in_list(const char *const *list, const char *name)
{
    for (; list != NULL && *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

jg_err jg__crit_check(const json_t *protected_hdr, const json_t *const *unprotected,
                      size_t n_unprotected, const char *const *library_understood,
                      const char *const *caller_understood)
{
    for (size_t i = 0; i < n_unprotected; i++)
        if (unprotected[i] != NULL && json_object_get(unprotected[i], "crit") != NULL)
            return JG_ERR_CRIT_UNPROTECTED;
    if (protected_hdr == NULL)
        return JG_OK;
    json_t *crit = json_object_get(protected_hdr, "crit");
    if (crit == NULL)
        return JG_OK;
    if (!json_is_array(crit) || json_array_size(crit) == 0)
        return JG_ERR_CRIT_INVALID;

    size_t n = json_array_size(crit);
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(crit, i);
        if (!json_is_string(item))
            return JG_ERR_CRIT_INVALID;
        const char *name = json_string_value(item);
        for (size_t j = 0; j < i; j++)
            if (strcmp(name, json_string_value(json_array_get(crit, j))) == 0)
                return JG_ERR_CRIT_INVALID;
        if (in_list(registered_names, name))
            return JG_ERR_CRIT_INVALID;
        if (json_object_get(protected_hdr, name) == NULL)
            return JG_ERR_CRIT_INVALID;
    }
    /* Only a well-formed list is judged for understanding, so a malformed
     * one gets CRIT_INVALID wherever its fault is. */
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(crit, i));
        if (!in_list(library_understood, name) && !in_list(caller_understood, name))
            return JG_ERR_CRIT_UNKNOWN;
    }
    return JG_OK;
}

const char *jg__crit_unknown_name(const json_t *protected_hdr,
                                  const char *const *library_understood,
                                  const char *const *caller_understood)
{
    const json_t *crit = protected_hdr != NULL ? json_object_get(protected_hdr, "crit") : NULL;
    for (size_t i = 0; i < json_array_size(crit); i++) {
        const char *name = json_string_value(json_array_get(crit, i));
        if (name != NULL && !in_list(library_understood, name) && !in_list(caller_understood, name))
            return name;
    }
    return NULL;
}

jg_err jg__header_disjoint(const json_t *a, const json_t *b)
{
    const char *name;
    json_t *value;

    if (a == NULL || b == NULL)
        return JG_OK;
    /* Iterate the smaller object; lookups in the other are hashed. */
    if (json_object_size(a) > json_object_size(b)) {
        const json_t *t = a;
        a = b;
        b = t;
    }
    json_object_foreach ((json_t *)a, name, value) {
        (void)value;
        if (json_object_get(b, name) != NULL)
            return JG_ERR_HEADER_DUPLICATE;
    }
    return JG_OK;
}

jg_err jg__header_string(const json_t *const *headers, size_t n, const char *name, const char **out)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = headers[i] != NULL ? json_object_get(headers[i], name) : NULL;
        if (v == NULL)
            continue;
        if (!json_is_string(v))
            return JG_ERR_JSON_TYPE;
        *out = json_string_value(v);
        return JG_OK;
    }
    return JG_ERR_CLAIM_MISSING;
}

jg_err jg__header_dump(const json_t *header, char **out)
{
    if (header != NULL)
        return jg__json_dump(header, 0, out, NULL);
    json_t *empty = json_object();
    if (empty == NULL)
        return JG_ERR_NOMEM;
    jg_err err = jg__json_dump(empty, 0, out, NULL);
    json_decref(empty);
    return err;
}

jg_err jg__crit_check_jdoc(jg__jhdr protected_hdr, const jg__jhdr *unprotected,
                           size_t n_unprotected, const char *const *library_understood,
                           const char *const *caller_understood)
{
    for (size_t i = 0; i < n_unprotected; i++)
        if (jg__jhdr_get(unprotected[i], "crit") != 0)
            return JG_ERR_CRIT_UNPROTECTED;
    uint32_t crit = jg__jhdr_get(protected_hdr, "crit");
    if (crit == 0)
        return JG_OK;
    const jg__jdoc *doc = protected_hdr.doc;
    const jg__jnode *nodes = doc->nodes;
    if (nodes[crit].type != JG__J_ARRAY || nodes[crit].len == 0)
        return JG_ERR_CRIT_INVALID;

    /* Elements of an array follow it; each ends where the next begins. */
    for (uint32_t k = crit + 1; k < nodes[crit].end; k = nodes[k].end) {
        if (nodes[k].type != JG__J_STRING)
            return JG_ERR_CRIT_INVALID;
        const char *name = doc->pool + nodes[k].str;
        for (uint32_t j = crit + 1; j < k; j = nodes[j].end)
            if (strcmp(name, doc->pool + nodes[j].str) == 0)
                return JG_ERR_CRIT_INVALID;
        if (in_list(registered_names, name))
            return JG_ERR_CRIT_INVALID;
        if (jg__jhdr_get(protected_hdr, name) == 0)
            return JG_ERR_CRIT_INVALID;
    }
    for (uint32_t k = crit + 1; k < nodes[crit].end; k = nodes[k].end) {
        const char *name = doc->pool + nodes[k].str;
        if (!in_list(library_understood, name) && !in_list(caller_understood, name))
            return JG_ERR_CRIT_UNKNOWN;
    }
    return JG_OK;
}

const char *jg__crit_unknown_name_jdoc(jg__jhdr protected_hdr,
                                       const char *const *library_understood,
                                       const char *const *caller_understood)
{
    uint32_t crit = jg__jhdr_get(protected_hdr, "crit");
    if (crit == 0)
        return NULL;
    const jg__jdoc *doc = protected_hdr.doc;
    const jg__jnode *nodes = doc->nodes;
    if (nodes[crit].type != JG__J_ARRAY)
        return NULL;
    for (uint32_t k = crit + 1; k < nodes[crit].end; k = nodes[k].end) {
        if (nodes[k].type != JG__J_STRING)
            continue;
        const char *name = doc->pool + nodes[k].str;
        if (!in_list(library_understood, name) && !in_list(caller_understood, name))
            return name;
    }
    return NULL;
}

jg_err jg__header_disjoint_jdoc(jg__jhdr a, jg__jhdr b)
{
    if (a.doc == NULL || b.doc == NULL)
        return JG_OK;
    int shared = jg__jdoc_share_name(a.doc, a.obj, b.doc, b.obj);
    return shared < 0 ? JG_ERR_NOMEM : shared ? JG_ERR_HEADER_DUPLICATE : JG_OK;
}

jg_err jg__header_string_jdoc(const jg__jhdr *headers, size_t n, const char *name, const char **out)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v = jg__jhdr_get(headers[i], name);
        if (v == 0)
            continue;
        const char *s = jg__jdoc_str(headers[i].doc, v);
        if (s == NULL)
            return JG_ERR_JSON_TYPE;
        *out = s;
        return JG_OK;
    }
    return JG_ERR_CLAIM_MISSING;
}
