"""Verifying a model where it is loaded, against a trust policy: who may have signed it.

A trust policy is the file the ``modelsign`` command and the lineage store read (TOML, or
YAML by its extension): the accepted signers, each a public key, certificate roots or a
Sigstore identity, optionally limited to model names (``names = ["pkg:huggingface/acme/*"]``),
and a top-level ``mode``::

    mode = "enforce"            # or "warn": report a failure as a warning, load anyway

    [[signer]]
    name = "release key"
    key = "keys/release.pub"    # relative to the policy file
    names = ["pkg:huggingface/acme/*"]

Verify, then load, in two lines::

    modelsign_rs.verify_model_dir("models/finbert", "trust.toml")
    model = AutoModel.from_pretrained("models/finbert")

For a model in the Hugging Face cache, see `modelsign_rs.hf.verify_snapshot`.

The decisions (which signer verifies, whether the model matches what it signed, which
symbolic links of a Hugging Face snapshot may be followed) are the native library's; this
module turns its answer into a `PolicyResult`, an exception, or a warning.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import pathlib
import warnings
from collections.abc import Iterable
from typing import Any, Dict, List, Optional, Tuple, Union

from modelsign_rs import _native
from modelsign_rs._errors import VerificationError
from modelsign_rs.hashing import PathLike, ProgressCallback, _text_path
from modelsign_rs.verifying import VerificationReport

__all__ = [
    "ModelSigningWarning",
    "PolicyNotFoundError",
    "PolicyResult",
    "SignatureNotFoundError",
    "UntrustedSignatureError",
    "verify_model_dir",
]

DEFAULT_SIGNATURE_NAME = "model.sig"
"""The signature's file name inside the model folder when none is given."""

Names = Union[str, Iterable[str], None]


class ModelSigningWarning(UserWarning):
    """A model failed verification under a policy in ``mode = "warn"``: it was not
    refused, and this warning says why it would have been."""


class UntrustedSignatureError(VerificationError):
    """The signature is intact, but no signer of the policy may vouch for this model.

    Attributes:
        kind: "untrusted" (the policy's signers that apply to the model's names did not
            verify the signature) or "no-signer" (no signer of the policy applies to any of
            the model's names).
        attempts: (signer name, why it did not verify) for each signer tried.
        names: The names the model was matched against.
    """

    kind: str
    attempts: List[Tuple[str, str]]
    names: List[str]


class SignatureNotFoundError(FileNotFoundError, _native.InputError):
    """The model's signature file does not exist. A `FileNotFoundError` (what a missing
    file is in Python, with `filename` set) and an `InputError`."""


class PolicyNotFoundError(FileNotFoundError, _native.InputError):
    """The trust policy file does not exist. A `FileNotFoundError` (`filename` is the
    policy) and an `InputError`, as `SignatureNotFoundError` is for a signature."""


@dataclasses.dataclass(frozen=True, repr=False)
class PolicyResult:
    """What a verification under a trust policy decided.

    Attributes:
        accepted: True when a signer of the policy signed exactly this model. Only ever
            False in ``mode = "warn"`` (in ``enforce`` a failure raises).
        mode: The policy's mode, "enforce" or "warn".
        signer: The name (in the policy) of the signer that vouched for the model, or None.
        names: The names the model was matched against (the policy's ``names`` patterns).
        report: What the verification established, when it got that far; else None.
        failure: Why the model was not accepted, or None.
        path: The model folder verified (for a Hugging Face snapshot, the snapshot folder:
            load from it to load exactly what was verified).
    """

    accepted: bool
    mode: str
    signer: Optional[str]
    names: List[str]
    report: Optional[VerificationReport]
    failure: Optional[str]
    path: pathlib.Path

    def __bool__(self) -> bool:
        """True when accepted, so `if verify_model_dir(...)` reads as it should."""
        return self.accepted

    def __repr__(self) -> str:
        verdict = (
            f"signer={self.signer!r}" if self.accepted else f"failure={self.failure!r}"
        )
        resources = "" if self.report is None else f", resources={self.report.resources}"
        return (
            f"PolicyResult(accepted={self.accepted}, mode={self.mode!r}, {verdict}, "
            f"names={self.names!r}{resources}, path='{self.path}')"
        )


