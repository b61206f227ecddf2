//! Signing: the [`Signer`] trait every scheme implements, and the flow
//! manifest → statement → DSSE envelope → bundle.

mod certificate;
mod key;
pub mod pkcs11;
mod sigstore;

pub use self::sigstore::{IdentityTokenSecret, SigstoreServices, SigstoreSigner};
pub use certificate::CertificateSigner;
pub use key::KeySigner;
pub use pkcs11::{Pkcs11Key, Pkcs11Signer, Pkcs11Uri};

use std::path::Path;

use crate::bundle::{Bundle, VerificationMaterial};
use crate::dsse::{self, Envelope, Signature};
use crate::error::SignError;
use crate::hashing::{HashSettings, Progress};
use crate::manifest::Manifest;
use crate::model::relative_to_model;
use crate::statement;

/// A signing scheme: turns a statement payload into a signed bundle. Nothing else in the
/// flow depends on the scheme.
pub trait Signer {
    /// Signs an in-toto statement payload into a bundle (DSSE envelope + verification
    /// material).
    fn sign_payload(&self, payload: Vec<u8>) -> Result<Bundle, SignError>;
}

/// A scheme that holds its signing key: it signs the DSSE pre-authentication encoding
/// itself and knows its verification material (key, certificate, HSM). Every such scheme
/// is a [`Signer`].
pub trait PaeSigner {
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

/// Hashes the model, signs it and writes the signature atomically to `signature_path`.
/// A signature file inside the model is excluded from the manifest (and recorded as
/// excluded). On any error nothing is written.
pub fn sign_model(
    model_path: &Path,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    progress: &Progress,
) -> Result<(Manifest, Bundle), SignError> {
    let mut settings = settings.clone();
    if let Some(relative) = relative_to_model(model_path, signature_path) {
        settings
            .walk
            .ignore
            .add(&relative)
            .map_err(crate::error::HashError::from)?;
    }
    let manifest = settings.hash_model_with_progress(model_path, progress)?;
    let bundle = sign_manifest(&manifest, signer)?;
    bundle.write_atomic(signature_path)?;
    Ok((manifest, bundle))
}
