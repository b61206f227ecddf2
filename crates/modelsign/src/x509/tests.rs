use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use test_support::certs::{self, CertSpec, HostileChain};

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

fn read(pem: &Path) -> Certificate {
    Certificate::read_pem_file(pem)
        .expect("test certificate")
        .remove(0)
}

/// The leaf, chain and (unrelated) anchor of a hostile chain.
fn hostile(
    dir: &Path,
    make: impl Fn(&Path) -> HostileChain,
) -> (Certificate, Vec<Certificate>, Certificate) {
    let anchor = read(&certs::stranger(dir));
    let hostile = make(dir);
    let chain = hostile.chain.iter().map(|pem| read(pem)).collect();
    (read(&hostile.leaf), chain, anchor)
}

#[test]
fn a_chain_of_ten_or_thirty_same_key_cas_is_refused_at_once() {
    for n in [10, 30] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (leaf, chain, anchor) = hostile(dir.path(), |d| HostileChain::same_key_loop(d, n));
        // Before the search kept two certificates of one name and key off a path, this
        // explored every ordering of the CAs: N=10 ran for minutes.
        let err = validate_chain(&leaf, &chain, &[anchor], SystemTime::now())
            .expect_err("no path to the anchor");
        assert!(matches!(err, CertError::Untrusted { .. }), "{n}: {err}");
        assert!(
            err.to_string()
                .contains("no given certificate issued 'CN=loop' (issuer 'CN=loop')"),
            "{n}: {err}"
        );
    }
}

#[test]
fn a_search_with_many_dead_ends_stops_at_the_step_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, chain, anchor) = hostile(dir.path(), |d| {
        HostileChain::interchangeable_levels(d, 7, 3)
    });
    let err =
        validate_chain(&leaf, &chain, &[anchor], SystemTime::now()).expect_err("budget spent");
    assert!(matches!(err, CertError::Untrusted { .. }), "{err}");
    let limit = format!("MAX_PATH_SEARCH_STEPS ({MAX_PATH_SEARCH_STEPS})");
    assert!(err.to_string().contains(&limit), "{err}");
}

#[test]
fn a_search_trying_too_many_keys_stops_at_the_signature_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, chain, anchor) = hostile(dir.path(), |d| HostileChain::many_keys_one_name(d, 20));
    let err =
        validate_chain(&leaf, &chain, &[anchor], SystemTime::now()).expect_err("budget spent");
    assert!(matches!(err, CertError::Untrusted { .. }), "{err}");
    let limit = format!("MAX_SIGNATURE_CHECKS ({MAX_SIGNATURE_CHECKS})");
    assert!(err.to_string().contains(&limit), "{err}");
}

#[test]
fn too_many_chain_certificates_or_anchors_are_refused_by_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, chain, anchor) = hostile(dir.path(), |d| HostileChain::same_key_loop(d, 1));
    let padded = vec![chain[0].clone(); MAX_CHAIN_CERTIFICATES];
    let err = validate_chain(
        &leaf,
        &padded,
        std::slice::from_ref(&anchor),
        SystemTime::now(),
    )
    .expect_err("too many");
    assert!(matches!(err, CertError::TooMany { .. }), "{err}");
    let limit = format!("MAX_CHAIN_CERTIFICATES ({MAX_CHAIN_CERTIFICATES})");
    assert!(err.to_string().contains(&limit), "{err}");
    let anchors = vec![anchor; MAX_TRUST_ANCHORS + 1];
    let err = validate_chain(&leaf, &chain, &anchors, SystemTime::now()).expect_err("too many");
    let limit = format!("MAX_TRUST_ANCHORS ({MAX_TRUST_ANCHORS})");
    assert!(err.to_string().contains(&limit), "{err}");
}

#[test]
fn a_chain_with_redundant_cross_certificates_still_validates() {
    // Intermediate `int` is certified by the current root and, with the same name and key,
    // cross-certified by an old root, which also cross-certifies the current root. The
    // chain lists the cross-certificates first, so the search must back out of them.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let anchor = read(&certs::stranger(d));
    let make = |name: &str, subject: &str, issuer: Option<&str>, serial| {
        let issuer = issuer.map(|i| (i, i));
        let spec = CertSpec {
            subject,
            key: subject,
            issuer,
            serial,
            key_ids: true,
        };
        read(&certs::make_cert(d, name, &spec))
    };
    for key in ["root", "old", "int"] {
        certs::new_key(d, key);
    }
    let root = make("root", "root", None, 1);
    let old = make("old", "old", None, 2);
    let int = make("int", "int", Some("root"), 3);
    let int_by_old = make("int-by-old", "int", Some("old"), 4);
    let root_by_old = make("root-by-old", "root", Some("old"), 5);
    let leaf = read(&certs::leaf(d, ("int", "int"), true));
    let chain = [int_by_old, root_by_old, int];
    let now = SystemTime::now();
    validate_chain(&leaf, &chain, std::slice::from_ref(&root), now).expect("to the root");
    validate_chain(&leaf, &chain, std::slice::from_ref(&old), now).expect("to the old root");
    validate_chain(&leaf, &chain[..1], std::slice::from_ref(&old), now)
        .expect("through the cross-certificate alone");
    let err = validate_chain(&leaf, &chain[..1], &[root], now).expect_err("no path");
    assert!(
        err.to_string()
            .contains("no given certificate issued 'CN=int' (issuer 'CN=old')"),
        "{err}"
    );
    let err = validate_chain(&leaf, &chain, &[anchor], now).expect_err("stranger");
    assert!(matches!(err, CertError::Untrusted { .. }), "{err}");
}
