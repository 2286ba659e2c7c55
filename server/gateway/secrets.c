/*
 * secrets.c — GET /gateway/v1/secrets: the gateway secrets key for a remote
 * gateway (docs/cluster.md, docs/ai-gateway.md).
 *
 * Authenticated like GET /gateway/v1/snapshot (an active registered
 * gateway's credential). The answer is the active secrets key's private JWK
 * encrypted to the gateway's registered public key (compact JWE,
 * ECDH-ES+A256KW / A256GCM, kid = that key's RFC 7638 thumbprint, cty
 * jwk+json): whatever carries it sees no key. ETag: the secrets key's kid,
 * so an agent asks with If-None-Match and gets 304 until a rotation.
 * Never cached by intermediaries (Cache-Control: no-store).
 */
#include <stdlib.h>
#include <string.h>

#include "server/core/log.h"
#include "server/core/view.h"
#include "server/gateway/gateway.h"
#include "server/snapshot/secrets.h"

/* `plain` encrypted to the gateway `row`'s key: malloc'd compact JWE, or NULL. */
static char *encrypt_to(const json_t *row, const char *plain, size_t *out_len)
{
    char *jwk_text = json_dumps(json_object_get(row, "jwk"), JSON_COMPACT);
    jg_jwk *key = NULL;
    char kid[44] = "";
    jg_err err =
        jwk_text != NULL ? jg_jwk_parse(jwk_text, strlen(jwk_text), 0, &key) : JG_ERR_NOMEM;
    free(jwk_text);
    if (err == JG_OK)
        err = jg_jwk_thumbprint_b64(key, kid);
    char protected_json[96];
    snprintf(protected_json, sizeof protected_json, "{\"kid\":\"%s\",\"cty\":\"jwk+json\"}", kid);
    jg_jwe_recipient rcpt = {.key = key, .alg = JG_ALG_ECDH_ES_A256KW};
    jg_jwe_encrypt_opts opts = {.enc = JG_ENC_A256GCM, .protected_json = protected_json};
    char *out = NULL, *copy = NULL;
    if (err == JG_OK)
        err = jg_jwe_encrypt(plain, strlen(plain), &rcpt, 1, &opts, &out, out_len);
    jg_jwk_free(key);
    if (err != JG_OK) {
        log_msg(L_ERR, "gateway: cannot encrypt the secrets key for %s: %s",
                json_string_value(json_object_get(row, "id")), jg_strerror(err));
        return NULL;
    }
    /* the response frees with free(): our own copy */
    copy = malloc(*out_len + 1);
    if (copy != NULL)
        memcpy(copy, out, *out_len + 1);
    jg_free(out);
    return copy;
}

void gateway_secrets(request *r)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        http_problem(r, 405, NULL, "use GET");
        http_set_header(r, "Allow", "GET, HEAD");
        return;
    }
    json_t *row = gateway_authenticate(r);
    if (row == NULL)
        return;
    view *v = view_acquire(r->d);
    const char *kid = NULL;
    char *jwk = secrets_jwk_json(v, &kid);
    if (jwk == NULL) {
        http_problem(r, 503, NULL, "no gateway secrets key yet");
        http_set_header(r, "Retry-After", "1");
        goto out;
    }
    char etag[160];
    snprintf(etag, sizeof etag, "\"%s\"", kid);
    if (gateway_etag_matches(http_req_header(r, "If-None-Match"), etag)) {
        http_body(r, 304, "application/jose", strdup(""), 0);
    } else {
        size_t len = 0;
        char *body = encrypt_to(row, jwk, &len);
        if (body == NULL) {
            http_problem(r, 500, NULL, "cannot prepare the secrets key");
            goto out;
        }
        http_body(r, 200, "application/jose", body, len);
    }
    http_set_header(r, "ETag", etag);
    http_set_header(r, "Cache-Control", "no-store");
out:
    if (jwk != NULL)
        jg_free_secret(jwk, 0);
    view_release(v);
    json_decref(row);
}
