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
    /// A file or directory of the model could not be read or inspected.
    #[error("cannot read '{}': {source}", printable_path(path))]
    Io {
        /// The file or directory that could not be read.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// A symbolic link inside the model; the CLI adds the option that follows links.
    #[error(
        "'{}' is a symbolic link; symbolic links are refused",
        printable_path(path)
    )]
    Symlink {
        /// The symbolic link.
        path: PathBuf,
    },
    /// A symbolic link to be followed points to nothing that exists.
    #[error(
        "symbolic link '{}' cannot be resolved (broken link?): {source}",
        printable_path(path)
    )]
    BrokenSymlink {
        /// The symbolic link.
        path: PathBuf,
        /// Why resolving it failed.
        source: io::Error,
    },
    /// A followed symbolic link leads out of the model directory.
    #[error("symbolic link '{}' points outside the model root (to '{}'); only links inside the model are followed", printable_path(path), printable_path(target))]
    SymlinkOutsideRoot {
        /// The symbolic link.
        path: PathBuf,
        /// Where it resolves to.
        target: PathBuf,
    },
    /// A link of a Hugging Face cache snapshot leads somewhere other than its repository's
    /// blobs.
    #[error(
        "symbolic link '{}' of the Hugging Face cache snapshot points to '{}', which is not a file of the repository's blobs folder '{}'; only links to that repository's blobs are followed",
        printable_path(path),
        printable_path(target),
        printable_path(blobs)
    )]
    SnapshotLinkOutsideRepository {
        /// The symbolic link in the snapshot.
        path: PathBuf,
        /// Where it resolves to.
        target: PathBuf,
        /// The repository's blobs folder, where it should lead.
        blobs: PathBuf,
    },
    /// A followed symbolic link points to a directory that contains it, so walking would
    /// never end.
    #[error(
        "symbolic link '{}' points back to '{}', which contains it: a cycle",
        printable_path(path),
        printable_path(target)
    )]
    SymlinkCycle {
        /// The symbolic link.
        path: PathBuf,
        /// The enclosing directory it points to.
        target: PathBuf,
    },
    /// The model holds something that cannot be hashed as a file (a device, socket or FIFO).
    #[error(
        "'{}' is not a regular file or directory (a device, socket or FIFO?)",
        printable_path(path)
    )]
    SpecialFile {
        /// The offending entry.
        path: PathBuf,
    },
    /// A file name is not UTF-8, which an OMS manifest cannot record.
    #[error(
        "file name of '{}' is not valid UTF-8; OMS can only sign UTF-8 names, rename the file",
        printable_path(path)
    )]
    NonUtf8Name {
        /// The file with the non-UTF-8 name.
        path: PathBuf,
    },
    /// The model path given is neither a usable file nor a usable directory.
    #[error("the model path '{}' {reason}", printable_path(path))]
    ModelPath {
        /// The model path as given.
        path: PathBuf,
        /// What is wrong with it, phrased to follow the path ("does not exist", ...).
        reason: String,
    },
    /// The model path is a symbolic link; the CLI adds the option that follows links.
    #[error(
        "the model path '{}' is a symbolic link; give the path it points to",
        printable_path(path)
    )]
    ModelPathSymlink {
        /// The model path as given.
        path: PathBuf,
    },
    /// The model path has no final component to name the model after (such as `/`).
    #[error("cannot derive a model name from '{}'", printable_path(path))]
    NoModelName {
        /// The model path as given.
        path: PathBuf,
    },
    /// A path to leave out of the manifest cannot be used (absolute, with `..`, the root).
    #[error("ignore path '{}' is unusable: {reason}", printable(path))]
    BadIgnorePath {
        /// The ignore path as given.
        path: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// A file listed to be hashed lies outside the model.
    #[error(
        "'{}' is not inside the model '{}'",
        printable_path(path),
        printable_path(model)
    )]
    NotInModel {
        /// The path as listed.
        path: PathBuf,
        /// The model path.
        model: PathBuf,
    },
    /// Nothing is left to sign once ignored and excluded files are left out.
    #[error(
        "model '{}' has no files to sign after exclusions; an empty model cannot be signed",
        printable_path(path)
    )]
    EmptyModel {
        /// The model path.
        path: PathBuf,
    },
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
    /// Enumerating the model's files failed.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// A file could not be read while it was hashed.
    #[error("cannot read '{}': {source}", printable_path(path))]
    Io {
        /// The file being hashed.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// A file was modified while it was hashed, so its digest would describe no real state.
    #[error("'{}' changed while it was being hashed (size or modification time differs); retry once nothing writes to the model", printable_path(path))]
    FileChanged {
        /// The file that changed.
        path: PathBuf,
    },
    /// Shard serialization was asked for with a shard size of zero.
    #[error("shard size must be a positive number of bytes")]
    ZeroShardSize,
    /// The model would produce more manifest entries than a verifier accepts.
    #[error("the model would be hashed as {count} {unit}s, more than the limit of {limit} resources per manifest (modelsign::limits::MAX_RESOURCES){hint}")]
    TooManyResources {
        /// How many entries the manifest would have.
        count: usize,
        /// What an entry is: "file" or "shard".
        unit: &'static str,
        /// The most entries allowed.
        limit: usize,
        /// The shard size in use, when hashing in shards; empty otherwise.
        hint: String,
    },
    /// The operating system refused the hashing threads.
    #[error("cannot start hashing threads: {0}")]
    ThreadPool(String),
    /// A stop was requested (Ctrl-C, SIGTERM) while hashing.
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
    /// The key file could not be read.
    #[error("cannot read key file '{}': {source}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The key text holds no PEM block; the string says where, or is empty.
    #[error("no PEM block found{0}; expected -----BEGIN ...----- armour")]
    NoPem(String),
    /// The key is not an elliptic-curve key on a curve modelsign signs with.
    #[error("unsupported key type: {0}; modelsign signs with elliptic-curve keys on P-256, P-384 or P-521")]
    UnsupportedKeyType(String),
    /// The key does not parse as a key modelsign reads, or cannot be encoded.
    #[error("malformed key: {0}")]
    Malformed(String),
    /// The CLI adds where a password can come from.
    #[error("the private key is encrypted; give its password")]
    PasswordRequired,
    /// An encrypted private key could not be decrypted.
    #[error("cannot decrypt the private key: wrong password or unsupported encryption ({0})")]
    Decrypt(String),
    /// The key's encryption parameters would cost more memory or time than allowed, which
    /// guards against keys crafted to exhaust the machine.
    #[error("the private key's encryption asks for {what}, more than {limit_name} ({limit}) allows; re-encrypt the key with usual settings (e.g. `openssl pkcs8 -topk8 -v2 aes-256-cbc`)")]
    KdfTooCostly {
        /// The parameters asked for and what they cost (iterations, memory, N·r·p).
        what: String,
        /// The name of the limit exceeded (a constant of the `keys` module).
        limit_name: &'static str,
        /// The limit's value.
        limit: u64,
    },
    /// The certificate given to sign with is for another key.
    #[error("the signing certificate's public key does not match the private key")]
    CertificateMismatch,
    /// The CLI adds how to replace it.
    #[error("'{}' already exists", path.display())]
    Exists {
        /// The file that would be overwritten.
        path: PathBuf,
    },
    /// A generated key could not be written.
    #[error("cannot write '{}': {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The CLI adds which option to change.
    #[error("the private and the public key would both be written to '{}'", path.display())]
    SamePath {
        /// The path given for both keys.
        path: PathBuf,
    },
    /// An empty password was given to encrypt a generated key with.
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
    /// The signature file could not be read.
    #[error("cannot read signature '{}': {source}", path.display())]
    Io {
        /// The signature file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The signature is not JSON at all.
    #[error("signature is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The signature is JSON but lacks or misshapes a field a Sigstore bundle needs.
    #[error("signature is not a Sigstore bundle: {0}")]
    Malformed(String),
    /// The bundle declares a media type (bundle version) modelsign does not read.
    #[error("unsupported bundle media type '{0}'; expected application/vnd.dev.sigstore.bundle.v0.3+json")]
    MediaType(String),
    /// The signature file could not be written.
    #[error("cannot write signature '{}': {source}", path.display())]
    Write {
        /// The signature file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The signature may not be written where asked (a symbolic link, a device, a
    /// directory, a file of the model), so nothing is written.
    #[error("refusing to write the signature to '{}': {reason}", path.display())]
    Target {
        /// Where the signature was to go.
        path: PathBuf,
        /// Why it may not go there.
        reason: String,
    },
    /// A stop was requested (Ctrl-C, SIGTERM) before the signature was put in place.
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
    /// The DSSE envelope does not carry an in-toto statement.
    #[error("DSSE payload type is '{0}', expected application/vnd.in-toto+json")]
    PayloadType(String),
    /// The envelope's payload does not parse as JSON.
    #[error("signed payload is not JSON: {0}")]
    NotJson(String),
    /// The payload is JSON of another statement version or kind.
    #[error("statement type is '{0}', expected https://in-toto.io/Statement/v1")]
    StatementType(String),
    /// The statement is an attestation of another kind than an OMS model signature.
    #[error("predicate type is '{0}', expected https://model_signing/signature/v1.0")]
    PredicateType(String),
    /// A statement about a model card (`modelsign card sign`), not about the model's files.
    #[error("this is a model card signature, not a model signature; verify it with `modelsign card verify`")]
    ModelCardSignature,
    /// An OMS statement names exactly one subject, the model; this one names another number.
    #[error("statement must have exactly one subject, found {0}")]
    SubjectCount(usize),
    /// A required field is absent; the string is its JSON path.
    #[error("statement is missing '{0}'")]
    Missing(&'static str),
    /// A field is present but holds a value OMS does not allow.
    #[error("statement field '{field}' is invalid: {reason}")]
    Invalid {
        /// The field's JSON path.
        field: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The manifest is empty, so the signature would cover nothing.
    #[error("manifest lists no resources; a signature must cover at least one file")]
    EmptyResources,
    /// The manifest has more entries than modelsign reads, a guard against huge statements.
    #[error("manifest lists {count} resources, more than the limit of {limit} (modelsign::limits::MAX_RESOURCES)")]
    TooManyResources {
        /// How many entries the manifest lists.
        count: usize,
        /// The most entries allowed.
        limit: usize,
    },
    /// The subject's digest is not the digest of the resources the statement lists.
    #[error("manifest is inconsistent: subject digest is {recorded} but the listed resources hash to {computed}")]
    RootDigestMismatch {
        /// The subject digest recorded, in hex.
        recorded: String,
        /// The digest computed from the listed resources, in hex.
        computed: String,
    },
    /// A resource name is not a relative path inside the model (absolute, `..`, empty, ...).
    #[error("manifest entry '{name}' is not a valid resource name: {reason}")]
    BadResourceName {
        /// The name as listed.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same resource appears twice in the manifest.
    #[error("manifest lists '{0}' more than once")]
    DuplicateResource(String),
    /// A resource is hashed with another algorithm than the statement's serialization declares.
    #[error("manifest entry '{name}' uses algorithm '{algorithm}', but the serialization says '{expected}'")]
    AlgorithmMismatch {
        /// The resource's name.
        name: String,
        /// The algorithm it lists.
        algorithm: String,
        /// The algorithm the serialization declares.
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
    /// The trust root file could not be read.
    #[error("cannot read trust root '{}': {source}", path.display())]
    Io {
        /// The trust root file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The text does not parse as a trusted root or trust config, or lacks what
    /// verification needs.
    #[error("{origin} is not a usable Sigstore trusted root or trust config: {reason}")]
    Invalid {
        /// Where the text came from, as messages name it (a quoted path, or the embedded trust root).
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
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
    /// A certificate file could not be read.
    #[error("cannot read certificate file '{}': {source}", path.display())]
    Io {
        /// The certificate file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// A certificate's PEM or DER does not parse, or a chain has none.
    #[error("malformed certificate{context}: {reason}")]
    Malformed {
        /// Where the certificate was, phrased to follow "certificate" (" in the bundle"), or
        /// empty.
        context: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `reason` says which bound: "expired on ..." or "is not valid before ...".
    #[error("certificate '{subject}' {reason}")]
    Validity {
        /// The certificate's subject.
        subject: String,
        /// Which bound of its validity period is crossed, and when.
        reason: String,
    },
    /// The signing certificate does not chain up to a trust anchor given.
    #[error("no trusted path from signing certificate '{subject}' to any of the given trust anchors: {reason}")]
    Untrusted {
        /// The signing certificate's subject.
        subject: String,
        /// Why path building failed.
        reason: String,
    },
    /// The signing certificate's key usages do not allow signing code; the string is its
    /// subject.
    #[error("signing certificate '{0}' may not sign: it has neither the digitalSignature key usage nor the codeSigning extended key usage")]
    LeafUsage(String),
    /// The CLI adds which option gives them.
    #[error("no trust anchors given; pass the root certificate(s)")]
    NoAnchors,
    /// More certificates were given than modelsign reads, a guard against huge chains.
    #[error("{what} holds {count} certificates, more than {limit_name} ({limit}) allows")]
    TooMany {
        /// What holds them (the signature's chain, the trust anchors given).
        what: &'static str,
        /// How many certificates it holds.
        count: usize,
        /// The name of the limit exceeded (a constant of the `x509` module).
        limit_name: &'static str,
        /// The limit's value.
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
    /// The `pkcs11:` URI does not parse or asks for something unsupported.
    #[error("invalid PKCS#11 URI '{uri}': {reason}")]
    InvalidUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No PKCS#11 module (the token's driver library) was given or found.
    #[error("PKCS#11 module not found: {0}")]
    ModuleNotFound(String),
    /// The PKCS#11 module exists but could not be loaded or initialised.
    #[error("cannot load PKCS#11 module '{}': {reason}", path.display())]
    ModuleLoad {
        /// The module's path.
        path: PathBuf,
        /// Why loading failed.
        reason: String,
    },
    /// No token present matches the URI.
    #[error("no PKCS#11 token {wanted}; {available}")]
    TokenNotFound {
        /// The token asked for, phrased to follow "no PKCS#11 token".
        wanted: String,
        /// The tokens that are present, to pick from.
        available: String,
    },
    /// The file named by the URI's `pin-source` could not be read.
    #[error("cannot read the PIN from '{}': {source}", path.display())]
    PinFile {
        /// The PIN file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The token needs a PIN and none was given nor could be asked for.
    #[error("token '{token}' needs a PIN: add pin-source=/path/to/pin-file (or pin-value=) to the URI, or run on a terminal to be asked")]
    PinRequired {
        /// The token's label.
        token: String,
    },
    /// The token refused the PIN.
    #[error("wrong PIN for token '{token}'{hint}; not retried, since repeated wrong PINs lock the token")]
    PinIncorrect {
        /// The token's label.
        token: String,
        /// A likely cause (a trailing newline in the PIN file) or that the next wrong PIN
        /// locks the token, or empty.
        hint: String,
    },
    /// The token's user PIN is locked.
    #[error("the user PIN of token '{token}' is locked after too many wrong attempts; the token's security officer must unlock it")]
    PinLocked {
        /// The token's label.
        token: String,
    },
    /// No private key on the token matches the URI.
    #[error("no private key with {criteria} on token '{token}'; {candidates}")]
    KeyNotFound {
        /// The URI's key attributes (id, object label).
        criteria: String,
        /// The token's label.
        token: String,
        /// The private keys that are on the token, to pick from.
        candidates: String,
    },
    /// Several private keys on the token match the URI.
    #[error("{count} private keys match {criteria} on token '{token}'; add id= (or a more specific object=) to pick one ({candidates})")]
    KeyAmbiguous {
        /// How many keys match.
        count: usize,
        /// The URI's key attributes (id, object label).
        criteria: String,
        /// The token's label.
        token: String,
        /// The keys that match.
        candidates: String,
    },
    /// The key found is not one modelsign signs with.
    #[error("key {key} on token '{token}' is not an EC key on P-256, P-384 or P-521 ({key_type}); modelsign signs with those only")]
    NotEcKey {
        /// The key, by its id and label.
        key: String,
        /// The token's label.
        token: String,
        /// The key's type or curve as the token reports it.
        key_type: String,
    },
    /// The private key's public half is not on the token, and the bundle needs it.
    #[error("no public key for {key} on token '{token}': no public-key or certificate object has its id or label; import the public key (or certificate) onto the token")]
    NoPublicKey {
        /// The private key, by its id and label.
        key: String,
        /// The token's label.
        token: String,
    },
    /// The token failed an operation while in use.
    #[error("the PKCS#11 token failed at {operation}: {detail}")]
    Device {
        /// The operation that failed (such as `C_Sign`).
        operation: &'static str,
        /// What the token reported.
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

/// A claims file could not be read, or a claim could not be added to it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The claims file could not be read.
    #[error("cannot read claims file '{}': {source}", path.display())]
    Io {
        /// The claims file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// A line of the file does not parse as a Sigstore bundle.
    #[error("line {line} of claims file '{}' is not a Sigstore bundle: {source}", path.display())]
    Line {
        /// The claims file.
        path: PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// Why it is not a bundle.
        source: BundleError,
    },
    /// The file holds, or an append would make it hold, more claims than allowed.
    #[error("claims file '{}' would hold more than {limit} claims", path.display())]
    TooMany {
        /// The claims file.
        path: PathBuf,
        /// The most claims allowed.
        limit: usize,
    },
    /// The file is, or an append would make it, larger than allowed.
    #[error("claims file '{}' would be larger than {}", path.display(), crate::limits::format_bytes(*limit))]
    TooLarge {
        /// The claims file.
        path: PathBuf,
        /// The most bytes allowed.
        limit: u64,
    },
    /// The claims file could not be written.
    #[error("cannot write claims file '{}': {source}", path.display())]
    Write {
        /// The claims file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The file may not be written where asked, or a stop was requested before it was.
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

impl Classify for ClaimsError {
    /// True when the claims file cannot be used at all (unreadable, too large, unwritable),
    /// false when one of its claims is not a bundle, which is for a verifier a failed check.
    fn failure_kind(&self) -> FailureKind {
        kind_of(!matches!(self, ClaimsError::Line { .. }))
    }
}

/// An attestation (a signed statement about a model) could not be made or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// Signing the attestation failed.
    #[error(transparent)]
    Sign(SignError),
    /// Verifying the attestation's signature failed or could not be carried out.
    #[error(transparent)]
    Verify(VerifyError),
    /// The payload is not an in-toto statement.
    #[error("the signed payload is not an in-toto statement: {0}")]
    Statement(StatementError),
    /// A statement of another kind.
    #[error("predicate type is '{found}', expected {expected}")]
    PredicateType {
        /// The predicate type this kind of attestation has.
        expected: &'static str,
        /// The predicate type the statement has.
        found: String,
    },
    /// An attestation is about exactly one model.
    #[error("an attestation has exactly one subject (the model), found {0}")]
    SubjectCount(usize),
    /// The subject does not say which model it is: it has no sha256 root digest.
    #[error("the subject has no sha256 digest")]
    NoSubjectDigest,
    /// How the model's digest was computed is missing, malformed or recorded twice
    /// differently.
    #[error("the subject's hashing settings {0}")]
    Serialization(String),
    /// An OMS signature was to stand in for hashing the model, but the attestation's
    /// signer has no key of its own to have made it with (Sigstore's keys are ephemeral).
    #[error("a model signature can stand in for hashing the model only when the attestation is signed with a key; a Sigstore signer's key is ephemeral, so the model must be hashed")]
    NoOwnKey,
    /// The OMS signature that was to stand in for hashing the model could not be read.
    #[error("cannot read the model signature: {0}")]
    ModelSignatureUnreadable(BundleError),
    /// The OMS signature that was to stand in for hashing the model is not the attestation
    /// signer's own, or not a valid OMS signature.
    #[error("the model signature '{}' cannot vouch for the model: {source} (it must be made with the key that signs the attestation)", printable_path(path))]
    ModelSignatureNotOwn {
        /// The model signature.
        path: PathBuf,
        /// Why it cannot vouch.
        source: VerifyError,
    },
    /// The OMS signature the attestation is to be checked against does not verify.
    #[error(
        "the model signature '{}' does not verify: {source}",
        printable_path(path)
    )]
    ModelSignatureFails {
        /// The model signature.
        path: PathBuf,
        /// Why it does not verify.
        source: VerifyError,
    },
    /// The attestation could not be stored or read where asked.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The attestation is about a model with another root digest.
    #[error("the attestation is about another model: it was signed for root digest {attested}, but this model's root digest is {model}")]
    WrongModel {
        /// The root digest the attestation names, in hex.
        attested: String,
        /// The root digest of the model at hand, in hex.
        model: String,
    },
    /// The attestation names several subjects, and the model is none of them.
    #[error("the attestation is about other models: it names {}, but this model's root digest is {model}", subjects.join(", "))]
    NotASubject {
        /// Each subject's root digest and name.
        subjects: Vec<String>,
        /// The root digest of the model at hand.
        model: String,
    },
}

impl Classify for AttestationError {
    /// True when the inputs were unusable, rather than the attestation failing
    /// verification.
    fn failure_kind(&self) -> FailureKind {
        match self {
            AttestationError::Sign(e) => e.failure_kind(),
            AttestationError::Verify(e) => e.failure_kind(),
            AttestationError::Store(e) => e.failure_kind(),
            AttestationError::ModelSignatureFails { source, .. } => source.failure_kind(),
            AttestationError::NoOwnKey | AttestationError::ModelSignatureUnreadable(_) => {
                FailureKind::Input
            }
            _ => FailureKind::Check,
        }
    }
}

/// An attestation could not be written where asked, or read from there.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The attestation's own file may not be written (it would replace a file of the
    /// model, a directory, a device), or could not be.
    #[error(transparent)]
    File(SignError),
    /// The attestation's own file could not be read as a bundle.
    #[error(transparent)]
    Read(BundleError),
    /// The claims file could not be read.
    #[error(transparent)]
    Claims(ClaimsError),
    /// The claims file cannot take the attestation (a line that is not a bundle, too many
    /// claims, not writable): the user's input, whatever the line.
    #[error(transparent)]
    ClaimsNotAppendable(ClaimsError),
    /// The claims file holds no attestation of the kind asked for.
    #[error("the claims file '{}' holds no {kind}", printable_path(path))]
    NoClaim {
        /// The claims file.
        path: PathBuf,
        /// The kind of attestation looked for.
        kind: &'static str,
    },
}

impl Classify for StoreError {
    fn failure_kind(&self) -> FailureKind {
        match self {
            StoreError::File(e) => e.failure_kind(),
            StoreError::Read(BundleError::Io { .. }) => FailureKind::Input,
            StoreError::Read(_) => FailureKind::Check,
            StoreError::Claims(e) => e.failure_kind(),
            StoreError::ClaimsNotAppendable(_) | StoreError::NoClaim { .. } => FailureKind::Input,
        }
    }
}

/// A model card could not be read, signed or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// The card file could not be read.
    #[error("cannot read '{}': {source}", path.display())]
    Io {
        /// The card file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The card text (or a file drafted into it) does not parse.
    #[error("{origin} is not a readable model card: {reason}")]
    Syntax {
        /// Where the card came from, as messages name it.
        origin: String,
        /// What the parser reported.
        reason: String,
    },
    /// The card parses but breaks the card schema; one line per problem.
    #[error("the model card is not valid:\n  - {}", problems.join("\n  - "))]
    Invalid {
        /// Every problem, one sentence each.
        problems: Vec<String>,
        /// The metric names among them that are not common ones, which signing accepts
        /// when custom metric names are allowed.
        unknown_metrics: Vec<String>,
    },
    /// The card's `model:` section, written by `card init`, names a model that has since
    /// changed.
    #[error("the card was drafted for the model with root digest {card}, but the model now hashes to {model}; run `card init` again or remove the card's `model:` section")]
    DraftedForAnotherModel {
        /// The root digest the card records, in hex.
        card: String,
        /// The model's root digest now, in hex.
        model: String,
    },
    /// The signed payload is not a model card attestation (another payload or predicate
    /// type, or a subject that does not describe one model).
    #[error("the signature does not hold a model card: {0}")]
    NotACard(String),
    /// The signed card is about a model with another root digest.
    #[error("the card is about another model: it was signed for root digest {card}, but this model's root digest is {model}")]
    WrongModel {
        /// The root digest the signed card names, in hex.
        card: String,
        /// The root digest of the model at hand, in hex.
        model: String,
    },
    /// The CLI names the option the policy came from.
    #[error("bad policy {0}")]
    Policy(String),
    /// Signing the card failed.
    #[error(transparent)]
    Sign(SignError),
    /// Verifying the card's signature failed or could not be carried out.
    #[error(transparent)]
    Verify(VerifyError),
    /// The card's model could not be established, or the card stored or read where asked.
    #[error(transparent)]
    Attestation(AttestationError),
    /// No card in a claims file verifies.
    #[error("no card in the claims file '{}' verifies ({tried} tried); the newest, on line {line}: {source}", printable_path(path))]
    NoClaimVerifies {
        /// The claims file.
        path: PathBuf,
        /// The newest card's line.
        line: usize,
        /// How many cards the file holds.
        tried: usize,
        /// Why the newest card does not verify.
        source: Box<CardError>,
    },
}

/// Input when a file is missing or unparsable, a policy is bad or the card was drafted for
/// another model; otherwise as the signing or verification error says.
impl Classify for CardError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(match self {
            CardError::Io { .. }
            | CardError::Syntax { .. }
            | CardError::Invalid { .. }
            | CardError::Policy(_)
            | CardError::DraftedForAnotherModel { .. } => true,
            CardError::Verify(e) => e.is_input_error(),
            CardError::Sign(e) => e.is_input_error(),
            CardError::Attestation(e) => e.is_input_error(),
            CardError::NoClaimVerifies { source, .. } => source.is_input_error(),
            _ => false,
        })
    }
}

/// A pipeline stage's provenance could not be recorded or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    /// An input reference (`ROLE=REF`) does not parse.
    #[error("bad input '{}': {reason}", printable(input))]
    BadInput {
        /// The reference as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A parameter is not `KEY=VALUE`.
    #[error("bad parameter '{}': a parameter is KEY=VALUE, e.g. learning_rate=2e-5", printable(.0))]
    BadParameter(String),
    /// An output (`PATH[=URI]`) does not parse or does not exist.
    #[error("bad output '{}': {reason}", printable(output))]
    BadOutput {
        /// The output as given.
        output: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The builder id is not a URI.
    #[error("the builder id '{}' is not a URI: SLSA names a builder by a URI such as https://ci.example.com/runners/gpu-pool", printable(.0))]
    BadBuilderId(String),
    /// The stage has no output.
    #[error("a stage's provenance is about its outputs, and none was given")]
    NoOutputs,
    /// No stage was given, and the draft names none.
    #[error("the draft names no stage: give the stage it records")]
    NoStage,
    /// Inputs without a digest, which were not allowed.
    #[error("{} without a digest: {}; graph tools drop such inputs, so give each a digest (a local path, '#sha256=HEX', '#path=LOCAL') or allow undigested inputs", if inputs.len() == 1 { "an input" } else { "inputs" }, inputs.join(", "))]
    Undigested {
        /// Each input, as `ROLE=REF`.
        inputs: Vec<String>,
    },
    /// The inputs fall short of what the stage needs.
    #[error("the inputs do not fit the stage: {}", .0.join("; "))]
    StageInputs(Vec<String>),
    /// A time (`startedOn`, `finishedOn`) is not an RFC 3339 timestamp.
    #[error(
        "'{}' is not an RFC 3339 time such as 2026-12-02T09:30:00Z: {reason}",
        printable(text)
    )]
    BadTime {
        /// The time as given.
        text: String,
        /// What the parser reported.
        reason: String,
    },
    /// An input or output could not be hashed.
    #[error("cannot digest '{}': {source}", printable_path(path))]
    Hash {
        /// The input's or output's file or folder.
        path: PathBuf,
        /// Why.
        source: HashError,
    },
    /// An output of an `evaluate` stage is not an evaluation-results file.
    #[error("an evaluate stage's output is its evaluation results, which a model card imports; '{}' is not: {reason}", printable_path(path))]
    NotEvaluationResults {
        /// The output.
        path: PathBuf,
        /// Why it does not read as results.
        reason: String,
    },
    /// A draft provenance (from `import-hf`) cannot be read.
    #[error(
        "cannot read the draft provenance '{}': {reason}",
        printable_path(path)
    )]
    Draft {
        /// The draft file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The provenance's build type is not one of modelsign's stages.
    #[error("unknown stage: the build type '{}' is not one of modelsign's pipeline stages", printable(.0))]
    UnknownStage(String),
    /// The provenance does not follow its build type.
    #[error("the provenance is not valid: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// A local input given to check is not the one recorded.
    #[error("input changed: the {role} '{}' hashes to {found}, but the provenance records {}", printable_path(path), recorded.join(", "))]
    InputChanged {
        /// The role checked.
        role: String,
        /// The local copy.
        path: PathBuf,
        /// Its root digest now.
        found: String,
        /// The recorded inputs of that role: digest and name.
        recorded: Vec<String>,
    },
    /// No recorded input has the role of a local input given to check.
    #[error("the provenance records no {role} input to check '{}' against{}", printable_path(path), if recorded.is_empty() { String::new() } else { format!(" (it records: {})", recorded.join(", ")) })]
    NoInputOfRole {
        /// The role checked.
        role: String,
        /// The local copy.
        path: PathBuf,
        /// The roles it does record.
        recorded: Vec<String>,
    },
    /// The recorded inputs of a role have no OMS root digest to recompute.
    #[error("the provenance's {role} inputs carry no OMS root digest computed by modelsign ({}), so '{}' cannot be checked against them", recorded.join(", "), printable_path(path))]
    InputNotCheckable {
        /// The role checked.
        role: String,
        /// The local copy.
        path: PathBuf,
        /// The recorded inputs of that role.
        recorded: Vec<String>,
    },
    /// The provenance is about another model or dataset.
    #[error("the provenance is about another model: it records the output {recorded}, but this model's root digest is {model}")]
    WrongModel {
        /// The output it records: root digest and name.
        recorded: String,
        /// The root digest of the model at hand.
        model: String,
    },
    /// The provenance records several outputs, and the model is none of them.
    #[error("the provenance is about other models: it records the outputs {}, but this model's root digest is {model}", recorded.join(", "))]
    NotAnOutput {
        /// Each output it records: root digest and name.
        recorded: Vec<String>,
        /// The root digest of the model at hand.
        model: String,
    },
    /// The signed statement is not a provenance.
    #[error(
        "the signature does not hold a provenance: its predicate type is '{}', expected {expected}",
        printable(found)
    )]
    NotAProvenance {
        /// The predicate type expected.
        expected: &'static str,
        /// The one found.
        found: String,
    },
    /// The generic attestation steps: signing, storing, the signature.
    #[error(transparent)]
    Attestation(AttestationError),
    /// The claims file holds no provenance.
    #[error("the claims file '{}' holds no provenance", printable_path(path))]
    NoClaim {
        /// The claims file.
        path: PathBuf,
    },
    /// Where the provenance was asked to go does not fit the stage's outputs (an image
    /// has no folder to hold it; a local model has no registry to attach it in).
    #[error("{0}")]
    Placement(String),
    /// An image input or output could not be read from its registry or layout folder.
    #[error(transparent)]
    Image(Box<OciError>),
    /// No provenance in a claims file verifies.
    #[error("no provenance in the claims file '{}' verifies ({tried} tried); the newest, on line {line}: {source}", printable_path(path))]
    NoClaimVerifies {
        /// The claims file.
        path: PathBuf,
        /// The newest one's line.
        line: usize,
        /// How many were tried.
        tried: usize,
        /// Why the newest failed.
        source: Box<ProvenanceError>,
    },
}

impl From<AttestationError> for ProvenanceError {
    /// The generic failures, in a provenance's words.
    fn from(error: AttestationError) -> Self {
        match error {
            AttestationError::WrongModel { attested, model } => ProvenanceError::WrongModel {
                recorded: attested,
                model,
            },
            AttestationError::NotASubject { subjects, model } => ProvenanceError::NotAnOutput {
                recorded: subjects,
                model,
            },
            AttestationError::PredicateType { expected, found } => {
                ProvenanceError::NotAProvenance { expected, found }
            }
            other => ProvenanceError::Attestation(other),
        }
    }
}

impl From<OciError> for ProvenanceError {
    fn from(error: OciError) -> Self {
        ProvenanceError::Image(Box::new(error))
    }
}

impl From<VerifyError> for ProvenanceError {
    /// A provenance's signature that does not verify (as [`crate::oci::first_verified`]
    /// reports an image's attachments).
    fn from(error: VerifyError) -> Self {
        ProvenanceError::Attestation(AttestationError::Verify(error))
    }
}

impl Classify for ProvenanceError {
    fn failure_kind(&self) -> FailureKind {
        match self {
            ProvenanceError::BadInput { .. }
            | ProvenanceError::BadParameter(_)
            | ProvenanceError::BadBuilderId(_)
            | ProvenanceError::BadOutput { .. }
            | ProvenanceError::NoOutputs
            | ProvenanceError::NoStage
            | ProvenanceError::Undigested { .. }
            | ProvenanceError::StageInputs(_)
            | ProvenanceError::BadTime { .. }
            | ProvenanceError::NotEvaluationResults { .. }
            | ProvenanceError::Placement(_)
            | ProvenanceError::Draft { .. } => FailureKind::Input,
            ProvenanceError::Hash { source, .. } => source.failure_kind(),
            ProvenanceError::Image(source) => source.failure_kind(),
            ProvenanceError::Attestation(e) => e.failure_kind(),
            ProvenanceError::NoClaimVerifies { source, .. } => source.failure_kind(),
            _ => FailureKind::Check,
        }
    }
}

/// A trust policy cannot be read, or one of its signers cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy file cannot be read or is not valid.
    #[error("the trust policy '{}' is not usable: {reason}", printable_path(path))]
    File {
        /// The policy file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A signer of the policy cannot be set up (its key or roots unreadable).
    #[error(
        "the trust policy's signer '{}' is not usable: {reason}",
        printable(signer)
    )]
    Signer {
        /// The signer's name.
        signer: String,
        /// Why (its key, roots or trust root could not be read).
        reason: String,
    },
}

impl Classify for PolicyError {
    fn failure_kind(&self) -> FailureKind {
        FailureKind::Input
    }
}

impl From<PolicyError> for LineageError {
    fn from(error: PolicyError) -> Self {
        match error {
            PolicyError::File { path, reason } => LineageError::Policy { path, reason },
            PolicyError::Signer { signer, reason } => LineageError::PolicySigner { signer, reason },
        }
    }
}

/// The lineage store could not be used, or a query not answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LineageError {
    /// The trust policy cannot be read or is not valid.
    #[error("the trust policy '{}' is not usable: {reason}", printable_path(path))]
    Policy {
        /// The policy file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A signer of the trust policy cannot be set up (its key or roots unreadable).
    #[error(
        "the trust policy's signer '{}' is not usable: {reason}",
        printable(signer)
    )]
    PolicySigner {
        /// The signer's name.
        signer: String,
        /// Why (its key, roots or trust root could not be read).
        reason: String,
    },
    /// The store cannot be opened or used.
    #[error("the lineage store {} failed: {reason}", printable(location))]
    Store {
        /// Where the store is.
        location: String,
        /// What the database reported.
        reason: String,
    },
    /// A path to ingest cannot be read.
    #[error("cannot read '{}': {reason}", printable_path(path))]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A query names a store that does not exist (queries never create one).
    #[error("there is no lineage store at {}: ingest attestations into it first (`modelsign lineage ingest … --db` the same location)", printable(.0))]
    NoStore(String),
    /// No artifact has this digest, name or URI.
    #[error("no artifact in the store is '{}' (a digest, name or purl); ingest its attestations first", printable(.0))]
    UnknownArtifact(String),
    /// No artifact is the file or folder at this path, digested as the store records it.
    #[error("no artifact in the store is '{}' (root digest {digest}, nor digested as the store records any artifact named '{}'); ingest its attestations first", printable_path(path), printable(name))]
    UnknownPath {
        /// The path given.
        path: PathBuf,
        /// Its root digest with default settings.
        digest: String,
        /// The name its artifacts would have.
        name: String,
    },
    /// Several artifacts have this name or URI.
    #[error("'{}' names several artifacts: {}; give a digest", printable(reference), candidates.join(", "))]
    AmbiguousArtifact {
        /// The reference given.
        reference: String,
        /// The artifacts it names.
        candidates: Vec<String>,
    },
    /// A path given as a reference could not be digested.
    #[error("cannot digest '{}': {source}", printable_path(path))]
    Hash {
        /// The path.
        path: PathBuf,
        /// Why.
        source: HashError,
    },
    /// Graphviz could not lay out a graph.
    #[error("cannot draw the graph with Graphviz: {reason}")]
    Graphviz {
        /// Why (with how to install it when it is missing).
        reason: String,
    },
    /// A file could not be written; nothing was left in its place.
    #[error("cannot write '{}': {reason}", printable_path(path))]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl Classify for LineageError {
    fn failure_kind(&self) -> FailureKind {
        match self {
            LineageError::Hash { source, .. } => source.failure_kind(),
            _ => FailureKind::Input,
        }
    }
}

/// The stat cache could not be used: the model path does not resolve, or the cache
/// directory is unusable. A missing, unreadable or outdated cache file is not an error: the
/// cache starts empty and says why in [`crate::stat_cache::StatCache::notes`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatCacheError {
    /// The model path could not be resolved to the canonical path the cache is kept under.
    #[error(
        "cannot resolve the model path '{}' for the stat cache: {source}",
        printable_path(path)
    )]
    ModelPath {
        /// The model path as given.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The cache directory (or its `stat-cache` folder) is not a directory, cannot be
    /// inspected, or cannot be created.
    #[error(
        "stat cache directory '{}' is unusable: {source}",
        printable_path(path)
    )]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The cache file could not be written.
    #[error("cannot write stat cache '{}': {source}", printable_path(path))]
    Write {
        /// The cache file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
}

