"""Helpers the parity tests share that are not fixtures: loading an implementation, test
models, keys and certificates, expectations computed from the bytes on disk, and tampering
with signature files.

An implementation that cannot be imported fails the test when CI is set (as in
crates/test-support's `in_ci`: set, non-empty and not "false"), so a broken or missing
wheel cannot pass as skipped; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import pathlib
import subprocess
from dataclasses import dataclass
from typing import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

REFERENCE = "model_signing"
OURS = "modelsign_rs"
IMPLEMENTATIONS = (REFERENCE, OURS)
SIGNING_METHODS = ("key", "certificate")


def in_ci() -> bool:
    value = os.environ.get("CI")
    return bool(value) and value != "false"


def load_implementation(name: str):
    """Imports the top-level module only, as `import NAME as model_signing` would."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        reason = f"{name} is not importable ({error})"
        if in_ci():
            pytest.fail(f"{reason}; in CI every implementation must be installed")
        hint = (
            "build and pip install the modelsign-rs wheel"
            if name == OURS
            else "pip install model_signing==1.1.1 pyopenssl"
        )
        pytest.skip(f"{reason}; {hint} to run this case")


# ---------------------------------------------------------------------------------------
# Models

# model_signing ignores these unless told `ignore_git_paths=False`.
GIT_PATHS = frozenset({".git", ".gitattributes", ".github", ".gitignore"})


def _patterned_bytes(size: int, seed: int) -> bytes:
    return bytes((seed + 7 * i) % 251 for i in range(size))


# Relative path -> content. `a.bin` spans 11 shards of SMALL_SHARD bytes, so shard starts
# 200 and 1000 sort differently as numbers and as text; `d.txt` beside the folder `d/`
# sorts differently by path components and by string; `empty` is left out of shard
# manifests by model_signing; `.gitignore` is a default ignored git path.
MODEL_FILES = {
    "a.bin": _patterned_bytes(1050, 1),
    "d/b.txt": b"hello from d\n",
    "d.txt": b"a file beside the folder d\n",
    "README.md": b"# a test model\n",
    "empty": b"",
    ".gitignore": b"*.tmp\n",
}
SMALL_SHARD = 100


def write_model(folder: pathlib.Path, files: dict[str, bytes] = MODEL_FILES) -> pathlib.Path:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


# ---------------------------------------------------------------------------------------
# Keys and certificates


@dataclass(frozen=True)
class KeyPair:
    private_key: pathlib.Path
    public_key: pathlib.Path


