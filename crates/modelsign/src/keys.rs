//! Elliptic-curve keys: loading PEM (PKCS#8, SEC1, encrypted PKCS#8, SPKI), signing and
//! verifying ECDSA with the curve's hash, and the public-key hint model_signing records.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use der::asn1::{AnyRef, BitString, ObjectIdentifier};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};

use crate::atomic_file::StagedFile;
use crate::error::{KeyError, SignError};
use crate::limits;

pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// A NIST curve modelsign signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Curve {
    /// NIST P-256 (secp256r1), signed with SHA-256.
    P256,
    /// NIST P-384 (secp384r1), signed with SHA-384.
    P384,
    /// NIST P-521 (secp521r1), signed with SHA-512.
    P521,
}

impl Curve {
    fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            OID_P256 => Some(Curve::P256),
            OID_P384 => Some(Curve::P384),
            OID_P521 => Some(Curve::P521),
            _ => None,
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Curve::P256 => OID_P256,
            Curve::P384 => OID_P384,
            Curve::P521 => OID_P521,
        }
    }

    /// Uncompressed point length.
    fn point_len(self) -> usize {
        match self {
            Curve::P256 => 65,
            Curve::P384 => 97,
            Curve::P521 => 133,
        }
    }

    /// ECDSA with the curve's hash (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512), DER signatures.
    fn signing(self) -> &'static signature::EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    fn verification(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1,
        }
    }

    fn verification_sha256(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &signature::ECDSA_P384_SHA256_ASN1,
            Curve::P521 => &signature::ECDSA_P521_SHA256_ASN1,
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        })
    }
}

/// Which hash an ECDSA signature was made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureHash {
    /// The curve's own hash (what every current signer uses).
    CurveDefault,
    /// SHA-256 whatever the curve (model_signing 0.2 certificate signatures).
    Sha256,
}

/// An EC public key on P-256, P-384 or P-521.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    curve: Curve,
    /// Uncompressed SEC1 point.
    point: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, hint {})", self.curve, self.hint())
    }
}

impl PublicKey {
    /// Reads a PEM public key file (free text around the PEM block is skipped).
    pub fn read_pem_file(path: &Path) -> Result<Self, KeyError> {
        let text = limits::read_input_file(path, limits::MAX_SMALL_FILE).map_err(|source| {
            KeyError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Self::from_pem(&text)
    }

    /// Parses the first `PUBLIC KEY` PEM block.
    pub fn from_pem(text: &[u8]) -> Result<Self, KeyError> {
        let blocks = parse_pem(text)?;
        let block = blocks
            .iter()
            .find(|b| b.tag() == "PUBLIC KEY")
            .ok_or_else(|| match blocks.first() {
                Some(b) if b.tag().contains("PRIVATE KEY") => KeyError::Malformed(
                    "this is a private key; verification needs the public key (PUBLIC KEY PEM)"
                        .into(),
                ),
                Some(b) => KeyError::Malformed(format!(
                    "expected a PUBLIC KEY PEM block, found {}",
                    b.tag()
                )),
                None => KeyError::NoPem(String::new()),
            })?;
        Self::from_spki_der(block.contents())
    }

    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| KeyError::Malformed(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let curve = ec_curve(&spki.algorithm.oid, spki.algorithm.parameters.as_ref())?;
        let point = spki.subject_public_key.as_bytes().ok_or_else(|| {
            KeyError::Malformed("public key bit string is not whole bytes".into())
        })?;
        Self::from_point(curve, point)
    }

    /// A public key from its curve's DER parameters (a named-curve OID, as PKCS#11's
    /// CKA_EC_PARAMS holds it) and its uncompressed point.
    pub fn from_ec_parts(parameters_der: &[u8], point: &[u8]) -> Result<Self, KeyError> {
        let oid = ObjectIdentifier::from_der(parameters_der).map_err(|_| {
            KeyError::Malformed("EC parameters are not a named curve (an OID)".into())
        })?;
        let curve = Curve::from_oid(&oid).ok_or_else(|| {
            KeyError::UnsupportedKeyType(format!("EC curve {}", curve_name(&oid)))
        })?;
        Self::from_point(curve, point)
    }

    fn from_point(curve: Curve, point: &[u8]) -> Result<Self, KeyError> {
        if point.first() != Some(&0x04) || point.len() != curve.point_len() {
            return Err(KeyError::Malformed(format!(
                "expected an uncompressed {curve} point of {} bytes",
                curve.point_len()
            )));
        }
        Ok(PublicKey {
            curve,
            point: point.to_vec(),
        })
    }

    /// The key's elliptic curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// DER SubjectPublicKeyInfo (named curve, uncompressed point), as OpenSSL writes it.
    pub fn spki_der(&self) -> Vec<u8> {
        let info = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: OID_EC_PUBLIC_KEY,
                parameters: Some(Any::encode_from(&self.curve.oid()).expect("an OID encodes")),
            },
            subject_public_key: BitString::from_bytes(&self.point)
                .expect("a point fits a bit string"),
        };
        info.to_der().expect("a SubjectPublicKeyInfo encodes")
    }

