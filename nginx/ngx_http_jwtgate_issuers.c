
/*
 * Trust sources: issuers whose keys come from their JWKS URL (or from the
 * "jwks_uri" of their RFC 8414 / OpenID Connect discovery document).
 *
 * nginx fetches nothing itself: it has no background HTTP client, and a
 * fetch on the request path is what this design avoids. While nginx reads
 * its configuration, the master writes a manifest (DIR/manifest.json: the
 * issuers, their URLs and refresh times) into jwtgate_jwks_dir; the agent,
 * "jwtgate gateway jwks --dir DIR", fetches every issuer's key set and
 * writes DIR/<id>.jwks atomically, <id> being the hex SHA-256 of the
 * issuer. Every worker stat()s those files on a timer, parses a changed
 * one and swaps its pointer: the same files for every worker, so no worker
 * keeps an old key set after a rotation. The file's mtime is the agent's
 * last successful fetch; a key set older than its issuer's stale bound is
 * refused.
 *
 * A token whose header names a kid that no key has asks for an early
 * refetch: the worker touches DIR/<id>.want (at most once per
 * NGX_HTTP_JWTGATE_WANT_EVERY seconds across the workers, by the file's own
 * mtime), which the agent notices within a second.
 *
 * The token's "iss", read from the unverified payload, picks the issuer;
 * its keys then verify the signature. A token whose "iss" the location
 * does not trust is refused before any signature work.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ngx_http_jwtgate_module.h"


/* the agent writes at most this, the module reads at most this */
#define NGX_HTTP_JWTGATE_JWKS_MAX      ((off_t) 1024 * 1024)
#define NGX_HTTP_JWTGATE_JWKS_KEYS     100
#define NGX_HTTP_JWTGATE_JWKS_DEPTH    8
#define NGX_HTTP_JWTGATE_WANT_EVERY    10
#define NGX_HTTP_JWTGATE_STALE         ((time_t) 7 * 24 * 60 * 60)
#define NGX_HTTP_JWTGATE_JWKS_INTERVAL 1000


static ngx_http_jwtgate_issuers_t *ngx_http_jwtgate_issuers_get(
    ngx_conf_t *cf);
static ngx_int_t ngx_http_jwtgate_issuer_algs(ngx_conf_t *cf, ngx_str_t *list,
    jg_alg_set *algs);
static ngx_int_t ngx_http_jwtgate_issuer_id(ngx_str_t *name, u_char *id);
static ngx_int_t ngx_http_jwtgate_manifest(ngx_conf_t *cf,
    ngx_http_jwtgate_issuers_t *iss);
static void ngx_http_jwtgate_issuers_timer(ngx_event_t *ev);
static void ngx_http_jwtgate_issuer_check(ngx_http_jwtgate_issuer_t *is,
    ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_issuer_read(ngx_http_jwtgate_issuer_t *is,
    struct stat *fi, jg_jwks **out, ngx_log_t *log);
static jg_jwks *ngx_http_jwtgate_issuer_filter(ngx_http_jwtgate_issuer_t *is,
    jg_jwks *set, ngx_log_t *log);
static ngx_int_t ngx_http_jwtgate_token_iss(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_str_t *token, ngx_str_t *iss,
    const char **reason);
static ngx_int_t ngx_http_jwtgate_payload_iss(ngx_http_request_t *r,
    u_char *token, size_t token_len, ngx_str_t *iss, const char **reason);
static void ngx_http_jwtgate_issuer_want(ngx_http_jwtgate_issuer_t *is,
    ngx_log_t *log);


/* ---- directives --------------------------------------------------------- */


static ngx_http_jwtgate_issuers_t *
ngx_http_jwtgate_issuers_get(ngx_conf_t *cf)
{
    ngx_http_jwtgate_issuers_t    *iss;
    ngx_http_jwtgate_main_conf_t  *jmcf;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgate_module);

    if (jmcf->issuers != NULL) {
        return jmcf->issuers;
    }

    iss = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_issuers_t));
    if (iss == NULL) {
        return NULL;
    }

    if (ngx_array_init(&iss->issuers, cf->pool, 4,
                       sizeof(ngx_http_jwtgate_issuer_t *))
        != NGX_OK)
    {
        return NULL;
    }

    iss->interval = NGX_CONF_UNSET_MSEC;
    jmcf->issuers = iss;

    return iss;
}


/* jwtgate_jwks_dir DIR [interval=TIME] */

char *
ngx_http_jwtgate_jwks_dir(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                   *value, s;
    ngx_http_jwtgate_issuers_t  *iss;

    iss = ngx_http_jwtgate_issuers_get(cf);
    if (iss == NULL) {
        return NGX_CONF_ERROR;
    }

    if (iss->dir.len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    iss->dir = value[1];

    if (ngx_conf_full_name(cf->cycle, &iss->dir, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "interval=", 9) != 0) {
            return "takes \"interval=TIME\" as its second parameter";
        }

        s.data = value[2].data + 9;
        s.len = value[2].len - 9;

        iss->interval = ngx_parse_time(&s, 0);
        if (iss->interval == (ngx_msec_t) NGX_ERROR || iss->interval == 0) {
            return "has an invalid \"interval\"";
        }
    }

    return NGX_CONF_OK;
}


