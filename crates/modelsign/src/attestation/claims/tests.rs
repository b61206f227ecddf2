use super::*;
use crate::error::Classify;
use crate::keys::Curve;
use crate::{KeySigner, PrivateKey, Signer};

/// A key-signed bundle of a statement with `predicate_type` and `marker` as predicate.
fn claim_bundle(predicate_type: &str, marker: u32) -> Bundle {
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "model", "digest": {"sha256": "00"}}],
        "predicateType": predicate_type,
        "predicate": {"marker": marker},
    });
    let key = PrivateKey::generate(Curve::P256).expect("generate");
    KeySigner::new(key)
        .sign_payload(serde_json::to_vec(&statement).expect("json"))
        .expect("sign")
}

fn marker(claim: &Claim) -> u64 {
    let statement: serde_json::Value =
        serde_json::from_slice(&claim.bundle.envelope.payload).expect("payload");
    statement["predicate"]["marker"].as_u64().expect("marker")
}

#[test]
fn appended_claims_read_back_in_order_and_are_found_by_predicate_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    assert_eq!(append(&path, &claim_bundle("card", 1)).expect("append"), 1);
    assert_eq!(
        append(&path, &claim_bundle("provenance", 2)).expect("append"),
        2
    );
    assert_eq!(append(&path, &claim_bundle("card", 3)).expect("append"), 3);
    let claims = read(&path).expect("read");
    assert_eq!(claims.iter().map(|c| c.line).collect::<Vec<_>>(), [1, 2, 3]);
    let cards: Vec<u64> = of_predicate_type(&claims, "card").map(marker).collect();
    assert_eq!(cards, [3, 1], "newest first");
    let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
}

#[test]
fn a_line_that_is_not_a_bundle_is_named_and_never_appended_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    append(&path, &claim_bundle("card", 1)).expect("append");
    let mut text = std::fs::read(&path).expect("read");
    text.extend_from_slice(b"\n{\"mediaType\": \"truncated\n");
    std::fs::write(&path, &text).expect("corrupt");
    for err in [
        read(&path).expect_err("corrupt"),
        append(&path, &claim_bundle("card", 2)).expect_err("corrupt"),
    ] {
        assert!(matches!(err, ClaimsError::Line { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(!err.is_input_error());
    }
    assert_eq!(std::fs::read(&path).expect("read"), text, "left as it was");
}

#[test]
fn a_last_line_without_newline_is_completed_before_appending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    std::fs::write(&path, claim_bundle("card", 1).to_json()).expect("write");
    assert_eq!(append(&path, &claim_bundle("card", 2)).expect("append"), 2);
    let markers: Vec<u64> = read(&path).expect("read").iter().map(marker).collect();
    assert_eq!(markers, [1, 2]);
}

#[test]
fn the_newest_claim_that_verifies_wins() {
    let claims: Vec<Claim> = [1, 2, 3]
        .into_iter()
        .enumerate()
        .map(|(i, m)| Claim {
            line: i + 1,
            bundle: claim_bundle("card", m),
            predicate_type: Some("card".into()),
        })
        .collect();
    let accept_only_the_oldest = |bundle: &Bundle| {
        let claim = Claim {
            line: 0,
            bundle: bundle.clone(),
            predicate_type: None,
        };
        let m = marker(&claim);
        if m == 1 {
            Ok(m)
        } else {
            Err(format!("rejected {m}"))
        }
    };
    let (claim, verified) =
        first_verified(&claims, "card", accept_only_the_oldest).expect("verifies");
    assert_eq!((claim.line, verified), (1, 1));
    match first_verified(&claims, "card", |_| Err::<(), _>("no")) {
        Err(Unverified::Failed { line, tried, error }) => {
            assert_eq!((line, tried, error), (3, 3, "no"), "the newest failure")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        first_verified(&claims, "provenance", |_| Ok::<(), ()>(())),
        Err(Unverified::NoClaim)
    ));
}
