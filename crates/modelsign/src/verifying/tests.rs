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

/// Signs `files` (name, contents) as a model with `settings`; returns the model, its
/// bundle and the verifier of its key.
fn signed_with(
    files: &[(&str, &[u8])],
    settings: &HashSettings,
) -> (tempfile::TempDir, PathBuf, Bundle, KeyVerifier) {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    for (name, contents) in files {
        let path = model.join(name);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, contents).expect("write");
    }
    let key = PrivateKey::generate(Curve::P256).expect("key");
    let verifier = KeyVerifier::new(key.public_key());
    let signature = dir.path().join("model.sig");
    sign_model(
        &model,
        settings,
        &KeySigner::new(key),
        &signature,
        &Progress::none(),
    )
    .expect("sign");
    let bundle = Bundle::read(&signature).expect("read");
    (dir, model, bundle, verifier)
}

/// Verifies only `names` (paths relative to the model) of the model.
fn verify_only(
    model: &Path,
    bundle: &Bundle,
    verifier: &dyn Verifier,
    names: &[&str],
) -> Result<VerificationReport, VerifyError> {
    let options = VerifyOptions {
        only_files: Some(names.iter().map(|n| model.join(n)).collect()),
        ..VerifyOptions::default()
    };
    verify_model(model, bundle, verifier, &options, &Progress::none())
}

#[test]
fn partial_verification_reads_no_file_but_the_named_ones() {
    let (_dir, model, bundle, verifier) = signed_model();
    // Changed and deleted: either fails a full verification.
    fs::write(model.join("b.txt"), b"tampered").expect("write");
    assert!(matches!(
        verify_model(
            &model,
            &bundle,
            &verifier,
            &VerifyOptions::default(),
            &Progress::none()
        ),
        Err(VerifyError::Mismatch(_))
    ));
    let report = verify_only(&model, &bundle, &verifier, &["a.bin"]).expect("a.bin matches");
    assert_eq!(
        report.checked_files.as_deref(),
        Some(&["a.bin".to_owned()][..])
    );
    assert_eq!(
        (
            report.resources,
            report.signed_files,
            report.resources_checked
        ),
        (2, 2, 1)
    );
    fs::remove_file(model.join("b.txt")).expect("rm");
    // An unsigned file dropped in is not looked at either.
    fs::write(model.join("dropped.bin"), b"unsigned").expect("write");
    verify_only(&model, &bundle, &verifier, &["a.bin"]).expect("b.txt is not reported missing");
}

#[test]
fn a_full_verification_reports_every_file_checked() {
    let (_dir, model, bundle, verifier) = signed_model();
    let report = verify_model(
        &model,
        &bundle,
        &verifier,
        &VerifyOptions::default(),
        &Progress::none(),
    )
    .expect("verifies");
    assert_eq!(report.checked_files, None);
    assert_eq!(
        (
            report.resources,
            report.signed_files,
            report.resources_checked
        ),
        (2, 2, 2)
    );
}

#[test]
fn partial_verification_fails_on_a_changed_named_file_naming_it() {
    let (_dir, model, bundle, verifier) = signed_model();
    fs::write(model.join("a.bin"), b"tampered").expect("write");
    let diff = mismatch(verify_only(&model, &bundle, &verifier, &["a.bin", "b.txt"]));
    assert_eq!(diff.changed, ["a.bin"]);
    let change = &diff.changed_digests[0];
    assert_eq!(change.name, "a.bin");
    assert_ne!(change.expected, change.actual);
    assert!(diff.missing.is_empty() && diff.extra.is_empty());
}

#[test]
fn partial_verification_reports_a_named_signed_file_gone_missing() {
    let (_dir, model, bundle, verifier) = signed_model();
    fs::remove_file(model.join("a.bin")).expect("rm");
    let diff = mismatch(verify_only(&model, &bundle, &verifier, &["a.bin"]));
    assert_eq!(diff.missing, ["a.bin"]);
    // Replaced by a directory: not the signed regular file either.
    fs::create_dir(model.join("a.bin")).expect("mkdir");
    assert_eq!(
        mismatch(verify_only(&model, &bundle, &verifier, &["a.bin"])).missing,
        ["a.bin"]
    );
}

