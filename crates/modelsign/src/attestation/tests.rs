//! A predicate made up for this test alone signs and verifies through the same calls as the
//! model card: adding a kind of attestation needs nothing outside its own file.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;
use crate::error::AttestationError;
use crate::keys::{Curve, PrivateKey};
use crate::signing::KeySigner;
use crate::verifying::KeyVerifier;

/// An evaluation result as its own attestation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Evaluation {
    benchmark: String,
    score: f64,
}

#[derive(Debug, thiserror::Error)]
enum EvaluationError {
    #[error(transparent)]
    Attestation(#[from] AttestationError),
    #[error("not an evaluation: {0}")]
    Malformed(serde_json::Error),
    #[error("a score is between 0 and 1, not {0}")]
    OutOfRange(f64),
}

impl Predicate for Evaluation {
    const PREDICATE_TYPE: &'static str = "https://example.com/evaluation/v1";
    type Error = EvaluationError;
    type Read = Evaluation;

    fn check(&self, _subject: &ModelSubject) -> Result<(), EvaluationError> {
        if (0.0..=1.0).contains(&self.score) {
            Ok(())
        } else {
            Err(EvaluationError::OutOfRange(self.score))
        }
    }

    fn encode(&self, _subject: &ModelSubject) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn decode(predicate: Value) -> Result<Evaluation, EvaluationError> {
        serde_json::from_value(predicate).map_err(EvaluationError::Malformed)
    }
}

/// A second kind of attestation, to be told apart from the first.
struct Review(String);

impl Predicate for Review {
    const PREDICATE_TYPE: &'static str = "https://example.com/review/v1";
    type Error = AttestationError;
    type Read = String;

    fn encode(&self, _subject: &ModelSubject) -> Value {
        Value::String(self.0.clone())
    }

    fn decode(predicate: Value) -> Result<String, AttestationError> {
        Ok(predicate.as_str().unwrap_or_default().to_owned())
    }
}

struct Model {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    subject: ModelSubject,
}

fn model(weights: &[u8]) -> Model {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("weights.bin"), weights).unwrap();
    std::fs::write(path.join("config.json"), b"{}").unwrap();
    let settings = HashSettings {
        serialization: crate::Serialization::Shards { shard_size: 4 },
        ..HashSettings::default()
    };
    let subject = ModelSubject::of_model(&path, &settings, &Progress::none()).unwrap();
    Model {
        _dir: dir,
        path,
        subject,
    }
}

fn rehash<'a>(model: &'a Model, progress: &'a Progress) -> ModelBinding<'a> {
    ModelBinding::Rehash {
        model_path: &model.path,
        max_workers: Some(1),
        progress,
    }
}

#[test]
fn a_new_predicate_signs_and_verifies_against_the_model_it_is_about() {
    let key = PrivateKey::generate(Curve::P256).unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let signer = KeySigner::new(key);
    let model = model(b"0123456789");
    let evaluation = Evaluation {
        benchmark: "imdb".into(),
        score: 0.93,
    };
    let bundle = sign_attestation(&model.subject, &evaluation, &signer).unwrap();
    let progress = Progress::none();

    // Bound by re-hashing with the settings the subject records (shards of 4 bytes here,
    // which the verifier is not told), and bound to a subject already known.
    for binding in [
        rehash(&model, &progress),
        ModelBinding::Known(&model.subject),
    ] {
        let verified = verify_attestation::<Evaluation>(&bundle, &verifier, binding).unwrap();
        assert_eq!(verified.predicate, evaluation);
        assert_eq!(verified.subject, model.subject);
    }

    // Another model: refused, naming both digests.
    let other = self::model(b"9876543210");
    let error = verify_attestation::<Evaluation>(&bundle, &verifier, rehash(&other, &progress))
        .unwrap_err();
    let EvaluationError::Attestation(AttestationError::WrongModel {
        attested,
        model: found,
    }) = &error
    else {
        panic!("{error}");
    };
    assert_eq!(attested, &model.subject.root_digest_string());
    assert_eq!(found, &other.subject.root_digest_string());

    // The predicate's own check runs before signing.
    let bad = Evaluation {
        benchmark: "imdb".into(),
        score: 93.0,
    };
    let error = sign_attestation(&model.subject, &bad, &signer).unwrap_err();
    assert!(matches!(error, EvaluationError::OutOfRange(_)), "{error}");
}

#[test]
fn an_attestation_of_another_kind_or_a_model_signature_is_refused_by_type() {
    let key = PrivateKey::generate(Curve::P256).unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let signer = KeySigner::new(key);
    let model = model(b"weights");
    let other_bundle = sign_attestation(&model.subject, &Review("fine".into()), &signer).unwrap();
    let manifest = HashSettings::default().hash_model(&model.path).unwrap();
    let oms_bundle = crate::sign_manifest(&manifest, &signer).unwrap();
    for (bundle, found) in [
        (other_bundle, Review::PREDICATE_TYPE),
        (oms_bundle, statement::PREDICATE_TYPE),
    ] {
        let error = verify_attestation::<Evaluation>(
            &bundle,
            &verifier,
            ModelBinding::Known(&model.subject),
        )
        .unwrap_err();
        let EvaluationError::Attestation(AttestationError::PredicateType { found: got, .. }) =
            &error
        else {
            panic!("{error}");
        };
        assert_eq!(got, found);
    }
}