/// Always input: the model path or the cache directory given (or found in the environment)
/// is unusable.
impl Classify for StatCacheError {
    fn failure_kind(&self) -> FailureKind {
        FailureKind::Input
    }
}

/// A list of digests a pipeline already computed (`sign --digests`) cannot be used. Names
/// and text quoted from the list are shown through [`printable`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KnownDigestsError {
    /// The list could not be read (missing, not a regular file, too large).
    #[error("cannot read the digest list '{}': {source}", printable_path(path))]
    Io {
        /// The list's path.
        path: PathBuf,
        /// What the operating system (or the size check) reported.
        source: io::Error,
    },
    /// A line of a checksum list is not one sha256sum, b2sum or b3sum writes, or its
    /// digest or file name cannot be used.
    #[error("digest list, line {line}: {reason}")]
    Line {
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A checksum list gives one file two different digests.
    #[error("digest list, line {line}: '{}' is listed again with another digest (first on line {first_line})", printable(name))]
    ConflictingDigests {
        /// The file's name, canonical.
        name: String,
        /// The line that listed it first.
        first_line: usize,
        /// The line that lists it again.
        line: usize,
    },
    /// The list names no file: it is empty, or only blank lines and comments.
    #[error("the digest list lists no digests")]
    Empty,
    /// A checksum list names more files than a manifest may list.
    #[error("the digest list lists more than {limit} files (modelsign::limits::MAX_RESOURCES)")]
    TooManyEntries {
        /// The most files a manifest may list.
        limit: usize,
    },
    /// The list starts like JSON but is not valid JSON.
    #[error("the digest list is not valid JSON: {0}")]
    Json(String),
    /// The list is JSON of some other kind.
    #[error("the digest list is JSON but not an OMS manifest: expected a Sigstore bundle, an in-toto statement, or an OMS predicate (an object with 'serialization' and 'resources')")]
    NotOms,
    /// The list looks like a Sigstore bundle but cannot be read as one.
    #[error("the digest list is not a readable Sigstore bundle: {0}")]
    Bundle(BundleError),
    /// The OMS statement or predicate the list holds is not a valid OMS manifest.
    #[error("the digest list ({format}) does not hold a valid OMS manifest: {source}")]
    Statement {
        /// What the list is: `Sigstore bundle`, `in-toto statement`, `OMS predicate`.
        format: &'static str,
        /// What is wrong with the manifest.
        source: StatementError,
    },
    /// The OMS manifest's digests are of another algorithm than the one asked for.
    #[error("the digest list ({format}) holds {found} digests, but the hash type is {expected}; choose {found} to sign them")]
    AlgorithmMismatch {
        /// What the list is: `Sigstore bundle`, `in-toto statement`, `OMS predicate`.
        format: &'static str,
        /// The algorithm of the listed digests.
        found: crate::serialization::HashAlgorithm,
        /// The algorithm asked for.
        expected: crate::serialization::HashAlgorithm,
    },
    /// The list gives digests of another serialization than the one signing uses.
    #[error("the digest list ({format}) gives digests of {listed}, but this signing hashes {now}; sign with the list's serialization")]
    OtherSerialization {
        /// What the list is.
        format: &'static str,
        /// What its digests are of: `whole files`, `shards of N bytes`.
        listed: String,
        /// What signing hashes.
        now: String,
    },
    /// The list gives digests of files the model does not have: it is another model's.
    #[error("the digest list names {} that the model does not have: {}{}", if names.len() == 1 { "a file" } else { "files" }, names.iter().take(10).map(|n| printable(n).into_owned()).collect::<Vec<_>>().join(", "), if names.len() > 10 { format!(" and {} more", names.len() - 10) } else { String::new() })]
    NotInModel {
        /// The files listed but not found (nor excluded) in the model.
        names: Vec<String>,
    },
}

