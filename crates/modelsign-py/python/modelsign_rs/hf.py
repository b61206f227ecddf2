"""Verifying a model in the Hugging Face cache before it is loaded.

huggingface_hub keeps a downloaded repository as
``<cache>/models--ORG--NAME/{blobs/<hash>, refs/<branch>, snapshots/<commit>/...}``, each
file of a snapshot a symbolic link into the repository's own ``blobs/``. A snapshot is
verified as if its files were regular files: links into that repository's ``blobs/`` are
followed, any other link (elsewhere in the cache, outside it) is refused.

Verify, then load, in two lines (the snapshot is looked up in the cache; nothing is
downloaded, and huggingface_hub is not imported)::

    result = modelsign_rs.hf.verify_snapshot("acme/finbert", policy="trust.toml")
    model = AutoModel.from_pretrained(result.path)

Load from ``result.path``, the snapshot folder verified, never by repository id again:
given an id, ``from_pretrained`` may fetch a newer revision or read another cache.

The signature is a file of the snapshot (``model.sig`` by default, shipped in the
repository), which is left out of what it signs.
"""

from __future__ import annotations

import errno
import os
import pathlib
import re
import sys
from collections.abc import Iterable
from typing import Optional, Union

from modelsign_rs import _native
from modelsign_rs.hashing import PathLike, ProgressCallback, _text_path
from modelsign_rs.policy import Names, PolicyResult, _names, _signature_file, _verify

__all__ = ["SnapshotNotFoundError", "hub_cache_dir", "snapshot_path", "verify_snapshot"]

REPO_TYPES = ("model", "dataset", "space", "kernel")
"""The repository kinds huggingface_hub caches, each in ``<kind>s--ORG--NAME``."""

_COMMIT = re.compile(r"[0-9a-f]{40}")
# A repository id as the Hub allows it: NAME or ORG/NAME, of letters, digits, "-", "_"
# and ".", without "--" or ".." (huggingface_hub's validate_repo_id).
_REPO_ID = re.compile(r"(?:[\w.-]+/)?[\w.-]+", re.ASCII)


class SnapshotNotFoundError(FileNotFoundError, _native.InputError):
    """The repository, revision or snapshot is not in the Hugging Face cache. A
    `FileNotFoundError` (`filename` is what was looked for) and an `InputError`."""


def hub_cache_dir(cache_dir: Optional[PathLike] = None) -> pathlib.Path:
    """The Hugging Face hub cache folder as huggingface_hub 2.x finds it: `cache_dir` if
    given, else ``$HF_HUB_CACHE``, else ``$HUGGINGFACE_HUB_CACHE``, else
    ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else
    ``~/.cache/huggingface/hub`` (``~`` and ``$VAR`` expanded, then made absolute).

    The variables are read at each call (huggingface_hub reads them once, at import).
    When huggingface_hub is already imported, its ``constants.HF_HUB_CACHE`` is the
    answer instead: that is the folder its loaders read, whatever the variables say now.
    """
    if cache_dir is None:
        hub_constants = sys.modules.get("huggingface_hub.constants")
        imported = getattr(hub_constants, "HF_HUB_CACHE", None)
        if isinstance(imported, (str, os.PathLike)):
            return pathlib.Path(imported).expanduser().resolve()
        default_home = os.path.join(os.path.expanduser("~"), ".cache")
        hf_home = os.path.expandvars(
            os.path.expanduser(
                os.getenv(
                    "HF_HOME",
                    os.path.join(os.getenv("XDG_CACHE_HOME", default_home), "huggingface"),
                )
            )
        )
        legacy = os.getenv("HUGGINGFACE_HUB_CACHE", os.path.join(hf_home, "hub"))
        found = os.path.expandvars(os.path.expanduser(os.getenv("HF_HUB_CACHE", legacy)))
    else:
        found = _text_path(cache_dir)
    return pathlib.Path(found).expanduser().resolve()


def _repository_folder(repo_id: str, repo_type: Optional[str]) -> str:
    kind = repo_type or "model"
    if kind not in REPO_TYPES:
        raise _native.InputError(
            f"repo_type {kind!r} is not a repository type; the types are "
            f"{', '.join(REPO_TYPES)}"
        )
    if not _REPO_ID.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id:
        raise _native.InputError(
            f"{repo_id!r} is not a Hugging Face repository id (NAME or ORG/NAME of "
            'letters, digits, "-", "_" and ".", without "--" or "..")'
        )
    return "--".join([f"{kind}s", *repo_id.split("/")])


def _checked_revision(revision: str) -> str:
    parts = revision.split("/")
    if not revision or "\\" in revision or any(p in ("", ".", "..") for p in parts):
        raise _native.InputError(
            f"{revision!r} is not a revision (a branch, tag or 40-hex commit)"
        )
    return revision


def _not_found(message: str, looked_for: pathlib.Path) -> SnapshotNotFoundError:
    return SnapshotNotFoundError(errno.ENOENT, message, str(looked_for))


