"""Verification where models are loaded: `modelsign_rs.verify_model_dir` and
`modelsign_rs.hf.verify_snapshot` against a trust policy file.

The Hugging Face cache used here is written by huggingface_hub's own download code
(`hf_hub_download`) from a small hub served on 127.0.0.1 by this file, so its layout
(blobs, refs, relative snapshot links of every depth) is the real one. The snapshot is
signed by model_signing 1.1.1 with links allowed, and the signature shipped in the
repository as `model.sig`, downloaded like every other file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import inspect
import json
import http.server
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import types
import urllib.parse
import warnings
from typing import Dict, Iterator

import pytest

import modelsign_rs
from modelsign_rs import hf
from key_support import write_key_pair

REPO_ID = "acme/tiny-encoder"
MAIN_COMMIT = "1111111111111111111111111111111111111111"
RELEASE_COMMIT = "2222222222222222222222222222222222222222"
SIGNATURE = "model.sig"

# A small sentence-transformers-like model: weights, configs, and a file in a subfolder
# (whose snapshot link climbs one level more).
MAIN_FILES = {
    "config.json": b'{"architectures": ["BertModel"], "hidden_size": 8}\n',
    "model.safetensors": bytes(range(256)) * 40,
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}\n',
}
# The release branch differs by one file, so a test can tell which revision it verified.
RELEASE_FILES = dict(MAIN_FILES, **{"tokenizer.json": b'{"version": "1.0"}\n'})


def in_ci() -> bool:
    value = os.environ.get("CI")
    return bool(value) and value != "false"


def require(module: str, install: str):
    """Imports a test peer; missing, it fails the test in CI and skips it elsewhere."""
    try:
        return __import__(module)
    except ImportError as error:
        reason = f"{module} is not importable ({error}); pip install {install}"
        if in_ci():
            pytest.fail(f"{reason} (scripts/test.sh installs it into the wheel's venv)")
        pytest.skip(reason)


# ---------------------------------------------------------------------------------------
# A loopback hub: the resolve endpoint huggingface_hub downloads files from.


class FakeHub:
    """Serves `HEAD`/`GET /{org}/{name}/resolve/{revision}/{path}` for one repository
    whose branches name commits and whose commits hold files, with the headers
    huggingface_hub's download reads (X-Repo-Commit, ETag, Content-Length)."""

    def __init__(self, repo_id: str):
        self.repo_id = repo_id
        self.branches: Dict[str, str] = {}
        self.commits: Dict[str, Dict[str, bytes]] = {}
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):
                self._answer(send_body=False)

            def do_GET(self):
                self._answer(send_body=True)

            def _answer(self, send_body: bool):
                found = hub.lookup(urllib.parse.urlsplit(self.path).path)
                if isinstance(found, str):
                    self.send_response(404)
                    self.send_header("X-Error-Code", found)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                commit, content = found
                self.send_response(200)
                self.send_header("X-Repo-Commit", commit)
                self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if send_body:
                    self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def lookup(self, url_path: str):
        """(commit, content), or the Hub's error code."""
        prefix = f"/{self.repo_id}/resolve/"
        if not url_path.startswith(prefix):
            return "RepoNotFound"
        revision, _, file = urllib.parse.unquote(url_path[len(prefix) :]).partition("/")
        commit = self.branches.get(revision, revision)
        if commit not in self.commits:
            return "RevisionNotFound"
        content = self.commits[commit].get(file)
        return "EntryNotFound" if content is None else (commit, content)

    def __enter__(self) -> "FakeHub":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------
# Keys, policies, the cache


def write_policy(
    path: pathlib.Path, public_key: pathlib.Path, *, mode: str = "enforce", names=None
) -> pathlib.Path:
    lines = [f'mode = "{mode}"', "", "[[signer]]", 'name = "release key"']
    lines.append(f'key = "{public_key}"')
    if names is not None:
        lines.append("names = [" + ", ".join(f'"{n}"' for n in names) + "]")
    path.write_text("\n".join(lines) + "\n")
    return path


