//! Sigstore keyless signing: an ephemeral key, a Fulcio certificate binding it to the
//! signer's OIDC identity, the signature logged in Rekor and (where the signing config lists
//! one) timestamped by a TSA, all in one bundle.
//!
//! The protocol work is sigstore-rust's `sigstore-sign`; modelsign adds choosing the
//! services (built-in production/staging signing configs, or a ClientTrustConfig file),
//! obtaining the identity token, and running the asynchronous client on a private runtime
//! so the rest of the library stays synchronous.

use std::fmt;
use std::path::Path;

use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::rekor::RekorApiVersion;
use sigstore_sign::trust_root::SigningConfig;
use sigstore_sign::{SigningContext, SigningServices, SigstoreInstance};

use super::Signer;
use crate::bundle::Bundle;
use crate::error::{SignError, SigstoreSignError as Failure};
use crate::limits;

/// Which Sigstore services to sign with.
#[derive(Debug, Clone)]
pub struct SigstoreServices {
    services: SigningServices,
}

impl SigstoreServices {
    /// The services to sign with, by model_signing's precedence for signing:
    /// `--use-staging` wins over a trust config, which wins over production.
    pub fn choose(use_staging: bool, trust_config: Option<&Path>) -> Result<Self, SignError> {
        match (use_staging, trust_config) {
            (true, _) => Self::staging(),
            (false, Some(path)) => Self::read(path),
            (false, None) => Self::production(),
        }
    }

    /// Sigstore public-good production, from the signing config built into this binary.
    pub fn production() -> Result<Self, SignError> {
        Self::embedded(SigstoreInstance::PublicGood)
    }

    /// Sigstore's staging instance.
    pub fn staging() -> Result<Self, SignError> {
        Self::embedded(SigstoreInstance::Staging)
    }

    fn embedded(instance: SigstoreInstance) -> Result<Self, SignError> {
        let services = SigningServices::from_embedded(instance)
            .map_err(|e| Failure::EmbeddedConfig(e.to_string()))?;
        Ok(SigstoreServices { services })
    }

