//! Ingest end to end with real signatures of every kind and method, claims files, YAML
//! policies, reference resolution, and what the store does when a write fails half-way or
//! its schema is newer than this modelsign.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::store::{Connection, Dialect, SqlValue};
use super::tests::{artifact, facts, folder, on_each_backend, record, trust, Backend, SqliteIn};
use super::*;
use crate::attestation::{claims, ModelSubject};
use crate::bundle::Bundle;
use crate::card::{self, ModelCard};
use crate::error::LineageError;
use crate::hashing::{HashSettings, Progress};
use crate::keys::PrivateKey;
use crate::provenance::{Role, Stage};
use crate::signing::{self, CertificateSigner};
use crate::x509::Certificate;

/// The OMS root digest of the model at `path`, as a signature of it with the default
/// settings records it.
fn root_digest(path: &Path) -> String {
    ModelSubject::of_model(path, &HashSettings::default(), &Progress::none())
        .unwrap()
        .root_digest_string()
}

fn ingest_paths(store: &mut Store, policy: &TrustPolicy, paths: &[PathBuf]) -> IngestReport {
    ingest(store, policy, sources(paths).unwrap()).unwrap()
}

/// The kinds of the attestations whose subject is `artifact`, in the order stored: what
/// `lineage who-signed` lists.
fn kinds_about(store: &mut Store, artifact: &Artifact) -> Vec<String> {
    store
        .attestations_about(artifact.id)
        .unwrap()
        .into_iter()
        .map(|a| a.facts.kind)
        .collect()
}

/// Where `backend`'s store is, for a client other than the store's.
fn location(backend: &Backend) -> String {
    match backend {
        Backend::SqliteInMemory => panic!("a store in memory cannot be reopened"),
        Backend::SqliteFile(dir) => dir.path().join("lineage.db").display().to_string(),
        Backend::Postgres(schema) => schema.url(),
    }
}

/// A connection that refuses, before it reaches the database, the `fail_at`-th execution
/// (from 1) of a statement starting with `prefix`; and, at that moment, counts the rows
/// the open transaction holds, so a test can tell that there was something to roll back.
struct FailingConnection {
    inner: Box<dyn Connection>,
    cue: Rc<RefCell<Cue>>,
}

#[derive(Default)]
struct Cue {
    prefix: &'static str,
    fail_at: Option<usize>,
    seen: usize,
    /// Artifacts, aliases, attestations and edges inside the transaction when it failed.
    rows_at_failure: Option<[i64; 4]>,
}

const INJECTED: &str = "injected failure";

