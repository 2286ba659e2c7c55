/*
 * session.c — signing in to the console: local passwords and sessions.
 *
 * The console is a browser on the admin API, so the admin API accepts a
 * session cookie besides personal access tokens. The rules:
 *
 *   1. A session is a random 256-bit token in a cookie: HttpOnly, SameSite=
 *      Strict, Path=/; Secure with the __Host- prefix when the issuer is
 *      https (jwtgated behind TLS). The database keeps its SHA-256 only, so a
 *      copy of the database signs nobody in.
 *   2. It ends SESSION_TTL after sign-in or SESSION_IDLE after its last use,
 *      whichever is first; server-side: signing out, a password change and
 *      an administrator's revocation delete it, on every node at once.
 *   3. A request authenticated by the cookie that may change something (any
 *      method but GET and HEAD) carries X-CSRF-Token, an HMAC of the
 *      session's token (so nothing more is stored), compared in constant
 *      time. With SameSite=Strict and JSON-only bodies (a cross-site form
 *      cannot send application/json), a forged request has no way in.
 *   4. Sign-in failures are throttled per (user name, source address), as
 *      client authentication is: a guesser is slowed down, and cannot lock
 *      the real user out from elsewhere. An unknown user costs a hash as a
 *      known one does, and gets the same answer.
 *   5. A first-login password (set by `jwtgated init`, `jwtgated passwd
 *      --generate` or an administrator) gives a restricted session: it can
 *      change the password and sign out, nothing else.
 *
 * Endpoints (under /admin/v1): POST session {user, password} (sign in),
 * GET session, DELETE session (sign out); POST me/password
 * {current_password, new_password}; PUT users/{id}/password {password?}
 * (system administrators: sets a first-login password, generated when not
 * given) and DELETE users/{id}/sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwtgate/base64url.h"
#include "server/admin/admin_internal.h"
#include "server/core/log.h"
#include "server/core/password.h"
#include "server/core/util.h"
#include "server/oauth/throttle.h"

#define METHOD(m)    (strcmp(a->r->method, (m)) == 0)
#define SESSION_TTL  ((int64_t)8 * 3600) /* seconds after sign-in */
#define SESSION_IDLE ((int64_t)30 * 60)  /* seconds after the last request */
#define SEEN_EVERY   60                  /* seconds: seen_at is written at most this often */
#define TOKEN_PREFIX "jgu_"
#define CSRF_LEN     43

static int secure_cookie(const jgd *d)
{
    return d->cfg.issuer != NULL && strncmp(d->cfg.issuer, "https://", 8) == 0;
}

static const char *cookie_name(const jgd *d)
{
    return secure_cookie(d) ? "__Host-jg_session" : "jg_session";
}

/* The CSRF token of a session: base64url(HMAC-SHA-256(token, label)). */
static int csrf_of(const char *token, char out[CSRF_LEN + 1])
{
    static const char label[] = "jwtgate console csrf";
    unsigned char mac[32];
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), token, (int)strlen(token), (const unsigned char *)label,
             sizeof label - 1, mac, &n) == NULL ||
        n != sizeof mac)
        return -1;
    jg_b64url_encode(mac, sizeof mac, out);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

/* The value of our cookie in a Cookie header: a pointer into it and its
 * length; 0 when absent, -1 when it appears twice (a cookie planted by a
 * sibling domain next to ours: refuse rather than guess). */
static int find_cookie(const char *header, const char *name, const char **val, size_t *len)
{
    size_t nl = strlen(name);
    int found = 0;
    const char *p = header;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n > nl && p[nl] == '=' && strncmp(p, name, nl) == 0) {
            if (found++)
                return -1;
            *val = p + nl + 1;
            *len = n - nl - 1;
        }
        p = end;
    }
    return found;
}

static void set_cookie(actx *a, const char *token, int64_t max_age)
{
    char v[256];
    snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
             cookie_name(a->d), token, (long long)max_age, secure_cookie(a->d) ? "; Secure" : "");
    http_set_header(a->r, "Set-Cookie", v);
    jg_memzero(v, sizeof v);
}

static void unauthenticated(actx *a, const char *detail)
{
    http_problem(a->r, 401, NULL, detail);
    http_set_header(a->r, "WWW-Authenticate", "Bearer realm=\"jwtgated-admin\"");
}

int session_present(actx *a)
{
    const char *h = http_req_header(a->r, "Cookie"), *v;
    size_t n;
    return h != NULL && find_cookie(h, cookie_name(a->d), &v, &n) != 0;
}

