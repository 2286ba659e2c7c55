/*
 * jwe_internal.h — what the parts of the JWE implementation share (not
 * installed): content encryption per "enc", key management per "alg",
 * DEFLATE, the parsed form of a token and the test-vector hook.
 *
 * Layout of the code: content_*.c encrypt the payload with a CEK;
 * keymgmt_*.c turn a recipient key into a CEK (wrap/unwrap, agreement,
 * password derivation, direct); zip.c compresses; jwe_encrypt.c,
 * jwe_parse.c, jwe_decrypt.c and jwe_result.c are the serializations and the
 * public API.
 */
#ifndef JG_LIB_JWE_INTERNAL_H
#define JG_LIB_JWE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jwtgate/jwe.h"

/* Largest CEK of any "enc" (A256CBC-HS512), IV, tag and key-wrap key. */
#define JG__CEK_MAX 64u
#define JG__IV_MAX  16u
#define JG__TAG_MAX 32u
#define JG__KEK_MAX 32u

/* ---- Content encryption (content.c, content_gcm.c, content_cbc_hs.c) ---- */

typedef struct jg__enc_info {
    jg_enc enc;
    size_t cek_len; /* whole CEK: AES key (GCM) or MAC key || AES key (CBC-HS) */
    size_t iv_len;  /* 12 (GCM) or 16 (CBC) */
    size_t tag_len; /* 16 (GCM) or half the HMAC output (CBC-HS) */
    int gcm;        /* 1: AES-GCM; 0: AES-CBC + HMAC-SHA-2 */
} jg__enc_info;

/* Facts for `enc`, or NULL for unknown values. */
const jg__enc_info *jg__enc_info_of(jg_enc enc);

/*
 * The JWE Additional Authenticated Data: `a` (the base64url protected header,
 * possibly empty), followed by '.' and `b` when `has_b` (the base64url "aad"
 * member of a JSON serialization). Kept in pieces so nothing is copied.
 */
typedef struct jg__aad {
    const void *a;
    size_t a_len;
    const void *b;
    size_t b_len;
    int has_b;
} jg__aad;

/* Total AAD length in bytes. */
size_t jg__aad_len(const jg__aad *aad);

/* Ciphertext length for `pt_len` bytes of plaintext. */
size_t jg__content_ct_len(const jg__enc_info *info, size_t pt_len);

/*
 * Encrypt `pt_len` bytes into `ct` (jg__content_ct_len() bytes; may equal
 * `pt` for GCM only) and write info->tag_len bytes of tag. `holder` (may be
 * NULL) keeps the fetched cipher: see jg__gcm_cipher().
 * Errors: JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__content_encrypt(const jg__enc_info *info, const jg_jwk *holder, const unsigned char *cek,
                           const unsigned char *iv, const jg__aad *aad, const unsigned char *pt,
                           size_t pt_len, unsigned char *ct, unsigned char *tag);

/*
 * Authenticate and decrypt `ct_len` bytes. `pt` may equal `ct` (in place);
 * it has room for ct_len bytes; *pt_len receives the plaintext length. The
 * IV and tag lengths must already be info->iv_len / info->tag_len. On any
 * failure whatever was written to `pt` is wiped.
 * Errors: JG_ERR_DECRYPT (tag mismatch, bad CBC padding or length),
 * JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__content_decrypt(const jg__enc_info *info, const jg_jwk *holder, const unsigned char *cek,
                           const unsigned char *iv, const jg__aad *aad, const unsigned char *ct,
                           size_t ct_len, const unsigned char *tag, unsigned char *pt,
                           size_t *pt_len);

/*
 * The AES-GCM cipher for a key of key_len bytes, fetched once and kept by
 * `holder` (the JWK taking part in the operation: see jg_jwk.gcm); with
 * holder NULL, or if the fetch fails, OpenSSL's implicitly fetched one.
 * NULL only for a key length GCM does not have. Thread-safe.
 */
const EVP_CIPHER *jg__gcm_cipher(const jg_jwk *holder, size_t key_len);

/* The per-mode halves of the above; `cipher` from jg__gcm_cipher(). */
jg_err jg__gcm_encrypt(const EVP_CIPHER *cipher, const unsigned char *key, size_t key_len,
                       const unsigned char *iv, size_t iv_len, const jg__aad *aad,
                       const unsigned char *pt, size_t pt_len, unsigned char *ct,
                       unsigned char tag[16]);
