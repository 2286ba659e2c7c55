#!/usr/bin/env bash
# Shell-level tests of the jwtgate command-line tool: every command and
# option, every error exit, and the rule that nothing secret reaches stderr.
#   tests/cli/test_cli.sh PATH/TO/jwtgate
# Prints one line per failed check and a summary; exits non-zero on failure.
set -u
JG=${1:?usage: test_cli.sh PATH/TO/jwtgate}
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

# run EXPECTED_STATUS [--in FILE] -- args...: runs jwtgate, keeps out/err.
run() {
  local expect=$1 input=/dev/null
  shift
  if [[ $1 == --in ]]; then input=$2; shift 2; fi
  [[ $1 == -- ]] && shift
  cp "$input" stdin.tmp # the input may be the previous command's "out"
  "$JG" "$@" <stdin.tmp >out 2>err
  local status=$?
  if [[ $status -ne $expect ]]; then
    fail "jwtgate $* -> exit $status, expected $expect; stderr: $(head -c 300 err)"
    return 1
  fi
  pass
  return 0
}
# check DESCRIPTION COMMAND...: a shell condition.
check() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}
not() { ! "$@"; }
json_get() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }
no_secret_in_err() { # the private scalar of key file $1 never appears on stderr
  local d
  d=$(json_get "$1" 'd.get("d") or d.get("k") or ""')
  [[ -z $d ]] || ! grep -qF -- "$d" err
}

# ---- top level ------------------------------------------------------------------------
run 0 -- --help && check "top help lists commands" grep -q "jwt sign|verify|seal|open" out
run 2 --                                 # no command
run 0 -- --version && check "version" grep -qE '^jwtgate [0-9]+\.[0-9]+\.[0-9]+$' out
run 2 -- frobnicate
for group in key jws jwe jwt; do
  run 0 -- "$group" --help && check "$group help" grep -q "Commands:" out
  run 2 -- "$group"
  run 2 -- "$group" nosuch
done
for cmd in "key generate" "key public" "key thumbprint" "key from-pem" "key to-pem" "key set" \
  "jws sign" "jws verify" "jwe encrypt" "jwe decrypt" "jwt sign" "jwt verify" "jwt seal" \
  "jwt open" "inspect"; do
  # shellcheck disable=SC2086
  run 0 -- $cmd --help && check "$cmd --help has an example" grep -q "Example" out
  # shellcheck disable=SC2086
  run 2 -- $cmd --no-such-option
done

# ---- key generate ---------------------------------------------------------------------
all_algs="HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519
Ed448 dir A128KW A192KW A256KW A128GCMKW A192GCMKW A256GCMKW RSA1_5 RSA-OAEP RSA-OAEP-256
RSA-OAEP-384 RSA-OAEP-512 ECDH-ES ECDH-ES+A128KW ECDH-ES+A192KW ECDH-ES+A256KW PBES2-HS256+A128KW
PBES2-HS384+A192KW PBES2-HS512+A256KW"
for alg in $all_algs; do
  if run 0 -- key generate --alg "$alg"; then
    cp out "key-$alg.json"
    check "generate $alg: alg set" [ "$(json_get out 'd["alg"]')" = "$alg" ]
    check "generate $alg: private part" [ "$(json_get out '"d" in d or "k" in d')" = True ]
    run 0 --in out -- key thumbprint && check "generate $alg: kid is the thumbprint" \
      [ "$(cat out)" = "$(json_get "key-$alg.json" 'd["kid"]')" ]
  fi
done
run 0 -- key generate --alg ES256 --kid my-key && check "--kid" [ "$(json_get out 'd["kid"]')" = my-key ]
run 0 -- key generate --alg EdDSA --crv Ed448 && check "--crv Ed448" [ "$(json_get out 'd["crv"]')" = Ed448 ]
cp out key-ed448.json
for crv in P-256 P-384 P-521 X25519 X448; do
  run 0 -- key generate --alg ECDH-ES+A128KW --crv "$crv" && check "ECDH --crv $crv" [ "$(json_get out 'd["crv"]')" = "$crv" ]
  cp out "key-ecdh-$crv.json"
done
run 0 -- key generate --alg RS256 --bits 3072 && check "--bits 3072" [ "$(json_get out 'len(d["n"])')" = 512 ]
run 0 -- key generate --alg HS512 --bits 1024 && check "--bits oct" [ "$(json_get out 'len(d["k"])')" = 171 ]
run 0 -- key generate --alg ES256 --use sig && check "--use sig" [ "$(json_get out 'd["use"]')" = sig ]
run 0 -- key generate --alg ES256 --pretty && check "--pretty is indented" [ "$(wc -l <out)" -gt 3 ]
run 2 -- key generate                      # --alg missing
run 2 -- key generate --alg XX256
run 2 -- key generate --alg none
run 2 -- key generate --alg EdDSA --crv P-256
run 2 -- key generate --alg ES256 --crv Nope
run 2 -- key generate --alg RS256 --bits abc
run 2 -- key generate --alg RS256 --bits 1024   # weak
run 2 -- key generate --alg ES256 --use enc     # a signature alg cannot be an enc key
run 2 -- key generate --alg ES256 --use both
run 2 -- key generate --alg ES256 extra-argument

# ---- key public / thumbprint -----------------------------------------------------------
run 0 --in key-ES256.json -- key public && check "public drops d" [ "$(json_get out '"d" in d')" = False ]
cp out es256.pub.json
run 0 --in key-RS256.json -- key public && check "RSA public drops d and CRT" [ "$(json_get out '[k for k in ("d","p","q","dp","dq","qi") if k in d]')" = "[]" ]
run 2 --in key-HS256.json -- key public         # oct keys have no public part
check "oct public: no secret on stderr" no_secret_in_err key-HS256.json
printf '{"kty":"EC"' >broken.json
run 2 --in broken.json -- key public
"$JG" key set --private key-ES256.json key-EdDSA.json >set.json
run 0 --in set.json -- key public && check "JWKS public has 2 keys" [ "$(json_get out 'len(d["keys"])')" = 2 ]
run 0 --in set.json -- key thumbprint && check "JWKS thumbprint: one line per key" [ "$(wc -l <out)" = 2 ]
# RFC 7638 section 3.1.
cat >rfc7638.json <<'EOF'
{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}
EOF
run 0 --in rfc7638.json -- key thumbprint && check "RFC 7638 thumbprint" [ "$(cat out)" = NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs ]
run 2 --in broken.json -- key thumbprint

