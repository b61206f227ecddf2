use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::*;
use crate::manifest::{Manifest, ResourceDescriptor};
use crate::serialization::{HashAlgorithm, Serialization, SerializationRecord};

fn record(hash_type: HashAlgorithm, serialization: Serialization) -> SerializationRecord {
    SerializationRecord {
        serialization,
        hash_type,
        allow_symlinks: false,
        ignore_paths: Vec::new(),
    }
}

fn files_sha256() -> SerializationRecord {
    record(HashAlgorithm::Sha256, Serialization::Files)
}

/// A model folder and a cache folder, both temporary.
struct Setup {
    _temp: tempfile::TempDir,
    model: PathBuf,
    cache_dir: PathBuf,
}

fn setup(files: &[(&str, &[u8])]) -> Setup {
    let temp = tempfile::tempdir().expect("tempdir");
    let model = temp.path().join("model");
    fs::create_dir(&model).expect("model dir");
    for (name, contents) in files {
        fs::write(model.join(name), contents).expect("write model file");
    }
    let cache_dir = temp.path().join("cache");
    Setup {
        _temp: temp,
        model,
        cache_dir,
    }
}

/// Late enough that nothing written during a test is racy.
fn after_everything() -> SystemTime {
    SystemTime::now() + RACY_WINDOW + Duration::from_secs(1)
}

fn stamp(path: &Path) -> FileStamp {
    FileStamp::read(path).expect("stamp")
}

/// A cache of `model` holding `name` as it is now, with `digest`, saved and reopened.
fn saved_with(setup: &Setup, name: &str, digest: [u8; 32]) -> (StatCache, FileStamp) {
    let mut cache = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    let stamp = stamp(&setup.model.join(name));
    assert_eq!(
        cache.replace([(name.to_owned(), stamp, digest)], after_everything()),
        1
    );
    cache.save().expect("save");
    let reopened =
        StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("reopen");
    (reopened, stamp)
}

/// Sets the modification time of `path` `seconds` into the past (its status-change time
/// becomes now).
fn age(path: &Path, seconds: u64) {
    let past = SystemTime::now() - Duration::from_secs(seconds);
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(past))
        .expect("set mtime");
}

#[test]
fn a_saved_cache_reads_back_the_same_entries() {
    let setup = setup(&[("a.bin", b"aaaa"), ("b.bin", b"bb")]);
    let cache = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    assert!(cache.is_empty() && cache.notes().is_empty(), "{cache:?}");
    let mut cache = cache;
    let (a, b) = (
        stamp(&setup.model.join("a.bin")),
        stamp(&setup.model.join("b.bin")),
    );
    let entries = [
        ("a.bin".to_owned(), a, [1; 32]),
        ("b.bin".to_owned(), b, [2; 32]),
    ];
    assert_eq!(cache.replace(entries, after_everything()), 2);
    cache.save().expect("save");
    let key_file = cache.path().to_path_buf();
    assert_eq!(
        key_file.parent(),
        Some(setup.cache_dir.join("stat-cache").as_path())
    );
    let stem = key_file.file_stem().and_then(|s| s.to_str()).expect("stem");
    assert!(
        stem.len() == 64 && stem.bytes().all(|c| c.is_ascii_hexdigit()),
        "{stem}"
    );

    let reopened =
        StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("reopen");
    assert_eq!(reopened.path(), key_file);
    assert!(reopened.notes().is_empty(), "{:?}", reopened.notes());
    assert_eq!(reopened.len(), 2);
    assert_eq!(reopened.unchanged("a.bin", &a), Some([1; 32]));
    assert_eq!(reopened.unchanged("b.bin", &b), Some([2; 32]));
    assert_eq!(reopened.unchanged("c.bin", &a), None, "never recorded");
    assert_eq!(
        reopened.unchanged("b.bin", &a),
        None,
        "another file's stamp"
    );
}

