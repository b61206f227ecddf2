//! The command-line options that fix a library error. The library's messages name no CLI
//! option (other front ends have other spellings); the CLI adds them here, matched by
//! error variant, before printing.

use std::any::Any;

use modelsign::error::{
    AttestationError, CardError, CertError, HashError, KeyError, ProvenanceError, SignError,
    StoreError, VerifyError, WalkError,
};
use modelsign::SignWarning;

/// The message of `failure` as the CLI prints it: the library's message plus, for errors an
/// option fixes, that option.
pub fn with_option_hint(failure: &dyn Any, message: String) -> String {
    if let Some(CardError::Policy(_)) = failure.downcast_ref::<CardError>() {
        // The policy came from --require: name it where the message names the policy.
        return match message.strip_prefix("bad policy ") {
            Some(rest) => format!("bad --require policy {rest}"),
            None => message,
        };
    }
    match hint(failure) {
        Some(hint) => message + hint,
        None => message,
    }
}

fn hint(failure: &dyn Any) -> Option<&'static str> {
    if let Some(e) = failure.downcast_ref::<SignError>() {
        return sign_hint(e);
    }
    if let Some(e) = failure.downcast_ref::<VerifyError>() {
        return verify_hint(e);
    }
    if let Some(e) = failure.downcast_ref::<CardError>() {
        return card_hint(e);
    }
    if let Some(e) = failure.downcast_ref::<ProvenanceError>() {
        return provenance_hint(e);
    }
    if let Some(e) = failure.downcast_ref::<KeyError>() {
        return key_hint(e);
    }
    if let Some(e) = failure.downcast_ref::<CertError>() {
        return cert_hint(e);
    }
    if let Some(e) = failure.downcast_ref::<HashError>() {
        return hash_hint(e);
    }
    failure.downcast_ref::<WalkError>().and_then(walk_hint)
}

/// A signing warning as the CLI prints it: with the option that avoids it.
pub fn sign_warning(warning: &SignWarning) -> String {
    match warning {
        SignWarning::ModelSigningCannotVerifySingleFile { .. } => {
            format!("{warning} (--model-signing-single-file-name)")
        }
        other => other.to_string(),
    }
}

/// What `card init` adds when it drafted metric names that signing refuses by default.
pub const CUSTOM_METRICS_HINT: &str =
    "to sign a card with metric names that are not common ones, pass --allow-custom-metrics";

fn card_hint(error: &CardError) -> Option<&'static str> {
    match error {
        CardError::Invalid {
            unknown_metrics, ..
        } if !unknown_metrics.is_empty() => Some(
            "\n(if the metric names are right, sign with --allow-custom-metrics to accept them)",
        ),
        CardError::Sign(e) => sign_hint(e),
        CardError::Verify(e) => verify_hint(e),
        CardError::Attestation(e) => attestation_hint(e),
        // The newest card's failure ends the message.
        CardError::NoClaimVerifies { source, .. } => card_hint(source),
        _ => None,
    }
}

fn provenance_hint(error: &ProvenanceError) -> Option<&'static str> {
    match error {
        ProvenanceError::Undigested { .. } => Some(" (--allow-undigested)"),
        ProvenanceError::Hash { source, .. } => hash_hint(source),
        ProvenanceError::NoClaim { .. } => {
            Some("; record one into it with `modelsign provenance record ... --claims`")
        }
        ProvenanceError::Attestation(e) => attestation_hint(e),
        ProvenanceError::NoClaimVerifies { source, .. } => provenance_hint(source),
        _ => None,
    }
}

fn attestation_hint(error: &AttestationError) -> Option<&'static str> {
    match error {
        AttestationError::NoOwnKey => Some(" (drop --model-signature)"),
        AttestationError::Store(StoreError::NoClaim { .. }) => {
            Some("; sign one into it with `modelsign card sign ... --claims`")
        }
        AttestationError::Store(StoreError::File(e)) | AttestationError::Sign(e) => sign_hint(e),
        AttestationError::Verify(e) | AttestationError::ModelSignatureFails { source: e, .. } => {
            verify_hint(e)
        }
        _ => None,
    }
}

fn sign_hint(error: &SignError) -> Option<&'static str> {
    match error {
        SignError::Hash(e) => hash_hint(e),
        SignError::Key(e) => key_hint(e),
        SignError::Certificate(e) => cert_hint(e),
        _ => None,
    }
}

fn verify_hint(error: &VerifyError) -> Option<&'static str> {
    match error {
        VerifyError::NoValidCertificateAuthority { .. } => {
            Some("; try --use-staging or --trust-config")
        }
        VerifyError::Hash(e) => hash_hint(e),
        VerifyError::Key(e) => key_hint(e),
        VerifyError::Certificate(e) => cert_hint(e),
        _ => None,
    }
}

fn hash_hint(error: &HashError) -> Option<&'static str> {
    match error {
        HashError::Walk(e) => walk_hint(e),
        _ => None,
    }
}

fn walk_hint(error: &WalkError) -> Option<&'static str> {
    match error {
        WalkError::Symlink { .. } => Some(" unless --allow-symlinks is given"),
        WalkError::ModelPathSymlink { .. } => Some(", or pass --allow-symlinks"),
        _ => None,
    }
}

fn key_hint(error: &KeyError) -> Option<&'static str> {
    match error {
        KeyError::PasswordRequired => {
            Some(" with --password-file, --password-env or at the prompt")
        }
        KeyError::Exists { .. } => Some("; pass --force to replace it"),
        KeyError::SamePath { .. } => Some("; give --public-key another path"),
        _ => None,
    }
}

fn cert_hint(error: &CertError) -> Option<&'static str> {
    match error {
        CertError::NoAnchors => Some(" with --certificate-chain"),
        _ => None,
    }
}
