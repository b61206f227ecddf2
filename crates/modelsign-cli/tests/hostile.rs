//! The `modelsign` command attacked through its inputs: signature targets that would destroy
//! data, endless and oversized input files, files that cost hours to hash, output that
//! cannot be written, names that forge output, odd entries in a model, and the exit codes
//! and JSON of each failure path (issue 12). Every test here failed before its fix.

use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use test_support::{explain, text, two_file_model};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

/// A two-file model signed with a fresh key, in a temporary folder.
struct Signed {
    dir: tempfile::TempDir,
    model: PathBuf,
    key: PathBuf,
    public: PathBuf,
    signature: PathBuf,
}

impl Signed {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = two_file_model(dir.path());
        let private = modelsign::PrivateKey::generate(modelsign::keys::Curve::P256).expect("key");
        let key = dir.path().join("key.pem");
        let public = dir.path().join("key.pub");
        fs::write(&key, private.to_pkcs8_pem().expect("pem")).expect("write key");
        fs::write(&public, private.public_key().to_pem()).expect("write pub");
        let signature = dir.path().join("model.sig");
        let signed = Signed {
            dir,
            model,
            key,
            public,
            signature,
        };
        let out = signed.sign(&signed.signature, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
        signed
    }

    /// Signs this model with this key into `signature`.
    fn sign(&self, signature: &Path, extra: &[&str]) -> Output {
        self.sign_at(text(&self.model), text(signature), extra)
    }

    /// Verifies this model against its signature with this key.
    fn verify(&self, extra: &[&str]) -> Output {
        self.verify_at(text(&self.model), text(&self.signature), extra)
    }

    /// `sign key MODEL` with this key: any model and signature path, as given.
    fn sign_at(&self, model: &str, signature: &str, extra: &[&str]) -> Output {
        let mut args = vec!["sign", "key", model, "--private-key", text(&self.key)];
        args.extend(["--signature", signature]);
        args.extend(extra);
        run(&args)
    }