int session_authenticate(actx *a)
{
    const char *h = http_req_header(a->r, "Cookie"), *v = NULL;
    size_t n = 0;
    char token[96], hash[44];
    if (h == NULL || find_cookie(h, cookie_name(a->d), &v, &n) != 1 || n >= sizeof token ||
        n < sizeof TOKEN_PREFIX || strncmp(v, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) != 0) {
        unauthenticated(a, "invalid session; sign in again");
        return 0;
    }
    memcpy(token, v, n);
    token[n] = '\0';
    int safe = METHOD("GET") || METHOD("HEAD");
    if (!safe) {
        char want[CSRF_LEN + 1];
        const char *got = http_req_header(a->r, "X-CSRF-Token");
        int ok = got != NULL && strlen(got) == CSRF_LEN && csrf_of(token, want) == 0 &&
                 CRYPTO_memcmp(got, want, CSRF_LEN) == 0;
        if (!ok) {
            jg_memzero(token, sizeof token);
            http_problem(a->r, 403, NULL, "a change through a session needs its X-CSRF-Token");
            return 0;
        }
    }
    /* 256 random bits: looking the hash up by equality reveals nothing. */
    int hashed = sv_hash_b64(token, n, hash);
    jg_memzero(token, sizeof token);
    if (hashed != 0) {
        unauthenticated(a, "invalid session; sign in again");
        return 0;
    }
    int64_t now = sv_now();
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return 0;
    json_t *s = NULL;
    store_err err = st_get_id(tx, T_SESSIONS, hash, &s);
    int64_t seen = s != NULL ? json_integer_value(json_object_get(s, "seen_at")) : 0;
    int live = err == ST_OK && json_integer_value(json_object_get(s, "expires_at")) > now &&
               seen + SESSION_IDLE > now;
    if (live)
        err = st_get_id(tx, T_USERS, json_string_value(json_object_get(s, "user_id")), &a->user);
    store_rollback(tx);
    if (err != ST_OK && err != ST_NOT_FOUND) {
        json_decref(s);
        reply_store_error(a, err, "session");
        return 0;
    }
    if (!live || err != ST_OK) {
        json_decref(s);
        unauthenticated(a, "the session has ended; sign in again");
        return 0;
    }
    if (now - seen >= SEEN_EVERY && store_begin(a->d->st, 1, &tx) == ST_OK) {
        json_t *upd = json_pack("{sI}", "seen_at", (json_int_t)now);
        if (upd != NULL && st_update(tx, T_SESSIONS, hash, upd) == ST_OK &&
            store_commit(tx) == ST_OK)
            json_object_set_new(s, "seen_at", json_integer(now));
        else
            store_rollback(tx);
        json_decref(upd);
    }
    a->session = s;
    memcpy(a->session_id, hash, sizeof hash);
    a->restricted = json_is_true(json_object_get(s, "restricted"));
    return 1;
}

/* What a session looks like to its holder. */
static json_t *session_doc(actx *a, const char *token, int64_t expires, int64_t seen,
                           int restricted)
{
    char csrf[CSRF_LEN + 1];
    if (csrf_of(token, csrf) != 0)
        return NULL;
    int64_t idle_end = seen + SESSION_IDLE;
    json_t *doc = json_pack("{so ss sI sI sb}", "user", public_row(a->user), "csrf_token", csrf,
                            "expires_at", (json_int_t)expires, "idle_expires_at",
                            (json_int_t)idle_end, "must_change_password", restricted);
    jg_memzero(csrf, sizeof csrf);
    return doc;
}

