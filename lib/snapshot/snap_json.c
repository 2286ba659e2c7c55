/*
 * snap_json.c — the JSON form of a snapshot (format 1, docs/snapshot.md):
 * compiling one into the binary form, and printing a compiled one back.
 *
 * The JSON form is the human one: hand-written by an operator, kept in git,
 * made by a test. compile(to_json(s)) has the content of s. Compiling is
 * strict where a mistake would change what a gateway allows (wrong types, a
 * subscription naming an unknown API, a repeated base_path or id) and says
 * where, in `detail`; members it does not know are ignored, as format 1's
 * readers always did.
 */
#include "jwtgate/snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "jwk/jwk_build.h"

#define MAX_DOC_LEN ((size_t)1 << 30)

static void say(char *detail, size_t detail_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *detail, size_t detail_len, const char *fmt, ...)
{
    if (!detail || !detail_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here (false positive). */
    vsnprintf(detail, detail_len, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char *const state_names[] = {"draft", "published", "deprecated", "retired"};
static const char *const binding_names[] = {"none", "dpop", "mtls", "any"};

int jg_api_binding_parse(const char *name)
{
    if (name == NULL)
        return JG_API_BIND_NONE;
    for (int k = 0; k <= JG_API_BIND_ANY; k++)
        if (strcmp(name, binding_names[k]) == 0)
            return k;
    return -1;
}

const char *jg_api_binding_name(jg_api_binding b)
{
    return (unsigned)b <= JG_API_BIND_ANY ? binding_names[b] : NULL;
}

/* ---- Compiling -------------------------------------------------------------------- */

typedef struct compiler {
    jg_snapshot_builder *b;
    char *detail;
    size_t detail_len;
    const json_t *over_quota; /* the document's array, compiled after the APIs */
} compiler;

/* A string member; NULL (absent or null) is allowed when `optional`. */
static jg_err get_string(compiler *c, const json_t *obj, const char *where, size_t i,
                         const char *name, int optional, const char **out)
{
    const json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (optional)
            return JG_OK;
        say(c->detail, c->detail_len, "%s[%zu]: \"%s\" is missing", where, i, name);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    if (!json_is_string(v)) {
        say(c->detail, c->detail_len, "%s[%zu]: \"%s\" must be a string", where, i, name);
        return JG_ERR_JSON_TYPE;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        say(c->detail, c->detail_len, "%s[%zu]: \"%s\" holds a NUL character", where, i, name);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    *out = json_string_value(v);
    return JG_OK;
}

/* A string from an array (a scope, a suspended client): no NUL inside. */
static const char *plain_string(const json_t *v)
{
    const char *s = json_string_value(v);
    return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* An integer member; null or absent is 0 when `optional`. */
static jg_err get_int(compiler *c, const json_t *obj, const char *where, const char *name,
                      int optional, int64_t *out)
{
    const json_t *v = json_object_get(obj, name);
    *out = 0;
    if (!v || json_is_null(v)) {
        if (optional)
            return JG_OK;
        say(c->detail, c->detail_len, "%s: \"%s\" is missing", where, name);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    jg_err err = jg__json_int_exact(v, out);
    if (err)
        say(c->detail, c->detail_len, "%s: \"%s\" must be an integer", where, name);
    return err;
}

/* An array member (absent: empty, when `optional`). */
static jg_err get_array(compiler *c, const json_t *obj, const char *name, int optional,
                        const json_t **out)
{
    const json_t *v = json_object_get(obj, name);
    *out = v;
    if (!v && optional)
        return JG_OK;
    if (!json_is_array(v)) {
        say(c->detail, c->detail_len, "\"%s\" must be an array", name);
        return v ? JG_ERR_JSON_TYPE : JG_ERR_SNAPSHOT_FORMAT;
    }
    return JG_OK;
}

/* A "scopes" array of strings as a malloc'd vector of borrowed pointers. */
static jg_err get_scopes(compiler *c, const json_t *obj, const char *where, size_t i,
                         const char ***out, size_t *n)
{
    const json_t *v = json_object_get(obj, "scopes");
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return JG_OK;
    if (!json_is_array(v)) {
        say(c->detail, c->detail_len, "%s[%zu]: \"scopes\" must be an array", where, i);
        return JG_ERR_JSON_TYPE;
    }
    size_t count = json_array_size(v);
    if (!count)
        return JG_OK;
    const char **vec = calloc(count, sizeof *vec);
    if (!vec)
        return JG_ERR_NOMEM;
    for (size_t k = 0; k < count; k++) {
        const json_t *s = json_array_get(v, k);
        if (!(vec[k] = plain_string(s))) {
            free(vec);
            say(c->detail, c->detail_len, "%s[%zu]: scope %zu must be a string without NUL", where,
                i, k);
            return JG_ERR_JSON_TYPE;
        }
    }
    *out = vec;
    *n = count;
    return JG_OK;
}

/* A key set member, as its compact JSON text (a private one: wiped). */
static jg_err key_text(compiler *c, const json_t *doc, const char *name, char **out, size_t *len)
{
    const json_t *v = json_object_get(doc, name);
    if (!json_is_object(v) || !json_is_array(json_object_get(v, "keys"))) {
        say(c->detail, c->detail_len, "\"%s\" must be a JWK Set ({\"keys\": [...]})", name);
        return JG_ERR_KEYSET_INVALID;
    }
    return jg__json_dump_secret(v, 0, out, len);
}

static jg_err compile_api(compiler *c, const json_t *a, size_t i)
{
    if (!json_is_object(a)) {
        say(c->detail, c->detail_len, "apis[%zu] must be an object", i);
        return JG_ERR_JSON_TYPE;
    }
    jg_snapshot_api_in in;
    memset(&in, 0, sizeof in);
    const char *state = NULL, *binding = NULL;
    jg_err err;
    if ((err = get_string(c, a, "apis", i, "id", 0, &in.id)) ||
        (err = get_string(c, a, "apis", i, "tenant_id", 1, &in.tenant_id)) ||
        (err = get_string(c, a, "apis", i, "name", 1, &in.name)) ||
        (err = get_string(c, a, "apis", i, "version", 1, &in.version)) ||
        (err = get_string(c, a, "apis", i, "base_path", 0, &in.base_path)) ||
        (err = get_string(c, a, "apis", i, "upstream", 1, &in.upstream)) ||
        (err = get_string(c, a, "apis", i, "audience", 0, &in.audience)) ||
        (err = get_string(c, a, "apis", i, "state", 0, &state)) ||
        (err = get_string(c, a, "apis", i, "require_binding", 1, &binding)) ||
        (err = get_int(c, a, "apis[]", "sunset", 1, &in.sunset)) ||
        (err = get_int(c, a, "apis[]", "deprecated_at", 1, &in.deprecated_at)))
        return err;
    int known = 0;
    for (int k = 0; k <= JG_API_RETIRED; k++)
        if (strcmp(state, state_names[k]) == 0) {
            in.state = (jg_api_state)k;
            known = 1;
        }
    if (!known) {
        say(c->detail, c->detail_len, "apis[%zu]: unknown state \"%s\"", i, state);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    int bind = jg_api_binding_parse(binding);
    if (bind < 0) {
        say(c->detail, c->detail_len, "apis[%zu]: unknown require_binding \"%s\"", i, binding);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    in.require_binding = (jg_api_binding)bind;
    const char **scopes;
    if ((err = get_scopes(c, a, "apis", i, &scopes, &in.nscopes)))
        return err;
    in.scopes = scopes;
    err = jg_snapshot_builder_add_api(c->b, &in, NULL);
    free(scopes);
    if (err == JG_ERR_INVALID_ARGUMENT) {
        say(c->detail, c->detail_len,
            "apis[%zu]: id \"%s\" or base_path \"%s\" repeats an earlier API, or is empty", i,
            in.id, in.base_path);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    return err;
}

/* `ids` maps each API's id to its index (a jansson object: its hash table). */
/* The three counters of a limits object or of one of its models. */
static jg_err limit_counters(compiler *c, const json_t *o, const char *where, int64_t out[3])
{
    static const char *const names[] = {"requests_per_minute", "tokens_per_minute",
                                        "tokens_per_day"};
    for (size_t k = 0; k < 3; k++) {
        jg_err err = get_int(c, o, where, names[k], 1, &out[k]);
        if (err)
            return err;
        if (out[k] < 0) {
            say(c->detail, c->detail_len, "%s: \"%s\" must not be negative", where, names[k]);
            return JG_ERR_SNAPSHOT_FORMAT;
        }
    }
    return JG_OK;
}

/* A weight: a number from 0 to 1000 (default 1), kept as thousandths. */
static jg_err limit_weight(compiler *c, const json_t *o, const char *where, const char *name,
                           uint32_t *milli)
{
    const json_t *v = json_object_get(o, name);
    *milli = 1000;
    if (!v || json_is_null(v))
        return JG_OK;
    double w = json_is_number(v) ? json_number_value(v) : -1;
    if (!(w >= 0 && w <= 1000)) {
        say(c->detail, c->detail_len, "%s: \"%s\" must be a number from 0 to 1000", where, name);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    *milli = (uint32_t)(w * 1000 + 0.5);
    return JG_OK;
}

/* subscriptions[i].limits: the admin API's limits object (docs/ai-gateway.md). */
static jg_err compile_limits(compiler *c, const json_t *lim, size_t i, const char *client_id,
                             uint32_t api_index)
{
    char where[64];
    snprintf(where, sizeof where, "subscriptions[%zu].limits", i);
    json_t *models = json_object_get(lim, "models"); /* not const: jansson's iterator */
    if (!json_is_object(lim) || (models && !json_is_null(models) && !json_is_object(models))) {
        say(c->detail, c->detail_len, "%s and its \"models\" must be objects", where);
        return JG_ERR_JSON_TYPE;
    }
    int64_t top[3];
    jg_snapshot_limits_in in;
    memset(&in, 0, sizeof in);
    jg_err err;
    if ((err = limit_counters(c, lim, where, top)) ||
        (err = limit_weight(c, lim, where, "input_weight", &in.input_weight_milli)) ||
        (err = limit_weight(c, lim, where, "output_weight", &in.output_weight_milli)))
        return err;
    in.requests_per_minute = top[0];
    in.tokens_per_minute = top[1];
    in.tokens_per_day = top[2];
    size_t nm = json_is_object(models) ? json_object_size(models) : 0;
    if (nm > 64) {
        say(c->detail, c->detail_len, "%s: at most 64 models", where);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    jg_snapshot_model_limits_in ms[64];
    size_t k = 0;
    for (void *it = nm ? json_object_iter(models) : NULL; it;
         it = json_object_iter_next(models, it)) {
        const char *name = json_object_iter_key(it);
        const json_t *mv = json_object_iter_value(it);
        int64_t m[3];
        if (!json_is_object(mv)) {
            say(c->detail, c->detail_len, "%s: model \"%s\" must be an object", where, name);
            return JG_ERR_JSON_TYPE;
        }
        if ((err = limit_counters(c, mv, where, m)))
            return err;
        ms[k].model = name;
        ms[k].requests_per_minute = m[0];
        ms[k].tokens_per_minute = m[1];
        ms[k].tokens_per_day = m[2];
        k++;
    }
    in.models = ms;
    in.nmodels = k;
    err = jg_snapshot_builder_set_sub_limits(c->b, client_id, api_index, &in);
    if (err == JG_ERR_INVALID_ARGUMENT) {
        say(c->detail, c->detail_len, "%s: not a valid limits object", where);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    return err;
}

static jg_err compile_sub(compiler *c, const json_t *s, size_t i, const json_t *ids)
{
    if (!json_is_object(s)) {
        say(c->detail, c->detail_len, "subscriptions[%zu] must be an object", i);
        return JG_ERR_JSON_TYPE;
    }
    const char *id, *client_id, *api_id;
    jg_err err;
    if ((err = get_string(c, s, "subscriptions", i, "id", 0, &id)) ||
        (err = get_string(c, s, "subscriptions", i, "client_id", 0, &client_id)) ||
        (err = get_string(c, s, "subscriptions", i, "api_id", 0, &api_id)))
        return err;
    const json_t *iv = json_object_get(ids, api_id);
    if (!iv) {
        say(c->detail, c->detail_len, "subscriptions[%zu]: api_id \"%s\" names no API", i, api_id);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    const char **scopes;
    size_t n;
    if ((err = get_scopes(c, s, "subscriptions", i, &scopes, &n)))
        return err;
    err = jg_snapshot_builder_add_subscription(c->b, id, client_id,
                                               (uint32_t)json_integer_value(iv), scopes, n);
    free(scopes);
    if (err == JG_ERR_INVALID_ARGUMENT) {
        say(c->detail, c->detail_len,
            "subscriptions[%zu]: a second subscription of \"%s\" to API \"%s\", or an empty "
            "client_id",
            i, client_id, api_id);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    const json_t *lim = json_object_get(s, "limits");
    if (err || !lim || json_is_null(lim))
        return err;
    return compile_limits(c, lim, i, client_id, (uint32_t)json_integer_value(iv));
}

static jg_err compile_overquota(compiler *c, const json_t *o, size_t i, const json_t *ids)
{
    if (!json_is_object(o)) {
        say(c->detail, c->detail_len, "over_quota[%zu] must be an object", i);
        return JG_ERR_JSON_TYPE;
    }
    const char *client_id, *api_id, *model;
    int64_t until;
    jg_err err;
    if ((err = get_string(c, o, "over_quota", i, "client_id", 0, &client_id)) ||
        (err = get_string(c, o, "over_quota", i, "api_id", 0, &api_id)) ||
        (err = get_string(c, o, "over_quota", i, "model", 1, &model)) ||
        (err = get_int(c, o, "over_quota[]", "until", 0, &until)))
        return err;
    const json_t *iv = json_object_get(ids, api_id);
    if (!iv) {
        say(c->detail, c->detail_len, "over_quota[%zu]: api_id \"%s\" names no API", i, api_id);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    err = jg_snapshot_builder_add_overquota(c->b, client_id, (uint32_t)json_integer_value(iv),
                                            model, until);
    if (err == JG_ERR_INVALID_ARGUMENT) {
        say(c->detail, c->detail_len, "over_quota[%zu]: an empty client_id", i);
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    return err;
}

/* The APIs, then the subscriptions and the over-quota list, which name them by id. */
static jg_err compile_apis(compiler *c, const json_t *apis, const json_t *subs)
{
    json_t *ids = json_object();
    if (!ids)
        return JG_ERR_NOMEM;
    jg_err err = JG_OK;
    for (size_t i = 0; i < json_array_size(apis) && !err; i++) {
        const json_t *a = json_array_get(apis, i);
        err = compile_api(c, a, i);
        if (!err && json_object_set_new(ids, json_string_value(json_object_get(a, "id")),
                                        json_integer((json_int_t)i)) != 0)
            err = JG_ERR_NOMEM;
    }
    for (size_t i = 0; i < json_array_size(subs) && !err; i++)
        err = compile_sub(c, json_array_get(subs, i), i, ids);
    for (size_t i = 0; i < json_array_size(c->over_quota) && !err; i++)
        err = compile_overquota(c, json_array_get(c->over_quota, i), i, ids);
    json_decref(ids);
    return err;
}

static jg_err compile_doc(compiler *c, const json_t *doc)
{
    const json_t *fmt = json_object_get(doc, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "jwtgate-snapshot") != 0) {
        say(c->detail, c->detail_len, "\"format\" must be \"jwtgate-snapshot\"");
        return JG_ERR_SNAPSHOT_FORMAT;
    }
    int64_t fv, version, generated_at, ttl;
    jg_err err;
    if ((err = get_int(c, doc, "document", "format_version", 0, &fv)))
        return err;
    if (fv != 1) {
        say(c->detail, c->detail_len, "\"format_version\" %lld: only 1 is the JSON form",
            (long long)fv);
        return JG_ERR_SNAPSHOT_VERSION;
    }
    if ((err = get_int(c, doc, "document", "version", 0, &version)) ||
        (err = get_int(c, doc, "document", "generated_at", 1, &generated_at)) ||
        (err = get_int(c, doc, "document", "token_ttl", 1, &ttl)))
        return err;
    const json_t *iss = json_object_get(doc, "issuer");
    if (!plain_string(iss)) {
        say(c->detail, c->detail_len, "\"issuer\" must be a string without NUL");
        return iss ? JG_ERR_JSON_TYPE : JG_ERR_SNAPSHOT_FORMAT;
    }
    uint8_t db_id[JG_SNAPSHOT_DB_ID_LEN], *dbp = NULL;
    const json_t *dbv = json_object_get(doc, "db_id");
    if (dbv && !json_is_null(dbv)) {
        const char *hex = json_string_value(dbv);
        if (!hex || strlen(hex) != 2 * sizeof db_id) {
            say(c->detail, c->detail_len, "\"db_id\" must be 32 hexadecimal digits");
            return JG_ERR_SNAPSHOT_FORMAT;
        }
        for (size_t i = 0; i < sizeof db_id; i++) {
            int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                say(c->detail, c->detail_len, "\"db_id\" must be 32 hexadecimal digits");
                return JG_ERR_SNAPSHOT_FORMAT;
            }
            db_id[i] = (uint8_t)(hi << 4 | lo);
        }
        dbp = db_id;
    }
    if ((err = jg_snapshot_builder_set_info(c->b, version, generated_at, ttl,
                                            json_string_value(iss), dbp)))
        return err;

    char *dec = NULL, *ver = NULL, *info = NULL;
    size_t dec_len = 0, ver_len = 0, info_len = 0;
    const json_t *keys_info = json_object_get(doc, "keys");
    if (keys_info && !json_is_array(keys_info)) {
        say(c->detail, c->detail_len, "\"keys\" must be an array");
        return JG_ERR_JSON_TYPE;
    }
    if (!(err = key_text(c, doc, "decryption_keys", &dec, &dec_len)) &&
        !(err = key_text(c, doc, "verification_keys", &ver, &ver_len)) &&
        !(err = keys_info ? jg__json_dump(keys_info, 0, &info, &info_len) : JG_OK))
        err = jg_snapshot_builder_set_keys(c->b, dec, dec_len, ver, ver_len, info, info_len);
    jg_free_secret(dec, dec_len);
    jg_free(ver);
    jg_free(info);
    if (err)
        return err;

    const json_t *llm = json_object_get(doc, "llm");
    if (llm && !json_is_null(llm)) {
        char *text = NULL;
        size_t text_len = 0;
        if (!json_is_object(llm)) {
            say(c->detail, c->detail_len, "\"llm\" must be an object");
            return JG_ERR_JSON_TYPE;
        }
        /* it holds sealed provider keys only, never plaintext: an ordinary dump */
        if ((err = jg__json_dump(llm, 0, &text, &text_len)))
            return err;
        err = jg_snapshot_builder_set_llm(c->b, text, text_len);
        jg_free(text);
        if (err)
            return err;
    }

    const json_t *apis, *subs, *revoked, *suspended;
    if ((err = get_array(c, doc, "over_quota", 1, &c->over_quota)) ||
        (err = get_array(c, doc, "apis", 1, &apis)) ||
        (err = get_array(c, doc, "subscriptions", 1, &subs)) ||
        (err = get_array(c, doc, "revoked_jti", 1, &revoked)) ||
        (err = get_array(c, doc, "suspended_clients", 1, &suspended)) ||
        (err = compile_apis(c, apis, subs)))
        return err;
    for (size_t i = 0; i < json_array_size(revoked); i++) {
        const json_t *r = json_array_get(revoked, i);
        const char *jti;
        int64_t exp;
        if (!json_is_object(r)) {
            say(c->detail, c->detail_len, "revoked_jti[%zu] must be an object", i);
            return JG_ERR_JSON_TYPE;
        }
        if ((err = get_string(c, r, "revoked_jti", i, "jti", 0, &jti)) ||
            (err = get_int(c, r, "revoked_jti[]", "exp", 0, &exp)) ||
            (err = jg_snapshot_builder_add_revoked(c->b, jti, exp)))
            return err;
    }
    for (size_t i = 0; i < json_array_size(suspended); i++) {
        const char *cid = plain_string(json_array_get(suspended, i));
        if (!cid) {
            say(c->detail, c->detail_len, "suspended_clients[%zu] must be a string without NUL", i);
            return JG_ERR_JSON_TYPE;
        }
        if ((err = jg_snapshot_builder_add_suspended(c->b, cid)))
            return err;
    }
    return JG_OK;
}

jg_err jg_snapshot_compile_json(const char *json, size_t len, uint8_t **out, size_t *out_len,
                                char *detail, size_t detail_len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    say(detail, detail_len, "%s", "");
    if (!json || !out || !out_len)
        return JG_ERR_INVALID_ARGUMENT;
    json_t *doc = NULL;
    jg_err err = jg__json_parse_object(json, len, 0, MAX_DOC_LEN, &doc);
    if (err) {
        say(detail, detail_len, "the document is not one JSON object: %s", jg_strerror(err));
        return err;
    }
    compiler c = {NULL, detail, detail_len, NULL};
    if (!(err = jg_snapshot_builder_new(&c.b)) && !(err = compile_doc(&c, doc)))
        err = jg_snapshot_builder_finish(c.b, out, out_len);
    jg_snapshot_builder_free(c.b);
    jg__jwk_json_release(doc); /* it held the private keys */
    return err;
}

/* ---- Printing --------------------------------------------------------------------- */

/* Set a member, taking the reference (jansson's _new functions take it even
 * when they fail); a NULL value is an allocation that failed. Every value
 * is put as soon as it is made, so an early return leaks nothing. */
static jg_err put(json_t *obj, const char *name, json_t *value)
{
    return value && json_object_set_new(obj, name, value) == 0 ? JG_OK : JG_ERR_NOMEM;
}

/* A snapshot string; one that is not UTF-8 (a hostile file) is a format
 * error: JSON cannot carry it. */
static json_t *str_value(jg_snap_str v, jg_err *err)
{
    json_t *j = json_stringn(v.ptr, v.len);
    *err = j ? JG_OK : JG_ERR_SNAPSHOT_FORMAT;
    return j;
}

static jg_err put_str(json_t *obj, const char *name, jg_snap_str v)
{
    jg_err err;
    json_t *j = str_value(v, &err);
    return j ? put(obj, name, j) : err;
}

static jg_err append(json_t *arr, json_t *value)
{
    return value && json_array_append_new(arr, value) == 0 ? JG_OK : JG_ERR_NOMEM;
}

/* A new empty array or object, already put under `name`. */
static json_t *put_new(json_t *obj, const char *name, json_t *value, jg_err *err)
{
    *err = put(obj, name, value);
    return *err ? NULL : value;
}

static json_t *time_json(int64_t t)
{
    return t ? json_integer(t) : json_null();
}

static jg_err put_scopes(const jg_snapshot *s, json_t *o, const jg_snap_api *api,
                         const jg_snap_sub *sub)
{
    jg_err err;
    json_t *arr = put_new(o, "scopes", json_array(), &err);
    uint32_t n = api ? api->nscopes : sub->nscopes;
    for (uint32_t i = 0; !err && i < n; i++) {
        jg_snap_str v;
        json_t *j;
        err = api ? jg_snapshot_api_scope(s, api, i, &v) : jg_snapshot_sub_scope(s, sub, i, &v);
        if (!err && (j = str_value(v, &err)))
            err = append(arr, j);
    }
    return err;
}

/* A key set's JSON text, parsed and put under `name`. */
static jg_err put_keys(json_t *doc, const char *name, jg_snap_str text)
{
    json_t *v = NULL;
    jg_err err = jg__json_parse(text.ptr, text.len, 0, 0, &v);
    if (err)
        return err == JG_ERR_NOMEM ? err : JG_ERR_SNAPSHOT_FORMAT;
    return put(doc, name, v);
}

static jg_err put_api(const jg_snapshot *s, json_t *apis, uint32_t i)
{
    jg_snap_api a;
    jg_err err;
    json_t *o = json_object();
    if ((err = append(apis, o)) || (err = jg_snapshot_api(s, i, &a)) ||
        (err = put_scopes(s, o, &a, NULL)) || (err = put_str(o, "id", a.id)) ||
        (err = put_str(o, "tenant_id", a.tenant_id)) || (err = put_str(o, "name", a.name)) ||
        (err = put_str(o, "version", a.version)) || (err = put_str(o, "base_path", a.base_path)) ||
        (err = put_str(o, "upstream", a.upstream)) || (err = put_str(o, "audience", a.audience)) ||
        (err = put(o, "state", json_string(state_names[a.state]))) ||
        (a.require_binding != JG_API_BIND_NONE &&
         (err = put(o, "require_binding", json_string(jg_api_binding_name(a.require_binding))))) ||
        (err = put(o, "sunset", time_json(a.sunset))) ||
        (err = put(o, "deprecated_at", time_json(a.deprecated_at))))
        return err;
    return JG_OK;
}

/* A weight in thousandths as the admin API writes it: 1, 0.5, 2.25. */
static json_t *weight_json(uint32_t milli)
{
    return milli % 1000 == 0 ? json_integer(milli / 1000) : json_real(milli / 1000.0);
}

static jg_err put_counters(json_t *o, int64_t rpm, int64_t tpm, int64_t tpd)
{
    jg_err err = JG_OK;
    if ((rpm && (err = put(o, "requests_per_minute", json_integer(rpm)))) ||
        (tpm && (err = put(o, "tokens_per_minute", json_integer(tpm)))) ||
        (tpd && (err = put(o, "tokens_per_day", json_integer(tpd)))))
        return err;
    return JG_OK;
}

static jg_err put_limits(const jg_snapshot *s, json_t *o, const jg_snap_sub *sub)
{
    jg_snap_limits l;
    jg_err err = jg_snapshot_sub_limits(s, sub, &l);
    if (err == JG_ERR_NOT_FOUND)
        return JG_OK;
    json_t *lo = err ? NULL : put_new(o, "limits", json_object(), &err), *mo;
    if (err ||
        (err = put_counters(lo, l.requests_per_minute, l.tokens_per_minute, l.tokens_per_day)) ||
        (err = put(lo, "input_weight", weight_json(l.input_weight_milli))) ||
        (err = put(lo, "output_weight", weight_json(l.output_weight_milli))))
        return err;
    if (!l.nmodels || !(mo = put_new(lo, "models", json_object(), &err)))
        return err;
    for (uint32_t i = 0; i < l.nmodels; i++) {
        jg_snap_model_limits m;
        json_t *one = json_object();
        if ((err = jg_snapshot_limits_model_at(s, &l, i, &m)) ||
            (err =
                 put_counters(one, m.requests_per_minute, m.tokens_per_minute, m.tokens_per_day))) {
            json_decref(one);
            return err;
        }
        /* a model name is printable ASCII from the admin API; a hostile file's NUL fails */
        if (!one || strlen(m.model.ptr) != m.model.len ||
            json_object_setn_new(mo, m.model.ptr, m.model.len, one) != 0)
            return one ? JG_ERR_SNAPSHOT_FORMAT : JG_ERR_NOMEM;
    }
    return JG_OK;
}

static jg_err put_overquota(const jg_snapshot *s, json_t *arr, uint32_t i)
{
    jg_snap_str cid, model;
    uint32_t api_index;
    int64_t until;
    jg_snap_api a;
    jg_err err;
    json_t *o = json_object();
    if ((err = append(arr, o)) ||
        (err = jg_snapshot_overquota_at(s, i, &cid, &api_index, &model, &until)) ||
        (err = jg_snapshot_api(s, api_index, &a)) || (err = put_str(o, "client_id", cid)) ||
        (err = put_str(o, "api_id", a.id)) || (model.len && (err = put_str(o, "model", model))) ||
        (err = put(o, "until", json_integer(until))))
        return err;
    return JG_OK;
}

static jg_err put_sub(const jg_snapshot *s, json_t *subs, uint32_t i)
{
    jg_snap_sub sub;
    jg_snap_api a;
    jg_err err;
    json_t *o = json_object();
    if ((err = append(subs, o)) || (err = jg_snapshot_subscription_at(s, i, &sub)) ||
        (err = jg_snapshot_api(s, sub.api_index, &a)) || (err = put_scopes(s, o, NULL, &sub)) ||
        (err = put_str(o, "id", sub.id)) || (err = put_str(o, "client_id", sub.client_id)) ||
        (err = put_str(o, "api_id", a.id)) || (err = put_str(o, "audience", a.audience)))
        return err;
    return put_limits(s, o, &sub);
}

static jg_err put_revoked(const jg_snapshot *s, json_t *rev, uint32_t i)
{
    jg_snap_str jti;
    int64_t exp;
    jg_err err;
    json_t *o = json_object();
    if ((err = append(rev, o)) || (err = jg_snapshot_revoked_at(s, i, &jti, &exp)) ||
        (err = put_str(o, "jti", jti)) || (err = put(o, "exp", json_integer(exp))))
        return err;
    return JG_OK;
}

static jg_err build_doc(const jg_snapshot *s, json_t *doc)
{
    jg_snapshot_info info;
    jg_snap_str dec, ver, kinfo;
    jg_err err;
    if ((err = jg_snapshot_get_info(s, &info)) || (err = jg_snapshot_keys(s, &dec, &ver, &kinfo)) ||
        (err = put_keys(doc, "decryption_keys", dec)) ||
        (err = put_keys(doc, "verification_keys", ver)) || (err = put_keys(doc, "keys", kinfo)) ||
        (err = put(doc, "format", json_string("jwtgate-snapshot"))) ||
        (err = put(doc, "format_version", json_integer(1))) ||
        (err = put(doc, "version", json_integer(info.version))) ||
        (err = put(doc, "generated_at", json_integer(info.generated_at))) ||
        (err = put(doc, "token_ttl", json_integer(info.token_ttl))) ||
        (err = put_str(doc, "issuer", info.issuer)))
        return err;
    static const uint8_t zero[JG_SNAPSHOT_DB_ID_LEN];
    if (memcmp(info.db_id, zero, sizeof zero) != 0) {
        char hex[2 * JG_SNAPSHOT_DB_ID_LEN + 1];
        for (size_t i = 0; i < sizeof info.db_id; i++)
            snprintf(hex + 2 * i, 3, "%02x", info.db_id[i]);
        if ((err = put(doc, "db_id", json_string(hex))))
            return err;
    }
    json_t *apis, *subs, *rev, *sus;
    if (!(apis = put_new(doc, "apis", json_array(), &err)) ||
        !(subs = put_new(doc, "subscriptions", json_array(), &err)) ||
        !(rev = put_new(doc, "revoked_jti", json_array(), &err)) ||
        !(sus = put_new(doc, "suspended_clients", json_array(), &err)))
        return err;
    for (uint32_t i = 0; !err && i < info.apis; i++)
        err = put_api(s, apis, i);
    for (uint32_t i = 0; !err && i < info.subscriptions; i++)
        err = put_sub(s, subs, i);
    for (uint32_t i = 0; !err && i < info.revoked; i++)
        err = put_revoked(s, rev, i);
    for (uint32_t i = 0; !err && i < info.suspended; i++) {
        jg_snap_str cid;
        json_t *j;
        if (!(err = jg_snapshot_suspended_at(s, i, &cid)) && (j = str_value(cid, &err)))
            err = append(sus, j);
    }
    /* the LLM members only when there is something: older documents stay as they were */
    json_t *oq;
    if (!err && info.over_quota && (oq = put_new(doc, "over_quota", json_array(), &err)))
        for (uint32_t i = 0; !err && i < info.over_quota; i++)
            err = put_overquota(s, oq, i);
    jg_snap_str llm;
    if (!err && !(err = jg_snapshot_llm(s, &llm)) && llm.len)
        err = put_keys(doc, "llm", llm);
    return err;
}

jg_err jg_snapshot_to_json(const jg_snapshot *s, int pretty, char **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!s || !out)
        return JG_ERR_INVALID_ARGUMENT;
    json_t *doc = json_object();
    if (!doc)
        return JG_ERR_NOMEM;
    jg_err err = build_doc(s, doc);
    size_t n = 0;
    if (!err)
        err = jg__json_dump_secret(doc, pretty, out, &n);
    if (len)
        *len = n;
    jg__jwk_json_release(doc);
    return err;
}
