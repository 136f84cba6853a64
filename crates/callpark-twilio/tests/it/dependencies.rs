//! The production adapter carries no simulator: neither the sandbox nor the XML parser it (and
//! this crate's tests) read TwiML with are among its normal dependencies. This runs the real
//! `cargo tree`.

use std::process::Command;

const FORBIDDEN: [&str; 2] = ["quick-xml", "callpark-sandbox"];

#[test]
fn normal_dependencies_hold_neither_the_sandbox_nor_an_xml_parser() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "callpark-twilio",
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
    assert!(names.contains(&"callpark-twilio"), "{tree}");
    assert!(names.contains(&"reqwest"), "{tree}");
    let found: Vec<&str> = names
        .into_iter()
        .filter(|n| FORBIDDEN.contains(n))
        .collect();
    assert!(found.is_empty(), "unwanted dependencies: {found:?}\n{tree}");
}
