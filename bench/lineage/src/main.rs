//! The lineage benchmark: loads a synthetic organisation (about 100,000 artifacts and
//! 1,000,000 edges) into a lineage store, ingests a sample of real signed provenance
//! through the trust policy, and times `impact` from root datasets beside a naive
//! baseline (one query per node) run against the same store in the same run.
//!
//! Prints Markdown tables (bench/lineage/run.sh puts them into bench/RESULTS.md); progress
//! goes to stderr.

mod org;

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use modelsign::attestation::{encode_statement_about, sign_attestation_about};
use modelsign::keys::{Curve, PrivateKey};
use modelsign::lineage::{self, Source, Store, TrustPolicy};
use modelsign::signing::KeySigner;
use modelsign::verifying::verify_statement_signature;

use org::Org;

/// The environment variable naming the PostgreSQL database to benchmark (it is emptied
/// and filled by the run).
const POSTGRES_URL_VARIABLE: &str = "MODELSIGN_BENCH_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Db {
    Sqlite,
    Postgres,
}

#[derive(Parser)]
#[command(about = "Lineage store benchmark: ingest rate and impact latency")]
struct Args {
    /// The databases to run on; PostgreSQL runs only when MODELSIGN_BENCH_POSTGRES_URL is set.
    #[arg(long, value_enum, default_values = ["sqlite", "postgres"])]
    db: Vec<Db>,
    /// How many artifacts the organisation has (edges: about ten per artifact).
    #[arg(long, default_value_t = 100_000)]
    artifacts: usize,
    /// How many provenance bundles to sign and ingest with verification.
    #[arg(long, default_value_t = 2_000)]
    signed: usize,
    /// How many root datasets to time `impact` from.
    #[arg(long, default_value_t = 50)]
    roots: usize,
    /// How many times each root is queried (each method, interleaved).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The organisation's seed.
    #[arg(long, default_value_t = 16)]
    seed: u64,
    /// Print the organisation's shape (and what each root reaches) without storing it.
    #[arg(long)]
    shape_only: bool,
    /// Where the SQLite store is created (a temporary folder inside it, removed at the end).
    /// run.sh gives /dev/shm: loading 90,000 attestations on disk waits for one fsync each.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// How many attestations to also add to a store on disk, to time the commits' fsync.
    #[arg(long, default_value_t = 2_000)]
    disk_sample: usize,
    /// Where that store on disk is created (default: the temporary folder).
    #[arg(long)]
    disk_dir: Option<PathBuf>,
}

type Failure = Box<dyn std::error::Error>;

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// An edge as both traversals return it, for checking they agree.
type EdgeRow = (i64, i64, String, i64);

/// What one database measured.
struct Measured {
    db: &'static str,
    counts: (u64, u64, u64),
    added: usize,
    add_time: Duration,
    signed: usize,
    ingest_time: Duration,
    verify_time: Duration,
    sign_time: Duration,
    impact: Vec<Duration>,
    reachable: Vec<Duration>,
    naive: Vec<Duration>,
    reached_edges: Vec<usize>,
    affected: Vec<usize>,
}

/// `Store::add` of the first `count` attestations into a fresh SQLite store in `parent`.
fn time_disk_sample(org: &Org, parent: &Path, count: usize) -> Result<(usize, Duration), Failure> {
    let dir = tempfile::Builder::new()
        .prefix("modelsign-bench-lineage-disk-")
        .tempdir_in(parent)?;
    let mut store = Store::open_sqlite(&dir.path().join("lineage.db"))?;
    let mut time = Duration::ZERO;
    let mut added = 0;
    for stage in org.stages.iter().take(count) {
        let (subjects, provenance) = org
            .provenance(stage)
            .ok_or("a stage without a digested output")?;
        let new = org.new_attestation(
            stage,
            String::from_utf8(encode_statement_about(&subjects, &provenance))?,
        );
        let at = Instant::now();
        store.add(&new)?;
        time += at.elapsed();
        added += 1;
    }
    Ok((added, time))
}

