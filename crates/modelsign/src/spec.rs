//! Signers and verifiers from plain data: which method, with which material, and where
//! each secret comes from. Every front end (the CLI, the conformance adapter, a language
//! binding) fills in a [`SignerSpec`] or a [`VerifierSpec`] and calls `build`, so the
//! decisions are made once: the order in which key, password, PIN, certificates and
//! identity token are sought, and what is refused.
//!
//! Nothing here touches a terminal: whatever must be asked of a person (a password, a PIN,
//! an interactive sign-in) goes through the front end's [`Prompter`].

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::error::{
    kind_of, CertError, Classify, FailureKind, KeyError, Pkcs11Error, SignError, TrustRootError,
};
use crate::keys::{PrivateKey, PublicKey};
use crate::limits;
use crate::signing::{
    CertificateSigner, IdentityTokenSecret, KeySigner, Pkcs11Key, Pkcs11Signer, Pkcs11Uri, Signer,
    SigstoreServices, SigstoreSigner, UnverifiableCertificate,
};
use crate::verifying::{
    CertificateVerifier, IdentityPolicy, KeyVerifier, SigstoreTrustRoot, SigstoreVerifier, Verifier,
};
use crate::x509::Certificate;

/// What a front end can ask of the person running it. Every answer defaults to "nobody
/// can be asked" ([`NoPrompts`]), as for a batch job or a binding.
pub trait Prompter {
    /// The password of an encrypted private key none was given for; `None` when nobody
    /// can be asked.
    fn key_password(&self) -> Option<io::Result<String>> {
        None
    }

    /// A password for a new key, entered twice (to catch a typo); `None` when nobody can
    /// be asked.
    fn new_key_password(&self) -> Option<io::Result<[String; 2]>> {
        None
    }

    /// The PIN of the PKCS#11 token labelled `token`, when its URI gives none; `None` when
    /// nobody can be asked.
    fn token_pin(&self, token: &str) -> Option<String> {
        let _ = token;
        None
    }

    /// Signs in with the OIDC provider at `oidc_url` for an identity token (typically
    /// [`IdentityTokenSecret::interactive`]); `None` when nobody can sign in.
    fn sign_in(
        &self,
        oidc_url: &str,
        sign_in: &SignIn,
    ) -> Option<Result<IdentityTokenSecret, SignError>> {
        let _ = (oidc_url, sign_in);
        None
    }
}

/// A [`Prompter`] for when nobody can be asked anything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPrompts;

impl Prompter for NoPrompts {}

/// Where a secret (a password, an identity token) comes from.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretSource {
    /// The secret itself.
    Value(String),
    /// A file: a password is its first line, an identity token its whole text.
    File(PathBuf),
    /// An environment variable holding it.
    Env(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("Value(…)"),
            SecretSource::File(path) => f.debug_tuple("File").field(path).finish(),
            SecretSource::Env(var) => f.debug_tuple("Env").field(var).finish(),
        }
    }
}

/// Which secret a [`SecretSource`] is read for (for messages, and how a file is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretKind {
    /// The password of a private key.
    Password,
    /// An OIDC identity token.
    IdentityToken,
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretKind::Password => "password",
            SecretKind::IdentityToken => "identity token",
        })
    }
}

impl SecretSource {
    /// The secret, read as `kind` is: a password is the first line of its file, so that a
    /// file written by `echo` works.
    pub fn read(&self, kind: SecretKind) -> Result<String, SpecError> {
        match self {
            SecretSource::Value(value) => Ok(value.clone()),
            SecretSource::File(path) => {
                let text =
                    limits::read_input_text(path, limits::MAX_SMALL_FILE).map_err(|source| {
                        SpecError::SecretFile {
                            kind,
                            path: path.clone(),
                            source,
                        }
                    })?;
                Ok(match kind {
                    SecretKind::Password => text.lines().next().unwrap_or("").to_owned(),
                    SecretKind::IdentityToken => text,
                })
            }
            SecretSource::Env(var) => std::env::var(var).map_err(|_| SpecError::SecretEnv {
                kind,
                var: var.clone(),
            }),
        }
    }
}

/// The password to encrypt a new private key with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewKeyPassword {
    /// None: the key is written unencrypted.
    None,
    /// From this source.
    Given(SecretSource),
    /// Asked of the [`Prompter`], twice.
    Ask,
}

