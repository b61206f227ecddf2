"""Where modelsign_rs differed from model_signing 1.1.1 and now matches it:

- an exception raised by a progress callback leaves no signature, even when the (small)
  model had been hashed and signed before the callback was first called;
- `use_certificate_verifier()` without `certificate_chain` trusts what model_signing
  trusts then (certifi's CA bundle, `certifi.where()`), instead of refusing;
- keys and certificates are read when the `use_*` method is called, and their errors
  (missing, unreadable, malformed, wrong password) are raised there, with model_signing's
  exception types.
"""

from __future__ import annotations

import pathlib
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(pathlib.Path(__file__).parent / "parity"))

from parity_support import (  # noqa: E402
    IMPLEMENTATIONS,
    load_implementation,
    write_certificate_chain,
    write_ec_key_pair,
    write_model,
)


@pytest.fixture(params=IMPLEMENTATIONS)
def ms(request):
    return load_implementation(request.param)


@pytest.fixture
def ours():
    return load_implementation("modelsign_rs")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    pair = write_ec_key_pair(folder, "signer")
    key = serialization.load_pem_private_key(pair.private_key.read_bytes(), None)
    encrypted = folder / "encrypted.priv"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"right password"),
        )
    )
    garbage = folder / "garbage.pem"
    garbage.write_bytes(b"this is not a PEM file\n")
    k1 = ec.generate_private_key(ec.SECP256K1())
    secp256k1_public = folder / "secp256k1.pub"
    secp256k1_public.write_bytes(
        k1.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return {
        "private": pair.private_key,
        "public": pair.public_key,
        "encrypted": encrypted,
        "garbage": garbage,
        "secp256k1_public": secp256k1_public,
        "missing": folder / "no-such-key.pem",
        "folder": folder,
    }


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return write_certificate_chain(tmp_path_factory.mktemp("pki"))


# ---------------------------------------------------------------------------------------
# a. A progress callback's exception leaves no signature.


class Refused(Exception):
    pass


def test_a_callback_raising_after_a_small_model_was_signed_leaves_no_signature(
    ours, keys, tmp_path
):
    model = write_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    calls = []

    def refuse(done, total):
        calls.append((done, total))
        raise Refused("stop")

    config = ours.signing.Config().use_elliptic_key_signer(private_key=keys["private"])
    with pytest.raises(Refused):
        config.sign_with_progress(model, signature, refuse)
    # The model is small enough to be hashed before the first report: the callback saw
    # the work finished, and the signature must still not be there.
    assert calls and calls[-1][0] == calls[-1][1], calls
    assert not signature.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"], "no temporary file left"


def test_a_callback_raising_keeps_the_signature_that_was_there_before(ours, keys, tmp_path):
    model = write_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    config = ours.signing.Config().use_elliptic_key_signer(private_key=keys["private"])
    config.sign(model, signature)
    before = signature.read_bytes()
    (model / "README.md").write_bytes(b"# changed after signing\n")

    def refuse(done, total):
        raise Refused("stop")

    with pytest.raises(Refused):
        config.sign_with_progress(model, signature, refuse)
    assert signature.read_bytes() == before, "the earlier signature was not replaced"


# ---------------------------------------------------------------------------------------
# b. No certificate_chain: certifi's CA bundle, as model_signing.


def _sign_with_chain(impl, chain, model, signature):
    impl.signing.Config().use_certificate_signer(
        private_key=chain.leaf_key,
        signing_certificate=chain.leaf,
        certificate_chain=[chain.intermediate],
    ).sign(model, signature)


def test_without_a_chain_certifis_bundle_is_trusted(ms, chain, tmp_path, monkeypatch):
    import certifi

    model = write_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    _sign_with_chain(load_implementation("modelsign_rs"), chain, model, signature)
    # model_signing reads certifi.where() when the verifier is configured; pointing it at
    # our root shows which store an empty chain means.
    monkeypatch.setattr(certifi, "where", lambda: str(chain.root))
    ms.verifying.Config().use_certificate_verifier().verify(model, signature)


def test_without_a_chain_a_private_root_is_not_trusted(ms, chain, tmp_path):
    model = write_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    _sign_with_chain(load_implementation("model_signing"), chain, model, signature)
    config = ms.verifying.Config().use_certificate_verifier()
    # model_signing raises pyOpenSSL's X509StoreContextError here, which a drop-in cannot
    # share (tests/parity/README.md); both refuse.
    with pytest.raises(Exception) as raised:
        config.verify(model, signature)
    if ms.__name__ == "modelsign_rs":
        assert isinstance(raised.value, ms.VerificationError), raised.value
        assert raised.value.kind == "certificate", raised.value
    else:
        assert "unable to get local issuer certificate" in str(raised.value), raised.value


# ---------------------------------------------------------------------------------------
# c. Key and certificate errors are raised by the use_* call, with model_signing's types.

SIGNER_CASES = {
    "missing private key": (lambda k, c: {"private_key": k["missing"]}, FileNotFoundError),
    "malformed private key": (lambda k, c: {"private_key": k["garbage"]}, ValueError),
    "public key given as the private key": (lambda k, c: {"private_key": k["public"]}, ValueError),
    "wrong password": (
        lambda k, c: {"private_key": k["encrypted"], "password": b"wrong password"},
        ValueError,
    ),
    "encrypted key without its password": (
        lambda k, c: {"private_key": k["encrypted"]},
        TypeError,
    ),
}


@pytest.mark.parametrize("case", SIGNER_CASES, ids=list(SIGNER_CASES))
def test_elliptic_key_signer_errors_are_raised_when_configured(ms, keys, chain, case):
    options, expected = SIGNER_CASES[case]
    with pytest.raises(expected):
        ms.signing.Config().use_elliptic_key_signer(**options(keys, chain))


CERTIFICATE_SIGNER_CASES = {
    "malformed private key": (
        lambda k, c: {"private_key": k["garbage"], "signing_certificate": c.leaf},
        ValueError,
    ),
    "missing certificate": (
        lambda k, c: {"private_key": c.leaf_key, "signing_certificate": k["missing"]},
        FileNotFoundError,
    ),
    "malformed certificate": (
        lambda k, c: {"private_key": c.leaf_key, "signing_certificate": k["garbage"]},
        ValueError,
    ),
    "certificate of another key": (
        lambda k, c: {"private_key": k["private"], "signing_certificate": c.leaf},
        ValueError,
    ),
    "missing chain file": (
        lambda k, c: {
            "private_key": c.leaf_key,
            "signing_certificate": c.leaf,
            "certificate_chain": [k["missing"]],
        },
        FileNotFoundError,
    ),
}


@pytest.mark.parametrize("case", CERTIFICATE_SIGNER_CASES, ids=list(CERTIFICATE_SIGNER_CASES))
def test_certificate_signer_errors_are_raised_when_configured(ms, keys, chain, case):
    options, expected = CERTIFICATE_SIGNER_CASES[case]
    options = {"certificate_chain": [chain.intermediate], **options(keys, chain)}
    with pytest.raises(expected):
        ms.signing.Config().use_certificate_signer(**options)


VERIFIER_CASES = {
    "missing public key": (lambda k: k["missing"], FileNotFoundError),
    "malformed public key": (lambda k: k["garbage"], ValueError),
    "private key given as the public key": (lambda k: k["private"], ValueError),
    "public key on an unsupported curve": (lambda k: k["secp256k1_public"], ValueError),
}


@pytest.mark.parametrize("case", VERIFIER_CASES, ids=list(VERIFIER_CASES))
def test_elliptic_key_verifier_errors_are_raised_when_configured(ms, keys, case):
    path, expected = VERIFIER_CASES[case]
    with pytest.raises(expected):
        ms.verifying.Config().use_elliptic_key_verifier(public_key=path(keys))


@pytest.mark.parametrize(
    "which, expected",
    [("missing", FileNotFoundError), ("garbage", ValueError)],
    ids=["missing certificate", "malformed certificate"],
)
def test_certificate_verifier_errors_are_raised_when_configured(ms, keys, which, expected):
    with pytest.raises(expected):
        ms.verifying.Config().use_certificate_verifier(certificate_chain=[keys[which]])


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
def test_a_configured_signer_signs_with_the_key_as_it_was_read(keys, tmp_path, impl_name):
    # The key is read once, when configured: replacing the file afterwards changes
    # nothing, as with model_signing, which holds the loaded key.
    impl = load_implementation(impl_name)
    model = write_model(tmp_path / "model")
    copy = tmp_path / "key.priv"
    copy.write_bytes(keys["private"].read_bytes())
    config = impl.signing.Config().use_elliptic_key_signer(private_key=copy)
    copy.write_bytes(b"replaced\n")
    signature = tmp_path / "model.sig"
    config.sign(model, signature)
    impl.verifying.Config().use_elliptic_key_verifier(public_key=keys["public"]).verify(
        model, signature
    )
