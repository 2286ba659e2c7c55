/*
 * gateways.c — registered gateways on other hosts (system administrators):
 *
 *   POST   /admin/v1/gateways             {name, jwk}  -> 201 + credential (shown once)
 *   GET    /admin/v1/gateways             list (no secret)
 *   GET    /admin/v1/gateways/{id}
 *   POST   /admin/v1/gateways/{id}/revoke -> revoked (so is DELETE /admin/v1/gateways/{id})
 *
 * A gateway registers only its public encryption key (EC P-256 or X25519,
 * for ECDH-ES+A256KW): the snapshot it fetches (GET /gateway/v1/snapshot,
 * server/gateway/gateway.h) is encrypted to it, and its private key never
 * reaches jwtgated. The credential is "<id>.<secret>" with a 256-bit random
 * secret stored as its SHA-256 (like client secrets). A revoked gateway stays
 * listed (its history), and cannot be brought back: register a new one.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/core/json.h" /* jg__json_wipe_string: the credential shown once */
#include "server/admin/admin_internal.h"
#include "server/core/util.h"
#include "server/http/http.h"

#define METHOD(m) (strcmp(a->r->method, (m)) == 0)

/* The public JWK of the body, checked and normalised (public members only),
 * with its thumbprint; NULL when answered 422. */
static json_t *gateway_jwk(actx *a, char kid[44])
{
    const json_t *j = json_object_get(a->body, "jwk");
    if (!json_is_object(j)) {
        reply_invalid(a, "\"jwk\" must be the gateway's public encryption key (a JWK object)");
        return NULL;
    }
    if (json_object_get(j, "d") != NULL) {
        reply_invalid(a, "\"jwk\" holds a private key: register the public key only; the "
                         "private key stays on the gateway");
        return NULL;
    }
    char *text = json_dumps(j, JSON_COMPACT);
    jg_jwk *key = NULL;
    jg_err err = text != NULL ? jg_jwk_parse(text, strlen(text), 0, &key) : JG_ERR_NOMEM;
    free(text);
    if (err != JG_OK) {
        char detail[160];
        snprintf(detail, sizeof detail, "\"jwk\": %s", jg_strerror(err));
        reply_invalid(a, detail);
        return NULL;
    }
    int curve_ok = (jg_jwk_kty(key) == JG_KTY_EC && jg_jwk_crv(key) == JG_CRV_P256) ||
                   (jg_jwk_kty(key) == JG_KTY_OKP && jg_jwk_crv(key) == JG_CRV_X25519);
    if (!curve_ok || jg_jwk_check(key, JG_ALG_ECDH_ES_A256KW, JG_OP_ENCRYPT) != JG_OK) {
        jg_jwk_free(key);
        reply_invalid(a, "\"jwk\" must be an EC P-256 or X25519 key usable for ECDH-ES+A256KW");
        return NULL;
    }
    char *out = NULL;
    json_t *doc = NULL;
    if (jg_jwk_thumbprint_b64(key, kid) == JG_OK && jg_jwk_to_json(key, 0, &out, NULL) == JG_OK)
        doc = json_loads(out, 0, NULL);
    jg_free(out);
    jg_jwk_free(key);
    if (doc == NULL)
        http_problem(a->r, 500, NULL, "cannot export the key");
    return doc;
}

