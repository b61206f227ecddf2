//! The `pkcs11-key` and `pkcs11-certificate` methods: the private key never leaves a
//! PKCS#11 token (an HSM, a smart card, SoftHSM). The bundles are those of the `key` and
//! `certificate` methods, so `verify key` / `verify certificate` check them.
//!
//! The module is loaded at run time (cryptoki over libloading): the binary links no HSM
//! library, and a missing module is an error naming where it was looked for.

mod uri;

pub use uri::{PinSource, Pkcs11Uri};

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use der::asn1::OctetStringRef;
use der::Decode;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::sync::Mutex;

use super::certificate::{SigningChain, UnverifiableCertificate};
use super::PaeSigner;
use crate::bundle::VerificationMaterial;
use crate::dsse::Envelope;
use crate::error::{CertError, Pkcs11Error, SignError};
use crate::keys::{Curve, PublicKey, SignatureHash};
use crate::limits;
use crate::x509::Certificate;

/// Where modules named by `module-name` are looked for when `module-path` does not name a
/// folder: model_signing's two folders, then where Debian, Ubuntu and Fedora install
/// PKCS#11 modules (p11-kit's folder and SoftHSM's own).
pub fn default_module_directories() -> Vec<PathBuf> {
    let multiarch = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    vec![
        PathBuf::from("/usr/lib64/pkcs11"),
        PathBuf::from("/usr/lib/pkcs11"),
        PathBuf::from(format!("{multiarch}/pkcs11")),
        PathBuf::from("/usr/local/lib/pkcs11"),
        PathBuf::from("/usr/lib64/softhsm"),
        PathBuf::from("/usr/lib/softhsm"),
        PathBuf::from(format!("{multiarch}/softhsm")),
    ]
}

/// Most objects read from the token by one search. A token holds a handful of keys; a
/// token (or a module) answering with thousands would otherwise have every one read back
/// for an error message. Beyond this, searches report that more objects matched.
pub const MAX_PKCS11_OBJECTS_LISTED: usize = 64;

/// Asked for the token's PIN when the URI gives none and the token needs one; gets the
/// token's label. Returning `None` means no PIN is available.
pub type PinPrompt<'a> = &'a dyn Fn(&str) -> Option<String>;

/// An EC private key on a PKCS#11 token, with its public key, ready to sign.
pub struct Pkcs11Key {
    /// A PKCS#11 session is `Send` but not `Sync`: it holds the state of one operation at a
    /// time (C_SignInit then C_Sign), so two threads signing at once would interleave. The
    /// lock makes the key `Sync` (as `Signer` requires) by signing one message at a time.
    session: Mutex<Session>,
    key: ObjectHandle,
    public_key: PublicKey,
    token: String,
    description: String,
}

impl std::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pkcs11Key({} on token '{}', {:?})",
            self.description, self.token, self.public_key
        )
    }
}

impl Pkcs11Key {
    /// Opens the token the URI names, logs in (with the URI's PIN, else `prompt`'s, else
    /// not at all if the token allows it) and finds the private key and its public key.
    /// A wrong PIN is never retried: repeated wrong PINs lock the token.
    pub fn open(uri: &Pkcs11Uri, prompt: Option<PinPrompt<'_>>) -> Result<Self, Pkcs11Error> {
        Self::open_searching(uri, &default_module_directories(), prompt)
    }

    /// As [`Pkcs11Key::open`], looking for the URI's `module-name` in `module_directories`
    /// instead of [`default_module_directories`] (model_signing's `module_paths`). A
    /// `module-path` in the URI still wins.
    pub fn open_searching(
        uri: &Pkcs11Uri,
        module_directories: &[PathBuf],
        prompt: Option<PinPrompt<'_>>,
    ) -> Result<Self, Pkcs11Error> {
        let token = open_token(uri, module_directories)?;
        login(&token, uri, prompt)?;
        let criteria = KeyCriteria::from_uri(uri)?;
        let key = find_one(&token, &criteria, ObjectClass::PRIVATE_KEY)?;
        check_ec(&token, key.handle, &key.description)?;
        let public_key = public_key_of(&token, &key.identity, &key.description)?;
        Ok(Pkcs11Key {
            session: Mutex::new(token.session),
            key: key.handle,
            public_key,
            token: token.label,
            description: key.description,
        })
    }

