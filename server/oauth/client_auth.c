/*
 * client_auth.c — client authentication at the token, introspection and
 * revocation endpoints: client_secret_basic, client_secret_post (RFC 6749
 * section 2.3.1), private_key_jwt (RFC 7523 section 2.2, OpenID Connect
 * Core section 9), and RFC 8705 section 2's tls_client_auth (the
 * certificate names the client in the registered field) and
 * self_signed_tls_client_auth (its key is one the client registered),
 * exactly one method per request. A certificate is the method only when
 * the request presents no other credential and names its client_id: a
 * client_secret client behind a proxy that forwards every certificate still
 * authenticates with its secret.
 *
 * Secrets are compared as SHA-256 hashes in constant time against every
 * unexpired secret of the client; an unknown client costs the same hash.
 * Client assertions are verified with libjwtgate against the keys the client
 * registered. Their "aud" must name this authorization server: its issuer
 * identifier (RFC 7523 section 3 and its update; what panva's clients send),
 * the token endpoint URL, or the URL of the endpoint being called. Each jti
 * is accepted once. An assertion counts as expiring at the earlier of its
 * "exp" and "iat" + ten minutes (without "iat": its "exp" must be at most ten
 * minutes ahead), so a client library that signs one-hour assertions (Authlib)
 * works, while the replay cache never holds a jti for more than ten minutes.
 *
 * A failed authentication answers 401 with a Basic challenge when the client
 * used the Authorization header, else 400 (RFC 6749 section 5.2; a 401
 * without a challenge would break RFC 9110 section 15.5.2).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/core/log.h"
#include "server/core/util.h"
#include "server/oauth/client_cert.h"
#include "server/oauth/oauth.h"
#include "server/oauth/throttle.h"

#define ASSERTION_TYPE         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define MAX_ASSERTION_LIFETIME 600 /* seconds an assertion is honoured, whatever its exp */
#define ASSERTION_LEEWAY       30

void oauth_refuse(request *r, refusal why, unsigned status, const char *error,
                  const char *description)
{
    atomic_fetch_add_explicit(&r->d->m.refusals[why], 1, memory_order_relaxed);
    http_oauth_error(r, status, error, description);
}

int oauth_parse_post(request *r, form *f, const char *const *multi)
{
    memset(f, 0, sizeof *f);
    if (strcmp(r->method, "POST") != 0) {
        oauth_refuse(r, R_INVALID_REQUEST, 405, "invalid_request", "use POST");
        http_set_header(r, "Allow", "POST");
        return -1;
    }
    const char *ct = http_req_header(r, "Content-Type");
    size_t n = ct != NULL ? strcspn(ct, ";") : 0;
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    if (ct == NULL || n != 33 || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request",
                     "the body must be application/x-www-form-urlencoded");
        return -1;
    }
    if (http_has_query(r)) {
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request",
                     "parameters belong in the body, not in the URL");
        return -1;
    }
    if (form_parse(r->body != NULL ? r->body : "", r->body_len, f) != 0) {
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request", "malformed form body");
        return -1;
    }
    /* RFC 6749 section 3.2: parameters sent without a value MUST be
     * treated as if they were omitted ("scope=", a bare "grant_type"). */
    form_drop_empty(f);
    if (form_has_repeats(f, multi)) {
        form_free(f);
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request", "a parameter is repeated");
        return -1;
    }
    return 0;
}

/* invalid_client: 401 with a challenge for the Authorization header, else 400. */
static void refuse_client(request *r, int used_header, const char *why)
{
    oauth_refuse(r, R_INVALID_CLIENT, used_header ? 401 : 400, "invalid_client", why);
}

static void fail_client(request *r, int used_header, const char *client_id, const char *why)
{
    if (client_id != NULL)
        throttle_failure(r->d->throttle, client_id, r->client_ip, sv_mono());
    refuse_client(r, used_header, why);
}

static int check_secret(const v_client *client, const char *secret, int64_t now)
{
    char hash[44];
    if (sv_hash_b64(secret, strlen(secret), hash) != 0)
        return 0;
    int ok = 0;
    size_t n = client != NULL ? client->nsecrets : 0;
    for (size_t i = 0; i < n; i++) {
        const v_secret *s = &client->secrets[i];
        int live = s->expires_at == 0 || s->expires_at > now;
        /* Check every secret, whatever matched, so time does not tell which. */
        ok |= live & (strlen(s->hash) == 43 && jg_memeq_consttime(s->hash, hash, 43));
    }
    return ok;
}

