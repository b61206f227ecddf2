//! Verification under a trust policy (the file `modelsign verify --policy` and the lineage
//! store read), for `verify_model_dir` and `hf.verify_snapshot`. A refusal is returned, not
//! raised: in mode `warn` the caller loads the model anyway and only reports why.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use modelsign::error::Classify;
use modelsign::model::ignore_paths::resolve_ignore_paths;
use modelsign::trust::{self, PolicyFailure, PolicyOutcome, PolicyVerifier, TrustPolicy};
use modelsign::{VerifyError, VerifyOptions};

use crate::errors::{changed_resources, InputError};
use crate::report_dict;
use crate::work::run_detached;

/// The names a policy's `names` patterns are matched against for the model at
/// `model_path`: a Hugging Face snapshot's `ORG/NAME` and `pkg:huggingface/ORG/NAME`, else
/// the model folder's (or file's) name.
#[pyfunction]
fn model_names(model_path: PathBuf) -> Vec<String> {
    trust::model_names(&model_path)
}

/// Verifies the model against its signature under the trust policy at `policy_path`.
/// `names` are what the policy's name patterns are matched against (default:
/// `model_names(model_path)`). Returns the outcome as a dict, accepted or not; raises
/// `InputError` only when the policy (or an ignore path) cannot be used.
#[pyfunction]
#[pyo3(signature = (model_path, policy_path, signature_path, names=None, ignore_paths=None, ignore_unsigned_files=false, max_workers=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn verify_with_policy<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    policy_path: PathBuf,
    signature_path: PathBuf,
    names: Option<Vec<String>>,
    ignore_paths: Option<Vec<PathBuf>>,
    ignore_unsigned_files: bool,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let verifier = py
        .detach(|| TrustPolicy::read(&policy_path).and_then(PolicyVerifier::new))
        .map_err(|e| InputError::new_err(e.to_string()))?;
    let names = names.unwrap_or_else(|| trust::model_names(&model_path));
    let (ignore, _outside_model) =
        resolve_ignore_paths(&model_path, &ignore_paths.unwrap_or_default(), true)
            .map_err(|e| InputError::new_err(e.to_string()))?;
    // The CLI's rules (a signature's recorded link following is honoured), so that a
    // policy gives the same verdict from Python as from `modelsign verify --policy`.
    let options = VerifyOptions {
        ignore,
        ignore_unsigned_files,
        signature_path: Some(signature_path.clone()),
        max_workers,
        ..VerifyOptions::default()
    };
    let outcome = run_detached(py, progress, |progress| {
        verifier.verify(&model_path, &signature_path, &names, &options, progress)
    })?;
    outcome_dict(py, outcome)
}

fn outcome_dict(py: Python<'_>, outcome: PolicyOutcome) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("accepted", outcome.accepted())?;
    dict.set_item("mode", outcome.mode.name())?;
    dict.set_item("signer", &outcome.signer)?;
    dict.set_item("names", &outcome.names)?;
    match &outcome.result {
        Ok(report) => {
            dict.set_item("report", report_dict(py, report)?)?;
            dict.set_item("failure", py.None())?;
        }
        Err(failure) => {
            dict.set_item("report", py.None())?;
            dict.set_item("failure", failure_dict(py, failure)?)?;
        }
    }
    Ok(dict)
}

/// `{"kind", "message", "input_error", "attempts", "changed", "missing", "extra",
/// "symlinks", "unsupported"}`; the lists are empty where the failure has none.
fn failure_dict<'py>(py: Python<'py>, failure: &PolicyFailure) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("kind", failure.kind_name())?;
    dict.set_item("message", failure.to_string())?;
    dict.set_item("input_error", failure.is_input_error())?;
    let attempts = PyList::empty(py);
    if let PolicyFailure::Untrusted { attempts: tried } = failure {
        for attempt in tried {
            attempts.append(PyList::new(py, [&attempt.signer, &attempt.reason])?)?;
        }
    }
    dict.set_item("attempts", attempts)?;
    let empty = Vec::<String>::new();
    let (changed, missing, extra, symlinks, unsupported) = match failure {
        PolicyFailure::Model(VerifyError::Mismatch(diff)) => (
            changed_resources(py, diff)?,
            &diff.missing,
            &diff.extra,
            &diff.symlinks,
            &diff.unsupported,
        ),
        _ => (Vec::new(), &empty, &empty, &empty, &empty),
    };
    dict.set_item("changed", changed)?;
    dict.set_item("missing", missing)?;
    dict.set_item("extra", extra)?;
    dict.set_item("symlinks", symlinks)?;
    dict.set_item("unsupported", unsupported)?;
    Ok(dict)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(model_names, m)?)?;
    m.add_function(wrap_pyfunction!(verify_with_policy, m)?)?;
    Ok(())
}
