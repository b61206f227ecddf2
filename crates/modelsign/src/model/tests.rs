use std::os::unix::fs::symlink;

use super::*;

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
    fs::write(path, content).expect("write");
}

fn names(model: &Model) -> Vec<String> {
    let mut names: Vec<String> = model.files.iter().map(|f| f.name.clone()).collect();
    names.sort();
    names
}

fn options() -> WalkOptions {
    WalkOptions {
        ignore: IgnoreSet::new(true),
        ..WalkOptions::default()
    }
}

/// [`options`] with `--allow-symlinks`.
fn symlinks_allowed() -> WalkOptions {
    WalkOptions {
        allow_symlinks: true,
        ..options()
    }
}

fn model_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("my-model");
    fs::create_dir(&root).expect("mkdir");
    (dir, root)
}

#[test]
fn walks_nested_files_with_canonical_names_and_sizes() {
    let (_dir, root) = model_dir();
    write(&root, "config.json", "{}");
    write(&root, "weights/layer 0/w.bin", "abcd");
    write(&root, "données/é.txt", "");
    fs::create_dir_all(root.join("empty/dir")).expect("mkdir");
    let model = walk(&root, &options()).expect("walk");
    assert_eq!(model.name, "my-model");
    assert!(!model.single_file);
    assert_eq!(
        names(&model),
        ["config.json", "données/é.txt", "weights/layer 0/w.bin"]
    );
    let w = model
        .files
        .iter()
        .find(|f| f.name.ends_with("w.bin"))
        .expect("w.bin");
    assert_eq!(w.size, 4);
}

#[test]
fn git_metadata_is_excluded_only_at_the_top_level() {
    let (_dir, root) = model_dir();
    for rel in [
        ".git/HEAD",
        ".gitignore",
        ".gitattributes",
        ".github/ci.yml",
    ] {
        write(&root, rel, "x");
    }
    for rel in [
        "sub/.gitignore",
        "sub/.git/HEAD",
        ".gitfoo",
        ".env",
        "model.bin",
    ] {
        write(&root, rel, "x");
    }
    let model = walk(&root, &options()).expect("walk");
    assert_eq!(
        names(&model),
        [
            ".env",
            ".gitfoo",
            "model.bin",
            "sub/.git/HEAD",
            "sub/.gitignore"
        ]
    );
    let all = walk(&root, &WalkOptions::default()).expect("walk");
    assert_eq!(all.files.len(), 9, "no-ignore-git-paths keeps everything");
}

/// A model beside which a signature, a card signature, a Sigstore attestation and a claims
/// file were written, with look-alikes that are model content.
fn model_with_attestation_files() -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = model_dir();
    for rel in [
        "weights.bin",
        "model.sig",
        "model-card.sig",
        "model.slsa.sigstore.json",
        "claims.jsonl",
        "sub/inner.sig",
        "checkpoint.sig/part-0",
        "model.signature",
    ] {
        write(&root, rel, "x");
    }
    (dir, root)
}

#[test]
fn attestation_files_at_the_top_level_are_left_out_by_default_and_reported() {
    let (_dir, root) = model_with_attestation_files();
    let model = walk(&root, &options()).expect("walk");
    assert_eq!(
        names(&model),
        [
            "checkpoint.sig/part-0",
            "model.signature",
            "sub/inner.sig",
            "weights.bin"
        ],
        "only top-level files are attestation files; a directory is model content"
    );
    assert_eq!(
        model.attestation_files,
        [
            "claims.jsonl",
            "model-card.sig",
            "model.sig",
            "model.slsa.sigstore.json"
        ]
    );
    let bare = walk(&root, &WalkOptions::default()).expect("walk");
    assert_eq!(bare.attestation_files.len(), 4, "the rule is the default");
}

#[test]
fn attestation_files_can_be_made_part_of_the_model() {
    let (_dir, root) = model_with_attestation_files();
    let mut opts = options();
    opts.ignore.set_include_attestation_files(true);
    let model = walk(&root, &opts).expect("walk");
    assert_eq!(model.files.len(), 8);
    assert!(model.attestation_files.is_empty());
}

