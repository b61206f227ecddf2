"""model_signing 1.1.1's known bugs, each pinned for the reference so the suite notices when
upstream changes, and the behaviour expected of modelsign_rs beside it.

Two rules decide that behaviour (README.md, "Upstream bugs"):
- where model_signing crashes on valid input (a TypeError or AttributeError from its own
  code, or refusing the hash algorithm named in its own signature), modelsign_rs does what
  the documented API says: no working caller can depend on the crash;
- where model_signing refuses something security-relevant although asked to allow it
  (symlinks), modelsign_rs refuses too: failing closed is kept bug for bug.
"""

from __future__ import annotations

import pytest

from parity_support import REFERENCE, SMALL_SHARD


def is_reference(ms) -> bool:
    return ms.__name__ == REFERENCE


def test_ignore_unsigned_files_with_a_str_model_path(ms, key_signed, key_verifier, model_dir):
    # Upstream joins the str model path to each identifier with `/`.
    signature = key_signed(ms, model_dir)
    (model_dir / "new.txt").write_bytes(b"added after signing")
    verifier = key_verifier(ms).set_ignore_unsigned_files(True)

    if is_reference(ms):
        with pytest.raises(TypeError, match="unsupported operand type"):
            verifier.verify(str(model_dir), signature)
    else:
        assert verifier.verify(str(model_dir), signature) is None


def test_files_to_hash_given_as_str_paths(ms, model_dir):
    # Upstream calls pathlib methods on each entry without converting it.
    files = [str(model_dir / "a.bin")]

    if is_reference(ms):
        with pytest.raises(AttributeError, match="'str' object has no attribute"):
            ms.hashing.Config().hash(model_dir, files_to_hash=files)
    else:
        manifest = ms.hashing.Config().hash(model_dir, files_to_hash=files)
        assert [rd.identifier for rd in manifest.resource_descriptors()] == ["a.bin"]


def test_guessing_the_hashing_of_a_blake2_signature(ms, key_signed, key_verifier, model_dir):
    # The signature records hash_type "blake2b"; upstream's guess passes that name to
    # use_file_serialization, which only knows "blake2".
    blake2 = ms.hashing.Config().use_file_serialization(hashing_algorithm="blake2")
    signature = key_signed(ms, model_dir, blake2)

    if is_reference(ms):
        with pytest.raises(ValueError, match="^Unsupported hashing method blake2b$"):
            key_verifier(ms).verify(model_dir, signature)
    else:
        assert key_verifier(ms).verify(model_dir, signature) is None


def test_guessing_the_hashing_of_a_shard_signature(ms, key_signed, key_verifier, model_dir):
    # The signed statement's shard_size is read back as a float, which upstream then uses
    # as a range step.
    shards = ms.hashing.Config().use_shard_serialization(shard_size=SMALL_SHARD)
    signature = key_signed(ms, model_dir, shards)

    if is_reference(ms):
        with pytest.raises(TypeError, match="'float' object cannot be interpreted as an integer"):
            key_verifier(ms).verify(model_dir, signature)
    else:
        assert key_verifier(ms).verify(model_dir, signature) is None


def test_allow_symlinks_of_use_file_serialization_alone_still_refuses_a_symlink(ms, model_dir):
    # Config.hash applies set_allow_symlinks's flag (default False) over the serializer's.
    (model_dir / "link.bin").symlink_to("a.bin")
    config = ms.hashing.Config().use_file_serialization(allow_symlinks=True)

    with pytest.raises(ValueError, match="because it is a symlink"):
        config.hash(model_dir)


def test_guessing_ignores_allow_symlinks_recorded_in_the_signature(
    ms, key_signed, key_verifier, model_dir
):
    # A signature cannot grant itself symlink following; the verifier has to opt in.
    (model_dir / "link.bin").symlink_to("a.bin")
    signature = key_signed(ms, model_dir, ms.hashing.Config().set_allow_symlinks(True))

    with pytest.raises(ValueError, match="because it is a symlink"):
        key_verifier(ms).verify(model_dir, signature)

    opted_in = key_verifier(ms).set_hashing_config(ms.hashing.Config().set_allow_symlinks(True))
    assert opted_in.verify(model_dir, signature) is None
