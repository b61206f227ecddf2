//! Errors, one enum per concern. Every message names what failed and, where there is one,
//! what to do about it. Every error says, through [`Classify`], whether the user's input was
//! unusable (exit code 2) or a signing or verification check failed (exit code 1).

use std::io;
use std::path::{Path, PathBuf};

use crate::manifest::ManifestDiff;
use crate::text::{printable, printable_path};

/// Whose side a failure is on, which decides a front end's exit code.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The input cannot be used (a missing file, an unparsable key, a bad option): exit 2.
    Input,
    /// The input was usable and a check failed (the model or signature does not verify,
    /// or signing failed): exit 1.
    Check,
}

impl FailureKind {
    /// The process exit code for this kind of failure: 2 for input, 1 for a failed check.
    pub fn exit_code(self) -> u8 {
        match self {
            FailureKind::Input => 2,
            FailureKind::Check => 1,
        }
    }
}

/// Implemented by every error of the library: says whether the failure is the user's
/// input or a failed check.
pub trait Classify: std::error::Error {
    /// Whether this failure is the user's input or a failed check.
    fn failure_kind(&self) -> FailureKind;

    /// True when the inputs were unusable, rather than a check failing.
    fn is_input_error(&self) -> bool {
        self.failure_kind() == FailureKind::Input
    }
}

pub(crate) fn kind_of(input: bool) -> FailureKind {
    if input {
        FailureKind::Input
    } else {
        FailureKind::Check
    }
}

/// Enumerating the files of a model failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalkError {
    #[error("cannot read '{}': {source}", printable_path(path))]
    Io { path: PathBuf, source: io::Error },
    /// A symbolic link inside the model; the CLI adds the option that follows links.
    #[error(
        "'{}' is a symbolic link; symbolic links are refused",
        printable_path(path)
    )]
    Symlink { path: PathBuf },
    #[error(
        "symbolic link '{}' cannot be resolved (broken link?): {source}",
        printable_path(path)
    )]
    BrokenSymlink { path: PathBuf, source: io::Error },
    #[error("symbolic link '{}' points outside the model root (to '{}'); only links inside the model are followed", printable_path(path), printable_path(target))]
    SymlinkOutsideRoot { path: PathBuf, target: PathBuf },
    #[error(
        "symbolic link '{}' of the Hugging Face cache snapshot points to '{}', which is not a file of the repository's blobs folder '{}'; only links to that repository's blobs are followed",
        printable_path(path),
        printable_path(target),
        printable_path(blobs)
    )]
    SnapshotLinkOutsideRepository {
        path: PathBuf,
        target: PathBuf,
        blobs: PathBuf,
    },
    #[error(
        "symbolic link '{}' points back to '{}', which contains it: a cycle",
        printable_path(path),
        printable_path(target)
    )]
    SymlinkCycle { path: PathBuf, target: PathBuf },
    #[error(
        "'{}' is not a regular file or directory (a device, socket or FIFO?)",
        printable_path(path)
    )]
    SpecialFile { path: PathBuf },
    #[error(
        "file name of '{}' is not valid UTF-8; OMS can only sign UTF-8 names, rename the file",
        printable_path(path)
    )]
    NonUtf8Name { path: PathBuf },
    #[error("the model path '{}' {reason}", printable_path(path))]
    ModelPath { path: PathBuf, reason: String },
    /// The model path is a symbolic link; the CLI adds the option that follows links.
    #[error(
        "the model path '{}' is a symbolic link; give the path it points to",
        printable_path(path)
    )]
    ModelPathSymlink { path: PathBuf },
    #[error("cannot derive a model name from '{}'", printable_path(path))]
    NoModelName { path: PathBuf },
    #[error("ignore path '{}' is unusable: {reason}", printable(path))]
    BadIgnorePath { path: String, reason: &'static str },
    #[error(
        "model '{}' has no files to sign after exclusions; an empty model cannot be signed",
        printable_path(path)
    )]
    EmptyModel { path: PathBuf },
}

impl WalkError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        WalkError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// True when the model path itself is unusable (missing, a device, a link not
    /// allowed), as opposed to a problem found inside the model.
    pub fn is_unusable_model_path(&self) -> bool {
        match self {
            WalkError::Io { source, .. } => source.kind() == io::ErrorKind::NotFound,
            WalkError::ModelPath { .. }
            | WalkError::ModelPathSymlink { .. }
            | WalkError::NoModelName { .. } => true,
            _ => false,
        }
    }
}

/// Input when the model path itself is unusable; a problem inside the model (a link, a
/// name) fails the check of the model.
impl Classify for WalkError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(self.is_unusable_model_path())
    }
}

