/*
 * main.c — jwtgated: init | serve | rotate-keys | backup | restore.
 *
 *   jwtgated init        create the database, keys and the first system
 *                        administrator; print that administrator's token once
 *   jwtgated serve       run the token service and the admin API
 *   jwtgated rotate-keys rotate the signing and/or encryption keys
 *   jwtgated backup      copy the database, online and consistent
 *   jwtgated restore     replace the database by a backup (server stopped)
 *
 * Only `serve` publishes snapshots; `serve`, `init` and `restore` hold the
 * instance lock (core/instance.h), so a second server on the same data
 * refuses to start.
 *
 * The master key (JWTGATED_MASTER_KEY or --master-key-file) is required by
 * every command: without it the service refuses to start.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "server/core/change.h"
#include "server/core/conffile.h"
#include "server/core/log.h"
#include "server/core/masterkey.h"
#include "server/core/password.h"
#include "server/core/stats.h"
#include "server/core/util.h"
#include "server/core/view.h"
#include "server/admin/admin_internal.h"
#include "server/http/http.h"
#include "server/keys/keys.h"
#include "server/oauth/dpop_nonce.h"
#include "server/oauth/throttle.h"
#include "server/gateway/gateway.h"
#include "server/gateway/overquota.h"
#include "server/gateway/usage.h"
#include "server/snapshot/publisher.h"
#include "server/snapshot/snapshot.h"

static const char usage[] =
    "Usage: jwtgated <command> [options]\n"
    "\n"
    "Commands:\n"
    "  init         create the database and keys, print the first administrator's token\n"
    "  serve        run the OAuth 2.0 token service and the admin API\n"
    "  rotate-keys  rotate keys: --purpose signing|encryption|both|secrets|all (default both)\n"
    "  backup       --to FILE: a consistent copy of the database, while serving\n"
    "  restore      --from FILE: replace the database by a backup (jwtgated stopped)\n"
    "  passwd       set a user's console password: --user NAME (default admin), the\n"
    "               password on standard input (a line), or --generate: a first-login\n"
    "               password printed once, to be changed at the first sign-in\n"
    "  create-master-key\n"
    "               create --master-key-file (mode 0600) unless it exists: a service's\n"
    "               first start (ExecStartPre of the packaged unit)\n"
    "\n"
    "Options (all commands):\n"
    "  --config FILE           \"key = value\" lines, a key per long option below (without\n"
    "                          the dashes; access-log = true); the command line wins\n"
    "  --data-dir DIR          database and snapshot location (default .)\n"
    "  --db PATH|URI           database (default DIR/jwtgated.db); postgresql://... for\n"
    "                          a PostgreSQL database (any libpq connection URI)\n"
    "  --snapshot PATH         data-plane snapshot (default DIR/snapshot.jgs)\n"
    "  --secrets-key PATH      the gateway secrets key for a local gateway (default\n"
    "                          DIR/gateway-secrets.jwk, the snapshot's mode)\n"
    "  --snapshot-mode 0600|0640\n"
    "                          the snapshot file's mode (default 0600; 0640: readable by\n"
    "                          the group, e.g. jwtgate on a packaged host)\n"
    "  --snapshot-format compiled|json\n"
    "                          compiled (default, format 2) or JSON (format 1: for\n"
    "                          gateways older than format 2)\n"
    "  --master-key-file PATH  the master key (else $" MASTER_KEY_ENV "); init creates it\n"
    "  --issuer URL            issuer identifier (default http://LISTEN:PORT)\n"
    "  --signing-alg ALG       new issuer keys (default ES256)\n"
    "  --encryption-alg ALG    new gateway keys (default ECDH-ES+A256KW)\n"
    "Options (serve):\n"
    "  --listen ADDR           IPv4 or IPv6 address (default 127.0.0.1)\n"
    "  --port N                port (default 8080; 0 picks a free one)\n"
    "  --port-file PATH        write the port there once listening\n"
    "  --token-ttl SECONDS     access token lifetime (default 900)\n"
    "  --threads N             HTTP worker threads (default: CPUs)\n"
    "  --timeout SECONDS       idle connection timeout (default 10)\n"
    "  --request-timeout SECONDS\n"
    "                          a whole request must arrive within this (default 10)\n"
    "  --publish-delay MS      gather changes this long before writing the snapshot\n"
    "                          (default 100; 0: write as soon as a change commits)\n"
    "  --max-connections N     (default 1024)\n"
    "  --max-connections-per-ip N\n"
    "                          per peer address, trusted proxies exempt (default 32; 0: off)\n"
    "  --trusted-proxy CIDR    a reverse proxy whose forwarding header names the client\n"
    "                          (repeatable; e.g. 127.0.0.1/32)\n"
    "  --real-ip-header NAME   X-Forwarded-For (default) or Forwarded\n"
    "  --access-log            log one line per request (never bodies or query strings)\n"
    "  --client-cert-header NAME\n"
    "                          the header a trusted proxy forwards the TLS client\n"
    "                          certificate in (RFC 8705; default Client-Cert)\n"
    "  --dpop-nonce            the token endpoint requires DPoP proofs to carry its\n"
    "                          DPoP-Nonce (RFC 9449 section 8)\n"
    "  --test-clock-file PATH  FOR TESTS ONLY, never in production: the service's clock\n"
    "                          runs the seconds in PATH (an integer, re-read every\n"
    "                          second) ahead of the real one; command line only\n"
    "Options (init):\n"
    "  --admin NAME            the first system administrator (default admin); when\n"
    "                          standard error is a terminal, init also prints a\n"
    "                          first-login console password for it there\n"
    "\n"
    "Example:\n"
    "  jwtgated init --data-dir /var/lib/jwtgated --master-key-file /etc/jwtgated/master.key\n"
    "  jwtgated serve --data-dir /var/lib/jwtgated --master-key-file /etc/jwtgated/master.key \\\n"
    "      --issuer https://auth.example.com --listen 0.0.0.0 --port 8080\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct opts {
    jgd_config cfg;
    const char *admin;
    const char *purpose;
    const char *db, *snapshot, *secrets_key, *issuer;
    const char *to, *from;
    const char *user; /* passwd */
    int generate;     /* passwd --generate */
} opts;

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->cfg.data_dir = ".";
    o->cfg.listen = "127.0.0.1";
    o->cfg.port = 8080;
    o->cfg.token_ttl = 900;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->cfg.threads = cpus > 0 && cpus < 64 ? (unsigned)cpus : 2;
    o->cfg.timeout = 10;
    o->cfg.max_connections = 1024;
    o->cfg.max_per_ip = 32;
    o->cfg.request_timeout = 10;
    o->cfg.publish_delay_ms = 100;
    o->cfg.snapshot_mode = 0600;
    o->cfg.real_ip_header = NET_X_FORWARDED_FOR;
    o->cfg.signing_alg = JG_ALG_ES256;
    o->cfg.encryption_alg = JG_ALG_ECDH_ES_A256KW;
    o->admin = "admin";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n = 0;