#[test]
fn defaults_yield_to_the_files_a_signature_lists() {
    let (_dir, root) = model_with_attestation_files();
    write(&root, ".gitattributes", "x");
    let mut opts = options();
    opts.ignore
        .yield_to_signed(&["weights.bin", "model-card.sig", ".gitattributes"]);
    let model = walk(&root, &opts).expect("walk");
    let found = names(&model);
    assert!(
        found.contains(&"model-card.sig".to_owned())
            && found.contains(&".gitattributes".to_owned()),
        "{found:?}"
    );
    assert_eq!(
        model.attestation_files,
        ["claims.jsonl", "model.sig", "model.slsa.sigstore.json"],
        "unsigned attestation files are still left out"
    );
}

#[test]
fn attestation_file_names() {
    for name in [
        "model.sig",
        "model-card.sig",
        "a.slsa.sigstore.json",
        "claims.jsonl",
    ] {
        assert!(is_attestation_file_name(name), "{name}");
    }
    for name in [
        "model.signature",
        "sig",
        "claims.json",
        "x.sigstore.json.bak",
    ] {
        assert!(!is_attestation_file_name(name), "{name}");
    }
}

#[test]
fn user_ignore_paths_match_exact_relative_paths_and_subtrees() {
    let (_dir, root) = model_dir();
    for rel in [
        "ignore-me",
        "sub/ignore-me",
        "cache/a",
        "cache/b/c",
        "cachefile",
        "keep",
    ] {
        write(&root, rel, "x");
    }
    let mut opts = options();
    opts.ignore.add("ignore-me").expect("add");
    opts.ignore.add("./cache/").expect("add");
    let model = walk(&root, &opts).expect("walk");
    assert_eq!(names(&model), ["cachefile", "keep", "sub/ignore-me"]);
}

#[test]
fn ignore_paths_that_cannot_name_a_model_path_are_refused() {
    let mut set = IgnoreSet::new(false);
    for bad in ["/abs", "../up", "a/../b", ".", ""] {
        assert!(
            matches!(set.add(bad), Err(WalkError::BadIgnorePath { .. })),
            "{bad:?} accepted"
        );
    }
    set.add_recorded(["../x", "/y", "ok//path/"]);
    assert_eq!(set.entries().collect::<Vec<_>>(), ["ok/path"]);
}

#[test]
fn symlinks_are_refused_by_default_naming_the_link() {
    let (_dir, root) = model_dir();
    write(&root, "a.bin", "x");
    symlink("a.bin", root.join("link")).expect("symlink");
    let err = walk(&root, &options()).expect_err("symlink must be refused");
    assert!(
        matches!(&err, WalkError::Symlink { path } if path.ends_with("link")),
        "{err}"
    );
    // The CLI adds its option (`--allow-symlinks`); the library names none.
    assert!(!err.to_string().contains("--"), "{err}");

    let mut collect = options();
    collect.collect_problems = true;
    let model = walk(&root, &collect).expect("walk");
    assert_eq!(model.disallowed_symlinks, ["link"]);
    assert_eq!(names(&model), ["a.bin"]);
}

#[test]
fn an_ignored_symlink_is_never_examined() {
    let (_dir, root) = model_dir();
    write(&root, "a.bin", "x");
    symlink("/nonexistent", root.join("dangling")).expect("symlink");
    let mut opts = options();
    opts.ignore.add("dangling").expect("add");
    assert_eq!(names(&walk(&root, &opts).expect("walk")), ["a.bin"]);
}

#[test]
fn allowed_symlinks_inside_the_root_are_followed_under_their_own_name() {
    let (_dir, root) = model_dir();
    write(&root, "real/a.bin", "hello");
    symlink("real/a.bin", root.join("file-link")).expect("symlink");
    symlink("real", root.join("dir-link")).expect("symlink");
    let opts = symlinks_allowed();
    let model = walk(&root, &opts).expect("walk");
    assert_eq!(names(&model), ["dir-link/a.bin", "file-link", "real/a.bin"]);
    let link = model
        .files
        .iter()
        .find(|f| f.name == "file-link")
        .expect("file-link");
    assert_eq!(link.size, 5);
}

