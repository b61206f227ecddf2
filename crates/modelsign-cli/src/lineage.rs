//! `modelsign lineage …`: ingesting attestations into the lineage store and querying it,
//! over the library's `lineage` module.

use std::path::PathBuf;

use modelsign::error::{Classify, LineageError};
use modelsign::lineage::render::{self, Format};
use modelsign::lineage::{self, Artifact, Store, TrustPolicy};
use modelsign::text::printable;
use serde_json::json;

use crate::args::{
    LineageCommand, LineageExportArgs, LineageFormatArg, LineageGraphArgs, LineageIngestArgs,
    LineagePathArgs, LineageQueryArgs, LineageStoreArgs, OutputArgs,
};
use crate::failure::Failure;
use crate::progress;
use crate::settings::count;

pub fn run(command: &LineageCommand) -> Result<(), Failure> {
    match command {
        LineageCommand::Ingest(args) => ingest(args),
        LineageCommand::Show(args) => show(args),
        LineageCommand::Impact(args) => impact(args),
        LineageCommand::WhoSigned(args) => who_signed(args),
        LineageCommand::Path(args) => path(args),
        LineageCommand::Graph(args) => graph(args),
        LineageCommand::Export(args) => export(args),
    }
}

fn failure(error: LineageError) -> Failure {
    Failure::of(error.is_input_error(), error)
}

/// Where the store is, how [`Store`] opens it: created by an ingest, only found by the
/// rest (a query of a mistyped `--db` must not answer from an empty store it made).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opening {
    CreateWhenAbsent,
    MustExist,
}

fn open(args: &LineageStoreArgs, opening: Opening) -> Result<Store, Failure> {
    let path: PathBuf = match &args.db {
        Some(path) => path.clone(),
        None => lineage::store::default_path().ok_or_else(|| {
            Failure::input("no data directory (neither XDG_DATA_HOME nor HOME is set): give --db")
        })?,
    };
    match (path.to_str(), opening) {
        (Some(location), Opening::CreateWhenAbsent) => Store::open(location),
        (Some(location), Opening::MustExist) => Store::open_existing(location),
        // Not UTF-8, so not a URL: a file.
        (None, Opening::CreateWhenAbsent) => Store::open_sqlite(&path),
        (None, Opening::MustExist) => Store::open_existing_sqlite(&path),
    }
    .map_err(failure)
}

fn format(format: LineageFormatArg, output: &OutputArgs) -> Format {
    match (output.json, format) {
        (true, _) | (false, LineageFormatArg::Json) => Format::Json,
        (false, LineageFormatArg::Text) => Format::Text,
        (false, LineageFormatArg::Dot) => Format::Dot,
    }
}

fn print(text: &str, output: &OutputArgs) {
    if !output.quiet || output.json {
        crate::output::raw(text.as_bytes(), 0);
    }
}

fn ingest(args: &LineageIngestArgs) -> Result<(), Failure> {
    let policy = TrustPolicy::read(&args.policy).map_err(|e| failure(e.into()))?;
    let sources = lineage::sources(&args.paths).map_err(failure)?;
    let mut store = open(&args.store, Opening::CreateWhenAbsent)?;
    let report = lineage::ingest(&mut store, &policy, sources).map_err(failure)?;
    let (artifacts, attestations, edges) = store.counts().map_err(failure)?;
    let summary = format!(
        "{} stored, {} already there, {} refused; the store {} holds {}, {} and {}",
        report.stored.len(),
        report.already_stored.len(),
        report.refused.len(),
        printable(store.location()),
        count(usize::try_from(artifacts).unwrap_or(usize::MAX), "artifact"),
        count(
            usize::try_from(attestations).unwrap_or(usize::MAX),
            "attestation"
        ),
        count(usize::try_from(edges).unwrap_or(usize::MAX), "edge"),
    );
    if args.output.json {
        let value = json!({
            "ok": report.ok(),
            "store": store.location(),
            "stored": report.stored.iter().map(|(origin, kind, signer)| json!({"origin": origin, "kind": kind, "trusted_as": signer})).collect::<Vec<_>>(),
            "already_stored": report.already_stored,
            "refused": report.refused.iter().map(|(origin, reason)| json!({"origin": origin, "reason": reason})).collect::<Vec<_>>(),
            "artifacts": artifacts,
            "attestations": attestations,
            "edges": edges,
        });
        // A refusal is printed by main: one JSON object, the failure with this report.
        if !report.ok() {
            return Err(Failure {
                details: Some(value),
                ..Failure::failed(summary)
            });
        }
        crate::output::json(&value, 0);
        return Ok(());
    }
    if !args.output.quiet {
        for (origin, kind, signer) in &report.stored {
            outln!(
                "stored   {kind:<10} {} (trusted as {})",
                printable(origin),
                printable(signer)
            );
        }
    }
    for (origin, reason) in &report.refused {
        warnln!("refused  {}: {}", printable(origin), printable(reason));
    }
    if !report.ok() {
        return Err(Failure::failed(summary));
    }
    if !args.output.quiet {
        outln!("Ingest succeeded: {summary}");
    }
    Ok(())
}

