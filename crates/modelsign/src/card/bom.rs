//! A card as a CycloneDX 1.6 BOM, and back. The model is the BOM's subject
//! (`metadata.component`, type `machine-learning-model`) with a `modelCard`; datasets are
//! `data` components it depends on. CycloneDX has no place for a metric's dataset and split,
//! a dataset's role or the OMS hashing settings, so those travel as `modelsign:*` properties
//! and reading a card back is lossless.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{
    serialization_parts, ConfidenceInterval, Considerations, Dataset, Metric, ModelCard,
    ModelSubject,
};
use crate::error::CardError;
use crate::serialization::{HashAlgorithm, Serialization, SerializationRecord};

const PROPERTY_PREFIX: &str = "modelsign:";

/// The CycloneDX 1.6 BOM of a card about `subject`.
pub fn to_bom(card: &ModelCard, subject: &ModelSubject) -> Value {
    let timestamp = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut properties = Vec::new();
    let mut property = |name: &str, value: String| {
        properties.push(json!({ "name": format!("{PROPERTY_PREFIX}{name}"), "value": value }));
    };
    let record = &subject.serialization;
    property("oms:root_digest", subject.root_digest_string());
    property("oms:hash_type", record.hash_type.as_str().to_owned());
    let (method, shard_size) = serialization_parts(record);
    property("oms:serialization", method.to_owned());
    if let Some(size) = shard_size {
        property("oms:shard_size", size.to_string());
    }
    property("oms:allow_symlinks", record.allow_symlinks.to_string());
    for path in &record.ignore_paths {
        property("oms:ignore_path", path.clone());
    }
    if let Some(license) = &card.license {
        property("license", license.clone());
    }
    for model in &card.base_models {
        property("base_model", model.clone());
    }
    for language in &card.languages {
        property("language", language.clone());
    }
    for (i, metric) in card.metrics.iter().enumerate() {
        let mut field = |name: &str, value: &Option<String>| {
            if let Some(value) = value {
                property(&format!("metric:{i}:{name}"), value.clone());
            }
        };
        field("dataset", &metric.dataset);
        field("split", &metric.split);
        field("slice", &metric.slice);
        field("source", &metric.source);
        field("date", &metric.date);
    }

    let datasets: Vec<Value> = card
        .datasets
        .iter()
        .enumerate()
        .map(|(i, dataset)| dataset_component(i, dataset))
        .collect();
    let dataset_refs: Vec<Value> = (0..card.datasets.len())
        .map(|i| json!({ "ref": format!("dataset-{i}") }))
        .collect();

    let mut model_parameters = Map::new();
    if let Some(task) = &card.task {
        model_parameters.insert("task".into(), json!(task));
    }
    if let Some(architecture) = &card.architecture {
        model_parameters.insert("modelArchitecture".into(), json!(architecture));
    }
    if !dataset_refs.is_empty() {
        model_parameters.insert("datasets".into(), Value::Array(dataset_refs));
    }
    let metrics: Vec<Value> = card.metrics.iter().map(performance_metric).collect();
    let mut model_card = Map::new();
    model_card.insert("bom-ref".into(), json!("model-card"));
    if !model_parameters.is_empty() {
        model_card.insert("modelParameters".into(), Value::Object(model_parameters));
    }
    if !metrics.is_empty() {
        model_card.insert(
            "quantitativeAnalysis".into(),
            json!({ "performanceMetrics": metrics }),
        );
    }
    let considerations = considerations(&card.considerations);
    if !considerations.is_empty() {
        model_card.insert("considerations".into(), Value::Object(considerations));
    }

    let mut model = Map::new();
    model.insert("type".into(), json!("machine-learning-model"));
    model.insert("bom-ref".into(), json!("model"));
    model.insert("name".into(), json!(card.name));
    if let Some(version) = &card.version {
        model.insert("version".into(), json!(version));
    }
    if let Some(description) = &card.description {
        model.insert("description".into(), json!(description));
    }
    if !card.authors.is_empty() {
        let authors: Vec<Value> = card.authors.iter().map(|a| json!({ "name": a })).collect();
        model.insert("authors".into(), Value::Array(authors));
    }
    model.insert(
        "hashes".into(),
        json!([{ "alg": "SHA-256", "content": base16ct::lower::encode_string(&subject.root_digest) }]),
    );
    if let Some(license) = &card.license {
        model.insert("licenses".into(), license_choice(license));
    }
    model.insert("modelCard".into(), Value::Object(model_card));
    model.insert("properties".into(), Value::Array(properties));

    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number(subject, card, &timestamp),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": { "components": [{
                "type": "application",
                "name": "modelsign",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": Value::Object(model),
        },
    });
    if !datasets.is_empty() {
        bom["components"] = Value::Array(datasets);
        bom["dependencies"] = json!([{
            "ref": "model",
            "dependsOn": (0..card.datasets.len()).map(|i| format!("dataset-{i}")).collect::<Vec<_>>(),
        }]);
    }
    bom
}

