
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
static ngx_int_t ngx_http_jwtgate_split_keys(ngx_conf_t *cf,
    ngx_http_jwtgate_loc_conf_t *conf);
static void ngx_http_jwtgate_printable(u_char *dst, size_t size,
    const char *src);


/* ---- jwtgate_key_file --------------------------------------------------- */


/*
 * Every key file's keys in one set, parsed once per configuration level
 * (a level that inherits its keys shares its parent's set). The file's
 * text is wiped: a key file may hold private and secret keys.
 */

ngx_int_t
ngx_http_jwtgate_load_keys(ngx_conf_t *cf, ngx_http_jwtgate_loc_conf_t *conf)
{
    char                 line[512];
    u_char              *buf;
    jg_err               err;
    size_t               k;
    ssize_t              n;
    jg_jwks             *all, *one;
    ngx_fd_t             fd;
    jg_detail            detail;
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

        err = jg_jwks_parse_any_ex((char *) buf, (size_t) n, 0, NULL, &one,
                                   &detail);

        /* a key file may hold private and secret keys */
        jg_memzero(buf, (size_t) n);
        ngx_free(buf);

        if (err != JG_OK) {
            /* the detail names keys by kid and reason, never material */
            if (jg_detail_format(&detail, line, sizeof(line)) == 0) {
                line[0] = '\0';
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "key file \"%V\": %s%s%s", &name,
                               jg_strerror(err), line[0] ? ": " : "", line);
            return NGX_ERROR;
        }

        ngx_http_jwtgate_log_skipped(cf->log, "key file", &name, one);

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

    return ngx_http_jwtgate_split_keys(cf, conf);
}


/*
 * The keys that may verify the (inner) JWS: every key but those marked for
 * encryption (a JWE "alg" or "use":"enc"). One set serves both layers in
 * the standalone mode, and a decryption secret ("dir", "A256KW") next to
 * the issuer's public keys would make the verification set mix secrets
 * and public keys, which the library refuses (JG_ERR_KEYSET_MIXED): so it
 * is left out here, and a set that still mixes them is a configuration
 * error now rather than a refusal of every request later.
 */

static ngx_int_t
ngx_http_jwtgate_split_keys(ngx_conf_t *cf, ngx_http_jwtgate_loc_conf_t *conf)
{
    size_t               i, secrets, others;
    jg_alg               alg;
    jg_jwks             *set;
    const jg_jwk        *key;
    ngx_pool_cleanup_t  *cln;

    if (jg_jwks_new(&set) != JG_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        jg_jwks_free(set);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_jwtgate_keys_cleanup;
    cln->data = set;
    conf->verify_keys = set;

    secrets = 0;
    others = 0;

    for (i = 0; i < jg_jwks_count(conf->keys); i++) {
        key = jg_jwks_get(conf->keys, i);
        alg = jg_jwk_alg(key);

        if (jg_jwk_use(key) == JG_USE_ENC
            || (alg != JG_ALG_UNKNOWN
                && jg_alg_kind_of(alg) != JG_ALG_KIND_JWS))
        {
            continue;
        }

        if (jg_jwks_add(set, (jg_jwk *) key) != JG_OK) {
            return NGX_ERROR;
        }

        if (jg_jwk_kty(key) == JG_KTY_OCT) {
            secrets++;

        } else {
            others++;
        }
    }

    if (secrets > 0 && others > 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the key files' verification keys mix %uz "
                           "symmetric secret(s) with %uz public key(s): "
                           "use separate locations, and mark a decryption "
                           "secret with its \"alg\" or \"use\":\"enc\"",
                           secrets, others);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A warn line per key a set skipped while loading (too weak, a type this
 * library does not support): which key and why, so that a key file whose
 * keys silently went missing is noticed. Never the key's material.
 */

void
ngx_http_jwtgate_log_skipped(ngx_log_t *log, const char *what,
    ngx_str_t *name, jg_jwks *set)
{
    size_t       i, pos;
    jg_err       why;
    u_char       shown[65];
    ngx_str_t    none = ngx_null_string;
    const char  *kid;

    if (name == NULL) {
        name = &none;
    }

    for (i = 0; i < jg_jwks_skipped_count(set); i++) {
        if (jg_jwks_skipped_at(set, i, &pos, &kid, &why) != JG_OK) {
            continue;
        }

        if (kid != NULL) {
            ngx_http_jwtgate_printable(shown, sizeof(shown), kid);
        }

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "jwtgate: %s%s%V%s: key %uz (%s%s%s) skipped: %s",
                      what, name->len ? " \"" : "", name,
                      name->len ? "\"" : "", pos,
                      kid ? "kid \"" : "no kid", kid ? (char *) shown : "",
                      kid ? "\"" : "", jg_strerror(why));
    }
}


/* At most size - 1 bytes of `src`, printable ASCII, others as '?'. */

static void
ngx_http_jwtgate_printable(u_char *dst, size_t size, const char *src)
{
    size_t  i;

    for (i = 0; i < size - 1 && src[i] != '\0'; i++) {
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (u_char) src[i] : '?';
    }

    dst[i] = '\0';
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