class Cache:
    """A Hugging Face cache holding REPO_ID at MAIN_COMMIT (branch main) and
    RELEASE_COMMIT (branch release), each snapshot with its model.sig."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.repository = root / "models--acme--tiny-encoder"

    def snapshot(self, commit: str = MAIN_COMMIT) -> pathlib.Path:
        return self.repository / "snapshots" / commit

    def copy(self, to: pathlib.Path) -> "Cache":
        shutil.copytree(self.root, to, symlinks=True)
        return Cache(to)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {
        "release": write_key_pair(folder, "release"),
        "other": write_key_pair(folder, "other"),
    }


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory, keys) -> Cache:
    """The cache as huggingface_hub downloads it; signed by model_signing."""
    require("huggingface_hub", "huggingface-hub==2.4.0")
    model_signing = require("model_signing", "model-signing==1.1.1 pyopenssl")
    cache = Cache(tmp_path_factory.mktemp("hf") / "hub")
    scratch = tmp_path_factory.mktemp("signing")
    with FakeHub(REPO_ID) as hub, hub_environment(hub.endpoint):
        from huggingface_hub import hf_hub_download

        def download(filename: str, revision: str) -> pathlib.Path:
            return pathlib.Path(
                hf_hub_download(
                    REPO_ID,
                    filename,
                    revision=revision,
                    cache_dir=cache.root,
                    endpoint=hub.endpoint,
                    token=False,
                )
            )

        for branch, commit, files in (
            ("main", MAIN_COMMIT, MAIN_FILES),
            ("release", RELEASE_COMMIT, RELEASE_FILES),
        ):
            hub.branches[branch] = commit
            hub.commits[commit] = dict(files)
            for filename in files:
                download(filename, branch)
            snapshot = cache.snapshot(commit)
            assert (snapshot / "config.json").is_symlink(), "huggingface_hub wrote no links"
            # The publisher signs the snapshot it downloaded and pushes the signature.
            signature = scratch / f"{branch}.sig"
            hashing = model_signing.hashing.Config().set_allow_symlinks(True)
            model_signing.signing.Config().use_elliptic_key_signer(
                private_key=keys["release"][0]
            ).set_hashing_config(hashing).sign(snapshot, signature)
            hub.commits[commit][SIGNATURE] = signature.read_bytes()
            assert download(SIGNATURE, branch).parent == snapshot
    return cache


@contextlib.contextmanager
def hub_environment(endpoint: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("HF_ENDPOINT", "HF_HUB_DISABLE_TELEMETRY")}
    os.environ["HF_ENDPOINT"] = endpoint
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def policy(tmp_path, keys) -> pathlib.Path:
    return write_policy(tmp_path / "trust.toml", keys["release"][1])


@pytest.fixture
def own_cache(hub_cache, tmp_path) -> Cache:
    """A copy of the cache that a test may damage."""
    return hub_cache.copy(tmp_path / "hub-copy")


# ---------------------------------------------------------------------------------------
# verify_snapshot on a real cache


def test_a_snapshot_by_repo_id_is_accepted_and_names_its_signer(hub_cache, policy):
    result = hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=hub_cache.root)

    assert result.accepted and result
    assert result.mode == "enforce"
    assert result.signer == "release key"
    assert result.failure is None
    assert REPO_ID in result.names and f"pkg:huggingface/{REPO_ID}" in result.names
    assert result.path == hub_cache.snapshot(MAIN_COMMIT)
    # Every file but the signature, read through the snapshot's links.
    assert result.report is not None and result.report.resources == len(MAIN_FILES)
    assert "release key" in repr(result) and "accepted=True" in repr(result)


def test_the_cache_is_found_as_huggingface_hub_finds_it(hub_cache, policy, monkeypatch):
    # As before huggingface_hub is imported (the hub_cache fixture imported it here).
    monkeypatch.delitem(sys.modules, "huggingface_hub.constants", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache.root))

    result = hf.verify_snapshot(REPO_ID, policy=policy)

    assert result.accepted and result.path == hub_cache.snapshot(MAIN_COMMIT)


def test_a_snapshot_folder_is_verified_as_a_path(hub_cache, policy):
    snapshot = hub_cache.snapshot(MAIN_COMMIT)

    for given in (snapshot, str(snapshot)):
        result = hf.verify_snapshot(given, policy=policy)
        assert result.accepted and result.signer == "release key", given
        assert result.path == snapshot
    # The plain entry point recognises a snapshot, and names it as one, too.
    direct = modelsign_rs.verify_model_dir(snapshot, policy)
    assert direct.accepted and f"pkg:huggingface/{REPO_ID}" in direct.names


def test_a_revision_selects_its_snapshot_by_branch_or_commit(hub_cache, policy):
    by_branch = hf.verify_snapshot(
        REPO_ID, "release", policy=policy, cache_dir=hub_cache.root
    )
    by_commit = hf.verify_snapshot(
        REPO_ID, RELEASE_COMMIT, policy=policy, cache_dir=hub_cache.root
    )
    main_by_commit = hf.verify_snapshot(
        REPO_ID, MAIN_COMMIT, policy=policy, cache_dir=hub_cache.root
    )

    for result in (by_branch, by_commit):
        assert result.accepted and result.path == hub_cache.snapshot(RELEASE_COMMIT)
        assert result.report.resources == len(RELEASE_FILES)
    assert main_by_commit.path == hub_cache.snapshot(MAIN_COMMIT)
    assert main_by_commit.report.resources == len(MAIN_FILES)
    assert hf.snapshot_path(REPO_ID, "release", hub_cache.root) == hub_cache.snapshot(
        RELEASE_COMMIT
    )


@pytest.mark.parametrize("target", ["relative", "absolute"])
def test_a_link_repointed_out_of_the_repository_is_refused_despite_a_trusted_signature(
    own_cache, policy, target
):
    # The signature lets links be followed (model_signing signed with allow_symlinks), and
    # the outside file has the signed bytes: only where the link points is wrong.
    assert signed_serialization(own_cache.snapshot(MAIN_COMMIT))["allow_symlinks"] is True
    link = own_cache.snapshot(MAIN_COMMIT) / "config.json"
    outside = own_cache.root.parent / "outside" / "x"
    outside.parent.mkdir()
    outside.write_bytes(MAIN_FILES["config.json"])
    link.unlink()
    if target == "relative":
        # snapshots/<commit>/config.json -> <cache>/../outside/x
        link.symlink_to("../../../../outside/x")
    else:
        link.symlink_to(outside)
    assert link.read_bytes() == MAIN_FILES["config.json"]

    with pytest.raises(modelsign_rs.VerificationError) as refused:
        hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=own_cache.root)

    assert refused.value.kind == "model", "as verify_model_dir's docstring says"
    assert "config.json" in str(refused.value)
    assert "link" in str(refused.value).lower()


def signed_serialization(snapshot: pathlib.Path) -> dict:
    envelope = json.loads((snapshot / SIGNATURE).read_text())["dsseEnvelope"]
    return json.loads(base64.b64decode(envelope["payload"]))["predicate"]["serialization"]


def test_a_signature_by_a_key_the_policy_does_not_trust_is_untrusted(
    hub_cache, keys, tmp_path
):
    policy = write_policy(tmp_path / "trust.toml", keys["other"][1])

    with pytest.raises(modelsign_rs.UntrustedSignatureError) as refused:
        hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=hub_cache.root)

    error = refused.value
    assert isinstance(error, modelsign_rs.VerificationError)
    assert error.kind == "untrusted"
    assert [signer for signer, _ in error.attempts] == ["release key"]
    assert all(reason for _, reason in error.attempts)


def test_a_changed_byte_in_a_blob_fails_with_the_changed_file(own_cache, policy):
    blob = (own_cache.snapshot(MAIN_COMMIT) / "model.safetensors").resolve()
    assert blob.parent == own_cache.repository / "blobs"
    content = bytearray(blob.read_bytes())
    content[100] ^= 1
    blob.chmod(0o644)
    blob.write_bytes(bytes(content))

    with pytest.raises(modelsign_rs.VerificationError) as refused:
        hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=own_cache.root)

    error = refused.value
    assert not isinstance(error, modelsign_rs.UntrustedSignatureError)
    assert error.kind == "model"
    assert changed_names(error) == ["model.safetensors"]
    assert error.missing == [] and error.extra == []


def test_a_forged_signature_of_the_trusted_key_raises_invalid_signature(own_cache, policy):
    signature = (own_cache.snapshot(MAIN_COMMIT) / SIGNATURE).resolve()
    bundle = json.loads(signature.read_text())
    sig = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
    sig[len(sig) // 2] ^= 1
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(sig).decode()
    signature.chmod(0o644)
    signature.write_text(json.dumps(bundle))

    with pytest.raises(modelsign_rs.InvalidSignatureError) as refused:
        hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=own_cache.root)

    error = refused.value
    assert not isinstance(error, modelsign_rs.UntrustedSignatureError)
    assert error.kind == "invalid-signature"
    assert "names release key of the trust policy" in str(error)


def changed_names(error) -> list:
    """The names of `changed`'s (name, algorithm, expected, actual) entries."""
    return [name for name, _, expected, actual in error.changed if expected != actual]


