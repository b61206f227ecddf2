#!/usr/bin/env bash
# The README's incident-response walkthrough, replayable: builds a small ML pipeline (two
# datasets prepared, a pretrain, a finetune, a quantization, an evaluation and an unrelated
# adapter), records and signs each stage's provenance with TEST-ONLY keys made here, ingests
# it under a trust policy into a store of its own, and asks what a poisoned web crawl
# affects. Nothing touches your own lineage store.
#
#   bash scripts/lineage-demo.sh          # in a temporary folder, removed afterwards
#   bash scripts/lineage-demo.sh DIR      # in DIR (created; must be empty), kept to explore
#
# MODELSIGN names the binary to run (default: a debug build of this checkout).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${MODELSIGN:-}" ]]; then
    (cd "$repo" && cargo build -p modelsign-cli)
    MODELSIGN="$repo/target/debug/modelsign"
fi
if [[ $# -gt 0 ]]; then
    work="$1"
    mkdir -p "$work"
    if [[ -n "$(ls -A "$work")" ]]; then
        echo "lineage-demo: '$work' is not empty" >&2
        exit 2
    fi
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
cd "$work"
modelsign() { "$MODELSIGN" "$@"; }

# A folder standing for a dataset or a model: one file, its content unique to it.
artifact() {
    mkdir -p "pipeline/$1"
    printf '%s\n' "$2" >"pipeline/$1/part-0"
}

# record SIGNER STAGE OUTPUT DAY HOURS:MINUTES INPUT... : the stage ran on day DAY of
# November 2026 from 08:00 for HOURS:MINUTES.
record() {
    local signer=$1 stage=$2 output=$3 day=$4 took=$5
    shift 5
    local hours=${took%%:*} minutes=${took##*:} inputs=()
    for input in "$@"; do
        inputs+=(--input "$input")
    done
    local end_day=$((day + (8 + 10#$hours) / 24)) end_hour=$(((8 + 10#$hours) % 24))
    modelsign provenance record key --private-key "$signer.pem" --stage "$stage" \
        --output "pipeline/$output" "${inputs[@]}" \
        --started "$(printf '2026-11-%02dT08:00:00Z' "$day")" \
        --finished "$(printf '2026-11-%02dT%02d:%02d:00Z' "$end_day" "$end_hour" "$minutes")" \
        --quiet
}

echo "== the pipeline, each stage recorded and signed (keys: TEST-ONLY, made here)"
modelsign key generate --private-key data.pem --quiet
modelsign key generate --private-key train.pem --quiet
artifact web-crawl "pages crawled in October"
artifact instructions "instruction pairs"
artifact eval-set "held-out questions"
artifact crawl-clean "the crawl, deduplicated and filtered"
artifact instr-clean "the instructions, cleaned"
record data data-prep crawl-clean 1 0:40 dataset=pipeline/web-crawl
record data data-prep instr-clean 1 0:25 dataset=pipeline/instructions
artifact base-7b "weights of base-7b"
record train pretrain base-7b 2 60:00 dataset=pipeline/crawl-clean \
    code=git+https://github.com/acme/train@0123456789abcdef0123456789abcdef01234567
artifact chat-7b "weights of chat-7b"
record train finetune chat-7b 5 6:00 base-model=pipeline/base-7b dataset=pipeline/instr-clean
artifact chat-7b-q4 "weights of chat-7b, 4-bit"
record train quantize chat-7b-q4 6 0:20 base-model=pipeline/chat-7b
printf '%s\n' '[{"metric": "accuracy", "value": 0.71, "dataset": "eval-set", "split": "test"}]' \
    >pipeline/eval.json
record train evaluate eval.json 6 0:30 base-model=pipeline/chat-7b-q4 eval-set=pipeline/eval-set
artifact support-lora "a support adapter, trained elsewhere"
record train adapter support-lora 7 2:00 \
    "base-model=pkg:huggingface/acme/support-base#sha256=$(printf 'ab%.0s' {1..32})" \
    dataset=pipeline/instr-clean

cat >trust.toml <<'POLICY'
# Paths are relative to this file.
[[signer]]
name = "data team"
key = "data.pub"
stages = ["data-prep"]          # may sign data preparation only

[[signer]]
name = "training"
key = "train.pub"
kinds = ["provenance"]
POLICY

echo
echo '$ modelsign lineage ingest --policy trust.toml --db lineage.db ./pipeline'
modelsign lineage ingest --policy trust.toml --db lineage.db ./pipeline
echo
echo '$ modelsign lineage impact ./pipeline/web-crawl --db lineage.db'
modelsign lineage impact ./pipeline/web-crawl --db lineage.db
if command -v dot >/dev/null; then
    echo
    echo '$ modelsign lineage graph ./pipeline/web-crawl -o impact.svg --db lineage.db'
    modelsign lineage graph ./pipeline/web-crawl -o impact.svg --db lineage.db
else
    echo "(Graphviz's dot is not installed: no impact.svg; Debian: apt install graphviz)"
fi
if [[ $# -gt 0 ]]; then
    echo
    echo "The pipeline, the policy and the store (lineage.db) are in $work."
fi
