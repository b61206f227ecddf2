//! An OCI image layout folder (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as
//! `oras copy --to-oci-layout`, `skopeo copy … oci:DIR` and `crane pull --format oci`
//! write it: the same manifests a registry serves, read from disk.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::OciError;
use crate::manifest::sha256_string;
use crate::oci::layer::LayerSource;
use crate::oci::mapping::{sha256_digest, Descriptor, ImageIndex};
use crate::oci::registry::{FetchedManifest, MAX_MANIFEST, OCI_MANIFEST};

/// The annotation an index entry's tag is kept in.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

fn layout_error(path: &Path, reason: impl Into<String>) -> OciError {
    OciError::Layout {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// The top-level index entry of the layout at `path` that `tag` names (or its only entry).
pub fn entry(path: &Path, tag: Option<&str>) -> Result<Descriptor, OciError> {
    let marker = path.join("oci-layout");
    if !marker.is_file() {
        return Err(layout_error(
            path,
            "it has no `oci-layout` file, so it is not an OCI image layout",
        ));
    }
    let index_bytes = read_limited(path, &path.join("index.json"))?;
    let index: ImageIndex = serde_json::from_slice(&index_bytes)
        .map_err(|e| layout_error(path, format!("index.json: {e}")))?;
    let tagged = |d: &&Descriptor| match tag {
        Some(tag) => d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) == Some(tag),
        None => true,
    };
    let matching: Vec<&Descriptor> = index.manifests.iter().filter(tagged).collect();
    match (matching.as_slice(), tag) {
        ([one], _) => Ok((*one).clone()),
        ([], Some(tag)) => Err(layout_error(
            path,
            format!(
                "no image is tagged '{}' (tags: {})",
                crate::text::printable(tag),
                tags(&index)
            ),
        )),
        ([], None) => Err(layout_error(path, "index.json lists no image")),
        (_, _) => Err(layout_error(
            path,
            format!(
                "index.json lists {} images; choose one: oci-layout:PATH:TAG (tags: {})",
                matching.len(),
                tags(&index)
            ),
        )),
    }
}

fn tags(index: &ImageIndex) -> String {
    let names: Vec<&str> = index
        .manifests
        .iter()
        .filter_map(|d| d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// The manifest blob `digest` of the layout, checked against its digest.
pub fn manifest(path: &Path, digest: &str, media_type: &str) -> Result<FetchedManifest, OciError> {
    let hex = base16ct::lower::encode_string(&sha256_digest(digest)?);
    let bytes = read_limited(path, &path.join("blobs").join("sha256").join(&hex))?;
    let actual = sha256_string(&Sha256::digest(&bytes));
    if actual != digest {
        return Err(OciError::DigestMismatch {
            what: format!("blob {digest} of the layout '{}'", path.display()),
            expected: digest.to_owned(),
            actual,
        });
    }
    let media_type = if media_type.is_empty() {
        OCI_MANIFEST.to_owned()
    } else {
        media_type.to_owned()
    };
    Ok(FetchedManifest {
        bytes,
        digest: actual,
        media_type,
    })
}

/// The layer blobs of the layout at `path` (`blobs/sha256/<hex>`), read from disk.
#[derive(Debug, Clone, Copy)]
pub struct LayoutLayers<'a> {
    /// The layout folder.
    pub path: &'a Path,
}

impl LayerSource for LayoutLayers<'_> {
    fn open_layer(&self, layer: &Descriptor) -> Result<Box<dyn Read + '_>, OciError> {
        let hex = base16ct::lower::encode_string(&sha256_digest(&layer.digest)?);
        let file = self.path.join("blobs").join("sha256").join(hex);
        let opened = std::fs::File::open(&file).map_err(|e| {
            layout_error(
                self.path,
                format!(
                    "cannot read layer blob '{}': {e} (a ModelCar directory layer's files are read from its blob: copy the image with all its layers)",
                    file.display()
                ),
            )
        })?;
        Ok(Box::new(LayoutBlob {
            file: opened,
            layout: self.path,
            blob: file,
        }))
    }
}

struct LayoutBlob<'a> {
    file: std::fs::File,
    layout: &'a Path,
    blob: std::path::PathBuf,
}

impl Read for LayoutBlob<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::Interrupted {
                return e;
            }
            std::io::Error::other(layout_error(
                self.layout,
                format!("cannot read layer blob '{}': {e}", self.blob.display()),
            ))
        })
    }
}

fn read_limited(layout: &Path, file: &Path) -> Result<Vec<u8>, OciError> {
    let opened = std::fs::File::open(file)
        .map_err(|e| layout_error(layout, format!("cannot read '{}': {e}", file.display())))?;
    let mut bytes = Vec::new();
    opened
        .take(MAX_MANIFEST as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| layout_error(layout, format!("cannot read '{}': {e}", file.display())))?;
    if bytes.len() > MAX_MANIFEST {
        return Err(layout_error(
            layout,
            format!(
                "'{}' is over the {MAX_MANIFEST}-byte manifest limit",
                file.display()
            ),
        ));
    }
    Ok(bytes)
}
