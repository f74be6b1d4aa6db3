//! The JAAS login configuration file (`-Djava.security.auth.login.config`),
//! read with the JDK's syntax:
//!
//! ```text
//! // comment            /* comment */
//! Server {
//!     org.apache.zookeeper.server.auth.DigestLoginModule required
//!         user_bob="bobsecret";
//! };
//! ```
//!
//! A file is a list of named sections (login contexts); each holds login
//! module entries: a class name, a control flag (`required`, `requisite`,
//! `sufficient`, `optional`) and `name=value` options, ended by `;`. The
//! section ends with `};`. Values are words or double-quoted strings
//! (backslash escapes as in Java's tokenizer), and `${property}` in a
//! value is replaced by that system property. Anything else is an error
//! naming the line, so a malformed file stops startup.
//!
//! Pure code, run once on the main thread while the config is read.
//!
//! Mirrors: the JDK's `sun.security.provider.ConfigFile` (the parser
//! behind `javax.security.auth.login.Configuration`) and its
//! `AppConfigurationEntry`.

use std::collections::BTreeMap;
use std::fmt;

use super::system_properties::SystemProperties;

/// How a login module's outcome counts (`AppConfigurationEntry.LoginModuleControlFlag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlFlag {
    Required,
    Requisite,
    Sufficient,
    Optional,
}

/// One login module line of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginModuleEntry {
    /// The module's class name, e.g. `org.apache.zookeeper.server.auth.DigestLoginModule`.
    pub class_name: String,
    pub flag: ControlFlag,
    /// Options in file order of first appearance; a repeated name keeps
    /// the last value (Java's options map).
    pub options: BTreeMap<String, String>,
    /// The line the entry starts on (for messages about it).
    pub line: usize,
}

/// A parsed JAAS file: section name -> its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JaasConfiguration {
    sections: BTreeMap<String, Vec<LoginModuleEntry>>,
}

/// A syntax error, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for JaasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for JaasError {}

impl JaasConfiguration {
    /// Parses a whole file; `system` expands `${name}` in values.
    pub fn parse(text: &str, system: &SystemProperties) -> Result<JaasConfiguration, JaasError> {
        let mut tokens = Tokenizer::new(text);
        let mut sections: BTreeMap<String, Vec<LoginModuleEntry>> = BTreeMap::new();
        loop {
            let (line, token) = tokens.next()?;
            let name = match token {
                Token::End => break,
                Token::Word(name) => name,
                other => {
                    return Err(err(
                        line,
                        format!("expected a login context name, found {}", other),
                    ))
                }
            };
            if sections.contains_key(&name) {
                return Err(err(
                    line,
                    format!("the login context '{}' is defined more than once", name),
                ));
            }
            tokens.expect(Token::Symbol('{'), "'{' after the login context name")?;
            let mut entries = Vec::new();
            loop {
                let (line, token) = tokens.next()?;
                match token {
                    Token::Symbol('}') => break,
                    Token::Word(class_name) => {
                        entries.push(parse_entry(&mut tokens, class_name, line, system)?)
                    }
                    other => {
                        return Err(err(
                            line,
                            format!("expected a login module class or '}}', found {}", other),
                        ))
                    }
                }
            }
            tokens.expect(Token::Symbol(';'), "';' after '}'")?;
            sections.insert(name, entries);
        }
        Ok(JaasConfiguration { sections })
    }

    /// The entries of a section (`Configuration.getAppConfigurationEntry`).
    pub fn section(&self, name: &str) -> Option<&[LoginModuleEntry]> {
        self.sections.get(name).map(Vec::as_slice)
    }

    /// The section names, sorted.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }
}

