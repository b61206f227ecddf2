"""PKCS#11 signing through model_signing's Python API, on a SoftHSM2 token made by
tests/pkcs11/make-token.sh (token "modelsign-test", PIN 123456, key "p256" with its public
key and a root -> intermediate -> leaf chain for it).

Both implementations sign on the token; each signature is verified with both
implementations' key or certificate verifier. model_signing's PKCS#11 signer needs its
`pkcs11` extra (PyKCS11), which scripts/test.sh installs in the wheel's venv.

SoftHSM reads SOFTHSM2_CONF once per process, when the module is first initialised, so
the token is made once for this module and the variable set before anything opens it.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent / "parity"))

from parity_support import (  # noqa: E402
    IMPLEMENTATIONS,
    REFERENCE,
    in_ci,
    load_implementation,
    write_model,
)

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]
MAKE_TOKEN = REPOSITORY / "tests" / "pkcs11" / "make-token.sh"
P256 = "pkcs11:token=modelsign-test;object=p256?module-name=softhsm2&pin-value=123456"


@dataclass(frozen=True)
class Token:
    folder: pathlib.Path
    module: pathlib.Path

    @property
    def module_folder(self) -> str:
        return str(self.module.parent)

    def file(self, relative: str) -> pathlib.Path:
        return self.folder / relative


def _missing(reason: str):
    message = f"{reason} (scripts/test.sh installs softhsm2, opensc and openssl)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def token(tmp_path_factory):
    folder = tmp_path_factory.mktemp("softhsm")
    done = subprocess.run(["bash", str(MAKE_TOKEN), str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        _missing(f"tests/pkcs11/make-token.sh failed: {done.stdout}{done.stderr}")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(folder / "softhsm2.conf")
    yield Token(folder, pathlib.Path((folder / "module-path").read_text().strip()))
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def load_signer(name: str):
    impl = load_implementation(name)
    if name == REFERENCE:
        try:
            import PyKCS11  # noqa: F401
        except ImportError:
            _missing("model_signing's pkcs11 extra (PyKCS11) is not installed")
    return impl


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> pathlib.Path:
    return write_model(tmp_path_factory.mktemp("pkcs11-model") / "model")


@pytest.mark.parametrize("signer", IMPLEMENTATIONS)
@pytest.mark.parametrize("verifier", IMPLEMENTATIONS)
def test_a_token_key_signature_verifies_with_its_public_key(token, model, tmp_path, signer, verifier):
    signature = tmp_path / "model.sig"
    load_signer(signer).signing.Config().use_pkcs11_signer(
        pkcs11_uri=P256, module_paths=[token.module_folder]
    ).sign(model, signature)
    load_implementation(verifier).verifying.Config().use_elliptic_key_verifier(
        public_key=token.file("p256.pub")
    ).verify(model, signature)


@pytest.mark.parametrize("verifier", IMPLEMENTATIONS)
def test_a_token_key_and_its_certificate_chain_verify_with_the_root(token, model, tmp_path, verifier):
    signature = tmp_path / "model.sig"
    load_signer("modelsign_rs").signing.Config().use_pkcs11_certificate_signer(
        pkcs11_uri=P256,
        signing_certificate=token.file("chain/p256-leaf.pem"),
        certificate_chain=[token.file("chain/intermediate.pem")],
        module_paths=[token.module_folder],
    ).sign(model, signature)
    load_implementation(verifier).verifying.Config().use_certificate_verifier(
        certificate_chain=[token.file("chain/root.pem")]
    ).verify(model, signature)


def test_model_signing_1_1_1_cannot_sign_with_a_token_key_and_certificate(token, model, tmp_path):
    # A known 1.1.x bug (fixed upstream after 1.1.1): its PKCS#11 certificate signer builds
    # verification material its own bundle model refuses (certificate bytes not base64,
    # no tlogEntries), so there is no model_signing signature of this kind to verify. If this starts
    # passing, the pinned model_signing changed: add it to the cross-verification above.
    signature = tmp_path / "model.sig"
    config = load_signer(REFERENCE).signing.Config().use_pkcs11_certificate_signer(
        pkcs11_uri=P256,
        signing_certificate=token.file("chain/p256-leaf.pem"),
        certificate_chain=[token.file("chain/intermediate.pem")],
        module_paths=[token.module_folder],
    )
    with pytest.raises(ValueError, match="validation error"):
        config.sign(model, signature)
    assert not signature.exists()


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
def test_module_paths_are_the_only_folders_searched_for_the_module_name(token, tmp_path, impl_name):
    # model_signing searches module_paths (instead of its default folders) for a file
    # whose name holds the URI's module-name: a folder without it finds nothing, even
    # though SoftHSM is installed where the default folders would find it.
    empty = tmp_path / "no-modules-here"
    empty.mkdir()
    with pytest.raises(ValueError, match="softhsm2"):
        load_signer(impl_name).signing.Config().use_pkcs11_signer(
            pkcs11_uri=P256, module_paths=[str(empty)]
        ).sign(tmp_path, tmp_path / "x.sig")


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
def test_module_paths_find_a_module_copied_to_a_folder_of_its_own(token, model, tmp_path, impl_name):
    modules = tmp_path / "my-modules"
    modules.mkdir()
    shutil.copy(token.module, modules / token.module.name)
    signature = tmp_path / "model.sig"
    load_signer(impl_name).signing.Config().use_pkcs11_signer(
        pkcs11_uri=P256, module_paths=[str(modules)]
    ).sign(model, signature)
    load_implementation("modelsign_rs").verifying.Config().use_elliptic_key_verifier(
        public_key=token.file("p256.pub")
    ).verify(model, signature)