def test_warn_mode_warns_and_returns_a_refusal_without_raising(
    own_cache, keys, tmp_path
):
    policy = write_policy(tmp_path / "trust.toml", keys["other"][1], mode="warn")

    with pytest.warns(modelsign_rs.ModelSigningWarning) as warned:
        result = hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=own_cache.root)

    assert not result.accepted and not result
    assert result.mode == "warn" and result.signer is None
    assert result.failure
    assert result.failure in str(warned[0].message)
    # The warning points at the caller, not into the package.
    assert warned[0].filename == __file__
    assert "accepted=False" in repr(result)


def test_warn_mode_reports_a_changed_model_too(own_cache, keys, tmp_path):
    policy = write_policy(tmp_path / "trust.toml", keys["release"][1], mode="warn")
    blob = (own_cache.snapshot(MAIN_COMMIT) / "config.json").resolve()
    blob.chmod(0o644)
    blob.write_bytes(b"{}\n")

    with pytest.warns(modelsign_rs.ModelSigningWarning, match="config.json"):
        result = hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=own_cache.root)

    assert not result.accepted


def test_warn_mode_reports_a_missing_signature(own_cache, keys, tmp_path):
    policy = write_policy(tmp_path / "trust.toml", keys["release"][1], mode="warn")
    (own_cache.snapshot(MAIN_COMMIT) / SIGNATURE).unlink()

    with pytest.warns(modelsign_rs.ModelSigningWarning, match=SIGNATURE):
        result = hf.verify_snapshot(REPO_ID, policy=policy, cache_dir=own_cache.root)

    assert not result.accepted and result.report is None


