use super::*;
use crate::error::Classify;
use crate::keys::{Curve, PrivateKey};
use crate::signing::KeySigner;
use crate::verifying::KeyVerifier;

/// A folder of files, standing for a model or a dataset.
fn folder(root: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = root.join(name);
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("data.bin"), content).unwrap();
    std::fs::write(path.join("config.json"), b"{}").unwrap();
    path
}

fn input(text: &str) -> InputRef {
    InputRef::parse(text).unwrap()
}

fn record(stage: Stage, outputs: &[&Path], inputs: &[String]) -> StageRecord {
    StageRecord {
        stage,
        outputs: outputs
            .iter()
            .map(|p| OutputRef {
                path: p.to_path_buf(),
                uri: None,
            })
            .collect(),
        inputs: inputs.iter().map(|i| input(i)).collect(),
        parameters: BTreeMap::from([("learning_rate".to_owned(), "2e-5".to_owned())]),
        builder_id: None,
        started: None,
        finished: None,
        allow_undigested: false,
    }
}

struct Signed {
    bundle: Bundle,
    verifier: KeyVerifier,
}

fn sign(record: &StageRecord) -> Signed {
    record.check().unwrap();
    let (subjects, provenance) = record
        .resolve(&[], &HashSettings::default(), &Progress::none())
        .unwrap();
    let key = PrivateKey::generate(Curve::P256).unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let bundle = sign_provenance_into(&subjects, &provenance, &KeySigner::new(key), &[]).unwrap();
    Signed { bundle, verifier }
}

fn verify(
    signed: &Signed,
    model: &Path,
    checks: &[InputCheck],
) -> Result<VerifiedProvenance, ProvenanceError> {
    let progress = Progress::none();
    let binding = ModelBinding::Rehash {
        model_path: model,
        max_workers: None,
        progress: &progress,
    };
    verify_provenance(
        &signed.bundle,
        &signed.verifier,
        binding,
        checks,
        None,
        &progress,
    )
}

fn check(role: Role, path: &Path) -> InputCheck {
    InputCheck {
        role,
        path: path.to_path_buf(),
    }
}

struct Finetune {
    _dir: tempfile::TempDir,
    base: PathBuf,
    data: PathBuf,
    tuned: PathBuf,
    signed: Signed,
}

fn finetune() -> Finetune {
    let dir = tempfile::tempdir().unwrap();
    let base = folder(dir.path(), "base", b"base weights");
    let data = folder(dir.path(), "data", b"training rows");
    let tuned = folder(dir.path(), "tuned", b"tuned weights");
    let signed = sign(&record(
        Stage::Finetune,
        &[&tuned],
        &[
            format!("base-model={}", base.display()),
            format!("dataset={}", data.display()),
            format!("code=git+https://github.com/org/train@{}", "a".repeat(40)),
        ],
    ));
    Finetune {
        _dir: dir,
        base,
        data,
        tuned,
        signed,
    }
}

#[test]
fn a_recorded_stage_verifies_with_its_inputs_checked_against_local_copies() {
    let f = finetune();
    let verified = verify(
        &f.signed,
        &f.tuned,
        &[
            check(Role::BaseModel, &f.base),
            check(Role::Dataset, &f.data),
        ],
    )
    .unwrap();
    let provenance = &verified.attestation.predicate;
    assert_eq!(provenance.stage, Stage::Finetune);
    assert_eq!(provenance.builder_id, SELF_RECORDED_BUILDER);
    assert_eq!(provenance.parameters["learning_rate"], "2e-5");
    let roles: Vec<Role> = provenance.inputs.iter().map(|i| i.role).collect();
    assert_eq!(roles, [Role::BaseModel, Role::Dataset, Role::Code]);
    // The dataset's recorded digest is the one its own signature would name.
    let data_subject =
        ModelSubject::of_model(&f.data, &HashSettings::default(), &Progress::none()).unwrap();
    assert_eq!(
        provenance.inputs[1].root_digest(),
        Some(data_subject.root_digest)
    );
    assert_eq!(
        verified.inputs,
        [
            InputStatus::Checked {
                path: f.base.clone()
            },
            InputStatus::Checked {
                path: f.data.clone()
            },
            InputStatus::Recorded,
        ]
    );
    assert_eq!(provenance.inputs[2].digest["gitCommit"], "a".repeat(40));
}

