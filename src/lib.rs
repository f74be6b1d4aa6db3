//! # zookeeper-rs
//!
//! The Apache ZooKeeper server, rewritten in Rust: the same `zoo.cfg`, the
//! same wire protocol, the same `dataDir` bytes and the same quorum
//! protocol as Java ZooKeeper 3.8/3.9, so Java, C and Python clients, Java
//! peers and Java's tools all work with it unchanged.
//!
//! # Layout
//!
//! | module | role | Java twin |
//! |---|---|---|
//! | [`jute`] | binary archive and every record of `zookeeper.jute` | `org.apache.jute`, generated records |
//! | [`zoo_defs`] | opcodes, permissions, event numbers | `ZooDefs`, `Watcher.Event` |
//! | [`keeper_exception`] | result codes on the wire | `KeeperException.Code` |
//! | [`config`] | `zoo.cfg`: raw properties, then validated settings | `QuorumPeerConfig`, `ServerConfig` |
//! | [`server`] | the standalone server: connections, sessions, request pipeline, DataTree, watches | `org.apache.zookeeper.server` |
//! | [`persistence`] | txn logs and snapshots in Java's format | `org.apache.zookeeper.server.persistence` |
//! | [`quorum`] | election and Zab (later issues) | `org.apache.zookeeper.server.quorum` |
//!
//! # The request path (standalone)
//!
//! ```text
//!  client socket
//!      │  one thread per connection (server_cnxn): frames in, replies out
//!      ▼
//!  ZooKeeperServer::process_packet ── auth handled inline
//!      │
//!      ▼
//!  PrepRequestProcessor   (thread) validate, check ACLs and versions against
//!      │                           outstanding changes, build the txn, assign the zxid
//!      ▼
//!  SyncRequestProcessor   (thread) append txns to the log, one fsync per batch,
//!      │                           roll the log and start snapshots
//!      ▼
//!  FinalRequestProcessor  (called on the sync thread) apply the txn to the
//!                                  DataTree, fire watches, answer the client
//! ```
//!
//! Reads travel the same pipeline (without a txn), so each session's
//! requests are answered in the order they were sent, and a watch event
//! always reaches a client before the reply of any later read that shows
//! the change.



pub mod admin;
pub mod config;
pub mod jute;
pub mod keeper_exception;
pub mod persistence;
pub mod quorum;
pub mod server;
pub mod zoo_defs;