/// A digest list is always given by the user.
impl Classify for KnownDigestsError {
    fn failure_kind(&self) -> FailureKind {
        FailureKind::Input
    }
}

/// Signing failed; no signature was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// Hashing the model failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The signing key could not be loaded or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The signing certificate or its chain could not be read or used.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// The signing certificate is one verification refuses, with verification's error.
    #[error(
        "{0}; verification refuses such a certificate, so no signature made with it would verify"
    )]
    UnverifiableCertificate(CertError),
    /// The signature could not be written.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The ECDSA implementation refused to sign.
    #[error("signing failed: ECDSA signing failed: {0}")]
    Ecdsa(p256::ecdsa::Error),
    /// Sigstore keyless signing failed.
    #[error("Sigstore signing failed: {0}")]
    Sigstore(#[from] SigstoreSignError),
    /// The PKCS#11 token could not be used to sign.
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11Error),
    /// The image in the registry (or layout) could not be read, or the signature not
    /// attached.
    #[error(transparent)]
    Oci(Box<OciError>),
    /// The list of known digests to sign (`sign --digests`) cannot be used.
    #[error(transparent)]
    KnownDigests(#[from] KnownDigestsError),
    /// The stat cache asked for could not be used.
    #[error(transparent)]
    StatCache(#[from] StatCacheError),
    /// The earlier signature whose digests were to be reused cannot be.
    #[error(transparent)]
    Reuse(#[from] ReuseError),
}

/// Re-signing what changed could not reuse the earlier signature's digests; nothing was
/// signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReuseError {
    /// The earlier signature does not verify: none of its digests may be used.
    #[error(
        "the earlier signature to reuse does not verify, so none of its digests were used: {0}"
    )]
    EarlierSignature(Box<VerifyError>),
    /// The earlier signature hashed otherwise than this signing does.
    #[error(
        "the earlier signature hashed {earlier} and this signing hashes {now}; digests can be reused only between signatures that hash alike: sign with the earlier signature's hash type and serialization, or without reusing it"
    )]
    OtherSettings {
        /// The earlier signature's algorithm and serialization.
        earlier: String,
        /// This signing's.
        now: String,
    },
    /// A path given as changed does not name anything inside the model.
    #[error(
        "'{}' is given as changed but is not inside the model '{}'",
        crate::text::printable_path(path),
        crate::text::printable_path(model)
    )]
    ChangedOutsideModel {
        /// The path given.
        path: PathBuf,
        /// The model.
        model: PathBuf,
    },
    /// git could not say what changed.
    #[error("cannot tell what changed with git ({command}): {message}")]
    Git {
        /// The git command that failed.
        command: String,
        /// What went wrong (git's own message).
        message: String,
    },
}

