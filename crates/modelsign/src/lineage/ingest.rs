//! Taking attestations into the store: every bundle is verified against the trust policy
//! before anything of it is stored, and one already stored is stored once.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::policy::{build_verifiers, AttestationKind, TrustPolicy};
use super::store::{
    ArtifactKind, AttestationFacts, EdgeStatus, NewArtifact, NewAttestation, Store,
};
use crate::attestation::claims;
use crate::attestation::{decode_statement_about, ModelSubject};
use crate::bundle::Bundle;
use crate::card::ModelCard;
use crate::error::LineageError;
use crate::intoto::{self, CYCLONEDX_BOM, SLSA_PROVENANCE_V1};
use crate::provenance::{Input, InputStatus, Provenance, Role, Stage};
use crate::spec::BuiltVerifier;
use crate::statement;
use crate::verifying::{verify_statement_signature, VerifiedSignature};

/// How many folders deep an ingest looks for attestation files.
pub const MAX_DEPTH: usize = 32;

/// One bundle to ingest, and where it came from (for messages).
#[derive(Debug)]
pub struct Source {
    /// `FILE`, or `FILE:LINE` for a claims file's line.
    pub origin: String,
    /// The bundle, or why it could not be read.
    pub bundle: Result<Bundle, String>,
}

/// What an ingest did.
#[derive(Debug, Default)]
pub struct IngestReport {
    /// The attestations stored now: origin, kind, and the policy signer that accepted it.
    pub stored: Vec<(String, &'static str, String)>,
    /// Those already in the store (origins).
    pub already_stored: Vec<String>,
    /// Those refused: origin and reason. None of them was stored.
    pub refused: Vec<(String, String)>,
}

impl IngestReport {
    /// Whether every attestation given was stored or already there: none was refused.
    pub fn ok(&self) -> bool {
        self.refused.is_empty()
    }
}

/// The bundles at `paths`: bundle files, claims files (`*.jsonl`), and folders searched for
/// both (`*.sig`, `*.sigstore.json`, `claims.jsonl`), without following links.
pub fn sources(paths: &[PathBuf]) -> Result<Vec<Source>, LineageError> {
    let mut out = Vec::new();
    for path in paths {
        let metadata = std::fs::symlink_metadata(path).map_err(|e| LineageError::Read {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if metadata.is_dir() {
            collect(path, 0, &mut out)?;
        } else {
            read_file(path, &mut out);
        }
    }
    Ok(out)
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<Source>) -> Result<(), LineageError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let unreadable = |e: std::io::Error| LineageError::Read {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect(&path, depth + 1, out)?;
        } else if kind.is_file() && is_attestation_file(&path) {
            read_file(&path, out);
        }
    }
    Ok(())
}

fn is_attestation_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".sig") || name.ends_with(".sigstore.json") || name == claims::FILE_NAME
}

fn read_file(path: &Path, out: &mut Vec<Source>) {
    let origin = path.display().to_string();
    if path.extension().is_some_and(|e| e == "jsonl") {
        match claims::read_each_line(path) {
            Ok(lines) => out.extend(lines.into_iter().map(|line| match line {
                Ok(claim) => Source {
                    origin: format!("{origin}:{}", claim.line),
                    bundle: Ok(claim.bundle),
                },
                Err(e) => Source {
                    origin: match &e {
                        claims::ClaimsError::Line { line, .. } => format!("{origin}:{line}"),
                        _ => origin.clone(),
                    },
                    bundle: Err(e.to_string()),
                },
            })),
            Err(e) => out.push(Source {
                origin,
                bundle: Err(e.to_string()),
            }),
        }
        return;
    }
    out.push(Source {
        origin,
        bundle: Bundle::read(path).map_err(|e| e.to_string()),
    });
}

/// Verifies each source against `policy` and stores the ones it accepts.
pub fn ingest(
    store: &mut Store,
    policy: &TrustPolicy,
    sources: Vec<Source>,
) -> Result<IngestReport, LineageError> {
    let verifiers = build_verifiers(policy)?;
    let mut report = IngestReport::default();
    for source in sources {
        let bundle = match source.bundle {
            Ok(bundle) => bundle,
            Err(reason) => {
                report.refused.push((source.origin, reason));
                continue;
            }
        };
        // Checked before asking the store: an attestation stored under an earlier policy
        // is refused when this policy refuses it, not waved through as "already there".
        let digest = bundle_digest(&bundle);
        match accept(policy, &verifiers, &bundle, digest.clone()) {
            Ok(new) => {
                let (kind, trusted_as) = (kind_name(&new), new.facts.trusted_as.clone());
                if store.add(&new)? {
                    report.stored.push((source.origin, kind, trusted_as));
                } else {
                    report.already_stored.push(source.origin);
                }
            }
            Err(mut reason) => {
                if store.has_attestation(&digest)? {
                    reason.push_str(
                        "; it was stored by an earlier ingest, under another policy, and stays in the store",
                    );
                }
                report.refused.push((source.origin, reason));
            }
        }
    }
    Ok(report)
}

