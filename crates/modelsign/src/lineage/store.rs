//! The lineage store: artifacts (models, datasets, code, containers) by digest, the
//! verified attestations about them, and the edges from each input to each output of a
//! stage. SQLite on one machine, or a PostgreSQL server shared by a team
//! (`postgres://…`, see [`Store::open`]): the statements are the same plain SQL on both,
//! only the table definitions differ between them.
//!
//! An artifact's key is its strongest digest: `sha256:<hex>` (the OMS root digest), else
//! `gitCommit:<hex>`, else `uri:<uri>` for an input recorded without a digest. Its names,
//! URIs (purls) and other digests are aliases, so a query can start from any of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::LineageError;
use crate::provenance::Role;

/// What an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ArtifactKind {
    /// A model (or an adapter).
    Model,
    /// A dataset (or an evaluation set).
    Dataset,
    /// Evaluation results.
    Results,
    /// What a stage used besides models and data, by the role it played: code,
    /// container, framework, config, tokenizer.
    Other(Role),
}

impl ArtifactKind {
    /// The kind's name in the store and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::Model => "model",
            ArtifactKind::Dataset => "dataset",
            ArtifactKind::Results => "results",
            ArtifactKind::Other(role) => role.name(),
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<ArtifactKind> {
        match name {
            "model" => Some(ArtifactKind::Model),
            "dataset" => Some(ArtifactKind::Dataset),
            "results" => Some(ArtifactKind::Results),
            other => Role::parse(other).map(ArtifactKind::Other),
        }
    }

    /// What an input of `role` is.
    pub fn of_role(role: Role) -> ArtifactKind {
        match role {
            Role::BaseModel => ArtifactKind::Model,
            Role::Dataset | Role::EvalSet => ArtifactKind::Dataset,
            other => ArtifactKind::Other(other),
        }
    }
}

/// Whether an edge was signed with the input's digest, or only claimed (taken from
/// metadata, or recorded without a digest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeStatus {
    /// The input's digest is signed in a verified provenance.
    Verified,
    /// Claimed: the link is asserted, not digested.
    Claimed,
}

impl EdgeStatus {
    /// `verified` or `claimed`.
    pub fn name(self) -> &'static str {
        match self {
            EdgeStatus::Verified => "verified",
            EdgeStatus::Claimed => "claimed",
        }
    }

    fn parse(name: &str) -> EdgeStatus {
        if name == "verified" {
            EdgeStatus::Verified
        } else {
            EdgeStatus::Claimed
        }
    }
}

