//! `modelsign`: a thin command-line layer over the modelsign library. A library so that
//! the Python package's `modelsign` console script runs the very same command
//! ([`run`]); the binary adds only the signal handlers.

/// `println!` for a successful command's output, without its panics: see [`output::line`].
macro_rules! outln {
    ($($arg:tt)*) => { $crate::output::line(&format!($($arg)*), 0) };
}

/// `eprintln!` without its panics, control characters made visible: see
/// [`output::message`].
macro_rules! errln {
    ($($arg:tt)*) => { $crate::output::message(&format!($($arg)*)) };
}

/// A warning on stderr, unless `--log-level` is ERROR or above (or `--quiet`).
macro_rules! warnln {
    ($($arg:tt)*) => {
        $crate::output::log($crate::args::LogLevel::Warning, &format!("warning: {}", format!($($arg)*)))
    };
}

/// An informational message on stderr, unless `--log-level` is WARNING or above.
macro_rules! infoln {
    ($($arg:tt)*) => {
        $crate::output::log($crate::args::LogLevel::Info, &format!($($arg)*))
    };
}

/// What modelsign decided and how long it took, on stderr with `--log-level DEBUG` only.
macro_rules! debugln {
    ($($arg:tt)*) => {
        $crate::output::log($crate::args::LogLevel::Debug, &format!("debug: {}", format!($($arg)*)))
    };
}

mod args;
mod card;
mod failure;
mod hints;
mod incremental;
mod lineage;
mod methods;
mod oci;
mod output;
mod progress;
mod provenance;
mod settings;
mod trust;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;
use modelsign::error::{Classify, SignError};
use modelsign::keys::Curve;
use modelsign::spec::{NewKeyPassword, SignerSpec, VerifierSpec};
use modelsign::{
    CertificateVerifier, HashSettings, Pkcs11Uri, PrivateKey, Serialization, SingleFileName,
    VerifyError, VerifyOptions,
};
use serde_json::json;

use args::{
    Cli, Command, CurveArg, DigestArgs, ExportPublicKeyArgs, KeyCommand, KeyGenerateArgs,
    Pkcs11Command, SignCommon, SignMethod, VerifyCommand, VerifyCommon, VerifyMethod,
};
use failure::{Failure, EXIT_INPUT};
use methods::spec_failure;
use settings::{count, hash_settings, ignore_set, workers};

/// Exit status of a stop the library asked for without a signal: that of Ctrl-C (SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// Runs the command line `args` (the program name first) and returns its exit status.
/// Signal handlers are the caller's to install
/// ([`modelsign::hashing::interrupt::stop_on_signals`]): only a process of its own may
/// take over Ctrl-C.
pub fn run(args: Vec<OsString>) -> u8 {
    let args = args::default_to_sigstore(args::normalize_flag_spelling(args));
    let json_requested = args.iter().any(|a| a == "--json");
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error, json_requested),
    };
    let (output, action) = match &cli.command {
        Command::Sign(SignMethod::Key(a)) => (Some(&a.common.output), "Signing"),
        Command::Sign(SignMethod::Certificate(a)) => (Some(&a.common.output), "Signing"),
        Command::Sign(SignMethod::Sigstore(a)) => (Some(&a.common.output), "Signing"),
        Command::Sign(SignMethod::Pkcs11Key(a)) => (Some(&a.common.output), "Signing"),
        Command::Sign(SignMethod::Pkcs11Certificate(a)) => (Some(&a.common.output), "Signing"),
        Command::Verify(VerifyCommand { method, policy }) => {
            let output = match method {
                Some(VerifyMethod::Key(a)) => &a.common.output,
                Some(VerifyMethod::Certificate(a)) => &a.common.output,
                Some(VerifyMethod::Sigstore(a)) => &a.common.output,
                None => &policy.output,
            };
            (Some(output), "Verification")
        }
        Command::Digest(a) => (Some(&a.output), "Computing the digest"),
        Command::Key(KeyCommand::Generate(a)) => (Some(&a.output), "Generating the key pair"),
        Command::Pkcs11(Pkcs11Command::ExportPublicKey(_)) => (None, "Exporting the public key"),
        Command::Card(command) => {
            let (output, action) = card::output_of(command);
            (Some(output), action)
        }
        Command::Provenance(command) => {
            let (output, action) = provenance::output_of(command);
            (Some(output), action)
        }
        Command::Lineage(command) => {
            let (output, action) = lineage::output_of(command);
            (Some(output), action)
        }
    };
    // --quiet prints nothing but errors, whatever the level.
    let quiet = output.is_some_and(|o| o.quiet);
    output::set_log_level(if quiet {
        cli.log_level.max(args::LogLevel::Error)
    } else {
        cli.log_level
    });
    match run_command(&cli.command) {
        Ok(()) => 0,
        Err(failure) => {
            let failure = interrupted_or(failure);
            if output.is_some_and(|o| o.json) {
                let mut value = json!({ "ok": false, "error": failure.message });
                if let (Some(obj), Some(serde_json::Value::Object(details))) =
                    (value.as_object_mut(), failure.details)
                {
                    obj.extend(details);
                }
                output::json(&value, failure.code);
            } else {
                errln!("{action} failed: {}", failure.message);
            }
            failure.code
        }
    }
}

