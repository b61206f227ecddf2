//! Model cards and stage provenance for Python: the same library calls, in the same order,
//! as `modelsign card sign|verify` and `modelsign provenance record|verify` make, with the
//! signer, verifier and hashing taken from the package's config dicts. Results come back
//! as plain data (dicts, and a card's renderings as text) for the Python side to wrap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use modelsign::attestation::{AttestationStore, ModelBinding, ModelSubject, SubjectSource};
use modelsign::card::{self, Format, ModelCard, Policy, VerifiedCard};
use modelsign::error::{AttestationError, ProvenanceError};
use modelsign::provenance::{
    self, Input, InputCheck, InputStatus, Role, Stage, StageDescription, SELF_RECORDED_BUILDER,
};
use modelsign::CardError;

use crate::errors::{attest_sign_error, attest_verify_error, verify_kind, InputError};
use crate::settings::{self, json_to_py};
use crate::work::run_detached;
use crate::{GivenSigner, GivenVerifier};

/// Where an attestation is stored: a claims file when `use_claims` (the model's own
/// `claims.jsonl`, or `claims` when given), else its own `file`.
fn store_of(
    model_path: &Path,
    file: &Path,
    claims: Option<&Path>,
    use_claims: bool,
) -> AttestationStore {
    let claims = match (claims, use_claims) {
        (Some(path), _) => Some(Some(path)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    AttestationStore::choose(model_path, file, claims)
}

/// Signs the card (a YAML file) for the model, bound to its root digest, into
/// `signature_path` (default `model-card.sig`) or a claims file. Returns
/// `{"model", "root_digest", "card_signature", "metrics"}`.
#[pyfunction]
#[pyo3(signature = (model_path, card_path, *, signer, hashing, signature_path=None, claims=None, use_claims=false, model_signature=None, allow_custom_metrics=false, max_workers=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn sign_card<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    card_path: PathBuf,
    signer: &Bound<'py, PyAny>,
    hashing: &Bound<'py, PyDict>,
    signature_path: Option<PathBuf>,
    claims: Option<PathBuf>,
    use_claims: bool,
    model_signature: Option<PathBuf>,
    allow_custom_metrics: bool,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let settings = settings::hash_settings(&model_path, hashing, max_workers)?;
    // As the command: the card and where it goes are checked before anything slow
    // (hashing) or interactive (a sign-in) happens.
    let card = ModelCard::read(&card_path).map_err(attest_sign_error)?;
    card.validate(allow_custom_metrics)
        .map_err(attest_sign_error)?;
    let file = signature_path.unwrap_or_else(|| PathBuf::from(card::DEFAULT_SIGNATURE));
    let store = store_of(&model_path, &file, claims.as_deref(), use_claims);
    store
        .check_writable(&model_path)
        .map_err(|e| attest_sign_error(CardError::Attestation(e.into())))?;
    let given = GivenSigner::of(py, signer)?;
    let built = given.built();
    let subject = run_detached(py, progress, |progress| {
        let source = match &model_signature {
            Some(signature) => SubjectSource::OwnModelSignature {
                signature,
                key: built.public_key.as_ref(),
            },
            None => SubjectSource::Hash {
                model_path: &model_path,
                settings: &settings,
                progress,
            },
        };
        ModelSubject::establish(source)
    })?
    .map_err(|e| attest_sign_error(CardError::Attestation(e)))?;
    let signer = &built.signer;
    py.detach(|| {
        card::sign_card_into(
            &card,
            &subject,
            signer.as_ref(),
            allow_custom_metrics,
            &store,
        )
    })
    .map_err(attest_sign_error)?;
    let dict = PyDict::new(py);
    dict.set_item("model", &subject.name)?;
    dict.set_item("root_digest", subject.root_digest_string())?;
    dict.set_item("card_signature", store.path())?;
    dict.set_item("metrics", card.metrics.len())?;
    Ok(dict)
}

/// Drafts a card (`modelsign card init`) from what the model folder says (a Hugging Face
/// README's front matter, evaluation results, config.json) and the model's root digest,
/// adding the results of each `evals` file. Returns `{"yaml", "model", "root_digest",
/// "metrics", "datasets", "notes", "unknown_metrics"}`; the caller writes the YAML.
#[pyfunction]
#[pyo3(signature = (model_path, *, hashing, evals=Vec::new(), max_workers=None, progress=None))]
pub fn draft_card<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    hashing: &Bound<'py, PyDict>,
    evals: Vec<PathBuf>,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let settings = settings::hash_settings(&model_path, hashing, max_workers)?;
    let mut draft = run_detached(py, progress, |progress| {
        card::draft(&model_path, &settings, progress)
    })?
    .map_err(attest_sign_error)?;
    for file in &evals {
        let metrics = card::import_evaluations(file).map_err(attest_sign_error)?;
        draft.card.metrics.extend(metrics);
    }
    let dict = PyDict::new(py);
    dict.set_item("yaml", draft.card.to_yaml())?;
    dict.set_item("model", &draft.card.name)?;
    dict.set_item("root_digest", draft.subject.root_digest_string())?;
    dict.set_item("metrics", draft.card.metrics.len())?;
    dict.set_item("datasets", draft.card.datasets.len())?;
    dict.set_item("notes", &draft.notes)?;
    dict.set_item("unknown_metrics", draft.card.unknown_metrics())?;
    Ok(dict)
}

