use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::*;
use crate::hashing::{HashSettings, Progress};
use crate::keys::{Curve, PrivateKey};
use crate::provenance::{self as prov, InputRef, OutputRef, Stage, StageRecord};
use crate::signing::KeySigner;

use test_support::Random;

/// A database the store-level tests run on: SQLite, and a PostgreSQL schema of the
/// test's own when the test server is there (`MODELSIGN_TEST_POSTGRES_URL`; in CI it must
/// be).
pub(super) enum Backend {
    SqliteInMemory,
    SqliteFile(tempfile::TempDir),
    Postgres(Box<test_support::PostgresSchema>),
}

/// Where the SQLite store of a test is: in memory, or in a file when the test opens it
/// again (every commit to a file waits for the disk: the tests making many stores of many
/// commits keep them in memory).
pub(super) enum SqliteIn {
    Memory,
    File,
}

impl Backend {
    /// Opens the backend's store, as `--db` would: by path or by URL (an SQLite store in
    /// memory is a new one each time).
    pub(super) fn open(&self) -> Store {
        let location = match self {
            Backend::SqliteInMemory => return Store::in_memory().unwrap(),
            Backend::SqliteFile(dir) => dir.path().join("lineage.db").display().to_string(),
            Backend::Postgres(schema) => schema.url(),
        };
        Store::open(&location).unwrap_or_else(|e| panic!("opening the store on {self}: {e}"))
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::SqliteInMemory => f.write_str("SQLite in memory"),
            Backend::SqliteFile(_) => f.write_str("SQLite"),
            Backend::Postgres(schema) => write!(f, "PostgreSQL (schema {})", schema.name()),
        }
    }
}

/// Runs `test` on each backend, each time on an empty store; a failure's output names the
/// backend it happened on.
pub(super) fn on_each_backend(sqlite: SqliteIn, test: impl Fn(&Backend)) {
    let mut backends = vec![match sqlite {
        SqliteIn::Memory => Backend::SqliteInMemory,
        SqliteIn::File => Backend::SqliteFile(tempfile::tempdir().unwrap()),
    }];
    backends.extend(
        test_support::PostgresSchema::create().map(|schema| Backend::Postgres(Box::new(schema))),
    );
    for backend in &backends {
        eprintln!("on {backend}");
        test(backend);
    }
}

/// What the store records of a provenance of `stage` made for a test.
pub(super) fn facts(
    bundle_digest: &str,
    stage: &str,
    seconds: Option<f64>,
) -> store::AttestationFacts {
    store::AttestationFacts {
        bundle_digest: bundle_digest.to_owned(),
        kind: "provenance".into(),
        stage: Some(stage.into()),
        signer: "test".into(),
        trusted_as: "test".into(),
        started: None,
        finished: None,
        seconds,
    }
}

pub(super) fn artifact(index: usize) -> NewArtifact {
    NewArtifact {
        key: format!("sha256:{index:064x}"),
        kind: if index < 3 {
            ArtifactKind::Dataset
        } else {
            ArtifactKind::Model
        },
        aliases: vec![format!("node-{index}")],
    }
}

/// A random DAG: node `i` is made (by one provenance) from some of the nodes before it,
/// each edge verified or, one time in five, claimed. Returns each node's inputs.
fn random_dag(
    store: &mut Store,
    random: &mut Random,
    nodes: usize,
) -> Vec<Vec<(usize, EdgeStatus)>> {
    let mut inputs = vec![Vec::new(); nodes];
    #[allow(clippy::needless_range_loop)] // `node` is also the node's name
    for node in 3..nodes {
        let count = 1 + random.below(3) as usize;
        let mut chosen = BTreeSet::new();
        for _ in 0..count {
            chosen.insert(random.below(node as u64) as usize);
        }
        for input in chosen {
            let status = if random.below(5) == 0 {
                EdgeStatus::Claimed
            } else {
                EdgeStatus::Verified
            };
            inputs[node].push((input, status));
        }
        let stage =
            ["finetune", "quantize", "merge", "evaluate", "data-prep"][random.below(5) as usize];
        let new = NewAttestation {
            facts: facts(&format!("sha256:{node:064x}"), stage, Some(node as f64)),
            statement: "{}".into(),
            subjects: vec![artifact(node)],
            inputs: inputs[node]
                .iter()
                .map(|&(input, status)| (artifact(input), "base-model".to_owned(), status))
                .collect(),
        };
        assert!(store.add(&new).unwrap());
    }
    inputs
}

