//! The `certificate` method: an EC private key with its X.509 certificate and chain.

use super::PaeSigner;
use crate::bundle::VerificationMaterial;
use crate::dsse::Envelope;
use crate::error::{KeyError, SignError};
use crate::keys::PrivateKey;
use crate::x509::Certificate;

/// Signs with a private key whose certificate (and intermediates) go into the bundle.
#[derive(Debug)]
pub struct CertificateSigner {
    key: PrivateKey,
    chain: Vec<Certificate>,
}

impl CertificateSigner {
    /// `signing_certificate` must certify `key`; `chain` (intermediates, possibly the root)
    /// follows it in the bundle in the order given.
    pub fn new(
        key: PrivateKey,
        signing_certificate: Certificate,
        chain: Vec<Certificate>,
    ) -> Result<Self, KeyError> {
        if signing_certificate.public_key()? != key.public_key() {
            return Err(KeyError::CertificateMismatch);
        }
        let mut all = Vec::with_capacity(chain.len() + 1);
        all.push(signing_certificate);
        all.extend(chain);
        Ok(CertificateSigner { key, chain: all })
    }
}

impl CertificateSigner {
    /// The signing key's public half.
    pub fn public_key(&self) -> crate::keys::PublicKey {
        self.key.public_key()
    }
}

impl PaeSigner for CertificateSigner {
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, SignError> {
        self.key.sign(pae)
    }

    fn verification_material(&self, _: &Envelope) -> Result<VerificationMaterial, SignError> {
        Ok(VerificationMaterial::CertificateChain(
            self.chain.iter().map(|c| c.der().to_vec()).collect(),
        ))
    }
}
