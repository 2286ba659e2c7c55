/* keys.c — key generation (sealed under the master key) and rotation. */
#include "server/keys/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/core/log.h"
#include "server/core/masterkey.h"
#include "server/core/util.h"

const char *key_purpose_name(key_purpose p)
{
    return p == KEY_SIGNING ? "signing" : p == KEY_ENCRYPTION ? "encryption" : "secrets";
}

/* A new gateway secrets key in state "next": 256 random bits, a random kid
 * (a thumbprint of an oct key would be a hash of the secret). */
static int generate_secrets(change *c, char *why, size_t why_len)
{
    jg_jwk *key = NULL;
    char *priv_json = NULL, *sealed = NULL;
    json_t *row = NULL;
    int rc = -1;
    char *kid = sv_new_id("gsk_", 12);
    jg_err err = kid != NULL ? jg_jwk_generate_for_alg(JG_ALG_DIR, JG_CRV_NONE, 256, kid, &key)
                             : JG_ERR_NOMEM;
    if (err == JG_OK)
        err = jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &priv_json, NULL);
    if (err != JG_OK) {
        snprintf(why, why_len, "key generation: %s", jg_strerror(err));
        goto out;
    }
    if (masterkey_seal(c->d->master, kid, priv_json, &sealed) != 0) {
        snprintf(why, why_len, "cannot seal the new key under the master key");
        goto out;
    }
    row = json_pack("{ss ss ss ss s{ss ss ss ss ss} ss sI}", "id", kid, "purpose", "secrets", "alg",
                    "dir", "state", "next", "public_jwk", "kty", "oct", "kid", kid, "alg", "dir",
                    "enc", "A256GCM", "use", "enc", "private_jwe", sealed, "created_at",
                    (json_int_t)c->now);
    if (row == NULL || st_insert(c->tx, T_KEYS, row) != ST_OK ||
        change_audit(c, "key.create", NULL, kid, NULL, row) != ST_OK) {
        snprintf(why, why_len, "cannot store the new key");
        goto out;
    }
    rc = 0;
out:
    json_decref(row);
    jg_free(sealed);
    if (priv_json != NULL)
        jg_free_secret(priv_json, 0);
    jg_jwk_free(key);
    free(kid);
    return rc;
}

/* A new key row in state "next". */
static int generate(change *c, key_purpose purpose, jg_alg alg, char *why, size_t why_len)
{
    jg_jwk *key = NULL, *pub = NULL;
    char *priv_json = NULL, *pub_json = NULL, *sealed = NULL;
    json_t *pub_doc = NULL, *row = NULL;
    int rc = -1;
    jg_alg_kind kind = jg_alg_kind_of(alg);
    if (purpose == KEY_SECRETS)
        return generate_secrets(c, why, why_len);
    if ((purpose == KEY_SIGNING && (kind != JG_ALG_KIND_JWS || (JG_ALG_BIT(alg) & JG_ALGS_HMAC))) ||
        (purpose == KEY_ENCRYPTION &&
         (kind != JG_ALG_KIND_JWE || alg == JG_ALG_DIR || alg == JG_ALG_RSA1_5 ||
          !(alg >= JG_ALG_RSA_OAEP && alg <= JG_ALG_ECDH_ES_A256KW)))) {
        snprintf(why, why_len, "%s keys cannot use %s (asymmetric algorithms only)",
                 key_purpose_name(purpose), jg_alg_name(alg) ? jg_alg_name(alg) : "?");
        return -1;
    }
    jg_err err = jg_jwk_generate_for_alg(alg, JG_CRV_NONE, 0, NULL, &key);
    if (err == JG_OK)
        err = jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &priv_json, NULL);
    if (err == JG_OK)
        err = jg_jwk_public(key, &pub);
    if (err == JG_OK)
        err = jg_jwk_to_json(pub, 0, &pub_json, NULL);
    if (err != JG_OK) {
        snprintf(why, why_len, "key generation: %s", jg_strerror(err));
        goto out;
    }
    const char *kid = jg_jwk_kid(key);
    if (masterkey_seal(c->d->master, kid, priv_json, &sealed) != 0) {
        snprintf(why, why_len, "cannot seal the new key under the master key");
        goto out;
    }
    pub_doc = json_loads(pub_json, 0, NULL);
    row = json_pack("{ss ss ss ss sO ss sI}", "id", kid, "purpose", key_purpose_name(purpose),
                    "alg", jg_alg_name(alg), "state", "next", "public_jwk", pub_doc, "private_jwe",
                    sealed, "created_at", (json_int_t)c->now);
    if (row == NULL || st_insert(c->tx, T_KEYS, row) != ST_OK ||
        change_audit(c, "key.create", NULL, kid, NULL, row) != ST_OK) {
        snprintf(why, why_len, "cannot store the new key");
        goto out;
    }
    rc = 0;