/// A value bound to, or read from, an SQL statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl SqlValue {
    fn text(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            SqlValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    fn real(&self) -> Option<f64> {
        match self {
            SqlValue::Real(r) => Some(*r),
            SqlValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl From<&str> for SqlValue {
    fn from(s: &str) -> Self {
        SqlValue::Text(s.to_owned())
    }
}

impl From<i64> for SqlValue {
    fn from(i: i64) -> Self {
        SqlValue::Int(i)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(SqlValue::Null, Into::into)
    }
}

impl From<f64> for SqlValue {
    fn from(r: f64) -> Self {
        SqlValue::Real(r)
    }
}

/// Which SQL the database speaks, where the two differ: the table definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A database connection, as the store uses it: statements with `$1`, `$2`, …
/// placeholders, numbered in the order they first appear.
pub(crate) trait Connection {
    fn dialect(&self) -> Dialect;
    fn batch(&mut self, sql: &str) -> Result<(), String>;
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, String>;
    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, String>;
}

struct Sqlite(rusqlite::Connection);

impl Connection for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.0.execute_batch(sql).map_err(|e| e.to_string())
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, String> {
        let mut statement = self.0.prepare_cached(sql).map_err(|e| e.to_string())?;
        bind(&mut statement, params)?;
        statement
            .raw_execute()
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, String> {
        let mut statement = self.0.prepare_cached(sql).map_err(|e| e.to_string())?;
        bind(&mut statement, params)?;
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| e.to_string())? {
            let mut values = Vec::with_capacity(columns);
            for column in 0..columns {
                use rusqlite::types::ValueRef;
                values.push(match row.get_ref(column).map_err(|e| e.to_string())? {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(i) => SqlValue::Int(i),
                    ValueRef::Real(r) => SqlValue::Real(r),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        SqlValue::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(values);
        }
        Ok(out)
    }
}

/// What every SQLite connection of a store runs first: references checked, and a
/// write-ahead log, so that a query reads while an ingest writes.
const SQLITE_SETTINGS: &str = "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;";

/// A store's connection over an opened SQLite database.
fn sqlite(connection: rusqlite::Connection) -> Result<Box<dyn Connection>, String> {
    connection
        .execute_batch(SQLITE_SETTINGS)
        .map_err(|e| e.to_string())?;
    Ok(Box::new(Sqlite(connection)))
}

fn bind(statement: &mut rusqlite::CachedStatement<'_>, params: &[SqlValue]) -> Result<(), String> {
    for (index, value) in params.iter().enumerate() {
        let at = index + 1;
        let bound = match value {
            SqlValue::Null => statement.raw_bind_parameter(at, rusqlite::types::Null),
            SqlValue::Int(i) => statement.raw_bind_parameter(at, i),
            SqlValue::Real(r) => statement.raw_bind_parameter(at, r),
            SqlValue::Text(s) => statement.raw_bind_parameter(at, s.as_str()),
        };
        bound.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The schema, one migration per version, in order. A store records the version it is
/// at and applies the ones after it. Both dialects run the same migrations, written once:
/// only the column types below differ.
const MIGRATIONS: &[&str] = &["CREATE TABLE artifacts (
        id {ID},
        key TEXT{BYTEWISE} NOT NULL UNIQUE,
        kind TEXT NOT NULL
    );
    CREATE TABLE aliases (
        artifact {REF} NOT NULL REFERENCES artifacts(id),
        alias TEXT{BYTEWISE} NOT NULL,
        UNIQUE (artifact, alias)
    );
    CREATE INDEX aliases_by_alias ON aliases(alias);
    CREATE TABLE attestations (
        id {ID},
        bundle_digest TEXT{BYTEWISE} NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        stage TEXT,
        signer TEXT NOT NULL,
        trusted_as TEXT NOT NULL,
        started TEXT,
        finished TEXT,
        seconds {REAL},
        statement TEXT NOT NULL
    );
    CREATE TABLE subjects (
        attestation {REF} NOT NULL REFERENCES attestations(id),
        artifact {REF} NOT NULL REFERENCES artifacts(id),
        UNIQUE (attestation, artifact)
    );
    CREATE INDEX subjects_by_artifact ON subjects(artifact);
    CREATE TABLE edges (
        input {REF} NOT NULL REFERENCES artifacts(id),
        output {REF} NOT NULL REFERENCES artifacts(id),
        role TEXT NOT NULL,
        status TEXT NOT NULL,
        attestation {REF} NOT NULL REFERENCES attestations(id),
        UNIQUE (input, output, role, attestation)
    );
    CREATE INDEX edges_by_input ON edges(input);
    CREATE INDEX edges_by_output ON edges(output);"];

/// The recursive query behind `Store::reachable_edges`: every edge reached from `$1`,
/// following edges downstream (input to output) or upstream.
///
/// Both steps read the reached set first and look each id up in an edge index. SQLite,
/// which keeps no statistics here, otherwise chose to scan every edge and probe the reached
/// set for each (the `CAST` the seed needs for PostgreSQL's typing was enough to tip it):
/// 70 ms instead of 2 ms on a million edges. Its `CROSS JOIN` keeps the left table as the
/// outer loop, as SQLite documents; PostgreSQL has no `CROSS JOIN … ON` and plans from its
/// statistics, so it gets a plain `JOIN`.
fn reachable_edges_sql(dialect: Dialect, downstream: bool) -> String {
    let join = match dialect {
        Dialect::Sqlite => "CROSS JOIN",
        Dialect::Postgres => "JOIN",
    };
    let (from, to) = if downstream {
        ("input", "output")
    } else {
        ("output", "input")
    };
    format!(
        "WITH RECURSIVE reached(id) AS (
            SELECT CAST($1 AS BIGINT)
            UNION SELECT e.{to} FROM reached r {join} edges e ON e.{from} = r.id
         )
         SELECT e.input, e.output, e.role, e.status, e.attestation
         FROM reached r {join} edges e ON e.{from} = r.id"
    )
}

/// The migrations in `dialect`'s column types.
fn migrations(dialect: Dialect) -> Vec<String> {
    let types: [(&str, &str); 4] = match dialect {
        // An `INTEGER PRIMARY KEY` is the row id, numbered by SQLite.
        Dialect::Sqlite => [
            ("{ID}", "INTEGER PRIMARY KEY"),
            ("{REF}", "INTEGER"),
            ("{REAL}", "REAL"),
            ("{BYTEWISE}", ""),
        ],
        // Keys and aliases compare and sort byte by byte ("C"), as SQLite's text does,
        // whatever the database's collation: both order aliases, and so label artifacts,
        // alike.
        Dialect::Postgres => [
            ("{ID}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
            ("{REF}", "BIGINT"),
            ("{REAL}", "DOUBLE PRECISION"),
            ("{BYTEWISE}", " COLLATE \"C\""),
        ],
    };
    MIGRATIONS
        .iter()
        .map(|migration| {
            types
                .iter()
                .fold((*migration).to_owned(), |sql, (name, ty)| {
                    sql.replace(name, ty)
                })
        })
        .collect()
}

/// An artifact as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The store's id.
    pub id: i64,
    /// `sha256:<hex>`, `gitCommit:<hex>` or `uri:<uri>`.
    pub key: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// Its names, URIs and other digests.
    pub aliases: Vec<String>,
}

impl Artifact {
    /// How reports name it: its first alias that is not a digest, else its key.
    pub fn label(&self) -> &str {
        self.aliases
            .iter()
            .find(|a| !a.starts_with("sha256:") && !a.starts_with("gitCommit:"))
            .map_or(self.key.as_str(), String::as_str)
    }
}

/// An edge of the graph: `input` went into the stage that made `output`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The input artifact's id.
    pub input: i64,
    /// The output artifact's id.
    pub output: i64,
    /// The input's role.
    pub role: String,
    /// Verified or claimed.
    pub status: EdgeStatus,
    /// The provenance recording it.
    pub attestation: i64,
}

/// What the store records of an attestation.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationFacts {
    /// `sha256:<hex>` over the bundle's payload and signatures (see
    /// [`super::ingest::bundle_digest`]).
    pub bundle_digest: String,
    /// `signature`, `card` or `provenance`.
    pub kind: String,
    /// The stage, for provenance.
    pub stage: Option<String>,
    /// Who signed it (an identity, or the key's hint).
    pub signer: String,
    /// The policy signer it was accepted as.
    pub trusted_as: String,
    /// When the stage started (provenance).
    pub started: Option<String>,
    /// When it finished.
    pub finished: Option<String>,
    /// The stage's duration in seconds.
    pub seconds: Option<f64>,
}

/// A stored attestation.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAttestation {
    /// The store's id.
    pub id: i64,
    /// What the store records of it.
    pub facts: AttestationFacts,
}

/// What ingesting one attestation adds.
#[derive(Debug, Clone)]
pub struct NewAttestation {
    /// What the store records of it.
    pub facts: AttestationFacts,
    /// The verified statement (JSON), for export.
    pub statement: String,
    /// Its subjects.
    pub subjects: Vec<NewArtifact>,
    /// Its edges: `(input, role, status)`, each into every subject.
    pub inputs: Vec<(NewArtifact, String, EdgeStatus)>,
}

/// An artifact named by an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    /// Its key (see the module documentation).
    pub key: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// Names, URIs, other digests.
    pub aliases: Vec<String>,
}

/// A lineage store.
pub struct Store {
    connection: Box<dyn Connection>,
    location: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

/// The default store: `lineage.db` in the user's data directory
/// (`$XDG_DATA_HOME/modelsign`, else `~/.local/share/modelsign`).
pub fn default_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("modelsign").join("lineage.db"))
}

impl Store {
    /// Opens the store at `location`: a PostgreSQL server for a `postgres://` or
    /// `postgresql://` URL ([`Store::open_postgres`]), else the SQLite file at that path
    /// ([`Store::open_sqlite`]).
    pub fn open(location: &str) -> Result<Store, LineageError> {
        if super::postgres::is_url(location) {
            Self::open_postgres(location)
        } else {
            Self::open_sqlite(Path::new(location))
        }
    }

    /// Opens the store in the PostgreSQL database `url` names
    /// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMETERS]`, the parameters
    /// libpq's URLs take; without a password in the URL, `PGPASSWORD`'s), creating its
    /// tables when absent and bringing its schema to the current version. The store's location, as messages show it, is the URL without its
    /// password.
    pub fn open_postgres(url: &str) -> Result<Store, LineageError> {
        let location = super::postgres::without_password(url);
        match super::postgres::connect(url) {
            Ok(connection) => Self::with(connection, location),
            Err(reason) => Err(LineageError::Store { location, reason }),
        }
    }

    /// Opens (creating when absent) the SQLite store at `path`, bringing its schema to the
    /// current version.
    pub fn open_sqlite(path: &Path) -> Result<Store, LineageError> {
        let failed = |reason: String| LineageError::Store {
            location: path.display().to_string(),
            reason,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| failed(e.to_string()))?;
        }
        let connection = rusqlite::Connection::open(path).map_err(|e| failed(e.to_string()))?;
        Self::with(
            sqlite(connection).map_err(failed)?,
            path.display().to_string(),
        )
    }

    /// Opens the store at `location` ([`Store::open`]) only when there is one: a query
    /// asked of a mistyped location must say so, not answer from a store it just created.
    pub fn open_existing(location: &str) -> Result<Store, LineageError> {
        if !super::postgres::is_url(location) {
            return Self::open_existing_sqlite(Path::new(location));
        }
        let shown = super::postgres::without_password(location);
        let connection =
            super::postgres::connect(location).map_err(|reason| LineageError::Store {
                location: shown.clone(),
                reason,
            })?;
        Self::existing(connection, shown)
    }

    /// Opens the SQLite store at `path` only when there is one ([`Store::open_existing`]).
    pub fn open_existing_sqlite(path: &Path) -> Result<Store, LineageError> {
        let location = path.display().to_string();
        if !path.is_file() {
            return Err(LineageError::NoStore(location));
        }
        let connection = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| LineageError::Store {
            location: location.clone(),
            reason: e.to_string(),
        })?;
        // Its journal mode is set only once it is known to be a store: that writes to it.
        Self::existing(Box::new(Sqlite(connection)), location)
    }

    /// The store over `connection` when the database holds one.
    fn existing(
        mut connection: Box<dyn Connection>,
        location: String,
    ) -> Result<Store, LineageError> {
        let sql = match connection.dialect() {
            Dialect::Sqlite => {
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            }
            Dialect::Postgres => {
                "SELECT 1 FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = 'schema_version'"
            }
        };
        let found = connection
            .query(sql, &[])
            .map_err(|reason| LineageError::Store {
                location: location.clone(),
                reason,
            })?;
        if found.is_empty() {
            return Err(LineageError::NoStore(location));
        }
        if connection.dialect() == Dialect::Sqlite {
            connection
                .batch(SQLITE_SETTINGS)
                .map_err(|reason| LineageError::Store {
                    location: location.clone(),
                    reason,
                })?;
        }
        Self::with(connection, location)
    }

    /// An SQLite store in memory (for tests and one-off queries).
    pub fn in_memory() -> Result<Store, LineageError> {
        let connection =
            rusqlite::Connection::open_in_memory().map_err(|e| LineageError::Store {
                location: ":memory:".into(),
                reason: e.to_string(),
            })?;
        Self::with(Box::new(Sqlite(connection)), ":memory:".into())
    }

    fn with(connection: Box<dyn Connection>, location: String) -> Result<Store, LineageError> {
        let mut store = Store {
            connection,
            location,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The store with `wrap` between it and its database: tests make a statement fail on
    /// cue there, to see what the store leaves behind.
    #[cfg(test)]
    pub(crate) fn wrap_connection(
        self,
        wrap: impl FnOnce(Box<dyn Connection>) -> Box<dyn Connection>,
    ) -> Store {
        Store {
            connection: wrap(self.connection),
            location: self.location,
        }
    }

    /// Where the store is.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn failed(&self, reason: String) -> LineageError {
        LineageError::Store {
            location: self.location.clone(),
            reason,
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), LineageError> {
        self.connection.batch(sql).map_err(|e| self.failed(e))
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, LineageError> {
        self.connection
            .execute(sql, params)
            .map_err(|e| self.failed(e))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<Vec<SqlValue>>, LineageError> {
        self.connection
            .query(sql, params)
            .map_err(|e| self.failed(e))
    }

    /// The schema version the store is at.
    pub fn schema_version(&mut self) -> Result<usize, LineageError> {
        self.batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
        let rows = self.query("SELECT MAX(version) FROM schema_version", &[])?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::int)
            .map_or(0, |v| usize::try_from(v).unwrap_or(0)))
    }

    fn migrate(&mut self) -> Result<(), LineageError> {
        let at = self.schema_version()?;
        let all = migrations(self.connection.dialect());
        if at > all.len() {
            return Err(self.failed(format!(
                "its schema is version {at}, newer than this modelsign knows ({}): use a newer modelsign",
                all.len()
            )));
        }
        for (index, migration) in all.iter().enumerate().skip(at) {
            self.batch("BEGIN")?;
            let applied = self.batch(migration).and_then(|()| {
                let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
                self.execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[version.into()],
                )
                .map(drop)
            });
            match applied {
                Ok(()) => self.batch("COMMIT")?,
                Err(e) => {
                    let _ = self.batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Whether the bundle with this digest is stored.
    pub fn has_attestation(&mut self, bundle_digest: &str) -> Result<bool, LineageError> {
        Ok(!self
            .query(
                "SELECT id FROM attestations WHERE bundle_digest = $1",
                &[bundle_digest.into()],
            )?
            .is_empty())
    }

    /// Stores an attestation with its artifacts and edges, all or nothing. Storing one
    /// already there changes nothing (`false`).
    pub fn add(&mut self, new: &NewAttestation) -> Result<bool, LineageError> {
        if self.has_attestation(&new.facts.bundle_digest)? {
            return Ok(false);
        }
        self.batch("BEGIN")?;
        match self.add_within_transaction(new) {
            Ok(()) => {
                self.batch("COMMIT")?;
                Ok(true)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn add_within_transaction(&mut self, new: &NewAttestation) -> Result<(), LineageError> {
        let facts = &new.facts;
        let rows = self.query(
            "INSERT INTO attestations (bundle_digest, kind, stage, signer, trusted_as, started, finished, seconds, statement)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                facts.bundle_digest.as_str().into(),
                facts.kind.as_str().into(),
                facts.stage.as_deref().into(),
                facts.signer.as_str().into(),
                facts.trusted_as.as_str().into(),
                facts.started.as_deref().into(),
                facts.finished.as_deref().into(),
                facts.seconds.into(),
                new.statement.as_str().into(),
            ],
        )?;
        let attestation = first_int(&rows).ok_or_else(|| self.failed("no id returned".into()))?;
        let mut subjects = Vec::new();
        for subject in &new.subjects {
            let id = self.artifact_id(subject)?;
            self.execute(
                "INSERT INTO subjects (attestation, artifact) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[attestation.into(), id.into()],
            )?;
            subjects.push(id);
        }
        for (input, role, status) in &new.inputs {
            let input = self.artifact_id(input)?;
            for &output in &subjects {
                self.execute(
                    "INSERT INTO edges (input, output, role, status, attestation) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT DO NOTHING",
                    &[
                        input.into(),
                        output.into(),
                        role.as_str().into(),
                        status.name().into(),
                        attestation.into(),
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// The id of the artifact `new` names, adding it (and any new aliases).
    ///
    /// What is only named (a `uri:` key: a card's base model by purl, a dataset by URL) and
    /// an artifact of the same kind that a signed digest carries that URI for are one
    /// artifact, whichever came first: the named one joins the digested one, or the
    /// digested one takes over the named one's edges. Without that, a card and the
    /// provenance of the model it describes would name its base model twice.
    fn artifact_id(&mut self, new: &NewArtifact) -> Result<i64, LineageError> {
        if let Some(uri) = new.key.strip_prefix(NAMED_ONLY) {
            // A named-only artifact that is stored has no one digested artifact to join:
            // it would have joined it, or been taken over by it. The common case (a
            // framework named by every stage that used it) needs one query.
            let stored = self.query(
                "SELECT id FROM artifacts WHERE key = $1",
                &[new.key.as_str().into()],
            )?;
            let joined = match first_int(&stored) {
                Some(id) => Some(id),
                None => match self.digested_with_alias(uri, new.kind)?[..] {
                    [id] => Some(id),
                    _ => None,
                },
            };
            if let Some(id) = joined {
                self.add_aliases(id, &new.aliases)?;
                return Ok(id);
            }
        }
        self.execute(
            "INSERT INTO artifacts (key, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[new.key.as_str().into(), new.kind.name().into()],
        )?;
        // The artifact's id, and in the same query (each is a round trip to a server) the
        // named-only artifacts of its kind it may take over: `uri:ALIAS` for its aliases.
        let named_keys: Vec<SqlValue> = if new.key.starts_with(NAMED_ONLY) {
            Vec::new()
        } else {
            new.aliases
                .iter()
                .map(|alias| SqlValue::Text(format!("{NAMED_ONLY}{alias}")))
                .collect()
        };
        // Kinds are compared here, not in SQL: a plain `key IN (…)` is one index search.
        let list = (1..=named_keys.len() + 1)
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let params: Vec<SqlValue> = std::iter::once(new.key.as_str().into())
            .chain(named_keys)
            .collect();
        let rows = self.query(
            &format!("SELECT id, key, kind FROM artifacts WHERE key IN ({list})"),
            &params,
        )?;
        let found: Vec<(i64, &str)> = rows
            .iter()
            .filter_map(|row| {
                Some((
                    row.first()?.int()?,
                    row.get(1)?.text()?,
                    row.get(2)?.text()?,
                ))
            })
            .filter(|(_, key, kind)| *key == new.key || *kind == new.kind.name())
            .map(|(id, key, _)| (id, key))
            .collect();
        let id = found
            .iter()
            .find(|(_, key)| *key == new.key)
            .map(|(id, _)| *id)
            .ok_or_else(|| self.failed("artifact not stored".into()))?;
        self.add_aliases(id, &new.aliases)?;
        for (named, key) in found.iter().filter(|(_, key)| *key != new.key) {
            let alias = key.trim_start_matches(NAMED_ONLY);
            // Only when no other digested artifact carries the name: else the claim is
            // ambiguous, and stays apart.
            if self.digested_with_alias(alias, new.kind)? == [id] {
                self.absorb_named(id, *named)?;
            }
        }
        Ok(id)
    }

    /// Adds `aliases` to the artifact `id`, in one statement.
    fn add_aliases(&mut self, id: i64, aliases: &[String]) -> Result<(), LineageError> {
        for batch in aliases.chunks(ID_BATCH) {
            let rows = (0..batch.len())
                .map(|n| format!("($1, ${})", n + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let params: Vec<SqlValue> = std::iter::once(id.into())
                .chain(batch.iter().map(|alias| alias.as_str().into()))
                .collect();
            self.execute(
                &format!(
                    "INSERT INTO aliases (artifact, alias) VALUES {rows} ON CONFLICT DO NOTHING"
                ),
                &params,
            )?;
        }
        Ok(())
    }

    /// The digested artifacts of `kind` with the alias `alias`.
    fn digested_with_alias(
        &mut self,
        alias: &str,
        kind: ArtifactKind,
    ) -> Result<Vec<i64>, LineageError> {
        let rows = self.query(
            "SELECT a.id FROM aliases n JOIN artifacts a ON a.id = n.artifact
             WHERE n.alias = $1 AND a.kind = $2 AND substr(a.key, 1, 4) <> 'uri:' ORDER BY a.id",
            &[alias.into(), kind.name().into()],
        )?;
        Ok(rows.iter().filter_map(|r| r.first()?.int()).collect())
    }

    /// Moves the named-only artifact `named` into the artifact `id`: its aliases, its edges
    /// and its subjects, then removes it.
    fn absorb_named(&mut self, id: i64, named: i64) -> Result<(), LineageError> {
        // `$1` the artifact taking over, `$2` the named one.
        let copies = [
            "INSERT INTO aliases (artifact, alias)
             SELECT CAST($1 AS BIGINT), alias FROM aliases WHERE artifact = $2
             ON CONFLICT DO NOTHING",
            "INSERT INTO subjects (attestation, artifact)
             SELECT attestation, CAST($1 AS BIGINT) FROM subjects WHERE artifact = $2
             ON CONFLICT DO NOTHING",
            "INSERT INTO edges (input, output, role, status, attestation)
             SELECT CAST($1 AS BIGINT), output, role, status, attestation FROM edges WHERE input = $2
             ON CONFLICT DO NOTHING",
            "INSERT INTO edges (input, output, role, status, attestation)
             SELECT input, CAST($1 AS BIGINT), role, status, attestation FROM edges WHERE output = $2
             ON CONFLICT DO NOTHING",
        ];
        for sql in copies {
            self.execute(sql, &[id.into(), named.into()])?;
        }
        // `$1` the named one, in the order its references allow.
        let removals = [
            "DELETE FROM aliases WHERE artifact = $1",
            "DELETE FROM subjects WHERE artifact = $1",
            "DELETE FROM edges WHERE input = $1 OR output = $1",
            "DELETE FROM artifacts WHERE id = $1",
        ];
        for sql in removals {
            self.execute(sql, &[named.into()])?;
        }
        Ok(())
    }

    /// The artifacts whose key or alias is `reference` (a digest, a name, a purl).
    pub fn find(&mut self, reference: &str) -> Result<Vec<Artifact>, LineageError> {
        let rows = self.query(
            "SELECT id FROM artifacts WHERE key = $1
             UNION SELECT artifact FROM aliases WHERE alias = $1 ORDER BY 1",
            &[reference.into()],
        )?;
        let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.first()?.int()).collect();
        if ids.is_empty() && is_digest_prefix(reference) {
            // A digest as text reports show it: its first hex digits.
            let rows = self.query(
                "SELECT id FROM artifacts WHERE substr(key, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT) ORDER BY id",
                &[reference.trim_end_matches('…').into()],
            )?;
            ids = rows.iter().filter_map(|r| r.first()?.int()).collect();
        }
        self.artifacts(&ids)
    }

    /// The artifacts with these ids, in that order.
    pub fn artifacts(&mut self, ids: &[i64]) -> Result<Vec<Artifact>, LineageError> {
        // A few queries per batch of ids rather than two per artifact: on a server, every
        // query is a round trip, and an impact report names hundreds of artifacts.
        let mut found: BTreeMap<i64, Artifact> = BTreeMap::new();
        for batch in ids.chunks(ID_BATCH) {
            let (list, params) = id_list(batch);
            let rows = self.query(
                &format!("SELECT id, key, kind FROM artifacts WHERE id IN ({list})"),
                &params,
            )?;
            for row in &rows {
                let Some(id) = row.first().and_then(SqlValue::int) else {
                    continue;
                };
                found.insert(
                    id,
                    Artifact {
                        id,
                        key: row
                            .get(1)
                            .and_then(SqlValue::text)
                            .unwrap_or_default()
                            .to_owned(),
                        kind: row
                            .get(2)
                            .and_then(SqlValue::text)
                            .and_then(ArtifactKind::parse)
                            .unwrap_or(ArtifactKind::Model),
                        aliases: Vec::new(),
                    },
                );
            }
            let rows = self.query(
                &format!(
                    "SELECT artifact, alias FROM aliases WHERE artifact IN ({list}) ORDER BY artifact, alias"
                ),
                &params,
            )?;
            for row in &rows {
                let (Some(id), Some(alias)) = (
                    row.first().and_then(SqlValue::int),
                    row.get(1).and_then(SqlValue::text),
                ) else {
                    continue;
                };
                if let Some(artifact) = found.get_mut(&id) {
                    artifact.aliases.push(alias.to_owned());
                }
            }
        }
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
    }

    /// Every edge reachable from `start` following edges forward (downstream: what was
    /// made from it) or backward (upstream: what it was made from).
    pub fn reachable_edges(
        &mut self,
        start: i64,
        downstream: bool,
    ) -> Result<Vec<Edge>, LineageError> {
        let sql = reachable_edges_sql(self.connection.dialect(), downstream);
        let rows = self.query(&sql, &[start.into()])?;
        Ok(rows.iter().filter_map(|row| edge(row)).collect())
    }

    /// Every edge into the artifact `output`: what it was made from.
    pub fn edges_into(&mut self, output: i64) -> Result<Vec<Edge>, LineageError> {
        let rows = self.query(
            "SELECT input, output, role, status, attestation FROM edges WHERE output = $1",
            &[output.into()],
        )?;
        Ok(rows.iter().filter_map(|row| edge(row)).collect())
    }

    /// The attestations with these ids.
    pub fn attestations(
        &mut self,
        ids: &[i64],
    ) -> Result<BTreeMap<i64, StoredAttestation>, LineageError> {
        let mut out = BTreeMap::new();
        for batch in ids.chunks(ID_BATCH) {
            let (list, params) = id_list(batch);
            let rows = self.query(
                &format!(
                    "SELECT id, bundle_digest, kind, stage, signer, trusted_as, started, finished, seconds
                     FROM attestations WHERE id IN ({list})"
                ),
                &params,
            )?;
            for row in &rows {
                if let Some(id) = row.first().and_then(SqlValue::int) {
                    out.insert(id, attestation(id, &row[1..]));
                }
            }
        }
        Ok(out)
    }

    /// The attestations whose subject is the artifact `id`.
    pub fn attestations_about(&mut self, id: i64) -> Result<Vec<StoredAttestation>, LineageError> {
        let rows = self.query(
            "SELECT a.id, a.bundle_digest, a.kind, a.stage, a.signer, a.trusted_as, a.started, a.finished, a.seconds
             FROM attestations a JOIN subjects s ON s.attestation = a.id
             WHERE s.artifact = $1 ORDER BY a.id",
            &[id.into()],
        )?;
        Ok(rows
            .iter()
            .filter_map(|row| Some(attestation(row.first()?.int()?, &row[1..])))
            .collect())
    }

    /// The kind and statement of every attestation naming the artifact `id`, as a subject
    /// or as an input.
    pub fn statements_naming(&mut self, id: i64) -> Result<Vec<(String, String)>, LineageError> {
        let rows = self.query(
            "SELECT kind, statement FROM attestations WHERE id IN (
                SELECT attestation FROM subjects WHERE artifact = $1
                UNION SELECT attestation FROM edges WHERE input = $1
             ) ORDER BY id",
            &[id.into()],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.first()?.text()?.to_owned(), r.get(1)?.text()?.to_owned())))
            .collect())
    }

    /// Every stored statement (JSON), with its kind, in the order stored.
    pub fn statements(&mut self) -> Result<Vec<(String, String, String)>, LineageError> {
        let rows = self.query(
            "SELECT bundle_digest, kind, statement FROM attestations ORDER BY id",
            &[],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some((
                    r.first()?.text()?.to_owned(),
                    r.get(1)?.text()?.to_owned(),
                    r.get(2)?.text()?.to_owned(),
                ))
            })
            .collect())
    }

    /// How many artifacts, attestations and edges the store holds.
    pub fn counts(&mut self) -> Result<(u64, u64, u64), LineageError> {
        let count = |store: &mut Store, table: &str| -> Result<u64, LineageError> {
            let rows = store.query(&format!("SELECT COUNT(*) FROM {table}"), &[])?;
            Ok(first_int(&rows).map_or(0, |n| u64::try_from(n).unwrap_or(0)))
        };
        Ok((
            count(self, "artifacts")?,
            count(self, "attestations")?,
            count(self, "edges")?,
        ))
    }
}

/// Whether `reference` is `ALGORITHM:` and at least 8 hex digits (a digest shortened),
/// optionally ending in `…`.
fn is_digest_prefix(reference: &str) -> bool {
    let Some((algorithm, hex)) = reference.split_once(':') else {
        return false;
    };
    let hex = hex.trim_end_matches('…');
    matches!(algorithm, "sha256" | "gitCommit")
        && hex.len() >= 8
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The key prefix of an artifact only named, never digested: `uri:<uri or name>`.
const NAMED_ONLY: &str = "uri:";

/// How many ids one `IN (…)` lists: far below SQLite's and PostgreSQL's limits on bound
/// parameters.
const ID_BATCH: usize = 500;

/// `$1, $2, …` for `ids`, and the ids as parameters.
fn id_list(ids: &[i64]) -> (String, Vec<SqlValue>) {
    let list = (1..=ids.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    (list, ids.iter().map(|&id| SqlValue::Int(id)).collect())
}

fn first_int(rows: &[Vec<SqlValue>]) -> Option<i64> {
    rows.first()?.first()?.int()
}

fn edge(row: &[SqlValue]) -> Option<Edge> {
    Some(Edge {
        input: row.first()?.int()?,
        output: row.get(1)?.int()?,
        role: row.get(2)?.text()?.to_owned(),
        status: EdgeStatus::parse(row.get(3)?.text()?),
        attestation: row.get(4)?.int()?,
    })
}

fn attestation(id: i64, row: &[SqlValue]) -> StoredAttestation {
    let text = |i: usize| row.get(i).and_then(SqlValue::text).map(str::to_owned);
    StoredAttestation {
        id,
        facts: AttestationFacts {
            bundle_digest: text(0).unwrap_or_default(),
            kind: text(1).unwrap_or_default(),
            stage: text(2),
            signer: text(3).unwrap_or_default(),
            trusted_as: text(4).unwrap_or_default(),
            started: text(5),
            finished: text(6),
            seconds: row.get(7).and_then(SqlValue::real),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's planner, given no statistics, once chose to scan all of `edges` and probe
    /// the reached set for each row: 70 ms instead of 2 ms on a million edges. The plan must
    /// walk the reached set and look each id up in an edge index, whatever the table holds.
    #[test]
    fn sqlite_walks_the_reached_set_through_the_edge_indexes() {
        let mut store = Store::in_memory().expect("an in-memory store");
        for downstream in [true, false] {
            let sql = reachable_edges_sql(Dialect::Sqlite, downstream);
            let plan = store
                .query(&format!("EXPLAIN QUERY PLAN {sql}"), &[1.into()])
                .expect("a query plan");
            let steps: Vec<String> = plan
                .iter()
                .filter_map(|row| row.get(3).and_then(SqlValue::text).map(str::to_string))
                .collect();
            assert!(
                steps.iter().any(|step| step.starts_with("SEARCH e USING")),
                "downstream {downstream}: no edge index lookup in {steps:#?}"
            );
            assert!(
                !steps.iter().any(|step| step == "SCAN e"),
                "downstream {downstream}: a scan of every edge in {steps:#?}"
            );
        }
    }
}