jg_err jg__gcm_decrypt(const EVP_CIPHER *cipher, const unsigned char *key, size_t key_len,
                       const unsigned char *iv, size_t iv_len, const jg__aad *aad,
                       const unsigned char *ct, size_t ct_len, const unsigned char tag[16],
                       unsigned char *pt);
jg_err jg__cbc_hs_encrypt(const jg__enc_info *info, const unsigned char *cek,
                          const unsigned char *iv, const jg__aad *aad, const unsigned char *pt,
                          size_t pt_len, unsigned char *ct, unsigned char *tag);
jg_err jg__cbc_hs_decrypt(const jg__enc_info *info, const unsigned char *cek,
                          const unsigned char *iv, const jg__aad *aad, const unsigned char *ct,
                          size_t ct_len, const unsigned char *tag, unsigned char *pt,
                          size_t *pt_len);

/* ---- Headers ------------------------------------------------------------- */

/* The three headers whose union is a recipient's JOSE header: protected,
 * shared unprotected, per-recipient. Any may be NULL. */
typedef struct jg__hdrs {
    const json_t *h[3];
} jg__hdrs;

/* The member `name` of the first header that has it, or NULL. */
const json_t *jg__hdrs_get(const jg__hdrs *hdrs, const char *name);

/*
 * A base64url header member ("apu", "apv", "p2s", "iv", "tag") decoded into
 * `out`, which has room for `cap` + 2 bytes (the decoder's slack). Absent:
 * *present = 0, JG_OK. Errors: JG_ERR_HEADER_INVALID (not a string, or more
 * than `cap` bytes when decoded: refused before decoding), JG_ERR_B64_*.
 */
jg_err jg__hdr_b64(const jg__hdrs *hdrs, const char *name, unsigned char *out, size_t cap,
                   size_t *out_len, int *present);

/* ---- Test-vector hook ------------------------------------------------------- */

/*
 * TEST VECTORS ONLY. Fixed values for what jg_jwe_encrypt() otherwise draws
 * at random, so that tests can reproduce published examples byte for byte.
 * The public API never accepts these; only jg__jwe_encrypt_fixed() does, and
 * it is not exported from the shared library. Any member may be NULL/0 to
 * keep the random choice. The same values serve every recipient.
 */
typedef struct jg__jwe_fixed {
    const unsigned char *cek; /* must have the enc's CEK length */
    size_t cek_len;
    const unsigned char *iv; /* content IV, the enc's IV length */
    size_t iv_len;
    const jg_jwk *epk;        /* ECDH-ES ephemeral private key (recipient's curve) */
    const unsigned char *p2s; /* PBES2 salt input */
    size_t p2s_len;
    const unsigned char *kw_iv; /* A*GCMKW IV, 12 bytes */
    size_t kw_iv_len;
} jg__jwe_fixed;

/* jg_jwe_encrypt() with fixed inputs (TEST VECTORS ONLY); `fixed` may be NULL. */
jg_err jg__jwe_encrypt_fixed(const void *plaintext, size_t plaintext_len,
                             const jg_jwe_recipient *recipients, size_t count,
                             const jg_jwe_encrypt_opts *opts, const jg__jwe_fixed *fixed,
                             char **out, size_t *out_len);

/* ---- Key management (keymgmt.c and keymgmt_*.c) --------------------------- */

/* Whether `alg` derives the CEK itself (dir, ECDH-ES): no encrypted key. */
int jg__alg_is_direct(jg_alg alg);

/*
 * Sender side for one recipient. For direct algorithms the CEK is produced
 * into `cek` (enc->cek_len bytes); otherwise `cek` is the CEK to wrap. The
 * encrypted key is malloc'd into *ek (NULL and 0 for direct algorithms).
 * Generated header members (epk, p2s, p2c, iv, tag) are added to `params`.
 * `hdrs` gives the caller's headers, for "apu"/"apv".
 * Errors: JG_ERR_NOMEM, JG_ERR_CRYPTO, JG_ERR_CEK_LENGTH, JG_ERR_UNSUPPORTED,
 * JG_ERR_HEADER_INVALID, JG_ERR_B64_*, JG_ERR_INVALID_ARGUMENT.
 */
jg_err jg__km_encrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc, const jg__hdrs *hdrs,
                      uint32_t p2c, const jg__jwe_fixed *fixed, unsigned char *cek,
                      unsigned char **ek, size_t *ek_len, json_t *params);

