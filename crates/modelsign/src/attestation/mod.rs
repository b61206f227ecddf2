//! Attestations: signed statements about a model other than its OMS signature (a model
//! card, provenance, evaluation results), all made and checked the same way.
//!
//! An attestation is an in-toto statement whose one subject is the model, named by its OMS
//! root digest ([`ModelSubject`]), and whose predicate is anything that implements
//! [`Predicate`]. It is signed into its own bundle with any [`Signer`]; the OMS signature
//! stays untouched. Verifying one checks the signature, reads the predicate back, and binds
//! it to a model ([`ModelBinding`]): by re-hashing the model with the settings the
//! attestation records, or against an OMS signature already verified.
//!
//! Adding a kind of attestation is one file: a type implementing [`Predicate`].

pub mod claims;
pub mod store;

use std::path::Path;

use serde_json::{Map, Value};

use crate::bundle::Bundle;
use crate::error::{AttestationError, HashError, VerifyError};
use crate::hashing::{HashSettings, Progress};
use crate::intoto::{Statement, Subject};
use crate::keys::{PublicKey, SignatureHash};
use crate::manifest::{sha256_string, Manifest};
use crate::model::{IgnoreSet, WalkOptions};
use crate::serialization::SerializationRecord;
use crate::signing::Signer;
use crate::statement;
use crate::verifying::{self, SignerIdentity, Verifier, VerifyOptions};

pub use store::{AttestationStore, NotVerified, StoredAttestations};

/// The subject annotation recording how the model's root digest was computed: the OMS
/// `serialization` block, so that a verifier can recompute the digest from the model.
pub const SERIALIZATION_ANNOTATION: &str = "https://model_signing/signature/v1.0#serialization";

/// The model an attestation is about: its name, OMS root digest, and how that digest was
/// computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSubject {
    /// The model's name (informational).
    pub name: String,
    /// The OMS root digest: SHA-256 over the digests of the model's files or shards.
    pub root_digest: [u8; 32],
    /// How the root digest was computed.
    pub serialization: SerializationRecord,
    /// Where the model can be found (a purl such as `pkg:huggingface/ORG/NAME@REV`), when
    /// the attestation says.
    pub uri: Option<String>,
}

impl ModelSubject {
    /// `sha256:<hex>`.
    pub fn root_digest_string(&self) -> String {
        sha256_string(&self.root_digest)
    }

    /// The subject a manifest describes.
    pub fn of_manifest(manifest: &Manifest) -> Self {
        ModelSubject {
            name: manifest.model_name().to_owned(),
            root_digest: manifest.root_digest(),
            serialization: manifest.serialization().clone(),
            uri: None,
        }
    }

    /// Hashes the model with `settings`.
    pub fn of_model(
        model_path: &Path,
        settings: &HashSettings,
        progress: &Progress,
    ) -> Result<Self, HashError> {
        Ok(Self::of_manifest(
            &settings.hash_model_with_progress(model_path, progress)?,
        ))
    }

    /// The subject of the OMS signature `model_signature` (a bundle file), after checking
    /// the model against it ([`crate::verify_model`]) with `verifier`: reusing a model
    /// signature saves nothing when the model must be re-hashed anyway, but proves the two
    /// agree.
    pub fn of_verified_model_signature(
        model_path: &Path,
        model_signature: &Path,
        verifier: &dyn Verifier,
        options: &VerifyOptions,
        progress: &Progress,
    ) -> Result<(Self, Option<SignerIdentity>), VerifyError> {
        let bundle = Bundle::read(model_signature)?;
        let report = verifying::verify_model(model_path, &bundle, verifier, options, progress)?;
        let signed = statement::decode(&bundle.envelope.payload)?;
        Ok((Self::of_manifest(&signed.manifest), report.signer))
    }

    /// The subject of an OMS signature made with `key` (the attestation signer's own key, as
    /// a producer signs model and attestation alike), without hashing the model again: the
    /// signature's check stands in for it, which is what makes this fast for large models.
    pub fn of_own_model_signature(bundle: &Bundle, key: &PublicKey) -> Result<Self, VerifyError> {
        verifying::verify_envelope(&bundle.envelope, key, SignatureHash::Sha256)?;
        let signed = statement::decode(&bundle.envelope.payload)?;
        Ok(Self::of_manifest(&signed.manifest))
    }

