//! The library's errors as Python exceptions: a missing file is `FileNotFoundError`,
//! unusable input (a key, a password, a trust root, a model that cannot be walked) `InputError`, a failed verification
//! `VerificationError` with what failed; the message is always the library's.

use std::error::Error;
use std::io;
use std::path::Path;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use modelsign::error::Classify;
use modelsign::error::WalkError;
use modelsign::spec::SpecError;
use modelsign::{BundleError, HashError, SignError, VerifyError};

create_exception!(
    modelsign_rs._native,
    ModelSigningError,
    PyException,
    "Signing or hashing failed (a device, a service, a file that changed while read)."
);
create_exception!(
    modelsign_rs._native,
    VerificationError,
    PyValueError,
    "The model or its signature does not verify. `kind` says which check failed; for \
`mismatch`, `changed`, `missing`, `extra`, `symlinks` and `unsupported` say how the files differ."
);
create_exception!(
    modelsign_rs._native,
    InputError,
    PyValueError,
    "An input is unusable: a malformed or encrypted key without its password, a bad option, \
a trust root that cannot be read, a model that cannot be walked (then `kind` and `path` say \
what and where)."
);

/// The I/O "not found" somewhere in the error's chain of causes.
fn not_found(error: &(dyn Error + 'static)) -> bool {
    let mut cause: Option<&(dyn Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::NotFound)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// FileNotFoundError, InputError, or `otherwise`, by the error's kind.
fn classified<E: Classify + 'static>(error: E, otherwise: fn(String) -> PyErr) -> PyErr {
    let message = error.to_string();
    if not_found(&error) {
        PyFileNotFoundError::new_err(message)
    } else if error.is_input_error() {
        InputError::new_err(message)
    } else {
        otherwise(message)
    }
}

fn signing_error(message: String) -> PyErr {
    ModelSigningError::new_err(message)
}

pub fn spec_error(error: SpecError) -> PyErr {
    // model_signing raises TypeError for an encrypted key without its password; the
    // package tells it apart by `kind`.
    let password_required = matches!(error, SpecError::PasswordRequired { .. });
    let exception = classified(error, signing_error);
    if password_required {
        let annotated =
            Python::attach(|py| exception.value(py).setattr("kind", "password_required"));
        if let Err(e) = annotated {
            return e;
        }
    }
    exception
}

/// A model that cannot be walked as model_signing would walk it, as `InputError` with the
/// `kind` and `path` model_signing's message is built from; `None` for other errors.
fn walk_error(walk: &WalkError, model_path: &Path) -> Option<PyErr> {
    let (kind, path) = match walk {
        WalkError::Symlink { path } | WalkError::ModelPathSymlink { path } => ("symlink", path),
        WalkError::ModelPath { path, .. } => ("model_path", path),
        WalkError::SpecialFile { path } => ("special_file", path),
        WalkError::NotInModel { path, .. } => ("not_in_model", path),
        // model_signing cannot tell a missing model path from any other unusable one.
        WalkError::Io { path, .. } if path == model_path => ("model_path", path),
        WalkError::Io { path, .. } => ("io", path),
        _ => return None,
    };
    let error = InputError::new_err(walk.to_string());
    let annotated = Python::attach(|py| -> PyResult<()> {
        let value = error.value(py);
        value.setattr("kind", kind)?;
        value.setattr("path", path.to_string_lossy())
    });
    Some(annotated.map(|()| error).unwrap_or_else(|e| e))
}

fn hash_walk_error(error: &HashError, model_path: &Path) -> Option<PyErr> {
    match error {
        HashError::Walk(walk) => walk_error(walk, model_path),
        _ => None,
    }
}

/// A failed signing of the model at `model_path`.
pub fn sign_error(error: SignError, model_path: &Path) -> PyErr {
    if let SignError::Hash(hash) = &error {
        if let Some(walk) = hash_walk_error(hash, model_path) {
            return walk;
        }
    }
    classified(error, signing_error)
}

/// A failed hashing of the model at `model_path`.
pub fn hash_error(error: HashError, model_path: &Path) -> PyErr {
    sign_error(error.into(), model_path)
}

/// An unreadable signature file; a malformed one fails verification (`kind` "bundle").
pub fn bundle_error(error: BundleError) -> PyErr {
    let message = error.to_string();
    if not_found(&error) {
        PyFileNotFoundError::new_err(message)
    } else if matches!(error, BundleError::Io { .. }) {
        InputError::new_err(message)
    } else {
        Python::attach(|py| verification_error(py, &message, "bundle").unwrap_or_else(|e| e))
    }
}

/// A short, stable name for each way verification fails.
pub fn verify_kind(error: &VerifyError) -> &'static str {
    match error {
        VerifyError::Bundle(_) => "bundle",
        VerifyError::Key(_) => "key",
        VerifyError::Certificate(_) => "certificate",
        VerifyError::Statement(_) => "statement",
        VerifyError::Hash(_) => "hash",
        VerifyError::WrongMethod { .. } => "wrong_method",
        VerifyError::KeyMismatch { .. } => "key_mismatch",
        VerifyError::NoSignature => "no_signature",
        VerifyError::BadSignature => "bad_signature",
        VerifyError::Mismatch(_) => "mismatch",
        VerifyError::IdentityMismatch { .. } => "identity_mismatch",
        VerifyError::IssuerMismatch { .. } => "issuer_mismatch",
        VerifyError::Sigstore { .. } | VerifyError::NoValidCertificateAuthority { .. } => {
            "sigstore"
        }
        VerifyError::TrustRoot(_) => "trust_root",
        _ => "other",
    }
}

