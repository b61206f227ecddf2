//! Hashing a model into a manifest: the algorithms, the `files`/`shards` serializations and
//! the engine that runs every file or shard as one task on a shared pool.

mod engine;
mod fault;
// Moved to the bottom layer (errors carry `Interrupted`); the old path keeps working.
pub use crate::interrupt;

pub(crate) use engine::worker_pool;
pub(crate) use engine::HashTask;
pub use engine::{Progress, ProgressSink};

use std::path::{Path, PathBuf};

use crate::error::{HashError, WalkError};
use crate::limits;
use crate::manifest::{Manifest, ResourceDescriptor};
use crate::model::{self, Model, ModelFile, WalkOptions};
pub use crate::serialization::{
    HashAlgorithm, Serialization, SerializationRecord, DEFAULT_SHARD_SIZE,
};

/// An incremental hasher for one of the [`HashAlgorithm`]s.
#[non_exhaustive]
pub enum Hasher {
    /// aws-lc's SHA-256 (hand-written assembly using the SHA extensions where the CPU has
    /// them): measurably faster than the `sha2` crate on large files, see bench/.
    Sha256(aws_lc_rs::digest::Context),
    /// BLAKE2b with a 512-bit digest, from the `blake2` crate.
    Blake2b(Box<blake2::Blake2b512>),
    /// BLAKE3, from the `blake3` crate.
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    /// A fresh incremental hasher for `algorithm`.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        match algorithm {
            HashAlgorithm::Sha256 => {
                Hasher::Sha256(aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256))
            }
            HashAlgorithm::Blake2b => Hasher::Blake2b(Box::default()),
            HashAlgorithm::Blake3 => Hasher::Blake3(Box::default()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        use sha2::Digest;
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Blake2b(h) => h.update(data),
            Hasher::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// Feeds bytes, hashing them on every core of the current pool where the algorithm
    /// can (BLAKE3's tree); other algorithms are inherently sequential.
    pub fn update_parallel(&mut self, data: &[u8]) {
        match self {
            Hasher::Blake3(h) => {
                h.update_rayon(data);
            }
            other => other.update(data),
        }
    }

    /// The digest of everything fed so far.
    pub fn finalize(self) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Hasher::Sha256(h) => h.finish().as_ref().to_vec(),
            Hasher::Blake2b(h) => h.finalize().to_vec(),
            Hasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// Digests known without reading the file: what a verified earlier signature, or a list a
/// pipeline computed, says a file's resources are. Asked once for every walked file, one
/// file at a time, before any is hashed, so an implementation may take the file's status
/// then.
pub trait KnownDigests: Sync {
    /// The resources of `file` (its one digest under `files`, every shard's under
    /// `shards`), or `None` to hash it.
    fn resources_of(&self, file: &ModelFile) -> Option<Vec<ResourceDescriptor>>;
}

/// Where a manifest's digests came from: read and hashed, or known beforehand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestSources {
    /// Files read and hashed.
    pub hashed_files: usize,
    /// Their size in bytes.
    pub hashed_bytes: u64,
    /// Files whose resources were known, and not read.
    pub known_files: usize,
    /// Their size in bytes, as the walk found them.
    pub known_bytes: u64,
}

/// Everything that determines a model's manifest: which files, and how they are hashed.
#[derive(Debug, Clone)]
pub struct HashSettings {
    /// The digest of each file or shard.
    pub algorithm: HashAlgorithm,
    /// Whether entries are whole files or shards of them.
    pub serialization: Serialization,
    /// Which files are part of the model: ignore paths, git metadata, symbolic links.
    pub walk: WalkOptions,
    /// Worker threads; `None` uses every available core.
    pub max_workers: Option<usize>,
}

impl Default for HashSettings {
    /// files + sha256, git metadata ignored, symbolic links refused.
    fn default() -> Self {
        HashSettings {
            algorithm: HashAlgorithm::Sha256,
            serialization: Serialization::Files,
            walk: WalkOptions {
                ignore: model::IgnoreSet::new(true),
                ..WalkOptions::default()
            },
            max_workers: None,
        }
    }
}

impl HashSettings {
    /// The `serialization` block recorded for these settings.
    pub fn record(&self) -> SerializationRecord {
        SerializationRecord {
            serialization: self.serialization,
            hash_type: self.algorithm,
            allow_symlinks: self.walk.allow_symlinks,
            ignore_paths: self.walk.ignore.entries().map(str::to_owned).collect(),
        }
    }

    /// The `serialization` block recorded for `model` hashed with these settings. A Hugging
    /// Face cache snapshot is read through its links, so it records `allow_symlinks: true`
    /// even when links were not asked for: the record says what was done, and matches what
    /// model_signing (which needs `--allow_symlinks` for a snapshot) records for it.
    /// Attestation files the walk left out are recorded among the ignore paths.
    pub fn record_for(&self, model: &Model) -> SerializationRecord {
        let mut record = self.record();
        record.allow_symlinks |= model.hf_snapshot.is_some();
        // Attestation files left out by the default rule are recorded by name, as any
        // exclusion is, so that verifiers without the rule (model_signing) skip them too.
        record
            .ignore_paths
            .extend(model.attestation_files.iter().cloned());
        record.ignore_paths.sort_unstable();
        record.ignore_paths.dedup();
        record
    }

