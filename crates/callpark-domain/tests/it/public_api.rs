//! The crate's public API is deliberate: `public-api.txt` lists it, and this test fails when
//! the source no longer matches the listing, so a change of the API is never an accident.
//!
//! The listing comes from a walk of `src/`: every `pub` item (not `pub(crate)`/`pub(super)`)
//! with the attributes in front of it (derives, features, mocks) and the block it sits in
//! (its type, trait, impl or macro arm), every variant of a public enum, every method of a
//! public trait, every trait `impl` for a public type, every macro invocation and every item a
//! `macro_rules!` template makes. The workspace's `unreachable_pub` lint (an error under
//! `clippy -D warnings`) keeps every `pub` item in `src/` reachable. Doc comments and function
//! bodies are not part of it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const LISTING: &str = "public-api.txt";
const HINT: &str = "UPDATE_PUBLIC_API=1 cargo nextest run -p callpark-domain";

/// A line without its string literals and comment, for counting braces.
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            _ if !in_string => code.push(c),
            _ => {}
        }
    }
    code
}

fn depth_change(code: &str) -> i32 {
    code.chars()
        .map(|c| match c {
            '{' | '(' => 1,
            '}' | ')' => -1,
            _ => 0,
        })
        .sum()
}

/// Whether a line starts something the listing names.
fn is_listed(line: &str, parent: Option<&str>) -> bool {
    let public = line.starts_with("pub ");
    let in_pub_enum_or_trait = parent.is_some_and(|p| {
        p.contains("pub enum ")
            || p.contains("pub trait ")
            || p.starts_with("macro_rules!")
            // A variant with named fields, of a public enum.
            || p.chars().all(|c| c.is_alphanumeric() || c == '_')
    });
    let opens_context = line.starts_with("impl") || line.starts_with("macro_rules!");
    let invocation = !line.starts_with("macro_rules!")
        && line.split_once('!').is_some_and(|(name, rest)| {
            name.chars().all(|c| c.is_alphanumeric() || c == '_')
                && (rest.starts_with('(') || rest.starts_with(" {"))
        });
    public
        || opens_context
        || (invocation && parent.is_none_or(|p| p.starts_with("macro_rules!")))
        || (in_pub_enum_or_trait && !line.starts_with('#') && !line.starts_with('}'))
}

/// The types of the crate that are not public (`struct Before`, `pub(super) enum ApplyError`).
fn private_types(sources: &[String]) -> HashSet<String> {
    let mut names = HashSet::new();
    for line in sources.iter().flat_map(|s| s.lines()).map(str::trim) {
        let rest = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub(super) "))
            .unwrap_or(line);
        for kind in ["struct ", "enum ", "trait ", "type "] {
            if let Some(name) = rest.strip_prefix(kind) {
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.insert(name);
            }
        }
    }
    names
}

/// Whether an `impl` header is API: a trait implemented for a public type with public types.
/// An inherent `impl` is shown as the context of its public items instead.
fn impl_is_listed(header: &str, private: &HashSet<String>) -> bool {
    let mentions_private = header
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| private.contains(word));
    header.contains(" for ") && !mentions_private
}

