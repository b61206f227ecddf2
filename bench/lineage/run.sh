#!/usr/bin/env bash
# The lineage benchmark (issue 16): a synthetic organisation of about 100,000 artifacts and
# 1,000,000 edges loaded into a lineage store; ingest rate with signature verification, and
# `impact` latency from root datasets beside a naive per-node traversal, on SQLite and, when
# MODELSIGN_BENCH_POSTGRES_URL names an empty database, PostgreSQL.
#
#   bash bench/lineage/run.sh            # prints the tables, replaces the Lineage section
#                                        # of bench/RESULTS.md, keeping those after it
#   bash bench/lineage/run.sh --artifacts 10000 --no-results   # a quick look
#
# Extra arguments go to the benchmark (see --help). The store lives in /dev/shm when there
# is one: on disk every attestation's commit waits for an fsync, which the run measures
# separately on a sample (--disk-sample, in $TMPDIR).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

write_results=1
args=()
for arg in "$@"; do
    if [[ "$arg" == --no-results ]]; then write_results=0; else args+=("$arg"); fi
done

cargo build --release --quiet -p modelsign-bench-lineage
work=()
[[ -d /dev/shm && -w /dev/shm ]] && work=(--work-dir /dev/shm)

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$repo/target/release/modelsign-bench-lineage" "${work[@]}" "${args[@]}" | tee "$out"

if (( write_results )); then
    results="$repo/bench/RESULTS.md"
    cores="$(nproc)"
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    memory="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    # Replace the section in place: keep what comes before its heading and every section
    # after it (later sections, such as the Python package's, follow it).
    heading='## Lineage graph (issue 16)'
    before="$(awk -v h="$heading" '$0 == h {exit} {print}' "$results")"
    after="$(awk -v h="$heading" 'seen && /^## / {keep = 1} $0 == h {seen = 1} keep {print}' "$results")"
    {
        printf '%s\n\n' "$before"
        printf '%s\n\n' "$heading"
        printf 'Machine: %s, %s cores, %s RAM, Linux %s. Measured %s with `bash bench/lineage/run.sh`.\n\n' \
            "$cpu" "$cores" "$memory" "$(uname -r)" "$(date -u +%F)"
        cat "$out"
        if [[ -n "$after" ]]; then printf '\n%s\n' "$after"; fi
    } > "$results.new"
    mv "$results.new" "$results"
    echo "wrote the Lineage section of $results" >&2
fi
