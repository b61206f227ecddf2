#!/usr/bin/env bash
# Builds the OCI registry peers of the OCI tests (issue 18: models in OCI registries) at
# pinned releases, into the cache folder CACHE:
#
#   bash tests/oci/build.sh CACHE        # e.g. .cache/oci (ignored by git)
#   CACHE/ggcr-v0.22.1_oras-v1.3.6_olareg-v0.1.2_distribution-v3.1.0/
#   {olareg,registry,crane,oras,distribution-registry}; prints that folder on stdout
#
# olareg: an OCI 1.1 registry (in memory with --store-type mem) that serves the referrers
# API as the distribution spec asks (OCI-Subject on a manifest PUT with a subject, each
# referrer's artifactType, ?artifactType= filtering). registry: go-containerregistry's
# in-memory registry (cmd/registry), which serves no referrers API at all, so clients must
# fall back to the sha256-<hex> tag. crane: go-containerregistry's client, which prints raw
# manifests and digests (cmd/crane). oras: the ORAS CLI, which pushes artifacts and
# attaches and discovers referrers (cmd/oras). distribution-registry: the CNCF Distribution
# registry (cmd/registry of github.com/distribution/distribution/v3, what Docker Hub and
# many private registries run), the one peer that asks for credentials: the tests run it
# with htpasswd (Basic) authentication over TLS.
#
# Skips the build when CACHE/<id>/ is already complete, so CI pays for it once per machine.
# The build takes the projects and their dependencies from the Go module proxy with the
# `go` on PATH, no clone: each project's go.sum pins every dependency. Fails, never skips,
# when Go is missing or the build breaks: an OCI test that quietly does not run proves
# nothing. On this 2-core machine the first four took 55 s (51 s CPU, 300 MB peak memory)
# from an empty Go module and build cache, with a cargo build beside it, downloading
# 157 MB of modules (197 MB left in the build cache; 16 s warm). distribution's registry
# adds about 100 s from a cold cache (126 s for all five with the other three warm, two
# cargo builds beside it: 82 s CPU); the five binaries are 95 MB, 55 MB of it
# distribution's (its storage drivers: S3, Azure, GCS). A cached run takes no time.
set -euo pipefail

GGCR_MODULE=github.com/google/go-containerregistry
GGCR_VERSION=v0.22.1
ORAS_MODULE=oras.land/oras
ORAS_VERSION=v1.3.6
# go-containerregistry's cmd/registry leaves its referrers API off (pkg/registry has it
# behind WithReferrersSupport, and even then it reports config.mediaType as every
# referrer's artifactType and ignores ?artifactType=); olareg v0.1.2 (2025-02-11) does what
# the spec asks.
OLAREG_MODULE=github.com/olareg/olareg
OLAREG_VERSION=v0.1.2
# distribution v3.1.0 (2025): the registry with authentication (htpasswd, token). Its
# binary is also called `registry`, so it is renamed.
DISTRIBUTION_MODULE=github.com/distribution/distribution/v3
DISTRIBUTION_VERSION=v3.1.0
ID=ggcr-${GGCR_VERSION}_oras-${ORAS_VERSION}_olareg-${OLAREG_VERSION}_distribution-${DISTRIBUTION_VERSION}
BINARIES=(olareg registry crane oras distribution-registry)

cache=${1:?usage: build.sh CACHE (the folder that keeps the built OCI peers, e.g. .cache/oci)}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest=$cache/$ID
stamp=$dest/.complete

complete() {
    local binary
    [[ -f $stamp ]] || return 1
    for binary in "${BINARIES[@]}"; do
        [[ -x $dest/$binary ]] || return 1
    done
}
if complete; then
    echo "$dest"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: Go is not on PATH; the OCI tests need it to build olareg ($OLAREG_VERSION)," \
        "registry and crane ($GGCR_MODULE $GGCR_VERSION), oras ($ORAS_VERSION) and distribution's" \
        "registry ($DISTRIBUTION_VERSION)" \
        "(install Go 1.26.7 or newer, or put its bin folder on PATH)" >&2
    exit 1
fi

# Build into a scratch folder and move it into place only when every binary exists, so an
# interrupted build is never mistaken for a cached one.
scratch=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
started=$(date +%s)
echo "build.sh: building olareg ($OLAREG_VERSION), registry and crane ($GGCR_VERSION), oras" \
    "($ORAS_VERSION) and distribution's registry ($DISTRIBUTION_VERSION) with $(go version)" >&2
