//! `modelsign verify MODEL --policy FILE`: verification under a trust policy. The library
//! decides who signed and whether that signer may sign this model; this prints it.

use std::path::Path;

use modelsign::error::Classify;
use modelsign::oci::ModelLocation;
use modelsign::text::printable_path;
use modelsign::trust::TrustPolicy;
use modelsign::trust::{self, PolicyFailure, PolicyMode, PolicyOutcome, PolicyVerifier};
use modelsign::VerifyOptions;
use serde_json::{json, Value};

use crate::args::VerifyPolicyArgs;
use crate::failure::Failure;
use crate::settings::{ignore_set, workers};
use crate::{progress, signer_json, verify_failure};

pub fn verify(args: &VerifyPolicyArgs) -> Result<(), Failure> {
    // clap requires these two unless a method subcommand is given instead.
    let (Some(model), Some(policy_path)) = (args.model.as_deref(), args.policy.as_deref()) else {
        return Err(Failure::input(
            "give the model, --policy and --signature, or a method (key, certificate, sigstore)",
        ));
    };
    let location = ModelLocation::parse(model.as_os_str()).map_err(Failure::input)?;
    if !location.is_local() {
        crate::refuse_partial_for_image(&args.partial)?;
        crate::oci::refuse_local_options(
            None,
            &args.selection,
            &[("--ignore-unsigned-files", args.ignore_unsigned_files)],
        )?;
        return verify_image(args, &location, policy_path, args.signature.as_deref());
    }
    let Some(signature) = args.signature.as_deref() else {
        return Err(Failure::input(format!(
            "give the signature to verify '{}' against with --signature SIGNATURE_PATH",
            model.display()
        )));
    };
    let policy = TrustPolicy::read(policy_path).map_err(Failure::input)?;
    let verifier = PolicyVerifier::new(policy).map_err(Failure::input)?;
    let names = trust::model_names(model);
    debugln!(
        "'{}' is matched against the policy's names as {}",
        model.display(),
        names.join(", ")
    );
    let options = VerifyOptions {
        ignore: ignore_set(model, &args.selection)?,
        ignore_unsigned_files: args.ignore_unsigned_files && !args.no_ignore_unsigned_files,
        allow_symlinks: args.selection.allow_symlinks,
        honour_recorded_allow_symlinks: true,
        signature_path: Some(signature.to_path_buf()),
        max_workers: workers(args.max_workers),
        hashing: None,
        only_files: crate::only_files(&args.partial),
    };
    let outcome = verifier.verify(
        model,
        signature,
        &names,
        &options,
        &progress::for_output(&args.output),
    );
    report(args, &model.display().to_string(), policy_path, outcome)
}

/// `verify oci://… --policy FILE`: the image is named by its reference (a layout by its
/// folder), and checked against `signature` or the signatures stored beside it.
fn verify_image(
    args: &VerifyPolicyArgs,
    location: &ModelLocation,
    policy_path: &Path,
    signature: Option<&Path>,
) -> Result<(), Failure> {
    let policy = TrustPolicy::read(policy_path).map_err(Failure::input)?;
    let verifier = PolicyVerifier::new(policy).map_err(Failure::input)?;
    let registry = crate::oci::registry(&args.registry)?;
    let image = crate::oci::resolve(location, &registry)?;
    let names = match location {
        ModelLocation::Registry(reference) => trust::image_names(reference),
        ModelLocation::Layout { path, .. } => trust::model_names(path),
        ModelLocation::Local(path) => trust::model_names(path),
    };
    debugln!(
        "{location} is matched against the policy's names as {}",
        names.join(", ")
    );
    let outcome = match signature {
        Some(path) => {
            let bundle =
                modelsign::Bundle::read(path).map_err(|e| Failure::of(e.is_input_error(), e))?;
            verifier.verify_image(&image, &registry, &bundle, &names)
        }
        None => verifier.verify_image_beside(&image, &registry, &names),
    };
    report(args, &location.to_string(), policy_path, outcome)
}

