//! The server core, shared by standalone mode and every quorum role:
//! connections, sessions, the request pipeline (the standalone chain; the
//! roles' chains are in `crate::quorum`), the DataTree, watches, ACLs,
//! the four-letter words and the metrics.
//!
//! Mirrors: `org.apache.zookeeper.server`.

pub mod auth;
pub mod blocking_server_cnxn;
pub mod cert_file_reloader;
pub mod change_record;
pub mod cnxn_stats;
pub mod command;
pub mod connection_limits;
pub mod container_manager;
pub mod create_mode;
pub mod data_node;
pub mod data_tree;
pub mod digest_calculator;
pub mod ephemeral_type;
pub mod expiry_queue;
pub mod final_reads;
pub mod final_request_processor;
pub mod java_concurrent_hash_set;
pub mod java_hash_map;
pub mod java_random;
pub mod path_utils;
pub mod prep_reconfig;
pub mod prep_request_processor;
pub mod prep_txn;
pub mod protocol_trace;
pub mod quota;
pub mod reference_counted_acl_cache;
pub mod request;
pub mod request_processor;
pub mod role_monitor;
pub mod server_cnxn;
pub mod server_cnxn_factory;
pub mod server_metrics;
pub mod server_state;
pub mod server_stats;
pub mod session_tracker;
pub mod snapshot_comparer;
pub mod snapshot_recursive_summary;
pub mod startup_error;
pub mod sync_request_processor;
pub mod toolkit;
pub mod watch;
pub mod zk_database;
pub mod zookeeper_critical_thread;
pub mod zookeeper_server;
pub mod zookeeper_server_main;