/// The store the query reads, and the artifact `reference` names in it.
fn open_at(
    store: &LineageStoreArgs,
    reference: &str,
    output: &OutputArgs,
) -> Result<(Store, Artifact), Failure> {
    let mut store = open(store, Opening::MustExist)?;
    let artifact = lineage::resolve_reference(&mut store, reference, &progress::for_output(output))
        .map_err(failure)?;
    Ok((store, artifact))
}

/// Runs a query about one artifact and prints its answer.
fn answer(
    args: &LineageQueryArgs,
    query: impl FnOnce(&mut Store, &Artifact, Format) -> Result<String, LineageError>,
) -> Result<(), Failure> {
    let answer = &args.answer;
    let (mut store, artifact) = open_at(&answer.store, &args.reference, &answer.output)?;
    let text =
        query(&mut store, &artifact, format(answer.format, &answer.output)).map_err(failure)?;
    print(&text, &answer.output);
    Ok(())
}

fn show(args: &LineageQueryArgs) -> Result<(), Failure> {
    answer(args, |store, start, format| {
        let links = lineage::ancestry(store, start)?;
        Ok(render::links(start, &links, true, format))
    })
}

fn impact(args: &LineageQueryArgs) -> Result<(), Failure> {
    answer(args, |store, start, format| {
        let impact = lineage::impact(store, start)?;
        render::impact(store, &impact, format)
    })
}

fn who_signed(args: &LineageQueryArgs) -> Result<(), Failure> {
    answer(args, |store, artifact, format| {
        let attestations = store.attestations_about(artifact.id)?;
        Ok(render::attestations(artifact, &attestations, format))
    })
}

fn path(args: &LineagePathArgs) -> Result<(), Failure> {
    let answer = &args.answer;
    let (mut store, from) = open_at(&answer.store, &args.from, &answer.output)?;
    let to =
        lineage::resolve_reference(&mut store, &args.to, &progress::for_output(&answer.output))
            .map_err(failure)?;
    match lineage::path(&mut store, &from, &to).map_err(failure)? {
        Some(links) => {
            print(
                &render::links(&from, &links, false, format(answer.format, &answer.output)),
                &answer.output,
            );
            Ok(())
        }
        None => Err(Failure::failed(format!(
            "{} is not made from {}: no chain of stages leads from one to the other",
            printable(to.label()),
            printable(from.label())
        ))),
    }
}

fn graph(args: &LineageGraphArgs) -> Result<(), Failure> {
    let (mut store, start) = open_at(&args.store, &args.reference, &args.output)?;
    render::graph_svg(&mut store, &start, args.upstream, &args.output_file).map_err(failure)?;
    if args.output.json {
        crate::output::json(&json!({"ok": true, "svg": args.output_file}), 0);
    } else if !args.output.quiet {
        outln!(
            "Drew the {} of {} -> {}",
            if args.upstream { "ancestry" } else { "impact" },
            printable(start.label()),
            printable(&args.output_file.display().to_string())
        );
    }
    Ok(())
}

fn export(args: &LineageExportArgs) -> Result<(), Failure> {
    let mut store = open(&args.store, Opening::MustExist)?;
    let export = lineage::export::export_guac(&mut store, &args.guac).map_err(failure)?;
    if args.output.json {
        crate::output::json(
            &json!({"ok": true, "files": export.files, "purls": export.purls}),
            0,
        );
    } else if !args.output.quiet {
        outln!(
            "Exported {} for GUAC to {}; each artifact's purl in GUAC:",
            count(export.files.len(), "document"),
            printable(&args.guac.display().to_string())
        );
        for (key, purl) in &export.purls {
            outln!("  {key}  {}", printable(purl));
        }
    }
    Ok(())
}

/// The output flags of a lineage command, and what it does (for the failure message).
pub fn output_of(command: &LineageCommand) -> (&OutputArgs, &'static str) {
    match command {
        LineageCommand::Ingest(a) => (&a.output, "Ingest"),
        LineageCommand::Show(a) | LineageCommand::WhoSigned(a) => {
            (&a.answer.output, "Lineage query")
        }
        LineageCommand::Impact(a) => (&a.answer.output, "Impact analysis"),
        LineageCommand::Path(a) => (&a.answer.output, "Lineage query"),
        LineageCommand::Graph(a) => (&a.output, "Drawing the graph"),
        LineageCommand::Export(a) => (&a.output, "Export"),
    }
}
