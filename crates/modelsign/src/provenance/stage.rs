//! The vocabulary of ML pipeline provenance: the stages a pipeline has, and the roles an
//! input plays in one. Each stage has its own SLSA `buildType`, documented under
//! `docs/buildtypes/`, which says what the stage records and which inputs it needs.

use std::fmt;

/// Where modelsign's build types live. One constant: a provenance names its stage by a URI
/// under it, and a verifier recognises the stage by the same URI.
pub const BUILD_TYPE_BASE: &str = "https://modelsign.dev/buildtypes/";

/// The builder of a run recorded by the person or job that ran it, with nothing
/// independent vouching for it: SLSA Build L1, said so in `builder.id`.
pub const SELF_RECORDED_BUILDER: &str = "https://modelsign.dev/builders/self-recorded/v1";

/// A stage of an ML pipeline, one provenance each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Stage {
    /// Raw data in, a prepared dataset out.
    DataPrep,
    /// Datasets in, a model trained from scratch out.
    Pretrain,
    /// A base model and datasets in, all its weights trained further.
    Finetune,
    /// A base model and datasets in, a small set of extra weights (LoRA and the like) out.
    Adapter,
    /// One model in, the same model at lower precision out.
    Quantize,
    /// Two or more models in, one model combining them out.
    Merge,
    /// A teacher model (and data) in, a smaller student out.
    Distill,
    /// One model in, the same weights in another format out.
    Convert,
    /// A model and evaluation sets in, evaluation results out.
    Evaluate,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 9] = [
        Stage::DataPrep,
        Stage::Pretrain,
        Stage::Finetune,
        Stage::Adapter,
        Stage::Quantize,
        Stage::Merge,
        Stage::Distill,
        Stage::Convert,
        Stage::Evaluate,
    ];

    /// The stage's name, as the CLI and the build type spell it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::DataPrep => "data-prep",
            Stage::Pretrain => "pretrain",
            Stage::Finetune => "finetune",
            Stage::Adapter => "adapter",
            Stage::Quantize => "quantize",
            Stage::Merge => "merge",
            Stage::Distill => "distill",
            Stage::Convert => "convert",
            Stage::Evaluate => "evaluate",
        }
    }

    /// The stage named `name`.
    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.name() == name)
    }

    /// The SLSA `buildType` of the stage: `https://modelsign.dev/buildtypes/ml-<stage>/v1`.
    pub fn build_type(self) -> String {
        format!("{BUILD_TYPE_BASE}ml-{}/v1", self.name())
    }

    /// The stage whose build type is `build_type`, if modelsign knows it.
    pub fn of_build_type(build_type: &str) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.build_type() == build_type)
    }

    /// How many inputs of each role the stage needs: `(role, at least, at most)`. Roles not
    /// listed are optional.
    pub fn required_inputs(self) -> &'static [(Role, usize, Option<usize>)] {
        match self {
            Stage::DataPrep | Stage::Pretrain => &[(Role::Dataset, 1, None)],
            Stage::Finetune | Stage::Adapter => {
                &[(Role::BaseModel, 1, Some(1)), (Role::Dataset, 1, None)]
            }
            Stage::Quantize | Stage::Convert => &[(Role::BaseModel, 1, Some(1))],
            Stage::Merge => &[(Role::BaseModel, 2, None)],
            Stage::Distill => &[(Role::BaseModel, 1, None)],
            Stage::Evaluate => &[(Role::BaseModel, 1, Some(1)), (Role::EvalSet, 1, None)],
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The part an input plays in a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Role {
    /// A model the stage starts from (or, for `evaluate`, the model evaluated).
    BaseModel,
    /// Training or preparation data.
    Dataset,
    /// The training or processing code.
    Code,
    /// The container image the stage ran in.
    Container,
    /// The ML framework (a package).
    Framework,
    /// A configuration file.
    Config,
    /// The tokenizer.
    Tokenizer,
    /// Data the model is evaluated on.
    EvalSet,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::BaseModel,
        Role::Dataset,
        Role::Code,
        Role::Container,
        Role::Framework,
        Role::Config,
        Role::Tokenizer,
        Role::EvalSet,
    ];

    /// The role's name, as the CLI and the provenance spell it.
    pub fn name(self) -> &'static str {
        match self {
            Role::BaseModel => "base-model",
            Role::Dataset => "dataset",
            Role::Code => "code",
            Role::Container => "container",
            Role::Framework => "framework",
            Role::Config => "config",
            Role::Tokenizer => "tokenizer",
            Role::EvalSet => "eval-set",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    /// Every role's name, for messages.
    pub fn names() -> String {
        Role::ALL.map(Role::name).join(", ")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_and_role_reads_back_from_its_name_and_build_type() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.name()), Some(stage));
            assert_eq!(Stage::of_build_type(&stage.build_type()), Some(stage));
        }
        assert_eq!(
            Stage::Finetune.build_type(),
            "https://modelsign.dev/buildtypes/ml-finetune/v1"
        );
        assert_eq!(Stage::parse("fine-tune"), None);
        assert_eq!(
            Stage::of_build_type("https://slsa.dev/container-based-build/v0.1"),
            None
        );
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Some(role));
        }
        assert_eq!(Role::parse("model"), None);
    }
}
