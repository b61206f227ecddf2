//! The `modelsign` command end to end: a tamper matrix whose every case must be rejected in
//! the right category, exit codes, JSON output and atomic signature writing.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use modelsign::keys::Curve;
use modelsign::{KeySigner, PrivateKey};
use serde_json::{json, Value};
use test_support::{resource_names, signed_statement};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

struct Fixture {
    dir: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
    signature: PathBuf,
}

impl Fixture {
    /// A signed three-file model at `<tmp>/model` with a fresh P-256 key.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("model");
        fs::create_dir_all(model.join("sub")).expect("mkdir");
        fs::write(model.join("a.bin"), "alpha").expect("write");
        fs::write(model.join("b.bin"), "bravo-bravo").expect("write");
        fs::write(model.join("sub/c.bin"), "charlie").expect("write");
        let private = PrivateKey::generate(Curve::P256).expect("generate");
        let key = dir.path().join("key.pem");
        let public = dir.path().join("key.pub");
        fs::write(&key, private.to_pkcs8_pem().expect("pem")).expect("write key");
        fs::write(&public, private.public_key().to_pem()).expect("write pub");
        let signature = dir.path().join("model.sig");
        let fixture = Fixture {
            dir,
            key,
            public,
            signature,
        };
        let out = fixture.sign(&fixture.model(), &fixture.signature, &[]);
        assert_success(&out, "sign");
        fixture
    }

    fn model(&self) -> PathBuf {
        self.dir.path().join("model")
    }

    fn sign(&self, model: &Path, signature: &Path, extra: &[&str]) -> Output {
        run(&[
            &["sign", "key"],
            &[
                path(model),
                "--private-key",
                path(&self.key),
                "--signature",
                path(signature),
            ],
            extra,
        ])
    }

    fn verify(&self, model: &Path, extra: &[&str]) -> Output {
        self.verify_with(model, &self.signature, extra)
    }

    fn verify_with(&self, model: &Path, signature: &Path, extra: &[&str]) -> Output {
        run(&[
            &["verify", "key"],
            &[
                path(model),
                "--public-key",
                path(&self.public),
                "--signature",
                path(signature),
            ],
            extra,
        ])
    }

    /// A fresh copy of the signed model to tamper with.
    fn copy(&self, name: &str) -> PathBuf {
        let copy = self.dir.path().join(name);
        test_support::copy_tree(&self.model(), &copy);
        copy
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn run(parts: &[&[&str]]) -> Output {
    Command::new(BIN)
        .args(parts.concat())
        .output()
        .expect("run modelsign")
}

fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn tamper_matrix_reports_each_change_in_its_category() {
    let f = Fixture::new();
    assert_success(&f.verify(&f.model(), &[]), "untouched model");

    type Tamper = fn(&Path);
    let cases: Vec<(&str, Tamper, Value)> = vec![
        (
            "changed byte",
            |m| fs::write(m.join("a.bin"), "alphA").expect("w"),
            json!({"changed": ["a.bin"], "missing": [], "extra": [], "symlinks": []}),
        ),
        (
            "truncation",
            |m| fs::write(m.join("b.bin"), "bravo").expect("w"),
            json!({"changed": ["b.bin"], "missing": [], "extra": [], "symlinks": []}),
        ),
        (
            "appended byte",
            |m| fs::write(m.join("sub/c.bin"), "charlie!").expect("w"),
            json!({"changed": ["sub/c.bin"], "missing": [], "extra": [], "symlinks": []}),
        ),
        (
            "deleted file",
            |m| fs::remove_file(m.join("b.bin")).expect("rm"),
            json!({"changed": [], "missing": ["b.bin"], "extra": [], "symlinks": []}),
        ),
        (
            "added file",
            |m| fs::write(m.join("sub/new.bin"), "new").expect("w"),
            json!({"changed": [], "missing": [], "extra": ["sub/new.bin"], "symlinks": []}),
        ),
        (
            "renamed file",
            |m| fs::rename(m.join("a.bin"), m.join("a2.bin")).expect("mv"),
            json!({"changed": [], "missing": ["a.bin"], "extra": ["a2.bin"], "symlinks": []}),
        ),
        (
            "swapped contents",
            |m| {
                fs::write(m.join("a.bin"), "bravo-bravo").expect("w");
                fs::write(m.join("b.bin"), "alpha").expect("w");
            },
            json!({"changed": ["a.bin", "b.bin"], "missing": [], "extra": [], "symlinks": []}),
        ),
        (
            "file replaced by a symlink",
            |m| {
                fs::remove_file(m.join("a.bin")).expect("rm");
                symlink("b.bin", m.join("a.bin")).expect("symlink");
            },
            json!({"changed": [], "missing": ["a.bin"], "extra": [], "symlinks": ["a.bin"]}),
        ),
    ];
    let mut failures = Vec::new();
    for (i, (label, tamper, expected)) in cases.into_iter().enumerate() {
        let model = f.copy(&format!("case-{i}"));
        tamper(&model);
        let out = f.verify(&model, &["--json"]);
        let result = json_of(&out);
        let got = json!({
            "changed": strings(&result["changed"]),
            "missing": strings(&result["missing"]),
            "extra": strings(&result["extra"]),
            "symlinks": strings(&result["symlinks"]),
        });
        if out.status.code() != Some(1) || result["verified"] != json!(false) || got != expected {
            failures.push(format!(
                "{label}: exit {:?}, got {got}, expected {expected}",
                out.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "tamper cases misreported:\n{}",
        failures.join("\n")
    );
}

#[test]
fn human_readable_mismatch_names_every_category_and_path() {
    let f = Fixture::new();
    let model = f.copy("tampered");
    fs::write(model.join("a.bin"), "changed").expect("w");
    fs::remove_file(model.join("b.bin")).expect("rm");
    fs::write(model.join("extra.bin"), "x").expect("w");
    let out = f.verify(&model, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "changed files (1): a.bin",
        "missing files (1): b.bin",
        "unsigned extra files (1): extra.bin",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in: {stderr}");
    }
}

#[test]
fn long_mismatch_lists_are_capped_at_twenty_paths_per_category() {
    let f = Fixture::new();
    let model = f.copy("many");
    for i in 0..25 {
        fs::write(model.join(format!("extra-{i:02}.bin")), "x").expect("w");
    }
    let out = f.verify(&model, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsigned extra files (25)"), "{stderr}");
    assert!(stderr.contains("extra-19.bin and 5 more"), "{stderr}");
    assert!(!stderr.contains("extra-20.bin"), "{stderr}");
}

#[test]
fn ignore_unsigned_files_tolerates_extra_files_only() {
    let f = Fixture::new();
    let extra = f.copy("extra");
    fs::write(extra.join("unsigned.txt"), "x").expect("w");
    symlink("/nonexistent", extra.join("unsigned-link")).expect("symlink");
    assert_success(
        &f.verify(&extra, &["--ignore-unsigned-files"]),
        "extra files tolerated",
    );
    assert_success(
        &f.verify(&extra, &["--ignore_unsigned_files"]),
        "underscore spelling",
    );

    let changed = f.copy("changed");
    fs::write(changed.join("a.bin"), "tampered").expect("w");
    assert_eq!(
        f.verify(&changed, &["--ignore-unsigned-files"])
            .status
            .code(),
        Some(1)
    );

    let missing = f.copy("missing");
    fs::remove_file(missing.join("sub/c.bin")).expect("rm");
    let out = f.verify(&missing, &["--ignore-unsigned-files", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(strings(&json_of(&out)["missing"]), ["sub/c.bin"]);
}

/// Signs a hand-made statement with the fixture's key, bypassing the library's checks, to
/// see what the verifier makes of a hostile manifest.
fn sign_raw_statement(f: &Fixture, resources: Value) -> PathBuf {
    let digests: Vec<Vec<u8>> = resources
        .as_array()
        .expect("array")
        .iter()
        .map(|r| base16ct::mixed::decode_vec(r["digest"].as_str().expect("digest")).expect("hex"))
        .collect();
    let root = modelsign::manifest::root_digest(digests.iter().map(Vec::as_slice));
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "model", "digest": {"sha256": base16ct::lower::encode_string(&root)}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {
            "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false},
            "resources": resources,
        },
    });
    let key = PrivateKey::read_pem_file(&f.key, None).expect("key");
    let bundle = modelsign::sign_payload(
        serde_json::to_vec(&statement).expect("json"),
        &KeySigner::new(key),
    )
    .expect("sign");
    let path = f.dir.path().join(format!(
        "hostile-{}.sig",
        base16ct::lower::encode_string(&root[..4])
    ));
    bundle.write_atomic(&path).expect("write");
    path
}

#[test]
fn hostile_manifest_entries_are_rejected() {
    let f = Fixture::new();
    let digest = |content: &str| {
        use sha2::Digest;
        base16ct::lower::encode_string(&sha2::Sha256::digest(content.as_bytes()))
    };
    let entry = |name: &str, content: &str| json!({"name": name, "algorithm": "sha256", "digest": digest(content)});
    let cases = [
        (
            "parent traversal",
            json!([entry("a.bin", "alpha"), entry("../outside.bin", "x")]),
            "`..`",
        ),
        (
            "absolute path",
            json!([entry("a.bin", "alpha"), entry("/etc/passwd", "x")]),
            "absolute",
        ),
        (
            "duplicate names",
            json!([entry("a.bin", "alpha"), entry("a.bin", "alpha")]),
            "more than once",
        ),
    ];
    for (label, resources, needle) in cases {
        let signature = sign_raw_statement(&f, resources);
        let out = f.verify_with(&f.model(), &signature, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{label}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{label}: expected {needle:?} in {stderr}"
        );
    }
}

#[test]
fn a_flipped_byte_in_payload_or_signature_fails_verification() {
    let f = Fixture::new();
    let original: Value =
        serde_json::from_slice(&fs::read(&f.signature).expect("read")).expect("json");
    let b64 = base64::engine::general_purpose::STANDARD;
    for field in ["payload", "sig"] {
        let mut bundle = original.clone();
        let slot = if field == "payload" {
            &mut bundle["dsseEnvelope"]["payload"]
        } else {
            &mut bundle["dsseEnvelope"]["signatures"][0]["sig"]
        };
        let mut bytes = b64.decode(slot.as_str().expect("b64")).expect("b64");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        *slot = json!(b64.encode(bytes));
        fs::write(&f.signature, serde_json::to_vec(&bundle).expect("json")).expect("write");
        let out = f.verify(&f.model(), &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "flipped {field}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn unusable_inputs_exit_with_status_2() {
    let f = Fixture::new();
    let missing = f.dir.path().join("missing");
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "missing signature",
            vec![
                "verify".into(),
                "key".into(),
                path(&f.model()).into(),
                "--public-key".into(),
                path(&f.public).into(),
                "--signature".into(),
                path(&missing).into(),
            ],
        ),
        (
            "missing public key",
            vec![
                "verify".into(),
                "key".into(),
                path(&f.model()).into(),
                "--public-key".into(),
                path(&missing).into(),
                "--signature".into(),
                path(&f.signature).into(),
            ],
        ),
        (
            "missing model",
            vec![
                "verify".into(),
                "key".into(),
                path(&missing).into(),
                "--public-key".into(),
                path(&f.public).into(),
                "--signature".into(),
                path(&f.signature).into(),
            ],
        ),
        (
            "missing private key",
            vec![
                "sign".into(),
                "key".into(),
                path(&f.model()).into(),
                "--private-key".into(),
                path(&missing).into(),
                "--signature".into(),
                path(&f.dir.path().join("x.sig")).into(),
            ],
        ),
        (
            "unknown flag",
            vec!["verify".into(), "key".into(), "--frobnicate".into()],
        ),
        ("no method", vec!["sign".into()]),
    ];
    for (label, args) in cases {
        let out = Command::new(BIN).args(&args).output().expect("run");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{label}: no message");
    }
}

#[test]
fn failed_signing_never_leaves_a_signature_behind() {
    let f = Fixture::new();
    let empty = f.dir.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    fs::write(empty.join(".gitignore"), "x").expect("w");
    let target = f.dir.path().join("empty.sig");
    let out = f.sign(&empty, &target, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no files to sign"));
    assert!(
        !target.exists(),
        "an empty model must not produce a signature"
    );

    // An existing signature survives a failed re-signing untouched.
    let before = fs::read(&f.signature).expect("read");
    let linked = f.copy("linked");
    symlink("a.bin", linked.join("link")).expect("symlink");
    let out = f.sign(&linked, &f.signature, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read(&f.signature).expect("read"), before);
    let leftovers: Vec<_> = fs::read_dir(f.dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn signature_inside_the_model_is_excluded_and_recorded() {
    let f = Fixture::new();
    let model = f.copy("inside");
    let signature = model.join("model.sig");
    assert_success(&f.sign(&model, &signature, &[]), "sign inside");
    let statement = signed_statement(&signature);
    let ignored = strings(&statement["predicate"]["serialization"]["ignore_paths"]);
    assert!(ignored.contains(&"model.sig".to_owned()), "{ignored:?}");
    assert_eq!(resource_names(&signature), ["a.bin", "b.bin", "sub/c.bin"]);
    let out = f.verify_with(&model, &signature, &[]);
    assert_success(&out, "verify with the signature inside the model");
}

/// The attestation files that signing, carding and claiming leave beside a model.
const ATTESTATION_FILES: [&str; 4] = [
    "model.sig",
    "x.sigstore.json",
    "claims.jsonl",
    "model-card.sig",
];

/// A copy of the signed model holding every one of [`ATTESTATION_FILES`] (each a copy of
/// the fixture's signature, as an earlier signing would leave it).
fn copy_with_attestation_files(f: &Fixture, name: &str) -> PathBuf {
    let model = f.copy(name);
    for file in ATTESTATION_FILES {
        fs::copy(&f.signature, model.join(file)).expect("write attestation file");
    }
    model
}

#[test]
fn attestation_files_are_left_out_of_the_manifest_and_recorded() {
    let f = Fixture::new();
    let model = copy_with_attestation_files(&f, "attested");
    let signature = f.dir.path().join("attested.sig");
    assert_success(&f.sign(&model, &signature, &[]), "sign");
    assert_eq!(resource_names(&signature), ["a.bin", "b.bin", "sub/c.bin"]);
    let statement = signed_statement(&signature);
    let ignored = strings(&statement["predicate"]["serialization"]["ignore_paths"]);
    for file in ATTESTATION_FILES {
        assert!(ignored.contains(&file.to_owned()), "{file}: {ignored:?}");
    }
    assert_success(&f.verify_with(&model, &signature, &[]), "verify");
    let digest = run(&[&["digest", path(&model)]]);
    assert_success(&digest, "digest");
    let fixture_digest = run(&[&["digest", path(&f.model())]]);
    assert_eq!(
        digest.stdout, fixture_digest.stdout,
        "attestation files do not change the root digest"
    );
}

#[test]
fn include_attestation_files_makes_them_part_of_the_model() {
    let f = Fixture::new();
    let model = copy_with_attestation_files(&f, "attested");
    let signature = f.dir.path().join("attested.sig");
    let include = ["--include-attestation-files"];
    assert_success(&f.sign(&model, &signature, &include), "sign");
    let mut expected = vec!["a.bin", "b.bin", "sub/c.bin"];
    expected.extend(ATTESTATION_FILES);
    expected.sort_unstable();
    assert_eq!(resource_names(&signature), expected);
    let statement = signed_statement(&signature);
    let ignored = strings(&statement["predicate"]["serialization"]["ignore_paths"]);
    assert!(
        ATTESTATION_FILES
            .iter()
            .all(|file| !ignored.contains(&file.to_string())),
        "{ignored:?}"
    );
    assert_success(&f.verify_with(&model, &signature, &include), "verify");
}

#[test]
fn a_card_signature_added_after_signing_is_not_an_extra_file() {
    let f = Fixture::new();
    let model = f.copy("carded");
    let signature = model.join("model.sig");
    assert_success(&f.sign(&model, &signature, &[]), "sign in place");
    fs::copy(&signature, model.join("model-card.sig")).expect("card signature");
    fs::write(model.join("claims.jsonl"), "").expect("claims");
    assert_success(&f.verify_with(&model, &signature, &[]), "verify");
    let strict = f.verify_with(
        &model,
        &signature,
        &["--include-attestation-files", "--json"],
    );
    assert_eq!(
        strict.status.code(),
        Some(1),
        "{}",
        test_support::explain(&strict)
    );
    assert_eq!(
        strings(&json_of(&strict)["extra"]),
        ["claims.jsonl", "model-card.sig"]
    );
}

/// A signature made before attestation files were left out (here: made with them included)
/// lists `model-card.sig`: verification checks it rather than reporting it missing.
#[test]
fn a_signature_listing_model_card_sig_still_verifies_and_checks_it() {
    let f = Fixture::new();
    let model = f.copy("old");
    fs::copy(&f.signature, model.join("model-card.sig")).expect("card signature");
    let signature = f.dir.path().join("old.sig");
    assert_success(
        &f.sign(&model, &signature, &["--include-attestation-files"]),
        "sign as before",
    );
    assert!(resource_names(&signature).contains(&"model-card.sig".to_owned()));
    assert_success(&f.verify_with(&model, &signature, &[]), "verify");
    fs::write(model.join("model-card.sig"), "changed").expect("change");
    let out = f.verify_with(&model, &signature, &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        test_support::explain(&out)
    );
    assert_eq!(strings(&json_of(&out)["changed"]), ["model-card.sig"]);
}

#[test]
fn verifying_with_the_wrong_method_says_which_method_signed() {
    let f = Fixture::new();
    let root = test_support::vector("model-transparency/keys/certificate/ca-cert.pem");
    let out = run(&[
        &["verify", "certificate"],
        &[
            path(&f.model()),
            "--certificate-chain",
            path(&root),
            "--signature",
            path(&f.signature),
        ],
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("public key (key method)"), "{stderr}");
}

#[test]
fn json_output_and_digest_agree_with_the_signature() {
    let f = Fixture::new();
    let out = f.verify(&f.model(), &["--json"]);
    assert_success(&out, "verify --json");
    let report = json_of(&out);
    assert_eq!(report["verified"], json!(true));
    assert_eq!(report["resources"], json!(3));
    let digest = run(&[&["digest", path(&f.model())]]);
    assert_success(&digest, "digest");
    let printed = String::from_utf8_lossy(&digest.stdout).trim().to_owned();
    assert_eq!(report["root_digest"].as_str(), Some(printed.as_str()));
    assert!(
        printed.starts_with("sha256:") && printed.len() == 7 + 64,
        "{printed}"
    );
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    base16ct::lower::encode_string(&sha2::Sha256::digest(data))
}

#[test]
fn json_mismatch_gives_the_signed_and_the_found_digest_of_each_changed_file() {
    let f = Fixture::new();
    let model = f.copy("changed");
    fs::write(model.join("sub/c.bin"), "charlie!").expect("w");
    let out = f.verify(&model, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        json_of(&out)["changed_digests"],
        json!([{
            "name": "sub/c.bin",
            "algorithm": "sha256",
            "expected": sha256_hex(b"charlie"),
            "actual": sha256_hex(b"charlie!"),
        }])
    );
}

#[test]
fn a_key_signature_names_its_signer_by_the_public_key_hint() {
    let f = Fixture::new();
    // model_signing's hint: SHA-256 of the public key's PEM as OpenSSL writes it, which is
    // what the fixture's key file holds.
    let hint = sha256_hex(&fs::read(&f.public).expect("read"));
    let out = f.verify(&f.model(), &["--json"]);
    assert_success(&out, "verify --json");
    assert_eq!(json_of(&out)["signer"], json!({ "public_key_hint": hint }));
    let out = f.verify(&f.model(), &[]);
    assert_success(&out, "verify");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("Signed by the public key with hint {hint}")),
        "{out:?}"
    );
}

#[test]
fn shards_and_blake3_signatures_verify_with_the_recorded_settings() {
    let f = Fixture::new();
    for extra in [
        &["--serialization", "shards", "--shard-size", "4"][..],
        &["--hash-type", "blake3"][..],
        &[
            "--hash-type",
            "blake2b",
            "--serialization",
            "shards",
            "--shard-size",
            "3",
        ][..],
    ] {
        let signature = f.dir.path().join("settings.sig");
        assert_success(
            &f.sign(&f.model(), &signature, extra),
            &format!("sign {extra:?}"),
        );
        let out = f.verify_with(&f.model(), &signature, &[]);
        assert_success(&out, &format!("verify {extra:?}"));
        let model = f.copy(&format!("t{}", extra.len()));
        fs::write(model.join("b.bin"), "bravo-bravO").expect("w");
        let out = f.verify_with(&model, &signature, &[]);
        assert_eq!(out.status.code(), Some(1), "tampered {extra:?}");
    }
}

#[test]
fn encrypted_keys_take_their_password_from_a_file_or_the_environment() {
    let f = Fixture::new();
    let encrypted = f.dir.path().join("encrypted.pem");
    let out = Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:open sesame",
            "-in",
        ])
        .arg(&f.key)
        .arg("-out")
        .arg(&encrypted)
        .output()
        .expect("run openssl");
    assert_success(&out, "openssl pkcs8");
    let password_file = f.dir.path().join("password.txt");
    fs::write(&password_file, "open sesame\n").expect("write");
    let sign = |extra: &[&str]| {
        let signature = f.dir.path().join("enc.sig");
        let _ = fs::remove_file(&signature);
        let mut command = Command::new(BIN);
        command
            .args([
                "sign",
                "key",
                path(&f.model()),
                "--private-key",
                path(&encrypted),
            ])
            .args(["--signature", path(&signature)])
            .args(extra)
            .env("MODEL_KEY_PASSWORD", "open sesame")
            .stdin(std::process::Stdio::null());
        (command.output().expect("run"), signature)
    };
    let (out, signature) = sign(&["--password-file", path(&password_file)]);
    assert_success(&out, "password from file");
    assert_success(&f.verify_with(&f.model(), &signature, &[]), "verify");
    let (out, _) = sign(&["--password-env", "MODEL_KEY_PASSWORD"]);
    assert_success(&out, "password from environment");

    let (out, signature) = sign(&[]);
    assert_eq!(out.status.code(), Some(2), "no password and no terminal");
    assert!(String::from_utf8_lossy(&out.stderr).contains("encrypted"));
    assert!(!signature.exists());
    let (out, _) = sign(&["--password", "wrong"]);
    assert_eq!(out.status.code(), Some(2), "wrong password");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
}

/// A writable copy of model_signing 1.1.0's Sigstore-signed model (signature inside it).
fn sigstore_vector() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("v1.1.0-sigstore");
    test_support::copy_tree(
        &test_support::vector("model-transparency/v1.1.0-sigstore"),
        &model,
    );
    (dir, model)
}

const SIGSTORE_IDENTITY: &str = "stefanb@us.ibm.com";
const SIGSTORE_ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn verify_sigstore(model: &Path, extra: &[&str]) -> Output {
    let signature = model.join("model.sig");
    run(&[
        &[
            "verify",
            "sigstore",
            path(model),
            "--signature",
            path(&signature),
        ],
        extra,
    ])
}

#[test]
fn sigstore_verification_names_the_signer_or_the_identity_found() {
    let (_dir, model) = sigstore_vector();
    let ok = verify_sigstore(
        &model,
        &[
            "--identity",
            SIGSTORE_IDENTITY,
            "--identity-provider",
            SIGSTORE_ISSUER,
        ],
    );
    assert_success(&ok, "verify sigstore");
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        stdout.contains(&format!(
            "Signed by {SIGSTORE_IDENTITY} (identity provider {SIGSTORE_ISSUER})"
        )),
        "{stdout}"
    );

    // model_signing's spelling of the flags, and JSON output with the signer.
    let json = verify_sigstore(
        &model,
        &[
            "--identity",
            SIGSTORE_IDENTITY,
            "--identity_provider",
            SIGSTORE_ISSUER,
            "--json",
        ],
    );
    assert_success(&json, "verify sigstore --json");
    let value = json_of(&json);
    assert_eq!(value["signer"]["identity"], SIGSTORE_IDENTITY);
    assert_eq!(value["signer"]["issuer"], SIGSTORE_ISSUER);

    let wrong = verify_sigstore(
        &model,
        &[
            "--identity",
            "mallory@example.com",
            "--identity-provider",
            SIGSTORE_ISSUER,
        ],
    );
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("wrong signer") && stderr.contains(SIGSTORE_IDENTITY),
        "{stderr}"
    );

    let wrong_issuer = verify_sigstore(
        &model,
        &[
            "--identity",
            SIGSTORE_IDENTITY,
            "--identity-provider",
            "https://accounts.google.com",
        ],
    );
    assert_eq!(wrong_issuer.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong_issuer.stderr);
    assert!(
        stderr.contains("wrong identity provider") && stderr.contains(SIGSTORE_ISSUER),
        "{stderr}"
    );

    let regex = verify_sigstore(
        &model,
        &[
            "--identity-regex",
            r"^stefanb@.*\.ibm\.com$",
            "--identity-provider",
            SIGSTORE_ISSUER,
        ],
    );
    assert_success(&regex, "verify sigstore --identity-regex");
}

#[test]
fn sigstore_verification_rejects_unusable_trust_and_policy_input_with_status_2() {
    let (dir, model) = sigstore_vector();
    let policy = [
        "--identity",
        SIGSTORE_IDENTITY,
        "--identity-provider",
        SIGSTORE_ISSUER,
    ];
    let missing = dir.path().join("missing.json");
    let out = verify_sigstore(
        &model,
        &[&policy[..], &["--trusted-root", path(&missing)]].concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let garbage = dir.path().join("garbage.json");
    fs::write(&garbage, "{\"not\": \"a root\"}").expect("write");
    let out = verify_sigstore(
        &model,
        &[&policy[..], &["--trust-config", path(&garbage)]].concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = verify_sigstore(
        &model,
        &[
            "--identity-regex",
            "([",
            "--identity-provider",
            SIGSTORE_ISSUER,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--identity-regex"));

    // Neither --identity nor --identity-regex: a usage error.
    let out = verify_sigstore(&model, &["--identity-provider", SIGSTORE_ISSUER]);
    assert_eq!(out.status.code(), Some(2));

    // The staging root does not vouch for a production signature: a verification failure.
    let out = verify_sigstore(&model, &[&policy[..], &["--use-staging"]].concat());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Single-file models and Hugging Face cache snapshots

/// Signs `<tmp>/single.bin` with `extra` flags; returns the signature path and the output.
fn sign_single_file(f: &Fixture, extra: &[&str]) -> (PathBuf, Output) {
    let model = f.dir.path().join("single.bin");
    fs::write(&model, "one file").expect("write");
    let signature = f.dir.path().join("single.sig");
    let out = f.sign(&model, &signature, extra);
    assert_success(&out, "sign a single-file model");
    (signature, out)
}

/// How the single-file warning begins.
const SINGLE_FILE_WARNING: &str =
    "'single.bin' is a single-file model: the signature names its file 'single.bin'";

#[test]
fn signing_a_single_file_warns_that_model_signing_cannot_verify_it() {
    let f = Fixture::new();
    let (_, out) = sign_single_file(&f, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("warning: {SINGLE_FILE_WARNING}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("--model-signing-single-file-name"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Signing succeeded"));

    // In JSON the warning is part of the one object; nothing loose goes to stderr.
    let (_, out) = sign_single_file(&f, &["--json"]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warnings = strings(&json_of(&out)["warnings"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with(SINGLE_FILE_WARNING), "{warnings:?}");

    // A directory model has nothing to warn about.
    let out = f.sign(&f.model(), &f.signature, &["--json"]);
    assert_success(&out, "sign a directory --json");
    assert_eq!(json_of(&out)["warnings"], json!([]));
}

#[test]
fn the_model_signing_single_file_name_is_dot_and_silences_the_warning() {
    let f = Fixture::new();
    let (signature, out) = sign_single_file(&f, &["--model-signing-single-file-name"]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(resource_names(&signature), ["."]);
    let out = f.verify_with(&f.dir.path().join("single.bin"), &signature, &[]);
    assert_success(&out, "modelsign verifies the `.` form");
}

#[test]
fn a_hugging_face_snapshot_signs_verifies_and_digests_without_allow_symlinks() {
    let f = Fixture::new();
    let snapshot = test_support::hf_cache_snapshot(
        &f.dir.path().join("hub"),
        "models--org--name",
        &[("config.json", b"{}"), ("sub/w.bin", b"weights")],
        test_support::HfBlobStore::Repository,
    );
    let signature = f.dir.path().join("snapshot.sig");
    let out = f.sign(&snapshot, &signature, &["--json"]);
    assert_success(&out, "sign the snapshot");
    let signed = json_of(&out);
    assert_eq!(resource_names(&signature), ["config.json", "sub/w.bin"]);
    let out = f.verify_with(&snapshot, &signature, &["--json"]);
    assert_success(&out, "verify the snapshot");
    assert_eq!(json_of(&out)["root_digest"], signed["root_digest"]);
    let out = run(&[&["digest", path(&snapshot), "--json"]]);
    assert_success(&out, "digest the snapshot");
    assert_eq!(json_of(&out)["digest"], signed["root_digest"]);
}

#[test]
fn a_snapshot_link_out_of_its_repository_fails_signing_and_verification() {
    let f = Fixture::new();
    let hub = f.dir.path().join("hub");
    let files: &[(&str, &[u8])] = &[("config.json", b"{}")];
    let repository = test_support::HfBlobStore::Repository;
    let snapshot = test_support::hf_cache_snapshot(&hub, "models--org--name", files, repository);
    let other = test_support::hf_cache_snapshot(&hub, "models--org--other", files, repository);
    let signature = f.dir.path().join("snapshot.sig");
    assert_success(&f.sign(&snapshot, &signature, &[]), "sign the snapshot");

    // The same content, from another repository's blobs: the link, not the bytes, is wrong.
    let link = snapshot.join("config.json");
    fs::remove_file(&link).expect("rm");
    symlink(
        fs::canonicalize(other.join("config.json")).expect("blob"),
        &link,
    )
    .expect("link");
    for out in [
        f.verify_with(&snapshot, &signature, &[]),
        f.verify_with(&snapshot, &signature, &["--allow-symlinks"]),
        f.sign(
            &snapshot,
            &f.dir.path().join("again.sig"),
            &["--allow-symlinks"],
        ),
    ] {
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            test_support::explain(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("config.json' of the Hugging Face cache snapshot points to")
                && stderr.contains("models--org--other/blobs/"),
            "{stderr}"
        );
    }
    fs::remove_file(&link).expect("rm");
    symlink("/etc/passwd", &link).expect("link");
    let out = f.sign(&snapshot, &f.dir.path().join("etc.sig"), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        test_support::explain(&out)
    );
    assert!(!f.dir.path().join("etc.sig").exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'/etc/passwd'"));
}

/// The process's file mode creation mask, from the kernel's own report of it.
fn umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("a Umask line");
    u32::from_str_radix(line.trim(), 8).expect("octal umask")
}

/// A signature is published beside the model: it gets the mode any new file gets (0666
/// less the umask), as model_signing writes it, not a key file's owner-only 0600.
#[test]
fn a_signature_gets_the_mode_of_any_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let mode = fs::metadata(&f.signature).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask(), "signature mode {mode:o}");
}

/// The library's messages name no option; the CLI adds the one that fixes the error.
#[test]
fn symbolic_link_refusals_name_the_option_that_follows_links() {
    let f = Fixture::new();
    let model = f.copy("linked");
    symlink("a.bin", model.join("link")).expect("symlink");
    let out = f.sign(&model, &f.dir.path().join("linked.sig"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "is a symbolic link; symbolic links are refused unless --allow-symlinks is given"
        ),
        "{err}"
    );

    let link = f.dir.path().join("model-link");
    symlink(f.model(), &link).expect("symlink");
    let out = f.sign(&link, &f.dir.path().join("link.sig"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a symbolic link; give the path it points to, or pass --allow-symlinks"),
        "{err}"
    );
}