#define TAKES(name) (strcmp(a, name) == 0 && v != NULL && (++i, 1))
        if (strcmp(a, "--access-log") == 0)
            o->cfg.access_log = 1;
        else if (strcmp(a, "--generate") == 0)
            o->generate = 1;
        else if (TAKES("--user"))
            o->user = v;
        else if (TAKES("--test-clock-file"))
            o->cfg.test_clock_file = v;
        else if (strcmp(a, "--dpop-nonce") == 0)
            o->cfg.dpop_nonce = 1;
        else if (TAKES("--client-cert-header")) {
            /* a field name (RFC 9110 section 5.1): a token, bounded */
            if (*v == '\0' || strlen(v) > 64 ||
                strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                          "klmnopqrstuvwxyz0123456789-_") != strlen(v))
                goto bad;
            o->cfg.client_cert_header = v;
        } else if (TAKES("--data-dir"))
            o->cfg.data_dir = v;
        else if (TAKES("--db"))
            o->db = v;
        else if (TAKES("--snapshot"))
            o->snapshot = v;
        else if (TAKES("--secrets-key"))
            o->secrets_key = v;
        else if (TAKES("--master-key-file"))
            o->cfg.master_key_file = v;
        else if (TAKES("--issuer")) {
            /* RFC 8414: an https (or, for tests, http) URL without query or
             * fragment; a path would move the metadata's well-known URL. */
            if ((strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) ||
                strpbrk(v, "?#") != NULL || strchr(strstr(v, "//") + 2, '/') != NULL ||
                strlen(v) > 400)
                goto bad;
            o->issuer = v;
        } else if (TAKES("--listen"))
            o->cfg.listen = v;
        else if (TAKES("--port-file"))
            o->cfg.port_file = v;
        else if (TAKES("--admin"))
            o->admin = v;
        else if (TAKES("--purpose"))
            o->purpose = v;
        else if (TAKES("--to"))
            o->to = v;
        else if (TAKES("--from"))
            o->from = v;
        else if (TAKES("--port")) {
            if (parse_uint(v, 65535, &n) != 0)
                goto bad;
            o->cfg.port = (unsigned)n;
        } else if (TAKES("--token-ttl")) {
            if (parse_uint(v, 86400, &n) != 0 || n < 60)
                goto bad;
            o->cfg.token_ttl = (int64_t)n;
        } else if (TAKES("--threads")) {
            if (parse_uint(v, 256, &n) != 0 || n == 0)
                goto bad;
            o->cfg.threads = (unsigned)n;
        } else if (TAKES("--timeout")) {
            if (parse_uint(v, 3600, &n) != 0 || n == 0)
                goto bad;
            o->cfg.timeout = (unsigned)n;
        } else if (TAKES("--request-timeout")) {
            if (parse_uint(v, 3600, &n) != 0 || n == 0)
                goto bad;
            o->cfg.request_timeout = (unsigned)n;
        } else if (TAKES("--snapshot-format")) {
            if (strcmp(v, "compiled") == 0)
                o->cfg.snapshot_format = SNAPSHOT_COMPILED;
            else if (strcmp(v, "json") == 0)
                o->cfg.snapshot_format = SNAPSHOT_JSON;
            else
                goto bad;
        } else if (TAKES("--snapshot-mode")) {
            if (strcmp(v, "0600") == 0 || strcmp(v, "600") == 0)
                o->cfg.snapshot_mode = 0600;
            else if (strcmp(v, "0640") == 0 || strcmp(v, "640") == 0)
                o->cfg.snapshot_mode = 0640;
            else
                goto bad;
        } else if (TAKES("--publish-delay")) {
            if (parse_uint(v, 60000, &n) != 0)
                goto bad;
            o->cfg.publish_delay_ms = (unsigned)n;
        } else if (TAKES("--max-connections-per-ip")) {
            if (parse_uint(v, 65536, &n) != 0)
                goto bad;
            o->cfg.max_per_ip = (unsigned)n;
        } else if (TAKES("--trusted-proxy")) {
            net_cidrs *t = &o->cfg.trusted_proxies;
            if (t->n == NET_MAX_CIDRS || net_parse_cidr(v, &t->v[t->n]) != 0)
                goto bad;
            t->n++;
        } else if (TAKES("--real-ip-header")) {
            if (strcasecmp(v, "X-Forwarded-For") == 0)
                o->cfg.real_ip_header = NET_X_FORWARDED_FOR;
            else if (strcasecmp(v, "Forwarded") == 0)
                o->cfg.real_ip_header = NET_FORWARDED;
            else
                goto bad;
        } else if (TAKES("--max-connections")) {
            if (parse_uint(v, 65536, &n) != 0 || n == 0)
                goto bad;
            o->cfg.max_connections = (unsigned)n;
        } else if (TAKES("--signing-alg")) {
            o->cfg.signing_alg = jg_alg_from_name(v, strlen(v));
            if (o->cfg.signing_alg == JG_ALG_UNKNOWN)
                goto bad;
        } else if (TAKES("--encryption-alg")) {
            o->cfg.encryption_alg = jg_alg_from_name(v, strlen(v));
            if (o->cfg.encryption_alg == JG_ALG_UNKNOWN)
                goto bad;
        } else {
            fprintf(stderr, "jwtgated: unknown option or missing value: %s\n%s", a, usage);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "jwtgated: bad value for %s: %s\n", a, v);
        return -1;
