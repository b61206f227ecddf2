//! `claims.jsonl`: the signed statements about a model kept in one file beside it, one
//! Sigstore bundle per line, appended as they are signed, as sigstore/model-transparency
//! #587 proposes (the "unified bundle layout"). Each line stands alone: a claim is checked
//! by its own signature, the file as a whole is not signed, and the model's manifest leaves
//! the file out (see [`crate::model::ATTESTATION_FILE_PATTERNS`]) so appending to it never
//! changes the model that earlier claims are about.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::atomic_file::{shared_file_mode, StagedFile};
use crate::bundle::{self, Bundle};
use crate::error::BundleError;
pub use crate::error::ClaimsError;
use crate::limits;
use crate::{dsse, intoto};

/// The file's name beside (or in) the model.
pub const FILE_NAME: &str = "claims.jsonl";

/// One line of a claims file.
#[derive(Debug, Clone)]
pub struct Claim {
    /// Its line number, from 1 (blank lines count, so the number is the one an editor shows).
    pub line: usize,
    /// The bundle, not yet verified.
    pub bundle: Bundle,
    predicate_type: Option<String>,
}

impl Claim {
    /// The `predicateType` of the in-toto statement the bundle carries, as the unverified
    /// payload says: for choosing which claims to verify, never for trusting one.
    pub fn predicate_type(&self) -> Option<&str> {
        self.predicate_type.as_deref()
    }
}

/// The claims file of the model at `model_path`: `claims.jsonl` inside a directory model,
/// beside a single-file one.
pub fn default_path(model_path: &Path) -> PathBuf {
    if model_path.is_dir() {
        return model_path.join(FILE_NAME);
    }
    match model_path.parent() {
        Some(parent) => parent.join(FILE_NAME),
        None => PathBuf::from(FILE_NAME),
    }
}

/// Reads every claim of the file at `path`, in file order (oldest first). The file is
/// bounded like a signature ([`limits::MAX_SIGNATURE_FILE`]) and in its number of claims
/// ([`limits::MAX_CLAIMS`]); a line that is not a bundle fails the read, naming the line.
pub fn read(path: &Path) -> Result<Vec<Claim>, ClaimsError> {
    read_each_line(path)?.into_iter().collect()
}

/// Reads the claims file at `path` line by line: each line's claim, or why that line is not
/// one, so that one bad line costs only itself (an ingest takes in the others). The file as
/// a whole fails only when it cannot be read or holds too many claims.
pub fn read_each_line(path: &Path) -> Result<Vec<Result<Claim, ClaimsError>>, ClaimsError> {
    let bytes = limits::read_input_file(path, limits::MAX_SIGNATURE_FILE).map_err(|source| {
        ClaimsError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    parse(path, &bytes)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Result<Claim, ClaimsError>>, ClaimsError> {
    let mut claims = Vec::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if claims.len() == limits::MAX_CLAIMS {
            return Err(ClaimsError::TooMany {
                path: path.to_path_buf(),
                limit: limits::MAX_CLAIMS,
            });
        }
        claims.push(
            Bundle::from_json(line)
                .map(|bundle| {
                    let predicate_type = (bundle.envelope.payload_type == dsse::PAYLOAD_TYPE)
                        .then(|| intoto::read_predicate_type(&bundle.envelope.payload))
                        .flatten();
                    Claim {
                        line: index + 1,
                        bundle,
                        predicate_type,
                    }
                })
                .map_err(|source| ClaimsError::Line {
                    path: path.to_path_buf(),
                    line: index + 1,
                    source,
                }),
        );
    }
    Ok(claims)
}

/// The claims whose statement has `predicate_type`, newest (last appended) first.
pub fn of_predicate_type<'a>(
    claims: &'a [Claim],
    predicate_type: &'a str,
) -> impl Iterator<Item = &'a Claim> + 'a {
    claims
        .iter()
        .rev()
        .filter(move |claim| claim.predicate_type() == Some(predicate_type))
}

/// Why no claim of a predicate type verified.
#[derive(Debug)]
#[non_exhaustive]
pub enum Unverified<E> {
    /// The file holds no claim of that type.
    NoClaim,
    /// Every claim of that type failed; `error` is the newest one's.
    Failed {
        /// The newest claim's line.
        line: usize,
        /// How many claims of the type were tried.
        tried: usize,
        /// Why the newest claim failed to verify.
        error: E,
    },
}

/// Verifies the claims of `predicate_type` with `verify`, newest first, and returns the
/// first that verifies: a claim re-signed later (a corrected card) wins over the one it
/// replaces, and a claim by another signer in the same file does not stop one by the
/// expected signer from verifying.
pub fn first_verified<'a, T, E>(
    claims: &'a [Claim],
    predicate_type: &'a str,
    mut verify: impl FnMut(&Bundle) -> Result<T, E>,
) -> Result<(&'a Claim, T), Unverified<E>> {
    let mut newest_failure = None;
    let mut tried = 0;
    for claim in of_predicate_type(claims, predicate_type) {
        tried += 1;
        match verify(&claim.bundle) {
            Ok(verified) => return Ok((claim, verified)),
            Err(error) => {
                newest_failure.get_or_insert((claim.line, error));
            }
        }
    }
    match newest_failure {
        Some((line, error)) => Err(Unverified::Failed { line, tried, error }),
        None => Err(Unverified::NoClaim),
    }
}

