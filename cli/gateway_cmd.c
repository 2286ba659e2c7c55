/*
 * gateway_cmd.c — a gateway on another host than jwtgated:
 *
 *   jwtgate admin gateway create NAME [--out FILE]   register (admin_cmd.c calls in here)
 *   jwtgate gateway sync --url URL [--url URL ...] --credential FILE --out PATH
 *                        [--wait S] [--once] [--secrets-out FILE]
 *
 * create makes the gateway's key pair here (EC P-256, ECDH-ES+A256KW),
 * registers only its public half, and writes the credential file (JSON, mode
 * 0600, atomically): {"gateway_id", "credential", "key": the private JWK,
 * "trust": the control plane's signing JWKS at creation}. The private key never
 * leaves this host.
 *
 * sync long-polls GET /gateway/v1/snapshot on each URL in turn (failover,
 * bounded backoff), decrypts the JWE with the credential's key, verifies the
 * JWS against the trusted keys, checks the compiled snapshot (checksum, same
 * database, not older than the one on disk) and replaces PATH atomically for
 * the nginx module. Chain of trust: after each verified snapshot, the trust is
 * the snapshot's own verification keys (the issuer's next, active and retiring
 * keys: a next key is published before it signs anything), written back into
 * the credential file (atomically) when it changed. Never prints a key, the
 * credential or the snapshot.
 *
 * Exit status of sync: 0 (--once: the snapshot is fresh; else a clean stop on
 * SIGTERM/SIGINT), 2 usage or setup (credential file, output directory),
 * 3 every node unreachable (--once; the last snapshot is kept), 4 the
 * credential was refused (401), 5 the snapshot received was invalid.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "admin_http.h"
#include "cli.h"

enum { SYNC_UNREACHABLE = 3, SYNC_REFUSED = 4, SYNC_INVALID = 5 };

#define MAX_SNAPSHOT_BODY ((size_t)1 << 30) /* 1 GiB: a JWE of the largest snapshot we read */
#define MAX_URLS          16
#define BACKOFF_MAX       30 /* seconds between rounds when every node failed */
#define DEFAULT_WAIT      30

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* ---- HTTP ------------------------------------------------------------------------ */

typedef struct fetch_result {
    long status;
    char *body; /* malloc'd, NUL-terminated */
    size_t len;
    char etag[128];
    int too_big;
} fetch_result;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    fetch_result *f = userdata;
    size_t n = size * nmemb;
    if (f->len + n > MAX_SNAPSHOT_BODY) {
        f->too_big = 1;
        return 0;
    }
    char *grown = realloc(f->body, f->len + n + 1);
    if (grown == NULL)
        return 0;
    f->body = grown;
    memcpy(f->body + f->len, ptr, n);
    f->len += n;
    f->body[f->len] = '\0';
    return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    fetch_result *f = userdata;
    size_t n = size * nitems;
    if (n > 5 && strncasecmp(buf, "ETag:", 5) == 0) {
        const char *v = buf + 5;
        size_t len = n - 5;
        while (len > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        if (len < sizeof f->etag) {
            memcpy(f->etag, v, len);
            f->etag[len] = '\0';
        }
    }
    return n;
}

/* A SIGTERM interrupts a long poll at once. */
static int on_progress(void *p, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)p;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return stop_flag != 0;
}

/*
 * GET `url` with an optional bearer credential and If-None-Match. 0 with
 * f->status set, or -1 (transport failure: `why` says what, never a secret).
 */