/// Hashing a model failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error("cannot read '{}': {source}", printable_path(path))]
    Io { path: PathBuf, source: io::Error },
    #[error("'{}' changed while it was being hashed (size or modification time differs); retry once nothing writes to the model", printable_path(path))]
    FileChanged { path: PathBuf },
    #[error("shard size must be a positive number of bytes")]
    ZeroShardSize,
    #[error("the model would be hashed as {count} {unit}s, more than the limit of {limit} resources per manifest (modelsign::limits::MAX_RESOURCES){hint}")]
    TooManyResources {
        count: usize,
        unit: &'static str,
        limit: usize,
        hint: String,
    },
    /// The operating system refused the hashing threads.
    #[error("cannot start hashing threads: {0}")]
    ThreadPool(String),
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

/// As signing sees it: input when the model path is unusable or the settings split the
/// model into too many resources.
impl Classify for HashError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(match self {
            HashError::Walk(walk) => walk.is_input_error(),
            HashError::TooManyResources { .. } => true,
            _ => false,
        })
    }
}

/// Loading or using a key failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("cannot read key file '{}': {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("no PEM block found{0}; expected -----BEGIN ...----- armour")]
    NoPem(String),
    #[error("unsupported key type: {0}; modelsign signs with elliptic-curve keys on P-256, P-384 or P-521")]
    UnsupportedKeyType(String),
    #[error("malformed key: {0}")]
    Malformed(String),
    /// The CLI adds where a password can come from.
    #[error("the private key is encrypted; give its password")]
    PasswordRequired,
    #[error("cannot decrypt the private key: wrong password or unsupported encryption ({0})")]
    Decrypt(String),
    #[error("the private key's encryption asks for {what}, more than {limit_name} ({limit}) allows; re-encrypt the key with usual settings (e.g. `openssl pkcs8 -topk8 -v2 aes-256-cbc`)")]
    KdfTooCostly {
        what: String,
        limit_name: &'static str,
        limit: u64,
    },
    #[error("the signing certificate's public key does not match the private key")]
    CertificateMismatch,
    /// The CLI adds how to replace it.
    #[error("'{}' already exists", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write '{}': {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// The CLI adds which option to change.
    #[error("the private and the public key would both be written to '{}'", path.display())]
    SamePath { path: PathBuf },
    #[error("the password is empty; an encrypted key needs a password (or generate the key unencrypted)")]
    EmptyPassword,
}

/// Every key failure is the input's: the key, its password, where it is to be written.
impl Classify for KeyError {
    fn failure_kind(&self) -> FailureKind {
        FailureKind::Input
    }
}

/// A bundle could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error("cannot read signature '{}': {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("signature is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("signature is not a Sigstore bundle: {0}")]
    Malformed(String),
    #[error("unsupported bundle media type '{0}'; expected application/vnd.dev.sigstore.bundle.v0.3+json")]
    MediaType(String),
    #[error("cannot write signature '{}': {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("refusing to write the signature to '{}': {reason}", path.display())]
    Target { path: PathBuf, reason: String },
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

/// Input when the signature cannot be read or written where asked; a bundle that does not
/// parse fails the check.
impl Classify for BundleError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(matches!(
            self,
            BundleError::Io { .. } | BundleError::Write { .. } | BundleError::Target { .. }
        ))
    }
}

/// The signed statement is not a valid OMS statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    #[error("DSSE payload type is '{0}', expected application/vnd.in-toto+json")]
    PayloadType(String),
    #[error("signed payload is not JSON: {0}")]
    NotJson(String),
    #[error("statement type is '{0}', expected https://in-toto.io/Statement/v1")]
    StatementType(String),
    #[error("predicate type is '{0}', expected https://model_signing/signature/v1.0")]
    PredicateType(String),
    /// A statement about a model card (`modelsign card sign`), not about the model's files.
    #[error("this is a model card signature, not a model signature; verify it with `modelsign card verify`")]
    ModelCardSignature,
    #[error("statement must have exactly one subject, found {0}")]
    SubjectCount(usize),
    #[error("statement is missing '{0}'")]
    Missing(&'static str),
    #[error("statement field '{field}' is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("manifest lists no resources; a signature must cover at least one file")]
    EmptyResources,
    #[error("manifest lists {count} resources, more than the limit of {limit} (modelsign::limits::MAX_RESOURCES)")]
    TooManyResources { count: usize, limit: usize },
    #[error("manifest is inconsistent: subject digest is {recorded} but the listed resources hash to {computed}")]
    RootDigestMismatch { recorded: String, computed: String },
    #[error("manifest entry '{name}' is not a valid resource name: {reason}")]
    BadResourceName { name: String, reason: String },
    #[error("manifest lists '{0}' more than once")]
    DuplicateResource(String),
    #[error("manifest entry '{name}' uses algorithm '{algorithm}', but the serialization says '{expected}'")]
    AlgorithmMismatch {
        name: String,
        algorithm: String,
        expected: String,
    },
}

