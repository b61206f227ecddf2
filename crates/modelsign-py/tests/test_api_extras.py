"""modelsign_rs's additions to model_signing's API: `verifying.Config.report`, the structured
`VerificationError`, `InvalidSignatureError`, progress callbacks on hashing and signing,
certificate fingerprints logged, and docstrings on every public item."""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import logging
import pathlib
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import modelsign_rs
from modelsign_rs import _native
from key_support import write_key_pair

FILES = {
    "weights.bin": bytes(range(256)) * 64,
    "config.json": b'{"layers": 2}\n',
    "sub/tokenizer.txt": b"a b c\n",
}


def write_model(folder: pathlib.Path) -> pathlib.Path:
    for name, content in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


@pytest.fixture
def model(tmp_path) -> pathlib.Path:
    return write_model(tmp_path / "tiny-model")


@pytest.fixture
def keys(tmp_path):
    return write_key_pair(tmp_path, "signer")


@pytest.fixture
def signed(model, keys, tmp_path):
    """(model, signature, verifying config) signed with an elliptic key."""
    private, public = keys
    signature = tmp_path / "tiny-model.sig"
    modelsign_rs.signing.Config().use_elliptic_key_signer(private_key=private).sign(
        model, signature
    )
    verifier = modelsign_rs.verifying.Config().use_elliptic_key_verifier(public_key=public)
    return model, signature, verifier


# ---------------------------------------------------------------------------------------
# verifying.Config.report


def test_report_says_what_was_verified(signed):
    model, signature, verifier = signed

    report = verifier.report(model, signature)

    assert isinstance(report, modelsign_rs.VerificationReport)
    assert report.model_name == "tiny-model"
    assert report.resources == len(FILES)
    assert report.root_digest == _native.hash(str(model), hashing={})["root_digest"]
    assert report.root_digest.startswith("sha256:")
    assert isinstance(report.notes, list)


def test_verify_still_returns_none(signed):
    model, signature, verifier = signed

    assert verifier.verify(model, signature) is None


def test_report_raises_as_verify_does(signed):
    model, signature, verifier = signed
    (model / "config.json").write_bytes(b"{}")

    with pytest.raises(modelsign_rs.VerificationError, match="^Signature mismatch: "):
        verifier.report(model, signature)


def test_report_without_a_verifier_is_refused(signed):
    model, signature, _ = signed

    with pytest.raises(ValueError, match="^Attempting to verify with no configured verifier$"):
        modelsign_rs.verifying.Config().report(model, signature)


def test_report_calls_progress_up_to_the_total(signed):
    model, signature, verifier = signed
    calls = []

    verifier.report(model, signature, progress=lambda done, total: calls.append((done, total)))

    total = sum(len(content) for content in FILES.values())
    assert calls, "progress was never called"
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


# ---------------------------------------------------------------------------------------
# VerificationError's structure


def test_verification_error_lists_changed_missing_and_extra(signed):
    model, signature, verifier = signed
    (model / "weights.bin").write_bytes(b"retrained")
    (model / "sub" / "tokenizer.txt").unlink()
    (model / "added.txt").write_bytes(b"new")

    with pytest.raises(modelsign_rs.VerificationError) as raised:
        verifier.verify(model, signature)

    error = raised.value
    assert isinstance(error, ValueError)
    assert error.kind == "mismatch"
    assert error.model_name == "tiny-model"
    assert error.missing == ["sub/tokenizer.txt"]
    assert error.extra == ["added.txt"]
    assert [tuple(c) for c in error.changed] == [
        (
            "weights.bin",
            "sha256",
            hashlib.sha256(FILES["weights.bin"]).digest(),
            hashlib.sha256(b"retrained").digest(),
        )
    ]


