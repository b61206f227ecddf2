//! From an OCI image manifest to an OMS manifest, without the layers' contents: the
//! mapping rh-model-signing 1.0.5 and sigstore/model-transparency PR #623 use, so that a
//! signature made by either verifies with the other.
//!
//! - **ModelCar images** (any layer annotated `olot.layer.content.type`): only those layers
//!   count (the others are the base image). A `file` layer is the file at
//!   `olot.layer.content.inlayerpath`, less its `/models/` prefix, with the digest in
//!   `olot.layer.content.digest`: the file's own digest, not the layer tarball's. The config
//!   blob is not listed. A `directory` layer is a tarball of files below `/models/`: each
//!   regular file in it is listed with its own SHA-256 ([`crate::oci::layer`]), which
//!   needs the layer's bytes; these are the only layers ever read.
//! - **Every other artifact** (ORAS pushes, CNCF ModelPack, KitOps ModelKits): the config
//!   blob is the resource `config.json` (unless a layer is titled so), and each layer is the
//!   resource named by its `org.opencontainers.image.title` annotation, else
//!   `layer_NNN.tar.gz` by its position (from 000), with the layer's digest.
//!
//! The manifest is a `files` manifest: SHA-256, symbolic links not allowed, nothing
//! ignored. Where a layer is the file itself (a title-annotated raw layer, a ModelCar
//! `file` layer), its digest is the file's, so an unpacked copy verifies against the same
//! signature ([`crate::oci::verify_image`] with a local model).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::OciError;
use crate::manifest::{Manifest, ResourceDescriptor};
use crate::oci::layer::{directory_layer_files, LayerSource, NoLayers};
use crate::serialization::{HashAlgorithm, Serialization, SerializationRecord};

/// The annotation naming a layer's file (OCI image spec).
pub const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";
/// ModelCar (OLOT): what a layer holds, `file` or `directory`.
pub const OLOT_CONTENT_TYPE: &str = "olot.layer.content.type";
/// ModelCar (OLOT): the digest of the file a layer holds.
pub const OLOT_CONTENT_DIGEST: &str = "olot.layer.content.digest";
/// ModelCar (OLOT): where in the image the file lies.
pub const OLOT_CONTENT_PATH: &str = "olot.layer.content.inlayerpath";
/// ModelCar images keep the model below this folder.
pub const MODELCAR_MODEL_FOLDER: &str = "/models/";
/// The resource name of the config blob.
pub const CONFIG_RESOURCE: &str = "config.json";

/// An OCI content descriptor, as far as the mapping reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the content.
    #[serde(default)]
    pub media_type: String,
    /// `algorithm:hex`.
    pub digest: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// The artifact type of a manifest an index lists.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The platform of a manifest an index lists.
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// The platform of an index entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Platform {
    /// e.g. `amd64`.
    #[serde(default)]
    pub architecture: String,
    /// e.g. `linux`.
    #[serde(default)]
    pub os: String,
}

/// An OCI image manifest (or a Docker v2 schema 2 manifest, which has the same shape).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// The manifest's media type, when it states one.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The artifact type (OCI 1.1 artifacts).
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    pub layers: Vec<Descriptor>,
    /// The manifest this one is about (a referrer).
    #[serde(default)]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image index (or Docker manifest list).
#[derive(Debug, Clone, Deserialize)]
pub struct ImageIndex {
    /// The manifests it lists.
    pub manifests: Vec<Descriptor>,
}

impl ImageManifest {
    /// Reads a manifest from its JSON bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, OciError> {
        serde_json::from_slice(bytes).map_err(|e| OciError::BadManifest {
            reason: e.to_string(),
        })
    }
}

/// The OMS manifest of an image manifest, named `model_name`, from the manifest alone:
/// a ModelCar `directory` layer is refused ([`oms_manifest_with`] reads it).
pub fn oms_manifest(image: &ImageManifest, model_name: &str) -> Result<Manifest, OciError> {
    oms_manifest_with(image, model_name, &NoLayers)
}