#undef TAKES
    }
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void set_issuer(jgd *d, const char *issuer)
{
    free(d->cfg.issuer);
    free(d->token_endpoint);
    char buf[512];
    if (issuer != NULL) {
        size_t n = strlen(issuer);
        while (n > 0 && issuer[n - 1] == '/')
            n--;
        snprintf(buf, sizeof buf, "%.*s", (int)n, issuer);
    } else if (strchr(d->cfg.listen, ':') != NULL)
        snprintf(buf, sizeof buf, "http://[%s]:%u", d->cfg.listen, d->cfg.port);
    else
        snprintf(buf, sizeof buf, "http://%s:%u", d->cfg.listen, d->cfg.port);
    d->cfg.issuer = strdup(buf);
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "/oauth2/token");
    d->token_endpoint = strdup(buf);
}

/* Open everything a command needs; 0 or -1 (reported). `exclusive`: hold
 * the instance lock (serve, init, restore) and check the database is the
 * one its write-ahead log belongs to. */
static int setup(jgd *d, const opts *o, int need_master, int exclusive)
{
    memset(d, 0, sizeof *d);
    d->lock.db_fd = d->lock.snap_fd = -1;
    d->cfg = o->cfg;
    d->cfg.db_path = o->db != NULL ? strdup(o->db) : join(o->cfg.data_dir, "jwtgated.db");
    d->db_shown = store_location_shown(d->cfg.db_path); /* no password in a log */
    d->cfg.snapshot_path =
        o->snapshot != NULL ? strdup(o->snapshot) : join(o->cfg.data_dir, "snapshot.jgs");
    d->cfg.secrets_key_path = o->secrets_key != NULL ? strdup(o->secrets_key)
                                                     : join(o->cfg.data_dir, "gateway-secrets.jwk");
    pthread_mutex_init(&d->write_mu, NULL);
    pthread_mutex_init(&d->view_mu, NULL);
    d->throttle = throttle_new();
    d->login_throttle = throttle_new();
    d->stats = stats_new();
    set_issuer(d, o->issuer);
    if (d->cfg.db_path == NULL || d->db_shown == NULL || d->cfg.snapshot_path == NULL ||
        d->cfg.secrets_key_path == NULL || d->throttle == NULL || d->login_throttle == NULL ||
        d->stats == NULL || d->cfg.issuer == NULL)
        return -1;
    char why[256];
    if (need_master && masterkey_load(d->cfg.master_key_file, &d->master, why, sizeof why) != 0) {
        log_msg(L_ERR, "refusing to start: %s", why);
        return -1;
    }
    /* PostgreSQL: no database file to lock (several nodes may share the
     * database), and no write-ahead log of ours; the snapshot is still one
     * process's. */
    int pg = store_is_postgresql(d->cfg.db_path);
    if (exclusive &&
        (instance_lock_take(&d->lock, pg ? NULL : d->cfg.db_path, d->cfg.snapshot_path, why,
                            sizeof why) != 0 ||
         (!pg && instance_check_wal(&d->lock, d->cfg.db_path, why, sizeof why) != 0))) {
        log_msg(L_ERR, "refusing to start: %s", why);
        return -1;
    }
    /* A transaction holds a connection: one per HTTP thread, the
     * publisher's and the maintenance loop's. */
    store_set_pool_size(d->cfg.threads + 2);
    store_err err = store_open(d->cfg.db_path, &d->st);
    if (err != ST_OK) {
        log_msg(L_ERR, "cannot open the database %s: %s", d->db_shown, store_err_name(err));
        return -1;
    }
    if (exclusive)
        instance_lock_record(&d->lock, pg ? NULL : d->cfg.db_path);
    return 0;
}

