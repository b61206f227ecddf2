//! The sigstore-conformance client protocol (`verify-bundle`), over sigstore-rust's
//! `sigstore-verify`: the same verifier modelsign's `verify sigstore` relies on, exercised
//! here on the Sigstore project's own accept/reject cases, message signatures included.

use std::path::PathBuf;

use clap::Args;
use modelsign::SigstoreTrustRoot;
use sigstore_verify::types::{Bundle, DerPublicKey, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

#[derive(Args)]
#[command(group(clap::ArgGroup::new("trust").required(true).args(["certificate_identity", "key"])))]
pub struct VerifyBundleArgs {
    #[arg(long)]
    bundle: PathBuf,
    #[arg(long, requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    #[arg(long)]
    certificate_oidc_issuer: Option<String>,
    /// A managed (non-Fulcio) public key, PEM.
    #[arg(long, conflicts_with = "certificate_identity")]
    key: Option<PathBuf>,
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    #[arg(long)]
    staging: bool,
    /// The artifact's path, or its digest as `sha256:<hex>`.
    artifact: String,
}

pub fn verify_bundle(args: &VerifyBundleArgs) -> Result<(), String> {
    let trust = SigstoreTrustRoot::choose(args.staging, args.trusted_root.as_deref())
        .map_err(|e| e.to_string())?;
    let verifier = Verifier::new(trust.trusted_root()).map_err(|e| e.to_string())?;
    let json = std::fs::read_to_string(&args.bundle)
        .map_err(|e| format!("cannot read '{}': {e}", args.bundle.display()))?;
    let bundle = Bundle::from_json(&json).map_err(|e| format!("invalid bundle: {e}"))?;
    let contents;
    let artifact: sigstore_verify::types::Artifact<'_> = match args.artifact.strip_prefix("sha256:")
    {
        Some(hex) => Sha256Hash::from_hex(hex)
            .map_err(|e| format!("invalid digest: {e}"))?
            .into(),
        None => {
            contents = std::fs::read(&args.artifact)
                .map_err(|e| format!("cannot read '{}': {e}", args.artifact))?;
            contents.as_slice().into()
        }
    };
    let result = match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(key), _, _) => {
            let pem = std::fs::read_to_string(key)
                .map_err(|e| format!("cannot read '{}': {e}", key.display()))?;
            let key = DerPublicKey::from_pem(&pem).map_err(|e| format!("invalid key: {e}"))?;
            verifier.verify(artifact, &bundle, &PublicKeyVerificationPolicy::new(key))
        }
        (None, Some(identity), Some(issuer)) => verifier.verify(
            artifact,
            &bundle,
            &VerificationPolicy::new(identity.as_str(), issuer.as_str()),
        ),
        _ => {
            return Err(
                "give --key, or --certificate-identity and --certificate-oidc-issuer".into(),
            )
        }
    };
    result.map(|_| ()).map_err(|e| e.to_string())
}
