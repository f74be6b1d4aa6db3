//! Znode path rules: what a valid path looks like, and the string
//! surgery the tree does on paths (parent, last component).
//!
//! Pure functions, called from any thread (Prep validates client paths;
//! the DataTree splits paths while applying txns).
//!
//! Mirrors: `org.apache.zookeeper.common.PathUtils`.

use std::fmt;

use crate::keeper_exception::Code;

/// Why a path was rejected. Clients see it as BADARGUMENTS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPath {
    /// The same sentence Java puts in its IllegalArgumentException.
    pub reason: String,
}

impl InvalidPath {
    /// The result code the client gets (`Code::BadArguments`).
    pub fn code(&self) -> Code {
        Code::BadArguments
    }
}

impl fmt::Display for InvalidPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for InvalidPath {}

/// Validates a path that will get a sequence suffix: the suffix is
/// simulated with a trailing "1" so that "/a/" is acceptable.
pub fn validate_path_sequential(path: &str, is_sequential: bool) -> Result<(), InvalidPath> {
    if is_sequential {
        validate_path(&format!("{}1", path))
    } else {
        validate_path(path)
    }
}

/// Java's `PathUtils.validatePath`: starts with "/", no trailing "/", no
/// empty, "." or ".." component, no control or reserved characters.
///
/// Java walks UTF-16 units; the forbidden ranges are all inside the BMP
/// except U+D800..U+DFFF (surrogates), which Java sees for every non-BMP
/// character. So every char above U+FFFF is invalid too.
pub fn validate_path(path: &str) -> Result<(), InvalidPath> {
    let fail = |why: String| Err(InvalidPath { reason: why });
    if path.is_empty() {
        return fail("Path length must be > 0".into());
    }
    if !path.starts_with('/') {
        return fail("Path must start with / character".into());
    }
    if path.len() == 1 {
        return Ok(());
    }
    if path.ends_with('/') {
        return fail("Path must not end with / character".into());
    }
    let units: Vec<u16> = path.encode_utf16().collect();
    if let Some(why) = first_problem(&units) {
        return fail(format!(
            "Invalid path string \"{}\" caused by {}",
            path, why
        ));
    }
    Ok(())
}

/// The first rule a path (as UTF-16 units, starting with '/') breaks.
fn first_problem(chars: &[u16]) -> Option<String> {
    const SLASH: u16 = b'/' as u16;
    const DOT: u16 = b'.' as u16;
    let ends_component = |i: usize| i + 1 == chars.len() || chars[i + 1] == SLASH;
    for i in 1..chars.len() {
        let (c, last) = (chars[i], chars[i - 1]);
        if c == 0 {
            return Some(format!("null character not allowed @{}", i));
        } else if c == SLASH && last == SLASH {
            return Some(format!("empty node name specified @{}", i));
        } else if c == DOT && last == DOT {
            if i >= 2 && chars[i - 2] == SLASH && ends_component(i) {
                return Some(format!("relative paths not allowed @{}", i));
            }
        } else if c == DOT {
            if last == SLASH && ends_component(i) {
                return Some(format!("relative paths not allowed @{}", i));
            }
        } else if is_invalid_char(c) {
            return Some(format!("invalid character @{}", i));
        }
    }
    None
}

fn is_invalid_char(c: u16) -> bool {
    (0x01..=0x1f).contains(&c)
        || (0x7f..=0x9f).contains(&c)
        || (0xd800..=0xf8ff).contains(&c)
        || (0xfff0..=0xffff).contains(&c)
}

/// The parent as Java's DataTree computes it: everything before the last
/// "/". A top-level node's parent is "" (the root's alias), the root's own
/// parent is "" too.
pub fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The last component (the child name): everything after the last "/".
pub fn last_component(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// The parent as clients name it: like [`parent_path`] but "/" for
/// top-level nodes (watch events on the root use "/").
pub fn client_parent_path(path: &str) -> &str {
    match parent_path(path) {
        "" => "/",
        p => p,
    }
}

/// The first component ("a" for "/a/b"), `None` for "/" (Java's
/// `getTopNamespace`, used for per-namespace metrics).
pub fn top_namespace(path: &str) -> Option<&str> {
    path.split('/').nth(1).filter(|s| !s.is_empty())
}

/// `String.length()` of a Java string: UTF-16 units.
pub fn java_length(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/a.b",
            "/...",
            "/a/..b",
            "/.a",
            "/zookeeper/quota",
            "/é",
        ] {
            assert_eq!(validate_path(p), Ok(()), "{}", p);
        }
    }

    #[test]
    fn rejects_what_java_rejects() {
        let cases = [
            ("", "Path length must be > 0"),
            ("a", "Path must start with / character"),
            ("/a/", "Path must not end with / character"),
            ("/a//b", "empty node name specified @3"),
            ("/a/./b", "relative paths not allowed @3"),
            ("/a/..", "relative paths not allowed @4"),
            ("/.", "relative paths not allowed @1"),
            ("/a\u{0}b", "null character not allowed @2"),
            ("/a\u{1}", "invalid character @2"),
            ("/\u{7f}", "invalid character @1"),
            ("/\u{e000}", "invalid character @1"),
            ("/\u{fff5}", "invalid character @1"),
            ("/\u{1f600}", "invalid character @1"),
        ];
        for (path, why) in cases {
            let err = validate_path(path).unwrap_err();
            assert!(err.reason.ends_with(why), "{:?}: {}", path, err.reason);
            assert_eq!(err.code(), Code::BadArguments);
        }
    }

    #[test]
    fn sequential_paths_may_end_with_slash() {
        assert!(validate_path_sequential("/a/", true).is_ok());
        assert!(validate_path_sequential("/a/", false).is_err());
    }

    #[test]
    fn splits_like_the_data_tree() {
        assert_eq!(parent_path("/a"), "");
        assert_eq!(parent_path("/a/b"), "/a");
        assert_eq!(parent_path("/"), "");
        assert_eq!(client_parent_path("/a"), "/");
        assert_eq!(last_component("/a/b"), "b");
        assert_eq!(last_component("/"), "");
        assert_eq!(top_namespace("/a/b"), Some("a"));
        assert_eq!(top_namespace("/"), None);
        assert_eq!(java_length("/é\u{1f600}"), 4);
    }
}
