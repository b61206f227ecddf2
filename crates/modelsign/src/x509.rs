//! X.509 certificates and the path validation of the `certificate` method (OMS v1.0 §8.2).
//!
//! Written here rather than taken from `rustls-webpki` because OMS signing certificates are
//! not TLS end-entities: model_signing's own test leaf is marked `CA:TRUE` (webpki refuses
//! it as an end-entity), and the usage rule is "digitalSignature key usage OR codeSigning
//! extended key usage". Parsing is RustCrypto's `x509-cert`; signatures are checked with
//! aws-lc-rs. The checks follow RFC 5280 path validation as OpenSSL applies it, without
//! revocation or policy processing.

use std::path::Path;
use std::time::SystemTime;

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Reader, SliceReader};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};

use crate::error::{CertError, KeyError};
use crate::keys::{self, Curve, PublicKey};
use crate::limits;

const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const OID_AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const OID_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Extensions a certificate may mark critical without failing validation: the ones above,
/// plus names, policies and distribution points, which do not restrict this use.
const UNDERSTOOD_EXTENSIONS: [&str; 10] = [
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.14",
    "2.5.29.35",
    "2.5.29.17",
    "2.5.29.18",
    "2.5.29.32",
    "2.5.29.31",
    "1.3.6.1.5.5.7.1.1",
];
/// Longest chain searched, counting the leaf and the anchor.
const MAX_PATH_LEN: usize = 10;

/// A parsed X.509 certificate with its DER encoding.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({})", self.subject())
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Certificate {
    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| CertError::Malformed {
            context: String::new(),
            reason: e.to_string(),
        })?;
        Ok(Certificate {
            der: der.to_vec(),
            cert,
        })
    }

    /// Every `CERTIFICATE` block of a PEM text, in order.
    pub fn from_pem_many(text: &[u8]) -> Result<Vec<Self>, CertError> {
        let blocks = keys::parse_pem(text).map_err(|e| CertError::Malformed {
            context: String::new(),
            reason: e.to_string(),
        })?;
        let certs: Vec<Self> = blocks
            .iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| Self::from_der(b.contents()))
            .collect::<Result<_, _>>()?;
        if certs.is_empty() {
            return Err(CertError::Malformed {
                context: String::new(),
                reason: "no CERTIFICATE PEM block".into(),
            });
        }
        Ok(certs)
    }

    /// Every certificate of a PEM file.
    pub fn read_pem_file(path: &Path) -> Result<Vec<Self>, CertError> {
        let text = limits::read_input_file(path, limits::MAX_SMALL_FILE).map_err(|source| {
            CertError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Self::from_pem_many(&text).map_err(|e| match e {
            CertError::Malformed { reason, .. } => CertError::Malformed {
                context: format!(" in '{}'", path.display()),
                reason,
            },
            other => other,
        })
    }

    /// DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// The certified EC public key (modelsign signs with P-256/384/521 only).
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        let spki = self
            .cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        PublicKey::from_spki_der(&spki)
    }

    /// Validity at `at`, naming the bound that is violated.
    fn check_validity(&self, at: SystemTime) -> Result<(), CertError> {
        let validity = &self.cert.tbs_certificate.validity;
        let not_before = validity.not_before.to_system_time();
        let not_after = validity.not_after.to_system_time();
        if at < not_before {
            return Err(CertError::Validity {
                subject: self.subject(),
                reason: format!("not valid before {}", validity.not_before),
            });
        }
        if at > not_after {
            return Err(CertError::Validity {
                subject: self.subject(),
                reason: format!("expired on {}", validity.not_after),
            });
        }
        Ok(())
    }

    fn extension<T: for<'a> Decode<'a>>(
        &self,
        oid: ObjectIdentifier,
    ) -> Option<Result<T, CertError>> {
        let ext = self
            .cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)?;
        Some(
            T::from_der(ext.extn_value.as_bytes()).map_err(|e| CertError::Malformed {
                context: format!(" ('{}', extension {oid})", self.subject()),
                reason: e.to_string(),
            }),
        )
    }

    fn unknown_critical_extension(&self) -> Option<String> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| {
                e.critical && !UNDERSTOOD_EXTENSIONS.contains(&e.extn_id.to_string().as_str())
            })
            .map(|e| e.extn_id.to_string())
    }

    /// May this certificate sign others? (basicConstraints CA, keyCertSign if key usage is
    /// present.) Returns the path length constraint when it may.
    fn ca_constraints(&self) -> Result<Option<u8>, String> {
        let is_v1 = self.cert.tbs_certificate.extensions.is_none();
        let basic = match self.extension::<BasicConstraints>(OID_BASIC_CONSTRAINTS) {
            Some(result) => Some(result.map_err(|e| e.to_string())?),
            None => None,
        };
        match &basic {
            Some(b) if b.ca => {}
            // Version 1 certificates have no extensions; OpenSSL trusts them as anchors.
            None if is_v1 => {}
            _ => return Err(format!("'{}' is not a CA certificate", self.subject())),
        }
        if let Some(usage) = self.extension::<KeyUsage>(OID_KEY_USAGE) {
            if !usage.map_err(|e| e.to_string())?.key_cert_sign() {
                return Err(format!(
                    "'{}' lacks the keyCertSign key usage",
                    self.subject()
                ));
            }
        }
        Ok(basic.and_then(|b| b.path_len_constraint))
    }

    fn is_self_issued(&self) -> bool {
        self.cert.tbs_certificate.subject == self.cert.tbs_certificate.issuer
    }

    /// Could `issuer` have issued this certificate (names and, when both are present,
    /// key identifiers agree)?
    fn names_issuer(&self, issuer: &Certificate) -> bool {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return false;
        }
        let authority = self
            .extension::<AuthorityKeyIdentifier>(OID_AUTHORITY_KEY_ID)
            .and_then(Result::ok)
            .and_then(|a| a.key_identifier);
        let subject = issuer
            .extension::<SubjectKeyIdentifier>(OID_SUBJECT_KEY_ID)
            .and_then(Result::ok);
        match (authority, subject) {
            (Some(a), Some(s)) => a == s.0,
            _ => true,
        }
    }

    /// Checks that `issuer`'s key signed this certificate.
    fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), String> {
        let tbs =
            raw_tbs(&self.der).map_err(|e| format!("cannot read '{}': {e}", self.subject()))?;
        let signature = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| "signature bit string is not whole bytes".to_owned())?;
        let spki = &issuer.cert.tbs_certificate.subject_public_key_info;
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| "issuer key bit string is not whole bytes".to_owned())?;
        let algorithm = signature_algorithm(
            &self.cert.signature_algorithm.oid,
            &spki.algorithm.oid,
            spki.algorithm.parameters.as_ref(),
        )?;
        UnparsedPublicKey::new(algorithm, key)
            .verify(tbs, signature)
            .map_err(|_| {
                format!(
                    "the signature on '{}' does not verify with the key of '{}'",
                    self.subject(),
                    issuer.subject()
                )
            })
    }
}

