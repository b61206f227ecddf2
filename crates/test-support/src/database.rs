//! A PostgreSQL schema of its own for each test that runs the lineage store on the server
//! `scripts/test.sh` starts, so that tests running in parallel never see each other's rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the test server: `postgres://USER:PASSWORD@127.0.0.1:PORT/DB`.
pub const POSTGRES_URL_VARIABLE: &str = "MODELSIGN_TEST_POSTGRES_URL";

/// A schema created for one test on the server `$MODELSIGN_TEST_POSTGRES_URL` names, and
/// dropped, with everything in it, when this is dropped.
pub struct PostgresSchema {
    admin: postgres::Client,
    server_url: String,
    name: String,
}

impl PostgresSchema {
    /// Creates a schema with a name no other test uses. Without the variable: `None`
    /// outside CI (the caller skips, and this says so), a failure in CI, where
    /// scripts/test.sh starts the server. A server that is named but cannot be reached
    /// is always a failure.
    pub fn create() -> Option<Self> {
        let Some(server_url) = std::env::var(POSTGRES_URL_VARIABLE)
            .ok()
            .filter(|url| !url.is_empty())
        else {
            assert!(
                !crate::in_ci(),
                "{POSTGRES_URL_VARIABLE} is not set in CI: scripts/test.sh starts a PostgreSQL \
                 server and sets it; the lineage store's PostgreSQL tests cannot run"
            );
            eprintln!(
                "SKIPPED on PostgreSQL: {POSTGRES_URL_VARIABLE} is not set (scripts/test.sh sets it)"
            );
            return None;
        };
        let mut admin = postgres::Client::connect(&server_url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VARIABLE}: {e:?}"));
        let name = unique_name();
        admin
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap_or_else(|e| panic!("CREATE SCHEMA {name}: {e:?}"));
        Some(PostgresSchema {
            admin,
            server_url,
            name,
        })
    }

    /// A URL of the server whose connections use this schema (and only it) for every
    /// table they create and read.
    pub fn url(&self) -> String {
        let separator = if self.server_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.server_url, self.name
        )
    }

    /// [`PostgresSchema::url`] without its password, and the password: what a user gives
    /// as `--db` and as `PGPASSWORD`, to keep the password off the command line.
    pub fn url_and_password(&self) -> (String, Option<String>) {
        let url = self.url();
        let Some((scheme, rest)) = url.split_once("://") else {
            return (url, None);
        };
        match rest.split_once('@') {
            Some((user_information, host)) => match user_information.split_once(':') {
                Some((user, password)) => (
                    format!("{scheme}://{user}@{host}"),
                    Some(password.to_owned()),
                ),
                None => (url.clone(), None),
            },
            None => (url.clone(), None),
        }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let dropped = self
            .admin
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        if let Err(e) = dropped {
            eprintln!("warning: DROP SCHEMA {} failed: {e:?}", self.name);
        }
    }
}

/// `modelsign_test_<process>_<count>_<nanoseconds>`: unique among the processes running at
/// once (their ids differ) and within one (the count), and unlike any left by an earlier
/// run that died before dropping its schema (the time).
fn unique_name() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanoseconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "modelsign_test_{}_{}_{nanoseconds}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}