    /// The services of a ClientTrustConfig (as model_signing's `--trust_config` takes; its
    /// `signingConfig`, also spelt `signing_config`) or of a bare signing config file.
    pub fn read(path: &Path) -> Result<Self, SignError> {
        let text =
            limits::read_input_text(path, limits::MAX_TRUST_ROOT_FILE).map_err(|source| {
                Failure::ReadTrustConfig {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        let invalid = |reason: String| Failure::InvalidTrustConfig {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let config = value
            .get("signingConfig")
            .or_else(|| value.get("signing_config"))
            .map_or_else(|| text.clone(), serde_json::Value::to_string);
        let config = SigningConfig::from_json(&config).map_err(|e| invalid(e.to_string()))?;
        Ok(SigstoreServices {
            services: services_of(&config).map_err(invalid)?,
        })
    }

    /// The OIDC provider to obtain an identity token from interactively, if listed.
    pub fn oidc_url(&self) -> Option<&str> {
        self.services.oidc_url()
    }

    /// The certificate authority's address, for messages.
    pub fn fulcio_url(&self) -> &str {
        self.services.fulcio_url()
    }
}

/// The services a signing config selects. sigstore-sign's own selection insists on a
/// timestamp authority; a config without one (Rekor v1 alone, like older private
/// instances) still signs, the log's integrated time then being the signing time.
fn services_of(config: &SigningConfig) -> Result<SigningServices, String> {
    if config.tsa_url().is_some() {
        return SigningServices::from_signing_config(config).map_err(|e| e.to_string());
    }
    let fulcio = config
        .fulcio_url()
        .ok_or("it names no certificate authority (caUrls)")?;
    let rekor = config
        .rekor_url(None)
        .ok_or("it names no transparency log (rekorTlogUrls)")?;
    let version = RekorApiVersion::from_major(rekor.major_api_version).ok_or_else(|| {
        format!(
            "Rekor API version {} is not supported",
            rekor.major_api_version
        )
    })?;
    if version != RekorApiVersion::V1 {
        return Err("a Rekor v2 log needs a timestamp authority (tsaUrls)".into());
    }
    let mut services = SigningServices::new(fulcio.url.clone(), rekor.url.clone());
    if let Some(oidc) = config.oidc_url() {
        services = services.with_oidc_url(oidc.url.clone());
    }
    Ok(services)
}

/// An OIDC identity token proving who signs. Its text is never printed.
#[derive(Clone)]
pub struct IdentityTokenSecret(IdentityToken);

impl fmt::Debug for IdentityTokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("identity", &self.identity())
            .field("issuer", &self.0.issuer())
            .finish_non_exhaustive()
    }
}

impl IdentityTokenSecret {
    /// Parses a JWT (its claims are read, not verified: Fulcio verifies the token).
    pub fn from_jwt(jwt: &str) -> Result<Self, SignError> {
        let token = IdentityToken::from_jwt(jwt.trim())
            .map_err(|e| Failure::UnusableToken(e.to_string()))?;
        if token.is_expired() {
            return Err(Failure::ExpiredToken {
                identity: token.email().unwrap_or(token.subject()).to_owned(),
                expired_at: token.expiration().to_string(),
            }
            .into());
        }
        Ok(IdentityTokenSecret(token))
    }

    /// A token from the CI system this runs in (GitHub Actions, GitLab, Buildkite, …), if
    /// it provides one.
    pub fn from_ambient_credentials() -> Result<Option<Self>, SignError> {
        runtime()?
            .block_on(IdentityToken::detect_ambient())
            .map(|token| token.map(IdentityTokenSecret))
            .map_err(|e| Failure::AmbientCredentials(e.to_string()).into())
    }

    /// Signs the user in with the OIDC provider in the browser (OAuth 2.0 authorization
    /// code with PKCE, loopback redirect), or by pasting a code with `force_oob`.
    pub fn interactive(
        oidc_url: &str,
        client_id: &str,
        force_oob: bool,
    ) -> Result<Self, SignError> {
        use sigstore_sign::oidc::{AuthOptions, DefaultAuthCallback, OAuthClient, OAuthConfig};
        let client = OAuthClient::new(OAuthConfig::dex(oidc_url).with_client_id(client_id))
            .map_err(|e| Failure::OidcUnreachable {
                url: oidc_url.to_owned(),
                reason: e.to_string(),
            })?;
        let options = AuthOptions::new().with_force_oob(force_oob);
        runtime()?
            .block_on(client.authenticate_with_options(DefaultAuthCallback, options))
            .map(IdentityTokenSecret)
            .map_err(|e| {
                Failure::SignIn {
                    url: oidc_url.to_owned(),
                    reason: e.to_string(),
                }
                .into()
            })
    }

    /// The identity the certificate will name: the email claim, or else the subject.
    pub fn identity(&self) -> &str {
        self.0.email().unwrap_or(self.0.subject())
    }

    /// The token's issuer (the OIDC identity provider).
    pub fn issuer(&self) -> &str {
        self.0.issuer()
    }
}

/// Signs keylessly as the holder of an identity token.
pub struct SigstoreSigner {
    context: SigningContext,
    token: IdentityTokenSecret,
    fulcio_url: String,
}

impl fmt::Debug for SigstoreSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigstoreSigner")
            .field("fulcio", &self.fulcio_url)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl SigstoreSigner {
    /// A signer that signs with `services` as the holder of `token`.
    pub fn new(services: &SigstoreServices, token: IdentityTokenSecret) -> Self {
        SigstoreSigner {
            context: SigningContext::new(services.services.clone()),
            token,
            fulcio_url: services.fulcio_url().to_owned(),
        }
    }
}

impl Signer for SigstoreSigner {
    fn sign_payload(&self, payload: Vec<u8>) -> Result<Bundle, SignError> {
        let signer = self.context.signer(self.token.0.clone());
        let bundle = runtime()?
            .block_on(signer.sign_raw_statement(&payload))
            .map_err(|e| explain(&e))?;
        let json = bundle
            .to_json()
            .map_err(|e| Failure::EncodeBundle(e.to_string()))?;
        Bundle::from_json(json.as_bytes()).map_err(SignError::from)
    }
}

/// A single-threaded runtime for one blocking call into the asynchronous clients.
fn runtime() -> Result<tokio::runtime::Runtime, SignError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(e).into())
}

/// Names the service that refused, with its message.
fn explain(error: &sigstore_sign::Error) -> Failure {
    use sigstore_sign::Error;
    match error {
        Error::Fulcio(e) => Failure::CertificateAuthority(e.to_string()),
        Error::Rekor(e) => Failure::TransparencyLog(e.to_string()),
        Error::Tsa(e) => Failure::TimestampAuthority(e.to_string()),
        Error::Oidc(e) => Failure::TokenRefused(e.to_string()),
        other => Failure::Client(other.to_string()),
    }
}
