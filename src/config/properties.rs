//! `zoo.cfg` text → raw, ordered key/value pairs, read exactly as Java's
//! `java.util.Properties.load(InputStream)` reads them.
//!
//! This is step one of the two-step config parse ("low args"): no key has a
//! meaning here. Step two, [`super::server_config`], turns the pairs into
//! typed settings. Runs once, on the main thread, at startup.
//!
//! The rules, as the JDK implements them (`Properties.LineReader`, `load0`,
//! `loadConvert`):
//! - bytes are ISO-8859-1 (Latin-1), one char per byte, whatever the
//!   platform encoding; non-ASCII text is written with `\uXXXX` escapes;
//! - a natural line ends at `\n`, `\r` or `\r\n`; a line ending in an odd
//!   number of backslashes continues on the next one, whose leading
//!   whitespace is dropped; a continuation onto an empty line ends the value;
//! - blank lines and lines whose first non-blank char is `#` or `!` are
//!   comments (only at the start of a logical line, never after a
//!   continuation); whitespace is space, tab and form feed;
//! - the key runs to the first unescaped `=`, `:` or whitespace; then
//!   whitespace, at most one `=`/`:`, and whitespace are skipped; the rest,
//!   trailing blanks included, is the value;
//! - escapes: `\t \n \r \f`, `\uXXXX` (exactly four hex digits, anything
//!   else is an error), and `\c` = `c` for any other char;
//! - a duplicated key: the last one wins.
//!
//! Mirrors: `java.util.Properties.load`, as used by
//! `org.apache.zookeeper.server.quorum.QuorumPeerConfig.parse`.

use std::fmt;

/// A properties file: every key/value in file order, duplicates kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    /// `(key, value)` exactly as unescaped (not trimmed), in file order.
    /// Duplicates are kept so the last-wins rule is applied in one place
    /// ([`Properties::get`], [`Properties::effective`]).
    entries: Vec<(String, String)>,
}

/// The only way a properties file can be malformed: a bad `\u` escape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertiesError {
    /// `\u` not followed by four hex digits (Java: "Malformed \uxxxx
    /// encoding."); `line` is the 1-based number of the natural line where
    /// the logical line starts.
    MalformedUnicodeEscape { line: usize },
}

impl fmt::Display for PropertiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertiesError::MalformedUnicodeEscape { line } => {
                write!(f, "line {}: malformed \\uxxxx encoding", line)
            }
        }
    }
}

impl std::error::Error for PropertiesError {}

impl Properties {
    /// Parses file bytes the way Java does: as ISO-8859-1.
    pub fn from_bytes(bytes: &[u8]) -> Result<Properties, PropertiesError> {
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        Properties::parse(&text)
    }

    /// Parses already-decoded text.
    pub fn parse(text: &str) -> Result<Properties, PropertiesError> {
        let chars: Vec<char> = text.chars().collect();
        let mut entries = Vec::new();
        for (line, logical) in logical_lines(&chars) {
            let (key, value) = split_key_value(&logical);
            let key = unescape(key).ok_or(PropertiesError::MalformedUnicodeEscape { line })?;
            let value = unescape(value).ok_or(PropertiesError::MalformedUnicodeEscape { line })?;
            entries.push((key, value));
        }
        Ok(Properties { entries })
    }

    /// Builds properties from pairs (tests, `-D` flags).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Properties {
        let entries = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Properties { entries }
    }

    /// The value of `key` (the last one if it is repeated).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True if `key` appears at all.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Every pair as written, duplicates included, in file order.
    pub fn raw_entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// The pairs Java would hold after loading: one per key (the last
    /// value), ordered by where that last value appears in the file.
    pub fn effective(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = Vec::with_capacity(self.entries.len());
        for (i, (k, v)) in self.entries.iter().enumerate() {
            let repeated_later = self.entries[i + 1..].iter().any(|(k2, _)| k2 == k);
            if !repeated_later {
                out.push((k.as_str(), v.as_str()));
            }
        }
        out
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.effective().len()
    }

    /// True when the file holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Java's whitespace inside properties files.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\x0c'
}

