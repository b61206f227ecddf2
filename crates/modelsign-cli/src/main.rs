//! `modelsign`: a thin command-line layer over the modelsign library.

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
mod hints;
mod output;
mod progress;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use modelsign::error::{Classify, SignError};
use modelsign::keys::Curve;
use modelsign::limits;
use modelsign::model::relative_to_model;
use modelsign::{
    Bundle, Certificate, CertificateSigner, CertificateVerifier, HashAlgorithm, HashSettings,
    IdentityPolicy, IdentityTokenSecret, IgnoreSet, KeySigner, KeyVerifier, Pkcs11Error, Pkcs11Key,
    Pkcs11Signer, Pkcs11Uri, PrivateKey, PublicKey, Serialization, Signer, SigstoreServices,
    SigstoreSigner, SigstoreTrustRoot, SigstoreVerifier, SingleFileName, UnverifiableCertificate,
    Verifier, VerifyError, VerifyOptions, WalkOptions,
};
use serde_json::json;

use args::{
    CertificateChainArgs, Cli, Command, CurveArg, DigestArgs, ExportPublicKeyArgs, HashTypeArg,
    HashingArgs, KeyCommand, KeyGenerateArgs, Pkcs11Command, PrivateKeyArgs, SelectionArgs,
    SerializationArg, SignCommon, SignMethod, SigstoreSignerArgs, SigstoreVerifierArgs,
    VerifyCommon, VerifyMethod,
};

/// Exit status: the signature or verification failed.
const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage or unreadable input.
const EXIT_INPUT: u8 = 2;
/// Exit status of a stop the library asked for without a signal: that of Ctrl-C (SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// A failure to report, with its exit status.
struct Failure {
    code: u8,
    message: String,
    /// Extra JSON fields for `--json` (the categories of a model mismatch).
    details: Option<serde_json::Value>,
}

impl Failure {
    /// Exit 2; a library error gets the option that fixes it appended (see `hints`).
    fn input(message: impl ToString + std::any::Any) -> Self {
        Failure {
            code: EXIT_INPUT,
            message: hints::with_option_hint(&message, message.to_string()),
            details: None,
        }
    }

    /// Exit 1; a library error gets the option that fixes it appended (see `hints`).
    fn failed(message: impl ToString + std::any::Any) -> Self {
        Failure {
            code: EXIT_FAILED,
            message: hints::with_option_hint(&message, message.to_string()),
            details: None,
        }
    }
}

fn main() -> ExitCode {
    // Ctrl-C and SIGTERM stop the work at its next check point, so no partial signature
    // or temporary file is left; without the handlers (should installing them fail) they
    // kill the process as before, which leaves an existing signature intact as well.
    let _ = modelsign::hashing::interrupt::stop_on_signals();
    let args = args::default_to_sigstore(args::normalize_flag_spelling(std::env::args_os()));
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
        Command::Verify(VerifyMethod::Key(a)) => (Some(&a.common.output), "Verification"),
        Command::Verify(VerifyMethod::Certificate(a)) => (Some(&a.common.output), "Verification"),
        Command::Verify(VerifyMethod::Sigstore(a)) => (Some(&a.common.output), "Verification"),
        Command::Digest(a) => (Some(&a.output), "Computing the digest"),
        Command::Key(KeyCommand::Generate(a)) => (Some(&a.output), "Generating the key pair"),
        Command::Pkcs11(Pkcs11Command::ExportPublicKey(_)) => (None, "Exporting the public key"),
        Command::Card(command) => {
            let (output, action) = card::output_of(command);
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
    match run(&cli.command) {
        Ok(()) => ExitCode::SUCCESS,
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
            ExitCode::from(failure.code)
        }
    }
}

/// A command line clap could not parse. `--help` and `--version` print as usual; with
/// `--json` anywhere on the line, a usage error is one JSON object on stdout like every
/// other failure, so a script reading the output never gets text instead.
fn usage_error(error: &clap::Error, json_requested: bool) -> ExitCode {
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
        return ExitCode::from(EXIT_INPUT);
    }
    // clap writes help to stdout and errors to stderr, and reports its own write errors.
    let _ = error.print();
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_INPUT))
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