static int http_get(const char *url, const char *bearer, const char *inm, long timeout,
                    fetch_result *f, char *why, size_t why_len)
{
    memset(f, 0, sizeof *f);
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    struct curl_slist *headers = NULL;
    char *auth = NULL, *match = NULL;
    if (bearer != NULL) {
        size_t n = strlen(bearer) + 32;
        auth = malloc(n);
        if (auth != NULL) {
            snprintf(auth, n, "Authorization: Bearer %s", bearer);
            headers = curl_slist_append(headers, auth);
        }
    }
    if (inm != NULL) {
        size_t n = strlen(inm) + 32;
        match = malloc(n);
        if (match != NULL) {
            snprintf(match, n, "If-None-Match: %s", inm);
            headers = curl_slist_append(headers, match);
        }
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* the credential goes nowhere else */
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode res = curl_easy_perform(curl);
    int rc = 0;
    if (res != CURLE_OK) {
        snprintf(why, why_len, "%s", f->too_big ? "response too large" : curl_easy_strerror(res));
        free(f->body);
        f->body = NULL;
        f->len = 0;
        rc = -1;
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &f->status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (auth != NULL)
        jg_free_secret(auth, 0);
    free(match);
    return rc;
}

/* ---- The credential file ------------------------------------------------------- */

/* Write `doc` to `path` atomically, mode 0600 (the library's writer:
 * temporary file in the same directory, fsync, rename, fsync of the
 * directory). 0 or -1 (errno set). */
static int write_json_file(const char *path, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL) {
        errno = ENOMEM;
        return -1;
    }
    size_t n = strlen(text);
    char *with_nl = malloc(n + 2);
    jg_err err = JG_ERR_NOMEM;
    if (with_nl != NULL) {
        memcpy(with_nl, text, n);
        with_nl[n] = '\n';
        with_nl[n + 1] = '\0';
        err = jg_snapshot_write_file(path, (const uint8_t *)with_nl, n + 1);
        jg_free_secret(with_nl, n + 1);
    }
    jg_free_secret(text, n);
    return err == JG_OK ? 0 : -1;
}

/* Wipe the private members of a JWK object before it is released. */
static void wipe_private(json_t *jwk)
{
    static const char *const names[] = {"d", "p", "q", "dp", "dq", "qi", "k"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *v = json_object_get(jwk, names[i]);
        const char *s = json_string_value(v);
        if (s != NULL)
            jg_memzero((char *)s, strlen(s));
    }
}

static void credential_free(json_t *doc)
{
    if (doc == NULL)
        return;
    wipe_private(json_object_get(doc, "key"));
    const char *c = json_string_value(json_object_get(doc, "credential"));
    if (c != NULL)
        jg_memzero((char *)c, strlen(c));
    json_decref(doc);
}

int cli_admin_gateway_create(const char *url, const char *token, int as_json, int argc, char **argv)
{
    const char *cmd = "admin gateway create";
    const char *name = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strncmp(argv[i], "--", 2) != 0 && name == NULL)
            name = argv[i];
        else
            return cli_usage(cmd, "unknown option, missing value or extra argument: %s", argv[i]);
    }
    if (name == NULL)
        return cli_usage(cmd, "missing argument NAME");
    char default_out[320];
    if (out == NULL) {
        snprintf(default_out, sizeof default_out, "gateway-%s.json", name);
        out = default_out;
    }
    struct stat sb;
    if (stat(out, &sb) == 0)
        return cli_fail(EXIT_USAGE, "%s: %s exists: a credential is never overwritten", cmd, out);
    /* The directory must take the file before anything is registered. */
    char probe[400];
    snprintf(probe, sizeof probe, "%s.probe-%ld", out, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return cli_fail(EXIT_USAGE, "%s: cannot write next to %s: %s", cmd, out, strerror(errno));
    close(fd);
    unlink(probe);

    /* The control plane's signing keys now: the first link of the trust. */
    size_t blen = strlen(url);
    while (blen > 0 && url[blen - 1] == '/')
        blen--;
    char jwks_url[2048];
    snprintf(jwks_url, sizeof jwks_url, "%.*s/.well-known/jwks.json", (int)blen, url);
    fetch_result f;
    char why[256];
    if (http_get(jwks_url, NULL, NULL, 30, &f, why, sizeof why) != 0)
        return cli_fail(EXIT_USAGE, "%s: %.*s: %s", cmd, (int)blen, url, why);
    json_t *trust =
        f.status == 200 ? json_loadb(f.body, f.len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(f.body);
    jg_jwks *check = NULL;
    char *trust_text = trust != NULL ? json_dumps(trust, JSON_COMPACT) : NULL;
    if (trust_text == NULL ||
        jg_jwks_parse(trust_text, strlen(trust_text), JG_JWK_PUBLIC_ONLY, NULL, &check) != JG_OK ||
        jg_jwks_count(check) == 0) {
        free(trust_text);
        jg_jwks_free(check);
        json_decref(trust);
        return cli_fail(EXIT_USAGE, "%s: %s: no signing keys (HTTP %ld)", cmd, jwks_url, f.status);
    }
    free(trust_text);
    jg_jwks_free(check);

    jg_jwk *key = NULL;
    char *pub = NULL, *priv = NULL;
    int status = EXIT_USAGE;
    json_t *body = NULL, *doc = NULL, *cred = NULL, *privdoc = NULL;
    char *resp = NULL;
    size_t resp_len = 0;
    if (jg_jwk_generate_for_alg(JG_ALG_ECDH_ES_A256KW, JG_CRV_P256, 0, NULL, &key) != JG_OK ||
        jg_jwk_to_json(key, 0, &pub, NULL) != JG_OK ||
        jg_jwk_to_json(key, JG_EXPORT_PRIVATE, &priv, NULL) != JG_OK) {
        cli_fail(EXIT_USAGE, "%s: cannot generate the key pair", cmd);
        goto out;
    }
    body = json_pack("{ss so}", "name", name, "jwk", json_loads(pub, 0, NULL));
    long code = 0;
    if (body == NULL || (status = admin_http(url, token, "POST", "/gateways", body, &code, &resp,
                                             &resp_len)) != EXIT_OK)
        goto out;
    doc = json_loadb(resp, resp_len, 0, NULL);
    if (code != 201) {
        const char *title = json_string_value(json_object_get(doc, "title"));
        const char *detail = json_string_value(json_object_get(doc, "detail"));
        fprintf(stderr, "jwtgate: %ld %s%s%s\n", code, title ? title : "error", detail ? ": " : "",
                detail ? detail : "");
        status = EXIT_REJECTED;
        goto out;
    }
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *credential = json_string_value(json_object_get(doc, "credential"));
    privdoc = json_loads(priv, 0, NULL);
    cred = json_pack("{ss ss sO sO}", "gateway_id", id != NULL ? id : "", "credential",
                     credential != NULL ? credential : "", "key", privdoc, "trust", trust);
    if (cred == NULL || id == NULL || credential == NULL || write_json_file(out, cred) != 0) {
        status = cli_fail(EXIT_USAGE,
                          "%s: gateway %s registered but %s could not be written (%s): revoke it "
                          "(jwtgate admin gateway revoke %s) and create another",
                          cmd, id != NULL ? id : "?", out, strerror(errno), id != NULL ? id : "ID");
        goto out;
    }
    if (as_json) {
        json_t *shown = json_pack("{sO sO sO sO ss}", "id", json_object_get(doc, "id"), "name",
                                  json_object_get(doc, "name"), "kid", json_object_get(doc, "kid"),
                                  "state", json_object_get(doc, "state"), "credential_file", out);
        status = cli_print_json(shown, 1);
        json_decref(shown);
    } else {
        printf("id: %s\nname: %s\nkid: %s\ncredential file: %s (mode 0600; the private key and "
               "the credential are in it)\n",
               id, json_string_value(json_object_get(doc, "name")),
               json_string_value(json_object_get(doc, "kid")), out);
        status = EXIT_OK;
    }
out:
    jg_jwk_free(key);
    jg_free(pub);
    if (priv != NULL)
        jg_free_secret(priv, 0);
    json_decref(body);
    if (privdoc != NULL)
        wipe_private(privdoc);
    json_decref(privdoc);
    credential_free(cred);
    if (doc != NULL) {
        const char *c = json_string_value(json_object_get(doc, "credential"));
        if (c != NULL)
            jg_memzero((char *)c, strlen(c));
    }
    json_decref(doc);
    if (resp != NULL)
        jg_free_secret(resp, resp_len);
    json_decref(trust);
    return status;
}

/* ---- sync ------------------------------------------------------------------------- */

typedef struct sync_state {
    const char *urls[MAX_URLS];
    size_t nurls, current;
    const char *cred_path, *out;
    const char *secrets_out; /* --secrets-out: the gateway secrets key file, or NULL */
    char secrets_etag[160];  /* the kid of the key in it ("\"kid\""), "" if none */
    long wait;
    int once;
    unsigned mode; /* of the snapshot file: 0600 or 0640 (--mode) */
    json_t *cred;  /* the credential file's document */
    const char *credential;
    jg_jwks *dec;   /* the gateway's private key */
    jg_jwks *trust; /* the control plane's signing keys we trust */
    char *trust_text;
    /* What is on disk: its ETag, version and database. */
    char etag[128];
    int64_t version;
    uint8_t db_id[JG_SNAPSHOT_DB_ID_LEN];
    int have;
    int secrets_checked; /* the secrets key was fetched (or found fresh) in this process */
} sync_state;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jwtgate: gateway sync: ", stderr);
    /* clang 14's analyzer misreads va_start here (false positive). */
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    fputc('\n', stderr);
    va_end(ap);
}

