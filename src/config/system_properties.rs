//! The settings Java reads as JVM system properties, and the JDK's rules
//! for reading them.
//!
//! Java ZooKeeper reads many settings with `System.getProperty`,
//! `Integer.getInteger`, `Long.getLong` or `Boolean.getBoolean`. They come
//! from two places: `-Dkey=value` flags on the command line (zkServer.sh
//! passes `SERVER_JVMFLAGS`), and every zoo.cfg key that `QuorumPeerConfig`
//! does not recognise, which it stores as `zookeeper.<key>`. This map holds
//! both (zoo.cfg last, because `System.setProperty` overwrites), and the
//! getters below reproduce the JDK's lenient parsing: a malformed number
//! silently means "use the default", exactly as in Java.
//!
//! Used once, on the main thread, while building `ServerConfig`.
//!
//! Mirrors: `java.lang.System` properties, `Integer.getInteger`,
//! `Integer.decode`, `Long.getLong`, `Boolean.getBoolean`.

use std::collections::BTreeMap;

/// JVM-style system properties: `-D` flags plus `zookeeper.<key>` entries
/// from zoo.cfg.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemProperties {
    /// Name → value. A `BTreeMap` so `sysp`/`envi`-style dumps are sorted,
    /// as Java's admin `system_properties` command sorts them.
    values: BTreeMap<String, String>,
}

impl SystemProperties {
    /// An empty set (no `-D` flags).
    pub fn new() -> SystemProperties {
        SystemProperties::default()
    }

    /// Collects `-Dname=value` arguments (a bare `-Dname` means the empty
    /// string, as for `java`). Returns the properties and the arguments
    /// that were not `-D` flags, in order.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> (SystemProperties, Vec<String>) {
        let mut props = SystemProperties::new();
        let mut rest = Vec::new();
        for arg in args {
            match arg.strip_prefix("-D") {
                Some(flag) if !flag.is_empty() => {
                    let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
                    props.set(name, value);
                }
                _ => rest.push(arg),
            }
        }
        (props, rest)
    }

    /// Sets a property (`System.setProperty`).
    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_string(), value.to_string());
    }

    /// `System.getProperty(name)`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Every property, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `Integer.getInteger(name, default)`: the default when unset or not
    /// a valid `Integer.decode` string.
    pub fn get_integer(&self, name: &str, default: i32) -> i32 {
        self.get(name).and_then(decode_i32).unwrap_or(default)
    }

    /// `Long.getLong(name, default)`.
    pub fn get_long(&self, name: &str, default: i64) -> i64 {
        self.get(name).and_then(decode_i64).unwrap_or(default)
    }

    /// `Long.getLong(name)`: `None` when unset or malformed.
    pub fn get_long_opt(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(decode_i64)
    }

    /// `Boolean.getBoolean(name)`: true only for "true", any case.
    pub fn get_boolean(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `Boolean.parseBoolean(System.getProperty(name, default))`.
    pub fn get_boolean_or(&self, name: &str, default: bool) -> bool {
        self.get(name)
            .map_or(default, |v| v.eq_ignore_ascii_case("true"))
    }
}

/// `Integer.decode`: optional sign, then `0x`/`0X`/`#` for hex, a leading
/// `0` for octal, else decimal. No whitespace. Must fit in an `i32`.
pub fn decode_i32(text: &str) -> Option<i32> {
    decode_i64(text).and_then(|v| i32::try_from(v).ok())
}

/// `Long.decode`, same rules as [`decode_i32`] for an `i64`.
pub fn decode_i64(text: &str) -> Option<i64> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        (16, hex)
    } else if let Some(hex) = unsigned.strip_prefix('#') {
        (16, hex)
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (8, &unsigned[1..])
    } else {
        (10, unsigned)
    };
    // A second sign after the prefix is an error in Java.
    if digits.is_empty() || digits.starts_with(['-', '+']) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// `Integer.parseInt`: optional sign and decimal digits only; what
/// `QuorumPeerConfig` uses for the keys it knows.
pub fn parse_int(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i32>().ok()
}

/// `Long.parseLong`, decimal, like [`parse_int`].
pub fn parse_long(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_follows_integer_decode() {
        assert_eq!(decode_i32("42"), Some(42));
        assert_eq!(decode_i32("-42"), Some(-42));
        assert_eq!(decode_i32("+7"), Some(7));
        assert_eq!(decode_i32("0x1F"), Some(31));
        assert_eq!(decode_i32("#ff"), Some(255));
        assert_eq!(decode_i32("010"), Some(8));
        assert_eq!(decode_i32("0"), Some(0));
        assert_eq!(decode_i32("-0x80000000"), Some(i32::MIN));
        assert_eq!(decode_i32("0x80000000"), None);
        assert_eq!(decode_i32(" 1"), None);
        assert_eq!(decode_i32("08"), None);
        assert_eq!(decode_i32("0x-1"), None);
        assert_eq!(decode_i32(""), None);
        assert_eq!(decode_i32("-"), None);
    }

    #[test]
    fn parse_int_is_decimal_only() {
        assert_eq!(parse_int("2181"), Some(2181));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("+5"), Some(5));
        assert_eq!(parse_int("010"), Some(10));
        assert_eq!(parse_int("0x10"), None);
        assert_eq!(parse_int("2147483648"), None);
        assert_eq!(parse_int("12a"), None);
        assert_eq!(parse_long("9223372036854775807"), Some(i64::MAX));
    }

    #[test]
    fn getters_fall_back_to_default_on_garbage() {
        let mut p = SystemProperties::new();
        p.set("n", "abc");
        p.set("b", "TRUE");
        p.set("c", "yes");
        assert_eq!(p.get_integer("n", 5), 5);
        assert_eq!(p.get_integer("missing", 6), 6);
        assert_eq!(p.get_long("n", -1), -1);
        assert!(p.get_boolean("b"));
        assert!(!p.get_boolean("c"));
        assert!(!p.get_boolean("missing"));
        assert!(p.get_boolean_or("missing", true));
        assert!(!p.get_boolean_or("c", true));
    }

    #[test]
    fn dash_d_flags_are_split_from_other_args() {
        let args = ["-Djute.maxbuffer=4096", "conf/zoo.cfg", "-Dflag", "-D"];
        let (props, rest) = SystemProperties::from_args(args.iter().map(|s| s.to_string()));
        assert_eq!(props.get("jute.maxbuffer"), Some("4096"));
        assert_eq!(props.get("flag"), Some(""));
        assert_eq!(rest, vec!["conf/zoo.cfg".to_string(), "-D".to_string()]);
    }
}
