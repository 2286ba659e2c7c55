/* snapshot.c — serialise the view for the gateway and replace the file atomically. */
#include "server/snapshot/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/json.h" /* the one library-internal header the daemon uses: see HACKING.md */
#include "server/core/log.h"
#include "server/core/util.h"
#include "server/core/view.h"

static json_t *public_part(const struct view *v)
{
    json_t *apis = json_array(), *revoked = json_array(), *suspended = json_array();
    json_t *keys = json_array();
    size_t i;
    json_t *row;
    json_array_foreach (v->apis, i, row) {
        json_array_append_new(
            apis,
            json_pack("{sO sO sO sO sO sO sO sO sO sO sO?}", "id", json_object_get(row, "id"),
                      "tenant_id", json_object_get(row, "tenant_id"), "name",
                      json_object_get(row, "name"), "version", json_object_get(row, "version"),
                      "base_path", json_object_get(row, "base_path"), "upstream",
                      json_object_get(row, "upstream"), "audience",
                      json_object_get(row, "audience"), "scopes", json_object_get(row, "scopes"),
                      "state", json_object_get(row, "state"), "sunset",
                      json_object_get(row, "sunset"), "deprecated_at",
                      json_object_get(row, "deprecated_at")));
    }
    const char *jti;
    json_t *exp;
    json_object_foreach (v->revoked, jti, exp)
        json_array_append_new(revoked, json_pack("{ss sO}", "jti", jti, "exp", exp));
    const char *client_id;
    json_t *c;
    json_object_foreach (v->clients, client_id, c) {
        if (json_is_true(json_object_get(c, "suspended")))
            json_array_append_new(suspended, json_string(client_id));
    }
    json_array_foreach (v->key_rows, i, row) {
        json_array_append_new(keys, json_pack("{sO sO sO sO}", "kid", json_object_get(row, "id"),
                                              "purpose", json_object_get(row, "purpose"), "alg",
                                              json_object_get(row, "alg"), "state",
                                              json_object_get(row, "state")));
    }
    json_t *verify = json_loadb(v->jwks_json, v->jwks_len, 0, NULL);
    return json_pack("{ss si sI sI so so so sO so so}", "format", "jwtgate-snapshot",
                     "format_version", SNAPSHOT_FORMAT_VERSION, "version", (json_int_t)v->version,
                     "generated_at", (json_int_t)v->built_at, "keys", keys, "verification_keys",
                     verify, "apis", apis, "subscriptions", v->subscriptions, "revoked_jti",
                     revoked, "suspended_clients", suspended);
}

long long snapshot_file_version(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    jg_snapshot *s = NULL;
    jg_err err = jg_snapshot_open(path, NULL, &s);
    if (err == JG_OK) {
        jg_snapshot_info info;
        long long version = jg_snapshot_get_info(s, &info) == JG_OK ? (long long)info.version : -1;
        jg_snapshot_close(s);
        return version;
    }
    if (err != JG_ERR_SNAPSHOT_FORMAT)
        return -1; /* a compiled file that is torn, or unreadable */
    /* not compiled: a JSON snapshot (format 1: --snapshot-format json, or
     * written before an upgrade) */
    json_error_t e;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    const json_t *v = json_object_get(doc, "version");
    long long version = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
    /* The document holds private keys: wipe them from jansson's copy. */
    const json_t *keys = json_object_get(json_object_get(doc, "decryption_keys"), "keys");
    size_t i;
    json_t *k;
    json_array_foreach (keys, i, k) {
        const char *name;
        json_t *member;
        json_object_foreach (k, name, member)
            jg__json_wipe_string(member);
    }
    json_decref(doc);
    return version;
}

/* The view's snapshot in the compiled form (format 2, jwtgate/snapshot.h),
 * fed to the builder straight from the view: no JSON document is made. */
