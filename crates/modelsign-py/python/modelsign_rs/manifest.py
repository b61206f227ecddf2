"""Manifests: what a model is made of (files or file shards) and the digest of each part,
with model_signing's public names and attributes.

A manifest compares equal to another when their parts and digests are the same, whatever
the model's name or the way it was serialized: the name is informative only, so renaming
a model folder keeps its signature valid.
"""

from __future__ import annotations

import abc
import dataclasses
import pathlib
from collections.abc import Iterable, Iterator
from typing import Any, Dict, List, Tuple, Union

__all__ = [
    "Digest",
    "FileManifestItem",
    "Manifest",
    "ManifestItem",
    "SerializationType",
    "ShardedFileManifestItem",
]


@dataclasses.dataclass(frozen=True)
class Digest:
    """A digest: the name of the algorithm that computed it and its bytes.

    `algorithm` is the name model_signing records: "sha256", "blake2b", "blake3", or for
    shards "<hash>-sharded-<shard size>" (e.g. "sha256-sharded-1000000000").
    """

    algorithm: str
    digest_value: bytes

    @property
    def digest_hex(self) -> str:
        """The digest in lowercase hexadecimal."""
        return self.digest_value.hex()

    @property
    def digest_size(self) -> int:
        """The digest's length in bytes."""
        return len(self.digest_value)


@dataclasses.dataclass(frozen=True, order=True)
class _ResourceDescriptor:
    """One part of a manifest as `resource_descriptors()` yields it: its identifier
    (a path relative to the model, or "path:start:end" for a shard) and its digest."""

    identifier: str
    digest: Digest


@dataclasses.dataclass(frozen=True, order=True)
class _File:
    """The key of a whole file: ordered by its path's components."""

    path: pathlib.PurePosixPath

    def __str__(self) -> str:
        return str(self.path)


@dataclasses.dataclass(frozen=True, order=True)
class _Shard:
    """The key of a file shard [start, end): ordered by path components, then offsets
    as numbers."""

    path: pathlib.PurePosixPath
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.path}:{self.start}:{self.end}"


_Key = Union[_File, _Shard]


class ManifestItem(metaclass=abc.ABCMeta):
    """A part of a model recorded in a manifest (a file or a file shard) with its digest.

    Attributes:
        digest: The part's digest; `key` identifies the part.
    """

    digest: Digest

    @property
    @abc.abstractmethod
    def key(self) -> _Key:
        """What identifies the part within its manifest (unique there)."""


class FileManifestItem(ManifestItem):
    """A whole file of the model, by its path relative to the model, and its digest."""

    def __init__(self, *, path: pathlib.PurePath, digest: Digest):
        """Records the file at `path` (relative to the model, stored as a POSIX path so
        the manifest reads the same on every system) with its `digest`."""
        self._path = pathlib.PurePosixPath(path)
        self.digest = digest

    @property
    def key(self) -> _Key:
        """The file's key: its path."""
        return _File(self._path)


class ShardedFileManifestItem(ManifestItem):
    """The bytes [start, end) of a file of the model, and their digest."""

    def __init__(
        self,
        *,
        path: pathlib.PurePath,
        start: int,
        end: int,
        digest: Digest,
    ):
        """Records the shard [start, end) of the file at `path` (relative to the model,
        stored as a POSIX path) with its `digest`."""
        self._path = pathlib.PurePosixPath(path)
        self._start = start
        self._end = end
        self.digest = digest

    @property
    def key(self) -> _Key:
        """The shard's key: its file's path and offsets."""
        return _Shard(self._path, self._start, self._end)


class SerializationType(metaclass=abc.ABCMeta):
    """How a manifest was made (by files or by shards, which hash, which paths were left
    out, whether symbolic links were followed): what a verifier needs to hash the model
    the same way."""

    @property
    @abc.abstractmethod
    def serialization_parameters(self) -> Dict[str, Any]:
        """The parameters as the signature records them (`method`, `hash_type`, ...)."""

    @classmethod
    def from_args(cls, args: Dict[str, Any]) -> "SerializationType":
        """The serialization described by `args` (as `serialization_parameters` gives
        it); ValueError for an unknown `method`."""
        method = args["method"]
        if method == _FileSerialization.method:
            return _FileSerialization(
                args["hash_type"],
                args.get("allow_symlinks", False),
                args.get("ignore_paths", ()),
            )
        if method == _ShardSerialization.method:
            return _ShardSerialization(
                args["hash_type"],
                int(args["shard_size"]),
                args.get("allow_symlinks", False),
                args.get("ignore_paths", ()),
            )
        raise ValueError(f"Unknown serialization type {method}")

    @abc.abstractmethod
    def new_item(self, name: str, digest: Digest) -> ManifestItem:
        """The manifest item this serialization makes of a resource `name` and its
        digest."""

    @property
    @abc.abstractmethod
    def digest_algorithm(self) -> str:
        """The name each digest's `algorithm` carries in manifests of this kind."""


