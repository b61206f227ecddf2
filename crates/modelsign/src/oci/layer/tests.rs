use std::io::Write;

use super::*;

/// A layer blob held in memory, as a registry or layout would stream it.
struct Blob(Vec<u8>);

impl LayerSource for Blob {
    fn open_layer(&self, _layer: &Descriptor) -> Result<Box<dyn Read + '_>, OciError> {
        Ok(Box::new(self.0.as_slice()))
    }
}

fn descriptor(blob: &[u8]) -> Descriptor {
    Descriptor {
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".to_owned(),
        digest: sha256_string(&Sha256::digest(blob)),
        size: blob.len() as u64,
        artifact_type: None,
        annotations: Default::default(),
        platform: None,
    }
}

fn sha256(data: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(data))
}

/// A header named `name` byte for byte (the `tar` crate's own setters refuse hostile
/// names, which a hostile tarball has all the same).
fn header(name: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    let field = &mut header.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name.as_bytes());
    header.set_cksum();
    header
}

fn add_file(tar: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    tar.append(
        &header(name, tar::EntryType::Regular, data.len() as u64),
        data,
    )
    .unwrap();
}

fn add_link(tar: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, target: &str) {
    let mut link = header(name, kind, 0);
    link.set_link_name(target).unwrap();
    link.set_cksum();
    tar.append(&link, io::empty()).unwrap();
}

fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(tar).unwrap();
    encoder.finish().unwrap()
}

fn list(blob: Vec<u8>) -> Result<Vec<(String, String)>, OciError> {
    let layer = descriptor(&blob);
    let files = directory_layer_files(&layer, &Blob(blob), crate::limits::MAX_RESOURCES)?;
    Ok(files
        .into_iter()
        .map(|f| (f.name, base16ct::lower::encode_string(&f.digest)))
        .collect())
}

fn error_text(blob: Vec<u8>) -> String {
    list(blob).unwrap_err().to_string()
}

#[test]
fn a_gzip_tarball_lists_its_regular_files_by_their_own_digests_less_the_models_prefix() {
    let mut tar = tar::Builder::new(Vec::new());
    add_file(&mut tar, "models/", b"");
    tar.append(
        &header("models/", tar::EntryType::Directory, 0),
        io::empty(),
    )
    .unwrap();
    tar.append(
        &header("models/sub/deep/", tar::EntryType::Directory, 0),
        io::empty(),
    )
    .unwrap();
    add_file(&mut tar, "models/config.json", b"{}");
    add_file(&mut tar, "models/sub/deep/weights.bin", &[7u8; 70_000]);
    add_file(&mut tar, "/models/rooted.txt", b"rooted");
    // Kept as is, as rh keeps a path outside the model folder.
    add_file(&mut tar, "other/readme.md", b"readme");
    add_file(&mut tar, "models/empty", b"");
    add_link(
        &mut tar,
        "models/link",
        tar::EntryType::Symlink,
        "config.json",
    );
    add_link(
        &mut tar,
        "models/hard",
        tar::EntryType::Link,
        "models/config.json",
    );
    // GNU long name and pax path records: the names rh reads, wherever they are kept.
    let long = format!("models/{}/long.txt", "d".repeat(120));
    let mut long_header = tar::Header::new_gnu();
    long_header.set_size(4);
    long_header.set_mode(0o644);
    tar.append_data(&mut long_header, &long, &b"long"[..])
        .unwrap();
    let pax_name = format!("models/{}/pax.txt", "p".repeat(150));
    tar.append_pax_extensions([("path", pax_name.as_bytes())])
        .unwrap();
    add_file(&mut tar, "models/placeholder-name", b"pax");
    let blob = gzip(&tar.into_inner().unwrap());

    let files = list(blob).unwrap();
    let expected = [
        ("config.json".to_owned(), sha256(b"{}")),
        ("sub/deep/weights.bin".to_owned(), sha256(&[7u8; 70_000])),
        ("rooted.txt".to_owned(), sha256(b"rooted")),
        ("other/readme.md".to_owned(), sha256(b"readme")),
        ("empty".to_owned(), sha256(b"")),
        (long[7..].to_owned(), sha256(b"long")),
        (pax_name[7..].to_owned(), sha256(b"pax")),
    ];
    assert_eq!(files, expected);
}

#[test]
fn a_plain_tarball_is_read_as_well() {
    let mut tar = tar::Builder::new(Vec::new());
    add_file(&mut tar, "models/a.bin", b"a");
    let files = list(tar.into_inner().unwrap()).unwrap();
    assert_eq!(files, [("a.bin".to_owned(), sha256(b"a"))]);
}

#[test]
fn members_named_outside_the_model_are_refused() {
    for name in [
        "models/../etc/passwd",
        "../x",
        "models/a//b",
        "./models/a",
        "models/a\\b",
    ] {
        let mut tar = tar::Builder::new(Vec::new());
        add_file(&mut tar, name, b"x");
        let error = error_text(gzip(&tar.into_inner().unwrap()));
        assert!(
            error.contains("not a relative path inside the model"),
            "{name}: {error}"
        );
    }
}