/*
 * jwtgate_issuer_jwks ISSUER URL [refresh=TIME] [stale=TIME]
 *     [algorithms=A,B] [audience=AUD]... [require=CLAIM]...
 * jwtgate_issuer_discovery ISSUER [the same parameters]
 *
 * The issuer (its URL, refresh, stale bound and algorithms) is one for the
 * whole http{}: every mention must say the same. Audiences and required
 * claims are the location's.
 */

char *
ngx_http_jwtgate_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_jwtgate_loc_conf_t *jlcf = conf;

    time_t                       refresh, stale;
    ngx_str_t                   *value, url, s, algs_text, *aud;
    jg_alg_set                   algs;
    ngx_uint_t                   i, first, discovery, nreq;
    const char                 **req;
    ngx_http_jwtgate_trust_t    *trust;
    ngx_http_jwtgate_issuer_t   *is, **pis;
    ngx_http_jwtgate_issuers_t  *iss;

    value = cf->args->elts;
    discovery = ngx_strcmp(cmd->name.data, "jwtgate_issuer_discovery") == 0;

    if (value[1].len == 0) {
        return "needs a non-empty issuer";
    }

    ngx_str_null(&url);
    first = 2;

    if (!discovery) {
        if (cf->args->nelts < 3) {
            return "needs a JWKS URL";
        }

        url = value[2];
        first = 3;
    }

    if (discovery) {
        /* the document's URL is derived from the issuer */
        url = value[1];
    }

    if (ngx_strncmp(url.data, "https://", 8) != 0
        && ngx_strncmp(url.data, "http://", 7) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not an http:// or https:// URL", &url);
        return NGX_CONF_ERROR;
    }

    if (jlcf->trust == NGX_CONF_UNSET_PTR) {
        jlcf->trust = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_jwtgate_trust_t));
        if (jlcf->trust == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    trust = jlcf->trust->elts;

    for (i = 0; i < jlcf->trust->nelts; i++) {
        if (trust[i].issuer->name.len == value[1].len
            && ngx_strncmp(trust[i].issuer->name.data, value[1].data,
                           value[1].len) == 0)
        {
            return "names an issuer twice at one level";
        }
    }

    trust = ngx_array_push(jlcf->trust);
    if (trust == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(trust, sizeof(ngx_http_jwtgate_trust_t));

    refresh = 0;
    stale = NGX_HTTP_JWTGATE_STALE;
    algs = JG_ALGS_ASYMMETRIC_SIG;
    ngx_str_null(&algs_text);
    nreq = 0;

    for (i = first; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "require=", 8) == 0) {
            nreq++;
        }
    }

    req = ngx_pcalloc(cf->pool, (nreq + 1) * sizeof(char *));
    if (req == NULL) {
        return NGX_CONF_ERROR;
    }

    trust->required = nreq ? req : NULL;
    nreq = 0;

    for (i = first; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "refresh=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            refresh = ngx_parse_time(&s, 1);

            if (refresh == (time_t) NGX_ERROR || refresh == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "stale=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            stale = ngx_parse_time(&s, 1);

            if (stale == (time_t) NGX_ERROR || stale == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "algorithms=", 11) == 0) {
            algs_text.data = value[i].data + 11;
            algs_text.len = value[i].len - 11;

            if (ngx_http_jwtgate_issuer_algs(cf, &algs_text, &algs)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "audience=", 9) == 0
            && value[i].len > 9)
        {
            if (trust->audiences == NULL) {
                trust->audiences = ngx_array_create(cf->pool, 2,
                                                    sizeof(ngx_str_t));
                if (trust->audiences == NULL) {
                    return NGX_CONF_ERROR;
                }
            }

            aud = ngx_array_push(trust->audiences);
            if (aud == NULL) {
                return NGX_CONF_ERROR;
            }

            /* NUL-terminated: the argument is */
            aud->data = value[i].data + 9;
            aud->len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "require=", 8) == 0
            && value[i].len > 8)
        {
            req[nreq++] = (char *) value[i].data + 8;
            continue;
        }

        goto invalid;
    }

    /* the issuer, one for the whole http{} */

    iss = ngx_http_jwtgate_issuers_get(cf);
    if (iss == NULL) {
        return NGX_CONF_ERROR;
    }

    pis = iss->issuers.elts;
    is = NULL;

    for (i = 0; i < iss->issuers.nelts; i++) {
        if (pis[i]->name.len == value[1].len
            && ngx_strncmp(pis[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            is = pis[i];
            break;
        }
    }

    if (is != NULL) {
        if (is->url.len != (discovery ? 0 : url.len)
            || (!discovery
                && ngx_strncmp(is->url.data, url.data, url.len) != 0)
            || is->refresh != refresh || is->stale != stale
            || is->algs != algs)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "issuer \"%V\" is defined differently "
                               "elsewhere: its URL, refresh, stale and "
                               "algorithms must be the same everywhere",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        trust->issuer = is;
        return NGX_CONF_OK;
    }

    is = ngx_pcalloc(cf->pool, sizeof(ngx_http_jwtgate_issuer_t));
    if (is == NULL) {
        return NGX_CONF_ERROR;
    }

    is->name = value[1];

    if (!discovery) {
        is->url = url;
    }
    is->refresh = refresh;
    is->stale = stale;
    is->algs = algs;

    if (ngx_http_jwtgate_issuer_id(&is->name, is->id) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    pis = ngx_array_push(&iss->issuers);
    if (pis == NULL) {
        return NGX_CONF_ERROR;
    }

    *pis = is;
    trust->issuer = is;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* "RS256,ES256": signature algorithms only, never "none" or HMAC (the keys
 * are an issuer's public keys). */

static ngx_int_t
ngx_http_jwtgate_issuer_algs(ngx_conf_t *cf, ngx_str_t *list,
    jg_alg_set *algs)
{
    u_char  *p, *end, *comma;
    jg_alg   alg;

    *algs = 0;
    p = list->data;
    end = list->data + list->len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        alg = jg_alg_from_name((char *) p, (size_t) (comma - p));

        if (alg == JG_ALG_UNKNOWN
            || !(JG_ALG_BIT(alg) & JG_ALGS_ASYMMETRIC_SIG))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%*s\" is not an asymmetric signature "
                               "algorithm", (size_t) (comma - p), p);
            return NGX_ERROR;
        }

        *algs |= JG_ALG_BIT(alg);
        p = comma + 1;
    }

    if (*algs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty \"algorithms\"");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* The issuer's file name: the hex SHA-256 of its name (any text may be an
 * issuer; a file name may not). */

static ngx_int_t
ngx_http_jwtgate_issuer_id(ngx_str_t *name, u_char *id)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  n;

    if (!EVP_Digest(name->data, name->len, md, &n, EVP_sha256(), NULL)
        || n != 32)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump(id, md, 32);
    id[64] = '\0';

    return NGX_OK;
}


