"""EC P-256 key pairs written as PEM files, for the tests that sign with a key."""

from __future__ import annotations

import pathlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def write_key_pair(folder: pathlib.Path, name: str) -> tuple[pathlib.Path, pathlib.Path]:
    """A fresh key pair: NAME.priv (PKCS#8, unencrypted) and NAME.pub (SubjectPublicKeyInfo)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / f"{name}.priv", folder / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public
