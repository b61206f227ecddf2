//! Re-signing what changed: the digests of the files that did not change are taken from an
//! earlier signature of the model, verified first, and only the other files are hashed.
//!
//! Which files changed is the caller's word ([`Changes::Listed`]), git's
//! ([`Changes::SinceGit`]) or the stat cache's ([`Changes::StatCache`], see
//! [`crate::stat_cache`]). An earlier signature that does not verify is never used. A file
//! wrongly said to be unchanged is signed with its old digest, and the new signature then
//! fails verification naming that file: verification always hashes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::bundle::Bundle;
use crate::error::{KnownDigestsError, ReuseError, SignError};
use crate::hashing::{HashSettings, KnownDigests, Progress};
use crate::known_digests::DigestList;
use crate::manifest::{Manifest, ResourceDescriptor};
use crate::model::{relative_to_model, ModelFile};
use crate::signing::{self, SignedModel, Signer};
use crate::stat_cache::{self, FileStamp, StatCache};
use crate::statement;
use crate::verifying::{verify_statement_signature, VerifiedSignature, Verifier};

/// Which files changed since the earlier signature was made.
#[derive(Debug, Clone)]
pub enum Changes {
    /// These paths changed: files, or directories (every file under them), each relative
    /// to the model root or absolute inside it. Every other file the earlier signature
    /// lists did not change. A path that is gone was removed; that is fine.
    Listed(Vec<PathBuf>),
    /// What `git diff` reports between this revision (the one the earlier signature was
    /// made of) and the working tree of the repository the model lies in. Files git does
    /// not track count as changed, and a file git reports renamed without a change keeps
    /// its digest under its new name.
    SinceGit(String),
    /// What the stat cache in this folder says: a file whose size, times, inode and device
    /// are those recorded when the earlier signature's digests of it were made did not
    /// change (see [`crate::stat_cache`] for what that trusts).
    StatCache(PathBuf),
}

impl Changes {
    /// Which of the ways to tell the changes applies, the first given of: git's (`since_git`,
    /// a revision), the caller's (`listed`; an empty list says nothing changed) and the
    /// stat cache's (`stat_cache`, its folder). `None` when none is given.
    pub fn first_given(
        since_git: Option<String>,
        listed: Option<Vec<PathBuf>>,
        stat_cache: Option<&Path>,
    ) -> Option<Changes> {
        match (since_git, listed, stat_cache) {
            (Some(revision), _, _) => Some(Changes::SinceGit(revision)),
            (None, Some(paths), _) => Some(Changes::Listed(paths)),
            (None, None, Some(dir)) => Some(Changes::StatCache(dir.to_owned())),
            (None, None, None) => None,
        }
    }
}

/// How to re-sign: from which earlier signature, and whether to record the files signed
/// in the stat cache for the next re-sign.
pub struct Incremental<'a> {
    /// The earlier signature to take digests from; `None` hashes every file.
    pub earlier: Option<Earlier<'a>>,
    /// Record every file signed in the stat cache in this folder (see
    /// [`StatCache::default_dir`]), for a later [`Changes::StatCache`].
    pub record_stat_cache: Option<PathBuf>,
}

/// The earlier signature whose digests are reused, and how to trust it.
#[derive(Clone)]
pub struct Earlier<'a> {
    /// The earlier signature.
    pub bundle: &'a Bundle,
    /// Verifies it before anything in it is used.
    pub verifier: &'a dyn Verifier,
    /// Which files changed since.
    pub changes: Changes,
}

/// What re-signing reused.
#[derive(Debug, Clone)]
pub struct Reused {
    /// The signed model; its `sources` say how many files were hashed and how many taken
    /// from the earlier signature.
    pub signed: SignedModel,
    /// What verifying the earlier signature established (its signer, for Sigstore); `None`
    /// without one.
    pub earlier: Option<VerifiedSignature>,
    /// Files whose digests moved to a new name (git renames), as (old name, new name).
    pub renamed: Vec<(String, String)>,
    /// The stat cache file the signed files were recorded in, and how many were (files
    /// changed too recently to be trusted next time are not).
    pub recorded: Option<(PathBuf, usize)>,
    /// What the user should know that did not stop signing: a stat cache that could not be
    /// read (and was ignored) or written.
    pub notes: Vec<String>,
}

