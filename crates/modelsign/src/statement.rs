//! The in-toto Statement carrying an OMS manifest: writing v1.0 statements, and reading
//! v1.0 as well as the legacy `Digests/v0.1` statements of model_signing 0.2.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::StatementError;
use crate::intoto::{self, array_field, invalid, string_field, Statement, Subject};
use crate::limits;
use crate::manifest::{self, Manifest, ResourceDescriptor};
use crate::model::{canonicalize_relative, ShardAlgorithmName};
use crate::serialization::{HashAlgorithm, Serialization, SerializationRecord};

/// `_type` of an in-toto Statement v1.
pub use crate::intoto::STATEMENT_TYPE;
/// The OMS v1.0 predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The predicate type of model_signing 0.2 (read only).
pub const LEGACY_PREDICATE_TYPE: &str = "https://model_signing/Digests/v0.1";

/// Which statement format a signature used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatementFormat {
    /// `https://model_signing/signature/v1.0`.
    V1,
    /// `https://model_signing/Digests/v0.1` (model_signing 0.2): one subject per file,
    /// no root digest, no serialization block.
    LegacyDigests,
}

/// A statement read from a verified payload.
#[derive(Debug, Clone)]
pub struct SignedStatement {
    /// Which statement version the payload is.
    pub format: StatementFormat,
    /// The signed manifest, resources in canonical order.
    pub manifest: Manifest,
    /// The root digest recorded in the subject (v1.0 only), already checked against the
    /// listed resources.
    pub root_digest: Option<[u8; 32]>,
}

/// Encodes the statement for `manifest` as JSON: two-space indentation, non-ASCII escaped,
/// fixed key order, integer `shard_size`, no trailing newline. Deterministic for a given
/// manifest, and the layout the Python reference produces itself. Shard resources name
/// their algorithm as OMS does ([`ShardAlgorithmName::HashType`]).
pub fn encode(manifest: &Manifest) -> Vec<u8> {
    encode_with(manifest, ShardAlgorithmName::HashType)
}

/// [`encode`], naming the algorithm of shard resources as `shard_algorithm_name` says.
pub fn encode_with(manifest: &Manifest, shard_algorithm_name: ShardAlgorithmName) -> Vec<u8> {
    let record = &manifest.serialization();
    let algorithm = resource_algorithm(record, shard_algorithm_name);
    let subject = [Subject::sha256(
        manifest.model_name(),
        &manifest.root_digest(),
    )];
    let predicate = PredicateOut {
        serialization: serialization_out(record),
        resources: manifest
            .resources()
            .iter()
            .map(|r| ResourceOut {
                name: &r.name,
                algorithm: &algorithm,
                digest: base16ct::lower::encode_string(&r.digest),
            })
            .collect(),
    };
    // About 160 bytes per resource.
    let capacity = 1024 + 192 * manifest.resources().len();
    intoto::encode(&subject, PREDICATE_TYPE, &predicate, capacity)
}

fn resource_algorithm(record: &SerializationRecord, name: ShardAlgorithmName) -> String {
    match (record.serialization, name) {
        (Serialization::Shards { shard_size }, ShardAlgorithmName::HashTypeShardedSize) => {
            format!("{}-sharded-{shard_size}", record.algorithm())
        }
        _ => record.algorithm().to_owned(),
    }
}

/// A `serialization` block as JSON, as the OMS predicate writes it.
pub fn serialization_value(record: &SerializationRecord) -> Value {
    let block = serialization_out(record);
    // Strings, numbers and booleans always convert.
    serde_json::to_value(block).unwrap_or_default()
}

fn serialization_out(record: &SerializationRecord) -> SerializationOut<'_> {
    SerializationOut {
        method: record.serialization.method(),
        hash_type: record.hash_type.as_str(),
        shard_size: match record.serialization {
            Serialization::Files => None,
            Serialization::Shards { shard_size } => Some(shard_size),
        },
        allow_symlinks: record.allow_symlinks,
        ignore_paths: &record.ignore_paths,
    }
}

#[derive(Serialize)]
struct PredicateOut<'a> {
    serialization: SerializationOut<'a>,
    resources: Vec<ResourceOut<'a>>,
}

#[derive(Serialize)]
struct SerializationOut<'a> {
    method: &'static str,
    hash_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_size: Option<u64>,
    allow_symlinks: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    ignore_paths: &'a [String],
}

#[derive(Serialize)]
struct ResourceOut<'a> {
    name: &'a str,
    algorithm: &'a str,
    digest: String,
}

