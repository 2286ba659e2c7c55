/*
 * client_cert.c — parse the client certificate a trusted proxy forwards
 * (client_cert.h): RFC 9440's Client-Cert (a structured-field byte
 * sequence, ":" standard base64 of the DER ":") or nginx's
 * $ssl_client_escaped_cert (the PEM, percent-encoded). The input is
 * hostile until parsed: its length is bounded, the DER must be exactly one
 * certificate with nothing after it, and OpenSSL does the parsing.
 */
#include "server/oauth/client_cert.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "server/core/util.h"
#include "server/core/view.h"
#include "server/http/form.h"

void client_cert_free(client_cert *c)
{
    if (c == NULL)
        return;
    X509_free(c->x509);
    free(c);
}

/* RFC 9440: standard base64 (RFC 4648 section 4) with padding, between
 * colons. Decoded by the library's strict base64url decoder after mapping
 * the alphabet, so that no lenient decoder (EVP_DecodeBlock skips
 * whitespace) sees hostile input. */
static unsigned char *sf_binary(const char *s, size_t len, size_t *out_len)
{
    if (len < 2 || s[0] != ':' || s[len - 1] != ':')
        return NULL;
    s++;
    len -= 2;
    if (len == 0 || len % 4 != 0)
        return NULL;
    size_t n = len;
    if (s[n - 1] == '=')
        n--;
    if (s[n - 1] == '=')
        n--;
    char *t = malloc(n + 1);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-' || c == '_') { /* the other alphabet is not RFC 9440's */
            free(t);
            return NULL;
        }
        t[i] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    unsigned char *raw = NULL;
    jg_err err = jg_b64url_decode_alloc(t, n, &raw, out_len);
    free(t);
    return err == JG_OK ? raw : NULL;
}

static X509 *from_der(const unsigned char *der, size_t len)
{
    if (len > (size_t)CLIENT_CERT_MAX_HEADER)
        return NULL;
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) { /* trailing bytes: not one certificate */
        X509_free(x);
        x = NULL;
    }
    return x;
}

static X509 *from_escaped_pem(const char *s, size_t len)
{
    char *pem = pct_decode(s, len, 0);
    if (pem == NULL)
        return NULL;
    X509 *x = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
    if (bio != NULL) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    free(pem);
    return x;
}

int client_cert_parse(const char *value, size_t len, client_cert **out)
{
    *out = NULL;
    while (len > 0 && (*value == ' ' || *value == '\t')) { /* optional whitespace */
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0 || len > CLIENT_CERT_MAX_HEADER)
        return -1;
    X509 *x = NULL;
    if (value[0] == ':') {
        size_t der_len = 0;
        unsigned char *der = sf_binary(value, len, &der_len);
        if (der != NULL)
            x = from_der(der, der_len);
        jg_free(der);
    } else if (len > 10 && strncmp(value, "-----BEGIN", 10) == 0) {
        x = from_escaped_pem(value, len);
    }
    if (x == NULL)
        return -1;
    /* x5t#S256 is over the DER as OpenSSL writes it back: for a
     * certificate parsed from DER, those same bytes (kept encoding). */
    unsigned char *der = NULL;
    int der_len = i2d_X509(x, &der);
    client_cert *c = calloc(1, sizeof *c);
    int rc = -1;
    if (der_len > 0 && c != NULL && sv_hash_b64(der, (size_t)der_len, c->x5t) == 0) {
        c->x509 = x;
        *out = c;
        x = NULL;
        c = NULL;
        rc = 0;
    }
    OPENSSL_free(der);
    X509_free(x);
    free(c);
    return rc;
}

int client_cert_get(request *r, const client_cert **out)
{
    if (r->cert_state == 0) {
        const char *name = r->d->cfg.client_cert_header != NULL ? r->d->cfg.client_cert_header
                                                                : CLIENT_CERT_HEADER;
        const char *v = http_req_header(r, name);
        int state = 0;
        if (v != NULL && !r->from_proxy) {
            /* anyone can write a header: only a trusted proxy's is believed */
            atomic_fetch_add_explicit(&r->d->m.client_cert_ignored, 1, memory_order_relaxed);
        } else if (v != NULL && http_req_header_count(r, name) != 1) {
            /* a proxy that appends instead of replacing would put the
             * client's own header first: refuse rather than pick one */
            state = -1;
        } else if (v != NULL) {
            size_t len = strnlen(v, CLIENT_CERT_MAX_HEADER + 1);
            state = client_cert_parse(v, len, &r->cert) == 0 ? 1 : -1;
        }
        r->cert_state = state + 2;
    }
    *out = r->cert;
    return r->cert_state - 2;
}

