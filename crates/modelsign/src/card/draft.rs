//! `card init`: a draft card from what a model folder already says — a Hugging Face
//! README's YAML front matter (license, datasets, base model, languages, task and the
//! `model-index` evaluation results) and its title and first paragraph,
//! `.eval_results/*.yaml`, `config.json`, a spaCy pipeline's `meta.json` — plus the
//! model's files and root digest.

use std::path::Path;

use serde_norway::Value;

use super::{Dataset, Metric, ModelCard, ModelFacts, ModelSubject};
use crate::error::CardError;
use crate::hashing::{HashSettings, Progress};
use crate::limits;

/// A drafted card, the model it was drafted for, and what the producer should know
/// (results that could not be imported).
#[derive(Debug, Clone)]
pub struct Draft {
    /// The card, filled in from what the folder says, to be edited before signing.
    pub card: ModelCard,
    /// The model it was drafted for: its name and root digest.
    pub subject: ModelSubject,
    /// One line per thing the producer should check, such as a result that was skipped.
    pub notes: Vec<String>,
}

/// Drafts a card for the model at `model_path`, hashing it with `settings`.
pub fn draft(
    model_path: &Path,
    settings: &HashSettings,
    progress: &Progress,
) -> Result<Draft, CardError> {
    let manifest = settings
        .hash_model_with_progress(model_path, progress)
        .map_err(|e| CardError::Verify(e.into()))?;
    let subject = ModelSubject::of_manifest(&manifest);
    let folder = if model_path.is_dir() {
        Some(model_path)
    } else {
        None
    };
    let mut notes = Vec::new();
    // Named by the first source that names it (front matter, meta.json, the README's
    // title), else after the model's file or folder.
    let mut card = ModelCard {
        model: Some(ModelFacts {
            root_digest: subject.root_digest_string(),
            files: manifest
                .resources()
                .iter()
                .map(|r| r.name.clone())
                .collect(),
        }),
        ..ModelCard::default()
    };
    if let Some(folder) = folder {
        let readme = folder.join("README.md");
        if let Some(front_matter) = read_front_matter(&readme)? {
            let origin = format!("{} (front matter)", readme.display());
            let value: Value = super::yaml::from_str(&front_matter, &origin)?;
            apply_front_matter(&mut card, &value, &mut notes);
        }
        apply_spacy_meta(&mut card, &folder.join("meta.json"), &mut notes);
        apply_readme_text(&mut card, &readme);
        apply_eval_results(&mut card, &folder.join(".eval_results"), &mut notes)?;
        apply_config(&mut card, &folder.join("config.json"), &mut notes);
    }
    if card.name.trim().is_empty() {
        card.name.clone_from(&subject.name);
    }
    note_custom_metrics(&card, &mut notes);
    Ok(Draft {
        card,
        subject,
        notes,
    })
}

/// Evaluation results from a JSON or YAML list of `{metric, value, dataset, split, slice,
/// confidence_interval, source, date}`.
pub fn import_evaluations(path: &Path) -> Result<Vec<Metric>, CardError> {
    let text =
        limits::read_input_text(path, limits::MAX_CARD_FILE).map_err(|source| CardError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    super::yaml::from_str(&text, &path.display().to_string()).map_err(|e| match e {
        CardError::Syntax { origin, reason } => CardError::Syntax {
            origin,
            reason: format!(
                "{reason} (expected a list of {{metric, value, dataset, split, source, date}})"
            ),
        },
        other => other,
    })
}

/// The most bytes `card init` reads of a metadata file in the model folder
/// (`config.json`, `.eval_results/*.yaml`): 16 MiB. They are a few KB; a `config.json`
/// with labels for tens of thousands of classes is about a MiB. Larger ones are skipped
/// with a note. (Of `README.md` only the front matter is read, bounded by
/// [`super::MAX_YAML_BYTES`].)
pub const MAX_METADATA_FILE_BYTES: u64 = 16 << 20;

/// Reads at most `limit` bytes of a regular file: `None` when it is absent, not a regular
/// file (a FIFO would block, a device never end), or unreadable, since `card init` only
/// drafts from what it can read; `Some((text, complete))` otherwise, the text cut to whole
/// UTF-8 characters, `complete` false when the file is longer than `limit`.
fn read_prefix(path: &Path, limit: u64) -> Option<(String, bool)> {
    let (bytes, complete) = limits::read_input_prefix(path, limit).ok()?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        // Cut in the middle of a character by the limit: keep the whole ones.
        Err(e) if !complete && e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).ok()?
        }
        Err(_) => return None,
    };
    Some((text, complete))
}