/// Everything reachable from `start` by edges `follow` accepts, by brute force.
fn reachable(
    inputs: &[Vec<(usize, EdgeStatus)>],
    start: usize,
    follow: impl Fn(EdgeStatus) -> bool,
) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    loop {
        let before = seen.len();
        for (node, node_inputs) in inputs.iter().enumerate() {
            if node_inputs
                .iter()
                .any(|&(i, s)| follow(s) && (i == start || seen.contains(&i)))
            {
                seen.insert(node);
            }
        }
        if seen.len() == before {
            return seen;
        }
    }
}

#[test]
fn impact_on_random_dags_is_reachability_in_an_order_that_respects_every_edge() {
    for seed in 1..=60u64 {
        on_each_backend(SqliteIn::Memory, |backend| {
            impact_on_a_random_dag(seed, &mut backend.open())
        });
    }
}

fn impact_on_a_random_dag(seed: u64, store: &mut Store) {
    let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let nodes = 4 + random.below(40) as usize;
    let inputs = random_dag(store, &mut random, nodes);
    let start_index = random.below(nodes as u64 / 2) as usize;
    let Ok(start) = resolve(store, &format!("node-{start_index}")) else {
        return; // a node nothing was made from and that was made from nothing
    };
    let impact = impact(store, &start).unwrap();
    let index_of =
        |a: &Artifact| -> usize { a.aliases[0].trim_start_matches("node-").parse().unwrap() };
    let verified = reachable(&inputs, start_index, |s| s == EdgeStatus::Verified);
    let all = reachable(&inputs, start_index, |_| true);
    let listed: BTreeSet<usize> = impact.in_order().map(|a| index_of(&a.artifact)).collect();
    assert_eq!(listed, verified, "seed {seed}: the verified descendants");
    let claimed: BTreeSet<usize> = impact.claimed_only.iter().map(index_of).collect();
    let expected: BTreeSet<usize> = all.difference(&verified).copied().collect();
    assert_eq!(
        claimed, expected,
        "seed {seed}: reachable only through claims"
    );
    // Every edge between affected artifacts (claimed ones too, in a DAG) goes from a
    // lower level to a higher one, and each level is the longest chain from the start.
    let level: BTreeMap<usize, usize> = impact
        .in_order()
        .map(|a| (index_of(&a.artifact), a.level))
        .collect();
    for (&node, &at) in &level {
        let from_levels: Vec<usize> = inputs[node]
            .iter()
            .filter_map(|&(i, _)| {
                if i == start_index {
                    Some(0)
                } else {
                    level.get(&i).copied()
                }
            })
            .collect();
        let highest = from_levels.iter().max().copied();
        assert_eq!(
            Some(at),
            highest.map(|h| h + 1),
            "seed {seed}: level of node {node}"
        );
    }
    for (position, group) in impact.levels.iter().enumerate() {
        assert!(group.iter().all(|a| a.level == position + 1), "seed {seed}");
    }
}

/// A key, its signer, and a policy file trusting it (with `extra` TOML for the signer).
pub(super) struct Trust {
    _dir: tempfile::TempDir,
    pub(super) signer: KeySigner,
    pub(super) policy: TrustPolicy,
}

pub(super) fn trust(extra: &str) -> Trust {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(Curve::P256).unwrap();
    std::fs::write(dir.path().join("ci.pub"), key.public_key().to_pem()).unwrap();
    let text = format!("[[signer]]\nname = \"ci\"\nkey = \"ci.pub\"\n{extra}");
    let policy = TrustPolicy::parse(&text, false, dir.path()).unwrap();
    Trust {
        _dir: dir,
        signer: KeySigner::new(key),
        policy,
    }
}

pub(super) fn folder(root: &Path, name: &str, content: &str) -> PathBuf {
    let path = root.join(name);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("part-0"), content).unwrap();
    path
}

