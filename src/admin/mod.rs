//! The HTTP side of operations: the AdminServer (`/commands/...`, JSON)
//! and the Prometheus `/metrics` endpoint. Both run on their own thread
//! next to the client port, once per process (standalone or quorum), and
//! read the same server state as the four-letter words through a
//! [`server_view::ServerView`]: in quorum mode, the current role's server.
//! The one command that changes the disk, `snapshot`, needs credentials
//! ([`auth_request`]) and is rate limited ([`rate_limiter`]).
//!
//! Mirrors: `org.apache.zookeeper.server.admin` and
//! `org.apache.zookeeper.metrics.prometheus`.

pub mod admin_server;
pub mod auth_request;
pub mod commands;
pub mod http_server;
pub mod json_outputter;
pub mod prometheus;
pub mod rate_limiter;
pub mod server_view;
pub mod snapshot_command;
