//! The manifest: every resource (file or shard) with its digest, the serialization settings
//! that produced it, and the comparison of a signed manifest with a freshly computed one.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::hashing::{HashAlgorithm, Serialization};

/// One manifest entry: a file (`files`) or a byte range of a file (`shards`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDescriptor {
    /// Canonical name: a relative `/`-separated path, with `:start:end` for shards.
    pub name: String,
    /// Raw digest bytes.
    pub digest: Vec<u8>,
}

/// The `predicate.serialization` block: how the manifest was produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializationRecord {
    pub serialization: Serialization,
    pub hash_type: HashAlgorithm,
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

/// A model's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Informational model name (the statement subject name).
    pub model_name: String,
    pub serialization: SerializationRecord,
    /// Resources in canonical order: by Unicode code point of `name` (OMS §5.2.1).
    pub resources: Vec<ResourceDescriptor>,
}

impl Manifest {
    /// Builds a manifest, putting the resources in canonical order.
    pub fn new(
        model_name: String,
        serialization: SerializationRecord,
        mut resources: Vec<ResourceDescriptor>,
    ) -> Self {
        // Byte order of UTF-8 is Unicode code-point order.
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        Manifest {
            model_name,
            serialization,
            resources,
        }
    }

    /// SHA-256 over the raw resource digests in listed order (OMS §6.5.1).
    pub fn root_digest(&self) -> [u8; 32] {
        root_digest(self.resources.iter().map(|r| r.digest.as_slice()))
    }

    /// `sha256:<hex root digest>`, as printed by `modelsign digest`.
    pub fn root_digest_string(&self) -> String {
        format!("sha256:{}", hex::encode(self.root_digest()))
    }
}

/// SHA-256 over concatenated raw digests.
pub fn root_digest<'a>(digests: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for digest in digests {
        hasher.update(digest);
    }
    hasher.finalize().into()
}

/// How a freshly hashed model differs from its signed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestDiff {
    /// Signed resources absent from the model.
    pub missing: Vec<String>,
    /// Files in the model that the signature does not cover.
    pub extra: Vec<String>,
    /// Resources whose contents changed.
    pub changed: Vec<String>,
    /// Symbolic links in the model, which the signature does not allow.
    pub symlinks: Vec<String>,
}

impl ManifestDiff {
    /// True when the model matches.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.extra.is_empty()
            && self.changed.is_empty()
            && self.symlinks.is_empty()
    }

    /// Compares a signed manifest with a freshly computed one. With `ignore_unsigned`, files
    /// the signature does not cover are tolerated; everything it does cover must match.
    pub fn between(signed: &Manifest, actual: &Manifest, ignore_unsigned: bool) -> Self {
        let expected: BTreeMap<&str, &[u8]> = signed
            .resources
            .iter()
            .map(|r| (r.name.as_str(), r.digest.as_slice()))
            .collect();
        let found: BTreeMap<&str, &[u8]> = actual
            .resources
            .iter()
            .map(|r| (r.name.as_str(), r.digest.as_slice()))
            .collect();
        let mut diff = ManifestDiff::default();
        for (name, digest) in &expected {
            match found.get(name) {
                None => diff.missing.push((*name).to_owned()),
                Some(actual) if actual != digest => diff.changed.push((*name).to_owned()),
                Some(_) => {}
            }
        }
        if !ignore_unsigned {
            diff.extra = found
                .keys()
                .filter(|name| !expected.contains_key(*name))
                .map(|name| (*name).to_owned())
                .collect();
        }
        diff
    }
}

/// How many paths of each category are listed before the rest is counted.
const LISTED_PER_CATEGORY: usize = 20;

impl fmt::Display for ManifestDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let categories = [
            ("changed files", &self.changed),
            ("missing files", &self.missing),
            ("unsigned extra files", &self.extra),
            (
                "symbolic links not allowed by the signature",
                &self.symlinks,
            ),
        ];
        let mut first = true;
        for (label, paths) in categories {
            if paths.is_empty() {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{label} ({}): ", paths.len())?;
            let shown: Vec<&str> = paths
                .iter()
                .take(LISTED_PER_CATEGORY)
                .map(String::as_str)
                .collect();
            f.write_str(&shown.join(", "))?;
            if paths.len() > LISTED_PER_CATEGORY {
                write!(f, " and {} more", paths.len() - LISTED_PER_CATEGORY)?;
            }
        }
        Ok(())
    }
}
