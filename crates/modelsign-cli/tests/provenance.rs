//! Signed provenance for every stage of a synthetic ML pipeline, end to end: two datasets
//! → data-prep → pretrain → two finetunes and a LoRA adapter → quantize → merge →
//! evaluate, each stage recorded with `provenance record` and verified with `provenance
//! verify`, the stages signed by every method (key, certificate, Sigstore on the loopback
//! stack, PKCS#11 key and certificate on SoftHSM2). Each stage consumes the folder the
//! stage before it wrote, so each recorded input digest must be the subject digest of the
//! producing stage's provenance. Changed outputs and inputs, another model's provenance and
//! the wrong key fail; refusals come before hashing; and every statement passes in-toto's
//! own strict protobuf parse (PyPI in-toto-attestation, tests/peers/intoto_strict_parse.py).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use test_support::certs::SigningLeaf;
use test_support::{assert_ok, explain, signed_statement, text, SigstoreStack, SoftHsm};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

const CODE: &str =
    "code=git+https://github.com/example/trainer@0123456789abcdef0123456789abcdef01234567";
const CONTAINER: &str =
    "container=pkg:oci/trainer@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

/// How a stage is signed, and so how its provenance is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Key,
    Certificate,
    Sigstore,
    Pkcs11Key,
    Pkcs11Certificate,
}

/// One stage of the pipeline: what it is, the output it writes (a folder, or for evaluate
/// a file) and its inputs as `provenance record --input` takes them.
struct StageSpec {
    stage: &'static str,
    output: &'static str,
    inputs: &'static [&'static str],
    parameters: &'static [&'static str],
    method: Method,
}

/// The pipeline, in the order its stages run. Every method signs at least one stage.
const PIPELINE: &[StageSpec] = &[
    StageSpec {
        stage: "data-prep",
        output: "prepared",
        inputs: &["dataset=./corpus", "dataset=./instructions", CODE],
        parameters: &["dedup=true"],
        method: Method::Key,
    },
    StageSpec {
        stage: "pretrain",
        output: "pretrained",
        inputs: &["dataset=./prepared", CODE, CONTAINER],
        parameters: &["learning_rate=3e-4", "seed=7"],
        method: Method::Certificate,
    },
    StageSpec {
        stage: "finetune",
        output: "chat",
        inputs: &[
            "base-model=./pretrained",
            "dataset=./instructions",
            CONTAINER,
        ],
        parameters: &["learning_rate=2e-5"],
        method: Method::Sigstore,
    },
    StageSpec {
        stage: "finetune",
        output: "coder",
        inputs: &["base-model=./pretrained", "dataset=./prepared"],
        parameters: &["epochs=3"],
        method: Method::Pkcs11Key,
    },
    StageSpec {
        stage: "adapter",
        output: "lora",
        inputs: &["base-model=./pretrained", "dataset=./instructions"],
        parameters: &["rank=8"],
        method: Method::Key,
    },
    StageSpec {
        stage: "quantize",
        output: "chat-q4",
        inputs: &["base-model=./chat"],
        parameters: &["bits=4"],
        method: Method::Pkcs11Certificate,
    },
    StageSpec {
        stage: "merge",
        output: "merged",
        inputs: &[
            "base-model=./chat-q4",
            "base-model=./coder",
            "base-model=./lora",
        ],
        parameters: &["method=ties"],
        method: Method::Sigstore,
    },
    StageSpec {
        stage: "evaluate",
        output: "eval-results.json",
        inputs: &["base-model=./merged", "eval-set=./corpus"],
        parameters: &["harness=lm-eval"],
        method: Method::Certificate,
    },
];

/// Every signer the pipeline uses: a key pair, a certificate chain, the loopback Sigstore
/// stack and a SoftHSM2 token.
struct Signers {
    /// Holds the certificate's files (removed when dropped).
    _certificate_dir: tempfile::TempDir,
    certificate: SigningLeaf,
    stack: SigstoreStack,
    hsm: SoftHsm,
}

