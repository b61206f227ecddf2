//! The SLSA v1 provenance predicate of one pipeline stage, as modelsign writes and reads it.
//!
//! ```text
//! buildDefinition
//!   buildType             https://modelsign.dev/buildtypes/ml-<stage>/v1
//!   externalParameters    { stage, parameters: { KEY: VALUE } }      (what the user chose)
//!   internalParameters    { recordedBy: "modelsign <version>" }
//!   resolvedDependencies  [ { name, uri, digest, annotations: { role, … } } ]   (the inputs)
//! runDetails
//!   builder               { id, version: { modelsign } }
//!   metadata              { startedOn, finishedOn }
//! ```
//!
//! Everything modelsign adds beyond SLSA's fields lives inside `externalParameters`,
//! `internalParameters` or `annotations`: strict parsers (in-toto's protobuf bindings,
//! GUAC's) reject any field SLSA does not define.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::stage::{Role, Stage};
use crate::attestation::{
    annotated_serialization, ModelSubject, Predicate, SERIALIZATION_ANNOTATION,
};
use crate::error::ProvenanceError;
use crate::intoto::SLSA_PROVENANCE_V1;
use crate::serialization::SerializationRecord;
use crate::statement;

/// The annotation of a resolved dependency naming its [`Role`].
pub const ROLE_ANNOTATION: &str = "role";

/// The annotation of a resolved dependency taken from metadata (a model card's
/// `base_model`) rather than digested by the recorder: where the claim was read.
pub const CLAIMED_BY_ANNOTATION: &str = "claimedBy";

/// One input of a stage: a `resolvedDependencies` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The part it plays.
    pub role: Role,
    /// Its name (a local input's file or folder name, a repository id).
    pub name: Option<String>,
    /// Where it can be found: a purl (`pkg:huggingface/ORG/NAME@REV`), a git URL.
    pub uri: Option<String>,
    /// Its digests by algorithm (`sha256`: the OMS root digest; `gitCommit`), lowercase hex.
    pub digest: BTreeMap<String, String>,
    /// How its `sha256` OMS root digest was computed, when modelsign computed it, so a
    /// verifier can recompute it from a local copy.
    pub serialization: Option<SerializationRecord>,
    /// Where the input was claimed (metadata), when it was not digested by the recorder.
    pub claimed_by: Option<String>,
}

impl Input {
    /// The OMS root digest, when the input has one.
    pub fn root_digest(&self) -> Option<[u8; 32]> {
        base16ct::mixed::decode_vec(self.digest.get("sha256")?)
            .ok()?
            .try_into()
            .ok()
    }