#[test]
fn a_changed_output_byte_fails_naming_both_digests() {
    let f = finetune();
    let recorded = ModelSubject::of_model(&f.tuned, &HashSettings::default(), &Progress::none())
        .unwrap()
        .root_digest_string();
    std::fs::write(f.tuned.join("data.bin"), b"tuned weightz").unwrap();
    let error = verify(&f.signed, &f.tuned, &[]).unwrap_err();
    let message = error.to_string();
    assert!(!error.is_input_error(), "{message}");
    assert!(message.contains(&recorded), "{message}");
    let now = ModelSubject::of_model(&f.tuned, &HashSettings::default(), &Progress::none())
        .unwrap()
        .root_digest_string();
    assert!(message.contains(&now), "{message}");
}

#[test]
fn a_provenance_presented_for_another_model_fails_naming_both() {
    let f = finetune();
    let error = verify(&f.signed, &f.base, &[]).unwrap_err().to_string();
    let digest = |p: &Path| {
        ModelSubject::of_model(p, &HashSettings::default(), &Progress::none())
            .unwrap()
            .root_digest_string()
    };
    assert!(error.contains(&digest(&f.tuned)), "{error}");
    assert!(error.contains(&digest(&f.base)), "{error}");
}

#[test]
fn a_changed_input_fails_its_check() {
    let f = finetune();
    std::fs::write(f.data.join("extra.csv"), b"poison").unwrap();
    let error = verify(&f.signed, &f.tuned, &[check(Role::Dataset, &f.data)]).unwrap_err();
    let ProvenanceError::InputChanged { role, recorded, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(role, "dataset");
    assert_eq!(recorded.len(), 1);
    assert!(
        error.to_string().starts_with("input changed: the dataset"),
        "{error}"
    );
    // The wrong role for a copy is its own failure.
    let error = verify(&f.signed, &f.tuned, &[check(Role::Tokenizer, &f.data)]).unwrap_err();
    assert!(
        matches!(error, ProvenanceError::NoInputOfRole { .. }),
        "{error}"
    );
    // An input recorded without an OMS digest cannot be checked.
    let error = verify(&f.signed, &f.tuned, &[check(Role::Code, &f.data)]).unwrap_err();
    assert!(
        matches!(error, ProvenanceError::InputNotCheckable { .. }),
        "{error}"
    );
}

#[test]
fn every_output_of_a_stage_is_a_subject() {
    let dir = tempfile::tempdir().unwrap();
    let raw = folder(dir.path(), "raw", b"raw rows");
    let train = folder(dir.path(), "train", b"train rows");
    let test = folder(dir.path(), "test", b"test rows");
    let signed = sign(&record(
        Stage::DataPrep,
        &[&train, &test],
        &[format!("dataset={}", raw.display())],
    ));
    for (output, index) in [(&train, 0), (&test, 1)] {
        let verified = verify(&signed, output, &[]).unwrap();
        assert_eq!(verified.attestation.subjects.len(), 2);
        assert_eq!(
            verified.attestation.subject,
            verified.attestation.subjects[index]
        );
    }
    let error = verify(&signed, &raw, &[]).unwrap_err().to_string();
    assert!(
        error.contains("(train)") && error.contains("(test)"),
        "{error}"
    );
}

#[test]
fn a_stage_missing_what_it_needs_is_refused_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let out = folder(dir.path(), "out", b"w");
    let cases = [
        (
            Stage::Finetune,
            vec![],
            "the finetune stage needs exactly 1 base-model input, found 0",
        ),
        (
            Stage::Merge,
            vec!["base-model=pkg:huggingface/a/b#sha256=".to_owned() + &"0".repeat(64)],
            "the merge stage needs at least 2 base-model inputs, found 1",
        ),
        (
            Stage::Quantize,
            vec!["base-model=pkg:huggingface/a/b@main".to_owned()],
            "without a digest: base-model=pkg:huggingface/a/b@main",
        ),
        (
            Stage::Convert,
            vec![format!(
                "base-model={}",
                dir.path().join("missing").display()
            )],
            "cannot digest",
        ),
    ];
    for (stage, inputs, expected) in cases {
        let record = record(stage, &[&out], &inputs);
        let error = match record.check() {
            Err(e) => e,
            Ok(_) => record
                .resolve(&[], &HashSettings::default(), &Progress::none())
                .unwrap_err(),
        };
        assert!(error.is_input_error(), "{error}");
        assert!(error.to_string().contains(expected), "{stage}: {error}");
    }
    let mut unnamed = record(Stage::Convert, &[&out], &[]);
    unnamed.builder_id = Some("my laptop".into());
    let error = unnamed.check().unwrap_err();
    assert!(matches!(error, ProvenanceError::BadBuilderId(_)), "{error}");
    let mut allowed = record(
        Stage::Quantize,
        &[&out],
        &["base-model=pkg:huggingface/a/b@main".to_owned()],
    );
    allowed.allow_undigested = true;
    let warnings = allowed.check().unwrap();
    assert!(warnings[0].contains("graph tools"), "{warnings:?}");
}

