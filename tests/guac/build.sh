#!/usr/bin/env bash
# Builds the two GUAC programs the GUAC end-to-end test needs, guacone (collector and query
# CLI) and guacgql (GraphQL server with the in-memory keyvalue backend), at one pinned
# release, into the cache folder CACHE:
#
#   bash tests/guac/build.sh CACHE        # e.g. .cache/guac (ignored by git)
#   CACHE/v1.1.0/guacone, CACHE/v1.1.0/guacgql; prints that folder on stdout
#
# Skips the build when CACHE/<version>/ is already complete, so CI pays for it once per
# machine. The build takes GUAC and its dependencies from the Go module proxy with the `go`
# on PATH, no clone: GUAC's go.sum pins every dependency. Fails, never skips, when Go is missing or the build breaks: a GUAC test that
# quietly does not run proves nothing.
set -euo pipefail

# v1.1.0 is GUAC's latest release (2026-03-13); its go.mod asks for go 1.25.0 and has no
# replace directives, which `go install pkg@version` requires.
GUAC_VERSION=v1.1.0
GUAC_MODULE=github.com/guacsec/guac

cache=${1:?usage: build.sh CACHE (the folder that keeps the built GUAC binaries, e.g. .cache/guac)}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest=$cache/$GUAC_VERSION
stamp=$dest/.complete

if [[ -f $stamp && -x $dest/guacone && -x $dest/guacgql ]]; then
    echo "$dest"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: Go is not on PATH; the GUAC test needs it to build guacone and guacgql" \
        "$GUAC_VERSION (install Go 1.25 or newer, or put its bin folder on PATH)" >&2
    exit 1
fi

# Build into a scratch folder and move it into place only when both binaries exist, so an
# interrupted build is never mistaken for a cached one.
scratch=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
started=$(date +%s)
echo "build.sh: building guacone and guacgql $GUAC_VERSION with $(go version) (a few minutes)" >&2
fail() { echo "build.sh: building GUAC $GUAC_VERSION failed: $1" >&2; exit 1; }
# GOTOOLCHAIN=local: build with the Go that is here instead of downloading the one go.mod
# names. CGO off and -trimpath: binaries that do not depend on this machine's C toolchain or
# paths.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
# `go install MODULE/cmd/X@VERSION` would be the one-liner, but it asks the proxy for the
# module's version list (to warn about deprecation) and the proxy here refuses that list
# while it serves v1.1.0 itself. So build inside a throwaway module that requires GUAC at
# the pinned version and carries GUAC's own go.sum: the same build list as GUAC's go.mod
# (checked below), every dependency checked against GUAC's recorded hashes.
wrapper=$scratch/wrapper
mkdir -p "$wrapper"
printf 'module modelsign.invalid/guac-build\n\ngo 1.25.0\n' > "$wrapper/go.mod"
guac_src=$(cd "$wrapper" && go mod download -json "$GUAC_MODULE@$GUAC_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -n $guac_src && -f $guac_src/go.sum ]] || fail "go mod download $GUAC_MODULE@$GUAC_VERSION gave no source folder"
cp "$guac_src/go.sum" "$wrapper/go.sum" && chmod u+w "$wrapper/go.sum"
(cd "$wrapper" && go get "$GUAC_MODULE@$GUAC_VERSION" >&2) || fail "go get $GUAC_MODULE@$GUAC_VERSION"
selected=$(cd "$wrapper" && go list -m -f '{{if not .Main}}{{.Path}} {{.Version}}{{end}}' all | sort)
required=$( (go mod edit -json "$guac_src/go.mod" |
    awk '/"Require"/ {r = 1} r && /"Path":/ {p = $2} r && /"Version":/ {print p, $2}' | tr -d '",';
    echo "$GUAC_MODULE $GUAC_VERSION") | sort)
[[ $selected == "$required" ]] ||
    fail "the build list differs from GUAC's go.mod: $(diff <(echo "$required") <(echo "$selected") | head -5)"
(cd "$wrapper" && go build -trimpath -ldflags "-s -w -X $GUAC_MODULE/pkg/version.Version=$GUAC_VERSION" \
    -o "$scratch/" "$GUAC_MODULE/cmd/guacone" "$GUAC_MODULE/cmd/guacgql" >&2) || fail "go build (see the go output above)"
rm -rf "$wrapper"
for binary in guacone guacgql; do
    [[ -x $scratch/$binary ]] || { echo "build.sh: go build left no $binary" >&2; exit 1; }
done
echo "$GUAC_VERSION built in $(($(date +%s) - started)) s by $(go version)" > "$scratch/.complete"
chmod 755 "$scratch"
rm -rf "$dest"
mv "$scratch" "$dest"
trap - EXIT
echo "build.sh: GUAC $GUAC_VERSION built in $(($(date +%s) - started)) s into $dest" >&2
echo "$dest"