def verify_model_dir(
    path: PathLike,
    policy: PathLike,
    *,
    signature: Optional[PathLike] = None,
    name: Names = None,
    ignore_paths: Iterable[PathLike] = (),
    ignore_unsigned_files: bool = False,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> PolicyResult:
    """Verifies the model folder `path` against its signature and the trust policy file
    `policy`.

    The model is matched against the policy's name patterns by its names: for a Hugging
    Face cache snapshot ``ORG/NAME`` and ``pkg:huggingface/ORG/NAME``, else the folder's
    name, plus `name` (one name or several) if given. `name` only adds names the caller
    vouches for: a signer applies when any one of the model's names matches its patterns,
    so `name` can widen which signers apply and never restricts them. A Hugging Face
    snapshot's links into its own repository's ``blobs/`` are followed; any other symbolic
    link is refused.

    Do not pass ``ignore_unsigned_files=True`` right before a loader: an unsigned
    ``model.safetensors`` beside a signed ``pytorch_model.bin`` passes, and transformers
    loads the safetensors file first.

    Args:
        path: The model folder (or a single-file model, with `signature` given).
        policy: The trust policy file.
        signature: The signature file; default ``<path>/model.sig`` (a signature inside
            the model is not part of what it signs). Required for a single-file model.
        name: Further name(s) the caller vouches for, added to the model's own; any one
            matching a signer's patterns suffices (it never restricts).
        ignore_paths: Paths (relative to the model) left out of the comparison.
        ignore_unsigned_files: Tolerate files the signature does not list (dangerous
            before a loader, see above).
        max_workers: Hashing threads (default: the library's choice).
        progress: Called with (bytes_done, total_bytes) while the model is hashed.

    Returns:
        A `PolicyResult`; with ``mode = "warn"`` also when the model was not accepted
        (`accepted` is False and a `ModelSigningWarning` was issued).

    Raises:
        UntrustedSignatureError: (enforce) No signer of the policy may vouch for the model.
        VerificationError: (enforce) The signature is broken or the model differs from
            what was signed (`changed`, `missing`, `extra` say how), or the model holds a
            symbolic link out of a snapshot (`kind` "model").
        SignatureNotFoundError: (enforce) The signature file does not exist.
        PolicyNotFoundError: The policy file does not exist (in either mode).
        InputError: The policy file cannot be read or is invalid (in either mode);
            `path` is a file and no `signature` was given; (enforce) the model or its
            signature cannot be read or walked.
    """
    model = pathlib.Path(_text_path(path))
    signature_file = _signature_file(model, signature)
    return _verify(
        model,
        policy,
        signature_file,
        extra_names=_names(name),
        ignore_paths=ignore_paths,
        ignore_unsigned_files=ignore_unsigned_files,
        max_workers=max_workers,
        progress=progress,
    )


def _signature_file(model: pathlib.Path, signature: Optional[PathLike]) -> pathlib.Path:
    """The signature given, else ``<model>/model.sig``, which only a folder can hold."""
    if signature is not None:
        return pathlib.Path(_text_path(signature))
    if model.is_file():
        raise _native.InputError(
            f"{model} is a file: give signature= for a single-file model (the default, "
            f"{DEFAULT_SIGNATURE_NAME} inside the model, needs a folder)"
        )
    return model / DEFAULT_SIGNATURE_NAME


def _names(name: Names) -> List[str]:
    if name is None:
        return []
    if isinstance(name, str):
        return [name]
    return [str(n) for n in name]


def _verify(
    model: pathlib.Path,
    policy: PathLike,
    signature: pathlib.Path,
    *,
    extra_names: List[str],
    ignore_paths: Iterable[PathLike],
    ignore_unsigned_files: bool,
    max_workers: Optional[int],
    progress: Optional[ProgressCallback],
) -> PolicyResult:
    """The verification shared by `verify_model_dir` and `hf.verify_snapshot`, which
    call it directly (a warning's stack level counts on it)."""
    model_path = str(model)
    names = list(_native.model_names(model_path))
    names += [n for n in extra_names if n not in names]
    # A refusal (a missing signature too) comes back as the result's `failure`; only an
    # unusable policy or ignore path raises here.
    policy_path = _text_path(policy)
    try:
        data = _native.verify_with_policy(
            model_path,
            policy_path,
            str(signature),
            names=names,
            ignore_paths=[_text_path(p) for p in ignore_paths],
            ignore_unsigned_files=ignore_unsigned_files,
            max_workers=max_workers,
            progress=progress,
        )
    except _native.InputError as error:
        # A missing policy is a missing file to Python code, as a missing signature is.
        if not os.path.lexists(policy_path):
            raise PolicyNotFoundError(errno.ENOENT, str(error), policy_path) from error
        raise
    return _decided(data, model, signature)


def _report(data: Optional[Dict[str, Any]]) -> Optional[VerificationReport]:
    if data is None:
        return None
    return VerificationReport(
        root_digest=data.get("root_digest"),
        model_name=data["signed_model_name"],
        resources=data["resources"],
        notes=list(data.get("notes", [])),
    )


# warnings.warn's stack level that names the caller of verify_model_dir or
# hf.verify_snapshot: warn <- _decided <- _verify <- the entry point <- its caller.
_CALLER_STACK_LEVEL = 4


def _decided(data: Dict[str, Any], model: pathlib.Path, signature: pathlib.Path) -> PolicyResult:
    failure = data.get("failure")
    result = PolicyResult(
        accepted=bool(data["accepted"]),
        mode=data["mode"],
        signer=data.get("signer"),
        names=list(data.get("names", [])),
        report=_report(data.get("report")),
        failure=None if failure is None else failure["message"],
        path=model,
    )
    if result.accepted:
        return result
    if failure is None:  # pragma: no cover - the native result always says why
        failure = {"kind": "signature", "message": "the model was not accepted"}
    if result.mode == "warn":
        warnings.warn(
            f"{model}: {failure['message']}",
            ModelSigningWarning,
            stacklevel=_CALLER_STACK_LEVEL,
        )
        return result
    raise _error(failure, result, signature)


def _error(
    failure: Dict[str, Any], result: PolicyResult, signature: pathlib.Path
) -> BaseException:
    kind = failure["kind"]
    message = failure["message"]
    # A missing signature (or a snapshot link to a signature blob that is gone) is a
    # missing file to Python code.
    if kind == "signature" and not os.path.exists(signature):
        return SignatureNotFoundError(errno.ENOENT, message, str(signature))
    if failure.get("input_error"):
        # The library's call: the model (or signature) cannot be read or walked (a model
        # path that is not there, an unreadable file). A link out of a snapshot is not one:
        # it is a changed model, a VerificationError of kind "model".
        return _native.InputError(message)
    if kind in ("untrusted", "no-signer"):
        error: VerificationError = UntrustedSignatureError(message)
        error.attempts = [tuple(a) for a in failure.get("attempts", [])]  # type: ignore[attr-defined]
        error.names = list(result.names)  # type: ignore[attr-defined]
    elif kind == "invalid-signature":
        # A forged or damaged signature of a trusted signer: what plain verify raises.
        from modelsign_rs._errors import InvalidSignatureError

        error = InvalidSignatureError(message)
    else:
        error = VerificationError(message)
    # The attributes every VerificationError carries, as the native module sets them.
    error.kind = kind  # type: ignore[attr-defined]
    error.changed = list(failure.get("changed", []))  # type: ignore[attr-defined]
    error.missing = list(failure.get("missing", []))  # type: ignore[attr-defined]
    error.extra = list(failure.get("extra", []))  # type: ignore[attr-defined]
    error.symlinks = list(failure.get("symlinks", []))  # type: ignore[attr-defined]
    error.unsupported = list(failure.get("unsupported", []))  # type: ignore[attr-defined]
    error.model_name = result.path.name  # type: ignore[attr-defined]
    return error