# ---- key from-pem / to-pem ----------------------------------------------------------------
openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem 2>/dev/null
openssl pkey -in ec.pem -pubout -out ec.pub.pem 2>/dev/null
openssl pkey -in ed.pem -aes256 -passout pass:secret -out ed.enc.pem 2>/dev/null
run 0 --in ed.pem -- key from-pem --alg EdDSA && check "from-pem Ed25519" [ "$(json_get out 'd["crv"]+d["alg"]')" = Ed25519EdDSA ]
cp out ed-from-pem.json
run 0 --in ed-from-pem.json -- key thumbprint && check "from-pem kid = thumbprint" [ "$(cat out)" = "$(json_get ed-from-pem.json 'd["kid"]')" ]
run 0 --in ec.pem -- key from-pem --kid ec-1 --use sig && check "from-pem EC --kid --use" [ "$(json_get out 'd["kid"]+d["use"]+d["crv"]')" = ec-1sigP-384 ]
run 0 --in ec.pub.pem -- key from-pem && check "from-pem public" [ "$(json_get out '"d" in d')" = False ]
run 0 --in rsa.pem -- key from-pem --alg RSA-OAEP-256 --pretty && check "from-pem RSA private" [ "$(json_get out '"qi" in d')" = True ]
cp out rsa-from-pem.json
run 2 --in rsa1024.pem -- key from-pem
run 0 --in rsa1024.pem -- key from-pem --allow-weak-rsa
run 2 --in ed.enc.pem -- key from-pem           # encrypted PEM is refused
echo "not a key" >garbage.pem
run 2 --in garbage.pem -- key from-pem
run 2 --in ed.pem -- key from-pem --alg ES256   # alg does not suit the key
run 2 --in ed.pem -- key from-pem --use maybe
run 0 --in ed-from-pem.json -- key to-pem && check "to-pem SPKI" grep -q "BEGIN PUBLIC KEY" out
check "to-pem SPKI readable by openssl" openssl pkey -pubin -in out -noout
run 0 --in ed-from-pem.json -- key to-pem --private && check "to-pem PKCS#8" grep -q "BEGIN PRIVATE KEY" out
cp out ed-again.pem
run 0 --in ed-again.pem -- key from-pem && check "PEM round trip keeps the key" [ "$(json_get out 'd["d"]')" = "$(json_get ed-from-pem.json 'd["d"]')" ]
run 2 --in es256.pub.json -- key to-pem --private   # no private part
run 2 --in key-HS256.json -- key to-pem             # oct has no PEM form
check "to-pem oct: no secret on stderr" no_secret_in_err key-HS256.json
run 2 --in broken.json -- key to-pem

# ---- PEM on standard input, key files of every format ------------------------------------
run 0 --in ec.pem -- key thumbprint && check "thumbprint of PEM = of its JWK" [ "$(cat out)" = "$("$JG" key from-pem <ec.pem | "$JG" key thumbprint)" ]
run 0 --in ec.pub.pem -- key public && check "public of PEM is a JWK" [ "$(json_get out 'd["kty"] + str("d" in d)')" = ECFalse ]
run 0 --in rsa.pem -- key to-pem && check "to-pem of a private PEM: SPKI" grep -q "BEGIN PUBLIC KEY" out
openssl pkey -in rsa.pem -traditional -out rsa.pkcs1.pem 2>/dev/null
run 0 --in rsa.pkcs1.pem -- key to-pem --private && check "to-pem PKCS#1 -> PKCS#8" grep -q "BEGIN PRIVATE KEY" out
cat ec.pub.pem ed.pem >two.pem
run 0 --in two.pem -- key thumbprint && check "two PEM keys: two thumbprints" [ "$(wc -l <out)" = 2 ]
run 0 --in two.pem -- key public && check "two PEM keys: a JWKS" [ "$(json_get out 'len(d["keys"])')" = 2 ]
run 2 --in two.pem -- key to-pem
check "to-pem of two keys explained" grep -q "one key wanted" err
run 2 --in garbage.pem -- key thumbprint
openssl ecparam -name prime256v1 -genkey -out ecparam.pem 2>/dev/null   # EC PARAMETERS first
openssl pkey -in ecparam.pem -pubout -out ecparam.pub.pem 2>/dev/null
run 0 -- jwt sign --key ecparam.pem --alg ES256 --aud x && cp out jwt-pem
run 0 --in jwt-pem -- jwt verify --key ecparam.pub.pem --alg ES256
openssl pkey -in ecparam.pem -pubout -outform DER -out ecparam.pub.der 2>/dev/null
run 0 --in jwt-pem -- jwt verify --key ecparam.pub.der --alg ES256        # DER key file
run 2 --in jwt-pem -- jwt verify --key "$work" --alg ES256                # a directory
check "directory explained" grep -q "not a regular file" err
run 2 --in jwt-pem -- jwt verify --key no-such.pem --alg ES256
check "missing key file explained" grep -q "No such file" err
head -c 17000000 /dev/zero | tr '\0' ' ' >huge.json
run 2 --in jwt-pem -- jwt verify --key huge.json --alg ES256
check "oversized key file explained" grep -q "larger than the size limit" err

printf 'hello, world\n' >payload
run 2 --in payload -- jws sign --key two.pem                                 # two PEM keys, no kid
check "two PEM keys: kid-less explained" grep -q "PEM keys have no kid" err
run 2 --in payload -- jws sign --key two.pem --kid any
check "--kid on PEM keys explained" grep -q 'its keys have no "kid"' err

# ---- key set ------------------------------------------------------------------------------
run 0 -- key set key-ES256.json key-RS256.json && check "set of two" [ "$(json_get out 'len(d["keys"])')" = 2 ]
check "set: public parts by default" [ "$(json_get out '[("d" in k) for k in d["keys"]]')" = "[False, False]" ]
check "set: no secret on stdout by default" not grep -qF "$(json_get key-ES256.json 'd["d"]')" out
run 0 -- key set --private key-ES256.json key-RS256.json && check "set --private keeps private parts" [ "$(json_get out '"d" in d["keys"][0]')" = True ]
run 2 -- key set key-HS256.json
check "oct in a public set: --private named" grep -q -- "--private keeps it" err
run 0 -- key set --private key-HS256.json
run 2 -- key set --public --private key-ES256.json
cat key-ES256.json key-EdDSA.json >two.txt
run 0 --in two.txt -- key set --public && check "set from stdin, --public" [ "$(json_get out '[("d" in k) for k in d["keys"]]')" = "[False, False]" ]
run 0 -- key set --private set.json key-PS256.json && check "set merges a JWKS" [ "$(json_get out 'len(d["keys"])')" = 3 ]
run 2 -- key set missing-file.json
run 2 -- key set broken.json
run 2 -- key set --public key-HS256.json        # oct cannot be made public

# ---- jws sign / verify ----------------------------------------------------------------------
printf 'hello, world\n' >payload
for fmt in compact flattened general; do
  run 0 --in payload -- jws sign --key key-ES256.json --format "$fmt" && cp out "jws-$fmt"
  run 0 --in "jws-$fmt" -- jws verify --key es256.pub.json && check "jws $fmt round trip (newline trimmed)" [ "$(cat out)" = "hello, world" ]
