//! A verified card for people (terminal text, Markdown for a README, a self-contained HTML
//! page with the verification status up top) or machines (JSON, the CycloneDX BOM).

use std::fmt::Write as _;

use serde_json::json;

use super::{Metric, ModelCard, VerifiedCard};
use crate::text::printable;

/// A signed field for one line of terminal text: control characters made visible.
fn line(text: &str) -> String {
    printable(text).into_owned()
}

/// A signed field over several lines (the description): each line made printable, the
/// line breaks kept, and every line after the first indented so none can pass for output
/// of its own.
fn lines(text: &str) -> String {
    text.lines().map(line).collect::<Vec<_>>().join("\n  ")
}

/// How `card show` renders a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Plain text for a terminal.
    Text,
    /// Markdown, for a README.
    Markdown,
    /// A self-contained HTML page.
    Html,
    /// The verification report as JSON, for scripts.
    Json,
    /// The signed CycloneDX BOM exactly as signed.
    Cyclonedx,
}

/// Renders a verified card. `status` is the one-line verification verdict shown first
/// (e.g. "Verified: signed with key …, bound to sha256:…").
pub fn render(format: Format, verified: &VerifiedCard, status: &str) -> String {
    match format {
        Format::Text => text(verified, status),
        Format::Markdown => markdown(verified, status),
        Format::Html => html(verified, status),
        Format::Json => json(verified, status),
        Format::Cyclonedx => {
            serde_json::to_string_pretty(&verified.signed.bom).unwrap_or_default() + "\n"
        }
    }
}

fn root_digest(verified: &VerifiedCard) -> String {
    verified.signed.root_digest_string()
}

fn where_measured(metric: &Metric) -> String {
    [
        metric.dataset.clone(),
        metric.split.clone(),
        metric.slice.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" / ")
}

fn interval(metric: &Metric) -> String {
    metric
        .confidence_interval
        .map(|ci| format!("[{}, {}]", ci.lower, ci.upper))
        .unwrap_or_default()
}

fn facts(card: &ModelCard) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    let mut add = |label, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            facts.push((label, value));
        }
    };
    add("Version", card.version.clone());
    add("License", card.license.clone());
    add("Authors", Some(card.authors.join(", ")));
    add("Task", card.task.clone());
    add("Architecture", card.architecture.clone());
    add("Base models", Some(card.base_models.join(", ")));
    add("Languages", Some(card.languages.join(", ")));
    facts
}

fn considerations(card: &ModelCard) -> Vec<(&'static str, &[String])> {
    let c = &card.considerations;
    [
        ("Intended users", c.users.as_slice()),
        ("Use cases", c.use_cases.as_slice()),
        ("Limitations", c.limitations.as_slice()),
        ("Ethical considerations", c.ethical.as_slice()),
    ]
    .into_iter()
    .filter(|(_, items)| !items.is_empty())
    .collect()
}

fn text(verified: &VerifiedCard, status: &str) -> String {
    let card = &verified.signed.card;
    let name = line(&card.name);
    let mut out = String::new();
    let _ = writeln!(out, "{}", line(status));
    let _ = writeln!(out);
    let _ = writeln!(out, "{name}");
    let _ = writeln!(out, "{}", "=".repeat(name.chars().count().max(1)));
    if let Some(description) = &card.description {
        let _ = writeln!(out, "{}\n", lines(description));
    }
    let _ = writeln!(out, "{:<14} {}", "Model digest", root_digest(verified));
    for (label, value) in facts(card) {
        let _ = writeln!(out, "{label:<14} {}", line(&value));
    }
    if !card.metrics.is_empty() {
        let _ = writeln!(out, "\nEvaluation results");
        let names: Vec<String> = card.metrics.iter().map(|m| line(&m.metric)).collect();
        let width = names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        for (metric, name) in card.metrics.iter().zip(&names) {
            let _ = writeln!(
                out,
                "  {name:<width$}  {:>10}  {} {}",
                metric.value,
                line(&where_measured(metric)),
                interval(metric)
            );
        }
    }
    if !card.datasets.is_empty() {
        let _ = writeln!(out, "\nDatasets");
        for dataset in &card.datasets {
            let _ = writeln!(
                out,
                "  {}{}{}",
                line(&dataset.name),
                dataset
                    .role
                    .as_ref()
                    .map(|r| format!(" ({})", line(r)))
                    .unwrap_or_default(),
                dataset
                    .digest
                    .as_ref()
                    .map(|d| format!("  {}", line(d)))
                    .unwrap_or_default()
            );
        }
    }
    for (label, items) in considerations(card) {
        let _ = writeln!(out, "\n{label}");
        for item in items {
            let _ = writeln!(out, "  - {}", line(item));
        }
    }
    if !verified.policies.is_empty() {
        let _ = writeln!(out, "\nPolicies");
        for p in &verified.policies {
            let mark = if p.holds { "pass" } else { "FAIL" };
            let _ = writeln!(out, "  {mark}  {}: {}", line(&p.policy), line(&p.detail));
        }
    }
    out
}

