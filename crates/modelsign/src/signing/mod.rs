//! Signing: the [`Signer`] trait every scheme implements, and the flow
//! manifest → statement → DSSE envelope → bundle.

mod certificate;
mod key;
pub mod pkcs11;
mod sigstore;

pub use self::sigstore::{IdentityTokenSecret, SigstoreServices, SigstoreSigner};
pub use certificate::{CertificateSigner, UnverifiableCertificate};
pub use key::KeySigner;
pub use pkcs11::{Pkcs11Key, Pkcs11Signer, Pkcs11Uri};

use std::path::Path;

use crate::bundle::{self, Bundle, VerificationMaterial};
use crate::dsse::{self, Envelope, Signature};
use crate::error::{BundleError, SignError};
use crate::hashing::{DigestSources, HashSettings, KnownDigests, Progress};
use crate::manifest::{Manifest, ResourceDescriptor};
use crate::model::{relative_to_model, IgnoreSet, Model, ModelFile, SingleFileName};
use crate::statement;

/// A signing scheme: turns a statement payload into a signed bundle. Nothing else in the
/// flow depends on the scheme. `Send + Sync`, so that a signer can be shared by threads and
/// used by a binding that releases its interpreter's lock while signing.
pub trait Signer: Send + Sync {
    /// Signs an in-toto statement payload into a bundle (DSSE envelope + verification
    /// material).
    fn sign_payload(&self, payload: Vec<u8>) -> Result<Bundle, SignError>;
}

/// A scheme that holds its signing key: it signs the DSSE pre-authentication encoding
/// itself and knows its verification material (key, certificate, HSM). Every such scheme
/// is a [`Signer`].
pub trait PaeSigner: Send + Sync {
    /// Signs the pre-authentication encoding of the envelope.
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, SignError>;
    /// The verification material for a signed envelope.
    fn verification_material(&self, envelope: &Envelope)
        -> Result<VerificationMaterial, SignError>;
}

impl<T: PaeSigner> Signer for T {
    fn sign_payload(&self, payload: Vec<u8>) -> Result<Bundle, SignError> {
        sign_with_key(payload, self)
    }
}

/// Signs an in-toto statement payload into a bundle.
pub fn sign_payload(payload: Vec<u8>, signer: &dyn Signer) -> Result<Bundle, SignError> {
    signer.sign_payload(payload)
}

fn sign_with_key(payload: Vec<u8>, signer: &impl PaeSigner) -> Result<Bundle, SignError> {
    let sig = signer.sign_pae(&dsse::pae(dsse::PAYLOAD_TYPE, &payload))?;
    let envelope = Envelope {
        payload,
        payload_type: dsse::PAYLOAD_TYPE.to_owned(),
        signatures: vec![Signature {
            sig,
            keyid: Some(String::new()),
        }],
    };
    let material = signer.verification_material(&envelope)?;
    Ok(Bundle::new(material, envelope))
}

/// Signs a manifest: its OMS statement, wrapped in a DSSE envelope and a bundle.
pub fn sign_manifest(manifest: &Manifest, signer: &dyn Signer) -> Result<Bundle, SignError> {
    sign_payload(statement::encode(manifest), signer)
}

/// Refuses, before any hashing, a signature path whose write would destroy data: anything
/// [`bundle::check_target`] refuses, the model itself, or an existing file of the model
/// (one `ignore` does not exclude) that is not an earlier signature. Replacing a signature
/// inside the model is allowed: it is how a model is re-signed in place.
pub fn check_signature_path(
    model_path: &Path,
    signature_path: &Path,
    ignore: &IgnoreSet,
) -> Result<(), SignError> {
    bundle::check_target(signature_path)?;
    let refuse = |reason: &str| {
        SignError::Bundle(BundleError::Target {
            path: signature_path.to_path_buf(),
            reason: reason.to_owned(),
        })
    };
    let Some(relative) = relative_to_model(model_path, signature_path) else {
        return Ok(());
    };
    if std::fs::metadata(model_path).is_ok_and(|m| m.is_file()) {
        return Err(refuse("it is the model itself"));
    }
    let exists = std::fs::symlink_metadata(signature_path).is_ok();
    if exists && !ignore.is_ignored(&relative) && Bundle::read(signature_path).is_err() {
        return Err(refuse(&format!(
            "it is the model's file '{relative}', not a signature; write the signature outside the model or to a new file"
        )));
    }
    Ok(())
}

