//! Test databases (feature `test-db`): the one helper the store's tests, its benchmark and the
//! app's tests share.
//!
//! Each [`TestDb`] is a database of its own on the server that `DATABASE_URL` names (an admin
//! URL: the user may create databases), dropped, connections and all, when the guard is.
//! [`TestDb::migrated`] clones a template that was migrated once: creating a database from a
//! template is a file copy, much cheaper than running every migration again in each test. The
//! template is named after a fingerprint of the migrations, so a changed migration gets a new
//! one, and worktrees with different migrations can share a server. Templates of migrations
//! since changed stay on the server (no run can tell whether another still uses one); drop them
//! with `ALTER DATABASE … IS_TEMPLATE false` and `DROP DATABASE …` when they pile up (the
//! throwaway cluster of `scripts/test-postgres.sh` takes them all with it).
//!
//! Without a reachable server the tests fail, saying how to get one: they never skip.

use std::path::Path;

use tokio::sync::OnceCell;
use tokio_postgres::{Client, NoTls, Row};

use crate::{PgConfig, run_migrations};

/// The server's default when `DATABASE_URL` is not set: what `scripts/test-postgres.sh`
/// looks for first.
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Serialises the making of templates across test processes.
const TEMPLATE_LOCK: i64 = 0x6361_6c6c_7465_6d70; // "calltemp"

/// The template's name, once this process has made sure it exists.
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Where tests find a PostgreSQL they may create databases in: `DATABASE_URL`, or the local
/// server.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// `url` with its database replaced by `name`, for URLs and key/value strings alike.
pub fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // In key/value strings a later key wins.
        return format!("{url} dbname={name}");
    };
    let (rest, query) = rest
        .split_once('?')
        .map_or((rest, None), |(r, q)| (r, Some(q)));
    let authority = rest.split('/').next().unwrap_or(rest);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A connection to `url`, its connection task spawned on the current runtime.
///
/// # Panics
/// When the server cannot be reached, saying how to provide one.
pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot reach PostgreSQL at {url:?}: {e:?}. These tests need a real server: run \
                 them through scripts/test.sh (which sources scripts/test-postgres.sh), or \
                 start one and set DATABASE_URL to an admin URL."
            )
        });
    tokio::spawn(connection);
    client
}

/// Runs `sql` on `client`, failing the test with the statement when it fails.
async fn execute(client: &Client, sql: &str) {
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql:?} failed: {e:?}"));
}

/// A database of its own for one test (or benchmark); dropped with the guard.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// A database with every migration applied, cloned from the template.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses.
    pub async fn migrated() -> Self {
        let template = TEMPLATE.get_or_init(make_template).await;
        Self::create(&format!("TEMPLATE {template}")).await
    }

    /// An empty database, for tests of migrating one.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses.
    pub async fn empty() -> Self {
        Self::create("").await
    }

    async fn create(options: &str) -> Self {
        let name = format!("callpark_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url()).await;
        execute(&admin, &format!("CREATE DATABASE {name} {options}")).await;
        Self {
            url: with_database(&admin_url(), &name),
            name,
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A store configuration for this database, with a pool of 8.
    pub fn config(&self) -> PgConfig {
        let mut config = PgConfig::new(self.url.clone());
        config.pool_size = 8;
        config
    }

    /// Runs `sql` as the admin, in the admin database (for cluster-wide views and commands).
    ///
    /// # Panics
    /// When the query fails.
    pub async fn admin(&self, sql: &str) -> Vec<Row> {
        query(&connect(&admin_url()).await, sql).await
    }

    /// A connection of its own to this database.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }

    /// Runs `sql` in this database, on a connection of its own.
    ///
    /// # Panics
    /// When the query fails.
    pub async fn query(&self, sql: &str) -> Vec<Row> {
        query(&self.client().await, sql).await
    }
}

async fn query(client: &Client, sql: &str) -> Vec<Row> {
    client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("query {sql:?} failed: {e:?}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime, which must not block on itself: use a thread
        // with a runtime of its own.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                connect(&admin_url())
                    .await
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!(
                "dropping the test database {} failed: {dropped:?}",
                self.name
            );
        }
    }
}

/// Makes sure the template of the current migrations exists, and returns its name.
///
/// Test processes start at once: they take turns on an advisory lock, and the first makes the
/// template. Marking it a template (which also closes it to connections) is the last step, so
/// a template left half-made by a process that died is recognised and made again.
async fn make_template() -> String {
    let name = format!("callpark_template_{:016x}", fingerprint());
    let admin = connect(&admin_url()).await;
    let run = async |sql: &str| execute(&admin, sql).await;
    run(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).await;
    let ready: Option<bool> = admin
        .query_opt(
            "SELECT datistemplate FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .expect("pg_database read")
        .map(|row| row.get(0));
    if ready != Some(true) {
        run(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        run(&format!("CREATE DATABASE {name}")).await;
        run_migrations(&PgConfig::new(with_database(&admin_url(), &name)))
            .await
            .expect("the template migrated");
        run(&format!(
            "ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
        ))
        .await;
    }
    run(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})")).await;
    name
}

/// FNV-1a over the migrations' paths and contents, read from the crate's sources (the
/// embedded migrations keep no text to hash): stable across builds and toolchains.
fn fingerprint() -> u64 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let content = std::fs::read(&file).unwrap_or_default();
        let relative = file.strip_prefix(&root).unwrap_or(&file).to_string_lossy();
        for byte in relative.bytes().chain(content) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced_in_urls_and_key_value_strings() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres?sslmode=disable", "t"),
            "postgres://u:p@h:5/t?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "t"), "postgresql://h/t");
        assert_eq!(
            with_database("host=h user=u", "t"),
            "host=h user=u dbname=t"
        );
    }

    #[test]
    fn the_fingerprint_covers_the_migrations() {
        assert_ne!(
            fingerprint(),
            0xcbf2_9ce4_8422_2325,
            "no migration was read"
        );
    }
}