    /// PEM `PUBLIC KEY` with 64-column lines and a final newline, byte for byte as
    /// OpenSSL (and so Python's `cryptography`) prints it.
    pub fn to_pem(&self) -> String {
        let body = BASE64.encode(self.spki_der());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            // Base64 output is ASCII.
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// The `publicKey.hint` model_signing records: hex SHA-256 of [`PublicKey::to_pem`].
    pub fn hint(&self) -> String {
        base16ct::lower::encode_string(&Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Checks a DER ECDSA signature over `message`.
    pub fn verify(&self, message: &[u8], signature_der: &[u8], hash: SignatureHash) -> bool {
        let algorithm = match hash {
            SignatureHash::CurveDefault => self.curve.verification(),
            SignatureHash::Sha256 => self.curve.verification_sha256(),
        };
        UnparsedPublicKey::new(algorithm, &self.point)
            .verify(message, signature_der)
            .is_ok()
    }
}

/// An EC private key on P-256, P-384 or P-521.
pub struct PrivateKey {
    curve: Curve,
    pair: EcdsaKeyPair,
    signer: EcdsaSigner,
}

/// Signing goes through RustCrypto's ECDSA rather than aws-lc: aws-lc seeds its random
/// generator from CPU jitter on first use, a fixed ~55 ms per process that dominated signing
/// small models. P-256 and P-384 use RFC 6979 deterministic nonces (no random generator at
/// all); p521 0.13 offers only random nonces, taken from the OS generator.
enum EcdsaSigner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

impl EcdsaSigner {
    fn from_pair(curve: Curve, pair: &EcdsaKeyPair) -> Result<Self, KeyError> {
        use p256::pkcs8::DecodePrivateKey;
        let der = pair
            .to_pkcs8v1()
            .map_err(|_| KeyError::Malformed("cannot encode the key as PKCS#8".into()))?;
        let der = der.as_ref();
        let bad = |e: p256::pkcs8::Error| KeyError::Malformed(format!("{curve} private key: {e}"));
        Ok(match curve {
            Curve::P256 => Self::P256(p256::SecretKey::from_pkcs8_der(der).map_err(bad)?.into()),
            Curve::P384 => Self::P384(p384::SecretKey::from_pkcs8_der(der).map_err(bad)?.into()),
            Curve::P521 => {
                let secret = p521::SecretKey::from_pkcs8_der(der).map_err(bad)?;
                Self::P521(
                    p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes())
                        .map_err(|e| KeyError::Malformed(format!("{curve} private key: {e}")))?,
                )
            }
        })
    }

    /// DER ECDSA signature with the curve's hash.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        use p256::ecdsa::signature::Signer;
        let failed = SignError::Ecdsa;
        Ok(match self {
            Self::P256(key) => {
                let sig: p256::ecdsa::Signature = key.try_sign(message).map_err(failed)?;
                sig.to_der().as_bytes().to_vec()
            }
            Self::P384(key) => {
                let sig: p384::ecdsa::Signature = key.try_sign(message).map_err(failed)?;
                sig.to_der().as_bytes().to_vec()
            }
            Self::P521(key) => {
                use p521::ecdsa::signature::Signer as _;
                let sig: p521::ecdsa::Signature = key.try_sign(message).map_err(failed)?;
                sig.to_der().as_bytes().to_vec()
            }
        })
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.curve)
    }
}

