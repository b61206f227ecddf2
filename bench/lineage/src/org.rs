//! A synthetic ML organisation, the same for a given seed: teams whose pipelines run raw
//! datasets → prepared datasets → base models → finetunes and adapters → quantized, merged
//! and converted models → evaluations, each stage one provenance with about ten inputs
//! (data, the model it starts from, code, container, framework, config, tokenizer).
//!
//! Inputs come mostly from the stage's own team and sometimes from anywhere, as shared
//! datasets and base models do in a real organisation; a framework is named by a package
//! URI without a digest, so its edges are claimed, the others verified.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use modelsign::attestation::ModelSubject;
use modelsign::lineage::store::AttestationFacts;
use modelsign::lineage::{ArtifactKind, EdgeStatus, NewArtifact, NewAttestation};
use modelsign::provenance::{Input, Provenance, Role, Stage, SELF_RECORDED_BUILDER};
use modelsign::serialization::SerializationRecord;

/// A deterministic pseudo-random sequence (xorshift64*).
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// What a node of the organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    RawDataset,
    Tool(Role),
    PreparedDataset,
    BaseModel,
    Finetune,
    Derived,
    Evaluation,
}

/// One artifact.
pub struct Node {
    pub layer: Layer,
    pub name: String,
    /// The OMS root digest; none for a framework, named by its package URI only.
    pub digest: Option<[u8; 32]>,
    pub uri: Option<String>,
}

impl Node {
    pub fn key(&self) -> String {
        match (&self.digest, &self.uri) {
            (Some(digest), _) => format!("sha256:{}", hex(digest)),
            (None, Some(uri)) => format!("uri:{uri}"),
            (None, None) => format!("uri:{}", self.name),
        }
    }
}

/// One stage: its output, its inputs and their roles.
pub struct StageRun {
    pub stage: Stage,
    pub output: usize,
    pub inputs: Vec<(usize, Role)>,
}

/// The organisation: its artifacts and the stages that made them, in an order where
/// every stage's inputs come before its output.
pub struct Org {
    pub nodes: Vec<Node>,
    pub stages: Vec<StageRun>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest_of(seed: u64, index: usize) -> [u8; 32] {
    let mut random = Random::new(seed ^ (index as u64).wrapping_mul(0x0100_0000_01b3));
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&random.next().to_le_bytes());
    }
    out
}

pub const TEAMS: usize = 50;
const TOOL_ROLES: [Role; 5] = [
    Role::Code,
    Role::Container,
    Role::Framework,
    Role::Config,
    Role::Tokenizer,
];

/// Where each layer's nodes are, by team, to draw inputs from.
#[derive(Default)]
struct Pools {
    by_layer: BTreeMap<Layer, (Vec<usize>, Vec<Vec<usize>>)>,
}

impl Pools {
    fn add(&mut self, layer: Layer, team: usize, node: usize) {
        let (all, teams) = self
            .by_layer
            .entry(layer)
            .or_insert_with(|| (Vec::new(), vec![Vec::new(); TEAMS]));
        all.push(node);
        teams[team].push(node);
    }

    /// `count` distinct nodes of `layers`, nine in ten from `team` when it has any.
    fn pick(&self, random: &mut Random, layers: &[Layer], team: usize, count: usize) -> Vec<usize> {
        let mut chosen = BTreeSet::new();
        let mut attempts = 0;
        while chosen.len() < count && attempts < count * 20 {
            attempts += 1;
            let layer = layers[random.below(layers.len())];
            let Some((all, teams)) = self.by_layer.get(&layer) else {
                continue;
            };
            let own = &teams[team];
            let pool = if !own.is_empty() && random.chance(90) {
                own
            } else {
                all
            };
            if !pool.is_empty() {
                chosen.insert(pool[random.below(pool.len())]);
            }
        }
        chosen.into_iter().collect()
    }
}

impl Org {
    /// An organisation of about `artifacts` artifacts, one provenance per artifact that is
    /// not a raw dataset or a tool.
    pub fn generate(artifacts: usize, seed: u64) -> Org {
        let mut random = Random::new(seed);
        let share = |percent: usize| (artifacts * percent / 100).max(1);
        let layers = [
            (Layer::RawDataset, share(5)),
            (Layer::Tool(Role::Code), share(5)),
            (Layer::PreparedDataset, share(15)),
            (Layer::BaseModel, share(2)),
            (Layer::Finetune, share(35)),
            (Layer::Derived, share(18)),
        ];
        let evaluations = artifacts.saturating_sub(layers.iter().map(|(_, n)| n).sum());
        let mut org = Org {
            nodes: Vec::with_capacity(artifacts),
            stages: Vec::new(),
        };
        let mut pools = Pools::default();
        for (layer, count) in layers.into_iter().chain([(Layer::Evaluation, evaluations)]) {
            for index in 0..count {
                let team = random.below(TEAMS);
                let layer = match layer {
                    Layer::Tool(_) => Layer::Tool(TOOL_ROLES[index % TOOL_ROLES.len()]),
                    other => other,
                };
                let node = org.nodes.len();
                org.nodes.push(make_node(seed, node, layer, team, index));
                if let Some(stage) = stage_for(&mut random, &pools, layer, team, node) {
                    org.stages.push(stage);
                }
                pools.add(layer, team, node);
            }
        }
        org
    }

