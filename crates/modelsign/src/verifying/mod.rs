//! Verification: the [`Verifier`] trait every scheme implements, and the flow
//! bundle → signature → statement → manifest → comparison with the model on disk.

mod certificate;
mod key;
mod sigstore;

pub use self::sigstore::{IdentityPolicy, SigstoreTrustRoot, SigstoreVerifier};
pub use certificate::CertificateVerifier;
pub use key::KeyVerifier;

use std::path::{Path, PathBuf};

use crate::bundle::Bundle;
use crate::dsse::{self, Envelope};
use crate::error::{HashError, StatementError, VerifyError};
use crate::hashing::{worker_pool, HashSettings, Progress};
use crate::keys::{PublicKey, SignatureHash};
use crate::manifest::ManifestDiff;
use crate::model::{self, relative_to_model, IgnoreSet, WalkOptions};
use crate::serialization::{Serialization, SerializationRecord};
use crate::statement::{self, StatementFormat};

/// A verification scheme: checks the bundle's verification material and its DSSE
/// signature, and only then lets the payload be read.
/// `Send + Sync`, so that a binding can release its interpreter's lock while verifying.
pub trait Verifier: Send + Sync {
    /// Verifies the signature of the bundle's envelope.
    fn verify_signature(&self, bundle: &Bundle) -> Result<VerifiedSignature, VerifyError>;

    /// Whether the bundle's verification material, leaving its DSSE signature aside, names
    /// this verifier's signer: its key hint is this key's, or its chain leads to a trusted
    /// root. It proves nothing (the signature may still be anyone's); it lets a caller tell
    /// a forged or damaged signature claiming a trusted signer from a stranger's.
    fn material_names_signer(&self, _bundle: &Bundle) -> bool {
        false
    }
}

/// What a successful signature check established.
#[derive(Debug, Clone, Default)]
pub struct VerifiedSignature {
    /// Things the user should know that do not fail verification (legacy formats).
    pub notes: Vec<String>,
    /// Who signed, where the signature names a verified identity (Sigstore keyless).
    pub signer: Option<SignerIdentity>,
    /// The key method: the hint (hex SHA-256 of its PEM) of the public key that verified
    /// the signature, which a current bundle records as `publicKey.hint`.
    pub public_key_hint: Option<String>,
}

/// A signer identity established by verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerIdentity {
    /// The certificate's identity: an email address or URI (CI workflow).
    pub identity: String,
    /// The OIDC identity provider that vouched for it.
    pub issuer: String,
    /// The verified signing time (transparency log or timestamp authority), RFC 3339.
    pub signed_at: Option<String>,
}

/// Verifies DSSE signatures with `key`: the standard PAE with the curve's hash first, then
/// the model_signing 0.2 PAE with `legacy_hash`. Any one valid signature suffices.
pub(crate) fn verify_envelope(
    envelope: &Envelope,
    key: &PublicKey,
    legacy_hash: SignatureHash,
) -> Result<VerifiedSignature, VerifyError> {
    if envelope.signatures.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    let standard = dsse::pae(&envelope.payload_type, &envelope.payload);
    if envelope
        .signatures
        .iter()
        .any(|s| key.verify(&standard, &s.sig, SignatureHash::CurveDefault))
    {
        return Ok(VerifiedSignature::default());
    }
    let legacy = dsse::legacy_pae(&envelope.payload_type, &envelope.payload);
    if envelope
        .signatures
        .iter()
        .any(|s| key.verify(&legacy, &s.sig, legacy_hash))
    {
        return Ok(VerifiedSignature {
            signer: None,
            public_key_hint: None,
            notes: vec!["signature uses the pre-authentication encoding of model_signing 0.2; re-sign with a current signer".into()],
        });
    }
    Err(VerifyError::BadSignature)
}

