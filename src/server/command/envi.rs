//! `envi`: the server's environment as `key=value` lines after
//! `Environment:`.
//!
//! Java prints JVM system properties (`java.version`, `java.class.path`,
//! heap sizes as `os.memory.*`, ...). A native server has no JVM, so we
//! print the entries that mean the same thing here, in Java's order:
//! `zookeeper.version`, `host.name`, `os.name`, `os.arch`, `os.version`,
//! `user.name`, `user.home`, `user.dir`; the `java.*` and `os.memory.*`
//! lines are left out. Runs on the asking thread.
//!
//! Mirrors: `org.apache.zookeeper.Environment` and
//! `org.apache.zookeeper.server.command.EnvCommand`.

use super::full_version;

/// The environment entries, in Java's order.
pub fn entries() -> Vec<(&'static str, String)> {
    vec![
        ("zookeeper.version", full_version()),
        ("host.name", host_name()),
        ("os.name", os_name()),
        ("os.arch", java_arch(std::env::consts::ARCH).to_string()),
        ("os.version", read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default()),
        ("user.name", user_name()),
        ("user.home", std::env::var("HOME").unwrap_or_else(|_| "?".to_string())),
        ("user.dir", std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()),
    ]
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
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Java's `InetAddress.getLocalHost().getCanonicalHostName()`: the
/// kernel's host name, resolved to an address and back through
/// /etc/hosts (so `vm` on `127.0.0.1` reads as `localhost`, as Java
/// prints); the plain host name when /etc/hosts does not know it.
fn host_name() -> String {
    let name = read_trimmed("/proc/sys/kernel/hostname").filter(|h| !h.is_empty());
    let Some(name) = name else { return "localhost".to_string() };
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    canonical_name(&name, &hosts).unwrap_or(name)
}

/// The first name listed for the address `name` has in a hosts file.
fn canonical_name(name: &str, hosts: &str) -> Option<String> {
    let entries: Vec<Vec<&str>> = hosts
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").split_whitespace().collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 2)
        .collect();
    let address = entries.iter().find(|f| f[1..].contains(&name))?[0];
    entries.iter().find(|f| f[0] == address).map(|f| f[1].to_string())
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
        status.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
    });
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    uid.and_then(|uid| passwd.lines().find(|l| l.split(':').nth(2) == Some(uid.as_str())).and_then(|l| l.split(':').next().map(str::to_string)))
        .unwrap_or_else(|| "?".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_java_order() {
        let keys: Vec<&str> = entries().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["zookeeper.version", "host.name", "os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir"]);
        assert!(run().starts_with("Environment:\nzookeeper.version="));
    }

    #[test]
    fn host_name_resolves_through_hosts_file() {
        let hosts = "127.0.0.1 localhost\n127.0.0.1 runsc\n127.0.0.1 vm\n10.0.0.5 db db.local # x\n";
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
