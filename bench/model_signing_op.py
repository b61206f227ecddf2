"""Signs or verifies a model with the Python reference's API (its CLI can only hash
files/sha256), so every configuration of the benchmark runs the same code path."""
import sys
from pathlib import Path

from model_signing import hashing, signing, verifying

op, config, model, signature, key = sys.argv[1:6]
hashing_config = hashing.Config()
if config == "files-sha256":
    hashing_config.use_file_serialization(hashing_algorithm="sha256")
elif config == "shards-sha256":
    hashing_config.use_shard_serialization(hashing_algorithm="sha256")
elif config == "files-blake3":
    hashing_config.use_file_serialization(hashing_algorithm="blake3")
else:
    sys.exit(f"unknown config {config}")
if op == "sign":
    signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(
        hashing_config
    ).sign(Path(model), Path(signature))
else:
    verifying.Config().use_elliptic_key_verifier(public_key=key).set_hashing_config(
        hashing_config
    ).verify(Path(model), Path(signature))
