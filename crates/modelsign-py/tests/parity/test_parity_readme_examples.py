"""model_signing's README "Model Signing API" examples, run as written with only the import
line changed, the migration users are promised.

The examples are read at run time from the installed model_signing 1.1.1's package
description (its README), not copied here, so they are exactly upstream's text. The first
and the fourth sign and verify with Sigstore's production instance (an interactive OIDC
flow); they belong to the Sigstore part of the suite and are not run here.
"""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from parity_support import OURS, REFERENCE, load_implementation, write_model

MIGRATION_IMPORT = f"import {OURS} as model_signing"

# Indexes into readme_api_examples(), counting from 0.
ELLIPTIC_KEY_SIGN = 1
SIGN_EACH_MODEL = 2
ELLIPTIC_KEY_VERIFY_EACH_MODEL = 4


def readme_api_examples() -> list[str]:
    load_implementation(REFERENCE)  # the README comes with the reference package
    metadata = importlib.metadata.metadata("model-signing")
    assert metadata["Version"] == "1.1.1", "the examples below are those of model_signing 1.1.1"
    readme = metadata.get_payload() or metadata["Description"]
    section = readme.split("### Model Signing API", 1)[1].split("\n### ", 1)[0]
    examples = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(examples) == 5, f"expected the 5 API examples of 1.1.1, found {len(examples)}"
    return examples


def as_written_for(implementation: str, example: str) -> str:
    """The example with its import line pointed at `implementation`, nothing else changed."""
    assert example.startswith("import model_signing\n"), example
    if implementation == REFERENCE:
        return example
    return example.replace("import model_signing\n", MIGRATION_IMPORT + "\n", 1)


@pytest.fixture(params=[REFERENCE, OURS])
def implementation(request) -> str:
    load_implementation(request.param)
    return request.param


@pytest.fixture
def readme_workdir(tmp_path, monkeypatch, key_pair):
    """A working directory laid out as the examples assume: `key.priv`, `key.pub` and
    model folders `finbert` and `bert` beside them."""
    (tmp_path / "key.priv").write_bytes(key_pair.private_key.read_bytes())
    (tmp_path / "key.pub").write_bytes(key_pair.public_key.read_bytes())
    write_model(tmp_path / "finbert")
    write_model(tmp_path / "bert", {"weights.bin": b"bert weights", "config.json": b"{}"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_example(source: str, **names) -> dict:
    namespace = dict(names)
    exec(compile(source, "<model_signing README example>", "exec"), namespace)
    return namespace


def verify_with_key(impl, model: str, signature: str) -> None:
    impl.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify(
        model, signature
    )


def test_migration_import_exposes_the_four_public_modules(implementation):
    namespace = run_example(as_written_for(implementation, "import model_signing\n"))
    module = namespace["model_signing"]
    for name in ("hashing", "signing", "verifying", "manifest"):
        assert hasattr(module, name), f"{implementation} has no {name} after a plain import"


def test_elliptic_key_sign_example_writes_a_signature_it_and_model_signing_accept(
    implementation, readme_workdir
):
    run_example(as_written_for(implementation, readme_api_examples()[ELLIPTIC_KEY_SIGN]))

    assert (readme_workdir / "finbert.sig").is_file()
    for verifier in {implementation, REFERENCE}:
        verify_with_key(load_implementation(verifier), "finbert", "finbert.sig")


def test_sign_each_model_example_signs_every_model_it_is_given(implementation, readme_workdir):
    all_models = ["finbert", "bert"]

    run_example(
        as_written_for(implementation, readme_api_examples()[SIGN_EACH_MODEL]),
        all_models=all_models,
    )

    for model in all_models:
        for verifier in {implementation, REFERENCE}:
            verify_with_key(load_implementation(verifier), model, f"{model}_sharded.sig")
    # Each signature covers its own model only.
    with pytest.raises(ValueError, match="Signature mismatch"):
        verify_with_key(load_implementation(implementation), "bert", "finbert_sharded.sig")


def test_key_verify_example_fails_as_upstream_with_the_same_attribute_error(
    implementation, readme_workdir
):
    # Upstream's example calls use_elliptic_key_verifier on signing.Config, which has no
    # such method; a drop-in must fail the same way, not quietly accept it.
    for model in ("finbert", "bert"):
        load_implementation(implementation).signing.Config().use_elliptic_key_signer(
            private_key="key.priv"
        ).sign(model, f"{model}_sharded.sig")
    source = as_written_for(implementation, readme_api_examples()[ELLIPTIC_KEY_VERIFY_EACH_MODEL])

    with pytest.raises(AttributeError) as raised:
        run_example(source, all_models=["finbert", "bert"])

    assert str(raised.value) == "'Config' object has no attribute 'use_elliptic_key_verifier'"