/// A statement that is not a valid OMS statement fails the check; a model card signature
/// given as a model signature is the input's (the model has not been checked).
impl Classify for StatementError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(matches!(self, StatementError::ModelCardSignature))
    }
}

/// A Sigstore trust root could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustRootError {
    #[error("cannot read trust root '{}': {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{origin} is not a usable Sigstore trusted root or trust config: {reason}")]
    Invalid { origin: String, reason: String },
}

/// A trust root is always given by the user.
impl Classify for TrustRootError {
    fn failure_kind(&self) -> FailureKind {
        FailureKind::Input
    }
}

/// A certificate chain could not be validated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("cannot read certificate file '{}': {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("malformed certificate{context}: {reason}")]
    Malformed { context: String, reason: String },
    /// `reason` says which bound: "expired on ..." or "is not valid before ...".
    #[error("certificate '{subject}' {reason}")]
    Validity { subject: String, reason: String },
    #[error("no trusted path from signing certificate '{subject}' to any of the given trust anchors: {reason}")]
    Untrusted { subject: String, reason: String },
    #[error("signing certificate '{0}' may not sign: it has neither the digitalSignature key usage nor the codeSigning extended key usage")]
    LeafUsage(String),
    /// The CLI adds which option gives them.
    #[error("no trust anchors given; pass the root certificate(s)")]
    NoAnchors,
    #[error("{what} holds {count} certificates, more than {limit_name} ({limit}) allows")]
    TooMany {
        what: &'static str,
        count: usize,
        limit_name: &'static str,
        limit: usize,
    },
}

/// As verification sees it: input when the certificates cannot be read or are too many or
/// none; a chain that does not validate fails the check.
impl Classify for CertError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(matches!(
            self,
            CertError::Io { .. } | CertError::NoAnchors | CertError::TooMany { .. }
        ))
    }
}

/// A PKCS#11 token could not be used to sign.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    #[error("invalid PKCS#11 URI '{uri}': {reason}")]
    InvalidUri { uri: String, reason: String },
    #[error("PKCS#11 module not found: {0}")]
    ModuleNotFound(String),
    #[error("cannot load PKCS#11 module '{}': {reason}", path.display())]
    ModuleLoad { path: PathBuf, reason: String },
    #[error("no PKCS#11 token {wanted}; {available}")]
    TokenNotFound { wanted: String, available: String },
    #[error("cannot read the PIN from '{}': {source}", path.display())]
    PinFile { path: PathBuf, source: io::Error },
    #[error("token '{token}' needs a PIN: add pin-source=/path/to/pin-file (or pin-value=) to the URI, or run on a terminal to be asked")]
    PinRequired { token: String },
    #[error("wrong PIN for token '{token}'{hint}; not retried, since repeated wrong PINs lock the token")]
    PinIncorrect { token: String, hint: String },
    #[error("the user PIN of token '{token}' is locked after too many wrong attempts; the token's security officer must unlock it")]
    PinLocked { token: String },
    #[error("no private key with {criteria} on token '{token}'; {candidates}")]
    KeyNotFound {
        criteria: String,
        token: String,
        candidates: String,
    },
    #[error("{count} private keys match {criteria} on token '{token}'; add id= (or a more specific object=) to pick one ({candidates})")]
    KeyAmbiguous {
        count: usize,
        criteria: String,
        token: String,
        candidates: String,
    },
    #[error("key {key} on token '{token}' is not an EC key on P-256, P-384 or P-521 ({key_type}); modelsign signs with those only")]
    NotEcKey {
        key: String,
        token: String,
        key_type: String,
    },
    #[error("no public key for {key} on token '{token}': no public-key or certificate object has its id or label; import the public key (or certificate) onto the token")]
    NoPublicKey { key: String, token: String },
    #[error("the PKCS#11 token failed at {operation}: {detail}")]
    Device {
        operation: &'static str,
        detail: String,
    },
}

impl Pkcs11Error {
    pub(crate) fn device(operation: &'static str, error: impl std::fmt::Display) -> Self {
        Pkcs11Error::Device {
            operation,
            detail: error.to_string(),
        }
    }
}

