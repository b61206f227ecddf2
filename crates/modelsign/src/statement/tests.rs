use serde_json::json;

use super::*;

fn manifest(names: &[&str], serialization: Serialization) -> Manifest {
    let resources = names
        .iter()
        .enumerate()
        .map(|(i, name)| ResourceDescriptor {
            name: (*name).to_owned(),
            digest: vec![i as u8; 32],
        })
        .collect();
    Manifest::new(
        "modèle".to_owned(),
        SerializationRecord {
            serialization,
            hash_type: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: vec![".git".into(), "model.sig".into()],
        },
        resources,
    )
}

/// A payload for `decode`, with the subject digest made consistent with the resources.
fn payload(mut statement: Value) -> Vec<u8> {
    let digests: Vec<Vec<u8>> = statement["predicate"]["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| {
                    r["digest"]
                        .as_str()
                        .and_then(|d| base16ct::mixed::decode_vec(d).ok())
                })
                .collect()
        })
        .unwrap_or_default();
    let root = manifest::root_digest(digests.iter().map(Vec::as_slice));
    if statement["subject"][0]["digest"]["sha256"].is_null() {
        statement["subject"][0]["digest"]["sha256"] = json!(base16ct::lower::encode_string(&root));
    }
    serde_json::to_vec(&statement).expect("json")
}

fn statement(resources: Value, serialization: Value) -> Value {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "m", "digest": {}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"serialization": serialization, "resources": resources},
    })
}

fn files() -> Value {
    json!({"method": "files", "hash_type": "sha256", "allow_symlinks": false})
}

fn resource(name: &str) -> Value {
    json!({"name": name, "algorithm": "sha256", "digest": "11".repeat(32)})
}

#[test]
fn encoded_statement_has_the_python_layout_with_a_fixed_key_order() {
    let encoded = encode(&manifest(&["b", "a/é"], Serialization::Files));
    let text = String::from_utf8(encoded.clone()).expect("utf-8");
    assert!(text.is_ascii(), "non-ASCII must be escaped: {text}");
    assert!(text.contains("\"name\": \"mod\\u00e8le\""), "{text}");
    assert!(text.contains("\"name\": \"a/\\u00e9\""), "{text}");
    assert!(!text.ends_with('\n'));
    assert!(text
        .starts_with("{\n  \"_type\": \"https://in-toto.io/Statement/v1\",\n  \"subject\": [\n"));
    let order = [
        "\"_type\"",
        "\"subject\"",
        "\"predicateType\"",
        "\"predicate\"",
        "\"serialization\"",
        "\"method\"",
        "\"hash_type\"",
        "\"allow_symlinks\"",
        "\"ignore_paths\"",
        "\"resources\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "key order: {text}"
    );
    assert!(!text.contains("shard_size"));
}

#[test]
fn encoded_shards_record_an_integer_shard_size_and_the_plain_algorithm() {
    let text = String::from_utf8(encode(&manifest(
        &["f:0:8"],
        Serialization::Shards { shard_size: 8 },
    )))
    .expect("utf-8");
    assert!(text.contains("\"shard_size\": 8,"), "{text}");
    assert!(text.contains("\"algorithm\": \"sha256\""), "{text}");
}

#[test]
fn encode_then_decode_round_trips() {
    let original = manifest(&["z", "a/b", "a-b", "é"], Serialization::Files);
    let decoded = decode(&encode(&original)).expect("decode");
    assert_eq!(decoded.format, StatementFormat::V1);
    assert_eq!(decoded.manifest, original);
    assert_eq!(decoded.root_digest, Some(original.root_digest()));
    let names: Vec<&str> = original
        .resources()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["a-b", "a/b", "z", "é"], "code-point order");
}

