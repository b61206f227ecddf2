//! Registry credentials, against a registry that asks for them: the CNCF Distribution
//! registry (tests/oci/build.sh builds it) with htpasswd (Basic) authentication over TLS,
//! its certificate issued by a private CA. scripts/test.sh starts it and exports
//! `MODELSIGN_TEST_OCI_AUTH_REGISTRY` (`127.0.0.1:PORT`), `MODELSIGN_TEST_OCI_AUTH_USER`,
//! `MODELSIGN_TEST_OCI_AUTH_PASSWORD` and `MODELSIGN_TEST_OCI_AUTH_CA` (the CA's PEM file).
//! Artifacts are pushed by oras with the credentials; modelsign then finds its own as
//! users leave them: Docker's config.json (`auths`), a credential helper (`credHelpers`,
//! `credsStore`), each in a `$DOCKER_CONFIG` of the test's own.
//! The last block tests the registry token flow (Bearer, as Docker Hub and GHCR) against a
//! second registry whose realm is tests/oci/token_server.py (`MODELSIGN_TEST_OCI_TOKEN_*`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use test_support::oci::{key_pair, peer_env, stderr, stdout};
use test_support::{explain, text};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");
const MODELPACK: &str = "application/vnd.cncf.model.manifest.v1+json";
const WEIGHT_RAW: &str = "application/vnd.cncf.model.weight.v1.raw";
/// The credential helper the tests install: `docker-credential-modelsigntest`.
const HELPER: &str = "modelsigntest";

/// The registry with authentication and the tools, or `None` outside CI when they are
/// not set up.
struct AuthPeers {
    registry: String,
    user: String,
    password: String,
    ca: PathBuf,
    tools: PathBuf,
}

fn peers() -> Option<AuthPeers> {
    AuthPeers::find(
        &[
            "MODELSIGN_TEST_OCI_AUTH_REGISTRY",
            "MODELSIGN_TEST_OCI_AUTH_USER",
            "MODELSIGN_TEST_OCI_AUTH_PASSWORD",
            "MODELSIGN_TEST_OCI_AUTH_CA",
        ],
        "scripts/test.sh builds the registry (tests/oci/build.sh) and starts it",
        "no test registry with authentication",
    )
}

impl AuthPeers {
    /// The registry, user, password and CA named by the four variables `names`, with the
    /// tools (`MODELSIGN_OCI_TOOLS`); `None` outside CI when one is unset.
    fn find(names: &[&str; 4], provided_by: &str, missing: &str) -> Option<Self> {
        let [registry, user, password, ca, tools] = peer_env(
            &[
                names[0],
                names[1],
                names[2],
                names[3],
                "MODELSIGN_OCI_TOOLS",
            ],
            provided_by,
            missing,
        )?
        .try_into()
        .expect("five values for five names");
        Some(AuthPeers {
            registry,
            user,
            password,
            ca: PathBuf::from(ca),
            tools: PathBuf::from(tools),
        })
    }

    /// `oras push` of a two-file ModelPack artifact in `model` to `repository:v1`, logged
    /// in with the test user: the image (`REGISTRY/REPOSITORY:v1`).
    fn push_model(&self, model: &Path, repository: &str) -> String {
        let image = format!("{}/{repository}:v1", self.registry);
        let weights = format!("model.safetensors:{WEIGHT_RAW}");
        let out = Command::new(self.tools.join("oras"))
            .args([
                "push",
                &image,
                "--ca-file",
                text(&self.ca),
                "--username",
                &self.user,
                "--password",
                &self.password,
                // Nothing read from or written to the user's own Docker config.
                "--registry-config",
                text(&model.with_file_name("oras-config.json")),
                "--artifact-type",
                MODELPACK,
                &weights,
                "tokenizer.json:application/vnd.cncf.model.weight.config.v1.raw",
            ])
            .current_dir(model)
            .output()
            .expect("run oras");
        assert!(out.status.success(), "oras push {image}: {}", explain(&out));
        image
    }

