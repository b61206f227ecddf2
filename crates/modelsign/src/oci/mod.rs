//! Models stored as OCI artifacts (CNCF ModelPack, KitOps ModelKits, ModelCar images, any
//! ORAS push), signed and verified from the image manifest without pulling the layers (but
//! for ModelCar `directory` layers, whose files are listed from the layer's tarball, which
//! is streamed and hashed, never stored), with the signature kept in the registry beside
//! the image.
//!
//! [`reference`] says where the image is; [`resolve`] fetches its manifest (choosing from
//! an index); [`mapping`] turns the manifest into an OMS manifest; [`sign_image`] signs it
//! like any other manifest; [`attach`] stores the bundle as a referrer of the image (or under
//! a tag) and [`find_signatures`] finds it again; [`verify_image`] checks a bundle against
//! the image, and [`verify_local_copy`] an unpacked copy against the same signature.

pub mod attach;
pub mod layer;
pub mod layout;
pub mod mapping;
pub mod reference;
pub mod registry;

use std::path::Path;

use crate::bundle::Bundle;
use crate::error::{OciError, SignError, VerifyError};
use crate::hashing::{HashSettings, Progress};
use crate::manifest::{Manifest, ManifestDiff};
use crate::oci::attach::{AttachMode, Attachment, BUNDLE_MEDIA_TYPE};
use crate::oci::mapping::{Descriptor, ImageIndex, ImageManifest};
use crate::oci::registry::{FetchedManifest, Registry, DOCKER_MANIFEST_LIST, OCI_INDEX};
use crate::signing::Signer;
use crate::statement;
use crate::verifying::{verify_statement_signature, VerificationReport};

pub use reference::{ImageReference, ModelLocation};
pub use registry::{Credentials, RegistryOptions};

/// An image whose manifest has been read.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// Where it was asked for.
    pub location: ModelLocation,
    /// For an image in a registry: the reference pinned to the image manifest's digest.
    pub pinned: Option<ImageReference>,
    /// The image manifest's bytes and digest.
    pub manifest: FetchedManifest,
    /// The image manifest, parsed.
    pub image: ImageManifest,
    /// The index the image was chosen from, when the reference named an index.
    pub index_digest: Option<String>,
}

impl ResolvedImage {
    /// The model name signatures record: the reference as given without `oci://`, as
    /// rh-model-signing names it (informational; verification never compares it).
    pub fn model_name(&self) -> String {
        match &self.location {
            ModelLocation::Registry(reference) => reference.to_string(),
            other => other.to_string(),
        }
    }

    /// The OMS manifest of the image ([`mapping::oms_manifest_with`]), reading ModelCar
    /// `directory` layers from `registry` or the image's layout folder.
    pub fn oms_manifest(&self, registry: &Registry) -> Result<Manifest, OciError> {
        let name = self.model_name();
        match (&self.location, &self.pinned) {
            (ModelLocation::Layout { path, .. }, _) => {
                mapping::oms_manifest_with(&self.image, &name, &layout::LayoutLayers { path })
            }
            (_, Some(pinned)) => {
                mapping::oms_manifest_with(&self.image, &name, &registry.layers(pinned))
            }
            (_, None) => mapping::oms_manifest(&self.image, &name),
        }
    }
}

/// Reads the image manifest `location` names, from `registry` or an image layout. An index
/// is resolved to the one image it lists (attestation manifests aside); an index of several
/// images must be narrowed by digest.
pub fn resolve(location: &ModelLocation, registry: &Registry) -> Result<ResolvedImage, OciError> {
    match location {
        ModelLocation::Local(path) => Err(OciError::BadReference {
            reference: path.display().to_string(),
            reason: "a local path, not an image".to_owned(),
        }),
        ModelLocation::Registry(reference) => {
            let first = registry.fetch_manifest(reference)?;
            let (manifest, index_digest) = if is_index(&first) {
                let chosen = choose(&first, &reference.to_string())?;
                let image = registry.fetch_manifest(&reference.with_digest(&chosen.digest))?;
                (image, Some(first.digest))
            } else {
                (first, None)
            };
            let image = ImageManifest::parse(&manifest.bytes)?;
            Ok(ResolvedImage {
                location: location.clone(),
                pinned: Some(ImageReference {
                    tag: None,
                    ..reference.with_digest(&manifest.digest)
                }),
                manifest,
                image,
                index_digest,
            })
        }
        ModelLocation::Layout { path, tag } => {
            let entry = layout::entry(path, tag.as_deref())?;
            let first = layout::manifest(path, &entry.digest, &entry.media_type)?;
            let (manifest, index_digest) = if is_index(&first) {
                let chosen = choose(&first, &location.to_string())?;
                (
                    layout::manifest(path, &chosen.digest, &chosen.media_type)?,
                    Some(first.digest),
                )
            } else {
                (first, None)
            };
            let image = ImageManifest::parse(&manifest.bytes)?;
            Ok(ResolvedImage {
                location: location.clone(),
                pinned: None,
                manifest,
                image,
                index_digest,
            })
        }
    }
}

