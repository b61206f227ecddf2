//! Where `provenance record` puts a stage's provenance and how `provenance verify` finds
//! it: beside every output, in claims files, in one `--output-file`; an evaluate stage's
//! results feeding a model card; a draft's claimed inputs staying claimed once signed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::{assert_ok, explain, signed_statement, text};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run modelsign")
}

fn key() -> (PathBuf, PathBuf) {
    let keys = test_support::workspace_root().join("examples/keys");
    (
        keys.join("demo-TEST-ONLY.pem"),
        keys.join("demo-TEST-ONLY.pub"),
    )
}

fn folder(root: &Path, name: &str, content: &str) -> PathBuf {
    let path = root.join(name);
    fs::create_dir_all(&path).unwrap();
    fs::write(path.join("part-0.jsonl"), content).unwrap();
    path
}

/// `provenance record key` with `args` after the method.
fn record(args: &[&str]) -> Output {
    let (private, _) = key();
    let mut all = vec![
        "provenance",
        "record",
        "key",
        "--private-key",
        text(&private),
    ];
    all.extend_from_slice(args);
    run(&all)
}

/// `provenance verify key MODEL --json` with `args`, and its JSON report.
fn verify(model: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let (_, public) = key();
    let mut all = vec![
        "provenance",
        "verify",
        "key",
        text(model),
        "--public-key",
        text(&public),
        "--json",
    ];
    all.extend_from_slice(args);
    let out = run(&all);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", explain(&out)));
    (out, report)
}

/// In-toto's own bindings read the statement, rejecting any field in-toto or SLSA does
/// not define (outside CI without the test venv, nothing is checked).
fn assert_strictly_parsed(bundle: &Path) {
    if let Some(out) = test_support::intoto_strict_parse(&[bundle.to_path_buf()]) {
        assert_ok(&out);
    }
}

#[test]
fn a_stage_with_two_outputs_writes_one_provenance_beside_each_and_each_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let raw = folder(dir.path(), "raw", "{\"text\": \"raw\"}\n");
    let train = folder(dir.path(), "train", "{\"text\": \"train\"}\n");
    let test = folder(dir.path(), "test", "{\"text\": \"test\"}\n");
    let out = record(&[
        "--stage",
        "data-prep",
        "--output",
        text(&train),
        "--output",
        &format!("{}=pkg:huggingface/datasets/me/test", text(&test)),
        "--input",
        &format!("dataset={}", text(&raw)),
    ]);
    assert_ok(&out);
    let beside_train = train.join("provenance.sig");
    let beside_test = test.join("provenance.sig");
    assert_eq!(
        fs::read(&beside_train).unwrap(),
        fs::read(&beside_test).unwrap()
    );
    let statement = signed_statement(&beside_train);
    let subjects = statement["subject"].as_array().unwrap();
    assert_eq!(subjects.len(), 2);
    assert_eq!(subjects[1]["uri"], "pkg:huggingface/datasets/me/test");
    assert_strictly_parsed(&beside_train);
    for (output, name) in [(&train, "train"), (&test, "test")] {
        let (out, report) = verify(output, &[]);
        assert_ok(&out);
        assert_eq!(report["model"]["name"], name);
        assert_eq!(report["subjects"].as_array().unwrap().len(), 2);
    }
    // The raw dataset is an input, not an output: its own folder holds no provenance, and
    // the provenance of `train` presented for it names every output it records.
    let (out, report) = verify(&raw, &["--provenance", text(&beside_train)]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("(train)") && error.contains("(test)"),
        "{error}"
    );
}

