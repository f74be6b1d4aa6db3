//! `zk-server [-Dname=value ...] <zoo.cfg>`: the server process.
//!
//! Also `zk-server [-D...] <port> <dataDir> [tickTime] [maxClientCnxns]`
//! (Java's `ZooKeeperServerMain` short form), and the persistence tools
//! (`zk-server txnlog-dump ...`, see `server::toolkit`). `-D` flags
//! play the role of JVM system properties (`-Djute.maxbuffer=...`), so
//! zkServer.sh can pass `SERVER_JVMFLAGS` through.
//!
//! This file only dispatches: the tools, `version`, then (with logging
//! set up) an ensemble config to `quorum::quorum_peer_main` and anything
//! else to the standalone boot, `server::zookeeper_server_main`, which
//! describe the startup, the signals and the exit codes.
//!
//! Before anything else the server re-executes itself once with a glibc
//! setting that shrinks every thread's reserve of static TLS (see
//! [`reexec_with_lean_threads`]): the memory of an idle client connection
//! is mostly its thread's top stack page, and the default reserve pushes
//! the thread's first frames into a second page.
//!
//! Mirrors: `QuorumPeerMain.main` (the dispatch between the two boots).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::exit;
use std::time::{SystemTime, UNIX_EPOCH};

use log::info;

use zookeeper::common::time::civil_from_unix;
use zookeeper::config::system_properties::SystemProperties;
use zookeeper::server::protocol_trace;

/// The glibc tunables [`reexec_with_lean_threads`] adds: one link-map
/// namespace and no optional reserve for libraries loaded later with
/// initial-exec TLS. Every thread then starts ~1.3 KiB higher in its
/// stack, so a connection thread waiting in `recv` or `poll` touches only
/// the stack page glibc's thread descriptor and TLS already occupy.
const LEAN_THREAD_TUNABLES: &str = "glibc.rtld.nns=1:glibc.rtld.optional_static_tls=0";
/// Set (to anything) to skip the re-exec, e.g. when a library the process
/// loads later needs static TLS room.
const NO_REEXEC_ENV: &str = "ZK_SERVER_NO_REEXEC";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = zookeeper::server::toolkit::run_tool(&args) {
        exit(code);
    }
    if args.get(1).map(String::as_str) == Some("four-letter-word") {
        exit(zookeeper::common::four_letter_word_main::main(&args[2..]));
    }
    if args.get(1).map(String::as_str) == Some("version") {
        // The line Java's `zkServer.sh version` prints (Version.main).
        let version = zookeeper::server::command::full_version();
        println!(
            "Apache ZooKeeper, version {}",
            version.replacen(", built on ", " ", 1)
        );
        exit(0);
    }
    reexec_with_lean_threads();
    init_logging();
    zookeeper::server::zookeeper_critical_thread::install();
    let code = run(args.into_iter().skip(1).collect());
    info!("Exiting with code {}", code);
    exit(code);
}

/// What `GLIBC_TUNABLES` should be for the server, given its current
/// value; `None` when it already settles the static-TLS reserve (our own
/// re-exec, or the operator's choice).
fn lean_tunables(current: Option<&OsStr>) -> Option<OsString> {
    let current = current.map(|c| c.to_string_lossy()).unwrap_or_default();
    if current.contains("glibc.rtld.nns") || current.contains("glibc.rtld.optional_static_tls") {
        return None;
    }
    Some(match current.is_empty() {
        true => LEAN_THREAD_TUNABLES.into(),
        false => format!("{}:{}", current, LEAN_THREAD_TUNABLES).into(),
    })
}

/// Runs this same program again (same pid, arguments and environment)
/// with [`LEAN_THREAD_TUNABLES`] added to `GLIBC_TUNABLES`, which glibc
/// reads only at process start. Returns only when that is not needed or
/// not possible; the server then runs as it is (idle connections cost one
/// stack page more).
fn reexec_with_lean_threads() {
    if std::env::var_os(NO_REEXEC_ENV).is_some() {
        return;
    }
    let Some(tunables) = lean_tunables(std::env::var_os("GLIBC_TUNABLES").as_deref()) else {
        return;
    };
    let mut args = std::env::args_os();
    let Some(arg0) = args.next() else { return };
    let err = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env("GLIBC_TUNABLES", tunables)
        .exec();
    // Logging is not set up yet; this is worth a line on stderr only.
    eprintln!(
        "zk-server: cannot re-execute with {}: {} (continuing)",
        LEAN_THREAD_TUNABLES, err
    );
}