static void make_etag(char *out, size_t len, const uint8_t id[16], int64_t version)
{
    char hex[33];
    for (size_t i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    snprintf(out, len, "\"%s-%lld\"", hex, (long long)version);
}

static int load_trust(sync_state *s, const json_t *trust)
{
    char *text = json_dumps(trust, JSON_COMPACT | JSON_SORT_KEYS);
    jg_jwks *set = NULL;
    if (text == NULL ||
        jg_jwks_parse(text, strlen(text), JG_JWK_PUBLIC_ONLY, NULL, &set) != JG_OK ||
        jg_jwks_count(set) == 0) {
        free(text);
        jg_jwks_free(set);
        return -1;
    }
    jg_jwks_free(s->trust);
    free(s->trust_text);
    s->trust = set;
    s->trust_text = text;
    return 0;
}

static int load_credential(sync_state *s)
{
    size_t len = 0;
    char *text = cli_read_file(s->cred_path, &len, 0);
    if (text == NULL)
        return -1;
    json_error_t e;
    s->cred = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    jg_free_secret(text, len);
    const json_t *key = json_object_get(s->cred, "key");
    s->credential = json_string_value(json_object_get(s->cred, "credential"));
    if (!json_is_object(key) || s->credential == NULL ||
        !json_is_object(json_object_get(s->cred, "trust"))) {
        say("%s: not a gateway credential file (jwtgate admin gateway create)", s->cred_path);
        return -1;
    }
    char *ktext = json_dumps(key, JSON_COMPACT);
    jg_jwk *k = NULL;
    jg_err err = ktext != NULL ? jg_jwk_parse(ktext, strlen(ktext), 0, &k) : JG_ERR_NOMEM;
    if (ktext != NULL)
        jg_free_secret(ktext, 0);
    if (err != JG_OK || !jg_jwk_is_private(k) || jg_jwks_new(&s->dec) != JG_OK ||
        jg_jwks_add(s->dec, k) != JG_OK) {
        jg_jwk_free(k);
        say("%s: the gateway key: %s", s->cred_path,
            err != JG_OK ? jg_strerror(err) : "not a private key");
        return -1;
    }
    jg_jwk_free(k);
    if (load_trust(s, json_object_get(s->cred, "trust")) != 0) {
        say("%s: \"trust\" holds no usable signing key", s->cred_path);
        return -1;
    }
    return 0;
}

/* The snapshot already at s->out, if any: its version and database. */
static void read_current(sync_state *s)
{
    jg_snapshot *snap = NULL;
    jg_snapshot_info info;
    if (jg_snapshot_open(s->out, NULL, &snap) == JG_OK &&
        jg_snapshot_get_info(snap, &info) == JG_OK) {
        s->have = 1;
        s->version = info.version;
        memcpy(s->db_id, info.db_id, sizeof s->db_id);
        make_etag(s->etag, sizeof s->etag, s->db_id, s->version);
        say("%s: version %lld on disk", s->out, (long long)s->version);
    }
    jg_snapshot_close(snap);
}

/* A 200's body: decrypt, verify, check, write. 0 (written or the same
 * version), or SYNC_INVALID (logged), or EXIT_USAGE (cannot write: logged). */
static int accept_body(sync_state *s, const fetch_result *f)
{
    jg_limits lim = jg_limits_default();
    lim.max_token_len = MAX_SNAPSHOT_BODY;
    lim.max_payload_len = MAX_SNAPSHOT_BODY;
    jg_jwe_decrypt_opts dopts = {.algs = JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW),
                                 .encs = JG_ENC_BIT(JG_ENC_A256GCM),
                                 .limits = &lim};
    jg_jwe *e = NULL;
    jg_jws *w = NULL;
    jg_snapshot *snap = NULL;
    int rc = SYNC_INVALID;
    jg_err err = jg_jwe_decrypt(f->body, f->len, s->dec, &dopts, &e);
    if (err != JG_OK) {
        say("the snapshot cannot be decrypted with this gateway's key: %s", jg_strerror(err));
        goto out;
    }
    size_t plen = 0;
    const unsigned char *plain = jg_jwe_plaintext(e, &plen);
    /* The control plane signs with an asymmetric key: never HMAC. */
    static const jg_alg sig_algs[] = {JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512,  JG_ALG_RS256,
                                      JG_ALG_RS384, JG_ALG_RS512, JG_ALG_PS256,  JG_ALG_PS384,
                                      JG_ALG_PS512, JG_ALG_EDDSA, JG_ALG_ED25519};
    jg_alg_set algs = 0;
    for (size_t i = 0; i < sizeof sig_algs / sizeof sig_algs[0]; i++)
        algs |= (jg_alg_set)1 << (unsigned)sig_algs[i];
    jg_jws_verify_opts vopts = {.algs = algs, .limits = &lim};
    err = jg_jws_verify((const char *)plain, plen, s->trust, &vopts, &w);
    if (err != JG_OK) {
        say("the snapshot's signature is not from a trusted control-plane key: %s",
            jg_strerror(err));
        goto out;
    }
    size_t len = 0;
    const unsigned char *data = jg_jws_payload(w, &len);
    jg_snapshot_info info;
    if ((err = jg_snapshot_map_buffer(data, len, NULL, &snap)) != JG_OK ||
        (err = jg_snapshot_verify_step(snap, 0)) != JG_OK ||
        (err = jg_snapshot_get_info(snap, &info)) != JG_OK) {
        say("the signed payload is not a valid compiled snapshot: %s", jg_strerror(err));
        goto out;
    }
    if (s->have && memcmp(info.db_id, s->db_id, sizeof s->db_id) != 0) {
        say("the snapshot is of another database than the one on disk: refused");
        goto out;
    }
    if (s->have && info.version < s->version) {
        say("the snapshot (version %lld) is older than the one on disk (%lld): refused",
            (long long)info.version, (long long)s->version);
        goto out;
    }
    if (!s->have || info.version > s->version) {
        if (jg_snapshot_write_file_mode(s->out, data, len, s->mode) != JG_OK) {
            say("cannot write %s: %s", s->out, strerror(errno));
            rc = EXIT_USAGE;
            goto out;
        }
        say("version %lld written to %s (%zu bytes)", (long long)info.version, s->out, len);
    }
    s->have = 1;
    s->version = info.version;
    memcpy(s->db_id, info.db_id, sizeof s->db_id);
    make_etag(s->etag, sizeof s->etag, s->db_id, s->version);
    /* The chain of trust: the verified snapshot says which keys sign next. */
    jg_snap_str dec, ver, kinfo;
    json_t *vdoc = NULL;
    if (jg_snapshot_keys(snap, &dec, &ver, &kinfo) == JG_OK &&
        (vdoc = json_loadb(ver.ptr, ver.len, JSON_REJECT_DUPLICATES, NULL)) != NULL) {
        char *text = json_dumps(vdoc, JSON_COMPACT | JSON_SORT_KEYS);
        if (text != NULL && (s->trust_text == NULL || strcmp(text, s->trust_text) != 0)) {
            if (load_trust(s, vdoc) == 0) {
                json_object_set(s->cred, "trust", vdoc);
                if (write_json_file(s->cred_path, s->cred) != 0)
                    say("cannot update the trusted keys in %s: %s (kept in memory)", s->cred_path,
                        strerror(errno));
                else
                    say("trusted signing keys updated from version %lld", (long long)info.version);
            }
        }
        free(text);
    }
    json_decref(vdoc);
    rc = 0;
out:
    jg_snapshot_close(snap);
    jg_jws_free(w);
    jg_jwe_free(e);
    return rc;
}

