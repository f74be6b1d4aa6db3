//! The AdminServer's `snapshot` (alias `snap`) command, new in Java 3.9:
//! writes a snapshot of the serving server's data tree into its dataDir,
//! as the server's own snapshots are written, and answers it.
//!
//! `GET /commands/snapshot` answers the file's bytes (`application/
//! octet-stream`), with the headers `last_zxid` (`0x` and the zxid in
//! lowercase hex, the one in the file's name) and `snapshot_size` (its
//! length); `?streaming=false` (anything but `true`, any case) answers
//! Java's JSON `{"command": "snapshot", "error": null}` with the same
//! headers instead. The file is byte for byte a snapshot file of this
//! dataDir (its compression, digest and 3.9 last-zxid section as
//! configured), so Java's snapshot tools read it.
//!
//! The command is guarded by [`super::auth_request`] (every permission on
//! `/`). Once the caller is allowed, Java's checks follow in Java's
//! order: `admin.snapshot.enabled=false` answers 503;
//! `serializeLastProcessedZxid.enabled=false` answers 500 (a restore
//! could not learn the zxid without the file name); a call inside the
//! rate limit's window answers 429; a failed snapshot answers 500. Each
//! of those has the JSON body with `error` null, as Java's.
//!
//! The rate limit: one call per window of `admin.rateLimiterIntervalInMS`
//! read as *microseconds*, which is what Java 3.9 does for this command
//! (its restore command reads the same key as milliseconds): the default
//! 300000 allows a snapshot every 300 ms, not every five minutes. We keep
//! Java's behaviour so that a script that works against Java works here.
//!
//! The file is sent as the client reads it, a chunk at a time (never
//! whole in memory); a client that takes nothing for `admin.idleTimeout`
//! loses the connection.
//!
//! Runs on an AdminServer worker thread; the snapshot is written under
//! the database's snapshot lock (one snapshot file at a time).
//!
//! Mirrors: `org.apache.zookeeper.server.admin.Commands.SnapshotCommand`
//! and `StreamOutputter`.

use log::{info, warn};
use serde_json::Map;

use super::commands;
use super::http_server::HttpResponse;
use super::json_outputter;
use super::rate_limiter::RateLimiter;
use crate::config::server_config::ServerConfig;
use crate::persistence::util::{zxid_from_name, SNAPSHOT_FILE_PREFIX};
use crate::server::zookeeper_server::ZooKeeperServer;

/// The command's names, primary first.
pub const NAMES: [&str; 2] = ["snapshot", "snap"];

/// The query parameter that turns the body off.
pub const STREAMING: &str = "streaming";

/// `StreamOutputter.getContentType`.
pub const STREAM_CONTENT_TYPE: &str = "application/octet-stream";