fn run(command: &Command) -> Result<(), Failure> {
    match command {
        Command::Sign(SignMethod::Key(a)) => {
            let key = load_private_key(&a.key)?;
            sign(&a.common, &KeySigner::new(key), "key")
        }
        Command::Sign(SignMethod::Certificate(a)) => sign(
            &a.common,
            &certificate_signer(&a.key, &a.certificate)?,
            "certificate",
        ),
        Command::Sign(SignMethod::Pkcs11Key(a)) => {
            let key = open_pkcs11_key(&a.pkcs11_uri)?;
            sign(&a.common, &Pkcs11Signer::key(key), "pkcs11-key")
        }
        Command::Sign(SignMethod::Pkcs11Certificate(a)) => sign(
            &a.common,
            &pkcs11_certificate_signer(&a.pkcs11_uri, &a.certificate)?,
            "pkcs11-certificate",
        ),
        Command::Pkcs11(Pkcs11Command::ExportPublicKey(a)) => export_public_key(a),
        Command::Card(command) => card::run(command),
        Command::Sign(SignMethod::Sigstore(a)) => sign(
            &a.common,
            &sigstore_signer(&a.sigstore, &a.common.output)?,
            "sigstore",
        ),
        Command::Verify(VerifyMethod::Key(a)) => {
            let key = PublicKey::read_pem_file(&a.public_key).map_err(Failure::input)?;
            verify(&a.common, "key", &KeyVerifier::new(key), &|_| {})
        }
        Command::Verify(VerifyMethod::Certificate(a)) => {
            let verifier = certificate_verifier(&a.certificate_chain)?;
            if !a.log_fingerprints {
                return verify(&a.common, "certificate", &verifier, &|_| {});
            }
            // As model_signing: the anchors as they are loaded, the bundle's certificates
            // as they are checked.
            log_fingerprints("init", &verifier.anchor_fingerprints());
            verify(&a.common, "certificate", &verifier, &|bundle| {
                log_fingerprints("verify", &CertificateVerifier::bundle_fingerprints(bundle));
            })
        }
        Command::Verify(VerifyMethod::Sigstore(a)) => verify(
            &a.common,
            "sigstore",
            &sigstore_verifier(&a.sigstore)?,
            &|_| {},
        ),
        Command::Digest(a) => digest(a),
        Command::Key(KeyCommand::Generate(a)) => generate_key(a),
    }
}

/// Logs fingerprints in model_signing's format, `[  init  ] sha256 Fingerprint: AB:CD:…`
/// (the stage centred in eight columns), so scripts reading its log read ours.
fn log_fingerprints(stage: &str, fingerprints: &[String]) {
    for fingerprint in fingerprints {
        infoln!("[{stage:^8}] sha256 Fingerprint: {fingerprint}");
    }
}

fn certificate_signer(
    key: &PrivateKeyArgs,
    certificate: &CertificateChainArgs,
) -> Result<CertificateSigner, Failure> {
    let key = load_private_key(key)?;
    let (leaf, chain) = read_certificates(certificate)?;
    let signer = CertificateSigner::with_policy(key, leaf, chain, unverifiable_policy(certificate))
        .map_err(|e| certificate_failure(e, ""))?;
    warn_unverifiable(signer.unverifiable());
    Ok(signer)
}

/// Reads the certificates first, so a missing file fails before the token asks for a PIN.
fn pkcs11_certificate_signer(
    uri: &str,
    certificate: &CertificateChainArgs,
) -> Result<Pkcs11Signer, Failure> {
    let (leaf, chain) = read_certificates(certificate)?;
    let key = open_pkcs11_key(uri)?;
    let signer = Pkcs11Signer::certificate(key, leaf, chain, unverifiable_policy(certificate))
        .map_err(|e| {
            certificate_failure(
                e,
                " (the certificate must be that of the token's key the URI names)",
            )
        })?;
    warn_unverifiable(signer.unverifiable());
    Ok(signer)
}

fn unverifiable_policy(certificate: &CertificateChainArgs) -> UnverifiableCertificate {
    if certificate.allow_unverifiable_certificate {
        UnverifiableCertificate::SignAnyway
    } else {
        UnverifiableCertificate::Refuse
    }
}

