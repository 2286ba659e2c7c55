/*
 * oauth.h — the OAuth 2.0 endpoints: token (RFC 6749 section 4.4, RFC 8707,
 * RFC 9068), introspection (RFC 7662), revocation (RFC 7009), server
 * metadata (RFC 8414) and the issuer's JWKS.
 */
#ifndef JGD_OAUTH_H
#define JGD_OAUTH_H

#include "server/core/view.h"
#include "server/http/form.h"
#include "server/http/http.h"

/* The outcome of client authentication. */
typedef struct client_auth {
    const char *client_id;          /* borrowed from the view */
    const v_client *client;         /* the view's client record */
    int by_cert;                    /* tls_client_auth or self_signed_tls_client_auth */
    const struct client_cert *cert; /* by_cert: the certificate (borrowed from the request) */
} client_auth;

/*
 * Authenticate the client of a token, introspection or revocation request
 * (client_secret_basic, client_secret_post, private_key_jwt, and RFC 8705's
 * tls_client_auth and self_signed_tls_client_auth: a client_id and nothing
 * else, with a certificate a trusted proxy forwarded). On failure the
 * error response is already set in `r`, the refusal counted, and -1 returned.
 */
int client_authenticate(request *r, const form *f, view *v, client_auth *out);

/* Parse the common shape of the three POST endpoints: method, media type,
 * no query, a well-formed form without repeated parameters. On failure the
 * error response is set and -1 returned. */
int oauth_parse_post(request *r, form *f, const char *const *multi);

/* Count a refusal and answer with the RFC 6749 error. */
void oauth_refuse(request *r, refusal why, unsigned status, const char *error,
                  const char *description);

/* Open one of our access tokens (decrypt, verify, validate). */
jg_err oauth_open_token(jgd *d, const view *v, const char *token, jg_claims **out);

void oauth_token(request *r);
void oauth_introspect(request *r);
void oauth_revoke(request *r);
void oauth_metadata(request *r);
void oauth_jwks(request *r);

#endif
