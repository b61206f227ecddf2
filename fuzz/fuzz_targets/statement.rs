//! The statement reader (OMS v1.0 and model_signing 0.2's `Digests/v0.1`): any payload of a
//! bundle whose signature checks. Whatever it accepts is a manifest modelsign can write as
//! a v1.0 statement and read back unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelsign::statement::{self, StatementFormat};

fuzz_target!(|data: &[u8]| {
    let Ok(signed) = statement::decode(data) else {
        return;
    };
    let manifest = &signed.manifest;
    assert!(
        manifest
            .resources()
            .windows(2)
            .all(|pair| pair[0].name < pair[1].name),
        "resources are in canonical order, without duplicates"
    );
    assert_eq!(
        signed.root_digest.is_some(),
        signed.format == StatementFormat::V1,
        "a root digest is recorded by v1.0 statements only"
    );
    for resource in manifest.resources() {
        assert_eq!(
            resource.digest.len(),
            manifest.serialization().hash_type.digest_len()
        );
    }

    let encoded = statement::encode(manifest);
    let reread = statement::decode(&encoded)
        .unwrap_or_else(|e| panic!("a statement modelsign wrote is unreadable: {e}"));
    assert_eq!(reread.format, StatementFormat::V1);
    assert_eq!(&reread.manifest, manifest);
    assert_eq!(reread.root_digest, Some(manifest.root_digest()));
    assert_eq!(statement::encode(&reread.manifest), encoded);
    let _ = manifest.root_digest_string();
});