/*
 * A location trusts the issuers it names or inherits; they are its only
 * verification keys. Its jwtgate_key_file keys, if any, only decrypt
 * (encrypted tokens: the inner JWS names the issuer). A snapshot names its
 * own issuer: not together.
 */

ngx_int_t
ngx_http_jwtgate_issuers_merge(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *prev, ngx_http_jwtgate_loc_conf_t *conf)
{
    ngx_conf_merge_ptr_value(conf->trust, prev->trust, NULL);

    if (conf->trust != NULL && conf->realm != NULL && conf->source != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"jwtgate_issuer_jwks\" and "
                           "\"jwtgate_issuer_discovery\" cannot be used "
                           "together with \"jwtgate_snapshot\" in one "
                           "location");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* ---- the manifest ------------------------------------------------------- */


/* postconfiguration: the issuers' files, and the manifest for the agent */

ngx_int_t
ngx_http_jwtgate_issuers_init(ngx_conf_t *cf)
{
    u_char                         *p;
    ngx_uint_t                      i;
    ngx_http_jwtgate_issuer_t     **pis, *is;
    ngx_http_jwtgate_issuers_t     *iss;
    ngx_http_jwtgate_main_conf_t   *jmcf;

    jmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_jwtgate_module);
    iss = jmcf->issuers;

    if (iss == NULL || iss->issuers.nelts == 0) {
        return NGX_OK;
    }

    if (iss->dir.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"jwtgate_issuer_jwks\" and "
                           "\"jwtgate_issuer_discovery\" need "
                           "\"jwtgate_jwks_dir\"");
        return NGX_ERROR;
    }

    ngx_conf_init_msec_value(iss->interval, NGX_HTTP_JWTGATE_JWKS_INTERVAL);

    pis = iss->issuers.elts;

    for (i = 0; i < iss->issuers.nelts; i++) {
        is = pis[i];

        is->path.len = iss->dir.len + 1 + 64 + sizeof(".jwks") - 1;
        is->path.data = ngx_pnalloc(cf->pool, is->path.len + 1);
        is->want.len = iss->dir.len + 1 + 64 + sizeof(".want") - 1;
        is->want.data = ngx_pnalloc(cf->pool, is->want.len + 1);

        if (is->path.data == NULL || is->want.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(is->path.data, "%V/%s.jwks", &iss->dir, is->id);
        *p = '\0';
        p = ngx_sprintf(is->want.data, "%V/%s.want", &iss->dir, is->id);
        *p = '\0';
    }

    if (ngx_test_config) {
        /* "nginx -t" changes nothing on disk */
        return NGX_OK;
    }

    return ngx_http_jwtgate_manifest(cf, iss);
}


