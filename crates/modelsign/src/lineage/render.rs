//! The answers of the lineage queries as text a person reads, JSON a script reads, or a
//! Graphviz DOT graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{json, Value};

use super::query::{Affected, Impact, Link};
use super::store::{Artifact, EdgeStatus, StoredAttestation};
use crate::text::printable;

/// How a query's answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Lines for a person.
    Text,
    /// One JSON object.
    Json,
    /// A Graphviz digraph.
    Dot,
}

/// A digest as text shows it: its first 12 hex digits (queries accept that prefix; JSON
/// has the whole digest).
fn short(key: &str) -> String {
    match key.split_once(':') {
        Some((algorithm, hex)) if hex.len() > 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{algorithm}:{}…", &hex[..12])
        }
        _ => key.to_owned(),
    }
}

fn artifact_text(artifact: &Artifact) -> String {
    let label = artifact.label();
    if label == artifact.key {
        format!("{} {}", artifact.kind.name(), printable(label))
    } else {
        format!(
            "{} {} ({})",
            artifact.kind.name(),
            printable(label),
            short(&artifact.key)
        )
    }
}

fn artifact_json(artifact: &Artifact) -> Value {
    json!({
        "key": artifact.key,
        "kind": artifact.kind.name(),
        "label": artifact.label(),
        "aliases": artifact.aliases,
    })
}

fn attestation_json(attestation: &StoredAttestation) -> Value {
    json!({
        "bundle_digest": attestation.facts.bundle_digest,
        "kind": attestation.facts.kind,
        "stage": attestation.facts.stage,
        "signer": attestation.facts.signer,
        "trusted_as": attestation.facts.trusted_as,
        "started": attestation.facts.started,
        "finished": attestation.facts.finished,
        "seconds": attestation.facts.seconds,
    })
}

