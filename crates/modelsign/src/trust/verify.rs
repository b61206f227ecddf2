//! Verifying a model under a trust policy: which of the policy's signers signed it, and
//! whether the model is what it signed.

use std::fmt;
use std::path::Path;

use super::{AttestationKind, PolicyMode, TrustPolicy};
use crate::bundle::Bundle;
use crate::error::{BundleError, Classify, FailureKind, PolicyError, VerifyError};
use crate::hashing::Progress;
use crate::spec::BuiltVerifier;
use crate::text::printable;
use crate::verifying::{self, VerificationReport, VerifyOptions};

/// A policy with the verifier of each signer that may sign models built once, to verify
/// any number of models.
pub struct PolicyVerifier {
    policy: TrustPolicy,
    /// Per signer of the policy, in its order: the verifier when it may sign models.
    verifiers: Vec<Option<BuiltVerifier>>,
}

impl fmt::Debug for PolicyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyVerifier")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// One signer of the policy that was tried, and why its verification failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerAttempt {
    /// The signer's name in the policy.
    pub signer: String,
    /// Why the signature does not verify as its.
    pub reason: String,
}

/// Why a policy refuses a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyFailure {
    /// The signature cannot be read.
    #[error(transparent)]
    Signature(BundleError),
    /// No signer of the policy may sign a model of these names.
    #[error("{}", no_signer_message(names))]
    NoSignerFor {
        /// The model's names (see [`super::model_names`]).
        names: Vec<String>,
    },
    /// No signer of the policy may sign model signatures at all: their kinds (or stages,
    /// which limit a signer to provenance) leave signatures out.
    #[error("no signer of the trust policy may sign model signatures (their kinds/stages exclude it), so it accepts no model")]
    NoModelSigner,
    /// The signature's verification material names this signer of the policy (its key
    /// hint, a chain to its root), and the signature itself does not verify: forged, or
    /// damaged since signing.
    #[error("the signature is invalid: it names {} of the trust policy and does not verify as its ({reason})", printable(signer))]
    InvalidSignature {
        /// The signer the signature names.
        signer: String,
        /// Why the signature does not verify.
        reason: String,
    },
    /// Signers may sign this model, and none of them signed it.
    #[error("{}", untrusted_message(attempts))]
    Untrusted {
        /// Each signer tried, in the policy's order, and why it does not verify.
        attempts: Vec<SignerAttempt>,
    },
    /// A trusted signer signed, and the model is not what it signed (or cannot be checked).
    #[error(transparent)]
    Model(VerifyError),
}

fn no_signer_message(names: &[String]) -> String {
    if names.is_empty() {
        return "no signer of the trust policy may sign this model (it has no name to match the policy's names against)".to_owned();
    }
    let names: Vec<String> = names
        .iter()
        .map(|name| format!("'{}'", printable(name)))
        .collect();
    format!(
        "no signer of the trust policy may sign a model named {}",
        names.join(" or ")
    )
}

fn untrusted_message(attempts: &[SignerAttempt]) -> String {
    let attempts: Vec<String> = attempts
        .iter()
        .map(|a| format!("{}: {}", printable(&a.signer), a.reason))
        .collect();
    format!(
        "no signer of the trust policy verifies the signature ({})",
        attempts.join("; ")
    )
}

impl Classify for PolicyFailure {
    fn failure_kind(&self) -> FailureKind {
        match self {
            PolicyFailure::Signature(e) => e.failure_kind(),
            PolicyFailure::Model(e) => e.failure_kind(),
            PolicyFailure::NoSignerFor { .. }
            | PolicyFailure::NoModelSigner
            | PolicyFailure::InvalidSignature { .. }
            | PolicyFailure::Untrusted { .. } => FailureKind::Check,
        }
    }
}

impl PolicyFailure {
    /// A short, stable name of the failure, as reports give it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            PolicyFailure::Signature(_) => "signature",
            PolicyFailure::NoSignerFor { .. } | PolicyFailure::NoModelSigner => "no-signer",
            PolicyFailure::InvalidSignature { .. } => "invalid-signature",
            PolicyFailure::Untrusted { .. } => "untrusted",
            PolicyFailure::Model(_) => "model",
        }
    }
}