/* The kid of the secrets key already in --secrets-out, as its ETag. */
static void read_current_secrets(sync_state *s)
{
    size_t len = 0;
    char *text = s->secrets_out != NULL ? cli_read_file(s->secrets_out, &len, 0) : NULL;
    json_t *doc = text != NULL ? json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *kid = json_string_value(json_object_get(doc, "kid"));
    if (kid != NULL && strlen(kid) + 3 <= sizeof s->secrets_etag)
        snprintf(s->secrets_etag, sizeof s->secrets_etag, "\"%s\"", kid);
    if (doc != NULL)
        wipe_private(doc);
    json_decref(doc);
    if (text != NULL)
        jg_free_secret(text, len);
}

/*
 * GET /gateway/v1/secrets from `base` (blen bytes): on 200 decrypt it with
 * the gateway's key, check it is an oct JWK with a kid, and write it to
 * --secrets-out (atomically, the snapshot's mode). Fetched before a new
 * snapshot is written, so that a local nginx loading that snapshot finds the
 * key its provider keys are sealed to. 0 (fresh), -1 (logged; tried again
 * with the next snapshot), SYNC_REFUSED.
 */
static int fetch_secrets(sync_state *s, const char *base, size_t blen)
{
    char url[2100];
    snprintf(url, sizeof url, "%.*s/gateway/v1/secrets", (int)blen, base);
    fetch_result f;
    char why[256];
    if (http_get(url, s->credential, s->secrets_etag[0] ? s->secrets_etag : NULL, 30, &f, why,
                 sizeof why) != 0) {
        say("%.*s: secrets key: %s", (int)blen, base, why);
        return -1;
    }
    int rc = -1;
    jg_jwe *e = NULL;
    json_t *doc = NULL;
    if (f.status == 304) {
        rc = 0;
    } else if (f.status == 401 || f.status == 403) {
        say("%.*s: secrets key: the gateway credential was refused (HTTP %ld)", (int)blen, base,
            f.status);
        rc = SYNC_REFUSED;
    } else if (f.status != 200) {
        say("%.*s: secrets key: HTTP %ld", (int)blen, base, f.status);
    } else {
        jg_jwe_decrypt_opts dopts = {.algs = JG_ALG_BIT(JG_ALG_ECDH_ES_A256KW),
                                     .encs = JG_ENC_BIT(JG_ENC_A256GCM)};
        jg_err err = jg_jwe_decrypt(f.body, f.len, s->dec, &dopts, &e);
        size_t plen = 0;
        const unsigned char *plain = err == JG_OK ? jg_jwe_plaintext(e, &plen) : NULL;
        doc = plain != NULL ? json_loadb((const char *)plain, plen, JSON_REJECT_DUPLICATES, NULL)
                            : NULL;
        const char *kid = json_string_value(json_object_get(doc, "kid"));
        const char *kty = json_string_value(json_object_get(doc, "kty"));
        if (kid == NULL || kty == NULL || strcmp(kty, "oct") != 0 ||
            strlen(kid) + 3 > sizeof s->secrets_etag) {
            say("%.*s: the secrets key cannot be decrypted with this gateway's key or is not "
                "one: %s",
                (int)blen, base, err != JG_OK ? jg_strerror(err) : "not an oct JWK with a kid");
        } else if (jg_snapshot_write_file_mode(s->secrets_out, plain, plen, s->mode) != JG_OK) {
            say("cannot write %s: %s", s->secrets_out, strerror(errno));
        } else {
            snprintf(s->secrets_etag, sizeof s->secrets_etag, "\"%s\"", kid);
            say("gateway secrets key %s written to %s", kid, s->secrets_out);
            rc = 0;
        }
    }
    if (doc != NULL)
        wipe_private(doc);
    json_decref(doc);
    jg_jwe_free(e); /* its plaintext is wiped by the library */
    if (f.body != NULL)
        jg_free_secret(f.body, f.len);
    return rc;
}

