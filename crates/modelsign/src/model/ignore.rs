//! Exclusion rules (OMS v1.0 §6.2.1): every entry is an exact path relative to the model
//! root and excludes that path and, for a directory, its whole subtree. Nothing is a glob
//! and nothing matches at other depths.
//!
//! One default is a rule rather than a path: attestation files at the model's top level
//! ([`ATTESTATION_FILE_PATTERNS`]) are left out, so that signing the model, then a card,
//! then appending to `claims.jsonl` never changes the model that the first signature
//! covers (as sigstore/model-transparency PR #590 proposes). The walker reports the files
//! the rule left out, and they are recorded as exact paths, which any OMS verifier applies.

use std::collections::BTreeSet;

use super::name::canonicalize_relative;
use crate::error::WalkError;

/// Git metadata excluded at the top level of every model unless disabled.
pub const DEFAULT_GIT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// The names of attestation files, excluded at the model's top level by default: OMS
/// signatures and other Sigstore bundles (`model.sig`, `model-card.sig`,
/// `x.slsa.sigstore.json`) and the `claims.jsonl` file of appended bundles. The same list
/// as sigstore/model-transparency PR #590.
pub const ATTESTATION_FILE_PATTERNS: [&str; 3] = ["*.sig", "*.sigstore.json", "claims.jsonl"];

/// True when a file name matches one of [`ATTESTATION_FILE_PATTERNS`].
pub fn is_attestation_file_name(name: &str) -> bool {
    name.ends_with(".sig") || name.ends_with(".sigstore.json") || name == "claims.jsonl"
}

/// True when the canonical path `relative` is `entry` or lies below it (`a/b` is within
/// `a`; `ab` is not).
pub fn is_within(relative: &str, entry: &str) -> bool {
    relative
        .strip_prefix(entry)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A set of excluded paths, each canonical and relative to the model root, and whether
/// attestation files at the top level are left out too (the default, also of
/// [`IgnoreSet::default`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreSet {
    entries: BTreeSet<String>,
    /// Attestation files are part of the model (off by default).
    include_attestation_files: bool,
    /// Attestation files a signature covers: verifying it checks them like any other file.
    signed_attestation_files: BTreeSet<String>,
}

impl IgnoreSet {
    /// An empty set, or the git defaults when `ignore_git_paths` is true.
    pub fn new(ignore_git_paths: bool) -> Self {
        let mut set = Self::default();
        if ignore_git_paths {
            set.entries
                .extend(DEFAULT_GIT_IGNORES.iter().map(|s| (*s).to_owned()));
        }
        set
    }

    /// Adds a path relative to the model root (`a/b`, `./a//b` and `a/b/` are the same entry).
    /// Absolute paths and paths with `..` components cannot name anything inside the model
    /// and are refused.
    pub fn add(&mut self, relative: &str) -> Result<(), WalkError> {
        let canonical =
            canonicalize_relative(relative).map_err(|reason| WalkError::BadIgnorePath {
                path: relative.to_owned(),
                reason,
            })?;
        self.entries.insert(canonical);
        Ok(())
    }

    /// Adds entries recorded in a signature, silently skipping any that cannot name a path
    /// inside the model (other implementations have recorded paths relative to their working
    /// directory, which simply match nothing).
    pub fn add_recorded<'a>(&mut self, entries: impl IntoIterator<Item = &'a str>) {
        for entry in entries {
            if let Ok(canonical) = canonicalize_relative(entry) {
                self.entries.insert(canonical);
            }
        }
    }

    /// True when `relative` (a canonical resource path) is excluded by an entry. The
    /// attestation-file rule is not an entry: see [`IgnoreSet::excludes_attestation_file`].
    pub fn is_ignored(&self, relative: &str) -> bool {
        self.entries.iter().any(|entry| is_within(relative, entry))
    }

    /// Makes attestation files part of the model (`include`), or leaves them out (the
    /// default).
    pub fn set_include_attestation_files(&mut self, include: bool) {
        self.include_attestation_files = include;
    }

    /// True when attestation files are part of the model.
    pub fn includes_attestation_files(&self) -> bool {
        self.include_attestation_files
    }

    /// True when the attestation-file rule leaves out the top-level entry `relative` of a
    /// directory model (the walker applies it to entries that are not directories).
    pub fn excludes_attestation_file(&self, relative: &str) -> bool {
        !self.include_attestation_files
            && !relative.contains('/')
            && is_attestation_file_name(relative)
            && !self.signed_attestation_files.contains(relative)
    }

    /// Gives way to what a signature covers: a default exclusion never hides a file that
    /// the signed manifest lists (`signed_files`, the file part of each resource name), or
    /// verifying would report it missing. A model signed with the git defaults off lists
    /// its `.gitattributes`; one signed before attestation files were left out, or with
    /// them included, lists its `model-card.sig`.
    pub fn yield_to_signed(&mut self, signed_files: &[&str]) {
        for default in DEFAULT_GIT_IGNORES {
            if signed_files.iter().any(|name| is_within(name, default)) {
                self.entries.remove(default);
            }
        }
        self.signed_attestation_files.extend(
            signed_files
                .iter()
                .filter(|name| !name.contains('/') && is_attestation_file_name(name))
                .map(|name| (*name).to_owned()),
        );
    }

    /// The entries in sorted order, as recorded in `serialization.ignore_paths`.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(String::as_str)
    }

    /// Removes an entry (given canonical, as [`IgnoreSet::entries`] lists them).
    pub fn remove(&mut self, entry: &str) {
        self.entries.remove(entry);
    }

    /// True when nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