/// What verifying a model under a policy established.
#[derive(Debug)]
pub struct PolicyOutcome {
    /// The policy's mode.
    pub mode: PolicyMode,
    /// The policy signer whose signature verified, when one did.
    pub signer: Option<String>,
    /// The model's names the policy was matched against.
    pub names: Vec<String>,
    /// The verification, or why the policy refuses the model.
    pub result: Result<VerificationReport, PolicyFailure>,
}

impl PolicyOutcome {
    /// True when a trusted signer signed the model and it verifies.
    pub fn accepted(&self) -> bool {
        self.result.is_ok()
    }

    /// True when the model may be used: accepted, or refused under a policy that only warns.
    pub fn passes(&self) -> bool {
        self.accepted() || self.mode == PolicyMode::Warn
    }
}

impl PolicyVerifier {
    /// Builds the verifier of every signer that may sign models; the error names the signer
    /// whose material cannot be read.
    pub fn new(policy: TrustPolicy) -> Result<PolicyVerifier, PolicyError> {
        let verifiers = policy
            .signers
            .iter()
            .map(|signer| {
                signer
                    .kinds
                    .contains(&AttestationKind::Signature)
                    .then(|| signer.build())
                    .transpose()
            })
            .collect::<Result<_, _>>()?;
        Ok(PolicyVerifier { policy, verifiers })
    }

    /// The policy.
    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    /// Verifies the model at `model` against the signature at `signature`: read it, find
    /// the policy's signers that may sign a model of these `names` (the verifier's own,
    /// see [`super::model_names`]), take the first of them whose signature it is, then check
    /// the model against what it signed. The signature file is left out of the model when
    /// it lies inside it, as `options.signature_path` would.
    pub fn verify(
        &self,
        model: &Path,
        signature: &Path,
        names: &[String],
        options: &VerifyOptions,
        progress: &Progress,
    ) -> PolicyOutcome {
        let checked = self.check(model, signature, names, options, progress);
        self.outcome(names, checked)
    }

    /// Verifies the image (read from its registry or layout) against `bundle` (found beside
    /// it, or given): the policy's signers that may sign a model of these `names` (the
    /// image's, see [`super::image_names`]), the first of them whose signature it is, then
    /// that the image's layers are what it signed.
    pub fn verify_image(
        &self,
        image: &crate::oci::ResolvedImage,
        registry: &crate::oci::registry::Registry,
        bundle: &Bundle,
        names: &[String],
    ) -> PolicyOutcome {
        let outcome = self.check_bundle(bundle, names, |verifier| {
            crate::oci::verify_image(image, registry, bundle, verifier)
        });
        self.outcome(names, outcome)
    }

    /// Verifies the image against the signatures stored beside it in its registry
    /// ([`crate::oci::find_signatures`]): the first that the policy accepts, else the
    /// refusal of the first (the newest); a refusal naming no signature when there is none.
    pub fn verify_image_beside(
        &self,
        image: &crate::oci::ResolvedImage,
        registry: &crate::oci::registry::Registry,
        names: &[String],
    ) -> PolicyOutcome {
        use crate::oci::attach::Attachment;
        let found = match crate::oci::find_signatures(registry, image, Attachment::Signature) {
            Ok(found) => found,
            Err(error) => {
                return self.outcome(names, Err((None, PolicyFailure::Model(error.into()))))
            }
        };
        let mut first = None;
        for candidate in &found {
            let outcome = match Bundle::from_json(&candidate.bundle_json) {
                Ok(bundle) => self.verify_image(image, registry, &bundle, names),
                Err(error) => self.outcome(names, Err((None, PolicyFailure::Signature(error)))),
            };
            if outcome.result.is_ok() {
                return outcome;
            }
            first.get_or_insert(outcome);
        }
        first.unwrap_or_else(|| {
            let none = crate::oci::no_signature(image, Attachment::Signature);
            self.outcome(names, Err((None, PolicyFailure::Model(none.into()))))
        })
    }

