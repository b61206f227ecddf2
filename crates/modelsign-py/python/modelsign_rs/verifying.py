"""Verifying a model against its signature (model_signing's `verifying` API): check the
signature with a public key, a certificate chain or a Sigstore identity, then hash the
model and compare it with what was signed.

Example::

    modelsign_rs.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify(
        "finbert", "finbert.sig"
    )

`verify` returns None and raises when the model does not verify, as model_signing's does;
`report` raises the same way and returns what was verified (a `VerificationReport`).
The checks themselves are the native library's, run with the GIL released.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any, Dict, List, Optional

from modelsign_rs import _errors, _native
from modelsign_rs import hashing as _hashing
from modelsign_rs._errors import InvalidSignatureError, SigstoreIdentityError, VerificationError
from modelsign_rs.hashing import PathLike, ProgressCallback, _text_path

__all__ = [
    "Config",
    "InvalidSignatureError",
    "Signer",
    "SigstoreIdentityError",
    "VerificationError",
    "VerificationReport",
]

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Signer:
    """Who signed, where the method establishes an identity (Sigstore): a verified card's or
    provenance's `signer`."""

    identity: str
    issuer: str
    signed_at: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class VerificationReport:
    """What a successful verification established.

    Attributes:
        root_digest: The digest over the whole signed manifest ("sha256:HEX"), if the
            signature records one.
        model_name: The model's name as the signer recorded it.
        resources: How many resources (files or shards) were signed and checked.
        notes: What the verifier noticed without refusing (e.g. files left unchecked
            because `set_ignore_unsigned_files(True)`).
        checked_files: With `files` (partial verification): the signed files that were
            hashed and matched; no other file was read. None when every file was checked.
        resources_checked: How many signed resources were hashed and matched: `resources`
            unless the verification was partial.
    """

    root_digest: Optional[str]
    model_name: str
    resources: int
    notes: List[str]
    checked_files: Optional[List[str]] = None
    resources_checked: Optional[int] = None


def _prepared(verifier: Dict[str, Any]) -> Any:
    """The native verifier for `verifier`: keys and certificates are read now, as
    model_signing reads them when configured."""
    with _errors.configuring():
        return _native.prepare_verifier(verifier)


def _default_trust_anchors() -> str:
    """What model_signing trusts when given no certificate chain: certifi's CA bundle."""
    try:
        import certifi
    except ImportError as error:
        raise ValueError(
            "no certificate_chain given, and the default (the certifi package's CA "
            "bundle, as model_signing uses) is not installed: pip install certifi, or "
            "pass the trusted root certificates"
        ) from error
    return certifi.where()