#[test]
fn allowed_symlinks_outside_the_root_cycles_and_broken_links_fail() {
    let (dir, root) = model_dir();
    write(&root, "a.bin", "x");
    write(dir.path(), "outside.bin", "secret");
    let opts = symlinks_allowed();

    symlink(dir.path().join("outside.bin"), root.join("out")).expect("symlink");
    let err = walk(&root, &opts).expect_err("outside target");
    assert!(matches!(err, WalkError::SymlinkOutsideRoot { .. }), "{err}");
    fs::remove_file(root.join("out")).expect("rm");

    symlink(".", root.join("cycle")).expect("symlink");
    let err = walk(&root, &opts).expect_err("cycle");
    assert!(matches!(err, WalkError::SymlinkCycle { .. }), "{err}");
    fs::remove_file(root.join("cycle")).expect("rm");

    write(&root, "sub/deeper/f", "x");
    symlink("..", root.join("sub/deeper/up")).expect("symlink");
    let err = walk(&root, &opts).expect_err("indirect cycle");
    assert!(matches!(err, WalkError::SymlinkCycle { .. }), "{err}");
    fs::remove_file(root.join("sub/deeper/up")).expect("rm");

    symlink("missing", root.join("broken")).expect("symlink");
    let err = walk(&root, &opts).expect_err("broken");
    assert!(matches!(err, WalkError::BrokenSymlink { .. }), "{err}");
}

#[test]
fn a_symlinked_model_root_needs_allow_symlinks() {
    let (dir, root) = model_dir();
    write(&root, "a.bin", "x");
    let link = dir.path().join("link-to-model");
    symlink(&root, &link).expect("symlink");
    let err = walk(&link, &options()).expect_err("a linked root");
    assert!(matches!(err, WalkError::ModelPathSymlink { .. }), "{err}");
    assert!(err.is_unusable_model_path(), "{err}");
    assert_eq!(
        names(&walk(&link, &symlinks_allowed()).expect("walk")),
        ["a.bin"]
    );
}

#[test]
fn a_single_file_model_is_named_by_its_base_name() {
    let (_dir, root) = model_dir();
    write(&root, "weights/model.bin", "hello world");
    let model = walk(&root.join("weights/model.bin"), &options()).expect("walk");
    assert!(model.single_file);
    assert_eq!(model.name, "model.bin");
    assert_eq!(names(&model), ["model.bin"]);
}

#[test]
fn non_utf8_file_names_are_rejected_naming_the_file() {
    use std::os::unix::ffi::OsStrExt;
    let (_dir, root) = model_dir();
    let bad = std::ffi::OsStr::from_bytes(b"bad-\xff.bin");
    fs::write(root.join(bad), "x").expect("write");
    let err = walk(&root, &options()).expect_err("non-UTF-8 name");
    assert!(matches!(err, WalkError::NonUtf8Name { .. }));
    assert!(err.to_string().contains("bad-"), "{err}");
}

#[test]
fn special_files_are_rejected() {
    let (_dir, root) = model_dir();
    let socket = root.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    let err = walk(&root, &options()).expect_err("socket");
    assert!(matches!(err, WalkError::SpecialFile { .. }), "{err}");
}

#[test]
fn missing_model_is_reported_as_such() {
    let err = walk(Path::new("/nonexistent/model"), &options()).expect_err("missing");
    assert!(err.is_unusable_model_path(), "{err}");
}

#[test]
fn a_device_as_the_model_path_is_an_unusable_model_path() {
    let err = walk(Path::new("/dev/null"), &options()).expect_err("a device");
    assert!(err.is_unusable_model_path(), "{err}");
    assert_eq!(
        err.to_string(),
        "the model path '/dev/null' is a character device, not a directory or a regular file"
    );
}

