//! The manifest: every resource (file or shard) with its digest, the serialization settings
//! that produced it, and the comparison of a signed manifest with a freshly computed one.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

pub use crate::serialization::SerializationRecord;

/// One manifest entry: a file (`files`) or a byte range of a file (`shards`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDescriptor {
    /// Canonical name: a relative `/`-separated path, with `:start:end` for shards.
    pub name: String,
    /// Raw digest bytes.
    pub digest: Vec<u8>,
}

/// A model's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    model_name: String,
    serialization: SerializationRecord,
    /// Always in canonical order: [`Manifest::new`] sorts them.
    resources: Vec<ResourceDescriptor>,
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

    /// The informational model name (the statement subject's name).
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// How the manifest was produced.
    pub fn serialization(&self) -> &SerializationRecord {
        &self.serialization
    }

    /// The resources in canonical order: by Unicode code point of `name` (OMS §5.2.1).
    pub fn resources(&self) -> &[ResourceDescriptor] {
        &self.resources
    }

    /// SHA-256 over the raw resource digests in listed order (OMS §6.5.1).
    pub fn root_digest(&self) -> [u8; 32] {
        root_digest(self.resources.iter().map(|r| r.digest.as_slice()))
    }

    /// The resources of each file, by file name (a shard's file is its name without the
    /// `:start:end` suffix), each file's in canonical order.
    pub fn resources_by_file(&self) -> BTreeMap<&str, Vec<&ResourceDescriptor>> {
        let mut files: BTreeMap<&str, Vec<&ResourceDescriptor>> = BTreeMap::new();
        for resource in &self.resources {
            files
                .entry(self.serialization.serialization.file_of(&resource.name))
                .or_default()
                .push(resource);
        }
        files
    }

    /// `sha256:<hex root digest>`, as printed by `modelsign digest`.
    pub fn root_digest_string(&self) -> String {
        sha256_string(&self.root_digest())
    }
}

/// A SHA-256 digest as `sha256:<hex>`, the form `digest` prints and errors quote.
pub fn sha256_string(digest: &[u8]) -> String {
    format!("sha256:{}", base16ct::lower::encode_string(digest))
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
    /// The signed and the computed digest of each of [`ManifestDiff::changed`], same order.
    pub changed_digests: Vec<DigestChange>,
    /// Symbolic links in the model, which the signature does not allow.
    pub symlinks: Vec<String>,
    /// Entries of the model no signature can cover: devices, FIFOs, sockets, names that
    /// are not UTF-8 (odd bytes shown as `\xNN`).
    pub unsupported: Vec<String>,
}

/// A resource whose digest differs from the signed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChange {
    /// The resource's name in the manifest (`path`, or `path:start:end` for a shard).
    pub name: String,
    /// The digest algorithm of both (the signature's `hash_type`).
    pub algorithm: &'static str,
    /// Hex digest the signature records.
    pub expected: String,
    /// Hex digest of the resource on disk.
    pub actual: String,
}

impl ManifestDiff {
    /// True when the model matches.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.extra.is_empty()
            && self.changed.is_empty()
            && self.symlinks.is_empty()
            && self.unsupported.is_empty()
    }

    /// Compares a signed manifest with a freshly computed one. With `ignore_unsigned`, files
    /// the signature does not cover are tolerated; everything it does cover must match.
    pub fn between(signed: &Manifest, actual: &Manifest, ignore_unsigned: bool) -> Self {
        // One merge pass over both lists in name order: no maps, no per-name allocation
        // for the common case where everything matches.
        let expected = sorted_by_name(signed);
        let found = sorted_by_name(actual);
        let mut diff = ManifestDiff::default();
        let (mut e, mut f) = (expected.iter().peekable(), found.iter().peekable());
        loop {
            let order = match (e.peek(), f.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(want), Some(have)) => want.name.cmp(&have.name),
            };
            match order {
                Ordering::Equal => {
                    if let (Some(want), Some(have)) = (e.next(), f.next()) {
                        if want.digest != have.digest {
                            diff.changed.push(want.name.clone());
                            diff.changed_digests.push(DigestChange {
                                name: want.name.clone(),
                                algorithm: signed.serialization.algorithm(),
                                expected: base16ct::lower::encode_string(&want.digest),
                                actual: base16ct::lower::encode_string(&have.digest),
                            });
                        }
                    }
                }
                Ordering::Less => {
                    if let Some(want) = e.next() {
                        diff.missing.push(want.name.clone());
                    }
                }
                Ordering::Greater => {
                    if let Some(have) = f.next() {
                        if !ignore_unsigned {
                            diff.extra.push(have.name.clone());
                        }
                    }
                }
            }
        }
        diff
    }
}

