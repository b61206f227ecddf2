//! ML supply-chain provenance: a signed SLSA v1 provenance for each stage of a pipeline,
//! whose subjects are the stage's outputs and whose resolved dependencies are its inputs,
//! every one named by the same OMS root digest its signature and model card use.
//!
//! Recording a stage ([`StageRecord`]) digests its outputs and local inputs, checks the
//! inputs fit the stage ([`Stage::required_inputs`]), and signs the provenance, an
//! [`attestation`] like any other, into a bundle beside each output
//! ([`default_path`]). Verifying one ([`verify_provenance`]) checks the signature, that the
//! model at hand is one of its subjects, and, given local copies, that the inputs are the
//! ones recorded.
//!
//! Inputs and outputs may be images in a registry or a layout folder, named by the OMS root
//! digest of their manifest as a model signature of the image names it; a provenance about
//! an image is attached in the registry beside it ([`attach_provenance`]) and found there
//! again.

pub mod draft;
pub mod huggingface;
mod predicate;
mod reference;
pub mod stage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::attestation::{
    self, AttestationStore, ModelBinding, ModelSubject, NotVerified, Rehashed, StoredAttestations,
    VerifiedAttestation,
};
use crate::bundle::Bundle;
use crate::error::ProvenanceError;
use crate::hashing::{HashSettings, Progress};
use crate::intoto::SLSA_PROVENANCE_V1;
use crate::manifest::sha256_string;
use crate::oci::attach::{AttachMode, Attachment};
use crate::oci::registry::LazyRegistry;
use crate::oci::{Attached, ModelLocation, ResolvedImage};
use crate::signing::Signer;
use crate::verifying::Verifier;

pub use predicate::{Input, Provenance, CLAIMED_BY_ANNOTATION, ROLE_ANNOTATION};
pub use reference::{InputRef, InputSource, OutputRef};
pub use stage::{Role, Stage, BUILD_TYPE_BASE, SELF_RECORDED_BUILDER};

/// The file name of a provenance kept in a model's or dataset's folder.
pub const PROVENANCE_FILE: &str = "provenance.sig";

/// Where the provenance of `output` is kept by default: `provenance.sig` inside a folder,
/// `<file>.provenance.sig` beside a file. Both are left out when the folder (or the one
/// holding the file) is hashed, as every `*.sig` file at the top of a model is.
pub fn default_path(output: &Path) -> PathBuf {
    if output.is_dir() {
        return output.join(PROVENANCE_FILE);
    }
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(PROVENANCE_FILE);
    output.with_file_name(name)
}

/// One stage to record, as the user describes it.
#[derive(Debug, Clone)]
pub struct StageRecord {
    /// The stage.
    pub stage: Stage,
    /// What it produced: the provenance's subjects.
    pub outputs: Vec<OutputRef>,
    /// What it consumed.
    pub inputs: Vec<InputRef>,
    /// Hyper-parameters, seeds, commands.
    pub parameters: BTreeMap<String, String>,
    /// Who ran it; `None` says it is self-recorded ([`SELF_RECORDED_BUILDER`]).
    pub builder_id: Option<String>,
    /// When it started; `None`: now.
    pub started: Option<Timestamp>,
    /// When it finished; `None`: now.
    pub finished: Option<Timestamp>,
    /// Whether inputs without a digest may be recorded.
    pub allow_undigested: bool,
}

/// A stage as a front end is given it: the outputs and inputs as text (`PATH[=URI]`,
/// `ROLE=REF`, see [`OutputRef::parse`] and [`InputRef::parse`]), optionally added to a
/// draft ([`draft::Draft`], e.g. from `provenance import-hf`).
#[derive(Debug, Clone, Default)]
pub struct StageDescription {
    /// The stage; `None` takes the draft's.
    pub stage: Option<Stage>,
    /// A draft to start from: its stage, outputs, inputs (kept marked claimed) and
    /// parameters.
    pub draft: Option<PathBuf>,
    /// Outputs, `PATH` or `PATH=URI`, after the draft's.
    pub outputs: Vec<String>,
    /// Inputs, `ROLE=REF`, after the draft's.
    pub inputs: Vec<String>,
    /// Parameters, replacing the draft's of the same key.
    pub parameters: Vec<(String, String)>,
    /// Who ran the stage, as a URI; `None`: self-recorded.
    pub builder_id: Option<String>,
    /// When it started, RFC 3339; `None`: when it finished.
    pub started: Option<String>,
    /// When it finished, RFC 3339; `None`: now.
    pub finished: Option<String>,
    /// Whether inputs without a digest may be recorded.
    pub allow_undigested: bool,
}