    pub fn edges(&self) -> usize {
        self.stages.iter().map(|s| s.inputs.len()).sum()
    }

    /// How many artifacts are made, directly or not, from each of `starts` (in memory).
    pub fn reach(&self, starts: &[usize]) -> Vec<usize> {
        let mut outputs = vec![Vec::new(); self.nodes.len()];
        for stage in &self.stages {
            for &(input, _) in &stage.inputs {
                outputs[input].push(stage.output);
            }
        }
        starts
            .iter()
            .map(|&start| {
                let mut seen = BTreeSet::from([start]);
                let mut queue = vec![start];
                while let Some(node) = queue.pop() {
                    for &next in &outputs[node] {
                        if seen.insert(next) {
                            queue.push(next);
                        }
                    }
                }
                seen.len() - 1
            })
            .collect()
    }

    /// The raw datasets, every `count`th, to start impact queries from.
    pub fn root_datasets(&self, count: usize) -> Vec<usize> {
        let raw: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| self.nodes[n].layer == Layer::RawDataset)
            .collect();
        let step = (raw.len() / count.max(1)).max(1);
        raw.into_iter().step_by(step).take(count).collect()
    }

    fn subject(&self, node: usize) -> Option<ModelSubject> {
        let node = &self.nodes[node];
        Some(ModelSubject {
            name: node.name.clone(),
            root_digest: node.digest?,
            serialization: SerializationRecord {
                serialization: Default::default(),
                hash_type: Default::default(),
                allow_symlinks: false,
                ignore_paths: Vec::new(),
            },
            uri: node.uri.clone(),
        })
    }

    /// The stage's provenance, as `modelsign provenance record` would sign it.
    pub fn provenance(&self, stage: &StageRun) -> Option<(Vec<ModelSubject>, Provenance)> {
        let subject = self.subject(stage.output)?;
        let inputs = stage
            .inputs
            .iter()
            .map(|&(input, role)| {
                let node = &self.nodes[input];
                Input {
                    role,
                    name: Some(node.name.clone()),
                    uri: node.uri.clone(),
                    digest: node
                        .digest
                        .iter()
                        .map(|d| ("sha256".to_owned(), hex(d)))
                        .collect(),
                    serialization: self.subject(input).map(|s| s.serialization),
                    claimed_by: None,
                }
            })
            .collect();
        let started = Timestamp::from_second(1_790_000_000 + stage.output as i64 * 60).ok()?;
        let finished = Timestamp::from_second(started.as_second() + 3_600).ok()?;
        let provenance = Provenance {
            stage: stage.stage,
            inputs,
            parameters: BTreeMap::from([("seed".to_owned(), stage.output.to_string())]),
            builder_id: SELF_RECORDED_BUILDER.to_owned(),
            started,
            finished,
        };
        Some((vec![subject], provenance))
    }

    fn artifact(&self, node: usize, kind: ArtifactKind) -> NewArtifact {
        let node = &self.nodes[node];
        let mut aliases = vec![node.name.clone()];
        aliases.extend(node.uri.clone());
        NewArtifact {
            key: node.key(),
            kind,
            aliases,
        }
    }

    /// What ingesting the stage's verified provenance stores, without the signature: the
    /// same artifacts, aliases and edges, and the statement itself.
    pub fn new_attestation(&self, stage: &StageRun, statement: String) -> NewAttestation {
        let output_kind = match stage.stage {
            Stage::DataPrep => ArtifactKind::Dataset,
            Stage::Evaluate => ArtifactKind::Results,
            _ => ArtifactKind::Model,
        };
        NewAttestation {
            facts: AttestationFacts {
                bundle_digest: format!("sha256:{:064x}", stage.output),
                kind: "provenance".into(),
                stage: Some(stage.stage.name().into()),
                signer: "key bench".into(),
                trusted_as: "bench".into(),
                started: None,
                finished: None,
                seconds: Some(3_600.0),
            },
            statement,
            subjects: vec![self.artifact(stage.output, output_kind)],
            inputs: stage
                .inputs
                .iter()
                .map(|&(input, role)| {
                    let status = if self.nodes[input].digest.is_some() {
                        EdgeStatus::Verified
                    } else {
                        EdgeStatus::Claimed
                    };
                    (
                        self.artifact(input, ArtifactKind::of_role(role)),
                        role.name().to_owned(),
                        status,
                    )
                })
                .collect(),
        }
    }
}