fn owned(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

fn demo_key(extension: &str) -> PathBuf {
    test_support::workspace_root().join(format!("examples/keys/demo-TEST-ONLY.{extension}"))
}

impl Signers {
    fn start() -> Self {
        let certificate_dir = tempfile::tempdir().unwrap();
        let certificate = SigningLeaf::issue(
            certificate_dir.path(),
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
            "20200101000000Z",
            "20991231000000Z",
        );
        Signers {
            _certificate_dir: certificate_dir,
            certificate,
            stack: SigstoreStack::start(),
            hsm: SoftHsm::create(),
        }
    }

    /// `provenance record`'s subcommand and signer flags for `method`.
    fn record_flags(&self, method: Method) -> Vec<String> {
        let hsm_file = |file: &str| text(&self.hsm.file(file)).to_owned();
        match method {
            Method::Key => owned(&["key", "--private-key", text(&demo_key("pem"))]),
            Method::Certificate => owned(&[
                "certificate",
                "--private-key",
                text(&self.certificate.key),
                "--signing-certificate",
                text(&self.certificate.leaf),
            ]),
            Method::Sigstore => owned(&[
                "sigstore",
                "--trust-config",
                text(&self.stack.trust_config()),
                "--identity-token-file",
                text(&self.stack.identity_token_file()),
            ]),
            Method::Pkcs11Key => owned(&["pkcs11-key", "--pkcs11-uri", &self.hsm.uri("p256")]),
            Method::Pkcs11Certificate => owned(&[
                "pkcs11-certificate",
                "--pkcs11-uri",
                &self.hsm.uri("p256"),
                "--signing-certificate",
                &hsm_file("chain/p256-leaf.pem"),
                "--certificate-chain",
                &hsm_file("chain/intermediate.pem"),
            ]),
        }
    }

    /// `provenance verify`'s subcommand and verifier flags for `method`.
    fn verify_flags(&self, method: Method) -> Vec<String> {
        match method {
            Method::Key => owned(&["key", "--public-key", text(&demo_key("pub"))]),
            Method::Pkcs11Key => owned(&["key", "--public-key", text(&self.hsm.file("p256.pub"))]),
            Method::Certificate => owned(&[
                "certificate",
                "--certificate-chain",
                text(&self.certificate.root),
            ]),
            Method::Pkcs11Certificate => owned(&[
                "certificate",
                "--certificate-chain",
                text(&self.hsm.file("chain/root.pem")),
            ]),
            Method::Sigstore => owned(&[
                "sigstore",
                "--trust-config",
                text(&self.stack.trust_config()),
                "--identity",
                &self.stack.identity,
                "--identity-provider",
                &self.stack.url,
            ]),
        }
    }

    /// modelsign in `work` (so `./name` inputs resolve there), with the token's
    /// configuration and stdin closed (never a prompt).
    fn run(&self, work: &Path, args: &[String]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(work)
            .env("SOFTHSM2_CONF", self.hsm.conf())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run modelsign")
    }

    /// Records `spec`'s stage (its output already written).
    fn record(&self, work: &Path, spec: &StageSpec) -> Output {
        let mut args = vec!["provenance".to_owned(), "record".to_owned()];
        args.extend(self.record_flags(spec.method));
        args.extend(["--stage", spec.stage, "--output"].map(str::to_owned));
        args.push(format!("./{}", spec.output));
        for input in spec.inputs {
            args.extend(["--input".to_owned(), (*input).to_owned()]);
        }
        for parameter in spec.parameters {
            args.extend(["--param".to_owned(), (*parameter).to_owned()]);
        }
        self.run(work, &args)
    }

    /// `provenance verify` of `output` as `method` signed it, plus `extra` flags.
    fn verify(&self, work: &Path, method: Method, output: &str, extra: &[&str]) -> Output {
        let mut args = vec!["provenance".to_owned(), "verify".to_owned()];
        args.extend(self.verify_flags(method));
        args.push(format!("./{output}"));
        args.extend(extra.iter().map(|e| (*e).to_owned()));
        self.run(work, &args)
    }
}

/// A minimal safetensors file (header length, JSON header, data) whose data is `fill`.
fn safetensors(fill: u8) -> Vec<u8> {
    let header = br#"{"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[fill; 64]);
    bytes
}

/// What a stage's run writes as `spec.output`: a model folder, the adapter's two files, a
/// prepared dataset, or the evaluation results `card init --eval` imports. Each output's
/// bytes differ (by its place in the pipeline), so every digest does.
fn run_stage(work: &Path, index: usize, spec: &StageSpec) {
    let output = work.join(spec.output);
    let fill = u8::try_from(index + 1).unwrap();
    let files: Vec<(&str, Vec<u8>)> = match spec.stage {
        "data-prep" => vec![(
            "train.jsonl",
            format!("{{\"text\": \"prepared {index}\"}}\n").into_bytes(),
        )],
        "adapter" => vec![
            (
                "adapter_config.json",
                br#"{"peft_type": "LORA", "r": 8, "target_modules": ["q_proj", "v_proj"]}"#
                    .to_vec(),
            ),
            ("adapter_model.safetensors", safetensors(fill)),
        ],
        "evaluate" => {
            let results =
                r#"[{"metric": "accuracy", "value": 0.9, "dataset": "corpus", "split": "test"}]"#;
            fs::write(&output, results).unwrap();
            return;
        }
        _ => vec![
            (
                "config.json",
                format!(
                    "{{\"model_type\": \"tiny\", \"made_by\": \"{}\"}}",
                    spec.output
                )
                .into_bytes(),
            ),
            ("weights.safetensors", safetensors(fill)),
        ],
    };
    fs::create_dir_all(&output).unwrap();
    for (name, content) in files {
        fs::write(output.join(name), content).unwrap();
    }
}

/// The two source datasets: `corpus` (CSV) and `instructions` (JSONL).
fn write_datasets(work: &Path) {
    for (dir, file, content) in [
        (
            "corpus",
            "train.csv",
            "text,label\ngood film,1\nbad film,0\n",
        ),
        (
            "instructions",
            "train.jsonl",
            "{\"prompt\": \"hi\", \"response\": \"hello\"}\n",
        ),
    ] {
        fs::create_dir_all(work.join(dir)).unwrap();
        fs::write(work.join(dir).join(file), content).unwrap();
    }
}

/// The provenance `record` writes for an output: OUTPUT/provenance.sig for a folder,
/// FILE.provenance.sig for a file.
fn provenance_of(work: &Path, output: &str) -> PathBuf {
    let path = work.join(output);
    if path.is_dir() {
        path.join("provenance.sig")
    } else {
        work.join(format!("{output}.provenance.sig"))
    }
}

/// The OMS root digest (hex) the stage's provenance names as the subject `output`.
fn subject_digest(work: &Path, output: &str) -> String {
    let statement = signed_statement(&provenance_of(work, output));
    let subjects = statement["subject"].as_array().expect("subjects");
    let subject = subjects
        .iter()
        .find(|s| s["name"] == output)
        .unwrap_or_else(|| panic!("no subject {output} in {statement:#}"));
    subject["digest"]["sha256"].as_str().unwrap().to_owned()
}

/// The root digest (hex) `modelsign digest` computes for `output` now, for comparing with
/// what a failed verification names.
fn digest_now(work: &Path, output: &str) -> String {
    let out = Command::new(BIN)
        .args(["digest", text(&work.join(output))])
        .output()
        .expect("run modelsign digest");
    assert_ok(&out);
    let printed = String::from_utf8_lossy(&out.stdout);
    let hex = printed
        .trim()
        .strip_prefix("sha256:")
        .expect("sha256:<hex>");
    hex.to_owned()
}

/// A pipeline whose every stage has run and been recorded, in a temporary folder.
struct Pipeline {
    signers: Signers,
    work: tempfile::TempDir,
}

impl Pipeline {
    fn build() -> Self {
        let signers = Signers::start();
        let work = tempfile::tempdir().unwrap();
        write_datasets(work.path());
        for (index, spec) in PIPELINE.iter().enumerate() {
            run_stage(work.path(), index, spec);
            assert_ok(&signers.record(work.path(), spec));
        }
        Pipeline { signers, work }
    }

    fn path(&self) -> &Path {
        self.work.path()
    }

    fn verify(&self, spec: &StageSpec, extra: &[&str]) -> Output {
        self.signers
            .verify(self.path(), spec.method, spec.output, extra)
    }
}

/// The local inputs of a stage as `ROLE=./path`, which `verify --input` checks.
fn local_inputs(spec: &StageSpec) -> Vec<&'static str> {
    spec.inputs
        .iter()
        .copied()
        .filter(|i| i.contains("=./"))
        .collect()
}

