//! Where tests find what they need outside the repository: the shared test vectors and the
//! Python reference implementation. Missing pieces fail loudly (never a silent skip) when
//! the environment says they are expected.

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod certs;
pub mod database;
pub mod oci;

pub use database::PostgresSchema;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("test-support lives two levels below the workspace root")
        .to_path_buf()
}

/// The shared test vectors: `$MODELSIGN_VECTORS`, else `../shared/vectors` beside the
/// repository. Panics with instructions when absent: the tests that call this need it.
pub fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("MODELSIGN_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/vectors"));
    assert!(
        dir.join("README.md").is_file(),
        "test vectors not found at {} — set MODELSIGN_VECTORS to the shared/vectors folder",
        dir.display()
    );
    dir
}

/// A path inside the shared vectors.
pub fn vector(relative: &str) -> PathBuf {
    vectors_dir().join(relative)
}

/// True when running in CI, where every interop peer must be present.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The Python venv that `scripts/test.sh` prepares: `$MODELSIGN_PYTHON_VENV`, default
/// `<workspace>/.venv`.
pub fn python_venv() -> PathBuf {
    std::env::var_os("MODELSIGN_PYTHON_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"))
}

/// The Python reference CLI (`model_signing` 1.1.1) from the venv that `scripts/test.sh`
/// prepares: `$MODELSIGN_PYTHON_VENV/bin/model_signing`, default `<workspace>/.venv`.
/// Returns `None` outside CI when it is not installed (the caller skips, saying so); in CI
/// its absence is a failure.
pub fn model_signing_cli() -> Option<PathBuf> {
    let cli = python_venv().join("bin/model_signing");
    if cli.is_file() {
        return Some(cli);
    }
    assert!(
        !in_ci(),
        "model_signing not found at {} in CI — scripts/test.sh must install it",
        cli.display()
    );
    eprintln!(
        "SKIPPED: model_signing not installed at {} (run scripts/test.sh)",
        cli.display()
    );
    None
}

/// Copies a directory tree (regular files and directories only) into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy target");
    for entry in std::fs::read_dir(from).expect("read source dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy file");
            // Vectors are read-only; copies must be writable for tamper tests.
            let mut perms = std::fs::metadata(&target).expect("stat").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&target, perms).expect("chmod");
        }
    }
}

/// Extracts the OMS conformance model fixtures (`assets/models.tar`) into a temp dir and
/// returns it; the tarball holds `.git` folders and non-ASCII names, hence no plain copy.
pub fn extract_conformance_models() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let tar = vector("oms-conformance/assets/models.tar");
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "extracting {} failed", tar.display());
    dir
}

/// A running loopback Sigstore stack (`tests/sigstore-stack/server.js`): Fulcio, Rekor v1,
/// a TSA and an OIDC issuer on one 127.0.0.1 port. Stopped when dropped (and by itself
/// after ten minutes, should a test die without dropping it).
pub struct SigstoreStack {
    child: std::process::Child,
    dir: tempfile::TempDir,
    /// The stack's address, also the OIDC issuer of its identity tokens.
    pub url: String,
    /// The identity its tokens name (email claim, certificate SAN).
    pub identity: String,
}

impl SigstoreStack {
    /// Starts a stack. Panics with instructions when Node.js or the fixture's npm packages
    /// are missing (scripts/test.sh installs them).
    pub fn start() -> Self {
        let fixture = workspace_root().join("tests/sigstore-stack");
        assert!(
            fixture.join("node_modules/@sigstore/mock").is_dir(),
            "the Sigstore test stack is not installed: run `npm ci` in {} (scripts/test.sh does)",
            fixture.display()
        );
        // Node.js has been seen to hang at start-up (a deadlock before any of the server's
        // code ran) when many processes start at once; a start that says nothing within
        // the deadline is killed and tried again.
        for _ in 0..3 {
            if let Some(stack) = Self::try_start(&fixture, std::time::Duration::from_secs(30)) {
                return stack;
            }
            eprintln!("the Sigstore test stack did not start in 30 s; starting it again");
        }
        panic!("the Sigstore test stack did not start (3 attempts)");
    }

