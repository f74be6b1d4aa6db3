//! # zookeeper-rs
//!
//! The Apache ZooKeeper server, rewritten in Rust: the same `zoo.cfg`, the
//! same wire protocol, the same `dataDir` bytes and the same quorum
//! protocol as Java ZooKeeper 3.8/3.9, so Java, C and Python clients, Java
//! peers and Java's tools all work with it unchanged.
//!
//! A guided tour that follows a write, a read, a watch, an election, Zab
//! and recovery through these files is in `docs/README.md`.
//!
//! # Layout
//!
//! | module | role | Java twin |
//! |---|---|---|
//! | [`jute`] | binary archive and every record of `zookeeper.jute` | `org.apache.jute`, generated records |
//! | [`zoo_defs`] | opcodes, permissions, event numbers | `ZooDefs`, `Watcher.Event` |
//! | [`keeper_exception`] | result codes on the wire | `KeeperException.Code` |
//! | [`common`] | TLS key and trust stores (JKS, PKCS#12, PEM), the rustls server config and the quorum's client config, certificate subjects as RFC 2253 text | `org.apache.zookeeper.common` (`X509Util`, `*FileLoader`) |
//! | [`config`] | `zoo.cfg`: raw properties, `-D` system properties, validated settings (the ensemble part is `quorum::quorum_peer_config`) | `ServerConfig`, the standalone part of `QuorumPeerConfig` |
//! | [`server`] | connections, sessions, the request pipeline, DataTree, watches, ACLs, quotas, four-letter words, metrics | `org.apache.zookeeper.server` |
//! | [`persistence`] | txn logs and snapshots in Java's format; restore, purge, and the inspection tools (`zk-server txnlog-dump`, `snapshot-dump`, `datadir-check`, ...) | `org.apache.zookeeper.server.persistence` |
//! | [`quorum`] | ensembles: FastLeaderElection, the peer's state loop, Zab for the leader, followers and observers, quorum TLS | `org.apache.zookeeper.server.quorum` |
//! | [`admin`] | the AdminServer (`/commands`, JSON) and the Prometheus `/metrics` endpoint | `server.admin`, `metrics.prometheus` |
//!
//! # Layers
//!
//! Each module imports only modules of its own layer or of a lower one
//! (`tests/layering.rs` checks it on every `crate::` path):
//!
//! ```text
//!  5  quorum                      elections, Zab, the roles' pipelines
//!  4  server, admin               one server: connections, pipeline, DataTree;
//!                                 its AdminServer (Java's server.admin)
//!  3  persistence                 txn logs and snapshots, restore
//!  2  config                      zoo.cfg and -D properties, typed settings
//!  1  jute, common                records on the wire and on disk; TLS stores
//!  0  zoo_defs, keeper_exception  constants and result codes
//! ```
//!
//! Binaries: `zk-server` (`src/main.rs`: argument dispatch to the quorum
//! boot, `quorum::quorum_peer_main` (`QuorumPeerMain`), or the standalone
//! one, `server::zookeeper_server_main` (`ZooKeeperServerMain`), plus the
//! persistence tools as subcommands) and
//! `zk-bench` (`src/bin/zk_bench`: a load generator; no Java twin).
//!
//! # The request path (standalone)
//!
//! ```text
//!  client socket
//!      │  one reader thread per connection (blocking_server_cnxn): frames in;
//!      │  replies are appended to the connection's buffer and sent without blocking
//!      ▼
//!  ZooKeeperServer::process_frame ── auth answered inline; a read of a session
//!      │                             with nothing in the pipeline is answered
//!      │                             right here (Prep's checks, then Final's read)
//!      ▼
//!  PrepRequestProcessor   (inline, on the connection thread, under Prep's lock)
//!      │                           validate, check ACLs and versions against
//!      │                           outstanding changes, build the txn, assign the zxid
//!      ▼
//!  SyncRequestProcessor   (thread) append txns to the log, one fsync per batch,
//!      │                           roll the log and start snapshots
//!      ▼
//!  FinalRequestProcessor  (called on the sync thread) apply the txn to the
//!                                  DataTree, fire watches, answer the client
//! ```
//!
//! Reads that find earlier requests of their session in the pipeline
//! travel it too (without a txn), so each session's requests are answered
//! in the order they were sent, and a watch event always reaches a client
//! before the reply of any later read that shows the change.
//!
//! # The request paths in an ensemble
//!
//! The same [`server::zookeeper_server::ZooKeeperServer`] serves clients;
//! a [`server::zookeeper_server::ServerRole`] supplies each role's chain:
//!
//! ```text
//!  leader    Prep ─▶ Proposal ─▶ Commit ─▶ ToBeApplied ─▶ Final
//!                       └──▶ Sync ─▶ Ack          (its own log and vote)
//!  learner   FollowerRequest ─▶ Commit ─▶ Final   (writes forwarded to the leader)
//!  follower  leader's PROPOSAL ─▶ Sync ─▶ SendAck; its COMMIT releases it in Commit
//!  observer  leader's INFORM ─▶ Sync, and released in Commit at once (no vote)
//! ```
//!
//! The peer ([`quorum::quorum_peer`]) loops LOOKING → LEADING / FOLLOWING /
//! OBSERVING: election on the election port, then Zab discovery and sync
//! (DIFF / TRUNC / SNAP) on the quorum port, then broadcast.

pub mod admin;
pub mod common;
pub mod config;
pub mod jute;
pub mod keeper_exception;
pub mod persistence;
pub mod quorum;
pub mod server;
pub mod zoo_defs;
