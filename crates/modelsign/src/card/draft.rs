//! `card init`: a draft card from what a model folder already says — a Hugging Face
//! README's YAML front matter (license, datasets, base model, languages, task and the
//! `model-index` evaluation results), `.eval_results/*.yaml`, `config.json` — plus the
//! model's files and root digest.

use std::path::Path;

use serde_norway::Value;

use super::{CardSubject, Dataset, Metric, ModelCard, ModelFacts};
use crate::error::CardError;
use crate::hashing::{HashSettings, Progress};
use crate::limits;

/// A drafted card, the model it was drafted for, and what the producer should know
/// (results that could not be imported).
#[derive(Debug, Clone)]
pub struct Draft {
    pub card: ModelCard,
    pub subject: CardSubject,
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
    let subject = CardSubject::of_manifest(&manifest);
    let folder = if model_path.is_dir() {
        Some(model_path)
    } else {
        None
    };
    let mut notes = Vec::new();
    let mut card = ModelCard {
        name: subject.name.clone(),
        model: Some(ModelFacts {
            root_digest: subject.root_digest_string(),
            files: manifest.resources.iter().map(|r| r.name.clone()).collect(),
        }),
        ..ModelCard::default()
    };
    if let Some(folder) = folder {
        let readme = folder.join("README.md");
        if let Ok(text) = limits::read_input_text(&readme, limits::MAX_CARD_FILE) {
            if let Some(front_matter) = front_matter(&text) {
                let value: Value =
                    serde_norway::from_str(front_matter).map_err(|e| CardError::Syntax {
                        origin: format!("{} (front matter)", readme.display()),
                        reason: e.to_string(),
                    })?;
                apply_front_matter(&mut card, &value, &mut notes);
            }
        }
        apply_eval_results(&mut card, &folder.join(".eval_results"), &mut notes)?;
        apply_config(&mut card, &folder.join("config.json"));
    }
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
    serde_norway::from_str(&text).map_err(|e| CardError::Syntax {
        origin: path.display().to_string(),
        reason: format!("{e} (expected a list of {{metric, value, dataset, split, source, date}})"),
    })
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
        let text = limits::read_input_text(&file, limits::MAX_CARD_FILE).map_err(|source| {
            CardError::Io {
                path: file.clone(),
                source,
            }
        })?;
        let value: Value = serde_norway::from_str(&text).map_err(|e| CardError::Syntax {
            origin: file.display().to_string(),
            reason: e.to_string(),
        })?;
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

fn apply_config(card: &mut ModelCard, path: &Path) {
    let Ok(text) = limits::read_input_text(path, limits::MAX_CARD_FILE) else {
        return;
    };
    let Ok(config) = serde_json::from_str::<serde_json::Value>(&text) else {
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
}