/// A short, stable name for each way a card fails to verify.
fn card_kind(error: &CardError) -> &'static str {
    match error {
        CardError::WrongModel { .. } => "wrong_model",
        CardError::NotACard(_) => "not_a_card",
        CardError::Verify(e) | CardError::Attestation(AttestationError::Verify(e)) => {
            verify_kind(e)
        }
        CardError::NoClaimVerifies { source, .. } => card_kind(source),
        // The model against its own signature: how that failed (a "mismatch", ...).
        CardError::Attestation(AttestationError::ModelSignatureFails { source, .. }) => {
            verify_kind(source)
        }
        _ => "other",
    }
}

/// What a front end renders a card as, by the name the command's `--format` takes.
const FORMATS: [(&str, Format); 5] = [
    ("text", Format::Text),
    ("markdown", Format::Markdown),
    ("html", Format::Html),
    ("json", Format::Json),
    ("cyclonedx", Format::Cyclonedx),
];

/// Verifies the stored card: its signature, that it is about this model (re-hashed, or
/// the one `model_signature` covers, verified with the same verifier), and each policy.
/// Returns the library's JSON report with `notes`, `unmet_policies` (the failure message
/// when a policy fails, else None) and `renderings` (one per format); a card that fails a
/// policy is returned, not raised: the caller decides.
#[pyfunction]
#[pyo3(signature = (model_path, *, verifier, card_signature=None, claims=None, use_claims=false, model_signature=None, require=Vec::new(), max_workers=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn verify_card<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    verifier: &Bound<'py, PyAny>,
    card_signature: Option<PathBuf>,
    claims: Option<PathBuf>,
    use_claims: bool,
    model_signature: Option<PathBuf>,
    require: Vec<String>,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    // Policies first: a typo is reported before a key is read or a model hashed.
    let policies = require
        .iter()
        .map(|p| Policy::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| InputError::new_err(e.to_string()))?;
    let given = GivenVerifier::of(py, verifier)?;
    let trusted = given.trusted();
    let built = given.built();
    let file = card_signature.unwrap_or_else(|| PathBuf::from(card::DEFAULT_SIGNATURE));
    let stored = py
        .detach(|| store_of(&model_path, &file, claims.as_deref(), use_claims).read())
        .map_err(|e| {
            let error = CardError::Attestation(e.into());
            attest_verify_error(py, &error, card_kind(&error))
        })?;
    let verifier = &built.verifier;
    let verified = run_detached(py, progress, |progress| {
        let subject = match &model_signature {
            Some(model_signature) => Some(
                ModelSubject::of_model_signature_check(
                    &model_path,
                    model_signature,
                    verifier.as_ref(),
                    max_workers,
                    progress,
                )
                .map_err(CardError::Attestation)?,
            ),
            None => None,
        };
        let binding = match &subject {
            Some(subject) => ModelBinding::Known(subject),
            None => ModelBinding::Rehash {
                model_path: &model_path,
                max_workers,
                progress,
            },
        };
        card::verify_stored_card(&stored, verifier.as_ref(), binding, &policies)
    })?
    .map_err(|e| attest_verify_error(py, &e, card_kind(&e)))?;
    card_report(py, &verified, trusted)
}

fn card_report<'py>(
    py: Python<'py>,
    verified: &VerifiedCard,
    trusted: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let status = verified.status_line(trusted);
    let report = json_to_py(py, &card::json_report(verified, &status))?.cast_into::<PyDict>()?;
    report.set_item("notes", &verified.notes)?;
    report.set_item("unmet_policies", verified.unmet_policies(&status))?;
    let renderings = PyDict::new(py);
    for (name, format) in FORMATS {
        renderings.set_item(name, card::render(format, verified, &status))?;
    }
    report.set_item("renderings", renderings)?;
    Ok(report)
}