done
run 0 --in jws-compact -- jws verify --key key-ES256.json --alg ES256   # private key verifies too
run 1 --in jws-compact -- jws verify --key set.json --alg EdDSA   # ES256 not allowed
check "rejection names the reason" grep -q "not allowed" err
run 2 --in jws-compact -- jws verify --key es256.pub.json --alg ES384   # no key can: setup
check "setup error names the algorithms" grep -q "no verification key can be used with the accepted algorithms (ES384)" err
run 1 --in jws-compact -- jws verify --key key-ES384.json --alg ES256,ES384   # wrong key
run 2 --in jws-compact -- jws verify --key es256.pub.json --alg none
run 2 --in jws-compact -- jws verify --key es256.pub.json --alg A128KW     # not a JWS alg
run 2 --in jws-compact -- jws verify --alg ES256                          # --key missing
run 2 --in jws-compact -- jws verify --key nowhere.json
sed 's/.$/A/' jws-compact >x; [[ $(tail -c 2 jws-compact) == A* ]] && sed 's/.$/B/' jws-compact >x
run 1 --in x -- jws verify --key es256.pub.json
echo "not.a.token.at.all" >x
run 1 --in x -- jws verify --key es256.pub.json
run 0 --in payload -- jws sign --key key-HS256.json --header '{"typ":"JOSE","cty":"text/plain"}' && cp out jws-hdr
run 0 --in jws-hdr -- inspect --json && check "--header members protected" [ "$(json_get out 'd["headers"][0]["cty"]')" = text/plain ]
run 0 --in jws-hdr -- jws verify --key key-HS256.json
check "no secret on stdout of verify for HS key" not grep -qF "$(json_get key-HS256.json 'd["k"]')" out
run 2 --in jws-hdr -- jws verify --key key-HS384.json --alg HS256 # the key is for HS384: setup
run 2 --in payload -- jws sign --key key-HS256.json --header '[1]'
run 2 --in payload -- jws sign --key key-HS256.json --header '{"a":1,"a":2}'
run 2 --in payload -- jws sign --key key-HS256.json --unprotected '{"x":1}'   # needs JSON format
run 0 --in payload -- jws sign --key key-HS256.json --unprotected '{"x":1}' --format flattened
run 0 --in out -- jws verify --key key-HS256.json
run 2 --in payload -- jws sign --key key-HS256.json --format xml
run 2 --in payload -- jws sign --key key-HS256.json --alg ES256              # alg does not suit key
run 2 --in payload -- jws sign --key key-HS256.json --alg none
run 2 --in payload -- jws sign                                               # --key missing
run 2 --in payload -- jws sign --key set.json                               # two keys, no --kid
run 0 --in payload -- jws sign --key set.json --kid "$(json_get key-ES256.json 'd["kid"]')"
run 2 --in payload -- jws sign --key set.json --kid nope
# detached and unencoded payloads
run 0 --in payload -- jws sign --key key-ES256.json --detached && cp out jws-detached
check "detached has an empty payload part" grep -q '\.\.' jws-detached
run 1 --in jws-detached -- jws verify --key es256.pub.json
run 0 --in jws-detached -- jws verify --key es256.pub.json --payload payload
printf 'other' >other
run 1 --in jws-detached -- jws verify --key es256.pub.json --payload other
run 2 --in jws-detached -- jws verify --key es256.pub.json --payload missing-file
run 0 --in payload -- jws sign --key key-ES256.json --b64-false --format flattened && cp out jws-b64
run 0 --in jws-b64 -- jws verify --key es256.pub.json && check "b64:false round trip" [ "$(cat out)" = "hello, world" ]
run 0 --in payload -- jws sign --key key-ES256.json --b64-false --detached && cp out jws-b64-det
run 0 --in jws-b64-det -- jws verify --key es256.pub.json --payload payload
# crit: an extension the verifier must understand
run 0 --in payload -- jws sign --key key-ES256.json --header '{"crit":["x-tenant"],"x-tenant":"acme"}' && cp out jws-crit
run 1 --in jws-crit -- jws verify --key es256.pub.json
check "unknown crit explained" grep -q "crit" err
run 0 --in jws-crit -- jws verify --key es256.pub.json --crit x-tenant
# several signatures: merge two general JWS of the same payload
run 0 --in payload -- jws sign --key key-EdDSA.json --format general && cp out jws-general-ed
$PY - jws-general jws-general-ed >jws-two <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a["signatures"] += b["signatures"]
print(json.dumps(a))
EOF
run 0 --in jws-two -- jws verify --key es256.pub.json --alg ES256,EdDSA
run 1 --in jws-two -- jws verify --key es256.pub.json --alg ES256,EdDSA --all
"$JG" key set --public key-ES256.json key-EdDSA.json >both.pub.json
run 0 --in jws-two -- jws verify --key both.pub.json --alg ES256,EdDSA --all
# keys without alg need --alg
$PY -c 'import json; d=json.load(open("es256.pub.json")); d.pop("alg"); json.dump(d, open("noalg.json","w"))'
run 2 --in jws-compact -- jws verify --key noalg.json
run 0 --in jws-compact -- jws verify --key noalg.json --alg ES256

# ---- dpop proof / verify (RFC 9449) --------------------------------------------------------
run 0 -- dpop --help && check "dpop help" grep -q "Commands:" out
run 2 -- dpop
run 2 -- dpop nosuch
run 0 -- dpop proof --help && check "dpop proof help" grep -q -- "--htu URL" out
run 0 -- dpop verify --help && check "dpop verify help" grep -q -- "--window SECONDS" out
run 0 -- key generate --alg ES256 && cp out dpop-client.jwk
run 0 --in dpop-client.jwk -- key thumbprint
cp out dpop-jkt
printf 'the-access-token' >dpop-token
run 0 -- dpop proof --key dpop-client.jwk --htm GET --htu 'https://API.example:443/orders?page=2#f' \
  --token dpop-token --nonce n-1 && cp out dpop-proof
check "proof: three parts" [ "$(tr -cd . <dpop-proof | wc -c)" = 2 ]
run 0 --in dpop-proof -- inspect && check "proof: typ dpop+jwt" grep -q '"typ": "dpop+jwt"' out
check "proof: htu without query and fragment" grep -q '"htu": "https://API.example:443/orders"' out
check "proof: ath present" grep -q '"ath": "' out
check "proof: nonce present" grep -q '"nonce": "n-1"' out
check "proof: no private key in the header" not grep -qF -- "$(json_get dpop-client.jwk 'd["d"]')" out
run 0 --in dpop-proof -- dpop verify --htm GET --htu https://api.example/orders?x --token dpop-token \
  --nonce n-1 --jkt "$(cat dpop-jkt)" && cp out dpop-result.json
