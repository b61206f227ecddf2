use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};

use super::*;
use crate::error::{Classify, SignError};
use crate::hashing::{HashSettings, Hasher};
use crate::serialization::Serialization;

const SHA256_OF_A: &str = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
const SHA256_OF_B: &str = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";

fn sha256_list(text: &str) -> Result<DigestList, KnownDigestsError> {
    parse(text.as_bytes(), HashAlgorithm::Sha256)
}

/// The message of the error `text` gives when read as a sha256 checksum list.
fn sha256_error(text: &str) -> String {
    match sha256_list(text) {
        Ok(list) => panic!("{text:?} was accepted: {list:?}"),
        Err(error) => error.to_string(),
    }
}

fn names(list: &DigestList) -> Vec<&str> {
    list.resources.iter().map(|r| r.name.as_str()).collect()
}

fn digest_of(algorithm: HashAlgorithm, contents: &[u8]) -> Vec<u8> {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(contents);
    hasher.finalize()
}

// ---- Checksum lists written by the real tools ----

/// Files whose names a checksum list must carry through: spaces (one trailing), a line
/// feed and a backslash (GNU escapes both), a carriage return inside the name (GNU escapes
/// it; b3sum writes it raw), parentheses and a star (look like the BSD and binary forms),
/// non-ASCII, and subdirectories.
const AWKWARD_NAMES: [&str; 10] = [
    "plain.bin",
    "with space.txt",
    "trailing space ",
    "new\nline",
    "back\\slash",
    "carriage\rreturn",
    "(paren) = x",
    "*star",
    "modèle ü.json",
    "sub/dir/deep.bin",
];

/// A model holding [`AWKWARD_NAMES`], each file's contents its name.
fn awkward_model() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    for name in AWKWARD_NAMES {
        let path = model.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, name.as_bytes()).unwrap();
    }
    (dir, model)
}

/// How the checksum tools are asked for the files: some names spelt with a leading `./`
/// or a doubled `/`, which the list keeps and the parser must drop.
fn tool_arguments() -> Vec<String> {
    AWKWARD_NAMES
        .iter()
        .map(|name| match *name {
            "plain.bin" => "./plain.bin".to_owned(),
            "sub/dir/deep.bin" => "./sub//dir/deep.bin".to_owned(),
            other => other.to_owned(),
        })
        .collect()
}