/// Whether `name` calls this command.
pub fn is_snapshot(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Java's `JsonOutputter` answer for a command response without data.
pub fn json_answer(status: u16, command: &str, error: Option<&str>) -> HttpResponse {
    let value = commands::response(command, Map::new(), error.map(str::to_string));
    HttpResponse::text(
        status,
        Some(json_outputter::CONTENT_TYPE),
        json_outputter::to_pretty_string(&value),
    )
}

/// `Boolean.parseBoolean` of the `streaming` parameter; true when absent.
pub fn streaming(params: &[(String, String)]) -> bool {
    params
        .iter()
        .find(|(k, _)| k == STREAMING)
        .is_none_or(|(_, v)| v.eq_ignore_ascii_case("true"))
}

/// The `last_zxid` header: `0x` and lowercase hex, as `ZxidUtils`.
pub fn last_zxid_header(zxid: i64) -> String {
    format!("0x{:x}", zxid)
}

/// The command, with its rate limit (one per AdminServer, as Java has
/// one command object per process).
pub struct SnapshotCommand {
    /// `admin.snapshot.enabled`.
    enabled: bool,
    limiter: RateLimiter,
}

impl SnapshotCommand {
    /// The command as `cfg` configures it.
    pub fn new(cfg: &ServerConfig) -> SnapshotCommand {
        SnapshotCommand {
            enabled: cfg.admin_snapshot_enabled,
            // Java's TimeUnit.MICROSECONDS.toMillis: truncating.
            limiter: RateLimiter::new(1, i64::from(cfg.admin_rate_limiter_interval_ms) / 1000),
        }
    }

    /// Runs the command for an allowed caller.
    pub fn run(&self, server: &ZooKeeperServer, params: &[(String, String)]) -> HttpResponse {
        let primary = NAMES[0];
        if !self.enabled {
            warn!("Snapshot command is disabled");
            return json_answer(503, primary, None);
        }
        if !server.config().serialize_last_processed_zxid_enabled {
            warn!("Snapshot command requires serializeLastProcessedZxidEnable flag is set to true");
            return json_answer(500, primary, None);
        }
        if !self.limiter.allow() {
            warn!("Snapshot request was rate limited");
            return json_answer(429, primary, None);
        }
        let path = match server.zk_database().take_snapshot_file() {
            Ok(path) => path,
            Err(e) => {
                warn!(
                    "Taking the snapshot for the snapshot admin command failed: {}",
                    e
                );
                return json_answer(500, primary, None);
            }
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let zxid = zxid_from_name(name, SNAPSHOT_FILE_PREFIX);
        let opened = std::fs::File::open(&path).and_then(|f| Ok((f.metadata()?.len(), f)));
        let (size, file) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                warn!("Reading the snapshot {} failed: {}", path.display(), e);
                return json_answer(500, primary, None);
            }
        };
        let headers = vec![
            ("last_zxid".to_string(), last_zxid_header(zxid)),
            ("snapshot_size".to_string(), size.to_string()),
        ];
        if size == 0 {
            warn!("Snapshot file {} is empty", path.display());
            return HttpResponse {
                headers,
                ..json_answer(500, primary, None)
            };
        }
        info!(
            "AdminServer: snapshot {} ({} bytes) taken{}",
            path.display(),
            size,
            if streaming(params) { " and sent" } else { "" }
        );
        if !streaming(params) {
            return HttpResponse {
                headers,
                ..json_answer(200, primary, None)
            };
        }
        HttpResponse {
            status: 200,
            content_type: Some(STREAM_CONTENT_TYPE.to_string()),
            body: Vec::new(),
            headers,
            body_file: Some((file, size)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parameters() {
        assert!(is_snapshot("snapshot") && is_snapshot("snap"));
        assert!(!is_snapshot("restore") && !is_snapshot("Snapshot"));
        let p = |v: &str| vec![(STREAMING.to_string(), v.to_string())];
        assert!(streaming(&[]));
        assert!(streaming(&p("TRUE")));
        assert!(!streaming(&p("false")));
        assert!(!streaming(&p("1")), "Boolean.parseBoolean");
        assert_eq!(last_zxid_header(0x1_0000_002a), "0x10000002a");
    }

    #[test]
    fn json_answers_are_javas() {
        let r = json_answer(401, "snap", Some("Not authenticated"));
        assert_eq!(r.status, 401);
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "{\n  \"command\" : \"snap\",\n  \"error\" : \"Not authenticated\"\n}"
        );
        let r = json_answer(429, "snapshot", None);
        assert!(String::from_utf8(r.body)
            .unwrap()
            .ends_with("\"error\" : null\n}"));
    }

    #[test]
    fn the_window_is_javas_microsecond_reading() {
        let cfg = ServerConfig {
            admin_rate_limiter_interval_ms: 600_000_000,
            ..ServerConfig::with_defaults("/nonexistent", "127.0.0.1:2181".parse().unwrap())
        };
        let c = SnapshotCommand::new(&cfg);
        assert!(c.limiter.allow_at(0));
        assert!(!c.limiter.allow_at(600_000), "a 600 s window");
        assert!(c.limiter.allow_at(600_001));
    }
}