/// Records `stage` making `output` from `inputs` (`ROLE=REF`), signed by `signer`.
pub(super) fn record(
    signer: &dyn crate::signing::Signer,
    stage: Stage,
    output: &Path,
    inputs: &[String],
) -> PathBuf {
    let record = StageRecord {
        stage,
        outputs: vec![OutputRef {
            path: output.to_path_buf(),
            uri: None,
        }],
        inputs: inputs.iter().map(|i| InputRef::parse(i).unwrap()).collect(),
        parameters: BTreeMap::new(),
        builder_id: None,
        started: Some(prov::parse_time("2026-12-01T10:00:00Z").unwrap()),
        finished: Some(prov::parse_time("2026-12-01T11:30:00Z").unwrap()),
        allow_undigested: true,
    };
    record.check().unwrap();
    let stores = record.stores(None, None);
    let (subjects, provenance) = record
        .resolve(&[], &HashSettings::default(), &Progress::none())
        .unwrap();
    prov::sign_provenance_into(&subjects, &provenance, signer, &stores).unwrap();
    prov::default_path(output)
}

/// A finetune under `root` (folders `base` and `data` into `tuned`), recorded by `signer`:
/// its provenance file.
fn recorded_finetune(signer: &dyn crate::signing::Signer, root: &Path) -> PathBuf {
    let data = folder(root, "data", "data");
    let base = folder(root, "base", "base");
    let tuned = folder(root, "tuned", "tuned");
    record(
        signer,
        Stage::Finetune,
        &tuned,
        &[
            format!("base-model={}", base.display()),
            format!("dataset={}", data.display()),
        ],
    )
}

#[test]
fn ingest_stores_what_the_policy_accepts_once_and_nothing_of_what_it_refuses() {
    let trusted = trust("stages = [\"data-prep\", \"finetune\"]\n");
    let stranger = trust("");
    let dir = tempfile::tempdir().unwrap();
    let raw = folder(dir.path(), "raw", "raw");
    let data = folder(dir.path(), "data", "data");
    let base = folder(dir.path(), "base", "base");
    let tuned = folder(dir.path(), "tuned", "tuned");
    let quantized = folder(dir.path(), "quantized", "q");
    let input = |role: &str, p: &Path| format!("{role}={}", p.display());
    record(
        &trusted.signer,
        Stage::DataPrep,
        &data,
        &[input("dataset", &raw)],
    );
    record(
        &trusted.signer,
        Stage::Finetune,
        &tuned,
        &[
            input("base-model", &base),
            input("dataset", &data),
            "framework=pkg:pypi/torch@2.5.1".into(),
        ],
    );
    // A stage the policy does not let its signer attest, and a signer it does not know.
    record(
        &trusted.signer,
        Stage::Quantize,
        &quantized,
        &[input("base-model", &tuned)],
    );
    let strangers = folder(dir.path(), "elsewhere", "e");
    record(
        &stranger.signer,
        Stage::Convert,
        &strangers,
        &[input("base-model", &tuned)],
    );

    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let report = ingest(
            &mut store,
            &trusted.policy,
            sources(&[dir.path().to_path_buf()]).unwrap(),
        )
        .unwrap();
        assert_eq!(report.stored.len(), 2, "{report:?}");
        assert_eq!(report.refused.len(), 2, "{report:?}");
        let reasons: Vec<&str> = report.refused.iter().map(|(_, r)| r.as_str()).collect();
        assert!(
            reasons.iter().any(|r| r.contains("not of quantize")),
            "{reasons:?}"
        );
        assert!(reasons.iter().any(|r| r.contains("ci:")), "{reasons:?}");
        // raw, data, base, tuned and torch; two attestations; three edges into tuned, one into data.
        assert_eq!(store.counts().unwrap(), (5, 2, 4));
        assert!(store
            .find(&quantized.display().to_string())
            .unwrap()
            .is_empty());
        // Ingesting again stores nothing new.
        let again = ingest(
            &mut store,
            &trusted.policy,
            sources(&[dir.path().to_path_buf()]).unwrap(),
        )
        .unwrap();
        assert!(again.stored.is_empty());
        assert_eq!(again.already_stored.len(), 2);
        assert_eq!(store.counts().unwrap(), (5, 2, 4));

        // The raw dataset's impact is data, then tuned; the framework is an ancestor of tuned.
        let raw_artifact = resolve(&mut store, "raw").unwrap();
        let impact = impact(&mut store, &raw_artifact).unwrap();
        let order: Vec<(&str, usize, &str)> = impact
            .in_order()
            .map(|a| (a.artifact.label(), a.level, a.action.name()))
            .collect();
        assert_eq!(order, [("data", 1, "re-prepare"), ("tuned", 2, "retrain")]);
        assert_eq!(impact.seconds, 2.0 * 5400.0);
        let tuned_artifact = resolve(&mut store, "tuned").unwrap();
        let ancestors = ancestry(&mut store, &tuned_artifact).unwrap();
        let mut inputs: Vec<&str> = ancestors.iter().map(|l| l.input.label()).collect();
        inputs.sort_unstable();
        assert_eq!(inputs, ["base", "data", "pkg:pypi/torch@2.5.1", "raw"]);
        let torch = ancestors.iter().find(|l| l.role == "framework").unwrap();
        assert_eq!(torch.status, EdgeStatus::Claimed, "no digest: claimed");
        let chain = path(&mut store, &raw_artifact, &tuned_artifact)
            .unwrap()
            .unwrap();
        let hops: Vec<(&str, &str)> = chain
            .iter()
            .map(|l| (l.input.label(), l.output.label()))
            .collect();
        assert_eq!(hops, [("raw", "data"), ("data", "tuned")]);
        assert!(path(&mut store, &tuned_artifact, &raw_artifact)
            .unwrap()
            .is_none());
    });
}

