//! Policy files, the names of a model, and verification under a policy.

use super::*;
use crate::error::{BundleError, Classify, PolicyError};

#[test]
fn patterns_match_with_stars_anywhere() {
    assert!(matches(
        "pkg:huggingface/acme/*",
        "pkg:huggingface/acme/llama"
    ));
    assert!(!matches(
        "pkg:huggingface/acme/*",
        "pkg:huggingface/other/llama"
    ));
    assert!(matches("*-q4", "tuned-q4"));
    assert!(matches("a*b*c", "a-b-c"));
    assert!(!matches("a*b*c", "a-c-b"));
    assert!(matches("exact", "exact"));
    assert!(!matches("exact", "exactly"));
    assert!(matches("*", ""));
    assert!(!matches("ab*ba", "aba"));
}

#[test]
fn a_policy_reads_from_toml_and_yaml_alike_and_names_its_mistakes() {
    let toml = r#"
        [[signer]]
        name = "data"
        key = "keys/data.pub"
        stages = ["data-prep"]
        [[signer]]
        name = "ci"
        sigstore = { identity_regex = "ci@.*", issuer = "https://issuer.example" }
        kinds = ["provenance"]
        names = ["acme/*"]
    "#;
    let yaml = "signer:\n- name: data\n  key: keys/data.pub\n  stages: [data-prep]\n- name: ci\n  sigstore: {identity_regex: 'ci@.*', issuer: 'https://issuer.example'}\n  kinds: [provenance]\n  names: ['acme/*']\n";
    for policy in [
        TrustPolicy::parse(toml, false, Path::new("/etc/ms")).unwrap(),
        TrustPolicy::parse(yaml, true, Path::new("/etc/ms")).unwrap(),
    ] {
        assert_eq!(policy.signers.len(), 2);
        assert_eq!(
            policy.signers[0].spec,
            VerifierSpec::Key {
                public_key: "/etc/ms/keys/data.pub".into()
            }
        );
        let data = &policy.signers[0];
        // Limited to a stage and given no kinds, it signs that stage's provenance only.
        for kind in [AttestationKind::Card, AttestationKind::Signature] {
            let refused = data.allows(kind, None, &[]).unwrap_err();
            assert!(refused.contains("may not sign a"), "{refused}");
        }
        assert!(data
            .allows(AttestationKind::Provenance, Some(Stage::DataPrep), &[])
            .is_ok());
        let refused = data
            .allows(AttestationKind::Provenance, Some(Stage::Finetune), &[])
            .unwrap_err();
        assert!(
            refused.contains("data-prep only, not of finetune"),
            "{refused}"
        );
        let ci = &policy.signers[1];
        assert!(ci.allows(AttestationKind::Card, None, &[]).is_err());
        assert!(ci
            .allows(
                AttestationKind::Provenance,
                None,
                &[vec!["acme/m", "pkg:x"]]
            )
            .is_ok());
        let refused = ci
            .allows(AttestationKind::Provenance, None, &[vec!["other/m"]])
            .unwrap_err();
        assert!(refused.contains("not 'other/m'"), "{refused}");
    }
    let cases = [
        ("", "names no [[signer]]"),
        ("[[signer]]\nname = \"x\"\n", "exactly one of key"),
        (
            "[[signer]]\nname = \"x\"\nkey = \"k\"\nkinds = [\"cards\"]\n",
            "'cards' is not a kind",
        ),
        (
            "[[signer]]\nname = \"x\"\nkey = \"k\"\nstage = [\"finetune\"]\n",
            "unknown field",
        ),
        (
            "[[signer]]\nname = \"x\"\nsigstore = { issuer = \"i\" }\n",
            "one of identity and identity_regex",
        ),
    ];
    for (text, expected) in cases {
        let error = TrustPolicy::parse(text, false, Path::new(".")).unwrap_err();
        assert!(error.contains(expected), "{text}: {error}");
    }
}

