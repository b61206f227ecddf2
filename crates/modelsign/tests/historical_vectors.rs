//! Signatures written by released model_signing versions (v0.2.0 … v1.1.0) and by the
//! Python reference for this project verify, and one flipped byte anywhere (a model file,
//! the signed payload, the signature) makes each of them fail.

use std::fs;
use std::path::{Path, PathBuf};

use modelsign::{
    Bundle, Certificate, CertificateVerifier, HashSettings, IgnoreSet, KeyVerifier, Progress,
    PublicKey, Verifier, VerifyError, VerifyOptions,
};

enum Trust {
    Key(&'static str),
    Roots(&'static str),
}

struct Vector {
    name: String,
    /// Folder holding the model (relative to the vectors root), copied for each run.
    folder: String,
    /// The model inside the copied folder (`""` = the folder itself).
    model: &'static str,
    /// The signature, relative to the vectors root.
    signature: String,
    trust: Trust,
    ignore: &'static [&'static str],
}

const MT_KEY: &str = "model-transparency/keys/certificate/signing-key-pub.pem";
const MT_ROOT: &str = "model-transparency/keys/certificate/ca-cert.pem";

fn vectors() -> Vec<Vector> {
    let mut all = Vec::new();
    for version in ["v0.2.0", "v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"] {
        let folder = format!("model-transparency/{version}-certificate");
        all.push(Vector {
            name: format!("{version}-certificate"),
            signature: format!("{folder}/model.sig"),
            folder,
            model: "",
            trust: Trust::Roots(MT_ROOT),
            ignore: if version >= "v1.0.1" {
                &["ignore-me"]
            } else {
                &[]
            },
        });
    }
    for version in ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"] {
        let folder = format!("model-transparency/{version}-elliptic-key");
        let single = version < "v1.0.1";
        all.push(Vector {
            name: format!("{version}-elliptic-key"),
            signature: format!("{folder}/model.sig"),
            folder,
            model: if single { "signme-1" } else { "" },
            trust: Trust::Key(MT_KEY),
            ignore: if single { &[] } else { &["ignore-me"] },
        });
    }
    let generated = |name: &str, signature: &str, model, trust| Vector {
        name: name.to_owned(),
        folder: "reference-generated/example-model".to_owned(),
        model,
        signature: signature.to_owned(),
        trust,
        ignore: &[],
    };
    all.extend([
        generated(
            "p256-files",
            "reference-generated/sigs/key-p256-files-sha256.sig",
            "",
            Trust::Key("reference-generated/keys/p256.pub"),
        ),
        generated(
            "p521-files",
            "reference-generated/sigs/key-p521-files-sha256.sig",
            "",
            Trust::Key("reference-generated/keys/p521.pub"),
        ),
        generated(
            "p256-shards8",
            "reference-generated/sigs/key-p256-shards8-sha256.sig",
            "",
            Trust::Key("reference-generated/keys/p256.pub"),
        ),
        generated(
            "p256-blake3",
            "reference-generated/sigs/key-p256-files-blake3.sig",
            "",
            Trust::Key("reference-generated/keys/p256.pub"),
        ),
        generated(
            "handmade-int-shard-size",
            "reference-generated/sigs/handmade-p256-shards8-intsize.sig",
            "",
            Trust::Key("reference-generated/keys/p256.pub"),
        ),
        generated(
            "p256-single-file",
            "reference-generated/sigs/key-p256-singlefile.sig",
            "weights/model.bin",
            Trust::Key("reference-generated/keys/p256.pub"),
        ),
        generated(
            "cert-p384",
            "reference-generated/sigs/cert-p384-files-sha256.sig",
            "",
            Trust::Roots(MT_ROOT),
        ),
    ]);
    all
}

fn verifier(trust: &Trust) -> Box<dyn Verifier> {
    match trust {
        Trust::Key(path) => Box::new(KeyVerifier::new(
            PublicKey::read_pem_file(&test_support::vector(path)).expect("public key"),
        )),
        Trust::Roots(path) => Box::new(
            CertificateVerifier::new(
                Certificate::read_pem_file(&test_support::vector(path)).expect("roots"),
            )
            .expect("verifier"),
        ),
    }
}