/// A JSON metadata file of the model folder (`config.json`, `meta.json`): `None` when it is
/// absent, unreadable or not JSON, and also, with a note, when it is larger than
/// [`MAX_METADATA_FILE_BYTES`]. serde_json refuses nesting deeper than 128 levels (its
/// default recursion limit, kept: the `unbounded_depth` feature is not enabled), so a
/// hostile file is skipped like any unparsable one.
fn read_metadata_json(path: &Path, notes: &mut Vec<String>) -> Option<serde_json::Value> {
    let (text, complete) = read_prefix(path, MAX_METADATA_FILE_BYTES)?;
    if !complete {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        notes.push(format!(
            "{name}: skipped, larger than {MAX_METADATA_FILE_BYTES} bytes (MAX_METADATA_FILE_BYTES)"
        ));
        return None;
    }
    serde_json::from_str(&text).ok()
}

/// The README's front matter, if it has one; an error when it is larger than
/// [`super::MAX_YAML_BYTES`] (only that much of the README, plus its delimiters, is read).
pub(crate) fn read_front_matter(readme: &Path) -> Result<Option<String>, CardError> {
    const DELIMITERS: u64 = 16;
    let limit = super::MAX_YAML_BYTES as u64 + DELIMITERS;
    let Some((text, complete)) = read_prefix(readme, limit) else {
        return Ok(None);
    };
    if let Some(front_matter) = front_matter(&text) {
        return Ok(Some(front_matter.to_owned()));
    }
    let opens_front_matter = text.trim_start_matches('\u{feff}').starts_with("---");
    if !complete && opens_front_matter {
        return Err(CardError::Syntax {
            origin: format!("{} (front matter)", readme.display()),
            reason: format!(
                "the front matter does not end within {} bytes (1 MiB), the most a model card's YAML may have (MAX_YAML_BYTES)",
                super::MAX_YAML_BYTES
            ),
        });
    }
    Ok(None)
}

/// The YAML between a leading `---` line and the next `---` line.
fn front_matter(text: &str) -> Option<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let end = rest.match_indices("\n---").map(|(i, _)| i).find(|&i| {
        let after = &rest[i + 4..];
        after.is_empty() || after.starts_with('\n') || after.starts_with("\r\n")
    })?;
    Some(&rest[..end + 1])
}

/// The most characters of a description `card init` takes from the README or `meta.json`:
/// a summary for the card, not the whole model documentation.
pub const MAX_DRAFTED_DESCRIPTION_CHARS: usize = 1_000;

/// `text` as a drafted card field: trimmed, control characters made visible (line breaks
/// kept), cut to [`MAX_DRAFTED_DESCRIPTION_CHARS`] with an ellipsis.
fn drafted_text(text: &str) -> String {
    let text = crate::text::printable_lines(text.trim());
    match text.char_indices().nth(MAX_DRAFTED_DESCRIPTION_CHARS) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.into_owned(),
    }
}

/// The README's title (its first `# ` heading) and the first paragraph of prose after
/// it, for the name and description the front matter and `meta.json` left unset.
fn apply_readme_text(card: &mut ModelCard, readme: &Path) {
    if !card.name.trim().is_empty() && card.description.is_some() {
        return;
    }
    let Some((text, _)) = read_prefix(readme, MAX_METADATA_FILE_BYTES) else {
        return;
    };
    let (title, paragraph) = title_and_first_paragraph(&text);
    if card.name.trim().is_empty() {
        if let Some(title) = title {
            card.name = drafted_text(&title.replace(['\r', '\n'], " "));
        }
    }
    if card.description.is_none() {
        card.description = paragraph.map(|p| drafted_text(&p));
    }
}

/// The first `# ` heading of a Markdown text after its front matter, and the first
/// paragraph of prose after that heading (or from the start, without one): lines joined
/// by spaces, skipping headings, code blocks, tables, lists, quotes, HTML and badge or
/// image lines, which a card's description should not begin with.
fn title_and_first_paragraph(text: &str) -> (Option<String>, Option<String>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = match front_matter(text) {
        Some(yaml) => {
            let start = text.find(yaml).map_or(0, |i| i + yaml.len());
            let rest = &text[start..];
            rest.strip_prefix("---").unwrap_or(rest)
        }
        None => text,
    };
    let mut title = None;
    let mut paragraph: Vec<&str> = Vec::new();
    let mut in_code = false;
    for line in body.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            if !paragraph.is_empty() {
                break;
            }
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(heading) = trimmed.strip_prefix("# ") {
            if title.is_none() && paragraph.is_empty() {
                title = Some(heading.trim().to_owned());
                continue;
            }
        }
        let prose = !trimmed.is_empty()
            && !trimmed.starts_with('#')
            && !trimmed.starts_with(['|', '<', '>', '-', '*', '+', '!', '['])
            && !trimmed.starts_with("---");
        if prose {
            paragraph.push(trimmed);
        } else if !paragraph.is_empty() {
            break;
        }
    }
    let paragraph = (!paragraph.is_empty()).then(|| paragraph.join(" "));
    (title, paragraph)
}

