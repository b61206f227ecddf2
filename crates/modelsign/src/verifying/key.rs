//! Verifying `key`-method signatures with the signer's public key.

use std::path::Path;

use super::{verify_envelope, VerifiedSignature, Verifier};
use crate::bundle::{Bundle, VerificationMaterial};
use crate::error::{KeyError, VerifyError};
use crate::keys::{PublicKey, SignatureHash};

/// Verifies with a known EC public key.
#[derive(Debug, Clone)]
pub struct KeyVerifier {
    key: PublicKey,
}

impl KeyVerifier {
    /// A verifier that accepts signatures made by `key`'s private half.
    pub fn new(key: PublicKey) -> Self {
        KeyVerifier { key }
    }

    /// Loads a PEM public key.
    pub fn from_pem_file(path: &Path) -> Result<Self, KeyError> {
        Ok(Self::new(PublicKey::read_pem_file(path)?))
    }
}

impl Verifier for KeyVerifier {
    fn verify_signature(&self, bundle: &Bundle) -> Result<VerifiedSignature, VerifyError> {
        let VerificationMaterial::PublicKey { hint, .. } = &bundle.material else {
            return Err(VerifyError::WrongMethod {
                expected: "key",
                found: bundle.material.method(),
            });
        };
        let mut notes = Vec::new();
        match hint {
            Some(hint) => {
                let actual = self.key.hint();
                if !hint.eq_ignore_ascii_case(&actual) {
                    return Err(VerifyError::KeyMismatch {
                        hint: hint.clone(),
                        actual,
                    });
                }
            }
            None => notes.push(
                "signature uses the verification material of model_signing < 1.1 (no key hint); re-sign with a current signer".into(),
            ),
        }
        let mut verified =
            verify_envelope(&bundle.envelope, &self.key, SignatureHash::CurveDefault)?;
        notes.append(&mut verified.notes);
        Ok(VerifiedSignature {
            notes,
            signer: None,
            public_key_hint: Some(self.key.hint()),
        })
    }

    fn material_names_signer(&self, bundle: &Bundle) -> bool {
        // A bundle without a hint (model_signing < 1.1) names no key at all.
        matches!(&bundle.material, VerificationMaterial::PublicKey { hint: Some(hint), .. }
            if hint.eq_ignore_ascii_case(&self.key.hint()))
    }
}