/// A duration as `1h 30m`, `45m`, `20s`.
pub fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    match (total / 3600, (total % 3600) / 60, total % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, _) => format!("{m}m"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

fn stage_text(stages: &[StoredAttestation]) -> String {
    stages
        .iter()
        .map(|s| {
            let signer = match s.facts.signer.strip_prefix("key ") {
                Some(hint) => format!(
                    "key {}",
                    short(&format!("sha256:{hint}")).trim_start_matches("sha256:")
                ),
                None => s.facts.signer.clone(),
            };
            format!(
                "{} by {} ({})",
                s.facts.stage.as_deref().unwrap_or(&s.facts.kind),
                printable(&s.facts.trusted_as),
                printable(&signer)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The impact of a compromise.
pub fn impact(impact: &Impact, format: Format) -> String {
    match format {
        Format::Json => {
            let affected = |a: &Affected| {
                json!({
                    "artifact": artifact_json(&a.artifact),
                    "level": a.level,
                    "action": a.action.name(),
                    "via": a.via.iter().map(|(input, role)| json!({"input": input, "role": role})).collect::<Vec<_>>(),
                    "stages": a.stages.iter().map(attestation_json).collect::<Vec<_>>(),
                    "seconds": a.seconds,
                })
            };
            let value = json!({
                "start": artifact_json(&impact.start),
                "levels": impact.levels.iter().map(|level| level.iter().map(affected).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "claimed_only": impact.claimed_only.iter().map(artifact_json).collect::<Vec<_>>(),
                "seconds": impact.seconds,
            });
            format!("{value}\n")
        }
        Format::Dot => {
            let mut nodes = Nodes::new();
            nodes.add(&impact.start, Some(0));
            let mut edges = Vec::new();
            for affected in impact.in_order() {
                nodes.add(&affected.artifact, Some(affected.level));
                for (input, role) in &affected.via_keys {
                    edges.push((
                        input.clone(),
                        affected.artifact.key.clone(),
                        role.clone(),
                        EdgeStatus::Verified,
                    ));
                }
            }
            dot(&nodes, &edges)
        }
        Format::Text => {
            let mut out = String::new();
            let count = impact.in_order().count();
            let _ = writeln!(
                out,
                "Impact of {}: {} to rebuild in {} level{}, recorded stage time {}",
                artifact_text(&impact.start),
                plural(count, "artifact"),
                impact.levels.len(),
                if impact.levels.len() == 1 { "" } else { "s" },
                duration(impact.seconds)
            );
            for (index, level) in impact.levels.iter().enumerate() {
                let _ = writeln!(out, "level {}", index + 1);
                for affected in level {
                    let via = affected
                        .via
                        .iter()
                        .map(|(input, role)| format!("{} ({role})", printable(input)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let _ = writeln!(
                        out,
                        "  {:<11} {}\n              from {via}; {}; {}",
                        affected.action.name(),
                        artifact_text(&affected.artifact),
                        stage_text(&affected.stages),
                        duration(affected.seconds)
                    );
                }
            }
            if !impact.claimed_only.is_empty() {
                let _ = writeln!(
                    out,
                    "reachable only through claimed edges (no signed digest links them):"
                );
                for artifact in &impact.claimed_only {
                    let _ = writeln!(out, "  {}", artifact_text(artifact));
                }
            }
            out
        }
    }
}

/// An impact drawn in its surroundings: the compromised artifact red, what must be rebuilt
/// amber with its level, what is reachable only through claims grey, and the other inputs
/// of each rebuilt artifact white; claimed edges dashed.
pub fn impact_graph(impact: &Impact, links: &[Link]) -> String {
    let mut nodes = Nodes::new();
    nodes.add(&impact.start, Some(0));
    for affected in impact.in_order() {
        nodes.add(&affected.artifact, Some(affected.level));
    }
    for artifact in &impact.claimed_only {
        nodes.add_claimed(artifact);
    }
    for link in links {
        nodes.add(&link.input, None);
        nodes.add(&link.output, None);
    }
    let edges: Vec<(String, String, String, EdgeStatus)> = links
        .iter()
        .map(|l| {
            (
                l.input.key.clone(),
                l.output.key.clone(),
                l.role.clone(),
                l.status,
            )
        })
        .collect();
    dot(&nodes, &edges)
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Edges around an artifact: its ancestry (`upstream`) or its descendants, drawn as a tree
/// from `start`.
pub fn links(start: &Artifact, links: &[Link], upstream: bool, format: Format) -> String {
    match format {
        Format::Json => {
            let value = json!({
                "start": artifact_json(start),
                "edges": links.iter().map(|l| json!({
                    "input": artifact_json(&l.input),
                    "output": artifact_json(&l.output),
                    "role": l.role,
                    "status": l.status.name(),
                    "attestation": attestation_json(&l.attestation),
                })).collect::<Vec<_>>(),
            });
            format!("{value}\n")
        }
        Format::Dot => {
            let mut nodes = Nodes::new();
            nodes.add(start, Some(0));
            for link in links {
                nodes.add(&link.input, None);
                nodes.add(&link.output, None);
            }
            let edges: Vec<(String, String, String, EdgeStatus)> = links
                .iter()
                .map(|l| {
                    (
                        l.input.key.clone(),
                        l.output.key.clone(),
                        l.role.clone(),
                        l.status,
                    )
                })
                .collect();
            dot(&nodes, &edges)
        }
        Format::Text => {
            let mut out = format!("{}\n", artifact_text(start));
            let mut shown = BTreeSet::new();
            tree(&mut out, start.id, links, upstream, "", &mut shown);
            out
        }
    }
}

fn tree(
    out: &mut String,
    node: i64,
    links: &[Link],
    upstream: bool,
    indent: &str,
    shown: &mut BTreeSet<i64>,
) {
    let next: Vec<&Link> = links
        .iter()
        .filter(|l| {
            if upstream {
                l.output.id == node
            } else {
                l.input.id == node
            }
        })
        .collect();
    for (index, link) in next.iter().enumerate() {
        let last = index + 1 == next.len();
        let other = if upstream { &link.input } else { &link.output };
        let repeated = !shown.insert(other.id);
        // Upstream, each line is an input by its role; downstream, what was made with the
        // line above it, and in which role that went in.
        let role = if upstream {
            format!("{:<10} ", link.role)
        } else {
            String::new()
        };
        let made_with = if upstream {
            String::new()
        } else {
            format!(" ({} in)", link.role)
        };
        let _ = writeln!(
            out,
            "{indent}{} {role}{}{made_with}  {}, {}{}",
            if last { "└─" } else { "├─" },
            artifact_text(other),
            link.status.name(),
            stage_text(std::slice::from_ref(&link.attestation)),
            if repeated {
                " (its lineage is shown above)"
            } else {
                ""
            }
        );
        if !repeated {
            let deeper = format!("{indent}{}", if last { "   " } else { "│  " });
            tree(out, other.id, links, upstream, &deeper, shown);
        }
    }
}

/// Who attested an artifact.
pub fn attestations(
    artifact: &Artifact,
    attestations: &[StoredAttestation],
    format: Format,
) -> String {
    match format {
        Format::Json | Format::Dot => {
            let value = json!({
                "artifact": artifact_json(artifact),
                "attestations": attestations.iter().map(attestation_json).collect::<Vec<_>>(),
            });
            format!("{value}\n")
        }
        Format::Text => {
            let mut out = format!("{}\n", artifact_text(artifact));
            for a in attestations {
                let _ = writeln!(
                    out,
                    "  {:<10} {}signed by {} (trusted as {})",
                    a.facts.kind,
                    a.facts
                        .stage
                        .as_deref()
                        .map(|s| format!("{s} stage, "))
                        .unwrap_or_default(),
                    printable(&a.facts.signer),
                    printable(&a.facts.trusted_as)
                );
            }
            if attestations.is_empty() {
                out.push_str(
                    "  no stored attestation has it as its subject (it is only an input)\n",
                );
            }
            out
        }
    }
}

/// A label with every long hex run (a commit, a digest) cut to 12 digits, so that a
/// `git+https://…@<40 hex>` node is not wider than the rest of the graph.
fn compact(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut run = String::new();
    for c in label.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() >= 32 {
            out.push_str(&run[..12]);
            out.push('…');
        } else {
            out.push_str(&run);
        }
        run.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// The nodes of a DOT graph by artifact key: label and level (0: where the query started).
struct Nodes(BTreeMap<String, ((String, &'static str), Shade)>);

/// How a node is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shade {
    Plain,
    Level(usize),
    Claimed,
}

impl Nodes {
    fn new() -> Self {
        Nodes(BTreeMap::new())
    }

    fn add(&mut self, artifact: &Artifact, level: Option<usize>) {
        self.shade(artifact, level.map_or(Shade::Plain, Shade::Level));
    }

    fn add_claimed(&mut self, artifact: &Artifact) {
        self.shade(artifact, Shade::Claimed);
    }

    fn shade(&mut self, artifact: &Artifact, shade: Shade) {
        let entry = self.0.entry(artifact.key.clone()).or_insert_with(|| {
            (
                (artifact.label().to_owned(), artifact.kind.name()),
                Shade::Plain,
            )
        });
        if shade != Shade::Plain {
            entry.1 = shade;
        }
    }
}

/// A DOT digraph: claimed edges dashed; the starting artifact red, the levels of an impact
/// amber and labelled.
fn dot(nodes: &Nodes, edges: &[(String, String, String, EdgeStatus)]) -> String {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let quote = |s: &str| format!("\"{}\"", escape(s));
    let mut out = String::from(
        "digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
    );
    for (key, ((label, kind), shade)) in &nodes.0 {
        // Two lines: the name, and what it is (`\n` is DOT's line break inside a label).
        let label = format!("{}\\n{kind}", escape(&compact(label)));
        let style = match shade {
            Shade::Level(0) => ", style=filled, fillcolor=\"#f4a3a3\"".to_owned(),
            Shade::Level(level) => format!(
                ", style=filled, fillcolor=\"#fde2a7\", xlabel={}",
                quote(&format!("level {level}"))
            ),
            Shade::Claimed => {
                ", style=\"filled,dashed\", fillcolor=\"#e4e4e4\", xlabel=\"claimed only\""
                    .to_owned()
            }
            Shade::Plain => String::new(),
        };
        let _ = writeln!(out, "  {} [label=\"{label}\"{style}];", quote(key));
    }
    for (input, output, role, status) in edges {
        let style = if *status == EdgeStatus::Claimed {
            ", style=dashed"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label={}{style}];",
            quote(input),
            quote(output),
            quote(role)
        );
    }
    out.push_str("}\n");
    out
}