/* The unverified "sub" of an assertion, only to find whose keys to use. */
static char *assertion_subject(const char *jwt)
{
    const char *p1 = strchr(jwt, '.');
    const char *p2 = p1 != NULL ? strchr(p1 + 1, '.') : NULL;
    if (p2 == NULL || p2 - p1 - 1 > 8192)
        return NULL;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (jg_b64url_decode_alloc(p1 + 1, (size_t)(p2 - p1 - 1), &raw, &raw_len) != JG_OK)
        return NULL;
    jg_claims *c = NULL;
    char *sub = NULL;
    const char *s = NULL;
    if (jg_claims_parse((const char *)raw, raw_len, NULL, &c) == JG_OK &&
        jg_claims_get_string(c, "sub", &s) == JG_OK)
        sub = strdup(s);
    jg_claims_free(c);
    jg_free(raw);
    return sub;
}

/* Record an assertion's jti; -1 if it was seen before or cannot be stored. */
static int assertion_once(jgd *d, const char *client_id, const char *jti, int64_t exp)
{
    char id[600];
    if (snprintf(id, sizeof id, "%s:%s", client_id, jti) >= (int)sizeof id)
        return -1;
    json_t *row = json_pack("{ss sI}", "id", id, "exp", (json_int_t)exp);
    store_tx *tx = NULL;
    int rc = -1;
    if (row != NULL && store_begin(d->st, 1, &tx) == ST_OK) {
        if (st_insert(tx, T_ASSERTIONS, row) == ST_OK && store_commit(tx) == ST_OK)
            rc = 0;
        else if (tx != NULL)
            store_rollback(tx);
        tx = NULL;
    }
    json_decref(row);
    return rc;
}

/* Whether one "aud" value names this authorization server. */
static int names_us(request *r, const char *aud)
{
    jgd *d = r->d;
    size_t n = strlen(d->cfg.issuer);
    return strcmp(aud, d->cfg.issuer) == 0 || strcmp(aud, d->token_endpoint) == 0 ||
           (strncmp(aud, d->cfg.issuer, n) == 0 && strcmp(aud + n, r->path) == 0);
}

static int verify_assertion(request *r, view *v, const char *assertion, const char *client_id)
{
    jgd *d = r->d;
    const jg_jwks *keys = view_client_keys(v, client_id);
    if (keys == NULL)
        return -1;
    static const char *const required[] = {"jti", "exp", "aud", NULL};
    jg_jwt_policy pol = {.algs = JG_ALGS_ASYMMETRIC_SIG,
                         .issuer = client_id,
                         .subject = client_id,
                         .leeway = ASSERTION_LEEWAY,
                         .required = required};
    jg_claims *claims = NULL;
    jg_err err = jg_jwt_verify(assertion, strlen(assertion), keys, &pol, &claims);
    if (err != JG_OK) {
        log_msg(L_INFO, "client %s: assertion refused: %s", client_id, jg_err_name(err));
        return -1;
    }
    int ours = 0;
    for (size_t k = 0, n = jg_claims_aud_count(claims); k < n && !ours; k++)
        ours = names_us(r, jg_claims_aud_at(claims, k));
    const char *jti = NULL;
    int64_t exp = 0, iat = 0, now = sv_now();
    int has_iat = jg_claims_get_int(claims, "iat", &iat) == JG_OK;
    int rc = -1;
    if (!ours) {
        log_msg(L_INFO, "client %s: assertion refused: its aud names another server", client_id);
    } else if (jg_claims_get_string(claims, "jti", &jti) == JG_OK &&
               jg_claims_get_int(claims, "exp", &exp) == JG_OK && *jti != '\0' &&
               strlen(jti) <= 256) {
        /* Honoured until min(exp, iat + cap); without iat, exp itself must
         * be within the cap. The jti is kept exactly that long. */
        int64_t until = exp;
        if (has_iat && iat + MAX_ASSERTION_LIFETIME < until)
            until = iat + MAX_ASSERTION_LIFETIME;
        /* A client whose clock runs ahead (within the leeway) signs a fresh
         * iat that is still in our future: its window ends up to the
         * leeway more than ten minutes from our now. */
        if (until + ASSERTION_LEEWAY <= now ||
            until - now > MAX_ASSERTION_LIFETIME + ASSERTION_LEEWAY)
            log_msg(L_INFO, "client %s: assertion refused: outside its ten-minute window",
                    client_id);
        else
            rc = assertion_once(d, client_id, jti, until + ASSERTION_LEEWAY);
    }
    jg_claims_free(claims);
    return rc;
}