/// The stage by its name, refused with the names there are.
fn stage_named(name: &str) -> PyResult<Stage> {
    Stage::parse(name).ok_or_else(|| {
        InputError::new_err(format!(
            "unknown stage '{name}' (stages: {})",
            Stage::ALL.map(Stage::name).join(", ")
        ))
    })
}

/// Records a pipeline stage: digests its outputs and local inputs and signs its SLSA
/// provenance beside each output (or into `output_file`, or the claims files). The
/// outputs and inputs are text as the command's `--output` and `--input` take them.
/// Returns `{"stage", "build_type", "builder", "subjects", "inputs", "provenance",
/// "warnings"}`.
#[pyfunction]
#[pyo3(signature = (*, signer, hashing, stage=None, outputs=Vec::new(), inputs=Vec::new(), parameters=Vec::new(), builder_id=None, started=None, finished=None, allow_undigested=false, draft=None, output_file=None, claims=None, use_claims=false, max_workers=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn record_provenance<'py>(
    py: Python<'py>,
    signer: &Bound<'py, PyAny>,
    hashing: &Bound<'py, PyDict>,
    stage: Option<String>,
    outputs: Vec<String>,
    inputs: Vec<String>,
    parameters: Vec<(String, String)>,
    builder_id: Option<String>,
    started: Option<String>,
    finished: Option<String>,
    allow_undigested: bool,
    draft: Option<PathBuf>,
    output_file: Option<PathBuf>,
    claims: Option<PathBuf>,
    use_claims: bool,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let record = StageDescription {
        stage: stage.as_deref().map(stage_named).transpose()?,
        draft,
        outputs,
        inputs,
        parameters,
        builder_id,
        started,
        finished,
        allow_undigested,
    }
    .record()
    .map_err(attest_sign_error)?;
    let warnings = record.check().map_err(attest_sign_error)?;
    let claims = match (&claims, use_claims) {
        (Some(path), _) => Some(Some(path.as_path())),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let stores = record.stores(output_file.as_deref(), claims);
    record.check_writable(&stores).map_err(attest_sign_error)?;
    let output_settings = record
        .outputs
        .iter()
        .map(|output| settings::hash_settings(&output.path, hashing, max_workers))
        .collect::<PyResult<Vec<_>>>()?;
    // As the command: exclusions name paths inside an output; inputs are hashed by the
    // default rules.
    let input_hashing = hashing.copy()?;
    input_hashing.del_item("ignore_paths").ok();
    let input_settings = settings::hash_settings(Path::new("."), &input_hashing, max_workers)?;
    let given = GivenSigner::of(py, signer)?;
    let built = given.built();
    let (subjects, provenance) = run_detached(py, progress, |progress| {
        record.resolve(&output_settings, &input_settings, progress)
    })?
    .map_err(attest_sign_error)?;
    let signer = &built.signer;
    py.detach(|| {
        provenance::sign_provenance_into(&subjects, &provenance, signer.as_ref(), &stores)
    })
    .map_err(attest_sign_error)?;
    let dict = PyDict::new(py);
    dict.set_item("stage", provenance.stage.name())?;
    dict.set_item("build_type", provenance.stage.build_type())?;
    dict.set_item("builder", &provenance.builder_id)?;
    dict.set_item("subjects", subjects_list(py, &subjects)?)?;
    let inputs = PyList::empty(py);
    for input in &provenance.inputs {
        inputs.append(input_dict(py, input, &InputStatus::as_recorded(input))?)?;
    }
    dict.set_item("inputs", inputs)?;
    let written: Vec<&Path> = stores.iter().map(AttestationStore::path).collect();
    dict.set_item("provenance", written)?;
    dict.set_item("warnings", warnings)?;
    Ok(dict)
}

fn subject_dict<'py>(py: Python<'py>, subject: &ModelSubject) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("name", &subject.name)?;
    dict.set_item("root_digest", subject.root_digest_string())?;
    dict.set_item("uri", &subject.uri)?;
    Ok(dict)
}

fn subjects_list<'py>(py: Python<'py>, subjects: &[ModelSubject]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for subject in subjects {
        list.append(subject_dict(py, subject)?)?;
    }
    Ok(list)
}