    fn try_start(fixture: &Path, deadline: std::time::Duration) -> Option<Self> {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new("node")
            .arg(fixture.join("server.js"))
            .arg("--out")
            .arg(dir.path())
            .args(["--lifetime", "600"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node (Node.js) must be installed to run the Sigstore test stack");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let Ok(line) = receiver.recv_timeout(deadline) else {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        };
        let field = |name: &str| -> String {
            let key = format!("\"{name}\":\"");
            let start = line
                .find(&key)
                .unwrap_or_else(|| panic!("the stack did not start: {line:?}"))
                + key.len();
            let end = line[start..].find('"').expect("closing quote") + start;
            line[start..end].to_owned()
        };
        Some(SigstoreStack {
            url: field("url"),
            identity: field("identity"),
            child,
            dir,
        })
    }

    /// ClientTrustConfig (trusted root + signing config) of this stack.
    pub fn trust_config(&self) -> PathBuf {
        self.dir.path().join("trust_config.json")
    }

    /// The stack's trusted root alone.
    pub fn trusted_root(&self) -> PathBuf {
        self.dir.path().join("trusted_root.json")
    }

    /// A file holding a fresh identity token for [`SigstoreStack::identity`].
    pub fn identity_token_file(&self) -> PathBuf {
        self.dir.path().join("identity_token")
    }

    /// The identity token itself.
    pub fn identity_token(&self) -> String {
        std::fs::read_to_string(self.identity_token_file()).expect("identity token")
    }
}

impl Drop for SigstoreStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python interpreter of the venv that scripts/test.sh prepares (model_signing and the
/// `sigstore` package), or `None` outside CI when it is missing.
pub fn venv_python() -> Option<PathBuf> {
    model_signing_cli().map(|cli| cli.with_file_name("python"))
}

/// A SoftHSM2 token set up by `tests/pkcs11/make-token.sh` in a temporary folder: token
/// `modelsign-test` (PIN 123456) with EC keys p256, p384, p521, onboard (generated on the
/// token), an RSA key `rsa`, two keys labelled `twin`, and a certificate chain for p256.
/// Commands that use it must run with [`SoftHsm::conf`] as `SOFTHSM2_CONF`.
pub struct SoftHsm {
    dir: tempfile::TempDir,
}

impl SoftHsm {
    /// Creates the token. Panics (never skips) when SoftHSM2, OpenSC or OpenSSL is missing:
    /// `scripts/test.sh` installs them.
    pub fn create() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let script = workspace_root().join("tests/pkcs11/make-token.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(dir.path())
            .output()
            .expect("run make-token.sh");
        assert!(
            out.status.success(),
            "tests/pkcs11/make-token.sh failed (scripts/test.sh installs softhsm2, opensc and openssl):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        SoftHsm { dir }
    }

    /// The SoftHSM2 configuration to pass as `SOFTHSM2_CONF`.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    /// The SoftHSM2 module file.
    pub fn module_path(&self) -> PathBuf {
        let text = std::fs::read_to_string(self.dir.path().join("module-path"))
            .expect("make-token.sh records the module path");
        PathBuf::from(text.trim())
    }

    /// A file the script wrote (`p256.pub`, `chain/root.pem`, ...).
    pub fn file(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// The URI of key `object` on token `modelsign-test`, found by module name, with the
    /// right PIN.
    pub fn uri(&self, object: &str) -> String {
        format!("pkcs11:token=modelsign-test;object={object}?module-name=softhsm2&pin-value=123456")
    }
}

/// A path as a command argument (test paths are UTF-8).
pub fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A command's exit status, stdout and stderr, for assertion messages.
pub fn explain(out: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs tests/peers/intoto_strict_parse.py on `bundles` with the test venv's Python, or
/// `None` outside CI without the venv (in CI its absence fails).
pub fn intoto_strict_parse(bundles: &[PathBuf]) -> Option<std::process::Output> {
    let python = venv_python()?;
    let script = workspace_root().join("tests/peers/intoto_strict_parse.py");
    let out = Command::new(python)
        .arg(script)
        .args(bundles)
        .output()
        .expect("run python");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("in-toto-attestation "),
        "the in-toto strict parse did not run (scripts/test.sh installs in-toto-attestation): {}",
        explain(&out)
    );
    Some(out)
}

/// Rewrites the statement a bundle signs (the signature no longer matters: the parser only
/// reads the statement).
pub fn rewrite_statement(bundle: &Path, to: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    use base64::Engine as _;
    let mut statement = signed_statement(bundle);
    edit(&mut statement);
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    envelope["dsseEnvelope"]["payload"] = base64::engine::general_purpose::STANDARD
        .encode(serde_json::to_vec(&statement).unwrap())
        .into();
    std::fs::write(to, serde_json::to_vec(&envelope).unwrap()).unwrap();
}

/// Panics with the command's output unless it succeeded.
pub fn assert_ok(out: &std::process::Output) {
    assert!(out.status.success(), "{}", explain(out));
}

/// The in-toto statement a signature bundle signs, decoded from its DSSE envelope here
/// rather than by modelsign, whose output it checks.
pub fn signed_statement(signature: &Path) -> serde_json::Value {
    use base64::Engine as _;
    let text = std::fs::read_to_string(signature).expect("read signature");
    let bundle: serde_json::Value = serde_json::from_str(&text).expect("bundle is JSON");
    let encoded = bundle["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap_or_else(|| panic!("no dsseEnvelope.payload in {}", signature.display()));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("payload is base64");
    serde_json::from_slice(&bytes).expect("payload is JSON")
}

/// The resource names a signature lists, in its order.
pub fn resource_names(signature: &Path) -> Vec<String> {
    signed_statement(signature)["predicate"]["resources"]
        .as_array()
        .expect("predicate.resources is an array")
        .iter()
        .map(|r| r["name"].as_str().expect("resource name").to_owned())
        .collect()
}

/// A small two-file model (`config.json`, `weights/w.bin`) in `dir/model`.
pub fn two_file_model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(model.join("weights")).expect("mkdir");
    std::fs::write(model.join("config.json"), "{\"layers\": 2}").expect("write");
    std::fs::write(model.join("weights/w.bin"), vec![7u8; 100_000]).expect("write");
    model
}

/// Where the contents of a hand-built Hugging Face cache repository live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HfBlobStore {
    /// Regular files in the repository's own `blobs/` (huggingface_hub before 2.x, and 2.x
    /// for files not stored with Xet).
    Repository,
    /// huggingface_hub 2.x's cache-wide store: `<cache>/blobs/<2 hex>/<64 hex>` regular
    /// files, marked by `<cache>/blobs/.huggingface-shared-blobs`, and each repository blob
    /// a relative link to its entry.
    Shared,
}

/// The revision every hand-built cache snapshot has (`refs/main` names it).
pub const HF_REVISION: &str = "0123456789abcdef0123456789abcdef01234567";

/// Builds a Hugging Face cache repository the way huggingface_hub lays it out, in
/// `<cache>/<repository>` (`models--org--name`): `blobs/<etag>` with each file's content,
/// `refs/main` naming [`HF_REVISION`], and `snapshots/<revision>/<file>` a relative link
/// `../../blobs/<etag>` (one more `../` per folder of the file). Returns the snapshot.
pub fn hf_cache_snapshot(
    cache: &Path,
    repository: &str,
    files: &[(&str, &[u8])],
    store: HfBlobStore,
) -> PathBuf {
    use std::fs;
    let repo = cache.join(repository);
    let snapshot = repo.join("snapshots").join(HF_REVISION);
    fs::create_dir_all(repo.join("blobs")).expect("mkdir blobs");
    fs::create_dir_all(repo.join("refs")).expect("mkdir refs");
    fs::write(repo.join("refs/main"), HF_REVISION).expect("write refs/main");
    if store == HfBlobStore::Shared {
        fs::create_dir_all(cache.join("blobs")).expect("mkdir shared store");
        fs::write(cache.join("blobs/.huggingface-shared-blobs"), "1\n").expect("mark store");
    }
    for (index, (name, content)) in files.iter().enumerate() {
        // Real etags are content hashes; any distinct hex name serves the layout.
        let etag = format!("{:040x}", index + 1);
        let blob = repo.join("blobs").join(&etag);
        match store {
            HfBlobStore::Repository => fs::write(&blob, content).expect("write blob"),
            HfBlobStore::Shared => {
                let xet_hash = format!("{:064x}", index + 1);
                let entry = cache.join("blobs").join(&xet_hash[..2]).join(&xet_hash);
                fs::create_dir_all(entry.parent().expect("prefix dir")).expect("mkdir prefix");
                fs::write(&entry, content).expect("write shared blob");
                let relative = format!("../../blobs/{}/{xet_hash}", &xet_hash[..2]);
                std::os::unix::fs::symlink(relative, &blob).expect("link repository blob");
            }
        }
        let link = snapshot.join(name);
        fs::create_dir_all(link.parent().expect("file has a parent")).expect("mkdir snapshot");
        let up = "../".repeat(name.matches('/').count() + 2);
        std::os::unix::fs::symlink(format!("{up}blobs/{etag}"), &link).expect("link snapshot file");
    }
    snapshot
}

/// A deterministic pseudo-random sequence (xorshift64*): property tests replay the same
/// cases on every run, and a failure names the seed that produced it. Seed it non-zero.
pub struct Random(pub u64);

impl Random {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value below `n` (positive).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `len` bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Runs git in `folder` as a throwaway committer (no signing, no user config needed),
/// panicking with its output when it fails.
pub fn git(folder: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(folder)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", explain(&out));
}
