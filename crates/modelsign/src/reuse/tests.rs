use std::fs;
use std::path::PathBuf;

use super::*;
use crate::error::VerifyError;
use crate::keys::Curve;
use crate::serialization::{HashAlgorithm, Serialization};
use crate::signing::sign_model_unwritten;
use crate::verifying::{verify_model, KeyVerifier, VerifyOptions};
use crate::{KeySigner, PrivateKey};
use test_support::{git as run_git, Random as Rng};

struct Fixture {
    _dir: tempfile::TempDir,
    model: PathBuf,
    signature: PathBuf,
    key: KeySigner,
    verifier: KeyVerifier,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    fs::create_dir(&model).expect("mkdir");
    let key = PrivateKey::generate(Curve::P256).expect("key");
    let verifier = KeyVerifier::new(key.public_key());
    Fixture {
        signature: dir.path().join("model.sig"),
        model,
        key: KeySigner::new(key),
        verifier,
        _dir: dir,
    }
}

impl Fixture {
    fn write(&self, name: &str, contents: &[u8]) {
        let path = self.model.join(name);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, contents).expect("write");
    }

    fn sign_full(&self, settings: &HashSettings) -> SignedModel {
        sign_model_unwritten(
            &self.model,
            settings,
            &self.key,
            &self.signature,
            &Progress::none(),
        )
        .expect("full sign")
    }

    fn sign_reusing(
        &self,
        settings: &HashSettings,
        earlier: &Bundle,
        changes: Changes,
    ) -> Result<Reused, SignError> {
        sign_model_reusing_unwritten(
            &self.model,
            settings,
            &self.key,
            &self.signature,
            &Earlier {
                bundle: earlier,
                verifier: &self.verifier,
                changes,
            },
            &Progress::none(),
        )
    }

    fn verify(&self, bundle: &Bundle) -> Result<crate::VerificationReport, VerifyError> {
        verify_model(
            &self.model,
            bundle,
            &self.verifier,
            &VerifyOptions::default(),
            &Progress::none(),
        )
    }
}

fn shards(shard_size: u64) -> HashSettings {
    HashSettings {
        serialization: Serialization::Shards { shard_size },
        ..HashSettings::default()
    }
}

/// One random edit of the model: change, grow, shrink, add, remove or rename a file.
/// Returns the paths to list as changed (a rename lists both names).
fn random_edit(
    fixture: &Fixture,
    rng: &mut Rng,
    names: &mut Vec<String>,
    serial: &mut u32,
) -> Vec<PathBuf> {
    let pick =
        |rng: &mut Rng, names: &[String]| names[rng.below(names.len() as u64) as usize].clone();
    match rng.below(6) {
        0 | 1 if names.len() > 1 => {
            let name = pick(rng, names);
            let len = fs::metadata(fixture.model.join(&name)).expect("stat").len() as usize;
            let new_len = match rng.below(3) {
                0 => len,
                1 => len + 1 + rng.below(40) as usize,
                _ => len / 2,
            };
            fixture.write(&name, &rng.bytes(new_len));
            vec![name.into()]
        }
        2 if names.len() > 2 => {
            let name = pick(rng, names);
            fs::remove_file(fixture.model.join(&name)).expect("remove");
            names.retain(|n| *n != name);
            vec![name.into()]
        }
        3 if names.len() > 1 => {
            let old = pick(rng, names);
            *serial += 1;
            let new = format!("renamed/{serial}-{}", old.replace('/', "_"));
            fs::create_dir_all(fixture.model.join("renamed")).expect("mkdir");
            fs::rename(fixture.model.join(&old), fixture.model.join(&new)).expect("rename");
            names.retain(|n| *n != old);
            names.push(new.clone());
            vec![old.into(), new.into()]
        }
        _ => {
            *serial += 1;
            let name = format!("d{}/new-{serial}.bin", rng.below(3));
            let len = rng.below(100) as usize;
            fixture.write(&name, &rng.bytes(len));
            names.push(name.clone());
            vec![name.into()]
        }
    }
}

