#!/usr/bin/env bash
# Benchmark: modelsign against the hardware limit and the Python reference.
#
#   bash bench/run.sh            # BENCH_RUNS=3 repetitions, models in .cache/bench
#
# Sets up what it needs (release build, a venv with model-signing 1.1.1 and matplotlib,
# b3sum built with cargo), creates the synthetic models (about 6.1 GiB on disk), times
# every operation with /usr/bin/time, and writes bench/RESULTS.md and bench/results.png.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
tools="$repo/.cache/tools"
venv="$repo/.venv"

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release --quiet -p modelsign-cli
[[ -x "$tools/bin/b3sum" ]] || cargo install --quiet --locked b3sum --root "$tools"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "model-signing==1.1.1" pyopenssl matplotlib
exec "$venv/bin/python" bench/bench.py \
    --modelsign "$repo/target/release/modelsign" \
    --b3sum "$tools/bin/b3sum" \
    --work "${BENCH_DIR:-$repo/.cache/bench}" \
    --runs "${BENCH_RUNS:-3}" "$@"