#[test]
fn a_tampered_bundle_is_refused_and_leaves_nothing_behind() {
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let signature = recorded_finetune(&trusted.signer, dir.path());
    // The payload edited after signing: the bundle still parses, the signature fails.
    test_support::rewrite_statement(&signature, &signature, |statement| {
        statement["predicate"]["buildDefinition"]["externalParameters"]["parameters"]["seed"] =
            "7".into();
    });
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let report = ingest(
            &mut store,
            &trusted.policy,
            sources(std::slice::from_ref(&signature)).unwrap(),
        )
        .unwrap();
        assert!(report.stored.is_empty());
        let (origin, reason) = &report.refused[0];
        assert_eq!(origin, &signature.display().to_string());
        assert!(
            reason.contains("no signer of the policy accepts it"),
            "{reason}"
        );
        assert_eq!(store.counts().unwrap(), (0, 0, 0));
    });
}

#[test]
fn a_reopened_store_keeps_its_graph_and_its_schema_version() {
    on_each_backend(SqliteIn::File, |backend| {
        {
            let mut store = backend.open();
            assert_eq!(store.schema_version().unwrap(), 1);
            let new = NewAttestation {
                facts: facts("sha256:01", "finetune", None),
                statement: "{}".into(),
                subjects: vec![NewArtifact {
                    key: format!("sha256:{}", "5e".repeat(32)),
                    ..artifact(5)
                }],
                inputs: vec![(artifact(1), "dataset".into(), EdgeStatus::Verified)],
            };
            assert!(store.add(&new).unwrap());
            assert!(!store.add(&new).unwrap(), "the same bundle twice");
        }
        let mut store = backend.open();
        assert_eq!(store.schema_version().unwrap(), 1);
        assert_eq!(store.counts().unwrap(), (2, 1, 1));
        let ambiguous = resolve(&mut store, "node-9");
        assert!(matches!(
            ambiguous,
            Err(crate::error::LineageError::UnknownArtifact(_))
        ));
        let by_hex = resolve(&mut store, &"5E".repeat(32)).unwrap();
        assert_eq!(by_hex.label(), "node-5");
        // A digest as text reports shorten it resolves too, when only one artifact has it.
        let shortened = format!("{}…", &by_hex.key[..19]);
        assert_eq!(resolve(&mut store, &shortened).unwrap().id, by_hex.id);
        let unknown = resolve(&mut store, "sha256:abcdef12…");
        assert!(
            matches!(unknown, Err(crate::error::LineageError::UnknownArtifact(_))),
            "{unknown:?}"
        );
    });
}