#[test]
fn the_recorded_hashing_settings_must_be_readable() {
    let model = model(b"weights");
    let evaluation = Evaluation {
        benchmark: "b".into(),
        score: 0.5,
    };
    let payload = encode_statement(&model.subject, &evaluation);
    let (subject, read) = decode_statement::<Evaluation>(&payload).unwrap();
    assert_eq!((subject, read), (model.subject.clone(), evaluation.clone()));

    // Without the annotation (and a predicate that records nothing), the digest cannot be
    // recomputed: refused rather than guessed.
    let mut statement: Value = serde_json::from_slice(&payload).unwrap();
    statement["subject"][0]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let payload = serde_json::to_vec(&statement).unwrap();
    let error = decode_statement::<Evaluation>(&payload).unwrap_err();
    assert!(
        matches!(
            error,
            EvaluationError::Attestation(AttestationError::Serialization(_))
        ),
        "{error}"
    );
}

#[test]
fn an_attestation_that_covered_attestation_files_still_binds_to_its_model() {
    let key = PrivateKey::generate(Curve::P256).unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let signer = KeySigner::new(key);
    let model = model(b"weights");
    // Made as before attestation files were left out: an old signature inside the model
    // was part of it.
    std::fs::write(model.path.join("old.sig"), b"an earlier signature").unwrap();
    let mut settings = HashSettings::default();
    settings.walk.ignore.set_include_attestation_files(true);
    let subject = ModelSubject::of_model(&model.path, &settings, &Progress::none()).unwrap();
    assert!(!subject
        .serialization
        .ignore_paths
        .iter()
        .any(|p| p == "old.sig"));
    let evaluation = Evaluation {
        benchmark: "b".into(),
        score: 0.5,
    };
    let bundle = sign_attestation(&subject, &evaluation, &signer).unwrap();
    // A card signature written beside it later is still left out.
    std::fs::write(model.path.join("model-card.sig"), b"a later signature").unwrap();
    let progress = Progress::none();
    let error = verify_attestation::<Evaluation>(&bundle, &verifier, rehash(&model, &progress))
        .unwrap_err();
    assert!(
        matches!(
            error,
            EvaluationError::Attestation(AttestationError::WrongModel { .. })
        ),
        "both files were hashed: {error}"
    );
    std::fs::remove_file(model.path.join("model-card.sig")).unwrap();
    let verified =
        verify_attestation::<Evaluation>(&bundle, &verifier, rehash(&model, &progress)).unwrap();
    assert_eq!(verified.subject.root_digest, subject.root_digest);
}

#[test]
fn an_own_model_signature_stands_in_for_hashing_only_with_the_signers_key() {
    let key = PrivateKey::generate(Curve::P256).unwrap();
    let public = key.public_key();
    let signer = KeySigner::new(key);
    let model = model(b"weights");
    let signature = model._dir.path().join("model.sig");
    let settings = HashSettings::default();
    crate::sign_model(
        &model.path,
        &settings,
        &signer,
        &signature,
        &Progress::none(),
    )
    .unwrap();
    let hashed = ModelSubject::establish(SubjectSource::Hash {
        model_path: &model.path,
        settings: &settings,
        progress: &Progress::none(),
    })
    .unwrap();
    let own = |key: Option<&PublicKey>| {
        ModelSubject::establish(SubjectSource::OwnModelSignature {
            signature: &signature,
            key,
        })
    };
    assert_eq!(own(Some(&public)).unwrap(), hashed);
    assert!(matches!(own(None), Err(AttestationError::NoOwnKey)));
    let stranger = PrivateKey::generate(Curve::P256).unwrap().public_key();
    let error = own(Some(&stranger)).unwrap_err();
    assert!(
        matches!(error, AttestationError::ModelSignatureNotOwn { .. }),
        "{error}"
    );
}

#[test]
fn attestations_stored_in_a_file_or_appended_to_claims_verify_from_there() {
    let key = PrivateKey::generate(Curve::P256).unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let signer = KeySigner::new(key);
    let model = model(b"weights");
    let first = Evaluation {
        benchmark: "b".into(),
        score: 0.5,
    };
    let second = Evaluation {
        benchmark: "b".into(),
        score: 0.75,
    };
    let file = model._dir.path().join("evaluation.sig");
    for claims in [None, Some(None)] {
        let store = AttestationStore::choose(&model.path, &file, claims);
        for evaluation in [&first, &second] {
            store.check_writable(&model.path).unwrap();
            sign_attestation_into(&model.subject, evaluation, &signer, &store).unwrap();
        }
        // The file holds the last one; the claims file both, and the newest wins.
        let stored = store.read().unwrap();
        let verified = stored
            .verify_first(Evaluation::PREDICATE_TYPE, |bundle| {
                verify_attestation::<Evaluation>(
                    bundle,
                    &verifier,
                    ModelBinding::Known(&model.subject),
                )
            })
            .unwrap();
        assert_eq!(verified.predicate, second);
        let none = stored.verify_first(Review::PREDICATE_TYPE, |bundle| {
            verify_attestation::<Review>(bundle, &verifier, ModelBinding::Known(&model.subject))
        });
        match (claims, none) {
            (None, Err(NotVerified::Failed(AttestationError::PredicateType { .. }))) => {}
            (Some(_), Err(NotVerified::NoClaim { path })) => {
                assert_eq!(path, model.path.join("claims.jsonl"));
            }
            (_, other) => panic!("{:?}", other.map(|v| v.predicate)),
        }
    }
}
