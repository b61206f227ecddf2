//! The Python dicts the package passes (hashing, signer, verifier) as the library's
//! settings and specs. Only conversion: a key the library has no use for is refused rather
//! than silently dropped, so a misspelt option is not taken for its default.

use std::path::{Path, PathBuf};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use modelsign::model::ignore_paths::resolve_ignore_paths;
use modelsign::spec::{
    CertificateFiles, IdentityMatch, KeySource, PrivateKeySpec, SecretSource, SignIn, SignerSpec,
    SigstoreSignerSpec, TokenSpec, VerifierSpec,
};
use modelsign::{
    HashAlgorithm, HashSettings, Serialization, ShardAlgorithmName, SingleFileName,
    UnverifiableCertificate, WalkOptions, DEFAULT_SHARD_SIZE,
};

use crate::errors::InputError;

/// A dict's entries, read by name; `None` values count as absent.
struct Entries<'py> {
    dict: Bound<'py, PyDict>,
    what: &'static str,
}

impl<'py> Entries<'py> {
    fn new(dict: &Bound<'py, PyDict>, what: &'static str, known: &[&str]) -> PyResult<Self> {
        for key in dict.keys() {
            let key: String = key.extract()?;
            if !known.contains(&key.as_str()) {
                return Err(PyTypeError::new_err(format!(
                    "unknown {what} option '{key}' (known: {})",
                    known.join(", ")
                )));
            }
        }
        Ok(Entries {
            dict: dict.clone(),
            what,
        })
    }

    fn get(&self, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.dict.get_item(key)?.filter(|v| !v.is_none()))
    }

    fn type_error(&self, key: &str, expected: &str) -> PyErr {
        PyTypeError::new_err(format!("{} option '{key}' must be {expected}", self.what))
    }

    fn string(&self, key: &str) -> PyResult<Option<String>> {
        self.get(key)?
            .map(|v| v.extract().map_err(|_| self.type_error(key, "a str")))
            .transpose()
    }

    fn required_string(&self, key: &str) -> PyResult<String> {
        self.string(key)?.ok_or_else(|| {
            PyTypeError::new_err(format!("{} option '{key}' is required", self.what))
        })
    }

    fn path(&self, key: &str) -> PyResult<Option<PathBuf>> {
        self.get(key)?
            .map(|v| v.extract().map_err(|_| self.type_error(key, "a path")))
            .transpose()
    }

    fn required_path(&self, key: &str) -> PyResult<PathBuf> {
        self.path(key)?.ok_or_else(|| {
            PyTypeError::new_err(format!("{} option '{key}' is required", self.what))
        })
    }

    fn paths(&self, key: &str) -> PyResult<Vec<PathBuf>> {
        match self.get(key)? {
            None => Ok(Vec::new()),
            // A lone str would otherwise be taken as a sequence of one-letter paths.
            Some(v) if v.is_instance_of::<PyString>() => {
                Err(self.type_error(key, "a list of paths, not a str"))
            }
            Some(v) => {
                let mut paths = Vec::new();
                for item in v.try_iter()? {
                    paths.push(
                        item?
                            .extract()
                            .map_err(|_| self.type_error(key, "a list of paths"))?,
                    );
                }
                Ok(paths)
            }
        }
    }

    fn flag(&self, key: &str, default: bool) -> PyResult<bool> {
        match self.get(key)? {
            None => Ok(default),
            Some(v) => v.extract().map_err(|_| self.type_error(key, "a bool")),
        }
    }

    fn number(&self, key: &str) -> PyResult<Option<u64>> {
        self.get(key)?
            .map(|v| {
                v.extract()
                    .map_err(|_| self.type_error(key, "a non-negative int"))
            })
            .transpose()
    }

    /// A secret given as bytes or str (a password).
    fn secret(&self, key: &str) -> PyResult<Option<SecretSource>> {
        let Some(value) = self.get(key)? else {
            return Ok(None);
        };
        let text = if let Ok(bytes) = value.cast::<PyBytes>() {
            String::from_utf8(bytes.as_bytes().to_vec()).map_err(|_| {
                InputError::new_err(format!("{} option '{key}' is not UTF-8", self.what))
            })?
        } else {
            value
                .extract()
                .map_err(|_| self.type_error(key, "bytes or a str"))?
        };
        Ok(Some(SecretSource::Value(text)))
    }
}