static int build_compiled(jgd *d, const struct view *v, uint8_t **out, size_t *out_len)
{
    jg_snapshot_builder *b = NULL;
    json_t *index = json_object(); /* API id -> index, for the subscriptions */
    char *info = NULL;
    const char **scopes = NULL;
    int rc = -1;
    if (index == NULL || jg_snapshot_builder_new(&b) != JG_OK)
        goto out;

    json_t *keys = json_array();
    size_t i;
    json_t *row;
    json_array_foreach (v->key_rows, i, row) {
        json_array_append_new(keys, json_pack("{sO sO sO sO}", "kid", json_object_get(row, "id"),
                                              "purpose", json_object_get(row, "purpose"), "alg",
                                              json_object_get(row, "alg"), "state",
                                              json_object_get(row, "state")));
    }
    info = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);
    if (info == NULL ||
        jg_snapshot_builder_set_info(b, v->version, v->built_at, d->cfg.token_ttl, d->cfg.issuer,
                                     NULL) != JG_OK ||
        jg_snapshot_builder_set_keys(b, v->decrypt_jwks, strlen(v->decrypt_jwks), v->jwks_json,
                                     v->jwks_len, info, strlen(info)) != JG_OK)
        goto out;

    static const char *const states[] = {"draft", "published", "deprecated", "retired"};
    json_array_foreach (v->apis, i, row) {
        const json_t *sc = json_object_get(row, "scopes");
        size_t n = json_array_size(sc);
        free(scopes);
        scopes = calloc(n ? n : 1, sizeof *scopes);
        if (scopes == NULL)
            goto out;
        for (size_t k = 0; k < n; k++)
            scopes[k] = json_string_value(json_array_get(sc, k));
        const char *state = json_string_value(json_object_get(row, "state"));
        jg_snapshot_api_in in = {.id = json_string_value(json_object_get(row, "id")),
                                 .tenant_id = json_string_value(json_object_get(row, "tenant_id")),
                                 .name = json_string_value(json_object_get(row, "name")),
                                 .version = json_string_value(json_object_get(row, "version")),
                                 .base_path = json_string_value(json_object_get(row, "base_path")),
                                 .upstream = json_string_value(json_object_get(row, "upstream")),
                                 .audience = json_string_value(json_object_get(row, "audience")),
                                 .state = JG_API_DRAFT,
                                 .sunset = json_integer_value(json_object_get(row, "sunset")),
                                 .deprecated_at =
                                     json_integer_value(json_object_get(row, "deprecated_at")),
                                 .scopes = scopes,
                                 .nscopes = n};
        for (int k = 0; k < 4; k++)
            if (state != NULL && strcmp(state, states[k]) == 0)
                in.state = (jg_api_state)k;
        uint32_t at = 0;
        jg_err err = jg_snapshot_builder_add_api(b, &in, &at);
        if (err != JG_OK) {
            log_msg(L_ERR, "snapshot: API %s: %s", in.id ? in.id : "?", jg_strerror(err));
            goto out;
        }
        json_object_set_new(index, in.id, json_integer(at));
    }
    json_array_foreach (v->subscriptions, i, row) {
        const json_t *at =
            json_object_get(index, json_string_value(json_object_get(row, "api_id")));
        const json_t *sc = json_object_get(row, "scopes");
        size_t n = json_array_size(sc);
        if (at == NULL)
            continue; /* its API is not in the view: nothing to subscribe to */
        free(scopes);
        scopes = calloc(n ? n : 1, sizeof *scopes);
        if (scopes == NULL)
            goto out;
        for (size_t k = 0; k < n; k++)
            scopes[k] = json_string_value(json_array_get(sc, k));
        if (jg_snapshot_builder_add_subscription(
                b, json_string_value(json_object_get(row, "id")),
                json_string_value(json_object_get(row, "client_id")),
                (uint32_t)json_integer_value(at), scopes, n) != JG_OK)
            goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach (v->revoked, key, val) {
        if (jg_snapshot_builder_add_revoked(b, key, json_integer_value(val)) != JG_OK)
            goto out;
    }
    json_object_foreach (v->clients, key, val) {
        if (json_is_true(json_object_get(val, "suspended")) &&
            jg_snapshot_builder_add_suspended(b, key) != JG_OK)
            goto out;
    }
    rc = jg_snapshot_builder_finish(b, out, out_len) == JG_OK ? 0 : -1;
out:
    if (rc != 0)
        log_msg(L_ERR, "snapshot: cannot build the compiled snapshot");
    jg_snapshot_builder_free(b);
    json_decref(index);
    free(scopes);
    free(info);
    return rc;
}

/* The view's snapshot as the JSON document (format 1, --snapshot-format json). */
static int build_json(jgd *d, const struct view *v, uint8_t **out, size_t *out_len)
{
    json_t *doc = public_part(v);
    if (doc == NULL || json_object_set_new(doc, "issuer", json_string(d->cfg.issuer)) != 0 ||
        json_object_set_new(doc, "token_ttl", json_integer(d->cfg.token_ttl)) != 0) {
        json_decref(doc);
        log_msg(L_ERR, "snapshot: cannot build the document");
        return -1;
    }
    char *pub = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (pub == NULL)
        return -1;
    /* The private decryption keys are spliced in as text, so that no
     * intermediate JSON tree holds them. */
    sv_buf b = {0};
    sv_buf_puts(&b, "{\"decryption_keys\":");
    sv_buf_puts(&b, v->decrypt_jwks);
    sv_buf_puts(&b, ",");
    sv_buf_puts(&b, pub + 1);
    sv_buf_puts(&b, "\n");
    free(pub);
    *out = (uint8_t *)sv_buf_take(&b, out_len);
    return *out != NULL ? 0 : -1;
}

int snapshot_write(jgd *d, const struct view *v)
{
    long long published = atomic_load(&d->published_version);
    if (v->version < published) {
        if (!atomic_exchange(&d->snapshot_older, 1))
            log_msg(L_ERR,
                    "snapshot: the database (version %lld) is older than the published snapshot"
                    " (version %lld); not replacing it. Was the database restored by hand? Stop"
                    " jwtgated and use \"jwtgated restore --from FILE\" (docs/jwtgated.md)",
                    (long long)v->version, published);
        return -2;
    }
    atomic_store(&d->snapshot_older, 0);
    uint8_t *data = NULL;
    size_t len = 0;
    if ((d->cfg.snapshot_format == SNAPSHOT_COMPILED ? build_compiled(d, v, &data, &len)
                                                     : build_json(d, v, &data, &len)) != 0)
        return -1;
    /* One atomic writer for both forms: the library's (temporary file in the
     * same directory, mode 0600, fsync, rename, fsync of the directory). */
    jg_err err = jg_snapshot_write_file(d->cfg.snapshot_path, data, len);
    int saved = errno;
    jg_free_secret(data, len);
    if (err != JG_OK) {
        log_msg(L_ERR, "snapshot: cannot write %s: %s", d->cfg.snapshot_path, strerror(saved));
        return -1;
    }
    atomic_store(&d->published_version, (long long)v->version);
    return 0;
}
