/*
 * client_cert.h — the TLS client certificate a trusted reverse proxy
 * forwards in a header (RFC 8705 behind a TLS-terminating proxy).
 *
 * jwtgated speaks plain HTTP; the proxy (nginx with ssl_verify_client)
 * verified the certificate's chain and forwards the certificate itself.
 * Only a peer inside --trusted-proxy is believed: from anyone else the
 * header is ignored (and counted), since anyone can write a header. The
 * chain is NOT verified here.
 */
#ifndef JGD_CLIENT_CERT_H
#define JGD_CLIENT_CERT_H

#include <openssl/x509.h>

#include "server/http/http.h"

/* The longest header value read (a URL-encoded PEM certificate is about
 * 1.4 times its DER; 16 KiB holds any sane certificate, RSA-8192 included). */
#define CLIENT_CERT_MAX_HEADER ((size_t)16 * 1024)
#define CLIENT_CERT_HEADER     "Client-Cert"

typedef struct client_cert {
    X509 *x509;
    char x5t[44]; /* base64url(SHA-256(DER)): cnf "x5t#S256" (RFC 8705 section 3.1) */
} client_cert;

/*
 * The request's forwarded certificate, parsed on first use and kept with
 * the request (freed by request_free): 1 and *out borrowed, 0 none (no
 * header, or a header from an untrusted peer), -1 malformed or too long
 * or repeated (nothing is answered: the caller refuses). Accepted forms: RFC 9440
 * (":base64-of-DER:") and nginx's $ssl_client_escaped_cert (URL-encoded
 * PEM).
 */
int client_cert_get(request *r, const client_cert **out);

/* Parse one header value (the forms above); 0 or -1. For tests. */
int client_cert_parse(const char *value, size_t len, client_cert **out);

void client_cert_free(client_cert *c);

/*
 * tls_client_auth (RFC 8705 section 2.1.2): whether the certificate has
 * `value` in the registered field (view.h v_tls_field, by its index):
 * the subject DN, compared as RFC 4514 strings after normalisation
 * (attribute types case-insensitive, spaces around the separators ",",
 * "+" and "=" ignored, values byte for byte as OpenSSL writes them, UTF-8),
 * or one subjectAltName entry of that type: dNSName (case-insensitive),
 * uniformResourceIdentifier (exact), iPAddress (the address, v4 or v6,
 * parsed), rfc822Name (case-insensitive).
 */
int client_cert_names(const client_cert *c, int field, const char *value);

/* self_signed_tls_client_auth (RFC 8705 section 2.2): whether the
 * certificate's public key is one of `keys` (RFC 7638 thumbprints over the
 * key material, so the JWK's other members do not matter). */
int client_cert_key_in(const client_cert *c, const jg_jwks *keys);

#endif
