//! What a stage's inputs and outputs are, as a user names them (`ROLE=REF`,
//! `PATH[=URI]`), and how each becomes a digest.
//!
//! REF is one of:
//! - a local file or folder (a model or a dataset): its OMS root digest, computed with the
//!   same walking rules as a model's signature;
//! - a purl or URL with `#sha256=HEX` (an OMS root digest computed elsewhere) or
//!   `#path=LOCAL` (digest the local copy, record the purl): `pkg:huggingface/ORG/NAME@REV`,
//!   `pkg:pypi/torch@2.5.1`;
//! - a purl whose version is a digest: `pkg:oci/NAME@sha256:HEX` (`sha256`), or a Hugging
//!   Face revision `pkg:huggingface/ORG/NAME@<40 hex>` (`gitCommit`);
//! - `git+https://…@SHA` (`gitCommit`);
//! - an image, `oci://REGISTRY/REPO:TAG`, `oci://REGISTRY/REPO@sha256:…` or
//!   `oci-layout:PATH[:TAG]`: its OMS root digest (`sha256`), the one a model signature of
//!   the image names, computed from the image manifest without pulling a layer. The URI
//!   recorded is the reference pinned to the image manifest's digest
//!   (`oci://REGISTRY/REPO@sha256:<manifest digest>`, no tag): a tag moves, and the
//!   provenance must say which image the stage read; the root digest stays the `sha256`
//!   digest, so lineage joins the input to the image's own signature and to the stage
//!   that produced it. A layout folder is local, like a model folder, and records no URI.
//!
//! Anything else is undigested: graph tools drop it, so recording it must be asked for.
//!
//! An output is a local file or folder, or an image (`oci://…`, `oci-layout:…`): its
//! subject is the image's OMS root digest, with the pinned reference as its URI unless
//! one is given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::predicate::Input;
use super::stage::Role;
use crate::attestation::ModelSubject;
use crate::error::ProvenanceError;
use crate::hashing::{HashSettings, Progress};
use crate::oci::reference::{LAYOUT_SCHEME, REGISTRY_SCHEME};
use crate::oci::registry::LazyRegistry;
use crate::oci::{ModelLocation, ResolvedImage};

/// One input as named by the user, before anything is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRef {
    /// The part it plays.
    pub role: Role,
    /// What the reference says.
    pub source: InputSource,
    /// Where the input was claimed, when it comes from metadata rather than the user.
    pub claimed_by: Option<String>,
}

/// Where an input's digest comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputSource {
    /// A local file or folder to digest, with the URI to record for it, if any.
    Local {
        /// The file or folder.
        path: PathBuf,
        /// The URI recorded beside the digest.
        uri: Option<String>,
    },
    /// A URI with its digests given.
    Digested {
        /// The URI.
        uri: String,
        /// Digests by algorithm.
        digest: BTreeMap<String, String>,
    },
    /// A URI without a digest.
    Undigested {
        /// The URI.
        uri: String,
    },
    /// An image in a registry or a layout folder, digested from its manifest.
    Image {
        /// Where it is.
        location: ModelLocation,
    },
}

impl InputRef {
    /// Parses `ROLE=REF` (see the module documentation).
    pub fn parse(text: &str) -> Result<InputRef, ProvenanceError> {
        let (role, reference) = split_role(text, "REF", false)?;
        let source = InputSource::parse(reference).map_err(|reason| bad_input(text, reason))?;
        Ok(InputRef {
            role,
            source,
            claimed_by: None,
        })
    }

    /// Whether recording the input needs no hashing and yields no digest.
    pub fn is_undigested(&self) -> bool {
        matches!(self.source, InputSource::Undigested { .. })
    }

    /// The reference as a user would write it after the `ROLE=`.
    pub fn reference(&self) -> String {
        match &self.source {
            InputSource::Local { path, uri: None } => path.display().to_string(),
            InputSource::Local {
                path,
                uri: Some(uri),
            } => format!("{uri}#path={}", path.display()),
            InputSource::Digested { uri, digest } => match digest.get("sha256") {
                Some(hex) if !uri_carries_digest(uri) => format!("{uri}#sha256={hex}"),
                _ => uri.clone(),
            },
            InputSource::Undigested { uri } => uri.clone(),
            InputSource::Image { location } => location.to_string(),
        }
    }

