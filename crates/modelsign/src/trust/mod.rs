//! Trust policies: which signers are trusted, for what, and about which models. One file
//! format serves verification where a model is loaded (`modelsign verify MODEL --policy`,
//! the Python package, [`PolicyVerifier`]) and the [`lineage`](crate::lineage) store's
//! ingest, so an organisation writes down whom it trusts once.
//!
//! ```toml
//! # Paths are relative to this file.
//! mode = "enforce"                       # or "warn": report a refusal, load anyway
//!                                        # (default enforce; lineage always enforces)
//!
//! [[signer]]
//! name = "data team"
//! key = "keys/data.pub"
//! stages = ["data-prep"]                 # provenance of these stages only (default: any);
//!                                        # with stages and no kinds, provenance is its one kind
//!
//! [[signer]]
//! name = "training CI"
//! sigstore = { identity = "ci@acme.example", issuer = "https://accounts.google.com" }
//! kinds = ["provenance", "card"]         # default: provenance, card and signature
//! names = ["pkg:huggingface/acme/*"]     # subjects named or located so (default: any)
//!
//! [[signer]]
//! name = "release builds"
//! sigstore = { identity_regex = "https://github.com/acme/.*/release.yml@refs/tags/v.*", issuer = "https://token.actions.githubusercontent.com" }
//!                                        # identity_regex must match the whole identity
//!
//! [[signer]]
//! name = "release"
//! certificate_chain = ["roots/acme-root.pem"]
//! ```
//!
//! A policy's `identity_regex` must match the whole identity (it is taken as
//! `^(?:PATTERN)$`): `ci@` accepts the identity `ci@` only, `ci@.*` any identity starting so.
//! (The CLI's `--identity-regex` stays a search.)
//!
//! The same document in YAML (`.yaml`, `.yml`) is read the same way.

mod names;
mod verify;

pub use names::{image_names, model_names};
pub use verify::{PolicyFailure, PolicyOutcome, PolicyVerifier, SignerAttempt};

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::PolicyError;
use crate::limits;
use crate::provenance::Stage;
use crate::spec::{BuiltVerifier, IdentityMatch, VerifierSpec};

/// What a policy's refusal does where a model is loaded. A lineage ingest always enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PolicyMode {
    /// A model the policy refuses is not loaded (the default).
    #[default]
    Enforce,
    /// A model the policy refuses is reported, and loaded anyway: for rolling a policy out
    /// before enforcing it.
    Warn,
}

impl PolicyMode {
    /// Every mode, in the order messages list them.
    pub const ALL: [PolicyMode; 2] = [PolicyMode::Enforce, PolicyMode::Warn];

    /// The mode's name in policies and reports.
    pub fn name(self) -> &'static str {
        match self {
            PolicyMode::Enforce => "enforce",
            PolicyMode::Warn => "warn",
        }
    }

    /// The mode named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == name)
    }
}

/// The kinds of attestation a policy's signer may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AttestationKind {
    /// An OMS model signature.
    Signature,
    /// A signed model card.
    Card,
    /// A pipeline stage's provenance.
    Provenance,
}

impl AttestationKind {
    /// Every kind, in the order policies and messages list them.
    pub const ALL: [AttestationKind; 3] = [
        AttestationKind::Signature,
        AttestationKind::Card,
        AttestationKind::Provenance,
    ];

