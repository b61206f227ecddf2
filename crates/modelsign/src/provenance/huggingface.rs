//! Claimed lineage from Hugging Face metadata (`provenance import-hf`): what a model folder
//! already says about its ancestry — the README's front matter (`base_model`,
//! `base_model_relation`, `datasets`), `adapter_config.json`, `config.json`'s
//! `quantization_config`, a mergekit config — and, for a Hugging Face cache snapshot, which
//! repository and revision the folder is.
//!
//! Everything read here is a claim the model's author made, checked by nobody: the result is
//! a draft for the producer to review and sign, and every input it names is a
//! [`ClaimedInput`], never a verified one. A verified edge needs the input's own signed root
//! digest, which metadata cannot give.
//!
//! # How the relation is decided
//!
//! A relation declared in the front matter (`base_model_relation`) wins. Without one, it is
//! inferred the way the Hugging Face Hub does. The Hub's documentation (huggingface/hub-docs,
//! `docs/hub/model-cards.md`, "Specifying a base model", at commit 242f4a1e) says only that
//! "the Hub will infer the type of relationship from the current model to the base model
//! (`adapter`, `merge`, `quantized`, `finetune`)"; the inference runs in the Hub's server,
//! whose code is not public, and a Hub maintainer's reply
//! (huggingface.co/bartowski/Replete-LLM-Qwen2-7b-exl2/discussions/1) confirms it works from
//! the repository's files (a repository with no model files on `main` got no relation). So
//! the order below puts the evidence that the repository's own files give first, and the
//! default last:
//!
//! 1. **adapter**: `adapter_config.json` or `adapter_model.safetensors` / `adapter_model.bin`
//!    (PEFT's files), or `library_name: peft`;
//! 2. **quantized**: a `*.gguf` file, `config.json` `quantization_config`, or a quantization
//!    format in the repository's name (`-GPTQ`, `-AWQ`, `-GGUF`, `-EXL2`, …);
//! 3. **merge**: a mergekit config (`mergekit_config.yml`), a `merge`/`mergekit` tag, or two
//!    or more base models;
//! 4. **finetune**: any other model that names a base model.
//!
//! Adapter before quantized because a LoRA trained on a quantized base (QLoRA) still ships
//! only the adapter; quantized before merge because a quantization of a merge often keeps the
//! merge's list of base models in its card, while its files are the quantized ones.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::{Role, Stage};
use crate::card::draft::read_front_matter;
use crate::card::MAX_METADATA_FILE_BYTES;
use crate::error::{CardError, Classify, FailureKind};
use crate::limits;
use crate::text::{printable, printable_path};

/// How every input of an imported lineage is marked: a claim of the model's metadata, which
/// the producer reviews before signing and a verifier cannot check against a signature.
pub const CLAIMED: &str = "claimed";

/// The model card.
const README: &str = "README.md";
/// PEFT's adapter configuration.
const ADAPTER_CONFIG: &str = "adapter_config.json";
/// PEFT's adapter weights, as `save_pretrained` names them.
const ADAPTER_WEIGHTS: [&str; 2] = ["adapter_model.safetensors", "adapter_model.bin"];
/// The transformers model configuration.
const CONFIG: &str = "config.json";
/// The configuration mergekit writes next to a merged model.
const MERGEKIT_CONFIGS: [&str; 2] = ["mergekit_config.yml", "mergekit_config.yaml"];
/// Quantization formats as quantizers spell them in repository names (`Llama-2-7B-GPTQ`).
const QUANTIZED_NAME_MARKERS: [&str; 6] = ["gguf", "gptq", "awq", "exl2", "exl3", "bnb"];
/// How a Hub URL starts, when a card names a model by its page instead of its id.
const HUB_URL_PREFIXES: [&str; 5] = [
    "https://huggingface.co/",
    "http://huggingface.co/",
    "https://hf.co/",
    "huggingface.co/",
    "hf.co/",
];
/// The cache's folder of one model repository starts so (`models--org--name`).
const CACHE_MODEL_PREFIX: &str = "models--";
/// A cache `refs/<ref>` file holds one 40-character commit hash.
const MAX_REF_FILE_BYTES: u64 = 256;
/// The longest name part of a repo id the Hub accepts (huggingface_hub `validate_repo_id`).
const MAX_REPO_NAME_CHARS: usize = 96;

/// The lineage a model folder's Hugging Face metadata claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfLineage {
    /// The folder the metadata was read from: the given folder, or, for a cache repository
    /// folder (`models--ORG--NAME`), the snapshot its `refs/main` names.
    pub folder: PathBuf,
    /// The repo the folder is, when it is a cache snapshot (`models--ORG--NAME/snapshots/REV`,
    /// or the `models--ORG--NAME` folder itself, whose `refs/main` names the revision).
    pub repository: Option<HfRepository>,
    /// The pipeline stage that made this model from its inputs; `None` only when nothing
    /// suggests any ancestry.
    pub relation: Option<Stage>,
    /// Where [`Self::relation`] comes from.
    pub relation_source: RelationSource,
    /// The base models ([`Role::BaseModel`]) and datasets ([`Role::Dataset`]) the metadata
    /// names, each once, in the order found.
    pub inputs: Vec<ClaimedInput>,
    /// What the producer should check before signing: a declared relation the files
    /// contradict, an unknown relation, a local path where a base model should be, inputs
    /// the stage needs and the metadata does not name.
    pub notes: Vec<String>,
}

/// A Hugging Face model repository at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfRepository {
    /// The repo id, `ORG/NAME` (or `NAME` for the Hub's oldest models).
    pub id: String,
    /// The commit, when known.
    pub revision: Option<String>,
}

impl HfRepository {
    /// The repository as a package URL, `pkg:huggingface/ORG/NAME@REV` (purl type
    /// `huggingface`: the namespace is the owner, the version the commit hash, lowercased).
    pub fn purl(&self) -> String {
        model_purl(&self.id, self.revision.as_deref())
    }
}

