//! Model names and canonical relative paths.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::WalkError;

/// The model name recorded in the statement subject: the last component of the model path
/// after dropping trailing separators and `.` components. When that leaves nothing useful
/// (`.`, `..`, `/`), the name of the resolved directory is used instead.
pub fn model_name(model_path: &Path) -> Result<String, WalkError> {
    let last = model_path
        .components()
        .rfind(|c| !matches!(c, Component::CurDir));
    let name = match last {
        Some(Component::Normal(name)) => Some(name.to_owned()),
        _ => fs::canonicalize(model_path)
            .map_err(|e| WalkError::io(model_path, e))?
            .file_name()
            .map(|n| n.to_owned()),
    };
    let name = name.ok_or_else(|| WalkError::NoModelName {
        path: model_path.to_path_buf(),
    })?;
    name.into_string().map_err(|_| WalkError::NonUtf8Name {
        path: model_path.to_path_buf(),
    })
}

/// Canonicalises a `/`-separated relative path: empty and `.` components are dropped.
/// Absolute paths, `..` components and paths that name nothing are refused, with the reason.
pub fn canonicalize_relative(path: &str) -> Result<String, &'static str> {
    if path.starts_with('/') {
        return Err("it is absolute");
    }
    // Signers write canonical names; only rebuild the ones that are not.
    if path.split('/').all(|part| !matches!(part, "" | "." | "..")) {
        return Ok(path.to_owned());
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("it contains a `..` component"),
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err("it names the model root itself");
    }
    Ok(parts.join("/"))
}

/// Expresses `path` (absolute, or relative to the working directory) relative to the model
/// root, or `None` when it lies outside the model. Directories on the way are resolved, but
/// the last component is kept as is, so a symbolic link names the link rather than its target
/// and a file that does not exist yet (a signature about to be written) can be placed.
/// For a single-file model, the file itself is named by its base name.
pub fn relative_to_model(model_root: &Path, path: &Path) -> Option<String> {
    let root = fs::canonicalize(model_root).ok()?;
    let resolved = resolve_keeping_last(path)?;
    if root.is_file() {
        return if resolved == root {
            root.file_name()?.to_str().map(str::to_owned)
        } else {
            None
        };
    }
    let rel = resolved.strip_prefix(&root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let joined = parts?.join("/");
    (!joined.is_empty()).then_some(joined)
}

fn resolve_keeping_last(path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut lexical = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    let file_name = lexical.file_name()?.to_owned();
    let parent = lexical.parent()?;
    let parent = fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    Some(parent.join(file_name))
}
