//! The bundle reader: any bytes given as `--signature`. Whatever it accepts must be written
//! back and read again unchanged, and must go through both signature verifiers and the
//! statement reader without a panic.

#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use modelsign::verifying::Verifier;
use modelsign::{Bundle, Certificate, CertificateVerifier, KeyVerifier, PublicKey};

/// The demo key the seed bundles are signed with, so seeds reach the envelope check.
const DEMO_PUBLIC_KEY: &[u8] = include_bytes!("../../examples/keys/demo-TEST-ONLY.pub");
/// The CA of the certificate seeds (fuzz/seeds/make.sh), so chain seeds reach path building.
const SEED_ROOT: &[u8] = include_bytes!("../seeds/root.pem");
/// Inside the seed certificates' validity, fixed so runs are reproducible.
const CHECK_TIME_UNIX: u64 = 1_893_456_000; // 2030-01-01

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::from_json(data) else {
        return;
    };
    let _ = bundle.material.method();

    let written = bundle.to_json();
    let reread = Bundle::from_json(&written)
        .unwrap_or_else(|e| panic!("a bundle modelsign wrote is unreadable: {e}"));
    assert_eq!(reread.media_type, bundle.media_type);
    assert_eq!(reread.envelope.payload, bundle.envelope.payload);
    assert_eq!(reread.envelope.payload_type, bundle.envelope.payload_type);
    assert_eq!(reread.tlog_entries, bundle.tlog_entries);
    assert_eq!(
        reread.timestamp_verification_data,
        bundle.timestamp_verification_data
    );
    let sigs = |b: &Bundle| -> Vec<(Vec<u8>, Option<String>)> {
        // An absent keyid is written as "" (what model_signing writes), read back as "".
        b.envelope
            .signatures
            .iter()
            .map(|s| (s.sig.clone(), s.keyid.clone().filter(|k| !k.is_empty())))
            .collect()
    };
    assert_eq!(sigs(&reread), sigs(&bundle));
    match &bundle.material {
        // The legacy `rawBytes` key is read, never written.
        modelsign::VerificationMaterial::PublicKey { hint, .. } => assert!(matches!(
            &reread.material,
            modelsign::VerificationMaterial::PublicKey { hint: h, legacy_raw_bytes: None } if h == hint
        )),
        other => assert_eq!(&reread.material, other),
    }
    assert_eq!(reread.to_json(), written, "writing is deterministic");

    if let Ok(key) = PublicKey::from_pem(DEMO_PUBLIC_KEY) {
        let _ = KeyVerifier::new(key).verify_signature(&bundle);
    }
    if let Ok(anchors) = Certificate::from_pem_many(SEED_ROOT) {
        if let Ok(verifier) = CertificateVerifier::new(anchors) {
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(CHECK_TIME_UNIX);
            let _ = verifier.at_time(at).verify_signature(&bundle);
        }
    }
    let _ = modelsign::statement::decode(&bundle.envelope.payload);
    let _ = modelsign::card::decode_statement(&bundle.envelope.payload);
});