/// Input when the model path, the key, the token, the certificates, the Sigstore services or
/// identity, the stat cache, the list of known digests, or where the signature is to go are
/// unusable; otherwise signing failed.
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
            SignError::Oci(e) => e.is_input_error(),
            // The earlier signature, its settings or the changes given are unusable.
            SignError::Reuse(_) => true,
            SignError::StatCache(e) => e.is_input_error(),
            SignError::KnownDigests(_) => true,
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
    ReadTrustConfig {
        /// The trust config file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The trust config file is not a usable ClientTrustConfig or signing config.
    #[error("'{}' is not a usable Sigstore trust config: {reason}", path.display())]
    InvalidTrustConfig {
        /// The trust config file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The identity token is not a JWT with the claims Fulcio needs.
    #[error("the identity token is not usable: {0}")]
    UnusableToken(String),
    /// The identity token has expired.
    #[error("the identity token for {identity} expired at {expired_at}; obtain a fresh one")]
    ExpiredToken {
        /// The identity the token is for (its email or subject).
        identity: String,
        /// When it expired.
        expired_at: String,
    },
    /// Asking the CI system for its OIDC credentials failed.
    #[error("ambient credentials: {0}")]
    AmbientCredentials(String),
    /// The OIDC provider to sign in with cannot be reached.
    #[error("cannot reach {url}: {reason}")]
    OidcUnreachable {
        /// The provider's address.
        url: String,
        /// Why it could not be reached.
        reason: String,
    },
    /// Signing in with the OIDC provider failed.
    #[error("signing in with {url} failed: {reason}")]
    SignIn {
        /// The provider's address.
        url: String,
        /// What went wrong.
        reason: String,
    },
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
    /// The signature file could not be read or parsed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The public key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The signing certificate or chain could not be read or does not validate.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// The signed statement is not a valid OMS statement.
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// Re-hashing the model failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The signature was made with another method (key, certificate, Sigstore) than the
    /// one asked to verify it.
    #[error("the signature was made with {found}, but {expected} verification was requested")]
    WrongMethod {
        /// The method verification was asked for.
        expected: &'static str,
        /// The method the signature was made with.
        found: &'static str,
    },
    /// The bundle names a public key other than the one given.
    #[error("key mismatch: the signature's public key hint {hint} does not match the given public key ({actual})")]
    KeyMismatch {
        /// The key hint the bundle carries.
        hint: String,
        /// The hint of the key given.
        actual: String,
    },
    /// The DSSE envelope carries no signature to check.
    #[error("the DSSE envelope has no signature")]
    NoSignature,
    /// The signature does not verify against the key and the signed payload.
    #[error("signature is invalid: it was not made by this key over this payload")]
    BadSignature,
    /// The model's files differ from those signed; the diff says which.
    #[error("model does not match its signature: {0}")]
    // Boxed: the diff is large, and every Result carrying a VerifyError pays its size.
    Mismatch(Box<ManifestDiff>),
    /// A file named for partial verification is not one the signature covers (nor a
    /// directory of signed files).
    #[error("'{}' is not covered by the signature: the signed manifest lists no file '{}' (nor files under a directory of that name)", printable_path(path), printable(name))]
    NotSigned {
        /// The path as named.
        path: PathBuf,
        /// Its name in the model.
        name: String,
    },
    /// Partial verification was asked for with no file to check.
    #[error("partial verification needs at least one file to check")]
    NoFilesNamed,
    /// The certificate's identity is not the signer expected.
    #[error("wrong signer: the signature was made by '{found}', but {expected} was expected")]
    IdentityMismatch {
        /// The identity (or identity pattern) expected.
        expected: String,
        /// The identity the certificate names.
        found: String,
    },
    /// The certificate's OIDC issuer is not the one expected.
    #[error("wrong identity provider: the signer's identity was vouched for by '{found}', but '{expected}' was expected")]
    IssuerMismatch {
        /// The issuer expected.
        expected: String,
        /// The issuer the certificate names.
        found: String,
    },
    /// A Sigstore check failed (the DSSE signature, the signing certificate, the
    /// transparency log entry, the signing time).
    #[error("Sigstore verification failed at {what}: {detail}")]
    Sigstore {
        /// Which check failed.
        what: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// No certificate authority of the trusted Sigstore instance was valid when the
    /// signing certificate was issued: most often, a bundle of another instance.
    #[error("Sigstore verification failed at the signing certificate: no Fulcio certificate authority of {origin} was valid at the signing time {time} (was it signed on another Sigstore instance?)")]
    NoValidCertificateAuthority {
        /// The trusted instance (the trust root's origin).
        origin: String,
        /// The signing time, as the bundle proves it.
        time: String,
    },
    /// The Sigstore trust root could not be loaded.
    #[error(transparent)]
    TrustRoot(#[from] TrustRootError),
    /// The image in the registry (or layout) could not be read, or no signature was found
    /// beside it.
    #[error(transparent)]
    Oci(Box<OciError>),
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
            // A path named for partial verification that is not in the model at all.
            VerifyError::Hash(HashError::Walk(WalkError::NotInModel { .. })) => true,
            VerifyError::Hash(HashError::Walk(walk)) => walk.is_unusable_model_path(),
            VerifyError::TrustRoot(_) => true,
            VerifyError::Oci(e) => e.is_input_error(),
            // A valid document of another kind: the model has not been checked at all.
            VerifyError::Statement(StatementError::ModelCardSignature) => true,
            VerifyError::NoFilesNamed => true,
            _ => false,
        })
    }
}