/// `tool OPTIONS… FILES…` run in the model, its output; `None` when the tool is not
/// installed (outside CI only: in CI every tool the tests use must be there).
fn run_tool(tool: &str, options: &[&str], model: &Path) -> Option<Vec<u8>> {
    let output = match Command::new(tool)
        .args(options)
        .args(tool_arguments().iter().map(OsStr::new))
        .current_dir(model)
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !test_support::in_ci() => {
            eprintln!("skipped: {tool} is not installed (Debian: apt install {tool})");
            return None;
        }
        Err(error) => panic!("cannot run {tool}: {error}"),
    };
    assert!(
        output.status.success(),
        "{tool} {options:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

/// Each tool's list of the awkward model, in each of its output forms, reads back as the
/// names and digests modelsign's own hashing gives the model.
fn check_tool(tool: &str, algorithm: HashAlgorithm, forms: &[&[&str]]) {
    let (_dir, model) = awkward_model();
    let settings = HashSettings {
        algorithm,
        ..HashSettings::default()
    };
    let hashed = settings.hash_model(&model).unwrap();
    assert_eq!(hashed.resources().len(), AWKWARD_NAMES.len());
    for options in forms {
        let Some(list) = run_tool(tool, options, &model) else {
            return;
        };
        let parsed = parse(&list, algorithm).unwrap_or_else(|e| {
            panic!(
                "{tool} {options:?} output unreadable: {e}\n{}",
                String::from_utf8_lossy(&list)
            )
        });
        assert_eq!(parsed.format, DigestListFormat::ChecksumList);
        assert_eq!(parsed.serialization, None);
        assert_eq!(
            parsed.resources,
            hashed.resources(),
            "{tool} {options:?}:\n{}",
            String::from_utf8_lossy(&list)
        );
    }
}

#[test]
fn sha256sum_lists_read_back_as_modelsign_hashes_the_files() {
    // Text mode (two spaces), binary mode (` *`) and BSD tags, names escaped where needed.
    check_tool(
        "sha256sum",
        HashAlgorithm::Sha256,
        &[&[], &["--binary"], &["--tag"]],
    );
}

#[test]
fn b2sum_lists_read_back_as_modelsign_hashes_the_files() {
    check_tool(
        "b2sum",
        HashAlgorithm::Blake2b,
        &[&[], &["--binary"], &["--tag"]],
    );
}

#[test]
fn b3sum_lists_read_back_as_modelsign_hashes_the_files() {
    // b3sum has no tag or binary form; it escapes `\` and line feeds as GNU does, and
    // writes a carriage return raw.
    check_tool("b3sum", HashAlgorithm::Blake3, &[&[]]);
}

#[test]
fn the_list_of_one_tool_is_refused_as_another_algorithms_by_length_or_tag() {
    let (_dir, model) = awkward_model();
    let Some(sha256) = run_tool("sha256sum", &[], &model) else {
        return;
    };
    let error = parse(&sha256, HashAlgorithm::Blake2b).unwrap_err();
    assert_eq!(
        error.to_string(),
        "digest list, line 1: the digest has 64 hex digits, but blake2b digests have 128 \
         (sha256 and blake3 digests have 64)"
    );
    let Some(tagged) = run_tool("b2sum", &["--tag"], &model) else {
        return;
    };
    let error = parse(&tagged, HashAlgorithm::Sha256).unwrap_err();
    assert_eq!(
        error.to_string(),
        "digest list, line 1: the digest is tagged BLAKE2b (blake2b), but the hash type is \
         sha256 (tagged SHA256 or SHA2-256); choose blake2b to sign these digests"
    );
}

// ---- Checksum lists: what is accepted ----

#[test]
fn names_are_made_canonical_and_the_resources_sorted() {
    let text = format!(
        "{SHA256_OF_B}  ./z//y/./x\n{SHA256_OF_A} *a\n{}  ./b\\\\c\n",
        SHA256_OF_A.to_uppercase()
    );
    let list = sha256_list(&text).unwrap();
    assert_eq!(names(&list), ["a", "b\\\\c", "z/y/x"]);
    assert_eq!(
        list.resources[0].digest,
        base16ct::mixed::decode_vec(SHA256_OF_A).unwrap()
    );
    assert_eq!(
        list.resources[1].digest,
        base16ct::mixed::decode_vec(SHA256_OF_A).unwrap()
    );
    assert_eq!(
        list.resources[2].digest,
        base16ct::mixed::decode_vec(SHA256_OF_B).unwrap()
    );
}

#[test]
fn a_backslash_is_literal_unless_the_line_starts_with_one() {
    let literal = sha256_list(&format!("{SHA256_OF_A}  dir\\file\\n\n")).unwrap();
    assert_eq!(names(&literal), ["dir\\file\\n"]);
    let escaped = sha256_list(&format!("\\{SHA256_OF_A}  dir\\\\file\\n\\r\n")).unwrap();
    assert_eq!(names(&escaped), ["dir\\file\n\r"]);
    let tagged = sha256_list(&format!("\\SHA256 (a\\nb)) = {SHA256_OF_A}\n")).unwrap();
    assert_eq!(names(&tagged), ["a\nb)"]);
}

#[test]
fn blank_lines_comments_crlf_a_byte_order_mark_and_leading_blanks_are_accepted() {
    let text = format!(
        "\u{feff}# made by the pipeline\r\n\r\n  \t\n{SHA256_OF_A}  a\r\n\t {SHA256_OF_B}  b\r\n\n"
    );
    let list = sha256_list(&text).unwrap();
    assert_eq!(names(&list), ["a", "b"]);
    // Without a final line end, too.
    assert_eq!(
        names(&sha256_list(&format!("{SHA256_OF_A}  a")).unwrap()),
        ["a"]
    );
}

#[test]
fn a_file_listed_twice_with_the_same_digest_is_listed_once() {
    let text = format!("{SHA256_OF_A}  a\n{SHA256_OF_B}  b\n{SHA256_OF_A} *./a\n");
    let list = sha256_list(&text).unwrap();
    assert_eq!(names(&list), ["a", "b"]);
}

#[test]
fn every_tag_spelling_of_the_algorithm_is_accepted() {
    let blake2b = base16ct::lower::encode_string(&digest_of(HashAlgorithm::Blake2b, b"a"));
    let blake3 = base16ct::lower::encode_string(&digest_of(HashAlgorithm::Blake3, b"a"));
    let cases = [
        (HashAlgorithm::Sha256, format!("SHA256 (a) = {SHA256_OF_A}")),
        (HashAlgorithm::Sha256, format!("SHA2-256(a)= {SHA256_OF_A}")),
        (HashAlgorithm::Sha256, format!("sha256 (a)={SHA256_OF_A}  ")),
        (HashAlgorithm::Blake2b, format!("BLAKE2b (a) = {blake2b}")),
        (HashAlgorithm::Blake2b, format!("BLAKE2B-512(a)= {blake2b}")),
        (HashAlgorithm::Blake3, format!("BLAKE3 (a) = {blake3}")),
    ];
    for (algorithm, line) in cases {
        let list = parse(line.as_bytes(), algorithm).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(names(&list), ["a"], "{line}");
        assert_eq!(
            list.resources[0].digest,
            digest_of(algorithm, b"a"),
            "{line}"
        );
    }
}

#[test]
fn a_name_that_starts_like_a_tag_is_a_name_in_the_gnu_form() {
    // Two spaces after the digest: whatever follows is the name, parentheses included.
    let list = sha256_list(&format!("{SHA256_OF_A}  SHA256 (x) = y\n")).unwrap();
    assert_eq!(names(&list), ["SHA256 (x) = y"]);
}

// ---- Checksum lists: every refusal names the line and the fault ----

#[test]
fn digests_of_the_wrong_length_or_not_hex_are_refused() {
    assert_eq!(
        sha256_error(&format!("{SHA256_OF_A}  a\n{}  b\n", &SHA256_OF_B[..62])),
        "digest list, line 2: the digest has 62 hex digits, but sha256 digests have 64"
    );
    assert_eq!(
        sha256_error(&format!("{}  b\n", "ab".repeat(64))),
        "digest list, line 1: the digest has 128 hex digits, but sha256 digests have 64 \
         (blake2b digests have 128)"
    );
    assert_eq!(
        sha256_error(&format!("{}g  a\n", &SHA256_OF_A[..63])),
        format!(
            "digest list, line 1: the digest '{}g' is not hexadecimal",
            &SHA256_OF_A[..63]
        )
    );
    // A long garbage line is quoted only in part.
    let message = sha256_error(&format!("{}  a\n", "z".repeat(10_000)));
    assert_eq!(
        message,
        format!(
            "digest list, line 1: the digest '{}…' is not hexadecimal",
            "z".repeat(80)
        )
    );
}

#[test]
fn lines_that_are_neither_form_are_refused() {
    let forms = "expected '<hex digest>  <file name>', '<hex digest> *<file name>' or \
                 '<TAG> (<file name>) = <hex digest>'";
    assert_eq!(
        sha256_error(&format!("{SHA256_OF_A} a\n")),
        format!(
            "digest list, line 1: expected two spaces or ' *' between the digest and the file \
             name; {forms}"
        )
    );
    // The single-space form of BSD `sha256 -r`, even with a name in parentheses.
    assert_eq!(
        sha256_error(&format!("{SHA256_OF_A} (a)\n")),
        format!(
            "digest list, line 1: expected two spaces or ' *' between the digest and the file \
             name; {forms}"
        )
    );
    assert_eq!(
        sha256_error(&format!("\n{SHA256_OF_A}\n")),
        format!("digest list, line 2: no file name after the digest '{SHA256_OF_A}'; {forms}")
    );
    assert_eq!(
        sha256_error(&format!("SHA256 (a = {SHA256_OF_A}\n")),
        format!(
            "digest list, line 1: a tagged line needs '(<file name>) = <hex digest>' after the \
             tag; {forms}"
        )
    );
    assert_eq!(
        sha256_error(&format!("SHA256 (a) {SHA256_OF_A}\n")),
        format!(
            "digest list, line 1: expected '= <hex digest>' after the file name's ')'; {forms}"
        )
    );
}

#[test]
fn tags_of_other_algorithms_are_refused() {
    assert_eq!(
        sha256_error(&format!("MD5 (a) = {SHA256_OF_A}\n")),
        "digest list, line 1: the digest is tagged 'MD5', an algorithm modelsign does not sign \
         with; sha256 digests are tagged SHA256 or SHA2-256"
    );
    let error = parse(
        format!("SHA256 (a) = {SHA256_OF_A}\n").as_bytes(),
        HashAlgorithm::Blake3,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "digest list, line 1: the digest is tagged SHA256 (sha256), but the hash type is \
         blake3 (tagged BLAKE3); choose sha256 to sign these digests"
    );
    // b2sum -l 256: a BLAKE2b of another length, which modelsign does not sign with.
    let error = parse(
        format!("BLAKE2b-256 (a) = {SHA256_OF_A}\n").as_bytes(),
        HashAlgorithm::Blake2b,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "digest list, line 1: the digest is tagged 'BLAKE2b-256', an algorithm modelsign does \
         not sign with; blake2b digests are tagged BLAKE2b or BLAKE2b-512"
    );
}

#[test]
fn names_outside_the_model_or_naming_nothing_are_refused() {
    let cases = [
        (
            "/etc/passwd",
            "the file name '/etc/passwd' is not a path inside the model: it is absolute",
        ),
        (
            "a/../../b",
            "the file name 'a/../../b' is not a path inside the model: it contains a `..` component",
        ),
        (
            "./",
            "the file name './' is not a path inside the model: it names the model root itself",
        ),
        (
            ".",
            "the file name '.' is not a path inside the model: it names the model root itself",
        ),
        ("", "the file name is empty"),
        ("a\0b", "the file name 'a\\x00b' contains a NUL character"),
    ];
    for (name, reason) in cases {
        assert_eq!(
            sha256_error(&format!("{SHA256_OF_A}  {name}\n")),
            format!("digest list, line 1: {reason}"),
            "{name:?}"
        );
    }
    // Shown as printable text: a name cannot forge a line of the message.
    assert_eq!(
        sha256_error(&format!("\\{SHA256_OF_A}  /x\\nVerified: ok\n")),
        "digest list, line 1: the file name '/x\\nVerified: ok' is not a path inside the model: \
         it is absolute"
    );
}

#[test]
fn bad_escapes_are_refused() {
    assert_eq!(
        sha256_error(&format!("\\{SHA256_OF_A}  a\\tb\n")),
        "digest list, line 1: the escaped file name 'a\\tb' holds '\\t', but only \\\\, \\n and \
         \\r are escapes (the line starts with '\\')"
    );
    assert_eq!(
        sha256_error(&format!("\\{SHA256_OF_A}  ab\\\n")),
        "digest list, line 1: the escaped file name 'ab\\' ends in a lone backslash (the line \
         starts with '\\')"
    );
}

#[test]
fn a_line_that_is_not_utf8_is_refused_with_its_number() {
    let mut text = format!("{SHA256_OF_A}  a\n{SHA256_OF_B}  ").into_bytes();
    text.extend_from_slice(b"\xff\xfe\n");
    let error = parse(&text, HashAlgorithm::Sha256).unwrap_err();
    assert_eq!(
        error.to_string(),
        "digest list, line 2: it is not UTF-8 text (file names must be UTF-8)"
    );
}

#[test]
fn one_file_with_two_digests_is_refused_naming_both_lines() {
    let text = format!("{SHA256_OF_A}  x y\n\n{SHA256_OF_B}  ./x y\n");
    let error = sha256_list(&text).unwrap_err();
    assert!(matches!(
        error,
        KnownDigestsError::ConflictingDigests {
            first_line: 1,
            line: 3,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "digest list, line 3: 'x y' is listed again with another digest (first on line 1)"
    );
}

#[test]
fn a_list_of_nothing_is_refused() {
    for text in ["", " \n\t\n", "\u{feff}", "# only a comment\r\n\r\n"] {
        let error = sha256_list(text).unwrap_err();
        assert!(matches!(error, KnownDigestsError::Empty), "{text:?}");
        assert_eq!(error.to_string(), "the digest list lists no digests");
    }
}

#[test]
fn a_list_of_more_files_than_a_manifest_may_hold_is_refused() {
    // The limit is a million files: the same rule, at a bound of two.
    let text = format!("{SHA256_OF_A}  a\n{SHA256_OF_A}  a\n{SHA256_OF_A}  b\n");
    assert_eq!(
        names(&parse_checksum_list(text.as_bytes(), HashAlgorithm::Sha256, 2).unwrap()),
        ["a", "b"]
    );
    let more = format!("{text}{SHA256_OF_B}  c\n");
    let error = parse_checksum_list(more.as_bytes(), HashAlgorithm::Sha256, 2).unwrap_err();
    assert!(matches!(
        error,
        KnownDigestsError::TooManyEntries { limit: 2 }
    ));
    assert_eq!(
        KnownDigestsError::TooManyEntries {
            limit: limits::MAX_RESOURCES
        }
        .to_string(),
        "the digest list lists more than 1000000 files (modelsign::limits::MAX_RESOURCES)"
    );
}

// ---- OMS input ----

fn vector_bytes(relative: &str) -> Vec<u8> {
    std::fs::read(test_support::vector(relative)).unwrap()
}

/// The `reference-generated/example-model` digests its README lists.
fn example_model_sha256() -> Vec<ResourceDescriptor> {
    [
        (
            "config.json",
            "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356",
        ),
        (
            "empty.txt",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "weights/model.bin",
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
        ),
        (
            "weights/shards.bin",
            "885539ee347f1d3abb6defcbcdfaedaa513d829fb99972ad6161c5ab07bd7d59",
        ),
    ]
    .into_iter()
    .map(|(name, digest)| ResourceDescriptor {
        name: name.to_owned(),
        digest: base16ct::mixed::decode_vec(digest).unwrap(),
    })
    .collect()
}

const FILES_BUNDLE: &str = "reference-generated/sigs/key-p256-files-sha256.sig";

fn payload_of(bundle: &[u8]) -> Vec<u8> {
    let bundle: Value = serde_json::from_slice(bundle).unwrap();
    BASE64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap()
}

#[test]
fn a_bundle_from_model_signing_gives_its_manifest_and_says_it_was_not_verified() {
    let list = parse(&vector_bytes(FILES_BUNDLE), HashAlgorithm::Sha256).unwrap();
    assert_eq!(list.format, DigestListFormat::OmsBundle);
    assert_eq!(
        list.format.to_string(),
        "OMS manifest in a Sigstore bundle (its signature NOT verified)"
    );
    assert_eq!(list.resources, example_model_sha256());
    let record = list.serialization.unwrap();
    assert_eq!(record.serialization, Serialization::Files);
    assert_eq!(record.hash_type, HashAlgorithm::Sha256);
    assert!(record.ignore_paths.contains(&"model.sig".to_owned()));
}

#[test]
fn the_digests_of_a_bundle_match_what_modelsign_computes_for_its_model() {
    let list = parse(&vector_bytes(FILES_BUNDLE), HashAlgorithm::Sha256).unwrap();
    let model = test_support::vector("reference-generated/example-model");
    let hashed = HashSettings::default().hash_model(&model).unwrap();
    assert_eq!(list.resources, hashed.resources());
}

#[test]
fn a_bundle_is_read_whatever_its_signature() {
    // Nothing here verifies a signature: a broken one reads the same.
    let mut bundle: Value = serde_json::from_slice(&vector_bytes(FILES_BUNDLE)).unwrap();
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = json!(BASE64.encode(b"not a signature"));
    let list = parse(&serde_json::to_vec(&bundle).unwrap(), HashAlgorithm::Sha256).unwrap();
    assert_eq!(list.format, DigestListFormat::OmsBundle);
    assert_eq!(list.resources, example_model_sha256());
}

#[test]
fn a_sharded_bundle_gives_shard_names_and_its_shard_size() {
    let list = parse(
        &vector_bytes("reference-generated/sigs/key-p256-shards8-sha256.sig"),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert_eq!(
        list.serialization.as_ref().unwrap().serialization,
        Serialization::Shards { shard_size: 8 }
    );
    assert_eq!(
        names(&list),
        [
            "config.json:0:3",
            "weights/model.bin:0:8",
            "weights/model.bin:8:11",
            "weights/shards.bin:0:8",
            "weights/shards.bin:16:20",
            "weights/shards.bin:8:16",
        ]
    );
}

#[test]
fn a_manifest_of_another_algorithm_is_refused() {
    let bundle = vector_bytes("reference-generated/sigs/key-p256-files-blake3.sig");
    let error = parse(&bundle, HashAlgorithm::Sha256).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the digest list (Sigstore bundle) holds blake3 digests, but the hash type is sha256; \
         choose blake3 to sign them"
    );
    let list = parse(&bundle, HashAlgorithm::Blake3).unwrap();
    assert_eq!(list.resources.len(), 4);
    assert!(list.resources.iter().all(|r| r.digest.len() == 32));
}

#[test]
fn a_model_signing_0_2_bundle_lists_whole_files_and_records_no_serialization() {
    let list = parse(
        &vector_bytes("model-transparency/v0.2.0-certificate/model.sig"),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert_eq!(list.format, DigestListFormat::OmsBundle);
    assert_eq!(names(&list), ["signme-1", "signme-2"]);
    assert_eq!(list.serialization, None);
    assert_eq!(
        base16ct::lower::encode_string(&list.resources[0].digest),
        "f6310066c7320497ea554260c32c43660bff648cb2a61194832cc086077085e1"
    );
}

#[test]
fn a_bare_statement_and_a_bare_predicate_give_the_same_as_the_bundle() {
    let from_bundle = parse(&vector_bytes(FILES_BUNDLE), HashAlgorithm::Sha256).unwrap();
    let payload = payload_of(&vector_bytes(FILES_BUNDLE));

    let statement = parse(&payload, HashAlgorithm::Sha256).unwrap();
    assert_eq!(statement.format, DigestListFormat::OmsStatement);
    assert_eq!(statement.resources, from_bundle.resources);
    assert_eq!(statement.serialization, from_bundle.serialization);

    let mut predicate = serde_json::from_slice::<Value>(&payload).unwrap()["predicate"].take();
    // Listed out of order: the list comes back in canonical order.
    predicate["resources"].as_array_mut().unwrap().reverse();
    let bare = parse(
        &serde_json::to_vec_pretty(&predicate).unwrap(),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert_eq!(bare.format, DigestListFormat::OmsPredicate);
    assert_eq!(bare.resources, from_bundle.resources);
    assert_eq!(bare.serialization, from_bundle.serialization);
}

fn predicate(resources: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false},
        "resources": resources,
    }))
    .unwrap()
}

#[test]
fn a_bare_predicate_is_checked_as_a_signed_one() {
    let entry =
        |name: &str, digest: &str| json!({"name": name, "algorithm": "sha256", "digest": digest});
    let cases = [
        (
            json!([entry("../a", SHA256_OF_A)]),
            "manifest entry '../a' is not a valid resource name: it contains a `..` component",
        ),
        (
            json!([entry("a", &SHA256_OF_A[..10])]),
            "statement field 'predicate.resources[].digest' is invalid: digest of 'a' has 5 \
             bytes, sha256 digests have 32",
        ),
        (
            json!([entry("a", SHA256_OF_A), entry("./a", SHA256_OF_B)]),
            "manifest lists 'a' more than once",
        ),
        (
            json!([]),
            "manifest lists no resources; a signature must cover at least one file",
        ),
        (
            json!([{"name": "a", "digest": SHA256_OF_A}]),
            "statement is missing 'predicate.resources[].algorithm'",
        ),
        (
            json!([{"name": "a", "algorithm": "blake3", "digest": SHA256_OF_A}]),
            "manifest entry 'a' uses algorithm 'blake3', but the serialization says 'sha256'",
        ),
    ];
    for (resources, reason) in cases {
        let error = parse(&predicate(resources.clone()), HashAlgorithm::Sha256).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("the digest list (OMS predicate) does not hold a valid OMS manifest: {reason}"),
            "{resources}"
        );
    }
    let accepted = parse(
        &predicate(json!([entry("b", SHA256_OF_B), entry("./a", SHA256_OF_A)])),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert_eq!(names(&accepted), ["a", "b"]);
}

#[test]
fn a_statement_whose_subject_is_not_its_resources_is_refused() {
    let mut statement: Value =
        serde_json::from_slice(&payload_of(&vector_bytes(FILES_BUNDLE))).unwrap();
    statement["predicate"]["resources"][0]["digest"] = json!(SHA256_OF_A);
    let error = parse(
        &serde_json::to_vec(&statement).unwrap(),
        HashAlgorithm::Sha256,
    )
    .unwrap_err();
    assert!(
        matches!(
            &error,
            KnownDigestsError::Statement {
                format: "in-toto statement",
                source: StatementError::RootDigestMismatch { .. }
            }
        ),
        "{error}"
    );
}

#[test]
fn json_that_is_not_an_oms_manifest_is_refused() {
    let error = parse(b"{\"name\": \"a\"}", HashAlgorithm::Sha256).unwrap_err();
    assert!(matches!(error, KnownDigestsError::NotOms));
    assert_eq!(
        error.to_string(),
        "the digest list is JSON but not an OMS manifest: expected a Sigstore bundle, an \
         in-toto statement, or an OMS predicate (an object with 'serialization' and 'resources')"
    );
    let error = parse(b"  {\"resources\": [", HashAlgorithm::Sha256).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("the digest list is not valid JSON: EOF while parsing"),
        "{error}"
    );

    let mut bundle: Value = serde_json::from_slice(&vector_bytes(FILES_BUNDLE)).unwrap();
    bundle["dsseEnvelope"]["payloadType"] = json!("text/plain");
    let error = parse(&serde_json::to_vec(&bundle).unwrap(), HashAlgorithm::Sha256).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the digest list (Sigstore bundle) does not hold a valid OMS manifest: DSSE payload \
         type is 'text/plain', expected application/vnd.in-toto+json"
    );
    bundle["mediaType"] = json!("application/octet-stream");
    let error = parse(&serde_json::to_vec(&bundle).unwrap(), HashAlgorithm::Sha256).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the digest list is not a readable Sigstore bundle: unsupported bundle media type \
         'application/octet-stream'; expected application/vnd.dev.sigstore.bundle.v0.3+json"
    );
}

// ---- Reading the file ----

#[test]
fn read_takes_a_regular_file_and_names_it_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SHA256SUMS");
    std::fs::write(&path, format!("{SHA256_OF_A}  a\n")).unwrap();
    let list = read(&path, HashAlgorithm::Sha256).unwrap();
    assert_eq!(names(&list), ["a"]);

    let error = read(dir.path(), HashAlgorithm::Sha256).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot read the digest list '{}': it is a directory, not a regular file",
            dir.path().display()
        )
    );
    assert!(error.is_input_error());
    let missing = read(&dir.path().join("missing"), HashAlgorithm::Sha256).unwrap_err();
    assert!(matches!(missing, KnownDigestsError::Io { .. }));
}

#[test]
fn a_digest_list_that_cannot_be_used_is_an_input_error_when_signing() {
    let error = SignError::from(KnownDigestsError::Empty);
    assert!(error.is_input_error());
    assert_eq!(error.to_string(), "the digest list lists no digests");
}
