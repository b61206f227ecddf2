"""modelsign-rs: sign and verify ML models (OpenSSF Model Signing v1.0) with a Rust core.

The native module ``modelsign_rs._native`` does the work (hashing, signing, verification,
and the ``modelsign`` command); the modules beside it give it model_signing's API, so that
code written against model_signing runs with only its import changed::

    import modelsign_rs as model_signing

    model_signing.signing.Config().use_elliptic_key_signer(private_key="key.priv").sign(
        "finbert", "finbert.sig"
    )

Beyond model_signing's API: ``verifying.Config.report`` returns what a verification
established, and ``VerificationError`` (a ValueError) says what differs in its
``changed``, ``missing`` and ``extra`` attributes.

Where a model is loaded, `verify_model_dir` (a folder) and `hf.verify_snapshot` (a
Hugging Face cache snapshot, by repository id) verify it against a trust policy file,
which says who may have signed which models and whether a refusal raises or warns::

    result = modelsign_rs.hf.verify_snapshot("acme/finbert", policy="trust.toml")
    model = AutoModel.from_pretrained(result.path)
"""

from modelsign_rs._native import (
    InputError,
    ModelSigningError,
    VerificationError,
    __version__,
)
from modelsign_rs import hashing, manifest, signing, verifying
from modelsign_rs.verifying import InvalidSignatureError, VerificationReport
from modelsign_rs.policy import (
    ModelSigningWarning,
    PolicyNotFoundError,
    PolicyResult,
    SignatureNotFoundError,
    UntrustedSignatureError,
    verify_model_dir,
)
from modelsign_rs import hf

__all__ = [
    "InputError",
    "InvalidSignatureError",
    "ModelSigningError",
    "ModelSigningWarning",
    "PolicyNotFoundError",
    "PolicyResult",
    "SignatureNotFoundError",
    "UntrustedSignatureError",
    "VerificationError",
    "VerificationReport",
    "__version__",
    "hashing",
    "hf",
    "manifest",
    "signing",
    "verify_model_dir",
    "verifying",
]
