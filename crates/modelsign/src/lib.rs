//! # modelsign
//!
//! Sign and verify machine-learning models in the
//! [OpenSSF Model Signing (OMS) v1.0](https://github.com/ossf/model-signing-spec) format,
//! interoperable with the Python reference `model_signing`, and sign other statements about
//! a model (a model card, provenance) bound to the same OMS root digest.
//!
//! Data flows in one direction, one module per step:
//! model → [`model`] (walk) → [`hashing`] → [`manifest`] → [`statement`] (an [`intoto`]
//! statement) → [`dsse`] → [`bundle`]. Signing schemes are adapters behind [`Signer`] and
//! [`Verifier`], built from plain data by [`spec`]. Every other signed statement about a
//! model is an [`attestation`] with its own predicate, such as the [`card`] and the
//! [`provenance`] of a pipeline stage; the [`lineage`] graph ingests them all under a
//! [`trust`] policy and answers what a compromised artifact affects, and the same policy
//! decides who may have signed a model being loaded ([`trust::PolicyVerifier`]).
//! `docs/architecture.md` in the repository draws the picture and says how to add a scheme
//! or a predicate.
//!
//! Sign a model and verify it (the key method):
//!
//! ```
//! use modelsign::{HashSettings, KeySigner, KeyVerifier, PrivateKey, Progress, VerifyOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A model is a folder of files (or one file).
//! let dir = tempfile::tempdir()?;
//! let model = dir.path().join("my-model");
//! std::fs::create_dir(&model)?;
//! std::fs::write(model.join("weights.bin"), b"weights")?;
//! let key = PrivateKey::generate(modelsign::keys::Curve::P256)?;
//! let public = key.public_key();
//!
//! // Sign: hash the model, build the statement, sign it, write the bundle atomically.
//! let signature = dir.path().join("model.sig");
//! let settings = HashSettings::default();
//! let signer = KeySigner::new(key);
//! modelsign::sign_model(&model, &settings, &signer, &signature, &Progress::none())?;
//!
//! // Verify: check the signature, then re-hash the model and compare.
//! let bundle = modelsign::Bundle::read(&signature)?;
//! let verifier = KeyVerifier::new(public);
//! let report = modelsign::verify_model(
//!     &model,
//!     &bundle,
//!     &verifier,
//!     &VerifyOptions::default(),
//!     &Progress::none(),
//! )?;
//! assert_eq!(report.resources, 1);
//!
//! // Attest: sign a model card about the same model, bound to its root digest.
//! use modelsign::attestation::{self, ModelBinding, ModelSubject};
//! use modelsign::card::ModelCard;
//! let card = ModelCard {
//!     name: "my-model".into(),
//!     license: Some("apache-2.0".into()),
//!     ..ModelCard::default()
//! };
//! let subject = ModelSubject::of_model(&model, &settings, &Progress::none())?;
//! let card_bundle = attestation::sign_attestation(&subject, &card, &signer)?;
//!
//! // Verify the attestation: its signature, then that it is about this model (re-hashed
//! // with the settings the attestation records).
//! let progress = Progress::none();
//! let binding = ModelBinding::Rehash { model_path: &model, max_workers: None, progress: &progress };
//! let verified = attestation::verify_attestation::<ModelCard>(&card_bundle, &verifier, binding)?;
//! assert_eq!(verified.predicate.card.license.as_deref(), Some("apache-2.0"));
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
pub mod known_digests;
pub mod limits;
pub mod lineage;
pub mod manifest;
pub mod model;
pub mod oci;
pub mod provenance;
pub mod reuse;
pub mod serialization;
pub mod signing;
pub mod spec;
pub mod stat_cache;
pub mod statement;
pub mod text;
pub mod trust;
pub mod verifying;
pub mod x509;

pub use bundle::{Bundle, VerificationMaterial};
pub use error::{
    AttestationError, BundleError, CardError, CertError, HashError, KeyError, KnownDigestsError,
    OciError, Pkcs11Error, PolicyError, ReuseError, SignError, StatCacheError, StatementError,
    TrustRootError, VerifyError, WalkError,
};
pub use hashing::{HashAlgorithm, HashSettings, Progress, Serialization, DEFAULT_SHARD_SIZE};
pub use keys::{PrivateKey, PublicKey};
pub use manifest::{Manifest, ManifestDiff};
pub use model::{IgnoreSet, ShardAlgorithmName, SingleFileName, WalkOptions};
pub use signing::{
    sign_manifest, sign_model, sign_model_unwritten, sign_payload, CertificateSigner,
    IdentityTokenSecret, KeySigner, PaeSigner, Pkcs11Key, Pkcs11Signer, Pkcs11Uri, SignWarning,
    SignedModel, Signer, SigstoreServices, SigstoreSigner, UnverifiableCertificate,
};
pub use verifying::{
    verify_model, CertificateVerifier, IdentityPolicy, KeyVerifier, SignerIdentity,
    SigstoreTrustRoot, SigstoreVerifier, VerificationReport, Verifier, VerifyOptions,
};
pub use x509::Certificate;

/// README's library section shows the example this crate's documentation opens with, so
/// that it is compiled and run too.
#[cfg(test)]
mod readme_example {
    /// The example's lines as a reader sees them: without `//! ` and hidden `# ` lines.
    fn shown_lines(block: &str) -> Vec<&str> {
        block
            .lines()
            .map(|line| {
                line.strip_prefix("//! ")
                    .unwrap_or(line.trim_start_matches("//!"))
            })
            .filter(|line| !line.starts_with("# ") && *line != "#")
            .collect()
    }

    fn code_block<'a>(text: &'a str, after: &str) -> &'a str {
        let start = text.find(after).expect("section") + after.len();
        let rest = &text[start..];
        let open = rest.find("```").expect("code block");
        let body = &rest[open..];
        let body = &body[body.find('\n').expect("fence line") + 1..];
        &body[..body.find("```").expect("closing fence")]
    }

    #[test]
    fn readme_shows_the_same_example_as_the_crate_documentation() {
        let readme = include_str!("../../../README.md");
        let lib = include_str!("lib.rs");
        let in_readme: Vec<&str> = code_block(readme, "## The library\n").lines().collect();
        let mut in_lib = shown_lines(code_block(lib, "//! Sign a model and verify it"));
        // The closing fence's own `//! ` prefix.
        if in_lib.last() == Some(&"") {
            in_lib.pop();
        }
        assert_eq!(in_readme, in_lib);
    }
}