out:
    json_decref(row);
    json_decref(pub_doc);
    jg_free(sealed);
    jg_free(pub_json);
    if (priv_json != NULL)
        jg_free_secret(priv_json, 0);
    jg_jwk_free(pub);
    jg_jwk_free(key);
    return rc;
}

/* Move key `row` to `state`, stamping `stamp` with now; audited. */
static int move(change *c, json_t *row, const char *state, const char *stamp)
{
    const char *id = json_string_value(json_object_get(row, "id"));
    json_t *upd = json_pack("{ss sI}", "state", state, stamp, (json_int_t)c->now);
    json_t *after = json_deep_copy(row);
    int rc = -1;
    if (upd != NULL && after != NULL && json_object_update(after, upd) == 0 &&
        st_update(c->tx, T_KEYS, id, upd) == ST_OK &&
        change_audit(c, "key.state", NULL, id, row, after) == ST_OK)
        rc = 0;
    json_decref(upd);
    json_decref(after);
    return rc;
}

static json_t *keys_in(change *c, key_purpose purpose, const char *state)
{
    json_t *where = json_pack("{ss ss}", "purpose", key_purpose_name(purpose), "state", state);
    json_t *rows = NULL;
    if (where == NULL || st_list(c->tx, T_KEYS, where, 0, &rows) != ST_OK)
        rows = NULL;
    json_decref(where);
    return rows;
}

int keys_rotate(change *c, key_purpose purpose, jg_alg alg, char *why, size_t why_len)
{
    json_t *next = keys_in(c, purpose, "next");
    json_t *active = keys_in(c, purpose, "active");
    json_t *retiring = keys_in(c, purpose, "retiring");
    int rc = -1;
    size_t i;
    json_t *row;
    if (next == NULL || active == NULL || retiring == NULL) {
        snprintf(why, why_len, "cannot read the keys");
        goto out;
    }
    /* Tokens signed or encrypted with a retiring key live at most token_ttl
     * after it stopped being active: only then may the key go. */
    json_array_foreach (retiring, i, row) {
        json_int_t since = json_integer_value(json_object_get(row, "retiring_at"));
        if (since + c->d->cfg.token_ttl + 60 <= c->now && move(c, row, "retired", "retired_at"))
            goto fail_store;
    }
    json_array_foreach (active, i, row) {
        if (move(c, row, "retiring", "retiring_at"))
            goto fail_store;
    }
    if (json_array_size(next) == 0) {
        if (generate(c, purpose, alg, why, why_len) != 0)
            goto out;
        json_decref(next);
        next = keys_in(c, purpose, "next");
        if (next == NULL)
            goto fail_store;
    }
    json_array_foreach (next, i, row) {
        if (move(c, row, "active", "activated_at"))
            goto fail_store;
    }
    if (generate(c, purpose, alg, why, why_len) != 0)
        goto out;
    rc = 0;
    goto out;
fail_store:
    snprintf(why, why_len, "cannot update the keys");
out:
    json_decref(next);
    json_decref(active);
    json_decref(retiring);
    return rc;
}

static int ensure(change *c, const key_purpose *purposes, size_t n, int *changed, char *why,
                  size_t why_len)
{
    for (size_t i = 0; i < n; i++) {
        json_t *active = keys_in(c, purposes[i], "active");
        json_t *next = keys_in(c, purposes[i], "next");
        if (active == NULL || next == NULL) {
            json_decref(active);
            json_decref(next);
            snprintf(why, why_len, "cannot read the keys");
            return -1;
        }
        size_t na = json_array_size(active), nn = json_array_size(next);
        json_decref(active);
        json_decref(next);
        jg_alg alg = purposes[i] == KEY_SIGNING ? c->d->cfg.signing_alg : c->d->cfg.encryption_alg;
        int rc = 0;
        if (na == 0) {
            rc = keys_rotate(c, purposes[i], alg, why, why_len);
            *changed = 1;
        } else if (nn == 0) {
            rc = generate(c, purposes[i], alg, why, why_len);
            *changed = 1;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int keys_ensure(change *c, int *changed, char *why, size_t why_len)
{
    static const key_purpose purposes[] = {KEY_SIGNING, KEY_ENCRYPTION, KEY_SECRETS};
    return ensure(c, purposes, 3, changed, why, why_len);
}

int keys_ensure_secrets(change *c, int *changed, char *why, size_t why_len)
{
    static const key_purpose purposes[] = {KEY_SECRETS};
    return ensure(c, purposes, 1, changed, why, why_len);
}
