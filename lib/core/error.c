/* error.c — messages for every jg_err (see include/jwtgate/error.h). */
#include "jwtgate/error.h"

#include <stddef.h>

struct err_text {
    const char *name;
    const char *message;
};

static const struct err_text err_texts[JG_ERR__COUNT] = {
    [JG_OK] = {"JG_OK", "success"},
    [JG_ERR_NOMEM] = {"JG_ERR_NOMEM", "out of memory"},
    [JG_ERR_INVALID_ARGUMENT] = {"JG_ERR_INVALID_ARGUMENT", "invalid argument"},
    [JG_ERR_CRYPTO] = {"JG_ERR_CRYPTO", "the cryptographic library failed"},
    [JG_ERR_UNSUPPORTED] = {"JG_ERR_UNSUPPORTED", "operation not supported"},
    [JG_ERR_LIMIT_TOKEN_SIZE] = {"JG_ERR_LIMIT_TOKEN_SIZE", "token is larger than the size limit"},
    [JG_ERR_LIMIT_HEADER_SIZE] = {"JG_ERR_LIMIT_HEADER_SIZE",
                                  "header is larger than the size limit"},
    [JG_ERR_LIMIT_JSON_DEPTH] = {"JG_ERR_LIMIT_JSON_DEPTH", "JSON is nested deeper than the limit"},
    [JG_ERR_LIMIT_JSON_SIZE] = {"JG_ERR_LIMIT_JSON_SIZE",
                                "JSON document is larger than the size limit"},
    [JG_ERR_LIMIT_SIGNATURES] = {"JG_ERR_LIMIT_SIGNATURES", "too many signatures"},
    [JG_ERR_LIMIT_RECIPIENTS] = {"JG_ERR_LIMIT_RECIPIENTS", "too many recipients"},
    [JG_ERR_LIMIT_KEYS] = {"JG_ERR_LIMIT_KEYS", "too many keys in the key set"},
    [JG_ERR_LIMIT_PBES2_COUNT] = {"JG_ERR_LIMIT_PBES2_COUNT",
                                  "PBES2 iteration count (p2c) above the limit"},
    [JG_ERR_LIMIT_INFLATED] = {"JG_ERR_LIMIT_INFLATED",
                               "decompressed payload is larger than the limit"},
    [JG_ERR_B64_CHAR] = {"JG_ERR_B64_CHAR", "base64url: invalid character"},
    [JG_ERR_B64_PADDING] = {"JG_ERR_B64_PADDING", "base64url: padding is not allowed"},
    [JG_ERR_B64_LENGTH] = {"JG_ERR_B64_LENGTH", "base64url: impossible length"},
    [JG_ERR_B64_NONCANONICAL] = {"JG_ERR_B64_NONCANONICAL",
                                 "base64url: non-zero trailing bits (non-canonical encoding)"},
    [JG_ERR_JSON_SYNTAX] = {"JG_ERR_JSON_SYNTAX", "malformed JSON"},
    [JG_ERR_JSON_DUPLICATE] = {"JG_ERR_JSON_DUPLICATE", "duplicate member name in JSON object"},
    [JG_ERR_JSON_NOT_OBJECT] = {"JG_ERR_JSON_NOT_OBJECT", "JSON object expected"},
    [JG_ERR_JSON_TYPE] = {"JG_ERR_JSON_TYPE", "JSON member has the wrong type"},
    [JG_ERR_JSON_NUMBER] = {"JG_ERR_JSON_NUMBER",
                            "JSON number is not an integer or is out of range"},
    [JG_ERR_TOKEN_FORMAT] = {"JG_ERR_TOKEN_FORMAT", "malformed token"},
    [JG_ERR_HEADER_ALG_MISSING] = {"JG_ERR_HEADER_ALG_MISSING", "header has no \"alg\""},
    [JG_ERR_HEADER_INVALID] = {"JG_ERR_HEADER_INVALID", "header parameter has an invalid value"},
    [JG_ERR_HEADER_DUPLICATE] = {"JG_ERR_HEADER_DUPLICATE",
                                 "header parameter appears in more than one header"},
    [JG_ERR_CRIT_UNKNOWN] = {"JG_ERR_CRIT_UNKNOWN", "\"crit\" names an unsupported extension"},
    [JG_ERR_CRIT_INVALID] = {"JG_ERR_CRIT_INVALID", "\"crit\" is empty or malformed"},
    [JG_ERR_CRIT_UNPROTECTED] = {"JG_ERR_CRIT_UNPROTECTED",
                                 "\"crit\" must be in the protected header"},
    [JG_ERR_B64_HEADER] =
        {"JG_ERR_B64_HEADER",
         "\"b64\" must be a protected boolean listed in \"crit\" and the same for every signature"},
    [JG_ERR_DETACHED_PAYLOAD] = {"JG_ERR_DETACHED_PAYLOAD",
                                 "detached payload missing or unexpected"},
    [JG_ERR_ALG_UNKNOWN] = {"JG_ERR_ALG_UNKNOWN", "unknown algorithm"},
    [JG_ERR_ALG_NOT_ALLOWED] = {"JG_ERR_ALG_NOT_ALLOWED", "algorithm not allowed"},
    [JG_ERR_ALG_NONE] = {"JG_ERR_ALG_NONE", "\"alg\":\"none\" is never accepted"},
    [JG_ERR_ENC_UNKNOWN] = {"JG_ERR_ENC_UNKNOWN", "unknown content encryption algorithm"},
    [JG_ERR_ENC_NOT_ALLOWED] = {"JG_ERR_ENC_NOT_ALLOWED",
                                "content encryption algorithm not allowed"},
    [JG_ERR_ALG_KIND] = {"JG_ERR_ALG_KIND",
                         "algorithm of the wrong kind (JWE algorithm for JWS or the reverse)"},
    [JG_ERR_KEY_INVALID] = {"JG_ERR_KEY_INVALID", "malformed key"},
    [JG_ERR_KEY_KTY] = {"JG_ERR_KEY_KTY", "unsupported key type"},
    [JG_ERR_KEY_CURVE] = {"JG_ERR_KEY_CURVE", "unsupported or mismatched curve"},
    [JG_ERR_KEY_POINT] = {"JG_ERR_KEY_POINT", "public key point is not on the curve"},
    [JG_ERR_KEY_WEAK] = {"JG_ERR_KEY_WEAK", "key is too weak (too small, or an all-zero secret)"},
    [JG_ERR_KEY_SIZE] = {"JG_ERR_KEY_SIZE", "key has the wrong size for this algorithm"},
    [JG_ERR_KEY_MISMATCH] = {"JG_ERR_KEY_MISMATCH", "private key does not match the public key"},
    [JG_ERR_KEY_NOT_PRIVATE] = {"JG_ERR_KEY_NOT_PRIVATE", "operation needs a private key"},
    [JG_ERR_KEY_ALG] = {"JG_ERR_KEY_ALG", "key is restricted to another algorithm"},
    [JG_ERR_KEY_USE] = {"JG_ERR_KEY_USE", "key \"use\" does not allow this operation"},
    [JG_ERR_KEY_OPS] = {"JG_ERR_KEY_OPS", "key \"key_ops\" does not allow this operation"},
    [JG_ERR_KEY_TYPE] = {"JG_ERR_KEY_TYPE", "key type cannot be used with this algorithm"},
    [JG_ERR_KEY_NOT_FOUND] = {"JG_ERR_KEY_NOT_FOUND", "no suitable key found"},
    [JG_ERR_KEY_PEM] = {"JG_ERR_KEY_PEM", "not a supported PEM or DER key"},
    [JG_ERR_KEYSET_INVALID] = {"JG_ERR_KEYSET_INVALID", "malformed key set"},
    [JG_ERR_SIGNATURE] = {"JG_ERR_SIGNATURE", "signature verification failed"},
    [JG_ERR_SIGNATURE_LENGTH] = {"JG_ERR_SIGNATURE_LENGTH", "signature has the wrong length"},
    [JG_ERR_SIGNATURE_RANGE] = {"JG_ERR_SIGNATURE_RANGE", "ECDSA signature value out of range"},
    [JG_ERR_CLAIMS_INVALID] = {"JG_ERR_CLAIMS_INVALID", "claims are not a JSON object"},
    [JG_ERR_CLAIM_MISSING] = {"JG_ERR_CLAIM_MISSING", "claim is missing"},
    [JG_ERR_CLAIM_TYPE] = {"JG_ERR_CLAIM_TYPE", "claim has the wrong type"},
    [JG_ERR_EXPIRED] = {"JG_ERR_EXPIRED", "token has expired"},
    [JG_ERR_NOT_YET_VALID] = {"JG_ERR_NOT_YET_VALID", "token is not yet valid (nbf)"},
    [JG_ERR_IAT_FUTURE] = {"JG_ERR_IAT_FUTURE", "token was issued in the future (iat)"},
    [JG_ERR_TOO_OLD] = {"JG_ERR_TOO_OLD", "token is older than the maximum age"},
    [JG_ERR_ISSUER] = {"JG_ERR_ISSUER", "issuer (iss) mismatch"},
    [JG_ERR_AUDIENCE] = {"JG_ERR_AUDIENCE", "audience (aud) mismatch"},
    [JG_ERR_SUBJECT] = {"JG_ERR_SUBJECT", "subject (sub) mismatch"},
    [JG_ERR_TYP] = {"JG_ERR_TYP", "token type (typ) mismatch"},
    [JG_ERR_DECRYPT] = {"JG_ERR_DECRYPT", "decryption failed"},
    [JG_ERR_IV_LENGTH] = {"JG_ERR_IV_LENGTH", "initialization vector has the wrong length"},
    [JG_ERR_TAG_LENGTH] = {"JG_ERR_TAG_LENGTH", "authentication tag has the wrong length"},
    [JG_ERR_ENCRYPTED_KEY] = {"JG_ERR_ENCRYPTED_KEY",
                              "encrypted key is missing, unexpected or of the wrong length"},
    [JG_ERR_CEK_LENGTH] = {"JG_ERR_CEK_LENGTH", "content encryption key has the wrong length"},
    [JG_ERR_EPK_INVALID] = {"JG_ERR_EPK_INVALID",
                            "ephemeral public key (epk) is missing or invalid"},
    [JG_ERR_PBES2_SALT] = {"JG_ERR_PBES2_SALT", "PBES2 salt (p2s) missing or shorter than 8 bytes"},
    [JG_ERR_ZIP_UNSUPPORTED] = {"JG_ERR_ZIP_UNSUPPORTED",
                                "compression not supported or not allowed"},
    [JG_ERR_ZIP_UNPROTECTED] = {"JG_ERR_ZIP_UNPROTECTED",
                                "\"zip\" must be in the protected header"},
    [JG_ERR_ZIP_DATA] = {"JG_ERR_ZIP_DATA", "compressed data is corrupt"},
    [JG_ERR_NOT_ENCRYPTED] = {"JG_ERR_NOT_ENCRYPTED", "token must be encrypted"},
    [JG_ERR_NOT_NESTED] = {"JG_ERR_NOT_NESTED", "encrypted token does not contain a signed JWT"},
    [JG_ERR_NESTED_KEY] = {"JG_ERR_NESTED_KEY",
                           "the inner signature verified with a key that is also a decryption key "
                           "(give the decryption and the verification keys as separate sets)"},
    [JG_ERR_FILE] = {"JG_ERR_FILE", "file cannot be opened, read, written or mapped"},
    [JG_ERR_AGAIN] = {"JG_ERR_AGAIN", "not finished yet: call again"},
    [JG_ERR_NOT_FOUND] = {"JG_ERR_NOT_FOUND", "no such entry"},
    [JG_ERR_SNAPSHOT_FORMAT] = {"JG_ERR_SNAPSHOT_FORMAT",
                                "not a valid compiled snapshot (format, size or reference)"},
    [JG_ERR_SNAPSHOT_VERSION] = {"JG_ERR_SNAPSHOT_VERSION",
                                 "snapshot format version not supported by this build"},
    [JG_ERR_SNAPSHOT_CHECKSUM] = {"JG_ERR_SNAPSHOT_CHECKSUM",
                                  "snapshot checksum mismatch: the file is torn or corrupted"},
    [JG_ERR_SNAPSHOT_UNVERIFIED] = {"JG_ERR_SNAPSHOT_UNVERIFIED",
                                    "snapshot checksum not verified yet"},
    [JG_ERR_KEY_ROCA] = {"JG_ERR_KEY_ROCA",
                         "RSA key made by a vulnerable Infineon generator (ROCA, CVE-2017-15361)"},
    [JG_ERR_SCOPE] = {"JG_ERR_SCOPE", "insufficient scope: the token lacks a required scope"},
    [JG_ERR_SCOPE_INVALID] =
        {"JG_ERR_SCOPE_INVALID",
         "scope claim is not a list of scope tokens separated by single spaces"},
    [JG_ERR_FILE_TYPE] = {"JG_ERR_FILE_TYPE", "not a regular file"},
    [JG_ERR_LIMIT_FILE_SIZE] = {"JG_ERR_LIMIT_FILE_SIZE",
                                "key file is larger than the size limit of a key set"},
    [JG_ERR_KEY_FORMAT] = {"JG_ERR_KEY_FORMAT", "not a key: neither a JWK, a JWKS, PEM nor DER"},
    [JG_ERR_ALGS_EMPTY] = {"JG_ERR_ALGS_EMPTY",
                           "the signature algorithm allow-list is empty: set the algs field "
                           "(jg_jws_verify_opts, jg_jwt_policy), e.g. JG_ALG_BIT(JG_ALG_ES256)"},
    [JG_ERR_KEY_ALGS_EMPTY] = {"JG_ERR_KEY_ALGS_EMPTY",
                               "the key management algorithm allow-list is empty: set "
                               "jg_jwe_decrypt_opts.algs or jg_open_policy.key_algs"},
    [JG_ERR_ENCS_EMPTY] = {"JG_ERR_ENCS_EMPTY",
                           "the content encryption allow-list is empty: set "
                           "jg_jwe_decrypt_opts.encs or jg_open_policy.encs (JG_ENC_SET_ALL: all)"},
    [JG_ERR_ACCESS_TOKEN_CLAIMS] = {"JG_ERR_ACCESS_TOKEN_CLAIMS",
                                    "an access token needs \"exp\", \"aud\" and \"jti\" claims "
                                    "(RFC 9068 section 2.2)"},
    [JG_ERR_KEYSET_MIXED] = {"JG_ERR_KEYSET_MIXED",
                             "key set mixes symmetric secrets and public keys"},
};

const char *jg_strerror(jg_err err)
{
    if ((unsigned)err >= (unsigned)JG_ERR__COUNT || err_texts[err].message == NULL)
        return "unknown error code";
    return err_texts[err].message;
}

const char *jg_err_name(jg_err err)
{
    if ((unsigned)err >= (unsigned)JG_ERR__COUNT || err_texts[err].name == NULL)
        return "JG_ERR_UNKNOWN";
    return err_texts[err].name;
}
