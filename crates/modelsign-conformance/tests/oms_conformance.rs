//! The OMS conformance suite (`oms-conformance/test-cases` in the shared vectors), run through
//! the `modelsign-conformance` adapter binary exactly as the suite's Python harness would:
//! flags per the adapter protocol, absolute paths, exit code as the result.
//!
//! One test per category loops over every case directory, collects each failure with the
//! adapter command line and its stderr, and panics at the end listing all of them, so one
//! bad case does not hide the others. Sigstore verify cases (historical and negative) run
//! offline against the built-in production trust root; Sigstore roundtrip cases sign and
//! verify against a loopback Sigstore stack (tests/sigstore-stack) standing in for the
//! staging instance and the CI identity token the suite expects.
//!
//! Besides the exit codes, every bundle we produce in a roundtrip gets the harness's
//! structural checks (media type, key hint / certificate chain, payload type, statement
//! type, predicate type, subject, resource order and canonical names, algorithm
//! consistency, no `shard_size` for `files`, root digest, expected files, signature file
//! exclusion) and is validated against the OMS v1.0 JSON Schemas (bundle + envelope,
//! statement + predicate).
//!
//! The shared vectors are read-only: models are always copied into temp dirs first.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

const ADAPTER: &str = env!("CARGO_BIN_EXE_modelsign-conformance");

/// A hung adapter (e.g. a symlink cycle walked forever) must fail the case, not the CI job.
const ADAPTER_TIMEOUT: Duration = Duration::from_secs(180);

const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

// ---------------------------------------------------------------------------------------
// Case configuration (the suite's `config.json`)
// ---------------------------------------------------------------------------------------

/// `config.json` as documented in TEST_CASES.md ("Config schema"). Unknown fields are an
/// error so that a new suite feature cannot be silently ignored by this runner.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[allow(dead_code)]
    description: String,
    method: String,
    model: String,
    #[serde(default = "default_relative_to")]
    model_relative_to: String,
    #[serde(default = "default_expect")]
    expect: String,
    #[serde(default)]
    sig_inside_model: bool,
    #[serde(default)]
    #[allow(dead_code)]
    requires_ci: bool,
    #[serde(default)]
    sign: SignBlock,
    #[serde(default)]
    verify: VerifyBlock,
    #[serde(default)]
    expected_signed_files: Option<Vec<String>>,
    #[serde(default)]
    model_modifications: Option<Modifications>,
}

fn default_relative_to() -> String {
    "assets".into()
}