/// The resources of `manifest` in name order (they normally are already).
fn sorted_by_name(manifest: &Manifest) -> Vec<&ResourceDescriptor> {
    let mut resources: Vec<&ResourceDescriptor> = manifest.resources.iter().collect();
    if !resources.is_sorted_by(|a, b| a.name <= b.name) {
        resources.sort_by(|a, b| a.name.cmp(&b.name));
    }
    resources
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
            (
                "entries no signature can cover (devices, FIFOs, sockets, names that are not UTF-8)",
                &self.unsupported,
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
            // Names come from the model and the signature: a name holding a newline or an
            // escape sequence must not forge lines or colours on the user's terminal.
            let shown: Vec<_> = paths
                .iter()
                .take(LISTED_PER_CATEGORY)
                .map(|name| crate::text::printable(name))
                .collect();
            f.write_str(&shown.join(", "))?;
            if paths.len() > LISTED_PER_CATEGORY {
                write!(f, " and {} more", paths.len() - LISTED_PER_CATEGORY)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serialization::{HashAlgorithm, Serialization};

    #[test]
    fn names_in_a_report_cannot_forge_lines_or_terminal_sequences() {
        let diff = ManifestDiff {
            extra: vec!["x\nVerification succeeded: m".into(), "\u{1b}[2Jy".into()],
            ..ManifestDiff::default()
        };
        let text = diff.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text:?}");
        assert_eq!(
            text,
            "unsigned extra files (2): x\\nVerification succeeded: m, \\x1b[2Jy"
        );
    }

    fn manifest(entries: &[(&str, u8)]) -> Manifest {
        Manifest {
            model_name: "m".into(),
            serialization: SerializationRecord {
                serialization: Serialization::Files,
                hash_type: HashAlgorithm::Sha256,
                allow_symlinks: false,
                ignore_paths: Vec::new(),
            },
            // Built directly, not through `new`: the comparison must not rely on order.
            resources: entries
                .iter()
                .map(|(name, byte)| ResourceDescriptor {
                    name: (*name).into(),
                    digest: vec![*byte; 32],
                })
                .collect(),
        }
    }

    #[test]
    fn diff_sorts_every_difference_into_its_category() {
        let signed = manifest(&[("z", 1), ("b", 2), ("a", 3), ("d", 4), ("c/x", 5)]);
        let actual = manifest(&[("e", 9), ("a", 3), ("c/x", 6), ("b", 2), ("0", 1)]);
        let diff = ManifestDiff::between(&signed, &actual, false);
        assert_eq!(diff.changed, ["c/x"]);
        assert_eq!(
            diff.changed_digests,
            [DigestChange {
                name: "c/x".into(),
                algorithm: "sha256",
                expected: "05".repeat(32),
                actual: "06".repeat(32),
            }]
        );
        assert_eq!(diff.missing, ["d", "z"]);
        assert_eq!(diff.extra, ["0", "e"]);
        assert!(diff.symlinks.is_empty());

        let tolerant = ManifestDiff::between(&signed, &actual, true);
        assert_eq!(tolerant.missing, ["d", "z"]);
        assert!(tolerant.extra.is_empty());

        assert!(ManifestDiff::between(&signed, &signed, false).is_empty());
        let empty = manifest(&[]);
        assert_eq!(ManifestDiff::between(&empty, &signed, false).extra.len(), 5);
        assert_eq!(
            ManifestDiff::between(&signed, &empty, false).missing.len(),
            5
        );
    }
}
