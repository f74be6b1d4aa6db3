//! The AdminServer's commands: names and aliases, and the JSON object each
//! one answers — the command's data keys first, then `command` (the
//! primary name) and `error` (null or text).
//!
//! The data comes from the same functions as the four-letter words
//! (`server::command::*`). Runs on the AdminServer's request thread.
//!
//! Mirrors: `org.apache.zookeeper.server.admin.Commands`, `CommandBase`,
//! `CommandResponse`.

use serde_json::{json, Map, Value};

use crate::server::command::{
    self, conf, dirs, dump, envi, hash, mntr, trace_mask, watches, CommandContext, ConnectionInfo,
};
use crate::server::role_monitor::ObserverInfo;
use crate::server::server_metrics::metrics;
use crate::server::zookeeper_server::ZooKeeperServer;

/// A command's names, primary first, and whether it needs a running server.
pub struct CommandSpec {
    pub names: &'static [&'static str],
    pub server_required: bool,
}

/// Every command Java 3.8.0 registers.
pub const COMMANDS: [CommandSpec; 26] = [
    CommandSpec {
        names: &["connection_stat_reset", "crst"],
        server_required: true,
    },
    CommandSpec {
        names: &["configuration", "conf", "config"],
        server_required: true,
    },
    CommandSpec {
        names: &["connections", "cons"],
        server_required: true,
    },
    CommandSpec {
        names: &["hash"],
        server_required: true,
    },
    CommandSpec {
        names: &["dirs"],
        server_required: true,
    },
    CommandSpec {
        names: &["dump"],
        server_required: true,
    },
    CommandSpec {
        names: &["environment", "env", "envi"],
        server_required: false,
    },
    CommandSpec {
        names: &["get_trace_mask", "gtmk"],
        server_required: false,
    },
    CommandSpec {
        names: &["initial_configuration", "icfg"],
        server_required: true,
    },
    CommandSpec {
        names: &["is_read_only", "isro"],
        server_required: true,
    },
    CommandSpec {
        names: &["last_snapshot", "lsnp"],
        server_required: true,
    },
    CommandSpec {
        names: &["leader", "lead"],
        server_required: true,
    },
    CommandSpec {
        names: &["monitor", "mntr"],
        server_required: false,
    },
    CommandSpec {
        names: &["observer_connection_stat_reset", "orst"],
        server_required: true,
    },
    CommandSpec {
        names: &["ruok"],
        server_required: true,
    },
    CommandSpec {
        names: &["set_trace_mask", "stmk"],
        server_required: false,
    },
    CommandSpec {
        names: &["server_stats", "srvr"],
        server_required: true,
    },
    CommandSpec {
        names: &["stats", "stat"],
        server_required: true,
    },
    CommandSpec {
        names: &["stat_reset", "srst"],
        server_required: true,
    },
    CommandSpec {
        names: &["observers", "obsr"],
        server_required: true,
    },
    CommandSpec {
        names: &["system_properties", "sysp"],
        server_required: false,
    },
    CommandSpec {
        names: &["voting_view"],
        server_required: true,
    },
    CommandSpec {
        names: &["watches", "wchc"],
        server_required: true,
    },
    CommandSpec {
        names: &["watches_by_path", "wchp"],
        server_required: true,
    },
    CommandSpec {
        names: &["watch_summary", "wchs"],
        server_required: true,
    },
    CommandSpec {
        names: &["zabstate"],
        server_required: false,
    },
];

/// The command called `name` (primary name or alias).
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.names.contains(&name))
}

/// Primary names, sorted (the index page's order).
pub fn primary_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.names[0]).collect();
    names.sort_unstable();
    names
}

