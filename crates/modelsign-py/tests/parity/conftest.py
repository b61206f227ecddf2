"""Shared fixtures of the model_signing parity suite.

Every test that takes `ms` runs once per implementation of model_signing's public API:
the reference `model_signing` (1.1.1) and our drop-in `modelsign_rs`; parity_support.py
says how a missing implementation fails (CI) or skips (elsewhere).
"""

from __future__ import annotations

import pathlib

import pytest

from parity_support import (
    IMPLEMENTATIONS,
    REFERENCE,
    CertificateChain,
    KeyPair,
    load_implementation,
    write_certificate_chain,
    write_ec_key_pair,
    write_model,
)


@pytest.fixture(params=IMPLEMENTATIONS)
def ms(request):
    """The implementation under test, used exactly like the `model_signing` module."""
    return load_implementation(request.param)


@pytest.fixture
def reference():
    """model_signing itself, for tests that compare an implementation against it."""
    return load_implementation(REFERENCE)


# ---------------------------------------------------------------------------------------
# Models


@pytest.fixture
def model_dir(tmp_path) -> pathlib.Path:
    """A small real model folder named `model`, in its own temporary directory."""
    return write_model(tmp_path / "model")


# ---------------------------------------------------------------------------------------
# Keys and certificates


@pytest.fixture(scope="session")
def key_pair(tmp_path_factory) -> KeyPair:
    return write_ec_key_pair(tmp_path_factory.mktemp("keys"), "signer")


@pytest.fixture(scope="session")
def other_key_pair(tmp_path_factory) -> KeyPair:
    return write_ec_key_pair(tmp_path_factory.mktemp("other-keys"), "other")


@pytest.fixture(scope="session")
def certificate_chain(tmp_path_factory) -> CertificateChain:
    return write_certificate_chain(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def signing_methods(key_pair, certificate_chain):
    """Method name (parity_support.SIGNING_METHODS) -> (configure a signing.Config, configure a
    verifying.Config), so tests can be parametrised over the signing method."""
    return {
        "key": (
            lambda config: config.use_elliptic_key_signer(private_key=key_pair.private_key),
            lambda config: config.use_elliptic_key_verifier(public_key=key_pair.public_key),
        ),
        "certificate": (
            lambda config: config.use_certificate_signer(
                private_key=certificate_chain.leaf_key,
                signing_certificate=certificate_chain.leaf,
                certificate_chain=[certificate_chain.intermediate],
            ),
            lambda config: config.use_certificate_verifier(
                certificate_chain=[certificate_chain.root]
            ),
        ),
    }


@pytest.fixture
def key_signed(key_pair, tmp_path):
    """Signs a model with `impl`'s elliptic-key signer; returns the signature path."""

    def sign(impl, model: pathlib.Path, hashing_config=None) -> pathlib.Path:
        signature = tmp_path / f"{model.name}.sig"
        config = impl.signing.Config().use_elliptic_key_signer(private_key=key_pair.private_key)
        if hashing_config is not None:
            config.set_hashing_config(hashing_config)
        config.sign(model, signature)
        return signature

    return sign


@pytest.fixture
def key_verifier(key_pair):
    """`impl`'s verifying.Config with the matching elliptic public key."""

    def make(impl):
        return impl.verifying.Config().use_elliptic_key_verifier(public_key=key_pair.public_key)

    return make