fn input_dict<'py>(
    py: Python<'py>,
    input: &Input,
    status: &InputStatus,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("role", input.role.name())?;
    dict.set_item("name", &input.name)?;
    dict.set_item("uri", &input.uri)?;
    dict.set_item("label", input.label())?;
    dict.set_item("digest", &input.digest)?;
    dict.set_item("claimed_by", &input.claimed_by)?;
    dict.set_item("status", status.name())?;
    let checked_against = match status {
        InputStatus::Checked { path } => Some(path.clone()),
        _ => None,
    };
    dict.set_item("checked_against", checked_against)?;
    Ok(dict)
}

/// A short, stable name for each way a provenance fails to verify.
fn provenance_kind(error: &ProvenanceError) -> &'static str {
    match error {
        ProvenanceError::WrongModel { .. } | ProvenanceError::NotAnOutput { .. } => "wrong_model",
        ProvenanceError::InputChanged { .. } => "input_changed",
        ProvenanceError::NoInputOfRole { .. } => "no_input_of_role",
        ProvenanceError::InputNotCheckable { .. } => "input_not_checkable",
        ProvenanceError::NotAProvenance { .. } | ProvenanceError::UnknownStage(_) => {
            "not_a_provenance"
        }
        ProvenanceError::Invalid(_) => "invalid",
        ProvenanceError::Attestation(AttestationError::Verify(e)) => verify_kind(e),
        ProvenanceError::NoClaimVerifies { source, .. } => provenance_kind(source),
        _ => "other",
    }
}

/// Verifies the model's provenance (default: [`provenance::default_path`] of the model,
/// as the command): its signature, that the model is one of its outputs, and that each
/// local copy in `check_inputs` (`(role, path)`) hashes to a recorded input of its role.
#[pyfunction]
#[pyo3(signature = (model_path, *, verifier, provenance_path=None, claims=None, use_claims=false, check_inputs=Vec::new(), max_workers=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn verify_provenance<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    verifier: &Bound<'py, PyAny>,
    provenance_path: Option<PathBuf>,
    claims: Option<PathBuf>,
    use_claims: bool,
    check_inputs: Vec<(String, PathBuf)>,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let checks = check_inputs
        .into_iter()
        .map(|(role, path)| {
            let role = Role::parse(&role).ok_or_else(|| {
                InputError::new_err(format!("unknown role '{role}' (roles: {})", Role::names()))
            })?;
            Ok(InputCheck { role, path })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let given = GivenVerifier::of(py, verifier)?;
    let built = given.built();
    let file = provenance_path.unwrap_or_else(|| provenance::default_path(&model_path));
    let stored = py
        .detach(|| store_of(&model_path, &file, claims.as_deref(), use_claims).read())
        .map_err(|e| {
            let error = ProvenanceError::Attestation(e.into());
            attest_verify_error(py, &error, provenance_kind(&error))
        })?;
    let verifier = &built.verifier;
    let verified = run_detached(py, progress, |progress| {
        provenance::verify_stored_provenance(
            &stored,
            verifier.as_ref(),
            ModelBinding::Rehash {
                model_path: &model_path,
                max_workers,
                progress,
            },
            &checks,
            max_workers,
            progress,
        )
    })?
    .map_err(|e| attest_verify_error(py, &e, provenance_kind(&e)))?;
    let attestation = &verified.attestation;
    let predicate = &attestation.predicate;
    let dict = PyDict::new(py);
    dict.set_item("stage", predicate.stage.name())?;
    dict.set_item("build_type", predicate.stage.build_type())?;
    dict.set_item("builder", &predicate.builder_id)?;
    dict.set_item(
        "self_recorded",
        predicate.builder_id == SELF_RECORDED_BUILDER,
    )?;
    dict.set_item("model", subject_dict(py, &attestation.subject)?)?;
    dict.set_item("subjects", subjects_list(py, &attestation.subjects)?)?;
    dict.set_item(
        "signer",
        crate::signer_dict(py, attestation.signer.as_ref())?,
    )?;
    dict.set_item("public_key_hint", &attestation.public_key_hint)?;
    let inputs = PyList::empty(py);
    for (input, status) in predicate.inputs.iter().zip(&verified.inputs) {
        inputs.append(input_dict(py, input, status)?)?;
    }
    dict.set_item("inputs", inputs)?;
    let parameters: &BTreeMap<String, String> = &predicate.parameters;
    dict.set_item("parameters", parameters)?;
    dict.set_item("started", predicate.started.to_string())?;
    dict.set_item("finished", predicate.finished.to_string())?;
    dict.set_item("notes", &attestation.notes)?;
    Ok(dict)
}
