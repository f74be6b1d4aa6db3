//! How many client connections this machine lets the server hold, and
//! the startup step that raises the open-file limit and says so.
//!
//! Every connection costs one socket (a file descriptor) and one reader
//! thread (a stack, a guard page and std's signal stack: memory
//! mappings, a kernel task, a pid). Past any of those limits `accept`
//! fails with EMFILE or, worse, spawning the thread fails inside std and
//! aborts the process. So the accept thread refuses connections beyond
//! the smallest of the limits ([`ConnectionLimits::limit`]), with a log
//! line, and the server logs the figure and the setting that binds it
//! once, when the first client port starts.
//!
//! Java twin: none as such. The JVM raises the soft open-file limit to
//! the hard one itself (`-XX:+MaxFDLimit`, on by default) and Java's NIO
//! connections need no thread each; Java logs nothing about it and, at
//! the limit, its selector thread logs accept failures.
//!
//! Pure functions ([`ConnectionLimits`]) plus [`startup`], which reads
//! `/proc/sys` and `getrlimit` and runs once, on the thread that starts
//! the first client port.

use std::fmt;
use std::sync::OnceLock;

use log::{info, warn};

/// Threads a connection runs: its reader (replies are written by their
/// producers).
const THREADS_PER_CNXN: usize = 1;
/// Descriptors a connection holds: its socket.
const FDS_PER_CNXN: usize = 1;
/// Memory mappings a thread costs: its stack and guard page, and the signal
/// stack (with its guard page) that std sets up to report stack overflows.
const MAPS_PER_THREAD: usize = 4;
/// Mappings left for everything else: heap arenas, files, libraries.
const RESERVED_MAPS: usize = 4096;
/// Threads left for the rest of the server (processors, timers, admin).
const RESERVED_THREADS: usize = 256;
/// Descriptors left for everything else: logs, snapshots, quorum sockets.
const RESERVED_FDS: usize = 256;
/// Pids left for the rest of the machine (pids are shared by every
/// process, threads included).
const RESERVED_PIDS: usize = 2048;

/// The machine's limits that bound the connection count (each `None`
/// when unlimited or unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OsLimits {
    /// Soft RLIMIT_NOFILE after raising it.
    pub nofile: Option<usize>,
    /// `vm.max_map_count`.
    pub max_map_count: Option<usize>,
    /// `kernel.threads-max`.
    pub threads_max: Option<usize>,
    /// `kernel.pid_max`.
    pub pid_max: Option<usize>,
    /// Soft RLIMIT_NPROC (threads of this user); None for root, whom the
    /// kernel does not hold to it.
    pub nproc: Option<usize>,
}

/// Which setting binds the connection count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    OpenFiles,
    MapCount,
    ThreadsMax,
    PidMax,
    UserProcesses,
    Unbounded,
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Binding::OpenFiles => "open files (ulimit -n / LimitNOFILE)",
            Binding::MapCount => "vm.max_map_count",
            Binding::ThreadsMax => "kernel.threads-max",
            Binding::PidMax => "kernel.pid_max",
            Binding::UserProcesses => "user processes (ulimit -u / LimitNPROC)",
            Binding::Unbounded => "nothing",
        })
    }
}

/// The connection count each limit allows, and the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub limit: usize,
    pub binding: Binding,
}

impl ConnectionLimits {
    /// The connections `os` leaves room for (at least 1).
    pub fn of(os: OsLimits) -> ConnectionLimits {
        let per = |limit: Option<usize>, reserved: usize, each: usize| {
            limit.map(|l| l.saturating_sub(reserved) / each)
        };
        let candidates = [
            (
                per(os.nofile, RESERVED_FDS, FDS_PER_CNXN),
                Binding::OpenFiles,
            ),
            (
                per(
                    os.max_map_count,
                    RESERVED_MAPS,
                    THREADS_PER_CNXN * MAPS_PER_THREAD,
                ),
                Binding::MapCount,
            ),
            (
                per(os.threads_max, RESERVED_THREADS, THREADS_PER_CNXN),
                Binding::ThreadsMax,
            ),
            (
                per(os.pid_max, RESERVED_PIDS, THREADS_PER_CNXN),
                Binding::PidMax,
            ),
            (
                per(os.nproc, RESERVED_THREADS, THREADS_PER_CNXN),
                Binding::UserProcesses,
            ),
        ];
        let (limit, binding) = candidates
            .iter()
            .filter_map(|(n, b)| n.map(|n| (n, *b)))
            .min_by_key(|(n, _)| *n)
            .unwrap_or((usize::MAX, Binding::Unbounded));
        ConnectionLimits {
            limit: limit.max(1),
            binding,
        }
    }

    /// What each setting must be for `connections` connections.
    pub fn settings_for(connections: usize) -> String {
        format!(
            "open files >= {}, vm.max_map_count >= {}, kernel.threads-max and \
             kernel.pid_max >= {} (machine-wide, plus the other processes)",
            connections * FDS_PER_CNXN + RESERVED_FDS,
            connections * THREADS_PER_CNXN * MAPS_PER_THREAD + RESERVED_MAPS,
            connections * THREADS_PER_CNXN + RESERVED_PIDS,
        )
    }
}

/// The new soft limit when raising `soft` towards `hard` (None: leave it).
pub fn raised_soft_limit(soft: u64, hard: u64) -> Option<u64> {
    (hard > soft).then_some(hard)
}