/// Parses and checks a verified payload: statement type, predicate type, the shape of the
/// predicate, canonical and unique resource names, and (v1.0) that the subject digest is
/// the root digest of the listed resources.
pub fn decode(payload: &[u8]) -> Result<SignedStatement, StatementError> {
    // A well-formed v1.0 statement is read straight into typed fields. Anything else
    // (legacy formats, a missing or mistyped field) goes through the tolerant reader, whose
    // messages name the offending field; both readers accept exactly the same statements.
    if let Some(statement) = Statement::<TypedPredicate>::read_typed(payload) {
        if statement.predicate_type == PREDICATE_TYPE {
            return decode_v1(
                &statement.subject,
                &statement.predicate.serialization,
                statement
                    .predicate
                    .resources
                    .iter()
                    .map(TypedResource::listed),
            );
        }
    }
    let statement = Statement::read(payload)?;
    match statement.predicate_type.as_str() {
        PREDICATE_TYPE => {
            let (serialization, listed) = read_predicate(&statement.predicate)?;
            decode_v1(&statement.subject, serialization, listed)
        }
        LEGACY_PREDICATE_TYPE => decode_legacy(&statement.subject),
        intoto::CYCLONEDX_BOM => Err(StatementError::ModelCardSignature),
        other => Err(StatementError::PredicateType(other.to_owned())),
    }
}

/// The `serialization` and `resources` of a bare OMS v1.0 predicate (the `predicate` of a
/// statement, without the statement around it, as some pipelines keep their manifest),
/// checked as [`decode`] checks a statement's: resource names canonical and unique, each
/// algorithm the serialization's, each digest of its length. The resources are in listed
/// order. There is no subject, so there is no recorded root digest to compare.
pub(crate) fn decode_predicate(
    json: &[u8],
) -> Result<(SerializationRecord, Vec<ResourceDescriptor>), StatementError> {
    if let Ok(predicate) = serde_json::from_slice::<TypedPredicate>(json) {
        return decode_predicate_fields(
            &predicate.serialization,
            predicate.resources.iter().map(TypedResource::listed),
        );
    }
    let value: Value =
        serde_json::from_slice(json).map_err(|e| StatementError::NotJson(e.to_string()))?;
    let (serialization, listed) = read_predicate(&value)?;
    decode_predicate_fields(serialization, listed)
}

/// The tolerant reader's view of a v1.0 predicate: its `serialization` block and its
/// `resources` entries, each of which names the field at fault when it is misshapen.
fn read_predicate(predicate: &Value) -> Result<(&Map<String, Value>, Listed<'_>), StatementError> {
    let predicate = predicate
        .as_object()
        .ok_or(StatementError::Missing("predicate"))?;
    let serialization = predicate
        .get("serialization")
        .and_then(Value::as_object)
        .ok_or(StatementError::Missing("predicate.serialization"))?;
    let listed = array_field(predicate, "resources", "predicate.resources")?;
    Ok((serialization, listed.iter().map(listed_resource)))
}

/// The `resources` entries of a predicate read by the tolerant reader.
type Listed<'a> = std::iter::Map<
    std::slice::Iter<'a, Value>,
    fn(&'a Value) -> Result<ListedResource<'a>, StatementError>,
>;

fn listed_resource(entry: &Value) -> Result<ListedResource<'_>, StatementError> {
    let entry = entry
        .as_object()
        .ok_or_else(|| invalid("predicate.resources", "an entry is not an object"))?;
    Ok(ListedResource {
        name: string_field(entry, "name", "predicate.resources[].name")?,
        algorithm: string_field(entry, "algorithm", "predicate.resources[].algorithm")?,
        digest: string_field(entry, "digest", "predicate.resources[].digest")?,
    })
}

/// The predicate of a v1.0 statement with every field present and of the right type.
#[derive(Deserialize)]
struct TypedPredicate<'a> {
    serialization: Map<String, Value>,
    #[serde(borrow)]
    resources: Vec<TypedResource<'a>>,
}

/// Strings are borrowed from the payload unless they contain escapes.
#[derive(Deserialize)]
struct TypedResource<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    algorithm: Cow<'a, str>,
    #[serde(borrow)]
    digest: Cow<'a, str>,
}

impl TypedResource<'_> {
    fn listed(&self) -> Result<ListedResource<'_>, StatementError> {
        Ok(ListedResource {
            name: &self.name,
            algorithm: &self.algorithm,
            digest: &self.digest,
        })
    }
}

/// One entry of `predicate.resources`, as written.
struct ListedResource<'a> {
    name: &'a str,
    algorithm: &'a str,
    digest: &'a str,
}