    /// The key's public half, as read from the token.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// A DER ECDSA signature over `message` with the curve's hash. The message is hashed
    /// here and the token signs the digest (`CKM_ECDSA`), as model_signing does: tokens
    /// differ in which hash-and-sign mechanisms they offer, and all offer this one.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let curve = self.public_key.curve();
        let digest = match curve {
            Curve::P256 => Sha256::digest(message).to_vec(),
            Curve::P384 => Sha384::digest(message).to_vec(),
            Curve::P521 => Sha512::digest(message).to_vec(),
        };
        let session = self
            .session
            .lock()
            .map_err(|_| Pkcs11Error::device("C_Sign", "an earlier signing thread panicked"))?;
        let raw = session
            .sign(&Mechanism::Ecdsa, self.key, &digest)
            .map_err(|e| Pkcs11Error::device("C_Sign", e))?;
        drop(session);
        let der = raw_to_der(curve, &raw)?;
        // A token whose key and public-key object disagree would otherwise yield a
        // signature nobody can verify; catch it here, while nothing has been written.
        if !self
            .public_key
            .verify(message, &der, SignatureHash::CurveDefault)
        {
            return Err(Pkcs11Error::Device {
                operation: "C_Sign",
                detail: format!(
                    "the token's signature does not verify with the public key found for {} (does the public key object belong to this private key?)",
                    self.description
                ),
            }
            .into());
        }
        Ok(der)
    }
}

/// Reads the public key the URI names (a public-key object, else the key's certificate),
/// logging in only if the URI carries a PIN: public objects are readable without one.
pub fn export_public_key(uri: &Pkcs11Uri) -> Result<PublicKey, Pkcs11Error> {
    let token = open_token(uri, &default_module_directories())?;
    if uri.pin().is_some() {
        login(&token, uri, None)?;
    }
    let criteria = KeyCriteria::from_uri(uri)?;
    public_key_of(&token, &criteria, &criteria.describe())
}

/// Signs with a token's key; the bundle carries the key's hint (`pkcs11-key`) or a
/// certificate chain (`pkcs11-certificate`).
#[derive(Debug)]
pub struct Pkcs11Signer {
    key: Pkcs11Key,
    material: Material,
}

#[derive(Debug)]
enum Material {
    Hint(String),
    Chain(SigningChain),
}

impl Pkcs11Signer {
    /// The `pkcs11-key` method.
    pub fn key(key: Pkcs11Key) -> Self {
        let hint = key.public_key().hint();
        Pkcs11Signer {
            key,
            material: Material::Hint(hint),
        }
    }

    /// The `pkcs11-certificate` method: `signing_certificate` must certify the token's
    /// key; `chain` follows it in the bundle in the order given. `policy` decides about a
    /// signing certificate verification will refuse, as for [`CertificateSigner`].
    ///
    /// [`CertificateSigner`]: super::CertificateSigner
    pub fn certificate(
        key: Pkcs11Key,
        signing_certificate: Certificate,
        chain: Vec<Certificate>,
        policy: UnverifiableCertificate,
    ) -> Result<Self, SignError> {
        let chain = SigningChain::new(
            key.public_key(),
            signing_certificate,
            chain,
            policy,
            SystemTime::now(),
        )?;
        Ok(Pkcs11Signer {
            key,
            material: Material::Chain(chain),
        })
    }
}

impl Pkcs11Signer {
    /// The token key's public half.
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    /// Why verification will refuse this signer's signatures, when it was made with
    /// [`UnverifiableCertificate::SignAnyway`] despite that.
    pub fn unverifiable(&self) -> Option<&CertError> {
        match &self.material {
            Material::Chain(chain) => chain.unverifiable.as_ref(),
            Material::Hint(_) => None,
        }
    }
}