/*
 * DIR/manifest.json, written atomically (temporary file, fsync, rename,
 * fsync of the directory) and only when its text changes, so the agent
 * rereads it only then:
 *
 *   {"version": 1, "issuers": [{"issuer": ..., "id": ...,
 *     "jwks_uri": ... | "discovery": true, "refresh": S (0: max-age),
 *     "stale": S}]}
 */

static ngx_int_t
ngx_http_jwtgate_manifest(ngx_conf_t *cf, ngx_http_jwtgate_issuers_t *iss)
{
    char                        *text;
    u_char                      *path, *p, *old;
    size_t                       len;
    json_t                      *doc, *list, *one;
    jg_err                       err;
    ssize_t                      n;
    ngx_fd_t                     fd;
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_file_info_t              fi;
    ngx_http_jwtgate_issuer_t  **pis;

    doc = json_object();
    list = json_array();

    if (doc == NULL || list == NULL) {
        json_decref(doc);
        json_decref(list);
        return NGX_ERROR;
    }

    json_object_set_new(doc, "version", json_integer(1));
    json_object_set_new(doc, "issuers", list);

    pis = iss->issuers.elts;

    for (i = 0; i < iss->issuers.nelts; i++) {
        one = json_object();
        if (one == NULL) {
            json_decref(doc);
            return NGX_ERROR;
        }

        json_object_set_new(one, "issuer",
                            json_stringn((char *) pis[i]->name.data,
                                         pis[i]->name.len));
        json_object_set_new(one, "id", json_string((char *) pis[i]->id));

        if (pis[i]->url.len) {
            json_object_set_new(one, "jwks_uri",
                                json_stringn((char *) pis[i]->url.data,
                                             pis[i]->url.len));
        } else {
            json_object_set_new(one, "discovery", json_true());
        }

        json_object_set_new(one, "refresh", json_integer(pis[i]->refresh));
        json_object_set_new(one, "stale", json_integer(pis[i]->stale));
        json_array_append_new(list, one);
    }

    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);

    if (text == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(text);

    path = ngx_pnalloc(cf->pool, iss->dir.len + sizeof("/manifest.json"));
    if (path == NULL) {
        free(text);
        return NGX_ERROR;
    }

    p = ngx_sprintf(path, "%V/manifest.json", &iss->dir);
    *p = '\0';

    /* unchanged: leave it (and its mtime) alone */

    rc = NGX_DECLINED;
    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {
        if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
            && ngx_file_size(&fi) == (off_t) len)
        {
            old = ngx_alloc(len + 1, cf->log);

            if (old != NULL) {
                n = read(fd, old, len);

                if (n == (ssize_t) len && ngx_memcmp(old, text, len) == 0) {
                    rc = NGX_OK;
                }

                ngx_free(old);
            }
        }

        (void) ngx_close_file(fd);
    }

    if (rc == NGX_OK) {
        free(text);
        return NGX_OK;
    }

    err = jg_snapshot_write_file_mode((char *) path, (uint8_t *) text, len,
                                      0640);
    free(text);

    if (err != JG_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "writing the issuers' manifest \"%s\" failed "
                           "(jwtgate_jwks_dir)", path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* ---- the workers: reading the key sets ---------------------------------- */


ngx_int_t
ngx_http_jwtgate_issuers_start(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_jwtgate_issuer_t     **pis;
    ngx_http_jwtgate_issuers_t     *iss;
    ngx_http_jwtgate_main_conf_t   *jmcf;

    jmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_jwtgate_module);

    if (jmcf == NULL || jmcf->issuers == NULL
        || jmcf->issuers->issuers.nelts == 0)
    {
        return NGX_OK;
    }

    iss = jmcf->issuers;
    iss->log = cycle->log;

    /* a worker starts with the key sets on disk: a restart works with an
     * issuer down */

    pis = iss->issuers.elts;

    for (i = 0; i < iss->issuers.nelts; i++) {
        ngx_http_jwtgate_issuer_check(pis[i], cycle->log);
    }

    iss->timer.handler = ngx_http_jwtgate_issuers_timer;
    iss->timer.data = iss;
    iss->timer.log = cycle->log;
    iss->timer.cancelable = 1;

    ngx_add_timer(&iss->timer, iss->interval);

    return NGX_OK;
}


void
ngx_http_jwtgate_issuers_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_http_jwtgate_issuer_t     **pis;
    ngx_http_jwtgate_main_conf_t   *jmcf;

    jmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_jwtgate_module);

    if (jmcf == NULL || jmcf->issuers == NULL) {
        return;
    }

    pis = jmcf->issuers->issuers.elts;

    for (i = 0; i < jmcf->issuers->issuers.nelts; i++) {
        jg_jwks_free(pis[i]->keys);
        pis[i]->keys = NULL;
    }
}


