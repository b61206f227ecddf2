#!/usr/bin/env bash
# The OCI registry benchmark (issue 18): signing and verifying a model in a registry from its
# image manifest, against pulling it, on a large artifact (SIZE_GIB of layers, default 4).
#
#   bash bench/oci/run.sh               # prints the tables, rewrites bench/oci/RESULTS.md
#   SIZE_GIB=1 bash bench/oci/run.sh --no-results    # a quick look
#
# Sets up what it needs: the release CLI (cargo), and olareg and oras from tests/oci/build.sh
# (cached in MODELSIGN_PEER_CACHE/oci, default ~/.cache/modelsign-peers/oci, as
# scripts/test.sh keeps them). Creates a ModelPack-style artifact of SIZE_GIB GiB in LAYERS
# (default 4) files of random bytes in BENCH_DIR (default .cache/bench-oci; kept between runs,
# and about 3 x SIZE_GIB of disk while it runs), starts its own olareg with a directory store
# on a free loopback port, pushes the artifact with `oras push`, and then times, one after
# the other:
#   (a) modelsign sign key oci://... --attach       (signature stored as a referrer)
#   (b) modelsign verify key oci://...              (signature read from the registry)
#   (c) oras pull of the artifact into a new folder  (the baseline: what getting the bytes costs)
#   (d) oras pull, then modelsign sign key FOLDER   (what signing a model in a registry took
#                                                    before: pull it, sign the files)
# and, for reference, modelsign sign key FOLDER on the pushed files with them all in the page
# cache (the pulled files of (d) may no longer all be there when it signs them).
# Each step's bytes are read from the loopback interface's counters (/proc/net/dev); olareg's
# trace log gives every request the step made, with its body sizes (kept in BENCH_DIR/last-run/
# with the steps timed and each command's output).
#
# Loopback counters: a packet on `lo` is counted once in rx_bytes and once in tx_bytes, so the
# rx_bytes difference is every byte the step put on loopback, both directions (requests and
# responses, with their HTTP, TCP and IP headers and the ACKs). So that the registry is the only
# traffic on it, the measurements run in a network namespace of their own (unshare --net) when
# that is allowed (root, or unprivileged user namespaces); otherwise on the machine's own `lo`,
# which other programs may share, and the output says so.
#
# MODELSIGN=PATH times another modelsign binary (e.g. target/debug/modelsign) instead of
# building the release one.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

