"""Hashing a model (model_signing's `hashing` API): which serialization and hash, which
paths are left out, whether symbolic links are followed.

The same `Config` is meant to be given to signing and to verification, so that both hash
the model the same way::

    hashing_config = modelsign_rs.hashing.Config().set_ignored_paths(paths=["README.md"])
    modelsign_rs.signing.Config().use_elliptic_key_signer(private_key="key.priv") \\
        .set_hashing_config(hashing_config).sign("model", "model.sig")

A `Config` only records settings; the hashing itself (walking the model, applying the
ignore rules, computing digests) is done by the native library, with the GIL released.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable
from typing import Any, Callable, Dict, List, Optional, Union

from modelsign_rs import _errors, _native, manifest

__all__ = ["Config", "PathLike", "hash"]

PathLike = Union[str, bytes, os.PathLike]
"""A path as model_signing accepts it."""

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes_done, total_bytes), at most about ten times a second."""

_HASHING_ALGORITHMS = ("sha256", "blake2", "blake3")
_DEFAULT_CHUNK_SIZE = 1048576
_DEFAULT_SHARD_SIZE = 1_000_000_000


def hash(model_path: PathLike) -> manifest.Manifest:
    """Hashes the model at `model_path` with the default configuration (each file, SHA-256,
    git files left out, symbolic links refused) and returns its manifest."""
    return Config().hash(model_path)


def _text_path(path: PathLike) -> str:
    """A path as the native module takes it (str); bytes are decoded as the file system
    encodes names."""
    return os.fsdecode(os.fspath(path))