check "verify: jkt is the key thumbprint" [ "$(json_get dpop-result.json 'd["jkt"]')" = "$(cat dpop-jkt)" ]
check "verify: jti of 22 characters" [ "$(json_get dpop-result.json 'len(d["jti"])')" = 22 ]
check "verify: expires = iat + 300" [ "$(json_get dpop-result.json 'd["expires"] - d["iat"]')" = 300 ]
check "verify: alg" [ "$(json_get dpop-result.json 'd["alg"]')" = ES256 ]
run 0 -- dpop verify --htm GET --htu https://api.example/orders --token dpop-token "$(cat dpop-proof)"
run 1 --in dpop-proof -- dpop verify --htm POST --htu https://api.example/orders &&
  check "wrong method explained" grep -q 'htm: expected "POST", got "GET"' err
run 1 --in dpop-proof -- dpop verify --htm GET --htu https://api.example/other &&
  check "wrong URI explained" grep -q '"htu" does not match' err
printf 'another-token' >dpop-token2
run 1 --in dpop-proof -- dpop verify --htm GET --htu https://api.example/orders --token dpop-token2 &&
  check "ath mismatch explained" grep -q '"ath" does not match' err
run 1 --in dpop-proof -- dpop verify --htm GET --htu https://api.example/orders --nonce n-2 &&
  check "nonce mismatch explained" grep -q 'not the expected nonce' err
run 1 --in dpop-proof -- dpop verify --htm GET --htu https://api.example/orders --jkt AAAA &&
  check "jkt mismatch explained" grep -q 'not the one bound to the token' err
run 1 --in dpop-proof -- dpop verify --htm GET --htu https://api.example/orders --alg EdDSA
run 0 -- dpop proof --key dpop-client.jwk --htm GET --htu https://api.example/orders --iat @1000 &&
  cp out dpop-old
run 1 --in dpop-old -- dpop verify --htm GET --htu https://api.example/orders &&
  check "stale proof explained" grep -q 'older than the accepted window' err
run 0 --in dpop-old -- dpop verify --htm GET --htu https://api.example/orders --now @1010 --window 30s
run 1 --in dpop-old -- dpop verify --htm GET --htu https://api.example/orders --now @990 &&
  check "future proof explained" grep -q 'in the future' err
run 0 --in dpop-old -- dpop verify --htm GET --htu https://api.example/orders --now @990 --leeway 10
run 0 --in dpop-old -- jws verify --key dpop-client.jwk --alg ES256 # an ordinary JWS, too
run 1 --in jws-compact -- dpop verify --htm GET --htu https://api.example/orders
check "a proof without typ refused" grep -q '"typ" is not "dpop+jwt"' err
# setup errors: exit 2
run 2 -- dpop verify --htu https://api.example/orders
run 2 -- dpop verify --htm GET --htu /orders
run 2 -- dpop verify --htm GET --htu https://api.example/orders --alg HS256
run 2 -- dpop verify --htm GET --htu https://api.example/orders --window 0
run 2 -- dpop verify --htm GET --htu https://api.example/orders --token missing-file
run 2 -- dpop proof --key dpop-client.jwk --htm GET
run 2 -- dpop proof --key key-HS256.json --htm GET --htu https://api.example/orders &&
  check "HMAC key refused" grep -q "symmetric" err
check "HMAC key: no secret on stderr" no_secret_in_err key-HS256.json
run 0 --in dpop-client.jwk -- key public
cp out dpop-client.pub.jwk
run 2 -- dpop proof --key dpop-client.pub.jwk --htm GET --htu https://api.example/orders &&
  check "public key refused" grep -q "private key" err
run 2 -- dpop proof --key dpop-client.jwk --htm GET --htu 'https://a.example/"x'

# ---- jwe encrypt / decrypt -----------------------------------------------------------------
printf 'the quick brown fox\n' >plain
for alg in A128KW A256GCMKW RSA-OAEP RSA-OAEP-256 RSA-OAEP-512 ECDH-ES ECDH-ES+A256KW PBES2-HS256+A128KW; do
  run 0 --in plain -- jwe encrypt --key "key-$alg.json" --enc A128CBC-HS256 && cp out jwe-tok
  run 0 --in jwe-tok -- jwe decrypt --key "key-$alg.json" && check "jwe $alg round trip" [ "$(cat out)" = "the quick brown fox" ]
done
for crv in P-384 P-521 X25519 X448; do
  "$JG" key public <"key-ecdh-$crv.json" >pub.json
  run 0 --in plain -- jwe encrypt --key pub.json && cp out jwe-tok
  run 0 --in jwe-tok -- jwe decrypt --key "key-ecdh-$crv.json" --enc A256GCM
done
run 0 -- key generate --alg dir --bits 256 && cp out dir256.json
run 0 --in plain -- jwe encrypt --key dir256.json --enc A256GCM && cp out jwe-dir
run 0 --in jwe-dir -- jwe decrypt --key dir256.json
run 2 --in plain -- jwe encrypt --key dir256.json --enc A128GCM      # dir key of the wrong size
run 1 --in jwe-dir -- jwe decrypt --key dir256.json --enc A128GCM    # enc not allowed
run 1 --in jwe-dir -- jwe decrypt --key key-A256KW.json --alg A256KW # wrong alg
for fmt in flattened general; do
  run 0 --in plain -- jwe encrypt --key key-A256KW.json --format "$fmt" --zip --unprotected '{"x-note":"n"}' --aad payload && cp out "jwe-$fmt"
  run 0 --in "jwe-$fmt" -- jwe decrypt --key key-A256KW.json && check "jwe $fmt zip+aad" [ "$(cat out)" = "the quick brown fox" ]
