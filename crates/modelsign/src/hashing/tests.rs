use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::Digest;

use super::*;

/// The model of `shared/vectors/reference-generated`, rebuilt byte for byte so the expected
/// digests (from the Python reference, listed in that README) apply.
fn example_model() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("example-model");
    fs::create_dir_all(root.join("weights")).expect("mkdir");
    fs::write(root.join("config.json"), "{}\n").expect("write");
    fs::write(root.join("empty.txt"), "").expect("write");
    fs::write(root.join("weights/model.bin"), "hello world").expect("write");
    fs::write(root.join("weights/shards.bin"), "Shard me: 0123456789").expect("write");
    (dir, root)
}

fn settings(algorithm: HashAlgorithm, serialization: Serialization) -> HashSettings {
    HashSettings {
        algorithm,
        serialization,
        ..HashSettings::default()
    }
}

#[test]
fn root_digests_match_the_python_reference() {
    let (_dir, root) = example_model();
    let files = settings(HashAlgorithm::Sha256, Serialization::Files)
        .hash_model(&root)
        .expect("hash");
    assert_eq!(
        files.root_digest_string(),
        "sha256:1f3f00d02dad21fc76f6b9657cdc9f378defb7e7e0d75a19a3548a22c8bf4a2d"
    );
    let shards = settings(
        HashAlgorithm::Sha256,
        Serialization::Shards { shard_size: 8 },
    )
    .hash_model(&root)
    .expect("hash");
    // model_signing orders shards numerically (…:8:16 before …:16:20) and gets 60cc4a74…;
    // OMS orders names by code point. Same digests, different order, different root.
    let mut numeric = shards.resources().to_vec();
    numeric.swap(4, 5);
    assert_eq!(
        base16ct::lower::encode_string(&crate::manifest::root_digest(
            numeric.iter().map(|r| r.digest.as_slice())
        )),
        "60cc4a74628755eb245bda12ba0a67f16fd4e286f16f0da93af7d65ca705a0ee"
    );
    assert_ne!(
        base16ct::lower::encode_string(&shards.root_digest()),
        "60cc4a74628755eb245bda12ba0a67f16fd4e286f16f0da93af7d65ca705a0ee"
    );
    let blake3 = settings(HashAlgorithm::Blake3, Serialization::Files)
        .hash_model(&root)
        .expect("hash");
    assert_eq!(
        base16ct::lower::encode_string(&blake3.root_digest()),
        "f7601b049f9cb953ed2b36e04cd85763e5466f0fe1bd1ba28f1fb9a1e59d71be"
    );
    let single = settings(HashAlgorithm::Sha256, Serialization::Files)
        .hash_model(&root.join("weights/model.bin"))
        .expect("hash");
    assert_eq!(
        base16ct::lower::encode_string(&single.root_digest()),
        "bc62d4b80d9e36da29c16c5d4d9f11731f36052c72401a76c23c0fb5a9b74423"
    );
    assert_eq!(single.resources()[0].name, "model.bin");
}

#[test]
fn shard_names_and_digests_match_the_python_reference() {
    let (_dir, root) = example_model();
    let shards = settings(
        HashAlgorithm::Sha256,
        Serialization::Shards { shard_size: 8 },
    )
    .hash_model(&root)
    .expect("hash");
    let listed: Vec<(&str, String)> = shards
        .resources()
        .iter()
        .map(|r| (r.name.as_str(), base16ct::lower::encode_string(&r.digest)))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "config.json:0:3",
                "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356".to_owned()
            ),
            (
                "weights/model.bin:0:8",
                "2850459f91fca1b8ca435e518708137a0eee63750d71056a67d700eb3d3ae9c9".to_owned()
            ),
            (
                "weights/model.bin:8:11",
                "85c76dcae2299d2235c793fe3425bd88376f5c4721cfddc1c9a9c452c20c5d33".to_owned()
            ),
            (
                "weights/shards.bin:0:8",
                "cfa24790db33265b10495911036328f385b444eaaca167f1849064ad0d00ea59".to_owned()
            ),
            (
                "weights/shards.bin:16:20",
                "499bc7df9d8873c1c38e6898177c343b2a34d2eb43178a9eb4efcb993366c8cd".to_owned()
            ),
            (
                "weights/shards.bin:8:16",
                "cb034e22175f11bf139832f9bce36759a20798f1f7bf5009142b9328224f6936".to_owned()
            ),
        ],
        "empty files produce no shard; names sort by code point (16 before 8)"
    );
}

