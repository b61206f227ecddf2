//! `modelsign card …`: drafting, signing, verifying and showing signed model cards, over
//! the library's `card` module.

use modelsign::attestation::AttestationStore;
use modelsign::card::{
    self, Format, ModelBinding, ModelCard, ModelSubject, Policy, SubjectSource, VerifiedCard,
};
use modelsign::error::AttestationError;
use modelsign::error::Classify;
use modelsign::oci::attach::Attachment;
use modelsign::oci::ModelLocation;
use modelsign::spec::SignerSpec;
use modelsign::text::printable;
use modelsign::CardError;
use serde_json::json;

use crate::args::{
    CardCommand, CardFormatArg, CardInitArgs, CardSignCommon, CardSignMethod, CardVerifyCommon,
    CardVerifyMethod, OutputArgs,
};
use crate::failure::Failure;
use crate::hints;
use crate::methods;
use crate::progress;
use crate::settings::{count, hash_settings, workers};

pub fn run(command: &CardCommand) -> Result<(), Failure> {
    match command {
        CardCommand::Init(a) => init(a),
        CardCommand::Sign(method) => sign(method),
        CardCommand::Verify(method) => verify(method, false),
        CardCommand::Show(method) => verify(method, true),
    }
}

/// A failure of the generic attestation steps (where the card goes, which model), as a card's.
fn card_failure_of(error: impl Into<AttestationError>) -> Failure {
    card_failure(CardError::Attestation(error.into()))
}

fn card_failure(error: CardError) -> Failure {
    Failure::of(error.is_input_error(), error)
}

fn init(args: &CardInitArgs) -> Result<(), Failure> {
    if args.output.exists() && !args.force {
        return Err(Failure::input(format!(
            "'{}' exists; pass --force to replace it",
            args.output.display()
        )));
    }
    let settings = hash_settings(&args.model, &args.hashing)?;
    let mut draft = card::draft(&args.model, &settings, &progress::for_output(&args.report))
        .map_err(card_failure)?;
    for file in &args.evals {
        let metrics = card::import_evaluations(file).map_err(card_failure)?;
        draft.card.metrics.extend(metrics);
    }
    std::fs::write(&args.output, draft.card.to_yaml())
        .map_err(|e| Failure::input(format!("cannot write '{}': {e}", args.output.display())))?;
    let card = &draft.card;
    if args.report.json {
        crate::output::json(
            &json!({
                "ok": true,
                "card": args.output,
                "model": card.name,
                "root_digest": draft.subject.root_digest_string(),
                "metrics": card.metrics.len(),
                "datasets": card.datasets.len(),
                "notes": draft.notes,
            }),
            0,
        );
    } else if !args.report.quiet {
        for note in &draft.notes {
            warnln!("{}", printable(note));
        }
        if !card.unknown_metrics().is_empty() {
            warnln!("{}", hints::CUSTOM_METRICS_HINT);
        }
        outln!(
            "Drafted {} for {} ({}): {}, {}. Review it, then sign it with `modelsign card sign`.",
            printable(&args.output.display().to_string()),
            printable(&card.name),
            draft.subject.root_digest_string(),
            count(card.metrics.len(), "evaluation result"),
            count(card.datasets.len(), "dataset"),
        );
    }
    Ok(())
}

/// The common flags, and the signing method with its material.
fn sign_common(method: &CardSignMethod) -> (&CardSignCommon, SignerSpec) {
    methods::attest_signer(method)
}