done
run 2 --in plain -- jwe encrypt --key key-A256KW.json --aad payload            # AAD needs JSON
run 2 --in plain -- jwe encrypt --key key-A256KW.json --unprotected '{"a":1}'  # needs JSON
run 2 --in plain -- jwe encrypt --key key-A256KW.json --key key-A128KW.json     # needs general
run 0 --in plain -- jwe encrypt --key key-A256KW.json --key key-RSA-OAEP.json --format general && cp out jwe-two
run 0 --in jwe-two -- jwe decrypt --key key-A256KW.json
run 0 --in jwe-two -- jwe decrypt --key key-RSA-OAEP.json
run 1 --in jwe-two -- jwe decrypt --key key-A128KW.json --alg A128KW
run 0 --in plain -- jwe encrypt --key key-A256KW.json --header '{"cty":"text/plain"}' && cp out jwe-cty
run 0 --in jwe-cty -- inspect --json && check "jwe --header protected" [ "$(json_get out 'd["headers"][0]["cty"]')" = text/plain ]
run 0 --in plain -- jwe encrypt --key key-PBES2-HS256+A128KW.json --p2c 20000 && cp out jwe-p2c
run 1 --in jwe-p2c -- jwe decrypt --key key-PBES2-HS256+A128KW.json
check "p2c refusal explained" grep -qi "p2c\|PBES2" err
run 0 --in jwe-p2c -- jwe decrypt --key key-PBES2-HS256+A128KW.json --max-p2c 20000
run 0 --in plain -- jwe encrypt --key key-A256KW.json --zip && cp out jwe-zip
run 1 --in jwe-zip -- jwe decrypt --key key-A256KW.json --max-inflated 0
run 1 --in jwe-zip -- jwe decrypt --key key-A256KW.json --max-inflated 5
run 0 --in jwe-zip -- jwe decrypt --key key-A256KW.json --max-inflated 100
run 2 --in plain -- jwe encrypt --key key-RSA1_5.json                       # never encrypt with RSA1_5
"$JG" key public <key-RSA1_5.json >rsa15.pub.json
$PY - >jwe-rsa15 <<EOF
from jwcrypto import jwe, jwk
import json
k = jwk.JWK(**json.load(open("rsa15.pub.json")))
e = jwe.JWE(b"legacy", json.dumps({"alg": "RSA1_5", "enc": "A128CBC-HS256"}))
e.allowed_algs = ["RSA1_5", "A128CBC-HS256"]
e.add_recipient(k)
print(e.serialize(compact=True))
EOF
$PY -c 'import json; d=json.load(open("key-RSA1_5.json")); d.pop("alg"); json.dump(d, open("rsa15-noalg.json","w"))'
run 1 --in jwe-rsa15 -- jwe decrypt --key rsa15-noalg.json --alg RSA-OAEP   # RSA1_5 only when named
run 0 --in jwe-rsa15 -- jwe decrypt --key rsa15-noalg.json --alg RSA1_5 && check "RSA1_5 when named" [ "$(cat out)" = legacy ]
run 2 --in jwe-dir -- jwe decrypt --key dir256.json --enc A999GCM
run 2 --in jwe-dir -- jwe decrypt --key dir256.json --alg ES256           # not a JWE alg
run 2 --in jwe-dir -- jwe decrypt --key dir256.json --max-p2c x
run 2 --in jwe-dir -- jwe decrypt                                         # --key missing
run 2 --in plain -- jwe encrypt --key key-A256KW.json --format json
run 2 --in plain -- jwe encrypt --key key-A256KW.json --enc A512GCM
run 2 --in plain -- jwe encrypt --key key-A256KW.json --p2c -1
run 2 --in plain -- jwe encrypt
sed 's/\.[^.]*$/.AAAAAAAAAAAAAAAAAAAAAA/' jwe-dir >x
run 1 --in x -- jwe decrypt --key dir256.json
check "decrypt failure: no secret on stderr" no_secret_in_err dir256.json
run 1 --in jws-compact -- jwe decrypt --key dir256.json --alg dir          # a JWS is not a JWE

# ---- jwt sign / verify ------------------------------------------------------------------
run 0 -- jwt sign --key key-ES256.json --iss https://iss --sub alice --aud https://api --exp 10m \
  --nbf 0s --jti id-1 --claim n=5 --claim admin=true --claim roles='["a","b"]' --claim note='plain text' \
  --claims '{"tenant":"acme","n":1}' && cp out jwt
run 0 --in jwt -- jwt verify --key es256.pub.json --iss https://iss --aud https://api --sub alice \
  --typ JWT --leeway 5s --max-age 1h --require jti,tenant && cp out claims.json
check "claim types kept" [ "$(json_get claims.json '[d["n"], d["admin"], d["roles"], d["note"], d["tenant"]]')" = "[5, True, ['a', 'b'], 'plain text', 'acme']" ]
check "exp about 10 minutes" [ "$(json_get claims.json 'd["exp"] - d["iat"]')" = 600 ]
check "claims output sorted and compact" [ "$(head -c 8 claims.json)" = '{"admin"' ]
run 0 --in jwt -- jwt verify --key es256.pub.json --pretty && check "--pretty" [ "$(wc -l <out)" -gt 3 ]
run 1 --in jwt -- jwt verify --key es256.pub.json --iss https://other
check "reason on one line" [ "$(wc -l <err)" = 1 ]
run 1 --in jwt -- jwt verify --key es256.pub.json --aud https://other
run 1 --in jwt -- jwt verify --key es256.pub.json --sub bob
run 1 --in jwt -- jwt verify --key es256.pub.json --typ at+jwt
run 1 --in jwt -- jwt verify --key es256.pub.json --require scope
run 2 --in jwt -- jwt verify --key es256.pub.json --aud a --aud b
run 2 --in jwt -- jwt verify --key es256.pub.json --leeway soon
run 2 --in jwt -- jwt verify --key es256.pub.json --max-age -1
run 2 --in jwt -- jwt verify --iss x                        # --key missing
echo '{"tenant":"x"}' >claims-file.json
run 0 -- jwt sign --key key-HS256.json --claims @claims-file.json --aud a --aud b --typ JOSE && cp out jwt2
run 0 --in jwt2 -- jwt verify --key key-HS256.json --aud b --typ jose && check "--aud twice is an array" [ "$(json_get out 'd["aud"]')" = "['a', 'b']" ]
run 0 -- jwt sign --key key-HS256.json --exp @1000000000 && cp out jwt-old
run 1 --in jwt-old -- jwt verify --key key-HS256.json
check "expired explained" grep -q "expired" err
run 0 -- jwt sign --key key-HS256.json --nbf 1h && cp out jwt-future
run 1 --in jwt-future -- jwt verify --key key-HS256.json
run 0 --in jwt-future -- jwt verify --key key-HS256.json --leeway 2h
run 0 -- jwt sign --key key-HS256.json --no-exp && cp out jwt-noexp
run 1 --in jwt-noexp -- jwt verify --key key-HS256.json
run 0 --in jwt-noexp -- jwt verify --key key-HS256.json --allow-missing-exp
run 0 -- jwt sign --key key-HS256.json --no-iat && cp out jwt-noiat
run 1 --in jwt-noiat -- jwt verify --key key-HS256.json --max-age 1h
run 2 -- jwt sign --key key-HS256.json --exp 1h --no-exp
run 2 -- jwt sign --key key-HS256.json --exp tomorrow
run 2 -- jwt sign --key key-HS256.json --claim novalue
run 2 -- jwt sign --key key-HS256.json --claim =x
run 2 -- jwt sign --key key-HS256.json --claims '[1]'
run 2 -- jwt sign --key key-HS256.json --claims '{"exp":"soon"}'
run 2 -- jwt sign --key key-HS256.json --header '{"alg":"HS512"}'
run 2 -- jwt sign --key key-HS256.json --alg RS256
run 2 -- jwt sign --iss x
run 2 -- jwt sign --key key-HS256.json --decrypt-key x      # not an option of sign