impl Connection for FailingConnection {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.inner.batch(sql)
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, String> {
        let mut cue = self.cue.borrow_mut();
        if cue.fail_at.is_some() && sql.starts_with(cue.prefix) {
            cue.seen += 1;
            if cue.fail_at == Some(cue.seen) {
                let mut rows = [0; 4];
                for (count, table) in
                    rows.iter_mut()
                        .zip(["artifacts", "aliases", "attestations", "edges"])
                {
                    let result = self
                        .inner
                        .query(&format!("SELECT COUNT(*) FROM {table}"), &[])?;
                    *count = match result.first().and_then(|r| r.first()) {
                        Some(SqlValue::Int(n)) => *n,
                        other => panic!("COUNT(*) of {table}: {other:?}"),
                    };
                }
                cue.rows_at_failure = Some(rows);
                return Err(INJECTED.into());
            }
        }
        drop(cue);
        self.inner.execute(sql, params)
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, String> {
        self.inner.query(sql, params)
    }
}

#[test]
fn an_attestation_that_fails_half_way_leaves_nothing_and_can_be_stored_later() {
    on_each_backend(SqliteIn::Memory, |backend| {
        let cue = Rc::new(RefCell::new(Cue::default()));
        let shared = cue.clone();
        let mut store = backend
            .open()
            .wrap_connection(|inner| Box::new(FailingConnection { inner, cue: shared }));
        // Already stored: artifact 1 (alias node-1) made artifact 4.
        let earlier = NewAttestation {
            facts: facts("sha256:01", "finetune", None),
            statement: "{}".into(),
            subjects: vec![artifact(4)],
            inputs: vec![(artifact(1), "dataset".into(), EdgeStatus::Verified)],
        };
        assert!(store.add(&earlier).unwrap());
        let before = store.counts().unwrap();
        assert_eq!(before, (2, 1, 1));

        // Artifact 5 from the known artifact 1 (under a new alias) and a new artifact 2;
        // the second edge fails, after the attestation, artifact 5, its subject row, an
        // alias on artifact 1, artifact 2 and the first edge went in.
        let known_with_new_alias = NewArtifact {
            aliases: vec!["node-1".into(), "also-node-1".into()],
            ..artifact(1)
        };
        let new = NewAttestation {
            facts: facts("sha256:02", "merge", Some(60.0)),
            statement: "{}".into(),
            subjects: vec![artifact(5)],
            inputs: vec![
                (known_with_new_alias, "dataset".into(), EdgeStatus::Verified),
                (artifact(2), "dataset".into(), EdgeStatus::Claimed),
            ],
        };
        {
            let mut cue = cue.borrow_mut();
            cue.prefix = "INSERT INTO edges";
            cue.fail_at = Some(2);
        }
        let error = store.add(&new).unwrap_err();
        assert!(
            matches!(&error, LineageError::Store { reason, .. } if reason == INJECTED),
            "{error:?}"
        );
        // Inside the transaction: artifacts 1, 4, 5, 2; aliases node-1, node-4, node-5,
        // also-node-1, node-2; two attestations; two edges.
        assert_eq!(cue.borrow().rows_at_failure, Some([4, 5, 2, 2]));

        assert_eq!(store.counts().unwrap(), before);
        assert!(!store.has_attestation("sha256:02").unwrap());
        assert!(store.find("also-node-1").unwrap().is_empty());
        assert!(store.find("node-5").unwrap().is_empty());
        let node_1 = resolve(&mut store, "node-1").unwrap();
        assert_eq!(node_1.aliases, ["node-1"]);

        cue.borrow_mut().fail_at = None;
        assert!(store.add(&new).unwrap(), "stored once the failure is gone");
        assert_eq!(store.counts().unwrap(), (4, 2, 3));
        assert_eq!(resolve(&mut store, "also-node-1").unwrap().id, node_1.id);
        let node_5 = resolve(&mut store, "node-5").unwrap();
        let mut kinds = kinds_about(&mut store, &node_5);
        kinds.dedup();
        assert_eq!(kinds, ["provenance"]);

        // A statement the server itself refuses half-way (PostgreSQL's text holds no
        // U+0000) is rolled back as well, from the transaction the server aborted.
        if let Backend::Postgres(_) = backend {
            let refused = NewAttestation {
                facts: facts("sha256:04", "merge", None),
                statement: "{}".into(),
                subjects: vec![artifact(6)],
                inputs: vec![(
                    NewArtifact {
                        aliases: vec!["nul\u{0}here".into()],
                        ..artifact(7)
                    },
                    "dataset".into(),
                    EdgeStatus::Verified,
                )],
            };
            let error = store.add(&refused).unwrap_err().to_string();
            assert!(error.contains("0x00"), "{error}");
            assert_eq!(store.counts().unwrap(), (4, 2, 3));
            assert!(store.find("node-6").unwrap().is_empty());
            assert!(store.find("node-7").unwrap().is_empty());
        }
    });
}

/// A model `tuned` (with `data` and `raw` beside it) signed three ways by `signer`: its OMS
/// signature, its card, and the provenance of the finetune that made it from `data`.
struct SignedModel {
    dir: tempfile::TempDir,
    tuned: PathBuf,
    data: PathBuf,
    signature: PathBuf,
    card: PathBuf,
    provenance: PathBuf,
}

fn signed_model(signer: &dyn signing::Signer) -> SignedModel {
    let dir = tempfile::tempdir().unwrap();
    let data = folder(dir.path(), "data", "data");
    let base = folder(dir.path(), "base", "base");
    let tuned = folder(dir.path(), "tuned", "tuned");
    let provenance = record(
        signer,
        Stage::Finetune,
        &tuned,
        &[
            format!("base-model={}", base.display()),
            format!("dataset={}", data.display()),
        ],
    );
    let signatures = dir.path().join("signatures");
    std::fs::create_dir(&signatures).unwrap();
    let signature = signatures.join("tuned.sig");
    signing::sign_model(
        &tuned,
        &HashSettings::default(),
        signer,
        &signature,
        &Progress::none(),
    )
    .unwrap();
    let model_card = ModelCard {
        name: "tuned".into(),
        base_models: vec!["acme/base".into()],
        datasets: vec![
            card::Dataset {
                name: "acme/data".into(),
                role: Some("training".into()),
                digest: Some(root_digest(&data)),
                url: None,
            },
            card::Dataset {
                name: "acme/eval".into(),
                role: Some("evaluation".into()),
                digest: None,
                url: Some("https://data.example/eval".into()),
            },
        ],
        ..ModelCard::default()
    };
    let subject =
        ModelSubject::of_model(&tuned, &HashSettings::default(), &Progress::none()).unwrap();
    let card = signatures.join("tuned-card.sig");
    card::sign_card(&model_card, &subject, signer, false)
        .unwrap()
        .write_atomic(&card)
        .unwrap();
    SignedModel {
        dir,
        tuned,
        data,
        signature,
        card,
        provenance,
    }
}

#[test]
fn a_model_signature_a_card_and_a_provenance_each_make_the_model_their_subject() {
    let trusted = trust("");
    let model = signed_model(&trusted.signer);
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let report = ingest_paths(
            &mut store,
            &trusted.policy,
            &[
                model.signature.clone(),
                model.card.clone(),
                model.provenance.clone(),
            ],
        );
        assert!(report.refused.is_empty(), "{report:?}");
        let stored: Vec<(&str, &str)> = report
            .stored
            .iter()
            .map(|(_, kind, signer)| (*kind, signer.as_str()))
            .collect();
        assert_eq!(
            stored,
            [("signature", "ci"), ("card", "ci"), ("provenance", "ci")]
        );

        let tuned = resolve(&mut store, &root_digest(&model.tuned)).unwrap();
        assert_eq!(tuned.kind, ArtifactKind::Model);
        assert_eq!(tuned.label(), "tuned");
        let about = store.attestations_about(tuned.id).unwrap();
        let kinds: Vec<&str> = about.iter().map(|a| a.facts.kind.as_str()).collect();
        assert_eq!(kinds, ["signature", "card", "provenance"]);
        for attestation in &about {
            assert_eq!(attestation.facts.trusted_as, "ci");
            assert!(
                attestation.facts.signer.starts_with("key "),
                "{:?}",
                attestation.facts
            );
        }
        let provenance = &about[2].facts;
        assert_eq!(provenance.stage.as_deref(), Some("finetune"));
        assert_eq!(provenance.seconds, Some(5400.0));
        assert_eq!(about[0].facts.stage, None);

        // The provenance's input is verified; the card's claims are claimed.
        let links = ancestry(&mut store, &tuned).unwrap();
        let mut edges: Vec<(&str, &str, EdgeStatus)> = links
            .iter()
            .map(|l| (l.attestation.facts.kind.as_str(), l.role.as_str(), l.status))
            .collect();
        edges.sort_unstable();
        assert_eq!(
            edges,
            [
                ("card", "base-model", EdgeStatus::Claimed),
                ("card", "dataset", EdgeStatus::Claimed),
                ("card", "dataset", EdgeStatus::Claimed),
                ("provenance", "base-model", EdgeStatus::Verified),
                ("provenance", "dataset", EdgeStatus::Verified),
            ]
        );
        let data = root_digest(&model.data);
        assert!(links.iter().all(|l| l.output.id == tuned.id));
        let into_tuned_from_data: Vec<(&str, EdgeStatus)> = links
            .iter()
            .filter(|l| l.input.key == data)
            .map(|l| (l.attestation.facts.kind.as_str(), l.status))
            .collect();
        assert!(
            into_tuned_from_data.contains(&("provenance", EdgeStatus::Verified)),
            "{into_tuned_from_data:?}"
        );
        let base = links
            .iter()
            .find(|l| l.role == "base-model" && l.attestation.facts.kind == "card")
            .unwrap();
        assert!(
            base.input.aliases.iter().any(|a| a == "acme/base"),
            "{:?}",
            base.input
        );
    });
}

