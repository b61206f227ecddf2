"""Signed model cards: evaluation results, datasets, license and intended use, signed by
the producer and bound to the model's root digest, which any consumer can verify, gate on
(`require=["accuracy>=0.9"]`) and render. The same cards as `modelsign card sign|verify|show`
(CycloneDX 1.6 in an in-toto statement, in its own signature beside the model's).

Who signs and who is trusted come from the package's `signing.Config` and
`verifying.Config`, so every signing method works for cards too::

    from modelsign_rs import card, signing, verifying

    card.draft("finbert").write("card.yaml")  # then review and edit it
    signer = signing.Config().use_elliptic_key_signer(private_key="key.priv")
    card.sign(signer, "finbert", "card.yaml")  # writes model-card.sig

    trusted = verifying.Config().use_elliptic_key_verifier(public_key="key.pub")
    verified = card.verify(trusted, "finbert", require=["accuracy>=0.9"])
    print(verified.render("markdown"))

A card that verifies but misses a policy raises `CardPolicyError`, a `VerificationError`
whose `card` is the `VerifiedCard` (so a script can still show what the card says).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from modelsign_rs import _native
from modelsign_rs import hashing as _hashing
from modelsign_rs import signing as _signing
from modelsign_rs import verifying as _verifying
from modelsign_rs._native import VerificationError
from modelsign_rs.hashing import PathLike, ProgressCallback, _text_path
from modelsign_rs.verifying import Signer

__all__ = [
    "CardPolicyError",
    "DraftedCard",
    "Metric",
    "PolicyOutcome",
    "SignedCard",
    "Signer",
    "VerifiedCard",
    "FORMATS",
    "draft",
    "sign",
    "verify",
]

FORMATS = ("text", "markdown", "html", "json", "cyclonedx")
"""What `VerifiedCard.render` renders, as `modelsign card show --format` names them."""

ClaimsOption = Union[bool, PathLike, None]


@dataclasses.dataclass(frozen=True)
class Metric:
    """One signed evaluation result.

    Attributes:
        metric: The metric's name (`accuracy`, `f1`, ...).
        value: The score.
        dataset: The dataset it was measured on, if the card says.
        split: The dataset's split (`test`, `validation`), if the card says.
        slice: A further slice of the data, if the card says.
        confidence_interval: (lower, upper), if the card gives one.
        source: Who measured it, or where it is published.
        date: When it was measured.
    """

    metric: str
    value: float
    dataset: Optional[str] = None
    split: Optional[str] = None
    slice: Optional[str] = None
    confidence_interval: Optional[Tuple[float, float]] = None
    source: Optional[str] = None
    date: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class PolicyOutcome:
    """A `require` policy evaluated on the card's signed metrics: `holds`, and `detail`
    saying what was compared (or why nothing could be)."""

    policy: str
    holds: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class SignedCard:
    """What `sign` wrote: the model's name and root digest the card is bound to, where the
    signature went, and how many evaluation results it holds."""

    model_name: str
    root_digest: str
    signature_path: str
    metrics: int


@dataclasses.dataclass(frozen=True)
class VerifiedCard:
    """A card whose signature verified and which is about the model at hand.

    Attributes:
        name: The card's model name (the producer's to choose).
        model_name: The model's name as the signed statement records it.
        root_digest: The model's root digest the card is bound to ("sha256:HEX").
        metrics: The signed evaluation results.
        signer: Who signed, for Sigstore; None for keys and certificates.
        policies: Each `require` policy, evaluated.
        notes: What the verifier noticed without refusing.
        status: The one-line verdict the command prints (and renderings start with).
        card: The whole card as the producer wrote it (its YAML's fields).
    """

    name: str
    model_name: str
    root_digest: str
    metrics: List[Metric]
    signer: Optional[Signer]
    policies: List[PolicyOutcome]
    notes: List[str]
    status: str
    card: Dict[str, Any]
    _renderings: Dict[str, str] = dataclasses.field(repr=False, compare=False, default_factory=dict)

    @property
    def policies_hold(self) -> bool:
        """True when every policy held (and when none was asked for)."""
        return all(p.holds for p in self.policies)

    def render(self, format: str = "text") -> str:
        """The card as `modelsign card show --format FORMAT` renders it: "text",
        "markdown", "html" (a self-contained page), "json" (the verification report) or
        "cyclonedx" (the BOM exactly as signed)."""
        try:
            return self._renderings[format]
        except KeyError:
            raise ValueError(
                f"unknown card format {format!r} (formats: {', '.join(FORMATS)})"
            ) from None


class CardPolicyError(VerificationError):
    """The card verified (it is authentic and about this model) but does not meet every
    `require` policy. `card` is the `VerifiedCard`; `failed` lists the policies it
    misses. A `VerificationError`, so a ValueError; `kind` is "policy"."""

    card: VerifiedCard
    failed: List[PolicyOutcome]


@dataclasses.dataclass(frozen=True)
class DraftedCard:
    """A card drafted from what a model folder says, to review and edit before signing.

    Attributes:
        yaml: The card, as `sign` reads it.
        model_name: The model's name.
        root_digest: The model's root digest when drafted (the card records it, and
            signing checks the model still has it).
        metrics: How many evaluation results it holds.
        datasets: How many datasets it names.
        notes: What to check before signing (e.g. results that were skipped).
        unknown_metrics: Metric names that are not common ones: sign with
            `allow_custom_metrics=True`, or rename them.
    """

    yaml: str
    model_name: str
    root_digest: str
    metrics: int
    datasets: int
    notes: List[str]
    unknown_metrics: List[str]

    def write(self, path: PathLike = "card.yaml", *, force: bool = False) -> str:
        """Writes the YAML to `path` (default "card.yaml", as `modelsign card init -o`)
        and returns the path written.

        Raises:
            FileExistsError: `path` exists and `force` is false.
        """
        text_path = _text_path(path)
        with open(text_path, "w" if force else "x", encoding="utf-8") as file:
            file.write(self.yaml)
        return text_path


def draft(
    model_path: PathLike,
    *,
    evals: Iterable[PathLike] = (),
    hashing_config: Optional[_hashing.Config] = None,
    progress: Optional[ProgressCallback] = None,
) -> DraftedCard:
    """Drafts a card for the model at `model_path`, as `modelsign card init` does: from a
    Hugging Face README's front matter (license, datasets, base model, languages, task,
    model-index results), .eval_results/*.yaml and config.json, plus the model's files and
    root digest.

    Args:
        model_path: The model: a folder or a file.
        evals: More evaluation results: JSON or YAML lists of {metric, value, dataset,
            split, source, date}.
        hashing_config: How to hash the model (default: `hashing.Config()`).
        progress: Called with (bytes_done, total_bytes) while the model is hashed.

    Raises:
        InputError: An unreadable README or results file, a model that cannot be walked.
        FileNotFoundError: A results file is missing.
    """
    hashing = hashing_config or _hashing.Config()
    data = _native.draft_card(
        _text_path(model_path),
        hashing=hashing._native_settings(),
        evals=[_text_path(e) for e in evals],
        max_workers=hashing._max_workers,
        progress=progress,
    )
    return DraftedCard(
        yaml=data["yaml"],
        model_name=data["model"],
        root_digest=data["root_digest"],
        metrics=data["metrics"],
        datasets=data["datasets"],
        notes=list(data["notes"]),
        unknown_metrics=list(data["unknown_metrics"]),
    )


def _metric(data: Dict[str, Any]) -> Metric:
    interval = data.get("confidence_interval")
    return Metric(
        metric=data["metric"],
        value=float(data["value"]),
        dataset=data.get("dataset"),
        split=data.get("split"),
        slice=data.get("slice"),
        confidence_interval=None
        if interval is None
        else (float(interval["lower"]), float(interval["upper"])),
        source=data.get("source"),
        date=data.get("date"),
    )


def _verified(report: Dict[str, Any]) -> VerifiedCard:
    card = report["card"]
    signer = report.get("signer")
    return VerifiedCard(
        name=card["name"],
        model_name=report["model"],
        root_digest=report["root_digest"],
        metrics=[_metric(m) for m in card.get("metrics", [])],
        signer=None if signer is None else Signer(**signer),
        policies=[PolicyOutcome(**p) for p in report["policies"]],
        notes=list(report["notes"]),
        status=report["status"],
        card=card,
        _renderings=dict(report["renderings"]),
    )


def _claims(claims: ClaimsOption) -> Tuple[Optional[str], bool]:
    """`claims` as the native call takes it: True for the model's own claims.jsonl, a
    path for that file."""
    if claims is None or claims is False:
        return None, False
    if claims is True:
        return None, True
    return _text_path(claims), True


def _only_one(file: Optional[PathLike], claims: ClaimsOption, file_option: str) -> None:
    if file is not None and claims not in (None, False):
        raise ValueError(f"give either {file_option} or claims, not both")


def sign(
    config: _signing.Config,
    model_path: PathLike,
    card: PathLike,
    *,
    signature: Optional[PathLike] = None,
    claims: ClaimsOption = None,
    model_signature: Optional[PathLike] = None,
    allow_custom_metrics: bool = False,
    progress: Optional[ProgressCallback] = None,
) -> SignedCard:
    """Signs the card `card` (a YAML file, as `modelsign card init` drafts it) for the
    model at `model_path`, bound to its root digest, with `config`'s signer (Sigstore if
    none is chosen) and hashing.

    Args:
        config: Who signs, and how the model is hashed.
        model_path: The model the card is about: a folder or a file.
        card: The card's YAML file.
        signature: Where to write the card's signature (default "model-card.sig", as the
            command's --signature).
        claims: Append the signature to a claims file instead: True for the model's own
            claims.jsonl, or a path.
        model_signature: Take the model's root digest from its signature instead of hashing
            the model; it must verify with the key signing the card (not with Sigstore).
        allow_custom_metrics: Accept metric names outside the common ones.
        progress: Called with (bytes_done, total_bytes) while the model is hashed.

    Raises:
        InputError: The card is unreadable or invalid, the signature would overwrite a file
            of the model, an unusable key.
        FileNotFoundError: The card, a key or the model signature is missing.
        ModelSigningError: Signing failed.
    """
    _only_one(signature, claims, "signature")
    signer = config._signer
    if signer is None:
        signer = _signing.Config().use_sigstore_signer()._signer
    hashing = config._hashing_config
    claims_file, use_claims = _claims(claims)
    data = _native.sign_card(
        _text_path(model_path),
        _text_path(card),
        signer=signer,
        hashing=hashing._native_settings(),
        signature_path=None if signature is None else _text_path(signature),
        claims=claims_file,
        use_claims=use_claims,
        model_signature=None if model_signature is None else _text_path(model_signature),
        allow_custom_metrics=allow_custom_metrics,
        max_workers=hashing._max_workers,
        progress=progress,
    )
    return SignedCard(
        model_name=data["model"],
        root_digest=data["root_digest"],
        signature_path=os.fsdecode(data["card_signature"]),
        metrics=data["metrics"],
    )


def verify(
    config: _verifying.Config,
    model_path: PathLike,
    card_signature: Optional[PathLike] = None,
    *,
    require: Iterable[str] = (),
    claims: ClaimsOption = None,
    model_signature: Optional[PathLike] = None,
    progress: Optional[ProgressCallback] = None,
) -> VerifiedCard:
    """Verifies the card signature `card_signature` (default "model-card.sig", as the
    command's --card-signature) with `config`'s verifier: that it is authentic, that it is
    about the model at `model_path` (re-hashed as the card records), and that its signed
    metrics meet every policy in `require` ("accuracy>=0.9", "f1@squad:validation>0.8").

    Args:
        config: Who is trusted (its hashing config's max_workers is honoured).
        model_path: The model the card must be about.
        card_signature: The card's signature file.
        require: Policies: METRIC OP VALUE with OP one of >= <= == != > <.
        claims: Take the card from a claims file instead: True for the model's own
            claims.jsonl, or a path; the newest card there that verifies.
        model_signature: Verify the model against its signature too (same trust), and
            check the card is about the model that signature covers.
        progress: Called with (bytes_done, total_bytes) while the model is hashed.

    Raises:
        CardPolicyError: The card verified but misses a policy (its `card` is the
            VerifiedCard).
        VerificationError: The signature does not verify (`kind` says which check), the
            card is about another model ("wrong_model"), the model changed, the file holds
            no card ("not_a_card").
        InputError: A malformed policy, an unusable key or trust root.
        FileNotFoundError: The card signature is missing.
    """
    if config._verifier is None:
        raise ValueError("Attempting to verify with no configured verifier")
    _only_one(card_signature, claims, "card_signature")
    hashing = config._hashing_config
    claims_file, use_claims = _claims(claims)
    report = _native.verify_card(
        _text_path(model_path),
        verifier=config._verifier,
        card_signature=None if card_signature is None else _text_path(card_signature),
        claims=claims_file,
        use_claims=use_claims,
        model_signature=None if model_signature is None else _text_path(model_signature),
        require=list(require),
        max_workers=None if hashing is None else hashing._max_workers,
        progress=progress,
    )
    verified = _verified(report)
    if report["unmet_policies"] is not None:
        error = CardPolicyError(report["unmet_policies"])
        error.kind = "policy"
        for name in ("changed", "missing", "extra", "symlinks", "unsupported"):
            setattr(error, name, [])
        error.model_name = verified.model_name
        error.card = verified
        error.failed = [p for p in verified.policies if not p.holds]
        raise error
    return verified
