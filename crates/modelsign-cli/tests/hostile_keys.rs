//! `sign key` with encrypted keys whose key-derivation parameters would run for minutes or
//! allocate petabytes: refused before any derivation, as unusable input (exit 2).

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use test_support::{explain, text, two_file_model};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

/// A DER TLV with a definite length (short or long form).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

const OID_PBES2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D];
const OID_PBKDF2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C];
const OID_HMAC_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09];
const OID_SCRYPT: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B];
const OID_AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A];

/// An `ENCRYPTED PRIVATE KEY` PEM (PBES2, AES-256-CBC, junk ciphertext) with the given
/// key-derivation AlgorithmIdentifier.
fn encrypted_key_pem(kdf: Vec<u8>) -> String {
    let scheme = seq(&[tlv(0x06, OID_AES256_CBC), tlv(0x04, &[7; 16])]);
    let algorithm = seq(&[tlv(0x06, OID_PBES2), seq(&[kdf, scheme])]);
    let der = seq(&[algorithm, tlv(0x04, &[0; 48])]);
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}\n-----END ENCRYPTED PRIVATE KEY-----\n")
}

fn sign_with(key_pem: &str) -> Output {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let model = two_file_model(dir);
    let key = dir.join("huge.pem");
    fs::write(&key, key_pem).expect("write key");
    let password = dir.join("pw");
    fs::write(&password, "pw\n").expect("write password");
    let signature = dir.join("model.sig");
    let out = Command::new(BIN)
        .args(["sign", "key", text(&model), "--private-key", text(&key)])
        .args([
            "--password-file",
            text(&password),
            "--signature",
            text(&signature),
        ])
        .output()
        .expect("run modelsign");
    assert!(
        !Path::new(&signature).exists(),
        "no signature may be written"
    );
    out
}

fn assert_refused(out: &Output, limit: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", explain(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(limit),
        "expected '{limit}'\n{}",
        explain(out)
    );
}

#[test]
fn a_key_with_two_billion_pbkdf2_iterations_is_refused_at_once() {
    let params = seq(&[
        tlv(0x04, b"saltsalt"),
        tlv(0x02, &[0x7F, 0xFF, 0xFF, 0xFF]),
        seq(&[tlv(0x06, OID_HMAC_SHA256), tlv(0x05, &[])]),
    ]);
    let pem = encrypted_key_pem(seq(&[tlv(0x06, OID_PBKDF2), params]));
    assert_refused(&sign_with(&pem), "MAX_PBKDF2_ITERATIONS (10000000)");
}

#[test]
fn a_key_asking_scrypt_for_a_petabyte_is_refused_instead_of_aborting() {
    // N = 2^40, r = 8, p = 1: the process died with SIGABRT trying to allocate it.
    let params = seq(&[
        tlv(0x04, b"saltsalt"),
        tlv(0x02, &[0x01, 0x00, 0x00, 0x00, 0x00, 0x00]),
        tlv(0x02, &[8]),
        tlv(0x02, &[1]),
    ]);
    let pem = encrypted_key_pem(seq(&[tlv(0x06, OID_SCRYPT), params]));
    assert_refused(&sign_with(&pem), "MAX_SCRYPT_MEMORY_BYTES (536870912)");
}