    /// The `auth` of a config.json entry: base64 of `user:password`, as `docker login`
    /// writes it.
    fn basic_auth(&self, password: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", self.user))
    }
}

/// A folder for `$DOCKER_CONFIG` whose config.json is `config` (none when `None`).
fn docker_config(dir: &Path, config: Option<serde_json::Value>) -> PathBuf {
    let folder = dir.join("docker-config");
    std::fs::create_dir_all(&folder).unwrap();
    if let Some(config) = config {
        std::fs::write(folder.join("config.json"), config.to_string()).unwrap();
    }
    folder
}

/// `docker-credential-modelsigntest` in `dir/helpers`, a credential helper that answers
/// `get` with the test user's credentials for the test registry and logs each server
/// it is asked for to `dir/helper.log`; the folder to put on PATH.
fn credential_helper(dir: &Path, peers: &AuthPeers) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let folder = dir.join("helpers");
    std::fs::create_dir_all(&folder).unwrap();
    let log = dir.join("helper.log");
    let answer = serde_json::json!({
        "ServerURL": peers.registry,
        "Username": peers.user,
        "Secret": peers.password,
    });
    // The helper protocol: the action as the argument, the server on stdin (no newline),
    // the credentials as JSON on stdout; an unknown server is an error, as with
    // docker-credential-pass and the others.
    let script = format!(
        "#!/bin/sh\n\
         [ \"$1\" = get ] || {{ echo \"unsupported action $1\" >&2; exit 1; }}\n\
         server=$(cat)\n\
         printf '%s\\n' \"$server\" >> '{log}'\n\
         if [ \"$server\" != '{registry}' ]; then echo 'credentials not found in native keychain'; exit 1; fi\n\
         printf '%s\\n' '{answer}'\n",
        log = text(&log),
        registry = peers.registry,
    );
    let helper = folder.join(format!("docker-credential-{HELPER}"));
    std::fs::write(&helper, script).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    folder
}

/// Runs modelsign with `$DOCKER_CONFIG` set to `docker_config` and `extra_path` (a
/// folder of credential helpers) first on PATH.
fn modelsign(args: &[&str], docker_config: &Path, extra_path: Option<&Path>) -> Output {
    let mut command = test_support::oci::modelsign_command(BIN);
    command.args(args).env("DOCKER_CONFIG", docker_config);
    if let Some(folder) = extra_path {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![folder.to_owned()];
        paths.extend(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(paths).unwrap());
    }
    command.output().expect("run modelsign")
}

/// `modelsign sign key REFERENCE --private-key KEY --attach --registry-ca-file CA EXTRA…`
/// with the credentials `docker_config` (and the helpers in `extra_path`) give.
fn sign_attached(
    reference: &str,
    key: &Path,
    ca: &str,
    extra: &[&str],
    docker_config: &Path,
    extra_path: Option<&Path>,
) -> Output {
    let mut args = vec![
        "sign",
        "key",
        reference,
        "--private-key",
        text(key),
        "--attach",
        "--registry-ca-file",
        ca,
    ];
    args.extend(extra);
    modelsign(&args, docker_config, extra_path)
}

/// `modelsign verify key REFERENCE --public-key PUBLIC --registry-ca-file CA`, with the
/// credentials `docker_config` (and the helpers in `extra_path`) give.
fn verify_with_ca(
    reference: &str,
    public: &Path,
    ca: &str,
    docker_config: &Path,
    extra_path: Option<&Path>,
) -> Output {
    modelsign(
        &[
            "verify",
            "key",
            reference,
            "--public-key",
            text(public),
            "--registry-ca-file",
            ca,
        ],
        docker_config,
        extra_path,
    )
}

/// A two-file model in `dir/model`: weights and a tokenizer.
fn model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let weights: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(model.join("model.safetensors"), weights).unwrap();
    std::fs::write(model.join("tokenizer.json"), br#"{"vocab": {"a": 0}}"#).unwrap();
    model
}