#[test]
fn replace_drops_files_no_longer_signed() {
    let setup = setup(&[("a.bin", b"aaaa"), ("b.bin", b"bb")]);
    let (mut cache, a) = saved_with(&setup, "a.bin", [1; 32]);
    let b = stamp(&setup.model.join("b.bin"));
    cache.replace([("b.bin".to_owned(), b, [2; 32])], after_everything());
    assert_eq!(cache.unchanged("a.bin", &a), None);
    assert_eq!(cache.unchanged("b.bin", &b), Some([2; 32]));
}

/// One field of a stamp altered.
type Change = fn(&mut FileStamp);

#[test]
fn every_field_of_the_stamp_must_match() {
    let recorded = FileStamp {
        size: 10,
        mtime_ns: 1_000_000_000_123,
        ctime_ns: 1_000_000_000_456,
        inode: 77,
        device: 3,
    };
    let mut cache = StatCache {
        path: PathBuf::from("/nonexistent/cache.json"),
        model: "/m".into(),
        key: String::new(),
        settings: CacheSettings::of(&files_sha256()),
        entries: BTreeMap::new(),
        notes: Vec::new(),
    };
    cache.replace([("f".to_owned(), recorded, [9; 32])], after_everything());
    assert_eq!(cache.unchanged("f", &recorded), Some([9; 32]));
    let changes: [(&str, Change); 5] = [
        ("size", |s| s.size += 1),
        ("mtime", |s| s.mtime_ns += 1),
        ("ctime", |s| s.ctime_ns += 1),
        ("inode", |s| s.inode += 1),
        ("device", |s| s.device += 1),
    ];
    for (field, change) in changes {
        let mut now = recorded;
        change(&mut now);
        assert_eq!(cache.unchanged("f", &now), None, "{field} differs");
    }
}

#[test]
fn a_touched_file_is_not_unchanged() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let path = setup.model.join("a.bin");
    let (cache, before) = saved_with(&setup, "a.bin", [1; 32]);
    assert_eq!(cache.unchanged("a.bin", &before), Some([1; 32]));
    age(&path, 3600);
    let after = stamp(&path);
    assert_ne!(after.mtime_ns, before.mtime_ns);
    assert_eq!(cache.unchanged("a.bin", &after), None);
}

#[test]
fn a_rewrite_of_the_same_size_is_not_unchanged() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let path = setup.model.join("a.bin");
    // Written an hour ago, as a file worth caching would be: the rewrite below is then
    // certain to get another modification time, however coarse the clock.
    age(&path, 3600);
    let (cache, before) = saved_with(&setup, "a.bin", [1; 32]);
    fs::write(&path, b"bbbb").expect("rewrite");
    let after = stamp(&path);
    assert_eq!(after.size, before.size);
    assert_eq!(after.inode, before.inode, "rewritten in place");
    assert_eq!(cache.unchanged("a.bin", &after), None);
}

#[test]
fn a_file_replaced_by_rename_is_not_unchanged_even_with_the_same_times() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let path = setup.model.join("a.bin");
    let (cache, before) = saved_with(&setup, "a.bin", [1; 32]);
    let modified = fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    // Same size and modification time; only the inode (and perhaps the status-change time)
    // tells it apart.
    let replacement = setup.model.join("a.bin.new");
    fs::write(&replacement, b"bbbb").expect("write replacement");
    fs::File::options()
        .write(true)
        .open(&replacement)
        .and_then(|f| f.set_modified(modified))
        .expect("copy mtime");
    fs::rename(&replacement, &path).expect("rename over");
    let after = stamp(&path);
    assert_eq!((after.size, after.mtime_ns), (before.size, before.mtime_ns));
    assert_ne!(after.inode, before.inode);
    assert_eq!(cache.unchanged("a.bin", &after), None);
}

