//! Four-letter words: plain-text admin commands on the client port.
//!
//! A fresh connection whose first four bytes spell a known command (read
//! as a big-endian int, where a frame length would be) gets a text answer
//! and is closed (Java's `NIOServerCnxn.checkFourLetterWord`). This module knows the codes,
//! the whitelist (`4lw.commands.whitelist`: default `srvr` only, `*` =
//! all), and dispatches to one small file per command. It runs on the
//! connection's reader thread; the connection queues the returned text and
//! closes after writing it.
//!
//! The AdminServer (`crate::admin`) reuses the data-gathering functions of
//! these files for its JSON commands.
//!
//! Mirrors: `org.apache.zookeeper.server.command.FourLetterCommands`,
//! `CommandExecutor`, `AbstractFourLetterCommand`, `NopCommand`.

pub mod conf;
pub mod cons;
pub mod dirs;
pub mod dump;
pub mod envi;
pub mod hash;
pub mod java_date;
pub mod mntr;
pub mod ruok;
pub mod srst;
pub mod stat;
pub mod trace_mask;
pub mod watches;

use std::collections::HashSet;
use std::net::SocketAddr;

use crate::common::time::civil_from_unix;
use crate::server::cnxn_stats::CnxnStatsSnapshot;
use crate::server::server_cnxn::ServerCnxn;
use crate::server::server_cnxn_factory::CnxnRegistry;
use crate::server::watch::Watcher;
use crate::server::zookeeper_server::{ServerStatsSnapshot, ZooKeeperServer};

/// Every command Java knows, with its wire code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FourLetterWord {
    Conf,
    Cons,
    Crst,
    Dirs,
    Dump,
    Envi,
    Gtmk,
    Ruok,
    Stmk,
    Srst,
    Srvr,
    Stat,
    Wchc,
    Wchp,
    Wchs,
    Mntr,
    Isro,
    Hash,
    /// The bytes telnet sends when it closes (IAC IP IAC DO TIMING-MARK...);
    /// known only so it is logged cleanly.
    TelnetClose,
}

/// All words, in Java's registration order.
pub const ALL: [FourLetterWord; 19] = [
    FourLetterWord::Conf,
    FourLetterWord::Cons,
    FourLetterWord::Crst,
    FourLetterWord::Dirs,
    FourLetterWord::Dump,
    FourLetterWord::Envi,
    FourLetterWord::Gtmk,
    FourLetterWord::Ruok,
    FourLetterWord::Stmk,
    FourLetterWord::Srst,
    FourLetterWord::Srvr,
    FourLetterWord::Stat,
    FourLetterWord::Wchc,
    FourLetterWord::Wchp,
    FourLetterWord::Wchs,
    FourLetterWord::Mntr,
    FourLetterWord::Isro,
    FourLetterWord::TelnetClose,
    FourLetterWord::Hash,
];

/// `FourLetterCommands.telnetCloseCmd`.
const TELNET_CLOSE_CODE: i32 = 0xfff4fffd_u32 as i32;

impl FourLetterWord {
    /// The command's name, as in the whitelist and log lines.
    pub fn name(self) -> &'static str {
        use FourLetterWord::*;
        match self {
            Conf => "conf",
            Cons => "cons",
            Crst => "crst",
            Dirs => "dirs",
            Dump => "dump",
            Envi => "envi",
            Gtmk => "gtmk",
            Ruok => "ruok",
            Stmk => "stmk",
            Srst => "srst",
            Srvr => "srvr",
            Stat => "stat",
            Wchc => "wchc",
            Wchp => "wchp",
            Wchs => "wchs",
            Mntr => "mntr",
            Isro => "isro",
            Hash => "hash",
            TelnetClose => "telnet close",
        }
    }

    /// The four bytes as a big-endian int: what a frame length would be.
    pub fn code(self) -> i32 {
        match self {
            FourLetterWord::TelnetClose => TELNET_CLOSE_CODE,
            word => i32::from_be_bytes(word.name().as_bytes().try_into().unwrap_or([0; 4])),
        }
    }

    /// The command a connection's first four bytes spell, if any
    /// (`FourLetterCommands.isKnown`).
    pub fn from_code(code: i32) -> Option<FourLetterWord> {
        ALL.iter().copied().find(|w| w.code() == code)
    }

    /// `stmk` is followed by an 8-byte trace mask.
    pub fn takes_argument(self) -> bool {
        self == FourLetterWord::Stmk
    }
}