/// Options of a model verification.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Extra exclusions, relative to the model root (the signature's own recorded
    /// exclusions always apply too).
    pub ignore: IgnoreSet,
    /// Tolerate files the signature does not cover.
    pub ignore_unsigned_files: bool,
    /// Follow in-model symbolic links even if the signature did not record that it did.
    pub allow_symlinks: bool,
    /// Follow in-model symbolic links when the signature records that its signer did
    /// (the default). model_signing does not: there a signature cannot grant itself link
    /// following, only the verifier's own `allow_symlinks` (or given hashing settings)
    /// can. Not used with `hashing`, whose rule applies alone.
    pub honour_recorded_allow_symlinks: bool,
    /// The signature file; excluded from the model if it lies inside it.
    pub signature_path: Option<PathBuf>,
    /// Hashing threads; `None` uses every core.
    pub max_workers: Option<usize>,
    /// Hash the model with these settings instead of those the signature records, as
    /// model_signing does after `set_hashing_config`: their algorithm, serialization and
    /// symbolic-link rule replace the signature's (and `ignore` and `allow_symlinks`
    /// above), so settings other than the signer's make the model mismatch. Their ignore
    /// paths are added to those the signature records, which stay ignored. Their
    /// `max_workers` is not used (the field above is).
    pub hashing: Option<HashSettings>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            ignore: IgnoreSet::new(true),
            ignore_unsigned_files: false,
            allow_symlinks: false,
            honour_recorded_allow_symlinks: true,
            signature_path: None,
            max_workers: None,
            hashing: None,
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct VerificationReport {
    /// The model name recorded by the signer (informational).
    pub signed_model_name: String,
    /// `sha256:<hex>` root digest of the signed manifest (absent for legacy formats).
    pub root_digest: Option<String>,
    /// How the signed manifest was produced.
    pub serialization: SerializationRecord,
    /// Number of signed resources checked.
    pub resources: usize,
    /// Which statement version was signed (legacy formats are read, never written).
    pub format: StatementFormat,
    /// Non-fatal observations (legacy formats).
    pub notes: Vec<String>,
    /// Who signed, for methods that establish an identity (Sigstore keyless).
    pub signer: Option<SignerIdentity>,
    /// The key method: the hint of the public key that verified the signature.
    pub public_key_hint: Option<String>,
}

impl VerificationReport {
    /// The report of a signature that verified (`verified`) over `signed`, once the model
    /// matched it.
    pub fn of(signed: &statement::SignedStatement, verified: VerifiedSignature) -> Self {
        VerificationReport {
            signed_model_name: signed.manifest.model_name().to_owned(),
            root_digest: signed
                .root_digest
                .map(|d| crate::manifest::sha256_string(&d)),
            serialization: signed.manifest.serialization().clone(),
            resources: signed.manifest.resources().len(),
            format: signed.format,
            notes: verified.notes,
            signer: verified.signer,
            public_key_hint: verified.public_key_hint,
        }
    }
}

/// The first steps of every verification, whatever the statement: the bundle's signature
/// (by `verifier`), then that the payload is an in-toto statement. Only then may the payload
/// be read.
pub fn verify_statement_signature(
    bundle: &Bundle,
    verifier: &dyn Verifier,
) -> Result<VerifiedSignature, VerifyError> {
    let verified = verifier.verify_signature(bundle)?;
    if bundle.envelope.payload_type != dsse::PAYLOAD_TYPE {
        return Err(StatementError::PayloadType(bundle.envelope.payload_type.clone()).into());
    }
    Ok(verified)
}

