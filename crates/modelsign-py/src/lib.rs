//! `modelsign_rs._native`: the modelsign library for Python. The functions take plain
//! data (paths, dicts), turn it into the library's settings and specs, and call the
//! library; every decision (which files, which digests, what verifies) is the library's.
//! The Python package (`python/modelsign_rs`) builds model_signing's API on top.
//!
//! The GIL is released while the work runs; a progress callback, and Ctrl-C, are served
//! from the calling thread meanwhile (see [`work`]).

mod attest;
mod errors;
mod incremental;
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

/// A signer built from a signer dict when it was configured: its key read (and a PKCS#11
/// token logged in to) once, as model_signing's `use_*` methods do, so their errors are
/// raised there and `sign` uses the key as it was then.
#[pyclass(frozen, module = "modelsign_rs._native")]
pub(crate) struct PreparedSigner {
    built: modelsign::spec::BuiltSigner,
    /// What verifies an earlier signature this signer made, without more material: a key
    /// signer's own public key (`sign`'s `reuse`).
    own_key: Option<modelsign::KeyVerifier>,
}

/// Builds the signer a signer dict describes (see [`PreparedSigner`]).
#[pyfunction]
fn prepare_signer(py: Python<'_>, signer: &Bound<'_, PyDict>) -> PyResult<PreparedSigner> {
    let spec = settings::signer_spec(signer)?;
    let built = py.detach(|| spec.build(&SignInOnly)).map_err(spec_error)?;
    let own_key = built.own_key_verifier(&spec);
    Ok(PreparedSigner { built, own_key })
}

/// The signer a call is given: the [`PreparedSigner`] a `use_*` call built, or a signer
/// dict (Sigstore), built when the call needs it.
pub(crate) enum GivenSigner {
    Prepared(Py<PreparedSigner>),
    BuiltNow(PreparedSigner),
}

impl GivenSigner {
    pub(crate) fn of(py: Python<'_>, given: &Bound<'_, PyAny>) -> PyResult<Self> {
        match given.cast::<PreparedSigner>() {
            Ok(prepared) => Ok(GivenSigner::Prepared(prepared.clone().unbind())),
            Err(_) => Ok(GivenSigner::BuiltNow(prepare_signer(
                py,
                given.cast::<PyDict>()?,
            )?)),
        }
    }

    pub(crate) fn built(&self) -> &modelsign::spec::BuiltSigner {
        &self.prepared().built
    }

    /// The signer's own public key as a verifier, for a key signer.
    pub(crate) fn own_key(&self) -> Option<modelsign::KeyVerifier> {
        self.prepared().own_key.clone()
    }

    fn prepared(&self) -> &PreparedSigner {
        match self {
            GivenSigner::Prepared(prepared) => prepared.get(),
            GivenSigner::BuiltNow(prepared) => prepared,
        }
    }
}

/// The verifier a call is given: a [`PreparedVerifier`], or a verifier dict built now.
pub(crate) enum GivenVerifier {
    Prepared(Py<PreparedVerifier>),
    BuiltNow(PreparedVerifier),
}

impl GivenVerifier {
    pub(crate) fn of(py: Python<'_>, given: &Bound<'_, PyAny>) -> PyResult<Self> {
        match given.cast::<PreparedVerifier>() {
            Ok(prepared) => Ok(GivenVerifier::Prepared(prepared.clone().unbind())),
            Err(_) => Ok(GivenVerifier::BuiltNow(prepare_verifier(
                py,
                given.cast::<PyDict>()?,
            )?)),
        }
    }

    fn prepared(&self) -> &PreparedVerifier {
        match self {
            GivenVerifier::Prepared(prepared) => prepared.get(),
            GivenVerifier::BuiltNow(prepared) => prepared,
        }
    }

    pub(crate) fn built(&self) -> &modelsign::spec::BuiltVerifier {
        &self.prepared().built
    }

    pub(crate) fn trusted(&self) -> &str {
        &self.prepared().trusted
    }
}

