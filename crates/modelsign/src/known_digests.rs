//! Digests a pipeline already computed, for signing a model without hashing it again
//! (`sign --digests FILE`): a checksum list as `sha256sum`, `b2sum` or `b3sum` write it, or
//! the OMS manifest another tool wrote (a Sigstore bundle, an in-toto statement, or the bare
//! OMS predicate).
//!
//! Nothing here hashes a file and nothing checks a signature: the list is the pipeline's
//! word about the files, and a signature made from it says what the list said. That is why
//! [`DigestListFormat`] names where the digests came from, for the signer to report. The
//! list cannot make a model verify with other contents, because verification always hashes
//! the model: a wrong list only makes a signature that does not verify.
//!
//! The format is told from the content: JSON (the first character that is not white space
//! is `{`) is OMS input, anything else a checksum list.

use std::collections::btree_map::{BTreeMap, Entry};
use std::fmt;
use std::path::Path;

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::bundle::Bundle;
use crate::error::{KnownDigestsError, StatementError};
use crate::manifest::ResourceDescriptor;
use crate::model::canonicalize_relative;
use crate::serialization::{HashAlgorithm, SerializationRecord};
use crate::statement::{self, StatementFormat};
use crate::text::printable;
use crate::{dsse, limits};

/// The digests of a model's files (or shards) as a list gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestList {
    /// Where the digests came from, for reports.
    pub format: DigestListFormat,
    /// Each resource with its raw digest, sorted by name, no name twice. A name is a file's
    /// canonical relative path (`/`-separated, no `.`, `..` or empty components), or in
    /// OMS input `path:start:end` for a shard; OMS input may also name the file of a
    /// single-file model `.`, as model_signing 1.1.1 does.
    pub resources: Vec<ResourceDescriptor>,
    /// The serialization an OMS v1.0 manifest records (files or shards, the shard size,
    /// symbolic links, ignore paths); `None` for checksum lists and model_signing 0.2
    /// statements, which list whole files and record nothing else. Its `hash_type` is
    /// always the algorithm asked for.
    pub serialization: Option<SerializationRecord>,
}

/// What a digest list was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestListFormat {
    /// A checksum list as `sha256sum`, `b2sum` or `b3sum` write it (GNU or BSD-tag lines).
    ChecksumList,
    /// An OMS manifest in the statement of a Sigstore bundle, whose signature was not
    /// verified.
    OmsBundle,
    /// A bare (unsigned) in-toto statement carrying an OMS manifest.
    OmsStatement,
    /// A bare (unsigned) OMS predicate: `{"serialization": …, "resources": […]}`.
    OmsPredicate,
}

impl DigestListFormat {
    /// What the list is, in a few words: `checksum list`, `Sigstore bundle`, `in-toto
    /// statement`, `OMS predicate`.
    pub fn name(self) -> &'static str {
        match self {
            DigestListFormat::ChecksumList => "checksum list",
            DigestListFormat::OmsBundle => "Sigstore bundle",
            DigestListFormat::OmsStatement => "in-toto statement",
            DigestListFormat::OmsPredicate => "OMS predicate",
        }
    }

    /// What the list is and how far its digests were checked, for a report: the signature
    /// of a bundle is not verified, and nothing is re-hashed.
    pub fn describe(self) -> &'static str {
        match self {
            DigestListFormat::ChecksumList => "checksum list (sha256sum/b2sum/b3sum format)",
            DigestListFormat::OmsBundle => {
                "OMS manifest in a Sigstore bundle (its signature NOT verified)"
            }
            DigestListFormat::OmsStatement => "OMS manifest in an unsigned in-toto statement",
            DigestListFormat::OmsPredicate => "unsigned OMS predicate",
        }
    }
}