fn run(args: &Args) -> Result<(), Failure> {
    let started = Instant::now();
    eprintln!(
        "generating the organisation ({} artifacts)…",
        args.artifacts
    );
    let org = Org::generate(args.artifacts, args.seed);
    if args.shape_only {
        let reach = org.reach(&org.root_datasets(args.roots));
        println!(
            "{} artifacts, {} attestations, {} edges; from {} root datasets, reached at the median {}, at most {}",
            org.nodes.len(),
            org.stages.len(),
            org.edges(),
            reach.len(),
            percentile(&reach, 50.0).unwrap_or(0),
            reach.iter().max().copied().unwrap_or(0)
        );
        return Ok(());
    }
    let mut notes = Vec::new();
    let mut results = Vec::new();
    let mut disk = None;
    for &db in &args.db {
        match db {
            Db::Sqlite => {
                let parent = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
                let dir = tempfile::Builder::new()
                    .prefix("modelsign-bench-lineage-")
                    .tempdir_in(parent)?;
                if args.disk_sample > 0 {
                    let parent = args.disk_dir.clone().unwrap_or_else(std::env::temp_dir);
                    eprintln!(
                        "SQLite: adding {} attestations to a store on disk ({})…",
                        args.disk_sample,
                        parent.display()
                    );
                    disk = Some((parent.clone(), time_disk_sample(&org, &parent, args.disk_sample)?));
                }
                let path = dir.path().join("lineage.db");
                let store = Store::open_sqlite(&path)?;
                let naive = rusqlite::Connection::open(&path)?;
                results.push(measure("SQLite", &org, store, &naive, dir.path(), args)?);
            }
            Db::Postgres => match std::env::var(POSTGRES_URL_VARIABLE) {
                Err(_) => notes.push(format!(
                    "PostgreSQL: not run ({POSTGRES_URL_VARIABLE} is not set; set it to an empty database's URL to run it)."
                )),
                Ok(url) => {
                    let store = Store::open_postgres(&url)?;
                    let naive = std::cell::RefCell::new(postgres::Client::connect(
                        &url,
                        postgres::NoTls,
                    )?);
                    let dir = tempfile::tempdir()?;
                    results.push(measure("PostgreSQL", &org, store, &naive, dir.path(), args)?);
                }
            },
        }
    }
    print_report(
        &org,
        args,
        &results,
        disk.as_ref(),
        &notes,
        started.elapsed(),
    );
    Ok(())
}

/// The naive traversal: one `SELECT … WHERE input = ?` per node reached, breadth first.
trait PerNodeQueries {
    fn edges_from(&self, node: i64) -> Result<Vec<EdgeRow>, Failure>;
}