/// A command line clap could not parse. `--help` and `--version` print as usual; with
/// `--json` anywhere on the line, a usage error is one JSON object on stdout like every
/// other failure, so a script reading the output never gets text instead.
fn usage_error(error: &clap::Error, json_requested: bool) -> u8 {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    if json_requested && !informational {
        let value = json!({
            "ok": false,
            "usage_error": true,
            "error": error.render().to_string().trim_end(),
        });
        output::json(&value, EXIT_INPUT);
        return EXIT_INPUT;
    }
    // clap writes help to stdout and errors to stderr, and reports its own write errors.
    let _ = error.print();
    u8::try_from(error.exit_code()).unwrap_or(EXIT_INPUT)
}

/// A failure after a stop was requested is reported as the interruption, with the shell's
/// exit status for death by that signal (130 for SIGINT, 143 for SIGTERM).
fn interrupted_or(failure: Failure) -> Failure {
    match modelsign::hashing::interrupt::stop_requested() {
        Some(interrupted) => Failure {
            code: interrupted
                .signal
                .and_then(|signal| u8::try_from(128 + signal).ok())
                .unwrap_or(EXIT_INTERRUPTED),
            message: interrupted.to_string(),
            details: failure.details,
        },
        None => failure,
    }
}

fn run_command(command: &Command) -> Result<(), Failure> {
    match command {
        Command::Sign(SignMethod::Key(a)) => sign(&a.common, &methods::key(&a.key)),
        Command::Sign(SignMethod::Certificate(a)) => {
            sign(&a.common, &methods::certificate(&a.key, &a.certificate))
        }
        Command::Sign(SignMethod::Pkcs11Key(a)) => {
            sign(&a.common, &methods::pkcs11_key(&a.pkcs11_uri))
        }
        Command::Sign(SignMethod::Pkcs11Certificate(a)) => sign(
            &a.common,
            &methods::pkcs11_certificate(&a.pkcs11_uri, &a.certificate),
        ),
        Command::Sign(SignMethod::Sigstore(a)) => {
            sign(&a.common, &methods::sigstore_signer(&a.sigstore))
        }
        Command::Pkcs11(Pkcs11Command::ExportPublicKey(a)) => export_public_key(a),
        Command::Card(command) => card::run(command),
        Command::Provenance(command) => provenance::run(command),
        Command::Lineage(command) => lineage::run(command),
        Command::Verify(VerifyCommand { method, policy }) => match method {
            Some(VerifyMethod::Key(a)) => {
                verify(&a.common, &methods::key_verifier(&a.public_key), false)
            }
            Some(VerifyMethod::Certificate(a)) => {
                let spec = methods::certificate_verifier(&a.certificate_chain);
                verify(&a.common, &spec, a.log_fingerprints)
            }
            Some(VerifyMethod::Sigstore(a)) => {
                verify(&a.common, &methods::sigstore_verifier(&a.sigstore)?, false)
            }
            None => trust::verify(policy),
        },
        Command::Digest(a) => digest(a),
        Command::Key(KeyCommand::Generate(a)) => generate_key(a),
    }
}