fn exit_code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts `out` failed with `code` and its stderr names each of `expected`.
fn assert_fails(out: &Output, code: i32, expected: &[&str]) {
    assert_eq!(exit_code(out), Some(code), "{}", explain(out));
    for text in expected {
        assert!(
            stderr(out).contains(text),
            "expected {text:?}: {}",
            explain(out)
        );
    }
}

#[test]
fn every_stage_verifies_and_each_input_digest_is_the_subject_of_the_stage_that_made_it() {
    let pipeline = Pipeline::build();
    let work = pipeline.path();
    for spec in PIPELINE {
        let mut extra = vec!["--json"];
        for input in local_inputs(spec) {
            extra.extend(["--input", input]);
        }
        let out = pipeline.verify(spec, &extra);
        assert_ok(&out);
        let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(report["stage"], spec.stage, "{report:#}");
        assert_eq!(
            report["model"]["root_digest"],
            format!("sha256:{}", subject_digest(work, spec.output))
        );
        let statuses: Vec<&str> = report["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = spec
            .inputs
            .iter()
            .map(|i| {
                if i.contains("=./") {
                    "checked"
                } else {
                    "recorded"
                }
            })
            .collect();
        assert_eq!(statuses, expected, "{}: {report:#}", spec.output);
        match spec.method {
            Method::Sigstore => {
                assert_eq!(
                    report["signer"]["identity"],
                    pipeline.signers.stack.identity
                );
                assert_eq!(report["signer"]["issuer"], pipeline.signers.stack.url);
            }
            _ => assert!(report["signer"].is_null(), "{report:#}"),
        }
        for parameter in spec.parameters {
            let (key, value) = parameter.split_once('=').unwrap();
            assert_eq!(report["parameters"][key], value, "{report:#}");
        }
        assert_joins(work, spec);
    }
    // The human-readable verdict too, for the last stage.
    let evaluate = pipeline_stage("eval-results.json");
    let out = pipeline.verify(evaluate, &[]);
    assert_ok(&out);
    let verdict = String::from_utf8_lossy(&out.stdout);
    assert!(
        verdict.contains(
            "Provenance verification succeeded: the evaluate stage that produced eval-results.json"
        ),
        "{verdict}"
    );
    let bundles: Vec<PathBuf> = PIPELINE
        .iter()
        .map(|s| provenance_of(work, s.output))
        .collect();
    if let Some(out) = test_support::intoto_strict_parse(&bundles) {
        assert_ok(&out);
        let report = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            report.matches("strict-parse ok").count(),
            PIPELINE.len(),
            "{report}"
        );
    }
}