/// As [`signing::sign_model_unwritten`], taking from `earlier` the digests of the files that
/// did not change. `earlier` must verify with its verifier and must have been made with the
/// algorithm and serialization of `settings`; the result is the signature a full re-sign
/// makes when the changes are told right.
pub fn sign_model_reusing_unwritten(
    model_path: &Path,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    earlier: &Earlier<'_>,
    progress: &Progress,
) -> Result<Reused, SignError> {
    let incremental = Incremental {
        earlier: Some(earlier.clone()),
        record_stat_cache: None,
    };
    sign_model_incremental_unwritten(
        model_path,
        settings,
        signer,
        signature_path,
        &incremental,
        progress,
    )
}

/// As [`sign_model_reusing_unwritten`] when `incremental` names an earlier signature, as
/// [`signing::sign_model_unwritten`] otherwise; either way recording the files signed in
/// the stat cache when asked.
pub fn sign_model_incremental_unwritten(
    model_path: &Path,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    incremental: &Incremental<'_>,
    progress: &Progress,
) -> Result<Reused, SignError> {
    // Before any file's stamp is taken: a file changed after this is too recent to record.
    let hash_started = SystemTime::now();
    let mut notes = Vec::new();
    let mut record = match &incremental.record_stat_cache {
        Some(dir) => {
            let cache = StatCache::open(dir, model_path, &settings.record())?;
            notes.extend(cache.notes().iter().cloned());
            Some(cache)
        }
        None => None,
    };
    let (verified, statement, unchanged) = match &incremental.earlier {
        Some(earlier) => {
            let verified = verify_statement_signature(earlier.bundle, earlier.verifier)
                .map_err(|e| ReuseError::EarlierSignature(Box::new(e)))?;
            let statement = statement::decode(&earlier.bundle.envelope.payload)
                .map_err(|e| ReuseError::EarlierSignature(Box::new(e.into())))?;
            check_same_settings(&statement.manifest, settings)?;
            let unchanged = Unchanged::of(
                model_path,
                settings,
                &statement.manifest,
                &earlier.changes,
                record.as_ref().filter(|_| {
                    matches!(&earlier.changes, Changes::StatCache(dir)
                        if Some(dir) == incremental.record_stat_cache.as_ref())
                }),
            )?;
            (Some(verified), Some(statement), unchanged)
        }
        None => (None, None, Unchanged::AllBut(vec![String::new()])),
    };
    if let Unchanged::StatCache { cache, .. } = &unchanged {
        if record.is_none() {
            notes.extend(cache.notes().iter().cloned());
        }
    }
    let known = FromEarlier {
        earlier: statement
            .as_ref()
            .map(|s| s.manifest.resources_by_file())
            .unwrap_or_default(),
        unchanged,
        serialization: settings.serialization,
        stamps: Mutex::new(Vec::new()),
        stamp: record.is_some(),
    };
    let signed = signing::sign_model_known_unwritten(
        model_path,
        settings,
        signer,
        signature_path,
        &known,
        progress,
    )?;
    let recorded = match &mut record {
        Some(cache) => {
            let digests = stat_cache::entry_digests(&signed.manifest);
            let stamps =
                std::mem::take(&mut *known.stamps.lock().unwrap_or_else(|p| p.into_inner()));
            let entries = stamps.into_iter().filter_map(|(name, stamp)| {
                let digest = *digests.get(&name)?;
                Some((name, stamp, digest))
            });
            let count = cache.replace(entries, hash_started);
            match cache.save() {
                Ok(()) => Some((cache.path().to_path_buf(), count)),
                Err(e) => {
                    notes.push(format!("{e}; the next re-sign cannot use it"));
                    None
                }
            }
        }
        None => None,
    };
    let renamed = match &known.unchanged {
        Unchanged::Git(git) if git.single_file.is_none() => {
            let signed_files = signed.manifest.resources_by_file();
            git.renamed
                .iter()
                .filter(|(new, _)| signed_files.contains_key(new.as_str()))
                .map(|(new, old)| (old.clone(), new.clone()))
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(Reused {
        signed,
        earlier: verified,
        renamed,
        recorded,
        notes,
    })
}

/// As [`signing::sign_model_unwritten`], signing the digests `list` gives (a pipeline's
/// `sha256sum` list, or another tool's OMS manifest) instead of hashing those files; the
/// files it does not list are hashed, and `sources` in the result says which were which.
/// The list must be of the serialization `settings` hash with, and may not name a file the
/// model lacks (files the walk excludes, such as git metadata, are skipped). Nothing checks
/// the listed digests: a wrong one makes a signature that fails verification.
pub fn sign_model_from_digests_unwritten(
    model_path: &Path,
    settings: &HashSettings,
    signer: &dyn Signer,
    signature_path: &Path,
    list: &DigestList,
    progress: &Progress,
) -> Result<SignedModel, SignError> {
    let listed_serialization = list
        .serialization
        .as_ref()
        .map_or(crate::Serialization::Files, |record| record.serialization);
    if listed_serialization != settings.serialization {
        return Err(KnownDigestsError::OtherSerialization {
            format: list.format.name(),
            listed: describe_serialization(listed_serialization),
            now: describe_serialization(settings.serialization),
        }
        .into());
    }
    let by_file = list.resources.iter().fold(BTreeMap::new(), |mut files, r| {
        files
            .entry(settings.serialization.file_of(&r.name))
            .or_insert_with(Vec::new)
            .push(r);
        files
    });
    // A single-file model's one file may be listed by its name or as `.` (model_signing's
    // name for it), whichever name the walk gives it.
    let single_file = std::fs::metadata(model_path).is_ok_and(|m| m.is_file());
    let listed = Listed {
        single_file: match by_file.keys().copied().collect::<Vec<_>>()[..] {
            [only] if single_file => Some(only),
            _ => None,
        },
        by_file,
        serialization: settings.serialization,
    };
    let signed = signing::sign_model_known_unwritten(
        model_path,
        settings,
        signer,
        signature_path,
        &listed,
        progress,
    )?;
    let signed_files = signed.manifest.resources_by_file();
    let excluded = signing::excluding_signature(model_path, settings, signature_path)?;
    let missing: Vec<String> = listed
        .by_file
        .keys()
        .filter(|_| listed.single_file.is_none())
        .filter(|name| !signed_files.contains_key(**name) && !excluded.walk.ignore.is_ignored(name))
        .map(|name| (*name).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(KnownDigestsError::NotInModel { names: missing }.into());
    }
    Ok(signed)
}

/// A list's digests, by file.
struct Listed<'a> {
    by_file: BTreeMap<&'a str, Vec<&'a ResourceDescriptor>>,
    /// For a single-file model, the one name the list gives: its digests are the file's.
    single_file: Option<&'a str>,
    serialization: crate::Serialization,
}

impl KnownDigests for Listed<'_> {
    fn resources_of(&self, file: &ModelFile) -> Option<Vec<ResourceDescriptor>> {
        let listed_name = self.single_file.unwrap_or(&file.name);
        let resources = self.by_file.get(listed_name)?;
        Some(named_for(file, resources, self.serialization))
    }
}

