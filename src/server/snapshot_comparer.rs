//! `zk-server snapshot-comparer -l <left> -r <right> -b <bytes> -n <nodes>
//! [-d] [-i]`: Java's snapshot comparer (`bin/zkSnapshotComparer.sh`) with
//! its options, output and exit codes, as ZooKeeper 3.8 prints them.
//!
//! Each snapshot is loaded into a [`DataTree`] and summarised node by node:
//! a node's *descendant size* is the data bytes of its whole subtree
//! (itself included) and its *descendant count* the number of nodes below
//! it. The two summaries are then walked depth by depth (the root is depth
//! 0), the nodes of one depth merged by path in Java's `String` order, and
//! a node is printed when it exists on one side only, or on both with a
//! difference, when its size passes `-b` bytes or its count `-n` nodes.
//! `-d` also prints each comparison and the nodes filtered out; `-i` asks
//! on stdin which depth or subtree to print next.
//!
//! The parts of the output that measure time (`in 0.001234 seconds`) are
//! ours; everything else is byte-for-byte Java's. Runs on the main thread
//! before any server starts.
//!
//! Mirrors: `org.apache.zookeeper.server.SnapshotComparer`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use crate::persistence::file_snap::read_tree_only;
use crate::server::data_tree::DataTree;

/// `ExitCode.EXECUTION_FINISHED`, `UNEXPECTED_ERROR`, `INVALID_INVOCATION`.
const EXIT_OK: i32 = 0;
const EXIT_ERROR: i32 = 1;
const EXIT_INVALID: i32 = 2;

/// What commons-cli's HelpFormatter prints for Java's options (width 120).
const HELP: &str = "usage: java -cp <classPath> org.apache.zookeeper.server.SnapshotComparer
 -b,--bytes <BYTETHRESHOLD>   (Required) The node data delta size threshold, in bytes, for printing the node.
 -d,--debug                   Use debug output.
 -i,--interactive             Enter interactive mode.
 -l,--left <LEFT>             (Required) The left snapshot file.
 -n,--nodes <NODETHRESHOLD>   (Required) The descendant node delta size threshold, in nodes, for printing the node.
 -r,--right <RIGHT>           (Required) The right snapshot file.
";

const PROMPT: &str = "- Press enter to move to print current depth layer;
- Type a number to jump to and print all nodes at a given depth;
- Enter an ABSOLUTE path to print the immediate subtree of a node. Path must start with '/'.";

/// The options, in the order Java declares them: (short, long, takes a value).
const OPTIONS: [(char, &str, bool); 6] = [
    ('l', "left", true),
    ('r', "right", true),
    ('b', "bytes", true),
    ('n', "nodes", true),
    ('d', "debug", false),
    ('i', "interactive", false),
];
/// The first four are required.
const REQUIRED: usize = 4;

/// The parsed command line: the value of each option that takes one (the
/// first given), and whether each flag was given.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub values: HashMap<char, String>,
    pub flags: Vec<char>,
}

impl Options {
    fn has(&self, c: char) -> bool {
        self.flags.contains(&c)
    }
}

fn option_by_short(c: char) -> Option<(char, bool)> {
    OPTIONS
        .iter()
        .find(|o| o.0 == c)
        .map(|&(short, _, arg)| (short, arg))
}

/// The long option `name` names exactly or as the prefix of only one.
fn option_by_long(name: &str) -> Option<(char, bool)> {
    if let Some(o) = OPTIONS.iter().find(|o| o.1 == name) {
        return Some((o.0, o.2));
    }
    let mut matches = OPTIONS.iter().filter(|o| o.1.starts_with(name));
    match (matches.next(), matches.next()) {
        (Some(o), None) if !name.is_empty() => Some((o.0, o.2)),
        _ => None,
    }
}

