//! Verifying Sigstore keyless signatures: a short-lived Fulcio certificate bound to an OIDC
//! identity, a transparency-log entry and optionally RFC 3161 timestamps.
//!
//! The Sigstore part (certificate chain at the verified signing time, SCTs, Rekor v1 and v2
//! entries with their proofs, checkpoints and promises, timestamps, identity and issuer, the
//! DSSE signature) is sigstore-rust's `sigstore-verify`, the Sigstore project's own Rust
//! verifier. What it leaves to us: choosing the trust root, matching an identity by regular
//! expression, refusing bundles of the other OMS methods with a useful message, and
//! everything about the model (done by [`super::verify_model`] as for every method).

use std::fmt;
use std::path::Path;

use sigstore_verify::trust_root::{
    TrustedRoot, SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT,
};
use sigstore_verify::types::{Bundle as SigstoreBundle, Sha256Hash};
use sigstore_verify::{CertificateError, Error as SigstoreError, VerificationPolicy};

use super::{SignerIdentity, VerifiedSignature, Verifier};
use crate::bundle::{Bundle, VerificationMaterial};
use crate::error::{TrustRootError, VerifyError};
use crate::intoto;
use crate::limits;

/// The media type of Sigstore trusted roots, before its version suffix.
const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot";

/// The roots of trust of a Sigstore instance: Fulcio CAs, Rekor and CT log keys, TSAs.
#[derive(Clone)]
pub struct SigstoreTrustRoot {
    root: TrustedRoot,
    /// Where it came from, for messages.
    origin: String,
}

impl fmt::Debug for SigstoreTrustRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigstoreTrustRoot")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// `mediaType` of a ClientTrustConfig (trusted root + signing config in one file).
const CLIENT_TRUST_CONFIG: &str = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

impl SigstoreTrustRoot {
    /// The trust root to verify with, by model_signing's precedence for verification: a
    /// given file (trusted root or trust config) wins over `--use-staging`, which wins
    /// over production.
    pub fn choose(use_staging: bool, file: Option<&Path>) -> Result<Self, TrustRootError> {
        match (file, use_staging) {
            (Some(path), _) => Self::read(path),
            (None, true) => Self::staging(),
            (None, false) => Self::production(),
        }
    }

    /// Sigstore public-good production, as embedded in this binary (no network needed).
    pub fn production() -> Result<Self, TrustRootError> {
        Self::parse(
            SIGSTORE_PRODUCTION_TRUSTED_ROOT,
            "the embedded production trust root",
        )
    }

    /// Sigstore public-good staging, as embedded in this binary.
    pub fn staging() -> Result<Self, TrustRootError> {
        Self::parse(
            SIGSTORE_STAGING_TRUSTED_ROOT,
            "the embedded staging trust root",
        )
    }

    /// Reads a `trusted_root.json`, or a ClientTrustConfig (as model_signing's
    /// `--trust_config` takes) whose `trustedRoot` is used.
    pub fn read(path: &Path) -> Result<Self, TrustRootError> {
        let text =
            limits::read_input_text(path, limits::MAX_TRUST_ROOT_FILE).map_err(|source| {
                TrustRootError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        Self::from_json(&text, &format!("'{}'", path.display()))
    }

    /// Parses a trusted root or a ClientTrustConfig; `origin` names it in messages.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, TrustRootError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| TrustRootError::Invalid {
                origin: origin.to_owned(),
                reason: e.to_string(),
            })?;
        let is_config = value
            .get("mediaType")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|m| m == CLIENT_TRUST_CONFIG)
            || value.get("trustedRoot").is_some();
        if !is_config {
            return Self::parse(text, origin);
        }
        let root = value
            .get("trustedRoot")
            .ok_or_else(|| TrustRootError::Invalid {
                origin: origin.to_owned(),
                reason: "the trust config has no 'trustedRoot'".into(),
            })?;
        Self::parse(&root.to_string(), origin)
    }

    /// Parses a trusted root that can verify a keyless signature: one that names no
    /// certificate authority, or neither a transparency log nor a timestamp authority to
    /// establish the signing time, is refused here rather than failing every verification
    /// later with a puzzling message.
    fn parse(text: &str, origin: &str) -> Result<Self, TrustRootError> {
        let invalid = |reason: String| TrustRootError::Invalid {
            origin: origin.to_owned(),
            reason,
        };
        let root = TrustedRoot::from_json(text).map_err(|e| invalid(e.to_string()))?;
        if !root.media_type.starts_with(TRUSTED_ROOT_MEDIA_TYPE) {
            return Err(invalid(format!(
                "its mediaType is '{}', expected {TRUSTED_ROOT_MEDIA_TYPE}…",
                root.media_type
            )));
        }
        if root.certificate_authorities.is_empty() {
            return Err(invalid(
                "it names no certificate authority (certificateAuthorities is empty)".into(),
            ));
        }
        if root.tlogs.is_empty() && root.timestamp_authorities.is_empty() {
            return Err(invalid(
                "it names neither a transparency log nor a timestamp authority (tlogs and timestampAuthorities are empty)".into(),
            ));
        }
        Ok(SigstoreTrustRoot {
            root,
            origin: origin.to_owned(),
        })
    }

    /// Where this trust root came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The sigstore-rust form, for callers that use `sigstore-verify` directly.
    pub fn trusted_root(&self) -> &TrustedRoot {
        &self.root
    }
}