impl PerNodeQueries for rusqlite::Connection {
    fn edges_from(&self, node: i64) -> Result<Vec<EdgeRow>, Failure> {
        let mut statement = self.prepare_cached(
            "SELECT input, output, role, attestation FROM edges WHERE input = ?1",
        )?;
        let rows =
            statement.query_map([node], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The same queries over one PostgreSQL connection (a round trip each, which is what the
/// recursive query saves).
impl PerNodeQueries for std::cell::RefCell<postgres::Client> {
    fn edges_from(&self, node: i64) -> Result<Vec<EdgeRow>, Failure> {
        let rows = self.borrow_mut().query(
            "SELECT input, output, role, attestation FROM edges WHERE input = $1",
            &[&node],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }
}

fn naive_reachable_edges(db: &dyn PerNodeQueries, start: i64) -> Result<Vec<EdgeRow>, Failure> {
    let mut seen = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    let mut edges = Vec::new();
    while let Some(node) = queue.pop_front() {
        for edge in db.edges_from(node)? {
            if seen.insert(edge.1) {
                queue.push_back(edge.1);
            }
            edges.push(edge);
        }
    }
    Ok(edges)
}

fn measure(
    db: &'static str,
    org: &Org,
    mut store: Store,
    naive: &dyn PerNodeQueries,
    dir: &Path,
    args: &Args,
) -> Result<Measured, Failure> {
    let step = (org.stages.len() / args.signed.max(1)).max(1);
    let is_signed = |index: usize| args.signed > 0 && index % step == step / 2;

    // Every stage but the sample, through Store::add: what loading the organisation costs
    // the store itself (the statement is encoded outside the timing).
    eprintln!(
        "{db}: loading {} provenance attestations with Store::add…",
        org.stages.len()
    );
    let mut add_time = Duration::ZERO;
    let mut added = 0;
    for (index, stage) in org.stages.iter().enumerate() {
        if is_signed(index) {
            continue;
        }
        let (subjects, provenance) = org
            .provenance(stage)
            .ok_or("a stage without a digested output")?;
        let statement = String::from_utf8(encode_statement_about(&subjects, &provenance))?;
        let new = org.new_attestation(stage, statement);
        let at = Instant::now();
        if !store.add(&new)? {
            return Err(format!("stage {index} was already stored").into());
        }
        add_time += at.elapsed();
        added += 1;
        if added % 10_000 == 0 {
            eprintln!("  {added} in {:.1} s", add_time.as_secs_f64());
        }
    }

    // The sample, signed for real and ingested under a policy trusting the key.
    let key = PrivateKey::generate(Curve::P256)?;
    std::fs::write(dir.join("bench.pub"), key.public_key().to_pem())?;
    let policy = TrustPolicy::parse(
        "[[signer]]\nname = \"bench\"\nkey = \"bench.pub\"\nkinds = [\"provenance\"]\n",
        false,
        dir,
    )?;
    let signer = KeySigner::new(key);
    let at = Instant::now();
    let mut bundles = Vec::new();
    for (index, stage) in org.stages.iter().enumerate() {
        if is_signed(index) {
            let (subjects, provenance) = org
                .provenance(stage)
                .ok_or("a stage without a digested output")?;
            bundles.push((
                index,
                sign_attestation_about(&subjects, &provenance, &signer)?,
            ));
        }
    }
    let sign_time = at.elapsed();
    let verifiers = lineage::policy::build_verifiers(&policy)?;
    let at = Instant::now();
    for (_, bundle) in &bundles {
        verify_statement_signature(bundle, verifiers[0].verifier.as_ref())?;
    }
    let verify_time = at.elapsed();
    let signed = bundles.len();
    let sources = bundles
        .into_iter()
        .map(|(index, bundle)| Source {
            origin: format!("stage {index}"),
            bundle: Ok(bundle),
        })
        .collect();
    eprintln!("{db}: ingesting {signed} signed provenance bundles…");
    let at = Instant::now();
    let report = lineage::ingest(&mut store, &policy, sources)?;
    let ingest_time = at.elapsed();
    if report.stored.len() != signed {
        return Err(format!(
            "ingest stored {} of {signed} signed bundles; refused: {:?}",
            report.stored.len(),
            report.refused.first()
        )
        .into());
    }
    let counts = store.counts()?;

    eprintln!(
        "{db}: impact from {} root datasets, {} rounds…",
        args.roots, args.rounds
    );
    let mut starts = Vec::new();
    for root in org.root_datasets(args.roots) {
        starts.push(lineage::resolve(&mut store, &org.nodes[root].key())?);
    }
    let mut measured = Measured {
        db,
        counts,
        added,
        add_time,
        signed,
        ingest_time,
        verify_time,
        sign_time,
        impact: Vec::new(),
        reachable: Vec::new(),
        naive: Vec::new(),
        reached_edges: Vec::new(),
        affected: Vec::new(),
    };
    for round in 0..args.rounds {
        for start in &starts {
            let at = Instant::now();
            let impact = lineage::impact(&mut store, start)?;
            measured.impact.push(at.elapsed());

            let at = Instant::now();
            let edges = store.reachable_edges(start.id, true)?;
            measured.reachable.push(at.elapsed());

            let at = Instant::now();
            let mut by_node = naive_reachable_edges(naive, start.id)?;
            measured.naive.push(at.elapsed());

            if round == 0 {
                // The baseline is only a baseline if it finds the same edges.
                let mut by_store: Vec<EdgeRow> = edges
                    .iter()
                    .map(|e| (e.input, e.output, e.role.clone(), e.attestation))
                    .collect();
                by_store.sort();
                by_node.sort();
                if by_store != by_node {
                    return Err(format!(
                        "from {}: reachable_edges found {} edges, the per-node traversal {}",
                        start.key,
                        by_store.len(),
                        by_node.len()
                    )
                    .into());
                }
                measured.reached_edges.push(by_store.len());
                measured
                    .affected
                    .push(impact.in_order().count() + impact.claimed_only.len());
            }
        }
    }
    Ok(measured)
}

/// The `p`th percentile (nearest rank) of `samples`.
fn percentile<T: Copy + Ord>(samples: &[T], p: f64) -> Option<T> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".into(),
        |d| format!("{:.1}", d.as_secs_f64() * 1000.0),
    )
}

fn ratio(slow: Option<Duration>, fast: Option<Duration>) -> String {
    match (slow, fast) {
        (Some(s), Some(f)) if !f.is_zero() => format!("{:.1}x", s.as_secs_f64() / f.as_secs_f64()),
        _ => "-".into(),
    }
}

fn per_second(count: usize, time: Duration) -> f64 {
    count as f64 / time.as_secs_f64().max(f64::EPSILON)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_report(
    org: &Org,
    args: &Args,
    results: &[Measured],
    disk: Option<&(PathBuf, (usize, Duration))>,
    notes: &[String],
    total: Duration,
) {
    println!(
        "Organisation: {} artifacts, {} provenance attestations, {} edges (seed {}, {} teams); \
         {} of the attestations signed (ECDSA P-256 key) and ingested through `lineage::ingest`, \
         the rest stored with `Store::add`. Impact from {} root datasets, {} rounds each \
         ({} samples per method; p99 of so few samples is close to the maximum). \
         The store is in {}. Whole run: {:.0} s.",
        thousands(org.nodes.len() as u64),
        thousands(org.stages.len() as u64),
        thousands(org.edges() as u64),
        args.seed,
        org::TEAMS,
        thousands(args.signed as u64),
        args.roots,
        args.rounds,
        args.roots * args.rounds,
        args.work_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
            .display(),
        total.as_secs_f64(),
    );
    println!();
    println!("| store | operation | attestations | time (s) | attestations/s | vs Store::add |");
    println!("|---|---|---:|---:|---:|---:|");
    for m in results {
        let add_rate = per_second(m.added, m.add_time);
        let ingest_rate = per_second(m.signed, m.ingest_time);
        let verify_rate = per_second(m.signed, m.verify_time);
        let whole = org.stages.len();
        println!(
            "| {} | `Store::add` (no signature) | {} | {:.1} | {:.0} | 1.0x |",
            m.db,
            thousands(m.added as u64),
            m.add_time.as_secs_f64(),
            add_rate
        );
        if let (Some((parent, (count, time))), "SQLite") = (disk, m.db) {
            let rate = per_second(*count, *time);
            println!(
                "| {} on disk ({}) | `Store::add`, first {} attestations | {} | {:.1} | {:.0} | {:.2}x |",
                m.db,
                parent.display(),
                thousands(*count as u64),
                thousands(*count as u64),
                time.as_secs_f64(),
                rate,
                rate / add_rate
            );
        }
        println!(
            "| {} | `lineage::ingest` (signature verified, policy applied) | {} | {:.2} | {:.0} | {:.2}x |",
            m.db,
            thousands(m.signed as u64),
            m.ingest_time.as_secs_f64(),
            ingest_rate,
            ingest_rate / add_rate
        );
        println!(
            "| {} | signature verification alone | {} | {:.2} | {:.0} |  |",
            m.db,
            thousands(m.signed as u64),
            m.verify_time.as_secs_f64(),
            verify_rate
        );
        println!(
            "| {} | signing (for reference) | {} | {:.2} | {:.0} |  |",
            m.db,
            thousands(m.signed as u64),
            m.sign_time.as_secs_f64(),
            per_second(m.signed, m.sign_time)
        );
        println!(
            "| {} | whole organisation at the `Store::add` rate (estimate) | {} | {:.0} |  |  |",
            m.db,
            thousands(whole as u64),
            whole as f64 / add_rate
        );
        println!(
            "| {} | whole organisation at the `lineage::ingest` rate (estimate) | {} | {:.0} |  |  |",
            m.db,
            thousands(whole as u64),
            whole as f64 / ingest_rate
        );
    }
    println!();
    println!(
        "| store | query from a root dataset | p50 (ms) | p99 (ms) | naive traversal p50 / this p50 |"
    );
    println!("|---|---|---:|---:|---:|");
    for m in results {
        let naive_p50 = percentile(&m.naive, 50.0);
        let rows = [
            ("`lineage::impact` (the whole report)", &m.impact, false),
            (
                "`Store::reachable_edges` (recursive SQL)",
                &m.reachable,
                true,
            ),
            (
                "naive traversal: one `SELECT … WHERE input = ?` per node",
                &m.naive,
                false,
            ),
        ];
        for (name, samples, compared) in rows {
            let p50 = percentile(samples, 50.0);
            println!(
                "| {} | {name} | {} | {} | {} |",
                m.db,
                ms(p50),
                ms(percentile(samples, 99.0)),
                if compared {
                    ratio(naive_p50, p50)
                } else {
                    String::new()
                }
            );
        }
    }
    // After the table, not inside it: a paragraph between rows would end the table.
    for m in results {
        println!();
        println!(
            "{}: per root, {} edges reached and {} artifacts affected at the median (max {} and {}); \
             {} artifacts, {} attestations and {} edges stored. The naive traversal returns what \
             `reachable_edges` returns, the edges (checked equal from every root); `impact` also \
             loads every affected artifact with its aliases and every stage's attestation, in \
             queries of up to 500 ids, and orders them.",
            m.db,
            thousands(percentile(&m.reached_edges, 50.0).unwrap_or(0) as u64),
            thousands(percentile(&m.affected, 50.0).unwrap_or(0) as u64),
            thousands(m.reached_edges.iter().max().copied().unwrap_or(0) as u64),
            thousands(m.affected.iter().max().copied().unwrap_or(0) as u64),
            thousands(m.counts.0),
            thousands(m.counts.1),
            thousands(m.counts.2),
        );
    }
    for note in notes {
        println!();
        println!("{note}");
    }
}
