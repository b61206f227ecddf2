//! Signed model cards: claims about a model (evaluation scores, datasets, license, intended
//! use and limits) that a producer signs and any consumer can verify, read and gate on.
//!
//! A card is an in-toto Statement v1 whose one subject is the model (its name and OMS
//! `sha256` root digest) and whose predicate (`https://cyclonedx.org/bom`) is a CycloneDX
//! 1.6 BOM with the model as a `machine-learning-model` component. It is signed into its own
//! bundle with any signing method; the OMS model signature stays untouched.
//!
//! Producers edit the card as YAML ([`ModelCard`]), usually starting from [`draft`]; the
//! BOM is built from it at signing ([`bom`]) and read back into a [`ModelCard`] at
//! verification.

pub mod bom;
pub(crate) mod draft;
mod policy;
mod render;
pub(crate) mod yaml;

pub use draft::{
    draft, import_evaluations, Draft, MAX_DRAFTED_DESCRIPTION_CHARS, MAX_METADATA_FILE_BYTES,
};
pub use policy::{Comparison, Policy, PolicyOutcome};
pub use render::{json_report, render, Format};
pub use yaml::{check_shape, ShapeError, MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES};

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::attestation::{AttestationStore, ModelBinding, ModelSubject, SubjectSource};

use crate::attestation::{NotVerified, StoredAttestations};

use crate::attestation::{self, Predicate};
use crate::bundle::Bundle;
use crate::error::{AttestationError, CardError, StatementError, StoreError, VerifyError};
use crate::limits;
use crate::serialization::{Serialization, SerializationRecord};
use crate::signing::Signer;
use crate::verifying::{SignerIdentity, Verifier};
use crate::{dsse, intoto, statement};

/// The predicate type of a model card statement.
pub const PREDICATE_TYPE: &str = intoto::CYCLONEDX_BOM;
/// Where a card signature goes by default.
pub const DEFAULT_SIGNATURE: &str = "model-card.sig";

/// What a producer says about a model: the editable form of a card (YAML).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    /// The model's name.
    pub name: String,
    /// The model's version, as its producer numbers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What the model is and does, in prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An SPDX license identifier or expression (`apache-2.0`, `MIT OR Apache-2.0`), or a
    /// license name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The people or organisations who made the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Models this one was trained or fine-tuned from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_models: Vec<String>,
    /// The natural languages the model handles (`en`, `de`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The task (Hugging Face `pipeline_tag`, e.g. `text-classification`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The architecture (e.g. `BertForSequenceClassification`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The datasets the model was trained or evaluated on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<Dataset>,
    /// The model's evaluation results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    /// Who the model is for, and what it should not be used for.
    #[serde(default, skip_serializing_if = "Considerations::is_empty")]
    pub considerations: Considerations,
    /// The model as `card init` found it. Informational; when present, signing checks the
    /// model still has this root digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelFacts>,
}

/// A dataset the model was trained or evaluated on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// The dataset's name (a Hugging Face dataset id, or any name).
    pub name: String,
    /// `training` or `evaluation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `sha256:<hex>` of the dataset, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Where the dataset can be found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One evaluation result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// The metric (`accuracy`, `f1`, `exact_match`, ...).
    pub metric: String,
    /// The score (a finite number).
    pub value: f64,
    /// The dataset it was measured on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The dataset's split it was measured on (`test`, `validation`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// A further slice of the data (a subset, a language, a demographic group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
    /// The bounds of the score's confidence interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_interval: Option<ConfidenceInterval>,
    /// Who measured it, or where it is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The range a metric's true value lies in, as its measurer states it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceInterval {
    /// The lower bound.
    pub lower: f64,
    /// The upper bound.
    pub upper: f64,
}

/// Intended use and limits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Considerations {
    /// Who the model is meant for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// What the model is meant to be used for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub use_cases: Vec<String>,
    /// Known weaknesses and uses it is unfit for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limitations: Vec<String>,
    /// Ethical considerations: risks, biases, and how they are mitigated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ethical: Vec<String>,
}

impl Considerations {
    /// True when the card says nothing about use and limits (the section is then left out).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.use_cases.is_empty()
            && self.limitations.is_empty()
            && self.ethical.is_empty()
    }
}