/// `{"method", "hash_type", "chunk_size", "shard_size", "allow_symlinks", "ignore_paths",
/// "ignore_git_paths"}` as the library's settings. `chunk_size` is accepted and unused:
/// digests do not depend on how a file is read, and the library picks its read sizes.
pub fn hash_settings(
    model_path: &Path,
    dict: &Bound<'_, PyDict>,
    max_workers: Option<usize>,
) -> PyResult<HashSettings> {
    let entries = Entries::new(
        dict,
        "hashing",
        &[
            "method",
            "hash_type",
            "chunk_size",
            "shard_size",
            "allow_symlinks",
            "ignore_paths",
            "ignore_git_paths",
        ],
    )?;
    let algorithm = match entries.string("hash_type")? {
        None => HashAlgorithm::default(),
        Some(name) => name.parse::<HashAlgorithm>().map_err(InputError::new_err)?,
    };
    let serialization = match entries.string("method")?.as_deref() {
        None | Some("files") => Serialization::Files,
        Some("shards") => Serialization::Shards {
            shard_size: entries.number("shard_size")?.unwrap_or(DEFAULT_SHARD_SIZE),
        },
        Some(other) => {
            return Err(InputError::new_err(format!(
                "unknown serialization method '{other}' (supported: files, shards)"
            )))
        }
    };
    entries.number("chunk_size")?;
    let (ignore, _outside_model) = resolve_ignore_paths(
        model_path,
        &entries.paths("ignore_paths")?,
        entries.flag("ignore_git_paths", true)?,
    )
    .map_err(|e| InputError::new_err(e.to_string()))?;
    Ok(HashSettings {
        algorithm,
        serialization,
        walk: WalkOptions {
            ignore,
            allow_symlinks: entries.flag("allow_symlinks", false)?,
            // What model_signing writes, and the only forms it verifies.
            single_file_name: SingleFileName::Dot,
            shard_algorithm_name: ShardAlgorithmName::HashTypeShardedSize,
            ..WalkOptions::default()
        },
        max_workers,
    })
}

fn private_key(entries: &Entries<'_>) -> PyResult<PrivateKeySpec> {
    Ok(PrivateKeySpec {
        key: KeySource::File(entries.required_path("private_key")?),
        password: entries.secret("password")?,
    })
}

fn certificates(entries: &Entries<'_>) -> PyResult<CertificateFiles> {
    Ok(CertificateFiles {
        signing_certificate: entries.required_path("signing_certificate")?,
        chain: entries.paths("certificate_chain")?,
        unverifiable: if entries.flag("allow_unverifiable_certificate", false)? {
            UnverifiableCertificate::SignAnyway
        } else {
            UnverifiableCertificate::Refuse
        },
    })
}

