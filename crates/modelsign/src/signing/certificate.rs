//! The `certificate` method: an EC private key with its X.509 certificate and chain.

use std::time::SystemTime;

use super::PaeSigner;
use crate::bundle::VerificationMaterial;
use crate::dsse::Envelope;
use crate::error::{CertError, KeyError, SignError};
use crate::keys::{PrivateKey, PublicKey};
use crate::x509::{self, Certificate};

/// What a certificate signer does with a signing certificate that verification is bound to
/// refuse (expired, not yet valid, not allowed to sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnverifiableCertificate {
    /// Refuse to sign, with the error verification would report.
    #[default]
    Refuse,
    /// Sign anyway, and keep the error for the caller to warn with
    /// ([`CertificateSigner::unverifiable`]): for a verifier with other rules, or a
    /// signature meant to be refused.
    SignAnyway,
}

/// The certificates a certificate-method signer writes into its bundles, checked against
/// what verification requires of them.
#[derive(Debug)]
pub(crate) struct SigningChain {
    /// The signing certificate, then the chain in the order given.
    pub(crate) certificates: Vec<Certificate>,
    /// Why verification will refuse the signing certificate, when signing went ahead
    /// regardless.
    pub(crate) unverifiable: Option<CertError>,
}

impl SigningChain {
    /// Refuses a signing certificate that does not certify `key` and a chain longer than
    /// verification reads (whatever `policy` says: neither can ever verify); then applies
    /// `policy` to the checks verification makes of the signing certificate at `at`
    /// ([`x509::check_signing_certificate`], the very function verification calls).
    pub(crate) fn new(
        key: &PublicKey,
        signing_certificate: Certificate,
        chain: Vec<Certificate>,
        policy: UnverifiableCertificate,
        at: SystemTime,
    ) -> Result<Self, SignError> {
        if signing_certificate.public_key()? != *key {
            return Err(KeyError::CertificateMismatch.into());
        }
        x509::check_counts(chain.len() + 1, 0)?;
        let unverifiable = match x509::check_signing_certificate(&signing_certificate, at) {
            Ok(()) => None,
            Err(e) if policy == UnverifiableCertificate::SignAnyway => Some(e),
            Err(e) => return Err(SignError::UnverifiableCertificate(e)),
        };
        let mut certificates = Vec::with_capacity(chain.len() + 1);
        certificates.push(signing_certificate);
        certificates.extend(chain);
        Ok(SigningChain {
            certificates,
            unverifiable,
        })
    }

    pub(crate) fn material(&self) -> VerificationMaterial {
        VerificationMaterial::CertificateChain(
            self.certificates.iter().map(|c| c.der().to_vec()).collect(),
        )
    }
}

/// Signs with a private key whose certificate (and intermediates) go into the bundle.
#[derive(Debug)]
pub struct CertificateSigner {
    key: PrivateKey,
    chain: SigningChain,
}

impl CertificateSigner {
    /// `signing_certificate` must certify `key` and be one verification accepts now;
    /// `chain` (intermediates, possibly the root) follows it in the bundle in the order
    /// given.
    pub fn new(
        key: PrivateKey,
        signing_certificate: Certificate,
        chain: Vec<Certificate>,
    ) -> Result<Self, SignError> {
        Self::with_policy(
            key,
            signing_certificate,
            chain,
            UnverifiableCertificate::Refuse,
        )
    }

    /// As [`CertificateSigner::new`], with `policy` deciding about a signing certificate
    /// verification will refuse.
    pub fn with_policy(
        key: PrivateKey,
        signing_certificate: Certificate,
        chain: Vec<Certificate>,
        policy: UnverifiableCertificate,
    ) -> Result<Self, SignError> {
        let chain = SigningChain::new(
            &key.public_key(),
            signing_certificate,
            chain,
            policy,
            SystemTime::now(),
        )?;
        Ok(CertificateSigner { key, chain })
    }

    /// The signing key's public half.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// Why verification will refuse this signer's signatures, when it was made with
    /// [`UnverifiableCertificate::SignAnyway`] despite that.
    pub fn unverifiable(&self) -> Option<&CertError> {
        self.chain.unverifiable.as_ref()
    }
}

impl PaeSigner for CertificateSigner {
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, SignError> {
        self.key.sign(pae)
    }

    fn verification_material(&self, _: &Envelope) -> Result<VerificationMaterial, SignError> {
        Ok(self.chain.material())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conformance suite's expired signer (valid 2020-01-01 to 2020-01-02), its key
    /// and its certificate.
    fn expired_signer() -> (PrivateKey, Certificate) {
        let dir = test_support::vector("oms-conformance/assets/keys/expired");
        let key = PrivateKey::read_pem_file(&dir.join("signing-key.pem"), None).expect("key");
        let certificate = Certificate::read_pem_file(&dir.join("signing-key-cert.pem"))
            .expect("certificate")
            .remove(0);
        (key, certificate)
    }

    #[test]
    fn an_expired_signing_certificate_is_refused_unless_signing_anyway() {
        let (key, certificate) = expired_signer();
        let refused =
            CertificateSigner::new(key, certificate.clone(), Vec::new()).expect_err("expired");
        assert!(
            matches!(
                refused,
                SignError::UnverifiableCertificate(CertError::Validity { .. })
            ),
            "{refused}"
        );

        let (key, _) = expired_signer();
        let signer = CertificateSigner::with_policy(
            key,
            certificate,
            Vec::new(),
            UnverifiableCertificate::SignAnyway,
        )
        .expect("signs anyway");
        let reason = signer.unverifiable().expect("the reason is kept");
        assert!(
            reason.to_string().contains("expired on 2020-01-02"),
            "{reason}"
        );
    }
}