/* One request to the current node. Returns 0 (fresh: 200 or 304), -1 (this
 * node failed: try the next), SYNC_REFUSED, SYNC_INVALID, EXIT_USAGE. */
static int poll_once(sync_state *s, long wait)
{
    const char *base = s->urls[s->current];
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    char url[2100];
    snprintf(url, sizeof url, "%.*s/gateway/v1/snapshot?wait=%ld", (int)blen, base, wait);
    fetch_result f;
    char why[256];
    if (http_get(url, s->credential, s->have ? s->etag : NULL, wait + 60, &f, why, sizeof why) !=
        0) {
        if (!stop_flag)
            say("%.*s: %s", (int)blen, base, why);
        return -1;
    }
    int rc;
    /* the secrets key first (a new one, or the first time in this process) */
    int secrets = s->secrets_out != NULL && (f.status == 200 || !s->secrets_checked)
                      ? fetch_secrets(s, base, blen)
                      : 0;
    if (secrets == 0 && s->secrets_out != NULL && (f.status == 200 || f.status == 304))
        s->secrets_checked = 1;
    if (secrets == SYNC_REFUSED) {
        rc = SYNC_REFUSED;
    } else if (f.status == 304) {
        rc = 0;
    } else if (f.status == 200) {
        rc = accept_body(s, &f);
    } else if (f.status == 401 || f.status == 403) {
        say("%.*s: the gateway credential was refused (HTTP %ld): revoked?", (int)blen, base,
            f.status);
        rc = SYNC_REFUSED;
    } else {
        say("%.*s: HTTP %ld", (int)blen, base, f.status);
        rc = -1;
    }
    free(f.body);
    return rc;
}

