//! Adapter for the OMS conformance suite: `sign-model` and `verify-model` with the flags of
//! the suite's adapter protocol; and for sigstore-conformance: `verify-bundle` with the
//! flags of its client protocol. The exit code is the result (0 success, 1 failure,
//! 2 bad usage). The reason for a failure goes to stderr for whoever reads the logs.

mod sigstore_client;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use modelsign::model::ignore_paths::resolve_ignore_paths;
use modelsign::spec::{
    CertificateFiles, IdentityMatch, NoPrompts, PrivateKeySpec, SecretSource, SignerSpec,
    SigstoreSignerSpec, TokenSpec, VerifierSpec,
};
use modelsign::{
    Bundle, HashSettings, IgnoreSet, Progress, UnverifiableCertificate, VerifyOptions,
};

#[derive(Parser)]
#[command(
    name = "modelsign-conformance",
    version,
    about = "OMS conformance adapter for modelsign"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign a model and write the bundle.
    SignModel(SignArgs),
    /// Verify a model against a bundle.
    VerifyModel(VerifyArgs),
    /// sigstore-conformance: verify a bundle over an artifact (or `sha256:<hex>` digest).
    VerifyBundle(sigstore_client::VerifyBundleArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Method {
    Key,
    Certificate,
    Sigstore,
}

#[derive(Args)]
struct Common {
    #[arg(long, value_enum)]
    method: Method,
    #[arg(long)]
    model_path: PathBuf,
    #[arg(long)]
    ignore_paths: Vec<PathBuf>,
    #[arg(long)]
    use_staging: bool,
}

#[derive(Args)]
struct SignArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    output_bundle: PathBuf,
    #[arg(long)]
    private_key: Option<PathBuf>,
    #[arg(long)]
    signing_cert: Option<PathBuf>,
    #[arg(long)]
    cert_chain: Vec<PathBuf>,
    #[arg(long)]
    identity_token: Option<String>,
    /// A ClientTrustConfig naming the Sigstore services (not part of the OMS protocol;
    /// used by modelsign's own tests with a loopback stack).
    #[arg(long)]
    trust_config: Option<PathBuf>,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    bundle: PathBuf,
    #[arg(long)]
    public_key: Option<PathBuf>,
    #[arg(long)]
    cert_chain: Vec<PathBuf>,
    #[arg(long)]
    ignore_unsigned_files: bool,
    #[arg(long)]
    identity: Option<String>,
    #[arg(long)]
    identity_provider: Option<String>,
    /// A trusted root or ClientTrustConfig for a private Sigstore instance (not part of
    /// the OMS protocol; used by modelsign's own tests).
    #[arg(long)]
    trust_config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::SignModel(args) => sign(args),
        Command::VerifyModel(args) => verify(args),
        Command::VerifyBundle(args) => sigstore_client::verify_bundle(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("modelsign-conformance: {message}");
            ExitCode::from(1)
        }
    }
}

fn sign(args: &SignArgs) -> Result<(), String> {
    let model = &args.common.model_path;
    let private_key = || required(&args.private_key, "--private-key").map(PrivateKeySpec::file);
    let spec = match args.common.method {
        Method::Key => SignerSpec::Key(private_key()?),
        Method::Certificate => SignerSpec::Certificate {
            key: private_key()?,
            certificates: CertificateFiles {
                signing_certificate: required(&args.signing_cert, "--signing-cert")?,
                chain: args.cert_chain.clone(),
                unverifiable: UnverifiableCertificate::Refuse,
            },
        },
        Method::Sigstore => SignerSpec::Sigstore(SigstoreSignerSpec {
            use_staging: args.common.use_staging,
            trust_config: args.trust_config.clone(),
            token: TokenSpec::given(SecretSource::Value(
                args.identity_token
                    .clone()
                    .ok_or("--identity-token is required for sigstore")?,
            )),
        }),
    };
    let signer = spec.build(&NoPrompts).map_err(text)?.signer;
    let settings = HashSettings {
        walk: modelsign::WalkOptions {
            ignore: ignore_set(model, &args.common.ignore_paths)?,
            ..HashSettings::default().walk
        },
        ..HashSettings::default()
    };
    modelsign::sign_model(
        model,
        &settings,
        signer.as_ref(),
        &args.output_bundle,
        &Progress::none(),
    )
    .map_err(text)?;
    Ok(())
}

fn verify(args: &VerifyArgs) -> Result<(), String> {
    let model = &args.common.model_path;
    let spec = match args.common.method {
        Method::Key => VerifierSpec::Key {
            public_key: required(&args.public_key, "--public-key")?,
        },
        Method::Certificate => VerifierSpec::Certificate {
            trust_anchors: args.cert_chain.clone(),
        },
        Method::Sigstore => VerifierSpec::Sigstore {
            use_staging: args.common.use_staging,
            trust_file: args.trust_config.clone(),
            identity: IdentityMatch::Exact(args.identity.clone().ok_or("--identity is required")?),
            issuer: args
                .identity_provider
                .clone()
                .ok_or("--identity-provider is required")?,
        },
    };
    let verifier = spec.build().map_err(text)?.verifier;
    let bundle = Bundle::read(&args.bundle).map_err(text)?;
    let options = VerifyOptions {
        ignore: ignore_set(model, &args.common.ignore_paths)?,
        ignore_unsigned_files: args.ignore_unsigned_files,
        signature_path: Some(args.bundle.clone()),
        ..VerifyOptions::default()
    };
    modelsign::verify_model(
        model,
        &bundle,
        verifier.as_ref(),
        &options,
        &Progress::none(),
    )
    .map_err(text)?;
    Ok(())
}

/// The exclusions, by the rule the CLI applies (the protocol passes absolute paths; a
/// relative one names a path below the model root); skipped paths are reported.
fn ignore_set(model: &Path, paths: &[PathBuf]) -> Result<IgnoreSet, String> {
    let (set, warnings) = resolve_ignore_paths(model, paths, true).map_err(text)?;
    for warning in warnings {
        eprintln!("modelsign-conformance: warning: {warning}");
    }
    Ok(set)
}

fn required(value: &Option<PathBuf>, flag: &str) -> Result<PathBuf, String> {
    value
        .clone()
        .ok_or_else(|| format!("{flag} is required for this method"))
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}