#[test]
fn model_names_follow_the_path_as_given() {
    let (_dir, root) = model_dir();
    assert_eq!(model_name(&root).expect("name"), "my-model");
    let trailing = PathBuf::from(format!("{}/", root.display()));
    assert_eq!(model_name(&trailing).expect("name"), "my-model");
    let dotted = root.join(".");
    assert_eq!(model_name(&dotted).expect("name"), "my-model");
    fs::create_dir(root.join("sub")).expect("mkdir");
    assert_eq!(model_name(&root.join("sub/..")).expect("name"), "my-model");
}

#[test]
fn canonical_relative_paths() {
    assert_eq!(canonicalize_relative("./a//b/").as_deref(), Ok("a/b"));
    assert_eq!(canonicalize_relative("a/./b").as_deref(), Ok("a/b"));
    assert!(canonicalize_relative("a/../b").is_err());
    assert!(canonicalize_relative("/a").is_err());
    assert!(canonicalize_relative("./").is_err());
}

#[test]
fn paths_are_placed_relative_to_the_model() {
    let (dir, root) = model_dir();
    write(&root, "sub/x", "x");
    assert_eq!(
        relative_to_model(&root, &root.join("model.sig")).as_deref(),
        Some("model.sig"),
        "a file that does not exist yet can be placed"
    );
    assert_eq!(
        relative_to_model(&root, &root.join("sub/./x")).as_deref(),
        Some("sub/x")
    );
    assert_eq!(
        relative_to_model(&root, &dir.path().join("model.sig")),
        None
    );
    assert_eq!(relative_to_model(&root, &root), None);
    let file = root.join("sub/x");
    assert_eq!(relative_to_model(&file, &file).as_deref(), Some("x"));
}

#[test]
fn select_finds_only_named_regular_files() {
    let (_dir, root) = model_dir();
    write(&root, "a", "1");
    write(&root, "sub/b", "2");
    write(&root, "unsigned", "3");
    symlink("a", root.join("link")).expect("symlink");
    let model = select(&root, ["a", "sub/b", "gone", "link"], &options()).expect("select");
    assert_eq!(names(&model), ["a", "sub/b"]);
    assert_eq!(model.disallowed_symlinks, ["link"]);
}

// ---------------------------------------------------------------------------------------------
// Hugging Face cache snapshots

use test_support::{hf_cache_snapshot, HfBlobStore};

const SNAPSHOT_FILES: &[(&str, &[u8])] = &[
    ("config.json", b"{}"),
    ("sub/deeper/weights.bin", b"twelve bytes"),
];

/// A cache holding `models--org--name` built with `store`, and its snapshot.
fn cached_snapshot(store: HfBlobStore) -> (tempfile::TempDir, PathBuf) {
    cached_snapshot_of("models--org--name", store)
}

/// A cache holding the repository folder `repository` built with `store`, and its snapshot.
fn cached_snapshot_of(repository: &str, store: HfBlobStore) -> (tempfile::TempDir, PathBuf) {
    let cache = tempfile::tempdir().expect("tempdir");
    let snapshot = hf_cache_snapshot(cache.path(), repository, SNAPSHOT_FILES, store);
    (cache, snapshot)
}

/// `Symlink`, `SymlinkOutsideRoot` or `SnapshotLinkOutsideRepository` naming `link`, under
/// every combination of the link options: none may follow a link out of the repository.
fn assert_refused_under_every_option(snapshot: &Path, link: &str) {
    for allow_symlinks in [false, true] {
        for collect_problems in [false, true] {
            let opts = WalkOptions {
                allow_symlinks,
                collect_problems,
                ..options()
            };
            let err = walk(snapshot, &opts).expect_err(&format!("{link} must be refused"));
            assert!(
                matches!(&err, WalkError::SnapshotLinkOutsideRepository { path, .. } if path.ends_with(link)),
                "{link} (allow_symlinks {allow_symlinks}, collect {collect_problems}): {err}"
            );
        }
    }
}