/// Parses options as commons-cli's DefaultParser does for Java's options:
/// `--left x`, `--left=x`, unique prefixes of long names (`--le x`), a long
/// name after one dash (`-left x`), `-lx`, bundled flags (`-di`); other
/// words are ignored; `--` ends the options.
pub fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut i = 0;
    let set = |o: &mut Options, c: char, value: Option<String>| match value {
        Some(v) => {
            o.values.entry(c).or_insert(v);
        }
        None => o.flags.push(c),
    };
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            break;
        }
        let (long, body) = match (arg.strip_prefix("--"), arg.strip_prefix('-')) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) if !rest.is_empty() => (false, rest),
            _ => continue,
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let single = |n: &str| {
            let mut chars = n.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => option_by_short(c),
                _ => None,
            }
        };
        let found = match long {
            true => option_by_long(name),
            false => single(name).or_else(|| option_by_long(name)),
        };
        if let Some((c, takes_value)) = found {
            if !takes_value {
                set(&mut o, c, None);
                continue;
            }
            let value = match inline {
                Some(v) => v,
                None if i < args.len() && !is_option(&args[i]) => {
                    i += 1;
                    args[i - 1].clone()
                }
                None => return Err(format!("Missing argument for option: {}", c)),
            };
            set(&mut o, c, Some(value));
            continue;
        }
        if long {
            return Err(format!("Unrecognized option: {}", arg));
        }
        // Bundled short options: flags, then at most one option taking the
        // rest of the word (or the next word) as its value.
        let chars: Vec<char> = body.chars().collect();
        for (k, &c) in chars.iter().enumerate() {
            match option_by_short(c) {
                Some((c, false)) => set(&mut o, c, None),
                Some((c, true)) => {
                    let rest: String = chars[k + 1..].iter().collect();
                    let value = if !rest.is_empty() {
                        rest
                    } else if i < args.len() && !is_option(&args[i]) {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(format!("Missing argument for option: {}", c));
                    };
                    set(&mut o, c, Some(value));
                    break;
                }
                None => return Err(format!("Unrecognized option: {}", arg)),
            }
        }
    }
    let missing: Vec<String> = OPTIONS[..REQUIRED]
        .iter()
        .filter(|opt| !o.values.contains_key(&opt.0))
        .map(|opt| opt.0.to_string())
        .collect();
    match missing.len() {
        0 => Ok(o),
        1 => Err(format!("Missing required option: {}", missing[0])),
        _ => Err(format!("Missing required options: {}", missing.join(", "))),
    }
}

/// Whether commons-cli would take `word` for an option rather than a value.
fn is_option(word: &str) -> bool {
    word.starts_with('-') && word.len() > 1 && {
        let body = word.trim_start_matches('-');
        let name = body.split('=').next().unwrap_or("");
        option_by_long(name).is_some() || name.chars().next().and_then(option_by_short).is_some()
    }
}

/// `Integer.parseInt`, with Java's message when it fails.
fn parse_int(text: &str) -> Result<i64, String> {
    text.parse::<i32>().map(i64::from).map_err(|_| {
        format!(
            "Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"{}\"",
            text
        )
    })
}

/// Runs the comparer; returns the process exit code. `input` answers the
/// interactive questions.
pub fn main(
    args: &[String],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let options = match parse_options(args) {
        Ok(o) => o,
        Err(message) => {
            let _ = writeln!(err, "{}", message);
            let _ = out.write_all(HELP.as_bytes());
            return EXIT_INVALID;
        }
    };
    let result = run(&options, input, out);
    let _ = out.flush();
    match result {
        Ok(()) => EXIT_OK,
        Err(message) => {
            let _ = writeln!(err, "{}", message);
            EXIT_ERROR
        }
    }
}

/// How much of a difference is printed, and how chatty the output is.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    bytes: i64,
    nodes: i64,
    debug: bool,
    interactive: bool,
}

fn run(options: &Options, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let t = Thresholds {
        bytes: parse_int(&options.values[&'b'])?,
        nodes: parse_int(&options.values[&'n'])?,
        debug: options.has('d'),
        interactive: options.has('i'),
    };
    writeln!(out, "Successfully parsed options!").map_err(io)?;
    let left = TreeInfo::load(Path::new(&options.values[&'l']), out)?;
    let right = TreeInfo::load(Path::new(&options.values[&'r']), out)?;
    writeln!(out, "{}", left.summary()).map_err(io)?;
    writeln!(out, "{}", right.summary()).map_err(io)?;
    compare_trees(&left, &right, t, input, out)
}

/// One node of a summarised tree.
#[derive(Debug)]
struct TreeNode {
    /// The node's path ("" for the root).
    label: String,
    /// Indexes of the children in [`TreeInfo::nodes`].
    children: Vec<usize>,
    descendant_size: i64,
    descendant_count: i64,
}

/// A snapshot's tree, summarised: every node, the nodes of each depth and
/// the nodes by path.
#[derive(Debug, Default)]
struct TreeInfo {
    nodes: Vec<TreeNode>,
    at_depth: Vec<Vec<usize>>,
    by_path: HashMap<String, usize>,
}