    /// The resolved dependency: local inputs hashed with `settings`, images read with
    /// default registry options ([`InputRef::resolve_with`]).
    pub fn resolve(
        &self,
        settings: &HashSettings,
        progress: &Progress,
    ) -> Result<Input, ProvenanceError> {
        self.resolve_with(settings, &LazyRegistry::default(), progress)
    }

    /// The resolved dependency: local inputs hashed with `settings`, images read from
    /// `registry` (made only when an input is an image in a registry).
    pub fn resolve_with(
        &self,
        settings: &HashSettings,
        registry: &LazyRegistry,
        progress: &Progress,
    ) -> Result<Input, ProvenanceError> {
        let mut input = Input {
            role: self.role,
            name: None,
            uri: None,
            digest: BTreeMap::new(),
            serialization: None,
            claimed_by: self.claimed_by.clone(),
        };
        match &self.source {
            InputSource::Local { path, uri } => {
                let subject = digest_local(path, settings, progress)?;
                input.name = Some(subject.name);
                input.uri.clone_from(uri);
                if let Some(uri) = uri {
                    input.digest = digests_in_uri(uri);
                }
                input.digest.insert(
                    "sha256".into(),
                    base16ct::lower::encode_string(&subject.root_digest),
                );
                input.serialization = Some(subject.serialization);
            }
            InputSource::Digested { uri, digest } => {
                input.uri = Some(uri.clone());
                input.digest = digest.clone();
            }
            InputSource::Undigested { uri } => input.uri = Some(uri.clone()),
            InputSource::Image { location } => {
                let image = resolve_image(location, registry)?;
                let subject = crate::oci::subject(&image, registry.get()?)?;
                input.name = Some(subject.name);
                input.uri = pinned_uri(&image);
                input.digest.insert(
                    "sha256".into(),
                    base16ct::lower::encode_string(&subject.root_digest),
                );
                input.serialization = Some(subject.serialization);
            }
        }
        Ok(input)
    }
}

/// Reads the image `location` names (the client is made here, on the first image).
pub(crate) fn resolve_image(
    location: &ModelLocation,
    registry: &LazyRegistry,
) -> Result<ResolvedImage, ProvenanceError> {
    Ok(crate::oci::resolve(location, registry.get()?)?)
}

/// The URI recorded for an image: `oci://REGISTRY/REPO@sha256:<image manifest digest>`,
/// pinned to the manifest the stage saw; none for a layout folder.
pub(crate) fn pinned_uri(image: &ResolvedImage) -> Option<String> {
    image
        .pinned
        .as_ref()
        .map(|pinned| format!("{REGISTRY_SCHEME}{pinned}"))
}

fn is_image_reference(text: &str) -> bool {
    text.starts_with(REGISTRY_SCHEME) || text.starts_with(LAYOUT_SCHEME)
}

/// The image `text` names when it is `oci://…` or `oci-layout:…`; `Ok(None)` for anything
/// else.
pub(crate) fn image_location(text: &str) -> Result<Option<ModelLocation>, String> {
    if !is_image_reference(text) {
        return Ok(None);
    }
    ModelLocation::parse(text.as_ref())
        .map(Some)
        .map_err(|e| e.to_string())
}

impl InputSource {
    fn parse(reference: &str) -> Result<InputSource, String> {
        if reference.is_empty() {
            return Err("the reference is empty".into());
        }
        if let Some(location) = image_location(reference)? {
            return Ok(InputSource::Image { location });
        }
        if !has_scheme(reference) {
            return Ok(InputSource::Local {
                path: PathBuf::from(reference),
                uri: None,
            });
        }
        let (uri, fragment) = match reference.split_once('#') {
            Some((uri, fragment)) => (uri, Some(fragment)),
            None => (reference, None),
        };
        let mut digest = digests_in_uri(uri);
        if uri.starts_with("git+") && digest.is_empty() {
            return Err(
                "a git reference names its commit: git+https://HOST/REPO@<commit SHA>".into(),
            );
        }
        match fragment.map(|f| f.split_once('=')) {
            None => {}
            Some(Some(("sha256", hex))) => {
                if !is_hex(hex, 64) {
                    return Err(format!(
                        "'#sha256={hex}' is not a SHA-256 digest (64 hex digits)"
                    ));
                }
                digest.insert("sha256".into(), hex.to_ascii_lowercase());
            }
            Some(Some(("path", path))) if !path.is_empty() => {
                return Ok(InputSource::Local {
                    path: PathBuf::from(path),
                    uri: Some(uri.to_owned()),
                })
            }
            Some(_) => {
                return Err(
                    "the part after '#' is '#sha256=HEX' (the OMS root digest) or '#path=LOCAL' (digest a local copy)"
                        .into(),
                )
            }
        }
        Ok(if digest.is_empty() {
            InputSource::Undigested {
                uri: uri.to_owned(),
            }
        } else {
            InputSource::Digested {
                uri: uri.to_owned(),
                digest,
            }
        })
    }
}