#[test]
fn an_unknown_stage_and_a_malformed_provenance_are_named() {
    let f = finetune();
    let payload = f.signed.bundle.envelope.payload.clone();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let key = PrivateKey::generate(Curve::P256).unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let signer = KeySigner::new(key);
    let resign = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut statement = statement.clone();
        edit(&mut statement);
        let bundle = signer
            .sign_payload(serde_json::to_vec(&statement).unwrap())
            .unwrap();
        let signed = Signed {
            bundle,
            verifier: verifier.clone(),
        };
        verify(&signed, &f.tuned, &[]).unwrap_err()
    };
    let error = resign(&|s| {
        s["predicate"]["buildDefinition"]["buildType"] = "https://example.com/ml-train/v3".into()
    });
    assert!(matches!(error, ProvenanceError::UnknownStage(_)), "{error}");
    assert!(error.to_string().starts_with("unknown stage"), "{error}");
    let error = resign(&|s| {
        s["predicate"]["buildDefinition"]["resolvedDependencies"][1]["annotations"]["role"] =
            "weights".into()
    });
    assert!(
        error
            .to_string()
            .contains("resolvedDependencies[1] has the role 'weights'"),
        "{error}"
    );
    let error = resign(&|s| {
        let deps = s["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array_mut()
            .unwrap();
        deps.remove(1);
    });
    assert!(
        error.to_string().contains("needs at least 1 dataset input"),
        "{error}"
    );
}

#[test]
fn the_predicate_holds_only_slsa_fields_with_vendor_data_inside_parameters_and_annotations() {
    let f = finetune();
    let statement: serde_json::Value =
        serde_json::from_slice(&f.signed.bundle.envelope.payload).unwrap();
    let predicate = &statement["predicate"];
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(predicate), ["buildDefinition", "runDetails"]);
    assert_eq!(
        keys(&predicate["buildDefinition"]),
        [
            "buildType",
            "externalParameters",
            "internalParameters",
            "resolvedDependencies"
        ]
    );
    assert_eq!(keys(&predicate["runDetails"]), ["builder", "metadata"]);
    assert_eq!(
        keys(&predicate["runDetails"]["metadata"]),
        ["finishedOn", "startedOn"]
    );
    for dependency in predicate["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
    {
        for key in keys(dependency) {
            assert!(
                ["name", "uri", "digest", "annotations"].contains(&key.as_str()),
                "{key}"
            );
        }
    }
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
}

