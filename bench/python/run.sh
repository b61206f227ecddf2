#!/usr/bin/env bash
# Python benchmark (issue 17): modelsign_rs against model_signing through the same API, and
# the two CLIs, in one run (bench/python/compare.py).
#
#   bash bench/python/run.sh      # BENCH_RUNS=5 rounds, models in .cache/bench (BENCH_DIR)
#
# Builds a release wheel into .cache/bench-python/wheels and the release CLI, sets up
# .cache/bench-python/venv with the wheel and model-signing and pyOpenSSL at scripts/test.sh's
# pins, creates the two synthetic models (2 GiB in four files, 20,000 files of 4 KiB) and
# writes its section of bench/RESULTS.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
out="$repo/.cache/bench-python"
venv="$out/venv"
# The same versions as the test suite's peers, read from the one place that pins them.
eval "$(grep -E '^(MODEL_SIGNING|PYOPENSSL|MATURIN)_VERSION=[0-9.]+$' scripts/test.sh)"
: "${MODEL_SIGNING_VERSION:?} ${PYOPENSSL_VERSION:?} ${MATURIN_VERSION:?}"

# The benchmark measures peak memory with GNU time; installing packages is not its job.
[[ -x /usr/bin/time ]] || {
    echo "bench/python/run.sh: /usr/bin/time (GNU time) is missing; install it (Debian/Ubuntu: apt-get install time) and rerun" >&2
    exit 1
}
maturin_venv="$repo/.cache/tools/maturin-venv"
[[ -x "$maturin_venv/bin/python" ]] || python3 -m venv "$maturin_venv"
"$maturin_venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
rm -rf "$out/wheels"
"$maturin_venv/bin/maturin" build --release --manifest-path crates/modelsign-py/Cargo.toml --out "$out/wheels"
cargo build --release --quiet -p modelsign-cli

[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "model-signing==$MODEL_SIGNING_VERSION" "pyopenssl==$PYOPENSSL_VERSION"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    "$out"/wheels/modelsign_rs-*.whl
exec "$venv/bin/python" bench/python/compare.py \
    --modelsign "$repo/target/release/modelsign" \
    --work "${BENCH_DIR:-$repo/.cache/bench}" \
    --runs "${BENCH_RUNS:-5}" "$@"
