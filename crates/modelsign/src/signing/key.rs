//! The `key` method: a bare EC private key; the bundle carries the public key's hint.

use std::path::Path;

use super::PaeSigner;
use crate::bundle::VerificationMaterial;
use crate::dsse::Envelope;
use crate::error::{KeyError, SignError};
use crate::keys::PrivateKey;

/// Signs with an EC private key (P-256, P-384 or P-521).
#[derive(Debug)]
pub struct KeySigner {
    key: PrivateKey,
    hint: String,
}

impl KeySigner {
    /// Signs with `key`.
    pub fn new(key: PrivateKey) -> Self {
        let hint = key.public_key().hint();
        KeySigner { key, hint }
    }

    /// Loads a PEM private key; `password` decrypts an encrypted PKCS#8 key.
    pub fn from_pem_file(path: &Path, password: Option<&[u8]>) -> Result<Self, KeyError> {
        Ok(Self::new(PrivateKey::read_pem_file(path, password)?))
    }
}

impl PaeSigner for KeySigner {
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, SignError> {
        self.key.sign(pae)
    }

    fn verification_material(&self, _: &Envelope) -> Result<VerificationMaterial, SignError> {
        Ok(VerificationMaterial::PublicKey {
            hint: Some(self.hint.clone()),
            legacy_raw_bytes: None,
        })
    }
}
