//! The names a policy's `names` patterns are matched against when a model is verified.
//!
//! They come from where the model is, never from its signature: a signature names its model
//! as its signer pleases, so a signer trusted for `acme/*` would otherwise get any model
//! accepted by signing it as `acme/x`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::model::{self, HfSnapshot};

/// The prefix of a model repository's folder in a Hugging Face cache (`models--org--name`).
const HF_MODEL_FOLDER: &str = "models--";

/// huggingface_hub's separator of a repository id's parts in its folder name
/// (`org/name` is `models--org--name`); a repository id cannot hold it.
const HF_ID_SEPARATOR: &str = "--";

/// The names of the model at `model_path`: for a file or folder of a Hugging Face cache
/// snapshot of a model repository (`…/models--ORG--NAME/snapshots/REV`), the repository id
/// `ORG/NAME` and its purl `pkg:huggingface/ORG/NAME`; otherwise the name of the model's
/// folder or file. Empty when the path names nothing (the verification then reports why).
pub fn model_names(model_path: &Path) -> Vec<String> {
    if let Some(id) = canonical_location(model_path)
        .as_deref()
        .and_then(HfSnapshot::containing)
        .and_then(|snapshot| hf_model_id(snapshot.repository()))
    {
        let purl = format!("pkg:huggingface/{id}");
        return vec![id, purl];
    }
    model::model_name(model_path).into_iter().collect()
}

/// Where `model_path` is, resolved; a link to a file only up to its folder: a snapshot's
/// file is a link into `blobs/`, and where it is called so is where it is.
fn canonical_location(model_path: &Path) -> Option<PathBuf> {
    let is_file_link = fs::symlink_metadata(model_path)
        .ok()?
        .file_type()
        .is_symlink()
        && fs::metadata(model_path).ok()?.is_file();
    if !is_file_link {
        return fs::canonicalize(model_path).ok();
    }
    let name = model_path.file_name()?;
    let parent = match model_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(parent).ok()?.join(name))
}

/// `org/name` for the repository folder `models--org--name`, `name` for `models--name`;
/// `None` for a dataset's, a space's or anything else's, and for a folder name no
/// repository id gives.
fn hf_model_id(repository: &Path) -> Option<String> {
    let folder = repository.file_name()?.to_str()?;
    let id = folder.strip_prefix(HF_MODEL_FOLDER)?;
    let parts: Vec<&str> = id.split(HF_ID_SEPARATOR).collect();
    if parts.len() > 2 || parts.iter().any(|part| part.is_empty()) {
        return None;
    }
    Some(parts.join("/"))
}

/// The names of an image in a registry: `REGISTRY/REPOSITORY` and its purl
/// `pkg:oci/NAME?repository_url=REGISTRY/REPOSITORY` (NAME being the repository's last
/// part), from the reference the verifier asked for; the tag and digest are not part of
/// the name.
pub fn image_names(reference: &crate::oci::ImageReference) -> Vec<String> {
    let repository = format!("{}/{}", reference.registry, reference.repository);
    let name = reference
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(&reference.repository);
    vec![
        repository.clone(),
        format!("pkg:oci/{name}?repository_url={repository}"),
    ]
}
