#!/usr/bin/env bash
# Regenerates the committed seed corpus (fuzz/corpus/<target>/) and fuzz/seeds/root.pem
# from this project's own outputs: the sample model signed with the demo key and with a
# certificate chain made here with openssl, the keys and certificates themselves, a card,
# PKCS#11 URIs. Needs openssl, python3 and a built CLI (MODELSIGN, default target/debug).
#
#   bash fuzz/seeds/make.sh
#
# Seeds are small on purpose (a few KB each): libFuzzer mutates them, and CI runs only
# seconds per target.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODELSIGN="${MODELSIGN:-$REPO/target/debug/modelsign}"
CORPUS="$REPO/fuzz/corpus"
SEEDS="$REPO/fuzz/seeds"
MODEL="$REPO/examples/sample-model"
DEMO_KEY="$REPO/examples/keys/demo-TEST-ONLY.pem"
DEMO_PUB="$REPO/examples/keys/demo-TEST-ONLY.pub"

[[ -x "$MODELSIGN" ]] || { echo "error: build the CLI first (cargo build -p modelsign-cli)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$CORPUS"
mkdir -p "$CORPUS"/{bundle,statement,cert_chain,keys,pkcs11_uri,card,manifest_diff,known_digests}

# Certificates: root CA -> intermediate CA -> code-signing leaf, P-256, valid for 100 years
# (the targets check them at 2030-01-01).
cd "$work"
ec_key() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$1" 2>/dev/null; }
ec_key root.key P-256
ec_key inter.key P-256
ec_key leaf.key P-256
openssl req -x509 -new -key root.key -subj "/CN=modelsign fuzz root" -days 36500 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -out root.pem
openssl req -new -key inter.key -subj "/CN=modelsign fuzz intermediate" -out inter.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n' > inter.ext
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -days 36500 \
    -extfile inter.ext -out inter.pem 2>/dev/null
openssl req -new -key leaf.key -subj "/CN=modelsign fuzz leaf" -out leaf.csr
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key -CAcreateserial -days 36500 \
    -extfile leaf.ext -out leaf.pem 2>/dev/null
cp root.pem "$SEEDS/root.pem"
der() { openssl x509 -in "$1" -outform DER; }

# bundle: key method (files and shards), certificate method, a signed card.
"$MODELSIGN" sign key "$MODEL" --private-key "$DEMO_KEY" --signature "$CORPUS/bundle/key-files.sig" --quiet
"$MODELSIGN" sign key "$MODEL" --private-key "$DEMO_KEY" --signature "$CORPUS/bundle/key-shards.sig" \
    --serialization shards --shard-size 4096 --hash-type blake2b --quiet
"$MODELSIGN" sign certificate "$MODEL" --private-key leaf.key --signing-certificate leaf.pem \
    --certificate-chain inter.pem --signature "$CORPUS/bundle/certificate.sig" --quiet
"$MODELSIGN" card init "$MODEL" -o card.yaml --quiet
"$MODELSIGN" card sign key "$MODEL" --card card.yaml --private-key "$DEMO_KEY" \
    --signature "$CORPUS/bundle/card.sig" --quiet

# statement: the payloads of those bundles, and the same manifest as a model_signing 0.2
# Digests/v0.1 statement.
python3 - "$CORPUS" <<'PY'
import base64, json, sys
corpus = sys.argv[1]
for name in ["key-files", "key-shards"]:
    with open(f"{corpus}/bundle/{name}.sig") as f:
        payload = base64.b64decode(json.load(f)["dsseEnvelope"]["payload"])
    with open(f"{corpus}/statement/{name}.json", "wb") as f:
        f.write(payload)
with open(f"{corpus}/statement/key-files.json") as f:
    v1 = json.load(f)
legacy = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": r["name"], "digest": {"sha256": r["digest"]}}
                for r in v1["predicate"]["resources"]],
    "predicateType": "https://model_signing/Digests/v0.1",
    "predicate": {"unused": "legacy"},
}
with open(f"{corpus}/statement/legacy-digests.json", "w") as f:
    json.dump(legacy, f, indent=2)
# card: a policy line, then the card payload (JSON is YAML too).
with open(f"{corpus}/bundle/card.sig") as f:
    card_payload = base64.b64decode(json.load(f)["dsseEnvelope"]["payload"])
with open(f"{corpus}/card/statement.txt", "wb") as f:
    f.write(b"accuracy@squad:validation>=0.9\n" + card_payload)
PY

