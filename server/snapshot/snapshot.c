/* snapshot.c — serialise the view for the gateway and replace the file atomically. */
#include "server/snapshot/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

long long snapshot_file_version(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
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
    size_t len = 0;
    char *text = sv_buf_take(&b, &len);
    if (text == NULL)
        return -1;

    const char *path = d->cfg.snapshot_path;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    char *dir = strdup(path);
    int rc = -1, fd = -1;
    if (tmp == NULL || dir == NULL)
        goto out;
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        log_msg(L_ERR, "snapshot: cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        log_msg(L_ERR, "snapshot: cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        log_msg(L_ERR, "snapshot: cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    /* Make the rename itself durable. */
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    atomic_store(&d->published_version, (long long)v->version);
    rc = 0;
out:
    jg_free_secret(text, len);
    free(tmp);
    free(dir);
    return rc;
}