/// Escapes a signed field for one line of Markdown (a heading, a table cell, a list
/// item): HTML escaped, since Markdown passes raw HTML through to the page; `|` escaped
/// for tables; line breaks folded, so the field cannot start a block of its own; control
/// characters made visible.
fn md(text: &str) -> String {
    md_inline(&text.replace(['\r', '\n'], " ")).replace('|', "\\|")
}

/// A signed field as Markdown text that may span lines (the description): its Markdown
/// kept, raw HTML escaped, control characters other than line breaks made visible.
fn md_block(text: &str) -> String {
    text.lines().map(md_inline).collect::<Vec<_>>().join("\n")
}

fn md_inline(text: &str) -> String {
    esc(text)
}

/// A digest or other code as a Markdown code span, when it is plain enough to be one;
/// otherwise as escaped text (a backtick in it would end the span).
fn md_code(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == ':') {
        format!("`{text}`")
    } else {
        md(text)
    }
}

fn markdown(verified: &VerifiedCard, status: &str) -> String {
    let card = &verified.signed.card;
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", md(&card.name));
    let _ = writeln!(out, "> {}\n", md(status));
    if let Some(description) = &card.description {
        let _ = writeln!(out, "{}\n", md_block(description));
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| Model digest | {} |",
        md_code(&root_digest(verified))
    );
    for (label, value) in facts(card) {
        let _ = writeln!(out, "| {label} | {} |", md(&value));
    }
    if !card.metrics.is_empty() {
        let _ = writeln!(out, "\n## Evaluation results\n");
        let _ = writeln!(
            out,
            "| Metric | Value | Dataset / split | Confidence interval | Source |"
        );
        let _ = writeln!(out, "|---|---:|---|---|---|");
        for m in &card.metrics {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md(&m.metric),
                m.value,
                md(&where_measured(m)),
                md(&interval(m)),
                md(m.source.as_deref().unwrap_or(""))
            );
        }
    }
    if !card.datasets.is_empty() {
        let _ = writeln!(out, "\n## Datasets\n");
        for d in &card.datasets {
            let _ = writeln!(
                out,
                "- {}{}{}",
                md(&d.name),
                d.role
                    .as_ref()
                    .map(|r| format!(" ({})", md(r)))
                    .unwrap_or_default(),
                d.digest
                    .as_ref()
                    .map(|x| format!(" {}", md_code(x)))
                    .unwrap_or_default()
            );
        }
    }
    for (label, items) in considerations(card) {
        let _ = writeln!(out, "\n## {label}\n");
        for item in items {
            let _ = writeln!(out, "- {}", md(item));
        }
    }
    out
}

