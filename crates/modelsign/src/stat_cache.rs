//! The stat cache: which files of a model were hashed to what, and how each file looked on
//! disk then, so that re-signing (`sign --reuse OLD.sig`) can tell the files that did not
//! change without reading them.
//!
//! A file counts as unchanged when its [`FileStamp`] (size, modification and status-change
//! times in nanoseconds, inode and device, the fields git's index compares) is exactly the
//! one recorded. That is a promise of the file system, not a proof: README's "The stat
//! cache" says what is trusted and what can defeat it. What the cache keeps per file is an
//! *entry digest* ([`entry_digests`]) over the digests the signature recorded for it, so the
//! caller reuses an old signature's digests only when they are the very digests this cache
//! saw the file hashed to: a cache written for another signature never causes reuse.
//!
//! The cache lives in the user's cache directory ([`StatCache::default_dir`]), never in
//! the model, one file per model and hashing settings: `stat-cache/<key>.json`, where the key
//! is a SHA-256 of the model's canonical path and the settings that change digests (hash
//! type, files or shards, shard size). Anything wrong with that file (unreadable, corrupt,
//! another format version, another model's) empties the cache with a [note](StatCache::notes)
//! rather than failing: the cost of a bad cache is only that every file is hashed.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, DirBuilder, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_file::StagedFile;
use crate::error::StatCacheError;
use crate::limits;
use crate::manifest::Manifest;
use crate::serialization::{Serialization, SerializationRecord};
use crate::text::printable_path;

/// How recent a file's modification or status-change time may be, relative to the start of
/// hashing, for its stamp to be recorded.
///
/// A file system stamps a write with a clock of limited resolution: Linux takes file times
/// from a coarse clock that lags the real time by up to a timer tick (1–10 ms), ext3 and
/// HFS+ keep whole seconds, FAT keeps modification times in 2-second steps. Two writes in the
/// same step leave the same stamp, so a file written in the step in which it was hashed could
/// be written again, with the same size, without its stamp changing: it is "racily clean", in
/// git's words. Git's index handles that by comparing an entry's time with the index file's
/// own modification time and re-checking (or, on write, smudging) entries that are not older.
/// This cache cannot stamp anything in the model's file system, so it compares with the
/// signer's clock at the start of hashing instead, and leaves out every file whose time is
/// within this window of it: such a file is hashed again next time. 2 s covers FAT's step,
/// the coarsest of the common file systems, and costs only the re-hashing of files written
/// in the 2 seconds before signing.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// The largest cache file read. An entry is about 200 bytes of JSON plus its name, so a
/// model of [`limits::MAX_RESOURCES`] files fits with room for long names; a larger file is
/// not one this module wrote and is ignored with a note.
pub const MAX_CACHE_FILE: u64 = 512 << 20;

/// The environment variable naming the cache directory, before the XDG default.
pub const CACHE_DIR_VARIABLE: &str = "MODELSIGN_CACHE_DIR";

/// The format of the cache file; a file of another format is ignored with a note.
const FORMAT_VERSION: u32 = 1;

/// The folder of the cache directory holding one cache file per model and settings.
const CACHE_SUBDIR: &str = "stat-cache";

/// A file as the file system describes it: equal stamps are taken to mean equal contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, in nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
    /// Status-change time (any write, `chmod`, rename or link changes it, and no system
    /// call sets it back), in nanoseconds since the Unix epoch.
    pub ctime_ns: i128,
    /// Inode number: a file replaced by another (a rename over it) has a new one.
    pub inode: u64,
    /// Device of the file system holding the file.
    pub device: u64,
}

impl FileStamp {
    /// The stamp of the file `meta` describes.
    pub fn of(meta: &Metadata) -> Self {
        let nanos = |seconds: i64, nanoseconds: i64| {
            i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds)
        };
        FileStamp {
            size: meta.len(),
            mtime_ns: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: nanos(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }

    /// The stamp of the regular file at `path`, following symbolic links as the walk does
    /// for the files it reads through one ([`crate::model::ModelFile::path`] may be such a
    /// link): for a plain file this is the same `stat` the walk makes. Anything but a regular
    /// file is an [`io::ErrorKind::InvalidInput`] error: its stamp says nothing about
    /// contents.
    pub fn read(path: &Path) -> io::Result<Self> {
        let meta = fs::metadata(path)?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "it is {}, not a regular file",
                    limits::describe_file_type(&meta.file_type())
                ),
            ));
        }
        Ok(Self::of(&meta))
    }

    /// True when the modification or status-change time is not clearly older than
    /// `hash_started`, that is within [`RACY_WINDOW`] of it or later: a write in the same
    /// timestamp step could leave the stamp as it is.
    pub fn is_racy(&self, hash_started: SystemTime) -> bool {
        let threshold = nanos_since_epoch(hash_started) - window_nanos();
        self.mtime_ns >= threshold || self.ctime_ns >= threshold
    }
}

