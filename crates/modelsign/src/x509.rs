//! X.509 certificates and the path validation of the `certificate` method (OMS v1.0 §8.2).
//!
//! Written here rather than taken from `rustls-webpki` because OMS signing certificates are
//! not TLS end-entities: model_signing's own test leaf is marked `CA:TRUE` (webpki refuses
//! it as an end-entity), and the usage rule is "digitalSignature key usage OR codeSigning
//! extended key usage". Parsing is RustCrypto's `x509-cert`; signatures are checked with
//! aws-lc-rs. The checks follow RFC 5280 path validation as OpenSSL applies it, without
//! revocation or policy processing.

use std::collections::HashMap;
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
/// The SHA-256 fingerprint of a DER certificate as upper-case hex byte pairs joined by `:`,
/// the form of `openssl x509 -fingerprint -sha256` and model_signing's `--log_fingerprints`.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Longest chain searched, counting the leaf and the anchor.
const MAX_PATH_LEN: usize = 10;

/// A parsed X.509 certificate with its DER encoding.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    /// DER SubjectPublicKeyInfo: what identifies the key in path building.
    spki: Vec<u8>,
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
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| CertError::Malformed {
                context: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Certificate {
            der: der.to_vec(),
            cert,
            spki,
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

    /// The SHA-256 fingerprint: see [`sha256_fingerprint`].
    pub fn sha256_fingerprint(&self) -> String {
        sha256_fingerprint(&self.der)
    }

    /// The subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// The certified EC public key (modelsign signs with P-256/384/521 only).
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_spki_der(&self.spki)
    }

    /// Validity at `at`, naming the bound that is violated.
    fn check_validity(&self, at: SystemTime) -> Result<(), CertError> {
        let validity = &self.cert.tbs_certificate.validity;
        let not_before = validity.not_before.to_system_time();
        let not_after = validity.not_after.to_system_time();
        if at < not_before {
            return Err(CertError::Validity {
                subject: self.subject(),
                reason: format!("is not valid before {}", validity.not_before),
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

    /// Same subject and same key: interchangeable in a path, whatever else differs.
    fn same_name_and_key(&self, other: &Certificate) -> bool {
        self.spki == other.spki
            && self.cert.tbs_certificate.subject == other.cert.tbs_certificate.subject
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

/// Most signature checks one path search may make. A real chain needs one per
/// certificate, a few more where cross-certificates offer alternatives; 100 is the budget
/// webpki and Go's crypto/x509 use. Beyond it, a bundle can only be making the verifier
/// work before anything is authenticated.
pub const MAX_SIGNATURE_CHECKS: usize = 100;
/// Most issuer candidates (a certificate whose name fits the one being chained) one path
/// search may try. A real chain tries a handful; hostile ones with interchangeable
/// certificates at every level offer exponentially many paths whose signatures, checked
/// once each, stay within [`MAX_SIGNATURE_CHECKS`].
pub const MAX_PATH_SEARCH_STEPS: usize = 1_000;
/// Most certificates a bundle's chain may carry, the signing certificate included. Paths
/// are at most 10 long; OMS signers write the leaf and its intermediates (2 to 4).
pub const MAX_CHAIN_CERTIFICATES: usize = 32;
/// Most trust anchors one verification reads. A whole system trust store (Mozilla's has
/// some 150 roots) fits many times over.
pub const MAX_TRUST_ANCHORS: usize = 1_000;

/// Validates the signing certificate: a path from `leaf` through `intermediates` (the other
/// certificates of the bundle, untrusted) to one of `anchors` (trusted), every certificate
/// valid at `at`, every issuer a CA within its path length, every signature correct, and the
/// leaf allowed to sign (digitalSignature key usage or codeSigning extended key usage).
/// A leaf that is itself marked CA is accepted as a leaf.
///
/// The search is bounded: it never puts two certificates with the same name and key on
/// one path (RFC 4158 §5.2), checks each signature once, and gives up after
/// [`MAX_SIGNATURE_CHECKS`] signature checks or [`MAX_PATH_SEARCH_STEPS`] candidates.
pub fn validate_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    at: SystemTime,
) -> Result<(), CertError> {
    if anchors.is_empty() {
        return Err(CertError::NoAnchors);
    }
    check_counts(intermediates.len() + 1, anchors.len())?;
    check_signing_certificate(leaf, at)?;
    if anchors.iter().any(|a| a == leaf) {
        return Ok(());
    }
    let mut search = PathSearch {
        leaf,
        intermediates,
        anchors,
        at,
        verdicts: HashMap::new(),
        signature_checks: 0,
        steps: 0,
        failure: None,
        dead_end: (leaf, 1),
    };
    let mut path = vec![leaf];
    if search.extend(&mut path)? {
        return Ok(());
    }
    Err(match search.failure {
        Some(PathFailure::Validity(e)) => e,
        Some(PathFailure::Other(reason)) => untrusted(leaf, reason),
        None => {
            let (tail, _) = search.dead_end;
            untrusted(
                leaf,
                format!(
                    "no given certificate issued '{}' (issuer '{}')",
                    tail.subject(),
                    tail.cert.tbs_certificate.issuer
                ),
            )
        }
    })
}

/// The checks of [`validate_chain`] on the signing certificate alone, which need no trust
/// anchor: valid at `at`, allowed to sign (digitalSignature key usage or codeSigning
/// extended key usage), no critical extension this validation does not understand. A
/// signer runs them before signing, so that what verification would refuse is refused
/// then, with the error verification would report.
pub fn check_signing_certificate(leaf: &Certificate, at: SystemTime) -> Result<(), CertError> {
    leaf.check_validity(at)?;
    check_leaf_usage(leaf)?;
    if let Some(oid) = leaf.unknown_critical_extension() {
        return Err(untrusted(
            leaf,
            format!("unsupported critical extension {oid}"),
        ));
    }
    Ok(())
}

/// Refuses more chain certificates or anchors than the limits allow.
pub(crate) fn check_counts(chain: usize, anchors: usize) -> Result<(), CertError> {
    if chain > MAX_CHAIN_CERTIFICATES {
        return Err(CertError::TooMany {
            what: "the signature's certificate chain",
            count: chain,
            limit_name: "MAX_CHAIN_CERTIFICATES",
            limit: MAX_CHAIN_CERTIFICATES,
        });
    }
    if anchors > MAX_TRUST_ANCHORS {
        return Err(CertError::TooMany {
            what: "the list of trust anchors",
            count: anchors,
            limit_name: "MAX_TRUST_ANCHORS",
            limit: MAX_TRUST_ANCHORS,
        });
    }
    Ok(())
}

enum PathFailure {
    Validity(CertError),
    Other(String),
}

fn untrusted(leaf: &Certificate, reason: String) -> CertError {
    CertError::Untrusted {
        subject: leaf.subject(),
        reason,
    }
}

/// A signature check: the DER of the signed certificate and of the key checked against.
type SignatureKey<'a> = (&'a [u8], &'a [u8]);

/// A depth-first search for a path to an anchor, with the work it has done.
struct PathSearch<'a> {
    leaf: &'a Certificate,
    intermediates: &'a [Certificate],
    anchors: &'a [Certificate],
    at: SystemTime,
    /// Signature verdicts by (child DER, issuer public key DER): a signature is checked once
    /// however many paths reach it or however many certificates share the issuer's key.
    verdicts: HashMap<SignatureKey<'a>, Result<(), String>>,
    signature_checks: usize,
    steps: usize,
    /// The most recent failure of a candidate issuer, reported if no path is found.
    failure: Option<PathFailure>,
    /// The end of the longest path that no candidate could extend, and that path's length:
    /// where the error message says the chain stops.
    dead_end: (&'a Certificate, usize),
}

impl<'a> PathSearch<'a> {
    /// Extends `path` to an anchor, anchors first. `Ok(false)` when no path exists, an
    /// error when the search exceeded its budget.
    fn extend(&mut self, path: &mut Vec<&'a Certificate>) -> Result<bool, CertError> {
        let Some(&child) = path.last() else {
            return Ok(false);
        };
        let (anchors, intermediates) = (self.anchors, self.intermediates);
        let candidates = anchors
            .iter()
            .map(|c| (c, true))
            .chain(intermediates.iter().map(|c| (c, false)));
        let mut extended = false;
        for (issuer, trusted) in candidates {
            if path.contains(&issuer) || !child.names_issuer(issuer) {
                continue;
            }
            // The same name and key again would be a loop: whatever could follow it could
            // follow its first occurrence. Anchors end the path, so cannot loop.
            if !trusted && path.iter().any(|c| c.same_name_and_key(issuer)) {
                continue;
            }
            self.steps += 1;
            if self.steps > MAX_PATH_SEARCH_STEPS {
                return Err(self.gave_up("MAX_PATH_SEARCH_STEPS", MAX_PATH_SEARCH_STEPS));
            }
            if let Err(reason) = check_issuer(path, issuer, self.at) {
                self.failure = Some(reason);
                continue;
            }
            if let Err(reason) = self.signed_by(child, issuer)? {
                self.failure = Some(PathFailure::Other(reason));
                continue;
            }
            extended = true;
            if trusted {
                return Ok(true);
            }
            if path.len() + 1 >= MAX_PATH_LEN {
                self.failure = Some(PathFailure::Other("certificate chain is too long".into()));
                continue;
            }
            path.push(issuer);
            if self.extend(path)? {
                return Ok(true);
            }
            path.pop();
        }
        if !extended && path.len() > self.dead_end.1 {
            self.dead_end = (child, path.len());
        }
        Ok(false)
    }

    /// Did `issuer`'s key sign `child`? Checked once per (child, key), within the budget.
    fn signed_by(
        &mut self,
        child: &'a Certificate,
        issuer: &'a Certificate,
    ) -> Result<Result<(), String>, CertError> {
        let key = (child.der.as_slice(), issuer.spki.as_slice());
        if let Some(verdict) = self.verdicts.get(&key) {
            return Ok(verdict.clone());
        }
        self.signature_checks += 1;
        if self.signature_checks > MAX_SIGNATURE_CHECKS {
            return Err(self.gave_up("MAX_SIGNATURE_CHECKS", MAX_SIGNATURE_CHECKS));
        }
        let verdict = child.verify_signed_by(issuer);
        self.verdicts.insert(key, verdict.clone());
        Ok(verdict)
    }

    fn gave_up(&self, name: &str, limit: usize) -> CertError {
        untrusted(
            self.leaf,
            format!(
                "the path search reached its limit {name} ({limit}) without finding a path \
                 ({} signature checks, {} candidate issuers tried); genuine chains need far \
                 fewer, so these certificates look crafted to stall verification",
                self.signature_checks.min(MAX_SIGNATURE_CHECKS),
                self.steps.min(MAX_PATH_SEARCH_STEPS),
            ),
        )
    }
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