fn dataset_component(index: usize, dataset: &Dataset) -> Value {
    let mut component = json!({
        "type": "data",
        "bom-ref": format!("dataset-{index}"),
        "name": dataset.name,
        "data": [{ "type": "dataset", "name": dataset.name }],
    });
    if let Some(bytes) = dataset.digest.as_deref().and_then(super::parse_sha256) {
        component["hashes"] =
            json!([{ "alg": "SHA-256", "content": base16ct::lower::encode_string(&bytes) }]);
    }
    if let Some(url) = &dataset.url {
        component["externalReferences"] = json!([{ "type": "distribution", "url": url }]);
    }
    if let Some(role) = &dataset.role {
        component["properties"] = json!([{ "name": "modelsign:dataset_role", "value": role }]);
    }
    component
}

fn performance_metric(metric: &Metric) -> Value {
    let mut value = json!({ "type": metric.metric, "value": number(metric.value) });
    let slice: Vec<String> = [
        metric.dataset.as_ref().map(|d| format!("dataset {d}")),
        metric.split.as_ref().map(|s| format!("split {s}")),
        metric.slice.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !slice.is_empty() {
        value["slice"] = json!(slice.join(", "));
    }
    if let Some(ci) = metric.confidence_interval {
        value["confidenceInterval"] =
            json!({ "lowerBound": number(ci.lower), "upperBound": number(ci.upper) });
    }
    value
}

/// Shortest text that reads back as the same `f64`.
fn number(value: f64) -> String {
    format!("{value}")
}

fn considerations(c: &Considerations) -> Map<String, Value> {
    let mut map = Map::new();
    if !c.users.is_empty() {
        map.insert("users".into(), json!(c.users));
    }
    if !c.use_cases.is_empty() {
        map.insert("useCases".into(), json!(c.use_cases));
    }
    if !c.limitations.is_empty() {
        map.insert("technicalLimitations".into(), json!(c.limitations));
    }
    if !c.ethical.is_empty() {
        let ethical: Vec<Value> = c.ethical.iter().map(|e| json!({ "name": e })).collect();
        map.insert("ethicalConsiderations".into(), Value::Array(ethical));
    }
    map
}

/// Common license identifiers as the Hugging Face Hub spells them (lower case), mapped to
/// their SPDX identifiers, which the CycloneDX schema requires in `license.id`.
const SPDX_LICENSES: &[&str] = &[
    "Apache-2.0",
    "MIT",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "GPL-2.0-only",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "LGPL-2.1-only",
    "LGPL-3.0-only",
    "AGPL-3.0-only",
    "MPL-2.0",
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-NC-ND-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-3.0",
    "CC-BY-SA-3.0",
    "OpenRAIL",
    "Unlicense",
    "BSL-1.0",
    "Artistic-2.0",
    "EPL-2.0",
    "ISC",
    "Zlib",
    "WTFPL",
    "AFL-3.0",
    "ECL-2.0",
    "EUPL-1.2",
    "OSL-3.0",
    "PDDL-1.0",
    "ODbL-1.0",
    "ODC-By-1.0",
    "LLAMA2",
];

fn license_choice(license: &str) -> Value {
    let trimmed = license.trim();
    let known = SPDX_LICENSES
        .iter()
        .find(|id| id.eq_ignore_ascii_case(trimmed) && **id != "LLAMA2" && **id != "OpenRAIL");
    if let Some(id) = known {
        return json!([{ "license": { "id": id } }]);
    }
    if [" OR ", " AND ", " WITH "]
        .iter()
        .any(|op| trimmed.contains(op))
    {
        return json!([{ "expression": trimmed }]);
    }
    json!([{ "license": { "name": trimmed } }])
}

/// A `urn:uuid:` unique to this card, subject and time (a version-4 layout over a hash:
/// nothing random is needed, only uniqueness).
fn serial_number(subject: &ModelSubject, card: &ModelCard, timestamp: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(subject.root_digest);
    hasher.update(serde_json::to_vec(card).unwrap_or_default());
    hasher.update(timestamp.as_bytes());
    let mut bytes: [u8; 16] = hasher.finalize()[..16].try_into().unwrap_or([0u8; 16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = base16ct::lower::encode_string(&bytes);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Reads a card and the OMS hashing settings back from a BOM this module wrote. BOMs from
/// other tools are read as far as CycloneDX allows (no dataset or split per metric).
pub fn from_bom(bom: &Value) -> Result<(ModelCard, SerializationRecord), CardError> {
    let bad = |reason: &str| CardError::NotACard(format!("the CycloneDX BOM {reason}"));
    if bom["bomFormat"] != "CycloneDX" {
        return Err(bad("is not one: bomFormat is not CycloneDX"));
    }
    let model = &bom["metadata"]["component"];
    if model["type"] != "machine-learning-model" {
        return Err(bad(
            "does not describe a model: metadata.component is not a machine-learning-model",
        ));
    }
    let properties = Properties::of(model);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let model_card = &model["modelCard"];

    let mut metrics = Vec::new();
    for (i, m) in array(&model_card["quantitativeAnalysis"]["performanceMetrics"])
        .iter()
        .enumerate()
    {
        let name = text(&m["type"]).unwrap_or_default();
        let value = m["value"]
            .as_str()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .or_else(|| m["value"].as_f64())
            .ok_or_else(|| {
                CardError::NotACard(format!(
                    "metric '{name}' has no numeric value ({})",
                    m["value"]
                ))
            })?;
        let field = |f: &str| properties.first(&format!("metric:{i}:{f}"));
        let written_by_us = properties.first("oms:root_digest").is_some();
        let confidence_interval = {
            let ci = &m["confidenceInterval"];
            let bound = |b: &Value| b.as_str().and_then(|s| s.parse::<f64>().ok());
            match (bound(&ci["lowerBound"]), bound(&ci["upperBound"])) {
                (Some(lower), Some(upper)) => Some(ConfidenceInterval { lower, upper }),
                _ => None,
            }
        };
        metrics.push(Metric {
            metric: name,
            value,
            dataset: field("dataset"),
            split: field("split"),
            slice: if written_by_us {
                field("slice")
            } else {
                text(&m["slice"])
            },
            confidence_interval,
            source: field("source"),
            date: field("date"),
        });
    }

    let mut datasets = Vec::new();
    for component in array(&bom["components"]) {
        if component["type"] != "data" {
            continue;
        }
        let digest = array(&component["hashes"])
            .iter()
            .find(|h| h["alg"] == "SHA-256")
            .and_then(|h| h["content"].as_str())
            .map(|hex| format!("sha256:{hex}"));
        let url = array(&component["externalReferences"])
            .first()
            .and_then(|r| r["url"].as_str())
            .map(str::to_owned);
        datasets.push(Dataset {
            name: text(&component["name"]).unwrap_or_default(),
            role: Properties::of(component).first("dataset_role"),
            digest,
            url,
        });
    }

    let c = &model_card["considerations"];
    let strings = |v: &Value| -> Vec<String> {
        array(v)
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let considerations = Considerations {
        users: strings(&c["users"]),
        use_cases: strings(&c["useCases"]),
        limitations: strings(&c["technicalLimitations"]),
        ethical: array(&c["ethicalConsiderations"])
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect(),
    };
    let license = properties.first("license").or_else(|| {
        array(&model["licenses"]).first().and_then(|l| {
            text(&l["expression"])
                .or_else(|| text(&l["license"]["id"]))
                .or_else(|| text(&l["license"]["name"]))
        })
    });
    let card = ModelCard {
        name: text(&model["name"]).unwrap_or_default(),
        version: text(&model["version"]),
        description: text(&model["description"]),
        license,
        authors: array(&model["authors"])
            .iter()
            .filter_map(|a| a["name"].as_str().map(str::to_owned))
            .collect(),
        base_models: properties.all("base_model"),
        languages: properties.all("language"),
        task: text(&model_card["modelParameters"]["task"]),
        architecture: text(&model_card["modelParameters"]["modelArchitecture"]),
        datasets,
        metrics,
        considerations,
        model: None,
    };

    let hash_type = match properties.first("oms:hash_type") {
        Some(name) => name
            .parse::<HashAlgorithm>()
            .map_err(|_| CardError::NotACard(format!("unknown OMS hash type '{name}'")))?,
        None => return Err(bad(
            "does not record how the model's root digest was computed (modelsign:oms:* properties)",
        )),
    };
    let serialization = match properties.first("oms:serialization").as_deref() {
        Some("files") | None => Serialization::Files,
        Some("shards") => Serialization::Shards {
            shard_size: properties
                .first("oms:shard_size")
                .and_then(|s| s.parse().ok())
                .filter(|&s| s > 0)
                .ok_or_else(|| bad("records shards without a valid shard size"))?,
        },
        Some(other) => {
            return Err(CardError::NotACard(format!(
                "unknown OMS serialization '{other}'"
            )))
        }
    };
    let record = SerializationRecord {
        serialization,
        hash_type,
        allow_symlinks: properties.first("oms:allow_symlinks").as_deref() == Some("true"),
        ignore_paths: properties.all("oms:ignore_path"),
    };
    Ok((card, record))
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The `modelsign:` properties of a component.
struct Properties(Vec<(String, String)>);

impl Properties {
    fn of(component: &Value) -> Self {
        Properties(
            array(&component["properties"])
                .iter()
                .filter_map(|p| {
                    let name = p["name"].as_str()?.strip_prefix(PROPERTY_PREFIX)?;
                    Some((name.to_owned(), p["value"].as_str()?.to_owned()))
                })
                .collect(),
        )
    }

    fn first(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}