def test_a_signer_limited_to_the_organisation_vouches_for_its_models_only(
    hub_cache, keys, tmp_path
):
    acme = write_policy(
        tmp_path / "acme.toml", keys["release"][1], names=["pkg:huggingface/acme/*"]
    )
    other = write_policy(
        tmp_path / "other.toml", keys["release"][1], names=["pkg:huggingface/other/*"]
    )

    accepted = hf.verify_snapshot(REPO_ID, policy=acme, cache_dir=hub_cache.root)
    with pytest.raises(modelsign_rs.UntrustedSignatureError) as refused:
        hf.verify_snapshot(REPO_ID, policy=other, cache_dir=hub_cache.root)

    assert accepted.accepted and accepted.signer == "release key"
    assert refused.value.kind == "no-signer"
    assert f"pkg:huggingface/{REPO_ID}" in refused.value.names


def test_a_missing_repository_or_revision_says_what_was_looked_for(hub_cache, policy):
    cases = {
        ("acme/absent", None): "models--acme--absent",
        (REPO_ID, "no-such-branch"): "refs/no-such-branch",
        (REPO_ID, "3" * 40): "snapshots/" + "3" * 40,
    }
    for (repo_id, revision), looked_for in cases.items():
        with pytest.raises(hf.SnapshotNotFoundError) as missing:
            hf.verify_snapshot(repo_id, revision, policy=policy, cache_dir=hub_cache.root)
        error = missing.value
        assert isinstance(error, FileNotFoundError)
        assert isinstance(error, modelsign_rs.InputError)
        assert looked_for in str(error) and error.filename.endswith(looked_for)
        assert str(hub_cache.root) in str(error)