#[test]
fn blake2b_is_the_unkeyed_64_byte_variant() {
    let (_dir, root) = example_model();
    let manifest = settings(HashAlgorithm::Blake2b, Serialization::Files)
        .hash_model(&root)
        .expect("hash");
    let model_bin = manifest
        .resources()
        .iter()
        .find(|r| r.name == "weights/model.bin")
        .expect("model.bin");
    // Python: hashlib.blake2b(b"hello world").hexdigest()
    assert_eq!(
        base16ct::lower::encode_string(&model_bin.digest),
        "021ced8799296ceca557832ab941a50b4a11f83478cf141f51f933f653ab9fbcc05a037cddbed06e309bf334942c4e58cdf1a46e237911ccd7fcf9787cbc7fd0"
    );
}

#[test]
fn shard_boundaries_cover_files_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("m");
    fs::create_dir(&root).expect("mkdir");
    for (name, size) in [
        ("exact", 16usize),
        ("plus-one", 17),
        ("minus-one", 15),
        ("small", 3),
        ("empty", 0),
    ] {
        fs::write(root.join(name), vec![7u8; size]).expect("write");
    }
    let manifest = settings(
        HashAlgorithm::Sha256,
        Serialization::Shards { shard_size: 8 },
    )
    .hash_model(&root)
    .expect("hash");
    let names: Vec<&str> = manifest
        .resources()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "exact:0:8",
            "exact:8:16",
            "minus-one:0:8",
            "minus-one:8:15",
            "plus-one:0:8",
            "plus-one:16:17",
            "plus-one:8:16",
            "small:0:3",
        ]
    );
}

/// Hashes every file or shard the slow, obvious way, for comparison with the engine.
fn sequential_reference(
    root: &std::path::Path,
    algorithm: HashAlgorithm,
    shard: Option<u64>,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let name = entry.file_name().into_string().expect("utf-8");
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if entry.file_type().expect("type").is_dir() {
                stack.push((entry.path(), rel));
                continue;
            }
            let data = fs::read(entry.path()).expect("read");
            let digest = |bytes: &[u8]| -> Vec<u8> {
                match algorithm {
                    HashAlgorithm::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
                    HashAlgorithm::Blake2b => blake2::Blake2b512::digest(bytes).to_vec(),
                    HashAlgorithm::Blake3 => blake3::hash(bytes).as_bytes().to_vec(),
                }
            };
            match shard {
                None => out.push((rel, digest(&data))),
                Some(size) => {
                    for (i, chunk) in data.chunks(size as usize).enumerate() {
                        let start = i as u64 * size;
                        let end = start + chunk.len() as u64;
                        out.push((format!("{rel}:{start}:{end}"), digest(chunk)));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn parallel_engine_matches_sequential_hashing_for_every_algorithm_and_serialization() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("m");
    fs::create_dir_all(root.join("d/e")).expect("mkdir");
    // Sizes around the shard size, the engine's read size and mapped window, including a
    // file large enough for BLAKE3's multi-threaded path.
    let sizes = [
        0usize,
        1,
        4095,
        4096,
        4097,
        65_536,
        (1 << 20) + 1,
        4 << 20,
        17 << 20,
    ];
    for (i, size) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..*size).map(|j| (j * 31 + i) as u8).collect();
        let rel = if i % 2 == 0 {
            format!("f{i}")
        } else {
            format!("d/e/f{i}")
        };
        fs::write(root.join(rel), data).expect("write");
    }
    for algorithm in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Blake2b,
        HashAlgorithm::Blake3,
    ] {
        // A shard of 4 MiB + 1 is mapped at offsets that are not page-aligned.
        for shard in [
            None,
            Some(4096u64),
            Some(4097),
            Some(1 << 20),
            Some((4 << 20) + 1),
        ] {
            let serialization = match shard {
                None => Serialization::Files,
                Some(shard_size) => Serialization::Shards { shard_size },
            };
            let expected = sequential_reference(&root, algorithm, shard);
            for workers in [1, 3] {
                let mut s = settings(algorithm, serialization);
                s.max_workers = Some(workers);
                let mut got: Vec<(String, Vec<u8>)> = s
                    .hash_model(&root)
                    .expect("hash")
                    .resources()
                    .iter()
                    .map(|r| (r.name.clone(), r.digest.clone()))
                    .collect();
                got.sort();
                assert_eq!(
                    got, expected,
                    "{algorithm} {serialization:?} workers={workers}"
                );
            }
        }
    }
}