/// Input when the URI, module, token, PIN or key given cannot be used; the token failing
/// while it works fails the check.
impl Classify for Pkcs11Error {
    fn failure_kind(&self) -> FailureKind {
        kind_of(!matches!(self, Pkcs11Error::Device { .. }))
    }
}

/// An attestation (a signed statement about a model) could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    #[error(transparent)]
    Sign(SignError),
    #[error(transparent)]
    Verify(VerifyError),
    /// The payload is not an in-toto statement.
    #[error("the signed payload is not an in-toto statement: {0}")]
    Statement(StatementError),
    /// A statement of another kind.
    #[error("predicate type is '{found}', expected {expected}")]
    PredicateType {
        expected: &'static str,
        found: String,
    },
    /// An attestation is about exactly one model.
    #[error("an attestation has exactly one subject (the model), found {0}")]
    SubjectCount(usize),
    #[error("the subject has no sha256 digest")]
    NoSubjectDigest,
    /// How the model's digest was computed is missing, malformed or recorded twice
    /// differently.
    #[error("the subject's hashing settings {0}")]
    Serialization(String),
    /// The attestation is about a model with another root digest.
    #[error("the attestation is about another model: it was signed for root digest {attested}, but this model's root digest is {model}")]
    WrongModel { attested: String, model: String },
}

impl Classify for AttestationError {
    /// True when the inputs were unusable, rather than the attestation failing
    /// verification.
    fn failure_kind(&self) -> FailureKind {
        kind_of({
            match self {
                AttestationError::Sign(e) => e.is_input_error(),
                AttestationError::Verify(e) => e.is_input_error(),
                _ => false,
            }
        })
    }
}

/// A model card could not be read, signed or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    #[error("cannot read '{}': {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{origin} is not a readable model card: {reason}")]
    Syntax { origin: String, reason: String },
    #[error("the model card is not valid:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
    #[error("the card was drafted for the model with root digest {card}, but the model now hashes to {model}; run `card init` again or remove the card's `model:` section")]
    DraftedForAnotherModel { card: String, model: String },
    #[error("the signature does not hold a model card: {0}")]
    NotACard(String),
    #[error("the card is about another model: it was signed for root digest {card}, but this model's root digest is {model}")]
    WrongModel { card: String, model: String },
    /// The CLI names the option the policy came from.
    #[error("bad policy {0}")]
    Policy(String),
    #[error(transparent)]
    Sign(SignError),
    #[error(transparent)]
    Verify(VerifyError),
}

/// Input when a file is missing or unparsable, a policy is bad or the card was drafted for
/// another model; otherwise as the signing or verification error says.
impl Classify for CardError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(match self {
            CardError::Io { .. }
            | CardError::Syntax { .. }
            | CardError::Invalid(_)
            | CardError::Policy(_)
            | CardError::DraftedForAnotherModel { .. } => true,
            CardError::Verify(e) => e.is_input_error(),
            CardError::Sign(e) => e.is_input_error(),
            _ => false,
        })
    }
}

/// Signing failed; no signature was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// The signing certificate is one verification refuses, with verification's error.
    #[error(
        "{0}; verification refuses such a certificate, so no signature made with it would verify"
    )]
    UnverifiableCertificate(CertError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The ECDSA implementation refused to sign.
    #[error("signing failed: ECDSA signing failed: {0}")]
    Ecdsa(p256::ecdsa::Error),
    #[error("Sigstore signing failed: {0}")]
    Sigstore(#[from] SigstoreSignError),
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11Error),
}

/// Input when the model path, the key, the token, the certificates, the Sigstore services or
/// identity, or where the signature is to go are unusable; otherwise signing failed.
impl Classify for SignError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(match self {
            SignError::Hash(HashError::Walk(walk)) => walk.is_unusable_model_path(),
            // The signer chose the shard size that splits the model into too many.
            SignError::Hash(HashError::TooManyResources { .. }) => true,
            SignError::Key(_) => true,
            // The certificates given to sign with, never one made while signing.
            SignError::Certificate(_) | SignError::UnverifiableCertificate(_) => true,
            SignError::Pkcs11(e) => e.is_input_error(),
            SignError::Bundle(BundleError::Target { .. } | BundleError::Write { .. }) => true,
            SignError::Sigstore(e) => e.is_input_error(),
            _ => false,
        })
    }
}