impl PrivateKey {
    /// Reads a PEM private key file; `password` decrypts an encrypted PKCS#8 key.
    pub fn read_pem_file(path: &Path, password: Option<&[u8]>) -> Result<Self, KeyError> {
        let text = limits::read_input_file(path, limits::MAX_SMALL_FILE).map_err(|source| {
            KeyError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Self::from_pem(&text, password)
    }

    /// True when the PEM text holds an encrypted private key (a password is needed).
    pub fn pem_is_encrypted(text: &[u8]) -> bool {
        parse_pem(text).is_ok_and(|blocks| {
            blocks.iter().any(|b| {
                b.tag() == "ENCRYPTED PRIVATE KEY" || b.headers().get("Proc-Type").is_some()
            })
        })
    }

    /// Parses the first private key PEM block: PKCS#8 (`PRIVATE KEY`), SEC1
    /// (`EC PRIVATE KEY`) or encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`).
    pub fn from_pem(text: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let blocks = parse_pem(text)?;
        let block = blocks
            .iter()
            .find(|b| b.tag().ends_with("PRIVATE KEY"))
            .ok_or_else(|| match blocks.first() {
                Some(b) => KeyError::Malformed(format!(
                    "expected a private key PEM block, found {}",
                    b.tag()
                )),
                None => KeyError::NoPem(String::new()),
            })?;
        if block.headers().get("Proc-Type").is_some() {
            return Err(KeyError::Decrypt(
                "legacy OpenSSL PEM encryption; convert the key with `openssl pkcs8 -topk8`".into(),
            ));
        }
        match block.tag() {
            "PRIVATE KEY" => Self::from_pkcs8_der(block.contents()),
            "EC PRIVATE KEY" => Self::from_sec1_der(block.contents()),
            "ENCRYPTED PRIVATE KEY" => {
                let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(block.contents())
                    .map_err(|e| KeyError::Malformed(format!("encrypted PKCS#8: {e}")))?;
                // The key file sets the cost of deriving its key: refuse what no real tool
                // writes before spending it (or before asking for a password to spend it).
                check_key_derivation_cost(&encrypted.encryption_algorithm)?;
                let password = password.ok_or(KeyError::PasswordRequired)?;
                let document = encrypted
                    .decrypt(password)
                    .map_err(|e| KeyError::Decrypt(e.to_string()))?;
                Self::from_pkcs8_der(document.as_bytes())
            }
            "RSA PRIVATE KEY" => Err(KeyError::UnsupportedKeyType("RSA".into())),
            "DSA PRIVATE KEY" => Err(KeyError::UnsupportedKeyType("DSA".into())),
            "OPENSSH PRIVATE KEY" => Err(KeyError::UnsupportedKeyType(
                "OpenSSH key format (convert with `ssh-keygen -p -m PKCS8 -f KEY`)".into(),
            )),
            other => Err(KeyError::UnsupportedKeyType(other.to_owned())),
        }
    }

    /// Parses an unencrypted PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfo::try_from(der)
            .map_err(|e| KeyError::Malformed(format!("not a PKCS#8 private key: {e}")))?;
        let curve = ec_curve(&info.algorithm.oid, info.algorithm.parameters.as_ref())?;
        let pair = EcdsaKeyPair::from_pkcs8(curve.signing(), der)
            .map_err(|e| KeyError::Malformed(format!("{curve} private key rejected: {e}")))?;
        Self::from_pair(curve, pair)
    }

    /// Parses a SEC1 (`EC PRIVATE KEY`) DER private key.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = sec1::EcPrivateKey::try_from(der)
            .map_err(|e| KeyError::Malformed(format!("not a SEC1 EC private key: {e}")))?;
        let oid = key
            .parameters
            .and_then(|p| p.named_curve())
            .ok_or_else(|| KeyError::Malformed("SEC1 key does not name its curve".into()))?;
        let curve = Curve::from_oid(&oid).ok_or_else(|| {
            KeyError::UnsupportedKeyType(format!("EC curve {}", curve_name(&oid)))
        })?;
        let pair = EcdsaKeyPair::from_private_key_der(curve.signing(), der)
            .map_err(|e| KeyError::Malformed(format!("{curve} private key rejected: {e}")))?;
        Self::from_pair(curve, pair)
    }