/// `CommandResponse.toMap`: data, then `command`, then `error` (an `error`
/// key already in the data keeps its place, with the response's error).
pub fn response(command: &str, mut data: Map<String, Value>, error: Option<String>) -> Value {
    let error = error.or_else(|| {
        data.get("error")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    data.insert("command".to_string(), Value::from(command));
    data.insert("error".to_string(), error.map_or(Value::Null, Value::from));
    Value::Object(data)
}

/// Runs `name` with query parameters `params`; always a JSON object.
pub fn run(name: &str, params: &[(String, String)], ctx: &CommandContext<'_>) -> Value {
    let Some(spec) = find(name) else {
        return response(name, Map::new(), Some(format!("Unknown command: {}", name)));
    };
    let primary = spec.names[0];
    let server = ctx.serving();
    if spec.server_required && server.is_none() {
        // Java answers this one under the name it was called by.
        return response(name, Map::new(), Some(command::ZK_NOT_SERVING.to_string()));
    }
    match data_of(primary, params, ctx, server) {
        Ok(data) => response(primary, data, None),
        Err(error) => response(primary, Map::new(), Some(error)),
    }
}

/// Whether Java's command fails outright (HTTP 500) when no server is
/// serving: `monitor` is not marked as needing one, yet reads it.
pub fn fails_without_server(name: &str) -> bool {
    find(name).is_some_and(|spec| spec.names[0] == "monitor")
}

/// The data keys of one command.
fn data_of(
    primary: &str,
    params: &[(String, String)],
    ctx: &CommandContext<'_>,
    server: Option<&ZooKeeperServer>,
) -> Result<Map<String, Value>, String> {
    let mut data = Map::new();
    match (primary, server) {
        ("environment", _) => envi::entries()
            .into_iter()
            .for_each(|(k, v)| put(&mut data, k, v)),
        ("get_trace_mask", _) => put(&mut data, "tracemask", trace_mask::get()),
        ("set_trace_mask", _) => {
            let mask = params
                .iter()
                .find(|(k, _)| k == "traceMask")
                .and_then(|(_, v)| v.parse::<i64>().ok());
            match mask {
                Some(mask) => put(&mut data, "tracemask", trace_mask::set(mask)),
                None => put(
                    &mut data,
                    "error",
                    "setTraceMask requires long traceMask argument",
                ),
            }
        }
        ("system_properties", _) => system_properties(ctx, server, &mut data),
        ("zabstate", Some(s)) if s.role_monitor().is_some() => zab_state(s, &mut data),
        ("zabstate", _) => {
            put(&mut data, "voting", false);
            put(&mut data, "zabstate", "");
        }
        ("monitor", None) => return Err(command::ZK_NOT_SERVING.to_string()),
        ("monitor", Some(s)) => mntr::entries(s, ctx).into_iter().for_each(|(k, v)| {
            data.insert(k, v.to_json());
        }),
        (_, Some(s)) => server_data(primary, s, ctx, &mut data),
        (_, None) => return Err(command::ZK_NOT_SERVING.to_string()),
    }
    Ok(data)
}

fn put<V: Into<Value>>(data: &mut Map<String, Value>, key: &str, value: V) {
    data.insert(key.to_string(), value.into());
}

/// The commands that read the running server.
fn server_data(
    primary: &str,
    s: &ZooKeeperServer,
    ctx: &CommandContext<'_>,
    data: &mut Map<String, Value>,
) {
    match primary {
        "connection_stat_reset" => command::cons::reset_all(ctx),
        "stat_reset" => command::srst::reset(s),
        "configuration" => configuration(s, data),
        "connections" => {
            put(
                data,
                "connections",
                ctx.connections
                    .iter()
                    .map(|c| connection_json(c, false))
                    .collect::<Vec<_>>(),
            );
            put(data, "secure_connections", Vec::<Value>::new());
        }
        "hash" => {
            let digests: Vec<Value> = hash::history(s)
                .iter()
                .map(|d| json!({"zxid": d.zxid, "digest_version": d.digest_version, "digest": d.digest}))
                .collect();
            put(data, "digests", digests);
        }
        "dirs" => {
            let (data_size, log_size) = dirs::sizes(s);
            put(data, "datadir_size", data_size);
            put(data, "logdir_size", log_size);
        }
        "dump" => dump_data(s, data),
        "initial_configuration" => put(
            data,
            "initial_configuration",
            s.config().initial_config.clone(),
        ),
        "is_read_only" => put(data, "read_only", command::isro(ctx.mode) == "ro"),
        "last_snapshot" => last_snapshot(s, data),
        "leader" => match s.role_monitor() {
            Some(m) => {
                let v = m.peer_view();
                put(data, "is_leader", v.is_leader);
                put(data, "leader_id", v.leader_id);
                put(data, "leader_ip", v.leader_ip);
            }
            None => put(data, "error", "server is not initialized"),
        },
        "server_stats" | "stats" => server_stats(s, ctx, primary == "stats", data),
        "observers" => {
            let observers = s
                .role_monitor()
                .and_then(|m| m.observers())
                .unwrap_or_default();
            put(data, "synced_observers", observers.len());
            put(
                data,
                "observers",
                observers.iter().map(observer_json).collect::<Vec<_>>(),
            );
        }
        "observer_connection_stat_reset" => {
            if let Some(m) = s.role_monitor() {
                m.reset_observer_stats();
            }
        }
        "voting_view" => {
            let view: Map<String, Value> = s
                .role_monitor()
                .map(|m| m.peer_view().voting_view)
                .unwrap_or_default()
                .into_iter()
                .map(|m| {
                    let member = json!({
                        "server_addresses": m.server_addresses,
                        "election_addresses": m.election_addresses,
                        "client_address": m.client_address,
                        "learner_type": m.learner_type,
                    });
                    (m.sid.to_string(), member)
                })
                .collect();
            put(data, "current_config", view);
        }
        "watches" => {
            let map: Map<String, Value> = watches::session_to_paths(s, ctx)
                .into_iter()
                .map(|(sid, paths)| {
                    (
                        sid.to_string(),
                        Value::from(paths.into_iter().collect::<Vec<_>>()),
                    )
                })
                .collect();
            put(data, "session_id_to_watched_paths", map);
        }
        "watches_by_path" => {
            let map: Map<String, Value> = watches::path_to_sessions(s, ctx)
                .into_iter()
                .map(|(path, sids)| (path, Value::from(sids.into_iter().collect::<Vec<_>>())))
                .collect();
            put(data, "path_to_session_ids", map);
        }
        "watch_summary" => {
            let w = s.zk_database().tree.read().watches_summary();
            put(data, "num_connections", w.num_connections);
            put(data, "num_paths", w.num_paths);
            put(data, "num_total_watches", w.total_watches);
        }
        _ => {} // ruok: no data
    }
}

/// `zabstate` on a quorum server (Java's `ZabStateCommand`).
fn zab_state(s: &ZooKeeperServer, data: &mut Map<String, Value>) {
    let Some(m) = s.role_monitor() else { return };
    let v = m.peer_view();
    let zxid = s.zk_database().last_processed_zxid();
    put(data, "myid", v.my_id);
    put(data, "is_leader", v.is_leader);
    put(
        data,
        "quorum_address",
        multiple_addresses_json(&v.quorum_addresses),
    );
    put(
        data,
        "election_address",
        multiple_addresses_json(&v.election_addresses),
    );
    put(
        data,
        "client_address",
        v.client_address
            .map_or(Value::Null, |a| Value::from(a.to_string())),
    );
    put(data, "voting", v.voting);
    put(data, "last_zxid", format!("0x{:x}", zxid));
    put(data, "zab_epoch", zxid >> 32);
    put(data, "zab_counter", zxid & 0xffff_ffff);
    put(data, "zabstate", v.zab_state);
}

/// How Java's JSON writer shows a `MultipleAddresses` (its getters, in
/// their order); every address counts as reachable here.
fn multiple_addresses_json(addrs: &[(String, u16)]) -> Value {
    let all: Vec<String> = addrs.iter().map(|(h, p)| format!("{}:{}", h, p)).collect();
    let one = all.first().cloned().map_or(Value::Null, Value::from);
    json!({
        "empty": addrs.is_empty(),
        "all_addresses": all,
        "all_reachable_addresses": all,
        "one": one,
        "reachable_address": one,
        "wildcard_addresses": addrs.iter().map(|(_, p)| format!("0.0.0.0:{}", p)).collect::<Vec<_>>(),
        "all_ports": addrs.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        "all_host_strings": addrs.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
        "all_reachable_addresses_or_all": all,
        "reachable_or_one": one,
    })
}

/// One observer link (`LearnerHandler.getLearnerHandlerInfo`).
fn observer_json(o: &ObserverInfo) -> Value {
    json!({
        "remote_socket_address": o.remote_socket_address,
        "sid": o.sid,
        "established": o.established,
        "queued_packets": o.queued_packets,
        "queued_packets_size": o.queued_packets_size,
        "packets_received": o.packets_received,
        "packets_sent": o.packets_sent,
        "requests": o.requests,
        "last_zxid": o.last_zxid,
    })
}

/// `configuration`: the `conf` values Java's `ZooKeeperServerConf` has.
fn configuration(s: &ZooKeeperServer, data: &mut Map<String, Value>) {
    let entries = conf::entries(s);
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    };
    let int = |key: &str| match get(key) {
        Some(conf::ConfValue::Int(v)) => Value::from(v),
        Some(conf::ConfValue::Text(t)) => Value::from(t),
        None => Value::Null,
    };
    for (json_key, key) in [
        ("client_port", "clientPort"),
        ("data_dir", "dataDir"),
        ("data_log_dir", "dataLogDir"),
        ("tick_time", "tickTime"),
        ("max_client_cnxns", "maxClientCnxns"),
        ("min_session_timeout", "minSessionTimeout"),
        ("max_session_timeout", "maxSessionTimeout"),
        ("server_id", "serverId"),
        ("client_port_listen_backlog", "clientPortListenBacklog"),
    ] {
        data.insert(json_key.to_string(), int(key));
    }
}

/// `ServerCnxn.getConnectionInfo(brief)`.
pub fn connection_json(c: &ConnectionInfo, brief: bool) -> Value {
    let mut m = Map::new();
    let addr = command::java_socket_address(&c.remote);
    put(
        &mut m,
        "remote_socket_address",
        addr.trim_start_matches('/'),
    );
    put(&mut m, "interest_ops", c.interest_ops);
    put(&mut m, "outstanding_requests", c.queued);
    put(&mut m, "packets_received", c.packets_received());
    put(&mut m, "packets_sent", c.packets_sent());
    if !brief {
        let st = &c.stats;
        put(&mut m, "session_id", c.session_id);
        put(&mut m, "last_operation", st.last_op);
        put(&mut m, "established", st.established_ms);
        put(&mut m, "session_timeout", st.session_timeout);
        put(&mut m, "last_cxid", st.last_cxid);
        put(&mut m, "last_zxid", st.last_zxid);
        put(&mut m, "last_response_time", st.last_response_time);
        put(&mut m, "last_latency", st.last_latency);
        put(&mut m, "min_latency", st.min_latency);
        put(&mut m, "avg_latency", st.avg_latency);
        put(&mut m, "max_latency", st.max_latency);
    }
    Value::Object(m)
}

/// `dump`: expiry buckets (tracker clock) and ephemerals per session.
fn dump_data(s: &ZooKeeperServer, data: &mut Map<String, Value>) {
    let buckets: Map<String, Value> = dump::session_buckets(s)
        .into_iter()
        .map(|(at, ids)| (at.to_string(), Value::from(ids)))
        .collect();
    put(data, "expiry_time_to_session_ids", buckets);
    let ephemerals: Map<String, Value> = dump::ephemerals(s)
        .into_iter()
        .map(|(sid, paths)| (sid.to_string(), Value::from(paths)))
        .collect();
    put(data, "session_id_to_ephemeral_paths", ephemerals);
}

/// `last_snapshot`: zxid (hex, no `0x`) of the newest snapshot and its
/// modification time in seconds.
fn last_snapshot(s: &ZooKeeperServer, data: &mut Map<String, Value>) {
    let file = s.zk_database().last_snapshot();
    let zxid = file
        .as_ref()
        .and_then(|f| {
            f.file_name()?
                .to_str()?
                .strip_prefix("snapshot.")
                .map(str::to_string)
        })
        .and_then(|hex| i64::from_str_radix(hex.split('.').next().unwrap_or(""), 16).ok())
        .unwrap_or(-1);
    let modified = file
        .and_then(|f| f.metadata().ok()?.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    put(data, "zxid", format!("{:x}", zxid));
    put(data, "timestamp", modified);
}

/// `server_stats` / `stats` (`ServerStats` as Jackson sees its getters).
fn server_stats(
    s: &ZooKeeperServer,
    ctx: &CommandContext<'_>,
    with_connections: bool,
    data: &mut Map<String, Value>,
) {
    let st = ctx.stats.clone().unwrap_or_default();
    let (data_size, log_size) = dirs::sizes(s);
    let buffer = || json!({"last_buffer_size": -1, "min_buffer_size": -1, "max_buffer_size": -1});
    put(data, "version", command::full_version());
    put(data, "read_only", command::isro(ctx.mode) == "ro");
    let fsync_exceeded = s.zk_database().fsync_stats().1;
    let stats = json!({
        "packets_sent": st.packets_sent,
        "packets_received": st.packets_received,
        "fsync_threshold_exceed_count": fsync_exceeded,
        "client_response_stats": buffer(),
        "data_dir_size": data_size,
        "log_dir_size": log_size,
        "provider_null": false,
        "server_state": ctx.mode,
        "last_processed_zxid": st.last_processed_zxid,
        "outstanding_requests": st.outstanding_requests,
        "avg_latency": st.avg_latency_ms,
        "max_latency": st.max_latency_ms,
        "min_latency": st.min_latency_ms,
        "num_alive_client_connections": ctx.connections.len(),
        "uptime": metrics().uptime_ms(),
        "auth_failed_count": 0,
        "non_mtlsremote_conn_count": 0,
        "non_mtlslocal_conn_count": 0,
    });
    put(data, "server_stats", stats);
    put(data, "client_response", buffer());
    put(data, "node_count", st.node_count);
    if with_connections {
        put(
            data,
            "connections",
            ctx.connections
                .iter()
                .map(|c| connection_json(c, true))
                .collect::<Vec<_>>(),
        );
        put(data, "secure_connections", Vec::<Value>::new());
    }
}

/// `system_properties`: our equivalent of the JVM's properties — the `-D`
/// flags and `zookeeper.*` settings from zoo.cfg — sorted by name.
fn system_properties(
    ctx: &CommandContext<'_>,
    server: Option<&ZooKeeperServer>,
    data: &mut Map<String, Value>,
) {
    let _ = ctx;
    let mut props: Vec<(String, String)> = match server {
        Some(s) => s
            .config()
            .system_properties
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        None => Vec::new(),
    };
    for (k, v) in envi::entries() {
        props.push((k.to_string(), v));
    }
    props.sort();
    props.dedup_by(|a, b| a.0 == b.0);
    for (k, v) in props {
        let shown = redacted(&k, v);
        data.insert(k, Value::from(shown));
    }
}

/// A property's value as `system_properties` shows it: the super user's
/// digest and any password replaced by `<set>`, as `conf` shows the
/// digest (Java 3.8 shows them in the clear).
fn redacted(key: &str, value: String) -> String {
    let k = key.to_ascii_lowercase();
    if k.ends_with("superdigest") || k.contains("password") || k.contains("passwd") {
        "<set>".to_string()
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>() -> CommandContext<'a> {
        CommandContext {
            stats: None,
            mode: "standalone",
            connections: vec![],
            whitelist: &[],
            argument: None,
            server: None,
            registry: None,
        }
    }

    #[test]
    fn secrets_are_redacted_in_system_properties() {
        let digest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=".to_string();
        assert_eq!(
            redacted(
                "zookeeper.DigestAuthenticationProvider.superDigest",
                digest.clone()
            ),
            "<set>"
        );
        assert_eq!(
            redacted("DigestAuthenticationProvider.superDigest", digest),
            "<set>"
        );
        assert_eq!(
            redacted("zookeeper.ssl.keyStore.password", "secret".into()),
            "<set>"
        );
        assert_eq!(
            redacted("zookeeper.ssl.quorum.trustStore.passwd", "secret".into()),
            "<set>"
        );
        assert_eq!(redacted("zookeeper.snapCount", "100".into()), "100");
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(find("conf").map(|c| c.names[0]), Some("configuration"));
        assert_eq!(find("config").map(|c| c.names[0]), Some("configuration"));
        assert_eq!(find("wchp").map(|c| c.names[0]), Some("watches_by_path"));
        assert!(find("nosuch").is_none());
        let names = primary_names();
        assert_eq!(names.first(), Some(&"configuration"));
        assert_eq!(names.last(), Some(&"zabstate"));
        assert_eq!(names.len(), 26);
    }

    #[test]
    fn unknown_command_and_not_serving() {
        let v = run("nosuch", &[], &ctx());
        assert_eq!(
            v,
            json!({"command": "nosuch", "error": "Unknown command: nosuch"})
        );
        let v = run("srvr", &[], &ctx());
        assert_eq!(
            v["command"], "srvr",
            "Java names the error after the name it was called by"
        );
        assert_eq!(v["error"], command::ZK_NOT_SERVING);
        assert!(fails_without_server("mntr") && fails_without_server("monitor"));
        assert!(!fails_without_server("srvr") && !fails_without_server("nosuch"));
    }

    #[test]
    fn trace_mask_needs_its_argument() {
        let v = run("stmk", &[], &ctx());
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["error", "command"],
            "Java puts this error among the data"
        );
        assert_eq!(v["error"], "setTraceMask requires long traceMask argument");
        let before = trace_mask::get();
        let v = run(
            "set_trace_mask",
            &[("traceMask".into(), "306".into())],
            &ctx(),
        );
        assert_eq!(v["tracemask"], 306);
        assert_eq!(v["error"], Value::Null);
        trace_mask::set(before);
    }

    #[test]
    fn error_key_in_data_keeps_its_place() {
        let mut data = Map::new();
        data.insert("error".into(), Value::from("server is not initialized"));
        let v = response("leader", data, None);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error", "command"]);
        assert_eq!(v["error"], "server is not initialized");
    }
}