#[test]
fn a_claims_file_is_ingested_line_by_line_alone_or_in_its_folder() {
    let trusted = trust("");
    let model = signed_model(&trusted.signer);
    let claims_dir = model.dir.path().join("published");
    std::fs::create_dir(&claims_dir).unwrap();
    let file = claims_dir.join(claims::FILE_NAME);
    for bundle in [&model.signature, &model.card] {
        claims::append(&file, &Bundle::read(bundle).unwrap()).unwrap();
    }
    let origins = [
        format!("{}:1", file.display()),
        format!("{}:2", file.display()),
    ];
    for given in [&file, &claims_dir] {
        on_each_backend(SqliteIn::Memory, |backend| {
            let mut store = backend.open();
            let report = ingest_paths(&mut store, &trusted.policy, std::slice::from_ref(given));
            let stored: Vec<(&str, &str)> = report
                .stored
                .iter()
                .map(|(origin, kind, _)| (origin.as_str(), *kind))
                .collect();
            assert_eq!(
                stored,
                [
                    (origins[0].as_str(), "signature"),
                    (origins[1].as_str(), "card")
                ],
                "{}",
                given.display()
            );
            let tuned = resolve(&mut store, &root_digest(&model.tuned)).unwrap();
            assert_eq!(kinds_about(&mut store, &tuned), ["signature", "card"]);
            // The same bundles as files are the same attestations.
            let again = ingest_paths(
                &mut store,
                &trusted.policy,
                &[model.signature.clone(), model.card.clone(), file.clone()],
            );
            assert!(again.stored.is_empty(), "{again:?}");
            assert_eq!(
                again.already_stored,
                [
                    model.signature.display().to_string(),
                    model.card.display().to_string(),
                    origins[0].clone(),
                    origins[1].clone(),
                ]
            );
        });
    }
}