fn window_nanos() -> i128 {
    i128::try_from(RACY_WINDOW.as_nanos()).unwrap_or(i128::MAX)
}

/// `time` in nanoseconds since the Unix epoch, negative before it.
fn nanos_since_epoch(time: SystemTime) -> i128 {
    let saturating = |d: Duration| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX);
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => saturating(after),
        Err(before) => -saturating(before.duration()),
    }
}

/// The entry digest of every file of `manifest`: SHA-256 over the raw digests of the file's
/// resources (the file itself, or its shards) in manifest order. Two signatures made with
/// the same settings give a file the same entry digest exactly when they record the same
/// digests for it. A file with no resource (an empty file under `shards`) has no entry, and
/// nothing to reuse either.
pub fn entry_digests(manifest: &Manifest) -> BTreeMap<String, [u8; 32]> {
    let serialization = manifest.serialization().serialization;
    let mut hashers: BTreeMap<&str, Sha256> = BTreeMap::new();
    for resource in manifest.resources() {
        hashers
            .entry(serialization.file_of(&resource.name))
            .or_default()
            .update(&resource.digest);
    }
    hashers
        .into_iter()
        .map(|(file, hasher)| (file.to_owned(), hasher.finalize().into()))
        .collect()
}

/// What the cache remembers of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    stamp: FileStamp,
    digest: [u8; 32],
}

/// The settings a cache file is for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheSettings {
    hash_type: String,
    serialization: String,
    shard_size: Option<u64>,
}

impl CacheSettings {
    fn of(record: &SerializationRecord) -> Self {
        CacheSettings {
            hash_type: record.hash_type.as_str().to_owned(),
            serialization: record.serialization.method().to_owned(),
            shard_size: match record.serialization {
                Serialization::Files => None,
                Serialization::Shards { shard_size } => Some(shard_size),
            },
        }
    }

    /// `sha256, shards of 1000 bytes`, for notes.
    fn describe(&self) -> String {
        match self.shard_size {
            Some(size) => format!("{}, shards of {size} bytes", self.hash_type),
            None => format!("{}, {}", self.hash_type, self.serialization),
        }
    }
}

/// The cache file as written. No `#[serde(flatten)]`: it buffers through a form that
/// cannot hold the `i128` times.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// The canonical model path (bytes that are not UTF-8 as U+FFFD), for people and as a
    /// check beside `key`.
    model: String,
    /// The hex key the file is named by, which covers the exact path bytes.
    key: String,
    hash_type: String,
    serialization: String,
    shard_size: Option<u64>,
    files: BTreeMap<String, StoredEntry>,
}

impl CacheFile {
    fn settings(&self) -> CacheSettings {
        CacheSettings {
            hash_type: self.hash_type.clone(),
            serialization: self.serialization.clone(),
            shard_size: self.shard_size,
        }
    }
}

/// A [`FileStamp`] and the hex entry digest.
#[derive(Serialize, Deserialize)]
struct StoredEntry {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
    device: u64,
    digest: String,
}

/// Only the format version, to say why a file of another format does not parse.
#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// The stat cache of one model hashed with one set of settings.
#[derive(Debug, Clone)]
pub struct StatCache {
    /// The cache file.
    path: PathBuf,
    /// The canonical model path, as written in the file.
    model: String,
    key: String,
    settings: CacheSettings,
    entries: BTreeMap<String, Entry>,
    notes: Vec<String>,
}

impl StatCache {
    /// The cache directory: `$MODELSIGN_CACHE_DIR`, else `$XDG_CACHE_HOME/modelsign`, else
    /// `$HOME/.cache/modelsign`. A variable that is unset, empty or not an absolute path is
    /// passed over, as the XDG Base Directory specification says of relative paths; `None`
    /// when none is left.
    pub fn default_dir() -> Option<PathBuf> {
        default_dir_in(|name| std::env::var_os(name))
    }