fn decode_v1<'a>(
    subjects: &[Subject],
    serialization: &Map<String, Value>,
    listed: impl ExactSizeIterator<Item = Result<ListedResource<'a>, StatementError>>,
) -> Result<SignedStatement, StatementError> {
    if subjects.len() != 1 {
        return Err(StatementError::SubjectCount(subjects.len()));
    }
    let subject = &subjects[0];
    let model_name = subject.name.clone();
    let recorded_root = subject
        .digest
        .get("sha256")
        .ok_or(StatementError::Missing("subject[0].digest.sha256"))?;
    let recorded_root_bytes: [u8; 32] = base16ct::mixed::decode_vec(recorded_root)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| invalid("subject[0].digest.sha256", "not a SHA-256 hex digest"))?;

    let (record, resources) = decode_predicate_fields(serialization, listed)?;
    // The root digest is computed over the resources as listed, before any reordering.
    let computed = manifest::root_digest(resources.iter().map(|r| r.digest.as_slice()));
    if computed != recorded_root_bytes {
        return Err(StatementError::RootDigestMismatch {
            recorded: recorded_root.to_owned(),
            computed: base16ct::lower::encode_string(&computed),
        });
    }
    Ok(SignedStatement {
        format: StatementFormat::V1,
        manifest: Manifest::new(model_name, record, resources),
        root_digest: Some(computed),
    })
}

/// The serialization record and the resources (in listed order) of a v1.0 predicate.
fn decode_predicate_fields<'a>(
    serialization: &Map<String, Value>,
    listed: impl ExactSizeIterator<Item = Result<ListedResource<'a>, StatementError>>,
) -> Result<(SerializationRecord, Vec<ResourceDescriptor>), StatementError> {
    let record = decode_serialization(serialization)?;
    if listed.len() == 0 {
        return Err(StatementError::EmptyResources);
    }
    check_resource_count(listed.len())?;
    let mut resources = Vec::with_capacity(listed.len());
    for entry in listed {
        let entry = entry?;
        check_algorithm(entry.name, entry.algorithm, &record)?;
        let name = canonical_resource_name(entry.name, record.serialization)?;
        let digest = decode_digest(
            entry.digest,
            "predicate.resources[].digest",
            record.hash_type,
            entry.name,
        )?;
        resources.push(ResourceDescriptor { name, digest });
    }
    reject_duplicates(&resources)?;
    Ok((record, resources))
}

/// Refuses a manifest listing more than [`limits::MAX_RESOURCES`] resources.
fn check_resource_count(count: usize) -> Result<(), StatementError> {
    if count > limits::MAX_RESOURCES {
        return Err(StatementError::TooManyResources {
            count,
            limit: limits::MAX_RESOURCES,
        });
    }
    Ok(())
}

/// Refuses two resources with the same (canonical) name.
fn reject_duplicates(resources: &[ResourceDescriptor]) -> Result<(), StatementError> {
    // Sorting references is cheaper than hashing every name, and signers list resources
    // in order already.
    let mut names: Vec<&str> = resources.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(StatementError::DuplicateResource(pair[0].to_owned())),
        None => Ok(()),
    }
}

fn decode_legacy(subjects: &[Subject]) -> Result<SignedStatement, StatementError> {
    if subjects.is_empty() {
        return Err(StatementError::EmptyResources);
    }
    check_resource_count(subjects.len())?;
    let mut resources = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let name = canonical_resource_name(&subject.name, Serialization::Files)?;
        let digest = decode_digest(
            subject
                .digest
                .get("sha256")
                .ok_or(StatementError::Missing("subject[].digest.sha256"))?,
            "subject[].digest.sha256",
            HashAlgorithm::Sha256,
            &subject.name,
        )?;
        resources.push(ResourceDescriptor { name, digest });
    }
    reject_duplicates(&resources)?;
    let record = SerializationRecord {
        serialization: Serialization::Files,
        hash_type: HashAlgorithm::Sha256,
        allow_symlinks: false,
        ignore_paths: Vec::new(),
    };
    Ok(SignedStatement {
        format: StatementFormat::LegacyDigests,
        manifest: Manifest::new(String::new(), record, resources),
        root_digest: None,
    })
}

