//! `modelsign provenance …`: recording and verifying a pipeline stage's signed SLSA
//! provenance, and drafting one from Hugging Face metadata, over the library's
//! `provenance` module.

use std::path::Path;

use modelsign::attestation::{AttestationStore, ModelBinding, ModelSubject};
use modelsign::error::{Classify, ProvenanceError};
use modelsign::oci::registry::LazyRegistry;
use modelsign::oci::{Attached, ModelLocation};
use modelsign::provenance::draft::Draft;
use modelsign::provenance::{
    self, huggingface, Input, InputCheck, InputStatus, StageDescription, StageRecord,
    VerifiedProvenance, SELF_RECORDED_BUILDER,
};
use modelsign::text::printable;
use serde_json::{json, Value};

use modelsign::oci::attach::Attachment;

use crate::args::{
    OutputArgs, ProvenanceCommand, ProvenanceImportHfArgs, ProvenanceRecordCommon,
    ProvenanceRecordMethod, ProvenanceVerifyCommon, ProvenanceVerifyMethod,
};
use crate::failure::Failure;
use crate::methods;
use crate::progress;
use crate::settings::{count, hash_settings, workers};

pub fn run(command: &ProvenanceCommand) -> Result<(), Failure> {
    match command {
        ProvenanceCommand::Record(method) => record(method),
        ProvenanceCommand::Verify(method) => verify(method),
        ProvenanceCommand::ImportHf(args) => import_hf(args),
    }
}

fn failure(error: ProvenanceError) -> Failure {
    Failure::of(error.is_input_error(), error)
}

/// The stage as the flags (and the draft, when given) describe it.
fn stage_record(common: &ProvenanceRecordCommon) -> Result<StageRecord, Failure> {
    let parameters = common
        .parameters
        .iter()
        .map(|p| provenance::parse_parameter(p))
        .collect::<Result<_, _>>()
        .map_err(failure)?;
    StageDescription {
        stage: common.stage,
        draft: common.draft.clone(),
        outputs: common.outputs.clone(),
        inputs: common.inputs.clone(),
        parameters,
        builder_id: common.builder_id.clone(),
        started: common.started.clone(),
        finished: common.finished.clone(),
        allow_undigested: common.allow_undigested,
    }
    .record()
    .map_err(|e| match e {
        // The one way to give a stage here is the flag.
        ProvenanceError::NoStage => {
            Failure::input("the draft names no stage: give it with --stage")
        }
        e => failure(e),
    })
}