    /// The cache of the model at `model_path` hashed with the settings of `record`, kept
    /// in `dir`. A missing cache file is an empty cache; one that cannot be read, does not
    /// parse, is of another format version or is for another model or other settings is an
    /// empty cache with a [note](Self::notes) saying so. Fails only when the model path does
    /// not resolve or `dir` (or its `stat-cache` folder) exists as something other than a
    /// directory or cannot be inspected.
    pub fn open(
        dir: &Path,
        model_path: &Path,
        record: &SerializationRecord,
    ) -> Result<Self, StatCacheError> {
        let canonical =
            fs::canonicalize(model_path).map_err(|source| StatCacheError::ModelPath {
                path: model_path.to_path_buf(),
                source,
            })?;
        let subdir = dir.join(CACHE_SUBDIR);
        for folder in [dir, &subdir] {
            check_directory(folder)?;
        }
        let settings = CacheSettings::of(record);
        let key = cache_key(&canonical, &settings);
        let mut cache = StatCache {
            path: subdir.join(format!("{key}.json")),
            model: canonical.to_string_lossy().into_owned(),
            key,
            settings,
            entries: BTreeMap::new(),
            notes: Vec::new(),
        };
        match cache.load() {
            Ok(entries) => cache.entries = entries,
            Err(Unusable::Missing) => {}
            Err(Unusable::Because(reason)) => cache.notes.push(format!(
                "stat cache '{}' {reason}; it is ignored and every file is hashed",
                printable_path(&cache.path)
            )),
        }
        Ok(cache)
    }