#[test]
fn snapshot_links_into_the_repository_blobs_are_followed_without_allow_symlinks() {
    for store in [HfBlobStore::Repository, HfBlobStore::Shared] {
        let (cache, snapshot) = cached_snapshot(store);
        let model = walk(&snapshot, &options()).expect("walk the snapshot");
        assert_eq!(names(&model), ["config.json", "sub/deeper/weights.bin"]);
        let weights = model
            .files
            .iter()
            .find(|f| f.name == "sub/deeper/weights.bin")
            .expect("weights");
        assert_eq!(
            weights.size, 12,
            "{store:?}: the blob's size, not the link's"
        );
        let found = model.hf_snapshot.expect("recognised as a snapshot");
        assert_eq!(
            found.repository(),
            fs::canonicalize(cache.path().join("models--org--name")).expect("canonical")
        );
        // A folder of the snapshot is a model of the same cache repository.
        let sub = walk(&snapshot.join("sub"), &options()).expect("walk a snapshot folder");
        assert_eq!(names(&sub), ["deeper/weights.bin"]);
    }
}

#[test]
fn every_kind_of_cached_repository_is_a_snapshot_but_other_folders_are_not() {
    for repository in ["datasets--org--name", "spaces--name", "kernels--org--name"] {
        let (_cache, snapshot) = cached_snapshot_of(repository, HfBlobStore::Repository);
        assert_eq!(
            names(&walk(&snapshot, &options()).expect(repository)),
            ["config.json", "sub/deeper/weights.bin"]
        );
    }
    // The same layout in folders huggingface_hub would not have made stays a plain model
    // with links in it.
    for repository in ["models--", "model--org--name", "my-models"] {
        let (_cache, snapshot) = cached_snapshot_of(repository, HfBlobStore::Repository);
        let err = walk(&snapshot, &options()).expect_err(repository);
        assert!(
            matches!(err, WalkError::Symlink { .. }),
            "{repository}: {err}"
        );
        let err = walk(&snapshot, &symlinks_allowed()).expect_err(repository);
        assert!(
            matches!(err, WalkError::SymlinkOutsideRoot { .. }),
            "{repository}: {err}"
        );
    }
}

#[test]
fn a_repository_whose_blobs_folder_is_a_link_is_not_a_snapshot() {
    let (cache, snapshot) = cached_snapshot(HfBlobStore::Repository);
    let repo = cache.path().join("models--org--name");
    fs::rename(repo.join("blobs"), cache.path().join("elsewhere")).expect("move blobs");
    symlink(cache.path().join("elsewhere"), repo.join("blobs")).expect("symlink");
    let err = walk(&snapshot, &options()).expect_err("blobs elsewhere");
    assert!(matches!(err, WalkError::Symlink { .. }), "{err}");
}

#[test]
fn snapshot_links_out_of_the_repository_are_refused_even_with_allow_symlinks() {
    let (cache, snapshot) = cached_snapshot(HfBlobStore::Repository);
    let other = hf_cache_snapshot(
        cache.path(),
        "models--org--other",
        &[("other.bin", b"x")],
        HfBlobStore::Repository,
    );
    let other_blob = fs::canonicalize(other.join("other.bin")).expect("other blob");
    write(cache.path(), "outside.bin", "secret");
    let blobs = cache.path().join("models--org--name/blobs");
    write(&blobs, "nested/blob", "not directly in blobs/");
    symlink(cache.path().join("outside.bin"), blobs.join("relay")).expect("symlink");
    let cases: [(&str, PathBuf); 6] = [
        ("other-repository", other_blob),
        ("etc", PathBuf::from("/etc/passwd")),
        ("outside", cache.path().join("outside.bin")),
        ("nested-blob", blobs.join("nested/blob")),
        ("blobs-folder", blobs.clone()),
        // A repository blob that is a link itself leads on only into a marked shared store.
        ("relayed", blobs.join("relay")),
    ];
    for (link, target) in cases {
        symlink(&target, snapshot.join(link)).expect("symlink");
        assert_refused_under_every_option(&snapshot, link);
        fs::remove_file(snapshot.join(link)).expect("rm");
    }
    assert_eq!(names(&walk(&snapshot, &options()).expect("walk")).len(), 2);
}

