//! The model card readers: a card's YAML (`--card`), a `--require` policy, and a signed card
//! statement (the payload `card verify`/`card show` read), rendered in every format.
//!
//! Input layout: the first line is a `--require` policy, the rest is the card's YAML. The
//! rest is also read as a card statement (JSON), so statement seeds work here too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelsign::card::{self, Format, ModelCard, ModelSubject, Policy, VerifiedCard};
use modelsign::manifest::SerializationRecord;
use modelsign::{HashAlgorithm, Serialization};

fuzz_target!(|data: &[u8]| {
    let (policy_line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let policy = std::str::from_utf8(policy_line)
        .ok()
        .and_then(|text| Policy::parse(text).ok());
    if let Some(policy) = &policy {
        let shown = policy.to_string();
        let reparsed = Policy::parse(&shown)
            .unwrap_or_else(|e| panic!("a printed policy does not parse: {shown}: {e}"));
        assert_eq!(&reparsed, policy, "printing and parsing changed the policy");
    }

    if let Ok(yaml) = std::str::from_utf8(rest) {
        if let Ok(card) = ModelCard::from_yaml(yaml, "fuzz") {
            check_card(&card, policy.as_ref());
        }
    }
    if let Ok(signed) = card::decode_statement(rest) {
        let verified = VerifiedCard {
            policies: policy.iter().map(|p| p.evaluate(&signed.card)).collect(),
            signed,
            signer: None,
            notes: vec!["fuzz".into()],
        };
        let _ = verified.policies_hold();
        for format in [
            Format::Text,
            Format::Markdown,
            Format::Html,
            Format::Json,
            Format::Cyclonedx,
        ] {
            let _ = card::render(format, &verified, "fuzz");
        }
    }
});

fn check_card(card: &ModelCard, policy: Option<&Policy>) {
    let _ = card.problems(false);
    let valid = card.validate(true).is_ok();
    if let Some(policy) = policy {
        let _ = policy.evaluate(card);
    }

    let yaml = card.to_yaml();
    let reread = ModelCard::from_yaml(&yaml, "written")
        .unwrap_or_else(|e| panic!("a card modelsign wrote is unreadable: {e}\n{yaml}"));
    assert_eq!(
        reread.to_yaml(),
        yaml,
        "writing and reading changed the card"
    );

    if !valid {
        return;
    }
    // A valid card survives signing: card → statement (CycloneDX BOM) → card. What `card
    // init` found under `model:` is not signed.
    let subject = ModelSubject {
        name: card.name.clone(),
        root_digest: [7; 32],
        serialization: SerializationRecord {
            serialization: Serialization::Shards { shard_size: 4096 },
            hash_type: HashAlgorithm::Blake2b,
            allow_symlinks: true,
            ignore_paths: vec!["a/b".into()],
        },
        uri: None,
    };
    let payload = card::encode_statement(card, &subject);
    let signed = card::decode_statement(&payload)
        .unwrap_or_else(|e| panic!("a card statement modelsign wrote is unreadable: {e}"));
    assert_eq!(signed.subject.root_digest, subject.root_digest);
    assert_eq!(signed.subject.serialization, subject.serialization);
    // Dataset digests are signed in canonical (lower-case hex) form.
    let mut expected = ModelCard {
        model: None,
        ..card.clone()
    };
    for dataset in &mut expected.datasets {
        if let Some(digest) = &mut dataset.digest {
            *digest = format!(
                "sha256:{}",
                digest
                    .strip_prefix("sha256:")
                    .unwrap_or(digest)
                    .to_ascii_lowercase()
            );
        }
    }
    assert_eq!(signed.card, expected, "signing changed the card");
}
