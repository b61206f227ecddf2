#!/usr/bin/env bash
# The cold-cache benchmark (issue 19): signing and verifying with nothing in the page cache,
# against the storage limit on the same files (dd, fio) and model_signing 1.1.1 cold in the
# same run. Needs root (it drops the page cache before every run).
#
#   bash bench/cold/run.sh                       # 1x2GiB and 4x1GiB, rewrites RESULTS.md here
#   bash bench/cold/run.sh --models 1x2GiB --no-model-signing --no-results   # a quick look
#
# Sets up what it needs: the release CLI, fio and util-linux's fincore (Debian), and the
# venv of bench/run.sh with model-signing 1.1.1. The models are bench/run.sh's, in BENCH_DIR
# (default .cache/bench). MODELSIGN=PATH times another binary.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
venv="$repo/.venv"
missing=()
command -v fio >/dev/null || missing+=(fio)
command -v fincore >/dev/null || missing+=(util-linux)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
if [[ -z "${MODELSIGN:-}" ]]; then
    cargo build --release --quiet -p modelsign-cli
    MODELSIGN="$repo/target/release/modelsign"
fi
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "model-signing==1.1.1" pyopenssl
exec "$venv/bin/python" bench/cold/cold.py --modelsign "$MODELSIGN" \
    --work "${BENCH_DIR:-$repo/.cache/bench}" --runs "${BENCH_RUNS:-3}" "$@"