class Config:
    """How to hash a model: by whole files (the default) or by shards, with SHA-256 (the
    default), BLAKE2 or BLAKE3; which paths to leave out (by default only git's: `.git/`,
    `.gitattributes`, `.github/`, `.gitignore`); whether symbolic links are followed (by
    default they are refused).

    Setters return the same `Config` so calls chain, except `add_ignored_paths`, which
    returns None as model_signing's does.
    """

    def __init__(self):
        """The default configuration: whole files, SHA-256, git paths left out, symbolic
        links refused."""
        self._ignored_paths: frozenset = frozenset()
        self._ignore_git_paths = True
        self._allow_symlinks = False
        self._max_workers: Optional[int] = None
        self.use_file_serialization()

    def hash(
        self,
        model_path: PathLike,
        *,
        files_to_hash: Optional[Iterable[PathLike]] = None,
    ) -> manifest.Manifest:
        """Hashes the model at `model_path` and returns its manifest.

        Args:
            model_path: The model: a folder or a single file.
            files_to_hash: When given, only these files (paths that include the model
                path, as `model_path / name`) are hashed; ignored paths and folders among
                them are left out.

        Raises:
            ValueError: A symbolic link in the model while links are refused, a model path
                that is not a file or folder, or an unusable option.
        """
        return self._hash(model_path, files_to_hash=files_to_hash)

    def hash_with_progress(
        self,
        model_path: PathLike,
        progress: ProgressCallback,
        *,
        files_to_hash: Optional[Iterable[PathLike]] = None,
    ) -> manifest.Manifest:
        """As `hash`, calling `progress(bytes_done, total_bytes)` as hashing goes (at
        most about ten times a second, from the calling thread). An exception raised by
        `progress` stops the hashing and is raised again here."""
        return self._hash(model_path, files_to_hash=files_to_hash, progress=progress)

    def _hash(
        self,
        model_path: PathLike,
        *,
        files_to_hash: Optional[Iterable[PathLike]],
        progress: Optional[ProgressCallback] = None,
    ) -> manifest.Manifest:
        listed: Optional[List[str]] = None
        if files_to_hash is not None:
            listed = [_text_path(p) for p in files_to_hash]
        path = _text_path(model_path)
        with _errors.translated(path):
            data = _native.hash(
                path,
                hashing=self._native_settings(),
                files_to_hash=listed,
                max_workers=self._max_workers,
                progress=progress,
            )
        return manifest._from_native(data)

    def _native_settings(self) -> Dict[str, Any]:
        """The settings as `_native`'s hashing dict."""
        settings: Dict[str, Any] = {
            "method": self._method,
            "hash_type": self._hashing_algorithm,
            "chunk_size": self._chunk_size,
            "allow_symlinks": self._allow_symlinks,
            "ignore_paths": sorted(
                {str(p) for p in self._ignored_paths} | set(self._serializer_ignore_paths)
            ),
            "ignore_git_paths": self._ignore_git_paths,
        }
        if self._method == "shards":
            settings["shard_size"] = self._shard_size
        return settings

    def use_file_serialization(
        self,
        *,
        hashing_algorithm: str = "sha256",
        chunk_size: int = _DEFAULT_CHUNK_SIZE,
        max_workers: Optional[int] = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[PathLike] = frozenset(),
    ) -> "Config":
        """Hashes each file whole: the manifest pairs every file with its digest.

        Args:
            hashing_algorithm: "sha256" (default), "blake2" or "blake3".
            chunk_size: How much of a file to read at once. Accepted for compatibility;
                digests do not depend on it and the native library picks its read sizes.
            max_workers: Hashing threads; by default one per core.
            allow_symlinks: Recorded for compatibility only: as in model_signing, whether
                links are followed is what `set_allow_symlinks` says.
            ignore_paths: More paths (relative to the model) to leave out.

        Raises:
            ValueError: `hashing_algorithm` is not one of the three.
        """
        self._set_serialization(
            "files", hashing_algorithm, chunk_size, _DEFAULT_SHARD_SIZE, max_workers,
            allow_symlinks, ignore_paths,
        )
        return self

    def use_shard_serialization(
        self,
        *,
        hashing_algorithm: str = "sha256",
        chunk_size: int = _DEFAULT_CHUNK_SIZE,
        shard_size: int = _DEFAULT_SHARD_SIZE,
        max_workers: Optional[int] = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[PathLike] = frozenset(),
    ) -> "Config":
        """Hashes each file in shards of `shard_size` bytes: the manifest pairs every
        shard ("path:start:end") with its digest. With "blake3" files are hashed whole,
        as model_signing does (BLAKE3 is parallel by itself).

        Arguments as for `use_file_serialization`, plus `shard_size` (default 1 GB).
        """
        method = "files" if hashing_algorithm == "blake3" else "shards"
        self._set_serialization(
            method, hashing_algorithm, chunk_size, shard_size, max_workers,
            allow_symlinks, ignore_paths,
        )
        return self

    def _set_serialization(
        self,
        method: str,
        hashing_algorithm: str,
        chunk_size: int,
        shard_size: int,
        max_workers: Optional[int],
        allow_symlinks: bool,
        ignore_paths: Iterable[PathLike],
    ) -> None:
        if hashing_algorithm not in _HASHING_ALGORITHMS:
            raise ValueError(f"Unsupported hashing method {hashing_algorithm}")
        self._method = method
        self._hashing_algorithm = hashing_algorithm
        self._chunk_size = chunk_size
        self._shard_size = shard_size
        self._max_workers = max_workers
        # model_signing records these without leaving the paths out (its own signer and
        # verifier then disagree); here they are left out, as the argument's name says.
        self._serializer_ignore_paths = [_text_path(p) for p in ignore_paths]
        self._serializer_allow_symlinks = allow_symlinks

    def set_ignored_paths(
        self, *, paths: Iterable[PathLike], ignore_git_paths: bool = True
    ) -> "Config":
        """Replaces the paths left out of the manifest.

        Args:
            paths: Paths relative to the model; a folder leaves out all it holds. Paths
                that lead outside the model are dropped.
            ignore_git_paths: Whether git's files (`.git/`, `.gitattributes`, `.github/`,
                `.gitignore`) are left out too (default) or hashed.
        """
        self._ignored_paths = frozenset(pathlib.Path(_text_path(p)) for p in paths)
        self._ignore_git_paths = ignore_git_paths
        return self

    def add_ignored_paths(
        self, *, model_path: PathLike, paths: Iterable[PathLike]
    ) -> None:
        """Adds `paths` (relative to the model at `model_path`) to those left out.
        Returns None, as model_signing's does."""
        del model_path  # the native library resolves paths against the model it hashes
        self._ignored_paths = frozenset(self._ignored_paths) | {
            pathlib.Path(_text_path(p)) for p in paths
        }

    def set_allow_symlinks(self, allow_symlinks: bool) -> "Config":
        """Whether symbolic links in the model are followed (hashed as their target) or
        refused (default)."""
        self._allow_symlinks = allow_symlinks
        return self