/// A refused signing certificate or chain, with what to do about it; `mismatch_hint`
/// follows a certificate of another key.
fn certificate_failure(error: SignError, mismatch_hint: &str) -> Failure {
    let hint = match &error {
        SignError::UnverifiableCertificate(_) => {
            " (to sign anyway, pass --allow-unverifiable-certificate)"
        }
        SignError::Certificate(modelsign::CertError::TooMany { .. }) => {
            "; pass with --certificate-chain only the intermediates between the signing certificate and its root"
        }
        SignError::Key(modelsign::KeyError::CertificateMismatch) => mismatch_hint,
        _ => "",
    };
    Failure::input(format!("{error}{hint}"))
}

/// Says, whatever the output options, that the signature about to be made will not verify.
fn warn_unverifiable(reason: Option<&modelsign::CertError>) {
    if let Some(reason) = reason {
        warnln!(
            "{reason}; signing anyway, as --allow-unverifiable-certificate asks: `verify certificate` will refuse this signature"
        );
    }
}

/// A verifier trusting the root certificates in `files`.
fn certificate_verifier(files: &[std::path::PathBuf]) -> Result<CertificateVerifier, Failure> {
    let mut anchors = Vec::new();
    for path in files {
        anchors.extend(Certificate::read_pem_file(path).map_err(Failure::input)?);
    }
    CertificateVerifier::new(anchors).map_err(Failure::input)
}

/// The signing certificate and the chain that follows it in the bundle.
fn read_certificates(
    args: &CertificateChainArgs,
) -> Result<(Certificate, Vec<Certificate>), Failure> {
    let leaf = Certificate::read_pem_file(&args.signing_certificate)
        .map_err(Failure::input)?
        .into_iter()
        .next()
        .ok_or_else(|| Failure::input("the signing certificate file holds no certificate"))?;
    let mut chain = Vec::new();
    for path in &args.certificate_chain {
        chain.extend(Certificate::read_pem_file(path).map_err(Failure::input)?);
    }
    Ok((leaf, chain))
}

/// Opens the token's key, asking for the PIN on the terminal if the URI gives none.
fn open_pkcs11_key(uri: &str) -> Result<Pkcs11Key, Failure> {
    let uri = Pkcs11Uri::parse(uri).map_err(Failure::input)?;
    let ask = |token: &str| -> Option<String> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        rpassword::prompt_password(format!("PIN for PKCS#11 token '{token}': ")).ok()
    };
    Pkcs11Key::open(&uri, Some(&ask)).map_err(pkcs11_failure)
}

fn pkcs11_failure(error: Pkcs11Error) -> Failure {
    if error.is_input_error() {
        Failure::input(error)
    } else {
        Failure::failed(error)
    }
}