impl NewKeyPassword {
    /// The password, or `None` for an unencrypted key.
    pub fn resolve(&self, prompter: &dyn Prompter) -> Result<Option<Vec<u8>>, SpecError> {
        let password = match self {
            NewKeyPassword::None => return Ok(None),
            NewKeyPassword::Given(source) => source.read(SecretKind::Password)?,
            NewKeyPassword::Ask => match prompter.new_key_password() {
                None => return Err(SpecError::NoPasswordPrompt),
                Some(Err(e)) => return Err(SpecError::PasswordPrompt(e)),
                Some(Ok([first, second])) if first != second => {
                    return Err(SpecError::PasswordsDiffer)
                }
                Some(Ok([first, _])) => first,
            },
        };
        Ok(Some(password.into_bytes()))
    }
}

/// Where a private key's PEM comes from.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// A PEM file.
    File(PathBuf),
    /// The PEM text itself.
    Pem(Vec<u8>),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            KeySource::Pem(_) => f.write_str("Pem(…)"),
        }
    }
}

impl KeySource {
    /// How messages name the key.
    fn origin(&self) -> String {
        match self {
            KeySource::File(path) => path.display().to_string(),
            KeySource::Pem(_) => "given as PEM".to_owned(),
        }
    }
}

/// A private key, and the password of an encrypted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKeySpec {
    /// The key's PEM (PKCS#8, SEC1 or encrypted PKCS#8).
    pub key: KeySource,
    /// The password of an encrypted key; without it the [`Prompter`] is asked.
    pub password: Option<SecretSource>,
}

impl PrivateKeySpec {
    /// An unencrypted key in a PEM file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        PrivateKeySpec {
            key: KeySource::File(path.into()),
            password: None,
        }
    }

    /// Loads the key. The password is sought only for an encrypted key: the given source,
    /// else the prompter.
    pub fn load(&self, prompter: &dyn Prompter) -> Result<PrivateKey, SpecError> {
        let text = match &self.key {
            KeySource::File(path) => limits::read_input_file(path, limits::MAX_SMALL_FILE)
                .map_err(|source| SpecError::KeyFile {
                    path: path.clone(),
                    source,
                })?,
            KeySource::Pem(pem) => pem.clone(),
        };
        let password = if PrivateKey::pem_is_encrypted(&text) {
            Some(self.password(prompter)?)
        } else {
            None
        };
        PrivateKey::from_pem(&text, password.as_deref()).map_err(|source| SpecError::Key {
            origin: self.key.origin(),
            source,
        })
    }

    fn password(&self, prompter: &dyn Prompter) -> Result<Vec<u8>, SpecError> {
        if let Some(source) = &self.password {
            return source.read(SecretKind::Password).map(String::into_bytes);
        }
        match prompter.key_password() {
            Some(Ok(password)) => Ok(password.into_bytes()),
            Some(Err(e)) => Err(SpecError::PasswordPrompt(e)),
            None => Err(SpecError::PasswordRequired {
                origin: self.key.origin(),
            }),
        }
    }
}

/// The signing certificate and the chain that follows it into the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFiles {
    /// PEM file whose first certificate certifies the signing key.
    pub signing_certificate: PathBuf,
    /// PEM files of the certificates to include after it, its issuer first.
    pub chain: Vec<PathBuf>,
    /// What to do with a signing certificate verification will refuse.
    pub unverifiable: UnverifiableCertificate,
}

impl CertificateFiles {
    fn read(&self) -> Result<(Certificate, Vec<Certificate>), SpecError> {
        let leaf = Certificate::read_pem_file(&self.signing_certificate)?
            .into_iter()
            .next()
            .ok_or_else(|| SpecError::NoSigningCertificate {
                path: self.signing_certificate.clone(),
            })?;
        Ok((leaf, read_certificates(&self.chain)?))
    }
}

fn read_certificates(paths: &[PathBuf]) -> Result<Vec<Certificate>, SpecError> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(Certificate::read_pem_file(path)?);
    }
    Ok(all)
}

/// How to sign in interactively for an identity token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The OAuth client ID.
    pub client_id: String,
    /// An OAuth client secret; only public clients (none) are supported.
    pub client_secret: Option<String>,
    /// Paste a code instead of a browser redirect.
    pub force_oob: bool,
    /// The identity provider to sign in with instead of the signing config's (as
    /// model_signing's `oidc_issuer`); only an interactive sign-in uses it.
    pub oidc_issuer: Option<String>,
}

