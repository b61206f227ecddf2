"""Every way verification fails: the exception type and the category of its message are
model_signing's, so code that catches or inspects them keeps working. Messages are
compared by category, not byte for byte, except where model_signing's is a fixed string."""

from __future__ import annotations

import hashlib
import pathlib

import pytest
from cryptography.exceptions import InvalidSignature

from parity_support import (
    SIGNING_METHODS,
    flip_last_signature_byte,
    mismatch_categories,
    replace_payload_digest,
    rewrite_bundle,
)


@pytest.fixture(params=SIGNING_METHODS)
def signed_model(request, ms, signing_methods, model_dir, tmp_path):
    """(model, signature, verifying config) signed and set up with `ms` and one method."""
    configure_signer, configure_verifier = signing_methods[request.param]
    signature = tmp_path / "model.sig"
    configure_signer(ms.signing.Config()).sign(model_dir, signature)
    return model_dir, signature, configure_verifier(ms.verifying.Config())


def test_an_untouched_model_verifies(signed_model):
    model, signature, verifier = signed_model

    assert verifier.verify(model, signature) is None


def test_a_changed_file_is_a_hash_mismatch(signed_model):
    model, signature, verifier = signed_model
    (model / "a.bin").write_bytes(b"other weights")

    with pytest.raises(ValueError) as raised:
        verifier.verify(model, signature)

    assert mismatch_categories(raised.value) == {"Hash mismatch for"}
    assert "'a.bin'" in str(raised.value)


def test_a_missing_file_is_reported_missing(signed_model):
    model, signature, verifier = signed_model
    (model / "d" / "b.txt").unlink()

    with pytest.raises(ValueError) as raised:
        verifier.verify(model, signature)

    assert mismatch_categories(raised.value) == {"Missing files in model"}
    assert "Missing files in model 'model': d/b.txt" in str(raised.value)


def test_an_extra_file_is_reported_extra(signed_model):
    model, signature, verifier = signed_model
    (model / "new.txt").write_bytes(b"added after signing")

    with pytest.raises(ValueError) as raised:
        verifier.verify(model, signature)

    assert mismatch_categories(raised.value) == {"Extra files found in model"}
    assert "Extra files found in model 'model': new.txt" in str(raised.value)


def test_changed_missing_and_extra_files_are_all_reported_at_once(signed_model):
    model, signature, verifier = signed_model
    (model / "a.bin").write_bytes(b"other weights")
    (model / "d.txt").unlink()
    (model / "new.txt").write_bytes(b"added after signing")

    with pytest.raises(ValueError) as raised:
        verifier.verify(model, signature)

    assert mismatch_categories(raised.value) == {
        "Hash mismatch for",
        "Missing files in model",
        "Extra files found in model",
    }


def test_a_file_ignored_by_git_defaults_may_change(signed_model):
    model, signature, verifier = signed_model
    (model / ".gitignore").write_bytes(b"changed\n")

    assert verifier.verify(model, signature) is None


def test_a_flipped_signature_byte_raises_invalid_signature(signed_model):
    model, signature, verifier = signed_model
    rewrite_bundle(signature, flip_last_signature_byte)

    with pytest.raises(InvalidSignature):
        verifier.verify(model, signature)


def test_a_payload_altered_to_match_a_changed_file_raises_invalid_signature(signed_model):
    model, signature, verifier = signed_model
    forged = b"forged weights"
    (model / "a.bin").write_bytes(forged)
    rewrite_bundle(signature, replace_payload_digest("a.bin", hashlib.sha256(forged).digest()))

    with pytest.raises(InvalidSignature):
        verifier.verify(model, signature)


def test_another_public_key_is_a_key_mismatch(ms, key_signed, other_key_pair, model_dir):
    signature = key_signed(ms, model_dir)
    verifier = ms.verifying.Config().use_elliptic_key_verifier(public_key=other_key_pair.public_key)

    with pytest.raises(ValueError, match="^Key mismatch: "):
        verifier.verify(model_dir, signature)


def test_verifying_without_a_verifier_is_refused(ms, key_signed, model_dir):
    signature = key_signed(ms, model_dir)

    with pytest.raises(ValueError) as raised:
        ms.verifying.Config().verify(model_dir, signature)

    assert str(raised.value) == "Attempting to verify with no configured verifier"


def test_an_absent_signature_file_raises_file_not_found(ms, key_verifier, model_dir, tmp_path):
    with pytest.raises(FileNotFoundError):
        key_verifier(ms).verify(model_dir, tmp_path / "absent.sig")


def test_a_symlink_in_the_model_is_refused_when_signing(ms, key_signed, model_dir):
    (model_dir / "link.bin").symlink_to("a.bin")

    with pytest.raises(ValueError, match="because it is a symlink"):
        key_signed(ms, model_dir)


def test_a_symlink_added_after_signing_is_refused_when_verifying(
    ms, key_signed, key_verifier, model_dir
):
    signature = key_signed(ms, model_dir)
    (model_dir / "link.bin").symlink_to("a.bin")

    with pytest.raises(ValueError, match="because it is a symlink"):
        key_verifier(ms).verify(model_dir, signature)


def test_signing_a_model_path_that_does_not_exist_is_refused(ms, key_pair, tmp_path):
    config = ms.signing.Config().use_elliptic_key_signer(private_key=key_pair.private_key)

    with pytest.raises(ValueError, match="^Cannot use '.*' as file or directory"):
        config.sign(tmp_path / "absent", tmp_path / "absent.sig")


def test_verifying_a_model_path_that_no_longer_exists_is_refused(
    ms, key_signed, key_verifier, model_dir, tmp_path
):
    signature = key_signed(ms, model_dir)
    moved = model_dir.rename(tmp_path / "moved")

    with pytest.raises(ValueError, match="^Cannot use '.*' as file or directory"):
        key_verifier(ms).verify(model_dir, signature)
    assert moved.is_dir()


def test_ignore_unsigned_files_accepts_an_extra_file(ms, key_signed, key_verifier, model_dir):
    signature = key_signed(ms, model_dir)
    (model_dir / "new.txt").write_bytes(b"added after signing")
    verifier = key_verifier(ms)

    assert verifier.set_ignore_unsigned_files(True) is verifier
    # A pathlib.Path: model_signing 1.1.1 fails on a str here (test_parity_upstream_bugs.py).
    assert verifier.verify(pathlib.Path(model_dir), signature) is None


def test_ignore_unsigned_files_still_refuses_a_changed_file(
    ms, key_signed, key_verifier, model_dir
):
    signature = key_signed(ms, model_dir)
    (model_dir / "a.bin").write_bytes(b"other weights")

    with pytest.raises(ValueError) as raised:
        key_verifier(ms).set_ignore_unsigned_files(True).verify(pathlib.Path(model_dir), signature)

    assert mismatch_categories(raised.value) == {"Hash mismatch for"}


def test_ignore_unsigned_files_still_refuses_a_missing_file(
    ms, key_signed, key_verifier, model_dir
):
    # model_signing reports this as the path it cannot open ("Cannot use ...") rather than
    # "Missing files in model"; either way it is a ValueError naming the file.
    signature = key_signed(ms, model_dir)
    (model_dir / "d" / "b.txt").unlink()

    with pytest.raises(ValueError, match="b.txt"):
        key_verifier(ms).set_ignore_unsigned_files(True).verify(pathlib.Path(model_dir), signature)