/* The normal form of an RFC 4514 string (client_cert_names); malloc'd. */
static char *dn_normal(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0, keep = 0; /* keep: written bytes a trim must not remove (escapes) */
    int in_type = 1;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\\' && i + 1 < n) {
            out[o++] = ch;
            out[o++] = s[++i];
            keep = o;
            continue;
        }
        if (ch == ',' || ch == '+' || (ch == '=' && in_type)) {
            while (o > keep && out[o - 1] == ' ')
                o--;
            out[o++] = ch;
            keep = o;
            in_type = ch != '=';
            while (i + 1 < n && s[i + 1] == ' ')
                i++;
            continue;
        }
        if (o == keep && ch == ' ' && o == 0)
            continue; /* leading spaces */
        out[o++] = in_type ? (char)toupper((unsigned char)ch) : ch;
    }
    while (o > keep && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return out;
}

static char *subject_rfc4514(X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    /* UTF-8 as is, not escaped as \XX: what people register */
    if (bio != NULL && X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
                                          XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len >= 0 && (out = malloc((size_t)len + 1)) != NULL) {
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    BIO_free(bio);
    return out;
}

static int san_has(X509 *x, int type, const char *value)
{
    unsigned char ip[16];
    size_t ip_len = 0;
    if (type == GEN_IPADD) {
        if (inet_pton(AF_INET, value, ip) == 1)
            ip_len = 4;
        else if (inet_pton(AF_INET6, value, ip) == 1)
            ip_len = 16;
        else
            return 0;
    }
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int found = 0;
    size_t vlen = strlen(value);
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != type)
            continue;
        if (type == GEN_IPADD) {
            found = (size_t)g->d.iPAddress->length == ip_len &&
                    memcmp(g->d.iPAddress->data, ip, ip_len) == 0;
            continue;
        }
        const ASN1_IA5STRING *s = g->d.ia5; /* dNSName, URI, rfc822Name */
        if ((size_t)s->length != vlen || memchr(s->data, 0, vlen) != NULL)
            continue;
        found = type == GEN_URI ? memcmp(s->data, value, vlen) == 0
                                : strncasecmp((const char *)s->data, value, vlen) == 0;
    }
    GENERAL_NAMES_free(names);
    return found;
}

int client_cert_names(const client_cert *c, int field, const char *value)
{
    if (c == NULL || value == NULL || *value == '\0')
        return 0;
    switch (field) {
    case V_TLS_SUBJECT_DN: {
        char *subject = subject_rfc4514(c->x509);
        char *a = subject != NULL ? dn_normal(subject) : NULL, *b = dn_normal(value);
        int eq = a != NULL && b != NULL && strcmp(a, b) == 0;
        free(subject);
        free(a);
        free(b);
        return eq;
    }
    case V_TLS_SAN_DNS:
        return san_has(c->x509, GEN_DNS, value);
    case V_TLS_SAN_URI:
        return san_has(c->x509, GEN_URI, value);
    case V_TLS_SAN_IP:
        return san_has(c->x509, GEN_IPADD, value);
    case V_TLS_SAN_EMAIL:
        return san_has(c->x509, GEN_EMAIL, value);
    default:
        return 0;
    }
}

int client_cert_key_in(const client_cert *c, const jg_jwks *keys)
{
    if (c == NULL || keys == NULL)
        return 0;
    unsigned char *spki = NULL;
    int len = i2d_PUBKEY(X509_get0_pubkey(c->x509), &spki);
    jg_jwk *k = NULL;
    unsigned char tp[32], other[32];
    int found = 0;
    if (len > 0 && jg_jwk_from_der(spki, (size_t)len, NULL, 0, &k) == JG_OK &&
        jg_jwk_thumbprint(k, tp) == JG_OK) {
        for (size_t i = 0; i < jg_jwks_count(keys); i++)
            if (jg_jwk_thumbprint(jg_jwks_get(keys, i), other) == JG_OK)
                found |= jg_memeq_consttime(tp, other, sizeof tp);
    }
    jg_jwk_free(k);
    OPENSSL_free(spki);
    return found;
}
