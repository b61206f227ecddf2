//! `sign --reuse`: the flags become the library's [`Earlier`] signature, its verifier and
//! the changes, and the report says what was hashed and what reused.

use std::path::{Path, PathBuf};

use modelsign::hashing::DigestSources;
use modelsign::reuse::{Changes, Earlier, Incremental, Reused};
use modelsign::spec::{BuiltSigner, IdentityMatch, SignerSpec, VerifierSpec};
use modelsign::stat_cache::StatCache;
use modelsign::{known_digests, HashSettings, Progress, SignedModel, Signer};
use modelsign::{Bundle, Verifier};
use serde_json::{json, Value};

use crate::args::{IncrementalArgs, SignCommon};
use crate::failure::Failure;
use crate::methods::{self, spec_failure};

/// The earlier signature `--reuse` names, read, with what changed since, and whether
/// `--stat-cache` records the files signed.
pub struct Plan {
    earlier: Option<(Bundle, Box<dyn Verifier>, Changes)>,
    record_stat_cache: Option<PathBuf>,
}

impl Plan {
    pub fn incremental(&self) -> Incremental<'_> {
        Incremental {
            earlier: self
                .earlier
                .as_ref()
                .map(|(bundle, verifier, changes)| Earlier {
                    bundle,
                    verifier: verifier.as_ref(),
                    changes: changes.clone(),
                }),
            record_stat_cache: self.record_stat_cache.clone(),
        }
    }
}

/// The plan of `--reuse` and `--stat-cache`, or `None` without either.
pub fn plan(
    args: &IncrementalArgs,
    spec: &SignerSpec,
    built: &BuiltSigner,
) -> Result<Option<Plan>, Failure> {
    let stat_cache = if args.stat_cache {
        Some(StatCache::default_dir().ok_or_else(|| {
            Failure::input(
                "--stat-cache needs a cache folder: set MODELSIGN_CACHE_DIR, XDG_CACHE_HOME or HOME to an absolute path",
            )
        })?)
    } else {
        None
    };
    let earlier = match &args.reuse {
        None => None,
        Some(path) => {
            let listed = (!args.changed.is_empty()).then(|| args.changed.clone());
            let Some(changes) = Changes::first_given(
                args.changed_since_git.clone(),
                listed,
                stat_cache.as_deref(),
            ) else {
                return Err(Failure::input(
                    "--reuse needs to know what changed since the earlier signature: give --changed PATH (repeatable), --changed-since-git REV or --stat-cache",
                ));
            };
            let verifier = earlier_verifier(args, spec, built)?;
            Some((methods::read_bundle(path)?, verifier, changes))
        }
    };
    if earlier.is_none() && stat_cache.is_none() {
        return Ok(None);
    }
    Ok(Some(Plan {
        earlier,
        record_stat_cache: stat_cache,
    }))
}

/// How the earlier signature is trusted: the material given, or a key method's own key.
fn earlier_verifier(
    args: &IncrementalArgs,
    spec: &SignerSpec,
    built: &BuiltSigner,
) -> Result<Box<dyn Verifier>, Failure> {
    let identity = match (&args.reuse_identity, &args.reuse_identity_regex) {
        (_, Some(pattern)) => Some(IdentityMatch::Regex(pattern.clone())),
        (Some(identity), None) => Some(IdentityMatch::Exact(identity.clone())),
        (None, None) => None,
    };
    let given = if let Some(public_key) = &args.reuse_public_key {
        Some(methods::key_verifier(public_key))
    } else if !args.reuse_certificate_chain.is_empty() {
        Some(methods::certificate_verifier(&args.reuse_certificate_chain))
    } else if let (Some(identity), Some(issuer)) = (identity, &args.reuse_identity_provider) {
        let (use_staging, trust_file) = match spec {
            SignerSpec::Sigstore(sigstore) => (sigstore.use_staging, sigstore.trust_config.clone()),
            _ => (false, None),
        };
        Some(VerifierSpec::Sigstore {
            use_staging,
            trust_file,
            identity,
            issuer: issuer.clone(),
        })
    } else {
        None
    };
    if let Some(given) = given {
        return Ok(given.build().map_err(spec_failure)?.verifier);
    }
    match built.own_key_verifier(spec) {
        Some(own) => Ok(Box::new(own)),
        None => Err(Failure::input(format!(
            "say how to trust the earlier signature given to --reuse: --reuse-public-key FILE, --reuse-certificate-chain ROOT or --reuse-identity ID --reuse-identity-provider URL (only `sign key` and `sign pkcs11-key` default to the signing key's own; this is `sign {}`)",
            spec.method()
        ))),
    }
}