@pytest.mark.parametrize(
    "repo_id, revision",
    [("../acme", None), ("acme/../../x", None), ("a/b/c", None), (REPO_ID, "../../x")],
)
def test_a_malformed_repo_id_or_revision_is_refused_before_any_lookup(
    hub_cache, repo_id, revision
):
    with pytest.raises(modelsign_rs.InputError) as refused:
        hf.snapshot_path(repo_id, revision, hub_cache.root)
    assert not isinstance(refused.value, FileNotFoundError)


def test_a_revision_for_a_folder_is_refused(hub_cache, policy):
    with pytest.raises(modelsign_rs.InputError, match="revision"):
        hf.verify_snapshot(hub_cache.snapshot(), "main", policy=policy)


# ---------------------------------------------------------------------------------------
# verify_model_dir on a plain folder


@pytest.fixture
def folder_model(tmp_path, keys) -> pathlib.Path:
    model = tmp_path / "finbert"
    for name, content in MAIN_FILES.items():
        (model / name).parent.mkdir(parents=True, exist_ok=True)
        (model / name).write_bytes(content)
    modelsign_rs.signing.Config().use_elliptic_key_signer(
        private_key=keys["release"][0]
    ).sign(model, tmp_path / "finbert.sig")
    shutil.move(str(tmp_path / "finbert.sig"), str(model / SIGNATURE))
    return model


def test_a_plain_folder_is_verified_with_its_model_sig(folder_model, policy):
    result = modelsign_rs.verify_model_dir(str(folder_model), str(policy))

    assert result.accepted and result.signer == "release key"
    assert result.names == ["finbert"]
    assert result.report.resources == len(MAIN_FILES)
    assert result.path == folder_model


def test_a_signature_elsewhere_is_named_with_signature(folder_model, policy, tmp_path):
    elsewhere = tmp_path / "elsewhere.sig"
    shutil.move(str(folder_model / SIGNATURE), str(elsewhere))

    result = modelsign_rs.verify_model_dir(folder_model, policy, signature=elsewhere)

    assert result.accepted


def test_a_folder_without_its_signature_is_refused_as_a_missing_file(folder_model, policy):
    (folder_model / SIGNATURE).unlink()

    with pytest.raises(modelsign_rs.SignatureNotFoundError) as missing:
        modelsign_rs.verify_model_dir(folder_model, policy)

    assert isinstance(missing.value, FileNotFoundError)
    assert isinstance(missing.value, modelsign_rs.InputError)
    assert missing.value.filename == str(folder_model / SIGNATURE)


def test_files_the_signature_does_not_list_are_refused_unless_ignored(folder_model, policy):
    (folder_model / "notes.txt").write_text("added after signing\n")

    with pytest.raises(modelsign_rs.VerificationError) as refused:
        modelsign_rs.verify_model_dir(folder_model, policy)
    tolerated = modelsign_rs.verify_model_dir(folder_model, policy, ignore_unsigned_files=True)
    ignored = modelsign_rs.verify_model_dir(folder_model, policy, ignore_paths=["notes.txt"])

    assert refused.value.extra == ["notes.txt"]
    assert tolerated.accepted and ignored.accepted


