//! What the OCI tests (crates/modelsign-cli/tests/oci*.rs) share: the loopback registries
//! and tools scripts/test.sh provides (tests/oci/build.sh builds them), found through the
//! environment, and the runners and helpers every one of those tests uses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

use crate::{explain, in_ci};

/// The values of the environment variables `names`, in order, or `None` outside CI when
/// one is unset (the caller skips, and this says so and why). In CI a missing one fails:
/// `provided_by` says what sets them, `missing` what the test lacks without them.
pub fn peer_env(names: &[&str], provided_by: &str, missing: &str) -> Option<Vec<String>> {
    let values: Option<Vec<String>> = names.iter().map(|name| std::env::var(name).ok()).collect();
    if values.is_none() {
        assert!(
            !in_ci(),
            "{} must be set in CI: {provided_by}",
            listed(names)
        );
        eprintln!(
            "skipped outside CI: {missing} (run scripts/test.sh, or see tests/oci/README.md)"
        );
    }
    values
}

/// `A`, `A and B`, `A, B and C`.
fn listed(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The plain-HTTP registry with the OCI 1.1 referrers API (`MODELSIGN_TEST_OCI_REGISTRY`)
/// and the folder of oras and crane (`MODELSIGN_OCI_TOOLS`).
pub struct Peers {
    /// `127.0.0.1:PORT`.
    pub registry: String,
    /// The folder holding `oras` and `crane`.
    pub tools: PathBuf,
}

impl Peers {
    /// The registry and tools, or `None` outside CI when they are not set up; `provided_by`
    /// is the CI failure's advice.
    pub fn find(provided_by: &str) -> Option<Self> {
        let [registry, tools] = peer_env(
            &["MODELSIGN_TEST_OCI_REGISTRY", "MODELSIGN_OCI_TOOLS"],
            provided_by,
            "no test registry",
        )?
        .try_into()
        .expect("two values for two names");
        Some(Peers {
            registry,
            tools: PathBuf::from(tools),
        })
    }

    /// As [`Peers::find`], with the registry without the referrers API as well
    /// (`MODELSIGN_TEST_OCI_REGISTRY_NO_REFERRERS`).
    pub fn find_with_no_referrers(provided_by: &str) -> Option<(Self, String)> {
        let [registry, no_referrers, tools] = peer_env(
            &[
                "MODELSIGN_TEST_OCI_REGISTRY",
                "MODELSIGN_TEST_OCI_REGISTRY_NO_REFERRERS",
                "MODELSIGN_OCI_TOOLS",
            ],
            provided_by,
            "no test registry",
        )?
        .try_into()
        .expect("three values for three names");
        let peers = Peers {
            registry,
            tools: PathBuf::from(tools),
        };
        Some((peers, no_referrers))
    }

    /// Runs tool `name` (`oras`, `crane`) in `dir`; panics with its output unless it succeeds.
    pub fn tool(&self, name: &str, args: &[&str], dir: &Path) -> Output {
        run_tool(&self.tools, name, args, dir)
    }

    /// `oras push` of `files` (`name:media-type`, relative to `dir`): the manifest digest.
    pub fn push(
        &self,
        dir: &Path,
        image: &str,
        artifact_type: &str,
        files: &[&str],
        extra: &[&str],
    ) -> String {
        let mut args = vec![
            "push",
            image,
            "--plain-http",
            "--artifact-type",
            artifact_type,
        ];
        args.extend(extra);
        args.extend(files);
        self.tool("oras", &args, dir);
        self.digest(image)
    }

    /// The manifest digest `image` names, from `crane digest`.
    pub fn digest(&self, image: &str) -> String {
        let out = self.tool("crane", &["digest", "--insecure", image], Path::new("."));
        stdout(&out).trim().to_owned()
    }

    /// The manifest `image` names, from `crane manifest`.
    pub fn manifest(&self, image: &str) -> serde_json::Value {
        let out = self.tool("crane", &["manifest", "--insecure", image], Path::new("."));
        serde_json::from_slice(&out.stdout).expect("manifest JSON")
    }
}

/// Runs `tools/name` with `args` in `dir`; panics with its output unless it succeeds.
pub fn run_tool(tools: &Path, name: &str, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(tools.join(name))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"));
    assert!(out.status.success(), "{name} {args:?}: {}", explain(&out));
    out
}

/// The modelsign binary `bin` (the caller's `env!("CARGO_BIN_EXE_modelsign")`), with
/// nothing on stdin so that no prompt waits.
pub fn modelsign_command(bin: &str) -> Command {
    let mut command = Command::new(bin);
    command.stdin(Stdio::null());
    command
}

/// Runs modelsign `bin` with `args`.
pub fn run_modelsign(bin: &str, args: &[&str]) -> Output {
    modelsign_command(bin)
        .args(args)
        .output()
        .expect("run modelsign")
}

/// A command's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A command's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `sha256:<hex>` of `bytes`, as OCI digests are written.
pub fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        base16ct::lower::encode_string(&Sha256::digest(bytes))
    )
}

/// A key pair in `dir` (`signer.key`, `signer.pub`): (private key, public key).
pub fn key_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let key = crate::certs::new_key(dir, "signer");
    crate::certs::openssl(
        dir,
        &["pkey", "-in", "signer.key", "-pubout", "-out", "signer.pub"],
    );
    (key, dir.join("signer.pub"))
}

/// Red Hat's rh-model-signing 1.0.5, through tests/oci/rh_interop.py in the venv
/// scripts/test.sh makes (`MODELSIGN_RH_VENV`), doing `action` on `image` over plain HTTP;
/// `None` outside CI when it is missing.
pub fn rh(action: &str, image: &str, args: &[&str]) -> Option<Output> {
    let venv = std::env::var_os("MODELSIGN_RH_VENV").map(PathBuf::from);
    let python = venv.map(|v| v.join("bin/python")).filter(|p| p.is_file());
    let Some(python) = python else {
        assert!(
            !in_ci(),
            "MODELSIGN_RH_VENV must hold rh-model-signing in CI (scripts/test.sh makes it)"
        );
        eprintln!("skipped outside CI: no rh-model-signing venv (MODELSIGN_RH_VENV)");
        return None;
    };
    let script = crate::workspace_root().join("tests/oci/rh_interop.py");
    Some(
        Command::new(python)
            .arg(script)
            .args([action, image, "--plain-http"])
            .args(args)
            .output()
            .expect("run rh_interop.py"),
    )
}