/// Where a lineage's relation comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelationSource {
    /// The metadata says it, in `field` of `file` (`README.md`, `base_model_relation`).
    Declared {
        /// The file that declares it.
        file: String,
        /// The field that declares it.
        field: String,
    },
    /// Inferred from the folder's files, as the Hub infers it (see the module documentation).
    Inferred {
        /// What it was inferred from, e.g. "adapter_config.json is present".
        reason: String,
    },
    /// Nothing suggests a relation.
    None,
}

/// An input the metadata claims the model was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedInput {
    /// The part it played: [`Role::BaseModel`] or [`Role::Dataset`].
    pub role: Role,
    /// Models: `pkg:huggingface/ORG/NAME`, with `@REV` only when the metadata pins a commit.
    /// Datasets: `https://huggingface.co/datasets/ORG/NAME` — the purl specification has no
    /// type for Hugging Face datasets (`pkg:huggingface` is for models), so the dataset's Hub
    /// page names it.
    pub uri: String,
    /// The repo id, `ORG/NAME`, as written (a Hub URL shortened to its id).
    pub name: String,
    /// Where it was read, e.g. "README.md front matter `base_model`".
    pub claimed_by: String,
}

/// Reading a model folder's Hugging Face metadata failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HfImportError {
    /// The folder, or a metadata file in it, could not be read.
    #[error("cannot read '{}': {source}", printable_path(path))]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// The path is not a folder.
    #[error("'{}' is not a folder; give the model's folder (the one holding README.md and config.json) or a Hugging Face cache folder models--ORG--NAME or its snapshots/REVISION", printable_path(path))]
    NotAFolder {
        /// The path given.
        path: PathBuf,
    },
    /// A metadata file does not parse.
    #[error(
        "'{}' is not valid {format}: {reason}; fix or remove the file and import again",
        printable_path(path)
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it should be: JSON, YAML, a Hugging Face ref.
        format: &'static str,
        /// What the parser reported.
        reason: String,
    },
    /// The README's front matter is too large or not YAML (the error names the README).
    #[error(transparent)]
    ModelCard(CardError),
    /// A cache repository folder whose `refs/main` cannot be read.
    #[error("'{}' is a Hugging Face cache repository folder, but its refs/main cannot be read ({source}); give one of its snapshots/REVISION folders instead", printable_path(repository))]
    NoMainRef {
        /// The repository folder (`models--ORG--NAME`).
        repository: PathBuf,
        /// Why `refs/main` could not be read.
        source: io::Error,
    },
    /// A cache repository folder whose `refs/main` names a revision it has no snapshot of.
    #[error("refs/main of '{}' names revision {revision}, which has no snapshot folder; download the model again or give an existing snapshots/REVISION folder", printable_path(repository))]
    MissingSnapshot {
        /// The repository folder (`models--ORG--NAME`).
        repository: PathBuf,
        /// The revision `refs/main` names.
        revision: String,
    },
}

/// Every failure is the input's: an unreadable folder or unparsable metadata.
impl Classify for HfImportError {
    fn failure_kind(&self) -> FailureKind {
        FailureKind::Input
    }
}

