//! A requested stop (what Ctrl-C and SIGTERM become in the CLI) at the library's check
//! points. The stop flag is process-wide and final, so this file holds a single test: its
//! own process, where nothing else hashes.

use std::fs;

use modelsign::error::{BundleError, HashError, SignError};
use modelsign::hashing::interrupt::{self, Interrupted};
use modelsign::keys::Curve;
use modelsign::{HashSettings, KeySigner, PrivateKey, Progress};

#[test]
fn a_requested_stop_halts_hashing_and_the_signature_write_leaving_no_temporary_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = test_support::two_file_model(dir.path());
    let signature = dir.path().join("model.sig");
    fs::write(&signature, b"existing signature").expect("write");
    let manifest = HashSettings::default()
        .hash_model(&model)
        .expect("hash before any stop");
    let bundle = modelsign::sign_manifest(
        &manifest,
        &KeySigner::new(PrivateKey::generate(Curve::P256).expect("key")),
    )
    .expect("sign");

    interrupt::request_stop();
    let stopped = Interrupted { signal: None };
    assert_eq!(interrupt::stop_requested(), Some(stopped));

    let err = bundle
        .write_atomic(&signature)
        .expect_err("a stopped write must not replace the signature");
    assert!(
        matches!(err, BundleError::Interrupted(i) if i == stopped),
        "{err}"
    );
    assert_eq!(fs::read(&signature).expect("read"), b"existing signature");
    let left: Vec<_> = fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .filter(|name| name.to_string_lossy().starts_with(".modelsign-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");

    let err = HashSettings::default()
        .hash_model_with_progress(&model, &Progress::none())
        .expect_err("hashing stops");
    assert!(
        matches!(err, HashError::Interrupted(i) if i == stopped),
        "{err}"
    );

    let err = modelsign::sign_model(
        &model,
        &HashSettings::default(),
        &KeySigner::new(PrivateKey::generate(Curve::P256).expect("key")),
        &signature,
        &Progress::none(),
    )
    .expect_err("signing stops");
    assert!(
        matches!(err, SignError::Hash(HashError::Interrupted(_))),
        "{err}"
    );
    assert_eq!(fs::read(&signature).expect("read"), b"existing signature");
}