impl StageDescription {
    /// The stage to record, every reference, time and the draft parsed; nothing is
    /// hashed yet (see [`StageRecord::check`] next).
    pub fn record(&self) -> Result<StageRecord, ProvenanceError> {
        let draft = self.draft.as_deref().map(draft::Draft::read).transpose()?;
        let stage = self
            .stage
            .or(draft.as_ref().and_then(|d| d.stage))
            .ok_or(ProvenanceError::NoStage)?;
        let (mut outputs, mut inputs, mut parameters) = match draft {
            Some(draft) => (draft.outputs, draft.inputs, draft.parameters),
            None => (Vec::new(), Vec::new(), BTreeMap::new()),
        };
        for output in &self.outputs {
            outputs.push(OutputRef::parse(output)?);
        }
        for input in &self.inputs {
            inputs.push(InputRef::parse(input)?);
        }
        parameters.extend(self.parameters.iter().cloned());
        let time = |text: &Option<String>| text.as_deref().map(parse_time).transpose();
        Ok(StageRecord {
            stage,
            outputs,
            inputs,
            parameters,
            builder_id: self.builder_id.clone(),
            started: time(&self.started)?,
            finished: time(&self.finished)?,
            allow_undigested: self.allow_undigested,
        })
    }
}

/// A parameter of a run given as `KEY=VALUE`.
pub fn parse_parameter(text: &str) -> Result<(String, String), ProvenanceError> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(ProvenanceError::BadParameter(text.to_owned())),
    }
}

/// A time given as RFC 3339 text.
pub fn parse_time(text: &str) -> Result<Timestamp, ProvenanceError> {
    text.parse()
        .map_err(|e: jiff::Error| ProvenanceError::BadTime {
            text: text.to_owned(),
            reason: e.to_string(),
        })
}

impl StageRecord {
    /// Checks everything that needs no hashing, before anything slow or interactive
    /// happens: there are outputs and they exist, the inputs fit the stage, undigested
    /// inputs are allowed, an evaluation's outputs are evaluation results, the times are in
    /// order. Returns the warnings to show (undigested inputs, when allowed).
    pub fn check(&self) -> Result<Vec<String>, ProvenanceError> {
        if self.outputs.is_empty() {
            return Err(ProvenanceError::NoOutputs);
        }
        if let Some(id) = self
            .builder_id
            .as_deref()
            .filter(|id| !reference::has_scheme(id))
        {
            return Err(ProvenanceError::BadBuilderId(id.to_owned()));
        }
        for output in &self.outputs {
            if output.image()?.is_some() {
                // Read from its registry or folder when the stage is resolved.
                if self.stage == Stage::Evaluate {
                    return Err(ProvenanceError::NotEvaluationResults {
                        path: output.path.clone(),
                        reason: "it is an image; an evaluation's results are a file".into(),
                    });
                }
                continue;
            }
            if !output.path.exists() {
                return Err(ProvenanceError::BadOutput {
                    output: output.path.display().to_string(),
                    reason: "no such file or folder".into(),
                });
            }
            if self.stage == Stage::Evaluate {
                check_evaluation_results(&output.path)?;
            }
        }
        let undigested: Vec<String> = self
            .inputs
            .iter()
            .filter(|i| i.is_undigested())
            .map(|i| format!("{}={}", i.role, i.reference()))
            .collect();
        let mut warnings = Vec::new();
        if !undigested.is_empty() {
            if !self.allow_undigested {
                return Err(ProvenanceError::Undigested { inputs: undigested });
            }
            warnings.push(format!(
                "recording {} without a digest ({}): graph tools (GUAC among them) drop such inputs, and no verifier can check them",
                if undigested.len() == 1 { "an input" } else { "inputs" },
                undigested.join(", ")
            ));
        }
        // The stage's needs are checked on the references, so a missing dataset is
        // reported before any input is hashed.
        let (started, finished) = self.times();
        let problems = predicate::stage_problems(
            self.stage,
            self.inputs.iter().map(|i| i.role),
            started,
            finished,
        );
        if !problems.is_empty() {
            return Err(ProvenanceError::StageInputs(problems));
        }
        Ok(warnings)
    }

