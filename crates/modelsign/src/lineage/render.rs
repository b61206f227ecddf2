//! The answers of the lineage queries as text a person reads, JSON a script reads, or a
//! Graphviz DOT graph, and that graph laid out as SVG by Graphviz.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::query::{self, Affected, Impact, Link};
use super::store::{Artifact, EdgeStatus, Store, StoredAttestation};
use crate::atomic_file::{shared_file_mode, StagedFile};
use crate::error::LineageError;
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

/// Who signed an attestation, a key's hint cut as [`short`] cuts a digest.
fn signer_text(attestation: &StoredAttestation) -> String {
    match attestation.facts.signer.strip_prefix("key ") {
        Some(hint) => format!(
            "key {}",
            short(&format!("sha256:{hint}")).trim_start_matches("sha256:")
        ),
        None => attestation.facts.signer.clone(),
    }
}

fn stage_text(stages: &[StoredAttestation]) -> String {
    stages
        .iter()
        .map(|s| {
            format!(
                "{} by {} ({})",
                s.facts.stage.as_deref().unwrap_or(&s.facts.kind),
                printable(&s.facts.trusted_as),
                printable(&signer_text(s))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The impact of a compromise. As DOT it is the graph [`graph_dot`] draws, which needs the
/// store for the inputs around what is rebuilt.
pub fn impact(store: &mut Store, impact: &Impact, format: Format) -> Result<String, LineageError> {
    Ok(match format {
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
                "cyclic": impact.cyclic.iter().map(affected).collect::<Vec<_>>(),
                "claimed_only": impact.claimed_only.iter().map(artifact_json).collect::<Vec<_>>(),
                "seconds": impact.seconds,
            });
            format!("{value}\n")
        }
        Format::Dot => impact_dot(store, impact)?,
        Format::Text => {
            let mut out = String::new();
            let count = impact.to_rebuild().count();
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
                    affected_text(&mut out, affected);
                }
            }
            if !impact.cyclic.is_empty() {
                let _ = writeln!(out, "on a cycle, or made from one (no retraining order):");
                for affected in &impact.cyclic {
                    affected_text(&mut out, affected);
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
    })
}

/// One artifact to rebuild: the action, what it is, and what it was made from by whom.
fn affected_text(out: &mut String, affected: &Affected) {
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

/// An impact drawn in its surroundings: the compromised artifact red, what must be rebuilt
/// amber with its level (or "on a cycle"), what is reachable only through claims grey, and the
/// other inputs of each rebuilt artifact white; claimed edges dashed.
fn impact_dot(store: &mut Store, impact: &Impact) -> Result<String, LineageError> {
    let links = query::impact_links(store, impact)?;
    let mut nodes = Nodes::new();
    nodes.add(&impact.start, Some(0));
    for affected in impact.in_order() {
        nodes.add(&affected.artifact, Some(affected.level));
    }
    for affected in &impact.cyclic {
        nodes.shade(&affected.artifact, Shade::Cyclic);
    }
    for artifact in &impact.claimed_only {
        nodes.add_claimed(artifact);
    }
    for link in &links {
        nodes.add(&link.input, None);
        nodes.add(&link.output, None);
    }
    Ok(dot(&nodes, &edges_of(&links)))
}

/// The DOT graph `lineage graph` draws of `start`: what it was made from (`upstream`), or
/// its impact in its surroundings.
pub fn graph_dot(
    store: &mut Store,
    start: &Artifact,
    upstream: bool,
) -> Result<String, LineageError> {
    if upstream {
        let links = query::ancestry(store, start)?;
        Ok(links_dot(start, &links))
    } else {
        let impact = query::impact(store, start)?;
        impact_dot(store, &impact)
    }
}

/// Draws [`graph_dot`] with Graphviz as SVG into `output`, which is replaced whole or not
/// at all.
pub fn graph_svg(
    store: &mut Store,
    start: &Artifact,
    upstream: bool,
    output: &Path,
) -> Result<(), LineageError> {
    let dot = graph_dot(store, start, upstream)?;
    write_svg(output, &svg(&dot)?)
}

/// Graphviz's layout of `dot` as SVG.
fn svg(dot: &str) -> Result<Vec<u8>, LineageError> {
    svg_with("dot", dot)
}

fn svg_with(program: &str, dot: &str) -> Result<Vec<u8>, LineageError> {
    let failed = |reason: String| LineageError::Graphviz { reason };
    let mut child = Command::new(program)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            failed(format!(
                "cannot run `{program}` ({e}): install Graphviz (Debian: apt install graphviz), or have `lineage impact` (or `lineage show`) print the graph with --format dot"
            ))
        })?;
    // Fed from a thread: Graphviz may fill its output pipe before it has read all its input.
    let feed = child.stdin.take().map(|mut stdin| {
        let dot = dot.to_owned();
        std::thread::spawn(move || stdin.write_all(dot.as_bytes()))
    });
    let out = child
        .wait_with_output()
        .map_err(|e| failed(format!("`{program}` failed: {e}")))?;
    if !out.status.success() {
        return Err(failed(format!(
            "`{program}` failed: {}",
            printable(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    if let Some(feed) = feed {
        match feed.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(failed(format!("cannot feed `{program}`: {e}"))),
            Err(_) => return Err(failed(format!("cannot feed `{program}`"))),
        }
    }
    Ok(out.stdout)
}

fn write_svg(path: &Path, svg: &[u8]) -> Result<(), LineageError> {
    StagedFile::write(path, ".modelsign-graph-", svg, shared_file_mode())
        .and_then(|staged| staged.replace(path))
        .map_err(|e| LineageError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// The edges of `links` as DOT draws them: input key, output key, role, status.
fn edges_of(links: &[Link]) -> Vec<(String, String, String, EdgeStatus)> {
    links
        .iter()
        .map(|l| {
            (
                l.input.key.clone(),
                l.output.key.clone(),
                l.role.clone(),
                l.status,
            )
        })
        .collect()
}

/// Edges around `start` as DOT, `start` red.
fn links_dot(start: &Artifact, links: &[Link]) -> String {
    let mut nodes = Nodes::new();
    nodes.add(start, Some(0));
    for link in links {
        nodes.add(&link.input, None);
        nodes.add(&link.output, None);
    }
    dot(&nodes, &edges_of(links))
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
        Format::Dot => links_dot(start, links),
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
        Format::Json => {
            let value = json!({
                "artifact": artifact_json(artifact),
                "attestations": attestations.iter().map(attestation_json).collect::<Vec<_>>(),
            });
            format!("{value}\n")
        }
        Format::Dot => {
            let mut nodes = Nodes::new();
            nodes.add(artifact, Some(0));
            let mut edges = Vec::new();
            for a in attestations {
                let what = match &a.facts.stage {
                    Some(stage) => format!("{} of {stage}", a.facts.kind),
                    None => a.facts.kind.clone(),
                };
                nodes.add_signer(
                    &a.facts.bundle_digest,
                    format!("{} ({})", a.facts.trusted_as, signer_text(a)),
                    what,
                );
                edges.push((
                    a.facts.bundle_digest.clone(),
                    artifact.key.clone(),
                    "attests".to_owned(),
                    EdgeStatus::Verified,
                ));
            }
            dot(&nodes, &edges)
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

/// The nodes of a DOT graph by artifact key (or an attestation's bundle digest): the two
/// lines of its label (its name, what it is), and how it is drawn.
struct Nodes(BTreeMap<String, ((String, String), Shade)>);

/// How a node is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shade {
    Plain,
    /// A level of an impact; 0: where the query started.
    Level(usize),
    /// To rebuild, but on a cycle (or made from one).
    Cyclic,
    Claimed,
    /// An attestation, named by its signer.
    Signer,
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

    fn add_signer(&mut self, bundle_digest: &str, signer: String, what: String) {
        self.0
            .insert(bundle_digest.to_owned(), ((signer, what), Shade::Signer));
    }

    fn shade(&mut self, artifact: &Artifact, shade: Shade) {
        let entry = self.0.entry(artifact.key.clone()).or_insert_with(|| {
            (
                (artifact.label().to_owned(), artifact.kind.name().to_owned()),
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
        let label = format!("{}\\n{}", escape(&compact(label)), escape(kind));
        let style = match shade {
            Shade::Level(0) => ", style=filled, fillcolor=\"#f4a3a3\"".to_owned(),
            Shade::Level(level) => format!(
                ", style=filled, fillcolor=\"#fde2a7\", xlabel={}",
                quote(&format!("level {level}"))
            ),
            Shade::Cyclic => {
                ", style=filled, fillcolor=\"#fde2a7\", xlabel=\"on a cycle\"".to_owned()
            }
            Shade::Claimed => {
                ", style=\"filled,dashed\", fillcolor=\"#e4e4e4\", xlabel=\"claimed only\""
                    .to_owned()
            }
            Shade::Signer => ", shape=ellipse".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classify;
    use crate::lineage::query::tests::{made, node_0};
    use crate::lineage::store::Store;
    use crate::lineage::tests::{on_each_backend, SqliteIn};

    #[test]
    fn who_signed_as_dot_draws_the_artifact_and_one_node_per_attestation() {
        let mut store = Store::in_memory().unwrap();
        made(
            &mut store,
            "pretrain",
            1,
            &[(0, EdgeStatus::Verified)],
            None,
        );
        let model = crate::lineage::resolve(&mut store, "node-1").unwrap();
        let signed = store.attestations_about(model.id).unwrap();
        let dot = attestations(&model, &signed, Format::Dot);
        assert!(dot.starts_with("digraph lineage {"), "{dot}");
        assert!(dot.contains("training"), "the signer is drawn: {dot}");
        assert!(
            dot.contains(&format!(
                "\"{}\" -> \"{}\"",
                signed[0].facts.bundle_digest, model.key
            )),
            "the attestation points at its subject: {dot}"
        );
        if Command::new("dot").arg("-V").output().is_ok() || test_support::in_ci() {
            let drawn = String::from_utf8(svg(&dot).unwrap()).unwrap();
            assert!(
                drawn.contains("<svg") && drawn.contains("training"),
                "{drawn}"
            );
        }
    }

    #[test]
    fn impact_as_dot_is_the_drawn_impact_graph() {
        on_each_backend(SqliteIn::Memory, |backend| {
            let store = &mut backend.open();
            // 0 and 9 (untouched) -> 1 verified; 1 -> 2 only claimed.
            made(
                store,
                "finetune",
                1,
                &[(0, EdgeStatus::Verified), (9, EdgeStatus::Verified)],
                None,
            );
            made(store, "quantize", 2, &[(1, EdgeStatus::Claimed)], None);
            let start = node_0(store);
            let found = crate::lineage::impact(store, &start).unwrap();
            let dot = impact(store, &found, Format::Dot).unwrap();
            assert_eq!(dot, graph_dot(store, &start, false).unwrap());
            assert!(dot.contains(&format!("sha256:{:064x}", 9)), "{dot}");
            assert!(dot.contains("claimed only"), "{dot}");
            assert!(dot.contains("style=dashed"), "{dot}");
        });
    }

    #[test]
    fn impact_json_without_recorded_times_says_0_not_minus_0() {
        let mut store = Store::in_memory().unwrap();
        made(
            &mut store,
            "pretrain",
            1,
            &[(0, EdgeStatus::Verified)],
            None,
        );
        let start = node_0(&mut store);
        let found = crate::lineage::impact(&mut store, &start).unwrap();
        let json = impact(&mut store, &found, Format::Json).unwrap();
        assert!(!json.contains("-0.0"), "{json}");
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["seconds"].to_string(), "0.0");
        assert_eq!(value["levels"][0][0]["seconds"].to_string(), "0.0");
    }

    #[test]
    fn an_impact_with_a_cycle_lists_it_apart_in_text_and_json() {
        let mut store = Store::in_memory().unwrap();
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
            &[(1, EdgeStatus::Verified), (3, EdgeStatus::Verified)],
            None,
        );
        made(
            &mut store,
            "finetune",
            3,
            &[(2, EdgeStatus::Verified)],
            None,
        );
        let start = node_0(&mut store);
        let found = crate::lineage::impact(&mut store, &start).unwrap();
        let text = impact(&mut store, &found, Format::Text).unwrap();
        let (ordered, cyclic) = text
            .split_once("on a cycle")
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            ordered.contains("node-1") && !ordered.contains("node-2"),
            "{text}"
        );
        assert!(
            cyclic.contains("node-2") && cyclic.contains("node-3"),
            "{text}"
        );
        let json: Value =
            serde_json::from_str(&impact(&mut store, &found, Format::Json).unwrap()).unwrap();
        let cyclic: Vec<&str> = json["cyclic"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["artifact"]["label"].as_str().unwrap())
            .collect();
        assert_eq!(cyclic, ["node-2", "node-3"], "{json}");
        assert_eq!(json["levels"].as_array().unwrap().len(), 1, "{json}");
    }

    #[test]
    fn without_graphviz_drawing_fails_with_how_to_install_it() {
        let err = svg_with("modelsign-test-no-such-program", "digraph {}").unwrap_err();
        assert!(err.is_input_error(), "{err}");
        assert!(err.to_string().contains("apt install graphviz"), "{err}");
    }

    #[test]
    fn the_svg_is_put_in_place_whole_replacing_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("impact.svg");
        std::fs::write(&path, "old").unwrap();
        write_svg(&path, b"<svg/>").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"<svg/>");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["impact.svg"], "nothing is left beside it");
        let missing = dir.path().join("no-such-dir").join("impact.svg");
        let err = write_svg(&missing, b"<svg/>").unwrap_err();
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        assert!(!missing.exists());
    }
}