#[test]
fn a_link_into_an_unmarked_shared_store_is_refused() {
    let (cache, snapshot) = cached_snapshot(HfBlobStore::Shared);
    fs::remove_file(cache.path().join("blobs/.huggingface-shared-blobs")).expect("unmark");
    let err = walk(&snapshot, &options()).expect_err("unmarked store");
    assert!(
        matches!(err, WalkError::SnapshotLinkOutsideRepository { .. }),
        "{err}"
    );
}

#[test]
fn links_within_a_snapshot_follow_the_ordinary_rules() {
    let (_cache, snapshot) = cached_snapshot(HfBlobStore::Repository);
    // A link to another snapshot file ends in the repository's blobs like the file itself.
    symlink("config.json", snapshot.join("alias.json")).expect("symlink");
    assert_eq!(
        names(&walk(&snapshot, &options()).expect("walk")),
        ["alias.json", "config.json", "sub/deeper/weights.bin"]
    );
    // A link to a regular file of the snapshot is an ordinary in-model link.
    write(&snapshot, "notes.txt", "local notes");
    symlink("notes.txt", snapshot.join("notes-link")).expect("symlink");
    let err = walk(&snapshot, &options()).expect_err("an in-model link");
    assert!(matches!(err, WalkError::Symlink { .. }), "{err}");
    assert_eq!(
        names(&walk(&snapshot, &symlinks_allowed()).expect("walk")),
        [
            "alias.json",
            "config.json",
            "notes-link",
            "notes.txt",
            "sub/deeper/weights.bin"
        ]
    );
}

#[test]
fn a_snapshot_file_is_a_single_file_model_named_by_its_link() {
    let (cache, snapshot) = cached_snapshot(HfBlobStore::Repository);
    let file = snapshot.join("sub/deeper/weights.bin");
    let model = walk(&file, &options()).expect("walk one snapshot file");
    assert!(model.single_file);
    assert!(model.hf_snapshot.is_some());
    assert_eq!(model.name, "weights.bin");
    assert_eq!(names(&model), ["weights.bin"]);
    // A link elsewhere beside it is still only followed with --allow-symlinks.
    write(cache.path(), "outside.bin", "x");
    symlink(cache.path().join("outside.bin"), snapshot.join("outside")).expect("symlink");
    let err = walk(&snapshot.join("outside"), &options()).expect_err("a link elsewhere");
    assert!(err.is_unusable_model_path(), "{err}");
}

#[test]
fn select_follows_snapshot_links_and_refuses_links_out_of_the_repository() {
    let (cache, snapshot) = cached_snapshot(HfBlobStore::Repository);
    let model = select(
        &snapshot,
        ["config.json", "sub/deeper/weights.bin"],
        &options(),
    )
    .expect("select");
    assert_eq!(names(&model), ["config.json", "sub/deeper/weights.bin"]);
    write(cache.path(), "outside.bin", "x");
    symlink(cache.path().join("outside.bin"), snapshot.join("outside")).expect("symlink");
    let err = select(&snapshot, ["outside"], &options()).expect_err("outside");
    assert!(
        matches!(err, WalkError::SnapshotLinkOutsideRepository { .. }),
        "{err}"
    );
}

#[test]
fn a_single_file_model_can_be_named_dot_as_model_signing_does() {
    let (_dir, root) = model_dir();
    write(&root, "model.bin", "hello world");
    let opts = WalkOptions {
        single_file_name: SingleFileName::Dot,
        ..options()
    };
    let model = walk(&root.join("model.bin"), &opts).expect("walk");
    assert_eq!(model.name, "model.bin", "the subject keeps the file's name");
    assert_eq!(names(&model), ["."]);
}
