"""The wheel's native module and console script, installed in a fresh venv.

Run by scripts/test.sh on the installed wheel (never on the source tree): what is tested is
what pip installs.
"""

import hashlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

import modelsign_rs
from modelsign_rs import _native

REPO = pathlib.Path(__file__).resolve().parents[3]
SAMPLE_MODEL = REPO / "examples" / "sample-model"
# The console script pip installed beside this interpreter.
MODELSIGN = pathlib.Path(sys.executable).with_name("modelsign")

FILES = {"method": "files", "hash_type": "sha256"}


def run_cli(*args):
    return subprocess.run(
        [str(MODELSIGN), *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    private = folder / "key.pem"
    done = run_cli("key", "generate", "--private-key", private)
    assert done.returncode == 0, done.stderr
    return private, folder / "key.pub"


@pytest.fixture
def model(tmp_path):
    """A small model of three files, one in a subfolder."""
    root = tmp_path / "model"
    (root / "d").mkdir(parents=True)
    (root / "a.bin").write_bytes(b"weights" * 1000)
    (root / "d" / "b.txt").write_text("notes\n")
    (root / "README.md").write_text("# model\n")
    return root


@pytest.fixture(scope="module")
def big_model(tmp_path_factory):
    """About 200 MB in two sparse files: hashing takes a while, writing it does not."""
    root = tmp_path_factory.mktemp("big") / "model"
    root.mkdir()
    for name, size in [("weights-1.bin", 120 << 20), ("weights-2.bin", 80 << 20)]:
        with open(root / name, "wb") as f:
            f.truncate(size)
            f.seek(size // 2)
            f.write(name.encode())
    return root


@pytest.fixture(scope="module")
def gil_model(tmp_path_factory):
    """1 GiB in two sparse files: long enough to hash (over 0.2 s on one thread) that a held
    GIL would show; 200 MB has been hashed in under 0.2 s on a quiet machine."""
    root = tmp_path_factory.mktemp("gil") / "model"
    root.mkdir()
    for name, size in [("weights-1.bin", 640 << 20), ("weights-2.bin", 384 << 20)]:
        with open(root / name, "wb") as f:
            f.truncate(size)
            f.seek(size // 2)
            f.write(name.encode())
    return root


# ---- the console script ----


def test_the_console_script_is_the_modelsign_command():
    done = run_cli("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"modelsign {modelsign_rs.__version__}"


def test_the_console_script_signs_and_verifies_and_refuses_a_tampered_model(
    model, key_pair, tmp_path
):
    private, public = key_pair
    signature = tmp_path / "model.sig"
    signed = run_cli("sign", "key", model, "--private-key", private, "--signature", signature)
    assert signed.returncode == 0, signed.stderr
    assert "Signing succeeded" in signed.stdout
    verified = run_cli("verify", "key", model, "--public-key", public, "--signature", signature)
    assert verified.returncode == 0, verified.stderr

    (model / "a.bin").write_bytes(b"other weights")
    refused = run_cli("verify", "key", model, "--public-key", public, "--signature", signature)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "a.bin" in refused.stderr


def test_cli_main_takes_its_arguments_from_the_call(capfd):
    assert _native.cli_main(["modelsign", "--version"]) == 0
    assert capfd.readouterr().out.strip() == f"modelsign {modelsign_rs.__version__}"
    # A usage error is the command's exit status 2, not an exception.
    assert _native.cli_main(["modelsign", "no-such-command"]) == 2


# ---- hashing, against model_signing 1.1.1 ----


def reference_digests(path, config):
    return {
        rd.identifier: (rd.digest.algorithm, rd.digest.digest_value)
        for rd in config.hash(path).resource_descriptors()
    }


def native_digests(path, hashing):
    result = _native.hash(str(path), hashing=hashing)
    return {name: (algorithm, digest) for name, algorithm, digest in result["resources"]}


@pytest.mark.parametrize("hash_type", ["sha256", "blake2", "blake3"])
def test_hash_gives_model_signings_digests_for_a_real_model(hash_type):
    from model_signing import hashing

    config = hashing.Config().use_file_serialization(hashing_algorithm=hash_type)
    expected = reference_digests(SAMPLE_MODEL, config)
    assert len(expected) == 4
    assert native_digests(SAMPLE_MODEL, {"method": "files", "hash_type": hash_type}) == expected


def test_hash_gives_model_signings_shard_digests(model):
    from model_signing import hashing

    config = hashing.Config().use_shard_serialization(shard_size=1000)
    expected = reference_digests(model, config)
    assert len(expected) == 9  # a.bin is 7000 bytes: 7 shards
    got = native_digests(model, {"method": "shards", "shard_size": 1000})
    assert {name: digest for name, (_, digest) in got.items()} == {
        name: digest for name, (_, digest) in expected.items()
    }
    # model_signing's in-memory algorithm is "sha256-sharded-1000"; the native module
    # gives the one the signature records (OMS `hash_type`).
    assert {algorithm for algorithm, _ in expected.values()} == {"sha256-sharded-1000"}
    assert {algorithm for algorithm, _ in got.values()} == {"sha256"}


def test_files_to_hash_hashes_the_listed_files_as_model_signing_does(model):
    from model_signing import hashing

    listed = [model / "d" / "b.txt", model / "a.bin", model / "d"]
    expected = reference_digests(model, _ListedFiles(hashing.Config(), listed))
    assert sorted(expected) == ["a.bin", "d/b.txt"]
    result = _native.hash(str(model), hashing=FILES, files_to_hash=[str(p) for p in listed])
    assert {n: (a, d) for n, a, d in result["resources"]} == expected
    with pytest.raises(_native.InputError) as missing:
        _native.hash(str(model), hashing=FILES, files_to_hash=[str(model / "absent")])
    assert (missing.value.kind, missing.value.path) == ("io", str(model / "absent"))


class _ListedFiles:
    """model_signing's Config.hash with files_to_hash, in reference_digests' shape."""

    def __init__(self, config, files):
        self.config, self.files = config, files

    def hash(self, path):
        return self.config.hash(path, files_to_hash=self.files)


def test_hash_reports_the_manifest_in_canonical_order_with_its_root_digest(model):
    result = _native.hash(str(model), hashing=FILES)
    names = [name for name, _, _ in result["resources"]]
    assert names == ["README.md", "a.bin", "d/b.txt"]
    assert result["model_name"] == "model"
    assert result["serialization"]["method"] == "files"
    assert result["serialization"]["hash_type"] == "sha256"
    # OMS root digest: SHA-256 over the resource digests in canonical order.
    root = hashlib.sha256(b"".join(d for _, _, d in result["resources"])).hexdigest()
    assert result["root_digest"] == f"sha256:{root}"
    assert result["resources"][1][2] == hashlib.sha256(b"weights" * 1000).digest()


def test_hash_honours_ignore_paths_and_refuses_unknown_options(model):
    hashing = dict(FILES, ignore_paths=[str(model / "d")])
    names = [name for name, _, _ in _native.hash(str(model), hashing=hashing)["resources"]]
    assert names == ["README.md", "a.bin"]
    with pytest.raises(TypeError, match="hash_typo"):
        _native.hash(str(model), hashing={"hash_typo": "sha256"})
    with pytest.raises(_native.InputError, match="md5"):
        _native.hash(str(model), hashing={"hash_type": "md5"})


def test_hash_of_a_missing_model_is_an_unusable_model_path(tmp_path):
    # model_signing raises ValueError here, not FileNotFoundError; `kind` and `path` let
    # the Python layer say it model_signing's way.
    with pytest.raises(_native.InputError) as missing:
        _native.hash(str(tmp_path / "absent"), hashing=FILES)
    assert (missing.value.kind, missing.value.path) == ("model_path", str(tmp_path / "absent"))


def test_a_symlink_in_the_model_is_an_input_error_naming_it(model):
    (model / "link.bin").symlink_to(model / "a.bin")
    with pytest.raises(_native.InputError) as refused:
        _native.hash(str(model), hashing=FILES)
    assert (refused.value.kind, refused.value.path) == ("symlink", str(model / "link.bin"))


# ---- the GIL, progress, max_workers ----


def test_hashing_releases_the_gil(gil_model):
    """The main thread keeps running Python while another thread hashes: no gap between
    its iterations comes near the hashing's duration, as one would if the GIL were held."""
    timings = {}

    def work():
        start = time.perf_counter()
        _native.hash(str(gil_model), hashing=FILES, max_workers=1)
        timings["hash"] = time.perf_counter() - start

    thread = threading.Thread(target=work)
    # Timed from before the start: a thread holding the GIL from its first instruction
    # would otherwise go unnoticed (the main thread would only resume once it is done).
    last = time.perf_counter()
    thread.start()
    longest_gap = 0.0
    iterations = 0
    while thread.is_alive():
        now = time.perf_counter()
        longest_gap = max(longest_gap, now - last)
        last = now
        iterations += 1
    thread.join()
    assert timings["hash"] > 0.2, "too fast to tell: the model must be bigger"
    assert longest_gap < timings["hash"] / 4, (longest_gap, timings["hash"])
    assert iterations > 1000


def test_progress_is_monotonic_ends_at_the_total_and_comes_at_a_sane_rate(big_model):
    calls = []
    start = time.perf_counter()
    _native.hash(
        str(big_model), hashing=FILES, max_workers=1, progress=lambda d, t: calls.append((d, t))
    )
    elapsed = time.perf_counter() - start
    total = 200 << 20
    assert calls, "no progress reported"
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert len(set(done)) == len(done), "the same progress reported twice"
    assert done[-1] == total
    # At most ten calls a second, plus the final one.
    assert len(calls) <= elapsed * 10 + 2, (len(calls), elapsed)


def test_an_exception_in_the_progress_callback_stops_the_work_and_propagates(
    big_model, key_pair, tmp_path
):
    calls = []

    def fail(done, total):
        calls.append(done)
        raise RuntimeError("stop here")

    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="stop here"):
        _native.hash(str(big_model), hashing=FILES, max_workers=1, progress=fail)
    stopped_after = time.perf_counter() - start
    assert len(calls) == 1
    assert calls[0] < 200 << 20

    # Full hashing takes longer than stopping at the first report.
    start = time.perf_counter()
    _native.hash(str(big_model), hashing=FILES, max_workers=1)
    assert stopped_after < time.perf_counter() - start

    # Signing stops too, and writes no signature.
    signature = tmp_path / "model.sig"
    with pytest.raises(RuntimeError, match="stop here"):
        _native.sign(
            str(big_model),
            str(signature),
            signer={"method": "key", "private_key": str(key_pair[0])},
            hashing=FILES,
            max_workers=1,
            progress=fail,
        )
    assert not signature.exists()


CTRL_C_CHILD = """
import sys, time
from modelsign_rs import _native

start = time.perf_counter()
_native.hash(sys.argv[1], hashing={}, max_workers=1)
print("full", time.perf_counter() - start, flush=True)
# No progress callback: nothing runs Python code while hashing but the signal check.
start = time.perf_counter()
try:
    print("started", flush=True)
    _native.hash(sys.argv[2], hashing={}, max_workers=1)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", time.perf_counter() - start, flush=True)
"""


def test_ctrl_c_stops_hashing_with_keyboard_interrupt(tmp_path):
    # Sparse files: 512 MiB times how long one core takes to hash them, then an eight times
    # larger model to interrupt. The signal comes a fifth of the way into the smaller one's
    # time, so the interrupted run is still hashing even if the timed run was slow (a CI
    # machine's first touch of the pages) and the second one fast.
    timed, interrupted = tmp_path / "timed", tmp_path / "interrupted"
    for model, size in ((timed, 512 << 20), (interrupted, 4 << 30)):
        model.mkdir()
        with open(model / "weights.bin", "wb") as f:
            f.truncate(size)
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_CHILD, str(timed), str(interrupted)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        full = float(child.stdout.readline().split()[1])
        assert child.stdout.readline().strip() == "started"
        time.sleep(full / 5)
        child.send_signal(signal.SIGINT)
        outcome = child.stdout.readline().split()
    finally:
        child.wait(timeout=60)
    assert child.returncode == 0
    assert outcome[0] == "interrupted", outcome
    # Raised within a check interval or two of the signal, not once hashing is over.
    assert float(outcome[1]) < full * 0.7, (outcome, full)


def test_max_workers_must_be_a_count(model):
    with pytest.raises(OverflowError):
        _native.hash(str(model), hashing=FILES, max_workers=-1)
    assert _native.hash(str(model), hashing=FILES, max_workers=1)["resources"]


# ---- signing and verification ----


def key_signer(key_pair):
    return {"method": "key", "private_key": str(key_pair[0])}


def key_verifier(key_pair):
    return {"method": "key", "public_key": str(key_pair[1])}


@pytest.fixture
def signed(model, key_pair, tmp_path):
    signature = tmp_path / "model.sig"
    _native.sign(str(model), str(signature), signer=key_signer(key_pair), hashing=FILES)
    return model, signature


def verify(model, signature, key_pair, **options):
    return _native.verify(str(model), str(signature), verifier=key_verifier(key_pair), **options)


def test_sign_and_verify_round_trip_with_a_report(signed, key_pair):
    model, signature = signed
    report = verify(model, signature, key_pair, hashing=None)
    assert report["signed_model_name"] == "model"
    assert report["resources"] == 3
    assert report["root_digest"] == _native.hash(str(model), hashing=FILES)["root_digest"]
    assert report["serialization"]["hash_type"] == "sha256"
    assert report["notes"] == []
    # model_signing 1.1.1 verifies what the native module signed.
    from model_signing import verifying

    verifying.Config().use_elliptic_key_verifier(public_key=key_pair[1]).verify(
        model, signature
    )


def mismatch(model, signature, key_pair, **options):
    with pytest.raises(_native.VerificationError) as caught:
        verify(model, signature, key_pair, **options)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.kind == "mismatch"
    assert error.model_name == "model"
    return error


def test_a_changed_file_is_reported_with_both_digests(signed, key_pair):
    model, signature = signed
    (model / "a.bin").write_bytes(b"poisoned")
    error = mismatch(model, signature, key_pair)
    assert error.changed == [
        (
            "a.bin",
            "sha256",
            hashlib.sha256(b"weights" * 1000).digest(),
            hashlib.sha256(b"poisoned").digest(),
        )
    ]
    assert (error.missing, error.extra, error.symlinks, error.unsupported) == ([], [], [], [])
    assert "a.bin" in str(error)


def test_a_missing_and_an_extra_file_are_reported(signed, key_pair):
    model, signature = signed
    (model / "d" / "b.txt").unlink()
    (model / "new.txt").write_text("added")
    error = mismatch(model, signature, key_pair)
    assert error.missing == ["d/b.txt"]
    assert error.extra == ["new.txt"]
    assert error.changed == []


def test_ignore_unsigned_files_tolerates_an_extra_file(signed, key_pair):
    model, signature = signed
    (model / "new.txt").write_text("added")
    assert verify(model, signature, key_pair, ignore_unsigned_files=True)["resources"] == 3


def test_given_hashing_settings_replace_the_recorded_ones(signed, key_pair):
    model, signature = signed
    assert verify(model, signature, key_pair, hashing=FILES)["resources"] == 3
    error = mismatch(model, signature, key_pair, hashing={"hash_type": "blake2"})
    assert [name for name, *_ in error.changed] == ["README.md", "a.bin", "d/b.txt"]


def test_other_failures_have_their_kind(signed, key_pair, tmp_path):
    model, signature = signed
    other = tmp_path / "other.pem"
    assert run_cli("key", "generate", "--private-key", other).returncode == 0
    with pytest.raises(_native.VerificationError) as caught:
        _native.verify(
            str(model),
            str(signature),
            verifier={"method": "key", "public_key": str(tmp_path / "other.pub")},
        )
    assert caught.value.kind == "key_mismatch"
    assert caught.value.changed == []

    broken = tmp_path / "broken.sig"
    broken.write_text("{}")
    with pytest.raises(_native.VerificationError) as caught:
        verify(model, broken, key_pair)
    assert caught.value.kind == "bundle"


def test_missing_files_are_file_not_found_and_bad_keys_input_errors(
    signed, key_pair, tmp_path
):
    model, signature = signed
    with pytest.raises(FileNotFoundError):
        verify(model, tmp_path / "absent.sig", key_pair)
    with pytest.raises(FileNotFoundError):
        _native.sign(
            str(model),
            str(tmp_path / "x.sig"),
            signer={"method": "key", "private_key": str(tmp_path / "absent.pem")},
            hashing=FILES,
        )
    encrypted = tmp_path / "encrypted.pem"
    done = subprocess.run(
        [str(MODELSIGN), "key", "generate", "--private-key", str(encrypted), "--password-env", "PW"],
        env=dict(os.environ, PW="secret"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    for password in (None, b"wrong"):
        with pytest.raises(_native.InputError):
            _native.sign(
                str(model),
                str(tmp_path / "x.sig"),
                signer={"method": "key", "private_key": str(encrypted), "password": password},
                hashing=FILES,
            )
    _native.sign(
        str(model),
        str(tmp_path / "x.sig"),
        signer={"method": "key", "private_key": str(encrypted), "password": b"secret"},
        hashing=FILES,
    )
    assert not (tmp_path / "absent.sig").exists()


def test_the_package_imports_without_the_sources():
    # The installed package, not a checkout, is what runs here.
    assert "site-packages" in modelsign_rs.__file__
    assert shutil.which("modelsign", path=str(MODELSIGN.parent)) == str(MODELSIGN)