/// Reads a `serialization` block (the OMS predicate's, or an attestation subject's).
pub(crate) fn decode_serialization(
    serialization: &Map<String, Value>,
) -> Result<SerializationRecord, StatementError> {
    let method = string_field(serialization, "method", "predicate.serialization.method")?;
    let hash_type = string_field(
        serialization,
        "hash_type",
        "predicate.serialization.hash_type",
    )?;
    let hash_type: HashAlgorithm = hash_type
        .parse()
        .map_err(|reason: String| invalid("predicate.serialization.hash_type", reason))?;
    let serialization_kind = match method {
        "files" => Serialization::Files,
        "shards" => {
            let size = serialization
                .get("shard_size")
                .ok_or(StatementError::Missing(
                    "predicate.serialization.shard_size",
                ))?;
            Serialization::Shards {
                shard_size: shard_size(size)?,
            }
        }
        other => {
            return Err(invalid(
                "predicate.serialization.method",
                format!("unknown serialization method '{other}' (supported: files, shards)"),
            ))
        }
    };
    let allow_symlinks = match serialization.get("allow_symlinks") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(_) => {
            return Err(invalid(
                "predicate.serialization.allow_symlinks",
                "not a boolean",
            ))
        }
        None => {
            return Err(StatementError::Missing(
                "predicate.serialization.allow_symlinks",
            ))
        }
    };
    let ignore_paths = match serialization.get("ignore_paths") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    invalid(
                        "predicate.serialization.ignore_paths",
                        "an entry is not a string",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(invalid(
                "predicate.serialization.ignore_paths",
                "not an array",
            ))
        }
    };
    Ok(SerializationRecord {
        serialization: serialization_kind,
        hash_type,
        allow_symlinks,
        ignore_paths,
    })
}

/// `shard_size` as a positive integer; the Python reference writes it as a float (`8.0`).
fn shard_size(value: &Value) -> Result<u64, StatementError> {
    let field = "predicate.serialization.shard_size";
    let size = if let Some(n) = value.as_u64() {
        n
    } else if let Some(f) = value.as_f64() {
        if f.fract() != 0.0 || f < 1.0 || f > u64::MAX as f64 {
            return Err(invalid(
                field,
                format!("{f} is not a positive whole number"),
            ));
        }
        f as u64
    } else {
        return Err(invalid(field, "not a number"));
    };
    if size == 0 {
        return Err(invalid(field, "must be positive"));
    }
    Ok(size)
}

/// OMS names the per-resource algorithm like `hash_type`; model_signing writes
/// `<hash>-sharded-<size>` for shards. Both are accepted, nothing else.
fn check_algorithm(
    name: &str,
    algorithm: &str,
    record: &SerializationRecord,
) -> Result<(), StatementError> {
    let hash = record.hash_type.as_str();
    let ok = algorithm == hash
        || matches!(record.serialization, Serialization::Shards { shard_size }
            if algorithm == format!("{hash}-sharded-{shard_size}"));
    if ok {
        Ok(())
    } else {
        Err(StatementError::AlgorithmMismatch {
            name: name.to_owned(),
            algorithm: algorithm.to_owned(),
            expected: hash.to_owned(),
        })
    }
}

/// Canonical form of a signed resource name. `.` (model_signing's name for the file of a
/// single-file model) is kept as is; anything absolute or with `..` is refused.
fn canonical_resource_name(
    name: &str,
    serialization: Serialization,
) -> Result<String, StatementError> {
    let bad = |reason: &str| StatementError::BadResourceName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let (path, range) = match serialization {
        Serialization::Files => (name, None),
        Serialization::Shards { .. } => {
            // The byte range is the last two `:`-separated fields; the path may contain `:`.
            let mut parts = name.rsplitn(3, ':');
            let end = parts.next();
            let start = parts.next();
            let path = parts.next();
            let (Some(path), Some(start), Some(end)) = (path, start, end) else {
                return Err(bad("a shard name must be <path>:<start>:<end>"));
            };
            let start: u64 = start
                .parse()
                .map_err(|_| bad("shard start is not a number"))?;
            let end: u64 = end.parse().map_err(|_| bad("shard end is not a number"))?;
            if start >= end {
                return Err(bad("shard range is empty"));
            }
            (path, Some((start, end)))
        }
    };
    let path = if path == "." {
        ".".to_owned()
    } else {
        canonicalize_relative(path).map_err(bad)?
    };
    Ok(match range {
        None => path,
        Some((start, end)) => format!("{path}:{start}:{end}"),
    })
}

fn decode_digest(
    text: &str,
    field: &'static str,
    algorithm: HashAlgorithm,
    name: &str,
) -> Result<Vec<u8>, StatementError> {
    let digest = base16ct::mixed::decode_vec(text)
        .map_err(|_| invalid(field, format!("digest of '{name}' is not hexadecimal")))?;
    if digest.len() != algorithm.digest_len() {
        return Err(invalid(
            field,
            format!(
                "digest of '{name}' has {} bytes, {algorithm} digests have {}",
                digest.len(),
                algorithm.digest_len()
            ),
        ));
    }
    Ok(digest)
}

#[cfg(test)]
mod tests;