fn record(method: &ProvenanceRecordMethod) -> Result<(), Failure> {
    let (common, spec) = methods::attest_signer(method);
    // Everything that needs no hashing is checked before anything slow (hashing) or
    // interactive (a PIN, a browser sign-in) happens.
    let record = stage_record(common)?;
    let warnings = record.check().map_err(failure)?;
    let stores = record
        .stores_with(
            common.output_file.as_deref(),
            common.claims.as_ref().map(Option::as_deref),
            common.attach,
        )
        .map_err(failure)?;
    record.check_writable(&stores).map_err(failure)?;
    // An image output is named by its manifest's digests: nothing of it is hashed here.
    let output_settings = record
        .outputs
        .iter()
        .map(|output| match output.is_image() {
            true => Ok(modelsign::HashSettings::default()),
            false => hash_settings(&output.path, &common.hashing),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Made on the first image input or output: a local-only stage starts no client.
    let registry = LazyRegistry::new(crate::oci::registry_options(&common.registry)?);
    // Exclusions name paths inside an output; inputs are hashed by the default rules.
    let mut input_hashing = common.hashing.clone();
    input_hashing.selection.ignore_paths.clear();
    let input_settings = hash_settings(Path::new("."), &input_hashing)?;
    let built = methods::build_signer(&spec, &common.output)?;
    let progress = progress::for_output(&common.output);
    let resolved = record
        .resolve_with(&output_settings, &input_settings, &registry, &progress)
        .map_err(failure)?;
    let (subjects, provenance) = (&resolved.subjects, &resolved.provenance);
    let bundle =
        provenance::sign_provenance_into(subjects, provenance, built.signer.as_ref(), &stores)
            .map_err(failure)?;
    let attached: Vec<Attached> = if common.attach {
        provenance::attach_provenance(
            &resolved,
            &bundle,
            &registry,
            crate::oci::attach_mode(common.attach_mode),
        )
        .map_err(failure)?
    } else {
        Vec::new()
    };
    let written: Vec<&Path> = stores.iter().map(AttestationStore::path).collect();
    if common.output.json {
        crate::output::json(
            &json!({
                "ok": true,
                "method": spec.method(),
                "stage": provenance.stage.name(),
                "build_type": provenance.stage.build_type(),
                "builder": provenance.builder_id,
                "subjects": subjects.iter().map(subject_json).collect::<Vec<_>>(),
                "inputs": provenance.inputs.iter().map(|i| input_json(i, None)).collect::<Vec<_>>(),
                "provenance": written,
                "attached": attached.iter().map(crate::oci::attached_json).collect::<Vec<_>>(),
                "warnings": warnings,
            }),
            0,
        );
    } else if !common.output.quiet {
        for warning in &warnings {
            warnln!("{}", printable(warning));
        }
        let outputs: Vec<String> = subjects
            .iter()
            .map(|s| format!("{} ({})", s.name, s.root_digest_string()))
            .collect();
        let places: Vec<String> = written
            .iter()
            .map(|p| p.display().to_string())
            .chain(attached.iter().map(|a| a.reference.clone()))
            .collect();
        outln!(
            "Provenance recorded: {} stage, {} from {} -> {}",
            provenance.stage,
            printable(&outputs.join(", ")),
            count(provenance.inputs.len(), "input"),
            printable(&places.join(", "))
        );
    }
    Ok(())
}

fn verify(method: &ProvenanceVerifyMethod) -> Result<(), Failure> {
    let common = methods::attest_verify_common(method);
    // Usage errors first (exit 2), before a key is read or a model hashed.
    let checks = common
        .inputs
        .iter()
        .map(|text| InputCheck::parse(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failure)?;
    let location = ModelLocation::parse(common.model.as_os_str()).map_err(Failure::input)?;
    if !location.is_local() && common.claims.is_some() {
        return Err(Failure::input(format!(
            "--claims reads a claims file kept beside a local model; the provenance of {location} is --provenance FILE or the one stored beside it in the registry"
        )));
    }
    // Made on the first image (the model, or an input checked): none for local models.
    let registry = LazyRegistry::new(crate::oci::registry_options(&common.registry)?);
    let (spec, method_name) = methods::attest_verifier(method)?;
    let verifier = spec.build().map_err(methods::spec_failure)?.verifier;
    if !location.is_local() {
        let verified =
            verify_image_provenance(common, &location, verifier.as_ref(), &checks, &registry)?;
        report_verified(&verified, method_name, &common.output);
        return Ok(());
    }
    let file = common
        .provenance
        .clone()
        .unwrap_or_else(|| provenance::default_path(&common.model));
    let stored = AttestationStore::choose(
        &common.model,
        &file,
        common.claims.as_ref().map(Option::as_deref),
    )
    .read()
    .map_err(|e| failure(ProvenanceError::Attestation(e.into())))?;
    let progress = progress::for_output(&common.output);
    let max_workers = workers(common.max_workers);
    let binding = ModelBinding::Rehash {
        model_path: &common.model,
        max_workers,
        progress: &progress,
    };
    let verified = provenance::verify_stored_provenance_with(
        &stored,
        verifier.as_ref(),
        binding,
        &checks,
        &registry,
        max_workers,
        &progress,
    )
    .map_err(failure)?;
    report_verified(&verified, method_name, &common.output);
    Ok(())
}

/// The provenance that verifies for an image: from `--provenance`, else the newest stored
/// beside it in the registry that verifies, bound to the image manifest's root digest.
fn verify_image_provenance(
    common: &ProvenanceVerifyCommon,
    location: &ModelLocation,
    verifier: &dyn modelsign::Verifier,
    checks: &[InputCheck],
    registry: &LazyRegistry,
) -> Result<VerifiedProvenance, Failure> {
    let client = registry.get().map_err(crate::oci::failure)?;
    let image = crate::oci::resolve(location, client)?;
    let subject = modelsign::oci::subject(&image, client).map_err(crate::oci::failure)?;
    let binding = ModelBinding::Known(&subject);
    let progress = progress::for_output(&common.output);
    let max_workers = workers(common.max_workers);
    let verify = |bundle: &modelsign::Bundle| {
        provenance::verify_provenance_with(
            bundle,
            verifier,
            binding,
            checks,
            registry,
            max_workers,
            &progress,
        )
    };
    match &common.provenance {
        Some(path) => {
            let bundle = modelsign::Bundle::read(path)
                .map_err(|e| failure(modelsign::VerifyError::from(e).into()))?;
            verify(&bundle).map_err(failure)
        }
        None => modelsign::oci::verify_beside(client, &image, Attachment::Provenance, verify)
            .map(|(verified, _)| verified)
            .map_err(failure),
    }
}

fn report_verified(verified: &VerifiedProvenance, method: &str, output: &OutputArgs) {
    let attestation = &verified.attestation;
    let provenance = &attestation.predicate;
    let self_recorded = provenance.builder_id == SELF_RECORDED_BUILDER;
    if output.json {
        crate::output::json(
            &json!({
                "ok": true,
                "stage": provenance.stage.name(),
                "build_type": provenance.stage.build_type(),
                "builder": provenance.builder_id,
                "self_recorded": self_recorded,
                "model": subject_json(&attestation.subject),
                "subjects": attestation.subjects.iter().map(subject_json).collect::<Vec<_>>(),
                "signer": attestation.signer.as_ref().map(|s| json!({"identity": s.identity, "issuer": s.issuer})),
                "public_key_hint": attestation.public_key_hint,
                "inputs": provenance.inputs.iter().zip(&verified.inputs)
                    .map(|(input, status)| input_json(input, Some(status))).collect::<Vec<_>>(),
                "parameters": provenance.parameters,
                "started": provenance.started.to_string(),
                "finished": provenance.finished.to_string(),
                "notes": attestation.notes,
            }),
            0,
        );
        return;
    }
    if output.quiet {
        return;
    }
    for note in &attestation.notes {
        warnln!("{}", printable(note));
    }
    let by = match &attestation.signer {
        Some(s) => format!("signed by {} ({})", s.identity, s.issuer),
        None => format!("signed with {method}"),
    };
    outln!(
        "Provenance verification succeeded: the {} stage that produced {} ({}), {}",
        provenance.stage,
        printable(&attestation.subject.name),
        attestation.subject.root_digest_string(),
        printable(&by)
    );
    outln!(
        "  builder     {}{}",
        printable(&provenance.builder_id),
        if self_recorded {
            " (self-recorded: SLSA Build L1)"
        } else {
            ""
        }
    );
    outln!(
        "  ran         {} to {}",
        provenance.started,
        provenance.finished
    );
    for (input, status) in provenance.inputs.iter().zip(&verified.inputs) {
        let digest = input
            .digest
            .iter()
            .map(|(algorithm, hex)| format!("{algorithm}:{hex}"))
            .collect::<Vec<_>>()
            .join(" ");
        let how = match status {
            InputStatus::Checked { path } => format!("matches {}", path.display()),
            InputStatus::Claimed { by } => format!("claimed by {by}; not verified"),
            InputStatus::Undigested => "no digest; not verifiable".to_owned(),
            _ => "signed digest, not re-checked here".to_owned(),
        };
        let digest = if digest.is_empty() {
            String::new()
        } else {
            format!(" {digest}")
        };
        outln!(
            "  {:<11} {:<10} {}{} ({})",
            status.name(),
            input.role,
            printable(&input.label()),
            digest,
            printable(&how)
        );
    }
    for (key, value) in &provenance.parameters {
        outln!("  parameter   {}={}", printable(key), printable(value));
    }
}

fn subject_json(subject: &ModelSubject) -> Value {
    json!({
        "name": subject.name,
        "root_digest": subject.root_digest_string(),
        "uri": subject.uri,
    })
}

fn input_json(input: &Input, status: Option<&InputStatus>) -> Value {
    let mut value = json!({
        "role": input.role.name(),
        "name": input.name,
        "uri": input.uri,
        "digest": input.digest,
        "claimed_by": input.claimed_by,
    });
    if let (Some(status), Some(object)) = (status, value.as_object_mut()) {
        object.insert("status".into(), status.name().into());
        if let InputStatus::Checked { path } = status {
            object.insert("checked_against".into(), json!(path));
        }
    }
    value
}

fn import_hf(args: &ProvenanceImportHfArgs) -> Result<(), Failure> {
    if args.output.exists() && !args.force {
        return Err(Failure::input(format!(
            "'{}' exists; pass --force to replace it",
            printable(&args.output.display().to_string())
        )));
    }
    let lineage =
        huggingface::import(&args.model).map_err(|e| Failure::of(e.is_input_error(), e))?;
    let draft = Draft::of_hf_lineage(&lineage);
    std::fs::write(&args.output, draft.to_json()).map_err(|e| {
        Failure::input(format!(
            "cannot write '{}': {e}",
            printable(&args.output.display().to_string())
        ))
    })?;
    if args.report.json {
        let mut value = serde_json::to_value(&draft).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("ok".into(), true.into());
            object.insert("written".into(), json!(args.output));
        }
        crate::output::json(&value, 0);
    } else if !args.report.quiet {
        for note in &draft.notes {
            warnln!("{}", printable(note));
        }
        outln!(
            "Drafted {}: {} stage ({}), {} claimed from metadata, none verified.",
            printable(&args.output.display().to_string()),
            draft.stage.as_deref().unwrap_or("no"),
            printable(draft.relation.as_deref().unwrap_or("nothing says which")),
            count(draft.inputs.len(), "input"),
        );
        for input in &draft.inputs {
            outln!(
                "  claimed  {}  ({})",
                printable(&input.input),
                printable(input.claimed_by.as_deref().unwrap_or("metadata"))
            );
        }
        outln!("Review it, then sign it with `modelsign provenance record METHOD --draft {}` (claimed inputs carry no digest: add one, or pass --allow-undigested).",
            printable(&args.output.display().to_string()));
    }
    Ok(())
}

/// The output flags of a provenance command, and what it does (for the failure message).
pub fn output_of(command: &ProvenanceCommand) -> (&OutputArgs, &'static str) {
    match command {
        ProvenanceCommand::Record(method) => (
            &methods::attest_signer(method).0.output,
            "Recording the provenance",
        ),
        ProvenanceCommand::Verify(method) => (
            &methods::attest_verify_common(method).output,
            "Provenance verification",
        ),
        ProvenanceCommand::ImportHf(args) => (&args.report, "Drafting the provenance"),
    }
}
