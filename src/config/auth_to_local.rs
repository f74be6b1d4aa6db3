//! `zookeeper.security.auth_to_local`: the rules that shorten a Kerberos
//! principal to the name in a connection's `sasl` id, in Hadoop's syntax:
//!
//! ```text
//! RULE:[2:$1@$0](zookeeper@.*EXAMPLE\.COM)s/.*/zookeeper/
//! RULE:[1:$1@$0](.*@EXAMPLE\.COM)s/@.*//
//! DEFAULT
//! ```
//!
//! A rule applies to principals with `n` components (`bob@R`: 1,
//! `svc/host@R`: 2); the format builds a string from the realm (`$0`) and
//! the components (`$1`, `$2`); the optional `(regex)` must match that
//! whole string; the optional `s/from/to/[g]` rewrites it. `DEFAULT`
//! takes the first component of a principal of the default realm. The
//! first rule that yields a name wins; a result holding `/` or `@` is an
//! error, as is no rule applying.
//!
//! Parsed once at startup (a malformed rule stops it, naming the key);
//! applied on connection threads when a SASL exchange completes.
//!
//! Mirrors: the rule half of `org.apache.zookeeper.server.auth.KerberosName`
//! (`Rule`, `parseRules`, `replaceParameters`, `replaceSubstitution`).
//! Patterns are compiled by the `regex` crate, whose syntax matches
//! Java's for the patterns such rules use (no look-around or
//! back-references).

use regex::Regex;

/// One rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// `DEFAULT`.
    Default,
    /// `RULE:[n:format](match)s/from/to/g`.
    Rule {
        components: usize,
        format: String,
        matches: Option<Regex>,
        substitution: Option<(Regex, String, bool)>,
        text: String,
    },
}

/// The rule list, as configured (`DEFAULT` when unset).
#[derive(Debug, Clone)]
pub struct AuthToLocal {
    rules: Vec<Rule>,
    text: String,
}

impl PartialEq for AuthToLocal {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for AuthToLocal {}

impl Default for AuthToLocal {
    fn default() -> Self {
        AuthToLocal {
            rules: vec![Rule::Default],
            text: "DEFAULT".to_string(),
        }
    }
}

impl AuthToLocal {
    /// Parses a rule list (rules separated by white space).
    pub fn parse(text: &str) -> Result<AuthToLocal, String> {
        let mut rules = Vec::new();
        let mut rest = text.trim_start();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("DEFAULT") {
                rules.push(Rule::Default);
                rest = after;
            } else if let Some(after) = rest.strip_prefix("RULE:[") {
                let (rule, after) =
                    parse_rule(after).map_err(|e| format!("invalid rule {}: {}", rest, e))?;
                rules.push(rule);
                rest = after;
            } else {
                return Err(format!("invalid rule: {}", rest));
            }
            rest = rest.trim_start();
        }
        Ok(AuthToLocal {
            rules,
            text: text.trim().to_string(),
        })
    }

    /// The short name of a principal with these parts (`realm` set),
    /// `Ok(None)` when no rule applies, `Err` for a non-simple result or
    /// a bad format.
    pub fn short_name(
        &self,
        realm: &str,
        components: &[&str],
        default_realm: &str,
    ) -> Result<Option<String>, String> {
        let mut params = vec![realm];
        params.extend_from_slice(components);
        for rule in &self.rules {
            let result = match rule {
                Rule::Default => (default_realm == realm).then(|| components[0].to_string()),
                Rule::Rule {
                    components: n,
                    format,
                    matches,
                    substitution,
                    ..
                } => {
                    if *n != components.len() {
                        continue;
                    }
                    let base = replace_parameters(format, &params)?;
                    if matches.as_ref().is_some_and(|m| !m.is_match(&base)) {
                        continue;
                    }
                    Some(match substitution {
                        None => base,
                        Some((from, to, true)) => from.replace_all(&base, to.as_str()).into_owned(),
                        Some((from, to, false)) => from.replace(&base, to.as_str()).into_owned(),
                    })
                }
            };
            if let Some(name) = result {
                if name.contains(['/', '@']) {
                    return Err(format!("non-simple name {} after auth_to_local rule", name));
                }
                return Ok(Some(name));
            }
        }
        Ok(None)
    }
}