/*
 * Recipient side: recover the CEK (enc->cek_len bytes into `cek`) from the
 * encrypted key `ek` and the joint header. For RSA1_5 the result is a
 * random CEK whenever the padding or length is wrong (the tag check then
 * fails): that function never reports a padding error.
 * Errors: JG_ERR_ENCRYPTED_KEY, JG_ERR_CEK_LENGTH, JG_ERR_DECRYPT,
 * JG_ERR_EPK_INVALID, JG_ERR_PBES2_SALT, JG_ERR_LIMIT_PBES2_COUNT,
 * JG_ERR_IV_LENGTH, JG_ERR_TAG_LENGTH, JG_ERR_HEADER_INVALID, JG_ERR_B64_*,
 * JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__km_decrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc, const jg__hdrs *hdrs,
                      const unsigned char *ek, size_t ek_len, const jg_limits *limits,
                      unsigned char *cek);

/* dir (keymgmt_dir.c). */
jg_err jg__dir_encrypt(const jg_jwk *key, const jg__enc_info *enc, unsigned char *cek);
jg_err jg__dir_decrypt(const jg_jwk *key, const jg__enc_info *enc, size_t ek_len,
                       unsigned char *cek);

/* AES key wrap, RFC 3394 (keymgmt_aeskw.c). `out` has in_len + 8 bytes for
 * wrapping; unwrapping needs in_len == out_len + 8 (JG_ERR_ENCRYPTED_KEY)
 * and fails with JG_ERR_DECRYPT on an integrity error. */
jg_err jg__aeskw_wrap(const unsigned char *kek, size_t kek_len, const unsigned char *in,
                      size_t in_len, unsigned char *out);
jg_err jg__aeskw_unwrap(const unsigned char *kek, size_t kek_len, const unsigned char *in,
                        size_t in_len, unsigned char *out, size_t out_len);
/* Key-wrap key bytes for A*KW, A*GCMKW, ECDH-ES+A*KW, PBES2-*+A*KW; else 0. */
size_t jg__kw_key_len(jg_alg alg);

/* A*GCMKW (keymgmt_gcmkw.c). */
jg_err jg__gcmkw_encrypt(const jg_jwk *key, const unsigned char *cek, size_t cek_len,
                         const jg__jwe_fixed *fixed, unsigned char **ek, size_t *ek_len,
                         json_t *params);
jg_err jg__gcmkw_decrypt(const jg_jwk *key, const jg__hdrs *hdrs, const unsigned char *ek,
                         size_t ek_len, unsigned char *cek, size_t cek_len);

/* RSA-OAEP* and RSA1_5 (keymgmt_rsa.c). */
jg_err jg__rsa_encrypt(jg_alg alg, const jg_jwk *key, const unsigned char *cek, size_t cek_len,
                       unsigned char **ek, size_t *ek_len);
jg_err jg__rsa_decrypt(jg_alg alg, const jg_jwk *key, const unsigned char *ek, size_t ek_len,
                       unsigned char *cek, size_t cek_len);

/* ECDH-ES and ECDH-ES+A*KW (keymgmt_ecdh.c). */
jg_err jg__ecdh_encrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc,
                        const jg__hdrs *hdrs, const jg__jwe_fixed *fixed, unsigned char *cek,
                        unsigned char **ek, size_t *ek_len, json_t *params);
jg_err jg__ecdh_decrypt(jg_alg alg, const jg_jwk *key, const jg__enc_info *enc,
                        const jg__hdrs *hdrs, const unsigned char *ek, size_t ek_len,
                        unsigned char *cek);
/*
 * The Concat KDF of NIST SP 800-56A as RFC 7518 section 4.6.2 uses it, with
 * SHA-256: `out_len` bytes from the shared secret `z` and AlgorithmID,
 * PartyUInfo, PartyVInfo (each length-prefixed) and SuppPubInfo (the key
 * length in bits). Errors: JG_ERR_NOMEM, JG_ERR_CRYPTO.
 */
jg_err jg__concat_kdf(const unsigned char *z, size_t z_len, const char *alg_id,
                      const unsigned char *apu, size_t apu_len, const unsigned char *apv,
                      size_t apv_len, unsigned char *out, size_t out_len);

