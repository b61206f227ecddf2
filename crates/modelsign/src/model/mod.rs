//! Walking a model: which files belong to it and under which names (OMS v1.0 §6.1–6.2).
//!
//! A model is a directory or a single regular file. Walking yields every regular file
//! that is not excluded, named by its canonical path relative to the model root
//! (`/`-separated, no `.`/`..` components). Symbolic links are refused unless allowed,
//! and even then only links that stay inside the model root are followed.

mod ignore;
mod name;

pub use ignore::{IgnoreSet, DEFAULT_GIT_IGNORES};
pub use name::{canonicalize_relative, model_name, relative_to_model};

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::WalkError;

/// How a model is enumerated.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Paths excluded from the model, relative to the model root.
    pub ignore: IgnoreSet,
    /// Follow symbolic links whose target lies inside the model root.
    pub allow_symlinks: bool,
    /// Record disallowed symbolic links instead of failing on the first one
    /// (verification reports them alongside other differences).
    pub collect_disallowed_symlinks: bool,
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
    /// [`WalkOptions::collect_disallowed_symlinks`]), as resource names.
    pub disallowed_symlinks: Vec<String>,
}

impl Model {
    /// Total size of all files in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Enumerates the files of the model at `model_path`.
pub fn walk(model_path: &Path, options: &WalkOptions) -> Result<Model, WalkError> {
    let name = model_name(model_path)?;
    let root_meta = fs::symlink_metadata(model_path).map_err(|e| WalkError::io(model_path, e))?;
    if root_meta.file_type().is_symlink() && !options.allow_symlinks {
        return Err(WalkError::Symlink {
            path: model_path.to_path_buf(),
        });
    }
    let meta = fs::metadata(model_path).map_err(|e| WalkError::io(model_path, e))?;
    let mut model = Model {
        root: model_path.to_path_buf(),
        name: name.clone(),
        single_file: meta.is_file(),
        files: Vec::new(),
        disallowed_symlinks: Vec::new(),
    };
    if meta.is_file() {
        // A single-file model: its one resource is named by the file's base name
        // (OMS §6.1.2); the only exclusion that can apply is the file itself.
        if !options.ignore.is_ignored(&name) {
            model.files.push(ModelFile {
                name,
                path: model_path.to_path_buf(),
                size: meta.len(),
            });
        }
        return Ok(model);
    }
    if !meta.is_dir() {
        return Err(WalkError::SpecialFile {
            path: model_path.to_path_buf(),
        });
    }
    let canonical_root = fs::canonicalize(model_path).map_err(|e| WalkError::io(model_path, e))?;
    let mut walker = Walker {
        options,
        canonical_root: &canonical_root,
        model: &mut model,
        active_dirs: HashSet::new(),
    };
    walker.walk_dir(model_path, canonical_root.clone(), "")?;
    Ok(model)
}

/// Looks up only the named files (canonical paths relative to the model root) instead of
/// walking the whole tree: verification with unsigned files tolerated examines nothing the
/// signature does not cover. Names that do not exist as regular files are left out (the
/// comparison reports them missing); `.` names the file of a single-file model.
pub fn select<'a>(
    model_path: &Path,
    names: impl IntoIterator<Item = &'a str>,
    options: &WalkOptions,
) -> Result<Model, WalkError> {
    let mut model = walk_root_only(model_path)?;
    let canonical_root = fs::canonicalize(model_path).map_err(|e| WalkError::io(model_path, e))?;
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
        if link_meta.file_type().is_symlink() && !model.single_file {
            if !options.allow_symlinks {
                model.disallowed_symlinks.push(name.to_owned());
                continue;
            }
            let target = fs::canonicalize(&path).map_err(|e| WalkError::BrokenSymlink {
                path: path.clone(),
                source: e,
            })?;
            if !target.starts_with(&canonical_root) {
                return Err(WalkError::SymlinkOutsideRoot { path, target });
            }
        }
        // Every parent must be a real directory too, or a signed name could reach outside
        // the model through a linked directory.
        if !options.allow_symlinks && has_linked_parent(model_path, name) {
            model.disallowed_symlinks.push(name.to_owned());
            continue;
        }
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => model.files.push(ModelFile {
                name: name.to_owned(),
                path,
                size: meta.len(),
            }),
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

/// The model's name and kind, without enumerating anything.
fn walk_root_only(model_path: &Path) -> Result<Model, WalkError> {
    let name = model_name(model_path)?;
    let meta = fs::metadata(model_path).map_err(|e| WalkError::io(model_path, e))?;
    Ok(Model {
        root: model_path.to_path_buf(),
        name,
        single_file: meta.is_file(),
        files: Vec::new(),
        disallowed_symlinks: Vec::new(),
    })
}

struct Walker<'a> {
    options: &'a WalkOptions,
    canonical_root: &'a Path,
    model: &'a mut Model,
    /// Canonical directories on the current descent path, to detect symlink cycles.
    active_dirs: HashSet<PathBuf>,
}

