use super::*;

fn parse(text: &str) -> Result<ModelLocation, OciError> {
    ModelLocation::parse(OsStr::new(text))
}

#[test]
fn registry_references_keep_host_port_repository_tag_and_digest() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let ModelLocation::Registry(by_tag) = parse("oci://127.0.0.1:5000/acme/chat:v1.0").unwrap()
    else {
        panic!("not a registry reference")
    };
    assert_eq!(
        (
            by_tag.registry.as_str(),
            by_tag.repository.as_str(),
            by_tag.tag.as_deref(),
            by_tag.digest.as_deref()
        ),
        ("127.0.0.1:5000", "acme/chat", Some("v1.0"), None)
    );
    let pinned = format!("oci://registry.example.com/org/team/model@{digest}");
    let ModelLocation::Registry(by_digest) = parse(&pinned).unwrap() else {
        panic!("not a registry reference")
    };
    assert_eq!(by_digest.repository, "org/team/model");
    assert_eq!(by_digest.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(format!("oci://{by_digest}"), pinned);
    let both = format!("oci://localhost/m:v2@{digest}");
    assert_eq!(parse(&both).unwrap().to_string(), both);
}

#[test]
fn references_that_would_need_guessing_or_do_not_parse_are_refused() {
    for (text, expected) in [
        ("oci://acme/chat:v1", "name the registry host"),
        ("oci://registry.example.com/acme/chat", "give a tag"),
        ("oci://registry.example.com/Acme/chat:v1", "lower-case"),
        ("oci://registry.example.com/acme/chat:-v1", "a tag is"),
        (
            "oci://registry.example.com/acme/chat@sha256:abc",
            "64 lower-case hex",
        ),
        (
            "oci://registry.example.com",
            "expected oci://REGISTRY/REPOSITORY",
        ),
        ("oci-layout:", "give the layout folder"),
    ] {
        let error = parse(text).unwrap_err().to_string();
        assert!(error.contains(expected), "{text}: {error}");
    }
}

#[test]
fn layout_references_take_an_optional_tag_and_other_arguments_stay_local_paths() {
    assert_eq!(
        parse("oci-layout:/tmp/does-not-exist/layout:v1").unwrap(),
        ModelLocation::Layout {
            path: "/tmp/does-not-exist/layout".into(),
            tag: Some("v1".into())
        }
    );
    let dir = tempfile::tempdir().unwrap();
    let with_colon = dir.path().join("a:b");
    std::fs::create_dir(&with_colon).unwrap();
    let text = format!("oci-layout:{}", with_colon.display());
    assert_eq!(
        parse(&text).unwrap(),
        ModelLocation::Layout {
            path: with_colon,
            tag: None
        }
    );
    for local in ["model", "./oci://x", "oci:thing", "/models/oci-layout"] {
        assert_eq!(
            parse(local).unwrap(),
            ModelLocation::Local(local.into()),
            "{local}"
        );
    }
}