/// Splits the text into logical lines (continuations joined, comments and
/// blank lines dropped), each with the 1-based natural line it starts on.
/// Escapes are kept: the backslash before a line break is removed, others
/// stay for [`unescape`].
fn logical_lines(chars: &[char]) -> Vec<(usize, Vec<char>)> {
    let mut lines = Vec::new();
    let mut natural_line = 1;
    let mut i = 0;
    while i < chars.len() {
        // Start of a logical line: skip blanks and empty lines.
        while i < chars.len() && (is_blank(chars[i]) || chars[i] == '\n' || chars[i] == '\r') {
            natural_line += line_break_len(chars, i).map_or(0, |_| 1);
            i += line_break_len(chars, i).unwrap_or(1);
        }
        if i >= chars.len() {
            break;
        }
        let start_line = natural_line;
        if chars[i] == '#' || chars[i] == '!' {
            while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                i += 1;
            }
            continue;
        }
        let (line, next, breaks) = read_logical_line(chars, i);
        natural_line += breaks;
        i = next;
        lines.push((start_line, line));
    }
    lines
}

/// If a line break starts at `i`, its length in chars (`\r\n` is one break).
fn line_break_len(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i) {
        Some('\r') if chars.get(i + 1) == Some(&'\n') => Some(2),
        Some('\r') | Some('\n') => Some(1),
        _ => None,
    }
}

/// Reads one logical line starting at `i` (not a comment, not blank).
/// Returns its chars, the index after it, and how many line breaks it
/// consumed.
fn read_logical_line(chars: &[char], mut i: usize) -> (Vec<char>, usize, usize) {
    let mut line = Vec::new();
    let mut breaks = 0;
    let mut backslashes = 0usize;
    loop {
        let Some(&c) = chars.get(i) else {
            // End of input: a dangling continuation backslash is dropped.
            if !backslashes.is_multiple_of(2) {
                line.pop();
            }
            return (line, i, breaks);
        };
        let Some(len) = line_break_len(chars, i) else {
            line.push(c);
            backslashes = if c == '\\' { backslashes + 1 } else { 0 };
            i += 1;
            continue;
        };
        i += len;
        breaks += 1;
        if backslashes.is_multiple_of(2) {
            return (line, i, breaks);
        }
        // Continuation: drop the backslash and the next line's indent. A
        // continuation onto an empty line ends the logical line there.
        line.pop();
        backslashes = 0;
        while i < chars.len() && is_blank(chars[i]) {
            i += 1;
        }
        if let Some(len) = line_break_len(chars, i) {
            return (line, i + len, breaks + 1);
        }
    }
}

/// Splits a logical line into its (still escaped) key and value.
fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_separator = false;
    let mut escaped = false;
    for (i, &c) in line.iter().enumerate() {
        if !escaped && (c == '=' || c == ':') {
            key_end = i;
            value_start = i + 1;
            has_separator = true;
            break;
        }
        if !escaped && is_blank(c) {
            key_end = i;
            value_start = i + 1;
            break;
        }
        escaped = c == '\\' && !escaped;
    }
    while value_start < line.len() {
        let c = line[value_start];
        if !is_blank(c) {
            if !has_separator && (c == '=' || c == ':') {
                has_separator = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (&line[..key_end], &line[value_start..])
}

/// Resolves escapes; `None` for a malformed `\u`.
fn unescape(chars: &[char]) -> Option<String> {
    let mut units: Vec<u16> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            push_char(&mut units, c);
            continue;
        }
        let Some(&e) = chars.get(i) else {
            break; // a lone trailing backslash vanishes, as in Java
        };
        i += 1;
        let plain = match e {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\x0c',
            'u' => {
                let hex: String = chars.get(i..i + 4)?.iter().collect();
                if !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                units.push(u16::from_str_radix(&hex, 16).ok()?);
                i += 4;
                continue;
            }
            other => other,
        };
        push_char(&mut units, plain);
    }
    // `\u` escapes may encode surrogate pairs; a lone surrogate becomes
    // U+FFFD (Java would keep it, but no valid Rust string can).
    Some(String::from_utf16_lossy(&units))
}

