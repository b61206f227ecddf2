#!/usr/bin/env bash
# Creates a SoftHSM2 token for the PKCS#11 tests (and for trying `sign pkcs11-key` by
# hand) in the folder OUT:
#
#   bash tests/pkcs11/make-token.sh OUT
#   export SOFTHSM2_CONF=OUT/softhsm2.conf
#
# Token "modelsign-test" (user PIN 123456) holds:
#   p256, p384, p521   EC key pairs (ids 01, 02, 03), imported from OUT/<name>.key, with
#                      their public keys in OUT/<name>.pub;
#   onboard            a P-384 key pair generated on the token (id 04): its private half
#                      never existed outside it;
#   rsa                an RSA key pair (id 10), for the "not an EC key" error;
#   twin               two EC key pairs sharing one label (ids 21, 22), for the
#                      "ambiguous key" error.
# Token "other-token" (user PIN 111111) is empty, so token selection matters.
# OUT/chain: a root CA, an intermediate CA and a code-signing leaf certificate for p256
# (root.pem, intermediate.pem, p256-leaf.pem).
#
# Needs softhsm2, opensc (pkcs11-tool) and openssl; scripts/test.sh installs them.
set -euo pipefail

out=${1:?usage: make-token.sh OUT}
mkdir -p "$out/tokens" "$out/chain"
out=$(cd "$out" && pwd)
module=""
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib64/pkcs11/libsofthsm2.so /usr/lib/pkcs11/libsofthsm2.so; do
    if [[ -f $candidate ]]; then module=$candidate; break; fi
done
[[ -n $module ]] || { echo "make-token.sh: libsofthsm2.so not found (apt install softhsm2)" >&2; exit 1; }

cat > "$out/softhsm2.conf" <<EOF
directories.tokendir = $out/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF=$out/softhsm2.conf
echo "$module" > "$out/module-path"

quiet() { "$@" > "$out/last-command.log" 2>&1 || { cat "$out/last-command.log" >&2; exit 1; }; }

quiet softhsm2-util --init-token --free --label modelsign-test --pin 123456 --so-pin 654321
quiet softhsm2-util --init-token --free --label other-token --pin 111111 --so-pin 222222

cd "$out"
import() { # file label id
    quiet softhsm2-util --import "$1" --token modelsign-test --label "$2" --id "$3" --pin 123456
}
id=1
for curve in P-256 P-384 P-521; do
    name=$(echo "$curve" | tr -d - | tr '[:upper:]' '[:lower:]')
    quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$curve" -out "$name.key"
    quiet openssl pkey -in "$name.key" -pubout -out "$name.pub"
    import "$name.key" "$name" "0$id"
    id=$((id + 1))
done
quiet pkcs11-tool --module "$module" --token-label modelsign-test --login --pin 123456 \
    --keypairgen --key-type EC:secp384r1 --label onboard --id 04
quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
import rsa.key rsa 10
quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out twin1.key
quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out twin2.key
import twin1.key twin 21
import twin2.key twin 22

cd chain
quiet openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
    -keyout root.key -out root.pem -days 3650 -subj "/CN=modelsign test root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout intermediate.key -out intermediate.csr -subj "/CN=modelsign test intermediate"
cat > intermediate.ext <<EOF
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
quiet openssl x509 -req -in intermediate.csr -CA root.pem -CAkey root.key -CAcreateserial \
    -days 3650 -extfile intermediate.ext -out intermediate.pem
quiet openssl req -new -key ../p256.key -out p256-leaf.csr -subj "/CN=modelsign HSM signer"
cat > leaf.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=codeSigning
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
quiet openssl x509 -req -in p256-leaf.csr -CA intermediate.pem -CAkey intermediate.key \
    -CAcreateserial -days 3650 -extfile leaf.ext -out p256-leaf.pem
rm -f "$out/last-command.log"