    /// `verify key MODEL` with this key's public half: any model and signature path.
    fn verify_at(&self, model: &str, signature: &str, extra: &[&str]) -> Output {
        let mut args = vec!["verify", "key", model, "--public-key", text(&self.public)];
        args.extend(["--signature", signature]);
        args.extend(extra);
        run(&args)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run modelsign")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The one JSON object a `--json` run must print on stdout, whatever happened.
fn only_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut documents = serde_json::Deserializer::from_str(&stdout).into_iter::<Value>();
    let first = documents
        .next()
        .unwrap_or_else(|| panic!("no JSON on stdout\n{}", explain(out)))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", explain(out)));
    assert!(
        documents.next().is_none(),
        "more than one JSON document\n{}",
        explain(out)
    );
    first
}

fn names(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn assert_no_temporary_files(dir: &Path) {
    let leftovers: Vec<_> = fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".modelsign-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

// Defect 1: a model file is overwritten by the signature.

#[test]
fn a_signature_over_a_file_of_the_model_is_refused_and_the_file_kept() {
    let s = Signed::new();
    let weights = s.model.join("weights/w.bin");
    let before = fs::read(&weights).expect("read");
    let out = s.sign(&weights, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("it is the model's file 'weights/w.bin', not a signature"),
        "{}",
        explain(&out)
    );
    assert_eq!(fs::read(&weights).expect("read"), before);
    assert_no_temporary_files(&s.model.join("weights"));
}

#[test]
fn a_card_signature_over_a_file_of_the_model_is_refused_and_the_file_kept() {
    let s = Signed::new();
    let card = s.path("card.yaml");
    let out = run(&["card", "init", text(&s.model), "-o", text(&card)]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let weights = s.model.join("weights/w.bin");
    let before = fs::read(&weights).expect("read");
    let out = run(&[
        "card",
        "sign",
        "key",
        text(&s.model),
        "--card",
        text(&card),
        "--private-key",
        text(&s.key),
        "--signature",
        text(&weights),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("it is the model's file"),
        "{}",
        explain(&out)
    );
    assert_eq!(fs::read(&weights).expect("read"), before);
}

#[test]
fn a_signature_over_the_model_itself_or_a_directory_is_refused() {
    let s = Signed::new();
    let out = s.sign(&s.model, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("it is a directory"),
        "{}",
        explain(&out)
    );
    assert!(s.model.join("weights/w.bin").is_file());

    let file_model = s.model.join("config.json");
    let before = fs::read(&file_model).expect("read");
    let out = s.sign_at(text(&file_model), text(&file_model), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("it is the model itself"),
        "{}",
        explain(&out)
    );
    assert_eq!(fs::read(&file_model).expect("read"), before);
}

#[test]
fn an_earlier_signature_inside_the_model_is_still_replaced_when_re_signing() {
    let s = Signed::new();
    let inside = s.model.join("model.sig");
    let out = s.sign(&inside, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let first = fs::read(&inside).expect("read");
    fs::write(s.model.join("config.json"), "{\"layers\": 3}").expect("write");
    let out = s.sign(&inside, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_ne!(fs::read(&inside).expect("read"), first);
}

// Defect 2: special files and links replaced by the rename.

#[test]
fn a_device_node_as_the_signature_is_refused_and_left_a_device() {
    let s = Signed::new();
    // A null device of our own (as root): the same node type as /dev/null, without
    // risking the machine's own if the refusal regressed.
    let device = s.path("null");
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(made.success(), "these tests run as root, as CI does");
    let out = s.sign(&device, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out)
            .contains("it is a character device; a signature is written only as a regular file"),
        "{}",
        explain(&out)
    );
    let meta = fs::symlink_metadata(&device).expect("stat");
    assert!(meta.file_type().is_char_device(), "the device was replaced");
    assert_no_temporary_files(s.dir.path());
}

#[test]
fn a_symbolic_link_as_the_signature_is_refused_and_left_a_link() {
    let s = Signed::new();
    let target = s.path("elsewhere.sig");
    fs::write(&target, "keep me").expect("write");
    let link = s.path("link.sig");
    symlink(&target, &link).expect("symlink");
    let out = s.sign(&link, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("it is a symbolic link"),
        "{}",
        explain(&out)
    );
    assert!(fs::symlink_metadata(&link)
        .expect("stat")
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&target).expect("read"), "keep me");
}

// Defect 5: unbounded reads of small inputs.

#[test]
fn endless_devices_given_as_input_files_are_refused_without_reading() {
    let s = Signed::new();
    let zero = "/dev/zero";
    let model = text(&s.model);
    let sig = text(&s.signature);
    let (out_x, out_y, out_z) = (s.path("x.sig"), s.path("y.sig"), s.path("z.sig"));
    // A password file is only read for an encrypted key.
    let encrypted = s.path("encrypted.pem");
    let made = Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:secret",
            "-in",
        ])
        .arg(&s.key)
        .arg("-out")
        .arg(&encrypted)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", explain(&made));
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "--private-key",
            vec![
                "sign",
                "key",
                model,
                "--private-key",
                zero,
                "--signature",
                text(&out_x),
            ],
        ),
        (
            "--public-key",
            vec![
                "verify",
                "key",
                model,
                "--public-key",
                zero,
                "--signature",
                sig,
            ],
        ),
        (
            "--signature",
            vec![
                "verify",
                "key",
                model,
                "--public-key",
                text(&s.public),
                "--signature",
                zero,
            ],
        ),
        (
            "--certificate-chain",
            vec![
                "verify",
                "certificate",
                model,
                "--certificate-chain",
                zero,
                "--signature",
                sig,
            ],
        ),
        (
            "--password-file",
            vec![
                "sign",
                "key",
                model,
                "--private-key",
                text(&encrypted),
                "--password-file",
                zero,
                "--signature",
                text(&out_y),
            ],
        ),
        (
            "--trusted-root",
            vec![
                "verify",
                "sigstore",
                model,
                "--signature",
                sig,
                "--identity",
                "a@b",
                "--identity-provider",
                "https://x",
                "--trusted-root",
                zero,
            ],
        ),
        (
            "--identity-token-file",
            vec![
                "sign",
                "sigstore",
                model,
                "--signature",
                text(&out_z),
                "--identity-token-file",
                zero,
            ],
        ),
    ];
    for (flag, args) in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", explain(&out));
        assert!(
            stderr(&out).contains("it is a character device, not a regular file"),
            "{flag}: {}",
            explain(&out)
        );
    }
}

