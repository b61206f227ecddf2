"""The native module's exceptions as model_signing's API raises them: the same types and
messages, built from the structured fields the native exceptions carry (`kind`, the
changed, missing and extra resources, the model's name, a path), never by parsing the
library's messages.
"""

from __future__ import annotations

import contextlib
import pathlib
from typing import Any, Iterator, List, Optional, Tuple

from modelsign_rs import _native
from modelsign_rs.manifest import Digest

VerificationError = _native.VerificationError

try:
    from cryptography.exceptions import InvalidSignature as _InvalidSignatureBase
except ImportError:  # cryptography is optional; without it the error is a ValueError only
    _InvalidSignatureBase = None


if _InvalidSignatureBase is not None:

    class InvalidSignatureError(VerificationError, _InvalidSignatureBase):  # type: ignore[misc,valid-type]
        """The signature does not match what it signs (its bytes or the signed statement
        were altered). A `VerificationError` (so a ValueError), and also
        `cryptography.exceptions.InvalidSignature`, which model_signing raises here."""

else:  # pragma: no cover - exercised only without cryptography

    class InvalidSignatureError(VerificationError):  # type: ignore[no-redef]
        """The signature does not match what it signs (its bytes or the signed statement
        were altered). A `VerificationError`, so a ValueError."""


try:
    from sigstore.errors import VerificationError as _SigstoreVerificationErrorBase
except ImportError:  # sigstore is optional; without it the error is a ValueError only
    _SigstoreVerificationErrorBase = None


if _SigstoreVerificationErrorBase is not None:

    class SigstoreIdentityError(VerificationError, _SigstoreVerificationErrorBase):  # type: ignore[misc,valid-type]
        """A Sigstore signature made by another identity, or vouched for by another
        identity provider, than the verifier expects. A `VerificationError` (so a
        ValueError), and also `sigstore.errors.VerificationError`, which model_signing
        raises here."""

else:  # pragma: no cover - exercised only without sigstore

    class SigstoreIdentityError(VerificationError):  # type: ignore[no-redef]
        """A Sigstore signature made by another identity, or vouched for by another
        identity provider, than the verifier expects. A `VerificationError`, so a
        ValueError."""


KEY_MISMATCH_MESSAGE = (
    "Key mismatch: The public key hash in the signature's verification material does not "
    "match the provided public key. "
)

_SYMLINK_MESSAGE = (
    "Cannot use '{path}' because it is a symlink. This behavior can be changed with "
    "`allow_symlinks`."
)
_NOT_FILE_OR_DIRECTORY_MESSAGE = (
    "Cannot use '{path}' as file or directory. It could be a special file, it could be "
    "missing, or there might be a permission issue."
)

# The walk errors' `kind`s whose model_signing message names the offending path.
_PATH_MESSAGES = {
    "symlink": _SYMLINK_MESSAGE,
    "model_path": _NOT_FILE_OR_DIRECTORY_MESSAGE,
    "special_file": _NOT_FILE_OR_DIRECTORY_MESSAGE,
}


def _rebuilt(error: BaseException, message: str, cls: Optional[type] = None) -> BaseException:
    """A copy of `error` (same class unless `cls` is given, same attributes) saying
    `message`."""
    new = (cls or type(error))(message)
    for name, value in vars(error).items():
        setattr(new, name, value)
    return new


def _digest_algorithm(algorithm: str, shard_size: Optional[int]) -> str:
    return f"{algorithm}-sharded-{shard_size}" if shard_size else algorithm


def mismatch_message(
    model_name: str,
    changed: List[Tuple[str, str, bytes, bytes]],
    missing: List[str],
    extra: List[str],
    shard_size: Optional[int] = None,
) -> str:
    """model_signing's "Signature mismatch: [...]": extra files, then missing files, then
    one entry per changed resource, each list sorted by name."""
    diffs = []
    if extra:
        diffs.append(f"Extra files found in model '{model_name}': {', '.join(sorted(extra))}")
    if missing:
        diffs.append(f"Missing files in model '{model_name}': {', '.join(sorted(missing))}")
    for name, algorithm, expected, actual in sorted(changed):
        named = _digest_algorithm(algorithm, shard_size)
        diffs.append(
            f"Hash mismatch for '{name}': Expected '{Digest(named, bytes(expected))}', "
            f"Actual '{Digest(named, bytes(actual))}'"
        )
    return f"Signature mismatch: {diffs}"


def _joined(model_path: str, name: str) -> str:
    return str(pathlib.Path(model_path) / name)


def _verification_error(
    error: Any, model_path: str, shard_size: Optional[int]
) -> BaseException:
    kind = getattr(error, "kind", None)
    if kind == "mismatch":
        # model_signing checks every path before hashing, so a link or a special file is
        # reported first and alone.
        symlinks = list(getattr(error, "symlinks", []))
        if symlinks:
            return _rebuilt(
                error, _SYMLINK_MESSAGE.format(path=_joined(model_path, sorted(symlinks)[0]))
            )
        unsupported = list(getattr(error, "unsupported", []))
        if unsupported:
            return _rebuilt(
                error,
                _NOT_FILE_OR_DIRECTORY_MESSAGE.format(
                    path=_joined(model_path, sorted(unsupported)[0])
                ),
            )
        model_name = error.model_name or pathlib.Path(model_path).name
        return _rebuilt(
            error,
            mismatch_message(model_name, error.changed, error.missing, error.extra, shard_size),
        )
    if kind == "key_mismatch":
        return _rebuilt(error, KEY_MISMATCH_MESSAGE)
    if kind == "bad_signature":
        return _rebuilt(error, str(error), InvalidSignatureError)
    if kind in ("identity_mismatch", "issuer_mismatch"):
        return _rebuilt(error, str(error), SigstoreIdentityError)
    return error


def _walk_error(error: Any) -> BaseException:
    template = _PATH_MESSAGES.get(getattr(error, "kind", None) or "")
    path = getattr(error, "path", None)
    if template is None or path is None:
        return error
    return _rebuilt(error, template.format(path=path))


@contextlib.contextmanager
def translated(model_path: str, shard_size: Optional[int] = None) -> Iterator[None]:
    """Raises the native exceptions escaping the block as model_signing's API would.
    `shard_size` names shard digests in mismatch messages ("sha256-sharded-N")."""
    try:
        yield
    except VerificationError as error:
        new = _verification_error(error, model_path, shard_size)
        if new is error:
            raise
        raise new from error
    except (_native.InputError, _native.ModelSigningError) as error:
        new = _walk_error(error)
        if new is error:
            raise
        raise new from error


@contextlib.contextmanager
def configuring() -> Iterator[None]:
    """Raises the native exceptions of reading keys and certificates (a `use_*` method)
    as model_signing's would: an encrypted key without its password is a TypeError
    there."""
    try:
        yield
    except _native.InputError as error:
        if getattr(error, "kind", None) != "password_required":
            raise
        raise _rebuilt(error, str(error), TypeError) from error