    /// The subject of a new attestation, established as `source` says.
    pub fn establish(source: SubjectSource<'_>) -> Result<Self, AttestationError> {
        match source {
            SubjectSource::Hash {
                model_path,
                settings,
                progress,
            } => Self::of_model(model_path, settings, progress)
                .map_err(|e| AttestationError::Verify(e.into())),
            SubjectSource::OwnModelSignature { signature, key } => {
                let key = key.ok_or(AttestationError::NoOwnKey)?;
                let bundle =
                    Bundle::read(signature).map_err(AttestationError::ModelSignatureUnreadable)?;
                Self::of_own_model_signature(&bundle, key).map_err(|source| {
                    AttestationError::ModelSignatureNotOwn {
                        path: signature.to_path_buf(),
                        source,
                    }
                })
            }
        }
    }

    /// The subject an attestation is checked against when the model comes with an OMS
    /// signature: the model is verified against `model_signature` (the git defaults and the
    /// signature file itself left out, as `verify` leaves them), and the subject is what
    /// that signature records.
    pub fn of_model_signature_check(
        model_path: &Path,
        model_signature: &Path,
        verifier: &dyn Verifier,
        max_workers: Option<usize>,
        progress: &Progress,
    ) -> Result<Self, AttestationError> {
        let options = VerifyOptions {
            ignore: IgnoreSet::new(true),
            signature_path: Some(model_signature.to_path_buf()),
            max_workers,
            ..VerifyOptions::default()
        };
        Self::of_verified_model_signature(model_path, model_signature, verifier, &options, progress)
            .map(|(subject, _)| subject)
            .map_err(|source| AttestationError::ModelSignatureFails {
                path: model_signature.to_path_buf(),
                source,
            })
    }

    /// The hashing settings that reproduce this subject's digest.
    pub fn hash_settings(&self, max_workers: Option<usize>) -> HashSettings {
        let record = &self.serialization;
        let mut ignore = IgnoreSet::new(false);
        ignore.add_recorded(record.ignore_paths.iter().map(String::as_str));
        HashSettings {
            algorithm: record.hash_type,
            serialization: record.serialization,
            walk: WalkOptions {
                ignore,
                allow_symlinks: record.allow_symlinks,
                ..WalkOptions::default()
            },
            max_workers,
        }
    }

    /// The in-toto subject: name, root digest, and the hashing settings as an annotation.
    fn to_intoto(&self) -> Subject {
        let mut subject = Subject::sha256(&self.name, &self.root_digest);
        subject.uri.clone_from(&self.uri);
        subject.annotations.insert(
            SERIALIZATION_ANNOTATION.to_owned(),
            statement::serialization_value(&self.serialization),
        );
        subject
    }
}

/// How the subject of a new attestation is established.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum SubjectSource<'a> {
    /// Hash the model.
    Hash {
        /// The model's file or folder.
        model_path: &'a Path,
        /// How to hash it.
        settings: &'a HashSettings,
        /// Where hashing progress goes.
        progress: &'a Progress,
    },
    /// Take the subject of an OMS signature made with the attestation signer's own `key`
    /// (none for a signer without a key of its own, which is refused), without hashing.
    OwnModelSignature {
        /// The OMS signature file.
        signature: &'a Path,
        /// The public key of the attestation's signer.
        key: Option<&'a PublicKey>,
    },
}

/// A kind of attestation: what its predicate is called and how it is written and read.
pub trait Predicate {
    /// The predicate type URI.
    const PREDICATE_TYPE: &'static str;
    /// The error of this kind of attestation; every attestation failure converts into it.
    type Error: From<AttestationError>;
    /// What verification reads back: the predicate, and anything else it carried.
    type Read;
    /// Whether a statement may name several subjects (a provenance names every output of
    /// its stage). Otherwise it names exactly one: the model.
    const MANY_SUBJECTS: bool = false;