    /// How the input is named in messages: its name, else its URI, else its digest.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.uri.clone())
            .or_else(|| self.digest.iter().next().map(|(a, d)| format!("{a}:{d}")))
            .unwrap_or_else(|| "(unnamed)".to_owned())
    }

    /// The input as the subject of its own attestations would name it, when it has an
    /// OMS root digest computed by modelsign.
    pub fn as_subject(&self) -> Option<ModelSubject> {
        Some(ModelSubject {
            name: self.name.clone().unwrap_or_default(),
            root_digest: self.root_digest()?,
            serialization: self.serialization.clone()?,
            uri: self.uri.clone(),
        })
    }

    fn encode(&self) -> Value {
        let mut entry = Map::new();
        if let Some(name) = &self.name {
            entry.insert("name".into(), name.as_str().into());
        }
        if let Some(uri) = &self.uri {
            entry.insert("uri".into(), uri.as_str().into());
        }
        if !self.digest.is_empty() {
            entry.insert("digest".into(), json!(self.digest));
        }
        let mut annotations = Map::new();
        annotations.insert(ROLE_ANNOTATION.into(), self.role.name().into());
        if let Some(claimed_by) = &self.claimed_by {
            annotations.insert(CLAIMED_BY_ANNOTATION.into(), claimed_by.as_str().into());
        }
        if let Some(record) = &self.serialization {
            annotations.insert(
                SERIALIZATION_ANNOTATION.into(),
                statement::serialization_value(record),
            );
        }
        entry.insert("annotations".into(), Value::Object(annotations));
        Value::Object(entry)
    }

    fn decode(index: usize, entry: &Value) -> Result<Input, String> {
        let at = |what: &str| format!("resolvedDependencies[{index}] {what}");
        let entry = entry.as_object().ok_or_else(|| at("is not an object"))?;
        let text = |key: &str| -> Result<Option<String>, String> {
            match entry.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(at(&format!("`{key}` is not a string"))),
            }
        };
        let name = text("name")?;
        let uri = text("uri")?;
        let digest = match entry.get("digest") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(digests)) => digests
                .iter()
                .map(|(algorithm, digest)| match digest {
                    Value::String(d) => Ok((algorithm.clone(), d.clone())),
                    _ => Err(at("has a digest that is not a string")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(at("`digest` is not an object")),
        };
        let empty = Map::new();
        let annotations = match entry.get("annotations") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(annotations)) => annotations,
            Some(_) => return Err(at("`annotations` is not an object")),
        };
        let role = match annotations.get(ROLE_ANNOTATION) {
            Some(Value::String(role)) => Role::parse(role).ok_or_else(|| {
                at(&format!(
                    "has the role '{role}', not one of {}",
                    Role::names()
                ))
            })?,
            _ => return Err(at("has no role (annotation `role`)")),
        };
        let claimed_by = match annotations.get(CLAIMED_BY_ANNOTATION) {
            None => None,
            Some(Value::String(source)) => Some(source.clone()),
            Some(_) => return Err(at("has a `claimedBy` that is not a string")),
        };
        let serialization = annotated_serialization(annotations)
            .map_err(|e| at(&format!("has hashing settings that {e}")))?;
        Ok(Input {
            role,
            name,
            uri,
            digest,
            serialization,
            claimed_by,
        })
    }
}

/// What one stage of a pipeline did: the predicate of its provenance. The stage's outputs
/// are the statement's subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The stage.
    pub stage: Stage,
    /// What it consumed.
    pub inputs: Vec<Input>,
    /// What the user chose: hyper-parameters, seeds, commands.
    pub parameters: BTreeMap<String, String>,
    /// Who ran it (`builder.id`): [`super::SELF_RECORDED_BUILDER`] for a run recorded by
    /// whoever ran it.
    pub builder_id: String,
    /// When the stage started.
    pub started: Timestamp,
    /// When it finished.
    pub finished: Timestamp,
}

impl Provenance {
    /// Every way the inputs fall short of what the stage needs (its build type's page
    /// says), and the times out of order, one sentence each; empty when all is well.
    pub fn missing_inputs(&self) -> Vec<String> {
        stage_problems(
            self.stage,
            self.inputs.iter().map(|i| i.role),
            self.started,
            self.finished,
        )
    }
}

/// Every way inputs of `roles` fall short of what `stage` needs, and the times out of
/// order, one sentence each.
pub(crate) fn stage_problems(
    stage: Stage,
    roles: impl Iterator<Item = Role> + Clone,
    started: Timestamp,
    finished: Timestamp,
) -> Vec<String> {
    let mut problems = Vec::new();
    for &(role, at_least, at_most) in stage.required_inputs() {
        let found = roles.clone().filter(|r| *r == role).count();
        let wanted = match at_most {
            Some(most) if most == at_least => format!("exactly {at_least}"),
            Some(most) => format!("{at_least} to {most}"),
            None => format!("at least {at_least}"),
        };
        if found < at_least || at_most.is_some_and(|most| found > most) {
            // "exactly 1 base-model input", "at least 1 dataset input", "at least 2 … inputs".
            let plural = if at_least == 1 { "" } else { "s" };
            problems.push(format!(
                "the {stage} stage needs {wanted} {role} input{plural}, found {found}"
            ));
        }
    }
    if finished < started {
        problems.push(format!(
            "the stage finished ({finished}) before it started ({started})"
        ));
    }
    problems
}

