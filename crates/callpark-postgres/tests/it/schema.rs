//! `src/schema.rs` matches the migrations: the tables, their columns in order with their types
//! and nullability, their primary keys and the foreign keys diesel joins on, as a migrated
//! database has them. When this fails, regenerate the file (`diesel print-schema`, configured
//! by `diesel.toml`) against a migrated database.
//!
//! Both sides are rendered in one text form, so a failure shows the difference line by line.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::support::TestDb;

const SCHEMA_RS: &str = include_str!("../../src/schema.rs");

/// The tables, columns, keys and joins `schema.rs` declares.
fn declared(source: &str) -> String {
    let mut out = String::new();
    let mut joins = BTreeSet::new();
    let mut lines = source.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == "diesel::table! {" {
            let header = lines.next().expect("a table's name");
            let (table, keys) = header
                .trim_end_matches('{')
                .trim()
                .split_once(' ')
                .expect("`name (keys) {`");
            writeln!(out, "table {table} {keys}").unwrap();
            for column in lines.by_ref().take_while(|l| *l != "}") {
                let (name, sql_type) = column
                    .trim_end_matches(',')
                    .split_once(" -> ")
                    .unwrap_or_else(|| panic!("`column -> Type,` in {table}: {column:?}"));
                writeln!(out, "  {name} {sql_type}").unwrap();
            }
        } else if let Some(join) = line.strip_prefix("diesel::joinable!(") {
            joins.insert(join.trim_end_matches(");").to_owned());
        }
    }
    for join in joins {
        writeln!(out, "join {join}").unwrap();
    }
    out
}

/// The diesel type of a column of PostgreSQL type `udt`.
fn diesel_type(udt: &str, nullable: bool) -> String {
    let base = match udt {
        "bool" => "Bool",
        "bytea" => "Bytea",
        "int2" => "Int2",
        "int4" => "Int4",
        "int8" => "Int8",
        "float4" => "Float4",
        "float8" => "Float8",
        "numeric" => "Numeric",
        "text" => "Text",
        "varchar" => "Varchar",
        "date" => "Date",
        "timestamp" => "Timestamp",
        "timestamptz" => "Timestamptz",
        "json" => "Json",
        "jsonb" => "Jsonb",
        "uuid" => "Uuid",
        other => return format!("<unmapped type {other}>"),
    };
    if nullable {
        format!("Nullable<{base}>")
    } else {
        base.to_owned()
    }
}

/// The same, as the migrated database has them.
async fn migrated(db: &TestDb) -> String {
    // The tables of `alias`'s view that are the migrations' (not diesel's own).
    let user_tables = |alias: &str| {
        format!(
            "{alias}.table_schema = 'public' AND {alias}.table_name <> '__diesel_schema_migrations'"
        )
    };
    let keys = db
        .query(&format!(
            "SELECT tc.table_name::text, string_agg(k.column_name::text, ', ' ORDER BY k.ordinal_position) \
               FROM information_schema.table_constraints tc \
               JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) \
              WHERE tc.constraint_type = 'PRIMARY KEY' AND {} \
              GROUP BY tc.table_name ORDER BY tc.table_name",
            user_tables("tc")
        ))
        .await;
    let columns = db
        .query(&format!(
            "SELECT table_name::text, column_name::text, udt_name::text, is_nullable = 'YES' \
               FROM information_schema.columns c WHERE {} \
              ORDER BY table_name, ordinal_position",
            user_tables("c")
        ))
        .await;
    // diesel joins on single-column foreign keys.
    let joins = db
        .query(
            "SELECT child.relname::text, parent.relname::text, a.attname::text \
               FROM pg_constraint c \
               JOIN pg_class child ON child.oid = c.conrelid \
               JOIN pg_class parent ON parent.oid = c.confrelid \
               JOIN pg_namespace n ON n.oid = child.relnamespace \
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
              WHERE c.contype = 'f' AND n.nspname = 'public' AND cardinality(c.conkey) = 1 \
              ORDER BY 1, 2, 3",
        )
        .await;
    let mut out = String::new();
    for key in &keys {
        let table: String = key.get(0);
        writeln!(out, "table {table} ({})", key.get::<_, String>(1)).unwrap();
        for column in columns.iter().filter(|c| c.get::<_, String>(0) == table) {
            let name: String = column.get(1);
            writeln!(
                out,
                "  {name} {}",
                diesel_type(column.get(2), column.get(3))
            )
            .unwrap();
        }
    }
    let tables_without_keys: Vec<String> = columns
        .iter()
        .map(|c| c.get::<_, String>(0))
        .filter(|t| !keys.iter().any(|k| k.get::<_, String>(0) == *t))
        .collect();
    assert!(
        tables_without_keys.is_empty(),
        "diesel needs a primary key: {tables_without_keys:?}"
    );
    for join in &joins {
        let (child, parent, column): (String, String, String) =
            (join.get(0), join.get(1), join.get(2));
        writeln!(out, "join {child} -> {parent} ({column})").unwrap();
    }
    out
}

#[tokio::test]
async fn schema_rs_matches_the_migrations() {
    let db = TestDb::migrated().await;
    assert_eq!(
        declared(SCHEMA_RS),
        migrated(&db).await,
        "src/schema.rs (left) no longer matches the migrations (right): regenerate it with \
         `diesel print-schema` (see diesel.toml)"
    );
}

#[test]
fn a_column_changed_in_schema_rs_is_seen() {
    let changed = SCHEMA_RS.replacen("slot -> Int4,", "slot -> Int8,", 1);
    assert_ne!(declared(SCHEMA_RS), declared(&changed));
    assert!(declared(SCHEMA_RS).contains("table parked_calls (id)\n  id Uuid\n  org Text\n"));
}