/// A spaCy pipeline's `meta.json`: name `<lang>_<name>`, version, license, description,
/// author, its `sources` as training datasets and the numeric scores of `performance`.
/// A `meta.json` without `lang` and `name` is some other tool's, and left alone.
fn apply_spacy_meta(card: &mut ModelCard, path: &Path, notes: &mut Vec<String>) {
    let Some(meta) = read_metadata_json(path, notes) else {
        return;
    };
    let (Some(lang), Some(name)) = (meta["lang"].as_str(), meta["name"].as_str()) else {
        return;
    };
    let text_field = |key: &str| {
        meta[key]
            .as_str()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(drafted_text)
    };
    if card.name.trim().is_empty() {
        card.name = drafted_text(&format!("{lang}_{name}"));
    }
    card.version = card.version.take().or_else(|| text_field("version"));
    card.license = card.license.take().or_else(|| text_field("license"));
    card.description = card
        .description
        .take()
        .or_else(|| text_field("description"));
    if card.authors.is_empty() {
        card.authors.extend(text_field("author"));
    }
    if card.languages.is_empty() {
        card.languages.push(drafted_text(lang));
    }
    for source in meta["sources"].as_array().into_iter().flatten() {
        let Some(source_name) = source["name"].as_str() else {
            continue;
        };
        let source_name = drafted_text(source_name);
        add_dataset(card, &source_name, "training");
        let dataset = card.datasets.iter_mut().find(|d| d.name == source_name);
        if let (Some(dataset), Some(url)) = (dataset, source["url"].as_str()) {
            dataset.url = dataset.url.take().or_else(|| Some(drafted_text(url)));
        }
    }
    let Some(performance) = meta["performance"].as_object() else {
        return;
    };
    // Per-label breakdowns (`ents_per_type`, ...) are objects: only the totals are scores.
    for (key, value) in performance {
        if let Some(value) = value.as_f64().filter(|v| v.is_finite()) {
            card.metrics.push(Metric {
                metric: drafted_text(key),
                value,
                source: Some("meta.json performance".into()),
                ..Metric::default()
            });
        }
    }
}

/// Tells the producer which drafted metrics signing refuses unless custom metrics are
/// allowed, so they can check the names before signing.
fn note_custom_metrics(card: &ModelCard, notes: &mut Vec<String>) {
    let custom = card.unknown_metrics();
    if !custom.is_empty() {
        notes.push(format!(
            "not common metric names: {}; check them, then sign allowing custom metric names (or rename them)",
            custom.join(", ")
        ));
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().filter_map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    }
}

fn add_dataset(card: &mut ModelCard, name: &str, role: &str) {
    if name.is_empty() || card.datasets.iter().any(|d| d.name == name) {
        return;
    }
    card.datasets.push(Dataset {
        name: name.to_owned(),
        role: Some(role.to_owned()),
        ..Dataset::default()
    });
}

fn apply_front_matter(card: &mut ModelCard, fm: &Value, notes: &mut Vec<String>) {
    if let Some(description) = fm.get("description").and_then(scalar_text) {
        card.description = Some(drafted_text(&description)).filter(|d| !d.is_empty());
    }
    if let Some(license) = fm.get("license").and_then(scalar_text) {
        card.license = if license == "other" {
            fm.get("license_name")
                .and_then(scalar_text)
                .or(Some(license))
        } else {
            Some(license)
        };
    }
    if let Some(datasets) = fm.get("datasets") {
        for name in strings(datasets) {
            add_dataset(card, &name, "training");
        }
    }
    if let Some(base) = fm.get("base_model") {
        card.base_models = strings(base);
    }
    if let Some(languages) = fm.get("language") {
        card.languages = strings(languages);
    }
    if let Some(task) = fm.get("pipeline_tag").and_then(scalar_text) {
        card.task = Some(task);
    }
    let Some(Value::Sequence(index)) = fm.get("model-index") else {
        return;
    };
    for entry in index {
        if let Some(name) = entry.get("name").and_then(scalar_text) {
            card.name = name;
        }
        let Some(Value::Sequence(results)) = entry.get("results") else {
            continue;
        };
        for result in results {
            let dataset = result.get("dataset");
            let field = |key: &str| dataset.and_then(|d| d.get(key)).and_then(scalar_text);
            let dataset_name = field("type").or_else(|| field("name"));
            let source = result.get("source").and_then(|s| {
                s.get("name")
                    .and_then(scalar_text)
                    .or_else(|| s.get("url").and_then(scalar_text))
            });
            if let Some(name) = &dataset_name {
                add_dataset(card, name, "evaluation");
            }
            let Some(Value::Sequence(metrics)) = result.get("metrics") else {
                continue;
            };
            for metric in metrics {
                let Some(kind) = metric
                    .get("type")
                    .and_then(scalar_text)
                    .or_else(|| metric.get("name").and_then(scalar_text))
                else {
                    notes.push("skipped a model-index metric without a type".into());
                    continue;
                };
                let Some(value) = metric.get("value").and_then(number) else {
                    notes.push(format!(
                        "skipped model-index metric '{kind}': its value is not a number"
                    ));
                    continue;
                };
                card.metrics.push(Metric {
                    metric: kind,
                    value,
                    dataset: dataset_name.clone(),
                    split: field("split"),
                    slice: field("config"),
                    source: source.clone(),
                    ..Metric::default()
                });
            }
        }
    }
}

