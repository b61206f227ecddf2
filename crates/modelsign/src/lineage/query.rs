//! Questions asked of the lineage graph: what is downstream of a compromised artifact and in
//! what order it must be rebuilt ([`impact`]), what an artifact was made from
//! ([`ancestry`]), how two artifacts are connected ([`path`]), and who attested an artifact.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::store::{Artifact, Edge, EdgeStatus, Store, StoredAttestation};
use crate::error::LineageError;
use crate::provenance::Stage;

/// What must be done to an artifact downstream of a compromised one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Action {
    /// Prepare the dataset again (data-prep).
    Reprepare,
    /// Train again (pretrain, finetune, adapter, distill).
    Retrain,
    /// Derive again from the rebuilt input (quantize, merge, convert).
    Rederive,
    /// Evaluate again (evaluate).
    Reevaluate,
}

impl Action {
    /// The action's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Action::Reprepare => "re-prepare",
            Action::Retrain => "retrain",
            Action::Rederive => "re-derive",
            Action::Reevaluate => "re-evaluate",
        }
    }

    /// The action rebuilding the output of a `stage`.
    pub fn of_stage(stage: Stage) -> Action {
        // No wildcard: a new stage must be given its action here.
        match stage {
            Stage::DataPrep => Action::Reprepare,
            Stage::Pretrain | Stage::Finetune | Stage::Adapter | Stage::Distill => Action::Retrain,
            Stage::Quantize | Stage::Merge | Stage::Convert => Action::Rederive,
            Stage::Evaluate => Action::Reevaluate,
        }
    }

    /// The action rebuilding what a stored attestation made: its stage's, or retraining
    /// when it names no stage modelsign knows (a model card recording its base model, a
    /// stage from a later version).
    fn of_attestation(attestation: &StoredAttestation) -> Action {
        attestation
            .facts
            .stage
            .as_deref()
            .and_then(Stage::parse)
            .map_or(Action::Retrain, Action::of_stage)
    }
}

/// One artifact affected by a compromise.
#[derive(Debug, Clone)]
pub struct Affected {
    /// The artifact.
    pub artifact: Artifact,
    /// Its retraining level: 1 for what was made directly from the compromised artifact,
    /// one more than the highest level among its affected inputs otherwise (which inputs
    /// count: see [`Impact`]); 0 for an artifact in [`Impact::cyclic`].
    pub level: usize,
    /// The stages that made it from affected inputs (their provenance).
    pub stages: Vec<StoredAttestation>,
    /// What to do.
    pub action: Action,
    /// The affected inputs it was made from: label and role.
    pub via: Vec<(String, String)>,
    /// The same inputs by artifact key, and role.
    pub via_keys: Vec<(String, String)>,
    /// The recorded duration of the stages that made it, in seconds.
    pub seconds: f64,
}

/// The impact of a compromised artifact.
///
/// What is affected follows verified edges only: an artifact is rebuilt when a signed
/// digest says it was made from the compromised one, or from something rebuilt. The order
/// also honours claimed edges between two affected artifacts (the claim may be right, and
/// honouring it costs nothing), unless a claim contradicts the verified edges by closing
/// a cycle: then the order follows the verified edges alone.
#[derive(Debug, Clone)]
pub struct Impact {
    /// The compromised artifact.
    pub start: Artifact,
    /// What must be rebuilt through verified edges, level by level: every artifact of a
    /// level depends only on the compromised one and on earlier levels.
    pub levels: Vec<Vec<Affected>>,
    /// What must be rebuilt but has no place in that order: artifacts on a cycle of
    /// verified edges (each made from the other, which digests cannot be unless a
    /// provenance lies), and those made from them. Sorted by label.
    pub cyclic: Vec<Affected>,
    /// Artifacts reachable only through claimed edges: the claim says they descend from
    /// it, no signed digest does.
    pub claimed_only: Vec<Artifact>,
    /// The recorded durations of every stage to rerun, summed: a cost estimate.
    pub seconds: f64,
}

impl Impact {
    /// Every affected artifact in retraining order (without [`Impact::cyclic`]).
    pub fn in_order(&self) -> impl Iterator<Item = &Affected> {
        self.levels.iter().flatten()
    }