/// The connection limit of this process, computed (and the open-file
/// limit raised, and both logged) on first use.
pub fn startup() -> ConnectionLimits {
    static LIMITS: OnceLock<ConnectionLimits> = OnceLock::new();
    *LIMITS.get_or_init(|| {
        let os = read_os_limits();
        let limits = ConnectionLimits::of(os);
        info!(
            "client connection limit: {} (one thread and one socket each; bound by {}; \
             open files {}, vm.max_map_count {}, kernel.threads-max {}, kernel.pid_max {}); \
             for 50000 connections raise {}",
            limits.limit,
            limits.binding,
            show(os.nofile),
            show(os.max_map_count),
            show(os.threads_max),
            show(os.pid_max),
            ConnectionLimits::settings_for(50_000)
        );
        limits
    })
}

fn show(v: Option<usize>) -> String {
    v.map_or_else(|| "unlimited".into(), |v| v.to_string())
}

/// Raises the soft open-file limit to the hard one (as the JVM does) and
/// reads every limit.
fn read_os_limits() -> OsLimits {
    let read = |path: &str| -> Option<usize> {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
    };
    OsLimits {
        nofile: raise_nofile(),
        max_map_count: read("/proc/sys/vm/max_map_count"),
        threads_max: read("/proc/sys/kernel/threads-max"),
        pid_max: read("/proc/sys/kernel/pid_max"),
        // SAFETY: geteuid has no preconditions.
        nproc: if unsafe { libc::geteuid() } == 0 {
            None
        } else {
            rlimit(libc::RLIMIT_NPROC).map(|(soft, _)| soft)
        },
    }
}

/// (soft, hard) of a resource; None for unlimited soft limits.
fn rlimit(resource: libc::__rlimit_resource_t) -> Option<(usize, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(resource, &mut lim) } != 0 || lim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some((lim.rlim_cur as usize, lim.rlim_max))
}

/// Raises the soft RLIMIT_NOFILE to the hard limit; the soft limit in force.
fn raise_nofile() -> Option<usize> {
    let (soft, hard) = rlimit(libc::RLIMIT_NOFILE)?;
    let Some(new) = raised_soft_limit(soft as u64, hard) else {
        return Some(soft);
    };
    let lim = libc::rlimit {
        rlim_cur: new,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        warn!(
            "cannot raise the open-file limit from {} to {}: {}",
            soft,
            new,
            std::io::Error::last_os_error()
        );
        return Some(soft);
    }
    info!(
        "raised the open-file limit from {} to {} (the hard limit)",
        soft, new
    );
    if new == libc::RLIM_INFINITY {
        None
    } else {
        Some(new as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(nofile: usize, maps: usize, threads: usize, pids: usize) -> OsLimits {
        OsLimits {
            nofile: Some(nofile),
            max_map_count: Some(maps),
            threads_max: Some(threads),
            pid_max: Some(pids),
            nproc: None,
        }
    }

    #[test]
    fn the_smallest_limit_binds_and_is_named() {
        // A small hard open-file limit binds.
        let l = ConnectionLimits::of(os(8_000, 65_530, 192_735, 32_768));
        assert_eq!(
            l,
            ConnectionLimits {
                limit: 8_000 - 256,
                binding: Binding::OpenFiles
            }
        );
        // Debian's defaults with a large ulimit: the map count binds.
        let l = ConnectionLimits::of(os(1 << 20, 65_530, 192_735, 4_194_304));
        assert_eq!(l.binding, Binding::MapCount);
        assert_eq!(l.limit, (65_530 - 4096) / 4);
        let l = ConnectionLimits::of(os(1 << 20, 1 << 30, 1 << 30, 32_768));
        assert_eq!((l.limit, l.binding), (32_768 - 2048, Binding::PidMax));
        let l = ConnectionLimits::of(OsLimits {
            nproc: Some(4096),
            ..os(1 << 20, 1 << 30, 1 << 30, 1 << 30)
        });
        assert_eq!((l.limit, l.binding), (4096 - 256, Binding::UserProcesses));
    }

    #[test]
    fn unknown_limits_do_not_bind_and_the_limit_is_never_zero() {
        let l = ConnectionLimits::of(OsLimits::default());
        assert_eq!(l.binding, Binding::Unbounded);
        assert_eq!(ConnectionLimits::of(os(0, 0, 0, 0)).limit, 1);
        let kernel_only = |maps, threads| OsLimits {
            max_map_count: Some(maps),
            threads_max: Some(threads),
            ..OsLimits::default()
        };
        // Debian's default vm.max_map_count leaves room for ~15,000 connections.
        let l = ConnectionLimits::of(kernel_only(65530, 192730));
        assert_eq!(l.limit, (65530 - 4096) / 4);
        assert_eq!(
            ConnectionLimits::of(kernel_only(1 << 30, 1000)).limit,
            1000 - 256
        );
    }

    #[test]
    fn the_settings_for_50000_connections_are_enough() {
        let text = ConnectionLimits::settings_for(50_000);
        assert!(text.contains("open files >= 50256"), "{}", text);
        assert!(text.contains("vm.max_map_count >= 204096"), "{}", text);
        let l = ConnectionLimits::of(os(50_256, 204_096, 50_256, 52_048));
        assert_eq!(l.limit, 50_000);
    }

    #[test]
    fn the_soft_limit_rises_to_the_hard_one_only() {
        assert_eq!(raised_soft_limit(1024, 20_000), Some(20_000));
        assert_eq!(raised_soft_limit(20_000, 20_000), None);
    }
}