impl Walker<'_> {
    /// Walks `dir`, whose symlink-free location is `canonical_dir`.
    fn walk_dir(
        &mut self,
        dir: &Path,
        canonical_dir: PathBuf,
        prefix: &str,
    ) -> Result<(), WalkError> {
        self.active_dirs.insert(canonical_dir.clone());
        let result = self.walk_entries(dir, &canonical_dir, prefix);
        self.active_dirs.remove(&canonical_dir);
        result
    }

    fn walk_entries(
        &mut self,
        dir: &Path,
        canonical_dir: &Path,
        prefix: &str,
    ) -> Result<(), WalkError> {
        let entries = fs::read_dir(dir).map_err(|e| WalkError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| WalkError::io(dir, e))?;
            let path = entry.path();
            let file_name = entry.file_name();
            let Some(component) = file_name.to_str() else {
                return Err(WalkError::NonUtf8Name { path });
            };
            let rel = if prefix.is_empty() {
                component.to_owned()
            } else {
                format!("{prefix}/{component}")
            };
            // Exclusions come first so an ignored link or special file never fails the walk.
            if self.options.ignore.is_ignored(&rel) {
                continue;
            }
            let file_type = entry.file_type().map_err(|e| WalkError::io(&path, e))?;
            if file_type.is_symlink() {
                self.visit_symlink(&path, rel)?;
            } else if file_type.is_dir() {
                self.walk_dir(&path, canonical_dir.join(&file_name), &rel)?;
            } else if file_type.is_file() {
                let size = entry.metadata().map_err(|e| WalkError::io(&path, e))?.len();
                self.model.files.push(ModelFile {
                    name: rel,
                    path,
                    size,
                });
            } else {
                return Err(WalkError::SpecialFile { path });
            }
        }
        Ok(())
    }

    fn visit_symlink(&mut self, path: &Path, rel: String) -> Result<(), WalkError> {
        if !self.options.allow_symlinks {
            if self.options.collect_disallowed_symlinks {
                self.model.disallowed_symlinks.push(rel);
                return Ok(());
            }
            return Err(WalkError::Symlink {
                path: path.to_path_buf(),
            });
        }
        let target = fs::canonicalize(path).map_err(|e| WalkError::BrokenSymlink {
            path: path.to_path_buf(),
            source: e,
        })?;
        if !target.starts_with(self.canonical_root) {
            return Err(WalkError::SymlinkOutsideRoot {
                path: path.to_path_buf(),
                target,
            });
        }
        let meta = fs::metadata(&target).map_err(|e| WalkError::io(&target, e))?;
        if meta.is_file() {
            self.model.files.push(ModelFile {
                name: rel,
                path: path.to_path_buf(),
                size: meta.len(),
            });
            Ok(())
        } else if meta.is_dir() {
            if self.active_dirs.contains(&target) {
                return Err(WalkError::SymlinkCycle {
                    path: path.to_path_buf(),
                    target,
                });
            }
            self.walk_dir(path, target, &rel)
        } else {
            Err(WalkError::SpecialFile {
                path: path.to_path_buf(),
            })
        }
    }
}

#[cfg(test)]
mod tests;
