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
    assert!(err.to_string().contains("--allow-symlinks"));

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
    let mut opts = options();
    opts.allow_symlinks = true;
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
    let mut opts = options();
    opts.allow_symlinks = true;

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
    assert!(matches!(err, WalkError::ModelPath { .. }), "{err}");
    assert!(err.is_unusable_model_path(), "{err}");
    let mut opts = options();
    opts.allow_symlinks = true;
    assert_eq!(names(&walk(&link, &opts).expect("walk")), ["a.bin"]);
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