#[test]
fn reusing_gives_the_signature_a_full_re_sign_gives_over_many_random_edits() {
    for (seed, settings) in [(1, HashSettings::default()), (2, shards(16))] {
        let fixture = fixture();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        let mut names = Vec::new();
        for i in 0..24 {
            let name = format!("d{}/f{i}.bin", i % 3);
            let len = rng.below(70) as usize;
            fixture.write(&name, &rng.bytes(len));
            names.push(name);
        }
        let mut earlier = fixture.sign_full(&settings).bundle;
        let mut serial = 0;
        for round in 0..40 {
            let mut changed = Vec::new();
            for _ in 0..=rng.below(3) {
                changed.extend(random_edit(&fixture, &mut rng, &mut names, &mut serial));
            }
            let full = fixture.sign_full(&settings);
            let reused = fixture
                .sign_reusing(&settings, &earlier, Changes::Listed(changed.clone()))
                .expect("re-sign");
            assert_eq!(
                String::from_utf8_lossy(&reused.signed.bundle.envelope.payload),
                String::from_utf8_lossy(&full.bundle.envelope.payload),
                "round {round}, changed {changed:?}"
            );
            let sources = reused.signed.sources;
            assert_eq!(sources.known_files + sources.hashed_files, names.len());
            assert!(
                sources.hashed_files <= changed.len(),
                "{sources:?} for {changed:?}"
            );
            assert!(sources.known_files > 0, "round {round}: nothing reused");
            fixture
                .verify(&reused.signed.bundle)
                .expect("the re-signed model verifies");
            earlier = reused.signed.bundle;
        }
    }
}

#[test]
fn a_changed_file_not_listed_keeps_its_old_digest_and_verification_names_it() {
    let fixture = fixture();
    fixture.write("config.json", b"{}");
    fixture.write("weights.bin", b"old weights");
    let settings = HashSettings::default();
    let earlier = fixture.sign_full(&settings).bundle;
    fixture.write("weights.bin", b"new weights");
    fixture.write("config.json", b"{\"v\": 2}");
    let reused = fixture
        .sign_reusing(
            &settings,
            &earlier,
            Changes::Listed(vec!["config.json".into()]),
        )
        .expect("signs: the caller's word is taken");
    assert_eq!(reused.signed.sources.known_files, 1);
    assert_eq!(reused.signed.sources.hashed_files, 1);
    match fixture.verify(&reused.signed.bundle) {
        Err(VerifyError::Mismatch(diff)) => assert_eq!(diff.changed, ["weights.bin"]),
        other => panic!("expected a mismatch naming weights.bin, got {other:?}"),
    }
}

#[test]
fn an_earlier_signature_that_does_not_verify_is_never_used() {
    let fixture = fixture();
    fixture.write("a.bin", b"a");
    let settings = HashSettings::default();
    let earlier = fixture.sign_full(&settings).bundle;

    // Signed by another key.
    let stranger = KeySigner::new(PrivateKey::generate(Curve::P256).expect("key"));
    let foreign = sign_model_unwritten(
        &fixture.model,
        &settings,
        &stranger,
        &fixture.signature,
        &Progress::none(),
    )
    .expect("sign")
    .bundle;
    let error = fixture
        .sign_reusing(&settings, &foreign, Changes::Listed(Vec::new()))
        .expect_err("a stranger's signature is refused");
    assert!(
        matches!(error, SignError::Reuse(ReuseError::EarlierSignature(_))),
        "{error:?}"
    );

    // Its payload altered after signing.
    let mut tampered = earlier.clone();
    let text = String::from_utf8(tampered.envelope.payload.clone()).expect("utf-8");
    tampered.envelope.payload = text.replacen("a.bin", "b.bin", 1).into_bytes();
    let error = fixture
        .sign_reusing(&settings, &tampered, Changes::Listed(Vec::new()))
        .expect_err("a tampered signature is refused");
    assert!(
        matches!(error, SignError::Reuse(ReuseError::EarlierSignature(_))),
        "{error:?}"
    );
    assert!(error.to_string().contains("does not verify"), "{error}");
}