impl fmt::Display for DigestListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Reads the digest list at `path` (a regular file of at most
/// [`limits::MAX_DIGEST_LIST_FILE`] bytes) and parses it as [`parse`] does.
pub fn read(path: &Path, algorithm: HashAlgorithm) -> Result<DigestList, KnownDigestsError> {
    let bytes = limits::read_input_file(path, limits::MAX_DIGEST_LIST_FILE).map_err(|source| {
        KnownDigestsError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    parse(&bytes, algorithm)
}

/// Parses a digest list whose digests are `algorithm`'s, telling its format from the
/// content (a leading UTF-8 byte order mark is skipped):
///
/// - JSON is OMS input: a Sigstore bundle (its signature is not verified), an in-toto
///   statement (OMS v1.0, or model_signing 0.2's `Digests/v0.1`), or a bare OMS v1.0
///   predicate, each checked as a signed one would be (canonical, unique names, digests of
///   the right length, a v1.0 statement's subject digest the root digest of its
///   resources). Its digests must be `algorithm`'s: a manifest of another algorithm is an
///   error ([`KnownDigestsError::AlgorithmMismatch`]) rather than something each caller
///   must remember to compare.
/// - Anything else is a checksum list, one file per line, as GNU coreutils' `sha256sum`
///   and `b2sum` and BLAKE3's `b3sum` write it: `HEX  NAME` (text mode), `HEX *NAME`
///   (binary mode), or the BSD tag form `SHA256 (NAME) = HEX` (`BLAKE2b`, `BLAKE3`; the
///   tag must be `algorithm`'s). A line starting with `\` has its name escaped (`\\`,
///   `\n`, `\r`), as GNU writes names holding those characters; elsewhere a backslash is
///   a backslash. Blank lines and `#` comments are skipped, CRLF line ends accepted. A
///   leading `./` and repeated `/` are dropped from names; absolute names, `..`
///   components and NUL characters are refused. A name listed twice must have the same
///   digest both times. Hex digits may be of either case.
///
/// A checksum list does not say its algorithm except in the tag form, and sha256 and
/// blake3 digests have the same length: a `b3sum` list read as sha256 is accepted, and the
/// signature made from it does not verify.
pub fn parse(bytes: &[u8], algorithm: HashAlgorithm) -> Result<DigestList, KnownDigestsError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(KnownDigestsError::Empty),
        Some(b'{') => parse_oms(bytes, algorithm),
        Some(_) => parse_checksum_list(bytes, algorithm, limits::MAX_RESOURCES),
    }
}

/// The top-level keys that tell the OMS forms apart; the rest of the document is only
/// checked to be JSON, without building it.
#[derive(Deserialize)]
struct OmsShape {
    #[serde(rename = "mediaType")]
    media_type: Option<IgnoredAny>,
    #[serde(rename = "dsseEnvelope")]
    dsse_envelope: Option<IgnoredAny>,
    #[serde(rename = "_type")]
    statement_type: Option<IgnoredAny>,
    serialization: Option<IgnoredAny>,
    resources: Option<IgnoredAny>,
}

fn parse_oms(json: &[u8], algorithm: HashAlgorithm) -> Result<DigestList, KnownDigestsError> {
    let shape: OmsShape =
        serde_json::from_slice(json).map_err(|e| KnownDigestsError::Json(e.to_string()))?;
    if shape.media_type.is_some() || shape.dsse_envelope.is_some() {
        let format = DigestListFormat::OmsBundle;
        let bundle = Bundle::from_json(json).map_err(KnownDigestsError::Bundle)?;
        if bundle.envelope.payload_type != dsse::PAYLOAD_TYPE {
            return Err(KnownDigestsError::Statement {
                format: format.name(),
                source: StatementError::PayloadType(bundle.envelope.payload_type),
            });
        }
        from_statement(&bundle.envelope.payload, format, algorithm)
    } else if shape.statement_type.is_some() {
        from_statement(json, DigestListFormat::OmsStatement, algorithm)
    } else if shape.serialization.is_some() && shape.resources.is_some() {
        let format = DigestListFormat::OmsPredicate;
        let (record, mut resources) =
            statement::decode_predicate(json).map_err(|source| KnownDigestsError::Statement {
                format: format.name(),
                source,
            })?;
        check_algorithm(format, record.hash_type, algorithm)?;
        // Names are unique (checked); put them in canonical order.
        resources.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(DigestList {
            format,
            resources,
            serialization: Some(record),
        })
    } else {
        Err(KnownDigestsError::NotOms)
    }
}

fn from_statement(
    payload: &[u8],
    format: DigestListFormat,
    algorithm: HashAlgorithm,
) -> Result<DigestList, KnownDigestsError> {
    let signed = statement::decode(payload).map_err(|source| KnownDigestsError::Statement {
        format: format.name(),
        source,
    })?;
    let record = signed.manifest.serialization().clone();
    check_algorithm(format, record.hash_type, algorithm)?;
    let serialization = match signed.format {
        StatementFormat::V1 => Some(record),
        // What decode fills in for a statement that records no serialization.
        StatementFormat::LegacyDigests => None,
    };
    Ok(DigestList {
        format,
        resources: signed.manifest.resources().to_vec(),
        serialization,
    })
}

fn check_algorithm(
    format: DigestListFormat,
    found: HashAlgorithm,
    expected: HashAlgorithm,
) -> Result<(), KnownDigestsError> {
    if found == expected {
        Ok(())
    } else {
        Err(KnownDigestsError::AlgorithmMismatch {
            format: format.name(),
            found,
            expected,
        })
    }
}

/// How much of an offending digest an error quotes: a garbage line may be megabytes long.
const QUOTED_CHARS: usize = 80;

/// `text` as an error shows it: [`printable`], and cut after [`QUOTED_CHARS`] characters.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", printable(&text[..at])),
        None => printable(text).into_owned(),
    }
}