/// Each input of `spec`'s provenance, in the order given: its role, and its digest, which
/// for a local input made by an earlier stage is that stage's subject digest, for the code
/// its commit, for the container its image digest; and its URI, for the non-local ones.
fn assert_joins(work: &Path, spec: &StageSpec) {
    let statement = signed_statement(&provenance_of(work, spec.output));
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let build = &statement["predicate"]["buildDefinition"];
    assert_eq!(
        build["buildType"],
        format!("https://modelsign.dev/buildtypes/ml-{}/v1", spec.stage)
    );
    let dependencies = build["resolvedDependencies"].as_array().unwrap();
    assert_eq!(dependencies.len(), spec.inputs.len(), "{build:#}");
    for (input, dependency) in spec.inputs.iter().zip(dependencies) {
        let (role, reference) = input.split_once('=').unwrap();
        assert_eq!(dependency["annotations"]["role"], role, "{dependency:#}");
        let digest = &dependency["digest"];
        if let Some(local) = reference.strip_prefix("./") {
            let producer = PIPELINE.iter().any(|s| s.output == local);
            let expected = if producer {
                subject_digest(work, local)
            } else {
                digest_now(work, local)
            };
            assert_eq!(
                digest["sha256"], expected,
                "{}'s {role} {local} is not what made it",
                spec.output
            );
            assert_eq!(dependency["name"], local);
        } else if role == "code" {
            assert_eq!(dependency["uri"], reference);
            assert_eq!(digest["gitCommit"], reference.rsplit('@').next().unwrap());
        } else {
            assert_eq!(dependency["uri"], reference);
            assert_eq!(digest["sha256"], reference.rsplit(':').next().unwrap());
        }
    }
}