/// The TBSCertificate exactly as encoded in the certificate (re-encoding a parsed
/// structure is not guaranteed to reproduce the signed bytes).
fn raw_tbs(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der)?;
    let header = der::Header::decode(&mut reader)?;
    header.tag.assert_eq(der::Tag::Sequence)?;
    reader.tlv_bytes()
}

fn signature_algorithm(
    signature_oid: &ObjectIdentifier,
    key_oid: &ObjectIdentifier,
    key_parameters: Option<&der::Any>,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    let curve = || {
        keys::ec_curve(key_oid, key_parameters.map(Into::into).as_ref()).map_err(|e| e.to_string())
    };
    Ok(match signature_oid.to_string().as_str() {
        "1.2.840.113549.1.1.11" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "1.2.840.113549.1.1.12" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "1.2.840.113549.1.1.13" => &signature::RSA_PKCS1_2048_8192_SHA512,
        "1.3.101.112" => &signature::ED25519,
        "1.2.840.10045.4.3.2" => match curve()? {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &signature::ECDSA_P384_SHA256_ASN1,
            Curve::P521 => &signature::ECDSA_P521_SHA256_ASN1,
        },
        "1.2.840.10045.4.3.3" => match curve()? {
            Curve::P256 => &signature::ECDSA_P256_SHA384_ASN1,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1,
            Curve::P521 => &signature::ECDSA_P521_SHA384_ASN1,
        },
        "1.2.840.10045.4.3.4" => match curve()? {
            Curve::P256 => &signature::ECDSA_P256_SHA512_ASN1,
            Curve::P384 => &signature::ECDSA_P384_SHA512_ASN1,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1,
        },
        other => {
            return Err(format!(
                "unsupported certificate signature algorithm {other}"
            ))
        }
    })
}