/// Verifies the model at `model_path` against `bundle`: the signature first (by
/// `verifier`), then the statement, then the model's files against the signed manifest,
/// hashed with the settings recorded in the signature.
pub fn verify_model(
    model_path: &Path,
    bundle: &Bundle,
    verifier: &dyn Verifier,
    options: &VerifyOptions,
    progress: &Progress,
) -> Result<VerificationReport, VerifyError> {
    let verified = verify_statement_signature(bundle, verifier)?;
    let signed = statement::decode(&bundle.envelope.payload)?;
    let record = signed.manifest.serialization().clone();

    // The signed file names, sorted: shard names of one file need not be adjacent
    // (`a:1.bin:0:3`, another file, sorts between `a:0:8` and `a:16:24`).
    let mut signed_files: Vec<&str> = signed
        .manifest
        .resources()
        .iter()
        .map(|r| file_part(&r.name, &record))
        .collect();
    signed_files.sort_unstable();
    signed_files.dedup();
    let is_signed = |name: &str| signed_files.binary_search(&name).is_ok();

    let (algorithm, serialization, mut ignore, allow_symlinks) = match &options.hashing {
        Some(given) => {
            // What the signer left out stays out, as model_signing adds the recorded
            // ignore paths to a given config.
            let mut ignore = given.walk.ignore.clone();
            ignore.add_recorded(record.ignore_paths.iter().map(String::as_str));
            (
                given.algorithm,
                given.serialization,
                ignore,
                given.walk.allow_symlinks,
            )
        }
        None => {
            let mut ignore = options.ignore.clone();
            // The defaults are implicit: a file the signature lists is checked, not
            // reported missing.
            ignore.yield_to_signed(&signed_files);
            ignore.add_recorded(record.ignore_paths.iter().map(String::as_str));
            (
                record.hash_type,
                record.serialization,
                ignore,
                (record.allow_symlinks && options.honour_recorded_allow_symlinks)
                    || options.allow_symlinks,
            )
        }
    };
    if let Some(relative) = options
        .signature_path
        .as_deref()
        .and_then(|sig| relative_to_model(model_path, sig))
    {
        ignore.add(&relative).map_err(HashError::from)?;
    }
    let walk = WalkOptions {
        ignore,
        allow_symlinks,
        collect_problems: true,
        ..WalkOptions::default()
    };
    let pool = worker_pool(options.max_workers)?;
    let mut model = pool
        .install(|| {
            if options.ignore_unsigned_files {
                model::select(model_path, signed_files.iter().copied(), &walk)
            } else {
                model::walk(model_path, &walk)
            }
        })
        .map_err(HashError::from)?;
    // model_signing names the file of a single-file model `.`; OMS uses its base name.
    if model.single_file
        && signed
            .manifest
            .resources()
            .iter()
            .all(|r| file_part(&r.name, &record) == ".")
    {
        for file in &mut model.files {
            file.name = ".".to_owned();
        }
    }
    let settings = HashSettings {
        algorithm,
        serialization,
        walk,
        max_workers: options.max_workers,
    };
    // A file the signature does not cover is reported by name without being read: its
    // digest cannot change the verdict, and a huge (or endless sparse) file dropped into
    // the model must not stall verification.
    // Under shards an empty file has no shard (OMS §6.3.2), so no manifest lists it: it
    // is hashed as nothing rather than reported.
    let sharded = matches!(serialization, Serialization::Shards { .. });
    let (covered, unsigned): (Vec<_>, Vec<_>) = std::mem::take(&mut model.files)
        .into_iter()
        .partition(|f| is_signed(&f.name) || (sharded && f.size == 0));
    model.files = covered;
    let local = settings.hash_walked_on(&pool, &model, progress)?;
    let mut diff = ManifestDiff::between(&signed.manifest, &local, options.ignore_unsigned_files);
    if !options.ignore_unsigned_files {
        diff.extra.extend(unsigned.into_iter().map(|f| f.name));
        diff.extra.sort_unstable();
    }
    diff.symlinks = model.disallowed_symlinks;
    diff.unsupported = model.unsupported;
    if !diff.is_empty() {
        return Err(VerifyError::Mismatch(Box::new(diff)));
    }
    Ok(VerificationReport::of(&signed, verified))
}

/// The file path of a resource name (shard names carry a `:start:end` suffix).
fn file_part<'a>(name: &'a str, record: &SerializationRecord) -> &'a str {
    match record.serialization {
        Serialization::Files => name,
        Serialization::Shards { .. } => name.rsplitn(3, ':').nth(2).unwrap_or(name),
    }
}

#[cfg(test)]
mod tests;