/// The kind of a new attestation, as reports name it.
fn kind_name(new: &NewAttestation) -> &'static str {
    AttestationKind::parse(&new.facts.kind).map_or("attestation", AttestationKind::name)
}

/// `sha256:<hex>` over what a bundle signs and its signatures: the same attestation read
/// from a bundle file and from a claims line has one digest.
pub fn bundle_digest(bundle: &Bundle) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bundle.envelope.payload_type.as_bytes());
    hasher.update([0]);
    hasher.update(&bundle.envelope.payload);
    for signature in &bundle.envelope.signatures {
        hasher.update([0]);
        hasher.update(&signature.sig);
    }
    format!(
        "sha256:{}",
        base16ct::lower::encode_string(&hasher.finalize())
    )
}

/// The attestation the policy accepts `bundle` as, or why it refuses it.
fn accept(
    policy: &TrustPolicy,
    verifiers: &[BuiltVerifier],
    bundle: &Bundle,
    digest: String,
) -> Result<NewAttestation, String> {
    let payload = &bundle.envelope.payload;
    let predicate_type = intoto::read_predicate_type(payload)
        .ok_or_else(|| "the signed payload is not an in-toto statement".to_owned())?;
    let kind = match predicate_type.as_str() {
        SLSA_PROVENANCE_V1 => AttestationKind::Provenance,
        CYCLONEDX_BOM => AttestationKind::Card,
        statement::PREDICATE_TYPE => AttestationKind::Signature,
        other => {
            return Err(format!(
                "its predicate type '{}' is none modelsign takes into a lineage graph",
                crate::text::printable(other)
            ))
        }
    };
    let mut refusals = Vec::new();
    for (signer, built) in policy.signers.iter().zip(verifiers) {
        if !signer.kinds.contains(&kind) {
            continue;
        }
        let verified = match verify_statement_signature(bundle, built.verifier.as_ref()) {
            Ok(verified) => verified,
            Err(e) => {
                refusals.push(format!("{}: {e}", signer.name));
                continue;
            }
        };
        // The signature holds: a malformed statement is refused whoever else might verify.
        let mut new = describe(kind, payload, &verified)?;
        refuse_nul(&new)?;
        let names: Vec<Vec<&str>> = new
            .subjects
            .iter()
            .map(|s| s.aliases.iter().map(String::as_str).collect())
            .collect();
        let stage = new.facts.stage.as_deref().and_then(Stage::parse);
        match signer.allows(kind, stage, &names) {
            Ok(()) => {
                new.facts.bundle_digest = digest;
                new.facts.trusted_as.clone_from(&signer.name);
                return Ok(new);
            }
            Err(reason) => refusals.push(reason),
        }
    }
    Err(if refusals.is_empty() {
        format!("no signer of the policy may sign a {}", kind.name())
    } else {
        format!(
            "no signer of the policy accepts it ({})",
            refusals.join("; ")
        )
    })
}

/// Refuses a statement that names something with U+0000 in it: JSON can carry it
/// (`\u0000`), PostgreSQL's text cannot hold it, and the same attestation must be refused
/// alike on every backend rather than stored on one and fail the ingest on the other.
fn refuse_nul(new: &NewAttestation) -> Result<(), String> {
    let artifacts = new
        .subjects
        .iter()
        .chain(new.inputs.iter().map(|(input, _, _)| input));
    let mut texts = artifacts
        .flat_map(|a| std::iter::once(&a.key).chain(&a.aliases))
        .chain([&new.facts.signer]);
    match texts.find(|text| text.contains('\0')) {
        Some(text) => Err(format!(
            "it names '{}', which holds the character U+0000: no lineage store keeps that",
            crate::text::printable(text)
        )),
        None => Ok(()),
    }
}

fn signer_of(verified: &VerifiedSignature) -> String {
    match (&verified.signer, &verified.public_key_hint) {
        (Some(identity), _) => format!("{} ({})", identity.identity, identity.issuer),
        (None, Some(hint)) => format!("key {hint}"),
        (None, None) => "a certificate chain".to_owned(),
    }
}