/// Signs `reference` with `--attach` and verifies it from the registry signature, each
/// with the credentials `docker_config` (and the helpers in `extra_path`) give.
fn sign_attach_and_verify(
    peers: &AuthPeers,
    dir: &Path,
    reference: &str,
    docker_config: &Path,
    extra_path: Option<&Path>,
) {
    let (key, public) = key_pair(dir);
    let ca = text(&peers.ca);
    let signed = sign_attached(reference, &key, ca, &["--json"], docker_config, extra_path);
    assert!(signed.status.success(), "sign: {}", explain(&signed));
    let report: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert!(
        report["attached"]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "the signature was pushed: {report}"
    );
    let verified = verify_with_ca(reference, &public, ca, docker_config, extra_path);
    assert!(verified.status.success(), "verify: {}", explain(&verified));
    assert!(
        stdout(&verified).contains("signature from the registry"),
        "{}",
        stdout(&verified)
    );
}

/// The refusal of a registry without (usable) credentials: exit 2, naming the registry
/// and how to log in to it.
fn assert_refused_with_login_advice(out: &Output, registry: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", explain(out));
    let message = stderr(out);
    assert!(
        message.contains(&format!("{registry} refused access")),
        "names the registry: {message}"
    );
    assert!(
        message.contains(&format!("docker login {registry}")),
        "says how to log in: {message}"
    );
}

#[test]
fn without_credentials_sign_and_verify_are_refused_with_exit_2_naming_the_registry_and_docker_login(
) {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/anonymous");
    let reference = format!("oci://{image}");
    let (key, public) = key_pair(dir.path());
    let no_config = docker_config(dir.path(), None);
    let ca = text(&peers.ca);

    let signed = sign_attached(&reference, &key, ca, &[], &no_config, None);
    assert_refused_with_login_advice(&signed, &peers.registry);

    let verified = verify_with_ca(&reference, &public, ca, &no_config, None);
    assert_refused_with_login_advice(&verified, &peers.registry);
}

#[test]
fn a_wrong_password_in_config_json_is_refused_with_exit_2() {
    let Some(peers) = peers() else { return };
    refuses_a_wrong_password(&peers, "acme/wrong-password");
}

/// `digest` of an image `peers` pushed to `repository`, with a wrong password in
/// config.json `auths`: refused with exit 2 and the `docker login` advice.
fn refuses_a_wrong_password(peers: &AuthPeers, repository: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, repository);
    let config = docker_config(
        dir.path(),
        Some(serde_json::json!({
            "auths": { peers.registry.as_str(): { "auth": peers.basic_auth("not-the-password") } }
        })),
    );
    let out = modelsign(
        &[
            "digest",
            &format!("oci://{image}"),
            "--registry-ca-file",
            text(&peers.ca),
        ],
        &config,
        None,
    );
    assert_refused_with_login_advice(&out, &peers.registry);
}

#[test]
fn credentials_from_config_json_auths_sign_attach_and_verify() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/auths");
    let config = logged_in(dir.path(), &peers);
    sign_attach_and_verify(&peers, dir.path(), &format!("oci://{image}"), &config, None);
}

#[test]
fn credentials_from_a_cred_helpers_entry_sign_attach_and_verify() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/cred-helpers");
    let helpers = credential_helper(dir.path(), &peers);
    let config = docker_config(
        dir.path(),
        Some(serde_json::json!({ "credHelpers": { peers.registry.as_str(): HELPER } })),
    );
    sign_attach_and_verify(
        &peers,
        dir.path(),
        &format!("oci://{image}"),
        &config,
        Some(&helpers),
    );
    let asked = std::fs::read_to_string(dir.path().join("helper.log")).unwrap();
    assert!(
        !asked.is_empty() && asked.lines().all(|server| server == peers.registry),
        "the helper is asked for the registry, HOST:PORT as in the reference: {asked:?}"
    );
}

#[test]
fn credentials_from_a_creds_store_sign_attach_and_verify() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/creds-store");
    let helpers = credential_helper(dir.path(), &peers);
    let config = docker_config(
        dir.path(),
        Some(serde_json::json!({ "auths": {}, "credsStore": HELPER })),
    );
    sign_attach_and_verify(
        &peers,
        dir.path(),
        &format!("oci://{image}"),
        &config,
        Some(&helpers),
    );
}