/// Sigstore keyless signing failed: choosing the services, obtaining the identity token, or
/// the services refusing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigstoreSignError {
    /// A signing config built into the binary is unusable.
    #[error("no usable signing config: {0}")]
    EmbeddedConfig(String),
    /// The trust config file cannot be read.
    #[error("cannot read trust config '{}': {source}", path.display())]
    ReadTrustConfig { path: PathBuf, source: io::Error },
    /// The trust config file is not a usable ClientTrustConfig or signing config.
    #[error("'{}' is not a usable Sigstore trust config: {reason}", path.display())]
    InvalidTrustConfig { path: PathBuf, reason: String },
    /// The identity token is not a JWT with the claims Fulcio needs.
    #[error("the identity token is not usable: {0}")]
    UnusableToken(String),
    /// The identity token has expired.
    #[error("the identity token for {identity} expired at {expired_at}; obtain a fresh one")]
    ExpiredToken {
        identity: String,
        expired_at: String,
    },
    /// Asking the CI system for its OIDC credentials failed.
    #[error("ambient credentials: {0}")]
    AmbientCredentials(String),
    /// The OIDC provider to sign in with cannot be reached.
    #[error("cannot reach {url}: {reason}")]
    OidcUnreachable { url: String, reason: String },
    /// Signing in with the OIDC provider failed.
    #[error("signing in with {url} failed: {reason}")]
    SignIn { url: String, reason: String },
    /// Fulcio refused to issue the signing certificate.
    #[error("the certificate authority (Fulcio) refused: {0}")]
    CertificateAuthority(String),
    /// Rekor refused to log the signature.
    #[error("the transparency log (Rekor) refused: {0}")]
    TransparencyLog(String),
    /// The timestamp authority refused to timestamp the signature.
    #[error("the timestamp authority refused: {0}")]
    TimestampAuthority(String),
    /// A service refused the identity token.
    #[error("the identity token was refused: {0}")]
    TokenRefused(String),
    /// Any other failure of the Sigstore client while signing.
    #[error("{0}")]
    Client(String),
    /// The signed bundle could not be encoded.
    #[error("cannot encode the bundle: {0}")]
    EncodeBundle(String),
    /// The asynchronous runtime the network clients run on could not start.
    #[error("cannot start the network client: {0}")]
    Runtime(io::Error),
}

/// Input when the services or the identity cannot be used; the services refusing, or the
/// client failing, fails signing.
impl Classify for SigstoreSignError {
    fn failure_kind(&self) -> FailureKind {
        use SigstoreSignError as E;
        kind_of(matches!(
            self,
            E::EmbeddedConfig(_)
                | E::ReadTrustConfig { .. }
                | E::InvalidTrustConfig { .. }
                | E::UnusableToken(_)
                | E::ExpiredToken { .. }
                | E::AmbientCredentials(_)
                | E::OidcUnreachable { .. }
                | E::SignIn { .. }
        ))
    }
}

/// Verification failed or could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Certificate(#[from] CertError),
    #[error(transparent)]
    Statement(#[from] StatementError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("the signature was made with {found}, but {expected} verification was requested")]
    WrongMethod {
        expected: &'static str,
        found: &'static str,
    },
    #[error("key mismatch: the signature's public key hint {hint} does not match the given public key ({actual})")]
    KeyMismatch { hint: String, actual: String },
    #[error("the DSSE envelope has no signature")]
    NoSignature,
    #[error("signature is invalid: it was not made by this key over this payload")]
    BadSignature,
    #[error("model does not match its signature: {0}")]
    // Boxed: the diff is large, and every Result carrying a VerifyError pays its size.
    Mismatch(Box<ManifestDiff>),
    #[error("wrong signer: the signature was made by '{found}', but {expected} was expected")]
    IdentityMismatch { expected: String, found: String },
    #[error("wrong identity provider: the signer's identity was vouched for by '{found}', but '{expected}' was expected")]
    IssuerMismatch { expected: String, found: String },
    #[error("Sigstore verification failed at {what}: {detail}")]
    Sigstore { what: &'static str, detail: String },
    #[error(transparent)]
    TrustRoot(#[from] TrustRootError),
}

/// Input when the inputs themselves were unusable (a missing or unreadable file, an
/// unparsable key, a trust root), rather than the model or signature failing verification.
impl Classify for VerifyError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(match self {
            VerifyError::Bundle(BundleError::Io { .. }) => true,
            VerifyError::Key(_) => true,
            VerifyError::Certificate(
                CertError::Io { .. } | CertError::NoAnchors | CertError::TooMany { .. },
            ) => true,
            VerifyError::Hash(HashError::Walk(walk)) => walk.is_unusable_model_path(),
            VerifyError::TrustRoot(_) => true,
            // A valid document of another kind: the model has not been checked at all.
            VerifyError::Statement(StatementError::ModelCardSignature) => true,
            _ => false,
        })
    }
}
