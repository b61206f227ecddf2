//! Verifying `certificate`-method signatures against trusted root certificates.

use std::time::SystemTime;

use super::{verify_envelope, VerifiedSignature, Verifier};
use crate::bundle::{Bundle, VerificationMaterial};
use crate::error::{CertError, VerifyError};
use crate::keys::SignatureHash;
use crate::x509::{self, Certificate};

/// Verifies signatures whose certificate chains to one of the trust anchors.
#[derive(Debug, Clone)]
pub struct CertificateVerifier {
    anchors: Vec<Certificate>,
    time: Option<SystemTime>,
}

impl CertificateVerifier {
    /// Trusts `anchors` (root certificates, at most [`x509::MAX_TRUST_ANCHORS`]);
    /// certificates are checked at the current time.
    pub fn new(anchors: Vec<Certificate>) -> Result<Self, CertError> {
        if anchors.is_empty() {
            return Err(CertError::NoAnchors);
        }
        x509::check_counts(0, anchors.len())?;
        Ok(CertificateVerifier {
            anchors,
            time: None,
        })
    }

    /// The SHA-256 fingerprints (see [`x509::sha256_fingerprint`]) of the trust anchors, in
    /// the order given: what model_signing's `--log_fingerprints` logs as it loads them.
    pub fn anchor_fingerprints(&self) -> Vec<String> {
        self.anchors
            .iter()
            .map(Certificate::sha256_fingerprint)
            .collect()
    }

    /// The SHA-256 fingerprints of a bundle's certificates in the order model_signing's
    /// `--log_fingerprints` logs them: intermediates as listed, then the signing
    /// certificate; none for a bundle of another method. Read from the unverified bundle:
    /// they name what is about to be checked and vouch for nothing.
    pub fn bundle_fingerprints(bundle: &Bundle) -> Vec<String> {
        let VerificationMaterial::CertificateChain(ders) = &bundle.material else {
            return Vec::new();
        };
        let Some((leaf, intermediates)) = ders.split_first() else {
            return Vec::new();
        };
        intermediates
            .iter()
            .chain(std::iter::once(leaf))
            .map(|der| x509::sha256_fingerprint(der))
            .collect()
    }

    /// Checks certificate validity at `time` instead of now.
    pub fn at_time(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }
}

impl Verifier for CertificateVerifier {
    fn verify_signature(&self, bundle: &Bundle) -> Result<VerifiedSignature, VerifyError> {
        let VerificationMaterial::CertificateChain(ders) = &bundle.material else {
            return Err(VerifyError::WrongMethod {
                expected: "certificate",
                found: bundle.material.method(),
            });
        };
        x509::check_counts(ders.len(), self.anchors.len())?;
        let certs = ders
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()?;
        let (leaf, intermediates) = certs.split_first().ok_or_else(|| CertError::Malformed {
            context: " in the bundle".into(),
            reason: "no certificate".into(),
        })?;
        // The envelope's signature is checked with the leaf's key before the path search:
        // one cheap check turns away a forged bundle before it can make the verifier search
        // the certificates it brought. Both must pass, so the order decides only which
        // error a bundle failing both reports.
        let key = leaf.public_key()?;
        // model_signing 0.2 hashed with SHA-256 whatever the certificate's curve.
        let verified = verify_envelope(&bundle.envelope, &key, SignatureHash::Sha256)?;
        x509::validate_chain(
            leaf,
            intermediates,
            &self.anchors,
            self.time.unwrap_or_else(SystemTime::now),
        )?;
        Ok(verified)
    }

    fn material_names_signer(&self, bundle: &Bundle) -> bool {
        let VerificationMaterial::CertificateChain(ders) = &bundle.material else {
            return false;
        };
        if x509::check_counts(ders.len(), self.anchors.len()).is_err() {
            return false;
        }
        let Ok(certs) = ders
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
        else {
            return false;
        };
        let Some((leaf, intermediates)) = certs.split_first() else {
            return false;
        };
        x509::validate_chain(
            leaf,
            intermediates,
            &self.anchors,
            self.time.unwrap_or_else(SystemTime::now),
        )
        .is_ok()
    }
}
