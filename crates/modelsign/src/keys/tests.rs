use std::fs;
use std::path::PathBuf;

use super::*;
use test_support::certs::openssl;

fn vector(rel: &str) -> PathBuf {
    test_support::vector(rel)
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
            "plain.key",
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
            "plain.key",
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
    let plain = PrivateKey::read_pem_file(&dir.path().join("plain.key"), None).expect("plain");
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

/// An `ENCRYPTED PRIVATE KEY` PEM whose key derivation is `kdf`. Its ciphertext is junk:
/// costs are checked before anything is decrypted.
fn encrypted_key_pem(kdf: pkcs8::pkcs5::pbes2::Kdf<'_>) -> Vec<u8> {
    use pkcs8::pkcs5::{pbes2, EncryptionScheme};
    let iv = [7u8; 16];
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: EncryptionScheme::Pbes2(pbes2::Parameters {
            kdf,
            encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
        }),
        encrypted_data: &[0u8; 48],
    };
    let der = info.to_der().expect("encode");
    pem::encode(&pem::Pem::new("ENCRYPTED PRIVATE KEY", der)).into_bytes()
}

fn scrypt_kdf(
    cost_parameter: u64,
    block_size: u16,
    parallelization: u16,
) -> pkcs8::pkcs5::pbes2::Kdf<'static> {
    pkcs8::pkcs5::pbes2::Kdf::Scrypt(pkcs8::pkcs5::pbes2::ScryptParams {
        salt: b"saltsalt",
        cost_parameter,
        block_size,
        parallelization,
        key_length: None,
    })
}

fn assert_too_costly(pem: &[u8], limit: &str) {
    for password in [Some(&b"pw"[..]), None] {
        match PrivateKey::from_pem(pem, password) {
            Err(e @ KeyError::KdfTooCostly { .. }) => {
                assert!(e.to_string().contains(limit), "{e}")
            }
            other => panic!("expected a refusal naming {limit}, got {other:?}"),
        }
    }
}

#[test]
fn a_key_asking_for_two_billion_pbkdf2_iterations_is_refused_before_deriving() {
    let kdf = pkcs8::pkcs5::pbes2::Kdf::Pbkdf2(pkcs8::pkcs5::pbes2::Pbkdf2Params {
        salt: b"saltsalt",
        iteration_count: (1 << 31) - 1,
        key_length: None,
        prf: pkcs8::pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256,
    });
    assert_too_costly(
        &encrypted_key_pem(kdf),
        &format!("MAX_PBKDF2_ITERATIONS ({MAX_PBKDF2_ITERATIONS})"),
    );
}

#[test]
fn a_key_asking_scrypt_for_a_petabyte_is_refused_before_allocating() {
    // N = 2^40 at r = 8: a pebibyte, whose allocation aborted the process.
    assert_too_costly(
        &encrypted_key_pem(scrypt_kdf(1 << 40, 8, 1)),
        &format!("MAX_SCRYPT_MEMORY_BYTES ({MAX_SCRYPT_MEMORY_BYTES})"),
    );
    // Little memory, but p = 65535 passes over it: hours of work.
    assert_too_costly(
        &encrypted_key_pem(scrypt_kdf(1 << 10, 8, u16::MAX)),
        &format!("MAX_SCRYPT_COST ({MAX_SCRYPT_COST})"),
    );
}

#[test]
fn the_largest_allowed_costs_pass_the_check() {
    use pkcs8::pkcs5::{pbes2, EncryptionScheme};
    let iv = [7u8; 16];
    let scheme = |kdf| {
        EncryptionScheme::Pbes2(pbes2::Parameters {
            kdf,
            encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
        })
    };
    let pbkdf2 = pbes2::Kdf::Pbkdf2(pbes2::Pbkdf2Params {
        salt: b"saltsalt",
        iteration_count: MAX_PBKDF2_ITERATIONS,
        key_length: None,
        prf: pbes2::Pbkdf2Prf::HmacWithSha256,
    });
    check_key_derivation_cost(&scheme(pbkdf2)).expect("PBKDF2 at the limit");
    check_key_derivation_cost(&scheme(scrypt_kdf(1 << 18, 8, 1))).expect("scrypt N=2^18 r=8");
    check_key_derivation_cost(&scheme(scrypt_kdf(1 << 18, 8, 2))).expect("scrypt cost 2^22");
    assert!(check_key_derivation_cost(&scheme(scrypt_kdf(1 << 18, 8, 3))).is_err());
}

#[test]
fn keys_encrypted_with_the_usual_settings_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    test_support::certs::new_key(dir.path(), "plain");
    // OpenSSL's scrypt defaults (N=16384, r=8, p=1) and PBKDF2 well above its default of
    // 2048 iterations (which Python's `cryptography` writes too).
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-scrypt",
            "-in",
            "plain.key",
            "-out",
            "scrypt.pem",
            "-passout",
            "pass:pw",
        ],
    );
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-128-cbc",
            "-iter",
            "100000",
            "-in",
            "plain.key",
            "-out",
            "pbkdf2.pem",
            "-passout",
            "pass:pw",
        ],
    );
    let plain = PrivateKey::read_pem_file(&dir.path().join("plain.key"), None).expect("plain");
    for name in ["scrypt.pem", "pbkdf2.pem"] {
        let key = PrivateKey::read_pem_file(&dir.path().join(name), Some(b"pw")).expect(name);
        assert_eq!(key.public_key(), plain.public_key(), "{name}");
    }
}
