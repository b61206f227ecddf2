"""Signed provenance of pipeline stages (SLSA v1): what a stage (finetune, quantize,
merge, evaluate, ...) consumed and produced, every model and dataset named by the same
root digest its signature and model card use. The same provenance as
`modelsign provenance record|verify`.

Who signs and who is trusted come from the package's `signing.Config` and
`verifying.Config`, so every signing method works here too::

    from modelsign_rs import provenance, signing, verifying

    signer = signing.Config().use_elliptic_key_signer(private_key="key.priv")
    provenance.record(
        signer,
        stage="finetune",
        outputs=["./tuned"],
        inputs=[("base-model", "./base"), ("dataset", "./data")],
        parameters={"learning_rate": "2e-5"},
    )  # writes ./tuned/provenance.sig

    trusted = verifying.Config().use_elliptic_key_verifier(public_key="key.pub")
    verified = provenance.verify(trusted, "./tuned", check_inputs={"dataset": "./data"})

Inputs are references as `--input ROLE=REF` takes them: a local path (its root digest is
computed), `PURL#sha256=HEX`, `PURL#path=./copy`, `pkg:oci/NAME@sha256:HEX`,
`git+https://HOST/REPO@SHA`.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from modelsign_rs import _native
from modelsign_rs import signing as _signing
from modelsign_rs import verifying as _verifying
from modelsign_rs.hashing import PathLike, ProgressCallback, _text_path
from modelsign_rs.verifying import Signer

__all__ = [
    "Input",
    "RecordedProvenance",
    "Signer",
    "Subject",
    "VerifiedProvenance",
    "record",
    "verify",
]

Reference = Union[str, os.PathLike]
"""An input: a local path (str or os.PathLike), or a reference with a scheme (a purl)."""
Pairs = Union[Mapping[str, Any], Iterable[Union[Tuple[str, Any], str]]]
Time = Union[str, datetime.datetime, None]
ClaimsOption = Union[bool, PathLike, None]


@dataclasses.dataclass(frozen=True)
class Subject:
    """A model or dataset the provenance names: its name, root digest ("sha256:HEX") and
    URI (a purl), if recorded."""

    name: str
    root_digest: str
    uri: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Input:
    """A recorded input of the stage.

    Attributes:
        role: "base-model", "dataset", "code", "container", "framework", "config",
            "tokenizer" or "eval-set".
        label: How it is named (its name, else its URI, else a digest).
        name: Its name, if recorded.
        uri: Where it is found (a purl, a git URL), if recorded.
        digest: Its digests by algorithm ("sha256": the root digest; "gitCommit").
        claimed_by: Where it was claimed (metadata), for inputs nobody digested.
        status: "checked" (a local copy given to `verify` matches), "recorded" (signed
            with a digest, not re-checked), "claimed" or "undigested".
        checked_against: The local copy it was checked against, when "checked".
    """

    role: str
    label: str
    name: Optional[str]
    uri: Optional[str]
    digest: Dict[str, str]
    claimed_by: Optional[str]
    status: str
    checked_against: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class RecordedProvenance:
    """What `record` signed: the stage, its build type and builder, its outputs
    (`subjects`) and inputs, the files written, and the warnings (undigested inputs)."""

    stage: str
    build_type: str
    builder: str
    subjects: List[Subject]
    inputs: List[Input]
    provenance_paths: List[str]
    warnings: List[str]


@dataclasses.dataclass(frozen=True)
class VerifiedProvenance:
    """A provenance whose signature verified and of which the model at hand is an output.

    Attributes:
        stage: The stage ("finetune", ...); `build_type` its SLSA build type.
        builder: Who ran it; `self_recorded` when whoever ran it recorded it (SLSA
            Build L1).
        model: The output the model matched; `subjects` every output.
        signer: Who signed, for Sigstore; None for keys and certificates.
        public_key_hint: The key's hint, for keys.
        inputs: Each recorded input, with what was established about it.
        parameters: The run's parameters.
        started, finished: When the stage ran (RFC 3339).
        notes: What the verifier noticed without refusing.
    """

    stage: str
    build_type: str
    builder: str
    self_recorded: bool
    model: Subject
    subjects: List[Subject]
    signer: Optional[Signer]
    public_key_hint: Optional[str]
    inputs: List[Input]
    parameters: Dict[str, str]
    started: str
    finished: str
    notes: List[str]


def _pairs(
    pairs: Optional[Pairs], argument: str, pair: str, text: str
) -> List[Tuple[str, Any]]:
    """`pairs` as (key, value) pairs: a mapping, (key, value) pairs, or "KEY=VALUE"
    strings split at the first ``=`` (the CLI's ``--input``/``--param`` form). `pair` and
    `text` name the two forms in the error, e.g. "role, reference" and "role=ref"."""
    if pairs is None:
        return []
    if isinstance(pairs, Mapping):
        return list(pairs.items())
    expected = f"{argument}: expected ({pair}) pairs, '{text}' strings or a mapping"
    if isinstance(pairs, (str, bytes)):
        raise TypeError(f"{expected}; got a single {type(pairs).__name__} {pairs!r}")
    found: List[Tuple[str, Any]] = []
    for item in pairs:
        if isinstance(item, str) and "=" in item:
            key, value = item.split("=", 1)
            found.append((key, value))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            found.append((item[0], item[1]))
        else:
            raise TypeError(f"{expected}; got {item!r}")
    return found


def _reference(reference: Reference) -> str:
    return _text_path(reference) if isinstance(reference, os.PathLike) else str(reference)


def _output(output: Union[PathLike, Tuple[PathLike, str]]) -> str:
    if isinstance(output, tuple):
        path, uri = output
        return f"{_text_path(path)}={uri}"
    return _text_path(output)


def _time(value: Time) -> Optional[str]:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("a time must say its time zone (an aware datetime)")
        return value.isoformat()
    return value


def _claims(claims: ClaimsOption) -> Tuple[Optional[str], bool]:
    if claims is None or claims is False:
        return None, False
    if claims is True:
        return None, True
    return _text_path(claims), True


def _subject(data: Dict[str, Any]) -> Subject:
    return Subject(name=data["name"], root_digest=data["root_digest"], uri=data.get("uri"))


def _input(data: Dict[str, Any]) -> Input:
    checked = data.get("checked_against")
    return Input(
        role=data["role"],
        label=data["label"],
        name=data.get("name"),
        uri=data.get("uri"),
        digest=dict(data["digest"]),
        claimed_by=data.get("claimed_by"),
        status=data["status"],
        checked_against=None if checked is None else os.fsdecode(checked),
    )


def record(
    config: _signing.Config,
    *,
    stage: Optional[str] = None,
    outputs: Iterable[Union[PathLike, Tuple[PathLike, str]]] = (),
    inputs: Optional[Pairs] = None,
    parameters: Optional[Pairs] = None,
    builder_id: Optional[str] = None,
    started: Time = None,
    finished: Time = None,
    allow_undigested: bool = False,
    draft: Optional[PathLike] = None,
    output_file: Optional[PathLike] = None,
    claims: ClaimsOption = None,
    progress: Optional[ProgressCallback] = None,
) -> RecordedProvenance:
    """Records one pipeline stage: digests its outputs and local inputs, checks the inputs
    fit the stage, and signs its provenance with `config`'s signer (Sigstore if none is
    chosen) beside each output (OUTPUT/provenance.sig, or FILE.provenance.sig).

    Args:
        config: Who signs; its hashing config hashes the outputs (its ignored paths name
            paths inside an output; inputs are hashed by the default rules).
        stage: "data-prep", "pretrain", "finetune", "adapter", "distill", "merge",
            "quantize", "convert" or "evaluate"; required unless `draft` names one.
        outputs: What the stage produced: paths, or (path, uri) pairs.
        inputs: (role, reference) pairs, "role=ref" strings (as the command's
            ``--input``, split at the first ``=``), or a mapping role -> reference.
        parameters: Hyper-parameters, seeds, the command: a mapping, (key, value) pairs
            or "key=value" strings (as ``--param``).
        builder_id: Who ran the stage, as a URI (default: self-recorded).
        started: When it started (RFC 3339 text or an aware datetime; default: when it
            finished).
        finished: When it finished (default: now).
        allow_undigested: Record inputs without a digest (a warning says so).
        draft: Start from a draft (`modelsign provenance import-hf`); the arguments add to
            it and `stage` overrides it.
        output_file: Write the provenance to this one file instead of beside each output.
        claims: Append to each output's claims.jsonl (True), or to this file.
        progress: Called with (bytes_done, total_bytes) while hashing.

    Raises:
        InputError: A bad reference, stage, parameter or time; inputs that do not fit the
            stage; an undigested input not allowed; an unusable key.
        FileNotFoundError: A key or an input is missing.
        ModelSigningError: Signing failed.
    """
    if output_file is not None and claims not in (None, False):
        raise ValueError("give either output_file or claims, not both")
    input_pairs = _pairs(inputs, "inputs", "role, reference", "role=ref")
    parameter_pairs = _pairs(parameters, "parameters", "key, value", "key=value")
    signer = config._signer
    if signer is None:
        signer = _signing.Config().use_sigstore_signer()._signer
    hashing = config._hashing_config
    claims_file, use_claims = _claims(claims)
    data = _native.record_provenance(
        signer=signer,
        hashing=hashing._native_settings(),
        stage=stage,
        outputs=[_output(o) for o in outputs],
        inputs=[f"{role}={_reference(ref)}" for role, ref in input_pairs],
        parameters=[(str(k), str(v)) for k, v in parameter_pairs],
        builder_id=builder_id,
        started=_time(started),
        finished=_time(finished),
        allow_undigested=allow_undigested,
        draft=None if draft is None else _text_path(draft),
        output_file=None if output_file is None else _text_path(output_file),
        claims=claims_file,
        use_claims=use_claims,
        max_workers=hashing._max_workers,
        progress=progress,
    )
    return RecordedProvenance(
        stage=data["stage"],
        build_type=data["build_type"],
        builder=data["builder"],
        subjects=[_subject(s) for s in data["subjects"]],
        inputs=[_input(i) for i in data["inputs"]],
        provenance_paths=[os.fsdecode(p) for p in data["provenance"]],
        warnings=list(data["warnings"]),
    )


def verify(
    config: _verifying.Config,
    model_path: PathLike,
    provenance: Optional[PathLike] = None,
    *,
    check_inputs: Optional[Pairs] = None,
    claims: ClaimsOption = None,
    progress: Optional[ProgressCallback] = None,
) -> VerifiedProvenance:
    """Verifies the provenance of the model at `model_path` (default MODEL/provenance.sig,
    or FILE.provenance.sig) with `config`'s verifier: its signature, that the model is one
    of the stage's outputs, and that each local copy in `check_inputs` (a mapping role ->
    path, (role, path) pairs or "role=path" strings) hashes to a recorded input of that
    role.

    Raises:
        VerificationError: The signature does not verify; the model is not an output
            ("wrong_model"); an input copy differs ("input_changed"), or the provenance
            records no input of its role ("no_input_of_role").
        InputError: An unknown role, an unusable key or trust root.
        FileNotFoundError: The provenance is missing.
    """
    if config._verifier is None:
        raise ValueError("Attempting to verify with no configured verifier")
    if provenance is not None and claims not in (None, False):
        raise ValueError("give either provenance or claims, not both")
    checked_pairs = _pairs(check_inputs, "check_inputs", "role, path", "role=path")
    hashing = config._hashing_config
    claims_file, use_claims = _claims(claims)
    data = _native.verify_provenance(
        _text_path(model_path),
        verifier=config._verifier,
        provenance_path=None if provenance is None else _text_path(provenance),
        claims=claims_file,
        use_claims=use_claims,
        check_inputs=[(role, _text_path(path)) for role, path in checked_pairs],
        max_workers=None if hashing is None else hashing._max_workers,
        progress=progress,
    )
    signer = data.get("signer")
    return VerifiedProvenance(
        stage=data["stage"],
        build_type=data["build_type"],
        builder=data["builder"],
        self_recorded=data["self_recorded"],
        model=_subject(data["model"]),
        subjects=[_subject(s) for s in data["subjects"]],
        signer=None if signer is None else Signer(**signer),
        public_key_hint=data.get("public_key_hint"),
        inputs=[_input(i) for i in data["inputs"]],
        parameters=dict(data["parameters"]),
        started=data["started"],
        finished=data["finished"],
        notes=list(data["notes"]),
    )
