
/*
 * Key sets: the keys of jwtgate_key_file (read and parsed once, while the
 * configuration is read), the algorithms a set allows, the identity of a
 * set that goes into the cache key, and, in the debug log, what a set
 * offered when a token found no key in it.
 *
 * A key set is immutable once loaded and shared by every request of the
 * process; the snapshot's sets are parsed in ngx_http_jwtgate_snapshot.c
 * and live as long as their snapshot.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_jwtgate_module.h"


#define NGX_HTTP_JWTGATE_KEY_FILE_MAX  ((off_t) 16 * 1024 * 1024)


static void ngx_http_jwtgate_keys_cleanup(void *data);


/* ---- jwtgate_key_file --------------------------------------------------- */


/*
 * Every key file's keys in one set, parsed once per configuration level
 * (a level that inherits its keys shares its parent's set). The file's
 * text is wiped: a key file may hold private and secret keys.
 */

ngx_int_t
ngx_http_jwtgate_load_keys(ngx_conf_t *cf, ngx_http_jwtgate_loc_conf_t *conf)
{
    u_char              *buf;
    jg_err               err;
    size_t               k;
    ssize_t              n;
    jg_jwks             *all, *one;
    ngx_fd_t             fd;
    ngx_str_t           *files, name;
    ngx_uint_t           i;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (conf->key_files == NGX_CONF_UNSET_PTR || conf->key_files == NULL
        || conf->keys != NULL)
    {
        return NGX_OK;
    }

    if (jg_jwks_new(&all) != JG_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        jg_jwks_free(all);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_jwtgate_keys_cleanup;
    cln->data = all;
    conf->keys = all;

    files = conf->key_files->elts;

    for (i = 0; i < conf->key_files->nelts; i++) {
        name = files[i];

        if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_open_file_n " \"%V\" failed", &name);
            return NGX_ERROR;
        }

        if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
            || ngx_file_size(&fi) <= 0
            || ngx_file_size(&fi) > NGX_HTTP_JWTGATE_KEY_FILE_MAX)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "key file \"%V\" is empty, unreadable "
                               "or larger than 16 MB", &name);
            (void) ngx_close_file(fd);
            return NGX_ERROR;
        }

        buf = ngx_alloc((size_t) ngx_file_size(&fi), cf->log);
        if (buf == NULL) {
            (void) ngx_close_file(fd);
            return NGX_ERROR;
        }

        n = read(fd, buf, (size_t) ngx_file_size(&fi));
        (void) ngx_close_file(fd);

        if (n != (ssize_t) ngx_file_size(&fi)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "reading \"%V\" failed", &name);
            jg_memzero(buf, (size_t) ngx_file_size(&fi));
            ngx_free(buf);
            return NGX_ERROR;
        }

        err = jg_jwks_parse_any((char *) buf, (size_t) n, 0, NULL, &one);

        /* a key file may hold private and secret keys */
        jg_memzero(buf, (size_t) n);
        ngx_free(buf);

        if (err != JG_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "key file \"%V\": %s", &name,
                               jg_strerror(err));
            return NGX_ERROR;
        }

        for (k = 0; k < jg_jwks_count(one); k++) {
            if (jg_jwks_add(all, (jg_jwk *) jg_jwks_get(one, k)) != JG_OK) {
                jg_jwks_free(one);
                return NGX_ERROR;
            }
        }

        jg_jwks_free(one);
    }

    if (jg_jwks_count(all) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the key files hold no key this module can use");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_jwtgate_keys_cleanup(void *data)
{
    jg_jwks_free(data);
}


/* ---- the algorithms and the identity of a set --------------------------- */


/* The algorithms a key set allows: each key's "alg", or `dflt` for keys
 * without one (jwtgated always writes "alg"). */

jg_alg_set
ngx_http_jwtgate_key_algs(jg_jwks *set, jg_alg_kind kind, jg_alg dflt)
{
    size_t         i;
    jg_alg         alg;
    jg_alg_set     algs;
    const jg_jwk  *key;

    algs = 0;

    for (i = 0; i < jg_jwks_count(set); i++) {
        key = jg_jwks_get(set, i);
        alg = jg_jwk_alg(key);

        if (alg == JG_ALG_UNKNOWN) {
            alg = dflt;
        }

        if (jg_alg_kind_of(alg) == kind) {
            algs |= JG_ALG_BIT(alg);
        }
    }

    return algs;
}


/* The identity of a key set: each key's RFC 7638 thumbprint, kid, alg and
 * use. (The thumbprint of an "oct" key hashes its secret; the digest goes
 * nowhere but into cache keys.) */

ngx_int_t
ngx_http_jwtgate_digest_keys(EVP_MD_CTX *md, jg_jwks *set)
{
    int            ok;
    size_t         i;
    jg_alg         alg;
    jg_use         use;
    const char    *kid;
    const jg_jwk  *key;
    unsigned char  tp[32];

    ok = EVP_DigestUpdate(md, "keys", sizeof("keys"));

    for (i = 0; ok && i < jg_jwks_count(set); i++) {
        key = jg_jwks_get(set, i);
        kid = jg_jwk_kid(key);
        alg = jg_jwk_alg(key);
        use = jg_jwk_use(key);

        ok = jg_jwk_thumbprint(key, tp) == JG_OK
             && EVP_DigestUpdate(md, tp, sizeof(tp))
             && EVP_DigestUpdate(md, kid ? kid : "",
                                 kid ? ngx_strlen(kid) + 1 : 1)
             && EVP_DigestUpdate(md, &alg, sizeof(alg))
             && EVP_DigestUpdate(md, &use, sizeof(use));
    }

    jg_memzero(tp, sizeof(tp));

    return ok ? NGX_OK : NGX_ERROR;
}


/* ---- the debug log ------------------------------------------------------ */


/*
 * Whether a token was refused because no key of the sets fits it (its
 * "kid", its "alg", or a key's "alg", "use" or "key_ops"), as opposed to a
 * key that fits and a token that fails with it.
 */

ngx_uint_t
ngx_http_jwtgate_key_error(jg_err err)
{
    switch (err) {

    case JG_ERR_KEY_NOT_FOUND:
    case JG_ERR_KEY_ALG:
    case JG_ERR_KEY_USE:
    case JG_ERR_KEY_OPS:
    case JG_ERR_KEY_TYPE:
    case JG_ERR_KEY_NOT_PRIVATE:
    case JG_ERR_NESTED_KEY:
    case JG_ERR_ALG_NOT_ALLOWED:
    case JG_ERR_ALG_KIND:
        return 1;

    default:
        return 0;
    }
}


#if (NGX_DEBUG)

/* What a set offers, one line per key: kid, alg and type, never a key's
 * material. */

void
ngx_http_jwtgate_keys_debug(ngx_log_t *log, const char *what, jg_jwks *set)
{
    size_t         i, n;
    jg_alg         alg;
    const char    *kid, *name, *kty;
    const jg_jwk  *key;

    n = set != NULL ? jg_jwks_count(set) : 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "jwtgate: %s keys: %uz", what, n);

    for (i = 0; i < n && i < 32; i++) {
        key = jg_jwks_get(set, i);
        kid = jg_jwk_kid(key);
        alg = jg_jwk_alg(key);
        name = alg != JG_ALG_UNKNOWN ? jg_alg_name(alg) : NULL;
        kty = jg_kty_name(jg_jwk_kty(key));

        ngx_log_debug5(NGX_LOG_DEBUG_HTTP, log, 0,
                       "jwtgate: %s key %uz: kid \"%s\", alg %s, kty %s",
                       what, i, kid ? kid : "", name ? name : "(any)",
                       kty ? kty : "?");
    }
}

#endif