fn sign(method: &CardSignMethod) -> Result<(), Failure> {
    let (common, spec) = sign_common(method);
    // Read and check the card before anything slow (hashing) or interactive (a PIN, a
    // browser sign-in) happens.
    let card = ModelCard::read(&common.card).map_err(card_failure)?;
    card.validate(common.allow_custom_metrics)
        .map_err(card_failure)?;
    let location = ModelLocation::parse(common.model.as_os_str()).map_err(Failure::input)?;
    if !location.is_local() {
        return sign_image_card(common, &spec, &card, &location);
    }
    if common.attach {
        return Err(Failure::input(format!(
            "--attach stores the card's signature in a registry; '{}' is a local model (give an oci://REGISTRY/REPO:TAG image)",
            common.model.display()
        )));
    }
    let signature_path = common
        .signature
        .clone()
        .unwrap_or_else(|| DEFAULT_CARD_SIGNATURE.into());
    let store = AttestationStore::choose(
        &common.model,
        &signature_path,
        common.claims.as_ref().map(Option::as_deref),
    );
    store
        .check_writable(&common.model)
        .map_err(card_failure_of)?;
    let built = methods::build_signer(&spec, &common.output)?;
    let progress = progress::for_output(&common.output);
    let settings;
    let source = match &common.model_signature {
        Some(signature) => SubjectSource::OwnModelSignature {
            signature,
            key: built.public_key.as_ref(),
        },
        None => {
            settings = hash_settings(&common.model, &common.hashing)?;
            SubjectSource::Hash {
                model_path: &common.model,
                settings: &settings,
                progress: &progress,
            }
        }
    };
    let subject = ModelSubject::establish(source).map_err(card_failure_of)?;
    card::sign_card_into(
        &card,
        &subject,
        built.signer.as_ref(),
        common.allow_custom_metrics,
        &store,
    )
    .map_err(card_failure)?;
    let written = store.path();
    if common.output.json {
        crate::output::json(
            &json!({
                "ok": true,
                "method": spec.method(),
                "model": subject.name,
                "root_digest": subject.root_digest_string(),
                "card_signature": written,
                "metrics": card.metrics.len(),
            }),
            0,
        );
    } else if !common.output.quiet {
        outln!(
            "Card signing succeeded: {} card ({}) bound to {} -> {}",
            printable(&card.name),
            count(card.metrics.len(), "evaluation result"),
            subject.root_digest_string(),
            printable(&written.display().to_string())
        );
    }
    Ok(())
}

/// Where a card's signature goes, and is looked for, beside a local model.
const DEFAULT_CARD_SIGNATURE: &str = "model-card.sig";

/// `card sign` of an image: the subject is the image manifest's OMS root digest; the
/// signature goes to a file, the registry (`--attach`), or both.
fn sign_image_card(
    common: &CardSignCommon,
    spec: &SignerSpec,
    card: &ModelCard,
    location: &ModelLocation,
) -> Result<(), Failure> {
    if common.claims.is_some() || common.model_signature.is_some() {
        return Err(Failure::input(
            "--claims and --model-signature are for local models; an image's root digest comes from its manifest, and its card goes to --signature or --attach",
        ));
    }
    crate::oci::refuse_local_options(Some(&common.hashing), &common.hashing.selection, &[])?;
    if common.attach && !matches!(location, ModelLocation::Registry(_)) {
        return Err(Failure::input(format!(
            "--attach stores the card's signature in a registry; {location} is not an oci:// image (write it with --signature)"
        )));
    }
    let signature_path = match (&common.signature, common.attach) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => None,
        (None, false) => Some(std::path::PathBuf::from(DEFAULT_CARD_SIGNATURE)),
    };
    if let Some(path) = &signature_path {
        modelsign::bundle::check_target(path).map_err(|e| Failure::of(e.is_input_error(), e))?;
    }
    let registry = crate::oci::registry(&common.registry)?;
    let image = crate::oci::resolve(location, &registry)?;
    let subject = modelsign::oci::subject(&image, &registry).map_err(crate::oci::failure)?;
    let built = methods::build_signer(spec, &common.output)?;
    let bundle = card::sign_card(
        card,
        &subject,
        built.signer.as_ref(),
        common.allow_custom_metrics,
    )
    .map_err(card_failure)?;
    if let Some(path) = &signature_path {
        bundle
            .write_atomic(path)
            .map_err(|e| Failure::of(e.is_input_error(), e))?;
    }
    let attached = if common.attach {
        Some(
            modelsign::oci::attach(
                &registry,
                &image,
                &bundle.to_json(),
                Attachment::ModelCard,
                crate::oci::attach_mode(common.attach_mode),
            )
            .map_err(crate::oci::failure)?,
        )
    } else {
        None
    };
    if common.output.json {
        crate::output::json(
            &json!({
                "ok": true,
                "method": spec.method(),
                "model": location.to_string(),
                "image_manifest_digest": image.manifest.digest,
                "root_digest": subject.root_digest_string(),
                "card_signature": signature_path,
                "attached": attached.as_ref().map(crate::oci::attached_json),
                "metrics": card.metrics.len(),
            }),
            0,
        );
    } else if !common.output.quiet {
        let mut places: Vec<String> = signature_path
            .iter()
            .map(|p| printable(&p.display().to_string()).into_owned())
            .collect();
        places.extend(attached.as_ref().map(|a| a.reference.clone()));
        outln!(
            "Card signing succeeded: {} card ({}) bound to {} ({location}) -> {}",
            printable(&card.name),
            count(card.metrics.len(), "evaluation result"),
            subject.root_digest_string(),
            places.join(" and ")
        );
    }
    Ok(())
}

