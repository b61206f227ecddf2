//! Keyless signing end to end against a loopback Sigstore stack (Fulcio, Rekor v1, TSA,
//! OIDC issuer from the Sigstore project's @sigstore/mock handlers): `modelsign sign
//! sigstore`, then verification by modelsign, by the Python `sigstore` package and by
//! `model_signing` 1.1.1; and the reference signing against the same stack, which is what
//! shows the stack behaves like the real services.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::SigstoreStack;

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    fs::create_dir_all(model.join("weights")).expect("mkdir");
    fs::write(model.join("config.json"), "{\"layers\": 2}").expect("write");
    fs::write(model.join("weights/w.bin"), vec![7u8; 100_000]).expect("write");
    model
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run modelsign")
}

fn text(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn explain(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sign(stack: &SigstoreStack, model: &Path, signature: &Path) -> Output {
    run(&[
        "sign",
        "sigstore",
        text(model),
        "--signature",
        text(signature),
        "--trust-config",
        text(&stack.trust_config()),
        "--identity-token-file",
        text(&stack.identity_token_file()),
    ])
}

fn verify(
    stack: &SigstoreStack,
    model: &Path,
    signature: &Path,
    identity: &str,
    issuer: &str,
) -> Output {
    run(&[
        "verify",
        "sigstore",
        text(model),
        "--signature",
        text(signature),
        "--trust-config",
        text(&stack.trust_config()),
        "--identity",
        identity,
        "--identity-provider",
        issuer,
    ])
}

#[test]
fn keyless_sign_then_verify_and_every_forgery_fails() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = model(dir.path());
    let signature = dir.path().join("model.sig");
    let out = sign(&stack, &model, &signature);
    assert!(out.status.success(), "sign: {}", explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&stack.identity), "{stderr}");
    assert!(
        !stderr.contains(&stack.identity_token())
            && !String::from_utf8_lossy(&out.stdout).contains(&stack.identity_token()),
        "the identity token must never be printed"
    );

    // The bundle: v0.3, Fulcio certificate, a Rekor v1 dsse entry and a TSA timestamp.
    let bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(&signature).expect("read")).expect("json");
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let material = &bundle["verificationMaterial"];
    assert!(
        material["certificate"]["rawBytes"].is_string(),
        "{material}"
    );
    assert_eq!(material["tlogEntries"][0]["kindVersion"]["kind"], "dsse");
    assert!(material["tlogEntries"][0]["inclusionProof"]["checkpoint"].is_object());
    assert!(material["timestampVerificationData"]["rfc3161Timestamps"][0].is_object());

    let ok = verify(&stack, &model, &signature, &stack.identity, &stack.url);
    assert!(ok.status.success(), "verify: {}", explain(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(&format!("Signed by {}", stack.identity)));

    let wrong = verify(
        &stack,
        &model,
        &signature,
        "mallory@example.com",
        &stack.url,
    );
    assert_eq!(wrong.status.code(), Some(1), "{}", explain(&wrong));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong signer"));

    let wrong = verify(
        &stack,
        &model,
        &signature,
        &stack.identity,
        "https://accounts.google.com",
    );
    assert_eq!(wrong.status.code(), Some(1), "{}", explain(&wrong));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong identity provider"));

    // The production root does not vouch for this stack's certificates.
    let untrusted = run(&[
        "verify",
        "sigstore",
        text(&model),
        "--signature",
        text(&signature),
        "--identity",
        &stack.identity,
        "--identity-provider",
        &stack.url,
    ]);
    assert_eq!(untrusted.status.code(), Some(1), "{}", explain(&untrusted));

    let weights = model.join("weights/w.bin");
    let mut bytes = fs::read(&weights).expect("read");
    bytes[4242] ^= 0x10;
    fs::write(&weights, bytes).expect("write");
    let tampered = verify(&stack, &model, &signature, &stack.identity, &stack.url);
    assert_eq!(tampered.status.code(), Some(1), "{}", explain(&tampered));
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("changed files (1): weights/w.bin"));
}

