//! Walking a model: which files belong to it and under which names (OMS v1.0 §6.1–6.2).
//!
//! A model is a directory or a single regular file. Walking yields every regular file
//! that is not excluded, named by its canonical path relative to the model root
//! (`/`-separated, no `.`/`..` components). Symbolic links are refused unless allowed,
//! and even then only links that stay inside the model root are followed. The one
//! exception is a Hugging Face cache snapshot, whose links into its own repository's blobs
//! are always followed (see [`HfSnapshot`]).

mod hf_cache;
mod ignore;
pub mod ignore_paths;
mod name;

pub use hf_cache::HfSnapshot;
pub use ignore::{
    is_attestation_file_name, is_within, IgnoreSet, ATTESTATION_FILE_PATTERNS, DEFAULT_GIT_IGNORES,
};
pub use name::{canonicalize_relative, model_name, relative_to_model};

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;

use crate::error::WalkError;

/// How a model is enumerated.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Paths excluded from the model, relative to the model root.
    pub ignore: IgnoreSet,
    /// Follow symbolic links whose target lies inside the model root.
    pub allow_symlinks: bool,
    /// Record disallowed symbolic links, and entries no signature can cover (special
    /// files, names that are not UTF-8), instead of failing on the first one: verification
    /// reports them alongside every other difference.
    pub collect_problems: bool,
    /// The resource name of a single-file model.
    pub single_file_name: SingleFileName,
    /// How a signed statement names the algorithm of shard resources.
    pub shard_algorithm_name: ShardAlgorithmName,
}

/// How the one resource of a single-file model is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SingleFileName {
    /// The file's base name, as OMS v1.0 specifies (§6.1.2).
    #[default]
    FileName,
    /// `.`, as model_signing 1.1.1 writes it: the only form it verifies.
    Dot,
}

/// How a signed statement names the algorithm of each shard resource. Readers accept both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ShardAlgorithmName {
    /// The hash type (`sha256`), as OMS v1.0 specifies (§6.3).
    #[default]
    HashType,
    /// `<hash>-sharded-<shard size>` (`sha256-sharded-1024`), as model_signing 1.1.1 writes
    /// it: the only form it verifies, since it compares the algorithm with the digest.
    HashTypeShardedSize,
}

/// One regular file of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// Canonical resource name: the path relative to the model root with `/` separators,
    /// or the file's base name for a single-file model.
    pub name: String,
    /// Where to read the file from (a permitted symbolic link is read through).
    pub path: PathBuf,
    /// Size in bytes when the model was walked.
    pub size: u64,
    /// Modification time when the model was walked, where the file system records one:
    /// hashing refuses a file whose size or modification time changed since.
    pub modified: Option<SystemTime>,
}