fn export_public_key(args: &ExportPublicKeyArgs) -> Result<(), Failure> {
    let uri = Pkcs11Uri::parse(&args.uri).map_err(Failure::input)?;
    let pem = modelsign::signing::pkcs11::export_public_key(&uri)
        .map_err(pkcs11_failure)?
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

/// A keyless signer: the identity token, then the Sigstore services to sign with.
fn sigstore_signer(
    args: &SigstoreSignerArgs,
    output: &args::OutputArgs,
) -> Result<SigstoreSigner, Failure> {
    let services = SigstoreServices::choose(args.use_staging, args.trust_config.as_deref())
        .map_err(Failure::input)?;
    let token = identity_token(args, &services)?;
    if !output.json {
        infoln!(
            "Signing as {} (identity provider {}) with {}",
            token.identity(),
            token.issuer(),
            services.fulcio_url()
        );
    }
    Ok(SigstoreSigner::new(&services, token))
}

/// The identity token, from (in this order) the command line, the CI system, or signing in.
fn identity_token(
    args: &SigstoreSignerArgs,
    services: &SigstoreServices,
) -> Result<IdentityTokenSecret, Failure> {
    let given = if let Some(token) = &args.identity_token {
        Some(token.clone())
    } else if let Some(path) = &args.identity_token_file {
        Some(
            limits::read_input_text(path, limits::MAX_SMALL_FILE).map_err(|e| {
                Failure::input(format!(
                    "cannot read identity token file '{}': {e}",
                    path.display()
                ))
            })?,
        )
    } else if let Some(var) = &args.identity_token_env {
        Some(std::env::var(var).map_err(|_| {
            Failure::input(format!(
                "environment variable {var} holds no identity token"
            ))
        })?)
    } else {
        None
    };
    if let Some(jwt) = given {
        return IdentityTokenSecret::from_jwt(&jwt).map_err(Failure::input);
    }
    if !args.no_ambient_credentials {
        if let Some(token) =
            IdentityTokenSecret::from_ambient_credentials().map_err(Failure::input)?
        {
            return Ok(token);
        }
    }
    if !args.client_secret.is_empty() {
        return Err(Failure::input(
            "--client-secret is not supported: interactive sign-in uses a public OAuth client with PKCE",
        ));
    }
    let no_token = "no identity token: pass --identity-token, --identity-token-file or --identity-token-env, run in a CI system that provides OIDC credentials, or sign in interactively on a terminal";
    let Some(oidc_url) = services.oidc_url() else {
        return Err(Failure::input(format!(
            "{no_token} (the signing config names no OIDC provider)"
        )));
    };
    if !std::io::stdin().is_terminal() {
        return Err(Failure::input(no_token));
    }
    IdentityTokenSecret::interactive(oidc_url, &args.client_id, args.oauth_force_oob)
        .map_err(Failure::input)
}

fn sign(common: &SignCommon, signer: &dyn Signer, method: &str) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let mut settings = hash_settings(&common.model, &common.hashing)?;
    if common.model_signing_single_file_name {
        settings.walk.single_file_name = SingleFileName::Dot;
    }
    debug_settings(&common.model, &settings);
    let signed = modelsign::sign_model(
        &common.model,
        &settings,
        signer,
        &common.signature,
        &progress::for_output(&common.output),
    )
    .map_err(sign_failure)?;
    let manifest = &signed.manifest;
    debugln!(
        "{} hashed and signed in {:.3} s",
        count(manifest.resources.len(), "resource"),
        started.elapsed().as_secs_f64()
    );
    let digest = manifest.root_digest_string();
    if common.output.json {
        output::json(
            &json!({
                "ok": true,
                "method": method,
                "model": manifest.model_name,
                "signature": common.signature,
                "root_digest": digest,
                "resources": manifest.resources.len(),
                "hash_type": manifest.serialization.hash_type.as_str(),
                "serialization": manifest.serialization.serialization.method(),
                "warnings": signed.warnings,
            }),
            0,
        );
    } else {
        for warning in &signed.warnings {
            warnln!("{warning}");
        }
        if !common.output.quiet {
            outln!(
                "Signing succeeded: {} ({}, {digest}) -> {}",
                manifest.model_name,
                count(manifest.resources.len(), "resource"),
                common.signature.display()
            );
        }
    }
    Ok(())
}

fn sign_failure(error: SignError) -> Failure {
    if error.is_input_error() {
        Failure::input(error)
    } else {
        Failure::failed(error)
    }
}

/// Verifies the model; `on_bundle` sees the bundle once it is read, before any check.
fn verify(
    common: &VerifyCommon,
    method: &str,
    verifier: &dyn Verifier,
    on_bundle: &dyn Fn(&Bundle),
) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let bundle = Bundle::read(&common.signature).map_err(|e| match e {
        modelsign::BundleError::Io { .. } => Failure::input(e),
        other => Failure::failed(other),
    })?;
    debugln!(
        "signature '{}' is signed with {}",
        common.signature.display(),
        bundle.material.method()
    );
    on_bundle(&bundle);
    let options = VerifyOptions {
        ignore: ignore_set(&common.model, &common.selection)?,
        ignore_unsigned_files: common.ignore_unsigned_files && !common.no_ignore_unsigned_files,
        allow_symlinks: common.selection.allow_symlinks,
        signature_path: Some(common.signature.clone()),
        max_workers: workers(common.max_workers),
    };
    match modelsign::verify_model(
        &common.model,
        &bundle,
        verifier,
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
                    outln!(
                        "Verification succeeded: {} ({}{})",
                        common.model.display(),
                        count(report.resources, "resource"),
                        report
                            .root_digest
                            .as_ref()
                            .map(|d| format!(", {d}"))
                            .unwrap_or_default()
                    );
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
            }
            Ok(())
        }
        Err(VerifyError::Statement(modelsign::StatementError::ModelCardSignature)) => {
            let mut failure = verify_failure(modelsign::StatementError::ModelCardSignature.into());
            failure.message = format!(
                "'{}' is a model card signature; verify it with `modelsign card verify {method} {} --card-signature {}` and the same key or trust options",
                common.signature.display(),
                common.model.display(),
                common.signature.display()
            );
            Err(failure)
        }
        Err(error) => Err(verify_failure(error)),
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