#[test]
fn an_sqlite_store_is_created_with_its_folders_at_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/lineage.db");
    let store = Store::open(&path.display().to_string()).unwrap();
    assert_eq!(store.location(), path.display().to_string());
    assert!(path.is_file());
}

#[test]
fn a_postgres_location_never_shows_the_password() {
    for (url, shown) in [
        (
            "postgres://ci:s3cret@db.example:5432/lineage",
            "postgres://ci@db.example:5432/lineage",
        ),
        ("postgresql://ci@db/lineage", "postgresql://ci@db/lineage"),
        // Unescaped `@` and `:` in the password.
        (
            "postgres://ci:s3:c@ret@db/lineage?sslmode=disable",
            "postgres://ci@db/lineage?sslmode=disable",
        ),
        (
            "POSTGRES://ci:s3cret@db/lineage?Password=s3cret&application_name=x",
            "POSTGRES://ci@db/lineage?application_name=x",
        ),
        (
            "postgres://db/lineage?password=s3cret",
            "postgres://db/lineage",
        ),
    ] {
        assert_eq!(super::postgres::without_password(url), shown, "{url}");
    }
}

#[test]
fn a_server_that_cannot_be_reached_is_named_without_its_password() {
    // Nothing listens on port 1: the connection is refused at once.
    let error = Store::open("postgresql://ci:s3cret@127.0.0.1:1/lineage").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("postgresql://ci@127.0.0.1:1/lineage"),
        "{message}"
    );
    assert!(message.contains("error connecting to server"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

#[test]
fn a_wrong_password_is_refused_by_the_server_and_never_shown() {
    let Some(_schema) = test_support::PostgresSchema::create() else {
        return;
    };
    let server = std::env::var(test_support::database::POSTGRES_URL_VARIABLE).unwrap();
    let wrong = super::postgres::without_password(&server).replacen('@', ":not-the-password@", 1);
    let message = Store::open(&wrong).unwrap_err().to_string();
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("not-the-password"), "{message}");
}

#[test]
fn the_guac_export_gives_every_digest_a_purl_of_its_own_and_keeps_the_signed_ones() {
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let raw = folder(dir.path(), "raw", "raw");
    let data = folder(dir.path(), "data", "data");
    let tuned = folder(dir.path(), "tuned", "tuned");
    record(
        &trusted.signer,
        Stage::DataPrep,
        &data,
        &[format!("dataset={}", raw.display())],
    );
    let base = format!(
        "base-model=pkg:huggingface/org/base#sha256={}",
        "ab".repeat(32)
    );
    record(
        &trusted.signer,
        Stage::Finetune,
        &tuned,
        &[base, format!("dataset={}", data.display())],
    );
    let mut store = Store::in_memory().unwrap();
    ingest(
        &mut store,
        &trusted.policy,
        sources(&[dir.path().to_path_buf()]).unwrap(),
    )
    .unwrap();
    let out = dir.path().join("export");
    let export = export::export_guac(&mut store, &out).unwrap();
    assert_eq!(export.files.len(), 2);
    let digest = |p: &Path| {
        crate::attestation::ModelSubject::of_model(p, &HashSettings::default(), &Progress::none())
            .unwrap()
            .root_digest_string()
    };
    let hex = |p: &Path| digest(p).trim_start_matches("sha256:").to_owned();
    assert_eq!(
        export.purls[&digest(&raw)],
        format!("pkg:generic/raw?checksum=sha256:{}", hex(&raw))
    );
    assert_eq!(
        export.purls[&format!("sha256:{}", "ab".repeat(32))],
        "pkg:huggingface/org/base"
    );
    // Each file is the plain statement, the one stage's input naming the other's output.
    let statements: Vec<serde_json::Value> = export
        .files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    assert_eq!(statements[0]["_type"], "https://in-toto.io/Statement/v1");
    let prepared = statements[0]["subject"][0]["uri"].as_str().unwrap();
    let consumed = &statements[1]["predicate"]["buildDefinition"]["resolvedDependencies"];
    assert!(
        consumed
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["uri"] == prepared),
        "{consumed}"
    );
    // A folder that is not empty is refused: GUAC would ingest whatever else is there.
    let error = export::export_guac(&mut store, &out)
        .unwrap_err()
        .to_string();
    assert!(error.contains("not empty"), "{error}");
}

