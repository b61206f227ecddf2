//! `modelsign key generate`: key pairs that modelsign, model_signing 1.1.1 and OpenSSL all
//! use, written safely (0600 private key, no overwriting without --force).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use test_support::{assert_ok, explain, text};

const MODELSIGN: &str = env!("CARGO_BIN_EXE_modelsign");

fn modelsign(args: &[&str]) -> Output {
    Command::new(MODELSIGN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run modelsign")
}

/// `key generate --private-key <dir>/<name>.pem` plus `extra`; returns the output and the
/// private and default public key paths.
fn generate(dir: &Path, name: &str, extra: &[&str]) -> (Output, PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let mut args = vec!["key", "generate", "--private-key", text(&private)];
    args.extend_from_slice(extra);
    (
        modelsign(&args),
        private.clone(),
        private.with_extension("pub"),
    )
}

fn contents(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn sign_key(model: &Path, private: &Path, signature: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sign", "key", text(model), "--private-key", text(private)];
    args.extend_from_slice(&["--signature", text(signature)]);
    args.extend_from_slice(extra);
    modelsign(&args)
}

fn verify_key(model: &Path, public: &Path, signature: &Path) -> Output {
    modelsign(&[
        "verify",
        "key",
        text(model),
        "--public-key",
        text(public),
        "--signature",
        text(signature),
    ])
}

#[test]
fn generated_key_pairs_sign_and_verify_on_every_curve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = test_support::two_file_model(dir.path());
    for (curve, name) in [("p256", "P-256"), ("p384", "P-384"), ("p521", "P-521")] {
        let (out, private, public) = generate(dir.path(), curve, &["--curve", curve, "--json"]);
        assert_ok(&out);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(report["curve"], name, "{report}");
        assert_eq!(report["encrypted"], false, "{report}");
        assert_eq!(mode(&private), 0o600, "{curve} private key mode");
        assert_eq!(mode(&public), 0o644, "{curve} public key mode");
        assert!(contents(&private).starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(contents(&public).starts_with("-----BEGIN PUBLIC KEY-----\n"));

        let signature = dir.path().join(format!("{curve}.sig"));
        assert_ok(&sign_key(&model, &private, &signature, &[]));
        assert_ok(&verify_key(&model, &public, &signature));
        let bundle = contents(&signature);
        assert!(
            bundle.contains(report["public_key_hint"].as_str().expect("hint")),
            "the signature's hint is the one reported: {bundle}"
        );
        // The other curves' public keys do not verify it.
        let (_, _, other) = generate(dir.path(), &format!("other-{curve}"), &[]);
        assert_eq!(
            verify_key(&model, &other, &signature).status.code(),
            Some(1)
        );
    }
}

#[test]
fn an_encrypted_key_signs_only_with_its_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = test_support::two_file_model(dir.path());
    let password_file = dir.path().join("password");
    fs::write(&password_file, "correct horse\n").expect("write");
    let signature = dir.path().join("model.sig");
    let ways: [&[&str]; 3] = [
        &["--password-file", text(&password_file)],
        &["--password", "correct horse"],
        &["--password-env", "NEW_KEY_PASSWORD"],
    ];
    for (i, way) in ways.into_iter().enumerate() {
        let private = dir.path().join(format!("enc{i}.pem"));
        let out = Command::new(MODELSIGN)
            .args(["key", "generate", "--private-key", text(&private)])
            .args(way)
            .env("NEW_KEY_PASSWORD", "correct horse")
            .output()
            .expect("run modelsign");
        assert_ok(&out);
        assert!(
            contents(&private).starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{way:?}"
        );
        let without = sign_key(&model, &private, &signature, &[]);
        assert_eq!(without.status.code(), Some(2), "{}", explain(&without));
        assert!(String::from_utf8_lossy(&without.stderr).contains("encrypted"));
        let wrong = sign_key(&model, &private, &signature, &["--password", "wrong"]);
        assert_eq!(wrong.status.code(), Some(2), "{}", explain(&wrong));
        assert!(!signature.exists(), "no signature without the password");
        assert_ok(&sign_key(
            &model,
            &private,
            &signature,
            &["--password-file", text(&password_file)],
        ));
        assert_ok(&verify_key(
            &model,
            &private.with_extension("pub"),
            &signature,
        ));
        fs::remove_file(&signature).expect("rm");
    }

    // A bare --password asks on the terminal; without one nothing is written.
    let (out, private, public) = generate(dir.path(), "prompt", &["--password"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-file"));
    assert!(!private.exists() && !public.exists());
    let empty = dir.path().join("empty");
    fs::write(&empty, "\n").expect("write");
    let (out, private, _) = generate(dir.path(), "empty", &["--password-file", text(&empty)]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(!private.exists());
}

#[test]
fn existing_key_files_are_kept_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, private, public) = generate(dir.path(), "key", &[]);
    assert_ok(&out);
    let (old_private, old_public) = (
        fs::read(&private).expect("r"),
        fs::read(&public).expect("r"),
    );
    let (again, _, _) = generate(dir.path(), "key", &[]);
    assert_eq!(again.status.code(), Some(2), "{}", explain(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(fs::read(&private).expect("r"), old_private);
    assert_eq!(fs::read(&public).expect("r"), old_public);

    // Only the public key in the way: the private key is not written either.
    let lone_private = dir.path().join("lone.pem");
    fs::write(lone_private.with_extension("pub"), "keep me").expect("write");
    let out = modelsign(&["key", "generate", "--private-key", text(&lone_private)]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(!lone_private.exists());
    assert_eq!(contents(&lone_private.with_extension("pub")), "keep me");

    let (forced, _, _) = generate(dir.path(), "key", &["--force"]);
    assert_ok(&forced);
    assert_ne!(fs::read(&private).expect("r"), old_private);
    assert_eq!(mode(&private), 0o600);

    // The public key may go elsewhere, but not onto the private key.
    let elsewhere = dir.path().join("signer.pub");
    let (out, _, default_public) =
        generate(dir.path(), "named", &["--public-key", text(&elsewhere)]);
    assert_ok(&out);
    assert!(elsewhere.is_file() && !default_public.exists());
    let same = dir.path().join("same.pem");
    let out = modelsign(&[
        "key",
        "generate",
        "--private-key",
        text(&same),
        "--public-key",
        text(&dir.path().join(".").join("same.pem")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(!same.exists());
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// The public key OpenSSL derives from a private key, as PEM.
fn openssl_public_key(private: &Path, password: Option<&str>) -> String {
    let mut command = Command::new("openssl");
    command.args(["pkey", "-pubout", "-in"]).arg(private);
    if let Some(password) = password {
        command.args(["-passin", &format!("pass:{password}")]);
    }
    let out = command.output().expect("run openssl");
    assert_ok(&out);
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn model_signing_and_openssl_use_generated_keys() {
    let Some(python) = test_support::venv_python() else {
        return;
    };
    let Some(cli) = test_support::model_signing_cli() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let model = test_support::two_file_model(dir.path());
    let password = "open sesame";
    let password_file = dir.path().join("password");
    fs::write(&password_file, password).expect("write");
    for (name, encrypted) in [("plain", false), ("encrypted", true)] {
        let extra: &[&str] = if encrypted {
            &["--curve", "p384", "--password-file", text(&password_file)]
        } else {
            &[]
        };
        let (out, private, public) = generate(dir.path(), name, extra);
        assert_ok(&out);
        let pass = encrypted.then_some(password);
        assert_eq!(
            openssl_public_key(&private, pass),
            contents(&public),
            "OpenSSL derives the public key we wrote"
        );
        let out = Command::new("openssl")
            .args(["pkey", "-pubin", "-noout", "-in"])
            .arg(&public)
            .output()
            .expect("run openssl");
        assert_ok(&out);

        // model_signing signs with it; its CLI's --password is broken (it passes text
        // where bytes are needed), so the encrypted key goes through its Python API.
        let signature = dir.path().join(format!("{name}.sig"));
        let out = if encrypted {
            Command::new(&python)
                .arg("-c")
                .arg(
                    "import sys; from model_signing import signing, hashing\n\
                     signing.Config().use_elliptic_key_signer(private_key=sys.argv[1], \
                     password=sys.argv[2].encode()).sign(sys.argv[3], sys.argv[4])",
                )
                .args([text(&private), password, text(&model), text(&signature)])
                .output()
                .expect("run python")
        } else {
            Command::new(&cli)
                .args(["sign", "key", text(&model), "--private_key", text(&private)])
                .args(["--signature", text(&signature)])
                .output()
                .expect("run model_signing")
        };
        assert_ok(&out);
        assert_ok(&verify_key(&model, &public, &signature));
        let out = Command::new(&cli)
            .args(["verify", "key", text(&model), "--public_key", text(&public)])
            .args(["--signature", text(&signature)])
            .output()
            .expect("run model_signing");
        assert_ok(&out);
    }
}
