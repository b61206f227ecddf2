#!/usr/bin/env bash
# The partial verification benchmark (issue 19): `verify --files` of one shard of a large
# model against a full verification, to show that its time is the shard's, not the model's.
#
#   bash bench/partial/run.sh               # prints the table, rewrites bench/partial/RESULTS.md
#   SIZE_GIB=1 bash bench/partial/run.sh --no-results    # a quick look
#
# Creates a model of SIZE_GIB GiB (default 4) in SHARDS files of random bytes (default 16,
# model-000NN-of-000MM.safetensors) and a config.json, in BENCH_DIR (default
# .cache/bench-partial; kept between runs). Signs it with a throwaway key under the files
# serialization and under shards (the default shard size), then times, RUNS times each
# (default 3; the median is reported):
#   (a) modelsign verify key MODEL                            (every file hashed)
#   (b) modelsign verify key MODEL --files ONE_SHARD          (that file only)
# The model was just written, so its files are in the page cache for both (24 GiB of RAM
# here): the comparison is of the work done, not of the disk.
#
# The acceptance (issue 19): (b) takes time proportional to its shard, so the time ratio
# (a) / (b) follows the bytes ratio, SHARDS. Under the files serialization a file is hashed
# on one core while (a) spreads the model's files over every core, so on an idle machine
# the ratio can fall towards SHARDS / cores; under shards a file smaller than the shard size (1 GB by default) is one shard, so the same holds. The
# table gives each step's hashing rate: (b) hashes its shard at about the rate (a) hashes
# the model, plus one process start and the signature check, which both pay.
#
# MODELSIGN=PATH times another modelsign binary (e.g. target/debug/modelsign, whose hashing
# crates are optimised in every profile) instead of building the release one.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

write_results=1
for arg in "$@"; do
    case "$arg" in
        --no-results) write_results=0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

size_gib="${SIZE_GIB:-4}"
shards="${SHARDS:-16}"
runs="${RUNS:-3}"
work="${BENCH_DIR:-$repo/.cache/bench-partial}"
if [[ -n "${MODELSIGN:-}" ]]; then
    modelsign="$MODELSIGN"
    build="$("$modelsign" --version) ($modelsign)"
else
    cargo build --release --quiet -p modelsign-cli
    modelsign="$repo/target/release/modelsign"
    build="$("$modelsign" --version) (release build)"
fi

total_bytes=$(( size_gib * 1024 * 1024 * 1024 ))
shard_bytes=$(( total_bytes / shards ))
model="$work/model-${size_gib}g-${shards}"
mkdir -p "$work"
# The model is reused while its files have the expected sizes.
name_of() { printf 'model-%05d-of-%05d.safetensors' "$1" "$shards"; }
complete=1
for (( i = 1; i <= shards; i++ )); do
    f="$model/$(name_of "$i")"
    if [[ ! -f "$f" || "$(stat -c %s "$f")" != "$shard_bytes" ]]; then complete=0; break; fi
done
if (( ! complete )); then
    echo "creating $model: $shards files of $shard_bytes bytes" >&2
    rm -rf "$model"
    mkdir -p "$model"
    for (( i = 1; i <= shards; i++ )); do
        head -c "$shard_bytes" /dev/urandom > "$model/$(name_of "$i")"
    done
    printf '{"shards": %d}\n' "$shards" > "$model/config.json"
fi
# Read every file once so that both steps find it in the page cache.
cat "$model"/* > /dev/null

key="$work/bench.pem"
[[ -f "$key" ]] || "$modelsign" key generate --private-key "$key" --public-key "$work/bench.pub" --quiet
one="$model/$(name_of 1)"

seconds() {
    local start=$EPOCHREALTIME
    "$@" > /dev/null
    local end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rows=()
ratios=()
for serialization in files shards; do
    signature="$work/model-$serialization.sig"
    "$modelsign" sign key "$model" --private-key "$key" --signature "$signature" \
        --serialization "$serialization" --quiet
    verify=("$modelsign" verify key "$model" --public-key "$work/bench.pub" --signature "$signature")
    full=() partial=()
    for (( r = 0; r < runs; r++ )); do
        full+=("$(seconds "${verify[@]}")")
        partial+=("$(seconds "${verify[@]}" --files "$one")")
    done
    # The partial run must have been partial, and of that file alone.
    checked="$("${verify[@]}" --files "$one" --json | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["partial"]; print(len(d["checked_files"]))')"
    [[ "$checked" == 1 ]] || { echo "expected 1 file checked, got $checked" >&2; exit 1; }
    full_s="$(median "${full[@]}")"
    partial_s="$(median "${partial[@]}")"
    rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", b / s / 1073741824 }'; }
    rows+=("| $serialization | (a) full \`verify\` | $(printf '%s' "$total_bytes" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') | $full_s | $(rate "$total_bytes" "$full_s") | ${full[*]} |")
    rows+=("| $serialization | (b) \`verify --files\` one shard | $(printf '%s' "$shard_bytes" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') | $partial_s | $(rate "$shard_bytes" "$partial_s") | ${partial[*]} |")
    ratios+=("| $serialization | $(awk -v f="$full_s" -v p="$partial_s" 'BEGIN { printf "%.1fx", f / p }') | ${shards}x |")
done

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
{
    echo "| serialization | step | bytes hashed | median time (s) | GiB/s | runs (s) |"
    echo "|---|---|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "| serialization | time ratio (a) / (b) | bytes ratio |"
    echo "|---|---:|---:|"
    printf '%s\n' "${ratios[@]}"
} > "$out"
cat "$out"

if (( write_results )); then
    cores="$(nproc)"
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    memory="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    {
        echo "# Partial verification (issue 19): \`verify --files\` of one shard"
        echo
        echo "Machine: $cpu, $cores cores, $memory RAM, Linux $(uname -r); load average $load (1, 5, 15 min) at the end of the run. Measured $(date -u '+%F %H:%M') UTC with \`bash bench/partial/run.sh\` (SIZE_GIB=$size_gib, SHARDS=$shards, RUNS=$runs): $build."
        echo
        echo "Model: $shards files of $(printf '%s' "$shard_bytes" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') bytes of random data and a config.json, in the page cache. What runs: the comment at the top of bench/partial/run.sh."
        echo
        cat "$out"
        echo
        echo "The time of (b) follows the bytes it hashes, not the model's size: the time ratio tracks the bytes ratio, and (b) hashes at about the rate of (a). Under files one file is hashed on one core while (a) spreads the model's files over all $cores, so on an idle machine the time ratio may fall towards $shards / $cores; under shards the same holds while a file is smaller than the shard size (1 GB by default), one shard hashed on one core. Both pay one process start and the signature check."
    } > "$repo/bench/partial/RESULTS.md"
    echo "wrote $repo/bench/partial/RESULTS.md" >&2
fi