    fn times(&self) -> (Timestamp, Timestamp) {
        // Whole seconds: a record says when a stage ran, not to the nanosecond.
        let now = Timestamp::from_second(Timestamp::now().as_second()).unwrap_or_default();
        let finished = self.finished.unwrap_or(now);
        (self.started.unwrap_or(finished.min(now)), finished)
    }

    /// Digests the outputs, each with its own settings (`output_settings`, in the order of
    /// the outputs: exclusions name paths inside one output), and the local inputs with
    /// `input_settings` (the walking rules of a model signature), giving the provenance's
    /// subjects and predicate.
    ///
    /// Images among them are read with default registry options
    /// ([`StageRecord::resolve_with`]).
    pub fn resolve(
        &self,
        output_settings: &[HashSettings],
        input_settings: &HashSettings,
        progress: &Progress,
    ) -> Result<(Vec<ModelSubject>, Provenance), ProvenanceError> {
        let resolved = self.resolve_with(
            output_settings,
            input_settings,
            &LazyRegistry::default(),
            progress,
        )?;
        Ok((resolved.subjects, resolved.provenance))
    }

    /// As [`StageRecord::resolve`], reading images from `registry` (made only when an
    /// input or output is an image): an image output's subject is its OMS root digest,
    /// with the pinned reference as its URI unless one was given.
    pub fn resolve_with(
        &self,
        output_settings: &[HashSettings],
        input_settings: &HashSettings,
        registry: &LazyRegistry,
        progress: &Progress,
    ) -> Result<ResolvedStage, ProvenanceError> {
        let mut subjects = Vec::with_capacity(self.outputs.len());
        let mut images = Vec::with_capacity(self.outputs.len());
        for (index, output) in self.outputs.iter().enumerate() {
            let (mut subject, image) = match output.image()? {
                Some(location) => {
                    let image = reference::resolve_image(&location, registry)?;
                    let mut subject = crate::oci::subject(&image, registry.get()?)?;
                    subject.uri = reference::pinned_uri(&image);
                    (subject, Some(image))
                }
                None => {
                    let settings = output_settings.get(index).unwrap_or(input_settings);
                    let subject = reference::digest_local(&output.path, settings, progress)?;
                    (subject, None)
                }
            };
            if output.uri.is_some() {
                subject.uri.clone_from(&output.uri);
            }
            subjects.push(subject);
            images.push(image);
        }
        let inputs = self
            .inputs
            .iter()
            .map(|input| input.resolve_with(input_settings, registry, progress))
            .collect::<Result<_, _>>()?;
        let (started, finished) = self.times();
        let provenance = Provenance {
            stage: self.stage,
            inputs,
            parameters: self.parameters.clone(),
            builder_id: self
                .builder_id
                .clone()
                .unwrap_or_else(|| SELF_RECORDED_BUILDER.to_owned()),
            started,
            finished,
        };
        Ok(ResolvedStage {
            subjects,
            provenance,
            images,
        })
    }

    /// Where the provenance goes: `output_file` when given; else each output's claims
    /// file when `claims` says so (`Some(None)`: the output's own `claims.jsonl`,
    /// `Some(Some(file))`: that file, once); else [`default_path`] of each output.
    /// An image output, which has no folder, has its provenance in [`PROVENANCE_FILE`] in
    /// the current folder (one file for all of them), as `card sign` writes an image's card.
    pub fn stores(
        &self,
        output_file: Option<&Path>,
        claims: Option<Option<&Path>>,
    ) -> Vec<AttestationStore> {
        self.stores_of(output_file, claims, false)
    }