static void create_gateway(actx *a)
{
    static const char *const allowed[] = {"name", "jwk", NULL};
    const char *name = NULL;
    if (!body_only(a, allowed) || !body_string(a, "name", 1, 64, &name))
        return;
    if (!sv_is_simple_name(name, 64)) {
        reply_invalid(a, "\"name\" must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
        return;
    }
    char kid[44];
    json_t *jwk = gateway_jwk(a, kid);
    if (jwk == NULL)
        return;
    change c;
    if (!change_start(a, &c)) {
        json_decref(jwk);
        return;
    }
    char *id = sv_new_id("jgw_", 12);
    char *secret = sv_new_secret("");
    char hash[44];
    json_t *row = NULL;
    store_err err = ST_NOMEM;
    if (id != NULL && secret != NULL && sv_hash_b64(secret, strlen(secret), hash) == 0) {
        row = json_pack("{ss ss sO ss ss ss sI}", "id", id, "name", name, "jwk", jwk, "kid", kid,
                        "hash", hash, "state", "active", "created_at", (json_int_t)c.now);
        err = row != NULL ? st_insert(c.tx, T_GATEWAYS, row) : ST_NOMEM;
        if (err == ST_OK)
            err = change_audit(&c, "gateway.create", NULL, id, NULL, row);
    }
    json_decref(jwk);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "gateway");
    } else {
        json_t *shown = public_row(row);
        sv_buf cred = {0};
        sv_buf_printf(&cred, "%s.%s", id, secret);
        char *text = sv_buf_take(&cred, NULL);
        json_object_set_new(shown, "credential", json_string(text != NULL ? text : ""));
        if (text != NULL)
            jg_free_secret(text, 0);
        err = change_commit(&c);
        if (err != ST_OK)
            reply_store_error(a, err, "gateway");
        else
            http_json(a->r, 201, shown);
        http_set_header(a->r, "Cache-Control", "no-store");
        jg__json_wipe_string(json_object_get(shown, "credential"));
        json_decref(shown);
    }
    json_decref(row);
    free(id);
    if (secret != NULL)
        jg_free_secret(secret, 0);
}

static void revoke_gateway(actx *a, const char *id)
{
    change c;
    if (!change_start(a, &c))
        return;
    json_t *row = NULL;
    store_err err = st_get_id(c.tx, T_GATEWAYS, id, &row);
    if (err == ST_OK && strcmp(json_string_value(json_object_get(row, "state")), "revoked") == 0) {
        change_abort(&c); /* revoked already: nothing changes */
        reply_row(a, 200, row);
        json_decref(row);
        return;
    }
    json_t *upd = NULL;
    if (err == ST_OK) {
        upd = json_pack("{ss sI}", "state", "revoked", "revoked_at", (json_int_t)c.now);
        err = upd != NULL ? st_update(c.tx, T_GATEWAYS, id, upd) : ST_NOMEM;
    }
    json_t *after = NULL;
    if (err == ST_OK) {
        after = json_deep_copy(row);
        json_object_update(after, upd);
        err = change_audit(&c, "gateway.revoke", NULL, id, row, after);
    }
    json_decref(upd);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "gateway");
    } else {
        change_finish(a, &c, 200, after);
    }
    json_decref(row);
    json_decref(after);
}

void admin_gateways(actx *a)
{
    if (!require_sysadmin(a))
        return;
    if (a->nseg == 1) {
        if (METHOD("POST")) {
            create_gateway(a);
            return;
        }
        if (!METHOD("GET")) {
            reply_method(a, "GET, POST");
            return;
        }
        store_tx *tx = NULL;
        json_t *rows = NULL;
        if (!read_begin(a, &tx))
            return;
        store_err err = st_list(tx, T_GATEWAYS, NULL, 0, &rows);
        store_rollback(tx);
        if (err != ST_OK)
            reply_store_error(a, err, "gateway");
        else
            reply_rows(a, rows);
        json_decref(rows);
        return;
    }
    const char *id = a->seg[1];
    if (a->nseg == 3 && strcmp(a->seg[2], "revoke") == 0) {
        if (!METHOD("POST"))
            reply_method(a, "POST");
        else
            revoke_gateway(a, id);
        return;
    }
    if (a->nseg != 2) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    if (METHOD("DELETE")) {
        revoke_gateway(a, id);
        return;
    }
    if (!METHOD("GET")) {
        reply_method(a, "GET, DELETE");
        return;
    }
    store_tx *tx = NULL;
    json_t *row = NULL;
    if (!read_begin(a, &tx))
        return;
    store_err err = st_get_id(tx, T_GATEWAYS, id, &row);
    store_rollback(tx);
    if (err != ST_OK)
        reply_store_error(a, err, "gateway");
    else
        reply_row(a, 200, row);
    json_decref(row);
}