int client_authenticate(request *r, const form *f, view *v, client_auth *out)
{
    const char *authz = http_req_header(r, "Authorization");
    size_t n_secret = 0, n_type = 0, n_assert = 0;
    const char *post_secret = form_get(f, "client_secret", &n_secret);
    const char *atype = form_get(f, "client_assertion_type", &n_type);
    const char *assertion = form_get(f, "client_assertion", &n_assert);
    const char *form_id = form_get(f, "client_id", NULL);
    int basic = authz != NULL;
    int methods = basic + (n_secret > 0) + (n_type > 0 || n_assert > 0);
    memset(out, 0, sizeof *out);
    if (methods > 1) {
        oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request",
                     "use exactly one client authentication method");
        return -1;
    }
    const client_cert *cert = NULL;
    int by_cert = methods == 0 && form_id != NULL ? client_cert_get(r, &cert) : 0;
    if (methods == 0 && by_cert == 0) { /* 401 with the challenge: tells the client how */
        oauth_refuse(r, R_INVALID_CLIENT, 401, "invalid_client", "client authentication required");
        return -1;
    }
    char *id = NULL, *secret = NULL;
    const char *client_id = NULL;
    int rc = -1;
    if (by_cert != 0) {
        client_id = form_id;
    } else if (basic) {
        if (basic_parse(authz, &id, &secret) != 0) {
            refuse_client(r, 1, "malformed Basic credentials");
            return -1;
        }
        client_id = id;
    } else if (n_secret > 0) {
        client_id = form_id;
        secret = strdup(post_secret);
        if (client_id == NULL || secret == NULL) {
            free(secret);
            oauth_refuse(r, R_INVALID_REQUEST, 400, "invalid_request", "client_id is missing");
            return -1;
        }
    } else {
        if (atype == NULL || strcmp(atype, ASSERTION_TYPE) != 0 || assertion == NULL) {
            refuse_client(r, 0, "unsupported client assertion type, or no assertion");
            return -1;
        }
        id = assertion_subject(assertion);
        if (id == NULL) {
            refuse_client(r, 0, "malformed client assertion");
            return -1;
        }
        client_id = id;
    }
    if (form_id != NULL && strcmp(form_id, client_id) != 0) {
        refuse_client(r, basic, "client_id differs from the authenticated client");
        goto out;
    }
    double wait = throttle_blocked(r->d->throttle, client_id, r->client_ip, sv_mono());
    if (wait > 0) {
        char retry[32];
        snprintf(retry, sizeof retry, "%d", (int)wait + 1);
        oauth_refuse(r, R_THROTTLED, 429, "invalid_client",
                     "too many failed authentications; retry later");
        http_set_header(r, "Retry-After", retry);
        goto out;
    }
    const v_client *client = view_client(v, client_id);
    int ok;
    const char *failed = "client authentication failed";
    if (by_cert < 0) {
        ok = 0;
        failed = "the client certificate forwarded by the proxy is malformed";
    } else if (by_cert > 0) {
        ok = client != NULL &&
             ((client->auth == V_AUTH_TLS &&
               client_cert_names(cert, (int)client->tls_field, client->tls_value)) ||
              (client->auth == V_AUTH_SELF_SIGNED_TLS && client_cert_key_in(cert, client->keys)));
        if (!ok && client != NULL) { /* which rule, for the operator; never the certificate */
            char shown[65];
            sv_printable(shown, sizeof shown, client_id);
            if (client->auth == V_AUTH_TLS)
                log_msg(L_INFO, "client %s: certificate refused: not the registered %s", shown,
                        view_tls_field_names[client->tls_field]);
            else
                log_msg(L_INFO, "client %s: certificate refused: %s", shown,
                        client->auth == V_AUTH_SELF_SIGNED_TLS
                            ? "its key is not one of the registered keys"
                            : "the client does not authenticate by certificate");
        }
    } else if (secret != NULL) {
        /* Hash even for an unknown client, so that timing does not tell. */
        ok = check_secret(client, secret, sv_now());
        ok &= client != NULL && client->auth == V_AUTH_SECRET;
    } else {
        ok = client != NULL && client->auth == V_AUTH_PRIVATE_KEY_JWT &&
             verify_assertion(r, v, assertion, client_id) == 0;
    }
    if (!ok) {
        fail_client(r, basic, client_id, failed);
        goto out;
    }
    throttle_success(r->d->throttle, client_id, r->client_ip);
    out->client_id = client->client_id;
    out->client = client;
    out->by_cert = by_cert > 0;
    out->cert = by_cert > 0 ? cert : NULL;
    rc = 0;
out:
    if (id != NULL)
        jg_free_secret(id, 0);
    if (secret != NULL)
        jg_free_secret(secret, 0);
    return rc;
}
