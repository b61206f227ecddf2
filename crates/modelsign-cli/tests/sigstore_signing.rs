//! Keyless signing end to end against a loopback Sigstore stack (Fulcio, Rekor v1, TSA,
//! OIDC issuer from the Sigstore project's @sigstore/mock handlers): `modelsign sign
//! sigstore`, then verification by modelsign, by the Python `sigstore` package and by
//! `model_signing` 1.1.1; and the reference signing against the same stack, which is what
//! shows the stack behaves like the real services.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::{explain, text, two_file_model, SigstoreStack};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run modelsign")
}

fn sign(stack: &SigstoreStack, model: &Path, signature: &Path) -> Output {
    sign_with(stack, &stack.trust_config(), model, signature)
}

fn sign_with(stack: &SigstoreStack, trust_config: &Path, model: &Path, signature: &Path) -> Output {
    let token_file = stack.identity_token_file();
    let token = ["--identity-token-file", text(&token_file)];
    sign_sigstore(model, signature, trust_config, &token)
}

/// `sign sigstore` with stdin closed (no interactive sign-in), plus `extra` flags.
fn sign_sigstore(model: &Path, signature: &Path, trust_config: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args([
            "sign",
            "sigstore",
            text(model),
            "--signature",
            text(signature),
        ])
        .args(["--trust-config", text(trust_config)])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run modelsign")
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

/// A running stack, a temp dir holding a two-file model, and where its signature goes.
fn setup() -> (SigstoreStack, tempfile::TempDir, PathBuf, PathBuf) {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = two_file_model(dir.path());
    let signature = dir.path().join("model.sig");
    (stack, dir, model, signature)
}

#[test]
fn keyless_sign_then_verify_and_every_forgery_fails() {
    let (stack, _dir, model, signature) = setup();
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
    let (stack, dir, model, signature) = setup();
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
    let none = sign_sigstore(
        &model,
        &dir.path().join("x.sig"),
        &stack.trust_config(),
        &["--no-ambient-credentials"],
    );
    assert_eq!(none.status.code(), Some(2), "{}", explain(&none));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--identity-token"));
    assert!(!dir.path().join("x.sig").exists());

    // A token the CA refuses (not a JWT): exit 2 before anything is sent.
    let garbage = sign_sigstore(
        &model,
        &dir.path().join("y.sig"),
        &stack.trust_config(),
        &["--identity-token", "not-a-jwt"],
    );
    assert_eq!(garbage.status.code(), Some(2), "{}", explain(&garbage));
    assert!(!dir.path().join("y.sig").exists());
}

#[test]
fn unreachable_services_fail_with_the_service_named() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = two_file_model(dir.path());
    // The stack's trust config, pointing at a port nothing listens on.
    let config = fs::read_to_string(stack.trust_config()).expect("read");
    let dead = config.replace(&stack.url, "http://127.0.0.1:9");
    let dead_config = dir.path().join("dead.json");
    fs::write(&dead_config, dead).expect("write");
    let signature = dir.path().join("model.sig");
    let out = sign_with(&stack, &dead_config, &model, &signature);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Fulcio"),
        "{}",
        explain(&out)
    );
    assert!(!signature.exists());
}

fn model_signing_verify(
    cli: &Path,
    stack: &SigstoreStack,
    model: &Path,
    signature: &Path,
) -> Output {
    Command::new(cli)
        .args([
            "verify",
            "sigstore",
            text(model),
            "--signature",
            text(signature),
        ])
        .args(["--trust_config", text(&stack.trust_config())])
        .args([
            "--identity",
            &stack.identity,
            "--identity_provider",
            &stack.url,
        ])
        .output()
        .expect("run model_signing")
}