#[test]
fn a_stage_description_adds_to_its_draft_and_its_stage_and_parameters_win() {
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("draft.json");
    std::fs::write(
        &draft,
        serde_json::json!({
            "draft": draft::DRAFT_FORMAT,
            "stage": "adapter",
            "outputs": ["./tuned=pkg:huggingface/me/tuned"],
            "inputs": [{"input": "base-model=pkg:huggingface/org/base", "claimedBy": "README.md"}],
            "parameters": {"learning_rate": "1e-4", "epochs": "3"},
        })
        .to_string(),
    )
    .unwrap();
    let described = StageDescription {
        stage: Some(Stage::Finetune),
        draft: Some(draft),
        outputs: vec!["./more".into()],
        inputs: vec![format!(
            "dataset=pkg:huggingface/org/data#sha256={}",
            "ab".repeat(32)
        )],
        parameters: vec![("learning_rate".into(), "2e-5".into())],
        started: Some("2026-12-02T09:30:00Z".into()),
        ..StageDescription::default()
    }
    .record()
    .unwrap();
    assert_eq!(described.stage, Stage::Finetune, "the given stage wins");
    let outputs: Vec<_> = described.outputs.iter().map(|o| o.uri.clone()).collect();
    assert_eq!(
        outputs,
        [Some("pkg:huggingface/me/tuned".to_owned()), None],
        "the draft's outputs, then the given ones"
    );
    assert_eq!(described.inputs.len(), 2);
    assert_eq!(described.inputs[0].claimed_by.as_deref(), Some("README.md"));
    assert_eq!(described.inputs[1].role, Role::Dataset);
    assert_eq!(described.parameters["learning_rate"], "2e-5");
    assert_eq!(described.parameters["epochs"], "3");
    assert_eq!(
        described.started,
        Some(parse_time("2026-12-02T09:30:00Z").unwrap())
    );
    assert_eq!(described.finished, None);
}

#[test]
fn a_stage_description_without_a_stage_or_with_a_bad_reference_is_bad_input() {
    let error = StageDescription {
        outputs: vec!["./tuned".into()],
        ..StageDescription::default()
    }
    .record()
    .unwrap_err();
    assert!(matches!(error, ProvenanceError::NoStage), "{error}");
    assert!(error.is_input_error());
    for described in [
        StageDescription {
            stage: Some(Stage::Finetune),
            inputs: vec!["weights=./base".into()],
            ..StageDescription::default()
        },
        StageDescription {
            stage: Some(Stage::Finetune),
            finished: Some("yesterday".into()),
            ..StageDescription::default()
        },
    ] {
        let error = described.record().unwrap_err();
        assert!(error.is_input_error(), "{error}");
    }
}

/// An OCI image layout folder holding one image manifest (named `tag`) whose one layer is
/// the file `name` of `content`; the layers themselves are not stored, as no verification
/// reads them.
fn layout_image(root: &Path, folder_name: &str, name: &str, content: &[u8]) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = |bytes: &[u8]| {
        format!(
            "sha256:{}",
            base16ct::lower::encode_string(&Sha256::digest(bytes))
        )
    };
    let layout = root.join(folder_name);
    let blobs = layout.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.model.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(b"{}"), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.cncf.model.weight.v1.raw",
            "digest": digest(content),
            "size": content.len(),
            "annotations": {"org.opencontainers.image.title": name},
        }],
    }))
    .unwrap();
    let manifest_digest = digest(&manifest);
    std::fs::write(blobs.join(&manifest_digest[7..]), &manifest).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
        }],
    });
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    layout
}

fn image_subject(reference: &str) -> ModelSubject {
    let location = ModelLocation::parse(reference.as_ref()).unwrap();
    let image = reference::resolve_image(&location, &LazyRegistry::default()).unwrap();
    crate::oci::subject(&image, LazyRegistry::default().get().unwrap()).unwrap()
}

