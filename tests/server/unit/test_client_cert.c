/* test_client_cert.c — the forwarded client certificate (server/oauth/client_cert.h):
 * both header forms, x5t#S256, hostile values (every truncation of the DER, trailing
 * bytes, the other base64 alphabet, oversize), tls_client_auth names and the
 * self-signed key match. The certificate is made here with OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "server/core/view.h"
#include "server/oauth/client_cert.h"

static EVP_PKEY *key, *other_key;
static unsigned char *der;
static int der_len;

static void add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

static int setup(void **state)
{
    (void)state;
    key = EVP_EC_gen("P-256");
    other_key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"DE", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Example, Inc.", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"client-\xc3\xa9", -1,
                               -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, key);
    add_ext(x, NID_subject_alt_name,
            "DNS:one.example.com,URI:spiffe://example.com/one,IP:2001:db8::1,"
            "email:one@example.com");
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    der_len = i2d_X509(x, &der);
    assert_true(der_len > 0);
    X509_free(x);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    OPENSSL_free(der);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    return 0;
}

/* ":" base64(bytes) ":" (RFC 9440); malloc'd. */
static char *sf(const unsigned char *bytes, int len)
{
    char *out = malloc((size_t)(4 * (len / 3 + 1) + 3));
    out[0] = ':';
    int n = EVP_EncodeBlock((unsigned char *)out + 1, bytes, len);
    out[n + 1] = ':';
    out[n + 2] = '\0';
    return out;
}

static char *escaped_pem(void)
{
    char *b64 = sf(der, der_len);
    size_t n = strlen(b64);
    char *out = malloc(n * 2 + 128);
    strcpy(out, "-----BEGIN%20CERTIFICATE-----%0A");
    size_t o = strlen(out);
    for (size_t i = 1; i + 1 < n; i++) {
        const char *enc = b64[i] == '+'   ? "%2B"
                          : b64[i] == '/' ? "%2F"
                          : b64[i] == '=' ? "%3D"
                                          : NULL;
        if (enc != NULL) {
            memcpy(out + o, enc, 3);
            o += 3;
        } else {
            out[o++] = b64[i];
        }
        if ((i % 64) == 0) {
            memcpy(out + o, "%0A", 3);
            o += 3;
        }
    }
    strcpy(out + o, "%0A-----END%20CERTIFICATE-----%0A");
    free(b64);
    return out;
}

static void expected_x5t(char out[44])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    assert_int_equal(EVP_Digest(der, (size_t)der_len, md, &md_len, EVP_sha256(), NULL), 1);
    jg_b64url_encode(md, 32, out);
    out[43] = '\0';
}

static void both_forms(void **state)
{
    (void)state;
    char want[44];
    expected_x5t(want);
    char *a = sf(der, der_len), *b = escaped_pem();
    client_cert *c = NULL;
    assert_int_equal(client_cert_parse(a, strlen(a), &c), 0);
    assert_string_equal(c->x5t, want);
    client_cert_free(c);
    assert_int_equal(client_cert_parse(b, strlen(b), &c), 0);
    assert_string_equal(c->x5t, want);
    client_cert_free(c);
    free(a);
    free(b);
}

static void refuse(const char *value, size_t len)
{
    client_cert *c = (client_cert *)1;
    assert_int_equal(client_cert_parse(value, len, &c), -1);
    assert_null(c);
}

