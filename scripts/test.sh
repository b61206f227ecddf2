#!/usr/bin/env bash
# The project's one test command: prepares what the tests need on a fresh Debian 12 machine
# (Rust toolchain, cargo-nextest, Python 3.11 with pip, Node.js with npm assumed present;
# missing Debian packages are installed), then runs every check: formatting, clippy, the
# test suite and the doctests.
#
#   bash scripts/test.sh
#
# Environment:
#   MODELSIGN_VECTORS      shared test vectors (default: <repo>/../shared/vectors)
#   MODELSIGN_PYTHON_VENV  set here to <repo>/.venv, holding model_signing 1.1.1 (interop peer)
#   CI                     when true, tests fail instead of skipping if a peer is missing
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

MODEL_SIGNING_VERSION=1.1.1
CYCLONEDX_LIB_VERSION=11.12.0
# openssl: test keys and certificates; softhsm2 + opensc (pkcs11-tool): the PKCS#11 token
# the HSM tests sign with (tests/pkcs11/make-token.sh); chromium + poppler-utils: the model
# card HTML is rendered headless and read back as text.
APT_PACKAGES=(openssl softhsm2 opensc chromium fonts-dejavu-core poppler-utils)

section() {
    printf '\n==== %s ====\n' "$*"
}

# Installs the given Debian packages that are not installed yet; runs `apt-get update` once,
# and only when something has to be installed.
ensure_apt_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        # `dpkg -s` succeeds for a removed package whose configuration files remain, so
        # ask for the installed state itself.
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        echo "Debian packages present: $*"
        return 0
    fi
    echo "Installing Debian packages: ${missing[*]}"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The Python reference implementation, used by the interop tests.
ensure_model_signing_venv() {
    local venv="$REPO/.venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "Creating Python venv at $venv"
        python3 -m venv "$venv"
    fi
    local have=""
    if [[ -x "$venv/bin/model_signing" ]]; then
        have="$("$venv/bin/model_signing" --version 2>/dev/null || true)"
    fi
    if [[ "$have" == *"version $MODEL_SIGNING_VERSION" ]]; then
        echo "model_signing present: $have"
    else
        echo "Installing model-signing==$MODEL_SIGNING_VERSION into $venv"
        # model_signing imports pyOpenSSL for certificates without declaring it.
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "model-signing==$MODEL_SIGNING_VERSION" pyopenssl
        "$venv/bin/model_signing" --version
    fi
    # The CycloneDX project's Python library ships the official CycloneDX 1.6 JSON schema
    # and a strict validator; the model card tests check every BOM modelsign writes with it.
    if "$venv/bin/python" -c "import cyclonedx.validation.json, jsonschema" 2>/dev/null; then
        echo "cyclonedx-python-lib present"
    else
        echo "Installing cyclonedx-python-lib==$CYCLONEDX_LIB_VERSION into $venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "cyclonedx-python-lib[json-validation]==$CYCLONEDX_LIB_VERSION"
    fi
    export MODELSIGN_PYTHON_VENV="$venv"
}

# The loopback Sigstore stack (tests/sigstore-stack) for keyless signing tests.
ensure_sigstore_stack() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        ensure_apt_packages nodejs npm
    fi
    local stack="$REPO/tests/sigstore-stack"
    if [[ -d "$stack/node_modules/@sigstore/mock" && "$stack/node_modules" -nt "$stack/package-lock.json" ]]; then
        echo "Sigstore test stack present (node $(node --version))"
    else
        echo "Installing the Sigstore test stack (npm ci in $stack)"
        (cd "$stack" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

ensure_vectors() {
    export MODELSIGN_VECTORS="${MODELSIGN_VECTORS:-$REPO/../shared/vectors}"
    if [[ ! -f "$MODELSIGN_VECTORS/README.md" ]]; then
        echo "error: test vectors not found: $MODELSIGN_VECTORS/README.md does not exist." >&2
        echo "Set MODELSIGN_VECTORS to the shared/vectors folder." >&2
        exit 1
    fi
    echo "Test vectors: $MODELSIGN_VECTORS"
}

section "Setup: Debian packages"
ensure_apt_packages "${APT_PACKAGES[@]}"

section "Setup: Python interop peer (model_signing $MODEL_SIGNING_VERSION)"
ensure_model_signing_venv

section "Setup: loopback Sigstore stack (@sigstore/mock)"
ensure_sigstore_stack

section "Setup: test vectors"
ensure_vectors

section "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

section "Lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

if cargo nextest --version >/dev/null 2>&1; then
    section "Tests (cargo nextest)"
    cargo nextest run --workspace
else
    section "Tests (cargo test; cargo-nextest not installed)"
    cargo test --workspace
fi

section "Doctests (cargo test -p modelsign --doc: the only crate with doc examples)"
cargo test -p modelsign --doc

# Every parser of hostile input (bundles, statements, certificate chains, keys, PKCS#11
# URIs, card YAML and policies, the manifest comparison) under libFuzzer for a bounded time
# from the committed seeds; any crash, hang or memory blow-up fails the run. Longer runs:
# `bash scripts/fuzz.sh 600` (seconds per target).
section "Fuzzing (scripts/fuzz.sh, ${FUZZ_SECONDS:-20} s per target)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

section "All checks passed"
