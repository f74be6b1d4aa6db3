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
  failover  ensemble: --count idle sessions and --sessions writers over all
            --server addresses; SIGKILL the leader (found with srvr, its
            pid at the same place in --pid); time to the first acknowledged
            write, time until every session is connected again, expired
  reattach  the same sessions and writers, but instead of a kill every
            idle session drops its connection at once (the server keeps
            the session) and re-attaches: time until all are back, on a
            healthy standalone server or ensemble (no --pid needed)
  snap-sync ensemble: writers on --server (the leader) while --server-cmd
            starts a follower on an empty dataDir; time until --follower
            serves, and the writes' latency meanwhile
  watches   --watchers sessions over all --server addresses set --count
            watches on --nodes znodes (data, child, exists, persistent);
            RSS per watch, then --changes percent of the znodes change:
            notifications/s
  sessions-max  open sessions on --server until it refuses one (at most
            --count); sessions held, RSS per session, whether it survived

Flags:
  --server HOST:PORT[,HOST:PORT...]  server addresses (127.0.0.1:2181);
                       sessions are spread round robin over them
  --pid PID[,PID...]   server processes, for CPU per op and RSS (/proc),
                       summed; failover: in the order of --server
  --follower HOST:PORT snap-sync: the follower being started
  --changes PCT        watches: share of the watched znodes changed (10)
  --backoff MS         failover, reattach: a dropped session waits a random
                       time below this before each reconnect, as the Java
                       client does (1000; 0: reconnect at once)
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
  --tls-truststore F   connect over TLS (a secure client port), checking the
                       server's certificate (by address) with this JKS,
                       PKCS12 or PEM trust store
  --tls-keystore F     the client certificate to present over TLS
  --tls-password PW    the stores' password
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
    Failover,
    Reattach,
    SnapSync,
    Watches,
    SessionsMax,
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
            "failover" => Workload::Failover,
            "reattach" => Workload::Reattach,
            "snap-sync" => Workload::SnapSync,
            "watches" => Workload::Watches,
            "sessions-max" => Workload::SessionsMax,
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
            Workload::Failover => "failover",
            Workload::Reattach => "reattach",
            Workload::SnapSync => "snap-sync",
            Workload::Watches => "watches",
            Workload::SessionsMax => "sessions-max",
        }
    }
}

/// Every flag, with its default filled in.
#[derive(Debug, Clone)]
pub struct Options {
    pub workload: Workload,
    /// The first of `servers` (setup and admin sessions go there).
    pub server: SocketAddr,
    pub servers: Vec<SocketAddr>,
    /// The first of `pids`.
    pub pid: Option<u32>,
    pub pids: Vec<u32>,
    pub follower: Option<SocketAddr>,
    pub changes_pct: u32,
    /// `--backoff MS`: failover, reattach: the longest random wait of a
    /// dropped session before each reconnect.
    pub backoff: Duration,
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
    /// `--tls-truststore`: connect over TLS, checking the server with it.
    pub tls_truststore: Option<String>,
    /// `--tls-keystore`: the client certificate presented over TLS.
    pub tls_keystore: Option<String>,
    /// `--tls-password`: both stores' password.
    pub tls_password: String,
}

impl Options {
    fn defaults(workload: Workload) -> Options {
        let count = match workload {
            Workload::Sessions | Workload::Failover | Workload::Reattach => 10_000,
            Workload::SessionsMax => 60_000,
            _ => 1_000_000,
        };
        let (watchers, nodes) = match workload {
            Workload::Watches => (1000, 1000),
            _ => (100, 10),
        };
        let server = SocketAddr::from(([127, 0, 0, 1], 2181));
        Options {
            workload,
            server,
            servers: vec![server],
            pid: None,
            pids: Vec::new(),
            follower: None,
            changes_pct: 10,
            backoff: Duration::from_millis(1000),
            sessions: 16,
            inflight: 32,
            payload: 1024,
            keys: 1000,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            read_pct: 90,
            watchers,
            nodes,
            count,
            batch: 100,
            server_cmd: None,
            server_log: "/dev/null".into(),
            timeout: Duration::from_secs(120),
            label: String::new(),
            case: workload.name().into(),
            json: None,
            tls_truststore: None,
            tls_keystore: None,
            tls_password: String::new(),
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
            "--server" => {
                self.servers = list(flag, v)?;
                self.server = self.servers[0];
            }
            "--pid" => {
                self.pids = list(flag, v)?;
                self.pid = self.pids.first().copied();
            }
            "--follower" => self.follower = Some(parse(flag, v)?),
            "--changes" => self.changes_pct = parse(flag, v)?,
            "--backoff" => self.backoff = Duration::from_millis(parse(flag, v)?),
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
            "--tls-truststore" => self.tls_truststore = Some(v.to_string()),
            "--tls-keystore" => self.tls_keystore = Some(v.to_string()),
            "--tls-password" => self.tls_password = v.to_string(),
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
        if self.read_pct > 100 || self.changes_pct > 100 {
            return Err(BenchError::Usage(
                "--reads and --changes are percentages (0..=100)".into(),
            ));
        }
        if self.workload == Workload::SnapSync && self.follower.is_none() {
            return Err(BenchError::Usage(
                "snap-sync needs --follower (the address it serves on)".into(),
            ));
        }
        if self.workload == Workload::Failover && self.pids.len() != self.servers.len() {
            return Err(BenchError::Usage(
                "failover needs one --pid per --server, in the same order".into(),
            ));
        }
        let needs_cmd = matches!(
            self.workload,
            Workload::Recover | Workload::Startup | Workload::SnapSync
        );
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

/// A comma-separated list, at least one element.
fn list<T: std::str::FromStr>(flag: &str, v: &str) -> Result<Vec<T>, BenchError> {
    v.split(',').map(|item| parse(flag, item.trim())).collect()
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
    fn server_and_pid_lists() {
        let o = Options::parse(
            Workload::Failover,
            &args("--server 127.0.0.1:1,127.0.0.1:2 --pid 10,20"),
        )
        .unwrap();
        assert_eq!(o.servers.len(), 2);
        assert_eq!(o.server.port(), 1);
        assert_eq!((o.pid, o.pids.clone()), (Some(10), vec![10, 20]));
        assert_eq!(o.count, 10_000);
        assert!(
            Options::parse(Workload::Failover, &args("--server 127.0.0.1:1 --pid 1,2")).is_err()
        );
        assert!(Options::parse(Workload::Get, &args("--server 127.0.0.1:1,x")).is_err());
    }

    #[test]
    fn recover_needs_a_server_command() {
        assert!(Options::parse(Workload::Recover, &[]).is_err());
        assert!(Options::parse(Workload::Startup, &args("--server-cmd true")).is_ok());
    }

    #[test]
    fn workload_names_round_trip() {
        for name in [
            "create",
            "set",
            "get",
            "exists",
            "mixed",
            "watch",
            "connect",
            "sessions",
            "load",
            "recover",
            "startup",
            "failover",
            "snap-sync",
            "watches",
            "sessions-max",
        ] {
            assert_eq!(Workload::parse(name).unwrap().name(), name);
        }
        assert!(Workload::parse("bogus").is_none());
    }
}
