//! Txn logs and snapshots. Mirrors `org.apache.zookeeper.server.persistence`.
