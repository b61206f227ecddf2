"""modelsign-rs: sign and verify ML models (OpenSSF Model Signing v1.0) with a Rust core.

The native module ``modelsign_rs._native`` does the work (hashing, signing, verification,
and the ``modelsign`` command); the modules beside it give it model_signing's API.
"""

from modelsign_rs._native import (
    InputError,
    ModelSigningError,
    VerificationError,
    __version__,
)

__all__ = ["InputError", "ModelSigningError", "VerificationError", "__version__"]