static void sleep_interruptible(double seconds)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
    for (long ticks = (long)(seconds * 10); ticks > 0 && !stop_flag; ticks--)
        nanosleep(&ts, NULL);
}

static const char sync_usage[] =
    "Usage: jwtgate gateway sync --url URL [--url URL ...] --credential FILE --out PATH\n"
    "                            [--wait SECONDS] [--mode 0600|0640] [--once]\n"
    "                            [--secrets-out FILE]\n"
    "Keep PATH (the nginx module's jwtgate_snapshot file) up to date from jwtgated's\n"
    "GET /gateway/v1/snapshot: long polls (--wait, default 30, at most 60) with failover\n"
    "between the URLs; each snapshot is decrypted with the credential's key, its signature\n"
    "checked against the trusted control-plane keys, and written atomically. Runs in the\n"
    "foreground until SIGTERM/SIGINT; --once fetches once (no wait unless --wait) and exits.\n"
    "--mode: the snapshot file's mode, 0600 (default) or 0640 (its group reads it: the\n"
    "nginx workers through the jwtgate group on a packaged host, docs/SECURITY.md).\n"
    "--secrets-out FILE: also keep the gateway secrets key (GET /gateway/v1/secrets,\n"
    "decrypted with the credential's key; the LLM provider keys in the snapshot are\n"
    "sealed to it) in FILE, the nginx module's jwtgate_secrets_key, same mode; written\n"
    "before a snapshot that needs it.\n"
    "Exit status: 0 fresh (or a clean stop), 2 usage or setup, 3 every node unreachable\n"
    "(the last snapshot is kept), 4 the credential was refused (401), 5 invalid snapshot.\n"
    "\n"
    "Example:\n"
    "  jwtgate admin gateway create edge-1 --out /etc/jwtgate/edge-1.json\n"
    "  jwtgate gateway sync --url https://cp1:8443 --url https://cp2:8443 \\\n"
    "      --credential /etc/jwtgate/edge-1.json --out /var/lib/jwtgate/snapshot.jgs\n";