static void
ngx_http_jwtgate_issuers_timer(ngx_event_t *ev)
{
    ngx_http_jwtgate_issuers_t  *iss = ev->data;

    ngx_uint_t                   i;
    ngx_http_jwtgate_issuer_t  **pis;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    pis = iss->issuers.elts;

    for (i = 0; i < iss->issuers.nelts; i++) {
        ngx_http_jwtgate_issuer_check(pis[i], iss->log);
    }

    ngx_add_timer(ev, iss->interval);
}


#define ngx_http_jwtgate_ts_eq(a, b)                                          \
    ((a).tv_sec == (b).tv_sec && (a).tv_nsec == (b).tv_nsec)


/*
 * A changed file is read and parsed; a file that is not a usable key set
 * keeps the previous keys (one log line per file). Requests use a key set
 * only within the access handler's call, so the old set is freed at once.
 */

static void
ngx_http_jwtgate_issuer_check(ngx_http_jwtgate_issuer_t *is, ngx_log_t *log)
{
    jg_jwks      *set;
    ngx_int_t     rc;
    struct stat   fi;

    if (stat((char *) is->path.data, &fi) == -1) {
        return;
    }

    if (fi.st_ino == is->ino && fi.st_dev == is->dev
        && fi.st_size == is->size
        && ngx_http_jwtgate_ts_eq(fi.st_mtim, is->mtim))
    {
        return;
    }

    if (ngx_http_jwtgate_ts_eq(fi.st_mtim, is->failed_mtim)) {
        /* reported once */
        return;
    }

    rc = ngx_http_jwtgate_issuer_read(is, &fi, &set, log);

    if (rc == NGX_ERROR) {
        is->failed_mtim = fi.st_mtim;
        is->stats.load_failures++;
        ngx_http_jwtgate_metrics_add(NGX_HTTP_JWTGATE_TABLE_ISSUERS, &is->name,
                                     NGX_HTTP_JWTGATE_ISSUER_FAILURES, 1);
        return;
    }

    if (rc == NGX_OK) {
        jg_jwks_free(is->keys);
        is->keys = set;
        is->stats.loads++;
        is->stats.last_load = ngx_time();
        ngx_http_jwtgate_metrics_add(NGX_HTTP_JWTGATE_TABLE_ISSUERS, &is->name,
                                     NGX_HTTP_JWTGATE_ISSUER_LOADS, 1);
        is->stats.keys = jg_jwks_count(set);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "jwtgate: issuer \"%V\": %uz keys read",
                       &is->name, jg_jwks_count(set));
    }

    /* NGX_DECLINED: the same keys, fetched again */

    is->dev = fi.st_dev;
    is->ino = fi.st_ino;
    is->size = fi.st_size;
    is->mtim = fi.st_mtim;
    is->stats.fetched_at = fi.st_mtim.tv_sec;
}


/* NGX_OK with *out, NGX_DECLINED (the text is the one read last), or
 * NGX_ERROR (logged). */

static ngx_int_t
ngx_http_jwtgate_issuer_read(ngx_http_jwtgate_issuer_t *is, struct stat *fi,
    jg_jwks **out, ngx_log_t *log)
{
    char          line[256];
    u_char       *buf;
    u_char        digest[EVP_MAX_MD_SIZE];
    jg_err        err;
    ssize_t       n;
    jg_jwks      *set, *usable;
    ngx_fd_t      fd;
    jg_limits     limits;
    jg_detail     detail;
    unsigned int  dlen;

    if (fi->st_size <= 0 || fi->st_size > NGX_HTTP_JWTGATE_JWKS_MAX) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate: issuer \"%V\": \"%V\" is empty or larger "
                      "than 1 MiB, keeping the previous keys",
                      &is->name, &is->path);
        return NGX_ERROR;
    }

    fd = ngx_open_file(is->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "jwtgate: issuer \"%V\": " ngx_open_file_n
                      " \"%V\" failed, keeping the previous keys",
                      &is->name, &is->path);
        return NGX_ERROR;
    }

    buf = ngx_alloc((size_t) fi->st_size, log);
    if (buf == NULL) {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = read(fd, buf, (size_t) fi->st_size);
    (void) ngx_close_file(fd);

    if (n != (ssize_t) fi->st_size) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "jwtgate: issuer \"%V\": reading \"%V\" failed, "
                      "keeping the previous keys", &is->name, &is->path);
        ngx_free(buf);
        return NGX_ERROR;
    }

    if (!EVP_Digest(buf, (size_t) n, digest, &dlen, EVP_sha256(), NULL)) {
        ngx_free(buf);
        return NGX_ERROR;
    }

    if (is->keys != NULL
        && ngx_memcmp(digest, is->digest, NGX_HTTP_JWTGATE_DIGEST_LEN) == 0)
    {
        ngx_free(buf);
        return NGX_DECLINED;
    }

    limits = jg_limits_default();
    limits.max_keys = NGX_HTTP_JWTGATE_JWKS_KEYS;
    limits.max_json_depth = NGX_HTTP_JWTGATE_JWKS_DEPTH;

    /* an issuer's keys are public: any private part is dropped */
    err = jg_jwks_parse_ex((char *) buf, (size_t) n, JG_JWK_PUBLIC_ONLY,
                           &limits, &set, &detail);
    ngx_free(buf);

    if (err != JG_OK) {
        if (jg_detail_format(&detail, line, sizeof(line)) == 0) {
            line[0] = '\0';
        }

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate: issuer \"%V\": \"%V\" is not a usable "
                      "JWKS: %s%s%s, keeping the previous keys", &is->name,
                      &is->path, jg_strerror(err), line[0] ? ": " : "",
                      line);
        return NGX_ERROR;
    }

    ngx_http_jwtgate_log_skipped(log, "issuer", &is->name, set);

    usable = ngx_http_jwtgate_issuer_filter(is, set, log);
    jg_jwks_free(set);

    if (usable == NULL) {
        return NGX_ERROR;
    }

    if (jg_jwks_count(usable) == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "jwtgate: issuer \"%V\": \"%V\" holds no key for "
                      "its algorithms, keeping the previous keys",
                      &is->name, &is->path);
        jg_jwks_free(usable);
        return NGX_ERROR;
    }

    ngx_memcpy(is->digest, digest, NGX_HTTP_JWTGATE_DIGEST_LEN);
    *out = usable;

    return NGX_OK;
}


