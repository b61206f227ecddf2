//! Exclusion rules (OMS v1.0 §6.2.1): every entry is an exact path relative to the model
//! root and excludes that path and, for a directory, its whole subtree. Nothing is a glob
//! and nothing matches at other depths.

use std::collections::BTreeSet;

use super::name::canonicalize_relative;
use crate::error::WalkError;

/// Git metadata excluded at the top level of every model unless disabled.
pub const DEFAULT_GIT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// True when the canonical path `relative` is `entry` or lies below it (`a/b` is within
/// `a`; `ab` is not).
pub fn is_within(relative: &str, entry: &str) -> bool {
    relative
        .strip_prefix(entry)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A set of excluded paths, each canonical and relative to the model root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreSet {
    entries: BTreeSet<String>,
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

    /// True when `relative` (a canonical resource path) is excluded.
    pub fn is_ignored(&self, relative: &str) -> bool {
        self.entries.iter().any(|entry| is_within(relative, entry))
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