#[test]
fn a_changed_byte_in_any_output_fails_its_provenance_naming_both_digests() {
    let pipeline = Pipeline::build();
    let work = pipeline.path();
    for spec in PIPELINE {
        let recorded = subject_digest(work, spec.output);
        let output = work.join(spec.output);
        let file = if output.is_dir() {
            // The last file of the folder: weights, adapter weights, or the dataset.
            let mut files: Vec<PathBuf> = fs::read_dir(&output)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.file_name().unwrap() != "provenance.sig")
                .collect();
            files.sort();
            files.pop().unwrap()
        } else {
            output
        };
        let mut bytes = fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        fs::write(&file, bytes).unwrap();
        let now = digest_now(work, spec.output);
        assert_ne!(now, recorded);
        let out = pipeline.verify(spec, &[]);
        assert_fails(&out, 1, &[&recorded, &now]);
    }
}

#[test]
fn a_changed_input_another_models_provenance_and_the_wrong_key_fail() {
    let pipeline = Pipeline::build();
    let work = pipeline.path();
    let data_prep = pipeline_stage("prepared");
    let adapter = pipeline_stage("lora");

    // The provenance of `prepared` presented for `lora` (both signed with the demo key).
    let out = pipeline.verify(
        adapter,
        &["--provenance", text(&provenance_of(work, data_prep.output))],
    );
    assert_fails(
        &out,
        1,
        &[
            &subject_digest(work, "prepared"),
            &subject_digest(work, "lora"),
        ],
    );

    // Another signer's key.
    let other = modelsign::PrivateKey::generate(modelsign::keys::Curve::P256).unwrap();
    let other_public = work.join("other.pub");
    fs::write(&other_public, other.public_key().to_pem()).unwrap();
    let args = [
        "provenance",
        "verify",
        "key",
        "./prepared",
        "--public-key",
        text(&other_public),
    ];
    let out = pipeline.signers.run(work, &owned(&args));
    assert_fails(&out, 1, &["key mismatch"]);

    // A dataset changed after data-prep read it: the output still verifies, the input not.
    let recorded_corpus = digest_now(work, "corpus");
    fs::write(work.join("corpus/train.csv"), "text,label\ngood film,0\n").unwrap();
    assert_ok(&pipeline.verify(data_prep, &["--input", "dataset=./instructions"]));
    let out = pipeline.verify(data_prep, &["--input", "dataset=./corpus"]);
    assert_fails(
        &out,
        1,
        &[
            "input changed",
            &recorded_corpus,
            &digest_now(work, "corpus"),
        ],
    );
}

