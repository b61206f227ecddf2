//! `modelsign_rs._native`: the modelsign library for Python. The functions take plain
//! data (paths, dicts), turn it into the library's settings and specs, and call the
//! library; every decision (which files, which digests, what verifies) is the library's.
//! The Python package (`python/modelsign_rs`) builds model_signing's API on top.
//!
//! The GIL is released while the work runs; a progress callback, and Ctrl-C, are served
//! from the calling thread meanwhile (see [`work`]).

mod errors;
mod policy;
mod settings;
mod work;

use std::ffi::OsString;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use modelsign::{Bundle, Manifest, VerifyOptions};

use errors::{bundle_error, hash_error, sign_error, spec_error, verify_error};
use errors::{InputError, ModelSigningError, VerificationError};
use work::run_detached;

/// Hashes the model at `model_path` as the `hashing` dict says, without signing.
///
/// Returns `{"model_name", "serialization", "root_digest", "resources"}`, the resources as
/// `(name, algorithm, digest)` tuples in the manifest's canonical order.
#[pyfunction]
#[pyo3(signature = (model_path, *, hashing, files_to_hash=None, max_workers=None, progress=None))]
fn hash<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    hashing: &Bound<'py, PyDict>,
    files_to_hash: Option<Vec<PathBuf>>,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let settings = settings::hash_settings(&model_path, hashing, max_workers)?;
    let manifest = run_detached(py, progress, |progress| match &files_to_hash {
        None => settings.hash_model_with_progress(&model_path, progress),
        Some(files) => settings.hash_files_with_progress(&model_path, files, progress),
    })?
    .map_err(|e| hash_error(e, &model_path))?;
    manifest_dict(py, &manifest)
}

fn manifest_dict<'py>(py: Python<'py>, manifest: &Manifest) -> PyResult<Bound<'py, PyDict>> {
    let algorithm = manifest.serialization().algorithm();
    let resources = PyList::empty(py);
    for resource in manifest.resources() {
        let digest = PyBytes::new(py, &resource.digest);
        resources.append(PyTuple::new(
            py,
            [
                resource.name.as_str().into_pyobject(py)?.into_any(),
                algorithm.into_pyobject(py)?.into_any(),
                digest.into_any(),
            ],
        )?)?;
    }
    let dict = PyDict::new(py);
    dict.set_item("model_name", manifest.model_name())?;
    dict.set_item(
        "serialization",
        settings::json_to_py(
            py,
            &modelsign::statement::serialization_value(manifest.serialization()),
        )?,
    )?;
    dict.set_item("root_digest", manifest.root_digest_string())?;
    dict.set_item("resources", resources)?;
    Ok(dict)
}

/// Hashes the model and writes its signature (a Sigstore bundle) to `signature_path`.
#[pyfunction]
#[pyo3(signature = (model_path, signature_path, *, signer, hashing, max_workers=None, progress=None))]
fn sign(
    py: Python<'_>,
    model_path: PathBuf,
    signature_path: PathBuf,
    signer: &Bound<'_, PyDict>,
    hashing: &Bound<'_, PyDict>,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<()> {
    let settings = settings::hash_settings(&model_path, hashing, max_workers)?;
    let spec = settings::signer_spec(signer)?;
    let built = py.detach(|| spec.build(&SignInOnly)).map_err(spec_error)?;
    let signer = built.signer;
    run_detached(py, progress, |progress| {
        modelsign::sign_model(
            &model_path,
            &settings,
            signer.as_ref(),
            &signature_path,
            progress,
        )
    })?
    .map_err(|e| sign_error(e, &model_path))?;
    Ok(())
}

/// What a Python caller can be asked: nothing on a terminal (model_signing asks for no
/// password or PIN), but a Sigstore signer given no identity token signs in through the
/// browser, as model_signing's does.
struct SignInOnly;

