//! One run's figures ([`RunResult`]): printed as a small table for people
//! and as one flat JSON line for `zk-bench compare` and scripts.
//!
//! Pure code, called by the main thread after a workload finished. The
//! JSON is written and read by hand (flat objects of numbers and strings
//! only), so the tool needs no serialization crate.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::latency::Summary;

/// The outcome of one run of one workload against one server.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub case: String,
    pub label: String,
    pub workload: String,
    /// The run's shape, echoed so the JSON line stands on its own.
    pub sessions: usize,
    pub inflight: usize,
    pub payload: usize,
    /// Measured seconds (the window after the warm-up).
    pub seconds: f64,
    /// Completed operations in the window (requests, notifications,
    /// open+close cycles or znodes, depending on the workload).
    pub ops: u64,
    pub errors: u64,
    pub latency: Option<Summary>,
    /// Server CPU (utime+stime) per operation, microseconds.
    pub cpu_us_per_op: Option<f64>,
    /// zk-bench's own CPU per operation, microseconds.
    pub client_cpu_us_per_op: Option<f64>,
    pub rss_kib: Option<u64>,
    pub rss_per_session_bytes: Option<f64>,
    /// recover/startup: process start to the first successful reply.
    pub first_reply_ms: Option<f64>,
    /// Figures of the ensemble cases (failover, snap-sync, watches,
    /// sessions-max): (JSON key, value), printed under the key.
    pub extra: Vec<(&'static str, f64)>,
}

impl RunResult {
    pub fn ops_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ops as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The JSON line: every figure that applies, nothing else.
    pub fn to_json(&self) -> String {
        let mut fields: Vec<(&str, String)> = vec![
            ("case", quote(&self.case)),
            ("label", quote(&self.label)),
            ("workload", quote(&self.workload)),
            ("sessions", self.sessions.to_string()),
            ("inflight", self.inflight.to_string()),
            ("payload", self.payload.to_string()),
            ("seconds", num(self.seconds)),
            ("ops", self.ops.to_string()),
            ("ops_per_s", num(self.ops_per_sec())),
            ("errors", self.errors.to_string()),
        ];
        if let Some(l) = &self.latency {
            fields.push(("p50_us", num(l.p50_us)));
            fields.push(("p99_us", num(l.p99_us)));
            fields.push(("p999_us", num(l.p999_us)));
            fields.push(("max_us", num(l.max_us)));
        }
        for (name, _, value) in self.optional_figures() {
            if let Some(v) = value {
                fields.push((name, num(v)));
            }
        }
        for (name, value) in &self.extra {
            fields.push((name, num(*value)));
        }
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("\"{}\":{}", k, v))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    /// The figures only some workloads measure: (JSON key, table label,
    /// value when measured).
    fn optional_figures(&self) -> [(&'static str, &'static str, Option<f64>); 5] {
        [
            ("cpu_us_per_op", "server cpu us/op", self.cpu_us_per_op),
            (
                "client_cpu_us_per_op",
                "client cpu us/op",
                self.client_cpu_us_per_op,
            ),
            ("rss_kib", "server RSS KiB", self.rss_kib.map(|v| v as f64)),
            (
                "rss_per_session_bytes",
                "RSS bytes/session",
                self.rss_per_session_bytes,
            ),
            ("first_reply_ms", "first reply ms", self.first_reply_ms),
        ]
    }

    /// A few aligned lines for a person reading the terminal.
    pub fn to_table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} [{}] {} sessions x {} in flight, {} B: {} ops in {:.2} s, {} errors",
            self.case,
            self.label,
            self.sessions,
            self.inflight,
            self.payload,
            self.ops,
            self.seconds,
            self.errors
        );
        let _ = writeln!(t, "  {:<22} {:>12.1}", "ops/s", self.ops_per_sec());
        if let Some(l) = &self.latency {
            let _ = writeln!(
                t,
                "  {:<22} p50 {:.1}  p99 {:.1}  p999 {:.1}  max {:.1}",
                "latency us", l.p50_us, l.p99_us, l.p999_us, l.max_us
            );
        }
        for (_, name, value) in self.optional_figures() {
            if let Some(v) = value {
                let _ = writeln!(t, "  {:<22} {:>12.2}", name, v);
            }
        }
        for (name, value) in &self.extra {
            let _ = writeln!(t, "  {:<22} {:>12.2}", name, value);
        }
        t
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A finite number in JSON; NaN/inf (never expected) become 0.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{:.3}", v)
    }
}

/// A value of a flat JSON object.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
}

/// Parses one flat JSON object of strings and numbers (what `to_json`
/// writes); `None` for anything else.
pub fn parse_json_line(line: &str) -> Option<BTreeMap<String, Value>> {
    let mut p = Parser {
        s: line.trim().as_bytes(),
        i: 0,
    };
    let mut map = BTreeMap::new();
    p.expect(b'{')?;
    if p.peek() == Some(b'}') {
        return Some(map);
    }
    loop {
        let key = p.string()?;
        p.expect(b':')?;
        let value = if p.peek() == Some(b'"') {
            Value::Str(p.string()?)
        } else {
            Value::Num(p.number()?)
        };
        map.insert(key, value);
        match p.next()? {
            b',' => continue,
            b'}' => return Some(map),
            _ => return None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    fn string(&mut self) -> Option<String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }
    fn number(&mut self) -> Option<f64> {
        self.skip_ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| b"+-.eE0123456789".contains(c))
        {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunResult {
        RunResult {
            case: "get \"16x32\"".into(),
            label: "rust".into(),
            workload: "get".into(),
            sessions: 16,
            inflight: 32,
            payload: 1024,
            seconds: 2.0,
            ops: 1001,
            errors: 0,
            latency: Some(Summary {
                count: 1001,
                p50_us: 10.5,
                p99_us: 20.0,
                p999_us: 30.0,
                max_us: 40.25,
            }),
            cpu_us_per_op: Some(3.25),
            rss_kib: Some(4096),
            ..Default::default()
        }
    }

    #[test]
    fn json_round_trips_through_the_parser() {
        let line = sample().to_json();
        assert!(!line.contains('\n'));
        let map = parse_json_line(&line).unwrap();
        assert_eq!(map["case"], Value::Str("get \"16x32\"".into()));
        assert_eq!(map["ops_per_s"], Value::Num(500.5));
        assert_eq!(map["p50_us"], Value::Num(10.5));
        assert_eq!(map["rss_kib"], Value::Num(4096.0));
        assert!(!map.contains_key("first_reply_ms"));
    }

    #[test]
    fn table_shows_what_applies() {
        let t = sample().to_table();
        assert!(t.contains("p99 20.0"));
        assert!(t.contains("server cpu us/op"));
        assert!(!t.contains("first reply"));
    }

    #[test]
    fn parser_rejects_other_json() {
        assert!(parse_json_line("[1,2]").is_none());
        assert!(parse_json_line("{\"a\":1").is_none());
        assert!(parse_json_line("{\"a\":true}").is_none());
        assert_eq!(parse_json_line("{}").unwrap().len(), 0);
    }
}