    /// Where the provenance goes when it is also attached (`attach`) beside each image
    /// output in its registry ([`attach_provenance`]): as [`StageRecord::stores`], except
    /// that attaching writes no file unless `output_file` or a claims file is given.
    /// Refuses what cannot work: attaching a local or layout-folder output (no registry
    /// holds it), an output's own claims file for an image (it has no folder).
    pub fn stores_with(
        &self,
        output_file: Option<&Path>,
        claims: Option<Option<&Path>>,
        attach: bool,
    ) -> Result<Vec<AttestationStore>, ProvenanceError> {
        for output in &self.outputs {
            let image = output.image()?;
            let shown = output.path.display();
            match (&image, attach) {
                (Some(ModelLocation::Registry(_)), _) | (_, false) => {}
                (Some(_), true) => return Err(ProvenanceError::Placement(format!(
                    "'{shown}' is an image layout folder, which has no registry to attach the provenance in: write the provenance to a file instead of attaching it"
                ))),
                (None, true) => return Err(ProvenanceError::Placement(format!(
                    "'{shown}' is a local output, and attaching puts the provenance beside each output in its registry: attach only oci:// image outputs (record local outputs as a stage of their own, without attaching)"
                ))),
            }
            if image.is_some() && claims == Some(None) {
                return Err(ProvenanceError::Placement(format!(
                    "'{shown}' is an image, which has no folder to keep a claims file in: name the claims file, or write the provenance to a file"
                )));
            }
        }
        Ok(self.stores_of(output_file, claims, attach))
    }

    fn stores_of(
        &self,
        output_file: Option<&Path>,
        claims: Option<Option<&Path>>,
        attach: bool,
    ) -> Vec<AttestationStore> {
        if let Some(file) = output_file {
            return vec![AttestationStore::File(file.to_path_buf())];
        }
        if let Some(Some(file)) = claims {
            return vec![AttestationStore::Claims(file.to_path_buf())];
        }
        let mut stores = Vec::new();
        for output in &self.outputs {
            let store = if output.is_image() {
                if attach {
                    continue;
                }
                AttestationStore::File(PathBuf::from(PROVENANCE_FILE))
            } else {
                AttestationStore::choose(&output.path, &default_path(&output.path), claims)
            };
            if !stores.contains(&store) {
                stores.push(store);
            }
        }
        stores
    }

    /// Refuses, before anything slow, a store the provenance could not be written to:
    /// among others, a file that would replace a file of any output.
    pub fn check_writable(&self, stores: &[AttestationStore]) -> Result<(), ProvenanceError> {
        for store in stores {
            for output in &self.outputs {
                store
                    .check_writable(&output.path)
                    .map_err(|e| ProvenanceError::Attestation(e.into()))?;
            }
        }
        Ok(())
    }
}

/// A stage with its outputs and inputs digested ([`StageRecord::resolve_with`]).
#[derive(Debug, Clone)]
pub struct ResolvedStage {
    /// The outputs: the provenance's subjects.
    pub subjects: Vec<ModelSubject>,
    /// The provenance to sign.
    pub provenance: Provenance,
    /// The image each output is, in the order of the outputs (`None` for a local output).
    pub images: Vec<Option<ResolvedImage>>,
}

/// Stores the signed provenance `bundle` beside each image output of `stage` in its
/// registry: a referrer of artifact type `application/vnd.modelsign.provenance.v1`, or
/// under the tag `sha256-<hex>.provenance` ([`crate::oci::attach`]). In the order of the
/// outputs; local outputs are skipped ([`StageRecord::stores_with`] refuses them first).
pub fn attach_provenance(
    stage: &ResolvedStage,
    bundle: &Bundle,
    registry: &LazyRegistry,
    mode: AttachMode,
) -> Result<Vec<Attached>, ProvenanceError> {
    let json = bundle.to_json();
    let mut attached = Vec::new();
    for image in stage.images.iter().flatten() {
        attached.push(crate::oci::attach(
            registry.get()?,
            image,
            &json,
            Attachment::Provenance,
            mode,
        )?);
    }
    Ok(attached)
}

/// Signs a stage's provenance about `subjects` and writes it to every store, each
/// atomically (check them first with [`StageRecord::check_writable`]).
pub fn sign_provenance_into(
    subjects: &[ModelSubject],
    provenance: &Provenance,
    signer: &dyn Signer,
    stores: &[AttestationStore],
) -> Result<Bundle, ProvenanceError> {
    let bundle = attestation::sign_attestation_about(subjects, provenance, signer)?;
    for store in stores {
        store
            .write(&bundle)
            .map_err(|e| ProvenanceError::Attestation(e.into()))?;
    }
    Ok(bundle)
}

/// A local copy of an input, to check against the recorded digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputCheck {
    /// The role it is recorded with.
    pub role: Role,
    /// The copy.
    pub path: PathBuf,
}

impl InputCheck {
    /// Parses `ROLE=PATH`.
    pub fn parse(text: &str) -> Result<InputCheck, ProvenanceError> {
        let (role, path) = reference::split_role(text, "PATH", true)?;
        Ok(InputCheck {
            role,
            path: PathBuf::from(path),
        })
    }
}

