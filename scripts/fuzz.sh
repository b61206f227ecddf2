#!/usr/bin/env bash
# Builds the cargo-fuzz targets in fuzz/ and runs each for a bounded time, from the seed
# corpus committed in fuzz/corpus/<target>/ (plus, when present, seeds made at run time
# from the shared test vectors). Fails if any target crashes, panics, hangs (one input
# taking more than 10 s) or uses more than 1 GiB; prints the reproducer's path.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]        (default 20)
#
# Environment:
#   FUZZ_SECONDS       seconds per target when no argument is given (default 20)
#   FUZZ_TARGETS       targets to run, space separated (default: every target)
#   FUZZ_SANITIZER     cargo fuzz --sanitizer: none (default: the code under test is safe
#                      Rust, and the build is about twice as fast) or address
#   FUZZ_SEED          libFuzzer -seed, fixed so a run can be repeated (default 1)
#   MODELSIGN_VECTORS  shared test vectors to add seeds from (default <repo>/../shared/vectors;
#                      read only, copied into a temporary corpus, never into the repo)
#
# A found input is written to fuzz/artifacts/<target>/; replay it with
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> fuzz/artifacts/<target>/<file>
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

SECONDS_PER_TARGET="${1:-${FUZZ_SECONDS:-20}}"
SANITIZER="${FUZZ_SANITIZER:-none}"
SEED="${FUZZ_SEED:-1}"
VECTORS="${MODELSIGN_VECTORS:-$REPO/../shared/vectors}"
TOOLS="$REPO/.cache/tools"
CARGO_FUZZ_VERSION=0.13.2
# One input running longer than this is a hang: a defect, not a slow machine.
TIMEOUT_SECONDS=10
RSS_LIMIT_MB=1024

if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: SECONDS_PER_TARGET must be a positive whole number, not '$SECONDS_PER_TARGET'" >&2
    exit 2
fi

section() {
    printf '\n==== %s ====\n' "$*"
}

# cargo-fuzz, in an ignored folder of the repository so nothing outside it changes.
if [[ ! -x "$TOOLS/bin/cargo-fuzz" ]]; then
    section "Installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS"
    cargo install --locked --quiet --root "$TOOLS" --version "$CARGO_FUZZ_VERSION" cargo-fuzz
fi
export PATH="$TOOLS/bin:$PATH"

# libFuzzer's instrumentation needs unstable rustc flags: a nightly toolchain if there is
# one, else the stable one with RUSTC_BOOTSTRAP=1 (what CI machines have).
if rustup run nightly rustc --version >/dev/null 2>&1; then
    CARGO=(cargo +nightly)
    toolchain="$(rustup run nightly rustc --version)"
else
    export RUSTC_BOOTSTRAP=1
    CARGO=(cargo)
    toolchain="$(rustc --version) with RUSTC_BOOTSTRAP=1"
fi

mapfile -t ALL_TARGETS < <("${CARGO[@]}" fuzz list)
read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

section "Building fuzz targets (${TARGETS[*]}; $toolchain; sanitizer $SANITIZER)"
build_start=$SECONDS
# --debug-assertions: overflow checks turn arithmetic on hostile numbers into findings.
build=("${CARGO[@]}" fuzz build --sanitizer "$SANITIZER" --debug-assertions)
if [[ "${TARGETS[*]}" == "${ALL_TARGETS[*]}" ]]; then
    "${build[@]}"
else
    for target in "${TARGETS[@]}"; do
        "${build[@]}" "$target"
    done
fi
echo "Built in $((SECONDS - build_start)) s"
host="$(rustc -vV | sed -n 's/^host: //p')"
BIN_DIR="${CARGO_TARGET_DIR:-$REPO/fuzz/target}/$host/release"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
extra_corpus=""
if [[ -d "$VECTORS" ]]; then
    echo "Adding seeds from $VECTORS: $(python3 fuzz/seeds/from_vectors.py "$VECTORS" "$work/vectors")"
    extra_corpus="$work/vectors"
else
    echo "No test vectors at $VECTORS: fuzzing from the committed corpus only"
fi

summary=()
failed=0
for target in "${TARGETS[@]}"; do
    section "Fuzzing $target for $SECONDS_PER_TARGET s (seed $SEED)"
    artifacts="$REPO/fuzz/artifacts/$target"
    mkdir -p "$artifacts" "$work/corpus/$target"
    corpora=("$work/corpus/$target" "$REPO/fuzz/corpus/$target")
    if [[ -n "$extra_corpus" && -d "$extra_corpus/$target" ]]; then
        corpora+=("$extra_corpus/$target")
    fi
    log="$work/$target.log"
    # New inputs go into the first (temporary) corpus folder: the committed seeds stay as
    # they are. The outer timeout only guards against libFuzzer itself never returning.
    status=0
    timeout --kill-after=30 $((SECONDS_PER_TARGET + 120)) \
        "$BIN_DIR/$target" "${corpora[@]}" \
        -seed="$SEED" -max_total_time="$SECONDS_PER_TARGET" \
        -timeout="$TIMEOUT_SECONDS" -rss_limit_mb="$RSS_LIMIT_MB" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    coverage="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | tr -d 'cov: ')"
    if ((status == 0)); then
        summary+=("$target: ok, ${runs:-?} runs in $SECONDS_PER_TARGET s, coverage ${coverage:-?}")
    else
        failed=$((failed + 1))
        artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        tail -n 60 "$log"
        summary+=("$target: FAILED (exit $status) after ${runs:-?} runs; reproducer: ${artifact:-none written, see the log above}")
    fi
    echo "${summary[-1]}"
done

section "Fuzzing summary"
printf '%s\n' "${summary[@]}"
echo "fuzz: $((${#TARGETS[@]} - failed)) passed, $failed failed"
((failed == 0))
