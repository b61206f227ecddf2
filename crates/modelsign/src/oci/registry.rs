//! Talking to a registry: the OCI distribution protocol through `oci-client` (token and
//! basic auth, the referrers API), run on a private single-threaded runtime so that callers
//! stay synchronous like the rest of the library. This module adds what the crate leaves to
//! its users: credentials from Docker's `config.json` and credential helpers, plain HTTP
//! for loopback registries only, retries of transient failures, manifests checked against
//! their digests, and errors that say what to do.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use sha2::{Digest, Sha256};

use crate::error::OciError;
use crate::manifest::sha256_string;
use crate::oci::layer::LayerSource;
use crate::oci::mapping::Descriptor;
use crate::oci::reference::ImageReference;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The largest manifest read: registries refuse to store larger ones (4 MiB is the
/// distribution spec's suggested minimum limit).
pub const MAX_MANIFEST: usize = 4 << 20;

/// Which credentials to present.
#[derive(Debug, Clone, Default)]
pub enum Credentials {
    /// The registry's entry in Docker's `config.json` (`$DOCKER_CONFIG`, else `~/.docker`):
    /// `auths`, `credHelpers` or `credsStore`, as `docker login` left them; anonymous when
    /// there is none.
    #[default]
    DockerConfig,
    /// No credentials.
    Anonymous,
    /// A bearer token (for example `$(gcloud auth print-access-token)`), sent as is.
    Bearer(String),
    /// A user name and password (or token).
    Basic(String, String),
}

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Registries (`HOST:PORT`) spoken to over plain HTTP. Only loopback hosts are
    /// accepted: anything else would send credentials and signatures in the clear.
    pub insecure: Vec<String>,
    /// The credentials to present.
    pub credentials: Credentials,
    /// How many times a transient failure (connection refused or reset, 429, 5xx) is
    /// retried, with backoff doubling from half a second.
    pub retries: u32,
    /// PEM files of CA certificates trusted for HTTPS registries beside the system's: for
    /// a registry whose certificate a private CA issued.
    pub ca_files: Vec<PathBuf>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure: Vec::new(),
            credentials: Credentials::DockerConfig,
            retries: 3,
            ca_files: Vec::new(),
        }
    }
}

/// A manifest as the registry served it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The exact bytes, whose SHA-256 is [`FetchedManifest::digest`].
    pub bytes: Vec<u8>,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
    /// The manifest's media type (from its `mediaType`, else the OCI manifest type).
    pub media_type: String,
}

/// A connection to registries.
pub struct Registry {
    client: oci_client::Client,
    runtime: tokio::runtime::Runtime,
    options: RegistryOptions,
    /// Repositories (`REGISTRY/REPO`) push access was obtained for: oci-client keeps the
    /// token, so asking again (a `GET /v2/` round trip each time) buys nothing.
    push_authorized: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("insecure", &self.options.insecure)
            .finish_non_exhaustive()
    }
}

/// A registry client made on first use: a command that may meet images among local models
/// (provenance inputs and outputs) holds one, and one that meets none never starts the
/// client's network runtime.
#[derive(Debug)]
pub struct LazyRegistry {
    options: RegistryOptions,
    registry: std::cell::OnceCell<Registry>,
}

impl LazyRegistry {
    /// A client with `options`, not made yet.
    pub fn new(options: RegistryOptions) -> Self {
        LazyRegistry {
            options,
            registry: std::cell::OnceCell::new(),
        }
    }

    /// The client, made now if it was not yet ([`Registry::new`]).
    pub fn get(&self) -> Result<&Registry, OciError> {
        if let Some(registry) = self.registry.get() {
            return Ok(registry);
        }
        let made = Registry::new(self.options.clone())?;
        Ok(self.registry.get_or_init(|| made))
    }
}

impl Default for LazyRegistry {
    /// Default options: Docker's credentials, HTTPS only.
    fn default() -> Self {
        LazyRegistry::new(RegistryOptions::default())
    }
}