impl TreeInfo {
    /// Loads a snapshot file and summarises it, printing how long each
    /// step took as Java does.
    fn load(path: &Path, out: &mut dyn Write) -> Result<TreeInfo, String> {
        let started = Instant::now();
        let tree = load_tree(path)?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let io = |e: std::io::Error| e.to_string();
        writeln!(
            out,
            "Deserialized snapshot in {} in {:.6} seconds",
            name,
            started.elapsed().as_secs_f64()
        )
        .map_err(io)?;
        let started = Instant::now();
        let info = TreeInfo::of(&tree);
        writeln!(
            out,
            "Processed data tree in {:.6} seconds",
            started.elapsed().as_secs_f64()
        )
        .map_err(io)?;
        Ok(info)
    }

    /// Summarises a tree (an explicit stack: paths may be deep).
    fn of(tree: &DataTree) -> TreeInfo {
        let mut info = TreeInfo::default();
        let root_size = tree.get_node("").map_or(0, |n| n.data_len() as i64);
        info.push(String::new(), root_size, 0);
        // Pre-order: parents before children, so that a reverse pass can
        // add each node's totals into its parent.
        let mut parents: Vec<Option<usize>> = vec![None];
        let mut stack = vec![0usize];
        while let Some(index) = stack.pop() {
            let path = info.nodes[index].label.clone();
            let depth = info.depth_of(index);
            let Some(node) = tree.get_node(&path) else {
                continue;
            };
            for name in node.children() {
                let child_path = format!("{}/{}", path, name);
                let size = tree
                    .get_node(&child_path)
                    .map_or(0, |n| n.data_len() as i64);
                let child = info.push(child_path, size, depth + 1);
                info.nodes[index].children.push(child);
                parents.push(Some(index));
                stack.push(child);
            }
        }
        for index in (0..info.nodes.len()).rev() {
            let n = &info.nodes[index];
            let (size, count) = (
                n.descendant_size,
                n.descendant_count + n.children.len() as i64,
            );
            info.nodes[index].descendant_count = count;
            if let Some(parent) = parents[index] {
                info.nodes[parent].descendant_size += size;
                info.nodes[parent].descendant_count += count;
            }
        }
        for level in &mut info.at_depth {
            let nodes = &info.nodes;
            level.sort_by(|&a, &b| java_order(&nodes[a].label, &nodes[b].label));
        }
        info
    }

    /// Adds a node holding only its own size; returns its index.
    fn push(&mut self, path: String, size: i64, depth: usize) -> usize {
        let index = self.nodes.len();
        if self.at_depth.len() <= depth {
            self.at_depth.resize_with(depth + 1, Vec::new);
        }
        self.at_depth[depth].push(index);
        self.by_path.insert(path.clone(), index);
        self.nodes.push(TreeNode {
            label: path,
            children: Vec::new(),
            descendant_size: size,
            descendant_count: 0,
        });
        index
    }

    fn depth_of(&self, index: usize) -> usize {
        let label = &self.nodes[index].label;
        label.matches('/').count()
    }

    /// Java's `TreeInfo.toString`.
    fn summary(&self) -> String {
        let mut s = format!(
            "Node count: {}\nTotal size: {}\nMax depth: {}\n",
            self.nodes.len(),
            self.nodes.first().map_or(0, |n| n.descendant_size),
            self.at_depth.len()
        );
        for (depth, nodes) in self.at_depth.iter().enumerate() {
            s.push_str(&format!(
                "Count of nodes at depth {}: {}\n",
                depth,
                nodes.len()
            ));
        }
        s
    }

    fn level(&self, depth: usize) -> Vec<&TreeNode> {
        self.at_depth
            .get(depth)
            .map(|l| l.iter().map(|&i| &self.nodes[i]).collect())
            .unwrap_or_default()
    }

    fn children_of(&self, index: Option<usize>) -> Vec<&TreeNode> {
        let mut children: Vec<&TreeNode> = index
            .map(|i| {
                self.nodes[i]
                    .children
                    .iter()
                    .map(|&c| &self.nodes[c])
                    .collect()
            })
            .unwrap_or_default();
        children.sort_by(|a, b| java_order(&a.label, &b.label));
        children
    }
}

/// Loads a snapshot file into a tree as Java's tools do (as far as the
/// tree, no seal checked); the error is the line Java's tools die with (a
/// missing or unreadable file is Java's `FileNotFoundException`, with the
/// path as given).
pub fn load_tree(path: &Path) -> Result<DataTree, String> {
    if let Err(e) = std::fs::File::open(path) {
        let reason = e.to_string();
        let reason = reason.split(" (os error").next().unwrap_or_default();
        return Err(format!(
            "Exception in thread \"main\" java.io.FileNotFoundException: {} ({})",
            path.display(),
            reason
        ));
    }
    read_tree_only(path)
        .map_err(|e| format!("Exception in thread \"main\" java.io.IOException: {}", e))
}

