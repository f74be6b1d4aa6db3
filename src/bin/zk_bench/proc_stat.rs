//! The server's CPU time and resident memory, read from `/proc/<pid>`.
//!
//! Called from the main thread at the start and end of the measured
//! window. Parsing is pure and unit tested; reading is a thin wrapper.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::fs;

/// Clock ticks per second of `utime`/`stime` in `/proc/<pid>/stat`
/// (`USER_HZ`; 100 on every Linux architecture the kernel exposes to
/// user space, whatever the kernel's own HZ is).
const USER_HZ: f64 = 100.0;

/// utime + stime of the whole process (all threads), seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = fs::read_to_string(format!("/proc/{}/stat", pid)).ok()?;
    parse_stat_ticks(&text).map(|ticks| ticks as f64 / USER_HZ)
}

/// VmRSS of the process, KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{}/status", pid)).ok()?;
    parse_status_rss_kib(&text)
}

/// utime + stime, in ticks, from the text of `/proc/<pid>/stat`. The
/// command name (field 2) may hold spaces and parentheses, so fields are
/// counted from the last `)`.
/// CPU seconds of several processes (an ensemble), summed; None when
/// the list is empty or one of them cannot be read.
pub fn cpu_seconds_sum(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| cpu_seconds(p)).sum()
}

/// Resident memory of several processes, summed, KiB; None as above.
pub fn rss_kib_sum(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| rss_kib(p)).sum()
}

fn parse_stat_ticks(text: &str) -> Option<u64> {
    let after_comm = &text[text.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    // After the name: state(3) ppid(4) ... utime is field 14, stime 15.
    let utime: u64 = fields.nth(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The `VmRSS:` line of `/proc/<pid>/status`, KiB.
fn parse_status_rss_kib(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks_skip_a_command_name_with_spaces() {
        let stat =
            "1234 (zk (srv) x) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 31 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat_ticks(stat), Some(281));
    }

    #[test]
    fn stat_of_this_process_parses() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).is_some());
        assert!(rss_kib(pid).unwrap() > 0);
    }

    #[test]
    fn rss_line() {
        let status = "Name:\tjava\nVmPeak:\t 100 kB\nVmRSS:\t   51234 kB\nThreads: 3\n";
        assert_eq!(parse_status_rss_kib(status), Some(51234));
        assert_eq!(parse_status_rss_kib("Name: x\n"), None);
    }
}