fn is_index(manifest: &FetchedManifest) -> bool {
    manifest.media_type == OCI_INDEX
        || manifest.media_type == DOCKER_MANIFEST_LIST
        || (serde_json::from_slice::<serde_json::Value>(&manifest.bytes)
            .ok()
            .is_some_and(|v| v.get("manifests").is_some() && v.get("layers").is_none()))
}

/// The one image of an index, leaving out build attestations (`unknown/unknown`).
fn choose(index: &FetchedManifest, reference: &str) -> Result<Descriptor, OciError> {
    let index: ImageIndex =
        serde_json::from_slice(&index.bytes).map_err(|e| OciError::BadManifest {
            reason: format!("the index of {reference}: {e}"),
        })?;
    let images: Vec<Descriptor> = index
        .manifests
        .into_iter()
        .filter(|d| {
            let attestation = d
                .annotations
                .get("vnd.docker.reference.type")
                .map(String::as_str)
                == Some("attestation-manifest")
                || d.platform.as_ref().is_some_and(|p| p.os == "unknown");
            !attestation
        })
        .collect();
    match images.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(OciError::BadManifest {
            reason: format!("the index {reference} lists no image"),
        }),
        many => Err(OciError::AmbiguousIndex {
            reference: reference.to_owned(),
            count: many.len(),
            choices: many
                .iter()
                .map(|d| match &d.platform {
                    Some(p) => format!("{} for {}/{}", d.digest, p.os, p.architecture),
                    None => d.digest.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Signs the image: its OMS manifest, as [`crate::sign_manifest`] signs any manifest
/// (reading ModelCar `directory` layers from `registry` or the layout folder).
pub fn sign_image(
    image: &ResolvedImage,
    registry: &Registry,
    signer: &dyn Signer,
) -> Result<(Manifest, Bundle), SignError> {
    let manifest = image.oms_manifest(registry)?;
    let bundle = crate::signing::sign_manifest(&manifest, signer)?;
    Ok((manifest, bundle))
}

/// Where a signature went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// As a referrer or under a tag.
    pub mode: AttachMode,
    /// The signature manifest's reference: `REGISTRY/REPO@sha256:…` or `REGISTRY/REPO:TAG`.
    pub reference: String,
    /// The signature manifest's digest.
    pub digest: String,
}

/// Stores `bundle_json` beside the image in its registry, of `artifact_type`: as a
/// referrer (`AttachMode::Referrers`, falling back to the tag when the registry refuses a
/// manifest with a subject) or under the tag [`Attachment::tag`].
pub fn attach(
    registry: &Registry,
    image: &ResolvedImage,
    bundle_json: &[u8],
    kind: Attachment,
    mode: AttachMode,
) -> Result<Attached, OciError> {
    let artifact_type = kind.artifact_type();
    let pinned = image.pinned.as_ref().ok_or_else(|| OciError::Unsupported {
        what: "attaching a signature to an image in a layout folder (write it with --signature)"
            .to_owned(),
    })?;
    registry.push_blob(pinned, bundle_json)?;
    if mode == AttachMode::Referrers {
        registry.push_blob(pinned, attach::EMPTY_CONFIG)?;
        let (bytes, digest) = attach::referrer_manifest(
            artifact_type,
            kind.config_media_type(),
            bundle_json,
            &image.manifest.digest,
            image.manifest.bytes.len() as u64,
            &image.manifest.media_type,
        );
        let target = pinned.with_digest(&digest);
        match registry.push_manifest(&target, &bytes, registry::OCI_MANIFEST) {
            Ok(()) => {
                // A registry without the referrers API stores the manifest but lists it
                // nowhere; then the signature also goes under the tag, where it is found.
                let listed = registry
                    .referrers(pinned, artifact_type)?
                    .iter()
                    .any(|r| r.digest == digest);
                if listed {
                    return Ok(Attached {
                        mode,
                        reference: target.to_string(),
                        digest,
                    });
                }
            }
            // A registry without OCI 1.1 manifests: keep the signature under the tag.
            Err(OciError::Rejected { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    registry.push_blob(pinned, attach::EMPTY_CONFIG)?;
    let (bytes, digest) = attach::tagged_manifest(artifact_type, bundle_json);
    let target = pinned.with_tag(&kind.tag(&image.manifest.digest));
    registry.push_manifest(&target, &bytes, registry::OCI_MANIFEST)?;
    Ok(Attached {
        mode: AttachMode::Tag,
        reference: target.to_string(),
        digest,
    })
}

/// A signature found beside an image.
#[derive(Debug, Clone)]
pub struct FoundSignature {
    /// The bundle's bytes.
    pub bundle_json: Vec<u8>,
    /// Found as a referrer or under the tag.
    pub mode: AttachMode,
    /// The signature manifest's digest.
    pub manifest_digest: String,
}

/// The attachments of `kind` stored beside the image: its referrers (through the referrers
/// API, or the referrers tag schema where the registry has no API), then the tag
/// [`Attachment::tag`]. Newest referrer first where the registry says which is newer
/// (`org.opencontainers.image.created`), else in the registry's order reversed.
pub fn find_signatures(
    registry: &Registry,
    image: &ResolvedImage,
    kind: Attachment,
) -> Result<Vec<FoundSignature>, OciError> {
    let pinned = pinned_for_lookup(image)?;
    let mut found = Vec::new();
    for referrer in sorted_referrers(registry, pinned, kind)? {
        found.extend(fetch_referrer(registry, pinned, image, &referrer)?);
    }
    if let Some(tagged) = fetch_tagged(registry, pinned, image, kind)? {
        if !found
            .iter()
            .any(|f| f.manifest_digest == tagged.manifest_digest)
        {
            found.push(tagged);
        }
    }
    Ok(found)
}

/// The first attachment of `kind` beside the image that `verify` accepts, fetched one at a
/// time in [`find_signatures`]' order and no further than needed: the tag is looked at
/// only when no referrer verifies. When none does, the first one's failure; when there
/// are none, [`OciError::NoSignature`].
pub fn verify_beside<T, E: From<VerifyError>>(
    registry: &Registry,
    image: &ResolvedImage,
    kind: Attachment,
    mut verify: impl FnMut(&Bundle) -> Result<T, E>,
) -> Result<(T, FoundSignature), E> {
    let lookup = |e: OciError| E::from(VerifyError::from(e));
    let pinned = pinned_for_lookup(image).map_err(lookup)?;
    let mut first_error = None;
    let referrers = sorted_referrers(registry, pinned, kind).map_err(lookup)?;
    for referrer in referrers {
        if let Some(found) = fetch_referrer(registry, pinned, image, &referrer).map_err(lookup)? {
            match first_verified(image, std::slice::from_ref(&found), kind, &mut verify) {
                Ok(accepted) => return Ok(accepted),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
    }
    if let Some(found) = fetch_tagged(registry, pinned, image, kind).map_err(lookup)? {
        match first_verified(image, std::slice::from_ref(&found), kind, &mut verify) {
            Ok(accepted) => return Ok(accepted),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => first_verified(image, &[], kind, verify),
    }
}

fn pinned_for_lookup(image: &ResolvedImage) -> Result<&ImageReference, OciError> {
    image.pinned.as_ref().ok_or_else(|| OciError::Unsupported {
        what: "finding signatures in a layout folder (give the signature file)".to_owned(),
    })
}

/// The referrers of `kind`, newest first.
fn sorted_referrers(
    registry: &Registry,
    pinned: &ImageReference,
    kind: Attachment,
) -> Result<Vec<Descriptor>, OciError> {
    let mut referrers = match registry.referrers(pinned, kind.artifact_type()) {
        Ok(found) => found,
        Err(OciError::NotFound { .. }) => Vec::new(),
        Err(other) => return Err(other),
    };
    referrers.reverse();
    referrers.sort_by(|a, b| {
        let created = |d: &Descriptor| {
            d.annotations
                .get("org.opencontainers.image.created")
                .cloned()
        };
        created(b).cmp(&created(a))
    });
    Ok(referrers)
}

/// The bundle a referrer holds, when it is about this image and holds one.
fn fetch_referrer(
    registry: &Registry,
    pinned: &ImageReference,
    image: &ResolvedImage,
    referrer: &Descriptor,
) -> Result<Option<FoundSignature>, OciError> {
    let manifest = registry.fetch_manifest(&pinned.with_digest(&referrer.digest))?;
    let parsed = ImageManifest::parse(&manifest.bytes)?;
    // A registry lists what claims this subject; check the claim.
    if parsed.subject.as_ref().map(|s| s.digest.as_str()) != Some(image.manifest.digest.as_str()) {
        return Ok(None);
    }
    bundle_of(
        registry,
        pinned,
        &parsed,
        manifest.digest,
        AttachMode::Referrers,
    )
}

/// The bundle kept under the fallback tag of `kind`, when there is one.
fn fetch_tagged(
    registry: &Registry,
    pinned: &ImageReference,
    image: &ResolvedImage,
    kind: Attachment,
) -> Result<Option<FoundSignature>, OciError> {
    let tagged = pinned.with_tag(&kind.tag(&image.manifest.digest));
    match registry.fetch_manifest(&tagged) {
        Ok(manifest) => {
            let parsed = ImageManifest::parse(&manifest.bytes)?;
            bundle_of(registry, pinned, &parsed, manifest.digest, AttachMode::Tag)
        }
        Err(OciError::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

fn bundle_of(
    registry: &Registry,
    pinned: &ImageReference,
    manifest: &ImageManifest,
    manifest_digest: String,
    mode: AttachMode,
) -> Result<Option<FoundSignature>, OciError> {
    let Some(layer) = manifest
        .layers
        .iter()
        .find(|l| l.media_type == BUNDLE_MEDIA_TYPE)
    else {
        return Ok(None);
    };
    Ok(Some(FoundSignature {
        bundle_json: registry.fetch_blob(
            pinned,
            &layer.digest,
            crate::limits::MAX_SIGNATURE_FILE,
        )?,
        mode,
        manifest_digest,
    }))
}

/// Verifies `bundle` against the image: the signature (by `verifier`), then the statement,
/// then that the signed manifest lists exactly the image's config and layers with their
/// digests. ModelCar `directory` layers are read from `registry` or the layout folder, and
/// only once the signature has verified.
pub fn verify_image(
    image: &ResolvedImage,
    registry: &Registry,
    bundle: &Bundle,
    verifier: &dyn crate::verifying::Verifier,
) -> Result<VerificationReport, VerifyError> {
    verify_against(
        &mut ImageManifestOnce::new(image, registry),
        bundle,
        verifier,
    )
}

/// The image's OMS manifest, made when first needed and then kept: it may read layers.
struct ImageManifestOnce<'a> {
    image: &'a ResolvedImage,
    registry: &'a Registry,
    made: Option<Manifest>,
}

impl<'a> ImageManifestOnce<'a> {
    fn new(image: &'a ResolvedImage, registry: &'a Registry) -> Self {
        ImageManifestOnce {
            image,
            registry,
            made: None,
        }
    }

    fn get(&mut self) -> Result<&Manifest, OciError> {
        if self.made.is_none() {
            self.made = Some(self.image.oms_manifest(self.registry)?);
        }
        self.made.as_ref().ok_or_else(|| OciError::BadManifest {
            reason: "the image's manifest could not be mapped".to_owned(),
        })
    }
}

fn verify_against(
    actual: &mut ImageManifestOnce<'_>,
    bundle: &Bundle,
    verifier: &dyn crate::verifying::Verifier,
) -> Result<VerificationReport, VerifyError> {
    let verified = verify_statement_signature(bundle, verifier)?;
    let signed = statement::decode(&bundle.envelope.payload)?;
    let actual = actual.get()?;
    let diff = ManifestDiff::between(&signed.manifest, actual, false);
    if !diff.is_empty() {
        return Err(VerifyError::Mismatch(Box::new(diff)));
    }
    Ok(VerificationReport::of(&signed, verified))
}

/// Verifies the first of `signatures` that verifies against the image, returning its
/// report and which it was; when none does, the first one's failure (the newest). The
/// image's OMS manifest is made once, for the first signature that verifies.
pub fn verify_found(
    image: &ResolvedImage,
    registry: &Registry,
    signatures: &[FoundSignature],
    verifier: &dyn crate::verifying::Verifier,
) -> Result<(VerificationReport, FoundSignature), VerifyError> {
    let mut actual = ImageManifestOnce::new(image, registry);
    first_verified(image, signatures, Attachment::Signature, |bundle| {
        verify_against(&mut actual, bundle, verifier)
    })
}

/// The first of `found` (attachments of `kind` beside `image`, newest first) that `verify`
/// accepts, with which it was; when none does, the first one's failure; when there are
/// none, [`OciError::NoSignature`].
pub fn first_verified<T, E: From<VerifyError>>(
    image: &ResolvedImage,
    found: &[FoundSignature],
    kind: Attachment,
    mut verify: impl FnMut(&Bundle) -> Result<T, E>,
) -> Result<(T, FoundSignature), E> {
    let mut first_error = None;
    for candidate in found {
        let outcome = match Bundle::from_json(&candidate.bundle_json) {
            Ok(bundle) => verify(&bundle),
            Err(error) => Err(E::from(VerifyError::from(error))),
        };
        match outcome {
            Ok(value) => return Ok((value, candidate.clone())),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| E::from(VerifyError::from(no_signature(image, kind)))))
}

/// The failure of finding no attachment of `kind` beside the image.
pub fn no_signature(image: &ResolvedImage, kind: Attachment) -> OciError {
    OciError::NoSignature {
        reference: image
            .pinned
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_else(|| image.location.to_string()),
        what: kind.describe().to_owned(),
        artifact_type: kind.artifact_type().to_owned(),
        tag: kind.tag(&image.manifest.digest),
    }
}

/// The subject an attestation about the image names: its OMS manifest's root digest.
pub fn subject(
    image: &ResolvedImage,
    registry: &Registry,
) -> Result<crate::attestation::ModelSubject, OciError> {
    Ok(crate::attestation::ModelSubject::of_manifest(
        &image.oms_manifest(registry)?,
    ))
}

/// The resources of `signed` (a manifest [`verify_image`] found to be the image's) that are
/// files of an unpacked copy: a layer that is one file (named by its title, not a tarball)
/// or a ModelCar file (of a `file` layer or a `directory` layer). The config blob and
/// tarball or unnamed layers are checked against the registry only.
pub fn file_resources(image: &ResolvedImage, signed: &Manifest) -> Manifest {
    let files = mapping::file_names(&image.image, signed);
    let resources = signed
        .resources()
        .iter()
        .filter(|r| files.contains(&r.name))
        .cloned()
        .collect();
    Manifest::new(
        signed.model_name().to_owned(),
        signed.serialization().clone(),
        resources,
    )
}

/// Verifies an unpacked copy of the image at `local` against the manifest the signature
/// signed (after [`verify_image`] accepted it): every file resource ([`file_resources`])
/// with its digest, the config blob as `config.json` where the copy has one, and no other
/// file (Git metadata aside).
pub fn verify_local_copy(
    image: &ResolvedImage,
    bundle: &Bundle,
    local: &Path,
    progress: &Progress,
) -> Result<usize, VerifyError> {
    let signed = statement::decode(&bundle.envelope.payload)?;
    let mut expected = file_resources(image, &signed.manifest);
    // rh-model-signing wants the config blob beside the files as `config.json` (oras
    // pull leaves it out): a copy with it is checked against the signed config, one
    // without is not refused.
    if local.join(mapping::CONFIG_RESOURCE).is_file() {
        if let Some(config) = signed
            .manifest
            .resources()
            .iter()
            .find(|r| r.name == mapping::CONFIG_RESOURCE)
        {
            let mut resources = expected.resources().to_vec();
            if !resources.iter().any(|r| r.name == config.name) {
                resources.push(config.clone());
            }
            expected = Manifest::new(
                expected.model_name().to_owned(),
                expected.serialization().clone(),
                resources,
            );
        }
    }
    if expected.resources().is_empty() {
        return Err(VerifyError::from(OciError::Unsupported {
            what: "verifying a local copy of an image whose layers are tarballs or unnamed: the signature records no file of the unpacked model".to_owned(),
        }));
    }
    let settings = HashSettings::default();
    let local_manifest = settings.hash_model_with_progress(local, progress)?;
    let diff = ManifestDiff::between(&expected, &local_manifest, false);
    if !diff.is_empty() {
        return Err(VerifyError::Mismatch(Box::new(diff)));
    }
    Ok(expected.resources().len())
}
