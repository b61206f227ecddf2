//! `modelsign verify … --files PATH…`: the signature and the whole signed manifest are
//! checked, but only the named files are read and compared, so a loader can check one shard
//! in the time that shard takes. Files not named are provably left alone: changing,
//! deleting or replacing one by a FIFO does not fail a partial verification, though each
//! fails a full one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use modelsign::keys::Curve;
use modelsign::PrivateKey;
use serde_json::Value;
use test_support::{explain, text};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

/// A folder with the key pairs `signer` and `stranger` and a model `model` of three files.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// The model signed by `signer` with `sign_args` (serialization options) as `model.sig`.
    fn signed(sign_args: &[&str]) -> Fixture {
        let fixture = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        for name in ["signer", "stranger"] {
            let key = PrivateKey::generate(Curve::P256).unwrap();
            fs::write(
                fixture.file(&format!("{name}.pem")),
                key.to_pkcs8_pem().unwrap(),
            )
            .unwrap();
            fs::write(
                fixture.file(&format!("{name}.pub")),
                key.public_key().to_pem(),
            )
            .unwrap();
        }
        let (model, key, signature) = (
            fixture.model(),
            fixture.file("signer.pem"),
            fixture.file("model.sig"),
        );
        fs::create_dir_all(model.join("shards")).unwrap();
        fs::write(model.join("shards/00001.safetensors"), "first shard").unwrap();
        fs::write(model.join("shards/00002.safetensors"), "second shard").unwrap();
        fs::write(model.join("config.json"), "{\"layers\": 2}").unwrap();
        let mut args = vec![
            "sign",
            "key",
            text(&model),
            "--private-key",
            text(&key),
            "--signature",
            text(&signature),
        ];
        args.extend_from_slice(sign_args);
        let out = run(&args);
        assert!(out.status.success(), "{}", explain(&out));
        fixture
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn model(&self) -> PathBuf {
        self.file("model")
    }

    fn shard(&self, n: u8) -> PathBuf {
        self.model().join(format!("shards/0000{n}.safetensors"))
    }

    /// `verify key` of the model with `key`'s public key, and `extra` arguments.
    fn verify_with(&self, key: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "verify".to_owned(),
            "key".to_owned(),
            text(&self.model()).to_owned(),
            "--public-key".to_owned(),
            text(&self.file(&format!("{key}.pub"))).to_owned(),
            "--signature".to_owned(),
            text(&self.file("model.sig")).to_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        Command::new(BIN).args(&args).output().unwrap()
    }

    fn verify(&self, extra: &[&str]) -> Output {
        self.verify_with("signer", extra)
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", explain(out)))
}

fn mkfifo(path: &Path) {
    let out = Command::new("mkfifo")
        .arg(path)
        .output()
        .expect("run mkfifo");
    assert!(out.status.success(), "{}", explain(&out));
}

#[test]
fn files_not_named_are_neither_read_nor_reported() {
    let f = Fixture::signed(&[]);
    let first = f.shard(1);
    // Changed: reading it would fail the check.
    fs::write(f.shard(2), "tampered").unwrap();
    assert_eq!(
        f.verify(&[]).status.code(),
        Some(1),
        "a full verification fails"
    );
    let out = f.verify(&["--files", text(&first)]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let said = stdout(&out);
    assert!(
        said.starts_with("Verification succeeded (partial): "),
        "{said}"
    );
    assert!(
        said.contains("(checked 1 of 3 signed files, 1 of 3 resources, sha256:"),
        "{said}"
    );
    assert!(
        said.contains("\nChecked: shards/00001.safetensors\n"),
        "{said}"
    );
    assert!(
        said.contains("Not checked: 2 other signed files (not read;"),
        "{said}"
    );

    // Deleted: not reported missing.
    fs::remove_file(f.shard(2)).unwrap();
    let out = f.verify(&["--files", text(&first)]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // A FIFO: opening it to read would block, and a full verification refuses it.
    mkfifo(&f.shard(2));
    let full = f.verify(&[]);
    assert_eq!(full.status.code(), Some(1), "{}", explain(&full));
    assert!(stderr(&full).contains("FIFOs"), "{}", explain(&full));
    let out = f.verify(&["--files", text(&first)]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}

#[test]
fn a_changed_named_file_fails_naming_it_with_both_digests() {
    let f = Fixture::signed(&[]);
    fs::write(f.shard(1), "tampered").unwrap();
    let out = f.verify(&["--files", text(&f.shard(1)), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let json = json_of(&out);
    assert_eq!(
        json["changed"],
        serde_json::json!(["shards/00001.safetensors"])
    );
    let change = &json["changed_digests"][0];
    assert_eq!(change["name"], "shards/00001.safetensors");
    assert_ne!(change["expected"], change["actual"]);

    let out = f.verify(&["--files", text(&f.shard(1))]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stderr(&out).contains("changed files (1): shards/00001.safetensors"),
        "{}",
        explain(&out)
    );
}

#[test]
fn a_file_the_signature_does_not_cover_is_refused_by_name() {
    let f = Fixture::signed(&[]);
    let dropped = f.model().join("dropped.bin");
    fs::write(&dropped, "never signed").unwrap();
    let out = f.verify(&["--files", text(&f.shard(1)), text(&dropped)]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stderr(&out).contains("dropped.bin' is not covered by the signature"),
        "{}",
        explain(&out)
    );

    // Outside the model: a usage error.
    let out = f.verify(&["--files", text(&f.file("signer.pub"))]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("is not inside the model"),
        "{}",
        explain(&out)
    );
}

#[test]
fn the_signature_is_checked_as_in_a_full_verification() {
    let f = Fixture::signed(&[]);
    let out = f.verify_with("stranger", &["--files", text(&f.shard(1))]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));

    // A statement edited to list a file's new digest: the signature no longer covers it.
    fs::write(f.shard(1), "tampered").unwrap();
    let edited = f.file("edited.sig");
    let tampered_digest = {
        use sha2::Digest as _;
        base16ct::lower::encode_string(&sha2::Sha256::digest(b"tampered"))
    };
    test_support::rewrite_statement(&f.file("model.sig"), &edited, |statement| {
        for resource in statement["predicate"]["resources"].as_array_mut().unwrap() {
            if resource["name"] == "shards/00001.safetensors" {
                resource["digest"] = tampered_digest.clone().into();
            }
        }
    });
    fs::rename(&edited, f.file("model.sig")).unwrap();
    let out = f.verify(&["--files", text(&f.shard(1))]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(stderr(&out).contains("signature"), "{}", explain(&out));
}

#[test]
fn under_shards_every_shard_of_a_named_file_is_hashed() {
    let f = Fixture::signed(&["--serialization", "shards", "--shard-size", "4"]);
    // "second shard" is 12 bytes: three shards; its last one changes.
    fs::write(f.shard(2), "second sharX").unwrap();
    fs::write(f.shard(1), "tampered, unnamed").unwrap();
    let out = f.verify(&["--files", text(&f.shard(2)), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert_eq!(
        json_of(&out)["changed"],
        serde_json::json!(["shards/00002.safetensors:8:12"])
    );

    fs::write(f.shard(2), "second shard").unwrap();
    let out = f.verify(&["--files", text(&f.shard(2)), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let json = json_of(&out);
    assert_eq!(json["resources_checked"], 3);
    assert_eq!(
        json["checked_files"],
        serde_json::json!(["shards/00002.safetensors"])
    );
    // 11 + 12 + 13 bytes in shards of 4.
    assert_eq!(json["resources"], 3 + 3 + 4);
}

#[test]
fn json_says_whether_the_verification_was_partial_and_what_it_checked() {
    let f = Fixture::signed(&[]);
    let out = f.verify(&["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let full = json_of(&out);
    assert_eq!(full["partial"], false);
    assert_eq!(full["checked_files"], Value::Null);
    assert_eq!(full["resources_checked"], 3);
    assert_eq!(full["signed_files"], 3);

    // Several after one --files, and --files repeated; a directory stands for the
    // signed files under it.
    let model = f.model();
    let config = model.join("config.json");
    let shards = model.join("shards");
    let out = f.verify(&[
        "--files",
        text(&shards),
        text(&config),
        "--files",
        text(&f.shard(1)),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let partial = json_of(&out);
    assert_eq!(partial["partial"], true);
    assert_eq!(
        partial["checked_files"],
        serde_json::json!([
            "config.json",
            "shards/00001.safetensors",
            "shards/00002.safetensors"
        ])
    );
    assert_eq!(partial["resources"], 3);
    assert_eq!(partial["resources_checked"], 3);
}

#[test]
fn relative_paths_are_relative_to_the_working_directory() {
    let f = Fixture::signed(&[]);
    fs::write(f.model().join("config.json"), "tampered").unwrap();
    let out = Command::new(BIN)
        .current_dir(f.model().join("shards"))
        .args([
            "verify",
            "key",
            "..",
            "--public-key",
            text(&f.file("signer.pub")),
            "--signature",
            text(&f.file("model.sig")),
            "--files",
            "00002.safetensors",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("Checked: shards/00002.safetensors\n"),
        "{}",
        explain(&out)
    );
}

#[test]
fn files_under_a_trust_policy_checks_only_them_too() {
    let f = Fixture::signed(&[]);
    fs::write(f.shard(2), "tampered").unwrap();
    let policy = f.file("trust.toml");
    fs::write(
        &policy,
        "[[signer]]\nname = \"release\"\nkey = \"signer.pub\"\n",
    )
    .unwrap();
    let (model, signature) = (f.model(), f.file("model.sig"));
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            text(&model),
            "--policy",
            text(&policy),
            "--signature",
            text(&signature),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    assert_eq!(verify(&[]).status.code(), Some(1));
    let first = f.shard(1);
    let out = verify(&["--files", text(&first)]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).starts_with("Verification succeeded (partial): "),
        "{}",
        explain(&out)
    );
    let out = verify(&["--files", text(&first), "--json"]);
    let json = json_of(&out);
    assert_eq!(json["partial"], true, "{json}");
    assert_eq!(
        json["checked_files"],
        serde_json::json!(["shards/00001.safetensors"])
    );
    let out = verify(&["--files", text(&f.shard(2))]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
}

#[test]
fn files_is_refused_where_it_cannot_apply() {
    let f = Fixture::signed(&[]);
    let first = f.shard(1);
    let out = f.verify(&["--files", text(&first), "--ignore-unsigned-files"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("--ignore-unsigned-files"),
        "{}",
        explain(&out)
    );

    // An image is verified from its manifest: there is no file to select.
    let out = run(&[
        "verify",
        "key",
        "oci-layout:/nonexistent/layout",
        "--public-key",
        text(&f.file("signer.pub")),
        "--files",
        "a.bin",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("--files selects files of a local model"),
        "{}",
        explain(&out)
    );
}