    /// Everything to rebuild: in retraining order, then what is on a cycle.
    pub fn to_rebuild(&self) -> impl Iterator<Item = &Affected> {
        self.in_order().chain(&self.cyclic)
    }
}

/// Recorded stage durations added up; none recorded is 0 (an empty `sum()` of floats is
/// -0.0, which JSON would show).
fn total_seconds(seconds: impl Iterator<Item = f64>) -> f64 {
    seconds.fold(0.0, |total, s| total + s)
}

/// Adjacency of a set of edges.
struct Graph<'a> {
    forward: BTreeMap<i64, Vec<&'a Edge>>,
}

impl<'a> Graph<'a> {
    fn new(edges: &'a [Edge]) -> Self {
        let mut forward: BTreeMap<i64, Vec<&Edge>> = BTreeMap::new();
        for edge in edges {
            forward.entry(edge.input).or_default().push(edge);
        }
        Graph { forward }
    }

    /// Everything reachable from `start` (excluded) through edges `follow` accepts.
    fn reachable(&self, start: i64, follow: impl Fn(&Edge) -> bool) -> BTreeSet<i64> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for edge in self.forward.get(&node).into_iter().flatten() {
                if follow(edge) && edge.output != start && seen.insert(edge.output) {
                    queue.push_back(edge.output);
                }
            }
        }
        seen
    }
}

/// The retraining levels of `affected`, reached from `start` through `edges`: the longest
/// chain of edges from `start` to each (Kahn's algorithm over the affected subgraph). An
/// artifact on a cycle gets no level.
pub(crate) fn levels(
    start: i64,
    affected: &BTreeSet<i64>,
    edges: &[&Edge],
) -> BTreeMap<i64, usize> {
    let inside = |node: i64| node == start || affected.contains(&node);
    let mut indegree: BTreeMap<i64, usize> = affected.iter().map(|&n| (n, 0)).collect();
    let mut out: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for edge in edges {
        if inside(edge.input)
            && affected.contains(&edge.output)
            && edge.input != edge.output
            && out.entry(edge.input).or_default().insert(edge.output)
        {
            *indegree.entry(edge.output).or_default() += 1;
        }
    }
    let mut level: BTreeMap<i64, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([(start, 0usize)]);
    while let Some((node, at)) = queue.pop_front() {
        for &next in out.get(&node).into_iter().flatten() {
            let entry = level.entry(next).or_insert(0);
            *entry = (*entry).max(at + 1);
            if let Some(remaining) = indegree.get_mut(&next) {
                *remaining -= 1;
                if *remaining == 0 {
                    queue.push_back((next, *entry));
                }
            }
        }
    }
    level.retain(|node, _| indegree.get(node) == Some(&0));
    level
}

/// The levels of `affected` (see [`Impact`]): by the verified edges and the claimed edges
/// between affected artifacts when those order as many artifacts as the verified edges
/// alone do, else by the verified edges.
fn retraining_levels(
    start: i64,
    affected: &BTreeSet<i64>,
    edges: &[Edge],
    verified_edges: &[&Edge],
) -> BTreeMap<i64, usize> {
    let by_verified = levels(start, affected, verified_edges);
    // `levels` only looks at edges between affected artifacts: every edge will do.
    let every_edge: Vec<&Edge> = edges.iter().collect();
    let by_every_edge = levels(start, affected, &every_edge);
    if by_every_edge.len() == by_verified.len() {
        by_every_edge
    } else {
        by_verified
    }
}

