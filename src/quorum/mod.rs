//! Election and Zab: later issues. Mirrors `org.apache.zookeeper.server.quorum`.