/// The model a card was drafted for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFacts {
    /// `sha256:<hex>` OMS root digest.
    pub root_digest: String,
    /// The names of the model's files (the manifest's resources) when it was drafted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// Metric names a card may use without `allow_custom_metrics`: the common evaluation
/// metrics of the Hugging Face Hub, `evaluate` and lm-evaluation-harness, and the scores
/// spaCy pipelines report. Compared ignoring case, `-`, `_` and spaces; see
/// [`is_known_metric`] for the cutoffs and similarity qualifiers also accepted.
pub const KNOWN_METRICS: &[&str] = &[
    "accuracy",
    "acc",
    "acc_norm",
    "balanced_accuracy",
    "top_1_accuracy",
    "top_5_accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "f1_micro",
    "f1_weighted",
    "exact_match",
    "em",
    "auc",
    "roc_auc",
    "pr_auc",
    "average_precision",
    "map",
    "map50",
    "mrr",
    "ndcg",
    "bleu",
    "sacrebleu",
    "chrf",
    "ter",
    "meteor",
    "rouge",
    "rouge1",
    "rouge2",
    "rougel",
    "rougelsum",
    "bertscore",
    "wer",
    "cer",
    "perplexity",
    "loss",
    "cross_entropy",
    "mae",
    "mse",
    "rmse",
    "r2",
    "pearson",
    "spearman",
    "matthews_correlation",
    "mcc",
    "iou",
    "miou",
    "dice",
    "pass@1",
    "pass@10",
    "pass@100",
    "win_rate",
    "elo",
    "score",
    "mc1",
    "mc2",
    "latency",
    "throughput",
    "ap",
    "v_measure",
    "main_score",
    // spaCy's scorer, as pipelines report it in meta.json `performance`.
    "token_acc",
    "token_p",
    "token_r",
    "token_f",
    "tag_acc",
    "pos_acc",
    "morph_acc",
    "lemma_acc",
    "sents_p",
    "sents_r",
    "sents_f",
    "dep_uas",
    "dep_las",
    "ents_p",
    "ents_r",
    "ents_f",
    "cats_score",
    "cats_micro_f",
    "cats_macro_f",
    "cats_macro_auc",
    "spans_sc_p",
    "spans_sc_r",
    "spans_sc_f",
    "speed",
];

/// How sentence-transformers and MTEB qualify a metric with the similarity it was
/// computed with, before or after it (`spearman_cosine`, `cosine_accuracy`,
/// `cos_sim_spearman`).
const SIMILARITY_QUALIFIERS: &[&str] = &[
    "cosine",
    "cos_sim",
    "dot",
    "dot_score",
    "euclidean",
    "manhattan",
    "max",
];

fn metric_key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// True when `name` is one of [`KNOWN_METRICS`], possibly with a ranking cutoff
/// (`ndcg@10`, `map_at_100`) and a similarity qualifier (`spearman_cosine`,
/// `cosine_ndcg@10`): the names sentence-transformers and MTEB write in model cards.
pub fn is_known_metric(name: &str) -> bool {
    let listed = |name: &str| {
        let key = metric_key(name);
        !key.is_empty() && KNOWN_METRICS.iter().any(|known| metric_key(known) == key)
    };
    let name = name.trim().to_lowercase();
    let without_cutoff = strip_cutoff(&name);
    let known = [name.as_str(), without_cutoff]
        .into_iter()
        .any(|candidate| listed(candidate) || strip_similarity(candidate).is_some_and(listed));
    known
}