/// Signs `card` (YAML) for the model at `model` with `signer`, into `out`.
fn sign_card(signer: &KeySigner, model: &Path, yaml: &str, out: &Path) -> PathBuf {
    let card = crate::card::ModelCard::from_yaml(yaml, "test card").unwrap();
    let subject = crate::attestation::ModelSubject::of_model(
        model,
        &HashSettings::default(),
        &Progress::none(),
    )
    .unwrap();
    let bundle = crate::card::sign_card(&card, &subject, signer, false).unwrap();
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    bundle.write_atomic(out).unwrap();
    out.to_path_buf()
}

/// A finetune whose base model is a purl with a digest and whose dataset has a URL, and a
/// card naming the same two by purl and URL only (as a card does): the card's claims are
/// edges from the same artifacts, whichever attestation the store took in first.
#[test]
fn a_cards_claims_join_the_artifacts_the_provenance_signed_whichever_comes_first() {
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let corpus = folder(dir.path(), "corpus", "corpus");
    let tuned = folder(dir.path(), "tuned", "tuned");
    let provenance = record(
        &trusted.signer,
        Stage::Finetune,
        &tuned,
        &[
            format!(
                "base-model=pkg:huggingface/acme/base#sha256={}",
                "ab".repeat(32)
            ),
            format!(
                "dataset=https://data.example/corpus#path={}",
                corpus.display()
            ),
        ],
    );
    let card = sign_card(
        &trusted.signer,
        &tuned,
        "name: tuned\nbase_models: [acme/base]\ndatasets:\n- name: corpus\n  url: https://data.example/corpus\n",
        &dir.path().join("cards/tuned.card.sig"),
    );
    for (order, first, second) in [
        ("card first", &card, &provenance),
        ("provenance first", &provenance, &card),
    ] {
        on_each_backend(SqliteIn::Memory, |backend| {
            let mut store = backend.open();
            for bundle in [first, second] {
                let report = ingest(
                    &mut store,
                    &trusted.policy,
                    sources(std::slice::from_ref(bundle)).unwrap(),
                )
                .unwrap();
                assert_eq!(report.stored.len(), 1, "{order}: {report:?}");
            }
            let base = resolve(&mut store, "pkg:huggingface/acme/base")
                .unwrap_or_else(|e| panic!("{order}: {e}"));
            assert_eq!(base.key, format!("sha256:{}", "ab".repeat(32)), "{order}");
            let data = resolve(&mut store, "https://data.example/corpus")
                .unwrap_or_else(|e| panic!("{order}: {e}"));
            assert!(data.key.starts_with("sha256:"), "{order}: {data:?}");
            // base, corpus and tuned; one attestation each; two edges each into tuned.
            assert_eq!(store.counts().unwrap(), (3, 2, 4), "{order}");
            let tuned = resolve(&mut store, "tuned").unwrap();
            let mut edges: Vec<(String, &str, &str)> = ancestry(&mut store, &tuned)
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l.input.key.clone(),
                        l.status.name(),
                        l.attestation.facts.kind.as_str(),
                    )
                })
                .map(|(k, s, a)| (k, s, if a == "card" { "card" } else { "provenance" }))
                .collect();
            edges.sort();
            let mut expected = vec![
                (base.key.clone(), "claimed", "card"),
                (base.key.clone(), "verified", "provenance"),
                (data.key.clone(), "claimed", "card"),
                (data.key.clone(), "verified", "provenance"),
            ];
            expected.sort();
            assert_eq!(edges, expected, "{order}");
            // The poisoned corpus reaches the model once, through its verified edge.
            let impact = impact(&mut store, &data).unwrap();
            let affected: Vec<&str> = impact.in_order().map(|a| a.artifact.label()).collect();
            assert_eq!(affected, ["tuned"], "{order}");
            assert!(impact.claimed_only.is_empty(), "{order}");
        });
    }
}

