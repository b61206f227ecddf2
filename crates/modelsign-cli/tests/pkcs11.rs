//! Signing with keys held in a PKCS#11 token, on SoftHSM2: `sign pkcs11-key` and `sign
//! pkcs11-certificate` on P-256, P-384 and P-521 keys (one of them generated on the token),
//! verified by modelsign and by model_signing 1.1.1; `pkcs11 export-public-key`; and each
//! way a token, PIN or key can be wrong, with its message and exit status.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use test_support::{assert_ok, explain, text, two_file_model, SoftHsm};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

/// modelsign with the token's configuration and stdin closed (so never a PIN prompt).
fn modelsign(hsm: &SoftHsm, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("SOFTHSM2_CONF", hsm.conf())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run modelsign")
}

fn sign_key(hsm: &SoftHsm, model: &Path, signature: &Path, uri: &str) -> Output {
    modelsign(
        hsm,
        &[
            "sign",
            "pkcs11-key",
            text(model),
            "--signature",
            text(signature),
            "--pkcs11-uri",
            uri,
        ],
    )
}

fn export(hsm: &SoftHsm, uri: &str, out: &Path) -> Output {
    modelsign(
        hsm,
        &["pkcs11", "export-public-key", uri, "--output", text(out)],
    )
}

fn verify_key(hsm: &SoftHsm, model: &Path, signature: &Path, public_key: &Path) -> Output {
    modelsign(
        hsm,
        &[
            "verify",
            "key",
            text(model),
            "--signature",
            text(signature),
            "--public-key",
            text(public_key),
        ],
    )
}

fn model_signing(args: &[&str]) -> Option<Output> {
    let cli = test_support::model_signing_cli()?;
    Some(
        Command::new(cli)
            .args(args)
            .output()
            .expect("run model_signing"),
    )
}

fn payload_hint(signature: &Path) -> String {
    let bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(signature).expect("read signature")).expect("json");
    bundle["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .expect("a key hint")
        .to_owned()
}

#[test]
fn pkcs11_key_signatures_verify_with_modelsign_and_model_signing_on_every_curve() {
    let hsm = SoftHsm::create();
    let work = tempfile::tempdir().unwrap();
    let model = two_file_model(work.path());
    // p256/p384/p521 were imported (their public PEM is known independently); `onboard`
    // was generated on the token, so only the token knows its public key.
    for key in ["p256", "p384", "p521", "onboard"] {
        let signature = work.path().join(format!("{key}.sig"));
        let exported = work.path().join(format!("{key}-exported.pub"));
        assert_ok(&sign_key(&hsm, &model, &signature, &hsm.uri(key)));
        assert_ok(&export(&hsm, &hsm.uri(key), &exported));
        if key != "onboard" {
            assert_eq!(
                fs::read_to_string(&exported).unwrap(),
                fs::read_to_string(hsm.file(&format!("{key}.pub"))).unwrap(),
                "{key}: the exported PEM is the key's public key, byte for byte as OpenSSL writes it"
            );
        }
        // The hint is model_signing's: SHA-256 of the public key's PEM.
        let pem = fs::read(&exported).unwrap();
        assert_eq!(payload_hint(&signature), sha256_hex(&pem), "{key}");

        assert_ok(&verify_key(&hsm, &model, &signature, &exported));
        if let Some(out) = model_signing(&[
            "verify",
            "key",
            text(&model),
            "--signature",
            text(&signature),
            "--public_key",
            text(&exported),
        ]) {
            assert!(
                out.status.success(),
                "model_signing, {key}: {}",
                explain(&out)
            );
        }
        // Another key's public key does not verify it.
        let other = hsm.file(if key == "p256" {
            "p384.pub"
        } else {
            "p256.pub"
        });
        let out = verify_key(&hsm, &model, &signature, &other);
        assert_eq!(out.status.code(), Some(1), "{key}: {}", explain(&out));
    }

    // A changed byte fails, for modelsign and model_signing alike.
    let signature = work.path().join("p256.sig");
    fs::write(model.join("weights/w.bin"), vec![8u8; 100_000]).unwrap();
    let out = verify_key(&hsm, &model, &signature, &hsm.file("p256.pub"));
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("weights/w.bin"));
    if let Some(out) = model_signing(&[
        "verify",
        "key",
        text(&model),
        "--signature",
        text(&signature),
        "--public_key",
        text(&hsm.file("p256.pub")),
    ]) {
        assert!(
            !out.status.success(),
            "model_signing accepted a changed model"
        );
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    base16ct::lower::encode_string(&sha2::Sha256::digest(data))
}

