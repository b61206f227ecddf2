"""Extra seeds for scripts/fuzz.sh, read at run time from the shared test vectors and
written into a temporary corpus folder (never into the repository).

    python3 fuzz/seeds/from_vectors.py VECTORS_DIR OUT_DIR

Each file is turned into input of the layout its target expects (see fuzz/fuzz_targets/).
"""

import base64
import json
import os
import sys

# Larger inputs only slow libFuzzer down; the targets' paths are reached with small ones.
MAX_SEED_BYTES = 64 * 1024


def main(vectors, out):
    counts = {}

    def add(target, name, data):
        if len(data) > MAX_SEED_BYTES:
            return
        folder = os.path.join(out, target)
        os.makedirs(folder, exist_ok=True)
        counts[target] = counts.get(target, 0) + 1
        with open(os.path.join(folder, f"{counts[target]:04d}-{name}"), "wb") as f:
            f.write(data)

    for root, _, files in sorted(os.walk(vectors)):
        for file in sorted(files):
            path = os.path.join(root, file)
            try:
                if os.path.getsize(path) > MAX_SEED_BYTES:
                    continue
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            name = file.replace(os.sep, "_")
            if b"-----BEGIN" in data:
                if b"CERTIFICATE" in data:
                    add("cert_chain", name, b"\x11" + data)
                if b"KEY-----" in data:
                    add("keys", name, b"\x00" + data)
                continue
            try:
                value = json.loads(data)
            except ValueError:
                continue
            if not isinstance(value, dict):
                continue
            if "mediaType" in value or "dsseEnvelope" in value:
                add("bundle", name, data)
                add("known_digests", name, data)
                seeds_from_bundle(value, name, add)
            elif "_type" in value or "predicateType" in value:
                add("statement", name, data)
                add("known_digests", name, data)
                add("card", name, b"accuracy>=0.9\n" + data)
    print(" ".join(f"{t}={n}" for t, n in sorted(counts.items())) or "none")


def seeds_from_bundle(bundle, name, add):
    envelope = bundle.get("dsseEnvelope")
    if isinstance(envelope, dict) and isinstance(envelope.get("payload"), str):
        try:
            payload = base64.b64decode(envelope["payload"])
        except ValueError:
            payload = None
        if payload:
            add("statement", name + ".payload", payload)
            add("known_digests", name + ".payload", payload)
            add("card", name + ".payload", b"accuracy>=0.9\n" + payload)
    material = bundle.get("verificationMaterial")
    if not isinstance(material, dict):
        return
    chain = material.get("x509CertificateChain") or {}
    certificates = chain.get("certificates") if isinstance(chain, dict) else None
    if not isinstance(certificates, list):
        certificate = material.get("certificate")
        certificates = [certificate] if isinstance(certificate, dict) else []
    ders = []
    for certificate in certificates:
        try:
            ders.append(base64.b64decode(certificate["rawBytes"]))
        except (KeyError, TypeError, ValueError):
            return
    if ders:
        # Every certificate after the leaf is an anchor candidate: low nibble = count.
        anchors = max(1, min(15, len(ders) - 1))
        body = b"".join(len(d).to_bytes(2, "big") + d for d in ders if len(d) < 65536)
        add("cert_chain", name + ".chain", bytes([anchors]) + body)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