#[test]
fn a_file_written_within_the_racy_window_is_not_recorded() {
    let setup = setup(&[("fresh.bin", b"just written")]);
    let path = setup.model.join("fresh.bin");
    let fresh = stamp(&path);
    let mut cache = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    let entry = || [("fresh.bin".to_owned(), fresh, [5; 32])];

    assert_eq!(cache.replace(entry(), SystemTime::now()), 0);
    assert_eq!(cache.unchanged("fresh.bin", &fresh), None);
    cache.save().expect("save");
    let reopened = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    assert!(reopened.is_empty());

    // Hashing that starts more than the window after the write records it.
    let later = SystemTime::now() + RACY_WINDOW + Duration::from_secs(1);
    assert_eq!(cache.replace(entry(), later), 1);
    assert_eq!(cache.unchanged("fresh.bin", &fresh), Some([5; 32]));
}

#[test]
fn racy_means_either_time_within_the_window_of_the_start() {
    let started = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let start_ns = 1_700_000_000 * 1_000_000_000_i128;
    let window = i128::try_from(RACY_WINDOW.as_nanos()).expect("window");
    let old = start_ns - window - 1;
    let at = |mtime_ns, ctime_ns| FileStamp {
        size: 1,
        mtime_ns,
        ctime_ns,
        inode: 1,
        device: 1,
    };
    assert!(!at(old, old).is_racy(started), "clearly older");
    assert!(
        at(old + 1, old).is_racy(started),
        "mtime at the window's edge"
    );
    assert!(
        at(old, old + 1).is_racy(started),
        "ctime at the window's edge"
    );
    assert!(
        at(start_ns + 5, old).is_racy(started),
        "mtime after the start"
    );
    assert!(
        at(start_ns + window, start_ns + window).is_racy(started),
        "in the future"
    );
    // Times before the epoch are times too.
    let early = UNIX_EPOCH - Duration::from_secs(10);
    assert!(!at(-20_000_000_000, -20_000_000_000).is_racy(early));
    assert!(at(-9_000_000_000, -20_000_000_000).is_racy(early));
}

/// The cache file `setup`'s model gets, with `contents` written into it.
fn cache_file_holding(setup: &Setup, contents: &[u8]) -> PathBuf {
    let cache = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    let path = cache.path().to_path_buf();
    fs::create_dir_all(path.parent().expect("parent")).expect("cache dirs");
    fs::write(&path, contents).expect("write cache file");
    path
}

fn open_with_note(setup: &Setup, expected: &str) -> StatCache {
    let cache = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256())
        .expect("a bad cache file is no error");
    assert!(cache.is_empty());
    let shown = printable_path(cache.path());
    assert!(
        matches!(cache.notes(), [note] if note.contains(&shown) && note.contains(expected)),
        "expected one note naming {shown} and saying {expected:?}: {:?}",
        cache.notes()
    );
    cache
}

#[test]
fn a_corrupt_cache_file_gives_an_empty_cache_and_a_note() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let path = cache_file_holding(&setup, b"{\"version\": 1, \"files\": {tru");
    let mut cache = open_with_note(&setup, "is not a valid cache file");
    // The next save replaces it with a good one.
    let a = stamp(&setup.model.join("a.bin"));
    cache.replace([("a.bin".to_owned(), a, [1; 32])], after_everything());
    cache.save().expect("save");
    let reopened = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    assert!(reopened.notes().is_empty(), "{:?}", reopened.notes());
    assert_eq!(reopened.unchanged("a.bin", &a), Some([1; 32]));

    // Well-formed JSON with a digest that is not 32 bytes of hex.
    let text = fs::read_to_string(&path).expect("read");
    let bad = text.replace(&base16ct::lower::encode_string(&[1u8; 32]), "0101");
    assert_ne!(bad, text);
    fs::write(&path, bad).expect("write");
    open_with_note(&setup, "malformed digest for 'a.bin'");
}

#[test]
fn a_cache_file_of_another_format_version_is_ignored_with_a_note() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    cache_file_holding(&setup, br#"{"version": 7, "entirely": "different"}"#);
    open_with_note(
        &setup,
        "has format version 7, and this modelsign reads version 1",
    );

    // Same fields, other version: still not read.
    let (_, a) = saved_with(&setup, "a.bin", [1; 32]);
    let cache = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    let text = fs::read_to_string(cache.path()).expect("read");
    let bumped = text.replace("\"version\":1", "\"version\":2");
    assert_ne!(bumped, text);
    fs::write(cache.path(), bumped).expect("write");
    let cache = open_with_note(&setup, "has format version 2");
    assert_eq!(cache.unchanged("a.bin", &a), None);
}