/// What verification established about one recorded input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputStatus {
    /// A local copy was re-hashed and matches.
    Checked {
        /// The copy.
        path: PathBuf,
    },
    /// Signed with a digest, not re-checked here.
    Recorded,
    /// Taken from metadata (a model card): a claim, not verified by anyone.
    Claimed {
        /// Where it was claimed.
        by: String,
    },
    /// Recorded without a digest.
    Undigested,
}

impl InputStatus {
    /// What the provenance itself says of `input`, before any copy of it is re-hashed:
    /// signed with a digest, claimed from metadata, or recorded without a digest.
    pub fn as_recorded(input: &Input) -> InputStatus {
        match (&input.claimed_by, input.digest.is_empty()) {
            (Some(by), _) => InputStatus::Claimed { by: by.clone() },
            (None, true) => InputStatus::Undigested,
            (None, false) => InputStatus::Recorded,
        }
    }

    /// One word for the status: `checked`, `recorded`, `claimed` or `undigested`.
    pub fn name(&self) -> &'static str {
        match self {
            InputStatus::Checked { .. } => "checked",
            InputStatus::Recorded => "recorded",
            InputStatus::Claimed { .. } => "claimed",
            InputStatus::Undigested => "undigested",
        }
    }
}

/// A verified provenance.
#[derive(Debug, Clone)]
pub struct VerifiedProvenance {
    /// The attestation: the subject the model matched, every subject, the predicate, the
    /// signer.
    pub attestation: VerifiedAttestation<Provenance>,
    /// The status of each recorded input, in the provenance's order.
    pub inputs: Vec<InputStatus>,
}

