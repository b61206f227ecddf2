//! `modelsign verify MODEL --policy FILE`: who may sign which models, from the same policy
//! file `lineage ingest` reads; exit statuses as `verify key`'s for the same failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use modelsign::keys::Curve;
use modelsign::PrivateKey;
use serde_json::Value;
use test_support::{hf_cache_snapshot, HfBlobStore};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

/// A folder with two key pairs (`release`, `stranger`) and a signed model `model`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        for name in ["release", "stranger"] {
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
        let model = fixture.file("model");
        fs::create_dir_all(model.join("sub")).unwrap();
        fs::write(model.join("weights.bin"), "weights").unwrap();
        fs::write(model.join("sub/config.json"), "{}").unwrap();
        let signed = fixture.sign(&model, "release", &fixture.file("model.sig"));
        assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
        fixture
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn sign(&self, model: &Path, key: &str, signature: &Path) -> Output {
        let key = self.file(&format!("{key}.pem"));
        run(&[
            "sign",
            "key",
            path(model),
            "--private-key",
            path(&key),
            "--signature",
            path(signature),
        ])
    }

    /// Writes the policy `text` as `name` and verifies `model` against it.
    fn verify(&self, name: &str, text: &str, model: &Path, extra: &[&str]) -> Output {
        let policy = self.file(name);
        fs::write(&policy, text).unwrap();
        let signature = self.file("model.sig");
        let mut args = vec![
            "verify",
            path(model),
            "--policy",
            path(&policy),
            "--signature",
            path(&signature),
        ];
        args.extend_from_slice(extra);
        run(&args)
    }

    /// `verify key` of `model` with the public key `key`, for its exit status.
    fn verify_key(&self, model: &Path, key: &str, signature: &Path) -> Output {
        let public = self.file(&format!("{key}.pub"));
        run(&[
            "verify",
            "key",
            path(model),
            "--public-key",
            path(&public),
            "--signature",
            path(signature),
        ])
    }
}

const RELEASE: &str = "[[signer]]\nname = \"release\"\nkey = \"release.pub\"\n";
const STRANGER: &str = "[[signer]]\nname = \"other\"\nkey = \"stranger.pub\"\n";

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(out), stderr(out)))
}