def snapshot_path(
    repo_id: str,
    revision: Optional[str] = None,
    cache_dir: Optional[PathLike] = None,
    repo_type: str = "model",
) -> pathlib.Path:
    """The folder of a cached snapshot of `repo_id`, found without downloading anything.

    Args:
        repo_id: ``ORG/NAME`` (or ``NAME``).
        revision: A branch or tag (read from the cache's ``refs/<revision>``) or a 40-hex
            commit; default ``main``.
        cache_dir: The hub cache; default as `hub_cache_dir` finds it.
        repo_type: "model" (default), "dataset", "space" or "kernel".

    Raises:
        SnapshotNotFoundError: The repository, the revision or its snapshot is not in the
            cache (the message and `filename` say what was looked for).
        InputError: `repo_id`, `revision` or `repo_type` is malformed.
    """
    cache = hub_cache_dir(cache_dir)
    repository = cache / _repository_folder(repo_id, repo_type)
    wanted = _checked_revision("main" if revision is None else revision)
    if not repository.is_dir():
        raise _not_found(
            f"{repo_id} is not in the Hugging Face cache {cache}: no folder {repository.name}"
            " (download it first, e.g. with huggingface_hub.snapshot_download)",
            repository,
        )
    if _COMMIT.fullmatch(wanted):
        commit = wanted
    else:
        ref = repository / "refs" / wanted
        try:
            commit = ref.read_text(encoding="ascii").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as error:
            raise _not_found(
                f"revision {wanted!r} of {repo_id} is not in the Hugging Face cache: "
                f"no refs/{wanted} in {repository}",
                ref,
            ) from error
        except (OSError, UnicodeDecodeError) as error:
            raise _native.InputError(f"cannot read {ref}: {error}") from error
        if not _COMMIT.fullmatch(commit):
            raise _native.InputError(
                f"{ref} does not name a commit (40 hex digits): {commit[:80]!r}"
            )
    snapshot = repository / "snapshots" / commit
    if not snapshot.is_dir():
        named = wanted if wanted == commit else f"{wanted!r} (commit {commit})"
        raise _not_found(
            f"revision {named} of {repo_id} has no snapshot in the Hugging Face cache: "
            f"no folder snapshots/{commit} in {repository}",
            snapshot,
        )
    return snapshot


def verify_snapshot(
    repo_id_or_path: Union[str, PathLike],
    revision: Optional[str] = None,
    *,
    policy: PathLike,
    signature: Optional[PathLike] = None,
    cache_dir: Optional[PathLike] = None,
    repo_type: str = "model",
    name: Names = None,
    ignore_paths: Iterable[PathLike] = (),
    ignore_unsigned_files: bool = False,
    max_workers: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
) -> PolicyResult:
    """Verifies a Hugging Face model snapshot against its signature and the trust policy
    file `policy`, as `modelsign_rs.verify_model_dir` does.

    `repo_id_or_path` is, as for ``from_pretrained``, a local folder when it is a path
    object or names an existing folder, else a repository id looked up in the cache
    (`snapshot_path`; nothing is downloaded). A snapshot of a model repository is matched
    against the policy's name patterns as ``ORG/NAME`` and ``pkg:huggingface/ORG/NAME``;
    only model repositories get those names (a dataset's, space's or kernel's snapshot is
    matched by its folder name, plus `name`).

    Load from the result's `path` (``AutoModel.from_pretrained(result.path)``), not by
    repository id, so that the loader reads the files verified.

    Args:
        repo_id_or_path: ``ORG/NAME``, or a model folder.
        revision: For a repository id: branch, tag or commit (default ``main``).
        policy: The trust policy file.
        signature: The signature file; default ``<snapshot>/model.sig``.
        cache_dir: The hub cache (default as `hub_cache_dir` finds it).
        repo_type: "model" (default), "dataset", "space" or "kernel".
        name: Further name(s) the caller vouches for, added to the snapshot's own; any
            one matching a signer's patterns suffices (it never restricts).
        ignore_paths, ignore_unsigned_files, max_workers, progress: As for
            `modelsign_rs.verify_model_dir` (``ignore_unsigned_files=True`` is dangerous
            before a loader: an unsigned ``model.safetensors`` beside a signed
            ``pytorch_model.bin`` passes, and transformers prefers the safetensors file).

    Returns:
        A `PolicyResult` whose `path` is the snapshot folder verified.

    Raises:
        SnapshotNotFoundError: The repository or revision is not in the cache.
        InputError: `revision` given with a folder (a folder has no revisions), or a
            malformed repository id; and as `verify_model_dir` raises.
        UntrustedSignatureError, VerificationError, SignatureNotFoundError,
        PolicyNotFoundError: As `verify_model_dir` raises them.
    """
    if isinstance(repo_id_or_path, (os.PathLike, bytes)) or os.path.isdir(repo_id_or_path):
        if revision is not None:
            raise _native.InputError(
                f"revision {revision!r} was given for the folder {_text_path(repo_id_or_path)}"
                "; a revision selects a snapshot of a repository id"
            )
        model = pathlib.Path(_text_path(repo_id_or_path))
    else:
        model = snapshot_path(repo_id_or_path, revision, cache_dir, repo_type)
    signature_file = _signature_file(model, signature)
    return _verify(
        model,
        policy,
        signature_file,
        extra_names=_names(name),
        ignore_paths=ignore_paths,
        ignore_unsigned_files=ignore_unsigned_files,
        max_workers=max_workers,
        progress=progress,
    )