def test_progress_is_reported_up_to_the_model_size(folder_model, policy):
    calls = []

    modelsign_rs.verify_model_dir(folder_model, policy, progress=lambda d, t: calls.append((d, t)))

    total = sum(len(c) for c in MAIN_FILES.values())
    assert calls and calls[-1] == (total, total)


def test_a_name_given_by_the_caller_is_matched_against_the_patterns(
    folder_model, keys, tmp_path
):
    policy = write_policy(
        tmp_path / "acme.toml", keys["release"][1], names=["pkg:huggingface/acme/*"]
    )

    with pytest.raises(modelsign_rs.UntrustedSignatureError):
        modelsign_rs.verify_model_dir(folder_model, policy)
    result = modelsign_rs.verify_model_dir(
        folder_model, policy, name="pkg:huggingface/acme/finbert"
    )

    assert result.accepted
    assert result.names == ["finbert", "pkg:huggingface/acme/finbert"]


def test_an_unusable_policy_raises_in_either_mode(folder_model, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('mode = "warn"\n[[signer]]\nname = "x"\n')

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(modelsign_rs.InputError):
            modelsign_rs.verify_model_dir(folder_model, bad)


def test_a_policy_result_is_frozen(folder_model, policy):
    result = modelsign_rs.verify_model_dir(folder_model, policy)
    with pytest.raises(AttributeError):
        result.accepted = False  # type: ignore[misc]


# ---------------------------------------------------------------------------------------
# Finding the cache as huggingface_hub does, without importing it

CACHE_VARIABLES = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME")


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"XDG_CACHE_HOME": "{tmp}/xdg"},
        {"XDG_CACHE_HOME": "{tmp}/xdg", "HF_HOME": "{tmp}/home"},
        {"HF_HOME": "~/hf-home"},
        {"HF_HOME": "{tmp}/home", "HUGGINGFACE_HUB_CACHE": "{tmp}/legacy"},
        {"HUGGINGFACE_HUB_CACHE": "{tmp}/legacy", "HF_HUB_CACHE": "{tmp}/new"},
        {"HF_HUB_CACHE": "$PLACE/new", "PLACE": "{tmp}"},
    ],
)
def test_the_cache_folder_is_the_one_huggingface_hub_uses(tmp_path, monkeypatch, variables):
    require("huggingface_hub", "huggingface-hub==2.4.0")
    # As before huggingface_hub is imported (then its constants are the answer, below).
    monkeypatch.delitem(sys.modules, "huggingface_hub.constants", raising=False)
    for name in CACHE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    theirs = subprocess.run(
        [
            sys.executable,
            "-c",
            "import huggingface_hub.constants as c, pathlib;"
            "print(pathlib.Path(c.HF_HUB_CACHE).expanduser().resolve())",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()

    assert str(hf.hub_cache_dir()) == theirs
    assert hf.hub_cache_dir(tmp_path / "given") == tmp_path / "given"


def test_once_huggingface_hub_is_imported_its_cache_is_the_one_found(tmp_path, monkeypatch):
    """huggingface_hub reads the variables once, at import: a variable changed later no
    longer moves the cache its loaders read, so it must not move the one verified."""
    require("huggingface_hub", "huggingface-hub==2.4.0")
    for name in CACHE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "at-import"))
    probe = (
        "import os, huggingface_hub.constants as c, modelsign_rs.hf as hf;"
        f"os.environ['HF_HUB_CACHE'] = {str(tmp_path / 'changed-later')!r};"
        "print(c.HF_HUB_CACHE); print(hf.hub_cache_dir())"
    )
    theirs, ours = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.split()

    assert theirs == str(tmp_path / "at-import")
    assert ours == str((tmp_path / "at-import").resolve())


def test_an_imported_hub_cache_setting_wins_over_the_variables(tmp_path, monkeypatch):
    constants = types.ModuleType("huggingface_hub.constants")
    constants.HF_HUB_CACHE = str(tmp_path / "imported")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "huggingface_hub.constants", constants)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "variable"))

    assert hf.hub_cache_dir() == (tmp_path / "imported").resolve()
    assert hf.hub_cache_dir(tmp_path / "given") == tmp_path / "given"
    with pytest.raises(hf.SnapshotNotFoundError, match="imported"):
        hf.snapshot_path(REPO_ID)


