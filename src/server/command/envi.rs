//! `envi`: the server's environment as `key=value` lines after
//! `Environment:`.
//!
//! Java prints JVM system properties and heap figures. We print the same
//! keys in Java's order, so a monitoring script that reads `java.version`
//! or `os.memory.max` gets its line, with values that say what this
//! server is: `java.version`/`java.vendor` name zookeeper-rs and say there
//! is no JVM, `java.home` is the directory of the running executable and
//! `java.class.path` the executable itself, `java.library.path` the
//! dynamic loader's `LD_LIBRARY_PATH`, `java.io.tmpdir` the temp
//! directory, `java.compiler` `<NA>` (as Java prints an unset one). The
//! `os.memory.*` figures are the process's memory in Java's meaning, in
//! whole MB: `total` what the process holds (resident), `free` what of it
//! the allocator holds unused, `max` what it may grow to (the cgroup's
//! memory limit, else the machine's RAM). Runs on the asking thread.
//!
//! Mirrors: `org.apache.zookeeper.Environment` and
//! `org.apache.zookeeper.server.command.EnvCommand`.

use super::full_version;

/// The environment entries, in Java's order.
pub fn entries() -> Vec<(&'static str, String)> {
    let exe = std::env::current_exe().ok();
    let memory = Memory::of_this_process();
    vec![
        ("zookeeper.version", full_version()),
        ("host.name", host_name()),
        (
            "java.version",
            format!(
                "none (zookeeper-rs {}, native code, no JVM)",
                env!("CARGO_PKG_VERSION")
            ),
        ),
        ("java.vendor", "zookeeper-rs".to_string()),
        (
            "java.home",
            exe.as_ref()
                .and_then(|e| e.parent())
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        ),
        (
            "java.class.path",
            exe.as_ref()
                .map(|e| e.display().to_string())
                .unwrap_or_default(),
        ),
        (
            "java.library.path",
            std::env::var("LD_LIBRARY_PATH").unwrap_or_default(),
        ),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", "<NA>".to_string()),
        ("os.name", os_name()),
        ("os.arch", java_arch(std::env::consts::ARCH).to_string()),
        (
            "os.version",
            read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default(),
        ),
        ("user.name", user_name()),
        (
            "user.home",
            std::env::var("HOME").unwrap_or_else(|_| "?".to_string()),
        ),
        (
            "user.dir",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        ),
        ("os.memory.free", format!("{}MB", memory.free / MB)),
        ("os.memory.max", format!("{}MB", memory.max / MB)),
        ("os.memory.total", format!("{}MB", memory.total / MB)),
    ]
}

const MB: u64 = 1024 * 1024;

/// The `os.memory.*` figures, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Memory {
    free: u64,
    max: u64,
    total: u64,
}

impl Memory {
    fn of_this_process() -> Memory {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let limit = read_trimmed("/sys/fs/cgroup/memory.max")
            .or_else(|| read_trimmed("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
        Memory::from_parts(
            kib_field(&status, "VmRSS:"),
            allocator_free(),
            kib_field(&meminfo, "MemTotal:"),
            limit.as_deref(),
        )
    }

    /// `total` the resident size, `free` the allocator's unused bytes (at
    /// most `total`), `max` the smaller of the cgroup limit (a number:
    /// "max" and v1's huge "unlimited" value lose to RAM) and RAM.
    fn from_parts(rss: u64, allocator_free: u64, ram: u64, cgroup_limit: Option<&str>) -> Memory {
        let limit = cgroup_limit
            .and_then(|l| l.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        let max = if ram == 0 { limit } else { ram.min(limit) };
        Memory {
            free: allocator_free.min(rss),
            max: max.max(rss),
            total: rss,
        }
    }
}

/// A `Name:   <n> kB` line of a /proc file, in bytes; 0 when missing.
fn kib_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Bytes glibc's malloc holds free in its arenas (`mallinfo2().fordblks`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn allocator_free() -> u64 {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct by
    // value; glibc computes it under each arena's lock, so it is safe to
    // call from any thread at any time (glibc >= 2.33, which the libc
    // crate's declaration targets).
    let info = unsafe { libc::mallinfo2() };
    info.fordblks as u64
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn allocator_free() -> u64 {
    0
}

/// The whole answer.
pub fn run() -> String {
    let mut out = String::from("Environment:\n");
    for (k, v) in entries() {
        out.push_str(&format!("{}={}\n", k, v));
    }
    out
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Java's `InetAddress.getLocalHost().getCanonicalHostName()`: the
/// kernel's host name, resolved to an address and back through
/// /etc/hosts (so `vm` on `127.0.0.1` reads as `localhost`, as Java
/// prints); the plain host name when /etc/hosts does not know it.
fn host_name() -> String {
    let name = read_trimmed("/proc/sys/kernel/hostname").filter(|h| !h.is_empty());
    let Some(name) = name else {
        return "localhost".to_string();
    };
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    canonical_name(&name, &hosts).unwrap_or(name)
}

/// The first name listed for the address `name` has in a hosts file.
fn canonical_name(name: &str, hosts: &str) -> Option<String> {
    let entries: Vec<Vec<&str>> = hosts
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
        })
        .filter(|fields| fields.len() >= 2)
        .collect();
    let address = entries.iter().find(|f| f[1..].contains(&name))?[0];
    entries
        .iter()
        .find(|f| f[0] == address)
        .map(|f| f[1].to_string())
}

/// Java's `os.name` spelling.
fn os_name() -> String {
    match std::env::consts::OS {
        "linux" => "Linux".to_string(),
        "macos" => "Mac OS X".to_string(),
        other => other.to_string(),
    }
}

/// Java's `os.arch` spelling of a Rust target arch.
pub fn java_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "x86" => "i386",
        other => other,
    }
}