/// Hugging Face's `.eval_results/*.yaml`: lists of `{dataset: {id, task_id}, value, date,
/// source: {name, url}, notes}`. The benchmark (task id, else the dataset's name) is the
/// metric's name.
fn apply_eval_results(
    card: &mut ModelCard,
    folder: &Path,
    notes: &mut Vec<String>,
) -> Result<(), CardError> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    for file in files {
        let Some((text, complete)) = read_prefix(&file, MAX_METADATA_FILE_BYTES) else {
            continue;
        };
        if !complete {
            notes.push(format!(
                "{}: skipped, larger than {MAX_METADATA_FILE_BYTES} bytes (MAX_METADATA_FILE_BYTES)",
                file.display()
            ));
            continue;
        }
        let value: Value = super::yaml::from_str(&text, &file.display().to_string())?;
        let items = match value {
            Value::Sequence(items) => items,
            other => vec![other],
        };
        for item in items {
            let dataset = item.get("dataset");
            let id = dataset.and_then(|d| d.get("id")).and_then(scalar_text);
            let task = dataset.and_then(|d| d.get("task_id")).and_then(scalar_text);
            let Some(metric) = task.clone().or_else(|| {
                id.as_ref()
                    .map(|id| id.rsplit('/').next().unwrap_or(id).to_owned())
            }) else {
                notes.push(format!(
                    "{}: skipped a result without a dataset",
                    file.display()
                ));
                continue;
            };
            let Some(value) = item.get("value").and_then(number) else {
                notes.push(format!(
                    "{}: skipped '{metric}': its value is not a number",
                    file.display()
                ));
                continue;
            };
            if let Some(id) = &id {
                add_dataset(card, id, "evaluation");
            }
            let source = item.get("source").and_then(|s| {
                s.get("name")
                    .and_then(scalar_text)
                    .or_else(|| s.get("url").and_then(scalar_text))
            });
            card.metrics.push(Metric {
                metric,
                value,
                dataset: id,
                slice: item.get("notes").and_then(scalar_text),
                source,
                date: item.get("date").and_then(scalar_text),
                ..Metric::default()
            });
        }
    }
    Ok(())
}

fn apply_config(card: &mut ModelCard, path: &Path, notes: &mut Vec<String>) {
    let Some(config) = read_metadata_json(path, notes) else {
        return;
    };
    card.architecture = config["architectures"][0]
        .as_str()
        .or_else(|| config["model_type"].as_str())
        .map(str::to_owned);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_the_yaml_between_the_dashes() {
        assert_eq!(
            front_matter("---\nlicense: mit\n---\n# Title\n---\n"),
            Some("license: mit\n")
        );
        assert_eq!(front_matter("# no front matter\n"), None);
        assert_eq!(front_matter("---\nunterminated: yes\n"), None);
    }

    #[test]
    fn the_title_is_the_first_h1_and_the_description_the_prose_after_it() {
        let (title, paragraph) = title_and_first_paragraph(
            "---\nlicense: mit\n---\n## Not a title\n# Title\n\n| table |\n- item\n\nOne\ntwo.\n\nThree.\n",
        );
        assert_eq!(title.as_deref(), Some("Title"));
        assert_eq!(paragraph.as_deref(), Some("One two."));
        let (title, paragraph) = title_and_first_paragraph("```\n# code\n```\n");
        assert_eq!((title, paragraph), (None, None));
    }
}