/// What signing a model produced.
#[derive(Debug, Clone)]
pub struct SignedModel {
    /// The manifest signed.
    pub manifest: Manifest,
    /// The signature (as written, by [`sign_model`]).
    pub bundle: Bundle,
    /// What the signer should know about the signature, which was written all the same
    /// (a form that another implementation cannot verify).
    pub warnings: Vec<SignWarning>,
    /// Which files were hashed and which signed from digests known beforehand.
    pub sources: DigestSources,
}

/// Hashes the model, signs it and writes the signature atomically to `signature_path`.
/// A signature file inside the model is excluded from the manifest (and recorded as
/// excluded). On any error nothing is written.
pub fn sign_model(
    model_path: &Path,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    progress: &Progress,
) -> Result<SignedModel, SignError> {
    let signed = sign_model_unwritten(model_path, settings, signer, signature_path, progress)?;
    signed.bundle.write_atomic(signature_path)?;
    Ok(signed)
}

/// As [`sign_model`], without writing the signature: for a caller that decides only
/// afterwards whether to keep it (one whose progress callback may still fail once the
/// work is done), and then writes `bundle` with [`Bundle::write_atomic`] to the same
/// `signature_path`, which the manifest was made for.
pub fn sign_model_unwritten(
    model_path: &Path,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    progress: &Progress,
) -> Result<SignedModel, SignError> {
    sign_model_known_unwritten(
        model_path,
        settings,
        signer,
        signature_path,
        &HashEveryFile,
        progress,
    )
}

/// As [`sign_model_unwritten`], signing the resources `known` gives for a file instead of
/// hashing it (see [`HashSettings::hash_walked_known`]): for re-signing what changed only,
/// and for digests a pipeline computed already. The signature is the one a full re-sign
/// makes when the known digests are right; when they are not, it is made all the same and
/// fails verification, which always hashes.
pub fn sign_model_known_unwritten(
    model_path: &Path,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    known: &dyn KnownDigests,
    progress: &Progress,
) -> Result<SignedModel, SignError> {
    check_signature_path(model_path, signature_path, &settings.walk.ignore)?;
    let settings = excluding_signature(model_path, settings, signature_path)?;
    let model = settings.walk_model(model_path)?;
    let (manifest, sources) = settings.hash_walked_known(&model, known, progress)?;
    let payload = statement::encode_with(&manifest, settings.walk.shard_algorithm_name);
    let bundle = sign_payload(payload, signer)?;
    Ok(SignedModel {
        manifest,
        bundle,
        warnings: single_file_warning(&model, &settings).into_iter().collect(),
        sources,
    })
}

/// `settings`, with a signature path inside the model excluded from it.
pub fn excluding_signature(
    model_path: &Path,
    settings: &HashSettings,
    signature_path: &Path,
) -> Result<HashSettings, SignError> {
    let mut settings = settings.clone();
    if let Some(relative) = relative_to_model(model_path, signature_path) {
        settings
            .walk
            .ignore
            .add(&relative)
            .map_err(crate::error::HashError::from)?;
    }
    Ok(settings)
}

/// Knows no digest: every file is hashed.
struct HashEveryFile;

impl KnownDigests for HashEveryFile {
    fn resources_of(&self, _: &ModelFile) -> Option<Vec<ResourceDescriptor>> {
        None
    }
}

/// model_signing 1.1.1 names the one resource of a single-file model `.` and rejects any
/// other name, without saying why: a signer who kept the OMS name should know.
fn single_file_warning(model: &Model, settings: &HashSettings) -> Option<SignWarning> {
    if !model.single_file || settings.walk.single_file_name != SingleFileName::FileName {
        return None;
    }
    Some(SignWarning::ModelSigningCannotVerifySingleFile {
        name: model.name.clone(),
    })
}

/// What the signer should know about a signature that was written all the same.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignWarning {
    /// A single-file model signed with the OMS resource name (the file's name), which
    /// model_signing 1.1.1 cannot verify: it expects `.` ([`SingleFileName::Dot`]).
    ModelSigningCannotVerifySingleFile {
        /// The model file's name.
        name: String,
    },
}

impl std::fmt::Display for SignWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignWarning::ModelSigningCannotVerifySingleFile { name } => {
                let name = crate::text::printable(name);
                write!(
                    f,
                    "'{name}' is a single-file model: the signature names its file '{name}', as OMS \
                     v1.0 specifies, but model_signing 1.1.1 expects '.' and will fail to verify it \
                     (modelsign verifies either form); sign with model_signing's single-file name \
                     '.' for a signature that model_signing can verify"
                )
            }
        }
    }
}
