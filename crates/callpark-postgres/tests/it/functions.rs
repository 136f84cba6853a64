//! `sql/functions.sql` is what the migrations add up to: every `callpark_*` function of a
//! migrated database, defined exactly as the file defines it, and no other.

use std::collections::BTreeMap;

use crate::support::TestDb;

const FUNCTIONS: &str = include_str!("../../sql/functions.sql");
/// Where the file's functions are created, beside the migrated ones in `public`.
const SCRATCH: &str = "callpark_functions_file";

/// `name(identity arguments)` → definition, for the `callpark_*` functions of `schema`. The
/// definition's header names the schema; it is left out so that the two schemas compare.
async fn functions(db: &TestDb, schema: &str) -> BTreeMap<String, String> {
    db.query(&format!(
        "SELECT p.proname::text, pg_get_function_identity_arguments(p.oid), \
                pg_get_functiondef(p.oid) \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
          WHERE n.nspname = '{schema}' AND p.proname LIKE 'callpark\\_%'"
    ))
    .await
    .iter()
    .map(|row| {
        let (name, arguments) = (row.get::<_, String>(0), row.get::<_, String>(1));
        let definition = row.get::<_, String>(2).replacen(
            &format!("FUNCTION {schema}.{name}("),
            &format!("FUNCTION {name}("),
            1,
        );
        (format!("{name}({arguments})"), definition)
    })
    .collect()
}

#[tokio::test]
async fn the_file_defines_the_functions_the_migrations_leave() {
    let db = TestDb::migrated().await;
    // The file's functions go to the first schema of the search path; the tables and row
    // types their bodies name are found in `public`, as for the migrated ones.
    db.client()
        .await
        .batch_execute(&format!(
            "CREATE SCHEMA {SCRATCH}; SET search_path = {SCRATCH}, public; {FUNCTIONS}"
        ))
        .await
        .expect("sql/functions.sql runs");
    let (migrated, file) = (
        functions(&db, "public").await,
        functions(&db, SCRATCH).await,
    );
    assert!(!migrated.is_empty());
    assert_eq!(
        migrated.keys().collect::<Vec<_>>(),
        file.keys().collect::<Vec<_>>(),
        "the migrations (left) and sql/functions.sql (right) define different functions"
    );
    for (function, definition) in &migrated {
        assert_eq!(
            definition, &file[function],
            "{function} as migrated (left) and in sql/functions.sql (right)"
        );
    }
}
