"""`_native.verify_with_policy` and `_native.model_names`: verification under the trust
policy file `modelsign verify --policy` and the lineage store read, as the dict that
`verify_model_dir` and `hf.verify_snapshot` are built on. Run on the installed wheel."""

from __future__ import annotations

import pathlib

import pytest

import modelsign_rs
from modelsign_rs import _native
from key_support import write_key_pair

FILES = {
    "weights.bin": bytes(range(256)) * 64,
    "config.json": b'{"layers": 2}\n',
    "sub/tokenizer.txt": b"a b c\n",
}

OUTCOME_KEYS = {"accepted", "mode", "signer", "names", "report", "failure"}
FAILURE_KEYS = {
    "kind",
    "message",
    "input_error",
    "attempts",
    "changed",
    "missing",
    "extra",
    "symlinks",
    "unsupported",
}


@pytest.fixture
def bench(tmp_path):
    """(folder, model, signature): `tiny-model` signed by the key `release.pub`; the key
    `stranger.pub` signed nothing."""
    model = tmp_path / "tiny-model"
    for name, content in FILES.items():
        (model / name).parent.mkdir(parents=True, exist_ok=True)
        (model / name).write_bytes(content)
    release, _ = write_key_pair(tmp_path, "release")
    write_key_pair(tmp_path, "stranger")
    signature = tmp_path / "tiny-model.sig"
    modelsign_rs.signing.Config().use_elliptic_key_signer(private_key=release).sign(
        model, signature
    )
    return tmp_path, model, signature


def policy(folder: pathlib.Path, text: str) -> pathlib.Path:
    path = folder / "trust.toml"
    path.write_text(text)
    return path


RELEASE = '[[signer]]\nname = "release"\nkey = "release.pub"\n'
STRANGER = '[[signer]]\nname = "other"\nkey = "stranger.pub"\n'


def test_a_model_its_trusted_signer_signed_is_accepted_with_verifys_report(bench):
    folder, model, signature = bench
    progress = []
    outcome = _native.verify_with_policy(
        str(model),
        str(policy(folder, RELEASE)),
        str(signature),
        progress=lambda done, total: progress.append((done, total)),
    )
    assert set(outcome) == OUTCOME_KEYS
    assert outcome["accepted"] is True
    assert outcome["mode"] == "enforce"
    assert outcome["signer"] == "release"
    assert outcome["names"] == ["tiny-model"] == _native.model_names(str(model))
    assert outcome["failure"] is None
    # The very dict `verify` returns for the same model and key.
    direct = _native.verify(
        str(model),
        str(signature),
        verifier={"method": "key", "public_key": str(folder / "release.pub")},
    )
    assert outcome["report"] == direct
    assert outcome["report"]["resources"] == len(FILES)
    assert progress and progress[-1][0] == progress[-1][1] == sum(map(len, FILES.values()))


def test_a_signature_no_trusted_signer_made_is_untrusted_with_each_signers_reason(bench):
    folder, model, signature = bench
    two = STRANGER + '[[signer]]\nname = "third"\nkey = "stranger.pub"\n'
    outcome = _native.verify_with_policy(
        str(model), str(policy(folder, two)), str(signature)
    )
    assert outcome["accepted"] is False
    assert outcome["signer"] is None
    assert outcome["report"] is None
    failure = outcome["failure"]
    assert set(failure) == FAILURE_KEYS
    assert failure["kind"] == "untrusted"
    assert failure["input_error"] is False
    assert [signer for signer, _ in failure["attempts"]] == ["other", "third"]
    assert all(reason for _, reason in failure["attempts"])
    assert failure["message"].startswith(
        "no signer of the trust policy verifies the signature (other: "
    )
    assert failure["changed"] == [] and failure["extra"] == []


def test_a_changed_model_is_refused_with_what_changed_and_who_signed(bench):
    folder, model, signature = bench
    (model / "weights.bin").write_bytes(b"poisoned")
    (model / "config.json").unlink()
    (model / "added.bin").write_bytes(b"new")
    outcome = _native.verify_with_policy(
        str(model), str(policy(folder, RELEASE)), str(signature)
    )
    assert outcome["accepted"] is False
    assert outcome["signer"] == "release"
    failure = outcome["failure"]
    assert failure["kind"] == "model"
    assert failure["attempts"] == []
    [(name, algorithm, expected, actual)] = failure["changed"]
    assert (name, algorithm) == ("weights.bin", "sha256")
    assert isinstance(expected, bytes) and len(expected) == 32 and expected != actual
    assert failure["missing"] == ["config.json"]
    assert failure["extra"] == ["added.bin"]


def test_a_warning_policy_refuses_alike_and_says_its_mode(bench):
    folder, model, signature = bench
    outcome = _native.verify_with_policy(
        str(model), str(policy(folder, 'mode = "warn"\n' + STRANGER)), str(signature)
    )
    assert outcome["mode"] == "warn"
    assert outcome["accepted"] is False
    assert outcome["failure"]["kind"] == "untrusted"


def test_names_given_are_the_names_matched_and_a_missing_signature_is_returned(bench):
    folder, model, signature = bench
    named = policy(folder, RELEASE + 'names = ["acme/*"]\n')
    refused = _native.verify_with_policy(str(model), str(named), str(signature))
    assert refused["failure"]["kind"] == "no-signer"
    assert refused["names"] == ["tiny-model"]
    accepted = _native.verify_with_policy(
        str(model), str(named), str(signature), names=["acme/tiny"]
    )
    assert accepted["accepted"] is True
    assert accepted["names"] == ["acme/tiny"]
    missing = _native.verify_with_policy(
        str(model), str(named), str(folder / "absent.sig"), names=["acme/tiny"]
    )
    assert missing["failure"]["kind"] == "signature"
    assert missing["failure"]["input_error"] is True
    assert "absent.sig" in missing["failure"]["message"]


def test_an_unusable_policy_raises_input_error(bench):
    folder, model, signature = bench
    for text, expected in [
        ('mode = "audit"\n' + RELEASE, "mode 'audit' is not a mode"),
        ('[[signer]]\nname = "release"\nkey = "absent.pub"\n', "signer 'release'"),
    ]:
        with pytest.raises(_native.InputError, match=expected):
            _native.verify_with_policy(str(model), str(policy(folder, text)), str(signature))
    with pytest.raises(_native.InputError, match="absent.toml"):
        _native.verify_with_policy(str(model), str(folder / "absent.toml"), str(signature))