fn make_node(seed: u64, node: usize, layer: Layer, team: usize, index: usize) -> Node {
    let what = match layer {
        Layer::RawDataset => "raw".to_owned(),
        Layer::Tool(role) => role.name().to_owned(),
        Layer::PreparedDataset => "data".to_owned(),
        Layer::BaseModel => "base".to_owned(),
        Layer::Finetune => "tuned".to_owned(),
        Layer::Derived => "derived".to_owned(),
        Layer::Evaluation => "eval".to_owned(),
    };
    let name = format!("team{team:02}/{what}-{index:05}");
    if layer == Layer::Tool(Role::Framework) {
        return Node {
            layer,
            uri: Some(format!("pkg:pypi/framework-{index}@1.0")),
            name,
            digest: None,
        };
    }
    let uri = matches!(layer, Layer::BaseModel | Layer::Finetune)
        .then(|| format!("pkg:huggingface/acme/{}", name.replace('/', "-")));
    Node {
        layer,
        name,
        digest: Some(digest_of(seed, node)),
        uri,
    }
}

/// The stage making `node`, with inputs fitting its stage; none for a raw dataset or a
/// tool, made outside any recorded pipeline.
///
/// Most of a stage's inputs are its tooling (code repositories, container, framework,
/// config, tokenizer); a prepared dataset mixes one to three sources, a training run a
/// few datasets, so a root dataset reaches a part of the organisation, not all of it.
fn stage_for(
    random: &mut Random,
    pools: &Pools,
    layer: Layer,
    team: usize,
    node: usize,
) -> Option<StageRun> {
    use Layer::{BaseModel, Derived, Evaluation, Finetune, PreparedDataset, RawDataset};
    let with_role = |nodes: Vec<usize>, role: Role| nodes.into_iter().map(move |n| (n, role));
    let (stage, mut inputs): (Stage, Vec<(usize, Role)>) = match layer {
        RawDataset | Layer::Tool(_) => return None,
        PreparedDataset => {
            let count = random.between(1, 3);
            let mut data = pools.pick(random, &[RawDataset], team, count);
            // Three in ten refine an earlier prepared dataset: chains of preparation.
            if random.chance(30) {
                data.extend(pools.pick(random, &[PreparedDataset], team, 1));
            }
            (Stage::DataPrep, with_role(data, Role::Dataset).collect())
        }
        BaseModel => {
            let count = random.between(3, 5);
            let data = pools.pick(random, &[PreparedDataset], team, count);
            (Stage::Pretrain, with_role(data, Role::Dataset).collect())
        }
        Finetune => {
            // Four in ten start from an earlier finetune: chains of finetunes.
            let from: &[Layer] = if random.chance(40) {
                &[Finetune]
            } else {
                &[BaseModel]
            };
            let mut base = pools.pick(random, from, team, 1);
            if base.is_empty() {
                base = pools.pick(random, &[BaseModel], team, 1);
            }
            let count = random.between(1, 3);
            let data = pools.pick(random, &[PreparedDataset], team, count);
            let stage = if random.chance(30) {
                Stage::Adapter
            } else {
                Stage::Finetune
            };
            let inputs = with_role(base, Role::BaseModel)
                .chain(with_role(data, Role::Dataset))
                .collect();
            (stage, inputs)
        }
        Derived => {
            let (stage, models) = match random.below(10) {
                0 | 1 => (Stage::Merge, random.between(2, 3)),
                2 | 3 => (Stage::Convert, 1),
                _ => (Stage::Quantize, 1),
            };
            let base = pools.pick(random, &[Finetune, BaseModel], team, models);
            let calibration = if stage == Stage::Quantize {
                pools.pick(random, &[PreparedDataset], team, 1)
            } else {
                Vec::new()
            };
            let inputs = with_role(base, Role::BaseModel)
                .chain(with_role(calibration, Role::Dataset))
                .collect();
            (stage, inputs)
        }
        Evaluation => {
            let model = pools.pick(random, &[Finetune, Derived], team, 1);
            let count = random.between(2, 4);
            let sets = pools.pick(random, &[PreparedDataset], team, count);
            let inputs = with_role(model, Role::BaseModel)
                .chain(with_role(sets, Role::EvalSet))
                .collect();
            (Stage::Evaluate, inputs)
        }
    };
    // Up to ten inputs in all (at least one of each tool): the rest are code
    // repositories and configs.
    let mut tooling: Vec<Role> = TOOL_ROLES.to_vec();
    let extra = (11 + random.below(2)).saturating_sub(inputs.len() + tooling.len());
    tooling.extend((0..extra).map(|i| [Role::Code, Role::Config][i % 2]));
    for role in [
        Role::Code,
        Role::Container,
        Role::Framework,
        Role::Config,
        Role::Tokenizer,
    ] {
        let count = tooling.iter().filter(|&&r| r == role).count();
        inputs.extend(with_role(
            pools.pick(random, &[Layer::Tool(role)], team, count),
            role,
        ));
    }
    Some(StageRun {
        stage,
        output: node,
        inputs,
    })
}