static void sign_in(actx *a)
{
    static const char *const allowed[] = {"user", "password", NULL};
    const char *name = NULL, *pw = NULL;
    if (!body_only(a, allowed) || !body_string(a, "user", 1, 64, &name) ||
        !body_string(a, "password", 1, PASSWORD_MAX, &pw))
        return;
    char shown[80];
    sv_printable(shown, sizeof shown, name);
    double wait = throttle_blocked(a->d->login_throttle, name, a->r->client_ip, sv_mono());
    if (wait > 0) {
        char retry[32];
        snprintf(retry, sizeof retry, "%d", (int)wait + 1);
        http_problem(a->r, 429, NULL, "too many failed sign-ins; retry later");
        http_set_header(a->r, "Retry-After", retry);
        return;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    json_t *where = json_pack("{ss}", "name", name), *pwrow = NULL;
    store_err err = st_get(tx, T_USERS, where, &a->user);
    json_decref(where);
    if (err == ST_OK)
        err = st_get_id(tx, T_PASSWORDS, json_string_value(json_object_get(a->user, "id")), &pwrow);
    store_rollback(tx);
    if (err != ST_OK && err != ST_NOT_FOUND) {
        reply_store_error(a, err, "user");
        return;
    }
    const char *enc = pwrow != NULL ? json_string_value(json_object_get(pwrow, "hash")) : NULL;
    pw_result pr = password_verify(enc, pw, strlen(pw));
    int restricted = json_is_true(json_object_get(pwrow, "must_change"));
    json_decref(pwrow);
    if (pr == PW_BUSY || pr == PW_ERROR) {
        http_problem(a->r, 503, NULL, "too many sign-ins at once; retry in a second");
        http_set_header(a->r, "Retry-After", "1");
        return;
    }
    if (pr != PW_MATCH) {
        throttle_failure(a->d->login_throttle, name, a->r->client_ip, sv_mono());
        log_msg(L_WARN, "console: failed sign-in as \"%s\" from %s", shown, a->r->client_ip);
        http_problem(a->r, 401, NULL, "wrong user name or password");
        return;
    }
    throttle_success(a->d->login_throttle, name, a->r->client_ip);
    char *token = sv_new_secret(TOKEN_PREFIX), hash[44];
    int64_t now = sv_now(), expires = now + SESSION_TTL;
    json_t *row = NULL;
    err = ST_NOMEM;
    if (token != NULL && sv_hash_b64(token, strlen(token), hash) == 0 &&
        (row = json_pack("{ss ss sb sI sI sI}", "id", hash, "user_id",
                         json_string_value(json_object_get(a->user, "id")), "restricted",
                         restricted, "created_at", (json_int_t)now, "expires_at",
                         (json_int_t)expires, "seen_at", (json_int_t)now)) != NULL &&
        (err = store_begin(a->d->st, 1, &tx)) == ST_OK) {
        err = st_insert(tx, T_SESSIONS, row);
        if (err == ST_OK)
            err = store_commit(tx);
        else
            store_rollback(tx);
    }
    json_decref(row);
    json_t *doc = err == ST_OK ? session_doc(a, token, expires, now, restricted) : NULL;
    if (doc == NULL) {
        if (token != NULL)
            jg_free_secret(token, 0);
        reply_store_error(a, err == ST_OK ? ST_NOMEM : err, "session");
        return;
    }
    set_cookie(a, token, SESSION_TTL);
    jg_free_secret(token, 0);
    log_msg(L_INFO, "console: \"%s\" signed in from %s%s", shown, a->r->client_ip,
            restricted ? " (first-login password: must change it)" : "");
    http_json_new(a->r, 201, doc);
}

void admin_session(actx *a)
{
    if (METHOD("POST")) {
        sign_in(a);
        return;
    }
    if (!METHOD("GET") && !METHOD("DELETE")) {
        reply_method(a, "GET, POST, DELETE");
        return;
    }
    if (a->session == NULL) {
        http_problem(a->r, 404, NULL, "this request is not signed in with a session");
        return;
    }
    if (METHOD("GET")) {
        /* the token itself is not at hand (only its hash): re-derive the CSRF
         * token from the cookie, which the request carries */
        const char *h = http_req_header(a->r, "Cookie"), *v = NULL;
        size_t n = 0;
        char token[96];
        if (find_cookie(h, cookie_name(a->d), &v, &n) != 1 || n >= sizeof token) {
            unauthenticated(a, "invalid session; sign in again");
            return;
        }
        memcpy(token, v, n);
        token[n] = '\0';
        json_t *doc =
            session_doc(a, token, json_integer_value(json_object_get(a->session, "expires_at")),
                        json_integer_value(json_object_get(a->session, "seen_at")), a->restricted);
        jg_memzero(token, sizeof token);
        if (doc == NULL)
            http_problem(a->r, 500, NULL, "out of memory");
        else
            http_json_new(a->r, 200, doc);
        return;
    }
    store_tx *tx = NULL;
    store_err err = store_begin(a->d->st, 1, &tx);
    if (err == ST_OK) {
        err = st_remove(tx, T_SESSIONS, a->session_id);
        if (err == ST_OK || err == ST_NOT_FOUND)
            err = store_commit(tx);
        else
            store_rollback(tx);
    }
    if (err != ST_OK) {
        reply_store_error(a, err, "session");
        return;
    }
    set_cookie(a, "", 0);
    http_body(a->r, 204, "text/plain", strdup(""), 0);
}

/* Remove the user's sessions but `keep` (NULL: all). In c's transaction. */
static store_err revoke_sessions(change *c, const char *user_id, const char *keep, size_t *n)
{
    json_t *where = json_pack("{ss}", "user_id", user_id), *rows = NULL;
    store_err err = where != NULL ? st_list(c->tx, T_SESSIONS, where, 0, &rows) : ST_NOMEM;
    json_decref(where);
    size_t i;
    json_t *row;
    *n = 0;
    json_array_foreach (rows, i, row) {
        const char *id = json_string_value(json_object_get(row, "id"));
        if (err != ST_OK || id == NULL || (keep != NULL && strcmp(id, keep) == 0))
            continue;
        err = st_remove(c->tx, T_SESSIONS, id);
        (*n)++;
    }
    json_decref(rows);
    return err;
}

/* Store `hash` as the user's password, drop the sessions (but `keep`), and
 * audit it (without the hash). In c's transaction. */
static store_err put_password(change *c, const char *user_id, const char *hash, int must_change,
                              const char *keep)
{
    json_t *old = NULL;
    store_err err = st_get_id(c->tx, T_PASSWORDS, user_id, &old);
    json_decref(old);
    json_t *row = json_pack("{ss sb sI}", "hash", hash, "must_change", must_change, "changed_at",
                            (json_int_t)c->now);
    if (row == NULL)
        return ST_NOMEM;
    if (err == ST_OK) {
        err = st_update(c->tx, T_PASSWORDS, user_id, row);
    } else if (err == ST_NOT_FOUND) {
        json_object_set_new(row, "user_id", json_string(user_id));
        err = st_insert(c->tx, T_PASSWORDS, row);
    }
    size_t revoked = 0;
    if (err == ST_OK)
        err = revoke_sessions(c, user_id, keep, &revoked);
    if (err == ST_OK) {
        json_t *after = json_pack("{sb sI sI}", "must_change", must_change, "changed_at",
                                  (json_int_t)c->now, "sessions_ended", (json_int_t)revoked);
        err =
            after != NULL ? change_audit(c, "user.password", NULL, user_id, NULL, after) : ST_NOMEM;
        json_decref(after);
    }
    json_decref(row);
    return err;
}

store_err password_set(change *c, const char *user_id, const char *pw, int must_change)
{
    char *hash = NULL;
    if (password_hash(pw, strlen(pw), &hash) != PW_MATCH)
        return ST_NOMEM;
    store_err err = put_password(c, user_id, hash, must_change, NULL);
    free(hash);
    return err;
}

/* POST me/password {current_password, new_password}: the signed-in user's
 * own. The current one is needed whenever there is one (a stolen session
 * alone cannot take the account over), throttled like a sign-in. */
void admin_my_password(actx *a)
{
    if (!METHOD("POST")) {
        reply_method(a, "POST");
        return;
    }
    static const char *const allowed[] = {"current_password", "new_password", NULL};
    const char *cur = NULL, *pw = NULL;
    if (!body_only(a, allowed) || !body_string(a, "current_password", 0, PASSWORD_MAX, &cur) ||
        !body_string(a, "new_password", 1, PASSWORD_MAX, &pw))
        return;
    const char *name = json_string_value(json_object_get(a->user, "name"));
    const char *why = password_unacceptable(pw, strlen(pw), name);
    if (why != NULL) {
        reply_invalid(a, why);
        return;
    }
    double wait = throttle_blocked(a->d->login_throttle, name, a->r->client_ip, sv_mono());
    if (wait > 0) {
        char retry[32];
        snprintf(retry, sizeof retry, "%d", (int)wait + 1);
        http_problem(a->r, 429, NULL, "too many wrong passwords; retry later");
        http_set_header(a->r, "Retry-After", retry);
        return;
    }
    store_tx *tx = NULL;
    if (!read_begin(a, &tx))
        return;
    json_t *old = NULL;
    store_err err = st_get_id(tx, T_PASSWORDS, a->user_id, &old);
    store_rollback(tx);
    if (err != ST_OK && err != ST_NOT_FOUND) {
        reply_store_error(a, err, "password");
        return;
    }
    if (old != NULL) {
        pw_result pr =
            cur != NULL
                ? password_verify(json_string_value(json_object_get(old, "hash")), cur, strlen(cur))
                : PW_NO_MATCH;
        json_decref(old);
        if (pr == PW_BUSY || pr == PW_ERROR) {
            http_problem(a->r, 503, NULL, "too many sign-ins at once; retry in a second");
            http_set_header(a->r, "Retry-After", "1");
            return;
        }
        if (pr != PW_MATCH) {
            throttle_failure(a->d->login_throttle, name, a->r->client_ip, sv_mono());
            http_problem(a->r, 403, NULL, "\"current_password\" is wrong");
            return;
        }
    }
    char *hash = NULL;
    pw_result hr = password_hash(pw, strlen(pw), &hash);
    if (hr != PW_MATCH) {
        http_problem(a->r, 503, NULL, "too many sign-ins at once; retry in a second");
        http_set_header(a->r, "Retry-After", "1");
        return;
    }
    change c;
    if (!change_start(a, &c)) {
        free(hash);
        return;
    }
    err = put_password(&c, a->user_id, hash, 0, a->session != NULL ? a->session_id : NULL);
    free(hash);
    if (err == ST_OK && a->session != NULL && a->restricted) {
        json_t *upd = json_pack("{sb}", "restricted", 0);
        err = upd != NULL ? st_update(c.tx, T_SESSIONS, a->session_id, upd) : ST_NOMEM;
        json_decref(upd);
    }
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "password");
        return;
    }
    json_t *doc = json_pack("{ss sb}", "user_id", a->user_id, "must_change_password", 0);
    change_finish(a, &c, 200, doc);
    json_decref(doc);
}