static void teardown(jgd *d)
{
    view_install(d, NULL);
    store_close(d->st);
    instance_lock_release(&d->lock);
    jg_jwk_free(d->master);
    throttle_free(d->throttle);
    throttle_free(d->login_throttle);
    stats_free(d->stats);
    free(d->cfg.db_path);
    free(d->db_shown);
    free(d->cfg.snapshot_path);
    free(d->cfg.secrets_key_path);
    free(d->cfg.issuer);
    free(d->token_endpoint);
    pthread_mutex_destroy(&d->write_mu);
    pthread_mutex_destroy(&d->view_mu);
}

/* The packaged unit's first start: the master key, once (0600, the
 * running user's). An existing file is left as it is, checked as at any
 * start (not readable by others, 43 base64url characters). */
static int cmd_create_master_key(const opts *o)
{
    char why[256] = "";
    if (o->cfg.master_key_file == NULL) {
        log_msg(L_ERR, "create-master-key: --master-key-file is required");
        return 2;
    }
    if (access(o->cfg.master_key_file, F_OK) == 0) {
        jg_jwk *k = NULL;
        int rc = masterkey_load(o->cfg.master_key_file, &k, why, sizeof why);
        jg_jwk_free(k);
        if (rc != 0)
            log_msg(L_ERR, "%s", why);
        return rc != 0;
    }
    if (masterkey_create(o->cfg.master_key_file, why, sizeof why) != 0) {
        log_msg(L_ERR, "%s", why);
        return 1;
    }
    log_msg(L_INFO, "created the master key %s: back it up, keep it secret",
            o->cfg.master_key_file);
    return 0;
}