#[test]
fn empty_model_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join(".gitignore"), "x").expect("write");
    let err = HashSettings::default()
        .hash_model(dir.path())
        .expect_err("empty model");
    assert!(
        matches!(err, HashError::Walk(WalkError::EmptyModel { .. })),
        "{err}"
    );
}

#[test]
fn a_file_that_changes_after_walking_is_detected() {
    let (_dir, root) = example_model();
    let s = HashSettings::default();
    let model = model::walk(&root, &s.walk).expect("walk");
    fs::write(root.join("weights/model.bin"), "hello world, changed").expect("write");
    let err = s
        .hash_walked(&model, &Progress::none())
        .expect_err("changed file");
    assert!(
        matches!(&err, HashError::FileChanged { path } if path.ends_with("weights/model.bin")),
        "{err}"
    );
}

#[test]
fn a_file_swapped_for_a_fifo_after_walking_is_changed_not_a_blocked_open() {
    let (_dir, root) = example_model();
    let s = HashSettings::default();
    let model = model::walk(&root, &s.walk).expect("walk");
    let weights = root.join("weights/model.bin");
    fs::remove_file(&weights).expect("remove");
    let made = std::process::Command::new("mkfifo")
        .arg(&weights)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // Nothing ever writes to the FIFO: a blocking open would wait forever.
    let err = s
        .hash_walked(&model, &Progress::none())
        .expect_err("a FIFO where a file was");
    assert_changed(&err, &weights);
}

#[test]
fn a_same_size_rewrite_after_walking_is_detected_by_its_modification_time() {
    let (_dir, root) = example_model();
    let s = HashSettings::default();
    let model = model::walk(&root, &s.walk).expect("walk");
    let path = root.join("weights/model.bin");
    let original = fs::read(&path).expect("read");
    let file = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    let walked = model
        .files
        .iter()
        .find(|f| f.path == path)
        .and_then(|f| f.modified)
        .expect("walked mtime");
    file.set_modified(walked + std::time::Duration::from_secs(5))
        .expect("set mtime");
    // Same bytes, same size: only the modification time tells that someone wrote.
    fs::write(&path, &original).expect("rewrite");
    file.set_modified(walked + std::time::Duration::from_secs(5))
        .expect("set mtime");
    let err = s
        .hash_walked(&model, &Progress::none())
        .expect_err("rewritten file");
    assert!(matches!(&err, HashError::FileChanged { .. }), "{err}");
}

#[test]
fn hash_type_names_parse() {
    assert_eq!("sha256".parse(), Ok(HashAlgorithm::Sha256));
    assert_eq!("blake2b".parse(), Ok(HashAlgorithm::Blake2b));
    assert_eq!("blake3".parse(), Ok(HashAlgorithm::Blake3));
    assert!("md5".parse::<HashAlgorithm>().is_err());
}