    /// Walks and hashes the model at `model_path`. An empty model is an error.
    pub fn hash_model(&self, model_path: &Path) -> Result<Manifest, HashError> {
        self.hash_model_with_progress(model_path, &Progress::none())
    }

    /// As [`HashSettings::hash_model`], reporting progress as bytes are hashed.
    pub fn hash_model_with_progress(
        &self,
        model_path: &Path,
        progress: &Progress,
    ) -> Result<Manifest, HashError> {
        self.walk_and_hash(model_path, progress)
            .map(|(_, manifest)| manifest)
    }

    /// As [`HashSettings::hash_model_with_progress`], for the listed files of the model
    /// only (model_signing's `files_to_hash`). Each path names a file inside the model,
    /// absolute or relative to the working directory. Ignored paths and directories are
    /// left out, as model_signing leaves them out; a path outside the model or one that
    /// does not exist is an error, and symbolic links follow the walk's rule.
    pub fn hash_files_with_progress(
        &self,
        model_path: &Path,
        files: &[PathBuf],
        progress: &Progress,
    ) -> Result<Manifest, HashError> {
        let mut names = Vec::with_capacity(files.len());
        for file in files {
            let name = model::relative_to_model(model_path, file).ok_or_else(|| {
                WalkError::NotInModel {
                    path: file.clone(),
                    model: model_path.to_path_buf(),
                }
            })?;
            names.push(name);
        }
        names.sort_unstable();
        names.dedup();
        let pool = engine::worker_pool(self.max_workers)?;
        let model = pool
            .install(|| model::select(model_path, names.iter().map(String::as_str), &self.walk))?;
        if let Some(link) = model.disallowed_symlinks.first() {
            return Err(WalkError::Symlink {
                path: model_path.join(link),
            }
            .into());
        }
        // What `select` left out besides ignored paths: directories, which are skipped,
        // and paths that are not there or not regular files, which are errors.
        for name in &names {
            if self.walk.ignore.is_ignored(name) || model.files.iter().any(|f| &f.name == name) {
                continue;
            }
            let path = model_path.join(name);
            match std::fs::symlink_metadata(&path) {
                Err(source) => return Err(WalkError::Io { path, source }.into()),
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(WalkError::SpecialFile { path }.into()),
            }
        }
        self.hash_walked_on(&pool, &model, progress)
    }

    /// As [`HashSettings::hash_model_with_progress`], returning the walked model too (what
    /// was found besides the manifest: a single file, a Hugging Face snapshot).
    pub fn walk_and_hash(
        &self,
        model_path: &Path,
        progress: &Progress,
    ) -> Result<(Model, Manifest), HashError> {
        let pool = engine::worker_pool(self.max_workers)?;
        let model = self.walk_on(&pool, model_path)?;
        let manifest = self.hash_walked_on(&pool, &model, progress)?;
        Ok((model, manifest))
    }

    /// Walks the model at `model_path`, finding the files these settings make part of it.
    /// An empty model is an error.
    pub fn walk_model(&self, model_path: &Path) -> Result<Model, HashError> {
        self.walk_on(&engine::worker_pool(self.max_workers)?, model_path)
    }

    fn walk_on(&self, pool: &rayon::ThreadPool, model_path: &Path) -> Result<Model, HashError> {
        let model = pool.install(|| model::walk(model_path, &self.walk))?;
        if model.files.is_empty() {
            return Err(WalkError::EmptyModel {
                path: model_path.to_path_buf(),
            }
            .into());
        }
        Ok(model)
    }

    /// Hashes the files of an already walked model.
    pub fn hash_walked(&self, model: &Model, progress: &Progress) -> Result<Manifest, HashError> {
        self.hash_walked_on(&engine::worker_pool(self.max_workers)?, model, progress)
    }

    pub(crate) fn hash_walked_on(
        &self,
        pool: &rayon::ThreadPool,
        model: &Model,
        progress: &Progress,
    ) -> Result<Manifest, HashError> {
        let resources = self.hash_files_on(pool, &model.files, progress)?;
        Ok(Manifest::new(
            model.name.clone(),
            self.record_for(model),
            resources,
        ))
    }