fn bad_input(text: &str, reason: String) -> ProvenanceError {
    ProvenanceError::BadInput {
        input: text.to_owned(),
        reason,
    }
}

/// Splits `ROLE=VALUE` (`form` names VALUE in the message: `REF`, `PATH`) into the role and
/// the value, which must not be empty when `value_required`.
pub(crate) fn split_role<'t>(
    text: &'t str,
    form: &str,
    value_required: bool,
) -> Result<(Role, &'t str), ProvenanceError> {
    let (role, value) = text
        .split_once('=')
        .filter(|(_, value)| !value_required || !value.is_empty())
        .ok_or_else(|| bad_input(text, format!("expected ROLE={form}, e.g. dataset=./data")))?;
    let role = Role::parse(role).ok_or_else(|| {
        bad_input(
            text,
            format!("'{role}' is not a role; the roles are {}", Role::names()),
        )
    })?;
    Ok((role, value))
}

/// A stage's output: a local model or dataset, or an image, and the URI recorded for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRef {
    /// The file or folder, or the image as given (`oci://…`, `oci-layout:…`).
    pub path: PathBuf,
    /// Its URI (a purl), when given.
    pub uri: Option<String>,
}

impl OutputRef {
    /// Parses `PATH` or `PATH=URI`.
    pub fn parse(text: &str) -> Result<OutputRef, ProvenanceError> {
        let (path, uri) = match text.split_once('=') {
            Some((path, uri)) => (path, Some(uri)),
            None => (text, None),
        };
        if path.is_empty() || uri.is_some_and(|u| !has_scheme(u)) {
            return Err(ProvenanceError::BadOutput {
                output: text.to_owned(),
                reason: "expected PATH or PATH=URI, e.g. ./model=pkg:huggingface/org/model".into(),
            });
        }
        image_location(path).map_err(|reason| ProvenanceError::BadOutput {
            output: text.to_owned(),
            reason,
        })?;
        Ok(OutputRef {
            path: PathBuf::from(path),
            uri: uri.map(str::to_owned),
        })
    }

    /// Whether the output is an image (`oci://…`, `oci-layout:…`) rather than a file or
    /// folder.
    pub fn is_image(&self) -> bool {
        is_image_reference(&self.path.to_string_lossy())
    }

    /// The image the output is, when it is one (`oci://…`, `oci-layout:…`).
    pub fn image(&self) -> Result<Option<ModelLocation>, ProvenanceError> {
        image_location(&self.path.to_string_lossy()).map_err(|reason| ProvenanceError::BadOutput {
            output: self.path.display().to_string(),
            reason,
        })
    }
}

/// The OMS subject of a local input or output, hashed with `settings`.
pub(crate) fn digest_local(
    path: &Path,
    settings: &HashSettings,
    progress: &Progress,
) -> Result<ModelSubject, ProvenanceError> {
    ModelSubject::of_model(path, settings, progress).map_err(|source| ProvenanceError::Hash {
        path: path.to_path_buf(),
        source,
    })
}

/// Whether `text` starts with a URI scheme (`pkg:`, `https:`, `git+https:`): two or more
/// characters, so that a Windows drive letter stays a path.
pub(crate) fn has_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Digests a URI carries itself: an OCI purl's `@sha256:HEX`, a Hugging Face purl's
/// revision, a git URL's commit.
fn digests_in_uri(uri: &str) -> BTreeMap<String, String> {
    let mut digest = BTreeMap::new();
    // A purl's version follows its last '@', before any qualifiers or subpath.
    let version = uri
        .rsplit_once('@')
        .map(|(_, v)| v.split(['?', '#']).next().unwrap_or(v));
    let Some(version) = version else {
        return digest;
    };
    if uri.starts_with("pkg:oci/") || uri.starts_with("pkg:docker/") {
        if let Some(hex) = version.strip_prefix("sha256:") {
            if is_hex(hex, 64) {
                digest.insert("sha256".into(), hex.to_ascii_lowercase());
            }
        }
    } else if (uri.starts_with("pkg:huggingface/") || uri.starts_with("git+"))
        && (is_hex(version, 40) || is_hex(version, 64))
    {
        digest.insert("gitCommit".into(), version.to_ascii_lowercase());
    }
    digest
}