/// `resources` of a file, named for `file` (a renamed file's, or a single-file model's
/// listed as `.`): a shard keeps its `:start:end`.
fn named_for(
    file: &ModelFile,
    resources: &[&ResourceDescriptor],
    serialization: crate::Serialization,
) -> Vec<ResourceDescriptor> {
    resources
        .iter()
        .map(|r| ResourceDescriptor {
            name: format!(
                "{}{}",
                file.name,
                &r.name[serialization.file_of(&r.name).len()..]
            ),
            digest: r.digest.clone(),
        })
        .collect()
}

fn describe_serialization(serialization: crate::Serialization) -> String {
    match serialization {
        crate::Serialization::Shards { shard_size } => format!("shards of {shard_size} bytes"),
        _ => "whole files".to_owned(),
    }
}

/// Digests can move from one signature to the next only when both hash alike.
fn check_same_settings(earlier: &Manifest, settings: &HashSettings) -> Result<(), ReuseError> {
    let record = earlier.serialization();
    if record.hash_type == settings.algorithm && record.serialization == settings.serialization {
        return Ok(());
    }
    let describe = |algorithm: crate::HashAlgorithm, serialization: crate::Serialization| {
        match serialization {
            crate::Serialization::Shards { shard_size } => {
                format!("{} shards of {shard_size} bytes", algorithm.as_str())
            }
            _ => format!("{} files", algorithm.as_str()),
        }
    };
    Err(ReuseError::OtherSettings {
        earlier: describe(record.hash_type, record.serialization),
        now: describe(settings.algorithm, settings.serialization),
    })
}

