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
"""

from modelsign_rs._native import (
    InputError,
    ModelSigningError,
    VerificationError,
    __version__,
)
from modelsign_rs import hashing, manifest, signing, verifying
from modelsign_rs.verifying import InvalidSignatureError, VerificationReport

__all__ = [
    "InputError",
    "InvalidSignatureError",
    "ModelSigningError",
    "VerificationError",
    "VerificationReport",
    "__version__",
    "hashing",
    "manifest",
    "signing",
    "verifying",
]