/// A progress sink that changes the file being hashed the first time bytes are reported:
/// the change lands deterministically between two reads (or two mapped windows) of the
/// file, with no timing involved.
struct ChangeOnFirstAdvance {
    path: PathBuf,
    change: fn(&fs::File),
    done: std::sync::atomic::AtomicBool,
}

impl ProgressSink for ChangeOnFirstAdvance {
    fn start(&self, _total_bytes: u64, _total_items: usize, _unit: &'static str) {}
    fn advance(&self, _bytes: u64) {
        if !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let file = fs::OpenOptions::new()
                .append(true)
                .open(&self.path)
                .expect("open for change");
            (self.change)(&file);
        }
    }
    fn item_done(&self) {}
    fn finish(&self) {}
}

/// Hashes a one-file model of `size` bytes, changing the file with `change` after the
/// first read or window, and returns the error the engine reports.
fn hash_while_changing(
    algorithm: HashAlgorithm,
    size: usize,
    change: fn(&fs::File),
) -> (HashError, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("m");
    fs::create_dir(&root).expect("mkdir");
    let path = root.join("weights.bin");
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    fs::write(&path, data).expect("write");
    let sink = Arc::new(ChangeOnFirstAdvance {
        path: path.clone(),
        change,
        done: std::sync::atomic::AtomicBool::new(false),
    });
    let mut s = settings(algorithm, Serialization::Files);
    s.max_workers = Some(2);
    let err = s
        .hash_model_with_progress(&root, &Progress::to(sink))
        .expect_err("a file changed while it was hashed");
    (err, path)
}

fn assert_changed(err: &HashError, path: &std::path::Path) {
    assert!(
        matches!(err, HashError::FileChanged { path: p } if p == path),
        "expected 'changed while it was being hashed' for {}, got: {err}",
        path.display()
    );
    assert!(err
        .to_string()
        .contains("changed while it was being hashed"));
}

fn truncate_to_zero(file: &fs::File) {
    file.set_len(0).expect("truncate");
}

/// Cuts a 64 MiB file inside its second 32 MiB BLAKE3 window, not on a page boundary: the
/// window's first pages are still there, the rest of it is gone.
fn truncate_mid_window(file: &fs::File) {
    file.set_len((40 << 20) + 123).expect("truncate");
}

fn append_a_byte(file: &fs::File) {
    use std::io::Write;
    let mut file = file;
    file.write_all(b"!").expect("append");
}

const BIG: usize = 64 << 20;

#[test]
fn a_mapped_file_truncated_while_sha256_hashes_it_is_reported_as_changed_not_a_crash() {
    let (err, path) = hash_while_changing(HashAlgorithm::Sha256, BIG, truncate_to_zero);
    assert_changed(&err, &path);
}

#[test]
fn a_mapped_file_cut_inside_a_parallel_blake3_window_is_reported_as_changed_not_a_crash() {
    let (err, path) = hash_while_changing(HashAlgorithm::Blake3, BIG, truncate_mid_window);
    assert_changed(&err, &path);
    let (err, path) = hash_while_changing(HashAlgorithm::Blake3, BIG, truncate_to_zero);
    assert_changed(&err, &path);
}

#[test]
fn a_mapped_file_truncated_while_blake2b_hashes_it_is_reported_as_changed_not_a_crash() {
    let (err, path) = hash_while_changing(HashAlgorithm::Blake2b, BIG, truncate_to_zero);
    assert_changed(&err, &path);
}

#[test]
fn a_streamed_file_truncated_while_it_is_hashed_is_reported_as_changed() {
    let (err, path) = hash_while_changing(HashAlgorithm::Sha256, 1 << 20, truncate_to_zero);
    assert_changed(&err, &path);
}

#[test]
fn a_file_that_grows_while_it_is_hashed_is_reported_as_changed() {
    for size in [1 << 20, BIG] {
        for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
            let (err, path) = hash_while_changing(algorithm, size, append_a_byte);
            assert_changed(&err, &path);
        }
    }
}