impl Default for SignIn {
    fn default() -> Self {
        SignIn {
            client_id: "sigstore".to_owned(),
            client_secret: None,
            force_oob: false,
            oidc_issuer: None,
        }
    }
}

/// Where a Sigstore signer's identity token comes from, in this order: the given source,
/// the CI system's ambient credentials (unless disabled), an interactive sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// A token given outright.
    pub given: Option<SecretSource>,
    /// Look for the CI system's OIDC credentials.
    pub ambient_credentials: bool,
    /// The last resort, through the [`Prompter`].
    pub sign_in: SignIn,
}

impl TokenSpec {
    /// A token given outright, nothing else tried.
    pub fn given(source: SecretSource) -> Self {
        TokenSpec {
            given: Some(source),
            ambient_credentials: false,
            sign_in: SignIn::default(),
        }
    }

    /// The identity token, by the precedence above; `oidc_url` is the provider an
    /// interactive sign-in would use (the signing config's) unless
    /// [`SignIn::oidc_issuer`] names another.
    pub fn resolve(
        &self,
        oidc_url: Option<&str>,
        prompter: &dyn Prompter,
    ) -> Result<IdentityTokenSecret, SpecError> {
        if let Some(source) = &self.given {
            let jwt = source.read(SecretKind::IdentityToken)?;
            return Ok(IdentityTokenSecret::from_jwt(&jwt)?);
        }
        if self.ambient_credentials {
            if let Some(token) = IdentityTokenSecret::from_ambient_credentials()? {
                return Ok(token);
            }
        }
        if self
            .sign_in
            .client_secret
            .as_deref()
            .is_some_and(|s| !s.is_empty())
        {
            return Err(SpecError::ClientSecretUnsupported);
        }
        let chosen = self
            .sign_in
            .oidc_issuer
            .as_deref()
            .filter(|url| !url.is_empty());
        let Some(oidc_url) = chosen.or(oidc_url) else {
            return Err(SpecError::NoIdentityToken {
                provider_listed: false,
            });
        };
        match prompter.sign_in(oidc_url, &self.sign_in) {
            Some(token) => Ok(token?),
            None => Err(SpecError::NoIdentityToken {
                provider_listed: true,
            }),
        }
    }
}

/// A Sigstore keyless signer: which services, and the identity token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigstoreSignerSpec {
    /// Sigstore's staging instance (wins over `trust_config`, as in model_signing).
    pub use_staging: bool,
    /// A ClientTrustConfig (or bare signing config) naming the services.
    pub trust_config: Option<PathBuf>,
    /// The identity token.
    pub token: TokenSpec,
}

/// A signing method and its material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerSpec {
    /// An EC private key (`key`).
    Key(PrivateKeySpec),
    /// An EC private key and its certificate chain (`certificate`).
    Certificate {
        /// The key.
        key: PrivateKeySpec,
        /// Its certificates.
        certificates: CertificateFiles,
    },
    /// A PKCS#11 token's key (`pkcs11-key`), named by an RFC 7512 URI that may carry the PIN.
    Pkcs11Key {
        /// The key's URI.
        uri: String,
        /// Folders to look for the URI's `module-name` in; empty: the default ones
        /// ([`crate::signing::pkcs11::default_module_directories`]).
        module_directories: Vec<PathBuf>,
    },
    /// A PKCS#11 token's key and its certificate chain (`pkcs11-certificate`).
    Pkcs11Certificate {
        /// The key's URI.
        uri: String,
        /// Its certificates.
        certificates: CertificateFiles,
        /// As for [`SignerSpec::Pkcs11Key`].
        module_directories: Vec<PathBuf>,
    },
    /// Sigstore keyless signing (`sigstore`).
    Sigstore(SigstoreSignerSpec),
}

/// Something the signer's user should hear about before signing.
#[derive(Debug)]
#[non_exhaustive]
pub enum SignerWarning {
    /// The signing certificate is one verification refuses, and signing goes ahead as
    /// [`UnverifiableCertificate::SignAnyway`] asked.
    UnverifiableCertificate {
        /// Verification's error about the certificate.
        reason: String,
    },
}

impl fmt::Display for SignerWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignerWarning::UnverifiableCertificate { reason } => write!(
                f,
                "{reason}; signing anyway, as asked: verification will refuse this signature"
            ),
        }
    }
}