/// `Class Flag name=value ... ;` after the class name.
fn parse_entry(
    tokens: &mut Tokenizer,
    class_name: String,
    line: usize,
    system: &SystemProperties,
) -> Result<LoginModuleEntry, JaasError> {
    let (flag_line, flag) = tokens.next()?;
    let flag = match flag {
        Token::Word(w) if w.eq_ignore_ascii_case("required") => ControlFlag::Required,
        Token::Word(w) if w.eq_ignore_ascii_case("requisite") => ControlFlag::Requisite,
        Token::Word(w) if w.eq_ignore_ascii_case("sufficient") => ControlFlag::Sufficient,
        Token::Word(w) if w.eq_ignore_ascii_case("optional") => ControlFlag::Optional,
        other => {
            return Err(err(
                flag_line,
                format!("expected a control flag (required, requisite, sufficient, optional) after {}, found {}", class_name, other),
            ))
        }
    };
    let mut options = BTreeMap::new();
    loop {
        let (line, token) = tokens.next()?;
        match token {
            Token::Symbol(';') => break,
            Token::Word(name) => {
                tokens.expect(Token::Symbol('='), "'=' after an option name")?;
                let (value_line, value) = tokens.next()?;
                let value = match value {
                    Token::Word(v) | Token::Quoted(v) => {
                        expand(&v, system).map_err(|m| err(value_line, m))?
                    }
                    other => {
                        return Err(err(
                            value_line,
                            format!("expected a value for option {}, found {}", name, other),
                        ))
                    }
                };
                options.insert(name, value);
            }
            other => {
                return Err(err(
                    line,
                    format!("expected an option or ';', found {}", other),
                ))
            }
        }
    }
    Ok(LoginModuleEntry {
        class_name,
        flag,
        options,
        line,
    })
}

