"""verifying.Config.set_hashing_config and guessing the hashing from the signature."""

from __future__ import annotations

import pytest

from parity_support import SMALL_SHARD, mismatch_categories


def shard_config(impl):
    return impl.hashing.Config().use_shard_serialization(shard_size=SMALL_SHARD)


def test_a_shard_signed_model_verifies_given_the_shard_config(
    ms, key_signed, key_verifier, model_dir
):
    signature = key_signed(ms, model_dir, shard_config(ms))
    verifier = key_verifier(ms)

    assert verifier.set_hashing_config(shard_config(ms)) is verifier
    assert verifier.verify(model_dir, signature) is None


def test_a_given_hashing_config_is_used_instead_of_the_signatures(
    ms, key_signed, key_verifier, model_dir
):
    # File serialization against shard-signed resources: every shard is missing and every
    # file extra, which shows the verifier hashed as told rather than as signed.
    signature = key_signed(ms, model_dir, shard_config(ms))
    verifier = key_verifier(ms).set_hashing_config(ms.hashing.Config())

    with pytest.raises(ValueError) as raised:
        verifier.verify(model_dir, signature)

    assert mismatch_categories(raised.value) == {
        "Missing files in model",
        "Extra files found in model",
    }


def test_a_shard_signed_model_refuses_a_changed_shard(ms, key_signed, key_verifier, model_dir):
    signature = key_signed(ms, model_dir, shard_config(ms))
    content = bytearray((model_dir / "a.bin").read_bytes())
    content[1020] ^= 0xFF  # in the last shard, 1000:1050
    (model_dir / "a.bin").write_bytes(bytes(content))

    with pytest.raises(ValueError) as raised:
        key_verifier(ms).set_hashing_config(shard_config(ms)).verify(model_dir, signature)

    assert mismatch_categories(raised.value) == {"Hash mismatch for"}
    assert "a.bin:1000:1050" in str(raised.value)


def test_guessing_verifies_a_default_signature_made_by_model_signing(
    ms, reference, key_signed, key_verifier, model_dir
):
    signature = key_signed(reference, model_dir)

    assert key_verifier(ms).verify(model_dir, signature) is None


def test_paths_ignored_at_signing_stay_ignored_when_guessing(
    ms, reference, key_signed, key_verifier, model_dir
):
    ignoring_readme = reference.hashing.Config().set_ignored_paths(paths=["README.md"])
    signature = key_signed(reference, model_dir, ignoring_readme)
    (model_dir / "README.md").write_bytes(b"rewritten after signing\n")

    assert key_verifier(ms).verify(model_dir, signature) is None


def test_paths_ignored_at_signing_stay_ignored_with_a_given_config(
    ms, reference, key_signed, key_verifier, model_dir
):
    ignoring_readme = reference.hashing.Config().set_ignored_paths(paths=["README.md"])
    signature = key_signed(reference, model_dir, ignoring_readme)
    (model_dir / "README.md").write_bytes(b"rewritten after signing\n")
    verifier = key_verifier(ms).set_hashing_config(ms.hashing.Config())

    assert verifier.verify(model_dir, signature) is None
