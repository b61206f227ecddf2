//! Sigstore bundles: a tolerant reader for every shape OMS signers have written, a strict
//! writer for the one shape we write, and an atomic file write.

use std::fs;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::atomic_file::StagedFile;
use crate::dsse::{Envelope, Signature};
use crate::error::BundleError;
use crate::limits;

/// The media type modelsign writes.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Media types of Sigstore bundle versions accepted when reading.
const ACCEPTED_MEDIA_TYPES: [&str; 5] = [
    MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.2+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

/// What the verifier is given to check the signature with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMaterial {
    /// The `key` method: the verifier brings the public key; the bundle only hints at it.
    PublicKey {
        /// Hex SHA-256 of the key's PEM encoding (model_signing ≥ 1.1).
        hint: Option<String>,
        /// model_signing 0.3–1.0 stored the PEM public key itself here (`rawBytes`).
        legacy_raw_bytes: Option<Vec<u8>>,
    },
    /// The `certificate` method: DER certificates, signing certificate first.
    CertificateChain(Vec<Vec<u8>>),
    /// Sigstore keyless: one DER Fulcio certificate (transparency log entries alongside).
    Certificate(Vec<u8>),
}

impl VerificationMaterial {
    /// The signing method this material belongs to, for messages.
    pub fn method(&self) -> &'static str {
        match self {
            VerificationMaterial::PublicKey { .. } => "a public key (key method)",
            VerificationMaterial::CertificateChain(_) => "a certificate chain (certificate method)",
            VerificationMaterial::Certificate(_) => "Sigstore keyless signing",
        }
    }
}

/// A Sigstore bundle holding a DSSE envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The bundle format, `application/vnd.dev.sigstore.bundle.v0.3+json`.
    pub media_type: String,
    /// What verifies the signature: a public key hint, a certificate chain or Sigstore material.
    pub material: VerificationMaterial,
    /// Transparency log entries, kept as JSON (Sigstore verification reads them).
    pub tlog_entries: Vec<Value>,
    /// RFC 3161 timestamps and the like, kept as JSON.
    pub timestamp_verification_data: Option<Value>,
    /// The signed DSSE envelope holding the statement.
    pub envelope: Envelope,
    /// The JSON text the bundle was read from, if it was read: Sigstore verification hands
    /// it unchanged to sigstore-verify's own parser. Private: it must be the text the other
    /// fields were parsed from.
    source: Option<Vec<u8>>,
}

impl Bundle {
    /// The JSON text the bundle was read from, if it was read (not built).
    pub fn source_json(&self) -> Option<&[u8]> {
        self.source.as_deref()
    }

    /// A bundle of the current format around `envelope`.
    pub fn new(material: VerificationMaterial, envelope: Envelope) -> Self {
        Bundle {
            media_type: MEDIA_TYPE.to_owned(),
            material,
            tlog_entries: Vec::new(),
            timestamp_verification_data: None,
            envelope,
            source: None,
        }
    }