/// Hashes the model and writes its signature (a Sigstore bundle) to `signature_path`.
/// `signer` is a [`PreparedSigner`] or a signer dict, built here (a Sigstore signer's
/// identity token is wanted only when signing). Should the progress callback raise, even
/// after the work is done, no signature is written.
///
/// Without re-hashing everything (see [`incremental`]): `reuse` names an earlier signature
/// whose digests of unchanged files are taken once it verifies with `reuse_verifier` (a
/// [`PreparedVerifier`] or verifier dict; a key signer's own public key by default), what
/// changed being `changed` (paths), `changed_since_git` (a revision) or the stat cache;
/// `stat_cache` records the files signed there; `digests` signs a list of known digests.
///
/// Returns what was signed and how: `{"root_digest", "resources", "hashed_files",
/// "hashed_bytes", "known_files", "known_bytes", "renamed", "stat_cache", "notes"}`.
#[pyfunction]
#[pyo3(signature = (
    model_path, signature_path, *, signer, hashing, max_workers=None, progress=None,
    reuse=None, reuse_verifier=None, changed=None, changed_since_git=None, stat_cache=false,
    digests=None,
))]
#[allow(clippy::too_many_arguments)]
fn sign<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    signature_path: PathBuf,
    signer: &Bound<'py, PyAny>,
    hashing: &Bound<'py, PyDict>,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
    reuse: Option<PathBuf>,
    reuse_verifier: Option<&Bound<'py, PyAny>>,
    changed: Option<Vec<PathBuf>>,
    changed_since_git: Option<String>,
    stat_cache: bool,
    digests: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let settings = settings::hash_settings(&model_path, hashing, max_workers)?;
    let given = GivenSigner::of(py, signer)?;
    let built = given.built();
    let options = incremental::Options {
        reuse,
        reuse_verifier: reuse_verifier
            .map(|v| GivenVerifier::of(py, v))
            .transpose()?,
        changed,
        changed_since_git,
        stat_cache,
        digests,
    };
    let plan = incremental::Plan::of(py, options, given.own_key())?;
    let signer = built.signer.as_ref();
    let fail = |e| sign_error(e, &model_path);
    let (signed, reused) = match &plan {
        incremental::Plan::Full => {
            let signed = run_detached(py, progress, |progress| {
                modelsign::sign_model_unwritten(
                    &model_path,
                    &settings,
                    signer,
                    &signature_path,
                    progress,
                )
            })?
            .map_err(fail)?;
            (signed, None)
        }
        incremental::Plan::Digests(list) => {
            let list = py
                .detach(|| incremental::read_digests(list, &settings))
                .map_err(fail)?;
            let signed = run_detached(py, progress, |progress| {
                modelsign::reuse::sign_model_from_digests_unwritten(
                    &model_path,
                    &settings,
                    signer,
                    &signature_path,
                    &list,
                    progress,
                )
            })?
            .map_err(fail)?;
            (signed, None)
        }
        incremental::Plan::Incremental { .. } => {
            let plan = plan.incremental();
            let reused = run_detached(py, progress, |progress| {
                modelsign::reuse::sign_model_incremental_unwritten(
                    &model_path,
                    &settings,
                    signer,
                    &signature_path,
                    &plan,
                    progress,
                )
            })?
            .map_err(fail)?;
            (reused.signed.clone(), Some(reused))
        }
    };
    py.detach(|| signed.bundle.write_atomic(&signature_path))
        .map_err(|e| sign_error(e.into(), &model_path))?;
    incremental::report(py, &signed, reused.as_ref())
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

/// A verifier built from a verifier dict when it was configured: its public key or trust
/// anchors read once, as model_signing's `use_*` methods do.
#[pyclass(frozen, module = "modelsign_rs._native")]
pub(crate) struct PreparedVerifier {
    built: modelsign::spec::BuiltVerifier,
    log_fingerprints: bool,
    /// What the verifier trusts, in the words verdicts use ("key.pub", "roots …").
    trusted: String,
}