# ---- required scopes (--scope: all of, --any-scope: one of) ------------------------------
run 0 -- jwt sign --key key-HS256.json --claim scope="orders:read orders:write profile" && cp out jwt-scoped
run 0 --in jwt-scoped -- jwt verify --key key-HS256.json --scope orders:read --scope profile
run 1 --in jwt-scoped -- jwt verify --key key-HS256.json --scope orders:read --scope admin
check "missing scope explained" grep -q "insufficient scope" err
run 1 --in jwt-scoped -- jwt verify --key key-HS256.json --scope orders   # never a prefix
run 0 --in jwt-scoped -- jwt verify --key key-HS256.json --any-scope admin --any-scope profile
run 1 --in jwt-scoped -- jwt verify --key key-HS256.json --any-scope admin --any-scope root
run 1 --in jwt -- jwt verify --key es256.pub.json --scope orders:read     # no "scope" claim
check "absent scope claim explained" grep -q "missing" err
run 0 -- jwt sign --key key-HS256.json --claim scope="a  b" && cp out jwt-badscope
run 1 --in jwt-badscope -- jwt verify --key key-HS256.json --scope a
check "malformed scope explained" grep -q "single spaces" err
run 0 --in jwt-badscope -- jwt verify --key key-HS256.json   # no scope required: not read
run 2 --in jwt-scoped -- jwt verify --key key-HS256.json --scope "a b"   # one token per option
run 2 --in jwt-scoped -- jwt verify --key key-HS256.json --any-scope ""

# ---- jwt seal / open ------------------------------------------------------------------------
"$JG" key public <key-ECDH-ES+A256KW.json >gw.pub.json
run 0 -- jwt seal --sign-key key-ES256.json --enc-key gw.pub.json --iss https://iss --sub c1 \
  --aud https://api --claim client_id=c1 --claim scope="a b" --exp 15m && cp out at
run 0 --in at -- inspect --json && check "sealed: cty JWT, kid of the gateway" [ "$(json_get out 'd["headers"][0]["cty"] + d["headers"][0]["kid"]')" = "JWT$(json_get gw.pub.json 'd["kid"]')" ]
run 0 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json \
  --iss https://iss --aud https://api --require jti,client_id && check "opened claims" [ "$(json_get out 'd["scope"] + "|" + d["client_id"]')" = "a b|c1" ]
run 0 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --scope a --scope b
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --scope c
run 0 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --any-scope c --any-scope b
check "jti is random by default" [ "$(json_get out 'len(d["jti"])')" -ge 16 ]
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --aud https://other
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key key-EdDSA.json --alg EdDSA
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A128KW.json --verify-key es256.pub.json
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --enc A128GCM
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --typ JWT
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --form signed
run 0 -- jwt sign --key key-ES256.json --typ at+jwt --aud https://api && cp out at-signed
run 1 --in at-signed -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json
check "bare JWS refused as not encrypted" grep -q "encrypted" err
run 0 --in at-signed -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --form any
run 0 --in at-signed -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --form signed
run 0 --in plain -- jwe encrypt --key gw.pub.json && cp out not-nested
run 1 --in not-nested -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --form maybe
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --enc B1
run 0 -- jwt seal --sign-key key-EdDSA.json --enc-key key-RSA-OAEP-256.json --alg EdDSA \
  --key-alg RSA-OAEP-256 --enc A256CBC-HS512 --typ application/at+jwt --aud https://api && cp out at2
run 0 --in at2 -- jwt open --decrypt-key key-RSA-OAEP-256.json --verify-key key-EdDSA.json --aud https://api
# RFC 9068: an access token has exp, aud and jti
run 2 -- jwt seal --sign-key key-ES256.json --enc-key gw.pub.json --aud https://api --no-exp
check "seal without exp explained" grep -q 'an access token needs "exp", "aud" and "jti"' err
run 2 -- jwt seal --sign-key key-ES256.json --enc-key gw.pub.json                      # no aud
run 0 -- jwt seal --sign-key key-ES256.json --enc-key gw.pub.json --aud x --jti given && cp out at3
run 0 --in at3 -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json \
  && check "--jti kept" [ "$(json_get out 'd["jti"]')" = given ]
run 2 -- jwt seal --sign-key key-ES256.json                     # --enc-key missing
run 2 -- jwt seal --sign-key key-ES256.json --enc-key gw.pub.json --enc XYZ
run 2 -- jwt seal --sign-key key-ES256.json --enc-key gw.pub.json --key-alg ES256

# ---- a key without kid (a PEM file) stands in for a kid the key file lacks -------------------
run 0 --in ec.pem -- key from-pem --kid pem-1 --alg ES384 && cp out ec-kid.json
run 0 --in plain -- jws sign --key ec-kid.json && cp out jws-pem-kid
run 0 --in jws-pem-kid -- inspect --json && check "the token names kid pem-1" [ "$(json_get out 'd["headers"][0]["kid"]')" = pem-1 ]
run 0 --in jws-pem-kid -- jws verify --key ec.pub.pem --alg ES384 &&
  check "jws verify --key PEM, token with kid" [ "$(cat out)" = "the quick brown fox" ]
run 0 --in rsa.pem -- key from-pem --kid rsa-1 --alg RSA-OAEP-256 && cp out rsa-kid.json
"$JG" key public <rsa-kid.json >rsa-kid.pub.json
run 0 --in plain -- jwe encrypt --key rsa-kid.pub.json && cp out jwe-pem-kid
run 0 --in jwe-pem-kid -- jwe decrypt --key rsa.pem --alg RSA-OAEP-256 &&
  check "jwe decrypt --key PEM, token with kid" [ "$(cat out)" = "the quick brown fox" ]
# A key file that has the kid: only that key is tried (here the wrong one).
"$JG" key generate --alg RSA-OAEP-256 --kid rsa-1 >rsa-1-other.json
run 1 --in jwe-pem-kid -- jwe decrypt --key rsa-1-other.json

# ---- a key set skips (and names) a key it refuses by policy ------------------------------------
n1024=$(openssl rsa -in rsa1024.pem -noout -modulus 2>/dev/null | cut -d= -f2)
$PY -c 'import base64,json,sys
n=bytes.fromhex(sys.argv[1]); b=lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
weak={"kty":"RSA","kid":"old-1024","n":b(n),"e":"AQAB"}
good=json.load(open(sys.argv[2]))
json.dump({"keys":[weak,good]},open("mixed-weak.json","w")); json.dump({"keys":[weak]},open("all-weak.json","w"))' \
  "$n1024" es256.pub.json
run 0 --in jws-compact -- jws verify --key mixed-weak.json --alg ES256 &&
  check "a weak key next to a good one: the good one verifies" [ "$(cat out)" = "hello, world" ]