#[test]
fn sign_without_a_method_means_sigstore_and_a_missing_token_is_explained() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = model(dir.path());
    let signature = dir.path().join("model.sig");
    let out = run(&[
        "sign",
        text(&model),
        "--signature",
        text(&signature),
        "--trust-config",
        text(&stack.trust_config()),
        "--identity-token",
        &stack.identity_token(),
    ]);
    assert!(out.status.success(), "{}", explain(&out));
    let ok = verify(&stack, &model, &signature, &stack.identity, &stack.url);
    assert!(ok.status.success(), "{}", explain(&ok));

    // No token, no CI credentials, no terminal: exit 2, saying how to provide one.
    let none = Command::new(BIN)
        .args([
            "sign",
            "sigstore",
            text(&model),
            "--signature",
            text(&dir.path().join("x.sig")),
            "--trust-config",
            text(&stack.trust_config()),
            "--no-ambient-credentials",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(none.status.code(), Some(2), "{}", explain(&none));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--identity-token"));
    assert!(!dir.path().join("x.sig").exists());

    // A token the CA refuses (not a JWT): exit 2 before anything is sent.
    let garbage = run(&[
        "sign",
        "sigstore",
        text(&model),
        "--signature",
        text(&dir.path().join("y.sig")),
        "--trust-config",
        text(&stack.trust_config()),
        "--identity-token",
        "not-a-jwt",
    ]);
    assert_eq!(garbage.status.code(), Some(2), "{}", explain(&garbage));
    assert!(!dir.path().join("y.sig").exists());
}

#[test]
fn unreachable_services_fail_with_the_service_named() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = model(dir.path());
    // The stack's trust config, pointing at a port nothing listens on.
    let config = fs::read_to_string(stack.trust_config()).expect("read");
    let dead = config.replace(&stack.url, "http://127.0.0.1:9");
    let dead_config = dir.path().join("dead.json");
    fs::write(&dead_config, dead).expect("write");
    let signature = dir.path().join("model.sig");
    let out = run(&[
        "sign",
        "sigstore",
        text(&model),
        "--signature",
        text(&signature),
        "--trust-config",
        text(&dead_config),
        "--identity-token-file",
        text(&stack.identity_token_file()),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Fulcio"),
        "{}",
        explain(&out)
    );
    assert!(!signature.exists());
}

#[test]
fn reference_implementations_verify_our_bundles_and_we_verify_theirs() {
    let Some(python) = test_support::venv_python() else {
        return;
    };
    let model_signing = test_support::model_signing_cli().expect("model_signing");
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = model(dir.path());
    let ours = dir.path().join("ours.sig");
    let out = sign(&stack, &model, &ours);
    assert!(out.status.success(), "{}", explain(&out));

    // model_signing 1.1.1 verifies our keyless bundle.
    let out = Command::new(&model_signing)
        .args([
            "verify",
            "sigstore",
            text(&model),
            "--signature",
            text(&ours),
        ])
        .args(["--trust_config", text(&stack.trust_config())])
        .args([
            "--identity",
            &stack.identity,
            "--identity_provider",
            &stack.url,
        ])
        .output()
        .expect("run model_signing");
    assert!(
        out.status.success(),
        "model_signing verify: {}",
        explain(&out)
    );

    // The Python `sigstore` package verifies the DSSE bundle under an identity policy.
    let script = r#"
import sys
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy
config = ClientTrustConfig.from_json(open(sys.argv[1]).read())
bundle = Bundle.from_json(open(sys.argv[2]).read())
kind, payload = Verifier(trusted_root=config.trusted_root).verify_dsse(
    bundle, policy.Identity(identity=sys.argv[3], issuer=sys.argv[4]))
assert kind == "application/vnd.in-toto+json", kind
print("verified", len(payload))
"#;
    let out = Command::new(&python)
        .args([
            "-c",
            script,
            text(&stack.trust_config()),
            text(&ours),
            &stack.identity,
            &stack.url,
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "sigstore-python verify_dsse: {}",
        explain(&out)
    );
    let out = Command::new(&python)
        .args([
            "-c",
            script,
            text(&stack.trust_config()),
            text(&ours),
            "mallory@example.com",
            &stack.url,
        ])
        .output()
        .expect("run python");
    assert!(
        !out.status.success(),
        "sigstore-python must refuse a wrong identity"
    );

    // model_signing signs against the same stack (the fixture behaves like the real
    // services), and modelsign verifies the result.
    let theirs = dir.path().join("theirs.sig");
    let out = Command::new(&model_signing)
        .args([
            "sign",
            "sigstore",
            text(&model),
            "--signature",
            text(&theirs),
        ])
        .args(["--trust_config", text(&stack.trust_config())])
        .args(["--identity_token", &stack.identity_token()])
        .output()
        .expect("run model_signing");
    assert!(
        out.status.success(),
        "model_signing sign: {}",
        explain(&out)
    );
    let out = Command::new(&model_signing)
        .args([
            "verify",
            "sigstore",
            text(&model),
            "--signature",
            text(&theirs),
        ])
        .args(["--trust_config", text(&stack.trust_config())])
        .args([
            "--identity",
            &stack.identity,
            "--identity_provider",
            &stack.url,
        ])
        .output()
        .expect("run model_signing");
    assert!(
        out.status.success(),
        "model_signing verify of its own: {}",
        explain(&out)
    );
    let ok = verify(&stack, &model, &theirs, &stack.identity, &stack.url);
    assert!(
        ok.status.success(),
        "modelsign verify of model_signing's: {}",
        explain(&ok)
    );
}