#[test]
fn a_yaml_policy_file_decides_ingest_as_its_toml_twin_would() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(crate::keys::Curve::P256).unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/data.pub"), key.public_key().to_pem()).unwrap();
    let signer = signing::KeySigner::new(key);
    let raw = folder(dir.path(), "raw", "raw");
    let prepared = folder(dir.path(), "prepared", "prepared");
    let tuned = folder(dir.path(), "tuned", "tuned");
    record(
        &signer,
        Stage::DataPrep,
        &prepared,
        &[format!("dataset={}", raw.display())],
    );
    record(
        &signer,
        Stage::Finetune,
        &tuned,
        &[
            "base-model=pkg:huggingface/acme/base@0123456789abcdef0123456789abcdef01234567".into(),
            format!("dataset={}", prepared.display()),
        ],
    );
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    for name in ["trust.yaml", "trust.YML"] {
        let path = policies.join(name);
        std::fs::write(
            &path,
            "# The data team signs data preparation only.\n\
             signer:\n  - name: data team\n    key: ../keys/data.pub\n    \
             kinds: [provenance]\n    stages: [data-prep]\n    names: ['prep*']\n",
        )
        .unwrap();
        let policy = TrustPolicy::read(&path).unwrap();
        on_each_backend(SqliteIn::Memory, |backend| {
            let mut store = backend.open();
            let report = ingest_paths(&mut store, &policy, &[prepared.clone(), tuned.clone()]);
            let stored: Vec<(&str, &str)> = report
                .stored
                .iter()
                .map(|(_, kind, signer)| (*kind, signer.as_str()))
                .collect();
            assert_eq!(stored, [("provenance", "data team")], "{name}");
            assert_eq!(report.refused.len(), 1, "{name}: {report:?}");
            let (origin, reason) = &report.refused[0];
            assert!(origin.starts_with(&tuned.display().to_string()), "{origin}");
            assert!(
                reason.contains("data-prep only, not of finetune"),
                "{reason}"
            );
            assert_eq!(store.counts().unwrap(), (2, 1, 1), "{name}");
            let made = resolve(&mut store, "prepared").unwrap();
            assert_eq!(made.key, root_digest(&prepared));
            assert_eq!(made.kind, ArtifactKind::Dataset);
        });
    }
    // A YAML mistake names the file it is in.
    let broken = policies.join("broken.yaml");
    std::fs::write(
        &broken,
        "signer:\n  - name: x\n    key: k\n    stage: [finetune]\n",
    )
    .unwrap();
    let error = TrustPolicy::read(&broken).unwrap_err().to_string();
    assert!(error.contains("broken.yaml"), "{error}");
    assert!(error.contains("unknown field"), "{error}");
}

