//! The lineage graph end to end: a pipeline recorded with `provenance record` (two signers,
//! one of them limited by the trust policy to data preparation), ingested with `lineage
//! ingest`, and asked `impact`, `show`, `who-signed`, `path` and `graph`. Dataset A's
//! impact lists exactly what descends from A, level by level, and nothing that descends
//! only from dataset B.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use test_support::{assert_ok, explain, text, PostgresSchema};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null());
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("run modelsign")
}

/// Where the `lineage` commands of a test keep their store: `lineage.db` in the test's
/// folder, or a PostgreSQL schema of the test's own, named by a URL whose password is in
/// `PGPASSWORD` (as a user keeps it out of the process list).
struct Db {
    location: String,
    password: Option<String>,
    _schema: Option<PostgresSchema>,
}

impl Db {
    fn sqlite() -> Db {
        Db {
            location: "lineage.db".into(),
            password: None,
            _schema: None,
        }
    }

    /// `None` when no PostgreSQL server is given, outside CI (see [`PostgresSchema::create`]).
    fn postgres() -> Option<Db> {
        let schema = PostgresSchema::create()?;
        let (location, password) = schema.url_and_password();
        Some(Db {
            location,
            password,
            _schema: Some(schema),
        })
    }

    /// Runs `modelsign lineage ARGS --db LOCATION`.
    fn lineage(&self, dir: &Path, args: &[&str]) -> Output {
        let mut all = vec!["lineage"];
        all.extend_from_slice(args);
        all.extend(["--db", self.location.as_str()]);
        let mut command = command(dir, &all);
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        command.output().expect("run modelsign")
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", explain(out)))
}

/// The README's walkthrough is what `scripts/lineage-demo.sh` prints: the script builds
/// the pipeline, and the impact it reports (and the README shows) is the crawl's descendants
/// in order, without the adapter and the instructions that never touched it.
#[test]
fn the_readme_walkthrough_is_what_the_demo_script_prints() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("demo");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lineage-demo.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&work)
        .env("MODELSIGN", BIN)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_ok(&out);
    let printed = String::from_utf8_lossy(&out.stdout);
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    for line in [
        "Ingest succeeded: 7 stored, 0 already there, 0 refused; the store lineage.db holds 12 artifacts, 7 attestations and 11 edges",
        "5 artifacts to rebuild in 5 levels, recorded stage time 67h 30m",
    ] {
        assert!(printed.contains(line), "the script no longer prints {line:?}:\n{printed}");
        assert!(readme.contains(line), "the README no longer shows {line:?}");
    }
    let report = json(&run(
        &work,
        &[
            "lineage",
            "impact",
            "./pipeline/web-crawl",
            "--db",
            "lineage.db",
            "--json",
        ],
    ));
    assert_eq!(
        levels(&report),
        [
            owned(&[("crawl-clean", "re-prepare")]),
            owned(&[("base-7b", "retrain")]),
            owned(&[("chat-7b", "retrain")]),
            owned(&[("chat-7b-q4", "re-derive")]),
            owned(&[("eval.json", "re-evaluate")]),
        ]
    );
}

/// A query or an export of a mistyped `--db` says there is no store there, exits 2, and
/// leaves no empty store behind.
#[test]
fn a_query_of_a_store_that_is_not_there_says_so_and_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let db = Db {
        location: "typo/lineage.db".into(),
        password: None,
        _schema: None,
    };
    for args in [
        &["impact", "sha256:0123456789ab"][..],
        &["show", "some-model"],
        &["who-signed", "some-model"],
        &["path", "a", "b"],
        &["export", "--guac", "out"],
    ] {
        let out = db.lineage(dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", explain(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("there is no lineage store at typo/lineage.db"),
            "{args:?}: {}",
            explain(&out)
        );
        assert!(!dir.join("typo").exists(), "{args:?}");
        assert!(!dir.join("out").exists(), "{args:?}");
    }
}

/// One stage: its name, the output it writes, its inputs, which key signs it, and how
/// long it ran (minutes).
struct Stage {
    stage: &'static str,
    output: &'static str,
    inputs: &'static [&'static str],
    signer: &'static str,
    minutes: u32,
}

const BASE_ELSEWHERE: &str = "base-model=pkg:huggingface/other/base#sha256=1111111111111111111111111111111111111111111111111111111111111111";