/// Logs fingerprints in model_signing's format, `[  init  ] sha256 Fingerprint: AB:CD:…`
/// (the stage centred in eight columns), so scripts reading its log read ours.
fn log_fingerprint_list(stage: &str, fingerprints: &[String]) {
    for fingerprint in fingerprints {
        infoln!("[{stage:^8}] sha256 Fingerprint: {fingerprint}");
    }
}

fn export_public_key(args: &ExportPublicKeyArgs) -> Result<(), Failure> {
    let uri = Pkcs11Uri::parse(&args.uri).map_err(Failure::input)?;
    let pem = modelsign::signing::pkcs11::export_public_key(&uri)
        .map_err(|e| Failure::of(e.is_input_error(), e))?
        .to_pem();
    match &args.output {
        Some(path) => std::fs::write(path, pem)
            .map_err(|e| Failure::input(format!("cannot write '{}': {e}", path.display()))),
        None => {
            output::raw(pem.as_bytes(), 0);
            Ok(())
        }
    }
}

/// Where the model argument points: a local path, or an image (`oci://`, `oci-layout:`).
fn model_location(model: &Path) -> Result<modelsign::oci::ModelLocation, Failure> {
    modelsign::oci::ModelLocation::parse(model.as_os_str()).map_err(Failure::input)
}