/// Reads the lineage that the Hugging Face metadata of `model_dir` claims; see the module
/// documentation for what is read and how the relation is decided. Only metadata files are
/// read, each bounded ([`MAX_METADATA_FILE_BYTES`]; of the README, only its front matter); a
/// missing file is just absent, a malformed one an error naming it.
pub fn import(model_dir: &Path) -> Result<HfLineage, HfImportError> {
    let (folder, repository) = locate(model_dir)?;
    let files = file_names(&folder)?;
    let mut found = Found::default();

    if let Some(card) = read_card(&folder)? {
        found.read_card(&card);
    }
    if let Some(config) = read_json(&folder.join(ADAPTER_CONFIG))? {
        found.read_adapter_config(&config);
    }
    for name in MERGEKIT_CONFIGS {
        let path = folder.join(name);
        if let Some(config) = read_yaml(&path)? {
            found.read_mergekit_config(name, &config);
        }
    }
    let config = read_json(&folder.join(CONFIG))?;
    if let Some(config) = &config {
        found.read_quantization_config(config);
    }
    found.read_file_names(&files);
    let repo_name = match &repository {
        Some(repository) => repository.id.clone(),
        None => folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    found.read_repository_name(&repo_name);
    if let Some(config) = &config {
        found.note_name_or_path(config);
    }
    Ok(found.into_lineage(folder, repository))
}

/// What the metadata files said, gathered before the relation is decided.
#[derive(Debug, Default)]
struct Found {
    inputs: Vec<ClaimedInput>,
    notes: Vec<String>,
    /// The `base_model_relation` value, as written.
    declared: Option<String>,
    /// Base models named only by something that is not a repo id (a local path).
    unidentified_base_models: usize,
    adapter: Option<String>,
    quantized: Option<String>,
    merge: Option<String>,
}

impl Found {
    fn read_card(&mut self, card: &Yaml) {
        let Some(card) = card.as_mapping() else {
            self.notes.push(format!(
                "{README}: the front matter is not a mapping of fields; it was ignored"
            ));
            return;
        };
        let field = |name: &str| card.get(Yaml::String(name.to_owned()));
        let claimed_by = |name: &str| format!("{README} front matter `{name}`");
        for model in self.strings(field("base_model"), &claimed_by("base_model")) {
            self.add_model(&model, None, &claimed_by("base_model"));
        }
        for dataset in self.strings(field("datasets"), &claimed_by("datasets")) {
            self.add_dataset(&dataset, &claimed_by("datasets"));
        }
        match field("base_model_relation") {
            None | Some(Yaml::Null) => {}
            Some(Yaml::String(relation)) => self.declared = Some(relation.trim().to_owned()),
            Some(_) => self.notes.push(format!(
                "{}: not a string; ignored",
                claimed_by("base_model_relation")
            )),
        }
        if let Some(Yaml::String(library)) = field("library_name") {
            if library.eq_ignore_ascii_case("peft") {
                self.adapter
                    .get_or_insert_with(|| format!("{} is `peft`", claimed_by("library_name")));
            }
        }
        for tag in self.strings(field("tags"), &claimed_by("tags")) {
            if tag.eq_ignore_ascii_case("merge") || tag.eq_ignore_ascii_case("mergekit") {
                self.merge
                    .get_or_insert_with(|| format!("{} has `{tag}`", claimed_by("tags")));
            }
        }
    }

    fn read_adapter_config(&mut self, config: &Json) {
        // The file is stronger evidence than a `library_name: peft` read before it.
        self.adapter = Some(format!("{ADAPTER_CONFIG} is present"));
        let claimed_by = format!("{ADAPTER_CONFIG} `base_model_name_or_path`");
        match &config["base_model_name_or_path"] {
            Json::String(model) => {
                let revision = config["revision"].as_str();
                self.add_model(model, revision, &claimed_by);
            }
            Json::Null => {}
            _ => self
                .notes
                .push(format!("{claimed_by}: not a string; ignored")),
        }
    }

    /// mergekit's models: `models[].model`, `base_model`, `slices[].sources[].model`.
    fn read_mergekit_config(&mut self, file: &str, config: &Yaml) {
        // The file is stronger evidence than a `merge` tag read before it.
        self.merge = Some(format!("{file} (a mergekit config) is present"));
        let mut named = Vec::new();
        let key = |name: &str| Yaml::String(name.to_owned());
        let list = |value: Option<&Yaml>| -> Vec<Yaml> {
            value
                .and_then(Yaml::as_sequence)
                .cloned()
                .unwrap_or_default()
        };
        for entry in list(config.get(key("models"))) {
            named.push(("models[].model", entry.get(key("model")).cloned()));
        }
        named.push(("base_model", config.get(key("base_model")).cloned()));
        for slice in list(config.get(key("slices"))) {
            for source in list(slice.get(key("sources"))) {
                named.push((
                    "slices[].sources[].model",
                    source.get(key("model")).cloned(),
                ));
            }
        }
        for (field, value) in named {
            let claimed_by = format!("{file} `{field}`");
            match value {
                None | Some(Yaml::Null) => {}
                // mergekit's `BASE+LORA` applies a LoRA to a model before merging: both are
                // inputs.
                Some(Yaml::String(model)) => {
                    for part in model.split('+') {
                        self.add_model(part, None, &claimed_by);
                    }
                }
                Some(_) => self.notes.push(format!(
                    "{claimed_by}: a model given as a mapping, not a repo id; check it by hand"
                )),
            }
        }
    }

    fn read_quantization_config(&mut self, config: &Json) {
        match &config["quantization_config"] {
            Json::Null => {}
            Json::Object(quantization) => {
                let method = quantization
                    .get("quant_method")
                    .and_then(Json::as_str)
                    .map(|method| format!(" (quant_method `{}`)", printable(method)))
                    .unwrap_or_default();
                self.quantized
                    .get_or_insert_with(|| format!("{CONFIG} has a `quantization_config`{method}"));
            }
            _ => self.notes.push(format!(
                "{CONFIG} `quantization_config` is not an object; ignored"
            )),
        }
    }

    fn read_file_names(&mut self, files: &[String]) {
        for name in files {
            if ADAPTER_WEIGHTS.contains(&name.as_str()) {
                self.adapter
                    .get_or_insert_with(|| format!("{} is present", printable(name)));
            }
            if name.to_ascii_lowercase().ends_with(".gguf") {
                self.quantized
                    .get_or_insert_with(|| format!("{} is a GGUF file", printable(name)));
            }
        }
    }

    /// A quantization format as a word of the repository's name (`TheBloke/Llama-2-7B-GPTQ`).
    fn read_repository_name(&mut self, name: &str) {
        let model_name = name.rsplit('/').next().unwrap_or(name);
        let marker = model_name
            .split(['-', '_', '.'])
            .map(str::to_ascii_lowercase)
            .find(|word| QUANTIZED_NAME_MARKERS.contains(&word.as_str()));
        if let Some(marker) = marker {
            self.quantized.get_or_insert_with(|| {
                format!(
                    "the name `{}` says `{}`",
                    printable(name),
                    marker.to_uppercase()
                )
            });
        }
    }

    /// `config.json` `_name_or_path` is where the weights were loaded from when they were
    /// saved: often the base model, but also the model itself or a local checkpoint, so only
    /// a note when it names a repo the metadata does not.
    fn note_name_or_path(&mut self, config: &Json) {
        let Some(name) = config["_name_or_path"].as_str() else {
            return;
        };
        let Ok((id, _)) = repo_id(name) else {
            return;
        };
        if !self.inputs.iter().any(|input| input.name == id) {
            self.notes.push(format!(
                "{CONFIG} `_name_or_path` is `{}`, which no other metadata names: the weights were loaded from it when saved; if it is the base model, add it to the draft",
                printable(&id)
            ));
        }
    }

    /// The strings of a field that is one string or a list of them; a note for anything else.
    fn strings(&mut self, value: Option<&Yaml>, claimed_by: &str) -> Vec<String> {
        match value {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::String(text)) => vec![text.clone()],
            Some(Yaml::Sequence(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Yaml::String(text) => Some(text.clone()),
                    _ => {
                        self.notes.push(format!(
                            "{claimed_by}: an entry that is not a string; ignored"
                        ));
                        None
                    }
                })
                .collect(),
            Some(_) => {
                self.notes.push(format!(
                    "{claimed_by}: neither a string nor a list of strings; ignored"
                ));
                Vec::new()
            }
        }
    }

    fn add_model(&mut self, written: &str, revision: Option<&str>, claimed_by: &str) {
        let written = written.trim();
        if written.is_empty() {
            return;
        }
        let (id, url_note) = match repo_id(written) {
            Ok(found) => found,
            Err(why) => {
                self.unidentified_base_models += 1;
                self.notes.push(format!(
                    "{claimed_by} is `{}`, {why}: the base model cannot be identified from it; name it by its Hugging Face repo id, or record it as a local input",
                    printable(written)
                ));
                return;
            }
        };
        if let Some(note) = url_note {
            self.notes.push(format!("{claimed_by}: {note}"));
        }
        let pinned = revision.and_then(|revision| self.pinned_commit(revision, claimed_by));
        self.add(ClaimedInput {
            role: Role::BaseModel,
            uri: model_purl(&id, pinned.as_deref()),
            name: id,
            claimed_by: claimed_by.to_owned(),
        });
    }

    fn add_dataset(&mut self, written: &str, claimed_by: &str) {
        let written = written.trim();
        if written.is_empty() {
            return;
        }
        // A dataset's Hub URL has `datasets/` before the id.
        let unprefixed = HUB_URL_PREFIXES
            .iter()
            .find_map(|prefix| strip_prefix_ignore_case(written, prefix))
            .map(|rest| rest.strip_prefix("datasets/").unwrap_or(rest));
        match repo_id(unprefixed.unwrap_or(written)) {
            Ok((id, _)) => self.add(ClaimedInput {
                role: Role::Dataset,
                uri: format!("https://huggingface.co/datasets/{id}"),
                name: id,
                claimed_by: claimed_by.to_owned(),
            }),
            Err(why) => self.notes.push(format!(
                "{claimed_by} names `{}`, {why}: not recorded; add the dataset by hand",
                printable(written)
            )),
        }
    }

    /// A revision is pinned in the purl only when it is a commit hash, as the purl type
    /// `huggingface` requires; a branch or tag is a note.
    fn pinned_commit(&mut self, revision: &str, claimed_by: &str) -> Option<String> {
        let revision = revision.trim();
        if is_commit_hash(revision) {
            return Some(revision.to_ascii_lowercase());
        }
        if !revision.is_empty() {
            self.notes.push(format!(
                "{claimed_by}: revision `{}` is a branch or tag, not a commit, so the input is not pinned to it",
                printable(revision)
            ));
        }
        None
    }

    /// Adds an input unless the same one (role and repo id) was already found.
    fn add(&mut self, input: ClaimedInput) {
        if let Some(earlier) = self
            .inputs
            .iter_mut()
            .find(|earlier| earlier.role == input.role && earlier.name == input.name)
        {
            // A later source may pin the revision an earlier one left open.
            if input.uri.len() > earlier.uri.len() && input.uri.starts_with(&earlier.uri) {
                earlier.uri = input.uri;
            }
            return;
        }
        self.inputs.push(input);
    }

    fn base_models(&self) -> usize {
        self.inputs
            .iter()
            .filter(|input| input.role == Role::BaseModel)
            .count()
    }

    /// The relation the files suggest, in the Hub's order (see the module documentation).
    fn inferred(&self) -> Option<(Stage, String)> {
        let base_models = self.base_models();
        let evidence = (self.adapter.clone().map(|reason| (Stage::Adapter, reason)))
            .or_else(|| self.quantized.clone().map(|r| (Stage::Quantize, r)))
            .or_else(|| self.merge.clone().map(|r| (Stage::Merge, r)))
            .or_else(|| {
                (base_models >= 2)
                    .then(|| (Stage::Merge, format!("{base_models} base models are named")))
            });
        evidence.or_else(|| {
            (base_models + self.unidentified_base_models >= 1).then(|| {
                (
                    Stage::Finetune,
                    "a base model is named, and no adapter, quantization or merge files are present"
                        .to_owned(),
                )
            })
        })
    }

    fn into_lineage(mut self, folder: PathBuf, repository: Option<HfRepository>) -> HfLineage {
        let inferred = self.inferred();
        let declared = self.declared.take().and_then(|value| {
            let stage = declared_stage(&value);
            if stage.is_none() {
                self.notes.push(format!(
                    "{README} front matter `base_model_relation` is `{}`, which is none of adapter, merge, quantized, finetune; the relation was inferred instead",
                    printable(&value)
                ));
            }
            stage
        });
        let (relation, relation_source) = match (declared, inferred) {
            (Some(stage), inferred) => {
                if let Some((other, reason)) = inferred.filter(|(other, _)| *other != stage) {
                    if other != Stage::Finetune {
                        self.notes.push(format!(
                            "{README} declares `base_model_relation: {}`, but the files suggest {other} ({reason}); check which is right",
                            hub_relation(stage)
                        ));
                    }
                }
                (
                    Some(stage),
                    RelationSource::Declared {
                        file: README.to_owned(),
                        field: "base_model_relation".to_owned(),
                    },
                )
            }
            (None, Some((stage, reason))) => (Some(stage), RelationSource::Inferred { reason }),
            (None, None) => (None, RelationSource::None),
        };
        if let Some(stage) = relation {
            self.note_missing_inputs(stage);
        }
        HfLineage {
            folder,
            repository,
            relation,
            relation_source,
            inputs: self.inputs,
            notes: self.notes,
        }
    }

    /// A note for each role the stage needs more (or fewer) inputs of than the metadata names.
    fn note_missing_inputs(&mut self, stage: Stage) {
        for &(role, at_least, at_most) in stage.required_inputs() {
            let named = self
                .inputs
                .iter()
                .filter(|input| input.role == role)
                .count();
            if named < at_least && !(role == Role::BaseModel && self.unidentified_base_models > 0) {
                self.notes.push(format!(
                    "the {stage} stage needs at least {at_least} {role} input{} and the metadata names {named}: add {} to the draft before signing",
                    if at_least == 1 { "" } else { "s" },
                    if at_least - named == 1 { "it" } else { "them" }
                ));
            }
            if let Some(at_most) = at_most.filter(|&at_most| named > at_most) {
                self.notes.push(format!(
                    "the {stage} stage takes at most {at_most} {role} input{} and the metadata names {named}: keep the right one",
                    if at_most == 1 { "" } else { "s" }
                ));
            }
        }
    }
}

