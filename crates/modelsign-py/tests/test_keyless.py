"""Sigstore keyless signing through model_signing's Python API, on the loopback stack
(tests/sigstore-stack: Fulcio, Rekor, a timestamp authority and an OIDC issuer on one
127.0.0.1 port). Every signature is made by one implementation and verified by the other
and by itself: model_signing 1.1.1 and modelsign_rs, in the same venv.

The stack is started as crates/test-support's `SigstoreStack` starts it: `node server.js
--out DIR`, one JSON line on stdout once it listens, and it exits when its stdin closes.
Without Node.js or the stack's npm packages the tests fail in CI (CI set) and skip
elsewhere, saying what to install.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent / "parity"))

from parity_support import IMPLEMENTATIONS, in_ci, load_implementation, write_model  # noqa: E402

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]
STACK = REPOSITORY / "tests" / "sigstore-stack"
START_DEADLINE_SECONDS = 30


@dataclass(frozen=True)
class Stack:
    url: str
    identity: str
    trust_config: pathlib.Path
    identity_token: str


def _missing(reason: str):
    message = (
        f"{reason}: the Sigstore test stack needs Node.js (20.17 or newer) and `npm ci` in "
        f"{STACK} (scripts/test.sh does both)"
    )
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def _first_line(process: subprocess.Popen, deadline: float) -> str | None:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(deadline)
    return lines[0] if lines else None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not (STACK / "node_modules" / "@sigstore" / "mock").is_dir():
        _missing(f"{STACK / 'node_modules'} is not installed")
    node = shutil.which("node")
    if node is None:
        _missing("node is not on PATH")
    # Node.js has been seen to hang at start-up when many processes start at once (see
    # test-support): a start that says nothing in time is killed and tried again.
    for _ in range(3):
        out = tmp_path_factory.mktemp("sigstore-stack")
        process = subprocess.Popen(
            [node, str(STACK / "server.js"), "--out", str(out), "--lifetime", "600"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = _first_line(process, START_DEADLINE_SECONDS)
        if line:
            break
        process.kill()
        process.wait()
    else:
        pytest.fail("the Sigstore test stack did not start (3 attempts)")
    started = json.loads(line)
    yield Stack(
        url=started["url"],
        identity=started["identity"],
        trust_config=out / "trust_config.json",
        identity_token=(out / "identity_token").read_text().strip(),
    )
    # Closing its stdin is how the stack is told to exit.
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sign_keyless(impl, stack: Stack, model: pathlib.Path, signature: pathlib.Path, **options):
    impl.signing.Config().use_sigstore_signer(
        identity_token=stack.identity_token, trust_config=stack.trust_config, **options
    ).sign(model, signature)


def keyless_verifier(impl, stack: Stack, identity: str | None = None, issuer: str | None = None):
    return impl.verifying.Config().use_sigstore_verifier(
        identity=identity or stack.identity,
        oidc_issuer=issuer or stack.url,
        trust_config=stack.trust_config,
    )


@pytest.fixture(scope="module")
def signed(stack, tmp_path_factory):
    """Implementation name -> (model, its keyless signature of that model)."""
    folder = tmp_path_factory.mktemp("keyless")
    model = write_model(folder / "model")
    signatures = {}
    for name in IMPLEMENTATIONS:
        signature = folder / f"{name}.sig"
        sign_keyless(load_implementation(name), stack, model, signature)
        signatures[name] = signature
    return model, signatures


@pytest.mark.parametrize("signer", IMPLEMENTATIONS)
@pytest.mark.parametrize("verifier", IMPLEMENTATIONS)
def test_keyless_signatures_cross_verify(stack, signed, signer, verifier):
    model, signatures = signed
    keyless_verifier(load_implementation(verifier), stack).verify(model, signatures[signer])


@pytest.mark.parametrize("signer", IMPLEMENTATIONS)
@pytest.mark.parametrize("verifier", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "wrong, expected_words",
    [
        ({"identity": "mallory@example.com"}, "mallory@example.com"),
        ({"issuer": "https://other-issuer.example"}, "https://other-issuer.example"),
    ],
    ids=["identity", "issuer"],
)
def test_another_identity_or_issuer_is_refused_as_model_signing_refuses_it(
    stack, signed, signer, verifier, wrong, expected_words
):
    from sigstore.errors import VerificationError as SigstoreVerificationError

    model, signatures = signed
    config = keyless_verifier(load_implementation(verifier), stack, **wrong)
    # model_signing raises sigstore's VerificationError (not a ValueError) for either.
    with pytest.raises(SigstoreVerificationError) as raised:
        config.verify(model, signatures[signer])
    assert expected_words in str(raised.value)


@pytest.mark.parametrize("signer", IMPLEMENTATIONS)
@pytest.mark.parametrize("verifier", IMPLEMENTATIONS)
def test_a_changed_file_is_refused_after_the_keyless_signature_verifies(
    stack, signed, tmp_path, signer, verifier
):
    model, signatures = signed
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    (copy / "README.md").write_bytes(b"# changed\n")
    with pytest.raises(ValueError, match="Signature mismatch"):
        keyless_verifier(load_implementation(verifier), stack).verify(copy, signatures[signer])


@pytest.mark.parametrize("impl_name", IMPLEMENTATIONS)
def test_oidc_issuer_is_accepted_and_a_given_token_still_wins(stack, tmp_path, impl_name):
    # model_signing uses oidc_issuer only to sign in when no token is given or found; with
    # an identity token it signs as the token says. (It also asks the issuer for its
    # endpoints when configured, so the stack's own URL is given here.)
    model = write_model(tmp_path / "model")
    signature = tmp_path / "model.sig"
    sign_keyless(load_implementation(impl_name), stack, model, signature, oidc_issuer=stack.url)
    for verifier in IMPLEMENTATIONS:
        keyless_verifier(load_implementation(verifier), stack).verify(model, signature)
