#!/usr/bin/env bash
# Signs the bundled sample model with the TEST-ONLY demo key, verifies it, then shows that
# changing one byte is caught. Run from anywhere: bash scripts/demo.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
modelsign="$repo/target/debug/modelsign"
# A debug build (dependencies that hash and sign optimised, see Cargo.toml): the sample is
# tiny, it builds in less than half the time of a release build, and `scripts/test.sh`
# reuses what it compiled. The first run compiles modelsign and its ~250 dependencies with
# cargo's own progress showing; later runs take a second.
if [[ ! -x "$modelsign" ]]; then
    echo "== building modelsign (first run only: a few minutes on 2 cores)"
fi
build_start=$SECONDS
cargo build -p modelsign-cli
if ((SECONDS - build_start > 5)); then
    echo "== built in $((SECONDS - build_start)) s"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r examples/sample-model "$work/sample-model"

echo "== sign (key method, TEST-ONLY demo key)"
"$modelsign" sign key "$work/sample-model" \
    --private-key examples/keys/demo-TEST-ONLY.pem --signature "$work/sample-model.sig"
echo "== verify"
"$modelsign" verify key "$work/sample-model" \
    --public-key examples/keys/demo-TEST-ONLY.pub --signature "$work/sample-model.sig"
echo "== root digest"
"$modelsign" digest "$work/sample-model"
echo "== tamper with one byte of config.json, verify again (must fail)"
sed -i 's/"hidden_size": 8/"hidden_size": 9/' "$work/sample-model/config.json"
if "$modelsign" verify key "$work/sample-model" \
    --public-key examples/keys/demo-TEST-ONLY.pub --signature "$work/sample-model.sig"; then
    echo "demo: tampering was NOT detected" >&2
    exit 1
fi
echo "== tampering detected, as it should be"