fn push_char(units: &mut Vec<u16>, c: char) {
    let mut buf = [0u16; 2];
    units.extend_from_slice(c.encode_utf16(&mut buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        Properties::parse(text).unwrap().raw_entries().to_vec()
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn three_separators() {
        assert_eq!(
            pairs("a=1\nb:2\nc 3\nd\t4\n"),
            vec![kv("a", "1"), kv("b", "2"), kv("c", "3"), kv("d", "4")]
        );
    }

    #[test]
    fn blanks_around_separator_are_skipped_but_trailing_blanks_kept() {
        assert_eq!(pairs("  key  =  value  \n"), vec![kv("key", "value  ")]);
        // Whitespace then one `=`/`:`: the separator is consumed once.
        assert_eq!(pairs("key = = v\n"), vec![kv("key", "= v")]);
        assert_eq!(pairs("key  :v\n"), vec![kv("key", "v")]);
    }

    #[test]
    fn key_without_value() {
        assert_eq!(
            pairs("lonely\nother=\n"),
            vec![kv("lonely", ""), kv("other", "")]
        );
    }

    #[test]
    fn comments_and_blank_lines() {
        let text = "# comment\n   ! also a comment\n\n \t \na=1 # not a comment\n";
        assert_eq!(pairs(text), vec![kv("a", "1 # not a comment")]);
    }

    #[test]
    fn line_endings_cr_lf_crlf() {
        assert_eq!(
            pairs("a=1\rb=2\r\nc=3"),
            vec![kv("a", "1"), kv("b", "2"), kv("c", "3")]
        );
    }

    #[test]
    fn continuation_joins_lines_and_drops_indent() {
        assert_eq!(
            pairs("a=one, \\\n     two\nb=3\n"),
            vec![kv("a", "one, two"), kv("b", "3")]
        );
        assert_eq!(pairs("a=x\\\r\n  y\n"), vec![kv("a", "xy")]);
    }

    #[test]
    fn even_backslashes_do_not_continue() {
        assert_eq!(pairs("a=x\\\\\nb=2\n"), vec![kv("a", "x\\"), kv("b", "2")]);
    }

    #[test]
    fn continued_line_starting_with_hash_is_not_a_comment() {
        assert_eq!(pairs("a=1\\\n#2\n"), vec![kv("a", "1#2")]);
    }

    #[test]
    fn comment_ending_in_backslash_does_not_continue() {
        assert_eq!(pairs("# c \\\na=1\n"), vec![kv("a", "1")]);
    }

    #[test]
    fn continuation_onto_empty_line_ends_value() {
        assert_eq!(pairs("a=1\\\n\nb=2\n"), vec![kv("a", "1"), kv("b", "2")]);
        assert_eq!(pairs("a=1\\"), vec![kv("a", "1")]);
    }

    #[test]
    fn escapes_in_keys_and_values() {
        assert_eq!(pairs("a\\=b=c\n"), vec![kv("a=b", "c")]);
        assert_eq!(pairs("a\\ b c\n"), vec![kv("a b", "c")]);
        assert_eq!(
            pairs("k=\\t\\n\\r\\f\\q\\\\\n"),
            vec![kv("k", "\t\n\r\x0cq\\")]
        );
        assert_eq!(pairs("k=caf\\u00e9\n"), vec![kv("k", "café")]);
        assert_eq!(pairs("k=\\uD83D\\uDE00\n"), vec![kv("k", "😀")]);
    }

    #[test]
    fn malformed_unicode_escape_is_an_error_with_line() {
        assert_eq!(
            Properties::parse("a=1\nb=\\u12G4\n"),
            Err(PropertiesError::MalformedUnicodeEscape { line: 2 })
        );
        assert!(Properties::parse("b=\\u12").is_err());
    }

    #[test]
    fn bytes_are_latin1() {
        let p = Properties::from_bytes(b"dir=/tmp/\xe9\n").unwrap();
        assert_eq!(p.get("dir"), Some("/tmp/\u{e9}"));
        // UTF-8 input is read byte by byte, as Java does.
        let p = Properties::from_bytes("dir=é".as_bytes()).unwrap();
        assert_eq!(p.get("dir"), Some("\u{c3}\u{a9}"));
    }

    #[test]
    fn last_duplicate_wins() {
        let p = Properties::parse("a=1\nb=2\na=3\n").unwrap();
        assert_eq!(p.get("a"), Some("3"));
        assert_eq!(p.effective(), vec![("b", "2"), ("a", "3")]);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn line_numbers_count_continuations() {
        let err = Properties::parse("a=1\\\n 2\n\nb=\\uzzzz\n").unwrap_err();
        assert_eq!(err, PropertiesError::MalformedUnicodeEscape { line: 4 });
    }
}