check "the skipped key is named, with why" grep -qF 'jwtgate: warning: key file mixed-weak.json: key 0 (kid "old-1024") skipped: key is too weak' err
run 2 --in jws-compact -- jws verify --key all-weak.json --alg ES256 &&
  check "every key skipped: an error naming them" grep -qF 'jwtgate: key file all-weak.json: key is too weak (too small, or an all-zero secret): 1 key skipped: kid "old-1024"' err

# ---- a verification key file may not mix secrets and public keys -------------------------------
"$JG" key set --private key-HS256.json es256.pub.json >mixed-set.json 2>/dev/null
run 2 --in jws-compact -- jws verify --key mixed-set.json --alg ES256,HS256 &&
  check "mixed set refused, with what it holds" grep -qF 'jwtgate: jws verify: key set mixes symmetric secrets and public keys: the set holds 1 symmetric ("oct") key and 1 public key' err
check "mixed set: no secret on stderr" no_secret_in_err key-HS256.json

# ---- rejection detail (what was refused, and which) ------------------------------------------
# err_is LINE: stderr is exactly this one line.
err_is() { [[ "$(cat err)" == "$1" ]]; }
run 1 --in jwt -- jwt verify --key es256.pub.json --iss https://other &&
  check "detail: iss expected/got" err_is 'jwtgate: jwt verify: token rejected: issuer (iss) mismatch: iss: expected "https://other", got "https://iss"'
run 1 --in jwt -- jwt verify --key es256.pub.json --aud https://other &&
  check "detail: aud list" err_is 'jwtgate: jwt verify: token rejected: audience (aud) mismatch: aud: expected "https://other", got "https://api"'
run 1 --in jwt -- jwt verify --key es256.pub.json --typ at+jwt &&
  check "detail: typ" err_is 'jwtgate: jwt verify: token rejected: token type (typ) mismatch: typ: expected "at+jwt", got "JWT"'
run 1 --in jwt -- jwt verify --key es256.pub.json --require scope &&
  check "detail: the missing claim" err_is 'jwtgate: jwt verify: token rejected: claim is missing: claim "scope" is missing'
run 1 --in jwt-old -- jwt verify --key key-HS256.json &&
  check "detail: when it expired" grep -qE '^jwtgate: jwt verify: token rejected: token has expired: exp: expired at 2001-09-09T01:46:40Z \(now [0-9T:-]+Z, leeway 0 s\)$' err
check "detail: never the HMAC secret" no_secret_in_err key-HS256.json
check "detail: never the token" not grep -qF -- "$(cut -d. -f3 jwt-old)" err
"$JG" key set es256.pub.json key-ES384.json key-RS256.json >es-rs.pub.json
run 1 --in jwt -- jwt verify --key es-rs.pub.json --alg ES384,RS256 &&
  check "detail: alg and allow-list" err_is 'jwtgate: jwt verify: token rejected: algorithm not allowed: alg: expected one of RS256, ES384, got "ES256"'
"$JG" key generate --alg ES256 --kid other-kid >other.json
"$JG" key public <other.json >other.pub.json
run 1 --in jwt -- jwt verify --key other.pub.json &&
  check "detail: kid, alg and the set's kids" err_is "jwtgate: jwt verify: token rejected: no suitable key found: no key with kid \"$(json_get key-ES256.json 'd["kid"]')\" for alg ES256 (the set has kids: other-kid)"
run 1 --in jws-compact -- jws verify --key es-rs.pub.json --alg ES384 &&
  check "detail: jws verify" err_is 'jwtgate: jws verify: token rejected: algorithm not allowed: alg: expected one of ES384, got "ES256"'
run 1 --in jwe-dir -- jwe decrypt --key dir256.json --enc A128GCM &&
  check "detail: jwe decrypt enc" err_is 'jwtgate: jwe decrypt: token rejected: content encryption algorithm not allowed: enc: expected one of A128GCM, got "A256GCM"'
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --typ JWT &&
  check "detail: jwt open typ" err_is 'jwtgate: jwt open: token rejected: token type (typ) mismatch: typ: expected "JWT", got "at+jwt"'
run 1 --in x -- jws verify --key es256.pub.json &&
  check "no detail: the error alone" grep -qE '^jwtgate: jws verify: token rejected: [^:]+$' err

# claims directly in a JWE (npm jose's EncryptJWT): --form encrypted, no --verify-key needed
printf '{"aud":"https://api","exp":%d,"scope":"a"}' $(($(date +%s) + 600)) >bare-claims.json
run 0 --in bare-claims.json -- jwe encrypt --key dir256.json --enc A256GCM && cp out jwe-claims
run 0 --in jwe-claims -- jwt open --decrypt-key dir256.json --form encrypted --aud https://api --scope a \
  && check "bare claims opened without --verify-key" [ "$(json_get out 'd["scope"]')" = a ]
run 2 --in jwe-claims -- jwt open --decrypt-key dir256.json                  # nested wants --verify-key
run 1 --in jwe-claims -- jwt open --decrypt-key dir256.json --form encrypted --typ at+jwt   # typ named: required
run 2 --in jwe-claims -- jwt open --decrypt-key dir256.json --form encrypted --alg ES256    # --alg without --verify-key
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --form encrypted            # nested, no verify key
check "nested token without --verify-key explained" grep -q "give --verify-key" err

# ---- exit status: 1 the token is rejected, 2 the setup is wrong -------------------------
run 1 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --iss https://other
check "rejection says so" grep -q "^jwtgate: jwt open: token rejected: " err
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key key-ECDH-ES+A256KW.json
check "gateway key as verify key: named, not 'no alg'" grep -q "verification keys are for ECDH-ES+A256KW (encryption), not signatures" err
check "gateway key as verify key: no alg message" not grep -q 'has no "alg"' err
$PY -c 'import json; d=json.load(open("key-HS256.json")); d.pop("alg"); d.pop("use", None); json.dump(d, open("oct-noalg.json","w"))'
run 2 --in at -- jwt open --decrypt-key oct-noalg.json --verify-key oct-noalg.json --alg HS256 --key-alg A256KW
check "same key to decrypt and verify explained" grep -q "hold the same key" err
check "same key: no secret on stderr" no_secret_in_err oct-noalg.json
run 2 --in at -- jwt open --decrypt-key es256.pub.json --verify-key es256.pub.json     # a signing key to decrypt
check "signing key as decrypt key explained" grep -q "decryption keys are for ES256" err
run 2 --in at -- jwt open --decrypt-key garbage.pem --verify-key es256.pub.json        # bad key file
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --alg RS256
run 2 --in jwt -- jwt verify --key key-ECDH-ES+A256KW.json
run 2 --in jwt -- jwt verify --key es256.pub.json --no-such-option
check "usage errors have the one prefix" grep -q "^jwtgate: jwt verify: unknown option" err
run 2 -- jwt nosuch
check "unknown command has the one prefix" grep -q "^jwtgate: jwt: unknown command" err