/// The `reused` object of `--json` (`null` without an earlier signature).
pub fn reused_json(earlier: &Path, reused: &Reused) -> Value {
    if reused.earlier.is_none() {
        return Value::Null;
    }
    let mut report = sources_json(&reused.signed.sources);
    report["signature"] = json!(earlier);
    report["renamed"] = reused
        .renamed
        .iter()
        .map(|(old, new)| json!({"from": old, "to": new}))
        .collect();
    report
}

/// How many files (and bytes) were taken as known and how many hashed, as `--json` says it.
fn sources_json(sources: &DigestSources) -> Value {
    json!({
        "files": sources.known_files,
        "bytes": sources.known_bytes,
        "hashed_files": sources.hashed_files,
        "hashed_bytes": sources.hashed_bytes,
    })
}

/// `sign --digests FILE`: the list read with the signing's algorithm, signed.
pub fn sign_from_digests(
    common: &SignCommon,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    progress: &Progress,
) -> Result<SignedModel, Failure> {
    let Some(path) = &common.incremental.digests else {
        return Err(Failure::input("no --digests list given"));
    };
    let list =
        known_digests::read(path, settings.algorithm).map_err(|e| crate::sign_failure(e.into()))?;
    let signed = modelsign::reuse::sign_model_from_digests_unwritten(
        &common.model,
        settings,
        signer,
        signature_path,
        &list,
        progress,
    )
    .map_err(crate::sign_failure)?;
    signed
        .bundle
        .write_atomic(signature_path)
        .map_err(|e| crate::sign_failure(e.into()))?;
    Ok(signed)
}

/// The `known_digests` object of `--json` (`null` without `--digests`).
pub fn digests_json(common: &SignCommon, signed: &SignedModel) -> Value {
    let Some(path) = &common.incremental.digests else {
        return Value::Null;
    };
    let mut report = sources_json(&signed.sources);
    report["list"] = json!(path);
    report
}

/// The `stat_cache` object of `--json` (`null` unless the files were recorded).
pub fn stat_cache_json(reused: &Reused) -> Value {
    match &reused.recorded {
        Some((path, files)) => json!({"path": path, "recorded_files": files}),
        None => Value::Null,
    }
}

/// The lines after "Signing succeeded": what was hashed and kept, renames, the stat cache.
pub fn print_report(earlier: &Path, reused: &Reused) {
    if reused.earlier.is_some() {
        outln!(
            "  {}",
            sources_line(
                &reused.signed.sources,
                &format!(
                    "kept the digests of the verified earlier signature {}",
                    earlier.display()
                )
            )
        );
    }
    for (old, new) in &reused.renamed {
        outln!(
            "  renamed unchanged: {} -> {}",
            modelsign::text::printable(old),
            modelsign::text::printable(new)
        );
    }
    if let Some((path, files)) = &reused.recorded {
        outln!(
            "  stat cache: recorded {} in {}",
            crate::settings::count(*files, "file"),
            path.display()
        );
    }
}

/// The line saying what was hashed and what was taken from elsewhere.
pub fn sources_line(sources: &DigestSources, from: &str) -> String {
    format!(
        "hashed {} ({}); {} ({}) {from}",
        crate::settings::count(sources.hashed_files, "file"),
        bytes(sources.hashed_bytes),
        crate::settings::count(sources.known_files, "file"),
        bytes(sources.known_bytes),
    )
}

/// A size for people: bytes, KiB, MiB or GiB with one decimal.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
