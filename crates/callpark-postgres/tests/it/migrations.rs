//! Migrations: idempotent, and safe to run from several instances at once.

use callpark_postgres::{MIGRATIONS, run_migrations};
use diesel::migration::MigrationSource;

use crate::support::TestDb;

fn embedded() -> usize {
    MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len()
}

/// A database migrated here, rather than cloned from the migrated template.
async fn migrated_here() -> TestDb {
    let db = TestDb::empty().await;
    let applied = run_migrations(&db.config()).await.unwrap();
    assert_eq!(applied.len(), embedded());
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_apply_nothing_twice() {
    let db = migrated_here().await;
    let config = db.config();
    let (a, b) = tokio::join!(run_migrations(&config), run_migrations(&config));
    assert_eq!((a.unwrap(), b.unwrap()), (vec![], vec![]));
    let applied = db
        .query("SELECT version FROM __diesel_schema_migrations")
        .await;
    assert_eq!(applied.len(), embedded());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_gets_every_migration_and_the_functions() {
    let db = migrated_here().await;
    let functions = db
        .query(
            "SELECT proname::text FROM pg_proc WHERE proname LIKE 'callpark\\_%' ORDER BY proname",
        )
        .await;
    let names: Vec<String> = functions.iter().map(|row| row.get(0)).collect();
    assert_eq!(
        names,
        [
            "callpark_agent_became_available",
            "callpark_agents_to_ring",
            "callpark_apply",
            "callpark_apply_and_set_agent",
            "callpark_change_org",
            "callpark_claim_slot",
            "callpark_inactive_agents_stay_offline",
            "callpark_link_browser_leg",
            "callpark_notify_all",
            "callpark_record_call",
            "callpark_record_leg_status",
            "callpark_set_agent_status",
        ]
    );
}

/// Migrations also run on a single-threaded runtime, which is what actix gives the app.
#[tokio::test(flavor = "current_thread")]
async fn migrations_run_on_a_current_thread_runtime() {
    let db = migrated_here().await;
    assert_eq!(
        run_migrations(&db.config()).await.unwrap(),
        Vec::<String>::new()
    );
}