/// The BOM GUAC reads names the model by the purl its provenance gave it, so that GUAC
/// joins the card to the package the provenance built.
#[test]
fn the_guac_export_names_a_cards_model_by_the_purl_its_provenance_gave_it() {
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let base = folder(dir.path(), "base", "base");
    let data = folder(dir.path(), "data", "data");
    let tuned = folder(dir.path(), "tuned", "tuned");
    let record = StageRecord {
        stage: Stage::Finetune,
        outputs: vec![OutputRef {
            path: tuned.clone(),
            uri: Some("pkg:huggingface/acme/tuned".into()),
        }],
        inputs: [
            format!("base-model={}", base.display()),
            format!("dataset={}", data.display()),
        ]
        .iter()
        .map(|i| InputRef::parse(i).unwrap())
        .collect(),
        parameters: BTreeMap::new(),
        builder_id: None,
        started: None,
        finished: None,
        allow_undigested: false,
    };
    let (subjects, provenance) = record
        .resolve(&[], &HashSettings::default(), &Progress::none())
        .unwrap();
    prov::sign_provenance_into(
        &subjects,
        &provenance,
        &trusted.signer,
        &record.stores(None, None),
    )
    .unwrap();
    sign_card(
        &trusted.signer,
        &tuned,
        "name: tuned\n",
        &dir.path().join("cards/tuned.card.sig"),
    );
    let mut store = Store::in_memory().unwrap();
    let report = ingest(
        &mut store,
        &trusted.policy,
        sources(&[dir.path().to_path_buf()]).unwrap(),
    )
    .unwrap();
    assert_eq!(report.stored.len(), 2, "{report:?}");
    let export = export::export_guac(&mut store, &dir.path().join("export")).unwrap();
    let key = resolve(&mut store, "tuned").unwrap().key;
    assert_eq!(export.purls[&key], "pkg:huggingface/acme/tuned");
    let bom_file = export
        .files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(".card.cdx.json"))
        .unwrap();
    let bom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bom_file).unwrap()).unwrap();
    assert_eq!(
        bom["metadata"]["component"]["purl"], "pkg:huggingface/acme/tuned",
        "{bom:#}"
    );
}

/// Ingesting again under a stricter policy checks every attestation again: what the new
/// policy refuses is reported refused, not "already there".
#[test]
fn a_stored_attestation_is_checked_again_against_the_policy_of_each_ingest() {
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let signature = recorded_finetune(&trusted.signer, dir.path());
    let stricter = TrustPolicy::parse(
        &format!(
            "[[signer]]\nname = \"data team\"\nkey = {:?}\nstages = [\"data-prep\"]\n",
            trusted._dir.path().join("ci.pub")
        ),
        false,
        Path::new("/"),
    )
    .unwrap();
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let first = ingest(
            &mut store,
            &trusted.policy,
            sources(std::slice::from_ref(&signature)).unwrap(),
        )
        .unwrap();
        assert_eq!(first.stored.len(), 1, "{first:?}");
        let again = ingest(
            &mut store,
            &stricter,
            sources(std::slice::from_ref(&signature)).unwrap(),
        )
        .unwrap();
        assert!(again.already_stored.is_empty(), "{again:?}");
        let (_, reason) = &again.refused[0];
        assert!(reason.contains("not of finetune"), "{reason}");
        assert!(reason.contains("stored by an earlier ingest"), "{reason}");
    });
}