#[test]
fn a_model_its_trusted_signer_signed_verifies_and_the_output_names_signer_and_mode() {
    let f = Fixture::new();
    let out = f.verify("trust.toml", RELEASE, &f.file("model"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Verification succeeded: "), "{text}");
    assert!(
        text.contains("Signed by the policy's signer 'release' (trust policy '"),
        "{text}"
    );
    assert!(text.contains("mode enforce)"), "{text}");
}

#[test]
fn an_enforcing_policy_refuses_as_verify_key_fails_with_the_same_exit_status() {
    let f = Fixture::new();
    let model = f.file("model");
    let signature = f.file("model.sig");

    // Signed by a key the policy does not trust.
    let out = f.verify("trust.toml", STRANGER, &model, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        out.status.code(),
        f.verify_key(&model, "stranger", &signature).status.code()
    );
    let message = stderr(&out);
    assert!(
        message.starts_with(
            "Verification failed: no signer of the trust policy verifies the signature (other: "
        ),
        "{message}"
    );
    assert!(message.contains("mode enforce)"), "{message}");

    // A name pattern the model's name does not match.
    let named = format!("{RELEASE}names = [\"acme-*\"]\n");
    let out = f.verify("named.toml", &named, &model, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no signer of the trust policy may sign a model named 'model'"),
        "{}",
        stderr(&out)
    );

    // No signature where it is said to be: unusable input, exit 2 as for `verify key`.
    fs::rename(&signature, f.file("elsewhere.sig")).unwrap();
    let out = f.verify("trust.toml", RELEASE, &model, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        out.status.code(),
        f.verify_key(&model, "release", &signature).status.code()
    );
    assert!(stderr(&out).contains("model.sig"), "{}", stderr(&out));
}

#[test]
fn a_changed_model_fails_with_what_changed_as_verify_key_does() {
    let f = Fixture::new();
    let model = f.file("model");
    fs::write(model.join("weights.bin"), "poisoned").unwrap();
    let out = f.verify("trust.toml", RELEASE, &model, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        out.status.code(),
        f.verify_key(&model, "release", &f.file("model.sig"))
            .status
            .code()
    );
    let message = stderr(&out);
    assert!(
        message.contains("signed by the policy's signer 'release', but model does not match"),
        "{message}"
    );
    assert!(message.contains("weights.bin"), "{message}");

    let out = f.verify("trust.toml", RELEASE, &model, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let value = json_of(&out);
    assert_eq!(value["ok"], false);
    assert_eq!(value["accepted"], false);
    assert_eq!(value["signer"], "release");
    assert_eq!(value["failure"]["kind"], "model");
    assert_eq!(
        value["failure"]["changed"],
        serde_json::json!(["weights.bin"])
    );
}

#[test]
fn a_warning_policy_exits_0_and_says_on_stderr_what_it_let_through() {
    let f = Fixture::new();
    let warn = format!("mode = \"warn\"\n{STRANGER}");
    let out = f.verify("warn.toml", &warn, &f.file("model"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warning = stderr(&out);
    assert!(
        warning.starts_with("warning: the trust policy refuses '"),
        "{warning}"
    );
    assert!(
        warning.contains("its mode is warn: no signer of the trust policy verifies"),
        "{warning}"
    );
    assert!(stdout(&out).contains("mode warn"), "{}", stdout(&out));

    let out = f.verify("warn.toml", &warn, &f.file("model"), &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let value = json_of(&out);
    assert_eq!(value["ok"], true);
    assert_eq!(value["verified"], false);
    assert_eq!(value["mode"], "warn");
    assert_eq!(value["accepted"], false);
    assert_eq!(value["failure"]["kind"], "untrusted");
}

#[test]
fn json_gives_mode_acceptance_signer_names_and_the_failure_with_each_attempt() {
    let f = Fixture::new();
    let model = f.file("model");
    let out = f.verify("trust.toml", RELEASE, &model, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value = json_of(&out);
    assert_eq!(value["ok"], true);
    assert_eq!(value["verified"], true);
    assert_eq!(value["mode"], "enforce");
    assert_eq!(value["accepted"], true);
    assert_eq!(value["signer"], "release");
    assert_eq!(value["names"], serde_json::json!(["model"]));
    assert_eq!(value["failure"], Value::Null);
    assert_eq!(value["resources"], 2);
    assert!(value["identity"]["public_key_hint"].is_string(), "{value}");

    let two = format!("{STRANGER}[[signer]]\nname = \"third\"\nkey = \"stranger.pub\"\n");
    let out = f.verify("two.toml", &two, &model, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let value = json_of(&out);
    assert_eq!(value["ok"], false);
    assert_eq!(value["mode"], "enforce");
    assert_eq!(value["signer"], Value::Null);
    let failure = &value["failure"];
    assert_eq!(failure["kind"], "untrusted");
    assert!(failure["message"].as_str().unwrap().contains("other: "));
    let attempts = failure["attempts"].as_array().unwrap();
    let signers: Vec<&str> = attempts
        .iter()
        .map(|a| a["signer"].as_str().unwrap())
        .collect();
    assert_eq!(signers, ["other", "third"]);
    assert!(attempts.iter().all(|a| a["reason"].is_string()));
}

#[test]
fn a_hugging_face_snapshot_is_matched_by_its_repository_never_by_its_signatures_claim() {
    let f = Fixture::new();
    let files: &[(&str, &[u8])] = &[("config.json", b"{}"), ("model.safetensors", b"weights")];
    let cache = f.file("hub");
    let chat = hf_cache_snapshot(&cache, "models--acme--chat", files, HfBlobStore::Repository);
    let other = hf_cache_snapshot(
        &cache,
        "models--other--chat",
        files,
        HfBlobStore::Repository,
    );
    let signature = f.file("model.sig");
    let signed = f.sign(&chat, "release", &signature);
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let policy = format!("{RELEASE}names = [\"pkg:huggingface/acme/*\"]\n");
    let out = f.verify("trust.toml", &policy, &chat, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let value = json_of(&out);
    assert_eq!(
        value["names"],
        serde_json::json!(["acme/chat", "pkg:huggingface/acme/chat"])
    );
    // The same files and the same signature, in another repository: that name no signer
    // may sign, whatever the signature says.
    let out = f.verify("trust.toml", &policy, &other, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let value = json_of(&out);
    assert_eq!(value["failure"]["kind"], "no-signer");
    assert_eq!(
        value["names"],
        serde_json::json!(["other/chat", "pkg:huggingface/other/chat"])
    );
}

#[test]
fn the_method_subcommands_and_their_default_are_unchanged_and_help_shows_a_policy() {
    let f = Fixture::new();
    let model = f.file("model");
    let signature = f.file("model.sig");
    let out = f.verify_key(&model, "release", &signature);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // `verify MODEL` without --policy is still the sigstore method, as in model_signing.
    let out = run(&["verify", path(&model), "--signature", path(&signature)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--identity-provider"),
        "{}",
        stderr(&out)
    );
    // A method and --policy are one or the other.
    let out = run(&[
        "verify",
        "key",
        path(&model),
        "--public-key",
        path(&f.file("release.pub")),
        "--signature",
        path(&signature),
        "--policy",
        "trust.toml",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let help = stdout(&run(&["verify", "--help"]));
    assert!(help.contains("--policy <FILE>"), "{help}");
    assert!(help.contains("mode = \"enforce\""), "{help}");
    assert!(
        help.contains("names = [\"pkg:huggingface/acme/*\"]"),
        "{help}"
    );
}

#[test]
fn the_policy_help_says_how_to_name_a_model_folder_called_like_a_method() {
    let help = stdout(&run(&["verify", "--help"]));
    assert!(
        help.contains("A model folder named key, certificate or sigstore must be written ./key"),
        "{help}"
    );
}

#[test]
fn an_unusable_policy_is_bad_input() {
    let f = Fixture::new();
    let model = f.file("model");
    let out = f.verify(
        "bad.toml",
        &format!("mode = \"audit\"\n{RELEASE}"),
        &model,
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("mode 'audit' is not a mode"),
        "{}",
        stderr(&out)
    );
    let absent_key = "[[signer]]\nname = \"release\"\nkey = \"absent.pub\"\n";
    let out = f.verify("absent.toml", absent_key, &model, &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let value = json_of(&out);
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .contains("the trust policy's signer 'release' is not usable"),
        "{value}"
    );
}

#[test]
fn a_forged_signature_of_a_trusted_signer_is_invalid_and_exits_as_verify_key_does() {
    let f = Fixture::new();
    let model = f.file("model");
    let signature = f.file("model.sig");
    let mut bundle = modelsign::bundle::Bundle::read(&signature).unwrap();
    let sig = &mut bundle.envelope.signatures[0].sig;
    let middle = sig.len() / 2;
    sig[middle] ^= 0x01;
    fs::write(&signature, bundle.to_json()).unwrap();

    let out = f.verify("trust.toml", RELEASE, &model, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        out.status.code(),
        f.verify_key(&model, "release", &signature).status.code()
    );
    let message = stderr(&out);
    assert!(
        message.starts_with(
            "Verification failed: the signature is invalid: it names release of the trust policy"
        ),
        "{message}"
    );
    let out = f.verify("trust.toml", RELEASE, &model, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let value = json_of(&out);
    assert_eq!(value["ok"], false);
    assert_eq!(value["failure"]["kind"], "invalid-signature");
}

#[test]
fn a_policy_whose_signers_may_not_sign_models_says_so_rather_than_blame_the_name() {
    let f = Fixture::new();
    let model = f.file("model");
    let cards = format!("{RELEASE}kinds = [\"card\"]\n");
    let out = f.verify("cards.toml", &cards, &model, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(
            "no signer of the trust policy may sign model signatures (their kinds/stages exclude it)"
        ),
        "{message}"
    );
    assert!(!message.contains("model named"), "{message}");
}

#[test]
fn the_policy_help_says_an_identity_regex_matches_the_whole_identity() {
    for command in [&["verify", "--help"][..], &["lineage", "ingest", "--help"]] {
        let help = stdout(&run(command));
        assert!(
            help.contains("identity_regex must match the whole identity"),
            "{command:?}: {help}"
        );
    }
}