/// Which signer identities are accepted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum IdentityPolicy {
    /// The certificate's identity (an email address or URI SAN) must equal this exactly.
    Exact(String),
    /// The certificate's identity must match this regular expression. Anchor it (`^…$`)
    /// unless a partial match is meant.
    Regex(regex::Regex),
}

impl IdentityPolicy {
    /// A regular-expression policy; the error says what is wrong with `pattern`.
    pub fn regex(pattern: &str) -> Result<Self, String> {
        regex::Regex::new(pattern)
            .map(IdentityPolicy::Regex)
            .map_err(|e| e.to_string())
    }
}

impl fmt::Display for IdentityPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityPolicy::Exact(identity) => write!(f, "'{identity}'"),
            IdentityPolicy::Regex(regex) => write!(f, "an identity matching /{regex}/"),
        }
    }
}

/// Verifies Sigstore keyless signatures made by an expected identity, as vouched for by an
/// expected OIDC identity provider.
pub struct SigstoreVerifier {
    verifier: sigstore_verify::Verifier,
    origin: String,
    identity: IdentityPolicy,
    issuer: String,
}

impl fmt::Debug for SigstoreVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigstoreVerifier")
            .field("trust_root", &self.origin)
            .field("identity", &self.identity)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl SigstoreVerifier {
    /// A verifier trusting `trust_root`, accepting signatures by `identity` whose
    /// certificate names `issuer` as the OIDC identity provider.
    pub fn new(
        trust_root: &SigstoreTrustRoot,
        identity: IdentityPolicy,
        issuer: impl Into<String>,
    ) -> Result<Self, TrustRootError> {
        let verifier = sigstore_verify::Verifier::new(&trust_root.root).map_err(|e| {
            TrustRootError::Invalid {
                origin: trust_root.origin.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(SigstoreVerifier {
            verifier,
            origin: trust_root.origin.clone(),
            identity,
            issuer: issuer.into(),
        })
    }
}

impl Verifier for SigstoreVerifier {
    fn verify_signature(&self, bundle: &Bundle) -> Result<VerifiedSignature, VerifyError> {
        // The other OMS methods write no transparency-log entry and no timestamp; say
        // which method it was rather than "no verified timestamp".
        let keyless = matches!(
            bundle.material,
            VerificationMaterial::Certificate(_) | VerificationMaterial::CertificateChain(_)
        ) && (!bundle.tlog_entries.is_empty() || has_timestamps(bundle));
        if !keyless {
            return Err(VerifyError::WrongMethod {
                expected: "sigstore",
                found: bundle.material.method(),
            });
        }
        let json = match bundle.source_json() {
            Some(source) => String::from_utf8_lossy(source).into_owned(),
            None => String::from_utf8_lossy(&bundle.to_json()).into_owned(),
        };
        let sigstore_bundle = SigstoreBundle::from_json(&json)
            .map_err(|e| sigstore_failure("the bundle", e.to_string()))?;
        // sigstore-verify binds a DSSE bundle to an artifact through the statement's
        // subject; the OMS subject is the model's root digest, which verify_model then
        // recomputes from the files themselves.
        let subject = subject_digest(&bundle.envelope.payload)?;
        let policy = match &self.identity {
            IdentityPolicy::Exact(identity) => {
                VerificationPolicy::new(identity.as_str(), self.issuer.as_str())
            }
            IdentityPolicy::Regex(_) => {
                VerificationPolicy::any_identity().require_issuer(self.issuer.as_str())
            }
        };
        let result = self
            .verifier
            .verify(subject, &sigstore_bundle, &policy)
            .map_err(|e| self.explain(e))?;
        let identity = result.identity().map(|san| san.as_str().to_owned());
        if let IdentityPolicy::Regex(regex) = &self.identity {
            if !identity
                .as_deref()
                .is_some_and(|found| regex.is_match(found))
            {
                return Err(VerifyError::IdentityMismatch {
                    expected: self.identity.to_string(),
                    found: identity.unwrap_or_else(|| "(none)".into()),
                });
            }
        }
        let signed_at = result
            .integrated_time()
            .or_else(|| result.verified_timestamps().iter().min().copied())
            .map(|time| time.to_string());
        Ok(VerifiedSignature {
            notes: Vec::new(),
            public_key_hint: None,
            signer: Some(SignerIdentity {
                identity: identity.unwrap_or_default(),
                issuer: result.issuer().unwrap_or(&self.issuer).to_owned(),
                signed_at,
            }),
        })
    }
}

impl SigstoreVerifier {
    /// Turns a sigstore-verify error into a message that says what failed.
    fn explain(&self, error: SigstoreError) -> VerifyError {
        match error {
            SigstoreError::IdentityMismatch { actual, .. } => VerifyError::IdentityMismatch {
                expected: self.identity.to_string(),
                found: actual.map_or_else(|| "(none)".into(), |san| san.as_str().to_owned()),
            },
            SigstoreError::IssuerMismatch { expected, actual } => VerifyError::IssuerMismatch {
                expected,
                found: actual.unwrap_or_else(|| "(none)".into()),
            },
            SigstoreError::SignatureInvalid(detail) => {
                sigstore_failure("the DSSE signature", detail)
            }
            SigstoreError::Certificate(CertificateError::NoValidAuthority { time }) => {
                VerifyError::NoValidCertificateAuthority {
                    origin: self.origin.to_string(),
                    time: time.to_string(),
                }
            }
            SigstoreError::Certificate(e) => {
                sigstore_failure("the signing certificate", e.to_string())
            }
            SigstoreError::TransparencyLog(e) => {
                sigstore_failure("the transparency log entry", e.to_string())
            }
            SigstoreError::Timestamp(e) => sigstore_failure("the signing time", e.to_string()),
            SigstoreError::ArtifactMismatch(detail) => {
                sigstore_failure("the signed statement", detail)
            }
            other => sigstore_failure("the bundle", other.to_string()),
        }
    }
}

fn sigstore_failure(what: &'static str, detail: String) -> VerifyError {
    VerifyError::Sigstore { what, detail }
}

fn has_timestamps(bundle: &Bundle) -> bool {
    bundle
        .timestamp_verification_data
        .as_ref()
        .and_then(|data| data.get("rfc3161Timestamps"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|timestamps| !timestamps.is_empty())
}

/// The SHA-256 digest of the statement's (first) subject. Only the subjects are read into
/// memory: the predicate (the whole manifest, megabytes for a large model) is skipped, since
/// `verify_model` decodes it once the signature holds.
fn subject_digest(payload: &[u8]) -> Result<Sha256Hash, VerifyError> {
    let subjects = intoto::read_subjects(payload)
        .map_err(|e| sigstore_failure("the signed statement", e.to_string()))?;
    let digest = subjects
        .first()
        .and_then(|subject| subject.digest.get("sha256"))
        .ok_or_else(|| {
            sigstore_failure(
                "the signed statement",
                "its subject has no sha256 digest".into(),
            )
        })?;
    Sha256Hash::from_hex(digest)
        .map_err(|e| sigstore_failure("the signed statement", e.to_string()))
}
