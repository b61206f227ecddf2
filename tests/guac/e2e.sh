#!/usr/bin/env bash
# End-to-end check that GUAC, a real peer, reads modelsign's lineage as modelsign does:
#
#   bash tests/guac/e2e.sh GUAC_BIN [MODELSIGN] [WORK]
#
# GUAC_BIN   the folder tests/guac/build.sh printed (guacone, guacgql)
# MODELSIGN  the modelsign binary (default: target/debug/modelsign)
# WORK       a scratch folder to keep for inspection (default: a temporary one, removed)
#
# It records a small pipeline with modelsign (data-prep -> finetune -> quantize on one
# dataset, a second dataset with its own finetune -> quantize branch, both finetunes on one
# base model), verifies each stage's provenance and exports the statements the way
# `modelsign lineage export --guac DIR` is to write them (see README.md beside this file),
# starts guacgql with its in-memory keyvalue backend, ingests the export with
# `guacone collect files`, and asks `guacone query patch` what each dataset and the base
# model reach. Each answer must list exactly the stage outputs built from that start, by
# digest: no fewer (a missed edge) and no more (a package shared by unrelated builds).
#
# Everything GUAC does runs in a network namespace of its own with only a loopback
# interface: guacgql listens on every interface of its namespace (it has no bind-address
# flag), so that is the way to keep it, and whatever guacone might call, on loopback.
# Exits non-zero on the first mismatch; prints "N passed, 0 failed" at the end.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [[ ${MODELSIGN_GUAC_NETNS:-} != 1 ]]; then
    command -v unshare >/dev/null || { echo "e2e.sh: needs unshare (util-linux)" >&2; exit 1; }
    if [[ $(id -u) == 0 ]]; then ns=(unshare --net); else ns=(unshare --map-root-user --net); fi
    exec "${ns[@]}" env MODELSIGN_GUAC_NETNS=1 bash "${BASH_SOURCE[0]}" "$@"
fi
ip link set lo up

guac_bin=${1:?usage: e2e.sh GUAC_BIN [MODELSIGN] [WORK] (GUAC_BIN: what tests/guac/build.sh printed)}
guac_bin=$(cd "$guac_bin" && pwd)
modelsign=${2:-$repo/target/debug/modelsign}
for binary in "$guac_bin/guacone" "$guac_bin/guacgql" "$modelsign"; do
    [[ -x $binary ]] || { echo "e2e.sh: $binary is missing (run tests/guac/build.sh / cargo build)" >&2; exit 1; }
done
keep_work=${3:-}
if [[ -n $keep_work ]]; then
    rm -rf "$keep_work" && mkdir -p "$keep_work"
    work=$(cd "$keep_work" && pwd)
else
    work=$(mktemp -d)
