//! The lineage store on a PostgreSQL server: the [`Connection`] the store's SQL runs
//! through, over rust-postgres's synchronous client. The statements are the ones SQLite
//! runs; only the table definitions differ (see `migrations` in the store).

use std::collections::HashMap;
use std::time::Duration;

use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, NoTls, Row, Statement};

use super::store::{Connection, Dialect, SqlValue};

/// How long connecting may take when the URL sets no `connect_timeout`: an unreachable
/// host would otherwise hold the command for the system's TCP timeout (minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `location` names a PostgreSQL server (`postgres://…` or `postgresql://…`)
/// rather than an SQLite file.
pub(crate) fn is_url(location: &str) -> bool {
    url_rest(location).is_some()
}

/// What follows the scheme of a PostgreSQL URL.
fn url_rest(location: &str) -> Option<&str> {
    ["postgres://", "postgresql://"].iter().find_map(|scheme| {
        location
            .get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| &location[scheme.len()..])
    })
}

/// `url` as it may be shown: without the password of its user information
/// (`user:password@`) or of a `password=` parameter. Everything from the first `:` of the
/// user information to its last `@` goes, so a password with an unescaped `@` or `:` does
/// not leak either.
pub(crate) fn without_password(url: &str) -> String {
    let Some(rest) = url_rest(url) else {
        return url.to_owned();
    };
    let scheme = &url[..url.len() - rest.len()];
    let (before_query, query) = match rest.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (rest, None),
    };
    let shown = match before_query.rsplit_once('@') {
        Some((user_information, host_and_path)) => {
            let user = user_information
                .split_once(':')
                .map_or(user_information, |(user, _)| user);
            format!("{scheme}{user}@{host_and_path}")
        }
        None => format!("{scheme}{before_query}"),
    };
    let parameters: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|parameter| {
            let name = parameter
                .split_once('=')
                .map_or(*parameter, |(name, _)| name);
            !name.eq_ignore_ascii_case("password")
        })
        .collect();
    if parameters.is_empty() {
        shown
    } else {
        format!("{shown}?{}", parameters.join("&"))
    }
}

/// Connects to the server `url` names (a `postgres://` URL; TLS is not supported yet),
/// with the password of the URL, else of `PGPASSWORD`.
pub(crate) fn connect(url: &str) -> Result<Box<dyn Connection>, String> {
    if !is_url(url) {
        return Err("not a PostgreSQL URL: give postgres://USER@HOST[:PORT]/DATABASE".into());
    }
    let mut config: ::postgres::Config = url.parse().map_err(|e| describe(&e))?;
    // As libpq does: a password kept out of the URL, and so out of the process list.
    if config.get_password().is_none() {
        if let Some(password) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
            config.password(password.as_encoded_bytes());
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("modelsign");
    }
    let client = config.connect(NoTls).map_err(|e| describe(&e))?;
    Ok(Box::new(Postgres {
        client,
        statements: HashMap::new(),
    }))
}

/// A rust-postgres error with its causes: its own text names only the kind ("db error").
fn describe(error: &::postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.to_string();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

struct Postgres {
    client: Client,
    /// Statements prepared on this connection, by their SQL: the store runs a handful of
    /// statements many times.
    statements: HashMap<String, Statement>,
}

impl Postgres {
    fn prepared(&mut self, sql: &str) -> Result<Statement, String> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(|e| describe(&e))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Connection for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.client.batch_execute(sql).map_err(|e| describe(&e))
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, String> {
        let statement = self.prepared(sql)?;
        let bound = bind(&statement, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
        self.client
            .execute(&statement, &refs)
            .map_err(|e| describe(&e))
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, String> {
        let statement = self.prepared(sql)?;
        let bound = bind(&statement, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
        let rows = self
            .client
            .query(&statement, &refs)
            .map_err(|e| describe(&e))?;
        rows.iter().map(values).collect()
    }
}

type Bound = Box<dyn ToSql + Sync>;

/// Each value as the Rust type rust-postgres sends for the parameter type the server
/// inferred (an `INTEGER` column's parameter is an `int4`, a `BIGINT`'s an `int8`, …).
fn bind(statement: &Statement, params: &[SqlValue]) -> Result<Vec<Bound>, String> {
    let types = statement.params();
    if types.len() != params.len() {
        return Err(format!(
            "the statement takes {} parameters, {} given",
            types.len(),
            params.len()
        ));
    }
    params
        .iter()
        .zip(types)
        .enumerate()
        .map(|(index, (value, ty))| {
            bound(value, ty).ok_or_else(|| {
                format!(
                    "parameter ${} is {ty}: cannot bind {value:?} to it",
                    index + 1
                )
            })
        })
        .collect()
}

fn bound(value: &SqlValue, ty: &Type) -> Option<Bound> {
    let bound: Bound = match (value, ty) {
        (SqlValue::Int(i), &Type::INT8) => Box::new(*i),
        (SqlValue::Int(i), &Type::INT4) => Box::new(i32::try_from(*i).ok()?),
        (SqlValue::Int(i), &Type::INT2) => Box::new(i16::try_from(*i).ok()?),
        (SqlValue::Real(r), &Type::FLOAT8) => Box::new(*r),
        (SqlValue::Text(s), &Type::TEXT | &Type::VARCHAR) => Box::new(s.clone()),
        (SqlValue::Null, &Type::INT8) => Box::new(None::<i64>),
        (SqlValue::Null, &Type::INT4) => Box::new(None::<i32>),
        (SqlValue::Null, &Type::INT2) => Box::new(None::<i16>),
        (SqlValue::Null, &Type::FLOAT8) => Box::new(None::<f64>),
        (SqlValue::Null, &Type::TEXT | &Type::VARCHAR) => Box::new(None::<String>),
        _ => return None,
    };
    Some(bound)
}

/// A row's columns as [`SqlValue`]s, by their column types.
fn values(row: &Row) -> Result<Vec<SqlValue>, String> {
    row.columns()
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let value = match *column.type_() {
                Type::INT8 => row
                    .try_get::<_, Option<i64>>(index)
                    .map(|v| v.map(SqlValue::Int)),
                Type::INT4 => row
                    .try_get::<_, Option<i32>>(index)
                    .map(|v| v.map(|i| SqlValue::Int(i.into()))),
                Type::INT2 => row
                    .try_get::<_, Option<i16>>(index)
                    .map(|v| v.map(|i| SqlValue::Int(i.into()))),
                Type::FLOAT8 => row
                    .try_get::<_, Option<f64>>(index)
                    .map(|v| v.map(SqlValue::Real)),
                Type::TEXT | Type::VARCHAR | Type::NAME => row
                    .try_get::<_, Option<String>>(index)
                    .map(|v| v.map(SqlValue::Text)),
                ref other => {
                    return Err(format!(
                        "column {} ({}) is {other}, which the store does not read",
                        index + 1,
                        column.name()
                    ))
                }
            };
            Ok(value.map_err(|e| describe(&e))?.unwrap_or(SqlValue::Null))
        })
        .collect()
}