#[test]
fn digests_move_only_between_signatures_that_hash_alike() {
    let fixture = fixture();
    fixture.write("a.bin", b"abcdefgh");
    let earlier = fixture.sign_full(&shards(4)).bundle;
    for settings in [
        HashSettings::default(),
        shards(8),
        HashSettings {
            algorithm: HashAlgorithm::Blake3,
            ..shards(4)
        },
    ] {
        let error = fixture
            .sign_reusing(&settings, &earlier, Changes::Listed(Vec::new()))
            .expect_err("other settings are refused");
        assert!(
            matches!(error, SignError::Reuse(ReuseError::OtherSettings { .. })),
            "{error:?}"
        );
    }
    let message = fixture
        .sign_reusing(&shards(8), &earlier, Changes::Listed(Vec::new()))
        .expect_err("refused")
        .to_string();
    assert!(
        message.contains("sha256 shards of 4 bytes")
            && message.contains("sha256 shards of 8 bytes"),
        "{message}"
    );
}

#[test]
fn a_shard_digest_that_cannot_fit_the_file_any_more_is_not_reused() {
    let fixture = fixture();
    fixture.write("a.bin", b"0123456789");
    fixture.write("b.bin", b"unchanged");
    let settings = shards(4);
    let earlier = fixture.sign_full(&settings).bundle;
    // Grown, and wrongly not listed: its old shards do not cover its new size.
    fixture.write("a.bin", b"0123456789abc");
    let reused = fixture
        .sign_reusing(&settings, &earlier, Changes::Listed(Vec::new()))
        .expect("re-sign");
    assert_eq!(reused.signed.sources.hashed_files, 1);
    assert_eq!(
        reused.signed.bundle.envelope.payload,
        fixture.sign_full(&settings).bundle.envelope.payload
    );
}

#[test]
fn changed_paths_outside_the_model_are_refused() {
    let fixture = fixture();
    fixture.write("a.bin", b"a");
    let settings = HashSettings::default();
    let earlier = fixture.sign_full(&settings).bundle;
    for path in ["../elsewhere", "/etc/passwd"] {
        let error = fixture
            .sign_reusing(&settings, &earlier, Changes::Listed(vec![path.into()]))
            .expect_err("outside");
        assert!(
            matches!(
                error,
                SignError::Reuse(ReuseError::ChangedOutsideModel { .. })
            ),
            "{error:?}"
        );
    }
    // The model itself, and a directory of it, mean everything under them changed.
    for path in [fixture.model.clone(), PathBuf::from(".")] {
        let reused = fixture
            .sign_reusing(&settings, &earlier, Changes::Listed(vec![path]))
            .expect("re-sign");
        assert_eq!(reused.signed.sources.known_files, 0);
    }
}

#[test]
fn git_says_what_changed_renamed_files_keep_their_digests_untracked_ones_are_hashed() {
    let fixture = fixture();
    let repo = fixture.model.parent().expect("parent").to_path_buf();
    fixture.write("README.md", b"# model");
    fixture.write("weights/a.bin", b"aaaa");
    fixture.write("weights/b.bin", b"bbbb");
    fixture.write("tokenizer.json", b"{}");
    fixture.write("notes.txt", b"untracked, signed");
    run_git(&repo, &["init", "-q"]);
    run_git(
        &repo,
        &[
            "add",
            "model/README.md",
            "model/weights",
            "model/tokenizer.json",
        ],
    );
    run_git(&repo, &["commit", "-q", "-m", "v1"]);
    let settings = HashSettings::default();
    let earlier = fixture.sign_full(&settings).bundle;

    fixture.write("README.md", b"# model, v2");
    run_git(&repo, &["mv", "model/weights/b.bin", "model/weights/c.bin"]);
    fs::remove_file(fixture.model.join("tokenizer.json")).expect("remove");
    fixture.write("added.bin", b"new");
    fixture.write("notes.txt", b"untracked, changed");

    let reused = fixture
        .sign_reusing(&settings, &earlier, Changes::SinceGit("HEAD".into()))
        .expect("re-sign");
    assert_eq!(
        reused.signed.bundle.envelope.payload,
        fixture.sign_full(&settings).bundle.envelope.payload
    );
    // Reused: weights/a.bin, and weights/c.bin under its new name; hashed: README.md,
    // added.bin and the untracked notes.txt.
    assert_eq!(reused.signed.sources.known_files, 2);
    assert_eq!(reused.signed.sources.hashed_files, 3);
    assert_eq!(
        reused.renamed,
        [("weights/b.bin".to_owned(), "weights/c.bin".to_owned())]
    );
    fixture.verify(&reused.signed.bundle).expect("verifies");

    let error = fixture
        .sign_reusing(
            &settings,
            &earlier,
            Changes::SinceGit("no-such-revision".into()),
        )
        .expect_err("unknown revision");
    assert!(
        matches!(error, SignError::Reuse(ReuseError::Git { .. })),
        "{error:?}"
    );
    let error = fixture
        .sign_reusing(&settings, &earlier, Changes::SinceGit("--output=x".into()))
        .expect_err("an option is not a revision");
    assert!(
        matches!(error, SignError::Reuse(ReuseError::Git { .. })),
        "{error:?}"
    );
}