/// True for `localhost`, `127.x.y.z` and `[::1]`, with or without a port.
pub fn is_loopback(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map(|(h, _)| h).unwrap_or(rest),
        None => host_port
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(host_port),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Registry {
    /// A client with `options`; refuses plain HTTP to a host that is not loopback.
    pub fn new(options: RegistryOptions) -> Result<Self, OciError> {
        if let Some(host) = options.insecure.iter().find(|h| !is_loopback(h)) {
            return Err(OciError::InsecureNotLoopback {
                registry: host.clone(),
            });
        }
        let mut extra_root_certificates = Vec::new();
        for path in &options.ca_files {
            extra_root_certificates.extend(read_ca_file(path)?);
        }
        let config = ClientConfig {
            protocol: if options.insecure.is_empty() {
                ClientProtocol::Https
            } else {
                ClientProtocol::HttpsExcept(options.insecure.clone())
            },
            connect_timeout: Some(Duration::from_secs(15)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("modelsign/", env!("CARGO_PKG_VERSION")),
            // Never pick a platform behind the caller's back: indexes are resolved here.
            platform_resolver: None,
            // Only small blobs (signatures, `{}`) are pushed: one POST and one PUT, which every
            // registry takes (go-containerregistry's answers a chunked PATCH without the
            // Location header oci-client's chunked upload needs).
            use_monolithic_push: true,
            extra_root_certificates,
            ..ClientConfig::default()
        };
        // Not `Client::new`: on a configuration reqwest refuses it logs a warning and goes on
        // with the default configuration, dropping the CA certificates and timeouts.
        let client = oci_client::Client::try_from(config).map_err(|e| OciError::Registry {
            registry: String::new(),
            message: format!("cannot set up the registry client: {e}"),
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| OciError::Registry {
                registry: String::new(),
                message: format!("cannot start the network runtime: {e}"),
            })?;
        Ok(Registry {
            client,
            runtime,
            options,
            push_authorized: Default::default(),
        })
    }

    fn auth(&self, image: &ImageReference) -> Result<RegistryAuth, OciError> {
        Ok(match &self.options.credentials {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Bearer(token) => RegistryAuth::Bearer(token.clone()),
            Credentials::Basic(user, password) => {
                RegistryAuth::Basic(user.clone(), password.clone())
            }
            Credentials::DockerConfig => docker_config_auth(&image.registry)?,
        })
    }

    /// Runs `operation` with retries of transient failures.
    fn retrying<T, F, Fut>(
        &self,
        image: &ImageReference,
        what: &str,
        operation: F,
    ) -> Result<T, OciError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut delay = Duration::from_millis(500);
        let mut attempt = 0;
        loop {
            match self.runtime.block_on(operation()) {
                Ok(value) => return Ok(value),
                Err(error) if attempt < self.options.retries && is_transient(&error) => {
                    attempt += 1;
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                Err(error) => return Err(classify(image, what, error, attempt)),
            }
        }
    }

    /// The manifest `image` names (by digest when it has one, else by tag), checked
    /// against its digest.
    pub fn fetch_manifest(&self, image: &ImageReference) -> Result<FetchedManifest, OciError> {
        let reference = to_reference(image);
        let auth = self.auth(image)?;
        let accepted = [
            OCI_MANIFEST,
            OCI_INDEX,
            DOCKER_MANIFEST,
            DOCKER_MANIFEST_LIST,
        ];
        let (bytes, _) = self.retrying(image, "the manifest", || {
            self.client.pull_manifest_raw(&reference, &auth, &accepted)
        })?;
        if bytes.len() > MAX_MANIFEST {
            return Err(OciError::BadManifest {
                reason: format!(
                    "the manifest of {image} is {} bytes, over the {MAX_MANIFEST}-byte limit",
                    bytes.len()
                ),
            });
        }
        let digest = sha256_string(&Sha256::digest(&bytes));
        if let Some(wanted) = &image.digest {
            if *wanted != digest {
                return Err(OciError::DigestMismatch {
                    what: format!("the manifest of {image}"),
                    expected: wanted.clone(),
                    actual: digest,
                });
            }
        }
        let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get("mediaType")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| OCI_MANIFEST.to_owned());
        Ok(FetchedManifest {
            bytes: bytes.to_vec(),
            digest,
            media_type,
        })
    }

    /// The blob `digest` of `image`'s repository, at most `limit` bytes, checked against
    /// its digest.
    pub fn fetch_blob(
        &self,
        image: &ImageReference,
        digest: &str,
        limit: u64,
    ) -> Result<Vec<u8>, OciError> {
        let reference = to_reference(image);
        let auth = self.auth(image)?;
        self.runtime.block_on(
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &auth),
        );
        let bytes = self.retrying(image, &format!("blob {digest}"), || async {
            let mut out = Vec::new();
            self.client.pull_blob(&reference, digest, &mut out).await?;
            Ok(out)
        })?;
        if bytes.len() as u64 > limit {
            return Err(OciError::BadManifest {
                reason: format!(
                    "blob {digest} is {} bytes, over the {limit}-byte limit",
                    bytes.len()
                ),
            });
        }
        let actual = sha256_string(&Sha256::digest(&bytes));
        if actual != digest {
            return Err(OciError::DigestMismatch {
                what: format!("blob {digest}"),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// The layer blobs of `image`'s repository, streamed ([`RegistryLayers`]).
    pub fn layers<'a>(&'a self, image: &'a ImageReference) -> RegistryLayers<'a> {
        RegistryLayers {
            registry: self,
            image,
        }
    }

    fn push_auth(&self, image: &ImageReference, reference: &Reference) -> Result<(), OciError> {
        let repository = format!("{}/{}", image.registry, image.repository);
        let known = |set: &std::collections::HashSet<String>| set.contains(&repository);
        if self.push_authorized.lock().is_ok_and(|set| known(&set)) {
            return Ok(());
        }
        let auth = self.auth(image)?;
        self.retrying(image, "push access", || {
            self.client.auth(reference, &auth, RegistryOperation::Push)
        })?;
        if let Ok(mut set) = self.push_authorized.lock() {
            set.insert(repository);
        }
        Ok(())
    }

    /// Uploads `bytes` as a blob of `image`'s repository (a no-op when it is there) and
    /// returns its digest.
    pub fn push_blob(&self, image: &ImageReference, bytes: &[u8]) -> Result<String, OciError> {
        let reference = to_reference(image);
        self.push_auth(image, &reference)?;
        let digest = sha256_string(&Sha256::digest(bytes));
        let exists = self.retrying(image, "a blob check", || {
            self.client.blob_exists(&reference, &digest)
        })?;
        if !exists {
            let data = bytes::Bytes::copy_from_slice(bytes);
            // go-containerregistry's registry completes an upload with 201 and no Location
            // header, which oci-client reports as an error although the blob is stored:
            // whether it is stored is asked instead.
            self.retrying(image, "a blob upload", || async {
                match self
                    .client
                    .push_blob(&reference, data.clone(), &digest)
                    .await
                {
                    Err(OciDistributionError::RegistryNoLocationError) => Ok(String::new()),
                    other => other,
                }
            })?;
            let stored = self.retrying(image, "a blob check", || {
                self.client.blob_exists(&reference, &digest)
            })?;
            if !stored {
                return Err(OciError::Registry {
                    registry: image.registry.clone(),
                    message: format!("the upload of blob {digest} to {image} completed, but the registry does not have it"),
                });
            }
        }
        Ok(digest)
    }

    /// Stores `bytes` as the manifest `image` names (its tag, else its digest).
    pub fn push_manifest(
        &self,
        image: &ImageReference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<(), OciError> {
        // oci-client 0.18 panics when a registry answers a manifest PUT by digest without a
        // Location header (go-containerregistry's does): its workaround strips the tag from
        // the URL and expects one. A reference whose "tag" is the digest gives the same PUT
        // URL and takes that path without the panic.
        let reference = match (&image.tag, &image.digest) {
            (None, Some(digest)) => Reference::with_tag(
                image.registry.clone(),
                image.repository.clone(),
                digest.clone(),
            ),
            (Some(tag), _) => Reference::with_tag(
                image.registry.clone(),
                image.repository.clone(),
                tag.clone(),
            ),
            (None, None) => to_reference(image),
        };
        self.push_auth(image, &reference)?;
        let content_type =
            reqwest::header::HeaderValue::from_str(media_type).map_err(|e| OciError::Registry {
                registry: image.registry.clone(),
                message: format!("media type '{media_type}': {e}"),
            })?;
        let body = bytes::Bytes::copy_from_slice(bytes);
        self.retrying(image, "the manifest upload", || {
            self.client
                .push_manifest_raw(&reference, body.clone(), content_type.clone())
        })?;
        Ok(())
    }

    /// The manifests that name `image` (which must carry a digest) as their subject, of
    /// `artifact_type`: the referrers API where the registry has it, else the referrers
    /// tag schema (`sha256-<hex>`), as the distribution spec asks.
    pub fn referrers(
        &self,
        image: &ImageReference,
        artifact_type: &str,
    ) -> Result<Vec<Descriptor>, OciError> {
        let reference = to_reference(image);
        let auth = self.auth(image)?;
        self.runtime.block_on(
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &auth),
        );
        let index = self.retrying(image, "the referrers", || async {
            match self
                .client
                .pull_referrers(&reference, Some(artifact_type))
                .await
            {
                // olareg (a Go registry) answers an image without referrers with
                // `"manifests": null`, which oci-client refuses to parse: no referrers.
                Err(OciDistributionError::ManifestParsingError(message))
                    if message.contains("invalid type: null, expected a sequence") =>
                {
                    Ok(oci_client::manifest::OciImageIndex {
                        schema_version: 2,
                        media_type: None,
                        manifests: Vec::new(),
                        artifact_type: None,
                        annotations: None,
                    })
                }
                other => other,
            }
        })?;
        // Filtered again here: a registry may ignore `artifactType=`.
        Ok(index
            .manifests
            .into_iter()
            .filter(|m| m.artifact_type.as_deref() == Some(artifact_type))
            .map(|m| Descriptor {
                media_type: m.media_type,
                digest: m.digest,
                size: u64::try_from(m.size).unwrap_or(0),
                artifact_type: m.artifact_type,
                annotations: m
                    .annotations
                    .map(|a| a.into_iter().collect())
                    .unwrap_or_default(),
                platform: None,
            })
            .collect())
    }
}

/// The certificates of a PEM file, each checked to be an X.509 certificate (DER), so that
/// a wrong file is refused here rather than ignored by the TLS stack.
fn read_ca_file(path: &Path) -> Result<Vec<Certificate>, OciError> {
    use der::Decode;
    let refuse = |reason: String| OciError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read(path).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    let blocks = pem::parse_many(&text).map_err(|e| refuse(format!("not PEM: {e}")))?;
    let mut certificates = Vec::new();
    for block in blocks.iter().filter(|b| b.tag() == "CERTIFICATE") {
        x509_cert::Certificate::from_der(block.contents()).map_err(|e| {
            refuse(format!(
                "certificate {} is not an X.509 certificate: {e}",
                certificates.len() + 1
            ))
        })?;
        certificates.push(Certificate {
            encoding: CertificateEncoding::Der,
            data: block.contents().to_vec(),
        });
    }
    if certificates.is_empty() {
        return Err(refuse(
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    Ok(certificates)
}

/// The layer blobs of one repository, streamed from the registry as they are read: the
/// request is retried like any other, a failure once bytes flow is not (the caller reads
/// the stream once).
#[derive(Debug, Clone, Copy)]
pub struct RegistryLayers<'a> {
    registry: &'a Registry,
    image: &'a ImageReference,
}

impl LayerSource for RegistryLayers<'_> {
    fn open_layer(&self, layer: &Descriptor) -> Result<Box<dyn Read + '_>, OciError> {
        let registry = self.registry;
        let reference = to_reference(self.image);
        let auth = registry.auth(self.image)?;
        registry.runtime.block_on(
            registry
                .client
                .store_auth_if_needed(reference.resolve_registry(), &auth),
        );
        let what = format!("blob {}", layer.digest);
        let sized = registry.retrying(self.image, &what, || {
            registry
                .client
                .pull_blob_stream(&reference, layer.digest.as_str())
        })?;
        Ok(Box::new(BlobStream {
            runtime: &registry.runtime,
            stream: sized.stream,
            chunk: bytes::Bytes::new(),
            image: self.image,
            what,
        }))
    }
}

/// A blob's bytes as the registry sends them, read by blocking on the private runtime.
struct BlobStream<'a> {
    runtime: &'a tokio::runtime::Runtime,
    stream: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    chunk: bytes::Bytes,
    image: &'a ImageReference,
    what: String,
}

impl Read for BlobStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use futures_util::StreamExt;
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(bytes)) => self.chunk = bytes,
                Some(Err(error)) => return Err(std::io::Error::other(self.stream_error(error))),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

impl BlobStream<'_> {
    fn stream_error(&self, error: std::io::Error) -> OciError {
        // oci-client checks the digest itself as the stream ends.
        if let Some(oci_client::errors::DigestError::VerificationError { expected, actual }) = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<oci_client::errors::DigestError>())
        {
            return OciError::DigestMismatch {
                what: format!("{} of {}", self.what, self.image),
                expected: expected.clone(),
                actual: actual.clone(),
            };
        }
        OciError::Registry {
            registry: self.image.registry.clone(),
            message: format!(
                "{} of {}: the download broke off: {}",
                self.what,
                self.image,
                error_chain(&error)
            ),
        }
    }
}

fn to_reference(image: &ImageReference) -> Reference {
    match (&image.tag, &image.digest) {
        (Some(tag), Some(digest)) => Reference::with_tag_and_digest(
            image.registry.clone(),
            image.repository.clone(),
            tag.clone(),
            digest.clone(),
        ),
        (_, Some(digest)) => Reference::with_digest(
            image.registry.clone(),
            image.repository.clone(),
            digest.clone(),
        ),
        (tag, None) => Reference::with_tag(
            image.registry.clone(),
            image.repository.clone(),
            tag.clone().unwrap_or_else(|| "latest".to_owned()),
        ),
    }
}

/// The credentials `docker login` stored for `registry`, anonymous when there are none.
fn docker_config_auth(registry: &str) -> Result<RegistryAuth, OciError> {
    use docker_credential::{CredentialRetrievalError, DockerCredential};
    match docker_credential::get_credential(registry) {
        Ok(DockerCredential::UsernamePassword(user, password)) => {
            Ok(RegistryAuth::Basic(user, password))
        }
        Ok(DockerCredential::IdentityToken(token)) => Ok(RegistryAuth::Bearer(token)),
        Err(
            CredentialRetrievalError::ConfigNotFound
            | CredentialRetrievalError::ConfigReadError
            | CredentialRetrievalError::NoCredentialConfigured,
        ) => Ok(RegistryAuth::Anonymous),
        Err(error) => Err(OciError::Credentials {
            registry: registry.to_owned(),
            reason: error.to_string(),
        }),
    }
}

fn is_transient(error: &OciDistributionError) -> bool {
    match error {
        // A refused certificate fails the connection too, but a retry cannot change it.
        OciDistributionError::RequestError(e) => {
            (e.is_connect() && untrusted_certificate(e).is_none())
                || e.is_timeout()
                || e.status().is_some_and(|s| s.is_server_error())
        }
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| e.code == OciErrorCode::Toomanyrequests),
        _ => false,
    }
}

