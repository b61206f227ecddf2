//! Where an attestation is kept beside its model: its own bundle file (`model-card.sig`), or
//! one line of a claims file (`claims.jsonl`, see [`super::claims`]). Choosing, checking,
//! writing and reading the place is the same for every kind of attestation.

use std::path::{Path, PathBuf};

use super::claims::{self, Claim, Unverified};
use crate::bundle::Bundle;
use crate::error::{SignError, StoreError};
use crate::model::IgnoreSet;
use crate::signing::check_signature_path;

/// Where an attestation is written, or read from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationStore {
    /// Its own bundle file.
    File(PathBuf),
    /// A claims file: one bundle per line, appended.
    Claims(PathBuf),
}

impl AttestationStore {
    /// The claims file `claims` names when it is given (`Some(None)`: the model's own,
    /// [`claims::default_path`]), else the bundle file `file`.
    pub fn choose(model_path: &Path, file: &Path, claims: Option<Option<&Path>>) -> Self {
        match claims {
            None => AttestationStore::File(file.to_path_buf()),
            Some(Some(path)) => AttestationStore::Claims(path.to_path_buf()),
            Some(None) => AttestationStore::Claims(claims::default_path(model_path)),
        }
    }

    /// The file written or read.
    pub fn path(&self) -> &Path {
        match self {
            AttestationStore::File(path) | AttestationStore::Claims(path) => path,
        }
    }

    /// Refuses, before anything slow (hashing) or interactive (a PIN) happens, a place the
    /// attestation could not be written to: a bundle file that would replace a file of the
    /// model (with no exclusions: any existing file of the model that is not a signature),
    /// a directory or a device; a claims file with a line that is not a bundle.
    pub fn check_writable(&self, model_path: &Path) -> Result<(), StoreError> {
        match self {
            AttestationStore::File(path) => {
                check_signature_path(model_path, path, &IgnoreSet::default())
                    .map_err(StoreError::File)
            }
            AttestationStore::Claims(path) => {
                claims::check_appendable(path).map_err(StoreError::ClaimsNotAppendable)
            }
        }
    }

    /// Writes the bundle atomically, or appends it to the claims file.
    pub fn write(&self, bundle: &Bundle) -> Result<(), StoreError> {
        match self {
            AttestationStore::File(path) => bundle
                .write_atomic(path)
                .map_err(|e| StoreError::File(SignError::Bundle(e))),
            AttestationStore::Claims(path) => claims::append(path, bundle)
                .map(drop)
                .map_err(StoreError::ClaimsNotAppendable),
        }
    }

    /// Reads what is stored, before any model is hashed.
    pub fn read(&self) -> Result<StoredAttestations, StoreError> {
        Ok(match self {
            AttestationStore::File(path) => {
                StoredAttestations::File(Bundle::read(path).map_err(StoreError::Read)?)
            }
            AttestationStore::Claims(path) => StoredAttestations::Claims {
                path: path.clone(),
                claims: claims::read(path).map_err(StoreError::Claims)?,
            },
        })
    }
}

/// Attestations as read from an [`AttestationStore`], not yet verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StoredAttestations {
    /// The one bundle of a bundle file.
    File(Bundle),
    /// The claims of a claims file.
    Claims {
        /// The claims file.
        path: PathBuf,
        /// Its claims, in file order.
        claims: Vec<Claim>,
    },
}

/// Why no stored attestation verified.
#[derive(Debug)]
#[non_exhaustive]
pub enum NotVerified<E> {
    /// The bundle file's attestation failed.
    Failed(E),
    /// The claims file holds no attestation of the predicate type.
    NoClaim {
        /// The claims file.
        path: PathBuf,
    },
    /// Every claim of the predicate type failed.
    NoClaimVerifies {
        /// The claims file.
        path: PathBuf,
        /// The newest claim's line.
        line: usize,
        /// How many claims of the type were tried.
        tried: usize,
        /// Why the newest claim failed.
        error: E,
    },
}

impl StoredAttestations {
    /// Verifies the stored attestation of `predicate_type` with `verify`: the bundle file's,
    /// or the claims of that type newest first, the first that verifies winning (a card
    /// re-signed later replaces the one before; another signer's claim does not hide the
    /// expected signer's).
    pub fn verify_first<T, E>(
        &self,
        predicate_type: &str,
        mut verify: impl FnMut(&Bundle) -> Result<T, E>,
    ) -> Result<T, NotVerified<E>> {
        match self {
            StoredAttestations::File(bundle) => verify(bundle).map_err(NotVerified::Failed),
            StoredAttestations::Claims { path, claims } => {
                match claims::first_verified(claims, predicate_type, verify) {
                    Ok((_, verified)) => Ok(verified),
                    Err(Unverified::NoClaim) => Err(NotVerified::NoClaim { path: path.clone() }),
                    Err(Unverified::Failed { line, tried, error }) => {
                        Err(NotVerified::NoClaimVerifies {
                            path: path.clone(),
                            line,
                            tried,
                            error,
                        })
                    }
                }
            }
        }
    }
}
