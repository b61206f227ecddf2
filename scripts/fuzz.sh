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
#   FUZZ_JOBS          targets fuzzed at the same time (default: the number of CPUs)
#   FUZZ_BUILD         thorough (default: cargo-fuzz's build, opt-level 3 and one codegen
#                      unit per crate) or quick (opt-level 1, 16 codegen units: a faster
#                      build, 332 s fresh on 2 cores, for fewer inputs per second; what
#                      scripts/test.sh's short run uses)
#   MODELSIGN_VECTORS  shared test vectors to add seeds from (default <repo>/../shared/vectors;
#                      read only, copied into a temporary corpus, never into the repo)
#
# A found input is written to fuzz/artifacts/<target>/; replay it with
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> fuzz/artifacts/<target>/<file>
# (fuzz/target/quick/x86_64-unknown-linux-gnu/release/<target> after a quick build)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

SECONDS_PER_TARGET="${1:-${FUZZ_SECONDS:-20}}"
SANITIZER="${FUZZ_SANITIZER:-none}"
SEED="${FUZZ_SEED:-1}"
JOBS="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"
BUILD="${FUZZ_BUILD:-thorough}"
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

if ! [[ "$JOBS" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: FUZZ_JOBS must be a positive whole number, not '$JOBS'" >&2
    exit 2
fi

case "$BUILD" in
thorough)
    build_options=()
    target_dir="${CARGO_TARGET_DIR:-$REPO/fuzz/target}"
    ;;
# Its own target folder, so switching between the two never rebuilds the other.
quick)
    target_dir="$REPO/fuzz/target/quick"
    build_options=(--codegen-units 16 --target-dir "$target_dir")
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=1
    ;;
*)
    echo "error: FUZZ_BUILD must be quick or thorough, not '$BUILD'" >&2
    exit 2
    ;;
esac

# cargo-fuzz: the pinned version if it is already on PATH, else installed into an ignored
# folder of the repository so nothing outside it changes. A debug build: it only drives
# cargo, and builds in half the time of a release one.
export PATH="$TOOLS/bin:$PATH"
if [[ "$(cargo fuzz --version 2>/dev/null)" != *" $CARGO_FUZZ_VERSION"* ]]; then
    section "Installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS"
    install_start=$SECONDS
    cargo install --locked --debug --root "$TOOLS" --version "$CARGO_FUZZ_VERSION" cargo-fuzz
    echo "Installed in $((SECONDS - install_start)) s"
fi

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

section "Building fuzz targets (${TARGETS[*]}; $toolchain; sanitizer $SANITIZER; $BUILD build)"
build_start=$SECONDS
# --debug-assertions: overflow checks turn arithmetic on hostile numbers into findings.
build=("${CARGO[@]}" fuzz build --sanitizer "$SANITIZER" --debug-assertions "${build_options[@]}")
if [[ "${TARGETS[*]}" == "${ALL_TARGETS[*]}" ]]; then
    "${build[@]}"
else
    for target in "${TARGETS[@]}"; do
        "${build[@]}" "$target"
    done
fi
echo "Built in $((SECONDS - build_start)) s"
host="$(rustc -vV | sed -n 's/^host: //p')"
BIN_DIR="$target_dir/$host/release"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
extra_corpus=""
if [[ -d "$VECTORS" ]]; then
    echo "Adding seeds from $VECTORS: $(python3 fuzz/seeds/from_vectors.py "$VECTORS" "$work/vectors")"
    extra_corpus="$work/vectors"
else
    echo "No test vectors at $VECTORS: fuzzing from the committed corpus only"
fi

# Fuzzes one target; its log goes to $work/<target>.log, its one-line result to
# $work/<target>.result and its exit status to $work/<target>.status.
fuzz_target() {
    local target="$1" artifacts="$REPO/fuzz/artifacts/$1" log="$work/$1.log"
    mkdir -p "$artifacts" "$work/corpus/$target"
    local corpora=("$work/corpus/$target" "$REPO/fuzz/corpus/$target")
    if [[ -n "$extra_corpus" && -d "$extra_corpus/$target" ]]; then
        corpora+=("$extra_corpus/$target")
    fi
    # New inputs go into the first (temporary) corpus folder: the committed seeds stay as
    # they are. The outer timeout only guards against libFuzzer itself never returning.
    local status=0
    timeout --kill-after=30 $((SECONDS_PER_TARGET + 120)) \
        "$BIN_DIR/$target" "${corpora[@]}" \
        -seed="$SEED" -max_total_time="$SECONDS_PER_TARGET" \
        -timeout="$TIMEOUT_SECONDS" -rss_limit_mb="$RSS_LIMIT_MB" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
    local runs coverage artifact
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    coverage="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | tr -d 'cov: ')"
    if ((status == 0)); then
        echo "$target: ok, ${runs:-?} runs in $SECONDS_PER_TARGET s, coverage ${coverage:-?}" >"$work/$target.result"
    else
        artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        echo "$target: FAILED (exit $status) after ${runs:-?} runs; reproducer: ${artifact:-none written, see its log above}" >"$work/$target.result"
    fi
    echo "$status" >"$work/$target.status"
}

# Targets run $JOBS at a time: each libFuzzer process uses one core.
section "Fuzzing ${#TARGETS[@]} targets for $SECONDS_PER_TARGET s each, $JOBS at a time (seed $SEED)"
running=0
for target in "${TARGETS[@]}"; do
    if ((running >= JOBS)); then
        wait -n || true
        running=$((running - 1))
    fi
    echo "started: $target"
    fuzz_target "$target" &
    running=$((running + 1))
done
wait

summary=()
failed=0
for target in "${TARGETS[@]}"; do
    summary+=("$(cat "$work/$target.result" 2>/dev/null ||
        echo "$target: FAILED (no result: the fuzzing job itself failed)")")
    if [[ "$(cat "$work/$target.status" 2>/dev/null || echo failed)" != 0 ]]; then
        failed=$((failed + 1))
        section "Log of $target"
        tail -n 60 "$work/$target.log"
    fi
done

section "Fuzzing summary"
printf '%s\n' "${summary[@]}"
echo "fuzz: $((${#TARGETS[@]} - failed)) passed, $failed failed"
((failed == 0))