/// BSD-style tags (`SHA256 (NAME) = HEX`) each algorithm's digests may carry, compared
/// without regard to case: GNU's (`sha256sum --tag`, `b2sum --tag`, `cksum -a`) and
/// OpenSSL's (`openssl dgst`: `SHA2-256(NAME)= HEX`, `BLAKE2B-512(NAME)= HEX`).
fn tags(algorithm: HashAlgorithm) -> &'static [&'static str] {
    match algorithm {
        HashAlgorithm::Sha256 => &["SHA256", "SHA2-256"],
        HashAlgorithm::Blake2b => &["BLAKE2b", "BLAKE2b-512"],
        HashAlgorithm::Blake3 => &["BLAKE3"],
    }
}

/// The algorithms modelsign knows, for saying which one a tag belongs to.
const ALGORITHMS: [HashAlgorithm; 3] = [
    HashAlgorithm::Sha256,
    HashAlgorithm::Blake2b,
    HashAlgorithm::Blake3,
];

/// One line of a checksum list, before its name is made canonical.
struct ChecksumLine<'a> {
    digest: &'a str,
    /// As written (escaped when `escaped`).
    name: &'a str,
    escaped: bool,
}

/// Reads a checksum list of at most `max_files` files (a parameter so that tests can reach
/// the bound without a list of a million lines).
fn parse_checksum_list(
    bytes: &[u8],
    algorithm: HashAlgorithm,
    max_files: usize,
) -> Result<DigestList, KnownDigestsError> {
    // Name → (digest, the line that first listed it).
    let mut listed: BTreeMap<String, (Vec<u8>, usize)> = BTreeMap::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_number = index + 1;
        let bad = |reason: String| KnownDigestsError::Line {
            line: line_number,
            reason,
        };
        // A CR before the LF is the line end of a list written on Windows, as coreutils
        // takes it; a name ending in CR is written escaped (`\r`).
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| bad("it is not UTF-8 text (file names must be UTF-8)".into()))?;
        let line = line.trim_start_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = split_line(line, algorithm).map_err(bad)?;
        let digest = decode_hex(parsed.digest, algorithm).map_err(bad)?;
        let name = resource_name(&parsed).map_err(bad)?;
        let full = listed.len() >= max_files;
        match listed.entry(name) {
            Entry::Vacant(entry) => {
                if full {
                    return Err(KnownDigestsError::TooManyEntries { limit: max_files });
                }
                entry.insert((digest, line_number));
            }
            Entry::Occupied(entry) => {
                let (first_digest, first_line) = entry.get();
                if *first_digest != digest {
                    return Err(KnownDigestsError::ConflictingDigests {
                        name: entry.key().clone(),
                        first_line: *first_line,
                        line: line_number,
                    });
                }
            }
        }
    }
    if listed.is_empty() {
        return Err(KnownDigestsError::Empty);
    }
    Ok(DigestList {
        format: DigestListFormat::ChecksumList,
        resources: listed
            .into_iter()
            .map(|(name, (digest, _))| ResourceDescriptor { name, digest })
            .collect(),
        serialization: None,
    })
}

/// What a checksum list line looks like: the GNU form or the BSD tag form.
const LINE_FORMS: &str =
    "expected '<hex digest>  <file name>', '<hex digest> *<file name>' or '<TAG> (<file name>) = <hex digest>'";