#[test]
fn python_shard_variants_are_accepted() {
    let serialization = json!({"method": "shards", "hash_type": "sha256", "shard_size": 8.0, "allow_symlinks": false});
    let resources = json!([
        {"name": "./w.bin:0:8", "algorithm": "sha256-sharded-8", "digest": "22".repeat(32)},
        {"name": "a:b.bin:0:3", "algorithm": "sha256", "digest": "33".repeat(32)},
    ]);
    let decoded = decode(&payload(statement(resources, serialization))).expect("decode");
    let names: Vec<&str> = decoded
        .manifest
        .resources()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["a:b.bin:0:3", "w.bin:0:8"]);
    assert_eq!(
        decoded.manifest.serialization().serialization,
        Serialization::Shards { shard_size: 8 }
    );
}

#[test]
fn root_digest_is_checked_over_the_listed_order() {
    let resources =
        json!([resource("a"), {"name": "b", "algorithm": "sha256", "digest": "22".repeat(32)}]);
    let mut s = statement(resources, files());
    s["subject"][0]["digest"]["sha256"] = json!("00".repeat(32));
    let err = decode(&payload(s)).expect_err("root digest mismatch");
    assert!(
        matches!(err, StatementError::RootDigestMismatch { .. }),
        "{err}"
    );
}

#[test]
fn invalid_statements_are_rejected_with_the_reason() {
    type Case = (&'static str, Value, fn(&StatementError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "wrong _type",
            {
                let mut s = statement(json!([resource("a")]), files());
                s["_type"] = json!("https://in-toto.io/Statement/v0.1");
                s
            },
            |e| matches!(e, StatementError::StatementType(_)),
        ),
        (
            "wrong predicate",
            {
                let mut s = statement(json!([resource("a")]), files());
                s["predicateType"] = json!("https://example.com/other");
                s
            },
            |e| matches!(e, StatementError::PredicateType(_)),
        ),
        (
            "two subjects",
            {
                let mut s = statement(json!([resource("a")]), files());
                s["subject"] =
                    json!([{"name": "a", "digest": {"sha256": "00"}}, {"name": "b", "digest": {}}]);
                s
            },
            |e| matches!(e, StatementError::SubjectCount(2)),
        ),
        (
            "no serialization",
            {
                let mut s = statement(json!([resource("a")]), files());
                s["predicate"]
                    .as_object_mut()
                    .expect("object")
                    .remove("serialization");
                s
            },
            |e| matches!(e, StatementError::Missing("predicate.serialization")),
        ),
        ("no resources", statement(json!([]), files()), |e| {
            matches!(e, StatementError::EmptyResources)
        }),
        (
            "parent traversal",
            statement(json!([resource("../etc/passwd")]), files()),
            |e| matches!(e, StatementError::BadResourceName { .. }),
        ),
        (
            "absolute path",
            statement(json!([resource("/etc/passwd")]), files()),
            |e| matches!(e, StatementError::BadResourceName { .. }),
        ),
        (
            "duplicate",
            statement(json!([resource("a"), resource("./a")]), files()),
            |e| matches!(e, StatementError::DuplicateResource(n) if n == "a"),
        ),
        (
            "unknown method",
            statement(
                json!([resource("a")]),
                json!({"method": "zip", "hash_type": "sha256", "allow_symlinks": false}),
            ),
            |e| {
                matches!(
                    e,
                    StatementError::Invalid {
                        field: "predicate.serialization.method",
                        ..
                    }
                )
            },
        ),
        (
            "unknown hash",
            statement(
                json!([resource("a")]),
                json!({"method": "files", "hash_type": "md5", "allow_symlinks": false}),
            ),
            |e| {
                matches!(
                    e,
                    StatementError::Invalid {
                        field: "predicate.serialization.hash_type",
                        ..
                    }
                )
            },
        ),
        (
            "algorithm mismatch",
            statement(
                json!([{"name": "a", "algorithm": "blake3", "digest": "11".repeat(32)}]),
                files(),
            ),
            |e| matches!(e, StatementError::AlgorithmMismatch { .. }),
        ),
        (
            "short digest",
            statement(
                json!([{"name": "a", "algorithm": "sha256", "digest": "11"}]),
                files(),
            ),
            |e| matches!(e, StatementError::Invalid { .. }),
        ),
        (
            "shards without size",
            statement(
                json!([resource("a:0:1")]),
                json!({"method": "shards", "hash_type": "sha256", "allow_symlinks": false}),
            ),
            |e| {
                matches!(
                    e,
                    StatementError::Missing("predicate.serialization.shard_size")
                )
            },
        ),
        (
            "fractional shard size",
            statement(
                json!([resource("a:0:1")]),
                json!({"method": "shards", "hash_type": "sha256", "shard_size": 1.5, "allow_symlinks": false}),
            ),
            |e| matches!(e, StatementError::Invalid { .. }),
        ),
        (
            "name not a string",
            statement(
                json!([{"name": 5, "algorithm": "sha256", "digest": "11".repeat(32)}]),
                files(),
            ),
            |e| {
                matches!(
                    e,
                    StatementError::Invalid {
                        field: "predicate.resources[].name",
                        ..
                    }
                )
            },
        ),
        (
            "digest missing",
            statement(json!([{"name": "a", "algorithm": "sha256"}]), files()),
            |e| matches!(e, StatementError::Missing("predicate.resources[].digest")),
        ),
        (
            "resources not an array",
            statement(json!({"a": resource("a")}), files()),
            |e| {
                matches!(
                    e,
                    StatementError::Invalid {
                        field: "predicate.resources",
                        ..
                    }
                )
            },
        ),
        (
            "bad shard name",
            statement(
                json!([resource("a:x:1")]),
                json!({"method": "shards", "hash_type": "sha256", "shard_size": 8, "allow_symlinks": false}),
            ),
            |e| matches!(e, StatementError::BadResourceName { .. }),
        ),
    ];
    for (label, value, expected) in cases {
        let err = decode(&payload(value)).expect_err(label);
        assert!(expected(&err), "{label}: got {err}");
    }
    assert!(matches!(
        decode(b"not json"),
        Err(StatementError::NotJson(_))
    ));
}