/// The signer dict (`method`: key, certificate, sigstore, pkcs11, pkcs11-certificate) as
/// the library's spec.
pub fn signer_spec(dict: &Bound<'_, PyDict>) -> PyResult<SignerSpec> {
    let method: String = dict
        .get_item("method")?
        .ok_or_else(|| PyTypeError::new_err("signer option 'method' is required"))?
        .extract()?;
    let spec = match method.as_str() {
        "key" => {
            let e = Entries::new(dict, "key signer", &["method", "private_key", "password"])?;
            SignerSpec::Key(private_key(&e)?)
        }
        "certificate" => {
            let e = Entries::new(
                dict,
                "certificate signer",
                &[
                    "method",
                    "private_key",
                    "password",
                    "signing_certificate",
                    "certificate_chain",
                    "allow_unverifiable_certificate",
                ],
            )?;
            SignerSpec::Certificate {
                key: private_key(&e)?,
                certificates: certificates(&e)?,
            }
        }
        "pkcs11" => {
            let e = Entries::new(
                dict,
                "PKCS#11 signer",
                &["method", "pkcs11_uri", "module_paths"],
            )?;
            SignerSpec::Pkcs11Key {
                uri: e.required_string("pkcs11_uri")?,
                module_directories: e.paths("module_paths")?,
            }
        }
        "pkcs11-certificate" => {
            let e = Entries::new(
                dict,
                "PKCS#11 certificate signer",
                &[
                    "method",
                    "pkcs11_uri",
                    "signing_certificate",
                    "certificate_chain",
                    "module_paths",
                    "allow_unverifiable_certificate",
                ],
            )?;
            SignerSpec::Pkcs11Certificate {
                uri: e.required_string("pkcs11_uri")?,
                certificates: certificates(&e)?,
                module_directories: e.paths("module_paths")?,
            }
        }
        "sigstore" => {
            let e = Entries::new(
                dict,
                "Sigstore signer",
                &[
                    "method",
                    "oidc_issuer",
                    "use_ambient_credentials",
                    "use_staging",
                    "force_oob",
                    "identity_token",
                    "client_id",
                    "client_secret",
                    "trust_config",
                ],
            )?;
            let defaults = SignIn::default();
            SignerSpec::Sigstore(SigstoreSignerSpec {
                use_staging: e.flag("use_staging", false)?,
                trust_config: e.path("trust_config")?,
                token: TokenSpec {
                    given: e.string("identity_token")?.map(SecretSource::Value),
                    ambient_credentials: e.flag("use_ambient_credentials", false)?,
                    sign_in: SignIn {
                        client_id: e.string("client_id")?.unwrap_or(defaults.client_id),
                        client_secret: e.string("client_secret")?,
                        force_oob: e.flag("force_oob", false)?,
                        oidc_issuer: e.string("oidc_issuer")?,
                    },
                },
            })
        }
        other => {
            return Err(InputError::new_err(format!(
                "unknown signing method '{other}' (supported: key, certificate, sigstore, pkcs11, pkcs11-certificate)"
            )))
        }
    };
    Ok(spec)
}

/// The verifier dict (`method`: key, certificate, sigstore) as the library's spec, and
/// whether the certificates' fingerprints are wanted in the report.
pub fn verifier_spec(dict: &Bound<'_, PyDict>) -> PyResult<(VerifierSpec, bool)> {
    let method: String = dict
        .get_item("method")?
        .ok_or_else(|| PyTypeError::new_err("verifier option 'method' is required"))?
        .extract()?;
    Ok(match method.as_str() {
        "key" => {
            let e = Entries::new(dict, "key verifier", &["method", "public_key"])?;
            (
                VerifierSpec::Key {
                    public_key: e.required_path("public_key")?,
                },
                false,
            )
        }
        "certificate" => {
            let e = Entries::new(
                dict,
                "certificate verifier",
                &["method", "certificate_chain", "log_fingerprints"],
            )?;
            (
                VerifierSpec::Certificate {
                    trust_anchors: e.paths("certificate_chain")?,
                },
                e.flag("log_fingerprints", false)?,
            )
        }
        "sigstore" => {
            let e = Entries::new(
                dict,
                "Sigstore verifier",
                &[
                    "method",
                    "identity",
                    "oidc_issuer",
                    "use_staging",
                    "trust_config",
                ],
            )?;
            (
                VerifierSpec::Sigstore {
                    use_staging: e.flag("use_staging", false)?,
                    trust_file: e.path("trust_config")?,
                    identity: IdentityMatch::Exact(e.required_string("identity")?),
                    issuer: e.required_string("oidc_issuer")?,
                },
                false,
            )
        }
        other => {
            return Err(InputError::new_err(format!(
                "unknown verification method '{other}' (supported: key, certificate, sigstore)"
            )))
        }
    })
}

/// A JSON value (the recorded serialization block) as Python objects.
pub fn json_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u.into_pyobject(py)?.into_any(),
            (None, Some(i)) => i.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}
