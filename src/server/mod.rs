//! The standalone server. Mirrors `org.apache.zookeeper.server`.