impl ModelFile {
    /// A file named `name`, read from `path`, as `meta` describes it now.
    pub fn new(name: String, path: PathBuf, meta: &fs::Metadata) -> Self {
        ModelFile {
            name,
            path,
            size: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// The result of walking a model.
#[derive(Debug, Clone)]
pub struct Model {
    /// The model path as given.
    pub root: PathBuf,
    /// The model name recorded as the statement subject (the base name of the path).
    pub name: String,
    /// True when the model is one regular file rather than a directory.
    pub single_file: bool,
    /// Regular files, in no particular order.
    pub files: Vec<ModelFile>,
    /// Symbolic links found but not allowed (only filled with
    /// [`WalkOptions::collect_problems`]), as resource names.
    pub disallowed_symlinks: Vec<String>,
    /// Entries no signature can cover: devices, FIFOs, sockets, names that are not UTF-8
    /// (only filled with [`WalkOptions::collect_problems`]). Names that are not UTF-8 are
    /// given with their odd bytes as `\xNN`.
    pub unsupported: Vec<String>,
    /// Attestation files at the top level that [`IgnoreSet`]'s default rule left out,
    /// sorted: the manifest records them as excluded.
    pub attestation_files: Vec<String>,
    /// The Hugging Face cache snapshot the model is, or lies in: its links into the
    /// repository's blobs were followed.
    pub hf_snapshot: Option<HfSnapshot>,
}

impl Model {
    /// Total size of all files in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Enumerates the files of the model at `model_path`.
pub fn walk(model_path: &Path, options: &WalkOptions) -> Result<Model, WalkError> {
    let (mut model, meta) = open_root(model_path, options)?;
    if meta.is_file() {
        // A single-file model: the only exclusion that can apply is the file itself.
        if !options.ignore.is_ignored(&model.name) {
            let name = match options.single_file_name {
                SingleFileName::FileName => model.name.clone(),
                SingleFileName::Dot => ".".to_owned(),
            };
            model
                .files
                .push(ModelFile::new(name, model_path.to_path_buf(), &meta));
        }
        return Ok(model);
    }
    let canonical_root = fs::canonicalize(model_path).map_err(|e| WalkError::io(model_path, e))?;
    let walker = Walker {
        links: LinkRules {
            allow_symlinks: options.allow_symlinks,
            canonical_root: &canonical_root,
            snapshot: model.hf_snapshot.as_ref(),
        },
        options,
    };
    let found = walker.walk_dir(model_path, &canonical_root, "", None)?;
    model.files = found.files;
    model.disallowed_symlinks = found.disallowed_symlinks;
    model.unsupported = found.unsupported;
    model.attestation_files = found.attestation_files;
    // Directories are read in parallel; report in a stable order.
    model.disallowed_symlinks.sort_unstable();
    model.unsupported.sort_unstable();
    model.attestation_files.sort_unstable();
    Ok(model)
}

/// The model's name and kind, with nothing enumerated yet, and the model path's own
/// metadata: a directory or a regular file, reached through a symbolic link only when links
/// are allowed or when it is a file of a Hugging Face cache snapshot.
fn open_root(model_path: &Path, options: &WalkOptions) -> Result<(Model, fs::Metadata), WalkError> {
    let unusable = |reason: String| WalkError::ModelPath {
        path: model_path.to_path_buf(),
        reason,
    };
    let name = model_name(model_path)?;
    let link_meta = fs::symlink_metadata(model_path).map_err(|e| WalkError::io(model_path, e))?;
    let mut hf_snapshot = None;
    if link_meta.file_type().is_symlink() {
        hf_snapshot = snapshot_of_linked_file(model_path);
        if hf_snapshot.is_none() && !options.allow_symlinks {
            return Err(WalkError::ModelPathSymlink {
                path: model_path.to_path_buf(),
            });
        }
    }
    let meta = fs::metadata(model_path).map_err(|e| WalkError::io(model_path, e))?;
    if !meta.is_dir() && !meta.is_file() {
        return Err(unusable(format!(
            "is {}, not a directory or a regular file",
            crate::limits::describe_file_type(&meta.file_type())
        )));
    }
    if meta.is_dir() {
        let canonical = fs::canonicalize(model_path).map_err(|e| WalkError::io(model_path, e))?;
        hf_snapshot = HfSnapshot::containing(&canonical);
    }
    let model = Model {
        root: model_path.to_path_buf(),
        name,
        single_file: meta.is_file(),
        files: Vec::new(),
        disallowed_symlinks: Vec::new(),
        unsupported: Vec::new(),
        attestation_files: Vec::new(),
        hf_snapshot,
    };
    Ok((model, meta))
}

/// The snapshot whose file the symbolic link `model_path` is (a link, in a snapshot, to a
/// blob of its repository), given as a single-file model.
fn snapshot_of_linked_file(model_path: &Path) -> Option<HfSnapshot> {
    let parent = match model_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let snapshot = HfSnapshot::containing(&fs::canonicalize(parent).ok()?)?;
    snapshot.blob_behind(model_path).map(|_| snapshot)
}

/// Looks up only the named files (canonical paths relative to the model root) instead of
/// walking the whole tree: verification with unsigned files tolerated examines nothing the
/// signature does not cover. Names that do not exist as regular files are left out (the
/// comparison reports them missing); `.` names the file of a single-file model.
pub(crate) fn select<'a>(
    model_path: &Path,
    names: impl IntoIterator<Item = &'a str>,
    options: &WalkOptions,
) -> Result<Model, WalkError> {
    let (mut model, _) = open_root(model_path, options)?;
    let canonical_root = fs::canonicalize(model_path).map_err(|e| WalkError::io(model_path, e))?;
    let links = LinkRules {
        allow_symlinks: options.allow_symlinks,
        canonical_root: &canonical_root,
        snapshot: model.hf_snapshot.as_ref(),
    };
    for name in names {
        if options.ignore.is_ignored(name) {
            continue;
        }
        let path = if model.single_file {
            if name != "." && name != model.name {
                continue;
            }
            model_path.to_path_buf()
        } else {
            model_path.join(name)
        };
        let Ok(link_meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if link_meta.file_type().is_symlink()
            && !model.single_file
            && links.follow(&path)?.is_none()
        {
            model.disallowed_symlinks.push(name.to_owned());
            continue;
        }
        // Every parent must be a real directory too, or a signed name could reach outside
        // the model through a linked directory.
        if !options.allow_symlinks && has_linked_parent(model_path, name) {
            model.disallowed_symlinks.push(name.to_owned());
            continue;
        }
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                model
                    .files
                    .push(ModelFile::new(name.to_owned(), path, &meta))
            }
            _ => continue,
        }
    }
    Ok(model)
}

fn has_linked_parent(root: &Path, name: &str) -> bool {
    let mut current = root.to_path_buf();
    let mut parts = name.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        current.push(part);
        if fs::symlink_metadata(&current).is_ok_and(|m| m.file_type().is_symlink()) {
            return true;
        }
    }
    false
}

/// Which symbolic links of a directory model are followed.
struct LinkRules<'a> {
    allow_symlinks: bool,
    canonical_root: &'a Path,
    snapshot: Option<&'a HfSnapshot>,
}

