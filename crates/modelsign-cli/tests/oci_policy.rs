//! `verify oci://… --policy FILE`: an image in a registry verified under a trust policy,
//! named by its reference (never by what its signature says), against the signatures
//! stored beside it or a given one. Against the loopback registry scripts/test.sh starts
//! (MODELSIGN_TEST_OCI_REGISTRY, oras from MODELSIGN_OCI_TOOLS).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::oci::peer_env;
use test_support::{explain, text};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn registry_and_oras() -> Option<(String, PathBuf)> {
    let [registry, tools] = peer_env(
        &["MODELSIGN_TEST_OCI_REGISTRY", "MODELSIGN_OCI_TOOLS"],
        "scripts/test.sh starts the registry",
        "no test registry",
    )?
    .try_into()
    .expect("two values for two names");
    Some((registry, PathBuf::from(tools).join("oras")))
}

fn modelsign(args: &[&str]) -> Output {
    test_support::oci::run_modelsign(BIN, args)
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
    // `verify REFERENCE --policy POLICY --insecure-registry REGISTRY EXTRA…`.
    let verify_under = |policy: &Path, extra: &[&str]| {
        let mut args = vec![
            "verify",
            &reference,
            "--policy",
            text(policy),
            "--insecure-registry",
            &registry,
        ];
        args.extend(extra);
        modelsign(&args)
    };
    let trusted = policy("acme.toml", &format!("\"{registry}/acme/*\""));
    let accepted = verify_under(&trusted, &["--json"]);
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
    let accepted = verify_under(&by_purl, &[]);
    assert!(accepted.status.success(), "{}", explain(&accepted));

    // Trusted for another repository only: refused, naming the image.
    let elsewhere = policy("other.toml", &format!("\"{registry}/other/*\""));
    let refused = verify_under(&elsewhere, &[]);
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
    let unsigned = verify_under(&trusted, &[]);
    assert_eq!(unsigned.status.code(), Some(1), "{}", explain(&unsigned));
    assert!(
        String::from_utf8_lossy(&unsigned.stderr).contains("no model signature found"),
        "{}",
        explain(&unsigned)
    );
}
