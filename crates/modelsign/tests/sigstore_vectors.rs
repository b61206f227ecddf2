//! Sigstore keyless signatures written by released model_signing versions (v0.3.1 …
//! v1.1.0, public-good production instance) verify offline with the built-in trust root,
//! and a wrong identity, a wrong identity provider or a changed model byte each fail.

use std::fs;
use std::path::{Path, PathBuf};

use modelsign::{
    Bundle, IdentityPolicy, IgnoreSet, Progress, SigstoreTrustRoot, SigstoreVerifier,
    VerificationReport, VerifyError, VerifyOptions,
};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";
const VERSIONS: [&str; 4] = ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"];

/// A writable copy of the vector's model folder (its signature lies inside it).
fn copy_of(version: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join(format!("{version}-sigstore"));
    test_support::copy_tree(
        &test_support::vector(&format!("model-transparency/{version}-sigstore")),
        &model,
    );
    (dir, model)
}

fn verify(
    model: &Path,
    trust: &SigstoreTrustRoot,
    identity: IdentityPolicy,
    issuer: &str,
) -> Result<VerificationReport, VerifyError> {
    let signature = model.join("model.sig");
    let bundle = Bundle::read(&signature)?;
    let verifier = SigstoreVerifier::new(trust, identity, issuer).expect("verifier");
    let mut ignore = IgnoreSet::new(true);
    // v1.0.1 and later sign a folder with an unsigned `ignore-me` but did not record it.
    ignore.add("ignore-me").expect("ignore");
    let options = VerifyOptions {
        ignore,
        signature_path: Some(signature),
        ..VerifyOptions::default()
    };
    modelsign::verify_model(model, &bundle, &verifier, &options, &Progress::none())
}

fn exact(identity: &str) -> IdentityPolicy {
    IdentityPolicy::Exact(identity.to_owned())
}

#[test]
fn every_model_signing_sigstore_signature_verifies_offline_with_the_built_in_root() {
    let trust = SigstoreTrustRoot::production().expect("embedded root");
    for version in VERSIONS {
        let (_dir, model) = copy_of(version);
        let report = verify(&model, &trust, exact(IDENTITY), ISSUER)
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(report.resources, 2, "{version}");
        let signer = report.signer.expect("signer");
        assert_eq!(signer.identity, IDENTITY, "{version}");
        assert_eq!(signer.issuer, ISSUER, "{version}");
        // Signed in 2025 according to the transparency log or the timestamp authority.
        let when = signer.signed_at.expect("signing time");
        assert!(when.starts_with("2025-"), "{version}: {when}");
    }
}

#[test]
fn the_shipped_trust_root_file_works_as_well_as_the_built_in_one() {
    // `../shared/trust` lies beside `../shared/vectors`.
    let path = test_support::vectors_dir().join("../trust/trusted_root.prod.json");
    let trust = SigstoreTrustRoot::read(&path).expect("trusted_root.prod.json");
    let (_dir, model) = copy_of("v1.1.0");
    verify(&model, &trust, exact(IDENTITY), ISSUER).expect("verifies");
}

#[test]
fn identity_regex_matches_or_names_the_identity_found() {
    let trust = SigstoreTrustRoot::production().expect("embedded root");
    let (_dir, model) = copy_of("v1.1.0");
    let matching = IdentityPolicy::regex(r"^[a-z]+@us\.ibm\.com$").expect("regex");
    verify(&model, &trust, matching, ISSUER).expect("regex matches");
    let other = IdentityPolicy::regex(r"^.*@example\.com$").expect("regex");
    let err = verify(&model, &trust, other, ISSUER).expect_err("regex must not match");
    assert!(
        matches!(&err, VerifyError::IdentityMismatch { found, .. } if found == IDENTITY),
        "{err}"
    );
}

#[test]
fn wrong_identity_wrong_issuer_and_a_changed_byte_each_fail() {
    let trust = SigstoreTrustRoot::production().expect("embedded root");
    for version in VERSIONS {
        let (_dir, model) = copy_of(version);
        let err = verify(&model, &trust, exact("mallory@example.com"), ISSUER)
            .expect_err("wrong identity");
        assert!(
            matches!(&err, VerifyError::IdentityMismatch { found, .. } if found == IDENTITY),
            "{version}: {err}"
        );
        assert!(err.to_string().contains(IDENTITY), "{version}: {err}");

        let err = verify(
            &model,
            &trust,
            exact(IDENTITY),
            "https://accounts.google.com",
        )
        .expect_err("wrong issuer");
        assert!(
            matches!(&err, VerifyError::IssuerMismatch { found, .. } if found == ISSUER),
            "{version}: {err}"
        );

        let file = model.join("signme-1");
        let mut bytes = fs::read(&file).expect("read");
        bytes[0] ^= 1;
        fs::write(&file, bytes).expect("write");
        let err = verify(&model, &trust, exact(IDENTITY), ISSUER).expect_err("changed byte");
        assert!(
            matches!(&err, VerifyError::Mismatch(diff) if diff.changed == ["signme-1"]),
            "{version}: {err}"
        );
    }
}

#[test]
fn staging_root_does_not_vouch_for_production_signatures() {
    let trust = SigstoreTrustRoot::staging().expect("embedded staging root");
    let (_dir, model) = copy_of("v1.1.0");
    let err = verify(&model, &trust, exact(IDENTITY), ISSUER).expect_err("wrong instance");
    assert!(matches!(err, VerifyError::Sigstore { .. }), "{err}");
}

#[test]
fn a_tampered_payload_or_log_entry_is_refused() {
    let trust = SigstoreTrustRoot::production().expect("embedded root");
    let (_dir, model) = copy_of("v1.0.1");
    let signature = model.join("model.sig");
    let original: serde_json::Value =
        serde_json::from_slice(&fs::read(&signature).expect("read")).expect("json");

    // A different integrated time breaks the signed entry timestamp.
    let mut forged = original.clone();
    let time = &mut forged["verificationMaterial"]["tlogEntries"][0]["integratedTime"];
    let shifted = time
        .as_str()
        .and_then(|t| t.parse::<i64>().ok())
        .expect("time")
        + 1;
    *time = serde_json::Value::String(shifted.to_string());
    fs::write(&signature, serde_json::to_vec(&forged).expect("json")).expect("write");
    let err = verify(&model, &trust, exact(IDENTITY), ISSUER).expect_err("forged time");
    assert!(matches!(err, VerifyError::Sigstore { .. }), "{err}");

    // One flipped bit in the signature.
    let mut forged = original.clone();
    let sig = forged["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .expect("sig")
        .to_owned();
    let flipped = format!(
        "{}{}",
        if sig.starts_with('M') { "N" } else { "M" },
        &sig[1..]
    );
    forged["dsseEnvelope"]["signatures"][0]["sig"] = flipped.into();
    fs::write(&signature, serde_json::to_vec(&forged).expect("json")).expect("write");
    assert!(verify(&model, &trust, exact(IDENTITY), ISSUER).is_err());
}

#[test]
fn key_and_certificate_signatures_are_refused_as_sigstore() {
    let trust = SigstoreTrustRoot::production().expect("embedded root");
    for folder in ["v1.1.0-elliptic-key", "v1.1.0-certificate"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("m");
        test_support::copy_tree(
            &test_support::vector(&format!("model-transparency/{folder}")),
            &model,
        );
        let err = verify(&model, &trust, exact(IDENTITY), ISSUER).expect_err(folder);
        assert!(
            matches!(
                err,
                VerifyError::WrongMethod {
                    expected: "sigstore",
                    ..
                }
            ),
            "{folder}: {err}"
        );
    }
}