/* users/{id}/password (PUT, {password?}) and users/{id}/sessions (DELETE):
 * system administrators. An administrator sets a first-login password only
 * (the user changes it at the next sign-in), so that no administrator knows
 * a user's password for long. */
void admin_user_auth(actx *a)
{
    if (!require_sysadmin(a))
        return;
    const char *uid = a->seg[1], *what = a->seg[2];
    int pw_route = strcmp(what, "password") == 0;
    if (!pw_route && strcmp(what, "sessions") != 0) {
        http_problem(a->r, 404, NULL, "no such endpoint");
        return;
    }
    if (!METHOD(pw_route ? "PUT" : "DELETE")) {
        reply_method(a, pw_route ? "PUT" : "DELETE");
        return;
    }
    static const char *const allowed[] = {"password", NULL};
    const char *given = NULL;
    if (pw_route &&
        (!body_only(a, allowed) || !body_string(a, "password", 0, PASSWORD_MAX, &given)))
        return;
    change c;
    json_t *user = NULL;
    if (!change_start(a, &c))
        return;
    store_err err = st_get_id(c.tx, T_USERS, uid, &user);
    if (err != ST_OK) {
        change_abort(&c);
        reply_store_error(a, err, "user");
        return;
    }
    const char *why = given != NULL
                          ? password_unacceptable(given, strlen(given),
                                                  json_string_value(json_object_get(user, "name")))
                          : NULL;
    json_decref(user);
    if (why != NULL) {
        change_abort(&c);
        reply_invalid(a, why);
        return;
    }
    json_t *doc = NULL;
    if (pw_route) {
        char *made = given == NULL ? password_generate() : NULL;
        const char *pw = given != NULL ? given : made;
        err = pw != NULL ? password_set(&c, uid, pw, 1) : ST_NOMEM;
        doc = json_pack("{ss sb}", "user_id", uid, "must_change_password", 1);
        if (made != NULL && doc != NULL)
            json_object_set_new(doc, "password", json_string(made)); /* shown once */
        if (made != NULL)
            jg_free_secret(made, 0);
    } else {
        size_t n = 0;
        err = revoke_sessions(&c, uid, NULL, &n);
        json_t *after = json_pack("{sI}", "sessions_ended", (json_int_t)n);
        if (err == ST_OK)
            err = after != NULL ? change_audit(&c, "user.sessions.revoke", NULL, uid, NULL, after)
                                : ST_NOMEM;
        json_decref(after);
    }
    if (err != ST_OK) {
        change_abort(&c);
        json_decref(doc);
        reply_store_error(a, err, "user");
        return;
    }
    change_finish(a, &c, pw_route ? 200 : 204, doc);
    if (doc != NULL) {
        json_t *p = json_object_get(doc, "password");
        if (p != NULL)
            jg_memzero((void *)json_string_value(p), json_string_length(p));
    }
    json_decref(doc);
}