#[test]
fn a_policy_identity_regex_must_match_the_whole_identity() {
    let text = "[[signer]]\nname = \"ci\"\n\
                sigstore = { identity_regex = \"ci@acme\\\\.example|release@acme\\\\.example\", issuer = \"i\" }\n";
    let policy = TrustPolicy::parse(text, false, Path::new(".")).unwrap();
    let VerifierSpec::Sigstore {
        identity: IdentityMatch::Regex(pattern),
        ..
    } = &policy.signers[0].spec
    else {
        panic!("{:?}", policy.signers[0].spec);
    };
    let regex = regex::Regex::new(pattern).unwrap();
    for accepted in ["ci@acme.example", "release@acme.example"] {
        assert!(regex.is_match(accepted), "{pattern} refuses {accepted}");
    }
    for refused in [
        "ci@acme.example.evil",
        "evil-ci@acme.example",
        "release@acme.example@evil",
    ] {
        assert!(!regex.is_match(refused), "{pattern} accepts {refused}");
    }
}

#[test]
fn the_mode_is_enforce_unless_the_policy_says_warn_and_another_word_is_refused() {
    let signer = "[[signer]]\nname = \"x\"\nkey = \"k\"\n";
    let read = |text: &str| TrustPolicy::parse(text, false, Path::new("."));
    assert_eq!(read(signer).unwrap().mode, PolicyMode::Enforce);
    let warn = read(&format!("mode = \"warn\"\n{signer}")).unwrap();
    assert_eq!(warn.mode, PolicyMode::Warn);
    let enforce = read(&format!("mode = \"enforce\"\n{signer}")).unwrap();
    assert_eq!(enforce.mode, PolicyMode::Enforce);
    let yaml = TrustPolicy::parse(
        "mode: warn\nsigner:\n- name: x\n  key: k\n",
        true,
        Path::new("."),
    )
    .unwrap();
    assert_eq!(yaml.mode, PolicyMode::Warn);
    let error = read(&format!("mode = \"audit\"\n{signer}")).unwrap_err();
    assert!(
        error.contains("mode 'audit' is not a mode; the modes are enforce, warn"),
        "{error}"
    );
}

mod names_of_a_model {
    use super::*;
    use test_support::{hf_cache_snapshot, HfBlobStore};

    const FILES: &[(&str, &[u8])] = &[("config.json", b"{}"), ("sub/w.bin", b"weights")];

    #[test]
    fn a_snapshot_is_named_by_its_repository_and_its_purl_wherever_it_is_entered() {
        let cache = tempfile::tempdir().unwrap();
        let snapshot = hf_cache_snapshot(
            cache.path(),
            "models--acme--chat",
            FILES,
            HfBlobStore::Repository,
        );
        let expected = ["acme/chat", "pkg:huggingface/acme/chat"];
        assert_eq!(model_names(&snapshot), expected);
        // A file of the snapshot (a link into blobs/) and a folder in it are the repository's.
        assert_eq!(model_names(&snapshot.join("config.json")), expected);
        assert_eq!(model_names(&snapshot.join("sub")), expected);
        // Reached through a link to the snapshot, and with a relative path.
        let link = cache.path().join("current");
        std::os::unix::fs::symlink(&snapshot, &link).unwrap();
        assert_eq!(model_names(&link), expected);
        assert_eq!(model_names(&snapshot.join("sub/..")), expected);

        let shared = tempfile::tempdir().unwrap();
        let no_org = hf_cache_snapshot(shared.path(), "models--gpt2", FILES, HfBlobStore::Shared);
        assert_eq!(model_names(&no_org), ["gpt2", "pkg:huggingface/gpt2"]);
    }

    #[test]
    fn anything_else_is_named_by_its_folder_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("my-model");
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join("w.bin"), b"w").unwrap();
        assert_eq!(model_names(&model), ["my-model"]);
        assert_eq!(model_names(&model.join("w.bin")), ["w.bin"]);
        // A dataset's snapshot is no model repository: no model purl for it.
        let dataset = hf_cache_snapshot(
            dir.path(),
            "datasets--acme--crawl",
            FILES,
            HfBlobStore::Repository,
        );
        assert_eq!(model_names(&dataset), [test_support::HF_REVISION]);
        // A folder laid out like a repository but named as no repository id is.
        let odd = hf_cache_snapshot(
            dir.path(),
            "models--a--b--c",
            FILES,
            HfBlobStore::Repository,
        );
        assert_eq!(model_names(&odd), [test_support::HF_REVISION]);
    }
}

mod verification {
    use std::path::PathBuf;