#[test]
fn an_unreadable_cache_file_gives_an_empty_cache_and_a_note() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let cache = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");
    // A directory where the file should be: unreadable whoever runs the test (root reads
    // files of any mode).
    fs::create_dir_all(cache.path()).expect("dir in the way");
    open_with_note(&setup, "cannot be read: it is a directory");
}

/// A second model folder whose `a.bin` is the very file (a hard link) of `setup`'s model.
fn twin_of(setup: &Setup) -> PathBuf {
    let twin = setup.model.with_file_name("twin");
    fs::create_dir(&twin).expect("twin");
    fs::hard_link(setup.model.join("a.bin"), twin.join("a.bin")).expect("link");
    twin
}

#[test]
fn a_cache_for_another_model_or_other_settings_does_not_apply() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    // The same file in another folder: another model. Linked first, as a link changes the
    // file's status-change time.
    let twin = twin_of(&setup);
    let (_, a) = saved_with(&setup, "a.bin", [1; 32]);
    let unchanged_under = |model: &Path, record: &SerializationRecord| {
        let cache = StatCache::open(&setup.cache_dir, model, record).expect("open");
        (cache.unchanged("a.bin", &a), cache.notes().to_vec())
    };
    assert_eq!(
        unchanged_under(&setup.model, &files_sha256()).0,
        Some([1; 32])
    );

    let others = [
        record(HashAlgorithm::Blake3, Serialization::Files),
        record(
            HashAlgorithm::Sha256,
            Serialization::Shards { shard_size: 4 },
        ),
    ];
    for other in &others {
        assert_eq!(unchanged_under(&setup.model, other), (None, Vec::new()));
    }
    let shards = StatCache::open(&setup.cache_dir, &setup.model, &others[1]).expect("open");
    let other_size = record(
        HashAlgorithm::Sha256,
        Serialization::Shards { shard_size: 8 },
    );
    let other_size = StatCache::open(&setup.cache_dir, &setup.model, &other_size).expect("open");
    assert_ne!(
        shards.path(),
        other_size.path(),
        "the shard size is in the key"
    );

    assert_eq!(unchanged_under(&twin, &files_sha256()), (None, Vec::new()));

    // Only the canonical path counts: the model through a symbolic link is the same model.
    let link = setup.model.with_file_name("link");
    std::os::unix::fs::symlink(&setup.model, &link).expect("symlink");
    assert_eq!(unchanged_under(&link, &files_sha256()).0, Some([1; 32]));
}

#[test]
fn a_cache_file_copied_to_another_models_name_does_not_apply() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let twin = twin_of(&setup);
    let (cache, a) = saved_with(&setup, "a.bin", [1; 32]);
    let twin_cache = StatCache::open(&setup.cache_dir, &twin, &files_sha256()).expect("open");
    fs::copy(cache.path(), twin_cache.path()).expect("copy");
    let twin_cache = StatCache::open(&setup.cache_dir, &twin, &files_sha256()).expect("open");
    assert_eq!(twin_cache.unchanged("a.bin", &a), None);
    assert!(
        matches!(twin_cache.notes(), [note] if note.contains("is for another model or other settings")),
        "{:?}",
        twin_cache.notes()
    );
}