/// Builds the verifier a verifier dict describes (see [`PreparedVerifier`]).
#[pyfunction]
fn prepare_verifier(py: Python<'_>, verifier: &Bound<'_, PyDict>) -> PyResult<PreparedVerifier> {
    let (spec, log_fingerprints) = settings::verifier_spec(verifier)?;
    let built = py.detach(|| spec.build()).map_err(spec_error)?;
    Ok(PreparedVerifier {
        built,
        log_fingerprints,
        trusted: spec.trust_description().to_owned(),
    })
}

/// Verifies the model against its signature; returns a report, raises
/// `VerificationError` (or `InputError`, `FileNotFoundError`) otherwise. `verifier` is a
/// [`PreparedVerifier`] or a verifier dict, built here. `files` verifies partially: the
/// signature and its whole manifest, but only these files hashed (`checked_files` in the
/// report).
#[pyfunction]
#[pyo3(signature = (model_path, signature_path, *, verifier, hashing=None, ignore_unsigned_files=false, max_workers=None, progress=None, files=None))]
#[allow(clippy::too_many_arguments)]
fn verify<'py>(
    py: Python<'py>,
    model_path: PathBuf,
    signature_path: PathBuf,
    verifier: &Bound<'py, PyAny>,
    hashing: Option<&Bound<'py, PyDict>>,
    ignore_unsigned_files: bool,
    max_workers: Option<usize>,
    progress: Option<Py<PyAny>>,
    files: Option<Vec<PathBuf>>,
) -> PyResult<Bound<'py, PyDict>> {
    let prepared = match verifier.cast::<PreparedVerifier>() {
        Ok(given) => given.clone().unbind(),
        Err(_) => Py::new(py, prepare_verifier(py, verifier.cast::<PyDict>()?)?)?,
    };
    let PreparedVerifier {
        built,
        log_fingerprints,
        ..
    } = prepared.get();
    let hashing = hashing
        .map(|h| settings::hash_settings(&model_path, h, max_workers))
        .transpose()?;
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
        only_files: files,
        ..VerifyOptions::default()
    };
    let verifier = built.verifier.as_ref();
    let report = run_detached(py, progress, |progress| {
        modelsign::verify_model(&model_path, &bundle, verifier, &options, progress)
    })?
    .map_err(|e| verify_error(py, e, &model_path))?;
    let dict = report_dict(py, &report)?;
    if *log_fingerprints {
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
    // Partial verification (`files`): the files hashed and compared, and their resources.
    dict.set_item("checked_files", &report.checked_files)?;
    dict.set_item("resources_checked", report.resources_checked)?;
    dict.set_item("notes", &report.notes)?;
    dict.set_item("public_key_hint", &report.public_key_hint)?;
    dict.set_item("signer", signer_dict(py, report.signer.as_ref())?)?;
    Ok(dict)
}

/// A verified signer identity as the reports give it (`identity`, `issuer`, `signed_at`),
/// or None where the method establishes none.
pub(crate) fn signer_dict<'py>(
    py: Python<'py>,
    signer: Option<&modelsign::verifying::SignerIdentity>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    signer
        .map(|s| {
            let dict = PyDict::new(py);
            dict.set_item("identity", &s.identity)?;
            dict.set_item("issuer", &s.issuer)?;
            dict.set_item("signed_at", &s.signed_at)?;
            Ok(dict)
        })
        .transpose()
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
    m.add_class::<PreparedSigner>()?;
    m.add_class::<PreparedVerifier>()?;
    m.add_function(wrap_pyfunction!(prepare_signer, m)?)?;
    m.add_function(wrap_pyfunction!(prepare_verifier, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    policy::register(m)?;
    m.add_function(wrap_pyfunction!(attest::draft_card, m)?)?;
    m.add_function(wrap_pyfunction!(attest::sign_card, m)?)?;
    m.add_function(wrap_pyfunction!(attest::verify_card, m)?)?;
    m.add_function(wrap_pyfunction!(attest::record_provenance, m)?)?;
    m.add_function(wrap_pyfunction!(attest::verify_provenance, m)?)?;
    Ok(())
}
