//! The config files a peer rewrites once dynamic reconfiguration is on:
//! the dynamic file `<zoo.cfg>.dynamic.<hex version>` (the members of a
//! committed config), `<zoo.cfg>.dynamic.next` (a proposed config, version
//! kept inside), zoo.cfg itself (its member lines moved out, pointing at
//! the dynamic file) and `zoo.cfg.bak` (the file as the operator wrote it,
//! copied once at startup).
//!
//! The text transforms are pure functions; [`write_atomically`] puts a file
//! in place with a temporary file and a rename, so a crash never leaves a
//! half-written config behind. Called by the QuorumPeer thread (and the
//! threads that activate a config), one write at a time under the peer's
//! config lock.
//!
//! Mirrors: `QuorumPeerConfig.writeDynamicConfig`, `editStaticConfig`,
//! `backupOldConfig`, `deleteFile`, and `AtomicFileWritingIdiom`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::properties::Properties;
use super::server_config::java_trim;

/// Suffix of the file holding a proposed, not yet committed config.
pub const NEXT_DYNAMIC_SUFFIX: &str = ".dynamic.next";

/// `<zoo.cfg>.dynamic.<hex version>`.
pub fn dynamic_config_filename(config_file: &Path, version: i64) -> PathBuf {
    let mut name = config_file.as_os_str().to_os_string();
    name.push(format!(".dynamic.{:x}", version));
    PathBuf::from(name)
}

/// `<zoo.cfg>.dynamic.next`.
pub fn next_dynamic_config_filename(config_file: &Path) -> PathBuf {
    let mut name = config_file.as_os_str().to_os_string();
    name.push(NEXT_DYNAMIC_SUFFIX);
    PathBuf::from(name)
}

/// `<zoo.cfg>.bak`.
pub fn backup_filename(config_file: &Path) -> PathBuf {
    let mut name = config_file.as_os_str().to_os_string();
    name.push(".bak");
    PathBuf::from(name)
}

/// The dynamic file's text from a config's text (`server.N=...` lines,
/// group/weight lines, `version=...`): one `key=value` per line, trimmed,
/// sorted as strings, joined by `\n` with no newline at the end; the
/// `version` line only when `keep_version` (the `.next` file keeps it, a
/// committed file carries its version in its name).
pub fn dynamic_config_text(config_text: &str, keep_version: bool) -> String {
    let props = Properties::parse(config_text).unwrap_or_default();
    let mut lines: Vec<String> = props
        .effective()
        .into_iter()
        .map(|(k, v)| (java_trim(k), java_trim(v)))
        .filter(|(k, _)| keep_version || !k.starts_with("version"))
        .map(|(k, v)| format!("{}={}", k, v))
        .collect();
    lines.sort();
    lines.join("\n")
}

/// zoo.cfg rewritten to point at `dynamic_file`: the member keys
/// (`server.`, `group`, `weight`), `peerType` and any older
/// `dynamicConfigFile` are dropped, as are `clientPort` and
/// `clientPortAddress` when `erase_client_port` (my client address then
/// lives in my server line); every other key is written `key=value`
/// (trimmed, one per line, comments gone), then
/// `dynamicConfigFile=<dynamic_file>`.
///
/// Java writes the keys in its hash table's order; we keep the order of
/// the file, which reads the same to Java's and our parser.
pub fn edit_static_config(
    static_text: &str,
    dynamic_file: &Path,
    erase_client_port: bool,
) -> String {
    let props = Properties::parse(static_text).unwrap_or_default();
    let mut out = String::new();
    for (k, v) in props.effective() {
        let key = java_trim(k);
        let dropped = key.starts_with("server.")
            || key.starts_with("group")
            || key.starts_with("weight")
            || key.starts_with("dynamicConfigFile")
            || key.starts_with("peerType")
            || (erase_client_port
                && (key.starts_with("clientPort") || key.starts_with("clientPortAddress")));
        if !dropped {
            out.push_str(&format!("{}={}\n", key, java_trim(v)));
        }
    }
    out.push_str(&format!("dynamicConfigFile={}\n", dynamic_file.display()));
    out
}

/// Writes `bytes` to `path` through `<path>.tmp`, synced, then renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The canonical form of a path that exists (Java writes the dynamic
/// file's canonical path into zoo.cfg); the path itself otherwise.
pub fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Copies zoo.cfg to `zoo.cfg.bak` (startup, members still in zoo.cfg).
pub fn backup_old_config(config_file: &Path) -> io::Result<()> {
    let bytes = fs::read(config_file)?;
    write_atomically(&backup_filename(config_file), &bytes)
}

/// Removes a file if it is there (a stale `.next`).
pub fn delete_file(path: &Path) {
    if path.exists() {
        if let Err(e) = fs::remove_file(path) {
            log::warn!("deleting {} failed: {}", path.display(), e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QV: &str = "server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\n\
                      server.10=127.0.0.1:2890:3890:observer;0.0.0.0:2190\n\
                      server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n\
                      version=100000000";

    #[test]
    fn dynamic_text_is_sorted_without_version_unless_kept() {
        // Sorted as whole `key=value` strings, so "server.10=" comes
        // before "server.1=" ('0' < '='), as Java sorts them.
        assert_eq!(
            dynamic_config_text(QV, false),
            "server.10=127.0.0.1:2890:3890:observer;0.0.0.0:2190\n\
             server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n\
             server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182"
        );
        assert!(dynamic_config_text(QV, true).ends_with("\nversion=100000000"));
    }

    #[test]
    fn static_config_drops_members_and_points_at_the_dynamic_file() {
        let text = "# comment\ntickTime=2000\nserver.1=a:1:2\ndataDir = /d \n\
                    clientPort=2181\npeerType=participant\ndynamicConfigFile=/old\n\
                    group.1=1\nweight.1=1\nreconfigEnabled=true\n";
        let dynamic = Path::new("/etc/zoo.cfg.dynamic.100000000");
        assert_eq!(
            edit_static_config(text, dynamic, false),
            "tickTime=2000\ndataDir=/d\nclientPort=2181\nreconfigEnabled=true\n\
             dynamicConfigFile=/etc/zoo.cfg.dynamic.100000000\n"
        );
        assert_eq!(
            edit_static_config(text, dynamic, true),
            "tickTime=2000\ndataDir=/d\nreconfigEnabled=true\n\
             dynamicConfigFile=/etc/zoo.cfg.dynamic.100000000\n"
        );
    }

    #[test]
    fn file_names() {
        let cfg = Path::new("/c/zoo.cfg");
        assert_eq!(
            dynamic_config_filename(cfg, 0x1_0000_0000),
            PathBuf::from("/c/zoo.cfg.dynamic.100000000")
        );
        assert_eq!(
            next_dynamic_config_filename(cfg),
            PathBuf::from("/c/zoo.cfg.dynamic.next")
        );
        assert_eq!(backup_filename(cfg), PathBuf::from("/c/zoo.cfg.bak"));
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = std::env::temp_dir().join(format!("qpcf-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("zoo.cfg");
        write_atomically(&f, b"a").unwrap();
        write_atomically(&f, b"b").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"b");
        backup_old_config(&f).unwrap();
        assert_eq!(fs::read(backup_filename(&f)).unwrap(), b"b");
        delete_file(&f);
        assert!(!f.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