/// Verifies `vector` against a fresh copy of its model, after `tamper` changed the copy or
/// the signature bytes.
fn verify_copy(
    vector: &Vector,
    tamper: impl FnOnce(&Path, &mut Vec<u8>),
) -> Result<(), VerifyError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir
        .path()
        .join(Path::new(&vector.folder).file_name().expect("name"));
    test_support::copy_tree(&test_support::vector(&vector.folder), &folder);
    let model = if vector.model.is_empty() {
        folder.clone()
    } else {
        folder.join(vector.model)
    };
    let mut signature = fs::read(test_support::vector(&vector.signature)).expect("signature");
    tamper(&model, &mut signature);
    let signature_path = dir.path().join("tampered.sig");
    fs::write(&signature_path, &signature).expect("write signature");
    let bundle = Bundle::from_json(&signature).map_err(VerifyError::from)?;
    let mut ignore = IgnoreSet::new(true);
    for path in vector.ignore {
        ignore.add(path).expect("ignore path");
    }
    // The original signature lies inside the copied folder, as model.sig, where the
    // reference's own verification excludes it.
    let inside = folder.join("model.sig");
    let options = VerifyOptions {
        ignore,
        signature_path: Some(if inside.exists() {
            inside
        } else {
            signature_path
        }),
        ..VerifyOptions::default()
    };
    modelsign::verify_model(
        &model,
        &bundle,
        verifier(&vector.trust).as_ref(),
        &options,
        &Progress::none(),
    )
    .map(|_| ())
}

fn model_files(vector: &Vector) -> Vec<PathBuf> {
    let root = test_support::vector(&vector.folder);
    let model = if vector.model.is_empty() {
        root.clone()
    } else {
        root.join(vector.model)
    };
    if model.is_file() {
        return vec![PathBuf::from(vector.model)];
    }
    let mut settings = HashSettings::default();
    for path in vector.ignore.iter().chain(["model.sig"].iter()) {
        settings.walk.ignore.add(path).expect("ignore");
    }
    let walked = modelsign::model::walk(&model, &settings.walk).expect("walk");
    let mut files: Vec<PathBuf> = walked
        .files
        .into_iter()
        .filter(|f| f.size > 0)
        .map(|f| PathBuf::from(vector.model).join(f.name))
        .collect();
    files.sort();
    files
}

#[test]
fn every_historical_and_reference_signature_verifies() {
    let all = vectors();
    assert_eq!(
        all.len(),
        16,
        "9 model_signing release vectors + 7 reference-generated"
    );
    let failures: Vec<String> = all
        .iter()
        .filter_map(|v| {
            verify_copy(v, |_, _| {})
                .err()
                .map(|e| format!("{}: {e}", v.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "vectors failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn one_flipped_byte_in_any_model_file_fails_every_vector() {
    for vector in vectors() {
        let files = model_files(&vector);
        assert!(!files.is_empty(), "{}: no file to tamper with", vector.name);
        for file in files {
            let relative = file
                .strip_prefix(vector.model)
                .unwrap_or(&file)
                .to_path_buf();
            let result = verify_copy(&vector, |model, _| {
                let target = if model.is_file() {
                    model.to_path_buf()
                } else {
                    model.join(&relative)
                };
                let mut bytes = fs::read(&target).expect("read");
                bytes[0] ^= 0x01;
                fs::write(&target, bytes).expect("write");
            });
            assert!(
                matches!(result, Err(VerifyError::Mismatch(ref diff)) if diff.changed.len() == 1),
                "{}: flipping {} gave {result:?}",
                vector.name,
                file.display()
            );
        }
    }
}

#[test]
fn one_flipped_byte_in_the_payload_or_the_signature_fails_every_vector() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for vector in vectors() {
        for field in ["payload", "sig"] {
            let result = verify_copy(&vector, |_, signature| {
                let mut json: serde_json::Value = serde_json::from_slice(signature).expect("json");
                let slot = if field == "payload" {
                    &mut json["dsseEnvelope"]["payload"]
                } else {
                    &mut json["dsseEnvelope"]["signatures"][0]["sig"]
                };
                let mut bytes = b64.decode(slot.as_str().expect("base64")).expect("base64");
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x01;
                *slot = serde_json::Value::String(b64.encode(bytes));
                *signature = serde_json::to_vec(&json).expect("json");
            });
            assert!(
                matches!(result, Err(VerifyError::BadSignature)),
                "{}: flipped {field} gave {result:?}",
                vector.name
            );
        }
    }
}
