/*
 * jwtgate/jwtgate.h — everything in libjwtgate. Include this, or only the
 * headers of the concepts you use.
 */
#ifndef JWTGATE_JWTGATE_H
#define JWTGATE_JWTGATE_H

#include "jwtgate/access_token.h"
#include "jwtgate/alg.h"
#include "jwtgate/base64url.h"
#include "jwtgate/common.h"
#include "jwtgate/dpop.h"
#include "jwtgate/error.h"
#include "jwtgate/jwe.h"
#include "jwtgate/jwk.h"
#include "jwtgate/jws.h"
#include "jwtgate/jwt.h"
#include "jwtgate/snapshot.h"

#endif /* JWTGATE_JWTGATE_H */
