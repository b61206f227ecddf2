//! The in-toto Statement v1, whatever its predicate: one strict writer and one tolerant
//! reader, shared by the OMS signature ([`crate::statement`]), every attestation about a
//! model ([`crate::attestation`]) and Sigstore's subject check.
//!
//! The writer always produces the same bytes for the same statement (fixed key order,
//! two-space indentation, every non-ASCII character escaped), the layout the Python
//! reference writes. The reader accepts any statement of the right shape and names the
//! field at fault when one is missing or mistyped.

use std::collections::BTreeMap;
use std::io;

use serde::{Deserialize, Serialize};
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::{Map, Value};

use crate::error::StatementError;

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// The predicate type of an SLSA v1 provenance, which a pipeline stage's record is
/// ([`crate::provenance`]).
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// The predicate type of a CycloneDX BOM, which a signed model card is
/// ([`crate::card`]). Named here, with the other predicate types modelsign knows, so that
/// a reader of one kind of statement can recognise another kind and say what it is.
pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";

/// One subject: what the statement is about, by name and digests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Subject {
    /// The subject's name (a model's name, or a file's path in legacy statements).
    pub name: String,
    /// Where the subject can be found (a purl, a URL), when the statement says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests by algorithm name (`sha256`) as lowercase hex.
    pub digest: BTreeMap<String, String>,
    /// Further facts about the subject, written only when there are any.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
}

impl Subject {
    /// A subject named `name` with one SHA-256 digest.
    pub fn sha256(name: &str, digest: &[u8; 32]) -> Self {
        Subject {
            name: name.to_owned(),
            uri: None,
            digest: BTreeMap::from([("sha256".to_owned(), base16ct::lower::encode_string(digest))]),
            annotations: Map::new(),
        }
    }

    /// The SHA-256 digest, when the subject has a well-formed one.
    pub fn sha256_digest(&self) -> Option<[u8; 32]> {
        let bytes = base16ct::mixed::decode_vec(self.digest.get("sha256")?).ok()?;
        bytes.try_into().ok()
    }
}

/// A statement: its subjects, what kind of claim it makes (`predicate_type`) and the claim.
/// `P` is a typed predicate (written or read with serde) or raw JSON ([`Value`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement<P = Value> {
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// The predicate's type URI.
    pub predicate_type: String,
    /// The claim itself.
    pub predicate: P,
}

/// The statement as written: the field names and order of in-toto v1.
#[derive(Serialize, Deserialize)]
struct Wire<S, P> {
    #[serde(rename = "_type")]
    kind: String,
    subject: S,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: P,
}

impl<P: Serialize> Statement<P> {
    /// The statement as JSON, deterministically (see the module documentation).
    pub fn to_json(&self) -> Vec<u8> {
        encode(&self.subject, &self.predicate_type, &self.predicate, 1024)
    }
}

/// Writes a statement; `capacity` is the expected size (a manifest of many files is large,
/// and growing the buffer by doubling would copy it repeatedly).
pub(crate) fn encode<S: Serialize + ?Sized, P: Serialize + ?Sized>(
    subject: &S,
    predicate_type: &str,
    predicate: &P,
    capacity: usize,
) -> Vec<u8> {
    let wire = Wire {
        kind: STATEMENT_TYPE.to_owned(),
        subject,
        predicate_type: predicate_type.to_owned(),
        predicate,
    };
    let mut out = Vec::with_capacity(capacity);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiPretty::default());
    // Serialising strings, numbers, booleans and JSON values into memory cannot fail:
    // serde_json fails only on non-string map keys, which no statement type has.
    if wire.serialize(&mut serializer).is_err() {
        out.clear();
    }
    out
}

impl<'de, P: Deserialize<'de>> Statement<P> {
    /// Reads a statement of the expected shape straight into typed fields, or `None` if
    /// the payload is anything else; [`Statement::read`] then says what is wrong. Reading
    /// typed is what keeps a manifest of many files fast: a generic JSON tree of 20,000
    /// resources cost more than hashing the files.
    pub fn read_typed(payload: &'de [u8]) -> Option<Self> {
        let wire: Wire<Vec<Subject>, P> = serde_json::from_slice(payload).ok()?;
        (wire.kind == STATEMENT_TYPE).then_some(Statement {
            subject: wire.subject,
            predicate_type: wire.predicate_type,
            predicate: wire.predicate,
        })
    }
}

impl Statement<Value> {
    /// Reads any in-toto Statement v1, naming the field at fault when it is not one.
    /// A statement without a predicate has `Value::Null` as predicate (in-toto makes it
    /// optional).
    pub fn read(payload: &[u8]) -> Result<Self, StatementError> {
        let value: Value =
            serde_json::from_slice(payload).map_err(|e| StatementError::NotJson(e.to_string()))?;
        let Value::Object(mut statement) = value else {
            return Err(StatementError::NotJson(
                "the payload is not a JSON object".into(),
            ));
        };
        let kind = string_field(&statement, "_type", "_type")?;
        if kind != STATEMENT_TYPE {
            return Err(StatementError::StatementType(kind.to_owned()));
        }
        let predicate_type = string_field(&statement, "predicateType", "predicateType")?.to_owned();
        let subject = array_field(&statement, "subject", "subject")?
            .iter()
            .map(read_subject)
            .collect::<Result<_, _>>()?;
        Ok(Statement {
            subject,
            predicate_type,
            predicate: statement.remove("predicate").unwrap_or(Value::Null),
        })
    }
}