/// Splits a line (leading white space and line end removed, not blank) into its digest
/// and its name, as coreutils reads it.
fn split_line(line: &str, algorithm: HashAlgorithm) -> Result<ChecksumLine<'_>, String> {
    let (escaped, rest) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    // A tag is a word that is not a hex number (every algorithm's name has a letter past
    // `f`), followed by `(` or ` (`. A GNU line's digest is followed by a space and then a
    // space or `*`, so the two cannot be confused.
    let word_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    let (word, after_word) = rest.split_at(word_len);
    let tagged = after_word
        .strip_prefix('(')
        .or_else(|| after_word.strip_prefix(" ("))
        .filter(|_| !word.bytes().all(|b| b.is_ascii_hexdigit()));
    if let Some(tagged) = tagged {
        check_tag(word, algorithm)?;
        // The name ends at the last `)`: a name may hold `)`, a hex digest cannot.
        let close = tagged.rfind(')').ok_or_else(|| {
            format!(
                "a tagged line needs '(<file name>) = <hex digest>' after the tag; {LINE_FORMS}"
            )
        })?;
        let (name, after_name) = (&tagged[..close], &tagged[close + 1..]);
        let digest = after_name
            .trim_start_matches([' ', '\t'])
            .strip_prefix('=')
            .ok_or_else(|| {
                format!("expected '= <hex digest>' after the file name's ')'; {LINE_FORMS}")
            })?
            .trim_matches([' ', '\t']);
        return Ok(ChecksumLine {
            digest,
            name,
            escaped,
        });
    }
    // GNU: the digest, one space, the mode (` ` text, `*` binary), then the name, every
    // character of it significant, leading and trailing spaces included.
    let Some((digest, after_digest)) = rest.split_once(' ') else {
        return Err(format!(
            "no file name after the digest '{}'; {LINE_FORMS}",
            quoted(rest)
        ));
    };
    let name = after_digest
        .strip_prefix(' ')
        .or_else(|| after_digest.strip_prefix('*'))
        .ok_or_else(|| {
            format!(
                "expected two spaces or ' *' between the digest and the file name; {LINE_FORMS}"
            )
        })?;
    Ok(ChecksumLine {
        digest,
        name,
        escaped,
    })
}

/// Refuses a tag that is not one of `algorithm`'s, saying whose it is when it is another
/// algorithm modelsign knows.
fn check_tag(tag: &str, algorithm: HashAlgorithm) -> Result<(), String> {
    let is_tag_of = |a: HashAlgorithm| tags(a).iter().any(|t| t.eq_ignore_ascii_case(tag));
    if is_tag_of(algorithm) {
        return Ok(());
    }
    let expected = tags(algorithm).join(" or ");
    Err(match ALGORITHMS.into_iter().find(|&a| is_tag_of(a)) {
        Some(other) => format!(
            "the digest is tagged {} ({other}), but the hash type is {algorithm} (tagged {expected}); choose {other} to sign these digests",
            quoted(tag)
        ),
        None => format!(
            "the digest is tagged '{}', an algorithm modelsign does not sign with; {algorithm} digests are tagged {expected}",
            quoted(tag)
        ),
    })
}

fn decode_hex(text: &str, algorithm: HashAlgorithm) -> Result<Vec<u8>, String> {
    let expected = algorithm.digest_len() * 2;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("the digest '{}' is not hexadecimal", quoted(text)));
    }
    if text.len() != expected {
        // Other lengths are other algorithms (or a truncated line): say which would fit.
        let fitting: Vec<&str> = ALGORITHMS
            .into_iter()
            .filter(|a| a.digest_len() * 2 == text.len())
            .map(HashAlgorithm::as_str)
            .collect();
        let hint = if fitting.is_empty() {
            String::new()
        } else {
            format!(" ({} digests have {})", fitting.join(" and "), text.len())
        };
        return Err(format!(
            "the digest has {} hex digits, but {algorithm} digests have {expected}{hint}",
            text.len()
        ));
    }
    // Every character is a hex digit and there is an even number of them.
    base16ct::mixed::decode_vec(text)
        .map_err(|_| format!("the digest '{}' is not hexadecimal", quoted(text)))
}

/// The canonical resource name of a line's file name.
fn resource_name(line: &ChecksumLine<'_>) -> Result<String, String> {
    let name = if line.escaped {
        unescape(line.name)?
    } else {
        line.name.to_owned()
    };
    if name.is_empty() {
        return Err("the file name is empty".into());
    }
    if name.contains('\0') {
        return Err(format!(
            "the file name '{}' contains a NUL character",
            printable(&name)
        ));
    }
    canonicalize_relative(&name).map_err(|reason| {
        format!(
            "the file name '{}' is not a path inside the model: {reason}",
            printable(&name)
        )
    })
}

/// Undoes GNU's escaping of a name on a line that starts with `\`: `\\` is a backslash,
/// `\n` a line feed, `\r` a carriage return; any other escape, or a lone backslash at the
/// end, is an error (coreutils refuses them too).
fn unescape(escaped: &str) -> Result<String, String> {
    let mut name = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            name.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => name.push('\\'),
            Some('n') => name.push('\n'),
            Some('r') => name.push('\r'),
            Some(other) => {
                return Err(format!(
                    "the escaped file name '{}' holds '\\{}', but only \\\\, \\n and \\r are escapes (the line starts with '\\')",
                    printable(escaped),
                    printable(other.encode_utf8(&mut [0; 4]))
                ))
            }
            None => {
                return Err(format!(
                    "the escaped file name '{}' ends in a lone backslash (the line starts with '\\')",
                    printable(escaped)
                ))
            }
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests;