/// How to tell, file by file, whether the earlier signature's digests still hold.
enum Unchanged {
    /// Every file but these names, and those under these directory names (`""`: all).
    AllBut(Vec<String>),
    /// What git says.
    Git(GitChanges),
    /// What the stat cache says, for files whose earlier digests are those it saw.
    StatCache {
        cache: StatCache,
        earlier_entries: BTreeMap<String, [u8; 32]>,
    },
}

impl Unchanged {
    fn of(
        model_path: &Path,
        settings: &HashSettings,
        earlier: &Manifest,
        changes: &Changes,
        opened: Option<&StatCache>,
    ) -> Result<Self, SignError> {
        Ok(match changes {
            Changes::Listed(paths) => paths
                .iter()
                .map(|path| model_relative_name(model_path, path))
                .collect::<Result<_, _>>()
                .map(Unchanged::AllBut)?,
            Changes::SinceGit(revision) => {
                GitChanges::since(model_path, revision).map(Unchanged::Git)?
            }
            // The cache being recorded is the one consulted: read once, not twice.
            Changes::StatCache(dir) => Unchanged::StatCache {
                cache: match opened {
                    Some(cache) => cache.clone(),
                    None => StatCache::open(dir, model_path, &settings.record())?,
                },
                earlier_entries: stat_cache::entry_digests(earlier),
            },
        })
    }

    fn needs_stamp(&self) -> bool {
        matches!(self, Unchanged::StatCache { .. })
    }

    /// The earlier signature's name for `file` if it did not change since (`stamp`: the
    /// file's now, where it was taken).
    fn earlier_name(&self, file: &ModelFile, stamp: Option<&FileStamp>) -> Option<String> {
        match self {
            Unchanged::StatCache {
                cache,
                earlier_entries,
            } => {
                let seen = cache.unchanged(&file.name, stamp?)?;
                (earlier_entries.get(&file.name) == Some(&seen)).then(|| file.name.clone())
            }
            Unchanged::AllBut(changed) => {
                let listed = changed.iter().any(|c| {
                    c.is_empty()
                        || file.name == *c
                        || file
                            .name
                            .strip_prefix(c.as_str())
                            .is_some_and(|rest| rest.starts_with('/'))
                });
                (!listed).then(|| file.name.clone())
            }
            Unchanged::Git(git) => git.earlier_name(file),
        }
    }
}

/// A path given as changed, as a model-relative name (`""` for the model itself).
fn model_relative_name(model_path: &Path, path: &Path) -> Result<String, ReuseError> {
    let outside = || ReuseError::ChangedOutsideModel {
        path: path.to_path_buf(),
        model: model_path.to_path_buf(),
    };
    if path.is_absolute() {
        if std::fs::canonicalize(model_path).is_ok_and(|root| root == path) {
            return Ok(String::new());
        }
        return relative_to_model(model_path, path).ok_or_else(outside);
    }
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or_else(outside)?),
            Component::CurDir => {}
            _ => return Err(outside()),
        }
    }
    Ok(parts.join("/"))
}

/// The earlier signature's resources, offered for the files that did not change.
struct FromEarlier<'a> {
    earlier: BTreeMap<&'a str, Vec<&'a ResourceDescriptor>>,
    unchanged: Unchanged,
    serialization: crate::Serialization,
    /// Every file's stamp, taken before it is hashed (when `stamp`), for the stat cache.
    stamps: Mutex<Vec<(String, FileStamp)>>,
    stamp: bool,
}

impl KnownDigests for FromEarlier<'_> {
    fn resources_of(&self, file: &ModelFile) -> Option<Vec<ResourceDescriptor>> {
        let stamp = (self.stamp || self.unchanged.needs_stamp())
            .then(|| FileStamp::read(&file.path).ok())
            .flatten();
        if let (true, Some(stamp)) = (self.stamp, stamp) {
            self.stamps
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((file.name.clone(), stamp));
        }
        let earlier_name = self.unchanged.earlier_name(file, stamp.as_ref())?;
        let resources = self.earlier.get(earlier_name.as_str())?;
        Some(named_for(file, resources, self.serialization))
    }
}