#[test]
fn provenance_goes_to_claims_files_or_one_output_file_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let base = folder(dir.path(), "base", "base");
    let tuned = folder(dir.path(), "tuned", "tuned");
    let converted = folder(dir.path(), "converted", "converted");
    let inputs = format!("base-model={}", text(&base));
    assert_ok(&record(&[
        "--stage",
        "convert",
        "--output",
        text(&converted),
        "--input",
        &inputs,
        "--claims",
    ]));
    let claims = converted.join("claims.jsonl");
    assert!(!converted.join("provenance.sig").exists());
    assert_eq!(fs::read_to_string(&claims).unwrap().lines().count(), 1);
    // Without --claims, verify looks for provenance.sig, which is not there.
    let (out, _) = verify(&converted, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let (out, report) = verify(&converted, &["--claims"]);
    assert_ok(&out);
    assert_eq!(report["stage"], "convert");

    let elsewhere = dir.path().join("records/quantize.sigstore.json");
    fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    assert_ok(&record(&[
        "--stage",
        "quantize",
        "--output",
        text(&tuned),
        "--input",
        &inputs,
        "--output-file",
        text(&elsewhere),
    ]));
    assert!(!tuned.join("provenance.sig").exists());
    let (out, report) = verify(&tuned, &["--provenance", text(&elsewhere)]);
    assert_ok(&out);
    assert_eq!(report["stage"], "quantize");
    // A claims file with no provenance in it says so, and how to put one there.
    fs::write(tuned.join("claims.jsonl"), "").unwrap();
    let (out, report) = verify(&tuned, &["--claims"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("holds no provenance"),
        "{report}"
    );
}

#[test]
fn an_evaluate_stage_records_results_that_a_model_card_imports() {
    let dir = tempfile::tempdir().unwrap();
    let model = folder(dir.path(), "model", "weights");
    let eval_set = folder(
        dir.path(),
        "imdb-test",
        "{\"text\": \"great\", \"label\": 1}\n",
    );
    let results = dir.path().join("results.json");
    fs::write(
        &results,
        r#"[{"metric": "accuracy", "value": 0.912, "dataset": "imdb", "split": "test"}]"#,
    )
    .unwrap();
    let inputs = [
        format!("base-model={}", text(&model)),
        format!("eval-set={}", text(&eval_set)),
    ];
    let mut args = vec!["--stage", "evaluate", "--param", "harness=lm-eval 0.4.5"];
    for input in &inputs {
        args.extend(["--input", input.as_str()]);
    }
    // A model folder is not evaluation results.
    let mut wrong = args.clone();
    wrong.extend(["--output", text(&model)]);
    let out = record(&wrong);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("evaluation results"),
        "{}",
        explain(&out)
    );
    args.extend(["--output", text(&results)]);
    assert_ok(&record(&args));
    let signature = dir.path().join("results.json.provenance.sig");
    let (out, report) = verify(
        &results,
        &["--input", &format!("eval-set={}", text(&eval_set))],
    );
    assert_ok(&out);
    assert_eq!(report["stage"], "evaluate");
    assert_eq!(report["inputs"][1]["status"], "checked");
    assert!(signature.exists());
    // The same results file feeds the model's card.
    let card = dir.path().join("card.yaml");
    let out = run(&[
        "card",
        "init",
        text(&model),
        "-o",
        text(&card),
        "--eval",
        text(&results),
    ]);
    assert_ok(&out);
    let card_text = fs::read_to_string(&card).unwrap();
    assert!(card_text.contains("0.912"), "{card_text}");
}

#[test]
fn a_drafts_claimed_inputs_stay_claimed_once_signed() {
    let dir = tempfile::tempdir().unwrap();
    let adapter = folder(dir.path(), "adapter", "lora weights");
    let data = folder(dir.path(), "data", "rows");
    let draft = dir.path().join("draft.json");
    let body = serde_json::json!({
        "draft": "modelsign provenance draft v1",
        "stage": "adapter",
        "relation": "inferred: adapter_config.json is present",
        "outputs": [format!("{}=pkg:huggingface/me/adapter", text(&adapter))],
        "inputs": [{
            "input": "base-model=pkg:huggingface/meta-llama/Llama-3.2-1B",
            "claimedBy": "adapter_config.json `base_model_name_or_path`"
        }],
        "parameters": {"r": "16"},
        "notes": []
    });
    fs::write(&draft, body.to_string()).unwrap();
    let data_input = format!("dataset={}", text(&data));
    // Claimed inputs carry no digest: signing them must be asked for.
    let out = record(&["--draft", text(&draft), "--input", &data_input]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--allow-undigested"),
        "{}",
        explain(&out)
    );
    let out = record(&[
        "--draft",
        text(&draft),
        "--input",
        &data_input,
        "--allow-undigested",
        "--param",
        "alpha=32",
    ]);
    assert_ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("graph tools"),
        "{}",
        explain(&out)
    );
    let statement = signed_statement(&adapter.join("provenance.sig"));
    let dependencies = &statement["predicate"]["buildDefinition"]["resolvedDependencies"];
    assert_eq!(
        dependencies[0]["annotations"]["claimedBy"],
        "adapter_config.json `base_model_name_or_path`"
    );
    assert!(dependencies[1]["annotations"].get("claimedBy").is_none());
    let parameters = &statement["predicate"]["buildDefinition"]["externalParameters"]["parameters"];
    assert_eq!(parameters["r"], "16");
    assert_eq!(parameters["alpha"], "32");
    assert_strictly_parsed(&adapter.join("provenance.sig"));
    let (out, report) = verify(&adapter, &["--input", &data_input]);
    assert_ok(&out);
    assert_eq!(report["inputs"][0]["status"], "claimed");
    assert_eq!(report["inputs"][1]["status"], "checked");
    // The human report never shows a claim as checked.
    let (_, public) = key();
    let out = run(&[
        "provenance",
        "verify",
        "key",
        text(&adapter),
        "--public-key",
        text(&public),
    ]);
    assert_ok(&out);
    let shown = String::from_utf8_lossy(&out.stdout);
    let claim = shown
        .lines()
        .find(|l| l.contains("Llama-3.2-1B"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(claim.trim_start().starts_with("claimed"), "{claim}");
    assert!(claim.contains("not verified"), "{claim}");
    // A claimed input cannot be checked against a local copy: it has no digest.
    let (out, report) = verify(
        &adapter,
        &["--input", &format!("base-model={}", text(&data))],
    );
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("cannot be checked"),
        "{report}"
    );
}