def test_mismatch_message_is_model_signings_list_of_differences(signed):
    model, signature, verifier = signed
    (model / "weights.bin").write_bytes(b"retrained")
    (model / "sub" / "tokenizer.txt").unlink()
    (model / "added.txt").write_bytes(b"new")

    with pytest.raises(modelsign_rs.VerificationError) as raised:
        verifier.verify(model, signature)

    expected = modelsign_rs.manifest.Digest("sha256", hashlib.sha256(FILES["weights.bin"]).digest())
    actual = modelsign_rs.manifest.Digest("sha256", hashlib.sha256(b"retrained").digest())
    assert str(raised.value) == "Signature mismatch: " + str(
        [
            "Extra files found in model 'tiny-model': added.txt",
            "Missing files in model 'tiny-model': sub/tokenizer.txt",
            f"Hash mismatch for 'weights.bin': Expected '{expected}', Actual '{actual}'",
        ]
    )


def test_another_key_is_a_key_mismatch_with_model_signings_message(signed, tmp_path):
    model, signature, _ = signed
    _, other_public = write_key_pair(tmp_path, "other")
    verifier = modelsign_rs.verifying.Config().use_elliptic_key_verifier(public_key=other_public)

    with pytest.raises(modelsign_rs.VerificationError) as raised:
        verifier.verify(model, signature)

    assert raised.value.kind == "key_mismatch"
    assert str(raised.value) == (
        "Key mismatch: The public key hash in the signature's verification material does "
        "not match the provided public key. "
    )


def test_a_forged_signature_is_invalid_signature_and_a_verification_error(signed):
    model, signature, verifier = signed
    bundle = json.loads(signature.read_text())
    raw = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
    raw[-1] ^= 0x01
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    signature.write_text(json.dumps(bundle))

    with pytest.raises(modelsign_rs.InvalidSignatureError) as raised:
        verifier.verify(model, signature)

    assert isinstance(raised.value, InvalidSignature)
    assert isinstance(raised.value, modelsign_rs.VerificationError)
    assert isinstance(raised.value, ValueError)
    assert raised.value.kind == "bad_signature"


# ---------------------------------------------------------------------------------------
# Progress on hashing and signing


def test_hash_with_progress_reports_up_to_the_total_and_gives_the_same_manifest(model):
    calls = []
    config = modelsign_rs.hashing.Config()

    manifest = config.hash_with_progress(model, lambda done, total: calls.append((done, total)))

    total = sum(len(content) for content in FILES.values())
    assert calls and calls[-1] == (total, total)
    assert manifest == config.hash(model)


def test_an_exception_in_the_progress_callback_is_raised_by_sign(model, keys, tmp_path):
    private, _ = keys
    signature = tmp_path / "stopped.sig"

    def stop(done, total):
        raise KeyboardInterrupt("stop here")

    with pytest.raises(KeyboardInterrupt, match="stop here"):
        modelsign_rs.signing.Config().use_elliptic_key_signer(
            private_key=private
        ).sign_with_progress(model, signature, stop)


# ---------------------------------------------------------------------------------------
# Certificate fingerprints