static int cmd_init(const opts *o)
{
    if (mkdir(o->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        log_msg(L_ERR, "cannot create %s: %s", o->cfg.data_dir, strerror(errno));
        return 1;
    }
    char why[256] = "";
    if (o->cfg.master_key_file != NULL && access(o->cfg.master_key_file, F_OK) != 0) {
        if (masterkey_create(o->cfg.master_key_file, why, sizeof why) != 0) {
            log_msg(L_ERR, "%s", why);
            return 1;
        }
        log_msg(L_INFO, "created the master key %s: back it up, keep it secret",
                o->cfg.master_key_file);
    }
    if (!sv_is_simple_name(o->admin, 64)) {
        log_msg(L_ERR, "--admin: letters, digits, '.', '_', '-'");
        return 1;
    }
    jgd d;
    if (setup(&d, o, 1, 1) != 0) {
        teardown(&d);
        return 1;
    }
    int rc = 1;
    change c;
    json_t *users = NULL, *user = NULL, *pat = NULL;
    char *token = NULL, *first_pw = NULL;
    if (change_begin(&d, "system:init", &c) != ST_OK)
        goto out;
    if (st_list(c.tx, T_USERS, NULL, 1, &users) != ST_OK || json_array_size(users) > 0) {
        change_abort(&c);
        log_msg(L_ERR, "the database %s is already initialised", d.db_shown);
        goto out;
    }
    /* A first-login password only for a person at a terminal: in a log or a
     * captured output (a unit's journal, a script's file) it would be a
     * password anyone reading could use first. Otherwise: jwtgated passwd. */
    first_pw = isatty(STDERR_FILENO) ? password_generate() : NULL;
    char *uid = sv_new_id("usr_", 12);
    user = json_pack("{ss ss sb sI}", "id", uid != NULL ? uid : "", "name", o->admin,
                     "system_admin", 1, "created_at", (json_int_t)c.now);
    free(uid);
    int changed = 0;
    if (user == NULL || st_insert(c.tx, T_USERS, user) != ST_OK ||
        change_audit(&c, "user.create", NULL, json_string_value(json_object_get(user, "id")), NULL,
                     user) != ST_OK ||
        pat_create(&c, json_string_value(json_object_get(user, "id")), "init", 0, &token, &pat) !=
            0 ||
        (first_pw != NULL &&
         password_set(&c, json_string_value(json_object_get(user, "id")), first_pw, 1) != ST_OK) ||
        keys_ensure(&c, &changed, why, sizeof why) != 0) {
        change_abort(&c);
        log_msg(L_ERR, "init failed: %s", why[0] ? why : "storage error");
        goto out;
    }
    if (change_commit(&c) != ST_OK) {
        log_msg(L_ERR, "init failed: cannot commit");
        goto out;
    }
    printf("%s\n", token);
    fflush(stdout);
    log_msg(L_INFO,
            "initialised %s; the line above is the token of system administrator \"%s\","
            " shown once",
            d.db_shown, o->admin);
    if (first_pw != NULL)
        fprintf(stderr,
                "jwtgated: console sign-in: user \"%s\", first-login password %s (shown once;"
                " to be changed at the first sign-in)\n",
                o->admin, first_pw);
    else
        log_msg(L_INFO, "no console password set (not a terminal): jwtgated passwd --user %s",
                o->admin);
    rc = 0;
out:
    if (token != NULL)
        jg_free_secret(token, 0);
    if (first_pw != NULL)
        jg_free_secret(first_pw, 0);
    json_decref(users);
    json_decref(user);
    json_decref(pat);
    teardown(&d);
    return rc;
}

/* A line of standard input, without echo when it is a terminal; malloc'd
 * (jg_free_secret), NULL at end of input or without memory. */
static char *read_password(void)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "New console password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (n < 0) {
        if (line != NULL)
            jg_free_secret(line, cap);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

/* passwd: beside a running server too (a change like any other: it picks
 * it up within a second); the user's sessions end. */
static int cmd_passwd(const opts *o)
{
    const char *name = o->user != NULL ? o->user : o->admin;
    char *pw = o->generate ? password_generate() : read_password();
    if (pw == NULL) {
        log_msg(L_ERR, "passwd: no password on standard input");
        return 2;
    }
    const char *why = password_unacceptable(pw, strlen(pw), name);
    if (why != NULL) {
        log_msg(L_ERR, "passwd: %s", why);
        jg_free_secret(pw, 0);
        return 2;
    }
    jgd d;
    if (setup(&d, o, 0, 0) != 0) {
        teardown(&d);
        jg_free_secret(pw, 0);
        return 1;
    }
    int rc = 1;
    change c;
    json_t *where = json_pack("{ss}", "name", name), *user = NULL;
    if (change_begin(&d, "system:passwd", &c) == ST_OK) {
        store_err err = st_get(c.tx, T_USERS, where, &user);
        if (err == ST_NOT_FOUND)
            log_msg(L_ERR, "passwd: no user \"%s\"", name);
        if (err != ST_OK || password_set(&c, json_string_value(json_object_get(user, "id")), pw,
                                         o->generate) != ST_OK)
            change_abort(&c);
        else if (change_commit(&c) == ST_OK)
            rc = 0;
    }
    json_decref(where);
    json_decref(user);
    if (rc == 0 && o->generate) {
        printf("%s\n", pw);
        fflush(stdout);
        log_msg(L_INFO, "the line above is a first-login password of \"%s\", shown once", name);
    } else if (rc == 0) {
        log_msg(L_INFO, "console password of \"%s\" set; its sessions have ended", name);
    } else {
        log_msg(L_ERR, "passwd failed");
    }
    jg_free_secret(pw, 0);
    teardown(&d);
    return rc;
}

/* A database made before schema 13 has no gateway secrets key: it gets one
 * at its first start. Two nodes of a cluster starting together: the loser's
 * change fails on the one-active index and it uses the winner's key. */
static void ensure_secrets_key(jgd *d)
{
    change c;
    char why[200] = "";
    int changed = 0;
    if (d->master == NULL || change_begin(d, "system:keys", &c) != ST_OK)
        return;
    if (keys_ensure_secrets(&c, &changed, why, sizeof why) != 0 || !changed) {
        change_abort(&c);
        if (why[0] != '\0')
            log_msg(L_WARN, "gateway secrets key: %s", why);
        return;
    }
    if (change_commit(&c) != ST_OK)
        log_msg(L_WARN, "gateway secrets key: not stored (another node made one?)");
    else
        log_msg(L_INFO, "gateway secrets key generated");
}

static int cmd_rotate(const opts *o)
{
    const char *p = o->purpose != NULL ? o->purpose : "both";
    int all = strcmp(p, "all") == 0;
    int sig = all || strcmp(p, "signing") == 0 || strcmp(p, "both") == 0;
    int enc = all || strcmp(p, "encryption") == 0 || strcmp(p, "both") == 0;
    int sec = all || strcmp(p, "secrets") == 0;
    if (!sig && !enc && !sec) {
        fprintf(stderr, "jwtgated: --purpose must be signing, encryption, both (the two), secrets"
                        " or all\n");
        return 2;
    }
    /* Beside a running server (no lock): it notices the new version within
     * a second and publishes it; this command never writes the snapshot. */
    jgd d;
    if (setup(&d, o, 1, 0) != 0) {
        teardown(&d);
        return 1;
    }
    int rc = 1;
    char why[256] = "";
    change c;
    if (change_begin(&d, "system:rotate-keys", &c) == ST_OK) {
        if ((sig && keys_rotate(&c, KEY_SIGNING, d.cfg.signing_alg, why, sizeof why) != 0) ||
            (enc && keys_rotate(&c, KEY_ENCRYPTION, d.cfg.encryption_alg, why, sizeof why) != 0) ||
            (sec && keys_rotate(&c, KEY_SECRETS, JG_ALG_DIR, why, sizeof why) != 0))
            change_abort(&c);
        else if (change_commit(&c) == ST_OK)
            rc = 0;
    }
    if (rc != 0)
        log_msg(L_ERR, "rotation failed: %s", why[0] ? why : "storage error");
    else
        log_msg(L_INFO, "keys rotated (%s); a running jwtgated picks the change up within a second",
                p);
    teardown(&d);
    return rc;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* Every second: a failed snapshot is written again until it is out, a
 * store whose last write failed is probed until a write succeeds, changes
 * made by another process (rotate-keys) are picked up, and expired
 * revocations purged (every minute). Readiness follows by itself. */
/* --test-clock-file: the offset in the file, when it changed. The tests of
 * what happens when a minute or a day ends move the clock instead of waiting
 * for it; every move is logged, so no one mistakes it for the real time. */
static void test_clock_read(const char *path)
{
    char buf[32];
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    char *end = NULL;
    errno = 0;
    long long off = strtoll(buf, &end, 10);
    if (n == 0 || errno != 0 || end == buf || strspn(end, " \t\r\n") != strlen(end) ||
        off < -366LL * 86400 || off > 366LL * 86400)
        return; /* absent or being written: the clock stays as it is */
    if (off != sv_clock_offset()) {
        sv_set_clock_offset(off);
        log_msg(L_WARN, "test clock: %+lld s from the real time (--test-clock-file %s)", off, path);
    }
}

static void maintain(jgd *d, int64_t *last_purge)
{
    if (d->cfg.test_clock_file != NULL)
        test_clock_read(d->cfg.test_clock_file);
    stats_tick(d->stats, &d->m, sv_now());
    store_err health = store_health(d->st);
    static store_err last_health = ST_OK;
    if (health == ST_FULL || health == ST_IO) {
        if (store_probe(d->st) == ST_OK) {
            log_msg(L_INFO, "store: writes succeed again");
            health = ST_OK;
        }
    }
    if (health != last_health && health != ST_OK)
        log_msg(L_ERR, "store: %s: not ready, writes refused until it recovers",
                store_err_name(health));
    last_health = health;
    if (!atomic_load(&d->snapshot_ok) && !atomic_load(&d->snapshot_older))
        publisher_kick(d); /* it retries by itself; this only makes sure */
    store_tx *tx = NULL;
    int64_t version = 0;
    if (store_begin(d->st, 0, &tx) == ST_OK) {
        st_get_version(tx, &version);
        store_rollback(tx);
    }
    view *v = view_acquire(d);
    /* A store ahead of the view: another process wrote, or a change is
     * between its commit and installing its view; refresh_view_if_stale()
     * tells them apart under the writer lock (it was a whole rebuild each
     * time a change was caught there: a second of 100,000 subscriptions). */
    int stale = v == NULL || v->version < version;
    view_release(v);
    if (stale)
        refresh_view_if_stale(d);
    int64_t now = sv_now();
    overquota_expire(d, now); /* a change, so every snapshot drops them */
    if (now - *last_purge >= 60) {
        *last_purge = now;
        pthread_mutex_lock(&d->write_mu);
        if (store_begin(d->st, 1, &tx) == ST_OK) {
            /* housekeeping, not a change: no version, no audit record */
            if (st_purge_expired(tx, now) == ST_OK &&
                st_prune_changes(tx, version - CHANGE_LOG_KEEP) == ST_OK &&
                usage_prune(tx, now) == ST_OK)
                store_commit(tx);
            else
                store_rollback(tx);
        }
        pthread_mutex_unlock(&d->write_mu);
        expire_revocations(d, now);
    }
}

static int cmd_serve(const opts *o)
{
    /* Before anything can announce that the service is up (the port file):
     * a SIGTERM from then on is a clean stop. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (o->cfg.test_clock_file != NULL) {
        log_msg(L_WARN, "--test-clock-file: for tests only; the clock may not be the real one");
        test_clock_read(o->cfg.test_clock_file);
    }
    jgd d;
    if (setup(&d, o, 1, 1) != 0) {
        teardown(&d);
        return 1;
    }
    d.publish = 1;
    if (d.cfg.dpop_nonce && dpop_nonce_init(&d) != 0) {
        teardown(&d);
        return 1;
    }
    long long published = snapshot_file_version(d.cfg.snapshot_path);
    if (published < 0) {
        log_msg(L_WARN, "snapshot: %s cannot be read as a snapshot; it will be replaced",
                d.cfg.snapshot_path);
        published = 0;
    }
    atomic_store(&d.published_version, published);
    int rc = 1;
    void *httpd = NULL;
    unsigned port = 0;
    store_tx *tx = NULL;
    json_t *users = NULL;
    if (store_begin(d.st, 0, &tx) == ST_OK) {
        st_list(tx, T_USERS, NULL, 1, &users);
        store_rollback(tx);
    }
    if (json_array_size(users) == 0) {
        json_decref(users);
        log_msg(L_ERR, "the database %s is not initialised: run jwtgated init", d.db_shown);
        teardown(&d);
        return 1;
    }
    json_decref(users);
    /* The gateway hub before the publisher (it hands each snapshot over),
     * the publisher before the server: every change from the first request
     * on kicks it. */
    if (gateway_start(&d) != 0)
        goto out;
    if (publisher_start(&d) != 0)
        goto out;
    if (http_start(&d, &httpd, &port) != 0)
        goto out;
    d.cfg.port = port;
    if (o->issuer == NULL)
        set_issuer(&d, NULL);
    /* The keys must open with this master key: else refuse to serve. */
    /* A snapshot that cannot be written is reported by /readyz; keys that
     * cannot be loaded (no view at all) stop the start. */
    ensure_secrets_key(&d);
    refresh_view(&d);
    publisher_flush(&d); /* announce the service with its snapshot written (or refused) */
    view *v = view_acquire(&d);
    if (v == NULL) {
        log_msg(L_ERR, "refusing to start: the keys cannot be loaded (wrong master key?)");
        goto out;
    }
    int ok = v != NULL && v->sign_key != NULL && v->enc_key != NULL;
    view_release(v);
    if (!ok) {
        log_msg(L_ERR, "refusing to start: no active keys (wrong master key, or run rotate-keys)");
        goto out;
    }
    if (d.cfg.port_file != NULL && write_port_file(d.cfg.port_file, port) != 0) {
        log_msg(L_ERR, "cannot write %s", d.cfg.port_file);
        goto out;
    }
    log_msg(L_INFO, "serving on %s port %u as issuer %s (%u threads)", d.cfg.listen, port,
            d.cfg.issuer, d.cfg.threads);
    int64_t last_purge = 0;
    double last_maintain = sv_mono();
    while (!stop_requested) {
        /* A change signalled by another node (PostgreSQL NOTIFY) is applied
         * at once; maintenance (and the poll that finds any change the
         * signal missed) runs every second. */
        if (store_wait_change(d.st, 200) == 1)
            refresh_view_if_stale(&d);
        if (sv_mono() - last_maintain >= 1.0) {
            last_maintain = sv_mono();
            maintain(&d, &last_purge);
        }
    }
    log_msg(L_INFO, "stopping");
    rc = 0;
out:
    gateway_stop(&d); /* long polls answered: libmicrohttpd stops with none suspended */
    http_stop(&d, httpd);
    publisher_stop(&d); /* after the last change: writes what is pending */
    gateway_free(&d);
    teardown(&d);
    return rc;
}

static int cmd_backup(const opts *o)
{
    if (o->to == NULL) {
        fprintf(stderr, "jwtgated backup: --to FILE is required\n");
        return 2;
    }
    char *db = o->db != NULL ? strdup(o->db) : join(o->cfg.data_dir, "jwtgated.db");
    if (db == NULL)
        return 1;
    if (strstr(db, "://") != NULL) {
        fprintf(stderr, "jwtgated backup: only SQLite databases; for PostgreSQL use pg_dump"
                        " (see docs/jwtgated.md)\n");
        free(db);
        return 2;
    }
    char why[512] = "";
    struct stat sb;
    store_err err = stat(db, &sb) == 0 ? store_sqlite_backup(db, o->to, why, sizeof why) : ST_IO;
    if (err == ST_IO && why[0] == '\0')
        snprintf(why, sizeof why, "no database at %s", db);
    if (err != ST_OK)
        log_msg(L_ERR, "backup failed: %s", why[0] ? why : store_err_name(err));
    else
        log_msg(L_INFO, "backed up %s to %s (keep the master key apart from it)", db, o->to);
    free(db);
    return err == ST_OK ? 0 : 1;
}

/*
 * Restore: only with no server on the database (the lock), from a copy
 * that is intact and opens with this master key; then the version moves
 * past every version published before (the live database's, the snapshot
 * file's and the backup's own), so that every gateway takes the restored
 * state as new instead of refusing it as older. Audited as
 * "system.restore". The next `serve` publishes it.
 */
static int cmd_restore(const opts *o)
{
    if (o->from == NULL) {
        fprintf(stderr, "jwtgated restore: --from FILE is required\n");
        return 2;
    }
    if (o->db != NULL && strstr(o->db, "://") != NULL) {
        fprintf(stderr, "jwtgated restore: only SQLite databases; for PostgreSQL use pg_restore"
                        " with jwtgated stopped, then move the version past the published one"
                        " (see docs/jwtgated.md)\n");
        return 2;
    }
    struct stat sb;
    if (stat(o->from, &sb) != 0) {
        log_msg(L_ERR, "restore: cannot read %s: %s", o->from, strerror(errno));
        return 1;
    }
    jgd d;
    /* The lock and the live database's version, before anything changes. */
    if (setup(&d, o, 1, 1) != 0) {
        teardown(&d);
        return 1;
    }
    int64_t live = 0;
    store_tx *tx = NULL;
    if (store_begin(d.st, 0, &tx) == ST_OK) {
        st_get_version(tx, &live);
        store_rollback(tx);
    }
    store_close(d.st);
    d.st = NULL;
    char why[512] = "";
    int rc = 1;
    store_err err = store_sqlite_restore(d.cfg.db_path, o->from, why, sizeof why);
    if (err != ST_OK) {
        log_msg(L_ERR, "restore failed, the database is unchanged: %s",
                why[0] ? why : store_err_name(err));
        goto out;
    }
    err = store_open(d.cfg.db_path, &d.st); /* migrates an older backup's schema */
    if (err != ST_OK) {
        log_msg(L_ERR, "restore: the restored database does not open: %s", store_err_name(err));
        goto out;
    }
    instance_lock_record(&d.lock, d.cfg.db_path);
    long long published = snapshot_file_version(d.cfg.snapshot_path);
    int64_t floor = live > published ? live : (int64_t)published;
    view *check = NULL;
    if (view_build(&d, &check) != 0) { /* the keys open with this master key */
        log_msg(L_ERR, "restore: the restored keys do not open with this master key; restore"
                       " the matching master key too");
        goto out;
    }
    view_release(check);
    change c;
    int64_t version = 0;
    json_t *after = NULL;
    if (change_begin(&d, "system:restore", &c) == ST_OK) {
        const char *base = strrchr(o->from, '/');
        after = json_pack("{ss sI}", "from", base != NULL ? base + 1 : o->from, "previous_version",
                          (json_int_t)floor);
        if (st_bump_version_past(c.tx, floor, &version) == ST_OK &&
            change_audit(&c, "system.restore", NULL, NULL, NULL, after) == ST_OK &&
            change_commit(&c) == ST_OK)
            rc = 0;
        else
            change_abort(&c);
    }
    json_decref(after);
    if (rc != 0)
        log_msg(L_ERR, "restore: the restored database could not be given a new version");
    else
        log_msg(L_INFO,
                "restored %s from %s; its version is now above every published one (%lld), so"
                " gateways take it once \"jwtgated serve\" publishes it",
                d.cfg.db_path, o->from, (long long)floor);
out:
    teardown(&d);
    return rc;
}

int main(int argc, char **argv)
{
    /* Database, snapshot and temporary files: owner only. */
    umask(077);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("jwtgated %s\n", jg_version());
        return 0;
    }
    /* --config FILE: its options go before the command line's, which win. */
    char why[512] = "";
    int xargc = 0;
    char **xargv = NULL;
    if (conffile_expand(argc, argv, &xargc, &xargv, why, sizeof why) != 0) {
        fprintf(stderr, "jwtgated: %s\n", why);
        return 2;
    }
    opts o;
    int rc = 2;
    if (parse_args(xargc, xargv, &o) != 0)
        rc = 2;
    else if (strcmp(argv[1], "init") == 0)
        rc = cmd_init(&o);
    else if (strcmp(argv[1], "serve") == 0)
        rc = cmd_serve(&o);
    else if (strcmp(argv[1], "passwd") == 0)
        rc = cmd_passwd(&o);
    else if (strcmp(argv[1], "rotate-keys") == 0)
        rc = cmd_rotate(&o);
    else if (strcmp(argv[1], "backup") == 0)
        rc = cmd_backup(&o);
    else if (strcmp(argv[1], "restore") == 0)
        rc = cmd_restore(&o);
    else if (strcmp(argv[1], "create-master-key") == 0)
        rc = cmd_create_master_key(&o);
    else
        fprintf(stderr, "jwtgated: unknown command \"%s\"\n%s", argv[1], usage);
    conffile_free(xargc, xargv);
    return rc;
}
