//! The lineage graph: verified attestations (OMS signatures, model cards, provenance)
//! taken into a store under a trust policy, and the questions an incident asks of it —
//! "this dataset is poisoned: which models must be retrained, in what order?"
//!
//! Every node is an artifact named by its OMS root digest (or a commit, or a URI for what
//! was recorded without a digest), so a stage's output and the next stage's input are one
//! node. Every edge is an input of a stage going into one of its outputs, `verified` when
//! the provenance signs the input's digest, `claimed` when it only names it.

pub mod export;
pub mod ingest;
pub mod policy;
mod postgres;
pub mod query;
pub mod render;
pub mod store;

pub use ingest::{ingest, sources, IngestReport, Source};
pub use policy::{AttestationKind, TrustPolicy, TrustedSigner};
pub use query::{ancestry, descendants, impact, path, Action, Affected, Impact, Link};
pub use store::{Artifact, ArtifactKind, EdgeStatus, NewArtifact, NewAttestation, Store};

use crate::error::LineageError;

/// The artifacts `reference` names: a digest (`sha256:<hex>`, `gitCommit:<hex>`), or a
/// name or URI (purl) recorded for one. Exactly one must match.
pub fn resolve(store: &mut Store, reference: &str) -> Result<Artifact, LineageError> {
    let mut found = store.find(reference)?;
    if found.is_empty() && reference.len() == 64 && reference.bytes().all(|b| b.is_ascii_hexdigit())
    {
        found = store.find(&format!("sha256:{}", reference.to_ascii_lowercase()))?;
    }
    match found.len() {
        0 => Err(LineageError::UnknownArtifact(reference.to_owned())),
        1 => Ok(found.remove(0)),
        _ => Err(LineageError::AmbiguousArtifact {
            reference: reference.to_owned(),
            candidates: found
                .iter()
                .map(|a| format!("{} ({})", a.key, a.label()))
                .collect(),
        }),
    }
}

/// The artifact `reference` names: a file or folder on disk (digested on the spot, as a
/// model signature digests it), else as [`resolve`] reads it.
pub fn resolve_reference(
    store: &mut Store,
    reference: &str,
    progress: &crate::hashing::Progress,
) -> Result<Artifact, LineageError> {
    let path = std::path::Path::new(reference);
    if !path.exists() {
        return resolve(store, reference);
    }
    let subject = crate::attestation::ModelSubject::of_model(
        path,
        &crate::hashing::HashSettings::default(),
        progress,
    )
    .map_err(|source| LineageError::Hash {
        path: path.to_path_buf(),
        source,
    })?;
    let key = subject.root_digest_string();
    resolve(store, &key).map_err(|e| match e {
        LineageError::UnknownArtifact(_) => {
            LineageError::UnknownArtifact(format!("{reference}, whose root digest is {key},"))
        }
        other => other,
    })
}

#[cfg(test)]
mod ingest_tests;
#[cfg(test)]
mod tests;
