//! The store's verified statements in the form GUAC's collector (`guacone collect files`)
//! ingests, so that an organisation-wide graph answers what the local store answers.
//!
//! GUAC reads plain in-toto statements (not Sigstore bundles, whose envelope it would try
//! to verify with a key it does not have), one per file. It makes an artifact of each
//! digest, a package of each purl, and a "built from" edge from every resolved dependency
//! to every subject; `guacone query patch` walks those edges down from a package. So:
//! - each provenance is written as its statement, as signed, except that every subject
//!   and dependency with a sha256 digest but no purl gets
//!   `pkg:generic/NAME?checksum=sha256:HEX` — a package of its own, which a query can start
//!   from, and which two unrelated builds never share (GUAC would otherwise name both
//!   `pkg:guac/generic/NAME` and join them through it);
//! - each model card is written as its CycloneDX BOM with the model's purl on
//!   `metadata.component`, a dataset's purl (from its distribution link) on its component,
//!   and without the components' `data` arrays, which GUAC 1.1.0's CycloneDX reader
//!   (cyclonedx-go 0.9.2, CycloneDX/cyclonedx-go#242) refuses.
//!
//! `tests/guac/` runs GUAC itself on an export and compares its answers with `impact`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::store::Store;
use crate::atomic_file::{shared_file_mode, StagedFile};
use crate::error::LineageError;

/// What an export wrote.
#[derive(Debug, Default)]
pub struct GuacExport {
    /// The files written, in store order.
    pub files: Vec<PathBuf>,
    /// The purl each exported artifact has in GUAC, by artifact key (`sha256:<hex>`):
    /// what `guacone query patch --start-purl` starts from.
    pub purls: BTreeMap<String, String>,
}

/// The purl GUAC knows an artifact by when it has none of its own.
pub fn generic_purl(name: &str, sha256_hex: &str) -> String {
    let name = if name.is_empty() { "artifact" } else { name };
    format!(
        "pkg:generic/{}?checksum=sha256:{sha256_hex}",
        percent_encode(name)
    )
}

/// Percent-encodes all but the unreserved characters of RFC 3986, as a purl's name needs.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Gives a resource descriptor (a subject or a dependency) a purl when it has a sha256
/// digest and no purl; records the purl it ends up with.
fn own_purl(resource: &mut Value, purls: &mut BTreeMap<String, String>) {
    let Some(hex) = resource
        .pointer("/digest/sha256")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    let uri = resource
        .get("uri")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let purl = if uri.starts_with("pkg:") {
        uri.to_owned()
    } else {
        let name = resource
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let purl = generic_purl(name, &hex);
        resource["uri"] = Value::String(purl.clone());
        purl
    };
    purls.entry(format!("sha256:{hex}")).or_insert(purl);
}

/// A file name from a label: letters, digits, `.`, `-` and `_`; anything else `_`.
fn file_name(label: &str) -> String {
    let name: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if name.is_empty() {
        "artifact".into()
    } else {
        name
    }
}

/// Writes every stored provenance and model card into `dir` (created; it must be empty
/// when it exists, so that GUAC ingests this export and nothing else).
pub fn export_guac(store: &mut Store, dir: &Path) -> Result<GuacExport, LineageError> {
    let failed = |reason: String| LineageError::Write {
        path: dir.to_path_buf(),
        reason,
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| failed(e.to_string()))?;
        if entries.next().is_some() {
            return Err(failed(
                "the export folder is not empty: GUAC would ingest whatever else is in it".into(),
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
    let mut export = GuacExport::default();
    let mut statements = Vec::new();
    for (_, kind, statement) in store.statements()? {
        let Ok(value) = serde_json::from_str::<Value>(&statement) else {
            continue;
        };
        statements.push((kind, value));
    }
    // Provenance first: a card takes its model's purl from it when there is one.
    let mut cards = Vec::new();
    for (index, (kind, mut statement)) in statements.into_iter().enumerate() {
        match kind.as_str() {
            "provenance" => {
                if let Some(subjects) = statement.get_mut("subject").and_then(Value::as_array_mut) {
                    subjects
                        .iter_mut()
                        .for_each(|s| own_purl(s, &mut export.purls));
                }
                if let Some(dependencies) = statement
                    .pointer_mut("/predicate/buildDefinition/resolvedDependencies")
                    .and_then(Value::as_array_mut)
                {
                    dependencies
                        .iter_mut()
                        .for_each(|d| own_purl(d, &mut export.purls));
                }
                let label = statement
                    .pointer("/subject/0/name")
                    .and_then(Value::as_str)
                    .unwrap_or("artifact");
                let name = format!("{index:05}-{}.provenance.intoto.json", file_name(label));
                export.files.push(write(dir, &name, &statement)?);
            }
            "card" => cards.push((index, statement)),
            _ => {}
        }
    }
    for (index, statement) in cards {
        let Some(subject) = statement.pointer("/subject/0").cloned() else {
            continue;
        };
        let mut subject = subject;
        own_purl(&mut subject, &mut export.purls);
        let Some(mut bom) = statement.get("predicate").cloned() else {
            continue;
        };
        // The model's purl as GUAC knows it: the one its provenance gave it, when there is
        // one, so that the card joins the package the provenance built.
        let purl = subject
            .pointer("/digest/sha256")
            .and_then(Value::as_str)
            .and_then(|hex| export.purls.get(&format!("sha256:{hex}")))
            .cloned();
        if let (Some(purl), Some(component)) = (purl, bom.pointer_mut("/metadata/component")) {
            component["purl"] = Value::String(purl);
        }
        if let Some(components) = bom.get_mut("components").and_then(Value::as_array_mut) {
            for component in components {
                if let Some(object) = component.as_object_mut() {
                    object.remove("data");
                }
                let distribution = component
                    .get("externalReferences")
                    .and_then(Value::as_array)
                    .and_then(|refs| {
                        refs.iter()
                            .filter_map(|r| r.get("url").and_then(Value::as_str))
                            .find(|url| url.starts_with("pkg:"))
                            .map(str::to_owned)
                    });
                if let Some(purl) = distribution {
                    component["purl"] = Value::String(purl);
                }
            }
        }
        let label = subject
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("model");
        let name = format!("{index:05}-{}.card.cdx.json", file_name(label));
        export.files.push(write(dir, &name, &bom)?);
    }
    Ok(export)
}

fn write(dir: &Path, name: &str, value: &Value) -> Result<PathBuf, LineageError> {
    let path = dir.join(name);
    let text = serde_json::to_vec_pretty(value).unwrap_or_default();
    let staged = StagedFile::write(&path, ".export-", &text, shared_file_mode());
    staged
        .and_then(|file| file.create(&path))
        .map_err(|e| LineageError::Write {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    Ok(path)
}