    #[allow(clippy::type_complexity)]
    fn outcome(
        &self,
        names: &[String],
        checked: Result<(String, VerificationReport), (Option<String>, PolicyFailure)>,
    ) -> PolicyOutcome {
        let (signer, result) = match checked {
            Ok((signer, report)) => (Some(signer), Ok(report)),
            Err((signer, failure)) => (signer, Err(failure)),
        };
        PolicyOutcome {
            mode: self.policy.mode,
            signer,
            names: names.to_vec(),
            result,
        }
    }

    /// The signer and report, or the signer (when one verified) and the failure.
    #[allow(clippy::type_complexity)]
    fn check(
        &self,
        model: &Path,
        signature: &Path,
        names: &[String],
        options: &VerifyOptions,
        progress: &Progress,
    ) -> Result<(String, VerificationReport), (Option<String>, PolicyFailure)> {
        let bundle = Bundle::read(signature).map_err(|e| (None, PolicyFailure::Signature(e)))?;
        let mut options = options.clone();
        if options.signature_path.is_none() {
            options.signature_path = Some(signature.to_path_buf());
        }
        self.check_bundle(&bundle, names, |verifier| {
            verifying::verify_model(model, &bundle, verifier, &options, progress)
        })
    }

    /// Which candidate signer's signature `bundle` is, then `check_model` with its verifier.
    #[allow(clippy::type_complexity)]
    fn check_bundle(
        &self,
        bundle: &Bundle,
        names: &[String],
        check_model: impl FnOnce(&dyn verifying::Verifier) -> Result<VerificationReport, VerifyError>,
    ) -> Result<(String, VerificationReport), (Option<String>, PolicyFailure)> {
        let subject: Vec<&str> = names.iter().map(String::as_str).collect();
        let model_signers: Vec<_> = self
            .policy
            .signers
            .iter()
            .zip(&self.verifiers)
            .filter_map(|(signer, built)| Some((signer, built.as_ref()?)))
            .collect();
        // Blaming the model's name when no signer may sign models at all would send the
        // reader to the wrong part of the policy.
        if model_signers.is_empty() {
            return Err((None, PolicyFailure::NoModelSigner));
        }
        let candidates: Vec<_> = model_signers
            .into_iter()
            .filter(|(signer, _)| {
                signer
                    .allows(
                        AttestationKind::Signature,
                        None,
                        std::slice::from_ref(&subject),
                    )
                    .is_ok()
            })
            .collect();
        if candidates.is_empty() {
            return Err((
                None,
                PolicyFailure::NoSignerFor {
                    names: names.to_vec(),
                },
            ));
        }
        let mut attempts = Vec::new();
        let mut trusted = None;
        let mut claimed = None;
        for (signer, built) in candidates {
            match verifying::verify_statement_signature(bundle, built.verifier.as_ref()) {
                Ok(_) => {
                    trusted = Some((signer, built));
                    break;
                }
                Err(e) => {
                    let reason = e.to_string();
                    if claimed.is_none()
                        && matches!(e, VerifyError::BadSignature | VerifyError::NoSignature)
                        && built.verifier.material_names_signer(bundle)
                    {
                        claimed = Some(SignerAttempt {
                            signer: signer.name.clone(),
                            reason: reason.clone(),
                        });
                    }
                    attempts.push(SignerAttempt {
                        signer: signer.name.clone(),
                        reason,
                    });
                }
            }
        }
        let Some((signer, built)) = trusted else {
            // A signature naming a trusted signer that does not verify is a forgery or
            // damage, not a stranger's signature: say so rather than "untrusted signer".
            let failure = match claimed {
                Some(SignerAttempt { signer, reason }) => {
                    PolicyFailure::InvalidSignature { signer, reason }
                }
                None => PolicyFailure::Untrusted { attempts },
            };
            return Err((None, failure));
        };
        match check_model(built.verifier.as_ref()) {
            Ok(report) => Ok((signer.name.clone(), report)),
            Err(e) => Err((Some(signer.name.clone()), PolicyFailure::Model(e))),
        }
    }
}
