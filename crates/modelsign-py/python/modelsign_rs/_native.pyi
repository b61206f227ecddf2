"""Type stubs of the native module (crates/modelsign-py/src/lib.rs)."""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypedDict, Union

__version__: str

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes_done, total_bytes), at most about ten times a second, from the
calling thread; an exception it raises stops the work and is raised again."""

class HashingOptions(TypedDict, total=False):
    method: str  # "files" (default) or "shards"
    hash_type: str  # "sha256" (default), "blake2" or "blake3"
    chunk_size: int  # accepted; digests do not depend on it
    shard_size: int  # shards only; default 1_000_000_000
    allow_symlinks: bool  # default False
    ignore_paths: Sequence[str]
    ignore_git_paths: bool  # default True

class ManifestData(TypedDict):
    model_name: str
    serialization: Dict[str, Any]
    root_digest: str  # "sha256:HEX"
    resources: List[Tuple[str, str, bytes]]  # (name, algorithm, digest), canonical order

class SignerReport(TypedDict):
    identity: str
    issuer: str
    signed_at: Optional[str]

class VerificationReport(TypedDict, total=False):
    signed_model_name: str
    root_digest: Optional[str]
    serialization: Dict[str, Any]
    resources: int
    checked_files: Optional[List[str]]
    """With `files`: the signed files hashed and matched (no other was checked)."""
    resources_checked: int
    notes: List[str]
    public_key_hint: Optional[str]
    signer: Optional[SignerReport]
    # With a certificate verifier and log_fingerprints=True only.
    anchor_fingerprints: List[str]
    signature_fingerprints: List[str]

class PolicyFailure(TypedDict):
    kind: str
    """Why the policy refuses the model: "signature" (it cannot be read), "no-signer" (no
    signer may sign a model of these names), "untrusted" (no signer that may signed it),
    "invalid-signature" (the signature names a signer of the policy and does not verify:
    forged or damaged) or "model" (a trusted signer signed it, and the model is not what it signed)."""
    message: str
    input_error: bool
    """True when an input is unusable (a missing signature or model) rather than a check
    failing."""
    attempts: List[List[str]]
    """"untrusted": [signer, reason] of each signer tried, in the policy's order."""
    changed: List[Tuple[str, str, bytes, bytes]]
    """"model": (name, algorithm, expected digest, actual digest) of each changed file, as
    VerificationError.changed."""
    missing: List[str]
    extra: List[str]
    symlinks: List[str]
    unsupported: List[str]

class PolicyOutcome(TypedDict):
    accepted: bool
    """A signer of the policy allowed to sign this model signed it, and it verifies."""
    mode: str  # "enforce" or "warn"
    signer: Optional[str]
    """The name, in the policy, of the signer whose signature verified."""
    names: List[str]
    """The names the policy's `names` patterns were matched against."""
    report: Optional[VerificationReport]
    failure: Optional[PolicyFailure]

class ModelSigningError(Exception):
    """Signing or hashing failed (a device, a service, a file that changed while read)."""

class InputError(ValueError):
    """An input is unusable: a malformed or encrypted key without its password, a bad
    option, a trust root that cannot be read, a model that cannot be walked."""

    kind: str
    """For a model that cannot be walked (else absent): "symlink", "model_path",
    "special_file", "not_in_model" or "io"."""
    path: str
    """For a model that cannot be walked: the offending path."""

class VerificationError(ValueError):
    """The model or its signature does not verify."""

    kind: str
    """Which check failed: "mismatch", "key_mismatch", "bad_signature", "no_signature",
    "wrong_method", "identity_mismatch", "issuer_mismatch", "sigstore", "certificate",
    "statement", "bundle", "hash", "key", "trust_root" or "other"."""
    changed: List[Tuple[str, str, bytes, bytes]]
    """(name, algorithm, expected digest, actual digest) of each changed resource."""
    missing: List[str]
    extra: List[str]
    symlinks: List[str]
    unsupported: List[str]
    model_name: Optional[str]
    """The local model's name."""

