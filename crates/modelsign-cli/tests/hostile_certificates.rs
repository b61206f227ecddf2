//! `verify certificate` on bundles whose certificate chains are built to stall the path
//! search or to exhaust its limits: each is refused at once, with a message naming the
//! limit, and with the exit code of an untrusted chain (1) or of unusable input (2).
//! And `sign certificate` with what can never verify (a signing certificate verification
//! refuses, a chain longer than it reads, a certificate of another key): refused before
//! anything is written, with verification's own message.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use serde_json::Value;
use test_support::certs::{self, HostileChain, SigningLeaf};
use test_support::{assert_ok, explain, text, two_file_model};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run modelsign")
}

/// A two-file model signed with the leaf of a hostile chain, and a root it does not lead to.
struct Signed {
    _work: tempfile::TempDir,
    model: PathBuf,
    signature: PathBuf,
    anchor: PathBuf,
}

impl Signed {
    fn new(make: impl Fn(&Path) -> HostileChain) -> Self {
        let work = tempfile::tempdir().expect("tempdir");
        let dir = work.path();
        let model = two_file_model(dir);
        let anchor = certs::stranger(dir);
        let chain = make(dir);
        let signature = dir.join("model.sig");
        // Signing checks the leaf, not the path: it writes whatever chain it is given.
        assert_ok(&sign(
            &model,
            &signature,
            &dir.join("leaf.key"),
            &chain.leaf,
            &[&chain.chain_file(dir)],
            &[],
        ));
        Signed {
            _work: work,
            model,
            signature,
            anchor,
        }
    }

    fn verify(&self) -> Output {
        run(&[
            "verify",
            "certificate",
            text(&self.model),
            "--signature",
            text(&self.signature),
            "--certificate-chain",
            text(&self.anchor),
        ])
    }

    /// Appends copies of the bundle's last certificate until it holds `count` (the DSSE
    /// signature does not cover the certificates, so the bundle stays validly signed).
    fn pad_chain(&self, count: usize) {
        let mut bundle: Value =
            serde_json::from_slice(&fs::read(&self.signature).expect("read")).expect("json");
        let certificates = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
            .as_array_mut()
            .expect("a certificate chain");
        let last = certificates.last().cloned().expect("a certificate");
        certificates.resize(count, last);
        fs::write(&self.signature, bundle.to_string()).expect("write");
    }

    /// Replaces the DSSE signature with a well-formed ECDSA signature that nobody made.
    fn forge_signature(&self) {
        let mut bundle: Value =
            serde_json::from_slice(&fs::read(&self.signature).expect("read")).expect("json");
        let junk = base64::engine::general_purpose::STANDARD
            .encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]);
        bundle["dsseEnvelope"]["signatures"][0]["sig"] = Value::String(junk);
        fs::write(&self.signature, bundle.to_string()).expect("write");
    }
}

/// `sign certificate` of `model` to `signature`, with `extra` arguments.
fn sign(
    model: &Path,
    signature: &Path,
    key: &Path,
    leaf: &Path,
    chain: &[&Path],
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "sign",
        "certificate",
        text(model),
        "--signature",
        text(signature),
        "--private-key",
        text(key),
        "--signing-certificate",
        text(leaf),
    ];
    for file in chain {
        args.extend(["--certificate-chain", text(file)]);
    }
    args.extend_from_slice(extra);
    run(&args)
}

fn assert_refused(out: &Output, code: i32, message: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", explain(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(message),
        "expected '{message}'\n{}",
        explain(out)
    );
}

#[test]
fn a_forged_signature_over_thirty_same_key_cas_fails_before_any_path_search() {
    let signed = Signed::new(|d| HostileChain::same_key_loop(d, 30));
    signed.forge_signature();
    // This bundle, 6 KB at N=10, kept verify busy for minutes.
    assert_refused(&signed.verify(), 1, "signature is invalid");
}

#[test]
fn ten_same_key_cas_in_a_validly_signed_bundle_are_refused_at_once() {
    let signed = Signed::new(|d| HostileChain::same_key_loop(d, 10));
    assert_refused(
        &signed.verify(),
        1,
        "no given certificate issued 'CN=loop' (issuer 'CN=loop')",
    );
}

#[test]
fn a_validly_signed_maze_of_interchangeable_cas_stops_at_the_step_budget() {
    let signed = Signed::new(|d| HostileChain::interchangeable_levels(d, 7, 3));
    assert_refused(
        &signed.verify(),
        1,
        &format!(
            "MAX_PATH_SEARCH_STEPS ({})",
            modelsign::x509::MAX_PATH_SEARCH_STEPS
        ),
    );
}

#[test]
fn a_bundle_carrying_too_many_certificates_is_refused_as_unusable() {
    let limit = modelsign::x509::MAX_CHAIN_CERTIFICATES;
    let signed = Signed::new(|d| HostileChain::same_key_loop(d, 1));
    signed.pad_chain(limit + 1);
    assert_refused(
        &signed.verify(),
        2,
        &format!(
            "holds {} certificates, more than MAX_CHAIN_CERTIFICATES ({limit})",
            limit + 1
        ),
    );
}

/// A model, and a signing certificate with `extensions` valid from `not_before` to
/// `not_after` (`YYYYMMDDHHMMSSZ`).
struct Signer {
    work: tempfile::TempDir,
    model: PathBuf,
    certificate: SigningLeaf,
}

impl Signer {
    fn new(extensions: &str, not_before: &str, not_after: &str) -> Self {
        let work = tempfile::tempdir().expect("tempdir");
        let model = two_file_model(work.path());
        let certificate = SigningLeaf::issue(work.path(), extensions, not_before, not_after);
        Signer {
            work,
            model,
            certificate,
        }
    }