impl Fixture {
    fn sign_incremental(
        &self,
        settings: &HashSettings,
        earlier: Option<&Bundle>,
        changes: Changes,
        cache: &Path,
    ) -> Reused {
        sign_model_incremental_unwritten(
            &self.model,
            settings,
            &self.key,
            &self.signature,
            &Incremental {
                earlier: earlier.map(|bundle| Earlier {
                    bundle,
                    verifier: &self.verifier,
                    changes,
                }),
                record_stat_cache: Some(cache.to_path_buf()),
            },
            &Progress::none(),
        )
        .expect("sign")
    }
}

#[test]
fn the_stat_cache_says_which_files_are_untouched_for_the_signature_it_saw() {
    let fixture = fixture();
    let cache = fixture._dir.path().join("cache");
    for i in 0..6 {
        fixture.write(&format!("f{i}.bin"), format!("file {i}").as_bytes());
    }
    let settings = HashSettings::default();
    let changes = || Changes::StatCache(cache.clone());

    // Files written just now are too recent to be trusted: none recorded.
    let first = fixture.sign_incremental(&settings, None, changes(), &cache);
    assert_eq!(first.recorded.as_ref().map(|r| r.1), Some(0));
    // Older than the racy window: every file recorded, and all reused next time.
    std::thread::sleep(crate::stat_cache::RACY_WINDOW + std::time::Duration::from_millis(200));
    let v1 = fixture.sign_incremental(&settings, None, changes(), &cache);
    assert_eq!(v1.recorded.as_ref().map(|r| r.1), Some(6));
    assert_eq!(v1.signed.sources.hashed_files, 6);
    let again = fixture.sign_incremental(&settings, Some(&v1.signed.bundle), changes(), &cache);
    assert_eq!(again.signed.sources.known_files, 6);
    assert_eq!(
        again.signed.bundle.envelope.payload,
        v1.signed.bundle.envelope.payload
    );

    // A rewrite of the same size changes its times: that file is hashed.
    fixture.write("f2.bin", b"FILE 2");
    let v2 = fixture.sign_incremental(&settings, Some(&v1.signed.bundle), changes(), &cache);
    assert_eq!(v2.signed.sources.hashed_files, 1);
    assert_eq!(
        v2.signed.bundle.envelope.payload,
        fixture.sign_full(&settings).bundle.envelope.payload
    );
    fixture.verify(&v2.signed.bundle).expect("verifies");

    // The cache now describes v2; reusing v1 with it, f2's digests in v1 are not the ones
    // the cache saw, so f2 is hashed even though its stamp is as recorded.
    std::thread::sleep(crate::stat_cache::RACY_WINDOW + std::time::Duration::from_millis(200));
    let v2 = fixture.sign_incremental(&settings, None, changes(), &cache);
    assert_eq!(v2.recorded.as_ref().map(|r| r.1), Some(6));
    let from_v1 = fixture.sign_incremental(&settings, Some(&v1.signed.bundle), changes(), &cache);
    assert_eq!(from_v1.signed.sources.hashed_files, 1);
    assert_eq!(
        from_v1.signed.bundle.envelope.payload,
        v2.signed.bundle.envelope.payload
    );

    // A corrupt cache is ignored with a note; every file is hashed.
    fs::write(&v2.recorded.as_ref().expect("recorded").0, b"{not json").expect("write");
    let corrupt = fixture.sign_incremental(&settings, Some(&v2.signed.bundle), changes(), &cache);
    assert_eq!(corrupt.signed.sources.hashed_files, 6);
    assert!(
        !corrupt.notes.is_empty(),
        "a note says the cache was ignored"
    );
}
