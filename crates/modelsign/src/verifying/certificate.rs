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
    /// Trusts `anchors` (root certificates); certificates are checked at the current time.
    pub fn new(anchors: Vec<Certificate>) -> Result<Self, CertError> {
        if anchors.is_empty() {
            return Err(CertError::NoAnchors);
        }
        Ok(CertificateVerifier {
            anchors,
            time: None,
        })
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
        let certs = ders
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()?;
        let (leaf, intermediates) = certs.split_first().ok_or_else(|| CertError::Malformed {
            context: " in the bundle".into(),
            reason: "no certificate".into(),
        })?;
        x509::validate_chain(
            leaf,
            intermediates,
            &self.anchors,
            self.time.unwrap_or_else(SystemTime::now),
        )?;
        let key = leaf.public_key()?;
        // model_signing 0.2 hashed with SHA-256 whatever the certificate's curve.
        verify_envelope(&bundle.envelope, &key, SignatureHash::Sha256)
    }
}