/// Where a followed symbolic link leads.
struct Followed {
    /// The canonical target.
    target: PathBuf,
    meta: fs::Metadata,
}

impl LinkRules<'_> {
    /// Resolves the symbolic link at `path`: `None` when links are not allowed, the target
    /// when it may be followed, an error when it leads out of the model (or, in a snapshot,
    /// out of the repository) or nowhere.
    fn follow(&self, path: &Path) -> Result<Option<Followed>, WalkError> {
        let resolve = || {
            fs::canonicalize(path).map_err(|e| WalkError::BrokenSymlink {
                path: path.to_path_buf(),
                source: e,
            })
        };
        if let Some(snapshot) = self.snapshot {
            if let Some((target, meta)) = snapshot.blob_behind(path) {
                return Ok(Some(Followed { target, meta }));
            }
            // A link within the snapshot falls under the ordinary rules below.
            let target = resolve()?;
            if !target.starts_with(self.canonical_root) {
                return Err(WalkError::SnapshotLinkOutsideRepository {
                    path: path.to_path_buf(),
                    target,
                    blobs: snapshot.blobs().to_path_buf(),
                });
            }
        }
        if !self.allow_symlinks {
            return Ok(None);
        }
        let target = resolve()?;
        if !target.starts_with(self.canonical_root) {
            return Err(WalkError::SymlinkOutsideRoot {
                path: path.to_path_buf(),
                target,
            });
        }
        let meta = fs::metadata(&target).map_err(|e| WalkError::io(&target, e))?;
        Ok(Some(Followed { target, meta }))
    }
}

struct Walker<'a> {
    options: &'a WalkOptions,
    links: LinkRules<'a>,
}

/// What a part of the walk found.
#[derive(Default)]
struct Found {
    files: Vec<ModelFile>,
    disallowed_symlinks: Vec<String>,
    unsupported: Vec<String>,
    attestation_files: Vec<String>,
}

impl Found {
    fn merge(mut self, mut other: Found) -> Found {
        if self.files.len() < other.files.len() {
            std::mem::swap(&mut self, &mut other);
        }
        self.files.append(&mut other.files);
        self.disallowed_symlinks
            .append(&mut other.disallowed_symlinks);
        self.unsupported.append(&mut other.unsupported);
        self.attestation_files.append(&mut other.attestation_files);
        self
    }
}

/// The canonical directories on the current descent path, innermost first: entering one
/// of them again through a symbolic link is a cycle.
struct Ancestors<'p> {
    dir: &'p Path,
    parent: Option<&'p Ancestors<'p>>,
}

impl Ancestors<'_> {
    fn contains(&self, dir: &Path) -> bool {
        let mut current = Some(self);
        while let Some(ancestor) = current {
            if ancestor.dir == dir {
                return true;
            }
            current = ancestor.parent;
        }
        false
    }
}

