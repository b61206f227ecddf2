"""Signs or verifies a model with the Python reference's API (its CLI can only hash
files/sha256), so every configuration of the benchmark runs the same code path.

    python model_signing_op.py sign|verify CONFIG MODEL SIGNATURE KEY [MODULE]

MODULE is model_signing (the default) or modelsign_rs, which has the same API: the same
lines then time both (bench/python/compare.py). Prints `api_seconds=S` on stdout, the time
from building the configuration to the end of signing or verifying, without interpreter
start and import."""
import importlib
import sys
import time
from pathlib import Path

op, config, model, signature, key = sys.argv[1:6]
api = importlib.import_module(sys.argv[6] if len(sys.argv) > 6 else "model_signing")
start = time.perf_counter()
hashing_config = api.hashing.Config()
if config == "files-sha256":
    hashing_config.use_file_serialization(hashing_algorithm="sha256")
elif config == "shards-sha256":
    hashing_config.use_shard_serialization(hashing_algorithm="sha256")
elif config == "files-blake3":
    hashing_config.use_file_serialization(hashing_algorithm="blake3")
else:
    sys.exit(f"unknown config {config}")
if op == "sign":
    api.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(
        hashing_config
    ).sign(Path(model), Path(signature))
else:
    api.verifying.Config().use_elliptic_key_verifier(public_key=key).set_hashing_config(
        hashing_config
    ).verify(Path(model), Path(signature))
print(f"api_seconds={time.perf_counter() - start:.6f}")
