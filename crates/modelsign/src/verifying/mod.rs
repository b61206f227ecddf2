//! Verification: the [`Verifier`] trait every scheme implements, and the flow
//! bundle → signature → statement → manifest → comparison with the model on disk.

mod certificate;
mod key;
mod sigstore;

pub use self::sigstore::{IdentityPolicy, SigstoreTrustRoot, SigstoreVerifier};
pub use certificate::CertificateVerifier;
pub use key::KeyVerifier;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::bundle::Bundle;
use crate::dsse::{self, Envelope};
use crate::error::{HashError, StatementError, VerifyError, WalkError};
use crate::hashing::{worker_pool, HashSettings, Progress};
use crate::keys::{PublicKey, SignatureHash};
use crate::manifest::{Manifest, ManifestDiff};
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
    /// Partial verification: check the signature and the whole signed manifest as always,
    /// but hash only these files (absolute, or relative to the working directory, each
    /// inside the model) and compare them with their signed resources; no other file is
    /// read, or reported missing or extra, so the time taken is that of the named files.
    /// A directory names every signed file under it (the model folder: all of them, still
    /// without looking for unsigned files); a file the signature does not cover
    /// is refused ([`VerifyError::NotSigned`]), a signed file absent from the disk is
    /// missing. `ignore_unsigned_files` has no effect here: unnamed files are not looked at.
    pub only_files: Option<Vec<PathBuf>>,
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
            only_files: None,
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
    /// Number of resources (files or shards) the signed manifest lists.
    pub resources: usize,
    /// Number of files the signed manifest covers.
    pub signed_files: usize,
    /// Partial verification ([`VerifyOptions::only_files`]): the signed files that were
    /// hashed and matched, sorted; no other file was checked. `None` when every file was.
    pub checked_files: Option<Vec<String>>,
    /// Number of signed resources hashed and matched: [`VerificationReport::resources`]
    /// unless the verification was partial.
    pub resources_checked: usize,
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
        let resources = signed.manifest.resources().len();
        VerificationReport {
            signed_model_name: signed.manifest.model_name().to_owned(),
            root_digest: signed
                .root_digest
                .map(|d| crate::manifest::sha256_string(&d)),
            serialization: signed.manifest.serialization().clone(),
            resources,
            signed_files: signed_file_names(&signed.manifest).len(),
            checked_files: None,
            resources_checked: resources,
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
/// hashed with the settings recorded in the signature. With
/// [`VerifyOptions::only_files`], only the named files are hashed and compared.
pub fn verify_model(
    model_path: &Path,
    bundle: &Bundle,
    verifier: &dyn Verifier,
    options: &VerifyOptions,
    progress: &Progress,
) -> Result<VerificationReport, VerifyError> {
    let verified = verify_statement_signature(bundle, verifier)?;
    // Decoding checks the whole manifest (names, and that the signed root digest is that
    // of every listed resource) even when only some files are hashed below.
    let signed = statement::decode(&bundle.envelope.payload)?;
    let record = signed.manifest.serialization().clone();
    let signed_files = signed_file_names(&signed.manifest);
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
    // Partial verification: which signed files were named, settled from the signed names
    // before anything in the model is read.
    let named = match &options.only_files {
        Some(paths) => Some(NamedFiles::resolve(
            model_path,
            paths,
            &signed_files,
            &record,
        )?),
        None => None,
    };
    let pool = worker_pool(options.max_workers)?;
    let mut model = pool
        .install(|| match &named {
            // Only the named files are looked up, so the time is theirs, not the model's.
            Some(named) => model::select(model_path, named.lookups(), &walk),
            None if options.ignore_unsigned_files => {
                model::select(model_path, signed_files.iter().copied(), &walk)
            }
            None => model::walk(model_path, &walk),
        })
        .map_err(HashError::from)?;
    if let Some(named) = &named {
        named.check_unlisted_are_empty(&model)?;
    }
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
    // A partial verification selected named files only: any unsigned one among them is
    // reported, whatever `ignore_unsigned_files` says.
    let unsigned_tolerated = options.ignore_unsigned_files && named.is_none();
    let expected = match &named {
        Some(named) => Cow::Owned(named.expected_resources(&signed.manifest, &record)),
        None => Cow::Borrowed(&signed.manifest),
    };
    let mut diff = ManifestDiff::between(&expected, &local, unsigned_tolerated);
    if !unsigned_tolerated {
        diff.extra.extend(unsigned.into_iter().map(|f| f.name));
        diff.extra.sort_unstable();
    }
    diff.symlinks = model.disallowed_symlinks;
    diff.unsupported = model.unsupported;
    if !diff.is_empty() {
        return Err(VerifyError::Mismatch(Box::new(diff)));
    }
    let resources_checked = expected.resources().len();
    let mut report = VerificationReport::of(&signed, verified);
    if let Some(named) = named {
        report.resources_checked = resources_checked;
        report.checked_files = Some(named.into_checked());
    }
    Ok(report)
}

/// The signed file names of `manifest`, sorted and each once: shard names of one file need
/// not be adjacent (`a:1.bin:0:3`, another file, sorts between `a:0:8` and `a:16:24`).
fn signed_file_names(manifest: &Manifest) -> Vec<&str> {
    let record = manifest.serialization();
    let mut names: Vec<&str> = manifest
        .resources()
        .iter()
        .map(|r| file_part(&r.name, record))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Whether `a` and `b` name the same existing file or directory.
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

/// The files a partial verification checks ([`VerifyOptions::only_files`]).
struct NamedFiles {
    /// Signed files named, directly or by a directory above them: sorted, each once.
    signed: Vec<String>,
    /// Names the manifest does not list, under shards, with the path as given: an empty
    /// file has no shard (OMS §6.3.2), so an empty regular file there is what was signed
    /// and passes, as in a full verification; anything else is not covered.
    unlisted: Vec<(String, PathBuf)>,
}

impl NamedFiles {
    /// Names each of `paths` in the model and settles what it stands for from the signed
    /// names alone: a signed file, the signed files under a directory, or (under shards)
    /// possibly an empty file. Anything else is refused before the model is read.
    fn resolve(
        model_path: &Path,
        paths: &[PathBuf],
        signed_files: &[&str],
        record: &SerializationRecord,
    ) -> Result<Self, VerifyError> {
        if paths.is_empty() {
            return Err(VerifyError::NoFilesNamed);
        }
        let sharded = matches!(record.serialization, Serialization::Shards { .. });
        let mut named = NamedFiles {
            signed: Vec::new(),
            unlisted: Vec::new(),
        };
        for path in paths {
            let Some(name) = relative_to_model(model_path, path) else {
                // The model folder itself stands for every signed file, as a directory
                // does for those under it.
                if same_file(model_path, path) {
                    named
                        .signed
                        .extend(signed_files.iter().map(|f| (*f).to_owned()));
                    continue;
                }
                return Err(HashError::from(WalkError::NotInModel {
                    path: path.clone(),
                    model: model_path.to_path_buf(),
                })
                .into());
            };
            if signed_files.binary_search(&name.as_str()).is_ok() {
                named.signed.push(name);
                continue;
            }
            // model_signing names the one file of a single-file model `.`, and
            // `relative_to_model` names nothing but that file in such a model.
            if signed_files == ["."] && model_path.is_file() {
                named.signed.push(".".to_owned());
                continue;
            }
            // Names sharing a prefix are adjacent in sorted order.
            let prefix = format!("{name}/");
            let start = signed_files.partition_point(|f| *f < prefix.as_str());
            let before = named.signed.len();
            named.signed.extend(
                signed_files[start..]
                    .iter()
                    .take_while(|f| f.starts_with(&prefix))
                    .map(|f| (*f).to_owned()),
            );
            if named.signed.len() > before {
                continue;
            }
            if sharded {
                named.unlisted.push((name, path.clone()));
                continue;
            }
            return Err(VerifyError::NotSigned {
                path: path.clone(),
                name,
            });
        }
        named.signed.sort_unstable();
        named.signed.dedup();
        Ok(named)
    }

    /// Every name to look up in the model.
    fn lookups(&self) -> impl Iterator<Item = &str> {
        self.signed
            .iter()
            .chain(self.unlisted.iter().map(|(name, _)| name))
            .map(String::as_str)
    }

    /// Refuses an unlisted name unless the model holds it as an empty regular file.
    fn check_unlisted_are_empty(&self, model: &model::Model) -> Result<(), VerifyError> {
        for (name, path) in &self.unlisted {
            if !model.files.iter().any(|f| &f.name == name && f.size == 0) {
                return Err(VerifyError::NotSigned {
                    path: path.clone(),
                    name: name.clone(),
                });
            }
        }
        Ok(())
    }

    /// The signed manifest's resources of the named files: the ones to compare with.
    fn expected_resources(&self, manifest: &Manifest, record: &SerializationRecord) -> Manifest {
        let resources = manifest
            .resources()
            .iter()
            .filter(|r| {
                let file = file_part(&r.name, record);
                self.signed
                    .binary_search_by(|named| named.as_str().cmp(file))
                    .is_ok()
            })
            .cloned()
            .collect();
        Manifest::new(manifest.model_name().to_owned(), record.clone(), resources)
    }

    /// The files checked, sorted: the signed ones and the empty unlisted ones.
    fn into_checked(self) -> Vec<String> {
        let mut checked = self.signed;
        checked.extend(self.unlisted.into_iter().map(|(name, _)| name));
        checked.sort_unstable();
        checked.dedup();
        checked
    }
}

/// The file path of a resource name (shard names carry a `:start:end` suffix).
fn file_part<'a>(name: &'a str, record: &SerializationRecord) -> &'a str {
    record.serialization.file_of(name)
}

#[cfg(test)]
mod tests;
