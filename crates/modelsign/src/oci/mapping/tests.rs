use super::*;

const EMPTY_CONFIG: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

fn digest(byte: u8) -> String {
    format!("sha256:{}", base16ct::lower::encode_string(&[byte; 32]))
}

fn parse(json: serde_json::Value) -> ImageManifest {
    ImageManifest::parse(&serde_json::to_vec(&json).unwrap()).unwrap()
}

fn names(manifest: &Manifest) -> Vec<(&str, String)> {
    manifest
        .resources()
        .iter()
        .map(|r| (r.name.as_str(), base16ct::lower::encode_string(&r.digest)))
        .collect()
}

#[test]
fn an_oras_artifact_lists_the_config_and_each_layer_by_title_or_position() {
    let image = parse(serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.model.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_CONFIG, "size": 2},
        "layers": [
            {"mediaType": "application/vnd.cncf.model.weight.v1.raw", "digest": digest(1), "size": 3,
             "annotations": {TITLE_ANNOTATION: "model.safetensors"}},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(2), "size": 3},
        ]
    }));
    let manifest = oms_manifest(&image, "127.0.0.1:5000/m:v1").unwrap();
    assert_eq!(
        names(&manifest),
        [
            ("config.json", EMPTY_CONFIG[7..].to_owned()),
            ("layer_001.tar.gz", base16ct::lower::encode_string(&[2; 32])),
            (
                "model.safetensors",
                base16ct::lower::encode_string(&[1; 32])
            ),
        ]
    );
    assert_eq!(manifest.serialization().serialization, Serialization::Files);
    assert!(!manifest.serialization().allow_symlinks);
    assert_eq!(file_names(&image, &manifest), ["model.safetensors"]);
}

#[test]
fn a_layer_titled_config_json_takes_the_place_of_the_config_blob() {
    let image = parse(serde_json::json!({
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_CONFIG},
        "layers": [{"mediaType": "application/json", "digest": digest(7),
                    "annotations": {TITLE_ANNOTATION: "config.json"}}]
    }));
    let manifest = oms_manifest(&image, "m").unwrap();
    assert_eq!(
        names(&manifest),
        [("config.json", base16ct::lower::encode_string(&[7; 32]))]
    );
}

#[test]
fn a_modelcar_image_lists_its_files_by_their_own_digests_and_skips_the_base_image() {
    let image = parse(serde_json::json!({
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(9)},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(8)},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(3),
             "annotations": {OLOT_CONTENT_TYPE: "file", OLOT_CONTENT_DIGEST: digest(4),
                             OLOT_CONTENT_PATH: "/models/weights/model.bin"}},
        ]
    }));
    let manifest = oms_manifest(&image, "m").unwrap();
    assert_eq!(
        names(&manifest),
        [(
            "weights/model.bin",
            base16ct::lower::encode_string(&[4; 32])
        )]
    );
    assert_eq!(file_names(&image, &manifest), ["weights/model.bin"]);
}

#[test]
fn names_that_would_leave_the_model_folder_are_refused() {
    for title in ["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b"] {
        let image = parse(serde_json::json!({
            "config": {"digest": EMPTY_CONFIG},
            "layers": [{"digest": digest(1), "annotations": {TITLE_ANNOTATION: title}}]
        }));
        let error = oms_manifest(&image, "m").unwrap_err().to_string();
        assert!(
            error.contains("not a relative path inside the model"),
            "{title}: {error}"
        );
    }
}

#[test]
fn two_layers_with_one_title_and_foreign_digests_are_refused() {
    let twice = parse(serde_json::json!({
        "config": {"digest": EMPTY_CONFIG},
        "layers": [{"digest": digest(1), "annotations": {TITLE_ANNOTATION: "a"}},
                   {"digest": digest(2), "annotations": {TITLE_ANNOTATION: "a"}}]
    }));
    assert!(oms_manifest(&twice, "m")
        .unwrap_err()
        .to_string()
        .contains("both named 'a'"));
    let sha512 = parse(serde_json::json!({
        "config": {"digest": format!("sha512:{}", "ab".repeat(64))},
        "layers": []
    }));
    assert!(oms_manifest(&sha512, "m")
        .unwrap_err()
        .to_string()
        .contains("not a SHA-256 digest"));
}

/// A ModelCar image's layer blobs, held in memory.
struct Blobs(Vec<(String, Vec<u8>)>);

impl crate::oci::layer::LayerSource for Blobs {
    fn open_layer(&self, layer: &Descriptor) -> Result<Box<dyn std::io::Read + '_>, OciError> {
        let (_, blob) = self
            .0
            .iter()
            .find(|(digest, _)| *digest == layer.digest)
            .expect("only the directory layer is read");
        Ok(Box::new(blob.as_slice()))
    }
}

fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, *data).unwrap();
    }
    tar.into_inner().unwrap()
}

#[test]
fn a_modelcar_directory_layer_lists_the_files_of_its_tarball_and_is_only_read_given_a_source() {
    use sha2::Digest as _;
    let blob = tarball(&[("models/sub/a.bin", b"a"), ("models/b.txt", b"b")]);
    let blob_digest = crate::manifest::sha256_string(&sha2::Sha256::digest(&blob));
    let image = parse(serde_json::json!({
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(9)},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(8)},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": blob_digest,
             "size": blob.len(),
             "annotations": {OLOT_CONTENT_TYPE: "directory", OLOT_CONTENT_PATH: "/models/"}},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(3),
             "annotations": {OLOT_CONTENT_TYPE: "file", OLOT_CONTENT_DIGEST: digest(4),
                             OLOT_CONTENT_PATH: "/models/weights.bin"}},
        ]
    }));
    let error = oms_manifest(&image, "m").unwrap_err();
    assert!(matches!(error, OciError::Unsupported { .. }), "{error}");

    let blobs = Blobs(vec![(blob_digest.clone(), blob)]);
    let manifest = oms_manifest_with(&image, "m", &blobs).unwrap();
    let sha = |data: &[u8]| base16ct::lower::encode_string(&sha2::Sha256::digest(data));
    assert_eq!(
        names(&manifest),
        [
            ("b.txt", sha(b"b")),
            ("sub/a.bin", sha(b"a")),
            ("weights.bin", base16ct::lower::encode_string(&[4; 32])),
        ]
    );
    assert_eq!(
        file_names(&image, &manifest),
        ["b.txt", "sub/a.bin", "weights.bin"]
    );
}

#[test]
fn a_directory_layer_file_also_given_by_a_file_layer_is_refused() {
    use sha2::Digest as _;
    let blob = tarball(&[("models/weights.bin", b"w")]);
    let blob_digest = crate::manifest::sha256_string(&sha2::Sha256::digest(&blob));
    let image = parse(serde_json::json!({
        "config": {"digest": digest(9)},
        "layers": [
            {"digest": blob_digest, "size": blob.len(),
             "annotations": {OLOT_CONTENT_TYPE: "directory"}},
            {"digest": digest(3),
             "annotations": {OLOT_CONTENT_TYPE: "file", OLOT_CONTENT_DIGEST: digest(4),
                             OLOT_CONTENT_PATH: "/models/weights.bin"}},
        ]
    }));
    let error = oms_manifest_with(&image, "m", &Blobs(vec![(blob_digest, blob)]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("both named 'weights.bin'"), "{error}");
}