/// Dataset A and dataset B, each prepared by the data team, a model pretrained on A's,
/// finetuned on B's, quantized, an adapter on B's over a base from elsewhere, a merge of
/// both branches, and its evaluation.
const PIPELINE: &[Stage] = &[
    Stage {
        stage: "data-prep",
        output: "a-prepared",
        inputs: &["dataset=./dataset-a"],
        signer: "data",
        minutes: 30,
    },
    Stage {
        stage: "data-prep",
        output: "b-prepared",
        inputs: &["dataset=./dataset-b"],
        signer: "data",
        minutes: 20,
    },
    Stage {
        stage: "pretrain",
        output: "base",
        inputs: &["dataset=./a-prepared"],
        signer: "train",
        minutes: 600,
    },
    Stage {
        stage: "finetune",
        output: "chat",
        inputs: &["base-model=./base", "dataset=./b-prepared"],
        signer: "train",
        minutes: 120,
    },
    Stage {
        stage: "quantize",
        output: "chat-q4",
        inputs: &["base-model=./chat"],
        signer: "train",
        minutes: 10,
    },
    Stage {
        stage: "adapter",
        output: "b-lora",
        inputs: &[BASE_ELSEWHERE, "dataset=./b-prepared"],
        signer: "train",
        minutes: 45,
    },
    Stage {
        stage: "merge",
        output: "merged",
        inputs: &["base-model=./chat-q4", "base-model=./b-lora"],
        signer: "train",
        minutes: 5,
    },
    Stage {
        stage: "evaluate",
        output: "results.json",
        inputs: &["base-model=./merged", "eval-set=./dataset-b"],
        signer: "train",
        minutes: 15,
    },
];

fn write(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    fs::create_dir_all(&path).unwrap();
    fs::write(path.join("part-0.jsonl"), content).unwrap();
}

/// Builds the pipeline in `dir`: datasets, each stage's output, each stage recorded.
fn build(dir: &Path) {
    for key in ["data", "train"] {
        let key_path = dir.join(format!("{key}.pem"));
        assert_ok(&run(
            dir,
            &[
                "key",
                "generate",
                "--private-key",
                text(&key_path),
                "--quiet",
            ],
        ));
    }
    write(dir, "dataset-a", "{\"text\": \"from A\"}\n");
    write(dir, "dataset-b", "{\"text\": \"from B\"}\n");
    for (index, stage) in PIPELINE.iter().enumerate() {
        if stage.output.ends_with(".json") {
            fs::write(
                dir.join(stage.output),
                r#"[{"metric": "accuracy", "value": 0.8, "dataset": "b", "split": "test"}]"#,
            )
            .unwrap();
        } else {
            write(dir, stage.output, &format!("weights of {}", stage.output));
        }
        let started = format!("2026-11-{:02}T08:00:00Z", index + 1);
        let finished = format!(
            "2026-11-{:02}T{:02}:{:02}:00Z",
            index + 1,
            8 + stage.minutes / 60,
            stage.minutes % 60
        );
        let key = format!("{}.pem", stage.signer);
        let mut args = vec![
            "provenance",
            "record",
            "key",
            "--private-key",
            &key,
            "--stage",
            stage.stage,
            "--output",
            stage.output,
            "--started",
            &started,
            "--finished",
            &finished,
            "--quiet",
        ];
        for input in stage.inputs {
            args.extend(["--input", input]);
        }
        assert_ok(&run(dir, &args));
    }
}

/// A policy trusting the data team for data preparation only, and the training team.
fn policy(dir: &Path) -> PathBuf {
    let path = dir.join("trust.toml");
    fs::write(
        &path,
        "[[signer]]\nname = \"data team\"\nkey = \"data.pub\"\nstages = [\"data-prep\"]\n\n\
         [[signer]]\nname = \"training\"\nkey = \"train.pub\"\nkinds = [\"provenance\"]\n",
    )
    .unwrap();
    path
}

fn ingest(dir: &Path, db: &Db, paths: &[&str]) -> Output {
    let mut args = vec!["ingest", "--policy", "trust.toml", "--json"];
    args.extend_from_slice(paths);
    db.lineage(dir, &args)
}

fn query(dir: &Path, db: &Db, args: &[&str]) -> Output {
    db.lineage(dir, args)
}

