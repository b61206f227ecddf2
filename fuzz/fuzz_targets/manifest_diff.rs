//! The manifest comparison behind every verify verdict: two manifests built from the fuzz
//! data (names often shared, listed in any order), compared both ways. The diff must sort
//! every name into the right category and no other.

#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modelsign::manifest::{ResourceDescriptor, SerializationRecord};
use modelsign::{HashAlgorithm, Manifest, ManifestDiff, Serialization};

#[derive(Arbitrary, Debug)]
struct Input {
    signed: Vec<(Name, u8)>,
    actual: Vec<(Name, u8)>,
    ignore_unsigned: bool,
}

/// Mostly names from a small set, so the two manifests overlap; sometimes any string.
#[derive(Arbitrary, Debug)]
enum Name {
    Common(u8),
    Any(String),
}

impl Name {
    fn text(&self) -> String {
        match self {
            Name::Common(n) => format!("dir{}/file{}", n % 3, n % 11),
            Name::Any(s) => s.clone(),
        }
    }
}

/// A manifest of the entries (`Manifest::new` puts them in canonical order); a name listed twice keeps its first
/// digest, as no manifest modelsign builds or accepts has duplicate names.
fn manifest(entries: &[(Name, u8)]) -> (Manifest, BTreeMap<String, u8>) {
    let mut seen = BTreeMap::new();
    let mut resources = Vec::new();
    for (name, byte) in entries {
        let name = name.text();
        if seen.contains_key(&name) {
            continue;
        }
        seen.insert(name.clone(), *byte);
        resources.push(ResourceDescriptor {
            name,
            digest: vec![*byte; 32],
        });
    }
    let manifest = Manifest::new(
        "fuzz".into(),
        SerializationRecord {
            serialization: Serialization::Files,
            hash_type: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
        },
        resources,
    );
    (manifest, seen)
}

fuzz_target!(|input: Input| {
    let (signed, want) = manifest(&input.signed);
    let (actual, have) = manifest(&input.actual);

    for m in [&signed, &actual] {
        for ignore in [false, true] {
            assert!(
                ManifestDiff::between(m, m, ignore).is_empty(),
                "a manifest differs from itself"
            );
        }
    }

    let diff = ManifestDiff::between(&signed, &actual, input.ignore_unsigned);
    let _ = diff.to_string();
    assert!(
        diff.symlinks.is_empty(),
        "the comparison invents symbolic links"
    );
    for name in &diff.changed {
        let (Some(w), Some(h)) = (want.get(name), have.get(name)) else {
            panic!("'{name}' reported changed but is not in both manifests");
        };
        assert_ne!(w, h, "'{name}' reported changed but its digest is the same");
    }
    for name in &diff.missing {
        assert!(
            want.contains_key(name) && !have.contains_key(name),
            "'{name}' wrongly missing"
        );
    }
    for name in &diff.extra {
        assert!(
            have.contains_key(name) && !want.contains_key(name),
            "'{name}' wrongly extra"
        );
    }
    // Completeness: every difference is reported, once.
    let expected_changed: Vec<&String> = want
        .iter()
        .filter(|(name, digest)| have.get(*name).is_some_and(|h| h != *digest))
        .map(|(name, _)| name)
        .collect();
    let expected_missing: Vec<&String> = want.keys().filter(|n| !have.contains_key(*n)).collect();
    let expected_extra: Vec<&String> = if input.ignore_unsigned {
        Vec::new()
    } else {
        have.keys().filter(|n| !want.contains_key(*n)).collect()
    };
    assert_eq!(diff.changed.iter().collect::<Vec<_>>(), expected_changed);
    assert_eq!(diff.missing.iter().collect::<Vec<_>>(), expected_missing);
    assert_eq!(diff.extra.iter().collect::<Vec<_>>(), expected_extra);
    assert_eq!(
        diff.is_empty(),
        expected_changed.is_empty() && expected_missing.is_empty() && expected_extra.is_empty()
    );
});