#[test]
fn open_fails_only_on_an_unusable_directory_or_model_path() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    // Neither the cache directory nor its folder exists yet: fine, save creates them.
    StatCache::open(&setup.cache_dir, &setup.model, &files_sha256()).expect("open");

    fs::write(&setup.cache_dir, b"not a directory").expect("file in the way");
    let err = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256())
        .expect_err("the directory is a file");
    assert!(matches!(err, StatCacheError::Dir { ref path, .. } if *path == setup.cache_dir));
    assert_eq!(
        err.to_string(),
        format!(
            "stat cache directory '{}' is unusable: it is a regular file, not a directory",
            setup.cache_dir.display()
        )
    );
    fs::remove_file(&setup.cache_dir).expect("remove");

    fs::create_dir(&setup.cache_dir).expect("dir");
    fs::write(setup.cache_dir.join("stat-cache"), b"").expect("file in the way");
    let err = StatCache::open(&setup.cache_dir, &setup.model, &files_sha256())
        .expect_err("its folder is a file");
    assert!(
        matches!(err, StatCacheError::Dir { ref path, .. } if path.ends_with("stat-cache")),
        "{err}"
    );

    let missing = setup.model.join("missing");
    let err =
        StatCache::open(&setup.cache_dir, &missing, &files_sha256()).expect_err("no such model");
    assert!(
        matches!(err, StatCacheError::ModelPath { ref path, .. } if *path == missing),
        "{err}"
    );
    assert!(err.to_string().starts_with(&format!(
        "cannot resolve the model path '{}' for the stat cache: ",
        missing.display()
    )));
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn save_creates_private_directories_and_replaces_the_file_whole() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let dir = setup.cache_dir.join("nested").join("modelsign");
    let mut cache = StatCache::open(&dir, &setup.model, &files_sha256()).expect("open");
    cache.save().expect("save an empty cache");
    for created in [setup.cache_dir.clone(), dir.clone(), dir.join("stat-cache")] {
        assert_eq!(mode(&created), 0o700, "{}", created.display());
    }
    assert_eq!(mode(cache.path()), 0o600);

    // A second name for the file as it is: a save that wrote into the file would change
    // what that name shows; one that renames a new file over it leaves it alone.
    let old_copy = setup.cache_dir.join("old-cache.json");
    fs::hard_link(cache.path(), &old_copy).expect("hard link");
    let before = fs::read(&old_copy).expect("read");
    let a = stamp(&setup.model.join("a.bin"));
    cache.replace([("a.bin".to_owned(), a, [1; 32])], after_everything());
    cache.save().expect("save again");
    assert_eq!(fs::read(&old_copy).expect("read"), before);
    assert_ne!(fs::read(cache.path()).expect("read"), before);
    assert_eq!(mode(cache.path()), 0o600);
    let left: Vec<_> = fs::read_dir(dir.join("stat-cache"))
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");

    // An existing directory keeps the mode its owner gave it.
    let shared = setup.cache_dir.join("shared");
    fs::create_dir(&shared).expect("dir");
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).expect("chmod");
    StatCache::open(&shared, &setup.model, &files_sha256())
        .and_then(|c| c.save())
        .expect("save");
    assert_eq!(mode(&shared), 0o755);
    assert_eq!(mode(&shared.join("stat-cache")), 0o700);
}

#[test]
fn the_cache_file_holds_the_model_path_and_settings() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let shards = record(
        HashAlgorithm::Blake3,
        Serialization::Shards { shard_size: 1024 },
    );
    let mut cache = StatCache::open(&setup.cache_dir, &setup.model, &shards).expect("open");
    let a = stamp(&setup.model.join("a.bin"));
    cache.replace([("a.bin".to_owned(), a, [0xab; 32])], after_everything());
    cache.save().expect("save");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(cache.path()).expect("read")).expect("JSON");
    let canonical = fs::canonicalize(&setup.model).expect("canonical");
    assert_eq!(json["version"], 1);
    assert_eq!(json["model"], canonical.to_str().expect("UTF-8"));
    assert_eq!(json["hash_type"], "blake3");
    assert_eq!(json["serialization"], "shards");
    assert_eq!(json["shard_size"], 1024);
    let entry = &json["files"]["a.bin"];
    assert_eq!(entry["size"], 4);
    assert_eq!(entry["inode"], a.inode);
    assert_eq!(entry["digest"], "ab".repeat(32));
    // Nanosecond times survive the round trip exactly.
    let reopened = StatCache::open(&setup.cache_dir, &setup.model, &shards).expect("open");
    assert_eq!(reopened.unchanged("a.bin", &a), Some([0xab; 32]));
}

