//! PEM and key parsing: any `--private-key` (with or without `--password-file`) and
//! `--public-key` file, and the DER forms inside them. A key that parses must round-trip
//! through its PEM encoding and sign something its public key verifies.
//!
//! Input layout: byte 0 bit 0 set = a password follows, its length in byte 1, then the
//! password; the rest is the key file's text (also tried as bare DER).

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelsign::keys::SignatureHash;
use modelsign::{PrivateKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (password, text) = if control & 1 != 0 {
        let Some((&len, rest)) = rest.split_first() else {
            return;
        };
        let len = usize::from(len).min(rest.len());
        let (password, text) = rest.split_at(len);
        (Some(password), text)
    } else {
        (None, rest)
    };

    let _ = PrivateKey::pem_is_encrypted(text);
    if let Ok(key) = PrivateKey::from_pem(text, password) {
        check_private_key(&key);
    }
    if let Ok(key) = PrivateKey::from_pkcs8_der(text) {
        check_private_key(&key);
    }
    if let Ok(key) = PrivateKey::from_sec1_der(text) {
        check_private_key(&key);
    }
    if let Ok(key) = PublicKey::from_pem(text) {
        check_public_key(&key);
        // Anything at all as a signature over anything: a verdict, never a panic.
        let _ = key.verify(text, text, SignatureHash::CurveDefault);
        let _ = key.verify(text, text, SignatureHash::Sha256);
    }
    if let Ok(key) = PublicKey::from_spki_der(text) {
        check_public_key(&key);
    }
    if text.len() > 1 {
        let (parameters, point) = text.split_at(usize::from(text[0]).min(text.len()));
        if let Ok(key) = PublicKey::from_ec_parts(parameters, point) {
            check_public_key(&key);
        }
    }
});

fn check_public_key(key: &PublicKey) {
    let pem = key.to_pem();
    let reread = PublicKey::from_pem(pem.as_bytes())
        .unwrap_or_else(|e| panic!("a public key PEM modelsign wrote is unreadable: {e}"));
    assert_eq!(&reread, key);
    assert_eq!(
        PublicKey::from_spki_der(&key.spki_der()).ok().as_ref(),
        Some(key)
    );
    assert_eq!(key.hint().len(), 64);
}

fn check_private_key(key: &PrivateKey) {
    let public = key.public_key();
    check_public_key(&public);
    let pem = key
        .to_pkcs8_pem()
        .unwrap_or_else(|e| panic!("a parsed private key cannot be written: {e}"));
    let reread = PrivateKey::from_pem(pem.as_bytes(), None)
        .unwrap_or_else(|e| panic!("a private key PEM modelsign wrote is unreadable: {e}"));
    assert_eq!(reread.public_key(), public);
    let message = b"modelsign fuzz";
    let signature = key
        .sign(message)
        .unwrap_or_else(|e| panic!("a parsed private key cannot sign: {e}"));
    assert!(
        public.verify(message, &signature, SignatureHash::CurveDefault),
        "a signature does not verify with the key's own public key"
    );
}