/// The listing of one file: one line per item, `file: context > item`.
fn list_file(root: &Path, path: &Path, private: &HashSet<String>, out: &mut String) {
    let source = std::fs::read_to_string(path).expect("a readable source file");
    let file = path
        .strip_prefix(root)
        .expect("under src")
        .display()
        .to_string();
    // (the depth a block opened at, its header)
    let mut blocks: Vec<(i32, String)> = Vec::new();
    let mut depth = 0;
    let mut attrs: Vec<String> = Vec::new();
    let mut lines = source.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line.starts_with("//") || line.starts_with("#[doc") || line.starts_with("#[error") {
            continue;
        }
        let parent = blocks.last().map(|(_, h)| h.as_str());
        if line.starts_with("#[") {
            attrs.push(line.to_owned());
        } else if is_listed(line, parent) && !line.is_empty() {
            // Join a signature spread over several lines, up to its body or end.
            let mut item = line.to_owned();
            let mut code = code_of(line);
            let mut open = depth_change(&code);
            while open > 0 && (item.starts_with("pub use") || !code.trim_end().ends_with('{')) {
                let next = lines.next().map_or("", str::trim);
                if !next.starts_with("//") && !next.starts_with("#[doc") {
                    item.push(' ');
                    item.push_str(next);
                }
                let next_code = code_of(next);
                open += depth_change(&next_code);
                code.push_str(&next_code);
            }
            let header = item
                .trim_end_matches('{')
                .trim()
                .replace("( ", "(")
                .replace(", )", ")")
                .replace(" )", ")");
            let context = parent.map_or(String::new(), |p| format!("{p} > "));
            let shown = [attrs.join(" "), header.clone()]
                .join(" ")
                .trim()
                .to_owned();
            if !header.starts_with("impl") || impl_is_listed(&header, private) {
                writeln!(out, "{file}: {context}{shown}").expect("a String");
            }
            attrs.clear();
            // Only bodies of functions are left out; other blocks are where items live.
            let is_fn = header.contains("fn ");
            let opened = depth_change(&code.replace(['(', ')'], ""));
            if opened > 0 && !is_fn {
                blocks.push((depth, header));
            }
            depth += opened;
        } else {
            attrs.clear();
            depth += depth_change(&code_of(line).replace(['(', ')'], ""));
        }
        while blocks.last().is_some_and(|(at, _)| depth <= *at) {
            blocks.pop();
        }
    }
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs")
            // The value types' unit tests (`#[cfg(test)] mod tests`).
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            files.push(path);
        }
    }
}

fn listing() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let sources: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("a readable source file"))
        .collect();
    let private = private_types(&sources);
    let mut out = String::new();
    for file in &files {
        list_file(&root, file, &private, &mut out);
    }
    out
}

#[test]
fn the_public_api_is_the_checked_in_listing() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(LISTING);
    let actual = listing();
    if std::env::var_os("UPDATE_PUBLIC_API").is_some() {
        std::fs::write(&path, &actual).expect("the listing written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    let removed: Vec<&str> = expected
        .lines()
        .filter(|l| !actual.lines().any(|a| a == *l))
        .collect();
    let added: Vec<&str> = actual
        .lines()
        .filter(|l| !expected.lines().any(|e| e == *l))
        .collect();
    let mut diff = String::new();
    for line in &removed {
        writeln!(diff, "- {line}").expect("a String");
    }
    for line in &added {
        writeln!(diff, "+ {line}").expect("a String");
    }
    assert!(
        actual == expected,
        "the public API changed (- removed, + added):\n{diff}\nIf that is intended, update \
         {LISTING} with `{HINT}` and commit it."
    );
}

#[test]
fn the_walk_sees_items_fields_variants_methods_and_macros() {
    let listing = listing();
    for expected in [
        "ports/telephony.rs: pub struct PstnLeg > pub sid: CallSid,",
        "machine.rs: pub enum ParkState > Parking,",
        "ports/mod.rs: SlotOutOfRange > lot_size: LotSize,",
        "ports/telephony.rs: #[cfg_attr(feature = \"mocks\", mockall::automock)] #[async_trait] pub trait Telephony: Send + Sync",
        "ports/telephony.rs: pub trait Telephony: Send + Sync > async fn redirect(&self, call: &CallSid, url: &HttpUrl, status_callback: &HttpUrl) -> Result<(), TelephonyError>;",
        "service/retrieve.rs: impl ParkingService > pub async fn retrieve(",
        "values/ids.rs: sid_type!(CallSid, \"CA\", \"call SID\");",
        "values/ids.rs: ($(#[$meta:meta])* $name:ident, $prefix:literal, $kind:literal) => > #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)] pub struct $name(String);",
        "testkit/conformance/mod.rs: ($d:tt $($module:ident::$check:ident),* $(,)?) => > #[macro_export] macro_rules! store_conformance_tests",
        "lib.rs: pub use values::{",
    ] {
        assert!(
            listing.lines().any(|l| l.starts_with(expected)),
            "{expected:?} not in:\n{listing}"
        );
    }
    // Bodies are not API: nothing from inside a function.
    assert!(!listing.contains("let "), "{listing}");
}
