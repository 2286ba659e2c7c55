#!/bin/sh
# Regenerates the PEM/DER fixtures of test_jwk_pem.c (see README.md).
# Run once from this directory; the output is committed, not rebuilt.
set -eu
o=openssl

# One key per type/curve, then every encoding of it.
$o genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.p8.pem
$o genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.p8.pem
for c in P-256 P-384 P-521; do
  $o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$c -pkeyopt ec_param_enc:named_curve \
    -out ec-$c.p8.pem
done
for t in ED25519 ED448 X25519 X448; do
  $o genpkey -algorithm $t -out $(echo $t | tr A-Z a-z).p8.pem
done

for f in *.p8.pem; do
  b=${f%.p8.pem}
  $o pkey -in $f -outform DER -out $b.p8.der                  # PKCS#8 DER
  $o pkey -in $f -pubout -out $b.spki.pem                     # SubjectPublicKeyInfo
  $o pkey -in $f -pubout -outform DER -out $b.spki.der
done
for b in rsa2048 rsa1024; do
  $o rsa -in $b.p8.pem -traditional -out $b.pkcs1.pem         # "RSA PRIVATE KEY"
  $o rsa -in $b.p8.pem -traditional -outform DER -out $b.pkcs1.der
  $o rsa -in $b.p8.pem -RSAPublicKey_out -out $b.pkcs1pub.pem # "RSA PUBLIC KEY"
  $o rsa -in $b.p8.pem -RSAPublicKey_out -outform DER -out $b.pkcs1pub.der
done
for c in P-256 P-384 P-521; do
  $o ec -in ec-$c.p8.pem -out ec-$c.sec1.pem                  # "EC PRIVATE KEY"
  $o ec -in ec-$c.p8.pem -outform DER -out ec-$c.sec1.der
done
# Compressed point encodings are keys too.
$o ec -in ec-P-256.p8.pem -pubout -conv_form compressed -out ec-P-256.spki-compressed.pem
# A second P-256 key, to splice a mismatched SEC1 key in the test.
$o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out ec-P-256-other.sec1.der.tmp
$o ec -in ec-P-256-other.sec1.der.tmp -inform DER -outform DER -out ec-P-256-other.sec1.der
rm ec-P-256-other.sec1.der.tmp

# Refused inputs.
$o pkey -in ec-P-256.p8.pem -aes256 -passout pass:secret -out enc-pkcs8.pem
$o pkcs8 -topk8 -v2 aes256 -in ec-P-256.p8.pem -passout pass:secret -outform DER -out enc-pkcs8.der
$o rsa -in rsa2048.p8.pem -traditional -aes256 -passout pass:secret -out enc-legacy.pem
$o genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out rsa-pss.p8.pem
$o genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_primes:3 -out rsa-3prime.p8.pem
$o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out secp256k1.p8.pem
$o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1 -out brainpool.p8.pem
$o ec -in ec-P-256.p8.pem -param_enc explicit -out ec-P-256-explicit.sec1.pem
$o genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.params.tmp
$o genpkey -paramfile dsa.params.tmp -out dsa.p8.pem
rm dsa.params.tmp
$o req -x509 -key ec-P-256.p8.pem -subj /CN=jwtgate-test -days 1 -out cert.pem