/// A signing certificate under a root of its own, and a signer with it.
struct Chain {
    _dir: tempfile::TempDir,
    root: PathBuf,
    signer: CertificateSigner,
}

fn chain() -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let issued = test_support::certs::SigningLeaf::issue(
        dir.path(),
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
        "20200101000000Z",
        "20991231000000Z",
    );
    let key = PrivateKey::read_pem_file(&issued.key, None).unwrap();
    let leaf = Certificate::read_pem_file(&issued.leaf).unwrap().remove(0);
    Chain {
        root: issued.root,
        signer: CertificateSigner::new(key, leaf, Vec::new()).unwrap(),
        _dir: dir,
    }
}

#[test]
fn a_certificate_chain_signer_accepts_what_its_root_certifies_and_nothing_else() {
    let release = chain();
    let other = chain();
    let dir = tempfile::tempdir().unwrap();
    let base = folder(dir.path(), "base", "base");
    let ours = folder(dir.path(), "ours", "ours");
    let theirs = folder(dir.path(), "theirs", "theirs");
    let input = [format!("base-model={}", base.display())];
    let accepted = record(&release.signer, Stage::Quantize, &ours, &input);
    let refused = record(&other.signer, Stage::Quantize, &theirs, &input);
    let text = format!(
        "[[signer]]\nname = \"release\"\ncertificate_chain = [\"{}\"]\n",
        release.root.display()
    );
    let policy = TrustPolicy::parse(&text, false, dir.path()).unwrap();
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let report = ingest_paths(&mut store, &policy, &[accepted.clone(), refused.clone()]);
        let stored: Vec<(&str, &str, &str)> = report
            .stored
            .iter()
            .map(|(origin, kind, signer)| (origin.as_str(), *kind, signer.as_str()))
            .collect();
        assert_eq!(
            stored,
            [(
                accepted.display().to_string().as_str(),
                "provenance",
                "release"
            )]
        );
        assert_eq!(report.refused.len(), 1, "{report:?}");
        let (origin, reason) = &report.refused[0];
        assert_eq!(origin, &refused.display().to_string());
        assert!(reason.contains("release: "), "{reason}");
        let quantized = resolve(&mut store, &root_digest(&ours)).unwrap();
        assert_eq!(kinds_about(&mut store, &quantized), ["provenance"]);
        assert!(store.find(&root_digest(&theirs)).unwrap().is_empty());
        assert_eq!(store.counts().unwrap(), (2, 1, 1));
    });
}

const SIGSTORE_IDENTITY: &str = "stefanb@us.ibm.com";
const SIGSTORE_ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn sigstore_policy(identity: &str, issuer: &str) -> TrustPolicy {
    let trusted_root = test_support::vectors_dir().join("../trust/trusted_root.prod.json");
    let text = format!(
        "[[signer]]\nname = \"ibm\"\nkinds = [\"signature\"]\n\
         sigstore = {{ identity = \"{identity}\", issuer = \"{issuer}\", trust_config = \"{}\" }}\n",
        trusted_root.display()
    );
    TrustPolicy::parse(&text, false, Path::new(".")).unwrap()
}

