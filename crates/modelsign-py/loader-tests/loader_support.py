"""What the loader tests share besides fixtures: the README's recipes, the `modelsign`
command, byte flips and the loader spy."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
README = REPO / "README.md"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_peer(what: str) -> None:
    """A missing package fails the run in CI (a loader test that does not run proves
    nothing) and skips elsewhere."""
    message = (
        f"{what}. The loader tests run in the loader venv: build it with "
        "`bash crates/modelsign-py/loader-tests/build-venv.sh ~/.cache/modelsign-peers`, "
        "install the wheel into it with `VENV/bin/python -m pip install --force-reinstall "
        "--no-deps modelsign_rs-*.whl`, then run `VENV/bin/python -m pytest "
        "crates/modelsign-py/loader-tests` (scripts/test.sh does all three)"
    )
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


RECIPE = re.compile(r"<!-- loader-recipe: ([a-z-]+) -->\n```([a-z]+)\n(.*?)\n```\n", re.S)


def readme_recipes() -> dict[str, tuple[str, str]]:
    """Recipe name -> (fence language, code), from README.md's `<!-- loader-recipe: NAME -->`
    markers, each right above its fenced block."""
    recipes: dict[str, tuple[str, str]] = {}
    for name, language, code in RECIPE.findall(README.read_text(encoding="utf-8")):
        assert name not in recipes, f"README.md has two loader recipes named {name!r}"
        recipes[name] = (language, code + "\n")
    return recipes


# The folder name and repository id the README's recipes load.
RECIPE_MODEL_DIR = "all-MiniLM-L6-v2"
RECIPE_REPO_ID = "sentence-transformers/all-MiniLM-L6-v2"
# The key file the README's policy names.
RECIPE_POLICY_KEY = "pub.pem"


# ---------------------------------------------------------------------------------------
# Keys and the signed model


def modelsign(*arguments: str | os.PathLike) -> None:
    """The `modelsign` command the wheel installed next to this Python."""
    command = pathlib.Path(sys.executable).parent / "modelsign"
    if not command.exists():
        missing_peer(f"{command} does not exist (the modelsign_rs wheel installs it)")
    subprocess.run([str(command), *map(str, arguments)], check=True, capture_output=True)


def generate_key_pair(folder: pathlib.Path, name: str) -> tuple[pathlib.Path, pathlib.Path]:
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    modelsign("key", "generate", "--private-key", private, "--public-key", public)
    return private, public


def sign(model: pathlib.Path, private_key: pathlib.Path) -> None:
    modelsign("sign", "key", model, "--private-key", private_key,
              "--signature", model / "model.sig")


def copy_model(real_model: pathlib.Path, destination: pathlib.Path) -> pathlib.Path:
    shutil.copytree(real_model, destination)
    return destination


def flip_one_byte(path: pathlib.Path) -> None:
    """Flips the lowest bit of one byte in the middle of the file (inside the weights of a
    safetensors file, past its header), so the file still parses and loads."""
    with open(path, "r+b") as file:
        middle = path.stat().st_size // 2
        file.seek(middle)
        byte = file.read(1)
        file.seek(middle)
        file.write(bytes([byte[0] ^ 0x01]))


class LoaderSpy:
    """Stands in for a loader (a class such as SentenceTransformer, or AutoModel with its
    from_pretrained) and records every call before passing it on to the real one."""

    def __init__(self, real):
        self._real = real
        self.calls: list[str] = []

    def __call__(self, *args, **kwargs):
        self.calls.append(f"{self._real.__name__}(...)")
        return self._real(*args, **kwargs)

    def __getattr__(self, name):
        attribute = getattr(self._real, name)
        if not callable(attribute):
            return attribute

        def recorded(*args, **kwargs):
            self.calls.append(f"{self._real.__name__}.{name}(...)")
            return attribute(*args, **kwargs)

        return recorded


def run_recipe(code: str) -> dict:
    """Runs a README recipe in the current directory; returns its variables."""
    namespace: dict = {"__name__": "__readme_recipe__"}
    exec(compile(code, "README.md recipe", "exec"), namespace)
    return namespace
