//! The domain stays free of I/O: no runtime, web framework, database, HTTP client or
//! serialisation crate among its normal dependencies. This runs the real `cargo tree`.

use std::process::Command;

/// Crate families the domain must not depend on (the crate itself or any `name-*`/`name_*`).
const FORBIDDEN: [&str; 6] = ["tokio", "actix", "diesel", "reqwest", "hyper", "serde"];

fn is_forbidden(name: &str) -> bool {
    FORBIDDEN.iter().any(|family| {
        name == *family
            || name
                .strip_prefix(family)
                .is_some_and(|rest| rest.starts_with('-') || rest.starts_with('_'))
    })
}

#[test]
fn forbidden_names_are_recognised() {
    for name in [
        "tokio",
        "tokio-macros",
        "actix-web",
        "diesel_migrations",
        "serde_json",
    ] {
        assert!(is_forbidden(name), "{name}");
    }
    for name in ["time", "tokio2", "serdes", "hyperloglog", "uuid"] {
        assert!(!is_forbidden(name), "{name}");
    }
}

#[test]
fn normal_dependencies_hold_no_runtime_web_sql_or_serde_crate() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "callpark-domain",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo tree failed: {stderr}");
    let tree = String::from_utf8(output.stdout).expect("UTF-8 output");
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    // The listing is real: the crate itself and a dependency it is known to have are there.
    assert!(names.contains(&"callpark-domain"), "{tree}");
    assert!(names.contains(&"time"), "{tree}");
    let found: Vec<&str> = names.into_iter().filter(|n| is_forbidden(n)).collect();
    assert!(
        found.is_empty(),
        "forbidden dependencies: {found:?}\n{tree}"
    );
}