/// Who a Sigstore signer signs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigstoreIdentity {
    /// The identity the certificate will name.
    pub identity: String,
    /// The OIDC identity provider vouching for it.
    pub issuer: String,
    /// The certificate authority's address.
    pub certificate_authority: String,
}

/// A signer built from a [`SignerSpec`], with what a front end reports about it.
pub struct BuiltSigner {
    /// The signer.
    pub signer: Box<dyn Signer>,
    /// The public key its signatures verify with (none for Sigstore, whose keys are
    /// ephemeral).
    pub public_key: Option<PublicKey>,
    /// Warnings to pass on.
    pub warnings: Vec<SignerWarning>,
    /// Sigstore: who it signs as.
    pub sigstore: Option<SigstoreIdentity>,
}

impl fmt::Debug for BuiltSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltSigner")
            .field("public_key", &self.public_key)
            .field("warnings", &self.warnings)
            .field("sigstore", &self.sigstore)
            .finish_non_exhaustive()
    }
}

impl BuiltSigner {
    /// The verifier of an earlier signature made as this signer signs, where the method
    /// says it without more material: a key method's (plain or PKCS#11) own public key.
    /// A certificate or Sigstore signature needs its trust given (roots, identity).
    pub fn own_key_verifier(&self, spec: &SignerSpec) -> Option<KeyVerifier> {
        match spec {
            SignerSpec::Key(_) | SignerSpec::Pkcs11Key { .. } => {
                self.public_key.clone().map(KeyVerifier::new)
            }
            _ => None,
        }
    }

    fn with_key(signer: impl Signer + 'static, public_key: PublicKey) -> Self {
        BuiltSigner {
            signer: Box::new(signer),
            public_key: Some(public_key),
            warnings: Vec::new(),
            sigstore: None,
        }
    }

    fn warn_unverifiable(mut self, reason: Option<String>) -> Self {
        if let Some(reason) = reason {
            self.warnings
                .push(SignerWarning::UnverifiableCertificate { reason });
        }
        self
    }
}

impl SignerSpec {
    /// The method's name, as the CLI and model_signing spell it.
    pub fn method(&self) -> &'static str {
        match self {
            SignerSpec::Key(_) => "key",
            SignerSpec::Certificate { .. } => "certificate",
            SignerSpec::Pkcs11Key { .. } => "pkcs11-key",
            SignerSpec::Pkcs11Certificate { .. } => "pkcs11-certificate",
            SignerSpec::Sigstore(_) => "sigstore",
        }
    }

    /// Builds the signer. Files are read before anything asks a person: the certificates
    /// before the token's PIN, the signing config before the identity token.
    pub fn build(&self, prompter: &dyn Prompter) -> Result<BuiltSigner, SpecError> {
        match self {
            SignerSpec::Key(key) => {
                let key = key.load(prompter)?;
                let public = key.public_key();
                Ok(BuiltSigner::with_key(KeySigner::new(key), public))
            }
            SignerSpec::Certificate { key, certificates } => {
                let key = key.load(prompter)?;
                let (leaf, chain) = certificates.read()?;
                let signer =
                    CertificateSigner::with_policy(key, leaf, chain, certificates.unverifiable)?;
                let public = signer.public_key();
                let reason = signer.unverifiable().map(|r| r.to_string());
                Ok(BuiltSigner::with_key(signer, public).warn_unverifiable(reason))
            }
            SignerSpec::Pkcs11Key {
                uri,
                module_directories,
            } => {
                let key = open_pkcs11_key(uri, module_directories, prompter)?;
                let public = key.public_key().clone();
                Ok(BuiltSigner::with_key(Pkcs11Signer::key(key), public))
            }
            SignerSpec::Pkcs11Certificate {
                uri,
                certificates,
                module_directories,
            } => {
                let (leaf, chain) = certificates.read()?;
                let key = open_pkcs11_key(uri, module_directories, prompter)?;
                let signer = Pkcs11Signer::certificate(key, leaf, chain, certificates.unverifiable)
                    .map_err(|e| match e {
                        SignError::Key(KeyError::CertificateMismatch) => {
                            SpecError::CertificateOfAnotherTokenKey
                        }
                        other => SpecError::Signer(other),
                    })?;
                let public = signer.public_key().clone();
                let reason = signer.unverifiable().map(|r| r.to_string());
                Ok(BuiltSigner::with_key(signer, public).warn_unverifiable(reason))
            }
            SignerSpec::Sigstore(spec) => {
                let services =
                    SigstoreServices::choose(spec.use_staging, spec.trust_config.as_deref())?;
                let token = spec.token.resolve(services.oidc_url(), prompter)?;
                let identity = SigstoreIdentity {
                    identity: token.identity().to_owned(),
                    issuer: token.issuer().to_owned(),
                    certificate_authority: services.fulcio_url().to_owned(),
                };
                Ok(BuiltSigner {
                    signer: Box::new(SigstoreSigner::new(&services, token)),
                    public_key: None,
                    warnings: Vec::new(),
                    sigstore: Some(identity),
                })
            }
        }
    }
}

