//! `sign --reuse`: re-signing what changed, with every signing method; an earlier signature
//! that does not verify, or verifies with another key, is refused; a changed file declared
//! unchanged is caught when the new signature is verified.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use modelsign::keys::Curve;
use modelsign::PrivateKey;
use serde_json::Value;
use test_support::{explain, git, signed_statement, text, SigstoreStack};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run modelsign")
}

fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = PrivateKey::generate(Curve::P256).expect("generate");
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub"));
    fs::write(&private, key.to_pkcs8_pem().expect("pem")).expect("write key");
    fs::write(&public, key.public_key().to_pem()).expect("write pub");
    (private, public)
}

/// A model of many small files and one larger one, a key pair, and the model's signature.
struct Fixture {
    dir: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("model");
        fs::create_dir_all(model.join("shards")).expect("mkdir");
        for i in 0..20 {
            fs::write(
                model.join(format!("shards/s{i:02}.bin")),
                vec![i as u8; 3000],
            )
            .expect("write");
        }
        fs::write(model.join("README.md"), "# v1").expect("write");
        fs::write(model.join("tokenizer.json"), "{}").expect("write");
        let (key, public) = key_pair(dir.path(), "key");
        Fixture { dir, key, public }
    }

    fn model(&self) -> PathBuf {
        self.dir.path().join("model")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn sign(&self, signature: &str, extra: &[&str]) -> Output {
        let key = ["key", "--private-key", text(&self.key)];
        self.sign_as(&key, signature, extra)
            .output()
            .expect("run modelsign")
    }

    /// `sign METHOD… MODEL --signature SIGNATURE EXTRA…`, to run.
    fn sign_as(&self, method: &[&str], signature: &str, extra: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("sign")
            .args(method)
            .arg(self.model())
            .arg("--signature")
            .arg(self.path(signature))
            .args(extra)
            .stdin(std::process::Stdio::null());
        command
    }

    fn verify(&self, signature: &str) -> Output {
        run(&[
            "verify",
            "key",
            text(&self.model()),
            "--public-key",
            text(&self.public),
            "--signature",
            text(&self.path(signature)),
        ])
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", explain(out)))
}

#[test]
fn re_signing_after_one_change_hashes_one_file_and_equals_a_full_re_sign() {
    let f = Fixture::new();
    assert!(f.sign("v1.sig", &[]).status.success());
    fs::write(f.model().join("README.md"), "# v2, longer").expect("write");
    fs::write(f.model().join("added.txt"), "new").expect("write");
    fs::remove_file(f.model().join("tokenizer.json")).expect("remove");

    let out = f.sign(
        "v2.sig",
        &[
            "--reuse",
            text(&f.path("v1.sig")),
            "--changed",
            "README.md",
            "--json",
        ],
    );
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    // README.md (listed) and added.txt (new) are hashed; the 20 shards are reused.
    assert_eq!(report["reused"]["files"], 20, "{report}");
    assert_eq!(report["reused"]["hashed_files"], 2, "{report}");
    assert_eq!(report["reused"]["bytes"], 60_000, "{report}");
    assert_eq!(report["resources"], 22);

    assert!(f.sign("full.sig", &[]).status.success());
    assert_eq!(
        signed_statement(&f.path("v2.sig")),
        signed_statement(&f.path("full.sig"))
    );
    let verified = f.verify("v2.sig");
    assert!(verified.status.success(), "{}", explain(&verified));

    // The text report says what was hashed and what kept.
    let out = f.sign(
        "v3.sig",
        &["--reuse", text(&f.path("v2.sig")), "--changed", "shards"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", explain(&out));
    assert!(
        stdout.contains("hashed 20 files (58.6 KiB); 2 files (15 bytes) kept the digests of the verified earlier signature"),
        "{stdout}"
    );
}

#[test]
fn an_earlier_signature_made_by_another_key_or_altered_is_refused() {
    let f = Fixture::new();
    let (other_key, other_public) = key_pair(f.dir.path(), "other");
    let out = run(&[
        "sign",
        "key",
        text(&f.model()),
        "--private-key",
        text(&other_key),
        "--signature",
        text(&f.path("other.sig")),
    ]);
    assert!(out.status.success(), "{}", explain(&out));

    // By default the signing key's own public key must verify it.
    let out = f.sign(
        "new.sig",
        &[
            "--reuse",
            text(&f.path("other.sig")),
            "--changed",
            "README.md",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr.contains("the earlier signature to reuse does not verify"),
        "{stderr}"
    );
    assert!(!f.path("new.sig").exists(), "nothing is written");

    // Given the other key, it is reused.
    let out = f.sign(
        "new.sig",
        &[
            "--reuse",
            text(&f.path("other.sig")),
            "--reuse-public-key",
            text(&other_public),
            "--changed",
            "README.md",
        ],
    );
    assert!(out.status.success(), "{}", explain(&out));

    // An altered earlier signature: its statement no longer matches the DSSE signature.
    assert!(f.sign("v1.sig", &[]).status.success());
    test_support::rewrite_statement(&f.path("v1.sig"), &f.path("altered.sig"), |statement| {
        statement["predicate"]["resources"][0]["digest"] = Value::from("00".repeat(32));
    });
    let out = f.sign(
        "new2.sig",
        &[
            "--reuse",
            text(&f.path("altered.sig")),
            "--changed",
            "README.md",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not verify"),
        "{}",
        explain(&out)
    );
    assert!(!f.path("new2.sig").exists());
}

#[test]
fn a_changed_file_declared_unchanged_is_caught_when_verifying_naming_it() {
    let f = Fixture::new();
    assert!(f.sign("v1.sig", &[]).status.success());
    fs::write(f.model().join("shards/s07.bin"), vec![99u8; 3000]).expect("write");
    fs::write(f.model().join("README.md"), "# v2").expect("write");
    let out = f.sign(
        "v2.sig",
        &["--reuse", text(&f.path("v1.sig")), "--changed", "README.md"],
    );
    assert!(out.status.success(), "{}", explain(&out));
    let out = f.verify("v2.sig");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(stderr.contains("shards/s07.bin"), "{stderr}");
    assert!(!stderr.contains("README.md"), "{stderr}");
}

#[test]
fn reuse_needs_what_changed_and_the_same_settings_and_a_local_model() {
    let f = Fixture::new();
    assert!(f.sign("v1.sig", &[]).status.success());
    let out = f.sign("v2.sig", &["--reuse", text(&f.path("v1.sig"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--changed PATH"),
        "{}",
        explain(&out)
    );

    let out = f.sign("v2.sig", &["--changed", "README.md"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--changed without --reuse is a usage error"
    );

    let out = f.sign(
        "v2.sig",
        &[
            "--reuse",
            text(&f.path("v1.sig")),
            "--changed",
            "README.md",
            "--hash-type",
            "blake3",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("hashed sha256 files and this signing hashes blake3 files"),
        "{}",
        explain(&out)
    );

    let out = f.sign(
        "v2.sig",
        &[
            "--reuse",
            text(&f.path("v1.sig")),
            "--changed",
            "../outside",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not inside the model"),
        "{}",
        explain(&out)
    );
    assert!(!f.path("v2.sig").exists());
}

#[test]
fn changed_since_git_hashes_what_git_reports_and_keeps_renamed_files() {
    let f = Fixture::new();
    let model = f.model();
    git(&model, &["init", "-q"]);
    git(&model, &["add", "."]);
    git(&model, &["commit", "-q", "-m", "v1"]);
    assert!(f.sign("v1.sig", &[]).status.success());
    fs::write(model.join("README.md"), "# v2").expect("write");
    git(&model, &["mv", "shards/s00.bin", "shards/first.bin"]);

    let out = f.sign(
        "v2.sig",
        &[
            "--reuse",
            text(&f.path("v1.sig")),
            "--changed-since-git",
            "HEAD",
            "--json",
        ],
    );
    let report = json(&out);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(report["reused"]["hashed_files"], 1, "{report}");
    assert_eq!(report["reused"]["files"], 21, "{report}");
    assert_eq!(
        report["reused"]["renamed"],
        serde_json::json!([{"from": "shards/s00.bin", "to": "shards/first.bin"}])
    );
    assert!(f.sign("full.sig", &[]).status.success());
    assert_eq!(
        signed_statement(&f.path("v2.sig")),
        signed_statement(&f.path("full.sig"))
    );

    let out = f.sign(
        "v3.sig",
        &[
            "--reuse",
            text(&f.path("v1.sig")),
            "--changed-since-git",
            "no-such-rev",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot tell what changed with git"),
        "{}",
        explain(&out)
    );
}

#[test]
fn a_certificate_signature_is_reused_with_the_roots_given() {
    let f = Fixture::new();
    let keys = test_support::vector("oms-conformance/assets/keys/certificate");
    let (key, leaf, chain) = (
        keys.join("signing-key.pem"),
        keys.join("signing-key-cert.pem"),
        keys.join("int-ca-cert.pem"),
    );
    let method = [
        "certificate",
        "--private-key",
        text(&key),
        "--signing-certificate",
        text(&leaf),
        "--certificate-chain",
        text(&chain),
    ];
    let sign = |signature: &str, extra: &[&str]| {
        f.sign_as(&method, signature, extra)
            .output()
            .expect("run modelsign")
    };
    assert!(sign("v1.sig", &[]).status.success());
    fs::write(f.model().join("README.md"), "# v2").expect("write");
    let earlier = f.path("v1.sig");
    let out = sign(
        "v2.sig",
        &["--reuse", text(&earlier), "--changed", "README.md"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--reuse-certificate-chain ROOT"),
        "{}",
        explain(&out)
    );

    let root = keys.join("ca-cert.pem");
    let out = sign(
        "v2.sig",
        &[
            "--reuse",
            text(&earlier),
            "--changed",
            "README.md",
            "--reuse-certificate-chain",
            text(&root),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(json(&out)["reused"]["hashed_files"], 1);

    // Another root does not vouch for it.
    let stranger = test_support::vector("oms-conformance/assets/keys/wrong/wrong-ca-cert.pem");
    let out = sign(
        "v3.sig",
        &[
            "--reuse",
            text(&earlier),
            "--changed",
            "README.md",
            "--reuse-certificate-chain",
            text(&stranger),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not verify"),
        "{}",
        explain(&out)
    );
}

#[test]
fn a_sigstore_signature_is_reused_for_the_identity_given() {
    let stack = SigstoreStack::start();
    let f = Fixture::new();
    let token = stack.identity_token_file();
    let trust_config = stack.trust_config();
    let method = [
        "sigstore",
        "--trust-config",
        text(&trust_config),
        "--identity-token-file",
        text(&token),
    ];
    let sign = |signature: &str, extra: &[&str]| {
        f.sign_as(&method, signature, extra)
            .output()
            .expect("run modelsign")
    };
    let out = sign("v1.sig", &[]);
    assert!(out.status.success(), "{}", explain(&out));
    fs::write(f.model().join("README.md"), "# v2").expect("write");
    let earlier = f.path("v1.sig");
    let out = sign(
        "v2.sig",
        &["--reuse", text(&earlier), "--changed", "README.md"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));

    let reuse = |identity: &str| {
        sign(
            "v2.sig",
            &[
                "--reuse",
                text(&earlier),
                "--changed",
                "README.md",
                "--reuse-identity",
                identity,
                "--reuse-identity-provider",
                &stack.url,
                "--json",
            ],
        )
    };
    let out = reuse("someone-else@example.com");
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let out = reuse(&stack.identity);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(json(&out)["reused"]["files"], 21);
    let out = run(&[
        "verify",
        "sigstore",
        text(&f.model()),
        "--signature",
        text(&f.path("v2.sig")),
        "--trust-config",
        text(&stack.trust_config()),
        "--identity",
        &stack.identity,
        "--identity-provider",
        &stack.url,
    ]);
    assert!(out.status.success(), "{}", explain(&out));
}

#[test]
fn the_stat_cache_finds_the_changed_file_without_being_told() {
    let f = Fixture::new();
    let cache = f.path("cache");
    let method = [
        "key",
        "--private-key",
        text(&f.key),
        "--stat-cache",
        "--json",
    ];
    let sign = |signature: &str, extra: &[&str]| {
        f.sign_as(&method, signature, extra)
            .env("MODELSIGN_CACHE_DIR", &cache)
            .output()
            .expect("run modelsign")
    };
    // Let the model's files age past the racy window, so the cache records them.
    std::thread::sleep(std::time::Duration::from_millis(2300));
    let out = sign("v1.sig", &[]);
    let report = json(&out);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(report["stat_cache"]["recorded_files"], 22, "{report}");
    assert!(report["reused"].is_null());
    let recorded = report["stat_cache"]["path"]
        .as_str()
        .expect("path")
        .to_owned();
    assert!(recorded.starts_with(text(&cache)), "{recorded}");
    assert!(
        !f.model().join(".modelsign").exists() && fs::read_dir(f.model()).expect("ls").count() == 3
    );

    fs::write(f.model().join("shards/s03.bin"), vec![42u8; 3000]).expect("write");
    let out = sign("v2.sig", &["--reuse", text(&f.path("v1.sig"))]);
    let report = json(&out);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(report["reused"]["hashed_files"], 1, "{report}");
    assert_eq!(report["reused"]["files"], 21, "{report}");
    let verified = f.verify("v2.sig");
    assert!(verified.status.success(), "{}", explain(&verified));

    // Without a cache folder to use, --stat-cache is refused before anything is signed.
    let out = f
        .sign_as(
            &["key", "--private-key", text(&f.key)],
            "v3.sig",
            &["--stat-cache"],
        )
        .env_remove("MODELSIGN_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("HOME")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(!f.path("v3.sig").exists());
}

/// `sum` (sha256sum, b2sum) of every file of the model, run in the model's folder.
fn checksum_list(f: &Fixture, sum: &str, to: &str, except: &[&str]) -> PathBuf {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("find . -type f | sort | xargs {sum}"))
        .current_dir(f.model())
        .output()
        .expect("checksum tool");
    assert!(out.status.success(), "{}", explain(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let kept: String = text
        .lines()
        .filter(|line| !except.iter().any(|e| line.ends_with(e)))
        .map(|line| format!("{line}\n"))
        .collect();
    let path = f.path(to);
    fs::write(&path, kept).expect("write list");
    path
}

#[test]
fn digests_from_a_pipelines_checksum_list_are_signed_without_re_hashing() {
    let f = Fixture::new();
    let list = checksum_list(&f, "sha256sum", "SHA256SUMS", &[]);
    let out = f.sign("listed.sig", &["--digests", text(&list), "--json"]);
    let report = json(&out);
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(report["known_digests"]["files"], 22, "{report}");
    assert_eq!(report["known_digests"]["hashed_files"], 0, "{report}");
    assert!(f.sign("full.sig", &[]).status.success());
    assert_eq!(
        signed_statement(&f.path("listed.sig")),
        signed_statement(&f.path("full.sig"))
    );
    assert!(f.verify("listed.sig").status.success());

    // A list that leaves files out: those are hashed, and the text report says so.
    let partial = checksum_list(&f, "sha256sum", "PARTIAL", &["README.md", "tokenizer.json"]);
    let out = f.sign("partial.sig", &["--digests", text(&partial)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", explain(&out));
    assert!(
        stdout.contains("hashed 2 files") && stdout.contains("not re-hashed"),
        "{stdout}"
    );
    assert_eq!(
        signed_statement(&f.path("partial.sig")),
        signed_statement(&f.path("full.sig"))
    );

    // b2sum's BLAKE2b-512 with --hash-type blake2b.
    let b2 = checksum_list(&f, "b2sum", "B2SUMS", &[]);
    let out = f.sign(
        "b2.sig",
        &["--digests", text(&b2), "--hash-type", "blake2b", "--json"],
    );
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(json(&out)["known_digests"]["files"], 22);
    assert!(f.verify("b2.sig").status.success());

    // Another tool's OMS manifest: a signature bundle (its signature is not what counts).
    let out = f.sign(
        "from-bundle.sig",
        &["--digests", text(&f.path("full.sig")), "--json"],
    );
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(json(&out)["known_digests"]["files"], 22);
}

#[test]
fn a_wrong_or_foreign_digest_list_never_gives_a_signature_that_verifies() {
    let f = Fixture::new();
    let list = checksum_list(&f, "sha256sum", "SHA256SUMS", &[]);
    // A wrong digest is signed as given, and verification names the file.
    let text_list = fs::read_to_string(&list).expect("read");
    let wrong = text_list.replacen(&text_list[..64], &"0".repeat(64), 1);
    let first_file = text_list.lines().next().expect("a line")[66..]
        .trim_start_matches("./")
        .to_owned();
    fs::write(f.path("WRONG"), wrong).expect("write");
    let out = f.sign("wrong.sig", &["--digests", text(&f.path("WRONG"))]);
    assert!(out.status.success(), "{}", explain(&out));
    let out = f.verify("wrong.sig");
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&first_file),
        "{}",
        explain(&out)
    );

    // A file the model lacks: another model's list.
    fs::write(
        f.path("FOREIGN"),
        format!("{text_list}{}  ./elsewhere.bin\n", "1".repeat(64)),
    )
    .expect("write");
    let out = f.sign("foreign.sig", &["--digests", text(&f.path("FOREIGN"))]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("elsewhere.bin"),
        "{}",
        explain(&out)
    );
    assert!(!f.path("foreign.sig").exists());

    // Whole-file digests cannot be signed as shards, nor sha256 digests as blake2b.
    let out = f.sign(
        "shards.sig",
        &["--digests", text(&list), "--serialization", "shards"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("whole files"),
        "{}",
        explain(&out)
    );
    let out = f.sign(
        "b2.sig",
        &["--digests", text(&list), "--hash-type", "blake2b"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
}