#[test]
fn a_bearer_token_the_registry_does_not_take_is_refused_with_exit_2() {
    // htpasswd takes Basic credentials only: a bearer token given with
    // --registry-token-env is presented, and refused with the same advice.
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/bearer");
    let config = docker_config(dir.path(), None);
    let out = Command::new(BIN)
        .args([
            "digest",
            &format!("oci://{image}"),
            "--registry-ca-file",
            text(&peers.ca),
            "--registry-token-env",
            "MODELSIGN_TEST_TOKEN",
        ])
        .env("DOCKER_CONFIG", &config)
        .env("MODELSIGN_TEST_TOKEN", "not-a-token-this-registry-issued")
        .output()
        .expect("run modelsign");
    assert_refused_with_login_advice(&out, &peers.registry);
}

/// A config.json with the test user's credentials for the registry, in `dir`.
fn logged_in(dir: &Path, peers: &AuthPeers) -> PathBuf {
    docker_config(
        dir,
        Some(serde_json::json!({
            "auths": { peers.registry.as_str(): { "auth": peers.basic_auth(&peers.password) } }
        })),
    )
}

#[test]
fn registry_ca_file_trusts_a_private_ca_and_a_file_without_certificates_is_refused() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/private-ca");
    let reference = format!("oci://{image}");
    let config = logged_in(dir.path(), &peers);

    let trusted = modelsign(
        &["digest", &reference, "--registry-ca-file", text(&peers.ca)],
        &config,
        None,
    );
    assert!(trusted.status.success(), "{}", explain(&trusted));
    let digest = stdout(&trusted);
    let hex = digest.trim().strip_prefix("sha256:").unwrap_or_default();
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "the root digest: {digest}"
    );

    // A file that holds no certificate is refused up front, naming it, rather than
    // ignored until the handshake fails.
    let not_a_ca = dir.path().join("not-a-ca.pem");
    std::fs::write(&not_a_ca, "just text\n").unwrap();
    let refused = modelsign(
        &["digest", &reference, "--registry-ca-file", text(&not_a_ca)],
        &config,
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", explain(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("not-a-ca.pem") && message.contains("no PEM certificate"),
        "{message}"
    );
}

#[test]
fn an_untrusted_registry_certificate_is_reported_as_such_with_exit_2_and_not_retried() {
    let Some(peers) = peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/untrusted");
    let config = logged_in(dir.path(), &peers);

    // Without the CA file the certificate is not trusted: the error says so and how to
    // trust it, rather than that the registry may be down or plain HTTP, and fails at
    // once, as a retry cannot change the certificate.
    let started = std::time::Instant::now();
    let untrusted = modelsign(&["digest", &format!("oci://{image}")], &config, None);
    let took = started.elapsed();
    assert_eq!(untrusted.status.code(), Some(2), "{}", explain(&untrusted));
    let message = stderr(&untrusted);
    assert!(
        message.contains(&format!("the TLS certificate of {}", peers.registry)),
        "{message}"
    );
    assert!(message.contains("UnknownIssuer"), "the reason: {message}");
    assert!(message.contains("--registry-ca-file"), "{message}");
    assert!(!message.contains("--insecure-registry"), "{message}");
    assert!(!message.contains("retries"), "{message}");
    assert!(
        took < std::time::Duration::from_secs(3),
        "no retries with backoff (0.5 + 1 + 2 s): {took:?}"
    );
}

// ---- The registry token flow ----
// What Docker Hub, GHCR, Harbor and Quay do: the registry answers 401 with
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, the client fetches a JWT from
// the realm (with Basic credentials, or anonymously) and retries with `Bearer <jwt>`.
// scripts/test.sh starts a second distribution registry with `auth: token` and
// tests/oci/token_server.py as its realm, and exports `MODELSIGN_TEST_OCI_TOKEN_REGISTRY`,
// `_USER`, `_PASSWORD` and `_CA`. The user may pull and push everywhere; anonymous users
// get a pull-only token for `acme/public` and an empty one elsewhere.

