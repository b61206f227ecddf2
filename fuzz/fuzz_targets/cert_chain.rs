//! The certificate chain builder: any set of certificates a bundle (`x509CertificateChain`)
//! or a `--certificate-chain` file can hold, split between the untrusted chain and the
//! trust anchors, validated at a fixed time.
//!
//! Input layout (see fuzz/seeds/make.sh, which writes the seeds this way):
//! byte 0: low nibble = how many of the certificates, counted from the end, are anchors
//! (at least one); bit 4 = the rest is one PEM text, else a list of DER certificates, each
//! preceded by its length as two big-endian bytes. The first certificate is the leaf.

#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use modelsign::x509::validate_chain;
use modelsign::Certificate;

/// 2030-01-01, inside the seed certificates' validity; fixed so runs are reproducible.
const CHECK_TIME_UNIX: u64 = 1_893_456_000;
const PEM_FLAG: u8 = 0x10;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let certificates = if control & PEM_FLAG != 0 {
        match Certificate::from_pem_many(rest) {
            Ok(certificates) => certificates,
            Err(_) => return,
        }
    } else {
        der_list(rest)
    };
    for certificate in &certificates {
        let _ = certificate.subject();
        let _ = certificate.public_key();
        let reparsed = Certificate::from_der(certificate.der())
            .unwrap_or_else(|e| panic!("a parsed certificate's own DER is unreadable: {e}"));
        assert_eq!(&reparsed, certificate);
    }
    let Some((leaf, others)) = certificates.split_first() else {
        return;
    };
    let anchor_count = usize::from(control & 0x0f).clamp(1, others.len().max(1));
    let (intermediates, anchors) = if others.is_empty() {
        // A lone certificate is checked against itself as the anchor (a self-signed leaf).
        (&others[..0], std::slice::from_ref(leaf))
    } else {
        others.split_at(others.len() - anchor_count)
    };
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(CHECK_TIME_UNIX);
    let _ = validate_chain(leaf, intermediates, anchors, at);
    // Every certificate also as a trusted anchor set of its own, as `--certificate-chain`
    // files are used.
    let _ = validate_chain(leaf, &[], others, at);
});

/// DER certificates, each after a two-byte big-endian length; unparsable ones are skipped
/// so the fuzzer can mix good and bad certificates.
fn der_list(mut data: &[u8]) -> Vec<Certificate> {
    let mut certificates = Vec::new();
    while data.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let end = (2 + len).min(data.len());
        if let Ok(certificate) = Certificate::from_der(&data[2..end]) {
            certificates.push(certificate);
        }
        data = &data[end..];
    }
    certificates
}