impl Walker<'_> {
    /// Walks `dir`, whose symlink-free location is `canonical_dir`. Entries are visited in
    /// parallel on the current rayon pool: on a model of many small files, the walk's
    /// `stat` calls would otherwise leave every core but one idle.
    fn walk_dir(
        &self,
        dir: &Path,
        canonical_dir: &Path,
        prefix: &str,
        parent: Option<&Ancestors<'_>>,
    ) -> Result<Found, WalkError> {
        let ancestors = Ancestors {
            dir: canonical_dir,
            parent,
        };
        let entries = fs::read_dir(dir)
            .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
            .map_err(|e| WalkError::io(dir, e))?;
        entries
            .into_par_iter()
            .try_fold(Found::default, |mut found, entry| {
                self.visit_entry(&entry, canonical_dir, prefix, &ancestors, &mut found)?;
                Ok(found)
            })
            .try_reduce(Found::default, |a, b| Ok(a.merge(b)))
    }

    fn visit_entry(
        &self,
        entry: &fs::DirEntry,
        canonical_dir: &Path,
        prefix: &str,
        ancestors: &Ancestors<'_>,
        found: &mut Found,
    ) -> Result<(), WalkError> {
        let path = entry.path();
        let file_name = entry.file_name();
        let Some(component) = file_name.to_str() else {
            if self.options.collect_problems {
                found
                    .unsupported
                    .push(join_name(prefix, &escape_non_utf8(&file_name)));
                return Ok(());
            }
            return Err(WalkError::NonUtf8Name { path });
        };
        let rel = join_name(prefix, component);
        // Exclusions come first so an ignored link or special file never fails the walk.
        if self.options.ignore.is_ignored(&rel) {
            return Ok(());
        }
        let file_type = entry.file_type().map_err(|e| WalkError::io(&path, e))?;
        // A directory is model content whatever its name; a link named `model.sig` is left
        // out unread, like the file it stands for.
        if !file_type.is_dir() && self.options.ignore.excludes_attestation_file(&rel) {
            found.attestation_files.push(rel);
            return Ok(());
        }
        if file_type.is_symlink() {
            self.visit_symlink(&path, rel, ancestors, found)
        } else if file_type.is_dir() {
            let inner = self.walk_dir(
                &path,
                &canonical_dir.join(&file_name),
                &rel,
                Some(ancestors),
            )?;
            *found = std::mem::take(found).merge(inner);
            Ok(())
        } else if file_type.is_file() {
            let meta = entry.metadata().map_err(|e| WalkError::io(&path, e))?;
            found.files.push(ModelFile::new(rel, path, &meta));
            Ok(())
        } else if self.options.collect_problems {
            found.unsupported.push(rel);
            Ok(())
        } else {
            Err(WalkError::SpecialFile { path })
        }
    }

    fn visit_symlink(
        &self,
        path: &Path,
        rel: String,
        ancestors: &Ancestors<'_>,
        found: &mut Found,
    ) -> Result<(), WalkError> {
        let Some(Followed { target, meta }) = self.links.follow(path)? else {
            if self.options.collect_problems {
                found.disallowed_symlinks.push(rel);
                return Ok(());
            }
            return Err(WalkError::Symlink {
                path: path.to_path_buf(),
            });
        };
        if meta.is_file() {
            found
                .files
                .push(ModelFile::new(rel, path.to_path_buf(), &meta));
            Ok(())
        } else if meta.is_dir() {
            if ancestors.contains(&target) {
                return Err(WalkError::SymlinkCycle {
                    path: path.to_path_buf(),
                    target,
                });
            }
            let inner = self.walk_dir(path, &target, &rel, Some(ancestors))?;
            *found = std::mem::take(found).merge(inner);
            Ok(())
        } else {
            Err(WalkError::SpecialFile {
                path: path.to_path_buf(),
            })
        }
    }
}

/// `prefix/component`, or `component` at the top.
fn join_name(prefix: &str, component: &str) -> String {
    if prefix.is_empty() {
        component.to_owned()
    } else {
        format!("{prefix}/{component}")
    }
}

/// A file name that is not UTF-8, readable: valid parts as they are, every other byte as
/// `\xNN` (`bad-\xff.bin`).
fn escape_non_utf8(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
