//! `zk-server snapshot-recursive-summary <snapshot file> <starting node>
//! <max depth>`: Java's recursive snapshot summary
//! (`bin/zkSnapshotRecursiveSummaryToolkit.sh`, ZooKeeper 3.9) with its
//! arguments, output and exit codes.
//!
//! From the starting node down, every node that has children is printed
//! with the number of nodes below it and the data bytes of its subtree
//! (itself included), indented by `--` per level, children in the order a
//! Java server lists them (its `HashSet` order, which our
//! [`DataTree`] keeps). `max depth` limits what is printed, not what is
//! counted: 0 prints every level, 1 the starting node and its children,
//! and so on. Runs on the main thread before any server starts.
//!
//! Mirrors: `org.apache.zookeeper.server.SnapshotRecursiveSummary`.

use std::io::Write;
use std::path::Path;

use super::snapshot_comparer::load_tree;
use crate::server::data_tree::DataTree;

const EXIT_OK: i32 = 0;
const EXIT_ERROR: i32 = 1;
const EXIT_USAGE: i32 = 2;

/// Java's usage text (its blank lines come from joining with a separator
/// that is itself one of the parts).
const USAGE: &str =
    "USAGE:\n\n\nSnapshotRecursiveSummary  <snapshot_file>  <starting_node>  <max_depth>\n\n\n\
snapshot_file:    path to the zookeeper snapshot\n\
starting_node:    the path in the zookeeper tree where the traversal should begin\n\
max_depth:        defines the depth where the tool still writes to the output. \
0 means there is no depth limit, every non-leaf node's stats will be displayed, \
1 means it will only contain the starting node's and it's children's stats, \
2 ads another level and so on. This ONLY affects the level of details displayed, \
NOT the calculation.\n";

/// Runs the tool; returns the process exit code.
pub fn main(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let [file, start, depth] = args else {
        let _ = err.write_all(USAGE.as_bytes());
        return EXIT_USAGE;
    };
    let Ok(max_depth) = depth.parse::<i32>() else {
        let _ = err.write_all(USAGE.as_bytes());
        return EXIT_USAGE;
    };
    let tree = match load_tree(Path::new(file)) {
        Ok(tree) => tree,
        Err(message) => {
            let _ = writeln!(err, "{}", message);
            return EXIT_ERROR;
        }
    };
    match summary(&tree, start, max_depth) {
        Some(text) => {
            let _ = writeln!(out, "{}", text);
            let _ = out.flush();
            EXIT_OK
        }
        None => {
            let _ = writeln!(
                err,
                "Exception in thread \"main\" java.lang.NullPointerException: no node {}",
                start
            );
            EXIT_ERROR
        }
    }
}

/// The text Java builds for `start` (`None`: no such node). A node's
/// lines come before its children's, but are known only after them, so
/// each node's children are rendered into their own buffer first.
pub fn summary(tree: &DataTree, start: &str, max_depth: i32) -> Option<String> {
    tree.get_node(start)?;
    let mut text = String::new();
    summarise(tree, start, 0, max_depth, &mut text);
    Some(text)
}

/// Appends `path`'s lines (and its subtree's) to `text`; returns (nodes in
/// the subtree, data bytes in the subtree).
fn summarise(
    tree: &DataTree,
    path: &str,
    level: i32,
    max_depth: i32,
    text: &mut String,
) -> (i64, i64) {
    let Some(node) = tree.get_node(path) else {
        return (1, 0);
    };
    let mut totals = (1i64, node.data_len() as i64);
    if node.num_children() == 0 {
        return totals;
    }
    let mut below = String::new();
    for child in node.children() {
        let child_path = match path {
            "/" => format!("/{}", child),
            _ => format!("{}/{}", path, child),
        };
        let (count, bytes) = summarise(tree, &child_path, level + 1, max_depth, &mut below);
        totals.0 += count;
        totals.1 += bytes;
    }
    if max_depth == 0 || level <= max_depth {
        let tab = "--".repeat(level.max(0) as usize);
        text.push_str(&format!(
            "{tab} {path}\n{tab}   children: {}\n{tab}   data: {}\n",
            totals.0 - 1,
            totals.1
        ));
        text.push_str(&below);
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::ids;
    use crate::jute::txn::{CreateTxn, TxnBody, TxnHeader};
    use crate::zoo_defs::op_code;

    fn tree() -> DataTree {
        let mut tree = DataTree::new();
        for (zxid, (path, data)) in [("/a", &b"xy"[..]), ("/a/b", b"123"), ("/a/b/c", b"4")]
            .into_iter()
            .enumerate()
        {
            let header = TxnHeader {
                client_id: 1,
                cxid: 1,
                zxid: zxid as i64 + 1,
                time: 0,
                r#type: op_code::CREATE,
            };
            let txn = TxnBody::Create(CreateTxn {
                path: path.into(),
                data: Some(data.to_vec()),
                acl: ids::open_acl_unsafe(),
                ephemeral: false,
                parent_c_version: 1,
            });
            tree.process_txn(&header, &txn, None);
        }
        tree
    }

    #[test]
    fn nodes_with_children_are_printed_down_to_max_depth() {
        let tree = tree();
        assert_eq!(
            summary(&tree, "/a", 0).unwrap(),
            " /a\n   children: 2\n   data: 6\n-- /a/b\n--   children: 1\n--   data: 4\n"
        );
        assert_eq!(
            summary(&tree, "/a", 1).unwrap(),
            " /a\n   children: 2\n   data: 6\n-- /a/b\n--   children: 1\n--   data: 4\n"
        );
        // A negative max depth prints nothing; a leaf has nothing to print.
        assert_eq!(summary(&tree, "/a", -1).unwrap(), "");
        assert_eq!(summary(&tree, "/a/b/c", 0).unwrap(), "");
        assert!(summary(&tree, "/nope", 0).is_none());
        // From the root, depth 1: "/" and its children with children.
        let root = summary(&tree, "/", 1).unwrap();
        assert!(
            root.starts_with(" /\n   children: 6\n   data: 6\n"),
            "{}",
            root
        );
        assert!(
            root.contains("-- /a\n") && !root.contains("/a/b"),
            "{}",
            root
        );
    }
}
