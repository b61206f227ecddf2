//! `modelsign card …`: drafting, signing, verifying and showing signed model cards, over
//! the library's `card` module.

use modelsign::attestation::claims::{self, ClaimsError, Unverified};
use modelsign::card::{self, Format, ModelBinding, ModelCard, ModelSubject, Policy, VerifiedCard};
use modelsign::error::Classify;
use modelsign::spec::SignerSpec;
use modelsign::text::printable;
use modelsign::{Bundle, CardError, VerifyOptions};
use serde_json::json;

use crate::args::{
    CardCommand, CardFormatArg, CardInitArgs, CardSignCommon, CardSignMethod, CardVerifyCommon,
    CardVerifyMethod, OutputArgs,
};
use crate::failure::Failure;
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
    match method {
        CardSignMethod::Key(a) => (&a.common, methods::key(&a.key)),
        CardSignMethod::Certificate(a) => (&a.common, methods::certificate(&a.key, &a.certificate)),
        CardSignMethod::Sigstore(a) => (&a.common, methods::sigstore_signer(&a.sigstore)),
        CardSignMethod::Pkcs11Key(a) => (&a.common, methods::pkcs11_key(&a.pkcs11_uri)),
        CardSignMethod::Pkcs11Certificate(a) => (
            &a.common,
            methods::pkcs11_certificate(&a.pkcs11_uri, &a.certificate),
        ),
    }
}