impl PaeSigner for Pkcs11Signer {
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, SignError> {
        self.key.sign(pae)
    }

    fn verification_material(&self, _: &Envelope) -> Result<VerificationMaterial, SignError> {
        Ok(match &self.material {
            Material::Hint(hint) => VerificationMaterial::PublicKey {
                hint: Some(hint.clone()),
                legacy_raw_bytes: None,
            },
            Material::Chain(chain) => chain.material(),
        })
    }
}

/// An open session on the token the URI names.
struct OpenToken {
    context: Pkcs11,
    slot: Slot,
    session: Session,
    label: String,
    login_required: bool,
    pin_locked: bool,
}

impl OpenToken {
    /// True when the token says one more wrong PIN locks it.
    fn final_try(&self) -> bool {
        self.context
            .get_token_info(self.slot)
            .is_ok_and(|info| info.user_pin_final_try())
    }
}

fn open_token(uri: &Pkcs11Uri, module_directories: &[PathBuf]) -> Result<OpenToken, Pkcs11Error> {
    let module = find_module(uri, module_directories)?;
    let context = Pkcs11::new(&module).map_err(|e| Pkcs11Error::ModuleLoad {
        path: module.clone(),
        reason: e.to_string(),
    })?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another key of this process opened the module already.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            let mut reason = e.to_string();
            if module.to_string_lossy().contains("softhsm") {
                reason.push_str(" (SoftHSM could not start: does SOFTHSM2_CONF name a readable configuration whose token directory exists?)");
            }
            return Err(Pkcs11Error::ModuleLoad {
                path: module,
                reason,
            });
        }
    }
    let slots = context
        .get_slots_with_token()
        .map_err(|e| Pkcs11Error::device("C_GetSlotList", e))?;
    let mut seen = Vec::new();
    let mut chosen = None;
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(|e| Pkcs11Error::device("C_GetTokenInfo", e))?;
        let label = info.label().trim_end().to_owned();
        let slot_ok = uri.slot_id().is_none_or(|id| id == slot.id());
        let label_ok = uri.token().is_none_or(|want| want.trim_end() == label);
        if !info.token_initialized() {
            continue;
        }
        seen.push(format!("'{label}' in slot {}", slot.id()));
        if slot_ok && label_ok && chosen.is_none() {
            chosen = Some((slot, info));
        }
    }
    if uri.slot_id().is_none() && uri.token().is_none() {
        return Err(Pkcs11Error::TokenNotFound {
            wanted: "named: the URI needs token= or slot-id=".into(),
            available: available_tokens(&seen),
        });
    }
    let Some((slot, info)) = chosen else {
        return Err(Pkcs11Error::TokenNotFound {
            wanted: describe_token(uri),
            available: available_tokens(&seen),
        });
    };
    let session = open_session(&context, slot)?;
    Ok(OpenToken {
        context,
        slot,
        session,
        label: info.label().trim_end().to_owned(),
        login_required: info.login_required(),
        pin_locked: info.user_pin_locked(),
    })
}

fn open_session(context: &Pkcs11, slot: Slot) -> Result<Session, Pkcs11Error> {
    context
        .open_ro_session(slot)
        .map_err(|e| Pkcs11Error::device("C_OpenSession", e))
}

fn describe_token(uri: &Pkcs11Uri) -> String {
    match (uri.token(), uri.slot_id()) {
        (Some(label), Some(slot)) => format!("labelled '{label}' in slot {slot}"),
        (Some(label), None) => format!("labelled '{label}'"),
        (None, Some(slot)) => format!("in slot {slot}"),
        (None, None) => "named".into(),
    }
}

fn available_tokens(seen: &[String]) -> String {
    if seen.is_empty() {
        "the module sees no token at all (is it initialised, and does the module find its configuration, e.g. SOFTHSM2_CONF?)".into()
    } else {
        format!("tokens present: {}", seen.join(", "))
    }
}