/// A key-signed stage recorder without the rest of the pipeline's signers.
fn record_with_key(work: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["provenance", "record", "key", "--private-key"])
        .arg(demo_key("pem"))
        .args(args)
        .current_dir(work)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run modelsign")
}

#[test]
fn stage_inputs_and_undigested_inputs_are_refused_before_anything_is_hashed() {
    let work = tempfile::tempdir().unwrap();
    write_datasets(work.path());
    run_stage(work.path(), 0, pipeline_stage("coder"));
    // Hashing the dataset would fail on this FIFO (exit 1, naming it): the refusal below
    // comes first.
    let fifo = work.path().join("instructions/stream");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let finetune = |inputs: &[&str]| {
        let mut args = vec!["--stage", "finetune", "--output", "./coder"];
        for input in inputs {
            args.extend(["--input", input]);
        }
        record_with_key(work.path(), &args)
    };
    let out = finetune(&["dataset=./instructions"]);
    assert_fails(
        &out,
        2,
        &["finetune stage needs exactly 1 base-model input"],
    );
    assert!(!stderr(&out).contains("FIFO"), "{}", explain(&out));
    let undigested = "base-model=pkg:huggingface/example/base@main";
    let out = finetune(&["dataset=./instructions", undigested]);
    assert_fails(&out, 2, &[undigested, "--allow-undigested"]);
    assert!(!work.path().join("coder/provenance.sig").exists());
}

#[test]
fn a_draft_naming_no_stage_asks_for_the_stage_flag() {
    let work = tempfile::tempdir().unwrap();
    fs::create_dir(work.path().join("tuned")).unwrap();
    fs::write(work.path().join("tuned/weights.bin"), b"w").unwrap();
    fs::write(
        work.path().join("draft.json"),
        r#"{"draft": "modelsign provenance draft v1", "outputs": ["./tuned"]}"#,
    )
    .unwrap();
    let out = record_with_key(work.path(), &["--draft", "draft.json"]);
    assert_fails(&out, 2, &["the draft names no stage: give it with --stage"]);
}

fn pipeline_stage(output: &str) -> &'static StageSpec {
    PIPELINE.iter().find(|s| s.output == output).unwrap()
}

/// An edit of a statement, as [`test_support::rewrite_statement`] applies it.
type StatementEdit = fn(&mut Value);

#[test]
fn the_strict_parse_rejects_a_field_in_toto_or_slsa_does_not_define() {
    let work = tempfile::tempdir().unwrap();
    write_datasets(work.path());
    let spec = pipeline_stage("prepared");
    run_stage(work.path(), 0, spec);
    let out = record_with_key(
        work.path(),
        &[
            "--stage",
            "data-prep",
            "--output",
            "./prepared",
            "--input",
            "dataset=./corpus",
        ],
    );
    assert_ok(&out);
    let bundle = provenance_of(work.path(), "prepared");
    let Some(out) = test_support::intoto_strict_parse(std::slice::from_ref(&bundle)) else {
        return;
    };
    assert_ok(&out);
    let edits: [(&str, StatementEdit); 2] = [
        ("Statement", |s| s["comment"] = "extra".into()),
        ("Builder", |s| {
            s["predicate"]["runDetails"]["builder"]["owner"] = "extra".into()
        }),
    ];
    for (message, edit) in edits {
        let edited = work.path().join(format!("{message}.sig"));
        test_support::rewrite_statement(&bundle, &edited, edit);
        let out = test_support::intoto_strict_parse(&[edited]).unwrap();
        assert_eq!(exit_code(&out), Some(1), "{}", explain(&out));
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            report.contains("strict-parse FAILED")
                && report.contains(message)
                && report.contains("has no field named"),
            "{report}"
        );
    }
}