#[test]
fn images_are_inputs_and_outputs_named_by_the_root_digest_of_their_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let base = layout_image(dir.path(), "base", "model.safetensors", b"base weights");
    let tuned = layout_image(dir.path(), "tuned", "model.safetensors", b"tuned weights");
    let data = folder(dir.path(), "data", b"training rows");
    let base_ref = format!("oci-layout:{}", base.display());
    let tuned_ref = format!("oci-layout:{}", tuned.display());
    let stage = StageRecord {
        outputs: vec![OutputRef::parse(&tuned_ref).unwrap()],
        ..record(
            Stage::Finetune,
            &[],
            &[
                format!("base-model={base_ref}"),
                format!("dataset={}", data.display()),
            ],
        )
    };
    assert_eq!(
        stage.inputs[0].source,
        InputSource::Image {
            location: ModelLocation::parse(base_ref.as_ref()).unwrap()
        }
    );
    stage.check().unwrap();
    let resolved = stage
        .resolve_with(
            &[],
            &HashSettings::default(),
            &LazyRegistry::default(),
            &Progress::none(),
        )
        .unwrap();
    // The subject and the input are the root digests a model signature of each image
    // names; a layout folder is local, so no URI is recorded for either.
    let tuned_subject = image_subject(&tuned_ref);
    assert_eq!(resolved.subjects[0].root_digest, tuned_subject.root_digest);
    assert_eq!(resolved.subjects[0].uri, None);
    assert!(resolved.images[0].is_some());
    let base_input = &resolved.provenance.inputs[0];
    assert_eq!(
        base_input.root_digest(),
        Some(image_subject(&base_ref).root_digest)
    );
    assert_eq!(base_input.uri, None);
    assert_eq!(base_input.name.as_deref(), Some(base_ref.as_str()));

    let key = PrivateKey::generate(Curve::P256).unwrap();
    let verifier = KeyVerifier::new(key.public_key());
    let bundle = sign_provenance_into(
        &resolved.subjects,
        &resolved.provenance,
        &KeySigner::new(key),
        &[],
    )
    .unwrap();
    let verify_with = |checks: &[InputCheck]| {
        verify_provenance_with(
            &bundle,
            &verifier,
            ModelBinding::Known(&tuned_subject),
            checks,
            &LazyRegistry::default(),
            None,
            &Progress::none(),
        )
    };
    let verified = verify_with(&[check(Role::BaseModel, Path::new(&base_ref))]).unwrap();
    assert_eq!(
        verified.inputs[0],
        InputStatus::Checked {
            path: PathBuf::from(&base_ref)
        }
    );
    // Another image given as the base model: its root digest is not the one recorded.
    let error = verify_with(&[check(Role::BaseModel, Path::new(&tuned_ref))]).unwrap_err();
    assert!(
        matches!(error, ProvenanceError::InputChanged { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&tuned_subject.root_digest_string())
            && message.contains(&image_subject(&base_ref).root_digest_string()),
        "{message}"
    );
}

#[test]
fn an_image_outputs_provenance_goes_to_a_file_or_its_registry_and_what_cannot_hold_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_image(dir.path(), "tuned", "model.safetensors", b"tuned weights");
    let local = folder(dir.path(), "local", b"weights");
    let with_outputs = |outputs: &[&str]| StageRecord {
        outputs: outputs
            .iter()
            .map(|o| OutputRef::parse(o).unwrap())
            .collect(),
        ..record(Stage::Quantize, &[], &[])
    };
    let image = with_outputs(&["oci://registry.example.com/me/tuned:v1"]);
    // Without attaching, an image's provenance is a file in the current folder.
    assert_eq!(
        image.stores_with(None, None, false).unwrap(),
        vec![AttestationStore::File(PathBuf::from(PROVENANCE_FILE))]
    );
    // Attaching writes no file unless one is named.
    assert_eq!(image.stores_with(None, None, true).unwrap(), vec![]);
    let named = Path::new("out.sig");
    assert_eq!(
        image.stores_with(Some(named), None, true).unwrap(),
        vec![AttestationStore::File(named.to_path_buf())]
    );
    let local_ref = local.display().to_string();
    let layout_ref = format!("oci-layout:{}", layout.display());
    for (outputs, claims, attach, expected) in [
        (vec![local_ref.as_str()], None, true, "is a local output"),
        (
            vec!["oci://registry.example.com/me/tuned:v1", local_ref.as_str()],
            None,
            true,
            "is a local output",
        ),
        (vec![layout_ref.as_str()], None, true, "has no registry"),
        (
            vec!["oci://registry.example.com/me/tuned:v1"],
            Some(None),
            false,
            "no folder to keep a claims file",
        ),
    ] {
        let error = with_outputs(&outputs)
            .stores_with(None, claims, attach)
            .unwrap_err();
        assert!(error.is_input_error(), "{error}");
        assert!(error.to_string().contains(expected), "{outputs:?}: {error}");
    }
    // An evaluation's output is its results file, never an image; a malformed image
    // reference is refused as it is parsed.
    let evaluation = StageRecord {
        stage: Stage::Evaluate,
        ..with_outputs(&[&layout_ref])
    };
    let error = evaluation.check().unwrap_err();
    assert!(error.to_string().contains("it is an image"), "{error}");
    let error = OutputRef::parse("oci://no-repository").unwrap_err();
    assert!(error.to_string().contains("bad output"), "{error}");
    let error = InputRef::parse("base-model=oci://no-repository").unwrap_err();
    assert!(error.to_string().contains("bad input"), "{error}");
}