    /// As [`HashSettings::hash_walked`], taking the resources `known` gives for a file
    /// instead of reading it. The manifest is the one hashing every file would give when
    /// the known digests are right; a file's known resources that cannot be its resources
    /// now (other names or shard ranges than its size gives, digests of another length)
    /// are ignored and the file is hashed.
    pub fn hash_walked_known(
        &self,
        model: &Model,
        known: &dyn KnownDigests,
        progress: &Progress,
    ) -> Result<(Manifest, DigestSources), HashError> {
        let pool = engine::worker_pool(self.max_workers)?;
        let mut resources = Vec::new();
        let mut unknown = Vec::new();
        let mut sources = DigestSources::default();
        for file in &model.files {
            match known
                .resources_of(file)
                .filter(|given| self.could_be_resources_of(file, given))
            {
                Some(given) => {
                    sources.known_files += 1;
                    sources.known_bytes += file.size;
                    resources.extend(given);
                }
                None => {
                    sources.hashed_files += 1;
                    sources.hashed_bytes += file.size;
                    unknown.push(file.clone());
                }
            }
        }
        resources.extend(self.hash_files_on(&pool, &unknown, progress)?);
        let manifest = Manifest::new(model.name.clone(), self.record_for(model), resources);
        Ok((manifest, sources))
    }

    /// Whether `given` has the names and digest lengths hashing `file` would give its
    /// resources now.
    fn could_be_resources_of(&self, file: &ModelFile, given: &[ResourceDescriptor]) -> bool {
        let digest_len = self.algorithm.digest_len();
        if given.iter().any(|r| r.digest.len() != digest_len) {
            return false;
        }
        let mut names: Vec<&str> = given.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        let mut expected: Vec<String> = match self.serialization {
            Serialization::Files => vec![file.name.clone()],
            Serialization::Shards { shard_size: 0 } => return false,
            Serialization::Shards { shard_size } => {
                if file.size.div_ceil(shard_size) != given.len() as u64 {
                    return false;
                }
                (0..file.size)
                    .step_by(usize::try_from(shard_size).unwrap_or(usize::MAX))
                    .map(|start| {
                        let end = file.size.min(start.saturating_add(shard_size));
                        format!("{}:{start}:{end}", file.name)
                    })
                    .collect()
            }
        };
        expected.sort_unstable();
        names.iter().eq(expected.iter())
    }

    /// Hashes `files` into their resources (unsorted).
    fn hash_files_on(
        &self,
        pool: &rayon::ThreadPool,
        files: &[ModelFile],
        progress: &Progress,
    ) -> Result<Vec<ResourceDescriptor>, HashError> {
        let tasks = self.tasks_of(files)?;
        progress.start(tasks.iter().map(|t| t.len).sum(), tasks.len(), self.unit());
        let digests = engine::hash_tasks_on(pool, &tasks, self.algorithm, progress)?;
        Ok(tasks
            .into_iter()
            .zip(digests)
            .map(|(task, digest)| ResourceDescriptor {
                name: task.resource_name(),
                digest,
            })
            .collect())
    }

    /// Splits `files` into hashing tasks (one per file or shard).
    /// At most [`limits::MAX_RESOURCES`]: a signed `shard_size: 1` must not turn a small
    /// model into millions of tasks, so the count is known before any task is built.
    fn tasks_of<'m>(&self, files: &'m [ModelFile]) -> Result<Vec<HashTask<'m>>, HashError> {
        let count = self.task_count(files)?;
        if count > limits::MAX_RESOURCES {
            let hint = match self.serialization {
                Serialization::Shards { shard_size } => {
                    format!("; the shard size is {shard_size} bytes")
                }
                Serialization::Files => String::new(),
            };
            return Err(HashError::TooManyResources {
                count,
                unit: self.unit(),
                limit: limits::MAX_RESOURCES,
                hint,
            });
        }
        let mut tasks = Vec::with_capacity(count);
        match self.serialization {
            Serialization::Files => {
                for file in files {
                    tasks.push(HashTask {
                        file,
                        offset: 0,
                        len: file.size,
                        sharded: false,
                    });
                }
            }
            Serialization::Shards { shard_size } => {
                for file in files {
                    let mut start = 0;
                    // Zero-byte files produce no shard (OMS §6.3.2).
                    while start < file.size {
                        let end = file.size.min(start.saturating_add(shard_size));
                        tasks.push(HashTask {
                            file,
                            offset: start,
                            len: end - start,
                            sharded: true,
                        });
                        start = end;
                    }
                }
            }
        }
        Ok(tasks)
    }

    /// How many tasks (files or shards) the model is hashed as, saturating.
    fn task_count(&self, files: &[ModelFile]) -> Result<usize, HashError> {
        match self.serialization {
            Serialization::Files => Ok(files.len()),
            Serialization::Shards { shard_size: 0 } => Err(HashError::ZeroShardSize),
            Serialization::Shards { shard_size } => Ok(files.iter().fold(0usize, |n, f| {
                let shards = usize::try_from(f.size.div_ceil(shard_size)).unwrap_or(usize::MAX);
                n.saturating_add(shards)
            })),
        }
    }

    fn unit(&self) -> &'static str {
        match self.serialization {
            Serialization::Files => "file",
            Serialization::Shards { .. } => "shard",
        }
    }
}

#[cfg(test)]
mod tests;