    /// Reads a bundle file.
    pub fn read(path: &Path) -> Result<Self, BundleError> {
        let bytes =
            limits::read_input_file(path, limits::MAX_SIGNATURE_FILE).map_err(|source| {
                BundleError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        Self::from_json(&bytes)
    }

    /// Parses a bundle, accepting every layout OMS signers have produced: spaced or compact
    /// JSON, `keyid` absent, null or empty, `tlogEntries` absent, legacy `rawBytes` keys.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(BundleError::Malformed("the signature file is empty".into()));
        }
        let value: Value = serde_json::from_slice(bytes)?;
        let root = value
            .as_object()
            .ok_or_else(|| malformed("the top level is not a JSON object"))?;
        let media_type = root
            .get("mediaType")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("'mediaType' is missing"))?;
        if !ACCEPTED_MEDIA_TYPES.contains(&media_type) {
            return Err(BundleError::MediaType(media_type.to_owned()));
        }
        let material = root
            .get("verificationMaterial")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("'verificationMaterial' is missing"))?;
        let tlog_entries = match material.get("tlogEntries") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(entries)) => entries.clone(),
            Some(_) => return Err(malformed("'tlogEntries' is not an array")),
        };
        let timestamp_verification_data = material
            .get("timestampVerificationData")
            .filter(|v| !v.is_null())
            .cloned();
        let envelope = match root.get("dsseEnvelope") {
            Some(Value::Object(envelope)) => parse_envelope(envelope)?,
            _ if root.contains_key("messageSignature") => {
                return Err(malformed(
                    "it carries a message signature, but OMS signatures carry a DSSE envelope",
                ))
            }
            _ => return Err(malformed("'dsseEnvelope' is missing")),
        };
        Ok(Bundle {
            media_type: media_type.to_owned(),
            material: parse_material(material)?,
            tlog_entries,
            timestamp_verification_data,
            envelope,
            source: Some(bytes.to_vec()),
        })
    }

    /// Compact JSON in the layout model_signing 1.1 writes (and its strict reader accepts).
    pub fn to_json(&self) -> Vec<u8> {
        let raw = |der: &Vec<u8>| RawBytesOut {
            raw_bytes: BASE64.encode(der),
        };
        let (public_key, chain, certificate) = match &self.material {
            VerificationMaterial::PublicKey { hint, .. } => (
                Some(PublicKeyOut {
                    hint: hint.clone().unwrap_or_default(),
                }),
                None,
                None,
            ),
            VerificationMaterial::CertificateChain(certs) => (
                None,
                Some(ChainOut {
                    certificates: certs.iter().map(raw).collect(),
                }),
                None,
            ),
            VerificationMaterial::Certificate(cert) => (None, None, Some(raw(cert))),
        };
        let out = BundleOut {
            media_type: &self.media_type,
            verification_material: MaterialOut {
                public_key,
                x509_certificate_chain: chain,
                certificate,
                tlog_entries: &self.tlog_entries,
                timestamp_verification_data: self.timestamp_verification_data.as_ref(),
            },
            dsse_envelope: EnvelopeOut {
                payload: BASE64.encode(&self.envelope.payload),
                payload_type: &self.envelope.payload_type,
                signatures: self
                    .envelope
                    .signatures
                    .iter()
                    .map(|s| SignatureOut {
                        sig: BASE64.encode(&s.sig),
                        keyid: s.keyid.as_deref().unwrap_or(""),
                    })
                    .collect(),
            },
        };
        let mut json = Vec::with_capacity(out.dsse_envelope.payload.len() + 16 * 1024);
        // Plain strings, arrays and already-parsed JSON values serialise infallibly.
        serde_json::to_writer(&mut json, &out).expect("bundle serialisation is infallible");
        json
    }

    /// Writes the bundle to `path` atomically: a temporary file in the same directory is
    /// written, flushed to disk and renamed over `path`, so an interrupted or failed write
    /// never leaves a partial signature behind. A stop requested before the rename (see
    /// [`crate::hashing::interrupt`]) deletes the temporary file, leaves `path` as it was
    /// and returns [`BundleError::Interrupted`].
    pub fn write_atomic(&self, path: &Path) -> Result<(), BundleError> {
        check_target(path)?;
        crate::interrupt::check()?;
        let write_err = |source| BundleError::Write {
            path: path.to_path_buf(),
            source,
        };
        // A signature is published beside the model: the mode of any new file, as
        // model_signing writes it (tempfile alone would make it owner-only).
        let mode = crate::atomic_file::shared_file_mode();
        let staged =
            StagedFile::write(path, ".modelsign-", &self.to_json(), mode).map_err(write_err)?;
        // The last check point: past it the signature is replaced. Returning drops `staged`,
        // which deletes the temporary file.
        crate::interrupt::check()?;
        staged.replace(path).map_err(write_err)?;
        Ok(())
    }
}

/// Refuses a path a signature must not be written to. The write renames a new file over
/// the path, which would replace whatever directory entry is there: a device node
/// (`/dev/null` as root), a symbolic link (`/dev/stdout`) or a directory. Only a regular
/// file, or nothing, may be replaced.
pub fn check_target(path: &Path) -> Result<(), BundleError> {
    let refuse = |reason: String| BundleError::Target {
        path: path.to_path_buf(),
        reason,
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(meta) if meta.file_type().is_symlink() => Err(refuse(
            "it is a symbolic link, which the signature would replace; give the path it points to"
                .into(),
        )),
        Ok(meta) => Err(refuse(format!(
            "it is {}; a signature is written only as a regular file",
            limits::describe_file_type(&meta.file_type())
        ))),
        Err(_) => Ok(()),
    }
}