/// The stage a `base_model_relation` value names.
fn declared_stage(value: &str) -> Option<Stage> {
    match value.to_ascii_lowercase().as_str() {
        "adapter" => Some(Stage::Adapter),
        "merge" => Some(Stage::Merge),
        "quantized" => Some(Stage::Quantize),
        "finetune" => Some(Stage::Finetune),
        _ => None,
    }
}

/// The Hub's spelling of a stage's relation.
fn hub_relation(stage: Stage) -> &'static str {
    match stage {
        Stage::Quantize => "quantized",
        other => other.name(),
    }
}

/// `pkg:huggingface/ORG/NAME[@REV]`.
fn model_purl(id: &str, revision: Option<&str>) -> String {
    match revision {
        Some(revision) => format!("pkg:huggingface/{id}@{}", revision.to_ascii_lowercase()),
        None => format!("pkg:huggingface/{id}"),
    }
}

/// The repo id a model reference names, and a note when it was written as a Hub URL; or why
/// it names none (a local path, not an id).
fn repo_id(written: &str) -> Result<(String, Option<String>), &'static str> {
    if looks_like_local_path(written) {
        return Err("a local path, not a Hugging Face repo id");
    }
    if let Some(rest) = HUB_URL_PREFIXES
        .iter()
        .find_map(|prefix| strip_prefix_ignore_case(written, prefix))
    {
        // `ORG/NAME`, then maybe `/tree/REV` or a file path, which name no other repo.
        let id: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).take(2).collect();
        let id = id.join("/");
        return if is_repo_id(&id) {
            let note = format!(
                "written as the Hub URL `{}`; read as the repo id `{id}`",
                printable(written)
            );
            Ok((id, Some(note)))
        } else {
            Err("a URL that names no Hugging Face repo")
        };
    }
    if is_repo_id(written) {
        Ok((written.to_owned(), None))
    } else {
        Err("not a Hugging Face repo id (ORG/NAME)")
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// A path on this or another machine (`/home/me/llama`, `./out`, `~/models/x`,
/// `C:\models\x`): what `save_pretrained` records when a model was loaded from disk.
fn looks_like_local_path(text: &str) -> bool {
    let bytes = text.as_bytes();
    let windows_drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    text.starts_with(['/', '~', '.']) || text.contains('\\') || windows_drive
}

/// `NAME` or `ORG/NAME` as the Hub accepts them (huggingface_hub `validate_repo_id`): letters,
/// digits, `-`, `_`, `.`; no `--` or `..`; a name of at most 96 characters.
fn is_repo_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() <= 2
        && !id.contains("--")
        && !id.contains("..")
        && !id.ends_with(".git")
        && parts.iter().all(|part| {
            !part.is_empty()
                && part.chars().count() <= MAX_REPO_NAME_CHARS
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && !part.starts_with(['-', '.'])
                && !part.ends_with(['-', '.'])
        })
}