/* PBES2-HS*+A*KW (keymgmt_pbes2.c). */
#define JG__PBES2_DEFAULT_COUNT 10000u
#define JG__PBES2_SALT_LEN      16u
jg_err jg__pbes2_encrypt(jg_alg alg, const jg_jwk *key, uint32_t p2c, const jg__jwe_fixed *fixed,
                         const unsigned char *cek, size_t cek_len, unsigned char **ek,
                         size_t *ek_len, json_t *params);
jg_err jg__pbes2_decrypt(jg_alg alg, const jg_jwk *key, const jg__hdrs *hdrs,
                         const jg_limits *limits, const unsigned char *ek, size_t ek_len,
                         unsigned char *cek, size_t cek_len);

/* ---- DEFLATE (zip.c) --------------------------------------------------------- */

/* Raw DEFLATE (RFC 1951) of `len` bytes into a malloc'd buffer.
 * Errors: JG_ERR_NOMEM, JG_ERR_CRYPTO (zlib failure). */
jg_err jg__deflate(const unsigned char *in, size_t len, unsigned char **out, size_t *out_len);

/*
 * Inflate raw DEFLATE data into a malloc'd buffer followed by a NUL, never
 * producing more than `max_len` + 1 bytes. *out is freed with
 * jg_free_secret(*out, *cap) (it held plaintext). Errors:
 * JG_ERR_LIMIT_INFLATED (more than max_len bytes), JG_ERR_ZIP_DATA (corrupt,
 * truncated or trailing data), JG_ERR_NOMEM.
 */
jg_err jg__inflate(const unsigned char *in, size_t len, size_t max_len, unsigned char **out,
                   size_t *out_len, size_t *cap);

/* ---- Parsed tokens (jwe_parse.c) --------------------------------------------- */

/* A base64url span inside the token or its JSON (not NUL-terminated). */
typedef struct jg__span {
    const char *p;
    size_t n;
} jg__span;

typedef struct jg__jwe_recip {
    const json_t *header; /* per-recipient unprotected header, or NULL */
    jg__span ek;          /* encrypted key (may be empty) */
} jg__jwe_recip;

typedef struct jg__jwe_msg {
    json_t *root;          /* JSON serializations: the document; NULL for compact */
    json_t *protected_hdr; /* parsed protected header, or NULL when absent */
    const json_t *shared;  /* "unprotected" (borrowed from root), or NULL */
    jg__span protected_b64;
    jg__span iv, ciphertext, tag;
    jg__span aad; /* "aad" member; has_aad says whether it was there */
    int has_aad;
    int json; /* 1 for JSON serializations */
    size_t n_recipients;
    jg__jwe_recip one;     /* compact and flattened */
    jg__jwe_recip *recips; /* general: malloc'd array; else &one */
} jg__jwe_msg;

/*
 * Split and check the structure of a token in any serialization (detected
 * from the first non-space byte), within `limits`. Parses the protected
 * header; checks "zip" placement and value, "crit" and that no name repeats
 * across the header kinds.
 * Errors: JG_ERR_LIMIT_TOKEN_SIZE, JG_ERR_LIMIT_HEADER_SIZE,
 * JG_ERR_LIMIT_JSON_DEPTH, JG_ERR_LIMIT_RECIPIENTS, JG_ERR_TOKEN_FORMAT,
 * JG_ERR_B64_*, JG_ERR_JSON_*, JG_ERR_HEADER_DUPLICATE, JG_ERR_CRIT_*,
 * JG_ERR_ZIP_*, JG_ERR_NOMEM.
 */
jg_err jg__jwe_parse(const char *token, size_t len, const jg_limits *limits,
                     const char *const *crit, jg__jwe_msg *msg);
void jg__jwe_msg_clear(jg__jwe_msg *msg);

/* ---- Result (jwe_result.c) ------------------------------------------------------ */

struct jg_jwe {
    json_t *root;          /* owned: JSON document, or NULL */
    json_t *protected_hdr; /* owned, or NULL */
    const json_t *shared;  /* borrowed from root */
    const json_t *recip;   /* borrowed from root */
    jg_alg alg;
    jg_enc enc;
    const jg_jwk *key;
    unsigned char *plaintext; /* inside buf, or the inflated buffer */
    size_t plaintext_len;
    unsigned char *inflated; /* owned when zip was used */
    size_t inflated_cap;
    unsigned char *aad; /* inside buf, or NULL */
    size_t aad_len;
    size_t buf_len;
    unsigned char buf[]; /* decoded parts; the ciphertext is decrypted in place */
};

#endif /* JG_LIB_JWE_INTERNAL_H */