/* The keys that may verify the issuer's signatures with its algorithms;
 * a warn line for each other one. */

static jg_jwks *
ngx_http_jwtgate_issuer_filter(ngx_http_jwtgate_issuer_t *is, jg_jwks *set,
    ngx_log_t *log)
{
    size_t         i;
    jg_alg         alg;
    jg_kty         kty;
    jg_jwks       *usable;
    jg_alg_set     fits;
    const jg_jwk  *key;

    if (jg_jwks_new(&usable) != JG_OK) {
        return NULL;
    }

    for (i = 0; i < jg_jwks_count(set); i++) {
        key = jg_jwks_get(set, i);
        alg = jg_jwk_alg(key);
        kty = jg_jwk_kty(key);

        fits = kty == JG_KTY_RSA ? JG_ALGS_RSA_SIG
               : kty == JG_KTY_EC ? JG_ALGS_EC_SIG
               : kty == JG_KTY_OKP ? JG_ALGS_OKP_SIG : 0;

        if (alg != JG_ALG_UNKNOWN) {
            fits &= JG_ALG_BIT(alg);
        }

        if (jg_jwk_use(key) == JG_USE_ENC || (fits & is->algs) == 0) {
            /* its kid is the agent's to log: text from the network */
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "jwtgate: issuer \"%V\": key %uz (%s%s%s) "
                          "skipped: not a signature key for the issuer's "
                          "algorithms", &is->name, i,
                          jg_kty_name(kty) ? jg_kty_name(kty) : "?",
                          alg != JG_ALG_UNKNOWN ? " " : "",
                          alg != JG_ALG_UNKNOWN ? jg_alg_name(alg) : "");
            continue;
        }

        if (jg_jwks_add(usable, (jg_jwk *) key) != JG_OK) {
            jg_jwks_free(usable);
            return NULL;
        }
    }

    return usable;
}


/* ---- the request -------------------------------------------------------- */


/*
 * The token's issuer: its unverified "iss" picks the key set (never a key
 * the issuer), and a token whose "iss" this location does not trust is
 * refused before any signature work. NGX_OK with ctx->trust set,
 * NGX_DECLINED with a refusal, NGX_ERROR.
 */

