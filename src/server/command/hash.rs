//! `hash`: the tree digest history — one `<hex zxid>: <digest>` line per
//! recorded zxid (every 128th), oldest first; empty when none yet.
//! Runs on the asking thread (reads the tree under its read lock).
//!
//! Mirrors: `org.apache.zookeeper.server.command.DigestCommand`.

use crate::server::data_tree::ZxidDigest;
use crate::server::zookeeper_server::ZooKeeperServer;

/// The recorded digests, oldest first.
pub fn history(server: &ZooKeeperServer) -> Vec<ZxidDigest> {
    server.zk_database().tree.read().digest_history()
}

/// The lines for a digest history.
pub fn format(history: &[ZxidDigest]) -> String {
    history
        .iter()
        .map(|d| format!("{:x}: {}\n", d.zxid, d.digest))
        .collect()
}

/// The whole answer.
pub fn run(server: &ZooKeeperServer) -> String {
    format(&history(server))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_digest() {
        let h = [
            ZxidDigest {
                zxid: 0x80,
                digest_version: 2,
                digest: 12345,
            },
            ZxidDigest {
                zxid: 0x100,
                digest_version: 2,
                digest: -7,
            },
        ];
        assert_eq!(format(&h), "80: 12345\n100: -7\n");
        assert_eq!(format(&[]), "");
    }
}
