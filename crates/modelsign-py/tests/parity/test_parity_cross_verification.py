"""Signatures made by one implementation verify with the other, both ways, for every signing
method, serialization and hash this suite covers; and the other implementation still
refuses what it must refuse. Pairs of one implementation with itself run too: they are the
baseline that runs against model_signing alone."""

from __future__ import annotations

import itertools

import pytest

from parity_support import (
    IMPLEMENTATIONS,
    SIGNING_METHODS,
    SMALL_SHARD,
    load_implementation,
    mismatch_categories,
)

PAIRS = list(itertools.product(IMPLEMENTATIONS, repeat=2))
PAIR_IDS = [f"{signer}-signs-{verifier}-verifies" for signer, verifier in PAIRS]

SERIALIZATIONS = {
    "files": lambda config, algorithm: config.use_file_serialization(hashing_algorithm=algorithm),
    "shards": lambda config, algorithm: config.use_shard_serialization(
        hashing_algorithm=algorithm, shard_size=SMALL_SHARD
    ),
}


@pytest.fixture(params=PAIRS, ids=PAIR_IDS)
def signer_and_verifier(request):
    signer, verifier = request.param
    return load_implementation(signer), load_implementation(verifier)


def sign(impl, method, signing_methods, model, signature, hashing_config=None):
    configure_signer, _ = signing_methods[method]
    config = configure_signer(impl.signing.Config())
    if hashing_config is not None:
        config.set_hashing_config(hashing_config)
    config.sign(model, signature)


def verifier_config(impl, method, signing_methods):
    _, configure_verifier = signing_methods[method]
    return configure_verifier(impl.verifying.Config())


@pytest.mark.parametrize("method", SIGNING_METHODS)
@pytest.mark.parametrize("serialization", sorted(SERIALIZATIONS))
@pytest.mark.parametrize("algorithm", ["sha256", "blake2"])
def test_signature_verifies_with_the_other_implementation_given_the_hashing_config(
    signer_and_verifier, method, serialization, algorithm, signing_methods, model_dir, tmp_path
):
    signer, verifier = signer_and_verifier
    signature = tmp_path / "model.sig"
    sign(signer, method, signing_methods, model_dir, signature,
         SERIALIZATIONS[serialization](signer.hashing.Config(), algorithm))
    config = verifier_config(verifier, method, signing_methods).set_hashing_config(
        SERIALIZATIONS[serialization](verifier.hashing.Config(), algorithm)
    )

    assert config.verify(model_dir, signature) is None


@pytest.mark.parametrize("method", SIGNING_METHODS)
@pytest.mark.parametrize("serialization", sorted(SERIALIZATIONS))
def test_a_single_file_model_verifies_with_the_other_implementation(
    signer_and_verifier, method, serialization, signing_methods, tmp_path
):
    # model_signing names the one resource of a single-file model ".", and verifies no
    # other name.
    signer, verifier = signer_and_verifier
    model = tmp_path / "weights.bin"
    model.write_bytes(b"single-file weights" * 20)
    signature = tmp_path / "model.sig"
    sign(signer, method, signing_methods, model, signature,
         SERIALIZATIONS[serialization](signer.hashing.Config(), "sha256"))
    config = verifier_config(verifier, method, signing_methods).set_hashing_config(
        SERIALIZATIONS[serialization](verifier.hashing.Config(), "sha256")
    )

    assert config.verify(model, signature) is None


@pytest.mark.parametrize("method", SIGNING_METHODS)
def test_default_signature_verifies_with_the_other_implementation_guessing_the_hashing(
    signer_and_verifier, method, signing_methods, model_dir, tmp_path
):
    # Without a hashing config the verifier reads it from the signature. model_signing
    # 1.1.1 can only do that for file serialization with sha256 (see test_parity_upstream_bugs.py).
    signer, verifier = signer_and_verifier
    signature = tmp_path / "model.sig"
    sign(signer, method, signing_methods, model_dir, signature)

    assert verifier_config(verifier, method, signing_methods).verify(model_dir, signature) is None


@pytest.mark.parametrize("method", SIGNING_METHODS)
def test_the_other_implementation_refuses_a_changed_file(
    signer_and_verifier, method, signing_methods, model_dir, tmp_path
):
    signer, verifier = signer_and_verifier
    signature = tmp_path / "model.sig"
    sign(signer, method, signing_methods, model_dir, signature)
    (model_dir / "d" / "b.txt").write_bytes(b"changed after signing\n")

    with pytest.raises(ValueError) as raised:
        verifier_config(verifier, method, signing_methods).verify(model_dir, signature)

    assert mismatch_categories(raised.value) == {"Hash mismatch for"}
    assert "d/b.txt" in str(raised.value)


def test_the_other_implementation_refuses_a_key_signature_checked_with_another_key(
    signer_and_verifier, signing_methods, other_key_pair, model_dir, tmp_path
):
    # The signature names its key by a hash of the public key; a verifier given another
    # key must say so rather than fail on the signature bytes.
    signer, verifier = signer_and_verifier
    signature = tmp_path / "model.sig"
    sign(signer, "key", signing_methods, model_dir, signature)
    config = verifier.verifying.Config().use_elliptic_key_verifier(
        public_key=other_key_pair.public_key
    )

    with pytest.raises(ValueError, match="^Key mismatch"):
        config.verify(model_dir, signature)