/// Verifies a provenance: its signature (by `verifier`), that the model `binding` names is
/// one of its subjects, and that each local copy in `checks` hashes to a recorded input of
/// its role.
///
/// A check naming an image is read with default registry options
/// ([`verify_provenance_with`]).
pub fn verify_provenance(
    bundle: &Bundle,
    verifier: &dyn Verifier,
    binding: ModelBinding<'_>,
    checks: &[InputCheck],
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<VerifiedProvenance, ProvenanceError> {
    verify_provenance_with(
        bundle,
        verifier,
        binding,
        checks,
        &LazyRegistry::default(),
        max_workers,
        progress,
    )
}

/// As [`verify_provenance`], reading the images that checks name (`ROLE=oci://…`) from
/// `registry`: such a check matches a recorded input of the role with the image's OMS root
/// digest.
pub fn verify_provenance_with(
    bundle: &Bundle,
    verifier: &dyn Verifier,
    binding: ModelBinding<'_>,
    checks: &[InputCheck],
    registry: &LazyRegistry,
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<VerifiedProvenance, ProvenanceError> {
    let attestation = attestation::verify_attestation::<Provenance>(bundle, verifier, binding)?;
    let recorded = &attestation.predicate.inputs;
    let mut inputs: Vec<InputStatus> = recorded.iter().map(InputStatus::as_recorded).collect();
    for check in checks {
        let matched = check_input(recorded, check, registry, max_workers, progress)?;
        inputs[matched] = InputStatus::Checked {
            path: check.path.clone(),
        };
    }
    Ok(VerifiedProvenance {
        attestation,
        inputs,
    })
}

/// Verifies the provenance in `stored` ([`verify_provenance`]): the bundle file's, or the
/// newest provenance in a claims file that verifies.
pub fn verify_stored_provenance(
    stored: &StoredAttestations,
    verifier: &dyn Verifier,
    binding: ModelBinding<'_>,
    checks: &[InputCheck],
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<VerifiedProvenance, ProvenanceError> {
    verify_stored_provenance_with(
        stored,
        verifier,
        binding,
        checks,
        &LazyRegistry::default(),
        max_workers,
        progress,
    )
}

/// As [`verify_stored_provenance`], reading images that checks name from `registry`.
pub fn verify_stored_provenance_with(
    stored: &StoredAttestations,
    verifier: &dyn Verifier,
    binding: ModelBinding<'_>,
    checks: &[InputCheck],
    registry: &LazyRegistry,
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<VerifiedProvenance, ProvenanceError> {
    stored
        .verify_first(SLSA_PROVENANCE_V1, |bundle| {
            verify_provenance_with(
                bundle,
                verifier,
                binding,
                checks,
                registry,
                max_workers,
                progress,
            )
        })
        .map_err(|e| match e {
            NotVerified::Failed(e) => e,
            NotVerified::NoClaim { path } => ProvenanceError::NoClaim { path },
            NotVerified::NoClaimVerifies {
                path,
                line,
                tried,
                error,
            } => ProvenanceError::NoClaimVerifies {
                path,
                line,
                tried,
                source: Box::new(error),
            },
        })
}

/// The index of the recorded input `check` matches.
fn check_input(
    recorded: &[Input],
    check: &InputCheck,
    registry: &LazyRegistry,
    max_workers: Option<usize>,
    progress: &Progress,
) -> Result<usize, ProvenanceError> {
    let of_role: Vec<(usize, &Input)> = recorded
        .iter()
        .enumerate()
        .filter(|(_, input)| input.role == check.role)
        .collect();
    let describe = |input: &Input| match input.digest.get("sha256") {
        Some(hex) => format!("sha256:{hex} ({})", input.label()),
        None => input.label(),
    };
    if of_role.is_empty() {
        let mut roles: Vec<String> = recorded.iter().map(|i| i.role.to_string()).collect();
        roles.dedup();
        return Err(ProvenanceError::NoInputOfRole {
            role: check.role.to_string(),
            path: check.path.clone(),
            recorded: roles,
        });
    }
    // Described only for the errors: a matching input needs no list.
    let recorded_of_role = || of_role.iter().map(|(_, input)| describe(input)).collect();
    let image = reference::image_location(&check.path.to_string_lossy()).map_err(|reason| {
        ProvenanceError::BadInput {
            input: format!("{}={}", check.role, check.path.display()),
            reason,
        }
    })?;
    if let Some(location) = image {
        // An image is named by the root digest of its manifest: no hashing settings to
        // follow, so any recorded OMS root digest of the role can match it.
        let digests: Vec<(usize, [u8; 32])> = of_role
            .iter()
            .filter_map(|(index, input)| Some((*index, input.root_digest()?)))
            .collect();
        if digests.is_empty() {
            return Err(ProvenanceError::InputNotCheckable {
                role: check.role.to_string(),
                path: check.path.clone(),
                recorded: recorded_of_role(),
            });
        }
        let image = reference::resolve_image(&location, registry)?;
        let found = crate::oci::subject(&image, registry.get()?)?.root_digest;
        return match digests.iter().find(|(_, digest)| *digest == found) {
            Some((index, _)) => Ok(*index),
            None => Err(ProvenanceError::InputChanged {
                role: check.role.to_string(),
                path: check.path.clone(),
                found: format!(
                    "{} (image manifest {})",
                    sha256_string(&found),
                    image.manifest.digest
                ),
                recorded: recorded_of_role(),
            }),
        };
    }
    // The inputs of the role that can be re-hashed, and where each is among the recorded.
    let (indexes, subjects): (Vec<usize>, Vec<_>) = of_role
        .iter()
        .filter_map(|(index, input)| input.as_subject().map(|subject| (*index, subject)))
        .unzip();
    let rehashed = attestation::rehash_against(&subjects, &check.path, max_workers, progress)
        .map_err(|source| ProvenanceError::Hash {
            path: check.path.clone(),
            source,
        })?;
    match rehashed {
        Rehashed::Is(at) => Ok(indexes[at]),
        Rehashed::IsNone(digest) => Err(ProvenanceError::InputChanged {
            role: check.role.to_string(),
            path: check.path.clone(),
            found: sha256_string(&digest),
            recorded: recorded_of_role(),
        }),
        Rehashed::NoSubjects => Err(ProvenanceError::InputNotCheckable {
            role: check.role.to_string(),
            path: check.path.clone(),
            recorded: recorded_of_role(),
        }),
    }
}

/// Checks that an evaluate stage's output is evaluation results a model card imports.
fn check_evaluation_results(path: &Path) -> Result<(), ProvenanceError> {
    let not_results = |reason: String| ProvenanceError::NotEvaluationResults {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(not_results("it is not a file".into()));
    }
    match crate::card::import_evaluations(path) {
        Ok(metrics) if metrics.is_empty() => Err(not_results("it holds no results".into())),
        Ok(_) => Ok(()),
        Err(e) => Err(not_results(e.to_string())),
    }
}

#[cfg(test)]
mod tests;