/// `String.compareTo`: by UTF-16 code units.
fn java_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn compare_trees(
    left: &TreeInfo,
    right: &TreeInfo,
    t: Thresholds,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), String> {
    let max_depth = left.at_depth.len().max(right.at_depth.len());
    let mut lines = Vec::new();
    if !t.interactive {
        lines.push(threshold_line(t));
        for depth in 0..max_depth {
            lines.push(format!("Analysis for depth {}", depth));
            compare_nodes(&left.level(depth), &right.level(depth), t, &mut lines);
        }
    } else {
        let mut depth = 0;
        while depth < max_depth {
            lines.push(format!("Current depth is {}", depth));
            lines.push(PROMPT.to_string());
            flush(&mut lines, out)?;
            let mut line = String::new();
            if input.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err(
                    "Exception in thread \"main\" java.util.NoSuchElementException: No line found"
                        .to_string(),
                );
            }
            let line = line.strip_suffix('\n').unwrap_or(&line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            lines.push(threshold_line(t));
            if line.is_empty() {
                lines.push(format!("Analysis for depth {}", depth));
                compare_nodes(&left.level(depth), &right.level(depth), t, &mut lines);
                depth += 1;
            } else if line.starts_with('/') {
                lines.push(format!("Analysis for node {}", line));
                let (l, r) = (left.by_path.get(line), right.by_path.get(line));
                if l.is_none() && r.is_none() {
                    lines.push(format!(
                        "Path {} is neither found in left tree nor right tree.",
                        line
                    ));
                } else {
                    let (l, r) = (left.children_of(l.copied()), right.children_of(r.copied()));
                    compare_nodes(&l, &r, t, &mut lines);
                }
            } else {
                match line.parse::<i32>() {
                    Ok(d) if d < 0 || d as usize >= max_depth => {
                        lines.push(format!(
                            "Depth must be in range [0, {}]",
                            max_depth as i64 - 1
                        ));
                        continue;
                    }
                    Ok(d) => {
                        depth = d as usize;
                        lines.push(format!("Analysis for depth {}", depth));
                        compare_nodes(&left.level(depth), &right.level(depth), t, &mut lines);
                    }
                    Err(_) => lines.push(format!(
                        "Input {} is not valid. Depth must be in range [0, {}]. Path must be an absolute path which starts with '/'.",
                        line,
                        max_depth as i64 - 1
                    )),
                }
            }
            lines.push(String::new());
        }
    }
    lines.push("All layers compared.".to_string());
    flush(&mut lines, out)
}