class Config:
    """How to verify: which verifier (a `use_*` method; required), how to hash the model
    (by default as the signature records it) and whether files the signature does not
    list are tolerated. Setters return the same `Config`, so calls chain."""

    def __init__(self):
        """No verifier yet; hashing as the signature records; unsigned files refused."""
        self._hashing_config: Optional[_hashing.Config] = None
        self._verifier: Optional[Any] = None
        self._ignore_unsigned_files = False

    def verify(
        self,
        model_path: PathLike,
        signature_path: PathLike,
        *,
        files: Optional[Iterable[PathLike]] = None,
    ) -> None:
        """Verifies the model at `model_path` against the signature at `signature_path`;
        returns None when it verifies.

        `files` (modelsign's own) verifies partially, as a loader needs before it reads one
        shard: the signature and the whole signed manifest are checked as always, but only
        these files (or every signed file under these folders; relative to the working
        directory or absolute, inside the model) are hashed and compared, in time
        proportional to their size. A file the signature does not cover is refused.

        Raises:
            ValueError: No verifier is configured ("Attempting to verify with no configured
                verifier"); the model differs from what was signed ("Signature mismatch:
                [...]", a `VerificationError` whose `changed`, `missing` and `extra` list
                the differences); another key signed it ("Key mismatch: ..."); a symbolic
                link while links are refused; a model path that is not a file or folder.
            InvalidSignatureError: The signature does not match what it signs; it is also
                `cryptography.exceptions.InvalidSignature` when cryptography is installed.
            SigstoreIdentityError: A Sigstore signature by another identity or identity
                provider than `use_sigstore_verifier` names; it is also
                `sigstore.errors.VerificationError` when sigstore is installed.
            FileNotFoundError: The signature file is missing.
        """
        self._verify(model_path, signature_path, None, files)

    def report(
        self,
        model_path: PathLike,
        signature_path: PathLike,
        *,
        progress: Optional[ProgressCallback] = None,
        files: Optional[Iterable[PathLike]] = None,
    ) -> VerificationReport:
        """As `verify`, returning what was verified instead of None (with `files`, its
        `checked_files` say which were hashed). `progress`, if given, is called with
        (bytes_done, total_bytes) while the model is hashed; an exception it raises stops
        the work and is raised again here."""
        data = self._verify(model_path, signature_path, progress, files)
        return VerificationReport(
            root_digest=data.get("root_digest"),
            model_name=data["signed_model_name"],
            resources=data["resources"],
            notes=list(data.get("notes", [])),
            checked_files=data.get("checked_files"),
            resources_checked=data.get("resources_checked"),
        )

    def _verify(
        self,
        model_path: PathLike,
        signature_path: PathLike,
        progress: Optional[ProgressCallback],
        files: Optional[Iterable[PathLike]] = None,
    ) -> Dict[str, Any]:
        if self._verifier is None:
            raise ValueError("Attempting to verify with no configured verifier")
        given = self._hashing_config
        shard_size = given._shard_size if given is not None and given._method == "shards" else None
        path = _text_path(model_path)
        with _errors.translated(path, shard_size):
            data = _native.verify(
                path,
                _text_path(signature_path),
                verifier=self._verifier,
                hashing=None if given is None else given._native_settings(),
                ignore_unsigned_files=self._ignore_unsigned_files,
                max_workers=None if given is None else given._max_workers,
                progress=progress,
                files=None if files is None else [_text_path(f) for f in files],
            )
        self._log_fingerprints(data)
        return data

    @staticmethod
    def _log_fingerprints(data: Dict[str, Any]) -> None:
        for fingerprint in data.get("anchor_fingerprints", []):
            _log.info("Trust anchor certificate SHA-256 fingerprint: %s", fingerprint)
        for fingerprint in data.get("signature_fingerprints", []):
            _log.info("Signature certificate SHA-256 fingerprint: %s", fingerprint)

    def set_hashing_config(self, hashing_config: _hashing.Config) -> "Config":
        """Hashes the model as `hashing_config` says instead of as the signature records
        (paths the signature records as ignored stay ignored)."""
        self._hashing_config = hashing_config
        return self

    def set_ignore_unsigned_files(self, ignore_unsigned_files: bool) -> "Config":
        """Whether files the signature does not list are tolerated (not checked) rather
        than reported as extra (default)."""
        self._ignore_unsigned_files = ignore_unsigned_files
        return self

    def use_sigstore_verifier(
        self,
        *,
        identity: str,
        oidc_issuer: str,
        use_staging: bool = False,
        trust_config: Optional[PathLike] = None,
    ) -> "Config":
        """Verifies Sigstore signatures made by `identity` (the certificate's subject,
        e.g. an e-mail address) as vouched for by the identity provider `oidc_issuer`.

        Args:
            identity: The signer's identity, compared exactly.
            oidc_issuer: The identity provider's URL, compared exactly.
            use_staging: Use Sigstore's staging instance (for tests).
            trust_config: A trusted root or client trust configuration to use instead of
                the public instance's.
        """
        self._verifier = _prepared(
            {
                "method": "sigstore",
                "identity": identity,
                "oidc_issuer": oidc_issuer,
                "use_staging": use_staging,
                "trust_config": None if trust_config is None else _text_path(trust_config),
            }
        )
        return self

    def use_elliptic_key_verifier(self, *, public_key: PathLike) -> "Config":
        """Verifies signatures made by the private key of the PEM public key file
        `public_key`, which is read here.

        Raises:
            FileNotFoundError: The file is missing.
            ValueError: It is not a PEM public key on P-256, P-384 or P-521.
        """
        self._verifier = _prepared({"method": "key", "public_key": _text_path(public_key)})
        return self

    def use_certificate_verifier(
        self,
        *,
        certificate_chain: Iterable[PathLike] = frozenset(),
        log_fingerprints: bool = False,
    ) -> "Config":
        """Verifies signatures whose certificate chains up to one of `certificate_chain`
        (PEM files of trusted roots).

        Args:
            certificate_chain: The trusted certificates, read here. Without any, the CA
                bundle of the `certifi` package (Mozilla's roots) is trusted, as
                model_signing trusts it.
            log_fingerprints: Log the SHA-256 fingerprints of the trusted and the
                signature's certificates (logger "modelsign_rs.verifying", level INFO).
        """
        anchors = [_text_path(c) for c in certificate_chain] or [_default_trust_anchors()]
        self._verifier = _prepared(
            {
                "method": "certificate",
                "certificate_chain": anchors,
                "log_fingerprints": log_fingerprints,
            }
        )
        return self