impl modelsign::spec::Prompter for SignInOnly {
    fn sign_in(
        &self,
        oidc_url: &str,
        sign_in: &modelsign::spec::SignIn,
    ) -> Option<Result<modelsign::IdentityTokenSecret, modelsign::SignError>> {
        Some(modelsign::IdentityTokenSecret::interactive(
            oidc_url,
            &sign_in.client_id,
            sign_in.force_oob,
        ))
    }
}

/// Verifies the model against its signature; returns a report, raises
/// `VerificationError` (or `InputError`, `FileNotFoundError`) otherwise.
#[pyfunction]
#[pyo3(signature = (model_path, signature_path, *, verifier, hashing=None, ignore_unsigned_files=false, max_workers=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn verify<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    signature_path: PathBuf,
    verifier: &Bound<'py, PyDict>,
    hashing: Option<&Bound<'py, PyDict>>,
    ignore_unsigned_files: bool,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (spec, log_fingerprints) = settings::verifier_spec(verifier)?;
    let hashing = hashing
        .map(|h| settings::hash_settings(&model_path, h, max_workers))
        .transpose()?;
    let built = py.detach(|| spec.build()).map_err(spec_error)?;
    let bundle = py
        .detach(|| Bundle::read(&signature_path))
        .map_err(bundle_error)?;
    let options = VerifyOptions {
        ignore_unsigned_files,
        signature_path: Some(signature_path.clone()),
        max_workers,
        hashing,
        // As model_signing: a signature cannot grant itself link following; the caller's
        // hashing config (`allow_symlinks`) is what opts in.
        honour_recorded_allow_symlinks: false,
        ..VerifyOptions::default()
    };
    let verifier = built.verifier;
    let report = run_detached(py, progress, |progress| {
        modelsign::verify_model(&model_path, &bundle, verifier.as_ref(), &options, progress)
    })?
    .map_err(|e| verify_error(py, e, &model_path))?;
    let dict = report_dict(py, &report)?;
    if log_fingerprints {
        dict.set_item("anchor_fingerprints", &built.anchor_fingerprints)?;
        dict.set_item(
            "signature_fingerprints",
            modelsign::CertificateVerifier::bundle_fingerprints(&bundle),
        )?;
    }
    Ok(dict)
}

/// A successful verification as `verify` returns it (`verifying.Config.verify`'s report).
fn report_dict<'py>(
    py: Python<'py>,
    report: &modelsign::VerificationReport,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("signed_model_name", &report.signed_model_name)?;
    dict.set_item("root_digest", &report.root_digest)?;
    dict.set_item(
        "serialization",
        settings::json_to_py(
            py,
            &modelsign::statement::serialization_value(&report.serialization),
        )?,
    )?;
    dict.set_item("resources", report.resources)?;
    dict.set_item("notes", &report.notes)?;
    dict.set_item("public_key_hint", &report.public_key_hint)?;
    let signer = match &report.signer {
        Some(s) => {
            let signer = PyDict::new(py);
            signer.set_item("identity", &s.identity)?;
            signer.set_item("issuer", &s.issuer)?;
            signer.set_item("signed_at", &s.signed_at)?;
            Some(signer)
        }
        None => None,
    };
    dict.set_item("signer", signer)?;
    Ok(dict)
}

/// The `modelsign` command (the wheel's console script): runs the command line `argv`
/// (default `sys.argv`) and returns its exit status. Ctrl-C and SIGTERM are taken over
/// here, as the command does, since this is a process of its own.
#[pyfunction]
#[pyo3(signature = (argv=None))]
fn cli_main(py: Python<'_>, argv: Option<Vec<OsString>>) -> PyResult<i32> {
    // Inside Python the process's own arguments are `python3 …/bin/modelsign …`: the
    // command line is sys.argv.
    let argv = match argv {
        Some(argv) => argv,
        None => py.import("sys")?.getattr("argv")?.extract()?,
    };
    let _ = modelsign::hashing::interrupt::stop_on_signals();
    Ok(i32::from(py.detach(|| modelsign_cli::run(argv))))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ModelSigningError", py.get_type::<ModelSigningError>())?;
    m.add("VerificationError", py.get_type::<VerificationError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(hash, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    policy::register(m)?;
    Ok(())
}