fn sigstore_verifier(args: &SigstoreVerifierArgs) -> Result<SigstoreVerifier, Failure> {
    let file = args
        .trust_config
        .as_deref()
        .or(args.trusted_root.as_deref());
    let trust_root = SigstoreTrustRoot::choose(args.use_staging, file).map_err(Failure::input)?;
    let identity = match (&args.identity, &args.identity_regex) {
        (_, Some(pattern)) => IdentityPolicy::regex(pattern).map_err(|e| {
            Failure::input(format!(
                "--identity-regex is not a valid regular expression: {e}"
            ))
        })?,
        (Some(identity), None) => IdentityPolicy::Exact(identity.clone()),
        (None, None) => return Err(Failure::input("give --identity or --identity-regex")),
    };
    SigstoreVerifier::new(&trust_root, identity, args.identity_provider.clone())
        .map_err(Failure::input)
}

fn verify_failure(error: VerifyError) -> Failure {
    let code = if error.is_input_error() {
        EXIT_INPUT
    } else {
        EXIT_FAILED
    };
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
        code,
        message: hints::with_option_hint(&error, error.to_string()),
        details,
    }
}

fn digest(args: &DigestArgs) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let settings = hash_settings(&args.model, &args.hashing)?;
    debug_settings(&args.model, &settings);
    let manifest = settings
        .hash_model_with_progress(&args.model, &progress::for_output(&args.output))
        .map_err(|e| sign_failure(e.into()))?;
    debugln!(
        "{} hashed in {:.3} s",
        count(manifest.resources.len(), "resource"),
        started.elapsed().as_secs_f64()
    );
    let digest = manifest.root_digest_string();
    if args.output.json {
        output::json(
            &json!({ "ok": true, "digest": digest, "resources": manifest.resources.len() }),
            0,
        );
    } else {
        // The digest is the command's output: --quiet does not suppress it.
        outln!("{digest}");
    }
    Ok(())
}

fn hash_settings(model: &Path, hashing: &HashingArgs) -> Result<HashSettings, Failure> {
    let algorithm = match hashing.hash_type {
        HashTypeArg::Sha256 => HashAlgorithm::Sha256,
        HashTypeArg::Blake2b => HashAlgorithm::Blake2b,
        HashTypeArg::Blake3 => HashAlgorithm::Blake3,
    };
    let serialization = match hashing.serialization {
        SerializationArg::Files => Serialization::Files,
        SerializationArg::Shards => Serialization::Shards {
            shard_size: hashing.shard_size,
        },
    };
    Ok(HashSettings {
        algorithm,
        serialization,
        walk: WalkOptions {
            ignore: ignore_set(model, &hashing.selection)?,
            allow_symlinks: hashing.selection.allow_symlinks,
            collect_problems: false,
            ..WalkOptions::default()
        },
        max_workers: workers(hashing.max_workers),
    })
}