# known_digests: checksum lists as sha256sum, b2sum and b3sum write them, of files with
# names GNU escapes (a backslash, a line feed) or that look like the other forms; the
# OMS forms: a bundle, its statement and its bare predicate.
awkward="$work/awkward"
mkdir -p "$awkward/sub dir"
printf a > "$awkward/plain.bin"
printf b > "$awkward/back\\slash"
printf c > "$awkward/new
line"
printf d > "$awkward/sub dir/(paren) = x"
names=(./plain.bin "back\\slash" "new
line" "sub dir//(paren) = x")
(cd "$awkward" && sha256sum "${names[@]}") > "$CORPUS/known_digests/sha256sum.txt"
(cd "$awkward" && sha256sum --binary "${names[@]}" | sed 's/$/\r/') > "$CORPUS/known_digests/sha256sum-binary-crlf.txt"
(cd "$awkward" && b2sum --tag "${names[@]}") > "$CORPUS/known_digests/b2sum-tag.txt"
if command -v b3sum >/dev/null; then
    (cd "$awkward" && b3sum "${names[@]}") > "$CORPUS/known_digests/b3sum.txt"
fi
cp "$CORPUS/bundle/key-shards.sig" "$CORPUS/known_digests/bundle-shards.json"
cp "$CORPUS/statement/key-files.json" "$CORPUS/known_digests/statement-files.json"
python3 - "$CORPUS" <<'PY'
import json, sys
corpus = sys.argv[1]
with open(f"{corpus}/statement/key-files.json") as f:
    predicate = json.load(f)["predicate"]
with open(f"{corpus}/known_digests/predicate-files.json", "w") as f:
    json.dump(predicate, f, indent=2)
PY

# cert_chain: byte 0 = anchors counted from the end (low nibble) | 0x10 for PEM.
python3 - "$CORPUS/cert_chain" leaf.pem inter.pem root.pem <<'PY'
import ssl, sys
out, leaf, inter, root = sys.argv[1:]
pem = {p: open(p).read() for p in (leaf, inter, root)}
der = {p: ssl.PEM_cert_to_DER_cert(t) for p, t in pem.items()}
def der_list(*paths):
    return b"".join(len(der[p]).to_bytes(2, "big") + der[p] for p in paths)
open(f"{out}/der-leaf-inter-root.bin", "wb").write(b"\x01" + der_list(leaf, inter, root))
open(f"{out}/der-leaf-root-missing-inter.bin", "wb").write(b"\x01" + der_list(leaf, root))
open(f"{out}/der-self-signed-root.bin", "wb").write(b"\x01" + der_list(root))
open(f"{out}/pem-leaf-inter-root.bin", "wb").write(
    b"\x11" + (pem[leaf] + pem[inter] + pem[root]).encode())
PY

# keys: byte 0 bit 0 = a password follows (length byte, then the password).
password=fuzz-password
with_password() { { printf '\x01'; printf "\\x$(printf %02x ${#password})"; printf %s "$password"; cat "$1"; } > "$2"; }
without_password() { { printf '\x00'; cat "$1"; } > "$2"; }
without_password "$DEMO_KEY" "$CORPUS/keys/demo-pkcs8.bin"
without_password "$DEMO_PUB" "$CORPUS/keys/demo-public.bin"
ec_key p384.key P-384
openssl ec -in p384.key -out p384-sec1.pem 2>/dev/null
without_password p384-sec1.pem "$CORPUS/keys/p384-sec1.bin"
ec_key p521.key P-521
openssl pkey -in p521.key -pubout -out p521.pub
without_password p521.pub "$CORPUS/keys/p521-public.bin"
openssl pkcs8 -topk8 -in leaf.key -v2 aes-256-cbc -iter 1000 -passout "pass:$password" -out pbkdf2.pem
with_password pbkdf2.pem "$CORPUS/keys/encrypted-pbkdf2.bin"
openssl pkcs8 -topk8 -in leaf.key -scrypt -scrypt_N 1024 -scrypt_r 8 -scrypt_p 1 \
    -passout "pass:$password" -out scrypt.pem
with_password scrypt.pem "$CORPUS/keys/encrypted-scrypt.bin"
{ printf '\x00'; openssl pkey -in leaf.key -outform DER; } > "$CORPUS/keys/demo-pkcs8-der.bin"

# pkcs11_uri
uri() { printf %s "$2" > "$CORPUS/pkcs11_uri/$1.txt"; }
uri label 'pkcs11:token=release;object=model-signing?module-name=softhsm2'
uri id-slot 'pkcs11:slot-id=7;id=%01%02%ff;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:///run/pin'
uri pin-value 'pkcs11:token=My%20Token;object=k;library-version=2.40?pin-value=12%2634&x-vendor=1'

# card: a policy line, then a card's YAML.
{ echo 'accuracy>=0.90'; cat card.yaml; } > "$CORPUS/card/drafted.txt"
cat > "$CORPUS/card/full.txt" <<'YAML'
f1@squad:validation>0.8
name: sample-model
version: "1.0"
description: A tiny model for tests.
license: apache-2.0
authors: [modelsign]
base_models: [bert-base-uncased]
languages: [en]
task: text-classification
architecture: BertForSequenceClassification
datasets:
  - {name: squad, role: evaluation, digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000", url: "https://example.invalid/squad"}
metrics:
  - {metric: f1, value: 0.91, dataset: squad, split: validation, slice: en, confidence_interval: {lower: 0.9, upper: 0.92}, source: modelsign, date: "2026-01-01"}
  - {metric: accuracy, value: 0.88}
considerations:
  users: [researchers]
  use_cases: [tests]
  limitations: [tiny]
  ethical: [none known]
YAML

# manifest_diff: structured (arbitrary) input; any bytes make a pair of manifests.
python3 - "$CORPUS/manifest_diff" <<'PY'
import hashlib, sys
for i in range(3):
    data = b"".join(hashlib.sha256(f"modelsign fuzz {i} {j}".encode()).digest() for j in range(4 + 4 * i))
    open(f"{sys.argv[1]}/seed-{i}.bin", "wb").write(data)
PY
echo "Seeds written to $CORPUS:"
du -ab "$CORPUS" | sort -n | tail -n 40