fn verification_error(py: Python<'_>, message: &str, kind: &str) -> PyResult<PyErr> {
    let error = VerificationError::new_err(message.to_owned());
    let value = error.value(py);
    value.setattr("kind", kind)?;
    for list in ["missing", "extra", "symlinks", "unsupported"] {
        value.setattr(list, Vec::<String>::new())?;
    }
    value.setattr("changed", Vec::<Py<PyAny>>::new())?;
    value.setattr("model_name", py.None())?;
    Ok(error)
}

fn hex_bytes<'py>(py: Python<'py>, digest: &str) -> Bound<'py, PyBytes> {
    // The library writes these digests itself; an odd one stays visible as empty bytes.
    PyBytes::new(py, &base16ct::mixed::decode_vec(digest).unwrap_or_default())
}

/// `(name, algorithm, expected digest, actual digest)` of each changed resource.
pub fn changed_resources<'py>(
    py: Python<'py>,
    diff: &modelsign::ManifestDiff,
) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    diff.changed_digests
        .iter()
        .map(|c| {
            PyTuple::new(
                py,
                [
                    c.name.as_str().into_pyobject(py)?.into_any(),
                    c.algorithm.into_pyobject(py)?.into_any(),
                    hex_bytes(py, &c.expected).into_any(),
                    hex_bytes(py, &c.actual).into_any(),
                ],
            )
        })
        .collect()
}

/// A failed verification of the model at `model_path`.
pub fn verify_error(py: Python<'_>, error: VerifyError, model_path: &Path) -> PyErr {
    if let VerifyError::Hash(hash) = &error {
        if let Some(walk) = hash_walk_error(hash, model_path) {
            return walk;
        }
    }
    let message = error.to_string();
    if not_found(&error) {
        return PyFileNotFoundError::new_err(message);
    }
    if error.is_input_error() {
        return InputError::new_err(message);
    }
    let build = || -> PyResult<PyErr> {
        let exception = verification_error(py, &message, verify_kind(&error))?;
        let value = exception.value(py);
        value.setattr("model_name", modelsign::model::model_name(model_path).ok())?;
        if let VerifyError::Mismatch(diff) = &error {
            value.setattr("changed", changed_resources(py, diff)?)?;
            value.setattr("missing", &diff.missing)?;
            value.setattr("extra", &diff.extra)?;
            value.setattr("symlinks", &diff.symlinks)?;
            value.setattr("unsupported", &diff.unsupported)?;
        }
        Ok(exception)
    };
    build().unwrap_or_else(|e| e)
}

/// A card or provenance that could not be signed: bad input (the card, a reference, where
/// it goes), a missing file, or `ModelSigningError`.
pub fn attest_sign_error<E: Classify + 'static>(error: E) -> PyErr {
    classified(error, signing_error)
}

/// A card or provenance that does not verify, as `VerificationError` with `kind` (bad
/// input and missing files as for models).
pub fn attest_verify_error<E: Classify + 'static>(py: Python<'_>, error: &E, kind: &str) -> PyErr {
    let message = error.to_string();
    if not_found(error) {
        PyFileNotFoundError::new_err(message)
    } else if error.is_input_error() {
        InputError::new_err(message)
    } else {
        verification_error(py, &message, kind).unwrap_or_else(|e| e)
    }
}