/// A progress sink that asks to stop once `after` bytes were reported, counting the bytes
/// it is told about after that.
struct StopAfter {
    after: u64,
    seen: std::sync::atomic::AtomicU64,
    finished: std::sync::atomic::AtomicBool,
}

impl ProgressSink for StopAfter {
    fn start(&self, _total_bytes: u64, _total_items: usize, _unit: &'static str) {}
    fn advance(&self, bytes: u64) {
        self.seen
            .fetch_add(bytes, std::sync::atomic::Ordering::SeqCst);
    }
    fn item_done(&self) {}
    fn finish(&self) {
        self.finished
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    fn cancelled(&self) -> bool {
        self.seen.load(std::sync::atomic::Ordering::SeqCst) >= self.after
    }
}

#[test]
fn a_progress_sink_that_asks_to_stop_ends_hashing_with_an_interruption() {
    // Streamed (small) and mapped (large) files both check between their reads.
    for size in [1usize << 20, 64 << 20] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("m");
        fs::create_dir(&root).expect("mkdir");
        for name in ["a.bin", "b.bin", "c.bin", "d.bin"] {
            fs::write(root.join(name), vec![7u8; size]).expect("write");
        }
        let sink = Arc::new(StopAfter {
            after: 1,
            seen: std::sync::atomic::AtomicU64::new(0),
            finished: std::sync::atomic::AtomicBool::new(false),
        });
        let mut s = settings(HashAlgorithm::Sha256, Serialization::Files);
        s.max_workers = Some(1);
        let err = s
            .hash_model_with_progress(&root, &Progress::to(sink.clone()))
            .expect_err("stopped");
        assert!(
            matches!(
                err,
                HashError::Interrupted(crate::interrupt::Interrupted { signal: None })
            ),
            "{err:?}"
        );
        let seen = sink.seen.load(std::sync::atomic::Ordering::SeqCst);
        // One worker: the stop lands after the first read or window of the first file.
        assert!(seen < size as u64, "{seen} bytes hashed of {size} per file");
        assert!(sink.finished.load(std::sync::atomic::Ordering::SeqCst));
    }
}

#[test]
fn listed_files_are_hashed_as_the_whole_model_hashes_them() {
    let (_dir, root) = example_model();
    fs::create_dir(root.join(".git")).expect("mkdir");
    fs::write(root.join(".git/HEAD"), "ref").expect("write");
    let s = settings(HashAlgorithm::Sha256, Serialization::Files);
    let whole = s.hash_model(&root).expect("hash");
    let listed = s
        .hash_files_with_progress(
            &root,
            &[
                root.join("weights/model.bin"),
                root.join("config.json"),
                // Ignored (git metadata), and a directory: both left out, as model_signing
                // leaves them out of its files_to_hash.
                root.join(".git/HEAD"),
                root.join("weights"),
            ],
            &Progress::none(),
        )
        .expect("hash");
    let names: Vec<&str> = listed.resources().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["config.json", "weights/model.bin"]);
    for resource in listed.resources() {
        let same = whole
            .resources()
            .iter()
            .find(|r| r.name == resource.name)
            .expect("in the whole manifest");
        assert_eq!(same.digest, resource.digest);
    }
    assert_eq!(listed.model_name(), whole.model_name());
}

#[test]
fn a_listed_file_that_is_missing_or_outside_the_model_is_an_error() {
    let (dir, root) = example_model();
    let s = settings(HashAlgorithm::Sha256, Serialization::Files);
    let missing = s
        .hash_files_with_progress(&root, &[root.join("absent.bin")], &Progress::none())
        .expect_err("missing");
    assert!(
        matches!(&missing, HashError::Walk(WalkError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound),
        "{missing:?}"
    );
    fs::write(dir.path().join("outside.bin"), "x").expect("write");
    let outside = s
        .hash_files_with_progress(&root, &[dir.path().join("outside.bin")], &Progress::none())
        .expect_err("outside");
    assert!(
        matches!(&outside, HashError::Walk(WalkError::NotInModel { .. })),
        "{outside:?}"
    );
}