def hash(
    model_path: str,
    *,
    hashing: HashingOptions,
    files_to_hash: Optional[List[str]] = None,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> ManifestData: ...
class PreparedSigner:
    """A signer built by `prepare_signer`: its key read, a PKCS#11 token logged in to."""

class PreparedVerifier:
    """A verifier built by `prepare_verifier`: its key or trust anchors read."""

def prepare_signer(signer: Dict[str, Any]) -> PreparedSigner: ...
def prepare_verifier(verifier: Dict[str, Any]) -> PreparedVerifier: ...
class SigningReport(TypedDict):
    root_digest: str  # "sha256:HEX"
    resources: int
    hashed_files: int
    hashed_bytes: int
    known_files: int
    """Files signed with a digest taken from the earlier signature (`reuse`) or the list
    (`digests`), not read."""
    known_bytes: int
    renamed: List[Tuple[str, str]]  # (old name, new name) of files renamed unchanged (git)
    stat_cache: Optional[Tuple[str, int]]  # (cache file, files recorded) with stat_cache
    notes: List[str]

def sign(
    model_path: str,
    signature_path: str,
    *,
    signer: Union[PreparedSigner, Dict[str, Any]],
    hashing: HashingOptions,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
    reuse: Optional[str] = None,
    reuse_verifier: Optional[Union[PreparedVerifier, Dict[str, Any]]] = None,
    changed: Optional[List[str]] = None,
    changed_since_git: Optional[str] = None,
    stat_cache: bool = False,
    digests: Optional[str] = None,
) -> SigningReport: ...
def verify(
    model_path: str,
    signature_path: str,
    *,
    verifier: Union[PreparedVerifier, Dict[str, Any]],
    hashing: Optional[HashingOptions] = None,
    ignore_unsigned_files: bool = False,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
    files: Optional[List[str]] = None,
) -> VerificationReport: ...
def cli_main(argv: Optional[List[str]] = None) -> int: ...
def model_names(model_path: str) -> List[str]:
    """The names a trust policy's `names` patterns are matched against: for a Hugging Face
    cache snapshot ORG/NAME and pkg:huggingface/ORG/NAME, else the model's folder or file
    name. Never the name a signature gives."""
    ...

def verify_with_policy(
    model_path: str,
    policy_path: str,
    signature_path: str,
    names: Optional[Sequence[str]] = None,
    ignore_paths: Optional[Sequence[str]] = None,
    ignore_unsigned_files: bool = False,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> PolicyOutcome:
    """Verifies the model under the trust policy at policy_path (the file `modelsign verify
    --policy` reads). names default to model_names(model_path). A refusal is returned, not
    raised; InputError is raised when the policy cannot be read or a signer of it set up."""
    ...

# ---- model cards and provenance (src/attest.rs; wrapped by card.py and provenance.py) ----

def draft_card(
    model_path: str,
    *,
    hashing: HashingOptions,
    evals: List[str] = ...,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> Dict[str, Any]: ...
def sign_card(
    model_path: str,
    card_path: str,
    *,
    signer: Dict[str, Any],
    hashing: HashingOptions,
    signature_path: Optional[str] = None,  # default "model-card.sig"
    claims: Optional[str] = None,
    use_claims: bool = False,  # True without `claims`: MODEL/claims.jsonl
    model_signature: Optional[str] = None,
    allow_custom_metrics: bool = False,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> Dict[str, Any]: ...
def verify_card(
    model_path: str,
    *,
    verifier: Dict[str, Any],
    card_signature: Optional[str] = None,
    claims: Optional[str] = None,
    use_claims: bool = False,
    model_signature: Optional[str] = None,
    require: List[str] = ...,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> Dict[str, Any]:
    """The library's JSON card report plus "notes", "unmet_policies" (the failure message,
    or None) and "renderings" (format name -> text); failing policies are not raised."""
def record_provenance(
    *,
    signer: Dict[str, Any],
    hashing: HashingOptions,
    stage: Optional[str] = None,
    outputs: List[str] = ...,  # "PATH" or "PATH=URI"
    inputs: List[str] = ...,  # "ROLE=REF"
    parameters: List[Tuple[str, str]] = ...,
    builder_id: Optional[str] = None,
    started: Optional[str] = None,
    finished: Optional[str] = None,
    allow_undigested: bool = False,
    draft: Optional[str] = None,
    output_file: Optional[str] = None,
    claims: Optional[str] = None,
    use_claims: bool = False,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> Dict[str, Any]: ...
def verify_provenance(
    model_path: str,
    *,
    verifier: Dict[str, Any],
    provenance_path: Optional[str] = None,  # default MODEL/provenance.sig
    claims: Optional[str] = None,
    use_claims: bool = False,
    check_inputs: List[Tuple[str, str]] = ...,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> Dict[str, Any]: ...