    /// The entries of the cache file, or why there are none.
    fn load(&self) -> Result<BTreeMap<String, Entry>, Unusable> {
        let bytes = match limits::read_input_file(&self.path, MAX_CACHE_FILE) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unusable::Missing),
            Err(e) => return Err(Unusable::Because(format!("cannot be read: {e}"))),
        };
        let file: CacheFile = serde_json::from_slice(&bytes).map_err(|e| {
            match serde_json::from_slice::<VersionOnly>(&bytes) {
                Ok(other) if other.version != FORMAT_VERSION => other_version(other.version),
                _ => Unusable::Because(format!("is not a valid cache file: {e}")),
            }
        })?;
        if file.version != FORMAT_VERSION {
            return Err(other_version(file.version));
        }
        let settings = file.settings();
        if file.key != self.key || file.model != self.model || settings != self.settings {
            return Err(Unusable::Because(format!(
                "is for another model or other settings ({}: {}), not {}: {}",
                crate::text::printable(&file.model),
                settings.describe(),
                crate::text::printable(&self.model),
                self.settings.describe()
            )));
        }
        if file.files.len() > limits::MAX_RESOURCES {
            return Err(Unusable::Because(format!(
                "lists {} files, more than a model may have ({})",
                file.files.len(),
                limits::MAX_RESOURCES
            )));
        }
        let mut entries = BTreeMap::new();
        for (name, stored) in file.files {
            let digest = decode_digest(&stored.digest).ok_or_else(|| {
                Unusable::Because(format!(
                    "holds a malformed digest for '{}'",
                    crate::text::printable(&name)
                ))
            })?;
            let stamp = FileStamp {
                size: stored.size,
                mtime_ns: stored.mtime_ns,
                ctime_ns: stored.ctime_ns,
                inode: stored.inode,
                device: stored.device,
            };
            let entry = Entry { stamp, digest };
            entries.insert(name, entry);
        }
        Ok(entries)
    }

    /// The entry digest recorded for the file `name` (a model-relative name, as in
    /// [`crate::model::ModelFile::name`]) if its stamp now is exactly the recorded one.
    /// The caller reuses an old signature's digests for the file only when this equals the
    /// old signature's entry digest for it ([`entry_digests`]).
    pub fn unchanged(&self, name: &str, stamp: &FileStamp) -> Option<[u8; 32]> {
        self.entries
            .get(name)
            .filter(|entry| entry.stamp == *stamp)
            .map(|entry| entry.digest)
    }

    /// Replaces every entry with the files just signed: their names, their stamps and their
    /// entry digests. `hash_started` is when the walk began (taken before any stamp was read):
    /// a file whose modification or status-change time is not clearly older than that
    /// ([`FileStamp::is_racy`]) is not recorded, so it is hashed again next time. Returns how
    /// many files were recorded.
    pub fn replace(
        &mut self,
        entries: impl IntoIterator<Item = (String, FileStamp, [u8; 32])>,
        hash_started: SystemTime,
    ) -> usize {
        self.entries = entries
            .into_iter()
            .filter(|(_, stamp, _)| !stamp.is_racy(hash_started))
            .map(|(name, stamp, digest)| (name, Entry { stamp, digest }))
            .collect();
        self.entries.len()
    }

    /// Writes the cache file whole or not at all (a temporary file renamed over it), mode
    /// 0600, creating the cache directory and its `stat-cache` folder mode 0700 as needed
    /// (an existing directory keeps its mode).
    pub fn save(&self) -> Result<(), StatCacheError> {
        // `path` is always `<dir>/stat-cache/<key>.json`.
        let subdir = self.path.parent().unwrap_or(Path::new("."));
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(subdir)
            .map_err(|source| StatCacheError::Dir {
                path: subdir.to_path_buf(),
                source,
            })?;
        let file = CacheFile {
            version: FORMAT_VERSION,
            model: self.model.clone(),
            key: self.key.clone(),
            hash_type: self.settings.hash_type.clone(),
            serialization: self.settings.serialization.clone(),
            shard_size: self.settings.shard_size,
            files: self
                .entries
                .iter()
                .map(|(name, Entry { stamp, digest })| {
                    let stored = StoredEntry {
                        size: stamp.size,
                        mtime_ns: stamp.mtime_ns,
                        ctime_ns: stamp.ctime_ns,
                        inode: stamp.inode,
                        device: stamp.device,
                        digest: base16ct::lower::encode_string(digest),
                    };
                    (name.clone(), stored)
                })
                .collect(),
        };
        let write_error = |source| StatCacheError::Write {
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_vec(&file).map_err(|e| write_error(io::Error::other(e)))?;
        StagedFile::write(&self.path, ".modelsign-stat-cache-", &json, 0o600)
            .and_then(|staged| staged.replace(&self.path))
            .map_err(write_error)
    }

    /// Why the cache started empty although a cache file was there (it could not be read, did
    /// not parse, or was for another model or other settings), for the caller to show.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many files the cache holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the cache holds no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Why a cache file gives no entries.
enum Unusable {
    /// There is none: nothing to say.
    Missing,
    /// The rest of the note ("cannot be read: …").
    Because(String),
}

fn other_version(version: u32) -> Unusable {
    Unusable::Because(format!(
        "has format version {version}, and this modelsign reads version {FORMAT_VERSION}"
    ))
}

/// Fine when `path` is a directory or does not exist yet ([`StatCache::save`] creates it).
fn check_directory(path: &Path) -> Result<(), StatCacheError> {
    let unusable = |source| StatCacheError::Dir {
        path: path.to_path_buf(),
        source,
    };
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(meta) => Err(unusable(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!(
                "it is {}, not a directory",
                limits::describe_file_type(&meta.file_type())
            ),
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(unusable(e)),
    }
}

/// The hex SHA-256 naming the cache file of a model and settings: over the exact bytes of
/// the canonical path (which cannot contain NUL, so the separators are unambiguous) and the
/// settings that change digests.
fn cache_key(canonical_model: &Path, settings: &CacheSettings) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"modelsign stat cache\0");
    hasher.update(canonical_model.as_os_str().as_bytes());
    hasher.update(b"\0");
    hasher.update(settings.hash_type.as_bytes());
    hasher.update(b"\0");
    hasher.update(settings.serialization.as_bytes());
    hasher.update(b"\0");
    if let Some(size) = settings.shard_size {
        hasher.update(size.to_string().as_bytes());
    }
    base16ct::lower::encode_string(&hasher.finalize())
}

fn decode_digest(text: &str) -> Option<[u8; 32]> {
    base16ct::mixed::decode_vec(text).ok()?.try_into().ok()
}

/// [`StatCache::default_dir`] with the environment read through `var`, so that tests can
/// give it without touching the process environment.
fn default_dir_in(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let absolute = |name: &str| {
        var(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute(CACHE_DIR_VARIABLE)
        .or_else(|| absolute("XDG_CACHE_HOME").map(|cache| cache.join("modelsign")))
        .or_else(|| absolute("HOME").map(|home| home.join(".cache").join("modelsign")))
}

#[cfg(test)]
mod tests;