    fn sign(&self, signature: &Path, chain: &[&Path], extra: &[&str]) -> Output {
        sign(
            &self.model,
            signature,
            &self.certificate.key,
            &self.certificate.leaf,
            chain,
            extra,
        )
    }

    fn verify(&self, signature: &Path) -> Output {
        run(&[
            "verify",
            "certificate",
            text(&self.model),
            "--signature",
            text(signature),
            "--certificate-chain",
            text(&self.certificate.root),
        ])
    }

    fn signature(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
}

const USABLE: &str = "keyUsage=critical,digitalSignature\n";
const LONG_AGO: &str = "20200101000000Z";
const FAR_AHEAD: &str = "20991231000000Z";

/// A leaf verification refuses: signing is refused (exit 2, nothing written) with the
/// message verification gives the signature made with the override, which signs with a
/// warning saying the same.
fn assert_refused_at_sign_time_as_at_verify_time(
    extensions: &str,
    not_before: &str,
    not_after: &str,
    expected: &str,
) {
    let signer = Signer::new(extensions, not_before, not_after);
    let refused = signer.signature("refused.sig");
    let out = signer.sign(&refused, &[], &[]);
    assert_refused(&out, 2, expected);
    assert_refused(&out, 2, "--allow-unverifiable-certificate");
    assert!(!refused.exists(), "nothing is written: {}", explain(&out));

    let forced = signer.signature("forced.sig");
    let signed = signer.sign(&forced, &[], &["--allow-unverifiable-certificate"]);
    assert_ok(&signed);
    let verified = signer.verify(&forced);
    assert_refused(&verified, 1, expected);
    let verdict = String::from_utf8_lossy(&verified.stderr);
    let message = verdict
        .trim_end()
        .strip_prefix("Verification failed: ")
        .expect("one verdict line");
    assert_refused(&out, 2, message);
    let warning = String::from_utf8_lossy(&signed.stderr);
    assert!(
        warning.contains(&format!("warning: {message}")),
        "the override warns with verification's message '{message}'\n{}",
        explain(&signed)
    );
}

#[test]
fn an_expired_signing_certificate_is_refused_at_sign_time() {
    assert_refused_at_sign_time_as_at_verify_time(
        USABLE,
        LONG_AGO,
        "20200102000000Z",
        "certificate 'CN=signer' expired on 2020-01-02",
    );
}

#[test]
fn a_signing_certificate_not_yet_valid_is_refused_at_sign_time() {
    assert_refused_at_sign_time_as_at_verify_time(
        USABLE,
        "20990101000000Z",
        FAR_AHEAD,
        "certificate 'CN=signer' is not valid before 2099-01-01",
    );
}

#[test]
fn a_signing_certificate_without_a_signing_usage_is_refused_at_sign_time() {
    assert_refused_at_sign_time_as_at_verify_time(
        "keyUsage=critical,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        LONG_AGO,
        FAR_AHEAD,
        "signing certificate 'CN=signer' may not sign",
    );
}

#[test]
fn a_signing_certificate_with_an_unknown_critical_extension_is_refused_at_sign_time() {
    assert_refused_at_sign_time_as_at_verify_time(
        &format!("{USABLE}1.3.6.1.4.1.99999.1=critical,ASN1:NULL\n"),
        LONG_AGO,
        FAR_AHEAD,
        "unsupported critical extension 1.3.6.1.4.1.99999.1",
    );
}

#[test]
fn a_usable_signing_certificate_signs_without_a_warning_and_verifies() {
    let signer = Signer::new(USABLE, LONG_AGO, FAR_AHEAD);
    let signature = signer.signature("model.sig");
    let signed = signer.sign(&signature, &[], &[]);
    assert_ok(&signed);
    assert!(
        !String::from_utf8_lossy(&signed.stderr).contains("warning"),
        "{}",
        explain(&signed)
    );
    assert_ok(&signer.verify(&signature));
}

#[test]
fn a_chain_longer_than_verification_reads_is_refused_at_sign_time_even_with_the_override() {
    let limit = modelsign::x509::MAX_CHAIN_CERTIFICATES;
    let signer = Signer::new(USABLE, LONG_AGO, FAR_AHEAD);
    let root = signer.certificate.root.as_path();
    let signature = signer.signature("model.sig");
    let at_limit = vec![root; limit - 1];
    assert_ok(&signer.sign(&signature, &at_limit, &[]));
    fs::remove_file(&signature).expect("remove");

    let over = vec![root; limit];
    for extra in [&[][..], &["--allow-unverifiable-certificate"][..]] {
        let out = signer.sign(&signature, &over, extra);
        assert_refused(
            &out,
            2,
            &format!(
                "the signature's certificate chain holds {} certificates, more than MAX_CHAIN_CERTIFICATES ({limit})",
                limit + 1
            ),
        );
        assert_refused(&out, 2, "only the intermediates");
        assert!(!signature.exists(), "nothing is written: {}", explain(&out));
    }
}

#[test]
fn a_signing_certificate_of_another_key_is_refused_before_anything_is_written() {
    let signer = Signer::new(USABLE, LONG_AGO, FAR_AHEAD);
    let signature = signer.signature("model.sig");
    let other_key = certs::new_key(signer.work.path(), "other");
    let out = sign(
        &signer.model,
        &signature,
        &other_key,
        &signer.certificate.leaf,
        &[],
        &["--allow-unverifiable-certificate"],
    );
    assert_refused(
        &out,
        2,
        "the signing certificate's public key does not match the private key",
    );
    assert!(!signature.exists(), "nothing is written: {}", explain(&out));
}