# ---- Inside the network namespace: the measurements ----
if [[ "${1:-}" == --measure ]]; then
    shift
    : "${BENCH_OCI_TOOLS:?}" "${BENCH_OCI_MODELSIGN:?}" "${BENCH_OCI_WORK:?}" "${BENCH_OCI_OUT:?}"
    tools="$BENCH_OCI_TOOLS"
    modelsign="$BENCH_OCI_MODELSIGN"
    work="$BENCH_OCI_WORK"
    out="$BENCH_OCI_OUT"
    if [[ "${BENCH_OCI_NETNS:-}" == 1 ]]; then
        ip link set lo up
    fi

    lo_bytes() { awk '$1 == "lo:" { print $2 }' /proc/net/dev; }
    log_lines() { wc -l < "$out/olareg.log"; }

    # Garbage collection off; trace level logs every request with its headers.
    rm -rf "$work/registry" "$work"/pull-*
    mkdir -p "$work/registry"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    registry="127.0.0.1:$port"
    "$tools/olareg" serve --store-type dir --dir "$work/registry" --addr 127.0.0.1 \
        --port "$port" --gc-frequency -1s -v trace > "$out/olareg.log" 2>&1 &
    olareg_pid=$!
    trap 'kill "$olareg_pid" 2>/dev/null || true; wait "$olareg_pid" 2>/dev/null || true; rm -rf "$work/registry" "$work"/pull-*' EXIT
    for ((i = 0; ; i++)); do
        if curl --silent --fail --noproxy '*' --max-time 2 --output /dev/null "http://$registry/v2/"; then
            break
        fi
        if ! kill -0 "$olareg_pid" 2>/dev/null || ((i >= 100)); then
            cat "$out/olareg.log" >&2
            echo "bench/oci/run.sh: olareg did not answer on $registry" >&2
            exit 1
        fi
        sleep 0.2
    done
    ref="$registry/bench/model:v1"

    # step NAME COMMAND...: runs COMMAND, appends NAME, seconds, loopback bytes and the range
    # of olareg's log lines it caused to steps.tsv.
    step() {
        local name="$1" t0 t1 b0 b1 l0 l1
        shift
        sync # the previous step's writes (a pull's gigabytes) reach the disk before this one starts
        sleep 0.3 # the previous step's last log lines
        l0="$(log_lines)"
        b0="$(lo_bytes)"
        t0="$EPOCHREALTIME"
        "$@" > "$out/$name.out" 2>&1 || { cat "$out/$name.out" >&2; echo "bench/oci/run.sh: step $name failed" >&2; exit 1; }
        t1="$EPOCHREALTIME"
        b1="$(lo_bytes)"
        sleep 0.3 # olareg logs a request after answering it
        l1="$(log_lines)"
        printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(python3 -c "print($t1 - $t0)")" \
            "$((b1 - b0))" "$l0" "$l1" >> "$out/steps.tsv"
        echo "  $name: $(python3 -c "print(round($t1 - $t0, 3))") s, $((b1 - b0)) bytes on lo" >&2
    }
    : > "$out/steps.tsv"

    layers=()
    for f in "$work/model"/*; do
        layers+=("$(basename "$f"):application/vnd.cncf.model.weight.v1.raw")
    done
    echo "pushing the artifact to $ref" >&2
    (cd "$work/model" && step push "$tools/oras" push "$ref" --plain-http \
        --artifact-type application/vnd.cncf.model.manifest.v1+json "${layers[@]}")
    curl --silent --fail --noproxy '*' -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "http://$registry/v2/bench/model/manifests/v1" > "$out/manifest.json"

    echo "measuring" >&2
    step sign "$modelsign" sign key "oci://$ref" --private-key "$out/key.pem" --attach \
        --insecure-registry "$registry"
    step verify "$modelsign" verify key "oci://$ref" --public-key "$out/pub.pem" \
        --insecure-registry "$registry"
    step pull "$tools/oras" pull "$ref" --plain-http -o "$work/pull-c"
    rm -rf "$work/pull-c"
    step pull_then_sign_pull "$tools/oras" pull "$ref" --plain-http -o "$work/pull-d"
    # How much of the pulled files the page cache still holds when signing starts: signing
    # reads what is not from the disk, which the time shows.
    if command -v fincore >/dev/null; then
        fincore --bytes --noheadings --output RES,SIZE "$work/pull-d"/* \
            | awk '{ res += $1; size += $2 } END { printf "%.0f\t%.0f\n", res, size }' > "$out/pulled-cached.tsv"
    fi
    step pull_then_sign_sign "$modelsign" sign key "$work/pull-d" --private-key "$out/key.pem" \
        --signature "$out/pulled.sig"
    rm -rf "$work/pull-d"
    # For reference: signing the same files with all of them in the page cache.
    cat "$work/model"/* > /dev/null
    step sign_cached_folder "$modelsign" sign key "$work/model" --ignore-paths .size \
        --private-key "$out/key.pem" --signature "$out/cached.sig"
    exit 0
fi

# ---- Setup, outside the namespace ----
write_results=1
for arg in "$@"; do
    case "$arg" in
        --no-results) write_results=0 ;;
        *) echo "usage: bash bench/oci/run.sh [--no-results]" >&2; exit 2 ;;
    esac
done
size_gib="${SIZE_GIB:-4}"
layer_count="${LAYERS:-4}"
work="${BENCH_DIR:-$repo/.cache/bench-oci}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

if [[ -n "${MODELSIGN:-}" ]]; then
    modelsign="$(cd "$(dirname "$MODELSIGN")" && pwd)/$(basename "$MODELSIGN")"
else
    cargo build --release --quiet -p modelsign-cli
    modelsign="$repo/target/release/modelsign"
fi
peer_cache="${MODELSIGN_PEER_CACHE:-$HOME/.cache/modelsign-peers}"
tools="$(bash "$repo/tests/oci/build.sh" "$peer_cache/oci" | tail -n 1)"
for tool in olareg oras; do
    [[ -x "$tools/$tool" ]] || { echo "bench/oci/run.sh: no $tool in $tools" >&2; exit 1; }
done

# The artifact: layer_count files of random bytes (incompressible, not sparse), SIZE_GIB GiB
# in all, kept for the next run when the size matches.
model="$work/model"
layer_bytes="$(python3 -c "print(int($size_gib * 2**30) // $layer_count)")"
stamp="$model/.size"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$layer_count x $layer_bytes" ]]; then
    echo "creating the artifact: $layer_count layers of $layer_bytes bytes in $model" >&2
    rm -rf "$model"
    mkdir -p "$model"
    for ((i = 0; i < layer_count; i++)); do
        openssl rand "$layer_bytes" > "$model/model-$(printf '%05d' $((i + 1)))-of-$(printf '%05d' "$layer_count").safetensors"
    done
    # Outside the model folder: oras pushes every file given, so the stamp is not one of them.
    echo "$layer_count x $layer_bytes" > "$work/.model-size"
    mv "$work/.model-size" "$stamp"
fi

# This run's key, olareg's log, the steps timed and each command's output; kept until the next run.
out="$work/last-run"
rm -rf "$out"
mkdir -p "$out"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/key.pem" 2>/dev/null
openssl pkey -in "$out/key.pem" -pubout -out "$out/pub.pem"

export BENCH_OCI_TOOLS="$tools" BENCH_OCI_MODELSIGN="$modelsign" BENCH_OCI_WORK="$work" BENCH_OCI_OUT="$out"
netns="own network namespace (unshare --net): only this benchmark's traffic on lo"
if unshare --net true 2>/dev/null && command -v ip >/dev/null; then
    BENCH_OCI_NETNS=1 unshare --net bash "$0" --measure
elif unshare --user --map-root-user --net true 2>/dev/null && command -v ip >/dev/null; then
    BENCH_OCI_NETNS=1 unshare --user --map-root-user --net bash "$0" --measure
else
    netns="the machine's own lo (no network namespace allowed here): other programs' loopback traffic counts too"
    echo "bench/oci/run.sh: warning: measuring on $netns" >&2
    bash "$0" --measure
fi

report="$out/report.md"
python3 "$repo/bench/oci/report.py" --steps "$out/steps.tsv" --log "$out/olareg.log" \
    --manifest "$out/manifest.json" --model "$model" --netns "$netns" \
    --pulled-cached "$out/pulled-cached.tsv" | tee "$report"

if ((write_results)); then
    results="$repo/bench/oci/RESULTS.md"
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    memory="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    case "$modelsign" in
        */release/*) build="release build" ;;
        */debug/*) build="debug build (unoptimised)" ;;
        *) build="binary $modelsign" ;;
    esac
    {
        printf '# OCI registry benchmark (issue 18): signing from the manifest against pulling\n\n'
        printf 'Machine: %s, %s cores, %s RAM, Linux %s; load average %s (1, 5, 15 min) at the end of the run. ' \
            "$cpu" "$(nproc)" "$memory" "$(uname -r)" "$load"
        printf 'Measured %s with `bash bench/oci/run.sh` (SIZE_GIB=%s, LAYERS=%s): modelsign %s (%s), oras %s, olareg %s (directory store), all on 127.0.0.1.\n\n' \
            "$(date -u '+%F %H:%M UTC')" "$size_gib" "$layer_count" \
            "$("$modelsign" --version | awk '{print $NF}')" "$build" \
            "$("$tools/oras" version | awk '/^Version:/ {print $2}')" \
            "$("$tools/olareg" version | awk '/^VCSTag:/ {print $2}')"
        printf '%s\n\n' "What runs, and how bytes are counted: the comment at the top of bench/oci/run.sh. One run, each step once; olareg's trace log, the steps' times and each command's output stay in BENCH_DIR/last-run/ (default .cache/bench-oci/last-run/) until the next run."
        cat "$report"
    } > "$results.new"
    mv "$results.new" "$results"
    echo "wrote $results" >&2
fi