/// With `--log-level DEBUG`: how the model is about to be hashed.
fn debug_settings(model: &Path, settings: &HashSettings) {
    let shards = match settings.serialization {
        Serialization::Shards { shard_size } => format!(" of {shard_size} bytes"),
        Serialization::Files => String::new(),
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

/// `1 resource`, `2 resources`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn workers(max_workers: Option<u64>) -> Option<usize> {
    max_workers.and_then(|n| usize::try_from(n).ok())
}

/// Builds the exclusion set from `--ignore-paths`. A relative path names a path below the
/// model root. For model_signing compatibility (whose paths are relative to the working
/// directory), a relative path that does not exist below the model root but does exist
/// relative to the working directory, inside the model, is taken that way. Absolute paths
/// must lie inside the model; others are reported and skipped, as they cannot match.
fn ignore_set(model: &Path, selection: &SelectionArgs) -> Result<IgnoreSet, Failure> {
    let mut set = IgnoreSet::new(!selection.no_ignore_git_paths);
    for path in &selection.ignore_paths {
        // OMS records ignore paths as text: a name that is not UTF-8 would be recorded
        // altered (U+FFFD) and then name nothing.
        if path.to_str().is_none() {
            return Err(Failure::input(format!(
                "ignore path '{}' is not valid UTF-8; OMS records ignore paths as UTF-8 text",
                path.to_string_lossy()
            )));
        }
        let relative = if path.is_absolute() {
            relative_to_model(model, path)
        } else {
            let below_root = model.join(path);
            if below_root.symlink_metadata().is_err() && path.symlink_metadata().is_ok() {
                relative_to_model(model, path)
            } else {
                Some(path.to_string_lossy().into_owned())
            }
        };
        match relative {
            Some(relative) => set.add(&relative).map_err(Failure::input)?,
            None => warnln!(
                "ignore path '{}' is not inside the model '{}'; it has no effect",
                path.display(),
                model.display()
            ),
        }
    }
    Ok(set)
}

fn load_private_key(args: &PrivateKeyArgs) -> Result<PrivateKey, Failure> {
    let path = &args.private_key;
    let text = limits::read_input_file(path, limits::MAX_SMALL_FILE)
        .map_err(|e| Failure::input(format!("cannot read key file '{}': {e}", path.display())))?;
    let secret = if PrivateKey::pem_is_encrypted(&text) {
        Some(read_password(args)?)
    } else {
        None
    };
    PrivateKey::from_pem(&text, secret.as_deref())
        .map_err(|e| Failure::input(format!("cannot load private key '{}': {e}", path.display())))
}

fn read_password(args: &PrivateKeyArgs) -> Result<Vec<u8>, Failure> {
    if let Some(password) = given_password(
        args.password_file.as_deref(),
        args.password_env.as_deref(),
        args.password.as_deref(),
    )? {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password for the private key: ")
            .map(String::into_bytes)
            .map_err(|e| Failure::input(format!("cannot read the password: {e}")));
    }
    Err(Failure::input(modelsign::KeyError::PasswordRequired))
}

/// A password from the first line of `file`, the environment variable `env`, or `value`
/// (the first given), or `None` when none is.
fn given_password(
    file: Option<&Path>,
    env: Option<&str>,
    value: Option<&str>,
) -> Result<Option<Vec<u8>>, Failure> {
    if let Some(file) = file {
        let text = limits::read_input_text(file, limits::MAX_SMALL_FILE).map_err(|e| {
            Failure::input(format!(
                "cannot read password file '{}': {e}",
                file.display()
            ))
        })?;
        return Ok(Some(text.lines().next().unwrap_or("").as_bytes().to_vec()));
    }
    if let Some(var) = env {
        return std::env::var(var)
            .map(|v| Some(v.into_bytes()))
            .map_err(|_| Failure::input(format!("environment variable {var} is not set")));
    }
    Ok(value.map(|v| v.as_bytes().to_vec()))
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
    if let Some(password) = given_password(
        args.password_file.as_deref(),
        args.password_env.as_deref(),
        value,
    )? {
        return Ok(Some(password));
    }
    if args.password.is_none() {
        return Ok(None);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::input(
            "--password without a value asks for the password on a terminal, and there is none; use --password-file or --password-env",
        ));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|e| Failure::input(format!("cannot read the password: {e}")))
    };
    let first = ask("Password for the new private key: ")?;
    if ask("The same password again: ")? != first {
        return Err(Failure::input(
            "the two passwords differ; nothing was written",
        ));
    }
    Ok(Some(first.into_bytes()))
}