fn parse_material(material: &Map<String, Value>) -> Result<VerificationMaterial, BundleError> {
    let present: Vec<&str> = ["publicKey", "x509CertificateChain", "certificate"]
        .into_iter()
        .filter(|k| material.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    if present.len() != 1 {
        return Err(malformed(
            "'verificationMaterial' must hold exactly one of publicKey, x509CertificateChain or certificate",
        ));
    }
    match present[0] {
        "publicKey" => {
            let key = material["publicKey"]
                .as_object()
                .ok_or_else(|| malformed("'publicKey' is not an object"))?;
            let hint = match key.get("hint") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(malformed("'publicKey.hint' is not a string")),
            };
            let legacy_raw_bytes = match key.get("rawBytes") {
                None | Some(Value::Null) => None,
                Some(value) => Some(decode_base64(value, "publicKey.rawBytes")?),
            };
            Ok(VerificationMaterial::PublicKey {
                hint,
                legacy_raw_bytes,
            })
        }
        "x509CertificateChain" => {
            let certificates = material["x509CertificateChain"]
                .get("certificates")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed("'x509CertificateChain.certificates' is missing"))?;
            if certificates.is_empty() {
                return Err(malformed("'x509CertificateChain' holds no certificate"));
            }
            let ders = certificates
                .iter()
                .map(|c| raw_bytes(c, "x509CertificateChain.certificates[].rawBytes"))
                .collect::<Result<_, _>>()?;
            Ok(VerificationMaterial::CertificateChain(ders))
        }
        _ => Ok(VerificationMaterial::Certificate(raw_bytes(
            &material["certificate"],
            "certificate.rawBytes",
        )?)),
    }
}

fn parse_envelope(envelope: &Map<String, Value>) -> Result<Envelope, BundleError> {
    let payload = decode_base64(
        envelope
            .get("payload")
            .ok_or_else(|| malformed("'dsseEnvelope.payload' is missing"))?,
        "dsseEnvelope.payload",
    )?;
    let payload_type = envelope
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("'dsseEnvelope.payloadType' is missing"))?
        .to_owned();
    let signatures = match envelope.get("signatures") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let sig = item
                    .get("sig")
                    .ok_or_else(|| malformed("a DSSE signature has no 'sig'"))?;
                let keyid = match item.get("keyid") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(_) => return Err(malformed("a DSSE 'keyid' is not a string")),
                };
                Ok(Signature {
                    sig: decode_base64(sig, "dsseEnvelope.signatures[].sig")?,
                    keyid,
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(malformed("'dsseEnvelope.signatures' is not an array")),
    };
    Ok(Envelope {
        payload,
        payload_type,
        signatures,
    })
}

fn raw_bytes(value: &Value, field: &str) -> Result<Vec<u8>, BundleError> {
    decode_base64(
        value
            .get("rawBytes")
            .ok_or_else(|| malformed(&format!("'{field}' is missing")))?,
        field,
    )
}

fn decode_base64(value: &Value, field: &str) -> Result<Vec<u8>, BundleError> {
    let text = value
        .as_str()
        .ok_or_else(|| malformed(&format!("'{field}' is not a string")))?;
    BASE64
        .decode(text.trim())
        .map_err(|e| malformed(&format!("'{field}' is not valid base64: {e}")))
}

fn malformed(reason: &str) -> BundleError {
    BundleError::Malformed(reason.to_owned())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleOut<'a> {
    media_type: &'a str,
    verification_material: MaterialOut<'a>,
    dsse_envelope: EnvelopeOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MaterialOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<PublicKeyOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x509_certificate_chain: Option<ChainOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<RawBytesOut>,
    tlog_entries: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp_verification_data: Option<&'a Value>,
}

#[derive(Serialize)]
struct PublicKeyOut {
    hint: String,
}

#[derive(Serialize)]
struct ChainOut {
    certificates: Vec<RawBytesOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RawBytesOut {
    raw_bytes: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeOut<'a> {
    payload: String,
    payload_type: &'a str,
    signatures: Vec<SignatureOut<'a>>,
}

#[derive(Serialize)]
struct SignatureOut<'a> {
    sig: String,
    keyid: &'a str,
}
