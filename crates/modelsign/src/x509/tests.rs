use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use super::*;

fn certs(rel: &str) -> Vec<Certificate> {
    Certificate::read_pem_file(&test_support::vector(rel)).expect(rel)
}

fn one(rel: &str) -> Certificate {
    certs(rel).remove(0)
}

const MT: &str = "model-transparency/keys/certificate";

/// 2030-01-01, inside the model-transparency chain's validity (2025-05-02 .. 2035-04-30).
fn in_validity() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_893_456_000)
}

#[test]
fn the_reference_chain_validates_through_its_intermediate() {
    let leaf = one(&format!("{MT}/signing-key-cert.pem"));
    let int = one(&format!("{MT}/int-ca-cert.pem"));
    let root = one(&format!("{MT}/ca-cert.pem"));
    validate_chain(
        &leaf,
        std::slice::from_ref(&int),
        std::slice::from_ref(&root),
        in_validity(),
    )
    .expect("valid chain");
    // The leaf is marked CA:TRUE (unlike a TLS end-entity) and is still accepted as a leaf.
    assert!(leaf
        .extension::<BasicConstraints>(OID_BASIC_CONSTRAINTS)
        .is_some_and(|b| b.is_ok_and(|b| b.ca)));

    let err = validate_chain(&leaf, &[], std::slice::from_ref(&root), in_validity())
        .expect_err("no intermediate");
    assert!(matches!(err, CertError::Untrusted { .. }), "{err}");
    validate_chain(&leaf, &[], std::slice::from_ref(&int), in_validity())
        .expect("an intermediate given as anchor is trusted as such");
    let wrong = one("oms-conformance/assets/keys/wrong/wrong-ca-cert.pem");
    let err = validate_chain(&leaf, std::slice::from_ref(&int), &[wrong], in_validity())
        .expect_err("wrong anchor");
    assert!(matches!(err, CertError::Untrusted { .. }), "{err}");
    assert!(matches!(
        validate_chain(&leaf, &[int], &[], in_validity()),
        Err(CertError::NoAnchors)
    ));
}

#[test]
fn validity_is_checked_on_every_certificate() {
    let leaf = one(&format!("{MT}/signing-key-cert.pem"));
    let int = one(&format!("{MT}/int-ca-cert.pem"));
    let root = one(&format!("{MT}/ca-cert.pem"));
    let before = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023
    let err = validate_chain(
        &leaf,
        std::slice::from_ref(&int),
        std::slice::from_ref(&root),
        before,
    )
    .expect_err("too early");
    assert!(err.to_string().contains("not valid before"), "{err}");
    let after = UNIX_EPOCH + Duration::from_secs(2_100_000_000); // 2036
    let err = validate_chain(&leaf, &[int], &[root], after).expect_err("expired");
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn an_expired_signing_certificate_is_rejected_saying_so() {
    let leaf = one("oms-conformance/assets/keys/expired/signing-key-cert.pem");
    let anchors = certs("oms-conformance/assets/keys/certificate/ca-cert.pem");
    let intermediates = certs("oms-conformance/assets/keys/certificate/int-ca-cert.pem");
    let err =
        validate_chain(&leaf, &intermediates, &anchors, SystemTime::now()).expect_err("expired");
    assert!(matches!(err, CertError::Validity { .. }), "{err}");
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn a_self_signed_leaf_can_be_its_own_anchor() {
    let leaf = one("oms-conformance/assets/keys/self-signed/signing-cert.pem");
    validate_chain(
        &leaf,
        std::slice::from_ref(&leaf),
        std::slice::from_ref(&leaf),
        SystemTime::now(),
    )
    .expect("self-signed");
}

/// Makes a CA and a leaf with the given leaf extensions using the openssl CLI.
fn issue_leaf(dir: &Path, leaf_ext: &str) -> (Certificate, Certificate) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=test-leaf",
    ]);
    fs::write(dir.join("leaf.ext"), leaf_ext).expect("write ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "1",
        "-extfile",
        "leaf.ext",
    ]);
    let read = |name: &str| {
        Certificate::read_pem_file(&PathBuf::from(dir).join(name))
            .expect(name)
            .remove(0)
    };
    (read("leaf.pem"), read("ca.pem"))
}

#[test]
fn leaf_usage_requires_digital_signature_or_code_signing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, ca) = issue_leaf(
        dir.path(),
        "keyUsage=critical,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    );
    let err = validate_chain(&leaf, &[], &[ca], SystemTime::now()).expect_err("no signing usage");
    assert!(matches!(err, CertError::LeafUsage(_)), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, ca) = issue_leaf(dir.path(), "extendedKeyUsage=codeSigning\n");
    validate_chain(&leaf, &[], &[ca], SystemTime::now()).expect("codeSigning EKU suffices");

    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, ca) = issue_leaf(dir.path(), "keyUsage=critical,digitalSignature\n");
    validate_chain(&leaf, &[], std::slice::from_ref(&ca), SystemTime::now())
        .expect("digitalSignature suffices");
    // An ECDSA-signed chain with a P-384 leaf exercises the EC signature path.
    assert_eq!(leaf.public_key().expect("EC key").curve(), Curve::P384);
}

#[test]
fn a_leaf_from_an_unknown_issuer_is_untrusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, _ca) = issue_leaf(dir.path(), "keyUsage=critical,digitalSignature\n");
    let unrelated = one(&format!("{MT}/ca-cert.pem"));
    let err = validate_chain(&leaf, &[], &[unrelated], SystemTime::now()).expect_err("untrusted");
    assert!(matches!(err, CertError::Untrusted { .. }), "{err}");
}