/// The module file the URI names: `module-path` if it is a file, else `module-name` looked
/// up in `module-path` (a folder) or in `directories`.
pub(crate) fn find_module(
    uri: &Pkcs11Uri,
    directories: &[PathBuf],
) -> Result<PathBuf, Pkcs11Error> {
    let search: Vec<PathBuf> = match uri.module_path() {
        Some(path) if path.is_file() => return Ok(path),
        Some(path) if path.is_dir() => vec![path],
        Some(path) => {
            return Err(Pkcs11Error::ModuleNotFound(format!(
                "module-path '{}' is neither a file nor a folder",
                path.display()
            )))
        }
        None => directories.to_vec(),
    };
    let Some(name) = uri.module_name() else {
        return Err(Pkcs11Error::ModuleNotFound(
            "the URI names no module: add module-path=/path/to/module.so or module-name=NAME (e.g. ?module-name=softhsm2)".into(),
        ));
    };
    let wanted = name.to_lowercase();
    for dir in &search {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        if let Some(found) = files
            .into_iter()
            .find(|file| file.is_file() && module_name_matches(file, &wanted))
        {
            return Ok(found);
        }
    }
    Err(Pkcs11Error::ModuleNotFound(format!(
        "no module '{name}' in {}; give its full path with module-path=",
        search
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// model_signing's rule: the lower-cased name occurs in the file name, followed by its
/// end or a dot, so `softhsm2` matches `libsofthsm2.so` but not `libsofthsm2x.so`.
fn module_name_matches(file: &Path, wanted: &str) -> bool {
    let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_lowercase();
    name.match_indices(wanted).any(|(at, _)| {
        let after = &name[at + wanted.len()..];
        after.is_empty() || after.starts_with('.')
    })
}

fn login(
    token: &OpenToken,
    uri: &Pkcs11Uri,
    prompt: Option<PinPrompt<'_>>,
) -> Result<(), Pkcs11Error> {
    let pin = match uri.pin() {
        Some(PinSource::Value(value)) => Some(value),
        Some(PinSource::File(path)) => Some(
            limits::read_input_file(&path, limits::MAX_SMALL_FILE).map_err(|source| {
                Pkcs11Error::PinFile {
                    path: path.clone(),
                    source,
                }
            })?,
        ),
        None if token.login_required => match prompt.and_then(|ask| ask(&token.label)) {
            Some(pin) => Some(pin.into_bytes()),
            None => {
                return Err(Pkcs11Error::PinRequired {
                    token: token.label.clone(),
                })
            }
        },
        None => None,
    };
    let Some(pin) = pin else {
        return Ok(());
    };
    if token.pin_locked {
        return Err(Pkcs11Error::PinLocked {
            token: token.label.clone(),
        });
    }
    let trailing_newline = pin.ends_with(b"\n");
    match token
        .session
        .login_with_raw(UserType::User, &RawAuthPin::new(Box::new(pin)))
    {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
            let mut hint = String::new();
            if trailing_newline {
                hint.push_str(" (the PIN ends with a line break: a pin-source file is used whole, so write it without a trailing newline)");
            }
            // Tokens that count failures say when the next one is the last.
            if token.final_try() {
                hint.push_str("; the next wrong PIN locks the token");
            }
            Err(Pkcs11Error::PinIncorrect {
                token: token.label.clone(),
                hint,
            })
        }
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Pkcs11Error::PinLocked {
            token: token.label.clone(),
        }),
        Err(e) => Err(Pkcs11Error::device("C_Login", e)),
    }
}

/// Which key the URI names.
struct KeyCriteria {
    id: Option<Vec<u8>>,
    label: Option<String>,
}

impl KeyCriteria {
    fn from_uri(uri: &Pkcs11Uri) -> Result<Self, Pkcs11Error> {
        let criteria = KeyCriteria {
            id: uri.id().map(<[u8]>::to_vec),
            label: uri.object(),
        };
        if criteria.id.is_none() && criteria.label.is_none() {
            return Err(Pkcs11Error::InvalidUri {
                uri: uri.to_string(),
                reason: "it names no key: add object=LABEL and/or id=%XX...".into(),
            });
        }
        Ok(criteria)
    }

    fn template(&self, class: ObjectClass) -> Vec<Attribute> {
        let mut template = vec![Attribute::Class(class)];
        if let Some(id) = &self.id {
            template.push(Attribute::Id(id.clone()));
        }
        if let Some(label) = &self.label {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        template
    }

    fn describe(&self) -> String {
        describe_object(self.label.as_deref(), self.id.as_deref())
    }
}

fn describe_object(label: Option<&str>, id: Option<&[u8]>) -> String {
    match (label, id) {
        (Some(label), Some(id)) => {
            format!("object='{label}' id={}", base16ct::lower::encode_string(id))
        }
        (Some(label), None) => format!("object='{label}'"),
        (None, Some(id)) => format!("id={}", base16ct::lower::encode_string(id)),
        (None, None) => "without label or id".into(),
    }
}

/// A key object found on the token, and what identifies it.
struct FoundKey {
    handle: ObjectHandle,
    /// Its own id and label (which may say more than the URI did).
    identity: KeyCriteria,
    description: String,
}

fn find_one(
    token: &OpenToken,
    criteria: &KeyCriteria,
    class: ObjectClass,
) -> Result<FoundKey, Pkcs11Error> {
    let session = &token.session;
    let (handles, more) = find_objects(
        session,
        &criteria.template(class),
        MAX_PKCS11_OBJECTS_LISTED,
    )?;
    match handles.as_slice() {
        [handle] => {
            let (label, id) = identify(session, *handle)?;
            Ok(FoundKey {
                handle: *handle,
                description: describe_object(label.as_deref(), id.as_deref()),
                identity: KeyCriteria { id, label },
            })
        }
        [] => Err(Pkcs11Error::KeyNotFound {
            criteria: criteria.describe(),
            token: token.label.clone(),
            candidates: candidates(token, class, None)?,
        }),
        many => Err(Pkcs11Error::KeyAmbiguous {
            count: many.len(),
            criteria: criteria.describe(),
            token: token.label.clone(),
            candidates: candidates(token, class, Some((many, more)))?,
        }),
    }
}

/// The first `limit` objects matching `template`, and whether more matched.
fn find_objects(
    session: &Session,
    template: &[Attribute],
    limit: usize,
) -> Result<(Vec<ObjectHandle>, bool), Pkcs11Error> {
    let search = session
        .iter_objects(template)
        .map_err(|e| Pkcs11Error::device("C_FindObjectsInit", e))?;
    let mut handles = search
        .take(limit.saturating_add(1))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Pkcs11Error::device("C_FindObjects", e))?;
    let more = handles.len() > limit;
    handles.truncate(limit);
    Ok((handles, more))
}

/// The label and id of an object.
fn identify(
    session: &Session,
    handle: ObjectHandle,
) -> Result<(Option<String>, Option<Vec<u8>>), Pkcs11Error> {
    let attributes = session
        .get_attributes(handle, &[AttributeType::Label, AttributeType::Id])
        .map_err(|e| Pkcs11Error::device("C_GetAttributeValue", e))?;
    let mut label = None;
    let mut id = None;
    for attribute in attributes {
        match attribute {
            Attribute::Label(bytes) if !bytes.is_empty() => {
                label = Some(String::from_utf8_lossy(&bytes).into_owned())
            }
            Attribute::Id(bytes) if !bytes.is_empty() => id = Some(bytes),
            _ => {}
        }
    }
    Ok((label, id))
}

/// The keys of `class` on the token (or just `among`, with whether more matched), for an
/// error message; at most [`MAX_PKCS11_OBJECTS_LISTED`] of them.
fn candidates(
    token: &OpenToken,
    class: ObjectClass,
    among: Option<(&[ObjectHandle], bool)>,
) -> Result<String, Pkcs11Error> {
    let all;
    let (handles, more) = match among {
        Some(found) => found,
        None => {
            all = find_objects(
                &token.session,
                &[Attribute::Class(class)],
                MAX_PKCS11_OBJECTS_LISTED,
            )?;
            (all.0.as_slice(), all.1)
        }
    };
    if handles.is_empty() {
        return Ok(if token.login_required {
            "the token shows no private keys (private keys are visible only after logging in: is a PIN given?)".into()
        } else {
            "the token holds no private keys".into()
        });
    }
    let mut names = Vec::with_capacity(handles.len());
    for handle in handles {
        let (label, id) = identify(&token.session, *handle)?;
        names.push(describe_object(label.as_deref(), id.as_deref()));
    }
    names.sort();
    if more {
        names.push(format!(
            "and more, not listed beyond MAX_PKCS11_OBJECTS_LISTED ({MAX_PKCS11_OBJECTS_LISTED})"
        ));
    }
    Ok(format!("keys on the token: {}", names.join("; ")))
}

fn check_ec(token: &OpenToken, key: ObjectHandle, description: &str) -> Result<(), Pkcs11Error> {
    let attributes = token
        .session
        .get_attributes(key, &[AttributeType::KeyType])
        .map_err(|e| Pkcs11Error::device("C_GetAttributeValue", e))?;
    let key_type = attributes.into_iter().find_map(|a| match a {
        Attribute::KeyType(t) => Some(t),
        _ => None,
    });
    match key_type {
        Some(t) if t == KeyType::EC => Ok(()),
        other => Err(Pkcs11Error::NotEcKey {
            key: description.to_owned(),
            token: token.label.clone(),
            key_type: other.map_or_else(|| "key type unknown".into(), key_type_name),
        }),
    }
}

/// The public key of the key `criteria` identifies (`description` names it in errors): its
/// public-key object (same id and label), else a certificate with the same id and label.
fn public_key_of(
    token: &OpenToken,
    criteria: &KeyCriteria,
    description: &str,
) -> Result<PublicKey, Pkcs11Error> {
    let session = &token.session;
    // Try the most specific match first, then the id alone (labels of the two halves of a
    // key pair often differ, ids rarely do), then the label alone.
    let mut attempts = vec![criteria.template(ObjectClass::PUBLIC_KEY)];
    if criteria.id.is_some() && criteria.label.is_some() {
        attempts.push(
            KeyCriteria {
                id: criteria.id.clone(),
                label: None,
            }
            .template(ObjectClass::PUBLIC_KEY),
        );
    }
    for template in &attempts {
        let (handles, _) = find_objects(session, template, 1)?;
        if let Some(handle) = handles.first() {
            return ec_public_key(session, *handle, description, &token.label);
        }
    }
    let (certificates, _) = find_objects(session, &criteria.template(ObjectClass::CERTIFICATE), 1)?;
    if let Some(handle) = certificates.first() {
        let value = session
            .get_attributes(*handle, &[AttributeType::Value])
            .map_err(|e| Pkcs11Error::device("C_GetAttributeValue", e))?;
        if let Some(Attribute::Value(der)) = value.into_iter().next() {
            let certificate = Certificate::from_der(&der).map_err(|e| Pkcs11Error::Device {
                operation: "reading the key's certificate",
                detail: e.to_string(),
            })?;
            return certificate.public_key().map_err(|e| Pkcs11Error::NotEcKey {
                key: description.to_owned(),
                token: token.label.clone(),
                key_type: e.to_string(),
            });
        }
    }
    Err(Pkcs11Error::NoPublicKey {
        key: description.to_owned(),
        token: token.label.clone(),
    })
}

/// An EC public-key object as a [`PublicKey`]: CKA_EC_PARAMS is the DER curve OID and
/// CKA_EC_POINT the DER OCTET STRING around the uncompressed point (some tokens omit that
/// wrapping, so a bare point is accepted too).
fn ec_public_key(
    session: &Session,
    handle: ObjectHandle,
    description: &str,
    token: &str,
) -> Result<PublicKey, Pkcs11Error> {
    let attributes = session
        .get_attributes(
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::EcPoint,
            ],
        )
        .map_err(|e| Pkcs11Error::device("C_GetAttributeValue", e))?;
    let mut key_type = None;
    let mut params = None;
    let mut point = None;
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(t) => key_type = Some(t),
            Attribute::EcParams(p) => params = Some(p),
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    let not_ec = |key_type: String| Pkcs11Error::NotEcKey {
        key: description.to_owned(),
        token: token.to_owned(),
        key_type,
    };
    if key_type.is_some_and(|t| t != KeyType::EC) {
        return Err(not_ec(key_type.map_or_else(String::new, key_type_name)));
    }
    let (Some(params), Some(point)) = (params, point) else {
        return Err(not_ec("missing its EC parameters".into()));
    };
    let point = match OctetStringRef::from_der(&point) {
        Ok(inner) => inner.as_bytes().to_vec(),
        Err(_) => point,
    };
    PublicKey::from_ec_parts(&params, &point).map_err(|e| not_ec(e.to_string()))
}

fn key_type_name(key_type: KeyType) -> String {
    let name = if key_type == KeyType::RSA {
        "RSA".to_owned()
    } else if key_type == KeyType::DSA {
        "DSA".to_owned()
    } else if key_type == KeyType::EC_EDWARDS {
        "EdDSA".to_owned()
    } else {
        key_type.to_string()
    };
    format!("key type {name}")
}

/// A raw `r || s` signature (what `CKM_ECDSA` returns) as DER.
fn raw_to_der(curve: Curve, raw: &[u8]) -> Result<Vec<u8>, SignError> {
    let bad = |e: p256::ecdsa::Error| {
        SignError::from(Pkcs11Error::Device {
            operation: "C_Sign",
            detail: format!(
                "the token returned a {}-byte signature that is not a {curve} r||s pair: {e}",
                raw.len()
            ),
        })
    };
    Ok(match curve {
        Curve::P256 => p256::ecdsa::Signature::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Curve::P384 => p384::ecdsa::Signature::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Curve::P521 => p521::ecdsa::Signature::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_match_as_model_signing_matches_them() {
        let m = |file: &str, name: &str| module_name_matches(Path::new(file), name);
        assert!(m("/usr/lib/softhsm/libsofthsm2.so", "softhsm2"));
        assert!(m("/usr/lib/x/opensc-pkcs11.so", "opensc-pkcs11"));
        assert!(m("/usr/lib/x/LibSoftHSM2.so", "softhsm2"));
        assert!(!m("/usr/lib/softhsm/libsofthsm2x.so", "softhsm2"));
        assert!(!m("/usr/lib/softhsm2/libother.so", "softhsm2"));
    }

    #[test]
    fn finds_modules_by_name_in_a_folder_and_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libother.so"), b"").unwrap();
        std::fs::write(dir.path().join("libsofthsm2.so"), b"").unwrap();
        let uri = Pkcs11Uri::parse("pkcs11:object=k?module-name=softhsm2").unwrap();
        let found = find_module(&uri, &[PathBuf::from("/nonexistent"), dir.path().into()]);
        assert_eq!(found.unwrap(), dir.path().join("libsofthsm2.so"));

        let missing = Pkcs11Uri::parse("pkcs11:object=k?module-name=nothsm").unwrap();
        let error = find_module(&missing, &[dir.path().into()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("no module 'nothsm'"), "{error}");
        assert!(error.contains(&dir.path().display().to_string()), "{error}");

        let unnamed = Pkcs11Uri::parse("pkcs11:object=k").unwrap();
        let error = find_module(&unnamed, &[]).unwrap_err().to_string();
        assert!(
            error.contains("module-path") && error.contains("module-name"),
            "{error}"
        );
    }

    #[test]
    fn raw_signatures_become_der_that_verifies() {
        use p256::ecdsa::signature::Signer;
        let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let message = b"payload";
        let raw: p256::ecdsa::Signature = key.sign(message);
        let der = raw_to_der(Curve::P256, &raw.to_bytes()).unwrap();
        assert_eq!(der, raw.to_der().as_bytes());
        assert!(raw_to_der(Curve::P384, &raw.to_bytes()).is_err());
    }
}