/// Escapes text for HTML, control characters made visible first (a bidirectional override
/// reorders text in a browser too).
fn esc(text: &str) -> String {
    let text = printable(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(verified: &VerifiedCard, status: &str) -> String {
    let card = &verified.signed.card;
    let ok = verified.policies_hold();
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header class=\"status {}\" id=\"status\"><strong>{}</strong> {}</header>",
        if ok { "ok" } else { "fail" },
        if ok {
            "&#10004; Verified"
        } else {
            "&#10008; Policy failed"
        },
        esc(status)
    );
    let _ = writeln!(body, "<h1 id=\"model-name\">{}</h1>", esc(&card.name));
    if let Some(description) = &card.description {
        let _ = writeln!(body, "<p>{}</p>", esc(description));
    }
    let _ = writeln!(
        body,
        "<table class=\"facts\"><tr><th>Model digest</th><td><code>{}</code></td></tr>",
        esc(&root_digest(verified))
    );
    for (label, value) in facts(card) {
        let _ = writeln!(body, "<tr><th>{label}</th><td>{}</td></tr>", esc(&value));
    }
    body.push_str("</table>\n");
    if !card.metrics.is_empty() {
        body.push_str("<h2>Evaluation results</h2>\n<table class=\"metrics\" id=\"metrics\">\n<tr><th>Metric</th><th>Value</th><th>Dataset / split</th><th>Confidence interval</th><th>Source</th></tr>\n");
        for m in &card.metrics {
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&m.metric),
                m.value,
                esc(&where_measured(m)),
                esc(&interval(m)),
                esc(m.source.as_deref().unwrap_or(""))
            );
        }
        body.push_str("</table>\n");
    }
    if !card.datasets.is_empty() {
        body.push_str("<h2>Datasets</h2>\n<ul>\n");
        for d in &card.datasets {
            let _ = writeln!(
                body,
                "<li>{}{}{}</li>",
                esc(&d.name),
                d.role
                    .as_ref()
                    .map(|r| format!(" ({})", esc(r)))
                    .unwrap_or_default(),
                d.digest
                    .as_ref()
                    .map(|x| format!(" <code>{}</code>", esc(x)))
                    .unwrap_or_default()
            );
        }
        body.push_str("</ul>\n");
    }
    for (label, items) in considerations(card) {
        let _ = writeln!(body, "<h2>{label}</h2>\n<ul>");
        for item in items {
            let _ = writeln!(body, "<li>{}</li>", esc(item));
        }
        body.push_str("</ul>\n");
    }
    if !verified.policies.is_empty() {
        body.push_str("<h2>Policies</h2>\n<ul class=\"policies\">\n");
        for p in &verified.policies {
            let _ = writeln!(
                body,
                "<li class=\"{}\">{} <code>{}</code>: {}</li>",
                if p.holds { "ok" } else { "fail" },
                if p.holds { "&#10004;" } else { "&#10008;" },
                esc(&p.policy),
                esc(&p.detail)
            );
        }
        body.push_str("</ul>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} — model card</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        title = esc(&card.name)
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f6f7f9;color:#1d2125}
main{max-width:56rem;margin:0 auto;padding:1.5rem}
.status{padding:.9rem 1.1rem;border-radius:.5rem;margin-bottom:1.2rem;font-size:1.05rem}
.status.ok{background:#e3f6e8;border:1px solid #2e9e4f}
.status.fail{background:#fde8e8;border:1px solid #c62828}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1rem}
th,td{text-align:left;padding:.45rem .7rem;border-bottom:1px solid #e3e6ea}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.85em;word-break:break-all}
li.fail{color:#c62828}
";

/// The card as one JSON object: `ok` (and `verified`) true when the card verified and met
/// every policy; `failed_policies` lists those it did not meet.
pub fn json_report(verified: &VerifiedCard, status: &str) -> serde_json::Value {
    let ok = verified.policies_hold();
    json!({
        "ok": ok,
        "verified": ok,
        "status": status,
        "model": verified.signed.subject.name,
        "root_digest": root_digest(verified),
        "signer": verified.signer.as_ref().map(|s| json!({
            "identity": s.identity,
            "issuer": s.issuer,
            "signed_at": s.signed_at,
        })),
        "card": verified.signed.card,
        "policies": verified.policies.iter().map(|p| json!({
            "policy": p.policy,
            "holds": p.holds,
            "detail": p.detail,
        })).collect::<Vec<_>>(),
        "failed_policies": verified.policies.iter().filter(|p| !p.holds).map(|p| &p.policy).collect::<Vec<_>>(),
    })
}

fn json(verified: &VerifiedCard, status: &str) -> String {
    serde_json::to_string_pretty(&json_report(verified, status)).unwrap_or_default() + "\n"
}