#[test]
fn a_sigstore_signer_accepts_its_identitys_signature_and_refuses_another_identity() {
    // A signature model_signing 1.1.0 made on Sigstore's public instance, verified offline.
    let model = test_support::vector("model-transparency/v1.1.0-sigstore");
    let signature = model.join("model.sig");
    // model_signing 1.1.0 left `ignore-me` out without recording it.
    let mut settings = HashSettings::default();
    settings.walk.ignore.add("ignore-me").unwrap();
    let digest = ModelSubject::of_model(&model, &settings, &Progress::none())
        .unwrap()
        .root_digest_string();
    let accepting = sigstore_policy(SIGSTORE_IDENTITY, SIGSTORE_ISSUER);
    let other_identity = sigstore_policy("mallory@example.com", SIGSTORE_ISSUER);
    let other_issuer = sigstore_policy(SIGSTORE_IDENTITY, "https://accounts.google.com");
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        for (policy, expected) in [
            (&other_identity, SIGSTORE_IDENTITY),
            (&other_issuer, SIGSTORE_ISSUER),
        ] {
            let report = ingest_paths(&mut store, policy, std::slice::from_ref(&signature));
            assert!(report.stored.is_empty(), "{report:?}");
            let (_, reason) = &report.refused[0];
            assert!(
                reason.starts_with("no signer of the policy accepts it (ibm: "),
                "{reason}"
            );
            // The refusal names who did sign.
            assert!(reason.contains(expected), "{reason}");
            assert_eq!(store.counts().unwrap(), (0, 0, 0));
        }
        let report = ingest_paths(&mut store, &accepting, std::slice::from_ref(&signature));
        assert_eq!(report.stored.len(), 1, "{report:?}");
        assert_eq!(report.stored[0].1, "signature");
        let signed = resolve(&mut store, &digest).unwrap();
        assert_eq!(signed.kind, ArtifactKind::Model);
        let about = store.attestations_about(signed.id).unwrap();
        assert_eq!(about.len(), 1);
        assert_eq!(about[0].facts.kind, "signature");
        assert_eq!(about[0].facts.trusted_as, "ibm");
        assert_eq!(
            about[0].facts.signer,
            format!("{SIGSTORE_IDENTITY} ({SIGSTORE_ISSUER})")
        );
    });
}

#[test]
fn a_reference_resolves_by_purl_by_commit_and_by_a_digests_first_digits() {
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let crawl = folder(dir.path(), "crawl", "crawl");
    let base = folder(dir.path(), "base", "base");
    let tuned = folder(dir.path(), "tuned", "tuned");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let code = format!("git+https://git.example/acme/train@{commit}");
    let crawl_purl = "pkg:huggingface/datasets/acme/crawl";
    record(
        &trusted.signer,
        Stage::Finetune,
        &tuned,
        &[
            format!("dataset={crawl_purl}#path={}", crawl.display()),
            format!("code={code}"),
            format!("base-model={}", base.display()),
            "framework=pkg:pypi/torch@2.5.1".into(),
        ],
    );
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let report = ingest_paths(&mut store, &trusted.policy, &[dir.path().to_path_buf()]);
        assert_eq!(report.stored.len(), 1, "{report:?}");

        let crawl_digest = root_digest(&crawl);
        let by_purl = resolve(&mut store, crawl_purl).unwrap();
        assert_eq!(by_purl.key, crawl_digest);
        assert_eq!(by_purl.kind, ArtifactKind::Dataset);
        let torch = resolve(&mut store, "pkg:pypi/torch@2.5.1").unwrap();
        assert_eq!(torch.key, "uri:pkg:pypi/torch@2.5.1");
        assert_eq!(torch.kind, ArtifactKind::Other(Role::Framework));

        let by_commit = resolve(&mut store, &format!("gitCommit:{commit}")).unwrap();
        assert_eq!(by_commit.key, format!("gitCommit:{commit}"));
        assert_eq!(by_commit.kind, ArtifactKind::Other(Role::Code));
        assert_eq!(resolve(&mut store, &code).unwrap().id, by_commit.id);
        let short_commit = format!("gitCommit:{}", &commit[..12]);
        assert_eq!(resolve(&mut store, &short_commit).unwrap().id, by_commit.id);
        let short_digest = &crawl_digest[..("sha256:".len() + 12)];
        assert_eq!(resolve(&mut store, short_digest).unwrap().id, by_purl.id);

        // The commit's impact is the model trained with it.
        let affected: Vec<String> = impact(&mut store, &by_commit)
            .unwrap()
            .in_order()
            .map(|a| a.artifact.key.clone())
            .collect();
        assert_eq!(affected, [root_digest(&tuned)]);

        // Two digests sharing their first twelve digits: the prefix names both.
        let shared = "abcdef012345";
        let twin = |tail: char| NewArtifact {
            key: format!("sha256:{shared}{}", tail.to_string().repeat(52)),
            kind: ArtifactKind::Model,
            aliases: Vec::new(),
        };
        assert!(store
            .add(&NewAttestation {
                facts: facts("sha256:03", "merge", None),
                statement: "{}".into(),
                subjects: vec![twin('1')],
                inputs: vec![(twin('2'), "base-model".into(), EdgeStatus::Verified)],
            })
            .unwrap());
        let ambiguous = resolve(&mut store, &format!("sha256:{shared}"));
        assert!(
            matches!(&ambiguous, Err(LineageError::AmbiguousArtifact { candidates, .. }) if candidates.len() == 2),
            "{ambiguous:?}"
        );
        let one = resolve(&mut store, &format!("sha256:{shared}1")).unwrap();
        assert_eq!(one.key, twin('1').key);
        assert!(matches!(
            resolve(&mut store, "gitCommit:fedcba987654"),
            Err(LineageError::UnknownArtifact(_))
        ));
    });
}