ngx_int_t
ngx_http_jwtgate_issuer_pick(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_http_jwtgate_ctx_t *ctx,
    ngx_uint_t *status, const char **error, const char **description,
    const char **reason)
{
    u_char                        *p;
    time_t                         age;
    ngx_str_t                      iss;
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_jwtgate_trust_t      *trust;
    ngx_http_jwtgate_issuer_t     *is;
    ngx_http_jwtgate_main_conf_t  *jmcf;

    *status = NGX_HTTP_UNAUTHORIZED;
    *error = "invalid_token";

    rc = ngx_http_jwtgate_token_iss(r, jlcf, &ctx->token, &iss, reason);

    if (rc != NGX_OK) {
        *description = "the access token is malformed or names no issuer";
        return rc;
    }

    trust = jlcf->trust->elts;

    for (i = 0; i < jlcf->trust->nelts; i++) {
        if (trust[i].issuer->name.len == iss.len
            && ngx_memcmp(trust[i].issuer->name.data, iss.data, iss.len)
               == 0)
        {
            break;
        }
    }

    if (i == jlcf->trust->nelts) {
        jmcf = ngx_http_get_module_main_conf(r, ngx_http_jwtgate_module);
        jmcf->issuers->untrusted++;

        /* unverified text, for the debug log: at most 64 printable bytes */
        iss.len = ngx_min(iss.len, 64);

        for (i = 0; i < iss.len; i++) {
            if (iss.data[i] < 0x20 || iss.data[i] >= 0x7f) {
                iss.data[i] = '?';
            }
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "jwtgate: issuer \"%V\" not trusted here, no "
                       "signature checked", &iss);

        *description = "the access token's issuer is not trusted here";
        *reason = "issuer not trusted";
        return NGX_DECLINED;
    }

    is = trust[i].issuer;

    if (is->keys == NULL) {
        *description = "the keys of the access token's issuer are not "
                       "available";
        *reason = "no key set of the token's issuer yet (is the agent "
                  "\"jwtgate gateway jwks\" running?)";
        return NGX_DECLINED;
    }

    age = ngx_time() - is->stats.fetched_at;

    if (age > is->stale) {
        is->stats.stale_refusals++;
        ngx_http_jwtgate_metrics_add(NGX_HTTP_JWTGATE_TABLE_ISSUERS, &is->name,
                                     NGX_HTTP_JWTGATE_ISSUER_STALE, 1);

        p = ngx_pnalloc(r->pool, is->name.len + 160);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *ngx_sprintf(p, "the keys of issuer \"%V\" were last fetched %T s "
                     "ago, over its stale bound of %T s", &is->name, age,
                     is->stale) = '\0';

        *description = "the keys of the access token's issuer are not "
                       "available";
        *reason = (char *) p;
        return NGX_DECLINED;
    }

    ctx->trust = &trust[i];

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: issuer \"%V\" trusted here", &is->name);

    return NGX_OK;
}


/*
 * The "iss" of a compact JWS's payload, unverified (only to pick a key
 * set: the signature and every claim are checked after). An encrypted
 * token is decrypted with the location's jwtgate_key_file keys first, and
 * again by jg_access_token_open(): the price of picking the key set by the
 * inner "iss" with the library's one call for the rest.
 */

static ngx_int_t
ngx_http_jwtgate_token_iss(ngx_http_request_t *r,
    ngx_http_jwtgate_loc_conf_t *jlcf, ngx_str_t *token, ngx_str_t *iss,
    const char **reason)
{
    size_t                dots, i, len;
    jg_err                err;
    jg_jwe               *jwe;
    ngx_int_t             rc;
    const u_char         *inner;
    jg_jwe_decrypt_opts   opts;

    dots = 0;

    for (i = 0; i < token->len; i++) {
        if (token->data[i] == '.') {
            dots++;
        }
    }

    if (dots != 4) {
        return ngx_http_jwtgate_payload_iss(r, token->data, token->len, iss,
                                            reason);
    }

    if (jlcf->keys == NULL || jlcf->policy.form == JG_FORM_SIGNED) {
        *reason = "an encrypted token where a signed one is expected";
        return NGX_DECLINED;
    }

    ngx_memzero(&opts, sizeof(jg_jwe_decrypt_opts));
    opts.algs = jlcf->policy.key_algs;
    opts.encs = jlcf->policy.encs;

    err = jg_jwe_decrypt((char *) token->data, token->len, jlcf->keys, &opts,
                         &jwe);

    if (err == JG_ERR_NOMEM) {
        return NGX_ERROR;
    }

    if (err != JG_OK) {
        *reason = jg_strerror(err);
        return NGX_DECLINED;
    }

    inner = jg_jwe_plaintext(jwe, &len);

    rc = ngx_http_jwtgate_payload_iss(r, (u_char *) inner, len, iss, reason);

    /* wipes the plaintext */
    jg_jwe_free(jwe);

    return rc;
}


static ngx_int_t
ngx_http_jwtgate_payload_iss(ngx_http_request_t *r, u_char *token,
    size_t token_len, ngx_str_t *iss, const char **reason)
{
    u_char      *dot1, *dot2, *end, *payload;
    size_t       len;
    jg_err       err;
    jg_claims   *claims;
    jg_limits    limits;
    ngx_uint_t   dots, i;
    const char  *s;

    dots = 0;

    for (i = 0; i < token_len; i++) {
        if (token[i] == '.') {
            dots++;
        }
    }

    if (dots != 2) {
        *reason = "not a compact JWS or JWE";
        return NGX_DECLINED;
    }

    end = token + token_len;
    dot1 = ngx_strlchr(token, end, '.');
    dot2 = ngx_strlchr(dot1 + 1, end, '.');

    len = (size_t) (dot2 - dot1 - 1);

    if (len == 0 || len > JG_DEFAULT_MAX_PAYLOAD_LEN / 3 * 4 + 4) {
        *reason = "the token's payload is empty or too large";
        return NGX_DECLINED;
    }

    payload = ngx_pnalloc(r->pool, len);
    if (payload == NULL) {
        return NGX_ERROR;
    }

    if (jg_b64url_decode((char *) dot1 + 1, len, payload, &len) != JG_OK) {
        *reason = "the token's payload is not base64url";
        return NGX_DECLINED;
    }

    limits = jg_limits_default();

    err = jg_claims_parse((char *) payload, len, &limits, &claims);

    if (err == JG_ERR_NOMEM) {
        return NGX_ERROR;
    }

    if (err != JG_OK) {
        *reason = "the token's payload is not a claim set";
        return NGX_DECLINED;
    }

    if (jg_claims_get_string(claims, "iss", &s) != JG_OK) {
        jg_claims_free(claims);
        *reason = "the token has no \"iss\"";
        return NGX_DECLINED;
    }

    iss->len = ngx_strlen(s);
    iss->data = ngx_pnalloc(r->pool, iss->len + 1);

    if (iss->data == NULL) {
        jg_claims_free(claims);
        return NGX_ERROR;
    }

    ngx_memcpy(iss->data, s, iss->len + 1);
    jg_claims_free(claims);

    return NGX_OK;
}


