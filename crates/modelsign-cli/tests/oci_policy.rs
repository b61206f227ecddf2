//! `verify oci://… --policy FILE`: an image in a registry verified under a trust policy,
//! named by its reference (never by what its signature says), against the signatures
//! stored beside it or a given one. Against the loopback registry scripts/test.sh starts
//! (MODELSIGN_TEST_OCI_REGISTRY, oras from MODELSIGN_OCI_TOOLS).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::{explain, in_ci, text};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn registry_and_oras() -> Option<(String, PathBuf)> {
    match (
        std::env::var("MODELSIGN_TEST_OCI_REGISTRY"),
        std::env::var_os("MODELSIGN_OCI_TOOLS"),
    ) {
        (Ok(registry), Some(tools)) => Some((registry, PathBuf::from(tools).join("oras"))),
        _ => {
            assert!(
                !in_ci(),
                "MODELSIGN_TEST_OCI_REGISTRY and MODELSIGN_OCI_TOOLS must be set in CI: scripts/test.sh starts the registry"
            );
            eprintln!("skipped outside CI: no test registry (run scripts/test.sh, or see tests/oci/README.md)");
            None
        }
    }
}

fn modelsign(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run modelsign")
}

fn push(oras: &Path, dir: &Path, image: &str) {
    let out = Command::new(oras)
        .args([
            "push",
            image,
            "--plain-http",
            "--artifact-type",
            "application/vnd.cncf.model.manifest.v1+json",
        ])
        .arg("weights.bin:application/vnd.cncf.model.weight.v1.raw")
        .current_dir(dir)
        .output()
        .expect("run oras");
    assert!(out.status.success(), "oras push: {}", explain(&out));
}

#[test]
fn a_policy_trusts_an_image_by_its_registry_name_and_finds_its_signature_beside_it() {
    let Some((registry, oras)) = registry_and_oras() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("weights.bin"), b"policy weights").unwrap();
    let key = test_support::certs::new_key(dir.path(), "release");
    test_support::certs::openssl(
        dir.path(),
        &[
            "pkey",
            "-in",
            "release.key",
            "-pubout",
            "-out",
            "release.pub",
        ],
    );
    let image = format!("{registry}/acme/policed:v1");
    push(&oras, dir.path(), &image);
    let reference = format!("oci://{image}");
    let signed = modelsign(&[
        "sign",
        "key",
        &reference,
        "--private-key",
        text(&key),
        "--attach",
        "--insecure-registry",
        &registry,
    ]);
    assert!(signed.status.success(), "{}", explain(&signed));

    let policy = |file: &str, names: &str| {
        let path = dir.path().join(file);
        std::fs::write(
            &path,
            format!("[[signer]]\nname = \"release\"\nkey = \"release.pub\"\nnames = [{names}]\n"),
        )
        .unwrap();
        path
    };
    let trusted = policy("acme.toml", &format!("\"{registry}/acme/*\""));
    let accepted = modelsign(&[
        "verify",
        &reference,
        "--policy",
        text(&trusted),
        "--insecure-registry",
        &registry,
        "--json",
    ]);
    assert!(accepted.status.success(), "{}", explain(&accepted));
    let report: serde_json::Value = serde_json::from_slice(&accepted.stdout).unwrap();
    assert_eq!(report["signer"], "release", "{report}");
    assert_eq!(
        report["names"],
        serde_json::json!([
            format!("{registry}/acme/policed"),
            format!("pkg:oci/policed?repository_url={registry}/acme/policed")
        ]),
        "{report}"
    );
    // The purl form matches too.
    let by_purl = policy("purl.toml", "\"pkg:oci/policed?*\"");
    let accepted = modelsign(&[
        "verify",
        &reference,
        "--policy",
        text(&by_purl),
        "--insecure-registry",
        &registry,
    ]);
    assert!(accepted.status.success(), "{}", explain(&accepted));

    // Trusted for another repository only: refused, naming the image.
    let elsewhere = policy("other.toml", &format!("\"{registry}/other/*\""));
    let refused = modelsign(&[
        "verify",
        &reference,
        "--policy",
        text(&elsewhere),
        "--insecure-registry",
        &registry,
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", explain(&refused));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains(&format!(
            "no signer of the trust policy may sign a model named '{registry}/acme/policed'"
        )),
        "{message}"
    );

    // Another manifest under the tag has no signature: refused, as `verify key` refuses it.
    std::fs::write(dir.path().join("weights.bin"), b"other weights").unwrap();
    push(&oras, dir.path(), &image);
    let unsigned = modelsign(&[
        "verify",
        &reference,
        "--policy",
        text(&trusted),
        "--insecure-registry",
        &registry,
    ]);
    assert_eq!(unsigned.status.code(), Some(1), "{}", explain(&unsigned));
    assert!(
        String::from_utf8_lossy(&unsigned.stderr).contains("no model signature found"),
        "{}",
        explain(&unsigned)
    );
}