#[test]
fn legacy_digest_statements_are_read_as_files_sha256() {
    let legacy = json!({
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": "signme-1", "digest": {"sha256": "f6310066c7320497ea554260c32c43660bff648cb2a61194832cc086077085e1"}, "annotations": {"actual_hash_algorithm": "file-sha256"}},
            {"name": "signme-2", "digest": {"sha256": "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028"}},
        ],
        "predicateType": LEGACY_PREDICATE_TYPE,
        "predicate": {"unused": "Unused, just passed due to API requirements"},
    });
    let decoded = decode(&serde_json::to_vec(&legacy).expect("json")).expect("decode");
    assert_eq!(decoded.format, StatementFormat::LegacyDigests);
    assert_eq!(decoded.root_digest, None);
    assert_eq!(
        decoded.manifest.serialization().serialization,
        Serialization::Files
    );
    assert_eq!(decoded.manifest.resources().len(), 2);
}

#[test]
fn escaped_names_and_extra_fields_read_the_same_as_plain_ones() {
    // Non-ASCII names arrive \u-escaped (the reference writes ASCII JSON); unknown fields
    // are ignored in every object.
    let payload = payload(json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "m", "digest": {}, "extra": 1}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": files(),
            "resources": [
                {"name": "modèle/b.bin", "algorithm": "sha256", "digest": "11".repeat(32), "note": "x"},
                {"name": "a/./c.bin", "algorithm": "sha256", "digest": "22".repeat(32)},
            ],
            "extra": true,
        },
    }));
    let text = String::from_utf8(payload).expect("utf-8");
    let escaped = text.replace("modèle", "mod\\u00e8le");
    assert!(escaped.contains("mod\\u00e8le/b.bin"));
    let decoded = decode(escaped.as_bytes()).expect("decode");
    let names: Vec<&str> = decoded
        .manifest
        .resources()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["a/c.bin", "modèle/b.bin"]);
}
