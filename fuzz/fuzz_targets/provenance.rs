//! The provenance readers: the references `provenance record` and `verify` take on the
//! command line (`--input ROLE=REF`, `--output PATH[=URI]`, `--input ROLE=PATH`), a draft
//! (`--draft`), and a signed provenance's predicate.
//!
//! Input layout: the first line is a reference, the rest a predicate (JSON), also read as
//! a draft.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelsign::attestation::{ModelSubject, Predicate};
use modelsign::manifest::SerializationRecord;
use modelsign::provenance::{InputCheck, InputRef, OutputRef, Provenance};
use modelsign::{HashAlgorithm, Serialization};

fuzz_target!(|data: &[u8]| {
    let (line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(text) = std::str::from_utf8(line) {
        if let Ok(input) = InputRef::parse(text) {
            // What a reference prints back as parses back to the same reference.
            let shown = format!("{}={}", input.role, input.reference());
            let again = InputRef::parse(&shown)
                .unwrap_or_else(|e| panic!("a printed reference does not parse: {shown}: {e}"));
            assert_eq!(again, input, "printing and parsing changed the reference");
        }
        let _ = OutputRef::parse(text);
        let _ = InputCheck::parse(text);
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    if let Ok(provenance) = Provenance::decode(value) {
        // A provenance read back is written, and read again, unchanged.
        let subject = ModelSubject {
            name: "fuzz".into(),
            root_digest: [7; 32],
            serialization: SerializationRecord {
                serialization: Serialization::Files,
                hash_type: HashAlgorithm::Sha256,
                allow_symlinks: false,
                ignore_paths: Vec::new(),
            },
            uri: None,
        };
        let written = provenance.encode(&subject);
        let reread = Provenance::decode(written)
            .unwrap_or_else(|e| panic!("a provenance modelsign wrote is unreadable: {e}"));
        assert_eq!(reread, provenance, "writing and reading changed the provenance");
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = modelsign::provenance::draft::Draft::parse(text, std::path::Path::new("fuzz"));
    }
});
