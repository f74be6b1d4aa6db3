//! The guided tour in `docs/` stays true: every relative link of a page
//! points at a file of the repository, and a link whose text is code
//! (`` [`name`](path) `` or `` [`Type::name`](path) ``) names a function,
//! type, trait or constant defined in that file.

use std::fs;
use std::path::{Path, PathBuf};

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// `(text, target)` of every `[text](target)` link in a page.
fn links(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find("](") else { break };
        let text = &rest[..close];
        if text.contains('[') || text.contains('\n') {
            continue;
        }
        let after = &rest[close + 2..];
        let Some(end) = after.find(')') else { break };
        out.push((text.to_string(), after[..end].to_string()));
        rest = &after[end..];
    }
    out
}

/// The item a code link names: the last path segment, without `()`.
fn item_of(text: &str) -> Option<&str> {
    let code = text.strip_prefix('`')?.strip_suffix('`')?;
    let name = code.rsplit("::").next()?.trim_end_matches("()");
    if name.ends_with(".rs") || name.contains('/') {
        return None; // a file name, checked as a file
    }
    Some(name)
}

fn defines(source: &str, name: &str) -> bool {
    [
        "fn", "struct", "enum", "trait", "const", "type", "mod", "static",
    ]
    .iter()
    .any(|kw| {
        let needle = format!("{} {}", kw, name);
        source.match_indices(&needle).any(|(at, _)| {
            let next = source[at + needle.len()..].chars().next();
            !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn every_tour_link_points_at_what_it_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = Vec::new();
    markdown_files(&root.join("docs"), &mut pages);
    assert!(pages.len() >= 6, "the tour has its index and five pages");
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in &pages {
        let text = fs::read_to_string(page).unwrap();
        for (label, target) in links(&text) {
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let file = page
                .parent()
                .unwrap()
                .join(target.split('#').next().unwrap());
            let shown = format!(
                "{}: [{}]({})",
                page.strip_prefix(root).unwrap().display(),
                label,
                target
            );
            let Ok(source) = fs::read_to_string(&file) else {
                broken.push(format!("{} — no such file", shown));
                continue;
            };
            if let Some(name) = item_of(&label) {
                if !defines(&source, name) {
                    broken.push(format!("{} — the file defines no {}", shown, name));
                }
            }
            checked += 1;
        }
    }
    assert!(
        broken.is_empty(),
        "broken tour links:\n{}",
        broken.join("\n")
    );
    assert!(checked > 50, "only {} links checked", checked);
}

#[test]
fn the_checker_catches_a_missing_function() {
    let source = "pub fn process_txn(&self) {}\nstruct DataTree;";
    assert!(defines(source, "process_txn"));
    assert!(defines(source, "DataTree"));
    assert!(!defines(source, "process"));
    assert_eq!(item_of("`ZkDatabase::process_txn`"), Some("process_txn"));
    assert_eq!(item_of("`cork`"), Some("cork"));
    assert_eq!(item_of("`epoch_files.rs`"), None);
    assert_eq!(item_of("A client write"), None);
    let found = links("see [`a`](x.rs) and [b](y.md)");
    assert_eq!(
        found,
        [
            ("`a`".to_string(), "x.rs".to_string()),
            ("b".to_string(), "y.md".to_string())
        ]
    );
}
