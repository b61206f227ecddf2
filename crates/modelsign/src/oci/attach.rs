//! Signatures stored in the registry beside the image they sign, as rh-model-signing
//! stores them, so that each finds the other's:
//!
//! - **As a referrer** (OCI 1.1): an image manifest with `artifactType`
//!   `application/vnd.model-signing.signature.v0.1`, the config blob `{}` of media type
//!   `application/vnd.model-signing.signature.v0.1.config+json`, one layer (the bundle, media
//!   type `application/vnd.dev.sigstore.bundle.v0.3+json`) and the signed image manifest as
//!   its `subject`. It is pushed by its digest; the registry lists it among the image's
//!   referrers.
//! - **By tag** (registries without the referrers API): the same layer under the tag
//!   `sha256-<hex of the image manifest digest>.sig`, the config `{}` of media type
//!   `application/vnd.oci.image.config.v1+json`, annotated
//!   `dev.sigstore.model-signing.artifact-type`.
//!
//! Other attestations (a model card, provenance) attach the same way under their own
//! artifact type.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::manifest::sha256_string;
use crate::oci::registry::OCI_MANIFEST;

/// The artifact type of a model signature.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.model-signing.signature.v0.1";
/// The config media type of a signature referrer.
pub const SIGNATURE_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.model-signing.signature.v0.1.config+json";
/// The media type of the bundle layer.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The config media type of a tag-attached signature.
pub const TAG_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// The annotation marking a tag-attached signature.
pub const TAG_ARTIFACT_TYPE_ANNOTATION: &str = "dev.sigstore.model-signing.artifact-type";
/// The empty JSON object both configs are.
pub const EMPTY_CONFIG: &[u8] = b"{}";

/// How a signature is stored beside its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachMode {
    /// As a referrer of the image manifest (OCI 1.1).
    Referrers,
    /// Under the tag `sha256-<hex>.sig`.
    Tag,
}

impl AttachMode {
    /// `referrers` or `tag`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachMode::Referrers => "referrers",
            AttachMode::Tag => "tag",
        }
    }
}

/// The artifact type of a signed model card (a modelsign attestation).
pub const CARD_ARTIFACT_TYPE: &str = "application/vnd.modelsign.model-card.v1";
/// The artifact type of signed provenance (a modelsign attestation).
pub const PROVENANCE_ARTIFACT_TYPE: &str = "application/vnd.modelsign.provenance.v1";
/// The config media type of an artifact without a config (OCI image spec 1.1).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// What is stored beside an image: each kind has its artifact type and fallback tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// The OMS signature of the model, stored as rh-model-signing stores it.
    Signature,
    /// A signed model card.
    ModelCard,
    /// Signed provenance.
    Provenance,
}

impl Attachment {
    /// The referrer's `artifactType`.
    pub fn artifact_type(self) -> &'static str {
        match self {
            Attachment::Signature => SIGNATURE_ARTIFACT_TYPE,
            Attachment::ModelCard => CARD_ARTIFACT_TYPE,
            Attachment::Provenance => PROVENANCE_ARTIFACT_TYPE,
        }
    }

    /// The referrer's config media type: rh-model-signing's for a signature, the OCI empty
    /// descriptor's for the others.
    pub fn config_media_type(self) -> &'static str {
        match self {
            Attachment::Signature => SIGNATURE_CONFIG_MEDIA_TYPE,
            Attachment::ModelCard | Attachment::Provenance => EMPTY_MEDIA_TYPE,
        }
    }

    /// The tag it is kept under, for the image manifest `digest`, where the registry has no
    /// referrers API: `sha256-<hex>.sig` (as rh-model-signing names it), `.card`,
    /// `.provenance`.
    pub fn tag(self, digest: &str) -> String {
        let suffix = match self {
            Attachment::Signature => "sig",
            Attachment::ModelCard => "card",
            Attachment::Provenance => "provenance",
        };
        format!("{}.{suffix}", digest.replacen(':', "-", 1))
    }

    /// What it is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Attachment::Signature => "model signature",
            Attachment::ModelCard => "model card signature",
            Attachment::Provenance => "provenance",
        }
    }
}

/// The tag a signature of the manifest `digest` is kept under without the referrers API.
pub fn signature_tag(digest: &str) -> String {
    Attachment::Signature.tag(digest)
}

/// The referrer manifest for a bundle: its bytes and their digest.
pub fn referrer_manifest(
    artifact_type: &str,
    config_media_type: &str,
    bundle: &[u8],
    subject_digest: &str,
    subject_size: u64,
    subject_media_type: &str,
) -> (Vec<u8>, String) {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(config_media_type, EMPTY_CONFIG),
        "layers": [descriptor(BUNDLE_MEDIA_TYPE, bundle)],
        "artifactType": artifact_type,
        "subject": {
            "mediaType": subject_media_type,
            "digest": subject_digest,
            "size": subject_size,
        },
    });
    finish(manifest)
}

/// The tag-attached manifest for a bundle, and its digest.
pub fn tagged_manifest(artifact_type: &str, bundle: &[u8]) -> (Vec<u8>, String) {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(TAG_CONFIG_MEDIA_TYPE, EMPTY_CONFIG),
        "layers": [descriptor(BUNDLE_MEDIA_TYPE, bundle)],
        "annotations": { TAG_ARTIFACT_TYPE_ANNOTATION: artifact_type },
    });
    finish(manifest)
}

fn descriptor(media_type: &str, content: &[u8]) -> serde_json::Value {
    json!({
        "mediaType": media_type,
        "digest": sha256_string(&Sha256::digest(content)),
        "size": content.len(),
    })
}

fn finish(manifest: serde_json::Value) -> (Vec<u8>, String) {
    // Compact JSON with the keys in sorted order (serde_json's map): a reader that
    // re-serializes what it parsed, as rh-model-signing does to compute a digest, gets
    // these very bytes back. Writing a `Value` cannot fail.
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let digest = sha256_string(&Sha256::digest(&bytes));
    (bytes, digest)
}
