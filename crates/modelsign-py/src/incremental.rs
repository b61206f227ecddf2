//! `sign`'s options for signing without re-hashing everything, as the CLI's `--reuse`,
//! `--changed`, `--changed-since-git`, `--stat-cache` and `--digests`: the library's
//! [`Incremental`] plan or [`DigestList`] built from them, and the report of what was
//! hashed and what taken as known.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use modelsign::hashing::DigestSources;
use modelsign::known_digests::DigestList;
use modelsign::reuse::{Changes, Earlier, Incremental, Reused};
use modelsign::stat_cache::StatCache;
use modelsign::{Bundle, KeyVerifier, SignedModel, Verifier};

use crate::errors::{bundle_error, InputError};
use crate::GivenVerifier;

/// The re-signing options of one `sign` call, as given.
pub(crate) struct Options {
    pub reuse: Option<PathBuf>,
    pub reuse_verifier: Option<GivenVerifier>,
    /// `Some(empty)`: nothing changed, as said (not the same as not saying).
    pub changed: Option<Vec<PathBuf>>,
    pub changed_since_git: Option<String>,
    pub stat_cache: bool,
    pub digests: Option<PathBuf>,
}

/// How one `sign` call signs.
pub(crate) enum Plan {
    /// Hash every file.
    Full,
    /// Take what it can from an earlier signature, or record the stat cache, or both.
    Incremental {
        /// Boxed: a bundle is large beside the other plans.
        earlier: Option<Box<(Bundle, EarlierVerifier, Changes)>>,
        record_stat_cache: Option<PathBuf>,
    },
    /// Sign these digests instead of hashing the files they list.
    Digests(PathBuf),
}

/// What verifies the earlier signature: the verifier given, or the signing key's own.
pub(crate) enum EarlierVerifier {
    Given(GivenVerifier),
    OwnKey(KeyVerifier),
}

impl EarlierVerifier {
    fn verifier(&self) -> &dyn Verifier {
        match self {
            EarlierVerifier::Given(given) => given.built().verifier.as_ref(),
            EarlierVerifier::OwnKey(key) => key,
        }
    }
}

impl Plan {
    /// The plan `options` describe; `own_key` is what verifies an earlier signature when no
    /// verifier is given (a key signer's own public key). Raises `InputError` for options
    /// that do not go together.
    pub(crate) fn of(
        py: Python<'_>,
        options: Options,
        own_key: Option<KeyVerifier>,
    ) -> PyResult<Plan> {
        let Options {
            reuse,
            reuse_verifier,
            changed,
            changed_since_git,
            stat_cache,
            digests,
        } = options;
        if reuse.is_none()
            && (changed.is_some() || changed_since_git.is_some() || reuse_verifier.is_some())
        {
            return Err(InputError::new_err(
                "changed, changed_since_git and reuse_verifier say how to reuse an earlier signature: give it as reuse",
            ));
        }
        if let Some(list) = digests {
            if reuse.is_some() || stat_cache {
                return Err(InputError::new_err(
                    "digests signs a list of known digests; it does not go with reuse or stat_cache",
                ));
            }
            return Ok(Plan::Digests(list));
        }
        if changed.is_some() && changed_since_git.is_some() {
            return Err(InputError::new_err(
                "give what changed as changed or as changed_since_git, not both",
            ));
        }
        let record_stat_cache = if stat_cache {
            Some(StatCache::default_dir().ok_or_else(|| {
                InputError::new_err(
                    "stat_cache needs a cache folder: set MODELSIGN_CACHE_DIR, XDG_CACHE_HOME or HOME to an absolute path",
                )
            })?)
        } else {
            None
        };
        let earlier = match reuse {
            None => None,
            Some(path) => {
                let Some(changes) =
                    Changes::first_given(changed_since_git, changed, record_stat_cache.as_deref())
                else {
                    return Err(InputError::new_err(
                        "reuse needs to know what changed since the earlier signature: give changed (paths), changed_since_git (a revision) or stat_cache=True",
                    ));
                };
                let verifier = match (reuse_verifier, own_key) {
                    (Some(given), _) => EarlierVerifier::Given(given),
                    (None, Some(own)) => EarlierVerifier::OwnKey(own),
                    (None, None) => {
                        return Err(InputError::new_err(
                            "say how to trust the earlier signature given as reuse with reuse_verifier (a verifying.Config with its verifier chosen); only key signers default to their own public key",
                        ))
                    }
                };
                let bundle = py.detach(|| Bundle::read(&path)).map_err(bundle_error)?;
                Some(Box::new((bundle, verifier, changes)))
            }
        };
        if earlier.is_none() && record_stat_cache.is_none() {
            return Ok(Plan::Full);
        }
        Ok(Plan::Incremental {
            earlier,
            record_stat_cache,
        })
    }

    /// The library's plan: for [`Plan::Incremental`], its earlier signature and stat cache;
    /// for the others, none (a plain sign).
    pub(crate) fn incremental(&self) -> Incremental<'_> {
        match self {
            Plan::Incremental {
                earlier,
                record_stat_cache,
            } => Incremental {
                earlier: earlier
                    .as_deref()
                    .map(|(bundle, verifier, changes)| Earlier {
                        bundle,
                        verifier: verifier.verifier(),
                        changes: changes.clone(),
                    }),
                record_stat_cache: record_stat_cache.clone(),
            },
            Plan::Full | Plan::Digests(_) => Incremental {
                earlier: None,
                record_stat_cache: None,
            },
        }
    }
}

/// What `sign` returns: the signature's root digest and resource count, how many files
/// (and bytes) were hashed and how many taken as known (from the earlier signature or the
/// list), renames, the stat cache recorded, and notes.
pub(crate) fn report<'py>(
    py: Python<'py>,
    signed: &SignedModel,
    reused: Option<&Reused>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("root_digest", signed.manifest.root_digest_string())?;
    dict.set_item("resources", signed.manifest.resources().len())?;
    let DigestSources {
        hashed_files,
        hashed_bytes,
        known_files,
        known_bytes,
    } = signed.sources;
    dict.set_item("hashed_files", hashed_files)?;
    dict.set_item("hashed_bytes", hashed_bytes)?;
    dict.set_item("known_files", known_files)?;
    dict.set_item("known_bytes", known_bytes)?;
    let renamed: Vec<(String, String)> = reused.map(|r| r.renamed.clone()).unwrap_or_default();
    dict.set_item("renamed", renamed)?;
    let recorded = reused
        .and_then(|r| r.recorded.clone())
        .map(|(path, files)| (path.into_os_string(), files));
    dict.set_item("stat_cache", recorded)?;
    let notes: Vec<String> = reused.map(|r| r.notes.clone()).unwrap_or_default();
    dict.set_item("notes", notes)?;
    Ok(dict)
}

/// The list of known digests at `path`, read with `settings`' algorithm.
pub(crate) fn read_digests(
    path: &std::path::Path,
    settings: &modelsign::HashSettings,
) -> Result<DigestList, modelsign::SignError> {
    modelsign::known_digests::read(path, settings.algorithm).map_err(Into::into)
}
