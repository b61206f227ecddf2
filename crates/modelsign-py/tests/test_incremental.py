"""Signing without re-hashing every file, and verifying only some, from Python: `sign`'s
`reuse` (with `changed`, `changed_since_git` or the stat cache), `stat_cache` and `digests`,
and `verify`'s `files`. The signatures are checked by model_signing 1.1.1 too."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import subprocess
import time

import model_signing
import pytest

from modelsign_rs import signing, verifying
from key_support import write_key_pair

WEIGHTS = ["weights-1.bin", "weights-2.bin"]
FILES = {
    "weights-1.bin": os.urandom(300_000),
    "weights-2.bin": os.urandom(200_000),
    "config.json": b'{"layers": 2}\n',
    "tok/vocab.txt": b"a b c\n",
}


@pytest.fixture
def model(tmp_path) -> pathlib.Path:
    root = tmp_path / "model"
    for name, content in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


@pytest.fixture
def keys(tmp_path) -> tuple[pathlib.Path, pathlib.Path]:
    return write_key_pair(tmp_path, "key")


def signer(keys) -> signing.Config:
    return signing.Config().use_elliptic_key_signer(private_key=keys[0])


def verifier(keys) -> verifying.Config:
    return verifying.Config().use_elliptic_key_verifier(public_key=keys[1])


def statement(signature: pathlib.Path) -> dict:
    bundle = json.loads(signature.read_text())
    return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))


def model_signing_verifies(model: pathlib.Path, signature: pathlib.Path, public: pathlib.Path):
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        model, signature
    )


def test_reuse_hashes_only_what_changed_and_signs_what_a_full_sign_signs(model, keys, tmp_path):
    old, new, full = tmp_path / "old.sig", tmp_path / "new.sig", tmp_path / "full.sig"
    first = signer(keys).sign(model, old)
    assert (first.hashed_files, first.known_files) == (4, 0)
    (model / "config.json").write_bytes(b'{"layers": 3}\n')
    (model / "tok/vocab.txt").unlink()
    (model / "added.txt").write_bytes(b"new\n")

    report = signer(keys).sign(model, new, reuse=old, changed=["config.json"])

    # config.json changed, added.txt is new: hashed; both weights taken from old.sig.
    assert (report.hashed_files, report.known_files) == (2, 2)
    assert report.known_bytes == 500_000
    signer(keys).sign(model, full)
    assert statement(new) == statement(full)
    assert report.root_digest == verifier(keys).report(model, new).root_digest
    model_signing_verifies(model, new, keys[1])


def test_a_changed_file_left_out_of_changed_fails_verification_naming_it(model, keys, tmp_path):
    old, new = tmp_path / "old.sig", tmp_path / "new.sig"
    signer(keys).sign(model, old)
    (model / "weights-2.bin").write_bytes(os.urandom(200_000))

    report = signer(keys).sign(model, new, reuse=old, changed=["config.json"])

    assert report.hashed_files == 1
    with pytest.raises(verifying.VerificationError) as raised:
        verifier(keys).verify(model, new)
    assert [c[0] for c in raised.value.changed] == ["weights-2.bin"]
    assert "weights-2.bin" in str(raised.value)


def test_an_earlier_signature_by_another_key_is_never_reused(model, keys, tmp_path):
    other = write_key_pair(tmp_path, "other")
    old, new = tmp_path / "old.sig", tmp_path / "new.sig"
    signer(keys).sign(model, old)

    # By default the signing key's own public key must verify it: another key's does not.
    with pytest.raises(ValueError, match="earlier signature to reuse does not verify"):
        signer(other).sign(model, new, reuse=old, changed=[])
    assert not new.exists()
    # Told whom to trust, it is reused.
    report = signer(other).sign(model, new, reuse=old, reuse_verifier=verifier(keys), changed=[])
    assert report.known_files == 4
    model_signing_verifies(model, new, other[1])


def test_a_damaged_earlier_signature_is_refused(model, keys, tmp_path):
    old, new = tmp_path / "old.sig", tmp_path / "new.sig"
    signer(keys).sign(model, old)
    bundle = json.loads(old.read_text())
    payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    payload["predicate"]["resources"][0]["digest"] = "00" * 32
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    old.write_text(json.dumps(bundle))

    with pytest.raises(ValueError, match="does not verify"):
        signer(keys).sign(model, new, reuse=old, changed=[])
    assert not new.exists()


def test_options_that_do_not_go_together_are_refused(model, keys, tmp_path):
    old, new = tmp_path / "old.sig", tmp_path / "new.sig"
    signer(keys).sign(model, old)
    with pytest.raises(ValueError, match="reuse needs to know what changed"):
        signer(keys).sign(model, new, reuse=old)
    with pytest.raises(ValueError, match="give it as reuse"):
        signer(keys).sign(model, new, changed=["config.json"])
    with pytest.raises(ValueError, match="not both"):
        signer(keys).sign(model, new, reuse=old, changed=["a"], changed_since_git="HEAD")
    with pytest.raises(ValueError, match="does not go with reuse"):
        signer(keys).sign(model, new, reuse=old, changed=[], digests=tmp_path / "list")
    with pytest.raises(ValueError, match="no verifier"):
        signer(keys).sign(model, new, reuse=old, changed=[], reuse_verifier=verifying.Config())
    assert not new.exists()


def test_the_stat_cache_finds_what_changed(model, keys, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSIGN_CACHE_DIR", str(tmp_path / "cache"))
    old, new = tmp_path / "old.sig", tmp_path / "new.sig"
    # A file written within the file system's timestamp step of being hashed is not
    # recorded (it could change again without its stamp changing): let the files age.
    time.sleep(2.3)
    first = signer(keys).sign(model, old, stat_cache=True)
    assert first.stat_cache is not None and first.recorded_files == 4
    assert pathlib.Path(first.stat_cache).is_relative_to(tmp_path / "cache")
    # Nothing is written into the model.
    assert sorted(p.name for p in model.iterdir()) == sorted(["config.json", "tok", *WEIGHTS])
    (model / "weights-1.bin").write_bytes(os.urandom(300_000))

    report = signer(keys).sign(model, new, reuse=old, stat_cache=True)

    assert (report.hashed_files, report.known_files) == (1, 3)
    verifier(keys).verify(model, new)
    model_signing_verifies(model, new, keys[1])


def test_changed_since_git_hashes_what_git_reports(model, keys, tmp_path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(model)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    old, new = tmp_path / "old.sig", tmp_path / "new.sig"
    signing_config = signer(keys)
    signing_config.sign(model, old)
    (model / "config.json").write_bytes(b'{"layers": 4}\n')
    subprocess.run([*git, "mv", "weights-2.bin", "weights-b.bin"], check=True)

    report = signing_config.sign(model, new, reuse=old, changed_since_git="HEAD")

    assert report.hashed_files == 1
    assert report.renamed == [("weights-2.bin", "weights-b.bin")]
    verifier(keys).verify(model, new)


def test_known_digests_are_signed_unread_and_verification_still_hashes(model, keys, tmp_path):
    listing = tmp_path / "SHA256SUMS"
    lines = [f"{hashlib.sha256(FILES[n]).hexdigest()}  {n}" for n in ("weights-1.bin", "weights-2.bin")]
    listing.write_text("\n".join(lines) + "\n")
    signature = tmp_path / "model.sig"

    report = signer(keys).sign(model, signature, digests=listing)

    assert (report.known_files, report.hashed_files) == (2, 2)
    model_signing_verifies(model, signature, keys[1])
    # A wrong digest in the list is signed as given, and the signature does not verify.
    listing.write_text(f"{'ab' * 32}  weights-1.bin\n")
    signer(keys).sign(model, signature, digests=listing)
    with pytest.raises(verifying.VerificationError) as raised:
        verifier(keys).verify(model, signature)
    assert [c[0] for c in raised.value.changed] == ["weights-1.bin"]


def test_partial_verification_hashes_only_the_named_files(model, keys, tmp_path):
    signature = tmp_path / "model.sig"
    signer(keys).sign(model, signature)
    (model / "weights-2.bin").write_bytes(b"tampered")

    report = verifier(keys).report(model, signature, files=[model / "weights-1.bin"])

    assert report.checked_files == ["weights-1.bin"]
    assert report.resources == 4 and report.resources_checked == 1
    # The tampered file is caught as soon as it is named, or without files.
    with pytest.raises(verifying.VerificationError, match="weights-2.bin"):
        verifier(keys).verify(model, signature, files=[model / "weights-2.bin"])
    with pytest.raises(verifying.VerificationError):
        verifier(keys).verify(model, signature)


def test_partial_verification_refuses_a_file_the_signature_does_not_cover(model, keys, tmp_path):
    signature = tmp_path / "model.sig"
    signer(keys).sign(model, signature)
    (model / "unsigned.bin").write_bytes(b"x")
    with pytest.raises(verifying.VerificationError, match="unsigned.bin"):
        verifier(keys).verify(model, signature, files=[model / "unsigned.bin"])