    /// The kind's name in policies and reports.
    pub fn name(self) -> &'static str {
        match self {
            AttestationKind::Signature => "signature",
            AttestationKind::Card => "card",
            AttestationKind::Provenance => "provenance",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// A trust policy: the signers whose attestations are accepted.
#[derive(Debug)]
pub struct TrustPolicy {
    /// What a refusal does where a model is loaded (a lineage ingest always enforces).
    pub mode: PolicyMode,
    /// The signers, in the policy's order.
    pub signers: Vec<TrustedSigner>,
}

/// One signer of a policy, with what it may attest.
#[derive(Debug)]
pub struct TrustedSigner {
    /// How reports name the signer.
    pub name: String,
    /// The verifying method and its material.
    pub spec: VerifierSpec,
    /// The kinds of attestation it may sign (provenance only, when the policy limits it to
    /// stages and names no kinds).
    pub kinds: Vec<AttestationKind>,
    /// The stages whose provenance it may sign; empty: any.
    pub stages: Vec<Stage>,
    /// Patterns (`*` matching any run of characters) one of which every subject's name or
    /// URI must match; empty: any.
    pub names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    mode: Option<String>,
    #[serde(default)]
    signer: Vec<SignerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerEntry {
    name: String,
    key: Option<PathBuf>,
    certificate_chain: Option<Vec<PathBuf>>,
    sigstore: Option<SigstoreEntry>,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    stages: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigstoreEntry {
    identity: Option<String>,
    identity_regex: Option<String>,
    issuer: String,
    trust_config: Option<PathBuf>,
    #[serde(default)]
    use_staging: bool,
}

impl TrustPolicy {
    /// Reads a policy file: TOML, or YAML when its name ends in `.yaml` or `.yml`.
    pub fn read(path: &Path) -> Result<TrustPolicy, PolicyError> {
        let text = limits::read_input_text(path, limits::MAX_CARD_FILE).map_err(|e| {
            PolicyError::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        let yaml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, yaml, base).map_err(|reason| PolicyError::File {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses a policy's text; relative paths in it are taken from `base`.
    pub fn parse(text: &str, yaml: bool, base: &Path) -> Result<TrustPolicy, String> {
        let file: PolicyFile = if yaml {
            serde_norway::from_str(text).map_err(|e| e.to_string())?
        } else {
            toml::from_str(text).map_err(|e| e.to_string())?
        };
        let mode = match file.mode.as_deref() {
            None => PolicyMode::default(),
            Some(name) => PolicyMode::parse(name).ok_or_else(|| {
                format!(
                    "mode '{}' is not a mode; the modes are {}",
                    crate::text::printable(name),
                    PolicyMode::ALL.map(PolicyMode::name).join(", ")
                )
            })?,
        };
        if file.signer.is_empty() {
            return Err("it names no [[signer]], so it would accept nothing".into());
        }
        let signers = file
            .signer
            .into_iter()
            .map(|entry| signer(entry, base))
            .collect::<Result<_, _>>()?;
        Ok(TrustPolicy { mode, signers })
    }
}

fn signer(entry: SignerEntry, base: &Path) -> Result<TrustedSigner, String> {
    let name = entry.name;
    let at = |what: String| format!("signer '{name}': {what}");
    let mut specs = Vec::new();
    if let Some(key) = entry.key {
        specs.push(VerifierSpec::Key {
            public_key: base.join(key),
        });
    }
    if let Some(chain) = entry.certificate_chain {
        if chain.is_empty() {
            return Err(at("certificate_chain names no file".into()));
        }
        specs.push(VerifierSpec::Certificate {
            trust_anchors: chain.into_iter().map(|p| base.join(p)).collect(),
        });
    }
    if let Some(sigstore) = entry.sigstore {
        let identity = match (sigstore.identity, sigstore.identity_regex) {
            (Some(identity), None) => IdentityMatch::Exact(identity),
            // A policy's pattern must match the whole identity: an unanchored search would
            // let `ci@acme\.example` accept `ci@acme.example.evil` too.
            (None, Some(regex)) => IdentityMatch::Regex(format!("^(?:{regex})$")),
            _ => {
                return Err(at(
                    "sigstore needs one of identity and identity_regex".into()
                ))
            }
        };
        specs.push(VerifierSpec::Sigstore {
            use_staging: sigstore.use_staging,
            trust_file: sigstore.trust_config.map(|p| base.join(p)),
            identity,
            issuer: sigstore.issuer,
        });
    }
    let spec = match <[VerifierSpec; 1]>::try_from(specs) {
        Ok([spec]) => spec,
        Err(_) => {
            return Err(at(
                "give exactly one of key, certificate_chain and sigstore".into(),
            ))
        }
    };
    // A signer limited to stages is a signer of those stages' provenance: "the data team
    // signs data preparation" must not also let it sign any model's card or signature.
    let kinds = if entry.kinds.is_empty() && !entry.stages.is_empty() {
        vec![AttestationKind::Provenance]
    } else if entry.kinds.is_empty() {
        AttestationKind::ALL.to_vec()
    } else {
        entry
            .kinds
            .iter()
            .map(|k| {
                AttestationKind::parse(k).ok_or_else(|| {
                    at(format!(
                        "'{k}' is not a kind; the kinds are {}",
                        AttestationKind::ALL.map(AttestationKind::name).join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let stages = entry
        .stages
        .iter()
        .map(|s| Stage::parse(s).ok_or_else(|| at(format!("'{s}' is not a stage"))))
        .collect::<Result<_, _>>()?;
    Ok(TrustedSigner {
        name,
        spec,
        kinds,
        stages,
        names: entry.names,
    })
}

impl TrustedSigner {
    /// Whether the signer may sign an attestation of `kind` (of `stage`, for provenance)
    /// about subjects named `names` (each subject's name and URI): the reason when not.
    pub fn allows(
        &self,
        kind: AttestationKind,
        stage: Option<Stage>,
        subjects: &[Vec<&str>],
    ) -> Result<(), String> {
        if !self.kinds.contains(&kind) {
            return Err(format!("{} may not sign a {}", self.name, kind.name()));
        }
        if let Some(stage) = stage {
            if !self.stages.is_empty() && !self.stages.contains(&stage) {
                return Err(format!(
                    "{} may sign the provenance of {} only, not of {stage}",
                    self.name,
                    self.stages
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if self.names.is_empty() {
            return Ok(());
        }
        for names in subjects {
            let matched = names
                .iter()
                .any(|name| self.names.iter().any(|pattern| matches(pattern, name)));
            if !matched {
                return Err(format!(
                    "{} may sign for subjects matching {} only, not '{}'",
                    self.name,
                    self.names.join(", "),
                    names.first().copied().unwrap_or_default()
                ));
            }
        }
        Ok(())
    }
}

/// Builds each signer's verifier once, for a whole ingest.
pub fn build_verifiers(policy: &TrustPolicy) -> Result<Vec<BuiltVerifier>, PolicyError> {
    policy.signers.iter().map(TrustedSigner::build).collect()
}

impl TrustedSigner {
    /// Builds the signer's verifier; the error names the signer.
    pub fn build(&self) -> Result<BuiltVerifier, PolicyError> {
        self.spec.build().map_err(|e| PolicyError::Signer {
            signer: self.name.clone(),
            reason: e.to_string(),
        })
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (a pattern
/// language this small needs no glob crate: no classes, no path semantics).
pub fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests;