fi
guacgql_pid=
cleanup() {
    if [[ -n $guacgql_pid ]]; then kill "$guacgql_pid" 2>/dev/null || true; wait "$guacgql_pid" 2>/dev/null || true; fi
    [[ -n $keep_work ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
key=$repo/examples/keys/demo-TEST-ONLY.pem
pub=$repo/examples/keys/demo-TEST-ONLY.pub

passed=0
failed=0
check() { # NAME EXPECTED ACTUAL: sorted newline-separated sets
    if [[ $2 == "$3" ]]; then
        passed=$((passed + 1)); echo "ok: $1"
    else
        failed=$((failed + 1))
        echo "FAILED: $1"; echo "  expected: ${2//$'\n'/ }"; echo "  actual:   ${3//$'\n'/ }"
    fi
}

# --- the pipeline --------------------------------------------------------------------------
models=$work/models
mkdir -p "$models"/{raw,corpus,chat-set,base,tuned,q4,branch2/tuned,branch2/q4}
for folder in raw corpus chat-set base tuned q4 branch2/tuned branch2/q4; do
    echo "content of $folder" > "$models/$folder/data.bin"
done
record() { # STAGE OUTPUT [ARGS...]: one stage, provenance beside OUTPUT
    local stage=$1 output=$2; shift 2
    (cd "$models" && "$modelsign" provenance record key -q --stage "$stage" --output "$output" \
        --private-key "$key" --started 2026-12-01T10:00:00Z --finished 2026-12-01T11:00:00Z "$@")
}
digest_of() { "$modelsign" digest "$models/$1" | sed 's/^sha256://'; }

base=$(digest_of base)
record data-prep ./corpus=pkg:huggingface/acme/corpus@v1 --input dataset=./raw
record finetune ./tuned=pkg:huggingface/acme/tuned-7b@v1 \
    --input "base-model=pkg:huggingface/acme/base-7b@main#sha256=$base" --input dataset=./corpus \
    --input code=git+https://github.com/acme/train@0123456789abcdef0123456789abcdef01234567
record quantize ./q4 --input base-model=./tuned --param bits=4
record finetune ./branch2/tuned \
    --input "base-model=pkg:huggingface/acme/base-7b@main#sha256=$base" \
    --input dataset=pkg:huggingface/acme/chat-set@v2#path=./chat-set
# Named like the first branch's q4 on purpose: without a purl of its own, GUAC would give
# both the same package (pkg:guac/generic/q4) and join the two branches through it.
record quantize ./branch2/q4 --input base-model=./branch2/tuned --param bits=4
# tuned's model card names the dataset it was trained on.
"$modelsign" card init -q "$models/tuned" -o "$work/card.yaml"
printf 'datasets:\n- name: corpus\n  url: pkg:huggingface/acme/corpus@v1\n  digest: sha256:%s\n' \
    "$(digest_of corpus)" >> "$work/card.yaml"
"$modelsign" card sign key -q "$models/tuned" --card "$work/card.yaml" --private-key "$key" \
    --signature "$work/model-card.sig"

# --- the export -------------------------------------------------------------------------------
# Every bundle is verified into modelsign's lineage store under a policy trusting the demo
# key, and `lineage export --guac` writes what GUAC ingests (README.md beside this file).
printf '[[signer]]\nname = "demo"\nkey = "%s"\n' "$pub" > "$work/trust.toml"
store=$work/lineage.db
"$modelsign" lineage ingest -q --policy "$work/trust.toml" --db "$store" "$models" "$work/model-card.sig"
export_dir=$work/export
"$modelsign" lineage export -q --guac "$export_dir" --db "$store"

# --- GUAC ----------------------------------------------------------------------------------
# guac.yaml is read from $HOME and the working directory, GUAC_* variables override flags:
# run both programs with neither.
guac_home=$work/guac-home
mkdir -p "$guac_home"
guac() { (cd "$guac_home" && exec env -i PATH=/usr/bin:/bin HOME="$guac_home" "$@"); }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
gql=http://127.0.0.1:$port/query
# Not through guac(): a function run with & is a subshell of its own, and $! would be that.
(cd "$guac_home" && exec env -i PATH=/usr/bin:/bin HOME="$guac_home" "$guac_bin/guacgql" \
    --gql-backend keyvalue --kv-store memmap --gql-listen-port "$port") > "$work/guacgql.log" 2>&1 &
guacgql_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$guacgql_pid" 2>/dev/null || { cat "$work/guacgql.log" >&2; echo "e2e.sh: guacgql exited" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "e2e.sh: guacgql did not come up" >&2; exit 1; }

# guacone exits 0 even when documents fail to ingest: read its summary line instead.
guac "$guac_bin/guacone" collect files "$export_dir" --gql-addr "$gql" > "$work/collect.log" 2>&1
documents=$(find "$export_dir" -type f | wc -l)
check "guacone ingested all $documents documents" \
    "completed ingesting $documents documents of $documents" \
    "$(grep -o 'completed ingest[^"]*' "$work/collect.log" || echo "no summary in $work/collect.log")"

# query patch counts levels from the start package: its version node, then one artifact per
# stage (and the outputs' packages one level further). Depth 0 stops at once (it does not
# mean "no limit" as its help says), so the depth is given: enough for this pipeline.
search_depth=10
reached() { # START_PURL [DEPTH]: the digests of every artifact query patch lists, sorted
    local out
    out=$work/patch-$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)-${2:-$search_depth}.txt
    guac "$guac_bin/guacone" query patch --gql-addr "$gql" --start-purl "$1" \
        --is-pkg-version-start --search-depth "${2:-$search_depth}" > "$out" 2>&1
    # A provenance digest is algorithm sha256; a BOM's hash, SHA-256, becomes sha-256.
    grep -oE 'artifact: algorithm-sha-?256 \| digest:[0-9a-f]+' "$out" | sed 's/.*digest://' | sort -u
}
set_of() { for folder in "$@"; do digest_of "$folder"; done | sort -u; }
# What modelsign's own impact analysis lists from FOLDER, with FOLDER itself (query patch
# lists its start too).
impact_of() {
    { digest_of "$1"
      "$modelsign" lineage impact "$models/$1" --db "$store" --json |
          jq -r '.levels[][].artifact.key' | sed 's/^sha256://'; } | sort -u
}

for start in corpus:pkg:huggingface/acme/corpus@v1 chat-set:pkg:huggingface/acme/chat-set@v2 \
    base:pkg:huggingface/acme/base-7b@main "raw:pkg:generic/raw?checksum=sha256:$(digest_of raw)"; do
    folder=${start%%:*} purl=${start#*:}
    check "query patch from $folder lists exactly what lineage impact lists" \
        "$(impact_of "$folder")" "$(reached "$purl")"
done
check "query patch from the corpus dataset lists it and the models built from it" \
    "$(set_of corpus tuned q4)" "$(reached pkg:huggingface/acme/corpus@v1)"
check "query patch from the second dataset lists only its own branch" \
    "$(set_of chat-set branch2/tuned branch2/q4)" "$(reached pkg:huggingface/acme/chat-set@v2)"
check "query patch with --search-depth 0 lists nothing (GUAC v1.1.0 stops at once)" \
    "" "$(reached pkg:huggingface/acme/corpus@v1 0)"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
