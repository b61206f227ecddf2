//! Adapter for the OMS conformance suite: `sign-model` and `verify-model` with the flags of
//! the suite's adapter protocol; and for sigstore-conformance: `verify-bundle` with the
//! flags of its client protocol. The exit code is the result (0 success, 1 failure,
//! 2 bad usage). The reason for a failure goes to stderr for whoever reads the logs.

mod sigstore_client;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use modelsign::model::relative_to_model;
use modelsign::{
    Bundle, Certificate, CertificateSigner, CertificateVerifier, HashSettings, IdentityPolicy,
    IdentityTokenSecret, IgnoreSet, KeySigner, KeyVerifier, PrivateKey, Progress, PublicKey,
    Signer, SigstoreServices, SigstoreSigner, SigstoreTrustRoot, SigstoreVerifier, Verifier,
    VerifyOptions,
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
    let signer: Box<dyn Signer> = match args.common.method {
        Method::Key => Box::new(KeySigner::new(private_key(args)?)),
        Method::Certificate => {
            let leaf = first_certificate(required(&args.signing_cert, "--signing-cert")?)?;
            let chain = certificates(&args.cert_chain)?;
            Box::new(CertificateSigner::new(private_key(args)?, leaf, chain).map_err(text)?)
        }
        Method::Sigstore => {
            let services =
                SigstoreServices::choose(args.common.use_staging, args.trust_config.as_deref())
                    .map_err(text)?;
            let token = args
                .identity_token
                .as_deref()
                .ok_or("--identity-token is required for sigstore")?;
            let token = IdentityTokenSecret::from_jwt(token).map_err(text)?;
            Box::new(SigstoreSigner::new(&services, token))
        }
    };
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
    let verifier: Box<dyn Verifier> = match args.common.method {
        Method::Key => {
            let path = required(&args.public_key, "--public-key")?;
            Box::new(KeyVerifier::new(
                PublicKey::read_pem_file(path).map_err(text)?,
            ))
        }
        Method::Certificate => {
            Box::new(CertificateVerifier::new(certificates(&args.cert_chain)?).map_err(text)?)
        }
        Method::Sigstore => {
            let trust =
                SigstoreTrustRoot::choose(args.common.use_staging, args.trust_config.as_deref())
                    .map_err(text)?;
            let identity = args.identity.clone().ok_or("--identity is required")?;
            let issuer = args
                .identity_provider
                .clone()
                .ok_or("--identity-provider is required")?;
            Box::new(
                SigstoreVerifier::new(&trust, IdentityPolicy::Exact(identity), issuer)
                    .map_err(text)?,
            )
        }
    };
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

fn private_key(args: &SignArgs) -> Result<PrivateKey, String> {
    PrivateKey::read_pem_file(required(&args.private_key, "--private-key")?, None).map_err(text)
}

fn certificates(paths: &[PathBuf]) -> Result<Vec<Certificate>, String> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(Certificate::read_pem_file(path).map_err(text)?);
    }
    Ok(all)
}

fn first_certificate(path: &Path) -> Result<Certificate, String> {
    certificates(&[path.to_path_buf()])?
        .into_iter()
        .next()
        .ok_or_else(|| format!("no certificate in '{}'", path.display()))
}

/// The protocol passes absolute ignore paths; they are made relative to the model root.
fn ignore_set(model: &Path, paths: &[PathBuf]) -> Result<IgnoreSet, String> {
    let mut set = IgnoreSet::new(true);
    for path in paths {
        if let Some(relative) = relative_to_model(model, path) {
            set.add(&relative).map_err(text)?;
        }
    }
    Ok(set)
}

fn required<'a>(value: &'a Option<PathBuf>, flag: &str) -> Result<&'a Path, String> {
    value
        .as_deref()
        .ok_or_else(|| format!("{flag} is required for this method"))
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}