fn classify(
    image: &ImageReference,
    what: &str,
    error: OciDistributionError,
    retried: u32,
) -> OciError {
    let registry = image.registry.clone();
    let found: Vec<&OciErrorCode> = match &error {
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().map(|e| &e.code).collect()
        }
        _ => Vec::new(),
    };
    let unauthorized = matches!(
        error,
        OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_)
    ) || matches!(
        error,
        OciDistributionError::ServerError {
            code: 401 | 403,
            ..
        }
    ) || found
        .iter()
        .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied));
    if unauthorized {
        return OciError::Unauthorized {
            registry,
            what: format!("{what} of {image}"),
        };
    }
    if let OciDistributionError::RequestError(e) = &error {
        if let Some(reason) = untrusted_certificate(e) {
            return OciError::UntrustedCertificate {
                registry,
                what: format!("{what} of {image}"),
                reason,
            };
        }
    }
    let not_found = matches!(error, OciDistributionError::ImageManifestNotFoundError(_))
        || matches!(error, OciDistributionError::ServerError { code: 404, .. })
        || found.iter().any(|c| {
            matches!(
                c,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::BlobUnknown
                    | OciErrorCode::NotFound
            )
        });
    if not_found {
        return OciError::NotFound {
            what: format!("{what} of {image}"),
        };
    }
    let rejected = matches!(error, OciDistributionError::ServerError { code: 400, .. })
        || found
            .iter()
            .any(|c| matches!(c, OciErrorCode::ManifestInvalid | OciErrorCode::Unsupported));
    if rejected {
        return OciError::Rejected {
            registry,
            what: format!("{what} of {image}"),
            message: error.to_string(),
        };
    }
    let mut message = match &error {
        OciDistributionError::RequestError(e) if e.is_connect() => format!(
            "cannot connect to {registry} ({}); is the registry running, and is it HTTPS (give --insecure-registry {registry} for a loopback registry over plain HTTP)?",
            error_chain(e)
        ),
        OciDistributionError::RequestError(e) => error_chain(e),
        other => other.to_string(),
    };
    if retried > 0 {
        message.push_str(&format!(" (after {retried} retries)"));
    }
    OciError::Registry {
        registry,
        message: format!("{what} of {image}: {message}"),
    }
}

/// Why the TLS handshake refused the registry's certificate, when that is what `error`
/// comes from. The rustls error sits inside `io::Error`s (hyper-rustls wraps the one
/// tokio-rustls made), whose `source()` skips what they wrap: `get_ref` reaches it.
fn untrusted_certificate(error: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        let mut inner = current;
        while let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            inner = wrapped;
        }
        if let Some(rustls::Error::InvalidCertificate(reason)) =
            inner.downcast_ref::<rustls::Error>()
        {
            return Some(format!("{reason:?}"));
        }
        cause = current.source();
    }
    None
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