#[test]
fn reference_implementations_verify_our_bundles_and_we_verify_theirs() {
    let Some(python) = test_support::venv_python() else {
        return;
    };
    let model_signing = test_support::model_signing_cli().expect("model_signing");
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = two_file_model(dir.path());
    let ours = dir.path().join("ours.sig");
    let out = sign(&stack, &model, &ours);
    assert!(out.status.success(), "{}", explain(&out));

    // model_signing 1.1.1 verifies our keyless bundle.
    let out = model_signing_verify(&model_signing, &stack, &model, &ours);
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
    let verify_dsse = |identity: &str| {
        Command::new(&python)
            .args(["-c", script, text(&stack.trust_config()), text(&ours)])
            .args([identity, stack.url.as_str()])
            .output()
            .expect("run python")
    };
    let out = verify_dsse(&stack.identity);
    assert!(
        out.status.success(),
        "sigstore-python verify_dsse: {}",
        explain(&out)
    );
    let out = verify_dsse("mallory@example.com");
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
    let out = model_signing_verify(&model_signing, &stack, &model, &theirs);
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

#[test]
fn a_signing_config_without_a_timestamp_authority_signs_with_the_log_time() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = two_file_model(dir.path());
    let mut config: serde_json::Value =
        serde_json::from_slice(&fs::read(stack.trust_config()).expect("read")).expect("json");
    config["signingConfig"]["tsaUrls"] = serde_json::json!([]);
    let no_tsa = dir.path().join("no-tsa.json");
    fs::write(&no_tsa, config.to_string()).expect("write");
    let signature = dir.path().join("model.sig");
    let out = sign_with(&stack, &no_tsa, &model, &signature);
    assert!(out.status.success(), "{}", explain(&out));
    let bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(&signature).expect("read")).expect("json");
    let timestamps =
        &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert!(
        timestamps.as_array().is_none_or(|t| t.is_empty()),
        "{timestamps}"
    );
    let ok = verify(&stack, &model, &signature, &stack.identity, &stack.url);
    assert!(ok.status.success(), "{}", explain(&ok));
}

#[test]
fn a_certificate_authority_refusal_is_reported_with_its_message() {
    use base64::Engine as _;
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let model = two_file_model(dir.path());
    // A well-formed token naming this stack's issuer, but not signed by it.
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let token = format!(
        "{}.{}.{}",
        b64(serde_json::json!({"alg": "ES256", "typ": "JWT"})),
        b64(
            serde_json::json!({"iss": stack.url, "sub": "no-email", "aud": "sigstore", "iat": now, "exp": now + 600})
        ),
        b64(serde_json::json!("not a real signature")),
    );
    let signature = dir.path().join("model.sig");
    let out = sign_sigstore(
        &model,
        &signature,
        &stack.trust_config(),
        &["--identity-token", &token],
    );
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("certificate authority (Fulcio) refused"),
        "{stderr}"
    );
    assert!(!signature.exists());
}

/// A model card signed keylessly: `card sign sigstore`, then `card verify sigstore` with the
/// signer's identity; a wrong identity fails.
#[test]
fn keyless_model_card_round_trip() {
    let (stack, dir, model, _) = setup();
    let card = dir.path().join("card.yaml");
    fs::write(
        &card,
        "name: model\nlicense: MIT\nmetrics:\n- metric: accuracy\n  value: 0.95\n  dataset: holdout\n  split: test\n",
    )
    .expect("write card");
    let card_sig = dir.path().join("model-card.sig");
    let token = stack.identity_token_file();
    let out = run(&[
        "card",
        "sign",
        "sigstore",
        text(&model),
        "--card",
        text(&card),
        "--signature",
        text(&card_sig),
        "--trust-config",
        text(&stack.trust_config()),
        "--identity-token-file",
        text(&token),
    ]);
    assert!(out.status.success(), "card sign: {}", explain(&out));
    let verify = |identity: &str| {
        run(&[
            "card",
            "verify",
            "sigstore",
            text(&model),
            "--card-signature",
            text(&card_sig),
            "--trust-config",
            text(&stack.trust_config()),
            "--identity",
            identity,
            "--identity-provider",
            &stack.url,
            "--require",
            "accuracy@holdout:test>=0.9",
        ])
    };
    let ok = verify(&stack.identity);
    assert!(ok.status.success(), "card verify: {}", explain(&ok));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        stdout.contains(&format!("signed by {}", stack.identity)),
        "{stdout}"
    );
    assert!(
        stdout.contains("pass accuracy@holdout:test>=0.9"),
        "{stdout}"
    );
    let wrong = verify("mallory@example.com");
    assert_eq!(wrong.status.code(), Some(1), "{}", explain(&wrong));
}