/// Prints the outcome (`model` as the user named it) and turns a refusal into the exit
/// status of `verify key` for the same failure, or a warning in warn mode.
fn report(
    args: &VerifyPolicyArgs,
    model: &str,
    policy_path: &Path,
    outcome: PolicyOutcome,
) -> Result<(), Failure> {
    let where_from = format!(
        "trust policy '{}', mode {}",
        printable_path(policy_path),
        outcome.mode.name()
    );
    let PolicyOutcome {
        mode,
        signer,
        names,
        result,
    } = outcome;
    let outcome_json = |accepted: bool, failure: Value| {
        json!({
            "mode": mode.name(),
            "accepted": accepted,
            "signer": signer,
            "names": names,
            "failure": failure,
        })
    };
    let failure = match result {
        Ok(report) => {
            if args.output.json {
                let mut value = json!({
                    "ok": true,
                    "verified": true,
                    "model": model,
                    "signed_model_name": report.signed_model_name,
                    "root_digest": report.root_digest,
                    "resources": report.resources,
                    "signed_files": report.signed_files,
                    "partial": report.checked_files.is_some(),
                    "checked_files": report.checked_files,
                    "resources_checked": report.resources_checked,
                    "hash_type": report.serialization.hash_type.as_str(),
                    "serialization": report.serialization.serialization.method(),
                    "notes": report.notes,
                    "identity": signer_json(&report),
                });
                merge(&mut value, outcome_json(true, Value::Null));
                crate::output::json(&value, 0);
            } else if !args.output.quiet {
                for note in &report.notes {
                    warnln!("{note}");
                }
                crate::print_verified(model, &report);
                outln!(
                    "Signed by the policy's signer '{}' ({where_from})",
                    signer.as_deref().unwrap_or_default()
                );
            }
            return Ok(());
        }
        Err(failure) => failure,
    };
    let refusal = refusal(model, signer.as_deref(), failure);
    if mode == PolicyMode::Warn {
        warnln!(
            "the trust policy refuses '{}', and lets it through as its mode is warn: {}",
            model,
            refusal.message
        );
        if args.output.json {
            let mut value = json!({ "ok": true, "verified": false, "model": model });
            merge(&mut value, outcome_json(false, refusal.json));
            crate::output::json(&value, 0);
        } else if !args.output.quiet {
            outln!("Not verified, let through: {} ({where_from})", model);
        }
        return Ok(());
    }
    let mut details = json!({ "verified": false, "model": model });
    merge(&mut details, outcome_json(false, refusal.json));
    Err(Failure {
        code: refusal.code,
        message: format!("{} ({where_from})", refusal.message),
        details: Some(details),
    })
}

/// A refusal as the CLI reports it: its message (with the option that fixes it, where one
/// does), its exit status (that of `verify key` for the same failure) and its JSON.
struct Refusal {
    message: String,
    code: u8,
    json: Value,
}

fn refusal(model: &str, signer: Option<&str>, failure: PolicyFailure) -> Refusal {
    let kind = failure.kind_name();
    let attempts: Vec<Value> = match &failure {
        PolicyFailure::Untrusted { attempts } => attempts
            .iter()
            .map(|a| json!({ "signer": a.signer, "reason": a.reason }))
            .collect(),
        _ => Vec::new(),
    };
    let is_input_error = failure.is_input_error();
    let (message, code, details) = match failure {
        PolicyFailure::Model(error) => {
            let reported = verify_failure(error);
            let message = match signer {
                Some(signer) => format!(
                    "signed by the policy's signer '{signer}', but {}",
                    reported.message
                ),
                None => reported.message,
            };
            (message, reported.code, reported.details)
        }
        PolicyFailure::Signature(error) => {
            let failed = Failure::of(is_input_error, error);
            (failed.message, failed.code, None)
        }
        other => {
            let failed = Failure::of(is_input_error, other);
            (failed.message, failed.code, None)
        }
    };
    let mut json = json!({ "kind": kind, "message": message, "attempts": attempts });
    if let Some(mut details) = details {
        if let Some(obj) = details.as_object_mut() {
            obj.remove("verified");
        }
        merge(&mut json, details);
    }
    debugln!("the trust policy refuses '{}': {kind}", model);
    Refusal {
        message,
        code,
        json,
    }
}

/// Adds the fields of `extra` (an object) to `value` (an object).
fn merge(value: &mut Value, extra: Value) {
    if let (Some(obj), Value::Object(extra)) = (value.as_object_mut(), extra) {
        obj.extend(extra);
    }
}
