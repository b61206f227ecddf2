use std::fs;
use std::path::PathBuf;
use std::process::Command;

use super::*;

fn vector(rel: &str) -> PathBuf {
    test_support::vector(rel)
}

/// Runs `openssl` to make a key the test needs (openssl is installed by scripts/test.sh).
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hints_match_the_python_reference() {
    // Values computed by model_signing (see shared/reference and vectors READMEs).
    let p384 = PublicKey::read_pem_file(&vector(
        "model-transparency/keys/certificate/signing-key-pub.pem",
    ))
    .expect("P-384 key with a text preamble");
    assert_eq!(p384.curve(), Curve::P384);
    assert_eq!(
        p384.hint(),
        "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"
    );
    let p256 =
        PublicKey::read_pem_file(&vector("reference-generated/keys/p256.pub")).expect("p256");
    assert_eq!(
        p256.hint(),
        "e8d136277a36bb9383e99b035c67f94b4a15d56be2bd501f82943c56a9d6bb3d"
    );
    let p521 =
        PublicKey::read_pem_file(&vector("reference-generated/keys/p521.pub")).expect("p521");
    assert_eq!(
        p521.hint(),
        "ec975d937a133dad06cffed5009a9837c00dd726a9a56885376592a3ec3ad3aa"
    );
}

#[test]
fn private_keys_load_from_sec1_and_pkcs8_and_match_their_public_keys() {
    let sec1 = PrivateKey::read_pem_file(
        &vector("model-transparency/keys/certificate/signing-key.pem"),
        None,
    )
    .expect("SEC1 key with a text preamble");
    assert_eq!(
        sec1.public_key().hint(),
        "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"
    );
    for (curve, name) in [(Curve::P256, "p256"), (Curve::P521, "p521")] {
        let key = PrivateKey::read_pem_file(
            &vector(&format!("reference-generated/keys/{name}.pem")),
            None,
        )
        .expect("PKCS#8 key");
        assert_eq!(key.curve(), curve);
        let public =
            PublicKey::read_pem_file(&vector(&format!("reference-generated/keys/{name}.pub")))
                .expect("pub");
        assert_eq!(key.public_key(), public);
    }
}

#[test]
fn signatures_verify_only_with_the_right_key_and_message() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let key = PrivateKey::generate(curve).expect("generate");
        let other = PrivateKey::generate(curve).expect("generate");
        let sig = key.sign(b"message").expect("sign");
        let public = key.public_key();
        assert!(
            public.verify(b"message", &sig, SignatureHash::CurveDefault),
            "{curve}"
        );
        assert!(
            !public.verify(b"messagE", &sig, SignatureHash::CurveDefault),
            "{curve}"
        );
        assert!(
            !other
                .public_key()
                .verify(b"message", &sig, SignatureHash::CurveDefault),
            "{curve}"
        );
        // A DER signature: SEQUENCE of two INTEGERs.
        assert_eq!(sig[0], 0x30);
        // RFC 6979 nonces on P-256 and P-384: the same message gives the same signature.
        let again = key.sign(b"message").expect("sign");
        assert_eq!(sig == again, curve != Curve::P521, "{curve} determinism");
        let reloaded = PrivateKey::from_pem(key.to_pkcs8_pem().expect("pem").as_bytes(), None)
            .expect("reload");
        assert_eq!(reloaded.public_key(), public);
        assert_eq!(
            PublicKey::from_pem(public.to_pem().as_bytes()).expect("pem"),
            public
        );
    }
}

#[test]
fn encrypted_pkcs8_keys_need_the_right_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "plain.pem",
        ],
    );
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "plain.pem",
            "-out",
            "enc.pem",
            "-passout",
            "pass:s3cret",
        ],
    );
    let text = fs::read(dir.path().join("enc.pem")).expect("read");
    assert!(PrivateKey::pem_is_encrypted(&text));
    assert!(matches!(
        PrivateKey::from_pem(&text, None),
        Err(KeyError::PasswordRequired)
    ));
    assert!(matches!(
        PrivateKey::from_pem(&text, Some(b"wrong")),
        Err(KeyError::Decrypt(_))
    ));
    let key = PrivateKey::from_pem(&text, Some(b"s3cret")).expect("decrypt");
    let plain = PrivateKey::read_pem_file(&dir.path().join("plain.pem"), None).expect("plain");
    assert_eq!(key.public_key(), plain.public_key());
}

#[test]
fn other_key_types_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
    );
    openssl(
        dir.path(),
        &["genpkey", "-algorithm", "ED25519", "-out", "ed.pem"],
    );
    openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "secp256k1",
            "-genkey",
            "-noout",
            "-out",
            "k1.pem",
        ],
    );
    openssl(
        dir.path(),
        &["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub"],
    );
    let expect_unsupported = |result: Result<PrivateKey, KeyError>, what: &str| match result {
        Err(KeyError::UnsupportedKeyType(name)) => assert!(name.contains(what), "{name}"),
        other => panic!("{what}: expected unsupported key type, got {other:?}"),
    };
    expect_unsupported(
        PrivateKey::read_pem_file(&dir.path().join("rsa.pem"), None),
        "RSA",
    );
    expect_unsupported(
        PrivateKey::read_pem_file(&dir.path().join("ed.pem"), None),
        "Ed25519",
    );
    expect_unsupported(
        PrivateKey::read_pem_file(&dir.path().join("k1.pem"), None),
        "secp256k1",
    );
    let err = PublicKey::read_pem_file(&dir.path().join("rsa.pub")).expect_err("RSA public key");
    assert!(
        err.to_string().contains("unsupported key type: RSA"),
        "{err}"
    );
}

#[test]
fn garbage_and_mismatched_pem_give_clear_errors() {
    assert!(matches!(
        PublicKey::from_pem(b"hello"),
        Err(KeyError::NoPem(_))
    ));
    let private = PrivateKey::generate(Curve::P256)
        .expect("generate")
        .to_pkcs8_pem()
        .expect("pem");
    let err = PublicKey::from_pem(private.as_bytes()).expect_err("private key given as public");
    assert!(err.to_string().contains("private key"), "{err}");
    let missing = PublicKey::read_pem_file(Path::new("/nonexistent.pub")).expect_err("missing");
    assert!(matches!(missing, KeyError::Io { .. }));
}