/// `n:format](match)s/from/to/g` after `RULE:[`; returns the rest.
fn parse_rule(text: &str) -> Result<(Rule, &str), String> {
    let (n, rest) = text.split_once(':').ok_or("missing ':'")?;
    let components: usize = n
        .parse()
        .map_err(|_| format!("bad component count '{}'", n))?;
    let (format, mut rest) = rest.split_once(']').ok_or("missing ']'")?;
    let mut matches = None;
    if let Some(after) = rest.strip_prefix('(') {
        let (pattern, after) = after.split_once(')').ok_or("missing ')'")?;
        // Java's `matches()`: the whole string.
        matches = Some(Regex::new(&format!("^(?:{})$", pattern)).map_err(|e| e.to_string())?);
        rest = after;
    }
    let mut substitution = None;
    if let Some(after) = rest.strip_prefix("s/") {
        let mut parts = after.splitn(3, '/');
        let (from, to) = (
            parts.next().unwrap_or(""),
            parts.next().ok_or("bad s/// substitution")?,
        );
        let after = parts.next().ok_or("bad s/// substitution")?;
        let (global, after) = match after.strip_prefix('g') {
            Some(after) => (true, after),
            None => (false, after),
        };
        substitution = Some((
            Regex::new(from).map_err(|e| e.to_string())?,
            java_replacement(to),
            global,
        ));
        rest = after;
    }
    let consumed = text.len() - rest.len();
    let rule = Rule::Rule {
        components,
        format: format.to_string(),
        matches,
        substitution,
        text: format!("RULE:[{}", &text[..consumed]),
    };
    Ok((rule, rest))
}

/// `$0`, `$1`, ... in a format: the realm and the components.
fn replace_parameters(format: &str, params: &[&str]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(&(_, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            digits.push(d);
            chars.next();
        }
        let n: usize = digits
            .parse()
            .map_err(|_| format!("bad format in username mapping in {}", format))?;
        let param = params
            .get(n)
            .ok_or_else(|| format!("index {} from {} is outside of the valid range", n, format))?;
        out.push_str(param);
    }
    Ok(out)
}

/// A Java replacement string (`$1`, `\$`) in the regex crate's syntax
/// (`${1}`, `$$`).
fn java_replacement(to: &str) -> String {
    let mut out = String::new();
    let mut chars = to.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(&d) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    digits.push(d);
                    chars.next();
                }
                out.push_str(&format!("${{{}}}", digits));
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hadoop_style_rules() {
        let rules = AuthToLocal::parse(
            "RULE:[2:$1@$0](zookeeper@.*ZK\\.TEST)s/.*/zookeeper/\n  RULE:[1:$1@$0](.*@ZK\\.TEST)s/@.*//\nRULE:[1:$1](ali.*)s/a/A/g DEFAULT",
        )
        .unwrap();
        let short =
            |realm: &str, parts: &[&str]| rules.short_name(realm, parts, "HOME.ORG").unwrap();
        assert_eq!(
            short("ZK.TEST", &["zookeeper", "host1"]).as_deref(),
            Some("zookeeper")
        );
        assert_eq!(short("ZK.TEST", &["bob"]).as_deref(), Some("bob"));
        assert_eq!(
            short("OTHER", &["alice"]).as_deref(),
            Some("Alice"),
            "g replaces every match"
        );
        assert_eq!(
            short("HOME.ORG", &["carol"]).as_deref(),
            Some("carol"),
            "DEFAULT"
        );
        assert_eq!(short("OTHER", &["carol"]), None);
        // A rule leaving '@' in the name is an error, not a match.
        let keep = AuthToLocal::parse("RULE:[1:$1@$0]").unwrap();
        assert!(keep.short_name("R", &["bob"], "").is_err());
    }

    #[test]
    fn default_only() {
        let d = AuthToLocal::default();
        assert_eq!(
            d.short_name("R", &["svc", "h"], "R").unwrap().as_deref(),
            Some("svc")
        );
        assert_eq!(d.short_name("X", &["svc"], "R").unwrap(), None);
        assert_eq!(AuthToLocal::parse(" DEFAULT ").unwrap(), d);
    }

    #[test]
    fn malformed_rules_are_refused() {
        for bad in [
            "RULE:[x:$1]",
            "RULE:[1:$1",
            "RULE:[1:$1](unclosed",
            "RULE:[1:$1](a)s/b/",
            "NOPE",
            "RULE:[1:$1]([)",
        ] {
            assert!(AuthToLocal::parse(bad).is_err(), "{}", bad);
        }
        let r = AuthToLocal::parse("RULE:[1:$7]").unwrap();
        assert!(r.short_name("R", &["a"], "").is_err());
    }

    #[test]
    fn java_replacements() {
        assert_eq!(java_replacement("$1x"), "${1}x");
        assert_eq!(java_replacement("\\$1"), "$$1");
    }
}