static void hostile_values(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      " ",
                                      ":",
                                      "::",
                                      ":=:",
                                      ":A:",
                                      ":AAA=:",
                                      ":====:",
                                      "x",
                                      "-----BEGIN",
                                      "-----BEGIN%20CERTIFICATE-----%0A%00",
                                      "-----BEGIN%ZZ",
                                      ":MII=:",
                                      NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        refuse(bad[i], strlen(bad[i]));
    /* every truncation of the DER */
    for (int n = 0; n < der_len; n++) {
        char *t = sf(der, n);
        refuse(t, strlen(t));
        free(t);
    }
    /* a byte after the certificate */
    unsigned char *more = malloc((size_t)der_len + 1);
    memcpy(more, der, (size_t)der_len);
    more[der_len] = 0;
    char *t = sf(more, der_len + 1);
    refuse(t, strlen(t));
    free(t);
    free(more);
    /* the other alphabet (base64url), and no padding */
    char *a = sf(der, der_len);
    for (char *p = a; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    if (strchr(a, '-') != NULL || strchr(a, '_') != NULL)
        refuse(a, strlen(a));
    free(a);
    /* oversize */
    size_t big = CLIENT_CERT_MAX_HEADER + 8;
    char *huge = malloc(big + 1);
    memset(huge, 'A', big);
    huge[0] = huge[big - 1] = ':';
    huge[big] = '\0';
    refuse(huge, big);
    free(huge);
}

static void names(void **state)
{
    (void)state;
    char *a = sf(der, der_len);
    client_cert *c = NULL;
    assert_int_equal(client_cert_parse(a, strlen(a), &c), 0);
    free(a);
    assert_true(
        client_cert_names(c, V_TLS_SUBJECT_DN, "CN=client-\xc3\xa9,O=Example\\, Inc.,C=DE"));
    assert_true(client_cert_names(c, V_TLS_SUBJECT_DN,
                                  "  cn = client-\xc3\xa9 , o = Example\\, Inc. , c=DE "));
    assert_false(client_cert_names(c, V_TLS_SUBJECT_DN, "CN=client-\xc3\xa9,O=Example, Inc.,C=DE"));
    assert_false(
        client_cert_names(c, V_TLS_SUBJECT_DN, "C=DE,O=Example\\, Inc.,CN=client-\xc3\xa9"));
    assert_false(client_cert_names(c, V_TLS_SUBJECT_DN, ""));
    assert_true(client_cert_names(c, V_TLS_SAN_DNS, "ONE.example.com"));
    assert_false(client_cert_names(c, V_TLS_SAN_DNS, "one.example.co"));
    assert_true(client_cert_names(c, V_TLS_SAN_URI, "spiffe://example.com/one"));
    assert_false(client_cert_names(c, V_TLS_SAN_URI, "SPIFFE://example.com/one"));
    assert_true(client_cert_names(c, V_TLS_SAN_IP, "2001:0db8:0::1"));
    assert_false(client_cert_names(c, V_TLS_SAN_IP, "2001:db8::2"));
    assert_false(client_cert_names(c, V_TLS_SAN_IP, "not an address"));
    assert_true(client_cert_names(c, V_TLS_SAN_EMAIL, "one@example.com"));
    assert_false(client_cert_names(c, V_TLS_SAN_DNS, "one@example.com")); /* another type */
    assert_false(client_cert_names(c, 99, "x"));
    client_cert_free(c);
}

static jg_jwks *jwks_of(EVP_PKEY *k)
{
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(k, &spki);
    jg_jwk *j = NULL;
    assert_int_equal(jg_jwk_from_der(spki, (size_t)n, NULL, 0, &j), JG_OK);
    OPENSSL_free(spki);
    jg_jwks *set = NULL;
    assert_int_equal(jg_jwks_new(&set), JG_OK);
    assert_int_equal(jg_jwks_add(set, j), JG_OK);
    jg_jwk_free(j);
    return set;
}

static void self_signed_key(void **state)
{
    (void)state;
    char *a = sf(der, der_len);
    client_cert *c = NULL;
    assert_int_equal(client_cert_parse(a, strlen(a), &c), 0);
    free(a);
    jg_jwks *mine = jwks_of(key), *theirs = jwks_of(other_key);
    assert_true(client_cert_key_in(c, mine));
    assert_false(client_cert_key_in(c, theirs));
    assert_false(client_cert_key_in(c, NULL));
    jg_jwks_free(mine);
    jg_jwks_free(theirs);
    client_cert_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_forms),
        cmocka_unit_test(hostile_values),
        cmocka_unit_test(names),
        cmocka_unit_test(self_signed_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
