//! ML supply-chain provenance: a signed SLSA v1 provenance for each stage of a pipeline,
//! whose subjects are the stage's outputs and whose resolved dependencies are its inputs,
//! every one named by the same OMS root digest its signature and model card use.

pub mod huggingface;
pub mod stage;

pub use stage::{Role, Stage};
