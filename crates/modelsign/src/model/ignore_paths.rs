//! Turning the paths a user names for exclusion into an [`IgnoreSet`]: one rule for every
//! front end (the CLI, the conformance adapter, a binding), so that the same path excludes
//! the same file whoever is asked.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use super::{relative_to_model, IgnoreSet};
use crate::error::{Classify, FailureKind, WalkError};
use crate::text::printable_path;

/// A path to exclude that could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IgnorePathError {
    /// OMS records ignore paths as text: a name that is not UTF-8 would be recorded
    /// altered (U+FFFD) and then name nothing.
    #[error(
        "ignore path '{}' is not valid UTF-8; OMS records ignore paths as UTF-8 text",
        path.to_string_lossy()
    )]
    NotUtf8 {
        /// The path as given.
        path: PathBuf,
    },
    /// The path resolved to an entry the set refuses.
    #[error(transparent)]
    Unusable(#[from] WalkError),
}

impl Classify for IgnorePathError {
    /// A path given to exclude is always the user's input.
    fn failure_kind(&self) -> FailureKind {
        FailureKind::Input
    }
}

/// A path to exclude that was skipped, for the front end to report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IgnorePathWarning {
    /// The path lies outside the model, so it cannot match anything.
    OutsideModel {
        /// The path as given.
        path: PathBuf,
        /// The model it is not inside.
        model: PathBuf,
    },
}

impl fmt::Display for IgnorePathWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnorePathWarning::OutsideModel { path, model } => write!(
                f,
                "ignore path '{}' is not inside the model '{}'; it has no effect",
                printable_path(path),
                printable_path(model)
            ),
        }
    }
}

/// The exclusion set for `paths`, with the warnings about paths that were skipped.
///
/// A relative path names a path below the model root. For model_signing compatibility
/// (whose paths are relative to the working directory), a relative path that does not
/// exist below the model root but does exist relative to the working directory, inside
/// the model, is taken that way. Absolute paths must lie inside the model, and relative
/// ones must not climb out of it with `..`; others are skipped with a warning, as they
/// cannot match (model_signing drops them too). `ignore_git_paths` starts the set with
/// the git metadata defaults.
pub fn resolve_ignore_paths(
    model: &Path,
    paths: &[PathBuf],
    ignore_git_paths: bool,
) -> Result<(IgnoreSet, Vec<IgnorePathWarning>), IgnorePathError> {
    let mut set = IgnoreSet::new(ignore_git_paths);
    let mut warnings = Vec::new();
    for path in paths {
        let Some(text) = path.to_str() else {
            return Err(IgnorePathError::NotUtf8 { path: path.clone() });
        };
        // Taken from the working directory: absolute paths, and relative ones that name
        // nothing below the model root but something from here.
        let from_here = path.is_absolute()
            || (model.join(path).symlink_metadata().is_err() && path.symlink_metadata().is_ok());
        let relative = if from_here {
            relative_to_model(model, path)
        } else if climbs_out(path) {
            None
        } else {
            Some(text.to_owned())
        };
        match relative {
            Some(relative) => set.add(&relative)?,
            None => warnings.push(IgnorePathWarning::OutsideModel {
                path: path.clone(),
                model: model.to_path_buf(),
            }),
        }
    }
    Ok((set, warnings))
}

/// True when the relative `path`, read from the model root, climbs above it with `..`.
fn climbs_out(path: &Path) -> bool {
    let mut depth = 0usize;
    for component in path.components() {
        match component {
            Component::ParentDir => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model `dir/model` holding `weights.bin` and `docs/readme.md`.
    fn model_in(dir: &Path) -> PathBuf {
        let model = dir.join("model");
        std::fs::create_dir_all(model.join("docs")).expect("mkdir");
        std::fs::write(model.join("weights.bin"), b"w").expect("write");
        std::fs::write(model.join("docs/readme.md"), b"r").expect("write");
        model
    }

    fn entries(set: &IgnoreSet) -> Vec<&str> {
        set.entries().collect()
    }

    #[test]
    fn relative_paths_name_paths_below_the_model_root_whatever_the_working_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = model_in(dir.path());
        let (set, warnings) = resolve_ignore_paths(
            &model,
            &[PathBuf::from("docs/"), PathBuf::from("./weights.bin")],
            false,
        )
        .expect("resolves");
        assert_eq!(entries(&set), ["docs", "weights.bin"]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn absolute_paths_inside_the_model_become_relative_and_outside_ones_warn() {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = model_in(dir.path());
        let outside = dir.path().join("elsewhere.txt");
        let (set, warnings) = resolve_ignore_paths(
            &model,
            &[model.join("docs/readme.md"), outside.clone()],
            true,
        )
        .expect("resolves");
        assert!(set.is_ignored("docs/readme.md"));
        assert!(set.is_ignored(".git"), "the git defaults were asked for");
        assert!(!set.is_ignored("weights.bin"));
        assert_eq!(
            warnings,
            [IgnorePathWarning::OutsideModel {
                path: outside,
                model: model.clone()
            }]
        );
        assert!(
            warnings[0].to_string().contains("it has no effect"),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn a_relative_path_leaving_the_model_is_skipped_with_a_warning() {
        // As model_signing drops it, and as an absolute path outside the model is skipped.
        let dir = tempfile::tempdir().expect("tempdir");
        let model = model_in(dir.path());
        let paths = [PathBuf::from("../x"), PathBuf::from("docs/../../x")];
        let (set, warnings) = resolve_ignore_paths(&model, &paths, false).expect("resolves");
        assert_eq!(entries(&set), Vec::<&str>::new());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            matches!(&warnings[0], IgnorePathWarning::OutsideModel { path, .. } if path == Path::new("../x"))
        );
    }

    #[test]
    fn a_path_with_a_parent_component_inside_the_model_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = model_in(dir.path());
        let refused = resolve_ignore_paths(&model, &[PathBuf::from("docs/../x")], false)
            .expect_err("cannot name a path inside the model");
        assert!(
            matches!(
                refused,
                IgnorePathError::Unusable(WalkError::BadIgnorePath { .. })
            ),
            "{refused}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let model = model_in(dir.path());
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"bad\xff"));
        let refused = resolve_ignore_paths(&model, &[path], false).expect_err("not UTF-8");
        assert!(
            matches!(refused, IgnorePathError::NotUtf8 { .. }),
            "{refused}"
        );
    }
}
