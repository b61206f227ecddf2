//! The adapter resolves `--ignore-paths` by the library's rule, the one the CLI uses:
//! a relative path names a path below the model root, wherever the adapter runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use modelsign::model::ignore_paths::resolve_ignore_paths;
use modelsign::{keys::Curve, PrivateKey};

const ADAPTER: &str = env!("CARGO_BIN_EXE_modelsign-conformance");

/// A PEM private key in `dir`.
fn private_key(dir: &Path) -> PathBuf {
    let key = PrivateKey::generate(Curve::P256).expect("generate");
    let path = dir.join("key.pem");
    std::fs::write(&path, key.to_pkcs8_pem().expect("pem")).expect("write");
    path
}

#[test]
fn a_relative_ignore_path_names_a_path_below_the_model_root_as_in_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = test_support::two_file_model(dir.path());
    let key = private_key(dir.path());
    let bundle = dir.path().join("model.sig");
    // Run from a folder without a config.json: the path can only mean the model's.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let out = Command::new(ADAPTER)
        .current_dir(&elsewhere)
        .args([
            "sign-model",
            "--method",
            "key",
            "--ignore-paths",
            "config.json",
        ])
        .arg("--model-path")
        .arg(&model)
        .arg("--private-key")
        .arg(&key)
        .arg("--output-bundle")
        .arg(&bundle)
        .output()
        .expect("run the adapter");
    test_support::assert_ok(&out);

    let (cli_rule, warnings) =
        resolve_ignore_paths(&model, &[PathBuf::from("config.json")], true).expect("resolves");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(cli_rule.is_ignored("config.json"));
    assert_eq!(
        test_support::resource_names(&bundle),
        ["weights/w.bin"],
        "config.json is left out, as the CLI leaves it out"
    );
    let recorded =
        &test_support::signed_statement(&bundle)["predicate"]["serialization"]["ignore_paths"];
    let recorded: Vec<&str> = recorded
        .as_array()
        .expect("ignore_paths is an array")
        .iter()
        .map(|p| p.as_str().expect("text"))
        .collect();
    assert_eq!(recorded, cli_rule.entries().collect::<Vec<_>>());
}
