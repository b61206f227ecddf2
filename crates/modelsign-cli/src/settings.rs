//! Hashing settings from the command line, shared by the commands that hash a model.

use std::path::Path;

use modelsign::model::ignore_paths::resolve_ignore_paths;
use modelsign::{HashAlgorithm, HashSettings, IgnoreSet, Serialization, WalkOptions};

use crate::args::{HashTypeArg, HashingArgs, SelectionArgs, SerializationArg};
use crate::failure::Failure;

pub fn hash_settings(model: &Path, hashing: &HashingArgs) -> Result<HashSettings, Failure> {
    let algorithm = match hashing.hash_type {
        HashTypeArg::Sha256 => HashAlgorithm::Sha256,
        HashTypeArg::Blake2b => HashAlgorithm::Blake2b,
        HashTypeArg::Blake3 => HashAlgorithm::Blake3,
    };
    let serialization = match hashing.serialization {
        SerializationArg::Files => Serialization::Files,
        SerializationArg::Shards => Serialization::Shards {
            shard_size: hashing.shard_size,
        },
    };
    Ok(HashSettings {
        algorithm,
        serialization,
        walk: WalkOptions {
            ignore: ignore_set(model, &hashing.selection)?,
            allow_symlinks: hashing.selection.allow_symlinks,
            collect_problems: false,
            ..WalkOptions::default()
        },
        max_workers: workers(hashing.max_workers),
    })
}

/// The exclusions `--ignore-paths` names, by the library's rule; a path that cannot match
/// is reported and skipped.
pub fn ignore_set(model: &Path, selection: &SelectionArgs) -> Result<IgnoreSet, Failure> {
    let (mut set, warnings) = resolve_ignore_paths(
        model,
        &selection.ignore_paths,
        !selection.no_ignore_git_paths,
    )
    .map_err(Failure::input)?;
    for warning in warnings {
        warnln!("{warning}");
    }
    set.set_include_attestation_files(selection.include_attestation_files);
    Ok(set)
}

/// `1 resource`, `2 resources`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub fn workers(max_workers: Option<u64>) -> Option<usize> {
    max_workers.and_then(|n| usize::try_from(n).ok())
}