/// The card that verifies for an image: from `--card-signature`, else the newest card
/// signature stored beside it in the registry that verifies.
fn verify_image_card(
    common: &CardVerifyCommon,
    location: &ModelLocation,
    verifier: &dyn modelsign::Verifier,
    policies: &[Policy],
) -> Result<VerifiedCard, Failure> {
    if common.claims.is_some() || common.model_signature.is_some() {
        return Err(Failure::input(
            "--claims and --model-signature are for local models; an image's card signature is --card-signature FILE or the one stored beside it in the registry",
        ));
    }
    let registry = crate::oci::registry(&common.registry)?;
    let image = crate::oci::resolve(location, &registry)?;
    let subject = modelsign::oci::subject(&image, &registry).map_err(crate::oci::failure)?;
    let binding = ModelBinding::Known(&subject);
    match &common.card_signature {
        Some(path) => {
            let bundle = modelsign::Bundle::read(path)
                .map_err(|e| card_failure(modelsign::VerifyError::from(e).into()))?;
            card::verify_card(&bundle, verifier, binding, policies).map_err(card_failure)
        }
        None => modelsign::oci::verify_beside(&registry, &image, Attachment::ModelCard, |bundle| {
            card::verify_card(bundle, verifier, binding, policies)
        })
        .map(|(verified, _)| verified)
        .map_err(card_failure),
    }
}

fn verify_common(method: &CardVerifyMethod) -> &CardVerifyCommon {
    methods::attest_verify_common(method)
}

/// Where the result goes: with `--json`, one JSON object on stdout, and a rendering only to
/// `--output-file`; otherwise the rendering (`card show`, `--format`) or a summary.
enum Report {
    Json { file: Option<CardFormatArg> },
    Rendering(CardFormatArg),
    Summary,
}

fn report_of(common: &CardVerifyCommon, show: bool) -> Result<Report, Failure> {
    if common.output.json {
        return match (common.format, &common.output_file) {
            (Some(format), Some(_)) => Ok(Report::Json { file: Some(format) }),
            (None | Some(CardFormatArg::Json), None) => Ok(Report::Json { file: None }),
            (None, Some(_)) => Ok(Report::Json {
                file: Some(CardFormatArg::Json),
            }),
            (Some(_), None) => Err(Failure::input(
                "--json prints one JSON object on stdout: write the --format rendering to a file with --output-file, or drop --json",
            )),
        };
    }
    Ok(match (common.format, show) {
        (Some(format), _) => Report::Rendering(format),
        (None, true) => Report::Rendering(CardFormatArg::Text),
        (None, false) => Report::Summary,
    })
}

