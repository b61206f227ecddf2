//! Where a model is: a local path, an image in a registry (`oci://REGISTRY/REPO:TAG` or
//! `oci://REGISTRY/REPO@sha256:…`), or an image in an OCI image layout folder
//! (`oci-layout:PATH[:TAG]`).

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::OciError;
use crate::text::printable;

/// The scheme of a model in a registry.
pub const REGISTRY_SCHEME: &str = "oci://";
/// The scheme of a model in an OCI image layout folder.
pub const LAYOUT_SCHEME: &str = "oci-layout:";

/// Where a model is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelLocation {
    /// A file or folder on this machine.
    Local(PathBuf),
    /// An image in a registry.
    Registry(ImageReference),
    /// An image in an OCI image layout folder.
    Layout {
        /// The layout folder (holding `oci-layout`, `index.json` and `blobs/`).
        path: PathBuf,
        /// The `org.opencontainers.image.ref.name` to choose; none when the index lists one
        /// manifest.
        tag: Option<String>,
    },
}

impl ModelLocation {
    /// Reads a model argument: `oci://…` and `oci-layout:…` name images, anything else is
    /// a local path (a local file named `oci:…` is reached as `./oci:…`).
    pub fn parse(argument: &OsStr) -> Result<Self, OciError> {
        let Some(text) = argument.to_str() else {
            return Ok(ModelLocation::Local(PathBuf::from(argument)));
        };
        if let Some(rest) = text.strip_prefix(REGISTRY_SCHEME) {
            return ImageReference::parse(rest).map(ModelLocation::Registry);
        }
        if let Some(rest) = text.strip_prefix(LAYOUT_SCHEME) {
            if rest.is_empty() {
                return Err(OciError::BadReference {
                    reference: text.to_owned(),
                    reason: "give the layout folder: oci-layout:PATH[:TAG]".to_owned(),
                });
            }
            // PATH:TAG, where PATH itself may hold a ':' only if the whole is a folder.
            if Path::new(rest).is_dir() {
                return Ok(ModelLocation::Layout {
                    path: PathBuf::from(rest),
                    tag: None,
                });
            }
            return Ok(match rest.rsplit_once(':') {
                Some((path, tag)) if !tag.is_empty() && !tag.contains('/') => {
                    ModelLocation::Layout {
                        path: PathBuf::from(path),
                        tag: Some(tag.to_owned()),
                    }
                }
                _ => ModelLocation::Layout {
                    path: PathBuf::from(rest),
                    tag: None,
                },
            });
        }
        Ok(ModelLocation::Local(PathBuf::from(argument)))
    }

    /// True for a model on this machine's file system as plain files.
    pub fn is_local(&self) -> bool {
        matches!(self, ModelLocation::Local(_))
    }
}

impl fmt::Display for ModelLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelLocation::Local(path) => write!(f, "{}", path.display()),
            ModelLocation::Registry(reference) => write!(f, "{REGISTRY_SCHEME}{reference}"),
            ModelLocation::Layout { path, tag: None } => {
                write!(f, "{LAYOUT_SCHEME}{}", path.display())
            }
            ModelLocation::Layout {
                path,
                tag: Some(tag),
            } => write!(f, "{LAYOUT_SCHEME}{}:{tag}", path.display()),
        }
    }
}

/// An image in a registry: `REGISTRY/REPOSITORY` and a tag or a digest (or both, as
/// `REPO:TAG@sha256:…`, when the digest decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// Host, with its port where it has one: `registry.example.com`, `127.0.0.1:5000`.
    pub registry: String,
    /// The repository path: `org/model`.
    pub repository: String,
    /// The tag, when given.
    pub tag: Option<String>,
    /// `sha256:<hex>`, when given.
    pub digest: Option<String>,
}

impl ImageReference {
    /// Parses `REGISTRY/REPO:TAG`, `REGISTRY/REPO@sha256:…` (no `oci://`). The registry
    /// must be named: a bare `org/model` is refused rather than guessed to be Docker Hub.
    pub fn parse(text: &str) -> Result<Self, OciError> {
        let bad = |reason: &str| OciError::BadReference {
            reference: format!("{REGISTRY_SCHEME}{}", printable(text)),
            reason: reason.to_owned(),
        };
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                crate::oci::mapping::sha256_digest(digest)
                    .map_err(|_| bad("the digest must be sha256: and 64 lower-case hex digits"))?;
                (name, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        let (host, path) = name.split_once('/').ok_or_else(|| {
            bad("expected oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:DIGEST")
        })?;
        if host.is_empty() || !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(bad(
                "name the registry host first (e.g. oci://registry.example.com/org/model:v1, oci://127.0.0.1:5000/model:v1)",
            ));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag.to_owned())),
            _ => (path, None),
        };
        if tag.is_none() && digest.is_none() {
            return Err(bad(
                "give a tag (:TAG) or a digest (@sha256:…): the image to sign must not be guessed",
            ));
        }
        let repository_ok = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        if !repository_ok {
            return Err(bad(
                "the repository is lower-case letters, digits and . _ - separated by /",
            ));
        }
        if let Some(tag) = &tag {
            let tag_ok = tag.len() <= 128
                && tag
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !tag_ok {
                return Err(bad(
                    "a tag is up to 128 letters, digits, . _ - (not starting with . or -)",
                ));
            }
        }
        Ok(ImageReference {
            registry: host.to_owned(),
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }

    /// The same image pinned to `digest`.
    pub fn with_digest(&self, digest: &str) -> Self {
        ImageReference {
            digest: Some(digest.to_owned()),
            ..self.clone()
        }
    }

    /// Another tag in the same repository (no digest).
    pub fn with_tag(&self, tag: &str) -> Self {
        ImageReference {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