/// Whether the digest of a URI is in it, rather than in a `#sha256=` fragment.
fn uri_carries_digest(uri: &str) -> bool {
    digests_in_uri(uri).contains_key("sha256")
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(reference: &str) -> InputSource {
        InputRef::parse(&format!("dataset={reference}"))
            .unwrap_or_else(|e| panic!("{reference}: {e}"))
            .source
    }

    fn digests(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, d)| ((*a).to_owned(), (*d).to_owned()))
            .collect()
    }

    #[test]
    fn each_reference_form_yields_its_digest() {
        let sha = "ab".repeat(32);
        let commit = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            source("./data/train"),
            InputSource::Local {
                path: "./data/train".into(),
                uri: None
            }
        );
        assert_eq!(
            source(&format!("pkg:huggingface/org/base@{commit}#sha256={sha}")),
            InputSource::Digested {
                uri: format!("pkg:huggingface/org/base@{commit}"),
                digest: digests(&[("gitCommit", commit), ("sha256", &sha)]),
            }
        );
        assert_eq!(
            source("pkg:pypi/torch@2.5.1#path=./wheels/torch.whl"),
            InputSource::Local {
                path: "./wheels/torch.whl".into(),
                uri: Some("pkg:pypi/torch@2.5.1".into())
            }
        );
        assert_eq!(
            source(&format!(
                "pkg:oci/trainer@sha256:{sha}?repository_url=ghcr.io/org"
            )),
            InputSource::Digested {
                uri: format!("pkg:oci/trainer@sha256:{sha}?repository_url=ghcr.io/org"),
                digest: digests(&[("sha256", &sha)]),
            }
        );
        assert_eq!(
            source(&format!("git+https://github.com/org/train@{commit}")),
            InputSource::Digested {
                uri: format!("git+https://github.com/org/train@{commit}"),
                digest: digests(&[("gitCommit", commit)]),
            }
        );
        assert_eq!(
            source("pkg:huggingface/org/base@main"),
            InputSource::Undigested {
                uri: "pkg:huggingface/org/base@main".into()
            }
        );
        assert_eq!(
            source("C:/data"),
            InputSource::Local {
                path: "C:/data".into(),
                uri: None
            }
        );
    }

    #[test]
    fn malformed_references_are_refused_with_the_reason() {
        let cases = [
            ("dataset", "expected ROLE=REF"),
            (
                "model=./m",
                "'model' is not a role; the roles are base-model, dataset",
            ),
            ("dataset=", "empty"),
            ("dataset=pkg:pypi/x@1#sha256=abc", "64 hex digits"),
            ("dataset=pkg:pypi/x@1#md5=abc", "'#sha256=HEX'"),
            (
                "code=git+https://github.com/org/repo@main",
                "names its commit",
            ),
        ];
        for (text, expected) in cases {
            let error = InputRef::parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn a_reference_prints_back_as_it_parses() {
        let sha = "cd".repeat(32);
        for text in [
            "base-model=./base".to_owned(),
            format!("dataset=pkg:huggingface/datasets/org/d@main#sha256={sha}"),
            "code=pkg:pypi/trainer@1.0#path=./trainer".to_owned(),
            format!("container=pkg:oci/img@sha256:{sha}"),
            "framework=pkg:pypi/torch@2.5.1".to_owned(),
            "base-model=oci://registry.example.com/org/base:v1".to_owned(),
            format!("base-model=oci://registry.example.com/org/base@sha256:{sha}"),
            "base-model=oci-layout:./base:v1".to_owned(),
        ] {
            let parsed = InputRef::parse(&text).unwrap();
            let again = format!("{}={}", parsed.role, parsed.reference());
            assert_eq!(again, text);
            assert_eq!(InputRef::parse(&again).unwrap(), parsed);
        }
    }

    #[test]
    fn outputs_take_an_optional_uri() {
        assert_eq!(
            OutputRef::parse("./m=pkg:huggingface/org/m").unwrap(),
            OutputRef {
                path: "./m".into(),
                uri: Some("pkg:huggingface/org/m".into())
            }
        );
        assert_eq!(OutputRef::parse("./m").unwrap().uri, None);
        assert!(OutputRef::parse("=pkg:x/y").is_err());
        assert!(OutputRef::parse("./m=not a uri").is_err());
    }
}
