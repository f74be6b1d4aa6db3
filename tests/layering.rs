//! The layering `src/lib.rs` states, checked against the code: every
//! `crate::<module>` path in a file of `src/` (outside comments) must name
//! a module of the same layer or of a lower one.
//!
//! The layers, lowest first (the table in `src/lib.rs` says the same):
//!
//! | layer | modules |
//! |---|---|
//! | 0 | `zoo_defs`, `keeper_exception` (constants and codes) |
//! | 1 | `jute`, `common` |
//! | 2 | `config` |
//! | 3 | `persistence` |
//! | 4 | `server`, `admin` (Java's `server.admin`) |
//! | 5 | `quorum` |
//!
//! An arrow against the layering that is still there is listed in
//! [`KNOWN_UPWARD`] with its file; the list may only shrink: the test fails
//! on an upward arrow not listed, and on a listed one that is gone.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The layer of each top-level module of the library.
const LAYERS: &[(&str, u32)] = &[
    ("zoo_defs", 0),
    ("keeper_exception", 0),
    ("jute", 1),
    ("common", 1),
    ("config", 2),
    ("persistence", 3),
    ("server", 4),
    ("admin", 4),
    ("quorum", 5),
];

/// Upward arrows still in the code: (file under `src/`, module it names).
const KNOWN_UPWARD: &[(&str, &str)] = &[];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {}", dir.display(), e))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source with comments and string literals blanked out, so a doc
/// comment or a message that mentions `crate::x` is not an import.
fn code_only(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(source.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(source.len(), |n| i + n + 2);
            i = end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].bytes().take_while(|b| *b == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            let end = rest[body..]
                .find(&close)
                .map_or(source.len(), |n| i + body + n + close.len());
            out.push_str("\"\"");
            i = end;
        } else if rest.starts_with('"') {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if rest.starts_with("'\"'") {
            i += 3;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The top-level modules a piece of code names through `crate::`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::`, or part of a longer name
        }
        let name: String = code[at + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

/// The top-level module a file under `src/` belongs to; `None` for the
/// crate root and the binaries.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    layer(name).map(|_| name.to_string())
}

/// Every arrow in the library: (file, its module, the module it names).
fn arrows() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap().to_path_buf();
        let Some(module) = module_of(&relative) else {
            continue;
        };
        let source = fs::read_to_string(&file).unwrap();
        for target in named_modules(&code_only(&source)) {
            if target != module {
                out.push((relative.display().to_string(), module.clone(), target));
            }
        }
    }
    out
}

#[test]
fn no_module_imports_a_higher_layer() {
    let mut upward = BTreeSet::new();
    for (file, from, to) in arrows() {
        let to_layer = layer(&to)
            .unwrap_or_else(|| panic!("{} names crate::{}, a module not in LAYERS", file, to));
        let from_layer = layer(&from).unwrap();
        let sideways = to_layer == from_layer && !same_layer_allowed(&from, &to);
        if to_layer > from_layer || sideways {
            upward.insert((file, to));
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_UPWARD
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    let new: Vec<_> = upward.difference(&known).collect();
    let gone: Vec<_> = known.difference(&upward).collect();
    assert!(
        new.is_empty(),
        "imports against the layering of src/lib.rs (file, module it names): {:?}",
        new
    );
    assert!(
        gone.is_empty(),
        "arrows listed in KNOWN_UPWARD are gone; remove them from the list: {:?}",
        gone
    );
}

/// Modules of one layer that may name each other: the server and its
/// AdminServer (Java's `server.admin` package); the other pairs of one
/// layer know nothing of each other.
fn same_layer_allowed(from: &str, to: &str) -> bool {
    matches!((from, to), ("admin", "server") | ("server", "admin"))
}

#[test]
fn the_scanner_sees_imports_and_skips_comments_and_strings() {
    let code = code_only(
        "//! see crate::quorum\nuse crate::jute::data;\nlet s = \"crate::admin\";\n/* crate::x */ $crate::y; fn f() { crate::server::g() }",
    );
    let names: Vec<_> = named_modules(&code).into_iter().collect();
    assert_eq!(names, ["jute", "server"]);
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|r| r.strip_suffix(';'))
        {
            assert!(
                layer(name).is_some(),
                "src/lib.rs declares {} but LAYERS has no layer for it",
                name
            );
        }
    }
}