static int cmd_sync(int argc, char **argv)
{
    sync_state s = {.wait = -1, .mode = 0600};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(sync_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--once") == 0) {
            s.once = 1;
        } else if (i + 1 >= argc) {
            return cli_usage("gateway sync", "unknown option or missing value: %s", a);
        } else if (strcmp(a, "--url") == 0) {
            if (s.nurls == MAX_URLS)
                return cli_usage("gateway sync", "at most %d --url", MAX_URLS);
            s.urls[s.nurls++] = argv[++i];
        } else if (strcmp(a, "--credential") == 0) {
            s.cred_path = argv[++i];
        } else if (strcmp(a, "--out") == 0) {
            s.out = argv[++i];
        } else if (strcmp(a, "--secrets-out") == 0) {
            s.secrets_out = argv[++i];
        } else if (strcmp(a, "--mode") == 0) {
            const char *m = argv[++i];
            if (strcmp(m, "0600") == 0 || strcmp(m, "600") == 0)
                s.mode = 0600;
            else if (strcmp(m, "0640") == 0 || strcmp(m, "640") == 0)
                s.mode = 0640;
            else
                return cli_usage("gateway sync", "--mode: 0600 or 0640, not %s", m);
        } else if (strcmp(a, "--wait") == 0) {
            uint64_t w = 0;
            if (cli_parse_uint("gateway sync", "--wait", argv[++i], 60, &w) != EXIT_OK)
                return EXIT_USAGE;
            s.wait = (long)w;
        } else {
            return cli_usage("gateway sync", "unknown option: %s", a);
        }
    }
    if (s.nurls == 0 || s.cred_path == NULL || s.out == NULL)
        return cli_usage("gateway sync", "--url, --credential and --out are required");
    if (s.wait < 0)
        s.wait = s.once ? 0 : DEFAULT_WAIT;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int status = EXIT_USAGE;
    if (load_credential(&s) != 0)
        goto out;
    read_current(&s);
    read_current_secrets(&s);
    double backoff = 1;
    while (!stop_flag) {
        int rc = -1;
        /* One round: each node once, starting with the one that answered last. */
        for (size_t tried = 0; tried < s.nurls && !stop_flag; tried++) {
            rc = poll_once(&s, s.wait);
            if (rc != -1)
                break;
            s.current = (s.current + 1) % s.nurls;
        }
        if (stop_flag)
            break;
        if (rc == 0) {
            backoff = 1;
            if (s.once) {
                status = EXIT_OK;
                goto out;
            }
            continue;
        }
        if (rc == EXIT_USAGE) {
            status = EXIT_USAGE;
            goto out;
        }
        if (rc == -1) {
            if (s.have)
                say("every node is unreachable; keeping the snapshot on disk (version %lld)",
                    (long long)s.version);
            else
                say("every node is unreachable and there is no snapshot on disk yet");
        }
        if (s.once) {
            status = rc == -1 ? SYNC_UNREACHABLE : rc;
            goto out;
        }
        /* Bounded exponential backoff with jitter (many gateways must not
         * return in step after an outage). */
        unsigned char r = 0;
        if (getrandom(&r, 1, 0) != 1)
            r = 128;
        double jitter = (double)r / 255.0 * backoff * 0.5;
        sleep_interruptible(backoff + jitter);
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
    say("stopping");
    status = EXIT_OK;
out:
    jg_jwks_free(s.dec);
    jg_jwks_free(s.trust);
    free(s.trust_text);
    credential_free(s.cred);
    return status;
}

int cli_gateway(int argc, char **argv)
{
    static const cli_command commands[] = {
        {"sync", cmd_sync, "keep a local snapshot file up to date from jwtgated (an agent)"},
        {"usage", cli_gateway_usage, "report the AI module's usage log to jwtgated (an agent)"},
        {"jwks", cli_gateway_jwks,
         "keep the nginx module's issuer key sets up to date from their JWKS URLs (an agent)"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("gateway", commands, argc - 1, argv + 1);
}