    use super::*;
    use crate::error::VerifyError;
    use crate::hashing::{HashSettings, Progress};
    use crate::keys::{Curve, PrivateKey};
    use crate::signing::{sign_model, CertificateSigner, KeySigner, Signer};
    use crate::verifying::VerifyOptions;
    use crate::x509::Certificate;

    /// A folder for keys, models and the policy.
    struct Bench {
        dir: tempfile::TempDir,
    }

    impl Bench {
        fn new() -> Bench {
            Bench {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        /// A new key pair; the public key is written as `<name>.pub`.
        fn key(&self, name: &str) -> KeySigner {
            let key = PrivateKey::generate(Curve::P256).unwrap();
            std::fs::write(
                self.path().join(format!("{name}.pub")),
                key.public_key().to_pem(),
            )
            .unwrap();
            KeySigner::new(key)
        }

        /// A model folder of two files.
        fn model(&self, name: &str) -> PathBuf {
            let model = self.path().join(name);
            std::fs::create_dir_all(model.join("sub")).unwrap();
            std::fs::write(model.join("weights.bin"), b"weights").unwrap();
            std::fs::write(model.join("sub/config.json"), b"{}").unwrap();
            model
        }

        fn verifier(&self, policy: &str) -> PolicyVerifier {
            PolicyVerifier::new(TrustPolicy::parse(policy, false, self.path()).unwrap()).unwrap()
        }
    }

    fn sign(model: &Path, signer: &dyn Signer) -> PathBuf {
        let signature = model.with_extension("sig");
        sign_model(
            model,
            &HashSettings::default(),
            signer,
            &signature,
            &Progress::none(),
        )
        .unwrap();
        signature
    }

    /// Flips one byte in the middle of the signature's DSSE signature.
    fn forge(signature: &Path) {
        let mut bundle = crate::bundle::Bundle::read(signature).unwrap();
        let sig = &mut bundle.envelope.signatures[0].sig;
        let middle = sig.len() / 2;
        sig[middle] ^= 0x01;
        std::fs::write(signature, bundle.to_json()).unwrap();
    }

    fn verify(verifier: &PolicyVerifier, model: &Path, signature: &Path) -> PolicyOutcome {
        verifier.verify(
            model,
            signature,
            &model_names(model),
            &VerifyOptions::default(),
            &Progress::none(),
        )
    }

    const TWO_KEYS: &str = "[[signer]]\nname = \"other\"\nkey = \"other.pub\"\n\
                            [[signer]]\nname = \"release\"\nkey = \"release.pub\"\n";

    #[test]
    fn the_first_signer_whose_signature_it_is_accepts_a_model_that_verifies() {
        let bench = Bench::new();
        let _other = bench.key("other");
        let release = bench.key("release");
        let model = bench.model("m");
        let signature = sign(&model, &release);
        let outcome = verify(&bench.verifier(TWO_KEYS), &model, &signature);
        let report = outcome.result.as_ref().unwrap();
        assert_eq!(report.resources, 2);
        assert_eq!(outcome.signer.as_deref(), Some("release"));
        assert_eq!(outcome.names, ["m"]);
        assert_eq!(outcome.mode, PolicyMode::Enforce);
        assert!(outcome.accepted() && outcome.passes());
    }

    #[test]
    fn a_signature_no_signer_of_the_policy_made_is_untrusted_with_each_signers_reason() {
        let bench = Bench::new();
        let _other = bench.key("other");
        let _release = bench.key("release");
        let stranger = bench.key("stranger");
        let model = bench.model("m");
        let signature = sign(&model, &stranger);
        let outcome = verify(&bench.verifier(TWO_KEYS), &model, &signature);
        assert_eq!(outcome.signer, None);
        assert!(!outcome.accepted() && !outcome.passes());
        let failure = outcome.result.unwrap_err();
        let PolicyFailure::Untrusted { attempts } = &failure else {
            panic!("{failure:?}");
        };
        let tried: Vec<&str> = attempts.iter().map(|a| a.signer.as_str()).collect();
        assert_eq!(tried, ["other", "release"]);
        assert!(
            attempts.iter().all(|a| !a.reason.is_empty()),
            "{attempts:?}"
        );
        let message = failure.to_string();
        assert!(
            message.starts_with("no signer of the trust policy verifies the signature (other: "),
            "{message}"
        );
        assert!(message.contains("; release: "), "{message}");
        assert_eq!(failure.kind_name(), "untrusted");
        assert!(!failure.is_input_error());
    }

    #[test]
    fn a_forged_signature_naming_a_trusted_key_is_invalid_not_untrusted() {
        let bench = Bench::new();
        let _other = bench.key("other");
        let release = bench.key("release");
        let stranger = bench.key("stranger");
        let model = bench.model("m");
        let signature = sign(&model, &release);
        forge(&signature);
        let outcome = verify(&bench.verifier(TWO_KEYS), &model, &signature);
        assert_eq!(outcome.signer, None);
        let failure = outcome.result.unwrap_err();
        let PolicyFailure::InvalidSignature { signer, reason } = &failure else {
            panic!("{failure:?}");
        };
        assert_eq!(signer, "release");
        assert!(reason.contains("signature is invalid"), "{reason}");
        assert_eq!(failure.kind_name(), "invalid-signature");
        assert!(
            failure
                .to_string()
                .starts_with("the signature is invalid: it names release of the trust policy"),
            "{failure}"
        );
        assert!(!failure.is_input_error());
        // A stranger's forged signature names no signer of the policy: still untrusted.
        let signature = sign(&model, &stranger);
        forge(&signature);
        let outcome = verify(&bench.verifier(TWO_KEYS), &model, &signature);
        assert!(
            matches!(outcome.result, Err(PolicyFailure::Untrusted { .. })),
            "{:?}",
            outcome.result
        );
    }

    #[test]
    fn a_changed_model_signed_by_a_trusted_signer_fails_with_what_changed() {
        let bench = Bench::new();
        let _other = bench.key("other");
        let release = bench.key("release");
        let model = bench.model("m");
        let signature = sign(&model, &release);
        std::fs::write(model.join("weights.bin"), b"poisoned").unwrap();
        std::fs::write(model.join("added.bin"), b"new").unwrap();
        let outcome = verify(&bench.verifier(TWO_KEYS), &model, &signature);
        assert_eq!(outcome.signer.as_deref(), Some("release"));
        let failure = outcome.result.unwrap_err();
        let PolicyFailure::Model(VerifyError::Mismatch(diff)) = &failure else {
            panic!("{failure:?}");
        };
        assert_eq!(diff.changed, ["weights.bin"]);
        assert_eq!(diff.extra, ["added.bin"]);
        assert_eq!(failure.kind_name(), "model");
        assert!(!failure.is_input_error());
    }

    #[test]
    fn a_missing_signature_is_a_signature_failure_of_the_input() {
        let bench = Bench::new();
        let _other = bench.key("other");
        let _release = bench.key("release");
        let model = bench.model("m");
        let outcome = verify(
            &bench.verifier(TWO_KEYS),
            &model,
            &bench.path().join("absent.sig"),
        );
        let failure = outcome.result.unwrap_err();
        assert!(
            matches!(failure, PolicyFailure::Signature(BundleError::Io { .. })),
            "{failure:?}"
        );
        assert!(failure.to_string().contains("absent.sig"), "{failure}");
        assert!(failure.is_input_error());
        assert_eq!(failure.kind_name(), "signature");
    }

    #[test]
    fn names_come_from_the_model_not_from_what_the_signature_calls_it() {
        let bench = Bench::new();
        let acme = bench.key("acme");
        let policy = "[[signer]]\nname = \"acme\"\nkey = \"acme.pub\"\nnames = [\"acme-*\"]\n";
        let verifier = bench.verifier(policy);
        let ours = bench.model("acme-chat");
        let signature = sign(&ours, &acme);
        assert!(verify(&verifier, &ours, &signature).accepted());
        // The same files under another name: the signature still says `acme-chat`.
        let theirs = bench.path().join("other-chat");
        std::fs::rename(&ours, &theirs).unwrap();
        let outcome = verify(&verifier, &theirs, &signature);
        let failure = outcome.result.unwrap_err();
        let PolicyFailure::NoSignerFor { names } = &failure else {
            panic!("{failure:?}");
        };
        assert_eq!(names, &["other-chat"]);
        assert_eq!(
            failure.to_string(),
            "no signer of the trust policy may sign a model named 'other-chat'"
        );
        assert!(!failure.is_input_error());
        // No names at all match no pattern either.
        let outcome = verifier.verify(
            &theirs,
            &signature,
            &[],
            &VerifyOptions::default(),
            &Progress::none(),
        );
        assert!(matches!(
            outcome.result,
            Err(PolicyFailure::NoSignerFor { .. })
        ));
    }

    #[test]
    fn a_snapshot_is_matched_by_its_repository_id_and_purl() {
        use test_support::{hf_cache_snapshot, HfBlobStore};
        let bench = Bench::new();
        let acme = bench.key("acme");
        let files: &[(&str, &[u8])] = &[("config.json", b"{}"), ("model.bin", b"weights")];
        let cache = bench.path().join("hub");
        let chat = hf_cache_snapshot(&cache, "models--acme--chat", files, HfBlobStore::Repository);
        let other = hf_cache_snapshot(&cache, "models--other--chat", files, HfBlobStore::Shared);
        // Signatures beside the cache, as a registry would ship them.
        let chat_sig = bench.path().join("chat.sig");
        let other_sig = bench.path().join("other.sig");
        for (model, signature) in [(&chat, &chat_sig), (&other, &other_sig)] {
            sign_model(
                model,
                &HashSettings::default(),
                &acme,
                signature,
                &Progress::none(),
            )
            .unwrap();
        }
        for pattern in ["acme/*", "pkg:huggingface/acme/*"] {
            let policy = format!(
                "[[signer]]\nname = \"acme\"\nkey = \"acme.pub\"\nnames = [\"{pattern}\"]\n"
            );
            let verifier = bench.verifier(&policy);
            let accepted = verify(&verifier, &chat, &chat_sig);
            assert!(accepted.accepted(), "{pattern}: {:?}", accepted.result);
            assert_eq!(accepted.names, ["acme/chat", "pkg:huggingface/acme/chat"]);
            let refused = verify(&verifier, &other, &other_sig);
            assert!(
                matches!(refused.result, Err(PolicyFailure::NoSignerFor { .. })),
                "{pattern}: {:?}",
                refused.result
            );
        }
    }

    #[test]
    fn a_signer_not_allowed_signatures_neither_signs_models_nor_needs_its_key_read() {
        let bench = Bench::new();
        let cards = bench.key("cards");
        let model = bench.model("m");
        let signature = sign(&model, &cards);
        let policy = "[[signer]]\nname = \"cards\"\nkey = \"cards.pub\"\nkinds = [\"card\"]\n\
                      [[signer]]\nname = \"provenance\"\nkey = \"absent.pub\"\nstages = [\"finetune\"]\n";
        let outcome = verify(&bench.verifier(policy), &model, &signature);
        let failure = outcome.result.unwrap_err();
        assert!(
            matches!(failure, PolicyFailure::NoModelSigner),
            "{failure:?}"
        );
        // The kinds are to blame, not the model's name.
        assert_eq!(
            failure.to_string(),
            "no signer of the trust policy may sign model signatures (their kinds/stages exclude it), so it accepts no model"
        );
        assert_eq!(failure.kind_name(), "no-signer");
        // A signer that may sign models and whose key cannot be read is named.
        let policy = TrustPolicy::parse(
            "[[signer]]\nname = \"release\"\nkey = \"absent.pub\"\n",
            false,
            bench.path(),
        )
        .unwrap();
        let error = PolicyVerifier::new(policy).unwrap_err();
        assert!(
            matches!(&error, PolicyError::Signer { signer, .. } if signer == "release"),
            "{error:?}"
        );
        assert!(error.to_string().contains("absent.pub"), "{error}");
    }

    #[test]
    fn a_warning_policy_passes_what_it_refuses_and_still_says_why() {
        let bench = Bench::new();
        let _release = bench.key("release");
        let stranger = bench.key("stranger");
        let model = bench.model("m");
        let signature = sign(&model, &stranger);
        let policy = "mode = \"warn\"\n[[signer]]\nname = \"release\"\nkey = \"release.pub\"\n";
        let outcome = verify(&bench.verifier(policy), &model, &signature);
        assert_eq!(outcome.mode, PolicyMode::Warn);
        assert!(!outcome.accepted());
        assert!(outcome.passes());
        assert!(matches!(
            outcome.result,
            Err(PolicyFailure::Untrusted { .. })
        ));
    }

    #[test]
    fn a_certificate_chain_signer_accepts_what_its_root_certifies_and_nothing_else() {
        let bench = Bench::new();
        let issue = |name: &str| {
            let dir = bench.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            let issued = test_support::certs::SigningLeaf::issue(
                &dir,
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
                "20200101000000Z",
                "20991231000000Z",
            );
            let key = PrivateKey::read_pem_file(&issued.key, None).unwrap();
            let leaf = Certificate::read_pem_file(&issued.leaf).unwrap().remove(0);
            (
                issued.root,
                CertificateSigner::new(key, leaf, Vec::new()).unwrap(),
            )
        };
        let (root, release) = issue("release");
        let (_, other) = issue("other");
        let policy = format!(
            "[[signer]]\nname = \"release\"\ncertificate_chain = [\"{}\"]\n",
            root.display()
        );
        let verifier = bench.verifier(&policy);
        let ours = bench.model("ours");
        let theirs = bench.model("theirs");
        let accepted = verify(&verifier, &ours, &sign(&ours, &release));
        assert_eq!(accepted.signer.as_deref(), Some("release"));
        assert!(accepted.accepted(), "{:?}", accepted.result);
        let refused = verify(&verifier, &theirs, &sign(&theirs, &other));
        let Err(PolicyFailure::Untrusted { attempts }) = &refused.result else {
            panic!("{:?}", refused.result);
        };
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].signer, "release");
        // A forged signature whose chain leads to the signer's root names that signer;
        // one whose chain leads elsewhere is a stranger's.
        let forged = sign(&ours, &release);
        forge(&forged);
        let invalid = verify(&verifier, &ours, &forged);
        assert!(
            matches!(&invalid.result, Err(PolicyFailure::InvalidSignature { signer, .. }) if signer == "release"),
            "{:?}",
            invalid.result
        );
        let forged = sign(&theirs, &other);
        forge(&forged);
        let stranger = verify(&verifier, &theirs, &forged);
        assert!(
            matches!(stranger.result, Err(PolicyFailure::Untrusted { .. })),
            "{:?}",
            stranger.result
        );
    }

