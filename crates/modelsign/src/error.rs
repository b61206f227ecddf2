//! Errors, one enum per concern. Every message names what failed and, where there is one,
//! what to do about it.

use std::io;
use std::path::{Path, PathBuf};

use crate::manifest::ManifestDiff;
use crate::text::{printable, printable_path};

/// Enumerating the files of a model failed.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("cannot read '{}': {source}", printable_path(path))]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "'{}' is a symbolic link; symbolic links are refused unless --allow-symlinks is given",
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
            WalkError::ModelPath { .. } | WalkError::NoModelName { .. } => true,
            _ => false,
        }
    }
}

/// Hashing a model failed.
#[derive(Debug, thiserror::Error)]
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
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

/// Loading or using a key failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file '{}': {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("no PEM block found{0}; expected -----BEGIN ...----- armour")]
    NoPem(String),
    #[error("unsupported key type: {0}; modelsign signs with elliptic-curve keys on P-256, P-384 or P-521")]
    UnsupportedKeyType(String),
    #[error("malformed key: {0}")]
    Malformed(String),
    #[error("the private key is encrypted; give its password with --password-file, --password-env or at the prompt")]
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
    #[error("'{}' already exists; pass --force to replace it", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write '{}': {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("the private and the public key would both be written to '{}'; give --public-key another path", path.display())]
    SamePath { path: PathBuf },
    #[error("the password is empty; an encrypted key needs a password (or generate the key unencrypted)")]
    EmptyPassword,
}

/// A bundle could not be read or written.
#[derive(Debug, thiserror::Error)]
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

/// The signed statement is not a valid OMS statement.
#[derive(Debug, thiserror::Error)]
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

/// A Sigstore trust root could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustRootError {
    #[error("cannot read trust root '{}': {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{origin} is not a usable Sigstore trusted root or trust config: {reason}")]
    Invalid { origin: String, reason: String },
}

/// A certificate chain could not be validated.
#[derive(Debug, thiserror::Error)]
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
    #[error("no trust anchors given; pass the root certificate(s) with --certificate-chain")]
    NoAnchors,
    #[error("{what} holds {count} certificates, more than {limit_name} ({limit}) allows")]
    TooMany {
        what: &'static str,
        count: usize,
        limit_name: &'static str,
        limit: usize,
    },
}

/// A PKCS#11 token could not be used to sign.
#[derive(Debug, thiserror::Error)]
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

    /// True when the URI, module, token, PIN or key given cannot be used (as opposed to
    /// the token failing while it works).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Pkcs11Error::Device { .. })
    }
}

/// A model card could not be read, signed or verified.
#[derive(Debug, thiserror::Error)]
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
    #[error("bad --require policy {0}")]
    Policy(String),
    #[error(transparent)]
    Sign(SignError),
    #[error(transparent)]
    Verify(VerifyError),
}

impl CardError {
    /// True when the inputs were unusable (a missing or unparsable file), rather than the
    /// card failing verification.
    pub fn is_input_error(&self) -> bool {
        match self {
            CardError::Io { .. }
            | CardError::Syntax { .. }
            | CardError::Invalid(_)
            | CardError::Policy(_)
            | CardError::DraftedForAnotherModel { .. } => true,
            CardError::Verify(e) => e.is_input_error(),
            CardError::Sign(e) => e.is_input_error(),
            _ => false,
        }
    }
}

/// Signing failed; no signature was written.
#[derive(Debug, thiserror::Error)]
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
    #[error("signing failed: {0}")]
    Crypto(String),
    #[error("Sigstore signing failed: {0}")]
    Sigstore(String),
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11Error),
}

impl SignError {
    /// True when the inputs were unusable (the model path, the key, the token, where the
    /// signature is to go), rather than signing itself failing.
    pub fn is_input_error(&self) -> bool {
        match self {
            SignError::Hash(HashError::Walk(walk)) => walk.is_unusable_model_path(),
            // The signer chose the shard size that splits the model into too many.
            SignError::Hash(HashError::TooManyResources { .. }) => true,
            SignError::Key(_) => true,
            // The certificates given to sign with, never one made while signing.
            SignError::Certificate(_) | SignError::UnverifiableCertificate(_) => true,
            SignError::Pkcs11(e) => e.is_input_error(),
            SignError::Bundle(BundleError::Target { .. } | BundleError::Write { .. }) => true,
            _ => false,
        }
    }
}

/// Verification failed or could not be carried out.
#[derive(Debug, thiserror::Error)]
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

impl VerifyError {
    /// True when the inputs themselves were unusable (a missing or unreadable file, an
    /// unparsable key), rather than the model or signature failing verification.
    pub fn is_input_error(&self) -> bool {
        match self {
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
        }
    }
}