fn open_pkcs11_key(
    uri: &str,
    module_directories: &[PathBuf],
    prompter: &dyn Prompter,
) -> Result<Pkcs11Key, SpecError> {
    let uri = Pkcs11Uri::parse(uri)?;
    let ask = |token: &str| prompter.token_pin(token);
    let key = if module_directories.is_empty() {
        Pkcs11Key::open(&uri, Some(&ask))?
    } else {
        Pkcs11Key::open_searching(&uri, module_directories, Some(&ask))?
    };
    Ok(key)
}

/// Which Sigstore signer identities a verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityMatch {
    /// This identity exactly.
    Exact(String),
    /// Any identity matching this regular expression.
    Regex(String),
}

/// A verification method and its trust material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifierSpec {
    /// The signer's public key (PEM file).
    Key {
        /// The public key file.
        public_key: PathBuf,
    },
    /// Root certificates the signing certificate must chain to (PEM files).
    Certificate {
        /// The trust anchors' files.
        trust_anchors: Vec<PathBuf>,
    },
    /// Sigstore keyless: the expected identity and identity provider, and the trust root.
    Sigstore {
        /// Trust Sigstore's staging instance.
        use_staging: bool,
        /// A trusted root or ClientTrustConfig (wins over `use_staging`).
        trust_file: Option<PathBuf>,
        /// The identities accepted.
        identity: IdentityMatch,
        /// The OIDC identity provider that must vouch for the identity.
        issuer: String,
    },
}

/// A verifier built from a [`VerifierSpec`], with what a front end reports about it.
pub struct BuiltVerifier {
    /// The verifier.
    pub verifier: Box<dyn Verifier>,
    /// The certificate method: the SHA-256 fingerprints of the trust anchors, as loaded.
    pub anchor_fingerprints: Vec<String>,
}

impl fmt::Debug for BuiltVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltVerifier")
            .field("anchor_fingerprints", &self.anchor_fingerprints)
            .finish_non_exhaustive()
    }
}

impl VerifierSpec {
    /// The method's name, as the CLI and model_signing spell it.
    pub fn method(&self) -> &'static str {
        match self {
            VerifierSpec::Key { .. } => "key",
            VerifierSpec::Certificate { .. } => "certificate",
            VerifierSpec::Sigstore { .. } => "sigstore",
        }
    }

    /// What a verdict says was trusted, where the method establishes no signer identity
    /// ("signed with the given public key").
    pub fn trust_description(&self) -> &'static str {
        match self {
            VerifierSpec::Key { .. } => "the given public key",
            VerifierSpec::Certificate { .. } => "a certificate chained to the given roots",
            VerifierSpec::Sigstore { .. } => "Sigstore",
        }
    }

    /// Builds the verifier.
    pub fn build(&self) -> Result<BuiltVerifier, SpecError> {
        let (verifier, anchor_fingerprints): (Box<dyn Verifier>, _) = match self {
            VerifierSpec::Key { public_key } => {
                let key = PublicKey::read_pem_file(public_key).map_err(SpecError::PublicKey)?;
                (Box::new(KeyVerifier::new(key)), Vec::new())
            }
            VerifierSpec::Certificate { trust_anchors } => {
                let verifier = CertificateVerifier::new(read_certificates(trust_anchors)?)?;
                let fingerprints = verifier.anchor_fingerprints();
                (Box::new(verifier), fingerprints)
            }
            VerifierSpec::Sigstore {
                use_staging,
                trust_file,
                identity,
                issuer,
            } => {
                let trust_root = SigstoreTrustRoot::choose(*use_staging, trust_file.as_deref())?;
                let identity = match identity {
                    IdentityMatch::Exact(identity) => IdentityPolicy::Exact(identity.clone()),
                    IdentityMatch::Regex(pattern) => {
                        IdentityPolicy::regex(pattern).map_err(SpecError::IdentityRegex)?
                    }
                };
                let verifier = SigstoreVerifier::new(&trust_root, identity, issuer.clone())?;
                (Box::new(verifier), Vec::new())
            }
        };
        Ok(BuiltVerifier {
            verifier,
            anchor_fingerprints,
        })
    }
}