#[test]
fn an_oversized_key_or_signature_file_is_refused_naming_the_limit() {
    let s = Signed::new();
    let huge_key = s.path("huge.pem");
    fs::File::create(&huge_key)
        .and_then(|f| f.set_len(2 << 20))
        .expect("sparse key");
    let out = run(&[
        "sign",
        "key",
        text(&s.model),
        "--private-key",
        text(&huge_key),
        "--signature",
        text(&s.path("x.sig")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("larger than 1 MiB"),
        "{}",
        explain(&out)
    );

    let huge_sig = s.path("huge.sig");
    fs::File::create(&huge_sig)
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse signature");
    let out = s.verify_at(text(&s.model), text(&huge_sig), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("larger than 256 MiB"),
        "{}",
        explain(&out)
    );
}

// Defect 6: verification hashes unsigned extra files, and a signed shard size of 1.

#[test]
fn an_enormous_unsigned_file_is_reported_extra_without_being_hashed() {
    let s = Signed::new();
    // 4 TiB of holes: hashing it would take about an hour; naming it takes nothing.
    fs::File::create(s.model.join("dropped.bin"))
        .and_then(|f| f.set_len(4 << 40))
        .expect("sparse file");
    let out = s.verify(&["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let report = only_json(&out);
    assert_eq!(names(&report["extra"]), ["dropped.bin"]);
    assert!(names(&report["changed"]).is_empty());
}

#[test]
fn a_signed_tiny_shard_size_cannot_split_a_grown_model_into_millions_of_tasks() {
    let s = Signed::new();
    let model = s.path("small");
    fs::create_dir(&model).expect("mkdir");
    fs::write(model.join("w.bin"), [1u8; 64]).expect("write");
    let sig = s.path("small.sig");
    let out = s.sign_at(
        text(&model),
        text(&sig),
        &["--serialization", "shards", "--shard-size", "1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    // Grown to 5 MiB, the signed shard size asks for 5,242,880 shards.
    fs::write(model.join("w.bin"), vec![1u8; 5 << 20]).expect("write");
    let out = s.verify_at(text(&model), text(&sig), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stderr(&out).contains("5242880 shards, more than the limit of 1000000 resources"),
        "{}",
        explain(&out)
    );
}

#[test]
fn an_empty_file_of_a_sharded_model_is_neither_hashed_nor_reported_extra() {
    // An empty file has no shard (OMS §6.3.2), so no manifest lists it: naming unsigned
    // files without hashing them must not turn it into an "extra" file.
    let s = Signed::new();
    fs::write(s.model.join("empty.txt"), "").expect("write");
    let sig = s.path("shards.sig");
    let out = s.sign(&sig, &["--serialization", "shards", "--shard-size", "1000"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let out = s.verify_at(text(&s.model), text(&sig), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}

#[test]
fn signing_with_a_shard_size_that_makes_too_many_shards_is_a_usage_error() {
    let s = Signed::new();
    fs::write(s.model.join("weights/w.bin"), vec![1u8; 2 << 20]).expect("write");
    let out = s.sign(
        &s.path("x.sig"),
        &["--serialization", "shards", "--shard-size", "1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("the shard size is 1 bytes"),
        "{}",
        explain(&out)
    );
    assert!(!s.path("x.sig").exists());
}

// Defect 9: panics on output errors.

#[test]
fn a_full_stdout_is_reported_without_a_panic() {
    let s = Signed::new();
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(BIN)
        .args(["digest", text(&s.model)])
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("cannot write the output"),
        "{}",
        explain(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", explain(&out));
}

#[test]
fn a_closed_stdout_pipe_ends_quietly_with_the_verdict() {
    let s = Signed::new();
    for (extra, verdict) in [(None, 0), (Some("--ignore-paths"), 1)] {
        let mut args = vec![
            "verify",
            "key",
            text(&s.model),
            "--public-key",
            text(&s.public),
        ];
        args.extend(["--signature", text(&s.signature), "--json"]);
        if let Some(flag) = extra {
            // Ignoring a signed file makes verification fail: a failure's JSON too.
            args.extend([flag, "config.json"]);
        }
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take()); // `| head -c0`
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read");
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(verdict), "stderr: {err}");
        assert!(err.is_empty(), "expected silence, got: {err}");
    }
}

#[test]
fn a_failing_verification_with_an_unwritable_stderr_still_exits_1() {
    let s = Signed::new();
    fs::write(s.model.join("config.json"), "changed").expect("write");
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(BIN)
        .args([
            "verify",
            "key",
            text(&s.model),
            "--public-key",
            text(&s.public),
        ])
        .args(["--signature", text(&s.signature)])
        .stderr(full)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
}

// Defect 10: forged output through names.

#[test]
fn a_file_name_cannot_forge_a_success_line_or_reach_the_terminal_raw() {
    let s = Signed::new();
    fs::write(
        s.model
            .join("x\nVerification succeeded: model (2 resources)"),
        "x",
    )
    .expect("write");
    fs::write(s.model.join("\u{1b}[2Jcleared"), "x").expect("write");
    let out = s.verify(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let err = stderr(&out);
    assert!(
        !err.lines().any(|l| l.starts_with("Verification succeeded")),
        "forged line: {err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "raw escape reached stderr: {err:?}"
    );
    assert!(err.contains("x\\nVerification succeeded"), "{err}");
    assert!(err.contains("\\x1b[2Jcleared"), "{err}");
}

// Defect 11: reports that stop at the first odd file.

#[test]
fn odd_entries_are_reported_unsupported_alongside_every_other_difference() {
    let s = Signed::new();
    fs::write(s.model.join("weights/w.bin"), "changed").expect("write");
    let fifo = s.model.join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let odd = s.model.join(std::ffi::OsStr::from_bytes(b"bad-\xff.bin"));
    fs::write(odd, "x").expect("write");
    let _socket = std::os::unix::net::UnixListener::bind(s.model.join("sock")).expect("bind");

    let out = s.verify(&["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let report = only_json(&out);
    assert_eq!(report["verified"], false);
    assert_eq!(names(&report["changed"]), ["weights/w.bin"]);
    assert_eq!(
        names(&report["unsupported"]),
        ["bad-\\xff.bin", "pipe", "sock"]
    );

    let out = s.verify(&[]);
    assert!(
        stderr(&out).contains("changed files (1): weights/w.bin"),
        "{}",
        explain(&out)
    );
    assert!(
        stderr(&out).contains("bad-\\xff.bin, pipe, sock"),
        "{}",
        explain(&out)
    );
}

// Defect 12: the output contract of --json.

#[test]
fn usage_errors_with_json_print_one_json_object() {
    let out = run(&["verify", "key", "model", "--json", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let report = only_json(&out);
    assert_eq!(report["ok"], false);
    assert_eq!(report["usage_error"], true);
    assert!(report["error"]
        .as_str()
        .is_some_and(|e| e.contains("--no-such-flag")));

    let out = run(&["verify", "key", "model", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", explain(&out));

    let out = run(&["verify", "key", "--help", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
}

// Defect 13: exit codes and messages that mislead.

#[test]
fn a_junk_trusted_root_is_unusable_input() {
    let s = Signed::new();
    let junk = s.path("root.json");
    for content in [
        r#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#,
        r#"{"mediaType": "text/plain", "certificateAuthorities": []}"#,
    ] {
        fs::write(&junk, content).expect("write");
        let out = run(&[
            "verify",
            "sigstore",
            text(&s.model),
            "--signature",
            text(&s.signature),
            "--identity",
            "a@b",
            "--identity-provider",
            "https://x",
            "--trusted-root",
            text(&junk),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
        assert!(
            stderr(&out).contains("is not a usable Sigstore trusted root"),
            "{}",
            explain(&out)
        );
    }
}

#[test]
fn a_model_signed_with_git_paths_verifies_by_default() {
    let s = Signed::new();
    fs::write(s.model.join(".gitattributes"), "*.bin filter=lfs").expect("write");
    let out = s.sign(&s.signature, &["--no-ignore-git-paths"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let out = s.verify(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    // ... and the signed .gitattributes is really checked.
    fs::write(s.model.join(".gitattributes"), "*.bin -filter").expect("write");
    let out = s.verify(&["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert_eq!(names(&only_json(&out)["changed"]), [".gitattributes"]);
}

#[test]
fn a_non_utf8_ignore_path_is_refused() {
    let s = Signed::new();
    let out = Command::new(BIN)
        .args(["sign", "key", text(&s.model), "--private-key", text(&s.key)])
        .args(["--signature", text(&s.path("x.sig")), "--ignore-paths"])
        .arg(std::ffi::OsStr::from_bytes(b"bad-\xff"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("is not valid UTF-8"),
        "{}",
        explain(&out)
    );
    assert!(!s.path("x.sig").exists());
}

#[test]
fn a_device_or_a_link_as_the_model_path_is_unusable_input() {
    let s = Signed::new();
    let link = s.path("link-to-model");
    symlink(&s.model, &link).expect("symlink");
    for model in ["/dev/null", text(&link)] {
        let out = s.verify_at(model, text(&s.signature), &[]);
        assert_eq!(out.status.code(), Some(2), "{model}: {}", explain(&out));
        let out = s.sign_at(model, text(&s.path("x.sig")), &[]);
        assert_eq!(out.status.code(), Some(2), "{model}: {}", explain(&out));
        assert!(stderr(&out).contains("the model path"), "{}", explain(&out));
    }
}
