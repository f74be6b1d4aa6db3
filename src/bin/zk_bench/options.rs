//! Command-line flags of zk-bench, parsed by hand into [`Options`].
//!
//! Pure code (runs on the main thread before anything else); every flag
//! is `--name value`.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::BenchError;

pub const USAGE: &str = "\
Usage: zk-bench <workload> [flags]
       zk-bench compare <results.jsonl>...

Workloads:
  create    pipelined creates of new znodes (payload bytes each)
  set       pipelined setData on --keys existing znodes
  get       pipelined getData on --keys existing znodes
  exists    pipelined exists on --keys existing znodes
  mixed     get or set, --reads percent of them reads
  watch     --watchers sessions hold persistent watches on --nodes znodes;
            one writer (--inflight in flight) sets them round robin;
            reports notifications/s and the latency to the last watcher
  connect   --sessions threads each open and close sessions in a loop
  sessions  open --count idle sessions; reports server RSS per session
  load      fill --count znodes of --payload bytes (multi of --batch);
            reports server RSS
  recover   start the server (--server-cmd) and time the first served
            request (run it on the dataDir left by `load`)
  startup   the same, meant for an empty dataDir

Flags:
  --server HOST:PORT   server address (127.0.0.1:2181)
  --pid PID            server process, for CPU per op and RSS (/proc)
  --sessions N         sessions (16)          --inflight N   per session (32)
  --payload BYTES      data size (1024)       --keys N       znodes read/set (1000)
  --duration SECS      measured time (10)     --warmup SECS  unmeasured lead-in (2)
  --reads PCT          mixed: read share (90)
  --watchers N         watch: watcher sessions (100)
  --nodes N            watch: watched znodes (10)
  --count N            sessions: sessions held (10000); load: znodes (1000000)
  --batch N            load: creates per multi (100)
  --server-cmd CMD     recover/startup: command starting the server (split on
                       blanks, run without a shell; `env X=Y prog ...` works)
  --server-log FILE    where that server's output goes (/dev/null)
  --timeout SECS       recover/startup: give up after (120)
  --label NAME         implementation label in the JSON line (e.g. java, rust)
  --case NAME          case name in the JSON line (defaults to the workload)
  --json FILE          also append the JSON line to FILE
";

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Create,
    Set,
    Get,
    Exists,
    Mixed,
    Watch,
    Connect,
    Sessions,
    Load,
    Recover,
    Startup,
}

impl Workload {
    pub fn parse(name: &str) -> Option<Workload> {
        Some(match name {
            "create" => Workload::Create,
            "set" => Workload::Set,
            "get" => Workload::Get,
            "exists" => Workload::Exists,
            "mixed" => Workload::Mixed,
            "watch" => Workload::Watch,
            "connect" => Workload::Connect,
            "sessions" => Workload::Sessions,
            "load" => Workload::Load,
            "recover" => Workload::Recover,
            "startup" => Workload::Startup,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Workload::Create => "create",
            Workload::Set => "set",
            Workload::Get => "get",
            Workload::Exists => "exists",
            Workload::Mixed => "mixed",
            Workload::Watch => "watch",
            Workload::Connect => "connect",
            Workload::Sessions => "sessions",
            Workload::Load => "load",
            Workload::Recover => "recover",
            Workload::Startup => "startup",
        }
    }
}

/// Every flag, with its default filled in.
#[derive(Debug, Clone)]
pub struct Options {
    pub workload: Workload,
    pub server: SocketAddr,
    pub pid: Option<u32>,
    pub sessions: usize,
    pub inflight: usize,
    pub payload: usize,
    pub keys: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub read_pct: u32,
    pub watchers: usize,
    pub nodes: usize,
    /// Sessions held (`sessions`) or znodes made (`load`).
    pub count: usize,
    pub batch: usize,
    pub server_cmd: Option<String>,
    pub server_log: String,
    pub timeout: Duration,
    pub label: String,
    pub case: String,
    pub json: Option<String>,
}

impl Options {
    fn defaults(workload: Workload) -> Options {
        let count = match workload {
            Workload::Sessions => 10_000,
            _ => 1_000_000,
        };
        Options {
            workload,
            server: SocketAddr::from(([127, 0, 0, 1], 2181)),
            pid: None,
            sessions: 16,
            inflight: 32,
            payload: 1024,
            keys: 1000,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            read_pct: 90,
            watchers: 100,
            nodes: 10,
            count,
            batch: 100,
            server_cmd: None,
            server_log: "/dev/null".into(),
            timeout: Duration::from_secs(120),
            label: String::new(),
            case: workload.name().into(),
            json: None,
        }
    }

