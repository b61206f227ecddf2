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

/// The artifact `reference` names: a file or folder on disk, digested on the spot as the
/// store records it (with default settings first, then as each artifact of its name was
/// hashed: in shards, with another algorithm), else as [`resolve`] reads it.
pub fn resolve_reference(
    store: &mut Store,
    reference: &str,
    progress: &crate::hashing::Progress,
) -> Result<Artifact, LineageError> {
    let path = std::path::Path::new(reference);
    if !path.exists() {
        return resolve(store, reference);
    }
    let unhashable = |source| LineageError::Hash {
        path: path.to_path_buf(),
        source,
    };
    let subject = crate::attestation::ModelSubject::of_model(
        path,
        &crate::hashing::HashSettings::default(),
        progress,
    )
    .map_err(unhashable)?;
    let key = subject.root_digest_string();
    match resolve(store, &key) {
        Err(LineageError::UnknownArtifact(_)) => {}
        found => return found,
    }
    for candidate in store.find(&subject.name)? {
        let recorded: Vec<_> = store
            .statements_naming(candidate.id)?
            .iter()
            .flat_map(|(kind, statement)| ingest::recorded_subjects(kind, statement.as_bytes()))
            .filter(|recorded| recorded.root_digest_string() == candidate.key)
            .collect();
        let rehashed = crate::attestation::rehash_against(&recorded, path, None, progress)
            .map_err(unhashable)?;
        if matches!(rehashed, crate::attestation::Rehashed::Is(_)) {
            return Ok(candidate);
        }
    }
    Err(LineageError::UnknownPath {
        path: path.to_path_buf(),
        digest: key,
        name: subject.name,
    })
}

#[cfg(test)]
mod ingest_tests;
#[cfg(test)]
mod tests;