    /// Checks, before signing, that the predicate may be said about `subject` (the first
    /// subject, when there are several).
    fn check(&self, subject: &ModelSubject) -> Result<(), Self::Error> {
        let _ = subject;
        Ok(())
    }

    /// The predicate as JSON, for `subject` (the first subject, when there are several).
    fn encode(&self, subject: &ModelSubject) -> Value;

    /// Reads a signed predicate back.
    fn decode(predicate: Value) -> Result<Self::Read, Self::Error>;

    /// How the model's digest was computed, where the predicate itself records it
    /// (attestations made before the subject recorded it).
    fn recorded_serialization(read: &Self::Read) -> Option<SerializationRecord> {
        let _ = read;
        None
    }
}

/// The statement of an attestation, unsigned.
pub fn encode_statement<P: Predicate>(subject: &ModelSubject, predicate: &P) -> Vec<u8> {
    encode_statement_about(std::slice::from_ref(subject), predicate)
}

/// The statement of an attestation about several subjects (for a predicate with
/// [`Predicate::MANY_SUBJECTS`]), unsigned. The predicate is encoded for the first.
pub fn encode_statement_about<P: Predicate>(subjects: &[ModelSubject], predicate: &P) -> Vec<u8> {
    let encoded = match subjects.first() {
        Some(first) => predicate.encode(first),
        None => Value::Null,
    };
    Statement {
        subject: subjects.iter().map(ModelSubject::to_intoto).collect(),
        predicate_type: P::PREDICATE_TYPE.to_owned(),
        predicate: encoded,
    }
    .to_json()
}

/// Reads an attestation statement (whose signature has been checked): its subject and
/// predicate.
pub fn decode_statement<P: Predicate>(payload: &[u8]) -> Result<(ModelSubject, P::Read), P::Error> {
    let (subjects, read) = decode_statement_about::<P>(payload)?;
    match <[ModelSubject; 1]>::try_from(subjects) {
        Ok([subject]) => Ok((subject, read)),
        Err(subjects) => Err(AttestationError::SubjectCount(subjects.len()).into()),
    }
}

/// Reads an attestation statement (whose signature has been checked): its subjects (one,
/// unless the predicate has [`Predicate::MANY_SUBJECTS`]) and predicate.
pub fn decode_statement_about<P: Predicate>(
    payload: &[u8],
) -> Result<(Vec<ModelSubject>, P::Read), P::Error> {
    let statement = Statement::read(payload).map_err(AttestationError::Statement)?;
    if statement.predicate_type != P::PREDICATE_TYPE {
        return Err(AttestationError::PredicateType {
            expected: P::PREDICATE_TYPE,
            found: statement.predicate_type,
        }
        .into());
    }
    let count = statement.subject.len();
    if count == 0 || (count > 1 && !P::MANY_SUBJECTS) {
        return Err(AttestationError::SubjectCount(count).into());
    }
    let read = P::decode(statement.predicate)?;
    let recorded = P::recorded_serialization(&read);
    let subjects = statement
        .subject
        .iter()
        .map(|subject| model_subject(subject, recorded.as_ref()))
        .collect::<Result<_, _>>()?;
    Ok((subjects, read))
}

/// One subject of an attestation, with the hashing settings it (or else the predicate,
/// `recorded`) records.
fn model_subject(
    subject: &Subject,
    recorded: Option<&SerializationRecord>,
) -> Result<ModelSubject, AttestationError> {
    let root_digest = subject
        .sha256_digest()
        .ok_or(AttestationError::NoSubjectDigest)?;
    let annotated = annotated_serialization(&subject.annotations)?;
    let serialization = match (annotated, recorded.cloned()) {
        (Some(annotated), Some(recorded)) if annotated != recorded => {
            return Err(AttestationError::Serialization(
                "recorded in the subject and in the predicate differ".into(),
            ))
        }
        (Some(record), _) | (None, Some(record)) => record,
        (None, None) => return Err(AttestationError::Serialization("are not recorded".into())),
    };
    Ok(ModelSubject {
        name: subject.name.clone(),
        root_digest,
        serialization,
        uri: subject.uri.clone(),
    })
}