#[test]
fn partial_verification_refuses_a_file_the_signature_does_not_cover() {
    let (_dir, model, bundle, verifier) = signed_model();
    fs::write(model.join("unsigned.bin"), b"dropped in").expect("write");
    for name in ["unsigned.bin", "not-there.bin"] {
        match verify_only(&model, &bundle, &verifier, &["a.bin", name]) {
            Err(VerifyError::NotSigned {
                name: refused,
                path,
            }) => {
                assert_eq!(refused, name);
                assert_eq!(path, model.join(name));
            }
            other => panic!("expected NotSigned for {name}, got {other:?}"),
        }
    }
    // A path outside the model is the caller's mistake.
    let outside = model.parent().expect("parent").join("model.sig");
    let options = VerifyOptions {
        only_files: Some(vec![outside]),
        ..VerifyOptions::default()
    };
    let error = verify_model(&model, &bundle, &verifier, &options, &Progress::none())
        .expect_err("outside the model");
    assert!(
        matches!(
            error,
            VerifyError::Hash(HashError::Walk(WalkError::NotInModel { .. }))
        ),
        "{error:?}"
    );
    assert!(crate::error::Classify::is_input_error(&error));
    // And so is asking to check nothing.
    let options = VerifyOptions {
        only_files: Some(Vec::new()),
        ..VerifyOptions::default()
    };
    assert!(matches!(
        verify_model(&model, &bundle, &verifier, &options, &Progress::none()),
        Err(VerifyError::NoFilesNamed)
    ));
}

#[test]
fn partial_verification_checks_the_signature_first() {
    let (_dir, model, bundle, _verifier) = signed_model();
    let stranger = KeyVerifier::new(PrivateKey::generate(Curve::P256).expect("key").public_key());
    assert!(matches!(
        verify_only(&model, &bundle, &stranger, &["a.bin"]),
        Err(VerifyError::KeyMismatch { .. } | VerifyError::BadSignature)
    ));

    // A manifest edited to match a changed file: the signature no longer covers it.
    let (_dir, model, mut bundle, verifier) = signed_model();
    let statement = String::from_utf8(bundle.envelope.payload.clone()).expect("utf-8");
    let renamed = statement.replace("\"b.txt\"", "\"c.txt\"");
    assert_ne!(renamed, statement);
    bundle.envelope.payload = renamed.into_bytes();
    assert!(matches!(
        verify_only(&model, &bundle, &verifier, &["a.bin"]),
        Err(VerifyError::BadSignature)
    ));
}

#[test]
fn a_named_directory_stands_for_the_signed_files_under_it() {
    let files: &[(&str, &[u8])] = &[
        ("shards/00001.bin", b"one"),
        ("shards/00002.bin", b"two"),
        ("shardsX.bin", b"beside, not under"),
        ("config.json", b"{}"),
    ];
    let (_dir, model, bundle, verifier) = signed_with(files, &HashSettings::default());
    fs::write(model.join("shardsX.bin"), b"tampered").expect("write");
    let report = verify_only(&model, &bundle, &verifier, &["shards/", "config.json"])
        .expect("the directory's files match");
    assert_eq!(
        report.checked_files.expect("partial"),
        ["config.json", "shards/00001.bin", "shards/00002.bin"]
    );
    // The model folder itself: every signed file, and still no look for unsigned ones.
    fs::write(model.join("dropped.bin"), b"unsigned").expect("write");
    let options = VerifyOptions {
        only_files: Some(vec![model.clone()]),
        ..VerifyOptions::default()
    };
    let diff = mismatch(verify_model(
        &model,
        &bundle,
        &verifier,
        &options,
        &Progress::none(),
    ));
    assert_eq!(diff.changed, ["shardsX.bin"]);
    assert!(diff.extra.is_empty(), "{diff:?}");
    fs::write(model.join("shards/00002.bin"), b"tampered").expect("write");
    assert_eq!(
        mismatch(verify_only(&model, &bundle, &verifier, &["shards"])).changed,
        ["shards/00002.bin"]
    );
}

#[test]
fn partial_verification_under_shards_hashes_every_shard_of_a_named_file() {
    let settings = HashSettings {
        serialization: Serialization::Shards { shard_size: 4 },
        ..HashSettings::default()
    };
    let files: &[(&str, &[u8])] = &[
        ("a.bin", b"0123456789"),
        ("b.bin", b"abcdefgh"),
        ("empty.txt", b""),
    ];
    let (_dir, model, bundle, verifier) = signed_with(files, &settings);
    fs::write(model.join("b.bin"), b"tampered!").expect("write");
    let report = verify_only(&model, &bundle, &verifier, &["a.bin", "empty.txt"])
        .expect("a.bin's shards match");
    assert_eq!(report.resources_checked, 3);
    assert_eq!(report.resources, 5);
    assert_eq!(
        report.checked_files.expect("partial"),
        ["a.bin", "empty.txt"]
    );

    // The last shard changed: found only if every shard is hashed.
    fs::write(model.join("a.bin"), b"01234567X9").expect("write");
    assert_eq!(
        mismatch(verify_only(&model, &bundle, &verifier, &["a.bin"])).changed,
        ["a.bin:8:10"]
    );
    // An empty file has no shard to list: one that is no longer empty is not signed.
    fs::write(model.join("empty.txt"), b"filled").expect("write");
    assert!(matches!(
        verify_only(&model, &bundle, &verifier, &["empty.txt"]),
        Err(VerifyError::NotSigned { .. })
    ));
}