/// `FourLetterCommands.isEnabled` over a parsed whitelist (see
/// `ServerConfig::four_letter_word_whitelist`). `srvr` is always enabled:
/// zkServer.sh status depends on it.
pub fn is_enabled(word: FourLetterWord, whitelist: &[String]) -> bool {
    word == FourLetterWord::Srvr || whitelist.iter().any(|c| c == "*" || c == word.name())
}

/// One client connection, as the commands report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The peer.
    pub remote: SocketAddr,
    /// Java's selector interest ops: 1 = reading, 4 = writing, 0 = neither.
    pub interest_ops: u32,
    /// Requests received and not yet answered.
    pub queued: u64,
    /// Frames received on this connection.
    pub received: u64,
    /// Frames sent on this connection.
    pub sent: u64,
    /// The bound session, 0 before the handshake.
    pub session_id: i64,
    /// Last op, latencies, timeout; the packet counts at the last `crst`.
    pub stats: CnxnStatsSnapshot,
}

impl ConnectionInfo {
    /// `ServerCnxn.dumpConnectionInfo(pw, brief=true)`, without newline:
    /// ` /127.0.0.1:40428[1](queued=0,recved=5,sent=5)`.
    pub fn brief(&self) -> String {
        format!(
            " {}[{:x}](queued={},recved={},sent={})",
            java_socket_address(&self.remote),
            self.interest_ops,
            self.queued,
            self.packets_received(),
            self.packets_sent()
        )
    }

    /// Frames received since the last `crst`.
    pub fn packets_received(&self) -> u64 {
        self.received.saturating_sub(self.stats.received_at_reset)
    }

    /// Frames sent since the last `crst`.
    pub fn packets_sent(&self) -> u64 {
        self.sent.saturating_sub(self.stats.sent_at_reset)
    }
}

/// What a command may look at.
pub struct CommandContext<'a> {
    /// Server figures; `None` when no server is serving (Java's
    /// `isZKServerRunning() == false`).
    pub stats: Option<ServerStatsSnapshot>,
    /// `standalone`, `leader`, `follower`, `observer` or `read-only`.
    pub mode: &'a str,
    /// Every live client connection, this one included.
    pub connections: Vec<ConnectionInfo>,
    /// The parsed `4lw.commands.whitelist`.
    pub whitelist: &'a [String],
    /// `stmk`'s 8-byte argument, if it was read.
    pub argument: Option<i64>,
    /// The server (tree, sessions, config); `None` in framing tests.
    pub server: Option<&'a ZooKeeperServer>,
    /// The live connections (`crst` resets them).
    pub registry: Option<&'a CnxnRegistry>,
}

impl CommandContext<'_> {
    /// The server, when it is serving requests.
    pub fn serving(&self) -> Option<&ZooKeeperServer> {
        self.stats.as_ref().and(self.server)
    }

    /// This context without the closing connections.
    fn with_open_connections(mut self) -> Self {
        self.drop_closing_connections();
        self
    }

    /// Drops the connections that are closing: a client that read a 4lw
    /// answer may ask again before its old connection has left the
    /// registry, and Java never lists those.
    pub fn drop_closing_connections(&mut self) {
        let Some(registry) = self.registry else {
            return;
        };
        let closing: HashSet<SocketAddr> = registry
            .connections()
            .iter()
            .filter(|c| c.is_stale())
            .map(|c| c.remote_addr())
            .collect();
        self.connections.retain(|c| !closing.contains(&c.remote));
    }
}

/// What the connection should do after a four-letter word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Write this text, then close.
    Reply(String),
    /// Java has no command object for this code (telnet close when
    /// whitelisted): the four bytes are a frame length after all.
    NotACommand,
    /// A command of a later issue: close without output.
    NotImplemented,
}

/// Java's answer when the server is not running.
pub const ZK_NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// Runs a command: whitelist check, then the command itself.
pub fn execute(word: FourLetterWord, ctx: &CommandContext<'_>) -> CommandOutcome {
    let ctx = &CommandContext {
        connections: ctx.connections.clone(),
        stats: ctx.stats.clone(),
        ..*ctx
    }
    .with_open_connections();
    if !is_enabled(word, ctx.whitelist) {
        let text = format!(
            "{} is not executed because it is not in the whitelist.\n",
            word.name()
        );
        return CommandOutcome::Reply(text);
    }
    match word {
        FourLetterWord::Ruok => CommandOutcome::Reply(ruok::run()),
        FourLetterWord::Srvr | FourLetterWord::Stat => {
            CommandOutcome::Reply(stat::run(word == FourLetterWord::Stat, ctx))
        }
        FourLetterWord::TelnetClose => CommandOutcome::NotACommand,
        word => match run_server_command(word, ctx) {
            Some(text) => CommandOutcome::Reply(text),
            None => CommandOutcome::NotImplemented,
        },
    }
}