def test_resolving_a_snapshot_downloads_nothing_and_imports_no_huggingface_hub(hub_cache):
    probe = (
        "import sys, modelsign_rs, modelsign_rs.hf as hf;"
        f"print(hf.snapshot_path({REPO_ID!r}, cache_dir={str(hub_cache.root)!r}));"
        "print('huggingface_hub' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.split()

    assert out == [str(hub_cache.snapshot(MAIN_COMMIT)), "False"]


@pytest.mark.parametrize("module", [modelsign_rs.policy, modelsign_rs.hf], ids=lambda m: m.__name__)
def test_every_public_item_of_the_load_time_modules_has_a_docstring(module):
    import inspect

    assert inspect.getdoc(module)
    for name in module.__all__:
        assert inspect.getdoc(getattr(module, name)), f"{module.__name__}.{name}"


@pytest.mark.parametrize("module", [modelsign_rs, modelsign_rs.hf], ids=lambda m: m.__name__)
def test_the_documented_hub_recipe_loads_the_snapshot_verified(module):
    """Loading by repository id after verifying could read another revision or cache."""
    doc = inspect.getdoc(module)
    assert "result = modelsign_rs.hf.verify_snapshot(" in doc
    assert "model = AutoModel.from_pretrained(result.path)" in doc
    assert 'from_pretrained("acme/' not in doc


def test_a_model_folder_that_does_not_exist_is_an_input_error(folder_model, tmp_path, policy):
    with pytest.raises(modelsign_rs.InputError) as refused:
        modelsign_rs.verify_model_dir(
            tmp_path / "absent", policy, signature=folder_model / SIGNATURE
        )
    assert not isinstance(refused.value, (modelsign_rs.VerificationError, FileNotFoundError))
    assert "absent" in str(refused.value)


def test_a_single_file_model_without_signature_says_to_give_one(folder_model, policy, tmp_path):
    weights = folder_model / "model.safetensors"
    assert weights.is_file()

    with pytest.raises(modelsign_rs.InputError, match="give signature= for a single-file model"):
        modelsign_rs.verify_model_dir(weights, policy)
    with pytest.raises(modelsign_rs.InputError, match="give signature= for a single-file model"):
        hf.verify_snapshot(weights, policy=policy)


def test_a_missing_policy_is_a_missing_file(folder_model, tmp_path):
    absent = tmp_path / "absent.toml"

    with pytest.raises(modelsign_rs.PolicyNotFoundError) as missing:
        modelsign_rs.verify_model_dir(folder_model, absent)

    assert isinstance(missing.value, FileNotFoundError)
    assert isinstance(missing.value, modelsign_rs.InputError)
    assert missing.value.filename == str(absent)
    assert "absent.toml" in str(missing.value)
    assert modelsign_rs.policy.PolicyNotFoundError is modelsign_rs.PolicyNotFoundError
    with pytest.raises(modelsign_rs.PolicyNotFoundError):
        hf.verify_snapshot(folder_model, policy=absent)
    bad = tmp_path / "bad.toml"
    bad.write_text('mode = "audit"\n')
    with pytest.raises(modelsign_rs.InputError) as unusable:
        modelsign_rs.verify_model_dir(folder_model, bad)
    assert not isinstance(unusable.value, FileNotFoundError), "the policy exists"


def test_a_signature_that_is_not_one_fails_as_the_signature(folder_model, policy):
    (folder_model / SIGNATURE).write_text('{"not": "a bundle"}')

    with pytest.raises(modelsign_rs.VerificationError) as refused:
        modelsign_rs.verify_model_dir(folder_model, policy)

    assert refused.value.kind == "signature"
    assert not isinstance(refused.value, modelsign_rs.UntrustedSignatureError)