fn sign(common: &SignCommon, spec: &SignerSpec) -> Result<(), Failure> {
    let location = model_location(&common.model)?;
    if !location.is_local() {
        return oci::sign(common, spec, &location);
    }
    if common.attach {
        return Err(Failure::input(format!(
            "--attach stores the signature in a registry; '{}' is a local model (give an oci://REGISTRY/REPO:TAG image)",
            common.model.display()
        )));
    }
    let signature_path = common
        .signature
        .clone()
        .unwrap_or_else(|| "model.sig".into());
    let signature_path = &signature_path;
    let built = methods::build_signer(spec, &common.output)?;
    let plan = incremental::plan(&common.incremental, spec, &built)?;
    let signer = built.signer;
    let started = std::time::Instant::now();
    let mut settings = hash_settings(&common.model, &common.hashing)?;
    if common.model_signing_single_file_name {
        settings.walk.single_file_name = SingleFileName::Dot;
    }
    debug_settings(&common.model, &settings);
    let progress = progress::for_output(&common.output);
    let (signed, reused) = match &plan {
        None if common.incremental.digests.is_some() => (
            incremental::sign_from_digests(
                common,
                &settings,
                signer.as_ref(),
                signature_path,
                &progress,
            )?,
            None,
        ),
        None => (
            modelsign::sign_model(
                &common.model,
                &settings,
                signer.as_ref(),
                signature_path,
                &progress,
            )
            .map_err(sign_failure)?,
            None,
        ),
        Some(plan) => {
            let reused = modelsign::reuse::sign_model_incremental_unwritten(
                &common.model,
                &settings,
                signer.as_ref(),
                signature_path,
                &plan.incremental(),
                &progress,
            )
            .map_err(sign_failure)?;
            for note in &reused.notes {
                warnln!("{note}");
            }
            reused
                .signed
                .bundle
                .write_atomic(signature_path)
                .map_err(|e| sign_failure(e.into()))?;
            (reused.signed.clone(), Some(reused))
        }
    };
    let reused_from = common.incremental.reuse.as_deref().unwrap_or(Path::new(""));
    let manifest = &signed.manifest;
    debugln!(
        "{} hashed and signed in {:.3} s",
        count(manifest.resources().len(), "resource"),
        started.elapsed().as_secs_f64()
    );
    let digest = manifest.root_digest_string();
    if common.output.json {
        output::json(
            &json!({
                "ok": true,
                "method": spec.method(),
                "model": manifest.model_name(),
                "signature": signature_path,
                "root_digest": digest,
                "resources": manifest.resources().len(),
                "hash_type": manifest.serialization().hash_type.as_str(),
                "serialization": manifest.serialization().serialization.method(),
                "warnings": signed.warnings.iter().map(hints::sign_warning).collect::<Vec<_>>(),
                "reused": reused.as_ref().map(|r| incremental::reused_json(reused_from, r)),
                "stat_cache": reused.as_ref().map(incremental::stat_cache_json),
                "known_digests": incremental::digests_json(common, &signed),
            }),
            0,
        );
    } else {
        for warning in &signed.warnings {
            warnln!("{}", hints::sign_warning(warning));
        }
        if !common.output.quiet {
            outln!(
                "Signing succeeded: {} ({}, {digest}) -> {}",
                manifest.model_name(),
                count(manifest.resources().len(), "resource"),
                signature_path.display()
            );
            if let Some(reused) = &reused {
                incremental::print_report(reused_from, reused);
            }
            if let Some(list) = &common.incremental.digests {
                outln!(
                    "  {}",
                    incremental::sources_line(
                        &signed.sources,
                        &format!(
                            "signed from the digests in {}, not re-hashed",
                            list.display()
                        )
                    )
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn sign_failure(error: SignError) -> Failure {
    Failure::of(error.is_input_error(), error)
}

/// Verifies the model; with `log_fingerprints`, logs the certificates' fingerprints as
/// model_signing does: the anchors as they are loaded, the bundle's as they are checked.
fn verify(
    common: &VerifyCommon,
    spec: &VerifierSpec,
    log_fingerprints: bool,
) -> Result<(), Failure> {
    let location = model_location(&common.model)?;
    if !location.is_local() {
        refuse_partial_for_image(&common.partial)?;
        return oci::verify(common, spec, &location);
    }
    if common.local_model.is_some() {
        return Err(Failure::input(
            "--local-model is for an image (oci://…, oci-layout:…); here the model itself is local",
        ));
    }
    let Some(signature_path) = &common.signature else {
        return Err(Failure::input(format!(
            "give the signature to verify '{}' against with --signature SIGNATURE_PATH",
            common.model.display()
        )));
    };
    let built = spec.build().map_err(spec_failure)?;
    let method = spec.method();
    if log_fingerprints {
        log_fingerprint_list("init", &built.anchor_fingerprints);
    }
    let started = std::time::Instant::now();
    let bundle = methods::read_bundle(signature_path)?;
    debugln!(
        "signature '{}' is signed with {}",
        signature_path.display(),
        bundle.material.method()
    );
    if log_fingerprints {
        log_fingerprint_list("verify", &CertificateVerifier::bundle_fingerprints(&bundle));
    }
    let options = VerifyOptions {
        ignore: ignore_set(&common.model, &common.selection)?,
        ignore_unsigned_files: common.ignore_unsigned_files && !common.no_ignore_unsigned_files,
        allow_symlinks: common.selection.allow_symlinks,
        honour_recorded_allow_symlinks: true,
        signature_path: Some(signature_path.clone()),
        max_workers: workers(common.max_workers),
        hashing: None,
        only_files: only_files(&common.partial),
    };
    match modelsign::verify_model(
        &common.model,
        &bundle,
        built.verifier.as_ref(),
        &options,
        &progress::for_output(&common.output),
    ) {
        Ok(report) => {
            debugln!(
                "{} checked against the signature ({}, {} serialization) in {:.3} s",
                count(report.resources, "resource"),
                report.serialization.hash_type.as_str(),
                report.serialization.serialization.method(),
                started.elapsed().as_secs_f64()
            );
            if common.output.json {
                output::json(
                    &json!({
                        "ok": true,
                        "verified": true,
                        "model": common.model,
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
                        "signer": signer_json(&report),
                    }),
                    0,
                );
            } else {
                if !common.output.quiet {
                    for note in &report.notes {
                        warnln!("{note}");
                    }
                    print_verified(&common.model.display().to_string(), &report);
                    print_signer(&report);
                }
            }
            Ok(())
        }
        Err(VerifyError::Statement(modelsign::StatementError::ModelCardSignature)) => {
            let mut failure = verify_failure(modelsign::StatementError::ModelCardSignature.into());
            failure.message = format!(
                "'{}' is a model card signature; verify it with `modelsign card verify {method} {} --card-signature {}` and the same key or trust options",
                signature_path.display(),
                common.model.display(),
                signature_path.display()
            );
            Err(failure)
        }
        Err(error) => Err(verify_failure(error)),
    }
}

/// The files `--files` names, for [`VerifyOptions::only_files`]: `None` (verify every
/// file) when it is not given.
fn only_files(partial: &args::PartialArgs) -> Option<Vec<PathBuf>> {
    (!partial.files.is_empty()).then(|| partial.files.clone())
}

/// Refuses `--files` for an image: it is verified from its manifest (the digests of its
/// layers), with no model file to select.
fn refuse_partial_for_image(partial: &args::PartialArgs) -> Result<(), Failure> {
    if partial.files.is_empty() {
        return Ok(());
    }
    Err(Failure::input(
        "--files selects files of a local model to hash; an image is verified from its manifest (the digests of its layers), so it does not apply to oci:// or oci-layout: models",
    ))
}

/// Files listed by name on a success line before the rest are counted.
const LISTED_CHECKED_FILES: usize = 10;

/// The success lines of a local verification (`model` as the user named it). A partial
/// one says how many signed files were checked, which, and that the others were not.
fn print_verified(model: &str, report: &modelsign::VerificationReport) {
    let Some(checked) = &report.checked_files else {
        outln!(
            "Verification succeeded: {model} ({})",
            resources_and_digest(report)
        );
        return;
    };
    outln!(
        "Verification succeeded (partial): {model} (checked {} of {} signed files, {} of {})",
        checked.len(),
        report.signed_files,
        report.resources_checked,
        resources_and_digest(report)
    );
    let mut listed = checked
        .iter()
        .take(LISTED_CHECKED_FILES)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if checked.len() > LISTED_CHECKED_FILES {
        listed.push_str(&format!(
            " and {} more",
            checked.len() - LISTED_CHECKED_FILES
        ));
    }
    outln!("Checked: {listed}");
    let unchecked = report.signed_files.saturating_sub(checked.len());
    if unchecked > 0 {
        outln!(
            "Not checked: {} (not read; verify without --files to check them)",
            count(unchecked, "other signed file")
        );
    }
}

/// `N resources, sha256:…` of a verification, as the success lines give it.
fn resources_and_digest(report: &modelsign::VerificationReport) -> String {
    format!(
        "{}{}",
        count(report.resources, "resource"),
        report
            .root_digest
            .as_ref()
            .map(|d| format!(", {d}"))
            .unwrap_or_default()
    )
}

/// Who signed, as the success lines after a verification say it: the public key's hint
/// (key method), or the identity and its provider (Sigstore).
fn print_signer(report: &modelsign::VerificationReport) {
    if let Some(hint) = &report.public_key_hint {
        outln!("Signed by the public key with hint {hint}");
    }
    if let Some(signer) = &report.signer {
        outln!(
            "Signed by {} (identity provider {}){}",
            signer.identity,
            signer.issuer,
            signer
                .signed_at
                .as_ref()
                .map(|t| format!(", logged at {t}"))
                .unwrap_or_default()
        );
    }
}

/// Who signed, for `--json`: the verified identity (Sigstore), or the public key's hint
/// (key method); `null` where the method names neither (certificate).
fn signer_json(report: &modelsign::VerificationReport) -> serde_json::Value {
    match (&report.signer, &report.public_key_hint) {
        (Some(s), _) => json!({
            "identity": s.identity,
            "issuer": s.issuer,
            "signed_at": s.signed_at,
        }),
        (None, Some(hint)) => json!({ "public_key_hint": hint }),
        (None, None) => serde_json::Value::Null,
    }
}

fn verify_failure(error: VerifyError) -> Failure {
    let details = match &error {
        VerifyError::Mismatch(diff) => Some(json!({
            "verified": false,
            "changed": diff.changed,
            "changed_digests": diff.changed_digests.iter().map(|c| json!({
                "name": c.name,
                "algorithm": c.algorithm,
                "expected": c.expected,
                "actual": c.actual,
            })).collect::<Vec<_>>(),
            "missing": diff.missing,
            "extra": diff.extra,
            "symlinks": diff.symlinks,
            "unsupported": diff.unsupported,
        })),
        _ => Some(json!({ "verified": false })),
    };
    Failure {
        details,
        ..Failure::of(error.is_input_error(), error)
    }
}

fn digest(args: &DigestArgs) -> Result<(), Failure> {
    let location = model_location(&args.model)?;
    if !location.is_local() {
        return oci::digest(args, &location);
    }
    let started = std::time::Instant::now();
    let settings = hash_settings(&args.model, &args.hashing)?;
    debug_settings(&args.model, &settings);
    let manifest = settings
        .hash_model_with_progress(&args.model, &progress::for_output(&args.output))
        .map_err(|e| sign_failure(e.into()))?;
    debugln!(
        "{} hashed in {:.3} s",
        count(manifest.resources().len(), "resource"),
        started.elapsed().as_secs_f64()
    );
    let digest = manifest.root_digest_string();
    if args.output.json {
        output::json(
            &json!({ "ok": true, "digest": digest, "resources": manifest.resources().len() }),
            0,
        );
    } else {
        // The digest is the command's output: --quiet does not suppress it.
        outln!("{digest}");
    }
    Ok(())
}

/// With `--log-level DEBUG`: how the model is about to be hashed.
fn debug_settings(model: &Path, settings: &HashSettings) {
    let shards = match settings.serialization {
        Serialization::Shards { shard_size } => format!(" of {shard_size} bytes"),
        _ => String::new(),
    };
    debugln!(
        "hashing '{}' with {}, {} serialization{shards}, {} worker threads",
        model.display(),
        settings.algorithm.as_str(),
        settings.serialization.method(),
        settings
            .max_workers
            .map_or_else(|| "all available".to_owned(), |n| n.to_string())
    );
}

fn generate_key(args: &KeyGenerateArgs) -> Result<(), Failure> {
    let curve = match args.curve {
        CurveArg::P256 => Curve::P256,
        CurveArg::P384 => Curve::P384,
        CurveArg::P521 => Curve::P521,
    };
    let public_path = args
        .public_key
        .clone()
        .unwrap_or_else(|| modelsign::keys::default_public_key_path(&args.private_key));
    let password = new_key_password(args)?;
    let key = PrivateKey::generate(curve).map_err(Failure::failed)?;
    modelsign::keys::write_key_pair(
        &key,
        &args.private_key,
        &public_path,
        password.as_deref(),
        args.force,
    )
    .map_err(Failure::input)?;
    let hint = key.public_key().hint();
    if args.output.json {
        output::json(
            &json!({
                "ok": true,
                "curve": curve.to_string(),
                "private_key": args.private_key,
                "public_key": public_path,
                "encrypted": password.is_some(),
                "public_key_hint": hint,
            }),
            0,
        );
    } else if !args.output.quiet {
        outln!(
            "Generated a {curve} key pair: private key {} ({}readable by you only), public key {} (hint {hint})",
            args.private_key.display(),
            if password.is_some() { "encrypted, " } else { "" },
            public_path.display()
        );
        outln!(
            "Sign with `modelsign sign key MODEL --private-key {}`; give {} to those who verify.",
            args.private_key.display(),
            public_path.display()
        );
    }
    Ok(())
}

/// The password to encrypt a new key with: from a file, the environment or the command
/// line, or asked twice on the terminal for a bare `--password`; `None` leaves the key
/// unencrypted.
fn new_key_password(args: &KeyGenerateArgs) -> Result<Option<Vec<u8>>, Failure> {
    let value = args.password.as_ref().and_then(|v| v.as_deref());
    let file = args.password_file.as_deref();
    let password = match methods::secret_source(file, args.password_env.as_deref(), value) {
        Some(source) => NewKeyPassword::Given(source),
        None if args.password.is_some() => NewKeyPassword::Ask,
        None => NewKeyPassword::None,
    };
    password.resolve(&methods::Terminal).map_err(spec_failure)
}