/// `ndcg@10` or `ndcg_at_10` without its cutoff; the name itself when it has none.
fn strip_cutoff(name: &str) -> &str {
    let cut = |separator: &str| {
        name.rsplit_once(separator).and_then(|(base, k)| {
            (!base.is_empty() && !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
                .then_some(base)
        })
    };
    cut("@").or_else(|| cut("_at_")).unwrap_or(name)
}

/// The metric of `spearman_cosine` or `cosine_spearman` (a similarity qualifier before or
/// after it, joined by `_`, `-` or a space); `None` without one.
fn strip_similarity(name: &str) -> Option<&str> {
    SIMILARITY_QUALIFIERS.iter().find_map(|qualifier| {
        let prefixed = name
            .strip_prefix(qualifier)
            .and_then(|rest| rest.strip_prefix(['_', '-', ' ']));
        let suffixed = name
            .strip_suffix(qualifier)
            .and_then(|rest| rest.strip_suffix(['_', '-', ' ']));
        prefixed.or(suffixed).filter(|metric| !metric.is_empty())
    })
}

impl ModelCard {
    /// Reads a card from YAML (or JSON, which is YAML). `origin` names it in errors.
    /// The text is bounded first (size, nesting, alias expansion: see [`MAX_YAML_BYTES`],
    /// [`MAX_YAML_DEPTH`], [`MAX_YAML_NODES`]).
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, CardError> {
        yaml::from_str(text, origin)
    }

    /// Reads a card file.
    pub fn read(path: &Path) -> Result<Self, CardError> {
        let text = limits::read_input_text(path, limits::MAX_CARD_FILE).map_err(|source| {
            CardError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    /// The card as YAML, with a header telling the producer what to do with it.
    pub fn to_yaml(&self) -> String {
        let body = serde_norway::to_string(self).unwrap_or_default();
        format!(
            "# Model card drafted by modelsign. Review every field, complete what is missing\n\
             # (description, considerations, datasets' digests), then sign it:\n\
             #   modelsign card sign key MODEL --card THIS_FILE --private-key key.pem\n\
             # metrics: metric (accuracy, f1, ...), value (a number), dataset, split, slice,\n\
             # confidence_interval {{lower, upper}}, source, date.\n{body}"
        )
    }

    /// Every problem with the card, so the producer can fix them in one go. Metric names
    /// outside [`KNOWN_METRICS`] are problems unless `allow_custom_metrics`.
    /// Names and values quoted in them are made printable (they come from the card file).
    pub fn problems(&self, allow_custom_metrics: bool) -> Vec<String> {
        use crate::text::printable;
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: the model's name is empty".to_owned());
        }
        for (i, dataset) in self.datasets.iter().enumerate() {
            if dataset.name.trim().is_empty() {
                problems.push(format!("datasets[{i}]: name is empty"));
            }
            if let Some(digest) = &dataset.digest {
                if parse_sha256(digest).is_none() {
                    problems.push(format!(
                        "datasets[{i}] ({}): digest '{}' is not sha256:<64 hex digits>",
                        printable(&dataset.name),
                        printable(digest)
                    ));
                }
            }
        }
        for (i, metric) in self.metrics.iter().enumerate() {
            let at = format!("metrics[{i}] ({})", printable(&metric.metric));
            if metric.metric.trim().is_empty() {
                problems.push(format!("metrics[{i}]: metric name is empty"));
            } else if !allow_custom_metrics && !is_known_metric(&metric.metric) {
                problems.push(format!(
                    "{at}: unknown metric name; use a common one (accuracy, f1, exact_match, bleu, rouge1, wer, perplexity, pass@1, ...) or, if the name is right, allow custom metric names"
                ));
            }
            if !metric.value.is_finite() {
                problems.push(format!("{at}: value is not a finite number"));
            }
            if let Some(ci) = metric.confidence_interval {
                if !ci.lower.is_finite() || !ci.upper.is_finite() || ci.lower > ci.upper {
                    problems.push(format!(
                        "{at}: confidence interval [{}, {}] is not a range of finite numbers",
                        ci.lower, ci.upper
                    ));
                }
            }
        }
        if let Some(model) = &self.model {
            if parse_sha256(&model.root_digest).is_none() {
                problems.push(format!(
                    "model.root_digest '{}' is not sha256:<64 hex digits>",
                    printable(&model.root_digest)
                ));
            }
        }
        problems
    }

    /// Fails with every problem found (see [`ModelCard::problems`]).
    pub fn validate(&self, allow_custom_metrics: bool) -> Result<(), CardError> {
        let problems = self.problems(allow_custom_metrics);
        if problems.is_empty() {
            return Ok(());
        }
        let unknown_metrics = if allow_custom_metrics {
            Vec::new()
        } else {
            self.unknown_metrics()
        };
        Err(CardError::Invalid {
            problems,
            unknown_metrics,
        })
    }

    /// The card's metric names that are not common ones ([`is_known_metric`]).
    pub fn unknown_metrics(&self) -> Vec<String> {
        self.metrics
            .iter()
            .map(|m| m.metric.clone())
            .filter(|name| !name.trim().is_empty() && !is_known_metric(name))
            .collect()
    }
}

/// `sha256:<hex>` (or bare hex) as 32 bytes.
pub(crate) fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let hex_part = text.strip_prefix("sha256:").unwrap_or(text);
    let bytes = base16ct::mixed::decode_vec(hex_part).ok()?;
    bytes.try_into().ok()
}

/// A card is an attestation: its predicate is the CycloneDX BOM built from the card.
impl Predicate for ModelCard {
    const PREDICATE_TYPE: &'static str = PREDICATE_TYPE;
    type Error = CardError;
    type Read = CardBom;

    /// `card.model`, when present, must name the subject's digest (the model has not
    /// changed since `card init`).
    fn check(&self, subject: &ModelSubject) -> Result<(), CardError> {
        if let Some(model) = &self.model {
            if parse_sha256(&model.root_digest) != Some(subject.root_digest) {
                return Err(CardError::DraftedForAnotherModel {
                    card: crate::text::printable(&model.root_digest).into_owned(),
                    model: subject.root_digest_string(),
                });
            }
        }
        Ok(())
    }

    fn encode(&self, subject: &ModelSubject) -> serde_json::Value {
        bom::to_bom(self, subject)
    }

    fn decode(predicate: serde_json::Value) -> Result<CardBom, CardError> {
        let (card, serialization) = bom::from_bom(&predicate)?;
        Ok(CardBom {
            card,
            serialization,
            bom: predicate,
        })
    }

    /// Cards record the hashing settings in the BOM too (`modelsign:oms:*` properties), for
    /// readers of CycloneDX; cards signed before the subject recorded them have only those.
    fn recorded_serialization(read: &CardBom) -> Option<SerializationRecord> {
        Some(read.serialization.clone())
    }
}

/// A card's BOM read back.
#[derive(Debug, Clone, PartialEq)]
pub struct CardBom {
    /// The card.
    pub card: ModelCard,
    /// The hashing settings the BOM records.
    pub serialization: SerializationRecord,
    /// The BOM exactly as signed.
    pub bom: serde_json::Value,
}

/// The in-toto statement of a card: the subject, and the CycloneDX BOM as predicate.
pub fn encode_statement(card: &ModelCard, subject: &ModelSubject) -> Vec<u8> {
    attestation::encode_statement(subject, card)
}

/// A card statement read back: its subject and its card.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCard {
    /// The model the card is about, as the statement names it.
    pub subject: ModelSubject,
    /// The card.
    pub card: ModelCard,
    /// The BOM exactly as signed.
    pub bom: serde_json::Value,
}

impl SignedCard {
    /// `sha256:<hex>` of the model the card is about.
    pub fn root_digest_string(&self) -> String {
        self.subject.root_digest_string()
    }

    fn of(subject: ModelSubject, bom: CardBom) -> Self {
        SignedCard {
            subject,
            card: bom.card,
            bom: bom.bom,
        }
    }
}

/// Parses a card statement.
pub fn decode_statement(payload: &[u8]) -> Result<SignedCard, CardError> {
    let (subject, bom) = attestation::decode_statement::<ModelCard>(payload)?;
    Ok(SignedCard::of(subject, bom))
}

/// Validates `card`, binds it to `subject` and signs it. `card.model`, when present, must
/// name the subject's digest (the model has not changed since `card init`).
pub fn sign_card(
    card: &ModelCard,
    subject: &ModelSubject,
    signer: &dyn Signer,
    allow_custom_metrics: bool,
) -> Result<Bundle, CardError> {
    card.validate(allow_custom_metrics)?;
    attestation::sign_attestation(subject, card, signer)
}

/// Validates `card`, signs it for `subject` and stores it (its own file or a claims file).
pub fn sign_card_into(
    card: &ModelCard,
    subject: &ModelSubject,
    signer: &dyn Signer,
    allow_custom_metrics: bool,
    store: &AttestationStore,
) -> Result<Bundle, CardError> {
    card.validate(allow_custom_metrics)?;
    attestation::sign_attestation_into(subject, card, signer, store)
}

/// Verifies the stored card ([`verify_card`]): a card file's, or the newest card of a
/// claims file that verifies.
pub fn verify_stored_card(
    stored: &StoredAttestations,
    verifier: &dyn Verifier,
    binding: ModelBinding<'_>,
    policies: &[Policy],
) -> Result<VerifiedCard, CardError> {
    stored
        .verify_first(PREDICATE_TYPE, |bundle| {
            verify_card(bundle, verifier, binding, policies)
        })
        .map_err(|failure| match failure {
            NotVerified::Failed(error) => error,
            NotVerified::NoClaim { path } => {
                CardError::Attestation(AttestationError::Store(StoreError::NoClaim {
                    path,
                    kind: "model card",
                }))
            }
            NotVerified::NoClaimVerifies {
                path,
                line,
                tried,
                error,
            } => CardError::NoClaimVerifies {
                path,
                line,
                tried,
                source: Box::new(error),
            },
        })
}

/// A verified card.
#[derive(Debug, Clone)]
pub struct VerifiedCard {
    /// The card and the model it is bound to.
    pub signed: SignedCard,
    /// Who signed it, where the method establishes an identity (Sigstore).
    pub signer: Option<SignerIdentity>,
    /// Things the user should know that do not fail verification.
    pub notes: Vec<String>,
    /// The policies asked for, evaluated on the card's signed metrics.
    pub policies: Vec<PolicyOutcome>,
}

impl VerifiedCard {
    /// True when every policy held.
    pub fn policies_hold(&self) -> bool {
        self.policies.iter().all(|p| p.holds)
    }

    /// The one-line verdict every front end shows first (and [`render`] puts on top): whose
    /// card it is, who signed it (`trusted` says how, for methods that establish no
    /// identity: [`crate::spec::VerifierSpec::trust_description`]), and the model's digest.
    /// The name and identity are the signer's to choose: they are made printable, so shown
    /// they cannot act on a terminal.
    pub fn status_line(&self, trusted: &str) -> String {
        let by = match &self.signer {
            Some(s) => format!("signed by {} ({})", s.identity, s.issuer),
            None => format!("signed with {trusted}"),
        };
        crate::text::printable(&format!(
            "card for {} {by}, bound to the model's root digest {}",
            self.signed.card.name,
            self.signed.root_digest_string()
        ))
        .into_owned()
    }

    /// Why the card fails its policies, after `status` (its [`VerifiedCard::status_line`]):
    /// authentic, but short of each policy named with what was found; `None` when every
    /// policy holds.
    pub fn unmet_policies(&self, status: &str) -> Option<String> {
        let failed: Vec<String> = self
            .policies
            .iter()
            .filter(|p| !p.holds)
            .map(|p| {
                format!(
                    "{} ({})",
                    crate::text::printable(&p.policy),
                    crate::text::printable(&p.detail)
                )
            })
            .collect();
        if failed.is_empty() {
            return None;
        }
        let policies = if failed.len() == 1 {
            "policy"
        } else {
            "policies"
        };
        Some(format!(
            "{status}, but the card does not meet {} {policies}: {}",
            failed.len(),
            failed.join("; ")
        ))
    }
}

/// Verifies a card's signature, that it is about the model, and evaluates `policies` on
/// its signed metrics. A policy that fails does not fail this function: see
/// [`VerifiedCard::policies_hold`].
pub fn verify_card(
    bundle: &Bundle,
    verifier: &dyn Verifier,
    binding: ModelBinding<'_>,
    policies: &[Policy],
) -> Result<VerifiedCard, CardError> {
    let verified = attestation::verify_attestation::<ModelCard>(bundle, verifier, binding)?;
    let signed = SignedCard::of(verified.subject, verified.predicate);
    let policies = policies.iter().map(|p| p.evaluate(&signed.card)).collect();
    Ok(VerifiedCard {
        signed,
        signer: verified.signer,
        notes: verified.notes,
        policies,
    })
}

impl From<VerifyError> for CardError {
    /// A verification failure outside the card itself (a stored signature that does not
    /// parse, an image without one), as the attestation layer words it.
    fn from(error: VerifyError) -> Self {
        CardError::from(AttestationError::Verify(error))
    }
}

impl From<AttestationError> for CardError {
    /// The generic failures, in a card's words.
    fn from(error: AttestationError) -> Self {
        match error {
            AttestationError::Sign(e) => CardError::Sign(e),
            AttestationError::Verify(VerifyError::Statement(StatementError::PayloadType(t))) => {
                CardError::NotACard(format!(
                    "payload type is '{}', expected {}",
                    crate::text::printable(&t),
                    dsse::PAYLOAD_TYPE
                ))
            }
            AttestationError::Verify(e) => CardError::Verify(e),
            AttestationError::PredicateType { expected, found } => CardError::NotACard(format!(
                "predicate type is '{}'{}, expected {expected}",
                crate::text::printable(&found),
                if found == statement::PREDICATE_TYPE {
                    " (a model signature?)"
                } else {
                    ""
                }
            )),
            AttestationError::WrongModel { attested, model } => CardError::WrongModel {
                card: attested,
                model,
            },
            other @ (AttestationError::Statement(_)
            | AttestationError::SubjectCount(_)
            | AttestationError::NoSubjectDigest
            | AttestationError::Serialization(_)) => CardError::NotACard(other.to_string()),
            other => CardError::Attestation(other),
        }
    }
}

/// The serialization of a record as (method, shard size).
pub(crate) fn serialization_parts(record: &SerializationRecord) -> (&'static str, Option<u64>) {
    match record.serialization {
        Serialization::Files => ("files", None),
        Serialization::Shards { shard_size } => ("shards", Some(shard_size)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_card() -> ModelCard {
        ModelCard {
            name: "sentiment-tiny".into(),
            version: Some("1.2".into()),
            description: Some("A tiny classifier".into()),
            license: Some("apache-2.0".into()),
            authors: vec!["Ada".into(), "Grace".into()],
            base_models: vec!["distilbert/distilbert-base-uncased".into()],
            languages: vec!["en".into()],
            task: Some("text-classification".into()),
            architecture: Some("DistilBertForSequenceClassification".into()),
            datasets: vec![Dataset {
                name: "stanfordnlp/imdb".into(),
                role: Some("evaluation".into()),
                digest: Some(format!("sha256:{}", "ab".repeat(32))),
                url: Some("https://huggingface.co/datasets/stanfordnlp/imdb".into()),
            }],
            metrics: vec![Metric {
                metric: "accuracy".into(),
                value: 0.931,
                dataset: Some("stanfordnlp/imdb".into()),
                split: Some("test".into()),
                slice: Some("long reviews".into()),
                confidence_interval: Some(ConfidenceInterval {
                    lower: 0.92,
                    upper: 0.94,
                }),
                source: Some("harness".into()),
                date: Some("2026-11-01".into()),
            }],
            considerations: Considerations {
                users: vec!["moderators".into()],
                use_cases: vec!["triage".into()],
                limitations: vec!["English only".into()],
                ethical: vec!["may reflect bias".into()],
            },
            model: None,
        }
    }

    fn subject() -> ModelSubject {
        ModelSubject {
            name: "sentiment-tiny".into(),
            root_digest: [7u8; 32],
            serialization: SerializationRecord {
                serialization: Serialization::Shards { shard_size: 4096 },
                hash_type: crate::HashAlgorithm::Blake3,
                allow_symlinks: true,
                ignore_paths: vec!["notes".into()],
            },
            uri: None,
        }
    }

    #[test]
    fn a_card_survives_the_statement_and_bom_unchanged() {
        let card = full_card();
        let payload = encode_statement(&card, &subject());
        let signed = decode_statement(&payload).unwrap();
        assert_eq!(signed.card, card);
        assert_eq!(signed.subject.root_digest, [7u8; 32]);
        assert_eq!(signed.subject.serialization, subject().serialization);
        assert_eq!(signed.subject.name, "sentiment-tiny");
        // The license is written as its SPDX identifier.
        assert_eq!(
            signed.bom["metadata"]["component"]["licenses"][0]["license"]["id"],
            "Apache-2.0"
        );
    }

    #[test]
    fn a_card_signed_before_the_subject_annotation_reads_its_settings_from_the_bom() {
        let payload = encode_statement(&full_card(), &subject());
        let mut statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let annotations = statement["subject"][0]["annotations"].clone();
        assert!(annotations[attestation::SERIALIZATION_ANNOTATION].is_object());

        // As cards were signed before the attestation layer: no annotation.
        statement["subject"][0]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        let signed = decode_statement(&serde_json::to_vec(&statement).unwrap()).unwrap();
        assert_eq!(signed.subject, subject());

        // An annotation that contradicts the BOM is refused, not resolved either way.
        let mut contradicting = annotations;
        contradicting[attestation::SERIALIZATION_ANNOTATION]["hash_type"] = "sha256".into();
        statement["subject"][0]["annotations"] = contradicting;
        let error = decode_statement(&serde_json::to_vec(&statement).unwrap()).unwrap_err();
        assert!(
            error.to_string().contains("in the predicate differ"),
            "{error}"
        );
    }

    #[test]
    fn validation_lists_every_problem() {
        let mut card = full_card();
        card.name = " ".into();
        card.metrics[0].metric = "vibes".into();
        card.metrics[0].value = f64::NAN;
        card.metrics[0].confidence_interval = Some(ConfidenceInterval {
            lower: 2.0,
            upper: 1.0,
        });
        card.datasets[0].digest = Some("md5:abc".into());
        let problems = card.problems(false);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(
            card.problems(true).len() == 4,
            "custom metric names allowed"
        );
    }

    #[test]
    fn an_invalid_card_names_its_unknown_metrics_and_no_cli_option() {
        let mut card = full_card();
        card.metrics[0].metric = "vibes".into();
        let error = card.validate(false).unwrap_err();
        let CardError::Invalid {
            unknown_metrics, ..
        } = &error
        else {
            panic!("{error}");
        };
        assert_eq!(unknown_metrics, &["vibes"]);
        assert!(!error.to_string().contains("--"), "{error}");
        assert!(card.validate(true).is_ok());
    }

    #[test]
    fn library_metric_names_are_known_and_typos_are_not() {
        for name in [
            "spearman_cosine",
            "cosine_spearman",
            "cos_sim_spearman",
            "cosine_accuracy@1",
            "cosine_ndcg@10",
            "ndcg_at_10",
            "map@100",
            "pass@1",
            "ents_f",
            "dep_las",
        ] {
            assert!(is_known_metric(name), "{name}");
        }
        for name in [
            "vibes",
            "cosine",
            "accuracyy",
            "ndcg@",
            "cosine_@10",
            "@10",
            "",
        ] {
            assert!(!is_known_metric(name), "{name}");
        }
    }

    fn verified(policies: &[&str], signer: Option<SignerIdentity>) -> VerifiedCard {
        let card = full_card();
        let policies = policies
            .iter()
            .map(|p| Policy::parse(p).unwrap().evaluate(&card))
            .collect();
        VerifiedCard {
            signed: SignedCard {
                subject: subject(),
                card,
                bom: serde_json::Value::Null,
            },
            signer,
            notes: Vec::new(),
            policies,
        }
    }

    #[test]
    fn the_status_line_names_the_card_its_signer_and_the_model() {
        let digest = format!("sha256:{}", "07".repeat(32));
        assert_eq!(
            verified(&[], None).status_line("the given public key"),
            format!("card for sentiment-tiny signed with the given public key, bound to the model's root digest {digest}")
        );
        let signer = SignerIdentity {
            identity: "ci@example.com\x1b[2J".into(),
            issuer: "https://issuer.example".into(),
            signed_at: None,
        };
        let status = verified(&[], Some(signer)).status_line("Sigstore");
        assert!(
            status.starts_with("card for sentiment-tiny signed by ci@example.com"),
            "{status}"
        );
        assert!(!status.contains('\x1b'), "escape left in {status:?}");
    }

    #[test]
    fn unmet_policies_name_each_failing_policy_and_none_when_all_hold() {
        assert_eq!(verified(&["accuracy>=0.9"], None).unmet_policies("S"), None);
        let failing = verified(&["accuracy>=0.9", "accuracy>=0.95", "f1>0.5"], None);
        let message = failing.unmet_policies("S").unwrap();
        assert!(
            message.starts_with("S, but the card does not meet 2 policies: accuracy>=0.95 ("),
            "{message}"
        );
        assert!(message.contains("; f1>0.5 ("), "{message}");
        let one = verified(&["f1>0.5"], None).unmet_policies("S").unwrap();
        assert!(one.contains("does not meet 1 policy: "), "{one}");
    }

    #[test]
    fn a_model_signature_statement_is_not_a_card() {
        let manifest =
            crate::manifest::Manifest::new("m".into(), subject().serialization, Vec::new());
        let payload = statement::encode(&manifest);
        let error = decode_statement(&payload).unwrap_err().to_string();
        assert!(error.contains("a model signature?"), "{error}");
    }
}