class _FileSerialization(SerializationType):
    """Serialization by whole files."""

    method = "files"

    def __init__(
        self,
        hash_type: str,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[Any] = frozenset(),
    ):
        self._hash_type = hash_type
        self._allow_symlinks = allow_symlinks
        self._ignore_paths = [str(p) for p in ignore_paths]

    @property
    def serialization_parameters(self) -> Dict[str, Any]:
        """`method`, `hash_type`, `allow_symlinks` and, when any, `ignore_paths`."""
        parameters: Dict[str, Any] = {
            "method": self.method,
            "hash_type": self._hash_type,
            "allow_symlinks": self._allow_symlinks,
        }
        if self._ignore_paths:
            parameters["ignore_paths"] = list(self._ignore_paths)
        return parameters

    @property
    def digest_algorithm(self) -> str:
        """The hash's name."""
        return self._hash_type

    def new_item(self, name: str, digest: Digest) -> ManifestItem:
        """A `FileManifestItem` for the file `name`."""
        return FileManifestItem(path=pathlib.PurePosixPath(name), digest=digest)


class _ShardSerialization(SerializationType):
    """Serialization by file shards of `shard_size` bytes."""

    method = "shards"

    def __init__(
        self,
        hash_type: str,
        shard_size: int,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[Any] = frozenset(),
    ):
        self._hash_type = hash_type
        self._shard_size = shard_size
        self._allow_symlinks = allow_symlinks
        self._ignore_paths = [str(p) for p in ignore_paths]

    @property
    def serialization_parameters(self) -> Dict[str, Any]:
        """`method`, `hash_type`, `shard_size`, `allow_symlinks` and, when any,
        `ignore_paths`."""
        parameters: Dict[str, Any] = {
            "method": self.method,
            "hash_type": self._hash_type,
            "shard_size": self._shard_size,
            "allow_symlinks": self._allow_symlinks,
        }
        if self._ignore_paths:
            parameters["ignore_paths"] = list(self._ignore_paths)
        return parameters

    @property
    def digest_algorithm(self) -> str:
        """"<hash>-sharded-<shard size>", as model_signing names shard digests."""
        return f"{self._hash_type}-sharded-{self._shard_size}"

    def new_item(self, name: str, digest: Digest) -> ManifestItem:
        """A `ShardedFileManifestItem` for the resource "path:start:end"."""
        parts = name.split(":")
        if len(parts) != 3:
            raise ValueError(
                "Invalid resource name: expected 3 components separated by "
                f"`:`, got {name}"
            )
        return ShardedFileManifestItem(
            path=pathlib.PurePosixPath(parts[0]),
            start=int(parts[1]),
            end=int(parts[2]),
            digest=digest,
        )


class Manifest:
    """A model's parts (files or shards) and their digests, with the model's name and how
    it was serialized. Equal to another manifest when the parts and digests are."""

    def __init__(
        self,
        model_name: str,
        items: Iterable[ManifestItem],
        serialization_type: SerializationType,
    ):
        """A manifest of the model `model_name` (informative only) made of `items`, built
        as `serialization_type` says."""
        self._name = model_name
        self._item_to_digest = {item.key: item.digest for item in items}
        self._serialization_type = serialization_type

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        return self._item_to_digest == other._item_to_digest

    __hash__ = None  # type: ignore[assignment]  # mutable container semantics, as upstream

    def __repr__(self) -> str:
        return (
            f"Manifest(model_name={self._name!r}, resources={len(self._item_to_digest)}, "
            f"serialization_type={self.serialization_type!r})"
        )

    def resource_descriptors(self) -> Iterator[_ResourceDescriptor]:
        """Yields each part as a `_ResourceDescriptor(identifier, digest)`, ordered by
        path components and then, for shards, by start offset as a number."""
        for key, digest in sorted(self._item_to_digest.items()):
            yield _ResourceDescriptor(identifier=str(key), digest=digest)

    @property
    def model_name(self) -> str:
        """The model's name (the last component of its path). Informative only: it takes
        no part in equality, so renaming a model does not invalidate its signature."""
        return self._name

    @property
    def serialization_type(self) -> Dict[str, Any]:
        """How the manifest was made, as the signature records it: `method`, `hash_type`,
        `allow_symlinks`, `shard_size` for shards and `ignore_paths` when any."""
        return self._serialization_type.serialization_parameters


def _from_native(data: Dict[str, Any]) -> Manifest:
    """The manifest `_native.hash` describes: its resources, in the library's order, with
    digest algorithms named as model_signing names them."""
    serialization = SerializationType.from_args(data["serialization"])
    algorithm = serialization.digest_algorithm
    resources: List[Tuple[str, str, bytes]] = data["resources"]
    items = [
        serialization.new_item(name, Digest(algorithm, bytes(digest)))
        for name, _hash_type, digest in resources
    ]
    return Manifest(data["model_name"], items, serialization)