#[test]
fn pkcs11_certificate_signatures_verify_with_modelsign_and_model_signing() {
    let hsm = SoftHsm::create();
    let work = tempfile::tempdir().unwrap();
    let model = two_file_model(work.path());
    let signature = work.path().join("cert.sig");
    let root = hsm.file("chain/root.pem");
    let out = modelsign(
        &hsm,
        &[
            "sign",
            "pkcs11-certificate",
            text(&model),
            "--signature",
            text(&signature),
            "--pkcs11-uri",
            // By id this time: %01 is p256.
            "pkcs11:token=modelsign-test;id=%01?module-name=softhsm2&pin-value=123456",
            "--signing-certificate",
            text(&hsm.file("chain/p256-leaf.pem")),
            "--certificate-chain",
            text(&hsm.file("chain/intermediate.pem")),
        ],
    );
    assert_ok(&out);
    let bundle: serde_json::Value = serde_json::from_slice(&fs::read(&signature).unwrap()).unwrap();
    let chain = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array()
        .expect("a certificate chain");
    assert_eq!(chain.len(), 2, "leaf and intermediate");

    let verify = |anchor: &Path| {
        modelsign(
            &hsm,
            &[
                "verify",
                "certificate",
                text(&model),
                "--signature",
                text(&signature),
                "--certificate-chain",
                text(anchor),
            ],
        )
    };
    assert_ok(&verify(&root));
    if let Some(out) = model_signing(&[
        "verify",
        "certificate",
        text(&model),
        "--signature",
        text(&signature),
        "--certificate_chain",
        text(&root),
    ]) {
        assert!(out.status.success(), "model_signing: {}", explain(&out));
    }
    // A root that did not issue the chain is refused.
    let stranger = test_support::vector("oms-conformance/assets/keys/certificate/ca-cert.pem");
    let out = verify(&stranger);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
}

