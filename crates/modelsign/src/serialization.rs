//! The vocabulary every layer shares: the digest algorithms, how files map to manifest
//! entries, and the `serialization` block a signature records. It depends on nothing else
//! in the crate, so every module may use it.

use std::fmt;
use std::str::FromStr;

/// Default shard size (OMS v1.0 §6.3.2): 10^9 bytes.
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// A per-file (or per-shard) digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (required by OMS; the default).
    #[default]
    Sha256,
    /// BLAKE2b with a 64-byte digest, unkeyed.
    Blake2b,
    /// BLAKE3 with a 32-byte digest.
    Blake3,
}

impl HashAlgorithm {
    /// The identifier written as `hash_type` and `algorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Blake2b => "blake2b",
            HashAlgorithm::Blake3 => "blake3",
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 | HashAlgorithm::Blake3 => 32,
            HashAlgorithm::Blake2b => 64,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "blake2b" | "blake2" => Ok(HashAlgorithm::Blake2b),
            "blake3" => Ok(HashAlgorithm::Blake3),
            other => Err(format!(
                "unknown hash type '{other}' (supported: sha256, blake2b, blake3)"
            )),
        }
    }
}

/// How files map to manifest entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Serialization {
    /// One entry per file.
    #[default]
    Files,
    /// One entry per byte range of `shard_size` bytes (`path:start:end`).
    Shards {
        /// The size of every shard but a file's last, in bytes (positive).
        shard_size: u64,
    },
}

impl Serialization {
    /// The `method` identifier.
    pub fn method(self) -> &'static str {
        match self {
            Serialization::Files => "files",
            Serialization::Shards { .. } => "shards",
        }
    }

    /// The file a resource name belongs to: the name itself under `files`; under `shards`,
    /// the name without its `:start:end` suffix (the file name may hold colons itself).
    pub fn file_of(self, resource_name: &str) -> &str {
        match self {
            Serialization::Files => resource_name,
            Serialization::Shards { .. } => resource_name
                .rsplitn(3, ':')
                .nth(2)
                .unwrap_or(resource_name),
        }
    }
}

/// The `predicate.serialization` block: how the manifest was produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializationRecord {
    /// Files or shards, and the shard size.
    pub serialization: Serialization,
    /// The digest algorithm of every entry.
    pub hash_type: HashAlgorithm,
    /// Whether the signer followed symbolic links inside the model.
    pub allow_symlinks: bool,
    /// Excluded paths, relative to the model root.
    pub ignore_paths: Vec<String>,
}

impl SerializationRecord {
    /// The per-resource algorithm identifier (OMS §6.3: the same as `hash_type`).
    pub fn algorithm(&self) -> &'static str {
        self.hash_type.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_belongs_to_its_name_without_the_range() {
        let shards = Serialization::Shards { shard_size: 1 };
        // The path may hold colons itself: only the last two fields are the range.
        assert_eq!(shards.file_of("a/b:c:0:5"), "a/b:c");
        assert_eq!(shards.file_of("w.bin:100:110"), "w.bin");
        assert_eq!(Serialization::Files.file_of("a:0:5"), "a:0:5");
    }
}