    const SIGSTORE_IDENTITY: &str = "stefanb@us.ibm.com";
    const SIGSTORE_ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

    #[test]
    fn a_sigstore_signer_accepts_its_identitys_signature_and_refuses_another_identity() {
        // A signature model_signing 1.1.0 made on Sigstore's public instance, verified offline.
        let model = test_support::vector("model-transparency/v1.1.0-sigstore");
        let signature = model.join("model.sig");
        let trusted_root = test_support::vectors_dir().join("../trust/trusted_root.prod.json");
        let policy = |identity: &str| {
            let text = format!(
                "[[signer]]\nname = \"ibm\"\n\
                 sigstore = {{ identity = \"{identity}\", issuer = \"{SIGSTORE_ISSUER}\", trust_config = \"{}\" }}\n",
                trusted_root.display()
            );
            PolicyVerifier::new(TrustPolicy::parse(&text, false, Path::new(".")).unwrap()).unwrap()
        };
        // model_signing 1.1.0 left `ignore-me` out without recording it.
        let mut options = VerifyOptions::default();
        options.ignore.add("ignore-me").unwrap();
        let names = model_names(&model);
        let accepted = policy(SIGSTORE_IDENTITY).verify(
            &model,
            &signature,
            &names,
            &options,
            &Progress::none(),
        );
        let report = accepted.result.as_ref().unwrap();
        assert_eq!(accepted.signer.as_deref(), Some("ibm"));
        assert_eq!(
            report.signer.as_ref().map(|s| s.identity.as_str()),
            Some(SIGSTORE_IDENTITY)
        );
        let refused = policy("mallory@example.com").verify(
            &model,
            &signature,
            &names,
            &options,
            &Progress::none(),
        );
        let Err(PolicyFailure::Untrusted { attempts }) = &refused.result else {
            panic!("{:?}", refused.result);
        };
        // The refusal names who did sign.
        assert!(
            attempts[0].reason.contains(SIGSTORE_IDENTITY),
            "{attempts:?}"
        );
    }
}