/// The real Hugging Face model folders of the library's lineage tests, and the stage each
/// one's metadata declares or implies.
const REAL_CARDS: [(&str, Option<&str>); 7] = [
    ("Iamjuhwan-HY-MT1.5-yoruba-pidgin-lora", Some("adapter")),
    ("YouriLalain-2PRYMMAL-Yi1.5-6B-SLERP", Some("merge")),
    ("itdevwu-Genz-70b-GPTQ", Some("quantize")),
    (
        "HackNetAyush-smollm2-135M-instruct-gguf-q8",
        Some("quantize"),
    ),
    (
        "Spartan-71-RoBERTa_Sentiment_Analysis-test_trainer",
        Some("finetune"),
    ),
    ("almorelle-whisper-wakeref-jib-onnx", Some("finetune")),
    ("MelikeDulkadir-output", None),
];

fn real_card(name: &str) -> PathBuf {
    test_support::workspace_root()
        .join("crates/modelsign/tests/data/hf-lineage")
        .join(name)
}

/// `provenance import-hf` of a real card into `draft`, with one more flag.
fn import_hf(name: &str, draft: &Path, flag: &str) -> Output {
    let card = real_card(name);
    run(&[
        "provenance",
        "import-hf",
        text(&card),
        "-o",
        text(draft),
        flag,
    ])
}

#[test]
fn import_hf_drafts_each_real_card_with_its_relation_and_every_input_claimed() {
    let dir = tempfile::tempdir().unwrap();
    for (name, stage) in REAL_CARDS {
        let draft = dir.path().join(format!("{name}.json"));
        let out = import_hf(name, &draft, "--json");
        assert_ok(&out);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["stage"].as_str(), stage, "{name}: {report}");
        let written: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&draft).unwrap()).unwrap();
        assert_eq!(written["stage"], report["stage"], "{name}");
        let inputs = written["inputs"].as_array().unwrap();
        assert!(!inputs.is_empty(), "{name}: {written}");
        for input in inputs {
            assert!(input["claimedBy"].as_str().is_some(), "{name}: {input}");
        }
        // The human report says the inputs are claims, and that none is verified.
        let out = import_hf(name, &draft, "--force");
        assert_ok(&out);
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(shown.contains("none verified"), "{name}: {shown}");
        assert_eq!(
            shown
                .lines()
                .filter(|l| l.trim_start().starts_with("claimed "))
                .count(),
            inputs.len(),
            "{name}: {shown}"
        );
    }
    // An existing draft is kept unless --force.
    let kept = dir.path().join("MelikeDulkadir-output.json");
    let out = run(&[
        "provenance",
        "import-hf",
        text(&real_card("MelikeDulkadir-output")),
        "-o",
        text(&kept),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
}

#[test]
fn a_real_adapters_draft_signs_and_verifies_with_its_base_model_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let adapter = dir.path().join("adapter");
    test_support::copy_tree(
        &real_card("Iamjuhwan-HY-MT1.5-yoruba-pidgin-lora"),
        &adapter,
    );
    let data = folder(
        dir.path(),
        "pidgin-pairs",
        "{\"en\": \"hello\", \"pcm\": \"how far\"}\n",
    );
    let draft = dir.path().join("draft.json");
    assert_ok(&run(&[
        "provenance",
        "import-hf",
        text(&adapter),
        "-o",
        text(&draft),
    ]));
    let data_input = format!("dataset={}", text(&data));
    assert_ok(&record(&[
        "--draft",
        text(&draft),
        "--input",
        &data_input,
        "--allow-undigested",
    ]));
    let (out, report) = verify(&adapter, &["--input", &data_input]);
    assert_ok(&out);
    assert_eq!(report["stage"], "adapter");
    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs[0]["uri"], "pkg:huggingface/tencent/HY-MT1.5-1.8B");
    assert_eq!(inputs[0]["status"], "claimed");
    assert_eq!(inputs[1]["status"], "checked");
}