/// A path given as a query's REF is digested as the store recorded it: a model signed as
/// shards is found by its path too.
#[test]
fn a_path_resolves_to_the_artifact_recorded_with_other_hashing_settings() {
    let dir = tempfile::tempdir().unwrap();
    let model = folder(dir.path(), "sharded", "weights");
    let settings = HashSettings {
        serialization: crate::hashing::Serialization::Shards { shard_size: 4 },
        ..HashSettings::default()
    };
    let subject =
        crate::attestation::ModelSubject::of_model(&model, &settings, &Progress::none()).unwrap();
    let default = crate::attestation::ModelSubject::of_model(
        &model,
        &HashSettings::default(),
        &Progress::none(),
    )
    .unwrap();
    assert_ne!(subject.root_digest, default.root_digest);
    let statement = String::from_utf8(crate::card::encode_statement(
        &crate::card::ModelCard::from_yaml("name: sharded\n", "test").unwrap(),
        &subject,
    ))
    .unwrap();
    on_each_backend(SqliteIn::Memory, |backend| {
        let mut store = backend.open();
        let new = NewAttestation {
            facts: store::AttestationFacts {
                kind: "card".into(),
                stage: None,
                ..facts("sha256:0c", "", None)
            },
            statement: statement.clone(),
            subjects: vec![NewArtifact {
                key: subject.root_digest_string(),
                kind: ArtifactKind::Model,
                aliases: vec!["sharded".into()],
            }],
            inputs: Vec::new(),
        };
        assert!(store.add(&new).unwrap());
        let found = resolve_reference(&mut store, &model.display().to_string(), &Progress::none())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.key, subject.root_digest_string());
    });
}

/// One line of a claims file that is not a bundle is refused by itself; the file's other
/// lines are taken in.
#[test]
fn a_bad_line_of_a_claims_file_is_refused_alone() {
    let trusted = trust("");
    let dir = tempfile::tempdir().unwrap();
    let raw = folder(dir.path(), "raw", "raw");
    let data = folder(dir.path(), "data", "data");
    let signed = record(
        &trusted.signer,
        Stage::DataPrep,
        &data,
        &[format!("dataset={}", raw.display())],
    );
    let claims_file = dir.path().join("claims/claims.jsonl");
    std::fs::create_dir_all(claims_file.parent().unwrap()).unwrap();
    let bundle = crate::bundle::Bundle::read(&signed).unwrap();
    crate::attestation::claims::append(&claims_file, &bundle).unwrap();
    let mut text = std::fs::read_to_string(&claims_file).unwrap();
    text.push_str("{\"not\": \"a bundle\"}\n");
    std::fs::write(&claims_file, text).unwrap();
    let mut store = Store::in_memory().unwrap();
    let report = ingest(
        &mut store,
        &trusted.policy,
        sources(std::slice::from_ref(&claims_file)).unwrap(),
    )
    .unwrap();
    let origin = claims_file.display().to_string();
    let stored: Vec<&str> = report.stored.iter().map(|(o, _, _)| o.as_str()).collect();
    assert_eq!(stored, [format!("{origin}:1")], "{report:?}");
    let refused: Vec<&str> = report.refused.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(refused, [format!("{origin}:2")], "{report:?}");
    assert!(
        report.refused[0].1.contains("not a Sigstore bundle"),
        "{report:?}"
    );
}

/// A query never creates a store: a mistyped `--db` says there is no store there.
#[test]
fn a_store_opened_for_a_query_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo/lineage.db");
    let error = Store::open_existing(&missing.display().to_string()).unwrap_err();
    assert!(
        matches!(&error, crate::error::LineageError::NoStore(at) if at == &missing.display().to_string()),
        "{error:?}"
    );
    assert!(!missing.exists() && !missing.parent().unwrap().exists());
    // A file that is not a store (here: empty) is not one either, and is left as it was.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let error = Store::open_existing(&empty.display().to_string()).unwrap_err();
    assert!(
        matches!(error, crate::error::LineageError::NoStore(_)),
        "{error:?}"
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    on_each_backend(SqliteIn::File, |backend| {
        if let Backend::Postgres(schema) = backend {
            // An empty schema on a server is no store either.
            let error = Store::open_existing(&schema.url()).unwrap_err();
            assert!(
                matches!(error, crate::error::LineageError::NoStore(_)),
                "{error:?}"
            );
        }
        drop(backend.open());
        let location = match backend {
            Backend::SqliteFile(dir) => dir.path().join("lineage.db").display().to_string(),
            Backend::Postgres(schema) => schema.url(),
            Backend::SqliteInMemory => unreachable!(),
        };
        let mut store = Store::open_existing(&location).unwrap();
        assert_eq!(store.counts().unwrap(), (0, 0, 0));
    });
}
