//! The reader of known digests (`sign --digests FILE`): a checksum list as sha256sum,
//! b2sum or b3sum write it, or an OMS manifest (a Sigstore bundle, an in-toto statement, a
//! bare predicate). Each input is read as a list of every algorithm's digests. Whatever is
//! accepted is sorted, unique and of the algorithm's length; an accepted checksum list,
//! written out again as GNU and as BSD-tag lines, reads back the same.
//!
//! Input layout: the list itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelsign::known_digests::{self, DigestList, DigestListFormat};
use modelsign::model::canonicalize_relative;
use modelsign::HashAlgorithm;

fuzz_target!(|data: &[u8]| {
    for algorithm in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Blake2b,
        HashAlgorithm::Blake3,
    ] {
        if let Ok(list) = known_digests::parse(data, algorithm) {
            check(&list, algorithm);
        }
    }
});

fn check(list: &DigestList, algorithm: HashAlgorithm) {
    assert!(!list.resources.is_empty(), "an accepted list names a file");
    assert!(
        list.resources
            .windows(2)
            .all(|pair| pair[0].name < pair[1].name),
        "resources are in canonical order, without duplicates"
    );
    for resource in &list.resources {
        assert_eq!(resource.digest.len(), algorithm.digest_len());
    }
    if let Some(record) = &list.serialization {
        assert_eq!(
            record.hash_type, algorithm,
            "OMS input of another algorithm"
        );
    }
    if list.format != DigestListFormat::ChecksumList {
        return;
    }
    assert!(list.serialization.is_none());
    for resource in &list.resources {
        assert_eq!(
            canonicalize_relative(&resource.name).as_deref(),
            Ok(resource.name.as_str()),
            "a checksum list's names are canonical"
        );
    }
    for written in [gnu_list(list), tag_list(list, algorithm)] {
        let reread = known_digests::parse(written.as_bytes(), algorithm).unwrap_or_else(|e| {
            panic!("a list written as the tools write it is unreadable: {e}\n{written}")
        });
        assert_eq!(reread.resources, list.resources, "{written}");
    }
}

/// GNU's escaping: a name holding `\`, a line feed or a carriage return is written with
/// them escaped, on a line that starts with `\`.
fn escaped(name: &str) -> (&'static str, String) {
    if !name.contains(['\\', '\n', '\r']) {
        return ("", name.to_owned());
    }
    let name = name
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    ("\\", name)
}

fn gnu_list(list: &DigestList) -> String {
    let mut out = String::new();
    for resource in &list.resources {
        let (prefix, name) = escaped(&resource.name);
        out.push_str(&format!(
            "{prefix}{}  {name}\n",
            hex_digest(&resource.digest)
        ));
    }
    out
}

fn tag_list(list: &DigestList, algorithm: HashAlgorithm) -> String {
    let tag = match algorithm {
        HashAlgorithm::Sha256 => "SHA256",
        HashAlgorithm::Blake2b => "BLAKE2b",
        _ => "BLAKE3",
    };
    let mut out = String::new();
    for resource in &list.resources {
        let (prefix, name) = escaped(&resource.name);
        out.push_str(&format!(
            "{prefix}{tag} ({name}) = {}\r\n",
            hex_digest(&resource.digest)
        ));
    }
    out
}

fn hex_digest(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