# empty allow-lists: say which one, and what to do
run 2 --in jwt -- jwt verify --key es256.pub.json --alg ""
check "empty --alg explained" grep -q -- '--alg "" is an empty allow-list' err
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --key-alg " , "
check "empty --key-alg explained" grep -q -- '--key-alg " , " is an empty allow-list' err
run 2 --in at -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json --enc ""
check "empty --enc explained" grep -q -- "omit --enc to accept every content encryption" err
run 2 --in jwe-dir -- jwe decrypt --key dir256.json --enc ,
run 2 --in jws-compact -- jws verify --key es256.pub.json --alg ,

# ---- pasted tokens: an argument, a "Bearer " prefix, surrounding whitespace --------------
run 0 -- jwt verify --key es256.pub.json "$(cat jwt)" && check "token as an argument" [ "$(json_get out 'd["tenant"]')" = acme ]
run 0 -- jwt verify --key es256.pub.json "Bearer $(cat jwt)"
printf '  \r\nBearer   %s \r\n\n' "$(cat jwt)" >pasted
run 0 --in pasted -- jwt verify --key es256.pub.json && check "Bearer and whitespace stripped" [ "$(json_get out 'd["tenant"]')" = acme ]
printf 'bearer %s' "$(cat jwt)" >pasted
run 0 --in pasted -- jwt verify --key es256.pub.json                      # the scheme is case-insensitive
run 0 -- jwt open --decrypt-key key-ECDH-ES+A256KW.json --verify-key es256.pub.json "Bearer $(cat at)"
run 0 -- jws verify --key es256.pub.json " $(cat jws-compact) " && check "jws verify: argument" [ "$(cat out)" = "hello, world" ]
run 0 -- jwe decrypt --key dir256.json "$(cat jwe-dir)"
run 0 -- inspect "Bearer $(cat jwt)" && check "inspect: argument" grep -q "^UNVERIFIED" out
run 1 -- jwt verify --key es256.pub.json "Bearer Bearer $(cat jwt)"      # only one prefix goes
check "second Bearer hinted" grep -q 'still starts with "Bearer "' err
$PY -c 'import sys; t=open("jwt").read().strip(); print(t[:40] + "\n" + t[40:])' >broken-line
run 1 --in broken-line -- jwt verify --key es256.pub.json                   # inner whitespace stays
check "inner whitespace hinted" grep -q "the token holds whitespace" err
check "the hint never shows the token" not grep -qF "$(head -c 30 jwt)" err
run 2 -- jwt verify --key es256.pub.json "$(cat jwt)" extra                 # one token only
run 2 -- jwt sign --key key-HS256.json stray                                # sign takes none

# ---- inspect --------------------------------------------------------------------------------
run 0 --in jwt -- inspect && check "inspect says UNVERIFIED" grep -q "^UNVERIFIED" out
check "inspect shows claims" grep -q '"tenant": "acme"' out
check "inspect shows expiry" grep -q "exp .*UTC (expires in" out
run 0 --in jwt-old -- inspect && check "inspect: expired ago" grep -q "expired .* ago" out
run 0 --in at -- inspect && check "inspect JWE: payload not shown" grep -q "encrypted: not shown" out
run 0 --in jws-general -- inspect && check "inspect general JSON" grep -q "general JSON" out
run 0 --in jwe-flattened -- inspect --json && check "inspect --json: verified false" [ "$(json_get out 'd["verified"]')" = False ]
run 2 --in garbage.pem -- inspect
run 2 --in broken.json -- inspect

# ---- snapshot compile / dump / info ---------------------------------------------------------
cat >snap.json <<'JSON'
{"format":"jwtgate-snapshot","format_version":1,"version":9,"generated_at":1795871125,
 "issuer":"https://auth","token_ttl":900,"db_id":"00112233445566778899aabbccddeeff",
 "decryption_keys":{"keys":[{"kty":"oct","kid":"g","k":"c25hcHNob3Qtc2VjcmV0LWtleS0xMjM0NTY3ODkw"}]},
 "verification_keys":{"keys":[]},"keys":[],
 "apis":[{"id":"api_1","base_path":"/orders","audience":"aud","scopes":["r","w"],"state":"published","sunset":null}],
 "subscriptions":[{"id":"s1","client_id":"c1","api_id":"api_1","scopes":["r"]}],
 "revoked_jti":[{"jti":"j1","exp":1795872025}],"suspended_clients":["c9"]}
JSON
run 0 -- snapshot --help && check "snapshot help" grep -q "compile" out
run 0 -- snapshot compile -o snap.jgs snap.json && check "compiled file mode 0600" [ "$(stat -c %a snap.jgs)" = 600 ]
run 0 --in snap.json -- snapshot compile -o snap2.jgs
run 0 -- snapshot info snap.jgs && check "info: version" grep -qE '^version +9$' out
check "info: counts" grep -qE '^subscriptions +1$' out
check "info: checksum ok" grep -qE '^checksum +ok$' out
check "info never prints keys" not grep -q "c25hcHNob3Qt" out
run 0 -- snapshot info --json snap.jgs && check "info --json" [ "$(json_get out 'd["db_id"]')" = 00112233445566778899aabbccddeeff ]
run 0 -- snapshot dump snap.jgs && cp out dump.json
check "dump holds the document" [ "$(json_get dump.json 'd["apis"][0]["scopes"]')" = "['r', 'w']" ]
run 0 -- snapshot compile -o snap3.jgs dump.json
run 0 -- snapshot dump snap3.jgs && check "compile(dump(x)) = x" cmp -s out dump.json
cp snap.jgs torn.jgs && truncate -s -8 torn.jgs
run 1 -- snapshot dump torn.jgs && check "torn: said" grep -q "not a valid compiled snapshot" err
cp snap.jgs bad.jgs && printf "X" | dd of=bad.jgs bs=1 seek=$(($(stat -c %s bad.jgs) - 20)) conv=notrunc 2>/dev/null
run 1 -- snapshot info bad.jgs && check "corrupted: checksum named" grep -qE '^checksum +snapshot checksum mismatch' out
run 1 -- snapshot dump bad.jgs && check "corrupted: refused" grep -q "checksum mismatch" err
run 1 -- snapshot info snap.json                                # JSON is not a compiled file
run 2 -- snapshot dump missing.jgs && check "missing: errno said" grep -q "No such file" err
run 2 -- snapshot dump
run 2 -- snapshot info --bogus snap.jgs
sed 's/"api_id":"api_1"/"api_id":"api_9"/' snap.json >bad.json
run 1 -- snapshot compile -o x.jgs bad.json && check "compile says where" grep -q 'subscriptions\[0\]: api_id "api_9" names no API' err
check "a refused compile writes nothing" not test -e x.jgs
run 2 -- snapshot compile -o /nonexistent/dir/x.jgs snap.json

echo "cli tests: $passed checks passed, $failed failed"
[[ $failed -eq 0 ]]
