#!/usr/bin/env bash
# The incremental re-signing benchmark (issue 19): re-signing a 4 GiB, 2,000-file model after
# a small change, against signing it in full, and re-signing after 10 % of its bytes changed,
# against hashing those bytes alone. Warm page cache; medians of BENCH_RUNS rounds (default 5).
#
#   bash bench/incremental/run.sh                 # prints the table, rewrites RESULTS.md here
#   FILES=200 SIZE_MIB=400 bash bench/incremental/run.sh --no-results   # a quick look
#
# Sets up what it needs: the release CLI (cargo). The model lives in BENCH_DIR (default
# .cache/bench-incremental, kept between runs; FILES files of SIZE_MIB/FILES MiB of random
# bytes, plus a 1 KiB README.md). MODELSIGN=PATH times another binary.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
if [[ -z "${MODELSIGN:-}" ]]; then
    cargo build --release --quiet -p modelsign-cli
    MODELSIGN="$repo/target/release/modelsign"
fi
exec python3 bench/incremental/bench.py --modelsign "$MODELSIGN" \
    --work "${BENCH_DIR:-$repo/.cache/bench-incremental}" \
    --files "${FILES:-2000}" --size-mib "${SIZE_MIB:-4096}" --runs "${BENCH_RUNS:-5}" "$@"