fn sign(method: &CardSignMethod) -> Result<(), Failure> {
    let (common, spec) = sign_common(method);
    // Read and check the card before anything slow (hashing) or interactive (a PIN, a
    // browser sign-in) happens.
    let card = ModelCard::read(&common.card).map_err(card_failure)?;
    card.validate(common.allow_custom_metrics)
        .map_err(card_failure)?;
    let claims_path = claims_file(&common.model, common.claims.as_ref());
    match &claims_path {
        // A claims file that cannot take the card is refused before the model is hashed.
        Some(path) => claims::check_appendable(path).map_err(Failure::input)?,
        // The card's signature must not overwrite a file of the model either (no
        // exclusions: any existing file of the model that is not a signature is refused).
        None => modelsign::signing::check_signature_path(
            &common.model,
            &common.signature,
            &modelsign::IgnoreSet::default(),
        )
        .map_err(|e| card_failure(CardError::Sign(e)))?,
    }
    let built = methods::build_signer(&spec, &common.output)?;
    let (signer, own_key) = (built.signer, built.public_key);
    let subject = match &common.model_signature {
        Some(path) => {
            let Some(key) = own_key else {
                return Err(Failure::input(
                    "--model-signature needs a key-based method: a Sigstore signer's key is ephemeral, so the model is hashed instead (drop --model-signature)",
                ));
            };
            let bundle = Bundle::read(path).map_err(Failure::input)?;
            ModelSubject::of_own_model_signature(&bundle, &key).map_err(|e| {
                Failure::failed(format!(
                    "the model signature '{}' cannot vouch for the model: {e} (it must be made with the key that signs the card)",
                    path.display()
                ))
            })?
        }
        None => {
            let settings = hash_settings(&common.model, &common.hashing)?;
            ModelSubject::of_model(
                &common.model,
                &settings,
                &progress::for_output(&common.output),
            )
            .map_err(|e| card_failure(CardError::Verify(e.into())))?
        }
    };
    let written = match claims_path {
        None => {
            card::sign_card_to(
                &card,
                &subject,
                signer.as_ref(),
                common.allow_custom_metrics,
                &common.signature,
            )
            .map_err(card_failure)?;
            common.signature.clone()
        }
        Some(path) => {
            let bundle = card::sign_card(
                &card,
                &subject,
                signer.as_ref(),
                common.allow_custom_metrics,
            )
            .map_err(card_failure)?;
            claims::append(&path, &bundle).map_err(Failure::input)?;
            path
        }
    };
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

/// The claims file `--claims` names: the one given, or the model's own.
fn claims_file(
    model: &std::path::Path,
    claims: Option<&Option<std::path::PathBuf>>,
) -> Option<std::path::PathBuf> {
    claims.map(|given| given.clone().unwrap_or_else(|| claims::default_path(model)))
}

/// Where the card's signature is read from.
enum CardSource {
    File(Bundle),
    Claims(std::path::PathBuf, Vec<claims::Claim>),
}

fn claims_failure(error: ClaimsError) -> Failure {
    if error.is_input_error() {
        Failure::input(error)
    } else {
        Failure::failed(error)
    }
}

fn verify_common(method: &CardVerifyMethod) -> &CardVerifyCommon {
    match method {
        CardVerifyMethod::Key(a) => &a.common,
        CardVerifyMethod::Certificate(a) => &a.common,
        CardVerifyMethod::Sigstore(a) => &a.common,
    }
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
    let (spec, method_name) = match method {
        CardVerifyMethod::Key(a) => (methods::key_verifier(&a.public_key), "the given public key"),
        CardVerifyMethod::Certificate(a) => (
            methods::certificate_verifier(&a.certificate_chain),
            "a certificate chained to the given roots",
        ),
        CardVerifyMethod::Sigstore(a) => (methods::sigstore_verifier(&a.sigstore)?, "Sigstore"),
    };
    let verifier = spec.build().map_err(methods::spec_failure)?.verifier;
    // The card, or the claims holding it, is read before any model is hashed.
    let source = match claims_file(&common.model, common.claims.as_ref()) {
        None => CardSource::File(methods::read_bundle(&common.card_signature)?),
        Some(path) => {
            let claimed = claims::read(&path).map_err(claims_failure)?;
            CardSource::Claims(path, claimed)
        }
    };
    let progress = progress::for_output(&common.output);
    let max_workers = workers(common.max_workers);
    let subject = match &common.model_signature {
        Some(model_signature) => {
            let options = VerifyOptions {
                ignore: modelsign::IgnoreSet::new(true),
                signature_path: Some(model_signature.clone()),
                max_workers,
                ..VerifyOptions::default()
            };
            let (subject, _) = ModelSubject::of_verified_model_signature(
                &common.model,
                model_signature,
                verifier.as_ref(),
                &options,
                &progress,
            )
            .map_err(|e| {
                let failure = card_failure(CardError::Verify(e));
                Failure {
                    message: format!(
                        "the model signature '{}' does not verify: {}",
                        model_signature.display(),
                        failure.message
                    ),
                    ..failure
                }
            })?;
            Some(subject)
        }
        None => None,
    };
    let verify_one = |bundle: &Bundle| {
        let binding = match &subject {
            Some(subject) => ModelBinding::Known(subject),
            None => ModelBinding::Rehash {
                model_path: &common.model,
                max_workers,
                progress: &progress,
            },
        };
        card::verify_card(bundle, verifier.as_ref(), binding, &policies)
    };
    let verified = match source {
        CardSource::File(bundle) => verify_one(&bundle).map_err(card_failure)?,
        CardSource::Claims(path, claimed) => {
            let shown = printable(&path.display().to_string()).into_owned();
            match claims::first_verified(&claimed, card::PREDICATE_TYPE, verify_one) {
                Ok((_, verified)) => verified,
                Err(Unverified::NoClaim) => {
                    return Err(Failure::input(format!(
                        "the claims file '{shown}' holds no model card; sign one into it with `modelsign card sign ... --claims`"
                    )))
                }
                Err(Unverified::Failed { line, tried, error }) => {
                    let failure = card_failure(error);
                    return Err(Failure {
                        message: format!(
                            "no card in the claims file '{shown}' verifies ({tried} tried); the newest, on line {line}: {}",
                            failure.message
                        ),
                        ..failure
                    });
                }
            }
        }
    };

    let status = status_line(&verified, method_name);
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
    let failed: Vec<String> = verified
        .policies
        .iter()
        .filter(|p| !p.holds)
        .map(|p| format!("{} ({})", printable(&p.policy), printable(&p.detail)))
        .collect();
    if failed.is_empty() {
        return None;
    }
    let policies = if failed.len() == 1 {
        "policy"
    } else {
        "policies"
    };
    Some(Failure::failed(format!(
        "{status}, but the card does not meet {} {policies}: {}",
        failed.len(),
        failed.join("; ")
    )))
}

fn status_line(verified: &VerifiedCard, method: &str) -> String {
    let signed = &verified.signed;
    let by = match &verified.signer {
        Some(s) => format!("signed by {} ({})", s.identity, s.issuer),
        None => format!("signed with {method}"),
    };
    // The name and identity are the signer's to choose: shown, they must not act on the
    // terminal.
    printable(&format!(
        "card for {} {by}, bound to the model's root digest {}",
        signed.card.name,
        signed.root_digest_string()
    ))
    .into_owned()
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
