//! `verify certificate` on bundles whose certificate chains are built to stall the path
//! search or to exhaust its limits: each is refused at once, with a message naming the
//! limit, and with the exit code of an untrusted chain (1) or of unusable input (2).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use serde_json::Value;
use test_support::certs::{self, HostileChain};
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
        // Signing does not validate the chain: it writes whatever chain it is given.
        assert_ok(&run(&[
            "sign",
            "certificate",
            text(&model),
            "--signature",
            text(&signature),
            "--private-key",
            text(&dir.join("leaf.key")),
            "--signing-certificate",
            text(&chain.leaf),
            "--certificate-chain",
            text(&chain.chain_file(dir)),
        ]));
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
    let signed = Signed::new(|d| {
        let mut chain = HostileChain::same_key_loop(d, 1);
        chain.chain = vec![chain.chain[0].clone(); limit];
        chain
    });
    assert_refused(
        &signed.verify(),
        2,
        &format!(
            "holds {} certificates, more than MAX_CHAIN_CERTIFICATES ({limit})",
            limit + 1
        ),
    );
}