    /// A fresh random key.
    pub fn generate(curve: Curve) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::generate(curve.signing())
            .map_err(|_| KeyError::Malformed("key generation failed".into()))?;
        Self::from_pair(curve, pair)
    }

    /// The key as encrypted PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`): PBES2 with
    /// PBKDF2-HMAC-SHA256 ([`GENERATED_KEY_PBKDF2_ITERATIONS`]) and AES-256-CBC, which
    /// OpenSSL, Python's `cryptography` (so model_signing) and modelsign all read. Not
    /// scrypt: OpenSSL refuses scrypt keys needing over 32 MiB, which RustCrypto's
    /// default parameters do.
    pub fn to_encrypted_pkcs8_pem(&self, password: &[u8]) -> Result<String, KeyError> {
        if password.is_empty() {
            return Err(KeyError::EmptyPassword);
        }
        let failed = |what: &str, e: &dyn fmt::Display| {
            KeyError::Malformed(format!("cannot encrypt the key ({what}): {e}"))
        };
        let der = self
            .pair
            .to_pkcs8v1()
            .map_err(|_| KeyError::Malformed("cannot encode the key as PKCS#8".into()))?;
        let info =
            pkcs8::PrivateKeyInfo::try_from(der.as_ref()).map_err(|e| failed("PKCS#8", &e))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|e| failed("random salt", &e))?;
        aws_lc_rs::rand::fill(&mut iv).map_err(|e| failed("random IV", &e))?;
        let parameters = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
            GENERATED_KEY_PBKDF2_ITERATIONS,
            &salt,
            &iv,
        )
        .map_err(|e| failed("PBES2 parameters", &e))?;
        let encrypted = info
            .encrypt_with_params(parameters, password)
            .map_err(|e| failed("PBES2", &e))?;
        Ok(unix_pem("ENCRYPTED PRIVATE KEY", encrypted.as_bytes()))
    }

    /// The key as unencrypted PKCS#8 PEM (`PRIVATE KEY`).
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let der = self
            .pair
            .to_pkcs8v1()
            .map_err(|_| KeyError::Malformed("cannot encode the key as PKCS#8".into()))?;
        Ok(unix_pem("PRIVATE KEY", der.as_ref()))
    }

    /// The key's elliptic curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            curve: self.curve,
            point: self.pair.public_key().as_ref().to_vec(),
        }
    }

    fn from_pair(curve: Curve, pair: EcdsaKeyPair) -> Result<Self, KeyError> {
        let signer = EcdsaSigner::from_pair(curve, &pair)?;
        Ok(PrivateKey {
            curve,
            pair,
            signer,
        })
    }

    /// A DER ECDSA signature over `message` with the curve's hash (RFC 6979 nonces on
    /// P-256 and P-384).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.signer.sign(message)
    }
}

/// PBKDF2-HMAC-SHA256 iterations of the keys modelsign encrypts: OWASP's 2023 advice for
/// that hash, well within [`MAX_PBKDF2_ITERATIONS`] (deriving takes about 0.1 s).
pub const GENERATED_KEY_PBKDF2_ITERATIONS: u32 = 600_000;

/// The public key's file when none is given: the private key's with the extension `.pub`
/// (`key.pem` → `key.pub`), as `modelsign key generate` writes it.
pub fn default_public_key_path(private_key: &Path) -> PathBuf {
    private_key.with_extension("pub")
}