/// The commands that read the server; Java's answer when it is not serving.
fn run_server_command(word: FourLetterWord, ctx: &CommandContext<'_>) -> Option<String> {
    use FourLetterWord::*;
    // These three do not need a running server in Java either.
    match word {
        Envi => return Some(envi::run()),
        Gtmk => return Some(trace_mask::get().to_string()),
        Stmk => return Some(trace_mask::set(ctx.argument.unwrap_or(0)).to_string()),
        _ => {}
    }
    let Some(server) = ctx.serving() else {
        return Some(match word {
            Isro => "null".to_string(),
            Hash => ZK_NOT_SERVING.to_string(),
            _ => format!("{}\n", ZK_NOT_SERVING),
        });
    };
    Some(match word {
        Conf => conf::run(server),
        Cons => cons::run(ctx),
        Crst => cons::reset(ctx),
        Dirs => dirs::run(server),
        Dump => dump::run(server, ctx),
        Srst => srst::run(server),
        Wchc => watches::by_session(server, ctx),
        Wchp => watches::by_path(server, ctx),
        Wchs => watches::summary(server),
        Mntr => mntr::run(server, ctx),
        Isro => isro(ctx.mode).to_string(),
        Hash => hash::run(server),
        Ruok | Srvr | Stat | TelnetClose | Envi | Gtmk | Stmk => return None,
    })
}

/// `isro`: `ro` on a read-only server, else `rw`.
pub fn isro(mode: &str) -> &'static str {
    if mode == "read-only" {
        "ro"
    } else {
        "rw"
    }
}

/// The version we report: Java's `<version>-<revision>, built on <date>`
/// shape (`Version.getFullVersion`), with the ZooKeeper version whose
/// semantics we follow and our own name and version as the revision, so
/// tools that parse `\d+.\d+.\d+-` keep working and a human sees what runs.
pub fn full_version() -> String {
    format!("{}, built on {}", short_version(), build_date())
}

/// `3.9.5-zookeeper-rs-<crate version>`.
pub fn short_version() -> String {
    format!("3.9.5-zookeeper-rs-{}", env!("CARGO_PKG_VERSION"))
}

/// The build time as Java prints it (`yyyy-MM-dd HH:mm UTC`): the
/// modification time of the running executable, which is when it was
/// linked. "unknown" if that cannot be read.
fn build_date() -> String {
    let modified = std::env::current_exe()
        .and_then(|p| p.metadata())
        .and_then(|m| m.modified());
    match modified
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
    {
        Some(since_epoch) => {
            let (y, mo, d, h, mi, _s) = civil_from_unix(since_epoch.as_secs() as i64);
            format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", y, mo, d, h, mi)
        }
        None => "unknown".to_string(),
    }
}

/// `InetSocketAddress.toString()` for an unresolved-name address:
/// `/127.0.0.1:2181`, `/[0:0:0:0:0:0:0:1]:2181`.
pub fn java_socket_address(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("/{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => match a.ip().to_ipv4_mapped() {
            Some(v4) => format!("/{}:{}", v4, a.port()),
            None => format!(
                "/[{}]:{}",
                java_host_address(&a.ip().to_owned().into()),
                a.port()
            ),
        },
    }
}

/// `InetAddress.getHostAddress()`: dotted IPv4; IPv6 as eight lowercase
/// hex groups without `::` compression; IPv4-mapped IPv6 as IPv4 (Java
/// turns those into `Inet4Address`).
pub fn java_host_address(ip: &std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let groups: Vec<String> =
                    v6.segments().iter().map(|s| format!("{:x}", s)).collect();
                groups.join(":")
            }
        },
    }
}

