//! A draft provenance: a stage's description written for a person to review before it is
//! signed (`provenance import-hf` writes one from a model's Hugging Face metadata;
//! `provenance record --draft` signs it). Inputs taken from metadata keep where they were
//! claimed, and stay marked `claimed` in the signed provenance.
//!
//! ```json
//! {
//!   "draft": "modelsign provenance draft v1",
//!   "stage": "adapter",
//!   "relation": "inferred: adapter_config.json is present",
//!   "outputs": ["./my-adapter=pkg:huggingface/me/my-adapter"],
//!   "inputs": [
//!     { "input": "base-model=pkg:huggingface/org/base", "claimedBy": "README.md front matter `base_model`" }
//!   ],
//!   "parameters": {},
//!   "notes": []
//! }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::huggingface::{HfLineage, RelationSource};
use super::reference::{InputRef, OutputRef};
use super::stage::Stage;
use crate::error::ProvenanceError;
use crate::limits;

/// The `draft` field of every draft: what the file is, and its version.
pub const DRAFT_FORMAT: &str = "modelsign provenance draft v1";

/// A draft provenance, as written to and read from its JSON file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// [`DRAFT_FORMAT`].
    pub draft: String,
    /// The stage, by name (`adapter`); absent when nothing said which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// How the stage was known: declared by the metadata, or inferred (and from what).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The outputs, as `PATH` or `PATH=URI`.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// The inputs.
    #[serde(default)]
    pub inputs: Vec<DraftInput>,
    /// Hyper-parameters and the like.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// What the reviewer should know.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One input of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    /// `ROLE=REF`, as `--input` takes it.
    pub input: String,
    /// Where the input was claimed, when it comes from metadata.
    #[serde(default, rename = "claimedBy", skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
}

/// A draft's parts, parsed.
#[derive(Debug, Clone)]
pub struct DraftParts {
    /// The stage, when the draft names one.
    pub stage: Option<Stage>,
    /// The outputs.
    pub outputs: Vec<OutputRef>,
    /// The inputs, claimed ones marked.
    pub inputs: Vec<InputRef>,
    /// The parameters.
    pub parameters: BTreeMap<String, String>,
}

impl Draft {
    /// The draft of what a Hugging Face model folder claims about its ancestry
    /// ([`super::huggingface::import`]): the folder is the output (named by its repository
    /// purl when it is a cache snapshot), every base model and dataset a claimed input.
    pub fn of_hf_lineage(lineage: &HfLineage) -> Draft {
        let folder = lineage.folder.display().to_string();
        let output = match &lineage.repository {
            Some(repository) => format!("{folder}={}", repository.purl()),
            None => folder,
        };
        let relation = match &lineage.relation_source {
            RelationSource::Declared { file, field } => {
                Some(format!("declared in {file} `{field}`"))
            }
            RelationSource::Inferred { reason } => Some(format!("inferred: {reason}")),
            _ => None,
        };
        Draft {
            draft: DRAFT_FORMAT.to_owned(),
            stage: lineage.relation.map(|stage| stage.name().to_owned()),
            relation,
            outputs: vec![output],
            inputs: lineage
                .inputs
                .iter()
                .map(|input| DraftInput {
                    input: format!("{}={}", input.role, input.uri),
                    claimed_by: Some(input.claimed_by.clone()),
                })
                .collect(),
            parameters: BTreeMap::new(),
            notes: lineage.notes.clone(),
        }
    }

    /// The draft as pretty JSON, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a draft file and parses its parts.
    pub fn read(path: &Path) -> Result<DraftParts, ProvenanceError> {
        let bad = |reason: String| ProvenanceError::Draft {
            path: path.to_path_buf(),
            reason,
        };
        let text =
            limits::read_input_text(path, limits::MAX_CARD_FILE).map_err(|e| bad(e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parses a draft's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<DraftParts, ProvenanceError> {
        let bad = |reason: String| ProvenanceError::Draft {
            path: path.to_path_buf(),
            reason,
        };
        let draft: Draft = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if draft.draft != DRAFT_FORMAT {
            return Err(bad(format!(
                "its `draft` is '{}', expected '{DRAFT_FORMAT}'",
                crate::text::printable(&draft.draft)
            )));
        }
        let stage = match &draft.stage {
            None => None,
            Some(name) => Some(Stage::parse(name).ok_or_else(|| {
                bad(format!("'{}' is not a stage", crate::text::printable(name)))
            })?),
        };
        let outputs = draft
            .outputs
            .iter()
            .map(|o| OutputRef::parse(o))
            .collect::<Result<_, _>>()?;
        let inputs = draft
            .inputs
            .iter()
            .map(|i| {
                let mut input = InputRef::parse(&i.input)?;
                input.claimed_by.clone_from(&i.claimed_by);
                Ok(input)
            })
            .collect::<Result<_, ProvenanceError>>()?;
        Ok(DraftParts {
            stage,
            outputs,
            inputs,
            parameters: draft.parameters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::huggingface::{ClaimedInput, HfRepository};
    use crate::provenance::{InputSource, Role};

    #[test]
    fn a_cache_snapshots_draft_names_the_repository_and_reads_back_with_its_claims() {
        let lineage = HfLineage {
            folder: "/cache/models--me--tuned/snapshots/abc".into(),
            repository: Some(HfRepository {
                id: "me/tuned".into(),
                revision: Some("0123456789abcdef0123456789abcdef01234567".into()),
            }),
            relation: Some(Stage::Finetune),
            relation_source: RelationSource::Declared {
                file: "README.md".into(),
                field: "base_model_relation".into(),
            },
            inputs: vec![ClaimedInput {
                role: Role::BaseModel,
                uri: "pkg:huggingface/org/base".into(),
                name: "org/base".into(),
                claimed_by: "README.md front matter `base_model`".into(),
            }],
            notes: vec!["a note".into()],
        };
        let draft = Draft::of_hf_lineage(&lineage);
        assert_eq!(
            draft.relation.as_deref(),
            Some("declared in README.md `base_model_relation`")
        );
        let parts = Draft::parse(&draft.to_json(), Path::new("draft.json")).unwrap();
        assert_eq!(parts.stage, Some(Stage::Finetune));
        assert_eq!(
            parts.outputs[0].uri.as_deref(),
            Some("pkg:huggingface/me/tuned@0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(
            parts.outputs[0].path,
            Path::new("/cache/models--me--tuned/snapshots/abc")
        );
        assert_eq!(
            parts.inputs[0].source,
            InputSource::Undigested {
                uri: "pkg:huggingface/org/base".into()
            }
        );
        assert_eq!(
            parts.inputs[0].claimed_by.as_deref(),
            Some("README.md front matter `base_model`")
        );
        // A draft with a field it does not define, or of another format, is refused.
        let error = Draft::parse(
            r#"{"draft": "modelsign provenance draft v1", "stag": "x"}"#,
            Path::new("d"),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("unknown field `stag`"), "{error}");
        let error = Draft::parse(r#"{"draft": "v0"}"#, Path::new("d"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("expected 'modelsign provenance draft v1'"),
            "{error}"
        );
    }
}