impl Predicate for Provenance {
    const PREDICATE_TYPE: &'static str = SLSA_PROVENANCE_V1;
    type Error = ProvenanceError;
    type Read = Provenance;
    const MANY_SUBJECTS: bool = true;

    fn check(&self, _subject: &ModelSubject) -> Result<(), ProvenanceError> {
        let problems = self.missing_inputs();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ProvenanceError::StageInputs(problems))
        }
    }

    fn encode(&self, _subject: &ModelSubject) -> Value {
        json!({
            "buildDefinition": {
                "buildType": self.stage.build_type(),
                "externalParameters": {
                    "stage": self.stage.name(),
                    "parameters": self.parameters,
                },
                "internalParameters": {
                    "recordedBy": concat!("modelsign ", env!("CARGO_PKG_VERSION")),
                },
                "resolvedDependencies": self.inputs.iter().map(Input::encode).collect::<Vec<_>>(),
            },
            "runDetails": {
                "builder": {
                    "id": self.builder_id,
                    "version": { "modelsign": env!("CARGO_PKG_VERSION") },
                },
                "metadata": {
                    "startedOn": self.started.to_string(),
                    "finishedOn": self.finished.to_string(),
                },
            },
        })
    }

    fn decode(predicate: Value) -> Result<Provenance, ProvenanceError> {
        let invalid = |reason: String| ProvenanceError::Invalid(vec![reason]);
        let definition = predicate
            .get("buildDefinition")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("it has no `buildDefinition` object".into()))?;
        let build_type = definition
            .get("buildType")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("it has no `buildDefinition.buildType`".into()))?;
        let stage = Stage::of_build_type(build_type)
            .ok_or_else(|| ProvenanceError::UnknownStage(build_type.to_owned()))?;
        let external = definition.get("externalParameters");
        if let Some(named) = external.and_then(|e| e.get("stage")) {
            if named.as_str() != Some(stage.name()) {
                return Err(invalid(format!(
                    "its build type is the {stage} stage's, but `externalParameters.stage` is {named}"
                )));
            }
        }
        let parameters = match external.and_then(|e| e.get("parameters")) {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(parameters)) => parameters
                .iter()
                .map(|(key, value)| {
                    let value = match value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), value)
                })
                .collect(),
            Some(_) => {
                return Err(invalid(
                    "`externalParameters.parameters` is not an object".into(),
                ))
            }
        };
        let inputs = match definition.get("resolvedDependencies") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(entries)) => entries
                .iter()
                .enumerate()
                .map(|(index, entry)| Input::decode(index, entry))
                .collect::<Result<_, _>>()
                .map_err(invalid)?,
            Some(_) => {
                return Err(invalid(
                    "`buildDefinition.resolvedDependencies` is not an array".into(),
                ))
            }
        };
        let run = predicate.get("runDetails");
        let builder_id = run
            .and_then(|r| r.get("builder"))
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("it has no `runDetails.builder.id`".into()))?
            .to_owned();
        let metadata = run.and_then(|r| r.get("metadata"));
        let time = |key: &str| -> Result<Timestamp, ProvenanceError> {
            let text = metadata
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("it has no `runDetails.metadata.{key}`")))?;
            text.parse()
                .map_err(|e| invalid(format!("`runDetails.metadata.{key}` is not a time: {e}")))
        };
        let provenance = Provenance {
            stage,
            inputs,
            parameters,
            builder_id,
            started: time("startedOn")?,
            finished: time("finishedOn")?,
        };
        let problems = provenance.missing_inputs();
        if problems.is_empty() {
            Ok(provenance)
        } else {
            Err(ProvenanceError::Invalid(problems))
        }
    }
}