/// Everything downstream of `start` that must be rebuilt, in retraining order.
pub fn impact(store: &mut Store, start: &Artifact) -> Result<Impact, LineageError> {
    let edges = store.reachable_edges(start.id, true)?;
    let graph = Graph::new(&edges);
    let verified = graph.reachable(start.id, |e| e.status == EdgeStatus::Verified);
    let all = graph.reachable(start.id, |_| true);
    let verified_edges: Vec<&Edge> = edges
        .iter()
        .filter(|e| e.status == EdgeStatus::Verified)
        .collect();
    let level = retraining_levels(start.id, &verified, &edges, &verified_edges);
    let attestations = attestations_of(store, verified_edges.iter().copied())?;
    let ids: Vec<i64> = all.iter().copied().chain([start.id]).collect();
    let artifacts = artifacts_by_id(store, &ids)?;
    let label = |id: i64| {
        artifacts
            .get(&id)
            .map_or_else(|| id.to_string(), |a| a.label().to_owned())
    };

    let mut levels_out: Vec<Vec<Affected>> = Vec::new();
    let mut cyclic: Vec<Affected> = Vec::new();
    let mut rerun: BTreeSet<i64> = BTreeSet::new();
    for &node in &verified {
        let Some(artifact) = artifacts.get(&node) else {
            continue;
        };
        let into: Vec<&&Edge> = verified_edges
            .iter()
            .filter(|e| e.output == node && (e.input == start.id || verified.contains(&e.input)))
            .collect();
        let stage_ids: BTreeSet<i64> = into.iter().map(|e| e.attestation).collect();
        let stages: Vec<StoredAttestation> = stage_ids
            .iter()
            .filter_map(|id| attestations.get(id).cloned())
            .collect();
        rerun.extend(&stage_ids);
        let action = stages
            .iter()
            .map(Action::of_attestation)
            .min()
            .unwrap_or(Action::Retrain);
        let mut via: Vec<(String, String)> = into
            .iter()
            .map(|e| (label(e.input), e.role.clone()))
            .collect();
        via.sort();
        via.dedup();
        let key = |id: i64| {
            artifacts
                .get(&id)
                .map_or_else(String::new, |a| a.key.clone())
        };
        let mut via_keys: Vec<(String, String)> = into
            .iter()
            .map(|e| (key(e.input), e.role.clone()))
            .collect();
        via_keys.sort();
        via_keys.dedup();
        let affected = Affected {
            artifact: artifact.clone(),
            level: level.get(&node).copied().unwrap_or(0),
            seconds: total_seconds(stages.iter().filter_map(|s| s.facts.seconds)),
            stages,
            action,
            via,
            via_keys,
        };
        match affected.level {
            0 => cyclic.push(affected),
            at => {
                if levels_out.len() < at {
                    levels_out.resize_with(at, Vec::new);
                }
                levels_out[at - 1].push(affected);
            }
        }
    }
    for group in levels_out.iter_mut().chain([&mut cyclic]) {
        group.sort_by(|a, b| a.artifact.label().cmp(b.artifact.label()));
    }
    let claimed_only = all
        .difference(&verified)
        .filter_map(|id| artifacts.get(id).cloned())
        .collect();
    let seconds = total_seconds(
        rerun
            .iter()
            .filter_map(|id| attestations.get(id)?.facts.seconds),
    );
    Ok(Impact {
        start: start.clone(),
        levels: levels_out,
        cyclic,
        claimed_only,
        seconds,
    })
}

/// The edges around an impact, for drawing it: every edge into an affected artifact,
/// including those from inputs the compromise does not reach (which stay as they are).
pub fn impact_links(store: &mut Store, impact: &Impact) -> Result<Vec<Link>, LineageError> {
    let mut edges = Vec::new();
    let affected = impact
        .to_rebuild()
        .map(|a| a.artifact.id)
        .chain(impact.claimed_only.iter().map(|a| a.id));
    for id in affected.collect::<Vec<_>>() {
        edges.extend(store.edges_into(id)?);
    }
    links(store, &edges)
}

/// One edge of a report, with its ends and the attestation recording it.
#[derive(Debug, Clone)]
pub struct Link {
    /// The input.
    pub input: Artifact,
    /// The output.
    pub output: Artifact,
    /// The input's role.
    pub role: String,
    /// Verified or claimed.
    pub status: EdgeStatus,
    /// The provenance (or card) that records it.
    pub attestation: StoredAttestation,
}

/// Every edge upstream of `start` (what it was made from, transitively), for drawing its
/// ancestry.
pub fn ancestry(store: &mut Store, start: &Artifact) -> Result<Vec<Link>, LineageError> {
    let edges = store.reachable_edges(start.id, false)?;
    links(store, &edges)
}

/// Every edge downstream of `start`, for drawing what was made from it.
pub fn descendants(store: &mut Store, start: &Artifact) -> Result<Vec<Link>, LineageError> {
    let edges = store.reachable_edges(start.id, true)?;
    links(store, &edges)
}

