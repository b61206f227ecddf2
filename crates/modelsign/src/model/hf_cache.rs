//! Hugging Face cache snapshots. `huggingface_hub` stores a downloaded repository as
//! `<cache>/<kind>s--<org>--<name>/{blobs/<hash>, refs/<ref>, snapshots/<revision>/…}`: each
//! file of a snapshot is a symbolic link to its content in the same repository folder's
//! `blobs/` (`snapshots/<rev>/sub/f -> ../../../blobs/<hash>`). Since huggingface_hub 2.x, a
//! repository blob may itself be a link into the cache-wide store
//! `<cache>/blobs/<2 hex>/<64 hex>`, marked by the file `<cache>/blobs/.huggingface-shared-blobs`.
//!
//! These links are the cache's own layout, not an escape from the model: the walk follows
//! them without `--allow-symlinks`, names each file by its link (what the snapshot calls it)
//! and hashes the blob. Nothing else outside the snapshot is followed.

use std::fs;
use std::path::{Path, PathBuf};

/// The prefixes of a repository folder's name (`models--org--name`), as huggingface_hub
/// names them (`REPO_TYPES_MAPPING`).
const REPOSITORY_KINDS: [&str; 4] = ["models--", "datasets--", "spaces--", "kernels--"];

/// The folder of a repository's snapshots, one per revision.
const SNAPSHOTS: &str = "snapshots";

/// A repository's (and the cache-wide store's) folder of file contents.
const BLOBS: &str = "blobs";

/// The marker of a cache-wide shared blob store, and the only content it may have.
const SHARED_STORE_MARKER: &str = ".huggingface-shared-blobs";
const SHARED_STORE_LAYOUT: &str = "1\n";

/// A snapshot of one cached repository that a model lies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfSnapshot {
    /// The repository folder (`…/models--org--name`), canonical.
    repository: PathBuf,
    /// Its `blobs/` folder, a real directory (so also canonical).
    blobs: PathBuf,
}

impl HfSnapshot {
    /// The snapshot that `canonical` (a symlink-free path) is, or lies in: the nearest
    /// ancestor `<repository>/snapshots/<revision>` whose repository folder is named as
    /// huggingface_hub names them and has a real `blobs/` directory.
    pub fn containing(canonical: &Path) -> Option<HfSnapshot> {
        canonical.ancestors().find_map(|revision| {
            let snapshots = revision.parent()?;
            let repository = snapshots.parent()?;
            if revision.file_name().is_none()
                || snapshots.file_name()? != SNAPSHOTS
                || !is_repository_folder_name(repository.file_name()?.to_str()?)
            {
                return None;
            }
            let blobs = repository.join(BLOBS);
            is_real_dir(&blobs).then(|| HfSnapshot {
                repository: repository.to_path_buf(),
                blobs,
            })
        })
    }

    /// The repository folder (`…/models--org--name`).
    pub fn repository(&self) -> &Path {
        &self.repository
    }

    /// The repository's `blobs/` folder.
    pub fn blobs(&self) -> &Path {
        &self.blobs
    }

    /// The blob that the symbolic link `link` stands for (its canonical path and metadata),
    /// or `None` when the link is not one of this snapshot's: it must resolve to a regular file directly in the
    /// repository's `blobs/`, or its own target must be a link there that resolves to a
    /// regular file of the cache-wide store. Links into other folders, other repositories'
    /// blobs or anywhere else are not.
    pub fn blob_behind(&self, link: &Path) -> Option<(PathBuf, fs::Metadata)> {
        let resolved = fs::canonicalize(link).ok()?;
        let regular_file = |path: PathBuf| {
            let meta = fs::metadata(&path).ok().filter(fs::Metadata::is_file)?;
            Some((path, meta))
        };
        if resolved.parent() == Some(self.blobs.as_path()) {
            return regular_file(resolved);
        }
        let text = fs::read_link(link).ok()?;
        // The link's own target, with its folders resolved; the blob itself is looked at
        // without following it, to tell a repository blob from a link into the shared store.
        let first_hop = fs::canonicalize(link.parent()?).ok()?.join(text);
        let name = first_hop.file_name()?;
        if fs::canonicalize(first_hop.parent()?).ok()? != self.blobs {
            return None;
        }
        let blob = self.blobs.join(name);
        if !fs::symlink_metadata(&blob).ok()?.file_type().is_symlink() {
            return None;
        }
        if !self.is_shared_store_entry(&resolved) {
            return None;
        }
        regular_file(resolved)
    }

    /// True when `canonical` is `<cache>/blobs/<2 hex>/<64 hex>` of the cache holding this
    /// repository, in a store that huggingface_hub marked as its own.
    fn is_shared_store_entry(&self, canonical: &Path) -> bool {
        let Some(cache) = self.repository.parent() else {
            return false;
        };
        let store = cache.join(BLOBS);
        let (Some(prefix_dir), Some(hash)) = (
            canonical.parent(),
            canonical.file_name().and_then(|n| n.to_str()),
        ) else {
            return false;
        };
        let Some(prefix) = prefix_dir.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        prefix_dir.parent() == Some(store.as_path())
            && is_real_dir(&store)
            && fs::read_to_string(store.join(SHARED_STORE_MARKER))
                .is_ok_and(|marker| marker == SHARED_STORE_LAYOUT)
            && is_lower_hex(prefix, 2)
            && is_lower_hex(hash, 64)
            && hash.starts_with(prefix)
    }
}

/// `models--gpt2`, `datasets--org--name`, …: a known kind and a non-empty repository id.
fn is_repository_folder_name(name: &str) -> bool {
    REPOSITORY_KINDS
        .iter()
        .any(|kind| name.strip_prefix(kind).is_some_and(|id| !id.is_empty()))
}

/// A directory that is not a symbolic link.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