/// `user.name`: `$USER`, else the passwd entry of our uid.
fn user_name() -> String {
    if let Ok(user) = std::env::var("USER") {
        return user;
    }
    let uid = read_trimmed("/proc/self/status").and_then(|status| {
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
    });
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    uid.and_then(|uid| {
        passwd
            .lines()
            .find(|l| l.split(':').nth(2) == Some(uid.as_str()))
            .and_then(|l| l.split(':').next().map(str::to_string))
    })
    .unwrap_or_else(|| "?".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_java_order() {
        let keys: Vec<&str> = entries().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "zookeeper.version",
                "host.name",
                "java.version",
                "java.vendor",
                "java.home",
                "java.class.path",
                "java.library.path",
                "java.io.tmpdir",
                "java.compiler",
                "os.name",
                "os.arch",
                "os.version",
                "user.name",
                "user.home",
                "user.dir",
                "os.memory.free",
                "os.memory.max",
                "os.memory.total"
            ]
        );
        assert!(run().starts_with("Environment:\nzookeeper.version="));
    }

    #[test]
    fn values_say_what_this_server_is() {
        let env: std::collections::HashMap<_, _> = entries().into_iter().collect();
        assert!(
            env["java.version"].contains("zookeeper-rs") && env["java.version"].contains("no JVM")
        );
        let exe = std::env::current_exe().unwrap();
        assert_eq!(env["java.class.path"], exe.display().to_string());
        assert_eq!(
            env["java.home"],
            exe.parent().unwrap().display().to_string()
        );
        for key in ["os.memory.free", "os.memory.max", "os.memory.total"] {
            let mb = env[key].strip_suffix("MB").unwrap();
            assert!(mb.parse::<u64>().is_ok(), "{}={}", key, env[key]);
        }
        let mb = |k: &str| env[k].trim_end_matches("MB").parse::<u64>().unwrap();
        assert!(
            mb("os.memory.free") <= mb("os.memory.total")
                && mb("os.memory.total") <= mb("os.memory.max")
        );
        assert!(mb("os.memory.total") > 0);
    }

    #[test]
    fn memory_figures() {
        let gib = 1 << 30;
        // cgroup v2 without a limit, v1's "unlimited": the machine's RAM.
        assert_eq!(
            Memory::from_parts(100, 10, 8 * gib, Some("max")).max,
            8 * gib
        );
        assert_eq!(
            Memory::from_parts(100, 10, 8 * gib, Some("9223372036854771712")).max,
            8 * gib
        );
        assert_eq!(Memory::from_parts(100, 10, 8 * gib, None).max, 8 * gib);
        // A limit below RAM wins.
        assert_eq!(
            Memory::from_parts(100, 10, 8 * gib, Some("536870912")).max,
            512 << 20
        );
        // free never above total, max never below it.
        assert_eq!(
            Memory::from_parts(100, 500, 8 * gib, None),
            Memory {
                free: 100,
                max: 8 * gib,
                total: 100
            }
        );
        assert_eq!(Memory::from_parts(900, 0, 500, None).max, 900);
        let status = "Name:\tzk\nVmRSS:\t  2048 kB\nThreads: 4\n";
        assert_eq!(kib_field(status, "VmRSS:"), 2 << 20);
        assert_eq!(kib_field(status, "VmSwap:"), 0);
    }

    #[test]
    fn host_name_resolves_through_hosts_file() {
        let hosts =
            "127.0.0.1 localhost\n127.0.0.1 runsc\n127.0.0.1 vm\n10.0.0.5 db db.local # x\n";
        assert_eq!(canonical_name("vm", hosts), Some("localhost".to_string()));
        assert_eq!(canonical_name("db.local", hosts), Some("db".to_string()));
        assert_eq!(canonical_name("other", hosts), None);
    }

    #[test]
    fn arch_names() {
        assert_eq!(java_arch("x86_64"), "amd64");
        assert_eq!(java_arch("aarch64"), "aarch64");
    }
}
