//! # modelsign
//!
//! Sign and verify machine-learning models in the
//! [OpenSSF Model Signing (OMS) v1.0](https://github.com/ossf/model-signing-spec) format,
//! interoperable with the Python reference `model_signing`.
//!
//! Data flows in one direction, one module per step:
//! model → [`model`] (walk) → [`hashing`] → [`manifest`] → [`statement`] → [`dsse`] →
//! [`bundle`]. Signing schemes are adapters behind [`Signer`] and [`Verifier`].
//!
//! ```
//! use modelsign::{HashSettings, KeySigner, KeyVerifier, PrivateKey, VerifyOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let model = dir.path().join("my-model");
//! # std::fs::create_dir(&model)?;
//! # std::fs::write(model.join("weights.bin"), b"weights")?;
//! let key = PrivateKey::generate(modelsign::keys::Curve::P256)?;
//! let public = key.public_key();
//!
//! // Sign: hash the model, build the statement, sign it, wrap it in a bundle.
//! let manifest = HashSettings::default().hash_model(&model)?;
//! let bundle = modelsign::sign_manifest(&manifest, &KeySigner::new(key))?;
//!
//! // Verify: check the signature, then re-hash the model and compare.
//! let report = modelsign::verify_model(
//!     &model,
//!     &bundle,
//!     &KeyVerifier::new(public),
//!     &VerifyOptions::default(),
//!     &modelsign::Progress::none(),
//! )?;
//! assert_eq!(report.resources, 1);
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod atomic_file;
pub mod attestation;
pub mod bundle;
pub mod card;
pub mod dsse;
pub mod error;
pub mod hashing;
pub mod interrupt;
pub mod intoto;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod model;
pub mod serialization;
pub mod signing;
pub mod spec;
pub mod statement;
pub mod text;
pub mod verifying;
pub mod x509;

pub use bundle::{Bundle, VerificationMaterial};
pub use error::{
    AttestationError, BundleError, CardError, CertError, HashError, KeyError, Pkcs11Error,
    SignError, StatementError, TrustRootError, VerifyError, WalkError,
};
pub use hashing::{HashAlgorithm, HashSettings, Progress, Serialization, DEFAULT_SHARD_SIZE};
pub use keys::{PrivateKey, PublicKey};
pub use manifest::{Manifest, ManifestDiff};
pub use model::{IgnoreSet, SingleFileName, WalkOptions};
pub use signing::{
    sign_manifest, sign_model, sign_payload, CertificateSigner, IdentityTokenSecret, KeySigner,
    PaeSigner, Pkcs11Key, Pkcs11Signer, Pkcs11Uri, SignedModel, Signer, SigstoreServices,
    SigstoreSigner, UnverifiableCertificate,
};
pub use verifying::{
    verify_model, CertificateVerifier, IdentityPolicy, KeyVerifier, SignerIdentity,
    SigstoreTrustRoot, SigstoreVerifier, VerificationReport, Verifier, VerifyOptions,
};
pub use x509::Certificate;