/// What git reports changed in the model since a revision.
struct GitChanges {
    /// Tracked files (paths relative to the model's folder, as git prints them).
    tracked: BTreeSet<String>,
    /// Changed since the revision: modified, added, deleted, type-changed, unmerged.
    changed: BTreeSet<String>,
    /// Renamed without a change: new path -> old path.
    renamed: BTreeMap<String, String>,
    /// For a single-file model: its path in git (its base name; the manifest may name it
    /// `.`).
    single_file: Option<String>,
}

impl GitChanges {
    fn since(model_path: &Path, revision: &str) -> Result<Self, ReuseError> {
        if revision.starts_with('-') || revision.is_empty() {
            return Err(ReuseError::Git {
                command: "git diff".into(),
                message: format!("'{revision}' is not a revision"),
            });
        }
        let is_file = std::fs::metadata(model_path).is_ok_and(|m| m.is_file());
        let (folder, pathspec) = if is_file {
            let name = model_path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| ReuseError::Git {
                    command: "git".into(),
                    message: format!("'{}' has no usable file name", model_path.display()),
                })?;
            let parent = model_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (parent.to_path_buf(), name.to_owned())
        } else {
            (model_path.to_path_buf(), ".".to_owned())
        };
        let tracked = split_nul(&git(&folder, &["ls-files", "-z", "--", &pathspec])?)
            .into_iter()
            .collect();
        // `--find-renames=100%`: only a file git finds unchanged under its new name keeps
        // its digest; `--relative` prints paths relative to the model's folder and leaves
        // out changes outside it. `--end-of-options` keeps a revision from being an option.
        let diff = git(
            &folder,
            &[
                "diff",
                "--name-status",
                "-z",
                "--relative",
                "--find-renames=100%",
                "--no-ext-diff",
                "--end-of-options",
                revision,
                "--",
                &pathspec,
            ],
        )?;
        let mut changes = GitChanges {
            tracked,
            changed: BTreeSet::new(),
            renamed: BTreeMap::new(),
            single_file: None,
        };
        let fields = split_nul(&diff);
        let mut fields = fields.into_iter();
        while let Some(status) = fields.next() {
            let malformed = || ReuseError::Git {
                command: "git diff".into(),
                message: format!("unexpected output near status '{status}'"),
            };
            match status.chars().next() {
                Some('R') | Some('C') => {
                    let old = fields.next().ok_or_else(malformed)?;
                    let new = fields.next().ok_or_else(malformed)?;
                    if status == "R100" || status == "C100" {
                        changes.renamed.insert(new, old);
                    } else {
                        changes.changed.insert(new);
                    }
                }
                Some(_) => {
                    changes.changed.insert(fields.next().ok_or_else(malformed)?);
                }
                None => return Err(malformed()),
            }
        }
        if is_file {
            changes.single_file = Some(pathspec);
        }
        Ok(changes)
    }

    fn earlier_name(&self, file: &ModelFile) -> Option<String> {
        let git_path = self.single_file.as_ref().unwrap_or(&file.name);
        if let Some(old) = self.renamed.get(git_path) {
            // A single-file model that was renamed is a new model name: nothing to map.
            return self.single_file.is_none().then(|| old.clone());
        }
        (self.tracked.contains(git_path) && !self.changed.contains(git_path))
            .then(|| file.name.clone())
    }
}

/// Runs git in `folder`, returning its standard output.
fn git(folder: &Path, args: &[&str]) -> Result<Vec<u8>, ReuseError> {
    let command = format!("git {}", args.first().copied().unwrap_or_default());
    let output = Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(["-c", "core.quotepath=off"])
        .args(args)
        .output()
        .map_err(|e| ReuseError::Git {
            command: command.clone(),
            message: format!("could not run git: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(ReuseError::Git {
            command,
            message: stderr.trim().to_owned(),
        });
    }
    Ok(output.stdout)
}

/// NUL-separated fields (git's `-z`), the empty last one dropped; a field that is not
/// UTF-8 cannot name a model file and is kept lossily, so it matches none.
fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|field| !field.is_empty())
        .map(|field| String::from_utf8_lossy(field).into_owned())
        .collect()
}

#[cfg(test)]
mod tests;