/// What a verified statement adds to the graph.
fn describe(
    kind: AttestationKind,
    payload: &[u8],
    verified: &VerifiedSignature,
) -> Result<NewAttestation, String> {
    let mut new = NewAttestation {
        facts: AttestationFacts {
            bundle_digest: String::new(),
            kind: kind.name().to_owned(),
            stage: None,
            signer: signer_of(verified),
            trusted_as: String::new(),
            started: None,
            finished: None,
            seconds: None,
        },
        statement: String::from_utf8_lossy(payload).into_owned(),
        subjects: Vec::new(),
        inputs: Vec::new(),
    };
    match kind {
        AttestationKind::Signature => {
            let signed = statement::decode(payload).map_err(|e| e.to_string())?;
            let subject = ModelSubject::of_manifest(&signed.manifest);
            new.subjects
                .push(subject_artifact(&subject, ArtifactKind::Model));
        }
        AttestationKind::Card => {
            let (subjects, read) =
                decode_statement_about::<ModelCard>(payload).map_err(|e| e.to_string())?;
            new.subjects = subjects
                .iter()
                .map(|s| subject_artifact(s, ArtifactKind::Model))
                .collect();
            let card = &read.card;
            for dataset in &card.datasets {
                let key = match (&dataset.digest, &dataset.url) {
                    (Some(digest), _) => digest.to_ascii_lowercase(),
                    (None, Some(url)) => format!("uri:{url}"),
                    (None, None) => format!("uri:{}", dataset.name),
                };
                let mut aliases = vec![dataset.name.clone()];
                aliases.extend(dataset.url.clone());
                new.inputs.push((
                    NewArtifact {
                        key,
                        kind: ArtifactKind::Dataset,
                        aliases,
                    },
                    Role::Dataset.name().to_owned(),
                    EdgeStatus::Claimed,
                ));
            }
            for base in &card.base_models {
                let uri = format!("pkg:huggingface/{base}");
                new.inputs.push((
                    NewArtifact {
                        key: format!("uri:{uri}"),
                        kind: ArtifactKind::Model,
                        aliases: vec![base.clone(), uri],
                    },
                    Role::BaseModel.name().to_owned(),
                    EdgeStatus::Claimed,
                ));
            }
        }
        AttestationKind::Provenance => {
            let (subjects, provenance) =
                decode_statement_about::<Provenance>(payload).map_err(|e| e.to_string())?;
            let output_kind = match provenance.stage {
                Stage::DataPrep => ArtifactKind::Dataset,
                Stage::Evaluate => ArtifactKind::Results,
                _ => ArtifactKind::Model,
            };
            new.subjects = subjects
                .iter()
                .map(|s| subject_artifact(s, output_kind))
                .collect();
            new.facts.stage = Some(provenance.stage.name().to_owned());
            new.facts.started = Some(provenance.started.to_string());
            new.facts.finished = Some(provenance.finished.to_string());
            new.facts.seconds = Some(
                provenance
                    .finished
                    .duration_since(provenance.started)
                    .as_secs_f64(),
            );
            new.inputs = provenance
                .inputs
                .iter()
                .map(|input| {
                    let status = match InputStatus::as_recorded(input) {
                        InputStatus::Recorded => EdgeStatus::Verified,
                        _ => EdgeStatus::Claimed,
                    };
                    (input_artifact(input), input.role.name().to_owned(), status)
                })
                .collect();
        }
    }
    Ok(new)
}

/// Every model or dataset a stored statement records together with how it was hashed: its
/// subjects, and a provenance's inputs that have an OMS root digest. A path given as a query's
/// reference is digested as these record it.
pub(crate) fn recorded_subjects(kind: &str, statement: &[u8]) -> Vec<ModelSubject> {
    match AttestationKind::parse(kind) {
        Some(AttestationKind::Signature) => statement::decode(statement)
            .map(|signed| vec![ModelSubject::of_manifest(&signed.manifest)])
            .unwrap_or_default(),
        Some(AttestationKind::Card) => decode_statement_about::<ModelCard>(statement)
            .map(|(subjects, _)| subjects)
            .unwrap_or_default(),
        Some(AttestationKind::Provenance) => decode_statement_about::<Provenance>(statement)
            .map(|(mut subjects, provenance)| {
                subjects.extend(provenance.inputs.iter().filter_map(Input::as_subject));
                subjects
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn subject_artifact(subject: &ModelSubject, kind: ArtifactKind) -> NewArtifact {
    let key = subject.root_digest_string();
    let mut aliases = vec![subject.name.clone()];
    aliases.extend(subject.uri.clone());
    aliases.retain(|a| !a.is_empty());
    NewArtifact { key, kind, aliases }
}

fn input_artifact(input: &Input) -> NewArtifact {
    let kind = ArtifactKind::of_role(input.role);
    let mut digests: Vec<String> = input
        .digest
        .iter()
        .map(|(algorithm, hex)| format!("{algorithm}:{}", hex.to_ascii_lowercase()))
        .collect();
    // The strongest digest is the key: the OMS root digest joins with the stage that made
    // the input; a commit or a URI is what is left.
    digests.sort_by_key(|d| !d.starts_with("sha256:"));
    let key = match (digests.first(), &input.uri) {
        (Some(digest), _) => digest.clone(),
        (None, Some(uri)) => format!("uri:{uri}"),
        (None, None) => format!("uri:{}", input.label()),
    };
    let mut aliases: Vec<String> = digests.into_iter().skip(1).collect();
    aliases.extend(input.name.clone());
    aliases.extend(input.uri.clone());
    NewArtifact { key, kind, aliases }
}