fn is_commit_hash(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The folder to read and the cache repository it is, if it is one.
fn locate(model_dir: &Path) -> Result<(PathBuf, Option<HfRepository>), HfImportError> {
    let io_error = |source| HfImportError::Io {
        path: model_dir.to_path_buf(),
        source,
    };
    if !fs::metadata(model_dir).map_err(io_error)?.is_dir() {
        return Err(HfImportError::NotAFolder {
            path: model_dir.to_path_buf(),
        });
    }
    let canonical = fs::canonicalize(model_dir).map_err(io_error)?;
    let folder_name = |path: &Path| {
        path.file_name()
            .and_then(|name| name.to_str())
            .map(str::to_owned)
    };
    if let Some(id) = folder_name(&canonical).and_then(|name| cached_repo_id(&name)) {
        let revision = main_ref(&canonical)?;
        let snapshot = canonical.join("snapshots").join(&revision);
        if !snapshot.is_dir() {
            return Err(HfImportError::MissingSnapshot {
                repository: canonical,
                revision,
            });
        }
        let repository = HfRepository {
            id,
            revision: Some(revision),
        };
        return Ok((snapshot, Some(repository)));
    }
    let repository = canonical.parent().and_then(|snapshots| {
        let repository = snapshots.parent()?;
        if folder_name(snapshots)? != "snapshots" {
            return None;
        }
        Some(HfRepository {
            id: cached_repo_id(&folder_name(repository)?)?,
            revision: folder_name(&canonical),
        })
    });
    Ok((canonical, repository))
}

/// `models--ORG--NAME` → `ORG/NAME` (`models--NAME` → `NAME`), as huggingface_hub names a
/// cached model repository (`/` replaced by `--`, which a repo id cannot contain).
fn cached_repo_id(folder: &str) -> Option<String> {
    let id = folder.strip_prefix(CACHE_MODEL_PREFIX)?.replace("--", "/");
    is_repo_id(&id).then_some(id)
}

/// The commit `refs/main` of a cache repository folder names.
fn main_ref(repository: &Path) -> Result<String, HfImportError> {
    let path = repository.join("refs").join("main");
    let text = limits::read_input_text(&path, MAX_REF_FILE_BYTES).map_err(|source| {
        HfImportError::NoMainRef {
            repository: repository.to_path_buf(),
            source,
        }
    })?;
    let revision = text.trim();
    if !is_commit_hash(revision) {
        return Err(HfImportError::Malformed {
            path,
            format: "Hugging Face ref",
            reason: format!(
                "it holds `{}`, not a 40-hex-digit commit",
                printable(revision)
            ),
        });
    }
    Ok(revision.to_owned())
}

/// The names of the folder's entries (a cache snapshot's are links, named as the repo names
/// them), at most [`limits::MAX_RESOURCES`] of them.
fn file_names(folder: &Path) -> Result<Vec<String>, HfImportError> {
    let io_error = |source| HfImportError::Io {
        path: folder.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in fs::read_dir(folder)
        .map_err(io_error)?
        .take(limits::MAX_RESOURCES)
    {
        names.push(
            entry
                .map_err(io_error)?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    names.sort();
    Ok(names)
}

/// The README's front matter, parsed with the card reader's bounds.
fn read_card(folder: &Path) -> Result<Option<Yaml>, HfImportError> {
    let readme = folder.join(README);
    let Some(front_matter) = read_front_matter(&readme).map_err(HfImportError::ModelCard)? else {
        return Ok(None);
    };
    let origin = format!("{} (front matter)", readme.display());
    crate::card::yaml::from_str(&front_matter, &origin)
        .map(Some)
        .map_err(HfImportError::ModelCard)
}

/// A metadata file's text; `None` when it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, HfImportError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(HfImportError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
        Ok(_) => {}
    }
    limits::read_input_text(path, MAX_METADATA_FILE_BYTES)
        .map(Some)
        .map_err(|source| HfImportError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// A JSON metadata file. serde_json refuses nesting deeper than 128 levels, so a hostile
/// file is an error like any malformed one.
fn read_json(path: &Path) -> Result<Option<Json>, HfImportError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| HfImportError::Malformed {
            path: path.to_path_buf(),
            format: "JSON",
            reason: e.to_string(),
        })
}

/// A YAML metadata file, bounded as the card reader bounds YAML.
fn read_yaml(path: &Path) -> Result<Option<Yaml>, HfImportError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    crate::card::yaml::from_str(&text, &path.display().to_string())
        .map(Some)
        .map_err(|e| HfImportError::Malformed {
            path: path.to_path_buf(),
            format: "YAML",
            reason: match e {
                CardError::Syntax { reason, .. } => reason,
                other => other.to_string(),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::{hf_cache_snapshot, HfBlobStore, HF_REVISION};

    /// A real model folder's metadata under `tests/data/hf-lineage/` (each with a SOURCE file).
    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/hf-lineage")
            .join(name)
    }

    fn import_fixture(name: &str) -> HfLineage {
        import(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The inputs as (role, uri, claimed_by), to compare whole.
    fn inputs(lineage: &HfLineage) -> Vec<(Role, &str, &str)> {
        lineage
            .inputs
            .iter()
            .map(|i| (i.role, i.uri.as_str(), i.claimed_by.as_str()))
            .collect()
    }

    fn inferred_reason(lineage: &HfLineage) -> &str {
        match &lineage.relation_source {
            RelationSource::Inferred { reason } => reason,
            other => panic!("expected an inferred relation, got {other:?}"),
        }
    }

    fn has_note(lineage: &HfLineage, part: &str) -> bool {
        lineage.notes.iter().any(|note| note.contains(part))
    }

    const CARD_BASE_MODEL: &str = "README.md front matter `base_model`";

    /// The card names one base model, `uri`, and nothing else.
    fn assert_claims_base_model(lineage: &HfLineage, uri: &str) {
        assert_eq!(inputs(lineage), [(Role::BaseModel, uri, CARD_BASE_MODEL)]);
    }

    #[test]
    fn a_peft_lora_repo_is_an_adapter_of_the_base_model_it_names() {
        let lineage = import_fixture("Iamjuhwan-HY-MT1.5-yoruba-pidgin-lora");
        assert_eq!(lineage.relation, Some(Stage::Adapter));
        // README first, adapter_config.json's `base_model_name_or_path` the same model: once.
        assert_claims_base_model(&lineage, "pkg:huggingface/tencent/HY-MT1.5-1.8B");
        assert_eq!(lineage.inputs[0].name, "tencent/HY-MT1.5-1.8B");
        assert_eq!(inferred_reason(&lineage), "adapter_config.json is present");
        assert!(
            has_note(&lineage, "needs at least 1 dataset"),
            "an adapter is trained on data the card does not name: {:?}",
            lineage.notes
        );
        assert_eq!(lineage.repository, None);
    }

    #[test]
    fn a_mergekit_merge_is_a_merge_of_every_model_its_config_names() {
        let lineage = import_fixture("YouriLalain-2PRYMMAL-Yi1.5-6B-SLERP");
        assert_eq!(lineage.relation, Some(Stage::Merge));
        assert_eq!(
            inferred_reason(&lineage),
            "mergekit_config.yml (a mergekit config) is present"
        );
        assert_eq!(
            inputs(&lineage),
            [
                (
                    Role::BaseModel,
                    "pkg:huggingface/01-ai/Yi-1.5-6B-Chat",
                    CARD_BASE_MODEL
                ),
                (
                    Role::BaseModel,
                    "pkg:huggingface/01-ai/Yi-1.5-6B",
                    CARD_BASE_MODEL
                ),
            ]
        );
        // config.json `_name_or_path` is one of them: nothing to say.
        assert!(lineage.notes.is_empty(), "{:?}", lineage.notes);
    }

    #[test]
    fn a_gptq_model_is_quantized_from_the_base_model_its_card_links() {
        let lineage = import_fixture("itdevwu-Genz-70b-GPTQ");
        assert_eq!(lineage.relation, Some(Stage::Quantize));
        assert_eq!(
            inferred_reason(&lineage),
            "config.json has a `quantization_config` (quant_method `gptq`)"
        );
        // TheBloke's cards give the base model as a Hub URL.
        assert_claims_base_model(&lineage, "pkg:huggingface/budecosystem/genz-70b");
        assert!(has_note(
            &lineage,
            "read as the repo id `budecosystem/genz-70b`"
        ));
    }

    #[test]
    fn a_gguf_file_makes_a_model_quantized() {
        let lineage = import_fixture("HackNetAyush-smollm2-135M-instruct-gguf-q8");
        assert_eq!(lineage.relation, Some(Stage::Quantize));
        assert_eq!(
            inferred_reason(&lineage),
            "smollm2-135m-instruct-q8_0.gguf is a GGUF file"
        );
        assert_claims_base_model(
            &lineage,
            "pkg:huggingface/HuggingFaceTB/SmolLM2-135M-Instruct",
        );
    }

    #[test]
    fn a_trainer_card_naming_a_base_model_is_a_finetune() {
        let lineage = import_fixture("Spartan-71-RoBERTa_Sentiment_Analysis-test_trainer");
        assert_eq!(lineage.relation, Some(Stage::Finetune));
        assert!(inferred_reason(&lineage).starts_with("a base model is named"));
        // The Hub's oldest models have no owner: `bert-base-uncased`.
        assert_claims_base_model(&lineage, "pkg:huggingface/bert-base-uncased");
        assert!(has_note(
            &lineage,
            "the finetune stage needs at least 1 dataset input and"
        ));
    }

    #[test]
    fn a_declared_relation_is_taken_as_declared() {
        let lineage = import_fixture("almorelle-whisper-wakeref-jib-onnx");
        assert_eq!(lineage.relation, Some(Stage::Finetune));
        assert_eq!(
            lineage.relation_source,
            RelationSource::Declared {
                file: "README.md".to_owned(),
                field: "base_model_relation".to_owned()
            }
        );
        assert_claims_base_model(&lineage, "pkg:huggingface/openai/whisper-small");
    }

    #[test]
    fn a_card_without_a_base_model_has_no_relation_but_keeps_its_datasets() {
        let lineage = import_fixture("MelikeDulkadir-output");
        assert_eq!(lineage.relation, None);
        assert_eq!(lineage.relation_source, RelationSource::None);
        assert_eq!(
            inputs(&lineage),
            [(
                Role::Dataset,
                "https://huggingface.co/datasets/imdb",
                "README.md front matter `datasets`"
            )]
        );
        assert!(lineage.notes.is_empty(), "{:?}", lineage.notes);
    }

    /// The adapter fixture's metadata as a cache repository `models--Iamjuhwan--…`.
    fn cached_adapter() -> (tempfile::TempDir, PathBuf) {
        let source = fixture("Iamjuhwan-HY-MT1.5-yoruba-pidgin-lora");
        let read = |name: &str| fs::read(source.join(name)).expect("fixture file");
        let (readme, config) = (read(README), read(ADAPTER_CONFIG));
        let cache = tempfile::tempdir().expect("tempdir");
        let snapshot = hf_cache_snapshot(
            cache.path(),
            "models--Iamjuhwan--HY-MT1.5-yoruba-pidgin-lora",
            &[(README, &readme), (ADAPTER_CONFIG, &config)],
            HfBlobStore::Repository,
        );
        (cache, snapshot)
    }

    #[test]
    fn a_cache_snapshot_names_its_repository_and_revision() {
        let (_cache, snapshot) = cached_adapter();
        let repository_folder = snapshot
            .parent()
            .and_then(Path::parent)
            .expect("models--ORG--NAME");
        for given in [snapshot.as_path(), repository_folder] {
            let lineage = import(given).expect("import the cache");
            let repository = lineage.repository.clone().expect("a cache repository");
            assert_eq!(repository.id, "Iamjuhwan/HY-MT1.5-yoruba-pidgin-lora");
            assert_eq!(repository.revision.as_deref(), Some(HF_REVISION));
            assert_eq!(
                repository.purl(),
                format!("pkg:huggingface/Iamjuhwan/HY-MT1.5-yoruba-pidgin-lora@{HF_REVISION}")
            );
            assert_eq!(
                lineage.folder,
                fs::canonicalize(&snapshot).expect("canonical")
            );
            // The snapshot's files are links into blobs/, read through.
            assert_eq!(lineage.relation, Some(Stage::Adapter));
            assert_claims_base_model(&lineage, "pkg:huggingface/tencent/HY-MT1.5-1.8B");
        }
    }

    #[test]
    fn a_cache_repository_whose_main_ref_is_missing_or_bad_is_refused() {
        let (_cache, snapshot) = cached_adapter();
        let repository = snapshot.parent().and_then(Path::parent).expect("repo");
        fs::write(repository.join("refs/main"), "../../elsewhere").expect("write ref");
        let err = import(repository).expect_err("a ref that is no commit");
        assert!(
            matches!(
                &err,
                HfImportError::Malformed {
                    format: "Hugging Face ref",
                    ..
                }
            ),
            "{err}"
        );
        fs::remove_file(repository.join("refs/main")).expect("remove ref");
        let err = import(repository).expect_err("no refs/main");
        assert!(matches!(err, HfImportError::NoMainRef { .. }), "{err}");
        assert!(err.is_input_error());
    }

    /// A folder holding `files`.
    fn folder_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, content) in files {
            fs::write(dir.path().join(name), content).expect("write");
        }
        dir
    }

    #[test]
    fn a_local_path_as_base_model_is_a_note_not_an_input() {
        // What TRL writes when the base model was loaded from disk (as in
        // yushaolong10/soulmate's qwen_lora_adapter_0116_l).
        let dir = folder_with(&[
            (
                README,
                "---\nbase_model: /home/me/.cache/modelscope/hub/models/Qwen/Qwen3-14B\nlibrary_name: peft\n---\n",
            ),
            (
                ADAPTER_CONFIG,
                r#"{"base_model_name_or_path": "C:\\models\\llama", "peft_type": "LORA"}"#,
            ),
        ]);
        let lineage = import(dir.path()).expect("import");
        assert_eq!(lineage.relation, Some(Stage::Adapter));
        assert!(lineage.inputs.is_empty(), "{:?}", lineage.inputs);
        let local = |by: &str| {
            lineage
                .notes
                .iter()
                .any(|n| n.starts_with(by) && n.contains("a local path"))
        };
        assert!(local(CARD_BASE_MODEL), "{:?}", lineage.notes);
        assert!(local("adapter_config.json `base_model_name_or_path`"));
        assert!(!has_note(&lineage, "needs at least 1 base-model"));
    }

    #[test]
    fn an_adapter_pinned_to_a_commit_is_named_at_that_commit() {
        let commit = "AbCdEf0123456789abcdef0123456789abcdef01";
        let config =
            format!(r#"{{"base_model_name_or_path": "org/base", "revision": "{commit}"}}"#);
        let dir = folder_with(&[(ADAPTER_CONFIG, &config)]);
        let lineage = import(dir.path()).expect("import");
        assert_eq!(
            inputs(&lineage),
            [(
                Role::BaseModel,
                format!("pkg:huggingface/org/base@{}", commit.to_ascii_lowercase()).as_str(),
                "adapter_config.json `base_model_name_or_path`"
            )]
        );
        let dir = folder_with(&[(
            ADAPTER_CONFIG,
            r#"{"base_model_name_or_path": "org/base", "revision": "main"}"#,
        )]);
        let lineage = import(dir.path()).expect("import");
        assert_eq!(lineage.inputs[0].uri, "pkg:huggingface/org/base");
        assert!(has_note(&lineage, "revision `main` is a branch or tag"));
    }

    #[test]
    fn a_declared_relation_the_files_contradict_is_kept_with_a_note() {
        let dir = folder_with(&[
            (
                README,
                "---\nbase_model: org/base\nbase_model_relation: finetune\n---\n",
            ),
            ("model-Q4_K_M.gguf", ""),
        ]);
        let lineage = import(dir.path()).expect("import");
        assert_eq!(lineage.relation, Some(Stage::Finetune));
        assert!(matches!(
            lineage.relation_source,
            RelationSource::Declared { .. }
        ));
        assert!(has_note(&lineage, "but the files suggest quantize"));
    }

    #[test]
    fn inference_takes_adapter_then_quantized_then_merge() {
        // A GGUF of a merge that kept the merge's card: the files are the quantized ones.
        let card = "---\nbase_model: [org/a, org/b]\ntags: [merge]\n---\n";
        let dir = folder_with(&[(README, card), ("merged.Q4_K_M.gguf", "")]);
        let lineage = import(dir.path()).expect("import");
        assert_eq!(lineage.relation, Some(Stage::Quantize));
        assert!(has_note(
            &lineage,
            "the quantize stage takes at most 1 base-model input and"
        ));
        // A LoRA trained on it ships only the adapter.
        fs::write(dir.path().join(ADAPTER_CONFIG), "{}").expect("write");
        let lineage = import(dir.path()).expect("import");
        assert_eq!(lineage.relation, Some(Stage::Adapter));
        assert_eq!(inferred_reason(&lineage), "adapter_config.json is present");
    }

    #[test]
    fn an_unknown_declared_relation_falls_back_to_inference() {
        let dir = folder_with(&[(
            README,
            "---\nbase_model: [org/a, org/b]\nbase_model_relation: distillation\n---\n",
        )]);
        let lineage = import(dir.path()).expect("import");
        assert_eq!(lineage.relation, Some(Stage::Merge));
        assert_eq!(inferred_reason(&lineage), "2 base models are named");
        assert!(has_note(&lineage, "`distillation`, which is none of"));
    }

    #[test]
    fn malformed_metadata_is_an_error_naming_the_file_and_a_missing_file_is_absent() {
        let dir = folder_with(&[(CONFIG, "{\"quantization_config\": ")]);
        let err = import(dir.path()).expect_err("truncated JSON");
        assert!(
            matches!(&err, HfImportError::Malformed { path, format: "JSON", .. } if path.ends_with(CONFIG)),
            "{err}"
        );
        assert!(err.to_string().contains(CONFIG), "{err}");
        let dir = folder_with(&[("mergekit_config.yml", "models: [unclosed\n")]);
        let err = import(dir.path()).expect_err("bad YAML");
        assert!(
            matches!(err, HfImportError::Malformed { format: "YAML", .. }),
            "{err}"
        );
        let dir = folder_with(&[(README, "---\nbase_model: [unclosed\n---\n")]);
        let err = import(dir.path()).expect_err("bad front matter");
        assert!(err.to_string().contains(README), "{err}");
        let empty = folder_with(&[]);
        let lineage = import(empty.path()).expect("an empty folder claims nothing");
        assert_eq!(
            (lineage.relation, lineage.inputs.len()),
            (None, 0),
            "{lineage:?}"
        );
        let err = import(&empty.path().join(README)).expect_err("not a folder");
        assert!(matches!(err, HfImportError::Io { .. }), "{err}");
    }

    #[test]
    fn repo_ids_are_what_the_hub_accepts() {
        for id in ["gpt2", "org/name", "org/Name-1.5_b"] {
            assert!(is_repo_id(id), "{id}");
        }
        for id in [
            "",
            "a/b/c",
            "org/na--me",
            "org/..",
            "org/-x",
            "org/x.git",
            "org/na me",
        ] {
            assert!(!is_repo_id(id), "{id}");
        }
        for path in ["/home/me/llama", "./out", "~/m", "C:\\m", "D:/m"] {
            assert!(looks_like_local_path(path), "{path}");
        }
    }
}