#[test]
fn a_store_whose_schema_is_newer_than_this_modelsign_is_refused() {
    on_each_backend(SqliteIn::File, |backend| {
        let location = location(backend);
        assert_eq!(backend.open().schema_version().unwrap(), 1);
        // A newer modelsign's migration, as another client would have recorded it.
        let newer = "INSERT INTO schema_version (version) VALUES (99)";
        match backend {
            Backend::Postgres(_) => {
                let mut client = ::postgres::Client::connect(&location, ::postgres::NoTls).unwrap();
                client.batch_execute(newer).unwrap();
            }
            _ => {
                let connection = rusqlite::Connection::open(&location).unwrap();
                connection.execute_batch(newer).unwrap();
            }
        }
        let error = Store::open(&location).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("its schema is version 99, newer than this modelsign knows (1)"),
            "{message}"
        );
        assert!(matches!(error, LineageError::Store { .. }), "{error:?}");
        // Refusing it changed nothing: it is refused again.
        let again = Store::open(&location).unwrap_err().to_string();
        assert!(again.contains("newer than this modelsign knows"), "{again}");
    });
}

/// PostgreSQL's text cannot hold U+0000, which JSON can carry (`\u0000`): such an
/// attestation once failed `Store::add` there and stopped the whole ingest, while SQLite
/// stored it. It is refused with its reason on every backend, and the rest is ingested.
#[test]
fn a_verified_attestation_with_a_nul_in_a_name_is_refused_alike_on_every_backend() {
    // JSON may carry U+0000 (`\u0000`); SQLite stores it in text, PostgreSQL refuses it.
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let base = folder(dir.path(), "base", "base");
    let first = folder(dir.path(), "a-first", "first");
    let second = folder(dir.path(), "b-second", "second");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    record(
        &trusted.signer,
        Stage::Quantize,
        &first,
        &[
            format!("base-model={}", base.display()),
            format!("code=git+https://git.example/acme/tr\u{0}ain@{commit}"),
        ],
    );
    record(
        &trusted.signer,
        Stage::Quantize,
        &second,
        &[format!("base-model={}", base.display())],
    );
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let report = ingest(
            &mut store,
            &trusted.policy,
            sources(&[dir.path().to_path_buf()]).unwrap(),
        )
        .unwrap_or_else(|e| panic!("one attestation stopped the whole ingest: {e}"));
        assert_eq!(report.stored.len(), 1, "{report:?}");
        assert!(report.stored[0].0.contains("b-second"), "{report:?}");
        assert_eq!(report.refused.len(), 1, "{report:?}");
        let (origin, reason) = &report.refused[0];
        assert!(origin.contains("a-first"), "{report:?}");
        assert!(reason.contains("U+0000"), "{reason}");
        assert!(
            resolve(&mut store, &root_digest(&second)).is_ok(),
            "{report:?}"
        );
        assert!(resolve(&mut store, &root_digest(&first)).is_err());
    });
}
