//! Migrations: idempotent, and safe to run from several instances at once.

use callpark_postgres::{MIGRATIONS, run_migrations};
use diesel::migration::MigrationSource;

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_apply_nothing_twice() {
    let db = support::TestDb::create().await; // already migrated once
    let config = db.config();
    let (a, b) = tokio::join!(run_migrations(&config), run_migrations(&config));
    assert_eq!((a.unwrap(), b.unwrap()), (vec![], vec![]));
    let applied = db
        .query("SELECT version FROM __diesel_schema_migrations")
        .await;
    let embedded = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).unwrap();
    assert_eq!(applied.len(), embedded.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_gets_every_migration_and_the_functions() {
    let db = support::TestDb::create().await;
    let functions = db
        .query(
            "SELECT proname::text FROM pg_proc WHERE proname LIKE 'callpark\\_%' ORDER BY proname",
        )
        .await;
    let names: Vec<String> = functions.iter().map(|row| row.get(0)).collect();
    assert_eq!(
        names,
        [
            "callpark_apply",
            "callpark_apply_and_set_agent",
            "callpark_claim_slot",
            "callpark_link_browser_leg",
            "callpark_notify",
            "callpark_notify_all",
            "callpark_record_call",
            "callpark_set_agent_status",
        ]
    );
}

/// Migrations also run on a single-threaded runtime, which is what actix gives the app.
#[tokio::test(flavor = "current_thread")]
async fn migrations_run_on_a_current_thread_runtime() {
    let db = support::TestDb::create().await;
    assert_eq!(
        run_migrations(&db.config()).await.unwrap(),
        Vec::<String>::new()
    );
}