pub(crate) fn annotated_serialization(
    annotations: &Map<String, Value>,
) -> Result<Option<SerializationRecord>, AttestationError> {
    let Some(block) = annotations.get(SERIALIZATION_ANNOTATION) else {
        return Ok(None);
    };
    let block = block
        .as_object()
        .ok_or_else(|| AttestationError::Serialization("are not an object".into()))?;
    statement::decode_serialization(block)
        .map(Some)
        .map_err(|e| AttestationError::Serialization(format!("are not valid: {e}")))
}

/// Checks `predicate` against `subject` and signs the attestation.
pub fn sign_attestation<P: Predicate>(
    subject: &ModelSubject,
    predicate: &P,
    signer: &dyn Signer,
) -> Result<Bundle, P::Error> {
    sign_attestation_about(std::slice::from_ref(subject), predicate, signer)
}

/// Checks `predicate` against the first of `subjects` and signs the attestation about
/// them all (several only for a predicate with [`Predicate::MANY_SUBJECTS`]).
pub fn sign_attestation_about<P: Predicate>(
    subjects: &[ModelSubject],
    predicate: &P,
    signer: &dyn Signer,
) -> Result<Bundle, P::Error> {
    let Some(first) = subjects.first() else {
        return Err(AttestationError::SubjectCount(0).into());
    };
    if subjects.len() > 1 && !P::MANY_SUBJECTS {
        return Err(AttestationError::SubjectCount(subjects.len()).into());
    }
    predicate.check(first)?;
    signer
        .sign_payload(encode_statement_about(subjects, predicate))
        .map_err(|e| AttestationError::Sign(e).into())
}

/// Checks `predicate` against `subject`, signs the attestation and stores it in `store`
/// (atomically: on any error nothing is written). Check the store with
/// [`AttestationStore::check_writable`] before anything slow.
pub fn sign_attestation_into<P: Predicate>(
    subject: &ModelSubject,
    predicate: &P,
    signer: &dyn Signer,
    store: &AttestationStore,
) -> Result<Bundle, P::Error> {
    let bundle = sign_attestation(subject, predicate, signer)?;
    store.write(&bundle).map_err(AttestationError::Store)?;
    Ok(bundle)
}

/// How an attestation is bound to a model.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum ModelBinding<'a> {
    /// Re-hash the model with the settings the attestation records.
    Rehash {
        /// The model's file or folder.
        model_path: &'a Path,
        /// Hashing threads; `None` uses every core.
        max_workers: Option<usize>,
        /// Where hashing progress goes.
        progress: &'a Progress,
    },
    /// The model's subject, already established (from a verified OMS signature:
    /// [`ModelSubject::of_verified_model_signature`]).
    Known(&'a ModelSubject),
}

/// A verified attestation.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation<R> {
    /// The model it is about, as it records it: of several subjects, the one the model
    /// matched.
    pub subject: ModelSubject,
    /// Every subject it names, in its order (the one model, for most attestations).
    pub subjects: Vec<ModelSubject>,
    /// The predicate, read back.
    pub predicate: R,
    /// Who signed it, where the method establishes an identity (Sigstore).
    pub signer: Option<SignerIdentity>,
    /// The key method: the hint of the public key that verified the signature.
    pub public_key_hint: Option<String>,
    /// Things the user should know that do not fail verification.
    pub notes: Vec<String>,
}

/// Verifies an attestation: its signature (by `verifier`), its statement, and that it is
/// about the model `binding` names.
pub fn verify_attestation<P: Predicate>(
    bundle: &Bundle,
    verifier: &dyn Verifier,
    binding: ModelBinding<'_>,
) -> Result<VerifiedAttestation<P::Read>, P::Error> {
    let verified = verifying::verify_statement_signature(bundle, verifier)
        .map_err(AttestationError::Verify)?;
    let (subjects, predicate) = decode_statement_about::<P>(&bundle.envelope.payload)?;
    let matched = match binding {
        ModelBinding::Known(model) => subjects
            .iter()
            .position(|subject| subject.root_digest == model.root_digest)
            .ok_or_else(|| wrong_model(&subjects, &model.root_digest)),
        ModelBinding::Rehash {
            model_path,
            max_workers,
            progress,
        } => match_by_rehash(&subjects, model_path, max_workers, progress)
            .map_err(|e| AttestationError::Verify(e.into()))?,
    }?;
    let subject = subjects[matched].clone();
    Ok(VerifiedAttestation {
        subject,
        subjects,
        predicate,
        signer: verified.signer,
        public_key_hint: verified.public_key_hint,
        notes: verified.notes,
    })
}