/* The open policy for the token's issuer: the location's rules with the
 * issuer's name, algorithms, keys, audience and required claims. */

void
ngx_http_jwtgate_issuer_policy(ngx_http_jwtgate_ctx_t *ctx,
    jg_open_policy *policy, jg_jwks **verify)
{
    ngx_str_t                  *aud;
    ngx_http_jwtgate_trust_t   *trust;
    ngx_http_jwtgate_issuer_t  *is;

    trust = ctx->trust;
    is = trust->issuer;
    policy->jwt.issuer = (char *) is->name.data;
    policy->jwt.algs = policy->jwt.algs ? (policy->jwt.algs & is->algs)
                                        : is->algs;

    if (trust->audiences != NULL) {
        aud = trust->audiences->elts;

        /* several: any of them, checked after (ngx_http_jwtgate_issuer_
         * audience) */
        policy->jwt.audience = trust->audiences->nelts == 1
                               ? (char *) aud[0].data : NULL;
    }

    if (trust->required != NULL) {
        policy->jwt.required = trust->required;
    }

    *verify = is->keys;
}


/* A token that no key fitted: if it names a kid, the issuer may have
 * rotated, so the agent is asked to refetch. */

void
ngx_http_jwtgate_issuer_failed(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx, jg_err err)
{
    if (ctx->trust == NULL || err != JG_ERR_KEY_NOT_FOUND) {
        return;
    }

    ngx_http_jwtgate_issuer_want(ctx->trust->issuer, r->connection->log);
}


static void
ngx_http_jwtgate_issuer_want(ngx_http_jwtgate_issuer_t *is, ngx_log_t *log)
{
    time_t       now;
    ngx_fd_t     fd;
    struct stat  fi;

    now = ngx_time();

    /* this worker, then every worker: the file's own mtime */

    if (now - is->want_at < NGX_HTTP_JWTGATE_WANT_EVERY) {
        return;
    }

    is->want_at = now;

    if (stat((char *) is->want.data, &fi) == 0
        && now - fi.st_mtim.tv_sec < NGX_HTTP_JWTGATE_WANT_EVERY
        && fi.st_mtim.tv_sec <= now)
    {
        return;
    }

    fd = ngx_open_file(is->want.data, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "jwtgate: issuer \"%V\": " ngx_open_file_n " \"%V\" "
                      "failed: no early refetch", &is->name, &is->want);
        return;
    }

    if (futimens(fd, NULL) == -1) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "jwtgate: issuer \"%V\": futimens() \"%V\" failed",
                      &is->name, &is->want);
    }

    (void) ngx_close_file(fd);

    is->stats.refetch_asks++;
    ngx_http_jwtgate_metrics_add(NGX_HTTP_JWTGATE_TABLE_ISSUERS, &is->name,
                                 NGX_HTTP_JWTGATE_ISSUER_REFETCHES, 1);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "jwtgate: issuer \"%V\": a token names a key the set "
                  "does not hold, refetch asked", &is->name);
}


/* Several audiences for one issuer: the token's "aud" holds one of them. */

ngx_int_t
ngx_http_jwtgate_issuer_audience(ngx_http_request_t *r,
    ngx_http_jwtgate_ctx_t *ctx)
{
    size_t       k, n;
    ngx_str_t   *aud;
    ngx_uint_t   i;
    const char  *have;

    if (ctx->trust == NULL || ctx->trust->audiences == NULL
        || ctx->trust->audiences->nelts < 2)
    {
        return NGX_OK;
    }

    aud = ctx->trust->audiences->elts;
    n = jg_claims_aud_count(ctx->claims);

    for (k = 0; k < n; k++) {
        have = jg_claims_aud_at(ctx->claims, k);

        for (i = 0; i < ctx->trust->audiences->nelts; i++) {
            if (have != NULL && ngx_strcmp(have, aud[i].data) == 0) {
                return NGX_OK;
            }
        }
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "jwtgate: the token's audience is none of those its "
                   "issuer is trusted for here");

    return NGX_DECLINED;
}