/// Refuses, before anything slow happens, a claims file that [`append`] would refuse:
/// a path a bundle may not be written to, or an existing file that is not claims.
pub fn check_appendable(path: &Path) -> Result<(), ClaimsError> {
    existing(path).map(drop)
}

/// The existing file's bytes, claim count and mode, or nothing when there is no file.
fn existing(path: &Path) -> Result<Option<(Vec<u8>, usize, u32)>, ClaimsError> {
    bundle::check_target(path)?;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    let bytes = limits::read_input_file(path, limits::MAX_SIGNATURE_FILE).map_err(|source| {
        ClaimsError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    // A line that is not a bundle refuses the append: the file is not what it should be.
    let count = parse(path, &bytes)?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .len();
    Ok(Some((bytes, count, meta.permissions().mode() & 0o777)))
}

/// Appends `bundle` as a new last line of the claims file at `path` (created if missing)
/// and returns its line number. The whole file is rewritten to a temporary file and
/// renamed into place, so a reader sees the old file or the new one, never a half-written
/// line; a file with a line that is not a bundle is refused rather than extended. Two
/// writers at once are not serialised: the later rename wins.
pub fn append(path: &Path, bundle: &Bundle) -> Result<usize, ClaimsError> {
    let (mut contents, count, mode) =
        existing(path)?.unwrap_or((Vec::new(), 0, shared_file_mode()));
    if count >= limits::MAX_CLAIMS {
        return Err(ClaimsError::TooMany {
            path: path.to_path_buf(),
            limit: limits::MAX_CLAIMS,
        });
    }
    if contents.last().is_some_and(|b| *b != b'\n') {
        contents.push(b'\n');
    }
    // Compact JSON escapes every newline inside strings: the bundle is one line.
    contents.extend_from_slice(&bundle.to_json());
    contents.push(b'\n');
    if contents.len() as u64 > limits::MAX_SIGNATURE_FILE {
        return Err(ClaimsError::TooLarge {
            path: path.to_path_buf(),
            limit: limits::MAX_SIGNATURE_FILE,
        });
    }
    let line = contents.iter().filter(|b| **b == b'\n').count();
    let write_err = |source| ClaimsError::Write {
        path: path.to_path_buf(),
        source,
    };
    crate::hashing::interrupt::check().map_err(BundleError::from)?;
    let staged = StagedFile::write(path, ".modelsign-", &contents, mode).map_err(write_err)?;
    crate::hashing::interrupt::check().map_err(BundleError::from)?;
    staged.replace(path).map_err(write_err)?;
    Ok(line)
}

#[cfg(test)]
mod tests;