/// The repository anonymous users may pull from (token_server.py --public-repository).
const PUBLIC_REPOSITORY: &str = "acme/public";

/// The registry with token authentication, or `None` outside CI when it is not set up.
fn token_peers() -> Option<AuthPeers> {
    AuthPeers::find(
        &[
            "MODELSIGN_TEST_OCI_TOKEN_REGISTRY",
            "MODELSIGN_TEST_OCI_TOKEN_USER",
            "MODELSIGN_TEST_OCI_TOKEN_PASSWORD",
            "MODELSIGN_TEST_OCI_TOKEN_CA",
        ],
        "scripts/test.sh starts the registry with token authentication and its token server (tests/oci/token_server.py)",
        "no test registry with token authentication",
    )
}

#[test]
fn token_flow_credentials_from_config_json_auths_sign_attach_and_verify() {
    // Basic credentials go to the token realm, never to the registry, which takes only
    // the bearer token the realm issues for the scope it named.
    let Some(peers) = token_peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/token-auths");
    let config = logged_in(dir.path(), &peers);
    sign_attach_and_verify(&peers, dir.path(), &format!("oci://{image}"), &config, None);
}

#[test]
fn token_flow_anonymous_verify_of_a_public_repository_succeeds_with_an_anonymous_token() {
    // As anonymous pulls from GHCR or Docker Hub: no credentials at all, a pull-only token
    // from the realm, and the signature the user attached is found and verified.
    let Some(peers) = token_peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, PUBLIC_REPOSITORY);
    let reference = format!("oci://{image}");
    let (key, public) = key_pair(dir.path());
    let ca = text(&peers.ca);
    let signed = sign_attached(
        &reference,
        &key,
        ca,
        &[],
        &logged_in(dir.path(), &peers),
        None,
    );
    assert!(signed.status.success(), "sign: {}", explain(&signed));

    let anonymous = tempfile::tempdir().unwrap();
    let verified = verify_with_ca(
        &reference,
        &public,
        ca,
        &docker_config(anonymous.path(), None),
        None,
    );
    assert!(
        verified.status.success(),
        "anonymous verify: {}",
        explain(&verified)
    );
    assert!(
        stdout(&verified).contains("signature from the registry"),
        "{}",
        stdout(&verified)
    );
}

#[test]
fn token_flow_anonymous_sign_attach_is_refused_with_exit_2_as_the_token_grants_no_push() {
    // The anonymous token lets the image be read (its digest, to sign) but not the
    // signature be pushed: the refusal names the registry and `docker login`.
    let Some(peers) = token_peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, PUBLIC_REPOSITORY);
    let reference = format!("oci://{image}");
    let (key, _) = key_pair(dir.path());
    let no_config = docker_config(dir.path(), None);
    let ca = text(&peers.ca);

    let readable = modelsign(
        &["digest", &reference, "--registry-ca-file", ca],
        &no_config,
        None,
    );
    assert!(
        readable.status.success(),
        "anonymous pull of {PUBLIC_REPOSITORY}: {}",
        explain(&readable)
    );
    let signed = sign_attached(&reference, &key, ca, &[], &no_config, None);
    assert_refused_with_login_advice(&signed, &peers.registry);
}

#[test]
fn token_flow_anonymous_read_of_a_private_repository_is_refused_with_exit_2() {
    let Some(peers) = token_peers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let image = peers.push_model(&model, "acme/token-private");
    let out = modelsign(
        &[
            "digest",
            &format!("oci://{image}"),
            "--registry-ca-file",
            text(&peers.ca),
        ],
        &docker_config(dir.path(), None),
        None,
    );
    assert_refused_with_login_advice(&out, &peers.registry);
}

#[test]
fn token_flow_a_wrong_password_is_refused_by_the_realm_with_exit_2() {
    let Some(peers) = token_peers() else { return };
    refuses_a_wrong_password(&peers, "acme/token-wrong-password");
}