/// What re-hashing a model as each of several subjects records found.
pub(crate) enum Rehashed {
    /// The model is the subject at this index.
    Is(usize),
    /// The model is none of them; its digest as the first subject records it.
    IsNone([u8; 32]),
    /// There were no subjects to hash it as.
    NoSubjects,
}

/// Which of `subjects` the model at `model_path` is, re-hashed as each records. The model is
/// hashed once per distinct serialization record, which is once for the subjects of one
/// attestation or the inputs of one stage.
pub(crate) fn rehash_against(
    subjects: &[ModelSubject],
    model_path: &Path,
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<Rehashed, HashError> {
    let mut hashed: Vec<(&SerializationRecord, [u8; 32])> = Vec::new();
    for (index, subject) in subjects.iter().enumerate() {
        let known = hashed
            .iter()
            .find(|(record, _)| **record == subject.serialization)
            .map(|(_, digest)| *digest);
        let digest = match known {
            Some(digest) => digest,
            None => {
                let digest = rehash(subject, model_path, max_workers, progress)?;
                hashed.push((&subject.serialization, digest));
                digest
            }
        };
        if digest == subject.root_digest {
            return Ok(Rehashed::Is(index));
        }
    }
    Ok(match hashed.first() {
        Some((_, digest)) => Rehashed::IsNone(*digest),
        None => Rehashed::NoSubjects,
    })
}

/// Which of `subjects` the model at `model_path` is; a verification error when it is none.
fn match_by_rehash(
    subjects: &[ModelSubject],
    model_path: &Path,
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<Result<usize, AttestationError>, HashError> {
    Ok(
        match rehash_against(subjects, model_path, max_workers, progress)? {
            Rehashed::Is(index) => Ok(index),
            Rehashed::IsNone(model) => Err(wrong_model(subjects, &model)),
            Rehashed::NoSubjects => Err(wrong_model(subjects, &[0; 32])),
        },
    )
}

/// The error for a model none of `subjects` is.
fn wrong_model(subjects: &[ModelSubject], model: &[u8; 32]) -> AttestationError {
    match subjects {
        [subject] => AttestationError::WrongModel {
            attested: subject.root_digest_string(),
            model: sha256_string(model),
        },
        _ => AttestationError::NotASubject {
            subjects: subjects
                .iter()
                .map(|s| format!("{} ({})", s.root_digest_string(), s.name))
                .collect(),
            model: sha256_string(model),
        },
    }
}

/// The root digest of the model at `model_path`, hashed as `subject` records.
pub(crate) fn rehash(
    subject: &ModelSubject,
    model_path: &Path,
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<[u8; 32], HashError> {
    let mut settings = subject.hash_settings(max_workers);
    let manifest = settings.hash_model_with_progress(model_path, progress)?;
    let digest = manifest.root_digest();
    // Attestation files beside the model's files are left out of it, and the ones found
    // recorded as ignored. An attestation whose record does not list all the ones found
    // now either came after them, or was made before they were left out (or with them
    // included): then it covered them, and hashing them too is the only way to agree.
    let left_out_more =
        manifest.serialization().ignore_paths.len() > subject.serialization.ignore_paths.len();
    if digest == subject.root_digest || !left_out_more {
        return Ok(digest);
    }
    settings.walk.ignore.set_include_attestation_files(true);
    let with_them = settings.hash_model_with_progress(model_path, progress)?;
    Ok(if with_them.root_digest() == subject.root_digest {
        subject.root_digest
    } else {
        digest
    })
}

#[cfg(test)]
mod tests;