fail() { echo "build.sh: building the OCI peers ($ID) failed: $1" >&2; exit 1; }
# GOTOOLCHAIN=local: build with the Go that is here instead of downloading the one go.mod
# names (oras v1.3.6 asks for go 1.26.7). CGO off and -trimpath: binaries that do not depend
# on this machine's C toolchain or paths.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

# build MODULE VERSION LDFLAGS PACKAGE...: builds the packages of MODULE@VERSION into the
# scratch folder (into the file BUILD_OUT instead, when set, for a single package).
# `go install MODULE/cmd/X@VERSION` would be the one-liner, but it asks the proxy for the
# module's version list, which the proxy here refuses while it serves the version itself.
# So build inside a throwaway module that requires MODULE at VERSION and carries MODULE's
# own go.sum, and check that every module the packages are built from is at the version
# MODULE's go.mod requires: the dependencies MODULE's release was tested with, each
# checked against its recorded hash. One wrapper per project: one requiring them all
# would raise shared dependencies to the highest of their versions (golang.org/x/sync is
# v0.22.0 in go-containerregistry, v0.24.0 in oras).
build() {
    local module=$1 version=$2 ldflags=$3 wrapper info src required used unpinned
    shift 3
    wrapper=$scratch/wrapper-${module##*/}
    mkdir -p "$wrapper"
    printf 'module modelsign.invalid/oci-build\n\ngo 1.25.0\n' > "$wrapper/go.mod"
    # On failure `go mod download -json` prints its reason as the JSON's "Error".
    info=$(cd "$wrapper" && go mod download -json "$module@$version") ||
        fail "go mod download $module@$version: $(sed -n 's/^\t"Error": //p' <<<"$info")"
    src=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")
    [[ -n $src && -f $src/go.sum ]] || fail "go mod download $module@$version gave no source folder"
    cp "$src/go.sum" "$wrapper/go.sum" && chmod u+w "$wrapper/go.sum"
    (cd "$wrapper" && go get "$module@$version" >&2) || fail "go get $module@$version"
    required=$( (go mod edit -json "$src/go.mod" |
        awk '/"Require"/ {r = 1} r && /"Path":/ {p = $2} r && /"Version":/ {print p, $2}' | tr -d '",';
        echo "$module $version") | LC_ALL=C sort) || fail "go mod edit -json $src/go.mod"
    # The modules the packages are compiled from, each of which must be at the version
    # MODULE's go.mod requires. (The whole module graph may hold more: distribution's
    # holds modules that only its dependencies' go.mod files name, e.g. blackfriday
    # through cobra, which no package of it imports.)
    used=$(cd "$wrapper" && go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}' "$@" |
        LC_ALL=C sort -u) || fail "go list -deps $* in the wrapper module"
    unpinned=$(LC_ALL=C comm -23 <(echo "$used") <(echo "$required"))
    [[ -z $unpinned ]] ||
        fail "these modules of the build are not at the versions $module's go.mod requires: $(head -5 <<<"$unpinned")"
    (cd "$wrapper" && go build -trimpath -ldflags "-s -w $ldflags" -o "${BUILD_OUT:-$scratch/}" "$@" >&2) ||
        fail "go build $* (see the go output above)"
    rm -rf "$wrapper"
}

build "$GGCR_MODULE" "$GGCR_VERSION" "-X $GGCR_MODULE/cmd/crane/cmd.Version=$GGCR_VERSION" \
    "$GGCR_MODULE/cmd/registry" "$GGCR_MODULE/cmd/crane"
build "$ORAS_MODULE" "$ORAS_VERSION" "" "$ORAS_MODULE/cmd/oras"
build "$OLAREG_MODULE" "$OLAREG_VERSION" "-X $OLAREG_MODULE/internal/version.vcsTag=$OLAREG_VERSION" \
    "$OLAREG_MODULE/cmd/olareg"
# Its cmd/registry would overwrite go-containerregistry's `registry`: built under its own name.
BUILD_OUT=$scratch/distribution-registry build "$DISTRIBUTION_MODULE" "$DISTRIBUTION_VERSION" \
    "-X $DISTRIBUTION_MODULE/version.version=$DISTRIBUTION_VERSION" "$DISTRIBUTION_MODULE/cmd/registry"
for binary in "${BINARIES[@]}"; do
    [[ -x $scratch/$binary ]] || fail "go build left no $binary"
done
echo "$ID built in $(($(date +%s) - started)) s by $(go version)" > "$scratch/.complete"
chmod 755 "$scratch"
rm -rf "$dest"
mv "$scratch" "$dest"
trap - EXIT
echo "build.sh: the OCI peers ($ID) built in $(($(date +%s) - started)) s into $dest" >&2
echo "$dest"