/// `Double.toString`: shortest digits that round-trip, at least one
/// decimal (`0.0`, `8.4`, `3.3077`), scientific outside [1e-3, 1e7)
/// (`1.0E7`).
pub fn java_double_to_string(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = format!("{}", value);
        return if text.contains('.') {
            text
        } else {
            format!("{}.0", text)
        };
    }
    let text = format!("{:e}", value);
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{}.0", mantissa)
    };
    format!("{}E{}", mantissa, exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_ascii_letters_big_endian() {
        assert_eq!(FourLetterWord::Ruok.code(), 0x72756F6B);
        assert_eq!(FourLetterWord::Srvr.code(), 0x73727672);
        assert_eq!(FourLetterWord::Stat.code(), 0x73746174);
        assert_eq!(FourLetterWord::Mntr.code(), 0x6D6E7472);
        assert_eq!(
            FourLetterWord::from_code(0x636F6E66),
            Some(FourLetterWord::Conf)
        );
        assert_eq!(
            FourLetterWord::from_code(0xfff4fffd_u32 as i32),
            Some(FourLetterWord::TelnetClose)
        );
        // A real ConnectRequest length is not a command.
        assert_eq!(FourLetterWord::from_code(44), None);
        assert_eq!(FourLetterWord::from_code(45), None);
        assert_eq!(
            FourLetterWord::from_code(i32::from_be_bytes(*b"xyzw")),
            None
        );
        // Every word round-trips and the codes are distinct.
        for w in ALL {
            assert_eq!(FourLetterWord::from_code(w.code()), Some(w));
        }
    }

    #[test]
    fn whitelist_rules() {
        let srvr_only = vec!["srvr".to_string()];
        assert!(is_enabled(FourLetterWord::Srvr, &srvr_only));
        assert!(!is_enabled(FourLetterWord::Ruok, &srvr_only));
        assert!(is_enabled(FourLetterWord::Srvr, &[]), "srvr is always on");
        assert!(is_enabled(FourLetterWord::Ruok, &["ruok".to_string()]));
        let all = vec!["*".to_string(), "srvr".to_string()];
        assert!(ALL.iter().all(|w| is_enabled(*w, &all)));
    }

    fn ctx<'a>(whitelist: &'a [String]) -> CommandContext<'a> {
        CommandContext {
            stats: None,
            mode: "standalone",
            connections: vec![],
            whitelist,
            argument: None,
            server: None,
            registry: None,
        }
    }

    #[test]
    fn not_whitelisted_gets_java_sentence() {
        let wl = vec!["srvr".to_string()];
        assert_eq!(
            execute(FourLetterWord::Ruok, &ctx(&wl)),
            CommandOutcome::Reply(
                "ruok is not executed because it is not in the whitelist.\n".into()
            )
        );
        assert_eq!(
            execute(FourLetterWord::TelnetClose, &ctx(&wl)),
            CommandOutcome::Reply(
                "telnet close is not executed because it is not in the whitelist.\n".into()
            )
        );
    }

    #[test]
    fn whitelisted_dispatch() {
        let wl = vec!["*".to_string()];
        assert_eq!(
            execute(FourLetterWord::Ruok, &ctx(&wl)),
            CommandOutcome::Reply("imok".into())
        );
        assert_eq!(
            execute(FourLetterWord::TelnetClose, &ctx(&wl)),
            CommandOutcome::NotACommand
        );
        assert_eq!(
            execute(FourLetterWord::Srvr, &ctx(&wl)),
            CommandOutcome::Reply(format!("{}\n", ZK_NOT_SERVING))
        );
    }

    #[test]
    fn java_address_strings() {
        assert_eq!(
            java_socket_address(&"127.0.0.1:40428".parse().unwrap()),
            "/127.0.0.1:40428"
        );
        assert_eq!(
            java_socket_address(&"[::1]:2181".parse().unwrap()),
            "/[0:0:0:0:0:0:0:1]:2181"
        );
        assert_eq!(
            java_socket_address(&"[::ffff:10.0.0.1]:5".parse().unwrap()),
            "/10.0.0.1:5"
        );
        assert_eq!(
            java_host_address(&"fe80::1:abcd".parse().unwrap()),
            "fe80:0:0:0:0:0:1:abcd"
        );
    }

    #[test]
    fn java_doubles() {
        assert_eq!(java_double_to_string(0.0), "0.0");
        assert_eq!(java_double_to_string(8.4), "8.4");
        assert_eq!(java_double_to_string(3.3077), "3.3077");
        assert_eq!(java_double_to_string(15.0), "15.0");
        assert_eq!(java_double_to_string(1e7), "1.0E7");
        assert_eq!(java_double_to_string(1.5e-5), "1.5E-5");
        assert_eq!(java_double_to_string(f64::NAN), "NaN");
    }

    #[test]
    fn version_keeps_java_shape() {
        let v = full_version();
        assert!(v.starts_with("3.9.5-zookeeper-rs-"), "{}", v);
        assert!(v.contains(", built on "), "{}", v);
    }
}