def write_ec_key_pair(folder: pathlib.Path, name: str) -> KeyPair:
    """A fresh P-256 key as PEM files `<name>.priv` (PKCS#8) and `<name>.pub` (SPKI)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private_key = folder / f"{name}.priv"
    public_key = folder / f"{name}.pub"
    private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_key.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    return KeyPair(private_key, public_key)


@dataclass(frozen=True)
class CertificateChain:
    """root -> intermediate -> leaf, each a P-256 key signed by the one before."""

    root: pathlib.Path
    intermediate: pathlib.Path
    leaf: pathlib.Path
    leaf_key: pathlib.Path


def _openssl(folder: pathlib.Path, *args: str) -> None:
    done = subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, f"openssl {args}: {done.stderr}"


# The leaf may sign (model_signing requires digitalSignature or codeSigning); the CAs may
# only issue certificates, and the intermediate only leaves.
_EXTENSIONS = {
    "root": "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier=hash\n",
    "intermediate": "basicConstraints=critical,CA:TRUE,pathlen:0\n"
    "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
    "authorityKeyIdentifier=keyid\n",
    "leaf": "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=codeSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
}


def write_certificate_chain(folder: pathlib.Path) -> CertificateChain:
    issuer = None
    for serial, name in enumerate(("root", "intermediate", "leaf"), start=1):
        _openssl(
            folder, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", f"{name}.key",
        )
        (folder / f"{name}.ext").write_text(_EXTENSIONS[name])
        _openssl(folder, "req", "-new", "-key", f"{name}.key", "-subj", f"/CN=parity {name}",
                 "-out", f"{name}.csr")
        signed_by = ["-key", f"{name}.key"] if issuer is None else [
            "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key"]
        _openssl(folder, "x509", "-req", "-in", f"{name}.csr", *signed_by, "-days", "2",
                 "-set_serial", str(serial), "-extfile", f"{name}.ext", "-out", f"{name}.pem")
        issuer = name
    return CertificateChain(
        root=folder / "root.pem",
        intermediate=folder / "intermediate.pem",
        leaf=folder / "leaf.pem",
        leaf_key=folder / "leaf.key",
    )


# ---------------------------------------------------------------------------------------
# Expectations computed from the bytes on disk, independent of either implementation.


def _sort_key(identifier: str, start: int = 0):
    # model_signing orders descriptors by path components, then shard start as a number.
    return (pathlib.PurePosixPath(identifier).parts, start)


def expected_descriptors(
    files: dict[str, bytes],
    algorithm: str = "sha256",
    shard_size: int | None = None,
    ignored: frozenset[str] = GIT_PATHS,
) -> list[tuple[str, str, bytes]]:
    """(identifier, digest algorithm, digest bytes) in resource_descriptors() order."""
    hashlib_name = {"sha256": "sha256", "blake2": "blake2b"}[algorithm]
    rows = []
    for relative, content in files.items():
        if relative.split("/")[0] in ignored or relative in ignored:
            continue
        if shard_size is None:
            digest = hashlib.new(hashlib_name, content).digest()
            rows.append((_sort_key(relative), (relative, hashlib_name, digest)))
            continue
        for start in range(0, len(content), shard_size):
            end = min(start + shard_size, len(content))
            digest = hashlib.new(hashlib_name, content[start:end]).digest()
            rows.append(
                (
                    _sort_key(relative, start),
                    (f"{relative}:{start}:{end}", f"{hashlib_name}-sharded-{shard_size}", digest),
                )
            )
    return [row for _, row in sorted(rows)]


def descriptors(manifest) -> list[tuple[str, str, bytes]]:
    return [
        (rd.identifier, rd.digest.algorithm, rd.digest.digest_value)
        for rd in manifest.resource_descriptors()
    ]


def normalised_serialization(manifest) -> dict:
    """serialization_type with ignore_paths as a set (model_signing's order is hash-seeded)."""
    result = dict(manifest.serialization_type)
    if "ignore_paths" in result:
        result["ignore_paths"] = frozenset(result["ignore_paths"])
    return result


# ---------------------------------------------------------------------------------------
# Signature files (Sigstore bundles with a DSSE envelope) taken apart for tampering.


def rewrite_bundle(signature: pathlib.Path, change: Callable[[dict], None]) -> None:
    bundle = json.loads(signature.read_text())
    change(bundle)
    signature.write_text(json.dumps(bundle))


def flip_last_signature_byte(bundle: dict) -> None:
    envelope_signature = bundle["dsseEnvelope"]["signatures"][0]
    raw = bytearray(base64.b64decode(envelope_signature["sig"]))
    raw[-1] ^= 0x01  # inside the DER integer s, so the encoding stays well-formed
    envelope_signature["sig"] = base64.b64encode(bytes(raw)).decode()


def replace_payload_digest(name: str, new_digest: bytes) -> Callable[[dict], None]:
    """Rewrites the signed statement so it claims `new_digest` for resource `name`."""

    def change(bundle: dict) -> None:
        envelope = bundle["dsseEnvelope"]
        statement = json.loads(base64.b64decode(envelope["payload"]))
        resources = statement["predicate"]["resources"]
        matching = [r for r in resources if r["name"] == name]
        assert matching, f"{name} not in the signed resources {resources}"
        matching[0]["digest"] = new_digest.hex()
        envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()

    return change


# The three categories model_signing's verifying.Config puts in "Signature mismatch: [...]".
MISMATCH_CATEGORIES = ("Hash mismatch for", "Missing files in model", "Extra files found in model")


def mismatch_categories(error: BaseException) -> set[str]:
    message = str(error)
    assert message.startswith("Signature mismatch: ["), message
    return {category for category in MISMATCH_CATEGORIES if category in message}