fn flush(lines: &mut Vec<String>, out: &mut dyn Write) -> Result<(), String> {
    for line in lines.drain(..) {
        writeln!(out, "{}", line).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn threshold_line(t: Thresholds) -> String {
    format!(
        "Printing analysis for nodes difference larger than {} bytes or node count difference larger than {}.",
        t.bytes, t.nodes
    )
}

/// Merges two lists sorted in Java's order, appending a line for each node
/// that differs by more than the thresholds (and, with debug or
/// interactive output, for the ones filtered out).
fn compare_nodes(left: &[&TreeNode], right: &[&TreeNode], t: Thresholds, lines: &mut Vec<String>) {
    let chatty = t.debug || t.interactive;
    let (mut l, mut r) = (0, 0);
    while l < left.len() || r < right.len() {
        let order = match (left.get(l), right.get(r)) {
            (Some(a), Some(b)) => {
                if t.debug {
                    lines.push(format!("Comparing {} to {}", a.label, b.label));
                }
                let order = java_order(&a.label, &b.label);
                if t.debug {
                    lines.push(
                        match order {
                            Ordering::Less => "left is less",
                            Ordering::Greater => "right is less",
                            Ordering::Equal => "same",
                        }
                        .to_string(),
                    );
                }
                order
            }
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                one_side(left[l], "left", t, chatty, lines);
                l += 1;
            }
            Ordering::Greater => {
                one_side(right[r], "right", t, chatty, lines);
                r += 1;
            }
            Ordering::Equal => {
                let (a, b) = (left[l], right[r]);
                let size = b.descendant_size - a.descendant_size;
                let count = b.descendant_count - a.descendant_count;
                if size.abs() > t.bytes || count.abs() > t.nodes {
                    lines.push(format!(
                        "Node {} found in both trees. Delta: {} bytes, {} descendants",
                        a.label, size, count
                    ));
                } else if chatty {
                    lines.push(format!(
                        "Filtered node {} of left size {}, right size {}",
                        a.label, a.descendant_size, b.descendant_size
                    ));
                }
                l += 1;
                r += 1;
            }
        }
    }
}

fn one_side(node: &TreeNode, side: &str, t: Thresholds, chatty: bool, lines: &mut Vec<String>) {
    if node.descendant_size > t.bytes || node.descendant_count > t.nodes {
        lines.push(format!(
            "Node {} found only in {} tree. Descendant size: {}. Descendant count: {}",
            node.label, side, node.descendant_size, node.descendant_count
        ));
    } else if chatty {
        lines.push(format!(
            "Filtered {} node {} of size {}",
            side, node.label, node.descendant_size
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::ids;
    use crate::jute::txn::{CreateTxn, TxnBody, TxnHeader};
    use crate::zoo_defs::op_code;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_as_commons_cli_parses_them() {
        let o = parse_options(&args(&["-l", "a", "--right=b", "-b5", "--no", "7", "-di"])).unwrap();
        assert_eq!(o.values[&'l'], "a");
        assert_eq!(o.values[&'r'], "b");
        assert_eq!(o.values[&'b'], "5");
        assert_eq!(o.values[&'n'], "7");
        assert_eq!(o.flags, vec!['d', 'i']);
        let o =
            parse_options(&args(&["-left", "a", "-r", "b", "-b", "1", "-n", "2", "x"])).unwrap();
        assert_eq!(o.values[&'l'], "a");
        assert_eq!(
            parse_options(&args(&[])),
            Err("Missing required options: l, r, b, n".to_string())
        );
        assert_eq!(
            parse_options(&args(&["-l", "a", "-r", "b", "-b", "1"])),
            Err("Missing required option: n".to_string())
        );
        assert_eq!(
            parse_options(&args(&["-l"])),
            Err("Missing argument for option: l".to_string())
        );
        assert_eq!(
            parse_options(&args(&["-q"])),
            Err("Unrecognized option: -q".to_string())
        );
        assert_eq!(
            parse_options(&args(&["--zzz"])),
            Err("Unrecognized option: --zzz".to_string())
        );
    }

    #[test]
    fn strings_sort_by_utf16_units() {
        // U+1F600 is a surrogate pair (0xD83D...), below U+FF5E in UTF-16
        // though above it in UTF-8 and in code points.
        assert_eq!(java_order("\u{1F600}", "\u{FF5E}"), Ordering::Less);
        assert_eq!(java_order("/a", "/a/b"), Ordering::Less);
        assert_eq!(java_order("/B", "/a"), Ordering::Less);
    }

    fn node(label: &str, size: i64, count: i64) -> TreeNode {
        TreeNode {
            label: label.into(),
            children: Vec::new(),
            descendant_size: size,
            descendant_count: count,
        }
    }

    #[test]
    fn merge_prints_what_passes_the_thresholds() {
        let (a, b, c, c2) = (
            node("/a", 5, 0),
            node("/b", 1, 0),
            node("/c", 1, 1),
            node("/c", 9, 4),
        );
        let t = Thresholds {
            bytes: 2,
            nodes: 2,
            debug: false,
            interactive: false,
        };
        let mut lines = Vec::new();
        compare_nodes(&[&a, &c], &[&b, &c2], t, &mut lines);
        assert_eq!(
            lines,
            vec![
                "Node /a found only in left tree. Descendant size: 5. Descendant count: 0",
                "Node /c found in both trees. Delta: 8 bytes, 3 descendants",
            ]
        );
        let mut lines = Vec::new();
        compare_nodes(&[&b], &[], Thresholds { debug: true, ..t }, &mut lines);
        assert_eq!(lines, vec!["Filtered left node /b of size 1"]);
    }

    #[test]
    fn summary_counts_descendants_and_depths() {
        let mut tree = DataTree::new();
        for (zxid, (path, data)) in [("/a", &b"xy"[..]), ("/a/b", b"123"), ("/c", b"")]
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
        let info = TreeInfo::of(&tree);
        let root = &info.nodes[0];
        // The root's children: /a, /c and /zookeeper (with quota and config).
        assert_eq!((root.descendant_size, root.descendant_count), (5, 6));
        let a = &info.nodes[info.by_path["/a"]];
        assert_eq!((a.descendant_size, a.descendant_count), (5, 1));
        assert_eq!(
            info.summary(),
            "Node count: 7\nTotal size: 5\nMax depth: 3\nCount of nodes at depth 0: 1\n\
             Count of nodes at depth 1: 3\nCount of nodes at depth 2: 3\n"
        );
    }
}