    /// Parses the arguments after the workload name.
    pub fn parse(workload: Workload, args: &[String]) -> Result<Options, BenchError> {
        let mut o = Options::defaults(workload);
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it
                .next()
                .ok_or_else(|| BenchError::Usage(format!("{} needs a value", flag)))?;
            o.set(flag, value)?;
        }
        o.check()?;
        Ok(o)
    }

    fn set(&mut self, flag: &str, v: &str) -> Result<(), BenchError> {
        match flag {
            "--server" => self.server = parse(flag, v)?,
            "--pid" => self.pid = Some(parse(flag, v)?),
            "--sessions" => self.sessions = parse(flag, v)?,
            "--inflight" => self.inflight = parse(flag, v)?,
            "--payload" => self.payload = parse(flag, v)?,
            "--keys" => self.keys = parse(flag, v)?,
            "--duration" => self.duration = secs(flag, v)?,
            "--warmup" => self.warmup = secs(flag, v)?,
            "--reads" => self.read_pct = parse(flag, v)?,
            "--watchers" => self.watchers = parse(flag, v)?,
            "--nodes" => self.nodes = parse(flag, v)?,
            "--count" => self.count = parse(flag, v)?,
            "--batch" => self.batch = parse(flag, v)?,
            "--server-cmd" => self.server_cmd = Some(v.to_string()),
            "--server-log" => self.server_log = v.to_string(),
            "--timeout" => self.timeout = secs(flag, v)?,
            "--label" => self.label = v.to_string(),
            "--case" => self.case = v.to_string(),
            "--json" => self.json = Some(v.to_string()),
            _ => return Err(BenchError::Usage(format!("unknown flag {}", flag))),
        }
        Ok(())
    }

    fn check(&self) -> Result<(), BenchError> {
        let positive = [
            ("--sessions", self.sessions),
            ("--inflight", self.inflight),
            ("--keys", self.keys),
            ("--watchers", self.watchers),
            ("--nodes", self.nodes),
            ("--count", self.count),
            ("--batch", self.batch),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(BenchError::Usage(format!("{} must be at least 1", flag)));
        }
        if self.read_pct > 100 {
            return Err(BenchError::Usage(
                "--reads is a percentage (0..=100)".into(),
            ));
        }
        let needs_cmd = matches!(self.workload, Workload::Recover | Workload::Startup);
        if needs_cmd && self.server_cmd.is_none() {
            return Err(BenchError::Usage(format!(
                "{} needs --server-cmd (the tool starts the server)",
                self.workload.name()
            )));
        }
        Ok(())
    }
}

fn parse<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, BenchError> {
    v.parse()
        .map_err(|_| BenchError::Usage(format!("{}: bad value {:?}", flag, v)))
}

fn secs(flag: &str, v: &str) -> Result<Duration, BenchError> {
    let s: f64 = parse(flag, v)?;
    if !(0.0..=86_400.0).contains(&s) {
        return Err(BenchError::Usage(format!(
            "{}: {} is out of range",
            flag, v
        )));
    }
    Ok(Duration::from_secs_f64(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn defaults_are_the_issue_shape() {
        let o = Options::parse(Workload::Get, &[]).unwrap();
        assert_eq!((o.sessions, o.inflight, o.payload), (16, 32, 1024));
        assert_eq!(o.case, "get");
        assert_eq!(
            Options::parse(Workload::Sessions, &[]).unwrap().count,
            10_000
        );
        assert_eq!(
            Options::parse(Workload::Load, &[]).unwrap().count,
            1_000_000
        );
    }

    #[test]
    fn flags_override_defaults() {
        let o = Options::parse(
            Workload::Mixed,
            &args("--sessions 1 --inflight 1 --duration 0.5 --reads 75 --server 10.0.0.1:2182 --case x"),
        )
        .unwrap();
        assert_eq!((o.sessions, o.inflight, o.read_pct), (1, 1, 75));
        assert_eq!(o.duration, Duration::from_millis(500));
        assert_eq!(o.server.port(), 2182);
        assert_eq!(o.case, "x");
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for bad in [
            "--sessions",
            "--sessions x",
            "--nope 1",
            "--inflight 0",
            "--reads 101",
            "--duration -1",
        ] {
            assert!(
                matches!(
                    Options::parse(Workload::Get, &args(bad)),
                    Err(BenchError::Usage(_))
                ),
                "{}",
                bad
            );
        }
    }

    #[test]
    fn recover_needs_a_server_command() {
        assert!(Options::parse(Workload::Recover, &[]).is_err());
        assert!(Options::parse(Workload::Startup, &args("--server-cmd true")).is_ok());
    }

    #[test]
    fn workload_names_round_trip() {
        for name in [
            "create", "set", "get", "exists", "mixed", "watch", "connect", "sessions", "load",
            "recover", "startup",
        ] {
            assert_eq!(Workload::parse(name).unwrap().name(), name);
        }
        assert!(Workload::parse("bogus").is_none());
    }
}