/// The impact's levels: each artifact's label and action, level by level.
fn levels(report: &Value) -> Vec<Vec<(String, String)>> {
    report["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|level| {
            level
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        a["artifact"]["label"].as_str().unwrap().to_owned(),
                        a["action"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn a_poisoned_dataset_lists_exactly_its_descendants_in_retraining_order() {
    a_poisoned_datasets_descendants_in_retraining_order(&Db::sqlite());
}

#[test]
fn a_poisoned_dataset_lists_exactly_its_descendants_in_retraining_order_on_postgres() {
    if let Some(db) = Db::postgres() {
        a_poisoned_datasets_descendants_in_retraining_order(&db);
    }
}

fn a_poisoned_datasets_descendants_in_retraining_order(db: &Db) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    build(dir);
    policy(dir);
    let out = ingest(dir, db, &["."]);
    assert_ok(&out);
    let report = json(&out);
    assert_eq!(
        report["stored"].as_array().unwrap().len(),
        PIPELINE.len(),
        "{report}"
    );
    assert_eq!(report["refused"], serde_json::json!([]));
    assert_eq!(report["ok"], true, "{report}");
    // The store the report names is the one given (a URL without its password).
    assert_eq!(report["store"], db.location.as_str(), "{report}");

    let out = query(dir, db, &["impact", "./dataset-a", "--json"]);
    assert_ok(&out);
    let impact = json(&out);
    assert_eq!(
        levels(&impact),
        [
            owned(&[("a-prepared", "re-prepare")]),
            owned(&[("base", "retrain")]),
            owned(&[("chat", "retrain")]),
            owned(&[("chat-q4", "re-derive")]),
            owned(&[("merged", "re-derive")]),
            owned(&[("results.json", "re-evaluate")]),
        ]
    );
    // The stages to rerun, summed: 30 + 600 + 120 + 10 + 5 + 15 minutes.
    assert_eq!(impact["seconds"], 780.0 * 60.0);
    assert_eq!(impact["claimed_only"], serde_json::json!([]));

    // Dataset B reaches its own branch and the shared one, never what only A made.
    let out = query(dir, db, &["impact", "./dataset-b", "--format", "json"]);
    assert_ok(&out);
    let labels: Vec<String> = levels(&json(&out))
        .into_iter()
        .flatten()
        .map(|(l, _)| l)
        .collect();
    for only_a in ["a-prepared", "base"] {
        assert!(!labels.iter().any(|l| l == only_a), "{labels:?}");
    }
    for from_b in [
        "b-prepared",
        "b-lora",
        "chat",
        "chat-q4",
        "merged",
        "results.json",
    ] {
        assert!(labels.iter().any(|l| l == from_b), "{from_b}: {labels:?}");
    }
    // The text report reads in the same order.
    let out = query(dir, db, &["impact", "./dataset-a"]);
    assert_ok(&out);
    let text_report = String::from_utf8_lossy(&out.stdout);
    let positions: Vec<usize> = [
        "a-prepared",
        "base (",
        "chat (",
        "chat-q4",
        "merged",
        "results.json",
    ]
    .iter()
    .map(|name| {
        text_report
            .find(name)
            .unwrap_or_else(|| panic!("{name}: {text_report}"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text_report}");
    assert!(text_report.contains("13h 0m"), "{text_report}");
}

#[test]
fn ancestry_signers_paths_and_the_drawn_graph_answer_from_the_store() {
    ancestry_signers_paths_and_the_drawn_graph(&Db::sqlite());
}

#[test]
fn ancestry_signers_paths_and_the_drawn_graph_answer_from_the_store_on_postgres() {
    if let Some(db) = Db::postgres() {
        ancestry_signers_paths_and_the_drawn_graph(&db);
    }
}

fn ancestry_signers_paths_and_the_drawn_graph(db: &Db) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    build(dir);
    policy(dir);
    assert_ok(&ingest(dir, db, &["."]));

    let out = query(dir, db, &["show", "./merged", "--json"]);
    assert_ok(&out);
    let shown = json(&out);
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    for edge in shown["edges"].as_array().unwrap() {
        inputs.insert(
            edge["input"]["label"].as_str().unwrap().to_owned(),
            edge["attestation"]["trusted_as"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let expected = [
        ("a-prepared", "training"),
        ("b-lora", "training"),
        ("b-prepared", "training"),
        ("base", "training"),
        ("chat", "training"),
        ("chat-q4", "training"),
        ("dataset-a", "data team"),
        ("dataset-b", "data team"),
        ("pkg:huggingface/other/base", "training"),
    ];
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(inputs, expected);
    let out = query(dir, db, &["show", "./merged"]);
    assert_ok(&out);
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.starts_with("model merged (sha256:"), "{tree}");
    assert!(tree.contains("└─") && tree.contains("verified"), "{tree}");

    let out = query(dir, db, &["who-signed", "./chat", "--json"]);
    assert_ok(&out);
    let signed = json(&out);
    assert_eq!(signed["attestations"][0]["stage"], "finetune");
    assert_eq!(signed["attestations"][0]["trusted_as"], "training");
    // As DOT: the artifact, and its attestation pointing at it, labelled with its signer.
    let out = query(dir, db, &["who-signed", "./chat", "--format", "dot"]);
    assert_ok(&out);
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph lineage {"), "{dot}");
    let bundle = signed["attestations"][0]["bundle_digest"].as_str().unwrap();
    let chat = signed["artifact"]["key"].as_str().unwrap();
    assert!(
        dot.contains(&format!("\"{bundle}\" -> \"{chat}\"")),
        "{dot}"
    );
    assert!(dot.contains("training"), "{dot}");

    let out = query(
        dir,
        db,
        &["path", "./dataset-a", "./results.json", "--json"],
    );
    assert_ok(&out);
    let hops: Vec<String> = json(&out)["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["output"]["label"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        hops,
        [
            "a-prepared",
            "base",
            "chat",
            "chat-q4",
            "merged",
            "results.json"
        ]
    );
    let out = query(dir, db, &["path", "./results.json", "./dataset-a"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));

    let out = query(dir, db, &["impact", "./dataset-a", "--format", "dot"]);
    assert_ok(&out);
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph lineage {"), "{dot}");
    assert!(dot.contains("xlabel=\"level 6\""), "{dot}");
    // The same graph `lineage graph` draws: the untouched inputs of what is rebuilt too.
    for context in ["b-prepared", "b-lora"] {
        assert!(dot.contains(context), "{context} is not drawn: {dot}");
    }
    let svg = dir.join("impact.svg");
    let out = query(dir, db, &["graph", "./dataset-a", "-o", text(&svg)]);
    if which_dot() || test_support::in_ci() {
        assert_ok(&out);
        // Graphviz writes a hyphen in SVG text as `&#45;`.
        let drawn = fs::read_to_string(&svg).unwrap().replace("&#45;", "-");
        assert!(drawn.contains("<svg"), "not SVG");
        for name in ["a-prepared", "chat-q4", "results.json", "level 6"] {
            assert!(drawn.contains(name), "{name} is not drawn");
        }
        // Unaffected inputs of rebuilt models are drawn as their surroundings (B's
        // prepared data went into chat, B's adapter into the merge), but not their own
        // inputs in turn.
        for context in ["b-prepared", "b-lora"] {
            assert!(drawn.contains(context), "{context} is not drawn");
        }
        assert!(
            !drawn.contains("other/base"),
            "the adapter's base is two steps away"
        );
    }
}

fn which_dot() -> bool {
    Command::new("dot").arg("-V").output().is_ok()
}

#[test]
fn the_policy_refuses_what_its_signers_may_not_sign_and_stores_nothing_of_it() {
    the_policy_refuses_what_its_signers_may_not_sign(&Db::sqlite());
}

#[test]
fn the_policy_refuses_what_its_signers_may_not_sign_and_stores_nothing_of_it_on_postgres() {
    if let Some(db) = Db::postgres() {
        the_policy_refuses_what_its_signers_may_not_sign(&db);
    }
}

fn the_policy_refuses_what_its_signers_may_not_sign(db: &Db) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    build(dir);
    // The data team signs a finetune: a stage the policy does not let it attest.
    write(dir, "rogue", "weights");
    assert_ok(&run(
        dir,
        &[
            "provenance",
            "record",
            "key",
            "--private-key",
            "data.pem",
            "--stage",
            "finetune",
            "--output",
            "rogue",
            "--input",
            "base-model=./base",
            "--input",
            "dataset=./dataset-a",
            "--quiet",
        ],
    ));
    policy(dir);
    let out = ingest(dir, db, &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let report = json(&out);
    assert_eq!(report["ok"], false, "{report}");
    let refused = report["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{report}");
    assert!(
        refused[0]["origin"].as_str().unwrap().contains("rogue"),
        "{report}"
    );
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .contains("data-prep only, not of finetune"),
        "{report}"
    );
    assert_eq!(report["stored"].as_array().unwrap().len(), PIPELINE.len());
    let out = query(dir, db, &["show", "./rogue"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no artifact in the store"));
    // Ingesting again is idempotent: nothing new, the refusal repeated.
    let again = json(&ingest(dir, db, &["."]));
    assert_eq!(again["stored"], serde_json::json!([]));
    assert_eq!(
        again["already_stored"].as_array().unwrap().len(),
        PIPELINE.len()
    );
    assert_eq!(again["attestations"], report["attestations"]);
    assert_eq!(again["edges"], report["edges"]);
}