#[test]
fn the_stamp_of_a_link_is_the_stamp_of_its_target() {
    let setup = setup(&[("a.bin", b"aaaa")]);
    let link = setup.model.join("link.bin");
    std::os::unix::fs::symlink("a.bin", &link).expect("symlink");
    assert_eq!(stamp(&link), stamp(&setup.model.join("a.bin")));
    let err = FileStamp::read(&setup.model).expect_err("a directory has no content stamp");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

fn manifest(serialization: Serialization, resources: &[(&str, u8)]) -> Manifest {
    Manifest::new(
        "m".into(),
        record(HashAlgorithm::Sha256, serialization),
        resources
            .iter()
            .map(|(name, byte)| ResourceDescriptor {
                name: (*name).into(),
                digest: vec![*byte; 32],
            })
            .collect(),
    )
}

fn sha256_of(digests: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for byte in digests {
        hasher.update([*byte; 32]);
    }
    hasher.finalize().into()
}

#[test]
fn entry_digests_of_a_files_manifest_hash_each_file_digest() {
    let digests = entry_digests(&manifest(
        Serialization::Files,
        &[("b.bin", 2), ("dir/a:0:4", 1)],
    ));
    let expected = BTreeMap::from([
        ("b.bin".to_owned(), sha256_of(&[2])),
        // Under `files`, a name that looks like a shard is a file name.
        ("dir/a:0:4".to_owned(), sha256_of(&[1])),
    ]);
    assert_eq!(digests, expected);
}

#[test]
fn entry_digests_of_a_shards_manifest_join_each_files_shards_in_manifest_order() {
    let digests = entry_digests(&manifest(
        Serialization::Shards { shard_size: 10 },
        &[
            ("w.bin:0:10", 1),
            ("w.bin:10:20", 2),
            ("w.bin:20:25", 3),
            // A file whose own name ends like a shard range.
            ("x:0:10:0:4", 4),
            ("x:0:10", 5),
            ("big:0:10", 6),
            ("big:100:110", 7),
            ("big:20:30", 8),
        ],
    ));
    let expected = BTreeMap::from([
        ("w.bin".to_owned(), sha256_of(&[1, 2, 3])),
        ("x:0:10".to_owned(), sha256_of(&[4])),
        ("x".to_owned(), sha256_of(&[5])),
        // Manifest order is name order: "big:100:110" sorts before "big:20:30".
        ("big".to_owned(), sha256_of(&[6, 7, 8])),
    ]);
    assert_eq!(digests, expected);
    assert_ne!(sha256_of(&[6, 7, 8]), sha256_of(&[6, 8, 7]));
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let vars: Vec<(String, OsString)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn the_default_directory_follows_the_environment_and_takes_absolute_paths_only() {
    let dir = |vars: &[(&str, &str)]| default_dir_in(env(vars));
    let all = [
        ("MODELSIGN_CACHE_DIR", "/m"),
        ("XDG_CACHE_HOME", "/x"),
        ("HOME", "/h"),
    ];
    assert_eq!(dir(&all), Some(PathBuf::from("/m")));
    assert_eq!(dir(&all[1..]), Some(PathBuf::from("/x/modelsign")));
    assert_eq!(dir(&all[2..]), Some(PathBuf::from("/h/.cache/modelsign")));
    assert_eq!(dir(&[]), None);
    assert_eq!(
        dir(&[
            ("MODELSIGN_CACHE_DIR", "relative"),
            ("XDG_CACHE_HOME", ""),
            ("HOME", "/h")
        ]),
        Some(PathBuf::from("/h/.cache/modelsign"))
    );
    assert_eq!(
        dir(&[
            ("MODELSIGN_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "cache"),
            ("HOME", "home")
        ]),
        None
    );
}
