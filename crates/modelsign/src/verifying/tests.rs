use std::fs;
use std::path::PathBuf;

use super::*;
use crate::keys::Curve;
use crate::{sign_model, HashAlgorithm, KeySigner, PrivateKey, Serialization, ShardAlgorithmName};

/// A model of two files signed with the default settings (files, SHA-256), its bundle and
/// the verifier of its key.
fn signed_model() -> (tempfile::TempDir, PathBuf, Bundle, KeyVerifier) {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a.bin"), b"weights").expect("write");
    fs::write(model.join("b.txt"), b"notes").expect("write");
    let key = PrivateKey::generate(Curve::P256).expect("key");
    let verifier = KeyVerifier::new(key.public_key());
    let signature = dir.path().join("model.sig");
    sign_model(
        &model,
        &HashSettings::default(),
        &KeySigner::new(key),
        &signature,
        &Progress::none(),
    )
    .expect("sign");
    let bundle = Bundle::read(&signature).expect("read");
    (dir, model, bundle, verifier)
}

fn verify_with(
    model: &Path,
    bundle: &Bundle,
    verifier: &KeyVerifier,
    hashing: HashSettings,
) -> Result<VerificationReport, VerifyError> {
    let options = VerifyOptions {
        hashing: Some(hashing),
        ..VerifyOptions::default()
    };
    verify_model(model, bundle, verifier, &options, &Progress::none())
}

fn mismatch(result: Result<VerificationReport, VerifyError>) -> ManifestDiff {
    match result {
        Err(VerifyError::Mismatch(diff)) => *diff,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn given_hashing_settings_that_match_the_signers_verify() {
    let (_dir, model, bundle, verifier) = signed_model();
    let report = verify_with(&model, &bundle, &verifier, HashSettings::default()).expect("ok");
    assert_eq!(report.resources, 2);
    assert_eq!(report.serialization.hash_type, HashAlgorithm::Sha256);
}

#[test]
fn given_hashing_settings_replace_those_the_signature_records() {
    let (_dir, model, bundle, verifier) = signed_model();
    // Another algorithm: every digest differs, as model_signing reports after
    // set_hashing_config.
    let blake2 = HashSettings {
        algorithm: HashAlgorithm::Blake2b,
        ..HashSettings::default()
    };
    let diff = mismatch(verify_with(&model, &bundle, &verifier, blake2));
    assert_eq!(diff.changed, ["a.bin", "b.txt"]);
    assert!(diff.missing.is_empty() && diff.extra.is_empty());

    // Shards: the resource names differ from the signed file names.
    let shards = HashSettings {
        serialization: Serialization::Shards { shard_size: 4 },
        ..HashSettings::default()
    };
    let diff = mismatch(verify_with(&model, &bundle, &verifier, shards));
    assert_eq!(diff.missing, ["a.bin", "b.txt"]);

    // Their ignore paths apply instead of the signature's: a signed file left out is
    // missing.
    let mut ignoring = HashSettings::default();
    ignoring.walk.ignore.add("b.txt").expect("ignore");
    let diff = mismatch(verify_with(&model, &bundle, &verifier, ignoring));
    assert_eq!(diff.missing, ["b.txt"]);
    assert!(diff.changed.is_empty());
}

/// The resource algorithm of every entry of the bundle's statement.
fn written_algorithms(bundle: &Bundle) -> Vec<String> {
    let statement: serde_json::Value =
        serde_json::from_slice(&bundle.envelope.payload).expect("statement JSON");
    statement["predicate"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["algorithm"].as_str().expect("algorithm").to_owned())
        .collect()
}

#[test]
fn shards_written_with_model_signings_algorithm_name_say_it_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a.bin"), b"weights").expect("write");
    let key = PrivateKey::generate(Curve::P256).expect("key");
    let verifier = KeyVerifier::new(key.public_key());
    let signer = KeySigner::new(key);
    let mut settings = HashSettings {
        serialization: Serialization::Shards { shard_size: 4 },
        ..HashSettings::default()
    };
    let sign = |settings: &HashSettings, name: &str| {
        let signature = dir.path().join(name);
        sign_model(&model, settings, &signer, &signature, &Progress::none()).expect("sign");
        Bundle::read(&signature).expect("read")
    };

    let oms = sign(&settings, "oms.sig");
    assert_eq!(written_algorithms(&oms), ["sha256", "sha256"]);

    settings.walk.shard_algorithm_name = ShardAlgorithmName::HashTypeShardedSize;
    let bundle = sign(&settings, "model_signing.sig");
    assert_eq!(
        written_algorithms(&bundle),
        ["sha256-sharded-4", "sha256-sharded-4"]
    );
    let report = verify_model(
        &model,
        &bundle,
        &verifier,
        &VerifyOptions::default(),
        &Progress::none(),
    )
    .expect("verifies");
    assert_eq!(report.resources, 2);
}

#[test]
fn given_hashing_settings_keep_the_paths_the_signer_ignored_ignored() {
    // model_signing adds the signature's ignore paths to a given config before hashing.
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a.bin"), b"weights").expect("write");
    fs::write(model.join("README.md"), b"left out").expect("write");
    let key = PrivateKey::generate(Curve::P256).expect("key");
    let verifier = KeyVerifier::new(key.public_key());
    let mut settings = HashSettings::default();
    settings.walk.ignore.add("README.md").expect("ignore");
    let signature = dir.path().join("model.sig");
    sign_model(
        &model,
        &settings,
        &KeySigner::new(key),
        &signature,
        &Progress::none(),
    )
    .expect("sign");
    let bundle = Bundle::read(&signature).expect("read");

    let report = verify_with(&model, &bundle, &verifier, HashSettings::default()).expect("ok");
    assert_eq!(report.resources, 1);
}

#[test]
fn a_recorded_allow_symlinks_is_honoured_unless_the_verifier_declines_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("a.bin"), b"weights").expect("write");
    std::os::unix::fs::symlink("a.bin", model.join("link.bin")).expect("symlink");
    let key = PrivateKey::generate(Curve::P256).expect("key");
    let verifier = KeyVerifier::new(key.public_key());
    let mut settings = HashSettings::default();
    settings.walk.allow_symlinks = true;
    let signature = dir.path().join("model.sig");
    sign_model(
        &model,
        &settings,
        &KeySigner::new(key),
        &signature,
        &Progress::none(),
    )
    .expect("sign");
    let bundle = Bundle::read(&signature).expect("read");
    let verify = |options: &VerifyOptions| {
        verify_model(&model, &bundle, &verifier, options, &Progress::none())
    };

    let report = verify(&VerifyOptions::default()).expect("the signature's rule is followed");
    assert_eq!(report.resources, 2);

    let declining = VerifyOptions {
        honour_recorded_allow_symlinks: false,
        ..VerifyOptions::default()
    };
    assert_eq!(mismatch(verify(&declining)).symlinks, ["link.bin"]);

    let opted_in = VerifyOptions {
        allow_symlinks: true,
        ..declining
    };
    assert_eq!(
        verify(&opted_in)
            .expect("the verifier's own rule")
            .resources,
        2
    );
}