#[test]
fn a_certificate_of_another_key_is_refused_before_anything_is_written() {
    let hsm = SoftHsm::create();
    let work = tempfile::tempdir().unwrap();
    let model = two_file_model(work.path());
    let signature = work.path().join("cert.sig");
    let out = modelsign(
        &hsm,
        &[
            "sign",
            "pkcs11-certificate",
            text(&model),
            "--signature",
            text(&signature),
            "--pkcs11-uri",
            &hsm.uri("p384"),
            "--signing-certificate",
            text(&hsm.file("chain/p256-leaf.pem")),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match"),
        "{}",
        explain(&out)
    );
    assert!(!signature.exists());
}

/// Signs with `uri`, expecting exit 2, no signature, and every one of `expected` in the
/// message.
fn assert_refused(hsm: &SoftHsm, uri: &str, expected: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let model = two_file_model(work.path());
    let signature = work.path().join("model.sig");
    let out = sign_key(hsm, &model, &signature, uri);
    assert_eq!(out.status.code(), Some(2), "{uri}: {}", explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for part in expected {
        assert!(
            stderr.contains(part),
            "{uri}: expected '{part}' in: {stderr}"
        );
    }
    assert!(!stderr.contains("123456"), "the PIN leaked: {stderr}");
    assert!(!signature.exists(), "{uri}: a signature was written");
    let leftovers: Vec<_> = fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "model")
        .collect();
    assert!(leftovers.is_empty(), "{uri}: left behind {leftovers:?}");
}

#[test]
fn every_unusable_module_token_pin_or_key_is_named() {
    let hsm = SoftHsm::create();
    let token = "pkcs11:token=modelsign-test";
    // Module not found: says where it looked.
    assert_refused(
        &hsm,
        &format!("{token};object=p256?module-name=nothsm&pin-value=123456"),
        &[
            "PKCS#11 module not found",
            "no module 'nothsm'",
            "/usr/lib/pkcs11",
        ],
    );
    assert_refused(
        &hsm,
        &format!("{token};object=p256?pin-value=123456"),
        &["names no module", "module-name="],
    );
    // A file that is not a PKCS#11 module.
    assert_refused(
        &hsm,
        &format!(
            "{token};object=p256?module-path={}&pin-value=123456",
            text(&hsm.file("p256.pub"))
        ),
        &["cannot load PKCS#11 module", "p256.pub"],
    );
    // The module path as a folder, searched by name: works.
    let folder = hsm.module_path().parent().unwrap().to_path_buf();
    let work = tempfile::tempdir().unwrap();
    let model = two_file_model(work.path());
    assert_ok(&sign_key(
        &hsm,
        &model,
        &work.path().join("ok.sig"),
        &format!(
            "{token};object=p256?module-path={}&module-name=softhsm2&pin-value=123456",
            text(&folder)
        ),
    ));
    // Token not found: lists the tokens there are.
    assert_refused(
        &hsm,
        "pkcs11:token=production;object=p256?module-name=softhsm2&pin-value=123456",
        &[
            "no PKCS#11 token labelled 'production'",
            "'modelsign-test' in slot",
            "'other-token' in slot",
        ],
    );
    assert_refused(
        &hsm,
        "pkcs11:object=p256?module-name=softhsm2&pin-value=123456",
        &["token= or slot-id="],
    );
    // Wrong PIN: refused once, not retried; the right PIN still works afterwards.
    assert_refused(
        &hsm,
        &format!("{token};object=p256?module-name=softhsm2&pin-value=000000"),
        &["wrong PIN for token 'modelsign-test'", "not retried"],
    );
    // No PIN and no terminal to ask on.
    assert_refused(
        &hsm,
        &format!("{token};object=p256?module-name=softhsm2"),
        &["token 'modelsign-test' needs a PIN", "pin-source="],
    );
    // Key not found: lists the keys there are.
    assert_refused(
        &hsm,
        &format!("{token};object=release-key?module-name=softhsm2&pin-value=123456"),
        &[
            "no private key with object='release-key'",
            "object='p256' id=01",
            "object='p521' id=03",
        ],
    );
    // Ambiguous key: lists the candidates; adding the id picks one.
    assert_refused(
        &hsm,
        &hsm.uri("twin"),
        &[
            "2 private keys match object='twin'",
            "id=21",
            "id=22",
            "add id=",
        ],
    );
    assert_ok(&sign_key(
        &hsm,
        &model,
        &work.path().join("twin.sig"),
        "pkcs11:token=modelsign-test;object=twin;id=%22?module-name=softhsm2&pin-value=123456",
    ));
    // Not an EC key.
    assert_refused(
        &hsm,
        &hsm.uri("rsa"),
        &["object='rsa' id=10", "is not an EC key", "key type RSA"],
    );
    // A URI that names no key, and one that is not a URI.
    assert_refused(
        &hsm,
        "pkcs11:token=modelsign-test?module-name=softhsm2&pin-value=123456",
        &["names no key", "object="],
    );
    assert_refused(&hsm, "token=modelsign-test", &["must start with 'pkcs11:'"]);
    // SoftHSM without its configuration.
    let out = Command::new(BIN)
        .args(["sign", "pkcs11-key", text(&model), "--signature"])
        .arg(work.path().join("noconf.sig"))
        .args(["--pkcs11-uri", &hsm.uri("p256")])
        .env("SOFTHSM2_CONF", work.path().join("missing.conf"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SOFTHSM2_CONF"),
        "{}",
        explain(&out)
    );
}

#[test]
fn the_pin_can_come_from_a_file() {
    let hsm = SoftHsm::create();
    let work = tempfile::tempdir().unwrap();
    let model = two_file_model(work.path());
    let pin = work.path().join("pin");
    fs::write(&pin, "123456").unwrap();
    let uri = format!(
        "pkcs11:token=modelsign-test;object=p384?module-name=softhsm2&pin-source={}",
        text(&pin)
    );
    let signature = work.path().join("model.sig");
    assert_ok(&sign_key(&hsm, &model, &signature, &uri));
    assert_ok(&verify_key(&hsm, &model, &signature, &hsm.file("p384.pub")));

    // A PIN file written with `echo` ends in a newline, which is part of the PIN (as in
    // model_signing): the error says so.
    fs::write(&pin, "123456\n").unwrap();
    assert_refused(&hsm, &uri, &["wrong PIN", "trailing newline"]);
    let missing =
        "pkcs11:token=modelsign-test;object=p384?module-name=softhsm2&pin-source=/nonexistent/pin";
    assert_refused(
        &hsm,
        missing,
        &["cannot read the PIN from '/nonexistent/pin'"],
    );
}

#[test]
fn export_public_key_prints_pem_without_logging_in() {
    let hsm = SoftHsm::create();
    let out = modelsign(
        &hsm,
        &[
            "pkcs11",
            "export-public-key",
            "pkcs11:token=modelsign-test;object=p521?module-name=softhsm2",
        ],
    );
    assert_ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        fs::read_to_string(hsm.file("p521.pub")).unwrap()
    );
    let out = modelsign(
        &hsm,
        &[
            "pkcs11",
            "export-public-key",
            "pkcs11:token=modelsign-test;object=absent?module-name=softhsm2",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no public key for object='absent'"),
        "{}",
        explain(&out)
    );
}

#[test]
fn model_cards_sign_with_token_keys() {
    let hsm = SoftHsm::create();
    let work = tempfile::tempdir().unwrap();
    let model = two_file_model(work.path());
    let card = work.path().join("card.yaml");
    fs::write(&card, "name: model\nmetrics:\n- metric: f1\n  value: 0.8\n").unwrap();
    let card_sig = work.path().join("model-card.sig");
    assert_ok(&modelsign(
        &hsm,
        &[
            "card",
            "sign",
            "pkcs11-key",
            text(&model),
            "--card",
            text(&card),
            "--signature",
            text(&card_sig),
            "--pkcs11-uri",
            &hsm.uri("p384"),
        ],
    ));
    let verify = |public_key: &Path| {
        modelsign(
            &hsm,
            &[
                "card",
                "verify",
                "key",
                text(&model),
                "--card-signature",
                text(&card_sig),
                "--public-key",
                text(public_key),
                "--require",
                "f1>=0.8",
            ],
        )
    };
    assert_ok(&verify(&hsm.file("p384.pub")));
    let out = verify(&hsm.file("p256.pub"));
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
}