fn verify(method: &CardVerifyMethod, show: bool) -> Result<(), Failure> {
    let common = verify_common(method);
    // Policies and output flags first: a typo is a usage error (exit 2), reported before a
    // key is read, a trust root fetched or a model hashed.
    let policies = common
        .requirements
        .iter()
        .map(|p| Policy::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(card_failure)?;
    let report = report_of(common, show)?;
    let (spec, method_name) = methods::attest_verifier(method)?;
    let verifier = spec.build().map_err(methods::spec_failure)?.verifier;
    let location = ModelLocation::parse(common.model.as_os_str()).map_err(Failure::input)?;
    let verified = if location.is_local() {
        verify_local_card(common, verifier.as_ref(), &policies)?
    } else {
        verify_image_card(common, &location, verifier.as_ref(), &policies)?
    };
    report_verified(common, report, verified, method_name)
}

/// The card that verifies for a local model: from its card signature or claims file,
/// bound by re-hashing the model or through its own signature.
fn verify_local_card(
    common: &CardVerifyCommon,
    verifier: &dyn modelsign::Verifier,
    policies: &[Policy],
) -> Result<VerifiedCard, Failure> {
    let card_signature = common
        .card_signature
        .clone()
        .unwrap_or_else(|| DEFAULT_CARD_SIGNATURE.into());
    // The card, or the claims holding it, is read before any model is hashed.
    let stored = AttestationStore::choose(
        &common.model,
        &card_signature,
        common.claims.as_ref().map(Option::as_deref),
    )
    .read()
    .map_err(card_failure_of)?;
    let progress = progress::for_output(&common.output);
    let max_workers = workers(common.max_workers);
    let subject = match &common.model_signature {
        Some(model_signature) => Some(
            ModelSubject::of_model_signature_check(
                &common.model,
                model_signature,
                verifier,
                max_workers,
                &progress,
            )
            .map_err(card_failure_of)?,
        ),
        None => None,
    };
    let binding = match &subject {
        Some(subject) => ModelBinding::Known(subject),
        None => ModelBinding::Rehash {
            model_path: &common.model,
            max_workers,
            progress: &progress,
        },
    };
    card::verify_stored_card(&stored, verifier, binding, policies).map_err(card_failure)
}

/// Prints (or writes) the verified card as `report` says, failing on unmet policies.
fn report_verified(
    common: &CardVerifyCommon,
    report: Report,
    verified: VerifiedCard,
    method_name: &str,
) -> Result<(), Failure> {
    let status = verified.status_line(method_name);
    let write_file = |format: CardFormatArg, path: &std::path::Path| {
        std::fs::write(
            path,
            card::render(library_format(format), &verified, &status),
        )
        .map_err(|e| {
            Failure::input(format!(
                "cannot write '{}': {e}",
                printable(&path.display().to_string())
            ))
        })
    };
    let failed = policy_failure(&verified, &status);
    match report {
        Report::Json { file } => {
            if let (Some(format), Some(path)) = (file, &common.output_file) {
                write_file(format, path)?;
            }
            let value = card::json_report(&verified, &status);
            return match failed {
                // main prints the one JSON object: the failure, with the card's report.
                Some(failure) => Err(Failure {
                    details: Some(value),
                    ..failure
                }),
                None => {
                    crate::output::json(&value, 0);
                    Ok(())
                }
            };
        }
        Report::Rendering(format) => match &common.output_file {
            Some(path) => write_file(format, path)?,
            None if !common.output.quiet => crate::output::raw(
                card::render(library_format(format), &verified, &status).as_bytes(),
                0,
            ),
            None => {}
        },
        // One verdict: the success line only when every policy holds; otherwise the
        // failure (on stderr) says the card is authentic and which policies it misses.
        Report::Summary if !common.output.quiet && failed.is_none() => {
            for note in &verified.notes {
                warnln!("{}", printable(note));
            }
            outln!("Card verification succeeded: {status}");
            for p in &verified.policies {
                outln!("  pass {}: {}", printable(&p.policy), printable(&p.detail));
            }
        }
        Report::Summary => {}
    }
    failed.map_or(Ok(()), Err)
}

/// The failure of a card that verified but misses policies, or `None` when all hold.
fn policy_failure(verified: &VerifiedCard, status: &str) -> Option<Failure> {
    verified.unmet_policies(status).map(Failure::failed)
}

fn library_format(format: CardFormatArg) -> Format {
    match format {
        CardFormatArg::Text => Format::Text,
        CardFormatArg::Markdown => Format::Markdown,
        CardFormatArg::Html => Format::Html,
        CardFormatArg::Json => Format::Json,
        CardFormatArg::Cyclonedx => Format::Cyclonedx,
    }
}

/// The output flags of a card command, and what it does (for the failure message).
pub fn output_of(command: &CardCommand) -> (&OutputArgs, &'static str) {
    match command {
        CardCommand::Init(a) => (&a.report, "Drafting the card"),
        CardCommand::Sign(method) => (&sign_common(method).0.output, "Card signing"),
        CardCommand::Verify(method) | CardCommand::Show(method) => {
            (&verify_common(method).output, "Card verification")
        }
    }
}