/// `${name}` -> the system property (an unset one is an error, as Java's
/// `PropertyExpander`; `${/}` is the file separator).
fn expand(value: &str, system: &SystemProperties) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match (name, system.get(name)) {
            ("/", _) => out.push('/'),
            (_, Some(v)) => out.push_str(v),
            (_, None) => {
                return Err(format!(
                    "unable to expand ${{{}}}: no such system property",
                    name
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn err(line: usize, message: impl Into<String>) -> JaasError {
    JaasError {
        line,
        message: message.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Symbol(char),
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "'{}'", w),
            Token::Quoted(q) => write!(f, "\"{}\"", q),
            Token::Symbol(c) => write!(f, "'{}'", c),
            Token::End => write!(f, "the end of the file"),
        }
    }
}

/// Java's `StreamTokenizer` as `ConfigFile` sets it up: words of letters,
/// digits and `._$-/` (and anything non-ASCII), `"` strings, `//` and
/// `/* */` comments, and single-character symbols.
struct Tokenizer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    /// The line of the last token (where the end of the file is reported).
    last_line: usize,
}

impl<'a> Tokenizer<'a> {
    fn new(text: &'a str) -> Tokenizer<'a> {
        Tokenizer {
            chars: text.chars().peekable(),
            line: 1,
            last_line: 1,
        }
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), JaasError> {
        let (line, got) = self.next()?;
        if got == want {
            Ok(())
        } else {
            Err(err(line, format!("expected {}, found {}", what, got)))
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    fn next(&mut self) -> Result<(usize, Token), JaasError> {
        let (line, token) = self.scan()?;
        if token != Token::End {
            self.last_line = line;
        }
        Ok((line, token))
    }

    fn scan(&mut self) -> Result<(usize, Token), JaasError> {
        loop {
            let Some(&c) = self.chars.peek() else {
                return Ok((self.last_line, Token::End));
            };
            if c.is_whitespace() {
                self.bump();
                continue;
            }
            let line = self.line;
            if c == '/' {
                self.bump();
                match self.chars.peek() {
                    Some('/') => {
                        while !matches!(self.bump(), Some('\n') | None) {}
                        continue;
                    }
                    Some('*') => {
                        self.bump();
                        let mut last = ' ';
                        loop {
                            match self.bump() {
                                None => return Err(err(line, "unterminated /* comment")),
                                Some('/') if last == '*' => break,
                                Some(ch) => last = ch,
                            }
                        }
                        continue;
                    }
                    _ => return Ok((line, Token::Symbol('/'))),
                }
            }
            if c == '"' {
                self.bump();
                return self.quoted(line).map(|s| (line, Token::Quoted(s)));
            }
            if is_word_char(c) {
                let mut word = String::new();
                while let Some(&ch) = self.chars.peek() {
                    if !is_word_char(ch) {
                        break;
                    }
                    word.push(ch);
                    self.bump();
                }
                return Ok((line, Token::Word(word)));
            }
            self.bump();
            return Ok((line, Token::Symbol(c)));
        }
    }

    /// The rest of a `"` string; a newline inside ends it in Java's
    /// tokenizer, which is never what the author meant: an error here.
    fn quoted(&mut self, line: usize) -> Result<String, JaasError> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => return Err(err(line, "unterminated quoted string")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some(ch) if ch != '\n' => out.push(ch),
                    _ => return Err(err(line, "unterminated quoted string")),
                },
                Some(ch) => out.push(ch),
            }
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '$' | '-' | '/') || !c.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<JaasConfiguration, JaasError> {
        JaasConfiguration::parse(text, &SystemProperties::new())
    }

    #[test]
    fn server_and_client_sections() {
        let text = r#"
// the server's users
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bob\"secret";
};
/* a client
   section */
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule Required
       username=bob password="bobsecret";
};
"#;
        let jaas = parse(text).unwrap();
        assert_eq!(
            jaas.section_names().collect::<Vec<_>>(),
            vec!["Client", "Server"]
        );
        let server = jaas.section("Server").unwrap();
        assert_eq!(server.len(), 1);
        assert_eq!(
            server[0].class_name,
            "org.apache.zookeeper.server.auth.DigestLoginModule"
        );
        assert_eq!(server[0].flag, ControlFlag::Required);
        assert_eq!(server[0].line, 4);
        assert_eq!(server[0].options.get("user_super").unwrap(), "adminsecret");
        assert_eq!(server[0].options.get("user_bob").unwrap(), "bob\"secret");
        assert_eq!(
            jaas.section("Client").unwrap()[0]
                .options
                .get("username")
                .unwrap(),
            "bob"
        );
        assert!(jaas.section("QuorumServer").is_none());
    }

    #[test]
    fn several_modules_and_empty_sections() {
        let text = "A { x.Y sufficient; z.W optional k=v; };\nB { };\n";
        let jaas = parse(text).unwrap();
        let a = jaas.section("A").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].flag, ControlFlag::Sufficient);
        assert!(a[0].options.is_empty());
        assert_eq!(a[1].options.get("k").unwrap(), "v");
        assert!(jaas.section("B").unwrap().is_empty());
    }

    #[test]
    fn property_expansion() {
        let mut system = SystemProperties::new();
        system.set("user.home", "/home/zk");
        let jaas = JaasConfiguration::parse(
            "S { m.K required keyTab=\"${user.home}${/}zk.keytab\"; };",
            &system,
        )
        .unwrap();
        assert_eq!(
            jaas.section("S").unwrap()[0].options.get("keyTab").unwrap(),
            "/home/zk/zk.keytab"
        );
        let e =
            JaasConfiguration::parse("S { m.K required k=\"${nope}\"; };", &system).unwrap_err();
        assert!(e.message.contains("nope"), "{}", e);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, needle) in [
            (
                "Server {\n  m.K required\n  user_a=\"x\"\n};\n",
                4,
                "expected an option or ';'",
            ),
            ("Server {\n  m.K mandatory;\n};\n", 2, "control flag"),
            (
                "Server {\n  m.K required user_a=\"x;\n};\n",
                2,
                "unterminated",
            ),
            ("Server {\n  m.K required;\n}\n", 3, "';' after '}'"),
            ("Server {\n  m.K required;\n", 2, "the end of the file"),
            (
                "Server { m.K required; };\nServer { };\n",
                2,
                "more than once",
            ),
            ("Server { m.K required k=; };", 1, "expected a value"),
            ("/* open", 1, "unterminated /*"),
            ("{ };", 1, "login context name"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{:?}: {}", text, e);
            assert!(e.message.contains(needle), "{:?}: {}", text, e);
        }
    }
}
