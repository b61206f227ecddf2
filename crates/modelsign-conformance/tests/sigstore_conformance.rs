//! sigstore-conformance's bundle verification cases (`sigstore-conformance/bundle-verify` in
//! the shared vectors), run through `modelsign-conformance verify-bundle` exactly as the
//! suite's harness does: once with the artifact's path and once with its `sha256:` digest.
//! A case whose name ends in `_fail` must be rejected, every other case accepted. All runs
//! are offline: the trust root is the case's own or the built-in production root.

use std::fs;
use std::path::Path;
use std::process::Command;

use sha2::{Digest as _, Sha256};

const ADAPTER: &str = env!("CARGO_BIN_EXE_modelsign-conformance");
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn text_or(dir: &Path, name: &str, default: &str) -> String {
    fs::read_to_string(dir.join(name)).map_or_else(|_| default.to_owned(), |t| t.trim().to_owned())
}

#[test]
fn every_bundle_verify_case_by_path_and_by_digest() {
    let suite = test_support::vector("sigstore-conformance/bundle-verify");
    let mut cases: Vec<_> = fs::read_dir(&suite)
        .expect("bundle-verify cases")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    cases.sort();
    let mut runs = 0;
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let should_fail = name.ends_with("_fail");
        let artifact = if case.join("artifact").is_file() {
            case.join("artifact")
        } else {
            suite.join("a.txt")
        };
        let digest = format!(
            "sha256:{}",
            base16ct::lower::encode_string(&Sha256::digest(fs::read(&artifact).expect("artifact")))
        );
        for target in [artifact.display().to_string(), digest] {
            let mut command = Command::new(ADAPTER);
            command
                .arg("verify-bundle")
                .arg("--bundle")
                .arg(case.join("bundle.sigstore.json"));
            if case.join("key.pub").is_file() {
                command.arg("--key").arg(case.join("key.pub"));
            } else {
                command
                    .arg("--certificate-identity")
                    .arg(text_or(case, "identity", DEFAULT_IDENTITY))
                    .arg("--certificate-oidc-issuer")
                    .arg(text_or(case, "issuer", DEFAULT_ISSUER));
            }
            if case.join("trusted_root.json").is_file() {
                command
                    .arg("--trusted-root")
                    .arg(case.join("trusted_root.json"));
            }
            command.arg(&target);
            let output = command.output().expect("run adapter");
            runs += 1;
            let accepted = output.status.success();
            if accepted == should_fail {
                wrong.push(format!(
                    "{name} ({}): expected {}, got {} — {}",
                    if target.starts_with("sha256:") {
                        "digest"
                    } else {
                        "path"
                    },
                    if should_fail {
                        "rejection"
                    } else {
                        "acceptance"
                    },
                    if accepted { "acceptance" } else { "rejection" },
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            } else if !accepted && output.status.code() != Some(1) {
                wrong.push(format!(
                    "{name}: rejected with exit status {:?} (a crash?) — {}",
                    output.status.code(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
        }
    }
    assert_eq!(runs, 140, "the suite has 70 cases, each run twice");
    assert!(
        wrong.is_empty(),
        "{} of {runs} runs disagree with the suite:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