/// A signer or verifier could not be built from its spec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The private key file could not be read.
    #[error("cannot read key file '{}': {source}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The private key could not be loaded (malformed, wrong password, …).
    #[error("cannot load private key '{origin}': {source}")]
    Key {
        /// The key file, or that it was given as PEM.
        origin: String,
        /// Why.
        source: KeyError,
    },
    /// The private key is encrypted, no password was given and nobody can be asked.
    #[error(
        "the private key '{origin}' is encrypted, and no password was given or can be asked for"
    )]
    PasswordRequired {
        /// The key file, or that it was given as PEM.
        origin: String,
    },
    /// A new key's password was to be asked for, and nobody can be asked.
    #[error("the new key's password was to be asked for, and nobody can be asked")]
    NoPasswordPrompt,
    /// The two entries of a new key's password differ.
    #[error("the two passwords differ; nothing was written")]
    PasswordsDiffer,
    /// Asking for the password failed.
    #[error("cannot read the password: {0}")]
    PasswordPrompt(io::Error),
    /// A secret's file could not be read.
    #[error("cannot read {kind} file '{}': {source}", path.display())]
    SecretFile {
        /// Which secret.
        kind: SecretKind,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A secret's environment variable is not set (or not Unicode).
    #[error("{}", env_message(*kind, var))]
    SecretEnv {
        /// Which secret.
        kind: SecretKind,
        /// The variable.
        var: String,
    },
    /// A certificate file could not be read or parsed, or the trust anchors are unusable.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// The signing certificate's file holds no certificate.
    #[error("the signing certificate file holds no certificate")]
    NoSigningCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The signer refused its material (a certificate of another key or one verification
    /// refuses, a chain too long), or Sigstore's services or token are unusable.
    #[error(transparent)]
    Signer(#[from] SignError),
    /// A PKCS#11 certificate that does not certify the token's key the URI names.
    #[error(
        "{} (the certificate must be that of the token's key the URI names)",
        KeyError::CertificateMismatch
    )]
    CertificateOfAnotherTokenKey,
    /// The PKCS#11 URI, module, token, PIN or key is unusable, or the token failed.
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11Error),
    /// Interactive sign-in with a client secret was asked for.
    #[error("a client secret is not supported: interactive sign-in uses a public OAuth client with PKCE")]
    ClientSecretUnsupported,
    /// No identity token was given, the CI system provides none, and nobody can sign in.
    #[error("no identity token: none was given, the CI system provides none, and nobody can sign in interactively{}", if *provider_listed { "" } else { " (the signing config names no OIDC provider)" })]
    NoIdentityToken {
        /// Whether the signing config names an OIDC provider to sign in with.
        provider_listed: bool,
    },
    /// The verifier's public key is unusable.
    #[error(transparent)]
    PublicKey(KeyError),
    /// The Sigstore trust root is unusable.
    #[error(transparent)]
    TrustRoot(#[from] TrustRootError),
    /// The expected identity's regular expression does not compile.
    #[error("the identity pattern is not a valid regular expression: {0}")]
    IdentityRegex(String),
}

fn env_message(kind: SecretKind, var: &str) -> String {
    match kind {
        SecretKind::Password => format!("environment variable {var} is not set"),
        SecretKind::IdentityToken => {
            format!("environment variable {var} holds no identity token")
        }
    }
}

impl Classify for SpecError {
    /// True when the material given is unusable (exit 2), rather than a device failing
    /// while it works (exit 1).
    fn failure_kind(&self) -> FailureKind {
        kind_of({
            match self {
                SpecError::Pkcs11(e) => e.is_input_error(),
                _ => true,
            }
        })
    }
}

#[cfg(test)]
mod tests;