/// Writes a key pair: `key` to `private_path` as PKCS#8 PEM (encrypted with `password` if
/// given) readable by its owner only (0600), and its public key to `public_path` as
/// SubjectPublicKeyInfo PEM (0644). Each file is written to a temporary file beside it and
/// renamed into place, so no partial key is ever left. Existing files are refused unless
/// `overwrite`, and both paths are checked before either file is written.
pub fn write_key_pair(
    key: &PrivateKey,
    private_path: &Path,
    public_path: &Path,
    password: Option<&[u8]>,
    overwrite: bool,
) -> Result<(), KeyError> {
    if same_file_path(private_path, public_path) {
        return Err(KeyError::SamePath {
            path: public_path.to_path_buf(),
        });
    }
    for path in [private_path, public_path] {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !overwrite {
                return Err(KeyError::Exists {
                    path: path.to_path_buf(),
                });
            }
            if !meta.is_file() {
                return Err(KeyError::Write {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(format!(
                        "it is {}; a key is written only as a regular file",
                        limits::describe_file_type(&meta.file_type())
                    )),
                });
            }
        }
    }
    let private_pem = match password {
        Some(password) => key.to_encrypted_pkcs8_pem(password)?,
        None => key.to_pkcs8_pem()?,
    };
    let private = staged_file(private_path, private_pem.as_bytes(), 0o600)?;
    let public = staged_file(public_path, key.public_key().to_pem().as_bytes(), 0o644)?;
    let private_existed = private_path.exists();
    persist(private, private_path, overwrite)?;
    if let Err(e) = persist(public, public_path, overwrite) {
        // A private key without its public key is of no use to a newcomer and would make
        // the retry fail on it; one that replaced an older key cannot be undone.
        if !private_existed {
            let _ = std::fs::remove_file(private_path);
        }
        return Err(e);
    }
    Ok(())
}

/// True when two paths name the same file, spelled alike or not (`key.pub`, `./key.pub`).
fn same_file_path(a: &Path, b: &Path) -> bool {
    let absolute = |p: &Path| {
        let name = p.file_name().map(|n| n.to_os_string());
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (std::fs::canonicalize(&dir).unwrap_or(dir), name)
    };
    absolute(a) == absolute(b)
}

