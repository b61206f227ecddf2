"""Type stubs of the native module (crates/modelsign-py/src/lib.rs)."""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypedDict

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
    notes: List[str]
    public_key_hint: Optional[str]
    signer: Optional[SignerReport]
    # With a certificate verifier and log_fingerprints=True only.
    anchor_fingerprints: List[str]
    signature_fingerprints: List[str]

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
def sign(
    model_path: str,
    signature_path: str,
    *,
    signer: Dict[str, Any],
    hashing: HashingOptions,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> None: ...
def verify(
    model_path: str,
    signature_path: str,
    *,
    verifier: Dict[str, Any],
    hashing: Optional[HashingOptions] = None,
    ignore_unsigned_files: bool = False,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> VerificationReport: ...
def cli_main(argv: Optional[List[str]] = None) -> int: ...

class PolicyFailure(TypedDict):
    kind: str  # "signature", "no-signer", "untrusted" or "model"
    message: str
    attempts: List[Tuple[str, str]]  # (signer name, why it did not verify)
    changed: List[Any]
    missing: List[str]
    extra: List[str]

class PolicyVerdict(TypedDict):
    accepted: bool
    mode: str  # "enforce" or "warn"
    signer: Optional[str]
    names: List[str]
    report: Optional[VerificationReport]
    failure: Optional[PolicyFailure]

def verify_with_policy(
    model_path: str,
    policy_path: str,
    signature_path: str,
    names: Sequence[str],
    ignore_paths: Sequence[str],
    ignore_unsigned_files: bool,
    max_workers: Optional[int],
    progress: Optional[ProgressCallback],
) -> PolicyVerdict:
    """Verifies the model against its signature and the trust policy file; a policy file
    that cannot be used raises InputError, a refusal is a `failure` in the result."""

def model_names(path: str) -> List[str]:
    """The names a model is matched against a policy's patterns by: for a Hugging Face
    snapshot ORG/NAME and pkg:huggingface/ORG/NAME, else the folder's name."""