/// The predicate type of a statement, without reading its subjects or predicate: for
/// choosing which statements to verify, never for trusting one.
pub fn read_predicate_type(payload: &[u8]) -> Option<String> {
    Statement::<serde::de::IgnoredAny>::read_typed(payload).map(|s| s.predicate_type)
}

/// The subjects of a statement, without reading its predicate (which may be large).
pub fn read_subjects(payload: &[u8]) -> Result<Vec<Subject>, StatementError> {
    if let Some(statement) = Statement::<serde::de::IgnoredAny>::read_typed(payload) {
        return Ok(statement.subject);
    }
    Statement::read(payload).map(|statement| statement.subject)
}

fn read_subject(entry: &Value) -> Result<Subject, StatementError> {
    let entry = entry
        .as_object()
        .ok_or_else(|| invalid("subject", "an entry is not an object"))?;
    let name = string_field(entry, "name", "subject[].name")?.to_owned();
    let digests = entry
        .get("digest")
        .and_then(Value::as_object)
        .ok_or(StatementError::Missing("subject[].digest"))?;
    let digest = digests
        .iter()
        .map(|(algorithm, digest)| match digest {
            Value::String(digest) => Ok((algorithm.clone(), digest.clone())),
            _ => Err(invalid("subject[].digest", "a digest is not a string")),
        })
        .collect::<Result<_, _>>()?;
    let annotations = match entry.get("annotations") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(annotations)) => annotations.clone(),
        Some(_) => return Err(invalid("subject[].annotations", "not an object")),
    };
    let uri = match entry.get("uri") {
        None | Some(Value::Null) => None,
        Some(Value::String(uri)) => Some(uri.clone()),
        Some(_) => return Err(invalid("subject[].uri", "not a string")),
    };
    Ok(Subject {
        name,
        uri,
        digest,
        annotations,
    })
}

/// A string field of a JSON object; `field` names it in errors.
pub(crate) fn string_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'a str, StatementError> {
    match object.get(key) {
        None | Some(Value::Null) => Err(StatementError::Missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(field, "not a string")),
    }
}

/// An array field of a JSON object; `field` names it in errors.
pub(crate) fn array_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'a Vec<Value>, StatementError> {
    match object.get(key) {
        None | Some(Value::Null) => Err(StatementError::Missing(field)),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(field, "not an array")),
    }
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> StatementError {
    StatementError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// serde_json's pretty printer with every non-ASCII character written as a `\uXXXX` escape,
/// so payloads are plain ASCII whatever the file names are.
#[derive(Default)]
struct AsciiPretty<'a>(PrettyFormatter<'a>);

impl Formatter for AsciiPretty<'_> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // ASCII runs are copied whole: names and digests are almost always all ASCII, and
        // a write per byte made encoding a 20,000-file manifest cost 20 ms.
        let mut units = [0u16; 2];
        let mut plain_from = 0;
        for (at, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[plain_from..at])?;
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            plain_from = at + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain_from..])
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_reads_back_as_written_typed_and_raw() {
        let statement = Statement {
            subject: vec![Subject::sha256("m\u{e9}", &[3u8; 32])],
            predicate_type: "https://example.com/p".to_owned(),
            predicate: serde_json::json!({"b": 1, "a": "\u{e9}"}),
        };
        let bytes = statement.to_json();
        assert!(bytes.is_ascii(), "non-ASCII is escaped");
        assert!(bytes.starts_with(
            b"{\n  \"_type\": \"https://in-toto.io/Statement/v1\",\n  \"subject\": [\n"
        ));
        assert_eq!(Statement::read(&bytes).unwrap(), statement);
        assert_eq!(Statement::<Value>::read_typed(&bytes).unwrap(), statement);
        assert_eq!(statement.subject[0].sha256_digest(), Some([3u8; 32]));
    }

    #[test]
    fn the_tolerant_reader_names_the_field_at_fault() {
        let cases = [
            (r#"[]"#, "not a JSON object"),
            (r#"{"subject": []}"#, "'_type'"),
            (r#"{"_type": "x", "subject": []}"#, "statement type is 'x'"),
            (
                r#"{"_type": "https://in-toto.io/Statement/v1", "predicateType": "p"}"#,
                "'subject'",
            ),
            (
                r#"{"_type": "https://in-toto.io/Statement/v1", "predicateType": "p", "subject": [{"name": "m"}]}"#,
                "'subject[].digest'",
            ),
            (
                r#"{"_type": "https://in-toto.io/Statement/v1", "predicateType": "p", "subject": [{"name": 1, "digest": {}}]}"#,
                "'subject[].name'",
            ),
        ];
        for (payload, expected) in cases {
            let error = Statement::read(payload.as_bytes()).unwrap_err().to_string();
            assert!(error.contains(expected), "{payload}: {error}");
            assert!(Statement::<Value>::read_typed(payload.as_bytes()).is_none());
        }
    }
}