/// `contents` in a temporary file beside `path` with `mode`, flushed to disk.
fn staged_file(path: &Path, contents: &[u8], mode: u32) -> Result<StagedFile, KeyError> {
    StagedFile::write(path, ".modelsign-key-", contents, mode).map_err(|source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Renames the staged file to `path`; without `overwrite` it never replaces a file that
/// appeared meanwhile.
fn persist(staged: StagedFile, path: &Path, overwrite: bool) -> Result<(), KeyError> {
    let result = if overwrite {
        staged.replace(path)
    } else {
        staged.create(path)
    };
    result.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Most PBKDF2 iterations an encrypted key may ask for. OpenSSL and Python's
/// `cryptography` (`BestAvailableEncryption`) write 2,048; OWASP's 2023 advice is 600,000
/// for HMAC-SHA256 and 1,300,000 for HMAC-SHA1; RFC 8018 calls 10,000,000 fit "for
/// especially critical keys". Deriving 1,000,000 took 0.2 s here, so the limit costs about
/// 2 s; 2^31 - 1, which the format allows, would be many minutes.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Most memory scrypt may use for an encrypted key, 128·r·(N + p) bytes. OpenSSL writes
/// N = 16384, r = 8, p = 1 (16 MiB) and refuses to read keys needing over 32 MiB; this
/// admits N = 2^18 at r = 8 (256 MiB). N = 2^40 would ask for a pebibyte.
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 512 * 1024 * 1024;
/// Most scrypt work for an encrypted key, N·r·p. OpenSSL's keys cost 2^17 (0.06 s here),
/// so this is about 2 s; it also bounds a small-memory key with a large `p`, which the
/// memory limit alone would let run for hours.
pub const MAX_SCRYPT_COST: u64 = 1 << 22;

/// Refuses key-derivation parameters above [`MAX_PBKDF2_ITERATIONS`],
/// [`MAX_SCRYPT_MEMORY_BYTES`] or [`MAX_SCRYPT_COST`]. Other schemes are left to the
/// decryption, which refuses what it does not support.
fn check_key_derivation_cost(scheme: &pkcs8::pkcs5::EncryptionScheme<'_>) -> Result<(), KeyError> {
    use pkcs8::pkcs5::{pbes2::Kdf, EncryptionScheme};
    let EncryptionScheme::Pbes2(parameters) = scheme else {
        return Ok(());
    };
    let too_costly = |what: String, limit_name, limit| {
        Err(KeyError::KdfTooCostly {
            what,
            limit_name,
            limit,
        })
    };
    match &parameters.kdf {
        Kdf::Pbkdf2(pbkdf2) if pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS => too_costly(
            format!("{} PBKDF2 iterations", pbkdf2.iteration_count),
            "MAX_PBKDF2_ITERATIONS",
            u64::from(MAX_PBKDF2_ITERATIONS),
        ),
        Kdf::Scrypt(scrypt) => {
            let n = u128::from(scrypt.cost_parameter);
            let r = u128::from(scrypt.block_size);
            let p = u128::from(scrypt.parallelization);
            let parameters = format!("scrypt N={n} r={r} p={p}");
            // u64 · u16 · u16 fits u128, as does 128 · u16 · (u64 + u16).
            let memory = 128 * r * (n + p);
            if memory > u128::from(MAX_SCRYPT_MEMORY_BYTES) {
                return too_costly(
                    format!("{parameters}, {memory} bytes of memory"),
                    "MAX_SCRYPT_MEMORY_BYTES",
                    MAX_SCRYPT_MEMORY_BYTES,
                );
            }
            let cost = n * r * p;
            if cost > u128::from(MAX_SCRYPT_COST) {
                return too_costly(
                    format!("{parameters}, a cost N·r·p of {cost}"),
                    "MAX_SCRYPT_COST",
                    MAX_SCRYPT_COST,
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A PEM block with `\n` line ends, as OpenSSL writes it (the pem crate's default is
/// `\r\n`, which shows as `^M` in editors and diffs).
fn unix_pem(tag: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// All PEM blocks in `text`, skipping any free text around them.
pub(crate) fn parse_pem(text: &[u8]) -> Result<Vec<pem::Pem>, KeyError> {
    let blocks =
        pem::parse_many(text).map_err(|e| KeyError::Malformed(format!("invalid PEM: {e}")))?;
    if blocks.is_empty() {
        return Err(KeyError::NoPem(String::new()));
    }
    Ok(blocks)
}

/// The curve of an EC key, or a clear error for any other key type.
pub(crate) fn ec_curve(
    algorithm: &ObjectIdentifier,
    parameters: Option<&AnyRef<'_>>,
) -> Result<Curve, KeyError> {
    if *algorithm != OID_EC_PUBLIC_KEY {
        return Err(KeyError::UnsupportedKeyType(algorithm_name(algorithm)));
    }
    let oid: ObjectIdentifier = parameters
        .and_then(|p| p.decode_as().ok())
        .ok_or_else(|| KeyError::Malformed("EC key without a named curve".into()))?;
    Curve::from_oid(&oid)
        .ok_or_else(|| KeyError::UnsupportedKeyType(format!("EC curve {}", curve_name(&oid))))
}

fn algorithm_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => "RSA".into(),
        "1.2.840.113549.1.1.10" => "RSA-PSS".into(),
        "1.3.101.112" => "Ed25519".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.2.840.10040.4.1" => "DSA".into(),
        other => format!("algorithm {other}"),
    }
}

fn curve_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.132.0.10" => "secp256k1".into(),
        "1.2.840.10045.3.1.1" => "P-192".into(),
        "1.3.132.0.33" => "P-224".into(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests;