/// Everything after logging is set up; returns the exit code.
fn run(args: Vec<String>) -> i32 {
    let (system, rest) = SystemProperties::from_args(args);
    // The Kerberos library reads its config and keytab from the
    // environment; set it while this is the only thread.
    for (name, value) in zookeeper::config::auth_config::kerberos_environment(&system) {
        std::env::set_var(name, value);
    }
    // An ensemble config runs a quorum peer; anything else is standalone.
    if let Some(code) = zookeeper::quorum::quorum_peer_main::run_if_quorum(&rest, &system) {
        return code;
    }
    zookeeper::server::zookeeper_server_main::run(&rest, &system)
}

/// env_logger on stdout (where Java's CONSOLE appender writes; stderr
/// keeps only the one-line startup failures) with Java's line layout (log4j's
/// `%d{ISO8601} [myid:] - %-5p [%t:%C{1}@%L] - %m%n`, time in UTC). The
/// level comes from `RUST_LOG`, else from `ZOO_LOG4J_PROP`'s first item
/// (`INFO,CONSOLE` as zkServer.sh sets it), else `info`.
fn init_logging() {
    let default_level = std::env::var("ZOO_LOG4J_PROP")
        .ok()
        .and_then(|prop| {
            prop.split(',')
                .next()
                .map(|l| l.trim().to_ascii_lowercase())
        })
        .filter(|l| ["trace", "debug", "info", "warn", "error", "off"].contains(&l.as_str()))
        .unwrap_or_else(|| "info".to_string());
    // The protocol trace's lines always pass the filter (at info, even
    // when the level is warn); the trace's own switch decides whether
    // they are written. A `RUST_LOG` directive naming the target is that
    // switch too (and may still silence it: `zk_trace=off`).
    let mut builder = env_logger::Builder::new();
    builder.filter_module(protocol_trace::TARGET, log::LevelFilter::Info);
    builder
        .parse_env(env_logger::Env::default().default_filter_or(default_level))
        .target(env_logger::Target::Stdout)
        .format(|buf, record| {
            let thread = std::thread::current();
            writeln!(
                buf,
                "{} [myid:] - {:<5} [{}:{}@{}] - {}",
                timestamp(),
                record.level(),
                thread.name().unwrap_or("unnamed"),
                record.target(),
                record.line().unwrap_or(0),
                record.args()
            )
        })
        .init();
    if std::env::var("RUST_LOG").is_ok_and(|v| protocol_trace::rust_log_asks_for_trace(&v)) {
        protocol_trace::enable("RUST_LOG names zk_trace");
    }
}

/// `yyyy-MM-dd HH:mm:ss,SSS` in UTC.
fn timestamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (y, mo, d, h, mi, s) = civil_from_unix(now.as_secs() as i64);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        y,
        mo,
        d,
        h,
        mi,
        s,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lean_tunables_are_added_once_and_respect_the_operators_choice() {
        assert_eq!(lean_tunables(None), Some(LEAN_THREAD_TUNABLES.into()));
        assert_eq!(
            lean_tunables(Some(OsStr::new(""))),
            Some(LEAN_THREAD_TUNABLES.into())
        );
        let with_other = lean_tunables(Some(OsStr::new("glibc.malloc.check=0"))).unwrap();
        assert_eq!(
            with_other,
            OsString::from(format!("glibc.malloc.check=0:{}", LEAN_THREAD_TUNABLES))
        );
        // After our re-exec (or when the operator set either one): leave it.
        assert_eq!(lean_tunables(Some(with_other.as_os_str())), None);
        assert_eq!(
            lean_tunables(Some(OsStr::new("glibc.rtld.optional_static_tls=4096"))),
            None
        );
    }
}