#[test]
fn a_blob_other_than_its_digest_or_size_says_is_refused() {
    let mut tar = tar::Builder::new(Vec::new());
    add_file(&mut tar, "models/a.bin", b"a");
    let blob = gzip(&tar.into_inner().unwrap());
    let mut layer = descriptor(&blob);
    layer.digest = format!("sha256:{}", "ab".repeat(32));
    let error = directory_layer_files(&layer, &Blob(blob.clone()), 10).unwrap_err();
    assert!(
        matches!(&error, OciError::DigestMismatch { actual, .. } if *actual == descriptor(&blob).digest),
        "{error}"
    );

    let mut shorter = descriptor(&blob);
    shorter.size -= 1;
    let error = directory_layer_files(&shorter, &Blob(blob.clone()), 10).unwrap_err();
    assert!(
        matches!(&error, OciError::DigestMismatch { what, .. } if what.contains("more than")),
        "{error}"
    );

    // Bytes after the gzip stream are part of the blob, and of its digest.
    let mut trailing = blob.clone();
    trailing.extend_from_slice(b"tail");
    let mut layer = descriptor(&trailing);
    layer.digest = descriptor(&blob).digest;
    let error = directory_layer_files(&layer, &Blob(trailing), 10).unwrap_err();
    assert!(matches!(error, OciError::DigestMismatch { .. }), "{error}");
}

#[test]
fn more_members_than_the_budget_are_refused() {
    let mut tar = tar::Builder::new(Vec::new());
    for i in 0..3 {
        add_file(&mut tar, &format!("models/{i}"), b"x");
    }
    let blob = tar.into_inner().unwrap();
    let layer = descriptor(&blob);
    assert_eq!(
        directory_layer_files(&layer, &Blob(blob.clone()), 3)
            .unwrap()
            .len(),
        3
    );
    let error = directory_layer_files(&layer, &Blob(blob), 2)
        .unwrap_err()
        .to_string();
    assert!(error.contains("more than 2 members"), "{error}");
}

#[test]
fn an_oversized_extension_header_is_refused_before_it_is_read() {
    let mut tar = tar::Builder::new(Vec::new());
    let records = vec![b'x'; (MAX_EXTENSION_HEADER + 1) as usize];
    tar.append(
        &header(
            "././@LongLink",
            tar::EntryType::GNULongName,
            records.len() as u64,
        ),
        records.as_slice(),
    )
    .unwrap();
    add_file(&mut tar, "models/a", b"a");
    let error = error_text(gzip(&tar.into_inner().unwrap()));
    assert!(error.contains("over the 1048576-byte limit"), "{error}");
}

#[test]
fn a_pax_size_record_is_followed_past_the_member_it_sizes() {
    // The header says 0 bytes, the pax record 5000: the member is 5000 bytes, and a
    // long-name header after it must be found where the tar reader finds it.
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_pax_extensions([("size", &b"5000"[..])]).unwrap();
    let data = vec![3u8; 5000];
    let mut sized = header("models/big.bin", tar::EntryType::Regular, 0);
    sized.set_cksum();
    tar.get_mut().extend_from_slice(sized.as_bytes());
    tar.get_mut().extend_from_slice(&data);
    tar.get_mut().extend_from_slice(&[0u8; 512 - 5000 % 512]);
    let long = format!("models/{}.bin", "n".repeat(200));
    let mut long_header = tar::Header::new_gnu();
    long_header.set_size(1);
    long_header.set_mode(0o644);
    tar.append_data(&mut long_header, &long, &b"n"[..]).unwrap();
    let files = list(gzip(&tar.into_inner().unwrap())).unwrap();
    assert_eq!(
        files,
        [
            ("big.bin".to_owned(), sha256(&data)),
            (long[7..].to_owned(), sha256(b"n")),
        ]
    );
}

#[test]
fn zstd_layers_are_refused_as_unsupported() {
    let mut blob = ZSTD_MAGIC.to_vec();
    blob.extend_from_slice(&[0u8; 64]);
    let error = list(blob).unwrap_err();
    assert!(
        matches!(&error, OciError::Unsupported { what } if what.contains("zstd-compressed")),
        "{error}"
    );
}

#[test]
fn without_a_layer_source_a_directory_layer_is_unsupported() {
    let layer = descriptor(b"");
    let error = directory_layer_files(&layer, &NoLayers, 10).unwrap_err();
    assert!(matches!(error, OciError::Unsupported { .. }), "{error}");
}

#[test]
fn a_layout_folder_serves_its_layer_blobs_and_a_corrupted_one_is_refused() {
    let mut tar = tar::Builder::new(Vec::new());
    add_file(&mut tar, "models/a.bin", b"a");
    let blob = gzip(&tar.into_inner().unwrap());
    let layer = descriptor(&blob);
    let folder = tempfile::tempdir().unwrap();
    let blobs = folder.path().join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let path = blobs.join(&layer.digest[7..]);
    std::fs::write(&path, &blob).unwrap();
    let layout = crate::oci::layout::LayoutLayers {
        path: folder.path(),
    };
    let files = directory_layer_files(&layer, &layout, 10).unwrap();
    assert_eq!(files[0].name, "a.bin");

    let mut corrupted = blob.clone();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 1;
    std::fs::write(&path, &corrupted).unwrap();
    let error = directory_layer_files(&layer, &layout, 10).unwrap_err();
    assert!(matches!(error, OciError::DigestMismatch { .. }), "{error}");

    std::fs::remove_file(&path).unwrap();
    let error = directory_layer_files(&layer, &layout, 10)
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot read layer blob"), "{error}");
}