fn default_expect() -> String {
    "pass".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignBlock {
    #[serde(default)]
    private_key: Option<String>,
    #[serde(default)]
    signing_cert: Option<String>,
    #[serde(default)]
    cert_chain: Vec<String>,
    // Sigstore only; sigstore cases are not run.
    #[serde(default)]
    #[allow(dead_code)]
    identity_token_env: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    use_staging: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBlock {
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    cert_chain: Vec<String>,
    #[serde(default)]
    ignore_paths: Vec<String>,
    #[serde(default)]
    ignore_unsigned_files: bool,
    // Sigstore only.
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    identity_provider: Option<String>,
    #[serde(default)]
    use_staging: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Modifications {
    #[serde(default)]
    tamper: BTreeMap<String, String>,
    #[serde(default)]
    delete: Vec<String>,
    #[serde(default)]
    inject: BTreeMap<String, String>,
    #[serde(default)]
    symlinks: BTreeMap<String, String>,
}

impl Config {
    fn expect_fail(&self) -> bool {
        self.expect == "fail"
    }

    /// Rejects values outside the documented enums (a typo must not change the meaning).
    fn check(&self) -> Result<(), String> {
        if !["key", "certificate", "sigstore"].contains(&self.method.as_str()) {
            return Err(format!("unknown method '{}'", self.method));
        }
        if !["assets", "test_dir"].contains(&self.model_relative_to.as_str()) {
            return Err(format!(
                "unknown model_relative_to '{}'",
                self.model_relative_to
            ));
        }
        if !["pass", "fail"].contains(&self.expect.as_str()) {
            return Err(format!("unknown expect '{}'", self.expect));
        }
        Ok(())
    }
}

struct Case {
    name: String,
    dir: PathBuf,
    config: Config,
}

/// Every case directory (one with a `config.json`) under `oms-conformance/test-cases/<rel>`,
/// sorted by name. Panics when the directory or a config is unreadable.
fn discover(rel: &str) -> Vec<Case> {
    let root = test_support::vector(&format!("oms-conformance/test-cases/{rel}"));
    let entries = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read case directory {}: {e}", root.display()));
    let mut cases = Vec::new();
    for entry in entries {
        let dir = entry.expect("read case directory entry").path();
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&config_path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", config_path.display()));
        let config: Config = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("cannot parse {}: {e}", config_path.display()));
        let name = dir
            .file_name()
            .expect("case directory has a name")
            .to_string_lossy()
            .into_owned();
        cases.push(Case { name, dir, config });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

// ---------------------------------------------------------------------------------------
// Shared fixtures
// ---------------------------------------------------------------------------------------

struct Fixtures {
    /// `assets/models.tar` extracted; `models/<name>` lives below it.
    models: tempfile::TempDir,
    /// The read-only `assets` dir, for keys and certificates.
    assets: PathBuf,
    /// For Sigstore roundtrips: a loopback Sigstore stack stands in for the staging
    /// instance and the CI identity token the suite expects (`SIGSTORE_ID_TOKEN`,
    /// `${SIGSTORE_IDENTITY}`, `${SIGSTORE_ISSUER}`).
    sigstore: Option<test_support::SigstoreStack>,
}

impl Fixtures {
    fn new() -> Self {
        let assets = test_support::vector("oms-conformance/assets");
        assert!(
            assets.join("keys").is_dir(),
            "conformance keys missing at {}",
            assets.join("keys").display()
        );
        Fixtures {
            models: test_support::extract_conformance_models(),
            assets,
            sigstore: None,
        }
    }

    fn with_sigstore_stack() -> Self {
        Fixtures {
            sigstore: Some(test_support::SigstoreStack::start()),
            ..Self::new()
        }
    }

    /// A key or certificate named relative to the assets dir; it must exist.
    fn asset(&self, rel: &str) -> Result<PathBuf, String> {
        let path = self.assets.join(rel);
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!("asset '{rel}' not found at {}", path.display()))
        }
    }
}

/// Copies the case's model into `work` (the shared data stays untouched) and applies its
/// `model_modifications`. Returns the absolute model path to pass to the adapter. A model
/// directory keeps its base name (it is the subject name); a single-file model
/// (`model/signme-1`) is copied with its parent directory and the path points at the file.
fn prepare_model(case: &Case, fixtures: &Fixtures, work: &Path) -> Result<PathBuf, String> {
    let config = &case.config;
    let source = if config.model_relative_to == "test_dir" {
        case.dir.join(&config.model)
    } else {
        fixtures.models.path().join(&config.model)
    };
    let model = if source.is_dir() {
        let copy = work.join(source.file_name().ok_or("model path has no name")?);
        test_support::copy_tree(&source, &copy);
        copy
    } else if source.is_file() {
        let parent = source.parent().ok_or("model file has no parent")?;
        let copy = work.join(parent.file_name().ok_or("model parent has no name")?);
        test_support::copy_tree(parent, &copy);
        copy.join(source.file_name().ok_or("model file has no name")?)
    } else {
        return Err(format!("model not found at {}", source.display()));
    };
    if let Some(modifications) = &config.model_modifications {
        apply(modifications, model_dir(&model)).map_err(|e| format!("model_modifications: {e}"))?;
    }
    Ok(model)
}

/// The directory that relative paths (ignore paths, modifications) are resolved against.
fn model_dir(model: &Path) -> &Path {
    if model.is_dir() {
        model
    } else {
        model.parent().expect("a model file has a parent")
    }
}

fn apply(modifications: &Modifications, dir: &Path) -> std::io::Result<()> {
    for (rel, content) in &modifications.tamper {
        std::fs::write(dir.join(rel), content)?;
    }
    for rel in &modifications.delete {
        let path = dir.join(rel);
        if path.exists() {
            std::fs::remove_file(path)?;
        }
    }
    for (rel, content) in &modifications.inject {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)?;
    }
    for (name, target) in &modifications.symlinks {
        let link = dir.join(name);
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // The target is taken literally ("." or "signme-1" or an absolute path).
        #[cfg(unix)]
        std::os::unix::fs::symlink(target, link)?;
        #[cfg(not(unix))]
        return Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("cannot create symlink {} -> {target} here", link.display()),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Running the adapter
// ---------------------------------------------------------------------------------------

struct Run {
    command: String,
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn exit(&self) -> String {
        match self.status {
            None => format!("timed out after {}s (killed)", ADAPTER_TIMEOUT.as_secs()),
            Some(status) => match status.code() {
                Some(code) => format!("exit code {code}"),
                None => format!("{status}"),
            },
        }
    }

    /// The report for a failure: what ran, how it ended, what it said.
    fn report(&self) -> String {
        let mut text = format!("  command: {}\n  result: {}\n", self.command, self.exit());
        let stderr = self.stderr.trim_end();
        text.push_str(&format!(
            "  stderr: {}\n",
            if stderr.is_empty() { "(empty)" } else { stderr }
        ));
        let stdout = self.stdout.trim_end();
        if !stdout.is_empty() {
            text.push_str(&format!("  stdout: {stdout}\n"));
        }
        text
    }

    /// For a case that must be rejected: a clean failure (exit code 1 with a reason), not a
    /// usage error (2: this runner passed bad flags), a panic (101), a signal or a hang.
    fn check_rejected(&self, what: &str) -> Result<String, String> {
        match self.status.and_then(|s| s.code()) {
            Some(0) => Err(format!("{what} succeeded but must fail\n{}", self.report())),
            Some(1) if !self.stderr.trim().is_empty() => {
                Ok(format!("{what} rejected: {}", self.stderr.trim()))
            }
            Some(1) => Err(format!(
                "{what} failed as required but gave no reason on stderr\n{}",
                self.report()
            )),
            Some(2) => Err(format!(
                "{what} failed with a usage error (exit 2), so the rejection proves nothing\n{}",
                self.report()
            )),
            _ => Err(format!(
                "{what} must fail cleanly (exit 1), not crash or hang\n{}",
                self.report()
            )),
        }
    }

    fn check_succeeded(&self, what: &str) -> Result<(), String> {
        if self.succeeded() {
            Ok(())
        } else {
            Err(format!("{what} failed but must succeed\n{}", self.report()))
        }
    }
}

fn shell_quote(arg: &std::ffi::OsStr) -> String {
    let text = arg.to_string_lossy();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn run_adapter(args: &[OsString]) -> Run {
    let command = std::iter::once(OsString::from(ADAPTER))
        .chain(args.iter().cloned())
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new(ADAPTER)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the adapter {ADAPTER}: {e}"));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + ADAPTER_TIMEOUT;
    let status = loop {
        match child.try_wait().expect("wait for the adapter") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                // Hung: kill this child (by its handle) and report the case.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    Run {
        command,
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn arg(flag: &str, value: impl Into<OsString>) -> [OsString; 2] {
    [OsString::from(flag), value.into()]
}

/// `--ignore-paths` flags: config paths are relative to the model (its directory for a
/// single-file model) and are passed as absolute paths, one flag each.
fn ignore_args(model: &Path, ignore_paths: &[String]) -> Vec<OsString> {
    ignore_paths
        .iter()
        .flat_map(|p| arg("--ignore-paths", model_dir(model).join(p)))
        .collect()
}

fn sign_args(
    config: &Config,
    fixtures: &Fixtures,
    model: &Path,
    bundle: &Path,
) -> Result<Vec<OsString>, String> {
    let mut args: Vec<OsString> = vec!["sign-model".into()];
    args.extend(arg("--method", &config.method));
    args.extend(arg("--model-path", model));
    args.extend(arg("--output-bundle", bundle));
    let sign = &config.sign;
    if let Some(key) = &sign.private_key {
        args.extend(arg("--private-key", fixtures.asset(key)?));
    }
    if let Some(cert) = &sign.signing_cert {
        args.extend(arg("--signing-cert", fixtures.asset(cert)?));
    }
    for cert in &sign.cert_chain {
        args.extend(arg("--cert-chain", fixtures.asset(cert)?));
    }
    if config.method == "sigstore" {
        let stack = fixtures
            .sigstore
            .as_ref()
            .ok_or("a Sigstore roundtrip needs the loopback stack")?;
        args.extend(arg("--identity-token", stack.identity_token()));
        args.extend(arg("--trust-config", stack.trust_config()));
    }
    // As the suite's harness does: the verify block's ignore paths also apply at signing
    // (roundtrip configs have no ignore list of their own in `sign`).
    args.extend(ignore_args(model, &config.verify.ignore_paths));
    Ok(args)
}

fn verify_args(
    config: &Config,
    fixtures: &Fixtures,
    model: &Path,
    bundle: &Path,
) -> Result<Vec<OsString>, String> {
    let verify = &config.verify;
    let mut args: Vec<OsString> = vec!["verify-model".into()];
    args.extend(arg("--method", &config.method));
    args.extend(arg("--model-path", model));
    args.extend(arg("--bundle", bundle));
    if let Some(key) = &verify.public_key {
        args.extend(arg("--public-key", fixtures.asset(key)?));
    }
    for cert in &verify.cert_chain {
        args.extend(arg("--cert-chain", fixtures.asset(cert)?));
    }
    match (&fixtures.sigstore, config.method.as_str()) {
        (Some(stack), "sigstore") => {
            // The placeholders name the CI token's identity; ours comes from the stack.
            args.extend(arg("--identity", &stack.identity));
            args.extend(arg("--identity-provider", &stack.url));
            args.extend(arg("--trust-config", stack.trust_config()));
        }
        _ => {
            if let Some(identity) = &verify.identity {
                args.extend(arg("--identity", identity));
            }
            if let Some(provider) = &verify.identity_provider {
                args.extend(arg("--identity-provider", provider));
            }
            if verify.use_staging {
                args.push("--use-staging".into());
            }
        }
    }
    args.extend(ignore_args(model, &verify.ignore_paths));
    if verify.ignore_unsigned_files {
        args.push("--ignore-unsigned-files".into());
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------
// Bundle inspection
// ---------------------------------------------------------------------------------------

/// The OMS v1.0 JSON Schemas, all registered by `$id` so references resolve offline.
struct Schemas {
    bundle: jsonschema::Validator,
    statement: jsonschema::Validator,
}

impl Schemas {
    fn load() -> Self {
        let dir = test_support::vector("oms-spec/schemas/v1.0");
        let read = |name: &str| -> Value {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read schema {}: {e}", path.display()));
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("cannot parse schema {}: {e}", path.display()))
        };
        let documents: Vec<(String, Value)> = [
            "bundle.schema.json",
            "envelope.schema.json",
            "statement.schema.json",
            "predicate.schema.json",
        ]
        .iter()
        .map(|name| {
            let schema = read(name);
            let id = schema["$id"]
                .as_str()
                .unwrap_or_else(|| panic!("schema {name} has no $id"))
                .to_owned();
            (id, schema)
        })
        .collect();
        let mut registry = jsonschema::Registry::new();
        for (id, schema) in &documents {
            registry = registry
                .add(id.as_str(), schema.clone())
                .unwrap_or_else(|e| panic!("cannot register schema {id}: {e}"));
        }
        let registry = registry.prepare().expect("prepare the schema registry");
        let build = |index: usize| {
            jsonschema::options()
                .with_registry(&registry)
                .build(&documents[index].1)
                .unwrap_or_else(|e| panic!("cannot compile schema {}: {e}", documents[index].0))
        };
        Schemas {
            bundle: build(0),
            statement: build(2),
        }
    }
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value, what: &str) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| {
            format!(
                "{what} violates its JSON schema at '{}': {e}",
                e.instance_path()
            )
        })
        .collect()
}

fn read_bundle(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read bundle {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("bundle {} is not JSON: {e}", path.display()))
}

/// The in-toto statement inside the bundle's DSSE envelope (payload: standard, padded base64).
fn decode_statement(bundle: &Value) -> Result<Value, String> {
    let payload = bundle["dsseEnvelope"]["payload"]
        .as_str()
        .ok_or("bundle has no dsseEnvelope.payload string")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| format!("dsseEnvelope.payload is not standard padded base64: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("DSSE payload is not JSON: {e}"))
}

fn resource_names(statement: &Value) -> Result<Vec<String>, String> {
    statement["predicate"]["resources"]
        .as_array()
        .ok_or("predicate.resources is not an array")?
        .iter()
        .map(|r| {
            r["name"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("resource without a string name: {r}"))
        })
        .collect()
}

/// (name, digest, algorithm) of every resource, in listed order.
fn resource_descriptors(statement: &Value) -> Vec<(Value, Value, Value)> {
    statement["predicate"]["resources"]
        .as_array()
        .map(|resources| {
            resources
                .iter()
                .map(|r| {
                    (
                        r["name"].clone(),
                        r["digest"].clone(),
                        r["algorithm"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn check_expected_files(statement: &Value, expected: &Option<Vec<String>>) -> Result<(), String> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let mut actual = resource_names(statement)?;
    actual.sort();
    let mut expected = expected.clone();
    expected.sort();
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "signed files differ from expected_signed_files:\n  expected: {expected:?}\n  actual:   {actual:?}"
        ))
    }
}

/// A resource name in canonical form (§6.1.2): relative, `/`-separated, no empty, `.` or
/// `..` components (so no leading `/`, `./`, `../`, `//` or trailing `/`).
fn canonical_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('/') {
        Some("starts with '/'")
    } else if name.ends_with('/') {
        Some("ends with '/'")
    } else if name.contains("//") {
        Some("contains '//'")
    } else if name.split('/').any(|c| c == ".") {
        Some("has a '.' component")
    } else if name.split('/').any(|c| c == "..") {
        Some("has a '..' component")
    } else {
        None
    }
}

/// The harness's structural checks on a bundle this project produced. Returns the decoded
/// statement, or every problem found.
fn check_produced_bundle(
    bundle_path: &Path,
    config: &Config,
    model: &Path,
    schemas: &Schemas,
) -> Result<Value, String> {
    let bundle = read_bundle(bundle_path)?;
    let mut problems = Vec::new();

    problems.extend(schema_errors(&schemas.bundle, &bundle, "bundle"));
    if bundle["mediaType"] != BUNDLE_MEDIA_TYPE {
        problems.push(format!(
            "mediaType is {} instead of {BUNDLE_MEDIA_TYPE}",
            bundle["mediaType"]
        ));
    }
    let material = &bundle["verificationMaterial"];
    match config.method.as_str() {
        "key" => {
            let hint = material["publicKey"]["hint"].as_str().unwrap_or("");
            let hex_ok = hint.len() == 64
                && hint
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_ok {
                problems.push(format!(
                    "key method: verificationMaterial.publicKey.hint must be 64 lowercase hex \
                     digits, got {}",
                    material["publicKey"]
                ));
            }
        }
        "certificate" => {
            let certificates = material["x509CertificateChain"]["certificates"].as_array();
            if certificates.is_none_or(|c| c.is_empty()) {
                problems.push(format!(
                    "certificate method: verificationMaterial.x509CertificateChain.certificates \
                     missing or empty: {material}"
                ));
            }
        }
        "sigstore" => {
            if !material["certificate"]["rawBytes"].is_string() {
                problems.push(format!(
                    "sigstore method: verificationMaterial.certificate.rawBytes missing: {material}"
                ));
            }
            if material["tlogEntries"]
                .as_array()
                .is_none_or(|e| e.is_empty())
            {
                problems.push(format!(
                    "sigstore method: no transparency log entry in {material}"
                ));
            }
        }
        other => problems.push(format!("unexpected method '{other}' for a produced bundle")),
    }
    if bundle["dsseEnvelope"]["payloadType"] != PAYLOAD_TYPE {
        problems.push(format!(
            "dsseEnvelope.payloadType is {} instead of {PAYLOAD_TYPE}",
            bundle["dsseEnvelope"]["payloadType"]
        ));
    }

    let statement = match decode_statement(&bundle) {
        Ok(statement) => statement,
        Err(e) => {
            problems.push(e);
            return Err(problems.join("\n"));
        }
    };
    problems.extend(schema_errors(&schemas.statement, &statement, "statement"));
    if statement["_type"] != STATEMENT_TYPE {
        problems.push(format!(
            "_type is {} instead of {STATEMENT_TYPE}",
            statement["_type"]
        ));
    }
    if statement["predicateType"] != PREDICATE_TYPE {
        problems.push(format!(
            "predicateType is {} instead of {PREDICATE_TYPE}",
            statement["predicateType"]
        ));
    }

    // Subject: exactly one, named after the model path's basename.
    let subjects = statement["subject"].as_array().cloned().unwrap_or_default();
    let basename = model
        .file_name()
        .expect("model path has a name")
        .to_string_lossy()
        .into_owned();
    if subjects.len() != 1 {
        problems.push(format!(
            "expected exactly one subject, got {}",
            statement["subject"]
        ));
    } else if subjects[0]["name"] != basename.as_str() {
        problems.push(format!(
            "subject[0].name is {} instead of the model basename '{basename}'",
            subjects[0]["name"]
        ));
    }

    // Resources: non-empty, sorted, canonical, algorithms consistent, root digest.
    let serialization = &statement["predicate"]["serialization"];
    let hash_type = &serialization["hash_type"];
    if serialization["method"] == "files" && serialization.get("shard_size").is_some() {
        problems.push(format!(
            "serialization.shard_size must be absent for method 'files': {serialization}"
        ));
    }
    let resources = statement["predicate"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if resources.is_empty() {
        problems.push("predicate.resources is missing or empty".into());
    }
    let mut names = Vec::new();
    let mut concatenated = Vec::new();
    for resource in &resources {
        let name = resource["name"].as_str().unwrap_or_default();
        names.push(name.to_owned());
        if let Some(why) = canonical_name_problem(name) {
            problems.push(format!("resource name {name:?} is not canonical: it {why}"));
        }
        if &resource["algorithm"] != hash_type {
            problems.push(format!(
                "resource {name:?} has algorithm {} but serialization.hash_type is {hash_type}",
                resource["algorithm"]
            ));
        }
        match resource["digest"].as_str().map(base16ct::mixed::decode_vec) {
            Some(Ok(bytes)) => concatenated.extend(bytes),
            _ => problems.push(format!(
                "resource {name:?} digest is not hex: {}",
                resource["digest"]
            )),
        }
    }
    // Plain string order is code-point order for UTF-8; strictly increasing = no duplicates.
    if !names.windows(2).all(|w| w[0] < w[1]) {
        problems.push(format!(
            "resources are not sorted by name (or repeat one): {names:?}"
        ));
    }
    let root = base16ct::lower::encode_string(&Sha256::digest(&concatenated));
    if let Some(subject) = subjects.first() {
        if subject["digest"]["sha256"] != root.as_str() {
            problems.push(format!(
                "subject[0].digest.sha256 is {} but sha256 over the resource digests is {root}",
                subject["digest"]["sha256"]
            ));
        }
    }

    if let Err(e) = check_expected_files(&statement, &config.expected_signed_files) {
        problems.push(e);
    }
    if config.sig_inside_model {
        let relative = bundle_path
            .strip_prefix(model_dir(model))
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| "bundle.sig".into());
        if names.contains(&relative) {
            problems.push(format!(
                "the bundle '{relative}' inside the model is among its own resources"
            ));
        }
    }

    if problems.is_empty() {
        Ok(statement)
    } else {
        Err(problems.join("\n"))
    }
}

// ---------------------------------------------------------------------------------------
// Case runners
// ---------------------------------------------------------------------------------------

/// Returns a one-line note on how the case passed (e.g. the rejection reason).
fn run_roundtrip(case: &Case, fixtures: &Fixtures, schemas: &Schemas) -> Result<String, String> {
    let config = &case.config;
    let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    // Modifications are applied before signing.
    let model = prepare_model(case, fixtures, work.path())?;
    let bundle = if config.sig_inside_model {
        model_dir(&model).join("bundle.sig")
    } else {
        work.path().join("bundle.sig")
    };

    let sign = run_adapter(&sign_args(config, fixtures, &model, &bundle)?);
    if config.expect_fail() {
        let note = sign.check_rejected("sign-model")?;
        if std::fs::symlink_metadata(&bundle).is_ok() {
            return Err(format!(
                "sign-model failed as required but left a (partial) bundle at {}\n{}",
                bundle.display(),
                sign.report()
            ));
        }
        return Ok(note);
    }
    sign.check_succeeded("sign-model")?;
    if !bundle.is_file() {
        return Err(format!(
            "sign-model succeeded but wrote no bundle at {}\n{}",
            bundle.display(),
            sign.report()
        ));
    }
    let statement = check_produced_bundle(&bundle, config, &model, schemas)
        .map_err(|e| format!("the produced bundle fails the structural checks:\n{e}"))?;

    // With --ignore-unsigned-files the harness adds a file after signing, so the flag is
    // really exercised.
    if config.verify.ignore_unsigned_files {
        std::fs::write(
            model_dir(&model).join("injected.bin"),
            "injected after signing\n",
        )
        .map_err(|e| format!("inject after signing: {e}"))?;
    }
    let verify = run_adapter(&verify_args(config, fixtures, &model, &bundle)?);
    verify.check_succeeded("verify-model of the bundle just signed")?;

    if case.name.contains("deterministic") {
        let second = work.path().join("bundle-2.sig");
        let sign2 = run_adapter(&sign_args(config, fixtures, &model, &second)?);
        sign2.check_succeeded("second sign-model")?;
        let statement2 = decode_statement(&read_bundle(&second)?)?;
        let (first, again) = (
            resource_descriptors(&statement),
            resource_descriptors(&statement2),
        );
        if first != again {
            return Err(format!(
                "signing twice gave different resources (names/digests):\n  first:  {first:?}\n  second: {again:?}"
            ));
        }
    }
    Ok("signed, checked and verified".into())
}

/// Returns a one-line note on how the case passed (e.g. the rejection reason).
fn run_verify(case: &Case, fixtures: &Fixtures) -> Result<String, String> {
    let config = &case.config;
    let bundle = case.dir.join("bundle.sig");
    if !bundle.is_file() {
        return Err(format!("missing {}", bundle.display()));
    }
    let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let model = prepare_model(case, fixtures, work.path())?;
    let verify = run_adapter(&verify_args(config, fixtures, &model, &bundle)?);
    if config.expect_fail() {
        return verify.check_rejected("verify-model");
    }
    verify.check_succeeded("verify-model")?;
    let statement = decode_statement(&read_bundle(&bundle)?)?;
    check_expected_files(&statement, &config.expected_signed_files)?;
    Ok("verified".into())
}

// ---------------------------------------------------------------------------------------
// Category loops
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    /// Name and how it passed.
    passed: Vec<(String, String)>,
    failed: Vec<(String, String)>,
    not_run: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, result: Result<String, String>) {
        match result {
            Ok(note) => self.passed.push((name.to_owned(), note)),
            Err(why) => self.failed.push((name.to_owned(), why)),
        }
    }

    /// Prints the summary line and panics listing every failed case.
    fn finish(self, category: &str) {
        // Visible with --nocapture: lets a reviewer see *why* each negative case was rejected.
        for (name, note) in &self.passed {
            println!("  ok {name}: {}", note.lines().next().unwrap_or_default());
        }
        let not_run = if self.not_run.is_empty() {
            String::new()
        } else {
            format!(": {}", self.not_run.join(", "))
        };
        println!(
            "oms {category}: {} passed, {} failed, {} not run (sigstore){not_run}",
            self.passed.len(),
            self.failed.len(),
            self.not_run.len()
        );
        if !self.failed.is_empty() {
            let mut report = format!(
                "{} OMS {category} case(s) failed: {}\n",
                self.failed.len(),
                self.failed
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for (name, why) in &self.failed {
                report.push_str(&format!("\n=== {name}\n{why}\n"));
            }
            panic!("{report}");
        }
    }
}

fn run_verify_category(category: &str, expected_cases: usize) {
    let cases = discover(&format!("verify/{category}"));
    assert_eq!(
        cases.len(),
        expected_cases,
        "expected {expected_cases} verify/{category} cases, found {}: {:?}",
        cases.len(),
        cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()
    );
    let fixtures = Fixtures::new();
    let mut tally = Tally::default();
    for case in &cases {
        if let Err(e) = case.config.check() {
            tally.record(&case.name, Err(format!("bad config.json: {e}")));
            continue;
        }
        tally.record(&case.name, run_verify(case, &fixtures));
    }
    tally.finish(&format!("verify {category}"));
}

#[test]
fn roundtrip() {
    let cases = discover("roundtrip");
    assert_eq!(
        cases.len(),
        31,
        "expected 31 roundtrip cases, found {}: {:?}",
        cases.len(),
        cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()
    );
    let fixtures = Fixtures::with_sigstore_stack();
    let schemas = Schemas::load();
    let mut tally = Tally::default();
    for case in &cases {
        if let Err(e) = case.config.check() {
            tally.record(&case.name, Err(format!("bad config.json: {e}")));
            continue;
        }
        tally.record(&case.name, run_roundtrip(case, &fixtures, &schemas));
    }
    tally.finish("roundtrip");
}

#[test]
fn verify_positive() {
    run_verify_category("positive", 8);
}

#[test]
fn verify_negative() {
    run_verify_category("negative", 27);
}

#[test]
fn verify_historical() {
    run_verify_category("historical", 13);
}

/// The runner's own checks must catch what they claim to catch.
#[test]
fn canonical_name_rules() {
    for good in [
        "a",
        "a/b",
        ".config",
        "path with spaces/model.bin",
        "模型.bin",
        "a..b",
    ] {
        assert_eq!(canonical_name_problem(good), None, "{good:?}");
    }
    for bad in [
        "", "/a", "a/", "a//b", "./a", "a/./b", "../a", "a/../b", ".", "..",
    ] {
        assert!(canonical_name_problem(bad).is_some(), "{bad:?}");
    }
}

/// The structural checks must reject what they claim to reject: a bundle we produce is
/// broken in one way at a time (payload re-encoded, signature left stale — these checks
/// do not verify signatures) and each breakage must be reported.
#[test]
fn structural_checks_catch_broken_bundles() {
    let cases = discover("roundtrip");
    let case = cases
        .iter()
        .find(|c| c.name == "key-sig-inside-model")
        .expect("roundtrip case key-sig-inside-model");
    let fixtures = Fixtures::with_sigstore_stack();
    let schemas = Schemas::load();
    let work = tempfile::tempdir().expect("temp dir");
    let model = prepare_model(case, &fixtures, work.path()).expect("model copy");
    let bundle_path = model.join("bundle.sig");
    let sign = run_adapter(
        &sign_args(&case.config, &fixtures, &model, &bundle_path).expect("sign arguments"),
    );
    sign.check_succeeded("sign-model")
        .expect("signing the fixture");
    check_produced_bundle(&bundle_path, &case.config, &model, &schemas)
        .expect("the unmodified bundle passes the checks");
    let original = read_bundle(&bundle_path).expect("bundle");

    type Breakage = (&'static str, fn(&mut Value), &'static str);
    let breakages: [Breakage; 11] = [
        (
            "reversed resources",
            |s| {
                let r = s["predicate"]["resources"]
                    .as_array_mut()
                    .expect("resources");
                r.reverse();
            },
            "not sorted",
        ),
        (
            "wrong subject name",
            |s| s["subject"][0]["name"] = "other".into(),
            "basename",
        ),
        (
            "two subjects",
            |s| {
                let first = s["subject"][0].clone();
                s["subject"].as_array_mut().expect("subjects").push(first);
            },
            "exactly one subject",
        ),
        (
            "shard_size with files",
            |s| {
                s["predicate"]["serialization"]["shard_size"] = 8.into();
            },
            "shard_size",
        ),
        (
            "algorithm mismatch",
            |s| {
                s["predicate"]["resources"][0]["algorithm"] = "blake3".into();
            },
            "hash_type",
        ),
        (
            "non-canonical name",
            |s| {
                s["predicate"]["resources"][0]["name"] = "./signme-1".into();
            },
            "not canonical",
        ),
        (
            "wrong root digest",
            |s| {
                s["subject"][0]["digest"]["sha256"] = "00".repeat(32).into();
            },
            "sha256 over the resource digests",
        ),
        (
            "deprecated predicate type",
            |s| {
                s["predicateType"] = "https://model_signing/Digests/v0.1".into();
            },
            "predicateType",
        ),
        (
            "bundle signs itself",
            |s| {
                let r = s["predicate"]["resources"]
                    .as_array_mut()
                    .expect("resources");
                let mut own = r[0].clone();
                own["name"] = "bundle.sig".into();
                r.insert(0, own);
            },
            "among its own resources",
        ),
        (
            "empty resources",
            |s| {
                s["predicate"]["resources"] = Value::Array(Vec::new());
            },
            "missing or empty",
        ),
        (
            "unknown predicate field",
            |s| {
                s["predicate"]["extra"] = true.into();
            },
            "JSON schema",
        ),
    ];
    let engine = base64::engine::general_purpose::STANDARD;
    for (what, breakage, expected) in breakages {
        let mut statement = decode_statement(&original).expect("statement");
        breakage(&mut statement);
        let mut broken = original.clone();
        broken["dsseEnvelope"]["payload"] = engine
            .encode(serde_json::to_vec(&statement).expect("json"))
            .into();
        std::fs::write(&bundle_path, serde_json::to_vec(&broken).expect("json")).expect("write");
        match check_produced_bundle(&bundle_path, &case.config, &model, &schemas) {
            Ok(_) => panic!("{what}: the checks accepted a broken bundle"),
            Err(e) => assert!(
                e.contains(expected),
                "{what}: expected {expected:?} in:\n{e}"
            ),
        }
    }

    // Outer bundle breakages.
    let outer: [Breakage; 3] = [
        (
            "no key hint",
            |b| {
                b["verificationMaterial"]["publicKey"] = serde_json::json!({"rawBytes": "AAAA"});
            },
            "hint",
        ),
        (
            "wrong media type",
            |b| b["mediaType"] = "application/json".into(),
            "mediaType",
        ),
        (
            "wrong payload type",
            |b| {
                b["dsseEnvelope"]["payloadType"] = "application/octet-stream".into();
            },
            "payloadType",
        ),
    ];
    for (what, breakage, expected) in outer {
        let mut broken = original.clone();
        breakage(&mut broken);
        std::fs::write(&bundle_path, serde_json::to_vec(&broken).expect("json")).expect("write");
        match check_produced_bundle(&bundle_path, &case.config, &model, &schemas) {
            Ok(_) => panic!("{what}: the checks accepted a broken bundle"),
            Err(e) => assert!(
                e.contains(expected),
                "{what}: expected {expected:?} in:\n{e}"
            ),
        }
    }
}