def _openssl(folder, *args):
    done = subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_log_fingerprints_logs_the_trusted_and_the_signing_certificates(model, tmp_path, caplog):
    pki = tmp_path / "pki"
    pki.mkdir()
    _openssl(pki, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", "root.key")
    (pki / "root.ext").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
        "subjectKeyIdentifier=hash\n"
    )
    _openssl(pki, "req", "-new", "-key", "root.key", "-subj", "/CN=extras root", "-out",
             "root.csr")
    _openssl(pki, "x509", "-req", "-in", "root.csr", "-key", "root.key", "-days", "2",
             "-extfile", "root.ext", "-out", "root.pem")
    _openssl(pki, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", "leaf.key")
    (pki / "leaf.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=codeSigning\nauthorityKeyIdentifier=keyid\n"
    )
    _openssl(pki, "req", "-new", "-key", "leaf.key", "-subj", "/CN=extras leaf", "-out",
             "leaf.csr")
    _openssl(pki, "x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
             "-days", "2", "-set_serial", "2", "-extfile", "leaf.ext", "-out", "leaf.pem")
    signature = tmp_path / "cert.sig"
    modelsign_rs.signing.Config().use_certificate_signer(
        private_key=pki / "leaf.key", signing_certificate=pki / "leaf.pem", certificate_chain=[]
    ).sign(model, signature)
    root_fingerprint = hashlib.sha256(
        base64.b64decode("".join((pki / "root.pem").read_text().splitlines()[1:-1]))
    ).hexdigest()

    with caplog.at_level(logging.INFO, logger="modelsign_rs.verifying"):
        modelsign_rs.verifying.Config().use_certificate_verifier(
            certificate_chain=[pki / "root.pem"], log_fingerprints=True
        ).verify(model, signature)

    logged = caplog.text.lower().replace(":", "")
    assert root_fingerprint in logged
    assert "signature certificate" in caplog.text.lower()


# ---------------------------------------------------------------------------------------
# Docstrings


PUBLIC_MODULES = [
    modelsign_rs,
    modelsign_rs.hashing,
    modelsign_rs.signing,
    modelsign_rs.verifying,
    modelsign_rs.manifest,
]


def public_items():
    for module in PUBLIC_MODULES:
        yield module.__name__, module
        for name in getattr(module, "__all__", []):
            item = getattr(module, name)
            if not (inspect.isclass(item) or inspect.isfunction(item)):
                continue
            yield f"{module.__name__}.{name}", item
            if inspect.isclass(item):
                for attribute, member in vars(item).items():
                    if attribute.startswith("_"):
                        continue
                    if isinstance(member, property):
                        member = member.fget
                    if callable(member) or inspect.isfunction(member):
                        yield f"{module.__name__}.{name}.{attribute}", member


@pytest.mark.parametrize("name,item", list(public_items()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_item_has_a_docstring(name, item):
    assert inspect.getdoc(item), f"{name} has no docstring"


# ---------------------------------------------------------------------------------------
# Exception translation details


@pytest.mark.parametrize(
    "kind,expected",
    [
        (
            "symlink",
            "Cannot use 'model/link.bin' because it is a symlink. This behavior can be "
            "changed with `allow_symlinks`.",
        ),
        (
            "model_path",
            "Cannot use 'model/link.bin' as file or directory. It could be a special file, "
            "it could be missing, or there might be a permission issue.",
        ),
    ],
)
def test_walk_errors_with_a_kind_and_path_get_model_signings_message(kind, expected):
    # The native module names the offending path in `path` (R-needs.md item 1); the
    # message is model_signing's, the class and the fields stay the native error's.
    from modelsign_rs import _errors

    native = _native.InputError("the library's own words")
    native.kind = kind
    native.path = "model/link.bin"

    with pytest.raises(_native.InputError) as raised:
        with _errors.translated("model"):
            raise native

    assert str(raised.value) == expected
    assert raised.value.kind == kind
    assert raised.value.__cause__ is native


def test_a_native_error_without_a_kind_passes_through_unchanged():
    from modelsign_rs import _errors

    native = _native.ModelSigningError("device failed")

    with pytest.raises(_native.ModelSigningError) as raised:
        with _errors.translated("model"):
            raise native

    assert raised.value is native


def test_without_cryptography_a_forged_signature_is_still_a_verification_error():
    script = (
        "import sys\n"
        "sys.modules['cryptography'] = None\n"
        "sys.modules['cryptography.exceptions'] = None\n"
        "import modelsign_rs\n"
        "error = modelsign_rs.InvalidSignatureError\n"
        "assert issubclass(error, modelsign_rs.VerificationError), error.__mro__\n"
        "assert issubclass(error, ValueError), error.__mro__\n"
        "assert [c.__module__ for c in error.__mro__ if c.__module__.startswith('crypto')] == []\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("password", [b"secret", "secret"], ids=["bytes", "str"])
def test_an_encrypted_key_signs_with_its_password_as_bytes_or_str(model, tmp_path, password):
    # model_signing takes the password as bytes (a str fails inside cryptography there);
    # both work here.
    key = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "encrypted.priv"
    public = tmp_path / "encrypted.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    signature = tmp_path / "encrypted.sig"

    modelsign_rs.signing.Config().use_elliptic_key_signer(
        private_key=private, password=password
    ).sign(model, signature)

    modelsign_rs.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        model, signature
    )