/// An image in a registry or an OCI image layout could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// The `oci://` or `oci-layout:` reference does not parse.
    #[error("bad image reference '{reference}': {reason}")]
    BadReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--insecure-registry` named a host that is not loopback.
    #[error("refusing plain HTTP to '{}': --insecure-registry is for loopback registries (localhost, 127.0.0.1, [::1]) only; anything else must be HTTPS", printable(registry))]
    InsecureNotLoopback {
        /// The host given.
        registry: String,
    },
    /// The registry refused the credentials (or asked for some).
    #[error("{} refused access to {what} (401/403): log in with `docker login {}` (modelsign reads Docker's config.json and credential helpers), or give a bearer token with --registry-token-env VAR", printable(registry), printable(registry))]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// What was asked for.
        what: String,
    },
    /// The registry's TLS certificate is not trusted (an unknown CA, another name, expired).
    #[error("the TLS certificate of {} is not trusted ({reason}) for {what}: if a private CA issued it, give the CA's certificate with --registry-ca-file FILE", printable(registry))]
    UntrustedCertificate {
        /// The registry host.
        registry: String,
        /// What was asked for.
        what: String,
        /// Why the certificate was refused.
        reason: String,
    },
    /// The registry has no such manifest, repository or blob.
    #[error("not found: {what} (manifest unknown: check the repository, tag and digest)")]
    NotFound {
        /// What was asked for.
        what: String,
    },
    /// Any other failure talking to the registry.
    #[error("registry {}: {message}", printable(registry))]
    Registry {
        /// The registry host.
        registry: String,
        /// What failed.
        message: String,
    },
    /// The registry refused content it was sent (400): for a referrer, a registry that
    /// does not take manifests with a `subject`.
    #[error("registry {} refused {what}: {message}", printable(registry))]
    Rejected {
        /// The registry host.
        registry: String,
        /// What was sent.
        what: String,
        /// The registry's reason.
        message: String,
    },
    /// The credentials for the registry could not be read.
    #[error("cannot read the credentials for {} from Docker's config.json or its credential helper: {reason}", printable(registry))]
    Credentials {
        /// The registry host.
        registry: String,
        /// Why.
        reason: String,
    },
    /// A manifest or blob is not what its digest says.
    #[error("{what} has digest {actual}, not {expected}: the registry served other content than asked for")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// The manifest (or index) is not one a model can be read from.
    #[error("the image manifest cannot be signed or verified: {reason}")]
    BadManifest {
        /// Why.
        reason: String,
    },
    /// The image needs something this version does not do.
    #[error("not supported: {what}")]
    Unsupported {
        /// What.
        what: String,
    },
    /// An index lists several images and none is chosen.
    #[error("{reference} is an index of {count} images ({choices}); name one by digest: oci://REGISTRY/REPO@sha256:…")]
    AmbiguousIndex {
        /// The reference given.
        reference: String,
        /// How many images it lists.
        count: usize,
        /// Their digests and platforms.
        choices: String,
    },
    /// No signature was found beside the image.
    #[error("no {what} found for {reference} (neither a referrer of artifact type {artifact_type} nor the tag {tag}); sign it with --attach, or give the signature file")]
    NoSignature {
        /// What was looked for.
        what: String,
        /// The image, pinned to its digest.
        reference: String,
        /// The artifact type looked for.
        artifact_type: String,
        /// The fallback tag looked at.
        tag: String,
    },
    /// A CA certificate file given for registries could not be used.
    #[error("registry CA file '{}': {reason}", printable_path(path))]
    CaFile {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An OCI image layout folder could not be read.
    #[error(
        "cannot read the OCI image layout '{}': {reason}",
        printable_path(path)
    )]
    Layout {
        /// The layout folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Input when the reference, the options or the credentials are unusable, or the image is
/// not there or not one a model can be read from; a failure otherwise: the registry failed
/// or refused what was sent, served content other than it claims, or keeps no signature.
impl Classify for OciError {
    fn failure_kind(&self) -> FailureKind {
        kind_of(!matches!(
            self,
            OciError::DigestMismatch { .. }
                | OciError::NoSignature { .. }
                | OciError::Registry { .. }
                | OciError::Rejected { .. }
        ))
    }
}

impl From<OciError> for SignError {
    fn from(error: OciError) -> Self {
        SignError::Oci(Box::new(error))
    }
}

impl From<OciError> for VerifyError {
    fn from(error: OciError) -> Self {
        VerifyError::Oci(Box::new(error))
    }
}