/// The OMS manifest of an image manifest, named `model_name`, reading the blobs of
/// ModelCar `directory` layers (and only those) from `layers`.
pub fn oms_manifest_with(
    image: &ImageManifest,
    model_name: &str,
    layers: &dyn LayerSource,
) -> Result<Manifest, OciError> {
    let modelcar = image
        .layers
        .iter()
        .any(|l| l.annotations.contains_key(OLOT_CONTENT_TYPE));
    let mut resources = Vec::new();
    if modelcar {
        for layer in &image.layers {
            match layer.annotations.get(OLOT_CONTENT_TYPE).map(String::as_str) {
                Some("file") => {
                    let (Some(digest), Some(path)) = (
                        layer.annotations.get(OLOT_CONTENT_DIGEST),
                        layer.annotations.get(OLOT_CONTENT_PATH),
                    ) else {
                        return Err(OciError::BadManifest {
                            reason: format!(
                                "ModelCar layer {} has no {OLOT_CONTENT_DIGEST} or {OLOT_CONTENT_PATH} annotation",
                                layer.digest
                            ),
                        });
                    };
                    let name = strip_model_folder(path);
                    if name.is_empty() {
                        continue;
                    }
                    resources.push(resource(name, digest)?);
                }
                Some("directory") => {
                    let budget = crate::limits::MAX_RESOURCES.saturating_sub(resources.len());
                    resources.extend(directory_layer_files(layer, layers, budget)?);
                }
                // Base-image layers and content types OLOT may add later carry no model file.
                _ => {}
            }
        }
    } else {
        let titled_config = image.layers.iter().any(|l| {
            l.annotations.get(TITLE_ANNOTATION).map(String::as_str) == Some(CONFIG_RESOURCE)
        });
        if !titled_config {
            resources.push(resource(CONFIG_RESOURCE, &image.config.digest)?);
        }
        for (index, layer) in image.layers.iter().enumerate() {
            let name = match layer.annotations.get(TITLE_ANNOTATION) {
                Some(title) if !title.is_empty() => title.clone(),
                _ => format!("layer_{index:03}.tar.gz"),
            };
            resources.push(resource(&name, &layer.digest)?);
        }
    }
    if resources.is_empty() {
        return Err(OciError::BadManifest {
            reason: "it lists no model file (no layer, no config)".to_owned(),
        });
    }
    let manifest = Manifest::new(
        model_name.to_owned(),
        SerializationRecord {
            serialization: Serialization::Files,
            hash_type: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
        },
        resources,
    );
    if let Some(pair) = manifest
        .resources()
        .windows(2)
        .find(|w| w[0].name == w[1].name)
    {
        return Err(OciError::BadManifest {
            reason: format!("two layers are both named '{}'", pair[0].name),
        });
    }
    Ok(manifest)
}

/// The resource names of `oms` (the image's OMS manifest) that are one file each in an
/// unpacked copy of the image: in a ModelCar image every one (a `file` layer's file, or a
/// file of a `directory` layer's tarball, all below `/models/`), otherwise a titled layer
/// that is not a tarball (by its media type).
pub fn file_names(image: &ImageManifest, oms: &Manifest) -> Vec<String> {
    let modelcar = image
        .layers
        .iter()
        .any(|l| l.annotations.contains_key(OLOT_CONTENT_TYPE));
    if modelcar {
        return oms.resources().iter().map(|r| r.name.clone()).collect();
    }
    image
        .layers
        .iter()
        .filter_map(|layer| {
            if is_tarball(&layer.media_type) {
                None
            } else {
                layer
                    .annotations
                    .get(TITLE_ANNOTATION)
                    .filter(|t| !t.is_empty())
                    .cloned()
            }
        })
        .collect()
}

/// A layer media type of a tar archive: OCI and Docker image layers, ModelPack's `.tar`
/// layers, KitOps' `….tar+gzip`.
pub fn is_tarball(media_type: &str) -> bool {
    media_type.contains(".tar") || media_type.ends_with("tar")
}

/// A ModelCar path relative to the model folder, as rh-model-signing strips it.
pub(crate) fn strip_model_folder(path: &str) -> &str {
    let relative = MODELCAR_MODEL_FOLDER.trim_start_matches('/');
    let rest = path
        .strip_prefix(MODELCAR_MODEL_FOLDER)
        .or_else(|| path.strip_prefix(relative))
        .unwrap_or(path);
    rest.trim_start_matches('/')
}

fn resource(name: &str, digest: &str) -> Result<ResourceDescriptor, OciError> {
    check_name(name)?;
    Ok(ResourceDescriptor {
        name: name.to_owned(),
        digest: sha256_digest(digest)?,
    })
}

/// A layer's name becomes a path under `--local-model`: it must stay inside the model.
pub(crate) fn check_name(name: &str) -> Result<(), OciError> {
    let bad = name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if bad {
        return Err(OciError::BadManifest {
            reason: format!(
                "layer name '{}' is not a relative path inside the model",
                crate::text::printable(name)
            ),
        });
    }
    Ok(())
}

/// The raw bytes of a `sha256:<64 hex>` digest; other algorithms are refused, as the OMS
/// manifest records one algorithm and these signatures use SHA-256.
pub fn sha256_digest(digest: &str) -> Result<Vec<u8>, OciError> {
    let hex_part = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| OciError::BadManifest {
            reason: format!(
                "digest '{}' is not a SHA-256 digest",
                crate::text::printable(digest)
            ),
        })?;
    match base16ct::mixed::decode_vec(hex_part) {
        Ok(bytes) if bytes.len() == 32 && hex_part.bytes().all(|b| !b.is_ascii_uppercase()) => {
            Ok(bytes)
        }
        _ => Err(OciError::BadManifest {
            reason: format!(
                "digest '{}' is not sha256: and 64 lower-case hex digits",
                crate::text::printable(digest)
            ),
        }),
    }
}

#[cfg(test)]
mod tests;
