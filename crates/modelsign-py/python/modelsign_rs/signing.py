"""Signing a model (model_signing's `signing` API): hash it, then sign the manifest with
Sigstore, an elliptic-curve key, a key and certificate chain, or a PKCS#11 token. The
signature is a Sigstore bundle that model_signing and the `modelsign` command verify.

Example::

    modelsign_rs.signing.Config().use_elliptic_key_signer(private_key="key.priv").sign(
        "finbert", "finbert.sig"
    )

A `Config` records what to sign with; the native library reads the keys, hashes and signs
when `sign` is called, with the GIL released.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from modelsign_rs import _errors, _native
from modelsign_rs import hashing as _hashing
from modelsign_rs.hashing import PathLike, ProgressCallback, _text_path

if TYPE_CHECKING:
    from modelsign_rs import verifying as _verifying

__all__ = ["Config", "SigningReport", "sign"]


@dataclasses.dataclass(frozen=True)
class SigningReport:
    """What `Config.sign` signed, and how.

    Attributes:
        root_digest: The digest over the whole manifest signed ("sha256:HEX").
        resources: How many resources (files or shards) the signature lists.
        hashed_files: Files read and hashed; `hashed_bytes` their size.
        known_files: Files signed with a digest taken from the earlier signature (`reuse`)
            or the list (`digests`), not read; `known_bytes` their size.
        renamed: (old name, new name) of each file git reports renamed unchanged, whose
            digest moved with it (`changed_since_git`).
        stat_cache: The stat cache file the signed files were recorded in (`stat_cache`);
            `recorded_files` how many were (a file changed within the file system's
            timestamp step of being hashed is not, and is hashed again next time).
        notes: What did not stop signing but is worth knowing (a stat cache that could not
            be read, and was ignored).
    """

    root_digest: str
    resources: int
    hashed_files: int
    hashed_bytes: int
    known_files: int
    known_bytes: int
    renamed: List[Tuple[str, str]]
    stat_cache: Optional[str]
    recorded_files: int
    notes: List[str]


def sign(model_path: PathLike, signature_path: PathLike) -> None:
    """Signs the model at `model_path` with Sigstore's defaults (an interactive sign-in
    with the public instance) and writes the signature to `signature_path`."""
    Config().sign(model_path, signature_path)


def _prepared(signer: Dict[str, Any]) -> Any:
    """The native signer for `signer`: the key (or token) is read now, as model_signing
    reads it when configured, so its errors are raised by the `use_*` call."""
    with _errors.configuring():
        return _native.prepare_signer(signer)


class Config:
    """What to sign with and how to hash. Without a signer configured, `sign` uses
    Sigstore with its defaults. The `use_*` methods and `set_hashing_config` return the
    same `Config`, so calls chain."""

    def __init__(self):
        """No signer yet (Sigstore is used if none is chosen) and the default hashing."""
        self._hashing_config = _hashing.Config()
        # A signer dict (Sigstore: built when signing, since its identity token is wanted
        # only then) or the native signer built from one when configured.
        self._signer: Optional[Any] = None

    def sign(
        self,
        model_path: PathLike,
        signature_path: PathLike,
        *,
        reuse: Optional[PathLike] = None,
        reuse_verifier: Optional["_verifying.Config"] = None,
        changed: Optional[Iterable[PathLike]] = None,
        changed_since_git: Optional[str] = None,
        stat_cache: bool = False,
        digests: Optional[PathLike] = None,
    ) -> SigningReport:
        """Hashes the model at `model_path` and writes its signature to `signature_path`.

        The keyword arguments (modelsign's own; model_signing has none) sign without
        hashing every file:

        - `reuse`: an earlier signature of the model. It is verified first, with
          `reuse_verifier` (a `verifying.Config` with its verifier chosen; a key signer's
          own public key by default), and must have been made with the same hashing; the
          files that did not change keep its digests and are not read. What changed is
          `changed` (files or folders, relative to the model or absolute inside it; `[]`
          for none),
          `changed_since_git` (the git revision the earlier signature was made of) or, with
          neither, the stat cache. Added and removed files are found by the walk. The
          signature is the one a full re-sign makes; a changed file not declared changed
          keeps its old digest, and the signature then fails verification naming it.
        - `stat_cache`: record each file's size, times, inode and device beside its digest
          in the user's cache folder (never in the model) for a later `reuse` to trust.
        - `digests`: sign the digests a pipeline already computed (a `sha256sum`-style list
          or another tool's OMS manifest) instead of hashing the files it lists; the
          report says how many were not re-hashed. Verification always hashes.

        Returns a `SigningReport`: what was hashed and what taken as known.

        Raises:
            ValueError: A symbolic link in the model while links are refused, a model path
                that is not a file or folder, an earlier signature that does not verify or
                hashed otherwise, options that do not go together.
            FileNotFoundError: A Sigstore trust config, the earlier signature or the
                digest list is missing.

        The `use_*` methods raise the errors of the keys and certificates they read.
        """
        return self._sign(
            model_path,
            signature_path,
            None,
            reuse=reuse,
            reuse_verifier=reuse_verifier,
            changed=changed,
            changed_since_git=changed_since_git,
            stat_cache=stat_cache,
            digests=digests,
        )

    def sign_with_progress(
        self,
        model_path: PathLike,
        signature_path: PathLike,
        progress: ProgressCallback,
        **options: Any,
    ) -> SigningReport:
        """As `sign` (which takes the same keyword arguments), calling
        `progress(bytes_done, total_bytes)` while the model is hashed (at most about ten
        times a second, from the calling thread); an exception it raises stops the work and
        is raised again here."""
        return self._sign(model_path, signature_path, progress, **options)

    def _sign(
        self,
        model_path: PathLike,
        signature_path: PathLike,
        progress: Optional[ProgressCallback],
        *,
        reuse: Optional[PathLike] = None,
        reuse_verifier: Optional["_verifying.Config"] = None,
        changed: Optional[Iterable[PathLike]] = None,
        changed_since_git: Optional[str] = None,
        stat_cache: bool = False,
        digests: Optional[PathLike] = None,
    ) -> SigningReport:
        if self._signer is None:
            self.use_sigstore_signer()
        assert self._signer is not None
        verifier = None
        if reuse_verifier is not None:
            verifier = reuse_verifier._verifier
            if verifier is None:
                raise ValueError("reuse_verifier has no verifier: call one of its use_* methods")
        path = _text_path(model_path)
        with _errors.translated(path):
            data = _native.sign(
                path,
                _text_path(signature_path),
                signer=self._signer,
                hashing=self._hashing_config._native_settings(),
                max_workers=self._hashing_config._max_workers,
                progress=progress,
                reuse=None if reuse is None else _text_path(reuse),
                reuse_verifier=verifier,
                changed=None if changed is None else [_text_path(p) for p in changed],
                changed_since_git=changed_since_git,
                stat_cache=stat_cache,
                digests=None if digests is None else _text_path(digests),
            )
        return SigningReport(
            root_digest=data["root_digest"],
            resources=data["resources"],
            hashed_files=data["hashed_files"],
            hashed_bytes=data["hashed_bytes"],
            known_files=data["known_files"],
            known_bytes=data["known_bytes"],
            renamed=[tuple(pair) for pair in data["renamed"]],
            stat_cache=None if data["stat_cache"] is None else data["stat_cache"][0],
            recorded_files=0 if data["stat_cache"] is None else data["stat_cache"][1],
            notes=list(data["notes"]),
        )

    def set_hashing_config(self, hashing_config: _hashing.Config) -> "Config":
        """Hashes the model as `hashing_config` says (give the verifier the same)."""
        self._hashing_config = hashing_config
        return self

    def use_sigstore_signer(
        self,
        *,
        oidc_issuer: Optional[str] = None,
        use_ambient_credentials: bool = False,
        use_staging: bool = False,
        force_oob: bool = False,
        identity_token: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        trust_config: Optional[PathLike] = None,
    ) -> "Config":
        """Signs with Sigstore: a short-lived certificate for an OpenID Connect identity,
        logged in the transparency log.

        Args:
            oidc_issuer: The identity provider to sign in with, instead of the one the
                signing config names; only the interactive sign-in uses it (a given
                `identity_token` or ambient credentials are used as they are).
            use_ambient_credentials: Take the identity token from the environment (a CI
                provider's) instead of signing in.
            use_staging: Use Sigstore's staging instance (for tests).
            force_oob: Sign in by pasting a code instead of a browser redirect.
            identity_token: An identity token to use as is.
            client_id: The OAuth client to sign in as (default "sigstore").
            client_secret: That client's secret, if it has one.
            trust_config: A Sigstore client trust configuration to use instead of the
                public instance's.
        """
        self._signer = {
            "method": "sigstore",
            "oidc_issuer": oidc_issuer,
            "use_ambient_credentials": use_ambient_credentials,
            "use_staging": use_staging,
            "force_oob": force_oob,
            "identity_token": identity_token,
            "client_id": client_id,
            "client_secret": client_secret,
            "trust_config": None if trust_config is None else _text_path(trust_config),
        }
        return self

    def use_elliptic_key_signer(
        self, *, private_key: PathLike, password: Optional[Union[bytes, str]] = None
    ) -> "Config":
        """Signs with the elliptic-curve private key in the PEM file `private_key`
        (encrypted with `password`, if given: bytes as model_signing takes it, or a str);
        verify with its public key. The key is read here.

        Raises:
            FileNotFoundError: The key file is missing.
            ValueError: The key is malformed, not an EC key on P-256, P-384 or P-521, or
                `password` is wrong.
            TypeError: The key is encrypted and no `password` was given.
        """
        self._signer = _prepared(
            {"method": "key", "private_key": _text_path(private_key), "password": password}
        )
        return self

    def use_certificate_signer(
        self,
        *,
        private_key: PathLike,
        signing_certificate: PathLike,
        certificate_chain: Iterable[PathLike],
    ) -> "Config":
        """Signs with `private_key` and puts `signing_certificate` (its certificate) and
        `certificate_chain` (the intermediate certificates up to a root) in the signature;
        verify with the root.

        Raises (here: the key and certificates are read when configured):
            FileNotFoundError: A key or certificate file is missing.
            ValueError: A malformed key or certificate; the certificate is not that of
                the private key.
        """
        self._signer = _prepared(
            {
                "method": "certificate",
                "private_key": _text_path(private_key),
                "signing_certificate": _text_path(signing_certificate),
                "certificate_chain": [_text_path(c) for c in certificate_chain],
            }
        )
        return self

    def use_pkcs11_signer(
        self, *, pkcs11_uri: str, module_paths: Iterable[str] = frozenset()
    ) -> "Config":
        """Signs with a key on a PKCS#11 token (an HSM, a smart card), named by the RFC
        7512 URI `pkcs11_uri`. The URI names the module: `module-path=` (the module file,
        or a folder to search) or `module-name=` (e.g. `softhsm2` for
        `libsofthsm2.so`), looked for in the folders `module_paths` (default: the usual
        PKCS#11 folders, model_signing's two among them). The token is opened and logged
        in to here, as model_signing does.

        Raises:
            ValueError: No such module, token or key; a key that is not an EC key on
                P-256, P-384 or P-521.
        """
        self._signer = _prepared(
            {
                "method": "pkcs11",
                "pkcs11_uri": pkcs11_uri,
                "module_paths": [_text_path(p) for p in module_paths],
            }
        )
        return self

    def use_pkcs11_certificate_signer(
        self,
        *,
        pkcs11_uri: str,
        signing_certificate: PathLike,
        certificate_chain: Iterable[PathLike],
        module_paths: Iterable[str] = frozenset(),
    ) -> "Config":
        """As `use_pkcs11_signer`, putting the key's `signing_certificate` and the
        `certificate_chain` up to a root in the signature (verify with the root).

        Raises:
            ValueError: As `use_pkcs11_signer`; the certificate is not that of the key.
            FileNotFoundError: A certificate file is missing.
        """
        self._signer = _prepared(
            {
                "method": "pkcs11-certificate",
                "pkcs11_uri": pkcs11_uri,
                "signing_certificate": _text_path(signing_certificate),
                "certificate_chain": [_text_path(c) for c in certificate_chain],
                "module_paths": [_text_path(p) for p in module_paths],
            }
        )
        return self