/// A shortest chain of edges from `from` to `to`, following edges downstream; `None`
/// when `to` is not made from `from`.
pub fn path(
    store: &mut Store,
    from: &Artifact,
    to: &Artifact,
) -> Result<Option<Vec<Link>>, LineageError> {
    let edges = store.reachable_edges(from.id, true)?;
    let graph = Graph::new(&edges);
    let mut came_by: BTreeMap<i64, &Edge> = BTreeMap::new();
    let mut queue = VecDeque::from([from.id]);
    while let Some(node) = queue.pop_front() {
        if node == to.id {
            break;
        }
        for edge in graph.forward.get(&node).into_iter().flatten() {
            if edge.output != from.id && !came_by.contains_key(&edge.output) {
                came_by.insert(edge.output, edge);
                queue.push_back(edge.output);
            }
        }
    }
    if from.id != to.id && !came_by.contains_key(&to.id) {
        return Ok(None);
    }
    let mut chain = Vec::new();
    let mut node = to.id;
    while let Some(edge) = came_by.get(&node) {
        chain.push((*edge).clone());
        node = edge.input;
        if node == from.id {
            break;
        }
    }
    chain.reverse();
    links(store, &chain).map(Some)
}

fn artifacts_by_id(
    store: &mut Store,
    ids: &[i64],
) -> Result<BTreeMap<i64, Artifact>, LineageError> {
    Ok(store
        .artifacts(ids)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// The attestations recording `edges`, by id.
fn attestations_of<'e>(
    store: &mut Store,
    edges: impl Iterator<Item = &'e Edge>,
) -> Result<BTreeMap<i64, StoredAttestation>, LineageError> {
    let ids: Vec<i64> = edges
        .map(|e| e.attestation)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    store.attestations(&ids)
}

fn links(store: &mut Store, edges: &[Edge]) -> Result<Vec<Link>, LineageError> {
    let ids: Vec<i64> = edges
        .iter()
        .flat_map(|e| [e.input, e.output])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let artifacts = artifacts_by_id(store, &ids)?;
    let attestations = attestations_of(store, edges.iter())?;
    Ok(edges
        .iter()
        .filter_map(|e| {
            Some(Link {
                input: artifacts.get(&e.input)?.clone(),
                output: artifacts.get(&e.output)?.clone(),
                role: e.role.clone(),
                status: e.status,
                attestation: attestations.get(&e.attestation)?.clone(),
            })
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lineage::store::{ArtifactKind, AttestationFacts, NewArtifact, NewAttestation};
    use crate::lineage::tests::{on_each_backend, SqliteIn};
    use crate::provenance::Stage;

    /// Node `index` of a test graph: a dataset for 0, a model otherwise, named `node-INDEX`.
    pub(crate) fn node(index: usize) -> NewArtifact {
        NewArtifact {
            key: format!("sha256:{index:064x}"),
            kind: if index == 0 {
                ArtifactKind::Dataset
            } else {
                ArtifactKind::Model
            },
            aliases: vec![format!("node-{index}")],
        }
    }

    /// Stores a provenance of `stage` making node `output` from `inputs` (each output is
    /// made once: its number names the attestation).
    pub(crate) fn made(
        store: &mut Store,
        stage: &str,
        output: usize,
        inputs: &[(usize, EdgeStatus)],
        seconds: Option<f64>,
    ) {
        let new = NewAttestation {
            facts: AttestationFacts {
                bundle_digest: format!("sha256:{:064x}", 1_000_000 + output),
                kind: "provenance".into(),
                stage: Some(stage.into()),
                signer: "key 0123456789abcdef0123".into(),
                trusted_as: "training".into(),
                started: None,
                finished: None,
                seconds,
            },
            statement: "{}".into(),
            subjects: vec![node(output)],
            inputs: inputs
                .iter()
                .map(|&(input, status)| (node(input), "base-model".to_owned(), status))
                .collect(),
        };
        assert!(store.add(&new).unwrap());
    }

    pub(crate) fn node_0(store: &mut Store) -> Artifact {
        crate::lineage::resolve(store, "node-0").unwrap()
    }

    fn labels<'a>(affected: impl Iterator<Item = &'a Affected>) -> Vec<String> {
        affected.map(|a| a.artifact.label().to_owned()).collect()
    }

    fn level_labels(impact: &Impact) -> Vec<Vec<String>> {
        impact.levels.iter().map(|l| labels(l.iter())).collect()
    }

    #[test]
    fn the_action_follows_the_stage_that_made_the_artifact() {
        let action = |stage| Action::of_stage(stage);
        for stage in Stage::ALL {
            let expected = match stage.name() {
                "data-prep" => Action::Reprepare,
                "quantize" | "merge" | "convert" => Action::Rederive,
                "evaluate" => Action::Reevaluate,
                _ => Action::Retrain,
            };
            assert_eq!(action(stage), expected, "{}", stage.name());
        }
    }

    #[test]
    fn artifacts_on_a_downstream_cycle_are_reported_apart_not_in_level_1() {
        on_each_backend(SqliteIn::Memory, |backend| {
            let store = &mut backend.open();
            // 0 -> 1 -> 2 <-> 3 -> 4, and 0 -> 5.
            made(
                store,
                "pretrain",
                1,
                &[(0, EdgeStatus::Verified)],
                Some(1.0),
            );
            made(
                store,
                "finetune",
                2,
                &[(1, EdgeStatus::Verified), (3, EdgeStatus::Verified)],
                Some(2.0),
            );
            made(
                store,
                "finetune",
                3,
                &[(2, EdgeStatus::Verified)],
                Some(3.0),
            );
            made(
                store,
                "quantize",
                4,
                &[(3, EdgeStatus::Verified)],
                Some(4.0),
            );
            made(
                store,
                "pretrain",
                5,
                &[(0, EdgeStatus::Verified)],
                Some(5.0),
            );
            let start = node_0(store);
            let found = impact(store, &start).unwrap();
            assert_eq!(
                level_labels(&found),
                [["node-1", "node-5"]],
                "{}",
                store.location()
            );
            assert_eq!(
                labels(found.cyclic.iter()),
                ["node-2", "node-3", "node-4"],
                "{}",
                store.location()
            );
            assert!(found.cyclic.iter().all(|a| a.level == 0));
            // Their stages are still to rerun: the cost counts them.
            assert_eq!(found.seconds, 15.0);
        });
    }

    #[test]
    fn a_claimed_edge_between_affected_artifacts_orders_them_when_it_can() {
        let mut store = Store::in_memory().unwrap();
        // 0 -> 1 and 0 -> 2 verified; 1 -> 2 only claimed: 2 still comes after 1.
        made(
            &mut store,
            "pretrain",
            1,
            &[(0, EdgeStatus::Verified)],
            None,
        );
        made(
            &mut store,
            "finetune",
            2,
            &[(0, EdgeStatus::Verified), (1, EdgeStatus::Claimed)],
            None,
        );
        let start = node_0(&mut store);
        let found = impact(&mut store, &start).unwrap();
        assert_eq!(level_labels(&found), [["node-1"], ["node-2"]]);
        // `via` stays what the signed digests say.
        assert_eq!(
            found.levels[1][0].via,
            [("node-0".into(), "base-model".into())]
        );

        // A claim that closes a cycle against the verified edges cannot be honoured: the
        // verified order stands, and nothing is called cyclic.
        let mut store = Store::in_memory().unwrap();
        made(
            &mut store,
            "pretrain",
            1,
            &[(0, EdgeStatus::Verified), (2, EdgeStatus::Claimed)],
            None,
        );
        made(
            &mut store,
            "finetune",
            2,
            &[(1, EdgeStatus::Verified)],
            None,
        );
        let start = node_0(&mut store);
        let found = impact(&mut store, &start).unwrap();
        assert_eq!(level_labels(&found), [["node-1"], ["node-2"]]);
        assert!(found.cyclic.is_empty());
    }

    #[test]
    fn an_impact_without_recorded_times_costs_zero_not_minus_zero() {
        let mut store = Store::in_memory().unwrap();
        made(
            &mut store,
            "pretrain",
            1,
            &[(0, EdgeStatus::Verified)],
            None,
        );
        let start = node_0(&mut store);
        let found = impact(&mut store, &start).unwrap();
        assert!(found.seconds == 0.0 && found.seconds.is_sign_positive());
        let affected = &found.levels[0][0];
        assert!(affected.seconds == 0.0 && affected.seconds.is_sign_positive());
    }
}
