//! `sign --reuse`: the flags become the library's [`Earlier`] signature, its verifier and
//! the changes, and the report says what was hashed and what reused.

use std::path::Path;

use modelsign::hashing::DigestSources;
use modelsign::reuse::{Changes, Earlier, Reused};
use modelsign::spec::{BuiltSigner, IdentityMatch, SignerSpec, VerifierSpec};
use modelsign::{Bundle, Verifier};
use serde_json::{json, Value};

use crate::args::IncrementalArgs;
use crate::failure::Failure;
use crate::methods::{self, spec_failure};

/// The earlier signature `--reuse` names, read, with what changed since.
pub struct Plan {
    pub bundle: Bundle,
    pub verifier: Box<dyn Verifier>,
    pub changes: Changes,
}

impl Plan {
    pub fn earlier(&self) -> Earlier<'_> {
        Earlier {
            bundle: &self.bundle,
            verifier: self.verifier.as_ref(),
            changes: self.changes.clone(),
        }
    }
}

/// The plan of `--reuse`, or `None` without it.
pub fn plan(
    args: &IncrementalArgs,
    spec: &SignerSpec,
    built: &BuiltSigner,
) -> Result<Option<Plan>, Failure> {
    let Some(path) = &args.reuse else {
        return Ok(None);
    };
    let changes = match (&args.changed_since_git, args.changed.is_empty()) {
        (Some(revision), _) => Changes::SinceGit(revision.clone()),
        (None, false) => Changes::Listed(args.changed.clone()),
        (None, true) => {
            return Err(Failure::input(
                "--reuse needs to know what changed since the earlier signature: give --changed PATH (repeatable) or --changed-since-git REV",
            ))
        }
    };
    let verifier = earlier_verifier(args, spec, built)?;
    let bundle = methods::read_bundle(path)?;
    Ok(Some(Plan {
        bundle,
        verifier,
        changes,
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

/// The `reused` object of `--json`.
pub fn reused_json(earlier: &Path, reused: &Reused) -> Value {
    let sources = &reused.signed.sources;
    json!({
        "signature": earlier,
        "files": sources.known_files,
        "bytes": sources.known_bytes,
        "hashed_files": sources.hashed_files,
        "hashed_bytes": sources.hashed_bytes,
        "renamed": reused.renamed.iter().map(|(old, new)| json!({"from": old, "to": new})).collect::<Vec<_>>(),
    })
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