/// Validates the signing certificate: a path from `leaf` through `intermediates` (the other
/// certificates of the bundle, untrusted) to one of `anchors` (trusted), every certificate
/// valid at `at`, every issuer a CA within its path length, every signature correct, and the
/// leaf allowed to sign (digitalSignature key usage or codeSigning extended key usage).
/// A leaf that is itself marked CA is accepted as a leaf.
pub fn validate_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    at: SystemTime,
) -> Result<(), CertError> {
    if anchors.is_empty() {
        return Err(CertError::NoAnchors);
    }
    leaf.check_validity(at)?;
    check_leaf_usage(leaf)?;
    if let Some(oid) = leaf.unknown_critical_extension() {
        return Err(untrusted(
            leaf,
            format!("unsupported critical extension {oid}"),
        ));
    }
    if anchors.iter().any(|a| a == leaf) {
        return Ok(());
    }
    let mut path = vec![leaf];
    let mut failure = None;
    if build_path(&mut path, intermediates, anchors, at, &mut failure) {
        return Ok(());
    }
    Err(match failure {
        Some(PathFailure::Validity(e)) => e,
        Some(PathFailure::Other(reason)) => untrusted(leaf, reason),
        None => untrusted(
            leaf,
            format!(
                "no given certificate issued '{}' (issuer '{}')",
                path_tail_subject(leaf),
                leaf.cert.tbs_certificate.issuer
            ),
        ),
    })
}

enum PathFailure {
    Validity(CertError),
    Other(String),
}

fn path_tail_subject(cert: &Certificate) -> String {
    cert.subject()
}

fn untrusted(leaf: &Certificate, reason: String) -> CertError {
    CertError::Untrusted {
        subject: leaf.subject(),
        reason,
    }
}

/// Depth-first search for an issuer of the last certificate in `path`, anchors first.
fn build_path<'a>(
    path: &mut Vec<&'a Certificate>,
    intermediates: &'a [Certificate],
    anchors: &'a [Certificate],
    at: SystemTime,
    failure: &mut Option<PathFailure>,
) -> bool {
    let Some(&child) = path.last() else {
        return false;
    };
    let candidates = anchors
        .iter()
        .map(|c| (c, true))
        .chain(intermediates.iter().map(|c| (c, false)));
    for (issuer, trusted) in candidates {
        if path.contains(&issuer) || !child.names_issuer(issuer) {
            continue;
        }
        if let Err(reason) = check_issuer(path, issuer, at) {
            *failure = Some(reason);
            continue;
        }
        if let Err(reason) = child.verify_signed_by(issuer) {
            *failure = Some(PathFailure::Other(reason));
            continue;
        }
        if trusted {
            return true;
        }
        if path.len() + 1 >= MAX_PATH_LEN {
            *failure = Some(PathFailure::Other("certificate chain is too long".into()));
            continue;
        }
        path.push(issuer);
        if build_path(path, intermediates, anchors, at, failure) {
            return true;
        }
        path.pop();
    }
    false
}

fn check_issuer(
    path: &[&Certificate],
    issuer: &Certificate,
    at: SystemTime,
) -> Result<(), PathFailure> {
    issuer.check_validity(at).map_err(PathFailure::Validity)?;
    if let Some(oid) = issuer.unknown_critical_extension() {
        return Err(PathFailure::Other(format!(
            "'{}' has unsupported critical extension {oid}",
            issuer.subject()
        )));
    }
    let path_len = issuer.ca_constraints().map_err(PathFailure::Other)?;
    if let Some(limit) = path_len {
        // Intermediates below this issuer, not counting the leaf or self-issued ones.
        let below = path.iter().skip(1).filter(|c| !c.is_self_issued()).count();
        if below > usize::from(limit) {
            return Err(PathFailure::Other(format!(
                "'{}' allows at most {limit} intermediate certificate(s) below it",
                issuer.subject()
            )));
        }
    }
    Ok(())
}

fn check_leaf_usage(leaf: &Certificate) -> Result<(), CertError> {
    if let Some(usage) = leaf.extension::<KeyUsage>(OID_KEY_USAGE) {
        if usage?.digital_signature() {
            return Ok(());
        }
    }
    if let Some(extended) = leaf.extension::<ExtendedKeyUsage>(OID_EXT_KEY_USAGE) {
        if extended?.0.contains(&OID_CODE_SIGNING) {
            return Ok(());
        }
    }
    Err(CertError::LeafUsage(leaf.subject()))
}

#[cfg(test)]
mod tests;
